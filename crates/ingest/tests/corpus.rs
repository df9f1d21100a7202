//! The malformed-input corpus (`fixtures/bad/`) and the format matrix, each case asserting the
//! exact outcome: the error message, or the rejected rows with line, column and reason.
//!
//! A case folder holds files that replace those of `fixtures/minimal` (a file `__remove__`
//! names a file to delete).

use std::path::{Path, PathBuf};

use polars::prelude::*;
use subsidy_ingest::{
    Encoding, EncodingChoice, IngestError, Options, Package, Reason, Rejection, read_package,
};
use subsidy_model::contract::Table;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("fixture dir") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, to.join(p.file_name().expect("name"))).expect("copy");
    }
}

/// The minimal package with case `name` laid over it.
fn case_dir(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    copy_dir(&fixtures().join("minimal"), dir.path());
    let case = fixtures().join("bad").join(name);
    for e in std::fs::read_dir(&case).unwrap_or_else(|_| panic!("case {name}")) {
        let p = e.expect("entry").path();
        let f = p.file_name().expect("name").to_string_lossy().into_owned();
        if f == "__remove__" {
            let victim = std::fs::read_to_string(&p).expect("read");
            std::fs::remove_file(dir.path().join(victim.trim())).expect("remove");
        } else {
            std::fs::copy(&p, dir.path().join(&f)).expect("copy");
        }
    }
    dir
}

fn read_case(name: &str) -> Package {
    read_case_with(name, EncodingChoice::Auto).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read_case_with(name: &str, encoding: EncodingChoice) -> Result<Package, IngestError> {
    let dir = case_dir(name);
    read_package(dir.path(), &Options { encoding })
}

fn error_of(name: &str) -> String {
    match read_case_with(name, EncodingChoice::Auto) {
        Ok(_) => panic!("{name}: expected an error"),
        Err(e) => e.to_string(),
    }
}

fn minimal() -> Package {
    read_package(&fixtures().join("minimal"), &Options::default()).expect("minimal package reads")
}

fn rejected<'a>(p: &'a Package, table: &str) -> Vec<&'a Rejection> {
    p.rejected.iter().filter(|r| r.table == table).collect()
}

/// Exactly one rejection in `table`, with this line, column, reason and message.
fn assert_one(p: &Package, table: &str, line: u64, column: &str, reason: Reason, message: &str) {
    let r = rejected(p, table);
    assert_eq!(r.len(), 1, "{table}: {r:#?}");
    let r = r[0];
    assert_eq!(
        (r.line, r.column.as_str(), r.reason, r.message.as_str()),
        (line, column, reason, message),
        "{r:#?}"
    );
}

fn count(p: &Package, table: &str, reason: &str) -> u64 {
    p.rejected_counts()
        .get(table)
        .and_then(|m| m.get(reason))
        .copied()
        .unwrap_or(0)
}

fn height(p: &Package, t: Table) -> usize {
    p.frame(t).height()
}

#[test]
fn minimal_package_reads_clean_with_canonical_types() {
    let p = minimal();
    assert!(p.rejected.is_empty(), "{:#?}", p.rejected);
    let claims = p.frame(Table::Claims);
    let amount = claims
        .column("amount_claimed")
        .expect("col")
        .i64()
        .expect("fen")
        .get(1);
    assert_eq!(amount, Some(130_000), "1300.00 yuan is 130000 fen");
    assert_eq!(
        claims
            .column("amount_paid")
            .expect("col")
            .i64()
            .expect("fen")
            .get(1),
        None
    );
    assert_eq!(
        claims.column("claimed_on").expect("col").dtype(),
        &DataType::Date
    );
    let att = p.frame(Table::Attendance);
    assert_eq!(
        att.column("ts").expect("col").dtype(),
        &DataType::Datetime(TimeUnit::Milliseconds, None)
    );
    // 2025-04-14T08:33:00Z is 16:33 in UTC+8
    let ts = att
        .column("ts")
        .expect("col")
        .cast(&DataType::String)
        .expect("cast");
    assert_eq!(
        ts.str().expect("str").get(5),
        Some("2025-04-14 16:33:00.000")
    );
    assert_eq!(p.inputs.len(), 8);
    assert!(
        p.inputs
            .iter()
            .all(|i| i.sha256.len() == 64 && i.encoding == Some(Encoding::Utf8))
    );
}

#[test]
fn ragged_row_short() {
    let p = read_case("ragged_row_short");
    assert_one(
        &p,
        "claims",
        3,
        "",
        Reason::RaggedRow,
        "expected 16 fields, found 3",
    );
    assert_eq!(height(&p, Table::Claims), 2);
}

#[test]
fn ragged_row_long() {
    let p = read_case("ragged_row_long");
    assert_one(
        &p,
        "claims",
        4,
        "",
        Reason::RaggedRow,
        "expected 16 fields, found 18",
    );
}

