//! Fieldwork results, back through a reviews.csv: each sampled unit marked confirmed or
//! dismissed, with the amount confirmed.
//!
//! The file has the columns of `scan --reviews` (finding_id, decision, reviewer, date, note …)
//! and two more: `claim_id`, the claim a row is about when the sample is of claims (one finding
//! may bear on several sampled claims), and `confirmed_amount`, the yuan fieldwork confirmed
//! (empty: all of a confirmed unit; nothing for a dismissal). `sample_reviews_template.csv`
//! has one row per sampled unit to fill in.

use std::collections::HashMap;
use std::path::Path;

use subsidy_model::money::{format_yuan, parse_yuan};

use crate::frames::Population;
use crate::{Sample, Verified};

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

/// Why the fieldwork file cannot be used: file, line, column and value.
#[derive(Debug, thiserror::Error)]
pub enum FieldworkError {
    /// unreadable, or not CSV
    #[error("{path}: {source}")]
    Csv {
        /// the file
        path: String,
        /// the reader's error
        source: csv::Error,
    },
    /// a required column is missing
    #[error("{path}: no column `{column}` (the header has: {header})")]
    MissingColumn {
        /// the file
        path: String,
        /// the column
        column: &'static str,
        /// the header as read
        header: String,
    },
    /// a cell that is not what its column holds
    #[error("{path}: line {line}, column {column}: `{value}` {why}")]
    BadValue {
        /// the file
        path: String,
        /// 1-based line
        line: usize,
        /// the column
        column: &'static str,
        /// the value
        value: String,
        /// what it should be
        why: &'static str,
    },
}

/// Reads the fieldwork file; rows with no decision (template rows nobody filled in) are
/// skipped.
pub fn read(path: &Path) -> Result<Vec<Row>, FieldworkError> {
    let p = path.display().to_string();
    let csv_err = |source| FieldworkError::Csv {
        path: p.clone(),
        source,
    };
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(csv_err)?;
    let headers: Vec<String> = r
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need = |name: &'static str| {
        col(name).ok_or_else(|| FieldworkError::MissingColumn {
            path: p.clone(),
            column: name,
            header: headers.join(", "),
        })
    };
    let (fid, dec) = (need("finding_id")?, need("decision")?);
    let (claim, amount) = (col("claim_id"), col("confirmed_amount"));
    let mut out = Vec::new();
    for (k, rec) in r.records().enumerate() {
        let line = k + 2;
        let rec = rec.map_err(csv_err)?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").to_string();
        let written = get(Some(dec));
        if written.is_empty() {
            continue;
        }
        let bad = |column, value: String, why| FieldworkError::BadValue {
            path: p.clone(),
            line,
            column,
            value,
            why,
        };
        let decision = match written.to_ascii_lowercase().as_str() {
            "confirmed" => Decision::Confirmed,
            "dismissed" => Decision::Dismissed,
            "investigating" => Decision::Investigating,
            _ => {
                return Err(bad(
                    "decision",
                    written,
                    "is not confirmed, dismissed or investigating",
                ));
            }
        };
        let a = get(amount);
        let confirmed_amount = if a.is_empty() {
            None
        } else {
            let fen = parse_yuan(&a).map_err(|_| {
                bad(
                    "confirmed_amount",
                    a.clone(),
                    "is not an amount in yuan (e.g. 1200 or 1200.50)",
                )
            })?;
            if fen < 0 {
                return Err(bad("confirmed_amount", a, "is negative"));
            }
            if decision == Decision::Dismissed && fen > 0 {
                return Err(bad(
                    "confirmed_amount",
                    a,
                    "is given for a dismissal, which confirms nothing",
                ));
            }
            Some(fen)
        };
        let finding_id = get(Some(fid));
        if finding_id.is_empty() {
            return Err(bad("finding_id", finding_id, "is empty"));
        }
        let c = get(claim);
        out.push(Row {
            line,
            finding_id,
            claim_id: (!c.is_empty()).then_some(c),
            decision,
            confirmed_amount,
        });
    }
    Ok(out)
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
            if pop.kind == "finding" {
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
pub fn write_template(path: &Path, pop: &Population, s: &Sample) -> Result<(), FieldworkError> {
    let p = path.display().to_string();
    let csv_err = |source| FieldworkError::Csv {
        path: p.clone(),
        source,
    };
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
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
    ])
    .map_err(csv_err)?;
    for (k, d) in s.drawn.iter().enumerate() {
        let (u, info) = (&pop.units[d.unit], &pop.info[d.unit]);
        let first = info.findings.split(';').next().unwrap_or("");
        let claim = if pop.kind == "claim" {
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
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(|e| csv_err(e.into()))?;
    Ok(())
}
