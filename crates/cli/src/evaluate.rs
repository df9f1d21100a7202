//! `subsidy-audit evaluate`: prints and checks the scores of `subsidy_testkit::evaluation`.
//!
//! - claim level: precision, recall and F1 of the claims to recover (`recoveries.csv`) against
//!   the labelled claims, overall and per category (a claim counts for a category when a finding
//!   of that category asks for its recovery, and it is labelled with it);
//! - recall per scenario (claims, or the planted entities where a scenario plants none);
//! - institution precision@K: the top K of `parties.csv` (institution kinds, by risk) against the
//!   K institutions planted;
//! - recovery found against expected (labels' `expected_recovery`, one amount per claim).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use subsidy_testkit::evaluation::score;

use crate::{Exit, Failure};

#[derive(Args)]
pub struct EvaluateArgs {
    /// the generated package (holds labels.csv)
    #[arg(long)]
    labels: PathBuf,
    /// the scan's output folder (findings.csv, recoveries.csv, parties.csv)
    #[arg(long)]
    findings: PathBuf,
    /// write the scores as JSON here (default: <findings>/evaluation.json)
    #[arg(long)]
    json: Option<PathBuf>,
    /// exit 1 when claim-level precision is below this
    #[arg(long)]
    min_precision: Option<f64>,
    /// exit 1 when claim-level recall is below this
    #[arg(long)]
    min_recall: Option<f64>,
    /// exit 1 when precision on rule-detectable scenarios is below this
    #[arg(long)]
    min_rule_precision: Option<f64>,
    /// exit 1 when recall on rule-detectable scenarios is below this
    #[arg(long)]
    min_rule_recall: Option<f64>,
    /// exit 1 when found recovery differs from expected by more than this fraction
    #[arg(long)]
    max_recovery_gap: Option<f64>,
    /// exit 1 when colluding institutions' precision@K by anomaly score is below this
    #[arg(long)]
    min_colluding_precision_at_k: Option<f64>,
    /// exit 1 when recall of colluding claims by anomaly findings is below this
    #[arg(long)]
    min_anomaly_recall: Option<f64>,
    /// exit 1 when IE-01's precision@K against the planted low-effectiveness programmes is
    /// below this (packages with labels_effectiveness.csv)
    #[arg(long)]
    min_effectiveness_precision_at_k: Option<f64>,
}

pub fn run(a: EvaluateArgs) -> Result<u8, Failure> {
    let s = score(&a.labels, &a.findings).context("scoring the findings against the labels")?;
    crate::out!(
        "claims      precision {:.4}  recall {:.4}  F1 {:.4}  (tp {}, fp {}, fn {})",
        s.claims.precision,
        s.claims.recall,
        s.claims.f1,
        s.claims.tp,
        s.claims.fp,
        s.claims.fn_
    );
    let r = &s.rule_detectable;
    crate::out!(
        "rule-detectable scenarios: precision {:.4}  recall {:.4}  F1 {:.4}  (tp {}, fp {}, fn {})",
        r.precision,
        r.recall,
        r.f1,
        r.tp,
        r.fp,
        r.fn_
    );
    crate::out!(
        "\n{:<18} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6}",
        "category",
        "precision",
        "recall",
        "F1",
        "tp",
        "fp",
        "fn"
    );
    for (c, p) in &s.per_category {
        crate::out!(
            "{c:<18} {:>9.4} {:>9.4} {:>9.4} {:>6} {:>6} {:>6}",
            p.precision,
            p.recall,
            p.f1,
            p.tp,
            p.fp,
            p.fn_
        );
    }
    crate::out!(
        "\n{:<30} {:>8} {:>8} {:>8}",
        "scenario",
        "planted",
        "caught",
        "recall"
    );
    for (n, r) in &s.per_scenario {
        crate::out!("{n:<30} {:>8} {:>8} {:>8.4}", r.planted, r.caught, r.recall);
    }
    crate::out!(
        "\ninstitution precision@{}: {:.4}",
        s.institutions_planted,
        s.institution_precision_at_k
    );
    let an = &s.anomaly_claims;
    crate::out!(
        "colluding institutions: precision@{} by anomaly score {:.4}; claims recovered on anomaly findings: precision {:.4}  recall {:.4}",
        s.colluding_planted,
        s.colluding_precision_at_k,
        an.precision,
        an.recall
    );
    if let Some(e) = &s.effectiveness {
        crate::out!(
            "training effectiveness (IE-01): {} planted, {} flagged; precision@{} {:.4}, recall {:.4}; hard negatives flagged {}, below the minimum size flagged {}",
            e.planted,
            e.flagged,
            e.planted,
            e.precision_at_k,
            e.recall,
            e.hard_negatives_flagged,
            e.below_minimum_flagged
        );
    }
    crate::out!(
        "recovery: found {} yuan (on labelled claims {}) against expected {} yuan: ratio {:.4}",
        s.found_recovery_yuan,
        s.found_on_labelled_yuan,
        s.expected_recovery_yuan,
        s.recovery_ratio
    );
    let ip = &s.identity_pairs;
    crate::out!(
        "identity pairs: precision {:.4}  recall {:.4}  F1 {:.4}  (merged {}, planted {}, wrong merges {})",
        ip.precision,
        ip.recall,
        ip.f1,
        ip.tp + ip.fp,
        ip.tp + ip.fn_,
        ip.fp
    );
    let json = a
        .json
        .clone()
        .unwrap_or_else(|| a.findings.join("evaluation.json"));
    std::fs::write(
        &json,
        serde_json::to_string_pretty(&s).context("json")? + "\n",
    )
    .with_context(|| format!("writing {}", json.display()))?;
    let mut failed = Vec::new();
    if let Some(m) = a.min_precision
        && s.claims.precision < m
    {
        failed.push(format!("precision {:.4} < {m}", s.claims.precision));
    }
    if let Some(m) = a.min_recall
        && s.claims.recall < m
    {
        failed.push(format!("recall {:.4} < {m}", s.claims.recall));
    }
    if let Some(m) = a.min_rule_precision
        && s.rule_detectable.precision < m
    {
        failed.push(format!(
            "rule-detectable precision {:.4} < {m}",
            s.rule_detectable.precision
        ));
    }
    if let Some(m) = a.min_rule_recall
        && s.rule_detectable.recall < m
    {
        failed.push(format!(
            "rule-detectable recall {:.4} < {m}",
            s.rule_detectable.recall
        ));
    }
    if let Some(m) = a.min_colluding_precision_at_k
        && s.colluding_precision_at_k < m
    {
        failed.push(format!(
            "colluding precision@{} {:.4} < {m}",
            s.colluding_planted, s.colluding_precision_at_k
        ));
    }
    if let Some(m) = a.min_effectiveness_precision_at_k
        && let Some(e) = &s.effectiveness
        && e.precision_at_k < m
    {
        failed.push(format!(
            "effectiveness precision@{} {:.4} < {m}",
            e.planted, e.precision_at_k
        ));
    }
    if let Some(m) = a.min_anomaly_recall
        && s.anomaly_claims.recall < m
    {
        failed.push(format!(
            "anomaly recall {:.4} < {m}",
            s.anomaly_claims.recall
        ));
    }
    if let Some(g) = a.max_recovery_gap
        && (s.recovery_ratio - 1.0).abs() > g
    {
        failed.push(format!(
            "recovery ratio {:.4} outside 1 ± {g}",
            s.recovery_ratio
        ));
    }
    if failed.is_empty() {
        Ok(0)
    } else {
        eprintln!("below thresholds: {}", failed.join("; "));
        Ok(Exit::BelowThreshold.code())
    }
}
