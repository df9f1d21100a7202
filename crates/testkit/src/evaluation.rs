//! Scores a scan's findings against a generated package's labels (`subsidy-audit evaluate`).
//! These figures rest on our own generator: they show the engine finds what the generator
//! planted, not that it is right on data we did not make (the hand-made fixtures do that).
//!
//! - claim level: precision, recall and F1 of the claims to recover (`recoveries.csv`) against
//!   the labelled claims, overall and per category (a claim counts for a category when a finding
//!   of that category asks for its recovery, and it is labelled with it);
//! - recall per scenario (claims, or the planted entities where a scenario plants none);
//! - institution precision@K: the top K of `parties.csv` (institution kinds, by risk) against the
//!   K institutions planted;
//! - recovery found against expected (labels' `expected_recovery`, one amount per claim).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use subsidy_model::money::{format_yuan, parse_yuan};
use subsidy_model::vocab::{Category, EntityKind};

use crate::TestError;

/// Precision, recall and F1 from true positives, false positives and false negatives.
#[derive(Serialize, Default, Clone, Debug)]
pub struct Prf {
    /// true positives
    pub tp: usize,
    /// false positives
    pub fp: usize,
    /// false negatives
    pub fn_: usize,
    /// tp / (tp + fp), 1 when nothing was flagged
    pub precision: f64,
    /// tp / (tp + fn), 1 when nothing was planted
    pub recall: f64,
    /// their harmonic mean
    pub f1: f64,
}

/// The scores of `tp`, `fp` and `fn_`.
pub fn prf(tp: usize, fp: usize, fn_: usize) -> Prf {
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

/// Every score of one evaluation (written as evaluation.json).
#[derive(Serialize, Debug)]
pub struct Scores {
    /// the claims to recover against the labelled claims
    pub claims: Prf,
    /// the same over the scenarios a rule catches (not those left to clustering or identity
    /// resolution); claims labelled only by those are left out of both sides
    pub rule_detectable: Prf,
    /// per category of the findings asking for recovery
    pub per_category: BTreeMap<String, Prf>,
    /// recall per planted scenario
    pub per_scenario: BTreeMap<String, ScenarioRecall>,
    /// institutions planted (K)
    pub institutions_planted: usize,
    /// the top K institutions of parties.csv against those planted
    pub institution_precision_at_k: f64,
    /// colluding institutions (planted for the anomaly detectors): precision@K of training
    /// institutions ranked by `anomaly_score`, K = the number planted that hold any class
    pub colluding_planted: usize,
    /// see `colluding_planted`
    pub colluding_precision_at_k: f64,
    /// claims recovered on an anomaly finding (basis `AN-…`): precision against every label,
    /// recall against the colluding institutions' claims
    pub anomaly_claims: Prf,
    /// the labels' expected recovery
    pub expected_recovery_yuan: String,
    /// recovery found
    pub found_recovery_yuan: String,
    /// recovery found on labelled claims
    pub found_on_labelled_yuan: String,
    /// found / expected
    pub recovery_ratio: f64,
    /// identity resolution, pairwise: planted two-ID pairs against merged pairs in identities.csv
    pub identity_pairs: Prf,
    /// training effectiveness (IE-01), when the package has `labels_effectiveness.csv`
    pub effectiveness: Option<EffectivenessScores>,
}

/// IE-01 against the planted low-effectiveness programmes.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct EffectivenessScores {
    /// programmes planted (K)
    pub planted: usize,
    /// programmes flagged
    pub flagged: usize,
    /// of the K flagged programmes lowest by composite percentile, the share planted (a slot
    /// left empty when fewer are flagged counts as a miss)
    pub precision_at_k: f64,
    /// planted programmes flagged / planted
    pub recall: f64,
    /// hard negatives (small, new, seasonal) flagged
    pub hard_negatives_flagged: usize,
    /// flagged programmes with fewer trainees than the minimum (20)
    pub below_minimum_flagged: usize,
}

