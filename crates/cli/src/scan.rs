//! `subsidy-audit scan`: one audit run over a package.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polars::prelude::*;
use subsidy_ingest::{EncodingChoice, Options, Package};
use subsidy_model::contract::Table;
use subsidy_model::output::{EFFECTIVENESS, FINDINGS, IDENTITIES, PARTIES, RECOVERIES};
use subsidy_model::vocab::Severity;
use subsidy_report::rejected::write_rejected;
use subsidy_report::tables::write_table;

use crate::manifest::{Manifest, RulePackInfo};
use crate::{Exit, Failure};

#[derive(Args)]
pub struct ScanArgs {
    /// The package folder (default: the bundled demo, fixtures/demo).
    package: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// CSV encoding: auto, utf-8, gb18030 (gbk).
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Exit with code 1 when a finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long)]
    fail_on: Option<String>,
    /// No progress or summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// A rule-pack folder to use instead of the pack built into the binary.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Reference date (YYYY-MM-DD) for checks against "today"; default: the latest claim date in
    /// the package, so that a rerun gives the same bytes.
    #[arg(long)]
    as_of: Option<String>,
    /// Anomaly detector beside the rules: cluster (K-Means and DBSCAN over class and sitting
    /// features), zscore (the per-feature baseline) or none (rules alone).
    #[arg(long, value_enum, default_value_t = Anomaly::Cluster)]
    anomaly: Anomaly,
    /// Review decisions from an earlier scan (reviews.csv: finding_id, decision
    /// confirmed|dismissed|investigating, reviewer, date, note, expires_on[, evidence_sha256]).
    #[arg(long)]
    reviews: Option<PathBuf>,
    /// Language of report.html: zh (default) or en.
    #[arg(long, value_enum, default_value_t = ReportLang::Zh)]
    lang: ReportLang,
    /// Show ID numbers, phones and bank accounts unmasked in report.xlsx and report.html.
    #[arg(long)]
    reveal_pii: bool,
    /// Measure wall time and peak resident memory per stage, view and rule: a table on stderr
    /// and a `profile` list in manifest.json.
    #[arg(long)]
    profile: bool,
    /// Also run the rules whose status is `preview` (left out by default).
    #[arg(long)]
    preview: bool,
}

/// The language of the HTML report.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ReportLang {
    Zh,
    En,
}

/// The anomaly detector to run beside the rules.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Anomaly {
    Cluster,
    Zscore,
    None,
}

impl Anomaly {
    /// The detector parameters for this choice (the rest at their defaults).
    pub fn params(self) -> subsidy_scoring::anomaly::Params {
        use subsidy_scoring::anomaly::Method;
        subsidy_scoring::anomaly::Params {
            method: match self {
                Anomaly::Cluster => Method::Cluster,
                Anomaly::Zscore => Method::Zscore,
                Anomaly::None => Method::None,
            },
            ..Default::default()
        }
    }
}

struct Stage {
    bar: ProgressBar,
    timings: BTreeMap<&'static str, u64>,
    t: Instant,
    /// the stage's profiled span (scan --profile)
    span: Option<subsidy_model::trace::Timer>,
}

impl Stage {
    fn new(quiet: bool) -> Stage {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(Some(7), ProgressDrawTarget::stderr())
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
                .expect("valid template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Stage {
            bar,
            timings: BTreeMap::new(),
            t: Instant::now(),
            span: None,
        }
    }
    fn start(&mut self, msg: &'static str) {
        self.bar.set_message(msg);
        self.t = Instant::now();
        self.span = Some(subsidy_model::trace::begin("stage", ""));
    }
    fn done(&mut self, name: &'static str) {
        if let Some(span) = self.span.take() {
            // named now: the stage's name is given when it ends
            span.end_as(name);
        }
        if subsidy_model::trace::enabled() {
            let peak = subsidy_model::trace::peak_rss_mib().unwrap_or(0);
            subsidy_model::trace::lap(&format!("stage {name} (peak so far {peak} MiB)"), self.t);
        }
        self.timings
            .insert(name, self.t.elapsed().as_millis() as u64);
        self.bar.inc(1);
    }
}

