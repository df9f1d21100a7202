//! An open-addressing hash table of row numbers, for the key and reference checks.
//!
//! Each slot holds a row number and the high 32 bits of its key's hash (the tag), so a probe
//! reads the key's text only when the tags agree. Lookups come in batches whose loads are issued
//! together: at a million keys the table is far larger than the core's cache, and one lookup at a
//! time would wait for each load in turn.

/// A slot: tag in the high half, row + 1 in the low half; 0 is empty.
const EMPTY: u64 = 0;
/// A removed row's slot: probes go on past it.
const GONE: u64 = u64::MAX;
const TAG: u64 = 0xFFFF_FFFF_0000_0000;

/// What an insertion found.
#[derive(Debug, PartialEq, Eq)]
pub enum Probe {
    /// The row was added.
    Inserted,
    /// An equal key was there already, at this row.
    Found(u32),
}

/// Row numbers by key hash, equality decided by the caller (who holds the keys).
pub struct RowTable {
    slots: Slots,
    mask: usize,
}

/// Where the slots lie. A large table gets its own anonymous mapping, marked for transparent
/// huge pages: its probes land at random, and with 4 KiB pages each would miss the TLB as well
/// as the cache (a page-table walk, dearer still in a virtual machine). The rest of the process
/// keeps 4 KiB pages (huge pages everywhere cost the CSV scan 2 GiB of peak memory).
enum Slots {
    Owned(Vec<u64>),
    Mapped(memmap2::MmapMut),
}

/// From this size a table is mapped on its own (one huge page is 2 MiB).
const MAPPED_BYTES: usize = 4 << 20;

impl RowTable {
    /// A table for up to `n` rows (kept at most half full).
    pub fn with_capacity(n: usize) -> Self {
        let cap = (n.max(8) * 2).next_power_of_two();
        let bytes = cap * std::mem::size_of::<u64>();
        // a fresh anonymous mapping reads as zeros: every slot EMPTY. Should the mapping fail,
        // or the system refuse the advice, the table works the same on ordinary pages.
        let mapped = (bytes >= MAPPED_BYTES)
            .then(|| memmap2::MmapMut::map_anon(bytes).ok())
            .flatten()
            .inspect(|m| {
                let _ = m.advise(memmap2::Advice::HugePage);
            });
        let slots = match mapped {
            Some(m) => Slots::Mapped(m),
            None => Slots::Owned(vec![EMPTY; cap]),
        };
        RowTable {
            slots,
            mask: cap - 1,
        }
    }

    fn slots(&self) -> &[u64] {
        match &self.slots {
            Slots::Owned(v) => v,
            Slots::Mapped(m) => bytemuck::cast_slice(&m[..]),
        }
    }

    fn slots_mut(&mut self) -> &mut [u64] {
        match &mut self.slots {
            Slots::Owned(v) => v,
            Slots::Mapped(m) => bytemuck::cast_slice_mut(&mut m[..]),
        }
    }

    fn home(&self, h: u64) -> usize {
        h as usize & self.mask
    }

    fn slot(h: u64, row: u32) -> u64 {
        (h & TAG) | (u64::from(row) + 1)
    }

    /// The row in a live slot whose tag matches `h`.
    fn candidate(e: u64, h: u64) -> Option<u32> {
        (e != EMPTY && e != GONE && (e & TAG) == (h & TAG)).then(|| (e as u32).wrapping_sub(1))
    }

    /// Adds `row` under hash `h` unless a row with an equal key (`same(other)`) is there.
    pub fn insert(&mut self, h: u64, row: u32, same: impl Fn(u32) -> bool) -> Probe {
        debug_assert!(row < u32::MAX - 1);
        let mut s = self.home(h);
        loop {
            let e = self.slots()[s];
            if e == EMPTY {
                self.slots_mut()[s] = Self::slot(h, row);
                return Probe::Inserted;
            }
            if let Some(r) = Self::candidate(e, h)
                && same(r)
            {
                return Probe::Found(r);
            }
            s = (s + 1) & self.mask;
        }
    }

    /// The row with hash `h` whose key `same` accepts.
    #[cfg(test)]
    pub fn find(&self, h: u64, same: impl Fn(u32) -> bool) -> Option<u32> {
        self.probe_from(self.home(h), h, same)
    }

    /// Probes from slot `s` for hash `h`; `same(row)` decides a candidate.
    fn probe_from(&self, mut s: usize, h: u64, same: impl Fn(u32) -> bool) -> Option<u32> {
        loop {
            let e = self.slots()[s];
            if e == EMPTY {
                return None;
            }
            if let Some(r) = Self::candidate(e, h)
                && same(r)
            {
                return Some(r);
            }
            s = (s + 1) & self.mask;
        }
    }

