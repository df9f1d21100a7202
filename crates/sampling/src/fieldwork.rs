//! Fieldwork results, back through a reviews.csv: each sampled unit marked confirmed or
//! dismissed, with the amount confirmed.
//!
//! The file has the columns of `scan --reviews` (finding_id, decision, reviewer, date, note …;
//! `subsidy_rules::reviews::read_rows` reads it) and two more: `claim_id`, the claim a row is about when the sample is of claims (one finding
//! may bear on several sampled claims), and `confirmed_amount`, the yuan fieldwork confirmed
//! (empty: all of a confirmed unit; nothing for a dismissal). `sample_reviews_template.csv`
//! has one row per sampled unit to fill in.

use std::collections::HashMap;
use std::path::Path;

use subsidy_model::money::format_yuan;

use crate::frames::Population;
use crate::{Sample, Source, Verified};

/// A fieldworker's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// the finding stands (in full, or for `confirmed_amount`)
    Confirmed,
    /// the finding is wrong: nothing is recoverable
    Dismissed,
    /// not settled yet: counted as not confirmed
    Investigating,
}

/// One row of the fieldwork file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the file
    pub line: usize,
    /// the finding
    pub finding_id: String,
    /// the claim, when the row is about one claim
    pub claim_id: Option<String>,
    /// the decision
    pub decision: Decision,
    /// the amount confirmed, fen
    pub confirmed_amount: Option<i64>,
}

/// What fieldwork says of each drawn unit, and how many rows bore on no sampled unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// one result per drawn unit
    pub results: Vec<Verified>,
    /// rows about no unit of the sample
    pub unmatched: usize,
}

/// Matches the rows to the sample. A claim takes the row with its claim_id; failing that, the
/// rows of its findings that name no claim: confirmed if any is (for its confirmed_amount when
/// exactly one such row gives one, else in full), dismissed if all are. A finding takes the
/// first row with its finding_id. Investigating, or no row: not examined.
pub fn resolve(pop: &Population, s: &Sample, rows: &[Row]) -> Resolved {
    let mut by_claim: HashMap<&str, &Row> = HashMap::new();
    let mut by_finding: HashMap<&str, Vec<&Row>> = HashMap::new();
    for r in rows {
        match &r.claim_id {
            Some(c) => {
                by_claim.entry(c.as_str()).or_insert(r);
            }
            None => by_finding.entry(r.finding_id.as_str()).or_default().push(r),
        }
    }
    let mut used = std::collections::HashSet::new();
    let of = |r: &Row, amount: i64| match r.decision {
        Decision::Confirmed => Verified::Confirmed(r.confirmed_amount.unwrap_or(amount)),
        Decision::Dismissed => Verified::Confirmed(0),
        Decision::Investigating => Verified::NotExamined,
    };
    let results = s
        .drawn
        .iter()
        .map(|d| {
            let (u, info) = (&pop.units[d.unit], &pop.info[d.unit]);
            if pop.source == Source::Findings {
                let hit = by_finding
                    .get(u.id.as_str())
                    .and_then(|v| v.first())
                    .copied()
                    .or_else(|| rows.iter().find(|r| r.finding_id == u.id));
                return match hit {
                    Some(r) => {
                        used.insert(r.line);
                        of(r, u.amount)
                    }
                    None => Verified::NotExamined,
                };
            }
            if let Some(r) = by_claim.get(u.id.as_str()) {
                used.insert(r.line);
                return of(r, u.amount);
            }
            let mine: Vec<&Row> = info
                .findings
                .split(';')
                .filter_map(|f| by_finding.get(f))
                .flatten()
                .copied()
                .collect();
            for r in &mine {
                used.insert(r.line);
            }
            let confirmed: Vec<&&Row> = mine
                .iter()
                .filter(|r| r.decision == Decision::Confirmed)
                .collect();
            if !confirmed.is_empty() {
                let amounts: Vec<i64> = confirmed
                    .iter()
                    .filter_map(|r| r.confirmed_amount)
                    .collect();
                return Verified::Confirmed(match amounts.as_slice() {
                    [one] => *one,
                    _ => u.amount,
                });
            }
            if !mine.is_empty() && mine.iter().all(|r| r.decision == Decision::Dismissed) {
                return Verified::Confirmed(0);
            }
            Verified::NotExamined
        })
        .collect();
    Resolved {
        results,
        unmatched: rows.iter().filter(|r| !used.contains(&r.line)).count(),
    }
}

/// Writes `sample_reviews_template.csv`: one row per sampled unit, its finding (a claim's
/// first) and claim, for fieldworkers to fill in and pass to `sample evaluate --reviews`.
pub fn write_template(path: &Path, pop: &Population, s: &Sample) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "sample_no",
        "finding_id",
        "claim_id",
        "amount",
        "decision",
        "confirmed_amount",
        "reviewer",
        "date",
        "note",
    ])?;
    for (k, d) in s.drawn.iter().enumerate() {
        let (u, info) = (&pop.units[d.unit], &pop.info[d.unit]);
        let first = info.findings.split(';').next().unwrap_or("");
        let claim = if pop.source == Source::Recoveries {
            u.id.as_str()
        } else {
            ""
        };
        w.write_record([
            (k + 1).to_string().as_str(),
            first,
            claim,
            format_yuan(u.amount).as_str(),
            "",
            "",
            "",
            "",
            "",
        ])?;
    }
    w.flush()?;
    Ok(())
}
