//! Review decisions that persist between scans: `reviews.csv` (finding_id, decision
//! confirmed|dismissed|investigating, reviewer, date, note, expires_on, and optionally
//! evidence_sha256, the hash of the evidence that was reviewed, as `reviews_template.csv` gives
//! it; and for fieldwork on an audit sample, `claim_id` and `confirmed_amount`). A dismissal in force (no expiry, or an expiry on or after the scan's reference date)
//! takes its finding out before recoveries and parties are settled, and lists it as dismissed; a
//! confirmed or investigating finding is marked; a finding whose evidence no longer has the
//! reviewed hash is `changed`, and a dismissal of it no longer suppresses it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use polars::prelude::*;
use sha2::{Digest, Sha256};

/// A reviewer's decision on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// the finding stands
    Confirmed,
    /// the finding is wrong: suppressed while the dismissal is in force
    Dismissed,
    /// being looked into
    Investigating,
}

impl Decision {
    /// Parses a decision (case-insensitive).
    pub fn parse(s: &str) -> Option<Decision> {
        match s.to_ascii_lowercase().as_str() {
            "confirmed" => Some(Decision::Confirmed),
            "dismissed" => Some(Decision::Dismissed),
            "investigating" => Some(Decision::Investigating),
            _ => None,
        }
    }

    /// The decision as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirmed => "confirmed",
            Decision::Dismissed => "dismissed",
            Decision::Investigating => "investigating",
        }
    }
}

/// What a review does to a finding in this scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// the reviewer's decision, in force
    Decided(Decision),
    /// a dismissal past its expiry: the finding is back
    DismissalExpired,
    /// the evidence differs from what was reviewed: the decision no longer applies
    Changed,
}

impl ReviewState {
    /// The state as the report shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Decided(d) => d.as_str(),
            ReviewState::DismissalExpired => "dismissal expired",
            ReviewState::Changed => "changed",
        }
    }
}

/// One review decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// the decision
    pub decision: Decision,
    /// who decided
    pub reviewer: String,
    /// when
    pub date: String,
    /// why
    pub note: String,
    /// the last day a dismissal holds (none: no expiry)
    pub expires_on: Option<chrono::NaiveDate>,
    /// the evidence hash that was reviewed ([`evidence_hash`])
    pub evidence_sha256: Option<String>,
}

/// The decisions of a `reviews.csv`, by finding id.
pub type Reviews = BTreeMap<String, Review>;

/// Why `reviews.csv` cannot be used: file, line, column and value.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
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

/// One decided row of a reviews.csv, with the columns fieldwork adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the file
    pub line: usize,
    /// the finding
    pub finding_id: String,
    /// the review
    pub review: Review,
    /// the claim the row is about (fieldwork on a sample of claims: one finding may bear on
    /// several sampled claims)
    pub claim_id: Option<String>,
    /// the amount fieldwork confirmed, fen (empty: all of a confirmed unit)
    pub confirmed_amount: Option<i64>,
}

/// Reads `reviews.csv`; a row with no decision (a template row nobody decided yet) is skipped.
pub fn read(path: &Path) -> Result<Reviews, ReviewError> {
    Ok(read_rows(path)?
        .into_iter()
        .map(|r| (r.finding_id, r.review))
        .collect())
}

