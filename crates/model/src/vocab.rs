//! The contract's enumerations, each with its canonical lowercase English name and the aliases
//! (Chinese labels, level digits) that exports use instead.

/// What every vocabulary enum offers, for code generic over them (the rule-file checker reads
/// each field by its canonical names alone).
pub trait Vocab: Copy + 'static {
    /// Every value, in declaration order.
    fn all() -> &'static [Self];
    /// The canonical (contract) spelling.
    fn canonical(self) -> &'static str;
    /// The value whose canonical spelling is exactly `s` (no aliases, no case folding).
    fn from_canonical(s: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.canonical() == s)
    }
    /// The canonical spellings, in declaration order.
    fn names() -> Vec<&'static str> {
        Self::all().iter().map(|v| v.canonical()).collect()
    }
}

/// Defines a vocabulary enum: canonical name first, then accepted aliases.
macro_rules! vocab {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $canon:literal $(| $alias:literal)* ),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $var),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// The canonical (contract) spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $canon),+ }
            }

            /// The aliases accepted besides the canonical name.
            pub fn aliases(self) -> &'static [&'static str] {
                match self { $($name::$var => &[$($alias),*]),+ }
            }

            /// Parses a canonical name or alias: trimmed, ASCII case-insensitive.
            pub fn parse(s: &str) -> Option<Self> {
                let t = s.trim();
                $(
                    if t.eq_ignore_ascii_case($canon) $(|| t.eq_ignore_ascii_case($alias))* {
                        return Some($name::$var);
                    }
                )+
                None
            }
        }

        impl $crate::vocab::Vocab for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn canonical(self) -> &'static str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocab! {
    /// `institutions.kind`.
    InstitutionKind {
        /// 培训机构
        Training = "training" | "培训机构" | "培训",
        /// 评价机构
        Evaluation = "evaluation" | "评价机构" | "评价组织" | "社会培训评价组织",
        /// 企业
        Enterprise = "enterprise" | "企业" | "用人单位",
        /// 职业院校/技工院校
        School = "school" | "职业院校" | "技工院校" | "院校" | "职业院校/技工院校",
    }
}

vocab! {
    /// `classes.level`, `evaluations.level`, `claims.level`, `subsidy_standards.level`.
    Level {
        /// 专项职业能力
        SpecialAbility = "special_ability" | "专项职业能力" | "专项",
        /// 学徒工
        Apprentice = "apprentice" | "学徒工" | "学徒",
        /// 初级工 / 五级
        Junior = "junior" | "初级工" | "五级" | "初级" | "5",
        /// 中级工 / 四级
        Intermediate = "intermediate" | "中级工" | "四级" | "中级" | "4",
        /// 高级工 / 三级
        Senior = "senior" | "高级工" | "三级" | "高级" | "3",
        /// 技师 / 二级
        Technician = "technician" | "技师" | "二级" | "2",
        /// 高级技师 / 一级
        SeniorTechnician = "senior_technician" | "高级技师" | "一级" | "1",
        /// 特级技师
        PrincipalTechnician = "principal_technician" | "特级技师",
        /// 首席技师
        ChiefTechnician = "chief_technician" | "首席技师",
    }
}

impl Level {
    /// Position on the 新"八级工" ladder (学徒工 = 0 … 首席技师 = 7); `None` for 专项职业能力,
    /// which is not on the ladder.
    pub fn rank(self) -> Option<u8> {
        match self {
            Level::SpecialAbility => None,
            Level::Apprentice => Some(0),
            Level::Junior => Some(1),
            Level::Intermediate => Some(2),
            Level::Senior => Some(3),
            Level::Technician => Some(4),
            Level::SeniorTechnician => Some(5),
            Level::PrincipalTechnician => Some(6),
            Level::ChiefTechnician => Some(7),
        }
    }

    /// The level digit of a 职业技能等级证书 number (5 = 初级 … 1 = 高级技师), where it has one.
    pub fn certificate_digit(self) -> Option<u8> {
        match self {
            Level::Junior => Some(5),
            Level::Intermediate => Some(4),
            Level::Senior => Some(3),
            Level::Technician => Some(2),
            Level::SeniorTechnician => Some(1),
            _ => None,
        }
    }
}

