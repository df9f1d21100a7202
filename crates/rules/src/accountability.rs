//! Accountability (谁使用、谁负责): one recovery row per claim, however many findings hit it, and
//! one row per responsible party with its disposition on the escalation ladder.
//!
//! - A claim's recovery is the largest amount any finding asks for (all of it for fake,
//!   ineligible and duplicate claims, the excess for over-claims), never more than was paid.
//!   Its responsible party is that finding's party; every finding that asks for money is listed.
//! - A party's risk score is 1 - Π(1 - w) over its findings, w the severity weight; an anomaly
//!   finding (detector `cluster`) weighs its severity times its score, at most 0.9, and the
//!   party's largest anomaly score is kept as `anomaly_score`.
//! - A party's disposition: `refer_to_judiciary` when its deliberate fraud (recoveries whose
//!   deciding finding is in a deliberate category) reaches `fraud_threshold_yuan`;
//!   `revoke_qualification` for an institution or evaluation organisation with at least
//!   `revoke_after_findings` recover-level findings within `revoke_window_months`; `recover`
//!   when anything is to be recovered; else `guide_adjustment`.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::pack::Thresholds;

/// Severity weight in the risk score.
fn weight(sev: &str) -> f64 {
    match sev {
        "critical" => 0.7,
        "high" => 0.5,
        "medium" => 0.3,
        "low" => 0.15,
        _ => 0.05,
    }
}

/// A finding's claim on one claim's money (text borrowed from the findings' columns: at a
/// million findings, owned copies cost hundreds of megabytes).
struct Candidate<'a> {
    amount: i64,
    rule: &'a str,
    finding: &'a str,
    party: &'a str,
    category: &'a str,
}