/// Reads every decided row of a reviews.csv, in file order, with the optional fieldwork
/// columns `claim_id` and `confirmed_amount` (yuan: not negative, and none for a dismissal).
pub fn read_rows(path: &Path) -> Result<Vec<Row>, ReviewError> {
    let p = path.display().to_string();
    let csv_err = |source| ReviewError::Csv {
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
        col(name).ok_or_else(|| ReviewError::MissingColumn {
            path: p.clone(),
            column: name,
            header: headers.join(", "),
        })
    };
    let (fid, dec) = (need("finding_id")?, need("decision")?);
    let (who, date, note, exp, hash, claim, amount) = (
        col("reviewer"),
        col("date"),
        col("note"),
        col("expires_on"),
        col("evidence_sha256"),
        col("claim_id"),
        col("confirmed_amount"),
    );
    let mut out = Vec::new();
    for (k, rec) in r.records().enumerate() {
        let line = k + 2;
        let rec = rec.map_err(csv_err)?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").to_string();
        let written = get(Some(dec));
        if written.is_empty() {
            continue;
        }
        let bad = |column, value: String, why| ReviewError::BadValue {
            path: p.clone(),
            line,
            column,
            value,
            why,
        };
        let decision = Decision::parse(&written).ok_or_else(|| {
            bad(
                "decision",
                written.clone(),
                "is not confirmed, dismissed or investigating",
            )
        })?;
        let expires = get(exp);
        let expires_on = if expires.is_empty() {
            None
        } else {
            Some(
                chrono::NaiveDate::parse_from_str(&expires, "%Y-%m-%d")
                    .map_err(|_| bad("expires_on", expires.clone(), "is not a date YYYY-MM-DD"))?,
            )
        };
        let a = get(amount);
        let confirmed_amount = if a.is_empty() {
            None
        } else {
            let fen = subsidy_model::money::parse_yuan(&a).map_err(|_| {
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
        let hash = get(hash);
        let c = get(claim);
        out.push(Row {
            line,
            finding_id,
            review: Review {
                decision,
                reviewer: get(who),
                date: get(date),
                note: get(note),
                expires_on,
                evidence_sha256: (!hash.is_empty()).then_some(hash),
            },
            claim_id: (!c.is_empty()).then_some(c),
            confirmed_amount,
        });
    }
    Ok(out)
}

/// The hash a review pins: SHA-256 of the finding's evidence, 16 hex digits.
pub fn evidence_hash(evidence: &str) -> String {
    hex::encode(Sha256::digest(evidence.as_bytes()))[..16].to_string()
}

/// A review's mark on a finding, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// what the review does now
    pub state: ReviewState,
    /// the decision, who, when, until, and the note
    pub detail: String,
}

/// What the reviews do to one scan's findings.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// finding ids suppressed by a dismissal in force
    pub suppressed: BTreeSet<String>,
    /// marks, by finding id
    pub marks: BTreeMap<String, Mark>,
    /// reviews whose finding this scan did not raise
    pub stale: usize,
}

/// Applies `reviews` to the findings frame (columns finding_id and evidence) as of `as_of`.
pub fn apply(
    reviews: &Reviews,
    findings: &DataFrame,
    as_of: chrono::NaiveDate,
) -> PolarsResult<Applied> {
    let ids = findings.column("finding_id")?.str()?.clone();
    let ev = findings.column("evidence")?.str()?.clone();
    let mut out = Applied::default();
    let mut seen = 0;
    for i in 0..findings.height() {
        let Some(id) = ids.get(i) else { continue };
        let Some(r) = reviews.get(id) else { continue };
        seen += 1;
        let changed = r
            .evidence_sha256
            .as_ref()
            .is_some_and(|h| *h != evidence_hash(ev.get(i).unwrap_or("")));
        let in_force = r.expires_on.is_none_or(|e| as_of <= e);
        let state = if changed {
            ReviewState::Changed
        } else if r.decision == Decision::Dismissed && !in_force {
            ReviewState::DismissalExpired
        } else {
            ReviewState::Decided(r.decision)
        };
        if state == ReviewState::Decided(Decision::Dismissed) {
            out.suppressed.insert(id.to_string());
        }
        let until = r
            .expires_on
            .map(|e| format!(" until {e}"))
            .unwrap_or_default();
        out.marks.insert(
            id.to_string(),
            Mark {
                state,
                detail: format!(
                    "{} {} {}{until}: {}",
                    r.decision.as_str(),
                    r.reviewer,
                    r.date,
                    r.note
                ),
            },
        );
    }
    out.stale = reviews.len() - seen;
    Ok(out)
}

/// Writes `reviews_template.csv`: one row per finding with its evidence hash, for reviewers to
/// fill in and pass back with `scan --reviews`.
pub fn write_template(path: &Path, findings: &DataFrame) -> Result<(), ReviewError> {
    let p = path.display().to_string();
    let csv_err = |source| ReviewError::Csv {
        path: p.clone(),
        source,
    };
    let polars_err = |e: PolarsError| ReviewError::Csv {
        path: p.clone(),
        source: csv::Error::from(std::io::Error::other(e.to_string())),
    };
    let ids = findings
        .column("finding_id")
        .and_then(|c| c.str().cloned())
        .map_err(polars_err)?;
    let ev = findings
        .column("evidence")
        .and_then(|c| c.str().cloned())
        .map_err(polars_err)?;
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    w.write_record([
        "finding_id",
        "decision",
        "reviewer",
        "date",
        "note",
        "expires_on",
        "evidence_sha256",
    ])
    .map_err(csv_err)?;
    for i in 0..findings.height() {
        let h = evidence_hash(ev.get(i).unwrap_or(""));
        w.write_record([ids.get(i).unwrap_or(""), "", "", "", "", "", h.as_str()])
            .map_err(csv_err)?;
    }
    w.flush().map_err(|e| csv_err(e.into()))?;
    Ok(())
}

/// Splits `findings` into those kept and those a dismissal in force takes out.
pub fn split(findings: &DataFrame, applied: &Applied) -> PolarsResult<(DataFrame, DataFrame)> {
    if applied.suppressed.is_empty() {
        return Ok((findings.clone(), findings.clear()));
    }
    let hit: BooleanChunked = findings
        .column("finding_id")?
        .str()?
        .iter()
        .map(|id| id.is_some_and(|id| applied.suppressed.contains(id)))
        .collect();
    Ok((findings.filter(&!&hit)?, findings.filter(&hit)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn dismissals_in_force_suppress_expired_and_changed_ones_do_not() {
        let findings = df! {
            "finding_id" => ["F1", "F2", "F3", "F4"],
            "evidence" => ["{a}", "{b}", "{c}", "{d}"],
        }
        .expect("frame");
        let review = |d, exp: Option<&str>, hash: Option<String>| Review {
            decision: d,
            reviewer: "王审计".into(),
            date: "2026-11-01".into(),
            note: "n".into(),
            expires_on: exp.map(day),
            evidence_sha256: hash,
        };
        let reviews: Reviews = [
            (
                "F1".to_string(),
                review(Decision::Dismissed, None, Some(evidence_hash("{a}"))),
            ),
            (
                "F2".to_string(),
                review(Decision::Dismissed, Some("2026-06-30"), None),
            ),
            (
                "F3".to_string(),
                review(Decision::Dismissed, None, Some(evidence_hash("{old}"))),
            ),
            ("F4".to_string(), review(Decision::Confirmed, None, None)),
            ("F9".to_string(), review(Decision::Confirmed, None, None)),
        ]
        .into_iter()
        .collect();
        let a = apply(&reviews, &findings, day("2026-12-01")).expect("apply");
        assert_eq!(a.suppressed, BTreeSet::from(["F1".to_string()]));
        let state = |id: &str| a.marks[id].state;
        assert_eq!(state("F2"), ReviewState::DismissalExpired);
        assert_eq!(state("F3"), ReviewState::Changed);
        assert_eq!(state("F4"), ReviewState::Decided(Decision::Confirmed));
        assert_eq!(a.stale, 1);
        let (kept, gone) = split(&findings, &a).expect("split");
        assert_eq!((kept.height(), gone.height()), (3, 1));
    }

    #[test]
    fn a_bad_decision_names_file_line_column_and_value() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("reviews.csv");
        std::fs::write(&p, "finding_id,decision\nF1,confirmed\nF2,maybe\n").expect("write");
        let e = read(&p).expect_err("bad decision").to_string();
        assert!(
            e.ends_with("reviews.csv: line 3, column decision: `maybe` is not confirmed, dismissed or investigating"),
            "{e}"
        );
    }
}
