//! The result in words: one sentence a report can quote, and the caveats beside it, in Chinese
//! and English.

use serde::Serialize;
use subsidy_model::money::format_yuan;

use crate::{Evaluation, Method, Source};

/// What the reader should know before quoting a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "caveat", content = "units")]
pub enum Caveat {
    /// sampled units with no fieldwork result, counted as not confirmed
    NotExamined(usize),
    /// sampled units confirmed above the flagged amount, counted at it
    Capped(usize),
    /// few differences: the normal interval understates the uncertainty
    FewDifferences(usize),
    /// strata with one unit drawn: no variance estimate for them
    SingleUnitStrata(usize),
}

impl Caveat {
    /// The caveat in Chinese (`zh`) or English.
    pub fn text(self, zh: bool) -> String {
        match (self, zh) {
            (Caveat::NotExamined(n), true) => {
                format!("{n} 个样本单元没有核查结果，按未经证实计")
            }
            (Caveat::NotExamined(n), false) => {
                format!("{n} sampled units have no fieldwork result: counted as not confirmed")
            }
            (Caveat::Capped(n), true) => {
                format!("{n} 个样本单元的确认金额超过线索金额，按线索金额计")
            }
            (Caveat::Capped(n), false) => format!(
                "{n} sampled units were confirmed above the flagged amount: counted at the flagged amount"
            ),
            (Caveat::FewDifferences(n), true) => format!(
                "样本中仅 {n} 个单元存在差异，正态近似的区间偏窄；差异罕见时宜用货币单位抽样（mus）"
            ),
            (Caveat::FewDifferences(n), false) => format!(
                "only {n} sampled units differ: the normal interval understates the uncertainty; for rare differences use monetary-unit sampling (mus)"
            ),
            (Caveat::SingleUnitStrata(n), true) => {
                format!("{n} 个层仅抽取 1 个单元，无法估计其方差")
            }
            (Caveat::SingleUnitStrata(n), false) => {
                format!("{n} strata gave one unit: their variance cannot be estimated")
            }
        }
    }
}

fn pct(c: f64) -> String {
    let p = c * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}%", p.round() as i64)
    } else {
        format!("{p:.1}%")
    }
}

/// `¥1,234,567.89`: yuan with thousands separators, as a report prints them.
pub fn yuan(fen: i64) -> String {
    let plain = format_yuan(fen);
    let (sign, digits) = plain
        .strip_prefix('-')
        .map_or(("", plain.as_str()), |d| ("-", d));
    let (int, dec) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}¥{grouped}.{dec}")
}

impl Evaluation {
    /// The result in one sentence, in Chinese (`zh`) or English.
    pub fn sentence(&self, zh: bool) -> String {
        let what_zh = match self.source {
            Source::Recoveries => "应追回金额",
            Source::Findings => "问题线索涉及金额",
        };
        let what_en = match self.source {
            Source::Recoveries => "flagged for recovery",
            Source::Findings => "at risk in the findings",
        };
        if self.population_units == 0 {
            return if zh {
                format!("{what_zh}为零，没有可抽样核查的单元。")
            } else {
                format!("Nothing is {what_en}: there is no unit to sample.")
            };
        }
        let (c, b) = (pct(self.confidence), yuan(self.population_amount));
        let (low, point, uml) = (
            yuan(self.confirmed_lower_limit),
            yuan(self.confirmed_estimate),
            yuan(self.upper_misstatement_limit),
        );
        let verified = self.drawn - self.not_examined;
        if self.census {
            return if zh {
                format!(
                    "全部 {} 个单元均经核查，{what_zh} {b} 中确认 {point}（全数核查，无抽样风险）。",
                    self.drawn
                )
            } else {
                format!(
                    "All {} units were verified: {point} of the {b} {what_en} is confirmed (a census, no sampling risk).",
                    self.drawn
                )
            };
        }
        let dismissed = self.dismissed + self.not_examined;
        // a normal interval from a handful of differences is not a limit anyone should quote
        let few = self.caveats.iter().find_map(|c| match c {
            Caveat::FewDifferences(k) => Some(*k),
            _ => None,
        });
        if let (Some(k), false) = (few, self.method == Method::Mus) {
            let how = match (self.method, zh) {
                (Method::Stratified, true) => "分层随机",
                (_, true) => "简单随机",
                (Method::Stratified, false) => "stratified random",
                (_, false) => "simple random",
            };
            return if zh {
                format!(
                    "{how}抽样核查 {verified} 个单元（全额确认 {}、部分确认 {}、排除 {dismissed}），{what_zh} {b} 中确属应追回的点估计为 {point}；样本中仅 {k} 个单元存在差异，正态区间不足为凭，不据此推断下限：如需可引用的下限，请改用货币单位抽样（--method mus）。",
                    self.confirmed_in_full, self.confirmed_in_part
                )
            } else {
                format!(
                    "From a {how} sample of {verified} units ({} confirmed in full, {} in part, {dismissed} dismissed), the point estimate of what is confirmed is {point} of the {b} {what_en}; only {k} sampled units differ, too few for a normal interval, so no lower limit is stated: for a limit that can be quoted, draw a monetary-unit sample (--method mus).",
                    self.confirmed_in_full, self.confirmed_in_part
                )
            };
        }
        match (self.method, zh) {
            (Method::Mus, true) => format!(
                "按 {c} 置信水平，从{what_zh} {b} 中按货币单位抽样核查 {verified} 个单元（全额确认 {}、部分确认 {}、排除 {dismissed}），推断至少 {low} 确属应追回（点估计 {point}；未经证实部分的上限 {uml}）。",
                self.confirmed_in_full, self.confirmed_in_part
            ),
            (Method::Mus, false) => format!(
                "At {c} confidence, at least {low} of the {b} {what_en} is confirmed (point estimate {point}; upper limit of the unconfirmed part {uml}), from a monetary-unit sample of {verified} units ({} confirmed in full, {} in part, {dismissed} dismissed).",
                self.confirmed_in_full, self.confirmed_in_part
            ),
            (_, true) => {
                let (a, z) = self.confirmed_interval.unwrap_or((0, 0));
                format!(
                    "按 {c} 置信水平，从{what_zh} {b} 中{}抽样核查 {verified} 个单元（全额确认 {}、部分确认 {}、排除 {dismissed}），推断至少 {low} 确属应追回（点估计 {point}，{c} 置信区间 {}–{}）。",
                    if self.method == Method::Stratified {
                        "分层随机"
                    } else {
                        "简单随机"
                    },
                    self.confirmed_in_full,
                    self.confirmed_in_part,
                    yuan(a),
                    yuan(z)
                )
            }
            (_, false) => {
                let (a, z) = self.confirmed_interval.unwrap_or((0, 0));
                format!(
                    "At {c} confidence, at least {low} of the {b} {what_en} is confirmed (point estimate {point}; {c} interval {} to {}), from a {} sample of {verified} units ({} confirmed in full, {} in part, {dismissed} dismissed).",
                    yuan(a),
                    yuan(z),
                    if self.method == Method::Stratified {
                        "stratified random"
                    } else {
                        "simple random"
                    },
                    self.confirmed_in_full,
                    self.confirmed_in_part
                )
            }
        }
    }
}
