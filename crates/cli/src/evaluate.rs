//! `subsidy-audit evaluate`: scores a scan's findings against a generated package's labels.
//!
//! - claim level: precision, recall and F1 of the claims to recover (`recoveries.csv`) against
//!   the labelled claims, overall and per category (a claim counts for a category when a finding
//!   of that category asks for its recovery, and it is labelled with it);
//! - recall per scenario (claims, or the planted entities where a scenario plants none);
//! - institution precision@K: the top K of `parties.csv` (institution kinds, by risk) against the
//!   K institutions planted;
//! - recovery found against expected (labels' `expected_recovery`, one amount per claim).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use subsidy_model::money::{format_yuan, parse_yuan};
use subsidy_model::vocab::{Category, EntityKind};

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
}

#[derive(Serialize, Default, Clone)]
pub struct Prf {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

fn prf(tp: usize, fp: usize, fn_: usize) -> Prf {
    let p = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let r = if tp + fn_ == 0 {
        1.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f1 = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    Prf {
        tp,
        fp,
        fn_,
        precision: p,
        recall: r,
        f1,
    }
}

#[derive(Serialize)]
pub struct Scores {
    pub claims: Prf,
    /// the same over the scenarios a rule catches (not those left to clustering or identity
    /// resolution); claims labelled only by those are left out of both sides
    pub rule_detectable: Prf,
    pub per_category: BTreeMap<String, Prf>,
    pub per_scenario: BTreeMap<String, ScenarioRecall>,
    pub institutions_planted: usize,
    pub institution_precision_at_k: f64,
    /// colluding institutions (planted for the anomaly detectors): precision@K of training
    /// institutions ranked by `anomaly_score`, K = the number planted that hold any class
    pub colluding_planted: usize,
    pub colluding_precision_at_k: f64,
    /// claims recovered on an anomaly finding (basis `AN-…`): precision against every label,
    /// recall against the colluding institutions' claims
    pub anomaly_claims: Prf,
    pub expected_recovery_yuan: String,
    pub found_recovery_yuan: String,
    pub found_on_labelled_yuan: String,
    pub recovery_ratio: f64,
    /// identity resolution, pairwise: planted two-ID pairs against merged pairs in identities.csv
    pub identity_pairs: Prf,
}

#[derive(Serialize)]
pub struct ScenarioRecall {
    pub planted: usize,
    pub caught: usize,
    pub recall: f64,
}

fn read_csv(path: &std::path::Path) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
    Ok(subsidy_testkit::read_rows_unguarded(path)?)
}

/// Scores findings in `out` against labels in `pkg`.
pub fn score(pkg: &std::path::Path, out: &std::path::Path) -> anyhow::Result<Scores> {
    let labels = subsidy_synth::labels::read_labels(&pkg.join("labels.csv"))?;
    let findings = read_csv(&out.join("findings.csv"))?;
    let recoveries = read_csv(&out.join("recoveries.csv"))?;
    let parties = read_csv(&out.join("parties.csv"))?;

    let mut lab_claims: BTreeMap<String, (BTreeSet<String>, i64)> = BTreeMap::new(); // claim → categories, expected
    let mut lab_entities: BTreeMap<String, BTreeSet<String>> = BTreeMap::new(); // scenario → entities
    let mut scen_claims: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut planted_inst = BTreeSet::new();
    for l in &labels {
        let (s, c) = (l.scenario.to_string(), l.category.as_str().to_string());
        match &l.claim_id {
            Some(cl) => {
                let entry = lab_claims.entry(cl.clone()).or_default();
                entry.0.insert(c);
                entry.1 = entry.1.max(l.expected_recovery);
                scen_claims.entry(s).or_default().insert(cl.clone());
            }
            None => {
                lab_entities
                    .entry(s)
                    .or_default()
                    .insert(l.entity_id.clone());
                if l.entity_kind == EntityKind::Institution && l.category != Category::FundsUse {
                    planted_inst.insert(l.entity_id.clone());
                }
            }
        }
    }
    // the engine's claim-level decision is recoveries.csv; a claim's categories are those of the
    // findings that ask for its recovery
    let cat_of: BTreeMap<&str, &str> = findings
        .iter()
        .map(|f| (f["finding_id"].as_str(), f["category"].as_str()))
        .collect();
    let mut flagged: BTreeMap<String, BTreeSet<String>> = BTreeMap::new(); // claim → categories
    for r in &recoveries {
        let cats = flagged.entry(r["claim_id"].clone()).or_default();
        for f in r["finding_ids"].split(';').filter(|s| !s.is_empty()) {
            if let Some(c) = cat_of.get(f) {
                cats.insert(c.to_string());
            }
        }
    }
    // a planted entity is caught when a finding names it (as entity, institution or party)
    let mut entities: BTreeSet<String> = BTreeSet::new();
    for f in &findings {
        for k in ["entity_id", "institution_id", "responsible_party"] {
            entities.insert(f[k].clone());
        }
    }
    let tp = flagged
        .keys()
        .filter(|c| lab_claims.contains_key(*c))
        .count();
    let claims = prf(tp, flagged.len() - tp, lab_claims.len() - tp);
    let by_rule = |s: &str| {
        subsidy_synth::scenario::scenario(s)
            .is_some_and(|x| !matches!(x.caught_by, "cluster" | "identity"))
    };
    let mut rule_claims = BTreeSet::new();
    let mut other_claims = BTreeSet::new();
    for (s, cs) in &scen_claims {
        if by_rule(s) {
            rule_claims.extend(cs.iter().cloned());
        } else {
            other_claims.extend(cs.iter().cloned());
        }
    }
    let other_only: BTreeSet<&String> = other_claims
        .iter()
        .filter(|c| !rule_claims.contains(*c))
        .collect();
    let rf: BTreeSet<&String> = flagged.keys().filter(|c| !other_only.contains(c)).collect();
    let rtp = rf.iter().filter(|c| rule_claims.contains(**c)).count();
    let rule_detectable = prf(rtp, rf.len() - rtp, rule_claims.len() - rtp);
    let cats: BTreeSet<String> = lab_claims
        .values()
        .flat_map(|v| v.0.iter().cloned())
        .chain(flagged.values().flat_map(|v| v.iter().cloned()))
        .collect();
    let mut per_category = BTreeMap::new();
    for cat in cats {
        let f: BTreeSet<&String> = flagged
            .iter()
            .filter(|(_, v)| v.contains(&cat))
            .map(|(k, _)| k)
            .collect();
        let l: BTreeSet<&String> = lab_claims
            .iter()
            .filter(|(_, v)| v.0.contains(&cat))
            .map(|(k, _)| k)
            .collect();
        let t = f.intersection(&l).count();
        per_category.insert(cat, prf(t, f.len() - t, l.len() - t));
    }
    let mut per_scenario = BTreeMap::new();
    let scen: BTreeSet<&String> = scen_claims.keys().chain(lab_entities.keys()).collect();
    for s in scen {
        let (planted, caught) = match scen_claims.get(s) {
            Some(cs) => (
                cs.len(),
                cs.iter().filter(|c| flagged.contains_key(*c)).count(),
            ),
            None => {
                let es = &lab_entities[s];
                (
                    es.len(),
                    es.iter().filter(|e| entities.contains(*e)).count(),
                )
            }
        };
        per_scenario.insert(
            s.clone(),
            ScenarioRecall {
                planted,
                caught,
                recall: if planted == 0 {
                    1.0
                } else {
                    caught as f64 / planted as f64
                },
            },
        );
    }
    let k = planted_inst.len();
    let top: Vec<&String> = parties
        .iter()
        .filter(|p| {
            matches!(
                p["kind"].as_str(),
                "training_institution" | "evaluation_organisation"
            )
        })
        .map(|p| &p["responsible_party"])
        .take(k)
        .collect();
    let p_at_k = if k == 0 {
        1.0
    } else {
        top.iter().filter(|p| planted_inst.contains(**p)).count() as f64 / k as f64
    };
    // identity pairs: each planted two-ID person is labelled as two person rows in a row
    let persons_planted: Vec<&String> = labels
        .iter()
        .filter(|l| l.scenario == "two_ids_one_person" && l.entity_kind == EntityKind::Person)
        .map(|l| &l.entity_id)
        .collect();
    let truth: BTreeSet<(String, String)> = persons_planted
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| {
            if c[0] < c[1] {
                (c[0].clone(), c[1].clone())
            } else {
                (c[1].clone(), c[0].clone())
            }
        })
        .collect();
    let mut predicted: BTreeSet<(String, String)> = BTreeSet::new();
    if let Ok(ids) = read_csv(&out.join("identities.csv")) {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in &ids {
            groups
                .entry(r["identity_id"].clone())
                .or_default()
                .push(r["person_id"].clone());
        }
        for g in groups.values().filter(|g| g.len() > 1) {
            for (i, a) in g.iter().enumerate() {
                for b in &g[i + 1..] {
                    predicted.insert(if a < b {
                        (a.clone(), b.clone())
                    } else {
                        (b.clone(), a.clone())
                    });
                }
            }
        }
    }
    let itp = predicted.intersection(&truth).count();
    let identity_pairs = prf(itp, predicted.len() - itp, truth.len() - itp);
    let expected: i64 = lab_claims.values().map(|v| v.1).sum();
    let found: i64 = recoveries
        .iter()
        .map(|r| parse_yuan(&r["recover_amount"]).unwrap_or(0))
        .sum();
    let found_lab: i64 = recoveries
        .iter()
        .filter(|r| lab_claims.contains_key(&r["claim_id"]))
        .map(|r| parse_yuan(&r["recover_amount"]).unwrap_or(0))
        .sum();
    // colluding institutions: ranked by anomaly score
    // (those with no class at all left nothing to detect: K counts the active ones)
    let active: BTreeSet<String> = read_csv(&pkg.join("classes.csv"))
        .map(|c| c.into_iter().map(|r| r["institution_id"].clone()).collect())
        .unwrap_or_default();
    let colluding: BTreeSet<&String> = labels
        .iter()
        .filter(|l| {
            l.scenario == "colluding_institutions" && l.entity_kind == EntityKind::Institution
        })
        .map(|l| &l.entity_id)
        .filter(|i| active.is_empty() || active.contains(*i))
        .collect();
    let mut ranked: Vec<(f64, &String)> = parties
        .iter()
        .filter(|p| p["kind"] == "training_institution")
        .filter_map(|p| {
            let x: f64 = p.get("anomaly_score")?.parse().ok()?;
            Some((x, &p["responsible_party"]))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let kc = colluding.len();
    let colluding_p_at_k = if kc == 0 {
        1.0
    } else {
        ranked
            .iter()
            .take(kc)
            .filter(|(_, p)| colluding.contains(p))
            .count() as f64
            / kc as f64
    };
    let on_anomaly: BTreeSet<&String> = recoveries
        .iter()
        .filter(|r| r["basis"].split(';').any(|b| b.starts_with("AN-")))
        .map(|r| &r["claim_id"])
        .collect();
    let colluding_claims = scen_claims
        .get("colluding_institutions")
        .cloned()
        .unwrap_or_default();
    let tp_a = on_anomaly
        .iter()
        .filter(|c| lab_claims.contains_key(**c))
        .count();
    let caught_c = colluding_claims
        .iter()
        .filter(|c| on_anomaly.contains(c))
        .count();
    // precision over the claims anomaly findings recover, recall over the colluding claims
    let (pa, ra) = (
        prf(tp_a, on_anomaly.len() - tp_a, 0).precision,
        prf(caught_c, 0, colluding_claims.len() - caught_c).recall,
    );
    let anomaly_claims = Prf {
        tp: tp_a,
        fp: on_anomaly.len() - tp_a,
        fn_: colluding_claims.len() - caught_c,
        precision: pa,
        recall: ra,
        f1: if pa + ra == 0.0 {
            0.0
        } else {
            2.0 * pa * ra / (pa + ra)
        },
    };
    Ok(Scores {
        colluding_planted: kc,
        colluding_precision_at_k: colluding_p_at_k,
        anomaly_claims,
        claims,
        rule_detectable,
        per_category,
        per_scenario,
        institutions_planted: k,
        institution_precision_at_k: p_at_k,
        expected_recovery_yuan: format_yuan(expected),
        found_recovery_yuan: format_yuan(found),
        found_on_labelled_yuan: format_yuan(found_lab),
        recovery_ratio: if expected == 0 {
            1.0
        } else {
            found as f64 / expected as f64
        },
        identity_pairs,
    })
}

pub fn run(a: EvaluateArgs) -> Result<u8, Failure> {
    let s = score(&a.labels, &a.findings)?;
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
