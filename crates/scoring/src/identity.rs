//! Identity resolution: which records are one real person, by a Fellegi–Sunter model whose
//! parameters are estimated from the data itself (no labels).
//!
//! [`link_with`] works on any [`Record`] (the persons table through [`resolve_with`], or a
//! record-linkage benchmark): names, birth date, an identifier, phone, bank account, address,
//! hukou region, gender.
//!
//! **Blocking** is a union of rules, each counted in the [`LinkReport`]: birth date with the
//! first character of either name part; the resident ID's region and birth segment (its first 14
//! characters); phone; bank account; the whole name with the region (hukou, else the ID's first
//! six characters); the whole name (parts in either order); the address's first eight
//! characters; and sorted neighbourhoods ([`LinkConfig::window`]) on the identifier read forwards
//! and backwards (a typo late or early in the number) and on the name (names not identical). A block of more than
//! [`LinkConfig::max_block`] records is skipped (a key shared that widely identifies no one), and
//! the pairs it would have produced are counted.
//!
//! **Comparison** gives each field a level ([`NameLevel`], [`DateLevel`], [`IdLevel`],
//! [`AddressLevel`], [`RegionLevel`], [`ExactLevel`]); a field missing on either side has no level
//! and contributes weight 0. A level's match weight is log2(m/u): m = P(level | same person),
//! u = P(level | two people). Two addresses whose numbers (the runs of digits: house, building,
//! room) differ are another home on the same street: at most [`AddressLevel::Medium`], however
//! alike the rest (人民路292号 and 人民路2号 are neighbours, not one home).
//!
//! **Estimation.** u comes from [`LinkConfig::u_samples`] random pairs drawn with
//! [`LinkConfig::seed`]. An 18-character resident ID embeds the birth date and the region code,
//! which the birth-date and hukou fields already count. So the identifier's u has four tables,
//! one per context (do the pair's birth dates agree exactly? its hukou codes?): in a context
//! where they agree, the other record's ID is compared as if it shared this one's birth and/or
//! region segment. Two strangers born one day in one district, IDs two positions apart, are then
//! one coincidence (birth and hukou), not three. (The `different` level keeps the plain table.)
//!
//! m is estimated by EM on the candidate pairs, u held fixed, one keyed blocking rule at a time:
//! the pairs a rule produced, with the fields that rule compared left out (a pair found through
//! its birth date says nothing about how often true matches share one; this is how Splink
//! trains m). A rule's estimate counts only when its latent class is one of duplicates: P(match)
//! among its pairs at least 0.5, and the class's evidence (the Kullback-Leibler divergence of m
//! from u over the fields it estimates, in bits) at least log2(records), what it takes to single
//! one record out. A rule whose pairs are mostly strangers lets EM settle on m = u (a class every
//! pair fits, evidence near 0) or drift to whatever correlates (one district, one household);
//! such a rule teaches nothing. A field's m is the average over the rules that teach it,
//! weighted by their expected matches; a field no rule teaches keeps the starting m. EM starts
//! from m = 0.85 on the best level, 0.05 on "different" and the rest shared among the levels
//! between, with P(match | candidate) = 0.1, and stops when neither m nor P(match) moves by more
//! than 1e-6 (or after [`LinkConfig::em_iterations`]). m is floored at 1e-3, so no single field
//! can veto by more than about 10 bits. With m fixed, a last EM run over all candidates gives
//! P(match | candidate); the prior, log2 of the odds that two random records match, is the
//! expected number of matches among the candidates over all N(N−1)/2 pairs.
//!
//! **Term frequencies.** An exact name agreement weighs log2(m / f), f the share of records
//! bearing that name: 王伟 shared by thousands is weak evidence, a rare name strong.
//!
//! **Decision.** A pair merges when its match probability reaches [`LinkConfig::threshold`],
//! except in two patterns of two people that the model's independence cannot see:
//! - *two IDs as issued*: both 18 characters that pass their check, sharing the region and
//!   birth segment and differing in the sequence (twins, namesakes born the same day in one
//!   place), no phone or bank account agreeing, and a phone or account differing or the given
//!   name more than a typo apart (李明 and 李铭 are the sibling pattern);
//! - *one household*: the given names (a CJK name: the whole name) wholly different, a phone or
//!   account differing and none agreeing. Birth date, address and an ID of one district and day
//!   are what twins share; a re-registration keeps its name within a typo, or its phone.
//!
//! Such a pair never merges, and (but for a two-IDs pair with no contact differing) it is a
//! cannot-link for the clusters too. Merges are closed transitively (union-find over the
//! accepted pairs, strongest first); two clusters never join when a cannot-link pair would end
//! up inside one. Each identity is named by its smallest key. Confidence: the best accepted
//! pair's match probability; 1.0 for a record alone.
//!
//! Written by hand: no maintained Rust crate estimates Fellegi–Sunter parameters by EM (the
//! references are Python: recordlinkage's ECM and Splink); Jaro-Winkler comes from strsim.

use std::collections::HashMap;
use std::hash::BuildHasher;

use chrono::NaiveDate;
use polars::prelude::*;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use subsidy_model::ids::{id_birth_date, id_check_char};

use crate::ScoringError;

/// One record, as identity resolution compares it.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// the record's own key (person_id); identities are named by the smallest
    pub key: String,
    /// the name, or the given name where the surname is a field of its own
    pub given: String,
    /// the surname; empty where the name is one field (Chinese names)
    pub surname: String,
    /// birth date as YYYYMMDD
    pub birth: Option<String>,
    /// an identifier (resident ID, social security number)
    pub id: String,
    /// `Some(passes)` when the identifier carries a check character
    pub id_valid: Option<bool>,
    /// phone number
    pub phone: Option<String>,
    /// bank account
    pub account: Option<String>,
    /// address
    pub address: Option<String>,
    /// hukou region code
    pub hukou: Option<String>,
    /// gender as recorded (`m`, `f`)
    pub gender: Option<String>,
}

/// Settings of the linker, kept in the rule pack's `[identity]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkConfig {
    /// the match probability at which a pair merges
    pub threshold: f64,
    /// the seed of the random pairs u is estimated from
    pub seed: u64,
    /// how many random pairs u is estimated from
    pub u_samples: usize,
    /// blocks of more records than this are skipped (and counted)
    pub max_block: usize,
    /// the sorted neighbourhood's window: each record meets this many next ones
    pub window: usize,
    /// at most this many EM iterations
    pub em_iterations: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            threshold: 0.5,
            seed: 0x5eed_1d,
            u_samples: 400_000,
            max_block: 40,
            window: 4,
            em_iterations: 200,
        }
    }
}

macro_rules! levels {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// the levels' labels, in order
            pub const LABELS: &'static [&'static str] = &[$($label),+];
            /// this level's label
            pub fn label(self) -> &'static str {
                Self::LABELS[self as usize]
            }
        }
    };
}

levels!(
    /// How two name parts compare.
    NameLevel {
        /// the same text
        Exact => "exact",
        /// given name and surname swapped (or a CJK name's characters reordered)
        Swapped => "swapped",
        /// Jaro-Winkler at least 0.92
        Jw92 => "jaro_winkler_0.92",
        /// Jaro-Winkler at least 0.80
        Jw80 => "jaro_winkler_0.80",
        /// a CJK name of one length with one character different (a look-alike or homophone)
        OneCharacter => "one_character_apart",
        /// anything else
        Different => "different",
    }
);
levels!(
    /// How two birth dates compare.
    DateLevel {
        /// the same date
        Exact => "exact",
        /// one digit different, or two neighbouring digits swapped
        OneTypo => "one_typo",
        /// day and month swapped
        DayMonthSwapped => "day_month_swapped",
        /// anything else
        Different => "different",
    }
);
levels!(
    /// How two identifiers compare.
    IdLevel {
        /// the same identifier
        Exact => "exact",
        /// one or two positions apart (or two neighbours swapped), and one of them fails its
        /// check character or neither carries one: a mistyped number
        Typo => "typo_check_fails",
        /// one or two positions apart, both pass their check
        NearBothValid => "near_both_valid",
        /// resident IDs with the same region and birth segment, otherwise apart
        SameRegionBirth => "same_region_birth",
        /// anything else
        Different => "different",
    }
);
levels!(
    /// How two addresses compare (Dice coefficient over character bigrams).
    AddressLevel {
        /// the same text
        Exact => "exact",
        /// bigram similarity at least 0.88, the same house numbers
        High => "bigrams_0.88",
        /// bigram similarity at least 0.70
        Medium => "bigrams_0.70",
        /// anything else
        Different => "different",
    }
);
levels!(
    /// How two region codes compare.
    RegionLevel {
        /// the same code
        Exact => "exact",
        /// the same first four digits (prefecture)
        SameCity => "same_city",
        /// anything else
        Different => "different",
    }
);
levels!(
    /// How two values compared for equality only (phone, account, gender) compare.
    ExactLevel {
        /// the same value
        Exact => "exact",
        /// different values
        Different => "different",
    }
);

/// The fields compared, in the order of a comparison vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// the given name (the whole name for CJK names)
    Given,
    /// the surname
    Surname,
    /// birth date
    Birth,
    /// resident ID / identifier
    Id,
    /// phone
    Phone,
    /// bank account
    Account,
    /// address
    Address,
    /// hukou region
    Hukou,
    /// gender
    Gender,
}

const NF: usize = 9;
const NULL: u8 = u8::MAX;

