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
    assert_eq!(
        fa.len(),
        15,
        "13 tables, labels.csv and labels_effectiveness.csv"
    );
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
    copy_tree(&root().join("rules"), to);
}

#[test]
fn invalid_rules_exit_3_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_rules(dir.path());
    let f = dir.path().join("claims/CL-01-late-claim.toml");
    let text = std::fs::read_to_string(&f)
        .expect("read")
        .replace("$claim_window_months", "$claim_window_monthz");
    std::fs::write(&f, text).expect("write");
    let o = run(&["rules", "check", s(dir.path())]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("claims/CL-01-late-claim.toml:")
            && err.contains(
                "unknown parameter `$claim_window_monthz`\n  help: did you mean `$claim_window_months`?"
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
        Some(5),
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
    assert_eq!(
        o.status.code(),
        Some(6),
        "below a threshold has its own code"
    );
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(empty.path().join("evaluation.json")).expect("json"),
    )
    .expect("parse");
    assert_eq!(j["claims"]["recall"].as_f64(), Some(0.0));
    assert_eq!(j["found_recovery_yuan"], "0.00");
}

fn read_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    subsidy_testkit::read_rows(path).expect("csv")
}

fn fen(yuan: &str) -> i64 {
    subsidy_model::money::parse_yuan(yuan).expect("yuan")
}

/// The demo scanned into a fresh folder.
fn scan_demo(extra: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    let mut args = vec!["scan", "--quiet", "--out", s(d.path())];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    d
}

/// A sheet's rows as text.
fn sheet_rows(
    wb: &mut calamine::Xlsx<std::io::BufReader<std::fs::File>>,
    name: &str,
) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let range = wb
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("sheet {name}: {e}"));
    range.rows().map(<[calamine::Data]>::to_vec).collect()
}

/// The column of `header` in a sheet's first row.
fn column_of(rows: &[Vec<calamine::Data>], header: &str) -> usize {
    rows[0]
        .iter()
        .position(|c| c.to_string() == header)
        .unwrap_or_else(|| panic!("a column headed {header}: {:?}", rows[0]))
}

