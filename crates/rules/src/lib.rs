//! # subsidy-rules
//!
//! The policy rule pack and the engine that runs it.
//!
//! - [`rule`]: the rule-file format (one TOML file per rule, grouped by family under `rules/`).
//! - [`expr`]: the filter-expression language: parsed, type-checked against the views, lowered to
//!   polars expressions; it cannot run code.
//! - [`views`]: the shared derived frames every rule reads (claim, person, class, …), built on
//!   [`sign_ins`], the one pass over the sign-ins.
//! - [`primitives`]: the closed set of checks: `filter`, `count_per_key`, `overlap_per_key`,
//!   `sequence`, `window_distinct`.
//! - [`pack`]: loading and checking a pack; [`diagnostic`]: its file:line:col diagnostics, from
//!   TOML spans, with a help line.
//! - [`runner`]: running a pack into findings; [`entitlement`]: differentiated subsidies
//!   (clause 17); [`accountability`]: recoveries and dispositions (clause 18).
//! - [`docs`]: `docs/rules.md`; [`alarm`]: the base-rate alarm (a rule flagging most rows).

pub mod accountability;
pub mod alarm;
pub mod catalog;
pub mod diagnostic;
pub mod docs;
pub mod entitlement;
pub mod expr;
pub mod pack;
pub mod primitives;
pub mod reviews;
pub mod rule;
pub mod runner;
pub mod scaffold;
pub mod views;

/// The 学时 convention and the one pass over the sign-ins live in `subsidy-model`, shared with the
/// anomaly features.
pub use subsidy_model::{hours, sign_ins};

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use subsidy_model::contract::Table;

pub use diagnostic::Diagnostic;
pub use pack::Pack;
pub use runner::RuleRun;

/// The candidate closest to `wanted`, if it is a plausible typo.
pub fn suggest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wanted, c), c))
        .filter(|(s, _)| *s >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// What a scan's rule stage produces.
pub struct Outcome {
    /// findings in the contract's columns plus internal `_`-columns (those a dismissal in force
    /// took out are in `dismissed`)
    pub findings: DataFrame,
    /// findings suppressed by a review dismissal in force (same columns)
    pub dismissed: DataFrame,
    /// what the review decisions did: marks by finding id, reviews of findings not raised
    pub reviewed: reviews::Applied,
    /// one row per claim to recover
    pub recoveries: DataFrame,
    /// one row per responsible party
    pub parties: DataFrame,
    /// per-rule outcome (fired, skipped)
    pub runs: Vec<RuleRun>,
    /// the views (for reports and detectors)
    pub views: views::Views,
}

/// The view settings a pack implies.
pub fn view_settings(pack: &Pack) -> views::ViewSettings {
    views::ViewSettings {
        face_pass_score: pack.views.face_pass_score,
        uplift_max: pack.views.uplift_max,
        default_standards: pack.standards.clone(),
        untimetabled_daily_cap_hours: pack.views.untimetabled_daily_cap_hours,
    }
}

/// Builds the views and runs the pack: findings, recoveries, parties. `detected` holds the
/// findings of detectors outside the pack (clustering); they are settled with the rules' own.
/// `reviews` are applied before settlement: a dismissal in force takes its finding out, so
/// recoveries and parties are settled once, on the findings that stand.
/// The input frames are dropped once the views are built (at scale, the sign-ins alone are
/// gigabytes the rules never read again).
pub fn run(
    pack: &Pack,
    frames: BTreeMap<Table, DataFrame>,
    present: &BTreeSet<Table>,
    identities: Option<&DataFrame>,
    today: chrono::NaiveDate,
    detected: &[subsidy_model::output::DetectorFinding],
    sign_ins: Option<sign_ins::SignInDays>,
    reviews: &reviews::Reviews,
) -> PolarsResult<Outcome> {
    let inputs = views::Inputs {
        frames,
        present,
        identities,
        today,
        sign_ins,
    };
    let views = views::build(inputs, &view_settings(pack))?;
    let (mut findings, runs) = runner::run(pack, &views, present)?;
    if !detected.is_empty() {
        findings = runner::sort_findings(findings.vstack(&runner::detector_findings(detected)?)?)?;
    }
    let reviewed = reviews::apply(reviews, &findings, today)?;
    let (findings, dismissed) = reviews::split(&findings, &reviewed)?;
    let (recoveries, parties) =
        accountability::settle(&findings, &views.frames["claim"], &pack.thresholds)?;
    Ok(Outcome {
        findings,
        dismissed,
        reviewed,
        recoveries,
        parties,
        runs,
        views,
    })
}

/// The views' column types: what rule files are checked against. Built once, over the
/// contract's empty canonical frames ([`subsidy_model::contract::empty_frames`]) with the default
/// settings (no setting changes a view's columns).
pub fn view_schemas() -> PolarsResult<&'static BTreeMap<String, BTreeMap<String, expr::Ty>>> {
    static SCHEMAS: std::sync::OnceLock<BTreeMap<String, BTreeMap<String, expr::Ty>>> =
        std::sync::OnceLock::new();
    if let Some(s) = SCHEMAS.get() {
        return Ok(s);
    }
    let built = build_schemas()?;
    Ok(SCHEMAS.get_or_init(|| built))
}

fn build_schemas() -> PolarsResult<BTreeMap<String, BTreeMap<String, expr::Ty>>> {
    let settings = views::ViewSettings::default();
    let present: BTreeSet<Table> = Table::ALL.into_iter().collect();
    let inputs = views::Inputs {
        frames: subsidy_model::contract::empty_frames(),
        present: &present,
        identities: None,
        today: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        sign_ins: None,
    };
    let v = views::build(inputs, &settings)?;
    Ok(catalog::names()
        .filter_map(|n| v.schema(n).map(|s| (n.to_string(), s)))
        .collect())
}
