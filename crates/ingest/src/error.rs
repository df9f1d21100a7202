//! Errors that make a package unusable (exit code 2). Row-level faults are not errors: they are
//! [`Rejection`](crate::reject::Rejection)s.

use thiserror::Error;

/// Why a package cannot be read.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The package folder does not exist or is not a folder.
    #[error("package `{path}` is not a readable folder")]
    NotAFolder {
        /// the path given
        path: String,
    },
    /// A required table has no file.
    #[error(
        "the package has no `{table}` table: expected {table}.csv, {table}.parquet, {table}.arrow or a `{table}` sheet in package.xlsx{hint}"
    )]
    MissingTable {
        /// table name
        table: &'static str,
        /// "; did you mean …" or empty
        hint: String,
    },
    /// Two files claim the same table.
    #[error("table `{table}` is given twice: {first} and {second}; keep one")]
    AmbiguousTable {
        /// table name
        table: &'static str,
        /// one file
        first: String,
        /// the other
        second: String,
    },
    /// A required column is absent from the header.
    #[error("{file}: required column `{column}` is missing{hint}")]
    MissingColumn {
        /// the file
        file: String,
        /// the missing column
        column: &'static str,
        /// "; did you mean …" and the columns found
        hint: String,
    },
    /// The same column name twice in a header.
    #[error("{file}: column `{column}` appears twice in the header (columns {first} and {second})")]
    DuplicateColumn {
        /// the file
        file: String,
        /// the name
        column: String,
        /// 1-based position of the first
        first: usize,
        /// 1-based position of the second
        second: usize,
    },
    /// No header at all.
    #[error("{file}: the file is empty (no header row)")]
    EmptyFile {
        /// the file
        file: String,
    },
    /// The header could not be read.
    #[error("{file}: cannot read the header: {message}")]
    Header {
        /// the file
        file: String,
        /// why
        message: String,
    },
    /// A workbook could not be opened or a sheet read.
    #[error("{file}: cannot read the workbook: {message}")]
    Workbook {
        /// the file
        file: String,
        /// why
        message: String,
    },
    /// A Parquet or IPC file could not be decoded.
    #[error("{file}: cannot read the file: {message}")]
    Unreadable {
        /// the file
        file: String,
        /// why
        message: String,
    },
    /// An I/O error.
    #[error("{file}: {source}")]
    Io {
        /// the file
        file: String,
        /// the cause
        #[source]
        source: std::io::Error,
    },
    /// An internal frame operation failed.
    #[error("internal frame error: {0}")]
    Frame(#[from] polars::prelude::PolarsError),
}
