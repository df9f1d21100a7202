//! `report.xlsx`: the scan for finance auditors, in their language (Chinese by default).
//!
//! - `封面` (cover): package, input hashes, rule pack and reference date, findings by category
//!   and region, recovery by fund source, parties by disposition, alarms, rejected rows, and a
//!   block for the reviewer's sign-off ([`crate::cover`]).
//! - `问题线索`, `应追回申领`, `责任主体`, `身份合并`, `拒收记录`: the outputs, one sheet each, with
//!   Chinese headers and codes (`--lang en`: the contract's names), the institution's name and
//!   region beside its credit code, a person's masked name beside their masked ID, yuan as `¥`
//!   with thousands separators, widths fitted to the text, the header frozen with filters on,
//!   and each finding's and claim's party linked to its row on the parties sheet.
//!
//! Personal data in text cells is masked by the scan's [`Masker`].

use foldhash::HashMap;
use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatBorder, Url, Workbook, Worksheet, XlsxError,
};
use subsidy_model::output::{
    EFFECTIVENESS, FINDINGS, IDENTITIES, OutType, PARTIES, RECOVERIES, SAMPLE,
};

use crate::ReportError;
use crate::cover::{Cover, Value};
use crate::i18n::{self, Lang};
use crate::mask::Masker;
use crate::names::Names;
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

/// Excel's limit on hyperlinks in one worksheet; links past it are left out (the cell keeps its
/// text).
const MAX_LINKS: usize = 65_530;

/// Rows sampled to fit a column's width.
const WIDTH_SAMPLE: usize = 2_000;

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

/// The name of an output's sheet in `l`.
pub fn sheet_name(output: &str, l: Lang) -> &'static str {
    match (output, l) {
        ("cover", Lang::Zh) => "封面",
        ("cover", Lang::En) => "cover",
        ("findings", Lang::Zh) => "问题线索",
        ("findings", Lang::En) => "findings",
        ("recoveries", Lang::Zh) => "应追回申领",
        ("recoveries", Lang::En) => "recoveries",
        ("parties", Lang::Zh) => "责任主体",
        ("parties", Lang::En) => "parties",
        ("identities", Lang::Zh) => "身份合并",
        ("identities", Lang::En) => "identities",
        ("effectiveness", Lang::Zh) => "质效评估",
        ("effectiveness", Lang::En) => "effectiveness",
        ("sample", Lang::Zh) => "抽样",
        ("sample", Lang::En) => "sample",
        ("sample_plan", Lang::Zh) => "抽样方案",
        ("sample_plan", Lang::En) => "sample plan",
        (_, Lang::Zh) => "拒收记录",
        (_, Lang::En) => "rejected",
    }
}

/// A data sheet: its output's name, the output's columns, the frame.
type DataSheet<'a> = (&'a str, &'static [(&'static str, OutType)], &'a DataFrame);

/// What the workbook shows.
pub struct Book<'a> {
    /// the creation date the file records (the scan's reference date: same scan, same bytes)
    pub created: (u16, u8, u8),
    /// the language
    pub lang: Lang,
    /// the cover, built in the same language
    pub cover: &'a Cover,
    /// findings (contract columns, `message_zh` included)
    pub findings: &'a DataFrame,
    /// recoveries
    pub recoveries: &'a DataFrame,
    /// parties
    pub parties: &'a DataFrame,
    /// identities (merged registrations only: a million singletons help no one)
    pub identities: &'a DataFrame,
    /// the training-effectiveness scorecard (programmes, then institutions)
    pub effectiveness: &'a DataFrame,
    /// rejected rows
    pub rejected: &'a [Rejection],
    /// names beside codes
    pub names: &'a Names,
    /// masks personal data
    pub mask: &'a Masker,
    /// sheet splitting
    pub layout: Layout,
    /// the audit sample, when `subsidy-audit sample` drew one
    pub sample: Option<&'a crate::sample::SampleView<'a>>,
}

