//! # subsidy-synth
//!
//! Synthetic audit packages: realistic background data plus planted, labelled fraud scenarios,
//! at any scale, deterministic for a seed. See [`generate`].
//!
//! The package is written in cohorts: a few hundred persons with their classes, attendance,
//! evaluations and claims are made, scenarios are planted among them, and everything is written
//! before the next cohort starts, so memory stays bounded however large the package.
//!
//! The background data varies everything a real export may legitimately vary under
//! `DATA_CONTRACT.md` ("Conventions the rules rely on"), so that a rule assuming more than the
//! contract says fails on our own packages and not first on someone else's. At scale s the
//! shares are about (see `tests/variations.rs`, which checks them):
//! - **timetables**: class days of 3.5, 5.25 and 7 hours of teaching (210, 315, 420 minutes:
//!   4⅔, 7 and 9⅓ 学时 of 45 minutes), about 40 %, 37 % and 22 % of the timetabled days;
//!   about half the days are split into a morning and an afternoon session, each with its own
//!   sign-in and sign-out. `planned_hours` is always the timetabled minutes over all class days
//!   / 45 (so it may have decimals), reaching the occupation's standard hours (+14 学时 per
//!   level above junior);
//! - **sessions rows**: about 70 % of classes write their timetable to `sessions`, the rest do
//!   not (only the attendance tells presence); those keep their days to 3.5 or 5.25 h, within
//!   the daily cap the rules assume for them ([`NO_SESSION_DAILY_CAP_MIN`], 8 学时 = 6 h);
//! - **sign-ins**: a trainee signs in 1–15 minutes before each session and out 0–10 minutes
//!   after it (78 %), 10–45 minutes (17 %) or 1–2 hours after the day's last session (5 %; a
//!   morning sign-out stays before the afternoon sign-in), and misses at most a tenth of the
//!   days: every clean trainee is present for at least 90 % of the timetabled minutes;
//! - **modes**: about 75 % offline, 15 % blended (odd days online), 10 % online; online
//!   sign-ins have no location and are made on the trainee's phone or computer (another
//!   device id); online classes have no venue or capacity;
//! - **routes**: about 75 % of classes end in the institution's training claim (class on the
//!   claim); 15 % are self-paid and their trainees claim the evaluation subsidy (scheme
//!   `evaluation`, no `class_id`: the class is on the evaluation row for half of them, only in
//!   `enrollments` for the other half); the junior classes of two short courses (网约配送员,
//!   家政服务员: about 6 % of classes, all of their junior classes, so that such a programme's
//!   peers have no evaluation either) end in a 培训合格证书 of the institution's own numbering
//!   and a training claim with no evaluation (about 5 % of training claims). 20 % of the other evaluation rows do not name their class either;
//! - **certificates**: level certificates have 22 characters; 专项职业能力 (`special_ability`,
//!   three occupations, 8 % of classes, 13 % of claims with a certificate) follow one of
//!   three provincial numberings, training certificates two institutional ones;
//! - **direct recognition** (社会化评价): 4 % of persons are evaluated without any class and
//!   claim the evaluation subsidy;
//! - **exams**: 2–10 days after the class, morning or afternoon, 90–150 minutes; about 12 % of
//!   candidates fail (each programme's own pass rate, see below); a quarter of sittings pass everyone with normally spread scores, and some
//!   sittings under 30 candidates give everyone the same practical mark (hard negatives for
//!   FE-02's uniform-score half).
//!
//! Other conventions: a class is filed 7–20 days before it starts; claims are priced at the
//! entitlement: base by scheme and level × (1 + uplift of the occupation's shortage tier), see
//! [`world::entitled`]. A clean package (nothing planted) is [`Config::clean`], or
//! `generate --clean`.
//!
//! **Training outcomes.** Every programme (training institution × occupation × level) has its
//! own pass rate (0.72–0.96 outside all-pass sittings) and employment rate (0.40–0.75 of the
//! trainees not employed at the class end get an `employed` status 1–150 days after it), within
//! about ±0.10 of its occupation and level's mean; the scenario `low_effectiveness` plants
//! programmes with low outcomes and nothing else wrong, and every package holds hard negatives
//! (small, new-institution and seasonal programmes). These are listed in
//! `labels_effectiveness.csv` (`institution_id, occupation_code, level, kind`), not in
//! `labels.csv`: see [`effectiveness`].

pub mod effectiveness;
mod generator;
pub mod idgen;
pub mod labels;
pub mod scenario;
pub mod sink;
pub mod world;

pub use generator::{
    Config, DayLength, Mode, NO_SESSION_DAILY_CAP_MIN, Route, Scale, Summary, generate,
};
pub use sink::Format;

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