#[test]
fn broken_quote_rejects_the_swallowed_lines_and_says_so() {
    let p = read_case("broken_quote");
    let what =
        "unclosed quote opened in column name at line 3 swallows line 4, to the end of the file";
    assert_lines(
        &p,
        "broken_quote",
        "persons",
        &[
            (3, "name", what.into()),
            (4, "", format!("line 4 swallowed: {what}")),
        ],
    );
    assert_eq!(height(&p, Table::Persons), 1);
    // whatever pointed at the lost persons is rejected too, never dropped
    assert_eq!(count(&p, "attendance", "orphan_reference"), 4);
    assert_eq!(count(&p, "claims", "orphan_reference"), 1);
}

/// The rejections of `table` are exactly these (line, column, message), all for a broken quote,
/// each carrying its line of the file as its record.
fn assert_lines(p: &Package, case: &str, table: &str, want: &[(u64, &str, String)]) {
    let r = rejected(p, table);
    let got: Vec<(u64, &str, String)> = r
        .iter()
        .map(|r| (r.line, r.column.as_str(), r.message.clone()))
        .collect();
    assert_eq!(got, want, "{r:#?}");
    assert!(
        r.iter().all(|r| r.reason == Reason::UnterminatedQuote),
        "{r:#?}"
    );
    let path = fixtures().join("bad").join(case).join(&r[0].file);
    let file = std::fs::read_to_string(path).expect("read");
    let lines: Vec<&str> = file.lines().collect();
    for r in &r {
        assert_eq!(r.record, lines[r.line as usize - 1], "{r:#?}");
    }
    let counted = p.inputs.iter().find(|i| i.table == table).expect("input");
    assert_eq!(counted.rejected as usize, want.len());
    assert_eq!(count(p, table, "unterminated_quote") as usize, want.len());
}

fn claim_ids(p: &Package) -> Vec<String> {
    p.frame(Table::Claims)
        .column("claim_id")
        .expect("col")
        .str()
        .expect("str")
        .iter()
        .map(|c| c.unwrap_or_default().to_string())
        .collect()
}

/// An unclosed quote in the last field of a claims row: it swallowed the five rows after it (a
/// quote on the fifth closed it), and the row that opened it kept a plausible field count.
#[test]
fn unclosed_quote_in_the_last_field_rejects_the_row_and_the_five_lines_it_swallowed() {
    let dir = case_dir("unclosed_quote_mid");
    let p = read_package(dir.path(), &Options::default()).expect("reads");
    let what = "unclosed quote opened in column approver at line 12 swallows lines 13–17";
    let mut want = vec![(12, "approver", what.to_string())];
    want.extend((13..=17).map(|l| (l, "", format!("line {l} swallowed: {what}"))));
    assert_lines(&p, "unclosed_quote_mid", "claims", &want);
    let opener = rejected(&p, "claims")[0];
    assert_eq!(opener.value, "人社局350203");
    // every other claim is read, the two-line approver after the span too, with its own line
    let mut ids = claim_ids(&p);
    ids.sort_by_key(|c| c[2..].parse::<u32>().expect("number"));
    let expected: Vec<String> = (1..=10).chain(17..=19).map(|i| format!("CM{i}")).collect();
    assert_eq!(ids, expected);
    let claims = p.frame(Table::Claims);
    let approver = claims.column("approver").expect("col").str().expect("str");
    assert_eq!(approver.get(10), Some("人社局350203\n经办二科"));
    assert!(
        approver.iter().take(10).all(|a| a == Some("人社局350203")),
        "no approver holds swallowed rows"
    );
    let input = p
        .inputs
        .iter()
        .find(|i| i.table == "claims")
        .expect("input");
    assert_eq!((input.rows, input.accepted, input.rejected), (19, 13, 6));
}

#[test]
fn unclosed_quote_running_to_the_end_of_the_file_rejects_every_line_it_swallowed() {
    let p = read_case("unclosed_quote_eof");
    let what = "unclosed quote opened in column approver at line 5 swallows lines 6–8, to the end of the file";
    let mut want = vec![(5, "approver", what.to_string())];
    want.extend((6..=8).map(|l| (l, "", format!("line {l} swallowed: {what}"))));
    assert_lines(&p, "unclosed_quote_eof", "claims", &want);
    assert_eq!(claim_ids(&p), ["CM1", "CM2", "CM3"]);
}

#[test]
fn a_quoted_field_over_two_lines_is_a_value_not_a_broken_quote() {
    let p = read_case("multiline_field");
    assert_one(
        &p,
        "persons",
        6,
        "birth_date",
        Reason::BadDate,
        &rejected(&p, "persons")[0].message,
    );
    let persons = p.frame(Table::Persons);
    assert_eq!(persons.height(), 3);
    let address = persons.column("address").expect("col").str().expect("str");
    assert_eq!(address.get(1), Some("上海市徐汇区,\n建设路2号, 3楼"));
    assert!(
        p.rejected.iter().all(|r| r.table == "persons"),
        "{:#?}",
        p.rejected
    );
}

