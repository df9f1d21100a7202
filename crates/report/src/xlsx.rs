//! `report.xlsx`: the scan for finance auditors, one sheet per output (summary, findings,
//! recoveries, parties, identities, rejected rows), header row frozen, filters on, yuan as
//! money (`#,##0.00`). Personal data in text cells is masked by the scan's [`Masker`].

use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use subsidy_model::output::OutType;

use crate::ReportError;
use crate::mask::Masker;
use crate::rejected::Rejection;

/// Excel's last row index (1,048,576 rows, the header included).
const MAX_ROWS: usize = 1_048_575;

/// Excel's limit on a cell's text, in UTF-16 code units.
const MAX_CELL: usize = 32_767;

/// What a cut cell ends with.
const CUT: &str = "…（超出 Excel 单元格 32,767 字符上限，已截断；全文见 findings.csv）";

/// The text as one cell holds it: whole when within Excel's limit, else cut at a character
/// boundary and marked (a finding's claim list can run past it: the CSV and Parquet outputs
/// keep every character).
fn fit(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= MAX_CELL || s.encode_utf16().count() <= MAX_CELL {
        return std::borrow::Cow::Borrowed(s);
    }
    let room = MAX_CELL - CUT.encode_utf16().count();
    let mut used = 0;
    let end = s
        .char_indices()
        .find(|(_, c)| {
            used += c.len_utf16();
            used > room
        })
        .map_or(s.len(), |(i, _)| i);
    std::borrow::Cow::Owned(format!("{}{CUT}", &s[..end]))
}

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

/// How a table too long for one sheet is laid out.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// data rows per sheet at most (the header comes on top); a longer table continues on
    /// `name (2)`, `name (3)` …
    pub rows_per_sheet: usize,
}

impl Default for Layout {
    fn default() -> Layout {
        Layout {
            rows_per_sheet: MAX_ROWS,
        }
    }
}

/// The sheet names a table of `n` rows takes: `name`, `name (2)` …
pub fn sheet_names(name: &str, n: usize, layout: Layout) -> Vec<String> {
    let per = layout.rows_per_sheet.clamp(1, MAX_ROWS);
    let parts = n.div_ceil(per).max(1);
    (0..parts)
        .map(|k| {
            if k == 0 {
                name.to_string()
            } else {
                format!("{name} ({})", k + 1)
            }
        })
        .collect()
}

/// One column's cells, read by row.
enum Cells {
    Str(StringChunked),
    Int(Int64Chunked),
    Float(Float64Chunked),
}

