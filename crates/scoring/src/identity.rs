//! Identity resolution: which records are one real person.
//!
//! [`link`] works on any [`Record`] (the persons table through [`resolve`], or a record-linkage
//! benchmark): names, birth date, an identifier, phone, bank account, address.
//!
//! Blocking: candidate pairs share a blocking key: birth date with phone, with bank account, or
//! with the name's first letters; or the identifier with one position blanked (a typo). Blocks
//! over 50 records are skipped (a key shared that widely identifies no one).
//!
//! Comparison: evidence points. Name: a CJK name equal 1, one character apart 0.5; a Latin
//! name per part (given, surname; swaps allowed) equal 0.5, Jaro-Winkler ≥ 0.85 0.4, missing 0.2.
//! Birth date equal 1, one typo apart (a digit, a swap, day and month) 0.5. Same phone 2, same
//! bank account 2. Identifiers equal 2; one position apart 2 when the identifier carries a check
//! digit and one of them fails it (a mistyped number; two valid numbers one digit apart are two
//! people), 1 when it carries none. Addresses alike (three quarters of the tokens matched by
//! Jaro-Winkler ≥ 0.9) 1; an address without spaces (Chinese) the same text 0.4. Two records merge at 2.5
//! points when their names score 0.8 or more, at 3 when they score 0.5 or more, and with names
//! that do not agree only when their identifiers are equal.
//!
//! So a shared common name and birth date alone never merge two people (2 points), nor do
//! namesakes in one building (2.4) or twins with CJK names one character apart (1.9); a name,
//! birth date and phone do (4). Latin-named twins with given names within Jaro-Winkler 0.85, one birth date
//! and one address would merge (2.9): a known limit. Merged
//! pairs are closed transitively (union-find); each identity is named by its smallest record key.
//! Confidence: 0.99 with a shared phone or account, 0.9 with an identifier typo, otherwise
//! 0.5 + 0.1 per point (at most 0.95); 1.0 for a record alone.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use chrono::NaiveDate;
use polars::prelude::*;
use subsidy_model::ids::{IdCheck, check_resident_id, id_birth_date};

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
    /// `Some(valid)` when the identifier carries a check digit
    pub id_valid: Option<bool>,
    /// phone number
    pub phone: Option<String>,
    /// bank account
    pub account: Option<String>,
    /// address
    pub address: Option<String>,
}

/// Whether two names are the same or differ in exactly one character (same length).
pub fn names_match(a: &str, b: &str) -> bool {
    let (x, y): (Vec<char>, Vec<char>) = (a.trim().chars().collect(), b.trim().chars().collect());
    x.len() == y.len() && !x.is_empty() && x.iter().zip(&y).filter(|(p, q)| p != q).count() <= 1
}

/// Whether two identifiers differ in exactly one position.
pub fn one_digit_apart(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).filter(|(p, q)| p != q).count() == 1
}

/// Whether two strings of one length differ by one swap of neighbours.
fn swapped(a: &str, b: &str) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if x.len() != y.len() {
        return false;
    }
    let d: Vec<usize> = (0..x.len()).filter(|&i| x[i] != y[i]).collect();
    d.len() == 2 && d[1] == d[0] + 1 && x[d[0]] == y[d[1]] && x[d[1]] == y[d[0]]
}