impl Field {
    /// every field, in vector order
    pub const ALL: [Field; NF] = [
        Field::Given,
        Field::Surname,
        Field::Birth,
        Field::Id,
        Field::Phone,
        Field::Account,
        Field::Address,
        Field::Hukou,
        Field::Gender,
    ];
    /// the field's name in explanations
    pub fn name(self) -> &'static str {
        match self {
            Field::Given => "name",
            Field::Surname => "surname",
            Field::Birth => "birth_date",
            Field::Id => "resident_id",
            Field::Phone => "phone",
            Field::Account => "bank_account",
            Field::Address => "address",
            Field::Hukou => "hukou_region",
            Field::Gender => "gender",
        }
    }
    /// the field's level labels
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Given | Field::Surname => NameLevel::LABELS,
            Field::Birth => DateLevel::LABELS,
            Field::Id => IdLevel::LABELS,
            Field::Address => AddressLevel::LABELS,
            Field::Hukou => RegionLevel::LABELS,
            Field::Phone | Field::Account | Field::Gender => ExactLevel::LABELS,
        }
    }
    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// One pair's comparison: a level per field, `None` where either side is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Comparison {
    /// given name (whole CJK name)
    pub given: Option<NameLevel>,
    /// surname
    pub surname: Option<NameLevel>,
    /// birth date
    pub birth: Option<DateLevel>,
    /// identifier
    pub id: Option<IdLevel>,
    /// phone
    pub phone: Option<ExactLevel>,
    /// bank account
    pub account: Option<ExactLevel>,
    /// address
    pub address: Option<AddressLevel>,
    /// hukou region
    pub hukou: Option<RegionLevel>,
    /// gender
    pub gender: Option<ExactLevel>,
}

impl Comparison {
    /// The level indices in field order, `u8::MAX` where missing.
    fn codes(&self) -> [u8; NF] {
        fn c<T: Copy + Into<u8>>(x: Option<T>) -> u8 {
            x.map_or(NULL, Into::into)
        }
        [
            c(self.given),
            c(self.surname),
            c(self.birth),
            c(self.id),
            c(self.phone),
            c(self.account),
            c(self.address),
            c(self.hukou),
            c(self.gender),
        ]
    }
}

macro_rules! into_u8 {
    ($($t:ty),+) => {$(impl From<$t> for u8 { fn from(x: $t) -> u8 { x as u8 } })+};
}
into_u8!(
    NameLevel,
    DateLevel,
    IdLevel,
    AddressLevel,
    RegionLevel,
    ExactLevel
);

/// A record prepared for comparison (normalised once, compared many times).
struct Prep {
    given: Box<str>,
    surname: Box<str>,
    cjk: bool,
    birth: Option<[u8; 8]>,
    id: Box<[u8]>,
    id_valid: Option<bool>,
    /// an 18-character ID that passes its check and carries a real birth date: a number as issued
    id_issued: bool,
    phone: Option<u64>,
    account: Option<u64>,
    /// the address's hash, sorted bigram hashes, and the hash of its first eight characters
    address: Option<(u64, Box<[u32]>, u64)>,
    /// the hash of the address's numbers (house, building, room), `None` without any
    address_numbers: Option<u64>,
    hukou: Option<Box<[u8]>>,
    gender: Option<u8>,
}

fn hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x1d)
}

fn prepare(r: &Record) -> Prep {
    let st = hasher();
    let norm = |s: &str| -> String {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let cjk = !r.given.is_ascii() || !r.surname.is_ascii();
    let (given, surname) = if cjk {
        // one field, surname first, written without spaces
        let full: String = format!("{}{}", r.surname, r.given)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        (full, String::new())
    } else if r.surname.trim().is_empty() {
        // a Latin name in one field: the last word is the surname
        let g = norm(&r.given);
        match g.rsplit_once(' ') {
            Some((a, b)) => (a.to_string(), b.to_string()),
            None => (g, String::new()),
        }
    } else {
        (norm(&r.given), norm(&r.surname))
    };
    let birth = r.birth.as_deref().and_then(|b| {
        let b = b.as_bytes();
        (b.len() == 8 && b.iter().all(u8::is_ascii_digit) && b != b"00000000").then(|| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            a
        })
    });
    let id: Box<[u8]> = r.id.trim().to_ascii_uppercase().into_bytes().into();
    let text = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| st.hash_one(s))
    };
    let address = r
        .address
        .as_deref()
        .map(norm)
        .filter(|a| !a.is_empty())
        .map(|a| {
            let cs: Vec<char> = a.chars().collect();
            let mut grams: Vec<u32> = cs
                .windows(2)
                .map(|w| (st.hash_one((w[0], w[1])) >> 32) as u32)
                .collect();
            if grams.is_empty() {
                grams.push((st.hash_one(&a) >> 32) as u32);
            }
            grams.sort_unstable();
            // the street: the first eight letters, house numbers, spaces and punctuation left
            // out, so a mistyped or new house number on one street still meets
            // (an address of digits alone keys on all of it)
            let start: String = a.chars().filter(|c| c.is_alphabetic()).take(8).collect();
            let start = if start.is_empty() { a.clone() } else { start };
            (
                st.hash_one(&a),
                grams.into_boxed_slice(),
                st.hash_one(start),
            )
        });
    // the runs of digits in the address, in order: 人民路292号 → 292, "8 stanley street" → 8
    let address_numbers = r.address.as_deref().and_then(|a| {
        let runs: Vec<&str> = a
            .split(|c: char| !c.is_ascii_digit())
            .filter(|r| !r.is_empty())
            .collect();
        (!runs.is_empty()).then(|| st.hash_one(&runs))
    });
    let id_issued = r.id_valid == Some(true)
        && id.len() == 18
        && std::str::from_utf8(&id)
            .ok()
            .and_then(id_birth_date)
            .is_some();
    Prep {
        id_issued,
        address_numbers,
        given: given.into(),
        surname: surname.into(),
        cjk,
        birth,
        id,
        id_valid: r.id_valid,
        phone: text(&r.phone),
        account: text(&r.account),
        address,
        hukou: r
            .hukou
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| h.as_bytes().into()),
        gender: r
            .gender
            .as_deref()
            .and_then(|g| g.trim().bytes().next())
            .map(|g| g.to_ascii_lowercase()),
    }
}

/// Positions where two equal-length byte strings differ, up to 3.
fn differing(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).take(3).count()
}

/// Whether two equal-length byte strings differ by one swap of neighbours.
fn neighbours_swapped(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = a.iter().zip(b).enumerate().filter(|(_, (x, y))| x != y);
    match (d.next(), d.next(), d.next()) {
        (Some((i, _)), Some((j, _)), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
        _ => false,
    }
}

fn jw_level(a: &str, b: &str) -> NameLevel {
    if a == b {
        return NameLevel::Exact;
    }
    let s = strsim::jaro_winkler(a, b);
    if s >= 0.92 {
        NameLevel::Jw92
    } else if s >= 0.80 {
        NameLevel::Jw80
    } else {
        NameLevel::Different
    }
}

fn cjk_level(a: &str, b: &str) -> NameLevel {
    if a == b {
        return NameLevel::Exact;
    }
    if a.chars().count() != b.chars().count() {
        return NameLevel::Different;
    }
    if a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() == 1 {
        return NameLevel::OneCharacter;
    }
    // the same characters in another order (given name written first)
    let mut x: Vec<char> = a.chars().collect();
    let mut y: Vec<char> = b.chars().collect();
    x.sort_unstable();
    y.sort_unstable();
    if x == y {
        NameLevel::Swapped
    } else {
        NameLevel::Different
    }
}

fn goodness(l: Option<NameLevel>) -> u8 {
    match l {
        Some(NameLevel::Exact) => 6,
        Some(NameLevel::Swapped) => 5,
        Some(NameLevel::Jw92) => 4,
        Some(NameLevel::Jw80) => 3,
        Some(NameLevel::OneCharacter) => 3,
        Some(NameLevel::Different) | None => 0,
    }
}

fn name_levels(a: &Prep, b: &Prep) -> (Option<NameLevel>, Option<NameLevel>) {
    let part = |x: &str, y: &str, f: fn(&str, &str) -> NameLevel| {
        (!x.is_empty() && !y.is_empty()).then(|| f(x, y))
    };
    if a.cjk || b.cjk {
        let g = part(&a.given, &b.given, cjk_level);
        return (g, None);
    }
    let straight = (
        part(&a.given, &b.given, jw_level),
        part(&a.surname, &b.surname, jw_level),
    );
    let s = goodness(straight.0) + goodness(straight.1);
    if s >= 12 {
        return straight;
    }
    let crossed = (
        part(&a.given, &b.surname, jw_level),
        part(&a.surname, &b.given, jw_level),
    );
    let c = goodness(crossed.0) + goodness(crossed.1);
    if c > s && (goodness(crossed.0) >= 4 || goodness(crossed.1) >= 4) {
        let sw = |l: Option<NameLevel>| {
            l.map(|l| {
                if l == NameLevel::Exact {
                    NameLevel::Swapped
                } else {
                    l
                }
            })
        };
        (sw(crossed.0), sw(crossed.1))
    } else {
        straight
    }
}

fn date_level(a: &[u8; 8], b: &[u8; 8]) -> DateLevel {
    if a == b {
        DateLevel::Exact
    } else if differing(a, b) == 1 || neighbours_swapped(a, b) {
        DateLevel::OneTypo
    } else if a[..4] == b[..4] && a[4..6] == b[6..8] && a[6..8] == b[4..6] {
        DateLevel::DayMonthSwapped
    } else {
        DateLevel::Different
    }
}

fn id_level(a: &Prep, b: &Prep) -> Option<IdLevel> {
    id_level_raw(&a.id, a.id_valid, &b.id, b.id_valid)
}

fn id_level_raw(x: &[u8], vx: Option<bool>, y: &[u8], vy: Option<bool>) -> Option<IdLevel> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    if x == y {
        return Some(IdLevel::Exact);
    }
    if x.len() == y.len() && (differing(x, y) <= 2 || neighbours_swapped(x, y)) {
        return Some(match (vx, vy) {
            (Some(true), Some(true)) => IdLevel::NearBothValid,
            _ => IdLevel::Typo,
        });
    }
    if x.len() == 18 && y.len() == 18 && x[..14] == y[..14] {
        return Some(IdLevel::SameRegionBirth);
    }
    Some(IdLevel::Different)
}

