//! Table-level checks after rows are parsed: duplicate primary keys (the first row is kept) and
//! orphan references (a row pointing at a key that no accepted row of the target table holds).

use std::collections::BTreeMap;

use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use polars::prelude::*;
use rayon::prelude::*;
use subsidy_model::contract::{ColType, Table, TableSpec};
use subsidy_model::money::format_yuan;

use crate::builder::LINE_COLUMN;
use crate::error::IngestError;
use crate::reject::{Reason, Rejection, clip};

/// The keys of a table's accepted rows: built once by the duplicate check and kept for the
/// reference checks of the tables that point at it. Holds row positions into the table's key
/// columns, so a lookup compares the text itself: exact, with no copy of the keys.
pub struct KeyIndex {
    parts: Vec<StringChunked>,
    rows: HashTable<u32>,
    state: FixedState,
}

fn hash_key<'a>(state: &FixedState, vals: impl Iterator<Item = &'a str>) -> u64 {
    let mut h = state.build_hasher();
    for v in vals {
        h.write(v.as_bytes());
        h.write_u8(0x1f);
    }
    h.finish()
}

/// The text of a key column at `row` (a null reads as empty).
fn cell(part: &StringChunked, row: usize) -> &str {
    // key columns are rechunked when the index is built: one array
    part.downcast_iter()
        .next()
        .and_then(|a| a.get(row))
        .unwrap_or("")
}

fn row_key(parts: &[StringChunked], row: usize) -> impl Iterator<Item = &str> {
    parts.iter().map(move |p| cell(p, row))
}

impl KeyIndex {
    /// Whether a single-column key `v` is present.
    fn contains(&self, v: &str) -> bool {
        let h = hash_key(&self.state, std::iter::once(v));
        self.rows
            .find(h, |&r| cell(&self.parts[0], r as usize) == v)
            .is_some()
    }

    /// Forgets the key of accepted row `row`, rejected after the duplicate check.
    fn forget(&mut self, row: usize) {
        let h = hash_key(&self.state, row_key(&self.parts, row));
        if let Ok(e) = self.rows.find_entry(h, |&r| r as usize == row) {
            e.remove();
        }
    }
}

/// Applies both checks to `df`, returning the kept rows, the rejections and, for a keyed table,
/// the index of its accepted keys. `indexes` holds the indexes of the tables already read.
pub fn keys_and_references(
    spec: &TableSpec,
    file: &str,
    df: DataFrame,
    indexes: &BTreeMap<Table, KeyIndex>,
) -> Result<(DataFrame, Vec<Rejection>, Option<KeyIndex>), IngestError> {
    let n = df.height();
    let mut keep = vec![true; n];
    // the reasons of the (few) rejected rows, by row
    let mut why: BTreeMap<usize, Why> = BTreeMap::new();

    // the duplicate check (one thread, in row order) runs beside the reference checks
    let (dups, orphans) = rayon::join(
        || {
            (!spec.key.is_empty())
                .then(|| duplicates(spec, &df))
                .transpose()
        },
        || {
            spec.references
                .iter()
                .map(|r| orphans(r.column, r.targets, &df, indexes))
                .collect::<PolarsResult<Vec<_>>>()
        },
    );
    let mut index = None;
    if let Some((idx, found)) = dups? {
        for (i, w) in found {
            keep[i] = false;
            why.insert(i, w);
        }
        index = Some(idx);
    }
    for (r, bad) in spec.references.iter().zip(orphans?) {
        let col = df.column(r.column)?.str()?;
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
            why.insert(i, (r.column.to_string(), v, Reason::OrphanReference, msg));
        }
    }
    // an orphan's key is not an accepted key: its children are orphans in turn
    if let Some(idx) = index.as_mut() {
        for (&i, w) in &why {
            if matches!(w, (_, _, Reason::OrphanReference, _)) {
                idx.forget(i);
            }
        }
    }

    if keep.iter().all(|k| *k) {
        return Ok((df, Vec::new(), index));
    }
    let lines = df.column(LINE_COLUMN)?.i64()?.rechunk().into_owned();
    let mut rejected = Vec::new();
    for (i, (column, value, reason, message)) in why {
        {
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
    Ok((df.filter(&mask)?, rejected, index))
}

/// A rejected row's column, value, reason and message.
type Why = (String, String, Reason, String);

/// The index of `df`'s keys and its duplicate rows (all but the first of equal keys).
fn duplicates(spec: &TableSpec, df: &DataFrame) -> PolarsResult<(KeyIndex, Vec<(usize, Why)>)> {
    let n = df.height();
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
    let state = FixedState::with_seed(0x5eed);
    let hashes: Vec<u64> = (0..n)
        .into_par_iter()
        .map(|i| hash_key(&state, row_key(&parts, i)))
        .collect();
    let mut rows: HashTable<u32> = HashTable::with_capacity(n);
    let mut found = Vec::new();
    for (i, &h) in hashes.iter().enumerate() {
        let same = |&r: &u32| row_key(&parts, r as usize).eq(row_key(&parts, i));
        let rehash = |&r: &u32| hashes[r as usize];
        let first = match rows.entry(h, same, rehash) {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(i as u32);
                continue;
            }
        };
        let vals: Vec<&str> = row_key(&parts, i).collect();
        let shown: Vec<String> = spec
            .key
            .iter()
            .zip(&vals)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        found.push((
            i,
            (
                spec.key.join("+"),
                vals.join(";"),
                Reason::DuplicateKey,
                format!(
                    "duplicate key {}: line {} has the same key and is kept",
                    shown.join(", "),
                    lines.get(first as usize).unwrap_or(0)
                ),
            ),
        ));
    }
    Ok((KeyIndex { parts, rows, state }, found))
}

