//! Table-level checks after rows are parsed: duplicate primary keys (the first row is kept) and
//! orphan references (a row pointing at a key that no accepted row of the target table holds).

use std::collections::BTreeMap;

use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use polars::prelude::*;
use rayon::prelude::*;
use subsidy_model::contract::{ColType, Table, TableSpec};
use subsidy_model::money::format_yuan;

use crate::error::IngestError;
use crate::lines::Lines;
use crate::reject::{Reason, Rejection, clip};
use crate::rows::{Probe, RowTable};
use crate::string_views::{NO_VIEW, TextArray, view_slot};

/// The keys of a table's accepted rows: built once by the duplicate check and kept for the
/// reference checks of the tables that point at it. Holds row positions into the table's key
/// columns, so a lookup compares the text itself: exact, with no copy of the keys.
pub struct KeyIndex {
    parts: Vec<StringChunked>,
    rows: RowTable,
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

/// The text of a key column at `row` (a null reads as empty). The column is read across its
/// chunks where they lie (a decoded Parquet file has one per row group): stacking them into one
/// array would copy every key.
fn cell(part: &StringChunked, row: usize) -> &str {
    part.get(row).unwrap_or("")
}

fn row_key(parts: &[StringChunked], row: usize) -> impl Iterator<Item = &str> {
    parts.iter().map(move |p| cell(p, row))
}

/// How many values one batched lookup takes: enough for their memory loads to overlap.
const BATCH: usize = 32;

impl KeyIndex {
    /// Marks `found[k]` for each single-column key `vals[k]` that is present (at most [`BATCH`]
    /// values; `found` is only ever set, never cleared).
    fn contains_batch(&self, vals: &[&str], found: &mut [bool]) {
        let keys = &self.parts[0];
        let mut hashes = [0u64; BATCH];
        for (h, v) in hashes.iter_mut().zip(vals) {
            *h = hash_key(&self.state, std::iter::once(*v));
        }
        let hashes = &hashes[..vals.len()];
        self.rows
            .find_batch(hashes, found, |k, row| cell(keys, row as usize) == vals[k]);
    }

    /// Forgets the key of accepted row `row`, rejected after the duplicate check.
    fn forget(&mut self, row: usize) {
        let h = hash_key(&self.state, row_key(&self.parts, row));
        self.rows.remove(h, row as u32);
    }
}

/// Applies both checks to `df` (whose rows came from `lines`), returning the kept rows, the
/// rejections and, for a keyed table, the index of its accepted keys. `indexes` holds the
/// indexes of the tables already read.
pub fn keys_and_references(
    spec: &TableSpec,
    file: &str,
    df: DataFrame,
    lines: &Lines,
    indexes: &BTreeMap<Table, KeyIndex>,
) -> Result<(DataFrame, Vec<Rejection>, Option<KeyIndex>), IngestError> {
    // the reasons of the (few) rejected rows, by row
    let mut why: BTreeMap<usize, Why> = BTreeMap::new();

    // the duplicate check (one thread, in row order) runs beside the reference checks
    let (dups, orphans) = rayon::join(
        || {
            (!spec.key.is_empty())
                .then(|| duplicates(spec, &df, lines))
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
        why.extend(found);
        index = Some(idx);
    }
    for (r, bad) in spec.references.iter().zip(orphans?) {
        let col = df.column(r.column)?.str()?;
        let names: Vec<&str> = r.targets.iter().map(|t| t.name()).collect();
        for i in bad {
            if why.contains_key(&i) {
                continue;
            }
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

    if why.is_empty() {
        return Ok((df, Vec::new(), index));
    }
    let mut keep = vec![true; df.height()];
    for &i in why.keys() {
        keep[i] = false;
    }
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
                line: lines.get(i),
                column,
                value: clip(&value, 200),
                reason,
                message,
                record: clip(&crate::builder::join_record(&refs), 2000),
            });
        }
    }
    let t = std::time::Instant::now();
    let mask = BooleanChunked::from_slice("keep".into(), &keep);
    let kept = df.filter(&mask)?;
    subsidy_model::trace::lap(&format!("  {file}: {} rows set aside", rejected.len()), t);
    Ok((kept, rejected, index))
}

