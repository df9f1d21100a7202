//! Shared views: derived frames built once per scan and read by every rule. Each view's columns
//! are what rule expressions may name (`subsidy-audit rules views` lists them); their grains,
//! date columns, input tables and columns are declared in [`crate::catalog`]. One view per file:
//! `views/claim.rs`, `person.rs`, `institution.rs`, `class.rs`, `evaluation.rs`, `presence.rs`,
//! `teaching.rs`, `signin.rs`, `enterprise_funds.rs`; this file builds them in order.
//!
//! Conventions (DATA_CONTRACT.md, "Conventions the rules rely on"): a day's credited 学时 are the
//! minutes of presence inside the class's timetabled sessions over 45, or for a class without
//! sessions the first-sign-in-to-last-sign-out span over 45 capped at the pack's
//! `untimetabled_daily_cap_hours` ([`crate::hours`]); a claim finds its class on the claim, else
//! on its evaluation row, else in the person's enrolments (`claim::claim_classes`); a face check
//! fails below `face_pass_score` (pack setting).

mod claim;
mod class;
mod enterprise_funds;
mod evaluation;
mod institution;
mod person;
mod presence;
mod signin;
mod teaching;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use polars::prelude::*;
use subsidy_model::contract::Table;
use subsidy_model::ids::{
    IdCheck, UsccCheck, check_resident_id, check_uscc, id_birth_date, id_is_male,
    parse_certificate_no,
};
use subsidy_model::vocab::Level;

use crate::entitlement::{Standard, entitle};
use crate::expr::Ty;

/// The input frames of one scan. [`build`] takes them by value and drops the sign-ins (the
/// largest table by far) as soon as the last view that reads them is built.
pub struct Inputs<'a> {
    /// canonical frames (absent optional tables are empty frames of their schema)
    pub frames: BTreeMap<Table, DataFrame>,
    /// tables the package held
    pub present: &'a BTreeSet<Table>,
    /// person_id → identity_id from identity resolution (identity = person when absent)
    pub identities: Option<&'a DataFrame>,
    /// the scan's reference date (classes ending after it are still running)
    pub today: NaiveDate,
    /// the one pass over the sign-ins, when the caller has made it already ([`sign_ins`]; the
    /// anomaly features read it too); else [`build`] makes it
    pub sign_ins: Option<crate::sign_ins::SignInDays>,
}

/// The one pass over the sign-ins as the views need it: days kept for the trainees enrolled in
/// two or more classes only (the presence view's), totals for every enrolment and class.
pub fn sign_ins(
    frames: &BTreeMap<Table, DataFrame>,
    s: &ViewSettings,
) -> PolarsResult<crate::sign_ins::SignInDays> {
    // only trainees enrolled in two or more classes can be in two places at once
    let multi = multi_class_persons(frames)?;
    let multi_set: PlHashSet<&str> = multi.iter().flatten().collect();
    crate::sign_ins::sign_in_days(
        &frames[&Table::Attendance],
        &frames[&Table::Classes],
        &frames[&Table::Sessions],
        Some(&multi_set),
        crate::sign_ins::DaySettings {
            face_pass_score: s.face_pass_score,
            untimetabled_daily_cap_hours: s.untimetabled_daily_cap_hours,
        },
    )
}

/// Settings the views need (from the pack).
#[derive(Debug, Clone)]
pub struct ViewSettings {
    /// a face check below this score fails
    pub face_pass_score: f64,
    /// the highest uplift any standard may apply
    pub uplift_max: f64,
    /// the shipped default standards, used when the package has no `subsidy_standards`
    pub default_standards: Vec<Standard>,
    /// a class without sessions: the most 学时 one day's sign-in span is credited with
    pub untimetabled_daily_cap_hours: f64,
}

impl Default for ViewSettings {
    /// The shipped pack's settings without its standards: what view schemas are built with
    /// (they depend on the settings' shape only).
    fn default() -> Self {
        ViewSettings {
            face_pass_score: 0.6,
            uplift_max: 0.3,
            default_standards: Vec::new(),
            untimetabled_daily_cap_hours: 8.0,
        }
    }
}

/// All views of one scan.
pub struct Views {
    /// view name → frame
    pub frames: BTreeMap<&'static str, DataFrame>,
}

impl Views {
    /// A view's column types, for checking expressions.
    pub fn schema(&self, view: &str) -> Option<BTreeMap<String, Ty>> {
        let df = self.frames.get(view)?;
        Some(
            df.columns()
                .iter()
                .filter_map(|c| Ty::of(c.dtype()).map(|t| (c.name().to_string(), t)))
                .collect(),
        )
    }
}

