//! `subsidy-audit bench-ingest` (hidden): the scale harness's probe. Reads a package either the
//! way the engine does (`--mode ingest`) or with a bare polars read of the same files
//! (`--mode bare`: CSV with schema inference, Parquet as stored; no validation), and prints the
//! wall time, rows and this process's peak resident memory. One mode per process, so that each
//! peak is its own.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use polars::prelude::*;

use crate::Failure;

#[derive(Args)]
pub struct BenchArgs {
    /// the package
    package: PathBuf,
    /// `ingest` or `bare`
    #[arg(long, default_value = "ingest")]
    mode: String,
}

/// The contract's columns as polars reads them bare: text for text, enums and ids; money as a
/// float (yuan); dates and datetimes parsed.
fn bare_schema(t: subsidy_model::contract::Table) -> Schema {
    use subsidy_model::contract::ColType;
    t.spec()
        .columns
        .iter()
        .map(|c| {
            let dt = match c.ty {
                ColType::Money | ColType::Number { .. } => DataType::Float64,
                ColType::Int { .. } => DataType::Int64,
                ColType::Date => DataType::Date,
                ColType::Datetime => DataType::Datetime(TimeUnit::Milliseconds, None),
                ColType::Bool => DataType::Boolean,
                _ => DataType::String,
            };
            Field::new(c.name.into(), dt)
        })
        .collect()
}

pub fn run(a: BenchArgs) -> Result<u8, Failure> {
    let t = Instant::now();
    // both modes end holding every table in memory; the clock stops before they are freed
    let frames: Vec<DataFrame> = match a.mode.as_str() {
        "ingest" => subsidy_ingest::read_package(&a.package, &Default::default())?
            .tables
            .into_values()
            .collect(),
        "bare" => {
            let mut frames = Vec::new();
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&a.package)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for p in entries {
                let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                let Some(table) = subsidy_model::contract::Table::from_name(stem) else {
                    continue;
                };
                let df = match p.extension().and_then(|x| x.to_str()) {
                    // the contract's types, given up front (no inference, no validation)
                    Some("csv") => CsvReadOptions::default()
                        .with_has_header(true)
                        .with_schema(Some(std::sync::Arc::new(bare_schema(table))))
                        .try_into_reader_with_file_path(Some(p.clone()))?
                        .finish()?,
                    Some("parquet") => {
                        let t = Instant::now();
                        let df = ParquetReader::new(std::fs::File::open(&p)?).finish()?;
                        subsidy_model::trace::lap(&format!("bare {}", p.display()), t);
                        df
                    }
                    _ => continue,
                };
                frames.push(df);
            }
            frames
        }
        other => return Err(anyhow::anyhow!("unknown mode `{other}` (ingest or bare)").into()),
    };
    let secs = t.elapsed().as_secs_f64();
    let rows: usize = frames.iter().map(DataFrame::height).sum();
    crate::out!(
        "mode={} rows={rows} seconds={secs:.3} peak_rss_mib={}",
        a.mode,
        subsidy_model::trace::peak_rss_mib().unwrap_or(0)
    );
    Ok(0)
}
