//! Identifier checks: resident ID (GB 11643), unified social credit code (GB 32100) with its
//! embedded organisation code (GB 11714), bank cards (Luhn) and skill-certificate numbers.
//!
//! A failed check is evidence for the rules, never a reason to reject a row.

use chrono::NaiveDate;

/// Outcome of a resident-ID check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdCheck {
    /// Well formed, real birth date, right check character.
    Valid,
    /// A 15-digit legacy number: cannot be checked, flagged by a rule.
    Legacy15,
    /// Neither 15 nor 18 characters.
    BadLength,
    /// A character other than digits (and a final `X`).
    BadCharacters,
    /// The first two digits are no province of GB/T 2260 (11–15, 21–23, 31–37, 41–46, 50–54,
    /// 61–65, 71), no Hong Kong, Macau or Taiwan residence permit (81–83), and no 2023 foreign
    /// permanent residence ID (a leading 9).
    BadRegion,
    /// The birth-date digits are not a real date, or lie in the future of `today`.
    BadBirthDate,
    /// The check character is wrong; holds the one expected.
    BadCheckDigit(char),
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The MOD 11-2 check character for the first 17 digits of a resident ID.
pub fn id_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let s: u32 = b
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(ID_CHECK[(s % 11) as usize])
}

/// Normalises an ID as the contract says: trimmed, final `x` as `X`.
pub fn normalize_id(s: &str) -> String {
    let t = s.trim();
    if let Some(head) = t.strip_suffix('x') {
        format!("{head}X")
    } else {
        t.to_string()
    }
}

/// Checks an 18-character resident ID (GB 11643-1999), with `today` bounding the birth date.
pub fn check_resident_id(id: &str, today: NaiveDate) -> IdCheck {
    let b = id.as_bytes();
    if b.len() == 15 && b.iter().all(u8::is_ascii_digit) {
        return IdCheck::Legacy15;
    }
    if b.len() != 18 {
        return IdCheck::BadLength;
    }
    if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
        return IdCheck::BadCharacters;
    }
    if !known_region(b[0] - b'0', b[1] - b'0') {
        return IdCheck::BadRegion;
    }
    match id_birth_date(id) {
        Some(d) if d <= today => {}
        _ => return IdCheck::BadBirthDate,
    }
    let expected = id_check_char(&id[..17]).unwrap_or('?');
    if char::from(b[17]) == expected {
        IdCheck::Valid
    } else {
        IdCheck::BadCheckDigit(expected)
    }
}

/// Whether an ID's first two digits open a known address code (see [`IdCheck::BadRegion`]).
fn known_region(a: u8, b: u8) -> bool {
    match a {
        1 => (1..=5).contains(&b),
        2 => (1..=3).contains(&b),
        3 => (1..=7).contains(&b),
        4 => (1..=6).contains(&b),
        5 => (0..=4).contains(&b),
        6 => (1..=5).contains(&b),
        7 => b == 1,
        8 => (1..=3).contains(&b),
        9 => true,
        _ => false,
    }
}

/// The birth date encoded in an 18-digit ID (positions 7–14), if it is a real date.
pub fn id_birth_date(id: &str) -> Option<NaiveDate> {
    let digits = id.get(6..14)?;
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let y: i32 = digits[0..4].parse().ok()?;
    let m: u32 = digits[4..6].parse().ok()?;
    let d: u32 = digits[6..8].parse().ok()?;
    if y < 1900 {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The gender encoded in an 18-digit ID: odd sequence digit = male.
pub fn id_is_male(id: &str) -> Option<bool> {
    let c = id.as_bytes().get(16)?;
    c.is_ascii_digit().then(|| (c - b'0') % 2 == 1)
}

/// The USCC character set (31 symbols; no I, O, S, V, Z).
pub const USCC_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Outcome of a unified-social-credit-code check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsccCheck {
    /// Valid, embedded organisation code included.
    Valid,
    /// Valid check character, but the embedded GB 11714 code fails (a warning only).
    OrgCodeWarning,
    /// Not 18 characters.
    BadLength,
    /// A character outside the 31-symbol set.
    BadCharacters,
    /// Wrong check character; holds the one expected.
    BadCheckChar(char),
}

fn uscc_value(c: u8) -> Option<u32> {
    USCC_CHARSET.bytes().position(|x| x == c).map(|p| p as u32)
}

/// The GB 32100 check character for the first 17 characters.
pub fn uscc_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut s = 0u32;
    for (c, w) in b.iter().zip(USCC_WEIGHTS) {
        s += uscc_value(*c)? * w;
    }
    let v = (31 - s % 31) % 31;
    USCC_CHARSET.chars().nth(v as usize)
}

/// The GB 11714 check character for an 8-character organisation-code body.
pub fn org_code_check_char(body: &str) -> Option<char> {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let b = body.as_bytes();
    if b.len() != 8 {
        return None;
    }
    let mut s = 0u32;
    for (c, w) in b.iter().zip(W) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        s += v * w;
    }
    Some(match 11 - s % 11 {
        10 => 'X',
        11 => '0',
        v => char::from(b'0' + v as u8),
    })
}

