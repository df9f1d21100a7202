//! The audit sample in the reports: the plan and, after fieldwork, the evaluation, as cover
//! blocks (both reports) and as the sample and plan sheets of the workbook.

use polars::prelude::DataFrame;
use subsidy_sampling::frames::StrataBy;
use subsidy_sampling::{Evaluation, Method, Plan, Size, Source};

use crate::cover::{Block, Cover, Value};
use crate::i18n::{self, Lang};

/// What the reports show of a sample.
pub struct SampleView<'a> {
    /// the units drawn (`sample.csv`'s columns)
    pub frame: &'a DataFrame,
    /// the plan
    pub plan: &'a Plan,
    /// what the strata are (stratified samples)
    pub strata_by: StrataBy,
    /// the evaluation, after fieldwork
    pub evaluation: Option<&'a Evaluation>,
}

fn method(m: Method, l: Lang) -> &'static str {
    match m {
        Method::Mus => l.t("货币单位抽样（MUS）", "monetary-unit sampling (MUS)"),
        Method::Stratified => l.t(
            "分层随机抽样（Neyman 分配）",
            "stratified random (Neyman allocation)",
        ),
        Method::Random => l.t("简单随机抽样", "simple random sampling"),
    }
}

fn pct(c: f64) -> String {
    format!("{:.1}%", c * 100.0)
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// The plan as (label, value) rows.
pub fn plan_rows(v: &SampleView<'_>, l: Lang) -> Vec<(String, Value)> {
    let p = v.plan;
    let mut rows = vec![
        (
            l.t("抽样方法", "method").to_string(),
            text(method(p.params.method, l)),
        ),
        (
            l.t("抽样总体", "population").to_string(),
            text(match p.params.source {
                Source::Recoveries => l.t(
                    "应追回申领（recoveries.csv）",
                    "claims to recover (recoveries.csv)",
                ),
                Source::Findings => l.t("问题线索（findings.csv）", "findings (findings.csv)"),
            }),
        ),
        (
            l.t("置信水平", "confidence").to_string(),
            text(pct(p.params.confidence)),
        ),
    ];
    match p.params.size {
        Size::Tolerable {
            tolerable,
            expected,
        } => {
            rows.push((
                l.t("可容忍错报", "tolerable misstatement").into(),
                Value::Money(tolerable),
            ));
            rows.push((
                l.t("预期错报", "expected misstatement").into(),
                Value::Money(expected),
            ));
        }
        Size::Fixed(n) => rows.push((
            l.t("指定样本量", "size asked for").into(),
            Value::Count(n as i64),
        )),
    }
    rows.push((
        l.t("随机种子", "seed").into(),
        text(p.params.seed.to_string()),
    ));
    if p.params.method == Method::Stratified {
        rows.push((
            l.t("分层依据", "strata by").into(),
            text(match v.strata_by {
                StrataBy::Category => {
                    l.t("问题类别（再按金额分段）", "category (then amount bands)")
                }
                StrataBy::Region => l.t(
                    "机构所在省份（再按金额分段）",
                    "province of the institution (then amount bands)",
                ),
                StrataBy::Party => l.t(
                    "责任主体（再按金额分段）",
                    "responsible party (then amount bands)",
                ),
            }),
        ));
    }
    rows.push((
        l.t("总体单元数", "units in the population").into(),
        Value::Count(p.units as i64),
    ));
    rows.push((
        l.t("总体金额", "population amount").into(),
        Value::Money(p.amount),
    ));
    if p.excluded > 0 {
        rows.push((
            l.t("无金额、不入总体的单元", "units with no amount, left out")
                .into(),
            Value::Count(p.excluded as i64),
        ));
    }
    rows.push((
        l.t("计算样本量", "sample size").into(),
        Value::Count(p.size as i64),
    ));
    rows.push((
        l.t("实际抽取单元", "units drawn").into(),
        Value::Count(p.drawn as i64),
    ));
    if let Some(m) = &p.mus {
        rows.push((
            l.t("抽样区间", "sampling interval").into(),
            Value::Money(m.interval),
        ));
        rows.push((
            l.t("随机起点", "random start").into(),
            Value::Money(m.start),
        ));
        rows.push((
            l.t("置信系数", "confidence factor").into(),
            text(format!("{:.4}", m.factor)),
        ));
        rows.push((
            l.t("预期污染系数之和", "expected sum of taints").into(),
            text(format!("{:.2}", m.expected_taints)),
        ));
    }
    rows.push((
        l.t("方法说明", "method notes").into(),
        text(l.t(
            "公式、抽样表与种子的含义见 docs/sampling.md；同一输入与种子抽得同一样本",
            "formulas, the tables they reproduce and the seed: docs/sampling.md; the same inputs and seed draw the same sample",
        )),
    ));
    rows
}

/// The evaluation as (label, value) rows.
pub fn evaluation_rows(e: &Evaluation, l: Lang) -> Vec<(String, Value)> {
    let mut rows = vec![
        (
            l.t("抽样结论", "result").to_string(),
            text(e.sentence(l == Lang::Zh)),
        ),
        (
            l.t("样本单元", "units drawn").into(),
            Value::Count(e.drawn as i64),
        ),
        (
            l.t("全额确认", "confirmed in full").into(),
            Value::Count(e.confirmed_in_full as i64),
        ),
        (
            l.t("部分确认", "confirmed in part").into(),
            Value::Count(e.confirmed_in_part as i64),
        ),
        (
            l.t("排除", "dismissed").into(),
            Value::Count(e.dismissed as i64),
        ),
        (
            l.t(
                "未核查（按未经证实计）",
                "not examined (counted as not confirmed)",
            )
            .into(),
            Value::Count(e.not_examined as i64),
        ),
        (
            l.t("样本金额", "amount drawn").into(),
            Value::Money(e.sample_amount),
        ),
        (
            l.t("样本中确认金额", "confirmed in the sample").into(),
            Value::Money(e.sample_confirmed),
        ),
        (
            l.t("推断未经证实金额（点估计）", "projected unconfirmed amount")
                .into(),
            Value::Money(e.projected_misstatement),
        ),
        (
            l.t("未经证实金额上限", "upper misstatement limit").into(),
            Value::Money(e.upper_misstatement_limit),
        ),
        (
            l.t("确属应追回（点估计）", "confirmed, point estimate")
                .into(),
            Value::Money(e.confirmed_estimate),
        ),
        (
            l.t("确属应追回（置信下限）", "confirmed at least").into(),
            Value::Money(e.confirmed_lower_limit),
        ),
    ];
    if let Some((a, b)) = e.confirmed_interval {
        rows.push((
            l.t("确属应追回置信区间下端", "confirmed, interval from")
                .into(),
            Value::Money(a),
        ));
        rows.push((
            l.t("确属应追回置信区间上端", "confirmed, interval to")
                .into(),
            Value::Money(b),
        ));
    }
    if let Some(se) = e.standard_error {
        rows.push((
            l.t("标准误（元）", "standard error (yuan)").into(),
            text(format!("{:.2}", se / 100.0)),
        ));
    }
    if let Some(m) = &e.mus {
        rows.push((
            l.t(
                "必选单元中的错报（不推断）",
                "misstated in certainty units (not projected)",
            )
            .into(),
            Value::Money(m.certainty_misstatement),
        ));
        rows.push((
            l.t("基本精度", "basic precision").into(),
            Value::Money(m.basic_precision.round() as i64),
        ));
        rows.push((
            l.t("区间部分推断错报", "projected, interval part").into(),
            Value::Money(m.projected.round() as i64),
        ));
        rows.push((
            l.t("增量允许误差", "incremental allowance").into(),
            Value::Money(m.incremental_allowance.round() as i64),
        ));
        rows.push((
            l.t("区间部分错报单元", "misstated interval units").into(),
            Value::Count(m.misstatements as i64),
        ));
    }
    if let Some(ok) = e.within_tolerable {
        rows.push((
            l.t("上限是否在可容忍错报内", "upper limit within tolerable")
                .into(),
            text(if ok {
                l.t("是", "yes")
            } else {
                l.t("否", "no")
            }),
        ));
    }
    for c in &e.caveats {
        rows.push((l.t("提示", "caveat").into(), text(c.text(l == Lang::Zh))));
    }
    rows
}

fn pairs_block(id: &'static str, title: &str, rows: Vec<(String, Value)>, l: Lang) -> Block {
    Block {
        id,
        title: title.into(),
        header: vec![l.t("项目", "item").into(), l.t("内容", "value").into()],
        rows: rows.into_iter().map(|(k, v)| vec![text(k), v]).collect(),
        total: false,
    }
}

/// The strata as a cover block.
fn strata_block(p: &Plan, l: Lang) -> Block {
    let rows = p
        .strata
        .iter()
        .map(|s| {
            let key = match s.key.as_str() {
                "certainty" => l
                    .t(
                        "必选（金额不低于抽样区间）",
                        "certainty (at or above the interval)",
                    )
                    .to_string(),
                "interval" => l.t("按区间抽取", "drawn by interval").to_string(),
                k => match k.split_once('/') {
                    Some((c, band)) => format!(
                        "{} · {}",
                        if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
                            i18n::region_with_code(c)
                        } else {
                            i18n::code("category", c, l).into_owned()
                        },
                        match l {
                            Lang::Zh => format!("金额第 {band} 段"),
                            Lang::En => format!("amount band {band}"),
                        }
                    ),
                    None => k.to_string(),
                },
            };
            vec![
                text(key),
                Value::Count(s.units as i64),
                Value::Money(s.amount),
                Value::Count(s.drawn as i64),
            ]
        })
        .collect();
    Block {
        id: "sample-strata",
        title: l.t("抽样分层", "Strata of the sample").into(),
        header: vec![
            l.t("层", "stratum").into(),
            l.t("总体单元", "units").into(),
            l.t("总体金额", "amount").into(),
            l.t("抽取单元", "drawn").into(),
        ],
        rows,
        total: false,
    }
}

impl Cover {
    /// Adds the sample: its result among the facts (after fieldwork), the plan, the strata
    /// and the evaluation as blocks.
    pub fn add_sample(&mut self, v: &SampleView<'_>, l: Lang) {
        if let Some(e) = v.evaluation {
            self.facts.push((
                l.t("抽样结论", "sample result").into(),
                text(e.sentence(l == Lang::Zh)),
            ));
        }
        self.blocks.push(pairs_block(
            "sample-plan",
            l.t("抽样方案", "Sampling plan"),
            plan_rows(v, l),
            l,
        ));
        self.blocks.push(strata_block(v.plan, l));
        if let Some(e) = v.evaluation {
            self.blocks.push(pairs_block(
                "sample-evaluation",
                l.t("抽样评价", "Sample evaluation"),
                evaluation_rows(e, l),
                l,
            ));
        }
    }
}
