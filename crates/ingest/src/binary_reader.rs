//! Reading Parquet and Arrow IPC files, column by column.
//!
//! A column already of its canonical type (Date, Datetime, whole and decimal numbers, booleans,
//! text that needs no trimming, enum values already canonical, money as decimals or numbers) is
//! taken as it is after a vectorised check; any other column is read as text and parsed cell by
//! cell with the same parser as CSV. Faults are rejections with the row (the data row + 1, as if
//! the header were line 1), exactly as for CSV.

use std::collections::BTreeMap;

use polars::prelude::*;
use rayon::prelude::*;
use subsidy_model::contract::{ColType, TableSpec};
use subsidy_model::money::yuan_f64_to_fen;

use crate::builder::{Buf, TableRead, canonical_dtype, join_record};
use crate::cell::{CellError, Value, parse_cell};
use crate::error::IngestError;
use crate::lines::Lines;
use crate::reject::{Reason, Rejection, clip};
use crate::string_views::{NO_VIEW, TextArray, view_slot};

/// Which binary format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryFormat {
    /// Apache Parquet
    Parquet,
    /// Arrow IPC (Feather v2)
    Ipc,
}

/// A cell fault: row, value as text, reason, message.
type Fault = (usize, String, Reason, String);

/// Reads a Parquet or IPC file as table `spec`.
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
    let t = std::time::Instant::now();
    let df = match format {
        BinaryFormat::Parquet => ParquetReader::new(f).finish().map_err(bad)?,
        BinaryFormat::Ipc => IpcReader::new(f).finish().map_err(bad)?,
    };
    subsidy_model::trace::lap(&format!("  {file} decoded"), t);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.trim().to_lowercase())
        .collect();
    let layout = crate::layout(spec, file, &names)?;
    let n = df.height();
    let mut cols: Vec<Column> = Vec::with_capacity(spec.columns.len() + layout.extras.len());
    let mut faults: BTreeMap<usize, (String, String, Reason, String)> = BTreeMap::new();
    // columns convert independently: in parallel
    let converted: Vec<PolarsResult<(Column, Vec<Fault>)>> = spec
        .columns
        .par_iter()
        .enumerate()
        .map(|(ci, c)| match layout.canonical[ci] {
            Some(pos) => {
                let t = std::time::Instant::now();
                let done = convert(&df.columns()[pos], c.ty, c.name);
                subsidy_model::trace::lap(&format!("    {file} {} converted", c.name), t);
                done
            }
            None => Ok((crate::builder::empty_column(c.ty, c.name, n), Vec::new())),
        })
        .collect();
    for ((column_errs, c), _) in converted.into_iter().zip(spec.columns.iter()).zip(0..) {
        let (column, errs) = column_errs.map_err(bad)?;
        for (row, value, reason, message) in errs {
            faults
                .entry(row)
                .or_insert((c.name.to_string(), value, reason, message));
        }
        if c.required && column.null_count() > 0 {
            for (row, v) in column.as_materialized_series().is_null().iter().enumerate() {
                if v == Some(true) {
                    let msg = format!("required value is empty ({})", c.ty.describe());
                    faults.entry(row).or_insert((
                        c.name.to_string(),
                        String::new(),
                        Reason::MissingValue,
                        msg,
                    ));
                }
            }
        }
        cols.push(column);
    }
    for (name, pos) in &layout.extras {
        cols.push(
            df.columns()[*pos]
                .cast(&DataType::String)
                .map_err(bad)?
                .with_name(name.as_str().into()),
        );
    }
    subsidy_model::trace::lap(&format!("  {file} converted"), t);
    let mut frame = DataFrame::new(n, cols).map_err(bad)?;
    // row i is the file's row i + 1 after its header: line i + 2, as a CSV export would have it
    let mut lines = Lines::run(2, n);
    let mut rejected = Vec::with_capacity(faults.len());
    if !faults.is_empty() {
        let mut keep = vec![true; n];
        for (row, (column, value, reason, message)) in &faults {
            keep[*row] = false;
            let record: Vec<String> = df
                .get(*row)
                .map(|r| {
                    r.iter()
                        .map(|v| match v {
                            AnyValue::Null => String::new(),
                            AnyValue::String(s) => s.to_string(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let refs: Vec<&str> = record.iter().map(String::as_str).collect();
            rejected.push(Rejection {
                table: spec.table.name(),
                file: file.to_string(),
                line: *row as u64 + 2,
                column: column.clone(),
                value: clip(value, 200),
                reason: *reason,
                message: message.clone(),
                record: clip(&join_record(&refs), 2000),
            });
        }
        let t = std::time::Instant::now();
        frame = frame
            .filter(&BooleanChunked::from_slice("keep".into(), &keep))
            .map_err(bad)?;
        lines = lines.filter(&keep);
        subsidy_model::trace::lap(
            &format!("  {file}: {} faulty rows set aside", faults.len()),
            t,
        );
    }
    let (absent, extras) = layout.report(spec);
    Ok(TableRead {
        frame,
        lines,
        rejected,
        rows: n as u64,
        absent,
        extras,
        encoding: None,
    })
}

/// Converts one column to its canonical type.
fn convert(col: &Column, ty: ColType, name: &str) -> PolarsResult<(Column, Vec<Fault>)> {
    let s = col.as_materialized_series();
    let out_name: PlSmallStr = name.into();
    match (s.dtype(), ty) {
        (DataType::String, ColType::Str | ColType::PersonId | ColType::Enum(_)) => {
            // taken as it is when no value needs trimming, an upper-case X, or a canonical name
            let clean = match ty {
                ColType::Enum(k) => enum_clean(s.str()?, |v| k.canonical(v) == Some(v)),
                ColType::PersonId => ends_clean(s.str()?, |_, last| last != b'x'),
                _ => ends_clean(s.str()?, |_, _| true),
            };
            if clean {
                return Ok((s.clone().with_name(out_name).into_column(), Vec::new()));
            }
            parse_text(s, ty, name)
        }
        (DataType::String, ColType::List) => {
            if all_views(s.str()?, |arr, k| is_normal_list(arr.value(k))) {
                return Ok((s.clone().with_name(out_name).into_column(), Vec::new()));
            }
            parse_text(s, ty, name)
        }
        (DataType::Date, ColType::Date) | (DataType::Boolean, ColType::Bool) => {
            Ok((s.clone().with_name(out_name).into_column(), Vec::new()))
        }
        (DataType::Datetime(_, None), ColType::Datetime) => Ok((
            s.cast(&canonical_dtype(ty))?
                .with_name(out_name)
                .into_column(),
            Vec::new(),
        )),
        (dt, ColType::Int { min, max }) if dt.is_integer() => {
            let v = s.cast(&DataType::Int64)?;
            let ca = v.i64()?;
            if ca.min().is_none_or(|x| x >= min) && ca.max().is_none_or(|x| x <= max) {
                return Ok((v.with_name(out_name).into_column(), Vec::new()));
            }
            let faults = v
                .i64()?
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    x.filter(|x| *x < min || *x > max).map(|x| {
                        (
                            i,
                            x.to_string(),
                            Reason::OutOfRange,
                            format!("{x} is outside {min}..{max}"),
                        )
                    })
                })
                .collect();
            Ok((v.with_name(out_name).into_column(), faults))
        }
        (dt, ColType::Number { min, max }) if dt.is_primitive_numeric() => {
            let v = s.cast(&DataType::Float64)?;
            if all_within(v.f64()?, min, max) {
                return Ok((v.with_name(out_name).into_column(), Vec::new()));
            }
            let faults = v
                .f64()?
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    let x = x?;
                    if !x.is_finite() {
                        Some((
                            i,
                            x.to_string(),
                            Reason::BadNumber,
                            format!("`{x}` is not a number"),
                        ))
                    } else if x < min || x > max {
                        Some((
                            i,
                            x.to_string(),
                            Reason::OutOfRange,
                            format!("{x} is outside {min}..{max}"),
                        ))
                    } else {
                        None
                    }
                })
                .collect();
            Ok((v.with_name(out_name).into_column(), faults))
        }
        (DataType::Decimal(_, scale), ColType::Money) => {
            // the physical integer counts 10^-scale yuan
            let scale = *scale as u32;
            let phys = s.to_physical_repr().into_owned();
            let raw = phys.i128()?;
            let mut faults = Vec::new();
            let fen: Int64Chunked = raw
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let v = v?;
                    let f = if scale <= 2 {
                        Some(v * 10i128.pow(2 - scale))
                    } else {
                        let d = 10i128.pow(scale - 2);
                        (v % d == 0).then(|| v / d)
                    };
                    match f {
                        Some(f) if f < 0 => {
                            faults.push((
                                i,
                                v.to_string(),
                                Reason::NegativeMoney,
                                "negative money".to_string(),
                            ));
                            None
                        }
                        Some(f) => i64::try_from(f).ok(),
                        None => {
                            faults.push((
                                i,
                                v.to_string(),
                                Reason::BadMoney,
                                "more than two decimals".to_string(),
                            ));
                            None
                        }
                    }
                })
                .collect();
            Ok((fen.with_name(out_name).into_column(), faults))
        }
        (dt, ColType::Money) if dt.is_primitive_numeric() => {
            let v = s.cast(&DataType::Float64)?;
            let mut faults = Vec::new();
            let fen: Int64Chunked = v
                .f64()?
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let x = x?;
                    match yuan_f64_to_fen(x) {
                        Ok(f) => Some(f),
                        Err(e) => {
                            let reason = if matches!(e, subsidy_model::money::MoneyError::Negative)
                            {
                                Reason::NegativeMoney
                            } else {
                                Reason::BadMoney
                            };
                            faults.push((
                                i,
                                x.to_string(),
                                reason,
                                format!("`{x}` is not money in yuan: {e}"),
                            ));
                            None
                        }
                    }
                })
                .collect();
            Ok((fen.with_name(out_name).into_column(), faults))
        }
        _ => parse_text(s, ty, name),
    }
}

