//! The reports' languages: Chinese by default, English on request.
//!
//! - [`Lang`]: the language of `report.xlsx` and `report.html` (the CSV and Parquet outputs
//!   keep the contract's English column names and codes whatever the language).
//! - [`label`]: the Chinese name of an output column or an evidence key, from
//!   `data/labels.csv`.
//! - [`code`]: a contract code (category, severity, disposition, role, scheme, level, fund
//!   source …) as the reader's language names it; the Chinese names are exhaustive matches over
//!   the model's enums, so a new variant without a name does not compile.
//! - [`region`]: a GB/T 2260 division code's name (province, prefecture, county), from
//!   `data/regions.csv` (民政部 list as of 2025-12-31, see `data/REGIONS_SOURCE.md`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use subsidy_model::rejection::Reason;
use subsidy_model::vocab::{
    Category, Detector, Disposition, EntityKind, FundSource, InstitutionKind, Level, Recover, Role,
    Scheme, Severity,
};

/// The reports' language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 中文 (default)
    #[default]
    Zh,
    /// English
    En,
}

impl Lang {
    /// `zh` in Chinese, `en` in English.
    pub fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The findings' message column in this language (`message_zh` or `message`).
    pub fn message_column(self) -> &'static str {
        self.t("message_zh", "message")
    }
}

/// `key,zh` rows of `data/labels.csv`.
static LABELS: LazyLock<BTreeMap<&'static str, &'static str>> =
    LazyLock::new(|| table(include_str!("../data/labels.csv")));

/// `code,name` rows of `data/regions.csv`.
static REGIONS: LazyLock<BTreeMap<&'static str, &'static str>> =
    LazyLock::new(|| table(include_str!("../data/regions.csv")));

/// A two-column CSV without quoting (both tables are ours: checked by the tests below), header
/// skipped.
fn table(text: &'static str) -> BTreeMap<&'static str, &'static str> {
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// The name of an output column or evidence key in `lang`: the key itself in English, its
/// Chinese label otherwise (the key itself when it has none).
pub fn label(key: &str, lang: Lang) -> Cow<'_, str> {
    match lang {
        Lang::En => Cow::Borrowed(key),
        Lang::Zh => LABELS
            .get(key)
            .map_or(Cow::Borrowed(key), |z| Cow::Borrowed(*z)),
    }
}

/// Whether `key` has a Chinese label.
pub fn has_label(key: &str) -> bool {
    LABELS.contains_key(key)
}

/// The GB/T 2260 name of a six-digit division code: `浙江省 杭州市 西湖区` (province, then
/// prefecture, then county, each when the list has it; a county run directly by its province
/// has no prefecture). `None` for a code the list does not know at all.
pub fn region(code: &str) -> Option<String> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let levels = [
        format!("{}0000", &code[..2]),
        format!("{}00", &code[..4]),
        code.to_string(),
    ];
    let mut parts: Vec<&str> = Vec::new();
    let mut exact = false;
    for (k, c) in levels.iter().enumerate() {
        if k > 0 && levels[k - 1] == *c {
            continue;
        }
        if let Some(n) = REGIONS.get(c.as_str()) {
            parts.push(n);
            exact |= c == code;
        }
    }
    // a code whose own level is unknown is shown with what is known above it, marked
    if parts.is_empty() {
        return None;
    }
    let mut s = parts.join(" ");
    if !exact {
        s.push_str(&format!("（{code}）"));
    }
    Some(s)
}

/// A division code with its name beside it: `330106 浙江省 杭州市 西湖区`; the bare code when
/// the list does not know it.
pub fn region_with_code(code: &str) -> String {
    match region(code) {
        Some(n) if !n.ends_with('）') => format!("{code} {n}"),
        Some(n) => n,
        None => code.to_string(),
    }
}

/// The division code in an institution's 统一社会信用代码 (its 3rd to 8th characters), if the
/// code is long enough to hold one.
pub fn credit_code_region(uscc: &str) -> Option<&str> {
    (uscc.len() == 18 && uscc.is_ascii())
        .then(|| &uscc[2..8])
        .filter(|r| r.bytes().all(|b| b.is_ascii_digit()))
}