impl ScanArgs {
    /// The arguments of the scan a manifest.json records, writing to `out` again (for
    /// `subsidy-audit sample`); `package` overrides the recorded path.
    pub fn replay(
        m: &serde_json::Value,
        out: PathBuf,
        package: Option<PathBuf>,
        quiet: bool,
    ) -> Result<ScanArgs, Failure> {
        let p = &m["parameters"];
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let package = package
            .or_else(|| text(&m["package"]).map(PathBuf::from))
            .context("manifest.json names no package: give --package")?;
        if !package.is_dir() {
            return Err(Failure {
                code: Exit::Input.code(),
                error: anyhow::anyhow!(
                    "the scanned package {} is not here (run from the folder the scan ran in, or give --package)",
                    package.display()
                ),
            });
        }
        let anomaly = match p["anomaly"]["method"].as_str() {
            Some("zscore") => Anomaly::Zscore,
            Some("none") => Anomaly::None,
            _ => Anomaly::Cluster,
        };
        Ok(ScanArgs {
            package: Some(package),
            out,
            encoding: text(&p["encoding"]).unwrap_or_else(|| "auto".into()),
            fail_on: None,
            quiet,
            rules: text(&p["rules"])
                .filter(|r| r != "<embedded>")
                .map(PathBuf::from),
            as_of: text(&p["as_of"]),
            anomaly,
            reviews: text(&p["reviews"]["file"]).map(PathBuf::from),
            lang: if p["lang"].as_str() == Some("en") {
                ReportLang::En
            } else {
                ReportLang::Zh
            },
            reveal_pii: p["reveal_pii"].as_bool().unwrap_or(false),
            profile: false,
            preview: p["preview"].as_bool().unwrap_or(false),
        })
    }
}

pub fn run(a: ScanArgs) -> Result<u8, Failure> {
    run_with(a, None)
}