/// The column as text, parsed cell by cell like CSV.
fn parse_text(s: &Series, ty: ColType, name: &str) -> PolarsResult<(Column, Vec<Fault>)> {
    let text = s.cast(&DataType::String)?;
    let ca = text.str()?;
    let mut faults = Vec::new();
    let mut buf = Buf::new(ty, name, ca.len());
    for (i, v) in ca.iter().enumerate() {
        match v.map(|v| parse_cell(ty, v)) {
            None => buf.push(&Value::Null),
            Some(Ok(x)) => buf.push(&x),
            Some(Err(CellError { reason, message })) => {
                faults.push((i, v.unwrap_or("").to_string(), reason, message));
                buf.push(&Value::Null);
            }
        }
    }
    let col = buf.finish();
    Ok((col, faults))
}

/// Whether a `;`-separated list is already in its canonical form (what `parse_cell` would make
/// of it): items trimmed and non-empty, `;` only.
fn is_normal_list(v: &str) -> bool {
    !v.is_empty() && !v.contains('；') && v.split(';').all(|p| !p.is_empty() && p.trim() == p)
}

/// Calls `judge(k)` for each non-null row `k` of each array of `ca` whose string view is not
/// among the views already judged well, stopping at the first `false`. A decoded Parquet
/// dictionary repeats one view for a repeated value, so a column of a few thousand distinct
/// values is judged a few thousand times, whatever its length; the cache is direct-mapped,
/// so a column of unique values costs one extra comparison a row.
fn all_views(ca: &StringChunked, mut judge: impl FnMut(&TextArray, usize) -> bool) -> bool {
    const SLOTS: usize = 512;
    let mut good = vec![0u128; SLOTS];
    ca.downcast_iter().zip(ca.chunks()).all(|(arr, chunk)| {
        // a long value's view points into its own array's buffers: the cache starts afresh
        good.fill(NO_VIEW);
        let nulls = chunk.validity().filter(|b| b.unset_bits() > 0);
        // the previous row's view, judged well: runs of one value cost a comparison a row
        let mut prev = NO_VIEW;
        arr.views().iter().enumerate().all(|(k, view)| {
            let key = view.as_u128();
            if key == prev {
                return true;
            }
            let slot = view_slot(key, SLOTS);
            if good[slot] == key {
                prev = key;
                return true;
            }
            if nulls.is_some_and(|b| !b.get_bit(k)) {
                return true;
            }
            let ok = judge(arr, k);
            if ok {
                good[slot] = key;
                prev = key;
            }
            ok
        })
    })
}