vocab! {
    /// `classes.mode`.
    Mode {
        /// 线下
        Offline = "offline" | "线下",
        /// 线上
        Online = "online" | "线上",
        /// 线上线下混合
        Blended = "blended" | "混合" | "线上线下混合",
    }
}

vocab! {
    /// `claims.scheme`, `subsidy_standards.scheme`.
    Scheme {
        /// 职业培训补贴
        Training = "training" | "职业培训补贴" | "职业培训",
        /// 失业保险技能提升补贴
        SkillUpgrade = "skill_upgrade" | "失业保险技能提升补贴" | "技能提升补贴" | "技能提升",
        /// 职业技能评价补贴
        Evaluation = "evaluation" | "职业技能评价补贴" | "评价补贴",
        /// 生活费补贴
        LivingAllowance = "living_allowance" | "生活费补贴" | "生活费",
        /// 企业新型学徒制
        Apprenticeship = "apprenticeship" | "企业新型学徒制" | "学徒制",
        /// 项目制培训
        Project = "project" | "项目制培训" | "项目制",
        /// 以工代训
        WorkForTraining = "work_for_training" | "以工代训",
    }
}

vocab! {
    /// `claims.fund_source`.
    FundSource {
        /// 就业补助资金
        EmploymentFund = "employment_fund" | "就业补助资金",
        /// 失业保险基金
        UnemploymentInsurance = "unemployment_insurance" | "失业保险基金",
        /// 职业技能提升行动专账资金
        SkillsAccount = "skills_account" | "职业技能提升行动专账资金" | "专账资金",
        /// 行业发展资金
        IndustryFund = "industry_fund" | "行业发展资金",
        /// 东西部协作资金
        EastWest = "east_west" | "东西部协作资金",
        /// 职工教育经费
        EnterpriseEducation = "enterprise_education" | "职工教育经费",
        /// 其他
        Other = "other" | "其他",
    }
}

vocab! {
    /// `attendance.direction`.
    Direction {
        /// 签到
        In = "in" | "签到" | "签入",
        /// 签退
        Out = "out" | "签退",
    }
}

vocab! {
    /// `attendance.method`.
    Method {
        /// 人脸识别
        Face = "face" | "人脸" | "人脸识别",
        /// 指纹
        Fingerprint = "fingerprint" | "指纹",
        /// 刷卡
        Card = "card" | "刷卡" | "卡",
        /// 扫码
        Qr = "qr" | "二维码" | "扫码",
        /// 手工
        Manual = "manual" | "手工" | "人工",
    }
}

vocab! {
    /// `person_status.status`.
    Status {
        /// 死亡
        Deceased = "deceased" | "死亡",
        /// 已领养老金
        Pensioner = "pensioner" | "离退休" | "退休" | "已领养老金",
        /// 全日制在校生
        FullTimeStudent = "full_time_student" | "全日制在校生" | "在校生",
        /// 财政供养
        PublicPayroll = "public_payroll" | "财政供养" | "在编",
        /// 在职
        Employed = "employed" | "在职" | "就业",
        /// 失业保险参保
        UiInsured = "ui_insured" | "失业保险参保" | "参保",
        /// 登记失业
        RegisteredUnemployed = "registered_unemployed" | "登记失业" | "失业",
        /// 脱贫劳动力
        PovertyAlleviated = "poverty_alleviated" | "脱贫劳动力" | "脱贫人口",
        /// 就业困难人员
        HardToEmploy = "hard_to_employ" | "就业困难人员",
        /// 零就业家庭成员
        ZeroEmploymentFamily = "zero_employment_family" | "零就业家庭" | "零就业家庭成员",
        /// 残疾人
        Disabled = "disabled" | "残疾人" | "残疾",
        /// 毕业年度高校毕业生
        Graduate = "graduate" | "毕业年度高校毕业生" | "高校毕业生",
        /// 农民工
        MigrantWorker = "migrant_worker" | "农民工",
        /// 退役军人
        Veteran = "veteran" | "退役军人",
    }
}

