//! The sample's random numbers: SplitMix64 (Steele, Lea & Flood 2014), written out here so that
//! a seed gives the same sample on every machine and in every version, and so that an auditor
//! can re-derive a draw from the seed the plan records.

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..m` (m ≥ 1), without modulo bias: draws that fall in the last,
    /// incomplete run of `m` are drawn again.
    pub fn below(&mut self, m: u64) -> u64 {
        debug_assert!(m > 0);
        let m = m.max(1);
        // 2^64 mod m: accepting x ≤ u64::MAX − r leaves a multiple of m values
        let r = (u64::MAX % m + 1) % m;
        loop {
            let x = self.next_u64();
            if x <= u64::MAX - r {
                return x % m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // the reference implementation's first outputs for seed 0
        let mut g = SplitMix64::new(0);
        assert_eq!(g.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(g.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut g = SplitMix64::new(7);
        let mut seen = [0u32; 5];
        for _ in 0..5_000 {
            seen[g.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (900..1100).contains(&c)), "{seen:?}");
    }
}