/// Scores effectiveness.csv against labels_effectiveness.csv (`None` without the labels).
pub fn score_effectiveness(
    pkg: &Path,
    out: &Path,
) -> Result<Option<EffectivenessScores>, TestError> {
    let lp = pkg.join("labels_effectiveness.csv");
    if !lp.exists() {
        return Ok(None);
    }
    let key = |r: &BTreeMap<String, String>| {
        (
            r["institution_id"].clone(),
            r["occupation_code"].clone(),
            r["level"].clone(),
        )
    };
    let labels = subsidy_synth::labels::read_effectiveness_labels(&lp)?;
    let label_key = |l: &subsidy_synth::labels::ProgrammeLabel| {
        (
            l.institution_id.clone(),
            l.occupation_code.clone(),
            l.level.clone(),
        )
    };
    let planted: BTreeSet<_> = labels
        .iter()
        .filter(|l| l.should_flag())
        .map(label_key)
        .collect();
    let hard: BTreeSet<_> = labels
        .iter()
        .filter(|l| !l.should_flag())
        .map(label_key)
        .collect();
    let rows = read_csv(
        &out.join("effectiveness.csv"),
        &[
            "unit",
            "institution_id",
            "occupation_code",
            "level",
            "trainees",
            "composite_percentile",
            "flagged",
        ],
    )?;
    let mut flagged: Vec<(f64, (String, String, String), i64)> = rows
        .iter()
        .filter(|r| r["unit"] == "programme" && r["flagged"] == "yes")
        .map(|r| {
            (
                r["composite_percentile"].parse().unwrap_or(1.0),
                key(r),
                r["trainees"].parse().unwrap_or(0),
            )
        })
        .collect();
    flagged.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let k = planted.len();
    let hits = flagged
        .iter()
        .take(k)
        .filter(|f| planted.contains(&f.1))
        .count();
    let caught = flagged.iter().filter(|f| planted.contains(&f.1)).count();
    Ok(Some(EffectivenessScores {
        planted: k,
        flagged: flagged.len(),
        precision_at_k: if k == 0 { 1.0 } else { hits as f64 / k as f64 },
        recall: if k == 0 {
            1.0
        } else {
            caught as f64 / k as f64
        },
        hard_negatives_flagged: flagged.iter().filter(|f| hard.contains(&f.1)).count(),
        below_minimum_flagged: flagged.iter().filter(|f| f.2 < 20).count(),
    }))
}

/// One scenario's recall.
#[derive(Serialize, Debug)]
pub struct ScenarioRecall {
    /// claims (or entities) planted
    pub planted: usize,
    /// of those, caught
    pub caught: usize,
    /// caught / planted
    pub recall: f64,
}

/// A scan output's rows, after checking it has the columns scoring reads (so that indexing a
/// row by them cannot fail).
fn read_csv(path: &Path, columns: &[&str]) -> Result<Vec<BTreeMap<String, String>>, TestError> {
    let rows = crate::read_rows_unguarded(path)?;
    if let Some(first) = rows.first()
        && let Some(c) = columns.iter().find(|c| !first.contains_key(**c))
    {
        return Err(TestError::msg(format!(
            "{}: column `{c}` is missing",
            path.display()
        )));
    }
    Ok(rows)
}

/// Scores findings in `out` against labels in `pkg`.
pub fn score(pkg: &Path, out: &Path) -> Result<Scores, TestError> {
    let labels = subsidy_synth::labels::read_labels(&pkg.join("labels.csv"))?;
    let findings = read_csv(
        &out.join("findings.csv"),
        &[
            "finding_id",
            "category",
            "entity_id",
            "institution_id",
            "responsible_party",
        ],
    )?;
    let recoveries = read_csv(
        &out.join("recoveries.csv"),
        &[
            "claim_id",
            "finding_ids",
            "basis",
            "institution_id",
            "recover_amount",
        ],
    )?;
    let parties = read_csv(&out.join("parties.csv"), &["kind", "responsible_party"])?;

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
    if let Ok(ids) = read_csv(&out.join("identities.csv"), &["identity_id", "person_id"]) {
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
    let active: BTreeSet<String> = read_csv(&pkg.join("classes.csv"), &["institution_id"])
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
    let effectiveness = score_effectiveness(pkg, out)?;
    Ok(Scores {
        effectiveness,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_of_nothing_flagged_and_nothing_planted_are_one() {
        let p = prf(0, 0, 0);
        assert_eq!((p.precision, p.recall, p.f1), (1.0, 1.0, 1.0));
        let p = prf(3, 1, 2);
        assert_eq!((p.precision, p.recall), (0.75, 0.6));
        assert!((p.f1 - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-12);
    }

    #[test]
    fn an_output_without_a_scored_column_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("findings.csv");
        std::fs::write(&p, "finding_id,severity\nF1,high\n").expect("write");
        let e = read_csv(&p, &["finding_id", "category"]).expect_err("missing");
        assert!(
            e.to_string().ends_with("column `category` is missing"),
            "{e}"
        );
    }
}
