//! The primitives: each takes a view and a rule's check and returns the flagged rows (the view's
//! columns, plus `_other` naming the row that an overlap was found with).
//!
//! Ordering and grouping work on a narrow projection of the view (the columns the check names
//! and a row index); the flagged rows are then taken from the full view by index, so a wide view
//! is never sorted whole.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::expr::{self, Scope, Ty};
use crate::rule::{Check, Flag, Rule};

const ROW: &str = "_row";

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

/// The view with a row index, filtered by the rule's `where`, projected to `cols`.
fn narrow(
    view: &DataFrame,
    rule: &Rule,
    columns: &BTreeMap<String, Ty>,
    cols: &[&str],
) -> LazyFrame {
    let mut lf = view.clone().lazy().with_row_index(ROW, None);
    if let Some(c) = cond(rule, columns) {
        lf = lf.filter(c);
    }
    let mut sel: Vec<Expr> = vec![col(ROW)];
    let mut seen = std::collections::BTreeSet::new();
    for c in cols {
        if seen.insert(*c) {
            sel.push(col(*c));
        }
    }
    lf.select(sel)
}

/// The rows of `view` at the `_row` indices of `flags` (in that order), with `flags`' extra
/// columns (those starting with `_`) attached.
fn take(view: &DataFrame, flags: &DataFrame) -> PolarsResult<DataFrame> {
    let idx = flags.column(ROW)?.idx()?.clone();
    let mut out = view.take(&idx)?;
    for c in flags.columns() {
        let name = c.name().as_str();
        if name.starts_with('_') && name != ROW && out.column(name).is_err() {
            out.with_column(c.clone())?;
        }
    }
    Ok(out)
}

/// The order a group check walks its rows in: by `keys`, then `order_by`, then entity.
fn sort_order(keys: &[String], order_by: &str) -> Vec<PlSmallStr> {
    keys.iter()
        .map(String::as_str)
        .chain([order_by, "entity"])
        .map(PlSmallStr::from)
        .collect()
}

/// Over rows sorted by `keys` first: each row's group, numbered from 0 (a missing key equals a
/// missing key, as in a group-by).
fn runs(sorted: &DataFrame, keys: &[String]) -> PolarsResult<Vec<u32>> {
    let n = sorted.height();
    let mut starts = vec![false; n];
    if let Some(first) = starts.first_mut() {
        *first = true;
    }
    for k in keys {
        let c = sorted.column(k.as_str())?.as_materialized_series();
        let changed = c.not_equal_missing(&c.shift(1))?;
        for (s, ch) in starts.iter_mut().zip(changed.iter()) {
            *s |= ch == Some(true);
        }
    }
    let mut g = 0u32;
    Ok(starts
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            g += u32::from(s && i > 0);
            g
        })
        .collect())
}

