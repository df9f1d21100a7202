//! `report.html`: one self-contained file (inline CSS and SVG, no script, no network) for
//! supervisory departments: a dashboard (findings by category and rule, recovery by party and
//! region, the distribution of party risk, the top institutions) and a dossier per flagged
//! institution (its findings with evidence, the claims to recover, the disposition and its legal
//! basis, links to the rule docs). Chinese by default, English with [`Lang::En`]. Personal data
//! is masked by the scan's [`Masker`] wherever it appears (headings, anchors, cells, evidence).

use std::collections::BTreeMap;
use std::fmt::Write;

use polars::prelude::*;
use subsidy_model::money::format_yuan;

use crate::ReportError;
use crate::cover::{Cover, Value};
use crate::i18n;
use crate::mask::Masker;
use crate::names::Names;

pub use crate::i18n::Lang;

/// A review decision as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewMark {
    /// `confirmed`, `dismissed`, `investigating`, or `changed` (evidence differs from what was
    /// reviewed)
    pub state: String,
    /// who decided, when, and the note
    pub detail: String,
}

/// What the report shows.
pub struct Input<'a> {
    /// the package scanned
    pub package: &'a str,
    /// the reference date
    pub as_of: &'a str,
    /// engine and rule-pack versions
    pub versions: &'a str,
    /// findings in the contract's columns
    pub findings: &'a DataFrame,
    /// recoveries in the contract's columns
    pub recoveries: &'a DataFrame,
    /// parties in the contract's columns
    pub parties: &'a DataFrame,
    /// findings suppressed by a dismissal still in force (contract columns)
    pub dismissed: &'a DataFrame,
    /// review decisions by finding id
    pub reviews: &'a BTreeMap<String, ReviewMark>,
    /// where the docs folder is (`rules.md` and `detectors.md` in it), e.g. a repository URL
    pub docs: &'a str,
    /// language
    pub lang: Lang,
    /// masks personal data (or, built to reveal, shows it)
    pub mask: &'a Masker,
    /// warnings shown at the top of the report (base-rate alarms, a capped workbook)
    pub alarms: &'a [String],
    /// identities.csv (person_id, identity_id, confidence, evidence): a dossier shows how each
    /// merged identity its findings name was linked
    pub identities: Option<&'a DataFrame>,
    /// the cover, shown first (built in the same language)
    pub cover: Option<&'a Cover>,
    /// names beside codes
    pub names: &'a Names,
    /// the training-effectiveness scorecard (effectiveness.csv), if scored
    pub effectiveness: Option<&'a DataFrame>,
}

/// A rate or percentile cell: two decimals, "—" when empty.
fn cell2(s: &str) -> String {
    s.parse::<f64>()
        .map_or_else(|_| "—".to_string(), |x| format!("{x:.2}"))
}

/// The dashboard's ranking of programmes: the lowest composites first (the ones to guide),
/// at most 25, with the measures and the peers.
fn effectiveness_ranking(
    e: &Texts,
    l: Lang,
    names: &Names,
    text: &dyn Fn(&str) -> String,
) -> String {
    let mut rows: Vec<usize> = (0..e.len())
        .filter(|&k| {
            e.get("unit", k) == "programme" && !e.get("composite_percentile", k).is_empty()
        })
        .collect();
    rows.sort_by(|&a, &b| {
        let p = |k: usize| {
            e.get("composite_percentile", k)
                .parse::<f64>()
                .unwrap_or(1.0)
        };
        p(a).total_cmp(&p(b))
            .then(e.get("institution_id", a).cmp(e.get("institution_id", b)))
    });
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<h3>{}</h3><p>{}</p><table id="effectiveness-ranking"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        l.t("培训质效排名（综合百分位由低到高，前25）", "Training effectiveness ranking (lowest composite percentile first, top 25)"),
        l.t(
            "合格率、取证率、技能提升率、就业率与每就业一人补贴，按同类项目（同职业、等级、地市）排名并向同类收缩；口径见 docs/effectiveness.md。",
            "Pass, certificate, skill-upgrade and employment rates and subsidy per employed trainee, shrunk toward and ranked against peers (same occupation, level and prefecture); see docs/effectiveness.md."
        ),
        l.t("机构", "institution"),
        l.t("职业（工种）", "occupation"),
        l.t("等级", "level"),
        l.t("参训人数", "trainees"),
        l.t("合格率", "pass rate"),
        l.t("取证率", "certificate rate"),
        l.t("技能提升率", "upgrade rate"),
        l.t("就业率", "employment rate"),
        l.t("综合百分位", "composite percentile"),
        l.t("问题线索", "IE-01"),
    );
    for (n, &k) in rows.iter().take(25).enumerate() {
        let inst = e.get("institution_id", k);
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            n + 1,
            text(names.institution(inst).unwrap_or(inst)),
            text(e.get("occupation_code", k)),
            esc(&i18n::code("level", e.get("level", k), l)),
            text(e.get("trainees", k)),
            cell2(e.get("pass_rate", k)),
            cell2(e.get("certificate_rate", k)),
            cell2(e.get("upgrade_rate", k)),
            cell2(e.get("employment_rate", k)),
            cell2(e.get("composite_percentile", k)),
            if e.get("flagged", k) == "yes" {
                "IE-01"
            } else {
                ""
            },
        );
    }
    h.push_str("</tbody></table>");
    h
}

