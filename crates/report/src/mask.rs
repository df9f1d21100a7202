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
}