/// Dice coefficient of two sorted bigram multisets.
fn dice(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (a.len() + b.len()).max(1) as f64
}

fn compare(a: &Prep, b: &Prep) -> Comparison {
    let (given, surname) = name_levels(a, b);
    let eq = |x: Option<u64>, y: Option<u64>| match (x, y) {
        (Some(x), Some(y)) => Some(if x == y {
            ExactLevel::Exact
        } else {
            ExactLevel::Different
        }),
        _ => None,
    };
    Comparison {
        given,
        surname,
        birth: match (&a.birth, &b.birth) {
            (Some(x), Some(y)) => Some(date_level(x, y)),
            _ => None,
        },
        id: id_level(a, b),
        phone: eq(a.phone, b.phone),
        account: eq(a.account, b.account),
        address: match (&a.address, &b.address) {
            (Some((hx, gx, _)), Some((hy, gy, _))) => Some(if hx == hy {
                AddressLevel::Exact
            } else {
                let d = dice(gx, gy);
                // other house numbers are another home on the same street, however alike the
                // rest: at most the medium level (人民路292号 and 人民路2号)
                let other_home = matches!(
                    (a.address_numbers, b.address_numbers),
                    (Some(x), Some(y)) if x != y
                );
                if d >= 0.88 && !other_home {
                    AddressLevel::High
                } else if d >= 0.70 {
                    AddressLevel::Medium
                } else {
                    AddressLevel::Different
                }
            }),
            _ => None,
        },
        hukou: match (&a.hukou, &b.hukou) {
            (Some(x), Some(y)) => Some(if x == y {
                RegionLevel::Exact
            } else if x.len() >= 4 && y.len() >= 4 && x[..4] == y[..4] {
                RegionLevel::SameCity
            } else {
                RegionLevel::Different
            }),
            _ => None,
        },
        gender: eq(a.gender.map(u64::from), b.gender.map(u64::from)),
    }
}

/// Whether the pair is two resident IDs as issued, and nothing says otherwise: both pass their
/// check and carry a real birth date, share the region and birth segment and differ in the sequence (twins, namesakes born the
/// same day in one place), no phone or bank account agrees, and either a phone or account on
/// both sides differs, or the given name (a CJK name: the whole name) is more than a typo apart
/// ([`NameLevel::Different`], or [`NameLevel::OneCharacter`]: 李明 and 李铭 are the sibling
/// pattern). Such a pair is two people:
/// `Some(true)` when a phone or account differs (hard evidence, a cannot-link for the clusters
/// too), `Some(false)` otherwise (the pair alone is not merged).
fn two_issued_ids(a: &Prep, b: &Prep, c: &Comparison) -> Option<bool> {
    let ids = a.id_issued && b.id_issued && a.id != b.id && a.id[..14] == b.id[..14];
    let apart =
        |l: Option<NameLevel>| matches!(l, Some(NameLevel::Different | NameLevel::OneCharacter));
    // siblings share a surname and differ in the given name; a changed surname is another
    // pattern (marriage, a typo), not this one
    let names_apart = apart(c.given);
    let contact = c.phone == Some(ExactLevel::Exact) || c.account == Some(ExactLevel::Exact);
    let contact_apart =
        c.phone == Some(ExactLevel::Different) || c.account == Some(ExactLevel::Different);
    (ids && !contact && (contact_apart || names_apart)).then_some(contact_apart)
}

/// Whether the pair is two people of one household: the given names (a CJK name: the whole
/// name) wholly different (not a typo, a variant or a swap: [`NameLevel::Different`]), a phone or bank account on both sides that
/// differs, and none that agrees. A re-registration keeps its name within a typo or a look-alike
/// character, or keeps its phone; what is left (one birth date, one address, IDs of one
/// district and day) is what twins share. Such a pair is a cannot-link, however much else
/// agrees: Fellegi-Sunter adds those shared fields as if independent, and they are not within a
/// family.
fn household(c: &Comparison) -> bool {
    // the given name (a CJK name: the whole name); siblings share the surname
    let names_apart = c.given == Some(NameLevel::Different);
    let contact = c.phone == Some(ExactLevel::Exact) || c.account == Some(ExactLevel::Exact);
    let contact_apart =
        c.phone == Some(ExactLevel::Different) || c.account == Some(ExactLevel::Different);
    names_apart && contact_apart && !contact
}

/// One blocking rule's counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleCount {
    /// the rule
    pub rule: &'static str,
    /// pairs it produced (before pairs found by several rules are merged)
    pub pairs: u64,
    /// blocks over the cap, skipped
    pub blocks_skipped: u64,
    /// the pairs those blocks would have produced
    pub pairs_skipped: u64,
}

/// What the linker did: blocking counts, the estimated parameters, the decisions.
#[derive(Debug, Clone, Serialize)]
pub struct LinkReport {
    /// records linked
    pub records: usize,
    /// per blocking rule
    pub rules: Vec<RuleCount>,
    /// distinct candidate pairs compared
    pub candidates: u64,
    /// EM iterations run
    pub em_iterations: usize,
    /// P(match) among the candidate pairs, as EM left it
    pub lambda_candidates: f64,
    /// the prior match weight: log2 of the odds that two random records match
    pub prior_weight: f64,
    /// per field: (level, m, u, weight)
    pub parameters: Vec<(&'static str, Vec<(&'static str, f64, f64, f64)>)>,
    /// pairs at or above the threshold
    pub pairs_above_threshold: u64,
    /// pairs at or above the threshold kept apart as two issued IDs
    pub pairs_vetoed: u64,
    /// pairs not merged because a cannot-link pair would fall into one cluster
    pub merges_refused: u64,
}

/// One field of an explained pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldWeight {
    /// the field
    pub field: &'static str,
    /// its comparison level (`null`: missing on either side)
    pub level: &'static str,
    /// its match weight (bits)
    pub weight: f64,
}

/// Why two records were merged: a waterfall of match weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// the other record's index
    #[serde(skip)]
    pub other: usize,
    /// the prior weight
    pub prior: f64,
    /// every field's level and weight
    pub fields: Vec<FieldWeight>,
    /// prior plus the field weights
    pub match_weight: f64,
    /// 1 / (1 + 2^-match_weight)
    pub match_probability: f64,
}

/// How one record was linked.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// the index of the record naming the identity (the smallest key)
    pub identity: usize,
    /// 1.0 alone; else the best merged pair's match probability
    pub confidence: f64,
    /// the merged pairs this record is part of, strongest first
    pub matched: Vec<Explanation>,
}

struct Model {
    /// weights per field and level (log2 m/u; the identifier's in its plain context)
    w: [Vec<f64>; NF],
    m: [Vec<f64>; NF],
    u: U,
    prior: f64,
    lambda: f64,
    iterations: usize,
}

/// Term frequencies of the name parts: share of records per value.
struct Tf {
    given: HashMap<Box<str>, u32, foldhash::fast::FixedState>,
    surname: HashMap<Box<str>, u32, foldhash::fast::FixedState>,
    n: f64,
}

impl Tf {
    fn new(p: &[Prep]) -> Tf {
        let mut given = HashMap::with_hasher(hasher());
        let mut surname = HashMap::with_hasher(hasher());
        for r in p {
            if !r.given.is_empty() {
                *given.entry(r.given.clone()).or_insert(0) += 1;
            }
            if !r.surname.is_empty() {
                *surname.entry(r.surname.clone()).or_insert(0) += 1;
            }
        }
        Tf {
            given,
            surname,
            n: p.len().max(1) as f64,
        }
    }
    fn share(&self, f: Field, v: &str) -> f64 {
        let t = if f == Field::Given {
            &self.given
        } else {
            &self.surname
        };
        f64::from(t.get(v).copied().unwrap_or(1).max(1)) / self.n
    }
}

/// The blocking rules, each with the fields its pairs agree on (left out of EM for them).
const RULES: [(&str, u16); 10] = [
    (
        "birth_date+name_initial",
        Field::Birth.bit() | Field::Given.bit() | Field::Surname.bit(),
    ),
    (
        "id_region+birth",
        Field::Id.bit() | Field::Birth.bit() | Field::Hukou.bit(),
    ),
    ("phone", Field::Phone.bit()),
    ("bank_account", Field::Account.bit()),
    (
        "name+region",
        Field::Given.bit() | Field::Surname.bit() | Field::Hukou.bit(),
    ),
    ("name", Field::Given.bit() | Field::Surname.bit()),
    ("address_start", Field::Address.bit()),
    (
        "id_sorted_neighbourhood",
        Field::Id.bit() | Field::Birth.bit() | Field::Hukou.bit(),
    ),
    (
        "id_reversed_neighbourhood",
        Field::Id.bit() | Field::Birth.bit() | Field::Hukou.bit(),
    ),
    (
        "name_sorted_neighbourhood",
        Field::Given.bit() | Field::Surname.bit(),
    ),
];