/// The parallel split counts quotes, which a broken quote throws off: small chunks must read
/// the file exactly as one chunk does.
#[test]
fn small_chunks_read_a_broken_quote_as_one_chunk_does() {
    use subsidy_ingest::csv_reader::read_csv_chunked;
    let spec = Table::Claims.spec();
    for case in ["unclosed_quote_mid", "unclosed_quote_eof"] {
        let raw =
            std::fs::read(fixtures().join("bad").join(case).join("claims.csv")).expect("read");
        let whole =
            read_csv_chunked(spec, "claims.csv", &raw, EncodingChoice::Auto, None).expect("reads");
        for chunk in [1, 50, 300, 700, 1500] {
            let split =
                read_csv_chunked(spec, "claims.csv", &raw, EncodingChoice::Auto, Some(chunk))
                    .expect("reads");
            assert_eq!(split.rejected, whole.rejected, "{case}, chunks of {chunk}");
            assert_eq!(split.rows, whole.rows, "{case}, chunks of {chunk}");
            assert!(
                split.frame.equals_missing(&whole.frame),
                "{case}, chunks of {chunk}"
            );
            let lines = |r: &subsidy_ingest::builder::TableRead| {
                (0..r.lines.len())
                    .map(|i| r.lines.get(i))
                    .collect::<Vec<_>>()
            };
            assert_eq!(lines(&split), lines(&whole), "{case}, chunks of {chunk}");
        }
    }
}

#[test]
fn truncated_file() {
    let p = read_case("truncated_file");
    assert_one(
        &p,
        "claims",
        3,
        "",
        Reason::RaggedRow,
        "expected 16 fields, found 10",
    );
}

#[test]
fn empty_file_is_unusable() {
    assert_eq!(
        error_of("empty_file"),
        "claims.csv: the file is empty (no header row)"
    );
}

#[test]
fn header_only_is_an_empty_table() {
    let p = read_case("header_only");
    assert_eq!(height(&p, Table::Claims), 0);
    assert!(p.rejected.is_empty());
}

#[test]
fn wrong_encoding_forced_rejects_rows_naming_the_column() {
    let p = read_case_with("wrong_encoding", EncodingChoice::Utf8).expect("reads");
    let r = rejected(&p, "persons");
    assert_eq!(r.len(), 3);
    assert!(
        r.iter()
            .all(|r| r.reason == Reason::InvalidEncoding && r.column == "name"),
        "{r:#?}"
    );
    assert_eq!(
        r[0].message,
        "field 2 holds bytes that are not valid text in this file's encoding (try --encoding gb18030)"
    );
}

#[test]
fn gbk_is_detected() {
    let p = read_case("wrong_encoding");
    assert!(p.rejected.is_empty(), "{:#?}", p.rejected);
    let enc = p
        .inputs
        .iter()
        .find(|i| i.table == "persons")
        .and_then(|i| i.encoding);
    assert_eq!(enc, Some(Encoding::Gb18030));
    assert!(frames_equal(
        p.frame(Table::Persons),
        minimal().frame(Table::Persons)
    ));
}

#[test]
fn utf8_bom() {
    let p = read_case("utf8_bom");
    assert!(p.rejected.is_empty());
    assert_eq!(
        p.inputs
            .iter()
            .find(|i| i.table == "persons")
            .and_then(|i| i.encoding),
        Some(Encoding::Utf8Bom)
    );
    assert!(frames_equal(
        p.frame(Table::Persons),
        minimal().frame(Table::Persons)
    ));
}

#[test]
fn bad_date_and_its_cascade() {
    let p = read_case("bad_date");
    assert_one(
        &p,
        "classes",
        3,
        "start_date",
        Reason::BadDate,
        "`2025-02-30` is not a date (expected YYYY-MM-DD)",
    );
    assert_eq!(
        (
            count(&p, "enrollments", "orphan_reference"),
            count(&p, "attendance", "orphan_reference")
        ),
        (1, 2)
    );
    assert_eq!(
        (
            count(&p, "evaluations", "orphan_reference"),
            count(&p, "claims", "orphan_reference")
        ),
        (1, 1)
    );
}

#[test]
fn orphan_cascade_counts_every_table() {
    let p = read_case("orphan_cascade");
    let c = p.rejected_counts();
    assert_eq!(c["classes"]["bad_date"], 1);
    assert_eq!(c["enrollments"]["orphan_reference"], 1);
    assert_eq!(c["attendance"]["orphan_reference"], 2);
    let claim = rejected(&p, "claims");
    assert_eq!(
        claim[0].message,
        "class_id `CL2` is not in classes (absent, or its row was rejected)"
    );
    assert!(
        claim[0].record.contains(",1300.00,"),
        "money is shown in yuan: {}",
        claim[0].record
    );
}