#[test]
fn report_xlsx_is_chinese_with_a_cover_whose_totals_are_the_csvs_and_english_on_request() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let d = scan_demo(&[]);
    let mut wb: Xlsx<_> = open_workbook(d.path().join("report.xlsx")).expect("opens");
    assert_eq!(
        wb.sheet_names(),
        [
            "封面",
            "问题线索",
            "应追回申领",
            "责任主体",
            "质效评估",
            "身份合并",
            "拒收记录"
        ]
    );
    let recoveries = read_rows(&d.path().join("recoveries.csv"));
    let findings = read_rows(&d.path().join("findings.csv"));
    let parties = read_rows(&d.path().join("parties.csv"));
    let total: i64 = recoveries.iter().map(|r| fen(&r["recover_amount"])).sum();
    assert!(total > 0);
    // Chinese headers: no contract name, some known ones
    for sheet in ["问题线索", "应追回申领", "责任主体"] {
        let rows = sheet_rows(&mut wb, sheet);
        for h in &rows[0] {
            let h = h.to_string();
            assert!(
                !h.is_ascii() && !h.contains('_'),
                "{sheet}: header `{h}` is not Chinese"
            );
        }
    }
    let rec = sheet_rows(&mut wb, "应追回申领");
    assert_eq!(rec.len(), recoveries.len() + 1);
    let col = column_of(&rec, "应追回金额（元）");
    let sum: f64 = rec[1..]
        .iter()
        .map(|r| match &r[col] {
            Data::Float(x) => *x,
            other => panic!("money cell is a number, not {other:?}"),
        })
        .sum();
    assert_eq!((sum * 100.0).round() as i64, total);
    // names beside codes: the institution's name from institutions.csv
    let institutions = read_rows(&root().join("fixtures/demo/institutions.csv"));
    let named = column_of(&rec, "机构名称");
    let inst = column_of(&rec, "机构统一社会信用代码");
    for r in &rec[1..] {
        let id = r[inst].to_string();
        if let Some(i) = institutions.iter().find(|i| i["institution_id"] == id) {
            assert_eq!(r[named].to_string(), i["name"]);
        }
    }
    // codes in Chinese
    let f = sheet_rows(&mut wb, "问题线索");
    let cat = column_of(&f, "问题类别");
    assert!(f[1..].iter().all(|r| !r[cat].to_string().is_ascii()));
    let msg = column_of(&f, "说明");
    assert!(
        f[1..]
            .iter()
            .all(|r| !r[msg].to_string().starts_with("Claim "))
    );

    // the cover: totals against the CSVs
    let cover = sheet_rows(&mut wb, "封面");
    let value = |label: &str| -> Data {
        cover
            .iter()
            .find(|r| r[0] == Data::String(label.into()))
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("the cover has {label}"))
    };
    assert_eq!(value("应追回金额"), Data::Float(total as f64 / 100.0));
    assert_eq!(
        value("应追回申领（笔）"),
        Data::Float(recoveries.len() as f64)
    );
    assert_eq!(value("问题线索"), Data::Float(findings.len() as f64));
    assert_eq!(value("责任主体"), Data::Float(parties.len() as f64));
    assert!(matches!(value("基准日"), Data::DateTime(_)), "a date cell");
    // each block's total row: recovery by fund source and by region sum to the total; parties
    // by disposition count the parties
    let totals: Vec<&Vec<Data>> = cover
        .iter()
        .filter(|r| r[0] == Data::String("合计".into()))
        .collect();
    assert_eq!(totals.len(), 5, "{totals:?}");
    let money = Data::Float(total as f64 / 100.0);
    assert!(totals.iter().any(|r| r.get(3) == Some(&money)), "by region");
    assert!(
        totals.iter().any(|r| r.get(2) == Some(&money)),
        "by fund source"
    );
    // recovery by fund source: each source's sum is the CSV's
    let claims = read_rows(&root().join("fixtures/demo/claims.csv"));
    let mut by_fund: std::collections::BTreeMap<String, i64> = Default::default();
    for r in &recoveries {
        let c = claims
            .iter()
            .find(|c| c["claim_id"] == r["claim_id"])
            .expect("claim");
        *by_fund.entry(c["fund_source"].clone()).or_default() += fen(&r["recover_amount"]);
    }
    let fund_at = cover
        .iter()
        .position(|r| r[0] == Data::String("按资金来源的应追回".into()))
        .expect("fund block");
    for (code, fen) in by_fund {
        let zh = subsidy_report::i18n::code("fund_source", &code, subsidy_report::i18n::Lang::Zh);
        let row = cover[fund_at..]
            .iter()
            .find(|r| r[0].to_string() == zh)
            .unwrap_or_else(|| panic!("fund source {zh} on the cover"));
        assert_eq!(row[2], Data::Float(fen as f64 / 100.0), "{zh}");
    }
    // personal data masked: no resident ID in any text cell of the findings sheet
    let id = |t: &str| {
        t.as_bytes().windows(18).any(|w| {
            w.iter().take(17).all(u8::is_ascii_digit)
                && subsidy_model::ids::id_birth_date(std::str::from_utf8(w).unwrap_or("")).is_some()
        })
    };
    assert!(
        f.iter().flatten().all(|c| !id(&c.to_string())),
        "an ID number is unmasked"
    );
    assert!(
        findings
            .iter()
            .any(|r| id(&r["message_zh"]) || id(&r["evidence"])),
        "the CSV keeps them"
    );
    // --reveal-pii shows them
    let r = scan_demo(&["--reveal-pii"]);
    let mut wb: Xlsx<_> = open_workbook(r.path().join("report.xlsx")).expect("opens");
    let f = sheet_rows(&mut wb, "问题线索");
    assert!(f.iter().flatten().any(|c| id(&c.to_string())));

    // --lang en: English throughout, the contract's names
    let e = scan_demo(&["--lang", "en"]);
    let mut wb: Xlsx<_> = open_workbook(e.path().join("report.xlsx")).expect("opens");
    assert_eq!(
        wb.sheet_names(),
        [
            "cover",
            "findings",
            "recoveries",
            "parties",
            "effectiveness",
            "identities",
            "rejected"
        ]
    );
    let f = sheet_rows(&mut wb, "findings");
    let header: Vec<String> = f[0].iter().map(|c| c.to_string()).collect();
    let contract: Vec<&str> = subsidy_model::output::FINDINGS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != "message_zh")
        .collect();
    let shown: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|h| contract.contains(h))
        .collect();
    assert_eq!(shown, contract, "every contract column, in order");
    let cat = column_of(&f, "category");
    assert!(f[1..].iter().all(|r| r[cat].to_string().is_ascii()));
    let cover = sheet_rows(&mut wb, "cover");
    assert!(
        cover
            .iter()
            .any(|r| r[0] == Data::String("to recover".into())
                && r[1] == Data::Float(total as f64 / 100.0))
    );
}

#[test]
fn the_reports_language_leaves_csv_and_parquet_byte_identical() {
    let zh = scan_demo(&[]);
    let en = scan_demo(&["--lang", "en"]);
    let mut compared = 0;
    for e in std::fs::read_dir(zh.path()).expect("out") {
        let p = e.expect("entry").path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if !matches!(ext, "csv" | "parquet") {
            continue;
        }
        let name = p.file_name().expect("name");
        let a = std::fs::read(&p).expect("zh");
        let b = std::fs::read(en.path().join(name)).expect("en");
        assert!(a == b, "{} differs between --lang zh and en", p.display());
        compared += 1;
    }
    assert!(compared >= 8, "{compared} files compared");
    // and the reports do differ
    let a = std::fs::read_to_string(zh.path().join("report.html")).expect("zh");
    let b = std::fs::read_to_string(en.path().join("report.html")).expect("en");
    assert!(a.contains("lang=\"zh-CN\"") && b.contains("lang=\"en\""));
}

