//! `report.xlsx`: the scan for finance auditors, one sheet per output (summary, findings,
//! recoveries, parties, identities, rejected rows), header row frozen, filters on, yuan as
//! money (`#,##0.00`). Personal data in text cells is masked unless `reveal` is set.

use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use subsidy_model::output::OutType;

use crate::ReportError;
use crate::mask::mask_text;
use crate::rejected::RejectedRow;

/// Excel's last row index (1,048,576 rows, the header included).
const MAX_ROWS: usize = 1_048_575;

/// One data sheet: a frame and its contract columns.
pub struct Sheet<'a> {
    /// the sheet's name
    pub name: &'a str,
    /// the columns, in order, with their types
    pub cols: &'a [(&'a str, OutType)],
    /// the rows
    pub df: &'a DataFrame,
}

/// A value on the summary sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// text
    Text(String),
    /// a count
    Count(i64),
    /// fen, shown as yuan
    Money(i64),
}

fn xerr(path: &Path) -> impl Fn(XlsxError) -> ReportError + '_ {
    move |e| ReportError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Writes the workbook: `summary` (label, value) first, then `sheets`, then the rejected rows.
/// `created` (year, month, day) is the creation date the file records: the scan's reference
/// date, so the same scan writes the same bytes.
pub fn write_workbook(
    path: &Path,
    created: (u16, u8, u8),
    summary: &[(String, Value)],
    sheets: &[Sheet<'_>],
    rejected: &[RejectedRow<'_>],
    reveal: bool,
) -> Result<(), ReportError> {
    let e = xerr(path);
    let mut wb = Workbook::new();
    let when = ExcelDateTime::from_ymd(created.0, created.1, created.2).map_err(&e)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let text = |s: &str| -> String {
        if reveal {
            s.to_string()
        } else {
            mask_text(s).into_owned()
        }
    };

    let ws = wb.add_worksheet().set_name("summary").map_err(&e)?;
    ws.write_string_with_format(0, 0, "item", &bold)
        .map_err(&e)?;
    ws.write_string_with_format(0, 1, "value", &bold)
        .map_err(&e)?;
    for (i, (label, v)) in summary.iter().enumerate() {
        let r = (i + 1) as u32;
        ws.write_string(r, 0, label).map_err(&e)?;
        match v {
            Value::Text(s) => ws.write_string(r, 1, s),
            Value::Count(n) => ws.write_number(r, 1, *n as f64),
            Value::Money(f) => ws.write_number_with_format(r, 1, *f as f64 / 100.0, &money),
        }
        .map_err(&e)?;
    }
    ws.set_column_width(0, 48).map_err(&e)?;
    ws.set_column_width(1, 24).map_err(&e)?;

    for sheet in sheets {
        let ws = wb.add_worksheet().set_name(sheet.name).map_err(&e)?;
        let n = sheet.df.height().min(MAX_ROWS);
        header(ws, sheet.cols.iter().map(|(c, _)| *c), n, &bold).map_err(&e)?;
        for (j, (name, ty)) in sheet.cols.iter().enumerate() {
            let col = sheet.df.column(name)?;
            let j = j as u16;
            match ty {
                OutType::Str => {
                    for (i, v) in col.str()?.iter().take(n).enumerate() {
                        if let Some(v) = v {
                            ws.write_string(i as u32 + 1, j, text(v)).map_err(&e)?;
                        }
                    }
                    ws.set_column_width(j, if *name == "message" { 80 } else { 20 })
                        .map_err(&e)?;
                }
                OutType::Money => {
                    for (i, v) in col.i64()?.iter().take(n).enumerate() {
                        if let Some(f) = v {
                            ws.write_number_with_format(i as u32 + 1, j, f as f64 / 100.0, &money)
                                .map_err(&e)?;
                        }
                    }
                    ws.set_column_width(j, 16).map_err(&e)?;
                }
                OutType::Int => {
                    for (i, v) in col.i64()?.iter().take(n).enumerate() {
                        if let Some(x) = v {
                            ws.write_number(i as u32 + 1, j, x as f64).map_err(&e)?;
                        }
                    }
                }
                OutType::Float => {
                    for (i, v) in col.f64()?.iter().take(n).enumerate() {
                        if let Some(x) = v {
                            ws.write_number(i as u32 + 1, j, x).map_err(&e)?;
                        }
                    }
                }
            }
        }
    }

    let ws = wb.add_worksheet().set_name("rejected").map_err(&e)?;
    let cols = [
        "table", "file", "line", "column", "value", "reason", "message", "record",
    ];
    let n = rejected.len().min(MAX_ROWS);
    header(ws, cols.into_iter(), n, &bold).map_err(&e)?;
    for (i, r) in rejected.iter().take(n).enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, r.table).map_err(&e)?;
        ws.write_string(row, 1, r.file).map_err(&e)?;
        ws.write_number(row, 2, r.line as f64).map_err(&e)?;
        ws.write_string(row, 3, r.column).map_err(&e)?;
        ws.write_string(row, 4, text(r.value)).map_err(&e)?;
        ws.write_string(row, 5, r.reason).map_err(&e)?;
        ws.write_string(row, 6, text(r.message)).map_err(&e)?;
        ws.write_string(row, 7, text(r.record)).map_err(&e)?;
    }
    wb.save(path).map_err(&e)?;
    Ok(())
}

/// The header row in bold, frozen, with filters over `rows` data rows.
fn header<'a>(
    ws: &mut Worksheet,
    names: impl Iterator<Item = &'a str>,
    rows: usize,
    bold: &Format,
) -> Result<(), XlsxError> {
    let mut last = 0u16;
    for (j, c) in names.enumerate() {
        ws.write_string_with_format(0, j as u16, c, bold)?;
        last = j as u16;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, rows as u32, last)?;
    Ok(())
}
