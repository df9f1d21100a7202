//! `subsidy-audit rules …`: what the CI job runs on every change to the rule files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use polars::prelude::*;
use subsidy_ingest::{Options, read_package};
use subsidy_model::money::format_yuan;
use subsidy_rules::Pack;

use crate::{EXIT_FINDINGS, Failure};

#[derive(Subcommand)]
pub enum RulesCmd {
    /// Check a pack: schema, unique ids, known views, columns and parameters, docs (exit 3 if invalid).
    Check {
        /// the pack folder (default: the embedded pack)
        dir: Option<PathBuf>,
    },
    /// Run every rule's fixture (fixtures/rules/<ID>/): a flagged and a clean package.
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
}

#[derive(Args)]
pub struct TestArgs {
    /// the pack folder (default: the embedded pack)
    dir: Option<PathBuf>,
    /// where the rule fixtures are
    #[arg(long, default_value = "fixtures/rules")]
    fixtures: PathBuf,
    /// rewrite each fixture's expected.csv from the generator's labels
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

pub fn run(c: RulesCmd) -> Result<u8, Failure> {
    match c {
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
                    return Ok(EXIT_FINDINGS);
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
    crate::scan::audit(&mut pkg, pack, &ids, as_of, &[], None)
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
        let case_path = dir.join("case.toml");
        let Ok(text) = std::fs::read_to_string(&case_path) else {
            failures.push(format!(
                "{id}: no fixture ({} is missing)",
                case_path.display()
            ));
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
        let clean_hits = set_of(&clean.findings, id, "entity_id")?;
        if !clean_hits.is_empty() {
            why.push(format!(
                "fires on the clean package: {:?}",
                clean_hits.iter().take(5).collect::<Vec<_>>()
            ));
        }
        if why.is_empty() {
            passed += 1;
            crate::out!(
                "ok    {id} {:<32} {} flagged, clean package silent",
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
            code: crate::EXIT_RULES,
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
        EXIT_FINDINGS
    } else {
        0
    })
}