/// Candidate pairs (i < j, packed i << 32 | j) with the rules that produced them (bit k: rule
/// k), sorted; and the per-rule counts.
fn block(prep: &[Prep], cfg: &LinkConfig) -> (Vec<(u64, u16)>, Vec<RuleCount>) {
    let lap = std::time::Instant::now();
    let st = hasher();
    let mut keys: Vec<Vec<(u64, u32)>> = vec![Vec::new(); 7];
    for (i, p) in prep.iter().enumerate() {
        let i = i as u32;
        if let Some(b) = &p.birth {
            for part in [&p.given, &p.surname] {
                if let Some(c) = part.chars().next() {
                    keys[0].push((st.hash_one((b, c)), i));
                }
            }
        }
        if p.id.len() == 18 {
            keys[1].push((st.hash_one(&p.id[..14]), i));
        }
        if let Some(h) = p.phone {
            keys[2].push((h, i));
        }
        if let Some(h) = p.account {
            keys[3].push((h, i));
        }
        let region: &[u8] = match &p.hukou {
            Some(h) => h,
            None if p.id.len() >= 6 => &p.id[..6],
            None => &[],
        };
        if !region.is_empty() && !p.given.is_empty() {
            keys[4].push((st.hash_one((&p.given, &p.surname, region)), i));
        }
        if !p.given.is_empty() {
            // the whole name, its parts in either order
            let (x, y) = if p.given <= p.surname {
                (&p.given, &p.surname)
            } else {
                (&p.surname, &p.given)
            };
            keys[5].push((st.hash_one((x, y)), i));
        }
        if let Some((_, _, start)) = &p.address {
            keys[6].push((*start, i));
        }
    }
    subsidy_model::trace::lap("identity:   keys", lap);
    let mut counts = Vec::new();
    let mut pairs: Vec<(u64, u16)> = Vec::new();
    for (k, mut ks) in keys.into_iter().enumerate() {
        ks.par_sort_unstable();
        ks.dedup();
        let mut rc = RuleCount {
            rule: RULES[k].0,
            pairs: 0,
            blocks_skipped: 0,
            pairs_skipped: 0,
        };
        for m in ks.chunk_by(|a, b| a.0 == b.0) {
            let n = m.len() as u64;
            if n < 2 {
                continue;
            }
            if m.len() > cfg.max_block {
                rc.blocks_skipped += 1;
                rc.pairs_skipped += n * (n - 1) / 2;
                continue;
            }
            for (x, a) in m.iter().enumerate() {
                for b in &m[x + 1..] {
                    let (i, j) = (a.1.min(b.1), a.1.max(b.1));
                    if i != j {
                        pairs.push(((u64::from(i) << 32) | u64::from(j), 1 << k));
                        rc.pairs += 1;
                    }
                }
            }
        }
        counts.push(rc);
    }
    subsidy_model::trace::lap("identity:   keyed blocks", lap);
    // sorted neighbourhoods on the identifier, forwards and backwards, and on the name
    pairs.reserve(3 * prep.len() * cfg.window);
    for k in 7..10usize {
        // each record's first 16 bytes of the sort key packed big-endian into a u128 (zero
        // padded, so the packed order is the bytes' order): a sort compares those in place and
        // reaches the records only when they tie
        // (and whether the key holds all of it: then equal keys are equal values)
        let pack = |bytes: &mut dyn Iterator<Item = u8>| -> (u128, bool) {
            let mut key = 0u128;
            for _ in 0..16 {
                key = (key << 8) | u128::from(bytes.next().unwrap_or(0));
            }
            (key, bytes.next().is_none())
        };
        let mut order: Vec<((u128, bool), u32)> = (0..prep.len() as u32)
            .into_par_iter()
            .filter_map(|i| {
                let p = &prep[i as usize];
                let key = match k {
                    7 if !p.id.is_empty() => pack(&mut p.id.iter().copied()),
                    8 if !p.id.is_empty() => pack(&mut p.id.iter().rev().copied()),
                    9 if !p.given.is_empty() => pack(
                        &mut p
                            .surname
                            .bytes()
                            .chain(std::iter::once(0))
                            .chain(p.given.bytes()),
                    ),
                    _ => return None,
                };
                Some((key, i))
            })
            .collect();
        let full = |a: u32, b: u32| {
            let (x, y) = (&prep[a as usize], &prep[b as usize]);
            match k {
                7 => x.id.cmp(&y.id),
                8 => x.id.iter().rev().cmp(y.id.iter().rev()),
                _ => (&x.surname, &x.given).cmp(&(&y.surname, &y.given)),
            }
        };
        order.par_sort_unstable_by(|x, y| {
            x.0.0
                .cmp(&y.0.0)
                .then_with(|| {
                    if x.0.1 && y.0.1 {
                        std::cmp::Ordering::Equal
                    } else {
                        full(x.1, y.1)
                    }
                })
                .then(x.1.cmp(&y.1))
        });
        subsidy_model::trace::lap(&format!("identity:     {} sorted", RULES[k].0), lap);
        let mut rc = RuleCount {
            rule: RULES[k].0,
            pairs: 0,
            blocks_skipped: 0,
            pairs_skipped: 0,
        };
        for (x, &((ka, fa), a)) in order.iter().enumerate() {
            for &((kb, fb), b) in order.iter().skip(x + 1).take(cfg.window) {
                let same_name = k == 9
                    && ka == kb
                    && ((fa && fb) || {
                        let (pa, pb) = (&prep[a as usize], &prep[b as usize]);
                        pa.given == pb.given && pa.surname == pb.surname
                    });
                if same_name {
                    // one and the same name is the name block's (capped): the neighbourhood is
                    // for names a typo apart
                    continue;
                }
                let (i, j) = (a.min(b), a.max(b));
                pairs.push(((u64::from(i) << 32) | u64::from(j), 1 << k));
                rc.pairs += 1;
            }
        }
        counts.push(rc);
    }
    subsidy_model::trace::lap("identity:   sorted neighbourhoods", lap);
    pairs.par_sort_unstable();
    subsidy_model::trace::lap("identity:   pairs sorted", lap);
    let mut out: Vec<(u64, u16)> = Vec::with_capacity(pairs.len());
    for (p, m) in pairs {
        match out.last_mut() {
            Some(last) if last.0 == p => last.1 |= m,
            _ => out.push((p, m)),
        }
    }
    (out, counts)
}

fn unpack(p: u64) -> (usize, usize) {
    ((p >> 32) as usize, (p & 0xffff_ffff) as usize)
}

/// u per field and level, from seeded random pairs. The identifier has four tables, one per
/// context: whether the pair's birth dates agree exactly, and whether its hukou codes do.
#[derive(Clone)]
struct U {
    /// per field (the identifier's entry is its no-agreement context)
    base: [Vec<f64>; NF],
    /// the identifier's, by [`id_context`]
    id: [Vec<f64>; 4],
}

/// The identifier's context in a comparison vector: bit 0 the birth dates agree exactly, bit 1
/// the hukou codes do. A resident ID embeds both (birth segment, region segment), so when the
/// birth or hukou field already credits an agreement, the ID's own level is judged against
/// strangers who share it too: two people born one day in one district, whose IDs then differ in
/// the sequence code alone, are one coincidence, not three.
fn id_context(codes: &[u8; NF]) -> usize {
    usize::from(codes[Field::Birth as usize] == DateLevel::Exact as u8)
        | usize::from(codes[Field::Hukou as usize] == RegionLevel::Exact as u8) << 1
}

impl U {
    /// u of field `f` at level `l` in the pair whose vector is `codes`. An ID level that says
    /// nothing of the segments (`different`) keeps the plain table: under an agreeing birth date
    /// or hukou it means the ID disagrees with its own record, which random pairs drawn as if
    /// agreeing cannot measure.
    fn at(&self, f: usize, l: usize, codes: &[u8; NF]) -> f64 {
        if f == Field::Id as usize && l != IdLevel::Different as usize {
            self.id[id_context(codes)][l]
        } else {
            self.base[f][l]
        }
    }
}

/// u per field and level from seeded random pairs; the identifier's per [`id_context`].
fn estimate_u(prep: &[Prep], cfg: &LinkConfig) -> U {
    let n = prep.len();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    let mut draws: Vec<(u32, u32)> = Vec::with_capacity(cfg.u_samples);
    if n >= 2 {
        while draws.len() < cfg.u_samples {
            let i = (rng.next_u64() % n as u64) as u32;
            let j = (rng.next_u64() % n as u64) as u32;
            if i != j {
                draws.push((i, j));
            }
        }
    }
    let count = |ds: &[(u32, u32)]| -> [Vec<f64>; NF] {
        ds.par_iter()
            .fold(
                || Field::ALL.map(|f| vec![0.0; f.levels().len()]),
                |mut acc, &(i, j)| {
                    let c = compare(&prep[i as usize], &prep[j as usize]).codes();
                    for (f, &l) in c.iter().enumerate() {
                        if l != NULL {
                            acc[f][l as usize] += 1.0;
                        }
                    }
                    acc
                },
            )
            .reduce(
                || Field::ALL.map(|f| vec![0.0; f.levels().len()]),
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        for (p, q) in x.iter_mut().zip(y) {
                            *p += q;
                        }
                    }
                    a
                },
            )
    };
    let mut u = count(&draws);
    let mut id_tables: [Vec<f64>; 4] = std::array::from_fn(|_| Vec::new());
    // the identifier in each context: the other record's ID is compared as if it shared this
    // one's birth segment (context bit 0) and region segment (bit 1), its check character
    // recomputed when it passed; context 0 compares the IDs as they are
    for (ctx, table) in id_tables.iter_mut().enumerate() {
        *table = draws
            .par_iter()
            .fold(
                || vec![0.0; IdLevel::LABELS.len()],
                |mut acc, &(i, j)| {
                    let (a, b) = (&prep[i as usize], &prep[j as usize]);
                    let level = if ctx != 0 && a.id.len() == 18 && b.id.len() == 18 {
                        let mut y = [0u8; 18];
                        y.copy_from_slice(&b.id);
                        if ctx & 1 != 0 {
                            y[6..14].copy_from_slice(&a.id[6..14]);
                        }
                        if ctx & 2 != 0 {
                            y[..6].copy_from_slice(&a.id[..6]);
                        }
                        if b.id_valid == Some(true)
                            && let Ok(first17) = std::str::from_utf8(&y[..17])
                            && let Some(c) = id_check_char(first17)
                        {
                            y[17] = c as u8;
                        }
                        id_level_raw(&a.id, a.id_valid, &y, b.id_valid)
                    } else {
                        id_level_raw(&a.id, a.id_valid, &b.id, b.id_valid)
                    };
                    if let Some(l) = level {
                        acc[l as usize] += 1.0;
                    }
                    acc
                },
            )
            .reduce(
                || vec![0.0; IdLevel::LABELS.len()],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
    }
    // add-half smoothing: a level never seen among random pairs is rare, not impossible
    for v in u.iter_mut().chain(id_tables.iter_mut()) {
        let t: f64 = v.iter().sum::<f64>() + 0.5 * v.len() as f64;
        for x in v.iter_mut() {
            *x = (*x + 0.5) / t;
        }
    }
    U {
        base: u,
        id: id_tables,
    }
}

