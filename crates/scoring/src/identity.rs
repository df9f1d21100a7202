//! Identity resolution: which registrations are one real person.
//!
//! Blocking: candidate pairs share a birth date (from the registration, or from the ID's birth
//! digits when the registration has none) and at least one of phone, bank account, or ID number
//! with one digit different. Comparison then asks for:
//! - a name that is the same or differs in one character (a look-alike character, a typo), and
//! - strong evidence: the same phone, the same bank account, or ID numbers one digit apart where
//!   one of them fails its GB 11643 check (a mistyped number).
//!
//! A shared common name (and birth date) alone never merges two people: 王伟 born on one day in
//! one district is several people. Merged pairs are closed transitively (union-find); each
//! identity is named by its smallest person id. Confidence: 0.99 for phone or account plus name,
//! 0.9 for an ID typo plus name, 1.0 for a person alone.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use subsidy_model::ids::{IdCheck, check_resident_id, id_birth_date};

use crate::ScoringError;

/// One registration, as identity resolution reads it.
#[derive(Debug, Clone)]
struct Reg {
    id: String,
    name: String,
    birth: Option<NaiveDate>,
    phone: Option<String>,
    account: Option<String>,
    valid: bool,
}

/// Whether two names are the same or differ in exactly one character (same length).
pub fn names_match(a: &str, b: &str) -> bool {
    let (x, y): (Vec<char>, Vec<char>) = (a.trim().chars().collect(), b.trim().chars().collect());
    x.len() == y.len() && !x.is_empty() && x.iter().zip(&y).filter(|(p, q)| p != q).count() <= 1
}

/// Whether two 18-character ids differ in exactly one position.
pub fn one_digit_apart(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).filter(|(p, q)| p != q).count() == 1
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

/// The evidence for merging `a` and `b`, if any.
fn evidence(a: &Reg, b: &Reg) -> Option<(&'static str, f64)> {
    if a.birth.is_none() || a.birth != b.birth || !names_match(&a.name, &b.name) {
        return None;
    }
    if a.phone.is_some() && a.phone == b.phone {
        return Some(("same birth date, near-identical name, same phone", 0.99));
    }
    if a.account.is_some() && a.account == b.account {
        return Some((
            "same birth date, near-identical name, same bank account",
            0.99,
        ));
    }
    if one_digit_apart(&a.id, &b.id) && (!a.valid || !b.valid) {
        return Some((
            "same birth date, near-identical name, ID numbers one digit apart and one fails its check",
            0.9,
        ));
    }
    None
}

/// Resolves the persons frame into `person_id, identity_id, confidence, evidence`, one row per
/// person, sorted by person id.
pub fn resolve(persons: &DataFrame, today: NaiveDate) -> Result<DataFrame, ScoringError> {
    let s =
        |c: &str| -> Result<StringChunked, ScoringError> { Ok(persons.column(c)?.str()?.clone()) };
    let (ids, names, phones, accounts) =
        (s("person_id")?, s("name")?, s("phone")?, s("bank_account")?);
    let births: Vec<Option<i32>> = persons
        .column("birth_date")?
        .date()?
        .physical()
        .iter()
        .collect();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or(ScoringError::Internal("epoch"))?;
    let mut regs: Vec<Reg> = (0..persons.height())
        .map(|i| {
            let id = ids.get(i).unwrap_or("").to_string();
            let birth = births[i]
                .map(|d| epoch + chrono::Duration::days(i64::from(d)))
                .or_else(|| id_birth_date(&id));
            Reg {
                valid: check_resident_id(&id, today) == IdCheck::Valid,
                name: names.get(i).unwrap_or("").to_string(),
                phone: phones.get(i).filter(|p| !p.is_empty()).map(str::to_string),
                account: accounts
                    .get(i)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string),
                birth,
                id,
            }
        })
        .collect();
    regs.sort_by(|a, b| a.id.cmp(&b.id));
    // blocks: birth date + phone, birth date + account, birth date + ID with one digit blanked
    let mut blocks: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in regs.iter().enumerate() {
        let Some(b) = r.birth else { continue };
        if let Some(p) = &r.phone {
            blocks.entry(format!("p{b}{p}")).or_default().push(i);
        }
        if let Some(a) = &r.account {
            blocks.entry(format!("a{b}{a}")).or_default().push(i);
        }
        if r.id.is_ascii() {
            for k in 14..18.min(r.id.len()) {
                let mut masked = r.id.clone();
                masked.replace_range(k..k + 1, "?");
                blocks.entry(format!("i{masked}")).or_default().push(i);
            }
        }
    }
    let mut dsu = Dsu((0..regs.len()).collect());
    let mut why: BTreeMap<usize, (String, f64, String)> = BTreeMap::new();
    for members in blocks.values().filter(|m| m.len() > 1 && m.len() <= 50) {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                if let Some((reason, conf)) = evidence(&regs[i], &regs[j]) {
                    dsu.union(i, j);
                    for (a, b) in [(i, j), (j, i)] {
                        let e =
                            why.entry(a)
                                .or_insert((reason.to_string(), conf, regs[b].id.clone()));
                        if conf > e.1 {
                            *e = (reason.to_string(), conf, regs[b].id.clone());
                        }
                    }
                }
            }
        }
    }
    let n = regs.len();
    let mut identity = Vec::with_capacity(n);
    let mut confidence = Vec::with_capacity(n);
    let mut ev = Vec::with_capacity(n);
    for i in 0..n {
        let root = dsu.find(i);
        identity.push(regs[root].id.clone());
        match why.get(&i) {
            Some((reason, conf, other)) => {
                confidence.push(*conf);
                ev.push(serde_json::json!({"matched": other, "because": reason}).to_string());
            }
            None => {
                confidence.push(1.0);
                ev.push("{}".to_string());
            }
        }
    }
    let pid: Vec<String> = regs.into_iter().map(|r| r.id).collect();
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
