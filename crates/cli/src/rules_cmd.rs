//! `subsidy-audit rules …`: what the CI job runs on every change to the rule files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use polars::prelude::*;
use subsidy_ingest::{Options, read_package};
use subsidy_model::money::format_yuan;
use subsidy_rules::Pack;

use crate::{Exit, Failure};

#[derive(Subcommand)]
pub enum RulesCmd {
    /// Check a pack: schema, unique ids, known views, columns and parameters, docs (exit 3 if invalid).
    Check {
        /// the pack folder (default: the embedded pack)
        dir: Option<PathBuf>,
    },
    /// Run every rule's fixtures (fixtures/rules/<ID>/): its hand-made package (cases and
    /// snapshot), its generated case where it has one, and the clean generated package.
    Test(TestArgs),
    /// Print a rule's documentation.
    Explain {
        /// rule id, e.g. DC-01
        id: String,
        /// the pack folder (default: the embedded pack)
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Write docs/rules.md from the pack, or with --check fail when it is stale.
    Docs {
        /// the pack folder (default: the embedded pack)
        #[arg(long)]
        rules: Option<PathBuf>,
        /// the markdown file
        #[arg(long, default_value = "docs/rules.md")]
        out: PathBuf,
        /// do not write: exit 1 if the file differs from what the pack generates
        #[arg(long)]
        check: bool,
    },
    /// List the views and the columns rule expressions may use.
    Views,
    /// Compare two packs on a package: findings added and removed per rule, recovery totals.
    Diff(DiffArgs),
    /// Write a new rule's file (every field and docs heading, status preview) and its hand-made
    /// fixture folder (the contract's tables, cases.csv, README).
    New(NewArgs),
}

#[derive(Args)]
pub struct NewArgs {
    /// rule id, FAMILY-NN (e.g. TP-11)
    id: String,
    /// kebab-case name (e.g. night-sessions)
    name: String,
    /// the family: its prefix (TP) or folder (process); must agree with the id
    #[arg(long)]
    family: Option<String>,
    /// the view the rule reads (subsidy-audit rules views)
    #[arg(long, default_value = "claim")]
    view: String,
    /// the pack folder
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
    /// where the rule fixtures are
    #[arg(long, default_value = "fixtures/rules")]
    fixtures: PathBuf,
}

#[derive(Args)]
pub struct TestArgs {
    /// the pack folder (default: the embedded pack)
    dir: Option<PathBuf>,
    /// where the rule fixtures are
    #[arg(long, default_value = "fixtures/rules")]
    fixtures: PathBuf,
    /// rewrite each hand-made snapshot (showing the change) and each generated case's
    /// expected.csv from the generator's labels
    #[arg(long)]
    bless: bool,
    /// only these rules
    #[arg(long = "only")]
    only: Vec<String>,
}

#[derive(Args)]
pub struct DiffArgs {
    /// the old pack folder
    #[arg(long)]
    base: PathBuf,
    /// the new pack folder
    #[arg(long)]
    head: PathBuf,
    /// the package to compare on (default: the demo)
    package: Option<PathBuf>,
    /// also write the comparison as Markdown (for a pull-request comment)
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// exit 1 when anything changed
    #[arg(long)]
    fail_on_change: bool,
}

/// `rules new`: refuses to overwrite anything.
fn new_rule(a: NewArgs) -> Result<u8, Failure> {
    let sk = subsidy_rules::scaffold::skeleton(&a.id, &a.name, a.family.as_deref(), &a.view)
        .map_err(|e| Failure {
            code: Exit::Input.code(),
            error: e.into(),
        })?;
    let rule_path = a.rules.join(&sk.rule_path);
    let fixture = a.fixtures.join(&a.id);
    for p in [&rule_path, &fixture] {
        if p.exists() {
            return Err(Failure {
                code: Exit::Input.code(),
                error: anyhow::anyhow!("{} exists already: nothing written", p.display()),
            });
        }
    }
    if let Some(d) = rule_path.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    std::fs::write(&rule_path, &sk.rule_text)
        .with_context(|| format!("writing {}", rule_path.display()))?;
    for (rel, text) in &sk.fixture_files {
        let p = fixture.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    crate::out!(
        "wrote {} and {}/package/: fill in the TODOs, the check and the package's rows and cases, then\n  subsidy-audit rules check {}\n  subsidy-audit rules test {} --only {} --bless",
        rule_path.display(),
        fixture.display(),
        a.rules.display(),
        a.rules.display(),
        a.id
    );
    Ok(0)
}

pub fn run(c: RulesCmd) -> Result<u8, Failure> {
    match c {
        RulesCmd::New(a) => new_rule(a),
        RulesCmd::Check { dir } => {
            let pack = crate::pack::load(dir.as_deref())?;
            crate::out!(
                "{} rules OK (pack {} sha256 {})",
                pack.rules.len(),
                pack.version,
                &pack.sha256[..16]
            );
            Ok(0)
        }
        RulesCmd::Explain { id, rules } => {
            let pack = crate::pack::load(rules.as_deref())?;
            let ids: Vec<&str> = pack.rules.iter().map(|r| r.file.id.as_str()).collect();
            let Some(_) = pack
                .rules
                .iter()
                .find(|r| r.file.id.eq_ignore_ascii_case(&id) || r.file.name == id)
            else {
                let hint = subsidy_rules::suggest(&id.to_uppercase(), ids.iter().copied())
                    .map(|s| format!("; did you mean {s}?"))
                    .unwrap_or_default();
                return Err(anyhow::anyhow!("no rule `{id}`{hint}").into());
            };
            let md = subsidy_rules::docs::markdown(&pack);
            let want = id.to_uppercase();
            let start = md
                .find(&format!("\n### {want}\n"))
                .or_else(|| {
                    pack.rules
                        .iter()
                        .find(|r| r.file.name == id)
                        .and_then(|r| md.find(&format!("\n### {}\n", r.file.id)))
                })
                .unwrap_or(0);
            let rest = &md[start + 1..];
            let end = rest[4..]
                .find("\n### ")
                .or_else(|| rest[4..].find("\n## "))
                .map_or(rest.len(), |e| e + 4);
            crate::out!("{}", rest[..end].trim_end());
            Ok(0)
        }
        RulesCmd::Docs { rules, out, check } => {
            let pack = crate::pack::load(rules.as_deref())?;
            let md = subsidy_rules::docs::markdown(&pack);
            if check {
                let have = std::fs::read_to_string(&out).unwrap_or_default();
                if have != md {
                    eprintln!(
                        "{} is stale: run `subsidy-audit rules docs` and commit it",
                        out.display()
                    );
                    return Ok(Exit::StaleDocs.code());
                }
                crate::out!("{} is fresh", out.display());
                return Ok(0);
            }
            if let Some(p) = out.parent() {
                std::fs::create_dir_all(p).ok();
            }
            std::fs::write(&out, md).with_context(|| format!("writing {}", out.display()))?;
            crate::out!("wrote {}", out.display());
            Ok(0)
        }
        RulesCmd::Views => {
            let schemas = subsidy_rules::view_schemas()?;
            for decl in subsidy_rules::catalog::VIEWS {
                let Some(cols) = schemas.get(decl.name) else {
                    continue;
                };
                let tables: Vec<&str> = decl.tables.iter().map(|t| t.name()).collect();
                crate::out!("{}: one row per {}; {}", decl.name, decl.grain, decl.doc);
                crate::out!(
                    "  effective dates on: {}; from: {}{}",
                    decl.date_column.unwrap_or("(none: every row)"),
                    tables.join(", "),
                    if decl.keyed_by_enrolment {
                        "; claims found by (class_id, person_id)"
                    } else {
                        ""
                    }
                );
                // name, type, kind, doc, in the declared order (the catalog's test keeps the
                // declaration and the built columns equal; a difference still shows here)
                for c in decl.columns {
                    let ty = cols
                        .get(c.name)
                        .map_or("?".to_string(), |t| format!("{t:?}"));
                    crate::out!("  {:<32} {ty:<8} {:<8} {}", c.name, c.kind.as_str(), c.doc);
                }
                for (name, t) in cols {
                    if decl.column(name).is_none() {
                        let ty = format!("{t:?}");
                        crate::out!("  {name:<32} {ty:<8} {:<8} (not declared)", "?");
                    }
                }
            }
            Ok(0)
        }
        RulesCmd::Test(a) => test(a),
        RulesCmd::Diff(a) => diff(a),
    }
}

/// Findings, recoveries and parties of `pack` on the package in `dir`.
fn scan_with(pack: &Pack, dir: &Path) -> Result<subsidy_rules::Outcome, Failure> {
    let mut pkg = read_package(dir, &Options::default())
        .with_context(|| format!("reading {}", dir.display()))?;
    let as_of = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    let ids = subsidy_scoring::identity::resolve(
        pkg.frame(subsidy_model::contract::Table::Persons),
        as_of,
    )?;
    crate::scan::audit(&mut pkg, pack, &ids, as_of, &[], None, &Default::default())
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
/// amount at risk, message) equal the snapshot, byte for byte. `bless` rewrites the snapshot
/// and prints what changed. Returns what is wrong (empty: nothing).
fn hand_made(
    pack: &Pack,
    id: &str,
    package: &Path,
    snapshot: &Path,
    bless: bool,
) -> Result<Vec<String>, Failure> {
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
        return Err(anyhow::anyhow!(
            "{}: case {} expects `{}`, not flag or clean",
            package.display(),
            c.id,
            c.expect
        )
        .into());
    }
    let out = scan_with(pack, package)?;
    let f = &out.findings;
    let text = |c: &str| -> Result<Vec<String>, Failure> {
        Ok(f.column(c)?
            .cast(&DataType::String)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect())
    };
    let (rule, kind, entity, claims, risk, message) = (
        text("rule_id")?,
        text("entity_kind")?,
        text("entity_id")?,
        text("claim_ids")?,
        text("amount_at_risk")?,
        text("message")?,
    );
    let mut named = BTreeSet::new();
    let mut rows: Vec<[String; 5]> = Vec::new();
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
    ])?;
    for r in &rows {
        w.write_record(r)?;
    }
    let now = String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
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
            crate::out!("blessed {}:\n{diff}", snapshot.display());
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
fn line_diff(a: &str, b: &str) -> String {
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
fn paid_claims(out: &subsidy_rules::Outcome) -> Result<BTreeSet<String>, Failure> {
    let claim_view = &out.views.frames["claim"];
    Ok(claim_view
        .column("claim_id")?
        .str()?
        .iter()
        .zip(claim_view.column("amount_paid")?.i64()?.iter())
        .filter_map(|(c, p)| p.and(c.map(str::to_string)))
        .collect())
}

fn set_of(df: &DataFrame, rule: &str, col_name: &str) -> Result<BTreeSet<String>, Failure> {
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

fn test(a: TestArgs) -> Result<u8, Failure> {
    let pack = crate::pack::load(a.dir.as_deref())?;
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
    let clean = scan_with(&pack, &clean_dir)?;
    let mut failures = Vec::new();
    let mut passed = 0;
    let ids: BTreeSet<&str> = pack.rules.iter().map(|r| r.file.id.as_str()).collect();
    for id in ids {
        if !a.only.is_empty() && !a.only.iter().any(|o| o == id) {
            continue;
        }
        let rule = pack
            .rules
            .iter()
            .find(|r| r.file.id == id)
            .expect("id from the pack");
        let dir = a.fixtures.join(id);
        // the hand-made package: the rule's proof (cases and snapshot)
        let package = dir.join("package");
        if package.join("cases.csv").exists() {
            let mut why = hand_made(&pack, id, &package, &dir.join("snapshot.csv"), a.bless)?;
            let clean_hits = set_of(&clean.findings, id, "entity_id")?;
            if !clean_hits.is_empty() {
                why.push(format!(
                    "fires on the clean generated package: {:?}",
                    clean_hits.iter().take(5).collect::<Vec<_>>()
                ));
            }
            if why.is_empty() {
                passed += 1;
                crate::out!(
                    "ok    {id} {:<32} hand-made cases and snapshot, clean package silent",
                    rule.file.name
                );
            } else {
                crate::out!(
                    "FAIL  {id} {} (hand-made): {}",
                    rule.file.name,
                    why.join("; ")
                );
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
        let case: Case =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", case_path.display()))?;
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
            let labels = std::fs::read_to_string(flagged_dir.join("labels.csv"))?;
            for line in labels.lines().skip(1) {
                let f: Vec<&str> = line.split(',').collect();
                if f.len() < 5 || !case.scenarios.iter().any(|s| s == f[0]) {
                    continue;
                }
                if !f[4].is_empty() {
                    exp_claims.insert(f[4].to_string());
                } else if f[2] == rule.file.entity {
                    exp_entities.insert(f[3].to_string());
                }
            }
        }
        let expected_path = dir.join("expected.csv");
        if a.bless && hand_made.is_some() {
            // a hand-made package: the snapshot is what the rule raises on it now
            let out = scan_with(&pack, &flagged_dir)?;
            exp_claims = set_of(&out.findings, id, "claim_ids")?
                .intersection(&paid_claims(&out)?)
                .cloned()
                .collect();
            if rule.file.entity != "claim" {
                exp_entities = set_of(&out.findings, id, "entity_id")?;
            }
        }
        if a.bless {
            let mut s = String::from("kind,id\n");
            for c in &exp_claims {
                s.push_str(&format!("claim,{c}\n"));
            }
            for e in &exp_entities {
                s.push_str(&format!("{},{e}\n", rule.file.entity));
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
        let out = scan_with(&pack, &flagged_dir)?;
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
        if (rule.file.recover != "none" || rule.file.entity == "claim") && got_claims != want_claims
        {
            let missed: Vec<_> = want_claims.difference(&got_claims).cloned().collect();
            let extra: Vec<_> = got_claims.difference(&want_claims).cloned().collect();
            why.push(format!("claims missed {missed:?}, extra {extra:?}"));
        }
        if rule.file.entity != "claim" && !want_entities.is_empty() && got_entities != want_entities
        {
            let missed: Vec<_> = want_entities.difference(&got_entities).cloned().collect();
            let extra: Vec<_> = got_entities.difference(&want_entities).cloned().collect();
            why.push(format!(
                "{} missed {missed:?}, extra {extra:?}",
                rule.file.entity
            ));
        }
        if why.is_empty() {
            passed += 1;
            crate::out!(
                "ok    {id} {:<32} {} flagged in the generated case",
                rule.file.name,
                got_entities.len()
            );
        } else {
            crate::out!("FAIL  {id} {}: {}", rule.file.name, why.join("; "));
            failures.push(format!("{id}: {}", why.join("; ")));
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
    crate::out!("rules: {passed} passed, {} failed", failures.len());
    if failures.is_empty() {
        Ok(0)
    } else {
        for f in &failures {
            eprintln!("{f}");
        }
        Err(Failure {
            code: Exit::Rules.code(),
            error: anyhow::anyhow!("{} rule test(s) failed", failures.len()),
        })
    }
}

fn per_rule(df: &DataFrame) -> Result<BTreeMap<String, BTreeSet<String>>, Failure> {
    let r = df.column("rule_id")?.str()?.clone();
    let f = df.column("finding_id")?.str()?.clone();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rule, fid) in r.iter().zip(f.iter()) {
        out.entry(rule.unwrap_or("").to_string())
            .or_default()
            .insert(fid.unwrap_or("").to_string());
    }
    Ok(out)
}

fn diff(a: DiffArgs) -> Result<u8, Failure> {
    let base = crate::pack::load(Some(&a.base))?;
    let head = crate::pack::load(Some(&a.head))?;
    let pkg = a.package.clone().unwrap_or_else(crate::default_package);
    let (b, h) = (scan_with(&base, &pkg)?, scan_with(&head, &pkg)?);
    let (rb, rh) = (per_rule(&b.findings)?, per_rule(&h.findings)?);
    let total = |o: &subsidy_rules::Outcome| -> Result<i64, Failure> {
        Ok(o.recoveries
            .column("recover_amount")?
            .i64()?
            .sum()
            .unwrap_or(0))
    };
    let (tb, th) = (total(&b)?, total(&h)?);
    let rules: BTreeSet<&String> = rb.keys().chain(rh.keys()).collect();
    let mut lines = vec![
        "| rule | base | head | added | removed |".to_string(),
        "| --- | ---: | ---: | ---: | ---: |".to_string(),
    ];
    let mut changed = tb != th;
    crate::out!(
        "{:<8} {:>8} {:>8} {:>8} {:>8}",
        "rule",
        "base",
        "head",
        "added",
        "removed"
    );
    let empty = BTreeSet::new();
    for r in rules {
        let (x, y) = (rb.get(r).unwrap_or(&empty), rh.get(r).unwrap_or(&empty));
        let added = y.difference(x).count();
        let removed = x.difference(y).count();
        if added + removed > 0 {
            changed = true;
        }
        crate::out!(
            "{r:<8} {:>8} {:>8} {:>8} {:>8}",
            x.len(),
            y.len(),
            added,
            removed
        );
        lines.push(format!(
            "| {r} | {} | {} | {added} | {removed} |",
            x.len(),
            y.len()
        ));
    }
    let delta = th - tb;
    crate::out!(
        "recovery total: {} → {} yuan ({}{})",
        format_yuan(tb),
        format_yuan(th),
        if delta >= 0 { "+" } else { "" },
        format_yuan(delta)
    );
    lines.push(String::new());
    lines.push(format!(
        "Recovery total: **{} → {} yuan** ({}{}); claims to recover {} → {}.",
        format_yuan(tb),
        format_yuan(th),
        if delta >= 0 { "+" } else { "" },
        format_yuan(delta),
        b.recoveries.height(),
        h.recoveries.height()
    ));
    if let Some(p) = &a.markdown {
        std::fs::write(
            p,
            format!(
                "### Rule-pack change on {}\n\n{}\n",
                pkg.display(),
                lines.join("\n")
            ),
        )
        .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(if a.fail_on_change && changed {
        Exit::DiffChanged.code()
    } else {
        0
    })
}
