//! The `signin` view: the sign-ins (direction in) on devices that signed in two or more trainees (TP-06).

use super::*;

/// `shared`: by attendance row, a sign-in on a device of two or more trainees (the one pass's
/// [`crate::sign_ins::SignInDays::shared_devices`]).
pub(super) fn signin_view(inp: &Inputs<'_>, shared: &BooleanChunked) -> PolarsResult<DataFrame> {
    let classes = lf(inp, Table::Classes).select([col("class_id"), col("institution_id")]);
    let att = &inp.frames[&Table::Attendance];
    // only a device that signed in two or more different trainees can have been shared
    att.select([
        "class_id",
        "person_id",
        "ts",
        "device_id",
        "method",
        "face_score",
    ])?
    .filter(shared)?
    .lazy()
    .left_on(classes, &["class_id"])
    .with_columns([
        col("institution_id").alias("party_training_institution"),
        col("device_id").alias("entity"),
        // resolved for flagged rows only, from (class_id, person_id): see runner
        lit("").alias("claim_ids"),
    ])
    .collect()
}
