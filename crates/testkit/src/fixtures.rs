//! The rule fixtures `rules test` runs (`fixtures/rules/<ID>/`): each rule's hand-made package
//! with its cases, judgements and snapshot, its generated case where it has one, and the clean
//! generated package on which every rule must be silent.

use std::collections::BTreeSet;
use std::path::Path;

use polars::prelude::*;
use subsidy_ingest::{Options, read_package};
use subsidy_model::vocab::{EntityKind, Recover};
use subsidy_rules::Pack;

use crate::{Context, TestError};

/// Findings, recoveries and parties of `pack` on the package in `dir`, as a scan finds them
/// (identities resolved, no anomaly detector, no reviews), judged as of 2027-01-01.
pub fn scan(pack: &Pack, dir: &Path) -> Result<subsidy_rules::Outcome, TestError> {
    let mut pkg = read_package(dir, &Options::default())
        .with_context(|| format!("reading {}", dir.display()))?;
    let as_of = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    let ids = subsidy_scoring::identity::resolve(
        pkg.frame(subsidy_model::contract::Table::Persons),
        as_of,
    )?;
    Ok(subsidy_rules::run(
        pack,
        std::mem::take(&mut pkg.tables),
        &pkg.present,
        Some(&ids),
        as_of,
        &[],
        None,
        &Default::default(),
    )?)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// generator scenarios planted in the flagged package
    #[serde(default)]
    scenarios: Vec<String>,
    /// a hand-made package folder (relative to the fixture) used instead of a generated one;
    /// `--bless` then snapshots the rule's current findings into expected.csv
    #[serde(default)]
    package: Option<String>,
    #[serde(default = "default_persons")]
    persons: u64,
    #[serde(default = "default_seed")]
    seed: u64,
}
fn default_persons() -> u64 {
    400
}
fn default_seed() -> u64 {
    11
}

/// One hand-made case (`cases.csv`): an entity or claim id the rule must (`flag`) or must not
/// (`clean`) name, and why.
#[derive(serde::Deserialize)]
struct HandCase {
    id: String,
    expect: String,
    why: String,
}

