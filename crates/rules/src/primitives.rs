//! The primitives: each takes a view and a rule's check and returns the flagged rows (the view's
//! columns, plus `_other` naming the row that an overlap was found with).

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::expr::{self, ParamValue, Scope, Ty};
use crate::pack::number;
use crate::rule::{Check, Rule};

fn cond(rule: &Rule, columns: &BTreeMap<String, Ty>) -> Option<Expr> {
    rule.exprs.get("where").map(|a| {
        expr::lower(
            a,
            &Scope {
                columns,
                params: &rule.params,
            },
        )
    })
}

/// Runs `rule`'s check over `view`.
pub fn run(
    rule: &Rule,
    view: &DataFrame,
    columns: &BTreeMap<String, Ty>,
) -> PolarsResult<DataFrame> {
    let p: &BTreeMap<String, ParamValue> = &rule.params;
    let mut lf = view.clone().lazy();
    if let Some(c) = cond(rule, columns) {
        lf = lf.filter(c);
    }
    match &rule.file.check {
        Check::Filter { .. } => lf.collect(),
        Check::CountPerKey {
            keys,
            distinct,
            order_by,
            min,
            flag,
            ..
        } => {
            let by: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
            let n = match distinct {
                Some(d) => col(d.as_str()).n_unique().over(by.clone())?,
                None => len().over(by.clone())?,
            };
            let mut sort: Vec<PlSmallStr> = keys.iter().map(|k| k.as_str().into()).collect();
            sort.push(order_by.as_str().into());
            sort.push("entity".into());
            let min = number(min, p);
            let lf = lf
                .filter(
                    by.iter()
                        .fold(lit(true), |a, k| a.and(k.clone().is_not_null())),
                )
                .sort(sort, SortMultipleOptions::default())
                .with_columns([
                    n.cast(DataType::Float64).alias("_n"),
                    (col(order_by.as_str()).cum_count(false).over(by)?)
                        .cast(DataType::Float64)
                        .alias("_rank"),
                ]);
            let keep = match flag.as_str() {
                "all" => col("_n").gt_eq(lit(min)),
                "after_first" => col("_n").gt_eq(lit(min)).and(col("_rank").gt(lit(1.0))),
                _ => col("_rank").gt(lit(min)),
            };
            lf.filter(keep).collect()
        }
        Check::Sequence {
            keys,
            order_by,
            rank,
            ..
        } => {
            let by: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
            let mut sort: Vec<PlSmallStr> = keys.iter().map(|k| k.as_str().into()).collect();
            sort.push(order_by.as_str().into());
            sort.push("entity".into());
            lf.filter(col(rank.as_str()).is_not_null())
                .sort(sort, SortMultipleOptions::default())
                .with_columns([col(rank.as_str())
                    .cum_max(false)
                    .shift(lit(1))
                    .over(by)?
                    .alias("_prev_max")])
                .filter(col(rank.as_str()).lt(col("_prev_max")))
                .collect()
        }
        Check::OverlapPerKey {
            key,
            start,
            end,
            differ,
            min_overlap_minutes,
            later_by,
            ..
        } => {
            let df = lf
                .sort(
                    [key.as_str(), start.as_str(), "entity"],
                    SortMultipleOptions::default(),
                )
                .collect()?;
            let min_ms = (number(min_overlap_minutes, p) * 60_000.0) as i64;
            overlaps(
                &df,
                key,
                start,
                end,
                differ,
                later_by.as_deref().unwrap_or(start),
                min_ms,
            )
        }
        Check::WindowDistinct {
            key,
            time,
            distinct,
            window_minutes,
            min,
        } => {
            let df = lf
                .sort(
                    [key.as_str(), time.as_str(), distinct.as_str()],
                    SortMultipleOptions::default(),
                )
                .collect()?;
            let w_ms = (number(window_minutes, p) * 60_000.0) as i64;
            window_distinct(&df, key, time, distinct, w_ms, number(min, p) as usize)
        }
    }
}

fn ms(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<i64>>> {
    let s = df.column(c)?.as_materialized_series().clone();
    let s = match s.dtype() {
        DataType::Date => s.cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
        _ => s,
    };
    Ok(s.to_physical_repr().i64()?.iter().collect())
}

fn text(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(c)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Sweep per key over rows sorted by start: of two overlapping rows that differ in every `differ`
/// column, the one with the later `later_by` value is flagged (`_other` names the first `differ`
/// value of the other row).
fn overlaps(
    df: &DataFrame,
    key: &str,
    start: &str,
    end: &str,
    differ: &[String],
    later_by: &str,
    min_ms: i64,
) -> PolarsResult<DataFrame> {
    let keys = text(df, key)?;
    let (s, e) = (ms(df, start)?, ms(df, end)?);
    let order = ms(df, later_by)?;
    let diffs: Vec<Vec<Option<String>>> = differ
        .iter()
        .map(|c| text(df, c))
        .collect::<PolarsResult<_>>()?;
    let mut pairs: BTreeMap<usize, Option<String>> = BTreeMap::new();
    let mut active: Vec<usize> = Vec::new();
    for j in 0..df.height() {
        if j > 0 && keys[j] != keys[j - 1] {
            active.clear();
        }
        let (Some(sj), Some(ej)) = (s[j], e[j]) else {
            continue;
        };
        active.retain(|&i| e[i].is_some_and(|ei| ei > sj));
        if keys[j].is_some() {
            for &i in active.iter().filter(|&&i| {
                e[i].unwrap_or(0).min(ej) - sj >= min_ms && diffs.iter().all(|d| d[i] != d[j])
            }) {
                // the row that is later by `later_by` (ties: the later start, i.e. j)
                let (flag, other) = if order[i] > order[j] { (i, j) } else { (j, i) };
                pairs
                    .entry(flag)
                    .or_insert_with(|| diffs.first().and_then(|d| d[other].clone()));
            }
        }
        active.push(j);
    }
    let (flagged, other): (Vec<IdxSize>, Vec<Option<String>>) =
        pairs.into_iter().map(|(k, v)| (k as IdxSize, v)).unzip();
    let idx = IdxCa::from_vec("idx".into(), flagged);
    let mut out = df.take(&idx)?;
    out.with_column(Column::new("_other".into(), other))?;
    Ok(out)
}

/// Per key, rows inside any window of `w_ms` that holds at least `min` distinct values.
fn window_distinct(
    df: &DataFrame,
    key: &str,
    time: &str,
    distinct: &str,
    w_ms: i64,
    min: usize,
) -> PolarsResult<DataFrame> {
    let keys = text(df, key)?;
    let t = ms(df, time)?;
    let vals = text(df, distinct)?;
    let mut flag = vec![false; df.height()];
    let mut a = 0usize;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for b in 0..df.height() {
        if b > 0 && keys[b] != keys[b - 1] {
            counts.clear();
            a = b;
        }
        let Some(tb) = t[b] else { continue };
        *counts.entry(vals[b].as_deref().unwrap_or("")).or_default() += 1;
        while a < b && t[a].is_none_or(|ta| tb - ta > w_ms) {
            let v = vals[a].as_deref().unwrap_or("");
            if let Some(c) = counts.get_mut(v) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(v);
                }
            }
            a += 1;
        }
        if counts.len() >= min {
            for f in flag.iter_mut().take(b + 1).skip(a) {
                *f = true;
            }
        }
    }
    let mask = BooleanChunked::from_slice("m".into(), &flag);
    df.filter(&mask)
}