/// Name agreement, 0 to 1. A CJK name (one field): equal 1, one character apart 0.5. A Latin
/// name: per part (given, surname) equal 0.5, within Jaro-Winkler 0.85 0.4, missing on either
/// side 0.2, else 0; given and surname may be swapped.
fn name_points(a: &Record, b: &Record) -> f64 {
    let cjk = |r: &Record| !r.given.is_ascii() || !r.surname.is_ascii();
    if cjk(a) || cjk(b) {
        fn full(r: &Record) -> std::borrow::Cow<'_, str> {
            if r.surname.is_empty() {
                r.given.as_str().into()
            } else {
                format!("{}{}", r.surname, r.given).into()
            }
        }
        let (x, y) = (full(a), full(b));
        return if !x.is_empty() && x == y {
            1.0
        } else if names_match(&x, &y) {
            0.5
        } else {
            0.0
        };
    }
    let part = |x: &str, y: &str| -> f64 {
        if x.is_empty() || y.is_empty() {
            0.2
        } else if x == y {
            0.5
        } else if strsim::jaro_winkler(x, y) >= 0.85 {
            0.4
        } else {
            0.0
        }
    };
    let straight = part(&a.given, &b.given) + part(&a.surname, &b.surname);
    let crossed = part(&a.given, &b.surname) + part(&a.surname, &b.given);
    straight.max(crossed)
}

/// Whether two addresses are alike: three quarters of the shorter one's tokens have a match.
fn addresses_alike(a: &str, b: &str) -> bool {
    let ta: Vec<&str> = a.split_whitespace().collect();
    let tb: Vec<&str> = b.split_whitespace().collect();
    let (short, long) = if ta.len() <= tb.len() {
        (&ta, &tb)
    } else {
        (&tb, &ta)
    };
    if short.len() < 2 {
        // one token (an address written without spaces, as Chinese ones are): the same text;
        // 中山路78号 and 中山路75号 are neighbours, not one home
        return !a.is_empty() && a == b;
    }
    let hits = short
        .iter()
        .filter(|t| {
            long.iter()
                .any(|u| t == &u || strsim::jaro_winkler(t, u) >= 0.9)
        })
        .count();
    hits * 4 >= short.len() * 3
}

struct Dsu(Vec<usize>);
impl Dsu {
    fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut y = x;
        while self.0[y] != r {
            let n = self.0[y];
            self.0[y] = r;
            y = n;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi] = lo;
        }
    }
}

/// The evidence for merging `a` and `b`: what agreed, and the confidence.
fn evidence(a: &Record, b: &Record) -> Option<(String, f64)> {
    let name = name_points(a, b);
    let mut points = name;
    let mut why = Vec::new();
    let mut conf: Option<f64> = None;
    match (&a.birth, &b.birth) {
        (Some(x), Some(y)) if x == y => {
            points += 1.0;
            why.push("same birth date");
        }
        (Some(x), Some(y)) if one_digit_apart(x, y) || swapped(x, y) || day_month_swapped(x, y) => {
            points += 0.5;
            why.push("birth dates one typo apart");
        }
        _ => {}
    }
    if name >= 0.8 {
        why.push("near-identical name");
    } else if name >= 0.4 {
        why.push("partly matching name");
    }
    if a.phone.is_some() && a.phone == b.phone {
        points += 2.0;
        why.push("same phone");
        conf = Some(0.99);
    }
    if a.account.is_some() && a.account == b.account {
        points += 2.0;
        why.push("same bank account");
        conf = Some(0.99);
    }
    let mut same_id = false;
    if !a.id.is_empty() && !b.id.is_empty() {
        if a.id == b.id {
            points += 2.0;
            same_id = true;
            why.push("same identifier");
        } else if one_digit_apart(&a.id, &b.id) || swapped(&a.id, &b.id) {
            match (a.id_valid, b.id_valid) {
                (Some(x), Some(y)) if !(x && y) && one_digit_apart(&a.id, &b.id) => {
                    points += 2.0;
                    why.push("ID numbers one digit apart and one fails its check");
                    conf = conf.or(Some(0.9));
                }
                (None, None) => {
                    points += 1.0;
                    why.push("identifiers one typo apart");
                }
                _ => {}
            }
        }
    }
    if let (Some(x), Some(y)) = (&a.address, &b.address)
        && addresses_alike(x, y)
    {
        // an address of one token (Chinese, written without spaces) names a building more
        // often than a home: it corroborates, never decides
        points += if x.contains(' ') { 1.0 } else { 0.4 };
        why.push("alike address");
    }
    // near-identical names merge at 2.5 points, partly matching ones at 3, names that do not
    // agree only on one and the same identifier
    let merge = (name >= 0.8 && points >= 2.5) || (points >= 3.0 && (name >= 0.5 || same_id));
    merge.then(|| {
        let c = conf.unwrap_or((0.5 + 0.1 * points).min(0.95));
        (why.join(", "), c)
    })
}

