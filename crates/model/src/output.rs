//! The output tables of the contract: their columns, in order, and the polars schema the
//! writers use. Money columns in these frames are `Int64` fen, written as yuan with two decimals.

use polars::prelude::*;

/// `findings.csv` columns.
pub const FINDINGS: &[(&str, OutType)] = &[
    ("finding_id", OutType::Str),
    ("rule_id", OutType::Str),
    ("category", OutType::Str),
    ("severity", OutType::Str),
    ("detector", OutType::Str),
    ("entity_kind", OutType::Str),
    ("entity_id", OutType::Str),
    ("institution_id", OutType::Str),
    ("responsible_party", OutType::Str),
    ("claim_ids", OutType::Str),
    ("amount_at_risk", OutType::Money),
    ("score", OutType::Float),
    ("message", OutType::Str),
    ("message_zh", OutType::Str),
    ("evidence", OutType::Str),
];

/// `recoveries.csv` columns.
pub const RECOVERIES: &[(&str, OutType)] = &[
    ("claim_id", OutType::Str),
    ("responsible_party", OutType::Str),
    ("institution_id", OutType::Str),
    ("amount_paid", OutType::Money),
    ("recover_amount", OutType::Money),
    ("finding_ids", OutType::Str),
    ("basis", OutType::Str),
];

/// `sample.csv` columns (`subsidy-audit sample`): one row per unit drawn for field
/// verification, in selection order.
pub const SAMPLE: &[(&str, OutType)] = &[
    ("sample_no", OutType::Int),
    ("unit_kind", OutType::Str),
    ("unit_id", OutType::Str),
    ("finding_ids", OutType::Str),
    ("responsible_party", OutType::Str),
    ("institution_id", OutType::Str),
    ("category", OutType::Str),
    ("amount", OutType::Money),
    ("stratum", OutType::Str),
    ("selection", OutType::Str),
    ("interval_no", OutType::Int),
    ("interval_from", OutType::Money),
    ("interval_to", OutType::Money),
    ("hit_at", OutType::Money),
    ("weight", OutType::Float),
];

/// `parties.csv` columns.
pub const PARTIES: &[(&str, OutType)] = &[
    ("responsible_party", OutType::Str),
    ("kind", OutType::Str),
    ("risk_score", OutType::Float),
    ("findings", OutType::Int),
    ("claims", OutType::Int),
    ("recover_amount", OutType::Money),
    ("disposition", OutType::Str),
    ("credit_list_candidate", OutType::Str),
    ("anomaly_score", OutType::Float),
    ("effectiveness_score", OutType::Float),
];

/// `effectiveness.csv` columns: one row per programme (training institution × occupation ×
/// level) and per institution (docs/effectiveness.md).
pub const EFFECTIVENESS: &[(&str, OutType)] = &[
    ("unit", OutType::Str),
    ("institution_id", OutType::Str),
    ("occupation_code", OutType::Str),
    ("level", OutType::Str),
    ("region", OutType::Str),
    ("peer_group", OutType::Str),
    ("peers", OutType::Int),
    ("trainees", OutType::Int),
    ("assessed", OutType::Int),
    ("passed", OutType::Int),
    ("certified", OutType::Int),
    ("upgraded", OutType::Int),
    ("employable", OutType::Int),
    ("employed", OutType::Int),
    ("subsidy_paid", OutType::Money),
    ("pass_rate", OutType::Float),
    ("pass_rate_shrunk", OutType::Float),
    ("pass_rate_peer_median", OutType::Float),
    ("pass_rate_percentile", OutType::Float),
    ("certificate_rate", OutType::Float),
    ("certificate_rate_shrunk", OutType::Float),
    ("certificate_rate_peer_median", OutType::Float),
    ("certificate_rate_percentile", OutType::Float),
    ("upgrade_rate", OutType::Float),
    ("upgrade_rate_shrunk", OutType::Float),
    ("upgrade_rate_peer_median", OutType::Float),
    ("upgrade_rate_percentile", OutType::Float),
    ("employment_rate", OutType::Float),
    ("employment_rate_shrunk", OutType::Float),
    ("employment_rate_peer_median", OutType::Float),
    ("employment_rate_percentile", OutType::Float),
    ("subsidy_per_employed", OutType::Money),
    ("subsidy_per_employed_peer_median", OutType::Money),
    ("cost_percentile", OutType::Float),
    ("composite", OutType::Float),
    ("composite_percentile", OutType::Float),
    ("flagged", OutType::Str),
];

/// `identities.csv` columns.
pub const IDENTITIES: &[(&str, OutType)] = &[
    ("person_id", OutType::Str),
    ("identity_id", OutType::Str),
    ("confidence", OutType::Float),
    ("evidence", OutType::Str),
];

/// The type of an output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutType {
    /// text
    Str,
    /// fen in the frame, yuan in CSV
    Money,
    /// a score
    Float,
    /// a count
    Int,
}

impl OutType {
    /// The polars dtype in the frame.
    pub fn dtype(self) -> DataType {
        match self {
            OutType::Str => DataType::String,
            OutType::Money | OutType::Int => DataType::Int64,
            OutType::Float => DataType::Float64,
        }
    }
}

/// An empty frame with the given output columns.
pub fn empty_frame(cols: &[(&str, OutType)]) -> DataFrame {
    let columns: Vec<Column> = cols
        .iter()
        .map(|(n, t)| Column::new_empty((*n).into(), &t.dtype()))
        .collect();
    DataFrame::new_infer_height(columns).expect("columns of equal (zero) length")
}

/// A finding raised by a detector outside the rule pack (the clustering detectors): the rules
/// crate gives it its stable id, settles its recovery and counts it against its party like any
/// rule finding.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorFinding {
    /// the detector's id, e.g. `AN-01`
    pub rule_id: String,
    /// the contract's category (`fake_training`, `fake_evaluation`, …)
    pub category: &'static str,
    /// `info` … `critical`
    pub severity: &'static str,
    /// `cluster`
    pub detector: &'static str,
    /// `class`, `institution`, `evaluation`, …
    pub entity_kind: &'static str,
    /// the entity's id
    pub entity_id: String,
    /// the institution involved
    pub institution_id: Option<String>,
    /// who answers for it
    pub responsible_party: String,
    /// the party's role (`training_institution`, `evaluation_organisation`, …)
    pub role: &'static str,
    /// the claims it bears on
    pub claim_ids: Vec<String>,
    /// what those claims paid, fen
    pub amount_at_risk: i64,
    /// whether the claims are proposed for recovery in full
    pub recover_full: bool,
    /// the detector's score (1.0 = at its flagging threshold)
    pub score: f64,
    /// one sentence a reviewer understands
    pub message: String,
    /// the same in Chinese
    pub message_zh: String,
    /// the facts, as JSON
    pub evidence: String,
    /// the judged date (YYYY-MM-DD), for escalation windows
    pub date: Option<String>,
}
