//! Parsing one text cell into its canonical value, by the column's contract type.

use std::borrow::Cow;

use chrono::NaiveDate;
use subsidy_model::contract::{ColType, EnumKind};
use subsidy_model::ids::normalize_id;
use subsidy_model::money::{MoneyError, parse_yuan};
use subsidy_model::vocab::parse_bool;

use crate::reject::Reason;

/// A parsed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// empty
    Null,
    /// text (string, enum, id, list)
    Str(Cow<'a, str>),
    /// int or money (fen)
    I64(i64),
    /// number
    F64(f64),
    /// bool
    Bool(bool),
    /// date: days since 1970-01-01
    Date(i32),
    /// datetime: milliseconds since 1970-01-01 00:00 of the UTC+8 wall clock
    Datetime(i64),
}

/// Why a cell could not be parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct CellError {
    /// The reason code.
    pub reason: Reason,
    /// A sentence for the reviewer.
    pub message: String,
}

fn err(reason: Reason, message: impl Into<String>) -> CellError {
    CellError {
        reason,
        message: message.into(),
    }
}

const EPOCH_DAYS_CE: i32 = 719_163; // NaiveDate(1970-01-01).num_days_from_ce()

/// Days since 1970-01-01.
pub fn days_since_epoch(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - EPOCH_DAYS_CE
}

/// Parses a cell of type `ty`. Empty (after trimming) is `Null`; the caller checks `required`.
pub fn parse_cell(ty: ColType, raw: &str) -> Result<Value<'_>, CellError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(Value::Null);
    }
    match ty {
        ColType::Str => Ok(Value::Str(Cow::Borrowed(t))),
        ColType::PersonId => Ok(if t.ends_with('x') {
            Value::Str(Cow::Owned(normalize_id(t)))
        } else {
            Value::Str(Cow::Borrowed(t))
        }),
        ColType::Enum(kind) => parse_enum(kind, t),
        ColType::Money => match parse_yuan(t) {
            Ok(fen) => Ok(Value::I64(fen)),
            Err(MoneyError::Negative) => Err(err(Reason::NegativeMoney, format!("negative money `{t}`"))),
            Err(e) => Err(err(Reason::BadMoney, format!("`{t}` is not money in yuan: {e}"))),
        },
        ColType::Date => parse_date(t).map(|d| Value::Date(days_since_epoch(d))).ok_or_else(|| {
            err(Reason::BadDate, format!("`{t}` is not a date (expected YYYY-MM-DD)"))
        }),
        ColType::Datetime => parse_datetime_ms(t).map(Value::Datetime).ok_or_else(|| {
            err(
                Reason::BadDatetime,
                format!("`{t}` is not a datetime (expected YYYY-MM-DD HH:MM:SS, or ISO 8601 with offset)"),
            )
        }),
        ColType::Int { min, max } => {
            let v = parse_int(t).ok_or_else(|| err(Reason::BadNumber, format!("`{t}` is not a whole number")))?;
            if v < min || v > max {
                return Err(err(Reason::OutOfRange, format!("{v} is outside {min}..{max}")));
            }
            Ok(Value::I64(v))
        }
        ColType::Number { min, max } => {
            let v = parse_f64(t).ok_or_else(|| err(Reason::BadNumber, format!("`{t}` is not a number")))?;
            if v < min || v > max {
                return Err(err(Reason::OutOfRange, format!("{v} is outside {min}..{max}")));
            }
            Ok(Value::F64(v))
        }
        ColType::Bool => parse_bool(t)
            .map(Value::Bool)
            .ok_or_else(|| err(Reason::BadBool, format!("`{t}` is not a boolean (true/false, 1/0, 是/否)"))),
        ColType::List => Ok(Value::Str(Cow::Owned(normalize_list(t)))),
        ColType::NumList(n) => {
            let items: Vec<&str> = split_list(t).collect();
            if items.len() != n || items.iter().any(|i| parse_f64(i).is_none()) {
                return Err(err(Reason::BadList, format!("`{t}` is not a list of {n} numbers separated by `;`")));
            }
            Ok(Value::Str(Cow::Owned(items.join(";"))))
        }
    }
}

fn parse_enum(kind: EnumKind, t: &str) -> Result<Value<'static>, CellError> {
    match kind.canonical(t) {
        Some(c) => Ok(Value::Str(Cow::Borrowed(c))),
        None => {
            let names = kind.names();
            let hint = crate::suggest::nearest(t, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            Err(err(
                Reason::UnknownEnum,
                format!(
                    "unknown value `{t}` (expected one of {}){hint}",
                    names.join(", ")
                ),
            ))
        }
    }
}

