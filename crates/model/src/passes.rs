//! Aggregations over the sign-ins in passes: the rows are split by a hash of a key column, each
//! pass aggregates the rows of its share of keys, and the results are stacked. A group keyed by
//! that column (or by it and more) never spans two passes, so the stacked result equals one
//! aggregation over all rows, while the aggregation's hash tables and group indices hold only a
//! share of the groups at a time. At 22M sign-ins one pass over everything took 3.5 GiB on top of
//! the frame it read.

use std::hash::BuildHasher;

use polars::prelude::*;

const PASS: &str = "__pass";

/// How many passes to make over `rows` rows: one per `rows_per_pass`, at most 8 (each pass reads
/// every row to filter its share).
pub fn pass_count(rows: usize, rows_per_pass: usize) -> usize {
    rows.div_ceil(rows_per_pass.max(1)).clamp(1, 8)
}

/// The default share of rows per pass.
pub const ROWS_PER_PASS: usize = 5_000_000;

/// Runs `aggregate` over `df` in [`pass_count`] passes split by the hash of the string column
/// `key` (a fixed seed: the same rows go to the same pass in every run) and stacks the results in
/// pass order. `aggregate` sees a lazy frame of `df`'s columns; a null key goes to pass 0. When
/// every key's rows are contiguous the passes are zero-copy slices cut at key changes instead.
/// `SUBSIDY_ROWS_PER_PASS` overrides `rows_per_pass` (for measuring the memory/time trade-off;
/// results are the same for any value).
pub fn aggregate_in_passes(
    df: &DataFrame,
    key: &str,
    rows_per_pass: usize,
    aggregate: impl Fn(LazyFrame) -> PolarsResult<DataFrame>,
) -> PolarsResult<DataFrame> {
    let rows_per_pass = std::env::var("SUBSIDY_ROWS_PER_PASS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(rows_per_pass);
    let passes = pass_count(df.height(), rows_per_pass);
    if passes == 1 {
        return aggregate(df.clone().lazy());
    }
    let keys = df.column(key)?.str()?.clone();
    let mut out: Option<DataFrame> = None;
    let mut stack = |part: DataFrame| -> PolarsResult<()> {
        match out.as_mut() {
            None => out = Some(part),
            Some(o) => {
                o.vstack_mut_owned(part)?;
            }
        }
        Ok(())
    };
    if let Some(cuts) = clustered_cuts(&keys, passes) {
        // each key's rows are contiguous: cut at key changes, zero-copy slices read in order
        for w in cuts.windows(2) {
            stack(aggregate(df.slice(w[0] as i64, w[1] - w[0]).lazy())?)?;
        }
    } else {
        let hasher = foldhash::fast::FixedState::with_seed(0x5eed);
        let pass = UInt32Chunked::from_iter_values(
            PASS.into(),
            keys.iter()
                .map(|v| v.map_or(0, |s| (hasher.hash_one(s) % passes as u64) as u32)),
        );
        let mut source = df.clone();
        source.with_column(pass.into_column())?;
        for k in 0..passes {
            let rows = source
                .clone()
                .lazy()
                .filter(col(PASS).eq(lit(k as u32)))
                .drop(cols([PASS]));
            stack(aggregate(rows)?)?;
        }
    }
    Ok(out.unwrap_or_default())
}

/// When every key's rows are contiguous (a table exported by class, say), the row offsets that
/// cut `keys` into about `passes` equal slices at key changes: `[0, …, len]`. `None` when some
/// key occurs in two separate runs.
fn clustered_cuts(keys: &StringChunked, passes: usize) -> Option<Vec<usize>> {
    let n = keys.len();
    let mut seen = std::collections::HashSet::new();
    let mut cuts = vec![0];
    let mut prev: Option<Option<&str>> = None;
    for (i, k) in keys.iter().enumerate() {
        if prev == Some(k) {
            continue;
        }
        if !seen.insert(k) {
            return None;
        }
        if i > 0 && i * passes >= cuts.len() * n {
            cuts.push(i);
        }
        prev = Some(k);
    }
    cuts.push(n);
    Some(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(df: &DataFrame) -> Vec<(String, i64)> {
        let k = df
            .column("k")
            .expect("test frame")
            .str()
            .expect("test frame");
        let v = df
            .column("v")
            .expect("test frame")
            .i64()
            .expect("test frame");
        let mut rows: Vec<(String, i64)> = k
            .iter()
            .zip(v.iter())
            .map(|(k, v)| (k.unwrap_or("∅").to_string(), v.expect("test frame")))
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn passes_give_the_one_pass_result() {
        let n = 1000;
        let keys: Vec<Option<String>> = (0..n)
            .map(|i| (i % 97 != 0).then(|| format!("K{}", i % 37)))
            .collect();
        let vals: Vec<i64> = (0..n as i64).collect();
        let df = df!("k" => keys, "v" => vals).expect("test frame");
        assert_eq!(pass_count(n, 100), 8);
        assert_passes_match(&df);
    }

    /// Sums per key in one pass and in eight give the same rows.
    fn assert_passes_match(df: &DataFrame) {
        let agg = |lf: LazyFrame| {
            lf.group_by([col("k")])
                .agg([col("v").sum().alias("v")])
                .collect()
        };
        let one = aggregate_in_passes(df, "k", usize::MAX, agg).expect("one pass");
        let many = aggregate_in_passes(df, "k", 100, agg).expect("passes");
        assert_eq!(many.height(), one.height());
        assert_eq!(sums(&many), sums(&one));
    }

    #[test]
    fn clustered_keys_are_cut_at_key_changes() {
        let n = 1000;
        let keys: Vec<String> = (0..n).map(|i| format!("K{:03}", i / 30)).collect();
        let vals: Vec<i64> = (0..n as i64).collect();
        let df = df!("k" => &keys, "v" => vals).expect("test frame");
        let ks = df
            .column("k")
            .expect("test frame")
            .str()
            .expect("test frame")
            .clone();
        let cuts = clustered_cuts(&ks, 4).expect("contiguous keys");
        assert_eq!(cuts.first(), Some(&0));
        assert_eq!(cuts.last(), Some(&n));
        assert_eq!(cuts.len(), 5, "{cuts:?}");
        for c in &cuts[1..cuts.len() - 1] {
            assert_ne!(keys[c - 1], keys[*c], "a cut inside a key's run at {c}");
        }
        assert_passes_match(&df);
        // a key that comes back after another: not clustered
        let back = df!("k" => ["A", "B", "A"]).expect("test frame");
        assert!(
            clustered_cuts(
                back.column("k")
                    .expect("test frame")
                    .str()
                    .expect("test frame"),
                2
            )
            .is_none()
        );
    }

    #[test]
    fn pass_count_is_bounded() {
        assert_eq!(pass_count(0, ROWS_PER_PASS), 1);
        assert_eq!(pass_count(ROWS_PER_PASS, ROWS_PER_PASS), 1);
        assert_eq!(pass_count(ROWS_PER_PASS + 1, ROWS_PER_PASS), 2);
        assert_eq!(pass_count(usize::MAX, 1), 8);
    }
}
