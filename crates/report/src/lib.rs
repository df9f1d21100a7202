//! # subsidy-report
//!
//! Writers for the output files of the contract, and masking of personal data.
//!
//! - [`tables`]: `findings`, `recoveries`, `parties`, `identities` as CSV (money in yuan with
//!   two decimals, cells that a spreadsheet would run as formulas neutralised) and as Parquet
//!   (money as `Decimal(18, 2)` yuan, exact).
//! - [`rejected`]: `rejected/<table>.csv`, one file per table with rejected rows.
//! - [`mask`]: masking of ID numbers, phones and bank accounts for human-facing reports.
//! - [`xlsx`]: `report.xlsx` for auditors: a cover, then a sheet per output.
//! - [`html`]: `report.html` for supervisors: the cover, a dashboard, a dossier per institution.
//! - [`cover`]: the cover both share; [`i18n`]: Chinese (default) or English labels, codes and
//!   GB/T 2260 region names; [`names`]: names beside codes.
//!
//! Every writer sorts nothing itself: callers hand over frames already in output order, so the
//! same input gives the same bytes.

pub mod cover;
pub mod html;
pub mod i18n;
pub mod mask;
pub mod names;
pub mod rejected;
pub mod sample;
pub mod tables;
pub mod xlsx;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// the path
        path: String,
        /// the cause
        #[source]
        source: std::io::Error,
    },
    /// A frame operation failed.
    #[error("{0}")]
    Frame(#[from] polars::prelude::PolarsError),
    /// CSV writing failed.
    #[error("{path}: {source}")]
    Csv {
        /// the path
        path: String,
        /// the cause
        #[source]
        source: csv::Error,
    },
}

/// Makes a text cell safe to open in a spreadsheet: a leading `=`, `+`, `-`, `@`, tab or
/// carriage return would start a formula, so such a cell gets a leading apostrophe
/// (OWASP's advice against CSV injection). Numbers are not text cells and are left alone.
pub fn spreadsheet_safe(s: &str) -> std::borrow::Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => std::borrow::Cow::Owned(format!("'{s}")),
        _ => std::borrow::Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            super::spreadsheet_safe("=HYPERLINK(\"http://x\",\"y\")"),
            "'=HYPERLINK(\"http://x\",\"y\")"
        );
        assert_eq!(super::spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::spreadsheet_safe("张三"), "张三");
    }
}
