//! The cover of a scan, first sheet of `report.xlsx` and top of `report.html`: what was scanned
//! (package, input hashes, rule pack, reference date), what was found (findings by category and
//! region, recovery by fund source, parties by disposition), the base-rate alarms, what ingest
//! rejected, and a block for the reviewer's sign-off. Built once from the output frames, in the
//! reader's language; both writers lay out the same [`Cover`].
//!
//! Every yuan is counted once: recovery totals come from `recoveries` (one row per claim),
//! never from the findings' amounts at risk (a claim two findings hit is at risk twice).

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::i18n::{self, Lang};
use crate::names::Names;
use crate::rejected::Rejection;

/// A value on the cover.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// text
    Text(String),
    /// a count
    Count(i64),
    /// fen, shown as yuan
    Money(i64),
    /// a date (year, month, day), shown as a date
    Date(u16, u8, u8),
}

/// One input file as the cover lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct InputHash {
    /// the table
    pub table: String,
    /// the file within the package
    pub file: String,
    /// data rows read
    pub rows: u64,
    /// SHA-256 of its bytes, hex
    pub sha256: String,
}

/// A small table on the cover: a title, a header and rows; the last row is a total when
/// `total` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// a stable id (`by-category` …), the HTML anchor
    pub id: &'static str,
    /// the title
    pub title: String,
    /// column headers
    pub header: Vec<String>,
    /// rows
    pub rows: Vec<Vec<Value>>,
    /// whether the last row is a total
    pub total: bool,
}

/// The cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    /// the title
    pub title: String,
    /// (label, value) facts at the top
    pub facts: Vec<(String, Value)>,
    /// the tables, in order
    pub blocks: Vec<Block>,
    /// the alarms' messages
    pub alarms: Vec<String>,
    /// the sign-off lines (label, blank to fill)
    pub sign_off: Vec<String>,
}

/// What the cover is built from.
pub struct CoverInput<'a> {
    /// the package scanned
    pub package: &'a str,
    /// the reference date
    pub as_of: (u16, u8, u8),
    /// the engine's version
    pub engine_version: &'a str,
    /// the rule pack's version
    pub pack_version: &'a str,
    /// the rule pack's SHA-256
    pub pack_sha256: &'a str,
    /// every input file
    pub inputs: &'a [InputHash],
    /// findings (contract columns)
    pub findings: &'a DataFrame,
    /// recoveries (contract columns)
    pub recoveries: &'a DataFrame,
    /// parties (contract columns)
    pub parties: &'a DataFrame,
    /// findings suppressed by reviews in force
    pub dismissed: usize,
    /// the fund source of each claim (claim_id → contract code)
    pub fund_source: &'a BTreeMap<String, String>,
    /// names and regions of institutions
    pub names: &'a Names,
    /// base-rate alarms
    pub alarms: &'a [String],
    /// rows rejected at ingest
    pub rejected: &'a [Rejection],
    /// whether personal data is shown
    pub reveal: bool,
}

use subsidy_model::frame::text_column as texts;

fn ints(df: &DataFrame, c: &str) -> PolarsResult<Int64Chunked> {
    Ok(df.column(c)?.i64()?.rechunk().into_owned())
}

/// The prefecture-level division a row's institution belongs to, as `330100 浙江省 杭州市`,
/// or "unknown".
fn prefecture(names: &Names, inst: &str, l: Lang) -> String {
    match names.region_code(inst) {
        Some(r) if r.len() == 6 => {
            // a municipality's districts have no prefecture row (110100 is not in the list):
            // they count under the province
            let p = format!("{}00", &r[..4]);
            match i18n::region(&p) {
                Some(n) if !n.ends_with('）') => format!("{p} {n}"),
                _ => i18n::region_with_code(&format!("{}0000", &r[..2])),
            }
        }
        _ => l.t("未注明", "not recorded").to_string(),
    }
}