#[test]
fn bad_datetime() {
    let p = read_case("bad_datetime");
    assert_one(
        &p,
        "attendance",
        2,
        "ts",
        Reason::BadDatetime,
        "`2025-03-03 25:61:00` is not a datetime (expected YYYY-MM-DD HH:MM:SS, or ISO 8601 with offset)",
    );
}

#[test]
fn negative_money() {
    let p = read_case("negative_money");
    assert_one(
        &p,
        "claims",
        2,
        "amount_claimed",
        Reason::NegativeMoney,
        "negative money `-840`",
    );
}

#[test]
fn non_numeric_money() {
    let p = read_case("non_numeric_money");
    assert_one(
        &p,
        "claims",
        2,
        "amount_claimed",
        Reason::BadMoney,
        "`840元` is not money in yuan: not a number",
    );
}

#[test]
fn too_precise_money() {
    let p = read_case("too_precise_money");
    assert_one(
        &p,
        "claims",
        2,
        "amount_claimed",
        Reason::BadMoney,
        "`840.125` is not money in yuan: more than two decimals",
    );
}

#[test]
fn unknown_enum_suggests() {
    let p = read_case("unknown_enum");
    assert_one(
        &p,
        "claims",
        2,
        "scheme",
        Reason::UnknownEnum,
        "unknown value `trainning` (expected one of training, skill_upgrade, evaluation, living_allowance, apprenticeship, project, work_for_training); did you mean `training`?",
    );
}

#[test]
fn duplicate_id_keeps_the_first() {
    let p = read_case("duplicate_id");
    assert_one(
        &p,
        "persons",
        5,
        "person_id",
        Reason::DuplicateKey,
        "duplicate key person_id=110105198001010016: line 2 has the same key and is kept",
    );
    assert_eq!(height(&p, Table::Persons), 3);
    let names = p
        .frame(Table::Persons)
        .column("name")
        .expect("col")
        .str()
        .expect("str")
        .get(0)
        .map(str::to_string);
    assert_eq!(names.as_deref(), Some("张伟"));
}

#[test]
fn orphan_person() {
    let p = read_case("orphan_person");
    assert_one(
        &p,
        "claims",
        2,
        "person_id",
        Reason::OrphanReference,
        "person_id `110105198001019999` is not in persons (absent, or its row was rejected)",
    );
}

#[test]
fn orphan_class() {
    let p = read_case("orphan_class");
    assert_one(
        &p,
        "enrollments",
        5,
        "class_id",
        Reason::OrphanReference,
        "class_id `CL404` is not in classes (absent, or its row was rejected)",
    );
}

#[test]
fn missing_column_suggests_the_near_name() {
    assert_eq!(
        error_of("missing_column"),
        "claims.csv: required column `claim_id` is missing; the file has `claimid`: did you mean `claim_id`?"
    );
}

#[test]
fn missing_table_suggests_the_near_file() {
    assert_eq!(
        error_of("missing_table"),
        "the package has no `claims` table: expected claims.csv, claims.parquet, claims.arrow or a `claims` sheet in package.xlsx; did you mean to name `claim.csv` claims?"
    );
}

#[test]
fn extra_columns_are_kept_and_reported() {
    let p = read_case("extra_columns");
    assert!(p.rejected.is_empty());
    let remark = p
        .frame(Table::Claims)
        .column("remark")
        .expect("kept")
        .str()
        .expect("str")
        .get(0)
        .map(str::to_string);
    assert_eq!(remark.as_deref(), Some("备注"));
    let input = p
        .inputs
        .iter()
        .find(|i| i.table == "claims")
        .expect("claims");
    assert_eq!(input.extra_columns, vec!["remark".to_string()]);
}

#[test]
fn huge_field() {
    let p = read_case("huge_field");
    let r = rejected(&p, "persons");
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].line, r[0].column.as_str(), r[0].reason),
        (3, "name", Reason::FieldTooLong)
    );
    assert_eq!(
        r[0].message,
        "field of 90000 bytes exceeds the 65536-byte limit"
    );
    assert!(r[0].value.chars().count() <= 41, "the value is clipped");
}

#[test]
fn nul_byte() {
    let p = read_case("nul_byte");
    assert_one(
        &p,
        "persons",
        3,
        "name",
        Reason::NulByte,
        "NUL byte in field",
    );
}

