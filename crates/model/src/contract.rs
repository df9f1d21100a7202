//! The input contract (`DATA_CONTRACT.md`) as data: every table, its columns, their types, which
//! are required, the primary keys and the references checked between tables.
//!
//! Canonical frame types, one per [`ColType`]:
//!
//! | contract type | polars dtype in the canonical frame |
//! | --- | --- |
//! | string, enum, id | `String` (enums hold the canonical lowercase English name) |
//! | money | `Int64` **fen** (1 yuan = 100 fen); the column keeps its contract name |
//! | date | `Date` |
//! | datetime | `Datetime(ms)`, China Standard Time wall clock (offsets converted to UTC+8) |
//! | int | `Int64` |
//! | number | `Float64` |
//! | bool | `Boolean` |
//! | list | `String`, items trimmed and joined with `;` |

/// One table of the input package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Table {
    Institutions,
    Persons,
    Occupations,
    Classes,
    Sessions,
    Enrollments,
    Attendance,
    Evaluations,
    Claims,
    PersonStatus,
    Staff,
    SubsidyStandards,
    EnterpriseFunds,
}

impl Table {
    /// Every table, in the order they are read: referenced tables before referencing ones.
    pub const ALL: [Table; 13] = [
        Table::Institutions,
        Table::Persons,
        Table::Occupations,
        Table::Classes,
        Table::Sessions,
        Table::Enrollments,
        Table::Attendance,
        Table::Evaluations,
        Table::Claims,
        Table::PersonStatus,
        Table::Staff,
        Table::SubsidyStandards,
        Table::EnterpriseFunds,
    ];

    /// The file stem and sheet name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Institutions => "institutions",
            Table::Persons => "persons",
            Table::Occupations => "occupations",
            Table::Classes => "classes",
            Table::Sessions => "sessions",
            Table::Enrollments => "enrollments",
            Table::Attendance => "attendance",
            Table::Evaluations => "evaluations",
            Table::Claims => "claims",
            Table::PersonStatus => "person_status",
            Table::Staff => "staff",
            Table::SubsidyStandards => "subsidy_standards",
            Table::EnterpriseFunds => "enterprise_funds",
        }
    }

    /// Parses a table name.
    pub fn from_name(s: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == s)
    }

    /// Whether a package must contain this table.
    pub fn required(self) -> bool {
        !matches!(
            self,
            Table::PersonStatus
                | Table::Sessions
                | Table::Staff
                | Table::SubsidyStandards
                | Table::EnterpriseFunds
        )
    }

    /// The table's specification.
    pub fn spec(self) -> &'static TableSpec {
        TABLES
            .iter()
            .find(|s| s.table == self)
            .expect("every table has a spec")
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The vocabulary an enum column draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum EnumKind {
    InstitutionKind,
    Level,
    Mode,
    Scheme,
    FundSource,
    Direction,
    Method,
    Status,
    Sector,
    Gender,
    StaffRole,
}

impl EnumKind {
    /// The canonical name for `s`, if `s` is a name or alias of this vocabulary.
    pub fn canonical(self, s: &str) -> Option<&'static str> {
        use crate::vocab::*;
        match self {
            EnumKind::InstitutionKind => InstitutionKind::parse(s).map(|v| v.as_str()),
            EnumKind::Level => Level::parse(s).map(|v| v.as_str()),
            EnumKind::Mode => Mode::parse(s).map(|v| v.as_str()),
            EnumKind::Scheme => Scheme::parse(s).map(|v| v.as_str()),
            EnumKind::FundSource => FundSource::parse(s).map(|v| v.as_str()),
            EnumKind::Direction => Direction::parse(s).map(|v| v.as_str()),
            EnumKind::Method => Method::parse(s).map(|v| v.as_str()),
            EnumKind::Status => Status::parse(s).map(|v| v.as_str()),
            EnumKind::Sector => Sector::parse(s).map(|v| v.as_str()),
            EnumKind::Gender => Gender::parse(s).map(|v| v.as_str()),
            EnumKind::StaffRole => StaffRole::parse(s).map(|v| v.as_str()),
        }
    }

    /// The canonical names, for messages.
    pub fn names(self) -> Vec<&'static str> {
        use crate::vocab::*;
        fn all<T: Copy>(v: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
            v.iter().map(|x| f(*x)).collect()
        }
        match self {
            EnumKind::InstitutionKind => all(InstitutionKind::ALL, InstitutionKind::as_str),
            EnumKind::Level => all(Level::ALL, Level::as_str),
            EnumKind::Mode => all(Mode::ALL, Mode::as_str),
            EnumKind::Scheme => all(Scheme::ALL, Scheme::as_str),
            EnumKind::FundSource => all(FundSource::ALL, FundSource::as_str),
            EnumKind::Direction => all(Direction::ALL, Direction::as_str),
            EnumKind::Method => all(Method::ALL, Method::as_str),
            EnumKind::Status => all(Status::ALL, Status::as_str),
            EnumKind::Sector => all(Sector::ALL, Sector::as_str),
            EnumKind::Gender => all(Gender::ALL, Gender::as_str),
            EnumKind::StaffRole => all(StaffRole::ALL, StaffRole::as_str),
        }
    }
}