/// Checks a rule on its hand-made package: every `flag` case is the entity or among the claims
/// of one of the rule's findings, no `clean` case is, and the findings (kind, entity, claims,
/// amount at risk, message in both languages) equal the snapshot, byte for byte. `bless` rewrites the snapshot
/// and prints what changed. Returns what is wrong (empty: nothing).
pub fn hand_made(
    pack: &Pack,
    id: &str,
    package: &Path,
    snapshot: &Path,
    bless: bool,
    say: &mut dyn FnMut(&str),
) -> Result<Vec<String>, TestError> {
    let cases_path = package.join("cases.csv");
    let mut cases = Vec::new();
    let mut rd = csv::Reader::from_path(&cases_path)
        .with_context(|| format!("reading {}", cases_path.display()))?;
    for (i, row) in rd.deserialize::<HandCase>().enumerate() {
        let c = row.with_context(|| format!("{} row {}", cases_path.display(), i + 2))?;
        cases.push(c);
    }
    // our judgement where it differs from the package author's reading: same columns, each
    // row replacing the case of its id or adding one (fixtures/rules/<ID>/judged.csv)
    let judged_path = package.parent().map(|d| d.join("judged.csv"));
    if let Some(jp) = judged_path.filter(|p| p.exists()) {
        let mut rd =
            csv::Reader::from_path(&jp).with_context(|| format!("reading {}", jp.display()))?;
        for (i, row) in rd.deserialize::<HandCase>().enumerate() {
            let c = row.with_context(|| format!("{} row {}", jp.display(), i + 2))?;
            match cases.iter_mut().find(|x: &&mut HandCase| x.id == c.id) {
                Some(x) => *x = c,
                None => cases.push(c),
            }
        }
    }
    if let Some(c) = cases
        .iter()
        .find(|c| c.expect != "flag" && c.expect != "clean")
    {
        return Err(TestError::msg(format!(
            "{}: case {} expects `{}`, not flag or clean",
            package.display(),
            c.id,
            c.expect
        ))
        .into());
    }
    let out = scan(pack, package)?;
    let f = &out.findings;
    let text = |c: &str| -> Result<Vec<String>, TestError> {
        Ok(f.column(c)?
            .cast(&DataType::String)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect())
    };
    let (rule, kind, entity, claims, risk, message, message_zh) = (
        text("rule_id")?,
        text("entity_kind")?,
        text("entity_id")?,
        text("claim_ids")?,
        text("amount_at_risk")?,
        text("message")?,
        text("message_zh")?,
    );
    let mut named = BTreeSet::new();
    let mut rows: Vec<[String; 6]> = Vec::new();
    for i in (0..f.height()).filter(|&i| rule[i] == id) {
        named.insert(entity[i].clone());
        named.extend(
            claims[i]
                .split(';')
                .filter(|x| !x.is_empty())
                .map(str::to_string),
        );
        rows.push([
            kind[i].clone(),
            entity[i].clone(),
            claims[i].clone(),
            risk[i].clone(),
            message[i].clone(),
            message_zh[i].clone(),
        ]);
    }
    rows.sort();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "entity_kind",
        "entity_id",
        "claim_ids",
        "amount_at_risk",
        "message",
        "message_zh",
    ])?;
    for r in &rows {
        w.write_record(r)?;
    }
    let now = String::from_utf8(w.into_inner().map_err(|e| TestError::msg(format!("{e}")))?)
        .context("snapshot text")?;
    let before = std::fs::read_to_string(snapshot).unwrap_or_default();
    let mut why = Vec::new();
    for c in &cases {
        let hit = named.contains(&c.id);
        if hit != (c.expect == "flag") {
            why.push(format!(
                "case {} should be {}{} ({})",
                c.id,
                if c.expect == "flag" {
                    "flagged"
                } else {
                    "clean"
                },
                if hit {
                    ", is flagged"
                } else {
                    ", is not flagged"
                },
                c.why
            ));
        }
    }
    if now != before {
        let diff = line_diff(&before, &now);
        if bless {
            std::fs::write(snapshot, &now)?;
            say(&format!("blessed {}:\n{diff}", snapshot.display()));
        } else {
            why.push(format!(
                "findings differ from {} (rules test --bless rewrites it):\n{diff}",
                snapshot.display()
            ));
        }
    }
    Ok(why)
}

