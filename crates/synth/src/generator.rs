//! The generator: world, cohorts, writing.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use subsidy_model::contract::Table;
use subsidy_model::money::format_yuan;

use crate::scenario::{self, Label, Quotas};
use crate::sink::{Format, Sink};
use crate::world::{GIVEN, OCCUPATIONS, REGIONS, SURNAMES, UPLIFT, base_amount};
use crate::{SynthError, idgen};

/// Named package sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// ≈300 persons (the bundled demo)
    Demo,
    /// 10k persons
    S,
    /// 100k persons
    M,
    /// 1M persons (≈30M attendance rows)
    L,
    /// 10M persons, written in bounded memory
    Xl,
}

impl Scale {
    /// Persons at this scale.
    pub fn persons(self) -> u64 {
        match self {
            Scale::Demo => 300,
            Scale::S => 10_000,
            Scale::M => 100_000,
            Scale::L => 1_000_000,
            Scale::Xl => 10_000_000,
        }
    }
}

impl std::str::FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "demo" => Scale::Demo,
            "s" => Scale::S,
            "m" => Scale::M,
            "l" => Scale::L,
            "xl" => Scale::Xl,
            _ => return Err(format!("unknown scale `{s}` (demo, s, m, l, xl)")),
        })
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    /// Number of (background) persons.
    pub persons: u64,
    /// The seed: the same seed gives the same bytes.
    pub seed: u64,
    /// CSV or Parquet.
    pub format: Format,
    /// Scenario rates (planted cases per person) overriding the defaults, by scenario name.
    pub rates: BTreeMap<String, f64>,
}

impl Config {
    /// The configuration for a named scale.
    pub fn new(scale: Scale, seed: u64) -> Config {
        Config {
            persons: scale.persons(),
            seed,
            format: Format::Csv,
            rates: BTreeMap::new(),
        }
    }

    /// The configuration of a clean package: the same background data (every legitimate
    /// variation included), nothing planted (every scenario's rate 0, no label written).
    pub fn clean(scale: Scale, seed: u64) -> Config {
        Config::new(scale, seed).without_scenarios()
    }

    /// This configuration with nothing planted.
    pub fn without_scenarios(mut self) -> Config {
        self.rates = scenario::SCENARIOS
            .iter()
            .map(|s| (s.name.to_string(), 0.0))
            .collect();
        self
    }
}

/// What was generated.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    /// Rows per table.
    pub rows: BTreeMap<&'static str, u64>,
    /// Planted facts per scenario.
    pub planted: BTreeMap<&'static str, u64>,
    /// Label rows (`labels.csv`).
    pub labels: u64,
    /// Rows of `labels_effectiveness.csv` (planted programmes and hard negatives).
    pub effectiveness_labels: u64,
}

pub(crate) const COHORT: usize = 400;

pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid constant date")
}

pub(crate) fn fmt_d(x: NaiveDate) -> String {
    x.format("%Y-%m-%d").to_string()
}

pub(crate) fn fmt_dt(x: NaiveDateTime) -> String {
    x.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn at(day: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    day.and_hms_opt(h, m, 0).expect("valid time")
}

fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    // Box–Muller; enough for synthetic scores
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.r#gen();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// An institution of any kind.
#[derive(Debug, Clone)]
pub struct Inst {
    /// credit code
    pub id: String,
    /// name
    pub name: String,
    /// contract kind
    pub kind: &'static str,
    /// index into REGIONS
    pub region: usize,
    /// approved occupation indices
    pub approved: Vec<usize>,
    /// in the catalogue from
    pub in_from: NaiveDate,
    /// left the catalogue
    pub until: Option<NaiveDate>,
    /// qualification revoked
    pub revoked: Option<NaiveDate>,
    /// teachers or evaluators (staff ids)
    pub staff: Vec<String>,
    /// the account claims to it are paid into
    pub account: String,
    /// colluding: its classes are subtly wrong (planted for the clustering detectors)
    pub colluding: bool,
    /// its training site
    pub lat: f64,
    /// its training site
    pub lon: f64,
}

/// A person of a cohort.
#[derive(Debug, Clone)]
pub struct Person {
    /// resident id as registered
    pub id: String,
    /// name
    pub name: String,
    /// male
    pub male: bool,
    /// phone
    pub phone: String,
    /// bank account
    pub account: String,
    /// index into REGIONS
    pub region: usize,
    /// registered birth date
    pub birth: NaiveDate,
    /// address
    pub address: String,
    /// employer institution id
    pub employer: Option<String>,
    /// frontline worker
    pub frontline: bool,
}

/// A dated status.
#[derive(Debug, Clone)]
pub struct StatusRec {
    /// person id
    pub person: String,
    /// status
    pub status: &'static str,
    /// from
    pub from: NaiveDate,
    /// until
    pub until: Option<NaiveDate>,
    /// employer
    pub employer: Option<String>,
    /// source system
    pub source: &'static str,
}

/// How a class is delivered (`classes.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// at the venue: sign-ins carry the venue's location
    Offline,
    /// live online: sign-ins on the trainee's phone or computer, no location, no venue
    Online,
    /// alternate days online and at the venue
    Blended,
}

impl Mode {
    /// The contract value.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Offline => "offline",
            Mode::Online => "online",
            Mode::Blended => "blended",
        }
    }
}

/// How a class's trainees are subsidised: which claims a trainee who finishes it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// the institution claims the training subsidy (claim with `class_id`, evaluation and
    /// level or special-ability certificate)
    Training,
    /// the trainees paid the fee themselves and each claims the 职业技能评价补贴 after passing
    /// (scheme `evaluation`, no `class_id` on the claim: the class is on the evaluation row or
    /// only in `enrollments`)
    Evaluation,
    /// no skill evaluation: the institution issues a 培训合格证书 (its own numbering) and claims
    /// the training subsidy with it (no `evaluation_id`)
    TrainingCertificate,
}

/// Teaching time of a class day (inside the timetabled sessions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayLength {
    /// 3.5 h (210 min = 4⅔ 学时)
    Short,
    /// 5.25 h (315 min = 7 学时)
    Medium,
    /// 7 h (420 min = 9⅓ 学时)
    Full,
}

impl DayLength {
    /// Teaching minutes a day.
    pub fn minutes(self) -> u32 {
        match self {
            DayLength::Short => 210,
            DayLength::Medium => 315,
            DayLength::Full => 420,
        }
    }
}

/// One timetabled session of a day, in minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// start
    pub start: u32,
    /// end
    pub end: u32,
}

/// A class's daily timetable: the same every class day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timetable {
    /// teaching time a day
    pub length: DayLength,
    /// one session, or a morning and an afternoon session (each with its sign-in and sign-out)
    pub slots: Vec<Slot>,
    /// whether the class's `sessions` rows are written (else only attendance tells presence)
    pub written: bool,
}

/// The daily cap (minutes) on presence of a class without `sessions` rows that the rules are
/// told to assume: 8 学时 = 6 h. Classes without sessions keep their days within it.
pub const NO_SESSION_DAILY_CAP_MIN: u32 = 360;

const fn slot(h0: u32, m0: u32, h1: u32, m1: u32) -> Slot {
    Slot {
        start: h0 * 60 + m0,
        end: h1 * 60 + m1,
    }
}

