//! Small helpers for reading frames row by row.

use polars::prelude::*;

/// A column as text, one contiguous chunk (read per row without a per-row allocation); any
/// type is cast to its text form.
pub fn text_column(df: &DataFrame, c: &str) -> PolarsResult<StringChunked> {
    Ok(df
        .column(c)?
        .cast(&DataType::String)?
        .str()?
        .rechunk()
        .into_owned())
}
