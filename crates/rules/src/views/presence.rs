//! The `presence` view: one row per trainee, class and day, for trainees enrolled in two or more
//! classes: first sign-in, last sign-out, the credited presence envelope, and the speed a trainee
//! would need between two classes' venues on one day.

use super::*;

/// Metres per degree of longitude at a latitude (111,320 m × cos).
fn metres_per_degree_lon(lat: Expr) -> Expr {
    lat.cast(DataType::Float64).map(
        |c| {
            let v: Float64Chunked = c
                .f64()?
                .iter()
                .map(|l| l.map(|l| 111_320.0 * l.to_radians().cos()))
                .collect();
            Ok(v.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Float64)),
    )
}

/// Over rows sorted by person, day and presence: the speed (km/h) a trainee would need between
/// the filed venues of this class and of the one before or after it that day, from the end of
/// one presence to the start of the next; the larger of the two (null: no other class that day,
/// no venue, venues under 5 km apart, or no gap, which the overlap check judges).
fn max_speed_kmh() -> PolarsResult<Expr> {
    let ms = |e: Expr| e.dt().timestamp(TimeUnit::Milliseconds);
    // the rows are sorted by person and day: the neighbour is a plain shift, kept where it is
    // the same person's same day (cheaper than a window per person)
    let speed = |k: i64| -> Expr {
        // k = -1: the next row; k = 1: the row before
        let other = |c: &str| col(c).shift(lit(k));
        let same = other("person_id")
            .eq(col("person_id"))
            .and(other("day").eq(col("day")));
        let dy = (other("_lat") - col("_lat")) * lit(110_540.0);
        let dx = (other("_lon") - col("_lon")) * col("_m_lon");
        let km = (dy.clone() * dy + dx.clone() * dx).sqrt() / lit(1000.0);
        let gap_ms = if k < 0 {
            ms(other("present_from")) - ms(col("present_until"))
        } else {
            ms(col("present_from")) - ms(other("present_until"))
        };
        let hours = gap_ms.cast(DataType::Float64) / lit(3_600_000.0);
        // venues under 5 km apart are one town: filed coordinates are not that exact
        when(
            same.fill_null(lit(false))
                .and(hours.clone().gt(lit(0.0)))
                .and(km.clone().gt_eq(lit(5.0))),
        )
        .then(km / hours)
        .otherwise(lit(NULL).cast(DataType::Float64))
    };
    Ok(polars::lazy::dsl::max_horizontal([speed(-1), speed(1)])?.alias("max_speed_kmh"))
}

pub(super) fn presence_view(inp: &Inputs<'_>, per_day: DataFrame) -> PolarsResult<DataFrame> {
    let classes = lf(inp, Table::Classes).select([
        col("class_id"),
        col("institution_id"),
        col("start_date").alias("class_start"),
        col("venue_lat").cast(DataType::Float64).alias("_lat"),
        col("venue_lon").cast(DataType::Float64).alias("_lon"),
        metres_per_degree_lon(col("venue_lat")).alias("_m_lon"),
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
        .sort(
            ["person_id", "day", "present_from", "class_id"],
            SortMultipleOptions::default(),
        )
        .with_columns([max_speed_kmh()?])
        .drop(cols(["_lat", "_lon", "_m_lon"]))
        .with_columns([
            col("institution_id").alias("party_training_institution"),
            col("person_id").alias("party_trainee"),
            col("person_id").alias("entity"),
            // resolved for flagged rows only, from (class_id, person_id): see runner
            lit("").alias("claim_ids"),
        ])
        .collect()
}
