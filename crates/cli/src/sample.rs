//! `subsidy-audit sample`: a seeded sample of a scan's recoveries or findings for field
//! verification (`sample OUT …`), and the projection of the verified sample onto the whole
//! (`sample evaluate OUT --reviews FILE`).
//!
//! Both steps replay the scan that wrote OUT, as its manifest.json records it (package, rule
//! pack, reference date, detector, reviews, language), so that the sample sheet and the
//! evaluation land in report.xlsx and report.html beside everything else; the outputs are the
//! same bytes as the scan's. A package whose files changed since is refused.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use polars::prelude::DataFrame;
use sha2::Digest as _;
use subsidy_model::output::SAMPLE;
use subsidy_report::tables::{write_csv, write_table};
use subsidy_sampling::frames::StrataBy;
use subsidy_sampling::{Evaluation, Params, Sample, Size, Source, fieldwork};

use crate::{Exit, Failure};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SampleArgs {
    #[command(subcommand)]
    cmd: Option<SampleCmd>,
    #[command(flatten)]
    draw: DrawArgs,
}

#[derive(Subcommand)]
enum SampleCmd {
    /// Project the fieldwork results (a reviews.csv with confirmed_amount) onto the population:
    /// the point estimate and upper misstatement limit (MUS), or the stratified estimate and its
    /// confidence interval, in one sentence a report can quote.
    Evaluate(EvaluateArgs),
}

#[derive(Args)]
struct DrawArgs {
    /// The scan's output folder.
    #[arg(required = true)]
    out: Option<PathBuf>,
    /// mus (monetary-unit), stratified (Neyman allocation) or random (simple random).
    #[arg(long, value_enum, default_value_t = MethodArg::Mus)]
    method: MethodArg,
    /// Draw from recoveries.csv (the claims to recover) or findings.csv.
    #[arg(long, value_enum, default_value_t = SourceArg::Recoveries)]
    from: SourceArg,
    /// Confidence level: 1 − the risk of incorrect acceptance.
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
    /// Tolerable misstatement in yuan: the most the flagged total may overstate what is
    /// recoverable. Sets the sample size (or give --size).
    #[arg(long, conflicts_with = "size")]
    tolerable: Option<String>,
    /// The sample size, instead of --tolerable (MUS: monetary units, hence the interval).
    #[arg(long)]
    size: Option<usize>,
    /// Expected misstatement in yuan (with --tolerable).
    #[arg(long, default_value = "0")]
    expected_error: String,
    /// Seed of every random choice; recorded in the plan.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Strata of a stratified sample (each then cut into amount bands).
    #[arg(long, value_enum, default_value_t = StrataArg::Category)]
    strata: StrataArg,
    /// The package, when it is no longer where the manifest says (run from another folder).
    #[arg(long)]
    package: Option<PathBuf>,
    /// No progress or summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct EvaluateArgs {
    /// The output folder `sample` drew in.
    out: PathBuf,
    /// Fieldwork results: reviews.csv with finding_id, decision (confirmed|dismissed|
    /// investigating), claim_id for a claim, confirmed_amount in yuan
    /// (sample_reviews_template.csv has the rows).
    #[arg(long)]
    reviews: PathBuf,
    /// The package, when it is no longer where the manifest says.
    #[arg(long)]
    package: Option<PathBuf>,
    /// No progress or summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    Mus,
    Stratified,
    Random,
}

#[derive(Clone, Copy, ValueEnum)]
enum SourceArg {
    Recoveries,
    Findings,
}

#[derive(Clone, Copy, ValueEnum)]
enum StrataArg {
    Category,
    Region,
    Party,
}

/// What the replayed scan does besides: draw, or draw again and evaluate.
pub enum Job {
    /// draw and write the sample
    Draw,
    /// draw again (the same sample), then project the fieldwork in `reviews`
    Evaluate {
        /// the fieldwork file
        reviews: PathBuf,
    },
}

/// A sampling request for the replayed scan.
pub struct Request {
    /// the parameters
    pub params: Params,
    /// the strata
    pub strata: StrataBy,
    /// what to do
    pub job: Job,
    /// the input files the manifest recorded: (file, sha256)
    pub inputs: Vec<(String, String)>,
}

/// What sampling gave, for the reports and the manifest.
pub struct Sampled {
    pub sample: Sample,
    pub frame: DataFrame,
    pub strata: StrataBy,
    pub evaluation: Option<Evaluation>,
    pub manifest: serde_json::Value,
    pub outputs: Vec<String>,
}

impl Sampled {
    /// The reports' view of it.
    pub fn view(&self) -> subsidy_report::sample::SampleView<'_> {
        subsidy_report::sample::SampleView {
            frame: &self.frame,
            plan: &self.sample.plan,
            strata_by: self.strata,
            evaluation: self.evaluation.as_ref(),
        }
    }
}

fn input_failure(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: Exit::Input.code(),
        error: e.into(),
    }
}

