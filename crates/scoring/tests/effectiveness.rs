//! The scorecard on the hand-made package of `fixtures/effectiveness/`, whose every number was
//! worked out by hand from docs/effectiveness.md by a reader who never saw this code
//! (`fixtures/effectiveness/README.md` shows the arithmetic; `expected.csv` holds the results).

use std::path::Path;

use polars::prelude::*;
use subsidy_scoring::effectiveness::{Config, score};

fn fixture() -> subsidy_ingest::Package {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/effectiveness/package");
    subsidy_ingest::read_package(&dir, &Default::default()).expect("reads")
}

fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("date")
}

fn text(df: &DataFrame, c: &str, i: usize) -> String {
    df.column(c)
        .expect("column")
        .get(i)
        .expect("row")
        .str_value()
        .to_string()
}

fn num(df: &DataFrame, c: &str, i: usize) -> Option<f64> {
    match df.column(c).expect("column").get(i).expect("row") {
        AnyValue::Null => None,
        v => v.extract::<f64>(),
    }
}

#[test]
fn the_hand_computed_scorecard_is_reproduced() {
    let pkg = fixture();
    // the one row ingest sets aside is the fixture's deliberate duplicate enrolment
    assert!(
        pkg.rejected.len() == 1 && pkg.rejected[0].table == "enrollments",
        "{:?}",
        pkg.rejected
    );
    let card = score(&pkg.tables, as_of(), &Config::default()).expect("scores");
    let df = &card.frame;
    let expected = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/effectiveness/expected.csv"),
    )
    .expect("expected.csv");
    let mut rows = expected.lines();
    let header: Vec<&str> = rows.next().expect("header").split(',').collect();
    let mut checked = 0;
    for line in rows {
        let want: Vec<&str> = line.split(',').collect();
        let field = |name: &str| want[header.iter().position(|h| *h == name).expect(name)];
        let i = (0..df.height())
            .find(|&i| {
                text(df, "unit", i) == "programme"
                    && text(df, "institution_id", i) == field("institution_id")
            })
            .unwrap_or_else(|| panic!("a programme row for {}", field("institution_id")));
        assert_eq!(text(df, "occupation_code", i), field("occupation_code"));
        assert_eq!(text(df, "level", i), field("level"));
        for c in [
            "trainees",
            "passed",
            "certified",
            "upgraded",
            "employable",
            "employed",
        ] {
            assert_eq!(
                num(df, c, i).map(|x| x as i64),
                Some(field(c).parse::<i64>().expect("count")),
                "{} {c}",
                field("institution_id")
            );
        }
        for c in [
            "pass_rate",
            "certificate_rate",
            "upgrade_rate",
            "employment_rate",
            "pass_rate_shrunk",
            "employment_rate_shrunk",
            "pass_rate_percentile",
        ] {
            let got = num(df, c, i).expect(c);
            let want: f64 = field(c).parse().expect("rate");
            assert!(
                (got - want).abs() < 5e-5,
                "{} {c}: {got} vs {want}",
                field("institution_id")
            );
        }
        // money: fen in the frame, yuan in the file
        let yuan = |c: &str| (field(c).parse::<f64>().expect("yuan") * 100.0).round() as i64;
        assert_eq!(
            num(df, "subsidy_paid", i).map(|x| x as i64),
            Some(yuan("subsidy_paid_yuan"))
        );
        assert_eq!(
            num(df, "subsidy_per_employed", i).map(|x| x as i64),
            Some(yuan("subsidy_per_employed_yuan"))
        );
        assert_eq!(
            text(df, "flagged", i) == "yes",
            field("flagged") == "true",
            "{}",
            field("institution_id")
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
    assert!(
        card.findings.is_empty(),
        "three peers are fewer than min_peers"
    );
}

#[test]
fn min_peers_and_the_bottom_share_decide_ie_01() {
    let pkg = fixture();
    // three programmes can rank no lower than 1/6: with bottom_share 0.2 the bottom one
    // qualifies, and min_peers alone decides
    let loose = Config {
        bottom_share: 0.2,
        ..Config::default()
    };
    let none = score(&pkg.tables, as_of(), &loose).expect("scores");
    assert!(none.findings.is_empty(), "min_peers 5 > 3 peers");
    let few = Config {
        bottom_share: 0.2,
        min_peers: 3,
        ..Config::default()
    };
    let card = score(&pkg.tables, as_of(), &few).expect("scores");
    assert_eq!(card.findings.len(), 1, "{:?}", card.findings);
    let f = &card.findings[0];
    assert_eq!(f.rule_id, "IE-01");
    assert_eq!(f.responsible_party, "52330106MJ1B000282");
    assert_eq!((f.amount_at_risk, f.recover_full), (0, false));
    assert!(f.message.contains("pass rate 0.30"), "{}", f.message);
    assert!(f.message_zh.contains("合格率为0.30"), "{}", f.message_zh);
    // a min_gap no programme reaches: nothing, however low it ranks
    let strict = Config {
        min_gap: 0.5,
        ..few
    };
    assert!(
        score(&pkg.tables, as_of(), &strict)
            .expect("scores")
            .findings
            .is_empty()
    );
}
