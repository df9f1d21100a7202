//! Exact money: yuan with at most two decimals, held as integer fen (1 yuan = 100 fen).

use thiserror::Error;

/// Why a money value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    /// The value is below zero.
    #[error("negative amount")]
    Negative,
    /// The value is not a decimal number.
    #[error("not a number")]
    NotANumber,
    /// More than two decimals: not a whole fen.
    #[error("more than two decimals")]
    TooPrecise,
    /// Too large to hold exactly.
    #[error("amount too large")]
    TooLarge,
}

/// Parses yuan (`1500`, `1500.5`, `1500.00`, optional `¥`/`￥` prefix) into fen.
pub fn parse_yuan(s: &str) -> Result<i64, MoneyError> {
    let t = s.trim();
    let t = t
        .strip_prefix('¥')
        .or_else(|| t.strip_prefix('￥'))
        .unwrap_or(t)
        .trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(MoneyError::NotANumber);
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MoneyError::NotANumber);
    }
    if t.ends_with('.') && frac.is_empty() && whole.is_empty() {
        return Err(MoneyError::NotANumber);
    }
    // trailing zeros beyond two decimals are harmless ("1500.000")
    let frac_trim = frac.trim_end_matches('0');
    if frac_trim.len() > 2 {
        return Err(MoneyError::TooPrecise);
    }
    let whole_v: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| MoneyError::TooLarge)?
    };
    let mut frac_v: i64 = 0;
    for (i, b) in frac_trim.bytes().enumerate() {
        frac_v += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
    }
    let fen = whole_v
        .checked_mul(100)
        .and_then(|v| v.checked_add(frac_v))
        .ok_or(MoneyError::TooLarge)?;
    if neg && fen != 0 {
        return Err(MoneyError::Negative);
    }
    Ok(fen)
}

/// Converts a binary float holding yuan (from a spreadsheet or Parquet file) to fen, refusing
/// values that are not within a millionth of a whole fen.
pub fn yuan_f64_to_fen(v: f64) -> Result<i64, MoneyError> {
    if !v.is_finite() {
        return Err(MoneyError::NotANumber);
    }
    if v < 0.0 {
        return Err(MoneyError::Negative);
    }
    let scaled = v * 100.0;
    if scaled > 9.0e15 {
        return Err(MoneyError::TooLarge);
    }
    let r = scaled.round();
    if (scaled - r).abs() > 1e-6 * scaled.abs().max(1.0) {
        return Err(MoneyError::TooPrecise);
    }
    Ok(r as i64)
}

/// Formats fen as yuan with exactly two decimals (`150000` → `1500.00`).
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_fen() {
        assert_eq!(parse_yuan("1500"), Ok(150_000));
        assert_eq!(parse_yuan("1500.00"), Ok(150_000));
        assert_eq!(parse_yuan(" 1500.5 "), Ok(150_050));
        assert_eq!(parse_yuan("0.07"), Ok(7));
        assert_eq!(parse_yuan(".5"), Ok(50));
        assert_eq!(parse_yuan("¥800"), Ok(80_000));
        assert_eq!(parse_yuan("1500.000"), Ok(150_000));
        assert_eq!(parse_yuan("-0"), Ok(0));
    }

    #[test]
    fn rejects_bad_money() {
        assert_eq!(parse_yuan("-100"), Err(MoneyError::Negative));
        assert_eq!(parse_yuan("abc"), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan(""), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan("1e3"), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan("1,500"), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan("1.234"), Err(MoneyError::TooPrecise));
        assert_eq!(
            parse_yuan("99999999999999999999"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn floats_and_formatting() {
        assert_eq!(yuan_f64_to_fen(1234.56), Ok(123_456));
        assert_eq!(yuan_f64_to_fen(0.1 + 0.2), Ok(30));
        assert_eq!(yuan_f64_to_fen(1.005), Err(MoneyError::TooPrecise));
        assert_eq!(yuan_f64_to_fen(-1.0), Err(MoneyError::Negative));
        assert_eq!(format_yuan(150_050), "1500.50");
        assert_eq!(format_yuan(7), "0.07");
        assert_eq!(format_yuan(-7), "-0.07");
    }
}