/// Where a column's cells come from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// the frame's column of that name
    Frame,
    /// the name of the institution in the named column
    InstitutionName(&'static str),
    /// the region of the institution in the named column
    Region(&'static str),
    /// the name of the party (institution, or masked person) in the named column
    PartyName(&'static str),
}

/// One column of a data sheet.
struct Col {
    key: &'static str,
    ty: OutType,
    source: Source,
}

/// The sheet's columns: the contract's, the message in the reader's language only, and the
/// names beside the codes.
fn columns(cols: &'static [(&'static str, OutType)], l: Lang) -> Vec<Col> {
    let other = match l {
        Lang::Zh => "message",
        Lang::En => "message_zh",
    };
    let mut out = Vec::new();
    for &(key, ty) in cols {
        if key == other {
            continue;
        }
        out.push(Col {
            key,
            ty,
            source: Source::Frame,
        });
        let derived: &[(&'static str, Source)] = match key {
            "institution_id" => &[
                (
                    "institution_name",
                    Source::InstitutionName("institution_id"),
                ),
                ("region", Source::Region("institution_id")),
            ],
            "responsible_party" => &[("party_name", Source::PartyName("responsible_party"))],
            "person_id" => &[("person_name", Source::PartyName("person_id"))],
            _ => &[],
        };
        for &(k, s) in derived {
            // a table with a region column of its own shows that one
            if k == "region" && cols.iter().any(|c| c.0 == "region") {
                continue;
            }
            out.push(Col {
                key: k,
                ty: OutType::Str,
                source: s,
            });
        }
    }
    out
}

/// One column's cells, read by row.
enum Cells {
    Str(StringChunked),
    Int(Int64Chunked),
    Float(Float64Chunked),
}

/// The width a text takes in Excel's character units (a CJK character takes two).
fn text_width(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) < 0x1100 { 1.0 } else { 2.0 })
        .sum()
}

/// Formats the workbook uses.
struct Formats {
    bold: Format,
    money: Format,
    money_bold: Format,
    date: Format,
    title: Format,
    sign: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            bold: Format::new().set_bold(),
            money: Format::new().set_num_format("¥#,##0.00"),
            money_bold: Format::new().set_num_format("¥#,##0.00").set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            title: Format::new().set_bold().set_font_size(16),
            sign: Format::new().set_border_bottom(FormatBorder::Thin),
        }
    }
}