const M_FLOOR: f64 = 1e-3;

fn start_m() -> [Vec<f64>; NF] {
    Field::ALL.map(|f| {
        let k = f.levels().len();
        let mut v = vec![0.0; k];
        v[0] = 0.85;
        v[k - 1] = 0.05;
        for x in v.iter_mut().take(k - 1).skip(1) {
            *x = 0.10 / (k - 2) as f64;
        }
        if k == 2 {
            v[0] = 0.95;
        }
        v
    })
}

/// One EM run over distinct patterns (levels, count), u fixed, the fields in `mask` left out;
/// m is updated only when `fit_m`. Returns m, whether each field was observed, P(match), the
/// expected number of matches and the iterations run.
fn em(
    patterns: &[([u8; NF], f64)],
    mask: u16,
    u: &U,
    mut m: [Vec<f64>; NF],
    fit_m: bool,
    cfg: &LinkConfig,
) -> ([Vec<f64>; NF], [bool; NF], f64, f64, usize) {
    let mut lambda = 0.1f64;
    let mut iterations = 0;
    let mut expected = 0.0;
    let mut seen = [false; NF];
    for it in 0..cfg.em_iterations.max(1) {
        iterations = it + 1;
        let mut acc: [Vec<f64>; NF] = Field::ALL.map(|f| vec![0.0; f.levels().len()]);
        let (mut sp, mut total) = (0.0, 0.0);
        for (codes, n) in patterns {
            let mut llr = 0.0;
            for (f, &l) in codes.iter().enumerate() {
                if l != NULL && mask & (1 << f) == 0 {
                    llr += (m[f][l as usize] / u.at(f, l as usize, codes)).ln();
                }
            }
            let odds = (lambda / (1.0 - lambda)).ln() + llr;
            let p = 1.0 / (1.0 + (-odds).exp());
            sp += p * n;
            total += n;
            for (f, &l) in codes.iter().enumerate() {
                if l != NULL && mask & (1 << f) == 0 {
                    acc[f][l as usize] += p * n;
                }
            }
        }
        expected = sp;
        let mut delta = 0.0f64;
        for (f, a) in acc.iter().enumerate() {
            let s: f64 = a.iter().sum();
            if s <= 0.0 {
                continue;
            }
            seen[f] = true;
            if !fit_m {
                continue;
            }
            for (l, x) in a.iter().enumerate() {
                let v = (x / s).max(M_FLOOR);
                delta = delta.max((v - m[f][l]).abs());
                m[f][l] = v;
            }
            let t: f64 = m[f].iter().sum();
            m[f].iter_mut().for_each(|x| *x /= t);
        }
        let new_lambda = (sp / total.max(1.0)).clamp(1e-9, 1.0 - 1e-9);
        delta = delta.max((new_lambda - lambda).abs());
        lambda = new_lambda;
        if delta < 1e-6 {
            break;
        }
    }
    (m, seen, lambda, expected, iterations)
}