fn split_list(t: &str) -> impl Iterator<Item = &str> {
    t.split([';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn normalize_list(t: &str) -> String {
    split_list(t).collect::<Vec<_>>().join(";")
}

fn parse_f64(t: &str) -> Option<f64> {
    if let Some(v) = plain_decimal(t.as_bytes()) {
        return Some(v);
    }
    let v: f64 = t.parse().ok()?;
    v.is_finite().then_some(v)
}

/// `[-]digits[.digits]`, as coordinates and scores are written, read exactly as `str::parse`
/// reads it when the digits form an integer of at most 2^53 and at most 22 of them follow the
/// point: both that integer and the power of ten dividing it are exact, so the one division is
/// correctly rounded (Clinger's fast path). Anything else: `None`, and the caller parses it in
/// full.
fn plain_decimal(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let (int, frac) = match memchr::memchr(b'.', digits) {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, &[][..]),
    };
    // at most 19 digits cannot overflow a u64
    if int.is_empty() || int.len() + frac.len() > 19 || frac.len() >= POW10.len() {
        return None;
    }
    let mut m = 0u64;
    for &c in int.iter().chain(frac) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m * 10 + u64::from(c - b'0');
    }
    if m > 1 << 53 {
        return None;
    }
    // `1.` is a number to `str::parse`, and stays one here
    let v = m as f64 / POW10[frac.len()];
    Some(if neg { -v } else { v })
}

