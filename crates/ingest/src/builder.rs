//! Builds one table's canonical frame from rows of text cells, setting aside the rows that fail.
//!
//! Every reader (CSV, xlsx, Parquet, IPC) feeds rows here, so one set of rules decides what a
//! valid row is, whatever the format.

use polars::prelude::*;
use subsidy_model::contract::{ColType, TableSpec};

use crate::cell::{CellError, Value, parse_cell};
use crate::lines::Lines;
use crate::reject::{Reason, Rejection, clip};

/// Longest accepted field, in bytes.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// How the file's header maps onto the table's columns.
#[derive(Debug, Clone)]
pub struct Layout {
    /// For each contract column, its position in the file's rows (if present).
    pub canonical: Vec<Option<usize>>,
    /// Columns in the file that the contract does not name: kept as text.
    pub extras: Vec<(String, usize)>,
    /// Number of fields a row must have.
    pub width: usize,
}

impl Layout {
    /// Optional contract columns the file lacks, and the file's columns the contract does not name.
    pub fn report(&self, spec: &TableSpec) -> (Vec<&'static str>, Vec<String>) {
        let absent = spec
            .columns
            .iter()
            .zip(&self.canonical)
            .filter(|(_, p)| p.is_none())
            .map(|(c, _)| c.name)
            .collect();
        let extras = self.extras.iter().map(|(n, _)| n.clone()).collect();
        (absent, extras)
    }
}

/// What reading one table file gives, whatever its format.
pub struct TableRead {
    /// Accepted rows: the contract's columns, then extras.
    pub frame: DataFrame,
    /// The source line of each accepted row.
    pub lines: Lines,
    /// Rejected rows, in file order.
    pub rejected: Vec<Rejection>,
    /// Data rows read.
    pub rows: u64,
    /// Optional contract columns the file lacks.
    pub absent: Vec<&'static str>,
    /// Columns the contract does not name.
    pub extras: Vec<String>,
    /// For CSV: the encoding it was read as.
    pub encoding: Option<crate::encoding::Encoding>,
}

/// One column's values as they are read: straight into polars' builders (the values and a
/// validity mask), so a column is written once and never converted afterwards.
pub(crate) enum Buf {
    Str(StringChunkedBuilder),
    I64(PrimitiveChunkedBuilder<Int64Type>),
    F64(PrimitiveChunkedBuilder<Float64Type>),
    Bool(BooleanChunkedBuilder),
    Date(PrimitiveChunkedBuilder<Int32Type>),
    Datetime(PrimitiveChunkedBuilder<Int64Type>),
}

impl Buf {
    pub(crate) fn new(ty: ColType, name: &str, cap: usize) -> Buf {
        let name: PlSmallStr = name.into();
        match ty {
            ColType::Str
            | ColType::PersonId
            | ColType::Enum(_)
            | ColType::List
            | ColType::NumList(_) => Buf::Str(StringChunkedBuilder::new(name, cap)),
            ColType::Money | ColType::Int { .. } => {
                Buf::I64(PrimitiveChunkedBuilder::new(name, cap))
            }
            ColType::Number { .. } => Buf::F64(PrimitiveChunkedBuilder::new(name, cap)),
            ColType::Bool => Buf::Bool(BooleanChunkedBuilder::new(name, cap)),
            ColType::Date => Buf::Date(PrimitiveChunkedBuilder::new(name, cap)),
            ColType::Datetime => Buf::Datetime(PrimitiveChunkedBuilder::new(name, cap)),
        }
    }

