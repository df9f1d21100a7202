//! The rule-file format: one TOML file per rule under `rules/<family>/`, checked with
//! diagnostics that point at file, line and column and suggest the nearest valid name.

use std::collections::BTreeMap;

use serde::Deserialize;
use subsidy_model::vocab::{Category, EntityKind, Recover, Role, RuleStatus, Severity};
use toml::Spanned;

use crate::expr::{Ast, ParamValue};

/// A number in a check field, as written: a literal, or `$name` for a numeric parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberOrParam {
    /// a whole number
    Int(i64),
    /// a decimal
    Float(f64),
    /// `$name`
    Param(String),
}

impl<'de> Deserialize<'de> for NumberOrParam {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = NumberOrParam;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a `$parameter`")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<NumberOrParam, E> {
                Ok(NumberOrParam::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<NumberOrParam, E> {
                i64::try_from(v)
                    .map(NumberOrParam::Int)
                    .map_err(|_| E::custom("the number is too large"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<NumberOrParam, E> {
                Ok(NumberOrParam::Float(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NumberOrParam, E> {
                Ok(NumberOrParam::Param(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A resolved number of a checked rule, remembering the parameter it came from (for the docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// the value in force
    pub value: f64,
    /// the parameter it was read from, if any
    pub param: Option<String>,
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.param {
            Some(p) => write!(f, "`${p}`"),
            None => write!(f, "{}", self.value),
        }
    }
}

/// Which rows of a qualifying group `count_per_key` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// every row of the group
    All,
    /// every row after the first (in `order_by` order)
    AfterFirst,
    /// the rows beyond `min - 1`
    Beyond,
}

impl Flag {
    /// The spellings, in the rule language.
    pub const NAMES: &[&str] = &["all", "after_first", "beyond"];

    /// Reads the rule-language spelling.
    pub fn parse(s: &str) -> Option<Flag> {
        Some(match s {
            "all" => Flag::All,
            "after_first" => Flag::AfterFirst,
            "beyond" => Flag::Beyond,
            _ => return None,
        })
    }

    /// The rule-language spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::All => "all",
            Flag::AfterFirst => "after_first",
            Flag::Beyond => "beyond",
        }
    }
}

/// The `[check]` table as written: the primitive and every field any primitive takes, each with
/// its span. [`crate::pack`] turns it into a [`Check`], naming fields that are missing or do not
/// belong to the primitive.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    /// the primitive's name
    pub primitive: Spanned<String>,
    /// pre-filter (the condition, for `filter`)
    #[serde(rename = "where", default)]
    pub cond: Option<Spanned<String>>,
    /// group keys
    #[serde(default)]
    pub keys: Option<Spanned<Vec<Spanned<String>>>>,
    /// a count of distinct values, or what a window counts
    #[serde(default)]
    pub distinct: Option<Spanned<String>>,
    /// order within a group
    #[serde(default)]
    pub order_by: Option<Spanned<String>>,
    /// a threshold
    #[serde(default)]
    pub min: Option<Spanned<NumberOrParam>>,
    /// which rows of a group are flagged
    #[serde(default)]
    pub flag: Option<Spanned<String>>,
    /// the one key
    #[serde(default)]
    pub key: Option<Spanned<String>>,
    /// interval start
    #[serde(default)]
    pub start: Option<Spanned<String>>,
    /// interval end
    #[serde(default)]
    pub end: Option<Spanned<String>>,
    /// columns that must differ
    #[serde(default)]
    pub differ: Option<Spanned<Vec<Spanned<String>>>>,
    /// minimum overlap
    #[serde(default)]
    pub min_overlap_minutes: Option<Spanned<NumberOrParam>>,
    /// rows flagged as well
    #[serde(default)]
    pub or_where: Option<Spanned<String>>,
    /// the ranked column
    #[serde(default)]
    pub rank: Option<Spanned<String>>,
    /// the time column
    #[serde(default)]
    pub time: Option<Spanned<String>>,
    /// window length
    #[serde(default)]
    pub window_minutes: Option<Spanned<NumberOrParam>>,
}

impl CheckFile {
    /// The fields written, by name, with their spans (for "does not take" diagnostics).
    pub fn written(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut out = Vec::new();
        macro_rules! f {
            ($($name:ident = $key:literal),*) => {
                $(if let Some(v) = &self.$name { out.push(($key, v.span())); })*
            };
        }
        f!(
            cond = "where",
            keys = "keys",
            distinct = "distinct",
            order_by = "order_by",
            min = "min",
            flag = "flag",
            key = "key",
            start = "start",
            end = "end",
            differ = "differ",
            min_overlap_minutes = "min_overlap_minutes",
            or_where = "or_where",
            rank = "rank",
            time = "time",
            window_minutes = "window_minutes"
        );
        out
    }
}

/// The primitive a checked rule uses: the closed set of well-tested operations over views.
/// Column names are checked against the view; numbers are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Rows of the view where `where` holds.
    Filter {
        /// condition
        cond: String,
    },
    /// Rows in groups of `keys` (after `where`) with at least `min` rows (or distinct values of
    /// `distinct`); `flag` picks all rows, those after the first, or those beyond `min - 1`
    /// (ordered by `order_by`, then the entity id).
    CountPerKey {
        /// group keys
        keys: Vec<String>,
        /// pre-filter
        cond: Option<String>,
        /// count distinct values of this column instead of rows
        distinct: Option<String>,
        /// order within a group
        order_by: String,
        /// threshold
        min: Number,
        /// which rows
        flag: Flag,
    },
    /// Per `key`, intervals `[start, end)` of rows that differ in every `differ` column and
    /// overlap by more than `min_overlap_minutes`: both rows of each such pair are flagged.
    OverlapPerKey {
        /// the key
        key: String,
        /// interval start
        start: String,
        /// interval end
        end: String,
        /// columns that must differ between the two rows
        differ: Vec<String>,
        /// minimum overlap
        min_overlap_minutes: Number,
        /// pre-filter
        cond: Option<String>,
        /// rows flagged as well, overlap or not (a second limit of the same rule, e.g. TP-08's
        /// hours a day); the pre-filter does not apply to them
        or_where: Option<String>,
    },
    /// Per `keys`, ordered by `order_by`: rows whose `rank` is below the highest rank seen before.
    Sequence {
        /// group keys
        keys: Vec<String>,
        /// order
        order_by: String,
        /// the ranked column
        rank: String,
        /// pre-filter
        cond: Option<String>,
    },
    /// Per `key`, any window of `window_minutes` holding at least `min` distinct `distinct` values.
    WindowDistinct {
        /// the key (a device, an account)
        key: String,
        /// the time column
        time: String,
        /// what is counted
        distinct: String,
        /// window length
        window_minutes: Number,
        /// threshold
        min: Number,
    },
}

impl Check {
    /// The primitive's name.
    pub fn name(&self) -> &'static str {
        match self {
            Check::Filter { .. } => "filter",
            Check::CountPerKey { .. } => "count_per_key",
            Check::OverlapPerKey { .. } => "overlap_per_key",
            Check::Sequence { .. } => "sequence",
            Check::WindowDistinct { .. } => "window_distinct",
        }
    }
}

/// The fields each primitive takes: (name, required).
pub fn primitive_fields(primitive: &str) -> Option<&'static [(&'static str, bool)]> {
    Some(match primitive {
        "filter" => &[("where", true)],
        "count_per_key" => &[
            ("keys", true),
            ("where", false),
            ("distinct", false),
            ("order_by", true),
            ("min", true),
            ("flag", true),
        ],
        "overlap_per_key" => &[
            ("key", true),
            ("start", true),
            ("end", true),
            ("differ", true),
            ("min_overlap_minutes", true),
            ("where", false),
            ("or_where", false),
        ],
        "sequence" => &[
            ("keys", true),
            ("order_by", true),
            ("rank", true),
            ("where", false),
        ],
        "window_distinct" => &[
            ("key", true),
            ("time", true),
            ("distinct", true),
            ("window_minutes", true),
            ("min", true),
        ],
        _ => return None,
    })
}

/// Each rule family (the id's prefix) and the pack folder its files live in.
pub const FAMILIES: &[(&str, &str)] = &[
    ("CL", "claims"),
    ("DC", "duplicates"),
    ("EL", "eligibility"),
    ("EN", "enterprise"),
    ("FE", "evaluation"),
    ("ID", "identity"),
    ("IS", "institutions"),
    ("TP", "process"),
];

/// The primitives, for did-you-mean.
pub const PRIMITIVES: &[&str] = &[
    "filter",
    "count_per_key",
    "overlap_per_key",
    "sequence",
    "window_distinct",
];

/// A rule's documentation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Docs {
    /// what it checks
    pub what: Spanned<String>,
    /// why it matters
    pub why: Spanned<String>,
    /// an example
    pub example: Spanned<String>,
    /// known false positives
    pub false_positives: Spanned<String>,
    /// what evidence would clear the finding
    pub clears: Spanned<String>,
    /// `what`, in Chinese
    #[serde(default)]
    pub what_zh: Option<Spanned<String>>,
    /// `why`, in Chinese
    #[serde(default)]
    pub why_zh: Option<Spanned<String>>,
    /// `clears`, in Chinese
    #[serde(default)]
    pub clears_zh: Option<Spanned<String>>,
}

/// A rule file as written, every value with its span. [`crate::pack`] checks it into a [`Rule`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// stable id, e.g. `DC-01`
    pub id: Spanned<String>,
    /// kebab-case name
    pub name: Spanned<String>,
    /// Chinese title
    pub title_zh: Spanned<String>,
    /// English title
    pub title_en: Spanned<String>,
    /// contract category
    pub category: Spanned<String>,
    /// severity
    pub severity: Spanned<String>,
    /// `stable`, `preview` or `deprecated`
    pub status: Spanned<String>,
    /// policy basis
    pub basis: Spanned<String>,
    /// responsible role
    pub role: Spanned<String>,
    /// first day the rule applies (judged on the view's date column)
    pub effective_from: Spanned<String>,
    /// last day it applies
    #[serde(default)]
    pub effective_until: Option<Spanned<String>>,
    /// the view it reads
    pub view: Spanned<String>,
    /// entity kind of its findings
    pub entity: Spanned<String>,
    /// how much of a flagged claim to recover: `full`, `excess` or `none`
    pub recover: Spanned<String>,
    /// for `recover = "excess"`: the excess, in fen
    #[serde(default)]
    pub excess: Option<Spanned<String>>,
    /// the finding's message: `{column}` placeholders
    pub message: Spanned<String>,
    /// the message in Chinese, with the same placeholders
    #[serde(default)]
    pub message_zh: Option<Spanned<String>>,
    /// columns copied into the evidence JSON
    pub evidence: Spanned<Vec<Spanned<String>>>,
    /// parameters with defaults
    #[serde(default)]
    pub params: BTreeMap<String, Spanned<toml::Value>>,
    /// the check
    pub check: Spanned<CheckFile>,
    /// documentation
    pub docs: Docs,
}