#[test]
fn formula_cells_are_data() {
    let p = read_case("formula_cells");
    assert_one(
        &p,
        "persons",
        3,
        "birth_date",
        Reason::BadDate,
        "`1990-13-45` is not a date (expected YYYY-MM-DD)",
    );
    assert!(rejected(&p, "persons")[0].record.contains("=HYPERLINK("));
    let names: Vec<String> = p
        .frame(Table::Persons)
        .column("name")
        .expect("col")
        .str()
        .expect("str")
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    assert_eq!(
        names,
        vec!["张伟".to_string(), "=1+1".to_string()],
        "kept verbatim as evidence"
    );
}

#[test]
fn missing_value() {
    let p = read_case("missing_value");
    assert_one(
        &p,
        "claims",
        2,
        "claimed_on",
        Reason::MissingValue,
        "required value is empty (date YYYY-MM-DD)",
    );
}

#[test]
fn out_of_range() {
    let p = read_case("out_of_range");
    assert_one(
        &p,
        "attendance",
        2,
        "face_score",
        Reason::OutOfRange,
        "1.5 is outside 0..1",
    );
}

#[test]
fn bad_bool_and_the_claim_that_cites_it() {
    let p = read_case("bad_bool");
    assert_one(
        &p,
        "evaluations",
        2,
        "passed",
        Reason::BadBool,
        "`maybe` is not a boolean (true/false, 1/0, 是/否)",
    );
    assert_one(
        &p,
        "claims",
        2,
        "evaluation_id",
        Reason::OrphanReference,
        "evaluation_id `EV1` is not in evaluations (absent, or its row was rejected)",
    );
}

#[test]
fn duplicate_header() {
    assert_eq!(
        error_of("duplicate_header"),
        "persons.csv: column `name` appears twice in the header (columns 2 and 11)"
    );
}

#[test]
fn bad_list() {
    let p = read_case("bad_list");
    assert_one(
        &p,
        "subsidy_standards",
        2,
        "uplift_by_tier",
        Reason::BadList,
        "`0;0.1` is not a list of 4 numbers separated by `;`",
    );
    assert_eq!(height(&p, Table::SubsidyStandards), 1);
    assert!(p.present.contains(&Table::SubsidyStandards));
}

#[test]
fn crlf_and_blank_lines() {
    let p = read_case("crlf_blank_lines");
    assert!(p.rejected.is_empty());
    let m = minimal();
    let (a, b) = (p.frame(Table::Persons), m.frame(Table::Persons));
    assert!(frames_equal(a, b), "{a}\n{b}");
}

#[test]
fn bad_number() {
    let p = read_case("bad_number");
    let r = rejected(&p, "classes");
    assert_eq!(
        (
            r.len(),
            r[0].line,
            r[0].column.as_str(),
            r[0].reason,
            r[0].message.as_str()
        ),
        (
            1,
            2,
            "planned_hours",
            Reason::BadNumber,
            "`七十七` is not a number"
        )
    );
}

#[test]
fn every_case_has_a_test() {
    let src = include_str!("corpus.rs");
    let mut missing = Vec::new();
    for e in std::fs::read_dir(fixtures().join("bad")).expect("bad") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        if !src.contains(&format!("\"{name}\"")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "cases without a test: {missing:?}");
    assert!(
        std::fs::read_dir(fixtures().join("bad"))
            .expect("bad")
            .count()
            >= 25
    );
}

// ---- the format matrix ----

fn frames_equal(a: &DataFrame, b: &DataFrame) -> bool {
    a.equals_missing(b)
}

fn assert_same_as_minimal(p: &Package) {
    assert!(p.rejected.is_empty(), "{:#?}", p.rejected);
    let m = minimal();
    for t in Table::ALL {
        let (x, y) = (p.frame(t), m.frame(t));
        assert!(frames_equal(x, y), "{t} differs:\n{x}\n{y}");
    }
}

/// Every CSV of the minimal package read as all-text frames.
fn minimal_as_text() -> Vec<(String, DataFrame)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(fixtures().join("minimal")).expect("dir") {
        let p = e.expect("entry").path();
        let stem = p.file_stem().expect("stem").to_string_lossy().into_owned();
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(p))
            .expect("reader")
            .finish()
            .expect("csv");
        out.push((stem, df));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn parquet_and_ipc_read_like_csv() {
    for ext in ["parquet", "arrow"] {
        let dir = tempfile::tempdir().expect("tmp");
        for (stem, mut df) in minimal_as_text() {
            let f =
                std::fs::File::create(dir.path().join(format!("{stem}.{ext}"))).expect("create");
            if ext == "parquet" {
                ParquetWriter::new(f).finish(&mut df).expect("parquet");
            } else {
                IpcWriter::new(f).finish(&mut df).expect("ipc");
            }
        }
        let p = read_package(dir.path(), &Options::default()).expect("reads");
        assert_same_as_minimal(&p);
        assert!(
            p.inputs
                .iter()
                .all(|i| i.format == if ext == "parquet" { "parquet" } else { "ipc" })
        );
    }
}