vocab! {
    /// `occupations.sector`.
    Sector {
        /// 先进制造业
        AdvancedManufacturing = "advanced_manufacturing" | "先进制造业" | "先进制造",
        /// 数字经济
        DigitalEconomy = "digital_economy" | "数字经济",
        /// 低空经济
        LowAltitude = "low_altitude" | "低空经济",
        /// 交通运输
        Transport = "transport" | "交通运输",
        /// 农业
        Agriculture = "agriculture" | "农业",
        /// 生活服务业
        LifeServices = "life_services" | "生活服务业" | "生活服务",
        /// 其他
        Other = "other" | "其他",
    }
}

vocab! {
    /// `persons.gender`.
    Gender {
        /// 男
        M = "m" | "男" | "male",
        /// 女
        F = "f" | "女" | "female",
    }
}

vocab! {
    /// `staff.role`.
    StaffRole {
        /// 教师
        Teacher = "teacher" | "教师" | "讲师",
        /// 考评员
        Evaluator = "evaluator" | "考评员",
    }
}

vocab! {
    /// `findings.category`.
    Category {
        /// 虚假培训
        FakeTraining = "fake_training" | "虚假培训",
        /// 虚假评价
        FakeEvaluation = "fake_evaluation" | "虚假评价",
        /// 重复申领
        DuplicateClaim = "duplicate_claim" | "重复申领",
        /// 超标准申领
        OverClaim = "over_claim" | "超标准申领",
        /// 不符合条件
        Ineligible = "ineligible" | "不符合条件",
        /// 机构资质
        Institution = "institution" | "机构资质",
        /// 资金使用
        FundsUse = "funds_use" | "资金使用",
    }
}

vocab! {
    /// `findings.severity`, ordered from least to most severe.
    Severity {
        /// informational
        Info = "info",
        /// low
        Low = "low",
        /// medium
        Medium = "medium",
        /// high
        High = "high",
        /// critical
        Critical = "critical",
    }
}

vocab! {
    /// `findings.detector`.
    Detector {
        /// a declarative policy rule
        Rule = "rule",
        /// a clustering detector
        Cluster = "cluster",
        /// identity resolution
        Identity = "identity",
    }
}

vocab! {
    /// `findings.entity_kind`.
    EntityKind {
        /// a claim
        Claim = "claim",
        /// a person
        Person = "person",
        /// a class
        Class = "class",
        /// an evaluation
        Evaluation = "evaluation",
        /// an institution
        Institution = "institution",
        /// a teacher
        Teacher = "teacher",
        /// an evaluator
        Evaluator = "evaluator",
        /// a bank account
        Account = "account",
        /// a sign-in device
        Device = "device",
    }
}

vocab! {
    /// Who answers for a finding under 谁使用、谁负责.
    Role {
        /// 培训机构
        TrainingInstitution = "training_institution" | "培训机构",
        /// 评价机构
        EvaluationOrganisation = "evaluation_organisation" | "评价机构",
        /// 企业
        Enterprise = "enterprise" | "企业",
        /// 参训人员
        Trainee = "trainee" | "参训人员" | "学员",
        /// 人社/经办部门
        ApprovingDepartment = "approving_department" | "经办部门" | "人社部门",
    }
}

vocab! {
    /// `parties.disposition`: the escalation ladder, in order.
    Disposition {
        /// 指导调整
        GuideAdjustment = "guide_adjustment" | "指导调整",
        /// 追回
        Recover = "recover" | "追回",
        /// 取消资质
        RevokeQualification = "revoke_qualification" | "取消资质",
        /// 移送司法机关
        ReferToJudiciary = "refer_to_judiciary" | "移送司法机关",
    }
}

vocab! {
    /// A rule's `recover`: how much of a flagged claim it recovers.
    Recover {
        /// the whole claim
        Full = "full",
        /// the part above what was due (the rule's `excess` expression, in fen)
        Excess = "excess",
        /// nothing: the finding is a lead for review
        None = "none",
    }
}

