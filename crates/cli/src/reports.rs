//! The human-facing reports of a scan: `report.xlsx` for auditors and `report.html` for
//! supervisors (with the rule docs copied beside it so its links work offline), written in
//! parallel.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use chrono::Datelike;
use polars::prelude::*;
use subsidy_model::output::{FINDINGS, IDENTITIES, PARTIES, RECOVERIES};
use subsidy_report::html::{Lang, ReviewMark};
use subsidy_report::rejected::RejectedRow;
use subsidy_report::xlsx::{Sheet, Value, write_workbook};

use crate::scan::ReportLang;

/// The anomaly detectors' documentation, copied beside report.html.
const DETECTORS_MD: &str = include_str!("../../../docs/detectors.md");

/// What the reports show.
pub struct Context<'a> {
    pub out: &'a Path,
    pub package: &'a str,
    pub as_of: chrono::NaiveDate,
    pub pack: &'a subsidy_rules::Pack,
    pub findings: &'a DataFrame,
    pub recoveries: &'a DataFrame,
    pub parties: &'a DataFrame,
    pub identities: &'a DataFrame,
    pub dismissed: &'a DataFrame,
    pub marks: &'a BTreeMap<String, ReviewMark>,
    pub rejected: &'a [RejectedRow<'a>],
    pub lang: ReportLang,
    pub reveal: bool,
}

/// Writes report.xlsx, report.html and docs/; returns the files written.
pub fn write(c: &Context<'_>) -> anyhow::Result<Vec<String>> {
    let docs = c.out.join("docs");
    std::fs::create_dir_all(&docs).with_context(|| format!("creating {}", docs.display()))?;
    std::fs::write(docs.join("rules.md"), subsidy_rules::docs::markdown(c.pack))
        .context("writing docs/rules.md")?;
    std::fs::write(docs.join("detectors.md"), DETECTORS_MD).context("writing docs/detectors.md")?;
    let (xlsx, html) = rayon::join(|| workbook(c), || html(c));
    xlsx.context("writing report.xlsx")?;
    html.context("writing report.html")?;
    Ok(vec![
        "report.xlsx".into(),
        "report.html".into(),
        "docs/rules.md".into(),
        "docs/detectors.md".into(),
    ])
}

fn workbook(c: &Context<'_>) -> anyhow::Result<()> {
    let recover_total: i64 = c
        .recoveries
        .column("recover_amount")?
        .i64()?
        .sum()
        .unwrap_or(0);
    let text = |s: String| Value::Text(s);
    let count = |n: usize| Value::Count(n as i64);
    let summary = vec![
        ("package".to_string(), text(c.package.to_string())),
        ("as of".to_string(), text(c.as_of.to_string())),
        (
            "engine".to_string(),
            text(format!(
                "subsidy-audit {}; rule pack {}",
                subsidy_model::ENGINE_VERSION,
                c.pack.version
            )),
        ),
        ("findings".to_string(), count(c.findings.height())),
        (
            "claims to recover".to_string(),
            count(c.recoveries.height()),
        ),
        ("to recover (yuan)".to_string(), Value::Money(recover_total)),
        ("responsible parties".to_string(), count(c.parties.height())),
        ("rows rejected".to_string(), count(c.rejected.len())),
        (
            "findings dismissed by review".to_string(),
            count(c.dismissed.height()),
        ),
        (
            "identities sheet".to_string(),
            text("registrations merged with another only".to_string()),
        ),
        (
            "personal data".to_string(),
            text(if c.reveal { "shown" } else { "masked" }.to_string()),
        ),
    ];
    // the identities sheet lists merged registrations only (a million singletons help no one)
    let ids = c.identities.column("identity_id")?.str()?.clone();
    let mut seen = BTreeMap::<&str, usize>::new();
    for id in ids.iter().flatten() {
        *seen.entry(id).or_default() += 1;
    }
    let keep: BooleanChunked = ids
        .iter()
        .map(|id| id.is_some_and(|id| seen.get(id).is_some_and(|n| *n > 1)))
        .collect();
    let merged = c.identities.filter(&keep)?;
    let sheets = [
        Sheet {
            name: "findings",
            cols: FINDINGS,
            df: c.findings,
        },
        Sheet {
            name: "recoveries",
            cols: RECOVERIES,
            df: c.recoveries,
        },
        Sheet {
            name: "parties",
            cols: PARTIES,
            df: c.parties,
        },
        Sheet {
            name: "identities",
            cols: IDENTITIES,
            df: &merged,
        },
    ];
    let d = c.as_of;
    write_workbook(
        &c.out.join("report.xlsx"),
        (d.year() as u16, d.month() as u8, d.day() as u8),
        &summary,
        &sheets,
        c.rejected,
        c.reveal,
    )?;
    Ok(())
}

fn html(c: &Context<'_>) -> anyhow::Result<()> {
    let html = subsidy_report::html::render(&subsidy_report::html::Input {
        package: c.package,
        as_of: &c.as_of.to_string(),
        versions: &format!(
            "subsidy-audit {} · rule pack {}",
            subsidy_model::ENGINE_VERSION,
            c.pack.version
        ),
        findings: c.findings,
        recoveries: c.recoveries,
        parties: c.parties,
        dismissed: c.dismissed,
        reviews: c.marks,
        docs: "docs/",
        lang: match c.lang {
            ReportLang::Zh => Lang::Zh,
            ReportLang::En => Lang::En,
        },
        reveal: c.reveal,
    })?;
    std::fs::write(c.out.join("report.html"), html)?;
    Ok(())
}