#[test]
fn typed_parquet_columns_read_like_csv() {
    // dates, datetimes and numbers stored as their own types, money as decimals
    let dir = tempfile::tempdir().expect("tmp");
    let m = minimal();
    for t in Table::ALL.iter().filter(|t| m.present.contains(t)) {
        let mut df = m.frame(*t).clone();
        for c in t.spec().columns {
            if c.ty == subsidy_model::contract::ColType::Money {
                let s = df
                    .column(c.name)
                    .expect("col")
                    .as_materialized_series()
                    .cast(&DataType::Int128)
                    .expect("i128")
                    .into_decimal(18, 2)
                    .expect("dec");
                df.with_column(s.into_column()).expect("replace");
            }
        }
        let f = std::fs::File::create(dir.path().join(format!("{}.parquet", t.name())))
            .expect("create");
        ParquetWriter::new(f).finish(&mut df).expect("write");
    }
    let p = read_package(dir.path(), &Options::default()).expect("reads");
    assert_same_as_minimal(&p);
}

#[test]
fn xlsx_workbook_reads_like_csv() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (stem, df) in minimal_as_text() {
        let sheet = wb.add_worksheet();
        sheet.set_name(&stem).expect("name");
        for (j, c) in df.columns().iter().enumerate() {
            sheet
                .write_string(0, j as u16, c.name().as_str())
                .expect("header");
            for (i, v) in c.str().expect("text").iter().enumerate() {
                let Some(v) = v else { continue };
                let (row, col) = (i as u32 + 1, j as u16);
                // numbers as numbers and one date as a real Excel date, as exports do
                if c.name().as_str() == "planned_hours" || c.name().as_str() == "capacity" {
                    sheet
                        .write_number(row, col, v.parse::<f64>().expect("number"))
                        .expect("num");
                } else if c.name().as_str() == "start_date" {
                    let d = rust_xlsxwriter::ExcelDateTime::parse_from_str(v).expect("date");
                    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                    sheet
                        .write_datetime_with_format(row, col, &d, &fmt)
                        .expect("date");
                } else {
                    sheet.write_string(row, col, v).expect("str");
                }
            }
        }
    }
    wb.save(dir.path().join("package.xlsx")).expect("save");
    let p = read_package(dir.path(), &Options::default()).expect("reads");
    assert_same_as_minimal(&p);
    assert!(
        p.inputs
            .iter()
            .all(|i| i.format == "xlsx" && i.file.starts_with("package.xlsx#"))
    );
}

#[test]
fn gbk_and_bom_packages_read_like_utf8() {
    for variant in ["gbk", "bom"] {
        let dir = tempfile::tempdir().expect("tmp");
        for e in std::fs::read_dir(fixtures().join("minimal")).expect("dir") {
            let p = e.expect("entry").path();
            let text = std::fs::read_to_string(&p).expect("utf8");
            let bytes = if variant == "gbk" {
                encoding_rs::GBK.encode(&text).0.into_owned()
            } else {
                [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()
            };
            std::fs::write(dir.path().join(p.file_name().expect("name")), bytes).expect("write");
        }
        let p = read_package(dir.path(), &Options::default()).expect("reads");
        assert_same_as_minimal(&p);
        let forced = read_package(
            dir.path(),
            &Options {
                encoding: if variant == "gbk" {
                    EncodingChoice::Gb18030
                } else {
                    EncodingChoice::Auto
                },
            },
        )
        .expect("reads");
        assert_same_as_minimal(&forced);
    }
}

#[test]
fn every_alias_family_maps_to_the_canonical_names() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_dir(&fixtures().join("minimal"), dir.path());
    let swap = |file: &str, pairs: &[(&str, &str)]| {
        let p = dir.path().join(file);
        let mut s = std::fs::read_to_string(&p).expect("read");
        for (a, b) in pairs {
            assert!(s.contains(a), "{file}: {a}");
            s = s.replace(a, b);
        }
        std::fs::write(&p, s).expect("write");
    };
    swap(
        "institutions.csv",
        &[(",training,", ",培训机构,"), (",evaluation,", ",评价机构,")],
    );
    swap("persons.csv", &[(",m,", ",男,"), (",f,", ",女,")]);
    swap(
        "occupations.csv",
        &[
            (",advanced_manufacturing,", ",先进制造业,"),
            (",life_services,", ",生活服务业,"),
        ],
    );
    swap(
        "classes.csv",
        &[
            (",junior,", ",五级,"),
            (",intermediate,", ",中级工,"),
            (",offline,", ",线下,"),
        ],
    );
    swap(
        "attendance.csv",
        &[
            (",in,face,", ",签到,人脸识别,"),
            (",out,qr,", ",签退,扫码,"),
            (",out,face,", ",OUT,FACE,"),
        ],
    );
    swap(
        "evaluations.csv",
        &[
            (",junior,", ",5,"),
            (",intermediate,", ",4,"),
            (",true,", ",是,"),
            (",false,", ",否,"),
        ],
    );
    swap(
        "claims.csv",
        &[
            (",training,", ",职业培训补贴,"),
            (",junior,", ",初级工,"),
            (",intermediate,", ",四级,"),
            (",employment_fund,", ",就业补助资金,"),
        ],
    );
    // an ID number with a lower-case final x is the same person
    let p = read_package(dir.path(), &Options::default()).expect("reads");
    assert_same_as_minimal(&p);
}