vocab! {
    /// A rule's `status`.
    RuleStatus {
        /// runs in every scan
        Stable = "stable",
        /// runs only with `scan --preview`
        Preview = "preview",
        /// still runs, with a warning; to be removed
        Deprecated = "deprecated",
    }
}

/// The Chinese name of a code in a column of a vocabulary (its first Chinese alias), for
/// Chinese text: `chinese_name("level", "junior")` is 初级工. `None` for a column that holds no
/// code, a value that is not one, or a code without a Chinese alias.
pub fn chinese_name(column: &str, value: &str) -> Option<&'static str> {
    fn first_cjk(aliases: &'static [&'static str]) -> Option<&'static str> {
        aliases.iter().copied().find(|a| !a.is_ascii())
    }
    let col = column.rsplit_once('_').map_or(column, |(_, last)| last);
    match (column, col) {
        (_, "level") => Level::parse(value).and_then(|v| first_cjk(v.aliases())),
        (_, "scheme") => Scheme::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("fund_source", _) => FundSource::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("mode", _) => Mode::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("sector", _) => Sector::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("gender", _) => Gender::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("method", _) => Method::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("direction", _) => Direction::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("status", _) => Status::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("category", _) => Category::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("role" | "party_role", _) => Role::parse(value).and_then(|v| first_cjk(v.aliases())),
        ("kind" | "inst_kind" | "institution_kind", _) => {
            InstitutionKind::parse(value).and_then(|v| first_cjk(v.aliases()))
        }
        _ => None,
    }
}

/// Parses the contract's booleans: `true/false`, `1/0`, `yes/no`, `t/f`, `y/n`, `是/否`.
pub fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim();
    const YES: [&str; 6] = ["true", "1", "yes", "t", "y", "是"];
    const NO: [&str; 6] = ["false", "0", "no", "f", "n", "否"];
    if YES.iter().any(|y| t.eq_ignore_ascii_case(y)) {
        Some(true)
    } else if NO.iter().any(|n| t.eq_ignore_ascii_case(n)) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_parse_to_canonical() {
        assert_eq!(Level::parse("四级"), Some(Level::Intermediate));
        assert_eq!(Level::parse(" 4 "), Some(Level::Intermediate));
        assert_eq!(Level::parse("JUNIOR"), Some(Level::Junior));
        assert_eq!(Level::parse("高级技师"), Some(Level::SeniorTechnician));
        assert_eq!(Level::parse("高级"), Some(Level::Senior));
        assert_eq!(
            Scheme::parse("失业保险技能提升补贴"),
            Some(Scheme::SkillUpgrade)
        );
        assert_eq!(Direction::parse("签退"), Some(Direction::Out));
        assert_eq!(Status::parse("脱贫劳动力"), Some(Status::PovertyAlleviated));
        assert_eq!(
            InstitutionKind::parse("技工院校"),
            Some(InstitutionKind::School)
        );
        assert_eq!(Gender::parse("女"), Some(Gender::F));
        assert_eq!(Level::parse("six"), None);
    }

    #[test]
    fn every_canonical_name_round_trips() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(*l));
            for a in l.aliases() {
                assert_eq!(Level::parse(a), Some(*l), "{a}");
            }
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
        }
    }

    #[test]
    fn codes_have_chinese_names_for_chinese_text() {
        assert_eq!(chinese_name("level", "junior"), Some("初级工"));
        assert_eq!(chinese_name("cert_level", "senior"), Some("高级工"));
        assert_eq!(
            chinese_name("scheme", "skill_upgrade"),
            Some("失业保险技能提升补贴")
        );
        assert_eq!(
            chinese_name("fund_source", "employment_fund"),
            Some("就业补助资金")
        );
        assert_eq!(chinese_name("level", "nonsense"), None);
        assert_eq!(chinese_name("claim_id", "junior"), None);
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool("是"), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn severity_is_ordered() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    }
}
