//! Rejected rows: what ingest set aside, where it came from and why. Ingest makes them; the
//! scan counts them in the manifest and the report writes them out (`rejected/<table>.csv`).

use serde::Serialize;

/// Why a row was rejected. The codes are stable: the manifest counts rows per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// more or fewer fields than the header
    RaggedRow,
    /// a quoted field that never closes
    UnterminatedQuote,
    /// bytes that are not valid in the file's encoding
    InvalidEncoding,
    /// a NUL byte in a field
    NulByte,
    /// a field longer than the limit
    FieldTooLong,
    /// a spreadsheet error cell (`#N/A`, `#REF!` …)
    CellError,
    /// a required value is empty
    MissingValue,
    /// not a date
    BadDate,
    /// not a datetime
    BadDatetime,
    /// not a number
    BadNumber,
    /// a number outside its allowed range
    OutOfRange,
    /// money below zero
    NegativeMoney,
    /// money that is not a decimal with at most two places
    BadMoney,
    /// a value outside the column's vocabulary
    UnknownEnum,
    /// not a boolean
    BadBool,
    /// a malformed list
    BadList,
    /// a second row with an existing primary key
    DuplicateKey,
    /// a reference to a row that does not exist (or was itself rejected)
    OrphanReference,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: &'static [Reason] = &[
        Reason::RaggedRow,
        Reason::UnterminatedQuote,
        Reason::InvalidEncoding,
        Reason::NulByte,
        Reason::FieldTooLong,
        Reason::CellError,
        Reason::MissingValue,
        Reason::BadDate,
        Reason::BadDatetime,
        Reason::BadNumber,
        Reason::OutOfRange,
        Reason::NegativeMoney,
        Reason::BadMoney,
        Reason::UnknownEnum,
        Reason::BadBool,
        Reason::BadList,
        Reason::DuplicateKey,
        Reason::OrphanReference,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::RaggedRow => "ragged_row",
            Reason::UnterminatedQuote => "unterminated_quote",
            Reason::InvalidEncoding => "invalid_encoding",
            Reason::NulByte => "nul_byte",
            Reason::FieldTooLong => "field_too_long",
            Reason::CellError => "cell_error",
            Reason::MissingValue => "missing_value",
            Reason::BadDate => "bad_date",
            Reason::BadDatetime => "bad_datetime",
            Reason::BadNumber => "bad_number",
            Reason::OutOfRange => "out_of_range",
            Reason::NegativeMoney => "negative_money",
            Reason::BadMoney => "bad_money",
            Reason::UnknownEnum => "unknown_enum",
            Reason::BadBool => "bad_bool",
            Reason::BadList => "bad_list",
            Reason::DuplicateKey => "duplicate_key",
            Reason::OrphanReference => "orphan_reference",
        }
    }
}

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The table it was meant for.
    pub table: &'static str,
    /// The source file (name within the package; `package.xlsx#sheet` for workbooks).
    pub file: String,
    /// 1-based line (CSV: physical line where the record starts; xlsx: sheet row;
    /// Parquet/IPC: data row + 1, as if the header were line 1).
    pub line: u64,
    /// The column at fault (empty for whole-row faults).
    pub column: String,
    /// The offending value, cut to 200 characters.
    pub value: String,
    /// The reason code.
    pub reason: Reason,
    /// A sentence for the reviewer.
    pub message: String,
    /// The whole row as read, fields joined with `,` (cut to 2,000 characters).
    pub record: String,
}

/// Cuts a string to at most `n` characters, marking the cut.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}