fn read_manifest(out: &Path) -> Result<serde_json::Value, Failure> {
    let path = out.join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| {
            format!(
                "reading {}: sample works on a scan's output folder (run `subsidy-audit scan PKG --out {}` first)",
                path.display(),
                out.display()
            )
        })
        .map_err(input_failure)?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", path.display()))
        .map_err(input_failure)
}

fn recorded_inputs(m: &serde_json::Value) -> Vec<(String, String)> {
    m["inputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| Some((i["file"].as_str()?.into(), i["sha256"].as_str()?.into())))
                .collect()
        })
        .unwrap_or_default()
}

pub fn run(a: SampleArgs) -> Result<u8, Failure> {
    match a.cmd {
        Some(SampleCmd::Evaluate(e)) => evaluate(e),
        None => draw(a.draw),
    }
}

fn draw(a: DrawArgs) -> Result<u8, Failure> {
    let out = a.out.clone().unwrap_or_default();
    let manifest = read_manifest(&out)?;
    let yuan = |flag: &str, v: &str| {
        subsidy_model::money::parse_yuan(v).map_err(|e| {
            input_failure(anyhow::anyhow!(
                "--{flag} `{v}`: {e} (give yuan, e.g. 50000)"
            ))
        })
    };
    let size = match (&a.tolerable, a.size) {
        (Some(t), _) => Size::Tolerable {
            tolerable: yuan("tolerable", t)?,
            expected: yuan("expected-error", &a.expected_error)?,
        },
        (None, Some(n)) => Size::Fixed(n),
        (None, None) => {
            return Err(input_failure(anyhow::anyhow!(
                "give --tolerable YUAN (the size follows from it) or --size N"
            )));
        }
    };
    let params = Params {
        method: match a.method {
            MethodArg::Mus => subsidy_sampling::Method::Mus,
            MethodArg::Stratified => subsidy_sampling::Method::Stratified,
            MethodArg::Random => subsidy_sampling::Method::Random,
        },
        source: match a.from {
            SourceArg::Recoveries => Source::Recoveries,
            SourceArg::Findings => Source::Findings,
        },
        confidence: a.confidence,
        size,
        seed: a.seed,
    };
    // refuse bad parameters before the replay, not after it
    params.check().map_err(input_failure)?;
    let request = Request {
        params,
        strata: match a.strata {
            StrataArg::Category => StrataBy::Category,
            StrataArg::Region => StrataBy::Region,
            StrataArg::Party => StrataBy::Party,
        },
        job: Job::Draw,
        inputs: recorded_inputs(&manifest),
    };
    let args = crate::scan::ScanArgs::replay(&manifest, out, a.package, a.quiet)?;
    crate::scan::run_with(args, Some(request))
}

fn evaluate(a: EvaluateArgs) -> Result<u8, Failure> {
    let manifest = read_manifest(&a.out)?;
    let s = &manifest["sample"];
    if s.is_null() {
        return Err(input_failure(anyhow::anyhow!(
            "{}/manifest.json records no sample: draw one with `subsidy-audit sample {} --tolerable YUAN` first",
            a.out.display(),
            a.out.display()
        )));
    }
    let params: Params = serde_json::from_value(s["plan"]["params"].clone())
        .context("the sample plan in manifest.json")
        .map_err(input_failure)?;
    let strata: StrataBy = serde_json::from_value(s["strata_by"].clone())
        .context("the sample plan in manifest.json")
        .map_err(input_failure)?;
    if !a.reviews.is_file() {
        return Err(input_failure(anyhow::anyhow!(
            "--reviews {}: no such file",
            a.reviews.display()
        )));
    }
    let request = Request {
        params,
        strata,
        job: Job::Evaluate { reviews: a.reviews },
        inputs: recorded_inputs(&manifest),
    };
    let args = crate::scan::ScanArgs::replay(&manifest, a.out, a.package, a.quiet)?;
    crate::scan::run_with(args, Some(request))
}

/// Checks the package read is the one the manifest recorded.
pub fn check_inputs(r: &Request, read: &[subsidy_ingest::InputFile]) -> Result<(), Failure> {
    let now: std::collections::BTreeMap<&str, &str> = read
        .iter()
        .map(|f| (f.file.as_str(), f.sha256.as_str()))
        .collect();
    for (file, sha) in &r.inputs {
        if now.get(file.as_str()) != Some(&sha.as_str()) {
            return Err(input_failure(anyhow::anyhow!(
                "the package's {file} is not the one the scan read (SHA-256 differs or the file is gone): scan again, then sample"
            )));
        }
    }
    if now.len() != r.inputs.len() {
        return Err(input_failure(anyhow::anyhow!(
            "the package holds {} input files, the scan read {}: scan again, then sample",
            now.len(),
            r.inputs.len()
        )));
    }
    Ok(())
}

