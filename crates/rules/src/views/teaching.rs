//! The `teaching` view: one row per timetabled session, with its class's venue, teacher and
//! institution, and the hours its teacher teaches that day.

use super::*;

fn ms(c: &str) -> Expr {
    col(c).dt().timestamp(TimeUnit::Milliseconds)
}

fn teacher_day() -> [Expr; 2] {
    [col("teacher"), col("starts_at").dt().date()]
}

/// The hours a teacher is filed to teach on the session's calendar day: the union of their
/// sessions that day, so two classes taught together at the same times (合班) count once. Over rows
/// sorted by teacher and start: `_prev_end` is the latest end of the earlier sessions that day,
/// and each session adds what lies after it.
fn teacher_day_hours(lf: LazyFrame) -> PolarsResult<LazyFrame> {
    let prev_end = ms("ends_at")
        .cum_max(false)
        .shift(lit(1))
        .over(teacher_day())?
        .alias("_prev_end");
    let from = when(col("_prev_end").gt(ms("starts_at")))
        .then(col("_prev_end"))
        .otherwise(ms("starts_at"));
    let added = when(ms("ends_at").gt(from.clone()))
        .then(ms("ends_at") - from)
        .otherwise(lit(0i64));
    Ok(lf
        .sort(
            ["teacher", "starts_at", "ends_at"],
            SortMultipleOptions::default(),
        )
        .with_columns([prev_end])
        .with_columns([(added.sum().over(teacher_day())?.cast(DataType::Float64)
            / lit(3_600_000.0))
        .alias("teacher_day_hours")])
        .drop(cols(["_prev_end"])))
}

pub(super) fn teaching_view(inp: &Inputs<'_>, paid: &DataFrame) -> PolarsResult<DataFrame> {
    let classes = lf(inp, Table::Classes).select([
        col("class_id"),
        col("institution_id"),
        col("venue_lat"),
        col("venue_lon"),
        col("mode"),
        col("teacher_id").alias("class_teacher"),
    ]);
    let lf = lf(inp, Table::Sessions)
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
        .filter(col("teacher").is_not_null());
    teacher_day_hours(lf)?
        .sort(
            ["teacher", "starts_at", "class_id"],
            SortMultipleOptions::default(),
        )
        .collect()
}