/// Checks an 18-character unified social credit code (GB 32100-2015).
pub fn check_uscc(code: &str) -> UsccCheck {
    let b = code.as_bytes();
    if b.len() != 18 {
        return UsccCheck::BadLength;
    }
    if !b.iter().all(|c| uscc_value(*c).is_some()) {
        return UsccCheck::BadCharacters;
    }
    let expected = uscc_check_char(&code[..17]).unwrap_or('?');
    if char::from(b[17]) != expected {
        return UsccCheck::BadCheckChar(expected);
    }
    match org_code_check_char(&code[8..16]) {
        Some(c) if c == char::from(b[16]) => UsccCheck::Valid,
        _ => UsccCheck::OrgCodeWarning,
    }
}

/// Luhn (ISO/IEC 7812) check over a card number of 12–19 digits.
pub fn luhn_valid(card: &str) -> bool {
    let b = card.trim().as_bytes();
    if !(12..=19).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, c) in b.iter().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// The Luhn check digit that completes `body`.
pub fn luhn_check_digit(body: &str) -> Option<char> {
    let b = body.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut sum = 0u32;
    for (i, c) in b.iter().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    Some(char::from(b'0' + ((10 - sum % 10) % 10) as u8))
}

/// The parts of a 职业技能等级证书 number: one letter (Y/S) + 21 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateNo<'a> {
    /// `Y` (用人单位) or `S` (社会培训评价组织).
    pub kind: char,
    /// 人社部 organisation code, `0000` when filed provincially (positions 2–5).
    pub org: &'a str,
    /// Province code (positions 6–7).
    pub province: &'a str,
    /// Site serial (positions 8–13).
    pub site: &'a str,
    /// Two-digit year (positions 14–15).
    pub year: u8,
    /// Level digit 1–5 (position 16).
    pub level_digit: u8,
    /// Serial (positions 17–22).
    pub serial: &'a str,
}

/// Splits a certificate number into its parts, or `None` if it is not `[YS]` + 21 digits.
pub fn parse_certificate_no(s: &str) -> Option<CertificateNo<'_>> {
    let b = s.as_bytes();
    if b.len() != 22 || !(b[0] == b'Y' || b[0] == b'S') || !b[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let level_digit = b[15] - b'0';
    if !(1..=5).contains(&level_digit) {
        return None;
    }
    Some(CertificateNo {
        kind: char::from(b[0]),
        org: &s[1..5],
        province: &s[5..7],
        site: &s[7..13],
        year: s[13..15].parse().ok()?,
        level_digit,
        serial: &s[16..22],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("date")
    }

    #[test]
    fn resident_id_test_vector() {
        assert_eq!(
            check_resident_id("11010519491231002X", today()),
            IdCheck::Valid
        );
        assert_eq!(
            check_resident_id("110105194912310021", today()),
            IdCheck::BadCheckDigit('X')
        );
        assert_eq!(
            check_resident_id("110105194913310021", today()),
            IdCheck::BadBirthDate
        );
        assert_eq!(
            check_resident_id("110105491231002", today()),
            IdCheck::Legacy15
        );
        assert_eq!(
            check_resident_id("11010519491231002", today()),
            IdCheck::BadLength
        );
        assert_eq!(
            check_resident_id("11010519491231002Y", today()),
            IdCheck::BadCharacters
        );
        assert_eq!(normalize_id(" 11010519491231002x "), "11010519491231002X");
        assert_eq!(id_is_male("11010519491231002X"), Some(false));
        assert_eq!(
            id_birth_date("11010519491231002X"),
            NaiveDate::from_ymd_opt(1949, 12, 31)
        );
    }

    #[test]
    fn region_prefix_is_a_province_a_permit_or_a_foreigner() {
        let with_check = |first17: &str| format!("{first17}{}", id_check_char(first17).unwrap());
        for ok in [
            "11010519491231002",
            "50010319900101001",
            "81000019900101001",
            "83000019900101001",
            "91110019900101001",
        ] {
            assert_eq!(
                check_resident_id(&with_check(ok), today()),
                IdCheck::Valid,
                "{ok}"
            );
        }
        // 29, 10, 47 and 84 open no address code, whatever the check digit says
        for bad in [
            "29010319900101001",
            "10010519491231002",
            "47010319900101001",
            "84000019900101001",
            "01010519491231002",
        ] {
            assert_eq!(
                check_resident_id(&with_check(bad), today()),
                IdCheck::BadRegion,
                "{bad}"
            );
        }
    }

    #[test]
    fn uscc_test_vectors() {
        assert_eq!(check_uscc("91350100M000100Y43"), UsccCheck::Valid);
        assert_eq!(check_uscc("91110000802100433B"), UsccCheck::Valid);
        assert_eq!(
            check_uscc("91110000802100433C"),
            UsccCheck::BadCheckChar('B')
        );
        assert_eq!(check_uscc("9111000080210043"), UsccCheck::BadLength);
        assert_eq!(check_uscc("91110000802100433I"), UsccCheck::BadCharacters);
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid("4539578763621486"));
        assert!(!luhn_valid("4539578763621487"));
        assert_eq!(luhn_check_digit("453957876362148"), Some('6'));
        assert!(!luhn_valid("12ab"));
    }

    #[test]
    fn certificate_numbers() {
        let c = parse_certificate_no("S000044000123254000017").expect("valid");
        assert_eq!(
            (c.kind, c.province, c.year, c.level_digit),
            ('S', "44", 25, 4)
        );
        assert!(parse_certificate_no("X000044000123254000017").is_none());
        assert!(parse_certificate_no("S00004400012325400001").is_none());
        assert!(parse_certificate_no("S000044000123259000017").is_none());
    }
}
