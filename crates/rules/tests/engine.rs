//! The engine end to end on small packages: diagnostics with positions and suggestions,
//! entitlement, recovery counted once and never above what was paid, effective dates.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use subsidy_ingest::{Options, read_package};
use subsidy_model::contract::Table;
use subsidy_rules::{Pack, pack};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped() -> Vec<(String, String)> {
    pack::read_dir(&root().join("rules")).expect("rules dir")
}

fn load(files: &[(String, String)]) -> Result<Pack, Vec<subsidy_rules::Diagnostic>> {
    pack::load(files)
}

fn with_rule(path: &str, text: &str) -> Vec<(String, String)> {
    let mut f = shipped();
    f.retain(|(p, _)| p == "pack.toml");
    f.push((path.to_string(), text.to_string()));
    f
}

fn dc01() -> String {
    std::fs::read_to_string(root().join("rules/duplicates/DC-01-same-occupation-level-twice.toml"))
        .expect("DC-01")
}

#[test]
fn the_shipped_pack_loads() {
    let p = load(&shipped()).expect("valid pack");
    assert!(p.rules.len() >= 35, "{} rules", p.rules.len());
    let ids: BTreeSet<&str> = p.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), p.rules.len(), "ids are unique");
    assert_eq!(p.sha256.len(), 64);
}

/// DC-01 with `from` replaced by `to`, loaded alone with the shipped pack.toml: its diagnostics
/// as `rules check` prints them.
fn diagnostics_of(from: &str, to: &str) -> (String, Vec<String>) {
    let text = dc01();
    assert!(text.contains(from), "DC-01 has no `{from}`");
    let text = text.replacen(from, to, 1);
    let d = load(&with_rule(
        "duplicates/DC-01-same-occupation-level-twice.toml",
        &text,
    ))
    .expect_err("invalid");
    (text, d.iter().map(ToString::to_string).collect())
}

/// 1-based line and column of the first `needle` in `text` (after `after`, if given).
fn pos(text: &str, after: &str, needle: &str) -> String {
    let start = text.find(after).expect("anchor");
    let at = start + text[start..].find(needle).expect("needle");
    let line = text[..at].matches('\n').count() + 1;
    let col = text[..at]
        .rsplit('\n')
        .next()
        .map_or(0, |l| l.chars().count())
        + 1;
    format!("duplicates/DC-01-same-occupation-level-twice.toml:{line}:{col}")
}

// Cedar-style: each diagnostic pinned exactly, its position taken from the TOML spans.
#[test]
fn an_unknown_column_in_an_expression_points_inside_the_string() {
    let (text, d) = diagnostics_of("not_null(amount_paid)", "not_null(amount_payd)");
    assert_eq!(
        d,
        [format!(
            "{}: error: unknown column `amount_payd`\n  help: did you mean `amount_paid`?",
            pos(&text, "where = ", "amount_payd")
        )]
    );
}

#[test]
fn an_unknown_category_points_at_its_value() {
    let (text, d) = diagnostics_of(
        "category = \"duplicate_claim\"",
        "category = \"duplicate_claims\"",
    );
    assert_eq!(
        d,
        [format!(
            "{}: error: unknown category `duplicate_claims`\n  help: did you mean `duplicate_claim`?",
            pos(&text, "category", "\"duplicate_claims\"")
        )]
    );
}

#[test]
fn an_unknown_primitive_suggests_the_nearest() {
    let (text, d) = diagnostics_of(
        "primitive = \"count_per_key\"",
        "primitive = \"count_per_keys\"",
    );
    assert_eq!(
        d,
        [format!(
            "{}: error: unknown primitive `count_per_keys`\n  help: did you mean `count_per_key`?",
            pos(&text, "primitive", "\"count_per_keys\"")
        )]
    );
}

#[test]
fn a_field_the_primitive_does_not_take_is_named_with_what_it_takes() {
    let (text, d) = diagnostics_of(
        "flag = \"after_first\"",
        "flag = \"after_first\"\nrank = \"level\"",
    );
    assert_eq!(
        d,
        [format!(
            "{}: error: `count_per_key` does not take `rank`\n  help: `count_per_key` takes keys, where, distinct, order_by, min, flag",
            pos(&text, "rank = ", "\"level\"")
        )]
    );
    let (text, d) = diagnostics_of("flag = \"after_first\"\n", "");
    assert_eq!(
        d,
        [format!(
            "{}: error: `count_per_key` needs `flag`",
            pos(&text, "primitive", "\"count_per_key\"")
        )]
    );
}