/// The text of an HTML fragment: tags dropped, entities of the escaper decoded.
fn html_text(h: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in h.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// Renders `url` in headless Chromium: its DOM after layout, and a screenshot at `shot`.
fn chromium_render(chromium: &str, url: &str, shot: &Path) -> String {
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let profile = tempfile::tempdir().expect("tmp");
    let dom = Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_file(shot);
    let o = Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--window-size=1400,2400")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real screenshot"
    );
    String::from_utf8_lossy(&dom.stdout).into_owned()
}

#[test]
fn report_html_renders_in_zh_and_en_in_headless_chromium_with_the_covers_numbers() {
    let zh = scan_demo(&[]);
    let en = scan_demo(&["--lang", "en"]);
    for d in [&zh, &en] {
        let html = std::fs::read_to_string(d.path().join("report.html")).expect("html");
        for banned in ["http://", "https://", "<script", "src=\""] {
            assert!(!html.contains(banned), "report.html holds `{banned}`");
        }
    }
    let recoveries = read_rows(&zh.path().join("recoveries.csv"));
    let findings = read_rows(&zh.path().join("findings.csv"));
    let parties = read_rows(&zh.path().join("parties.csv"));
    let institutions = read_rows(&root().join("fixtures/demo/institutions.csv"));
    let total: i64 = recoveries.iter().map(|r| fen(&r["recover_amount"])).sum();
    let top = parties
        .iter()
        .find(|p| p["kind"] == "training_institution" || p["kind"] == "evaluation_organisation")
        .expect("an institution");
    let top_name = &institutions
        .iter()
        .find(|i| i["institution_id"] == top["responsible_party"])
        .expect("the top party is an institution of the package")["name"];

    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(chromium) = chromium else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have chromium (.ci/run installs it)"
        );
        eprintln!("chromium not installed: rendering skipped (CI installs it)");
        return;
    };
    // the screenshots are kept as test artifacts
    let artifacts = root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let url = |d: &tempfile::TempDir| format!("file://{}", d.path().join("report.html").display());
    let dom = chromium_render(chromium, &url(&zh), &artifacts.join("report-zh.png"));
    let dom_en = chromium_render(chromium, &url(&en), &artifacts.join("report-en.png"));

    let kpi = |dom: &str, id: &str| -> String {
        let at = dom
            .find(&format!("id=\"{id}\">"))
            .unwrap_or_else(|| panic!("{id} rendered"));
        let rest = &dom[at + id.len() + 6..];
        rest[..rest.find('<').expect("closing tag")].to_string()
    };
    for d in [&dom, &dom_en] {
        assert_eq!(kpi(d, "kpi-findings"), findings.len().to_string());
        assert_eq!(kpi(d, "kpi-claims"), recoveries.len().to_string());
        assert_eq!(
            kpi(d, "kpi-recover"),
            subsidy_model::money::format_yuan(total)
        );
        assert_eq!(kpi(d, "kpi-parties"), parties.len().to_string());
    }
    // the cover, read against recoveries.csv: the total rows of recovery by fund source and by
    // region are the CSV's total
    let yuan = subsidy_model::money::format_yuan(total);
    for block in ["cover-by-fund-source", "cover-by-region"] {
        let at = dom.find(&format!("id=\"{block}\"")).expect("cover block");
        let t = &dom[at..];
        let t = &t[..t.find("</table>").expect("table ends")];
        let last = &t[t.rfind("<tr class=\"total\"").expect("a total row")..];
        assert!(
            html_text(last).split_whitespace().any(|w| w == yuan),
            "{block}'s total is {yuan}: {}",
            html_text(last)
        );
    }
    assert!(dom.find("id=\"cover\"") < dom.find("id=\"dashboard\""));

    // the top institution's dossier, named, with its recovery; its anchor is its rank, not its
    // id (which may be a person's ID number)
    let row_at = dom
        .find(&format!("<td>{}</td>", top["responsible_party"]))
        .expect("the top institution is listed");
    let row = &dom[dom[..row_at].rfind("<tr>").expect("row")..row_at];
    assert!(row.contains(top_name.as_str()), "its name beside its code");
    let anchor = &row[row.find("href=\"#").expect("a link") + 7..];
    let anchor = &anchor[..anchor.find('"').expect("quote")];
    let dossier_at = dom
        .find(&format!("id=\"{anchor}\""))
        .expect("the top institution has a dossier");
    let dossier = &dom[dossier_at..];
    let dossier = &dossier[..dossier.find("</article>").expect("dossier ends")];
    assert!(
        dossier.contains(&top["recover_amount"]),
        "the dossier states its recovery"
    );
    assert!(
        dossier.contains(top_name.as_str()),
        "the dossier is headed by the name"
    );
    assert!(
        dossier.contains("docs/rules.md#"),
        "findings link to the rule docs"
    );

    // every institution dossier in zh: no English enum code, no English message
    let mut codes: Vec<&str> = Vec::new();
    use subsidy_model::vocab::{self, Vocab as _};
    codes.extend(vocab::Category::names());
    codes.extend(vocab::Severity::names());
    codes.extend(vocab::Disposition::names());
    codes.extend(vocab::Role::names());
    codes.extend(vocab::EntityKind::names());
    codes.extend(vocab::Detector::names());
    codes.extend(vocab::Scheme::names());
    codes.extend(vocab::Level::names());
    let mut dossiers = 0;
    for part in dom.split("<article class=\"dossier\"").skip(1) {
        let text = html_text(&part[..part.find("</article>").expect("ends")]);
        let words: std::collections::BTreeSet<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        for c in &codes {
            assert!(
                !words.contains(c),
                "the zh dossier shows the code `{c}`: {text}"
            );
        }
        // no English sentence: four English words in a row
        let mut run = 0;
        for w in text.split(|c: char| c.is_whitespace() || ",;:()".contains(c)) {
            if w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic()) {
                run += 1;
                assert!(run < 4, "English in the zh dossier near `{w}`: {text}");
            } else if !w.is_empty() {
                run = 0;
            }
        }
        for f in &findings {
            assert!(!text.contains(&f["message"]), "an English message");
        }
        dossiers += 1;
    }
    assert!(dossiers > 0);
    // and in en the messages are the English ones
    assert!(
        findings
            .iter()
            .any(|f| html_text(&dom_en).contains(f["message"].split(':').next().unwrap_or("")))
    );
    assert!(dom_en.contains("Skills-training subsidy audit report"));
}

