//! Reading Parquet and Arrow IPC files. Columns already of their canonical type pass through
//! after the same checks; other columns are read as text and parsed like CSV cells.

use polars::prelude::*;
use rayon::prelude::*;
use subsidy_model::contract::TableSpec;

use crate::builder::{TableBuilder, TableRead};
use crate::error::IngestError;
use crate::reject::Rejection;

/// Which binary format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryFormat {
    /// Apache Parquet
    Parquet,
    /// Arrow IPC (Feather v2)
    Ipc,
}

/// Reads a Parquet or IPC file as table `spec`: (frame, rejected, rows read).
pub fn read_binary(
    spec: &TableSpec,
    file: &str,
    path: &std::path::Path,
    format: BinaryFormat,
) -> Result<TableRead, IngestError> {
    let bad = |e: PolarsError| IngestError::Unreadable {
        file: file.to_string(),
        message: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(|e| IngestError::Io {
        file: file.to_string(),
        source: e,
    })?;
    let df = match format {
        BinaryFormat::Parquet => ParquetReader::new(f).finish().map_err(bad)?,
        BinaryFormat::Ipc => IpcReader::new(f).finish().map_err(bad)?,
    };
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.trim().to_lowercase())
        .collect();
    let layout = crate::layout(spec, file, &names)?;
    // everything as text, then the shared row parser decides
    let mut text_cols = Vec::with_capacity(df.width());
    for c in df.columns() {
        // a datetime's text form carries fractional seconds, which the parser accepts
        let s = c.cast(&DataType::String).map_err(bad)?;
        text_cols.push(s.str().map_err(bad)?.rechunk().into_owned());
    }
    let n = df.height();
    let step = (n / 16).max(65_536);
    let ranges: Vec<(usize, usize)> = (0..n)
        .step_by(step)
        .map(|a| (a, (a + step).min(n)))
        .collect();
    let parts: Vec<(DataFrame, Vec<Rejection>)> = ranges
        .par_iter()
        .map(|&(a, b)| {
            let mut tb = TableBuilder::new(spec, &layout, file, b - a);
            let mut fields: Vec<&str> = Vec::with_capacity(text_cols.len());
            for i in a..b {
                fields.clear();
                fields.extend(text_cols.iter().map(|c| c.get(i).unwrap_or("")));
                tb.push_row(i as u64 + 2, &fields);
            }
            tb.finish()
        })
        .collect();
    let mut frames = Vec::with_capacity(parts.len());
    let mut rejected = Vec::new();
    for (f, r) in parts {
        frames.push(f);
        rejected.extend(r);
    }
    if frames.is_empty() {
        let (f, r) = TableBuilder::new(spec, &layout, file, 0).finish();
        frames.push(f);
        rejected.extend(r);
    }
    let (absent, extras) = layout.report(spec);
    Ok(TableRead {
        frame: crate::concat_frames(frames)?,
        rejected,
        rows: n as u64,
        absent,
        extras,
        encoding: None,
    })
}
