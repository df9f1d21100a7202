//! Reference data the generator draws from: regions, occupations, names, subsidy standards.

/// A region: GB/T 2260 code, name, venue centre.
pub struct Region {
    /// 6-digit code
    pub code: &'static str,
    /// name
    pub name: &'static str,
    /// latitude of the centre
    pub lat: f64,
    /// longitude of the centre
    pub lon: f64,
}

/// Regions used for persons, institutions and venues.
pub const REGIONS: &[Region] = &[
    Region {
        code: "110105",
        name: "北京市朝阳区",
        lat: 39.921,
        lon: 116.443,
    },
    Region {
        code: "310104",
        name: "上海市徐汇区",
        lat: 31.188,
        lon: 121.437,
    },
    Region {
        code: "440106",
        name: "广州市天河区",
        lat: 23.125,
        lon: 113.361,
    },
    Region {
        code: "330106",
        name: "杭州市西湖区",
        lat: 30.260,
        lon: 120.130,
    },
    Region {
        code: "350203",
        name: "厦门市思明区",
        lat: 24.445,
        lon: 118.082,
    },
    Region {
        code: "420106",
        name: "武汉市武昌区",
        lat: 30.553,
        lon: 114.316,
    },
    Region {
        code: "510107",
        name: "成都市武侯区",
        lat: 30.642,
        lon: 104.043,
    },
    Region {
        code: "210202",
        name: "大连市中山区",
        lat: 38.918,
        lon: 121.644,
    },
    Region {
        code: "430103",
        name: "长沙市天心区",
        lat: 28.114,
        lon: 112.990,
    },
    Region {
        code: "500103",
        name: "重庆市渝中区",
        lat: 29.553,
        lon: 106.569,
    },
    Region {
        code: "370102",
        name: "济南市历下区",
        lat: 36.667,
        lon: 117.077,
    },
    Region {
        code: "610113",
        name: "西安市雁塔区",
        lat: 34.213,
        lon: 108.948,
    },
];

/// An occupation of the training-demand catalogue.
pub struct Occupation {
    /// 职业分类大典 code
    pub code: &'static str,
    /// name
    pub name: &'static str,
    /// sector
    pub sector: &'static str,
    /// shortage tier 0..3
    pub tier: u8,
    /// standard 学时 for a junior class
    pub hours: u32,
}

/// The catalogue.
pub const OCCUPATIONS: &[Occupation] = &[
    Occupation {
        code: "6-31-01-03",
        name: "电工",
        sector: "advanced_manufacturing",
        tier: 2,
        hours: 77,
    },
    Occupation {
        code: "6-18-02-04",
        name: "焊工",
        sector: "advanced_manufacturing",
        tier: 3,
        hours: 105,
    },
    Occupation {
        code: "6-18-01-01",
        name: "车工",
        sector: "advanced_manufacturing",
        tier: 1,
        hours: 77,
    },
    Occupation {
        code: "6-31-07-01",
        name: "工业机器人系统运维员",
        sector: "advanced_manufacturing",
        tier: 3,
        hours: 105,
    },
    Occupation {
        code: "4-01-02-02",
        name: "电子商务师",
        sector: "digital_economy",
        tier: 0,
        hours: 63,
    },
    Occupation {
        code: "4-01-02-07",
        name: "互联网营销师",
        sector: "digital_economy",
        tier: 1,
        hours: 63,
    },
    Occupation {
        code: "4-04-05-05",
        name: "人工智能训练师",
        sector: "digital_economy",
        tier: 2,
        hours: 77,
    },
    Occupation {
        code: "4-99-00-00",
        name: "无人机驾驶员",
        sector: "low_altitude",
        tier: 3,
        hours: 77,
    },
    Occupation {
        code: "4-02-04-01",
        name: "网约配送员",
        sector: "transport",
        tier: 0,
        hours: 49,
    },
    Occupation {
        code: "4-12-01-01",
        name: "汽车维修工",
        sector: "transport",
        tier: 1,
        hours: 77,
    },
    Occupation {
        code: "5-01-02-01",
        name: "农作物种植技术员",
        sector: "agriculture",
        tier: 1,
        hours: 63,
    },
    Occupation {
        code: "4-10-01-05",
        name: "养老护理员",
        sector: "life_services",
        tier: 3,
        hours: 77,
    },
    Occupation {
        code: "4-10-01-03",
        name: "保育师",
        sector: "life_services",
        tier: 2,
        hours: 63,
    },
    Occupation {
        code: "4-10-01-06",
        name: "家政服务员",
        sector: "life_services",
        tier: 1,
        hours: 49,
    },
    Occupation {
        code: "4-03-02-01",
        name: "中式烹调师",
        sector: "life_services",
        tier: 0,
        hours: 63,
    },
    Occupation {
        code: "4-10-03-01",
        name: "美容师",
        sector: "life_services",
        tier: 0,
        hours: 63,
    },
    Occupation {
        code: "4-14-02-02",
        name: "健康管理师",
        sector: "life_services",
        tier: 1,
        hours: 63,
    },
    Occupation {
        code: "Z-00-00-01",
        name: "茶艺(专项职业能力)",
        sector: "other",
        tier: 0,
        hours: 49,
    },
    Occupation {
        code: "Z-00-00-02",
        name: "电商直播(专项职业能力)",
        sector: "digital_economy",
        tier: 0,
        hours: 49,
    },
    Occupation {
        code: "Z-00-00-03",
        name: "中式面点制作(专项职业能力)",
        sector: "life_services",
        tier: 0,
        hours: 56,
    },
];

/// Common surnames: with the given names below, the same full name falls to many people.
pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高",
];
/// Given names.
pub const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "平", "建国", "志强", "海燕", "桂英", "玉兰", "晓东", "红梅", "建华",
    "丽娟", "国强",
];
/// Look-alike characters used for the name variants of a person registered twice.
pub const NAME_VARIANTS: &[(&str, &str)] = &[
    ("伟", "玮"),
    ("芳", "方"),
    ("娜", "那"),
    ("静", "靜"),
    ("丽", "莉"),
    ("强", "強"),
    ("军", "軍"),
    ("华", "樺"),
    ("明", "铭"),
    ("平", "萍"),
    ("杰", "傑"),
    ("涛", "濤"),
];

/// Base subsidy per person, in fen, by (scheme, level) — national defaults of DOMAIN §1.1.
pub fn base_amount(scheme: &str, level: &str) -> i64 {
    let yuan = match (scheme, level) {
        ("evaluation", _) => 300,
        ("living_allowance", _) => 500,
        ("apprenticeship", _) => 5000,
        (_, "special_ability") => 800,
        (_, "junior") => 1000,
        (_, "intermediate") => 1500,
        (_, "senior") => 2000,
        (_, "technician") => 2500,
        (_, "senior_technician") => 3000,
        _ => 1000,
    };
    yuan * 100
}

/// Uplift for shortage tiers 0..3.
pub const UPLIFT: [f64; 4] = [0.0, 0.1, 0.2, 0.3];

/// The entitled amount in fen: base × (1 + uplift of the tier), uplift only for schemes that
/// carry it (training and skill upgrade).
pub fn entitled(scheme: &str, level: &str, tier: u8) -> i64 {
    let base = base_amount(scheme, level);
    let uplift_pct = if matches!(scheme, "training" | "skill_upgrade" | "project") {
        [0, 10, 20, 30][tier as usize]
    } else {
        0
    };
    base * (100 + uplift_pct) / 100
}