/// Recoveries and parties from the runner's findings and the claim view.
pub fn settle(
    findings: &DataFrame,
    claims: &DataFrame,
    t: &Thresholds,
) -> PolarsResult<(DataFrame, DataFrame)> {
    let s = |df: &DataFrame, c: &str| -> PolarsResult<StringChunked> {
        Ok(df.column(c)?.cast(&DataType::String)?.str()?.clone())
    };
    let (cid, cinst) = (s(claims, "claim_id")?, s(claims, "institution_id")?);
    let cpaid = claims.column("amount_paid")?.i64()?.clone();
    let mut paid: BTreeMap<&str, (i64, Option<&str>)> = BTreeMap::new();
    for i in 0..claims.height() {
        if let (Some(id), Some(p)) = (cid.get(i), cpaid.get(i)) {
            paid.insert(id, (p, cinst.get(i)));
        }
    }
    let (fid, rule, cat, sev, party, cl, rec, role, date) = (
        s(findings, "finding_id")?,
        s(findings, "rule_id")?,
        s(findings, "category")?,
        s(findings, "severity")?,
        s(findings, "responsible_party")?,
        s(findings, "claim_ids")?,
        s(findings, "_recover")?,
        s(findings, "_role")?,
        s(findings, "_date")?,
    );
    let excess = findings.column("_excess")?.i64()?.clone();
    let detector = s(findings, "detector")?;
    let score = findings.column("score")?.f64()?.clone();
    let at_risk = findings.column("amount_at_risk")?.i64()?.clone();
    let mut by_claim: BTreeMap<&str, Vec<Candidate<'_>>> = BTreeMap::new();
    for i in 0..findings.height() {
        let mode = rec.get(i).unwrap_or("none");
        if mode == "none" {
            continue;
        }
        for c in cl.get(i).unwrap_or("").split(';').filter(|x| !x.is_empty()) {
            let Some((p, _)) = paid.get(c) else { continue };
            let amount = if mode == "excess" {
                excess.get(i).unwrap_or(0).clamp(0, *p)
            } else {
                *p
            };
            by_claim.entry(c).or_default().push(Candidate {
                amount,
                rule: rule.get(i).unwrap_or(""),
                finding: fid.get(i).unwrap_or(""),
                party: party.get(i).unwrap_or("unknown"),
                category: cat.get(i).unwrap_or(""),
            });
        }
    }
    // recoveries
    let mut r_claim = Vec::new();
    let mut r_party = Vec::new();
    let mut r_inst: Vec<Option<String>> = Vec::new();
    let mut r_paid = Vec::new();
    let mut r_amount = Vec::new();
    let mut r_fids = Vec::new();
    let mut r_basis = Vec::new();
    let mut party_recover: BTreeMap<&str, i64> = BTreeMap::new();
    let mut party_deliberate: BTreeMap<&str, i64> = BTreeMap::new();
    for (c, cands) in &by_claim {
        let best = cands
            .iter()
            .max_by(|a, b| a.amount.cmp(&b.amount).then_with(|| b.rule.cmp(&a.rule)))
            .expect("non-empty");
        if best.amount <= 0 {
            continue;
        }
        let (p, inst) = &paid[*c];
        let fids: BTreeSet<&str> = cands
            .iter()
            .filter(|x| x.amount > 0)
            .map(|x| x.finding)
            .collect();
        let basis: BTreeSet<&str> = cands
            .iter()
            .filter(|x| x.amount > 0)
            .map(|x| x.rule)
            .collect();
        r_claim.push(c.to_string());
        r_party.push(best.party.to_string());
        r_inst.push(inst.map(str::to_string));
        r_paid.push(*p);
        r_amount.push(best.amount);
        r_fids.push(fids.into_iter().collect::<Vec<_>>().join(";"));
        r_basis.push(basis.into_iter().collect::<Vec<_>>().join(";"));
        *party_recover.entry(best.party).or_default() += best.amount;
        if t.deliberate_categories.iter().any(|c| c == best.category) {
            *party_deliberate.entry(best.party).or_default() += best.amount;
        }
    }
    let recoveries = DataFrame::new_infer_height(vec![
        Column::new("claim_id".into(), r_claim),
        Column::new("responsible_party".into(), r_party),
        Column::new("institution_id".into(), r_inst),
        Column::new("amount_paid".into(), r_paid),
        Column::new("recover_amount".into(), r_amount),
        Column::new("finding_ids".into(), r_fids),
        Column::new("basis".into(), r_basis),
    ])?;

    // parties
    struct P<'a> {
        kinds: BTreeMap<&'a str, usize>,
        findings: usize,
        claims: BTreeSet<&'a str>,
        keep: f64,
        recover_dates: Vec<&'a str>,
        anomaly: Option<f64>,
    }
    let mut parties: BTreeMap<&str, P<'_>> = BTreeMap::new();
    for i in 0..findings.height() {
        let pid = party.get(i).unwrap_or("unknown");
        let p = parties.entry(pid).or_insert(P {
            kinds: BTreeMap::new(),
            findings: 0,
            claims: BTreeSet::new(),
            keep: 1.0,
            recover_dates: Vec::new(),
            anomaly: None,
        });
        *p.kinds.entry(role.get(i).unwrap_or("")).or_default() += 1;
        p.findings += 1;
        p.claims
            .extend(cl.get(i).unwrap_or("").split(';').filter(|x| !x.is_empty()));
        // an anomaly finding weighs by its score (1 = at the flagging threshold)
        let w = weight(sev.get(i).unwrap_or(""));
        let w = match (detector.get(i), score.get(i)) {
            (Some("cluster"), Some(x)) => {
                p.anomaly = Some(p.anomaly.map_or(x, |a: f64| a.max(x)));
                (w * x).min(0.9)
            }
            _ => w,
        };
        p.keep *= 1.0 - w;
        if rec.get(i) != Some("none") && at_risk.get(i).unwrap_or(0) > 0 {
            p.recover_dates.push(date.get(i).unwrap_or(""));
        }
    }
    let mut rows: Vec<(
        String,
        String,
        f64,
        i64,
        i64,
        i64,
        String,
        bool,
        Option<f64>,
    )> = Vec::new();
    for (pid, p) in parties {
        let kind = p
            .kinds
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(k, _)| k.to_string())
            .unwrap_or_default();
        let recover = party_recover.get(pid).copied().unwrap_or(0);
        let deliberate = party_deliberate.get(pid).copied().unwrap_or(0);
        let institutional = matches!(
            kind.as_str(),
            "training_institution" | "evaluation_organisation"
        );
        let disposition = if deliberate >= t.fraud_threshold_yuan * 100 {
            "refer_to_judiciary"
        } else if institutional
            && within_window(
                &p.recover_dates,
                t.revoke_after_findings,
                t.revoke_window_months,
            )
        {
            "revoke_qualification"
        } else if recover > 0 {
            "recover"
        } else {
            "guide_adjustment"
        };
        let risk = ((1.0 - p.keep) * 1e6).round() / 1e6;
        rows.push((
            pid.to_string(),
            kind,
            risk,
            p.findings as i64,
            p.claims.len() as i64,
            recover,
            disposition.to_string(),
            deliberate > t.credit_list_threshold_yuan * 100,
            p.anomaly,
        ));
    }
    rows.sort_by(|a, b| {
        b.2.total_cmp(&a.2)
            .then_with(|| b.5.cmp(&a.5))
            .then_with(|| a.0.cmp(&b.0))
    });
    let parties = DataFrame::new_infer_height(vec![
        Column::new(
            "responsible_party".into(),
            rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "kind".into(),
            rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "risk_score".into(),
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        ),
        Column::new(
            "findings".into(),
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        ),
        Column::new(
            "claims".into(),
            rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        ),
        Column::new(
            "recover_amount".into(),
            rows.iter().map(|r| r.5).collect::<Vec<_>>(),
        ),
        Column::new(
            "disposition".into(),
            rows.iter().map(|r| r.6.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "credit_list_candidate".into(),
            rows.iter()
                .map(|r| if r.7 { "yes" } else { "no" }.to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "anomaly_score".into(),
            rows.iter().map(|r| r.8).collect::<Vec<_>>(),
        ),
        // the training-effectiveness composite, set by the scan from the scorecard
        Column::full_null("effectiveness_score".into(), rows.len(), &DataType::Float64),
    ])?;
    Ok((recoveries, parties))
}

/// Whether `n` of the dates (YYYY-MM-DD) fall within `months` of each other.
fn within_window(dates: &[&str], n: usize, months: u32) -> bool {
    if n == 0 || dates.len() < n {
        return false;
    }
    let mut d: Vec<chrono::NaiveDate> = dates
        .iter()
        .filter_map(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .collect();
    d.sort();
    d.windows(n).any(|w| {
        w[0].checked_add_months(chrono::Months::new(months))
            .is_some_and(|limit| w[n - 1] <= limit)
    })
}

#[cfg(test)]
mod tests {
    use super::within_window;

    #[test]
    fn windows() {
        let d = |v: &[&'static str]| v.to_vec();
        assert!(within_window(&d(&["2025-01-01", "2026-12-31"]), 2, 24));
        assert!(!within_window(&d(&["2023-01-01", "2025-02-01"]), 2, 24));
        assert!(!within_window(&d(&["2025-01-01"]), 2, 24));
    }
}
