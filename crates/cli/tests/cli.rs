//! End-to-end tests of the `subsidy-audit` binary: what a user runs, what it writes, and its
//! exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use subsidy_ingest::{Options, read_package};
use subsidy_model::contract::Table;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_subsidy-audit"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).current_dir(root()).output().expect("runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn scan_with_no_arguments_scans_the_demo_and_is_byte_for_byte_repeatable() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    for d in [&a, &b] {
        let o = run(&["scan", "--quiet", "--out", s(d.path())]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let fa = files(a.path());
    let names: Vec<String> = fa
        .iter()
        .map(|p| {
            p.strip_prefix(a.path())
                .expect("inside")
                .display()
                .to_string()
        })
        .collect();
    for want in [
        "findings.csv",
        "findings.parquet",
        "recoveries.csv",
        "recoveries.parquet",
        "parties.csv",
        "parties.parquet",
        "identities.csv",
        "identities.parquet",
        "manifest.json",
    ] {
        assert!(
            names.contains(&want.to_string()),
            "{want} missing from {names:?}"
        );
    }
    for p in &fa {
        let rel = p.strip_prefix(a.path()).expect("inside");
        if rel == Path::new("manifest.json") {
            continue; // holds the run's clock times
        }
        assert_eq!(
            std::fs::read(p).expect("a"),
            std::fs::read(b.path().join(rel)).expect("b"),
            "{} differs between runs",
            rel.display()
        );
    }
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(a.path().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(m["engine_version"], env!("CARGO_PKG_VERSION"));
    let inputs = m["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 13, "every table of the demo is read");
    assert!(
        inputs
            .iter()
            .all(|i| i["sha256"].as_str().is_some_and(|h| h.len() == 64)
                && i["rows"].as_u64().is_some_and(|n| n > 0))
    );
    assert_eq!(m["rejected_total"], 0);
    let persons = inputs
        .iter()
        .find(|i| i["table"] == "persons")
        .expect("persons");
    let n_persons = std::fs::read_to_string(root().join("fixtures/demo/persons.csv"))
        .expect("csv")
        .lines()
        .count() as u64
        - 1;
    assert_eq!(persons["rows"].as_u64(), Some(n_persons));
    // identities: one row per person
    let ids = std::fs::read_to_string(a.path().join("identities.csv")).expect("identities");
    assert_eq!(ids.lines().count() as u64 - 1, n_persons);
}

#[test]
fn rejected_rows_are_written_aside_counted_and_spreadsheet_safe() {
    let pkg = tempfile::tempdir().expect("tmp");
    for e in std::fs::read_dir(root().join("fixtures/minimal")).expect("dir") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, pkg.path().join(p.file_name().expect("name"))).expect("copy");
    }
    std::fs::copy(
        root().join("fixtures/bad/formula_cells/persons.csv"),
        pkg.path().join("persons.csv"),
    )
    .expect("copy");
    let out = tempfile::tempdir().expect("tmp");
    let o = run(&["scan", s(pkg.path()), "--out", s(out.path())]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rej =
        std::fs::read_to_string(out.path().join("rejected/persons.csv")).expect("rejected file");
    let mut lines = rej.lines();
    assert_eq!(
        lines.next(),
        Some("file,line,column,value,reason,message,record")
    );
    let row = lines.next().expect("one row");
    assert!(
        row.starts_with("persons.csv,3,birth_date,1990-13-45,bad_date,"),
        "{row}"
    );
    // the record holds a formula inside one text cell that starts with the ID, so no cell of the
    // file starts with `=`: a spreadsheet shows it as text (cells that would start with a formula
    // get a leading apostrophe, see subsidy_report::spreadsheet_safe)
    assert!(
        row.contains(",\"310104199002150024,\"\"=HYPERLINK("),
        "{row}"
    );
    assert!(!row.contains(",=") && !row.contains(",\"="), "{row}");
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(m["rejected"]["persons"]["bad_date"], 1);
    assert_eq!(m["rejected"]["enrollments"]["orphan_reference"], 1);
    assert_eq!(
        m["rejected_total"], 5,
        "1 person, then 1 enrolment, 2 sign-ins and 1 evaluation that point at it"
    );
    let persons = m["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .find(|i| i["table"] == "persons")
        .expect("persons")
        .clone();
    assert_eq!(
        (
            persons["rows"].as_u64(),
            persons["accepted"].as_u64(),
            persons["rejected"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("5 rejected"), "{stderr}");
}

#[test]
fn unusable_input_exits_2_with_the_reason() {
    let pkg = tempfile::tempdir().expect("tmp");
    for e in std::fs::read_dir(root().join("fixtures/minimal")).expect("dir") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, pkg.path().join(p.file_name().expect("name"))).expect("copy");
    }
    std::fs::rename(pkg.path().join("claims.csv"), pkg.path().join("claim.csv")).expect("rename");
    let out = tempfile::tempdir().expect("tmp");
    let o = run(&["scan", s(pkg.path()), "--out", s(out.path())]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("the package has no `claims` table")
            && stderr.contains("did you mean to name `claim.csv` claims?"),
        "{stderr}"
    );

    let o = run(&["scan", "/nonexistent/package", "--out", s(out.path())]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a readable folder"));

    let o = run(&["scan", "--fail-on", "severe", "--out", s(out.path())]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown severity `severe`"));
}

#[test]
fn generate_is_deterministic_and_parquet_reads_like_csv() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let pq = tempfile::tempdir().expect("tmp");
    for (d, fmt) in [(&a, "csv"), (&b, "csv"), (&pq, "parquet")] {
        let o = run(&[
            "generate",
            "--scale",
            "demo",
            "--seed",
            "7",
            "--format",
            fmt,
            "--quiet",
            "--out",
            s(d.path()),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let fa = files(a.path());
    assert_eq!(fa.len(), 14, "13 tables and labels.csv");
    for p in &fa {
        let rel = p.strip_prefix(a.path()).expect("inside");
        assert_eq!(
            std::fs::read(p).expect("a"),
            std::fs::read(b.path().join(rel)).expect("b"),
            "{} differs for one seed",
            rel.display()
        );
    }
    let c = read_package(a.path(), &Options::default()).expect("csv package");
    let p = read_package(pq.path(), &Options::default()).expect("parquet package");
    assert!(c.rejected.is_empty() && p.rejected.is_empty());
    for t in Table::ALL {
        // line numbers agree too: row n of a Parquet file is line n + 1, as in CSV
        assert!(
            c.frame(t).equals_missing(p.frame(t)),
            "{t} differs between CSV and Parquet"
        );
    }
    // a different seed gives a different package
    let other = tempfile::tempdir().expect("tmp");
    run(&[
        "generate",
        "--seed",
        "8",
        "--quiet",
        "--out",
        s(other.path()),
    ]);
    assert_ne!(
        std::fs::read(a.path().join("persons.csv")).expect("a"),
        std::fs::read(other.path().join("persons.csv")).expect("o")
    );
}

#[test]
fn generate_rejects_unknown_scenarios() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run(&["generate", "--rate", "fake_stuff=0.1", "--out", s(d.path())]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown scenario `fake_stuff`"));
}

fn copy_rules(to: &Path) {
    fn walk(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("dir") {
            let p = e.expect("entry").path();
            let dest = to.join(p.file_name().expect("name"));
            if p.is_dir() {
                walk(&p, &dest);
            } else {
                std::fs::copy(&p, &dest).expect("copy");
            }
        }
    }
    walk(&root().join("rules"), to);
}

#[test]
fn invalid_rules_exit_3_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_rules(dir.path());
    let f = dir.path().join("claims/CL-01-late-claim.toml");
    let text = std::fs::read_to_string(&f)
        .expect("read")
        .replace("$claim_window_days", "$claim_window_dayz");
    std::fs::write(&f, text).expect("write");
    let o = run(&["rules", "check", s(dir.path())]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("claims/CL-01-late-claim.toml:")
            && err.contains(
                "unknown parameter `$claim_window_dayz`; did you mean `$claim_window_days`?"
            ),
        "{err}"
    );
    // a scan with those rules stops too
    let out = tempfile::tempdir().expect("tmp");
    assert_eq!(
        run(&[
            "scan",
            "--rules",
            s(dir.path()),
            "--out",
            s(out.path()),
            "--quiet"
        ])
        .status
        .code(),
        Some(3)
    );
}

#[test]
fn rules_diff_shows_what_a_parameter_change_does() {
    let base = tempfile::tempdir().expect("tmp");
    let head = tempfile::tempdir().expect("tmp");
    copy_rules(base.path());
    copy_rules(head.path());
    // let every trainee of the demo be up to 62 years old: EL-01 stops firing on the planted 63-year-old? no: lower it to 30
    let f = head.path().join("eligibility/EL-01-age-out-of-range.toml");
    let text = std::fs::read_to_string(&f)
        .expect("read")
        .replace("max_age_male = 60", "max_age_male = 30");
    std::fs::write(&f, text).expect("write");
    let md = base.path().join("diff.md");
    let o = run(&[
        "rules",
        "diff",
        "--base",
        s(base.path()),
        "--head",
        s(head.path()),
        "--markdown",
        s(&md),
        "--fail-on-change",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let table = String::from_utf8_lossy(&o.stdout);
    let el01 = table
        .lines()
        .find(|l| l.starts_with("EL-01"))
        .expect("EL-01 row");
    let nums: Vec<usize> = el01
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().expect("number"))
        .collect();
    assert!(
        nums[1] > nums[0] && nums[2] == nums[1] - nums[0] && nums[3] == 0,
        "{el01}"
    );
    let md = std::fs::read_to_string(&md).expect("markdown");
    assert!(
        md.contains("| EL-01 |") && md.contains("Recovery total:"),
        "{md}"
    );
    // the same packs: no change, exit 0
    let o = run(&[
        "rules",
        "diff",
        "--base",
        s(base.path()),
        "--head",
        s(base.path()),
        "--fail-on-change",
    ]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn fail_on_exits_1_when_findings_reach_the_severity() {
    let out = tempfile::tempdir().expect("tmp");
    assert_eq!(
        run(&[
            "scan",
            "--quiet",
            "--fail-on",
            "critical",
            "--out",
            s(out.path())
        ])
        .status
        .code(),
        Some(1),
        "the demo has a deceased trainee (critical)"
    );
    let pkg = root().join("fixtures/minimal");
    assert_eq!(
        run(&[
            "scan",
            s(&pkg),
            "--quiet",
            "--fail-on",
            "critical",
            "--out",
            s(out.path())
        ])
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn explain_prints_a_rules_documentation() {
    let o = run(&["rules", "explain", "dc-01"]);
    assert_eq!(o.status.code(), Some(0));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        t.starts_with("### DC-01")
            && t.contains("同职业同等级重复")
            && t.contains("**What clears it.**"),
        "{t}"
    );
    let o = run(&["rules", "explain", "DC-1"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn evaluate_scores_a_perfect_and_an_empty_findings_set() {
    let pkg = root().join("fixtures/demo");
    let labels = std::fs::read_to_string(pkg.join("labels.csv")).expect("labels");
    let mut claims = std::collections::BTreeSet::new();
    for line in labels.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if !f[4].is_empty() {
            claims.insert((f[4].to_string(), f[1].to_string(), f[5].to_string()));
        }
    }
    let write = |dir: &Path, rows: &[(String, String, String)]| {
        let mut fnd = String::from(
            "finding_id,rule_id,category,severity,detector,entity_kind,entity_id,institution_id,responsible_party,claim_ids,amount_at_risk,score,message,evidence\n",
        );
        let mut rec = String::from(
            "claim_id,responsible_party,institution_id,amount_paid,recover_amount,finding_ids,basis\n",
        );
        for (i, (c, cat, amount)) in rows.iter().enumerate() {
            fnd.push_str(&format!(
                "F{i},X-01,{cat},high,rule,claim,{c},,p,{c},{amount},,m,{{}}\n"
            ));
            rec.push_str(&format!("{c},p,,{amount},{amount},F{i},X-01\n"));
        }
        std::fs::write(dir.join("findings.csv"), fnd).expect("w");
        std::fs::write(dir.join("recoveries.csv"), rec).expect("w");
        std::fs::write(
            dir.join("parties.csv"),
            "responsible_party,kind,risk_score,findings,claims,recover_amount,disposition\n",
        )
        .expect("w");
    };
    // perfect: every labelled claim recovered at its expected amount
    let perfect = tempfile::tempdir().expect("tmp");
    let mut best: std::collections::BTreeMap<String, (String, String)> =
        std::collections::BTreeMap::new();
    for (c, cat, amount) in &claims {
        best.entry(c.clone())
            .or_insert((cat.clone(), amount.clone()));
    }
    let rows: Vec<(String, String, String)> =
        best.into_iter().map(|(c, (cat, a))| (c, cat, a)).collect();
    write(perfect.path(), &rows);
    let o = run(&[
        "evaluate",
        "--labels",
        s(&pkg),
        "--findings",
        s(perfect.path()),
        "--min-precision",
        "1",
        "--min-recall",
        "1",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(perfect.path().join("evaluation.json")).expect("json"),
    )
    .expect("parse");
    assert_eq!(
        (
            j["claims"]["precision"].as_f64(),
            j["claims"]["recall"].as_f64()
        ),
        (Some(1.0), Some(1.0))
    );
    // empty: nothing found, recall 0 and the threshold fails
    let empty = tempfile::tempdir().expect("tmp");
    write(empty.path(), &[]);
    let o = run(&[
        "evaluate",
        "--labels",
        s(&pkg),
        "--findings",
        s(empty.path()),
        "--min-recall",
        "0.5",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(empty.path().join("evaluation.json")).expect("json"),
    )
    .expect("parse");
    assert_eq!(j["claims"]["recall"].as_f64(), Some(0.0));
    assert_eq!(j["found_recovery_yuan"], "0.00");
}
