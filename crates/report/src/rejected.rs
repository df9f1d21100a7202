//! `rejected/<table>.csv`: every row that ingest set aside, with where it came from and why.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{ReportError, spreadsheet_safe};

pub use subsidy_model::rejection::Rejection;

/// The header of every rejected file.
pub const HEADER: [&str; 7] = [
    "file", "line", "column", "value", "reason", "message", "record",
];

/// Writes one file per table into `dir/rejected/` (the folder is created only when needed, and
/// emptied of earlier files first). Returns the files written.
pub fn write_rejected(dir: &Path, rows: &[Rejection]) -> Result<Vec<String>, ReportError> {
    let rdir = dir.join("rejected");
    if rdir.exists() {
        std::fs::remove_dir_all(&rdir).map_err(|e| ReportError::Io {
            path: rdir.display().to_string(),
            source: e,
        })?;
    }
    let mut by_table: BTreeMap<&str, Vec<&Rejection>> = BTreeMap::new();
    for r in rows {
        by_table.entry(r.table).or_default().push(r);
    }
    if by_table.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(&rdir).map_err(|e| ReportError::Io {
        path: rdir.display().to_string(),
        source: e,
    })?;
    let mut written = Vec::new();
    for (table, rows) in by_table {
        let path = rdir.join(format!("{table}.csv"));
        let csv_err = |e: csv::Error| ReportError::Csv {
            path: path.display().to_string(),
            source: e,
        };
        let mut w = csv::Writer::from_path(&path).map_err(csv_err)?;
        w.write_record(HEADER).map_err(csv_err)?;
        for r in rows {
            let line = r.line.to_string();
            w.write_record([
                spreadsheet_safe(&r.file).as_ref(),
                line.as_str(),
                spreadsheet_safe(&r.column).as_ref(),
                spreadsheet_safe(&r.value).as_ref(),
                r.reason.code(),
                spreadsheet_safe(&r.message).as_ref(),
                spreadsheet_safe(&r.record).as_ref(),
            ])
            .map_err(csv_err)?;
        }
        w.flush().map_err(|e| ReportError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        written.push(format!("rejected/{table}.csv"));
    }
    Ok(written)
}