#[test]
fn an_unknown_column_of_a_check_field_and_an_unknown_field() {
    let (text, d) = diagnostics_of("order_by = \"claimed_on\"", "order_by = \"claim_on\"");
    assert_eq!(
        d,
        [format!(
            "{}: error: view `claim` has no column `claim_on`\n  help: did you mean `claimed_on`?",
            pos(&text, "order_by", "\"claim_on\"")
        )]
    );
    let (text, d) = diagnostics_of("[docs]\nwhat = ", "[docs]\nwhaat = ");
    assert_eq!(
        d,
        [format!(
            "{}: error: unknown field `whaat`\n  help: did you mean `what`?",
            pos(&text, "[docs]", "whaat")
        )]
    );
}

#[test]
fn types_print_in_the_rule_languages_words() {
    let (text, d) = diagnostics_of(
        "where = \"not_null(amount_paid) and in(scheme, ['training', 'skill_upgrade', 'project'])\"",
        "where = \"amount_paid\"",
    );
    assert_eq!(
        d,
        [format!(
            "{}: error: `where` must be a condition (true or false), found a whole number",
            pos(&text, "where = ", "amount_paid")
        )]
    );
    let (text, d) = diagnostics_of("min = 2", "min = \"$nope\"");
    assert_eq!(
        d,
        [format!(
            "{}: error: unknown parameter `$nope`",
            pos(&text, "min = ", "\"$nope\"")
        )]
    );
    let (text, d) = diagnostics_of("min = 2", "min = true");
    assert_eq!(
        d,
        [format!(
            "{}: error: invalid type: boolean `true`, expected a number or a `$parameter`",
            pos(&text, "min = ", "true")
        )]
    );
}

#[test]
fn duplicate_ids_for_overlapping_periods_are_refused() {
    let mut files = shipped();
    files.push((
        "duplicates/DC-01-same-occupation-level-twice-copy.toml".into(),
        dc01().replace(
            "name = \"same-occupation-level-twice\"",
            "name = \"same-occupation-level-twice-copy\"",
        ),
    ));
    let d = load(&files).expect_err("duplicate");
    assert!(
        d.iter()
            .any(|x| x.message.contains("rule id `DC-01` is also used by")),
        "{d:?}"
    );
    // a second version for a later period is fine
    let mut files = shipped();
    files.retain(|(p, _)| !p.contains("DC-01"));
    files.push((
        "duplicates/DC-01-same-occupation-level-twice.v1.toml".into(),
        dc01().replace(
            "effective_from = \"2019-01-01\"",
            "effective_from = \"2019-01-01\"\neffective_until = \"2025-12-31\"",
        ),
    ));
    files.push((
        "duplicates/DC-01-same-occupation-level-twice.v2.toml".into(),
        dc01().replace(
            "effective_from = \"2019-01-01\"",
            "effective_from = \"2026-01-01\"",
        ),
    ));
    let p = load(&files).expect("two versions");
    assert_eq!(p.rules.iter().filter(|r| r.id == "DC-01").count(), 2);
}

fn minimal() -> subsidy_ingest::Package {
    read_package(&root().join("fixtures/minimal"), &Options::default()).expect("minimal")
}

/// The minimal package's first trainee recorded deceased from 2025-03-03 (during the class).
fn with_deceased_trainee(pkg: &mut subsidy_ingest::Package) {
    let status = df!(
        "person_id" => ["110105198001010016"],
        "status" => ["deceased"],
        "valid_from" => [20150i32],
        "valid_until" => [None::<i32>],
        "employer_id" => [None::<&str>],
        "source" => ["民政"],
    )
    .expect("frame")
    .lazy()
    .with_columns([
        col("valid_from").cast(DataType::Date),
        col("valid_until").cast(DataType::Date),
    ])
    .collect()
    .expect("dates");
    pkg.tables.insert(Table::PersonStatus, status);
    pkg.present.insert(Table::PersonStatus);
}