#[test]
fn lowercase_x_in_ids_is_upper_cased() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_dir(&fixtures().join("minimal"), dir.path());
    let p = dir.path().join("persons.csv");
    let s = std::fs::read_to_string(&p)
        .expect("read")
        .replace("110105198001010016", "11010519491231002x");
    std::fs::write(&p, s).expect("write");
    let pkg = read_package(dir.path(), &Options::default()).expect("reads");
    let ids: Vec<String> = pkg
        .frame(Table::Persons)
        .column("person_id")
        .expect("col")
        .str()
        .expect("str")
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    assert!(ids.contains(&"11010519491231002X".to_string()), "{ids:?}");
}

/// The minimal package with `table` given as a Parquet file of `df` instead of its CSV.
fn minimal_with_parquet(table: Table, df: &mut DataFrame) -> Package {
    let dir = tempfile::tempdir().expect("tmp");
    copy_dir(&fixtures().join("minimal"), dir.path());
    let name = table.name();
    std::fs::remove_file(dir.path().join(format!("{name}.csv"))).expect("rm");
    let f = std::fs::File::create(dir.path().join(format!("{name}.parquet"))).expect("create");
    ParquetWriter::new(f).finish(df).expect("write");
    read_package(dir.path(), &Options::default()).expect("reads")
}

#[test]
fn typed_parquet_faults_are_rejected_with_row_column_and_reason() {
    let m = minimal();
    // claims with typed columns: money as a float, one negative; one unknown scheme
    let mut df = m.frame(Table::Claims).clone();
    let amounts =
        Float64Chunked::from_slice("amount_claimed".into(), &[840.0, -1300.0]).into_column();
    df.with_column(amounts).expect("amounts");
    let scheme =
        StringChunked::from_slice("scheme".into(), &["trainning", "training"]).into_column();
    df.with_column(scheme).expect("scheme");
    let p = minimal_with_parquet(Table::Claims, &mut df);
    let r = rejected(&p, "claims");
    assert_eq!(r.len(), 2, "{r:#?}");
    assert_eq!(
        (r[0].line, r[0].column.as_str(), r[0].reason),
        (2, "scheme", Reason::UnknownEnum)
    );
    assert_eq!(
        (r[1].line, r[1].column.as_str(), r[1].reason),
        (3, "amount_claimed", Reason::NegativeMoney)
    );
    assert_eq!(height(&p, Table::Claims), 0);
}

/// A Parquet file's faulty row is set aside before the duplicate check: the lines the duplicate
/// check names are still the file's own (row i is line i + 2), not positions among kept rows.
#[test]
fn parquet_duplicate_after_a_faulty_row_names_the_files_lines() {
    let m = minimal();
    let persons = m.frame(Table::Persons);
    assert!(persons.height() >= 2);
    let (a, b) = (persons.slice(0, 1), persons.slice(1, 1));
    // line 3: a new person with an unknown gender; line 5 repeats line 4's key
    let mut faulty = a.clone();
    faulty
        .with_column(StringChunked::from_slice("gender".into(), &["?"]).into_column())
        .expect("gender");
    faulty
        .with_column(
            StringChunked::from_slice("person_id".into(), &["11010519491231002X"]).into_column(),
        )
        .expect("id");
    let mut df = a.clone();
    for part in [&faulty, &b, &b] {
        df.vstack_mut(part).expect("stack");
    }
    let p = minimal_with_parquet(Table::Persons, &mut df);
    let r = rejected(&p, "persons");
    assert_eq!(r.len(), 2, "{r:#?}");
    assert_eq!(
        (r[0].line, r[0].column.as_str(), r[0].reason),
        (3, "gender", Reason::UnknownEnum)
    );
    let id = b
        .column("person_id")
        .expect("id")
        .str()
        .expect("text")
        .get(0);
    assert_eq!(
        (r[1].line, r[1].reason, r[1].message.clone()),
        (
            5,
            Reason::DuplicateKey,
            format!(
                "duplicate key person_id={}: line 4 has the same key and is kept",
                id.expect("an id")
            )
        )
    );
    assert_eq!(height(&p, Table::Persons), 2);
}