/// Writes the workbook: `summary` (label, value) first, then `sheets`, then the rejected rows.
/// `created` (year, month, day) is the creation date the file records: the scan's reference
/// date, so the same scan writes the same bytes. Text cells go through `mask`. A table longer
/// than `layout.rows_per_sheet` continues on further sheets (`findings (2)` …), which the summary
/// lists, so that no sheet passes Excel's 1,048,576 rows. Data sheets are written row by row in
/// rust_xlsxwriter's constant-memory mode (their rows go to a temporary file beside `path`, not
/// to memory).
pub fn write_workbook(
    path: &Path,
    created: (u16, u8, u8),
    summary: &[(String, Value)],
    sheets: &[Sheet<'_>],
    rejected: &[Rejection],
    mask: &Masker,
    layout: Layout,
) -> Result<(), ReportError> {
    let e = xerr(path);
    let mut wb = Workbook::new();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        wb.set_tempdir(dir).map_err(&e)?;
    }
    let when = ExcelDateTime::from_ymd(created.0, created.1, created.2).map_err(&e)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");

    // where each table goes, for the summary
    let mut layout_rows: Vec<(String, Value)> = Vec::new();
    let mut note = |name: &str, n: usize| {
        let names = sheet_names(name, n, layout);
        if names.len() > 1 {
            layout_rows.push((
                format!("{name}: sheets"),
                Value::Text(format!(
                    "{} rows over {} sheets ({}); the CSV holds the same rows",
                    n,
                    names.len(),
                    names.join(", ")
                )),
            ));
        }
    };
    for s in sheets {
        note(s.name, s.df.height());
    }
    note("rejected", rejected.len());

    let ws = wb.add_worksheet().set_name("summary").map_err(&e)?;
    ws.write_string_with_format(0, 0, "item", &bold)
        .map_err(&e)?;
    ws.write_string_with_format(0, 1, "value", &bold)
        .map_err(&e)?;
    for (i, (label, v)) in summary.iter().chain(layout_rows.iter()).enumerate() {
        let r = (i + 1) as u32;
        ws.write_string(r, 0, label).map_err(&e)?;
        match v {
            Value::Text(s) => ws.write_string(r, 1, fit(&mask.text(s))),
            Value::Count(n) => ws.write_number(r, 1, *n as f64),
            Value::Money(f) => ws.write_number_with_format(r, 1, *f as f64 / 100.0, &money),
        }
        .map_err(&e)?;
    }
    ws.set_column_width(0, 48).map_err(&e)?;
    ws.set_column_width(1, 24).map_err(&e)?;

    for sheet in sheets {
        let cells: Vec<Cells> = sheet
            .cols
            .iter()
            .map(|(name, ty)| -> PolarsResult<Cells> {
                let c = sheet.df.column(name)?;
                Ok(match ty {
                    OutType::Str => Cells::Str(c.str()?.rechunk().into_owned()),
                    OutType::Money | OutType::Int => Cells::Int(c.i64()?.rechunk().into_owned()),
                    OutType::Float => Cells::Float(c.f64()?.rechunk().into_owned()),
                })
            })
            .collect::<PolarsResult<_>>()?;
        let widths: Vec<f64> = sheet
            .cols
            .iter()
            .map(|(name, ty)| match ty {
                OutType::Str if *name == "message" => 80.0,
                OutType::Str => 20.0,
                OutType::Money => 16.0,
                _ => 8.43,
            })
            .collect();
        let names: Vec<&str> = sheet.cols.iter().map(|(c, _)| *c).collect();
        write_split(
            &mut wb,
            sheet.name,
            &names,
            &widths,
            sheet.df.height(),
            layout,
            &bold,
            |ws, row, i| {
                for (j, (c, (_, ty))) in cells.iter().zip(sheet.cols).enumerate() {
                    let j = j as u16;
                    match c {
                        Cells::Str(ca) => {
                            if let Some(v) = ca.get(i) {
                                ws.write_string(row, j, fit(&mask.text(v)))?;
                            }
                        }
                        Cells::Int(ca) => {
                            if let Some(x) = ca.get(i) {
                                if matches!(ty, OutType::Money) {
                                    ws.write_number_with_format(row, j, x as f64 / 100.0, &money)?;
                                } else {
                                    ws.write_number(row, j, x as f64)?;
                                }
                            }
                        }
                        Cells::Float(ca) => {
                            if let Some(x) = ca.get(i) {
                                ws.write_number(row, j, x)?;
                            }
                        }
                    }
                }
                Ok(())
            },
        )
        .map_err(&e)?;
    }

    let cols = [
        "table", "file", "line", "column", "value", "reason", "message", "record",
    ];
    let widths = [12.0, 20.0, 8.43, 16.0, 20.0, 16.0, 40.0, 80.0];
    write_split(
        &mut wb,
        "rejected",
        &cols,
        &widths,
        rejected.len(),
        layout,
        &bold,
        |ws, row, i| {
            let Some(r) = rejected.get(i) else {
                return Ok(());
            };
            ws.write_string(row, 0, r.table)?;
            ws.write_string(row, 1, fit(&mask.text(&r.file)))?;
            ws.write_number(row, 2, r.line as f64)?;
            ws.write_string(row, 3, &r.column)?;
            ws.write_string(row, 4, fit(&mask.text(&r.value)))?;
            ws.write_string(row, 5, r.reason.code())?;
            ws.write_string(row, 6, fit(&mask.text(&r.message)))?;
            ws.write_string(row, 7, fit(&mask.text(&r.record)))?;
            Ok(())
        },
    )
    .map_err(&e)?;
    wb.save(path).map_err(&e)?;
    Ok(())
}

