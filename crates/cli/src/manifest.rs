//! `manifest.json`: what was read, what was set aside, with which parameters, and how long it
//! took. The one output file that differs between two runs on the same input (its clock times).

use std::collections::BTreeMap;

use serde::Serialize;
use subsidy_ingest::InputFile;

#[derive(Serialize)]
pub struct Manifest {
    pub engine: &'static str,
    pub engine_version: &'static str,
    pub rule_pack: Option<RulePackInfo>,
    pub rule_runs: Vec<subsidy_rules::RuleRun>,
    /// rules that flagged more than the pack's share of the rows they examined
    pub alarms: Vec<subsidy_rules::alarm::Alarm>,
    /// what the anomaly detectors scored and flagged, with the k chosen and the seed
    pub anomalies: serde_json::Value,
    pub package: String,
    pub started_at: String,
    pub finished_at: String,
    pub parameters: BTreeMap<&'static str, serde_json::Value>,
    pub inputs: Vec<InputFile>,
    pub rejected_total: u64,
    pub rejected: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    pub ignored_files: Vec<String>,
    pub outputs: Vec<String>,
    pub findings: u64,
    pub timings_ms: BTreeMap<&'static str, u64>,
    /// with `scan --profile`: wall time and peak memory per stage, view and rule, in order
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Vec<subsidy_model::trace::Span>>,
    /// with `subsidy-audit sample`: the plan, the sample's hash and, after fieldwork, the
    /// evaluation
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<serde_json::Value>,
}

#[derive(Serialize)]
pub struct RulePackInfo {
    pub version: String,
    pub sha256: String,
    pub rules: usize,
}