    /// For each `hashes[k]` not yet `found`, sets `found[k]` when a row with that hash has a key
    /// `same(k, row)` accepts. Takes at most 64 hashes. The first slots of the whole batch are
    /// loaded in one short loop, so that their cache misses overlap, before any is compared.
    pub fn find_batch(
        &self,
        hashes: &[u64],
        found: &mut [bool],
        same: impl Fn(usize, u32) -> bool,
    ) {
        let mut first = [EMPTY; 64];
        for (f, &h) in first.iter_mut().zip(hashes) {
            *f = self.slots()[self.home(h)];
        }
        for (k, &h) in hashes.iter().enumerate() {
            if found[k] || first[k] == EMPTY {
                continue;
            }
            found[k] = match Self::candidate(first[k], h) {
                Some(r) if same(k, r) => true,
                _ => {
                    let next = (self.home(h) + 1) & self.mask;
                    self.probe_from(next, h, |r| same(k, r)).is_some()
                }
            };
        }
    }

    /// Removes `row`, stored under hash `h`.
    pub fn remove(&mut self, h: u64, row: u32) {
        let target = Self::slot(h, row);
        let mut s = self.home(h);
        loop {
            let e = self.slots()[s];
            if e == EMPTY {
                return;
            }
            if e == target {
                self.slots_mut()[s] = GONE;
                return;
            }
            s = (s + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys whose hashes collide in every bit the table uses, to exercise probing.
    fn keys() -> Vec<(u64, &'static str)> {
        vec![
            (0xAAAA_0000_0000_0001, "a"),
            (0xAAAA_0000_0000_0001, "b"),
            (0xBBBB_0000_0000_0001, "c"),
            (0x0000_0000_0000_0002, "d"),
        ]
    }

    fn table(ks: &[(u64, &str)]) -> RowTable {
        let mut t = RowTable::with_capacity(ks.len());
        for (i, (h, k)) in ks.iter().enumerate() {
            let same = |r: u32| ks[r as usize].1 == *k;
            assert_eq!(t.insert(*h, i as u32, same), Probe::Inserted);
        }
        t
    }

    #[test]
    fn inserts_finds_and_reports_the_first_of_equal_keys() {
        let ks = keys();
        let mut t = table(&ks);
        // "b" again: equal hash and tag as "a", told apart by the text
        let same = |r: u32| ks[r as usize].1 == "b";
        assert_eq!(t.insert(ks[1].0, 9, same), Probe::Found(1));
        for (i, (h, k)) in ks.iter().enumerate() {
            assert_eq!(t.find(*h, |r| ks[r as usize].1 == *k), Some(i as u32));
        }
        assert_eq!(t.find(ks[0].0, |r| ks[r as usize].1 == "z"), None);
    }

    #[test]
    fn a_batch_agrees_with_single_lookups_and_removal_keeps_later_rows_reachable() {
        let ks = keys();
        let mut t = table(&ks);
        t.remove(ks[0].0, 0);
        let asked = [
            (ks[0].0, "a"),
            (ks[1].0, "b"),
            (ks[2].0, "c"),
            (ks[3].0, "x"),
        ];
        let hashes: Vec<u64> = asked.iter().map(|a| a.0).collect();
        let same = |k: usize, r: u32| ks[r as usize].1 == asked[k].1;
        let mut found = [false; 4];
        t.find_batch(&hashes, &mut found, same);
        // "a" was removed; "b", probed past its slot, is still found
        assert_eq!(found, [false, true, true, false]);
        // an already found entry stays found
        let mut found = [true, false, false, false];
        t.find_batch(&hashes, &mut found, same);
        assert_eq!(found, [true, true, true, false]);
    }

    /// A table large enough for its own mapping (huge pages where the system grants them)
    /// starts empty and keeps every row: the same answers as on ordinary pages.
    #[test]
    fn a_large_mapped_table_starts_empty_and_finds_every_row() {
        let n = 300_000u32;
        let hash = |k: u32| {
            u64::from(k)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(17)
        };
        let mut t = RowTable::with_capacity(n as usize);
        assert!(matches!(t.slots, Slots::Mapped(_)));
        assert!(t.slots().iter().all(|&s| s == EMPTY));
        for k in 0..n {
            assert_eq!(t.insert(hash(k), k, |r| r == k), Probe::Inserted);
        }
        // row n repeats key 7
        assert_eq!(t.insert(hash(7), n, |r| r == 7), Probe::Found(7));
        let asked: Vec<u32> = (n - 40..n + 20).collect();
        let hashes: Vec<u64> = asked.iter().map(|&k| hash(k)).collect();
        for (a, h) in asked.chunks(30).zip(hashes.chunks(30)) {
            let mut found = vec![false; a.len()];
            t.find_batch(h, &mut found, |k, r| r == a[k]);
            let want: Vec<bool> = a.iter().map(|&k| k < n).collect();
            assert_eq!(found, want);
        }
        let small = RowTable::with_capacity(10);
        assert!(matches!(small.slots, Slots::Owned(_)));
    }
}