impl Timetable {
    /// A random timetable: 3.5, 5.25 or 7 h days, split into a morning and an afternoon
    /// session more often the longer the day; about 30 % of classes write no `sessions` rows
    /// (those keep to 3.5 or 5.25 h days, within the daily cap).
    pub fn random(rng: &mut impl Rng) -> Timetable {
        let written = rng.gen_bool(0.7);
        let length = match (written, rng.gen_range(0..100)) {
            (true, 0..=29) | (false, 0..=39) => DayLength::Short,
            (true, 30..=69) | (false, _) => DayLength::Medium,
            (true, _) => DayLength::Full,
        };
        let split = rng.gen_bool(match length {
            DayLength::Short => 0.25,
            DayLength::Medium => 0.5,
            DayLength::Full => 0.8,
        });
        let slots = match (length, split) {
            (DayLength::Short, false) if rng.gen_bool(0.5) => vec![slot(8, 30, 12, 0)],
            (DayLength::Short, false) => vec![slot(14, 0, 17, 30)],
            (DayLength::Short, true) => vec![slot(9, 0, 10, 45), slot(14, 0, 15, 45)],
            (DayLength::Medium, false) if rng.gen_bool(0.6) => vec![slot(8, 30, 13, 45)],
            (DayLength::Medium, false) => vec![slot(13, 0, 18, 15)],
            (DayLength::Medium, true) => vec![slot(8, 30, 11, 15), slot(13, 30, 16, 0)],
            (DayLength::Full, false) => vec![slot(9, 0, 16, 0)],
            (DayLength::Full, true) => vec![slot(8, 30, 12, 0), slot(13, 30, 17, 0)],
        };
        debug_assert_eq!(
            slots.iter().map(|s| s.end - s.start).sum::<u32>(),
            length.minutes()
        );
        Timetable {
            length,
            slots,
            written,
        }
    }
}

/// A class.
#[derive(Debug, Clone)]
pub struct Class {
    /// id
    pub id: String,
    /// index into World::training
    pub inst: usize,
    /// index into OCCUPATIONS
    pub occ: usize,
    /// level
    pub level: &'static str,
    /// mode
    pub mode: Mode,
    /// how its trainees are subsidised
    pub route: Route,
    /// whether the evaluation rows of its sitting name it (`evaluations.class_id`)
    pub exam_names_class: bool,
    /// filed on
    pub filed: NaiveDate,
    /// first day
    pub start: NaiveDate,
    /// last day
    pub end: NaiveDate,
    /// fee in fen
    pub fee: i64,
    /// capacity
    pub capacity: u32,
    /// venue
    pub lat: f64,
    /// venue
    pub lon: f64,
    /// teacher
    pub teacher: String,
    /// the daily timetable
    pub tt: Timetable,
    /// number of class days (consecutive from the start)
    pub days: u32,
}

impl Class {
    /// Planned 学时: the timetabled minutes over all days / 45.
    pub fn planned_hours(&self) -> f64 {
        f64::from(self.days * self.tt.length.minutes()) / 45.0
    }
    /// Whether day `k` (0-based) is taught online.
    pub fn online_on(&self, k: u32) -> bool {
        match self.mode {
            Mode::Offline => false,
            Mode::Online => true,
            Mode::Blended => k % 2 == 1,
        }
    }
    /// Sets the timetable and the number of days so that the planned hours reach `target` 学时.
    pub fn fit_days(&mut self, target: u32) {
        self.days = (target * 45).div_ceil(self.tt.length.minutes()).max(1);
        self.end = self.start + Duration::days(i64::from(self.days) - 1);
    }
}

/// `planned_hours` as written: up to two decimals, no trailing zeros.
pub fn fmt_hours(h: f64) -> String {
    let s = format!("{h:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// How one trainee's attendance deviates from the normal pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttMode {
    /// as usual
    Normal,
    /// attends only this share of days
    Partial(f64),
    /// signs in on time every day but out after this share of each session
    LeavesEarly(f64),
    /// signs in one to two and a half hours early and out after 40 % of the day's first
    /// session, skipping the rest: the sign-in span looks long, the presence inside sessions
    /// is short
    EarlyInShortStay,
    /// attends only the morning session of each two-session day
    MorningsOnly,
    /// signs in far from the venue
    FarAway,
    /// face checks fail
    FaceFail,
    /// signs in at 06:00 and out at 22:00
    LongDays,
    /// signed in by a shared device
    SharedDevice(u32),
    /// never signs in (a name on the roster)
    Ghost,
}

/// An enrolment.
#[derive(Debug, Clone)]
pub struct Enroll {
    /// index into Cohort::classes
    pub class: usize,
    /// index into Cohort::persons
    pub person: usize,
    /// enrolled on
    pub on: NaiveDate,
    /// attendance pattern
    pub att: AttMode,
}

/// One candidate at one sitting.
#[derive(Debug, Clone)]
pub struct Eval {
    /// id
    pub id: String,
    /// person id
    pub person: String,
    /// index into World::evaluators
    pub org: usize,
    /// the class that prepared the candidate (known to the generator)
    pub class: Option<String>,
    /// whether the evaluation row names that class (`evaluations.class_id`)
    pub class_written: bool,
    /// occupation index
    pub occ: usize,
    /// level
    pub level: &'static str,
    /// site
    pub site: String,
    /// start
    pub starts: NaiveDateTime,
    /// end
    pub ends: NaiveDateTime,
    /// evaluators
    pub evaluators: Vec<String>,
    /// theory score
    pub theory: f64,
    /// practical score
    pub practical: f64,
    /// answer hash
    pub hash: String,
    /// passed
    pub passed: bool,
    /// certificate
    pub cert: Option<String>,
    /// issued
    pub issued: Option<NaiveDate>,
}

/// A claim.
#[derive(Debug, Clone)]
pub struct Claim {
    /// id
    pub id: String,
    /// scheme
    pub scheme: &'static str,
    /// claimant
    pub claimant: String,
    /// person id
    pub person: String,
    /// class id as written on the claim (`claims.class_id`)
    pub class: Option<String>,
    /// the class the claim is for, written or not (an evaluation claim's class)
    pub of_class: Option<String>,
    /// evaluation id
    pub eval: Option<String>,
    /// certificate
    pub cert: Option<String>,
    /// occupation index
    pub occ: usize,
    /// level
    pub level: &'static str,
    /// claimed, fen
    pub claimed: i64,
    /// paid, fen
    pub paid: Option<i64>,
    /// claimed on
    pub on: NaiveDate,
    /// paid on
    pub paid_on: Option<NaiveDate>,
    /// payee account
    pub payee: String,
    /// fund source
    pub fund: &'static str,
    /// approver
    pub approver: String,
    /// the entitled amount (fen), for labels
    pub entitled: i64,
}

/// Institutions, staff and catalogue: made once.
pub struct World {
    /// training institutions and schools
    pub training: Vec<Inst>,
    /// evaluation organisations
    pub evaluators: Vec<Inst>,
    /// enterprises
    pub enterprises: Vec<Inst>,
    /// the programmes planted for the effectiveness scorecard, and the seed of every
    /// programme's outcomes
    pub effectiveness: crate::effectiveness::Plan,
}

/// One cohort's records, before writing.
#[derive(Default)]
pub struct Cohort {
    /// persons
    pub persons: Vec<Person>,
    /// statuses
    pub statuses: Vec<StatusRec>,
    /// classes
    pub classes: Vec<Class>,
    /// enrolments
    pub enrolls: Vec<Enroll>,
    /// evaluations
    pub evals: Vec<Eval>,
    /// claims
    pub claims: Vec<Claim>,
    /// labels
    pub labels: Vec<Label>,
    /// teachers hired for this cohort's classes: (staff id, institution index)
    pub new_staff: Vec<(String, usize)>,
}

/// Counters for ids that must be unique across cohorts.
#[derive(Default)]
pub struct Ids {
    /// fingerprints of the resident ids handed out (random ids collide at scale: redraw)
    pub persons: std::collections::HashSet<u64>,
    /// classes
    pub class: u64,
    /// sessions
    pub session: u64,
    /// evaluations
    pub eval: u64,
    /// claims
    pub claim: u64,
    /// certificate serial
    pub cert: u64,
    /// the days each teacher is booked for (first, last day of each class)
    pub teacher_days: std::collections::HashMap<String, Vec<(NaiveDate, NaiveDate)>>,
    /// teachers hired per institution beyond its filed staff
    pub hired: std::collections::HashMap<usize, u32>,
    /// hired teachers not yet written to `staff`: (staff id, institution index)
    pub hired_pending: Vec<(String, usize)>,
    /// trainees of the forced class of each planted programme (effectiveness)
    pub forced: BTreeMap<crate::effectiveness::Key, u32>,
}

impl Ids {
    /// next class id
    pub fn class(&mut self) -> String {
        self.class += 1;
        format!("CL{:08}", self.class)
    }
    /// next evaluation id
    pub fn eval(&mut self) -> String {
        self.eval += 1;
        format!("EV{:09}", self.eval)
    }
    /// next claim id
    pub fn claim(&mut self) -> String {
        self.claim += 1;
        format!("CM{:09}", self.claim)
    }
}

/// The shortage tier of occupation `occ` on `day`: 无人机驾驶员 moved from tier 2 to tier 3 on
/// 2026-01-01 (two catalogue versions), the others have one version.
pub fn tier_on(occ: usize, day: NaiveDate) -> u8 {
    if OCCUPATIONS[occ].code == "4-99-00-00" && day < d(2026, 1, 1) {
        2
    } else {
        OCCUPATIONS[occ].tier
    }
}

/// The region whose own (lower) standard overrides the national default.
pub const XIAMEN: &str = "350203";

/// The entitlement in fen for a claim trained in `region` at `tier`.
pub fn entitled(region: &str, scheme: &str, level: &str, tier: u8) -> i64 {
    let base = if region == XIAMEN && matches!(scheme, "training" | "skill_upgrade") {
        match level {
            "junior" => 70_000,
            "intermediate" => 100_000,
            "senior" => 150_000,
            "technician" => 200_000,
            _ => base_amount(scheme, level),
        }
    } else {
        base_amount(scheme, level)
    };
    let pct = if matches!(scheme, "training" | "skill_upgrade") {
        (UPLIFT[tier as usize] * 100.0).round() as i64
    } else {
        0
    };
    base * (100 + pct) / 100
}

fn make_world(rng: &mut Xoshiro256PlusPlus, persons: u64) -> World {
    let n_train = ((persons / 100) as usize).max(20);
    let n_eval = ((persons / 1500) as usize).max(3);
    let n_ent = ((persons / 400) as usize).max(4);
    let mk = |kind: &'static str, i: usize, rng: &mut Xoshiro256PlusPlus| {
        let region = rng.gen_range(0..REGIONS.len());
        let authority = if kind == "school" { '5' } else { '9' };
        let id = idgen::uscc(rng, authority, REGIONS[region].code);
        let mut approved: Vec<usize> = (0..OCCUPATIONS.len()).collect();
        approved.shuffle(rng);
        approved.truncate(if kind == "evaluation" {
            OCCUPATIONS.len()
        } else {
            rng.gen_range(3..7)
        });
        approved.sort_unstable();
        let prefix = match kind {
            "training" => "职业培训学校",
            "school" => "技工学校",
            "evaluation" => "职业技能评价中心",
            _ => "有限公司",
        };
        let n_staff = if kind == "evaluation" {
            rng.gen_range(5..9)
        } else {
            rng.gen_range(2..6)
        };
        let tag = if kind == "evaluation" { "E" } else { "T" };
        let staff = (0..n_staff)
            .map(|k| format!("ST{tag}{i:06}{k:02}"))
            .collect();
        Inst {
            name: format!(
                "{}第{}{}",
                &REGIONS[region].name[..9.min(REGIONS[region].name.len())],
                i + 1,
                prefix
            ),
            id,
            kind,
            region,
            approved,
            in_from: d(2020 + rng.gen_range(0..5), rng.gen_range(1..13), 1),
            until: None,
            revoked: None,
            staff,
            account: idgen::bank_card(rng),
            colluding: false,
            lat: REGIONS[region].lat + rng.gen_range(-0.03..0.03),
            lon: REGIONS[region].lon + rng.gen_range(-0.03..0.03),
        }
    };
    let training = (0..n_train)
        .map(|i| mk(if i % 5 == 4 { "school" } else { "training" }, i, rng))
        .collect();
    let evaluators = (0..n_eval).map(|i| mk("evaluation", i, rng)).collect();
    let enterprises = (0..n_ent).map(|i| mk("enterprise", i, rng)).collect();
    World {
        training,
        evaluators,
        enterprises,
        effectiveness: crate::effectiveness::Plan::default(),
    }
}

