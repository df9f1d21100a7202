//! Masking personal data in human-facing reports (unless the user asks to reveal it).

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
pub fn mask_text(s: &str) -> std::borrow::Cow<'_, str> {
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