/// A contract code of output or input column `column` in `lang`: unchanged in English and for a
/// column that holds no code; the Chinese name otherwise (a value the vocabulary does not know
/// is shown as it is).
pub fn code<'a>(column: &str, value: &'a str, lang: Lang) -> Cow<'a, str> {
    if lang == Lang::En || value.is_empty() {
        return Cow::Borrowed(value);
    }
    let zh: Option<&'static str> = match column {
        "category" => Category::parse(value).map(category_zh),
        "severity" => Severity::parse(value).map(severity_zh),
        "detector" => Detector::parse(value).map(detector_zh),
        "entity_kind" => EntityKind::parse(value).map(entity_zh),
        "kind" | "role" => Role::parse(value)
            .map(role_zh)
            .or_else(|| InstitutionKind::parse(value).map(institution_kind_zh)),
        "disposition" => Disposition::parse(value).map(disposition_zh),
        "recover" => Recover::parse(value).map(recover_zh),
        "scheme" => Scheme::parse(value).map(scheme_zh),
        "level" => Level::parse(value).map(level_zh),
        "fund_source" => FundSource::parse(value).map(fund_source_zh),
        "reason" => reason_zh(value),
        "selection" => match value {
            "certainty" => Some("必选（逐项核查）"),
            "interval" => Some("按区间抽中"),
            "random" => Some("随机抽中"),
            _ => None,
        },
        "unit_kind" => match value {
            "claim" => Some("申领"),
            "finding" => Some("问题线索"),
            _ => None,
        },
        "credit_list_candidate"
        | "sitting_all_passed"
        | "occupation_approved"
        | "panel_teacher"
        | "dbscan_outlier" => match value {
            "yes" | "true" => Some("是"),
            "no" | "false" => Some("否"),
            _ => None,
        },
        _ => None,
    };
    zh.map_or(Cow::Borrowed(value), Cow::Borrowed)
}

/// 虚假培训 …
pub fn category_zh(c: Category) -> &'static str {
    match c {
        Category::FakeTraining => "虚假培训",
        Category::FakeEvaluation => "虚假评价",
        Category::DuplicateClaim => "重复申领",
        Category::OverClaim => "超标准申领",
        Category::Ineligible => "不符合条件",
        Category::Institution => "机构资质",
        Category::FundsUse => "资金使用",
    }
}

/// 提示 … 严重
pub fn severity_zh(s: Severity) -> &'static str {
    match s {
        Severity::Info => "提示",
        Severity::Low => "低",
        Severity::Medium => "中",
        Severity::High => "高",
        Severity::Critical => "严重",
    }
}

fn detector_zh(d: Detector) -> &'static str {
    match d {
        Detector::Rule => "规则",
        Detector::Cluster => "聚类异常检测",
        Detector::Identity => "身份识别",
    }
}

fn entity_zh(e: EntityKind) -> &'static str {
    match e {
        EntityKind::Claim => "申领",
        EntityKind::Person => "人员",
        EntityKind::Class => "培训班",
        EntityKind::Evaluation => "评价考核",
        EntityKind::Institution => "机构",
        EntityKind::Teacher => "教师",
        EntityKind::Evaluator => "考评员",
        EntityKind::Account => "银行账户",
        EntityKind::Device => "签到设备",
    }
}

fn role_zh(r: Role) -> &'static str {
    match r {
        Role::TrainingInstitution => "培训机构",
        Role::EvaluationOrganisation => "评价机构",
        Role::Enterprise => "企业",
        Role::Trainee => "参训人员",
        Role::ApprovingDepartment => "经办部门",
    }
}

fn institution_kind_zh(k: InstitutionKind) -> &'static str {
    match k {
        InstitutionKind::Training => "培训机构",
        InstitutionKind::Evaluation => "评价机构",
        InstitutionKind::Enterprise => "企业",
        InstitutionKind::School => "职业院校/技工院校",
    }
}

/// 指导调整 … 移送司法机关
pub fn disposition_zh(d: Disposition) -> &'static str {
    match d {
        Disposition::GuideAdjustment => "指导调整",
        Disposition::Recover => "追回补贴资金",
        Disposition::RevokeQualification => "取消培训/评价资质",
        Disposition::ReferToJudiciary => "移送司法机关",
    }
}

fn recover_zh(r: Recover) -> &'static str {
    match r {
        Recover::Full => "全额追回",
        Recover::Excess => "追回超标准部分",
        Recover::None => "不追回",
    }
}

fn scheme_zh(s: Scheme) -> &'static str {
    match s {
        Scheme::Training => "职业培训补贴",
        Scheme::SkillUpgrade => "失业保险技能提升补贴",
        Scheme::Evaluation => "职业技能评价补贴",
        Scheme::LivingAllowance => "生活费补贴",
        Scheme::Apprenticeship => "企业新型学徒制",
        Scheme::Project => "项目制培训",
        Scheme::WorkForTraining => "以工代训",
    }
}

fn level_zh(l: Level) -> &'static str {
    match l {
        Level::SpecialAbility => "专项职业能力",
        Level::Apprentice => "学徒工",
        Level::Junior => "初级工（五级）",
        Level::Intermediate => "中级工（四级）",
        Level::Senior => "高级工（三级）",
        Level::Technician => "技师（二级）",
        Level::SeniorTechnician => "高级技师（一级）",
        Level::PrincipalTechnician => "特级技师",
        Level::ChiefTechnician => "首席技师",
    }
}

/// 就业补助资金 …
pub fn fund_source_zh(f: FundSource) -> &'static str {
    match f {
        FundSource::EmploymentFund => "就业补助资金",
        FundSource::UnemploymentInsurance => "失业保险基金",
        FundSource::SkillsAccount => "职业技能提升行动专账资金",
        FundSource::IndustryFund => "行业发展资金",
        FundSource::EastWest => "东西部协作资金",
        FundSource::EnterpriseEducation => "职工教育经费",
        FundSource::Other => "其他",
    }
}