#[test]
fn reviews_dismiss_confirm_and_notice_changed_evidence() {
    let first = scan_demo(&[]);
    let template = read_rows(&first.path().join("reviews_template.csv"));
    let recoveries = read_rows(&first.path().join("recoveries.csv"));
    let findings = read_rows(&first.path().join("findings.csv"));
    // a claim recovered on exactly one finding: dismissing it removes the recovery
    let rec = recoveries
        .iter()
        .find(|r| !r["finding_ids"].contains(';'))
        .expect("a claim with one finding");
    let dismissed = rec["finding_ids"].clone();
    // two findings the report shows (dossiers hold at most 100 rows each)
    let shown = std::fs::read_to_string(first.path().join("report.html")).expect("html");
    let others: Vec<&String> = template
        .iter()
        .map(|r| &r["finding_id"])
        .filter(|f| **f != dismissed && shown.contains(f.as_str()))
        .take(2)
        .collect();
    let hash = |f: &str| {
        template
            .iter()
            .find(|r| r["finding_id"] == f)
            .map(|r| r["evidence_sha256"].clone())
            .expect("in the template")
    };
    let reviews = first.path().join("reviews.csv");
    std::fs::write(
        &reviews,
        format!(
            "finding_id,decision,reviewer,date,note,expires_on,evidence_sha256\n\
             {dismissed},dismissed,auditor A,2027-04-20,training records seen,2099-12-31,{}\n\
             {},confirmed,auditor B,2027-04-20,fake roster,,{}\n\
             {},dismissed,auditor C,2027-04-20,old evidence,,0000000000000000\n\
             F0000000000000000,investigating,auditor D,2027-04-20,gone,,\n",
            hash(&dismissed),
            others[0],
            hash(others[0]),
            others[1],
        ),
    )
    .expect("write reviews");
    let second = scan_demo(&["--reviews", s(&reviews), "--lang", "en"]);
    let f2 = read_rows(&second.path().join("findings.csv"));
    let r2 = read_rows(&second.path().join("recoveries.csv"));
    assert_eq!(f2.len(), findings.len() - 1, "one finding suppressed");
    assert!(f2.iter().all(|f| f["finding_id"] != dismissed));
    assert!(
        r2.iter().all(|r| r["claim_id"] != rec["claim_id"]),
        "its recovery is gone"
    );
    // a changed finding is not suppressed by its (stale) dismissal
    assert!(f2.iter().any(|f| &f["finding_id"] == others[1]));
    let html = std::fs::read_to_string(second.path().join("report.html")).expect("html");
    let listed = html.find("id=\"dismissed\"").expect("dismissed section");
    assert!(
        html[listed..].contains(&dismissed),
        "the dismissed finding is listed"
    );
    assert!(
        html.contains("class=\"rv confirmed\""),
        "confirmed is marked"
    );
    assert!(
        html.contains("class=\"rv changed\""),
        "changed evidence is marked"
    );
    assert!(html.contains("Institution dossiers"), "--lang en");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(second.path().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(manifest["parameters"]["reviews"]["dismissed_in_force"], 1);
    assert_eq!(manifest["parameters"]["reviews"]["not_raised_this_scan"], 1);
    // an expired dismissal no longer suppresses
    std::fs::write(
        &reviews,
        format!("finding_id,decision,reviewer,date,note,expires_on\n{dismissed},dismissed,A,2020-01-01,x,2020-12-31\n"),
    )
    .expect("write");
    let third = scan_demo(&["--reviews", s(&reviews)]);
    assert_eq!(
        read_rows(&third.path().join("findings.csv")).len(),
        findings.len()
    );
    // a bad decision stops the run with file, line and column
    std::fs::write(&reviews, "finding_id,decision\nF1,approved\n").expect("write");
    let out = tempfile::tempdir().expect("tmp");
    let o = run(&[
        "scan",
        "--quiet",
        "--out",
        s(out.path()),
        "--reviews",
        s(&reviews),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 2") && err.contains("decision") && err.contains("approved"),
        "{err}"
    );
}

/// The one pass over the sign-ins (`subsidy_model::sign_ins`) sorts the rows itself, and splits a
/// table too large for one sort by class (`SUBSIDY_ROWS_PER_PASS` lowers the limit): rows in
/// another order, or split, give the outputs of one sort.
#[test]
fn sign_ins_aggregated_in_passes_give_the_same_findings() {
    let outputs = ["findings.csv", "recoveries.csv", "parties.csv"];
    let one = scan_demo(&[]);
    // the demo's sign-ins are written class by class; a shuffled copy is not
    let shuffled = tempfile::tempdir().expect("tmp");
    for e in std::fs::read_dir(root().join("fixtures/demo")).expect("demo") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, shuffled.path().join(p.file_name().expect("name"))).expect("copy");
    }
    let att = shuffled.path().join("attendance.csv");
    let text = std::fs::read_to_string(&att).expect("attendance");
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    // a fixed interleaving: odd rows reversed after the even ones
    let (even, odd): (Vec<(usize, &str)>, Vec<(usize, &str)>) = lines
        .iter()
        .copied()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let mut out = vec![header];
    out.extend(even.into_iter().map(|(_, l)| l));
    out.extend(odd.into_iter().rev().map(|(_, l)| l));
    std::fs::write(&att, out.join("\n") + "\n").expect("write");
    for package in [root().join("fixtures/demo"), shuffled.path().to_path_buf()] {
        let many = tempfile::tempdir().expect("tmp");
        let o = bin()
            .args(["scan", "--quiet", s(&package), "--out", s(many.path())])
            .env("SUBSIDY_ROWS_PER_PASS", "700")
            .current_dir(root())
            .output()
            .expect("runs");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        for f in outputs {
            let a = std::fs::read_to_string(one.path().join(f)).expect("one pass");
            let b = std::fs::read_to_string(many.path().join(f)).expect("passes");
            assert!(a.lines().count() > 1, "{f} is empty");
            assert_eq!(a, b, "{f} differs for {}", package.display());
        }
    }
}