impl Cover {
    /// Builds the cover in `l`.
    pub fn build(i: &CoverInput<'_>, l: Lang) -> PolarsResult<Cover> {
        let total_recover: i64 = ints(i.recoveries, "recover_amount")?.sum().unwrap_or(0);
        let total_paid: i64 = ints(i.recoveries, "amount_paid")?.sum().unwrap_or(0);
        let mut facts = vec![
            (
                l.t("数据包", "package").to_string(),
                Value::Text(i.package.into()),
            ),
            (
                l.t("基准日", "reference date").to_string(),
                Value::Date(i.as_of.0, i.as_of.1, i.as_of.2),
            ),
            (
                l.t("引擎版本", "engine").to_string(),
                Value::Text(format!("subsidy-audit {}", i.engine_version)),
            ),
            (
                l.t("规则包版本", "rule pack").to_string(),
                Value::Text(i.pack_version.into()),
            ),
            (
                l.t("规则包 SHA-256", "rule pack SHA-256").to_string(),
                Value::Text(i.pack_sha256.into()),
            ),
            (
                l.t("问题线索", "findings").to_string(),
                Value::Count(i.findings.height() as i64),
            ),
            (
                l.t("应追回申领（笔）", "claims to recover").to_string(),
                Value::Count(i.recoveries.height() as i64),
            ),
            (
                l.t("上述申领已拨付金额", "paid on those claims")
                    .to_string(),
                Value::Money(total_paid),
            ),
            (
                l.t("应追回金额", "to recover").to_string(),
                Value::Money(total_recover),
            ),
            (
                l.t("责任主体", "responsible parties").to_string(),
                Value::Count(i.parties.height() as i64),
            ),
            (
                l.t(
                    "经复核驳回（暂不处理）的问题线索",
                    "findings dismissed by review",
                )
                .to_string(),
                Value::Count(i.dismissed as i64),
            ),
            (
                l.t("入库时拒收的记录", "rows rejected at ingest")
                    .to_string(),
                Value::Count(i.rejected.len() as i64),
            ),
            (
                l.t("个人信息", "personal data").to_string(),
                Value::Text(
                    if i.reveal {
                        l.t("明文显示", "shown")
                    } else {
                        l.t("已脱敏", "masked")
                    }
                    .into(),
                ),
            ),
        ];
        facts.push((
            l.t("基准率警示", "base-rate alarms").to_string(),
            Value::Count(i.alarms.len() as i64),
        ));

        let mut blocks = Vec::new();

        // inputs
        blocks.push(Block {
            id: "inputs",
            title: l
                .t("输入文件及其哈希值", "Input files and their hashes")
                .into(),
            header: vec![
                l.t("数据表", "table").into(),
                l.t("文件", "file").into(),
                l.t("读取行数", "rows").into(),
                "SHA-256".into(),
            ],
            rows: i
                .inputs
                .iter()
                .map(|f| {
                    vec![
                        Value::Text(f.table.clone()),
                        Value::Text(f.file.clone()),
                        Value::Count(f.rows as i64),
                        Value::Text(f.sha256.clone()),
                    ]
                })
                .collect(),
            total: false,
        });

        // findings by category: counts (amounts at risk overlap between findings: not summed)
        let cat = texts(i.findings, "category")?;
        let inst = texts(i.findings, "institution_id")?;
        let mut by_cat: BTreeMap<String, i64> = BTreeMap::new();
        let mut by_region: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        for (c, s) in cat.iter().zip(inst.iter()) {
            *by_cat
                .entry(i18n::code("category", c.unwrap_or(""), l).into_owned())
                .or_default() += 1;
            by_region
                .entry(prefecture(i.names, s.unwrap_or(""), l))
                .or_default()
                .0 += 1;
        }
        let mut rows: Vec<Vec<Value>> = by_cat
            .iter()
            .map(|(k, n)| vec![Value::Text(k.clone()), Value::Count(*n)])
            .collect();
        rows.push(vec![
            Value::Text(l.t("合计", "total").into()),
            Value::Count(i.findings.height() as i64),
        ]);
        blocks.push(Block {
            id: "by-category",
            title: l.t("按类别的问题线索", "Findings by category").into(),
            header: vec![
                l.t("类别", "category").into(),
                l.t("问题线索", "findings").into(),
            ],
            rows,
            total: true,
        });

        // by region: findings, and the claims to recover with their yuan (each claim once)
        let r_inst = texts(i.recoveries, "institution_id")?;
        let r_amt = ints(i.recoveries, "recover_amount")?;
        for (s, a) in r_inst.iter().zip(r_amt.iter()) {
            let e = by_region
                .entry(prefecture(i.names, s.unwrap_or(""), l))
                .or_default();
            e.1 += 1;
            e.2 += a.unwrap_or(0);
        }
        let mut rows: Vec<Vec<Value>> = by_region
            .iter()
            .map(|(k, (f, c, a))| {
                vec![
                    Value::Text(k.clone()),
                    Value::Count(*f),
                    Value::Count(*c),
                    Value::Money(*a),
                ]
            })
            .collect();
        rows.push(vec![
            Value::Text(l.t("合计", "total").into()),
            Value::Count(i.findings.height() as i64),
            Value::Count(i.recoveries.height() as i64),
            Value::Money(total_recover),
        ]);
        blocks.push(Block {
            id: "by-region",
            title: l
                .t(
                    "按地区（机构所在地市）的问题线索与应追回",
                    "Findings and recovery by region (the institution's prefecture)",
                )
                .into(),
            header: vec![
                l.t("地区", "region").into(),
                l.t("问题线索", "findings").into(),
                l.t("应追回申领（笔）", "claims to recover").into(),
                l.t("应追回金额", "to recover").into(),
            ],
            rows,
            total: true,
        });

        // recovery by fund source
        let r_claim = texts(i.recoveries, "claim_id")?;
        let mut by_fund: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (c, a) in r_claim.iter().zip(r_amt.iter()) {
            let f = i.fund_source.get(c.unwrap_or("")).map_or_else(
                || l.t("未注明", "not recorded").to_string(),
                |f| i18n::code("fund_source", f, l).into_owned(),
            );
            let e = by_fund.entry(f).or_default();
            e.0 += 1;
            e.1 += a.unwrap_or(0);
        }
        let mut rows: Vec<Vec<Value>> = by_fund
            .iter()
            .map(|(k, (n, a))| vec![Value::Text(k.clone()), Value::Count(*n), Value::Money(*a)])
            .collect();
        rows.push(vec![
            Value::Text(l.t("合计", "total").into()),
            Value::Count(i.recoveries.height() as i64),
            Value::Money(total_recover),
        ]);
        blocks.push(Block {
            id: "by-fund-source",
            title: l.t("按资金来源的应追回", "Recovery by fund source").into(),
            header: vec![
                l.t("资金来源", "fund source").into(),
                l.t("应追回申领（笔）", "claims to recover").into(),
                l.t("应追回金额", "to recover").into(),
            ],
            rows,
            total: true,
        });

        // parties by disposition, heaviest first
        let disp = texts(i.parties, "disposition")?;
        let p_amt = ints(i.parties, "recover_amount")?;
        let mut by_disp: BTreeMap<u8, (String, i64, i64)> = BTreeMap::new();
        for (d, a) in disp.iter().zip(p_amt.iter()) {
            let d = d.unwrap_or("");
            let rank = match d {
                "refer_to_judiciary" => 0,
                "revoke_qualification" => 1,
                "recover" => 2,
                "guide_adjustment" => 3,
                _ => 4,
            };
            let e = by_disp
                .entry(rank)
                .or_insert_with(|| (i18n::code("disposition", d, l).into_owned(), 0, 0));
            e.1 += 1;
            e.2 += a.unwrap_or(0);
        }
        let mut rows: Vec<Vec<Value>> = by_disp
            .values()
            .map(|(k, n, a)| vec![Value::Text(k.clone()), Value::Count(*n), Value::Money(*a)])
            .collect();
        rows.push(vec![
            Value::Text(l.t("合计", "total").into()),
            Value::Count(i.parties.height() as i64),
            Value::Money(p_amt.sum().unwrap_or(0)),
        ]);
        blocks.push(Block {
            id: "by-disposition",
            title: l
                .t("按建议处置的责任主体", "Parties by proposed disposition")
                .into(),
            header: vec![
                l.t("建议处置", "disposition").into(),
                l.t("责任主体", "parties").into(),
                l.t("应追回金额", "to recover").into(),
            ],
            rows,
            total: true,
        });

        // rejected rows by table and reason
        let mut by_rej: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for r in i.rejected {
            *by_rej.entry((r.table, r.reason.code())).or_default() += 1;
        }
        let mut rows: Vec<Vec<Value>> = by_rej
            .iter()
            .map(|((t, r), n)| {
                vec![
                    Value::Text((*t).into()),
                    Value::Text(i18n::code("reason", r, l).into_owned()),
                    Value::Count(*n),
                ]
            })
            .collect();
        rows.push(vec![
            Value::Text(l.t("合计", "total").into()),
            Value::Text(String::new()),
            Value::Count(i.rejected.len() as i64),
        ]);
        blocks.push(Block {
            id: "rejected",
            title: l.t("入库时拒收的记录", "Rows rejected at ingest").into(),
            header: vec![
                l.t("数据表", "table").into(),
                l.t("原因", "reason").into(),
                l.t("行数", "rows").into(),
            ],
            rows,
            total: true,
        });

        Ok(Cover {
            title: l
                .t(
                    "职业技能培训补贴审计报告",
                    "Skills-training subsidy audit report",
                )
                .into(),
            facts,
            blocks,
            alarms: i.alarms.to_vec(),
            sign_off: vec![
                l.t("审计人员（签名）", "auditor (signature)").into(),
                l.t("复核人员（签名）", "reviewer (signature)").into(),
                l.t("复核日期", "date reviewed").into(),
                l.t("复核意见", "reviewer's opinion").into(),
            ],
        })
    }

    /// The block with id `id`.
    pub fn block(&self, id: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.id == id)
    }
}