/// A column's contract type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColType {
    /// Free text, trimmed.
    Str,
    /// A resident ID: trimmed, final `x` upper-cased. Never validated here (that is a rule).
    PersonId,
    /// One of a vocabulary.
    Enum(EnumKind),
    /// Yuan with at most two decimals, held as fen.
    Money,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS` in UTC+8, or ISO 8601 with an offset.
    Datetime,
    /// A whole number within the bounds.
    Int {
        /// lowest accepted
        min: i64,
        /// highest accepted
        max: i64,
    },
    /// A decimal number within the bounds.
    Number {
        /// lowest accepted
        min: f64,
        /// highest accepted
        max: f64,
    },
    /// A boolean.
    Bool,
    /// A `;`-separated list of text items.
    List,
    /// A `;`-separated list of exactly `n` numbers.
    NumList(usize),
}

impl ColType {
    /// The polars dtype a column of this type has once ingested (the canonical frames).
    pub fn dtype(self) -> polars::prelude::DataType {
        use polars::prelude::{DataType, TimeUnit};
        match self {
            ColType::Str
            | ColType::PersonId
            | ColType::Enum(_)
            | ColType::List
            | ColType::NumList(_) => DataType::String,
            ColType::Money | ColType::Int { .. } => DataType::Int64,
            ColType::Number { .. } => DataType::Float64,
            ColType::Bool => DataType::Boolean,
            ColType::Date => DataType::Date,
            ColType::Datetime => DataType::Datetime(TimeUnit::Milliseconds, None),
        }
    }

    /// A short name for messages and docs.
    pub fn describe(self) -> String {
        match self {
            ColType::Str => "string".into(),
            ColType::PersonId => "resident id".into(),
            ColType::Enum(k) => format!("one of {}", k.names().join("|")),
            ColType::Money => "money (yuan, ≤2 decimals)".into(),
            ColType::Date => "date YYYY-MM-DD".into(),
            ColType::Datetime => "datetime YYYY-MM-DD HH:MM:SS".into(),
            ColType::Int { min, max } => format!("integer {min}..{max}"),
            ColType::Number { min, max } => format!("number {min}..{max}"),
            ColType::Bool => "bool".into(),
            ColType::List => "list (;-separated)".into(),
            ColType::NumList(n) => format!("list of {n} numbers"),
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// snake_case name.
    pub name: &'static str,
    /// Contract type.
    pub ty: ColType,
    /// The column must be present and every row must have a value.
    pub required: bool,
}

/// A reference from a column to the key of another table, checked at ingest: a row that points at
/// nothing is an orphan and is rejected.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    /// The referencing column.
    pub column: &'static str,
    /// The referenced tables (any may hold the key).
    pub targets: &'static [Table],
}

/// One table's specification.
#[derive(Debug)]
pub struct TableSpec {
    /// Which table.
    pub table: Table,
    /// Its columns, in contract order.
    pub columns: &'static [ColumnSpec],
    /// The primary key (unique per row), empty where the table has none.
    pub key: &'static [&'static str],
    /// References checked for orphans.
    pub references: &'static [Reference],
}

impl TableSpec {
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn c(name: &'static str, ty: ColType, required: bool) -> ColumnSpec {
    ColumnSpec { name, ty, required }
}

use ColType::*;
use EnumKind as E;

const MONEY: ColType = Money;
const SCORE: ColType = Number {
    min: 0.0,
    max: 100.0,
};
const LAT: ColType = Number {
    min: -90.0,
    max: 90.0,
};
const LON: ColType = Number {
    min: -180.0,
    max: 180.0,
};
const HOURS: ColType = Number {
    min: 0.0,
    max: 100_000.0,
};

/// Every table of the contract.
pub static TABLES: &[TableSpec] = &[
    TableSpec {
        table: Table::Institutions,
        columns: &[
            c("institution_id", Str, true),
            c("name", Str, true),
            c("kind", Enum(E::InstitutionKind), true),
            c("region_code", Str, false),
            c("in_catalogue_from", Date, false),
            c("in_catalogue_until", Date, false),
            c("revoked_on", Date, false),
            c("approved_occupations", List, false),
            c("supervisor", Str, false),
        ],
        key: &["institution_id"],
        references: &[],
    },
    TableSpec {
        table: Table::Persons,
        columns: &[
            c("person_id", PersonId, true),
            c("name", Str, true),
            c("gender", Enum(E::Gender), false),
            c("phone", Str, false),
            c("bank_account", Str, false),
            c("hukou_region", Str, false),
            c("birth_date", Date, false),
            c("address", Str, false),
            c("employer_id", Str, false),
            c("frontline", Bool, false),
        ],
        key: &["person_id"],
        references: &[],
    },
    TableSpec {
        table: Table::Occupations,
        columns: &[
            c("occupation_code", Str, true),
            c("name", Str, true),
            c("sector", Enum(E::Sector), false),
            c("shortage_tier", Int { min: 0, max: 3 }, false),
            c("standard_hours", HOURS, false),
            c("valid_from", Date, false),
            c("valid_until", Date, false),
        ],
        key: &["occupation_code", "valid_from"],
        references: &[],
    },
    TableSpec {
        table: Table::Classes,
        columns: &[
            c("class_id", Str, true),
            c("institution_id", Str, true),
            c("occupation_code", Str, true),
            c("level", Enum(E::Level), true),
            c("mode", Enum(E::Mode), false),
            c("filed_on", Date, false),
            c("start_date", Date, true),
            c("end_date", Date, true),
            c("planned_hours", HOURS, true),
            c("fee_per_trainee", MONEY, false),
            c(
                "capacity",
                Int {
                    min: 0,
                    max: 1_000_000,
                },
                false,
            ),
            c("venue_lat", LAT, false),
            c("venue_lon", LON, false),
            c("teacher_id", Str, false),
        ],
        key: &["class_id"],
        references: &[Reference {
            column: "institution_id",
            targets: &[Table::Institutions],
        }],
    },
    TableSpec {
        table: Table::Sessions,
        columns: &[
            c("session_id", Str, true),
            c("class_id", Str, true),
            c("starts_at", Datetime, true),
            c("ends_at", Datetime, true),
            c("teacher_id", Str, false),
        ],
        key: &["session_id"],
        references: &[Reference {
            column: "class_id",
            targets: &[Table::Classes],
        }],
    },
    TableSpec {
        table: Table::Enrollments,
        columns: &[
            c("class_id", Str, true),
            c("person_id", PersonId, true),
            c("enrolled_on", Date, false),
        ],
        key: &["class_id", "person_id"],
        references: &[
            Reference {
                column: "class_id",
                targets: &[Table::Classes],
            },
            Reference {
                column: "person_id",
                targets: &[Table::Persons],
            },
        ],
    },
    TableSpec {
        table: Table::Attendance,
        columns: &[
            c("class_id", Str, true),
            c("person_id", PersonId, true),
            c("ts", Datetime, true),
            c("direction", Enum(E::Direction), true),
            c("method", Enum(E::Method), false),
            c("face_score", Number { min: 0.0, max: 1.0 }, false),
            c("device_id", Str, false),
            c("lat", LAT, false),
            c("lon", LON, false),
        ],
        key: &[],
        references: &[
            Reference {
                column: "class_id",
                targets: &[Table::Classes],
            },
            Reference {
                column: "person_id",
                targets: &[Table::Persons],
            },
        ],
    },
    TableSpec {
        table: Table::Evaluations,
        columns: &[
            c("evaluation_id", Str, true),
            c("person_id", PersonId, true),
            c("evaluation_org_id", Str, true),
            c("class_id", Str, false),
            c("occupation_code", Str, true),
            c("level", Enum(E::Level), true),
            c("site_id", Str, false),
            c("starts_at", Datetime, true),
            c("ends_at", Datetime, true),
            c("evaluator_ids", List, false),
            c("theory_score", SCORE, false),
            c("practical_score", SCORE, false),
            c("answer_hash", Str, false),
            c("passed", Bool, true),
            c("certificate_no", Str, false),
            c("certificate_issued_on", Date, false),
        ],
        key: &["evaluation_id"],
        references: &[
            Reference {
                column: "person_id",
                targets: &[Table::Persons],
            },
            Reference {
                column: "evaluation_org_id",
                targets: &[Table::Institutions],
            },
            Reference {
                column: "class_id",
                targets: &[Table::Classes],
            },
        ],
    },
    TableSpec {
        table: Table::Claims,
        columns: &[
            c("claim_id", Str, true),
            c("scheme", Enum(E::Scheme), true),
            // a person (a resident ID: its final `x` is `X`) or an institution
            c("claimant_id", PersonId, true),
            c("person_id", PersonId, true),
            c("class_id", Str, false),
            c("evaluation_id", Str, false),
            c("certificate_no", Str, false),
            c("occupation_code", Str, true),
            c("level", Enum(E::Level), true),
            c("amount_claimed", MONEY, true),
            c("amount_paid", MONEY, false),
            c("claimed_on", Date, true),
            c("paid_on", Date, false),
            c("payee_account", Str, false),
            c("fund_source", Enum(E::FundSource), false),
            c("approver", Str, false),
        ],
        key: &["claim_id"],
        references: &[
            Reference {
                column: "claimant_id",
                targets: &[Table::Institutions, Table::Persons],
            },
            Reference {
                column: "person_id",
                targets: &[Table::Persons],
            },
            Reference {
                column: "class_id",
                targets: &[Table::Classes],
            },
            Reference {
                column: "evaluation_id",
                targets: &[Table::Evaluations],
            },
        ],
    },
    TableSpec {
        table: Table::PersonStatus,
        columns: &[
            c("person_id", PersonId, true),
            c("status", Enum(E::Status), true),
            c("valid_from", Date, true),
            c("valid_until", Date, false),
            c("employer_id", Str, false),
            c("source", Str, false),
        ],
        key: &[],
        references: &[Reference {
            column: "person_id",
            targets: &[Table::Persons],
        }],
    },
    TableSpec {
        table: Table::Staff,
        columns: &[
            c("staff_id", Str, true),
            c("person_id", PersonId, false),
            c("role", Enum(E::StaffRole), false),
            c("institution_id", Str, false),
            c("certified_until", Date, false),
        ],
        key: &["staff_id"],
        references: &[],
    },
    TableSpec {
        table: Table::SubsidyStandards,
        columns: &[
            c("region_code", Str, false),
            c("scheme", Enum(E::Scheme), false),
            c("level", Enum(E::Level), false),
            c("amount", MONEY, true),
            c("uplift_by_tier", NumList(4), false),
            c("valid_from", Date, false),
            c("valid_until", Date, false),
        ],
        key: &[],
        references: &[],
    },
    TableSpec {
        table: Table::EnterpriseFunds,
        columns: &[
            c("enterprise_id", Str, true),
            c(
                "year",
                Int {
                    min: 1990,
                    max: 2100,
                },
                true,
            ),
            c("payroll", MONEY, false),
            c("extracted", MONEY, false),
            c("used_total", MONEY, false),
            c("used_frontline", MONEY, false),
        ],
        key: &["enterprise_id", "year"],
        references: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_spec_whose_keys_and_refs_name_its_columns() {
        for t in Table::ALL {
            let s = t.spec();
            assert_eq!(Table::from_name(t.name()), Some(t));
            for k in s.key {
                assert!(s.column(k).is_some(), "{t}: key {k}");
            }
            for r in s.references {
                assert!(s.column(r.column).is_some(), "{t}: ref {}", r.column);
                for target in r.targets {
                    // a referenced table is read before the referencing one
                    let pos = |x: Table| Table::ALL.iter().position(|y| *y == x);
                    assert!(pos(*target) < pos(t), "{t} refers to {target} read later");
                }
            }
        }
    }
}

/// An empty frame with `spec`'s canonical columns.
pub fn empty_frame(spec: &TableSpec) -> polars::prelude::DataFrame {
    let cols: Vec<polars::prelude::Column> = spec
        .columns
        .iter()
        .map(|c| polars::prelude::Column::full_null(c.name.into(), 0, &c.ty.dtype()))
        .collect();
    polars::prelude::DataFrame::new_infer_height(cols).expect("columns of one (zero) length")
}

/// Empty canonical frames of every table (what the view schemas are built over).
pub fn empty_frames() -> std::collections::BTreeMap<Table, polars::prelude::DataFrame> {
    Table::ALL
        .into_iter()
        .map(|t| (t, empty_frame(t.spec())))
        .collect()
}