/// Runs `rule`'s check over `view`.
pub fn run(
    rule: &Rule,
    view: &DataFrame,
    columns: &BTreeMap<String, Ty>,
) -> PolarsResult<DataFrame> {
    match &rule.check {
        Check::Filter { .. } => {
            let mut lf = view.clone().lazy();
            if let Some(c) = cond(rule, columns) {
                lf = lf.filter(c);
            }
            lf.collect()
        }
        Check::CountPerKey {
            keys,
            distinct,
            order_by,
            min,
            flag,
            ..
        } => {
            let mut cols: Vec<&str> = keys.iter().map(String::as_str).collect();
            cols.extend([order_by.as_str(), "entity"]);
            if let Some(d) = distinct {
                cols.push(d.as_str());
            }
            let sorted = narrow(view, rule, columns, &cols)
                .filter(
                    keys.iter()
                        .fold(lit(true), |a, k| a.and(col(k.as_str()).is_not_null())),
                )
                .sort(sort_order(keys, order_by), SortMultipleOptions::default())
                .collect()?;
            let run = runs(&sorted, keys)?;
            // per row: its group's count (rows, or distinct values of `distinct`, a missing
            // value counting as one) and its rank, the rows so far with an `order_by` value
            let n: Vec<f64> = match distinct {
                None => {
                    let mut size = vec![0u32; run.last().map_or(0, |&g| g as usize + 1)];
                    run.iter().for_each(|&g| size[g as usize] += 1);
                    run.iter().map(|&g| f64::from(size[g as usize])).collect()
                }
                Some(d) => {
                    let g = Column::new("_g".into(), run.clone());
                    let n =
                        DataFrame::new_infer_height(vec![sorted.column(d.as_str())?.clone(), g])?
                            .lazy()
                            .select([col(d.as_str())
                                .n_unique()
                                .over([col("_g")])?
                                .cast(DataType::Float64)])
                            .collect()?;
                    n.column(d.as_str())?.f64()?.into_no_null_iter().collect()
                }
            };
            let dated: Vec<bool> = sorted
                .column(order_by.as_str())?
                .is_not_null()
                .iter()
                .map(|d| d == Some(true))
                .collect();
            let min = min.value;
            let mut rank = 0u32;
            let keep: BooleanChunked = (0..sorted.height())
                .map(|i| {
                    if i == 0 || run[i] != run[i - 1] {
                        rank = 0;
                    }
                    rank += u32::from(dated[i]);
                    let r = f64::from(rank);
                    match flag {
                        Flag::All => n[i] >= min,
                        Flag::AfterFirst => n[i] >= min && r > 1.0,
                        Flag::Beyond => r > min,
                    }
                })
                .collect();
            take(view, &sorted.filter(&keep)?.select([ROW])?)
        }
        Check::Sequence {
            keys,
            order_by,
            rank,
            ..
        } => {
            let mut cols: Vec<&str> = keys.iter().map(String::as_str).collect();
            cols.extend([order_by.as_str(), rank.as_str(), "entity"]);
            let sorted = narrow(view, rule, columns, &cols)
                .filter(col(rank.as_str()).is_not_null())
                .sort(sort_order(keys, order_by), SortMultipleOptions::default())
                .collect()?;
            let run = runs(&sorted, keys)?;
            let ranks = sorted.column(rank.as_str())?.cast(&DataType::Float64)?;
            let ranks: Vec<f64> = ranks.f64()?.into_no_null_iter().collect();
            // a row ranked below the highest rank of an earlier row of its group
            let mut highest = f64::NEG_INFINITY;
            let keep: BooleanChunked = (0..sorted.height())
                .map(|i| {
                    if i == 0 || run[i] != run[i - 1] {
                        highest = f64::NEG_INFINITY;
                    }
                    let below = ranks[i] < highest;
                    highest = highest.max(ranks[i]);
                    below
                })
                .collect();
            take(view, &sorted.filter(&keep)?.select([ROW])?)
        }
        Check::OverlapPerKey {
            key,
            start,
            end,
            differ,
            min_overlap_minutes,
            ..
        } => {
            let mut cols: Vec<&str> = vec![key.as_str(), start.as_str(), end.as_str(), "entity"];
            cols.extend(differ.iter().map(String::as_str));
            // a total order: rows tied on key and start are ordered by what tells them apart
            let mut order: Vec<&str> = vec![key.as_str(), start.as_str(), "entity"];
            order.extend(differ.iter().map(String::as_str));
            let df = narrow(view, rule, columns, &cols)
                .sort(order, SortMultipleOptions::default())
                .collect()?;
            let min_ms = (min_overlap_minutes.value * 60_000.0) as i64;
            let mut flags = overlaps(&df, key, start, end, differ, min_ms)?;
            if let Some(a) = rule.exprs.get("or_where") {
                // the rows over the second limit, not already flagged, in view order
                let also = expr::lower(
                    a,
                    &Scope {
                        columns,
                        params: &rule.params,
                    },
                );
                let extra = view
                    .clone()
                    .lazy()
                    .with_row_index(ROW, None)
                    .filter(also)
                    .select([col(ROW), lit(NULL).cast(DataType::String).alias("_other")])
                    .collect()?;
                let seen: std::collections::HashSet<IdxSize> =
                    flags.column(ROW)?.idx()?.into_no_null_iter().collect();
                let keep: BooleanChunked = extra
                    .column(ROW)?
                    .idx()?
                    .into_no_null_iter()
                    .map(|r| !seen.contains(&r))
                    .collect();
                let extra = extra.filter(&keep)?;
                flags = flags
                    .select([ROW, "_other"])?
                    .vstack(&extra)?
                    .sort([ROW], SortMultipleOptions::default())?;
            }
            take(view, &flags)
        }
        Check::WindowDistinct {
            key,
            time,
            distinct,
            window_minutes,
            min,
        } => {
            let cols = [key.as_str(), time.as_str(), distinct.as_str()];
            let df = narrow(view, rule, columns, &cols)
                .sort(
                    [key.as_str(), time.as_str(), distinct.as_str()],
                    SortMultipleOptions::default(),
                )
                .collect()?;
            let w_ms = (window_minutes.value * 60_000.0) as i64;
            let flags = window_distinct(&df, key, time, distinct, w_ms, min.value as usize)?;
            take(view, &flags)
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

use subsidy_model::frame::text_column as text;

/// Sweep per key over rows sorted by start: both rows of every pair that overlaps and differs in
/// every `differ` column are flagged. The evidence does not say which of two records that cannot
/// both be true is the false one (DATA_CONTRACT.md, "Impossible pairs"); `_other` names the
/// first `differ` value of the other row (the earliest-starting one, where a row has several).
fn overlaps(
    df: &DataFrame,
    key: &str,
    start: &str,
    end: &str,
    differ: &[String],
    min_ms: i64,
) -> PolarsResult<DataFrame> {
    let keys = text(df, key)?;
    let (s, e) = (ms(df, start)?, ms(df, end)?);
    let diffs: Vec<StringChunked> = differ
        .iter()
        .map(|c| text(df, c))
        .collect::<PolarsResult<_>>()?;
    let keyv: Vec<Option<&str>> = keys.iter().collect();
    let diffv: Vec<Vec<Option<&str>>> = diffs.iter().map(|d| d.iter().collect()).collect();
    let mut pairs: BTreeMap<usize, Option<String>> = BTreeMap::new();
    let mut active: Vec<usize> = Vec::new();
    let other_of = |i: usize| diffv.first().and_then(|d| d[i].map(str::to_string));
    for j in 0..df.height() {
        if j > 0 && keyv[j] != keyv[j - 1] {
            active.clear();
        }
        let (Some(sj), Some(ej)) = (s[j], e[j]) else {
            continue;
        };
        active.retain(|&i| e[i].is_some_and(|ei| ei > sj));
        if keyv[j].is_some() {
            for &i in active.iter().filter(|&&i| {
                e[i].unwrap_or(0).min(ej) - sj > min_ms && diffv.iter().all(|d| d[i] != d[j])
            }) {
                pairs.entry(i).or_insert_with(|| other_of(j));
                pairs.entry(j).or_insert_with(|| other_of(i));
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
    let keyv: Vec<Option<&str>> = keys.iter().collect();
    let valv: Vec<&str> = vals.iter().map(|v| v.unwrap_or("")).collect();
    let mut flag = vec![false; df.height()];
    let mut a = 0usize;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for b in 0..df.height() {
        if b > 0 && keyv[b] != keyv[b - 1] {
            counts.clear();
            a = b;
        }
        let Some(tb) = t[b] else { continue };
        *counts.entry(valv[b]).or_default() += 1;
        while a < b && t[a].is_none_or(|ta| tb - ta > w_ms) {
            if let Some(c) = counts.get_mut(valv[a]) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(valv[a]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_runs_while_every_key_repeats_and_missing_equals_missing() {
        let df = df!(
            "a" => [None, None, Some("x"), Some("x"), Some("x"), Some("y")],
            "b" => [Some(1i64), Some(1), Some(1), Some(2), Some(2), Some(2)],
        )
        .expect("frame");
        let keys = ["a".to_string(), "b".to_string()];
        assert_eq!(runs(&df, &keys).expect("runs"), [0, 0, 1, 2, 2, 3]);
        assert_eq!(
            runs(&df.slice(0, 0), &keys).expect("runs"),
            Vec::<u32>::new()
        );
    }
}