/// A scan, and with `sampling` the audit sample drawn (and evaluated) on its outputs.
pub fn run_with(a: ScanArgs, sampling: Option<crate::sample::Request>) -> Result<u8, Failure> {
    let started = chrono::Local::now();
    let pkg_dir = a.package.clone().unwrap_or_else(crate::default_package);
    let encoding: EncodingChoice = a.encoding.parse().map_err(anyhow::Error::msg)?;
    let fail_on = a
        .fail_on
        .as_deref()
        .map(|s| {
            Severity::parse(s).with_context(|| {
                format!("unknown severity `{s}` for --fail-on (info, low, medium, high, critical)")
            })
        })
        .transpose()?;
    let (pack, warnings) = crate::pack::load(a.rules.as_deref())?.for_scan(a.preview);
    if !a.quiet {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    if a.profile {
        subsidy_model::trace::start_profile();
    }
    let mut stage = Stage::new(a.quiet);

    stage.start("reading the package");
    let mut pkg = subsidy_ingest::read_package(&pkg_dir, &Options { encoding })
        .with_context(|| format!("reading package {}", pkg_dir.display()))?;
    if let Some(r) = &sampling {
        crate::sample::check_inputs(r, &pkg.inputs)?;
    }
    stage.done("ingest");

    stage.start("resolving identities");
    let as_of = match &a.as_of {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("--as-of `{d}` is not a date YYYY-MM-DD"))?,
        None => latest_claim_date(&pkg).unwrap_or_else(|| chrono::Local::now().date_naive()),
    };
    let link_cfg: subsidy_scoring::identity::LinkConfig = pack
        .identity
        .clone()
        .try_into()
        .context("the rule pack's [identity] section")?;
    let (identities, _) =
        subsidy_scoring::identity::resolve_with(pkg.frame(Table::Persons), as_of, &link_cfg)
            .context("resolving identities")?;
    stage.done("identities");

    // the one pass over the sign-ins, read by the anomaly features and the rule views alike
    stage.start("reading the sign-ins");
    let sign_ins = anyhow::Context::context(
        subsidy_rules::views::sign_ins(&pkg.tables, &subsidy_rules::view_settings(&pack)),
        "the pass over the sign-ins",
    )?;
    stage.done("sign-ins");

    stage.start("scoring anomalies");
    let detector = a.anomaly.params();
    let (mut detected, anomaly_summary) =
        subsidy_scoring::anomaly::detect(&pkg.tables, Some(&sign_ins.classes), &detector)
            .context("scoring anomalies")?;
    stage.done("anomalies");

    stage.start("scoring training effectiveness");
    let eff_cfg: subsidy_scoring::effectiveness::Config = pack
        .effectiveness
        .clone()
        .try_into()
        .context("the rule pack's [effectiveness] section")?;
    let scorecard = subsidy_scoring::effectiveness::score(&pkg.tables, as_of, &eff_cfg)
        .context("scoring training effectiveness")?;
    detected.extend(scorecard.findings.iter().cloned());
    stage.done("effectiveness");

    stage.start("running rules");
    let reviews = match &a.reviews {
        Some(p) => subsidy_rules::reviews::read(p).map_err(|e| Failure {
            code: Exit::Input.code(),
            error: e.into(),
        })?,
        None => Default::default(),
    };
    let mask = crate::reports::masker(&pkg, a.reveal_pii);
    // what the reports name beside codes, kept before the rules take the frames (cheap: a
    // frame's clone shares its columns)
    let named = crate::reports::Named::keep(&pkg);
    let outcome = audit(
        &mut pkg,
        &pack,
        &identities,
        as_of,
        &detected,
        Some(sign_ins),
        &reviews,
    )?;
    let alarms = subsidy_rules::alarm::alarms(&pack, &outcome.runs);
    let applied = &outcome.reviewed;
    let marks: std::collections::BTreeMap<String, subsidy_report::html::ReviewMark> = applied
        .marks
        .iter()
        .map(|(id, m)| {
            (
                id.clone(),
                subsidy_report::html::ReviewMark {
                    state: m.state.as_str().to_string(),
                    detail: m.detail.clone(),
                },
            )
        })
        .collect();
    let (all, dismissed, recoveries) = (
        &outcome.findings,
        &outcome.dismissed,
        outcome.recoveries.clone(),
    );
    let parties = subsidy_scoring::effectiveness::with_scores(
        &outcome.parties,
        &scorecard.institution_score,
    )?;
    // the views (gigabytes at scale) are not read again: free them before the outputs
    drop(outcome.views);
    let findings = public_findings(all)?;
    let dismissed = public_findings(dismissed)?;
    stage.done("rules");

    stage.start("writing outputs");
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut outputs = Vec::new();
    for (name, cols, df) in [
        ("findings", FINDINGS, &findings),
        ("recoveries", RECOVERIES, &recoveries),
        ("parties", PARTIES, &parties),
        ("identities", IDENTITIES, &identities),
        ("effectiveness", EFFECTIVENESS, &scorecard.frame),
    ] {
        write_table(&a.out, name, cols, df).with_context(|| format!("writing {name}"))?;
        outputs.push(format!("{name}.csv"));
        outputs.push(format!("{name}.parquet"));
    }
    outputs.extend(write_rejected(&a.out, &pkg.rejected).context("writing rejected rows")?);
    let template = a.out.join("reviews_template.csv");
    subsidy_rules::reviews::write_template(&template, &findings)
        .with_context(|| format!("writing {}", template.display()))?;
    outputs.push("reviews_template.csv".into());
    stage.done("write");

    let sampled = match &sampling {
        Some(r) => {
            stage.start("sampling");
            let s = crate::sample::perform(&a.out, r, &findings, &recoveries, &named, a.quiet)?;
            outputs.extend(s.outputs.iter().cloned());
            stage.done("sample");
            Some(s)
        }
        None => None,
    };
    let sample_view = sampled.as_ref().map(crate::sample::Sampled::view);

    stage.start("writing reports");
    outputs.extend(crate::reports::write(&crate::reports::Context {
        out: &a.out,
        package: &pkg_dir.display().to_string(),
        as_of,
        pack: &pack,
        findings: &findings,
        recoveries: &recoveries,
        parties: &parties,
        identities: &identities,
        dismissed: &dismissed,
        marks: &marks,
        rejected: &pkg.rejected,
        lang: a.lang,
        mask: &mask,
        alarms: &alarms,
        layout: Default::default(),
        named: &named,
        inputs: &pkg.inputs,
        effectiveness: &scorecard.frame,
        sample: sample_view.as_ref(),
    })?);
    stage.done("reports");
    stage.bar.finish_and_clear();

    let n_findings = findings.height() as u64;
    let mut params = BTreeMap::new();
    params.insert("encoding", serde_json::json!(a.encoding));
    params.insert("fail_on", serde_json::json!(a.fail_on));
    params.insert("as_of", serde_json::json!(as_of.to_string()));
    params.insert("anomaly", serde_json::json!(detector));
    params.insert(
        "reviews",
        serde_json::json!({
            "file": a.reviews.as_ref().map(|p| p.display().to_string()),
            "read": reviews.len(),
            "dismissed_in_force": applied.suppressed.len(),
            "not_raised_this_scan": applied.stale,
        }),
    );
    params.insert(
        "lang",
        serde_json::json!(match a.lang {
            ReportLang::Zh => "zh",
            ReportLang::En => "en",
        }),
    );
    params.insert("reveal_pii", serde_json::json!(a.reveal_pii));
    params.insert("preview", serde_json::json!(a.preview));
    params.insert(
        "rules",
        serde_json::json!(
            a.rules
                .as_ref()
                .map_or_else(|| "<embedded>".to_string(), |p| p.display().to_string())
        ),
    );
    let manifest = Manifest {
        engine: "subsidy-audit",
        engine_version: subsidy_model::ENGINE_VERSION,
        rule_pack: Some(RulePackInfo {
            version: pack.version.clone(),
            sha256: pack.sha256.clone(),
            rules: pack.rules.len(),
        }),
        rule_runs: outcome.runs.clone(),
        alarms: alarms.clone(),
        anomalies: serde_json::json!(anomaly_summary),
        package: pkg_dir.display().to_string(),
        started_at: started.to_rfc3339(),
        finished_at: chrono::Local::now().to_rfc3339(),
        parameters: params,
        rejected_total: pkg.rejected.len() as u64,
        rejected: pkg.rejected_counts(),
        inputs: pkg.inputs.clone(),
        ignored_files: pkg.ignored_files.clone(),
        outputs,
        findings: n_findings,
        timings_ms: stage.timings.clone(),
        profile: a.profile.then(subsidy_model::trace::take_profile),
        sample: sampled.as_ref().map(|s| s.manifest.clone()),
    };
    write_json(&a.out.join("manifest.json"), &manifest)?;
    if let Some(spans) = &manifest.profile {
        eprint!(
            "profile (wall time; peak resident memory inside each span):\n{}",
            subsidy_model::trace::profile_table(spans)
        );
    }

    if !a.quiet {
        let rows: u64 = pkg.inputs.iter().map(|i| i.accepted).sum();
        eprintln!(
            "scanned {} ({} tables, {} rows accepted, {} rejected) → {}",
            pkg_dir.display(),
            pkg.present.len(),
            rows,
            pkg.rejected.len(),
            a.out.display()
        );
        let total: i64 = recoveries
            .column("recover_amount")?
            .i64()?
            .sum()
            .unwrap_or(0);
        let skipped: Vec<&str> = outcome
            .runs
            .iter()
            .filter(|r| r.skipped.is_some())
            .map(|r| r.id.as_str())
            .collect();
        eprintln!(
            "  findings: {n_findings} from {} rules; {} claims to recover, {} yuan; {} responsible parties",
            pack.rules.len(),
            recoveries.height(),
            subsidy_model::money::format_yuan(total),
            parties.height()
        );
        if !skipped.is_empty() {
            eprintln!("  skipped (data absent): {}", skipped.join(", "));
        }
        for al in &alarms {
            eprintln!("  ALARM {}", al.message);
        }
        if !pkg.rejected.is_empty() {
            eprintln!("  rejected rows are in {}/rejected/", a.out.display());
        }
    }
    if let Some(s) = &sampled {
        crate::sample::summarise(s, &a.out, a.quiet);
    }
    let worst = findings_at_or_above(&findings, fail_on)?;
    Ok(if worst {
        Exit::Findings.code()
    } else {
        Exit::Ok.code()
    })
}