/// A rule's documentation, checked (every part present).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDocs {
    /// what it checks
    pub what: String,
    /// why it matters
    pub why: String,
    /// an example
    pub example: String,
    /// known false positives
    pub false_positives: String,
    /// what evidence would clear the finding
    pub clears: String,
    /// `what`, in Chinese
    pub what_zh: String,
    /// `why`, in Chinese
    pub why_zh: String,
    /// `clears`, in Chinese
    pub clears_zh: String,
}

/// A checked rule, ready to run: vocabulary fields are the contract's enums, columns exist in
/// the view, expressions are parsed and typed, numbers resolved.
#[derive(Debug, Clone)]
pub struct Rule {
    /// stable id, e.g. `DC-01`
    pub id: String,
    /// kebab-case name
    pub name: String,
    /// Chinese title
    pub title_zh: String,
    /// English title
    pub title_en: String,
    /// contract category
    pub category: Category,
    /// severity
    pub severity: Severity,
    /// whether it runs by default
    pub status: RuleStatus,
    /// policy basis
    pub basis: String,
    /// responsible role
    pub role: Role,
    /// first day it applies, as written
    pub effective_from: String,
    /// last day it applies, as written
    pub effective_until: Option<String>,
    /// the view it reads
    pub view: String,
    /// entity kind of its findings
    pub entity: EntityKind,
    /// how much of a flagged claim it recovers
    pub recover: Recover,
    /// the finding's message
    pub message: String,
    /// the message in Chinese (the same placeholders)
    pub message_zh: String,
    /// columns copied into the evidence JSON
    pub evidence: Vec<String>,
    /// the check
    pub check: Check,
    /// documentation
    pub docs: RuleDocs,
    /// path relative to the pack
    pub path: String,
    /// parameters
    pub params: BTreeMap<String, ParamValue>,
    /// parsed expressions by role (`where`, `or_where`, `excess`)
    pub exprs: BTreeMap<&'static str, Ast>,
    /// effective from (days since epoch)
    pub from: i32,
    /// effective until (days since epoch)
    pub until: Option<i32>,
}

/// The date column a view's rows are judged by, for effective dates.
pub fn date_column(view: &str) -> Option<&'static str> {
    crate::catalog::view(view).and_then(|v| v.date_column)
}

/// Converts a TOML parameter value.
pub fn param_value(v: &toml::Value) -> Option<ParamValue> {
    Some(match v {
        toml::Value::Integer(i) => ParamValue::Int(*i),
        toml::Value::Float(f) => ParamValue::Float(*f),
        toml::Value::String(s) => ParamValue::Str(s.clone()),
        toml::Value::Boolean(b) => ParamValue::Bool(*b),
        toml::Value::Array(a) => ParamValue::List(
            a.iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()?,
        ),
        _ => return None,
    })
}