/// The Chinese name of a rejection reason code.
fn reason_zh(code: &str) -> Option<&'static str> {
    let r = Reason::ALL.iter().find(|r| r.code() == code)?;
    Some(match r {
        Reason::RaggedRow => "字段数与表头不符",
        Reason::UnterminatedQuote => "引号未闭合",
        Reason::InvalidEncoding => "编码无效",
        Reason::NulByte => "含空字符",
        Reason::FieldTooLong => "字段过长",
        Reason::CellError => "电子表格错误单元格",
        Reason::MissingValue => "必填值为空",
        Reason::BadDate => "日期无效",
        Reason::BadDatetime => "时间无效",
        Reason::BadNumber => "数值无效",
        Reason::OutOfRange => "数值超出范围",
        Reason::NegativeMoney => "金额为负",
        Reason::BadMoney => "金额格式无效",
        Reason::UnknownEnum => "取值不在代码表内",
        Reason::BadBool => "是否值无效",
        Reason::BadList => "列表格式无效",
        Reason::DuplicateKey => "主键重复",
        Reason::OrphanReference => "引用的记录不存在",
    })
}

/// A person's name masked for a reader: the surname and, for names of three characters or
/// more, the last character kept (王*伟, 欧阳**明; 李*); revealed when `reveal`.
pub fn mask_name(name: &str, reveal: bool) -> String {
    if reveal {
        return name.to_string();
    }
    let cs: Vec<char> = name.trim().chars().collect();
    match cs.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", cs[0]),
        n => {
            let mut s: String = cs[..1].iter().collect();
            s.extend(std::iter::repeat_n('*', n - 2));
            s.push(cs[n - 1]);
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_division_codes_are_named_and_unknown_ones_shown_as_codes() {
        assert_eq!(region("110000").as_deref(), Some("北京市"));
        assert_eq!(region("440300").as_deref(), Some("广东省 深圳市"));
        assert_eq!(region("330106").as_deref(), Some("浙江省 杭州市 西湖区"));
        assert_eq!(region("130102").as_deref(), Some("河北省 石家庄市 长安区"));
        // Beijing's districts sit under the province directly (no 110100 in the list)
        assert_eq!(region("110105").as_deref(), Some("北京市 朝阳区"));
        // a county-level code the list does not have: what is known, with the code
        assert_eq!(region("330199").as_deref(), Some("浙江省 杭州市（330199）"));
        assert_eq!(region("990000"), None);
        assert_eq!(region("12345"), None);
        assert_eq!(region_with_code("990000"), "990000");
        assert_eq!(region_with_code("330106"), "330106 浙江省 杭州市 西湖区");
        assert_eq!(credit_code_region("91330106MA2XXXXX1X"), Some("330106"));
        assert_eq!(credit_code_region("short"), None);
    }

    #[test]
    fn the_tables_parse_whole() {
        // no quoted fields (the reader splits at the first comma): every line has one comma
        for (name, t) in [
            ("labels.csv", include_str!("../data/labels.csv")),
            ("regions.csv", include_str!("../data/regions.csv")),
        ] {
            for (i, l) in t.lines().enumerate() {
                assert_eq!(l.matches(',').count(), 1, "{name} line {}: {l}", i + 1);
            }
        }
        assert!(REGIONS.len() > 3000, "{}", REGIONS.len());
        for c in [
            "finding_id",
            "amount_at_risk",
            "responsible_party",
            "message_zh",
        ] {
            assert!(has_label(c), "{c}");
        }
    }

    #[test]
    fn codes_are_named_in_chinese_and_left_alone_in_english() {
        assert_eq!(code("category", "fake_training", Lang::Zh), "虚假培训");
        assert_eq!(code("category", "fake_training", Lang::En), "fake_training");
        assert_eq!(
            code("disposition", "revoke_qualification", Lang::Zh),
            "取消培训/评价资质"
        );
        assert_eq!(code("kind", "training_institution", Lang::Zh), "培训机构");
        assert_eq!(code("severity", "critical", Lang::Zh), "严重");
        assert_eq!(code("reason", "bad_date", Lang::Zh), "日期无效");
        assert_eq!(code("category", "something_new", Lang::Zh), "something_new");
        assert_eq!(code("claim_id", "high", Lang::Zh), "high");
        assert_eq!(label("amount_at_risk", Lang::En), "amount_at_risk");
        assert_ne!(label("amount_at_risk", Lang::Zh), "amount_at_risk");
    }

    #[test]
    fn names_are_masked_to_surname_and_last_character() {
        assert_eq!(mask_name("王小伟", false), "王*伟");
        assert_eq!(mask_name("李四", false), "李*");
        assert_eq!(mask_name("欧阳明明", false), "欧**明");
        assert_eq!(mask_name("王小伟", true), "王小伟");
        assert_eq!(mask_name("", false), "");
    }
}