/// A dossier's effectiveness section: each programme of the institution, its measures against
/// its peers' medians, and its percentiles as bars.
fn effectiveness_dossier(e: &Texts, inst: &str, l: Lang) -> String {
    let rows: Vec<usize> = (0..e.len())
        .filter(|&k| e.get("unit", k) == "programme" && e.get("institution_id", k) == inst)
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<section class="effectiveness"><h4>{}</h4>"#,
        l.t(
            "培训质效（与同类项目比较）",
            "Training effectiveness against peers"
        )
    );
    let measures = [
        ("pass", l.t("合格率", "pass rate")),
        ("certificate", l.t("取证率", "certificate rate")),
        ("upgrade", l.t("技能提升率", "upgrade rate")),
        ("employment", l.t("就业率", "employment rate")),
    ];
    for &k in rows.iter().take(MAX_ROWS_PER_DOSSIER) {
        let _ = write!(
            h,
            r#"<table class="eff"><caption>{} · {} · {} {} · {} {} ({} {})</caption><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
            esc(e.get("occupation_code", k)),
            esc(&i18n::code("level", e.get("level", k), l)),
            l.t("参训", "trainees"),
            esc(e.get("trainees", k)),
            l.t("综合百分位", "composite percentile"),
            cell2(e.get("composite_percentile", k)),
            l.t("同类", "peers"),
            esc(e.get("peers", k)),
            l.t("指标", "measure"),
            l.t("本项目", "programme"),
            l.t("同类中位数", "peer median"),
            l.t("收缩后", "shrunk"),
            l.t("百分位", "percentile"),
        );
        for (m, name) in measures {
            let pct = e.get(&format!("{m}_rate_percentile"), k);
            let w = pct
                .parse::<f64>()
                .map_or(0.0, |p| (p * 100.0).clamp(0.0, 100.0));
            let _ = write!(
                h,
                r#"<tr><td>{name}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td><svg class="pct" width="104" height="12" role="img"><rect x="0" y="1" width="104" height="10" class="bg"/><rect x="2" y="2" width="{w:.1}" height="8"/></svg> {}</td></tr>"#,
                cell2(e.get(&format!("{m}_rate"), k)),
                cell2(e.get(&format!("{m}_rate_peer_median"), k)),
                cell2(e.get(&format!("{m}_rate_shrunk"), k)),
                cell2(pct),
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");
    h
}

/// The review state's name.
fn review_state(s: &str, l: Lang) -> &str {
    match s {
        "confirmed" => l.t("已确认", "confirmed"),
        "dismissed" => l.t("已驳回", "dismissed"),
        "investigating" => l.t("核查中", "investigating"),
        "changed" => l.t(
            "证据已变化，需重新复核",
            "evidence changed since the review",
        ),
        other => other,
    }
}

/// An identity comparison level's name.
fn level_name(s: &str, l: Lang) -> String {
    let zh = match s {
        "exact" => "完全一致",
        "swapped" => "姓名颠倒",
        "one_character_apart" => "相差一个字",
        "different" => "不同",
        "one_typo" => "一处录入差错",
        "day_month_swapped" => "日月颠倒",
        "typo_check_fails" => "一处差错（校验位不符）",
        "near_both_valid" => "相近（均通过校验）",
        "same_region_birth" => "地区与出生日期相同",
        "same_city" => "同一城市",
        "null" => "缺失",
        other => return esc(other),
    };
    esc(match l {
        Lang::Zh => zh,
        Lang::En => s,
    })
}

/// A cell of the cover.
fn cover_cell(v: &Value, text: &dyn Fn(&str) -> String) -> String {
    match v {
        Value::Text(s) => text(s),
        Value::Count(n) => n.to_string(),
        Value::Money(x) => format_yuan(*x),
        Value::Date(y, m, d) => format!("{y:04}-{m:02}-{d:02}"),
    }
}

/// The cover as HTML: facts, blocks, sign-off lines.
fn cover_html(c: &Cover, l: Lang, text: &dyn Fn(&str) -> String) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<section id="cover"><h2>{}</h2><table class="facts"><tbody>"#,
        l.t("封面", "Cover")
    );
    for (label, v) in &c.facts {
        let money = matches!(v, Value::Money(_));
        let _ = write!(
            h,
            r#"<tr><th>{}</th><td{}>{}</td></tr>"#,
            esc(label),
            if money { r#" class="num""# } else { "" },
            cover_cell(v, text)
        );
    }
    h.push_str("</tbody></table><div class=\"grid\">");
    for b in c.blocks.iter().filter(|b| b.id != "inputs") {
        let _ = write!(
            h,
            r#"<table class="cover" id="cover-{}"><caption>{}</caption><thead><tr>"#,
            b.id,
            esc(&b.title)
        );
        for x in &b.header {
            let _ = write!(h, "<th>{}</th>", esc(x));
        }
        h.push_str("</tr></thead><tbody>");
        let last = b.rows.len().saturating_sub(1);
        for (k, row) in b.rows.iter().enumerate() {
            h.push_str(if b.total && k == last {
                r#"<tr class="total">"#
            } else {
                "<tr>"
            });
            for v in row {
                let num = matches!(v, Value::Money(_) | Value::Count(_));
                let _ = write!(
                    h,
                    "<td{}>{}</td>",
                    if num { r#" class="num""# } else { "" },
                    cover_cell(v, text)
                );
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</div>");
    if let Some(b) = c.block("inputs") {
        let _ = write!(
            h,
            r#"<details id="cover-inputs"><summary>{} ({})</summary><table><thead><tr>"#,
            esc(&b.title),
            b.rows.len()
        );
        for x in &b.header {
            let _ = write!(h, "<th>{}</th>", esc(x));
        }
        h.push_str("</tr></thead><tbody>");
        for row in &b.rows {
            h.push_str("<tr>");
            for v in row {
                let _ = write!(h, "<td><code>{}</code></td>", cover_cell(v, text));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></details>");
    }
    h.push_str(r#"<table class="sign"><tbody>"#);
    for s in &c.sign_off {
        let _ = write!(h, "<tr><th>{}</th><td></td></tr>", esc(s));
    }
    h.push_str("</tbody></table></section>");
    h
}

/// A finding's evidence as a definition list, keys and codes in the report's language (the
/// raw JSON when it does not parse as an object).
fn evidence_html(ev: &str, l: Lang, names: &Names, text: &dyn Fn(&str) -> String) -> String {
    let Some(facts) = names.evidence_facts(ev, l) else {
        return format!("<code>{}</code>", text(ev));
    };
    let mut h = String::from("<dl class=\"ev\">");
    for (k, v) in facts {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(&k), text(&v));
    }
    h.push_str("</dl>");
    h
}

/// The merged identities (two or more registrations): identity → its members' (person_id,
/// evidence JSON), members in key order.
fn merged_identities(
    df: Option<&DataFrame>,
) -> Result<BTreeMap<String, Vec<(String, String)>>, ReportError> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let Some(df) = df else { return Ok(out) };
    let ids = Texts::new(df)?;
    // an identity is merged when a member's key is not its name
    for k in 0..ids.len() {
        let (p, id) = (ids.get("person_id", k), ids.get("identity_id", k));
        if p != id {
            out.entry(id.to_string()).or_default();
        }
    }
    for k in 0..ids.len() {
        if let Some(v) = out.get_mut(ids.get("identity_id", k)) {
            v.push((
                ids.get("person_id", k).to_string(),
                ids.get("evidence", k).to_string(),
            ));
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

/// A compared field's name in the report's language.
fn field_name(f: &str, l: Lang) -> String {
    let zh = match f {
        "name" => "姓名",
        "surname" => "姓",
        "birth_date" => "出生日期",
        "resident_id" => "身份证号",
        "phone" => "手机号",
        "bank_account" => "银行账户",
        "address" => "地址",
        "hukou_region" => "户籍地",
        "gender" => "性别",
        other => return esc(other),
    };
    esc(match l {
        Lang::Zh => zh,
        Lang::En => f,
    })
}

/// The `identity_id` a finding's evidence names, if any.
fn evidence_identity(evidence: &str) -> Option<String> {
    // most findings name none: no JSON parse for those
    if !evidence.contains("\"identity_id\"") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(evidence).ok()?;
    v.get("identity_id")?.as_str().map(str::to_string)
}

/// Dossiers for this many institutions at most (by risk); the rest are in report.xlsx.
pub const MAX_DOSSIERS: usize = 300;
/// Findings and claims shown per dossier at most; the rest are in report.xlsx.
pub const MAX_ROWS_PER_DOSSIER: usize = 100;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A frame's columns as text (money as fen text), one chunk each, read by row index: nothing is
/// copied per row, so a million findings cost their columns, not a map per row.
struct Texts(BTreeMap<String, StringChunked>, usize);

impl Texts {
    fn new(df: &DataFrame) -> PolarsResult<Texts> {
        let mut m = BTreeMap::new();
        for c in df.columns() {
            let t = c.cast(&DataType::String)?.str()?.rechunk().into_owned();
            m.insert(c.name().to_string(), t);
        }
        Ok(Texts(m, df.height()))
    }
    fn len(&self) -> usize {
        self.1
    }
    fn is_empty(&self) -> bool {
        self.1 == 0
    }
    /// The cell at row `i` of column `c` ("" when null or absent).
    fn get(&self, c: &str, i: usize) -> &str {
        self.0.get(c).and_then(|t| t.get(i)).unwrap_or("")
    }
}

fn fen(s: &str) -> i64 {
    s.parse().unwrap_or(0)
}

/// The disposition's name and legal basis.
fn disposition(d: &str, lang: Lang) -> (&'static str, &'static str) {
    match d {
        "refer_to_judiciary" => (
            lang.t("移送司法机关", "refer to the judiciary"),
            lang.t(
                "国就劳发〔2025〕4号第十八条（骗取套取补贴资金的移送司法机关）；《刑法》第266条诈骗罪，法释〔2011〕7号“数额较大”3,000–10,000元（规则包阈值）",
                "Clause 18 of 国就劳发〔2025〕4号 (fraudulently obtained subsidies are referred to the judiciary); Criminal Law art. 266 (fraud), 法释〔2011〕7号: \"relatively large\" from 3,000–10,000 yuan (the rule pack's threshold)",
            ),
        ),
        "revoke_qualification" => (
            lang.t("取消培训/评价资质", "revoke the training or evaluation qualification"),
            lang.t(
                "国就劳发〔2025〕4号第十八条（虚假培训、虚假评价的取消资质）；24个月内两次及以上追回级问题（规则包阈值）",
                "Clause 18 of 国就劳发〔2025〕4号 (fake training or evaluation: qualification revoked); two or more recover-level findings within 24 months (the rule pack's threshold)",
            ),
        ),
        "recover" => (
            lang.t("追回补贴资金", "recover the subsidy"),
            lang.t(
                "国就劳发〔2025〕4号第十八条：谁使用、谁负责，追回违规使用的补贴资金",
                "Clause 18 of 国就劳发〔2025〕4号: whoever uses the funds answers for them; improperly paid subsidies are recovered",
            ),
        ),
        _ => (
            lang.t("指导调整", "guidance to adjust"),
            lang.t(
                "国就劳发〔2025〕4号第十八条：问题未涉及资金追回的，督促整改",
                "Clause 18 of 国就劳发〔2025〕4号: issues that ask for no recovery are corrected under guidance",
            ),
        ),
    }
}

/// Horizontal bars, one per (label, value), in inline SVG.
fn bars(items: &[(String, f64, String)], width: u32) -> String {
    let max = items.iter().map(|x| x.1).fold(0.0_f64, f64::max).max(1e-9);
    let h = 22 * items.len() as u32 + 4;
    let mut s = format!(
        r#"<svg class="bars" role="img" width="{width}" height="{h}" viewBox="0 0 {width} {h}">"#
    );
    let label_w = 190;
    for (i, (label, v, shown)) in items.iter().enumerate() {
        let y = 22 * i as u32 + 2;
        let w = ((width - label_w - 110) as f64 * v / max).max(1.0);
        let _ = write!(
            s,
            r#"<text x="0" y="{}" class="l">{}</text><rect x="{label_w}" y="{y}" width="{w:.1}" height="16"/><text x="{:.1}" y="{}" class="v">{}</text>"#,
            y + 13,
            esc(label),
            label_w as f64 + w + 6.0,
            y + 13,
            esc(shown)
        );
    }
    s.push_str("</svg>");
    s
}

/// A captioned bar chart.
fn figure(h: &mut String, id: &str, caption: &str, items: &[(String, f64, String)]) {
    let _ = write!(
        h,
        r#"<figure id="{id}"><figcaption>{caption}</figcaption>{}</figure>"#,
        bars(items, 560)
    );
}

/// The `n` largest totals, largest first (ties by name), as yuan bars.
fn top_money(
    totals: impl IntoIterator<Item = (String, i64)>,
    n: usize,
) -> Vec<(String, f64, String)> {
    let mut v: Vec<(String, i64)> = totals.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter()
        .take(n)
        .map(|(k, x)| (k, x as f64, format_yuan(x)))
        .collect()
}

/// Renders the report.
pub fn render(i: &Input<'_>) -> Result<String, ReportError> {
    let l = i.lang;
    // every value that comes from the data goes through here: masked, then escaped
    let text = |s: &str| -> String { esc(&i.mask.text(s)) };
    let findings = Texts::new(i.findings)?;
    let recoveries = Texts::new(i.recoveries)?;
    let parties = Texts::new(i.parties)?;
    let dismissed = Texts::new(i.dismissed)?;
    let total: i64 = (0..recoveries.len())
        .map(|k| fen(recoveries.get("recover_amount", k)))
        .sum();
    let institutional = |k: &str| matches!(k, "training_institution" | "evaluation_organisation");
    let merged = merged_identities(i.identities)?;
    // a finding's message in the report's language (the English one where a frame has no
    // Chinese column)
    let message = |t: &Texts, k: usize| -> String {
        match t.get(l.message_column(), k) {
            "" => t.get("message", k).to_string(),
            m => m.to_string(),
        }
    };

    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><title>{}</title><style>{CSS}</style></head><body>"#,
        l.t("zh-CN", "en"),
        l.t(
            "职业技能培训补贴审计报告",
            "Skills-training subsidy audit report"
        )
    );
    let _ = write!(
        h,
        r#"<header><h1>{}</h1><p>{}: {} · {}: {} · {}</p></header>"#,
        l.t(
            "职业技能培训补贴审计报告",
            "Skills-training subsidy audit report"
        ),
        l.t("数据包", "package"),
        text(i.package),
        l.t("基准日", "as of"),
        esc(i.as_of),
        esc(i.versions)
    );
    if !i.alarms.is_empty() {
        let _ = write!(
            h,
            r#"<section id="alarms" class="alarms"><h2>{}</h2><ul>"#,
            l.t(
                "警示：请先核对数据包的口径",
                "Warning: check the package's conventions first"
            )
        );
        for a in i.alarms {
            let _ = write!(h, "<li>{}</li>", text(a));
        }
        h.push_str("</ul></section>");
    }

    if let Some(c) = i.cover {
        h.push_str(&cover_html(c, l, &text));
    }

    // dashboard
    h.push_str(r#"<section id="dashboard"><h2>"#);
    h.push_str(l.t("总览", "Dashboard"));
    h.push_str("</h2><div class=\"kpis\">");
    let inst: Vec<usize> = (0..parties.len())
        .filter(|&k| institutional(parties.get("kind", k)))
        .collect();
    for (id, label, value) in [
        (
            "kpi-findings",
            l.t("问题线索", "findings"),
            findings.len().to_string(),
        ),
        (
            "kpi-claims",
            l.t("应追回申领", "claims to recover"),
            recoveries.len().to_string(),
        ),
        (
            "kpi-recover",
            l.t("应追回金额（元）", "to recover (yuan)"),
            format_yuan(total),
        ),
        (
            "kpi-parties",
            l.t("责任主体", "responsible parties"),
            parties.len().to_string(),
        ),
        (
            "kpi-institutions",
            l.t("涉及机构", "institutions"),
            inst.len().to_string(),
        ),
    ] {
        let _ = write!(
            h,
            r#"<div class="kpi"><div class="n" id="{id}">{}</div><div>{label}</div></div>"#,
            esc(&value)
        );
    }
    h.push_str("</div>");

    let mut by_cat: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for k in 0..findings.len() {
        *by_cat.entry(findings.get("category", k)).or_default() += 1;
        *by_rule.entry(findings.get("rule_id", k)).or_default() += 1;
    }
    let cat: Vec<(String, f64, String)> = by_cat
        .iter()
        .map(|(k, v)| {
            (
                i18n::code("category", k, l).into_owned(),
                *v as f64,
                v.to_string(),
            )
        })
        .collect();
    h.push_str(r#"<div class="grid">"#);
    figure(
        &mut h,
        "by-category",
        l.t("按类别的问题线索", "Findings by category"),
        &cat,
    );
    let mut rules: Vec<(&str, usize)> = by_rule.into_iter().collect();
    rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let rule_bars: Vec<(String, f64, String)> = rules
        .iter()
        .take(15)
        .map(|(k, v)| (i.mask.text(k).into_owned(), *v as f64, v.to_string()))
        .collect();
    figure(
        &mut h,
        "by-rule",
        l.t("按规则的问题线索（前15）", "Findings by rule (top 15)"),
        &rule_bars,
    );
    let by_party = (0..parties.len())
        .map(|k| {
            let p = parties.get("responsible_party", k);
            (
                i.names
                    .any(p)
                    .unwrap_or_else(|| i.mask.text(p).into_owned()),
                fen(parties.get("recover_amount", k)),
            )
        })
        .filter(|p| p.1 > 0);
    figure(
        &mut h,
        "by-party",
        l.t(
            "按责任主体的应追回金额（前10）",
            "Recovery by party (top 10)",
        ),
        &top_money(by_party, 10),
    );
    // region: the institution's region_code, else the division digits of its credit code
    let mut by_region: BTreeMap<String, i64> = BTreeMap::new();
    for k in 0..recoveries.len() {
        let inst = recoveries.get("institution_id", k);
        let region = match i.names.region(inst) {
            r if r.is_empty() => l.t("未知", "unknown").to_string(),
            r => r,
        };
        *by_region.entry(region).or_default() += fen(recoveries.get("recover_amount", k));
    }
    figure(
        &mut h,
        "by-region",
        l.t(
            "按地区（行政区划）的应追回金额",
            "Recovery by region (GB/T 2260 division)",
        ),
        &top_money(by_region, 15),
    );
    let mut bins = [0usize; 10];
    for k in 0..parties.len() {
        let r: f64 = parties.get("risk_score", k).parse().unwrap_or(0.0);
        bins[((r * 10.0).floor() as usize).min(9)] += 1;
    }
    let risk_bars: Vec<(String, f64, String)> = bins
        .iter()
        .enumerate()
        .map(|(k, n)| {
            (
                format!("{:.1}–{:.1}", k as f64 / 10.0, (k + 1) as f64 / 10.0),
                *n as f64,
                n.to_string(),
            )
        })
        .collect();
    figure(
        &mut h,
        "risk",
        l.t("责任主体风险分布", "Distribution of party risk"),
        &risk_bars,
    );
    h.push_str("</div>");

    // top institutions; a dossier's anchor is its rank (`d-1` …), never the party's id, which
    // may be a person's ID number
    let _ = write!(
        h,
        r#"<h3>{}</h3><table id="top-institutions"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        l.t("重点机构", "Top institutions"),
        l.t("机构名称", "institution"),
        l.t("统一社会信用代码", "credit code"),
        l.t("所在地区", "region"),
        l.t("类型", "kind"),
        l.t("风险", "risk"),
        l.t("异常分", "anomaly"),
        l.t("问题线索", "findings"),
        l.t("应追回（元）", "to recover (yuan)"),
        l.t("处置", "disposition"),
    );
    for (k, &p) in inst.iter().take(25).enumerate() {
        let id = parties.get("responsible_party", p);
        let name = text(i.names.institution(id).unwrap_or(id));
        let anchor = if k < MAX_DOSSIERS {
            format!(r##"<a href="#d-{}">{name}</a>"##, k + 1)
        } else {
            name
        };
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td>{anchor}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            k + 1,
            text(id),
            esc(&i.names.region(id)),
            esc(&i18n::code("kind", parties.get("kind", p), l)),
            text(parties.get("risk_score", p)),
            text(parties.get("anomaly_score", p)),
            text(parties.get("findings", p)),
            format_yuan(fen(parties.get("recover_amount", p))),
            disposition(parties.get("disposition", p), l).0
        );
    }
    h.push_str("</tbody></table>");
    // the effectiveness ranking: programmes by composite percentile, lowest first
    let eff = match i.effectiveness {
        Some(df) => Some(Texts::new(df)?),
        None => None,
    };
    if let Some(e) = &eff {
        h.push_str(&effectiveness_ranking(e, l, i.names, &text));
    }
    h.push_str("</section>");

    // dossiers: the rows of the parties shown only, at most MAX_ROWS_PER_DOSSIER each (with
    // the full count)
    let shown: BTreeMap<&str, usize> = inst
        .iter()
        .take(MAX_DOSSIERS)
        .enumerate()
        .map(|(k, &p)| (parties.get("responsible_party", p), k))
        .collect();
    // per dossier: its first MAX_ROWS_PER_DOSSIER rows of a table, and how many it has
    let rows_of = |t: &Texts| -> Vec<(Vec<usize>, usize)> {
        let mut rows: Vec<(Vec<usize>, usize)> = vec![(Vec::new(), 0); shown.len()];
        for k in 0..t.len() {
            if let Some(&d) = shown.get(t.get("responsible_party", k)) {
                let e = &mut rows[d];
                if e.0.len() < MAX_ROWS_PER_DOSSIER {
                    e.0.push(k);
                }
                e.1 += 1;
            }
        }
        rows
    };
    let (f_rows, r_rows) = (rows_of(&findings), rows_of(&recoveries));
    let _ = write!(
        h,
        r#"<section id="dossiers"><h2>{}</h2>"#,
        l.t("机构卷宗", "Institution dossiers")
    );
    if inst.len() > MAX_DOSSIERS {
        let _ = write!(
            h,
            "<p>{} {MAX_DOSSIERS} / {}</p>",
            l.t(
                "按风险排序，仅列出前若干家机构的卷宗；其余见 report.xlsx：",
                "Dossiers of the highest-risk institutions only; the rest are in report.xlsx:"
            ),
            inst.len()
        );
    }
    let more = |n: usize| -> String {
        if n > MAX_ROWS_PER_DOSSIER {
            format!(
                "<p class=\"more\">{} {}</p>",
                n - MAX_ROWS_PER_DOSSIER,
                l.t("条未列出，见 report.xlsx", "more in report.xlsx")
            )
        } else {
            String::new()
        }
    };
    for (d, &p) in inst.iter().take(MAX_DOSSIERS).enumerate() {
        let id = parties.get("responsible_party", p);
        let (dname, basis) = disposition(parties.get("disposition", p), l);
        let _ = write!(
            h,
            r#"<article class="dossier" id="d-{}"><h3>{} <small>{}</small></h3><p class="meta">{}{}: {} · {}: {} · {}: <span class="recover">{}</span> {}</p><p class="disp"><b>{}: {}</b><br>{}: {}</p>"#,
            d + 1,
            text(i.names.institution(id).unwrap_or(id)),
            text(id),
            match i.names.region(id) {
                r if r.is_empty() => String::new(),
                r => format!("{}: {} · ", l.t("所在地区", "region"), esc(&r)),
            },
            l.t("风险", "risk"),
            text(parties.get("risk_score", p)),
            l.t("问题线索", "findings"),
            text(parties.get("findings", p)),
            l.t("应追回", "to recover"),
            format_yuan(fen(parties.get("recover_amount", p))),
            l.t("元", "yuan"),
            l.t("建议处置", "proposed disposition"),
            dname,
            l.t("依据", "basis"),
            basis
        );
        let _ = write!(
            h,
            r#"<table class="findings"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
            l.t("规则", "rule"),
            l.t("严重程度", "severity"),
            l.t("对象", "entity"),
            l.t("说明", "finding"),
            l.t("复核", "review"),
            l.t("证据", "evidence"),
        );
        let (fs, f_total) = &f_rows[d];
        for &k in fs {
            let fid = findings.get("finding_id", k);
            let review = i
                .reviews
                .get(fid)
                .map(|m| {
                    format!(
                        r#"<span class="rv {}">{}</span> {}"#,
                        esc(&m.state),
                        esc(review_state(&m.state, l)),
                        text(&m.detail)
                    )
                })
                .unwrap_or_default();
            let rule = findings.get("rule_id", k);
            let anchor = rule.to_lowercase();
            let doc = if rule.starts_with("AN-") {
                "detectors.md"
            } else if rule.starts_with("IE-") {
                "effectiveness.md"
            } else {
                "rules.md"
            };
            let _ = write!(
                h,
                r##"<tr><td><a href="{}{doc}#{}">{}</a></td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td><details><summary>{}</summary>{}</details></td></tr>"##,
                esc(i.docs),
                text(&anchor),
                text(rule),
                esc(&i18n::code("severity", findings.get("severity", k), l)),
                esc(&i18n::code(
                    "entity_kind",
                    findings.get("entity_kind", k),
                    l
                )),
                text(findings.get("entity_id", k)),
                text(&message(&findings, k)),
                review,
                text(fid),
                evidence_html(findings.get("evidence", k), l, i.names, &text)
            );
        }
        h.push_str("</tbody></table>");
        h.push_str(&more(*f_total));
        let (rs, r_total) = &r_rows[d];
        if *r_total > 0 {
            let _ = write!(
                h,
                r#"<details class="claims"><summary>{} ({})</summary><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
                l.t("应追回的申领", "Claims to recover"),
                r_total,
                l.t("申领", "claim"),
                l.t("已拨付（元）", "paid (yuan)"),
                l.t("追回（元）", "recover (yuan)"),
                l.t("依据规则", "basis"),
            );
            for &k in rs {
                let _ = write!(
                    h,
                    r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
                    text(recoveries.get("claim_id", k)),
                    format_yuan(fen(recoveries.get("amount_paid", k))),
                    format_yuan(fen(recoveries.get("recover_amount", k))),
                    text(recoveries.get("basis", k))
                );
            }
            h.push_str("</tbody></table>");
            h.push_str(&more(*r_total));
            h.push_str("</details>");
        }
        if let Some(e) = &eff {
            h.push_str(&effectiveness_dossier(e, id, l));
        }
        h.push_str("</article>");
    }
    h.push_str("</section>");

    // a dossier per merged identity the findings name: which findings, and how each pair of
    // its registrations was linked (the waterfall of field weights)
    let mut named: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for k in (0..findings.len()).filter(|_| !merged.is_empty()) {
        if let Some(x) = evidence_identity(findings.get("evidence", k))
            && merged.contains_key(&x)
        {
            named.entry(x).or_default().push(k);
        }
    }
    if !named.is_empty() {
        let _ = write!(
            h,
            r#"<section id="identities"><h2>{}</h2><p>{}</p>"#,
            l.t("合并的登记（身份识别）", "Merged registrations (identity resolution)"),
            l.t(
                "以下人员的多条登记被识别为同一人；表中为每对登记各字段的比较结果与权重（比特），先验与各字段权重之和即匹配权重。",
                "Each person below was registered more than once; the tables give, per pair of registrations, every field's comparison level and weight (bits); the prior plus the fields' weights is the match weight."
            )
        );
        for (ident, ks) in named.iter().take(MAX_DOSSIERS) {
            let members = &merged[ident];
            let _ = write!(
                h,
                r#"<article class="dossier person"><h3>{}</h3><p class="meta">{} {} · {}: {}</p>"#,
                text(ident),
                members.len(),
                l.t("条登记", "registrations"),
                l.t("问题线索", "findings"),
                ks.iter()
                    .take(MAX_ROWS_PER_DOSSIER)
                    .map(|&k| format!(
                        "{} {}",
                        text(findings.get("rule_id", k)),
                        text(findings.get("finding_id", k))
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for (person, ev) in members {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(ev) else {
                    continue;
                };
                for pair in v["pairs"].as_array().into_iter().flatten() {
                    let other = pair["matched"].as_str().unwrap_or("");
                    if other < person.as_str() {
                        continue; // each pair once, from its smaller key
                    }
                    let num = |x: &serde_json::Value| x.as_f64().unwrap_or(0.0);
                    let _ = write!(
                        h,
                        r#"<table class="waterfall"><caption>{} ↔ {}</caption><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody><tr><td>{}</td><td></td><td class="num">{:.2}</td></tr>"#,
                        text(person),
                        text(other),
                        l.t("字段", "field"),
                        l.t("比较结果", "level"),
                        l.t("权重（比特）", "weight (bits)"),
                        l.t("先验", "prior"),
                        num(&pair["prior"])
                    );
                    for f in pair["fields"].as_array().into_iter().flatten() {
                        let _ = write!(
                            h,
                            r#"<tr><td>{}</td><td>{}</td><td class="num">{:.2}</td></tr>"#,
                            field_name(f["field"].as_str().unwrap_or(""), l),
                            level_name(f["level"].as_str().unwrap_or(""), l),
                            num(&f["weight"])
                        );
                    }
                    let _ = write!(
                        h,
                        r#"<tr class="total"><td>{}</td><td>P = {:.4}</td><td class="num">{:.2}</td></tr></tbody></table>"#,
                        l.t("合计", "match weight"),
                        num(&pair["match_probability"]),
                        num(&pair["match_weight"])
                    );
                }
            }
            h.push_str("</article>");
        }
        h.push_str("</section>");
    }

    if !dismissed.is_empty() {
        let _ = write!(
            h,
            r#"<section id="dismissed"><h2>{} ({})</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
            l.t(
                "已驳回（暂不处理）的问题线索",
                "Dismissed findings (suppressed)"
            ),
            dismissed.len(),
            l.t("编号", "finding"),
            l.t("规则", "rule"),
            l.t("说明", "finding"),
            l.t("复核", "review"),
        );
        for k in (0..dismissed.len()).take(MAX_DOSSIERS * MAX_ROWS_PER_DOSSIER) {
            let fid = dismissed.get("finding_id", k);
            let detail = i
                .reviews
                .get(fid)
                .map(|m| text(&m.detail))
                .unwrap_or_default();
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                text(fid),
                text(dismissed.get("rule_id", k)),
                text(&message(&dismissed, k)),
                detail
            );
        }
        h.push_str("</tbody></table></section>");
    }
    let _ = writeln!(
        h,
        "<footer>{}</footer></body></html>",
        l.t(
            "问题线索为“与……相符的迹象”，须经复核确认；证据与可澄清的材料见各条说明。",
            "Findings are indicators consistent with the named problem and need review; each states its evidence and what would clear it."
        )
    );
    Ok(h)
}

const CSS: &str = "body{font-family:-apple-system,'Segoe UI','PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px;color:#1d2733}\
h1{font-size:22px}h2{border-bottom:2px solid #1f4e79;padding-bottom:4px;margin-top:32px}\
.kpis{display:flex;gap:16px;flex-wrap:wrap}.kpi{background:#f0f4f8;border-radius:6px;padding:12px 18px;min-width:140px}\
.kpi .n{font-size:24px;font-weight:600;color:#1f4e79}.grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}\
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:6px}\
svg.bars rect{fill:#2e75b6}svg.bars text{font-size:12px;fill:#1d2733}\
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #c8d1db;padding:4px 6px;vertical-align:top;text-align:left}\
th{background:#e8eef4}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.dossier{border:1px solid #c8d1db;border-radius:6px;padding:8px 16px;margin:16px 0}\
.waterfall{margin:4px 0 8px;font-size:90%}.waterfall caption{text-align:left;font-weight:bold}.waterfall tr.total td{border-top:1px solid #333;font-weight:bold}\
.disp{background:#fff4e5;padding:6px}code{white-space:pre-wrap;word-break:break-all;font-size:11px}\
.rv{padding:1px 4px;border-radius:3px;background:#ddd}.rv.confirmed{background:#f8d7da}.rv.dismissed{background:#d4edda}.rv.changed{background:#fff3cd}\
.alarms{background:#fdecea;border:1px solid #e0a3a3;border-radius:6px;padding:4px 16px}\
table.facts th{width:16em}table.cover caption{text-align:left;font-weight:600}tr.total td{font-weight:bold;border-top:2px solid #1d2733}\
table.sign th{width:12em}table.sign td{width:24em;border-width:0 0 1px 0;height:2em}\
svg.pct rect{fill:#2e75b6}svg.pct rect.bg{fill:#e8eef4}table.eff caption{text-align:left;font-weight:600}\
dl.ev{display:grid;grid-template-columns:max-content auto;gap:0 8px;margin:4px 0;font-size:12px}dl.ev dt{color:#555}dl.ev dd{margin:0;word-break:break-all}";
