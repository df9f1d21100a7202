//! Table-level checks after rows are parsed: duplicate primary keys (the first row is kept) and
//! orphan references (a row pointing at a key that no accepted row of the target table holds).

use std::collections::BTreeMap;

use polars::prelude::*;
use rayon::prelude::*;
use subsidy_model::contract::{ColType, Table, TableSpec};
use subsidy_model::money::format_yuan;

use crate::builder::LINE_COLUMN;
use crate::error::IngestError;
use crate::reject::{Reason, Rejection, clip};

/// Applies both checks to `df`, returning the kept rows and the rejections.
pub fn keys_and_references(
    spec: &TableSpec,
    file: &str,
    df: DataFrame,
    done: &BTreeMap<Table, DataFrame>,
) -> Result<(DataFrame, Vec<Rejection>), IngestError> {
    let n = df.height();
    let mut keep = vec![true; n];
    let mut why: Vec<Option<(String, String, Reason, String)>> = vec![None; n];

    if !spec.key.is_empty() {
        let parts: Vec<StringChunked> = spec
            .key
            .iter()
            .map(|k| {
                Ok(df
                    .column(k)?
                    .cast(&DataType::String)?
                    .str()?
                    .rechunk()
                    .into_owned())
            })
            .collect::<PolarsResult<_>>()?;
        let lines = df.column(LINE_COLUMN)?.i64()?.rechunk().into_owned();
        // a single-column key is looked up borrowed; a compound one is joined into one string
        let single: Vec<Option<&str>> = if parts.len() == 1 {
            parts[0].iter().collect()
        } else {
            Vec::new()
        };
        let mut seen: PlHashMap<std::borrow::Cow<'_, str>, i64> = PlHashMap::with_capacity(n);
        for i in 0..n {
            let key: std::borrow::Cow<'_, str> = if parts.len() == 1 {
                std::borrow::Cow::Borrowed(single[i].unwrap_or(""))
            } else {
                std::borrow::Cow::Owned(
                    parts
                        .iter()
                        .map(|p| p.get(i).unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join("\u{1f}"),
                )
            };
            let line = lines.get(i).unwrap_or(0);
            if let Some(first) = seen.get(&key) {
                keep[i] = false;
                let shown: Vec<String> = spec
                    .key
                    .iter()
                    .zip(&parts)
                    .map(|(k, p)| format!("{k}={}", p.get(i).unwrap_or("")))
                    .collect();
                let value = parts
                    .iter()
                    .map(|p| p.get(i).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(";");
                why[i] = Some((
                    spec.key.join("+"),
                    value,
                    Reason::DuplicateKey,
                    format!(
                        "duplicate key {}: line {first} has the same key and is kept",
                        shown.join(", ")
                    ),
                ));
            } else {
                seen.insert(key, line);
            }
        }
    }

    for r in spec.references {
        let target_frames: Vec<StringChunked> = r
            .targets
            .iter()
            .filter_map(|t| done.get(t).map(|f| (t, f)))
            .map(|(t, f)| Ok(f.column(t.spec().key[0])?.str()?.rechunk().into_owned()))
            .collect::<PolarsResult<_>>()?;
        let mut targets: PlHashSet<&str> = PlHashSet::new();
        for ca in &target_frames {
            targets.extend(ca.iter().flatten());
        }
        let col = df.column(r.column)?.str()?.clone();
        let step = (n / 8).max(100_000);
        let bad: Vec<usize> = (0..n)
            .into_par_iter()
            .step_by(step)
            .flat_map_iter(|a| {
                let b = (a + step).min(n);
                let slice = col.slice(a as i64, b - a);
                // exports list rows grouped by their parent: a value equal to the previous
                // row's needs no second lookup
                let mut last: Option<(&str, bool)> = None;
                let mut out = Vec::new();
                for (j, v) in slice.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let ok = match last {
                        Some((p, ok)) if p == v => ok,
                        _ => {
                            let ok = targets.contains(v);
                            last = Some((v, ok));
                            ok
                        }
                    };
                    if !ok {
                        out.push(a + j);
                    }
                }
                out
            })
            .collect();
        let names: Vec<&str> = r.targets.iter().map(|t| t.name()).collect();
        for i in bad {
            if !keep[i] {
                continue;
            }
            keep[i] = false;
            let v = col.get(i).unwrap_or("").to_string();
            let msg = format!(
                "{} `{v}` is not in {} (absent, or its row was rejected)",
                r.column,
                names.join(" or ")
            );
            why[i] = Some((r.column.to_string(), v, Reason::OrphanReference, msg));
        }
    }

    if keep.iter().all(|k| *k) {
        return Ok((df, Vec::new()));
    }
    let lines = df.column(LINE_COLUMN)?.i64()?.rechunk().into_owned();
    let mut rejected = Vec::new();
    for (i, w) in why.into_iter().enumerate() {
        if let Some((column, value, reason, message)) = w {
            let record = df
                .get(i)
                .map(|row| {
                    row.iter()
                        .zip(spec.columns)
                        .map(|(v, c)| match (v, c.ty) {
                            (AnyValue::Null, _) => String::new(),
                            (AnyValue::String(s), _) => s.to_string(),
                            (AnyValue::Int64(f), ColType::Money) => format_yuan(*f),
                            (AnyValue::Float64(x), _) => x.to_string(),
                            (other, _) => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let refs: Vec<&str> = record.iter().map(String::as_str).collect();
            rejected.push(Rejection {
                table: spec.table.name(),
                file: file.to_string(),
                line: lines.get(i).unwrap_or(0) as u64,
                column,
                value: clip(&value, 200),
                reason,
                message,
                record: clip(&crate::builder::join_record(&refs), 2000),
            });
        }
    }
    let mask = BooleanChunked::from_slice("keep".into(), &keep);
    Ok((df.filter(&mask)?, rejected))
}
