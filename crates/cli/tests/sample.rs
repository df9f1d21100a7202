//! `subsidy-audit sample` end to end on the demo package: the draw, its repeatability, the
//! reports' sheets, the fieldwork evaluation, and the refusals.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_subsidy-audit"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn scan(out: &Path) {
    ok(&run(&["scan", "--quiet", "--out", s(out)]));
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).expect("manifest"))
        .expect("json")
}

fn sheets(path: &Path) -> Vec<String> {
    use calamine::Reader as _;
    let wb: calamine::Xlsx<_> = calamine::open_workbook(path).expect("xlsx");
    wb.sheet_names().to_vec()
}

#[test]
fn a_seeded_sample_is_the_same_bytes_every_time_and_lands_in_the_reports() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    for d in [&a, &b] {
        scan(d.path());
    }
    let before = std::fs::read(a.path().join("recoveries.csv")).expect("recoveries");
    for d in [&a, &b] {
        ok(&run(&[
            "sample",
            s(d.path()),
            "--tolerable",
            "20000",
            "--expected-error",
            "2000",
            "--seed",
            "7",
            "--quiet",
        ]));
    }
    let sample = std::fs::read(a.path().join("sample.csv")).expect("sample.csv");
    assert_eq!(
        sample,
        std::fs::read(b.path().join("sample.csv")).expect("sample.csv"),
        "one seed, one sample"
    );
    // the replayed scan writes the scan's outputs unchanged
    assert_eq!(
        before,
        std::fs::read(a.path().join("recoveries.csv")).expect("recoveries")
    );
    let m = manifest(a.path());
    let plan = &m["sample"]["plan"];
    assert_eq!(plan["params"]["seed"], 7);
    assert_eq!(plan["params"]["method"], "mus");
    let drawn = plan["drawn"].as_u64().expect("drawn");
    let text = String::from_utf8(sample).expect("utf-8");
    assert_eq!(text.lines().count() as u64, drawn + 1);
    assert!(
        text.starts_with("sample_no,unit_kind,unit_id,finding_ids,"),
        "{text}"
    );
    // every recovery at or above the interval is taken with certainty
    let interval = plan["mus"]["interval"].as_i64().expect("interval");
    let mut r = csv::Reader::from_path(a.path().join("recoveries.csv")).expect("csv");
    let big: Vec<String> = r
        .records()
        .map(|x| x.expect("row"))
        .filter(|x| subsidy_model::money::parse_yuan(&x[4]).expect("amount") >= interval)
        .map(|x| x[0].to_string())
        .collect();
    for claim in &big {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!(",{claim},")) && l.contains(",certainty,")),
            "{claim} above the interval is taken with certainty"
        );
    }
    let names = sheets(&a.path().join("report.xlsx"));
    assert!(names.contains(&"抽样".to_string()), "{names:?}");
    assert!(names.contains(&"抽样方案".to_string()), "{names:?}");
    assert!(a.path().join("docs/sampling.md").is_file());
    assert!(a.path().join("sample_reviews_template.csv").is_file());

    // another seed, another sample
    ok(&run(&[
        "sample",
        s(b.path()),
        "--tolerable",
        "20000",
        "--expected-error",
        "2000",
        "--seed",
        "8",
        "--quiet",
    ]));
    assert_ne!(
        text.as_bytes(),
        std::fs::read(b.path().join("sample.csv")).expect("sample.csv")
    );
}

#[test]
fn fieldwork_comes_back_through_reviews_and_is_projected_in_one_sentence() {
    let d = tempfile::tempdir().expect("tmp");
    scan(d.path());
    ok(&run(&[
        "sample",
        s(d.path()),
        "--method",
        "stratified",
        "--size",
        "40",
        "--quiet",
    ]));
    // fieldwork: every third unit dismissed (enough differences for a normal interval), the
    // rest confirmed in full
    let template = d.path().join("sample_reviews_template.csv");
    let mut r = csv::Reader::from_path(&template).expect("template");
    let header = r.headers().expect("header").clone();
    let fw = d.path().join("fieldwork.csv");
    let mut w = csv::Writer::from_path(&fw).expect("write");
    w.write_record(&header).expect("header");
    let dec = header
        .iter()
        .position(|h| h == "decision")
        .expect("decision");
    let mut dismissed = 0;
    for (i, rec) in r.records().enumerate() {
        let mut row: Vec<String> = rec.expect("row").iter().map(str::to_string).collect();
        row[dec] = if i % 3 == 0 {
            dismissed += 1;
            "dismissed".into()
        } else {
            "confirmed".into()
        };
        w.write_record(&row).expect("row");
    }
    w.flush().expect("flush");
    let o = run(&[
        "sample",
        "evaluate",
        s(d.path()),
        "--reviews",
        s(&fw),
        "--quiet",
    ]);
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("置信水平") && stdout.contains("至少"),
        "{stdout}"
    );
    assert!(stdout.contains("At 95% confidence, at least"), "{stdout}");
    let m = manifest(d.path());
    let e = &m["sample"]["evaluation"];
    assert_eq!(e["dismissed"], dismissed);
    assert_eq!(e["not_examined"], 0);
    let (low, point, total) = (
        e["confirmed_lower_limit"].as_i64().expect("low"),
        e["confirmed_estimate"].as_i64().expect("point"),
        e["population_amount"].as_i64().expect("total"),
    );
    assert!(
        0 < low && low <= point && point < total,
        "{low} {point} {total}"
    );
    let html = std::fs::read_to_string(d.path().join("report.html")).expect("html");
    assert!(html.contains("抽样评价") && html.contains("抽样结论"));
}

#[test]
fn unusable_sampling_input_exits_2_with_the_reason() {
    let d = tempfile::tempdir().expect("tmp");
    // no scan in the folder
    let o = run(&["sample", s(d.path()), "--size", "5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("manifest.json"));

    scan(d.path());
    // neither a tolerable misstatement nor a size
    let o = run(&["sample", s(d.path())]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--tolerable"));
    // an expected misstatement at the tolerable one
    let o = run(&[
        "sample",
        s(d.path()),
        "--tolerable",
        "100",
        "--expected-error",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(2));
    // no sample drawn yet
    let fw = d.path().join("fw.csv");
    std::fs::write(&fw, "finding_id,decision\nF1,confirmed\n").expect("write");
    let o = run(&["sample", "evaluate", s(d.path()), "--reviews", s(&fw)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("records no sample"));

    ok(&run(&["sample", s(d.path()), "--size", "5", "--quiet"]));
    // a decision that is not one
    std::fs::write(
        &fw,
        "finding_id,claim_id,decision,confirmed_amount\nF1,C1,confirmed,\nF2,C2,maybe,\n",
    )
    .expect("write");
    let o = run(&["sample", "evaluate", s(d.path()), "--reviews", s(&fw)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 3") && err.contains("decision") && err.contains("maybe"),
        "{err}"
    );
    // an amount confirmed for a dismissal
    std::fs::write(
        &fw,
        "finding_id,claim_id,decision,confirmed_amount\nF1,C1,dismissed,100\n",
    )
    .expect("write");
    let o = run(&["sample", "evaluate", s(d.path()), "--reviews", s(&fw)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("confirmed_amount"));
}
