//! The human-facing reports of a scan: `report.xlsx` for auditors and `report.html` for
//! supervisors (with the rule docs copied beside it so its links work offline), written in
//! parallel.

use std::collections::BTreeMap;

use foldhash::{HashSet, HashSetExt};
use std::path::Path;

use anyhow::Context as _;
use chrono::Datelike;
use polars::prelude::*;
use subsidy_report::cover::{Cover, CoverInput, InputHash};
use subsidy_report::html::ReviewMark;
use subsidy_report::i18n::Lang;
use subsidy_report::mask::Masker;
use subsidy_report::names::Names;
use subsidy_report::rejected::Rejection;
use subsidy_report::xlsx::{Book, Layout};

use crate::scan::ReportLang;

/// The anomaly detectors' documentation, copied beside report.html.
const DETECTORS_MD: &str = include_str!("../../../docs/detectors.md");
/// The effectiveness scorecard's documentation, copied beside report.html.
const EFFECTIVENESS_MD: &str = include_str!("../../../docs/effectiveness.md");
/// The audit-sampling method, copied beside report.html when a sample was drawn.
const SAMPLING_MD: &str = include_str!("../../../docs/sampling.md");

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
    /// base-rate alarms, shown on the cover of both reports
    pub alarms: &'a [subsidy_rules::alarm::Alarm],
    /// how long tables are laid out over sheets
    pub layout: Layout,
    /// names and fund sources from the package
    pub named: &'a Named,
    /// the package's input files (for the cover's hashes)
    pub inputs: &'a [subsidy_ingest::InputFile],
    /// the training-effectiveness scorecard
    pub effectiveness: &'a DataFrame,
    /// the audit sample (`subsidy-audit sample`)
    pub sample: Option<&'a subsidy_report::sample::SampleView<'a>>,
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
    std::fs::write(docs.join("effectiveness.md"), EFFECTIVENESS_MD)
        .context("writing docs/effectiveness.md")?;
    if c.sample.is_some() {
        std::fs::write(docs.join("sampling.md"), SAMPLING_MD)
            .context("writing docs/sampling.md")?;
    }
    let t = std::time::Instant::now();
    let s = shared(c).context("the reports' cover and names")?;
    let (xlsx, html) = rayon::join(
        || {
            let r = workbook(c, &s);
            subsidy_model::trace::lap("report.xlsx written", t);
            r
        },
        || {
            let r = html(c, &s);
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
        "docs/effectiveness.md".into(),
    ])
}

/// The package's frames the reports read for names and fund sources, kept before the rules
/// take the package's frames.
pub struct Named {
    institutions: DataFrame,
    persons: DataFrame,
    claims: DataFrame,
}

impl Named {
    /// Each institution's region code (GB/T 2260), where the package gives one.
    pub fn region_codes(&self) -> foldhash::HashMap<String, String> {
        let (Ok(id), Ok(region)) = (
            subsidy_model::frame::text_column(&self.institutions, "institution_id"),
            subsidy_model::frame::text_column(&self.institutions, "region_code"),
        ) else {
            return Default::default();
        };
        id.iter()
            .zip(region.iter())
            .filter_map(|(i, r)| Some((i?.to_string(), r?.to_string())))
            .collect()
    }

    /// Keeps the columns the reports need (a frame's clone shares its columns).
    pub fn keep(pkg: &subsidy_ingest::Package) -> Named {
        use subsidy_model::contract::Table;
        let pick = |t: Table, cols: &[&str]| -> DataFrame {
            let df = pkg.frame(t);
            let have: Vec<&str> = cols
                .iter()
                .copied()
                .filter(|c| df.column(c).is_ok())
                .collect();
            df.select(have).unwrap_or_default()
        };
        Named {
            institutions: pick(
                Table::Institutions,
                &["institution_id", "name", "region_code"],
            ),
            persons: pick(Table::Persons, &["person_id", "name"]),
            claims: pick(Table::Claims, &["claim_id", "fund_source"]),
        }
    }
}

/// What both reports share: names beside codes and the cover, in the reports' language.
struct Shared {
    names: Names,
    cover: Cover,
}