fn findings_at_or_above(findings: &DataFrame, fail_on: Option<Severity>) -> Result<bool, Failure> {
    let Some(min) = fail_on else { return Ok(false) };
    let sev = findings.column("severity")?.str()?.clone();
    Ok(sev
        .iter()
        .flatten()
        .filter_map(Severity::parse)
        .any(|s| s >= min))
}

/// The latest claim date: the default reference date.
fn latest_claim_date(pkg: &Package) -> Option<chrono::NaiveDate> {
    let c = pkg.frame(Table::Claims).column("claimed_on").ok()?;
    let days = c.date().ok()?.physical().max()?;
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).map(|e| e + chrono::Duration::days(i64::from(days)))
}

/// Runs the pack over a read package, taking its frames (the package keeps its inputs,
/// rejections and the list of tables present).
pub fn audit(
    pkg: &mut Package,
    pack: &subsidy_rules::Pack,
    identities: &DataFrame,
    as_of: chrono::NaiveDate,
    detected: &[subsidy_model::output::DetectorFinding],
    sign_ins: Option<subsidy_rules::sign_ins::SignInDays>,
    reviews: &subsidy_rules::reviews::Reviews,
) -> Result<subsidy_rules::Outcome, Failure> {
    anyhow::Context::context(
        subsidy_rules::run(
            pack,
            std::mem::take(&mut pkg.tables),
            &pkg.present,
            Some(identities),
            as_of,
            detected,
            sign_ins,
            reviews,
        ),
        "running the rule pack",
    )
    .map_err(Failure::from)
}

/// The findings in the contract's columns (internal `_` columns dropped).
pub fn public_findings(f: &DataFrame) -> Result<DataFrame, Failure> {
    let cols: Vec<&str> = FINDINGS.iter().map(|(n, _)| *n).collect();
    Ok(f.select(cols)?)
}

fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<(), Failure> {
    let mut s = serde_json::to_string_pretty(v).context("serialising manifest")?;
    s.push('\n');
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