/// The rules that raised findings.
fn rule_ids(o: &subsidy_rules::Outcome) -> BTreeSet<String> {
    o.findings
        .column("rule_id")
        .expect("col")
        .str()
        .expect("str")
        .iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

fn run(pack: &Pack, pkg: &subsidy_ingest::Package) -> subsidy_rules::Outcome {
    subsidy_rules::run(
        pack,
        pkg.tables.clone(),
        &pkg.present,
        None,
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        &[],
        None,
        &Default::default(),
    )
    .expect("runs")
}

fn claim_col(o: &subsidy_rules::Outcome, c: &str) -> Vec<Option<i64>> {
    o.views.frames["claim"]
        .column(c)
        .expect("col")
        .i64()
        .expect("i64")
        .iter()
        .collect()
}

#[test]
fn entitlement_uses_the_region_the_tier_and_the_cap() {
    let p = load(&shipped()).expect("pack");
    let pkg = minimal();
    // defaults: junior training 1000 yuan, 电工 is tier 2 (+20 %); intermediate 养老护理员 tier 3 (+30 %)
    let o = run(&p, &pkg);
    assert_eq!(
        claim_col(&o, "entitled"),
        vec![Some(120_000), Some(195_000)]
    );
    // the package's own table wins, its region before `*`, the uplift capped at 30 %
    let mut pkg = minimal();
    let std = df!(
        "region_code" => ["*", "350203", "*"],
        "scheme" => ["training", "training", "training"],
        "level" => ["junior", "junior", "intermediate"],
        "amount" => [100_000i64, 70_000, 150_000],
        "uplift_by_tier" => ["0;0.1;0.2;0.3", "0;0.1;0.2;0.3", "0;0.5;0.5;0.5"],
        "valid_from" => [Some(20089i32), Some(20089), Some(20089)],
        "valid_until" => [None::<i32>, None, None],
    )
    .expect("frame")
    .lazy()
    .with_columns([
        col("valid_from").cast(DataType::Date),
        col("valid_until").cast(DataType::Date),
    ])
    .collect()
    .expect("dates");
    pkg.tables.insert(Table::SubsidyStandards, std);
    pkg.present.insert(Table::SubsidyStandards);
    let o = run(&p, &pkg);
    assert_eq!(
        claim_col(&o, "entitled"),
        vec![Some(84_000), Some(195_000)],
        "厦门 700 × 1.2; 1500 × (1 + min(0.5, 0.3))"
    );
    // CM1 claims 840 = entitled: no over-claim; CL-02 stays silent
    let rules: Vec<String> = o
        .findings
        .column("rule_id")
        .expect("col")
        .str()
        .expect("str")
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    assert!(!rules.contains(&"CL-02".to_string()), "{rules:?}");
}

#[test]
fn a_claim_is_recovered_once_never_above_what_was_paid() {
    let p = load(&shipped()).expect("pack");
    let mut pkg = minimal();
    // CM1 (paid 840): over the standard by 300 (excess) AND for a dead trainee (full)
    let claims = pkg.tables[&Table::Claims]
        .clone()
        .lazy()
        .with_columns([
            when(col("claim_id").eq(lit("CM1")))
                .then(lit(150_000i64))
                .otherwise(col("amount_claimed"))
                .alias("amount_claimed"),
            when(col("claim_id").eq(lit("CM1")))
                .then(lit(84_000i64))
                .otherwise(col("amount_paid"))
                .alias("amount_paid"),
        ])
        .collect()
        .expect("claims");
    pkg.tables.insert(Table::Claims, claims);
    with_deceased_trainee(&mut pkg);
    let o = run(&p, &pkg);
    let rules = rule_ids(&o);
    assert!(
        rules.contains("EL-02") && rules.contains("CL-02"),
        "{rules:?}"
    );
    let r = &o.recoveries;
    assert_eq!(r.height(), 1, "one row for CM1 however many findings: {r}");
    assert_eq!(
        r.column("claim_id").expect("c").str().expect("s").get(0),
        Some("CM1")
    );
    // the deceased finding recovers everything paid (840), not the claim (1500), not paid + excess
    assert_eq!(
        r.column("recover_amount")
            .expect("c")
            .i64()
            .expect("i")
            .get(0),
        Some(84_000)
    );
    // EL-02 and TP-01 (one day of attendance) each ask for the full amount, TP-02 (no trainee of
    // the class verified for 90 % of the standard) for the shortfall; CL-02's excess,
    // min(paid 840, claimed 1500) - entitled 1200, is below zero: nothing, so it is not a basis
    assert_eq!(
        r.column("basis").expect("c").str().expect("s").get(0),
        Some("EL-02;TP-01;TP-02")
    );
    assert_eq!(
        r.column("finding_ids")
            .expect("c")
            .str()
            .expect("s")
            .get(0)
            .map(|s| s.split(';').count()),
        Some(3)
    );
}

#[test]
fn rules_apply_only_in_their_effective_period() {
    let mut files = shipped();
    let p = files
        .iter_mut()
        .find(|(p, _)| p.contains("EL-02"))
        .expect("EL-02");
    p.1 = p.1.replace(
        "effective_from = \"2019-01-01\"",
        "effective_from = \"2019-01-01\"\neffective_until = \"2024-12-31\"",
    );
    let pack = load(&files).expect("pack");
    let mut pkg = minimal();
    with_deceased_trainee(&mut pkg);
    let o = run(&pack, &pkg);
    let rules = rule_ids(&o);
    assert!(
        !rules.contains("EL-02"),
        "the claim of 2025-04-10 is judged by no EL-02 in force: {rules:?}"
    );
}

#[test]
fn rules_whose_table_is_absent_are_skipped_not_passed() {
    let p = load(&shipped()).expect("pack");
    let o = run(&p, &minimal());
    let skipped: Vec<&str> = o
        .runs
        .iter()
        .filter(|r| r.skipped.is_some())
        .map(|r| r.id.as_str())
        .collect();
    for id in ["EL-02", "EL-03", "EL-07", "TP-08", "EN-01"] {
        assert!(
            skipped.contains(&id),
            "{id} should be skipped without its table: {skipped:?}"
        );
    }
    assert!(
        o.runs
            .iter()
            .any(|r| r.skipped.as_deref() == Some("table sessions absent"))
    );
}

#[test]
fn a_rule_file_is_named_by_its_id_and_name_in_its_family_folder() {
    let d = load(&with_rule("claims/DC-01-double.toml", &dc01())).expect_err("misplaced");
    let msgs: Vec<String> = d.iter().map(ToString::to_string).collect();
    let name_line = dc01()
        .lines()
        .position(|l| l.starts_with("name = "))
        .expect("name")
        + 1;
    let id_line = dc01()
        .lines()
        .position(|l| l.starts_with("id = "))
        .expect("id")
        + 1;
    assert_eq!(
        msgs,
        [
            format!(
                "claims/DC-01-double.toml:{id_line}:6: error: rule DC-01 belongs in the folder `duplicates/`, not `claims/`"
            ),
            format!(
                "claims/DC-01-double.toml:{name_line}:8: error: the file of rule DC-01 `same-occupation-level-twice` must be named `DC-01-same-occupation-level-twice.toml`, not `DC-01-double.toml`\n  help: rename the file, or use `DC-01-same-occupation-level-twice.<version>.toml` for a dated version"
            ),
        ]
    );
}

#[test]
fn preview_rules_run_only_when_asked_and_deprecated_ones_warn() {
    let mut files = shipped();
    for (p, text) in files.iter_mut() {
        if p.contains("DC-01-") {
            *text = text.replace("status = \"stable\"", "status = \"preview\"");
        }
        if p.contains("DC-02-") {
            *text = text.replace("status = \"stable\"", "status = \"deprecated\"");
        }
    }
    let p = load(&files).expect("valid pack");
    let n = p.rules.len();
    let (scan, warnings) = p.clone().for_scan(false);
    assert_eq!(scan.rules.len(), n - 1);
    assert!(scan.rules.iter().all(|r| r.id != "DC-01"));
    assert_eq!(
        warnings,
        [
            "preview rules not run (pass --preview to run them): DC-01".to_string(),
            "rule DC-02 `annual-cap-exceeded` is deprecated: it still runs, and will be removed"
                .to_string(),
        ]
    );
    let (scan, _) = p.for_scan(true);
    assert_eq!(scan.rules.len(), n);
}