/// Every text of both reports: the whole of report.html, and every cell of every sheet of
/// report.xlsx.
fn report_texts(out: &Path) -> Vec<(String, String)> {
    use calamine::{Reader, Xlsx, open_workbook};
    let mut texts = vec![(
        "report.html".to_string(),
        std::fs::read_to_string(out.join("report.html")).expect("html"),
    )];
    let mut wb: Xlsx<_> = open_workbook(out.join("report.xlsx")).expect("opens");
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("sheet");
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                texts.push((format!("report.xlsx {name} r{r}c{c}"), cell.to_string()));
            }
        }
    }
    texts
}

/// The demo copied, with a claim its trainee filed with no class (its responsible party is the
/// trainee, a person) and a persons row that is rejected (its raw record holds the ID, phone and
/// account).
fn demo_with_a_trainee_party() -> tempfile::TempDir {
    let pkg = tempfile::tempdir().expect("tmp");
    for e in std::fs::read_dir(root().join("fixtures/demo")).expect("demo") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, pkg.path().join(p.file_name().expect("name"))).expect("copy");
    }
    let append = |file: &str, line: &str| {
        let p = pkg.path().join(file);
        let mut t = std::fs::read_to_string(&p).expect("read");
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t.push_str(line);
        t.push('\n');
        std::fs::write(&p, t).expect("write");
    };
    let persons = read_rows(&pkg.path().join("persons.csv"));
    let p = &persons[0];
    // filed by the trainee, no class or evaluation, paid to another account than the trainee's
    append(
        "claims.csv",
        &format!(
            "CM900000001,training,{id},{id},,,,{occ},junior,1100.00,1100.00,2026-01-20,2026-02-20,6222029999888877776,employment_fund,人社局",
            id = p["person_id"],
            occ = read_rows(&pkg.path().join("claims.csv"))[0]["occupation_code"],
        ),
    );
    // a bad birth date: rejected, with the whole record
    append(
        "persons.csv",
        "110105198802290033,错日期,m,13987654321,6222021111222233334,110105,1988-02-30,北京市朝阳区,,",
    );
    pkg
}

