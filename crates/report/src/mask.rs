//! Masking personal data in human-facing reports (unless the user asks to reveal it).
//!
//! [`Masker`] is what the reports use: it masks every identifier the package itself holds (ID
//! numbers, phones, bank accounts, registered with [`Masker::add`]) wherever it stands in a text,
//! and, through [`mask_text`], anything else that looks like one.

use foldhash::{HashSet, HashSetExt};
use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Masks the personal data of one package in report text.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    reveal: bool,
    /// hashes of the known identifiers (upper-cased, separators removed)
    known: HashSet<u64>,
}

fn key(s: &str) -> u64 {
    // SipHash with fixed keys: the same on every run; a collision only masks a little more
    let mut h = DefaultHasher::new();
    for b in s.bytes().filter(u8::is_ascii_alphanumeric) {
        b.to_ascii_uppercase().hash(&mut h);
    }
    h.finish()
}

/// A masked form of a known identifier, shaped by what it looks like.
fn mask_known(s: &str) -> String {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if s.len() == 18 && digits >= 17 {
        mask_id(s)
    } else if s.len() == 11 && digits == 11 && s.starts_with('1') {
        mask_phone(s)
    } else {
        mask_account(s)
    }
}

impl Masker {
    /// A masker that masks (`reveal` false) or shows everything as it is (`reveal` true).
    pub fn new(reveal: bool) -> Masker {
        Masker {
            reveal,
            known: HashSet::new(),
        }
    }

    /// Whether personal data is shown unmasked.
    pub fn reveals(&self) -> bool {
        self.reveal
    }

    /// Registers one of the package's identifiers (an ID number, a phone, an account): wherever
    /// it stands in a text as a whole token (also written with `-` or space between its digit
    /// groups), it is masked. Values shorter than 6 characters are not identifiers and are
    /// ignored.
    pub fn add(&mut self, value: &str) {
        if self.reveal {
            return;
        }
        let n = value.bytes().filter(u8::is_ascii_alphanumeric).count();
        if n >= 6 && value.bytes().any(|b| b.is_ascii_digit()) {
            self.known.insert(key(value));
        }
    }

    /// How many identifiers are registered.
    pub fn known(&self) -> usize {
        self.known.len()
    }

    /// `s` with personal data masked (unchanged when revealing).
    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.reveal || !s.bytes().any(|b| b.is_ascii_digit()) {
            return Cow::Borrowed(s);
        }
        let b = s.as_bytes();
        let mut out = String::new();
        let mut last = 0;
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            // a span: alphanumeric tokens joined by single `-` or space between two digits
            let start = i;
            let mut tokens = Vec::new();
            loop {
                let t0 = i;
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                tokens.push((t0, i));
                if i + 1 < b.len()
                    && matches!(b[i], b'-' | b' ')
                    && b[i - 1].is_ascii_digit()
                    && b[i + 1].is_ascii_digit()
                {
                    i += 1;
                    continue;
                }
                break;
            }
            let span = &s[start..i];
            let mut replaced: Option<String> = None;
            if tokens.len() > 1 && !self.known.is_empty() && self.known.contains(&key(span)) {
                let compact: String = span.chars().filter(char::is_ascii_alphanumeric).collect();
                replaced = Some(mask_known(&compact.to_ascii_uppercase()));
            } else {
                let mut o = String::new();
                let mut changed = false;
                let mut prev = start;
                for (a, z) in tokens {
                    o.push_str(&s[prev..a]);
                    let t = &s[a..z];
                    if !self.known.is_empty() && t.len() >= 6 && self.known.contains(&key(t)) {
                        o.push_str(&mask_known(&t.to_ascii_uppercase()));
                        changed = true;
                    } else {
                        let m = mask_text(t);
                        changed |= matches!(m, Cow::Owned(_));
                        o.push_str(&m);
                    }
                    prev = z;
                }
                if changed {
                    replaced = Some(o);
                }
            }
            if let Some(r) = replaced {
                out.push_str(&s[last..start]);
                out.push_str(&r);
                last = i;
            }
        }
        if last == 0 {
            return Cow::Borrowed(s);
        }
        out.push_str(&s[last..]);
        Cow::Owned(out)
    }
}

