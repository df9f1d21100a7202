//! The independent packages (`fixtures/independent/`): hand-made from DATA_CONTRACT.md and
//! DOMAIN.md alone by an author who read none of the engine, its generator or its rules. Each
//! holds `expected.csv` (`rule_id, claim_id, expect`): `flag` means a finding of that rule must
//! name the claim, `clean` that none may, and `rule_id = *` that no rule may name it at all.
//!
//! Where the author's catalogue reading and the engine's split one catalogue entry into two rule
//! ids, [`ALIASES`] maps the catalogue id to the engine's ids. Expectations the engine does not
//! meet on purpose are listed in [`DISAGREED`] with the reason; they are checked to still differ,
//! so that a change of mind shows up here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// A catalogue entry the engine implements as several rules.
const ALIASES: &[(&str, &[&str])] = &[
    ("FE-02", &["FE-02", "FE-06"]),
    ("CL-03", &["CL-03", "CL-06"]),
];

const TP02_TRAINEE: &str = "TP-02 judges the class's delivered programme (planned or timetabled 学时 below the standard); a trainee's own absences are TP-01's, and a trainee above TP-01's threshold is not recovered pro rata";
const ID02_INSTITUTION: &str =
    "an invalid credit code is a finding on the institution; it names no trainee's claim";
const FE02_EQUAL_MARKS: &str = "5+ equal practical scores in a sitting is common by chance with whole-number marks; the uniform-score half (FE-06) needs 30+ candidates, all passed, sd < 2";

/// (package, rule, claim, why the engine differs from the author on purpose).
const DISAGREED: &[(&str, &str, &str, &str)] = &[
    ("hours_sessions", "TP-02", "CL0006", TP02_TRAINEE),
    ("hours_sessions", "TP-02", "CL0007", TP02_TRAINEE),
    ("hours_sessions", "TP-02", "CL0008", TP02_TRAINEE),
    ("hours_sessions", "TP-02", "CL0014", TP02_TRAINEE),
    ("hours_sessions", "TP-02", "CL0015", TP02_TRAINEE),
    ("hours_sessions", "TP-02", "CL0021", TP02_TRAINEE),
    ("hours_sessions", "TP-02", "CL0022", TP02_TRAINEE),
    ("hours_sessions", "TP-02", "CL0027", TP02_TRAINEE),
    ("hours_sessions", "TP-02", "CL0028", TP02_TRAINEE),
    ("process", "ID-02", "PR036", ID02_INSTITUTION),
    ("uniform_scores", "FE-02", "CL0118", FE02_EQUAL_MARKS),
    ("uniform_scores", "FE-02", "CL0119", FE02_EQUAL_MARKS),
    ("uniform_scores", "FE-02", "CL0120", FE02_EQUAL_MARKS),
    ("uniform_scores", "FE-02", "CL0121", FE02_EQUAL_MARKS),
    ("uniform_scores", "FE-02", "CL0122", FE02_EQUAL_MARKS),
    ("uniform_scores", "FE-02", "CL0123", FE02_EQUAL_MARKS),
];

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// rule id → claims its findings name.
fn flagged(out: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in read_csv(&out.join("findings.csv")) {
        if f["detector"] == "cluster" {
            continue;
        }
        let e = m.entry(f["rule_id"].clone()).or_default();
        e.extend(
            f["claim_ids"]
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    m
}

fn check(package: &str) {
    let dir = root().join("fixtures/independent").join(package);
    let out = tempfile::tempdir().expect("tmp");
    let o = Command::new(env!("CARGO_BIN_EXE_subsidy-audit"))
        .args(["scan", "--quiet", "--anomaly", "none", "--out"])
        .arg(out.path())
        .arg(&dir)
        .current_dir(root())
        .output()
        .expect("runs");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{package}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let manifest = std::fs::read_to_string(out.path().join("manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    let flags = flagged(out.path());
    let mut wrong = Vec::new();
    for e in read_csv(&dir.join("expected.csv")) {
        let (rule, claim, expect) = (&e["rule_id"], &e["claim_id"], &e["expect"]);
        let ids: Vec<&str> = match ALIASES.iter().find(|(a, _)| a == rule) {
            Some((_, ids)) => ids.to_vec(),
            None if rule == "*" => flags.keys().map(String::as_str).collect(),
            None => vec![rule.as_str()],
        };
        let hit: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|r| flags.get(*r).is_some_and(|c| c.contains(claim)))
            .collect();
        let ok = match expect.as_str() {
            "flag" => !hit.is_empty(),
            "clean" => hit.is_empty(),
            other => panic!("{package}: unknown expectation {other}"),
        };
        let disagreed = DISAGREED
            .iter()
            .any(|(p, r, c, _)| *p == package && r == rule && c == claim);
        if ok == disagreed {
            wrong.push(format!(
                "{rule} {claim}: expected {expect}{}, flagged by {hit:?}",
                if disagreed {
                    " (listed as disagreed)"
                } else {
                    ""
                }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{package}: {} expectations not met:\n{}\nrejected: {}",
        wrong.len(),
        wrong.join("\n"),
        manifest["rejected"]
    );
}

#[test]
fn hours_sessions() {
    check("hours_sessions");
}

#[test]
fn certificates() {
    check("certificates");
}

#[test]
fn evaluation_class() {
    check("evaluation_class");
}

#[test]
fn impossible_pairs() {
    check("impossible_pairs");
}

#[test]
fn uniform_scores() {
    check("uniform_scores");
}

#[test]
fn clean_varied() {
    check("clean_varied");
}

#[test]
fn duplicates() {
    check("duplicates");
}

#[test]
fn eligibility() {
    check("eligibility");
}

#[test]
fn claims_money() {
    check("claims_money");
}

#[test]
fn process() {
    check("process");
}

#[test]
fn clean_large() {
    check("clean_large");
}