/// The lines only in `a` (`-`) and only in `b` (`+`), in order: enough to read a snapshot change.
pub fn line_diff(a: &str, b: &str) -> String {
    let (x, y): (BTreeSet<&str>, BTreeSet<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = String::new();
    for l in a.lines().filter(|l| !y.contains(l)) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in b.lines().filter(|l| !x.contains(l)) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

/// The claims of a scan that were paid (the ones a finding can recover).
pub fn paid_claims(out: &subsidy_rules::Outcome) -> Result<BTreeSet<String>, TestError> {
    let claim_view = &out.views.frames["claim"];
    Ok(claim_view
        .column("claim_id")?
        .str()?
        .iter()
        .zip(claim_view.column("amount_paid")?.i64()?.iter())
        .filter_map(|(c, p)| p.and(c.map(str::to_string)))
        .collect())
}

/// The entity ids (`entity_id`) or claim ids (`claim_ids`, split) of `rule`'s findings.
pub fn set_of(df: &DataFrame, rule: &str, col_name: &str) -> Result<BTreeSet<String>, TestError> {
    let r = df.column("rule_id")?.str()?.clone();
    let c = df.column(col_name)?.str()?.clone();
    Ok(r.iter()
        .zip(c.iter())
        .filter(|(x, _)| *x == Some(rule))
        .flat_map(|(_, v)| {
            v.unwrap_or("")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect())
}

/// What `rules test` found.
#[derive(Debug, Default)]
pub struct Summary {
    /// checks that held
    pub passed: usize,
    /// what failed, one line per rule and check
    pub failures: Vec<String>,
}

/// What to test.
#[derive(Debug, Clone)]
pub struct TestArgs {
    /// where the rule fixtures are (`<ID>/package/`, `judged.csv`, `snapshot.csv`, `case.toml`)
    pub fixtures: std::path::PathBuf,
    /// rewrite snapshots and generated cases' expected.csv
    pub bless: bool,
    /// only these rules (empty: all)
    pub only: Vec<String>,
}

/// Runs every rule's fixtures: its hand-made package (cases and snapshot), its generated case
/// where it has one, and the clean generated package (nothing planted), on which every rule
/// must be silent. `say` gets one line per check.
pub fn test(pack: &Pack, a: &TestArgs, say: &mut dyn FnMut(&str)) -> Result<Summary, TestError> {
    let tmp = std::env::temp_dir().join(format!("subsidy-rules-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    // one clean package (nothing planted) serves every rule
    let clean_dir = tmp.join("clean");
    let mut clean_cfg = subsidy_synth::Config::new(subsidy_synth::Scale::Demo, default_seed());
    clean_cfg.persons = default_persons();
    clean_cfg.rates = subsidy_synth::scenario::SCENARIOS
        .iter()
        .map(|s| (s.name.to_string(), 0.0))
        .collect();
    subsidy_synth::generate(&clean_dir, &clean_cfg).context("generating the clean package")?;
    let clean = scan(pack, &clean_dir)?;
    let mut failures = Vec::new();
    let mut passed = 0;
    let ids: BTreeSet<&str> = pack.rules.iter().map(|r| r.id.as_str()).collect();
    for id in ids {
        if !a.only.is_empty() && !a.only.iter().any(|o| o == id) {
            continue;
        }
        let rule = pack
            .rules
            .iter()
            .find(|r| r.id == id)
            .expect("id from the pack");
        let dir = a.fixtures.join(id);
        // the hand-made package: the rule's proof (cases and snapshot)
        let package = dir.join("package");
        if package.join("cases.csv").exists() {
            let mut why = hand_made(pack, id, &package, &dir.join("snapshot.csv"), a.bless, say)?;
            let clean_hits = set_of(&clean.findings, id, "entity_id")?;
            if !clean_hits.is_empty() {
                why.push(format!(
                    "fires on the clean generated package: {:?}",
                    clean_hits.iter().take(5).collect::<Vec<_>>()
                ));
            }
            if why.is_empty() {
                passed += 1;
                say(&format!(
                    "ok    {id} {:<32} hand-made cases and snapshot, clean package silent",
                    rule.name
                ));
            } else {
                say(&format!(
                    "FAIL  {id} {} (hand-made): {}",
                    rule.name,
                    why.join("; ")
                ));
                failures.push(format!("{id} (hand-made): {}", why.join("; ")));
            }
        } else {
            failures.push(format!(
                "{id}: no hand-made package ({} is missing)",
                package.join("cases.csv").display()
            ));
        }
        let case_path = dir.join("case.toml");
        let Ok(text) = std::fs::read_to_string(&case_path) else {
            // the generated case is optional: the hand-made package is the rule's proof
            continue;
        };
        let case: Case = toml::from_str(&text)
            .map_err(|e| TestError::msg(format!("{}: {e}", case_path.display())))?;
        for s in &case.scenarios {
            if subsidy_synth::scenario::scenario(s).is_none() {
                failures.push(format!(
                    "{id}: unknown scenario `{s}` in {}",
                    case_path.display()
                ));
            }
        }
        let hand_made = case.package.as_ref().map(|p| dir.join(p));
        let flagged_dir = hand_made.clone().unwrap_or_else(|| tmp.join(id));
        let (mut exp_claims, mut exp_entities) = (BTreeSet::new(), BTreeSet::new());
        if hand_made.is_none() {
            let mut cfg = subsidy_synth::Config::new(subsidy_synth::Scale::Demo, case.seed);
            cfg.persons = case.persons;
            cfg.rates = subsidy_synth::scenario::SCENARIOS
                .iter()
                .map(|s| {
                    (
                        s.name.to_string(),
                        if case.scenarios.iter().any(|x| x == s.name) {
                            s.rate
                        } else {
                            0.0
                        },
                    )
                })
                .collect();
            subsidy_synth::generate(&flagged_dir, &cfg)
                .with_context(|| format!("generating the {id} package"))?;
            // expected findings: what the scenario planted
            for l in subsidy_synth::labels::read_labels(&flagged_dir.join("labels.csv"))? {
                if !case.scenarios.iter().any(|s| s == l.scenario) {
                    continue;
                }
                match l.claim_id {
                    Some(c) => {
                        exp_claims.insert(c);
                    }
                    None if l.entity_kind == rule.entity => {
                        exp_entities.insert(l.entity_id);
                    }
                    None => {}
                }
            }
        }
        let expected_path = dir.join("expected.csv");
        if a.bless && hand_made.is_some() {
            // a hand-made package: the snapshot is what the rule raises on it now
            let out = scan(pack, &flagged_dir)?;
            exp_claims = set_of(&out.findings, id, "claim_ids")?
                .intersection(&paid_claims(&out)?)
                .cloned()
                .collect();
            if rule.entity != EntityKind::Claim {
                exp_entities = set_of(&out.findings, id, "entity_id")?;
            }
        }
        if a.bless {
            let mut s = String::from("kind,id\n");
            for c in &exp_claims {
                s.push_str(&format!("claim,{c}\n"));
            }
            for e in &exp_entities {
                s.push_str(&format!("{},{e}\n", rule.entity));
            }
            std::fs::write(&expected_path, s)?;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        let (mut want_claims, mut want_entities) = (BTreeSet::new(), BTreeSet::new());
        for line in expected.lines().skip(1) {
            match line.split_once(',') {
                Some(("claim", c)) => {
                    want_claims.insert(c.to_string());
                }
                Some((_, e)) => {
                    want_entities.insert(e.to_string());
                }
                None => {}
            }
        }
        if want_claims.is_empty() && want_entities.is_empty() {
            failures.push(format!(
                "{id}: {} holds no expected finding (run with --bless after checking the scenario)",
                expected_path.display()
            ));
            continue;
        }
        let out = scan(pack, &flagged_dir)?;
        // claims are compared where money was paid: the recoverable ones
        let paid = paid_claims(&out)?;
        // a planted claim that was never paid has nothing to recover either
        let want_claims: BTreeSet<String> = want_claims.intersection(&paid).cloned().collect();
        let got_claims: BTreeSet<String> = set_of(&out.findings, id, "claim_ids")?
            .intersection(&paid)
            .cloned()
            .collect();
        let got_entities = set_of(&out.findings, id, "entity_id")?;
        let mut why = Vec::new();
        if (rule.recover != Recover::None || rule.entity == EntityKind::Claim)
            && got_claims != want_claims
        {
            let missed: Vec<_> = want_claims.difference(&got_claims).cloned().collect();
            let extra: Vec<_> = got_claims.difference(&want_claims).cloned().collect();
            why.push(format!("claims missed {missed:?}, extra {extra:?}"));
        }
        if rule.entity != EntityKind::Claim
            && !want_entities.is_empty()
            && got_entities != want_entities
        {
            let missed: Vec<_> = want_entities.difference(&got_entities).cloned().collect();
            let extra: Vec<_> = got_entities.difference(&want_entities).cloned().collect();
            why.push(format!(
                "{} missed {missed:?}, extra {extra:?}",
                rule.entity
            ));
        }
        if why.is_empty() {
            passed += 1;
            say(&format!(
                "ok    {id} {:<32} {} flagged in the generated case",
                rule.name,
                got_entities.len()
            ));
        } else {
            say(&format!("FAIL  {id} {}: {}", rule.name, why.join("; ")));
            failures.push(format!("{id}: {}", why.join("; ")));
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
    say(&format!(
        "rules: {passed} passed, {} failed",
        failures.len()
    ));
    Ok(Summary { passed, failures })
}
