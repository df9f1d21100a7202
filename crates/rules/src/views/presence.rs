//! The `presence` view: one row per trainee, class and day, for trainees enrolled in two or more classes: first sign-in, last sign-out and the credited presence envelope.

use super::*;

pub(super) fn presence_view(inp: &Inputs<'_>, per_day: DataFrame) -> PolarsResult<DataFrame> {
    let classes = lf(inp, Table::Classes).select([
        col("class_id"),
        col("institution_id"),
        col("start_date").alias("class_start"),
    ]);
    // per_day holds the days of trainees in two or more classes only ([`multi_class_persons`])
    per_day
        .lazy()
        // credited presence only: inside the timetable where the class has one, so a late
        // sign-out in one class does not collide with the next class's session
        .filter(
            col("present_from")
                .is_not_null()
                .and(col("present_until").gt(col("present_from"))),
        )
        .select([
            col("class_id"),
            col("person_id"),
            col("day"),
            col("first_in"),
            col("last_out"),
            col("present_from"),
            col("present_until"),
        ])
        .left_on(classes, &["class_id"])
        .with_columns([
            col("institution_id").alias("party_training_institution"),
            col("person_id").alias("party_trainee"),
            col("person_id").alias("entity"),
            // resolved for flagged rows only, from (class_id, person_id): see runner
            lit("").alias("claim_ids"),
        ])
        .collect()
}
