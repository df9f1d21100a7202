//! The rule-file format: one TOML file per rule under `rules/<family>/`, checked with
//! diagnostics that point at file, line and column and suggest the nearest valid name.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::expr::{Ast, ParamValue};

/// The primitive a rule's check uses: the closed set of well-tested operations over views.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "primitive", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Rows of the view where `where` holds.
    Filter {
        /// condition
        #[serde(rename = "where")]
        cond: String,
    },
    /// Rows in groups of `keys` (after `where`) with at least `min` rows (or distinct values of
    /// `distinct`); `flag` picks all rows, those after the first, or those beyond `min - 1`
    /// (ordered by `order_by`, then the entity id).
    CountPerKey {
        /// group keys
        keys: Vec<String>,
        /// pre-filter
        #[serde(rename = "where", default)]
        cond: Option<String>,
        /// count distinct values of this column instead of rows
        #[serde(default)]
        distinct: Option<String>,
        /// order within a group
        order_by: String,
        /// threshold (a number or `$param`)
        min: toml::Value,
        /// `all`, `after_first` or `beyond`
        flag: String,
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
        /// minimum overlap (a number or `$param`)
        min_overlap_minutes: toml::Value,
        /// pre-filter
        #[serde(rename = "where", default)]
        cond: Option<String>,
        /// rows flagged as well, overlap or not (a second limit of the same rule, e.g. TP-08's
        /// hours a day); the pre-filter does not apply to them
        #[serde(default)]
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
        #[serde(rename = "where", default)]
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
        /// window length (a number or `$param`)
        window_minutes: toml::Value,
        /// threshold (a number or `$param`)
        min: toml::Value,
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
    pub what: String,
    /// why it matters
    pub why: String,
    /// an example
    pub example: String,
    /// known false positives
    pub false_positives: String,
    /// what evidence would clear the finding
    pub clears: String,
}

/// A rule file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// stable id, e.g. `DC-01`
    pub id: String,
    /// kebab-case name
    pub name: String,
    /// Chinese title
    pub title_zh: String,
    /// English title
    pub title_en: String,
    /// contract category
    pub category: String,
    /// severity
    pub severity: String,
    /// `stable`, `preview` or `deprecated`
    pub status: String,
    /// policy basis
    pub basis: String,
    /// responsible role
    pub role: String,
    /// first day the rule applies (judged on the view's date column)
    pub effective_from: String,
    /// last day it applies
    #[serde(default)]
    pub effective_until: Option<String>,
    /// the view it reads
    pub view: String,
    /// entity kind of its findings
    pub entity: String,
    /// how much of a flagged claim to recover: `full`, `excess` or `none`
    pub recover: String,
    /// for `recover = "excess"`: the excess, in fen
    #[serde(default)]
    pub excess: Option<String>,
    /// the finding's message: `{column}` placeholders
    pub message: String,
    /// columns copied into the evidence JSON
    pub evidence: Vec<String>,
    /// parameters with defaults
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// the check
    pub check: Check,
    /// documentation
    pub docs: Docs,
}

/// A checked rule, ready to run.
#[derive(Debug, Clone)]
pub struct Rule {
    /// the file as written
    pub file: RuleFile,
    /// path relative to the pack
    pub path: String,
    /// parameters
    pub params: BTreeMap<String, ParamValue>,
    /// parsed expressions by role (`where`, `excess`)
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

/// Contract vocabularies a rule's fields must use.
pub const CATEGORIES: &[&str] = &[
    "fake_training",
    "fake_evaluation",
    "duplicate_claim",
    "over_claim",
    "ineligible",
    "institution",
    "funds_use",
];
/// Severities.
pub const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];
/// Statuses.
pub const STATUSES: &[&str] = &["stable", "preview", "deprecated"];
/// Roles.
pub const ROLES: &[&str] = &[
    "training_institution",
    "evaluation_organisation",
    "enterprise",
    "trainee",
    "approving_department",
];
/// Entity kinds.
pub const ENTITIES: &[&str] = &[
    "claim",
    "person",
    "class",
    "evaluation",
    "institution",
    "teacher",
    "evaluator",
    "account",
    "device",
];
/// Recovery modes.
pub const RECOVERY: &[&str] = &["full", "excess", "none"];

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