fn parse_int(t: &str) -> Option<i64> {
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    // spreadsheets write whole numbers as `3.0`
    let f = parse_f64(t)?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `YYYY-MM-DD` (also `YYYY/MM/DD` and single-digit month or day); a trailing midnight
/// time (`00:00:00`, as spreadsheets write dates) is accepted.
pub fn parse_date(t: &str) -> Option<NaiveDate> {
    if let Some(d) = fixed_date(t.as_bytes()) {
        return d;
    }
    let (date, time) = match t.split_once([' ', 'T']) {
        Some((d, tm)) => (d, Some(tm.trim())),
        None => (t, None),
    };
    if let Some(tm) = time
        && !matches!(tm, "00:00:00" | "00:00" | "00:00:00.000")
    {
        return None;
    }
    let mut parts = date.split(['-', '/']);
    let y = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let d = num(parts.next()?)?;
    if parts.next().is_some() || !(1000..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// Parses a datetime into milliseconds of the UTC+8 wall clock since the epoch.
///
/// Accepts `YYYY-MM-DD HH:MM[:SS[.fff]]`, with `T` instead of the space, and an optional offset
/// (`Z`, `+08:00`, `+0800`, `-05:00`), which is converted to UTC+8.
pub fn parse_datetime_ms(t: &str) -> Option<i64> {
    if let Some(ms) = fixed_datetime(t.as_bytes()) {
        return ms;
    }
    let (date, rest) = t.split_once([' ', 'T'])?;
    let d = parse_date(date)?;
    let rest = rest.trim();
    // split off an offset
    let (clock, offset_min): (&str, i64) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 && digits.len() != 2 {
            return None;
        }
        let h: i64 = digits.get(0..2)?.parse().ok()?;
        let m: i64 = if digits.len() == 4 {
            digits[2..4].parse().ok()?
        } else {
            0
        };
        if h > 14 || m > 59 {
            return None;
        }
        (c, sign * (h * 60 + m))
    } else {
        (rest, 8 * 60)
    };
    let mut it = clock.split(':');
    let h = num(it.next()?)?;
    let mi = num(it.next()?)?;
    let (s, ms) = match it.next() {
        Some(sec) => match sec.split_once('.') {
            Some((s, frac)) => {
                let frac3: String = frac.chars().chain("000".chars()).take(3).collect();
                if !frac.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (num(s)?, frac3.parse::<u32>().ok()?)
            }
            None => (num(sec)?, 0),
        },
        None => (0, 0),
    };
    if it.next().is_some() || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = i64::from(days_since_epoch(d));
    let local_ms = ((days * 24 + i64::from(h)) * 60 + i64::from(mi)) * 60_000
        + i64::from(s) * 1000
        + i64::from(ms);
    // convert from the given offset to UTC+8
    Some(local_ms + (8 * 60 - offset_min) * 60_000)
}

/// The digits at `b[i..j]` as a number (`None` if any is not a digit).
fn digits(b: &[u8], i: usize, j: usize) -> Option<u32> {
    b[i..j].iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// The export's usual `YYYY-MM-DD`, read by position: `Some(answer)` where the general parser
/// would give the same answer, `None` for any other shape (left to the general parser).
fn fixed_date(b: &[u8]) -> Option<Option<NaiveDate>> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(b, 0, 4)?, digits(b, 5, 7)?, digits(b, 8, 10)?);
    Some(if y >= 1000 {
        NaiveDate::from_ymd_opt(y as i32, m, d)
    } else {
        None
    })
}

/// The export's usual `YYYY-MM-DD HH:MM:SS` (or with `T`), no offset: the UTC+8 wall clock,
/// read by position. `Some(answer)` where the general parser would give the same answer, `None`
/// for any other shape. Most sign-in rows take this path: it is most of a package's cells.
fn fixed_datetime(b: &[u8]) -> Option<Option<i64>> {
    if b.len() != 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = fixed_date(&b[..10])?;
    let (h, mi, s) = (digits(b, 11, 13)?, digits(b, 14, 16)?, digits(b, 17, 19)?);
    Some(date.filter(|_| h <= 23 && mi <= 59 && s <= 60).map(|d| {
        let days = i64::from(days_since_epoch(d));
        ((days * 24 + i64::from(h)) * 60 + i64::from(mi)) * 60_000 + i64::from(s) * 1000
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use subsidy_model::contract::EnumKind;

    /// The fast path must read every number it takes to the same bits as `str::parse`.
    #[test]
    fn plain_decimals_read_as_str_parse_reads_them() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "1.",
            "0.852",
            "38.903739",
            "121.648739",
            "-77.5",
            "999999999999999",
            "0.000000000000001",
            "123456789.012345",
            "00012.50",
            "9007199254740.992",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // a seeded sweep over coordinates and scores as exports write them
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 15) as usize + 1;
            let m = x % 10u64.pow(digits as u32);
            let point = (x >> 40) as usize % (digits + 1);
            let s = format!("{m:0digits$}");
            let (a, b) = s.split_at(digits - point);
            let a = if a.is_empty() { "0" } else { a };
            cases.push(if point == 0 {
                a.to_string()
            } else {
                format!("{a}.{b}")
            });
            if x & 1 == 1 {
                cases.push(format!("-{}", cases.last().unwrap()));
            }
        }
        for c in &cases {
            let fast = plain_decimal(c.as_bytes()).unwrap_or_else(|| panic!("{c} not taken"));
            let full: f64 = c.parse().unwrap();
            assert_eq!(fast.to_bits(), full.to_bits(), "{c}");
        }
        // left to the full parser
        for c in [
            "1e5",
            "+1.5",
            ".5",
            "1.2.3",
            "12a",
            "-",
            "",
            "9007199254740993",
            "inf",
            "1_0",
        ] {
            assert!(plain_decimal(c.as_bytes()).is_none(), "{c}");
        }
        assert_eq!(parse_f64("+1.5"), Some(1.5));
        assert_eq!(parse_f64(".5"), Some(0.5));
        assert_eq!(parse_f64("inf"), None);
    }

    fn dt(s: &str) -> i64 {
        parse_datetime_ms(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2025-03-01"),
            NaiveDate::from_ymd_opt(2025, 3, 1)
        );
        assert_eq!(parse_date("2025/3/1"), NaiveDate::from_ymd_opt(2025, 3, 1));
        assert_eq!(
            parse_date("2025-03-01 00:00:00"),
            NaiveDate::from_ymd_opt(2025, 3, 1)
        );
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_date("2025-03-01 08:00:00"), None);
        assert_eq!(parse_date("01/03/2025"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    /// The positional fast paths give what the general parser gives, on good and bad values.
    #[test]
    fn fixed_shapes_agree_with_the_general_parser() {
        let general_date = |t: &str| {
            let (y, m, d) = (num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?);
            if y < 1000 {
                return None;
            }
            NaiveDate::from_ymd_opt(y as i32, m, d)
        };
        for t in [
            "2025-03-01",
            "2024-02-29",
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "0999-01-01",
            "1000-01-01",
            "9999-12-31",
            "2025-04-31",
            "2025-1a-01",
        ] {
            assert_eq!(fixed_date(t.as_bytes()).flatten(), general_date(t), "{t}");
            assert_eq!(parse_date(t), general_date(t), "{t}");
        }
        for (t, want) in [
            ("2025-03-01 08:30:00", Some(dt("2025-03-01 08:30"))),
            ("2025-03-01T08:30:00", Some(dt("2025-03-01 08:30"))),
            ("2025-03-01 23:59:60", Some(dt("2025-03-01 23:59") + 60_000)),
            ("2025-03-01 24:00:00", None),
            ("2025-03-01 08:60:00", None),
            ("2025-03-01 08:30:61", None),
            ("2025-02-30 08:30:00", None),
            ("2025-03-01 0a:30:00", None),
        ] {
            assert_eq!(fixed_datetime(t.as_bytes()).flatten(), want, "{t}");
            assert_eq!(parse_datetime_ms(t), want, "{t}");
        }
        // other shapes are left to the general parser
        assert_eq!(fixed_datetime(b"2025-03-01 08:30"), None);
        assert_eq!(fixed_datetime(b"2025-03-01T08:30:00Z"), None);
        assert_eq!(fixed_date(b"2025/03/01"), None);
        // and a day before the epoch counts back
        assert_eq!(parse_datetime_ms("1969-12-31 23:00:00"), Some(-3_600_000));
    }

    #[test]
    fn datetimes_and_offsets() {
        let base = dt("2025-03-01 08:30:00");
        assert_eq!(dt("2025-03-01T08:30:00"), base);
        assert_eq!(dt("2025-03-01T08:30:00+08:00"), base);
        assert_eq!(dt("2025-03-01T00:30:00Z"), base);
        assert_eq!(dt("2025-03-01T00:30:00+0000"), base);
        assert_eq!(dt("2025-02-28T19:30:00-05:00"), base);
        assert_eq!(dt("2025-03-01 08:30"), base);
        assert_eq!(dt("2025-03-01 08:30:00.250"), base + 250);
        assert_eq!(parse_datetime_ms("2025-03-01"), None);
        assert_eq!(parse_datetime_ms("2025-03-01 25:00:00"), None);
    }

    #[test]
    fn typed_cells() {
        assert_eq!(
            parse_cell(ColType::Money, "1500.5"),
            Ok(Value::I64(150_050))
        );
        assert_eq!(parse_cell(ColType::Money, " "), Ok(Value::Null));
        assert_eq!(
            parse_cell(ColType::Money, "-5").map_err(|e| e.reason),
            Err(Reason::NegativeMoney)
        );
        assert_eq!(
            parse_cell(ColType::Money, "abc").map_err(|e| e.reason),
            Err(Reason::BadMoney)
        );
        assert_eq!(
            parse_cell(ColType::Enum(EnumKind::Level), "中级工"),
            Ok(Value::Str(Cow::Borrowed("intermediate")))
        );
        let e = parse_cell(ColType::Enum(EnumKind::Level), "juniour").expect_err("unknown");
        assert_eq!(e.reason, Reason::UnknownEnum);
        assert!(e.message.contains("did you mean `junior`"), "{}", e.message);
        assert_eq!(
            parse_cell(ColType::PersonId, "11010519491231002x"),
            Ok(Value::Str("11010519491231002X".into()))
        );
        assert_eq!(
            parse_cell(ColType::List, " a ; b;;c "),
            Ok(Value::Str("a;b;c".into()))
        );
        assert_eq!(
            parse_cell(ColType::NumList(4), "0;0.1;0.2;0.3"),
            Ok(Value::Str("0;0.1;0.2;0.3".into()))
        );
        assert_eq!(
            parse_cell(ColType::NumList(4), "0;0.1").map_err(|e| e.reason),
            Err(Reason::BadList)
        );
        assert_eq!(
            parse_cell(ColType::Int { min: 0, max: 3 }, "3.0"),
            Ok(Value::I64(3))
        );
        assert_eq!(
            parse_cell(ColType::Int { min: 0, max: 3 }, "4").map_err(|e| e.reason),
            Err(Reason::OutOfRange)
        );
        assert_eq!(
            parse_cell(ColType::Number { min: 0.0, max: 1.0 }, "NaN").map_err(|e| e.reason),
            Err(Reason::BadNumber)
        );
        assert_eq!(parse_cell(ColType::Bool, "否"), Ok(Value::Bool(false)));
    }
}