/// A rejected row's column, value, reason and message.
type Why = (String, String, Reason, String);

/// The index of `df`'s keys and its duplicate rows (all but the first of equal keys).
fn duplicates(
    spec: &TableSpec,
    df: &DataFrame,
    lines: &Lines,
) -> PolarsResult<(KeyIndex, Vec<(usize, Why)>)> {
    let t0 = std::time::Instant::now();
    let n = df.height();
    let parts: Vec<StringChunked> = spec
        .key
        .iter()
        .map(|k| Ok(df.column(k)?.cast(&DataType::String)?.str()?.clone()))
        .collect::<PolarsResult<_>>()?;
    let state = FixedState::with_seed(0x5eed);
    let hashes: Vec<u64> = (0..n)
        .into_par_iter()
        .map(|i| hash_key(&state, row_key(&parts, i)))
        .collect();
    let mut rows = RowTable::with_capacity(n);
    let mut found = Vec::new();
    for (i, &h) in hashes.iter().enumerate() {
        // in row order: of equal keys the first is kept. (Loading a later row's slot ahead of
        // time, as a plain load, stalled more than it overlapped: measured slower.)
        let same = |r: u32| row_key(&parts, r as usize).eq(row_key(&parts, i));
        let first = match rows.insert(h, i as u32, same) {
            Probe::Inserted => continue,
            Probe::Found(first) => first,
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
                    lines.get(first as usize)
                ),
            ),
        ));
    }
    subsidy_model::trace::lap(&format!("  {} duplicates checked", spec.key.join("+")), t0);
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
    let shares: Vec<(Vec<usize>, usize)> = (0..n)
        .into_par_iter()
        .step_by(step)
        .map(|a| {
            let b = (a + step).min(n);
            let slice = col.slice(a as i64, b - a);
            let mut share = Share::new(&targets);
            let mut out = Vec::new();
            let mut first = a;
            for (arr, chunk) in slice.downcast_iter().zip(slice.chunks()) {
                share.check(arr, chunk, first, &mut out);
                first += arr.len();
            }
            (out, share.looked_up)
        })
        .collect();
    let looked_up: usize = shares.iter().map(|s| s.1).sum();
    let bad: Vec<usize> = shares.into_iter().flat_map(|s| s.0).collect();
    subsidy_model::trace::lap(
        &format!("  {column} references checked ({looked_up} looked up)"),
        t0,
    );
    Ok(bad)
}

/// The rows a reference check looks at together: enough for the lookups of their new values to
/// be batched, few enough for their text to stay in cache until then.
const BLOCK: usize = 1 << 12;
const VIEW_SLOTS: usize = 512;
const TEXT_SLOTS: usize = 64;
/// A verdict: the value is a key of a target.
const FOUND: u32 = u32::MAX;
/// A verdict: the value is no key of any target.
const ORPHAN: u32 = u32::MAX - 1;

