//! Review decisions that persist between scans: `reviews.csv` (finding_id, decision
//! confirmed|dismissed|investigating, reviewer, date, note, expires_on, and optionally
//! evidence_sha256, the hash of the evidence that was reviewed, as `reviews_template.csv` gives
//! it). A dismissal in force (no expiry, or an expiry on or after the scan's reference date)
//! suppresses its finding, which is listed as dismissed instead; a confirmed or investigating
//! finding is marked; a finding whose evidence no longer has the reviewed hash is shown as
//! `changed`, and a dismissal of it no longer suppresses it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, bail};
use polars::prelude::*;
use sha2::{Digest, Sha256};
use subsidy_report::html::ReviewMark;

/// One review decision.
#[derive(Debug, Clone)]
pub struct Review {
    pub decision: String,
    pub reviewer: String,
    pub date: String,
    pub note: String,
    pub expires_on: Option<chrono::NaiveDate>,
    pub evidence_sha256: Option<String>,
}

/// Reads `reviews.csv`; a bad row stops the run naming file, line, column and value.
pub fn read(path: &Path) -> anyhow::Result<BTreeMap<String, Review>> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let headers: Vec<String> = r.headers()?.iter().map(str::to_lowercase).collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need = |name: &str| {
        col(name).with_context(|| {
            format!(
                "{}: no column `{name}` (the header has: {})",
                path.display(),
                headers.join(", ")
            )
        })
    };
    let (fid, dec) = (need("finding_id")?, need("decision")?);
    let (who, date, note, exp, hash) = (
        col("reviewer"),
        col("date"),
        col("note"),
        col("expires_on"),
        col("evidence_sha256"),
    );
    let mut out = BTreeMap::new();
    for (k, rec) in r.records().enumerate() {
        let line = k + 2;
        let rec = rec.with_context(|| format!("{}: line {line}", path.display()))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").to_string();
        let decision = get(Some(dec)).to_lowercase();
        if decision.is_empty() {
            continue; // a template row nobody decided yet
        }
        if !matches!(
            decision.as_str(),
            "confirmed" | "dismissed" | "investigating"
        ) {
            bail!(
                "{}: line {line}, column decision: `{decision}` is not confirmed, dismissed or investigating",
                path.display()
            );
        }
        let expires = get(exp);
        let expires_on = if expires.is_empty() {
            None
        } else {
            Some(
                chrono::NaiveDate::parse_from_str(&expires, "%Y-%m-%d").with_context(|| {
                    format!(
                        "{}: line {line}, column expires_on: `{expires}` is not a date YYYY-MM-DD",
                        path.display()
                    )
                })?,
            )
        };
        let hash = get(hash);
        out.insert(
            get(Some(fid)),
            Review {
                decision,
                reviewer: get(who),
                date: get(date),
                note: get(note),
                expires_on,
                evidence_sha256: (!hash.is_empty()).then_some(hash),
            },
        );
    }
    Ok(out)
}

/// The hash a review pins: SHA-256 of the finding's evidence, 16 hex digits.
pub fn evidence_hash(evidence: &str) -> String {
    hex::encode(Sha256::digest(evidence.as_bytes()))[..16].to_string()
}

/// What the reviews do to one scan's findings.
pub struct Applied {
    /// finding ids suppressed by a dismissal in force
    pub suppressed: BTreeSet<String>,
    /// marks for the report, by finding id
    pub marks: BTreeMap<String, ReviewMark>,
    /// reviews whose finding this scan did not raise
    pub stale: usize,
}

/// Applies `reviews` to the findings frame (columns finding_id and evidence) as of `as_of`.
pub fn apply(
    reviews: &BTreeMap<String, Review>,
    findings: &DataFrame,
    as_of: chrono::NaiveDate,
) -> PolarsResult<Applied> {
    let ids = findings.column("finding_id")?.str()?.clone();
    let ev = findings.column("evidence")?.str()?.clone();
    let mut out = Applied {
        suppressed: BTreeSet::new(),
        marks: BTreeMap::new(),
        stale: 0,
    };
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
            "changed"
        } else if r.decision == "dismissed" && !in_force {
            "dismissal expired"
        } else {
            r.decision.as_str()
        };
        if state == "dismissed" {
            out.suppressed.insert(id.to_string());
        }
        let until = r
            .expires_on
            .map(|e| format!(" until {e}"))
            .unwrap_or_default();
        out.marks.insert(
            id.to_string(),
            ReviewMark {
                state: state.to_string(),
                detail: format!(
                    "{} {} {}{until}: {}",
                    r.decision, r.reviewer, r.date, r.note
                ),
            },
        );
    }
    out.stale = reviews.len() - seen;
    Ok(out)
}

/// `reviews_template.csv`: one row per finding with its evidence hash, for reviewers to fill.
pub fn write_template(path: &Path, findings: &DataFrame) -> anyhow::Result<()> {
    let ids = findings.column("finding_id")?.str()?.clone();
    let ev = findings.column("evidence")?.str()?.clone();
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record([
        "finding_id",
        "decision",
        "reviewer",
        "date",
        "note",
        "expires_on",
        "evidence_sha256",
    ])?;
    for i in 0..findings.height() {
        let h = evidence_hash(ev.get(i).unwrap_or(""));
        w.write_record([ids.get(i).unwrap_or(""), "", "", "", "", "", h.as_str()])?;
    }
    w.flush()?;
    Ok(())
}
