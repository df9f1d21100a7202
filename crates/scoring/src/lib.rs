//! # subsidy-scoring
//!
//! Detectors beyond the declarative rules.
//!
//! - [`identity`]: identity resolution, a Fellegi–Sunter linker (a union of counted blocking
//!   rules; comparison levels per field; u from seeded random pairs, m by EM; name term
//!   frequencies; union-find into identities, each merge explained as a waterfall of weights).
//!   The rule pack's duplicate checks (DC-01, DC-02, DC-09) group by the resolved identity, so a
//!   person re-registered under a mistyped ID is caught claiming twice.
//!
//! - [`effectiveness`]: the training-effectiveness scorecard (质效) per programme and
//!   institution, shrunk toward and ranked against peers, and IE-01 (guide adjustment).
//! - [`features`]: per-class and per-sitting features computed with polars, each documented.
//! - [`anomaly`]: robust scaling within peer groups, then K-Means (k by silhouette) distance to
//!   the large clusters with DBSCAN noise as evidence, or the plain z-score baseline; findings
//!   `AN-01` (class), `AN-02` (institution), `AN-03` (evaluation sitting), detector `cluster`.

pub mod anomaly;
pub mod effectiveness;
pub mod features;
pub mod identity;

/// Why scoring failed.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    /// A frame operation failed.
    #[error("{0}")]
    Frame(#[from] polars::prelude::PolarsError),
    /// A detector parameter is out of range, or a model could not be fitted.
    #[error("detector parameter: {0}")]
    Param(String),
    /// An internal invariant.
    #[error("internal: {0}")]
    Internal(&'static str),
}
