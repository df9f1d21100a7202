//! `subsidy-audit generate`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use subsidy_synth::{Config, Format, Scale};

use crate::Failure;

#[derive(Args)]
pub struct GenerateArgs {
    /// Package size: demo (≈300 persons), s (10k), m (100k), l (1M), xl (10M).
    #[arg(long, default_value = "demo")]
    scale: String,
    /// Exact number of persons (overrides --scale).
    #[arg(long)]
    persons: Option<u64>,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 20250401)]
    seed: u64,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// csv or parquet.
    #[arg(long, default_value = "csv")]
    format: String,
    /// Scenario rate override, NAME=RATE (planted cases per person); repeatable.
    #[arg(long = "rate", value_name = "NAME=RATE")]
    rates: Vec<String>,
    /// A clean package: the same background data, nothing planted (labels.csv has a header only).
    #[arg(long, conflicts_with = "rates")]
    clean: bool,
    /// Print nothing.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(a: GenerateArgs) -> Result<u8, Failure> {
    let scale: Scale = a.scale.parse().map_err(anyhow::Error::msg)?;
    let format = match a.format.as_str() {
        "csv" => Format::Csv,
        "parquet" => Format::Parquet,
        other => return Err(anyhow::anyhow!("unknown format `{other}` (csv or parquet)").into()),
    };
    let mut rates = BTreeMap::new();
    for r in &a.rates {
        let Some((name, v)) = r.split_once('=') else {
            return Err(anyhow::anyhow!("--rate takes NAME=RATE, got `{r}`").into());
        };
        if subsidy_synth::scenario::scenario(name).is_none() {
            let names: Vec<&str> = subsidy_synth::scenario::SCENARIOS
                .iter()
                .map(|s| s.name)
                .collect();
            return Err(
                anyhow::anyhow!("unknown scenario `{name}`; known: {}", names.join(", ")).into(),
            );
        }
        rates.insert(
            name.to_string(),
            v.parse::<f64>().with_context(|| format!("rate `{v}`"))?,
        );
    }
    let mut cfg = Config::new(scale, a.seed);
    if let Some(p) = a.persons {
        cfg.persons = p;
    }
    cfg.format = format;
    cfg.rates = rates;
    if a.clean {
        cfg = cfg.without_scenarios();
    }
    let t = Instant::now();
    let summary = subsidy_synth::generate(&a.out, &cfg)
        .with_context(|| format!("generating into {}", a.out.display()))?;
    if !a.quiet {
        eprintln!(
            "generated {} persons (seed {}) into {} in {:.1}s",
            cfg.persons,
            cfg.seed,
            a.out.display(),
            t.elapsed().as_secs_f64()
        );
        for (t, n) in &summary.rows {
            eprintln!("  {t:<18} {n:>12} rows");
        }
        eprintln!(
            "  {:<18} {:>12} rows ({} scenarios planted)",
            "labels",
            summary.labels,
            summary.planted.len()
        );
    }
    Ok(0)
}
