//! # subsidy-synth
//!
//! Synthetic audit packages: realistic background data plus planted, labelled fraud scenarios,
//! at any scale, deterministic for a seed. See [`generate`].
//!
//! The package is written in cohorts: a few hundred persons with their classes, attendance,
//! evaluations and claims are made, scenarios are planted among them, and everything is written
//! before the next cohort starts, so memory stays bounded however large the package.
//!
//! Conventions the data follows (and the rules rely on):
//! - a class day is one session, 08:30–16:30, credited as 7 学时; trainees sign in and out once a
//!   day, on their own phone (the device id), with a face check;
//! - a class is filed 7–20 days before it starts; its planned hours are the occupation's
//!   standard hours (higher levels add 14 学时 per step);
//! - claims are priced at the entitlement: base by scheme and level × (1 + uplift of the
//!   occupation's shortage tier), see [`world::entitled`].

mod generator;
pub mod idgen;
pub mod scenario;
pub mod sink;
pub mod world;

pub use generator::{
    Config, DayLength, Mode, NO_SESSION_DAILY_CAP_MIN, Route, Scale, Summary, generate,
};
pub use sink::Format;

/// Reads a CSV the generator or the engine wrote (a package table, `labels.csv`, an output) as
/// rows of column → value: how tests and checks look at what was written.
pub fn read_rows(
    path: &std::path::Path,
) -> Result<Vec<std::collections::BTreeMap<String, String>>, csv::Error> {
    let mut r = csv::Reader::from_path(path)?;
    let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    r.records()
        .map(|row| {
            let row = row?;
            Ok(header
                .iter()
                .cloned()
                .zip(row.iter().map(str::to_string))
                .collect())
        })
        .collect()
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// File system trouble.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// CSV writing failed.
    #[error("{0}")]
    Csv(#[from] csv::Error),
    /// Parquet writing failed.
    #[error("{0}")]
    Frame(#[from] polars::prelude::PolarsError),
    /// The generator produced a row the contract rejects (a bug).
    #[error("{0}")]
    Invalid(String),
}
