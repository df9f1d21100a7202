//! Runs a pack over the views: one findings frame in the contract's schema (plus the internal
//! columns accountability needs).

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt};

use polars::prelude::*;
use sha2::{Digest, Sha256};
use subsidy_model::contract::Table;
use subsidy_model::money::format_yuan;

use crate::expr::{self, Scope};
use crate::pack::Pack;
use crate::primitives;
use crate::rule::{Rule, date_column};
use crate::views::Views;
use subsidy_model::output::DetectorFinding;
use subsidy_model::vocab::Recover;

/// What happened to one rule in a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleRun {
    /// rule id
    pub id: String,
    /// findings raised
    pub findings: usize,
    /// rows of the rule's view it judged: the view's rows in the rule's effective period (0 when
    /// skipped); the base of the base-rate alarm ([`crate::alarm`])
    pub examined: usize,
    /// rows of the view it flagged (several rows of one entity make one finding)
    pub flagged: usize,
    /// why it did not run (a table or column it needs is absent)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Tables a view needs; a rule over a view whose table is absent is skipped, never passed.
fn needs(view: &str, columns_used: &BTreeSet<String>) -> Vec<Table> {
    let mut t = match view {
        "teaching" => vec![Table::Sessions],
        "enterprise_funds" => vec![Table::EnterpriseFunds],
        _ => vec![],
    };
    let status_cols = [
        "deceased_from",
        "pensioner_from",
        "student_from",
        "student_until",
        "payroll_from",
        "payroll_until",
        "ui_from",
        "ui_until",
        "graduate_from",
        "graduate_until",
        "key_group_from",
    ];
    if columns_used
        .iter()
        .any(|c| status_cols.contains(&c.as_str()))
    {
        t.push(Table::PersonStatus);
    }
    t
}

fn columns_of(rule: &Rule) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fn walk(a: &expr::Ast, out: &mut BTreeSet<String>) {
        match a {
            expr::Ast::Col(c, _) => {
                out.insert(c.clone());
            }
            expr::Ast::Neg(e) | expr::Ast::Not(e) => walk(e, out),
            expr::Ast::Bin(_, l, r, _) => {
                walk(l, out);
                walk(r, out);
            }
            expr::Ast::Call(_, args, _) | expr::Ast::List(args) => {
                args.iter().for_each(|x| walk(x, out))
            }
            _ => {}
        }
    }
    for a in rule.exprs.values() {
        walk(a, &mut out);
    }
    out
}

/// Views with a row per sign-in or per day: claim ids are resolved from (class_id, person_id).
fn keyed_by_enrolment(view: &str) -> bool {
    crate::catalog::view(view).is_some_and(|v| v.keyed_by_enrolment)
}

/// A stable finding id: the rule, the entity kind and the entity.
pub fn finding_id(rule: &str, kind: &str, entity: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("{rule}\u{1f}{kind}\u{1f}{entity}").as_bytes());
    format!("F{}", &hex::encode(h.finalize())[..16])
}

