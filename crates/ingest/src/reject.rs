//! Rejected rows: what was set aside, where it came from and why (the types live in
//! [`subsidy_model::rejection`], which the report writes out).

pub use subsidy_model::rejection::{Reason, Rejection, clip};