/// A resident ID: the first 6 and last 4 characters kept (`110105********002X`).
pub fn mask_id(id: &str) -> String {
    keep_ends(id, 6, 4)
}

/// A phone: the first 3 and last 4 digits kept (`138****5678`).
pub fn mask_phone(phone: &str) -> String {
    keep_ends(phone, 3, 4)
}

/// A bank account: only the last 4 digits kept (`****1234`).
pub fn mask_account(acct: &str) -> String {
    let chars: Vec<char> = acct.chars().collect();
    if chars.len() <= 4 {
        return "****".into();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("****{tail}")
}

/// Masks every resident ID, mobile phone and bank account inside free text (messages, evidence,
/// ids): a run of 17 digits and a digit or `X` whose birth digits form a date is an ID; a run of
/// 11 digits starting with 1 is a phone; a run of 16 to 19 digits is an account. Other runs (claim
/// ids, credit codes, amounts) are left as they are.
pub fn mask_text(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if !b.iter().any(u8::is_ascii_digit) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 17 && i < b.len() && (b[i] == b'X' || b[i] == b'x') {
            i += 1;
        }
        // a run glued to letters is part of a code (a credit code, a claim id), not a number
        let glued = (start > 0 && b[start - 1].is_ascii_alphabetic())
            || (i < b.len() && b[i].is_ascii_alphanumeric());
        let run = &s[start..i];
        let masked = if glued {
            None
        } else if run.len() == 18 && subsidy_model::ids::id_birth_date(run).is_some() {
            Some(mask_id(run))
        } else if run.len() == 11 && run.starts_with('1') {
            Some(mask_phone(run))
        } else if (16..=19).contains(&run.len()) {
            Some(mask_account(run))
        } else {
            None
        };
        if let Some(m) = masked {
            out.push_str(&s[last..start]);
            out.push_str(&m);
            last = i;
        }
    }
    if last == 0 {
        return s.into();
    }
    out.push_str(&s[last..]);
    out.into()
}

fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_as_the_contract_shows() {
        assert_eq!(mask_id("11010519491231002X"), "110105********002X");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_account("6222021234567891234"), "****1234");
        assert_eq!(mask_account("12"), "****");
        assert_eq!(mask_id("123"), "***");
    }

    #[test]
    fn known_identifiers_are_masked_wherever_they_stand() {
        let mut m = Masker::new(false);
        // an ID whose birth digits are no date, a short account, a phone written in groups
        m.add("11010519491331002X");
        m.add("62220212345");
        m.add("139-1234-5678");
        assert_eq!(
            m.text("d-11010519491331002x acct 62220212345 tel 139 1234 5678."),
            "d-110105********002X acct ****2345 tel 139****5678."
        );
        // what only looks like one is masked as before; other codes stay
        assert_eq!(
            m.text("CM000001105 13812345678 2026-01-12"),
            "CM000001105 138****5678 2026-01-12"
        );
        assert_eq!(Masker::new(true).text("13812345678"), "13812345678");
    }

    #[test]
    fn text_is_masked_where_it_holds_personal_data() {
        assert_eq!(
            mask_text("person 11010519491231002X paid to 6222021234567891234, phone 13812345678"),
            "person 110105********002X paid to ****1234, phone 138****5678"
        );
        // credit codes, claim ids and amounts stay
        let kept = "institution 91310104LY7DBTLN28 claim CM000001105 amount 1100.00 code 110105";
        assert_eq!(mask_text(kept), kept);
        // eighteen digits that are no date of birth are not an ID
        assert_eq!(mask_text("x 123456789012345678 y"), "x ****5678 y");
        assert_eq!(
            mask_text(r#"{"person_id":"110105194912310029"}"#),
            r#"{"person_id":"110105********0029"}"#
        );
    }
}