/// Draws (and evaluates) on the replayed scan's outputs; writes sample.csv/.parquet and the
/// fieldwork template.
pub fn perform(
    out: &Path,
    r: &Request,
    findings: &DataFrame,
    recoveries: &DataFrame,
    named: &crate::reports::Named,
    quiet: bool,
) -> Result<Sampled, Failure> {
    let regions = named.region_codes();
    let region_of = |inst: &str| regions.get(inst).cloned();
    let pop = subsidy_sampling::frames::population(
        r.params.source,
        r.strata,
        findings,
        recoveries,
        &region_of,
    )?;
    let sample = subsidy_sampling::draw(&pop.units, &r.params).map_err(input_failure)?;
    let frame = subsidy_sampling::frames::sample_frame(&pop, &sample)?;
    let mut outputs = Vec::new();
    let mut evaluation = None;
    let mut fieldwork_json = serde_json::Value::Null;
    match &r.job {
        Job::Draw => {
            write_table(out, "sample", SAMPLE, &frame).context("writing sample.csv")?;
            let template = out.join("sample_reviews_template.csv");
            fieldwork::write_template(&template, &pop, &sample)
                .with_context(|| format!("writing {}", template.display()))?;
        }
        Job::Evaluate { reviews } => {
            // the redraw must be the sample the fieldwork verified
            let redraw = out.join(".sample.redraw.csv");
            write_csv(&redraw, SAMPLE, &frame).context("redrawing the sample")?;
            let same = std::fs::read(&redraw).ok() == std::fs::read(out.join("sample.csv")).ok();
            let _ = std::fs::remove_file(&redraw);
            if !same {
                return Err(input_failure(anyhow::anyhow!(
                    "{}/sample.csv is not the sample the recorded plan draws from these outputs: draw it again with `subsidy-audit sample`",
                    out.display()
                )));
            }
            let rows: Vec<fieldwork::Row> = subsidy_rules::reviews::read_rows(reviews)
                .map_err(input_failure)?
                .into_iter()
                .map(|r| {
                    use subsidy_rules::reviews::Decision as D;
                    fieldwork::Row {
                        line: r.line,
                        finding_id: r.finding_id,
                        claim_id: r.claim_id,
                        decision: match r.review.decision {
                            D::Confirmed => fieldwork::Decision::Confirmed,
                            D::Dismissed => fieldwork::Decision::Dismissed,
                            D::Investigating => fieldwork::Decision::Investigating,
                        },
                        confirmed_amount: r.confirmed_amount,
                    }
                })
                .collect();
            let resolved = fieldwork::resolve(&pop, &sample, &rows);
            if resolved.unmatched > 0 && !quiet {
                eprintln!(
                    "warning: {} rows of {} bear on no sampled unit and are not used",
                    resolved.unmatched,
                    reviews.display()
                );
            }
            let e = subsidy_sampling::evaluate(&pop.units, &sample, &resolved.results)
                .map_err(input_failure)?;
            fieldwork_json = serde_json::json!({
                "file": reviews.display().to_string(),
                "rows": rows.len(),
                "unmatched": resolved.unmatched,
            });
            evaluation = Some(e);
        }
    }
    outputs.extend([
        "sample.csv".to_string(),
        "sample.parquet".to_string(),
        "sample_reviews_template.csv".to_string(),
    ]);
    let sha = std::fs::read(out.join("sample.csv"))
        .map(|b| hex::encode(sha2::Sha256::digest(&b)))
        .unwrap_or_default();
    let manifest = serde_json::json!({
        "plan": sample.plan,
        "strata_by": r.strata,
        "sample_sha256": sha,
        "fieldwork": fieldwork_json,
        "evaluation": evaluation,
        "sentence_zh": evaluation.as_ref().map(|e| e.sentence(true)),
        "sentence_en": evaluation.as_ref().map(|e| e.sentence(false)),
    });
    Ok(Sampled {
        sample,
        frame,
        strata: r.strata,
        evaluation,
        manifest,
        outputs,
    })
}

/// The summary on stderr (and the result on stdout after fieldwork).
pub fn summarise(s: &Sampled, out: &Path, quiet: bool) {
    if let Some(e) = &s.evaluation {
        crate::out!("{}", e.sentence(true));
        crate::out!("{}", e.sentence(false));
    }
    if quiet {
        return;
    }
    let p = &s.sample.plan;
    let detail = match &p.mus {
        Some(m) => format!(
            ", interval ¥{}, start ¥{}",
            subsidy_model::money::format_yuan(m.interval),
            subsidy_model::money::format_yuan(m.start)
        ),
        None => format!(", {} strata", p.strata.len()),
    };
    eprintln!(
        "sample: {} from {} units (¥{}), seed {}: size {}, {} drawn{detail} → {}/sample.csv",
        p.params.method.as_str(),
        p.units,
        subsidy_model::money::format_yuan(p.amount),
        p.params.seed,
        p.size,
        p.drawn,
        out.display()
    );
    if s.evaluation.is_none() {
        eprintln!(
            "  fill in {}/sample_reviews_template.csv, then: subsidy-audit sample evaluate {} --reviews FILE",
            out.display(),
            out.display()
        );
    }
}