/// Whether two YYYYMMDD dates differ by day and month swapped.
fn day_month_swapped(x: &str, y: &str) -> bool {
    x.len() == 8 && y.len() == 8 && x[..4] == y[..4] && x[4..6] == y[6..8] && x[6..8] == y[4..6]
}

/// How two records were linked.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// the index of the record naming the identity (the smallest key)
    pub identity: usize,
    /// 1.0 alone; else the best match's confidence
    pub confidence: f64,
    /// the best match: its index and what agreed
    pub matched: Option<(usize, String)>,
}

/// Links records into identities (see the module docs). `records` must be sorted by key.
pub fn link(records: &[Record]) -> Vec<Link> {
    // blocking keys are hashed, not formatted: a million records make seven million keys (two
    // keys that collide only share a block, which costs comparisons, not correctness)
    let state = foldhash::fast::FixedState::with_seed(0x1d);
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(records.len() * 8);
    let mut put = |key: (u8, &str, &str), i: usize| keys.push((state.hash_one(key), i as u32));
    for (i, r) in records.iter().enumerate() {
        if let Some(b) = &r.birth {
            if let Some(p) = &r.phone {
                put((b'p', b, p), i);
            }
            if let Some(a) = &r.account {
                put((b'a', b, a), i);
            }
            // the name's first letters, surname and given name alike
            for part in [&r.surname, &r.given] {
                let end = part.char_indices().nth(2).map_or(part.len(), |(k, _)| k);
                if end > 0 {
                    put((b'n', b, &part[..end]), i);
                }
            }
        }
        if r.id.is_ascii() && !r.id.is_empty() {
            // a checked 18-character resident ID: its typos sit in the last four positions
            // (sequence and check digit); any other identifier: anywhere
            let from = if r.id_valid.is_some() && r.id.len() == 18 {
                14
            } else {
                0
            };
            for k in from..r.id.len() {
                // the identifier with position k blanked: the parts either side of it
                put((b'0' + (k as u8), &r.id[..k], &r.id[k + 1..]), i);
            }
        }
    }
    // one sort groups the blocks, in a fixed order: ties between equally good matches fall the
    // same way every run
    keys.sort_unstable();
    keys.dedup();
    let blocks: Vec<Vec<usize>> = keys
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|m| m.len() > 1 && m.len() <= 50)
        .map(|m| m.iter().map(|(_, i)| *i as usize).collect())
        .collect();
    let mut dsu = Dsu((0..records.len()).collect());
    let mut why: BTreeMap<usize, (String, f64, usize)> = BTreeMap::new();
    for members in &blocks {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                if let Some((reason, conf)) = evidence(&records[i], &records[j]) {
                    dsu.union(i, j);
                    for (a, b) in [(i, j), (j, i)] {
                        let e = why.entry(a).or_insert((reason.clone(), conf, b));
                        if conf > e.1 {
                            *e = (reason.clone(), conf, b);
                        }
                    }
                }
            }
        }
    }
    (0..records.len())
        .map(|i| {
            let identity = dsu.find(i);
            match why.remove(&i) {
                Some((reason, conf, other)) => Link {
                    identity,
                    confidence: conf,
                    matched: Some((other, reason)),
                },
                None => Link {
                    identity,
                    confidence: 1.0,
                    matched: None,
                },
            }
        })
        .collect()
}