/// Writes `n` rows over as many constant-memory sheets as `layout` needs, each with the header
/// row in bold, frozen, with filters; `write_row(ws, sheet_row, i)` writes table row `i`.
#[allow(clippy::too_many_arguments)]
fn write_split(
    wb: &mut Workbook,
    name: &str,
    header: &[&str],
    widths: &[f64],
    n: usize,
    layout: Layout,
    bold: &Format,
    mut write_row: impl FnMut(&mut Worksheet, u32, usize) -> Result<(), XlsxError>,
) -> Result<(), XlsxError> {
    let per = layout.rows_per_sheet.clamp(1, MAX_ROWS);
    for (k, sheet_name) in sheet_names(name, n, layout).into_iter().enumerate() {
        let from = k * per;
        let to = (from + per).min(n);
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name(&sheet_name)?;
        for (j, w) in widths.iter().enumerate() {
            ws.set_column_width(j as u16, *w)?;
        }
        let last = header.len().saturating_sub(1) as u16;
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(0, 0, (to - from) as u32, last)?;
        for (j, c) in header.iter().enumerate() {
            ws.write_string_with_format(0, j as u16, *c, bold)?;
        }
        for i in from..to {
            write_row(ws, (i - from) as u32 + 1, i)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_past_excels_limit_is_cut_and_marked() {
        assert_eq!(fit("short"), "short");
        let long = "CM0000001;".repeat(5_000);
        let cut = fit(&long);
        assert!(cut.encode_utf16().count() <= MAX_CELL);
        assert!(cut.ends_with(CUT) && long.starts_with(cut.trim_end_matches(CUT)));
        // CJK text: cut at a character boundary
        let cjk = "培训".repeat(20_000);
        let cut = fit(&cjk);
        assert!(cut.encode_utf16().count() <= MAX_CELL && cut.ends_with(CUT));
        let exact = "x".repeat(MAX_CELL);
        assert_eq!(fit(&exact).len(), MAX_CELL);
    }
    use calamine::{Data, Reader, Xlsx, open_workbook};
    use subsidy_model::output::RECOVERIES;

    #[test]
    fn a_table_longer_than_a_sheet_continues_on_further_sheets() {
        let n = 5usize;
        let ids: Vec<String> = (0..n).map(|i| format!("CM{i:09}")).collect();
        let df = df!(
            "claim_id" => ids,
            "responsible_party" => vec!["11010519491231002X"; n],
            "institution_id" => vec![Some("i"); n],
            "amount_paid" => vec![150_050i64; n],
            "recover_amount" => vec![150_050i64; n],
            "finding_ids" => vec!["f1"; n],
            "basis" => vec!["DC-01"; n],
        )
        .expect("frame");
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("report.xlsx");
        write_workbook(
            &path,
            (2026, 1, 1),
            &[("findings".into(), Value::Count(n as i64))],
            &[Sheet {
                name: "recoveries",
                cols: RECOVERIES,
                df: &df,
            }],
            &[],
            &Masker::new(false),
            Layout { rows_per_sheet: 2 },
        )
        .expect("write");
        let mut wb: Xlsx<_> = open_workbook(&path).expect("opens");
        assert_eq!(
            wb.sheet_names(),
            [
                "summary",
                "recoveries",
                "recoveries (2)",
                "recoveries (3)",
                "rejected"
            ]
        );
        let mut seen = Vec::new();
        for s in ["recoveries", "recoveries (2)", "recoveries (3)"] {
            let r = wb.worksheet_range(s).expect("sheet");
            let rows: Vec<&[Data]> = r.rows().collect();
            assert_eq!(
                rows[0][0],
                Data::String("claim_id".into()),
                "a header on {s}"
            );
            assert!(rows.len() <= 3);
            for row in &rows[1..] {
                seen.push(row[0].to_string());
                assert_eq!(row[1], Data::String("110105********002X".into()));
                assert_eq!(row[3], Data::Float(1500.5));
            }
        }
        assert_eq!(
            seen,
            (0..n).map(|i| format!("CM{i:09}")).collect::<Vec<_>>()
        );
        let summary = wb.worksheet_range("summary").expect("summary");
        let note = summary
            .rows()
            .find(|r| r[0] == Data::String("recoveries: sheets".into()))
            .expect("the summary says where the rows went");
        assert_eq!(
            note[1].to_string(),
            "5 rows over 3 sheets (recoveries, recoveries (2), recoveries (3)); the CSV holds the same rows"
        );
        assert_eq!(sheet_names("findings", 0, Layout::default()), ["findings"]);
        assert_eq!(
            sheet_names("findings", 1_500_000, Layout::default()),
            ["findings", "findings (2)"]
        );
    }
}