/// Whether every non-null text value is non-empty with nothing to trim (its first and last
/// characters are not white space, as `str::trim` has it) and `ends(first, last)` holds for its
/// first and last bytes. Only the two ends of a value are read: the text of a UTF-8 column is
/// valid UTF-8, so its last character starts within its last four bytes.
fn ends_clean(ca: &StringChunked, ends: impl Fn(u8, u8) -> bool) -> bool {
    all_views(ca, |arr, k| {
        let v = arr.value(k);
        let b = v.as_bytes();
        match (v.chars().next(), v.chars().next_back()) {
            (Some(first), Some(last)) => {
                !first.is_whitespace() && !last.is_whitespace() && ends(b[0], b[b.len() - 1])
            }
            _ => false,
        }
    })
}

/// Whether every non-null number lies in `min..=max` (NaN fails every comparison and infinities
/// fail the range): one pass over the values, no intermediate arrays, in blocks the compiler
/// can vectorise (no early exit inside a block).
fn all_within(ca: &Float64Chunked, min: f64, max: f64) -> bool {
    let ok = |x: f64| x >= min && x <= max;
    ca.downcast_iter().all(|arr| {
        // the slots under nulls hold some number too: when every slot is in range, so is
        // every value; otherwise the values are looked at one by one
        arr.values()
            .chunks(1024)
            .all(|block| block.iter().fold(true, |all, &x| all & ok(x)))
            || arr.non_null_values_iter().all(ok)
    })
}

