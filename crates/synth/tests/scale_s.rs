//! The generator at scale s (10k persons): every scenario is planted with the count the summary
//! reports, and every identifier is valid except where a scenario breaks it.

use std::collections::{BTreeMap, BTreeSet};

use subsidy_model::ids::{IdCheck, UsccCheck, check_resident_id, check_uscc};
use subsidy_synth::{Config, Scale, generate, scenario::SCENARIOS};

/// A package table as rows of column → value.
fn read(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    r.records()
        .map(|row| {
            header
                .iter()
                .cloned()
                .zip(row.expect("row").iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[test]
fn every_scenario_is_planted_at_s_and_identifiers_are_valid_unless_broken() {
    let dir = tempfile::tempdir().expect("tmp");
    let summary = generate(dir.path(), &Config::new(Scale::S, 1)).expect("generates");
    assert!(summary.rows["persons"] >= 10_000);
    let labels =
        subsidy_synth::labels::read_labels(&dir.path().join("labels.csv")).expect("labels");
    // every scenario planted, as many times as the summary says (at the rate: 10k × rate, ≥ 1)
    let mut by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in &labels {
        by.entry(l.scenario.to_string())
            .or_default()
            .insert(l.entity_id.clone());
    }
    // (low-effectiveness programmes are labelled in labels_effectiveness.csv)
    let programmes = subsidy_synth::labels::read_effectiveness_labels(
        &dir.path().join("labels_effectiveness.csv"),
    )
    .expect("effectiveness labels");
    let low = programmes.iter().filter(|p| p.should_flag()).count();
    for s in SCENARIOS {
        let planted = summary.planted.get(s.name).copied().unwrap_or(0);
        assert!(planted >= 1, "{} not planted", s.name);
        if s.name == "low_effectiveness" {
            assert_eq!(planted, low as u64);
            assert!(!by.contains_key(s.name), "{} in labels.csv", s.name);
            continue;
        }
        assert!(by.contains_key(s.name), "{} has no label", s.name);
        let expected = ((s.rate * 10_000.0).floor() as u64).max(1);
        assert!(
            planted + 1 >= expected,
            "{}: planted {planted}, rate says about {expected}",
            s.name
        );
    }
    // identifiers: valid except the planted breaks
    let today = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    let broken_ids: BTreeSet<&String> = labels
        .iter()
        .filter(|l| {
            matches!(l.scenario, "invalid_id" | "two_ids_one_person")
                && l.entity_kind.as_str() == "person"
        })
        .map(|l| &l.entity_id)
        .collect();
    let mut bad = Vec::new();
    for p in read(&dir.path().join("persons.csv")) {
        if check_resident_id(&p["person_id"], today) != IdCheck::Valid
            && !broken_ids.contains(&p["person_id"])
        {
            bad.push(p["person_id"].clone());
        }
    }
    assert!(bad.is_empty(), "invalid ids not planted: {bad:?}");
    let broken_codes: BTreeSet<&String> = labels
        .iter()
        .filter(|l| l.scenario == "invalid_uscc")
        .map(|l| &l.entity_id)
        .collect();
    for i in read(&dir.path().join("institutions.csv")) {
        let ok = matches!(check_uscc(&i["institution_id"]), UsccCheck::Valid);
        assert_eq!(
            ok,
            !broken_codes.contains(&i["institution_id"]),
            "{}",
            i["institution_id"]
        );
    }
    // certificate numbers well formed except the planted malformed ones
    let malformed: BTreeSet<&String> = labels
        .iter()
        .filter(|l| l.scenario == "malformed_certificate")
        .filter_map(|l| l.claim_id.as_ref())
        .collect();
    // (level certificates only: special-ability and training certificates follow their
    // province's or institution's own numbering)
    for c in read(&dir.path().join("claims.csv")) {
        if !c["certificate_no"].is_empty()
            && !malformed.contains(&c["claim_id"])
            && c["level"] != "special_ability"
            && !c["evaluation_id"].is_empty()
        {
            assert!(
                subsidy_model::ids::parse_certificate_no(&c["certificate_no"]).is_some(),
                "{}",
                c["certificate_no"]
            );
        }
    }
}
