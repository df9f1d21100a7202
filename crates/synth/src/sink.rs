//! Where generated rows go: one CSV or Parquet file per table, written as rows arrive so that
//! memory stays bounded at any scale.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use polars::prelude::*;
use subsidy_ingest::builder::{Layout, TableBuilder};
use subsidy_model::contract::{ColType, Table, TableSpec};

use crate::SynthError;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV, UTF-8
    Csv,
    /// Parquet, typed (money as Decimal(18,2) yuan)
    Parquet,
}

const BATCH: usize = 262_144;

/// One table's output.
pub struct Sink {
    spec: &'static TableSpec,
    inner: Inner,
    /// Rows written.
    pub rows: u64,
}

enum Inner {
    Csv(csv::Writer<BufWriter<File>>),
    Parquet {
        rows: Vec<Vec<String>>,
        writer: Option<polars::io::parquet::write::BatchedWriter<File>>,
        file: Option<File>,
        layout: Layout,
    },
}

impl Sink {
    /// Opens `<dir>/<table>.<ext>`.
    pub fn open(dir: &Path, table: Table, format: Format) -> Result<Sink, SynthError> {
        let spec = table.spec();
        let inner = match format {
            Format::Csv => {
                let f = File::create(dir.join(format!("{}.csv", table.name())))?;
                let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f));
                w.write_record(spec.columns.iter().map(|c| c.name))?;
                Inner::Csv(w)
            }
            Format::Parquet => {
                let f = File::create(dir.join(format!("{}.parquet", table.name())))?;
                let layout = Layout {
                    canonical: (0..spec.columns.len()).map(Some).collect(),
                    extras: Vec::new(),
                    width: spec.columns.len(),
                };
                Inner::Parquet {
                    rows: Vec::with_capacity(BATCH),
                    writer: None,
                    file: Some(f),
                    layout,
                }
            }
        };
        Ok(Sink {
            spec,
            inner,
            rows: 0,
        })
    }

    /// Writes one row (all contract columns, in order, as text).
    pub fn row(&mut self, fields: &[&str]) -> Result<(), SynthError> {
        debug_assert_eq!(fields.len(), self.spec.columns.len(), "{}", self.spec.table);
        self.rows += 1;
        match &mut self.inner {
            Inner::Csv(w) => w.write_record(fields)?,
            Inner::Parquet { rows, .. } => {
                rows.push(fields.iter().map(|s| s.to_string()).collect());
                if rows.len() >= BATCH {
                    self.flush()?;
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SynthError> {
        let spec = self.spec;
        let Inner::Parquet {
            rows,
            writer,
            file,
            layout,
        } = &mut self.inner
        else {
            return Ok(());
        };
        let mut b = TableBuilder::new(spec, layout, "", rows.len());
        for r in rows.iter() {
            let refs: Vec<&str> = r.iter().map(String::as_str).collect();
            b.push_row(0, &refs);
        }
        rows.clear();
        let (mut df, _, rejected) = b.finish();
        if let Some(r) = rejected.first() {
            return Err(SynthError::Invalid(format!(
                "generated row rejected: {} {} `{}`: {}",
                r.table, r.column, r.value, r.message
            )));
        }
        for c in spec.columns {
            if c.ty == ColType::Money {
                let s = df
                    .column(c.name)?
                    .as_materialized_series()
                    .cast(&DataType::Int128)?
                    .into_decimal(18, 2)?;
                df.with_column(s.into_column())?;
            }
        }
        if writer.is_none() {
            let f = file.take().expect("file until the writer exists");
            *writer = Some(
                ParquetWriter::new(f)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(df.schema())?,
            );
        }
        writer.as_mut().expect("writer").write_batch(&df)?;
        Ok(())
    }

    /// Flushes and closes.
    pub fn finish(mut self) -> Result<u64, SynthError> {
        match &mut self.inner {
            Inner::Csv(w) => w.flush()?,
            Inner::Parquet { .. } => {
                self.flush()?;
                if let Inner::Parquet {
                    writer: Some(w), ..
                } = &self.inner
                {
                    w.finish()?;
                }
            }
        }
        Ok(self.rows)
    }
}
