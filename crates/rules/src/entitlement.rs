//! Differentiated subsidy (clause 17): what each claim is entitled to.
//!
//! The standard for a claim is the row of `subsidy_standards` (the package's own table, else the
//! defaults shipped in `rules/pack.toml`) whose scheme and level match (empty = any), whose
//! validity covers the claim's judged date (class start, else evaluation date, else claim date),
//! and whose region is the training institution's region, else `*`. The entitlement is
//! `amount × (1 + uplift[tier])`, the uplift taken from the occupation's shortage tier in the
//! catalogue version valid on that date, capped at `uplift_max`; an occupation missing from the
//! catalogue gets no uplift. Over-claim = claimed − entitled.

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

/// One standard.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct Standard {
    /// region code or `*`
    pub region: String,
    /// scheme, empty = any
    #[serde(default)]
    pub scheme: String,
    /// level, empty = any
    #[serde(default)]
    pub level: String,
    /// base amount in fen
    pub amount_fen: i64,
    /// uplift fraction for tiers 0..3
    pub uplift: [f64; 4],
    /// valid from (days since epoch)
    #[serde(default)]
    pub from: Option<i32>,
    /// valid until (days since epoch)
    #[serde(default)]
    pub until: Option<i32>,
}

/// Days since 1970-01-01.
pub fn days(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - 719_163
}

/// Reads the package's `subsidy_standards` frame.
pub fn standards_from_frame(df: &DataFrame) -> PolarsResult<Vec<Standard>> {
    let s = |c: &str| -> PolarsResult<StringChunked> { Ok(df.column(c)?.str()?.clone()) };
    let (region, scheme, level, uplift) = (
        s("region_code")?,
        s("scheme")?,
        s("level")?,
        s("uplift_by_tier")?,
    );
    let amount = df.column("amount")?.i64()?.clone();
    let d = |c: &str| -> PolarsResult<Vec<Option<i32>>> {
        Ok(df.column(c)?.date()?.physical().iter().collect())
    };
    let (from, until) = (d("valid_from")?, d("valid_until")?);
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut u = [0.0; 4];
        if let Some(list) = uplift.get(i) {
            for (k, v) in list.split(';').enumerate().take(4) {
                u[k] = v.trim().parse().unwrap_or(0.0);
            }
        }
        out.push(Standard {
            region: region.get(i).unwrap_or("*").to_string(),
            scheme: scheme.get(i).unwrap_or("").to_string(),
            level: level.get(i).unwrap_or("").to_string(),
            amount_fen: amount.get(i).unwrap_or(0),
            uplift: u,
            from: from[i],
            until: until[i],
        });
    }
    Ok(out)
}

/// How a row's entitlement was set, in English and in Chinese.
pub type Basis = (Vec<Option<String>>, Vec<Option<String>>);

/// The Chinese name of a scheme or level code (its first alias), else the code.
fn zh_name<V: subsidy_model::vocab::Vocab>(
    code: &str,
    aliases: impl Fn(V) -> &'static [&'static str],
) -> String {
    V::from_canonical(code)
        .and_then(|v| aliases(v).first().copied())
        .unwrap_or(code)
        .to_string()
}

/// The entitlement (fen) of every row of the claim view, and a sentence saying how (English,
/// Chinese).
pub fn entitle(
    claims: &DataFrame,
    standards: &[Standard],
    uplift_max: f64,
) -> PolarsResult<(Vec<Option<i64>>, Basis)> {
    let s = |c: &str| -> PolarsResult<StringChunked> { Ok(claims.column(c)?.str()?.clone()) };
    let (scheme, level, region) = (s("scheme")?, s("level")?, s("inst_region")?);
    let judged_on: Vec<Option<i32>> = claims
        .column("judged_on")?
        .date()?
        .physical()
        .iter()
        .collect();
    let tier = claims.column("shortage_tier")?.i64()?.clone();
    // rows are independent: judged in parallel, in row order
    let judged: Vec<(Option<i64>, Option<String>, Option<String>)> = (0..claims.height())
        .into_par_iter()
        .map(|i| {
            let (sc, lv, rg, d) = (
                scheme.get(i).unwrap_or(""),
                level.get(i).unwrap_or(""),
                region.get(i),
                judged_on[i],
            );
            let matches = standards.iter().filter(|st| {
                (st.scheme.is_empty() || st.scheme == sc)
                    && (st.level.is_empty() || st.level == lv)
                    && (st.region == "*" || Some(st.region.as_str()) == rg)
                    && d.is_some_and(|d| {
                        st.from.is_none_or(|f| f <= d) && st.until.is_none_or(|u| u >= d)
                    })
            });
            // most specific: own region over `*`, then the latest start
            let best = matches.max_by_key(|st| {
                (
                    st.region != "*",
                    !st.scheme.is_empty(),
                    !st.level.is_empty(),
                    st.from.unwrap_or(i32::MIN),
                )
            });
            match best {
                None => (None, None, None),
                Some(st) => {
                    let t = tier.get(i);
                    let u = t
                        .map_or(0.0, |t| st.uplift[(t.clamp(0, 3)) as usize])
                        .min(uplift_max);
                    let bp = (u * 10_000.0).round() as i64;
                    let amount = st.amount_fen * (10_000 + bp) / 10_000;
                    let why = format!(
                        "{} standard for {}/{} is {} yuan{}",
                        if st.region == "*" {
                            "national default".to_string()
                        } else {
                            format!("region {}", st.region)
                        },
                        sc,
                        lv,
                        subsidy_model::money::format_yuan(st.amount_fen),
                        if bp > 0 {
                            format!(", +{}% for shortage tier {}", bp / 100, t.unwrap_or(0))
                        } else {
                            String::new()
                        }
                    );
                    let why_zh = format!(
                        "{}{}/{}标准为{}元{}",
                        if st.region == "*" {
                            "全国默认".to_string()
                        } else {
                            format!("地区{}", st.region)
                        },
                        zh_name(sc, subsidy_model::vocab::Scheme::aliases),
                        zh_name(lv, subsidy_model::vocab::Level::aliases),
                        subsidy_model::money::format_yuan(st.amount_fen),
                        if bp > 0 {
                            format!("，紧缺程度{}级上浮{}%", t.unwrap_or(0), bp / 100)
                        } else {
                            String::new()
                        }
                    );
                    (Some(amount), Some(why), Some(why_zh))
                }
            }
        })
        .collect();
    let mut out = Vec::with_capacity(judged.len());
    let mut why = Vec::with_capacity(judged.len());
    let mut why_zh = Vec::with_capacity(judged.len());
    for (a, w, z) in judged {
        out.push(a);
        why.push(w);
        why_zh.push(z);
    }
    Ok((out, (why, why_zh)))
}