/// Writes a package of `cfg` into `dir` (created if needed).
pub fn generate(dir: &Path, cfg: &Config) -> Result<Summary, SynthError> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    let mut world = make_world(&mut rng, cfg.persons);
    world.effectiveness.seed = cfg.seed;
    let mut quotas = Quotas::new(&cfg.rates, cfg.persons);
    let mut labels_out = scenario::LabelSink::open(dir)?;
    scenario::plant_world(&mut world, &mut rng, &mut quotas, &mut labels_out)?;

    let mut sinks: BTreeMap<Table, Sink> = BTreeMap::new();
    for t in Table::ALL {
        sinks.insert(t, Sink::open(dir, t, cfg.format)?);
    }
    write_world(&world, &mut sinks, &mut rng)?;
    // employment after the classes waits for the reference date (the latest claim date)
    let mut deferred = crate::effectiveness::Deferred::open(dir)?;
    let mut as_of: Option<NaiveDate> = None;

    let mut ids = Ids::default();
    let mut done = 0u64;
    let mut cohort_no = 0u64;
    while done < cfg.persons {
        let size = (COHORT as u64).min(cfg.persons - done) as usize;
        let mut c = make_cohort(&world, &mut rng, &mut ids, size, cohort_no);
        scenario::plant_cohort(&world, &mut c, &mut rng, &mut ids, &mut quotas);
        c.new_staff = std::mem::take(&mut ids.hired_pending);
        deferred.push(&crate::effectiveness::employment(&world, &c, &mut rng))?;
        as_of = c.claims.iter().map(|cl| cl.on).chain(as_of).max();
        write_cohort(&world, &c, &mut sinks, &mut rng)?;
        labels_out.write_all(&c.labels)?;
        done += size as u64;
        cohort_no += 1;
    }
    deferred.finish(as_of, sinks.get_mut(&Table::PersonStatus).expect("sink"))?;
    let mut summary = Summary::default();
    let (eff_rows, eff_low) = crate::effectiveness::write_labels(dir, &world, &ids.forced)?;
    summary.effectiveness_labels = eff_rows;
    quotas.count_n("low_effectiveness", eff_low);
    for (t, s) in sinks {
        summary.rows.insert(t.name(), s.finish()?);
    }
    summary.labels = labels_out.finish()?;
    summary.planted = quotas.planted();
    Ok(summary)
}