fn shared(c: &Context<'_>) -> anyhow::Result<Shared> {
    let l = lang(c.lang);
    // the persons the reports name: parties, and the entities of findings
    let mut wanted: HashSet<&str> = HashSet::new();
    for (df, col) in [
        (c.parties, "responsible_party"),
        (c.findings, "responsible_party"),
        (c.findings, "entity_id"),
        (c.recoveries, "responsible_party"),
        (c.identities, "person_id"),
    ] {
        wanted.extend(df.column(col)?.str()?.iter().flatten());
    }
    let names = Names::new_for(
        &c.named.institutions,
        &c.named.persons,
        c.mask.reveals(),
        Some(&wanted),
    );
    // the fund source of each claim to recover
    let to_recover: HashSet<&str> = c
        .recoveries
        .column("claim_id")?
        .str()?
        .iter()
        .flatten()
        .collect();
    let mut fund_source = BTreeMap::new();
    if let (Ok(id), Ok(fs)) = (
        c.named.claims.column("claim_id"),
        c.named.claims.column("fund_source"),
    ) {
        for (i, f) in id
            .str()?
            .iter()
            .zip(fs.cast(&DataType::String)?.str()?.iter())
        {
            if let (Some(i), Some(f)) = (i, f)
                && to_recover.contains(i)
            {
                fund_source.insert(i.to_string(), f.to_string());
            }
        }
    }
    let inputs: Vec<InputHash> = c
        .inputs
        .iter()
        .map(|f| InputHash {
            table: f.table.to_string(),
            file: f.file.clone(),
            rows: f.rows,
            sha256: f.sha256.clone(),
        })
        .collect();
    let alarms = alarm_messages(c);
    let d = c.as_of;
    let cover = Cover::build(
        &CoverInput {
            package: c.package,
            as_of: (d.year() as u16, d.month() as u8, d.day() as u8),
            engine_version: subsidy_model::ENGINE_VERSION,
            pack_version: &c.pack.version,
            pack_sha256: &c.pack.sha256,
            inputs: &inputs,
            findings: c.findings,
            recoveries: c.recoveries,
            parties: c.parties,
            dismissed: c.dismissed.height(),
            fund_source: &fund_source,
            names: &names,
            alarms: &alarms,
            rejected: c.rejected,
            reveal: c.mask.reveals(),
        },
        l,
    )?;
    let mut cover = cover;
    if let Some(v) = c.sample {
        cover.add_sample(v, l);
    }
    Ok(Shared { names, cover })
}

/// The alarms' messages in the reports' language.
fn alarm_messages(c: &Context<'_>) -> Vec<String> {
    c.alarms
        .iter()
        .map(|a| match c.lang {
            ReportLang::Zh => a.message_zh.clone(),
            ReportLang::En => a.message.clone(),
        })
        .collect()
}

fn lang(l: ReportLang) -> Lang {
    match l {
        ReportLang::Zh => Lang::Zh,
        ReportLang::En => Lang::En,
    }
}

fn workbook(c: &Context<'_>, s: &Shared) -> anyhow::Result<()> {
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
    let d = c.as_of;
    subsidy_report::xlsx::write(
        &c.out.join("report.xlsx"),
        &Book {
            created: (d.year() as u16, d.month() as u8, d.day() as u8),
            lang: lang(c.lang),
            cover: &s.cover,
            findings: c.findings,
            recoveries: c.recoveries,
            parties: c.parties,
            identities: &merged,
            effectiveness: c.effectiveness,
            rejected: c.rejected,
            names: &s.names,
            mask: c.mask,
            layout: c.layout,
            sample: c.sample,
        },
    )?;
    Ok(())
}

fn html(c: &Context<'_>, s: &Shared) -> anyhow::Result<()> {
    let html = subsidy_report::html::render(&subsidy_report::html::Input {
        package: c.package,
        as_of: &c.as_of.to_string(),
        versions: &format!(
            "subsidy-audit {} · {} {}",
            subsidy_model::ENGINE_VERSION,
            lang(c.lang).t("规则包", "rule pack"),
            c.pack.version
        ),
        findings: c.findings,
        recoveries: c.recoveries,
        parties: c.parties,
        dismissed: c.dismissed,
        reviews: c.marks,
        docs: "docs/",
        lang: lang(c.lang),
        mask: c.mask,
        identities: Some(c.identities),
        alarms: &alarm_messages(c),
        cover: Some(&s.cover),
        names: &s.names,
        effectiveness: Some(c.effectiveness),
    })?;
    std::fs::write(c.out.join("report.html"), html)?;
    Ok(())
}
