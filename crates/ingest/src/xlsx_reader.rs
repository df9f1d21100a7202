//! Reading tables from one workbook, `package.xlsx`, with a sheet per table.

use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use subsidy_model::contract::TableSpec;

use crate::builder::{TableBuilder, TableRead};
use crate::error::IngestError;
use crate::reject::Reason;

/// An opened workbook.
pub struct Workbook {
    inner: Xlsx<std::io::BufReader<std::fs::File>>,
    file: String,
}

impl Workbook {
    /// Opens `path`.
    pub fn open(path: &Path) -> Result<Workbook, IngestError> {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let inner =
            open_workbook(path).map_err(|e: calamine::XlsxError| IngestError::Workbook {
                file: file.clone(),
                message: e.to_string(),
            })?;
        Ok(Workbook { inner, file })
    }

    /// The sheet names, lower-cased and trimmed, with the original names.
    pub fn sheets(&self) -> Vec<(String, String)> {
        self.inner
            .sheet_names()
            .into_iter()
            .map(|s| (s.trim().to_lowercase(), s))
            .collect()
    }

    /// Reads sheet `sheet` as table `spec`: (frame, rejected, rows read).
    pub fn read(&mut self, spec: &TableSpec, sheet: &str) -> Result<TableRead, IngestError> {
        let label = format!("{}#{sheet}", self.file);
        let range = self
            .inner
            .worksheet_range(sheet)
            .map_err(|e| IngestError::Workbook {
                file: label.clone(),
                message: e.to_string(),
            })?;
        let first_row = range.start().map_or(0, |(r, _)| r as u64);
        let mut rows = range.rows();
        let Some(header) = rows.next() else {
            return Err(IngestError::EmptyFile { file: label });
        };
        let names: Vec<String> = header
            .iter()
            .map(|c| cell_text(c).unwrap_or_default().trim().to_lowercase())
            .collect();
        // trailing empty header cells are formatting, not columns
        let width = names
            .iter()
            .rposition(|n| !n.is_empty())
            .map_or(0, |p| p + 1);
        if width == 0 {
            return Err(IngestError::EmptyFile { file: label });
        }
        let names = &names[..width];
        let layout = crate::layout(spec, &label, names)?;
        let mut b = TableBuilder::new(spec, &layout, &label, range.height());
        let mut n = 0u64;
        for (i, row) in rows.enumerate() {
            let line = first_row + i as u64 + 2;
            if row.iter().all(|c| matches!(c, Data::Empty)) {
                continue; // a blank row, as CSV skips blank lines
            }
            n += 1;
            let mut texts: Vec<String> = Vec::with_capacity(width);
            let mut error_at = None;
            for (j, c) in row.iter().enumerate() {
                match cell_text(c) {
                    Some(t) => texts.push(t),
                    None => {
                        error_at = Some(j);
                        texts.push(c.to_string());
                    }
                }
            }
            // cells past the header are allowed only when empty
            let extra = texts.iter().skip(width).any(|t| !t.trim().is_empty());
            texts.truncate(if extra { texts.len() } else { width });
            let fields: Vec<&str> = texts.iter().map(String::as_str).collect();
            if let Some(j) = error_at {
                let col = names.get(j).cloned().unwrap_or_default();
                b.reject_row(
                    line,
                    Reason::CellError,
                    format!("column `{col}` holds a spreadsheet error `{}`", texts[j]),
                    &fields,
                );
                continue;
            }
            b.push_row(line, &fields);
        }
        let (frame, lines, rejected) = b.finish();
        let (absent, extras) = layout.report(spec);
        Ok(TableRead {
            frame,
            lines,
            rejected,
            rows: n,
            absent,
            extras,
            encoding: None,
        })
    }
}

/// A cell as text; `None` for an error cell.
fn cell_text(c: &Data) -> Option<String> {
    Some(match c {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::Error(_) => return None,
    })
}