/// Resolves the persons frame into `person_id, identity_id, confidence, evidence`, one row per
/// person, sorted by person id.
pub fn resolve(persons: &DataFrame, today: NaiveDate) -> Result<DataFrame, ScoringError> {
    let s =
        |c: &str| -> Result<StringChunked, ScoringError> { Ok(persons.column(c)?.str()?.clone()) };
    let (ids, names, phones, accounts, addresses) = (
        s("person_id")?,
        s("name")?,
        s("phone")?,
        s("bank_account")?,
        s("address")?,
    );
    let births: Vec<Option<i32>> = persons
        .column("birth_date")?
        .date()?
        .physical()
        .iter()
        .collect();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or(ScoringError::Internal("epoch"))?;
    let text = |c: &StringChunked, i: usize| c.get(i).filter(|p| !p.is_empty()).map(str::to_string);
    let mut records: Vec<Record> = (0..persons.height())
        .map(|i| {
            let id = ids.get(i).unwrap_or("").to_string();
            let birth = births[i]
                .map(|d| epoch + chrono::Duration::days(i64::from(d)))
                .or_else(|| id_birth_date(&id))
                .map(|d| d.format("%Y%m%d").to_string());
            Record {
                id_valid: Some(check_resident_id(&id, today) == IdCheck::Valid),
                given: names.get(i).unwrap_or("").to_string(),
                phone: text(&phones, i),
                account: text(&accounts, i),
                address: text(&addresses, i),
                birth,
                key: id.clone(),
                id,
                ..Record::default()
            }
        })
        .collect();
    records.sort_by(|a, b| a.key.cmp(&b.key));
    let t = std::time::Instant::now();
    let links = link(&records);
    subsidy_model::trace::lap("identities linked", t);
    let identity: Vec<&str> = links
        .iter()
        .map(|l| records[l.identity].key.as_str())
        .collect();
    let confidence: Vec<f64> = links.iter().map(|l| l.confidence).collect();
    let ev: Vec<String> = links
        .iter()
        .map(|l| match &l.matched {
            Some((other, reason)) => {
                serde_json::json!({"matched": records[*other].key, "because": reason}).to_string()
            }
            None => "{}".to_string(),
        })
        .collect();
    let pid: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
    Ok(DataFrame::new_infer_height(vec![
        Column::new("person_id".into(), pid),
        Column::new("identity_id".into(), identity),
        Column::new("confidence".into(), confidence),
        Column::new("evidence".into(), ev),
    ])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persons(rows: &[(&str, &str, &str, &str, &str)]) -> DataFrame {
        let col = |k: usize| {
            rows.iter()
                .map(|r| [r.0, r.1, r.2, r.3, r.4][k].to_string())
                .map(|s| if s.is_empty() { None } else { Some(s) })
                .collect::<Vec<Option<String>>>()
        };
        let birth: Vec<Option<i32>> = rows
            .iter()
            .map(|r| {
                id_birth_date(r.0).map(|d| {
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
            Int32Chunked::from_iter_options("birth_date".into(), birth.into_iter())
                .into_date()
                .into_column(),
        ])
        .expect("frame")
    }

    fn identity_ids(out: &DataFrame) -> Vec<&str> {
        out.column("identity_id")
            .expect("identity_id")
            .str()
            .expect("text")
            .iter()
            .flatten()
            .collect()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
    }

    #[test]
    fn one_person_two_ids_is_one_identity() {
        let df = persons(&[
            ("110105198001010016", "张伟", "13812345678", "A1", ""),
            ("110105198001010024", "张玮", "13812345678", "A2", ""),
            ("110105198001010032", "张伟", "13999999999", "A3", ""),
        ]);
        let out = resolve(&df, today()).expect("resolves");
        let ids = identity_ids(&out);
        assert_eq!(
            ids,
            vec![
                "110105198001010016",
                "110105198001010016",
                "110105198001010032"
            ],
            "a same-name person with another phone stays apart"
        );
        let ev = out
            .column("evidence")
            .expect("c")
            .str()
            .expect("s")
            .get(1)
            .expect("ev")
            .to_string();
        assert!(
            ev.contains("same phone") && ev.contains("110105198001010016"),
            "{ev}"
        );
    }

    #[test]
    fn a_common_name_alone_never_merges() {
        let df = persons(&[
            ("110105198001010016", "王伟", "13800000001", "", ""),
            ("110105198001010024", "王伟", "13800000002", "", ""),
        ]);
        let out = resolve(&df, today()).expect("resolves");
        let ids = identity_ids(&out);
        assert_eq!(ids, vec!["110105198001010016", "110105198001010024"]);
    }

    #[test]
    fn neighbours_twins_and_namesakes_in_one_building_stay_apart() {
        let df = persons(&[
            // same common name and birth date, neighbouring house numbers: two people
            (
                "110105198001010016",
                "王伟",
                "",
                "",
                "杭州市西湖区中山路78号",
            ),
            (
                "110105198001010024",
                "王伟",
                "",
                "",
                "杭州市西湖区中山路75号",
            ),
            // twins, names one character apart, one home: two people
            (
                "110105199002020012",
                "李明",
                "",
                "",
                "北京市朝阳区和平街1号",
            ),
            (
                "110105199002020020",
                "李铭",
                "",
                "",
                "北京市朝阳区和平街1号",
            ),
            // one name, one birth date, one home: one person registered twice
            (
                "110105197503030013",
                "赵敏",
                "",
                "",
                "上海市徐汇区长乐路9号",
            ),
            (
                "110105197503030021",
                "赵敏",
                "",
                "",
                "上海市徐汇区长乐路9号",
            ),
        ]);
        let out = resolve(&df, today()).expect("resolves");
        // rows come back sorted by person id: 1975 (one building), 1980 (neighbours), 1990 (twins)
        let ids = identity_ids(&out);
        assert_ne!(ids[0], ids[1], "one building");
        assert_ne!(ids[2], ids[3], "neighbours");
        assert_ne!(ids[4], ids[5], "twins");
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
        let recs = vec![
            r(
                "a1",
                "daniel",
                "fysh",
                "19620207",
                "8595168",
                "27 appel crescent hermit park 2333 nsw",
            ),
            r(
                "a2",
                "dnaiel",
                "fysh",
                "19620207",
                "3085695",
                "27 appel crescent hermit park 2333 nsw",
            ),
            // a name change, the same identifier and birth date: one person
            r(
                "b1",
                "breana",
                "thorpe",
                "19660117",
                "3264752",
                "54 weipa place kimberley 4660 qld",
            ),
            r(
                "b2",
                "benjamin",
                "goode",
                "19660117",
                "3264752",
                "54 weipap lace kimberley 4660 qld",
            ),
            // same surname and address, another name and birth date: two people
            r(
                "c1",
                "ruby",
                "webb",
                "19690619",
                "9196315",
                "63 decker place morphettville 2420 nsw",
            ),
            r(
                "c2",
                "joshua",
                "webb",
                "19710302",
                "4471820",
                "63 decker place morphettville 2420 nsw",
            ),
        ];
        let links = link(&recs);
        assert_eq!(links[0].identity, links[1].identity);
        assert_eq!(links[2].identity, links[3].identity);
        assert_ne!(links[4].identity, links[5].identity);
    }

    #[test]
    fn an_id_typo_merges_only_with_a_failing_check() {
        // 110105198001010016 is valid; 110105198001010076 differs in one digit and fails its check
        let df = persons(&[
            ("110105198001010016", "李娜", "", "", ""),
            ("110105198001010076", "李娜", "", "", ""),
        ]);
        let out = resolve(&df, today()).expect("resolves");
        let ids = identity_ids(&out);
        assert_eq!(ids[0], ids[1]);
        assert_eq!(
            out.column("confidence")
                .expect("c")
                .f64()
                .expect("f")
                .get(1),
            Some(0.9)
        );
    }

    #[test]
    fn names() {
        assert!(names_match("张伟", "张玮"));
        assert!(!names_match("张伟", "张伟伟"));
        assert!(!names_match("张小伟", "李小玮"));
    }
}
