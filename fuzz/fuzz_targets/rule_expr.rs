//! A rule's `where` expression from arbitrary text, through the rules crate's parser, type
//! checker and lowering to polars ([`subsidy_rules::expr`]), against a fixed view schema with
//! columns and parameters of every type (named as in the shipped rules, so that the seeds
//! type-check). It must never panic: a bad expression is an `ExprError`.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use subsidy_rules::expr::{ParamValue, Scope, Ty, check, lower, parse};

static COLUMNS: LazyLock<BTreeMap<String, Ty>> = LazyLock::new(|| {
    let cols: &[(&str, Ty)] = &[
        // text
        ("scheme", Ty::Str),
        ("level", Ty::Str),
        ("payee_account", Ty::Str),
        ("bank_account", Ty::Str),
        ("certificate_no", Ty::Str),
        ("person_id", Ty::Str),
        // integers (counts, fen)
        ("amount_claimed", Ty::Int),
        ("amount_paid", Ty::Int),
        ("age_at_start", Ty::Int),
        ("evaluator_count", Ty::Int),
        ("answer_dup_count", Ty::Int),
        ("face_checks", Ty::Int),
        ("level_digit", Ty::Int),
        ("cert_level_digit", Ty::Int),
        ("cert_year", Ty::Int),
        ("shortage_tier", Ty::Int),
        // decimals
        ("planned_hours", Ty::Float),
        ("standard_hours", Ty::Float),
        ("face_fail_share", Ty::Float),
        ("frontline_share", Ty::Float),
        ("max_span_h", Ty::Float),
        ("max_distance_m", Ty::Float),
        // booleans
        ("is_male", Ty::Bool),
        ("id_valid", Ty::Bool),
        ("uscc_valid", Ty::Bool),
        ("claimant_is_person", Ty::Bool),
        ("cert_structure_ok", Ty::Bool),
        ("passed", Ty::Bool),
        // dates
        ("claimed_on", Ty::Date),
        ("paid_on", Ty::Date),
        ("judged_on", Ty::Date),
        ("class_start", Ty::Date),
        ("class_end", Ty::Date),
        ("cert_issued_on", Ty::Date),
        ("eval_date", Ty::Date),
        ("deceased_from", Ty::Date),
        ("pensioner_from", Ty::Date),
        ("student_from", Ty::Date),
        ("student_until", Ty::Date),
        ("ui_from", Ty::Date),
        // datetimes
        ("ts", Ty::Datetime),
        ("starts_at", Ty::Datetime),
        ("ends_at", Ty::Datetime),
    ];
    cols.iter().map(|(n, t)| (n.to_string(), *t)).collect()
});

static PARAMS: LazyLock<BTreeMap<String, ParamValue>> = LazyLock::new(|| {
    let int = ParamValue::Int;
    let float = ParamValue::Float;
    let params: Vec<(&str, ParamValue)> = vec![
        ("min_age", int(16)),
        ("max_age_male", int(60)),
        ("max_age_female", int(55)),
        ("min_days", int(365)),
        ("min_examiners", int(3)),
        ("sim_n", int(5)),
        ("per_year", int(3)),
        ("lead_days", int(3)),
        ("claim_window_days", int(365)),
        ("overlap_min", int(30)),
        ("annual_cap", int(300_000)),
        ("min_share", float(0.6)),
        ("trainee_fail_share", float(0.3)),
        ("geofence_m", float(500.0)),
        ("max_span_hours", float(12.0)),
        ("max_hours", float(8.0)),
        ("min_attendance", float(0.8)),
        ("min_fee_share", float(0.1)),
        ("region", ParamValue::Str("350203".into())),
        ("strict", ParamValue::Bool(true)),
        (
            "counted_schemes",
            ParamValue::List(vec!["training".into(), "skill_upgrade".into()]),
        ),
    ];
    params.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ast) = parse(src) else {
        return;
    };
    let scope = Scope {
        columns: &COLUMNS,
        params: &PARAMS,
    };
    if check(&ast, &scope).is_ok() {
        let _ = lower(&ast, &scope);
    }
});