#[test]
fn reports_mask_every_id_phone_and_account_of_the_package() {
    let pkg = demo_with_a_trainee_party();
    let out = tempfile::tempdir().expect("tmp");
    let o = run(&["scan", "--quiet", s(pkg.path()), "--out", s(out.path())]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // the trainee answers for a finding, and the rejected row is there
    let parties = read_rows(&out.path().join("parties.csv"));
    let persons = read_rows(&pkg.path().join("persons.csv"));
    let trainee = &persons[0]["person_id"];
    assert!(
        parties.iter().any(|p| &p["responsible_party"] == trainee),
        "a trainee is a responsible party"
    );
    assert!(out.path().join("rejected/persons.csv").exists());

    let mut secrets: Vec<String> = Vec::new();
    for p in &persons {
        for c in ["person_id", "phone", "bank_account"] {
            secrets.push(p[c].clone());
        }
    }
    for c in read_rows(&pkg.path().join("claims.csv")) {
        secrets.push(c["payee_account"].clone());
    }
    secrets.retain(|v| v.len() >= 6);
    secrets.sort();
    secrets.dedup();
    assert!(secrets.len() > 300);
    let mut leaks = Vec::new();
    for (at, t) in report_texts(out.path()) {
        for v in &secrets {
            if t.contains(v.as_str()) {
                leaks.push(format!("{at}: {v}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} unmasked: {:?}",
        leaks.len(),
        &leaks[..leaks.len().min(10)]
    );
    // --reveal-pii shows them
    let open = tempfile::tempdir().expect("tmp");
    let o = run(&[
        "scan",
        "--quiet",
        "--reveal-pii",
        s(pkg.path()),
        "--out",
        s(open.path()),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let html = std::fs::read_to_string(open.path().join("report.html")).expect("html");
    assert!(html.contains(trainee.as_str()));
}

#[test]
fn a_rule_flagging_most_rows_raises_the_base_rate_alarm() {
    let flood = root().join("fixtures/packs/flood");
    let out = tempfile::tempdir().expect("tmp");
    let o = run(&[
        "scan",
        "--preview",
        "--rules",
        s(&flood),
        "--out",
        s(out.path()),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("ALARM CL-99 flagged 100 % of the"),
        "{stderr}"
    );
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    let alarms = m["alarms"].as_array().expect("alarms");
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    let a = &alarms[0];
    assert_eq!(a["rule"], "CL-99");
    assert_eq!(a["flagged"], a["examined"]);
    assert!(a["examined"].as_u64().expect("n") >= 100);
    assert_eq!(a["share"], 1.0);
    let msg = a["message"].as_str().expect("message");
    assert!(msg.contains("check the package's conventions before acting on these findings"));
    let msg_zh = a["message_zh"].as_str().expect("message_zh");
    assert!(msg_zh.contains("请先核对数据包的口径"), "{msg_zh}");
    // the workbook's summary and the top of report.html say so
    let texts = report_texts(out.path());
    assert!(
        texts
            .iter()
            .any(|(at, t)| at.starts_with("report.xlsx 封面") && t == msg_zh)
    );
    let html = &texts[0].1;
    let alarm_at = html.find(r#"id="alarms""#).expect("alarm section");
    assert!(alarm_at < html.find(r#"id="dashboard""#).expect("dashboard"));
    assert!(html.contains(msg_zh));

    // the shipped pack on the demo raises none
    let d = scan_demo(&[]);
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(m["alarms"], serde_json::json!([]));
    let html = std::fs::read_to_string(d.path().join("report.html")).expect("html");
    assert!(!html.contains(r#"id="alarms""#));
}

#[test]
fn profile_lists_every_stage_view_and_rule_with_time_and_peak() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run(&["scan", "--quiet", "--profile", "--out", s(d.path())]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("manifest.json")).expect("manifest"))
            .expect("json");
    let spans = m["profile"].as_array().expect("a profile list");
    let of = |kind: &str| -> Vec<String> {
        spans
            .iter()
            .filter(|s| s["kind"] == kind)
            .map(|s| s["name"].as_str().expect("name").to_string())
            .collect()
    };
    assert_eq!(
        of("stage"),
        [
            "ingest",
            "identities",
            "sign-ins",
            "anomalies",
            "effectiveness",
            "rules",
            "write",
            "reports"
        ]
    );
    assert!(of("view").iter().any(|v| v == "claim"), "{:?}", of("view"));
    // every rule that ran has its span, under the rules stage
    let ran: Vec<String> = m["rule_runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|r| r.get("skipped").is_none())
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    assert!(!ran.is_empty());
    assert_eq!(of("rule"), ran);
    for sp in spans {
        assert!(sp["wall_ms"].is_u64() && sp["peak_mib"].is_u64(), "{sp}");
        if sp["kind"] == "rule" {
            assert!(
                sp["depth"].as_u64() >= Some(1),
                "a rule is inside its stage: {sp}"
            );
        }
    }
    // the stage's peak covers its rules'
    let peak = |kind: &str, name: &str| {
        spans
            .iter()
            .find(|s| s["kind"] == kind && s["name"] == name)
            .and_then(|s| s["peak_mib"].as_u64())
            .expect("span")
    };
    let rules_peak = peak("stage", "rules");
    assert!(ran.iter().all(|r| peak("rule", r) <= rules_peak));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("profile (wall time") && err.contains("rule "),
        "{err}"
    );
    // without --profile the manifest has no profile
    let plain = scan_demo(&[]);
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(plain.path().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert!(m.get("profile").is_none());
}

#[test]
fn a_merged_identity_named_by_a_finding_has_its_waterfall_in_report_html_masked() {
    let d = scan_demo(&[]);
    let ids = read_rows(&d.path().join("identities.csv"));
    let merged: Vec<&std::collections::BTreeMap<String, String>> = ids
        .iter()
        .filter(|r| r["person_id"] != r["identity_id"])
        .collect();
    assert!(!merged.is_empty(), "the demo has a re-registration");
    let html = std::fs::read_to_string(d.path().join("report.html")).expect("html");
    let at = html
        .find(r#"<section id="identities">"#)
        .expect("identities section");
    let section = &html[at..at + html[at..].find("</section>").expect("closed")];
    for r in &merged {
        // masked: the ID never in the clear, its masked form there
        assert!(!section.contains(r["person_id"].as_str()), "unmasked ID");
        let id = r["identity_id"].as_str();
        let masked = format!("{}********{}", &id[..6], &id[14..]);
        assert!(section.contains(&masked), "{masked} not in {section}");
    }
    // each waterfall adds up: prior + fields = the total row
    let cells: Vec<f64> = section
        .split(r#"<td class="num">"#)
        .skip(1)
        .map(|c| c[..c.find('<').expect("cell")].parse().expect("number"))
        .collect();
    // one pair in the demo: prior, nine fields, total
    assert_eq!(cells.len() % 11, 0, "{cells:?}");
    for w in cells.chunks(11) {
        let sum: f64 = w[..10].iter().sum();
        assert!((sum - w[10]).abs() < 0.06, "{w:?}");
    }
    assert!(section.contains("出生日期") && section.contains("DC-01"));
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("dir") {
        let p = e.expect("entry").path();
        let dest = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

#[test]
fn a_new_rule_is_one_toml_file_and_one_hand_made_folder_with_no_rust() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (pack, fixtures) = (tmp.path().join("rules"), tmp.path().join("fixtures"));
    copy_rules(&pack);
    std::fs::create_dir_all(&fixtures).expect("mkdir");
    let o = run(&[
        "rules",
        "new",
        "CL-11",
        "high-fee",
        "--family",
        "claims",
        "--view",
        "claim",
        "--rules",
        s(&pack),
        "--fixtures",
        s(&fixtures),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let file = pack.join("claims/CL-11-high-fee.toml");
    let skeleton = std::fs::read_to_string(&file).expect("rule file");
    // the skeleton is a valid (preview) rule, and a second `rules new` refuses to overwrite it
    assert_eq!(run(&["rules", "check", s(&pack)]).status.code(), Some(0));
    let again = run(&[
        "rules",
        "new",
        "CL-11",
        "high-fee",
        "--rules",
        s(&pack),
        "--fixtures",
        s(&fixtures),
    ]);
    assert_eq!(again.status.code(), Some(2));
    // the author writes the check, and a hand-made package: CL-05's, whose classes charge fees
    let rule = skeleton
        .replace("where = \"false\"", "where = \"not_null(fee_per_trainee) and fee_per_trainee > yuan(450) and planned_hours < 7\"")
        .replace("status = \"preview\"", "status = \"stable\"");
    std::fs::write(&file, rule).expect("write");
    let package = fixtures.join("CL-11/package");
    std::fs::remove_dir_all(&package).expect("rm skeleton package");
    copy_tree(&root().join("fixtures/rules/CL-05/package"), &package);
    let claims = std::fs::read_to_string(package.join("claims.csv")).expect("claims");
    let classes = std::fs::read_to_string(package.join("classes.csv")).expect("classes");
    // expected: the claims of short classes charging more than 450 yuan, from the package's rows
    let header: Vec<&str> = classes.lines().next().expect("header").split(',').collect();
    let at = |name: &str| header.iter().position(|c| *c == name).expect("column");
    let (fee, hours) = (at("fee_per_trainee"), at("planned_hours"));
    let num = |l: &str, i: usize| l.split(',').nth(i).and_then(|v| v.parse::<f64>().ok());
    let dear: Vec<String> = classes
        .lines()
        .skip(1)
        .filter(|l| {
            num(l, fee).is_some_and(|v| v > 450.0) && num(l, hours).is_some_and(|h| h < 7.0)
        })
        .map(|l| l.split(',').next().expect("id").to_string())
        .collect();
    assert!(!dear.is_empty(), "the package has a dear class");
    let mut cases = String::from("id,expect,why\n");
    for l in claims.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let flagged = dear.iter().any(|c| f.contains(&c.as_str()));
        cases.push_str(&format!(
            "{},{},fee\n",
            f[0],
            if flagged { "flag" } else { "clean" }
        ));
    }
    std::fs::write(package.join("cases.csv"), &cases).expect("cases");
    let test = |bless: bool| {
        let mut a = vec![
            "rules",
            "test",
            s(&pack),
            "--fixtures",
            s(&fixtures),
            "--only",
            "CL-11",
        ];
        if bless {
            a.push("--bless");
        }
        run(&a)
    };
    let o = test(true);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let snap = std::fs::read_to_string(fixtures.join("CL-11/snapshot.csv")).expect("snapshot");
    assert!(
        snap.lines().count() > 1 && snap.contains("TODO: one sentence"),
        "{snap}"
    );
    assert_eq!(test(false).status.code(), Some(0));
    // a case the rule does not meet fails the test (exit 3), naming the case
    std::fs::write(
        package.join("cases.csv"),
        cases.replacen(",clean,", ",flag,", 1),
    )
    .expect("cases");
    let o = test(false);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("should be flagged"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn effectiveness_is_scored_written_and_reported_and_ie_01_guides_without_recovery() {
    use calamine::{Reader, Xlsx, open_workbook};
    let pkg = root().join("fixtures/effectiveness/package");
    // the hand-made package has three peers: a pack that ranks groups that small
    let rules = tempfile::tempdir().expect("tmp");
    copy_tree(&root().join("rules"), rules.path());
    let p = rules.path().join("pack.toml");
    let t = std::fs::read_to_string(&p).expect("pack");
    let t = t
        .replace("min_peers = 5", "min_peers = 3")
        .replace("bottom_share = 0.10", "bottom_share = 0.20");
    std::fs::write(&p, t).expect("write");
    let d = tempfile::tempdir().expect("tmp");
    let o = run(&[
        "scan",
        s(&pkg),
        "--quiet",
        "--rules",
        s(rules.path()),
        "--out",
        s(d.path()),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in [
        "effectiveness.csv",
        "effectiveness.parquet",
        "docs/effectiveness.md",
    ] {
        assert!(d.path().join(f).exists(), "{f}");
    }
    let eff = read_rows(&d.path().join("effectiveness.csv"));
    let b = "52330106MJ1B000282";
    let prog = eff
        .iter()
        .find(|r| r["unit"] == "programme" && r["institution_id"] == b)
        .expect("B's programme");
    assert_eq!(prog["flagged"], "yes");
    assert_eq!(prog["subsidy_paid"], "20000.00", "money in yuan");
    assert!(
        eff.iter()
            .any(|r| r["unit"] == "institution" && r["institution_id"] == b)
    );
    // the finding: IE-01 on B, nothing at risk, no recovery on its account
    let findings = read_rows(&d.path().join("findings.csv"));
    let ie: Vec<_> = findings
        .iter()
        .filter(|f| f["rule_id"] == "IE-01")
        .collect();
    assert_eq!(ie.len(), 1, "{ie:?}");
    assert_eq!(ie[0]["responsible_party"], b);
    assert_eq!(ie[0]["amount_at_risk"], "0.00");
    assert_eq!(ie[0]["entity_id"], format!("{b}:6-18-02-04:junior"));
    assert!(ie[0]["message_zh"].contains("指导其调整"));
    let recoveries = read_rows(&d.path().join("recoveries.csv"));
    assert!(recoveries.iter().all(|r| !r["basis"].contains("IE-01")));
    // parties carry the composite beside the risk score
    let parties = read_rows(&d.path().join("parties.csv"));
    let pb = parties
        .iter()
        .find(|p| p["responsible_party"] == b)
        .expect("B is a party");
    let score: f64 = pb["effectiveness_score"].parse().expect("a composite");
    assert!((0.0..=1.0).contains(&score));
    // the reports: a scorecard sheet, a ranking on the dashboard, a section in B's dossier
    let mut wb: Xlsx<_> = open_workbook(d.path().join("report.xlsx")).expect("opens");
    assert!(wb.sheet_names().contains(&"质效评估".to_string()));
    let rows = sheet_rows(&mut wb, "质效评估");
    assert_eq!(rows.len(), eff.len() + 1);
    let html = std::fs::read_to_string(d.path().join("report.html")).expect("html");
    assert!(html.contains("id=\"effectiveness-ranking\""));
    assert!(html.contains("<section class=\"effectiveness\">"));
    assert!(html.contains("docs/effectiveness.md#"));
}
