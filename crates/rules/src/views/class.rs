//! The `class` view: one row per class, with its institution, its busiest sign-in day, the most
//! trainees present at once, and its paid claims.

use super::*;

/// Per class: the most trainees who signed in on one day, and the most present at one moment.
pub(super) fn class_view(
    inp: &Inputs<'_>,
    busiest: DataFrame,
    insts: &DataFrame,
    paid: &DataFrame,
) -> PolarsResult<DataFrame> {
    let busiest = busiest.lazy().select([
        col("class_id"),
        col("max_daily_trainees"),
        col("max_concurrent_trainees"),
    ]);
    let enrolled = lf(inp, Table::Enrollments)
        .group_by([col("class_id")])
        .agg([len().cast(DataType::Int64).alias("enrolled")]);
    let i = insts
        .clone()
        .lazy()
        .select([col("institution_id"), col("supervisor")]);
    lf(inp, Table::Classes)
        .left_on(busiest, &["class_id"])
        .left_on(enrolled, &["class_id"])
        .left_on(i, &["institution_id"])
        .left_on(ids_by(paid, &["class_id"]), &["class_id"])
        .with_columns([
            col("max_daily_trainees").fill_null(lit(0i64)),
            col("max_concurrent_trainees").fill_null(lit(0i64)),
            col("enrolled").fill_null(lit(0i64)),
            col("institution_id").alias("party_training_institution"),
            col("supervisor").alias("party_approving_department"),
            col("class_id").alias("entity"),
            col("claim_ids").fill_null(lit("")),
        ])
        .sort(["class_id"], SortMultipleOptions::default())
        .collect()
}