fn lf(inp: &Inputs<'_>, t: Table) -> LazyFrame {
    inp.frames[&t].clone().lazy()
}

/// A left join on columns of the same name on both sides.
trait LeftOn {
    fn left_on(self, other: LazyFrame, keys: &[&str]) -> LazyFrame;
}

impl LeftOn for LazyFrame {
    fn left_on(self, other: LazyFrame, keys: &[&str]) -> LazyFrame {
        let on: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
        self.join(other, on.clone(), on, JoinArgs::new(JoinType::Left))
    }
}

fn null_of(dt: DataType) -> Expr {
    lit(NULL).cast(dt)
}

/// Builds every view. Everything read from the sign-ins comes first; the sign-ins frame is then
/// dropped, so the joins of the claim view never share memory with it.
pub fn build(mut inp: Inputs<'_>, s: &ViewSettings) -> PolarsResult<Views> {
    let t = std::time::Instant::now();
    // each lap ends a profiled span named for what it built (scan --profile) and, with
    // SUBSIDY_TRACE, prints the time since the start
    let mut span = Some(subsidy_model::trace::begin("view", ""));
    let mut lap = |what: &str| {
        subsidy_model::trace::lap(&format!("view {what}"), t);
        span = span.take().map(|s| s.lap(what));
    };
    let mut frames = BTreeMap::new();
    let crate::sign_ins::SignInDays {
        days: per_day,
        enrolments: enrol,
        classes: busiest,
        shared_devices,
    } = match inp.sign_ins.take() {
        // made by the caller (a scan's own stage): not timed again here
        Some(done) => done,
        None => {
            let done = sign_ins(&inp.frames, s)?;
            lap("per-day sign-ins");
            done
        }
    };
    frames.insert("signin", signin::signin_view(&inp, &shared_devices)?);
    drop(shared_devices);
    lap("signin");
    inp.frames.remove(&Table::Attendance);
    let inp = &inp;
    let persons = person::person_view(inp)?;
    let insts = institution::institution_view(inp)?;
    lap("person+institution");
    let claim = claim::claim_view(inp, s, &persons, &insts, &enrol)?;
    drop(enrol);
    lap("claim");
    let paid = paid_claims(&claim)?;
    frames.insert("class", class::class_view(inp, busiest, &insts, &paid)?);
    lap("class");
    frames.insert("evaluation", evaluation::evaluation_view(inp, &paid)?);
    lap("evaluation");
    frames.insert("presence", presence::presence_view(inp, per_day)?);
    lap("presence");
    frames.insert("teaching", teaching::teaching_view(inp, &paid)?);
    lap("teaching");
    frames.insert("enterprise_funds", enterprise_funds::funds_view(inp)?);
    lap("enterprise funds");
    frames.insert("claim", claim);
    frames.insert("person", persons);
    frames.insert("institution", insts);
    Ok(Views { frames })
}

/// (claim_id, class_id, person_id, evaluation_id) of paid claims for training and evaluation: the
/// claims an entity-level finding (a class, a device, a sitting) bears on. Living allowances are
/// judged by their own rules.
fn paid_claims(claim: &DataFrame) -> PolarsResult<DataFrame> {
    claim
        .clone()
        .lazy()
        .filter(
            col("amount_paid")
                .is_not_null()
                .and(col("scheme").neq(lit("living_allowance"))),
        )
        .select([
            col("claim_id"),
            // a class-level finding bears on the claims that paid for the training; an
            // evaluation claim answers for its sitting (through `evaluation_id`)
            when(col("scheme").eq(lit("evaluation")))
                .then(null_of(DataType::String))
                .otherwise(col("class_id"))
                .alias("class_id"),
            col("person_id"),
            col("evaluation_id"),
        ])
        .collect()
}

fn ids_by(paid: &DataFrame, keys: &[&str]) -> LazyFrame {
    paid.clone()
        .lazy()
        .filter(
            keys.iter()
                .fold(lit(true), |acc, k| acc.and(col(*k).is_not_null())),
        )
        .sort(["claim_id"], SortMultipleOptions::default())
        .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .agg([col("claim_id").str().join(";", true).alias("claim_ids")])
}

/// The persons enrolled in two or more classes.
fn multi_class_persons(frames: &BTreeMap<Table, DataFrame>) -> PolarsResult<StringChunked> {
    let df = frames[&Table::Enrollments]
        .clone()
        .lazy()
        .group_by([col("person_id")])
        .agg([col("class_id").n_unique().alias("n")])
        .filter(col("n").gt(lit(1)))
        .select([col("person_id")])
        .collect()?;
    Ok(df.column("person_id")?.str()?.clone())
}
