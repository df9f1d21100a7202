//! The contract's output tables as CSV and Parquet.

use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;
use subsidy_model::money::format_yuan;
use subsidy_model::output::OutType;

use crate::{ReportError, spreadsheet_safe};

/// Writes `df` (whose columns are `cols`, money in fen) as `<dir>/<name>.csv` and
/// `<dir>/<name>.parquet`.
pub fn write_table(
    dir: &Path,
    name: &str,
    cols: &[(&str, OutType)],
    df: &DataFrame,
) -> Result<(), ReportError> {
    write_csv(&dir.join(format!("{name}.csv")), cols, df)?;
    write_parquet(&dir.join(format!("{name}.parquet")), cols, df)
}

/// Writes `df` as CSV: money as yuan with two decimals, floats with up to six decimals, text made
/// spreadsheet-safe.
pub fn write_csv(path: &Path, cols: &[(&str, OutType)], df: &DataFrame) -> Result<(), ReportError> {
    let csv_err = |e: csv::Error| ReportError::Csv {
        path: path.display().to_string(),
        source: e,
    };
    let f = std::fs::File::create(path).map_err(|e| ReportError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, f));
    w.write_record(cols.iter().map(|(n, _)| *n))
        .map_err(csv_err)?;
    // row by row from the columns: no column is turned into a vector of strings first
    enum Cells {
        Str(StringChunked),
        Money(Int64Chunked),
        Int(Int64Chunked),
        Float(Float64Chunked),
    }
    let cells: Vec<Cells> = cols
        .iter()
        .map(|(n, t)| -> PolarsResult<Cells> {
            let c = df.column(n)?;
            Ok(match t {
                OutType::Str => Cells::Str(c.str()?.rechunk().into_owned()),
                OutType::Money => Cells::Money(c.i64()?.rechunk().into_owned()),
                OutType::Int => Cells::Int(c.i64()?.rechunk().into_owned()),
                OutType::Float => Cells::Float(c.f64()?.rechunk().into_owned()),
            })
        })
        .collect::<PolarsResult<_>>()?;
    let mut buf: Vec<String> = vec![String::new(); cells.len()];
    for i in 0..df.height() {
        for (b, c) in buf.iter_mut().zip(&cells) {
            b.clear();
            match c {
                Cells::Str(ca) => {
                    if let Some(v) = ca.get(i) {
                        b.push_str(&spreadsheet_safe(v));
                    }
                }
                Cells::Money(ca) => {
                    if let Some(v) = ca.get(i) {
                        b.push_str(&format_yuan(v));
                    }
                }
                Cells::Int(ca) => {
                    if let Some(v) = ca.get(i) {
                        let _ = write!(b, "{v}");
                    }
                }
                Cells::Float(ca) => {
                    if let Some(v) = ca.get(i) {
                        b.push_str(&format_float(v));
                    }
                }
            }
        }
        w.write_record(buf.iter().map(String::as_str))
            .map_err(csv_err)?;
    }
    w.flush().map_err(|e| ReportError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    Ok(())
}

/// A column's cells as CSV text.
pub fn column_text(c: &Column, t: OutType) -> PolarsResult<Vec<String>> {
    Ok(match t {
        OutType::Str => c
            .str()?
            .iter()
            .map(|v| {
                v.map(|s| spreadsheet_safe(s).into_owned())
                    .unwrap_or_default()
            })
            .collect(),
        OutType::Money => c
            .i64()?
            .iter()
            .map(|v| v.map(format_yuan).unwrap_or_default())
            .collect(),
        OutType::Int => c
            .i64()?
            .iter()
            .map(|v| v.map(|x| x.to_string()).unwrap_or_default())
            .collect(),
        OutType::Float => c
            .f64()?
            .iter()
            .map(|v| v.map(format_float).unwrap_or_default())
            .collect(),
    })
}

/// A float with at most six decimals and no trailing zeros (`0.5`, `12`, `0.333333`).
pub fn format_float(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Writes `df` as Parquet (zstd), money as `Decimal(18, 2)` yuan.
pub fn write_parquet(
    path: &Path,
    cols: &[(&str, OutType)],
    df: &DataFrame,
) -> Result<(), ReportError> {
    let mut out_cols = Vec::with_capacity(cols.len());
    for (n, t) in cols {
        let c = df.column(n)?;
        let c = match t {
            OutType::Money => c
                .as_materialized_series()
                .cast(&DataType::Int128)?
                .into_decimal(18, 2)?
                .into_column(),
            _ => c.clone(),
        };
        out_cols.push(c);
    }
    let mut out = DataFrame::new_infer_height(out_cols)?;
    let f = std::fs::File::create(path).map_err(|e| ReportError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    ParquetWriter::new(f)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use subsidy_model::output::RECOVERIES;

    #[test]
    fn csv_and_parquet_carry_exact_money() {
        let df = df!(
            "claim_id" => ["c1", "c2"],
            "responsible_party" => ["=evil()", "p"],
            "institution_id" => [Some("i"), None],
            "amount_paid" => [150_050i64, 7],
            "recover_amount" => [150_050i64, 0],
            "finding_ids" => ["f1;f2", ""],
            "basis" => ["DC-01", ""],
        )
        .expect("frame");
        let dir = tempfile::tempdir().expect("tmp");
        write_table(dir.path(), "recoveries", RECOVERIES, &df).expect("write");
        let text = std::fs::read_to_string(dir.path().join("recoveries.csv")).expect("csv");
        assert_eq!(
            text,
            "claim_id,responsible_party,institution_id,amount_paid,recover_amount,finding_ids,basis\nc1,'=evil(),i,1500.50,1500.50,f1;f2,DC-01\nc2,p,,0.07,0.00,,\n"
        );
        let back = ParquetReader::new(
            std::fs::File::open(dir.path().join("recoveries.parquet")).expect("open"),
        )
        .finish()
        .expect("read");
        assert_eq!(
            back.column("amount_paid").expect("col").dtype(),
            &DataType::Decimal(18, 2)
        );
        let as_text = back
            .column("amount_paid")
            .expect("col")
            .cast(&DataType::String)
            .expect("cast");
        assert_eq!(as_text.str().expect("str").get(0), Some("1500.50"));
    }

    #[test]
    fn floats_are_stable() {
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(12.0), "12");
        assert_eq!(format_float(1.0 / 3.0), "0.333333");
        assert_eq!(format_float(-0.0), "0");
    }
}
