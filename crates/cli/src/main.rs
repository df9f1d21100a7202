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
// at once (decay 0, purged by a background thread): 8.1 GiB at l, no slower (benches/runs/).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's start-up options, read from this symbol before the first allocation (the
/// `_RJEM_MALLOC_CONF` environment variable still overrides them).
// SAFETY: a NUL-terminated byte string with a static lifetime, the `const char *` jemalloc reads
#[allow(unsafe_code)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: &[u8; 57] = b"background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0\0";

mod bench;
mod evaluate;
mod features;
mod generate;
mod manifest;
mod pack;
mod reports;
mod reviews;
mod rules_cmd;
mod scan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: unusable input or runtime error.
pub const EXIT_INPUT: u8 = 2;
/// Exit code: invalid rules.
pub const EXIT_RULES: u8 = 3;

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
            code: EXIT_INPUT,
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