/// The rows of `df` whose `column` holds a value none of `targets`' accepted keys has.
fn orphans(
    column: &str,
    targets: &[Table],
    df: &DataFrame,
    indexes: &BTreeMap<Table, KeyIndex>,
) -> PolarsResult<Vec<usize>> {
    let t0 = std::time::Instant::now();
    let n = df.height();
    let targets: Vec<&KeyIndex> = targets.iter().filter_map(|t| indexes.get(t)).collect();
    let col = df.column(column)?.str()?.clone();
    let step = (n / 8).max(100_000);
    let bad: Vec<usize> = (0..n)
        .into_par_iter()
        .step_by(step)
        .flat_map_iter(|a| {
            let b = (a + step).min(n);
            let slice = col.slice(a as i64, b - a);
            // child rows cycle through a few parents (a class's roster, a person's days):
            // the verdicts on recent values are kept in a small direct-mapped cache
            let mut recent: [Option<(&str, bool)>; 64] = [None; 64];
            let mut out = Vec::new();
            let mut j = a;
            for arr in slice.downcast_iter() {
                let views = arr.views();
                // a decoded dictionary (Parquet) repeats one view for a repeated value: the
                // previous row's verdict holds without reading the text
                let mut prev: Option<(u128, bool)> = None;
                for (k, view) in views.iter().enumerate() {
                    let row = j + k;
                    let Some(v) = arr.get(k) else { continue };
                    let key = view.as_u128();
                    let ok = match prev {
                        Some((p, ok)) if p == key => ok,
                        _ => {
                            let slot = recent_slot(v);
                            let ok = match recent[slot] {
                                Some((p, ok)) if p == v => ok,
                                _ => {
                                    let ok = targets.iter().any(|t| t.contains(v));
                                    recent[slot] = Some((v, ok));
                                    ok
                                }
                            };
                            prev = Some((key, ok));
                            ok
                        }
                    };
                    if !ok {
                        out.push(row);
                    }
                }
                j += arr.len();
            }
            out
        })
        .collect();
    subsidy_model::trace::lap(&format!("  {column} references checked"), t0);
    Ok(bad)
}

/// The cache slot of a referenced value: its length and last bytes, which vary between the
/// identifiers a child table repeats.
fn recent_slot(v: &str) -> usize {
    let b = v.as_bytes();
    let tail = b
        .iter()
        .rev()
        .take(4)
        .fold(b.len(), |a, &x| a.wrapping_mul(31) ^ x as usize);
    tail & 63
}