/// The same unclosed quote in a file with no line break after its last line.
#[test]
fn unclosed_quote_in_a_file_without_a_final_line_break() {
    use subsidy_ingest::csv_reader::read_csv;
    let file = std::fs::read_to_string(fixtures().join("bad/unclosed_quote_eof/claims.csv"))
        .expect("read");
    let raw = file.trim_end().as_bytes();
    let read = read_csv(
        Table::Claims.spec(),
        "claims.csv",
        raw,
        EncodingChoice::Auto,
    )
    .expect("reads");
    let got: Vec<(u64, Reason)> = read.rejected.iter().map(|r| (r.line, r.reason)).collect();
    let want: Vec<(u64, Reason)> = (5..=8).map(|l| (l, Reason::UnterminatedQuote)).collect();
    assert_eq!(got, want, "{:#?}", read.rejected);
    assert_eq!((read.frame.height(), read.rows), (3, 7));
}

/// Every CSV file of the fixtures reads the same in chunks of a few bytes as in one chunk.
#[test]
fn every_fixture_reads_the_same_in_small_chunks() {
    use subsidy_ingest::builder::TableRead;
    use subsidy_ingest::csv_reader::read_csv_chunked;
    let lines = |r: &TableRead| {
        (0..r.lines.len())
            .map(|i| r.lines.get(i))
            .collect::<Vec<_>>()
    };
    let mut dirs = vec![fixtures().join("minimal")];
    for e in std::fs::read_dir(fixtures().join("bad")).expect("bad") {
        dirs.push(e.expect("entry").path());
    }
    let mut checked = 0;
    for dir in dirs {
        for e in std::fs::read_dir(&dir).expect("case") {
            let path = e.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let Some(table) = name.strip_suffix(".csv").and_then(Table::from_name) else {
                continue;
            };
            let raw = std::fs::read(&path).expect("read");
            let read =
                |chunk| read_csv_chunked(table.spec(), &name, &raw, EncodingChoice::Auto, chunk);
            let whole = read(None);
            for chunk in [1, 7, 64, 333] {
                let at = format!("{}, chunks of {chunk}", path.display());
                match (&whole, read(Some(chunk))) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.rejected, b.rejected, "{at}");
                        assert_eq!(a.rows, b.rows, "{at}");
                        assert!(a.frame.equals_missing(&b.frame), "{at}");
                        assert_eq!(lines(a), lines(&b), "{at}");
                    }
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{at}"),
                    (a, b) => panic!("{at}: {:?} vs {:?}", a.is_ok(), b.is_ok()),
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "{checked} files");
}

/// Fixture CSV files with quotes, line breaks and commas thrown in at random (a fixed seed;
/// `SUBSIDY_MUTATIONS` sets how many) read the same in small chunks as in one, and never panic.
#[test]
fn mutated_files_read_the_same_in_small_chunks() {
    use subsidy_ingest::builder::TableRead;
    use subsidy_ingest::csv_reader::read_csv_chunked;
    let n: usize = std::env::var("SUBSIDY_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let lines = |r: &TableRead| {
        (0..r.lines.len())
            .map(|i| r.lines.get(i))
            .collect::<Vec<_>>()
    };
    let sources: Vec<(Table, Vec<u8>)> = ["claims", "persons", "attendance", "evaluations"]
        .iter()
        .map(|t| {
            let raw = std::fs::read(fixtures().join("minimal").join(format!("{t}.csv")));
            (Table::from_name(t).expect("table"), raw.expect("read"))
        })
        .collect();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |m: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    };
    for i in 0..n {
        let (table, base) = &sources[i % sources.len()];
        let mut raw = base.clone();
        // keep the header: mutate the rows only
        let header = raw.iter().position(|c| *c == b'\n').expect("header") + 1;
        for _ in 0..1 + next(4) {
            let at = header + next(raw.len() - header + 1);
            let what: &[u8] = [&b"\""[..], b"\n", b",", b"\"\"", b"\r\n", b"x\"y"][next(6)];
            raw.splice(at..at, what.iter().copied());
        }
        let read =
            |chunk| read_csv_chunked(table.spec(), "t.csv", &raw, EncodingChoice::Auto, chunk);
        let whole = read(None);
        for chunk in [1, 5, 40] {
            let at = format!("{}", String::from_utf8_lossy(&raw));
            match (&whole, read(Some(chunk))) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.rejected, b.rejected, "chunks of {chunk}:\n{at}");
                    assert_eq!(a.rows, b.rows, "chunks of {chunk}:\n{at}");
                    assert!(a.frame.equals_missing(&b.frame), "chunks of {chunk}:\n{at}");
                    assert_eq!(lines(a), lines(&b), "chunks of {chunk}:\n{at}");
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!(
                    "chunks of {chunk}: {:?} vs {:?}:\n{at}",
                    a.is_ok(),
                    b.is_ok()
                ),
            }
        }
    }
}
