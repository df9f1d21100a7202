//! The `enterprise_funds` view: one row per enterprise and year, with its frontline share.

use super::*;

pub(super) fn funds_view(inp: &Inputs<'_>) -> PolarsResult<DataFrame> {
    lf(inp, Table::EnterpriseFunds)
        .with_columns([
            when(col("used_total").gt(lit(0i64)))
                .then(
                    col("used_frontline").cast(DataType::Float64)
                        / col("used_total").cast(DataType::Float64),
                )
                .otherwise(null_of(DataType::Float64))
                .alias("frontline_share"),
            col("enterprise_id").alias("institution_id"),
            col("enterprise_id").alias("party_enterprise"),
            col("enterprise_id").alias("entity"),
            lit("").alias("claim_ids"),
        ])
        .sort(["enterprise_id", "year"], SortMultipleOptions::default())
        .collect()
}