/// Writes `report.xlsx`: the cover, the outputs, the rejected rows. Data sheets are written row
/// by row in rust_xlsxwriter's constant-memory mode (their rows go to a temporary file beside
/// `path`, not to memory); a table longer than `layout.rows_per_sheet` continues on further
/// sheets (`问题线索 (2)` …), which the cover lists, so that no sheet passes Excel's 1,048,576
/// rows.
pub fn write(path: &Path, b: &Book<'_>) -> Result<(), ReportError> {
    let e = xerr(path);
    let l = b.lang;
    let mut wb = Workbook::new();
    // deflate level 2 (zlib-rs's fast strategy). The l workbook's 438 MB of XML compress in
    // 1.0 s to 49 MB at level 2, in 2.7 s to 39 MB at the default level 6, and in 0.6 s to
    // 64 MB at level 1 (benches/runs/2026-12-03-scan-l.md)
    wb.set_zip_compression_level(2);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        wb.set_tempdir(dir).map_err(&e)?;
    }
    let when = ExcelDateTime::from_ymd(b.created.0, b.created.1, b.created.2).map_err(&e)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let f = Formats::new();

    let mut tables: Vec<DataSheet<'_>> = vec![
        ("findings", FINDINGS, b.findings),
        ("recoveries", RECOVERIES, b.recoveries),
        ("parties", PARTIES, b.parties),
        ("effectiveness", EFFECTIVENESS, b.effectiveness),
        ("identities", IDENTITIES, b.identities),
    ];
    if let Some(s) = b.sample {
        tables.push(("sample", SAMPLE, s.frame));
    }
    // where each table goes, for the cover
    let mut notes: Vec<(String, Value)> = Vec::new();
    let mut note = |name: &str, n: usize| {
        let names = sheet_names(name, n, b.layout);
        if names.len() > 1 {
            notes.push((
                format!("{name}: {}", l.t("分表", "sheets")),
                Value::Text(match l {
                    Lang::Zh => format!(
                        "共 {n} 行，分 {} 张工作表（{}）；CSV 文件含全部行",
                        names.len(),
                        names.join("、")
                    ),
                    Lang::En => format!(
                        "{n} rows over {} sheets ({}); the CSV holds the same rows",
                        names.len(),
                        names.join(", ")
                    ),
                }),
            ));
        }
    };
    for (t, _, df) in &tables {
        note(sheet_name(t, l), df.height());
    }
    note(sheet_name("rejected", l), b.rejected.len());

    // the parties sheet's row of each party, for the links
    let per = b.layout.rows_per_sheet.clamp(1, MAX_ROWS);
    let party_sheets = sheet_names(sheet_name("parties", l), b.parties.height(), b.layout);
    let party_row: HashMap<&str, (usize, u32)> = b
        .parties
        .column("responsible_party")?
        .str()?
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((p?, (i / per, (i % per) as u32 + 1))))
        .collect();
    let link_to = |party: &str| -> Option<Url> {
        let (s, r) = party_row.get(party)?;
        Some(Url::new(format!(
            "internal:'{}'!A{}",
            party_sheets[*s],
            r + 1
        )))
    };

    write_cover(&mut wb, b, &notes, &f).map_err(&e)?;
    if let Some(s) = b.sample {
        write_plan(&mut wb, b, s, &f).map_err(&e)?;
    }

    for (t, cols, df) in tables {
        let cols = columns(cols, l);
        let cells: Vec<Cells> =
            cols.iter()
                .map(|c| -> PolarsResult<Cells> {
                    let name = match c.source {
                        Source::Frame => c.key,
                        Source::InstitutionName(k) | Source::Region(k) | Source::PartyName(k) => k,
                    };
                    let col = df.column(name)?;
                    Ok(match (c.ty, c.source) {
                        (OutType::Str, _)
                        | (
                            _,
                            Source::InstitutionName(_) | Source::Region(_) | Source::PartyName(_),
                        ) => Cells::Str(col.str()?.rechunk().into_owned()),
                        (OutType::Money | OutType::Int, _) => {
                            Cells::Int(col.i64()?.rechunk().into_owned())
                        }
                        (OutType::Float, _) => Cells::Float(col.f64()?.rechunk().into_owned()),
                    })
                })
                .collect::<PolarsResult<_>>()?;
        // the text a string cell shows
        let shown = |c: &Col, v: &str| -> String {
            match c.source {
                // evidence in the reader's words (Chinese); English keeps the contract's JSON
                Source::Frame if c.key == "evidence" && l == Lang::Zh => {
                    match b.names.evidence_facts(v, l) {
                        Some(facts) => b
                            .mask
                            .text(
                                &facts
                                    .iter()
                                    .map(|(k, v)| format!("{k}：{v}"))
                                    .collect::<Vec<_>>()
                                    .join("；"),
                            )
                            .into_owned(),
                        None => b.mask.text(v).into_owned(),
                    }
                }
                Source::Frame => b.mask.text(&i18n::code(c.key, v, l)).into_owned(),
                Source::InstitutionName(_) => b.names.institution(v).unwrap_or("").to_string(),
                Source::Region(_) => b.names.region(v),
                Source::PartyName(_) => b.names.any(v).unwrap_or_default(),
            }
        };
        let headers: Vec<String> = cols
            .iter()
            .map(|c| i18n::label(c.key, l).into_owned())
            .collect();
        let widths: Vec<f64> = cols
            .iter()
            .zip(&cells)
            .zip(&headers)
            .map(|((c, cells), h)| {
                let cap = if matches!(c.key, "message" | "message_zh" | "evidence") {
                    80.0
                } else {
                    48.0
                };
                let mut w = text_width(h) + 4.0; // room for the filter button
                for i in 0..df.height().min(WIDTH_SAMPLE) {
                    let x = match cells {
                        Cells::Str(ca) => ca.get(i).map_or(0.0, |v| text_width(&shown(c, v))),
                        Cells::Int(ca) => ca.get(i).map_or(0.0, |v| {
                            if matches!(c.ty, OutType::Money) {
                                subsidy_model::money::format_yuan(v).len() as f64 + 4.0
                            } else {
                                v.to_string().len() as f64
                            }
                        }),
                        Cells::Float(_) => 8.0,
                    };
                    w = w.max(x + 1.0);
                }
                w.clamp(8.0, cap)
            })
            .collect();
        let header: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut links = 0usize;
        let mut sheet_at = usize::MAX;
        write_split(
            &mut wb,
            sheet_name(t, l),
            &header,
            &widths,
            df.height(),
            b.layout,
            &f.bold,
            |ws, row, i| {
                if i / per != sheet_at {
                    sheet_at = i / per;
                    links = 0;
                }
                for (j, (c, cells)) in cols.iter().zip(&cells).enumerate() {
                    let j = j as u16;
                    match cells {
                        Cells::Str(ca) => {
                            let Some(v) = ca.get(i) else { continue };
                            let text = shown(c, v);
                            let link = (t != "parties"
                                && c.key == "responsible_party"
                                && links < MAX_LINKS)
                                .then(|| link_to(v))
                                .flatten();
                            match link {
                                Some(u) => {
                                    links += 1;
                                    ws.write_url_with_text(row, j, u, fit(&text))?;
                                }
                                None if !text.is_empty() => {
                                    ws.write_string(row, j, fit(&text))?;
                                }
                                None => {}
                            }
                        }
                        Cells::Int(ca) => {
                            if let Some(x) = ca.get(i) {
                                if matches!(c.ty, OutType::Money) {
                                    ws.write_number_with_format(
                                        row,
                                        j,
                                        x as f64 / 100.0,
                                        &f.money,
                                    )?;
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

    let keys = [
        "table", "file", "line", "column", "value", "reason", "message", "record",
    ];
    let header: Vec<String> = keys
        .iter()
        .map(|k| i18n::label(k, l).into_owned())
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let widths = [14.0, 20.0, 8.43, 16.0, 20.0, 18.0, 60.0, 80.0];
    write_split(
        &mut wb,
        sheet_name("rejected", l),
        &header,
        &widths,
        b.rejected.len(),
        b.layout,
        &f.bold,
        |ws, row, i| {
            let Some(r) = b.rejected.get(i) else {
                return Ok(());
            };
            ws.write_string(row, 0, r.table)?;
            ws.write_string(row, 1, fit(&b.mask.text(&r.file)))?;
            ws.write_number(row, 2, r.line as f64)?;
            ws.write_string(row, 3, &r.column)?;
            ws.write_string(row, 4, fit(&b.mask.text(&r.value)))?;
            ws.write_string(row, 5, i18n::code("reason", r.reason.code(), l))?;
            ws.write_string(row, 6, fit(&b.mask.text(&r.message)))?;
            ws.write_string(row, 7, fit(&b.mask.text(&r.record)))?;
            Ok(())
        },
    )
    .map_err(&e)?;
    wb.save(path).map_err(&e)?;
    Ok(())
}

/// Writes one cover value.
fn put(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    v: &Value,
    f: &Formats,
    bold: bool,
    mask: &Masker,
) -> Result<(), XlsxError> {
    match v {
        Value::Text(s) if bold => ws.write_string_with_format(r, c, fit(&mask.text(s)), &f.bold),
        Value::Text(s) => ws.write_string(r, c, fit(&mask.text(s))),
        Value::Count(n) if bold => ws.write_number_with_format(r, c, *n as f64, &f.bold),
        Value::Count(n) => ws.write_number(r, c, *n as f64),
        Value::Money(x) => ws.write_number_with_format(
            r,
            c,
            *x as f64 / 100.0,
            if bold { &f.money_bold } else { &f.money },
        ),
        Value::Date(y, m, d) => {
            let dt = ExcelDateTime::from_ymd(*y, *m, *d)?;
            ws.write_datetime_with_format(r, c, &dt, &f.date)
        }
    }?;
    Ok(())
}

/// The cover sheet: facts, then each block under its title, the alarms, the sheet notes, and
/// the sign-off lines.
fn write_cover(
    wb: &mut Workbook,
    b: &Book<'_>,
    notes: &[(String, Value)],
    f: &Formats,
) -> Result<(), XlsxError> {
    let c = b.cover;
    let ws = wb.add_worksheet().set_name(sheet_name("cover", b.lang))?;
    ws.write_string_with_format(0, 0, &c.title, &f.title)?;
    let mut r = 2u32;
    for (label, v) in c.facts.iter().chain(notes) {
        ws.write_string_with_format(r, 0, label, &f.bold)?;
        put(ws, r, 1, v, f, false, b.mask)?;
        r += 1;
    }
    for a in &c.alarms {
        ws.write_string_with_format(r, 0, b.lang.t("基准率警示", "base-rate alarm"), &f.bold)?;
        ws.write_string(r, 1, fit(&b.mask.text(a)))?;
        r += 1;
    }
    for block in &c.blocks {
        r += 1;
        ws.write_string_with_format(r, 0, &block.title, &f.bold)?;
        r += 1;
        for (j, h) in block.header.iter().enumerate() {
            ws.write_string_with_format(r, j as u16, h, &f.bold)?;
        }
        r += 1;
        let last = block.rows.len().saturating_sub(1);
        for (k, row) in block.rows.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                put(ws, r, j as u16, v, f, block.total && k == last, b.mask)?;
            }
            r += 1;
        }
    }
    r += 1;
    for s in &c.sign_off {
        ws.write_string_with_format(r, 0, s, &f.bold)?;
        ws.write_blank(r, 1, &f.sign)?;
        ws.write_blank(r, 2, &f.sign)?;
        r += 2;
    }
    ws.set_column_width(0, 40)?;
    ws.set_column_width(1, 44)?;
    ws.set_column_width(2, 18)?;
    ws.set_column_width(3, 66)?;
    Ok(())
}

/// The sample's plan sheet: the parameters, what the formulas gave, and the evaluation after
/// fieldwork, as label and value rows.
fn write_plan(
    wb: &mut Workbook,
    b: &Book<'_>,
    s: &crate::sample::SampleView<'_>,
    f: &Formats,
) -> Result<(), XlsxError> {
    let l = b.lang;
    let ws = wb.add_worksheet().set_name(sheet_name("sample_plan", l))?;
    ws.write_string_with_format(0, 0, l.t("抽样方案", "Sampling plan"), &f.title)?;
    let mut r = 2u32;
    for (label, v) in crate::sample::plan_rows(s, l) {
        ws.write_string_with_format(r, 0, &label, &f.bold)?;
        put(ws, r, 1, &v, f, false, b.mask)?;
        r += 1;
    }
    if let Some(e) = s.evaluation {
        r += 1;
        ws.write_string_with_format(r, 0, l.t("抽样评价", "Sample evaluation"), &f.title)?;
        r += 2;
        for (label, v) in crate::sample::evaluation_rows(e, l) {
            ws.write_string_with_format(r, 0, &label, &f.bold)?;
            put(ws, r, 1, &v, f, false, b.mask)?;
            r += 1;
        }
    }
    ws.set_column_width(0, 36)?;
    ws.set_column_width(1, 90)?;
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
    use crate::cover::CoverInput;
    use calamine::{Data, Reader, Xlsx, open_workbook};
    use std::collections::BTreeMap;
    use subsidy_model::output::empty_frame;

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

    const INST: &str = "91330106MA2XXXXX1X";

    fn frames(n: usize) -> (DataFrame, DataFrame, Names) {
        let ids: Vec<String> = (0..n).map(|i| format!("CM{i:09}")).collect();
        let recoveries = df!(
            "claim_id" => ids,
            "responsible_party" => vec![INST; n],
            "institution_id" => vec![Some(INST); n],
            "amount_paid" => vec![150_050i64; n],
            "recover_amount" => vec![150_050i64; n],
            "finding_ids" => vec!["f1"; n],
            "basis" => vec!["DC-01"; n],
        )
        .expect("frame");
        let parties = df!(
            "responsible_party" => [INST, "11010519491231002X"],
            "kind" => ["training_institution", "trainee"],
            "risk_score" => [0.9, 0.1],
            "findings" => [n as i64, 1],
            "claims" => [n as i64, 0],
            "recover_amount" => [150_050 * n as i64, 0],
            "disposition" => ["revoke_qualification", "guide_adjustment"],
            "credit_list_candidate" => ["yes", "no"],
            "anomaly_score" => [None::<f64>, None],
            "effectiveness_score" => [Some(0.42), None],
        )
        .expect("frame");
        let inst = df!("institution_id" => [INST], "name" => ["杭州市西湖职业培训学校"], "region_code" => [None::<&str>]).expect("frame");
        let persons =
            df!("person_id" => ["11010519491231002X"], "name" => ["王小伟"]).expect("frame");
        (recoveries, parties, Names::new(&inst, &persons, false))
    }

    fn book(path: &Path, l: Lang, n: usize, layout: Layout) {
        let (recoveries, parties, names) = frames(n);
        let findings = empty_frame(FINDINGS);
        let fund: BTreeMap<String, String> = BTreeMap::new();
        let cover = Cover::build(
            &CoverInput {
                package: "demo",
                as_of: (2026, 1, 1),
                engine_version: "0",
                pack_version: "1",
                pack_sha256: "ab",
                inputs: &[],
                findings: &findings,
                recoveries: &recoveries,
                parties: &parties,
                dismissed: 0,
                fund_source: &fund,
                names: &names,
                alarms: &[],
                rejected: &[],
                reveal: false,
            },
            l,
        )
        .expect("cover");
        write(
            path,
            &Book {
                created: (2026, 1, 1),
                lang: l,
                cover: &cover,
                findings: &findings,
                recoveries: &recoveries,
                parties: &parties,
                identities: &empty_frame(IDENTITIES),
                effectiveness: &empty_frame(EFFECTIVENESS),
                rejected: &[],
                names: &names,
                mask: &Masker::new(false),
                layout,
                sample: None,
            },
        )
        .expect("write");
    }

    #[test]
    fn the_workbook_is_chinese_with_names_beside_codes_and_english_on_request() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("zh.xlsx");
        book(&path, Lang::Zh, 3, Layout::default());
        let mut wb: Xlsx<_> = open_workbook(&path).expect("opens");
        assert_eq!(
            wb.sheet_names(),
            [
                "封面",
                "问题线索",
                "应追回申领",
                "责任主体",
                "质效评估",
                "身份合并",
                "拒收记录"
            ]
        );
        let r = wb.worksheet_range("责任主体").expect("sheet");
        let rows: Vec<&[Data]> = r.rows().collect();
        let head: Vec<String> = rows[0].iter().map(|d| d.to_string()).collect();
        assert_eq!(head[0], i18n::label("responsible_party", Lang::Zh));
        assert_eq!(head[1], i18n::label("party_name", Lang::Zh));
        assert!(head.iter().all(|h| !h.contains('_')), "{head:?}");
        assert_eq!(rows[1][1], Data::String("杭州市西湖职业培训学校".into()));
        assert_eq!(rows[1][2], Data::String("培训机构".into()));
        assert_eq!(rows[2][0], Data::String("110105********002X".into()));
        assert_eq!(rows[2][1], Data::String("王*伟".into()));
        let rec = wb.worksheet_range("应追回申领").expect("sheet");
        let rows: Vec<&[Data]> = rec.rows().collect();
        // claim, party, party name, institution, name, region, paid …
        assert_eq!(
            rows[1][5],
            Data::String("330106 浙江省 杭州市 西湖区".into())
        );
        assert_eq!(rows[1][6], Data::Float(1500.5));
        // the cover's total recovery is the recoveries' sum
        let cover = wb.worksheet_range("封面").expect("cover");
        let total = cover
            .rows()
            .find(|r| r[0] == Data::String("应追回金额".into()))
            .expect("total row");
        assert_eq!(total[1], Data::Float(4501.5));

        let en = dir.path().join("en.xlsx");
        book(&en, Lang::En, 3, Layout::default());
        let mut wb: Xlsx<_> = open_workbook(&en).expect("opens");
        assert_eq!(
            wb.sheet_names(),
            [
                "cover",
                "findings",
                "recoveries",
                "parties",
                "effectiveness",
                "identities",
                "rejected"
            ]
        );
        let r = wb.worksheet_range("parties").expect("sheet");
        let head: Vec<String> = r
            .rows()
            .next()
            .expect("header")
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(&head[..3], ["responsible_party", "party_name", "kind"]);
        assert_eq!(
            r.rows().nth(1).expect("row")[2],
            Data::String("training_institution".into())
        );
    }

    #[test]
    fn a_party_links_to_its_row_and_money_is_in_yuan_with_a_sign() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("r.xlsx");
        book(&path, Lang::Zh, 2, Layout::default());
        // the sheet XML: the party cell of the recoveries is a link into the parties sheet
        let f = std::fs::File::open(&path).expect("file");
        let mut z = zip_entries(f);
        let rels = z
            .remove("xl/worksheets/sheet3.xml")
            .expect("recoveries sheet");
        assert!(rels.contains("<hyperlink ref=\"B2\""), "{rels}");
        assert!(rels.contains("location=\"'责任主体'!A2\""), "{rels}");
        let styles = z.remove("xl/styles.xml").expect("styles");
        assert!(styles.contains("¥#,##0.00"), "{styles}");
    }

    /// The text entries of an xlsx file.
    fn zip_entries(f: std::fs::File) -> BTreeMap<String, String> {
        use std::io::Read as _;
        let mut z = ::zip::ZipArchive::new(f).expect("zip");
        let mut out = BTreeMap::new();
        for i in 0..z.len() {
            let mut e = z.by_index(i).expect("entry");
            let name = e.name().expect("entry name").to_string();
            let mut s = String::new();
            if e.read_to_string(&mut s).is_ok() {
                out.insert(name, s);
            }
        }
        out
    }

    #[test]
    fn a_table_longer_than_a_sheet_continues_on_further_sheets() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("report.xlsx");
        book(&path, Lang::En, 5, Layout { rows_per_sheet: 2 });
        let mut wb: Xlsx<_> = open_workbook(&path).expect("opens");
        let names = wb.sheet_names();
        assert_eq!(
            &names[..5],
            [
                "cover",
                "findings",
                "recoveries",
                "recoveries (2)",
                "recoveries (3)"
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
            }
        }
        assert_eq!(
            seen,
            (0..5).map(|i| format!("CM{i:09}")).collect::<Vec<_>>()
        );
        let cover = wb.worksheet_range("cover").expect("cover");
        let note = cover
            .rows()
            .find(|r| r[0] == Data::String("recoveries: sheets".into()))
            .expect("the cover says where the rows went");
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
