//! # subsidy-scoring
//!
//! Detectors beyond the declarative rules.
//!
//! - [`identity`]: identity resolution (blocking on birth date with phone, account or a
//!   one-digit ID variant; comparison of names and identifiers; union-find into identities).
//!   The rule pack's duplicate checks (DC-01, DC-02, DC-09) group by the resolved identity, so a
//!   person re-registered under a mistyped ID is caught claiming twice.
//!
//! The clustering detectors of issue 5 (linfa K-Means/DBSCAN over class and sitting features)
//! are not built yet: see the README's status section.

pub mod identity;

/// Why scoring failed.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    /// A frame operation failed.
    #[error("{0}")]
    Frame(#[from] polars::prelude::PolarsError),
    /// An internal invariant.
    #[error("internal: {0}")]
    Internal(&'static str),
}
