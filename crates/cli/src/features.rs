//! `subsidy-audit features`: the anomaly detectors' inputs and scores, one row per class and per
//! evaluation sitting, so a reviewer can see why an entity was or was not flagged.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use polars::prelude::*;

use crate::Failure;
use crate::scan::Anomaly;

#[derive(Args)]
pub struct FeaturesArgs {
    /// The package folder (default: the bundled demo).
    package: Option<PathBuf>,
    /// Output folder: class_features.csv and sitting_features.csv.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Detector whose scores are written.
    #[arg(long, value_enum, default_value_t = Anomaly::Cluster)]
    anomaly: Anomaly,
}

pub fn run(a: FeaturesArgs) -> Result<u8, Failure> {
    let dir = a.package.clone().unwrap_or_else(crate::default_package);
    let pkg = subsidy_ingest::read_package(&dir, &Default::default())
        .with_context(|| format!("reading package {}", dir.display()))?;
    let (classes, sittings) =
        subsidy_scoring::anomaly::scores(&pkg.tables, &a.anomaly.params()).context("scoring")?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    for (name, mut df) in [("class_features", classes), ("sitting_features", sittings)] {
        let path = a.out.join(format!("{name}.csv"));
        let mut f =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        anyhow::Context::with_context(CsvWriter::new(&mut f).finish(&mut df), || {
            format!("writing {}", path.display())
        })?;
        crate::out!("{}: {} rows", path.display(), df.height());
    }
    Ok(0)
}