/// m by EM one blocking rule at a time (Splink's way): the pairs a rule produced, with the
/// fields that rule compared left out; each field's m is the average over the rules that left it
/// in, weighted by their expected matches. Then P(match) among all candidates with m fixed.
fn train(
    records: usize,
    cands: &[(u64, u16)],
    codes: &[[u8; NF]],
    u: &U,
    cfg: &LinkConfig,
) -> Model {
    let mut sum: [Vec<f64>; NF] = Field::ALL.map(|f| vec![0.0; f.levels().len()]);
    let mut weight = [0.0f64; NF];
    let mut iterations = 0;
    // the distinct (levels, rules) patterns, once; each session regroups those
    let mut pats: HashMap<([u8; NF], u16), f64, foldhash::fast::FixedState> =
        HashMap::with_hasher(hasher());
    for (c, (_, rules)) in codes.iter().zip(cands) {
        *pats.entry((*c, *rules)).or_insert(0.0) += 1.0;
    }
    let pats: Vec<(([u8; NF], u16), f64)> = pats.into_iter().collect();
    let group = |keep: &dyn Fn(u16) -> bool| -> Vec<([u8; NF], f64)> {
        let mut g: HashMap<[u8; NF], f64, foldhash::fast::FixedState> =
            HashMap::with_hasher(hasher());
        for ((c, rules), n) in &pats {
            if keep(*rules) {
                *g.entry(*c).or_insert(0.0) += n;
            }
        }
        let mut v: Vec<([u8; NF], f64)> = g.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    // the keyed rules train; the sorted neighbourhoods (pairs chosen by position) do not
    for (k, (_, mask)) in RULES.iter().enumerate().take(7) {
        let pats = group(&|r| r & (1 << k) != 0);
        if pats.iter().map(|p| p.1).sum::<f64>() < 20.0 {
            continue;
        }
        let (m, seen, lambda, _, it) = em(&pats, *mask, u, start_m(), true, cfg);
        iterations += it;
        // A rule's estimate counts, by its expected matches, only when its latent class is one
        // of duplicates: most of the rule's pairs (P(match) at least 0.5), and evidence enough
        // to single one record out of the package. A rule whose pairs are mostly strangers (a
        // birth date and an initial among a million) lets EM's class drift to whatever
        // correlates (one district: hukou, the ID's region, the address's city), or settle on
        // m = u, a "class" that every pair fits and that says nothing: the fields' evidence,
        // the Kullback-Leibler divergence of m from u in bits, is then near 0, where a class
        // of duplicates needs log2(records) bits to stand out from the package's strangers.
        let n_pairs: f64 = pats.iter().map(|p| p.1).sum();
        let evidence: f64 = (0..NF)
            .filter(|&f| seen[f] && mask & (1 << f) == 0)
            .map(|f| {
                m[f].iter()
                    .zip(&u.base[f])
                    .map(|(m, u)| m * (m / u).log2())
                    .sum::<f64>()
            })
            .sum();
        let teaches = lambda >= 0.5 && evidence >= (records.max(2) as f64).log2();
        if subsidy_model::trace::enabled() {
            let fmt = |f: Field| -> String {
                if mask & f.bit() != 0 {
                    return "masked".into();
                }
                let v: Vec<String> = m[f as usize].iter().map(|x| format!("{x:.3}")).collect();
                v.join("/")
            };
            eprintln!(
                "trace: identity training {}: {n_pairs} pairs, P(match) {lambda:.4}, {it} iterations, evidence {evidence:.1} bits: {}; m of name {}, birth {}, id {}, phone {}, hukou {}, address {}",
                RULES[k].0,
                if teaches { "teaches m" } else { "left out" },
                fmt(Field::Given),
                fmt(Field::Birth),
                fmt(Field::Id),
                fmt(Field::Phone),
                fmt(Field::Hukou),
                fmt(Field::Address)
            );
        }
        if teaches {
            for f in 0..NF {
                if seen[f] && mask & (1 << f) == 0 {
                    for (acc, x) in sum[f].iter_mut().zip(&m[f]) {
                        *acc += lambda * n_pairs * x;
                    }
                    weight[f] += lambda * n_pairs;
                }
            }
        }
    }
    let start = start_m();
    let m: [Vec<f64>; NF] = std::array::from_fn(|f| {
        if weight[f] > 0.0 {
            sum[f].iter().map(|x| x / weight[f]).collect()
        } else {
            start[f].clone()
        }
    });
    let all = group(&|_| true);
    let (m, _, lambda, _, it) = em(&all, 0, u, m, false, cfg);
    iterations += it;
    let w = Field::ALL.map(|f| {
        let i = f as usize;
        m[i].iter()
            .zip(&u.base[i])
            .map(|(m, u)| (m / u).log2())
            .collect()
    });
    Model {
        w,
        m,
        u: u.clone(),
        prior: 0.0,
        lambda,
        iterations,
    }
}

impl Model {
    /// The pair's field weights (TF-adjusted for exact names) in field order.
    fn weights(&self, a: &Prep, codes: &[u8; NF], tf: &Tf) -> [f64; NF] {
        let mut out = [0.0; NF];
        for (f, &l) in codes.iter().enumerate() {
            if l == NULL {
                continue;
            }
            out[f] = if f == Field::Id as usize {
                (self.m[f][l as usize] / self.u.at(f, l as usize, codes)).log2()
            } else {
                self.w[f][l as usize]
            };
            let field = Field::ALL[f];
            if matches!(field, Field::Given | Field::Surname) && l == NameLevel::Exact as u8 {
                let v = if field == Field::Given {
                    &a.given
                } else {
                    &a.surname
                };
                // log2(m / f): the share of records with this very name, not the average
                out[f] = (self.m[f][l as usize] / tf.share(field, v)).log2();
            }
        }
        out
    }
}

fn explain(model: &Model, codes: &[u8; NF], w: &[f64; NF], other: usize) -> Explanation {
    let fields: Vec<FieldWeight> = Field::ALL
        .iter()
        .enumerate()
        .map(|(f, field)| FieldWeight {
            field: field.name(),
            level: if codes[f] == NULL {
                "null"
            } else {
                field.levels()[codes[f] as usize]
            },
            weight: w[f],
        })
        .collect();
    let total = model.prior + w.iter().sum::<f64>();
    Explanation {
        other,
        prior: model.prior,
        fields,
        match_weight: total,
        match_probability: probability(total),
    }
}

fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// The candidate pairs blocking produces (i < j, sorted): for measuring pair completeness.
pub fn candidate_pairs(records: &[Record], cfg: &LinkConfig) -> Vec<(usize, usize)> {
    let prep: Vec<Prep> = records.par_iter().map(prepare).collect();
    block(&prep, cfg)
        .0
        .iter()
        .map(|&(p, _)| unpack(p))
        .collect()
}

/// Links records into identities with the default settings (see the module docs).
pub fn link(records: &[Record]) -> Vec<Link> {
    link_with(records, &LinkConfig::default()).0
}

/// Links records into identities (see the module docs). `records` must be sorted by key.
pub fn link_with(records: &[Record], cfg: &LinkConfig) -> (Vec<Link>, LinkReport) {
    let n = records.len();
    let lap = std::time::Instant::now();
    let prep: Vec<Prep> = records.par_iter().map(prepare).collect();
    let tf = Tf::new(&prep);
    subsidy_model::trace::lap("identity: records prepared", lap);
    let (cands, rules) = block(&prep, cfg);
    subsidy_model::trace::lap("identity: blocked", lap);
    let codes: Vec<[u8; NF]> = cands
        .par_iter()
        .map(|&(p, _)| {
            let (i, j) = unpack(p);
            compare(&prep[i], &prep[j]).codes()
        })
        .collect();
    subsidy_model::trace::lap("identity: candidates compared", lap);
    let u = estimate_u(&prep, cfg);
    subsidy_model::trace::lap("identity: u estimated", lap);
    let mut model = train(n, &cands, &codes, &u, cfg);
    subsidy_model::trace::lap("identity: m trained", lap);
    let expected = model.lambda * cands.len() as f64;
    let all_pairs = (n as f64) * (n as f64 - 1.0) / 2.0;
    let lambda_g = (expected.max(1.0) / all_pairs.max(1.0)).clamp(1e-15, 0.5);
    model.prior = (lambda_g / (1.0 - lambda_g)).log2();
    // score every candidate; keep those at the threshold
    let threshold_weight = (cfg.threshold / (1.0 - cfg.threshold).max(1e-12)).log2();
    let scored: Vec<(usize, f64, Option<bool>)> = cands
        .par_iter()
        .zip(&codes)
        .enumerate()
        .filter_map(|(k, (&(p, _), c))| {
            let (i, j) = unpack(p);
            let w = model.weights(&prep[i], c, &tf);
            let total = model.prior + w.iter().sum::<f64>();
            if total < threshold_weight {
                return None;
            }
            let cmp = compare(&prep[i], &prep[j]);
            let veto = if household(&cmp) {
                Some(true)
            } else {
                two_issued_ids(&prep[i], &prep[j], &cmp)
            };
            Some((k, total, veto))
        })
        .collect();
    subsidy_model::trace::lap("identity: candidates scored", lap);
    let pairs_above = scored.len() as u64;
    let vetoed = scored.iter().filter(|s| s.2.is_some()).count();
    let mut accepted: Vec<(usize, f64)> = scored
        .iter()
        .filter(|s| s.2.is_none())
        .map(|s| (s.0, s.1))
        .collect();
    // strongest first; ties by pair
    accepted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // cannot-links: pairs kept apart as two issued IDs with a phone or account of their own
    let mut cannot: HashMap<usize, Vec<usize>, foldhash::fast::FixedState> =
        HashMap::with_hasher(hasher());
    for k in scored.iter().filter(|s| s.2 == Some(true)).map(|s| s.0) {
        let (i, j) = unpack(cands[k].0);
        cannot.entry(i).or_default().push(j);
        cannot.entry(j).or_default().push(i);
    }
    let mut parent: Vec<usize> = (0..n).collect();
    let mut members: HashMap<usize, Vec<usize>, foldhash::fast::FixedState> =
        HashMap::with_hasher(hasher());
    fn find(parent: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while parent[r] != r {
            r = parent[r];
        }
        let mut y = x;
        while parent[y] != r {
            let nx = parent[y];
            parent[y] = r;
            y = nx;
        }
        r
    }
    let mut refused = 0u64;
    let mut matched: Vec<Vec<Explanation>> = vec![Vec::new(); n];
    for &(k, _) in &accepted {
        let (i, j) = unpack(cands[k].0);
        let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
        if ri != rj {
            let mi = members.get(&ri).cloned().unwrap_or_else(|| vec![ri]);
            let mj = members.get(&rj).cloned().unwrap_or_else(|| vec![rj]);
            let (small, big_root) = if mi.len() <= mj.len() {
                (&mi, rj)
            } else {
                (&mj, ri)
            };
            let clash = !cannot.is_empty()
                && small.iter().any(|x| {
                    cannot
                        .get(x)
                        .is_some_and(|ys| ys.iter().any(|&y| find(&mut parent, y) == big_root))
                });
            if clash {
                refused += 1;
                continue;
            }
            let (lo, hi) = (ri.min(rj), ri.max(rj));
            parent[hi] = lo;
            let mut all = mi;
            all.extend(mj);
            members.remove(&hi);
            members.insert(lo, all);
        }
        let w = model.weights(&prep[i], &codes[k], &tf);
        matched[i].push(explain(&model, &codes[k], &w, j));
        matched[j].push(explain(&model, &codes[k], &w, i));
    }
    let links: Vec<Link> = (0..n)
        .map(|i| {
            let identity = find(&mut parent, i);
            let mut ex = std::mem::take(&mut matched[i]);
            ex.sort_by(|a, b| {
                b.match_weight
                    .total_cmp(&a.match_weight)
                    .then(a.other.cmp(&b.other))
            });
            Link {
                identity,
                confidence: ex.first().map_or(1.0, |e| e.match_probability),
                matched: ex,
            }
        })
        .collect();
    let parameters = Field::ALL
        .iter()
        .map(|f| {
            let i = *f as usize;
            (
                f.name(),
                f.levels()
                    .iter()
                    .enumerate()
                    .map(|(l, name)| (*name, model.m[i][l], model.u.base[i][l], model.w[i][l]))
                    .collect(),
            )
        })
        .chain(
            [
                "resident_id | birth agrees",
                "resident_id | hukou agrees",
                "resident_id | birth and hukou agree",
            ]
            .into_iter()
            .enumerate()
            .map(|(k, name)| {
                let (i, u) = (Field::Id as usize, &model.u.id[k + 1]);
                (
                    name,
                    IdLevel::LABELS
                        .iter()
                        .enumerate()
                        .filter(|(l, _)| *l != IdLevel::Different as usize)
                        .map(|(l, level)| {
                            let m = model.m[i][l];
                            (*level, m, u[l], (m / u[l]).log2())
                        })
                        .collect(),
                )
            }),
        )
        .collect();
    let report = LinkReport {
        records: n,
        rules,
        candidates: cands.len() as u64,
        em_iterations: model.iterations,
        lambda_candidates: model.lambda,
        prior_weight: model.prior,
        parameters,
        pairs_above_threshold: pairs_above,
        pairs_vetoed: vetoed as u64,
        merges_refused: refused,
    };
    (links, report)
}

/// Resolves the persons frame with the default settings.
pub fn resolve(persons: &DataFrame, today: NaiveDate) -> Result<DataFrame, ScoringError> {
    resolve_with(persons, today, &LinkConfig::default()).map(|(df, _)| df)
}

/// Resolves the persons frame into `person_id, identity_id, confidence, evidence`, one row per
/// person, sorted by person id; `evidence` is JSON: the merged pairs with their waterfalls.
pub fn resolve_with(
    persons: &DataFrame,
    today: NaiveDate,
    cfg: &LinkConfig,
) -> Result<(DataFrame, LinkReport), ScoringError> {
    let _ = today;
    let opt = |c: &str| -> Result<Option<StringChunked>, ScoringError> {
        match persons.column(c) {
            Ok(col) => Ok(Some(col.cast(&DataType::String)?.str()?.clone())),
            Err(_) => Ok(None),
        }
    };
    let s = |c: &str| -> Result<StringChunked, ScoringError> {
        opt(c)?.ok_or(ScoringError::Internal("persons without person_id or name"))
    };
    let (ids, names) = (s("person_id")?, s("name")?);
    let (phones, accounts, addresses, hukous, genders) = (
        opt("phone")?,
        opt("bank_account")?,
        opt("address")?,
        opt("hukou_region")?,
        opt("gender")?,
    );
    let births: Vec<Option<i32>> = match persons.column("birth_date") {
        Ok(c) => c.date()?.physical().iter().collect(),
        Err(_) => vec![None; persons.height()],
    };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or(ScoringError::Internal("epoch"))?;
    let text = |c: &Option<StringChunked>, i: usize| {
        c.as_ref()
            .and_then(|c| c.get(i))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
    };
    let mut records: Vec<Record> = (0..persons.height())
        .into_par_iter()
        .map(|i| {
            let id = ids.get(i).unwrap_or("").trim().to_ascii_uppercase();
            // the registered birth date; else the ID's birth segment, as written
            let birth = births[i]
                .map(|d| epoch + chrono::Duration::days(i64::from(d)))
                .or_else(|| id_birth_date(&id))
                .map(|d| d.format("%Y%m%d").to_string())
                .or_else(|| {
                    (id.len() == 18 && id.as_bytes()[6..14].iter().all(u8::is_ascii_digit))
                        .then(|| id[6..14].to_string())
                });
            let id_valid = (id.len() == 18 && id.is_ascii())
                .then(|| id_check_char(&id[..17]).is_some_and(|c| id.ends_with(c)));
            Record {
                id_valid,
                given: names.get(i).unwrap_or("").to_string(),
                phone: text(&phones, i),
                account: text(&accounts, i),
                address: text(&addresses, i),
                hukou: text(&hukous, i),
                gender: text(&genders, i),
                birth,
                key: ids.get(i).unwrap_or("").to_string(),
                id,
                ..Record::default()
            }
        })
        .collect();
    records.par_sort_by(|a, b| a.key.cmp(&b.key));
    let t = std::time::Instant::now();
    let (links, report) = link_with(&records, cfg);
    subsidy_model::trace::lap("identities linked", t);
    if let Some(path) = std::env::var_os("SUBSIDY_IDENTITY_CANDIDATES") {
        // developer tracing for benchmarks (pair completeness): the candidate pairs, by key
        let text: String = candidate_pairs(&records, cfg)
            .iter()
            .map(|&(i, j)| format!("{} {}\n", records[i].key, records[j].key))
            .collect();
        std::fs::write(path, text).map_err(|_| ScoringError::Internal("writing candidates"))?;
    }
    if subsidy_model::trace::enabled() {
        for r in &report.rules {
            eprintln!(
                "trace: identity blocking {}: {} pairs, {} blocks ({} pairs) over the cap skipped",
                r.rule, r.pairs, r.blocks_skipped, r.pairs_skipped
            );
        }
        eprintln!(
            "trace: identity: {} candidates, EM {} iterations, prior {:.2} bits, {} pairs above threshold, {} kept apart as two issued IDs, {} merges refused",
            report.candidates,
            report.em_iterations,
            report.prior_weight,
            report.pairs_above_threshold,
            report.pairs_vetoed,
            report.merges_refused
        );
        for (f, levels) in &report.parameters {
            let ls: Vec<String> = levels
                .iter()
                .map(|(l, m, u, w)| format!("{l} m={m:.4} u={u:.2e} w={w:.2}"))
                .collect();
            eprintln!("trace: identity {f}: {}", ls.join("; "));
        }
    }
    let identity: Vec<&str> = links
        .iter()
        .map(|l| records[l.identity].key.as_str())
        .collect();
    let confidence: Vec<f64> = links.iter().map(|l| round(l.confidence, 6)).collect();
    let ev: Vec<String> = links
        .par_iter()
        .map(|l| evidence_json(l, &records))
        .collect();
    let pid: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
    let df = DataFrame::new_infer_height(vec![
        Column::new("person_id".into(), pid),
        Column::new("identity_id".into(), identity),
        Column::new("confidence".into(), confidence),
        Column::new("evidence".into(), ev),
    ])?;
    Ok((df, report))
}

fn round(x: f64, d: i32) -> f64 {
    let k = 10f64.powi(d);
    (x * k).round() / k
}

/// The evidence column: `{}` alone; else `{"pairs": [{"matched", "prior", "fields": [{field,
/// level, weight}], "match_weight", "match_probability"}]}`, weights in bits, rounded to 4 places.
fn evidence_json(l: &Link, records: &[Record]) -> String {
    if l.matched.is_empty() {
        return "{}".to_string();
    }
    let pairs: Vec<serde_json::Value> = l
        .matched
        .iter()
        .map(|e| {
            serde_json::json!({
                "matched": records[e.other].key,
                "prior": round(e.prior, 4),
                "fields": e.fields.iter().map(|f| serde_json::json!({
                    "field": f.field, "level": f.level, "weight": round(f.weight, 4)
                })).collect::<Vec<_>>(),
                "match_weight": round(e.match_weight, 4),
                "match_probability": round(e.match_probability, 6),
            })
        })
        .collect();
    serde_json::json!({ "pairs": pairs }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SURNAMES: [&str; 12] = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
    ];
    const GIVEN: [&str; 20] = [
        "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
        "明", "秀英", "志强", "海燕", "建华",
    ];
    const REGIONS: [(&str, &str); 6] = [
        ("110105", "北京市朝阳区"),
        ("310104", "上海市徐汇区"),
        ("330106", "杭州市西湖区"),
        ("440305", "深圳市南山区"),
        ("510107", "成都市武侯区"),
        ("420106", "武汉市武昌区"),
    ];

    fn id(region: &str, birth: &str, seq: u32) -> String {
        let first17 = format!("{region}{birth}{seq:03}");
        let c = id_check_char(&first17).expect("17 digits");
        format!("{first17}{c}")
    }

    /// `(person_id, name, phone, account, address, hukou)` rows into a persons frame.
    fn frame(rows: &[[String; 6]]) -> DataFrame {
        let col = |k: usize| {
            rows.iter()
                .map(|r| (!r[k].is_empty()).then(|| r[k].clone()))
                .collect::<Vec<Option<String>>>()
        };
        let birth: Vec<Option<i32>> = rows
            .iter()
            .map(|r| {
                id_birth_date(&r[0]).map(|d| {
                    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
                })
            })
            .collect();
        DataFrame::new_infer_height(vec![
            Column::new("person_id".into(), col(0)),
            Column::new("name".into(), col(1)),
            Column::new("phone".into(), col(2)),
            Column::new("bank_account".into(), col(3)),
            Column::new("address".into(), col(4)),
            Column::new("hukou_region".into(), col(5)),
            Int32Chunked::from_iter_options("birth_date".into(), birth.into_iter())
                .into_date()
                .into_column(),
        ])
        .expect("frame")
    }

    /// A seeded background population of `n` people, with one in fifty registered twice the way
    /// the generator does it (a sequence digit mistyped, a look-alike name character, the same
    /// phone, another account).
    fn population(n: usize) -> Vec<[String; 6]> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut r = |k: u64| (rng.next_u64() % k) as usize;
        let mut rows = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while rows.len() < n {
            let (code, place) = REGIONS[r(6)];
            let birth = format!("{}{:02}{:02}", 1966 + r(40), 1 + r(12), 1 + r(28));
            let pid = id(code, &birth, r(1000) as u32);
            if !seen.insert(pid.clone()) {
                continue;
            }
            let name = format!("{}{}", SURNAMES[r(12)], GIVEN[r(20)]);
            let phone = format!("13{:09}", r(1_000_000_000));
            let account = format!("6222{:012}", r(1_000_000_000_000));
            let address = format!(
                "{place}{}路{}号",
                ["人民", "解放", "中山"][r(3)],
                1 + r(200)
            );
            if r(50) == 0 {
                let mut b = pid.clone().into_bytes();
                b[15] = b'0' + (b[15] - b'0' + 1) % 10;
                let mut pid2 = String::from_utf8(b).expect("ascii");
                if r(2) == 0 {
                    pid2 = id(code, &birth, pid2[14..17].parse().expect("digits"));
                }
                if seen.insert(pid2.clone()) {
                    let name2 = name.replacen('伟', "玮", 1).replacen('明', "铭", 1);
                    rows.push([
                        pid2,
                        name2,
                        phone.clone(),
                        format!("6228{:012}", r(1_000_000_000_000)),
                        address.replace('号', "號"),
                        code.to_string(),
                    ]);
                }
            }
            rows.push([pid, name, phone, account, address, code.to_string()]);
        }
        rows
    }

    fn row(pid: &str, name: &str, phone: &str, addr: &str) -> [String; 6] {
        [
            pid.into(),
            name.into(),
            phone.into(),
            String::new(),
            addr.into(),
            pid[..6].into(),
        ]
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
    }

    /// The identity of each of `pids` after resolving them within the background population.
    fn resolved(extra: &[[String; 6]]) -> (HashMap<String, (String, String)>, LinkReport) {
        let mut rows = population(3000);
        rows.extend_from_slice(extra);
        let (out, report) =
            resolve_with(&frame(&rows), today(), &LinkConfig::default()).expect("resolves");
        let get = |c: &str| out.column(c).expect("c").str().expect("s").clone();
        let (p, i, e) = (get("person_id"), get("identity_id"), get("evidence"));
        let map = (0..out.height())
            .map(|k| {
                (
                    p.get(k).expect("p").to_string(),
                    (
                        i.get(k).expect("i").to_string(),
                        e.get(k).expect("e").to_string(),
                    ),
                )
            })
            .collect();
        (map, report)
    }

    #[test]
    fn one_person_two_ids_is_one_identity_and_the_waterfall_adds_up() {
        let a = id("110105", "19800101", 1);
        let mut b = a.clone();
        b.replace_range(15..16, "7"); // one digit mistyped, the check not recomputed
        let c = id("110105", "19800101", 3);
        let (ids, _) = resolved(&[
            row(&a, "张伟", "13812345678", "北京市朝阳区和平街1号"),
            row(&b, "张玮", "13812345678", "北京市朝阳区和平街1號"),
            row(&c, "张伟", "13999999999", "北京市朝阳区和平街9号"),
        ]);
        assert_eq!(ids[&a].0, ids[&b].0, "{}", ids[&b].1);
        assert_ne!(
            ids[&a].0, ids[&c].0,
            "a namesake with another phone stays apart"
        );
        let ev: serde_json::Value = serde_json::from_str(&ids[&b].1).expect("json");
        let pair = &ev["pairs"][0];
        assert_eq!(pair["matched"], a.as_str());
        let fields = pair["fields"].as_array().expect("fields");
        assert_eq!(fields.len(), Field::ALL.len(), "every field is listed");
        let sum: f64 = pair["prior"].as_f64().expect("prior")
            + fields
                .iter()
                .map(|f| f["weight"].as_f64().expect("w"))
                .sum::<f64>();
        let total = pair["match_weight"].as_f64().expect("total");
        assert!((sum - total).abs() < 1e-3, "{sum} vs {total}");
        let level = |name: &str| {
            fields
                .iter()
                .find(|f| f["field"] == name)
                .map(|f| f["level"].as_str().expect("level").to_string())
        };
        assert_eq!(level("phone").as_deref(), Some("exact"));
        assert_eq!(level("resident_id").as_deref(), Some("typo_check_fails"));
        assert_eq!(level("name").as_deref(), Some("one_character_apart"));
        assert_eq!(level("surname").as_deref(), Some("null"));
    }

    #[test]
    fn the_explanation_of_a_link_adds_up_exactly() {
        let recs: Vec<Record> = population(2000)
            .into_iter()
            .map(|r| Record {
                key: r[0].clone(),
                given: r[1].clone(),
                birth: Some(r[0][6..14].to_string()),
                id_valid: Some(true),
                id: r[0].clone(),
                phone: Some(r[2].clone()),
                account: Some(r[3].clone()),
                address: Some(r[4].clone()),
                hukou: Some(r[5].clone()),
                ..Record::default()
            })
            .collect();
        let mut recs = recs;
        recs.sort_by(|a, b| a.key.cmp(&b.key));
        let (links, report) = link_with(&recs, &LinkConfig::default());
        let mut checked = 0;
        for l in &links {
            for e in &l.matched {
                let sum = e.prior + e.fields.iter().map(|f| f.weight).sum::<f64>();
                assert!((sum - e.match_weight).abs() < 1e-9);
                assert!(e.match_probability >= LinkConfig::default().threshold);
                checked += 1;
            }
        }
        assert!(checked > 0);
        assert_eq!(report.rules.len(), RULES.len());
        assert!(report.rules.iter().map(|r| r.pairs).sum::<u64>() >= report.candidates);
    }

    #[test]
    fn a_common_name_and_birth_date_alone_never_merge() {
        let a = id("110105", "19800101", 16);
        let b = id("310104", "19800101", 24);
        let (ids, _) = resolved(&[row(&a, "王伟", "", ""), row(&b, "王伟", "", "")]);
        assert_ne!(ids[&a].0, ids[&b].0);
    }

    #[test]
    fn twins_namesakes_and_neighbours_stay_apart() {
        // twins: names one character apart, one home, one birth date, IDs issued one after
        // the other (both pass their check), phones of their own
        let t1 = id("110105", "19900202", 11);
        let t2 = id("110105", "19900202", 13);
        // twins without phones
        let s1 = id("330106", "19920303", 21);
        let s2 = id("330106", "19920303", 23);
        // namesakes born the same day in one district, neighbouring houses, phones of their own
        // (without phones nothing tells them from one person re-registered: a known limit)
        let n1 = id("310104", "19800101", 16);
        let n2 = id("310104", "19800101", 24);
        // twins at one address, one ID mistyped (it fails its check, two positions from the
        // other's), names wholly different, phones of their own: a household, not a
        // re-registration, though birth, address, hukou and an ID "typo" all agree
        let h1 = id("330106", "19900715", 545);
        let mut h2 = id("330106", "19900715", 515);
        h2.replace_range(17.., if h2.ends_with('4') { "5" } else { "4" });
        // namesakes born the same day in one district, next-door numbers on one street, one ID
        // mistyped far from the other's, phones of their own
        let d1 = id("610113", "19780523", 28);
        let mut d2 = id("610113", "19780523", 984);
        d2.replace_range(17.., if d2.ends_with('0') { "1" } else { "0" });
        // namesakes born the same day in two regions
        let r1 = id("440305", "19850505", 31);
        let r2 = id("510107", "19850505", 31);
        let (ids, _) = resolved(&[
            row(&t1, "李明", "13700000001", "北京市朝阳区和平街1号"),
            row(&t2, "李铭", "13700000002", "北京市朝阳区和平街1号"),
            row(&s1, "周杰", "", "杭州市西湖区文三路8号"),
            row(&s2, "周洁", "", "杭州市西湖区文三路8号"),
            row(&n1, "王伟", "13700000003", "上海市徐汇区中山路78号"),
            row(&n2, "王伟", "13700000004", "上海市徐汇区中山路75号"),
            row(&r1, "陈静", "", "深圳市南山区科技路3号"),
            row(&r2, "陈静", "", "成都市武侯区科华路3号"),
            row(&d1, "徐国强", "13700000007", "西安市雁塔区人民路292号"),
            row(&d2, "徐国强", "13700000008", "西安市雁塔区人民路2号"),
            row(&h1, "赵海涛", "13700000005", "杭州市西湖区文一路15号"),
            row(&h2, "赵雅琴", "13700000006", "杭州市西湖区文一路15号"),
        ]);
        assert_ne!(ids[&h1].0, ids[&h2].0, "household: {}", ids[&h2].1);
        assert_ne!(ids[&d1].0, ids[&d2].0, "next door: {}", ids[&d2].1);
        assert_ne!(ids[&t1].0, ids[&t2].0, "twins: {}", ids[&t2].1);
        assert_ne!(
            ids[&s1].0, ids[&s2].0,
            "twins without phones: {}",
            ids[&s2].1
        );
        assert_ne!(ids[&n1].0, ids[&n2].0, "neighbours: {}", ids[&n2].1);
        assert_ne!(ids[&r1].0, ids[&r2].0, "two regions: {}", ids[&r2].1);
    }

    #[test]
    fn the_generators_duplicates_are_found() {
        let rows = population(3000);
        let (out, _) =
            resolve_with(&frame(&rows), today(), &LinkConfig::default()).expect("resolves");
        let p = out
            .column("person_id")
            .expect("c")
            .str()
            .expect("s")
            .clone();
        let i = out
            .column("identity_id")
            .expect("c")
            .str()
            .expect("s")
            .clone();
        let by_phone: HashMap<&str, Vec<&str>> = rows.iter().fold(HashMap::new(), |mut m, r| {
            m.entry(r[2].as_str()).or_default().push(r[0].as_str());
            m
        });
        let ident: HashMap<&str, &str> = (0..out.height())
            .map(|k| (p.get(k).expect("p"), i.get(k).expect("i")))
            .collect();
        let truth: Vec<(&str, &str)> = by_phone
            .values()
            .filter(|v| v.len() == 2)
            .map(|v| (v[0], v[1]))
            .collect();
        assert!(truth.len() > 30);
        let found = truth.iter().filter(|(a, b)| ident[a] == ident[b]).count();
        assert_eq!(found, truth.len());
        let ev = out.column("evidence").expect("c").str().expect("s").clone();
        let twice: std::collections::HashSet<&str> =
            truth.iter().flat_map(|(a, b)| [*a, *b]).collect();
        for k in 0..out.height() {
            let pid = p.get(k).expect("p");
            if !twice.contains(pid) && ev.get(k) != Some("{}") {
                eprintln!("{pid}: {}", ev.get(k).unwrap_or(""));
            }
        }
        let groups: usize = {
            let mut ids: Vec<&str> = ident.values().copied().collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        assert_eq!(groups, rows.len() - truth.len(), "no other merge");
    }

    #[test]
    fn latin_names_typos_and_swaps() {
        let r = |key: &str, given: &str, surname: &str, birth: &str, id: &str, addr: &str| Record {
            key: key.into(),
            given: given.into(),
            surname: surname.into(),
            birth: Some(birth.into()),
            id: id.into(),
            address: Some(addr.into()),
            ..Record::default()
        };
        let a = r(
            "a",
            "daniel",
            "fysh",
            "19620207",
            "8595168",
            "27 appel crescent",
        );
        let b = r(
            "b",
            "fysh",
            "daniel",
            "19620207",
            "8595168",
            "27 appel crescent",
        );
        let c = r(
            "c",
            "dnaiel",
            "fysh",
            "19620207",
            "8595168",
            "27 appel crescent",
        );
        let (pa, pb, pc) = (prepare(&a), prepare(&b), prepare(&c));
        let s = compare(&pa, &pb);
        assert_eq!(
            (s.given, s.surname),
            (Some(NameLevel::Swapped), Some(NameLevel::Swapped))
        );
        let t = compare(&pa, &pc);
        assert_eq!(t.given, Some(NameLevel::Jw92));
        assert_eq!(t.surname, Some(NameLevel::Exact));
        // one field written "given surname"
        let d = prepare(&r("d", "daniel fysh", "", "19620207", "", ""));
        assert_eq!(
            compare(&pa, &d).surname,
            Some(NameLevel::Exact),
            "the last word is the surname"
        );
    }

    #[test]
    fn levels() {
        assert_eq!(date_level(b"19800101", b"19800101"), DateLevel::Exact);
        assert_eq!(date_level(b"19800101", b"19800107"), DateLevel::OneTypo);
        assert_eq!(
            date_level(b"19800312", b"19801203"),
            DateLevel::DayMonthSwapped
        );
        assert_eq!(cjk_level("张伟", "张玮"), NameLevel::OneCharacter);
        assert_eq!(cjk_level("张伟", "张伟伟"), NameLevel::Different);
        assert_eq!(cjk_level("伟张", "张伟"), NameLevel::Swapped);
        assert_eq!(cjk_level("欧阳明华", "明华欧阳"), NameLevel::Swapped);
        assert_eq!(cjk_level("欧阳明华", "欧阳华明"), NameLevel::Swapped);
        assert_eq!(cjk_level("欧阳明华", "司马明华"), NameLevel::Different);
        assert_eq!(cjk_level("张伟伟", "伟张张"), NameLevel::Different);
        // past the eight characters sorted on the stack
        assert_eq!(
            cjk_level("阿不都热合曼·买买提", "买买提·阿不都热合曼"),
            NameLevel::Swapped
        );
        assert_eq!(
            cjk_level("阿不都热合曼·买买提", "阿不都热合曼·买买江"),
            NameLevel::OneCharacter
        );
        assert_eq!(
            cjk_level("阿不都热合曼·买买提", "阿不都热合曼·吐尔逊"),
            NameLevel::Different
        );
        assert!((dice(&[1, 2, 3], &[1, 2, 3]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn deterministic() {
        let rows = population(1500);
        let a = resolve(&frame(&rows), today()).expect("a");
        let b = resolve(&frame(&rows), today()).expect("b");
        assert!(a.equals(&b));
    }
}