fn cell(df: &DataFrame, c: &str, i: usize) -> Option<String> {
    let col = df.column(c).ok()?;
    let v = col.get(i).ok()?;
    let money = c.starts_with("amount_")
        || matches!(
            c,
            "entitled"
                | "fee_per_trainee"
                | "excess"
                | "used_total"
                | "used_frontline"
                | "payroll"
                | "extracted"
        );
    Some(match v {
        AnyValue::Null => return None,
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Int64(x) if money => format_yuan(x),
        AnyValue::Float64(x) => {
            let s = format!("{x:.2}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        AnyValue::Boolean(b) => (if b { "yes" } else { "no" }).to_string(),
        AnyValue::Datetime(_, _, _) | AnyValue::Date(_) => {
            let s = v.to_string();
            s.trim_end_matches(".000").to_string()
        }
        other => other.to_string(),
    })
}

fn fill(
    template: &str,
    df: &DataFrame,
    i: usize,
    params: &BTreeMap<String, crate::expr::ParamValue>,
    zh: bool,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(a) = rest.find('{') {
        out.push_str(&rest[..a]);
        let Some(b) = rest[a..].find('}') else { break };
        let name = &rest[a + 1..a + b];
        let v = match params.get(name) {
            Some(crate::expr::ParamValue::Str(s)) => Some(s.clone()),
            Some(p) => Some(p.show()),
            None => cell(df, name, i),
        };
        // a code in a Chinese message reads as its Chinese name (`junior`: 初级工)
        let v = match v {
            Some(code) if zh => {
                Some(subsidy_model::vocab::chinese_name(name, &code).map_or(code, str::to_string))
            }
            v => v,
        };
        out.push_str(&v.unwrap_or_else(|| "—".into()));
        rest = &rest[a + b + 1..];
    }
    out.push_str(rest);
    out
}

/// Findings of every rule, in the contract's columns plus `_recover` (full/excess/none),
/// `_excess` (fen, for excess), `_role`, `_date` (the judged date, for escalation windows).
pub fn run(
    pack: &Pack,
    views: &Views,
    present: &BTreeSet<Table>,
) -> PolarsResult<(DataFrame, Vec<RuleRun>)> {
    // the claim view's ids, read in order (a column's `get(i)` searches its chunks) into hashed
    // maps that borrow the view's text: a million claims, looked up per finding
    let claim = &views.frames["claim"];
    let claim_ids = claim.column("claim_id")?.str()?;
    let paid = claim.column("amount_paid")?.i64()?;
    let claim_paid: HashMap<&str, i64> = claim_ids
        .iter()
        .zip(paid.iter())
        .filter_map(|(i, p)| Some((i?, p?)))
        .collect();
    // the findings' text columns, filled row by row (no map per finding: at a million findings
    // that map cost gigabytes)
    let mut rows: BTreeMap<&'static str, Vec<Option<String>>> = BTreeMap::new();
    let mut nums: Vec<(Option<i64>, Option<i64>)> = Vec::new(); // (amount_at_risk, excess)
    // paid training claims by (class, person), for the views without claim ids (a living
    // allowance or an evaluation subsidy is judged by its own rules)
    let enrolment_claims: HashMap<(&str, &str), Vec<&str>> = {
        let mut m: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
        let rows = claim_ids
            .iter()
            .zip(claim.column("class_id")?.str()?.iter())
            .zip(claim.column("person_id")?.str()?.iter())
            .zip(claim.column("scheme")?.str()?.iter())
            .zip(paid.iter());
        for ((((id, cl), pe), sc), paid) in rows {
            if let (Some(id), Some(cl), Some(pe), Some(_)) = (id, cl, pe, paid)
                && !matches!(sc, Some("living_allowance" | "evaluation"))
            {
                m.entry((cl, pe)).or_default().push(id);
            }
        }
        m
    };
    let mut runs = Vec::new();
    let trace_t = std::time::Instant::now();
    // per finding: the rule it came from (its constant columns are built from that at the end,
    // not copied per finding) and whether it holds across merged registrations
    let mut of_rule: Vec<usize> = Vec::new();
    let mut merged_rows: Vec<bool> = Vec::new();
    for (ri, rule) in pack.rules.iter().enumerate() {
        let f = rule;
        let used = columns_of(rule);
        let missing: Vec<&str> = needs(&f.view, &used)
            .into_iter()
            .filter(|t| !present.contains(t))
            .map(|t| t.name())
            .collect();
        if !missing.is_empty() {
            runs.push(RuleRun {
                id: f.id.clone(),
                findings: 0,
                examined: 0,
                flagged: 0,
                skipped: Some(format!("table {} absent", missing.join(", "))),
            });
            continue;
        }
        // profiled (scan --profile) from here to the rule's last finding
        let span = subsidy_model::trace::begin("rule", f.id.clone());
        let view = &views.frames[f.view.as_str()];
        let columns = views.schema(&f.view).unwrap_or_default();
        // effective period on the view's date
        let view = match date_column(&f.view) {
            Some(dc) => {
                let d = if matches!(view.column(dc)?.dtype(), DataType::Datetime(_, _)) {
                    col(dc).dt().date()
                } else {
                    col(dc)
                };
                let from = lit(rule.from).cast(DataType::Date);
                let mut cond = d.clone().gt_eq(from);
                if let Some(u) = rule.until {
                    cond = cond.and(d.lt_eq(lit(u).cast(DataType::Date)));
                }
                view.clone().lazy().filter(cond).collect()?
            }
            None => view.clone(),
        };
        let examined = view.height();
        let mut flagged = primitives::run(rule, &view, &columns)?;
        drop(view);
        let flagged_rows = flagged.height();
        if f.recover == Recover::Excess {
            let e = expr::lower(
                &rule.exprs["excess"],
                &Scope {
                    columns: &columns,
                    params: &rule.params,
                },
            );
            flagged = flagged
                .lazy()
                .with_column(e.cast(DataType::Int64).alias("_excess"))
                .collect()?;
        }
        // one finding per entity; the claims of every flagged row of it
        let entity = flagged
            .column("entity")?
            .cast(&DataType::String)?
            .str()?
            .clone();
        let claims = if keyed_by_enrolment(&f.view) {
            // views with a row per sign-in or day carry no claim ids: look them up for the
            // flagged rows only
            let cls = flagged.column("class_id")?.str()?.clone();
            let per = flagged.column("person_id")?.str()?.clone();
            let ids: Vec<String> = cls
                .iter()
                .zip(per.iter())
                .map(|(c, p)| match (c, p) {
                    (Some(c), Some(p)) => enrolment_claims
                        .get(&(c, p))
                        .map(|v| v.join(";"))
                        .unwrap_or_default(),
                    _ => String::new(),
                })
                .collect();
            StringChunked::from_iter_values("claim_ids".into(), ids.into_iter())
        } else {
            flagged
                .column("claim_ids")?
                .cast(&DataType::String)?
                .str()?
                .clone()
        };
        // one finding per entity; in the views without claim ids (a row per day or sign-in), one
        // per entity and responsible party, so that each institution answers for its own
        // classes when one trainee or device spans two
        let per_party = keyed_by_enrolment(&f.view);
        let party_of = |i: usize| {
            cell(&flagged, &format!("party_{}", f.role.as_str()), i)
                .or_else(|| cell(&flagged, "institution_id", i))
                .or_else(|| cell(&flagged, "claimant_id", i))
                .unwrap_or_else(|| "unknown".into())
        };
        let mut by_entity: BTreeMap<(String, String), (usize, BTreeSet<String>)> = BTreeMap::new();
        for i in 0..flagged.height() {
            let Some(e) = entity.get(i) else { continue };
            let party = if per_party {
                party_of(i)
            } else {
                String::new()
            };
            let entry = by_entity
                .entry((e.to_string(), party))
                .or_insert((i, BTreeSet::new()));
            entry.1.extend(
                claims
                    .get(i)
                    .unwrap_or("")
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        let n = by_entity.len();
        for ((ent, split_party), (i, cids)) in by_entity {
            let evidence: serde_json::Map<String, serde_json::Value> = f
                .evidence
                .iter()
                .map(|c| {
                    (
                        c.clone(),
                        cell(&flagged, c, i)
                            .map_or(serde_json::Value::Null, serde_json::Value::String),
                    )
                })
                .collect();
            let mut ev = serde_json::Value::Object(evidence);
            if let Some(o) = cell(&flagged, "_other", i) {
                ev["overlaps"] = serde_json::Value::String(o);
            }
            let excess = if f.recover == Recover::Excess {
                flagged.column("_excess")?.i64()?.get(i)
            } else {
                None
            };
            let at_risk = match f.recover {
                Recover::Excess => excess.map(|x| x.max(0)),
                Recover::Full => Some(cids.iter().filter_map(|c| claim_paid.get(c.as_str())).sum()),
                Recover::None => Some(0),
            };
            let party = party_of(i);
            let id_key = if per_party {
                format!("{ent}\u{1f}{split_party}")
            } else {
                ent.clone()
            };
            let date = date_column(&f.view)
                .and_then(|dc| cell(&flagged, dc, i))
                .map(|d| d.chars().take(10).collect());
            let mut row = |k: &'static str, v: Option<String>| rows.entry(k).or_default().push(v);
            row(
                "finding_id",
                Some(finding_id(&f.id, f.entity.as_str(), &id_key)),
            );
            // a finding that only holds across two registrations of one resolved identity
            let merged = cell(&flagged, "identity_persons", i)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|n| n > 1);
            of_rule.push(ri);
            merged_rows.push(merged);
            row("entity_id", Some(ent.clone()));
            row("institution_id", cell(&flagged, "institution_id", i));
            row("responsible_party", Some(party));
            row(
                "claim_ids",
                Some(cids.into_iter().collect::<Vec<_>>().join(";")),
            );
            // due process: what the finding indicates, its facts, and what would clear it
            let mut message = fill(&f.message, &flagged, i, &rule.params, false);
            let clears = f.docs.clears.trim();
            if !clears.is_empty() {
                message.push_str(" It would be cleared by: ");
                message.push_str(clears);
            }
            row("message", Some(message));
            let mut message_zh = fill(&f.message_zh, &flagged, i, &rule.params, true);
            let clears_zh = f.docs.clears_zh.trim();
            if !clears_zh.is_empty() {
                message_zh.push_str("可据以排除的材料：");
                message_zh.push_str(clears_zh);
            }
            row("message_zh", Some(message_zh));
            row("evidence", Some(ev.to_string()));
            row("_date", date);
            nums.push((at_risk, excess));
        }
        subsidy_model::trace::lap(&format!("rule {} done", f.id), trace_t);
        span.end();
        runs.push(RuleRun {
            id: f.id.clone(),
            findings: n,
            examined,
            flagged: flagged_rows,
            skipped: None,
        });
    }
    let height = nums.len();
    let mut text = |k: &'static str| -> Column {
        let of = |g: &dyn Fn(&Rule) -> &str| -> Column {
            let ca: StringChunked = of_rule.iter().map(|&r| Some(g(&pack.rules[r]))).collect();
            ca.with_name(k.into()).into_column()
        };
        match k {
            "rule_id" => of(&|f| f.id.as_str()),
            "category" => of(&|f| f.category.as_str()),
            "severity" => of(&|f| f.severity.as_str()),
            "entity_kind" => of(&|f| f.entity.as_str()),
            "_recover" => of(&|f| f.recover.as_str()),
            "_role" => of(&|f| f.role.as_str()),
            "detector" => {
                let ca: StringChunked = merged_rows
                    .iter()
                    .map(|&m| Some(if m { "identity" } else { "rule" }))
                    .collect();
                ca.with_name(k.into()).into_column()
            }
            _ => {
                let v = rows.remove(k).unwrap_or_else(|| vec![None; height]);
                Column::new(k.into(), v)
            }
        }
    };
    let mut cols: Vec<Column> = [
        "finding_id",
        "rule_id",
        "category",
        "severity",
        "detector",
        "entity_kind",
        "entity_id",
        "institution_id",
        "responsible_party",
        "claim_ids",
    ]
    .into_iter()
    .map(&mut text)
    .collect();
    cols.push(Column::new(
        "amount_at_risk".into(),
        nums.iter().map(|n| n.0).collect::<Vec<_>>(),
    ));
    cols.push(Column::new("score".into(), vec![None::<f64>; height]));
    for k in ["message", "message_zh", "evidence", "_recover", "_role"] {
        cols.push(text(k));
    }
    cols.push(Column::new(
        "_excess".into(),
        nums.iter().map(|n| n.1).collect::<Vec<_>>(),
    ));
    cols.push(text("_date"));
    let df = sort_findings(DataFrame::new_infer_height(cols)?)?;
    Ok((df, runs))
}

/// Findings in output order (rule id, entity id). The order is computed on those two columns
/// alone, and the frame, wide with messages and evidence, is gathered only when it is not in
/// that order already (a runner's findings usually are: one copy of a million findings spared).
pub fn sort_findings(df: DataFrame) -> PolarsResult<DataFrame> {
    const IDX: &str = "_sort_index";
    let order = df
        .select(["rule_id", "entity_id"])?
        .lazy()
        .with_row_index(IDX, None)
        .sort(["rule_id", "entity_id"], SortMultipleOptions::default())
        .select([col(IDX)])
        .collect()?;
    let idx = order.column(IDX)?.idx()?.clone();
    let in_order = idx
        .iter()
        .enumerate()
        .all(|(i, v)| v.is_some_and(|v| v as usize == i));
    if in_order { Ok(df) } else { df.take(&idx) }
}

/// The findings frame (the runner's columns) of detector findings, each with its stable id.
pub fn detector_findings(found: &[DetectorFinding]) -> PolarsResult<DataFrame> {
    let text = |name: &str, f: &dyn Fn(&DetectorFinding) -> Option<String>| {
        Column::new(
            name.into(),
            found.iter().map(f).collect::<Vec<Option<String>>>(),
        )
    };
    let cols = vec![
        text("finding_id", &|d| {
            Some(finding_id(&d.rule_id, d.entity_kind, &d.entity_id))
        }),
        text("rule_id", &|d| Some(d.rule_id.clone())),
        text("category", &|d| Some(d.category.to_string())),
        text("severity", &|d| Some(d.severity.to_string())),
        text("detector", &|d| Some(d.detector.to_string())),
        text("entity_kind", &|d| Some(d.entity_kind.to_string())),
        text("entity_id", &|d| Some(d.entity_id.clone())),
        text("institution_id", &|d| d.institution_id.clone()),
        text("responsible_party", &|d| Some(d.responsible_party.clone())),
        text("claim_ids", &|d| Some(d.claim_ids.join(";"))),
        Column::new(
            "amount_at_risk".into(),
            found
                .iter()
                .map(|d| Some(d.amount_at_risk))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "score".into(),
            found.iter().map(|d| Some(d.score)).collect::<Vec<_>>(),
        ),
        text("message", &|d| Some(d.message.clone())),
        text("message_zh", &|d| Some(d.message_zh.clone())),
        text("evidence", &|d| Some(d.evidence.clone())),
        text("_recover", &|d| {
            Some(if d.recover_full { "full" } else { "none" }.to_string())
        }),
        text("_role", &|d| Some(d.role.to_string())),
        Column::new(
            "_excess".into(),
            found.iter().map(|_| None::<i64>).collect::<Vec<_>>(),
        ),
        text("_date", &|d| d.date.clone()),
    ];
    DataFrame::new_infer_height(cols)
}