/// Whether every non-null value of an enum column is canonical (`ok`). Enum names are short
/// enough to sit inline in their string view, so equal views are equal names: each distinct
/// value is judged once.
fn enum_clean(ca: &StringChunked, ok: impl Fn(&str) -> bool) -> bool {
    all_views(ca, |arr, k| ok(arr.value(k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &[Option<&str>]) -> StringChunked {
        StringChunked::from_iter_options("t".into(), v.iter().copied())
    }

    #[test]
    fn a_look_alike_view_in_another_chunk_is_judged_by_its_own_text() {
        // equal length, first bytes and buffer position: bit-for-bit equal views
        let mut ca = text(&[Some("110105194912310021"), Some("110105194912310021")]);
        ca.append(&text(&[Some("11010519491231002 ")]))
            .expect("append");
        assert_eq!(ca.chunks().len(), 2);
        assert!(!ends_clean(&ca, |_, _| true));
    }

    #[test]
    fn ends_clean_judges_short_and_long_values_by_their_ends() {
        let any = |_: u8, _: u8| true;
        let ok = text(&[
            Some("CL00000001"),
            None,
            Some("370102200508090480"),
            Some("张三"),
        ]);
        assert!(ends_clean(&ok, any));
        for bad in [
            " CL1",
            "CL1 ",
            "370102200508090480 ",
            " 370102200508090480",
            "370102200508090480\t",
            "\u{3000}张三",
            "张三\u{3000}",
            "CL1\u{b}",
            "",
        ] {
            let ca = text(&[Some("CL00000001"), Some(bad)]);
            assert!(!ends_clean(&ca, any), "{bad:?} passed");
        }
        // a repeated value is judged once, a different one after it again
        let ca = text(&[Some("CL1"), Some("CL1"), Some("CL1 ")]);
        assert!(!ends_clean(&ca, any));
        // the extra test sees the first and last bytes, inline or not
        let x = |_: u8, last: u8| last != b'x';
        assert!(!ends_clean(&text(&[Some("11010519491231002x")]), x));
        assert!(!ends_clean(&text(&[Some("1234x")]), x));
        assert!(ends_clean(&text(&[Some("11010519491231002X")]), x));
    }

    #[test]
    fn numbers_within_fail_on_nan_infinity_and_range() {
        let f =
            |v: &[Option<f64>]| Float64Chunked::from_iter_options("f".into(), v.iter().copied());
        assert!(all_within(&f(&[Some(0.0), None, Some(1.0)]), 0.0, 1.0));
        assert!(all_within(&f(&[Some(0.5), Some(0.25)]), 0.0, 1.0));
        for bad in [f64::NAN, f64::INFINITY, -0.1, 1.1] {
            assert!(!all_within(&f(&[Some(0.5), Some(bad)]), 0.0, 1.0), "{bad}");
            assert!(
                !all_within(&f(&[None, Some(bad)]), 0.0, 1.0),
                "{bad} with a null"
            );
        }
    }

    #[test]
    fn a_list_is_normal_only_as_parse_cell_would_write_it() {
        assert!(is_normal_list("E1;E2;E3"));
        assert!(is_normal_list("E1"));
        for bad in ["", "E1;", ";E1", "E1;;E2", "E1 ;E2", "E1； E2", " E1"] {
            assert!(!is_normal_list(bad), "{bad:?}");
        }
    }

    #[test]
    fn enum_columns_are_judged_per_value_even_in_repeats() {
        let ok = |v: &str| v == "in" || v == "out";
        assert!(enum_clean(
            &text(&[Some("in"), Some("in"), Some("out"), Some("in")]),
            ok
        ));
        assert!(!enum_clean(
            &text(&[Some("in"), Some("in"), Some("IN"), Some("in")]),
            ok
        ));
    }
}