    pub(crate) fn push(&mut self, v: &Value<'_>) {
        match (self, v) {
            (Buf::Str(b), Value::Str(s)) => b.append_value(s.as_ref()),
            (Buf::Str(b), Value::Null) => b.append_null(),
            (Buf::I64(b), Value::I64(x)) => b.append_value(*x),
            (Buf::I64(b), Value::Null) => b.append_null(),
            (Buf::F64(b), Value::F64(x)) => b.append_value(*x),
            (Buf::F64(b), Value::Null) => b.append_null(),
            (Buf::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (Buf::Bool(b), Value::Null) => b.append_null(),
            (Buf::Date(b), Value::Date(x)) => b.append_value(*x),
            (Buf::Date(b), Value::Null) => b.append_null(),
            (Buf::Datetime(b), Value::Datetime(x)) => b.append_value(*x),
            (Buf::Datetime(b), Value::Null) => b.append_null(),
            _ => unreachable!("parse_cell returns the variant of its column type"),
        }
    }

    pub(crate) fn finish(self) -> Column {
        match self {
            Buf::Str(b) => b.finish().into_series().into(),
            Buf::I64(b) => b.finish().into_series().into(),
            Buf::F64(b) => b.finish().into_series().into(),
            Buf::Bool(b) => b.finish().into_series().into(),
            Buf::Date(b) => b.finish().into_date().into_series().into(),
            Buf::Datetime(b) => b
                .finish()
                .into_datetime(TimeUnit::Milliseconds, None)
                .into_series()
                .into(),
        }
    }
}

/// An empty canonical column of type `ty` (for tables or optional columns that are absent).
pub fn empty_column(ty: ColType, name: &str, len: usize) -> Column {
    let dtype = canonical_dtype(ty);
    Column::full_null(name.into(), len, &dtype)
}

/// The polars dtype a contract type becomes ([`ColType::dtype`]).
pub fn canonical_dtype(ty: ColType) -> DataType {
    ty.dtype()
}

/// Accumulates the accepted rows of one table (or one chunk of it) and the rejected ones.
pub struct TableBuilder<'s> {
    spec: &'s TableSpec,
    layout: &'s Layout,
    file: &'s str,
    bufs: Vec<Buf>,
    extras: Vec<StringChunkedBuilder>,
    lines: Vec<u64>,
    /// Whether fields may hold a NUL byte (the reader knows its whole text holds none).
    nul_possible: bool,
    /// Rows set aside.
    pub rejected: Vec<Rejection>,
}

impl<'s> TableBuilder<'s> {
    /// A builder for `spec` with rows laid out as `layout`.
    pub fn new(spec: &'s TableSpec, layout: &'s Layout, file: &'s str, cap: usize) -> Self {
        let bufs = spec
            .columns
            .iter()
            .map(|c| Buf::new(c.ty, c.name, cap))
            .collect();
        let extras = layout
            .extras
            .iter()
            .map(|(n, _)| StringChunkedBuilder::new(n.as_str().into(), cap))
            .collect();
        TableBuilder {
            spec,
            layout,
            file,
            bufs,
            extras,
            lines: Vec::with_capacity(cap),
            nul_possible: true,
            rejected: Vec::new(),
        }
    }

    /// Tells the builder that no field it will be given holds a NUL byte (the caller searched
    /// the whole text once), so rows skip that check.
    pub fn without_nul_bytes(mut self) -> Self {
        self.nul_possible = false;
        self
    }

    fn reject(
        &mut self,
        line: u64,
        column: &str,
        value: &str,
        reason: Reason,
        message: String,
        fields: &[&str],
    ) {
        self.rejected.push(Rejection {
            table: self.spec.table.name(),
            file: self.file.to_string(),
            line,
            column: column.to_string(),
            value: clip(value, 200),
            reason,
            message,
            record: clip(&join_record(fields), 2000),
        });
    }

    /// Rejects a row for a fault found before its cells could be read (ragged, bad bytes…).
    pub fn reject_row(&mut self, line: u64, reason: Reason, message: String, fields: &[&str]) {
        self.reject(line, "", "", reason, message, fields);
    }

    /// Rejects one physical line of a file whose record could not be split into fields (a line
    /// swallowed by an unclosed quote): `record` is the line as it stands in the file, `pos` the
    /// field at fault if the line holds it, and `value` its text on that line.
    pub fn reject_line(
        &mut self,
        line: u64,
        pos: Option<usize>,
        value: &str,
        reason: Reason,
        message: String,
        record: &str,
    ) {
        let column = pos.map(|p| self.header_name(p)).unwrap_or_default();
        self.rejected.push(Rejection {
            table: self.spec.table.name(),
            file: self.file.to_string(),
            line,
            column,
            value: clip(value, 200),
            reason,
            message,
            record: clip(record, 2000),
        });
    }