fn write_world(
    w: &World,
    sinks: &mut BTreeMap<Table, Sink>,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<(), SynthError> {
    let all = w.training.iter().chain(&w.evaluators).chain(&w.enterprises);
    let s = sinks.get_mut(&Table::Institutions).expect("sink");
    for i in all {
        let approved: Vec<&str> = i.approved.iter().map(|o| OCCUPATIONS[*o].code).collect();
        let approved = if i.kind == "enterprise" {
            String::new()
        } else {
            approved.join(";")
        };
        let until = i.until.map(fmt_d).unwrap_or_default();
        let revoked = i.revoked.map(fmt_d).unwrap_or_default();
        let supervisor = format!("人社局{}", REGIONS[i.region].code);
        s.row(&[
            &i.id,
            &i.name,
            i.kind,
            REGIONS[i.region].code,
            &fmt_d(i.in_from),
            &until,
            &revoked,
            &approved,
            &supervisor,
        ])?;
    }
    let s = sinks.get_mut(&Table::Occupations).expect("sink");
    for o in OCCUPATIONS {
        let hours = o.hours.to_string();
        if o.code == "4-99-00-00" {
            s.row(&[
                o.code,
                o.name,
                o.sector,
                "2",
                &hours,
                "2024-01-01",
                "2025-12-31",
            ])?;
            s.row(&[o.code, o.name, o.sector, "3", &hours, "2026-01-01", ""])?;
        } else {
            s.row(&[
                o.code,
                o.name,
                o.sector,
                &o.tier.to_string(),
                &hours,
                "2024-01-01",
                "",
            ])?;
        }
    }
    let s = sinks.get_mut(&Table::Staff).expect("sink");
    for i in w.training.iter().chain(&w.evaluators) {
        let role = if i.kind == "evaluation" {
            "evaluator"
        } else {
            "teacher"
        };
        for st in &i.staff {
            let until = if role == "evaluator" {
                fmt_d(d(2027 + rng.gen_range(0..3), 12, 31))
            } else {
                String::new()
            };
            s.row(&[st, "", role, &i.id, &until])?;
        }
    }
    let s = sinks.get_mut(&Table::SubsidyStandards).expect("sink");
    for (scheme, levels) in [
        (
            "training",
            &[
                "special_ability",
                "junior",
                "intermediate",
                "senior",
                "technician",
                "senior_technician",
            ][..],
        ),
        ("skill_upgrade", &["junior", "intermediate", "senior"][..]),
        (
            "evaluation",
            &[
                "special_ability",
                "junior",
                "intermediate",
                "senior",
                "technician",
                "senior_technician",
            ][..],
        ),
        (
            "living_allowance",
            &[
                "special_ability",
                "junior",
                "intermediate",
                "senior",
                "technician",
                "senior_technician",
            ][..],
        ),
    ] {
        for level in levels {
            let uplift = if matches!(scheme, "training" | "skill_upgrade") {
                "0;0.1;0.2;0.3"
            } else {
                "0;0;0;0"
            };
            s.row(&[
                "*",
                scheme,
                level,
                &format_yuan(base_amount(scheme, level)),
                uplift,
                "2025-01-01",
                "",
            ])?;
            if matches!(scheme, "training" | "skill_upgrade")
                && matches!(*level, "junior" | "intermediate" | "senior" | "technician")
            {
                s.row(&[
                    XIAMEN,
                    scheme,
                    level,
                    &format_yuan(entitled(XIAMEN, scheme, level, 0)),
                    uplift,
                    "2025-01-01",
                    "",
                ])?;
            }
        }
    }
    let s = sinks.get_mut(&Table::EnterpriseFunds).expect("sink");
    for e in &w.enterprises {
        for year in [2025, 2026] {
            let payroll: i64 = rng.gen_range(1_000_000..50_000_000) * 100;
            let extracted = payroll * 8 / 100;
            let used = extracted * rng.gen_range(60..100) / 100;
            let share = if e.colluding {
                rng.gen_range(20..50)
            } else {
                rng.gen_range(62..90)
            };
            let front = used * share / 100;
            s.row(&[
                &e.id,
                &year.to_string(),
                &format_yuan(payroll),
                &format_yuan(extracted),
                &format_yuan(used),
                &format_yuan(front),
            ])?;
        }
    }
    Ok(())
}

pub(crate) fn make_person(rng: &mut Xoshiro256PlusPlus, w: &World) -> (Person, Vec<StatusRec>) {
    let region = rng.gen_range(0..REGIONS.len());
    let male = rng.gen_bool(0.55);
    let max_year = if male { 1966 } else { 1971 };
    let birth = d(
        rng.gen_range(max_year..2006),
        rng.gen_range(1..13),
        rng.gen_range(1..29),
    );
    let id = idgen::person_id(
        rng,
        REGIONS[region].code,
        &birth.format("%Y%m%d").to_string(),
        male,
    );
    let name = format!(
        "{}{}",
        SURNAMES[rng.gen_range(0..SURNAMES.len())],
        GIVEN[rng.gen_range(0..GIVEN.len())]
    );
    let employed = rng.gen_bool(0.4);
    let employer = employed.then(|| {
        w.enterprises[rng.gen_range(0..w.enterprises.len())]
            .id
            .clone()
    });
    let p = Person {
        id: id.clone(),
        name,
        male,
        phone: idgen::phone(rng),
        account: idgen::bank_card(rng),
        region,
        birth,
        address: format!(
            "{}{}路{}号",
            REGIONS[region].name,
            ["人民", "解放", "建设", "中山", "和平"][rng.gen_range(0..5)],
            rng.gen_range(1..300)
        ),
        employer: employer.clone(),
        frontline: employed && rng.gen_bool(0.7),
    };
    let mut st = Vec::new();
    if let Some(e) = &employer {
        let hired = d(rng.gen_range(2016..2025), rng.gen_range(1..13), 1);
        st.push(StatusRec {
            person: id.clone(),
            status: "employed",
            from: hired,
            until: None,
            employer: Some(e.clone()),
            source: "社保",
        });
        st.push(StatusRec {
            person: id.clone(),
            status: "ui_insured",
            from: hired,
            until: None,
            employer: Some(e.clone()),
            source: "社保",
        });
    } else if rng.gen_bool(0.4) {
        st.push(StatusRec {
            person: id.clone(),
            status: "registered_unemployed",
            from: d(2024, rng.gen_range(1..13), 1),
            until: None,
            employer: None,
            source: "就业",
        });
    }
    let age_2025 = 2025 - birth.year();
    for (status, p_, source) in [
        ("poverty_alleviated", 0.08, "乡村振兴"),
        ("migrant_worker", 0.15, "就业"),
        ("veteran", 0.02, "退役军人事务"),
        ("disabled", 0.01, "残联"),
        ("hard_to_employ", 0.03, "就业"),
    ] {
        if rng.gen_bool(p_) {
            st.push(StatusRec {
                person: id.clone(),
                status,
                from: d(rng.gen_range(2018..2024), rng.gen_range(1..13), 1),
                until: None,
                employer: None,
                source,
            });
        }
    }
    if age_2025 < 25 && rng.gen_bool(0.3) {
        st.push(StatusRec {
            person: id.clone(),
            status: "graduate",
            from: d(2025, 1, 1),
            until: Some(d(2025, 12, 31)),
            employer: None,
            source: "学籍",
        });
    }
    (p, st)
}

/// A stable 64-bit fingerprint of an id (SipHash with fixed keys: the same on every run).
pub fn fingerprint(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new_with_keys(0x5eed, 0x1d);
    id.hash(&mut h);
    h.finish()
}

fn level_after(level: &'static str) -> &'static str {
    match level {
        "junior" => "intermediate",
        "intermediate" => "senior",
        "senior" => "technician",
        other => other,
    }
}

pub(crate) fn level_rank(level: &str) -> u32 {
    match level {
        "intermediate" => 1,
        "senior" => 2,
        "technician" => 3,
        "senior_technician" => 4,
        _ => 0,
    }
}

/// A new class of `size` trainees with a random timetable and mode, as many days as the
/// standard hours of its occupation and level need (higher levels add 14 学时 per step), the
/// training route (the caller may change it).
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_class(
    w: &World,
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    inst: usize,
    occ: usize,
    level: &'static str,
    start: NaiveDate,
    size: u32,
) -> Class {
    let i = &w.training[inst];
    let target = OCCUPATIONS[occ].hours + 14 * level_rank(level);
    let tt = Timetable::random(rng);
    let mode = match rng.gen_range(0..100) {
        0..=74 => Mode::Offline,
        75..=89 => Mode::Blended,
        _ => Mode::Online,
    };
    let mut c = Class {
        id: ids.class(),
        inst,
        occ,
        level,
        mode,
        route: Route::Training,
        exam_names_class: rng.gen_bool(0.8),
        filed: start - Duration::days(rng.gen_range(7..21)),
        start,
        end: start,
        fee: if rng.gen_bool(0.6) {
            0
        } else {
            rng.gen_range(1..7) * 10_000
        },
        capacity: size + rng.gen_range(5..30),
        lat: i.lat,
        lon: i.lon,
        teacher: String::new(),
        tt,
        days: 1,
    };
    c.fit_days(target);
    c.teacher = free_teacher(
        ids,
        i,
        inst,
        c.start,
        c.end,
        rng.gen_range(0..i.staff.len()),
    );
    c
}

/// A teacher of institution `inst` not booked on any day from `start` to `end` (a teacher
/// teaches one class at a time: legitimate data never double-books one), starting the search
/// at staff member `first`; when all are booked, one more is hired (written to `staff` with
/// the cohort).
fn free_teacher(
    ids: &mut Ids,
    i: &Inst,
    inst: usize,
    start: NaiveDate,
    end: NaiveDate,
    first: usize,
) -> String {
    let n = i.staff.len();
    let hired = ids.hired.get(&inst).copied().unwrap_or(0) as usize;
    let candidates = (0..n)
        .map(|k| i.staff[(first + k) % n].clone())
        .chain((0..hired).map(|k| format!("STT{inst:06}{:02}", n + k)));
    let mut pick = None;
    for t in candidates {
        let busy = ids
            .teacher_days
            .get(&t)
            .is_some_and(|v| v.iter().any(|&(a, b)| a <= end && start <= b));
        if !busy {
            pick = Some(t);
            break;
        }
    }
    let t = pick.unwrap_or_else(|| {
        let t = format!("STT{inst:06}{:02}", n + hired);
        *ids.hired.entry(inst).or_default() += 1;
        ids.hired_pending.push((t.clone(), inst));
        t
    });
    ids.teacher_days
        .entry(t.clone())
        .or_default()
        .push((start, end));
    t
}

fn random_start(rng: &mut Xoshiro256PlusPlus, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(1);
    from + Duration::days(rng.gen_range(0..span))
}

fn make_cohort(
    w: &World,
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    size: usize,
    cohort_no: u64,
) -> Cohort {
    use crate::effectiveness::{self as eff, Kind};
    let mut c = Cohort::default();
    for _ in 0..size {
        let (p, st) = loop {
            let (p, st) = make_person(rng, w);
            if ids.persons.insert(fingerprint(&p.id)) {
                break (p, st);
            }
        };
        c.persons.push(p);
        c.statuses.extend(st);
    }
    let mut order: Vec<usize> = (0..size).collect();
    order.shuffle(rng);
    let n_trained = size * 90 / 100;
    let n_direct = size * 4 / 100;
    let (trainees, rest) = order.split_at(n_trained);
    let direct = &rest[..n_direct.min(rest.len())];

    // first trainings: this cohort's planted programmes first (one class each, see
    // crate::effectiveness), then random ones, never in a planted programme
    let forced: Vec<&eff::Planned> = w
        .effectiveness
        .programmes
        .iter()
        .filter(|p| p.cohort == cohort_no)
        .collect();
    let mut forced = forced.into_iter();
    let mut k = 0;
    while k < trainees.len() {
        let planted = forced.next();
        let (class_size, inst, occ, level, start) = match planted {
            Some(p) => (
                (p.size as usize).min(trainees.len() - k),
                p.inst,
                p.occ,
                p.level,
                random_start(rng, p.start.0, p.start.1),
            ),
            None => {
                let class_size = rng.gen_range(20..41).min(trainees.len() - k);
                let (inst, occ, level) = loop {
                    let inst = rng.gen_range(0..w.training.len());
                    let occ = w.training[inst].approved
                        [rng.gen_range(0..w.training[inst].approved.len())];
                    let level = if OCCUPATIONS[occ].code.starts_with('Z') {
                        "special_ability"
                    } else {
                        match rng.gen_range(0..100) {
                            0..=59 => "junior",
                            60..=84 => "intermediate",
                            85..=96 => "senior",
                            _ => "technician",
                        }
                    };
                    if w.effectiveness.kind(inst, occ, level).is_none() {
                        break (inst, occ, level);
                    }
                };
                // an institution new to the catalogue starts its classes later
                let from = if eff::is_new(w, inst) {
                    d(2025, 6, 1)
                } else {
                    d(2025, 1, 6)
                };
                let start = random_start(rng, from, d(2026, 3, 31));
                (class_size, inst, occ, level, start)
            }
        };
        let mut cls = new_class(w, rng, ids, inst, occ, level, start, class_size as u32);
        if let Some(p) = planted {
            ids.forced
                .insert((p.inst, p.occ, p.level), class_size as u32);
        }
        // how its trainees are subsidised: mostly the training subsidy; some self-paying
        // classes whose trainees claim the evaluation subsidy; the junior classes of the short
        // courses end with a training certificate instead of an evaluation, all of them (so
        // that a programme's peers of the same occupation and level are alike: none has an
        // evaluation); a planted programme: the training subsidy
        let short_course =
            level == "junior" && TRAINING_CERTIFICATE_OCCS.contains(&OCCUPATIONS[occ].code);
        match if planted.is_some() {
            99
        } else if short_course {
            200
        } else {
            rng.gen_range(0..100)
        } {
            0..=14 => {
                cls.route = Route::Evaluation;
                cls.exam_names_class = rng.gen_bool(0.5);
                if cls.fee == 0 {
                    cls.fee = rng.gen_range(8..30) * 10_000;
                }
            }
            200 => cls.route = Route::TrainingCertificate,
            _ => {}
        }
        let ci = c.classes.len();
        for &p in &trainees[k..k + class_size] {
            c.enrolls.push(Enroll {
                class: ci,
                person: p,
                on: cls.filed - Duration::days(rng.gen_range(1..10)),
                att: AttMode::Normal,
            });
        }
        c.classes.push(cls);
        k += class_size;
    }
    // follow-ups: the next level of the same occupation, months later (a legitimate pattern)
    let firsts: Vec<Enroll> = c.enrolls.clone();
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for e in &firsts {
        let cls = &c.classes[e.class];
        if cls.level != "special_ability" && cls.level != "technician" && rng.gen_bool(0.12) {
            by_class.entry(e.class).or_default().push(e.person);
        }
    }
    for (ci, people) in by_class {
        let prev = c.classes[ci].clone();
        if w.effectiveness
            .kind(prev.inst, prev.occ, level_after(prev.level))
            .is_some()
        {
            continue;
        }
        let start = prev.end + Duration::days(rng.gen_range(60..200));
        let cls = new_class(
            w,
            rng,
            ids,
            prev.inst,
            prev.occ,
            level_after(prev.level),
            start,
            people.len() as u32,
        );
        let ni = c.classes.len();
        for p in people {
            c.enrolls.push(Enroll {
                class: ni,
                person: p,
                on: cls.filed - Duration::days(1),
                att: AttMode::Normal,
            });
        }
        c.classes.push(cls);
    }
    // evaluations and claims: one sitting per class, some days after it ended
    let mut sittings: BTreeMap<usize, Sitting> = BTreeMap::new();
    let mut class_size: BTreeMap<usize, usize> = BTreeMap::new();
    for e in &c.enrolls {
        *class_size.entry(e.class).or_default() += 1;
    }
    // who fails: each class's share of its programme's pass rate, rounded at random
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for e in &c.enrolls {
        members.entry(e.class).or_default().push(e.person);
    }
    let mut fails: std::collections::BTreeSet<(usize, usize)> = Default::default();
    for (&ci, people) in &members {
        let cls = &c.classes[ci];
        // only the effectiveness programmes (planted and hard negatives) fail by their rate;
        // elsewhere the sitting's scores decide, as before (the anomaly detectors' classes
        // keep their exam distributions)
        if cls.route == Route::TrainingCertificate
            || w.effectiveness.kind(cls.inst, cls.occ, cls.level).is_none()
        {
            continue;
        }
        let o = eff::outcome(w, cls.inst, cls.occ, cls.level);
        let n = people.len();
        let f = eff::round_random(rng, (1.0 - o.pass) * n as f64).min(n);
        let mut people = people.clone();
        people.shuffle(rng);
        fails.extend(people.into_iter().take(f).map(|p| (ci, p)));
    }
    let enrolls = c.enrolls.clone();
    let mut first_claim_year: BTreeMap<(usize, i32), bool> = BTreeMap::new();
    for e in &enrolls {
        let cls = c.classes[e.class].clone();
        let person = c.persons[e.person].clone();
        let inst = &w.training[cls.inst];
        let region = REGIONS[inst.region].code;
        let (eval, cert, issued) = if cls.route == Route::TrainingCertificate {
            // no evaluation: the institution's 培训合格证书, a few days after the last day
            let issued = cls.end + Duration::days(rng.gen_range(1..6));
            ids.cert += 1;
            let cert = idgen::training_certificate(region, &inst.id, issued.year(), ids.cert);
            (None, Some(cert), issued)
        } else {
            let sit = sittings
                .entry(e.class)
                .or_insert_with(|| {
                    let mut s = Sitting::new(w, rng, &cls, class_size[&e.class]);
                    if eff::outcome(w, cls.inst, cls.occ, cls.level).normal_grading {
                        s.grading = Grading::Normal;
                    }
                    s
                })
                .clone();
            let planted = w.effectiveness.kind(cls.inst, cls.occ, cls.level).is_some();
            let want = (planted && sit.grading != Grading::AllPass)
                .then(|| !fails.contains(&(e.class, e.person)));
            let mut ev = make_eval_as(
                rng,
                ids,
                &person.id,
                sit.org,
                Some(cls.id.clone()),
                cls.occ,
                cls.level,
                &sit.site,
                sit.starts,
                sit.evaluators.clone(),
                w,
                sit.grading,
                want,
            );
            ev.ends = ev.starts + Duration::minutes(sit.minutes);
            ev.class_written = cls.exam_names_class;
            let passed = ev.passed;
            let (id, cert, issued) = (ev.id.clone(), ev.cert.clone(), ev.issued);
            c.evals.push(ev);
            match (passed, issued) {
                (true, Some(issued)) => (Some(id), cert, issued),
                _ => continue,
            }
        };
        let ui_months = c
            .statuses
            .iter()
            .find(|s| s.person == person.id && s.status == "ui_insured")
            .map(|s| (cls.start - s.from).num_days() / 30);
        let upgrade = cls.route == Route::Training
            && cert.as_deref().is_some_and(is_level_certificate)
            && ui_months.is_some_and(|m| m >= 13)
            && rng.gen_bool(0.3);
        let claim = route_claim(w, rng, ids, &cls, &person, eval, cert, issued, upgrade);
        let on = claim.on;
        c.claims.push(claim);
        // a living allowance for key groups, once a year, claimed with the training subsidy
        let key_group = c.statuses.iter().any(|s| {
            s.person == person.id
                && matches!(s.status, "poverty_alleviated" | "hard_to_employ")
                && s.from <= cls.start
        });
        if cls.route != Route::Evaluation
            && key_group
            && !first_claim_year.contains_key(&(e.person, on.year()))
        {
            first_claim_year.insert((e.person, on.year()), true);
            let amount = entitled(region, "living_allowance", cls.level, 0);
            c.claims.push(Claim {
                id: ids.claim(),
                scheme: "living_allowance",
                claimant: person.id.clone(),
                person: person.id.clone(),
                class: Some(cls.id.clone()),
                of_class: Some(cls.id.clone()),
                eval: None,
                cert: None,
                occ: cls.occ,
                level: cls.level,
                claimed: amount,
                paid: Some(amount),
                on,
                paid_on: Some(on + Duration::days(rng.gen_range(10..40))),
                payee: person.account.clone(),
                fund: "employment_fund",
                approver: format!("人社局{region}"),
                entitled: amount,
            });
        }
    }
    // a planted repeat programme: most of its trainees already held a certificate of its
    // occupation and level (an earlier evaluation, self-paid, before the package's period)
    for (&ci, people) in &members {
        let cls = c.classes[ci].clone();
        if w.effectiveness.kind(cls.inst, cls.occ, cls.level) != Some(Kind::Repeat) {
            continue;
        }
        for &p in people {
            if !rng.gen_bool(0.9) {
                continue;
            }
            let org = rng.gen_range(0..w.evaluators.len());
            let mut evs = w.evaluators[org].staff.clone();
            evs.shuffle(rng);
            evs.truncate(3);
            let when = at(random_start(rng, d(2023, 3, 1), d(2024, 10, 31)), 9, 0);
            let pid = c.persons[p].id.clone();
            let ev = make_eval_as(
                rng,
                ids,
                &pid,
                org,
                None,
                cls.occ,
                cls.level,
                &format!("SITE{org:04}08"),
                when,
                evs,
                w,
                Grading::Normal,
                Some(true),
            );
            c.evals.push(ev);
        }
    }
    // direct-recognition candidates (社会化评价): an evaluation and claim with no class at all
    for &p in direct {
        let person = c.persons[p].clone();
        let org = rng.gen_range(0..w.evaluators.len());
        let occ = rng.gen_range(0..OCCUPATIONS.len());
        let level = if is_special(occ) {
            "special_ability"
        } else {
            ["junior", "intermediate", "senior"][rng.gen_range(0..3)]
        };
        let mut evs = w.evaluators[org].staff.clone();
        evs.shuffle(rng);
        evs.truncate(3);
        let when = at(random_start(rng, d(2025, 2, 1), d(2026, 6, 30)), 14, 0);
        let ev = make_eval(
            rng,
            ids,
            &person.id,
            org,
            None,
            occ,
            level,
            &format!("SITE{org:04}09"),
            when,
            evs,
            w,
            Grading::Normal,
        );
        if let (true, Some(issued)) = (ev.passed, ev.issued) {
            let amount = entitled("*", "evaluation", level, 0);
            let on = issued + Duration::days(rng.gen_range(3..60));
            c.claims.push(Claim {
                id: ids.claim(),
                scheme: "evaluation",
                claimant: person.id.clone(),
                person: person.id.clone(),
                class: None,
                of_class: None,
                eval: Some(ev.id.clone()),
                cert: ev.cert.clone(),
                occ,
                level,
                claimed: amount,
                paid: Some(amount),
                on,
                paid_on: Some(on + Duration::days(rng.gen_range(10..40))),
                payee: person.account.clone(),
                fund: "employment_fund",
                approver: format!("人社局{}", REGIONS[person.region].code),
                entitled: amount,
            });
        }
        c.evals.push(ev);
    }
    c
}

/// The short courses whose junior classes end in a 培训合格证书 of the institution (route
/// [`Route::TrainingCertificate`], no evaluation): 网约配送员 and 家政服务员.
pub const TRAINING_CERTIFICATE_OCCS: [&str; 2] = ["4-02-04-01", "4-10-01-06"];

/// Whether occupation `occ` is a 专项职业能力 (its classes and certificates are `special_ability`).
pub(crate) fn is_special(occ: usize) -> bool {
    OCCUPATIONS[occ].code.starts_with('Z')
}

/// Whether a certificate number is a 职业技能等级证书 number (`Y`/`S` + 21 digits), as opposed to
/// a special-ability or training certificate of a province's own numbering.
pub(crate) fn is_level_certificate(no: &str) -> bool {
    no.len() == 22
        && matches!(no.as_bytes()[0], b'Y' | b'S')
        && no[1..].bytes().all(|b| b.is_ascii_digit())
}

/// How a sitting's scores are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grading {
    /// theory ~ N(74, 9), practical ~ N(79, 7): some candidates fail
    Normal,
    /// every candidate passes, scores still spread normally (a hard negative for the
    /// uniform-score half of FE-02)
    AllPass,
    /// the practical task is graded on a fixed mark (80 for everyone), theory varies: used
    /// only in sittings of fewer than 30 candidates (a hard negative for FE-02)
    FixedPractical,
}

/// One sitting of a class's candidates.
#[derive(Debug, Clone)]
pub(crate) struct Sitting {
    pub org: usize,
    pub site: String,
    pub starts: NaiveDateTime,
    pub minutes: i64,
    pub evaluators: Vec<String>,
    pub grading: Grading,
}

impl Sitting {
    /// The sitting of class `cls` (of `size` candidates): 2–10 days after the last class day,
    /// morning or afternoon, 90–150 minutes, three examiners.
    pub fn new(w: &World, rng: &mut Xoshiro256PlusPlus, cls: &Class, size: usize) -> Sitting {
        let org = rng.gen_range(0..w.evaluators.len());
        let mut ev = w.evaluators[org].staff.clone();
        ev.shuffle(rng);
        ev.truncate(3);
        let day = cls.end + Duration::days(rng.gen_range(2..11));
        let hour = if rng.gen_bool(0.6) { 9 } else { 14 };
        let grading = match rng.gen_range(0..100) {
            0..=24 => Grading::AllPass,
            25..=34 if size < 30 => Grading::FixedPractical,
            _ => Grading::Normal,
        };
        Sitting {
            org,
            site: format!("SITE{org:04}{:02}", rng.gen_range(1..100)),
            starts: at(day, hour, 0),
            minutes: [90, 120, 150][rng.gen_range(0..3)],
            evaluators: ev,
            grading,
        }
    }
}

/// The claim a trainee of `cls` who finished (evaluation `eval` passed, or a training
/// certificate) gets, by the class's route: the institution's training claim (or the trainee's
/// skill-upgrade claim), or the trainee's evaluation claim with no `class_id`. Paid in 92 % of
/// cases.
#[allow(clippy::too_many_arguments)]
pub(crate) fn route_claim(
    w: &World,
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    cls: &Class,
    person: &Person,
    eval: Option<String>,
    cert: Option<String>,
    issued: NaiveDate,
    upgrade: bool,
) -> Claim {
    let inst = &w.training[cls.inst];
    let region = REGIONS[inst.region].code;
    let on = issued + Duration::days(rng.gen_range(3..60));
    let paid = rng.gen_bool(0.92);
    let paid_on = paid.then(|| on + Duration::days(rng.gen_range(10..40)));
    if cls.route == Route::Evaluation {
        let amount = entitled("*", "evaluation", cls.level, 0);
        return Claim {
            id: ids.claim(),
            scheme: "evaluation",
            claimant: person.id.clone(),
            person: person.id.clone(),
            class: None,
            of_class: Some(cls.id.clone()),
            eval,
            cert,
            occ: cls.occ,
            level: cls.level,
            claimed: amount,
            paid: paid.then_some(amount),
            on,
            paid_on,
            payee: person.account.clone(),
            fund: "employment_fund",
            approver: format!("人社局{region}"),
            entitled: amount,
        };
    }
    let tier = tier_on(cls.occ, cls.start);
    let scheme = if upgrade { "skill_upgrade" } else { "training" };
    let amount = entitled(region, scheme, cls.level, tier);
    Claim {
        id: ids.claim(),
        scheme,
        claimant: if upgrade {
            person.id.clone()
        } else {
            inst.id.clone()
        },
        person: person.id.clone(),
        class: Some(cls.id.clone()),
        of_class: Some(cls.id.clone()),
        eval,
        cert,
        occ: cls.occ,
        level: cls.level,
        claimed: amount,
        paid: paid.then_some(amount),
        on,
        paid_on,
        payee: if upgrade {
            person.account.clone()
        } else {
            inst.account.clone()
        },
        fund: if upgrade {
            "unemployment_insurance"
        } else {
            "employment_fund"
        },
        approver: format!("人社局{region}"),
        entitled: amount,
    }
}

/// The certificate for a candidate who passed at evaluation organisation `org` on `issued`: a
/// 22-character 职业技能等级证书 number, or for `special_ability` a 专项职业能力证书 number in
/// the organisation's province's own numbering.
pub(crate) fn certificate_for(
    w: &World,
    ids: &mut Ids,
    org: usize,
    level: &str,
    issued: NaiveDate,
) -> String {
    ids.cert += 1;
    let province = &REGIONS[w.evaluators[org].region].code[..2];
    if level == "special_ability" {
        return idgen::special_certificate(province, issued.year(), ids.cert);
    }
    let digit = match level {
        "junior" => 5,
        "intermediate" => 4,
        "senior" => 3,
        "technician" => 2,
        "senior_technician" => 1,
        _ => 5,
    };
    idgen::certificate(province, org as u32, issued.year(), digit, ids.cert)
}

/// Makes `ev` a pass (redrawing failing scores to passing ones) with its certificate.
pub(crate) fn grant(ev: &mut Eval, rng: &mut Xoshiro256PlusPlus, ids: &mut Ids, w: &World) {
    if ev.passed {
        return;
    }
    ev.theory = ev.theory.max(f64::from(rng.gen_range(62..80)));
    ev.practical = ev.practical.max(f64::from(rng.gen_range(65..85)));
    ev.passed = true;
    let issued = ev.starts.date() + Duration::days(rng.gen_range(7..22));
    ev.issued = Some(issued);
    ev.cert = Some(certificate_for(w, ids, ev.org, ev.level, issued));
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn make_eval(
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    person: &str,
    org: usize,
    class: Option<String>,
    occ: usize,
    level: &'static str,
    site: &str,
    starts: NaiveDateTime,
    evaluators: Vec<String>,
    w: &World,
    grading: Grading,
) -> Eval {
    make_eval_as(
        rng, ids, person, org, class, occ, level, site, starts, evaluators, w, grading, None,
    )
}

/// [`make_eval`], the candidate passing or failing as `want` says (scores drawn from the
/// sitting's distribution until they agree; ignored in an all-pass sitting).
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_eval_as(
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    person: &str,
    org: usize,
    class: Option<String>,
    occ: usize,
    level: &'static str,
    site: &str,
    starts: NaiveDateTime,
    evaluators: Vec<String>,
    w: &World,
    grading: Grading,
    want: Option<bool>,
) -> Eval {
    let want = if grading == Grading::AllPass {
        Some(true)
    } else {
        want
    };
    let (theory, practical) = loop {
        let t = normal(rng, 74.0, 9.0).clamp(0.0, 100.0).round();
        let p = if grading == Grading::FixedPractical {
            80.0
        } else {
            normal(rng, 79.0, 7.0).clamp(0.0, 100.0).round()
        };
        if want.is_none_or(|want| want == (t >= 60.0 && p >= 60.0)) {
            break (t, p);
        }
    };
    let passed = theory >= 60.0 && practical >= 60.0;
    let issued = passed.then(|| starts.date() + Duration::days(rng.gen_range(7..22)));
    let cert = issued.map(|i| certificate_for(w, ids, org, level, i));
    Eval {
        id: ids.eval(),
        person: person.to_string(),
        org,
        class_written: class.is_some(),
        class,
        occ,
        level,
        site: site.to_string(),
        starts,
        ends: starts + Duration::minutes(120),
        evaluators,
        theory,
        practical,
        hash: format!("{:016x}", rng.r#gen::<u64>()),
        passed,
        cert,
        issued,
    }
}

fn write_cohort(
    w: &World,
    c: &Cohort,
    sinks: &mut BTreeMap<Table, Sink>,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<(), SynthError> {
    let s = sinks.get_mut(&Table::Persons).expect("sink");
    for p in &c.persons {
        s.row(&[
            &p.id,
            &p.name,
            if p.male { "m" } else { "f" },
            &p.phone,
            &p.account,
            REGIONS[p.region].code,
            &fmt_d(p.birth),
            &p.address,
            p.employer.as_deref().unwrap_or(""),
            if p.employer.is_some() {
                if p.frontline { "true" } else { "false" }
            } else {
                ""
            },
        ])?;
    }
    let s = sinks.get_mut(&Table::Staff).expect("sink");
    for (id, inst) in &c.new_staff {
        s.row(&[id, "", "teacher", &w.training[*inst].id, ""])?;
    }
    let s = sinks.get_mut(&Table::PersonStatus).expect("sink");
    for st in &c.statuses {
        s.row(&[
            &st.person,
            st.status,
            &fmt_d(st.from),
            &st.until.map(fmt_d).unwrap_or_default(),
            st.employer.as_deref().unwrap_or(""),
            st.source,
        ])?;
    }
    for cls in &c.classes {
        let inst = &w.training[cls.inst];
        // an online class has no venue: no capacity, no location
        let online = cls.mode == Mode::Online;
        let (capacity, lat, lon) = if online {
            (String::new(), String::new(), String::new())
        } else {
            (
                cls.capacity.to_string(),
                format!("{:.6}", cls.lat),
                format!("{:.6}", cls.lon),
            )
        };
        sinks.get_mut(&Table::Classes).expect("sink").row(&[
            &cls.id,
            &inst.id,
            OCCUPATIONS[cls.occ].code,
            cls.level,
            cls.mode.as_str(),
            &fmt_d(cls.filed),
            &fmt_d(cls.start),
            &fmt_d(cls.end),
            &fmt_hours(cls.planned_hours()),
            &format_yuan(cls.fee),
            &capacity,
            &lat,
            &lon,
            &cls.teacher,
        ])?;
        if !cls.tt.written {
            continue;
        }
        let s = sinks.get_mut(&Table::Sessions).expect("sink");
        let mut n = 0;
        for k in 0..cls.days {
            let day = cls.start + Duration::days(i64::from(k));
            for sl in &cls.tt.slots {
                n += 1;
                s.row(&[
                    &format!("{}-{n:03}", cls.id),
                    &cls.id,
                    &fmt_dt(at_min(day, sl.start)),
                    &fmt_dt(at_min(day, sl.end)),
                    &cls.teacher,
                ])?;
            }
        }
    }
    for e in &c.enrolls {
        let cls = &c.classes[e.class];
        let p = &c.persons[e.person];
        sinks
            .get_mut(&Table::Enrollments)
            .expect("sink")
            .row(&[&cls.id, &p.id, &fmt_d(e.on)])?;
        write_attendance(
            cls,
            p,
            e.att,
            w,
            sinks.get_mut(&Table::Attendance).expect("sink"),
            rng,
        )?;
    }
    let s = sinks.get_mut(&Table::Evaluations).expect("sink");
    for ev in &c.evals {
        let class = if ev.class_written {
            ev.class.as_deref().unwrap_or("")
        } else {
            ""
        };
        s.row(&[
            &ev.id,
            &ev.person,
            &w.evaluators[ev.org].id,
            class,
            OCCUPATIONS[ev.occ].code,
            ev.level,
            &ev.site,
            &fmt_dt(ev.starts),
            &fmt_dt(ev.ends),
            &ev.evaluators.join(";"),
            &format!("{}", ev.theory),
            &format!("{}", ev.practical),
            &ev.hash,
            if ev.passed { "true" } else { "false" },
            ev.cert.as_deref().unwrap_or(""),
            &ev.issued.map(fmt_d).unwrap_or_default(),
        ])?;
    }
    let s = sinks.get_mut(&Table::Claims).expect("sink");
    for cl in &c.claims {
        s.row(&[
            &cl.id,
            cl.scheme,
            &cl.claimant,
            &cl.person,
            cl.class.as_deref().unwrap_or(""),
            cl.eval.as_deref().unwrap_or(""),
            cl.cert.as_deref().unwrap_or(""),
            OCCUPATIONS[cl.occ].code,
            cl.level,
            &format_yuan(cl.claimed),
            &cl.paid.map(format_yuan).unwrap_or_default(),
            &fmt_d(cl.on),
            &cl.paid_on.map(fmt_d).unwrap_or_default(),
            &cl.payee,
            cl.fund,
            &cl.approver,
        ])?;
    }
    Ok(())
}

fn at_min(day: NaiveDate, minutes: u32) -> NaiveDateTime {
    at(day, minutes / 60, minutes % 60)
}

/// How late a legitimate trainee signs out after a session, in seconds: mostly within ten
/// minutes, sometimes within 45, now and then one to two hours (the last session of the day
/// only; a morning sign-out stays before the afternoon sign-in).
fn late_out(rng: &mut Xoshiro256PlusPlus, room: i64) -> i64 {
    let late = match rng.gen_range(0..100) {
        0..=77 => rng.gen_range(0..600),
        78..=94 => rng.gen_range(600..2700),
        _ => rng.gen_range(3600..7200),
    };
    late.min(room)
}

fn write_attendance(
    cls: &Class,
    p: &Person,
    mode: AttMode,
    w: &World,
    s: &mut Sink,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<(), SynthError> {
    if mode == AttMode::Ghost {
        return Ok(());
    }
    let colluding = w.training[cls.inst].colluding;
    // a trainee signs in on their phone at the venue, on their phone or computer online
    let phone = match mode {
        AttMode::SharedDevice(k) => format!("DVSHARED{:06}", k),
        _ => format!("DV{}", &p.phone[3..]),
    };
    let computer = format!("PC{:012X}", fingerprint(&p.id) & 0xFFFF_FFFF_FFFF);
    let uses_computer = fingerprint(&p.id) % 5 < 3;
    // a partial attender misses an exact share of the days (which days is random); a background
    // trainee misses at most a tenth of them (staying at or above 90 % of the timetable)
    let skip: std::collections::BTreeSet<u32> = match mode {
        AttMode::Partial(f) => {
            let mut days: Vec<u32> = (0..cls.days).collect();
            days.shuffle(rng);
            let missed = cls.days - ((f64::from(cls.days) * f).round() as u32).min(cls.days);
            days.into_iter().take(missed as usize).collect()
        }
        _ => (0..cls.days)
            .filter(|_| rng.gen_bool(0.05))
            .take((cls.days / 10) as usize)
            .collect(),
    };
    let slots = &cls.tt.slots;
    for k in 0..cls.days {
        if skip.contains(&k) {
            continue;
        }
        let day = cls.start + Duration::days(i64::from(k));
        let day0 = at(day, 0, 0);
        let online = cls.online_on(k);
        // (sign-in, sign-out) in seconds after midnight
        let mut pairs: Vec<(i64, i64)> = Vec::with_capacity(2);
        for (j, sl) in slots.iter().enumerate() {
            let (a, b) = (i64::from(sl.start) * 60, i64::from(sl.end) * 60);
            let last = j + 1 == slots.len();
            // time until the next session's sign-in window, for a morning sign-out
            let room = slots
                .get(j + 1)
                .map_or(i64::MAX, |n| i64::from(n.start) * 60 - b - 1200);
            let early = rng.gen_range(60..900);
            let pair = match mode {
                AttMode::LongDays => {
                    if j == 0 {
                        pairs.push((6 * 3600, 22 * 3600));
                    }
                    continue;
                }
                AttMode::LeavesEarly(f) => (a - early, a + ((b - a) as f64 * f) as i64),
                AttMode::EarlyInShortStay => {
                    if j == 0 {
                        let stay = ((b - a) as f64 * 0.4) as i64;
                        pairs.push((a - rng.gen_range(5400..9000), a + stay));
                    }
                    continue;
                }
                AttMode::MorningsOnly if j > 0 => continue,
                AttMode::Partial(_) => (a - early, b + rng.gen_range(0..600).min(room)),
                _ if colluding => {
                    // colluding institutions sign everyone in within a minute of each other
                    let jin = (normal(rng, -2.0, 0.4) * 60.0) as i64;
                    let jout = (normal(rng, 1.0, 0.4) * 60.0) as i64;
                    (a + jin.min(-1), b + jout.max(0).min(room))
                }
                _ => {
                    let late = if last {
                        late_out(rng, room)
                    } else {
                        late_out(rng, room).min(1800)
                    };
                    (a - early, b + late)
                }
            };
            pairs.push(pair);
        }
        let (lat, lon) = if online {
            (None, None)
        } else if mode == AttMode::FarAway {
            (Some(cls.lat + 0.2), Some(cls.lon + 0.2))
        } else {
            (
                Some(cls.lat + rng.gen_range(-0.0005..0.0005)),
                Some(cls.lon + rng.gen_range(-0.0005..0.0005)),
            )
        };
        let device = if online && uses_computer && !matches!(mode, AttMode::SharedDevice(_)) {
            &computer
        } else {
            &phone
        };
        let lat = lat.map(|x| format!("{x:.6}")).unwrap_or_default();
        let lon = lon.map(|x| format!("{x:.6}")).unwrap_or_default();
        for (tin, tout) in pairs {
            for (t, dir) in [(tin, "in"), (tout, "out")] {
                let ts = day0 + Duration::seconds(t);
                // online platforms check every sign-in by face; at the venue a few use a QR code
                let face = online || rng.gen_bool(0.95) || mode == AttMode::FaceFail;
                let score = if mode == AttMode::FaceFail {
                    rng.gen_range(0.20..0.55)
                } else if colluding {
                    rng.gen_range(0.70..0.80)
                } else {
                    rng.gen_range(0.82..0.995)
                };
                s.row(&[
                    &cls.id,
                    &p.id,
                    &fmt_dt(ts),
                    dir,
                    if face { "face" } else { "qr" },
                    &if face {
                        format!("{score:.3}")
                    } else {
                        String::new()
                    },
                    device,
                    &lat,
                    &lon,
                ])?;
            }
        }
    }
    Ok(())
}
