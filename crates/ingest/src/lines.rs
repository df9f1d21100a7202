//! The source line of each accepted row. Only the rejections name lines (a duplicate key points
//! at the line it repeats), so the lines travel beside a table's frame while it is read and
//! checked, and are gone once it is: no column of them in the package. A file whose accepted
//! rows are consecutive lines (every Parquet or IPC file with no faulty row, most CSV files)
//! keeps only its first line.

/// Where each accepted row of a table came from in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lines {
    /// Row `i` is line `first + i`, for `len` rows.
    Run {
        /// The first row's line.
        first: u64,
        /// How many rows.
        len: usize,
    },
    /// Row `i` is line `lines[i]`.
    Listed(Vec<u64>),
}

impl Lines {
    /// `len` rows from consecutive lines, starting at `first`.
    pub fn run(first: u64, len: usize) -> Lines {
        Lines::Run { first, len }
    }

    /// The rows' lines, in row order: a [`Lines::Run`] when they are consecutive.
    pub fn new(lines: Vec<u64>) -> Lines {
        match lines.first() {
            None => Lines::run(1, 0),
            Some(&first) if lines.iter().zip(first..).all(|(&l, want)| l == want) => {
                Lines::run(first, lines.len())
            }
            Some(_) => Lines::Listed(lines),
        }
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Lines::Run { len, .. } => *len,
            Lines::Listed(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The line of row `row` (0 past the end).
    pub fn get(&self, row: usize) -> u64 {
        match self {
            Lines::Run { first, len } if row < *len => first + row as u64,
            Lines::Run { .. } => 0,
            Lines::Listed(v) => v.get(row).copied().unwrap_or(0),
        }
    }

    /// The lines of the rows whose `keep` is set (`keep` has a flag per row).
    pub fn filter(&self, keep: &[bool]) -> Lines {
        debug_assert_eq!(keep.len(), self.len());
        Lines::new(
            keep.iter()
                .enumerate()
                .filter(|(_, k)| **k)
                .map(|(i, _)| self.get(i))
                .collect(),
        )
    }

    /// The lines of tables stacked in order: one run while each part's run carries on from the
    /// last, listed (every line written out) only from the first part that does not.
    pub fn concat(parts: Vec<Lines>) -> Lines {
        let mut run: Option<(u64, usize)> = None;
        let carries_on = parts.iter().all(|p| match (p, &mut run) {
            (Lines::Run { len: 0, .. }, _) => true,
            (Lines::Run { first, len }, None) => {
                run = Some((*first, *len));
                true
            }
            (Lines::Run { first, len }, Some((start, n))) if *first == *start + *n as u64 => {
                *n += len;
                true
            }
            _ => false,
        });
        if carries_on {
            let (first, len) = run.unwrap_or((1, 0));
            return Lines::run(first, len);
        }
        let mut all = Vec::with_capacity(parts.iter().map(Lines::len).sum());
        for p in &parts {
            all.extend((0..p.len()).map(|i| p.get(i)));
        }
        Lines::new(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_lines_are_kept_as_a_run_and_others_listed() {
        assert_eq!(Lines::new(vec![5, 6, 7]), Lines::run(5, 3));
        assert_eq!(Lines::new(vec![]), Lines::run(1, 0));
        let listed = Lines::new(vec![2, 3, 5]);
        assert_eq!(listed, Lines::Listed(vec![2, 3, 5]));
        assert_eq!((listed.get(2), listed.get(3)), (5, 0));
        let run = Lines::run(2, 3);
        assert_eq!((run.get(0), run.get(2), run.get(3)), (2, 4, 0));
    }

    #[test]
    fn filtering_and_stacking_keep_each_rows_line() {
        let run = Lines::run(2, 5);
        assert_eq!(
            run.filter(&[true, false, true, true, false]),
            Lines::Listed(vec![2, 4, 5])
        );
        assert_eq!(
            run.filter(&[false, true, true, true, true]),
            Lines::run(3, 4)
        );
        // two CSV chunks: the second starts after a quoted field that spans two lines
        let stacked = Lines::concat(vec![Lines::run(2, 3), Lines::run(6, 2)]);
        assert_eq!(stacked, Lines::Listed(vec![2, 3, 4, 6, 7]));
        assert_eq!(
            Lines::concat(vec![Lines::run(2, 3), Lines::run(5, 2)]),
            Lines::run(2, 5)
        );
        assert_eq!(
            Lines::concat(vec![
                Lines::run(1, 0),
                Lines::run(2, 3),
                Lines::run(9, 0),
                Lines::run(5, 1)
            ]),
            Lines::run(2, 4)
        );
        assert_eq!(
            Lines::concat(vec![Lines::Listed(vec![2, 4]), Lines::run(5, 2)]),
            Lines::Listed(vec![2, 4, 5, 6])
        );
        assert_eq!(Lines::concat(vec![]), Lines::run(1, 0));
    }
}
