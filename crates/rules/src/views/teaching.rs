//! The `teaching` view: one row per timetabled session, with its class's venue, teacher and institution.

use super::*;

pub(super) fn teaching_view(inp: &Inputs<'_>, paid: &DataFrame) -> PolarsResult<DataFrame> {
    let classes = lf(inp, Table::Classes).select([
        col("class_id"),
        col("institution_id"),
        col("venue_lat"),
        col("venue_lon"),
        col("mode"),
        col("teacher_id").alias("class_teacher"),
    ]);
    lf(inp, Table::Sessions)
        .left_on(classes, &["class_id"])
        .with_columns([
            when(col("teacher_id").is_not_null())
                .then(col("teacher_id"))
                .otherwise(col("class_teacher"))
                .alias("teacher"),
            ((col("venue_lat") * lit(100.0))
                .round(0, RoundMode::default())
                .cast(DataType::Int64)
                .cast(DataType::String)
                + lit(",")
                + (col("venue_lon") * lit(100.0))
                    .round(0, RoundMode::default())
                    .cast(DataType::Int64)
                    .cast(DataType::String))
            .fill_null(lit("?"))
            .alias("venue_key"),
        ])
        .with_columns([
            col("institution_id").alias("party_training_institution"),
            col("teacher").alias("entity"),
        ])
        // the claims of the classes whose sessions collide: named, not recovered
        .left_on(ids_by(paid, &["class_id"]), &["class_id"])
        .with_columns([col("claim_ids").fill_null(lit(""))])
        .filter(col("teacher").is_not_null())
        .sort(
            ["teacher", "starts_at", "class_id"],
            SortMultipleOptions::default(),
        )
        .collect()
}