    /// The header name of the field at position `pos` (empty if the header names none there).
    pub fn column_name(&self, pos: usize) -> String {
        self.header_name(pos)
    }

    /// Rejects a row for a fault in the field at position `pos`.
    pub fn reject_field(
        &mut self,
        line: u64,
        pos: usize,
        reason: Reason,
        message: String,
        fields: &[&str],
    ) {
        let col = self.header_name(pos);
        let value = fields.get(pos).copied().unwrap_or("");
        self.reject(line, &col, value, reason, message, fields);
    }

    /// Adds one row of text cells; a row that fails any check is rejected, never half-added.
    pub fn push_row(&mut self, line: u64, fields: &[&str]) {
        if fields.len() != self.layout.width {
            let msg = format!(
                "expected {} fields, found {}",
                self.layout.width,
                fields.len()
            );
            self.reject_row(line, Reason::RaggedRow, msg, fields);
            return;
        }
        for (i, f) in fields.iter().enumerate() {
            if f.len() > MAX_FIELD_BYTES {
                let col = self.header_name(i);
                let msg = format!(
                    "field of {} bytes exceeds the {MAX_FIELD_BYTES}-byte limit",
                    f.len()
                );
                self.reject(line, &col, &clip(f, 40), Reason::FieldTooLong, msg, &[]);
                return;
            }
            if self.nul_possible && f.as_bytes().contains(&0) {
                let col = self.header_name(i);
                self.reject(
                    line,
                    &col,
                    &f.replace('\0', "\\0"),
                    Reason::NulByte,
                    "NUL byte in field".into(),
                    &[],
                );
                return;
            }
        }
        // parse every contract column first; push only when all succeed
        let mut values: Vec<Value<'_>> = Vec::with_capacity(self.spec.columns.len());
        for (ci, col) in self.spec.columns.iter().enumerate() {
            let raw = self.layout.canonical[ci].map(|p| fields[p]).unwrap_or("");
            match parse_cell(col.ty, raw) {
                Ok(Value::Null) if col.required => {
                    let msg = format!("required value is empty ({})", col.ty.describe());
                    self.reject(line, col.name, raw, Reason::MissingValue, msg, fields);
                    return;
                }
                Ok(v) => values.push(v),
                Err(CellError { reason, message }) => {
                    self.reject(line, col.name, raw, reason, message, fields);
                    return;
                }
            }
        }
        for (buf, v) in self.bufs.iter_mut().zip(&values) {
            buf.push(v);
        }
        for (b, (_, p)) in self.extras.iter_mut().zip(&self.layout.extras) {
            let t = fields[*p].trim();
            if t.is_empty() {
                b.append_null()
            } else {
                b.append_value(t)
            }
        }
        self.lines.push(line);
    }

    fn header_name(&self, pos: usize) -> String {
        if let Some(ci) = self.layout.canonical.iter().position(|p| *p == Some(pos)) {
            return self.spec.columns[ci].name.to_string();
        }
        self.layout
            .extras
            .iter()
            .find(|(_, p)| *p == pos)
            .map(|(n, _)| n.clone())
            .unwrap_or_default()
    }

    /// Number of accepted rows so far.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no row was accepted.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The accepted rows as a frame (contract columns, then extras), their source lines and
    /// the rejected rows.
    pub fn finish(self) -> (DataFrame, Lines, Vec<Rejection>) {
        let mut cols: Vec<Column> = self.bufs.into_iter().map(Buf::finish).collect();
        cols.extend(
            self.extras
                .into_iter()
                .map(|b| b.finish().into_series().into()),
        );
        let height = self.lines.len();
        let df = DataFrame::new(height, cols).expect("all columns have one value per accepted row");
        (df, Lines::new(self.lines), self.rejected)
    }
}

/// Joins fields back into one CSV line, quoting where needed.
pub fn join_record(fields: &[&str]) -> String {
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out
}
