//! `subsidy-audit`: audits vocational skill-training subsidy claims.
//!
//! Exit codes: 0 done; 1 findings at or above `--fail-on`; 2 unusable input or runtime error;
//! 3 invalid rules.

/// Prints a line to stdout; a closed pipe (`| head`) is not an error.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}
pub(crate) use out;

// jemalloc instead of glibc's malloc: with polars' worker threads, glibc's per-thread arenas hold
// freed memory apart (the l scan peaked at 12 GiB with them). Freed pages go back to the system
// after a second (dirty decay 1 s, purged by a background thread): polars frees and allocates
// large buffers in quick succession, and with decay 0 each was zeroed afresh by the kernel. At l
// that took the system time from 49 s to 36 s and the wall time from 99.6 s to 90.5 s (means of
// four runs each), for a peak of 7,982 MiB instead of 7,873 (benches/runs/2026-12-03-scan-l.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's start-up options, read from this symbol before the first allocation (the
/// `_RJEM_MALLOC_CONF` environment variable still overrides them).
// SAFETY: a NUL-terminated byte string with a static lifetime, the `const char *` jemalloc reads
#[allow(unsafe_code)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

mod bench;
mod evaluate;
mod features;
mod generate;
mod manifest;
mod pack;
mod reports;
mod rules_cmd;
mod sample;
mod scan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The exit codes, one meaning each (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// done, and nothing asked to fail
    Ok = 0,
    /// `scan --fail-on`: a finding at or above that severity
    Findings = 1,
    /// unusable input, a bad argument, or a runtime error
    Input = 2,
    /// the rule pack is invalid, or a rule's fixture test failed
    Rules = 3,
    /// `rules docs --check`: docs/rules.md is stale
    StaleDocs = 4,
    /// `rules diff --fail-on-change`: the findings changed
    DiffChanged = 5,
    /// `evaluate`: a score below its `--min-*` threshold
    BelowThreshold = 6,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

#[derive(Parser)]
#[command(
    name = "subsidy-audit",
    version,
    about = "Audits vocational skill-training subsidy claims (国就劳发〔2025〕4号): finds fake training, fake evaluations and fraudulent or duplicate claims, and says what to recover from whom."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan an audit data package and write findings, recoveries, parties, identities and a manifest.
    Scan(scan::ScanArgs),
    /// Generate a synthetic audit package with planted, labelled fraud.
    Generate(generate::GenerateArgs),
    /// Time a package read (scale harness).
    #[command(name = "bench-ingest", hide = true)]
    BenchIngest(bench::BenchArgs),
    /// Score a scan's findings against a generated package's labels.
    Evaluate(evaluate::EvaluateArgs),
    /// Write the anomaly detectors' features and scores per class and per evaluation sitting.
    Features(features::FeaturesArgs),
    /// Draw a seeded audit sample of a scan's recoveries or findings for field verification
    /// (MUS, stratified or random), and with `sample evaluate` project the verified sample onto
    /// the whole.
    Sample(sample::SampleArgs),
    /// Check, test, document and compare rule packs.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCmd),
}

/// An error with the exit code it should end the program with.
#[derive(Debug)]
pub struct Failure {
    /// exit code
    pub code: u8,
    /// the error chain
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: Exit::Input.code(),
            error: e.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => scan::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Rules(c) => rules_cmd::run(c),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Features(a) => features::run(a),
        Command::Sample(a) => sample::run(a),
        Command::BenchIngest(a) => bench::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

/// The demo package: `fixtures/demo` under the working directory, else beside the sources.
pub fn default_package() -> PathBuf {
    let here = PathBuf::from("fixtures/demo");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo")
}
