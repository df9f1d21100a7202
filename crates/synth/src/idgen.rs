//! Well-formed identifiers: resident IDs, credit codes, bank cards, certificate numbers.

use rand::Rng;
use subsidy_model::ids::{
    USCC_CHARSET, id_check_char, luhn_check_digit, org_code_check_char, uscc_check_char,
};

/// A valid 18-digit resident ID for the region, birth date (YYYYMMDD) and gender.
pub fn person_id(rng: &mut impl Rng, region: &str, birth: &str, male: bool) -> String {
    let mut seq: u32 = rng.gen_range(0..500) * 2;
    if male {
        seq += 1;
    }
    let first17 = format!("{region}{birth}{seq:03}");
    let check = id_check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}

/// A valid unified social credit code with a valid embedded organisation code.
pub fn uscc(rng: &mut impl Rng, authority: char, region: &str) -> String {
    let digits = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    let body: String = (0..8)
        .map(|_| {
            // organisation codes use digits and upper-case letters that are in the USCC set
            let i = rng.gen_range(0..digits.len());
            digits.as_bytes()[i] as char
        })
        .collect();
    let org_check = org_code_check_char(&body).expect("8 chars");
    // X is in the USCC set; 0 too
    let first17 = format!("{authority}1{region}{body}{org_check}");
    debug_assert!(first17.chars().all(|c| USCC_CHARSET.contains(c)));
    let check = uscc_check_char(&first17).expect("17 chars");
    format!("{first17}{check}")
}

/// A 19-digit UnionPay-style card number passing Luhn.
pub fn bank_card(rng: &mut impl Rng) -> String {
    let body: String = format!("622202{:012}", rng.gen_range(0..1_000_000_000_000u64));
    let c = luhn_check_digit(&body).expect("digits");
    format!("{body}{c}")
}

/// A mobile number.
pub fn phone(rng: &mut impl Rng) -> String {
    let p = ["13", "15", "17", "18", "19"][rng.gen_range(0..5)];
    format!("{p}{:09}", rng.gen_range(0..1_000_000_000u64))
}

/// A 职业技能等级证书 number: S + 0000 + province + site + yy + level digit + serial. The serial
/// field holds six digits: every further million certificates moves to another site number, so
/// numbers stay unique at any scale.
pub fn certificate(province: &str, site: u32, year: i32, level_digit: u8, serial: u64) -> String {
    let site = site + 10_000 * (serial / 1_000_000) as u32;
    format!(
        "S0000{province}{site:06}{:02}{level_digit}{:06}",
        year % 100,
        serial % 1_000_000
    )
}

/// A 专项职业能力证书 number. It is not a level certificate: each province numbers its own, and
/// the generator uses three such patterns, by province (18, 16 and 17 characters), e.g.
/// `ZX2124000000000018`, `44ZX202500012345`, `ZXNL3320250000123`.
pub fn special_certificate(province: &str, year: i32, serial: u64) -> String {
    let p: u32 = province.parse().unwrap_or(0);
    match p % 3 {
        0 => format!(
            "ZX{province}{:02}{:012}",
            year % 100,
            serial % 1_000_000_000_000
        ),
        1 => format!("{province}ZX{year}{:08}", serial % 100_000_000),
        _ => format!("ZXNL{province}{year}{:07}", serial % 10_000_000),
    }
}

/// A 培训合格证书 number, issued by the training institution in its own numbering: `PX` +
/// region + year + serial, or the institution's credit-code tail, year and serial joined by `-`.
pub fn training_certificate(region: &str, institution: &str, year: i32, serial: u64) -> String {
    if region.as_bytes().last().is_some_and(|b| b % 2 == 0) {
        format!("PX{region}{year}{:07}", serial % 10_000_000)
    } else {
        let tail = &institution[institution.len().saturating_sub(6)..];
        format!("{tail}-{year}-{:06}", serial % 1_000_000)
    }
}
