//! `subsidy-audit rules …`: what the CI job runs on every change to the rule files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use polars::prelude::*;
use subsidy_model::money::format_yuan;

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
            let ids: Vec<&str> = pack.rules.iter().map(|r| r.id.as_str()).collect();
            let Some(_) = pack
                .rules
                .iter()
                .find(|r| r.id.eq_ignore_ascii_case(&id) || r.name == id)
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
                        .find(|r| r.name == id)
                        .and_then(|r| md.find(&format!("\n### {}\n", r.id)))
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

/// `rules test`: the harness is `subsidy_testkit::fixtures`.
fn test(a: TestArgs) -> Result<u8, Failure> {
    let pack = crate::pack::load(a.dir.as_deref())?;
    let args = subsidy_testkit::fixtures::TestArgs {
        fixtures: a.fixtures,
        bless: a.bless,
        only: a.only,
    };
    let summary = subsidy_testkit::fixtures::test(&pack, &args, &mut |l| crate::out!("{l}"))
        .context("running the rule fixtures")?;
    if summary.failures.is_empty() {
        return Ok(Exit::Ok.code());
    }
    for f in &summary.failures {
        eprintln!("{f}");
    }
    Err(Failure {
        code: Exit::Rules.code(),
        error: anyhow::anyhow!("{} rule test(s) failed", summary.failures.len()),
    })
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
    let (b, h) = (
        subsidy_testkit::fixtures::scan(&base, &pkg).context("scanning with the base pack")?,
        subsidy_testkit::fixtures::scan(&head, &pkg).context("scanning with the head pack")?,
    );
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