/// The reference check of one share of a child column. Child rows cycle through a few parents
/// (a class's roster, a person's days), so each row's value is first sought among recent ones:
/// by its string view (a decoded Parquet dictionary repeats one view for a repeated value, so
/// no text is read), then by its text. A value seen in neither is looked up in the targets,
/// batched with the other new values of the block. A cached state is a verdict ([`FOUND`],
/// [`ORPHAN`]) or the position of a lookup still pending in this block.
struct Share<'a> {
    targets: &'a [&'a KeyIndex],
    by_view: Vec<(u128, u32)>,
    by_text: [Option<(&'a str, u32)>; TEXT_SLOTS],
    pending: Vec<&'a str>,
    found: Vec<bool>,
    /// Rows of the block whose value's lookup is pending, with its position.
    waiting: Vec<(u32, u32)>,
    /// Values looked up in the targets (for the trace).
    looked_up: usize,
}

impl<'a> Share<'a> {
    fn new(targets: &'a [&'a KeyIndex]) -> Self {
        Share {
            targets,
            by_view: vec![(NO_VIEW, FOUND); VIEW_SLOTS],
            by_text: [None; TEXT_SLOTS],
            pending: Vec::new(),
            found: Vec::new(),
            waiting: Vec::new(),
            looked_up: 0,
        }
    }

    /// Appends to `out` the rows (numbered from `first`) of `arr` whose value is an orphan.
    /// `chunk` is the same array, untyped (it tells the null rows).
    fn check(&mut self, arr: &'a TextArray, chunk: &ArrayRef, first: usize, out: &mut Vec<usize>) {
        let views = arr.views();
        let nulls = chunk.validity().filter(|b| b.unset_bits() > 0);
        // a long value's view points into its own array's buffers: that cache starts afresh
        self.by_view.fill((NO_VIEW, FOUND));
        for start in (0..views.len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(views.len());
            // a row repeating the previous row's view (a class's sign-ins in a row) has its
            // state; only rows whose lookup is pending are kept for after the block's lookups
            let mut prev = (NO_VIEW, FOUND);
            for (k, view) in views[start..end].iter().enumerate() {
                let row = start + k;
                let key = view.as_u128();
                let state = if key == prev.0 {
                    prev.1
                } else {
                    if nulls.is_some_and(|b| !b.get_bit(row)) {
                        continue;
                    }
                    let vs = view_slot(key, VIEW_SLOTS);
                    let state = if self.by_view[vs].0 == key {
                        self.by_view[vs].1
                    } else {
                        let state = self.by_text(arr.value(row));
                        self.by_view[vs] = (key, state);
                        state
                    };
                    prev = (key, state);
                    state
                };
                match state {
                    FOUND => {}
                    ORPHAN => out.push(first + row),
                    at => self.waiting.push((row as u32, at)),
                }
            }
            self.resolve();
            for &(row, at) in &self.waiting {
                if !self.found[at as usize] {
                    out.push(first + row as usize);
                }
            }
            self.waiting.clear();
        }
    }

    /// The state of text `v`: a recent verdict, or a new pending lookup.
    fn by_text(&mut self, v: &'a str) -> u32 {
        let ts = recent_slot(v);
        match self.by_text[ts] {
            Some((p, state)) if p == v => state,
            _ => {
                self.pending.push(v);
                let state = (self.pending.len() - 1) as u32;
                self.by_text[ts] = Some((v, state));
                state
            }
        }
    }

    /// Looks the pending values up, a batch at a time, and turns the cached states that point
    /// at them into verdicts. `found` keeps the answers until the block's rows are read.
    fn resolve(&mut self) {
        self.found.clear();
        self.found.resize(self.pending.len(), false);
        self.looked_up += self.pending.len();
        for (vals, found) in self.pending.chunks(BATCH).zip(self.found.chunks_mut(BATCH)) {
            for t in self.targets {
                t.contains_batch(vals, found);
            }
        }
        let verdict = |state: u32, found: &[bool]| match state {
            FOUND | ORPHAN => state,
            at if found[at as usize] => FOUND,
            _ => ORPHAN,
        };
        for slot in self.by_view.iter_mut().filter(|s| s.0 != NO_VIEW) {
            slot.1 = verdict(slot.1, &self.found);
        }
        for (_, state) in self.by_text.iter_mut().flatten() {
            *state = verdict(*state, &self.found);
        }
        self.pending.clear();
    }
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
    tail & (TEXT_SLOTS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persons(ids: &[&str]) -> DataFrame {
        df! { "person_id" => ids }.expect("frame")
    }

    fn index(table: Table, df: &DataFrame) -> (KeyIndex, Vec<(usize, Why)>) {
        duplicates(table.spec(), df, &Lines::run(2, df.height())).expect("index")
    }

    /// The reference check against a plain reading: every row whose value is not a key.
    #[test]
    fn orphans_are_the_rows_whose_value_is_no_key_across_blocks_chunks_and_nulls() {
        let known = ["110105194912310021", "110105194912310047", "P1"];
        let (index, dups) = index(Table::Persons, &persons(&known));
        assert!(dups.is_empty());
        let indexes = BTreeMap::from([(Table::Persons, index)]);

        // runs, a roster cycle, nulls, short values and orphans, over more than one block and
        // in two chunks
        let mut a: Vec<Option<&str>> = Vec::new();
        for i in 0..3 * BLOCK {
            let v = match i % 7 {
                0 | 1 => Some(known[0]),
                2 => Some(known[1]),
                3 => None,
                4 => Some("P1"),
                5 => Some("P2"),
                _ => Some("110105194912310099"),
            };
            a.push(v);
        }
        let b = a.clone();
        let text = |v: &[Option<&str>]| {
            StringChunked::from_iter_options("person_id".into(), v.iter().copied())
        };
        let mut col = text(&a);
        col.append(&text(&b)).expect("append");
        assert_eq!(col.chunks().len(), 2);
        let child = DataFrame::new_infer_height(vec![col.into_column()]).expect("child");

        let mut got = orphans("person_id", &[Table::Persons], &child, &indexes).expect("check");
        got.sort_unstable();
        let want: Vec<usize> = a
            .iter()
            .chain(&b)
            .enumerate()
            .filter(|(_, v)| v.is_some_and(|v| !known.contains(&v)))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(got, want);

        // two chunks whose values share length, first bytes and buffer position, so that their
        // string views are bit for bit equal although the texts differ
        let mut col = text(&[Some(known[0])]);
        col.append(&text(&[Some("110199999999999999")]))
            .expect("append");
        let views: Vec<u128> = col
            .downcast_iter()
            .map(|a| a.views()[0].as_u128())
            .collect();
        assert_eq!(views[0], views[1]);
        let child = DataFrame::new_infer_height(vec![col.into_column()]).expect("child");
        let got = orphans("person_id", &[Table::Persons], &child, &indexes).expect("check");
        assert_eq!(got, vec![1], "the look-alike view in the second chunk");
    }

    /// Keys in several chunks (a Parquet file's row groups) are read where they lie: a key
    /// repeated in a later chunk is a duplicate naming the first one's line, and lookups find
    /// keys of every chunk.
    #[test]
    fn keys_across_chunks_are_checked_and_found_without_stacking_them() {
        let mut ids = StringChunked::from_slice("person_id".into(), &["A1", "B2"]);
        ids.append(&StringChunked::from_slice(
            "person_id".into(),
            &["C3", "A1"],
        ))
        .expect("append");
        ids.append(&StringChunked::from_slice("person_id".into(), &["D4"]))
            .expect("append");
        assert_eq!(ids.chunks().len(), 3);
        let people = DataFrame::new_infer_height(vec![ids.into_column()]).expect("frame");
        let (index, dups) = index(Table::Persons, &people);
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].0, 3);
        assert!(
            dups[0].1.3.contains("line 2 has the same key"),
            "{}",
            dups[0].1.3
        );
        let indexes = BTreeMap::from([(Table::Persons, index)]);
        let child = df! { "person_id" => ["D4", "C3", "B2", "A1", "E5"] }.expect("child");
        let got = orphans("person_id", &[Table::Persons], &child, &indexes).expect("check");
        assert_eq!(got, vec![4]);
    }

    #[test]
    fn a_value_is_found_in_any_of_several_targets() {
        let (people, _) = index(Table::Persons, &persons(&["A1"]));
        let orgs = df! { "institution_id" => ["B1"] }.expect("frame");
        let (orgs, _) = index(Table::Institutions, &orgs);
        let indexes = BTreeMap::from([(Table::Persons, people), (Table::Institutions, orgs)]);
        let child = df! { "claimant_id" => ["B1", "A1", "C1", "A1"] }.expect("child");
        let targets = [Table::Institutions, Table::Persons];
        let got = orphans("claimant_id", &targets, &child, &indexes).expect("check");
        assert_eq!(got, vec![2]);
    }
}
