//! Test support: the rule-fixture harness behind `subsidy-audit rules test` ([`fixtures`]), the
//! scores against a generated package's labels behind `subsidy-audit evaluate` ([`evaluation`]),
//! and a reader of the CSV files a scan or the generator writes ([`read_rows`]). The generator's
//! labels have their own typed reader, `subsidy_synth::labels`.

pub mod evaluation;
pub mod fixtures;

use std::collections::BTreeMap;
use std::path::Path;

/// Why a fixture run could not be carried out (a fixture that fails is not an error: it is in
/// the [`fixtures::Summary`]).
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// what went wrong, with where
    #[error("{0}")]
    Message(String),
    /// file system trouble
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// a CSV that cannot be read or written
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// a frame operation failed
    #[error(transparent)]
    Frame(#[from] polars::prelude::PolarsError),
    /// a package that cannot be read
    #[error(transparent)]
    Ingest(#[from] subsidy_ingest::IngestError),
    /// identity resolution failed
    #[error(transparent)]
    Scoring(#[from] subsidy_scoring::ScoringError),
    /// the generator failed
    #[error(transparent)]
    Synth(#[from] subsidy_synth::SynthError),
    /// labels.csv cannot be read
    #[error(transparent)]
    Labels(#[from] subsidy_synth::labels::LabelError),
}

impl TestError {
    /// An error from a message.
    pub fn msg(m: String) -> TestError {
        TestError::Message(m)
    }
}

/// Adds where an error happened, as the message's start.
pub(crate) trait Context<T> {
    fn context(self, what: &str) -> Result<T, TestError>;
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T, TestError>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T, TestError> {
        self.map_err(|e| TestError::Message(format!("{what}: {e}")))
    }
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T, TestError> {
        self.map_err(|e| TestError::Message(format!("{}: {e}", what())))
    }
}

/// Reads a CSV the generator or the engine wrote (a package table, an output) as rows of column
/// → value, exactly as written: how tests look at what was written.
pub fn read_rows(path: &Path) -> Result<Vec<BTreeMap<String, String>>, TestError> {
    read(path, false)
}

/// [`read_rows`], with each cell's spreadsheet guard (a leading `'`, DATA_CONTRACT outputs) taken
/// off: the values as a reader of the CSV means them.
pub fn read_rows_unguarded(path: &Path) -> Result<Vec<BTreeMap<String, String>>, TestError> {
    read(path, true)
}

fn read(path: &Path, unguard: bool) -> Result<Vec<BTreeMap<String, String>>, TestError> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    let mut out = Vec::new();
    for row in r.records() {
        let row = row?;
        out.push(
            header
                .iter()
                .cloned()
                .zip(row.iter().map(|s| {
                    if unguard {
                        s.trim_start_matches('\'').to_string()
                    } else {
                        s.to_string()
                    }
                }))
                .collect(),
        );
    }
    Ok(out)
}
