//! # subsidy-model
//!
//! The bottom of the subsidy-audit workspace: the vocabulary every other crate speaks.
//!
//! - [`vocab`]: the contract's enumerations with their Chinese and level-digit aliases.
//! - [`money`]: exact money as integer fen.
//! - [`ids`]: GB 11643 resident IDs, GB 32100 credit codes, Luhn, certificate numbers.
//! - [`contract`]: the input tables, columns, types, keys and references as data.
//! - [`output`]: the output tables' columns (findings, recoveries, parties, identities).
//! - [`hours`]: the 学时 convention (presence inside sessions); [`sign_ins`]: the one pass over
//!   the sign-ins that the rule views and the anomaly features share.
//! - [`trace`]: stage timings and memory on stderr when `SUBSIDY_TRACE` is set.
//!
//! ```
//! use subsidy_model::{money::parse_yuan, ids::{check_resident_id, IdCheck}, vocab::Level};
//! assert_eq!(parse_yuan("1500.5"), Ok(150_050));
//! assert_eq!(Level::parse("四级"), Some(Level::Intermediate));
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
//! assert_eq!(check_resident_id("11010519491231002X", today), IdCheck::Valid);
//! ```

pub mod contract;
pub mod frame;
pub mod hours;
pub mod ids;
pub mod money;
pub mod output;
pub mod rejection;
pub mod sign_ins;
pub mod trace;
pub mod vocab;

/// The engine's version, recorded in every manifest.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
