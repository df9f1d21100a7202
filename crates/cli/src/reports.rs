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
use subsidy_report::mask::Masker;
use subsidy_report::rejected::Rejection;
use subsidy_report::xlsx::{Layout, Sheet, Value, write_workbook};

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
    pub rejected: &'a [Rejection],
    pub lang: ReportLang,
    /// masks personal data in both reports (built by [`masker`])
    pub mask: &'a Masker,
    /// base-rate alarms, shown on the summary sheet and at the top of report.html
    pub alarms: &'a [subsidy_rules::alarm::Alarm],
    /// how long tables are laid out over sheets
    pub layout: Layout,
}

/// The masker for a package's reports: every ID number, phone and account the package holds
/// (persons, claims, staff), masked wherever it appears, besides anything that looks like one.
pub fn masker(pkg: &subsidy_ingest::Package, reveal: bool) -> Masker {
    use subsidy_model::contract::Table;
    let mut m = Masker::new(reveal);
    if reveal {
        return m;
    }
    for (table, cols) in [
        (Table::Persons, &["person_id", "phone", "bank_account"][..]),
        (Table::Claims, &["person_id", "payee_account"][..]),
        (Table::PersonStatus, &["person_id"][..]),
        (Table::Staff, &["person_id"][..]),
    ] {
        let Some(df) = pkg.tables.get(&table) else {
            continue;
        };
        for c in cols {
            let Ok(col) = df.column(c) else { continue };
            let Ok(s) = col.str() else { continue };
            for v in s.iter().flatten() {
                m.add(v);
            }
        }
    }
    // a claim filed by the trainee names them as claimant
    if let Some(df) = pkg.tables.get(&Table::Claims)
        && let (Ok(c), Ok(p)) = (df.column("claimant_id"), df.column("person_id"))
        && let (Ok(c), Ok(p)) = (c.str(), p.str())
    {
        for (c, p) in c.iter().zip(p.iter()) {
            if let (Some(c), Some(p)) = (c, p)
                && c == p
            {
                m.add(c);
            }
        }
    }
    m
}

/// Writes report.xlsx, report.html and docs/; returns the files written.
pub fn write(c: &Context<'_>) -> anyhow::Result<Vec<String>> {
    let docs = c.out.join("docs");
    std::fs::create_dir_all(&docs).with_context(|| format!("creating {}", docs.display()))?;
    std::fs::write(docs.join("rules.md"), subsidy_rules::docs::markdown(c.pack))
        .context("writing docs/rules.md")?;
    std::fs::write(docs.join("detectors.md"), DETECTORS_MD).context("writing docs/detectors.md")?;
    let t = std::time::Instant::now();
    let (xlsx, html) = rayon::join(
        || {
            let r = workbook(c);
            subsidy_model::trace::lap("report.xlsx written", t);
            r
        },
        || {
            let r = html(c);
            subsidy_model::trace::lap("report.html written", t);
            r
        },
    );
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
            text(if c.mask.reveals() { "shown" } else { "masked" }.to_string()),
        ),
        ("base-rate alarms".to_string(), count(c.alarms.len())),
    ];
    let mut summary = summary;
    for a in c.alarms {
        summary.push((format!("ALARM {}", a.rule), text(a.message.clone())));
    }
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
        c.mask,
        c.layout,
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
        mask: c.mask,
        identities: Some(c.identities),
        alarms: &c
            .alarms
            .iter()
            .map(|a| a.message.clone())
            .collect::<Vec<_>>(),
    })?;
    std::fs::write(c.out.join("report.html"), html)?;
    Ok(())
}
