//! Training effectiveness (质效): a scorecard per programme (training institution × occupation ×
//! level) and per institution, ranked against peers, and IE-01 for a programme at the bottom of
//! its peers. The measures, their formulas and the clauses they serve are in
//! `docs/effectiveness.md`; this module follows it line by line.
//!
//! One pass over each input table (enrollments, evaluations, person_status, claims), into hash
//! maps keyed by person and class; the programmes (thousands) are then ranked in plain Rust.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt, HashSetExt};

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use subsidy_model::contract::Table;
use subsidy_model::output::{DetectorFinding, EFFECTIVENESS};
use subsidy_model::vocab::Level;

use crate::ScoringError;

/// The pack's `[effectiveness]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// an evaluation with no class_id counts for a class it starts within this many days after
    pub eval_window_days: i64,
    /// employment counts when it starts within this many months after the class ends
    pub employment_window_months: u32,
    /// the credibility constant m: a programme of n trainees keeps the weight n / (n + m)
    pub credibility: f64,
    /// a peer group of fewer programmes widens to the occupation and level in the package
    pub min_peers: usize,
    /// IE-01: a programme needs this many trainees
    pub min_trainees: usize,
    /// IE-01: its composite percentile is at most this
    pub bottom_share: f64,
    /// IE-01: and one shrunk rate (pass, certificate, employment) is this far below the peers'
    pub min_gap: f64,
    /// the composite's weights
    pub weights: Weights,
}

/// The composite's weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// pass rate
    pub pass: f64,
    /// certificate rate
    pub certificate: f64,
    /// skill upgrade
    pub upgrade: f64,
    /// employment
    pub employment: f64,
    /// subsidy per employed trainee (lower is better)
    pub cost: f64,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            pass: 0.30,
            certificate: 0.15,
            upgrade: 0.15,
            employment: 0.30,
            cost: 0.10,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            eval_window_days: 180,
            employment_window_months: 6,
            credibility: 10.0,
            min_peers: 5,
            min_trainees: 20,
            bottom_share: 0.10,
            min_gap: 0.20,
            weights: Weights::default(),
        }
    }
}

impl Config {
    fn check(&self) -> Result<(), ScoringError> {
        let w = &self.weights;
        let ok = self.credibility >= 0.0
            && (0.0..=1.0).contains(&self.bottom_share)
            && (0.0..=1.0).contains(&self.min_gap)
            && [w.pass, w.certificate, w.upgrade, w.employment, w.cost]
                .iter()
                .all(|x| *x >= 0.0)
            && w.pass + w.certificate + w.upgrade + w.employment + w.cost > 0.0;
        if ok {
            Ok(())
        } else {
            Err(ScoringError::Param(format!(
                "[effectiveness]: credibility ≥ 0, bottom_share and min_gap in 0..1, weights ≥ 0 and not all 0 ({self:?})"
            )))
        }
    }
}

/// A level's rank for skill upgrade (`special_ability` = `apprentice` lowest).
fn level_rank(l: &str) -> Option<u8> {
    Some(match Level::parse(l)? {
        Level::SpecialAbility | Level::Apprentice => 0,
        Level::Junior => 1,
        Level::Intermediate => 2,
        Level::Senior => 3,
        Level::Technician => 4,
        Level::SeniorTechnician => 5,
        Level::PrincipalTechnician => 6,
        Level::ChiefTechnician => 7,
    })
}

/// The counts of a programme or an institution.
#[derive(Debug, Clone, Default, PartialEq)]
struct Counts {
    trainees: i64,
    /// trainees of classes whose trainees sat a skill evaluation (the others end in a training
    /// certificate, 培训合格证书, and have no pass or certificate to count)
    assessed: i64,
    passed: i64,
    certified: i64,
    upgraded: i64,
    employable: i64,
    employed: i64,
    paid: i64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.trainees += o.trainees;
        self.assessed += o.assessed;
        self.passed += o.passed;
        self.certified += o.certified;
        self.upgraded += o.upgraded;
        self.employable += o.employable;
        self.employed += o.employed;
        self.paid += o.paid;
    }
}

/// The measures: (name, successes, trials) of the four rates.
const RATES: [&str; 4] = ["pass", "certificate", "upgrade", "employment"];

fn rate_parts(c: &Counts, k: usize) -> (f64, f64) {
    match k {
        0 => (c.passed as f64, c.assessed as f64),
        1 => (c.certified as f64, c.assessed as f64),
        2 => (c.upgraded as f64, c.assessed as f64),
        _ => (c.employed as f64, c.employable as f64),
    }
}

/// One scored unit.
#[derive(Debug, Clone)]
struct Unit {
    institution: String,
    occupation: String,
    level: String,
    region: String,
    counts: Counts,
    peer_group: String,
    peers: usize,
    /// raw, shrunk, peer median, percentile per rate
    rates: [(Option<f64>, Option<f64>, Option<f64>, Option<f64>); 4],
    /// the peers' pooled rate per rate (the shrinkage prior)
    priors: [Option<f64>; 4],
    /// subsidy per employed (fen), its peer median, the cost percentile
    cost: (Option<i64>, Option<i64>, Option<f64>),
    composite: Option<f64>,
    composite_percentile: Option<f64>,
    flagged: bool,
}

/// What the scorecard found.
#[derive(Debug)]
pub struct Scorecard {
    /// `effectiveness` rows, in the contract's columns and order
    pub frame: DataFrame,
    /// IE-01 findings
    pub findings: Vec<DetectorFinding>,
    /// each training institution's composite
    pub institution_score: BTreeMap<String, f64>,
    /// why a measure is empty throughout, if it is (e.g. no person_status table)
    pub notes: Vec<String>,
}

use subsidy_model::frame::text_column as strs;

/// A date or datetime column as days since 1970-01-01.
fn days(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<i32>>> {
    let s = df.column(c)?.cast(&DataType::Date)?;
    Ok(s.date()?.physical().iter().collect())
}

fn day_of(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn date_of(d: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(d as i64)
}

/// A peer group's values, sorted once, for mid-rank percentiles: (below + half of the equal,
/// itself included) / n. Two binary searches per value, not a scan of the group (a scan made the
/// whole-package group of institutions quadratic).
struct Ranked {
    /// the values that compare (NaN is neither below nor equal to anything), sorted
    sorted: Vec<f64>,
    /// how many values there were, NaN included
    n: usize,
}

impl Ranked {
    fn new(all: &[f64]) -> Ranked {
        let mut sorted: Vec<f64> = all.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        Ranked {
            sorted,
            n: all.len(),
        }
    }

    /// The mid-rank percentile of `x` among the values.
    fn midrank(&self, x: f64) -> f64 {
        // `<` and `<=` are monotone along total_cmp's order once NaN is gone (-0.0 == 0.0 too)
        let below = self.sorted.partition_point(|v| *v < x);
        let up_to = self.sorted.partition_point(|v| *v <= x);
        let equal = up_to.max(below) - below;
        (below as f64 + 0.5 * equal as f64) / self.n.max(1) as f64
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Scores every programme and institution of the package as of `as_of`.
pub fn score(
    frames: &BTreeMap<Table, DataFrame>,
    as_of: NaiveDate,
    cfg: &Config,
) -> Result<Scorecard, ScoringError> {
    cfg.check()?;
    let mut notes = Vec::new();
    let today = day_of(as_of);
    let frame = |t: Table| frames.get(&t).filter(|df| df.height() > 0);

    // the text columns read below, held here so that every map borrows its keys from them
    let text = |t: Table, names: &[&str]| -> PolarsResult<Option<Vec<StringChunked>>> {
        frame(t)
            .map(|df| names.iter().map(|c| strs(df, c)).collect())
            .transpose()
    };
    let inst_text = text(Table::Institutions, &["institution_id"])?;
    let inst_region = frame(Table::Institutions).and_then(|df| strs(df, "region_code").ok());
    let class_text = text(
        Table::Classes,
        &["class_id", "institution_id", "occupation_code", "level"],
    )?;
    let eval_text = text(
        Table::Evaluations,
        &[
            "evaluation_id",
            "person_id",
            "class_id",
            "occupation_code",
            "level",
            "certificate_no",
        ],
    )?;
    let status_text = text(Table::PersonStatus, &["person_id", "status"])?;
    let claim_text = text(Table::Claims, &["class_id", "evaluation_id"])?;
    let enrol_text = text(Table::Enrollments, &["class_id", "person_id"])?;

    // institutions: region (4 digits) of each
    let mut region: HashMap<&str, String> = HashMap::new();
    if let Some([id]) = inst_text.as_deref() {
        for (k, i) in id.iter().enumerate() {
            let Some(i) = i else { continue };
            let code = inst_region
                .as_ref()
                .and_then(|r| r.get(k))
                .filter(|r| r.len() == 6 && r.bytes().all(|b| b.is_ascii_digit()))
                .or_else(|| {
                    (i.len() == 18 && i.is_ascii() && i[2..8].bytes().all(|b| b.is_ascii_digit()))
                        .then(|| &i[2..8])
                });
            region.insert(i, code.map_or(String::new(), |c| c[..4].to_string()));
        }
    }

    // classes that have ended
    struct Class<'a> {
        inst: &'a str,
        occ: &'a str,
        level: &'a str,
        start: i32,
        end: i32,
    }
    let mut classes: HashMap<&str, Class<'_>> = HashMap::new();
    if let (Some(df), Some([id, inst, occ, lv])) = (frame(Table::Classes), class_text.as_deref()) {
        let (st, en) = (days(df, "start_date")?, days(df, "end_date")?);
        for k in 0..df.height() {
            if let (Some(i), Some(inst), Some(occ), Some(level), Some(start), Some(end)) =
                (id.get(k), inst.get(k), occ.get(k), lv.get(k), st[k], en[k])
                && end <= today
            {
                classes.insert(
                    i,
                    Class {
                        inst,
                        occ,
                        level,
                        start,
                        end,
                    },
                );
            }
        }
    }

    // passing evaluations per person: (day, class, occupation, level, certified, rank)
    struct Pass<'a> {
        day: i32,
        class: Option<&'a str>,
        occ: &'a str,
        level: &'a str,
        passed: bool,
        cert: bool,
    }
    let mut passes: HashMap<&str, Vec<Pass<'_>>> = HashMap::new();
    let mut eval_class: HashMap<&str, &str> = HashMap::new();
    if let (Some(df), Some([eid, pid, cid, occ, lv, cert])) =
        (frame(Table::Evaluations), eval_text.as_deref())
    {
        let passed = df.column("passed")?.bool()?.rechunk().into_owned();
        let day = days(df, "starts_at")?;
        for k in 0..df.height() {
            if let (Some(e), Some(c)) = (eid.get(k), cid.get(k)) {
                eval_class.insert(e, c);
            }
            let (Some(p), Some(occ), Some(level), Some(d)) =
                (pid.get(k), occ.get(k), lv.get(k), day[k])
            else {
                continue;
            };
            let ok = passed.get(k) == Some(true);
            passes.entry(p).or_default().push(Pass {
                day: d,
                class: cid.get(k),
                occ,
                level,
                passed: ok,
                cert: ok && cert.get(k).is_some_and(|c| !c.trim().is_empty()),
            });
        }
    }
    for v in passes.values_mut() {
        v.sort_by(|a, b| (a.day, a.level).cmp(&(b.day, b.level)));
    }

    // employment statuses per person: (from, until)
    let has_status = frame(Table::PersonStatus).is_some();
    if !has_status {
        notes.push("no person_status table: the employment measures are empty".to_string());
    }
    let mut work: HashMap<&str, Vec<(i32, Option<i32>)>> = HashMap::new();
    if let (Some(df), Some([pid, st])) = (frame(Table::PersonStatus), status_text.as_deref()) {
        let (from, until) = (days(df, "valid_from")?, days(df, "valid_until")?);
        for k in 0..df.height() {
            if let (Some(p), Some(s), Some(f)) = (pid.get(k), st.get(k), from[k])
                && matches!(s, "employed" | "ui_insured")
            {
                work.entry(p).or_default().push((f, until[k]));
            }
        }
    }

    // subsidy paid per class
    let mut paid: HashMap<&str, i64> = HashMap::new();
    if let (Some(df), Some([cid, eid])) = (frame(Table::Claims), claim_text.as_deref()) {
        let amount = df.column("amount_paid")?.i64()?.rechunk().into_owned();
        for k in 0..df.height() {
            let class = cid
                .get(k)
                .or_else(|| eid.get(k).and_then(|e| eval_class.get(e).copied()));
            if let (Some(c), Some(a)) = (class, amount.get(k))
                && classes.contains_key(c)
            {
                *paid.entry(c).or_default() += a;
            }
        }
    }

    // trainees, one per (class, person): the first enrolment row of each, judged in parallel
    let mut seen = foldhash::HashSet::new();
    let enrolled: Vec<(&str, &Class<'_>, &str)> = match enrol_text.as_deref() {
        Some([cid, pid]) => cid
            .iter()
            .zip(pid.iter())
            .filter_map(|(c, p)| {
                let (c, p) = (c?, p?);
                let cl = classes.get(c)?;
                seen.insert((c, p)).then_some((c, cl, p))
            })
            .collect(),
        _ => Vec::new(),
    };
    let judge = |&(c, cl, p): &(&str, &Class<'_>, &str)| -> (Counts, bool) {
        let mut t = Counts {
            trainees: 1,
            ..Counts::default()
        };
        // the trainee's evaluations for this class: its own class, else the same
        // occupation and level within the window after the class
        let own = passes.get(p).map(Vec::as_slice).unwrap_or(&[]);
        let belongs = |e: &&Pass| {
            e.class == Some(c)
                || (e.class.is_none()
                    && e.occ == cl.occ
                    && e.level == cl.level
                    && e.day >= cl.start
                    && (e.day as i64) <= cl.end as i64 + cfg.eval_window_days)
        };
        let assessed = own.iter().any(|e| belongs(&e));
        let hit = own
            .iter()
            .filter(belongs)
            .filter(|e| e.passed)
            .min_by_key(|e| (!e.cert, e.day));
        if let Some(e) = hit {
            t.passed = 1;
            if e.cert {
                t.certified = 1;
                let prior = own
                    .iter()
                    .filter(|x| x.cert && x.day < e.day)
                    .filter_map(|x| level_rank(x.level))
                    .max();
                let now = level_rank(e.level);
                if match (now, prior) {
                    (_, None) => true,
                    (Some(n), Some(p)) => n > p,
                    (None, Some(_)) => false,
                } {
                    t.upgraded = 1;
                }
            }
        }
        // employment, once its window has passed
        let window_end = date_of(cl.end)
            .checked_add_months(Months::new(cfg.employment_window_months))
            .map(day_of);
        if has_status && window_end.is_some_and(|w| w <= today) {
            let w = window_end.unwrap_or(i32::MAX);
            let spells = work.get(p).map(Vec::as_slice).unwrap_or(&[]);
            let in_work = spells
                .iter()
                .any(|(f, u)| *f <= cl.end && u.is_none_or(|u| u >= cl.end));
            if !in_work {
                t.employable = 1;
                if spells.iter().any(|(f, _)| *f > cl.end && *f <= w) {
                    t.employed = 1;
                }
            }
        }
        (t, assessed)
    };
    let judged: Vec<(Counts, bool)> = enrolled.par_iter().map(judge).collect();
    let assessed: foldhash::HashSet<&str> = enrolled
        .iter()
        .zip(&judged)
        .filter(|(_, (_, a))| *a)
        .map(|((c, _, _), _)| *c)
        .collect();
    // a class none of whose trainees sat an evaluation ends in a training certificate: its
    // trainees count for employment, not for pass, certificate or upgrade
    let mut programmes: BTreeMap<(&str, &str, &str), Counts> = BTreeMap::new();
    for ((c, cl, _), (mut t, _)) in enrolled.iter().zip(judged) {
        t.assessed = i64::from(assessed.contains(c));
        programmes
            .entry((cl.inst, cl.occ, cl.level))
            .or_default()
            .add(&t);
    }
    // the money, per programme
    for (c, a) in &paid {
        if let Some(cl) = classes.get(c)
            && let Some(p) = programmes.get_mut(&(cl.inst, cl.occ, cl.level))
        {
            p.paid += a;
        }
    }

    let new_unit = |inst: &str, occ: &str, level: &str, counts: Counts| Unit {
        institution: inst.to_string(),
        occupation: occ.to_string(),
        level: level.to_string(),
        region: region.get(inst).cloned().unwrap_or_default(),
        counts,
        peer_group: String::new(),
        peers: 0,
        rates: [(None, None, None, None); 4],
        priors: [None; 4],
        cost: (None, None, None),
        composite: None,
        composite_percentile: None,
        flagged: false,
    };
    let mut progs: Vec<Unit> = programmes
        .iter()
        .map(|((i, o, l), c)| new_unit(i, o, l, c.clone()))
        .collect();
    let mut insts: BTreeMap<String, Counts> = BTreeMap::new();
    for u in &progs {
        insts
            .entry(u.institution.clone())
            .or_default()
            .add(&u.counts);
    }
    let mut inst_units: Vec<Unit> = insts
        .iter()
        .map(|(i, c)| new_unit(i, "", "", c.clone()))
        .collect();

    // peer groups: occupation × level × prefecture, widened when small
    let mut local: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
    for (k, u) in progs.iter().enumerate() {
        local
            .entry((u.occupation.clone(), u.level.clone(), u.region.clone()))
            .or_default()
            .push(k);
    }
    // the whole package's programmes of each occupation and level, for the widened groups
    let mut wide: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (k, u) in progs.iter().enumerate() {
        wide.entry((u.occupation.clone(), u.level.clone()))
            .or_default()
            .push(k);
    }
    for ((o, l, r), members) in &local {
        if members.len() >= cfg.min_peers && !r.is_empty() {
            rank(&mut progs, members, members, &format!("{o}/{l}/{r}00"), cfg);
        } else {
            let all = &wide[&(o.clone(), l.clone())];
            rank(&mut progs, all, members, &format!("{o}/{l}/*"), cfg);
        }
    }
    let all: Vec<usize> = (0..inst_units.len()).collect();
    rank(&mut inst_units, &all, &all, "*", cfg);

    // IE-01
    for u in &mut progs {
        let gap = [0usize, 1, 3].iter().any(
            |&k| matches!((u.rates[k].1, u.priors[k]), (Some(s), Some(p)) if p - s >= cfg.min_gap),
        );
        u.flagged = u.counts.trainees as usize >= cfg.min_trainees
            && u.peers >= cfg.min_peers
            && u.composite_percentile
                .is_some_and(|c| c <= cfg.bottom_share)
            && gap;
    }
    let findings: Vec<DetectorFinding> = progs
        .iter()
        .filter(|u| u.flagged)
        .map(|u| finding(u, cfg, as_of))
        .collect();
    let institution_score = inst_units
        .iter()
        .filter_map(|u| Some((u.institution.clone(), round4(u.composite?))))
        .collect();
    let frame = to_frame(&progs, &inst_units)?;
    Ok(Scorecard {
        frame,
        findings,
        institution_score,
        notes,
    })
}

/// Shrinks, ranks and composites the units `targets` against the peer group `members` (which
/// holds them), writing the results to `targets` only.
fn rank(units: &mut [Unit], members: &[usize], targets: &[usize], key: &str, cfg: &Config) {
    let targets: foldhash::HashSet<usize> = targets.iter().copied().collect();
    let is_target = |i: usize| targets.contains(&i);
    let m = cfg.credibility;
    let w = &cfg.weights;
    let weights = [w.pass, w.certificate, w.upgrade, w.employment];
    let mut pct: Vec<[Option<f64>; 5]> = vec![[None; 5]; members.len()];
    for k in 0..4 {
        let (ks, ns) = members.iter().fold((0.0, 0.0), |(a, b), &i| {
            let (x, n) = rate_parts(&units[i].counts, k);
            (a + x, b + n)
        });
        let prior = (ns > 0.0).then(|| ks / ns);
        let mut raws: Vec<f64> = Vec::new();
        let mut shrunk: Vec<(usize, f64)> = Vec::new();
        for (j, &i) in members.iter().enumerate() {
            let (x, n) = rate_parts(&units[i].counts, k);
            if n > 0.0 {
                raws.push(x / n);
                let s = (x + m * prior.unwrap_or(0.0)) / (n + m);
                shrunk.push((j, s));
            }
        }
        let med = median(&mut raws.clone());
        let vals = Ranked::new(&shrunk.iter().map(|x| x.1).collect::<Vec<f64>>());
        let mut shrunk_of: Vec<Option<f64>> = vec![None; members.len()];
        for &(j, s) in &shrunk {
            pct[j][k] = Some(vals.midrank(s));
            shrunk_of[j] = Some(s);
        }
        for (j, &i) in members.iter().enumerate() {
            let (x, n) = rate_parts(&units[i].counts, k);
            let raw = (n > 0.0).then(|| x / n);
            let s = shrunk_of[j];
            if !is_target(i) {
                continue;
            }
            units[i].rates[k] = (raw, s, med, pct[j][k]);
            units[i].priors[k] = prior;
        }
    }
    // cost: employed per yuan, shrunk with m trainees' worth of the group's average subsidy
    let (emp, money, trainees) = members.iter().fold((0.0, 0.0, 0.0), |(a, b, c), &i| {
        let u = &units[i].counts;
        (
            a + u.employed as f64,
            b + u.paid as f64,
            c + u.trainees as f64,
        )
    });
    let prior = (money > 0.0).then(|| emp / money);
    let m_money = if trainees > 0.0 {
        m * money / trainees
    } else {
        0.0
    };
    let mut per: Vec<f64> = Vec::new();
    let mut eff: Vec<(usize, f64)> = Vec::new();
    for (j, &i) in members.iter().enumerate() {
        let c = &units[i].counts;
        if c.employed > 0 {
            per.push(c.paid as f64 / c.employed as f64);
        }
        if c.paid > 0 && prior.is_some() {
            let s =
                (c.employed as f64 + m_money * prior.unwrap_or(0.0)) / (c.paid as f64 + m_money);
            eff.push((j, s));
        }
    }
    let med = median(&mut per).map(|x| x.round() as i64);
    let vals = Ranked::new(&eff.iter().map(|x| x.1).collect::<Vec<f64>>());
    for &(j, s) in &eff {
        pct[j][4] = Some(vals.midrank(s));
    }
    for (j, &i) in members.iter().enumerate() {
        let c = &units[i].counts;
        let own = (c.employed > 0).then(|| (c.paid as f64 / c.employed as f64).round() as i64);
        if is_target(i) {
            units[i].cost = (own, med, pct[j][4]);
        }
    }
    // composite: the weighted mean of the percentiles present
    let ws = [weights[0], weights[1], weights[2], weights[3], w.cost];
    let mut comps: Vec<Option<f64>> = Vec::with_capacity(members.len());
    for p in &pct {
        let (num, den) = p
            .iter()
            .zip(ws)
            .filter_map(|(x, w)| x.map(|x| (x * w, w)))
            .fold((0.0, 0.0), |(a, b), (x, w)| (a + x, b + w));
        comps.push((den > 0.0).then(|| num / den));
    }
    let present = Ranked::new(&comps.iter().flatten().copied().collect::<Vec<f64>>());
    for (j, &i) in members.iter().enumerate() {
        if !is_target(i) {
            continue;
        }
        units[i].peer_group = key.to_string();
        units[i].peers = members.len();
        units[i].composite = comps[j];
        units[i].composite_percentile = comps[j].map(|c| present.midrank(c));
    }
}

fn show(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.2}", v))
}

/// The IE-01 finding of a flagged programme.
fn finding(u: &Unit, cfg: &Config, as_of: NaiveDate) -> DetectorFinding {
    let names = [
        "pass rate",
        "certificate rate",
        "skill-upgrade rate",
        "employment rate",
    ];
    let names_zh = ["合格率", "取证率", "技能提升率", "就业率"];
    let mut low = Vec::new();
    let mut low_zh = Vec::new();
    for k in 0..4 {
        let (raw, shrunk, med, pct) = u.rates[k];
        if pct.is_some_and(|p| p < 0.25) {
            low.push(format!(
                "{} {} (peer median {}, shrunk {}; percentile {})",
                names[k],
                show(raw),
                show(med),
                show(shrunk),
                show(pct)
            ));
            low_zh.push(format!(
                "{}为{}（同类中位数{}，收缩后{}；百分位{}）",
                names_zh[k],
                show(raw),
                show(med),
                show(shrunk),
                show(pct)
            ));
        }
    }
    let level_zh = subsidy_model::vocab::chinese_name("level", &u.level).unwrap_or(&u.level);
    let pct = show(u.composite_percentile);
    let message = format!(
        "Programme {occ} ({level}) of {inst}: {n} trainees; its composite effectiveness is at percentile {pct} of its {peers} peers ({group}): {low}; indicators of low training effectiveness, for guidance to adjust (指导调整), no recovery. It would be cleared by: the programme's own or a third-party evaluation showing outcomes the records miss (self-employment, flexible employment), or a seasonal occupation whose employment comes after the window.",
        occ = u.occupation,
        level = u.level,
        inst = u.institution,
        n = u.counts.trainees,
        peers = u.peers,
        group = u.peer_group,
        low = if low.is_empty() {
            "no single measure below the 25th percentile".into()
        } else {
            low.join("; ")
        },
    );
    let message_zh = format!(
        "培训机构{inst}的{occ}（{level_zh}）培训项目：参训{n}人；综合质效在{peers}个同类项目（{group}）中处于{pct}百分位：{low}；存在培训质效偏低的情况，建议指导其调整，不涉及资金追回。可据以排除的材料：项目自评或第三方评估表明记录未反映的成效（自主创业、灵活就业），或季节性职业的就业发生在统计期之后。",
        occ = u.occupation,
        inst = u.institution,
        n = u.counts.trainees,
        peers = u.peers,
        group = u.peer_group,
        low = if low_zh.is_empty() {
            "无单项低于25百分位".into()
        } else {
            low_zh.join("；")
        },
    );
    let rate = |k: usize| {
        let (raw, shrunk, med, pct) = u.rates[k];
        json!({"rate": raw.map(round4), "shrunk": shrunk.map(round4), "peer_median": med.map(round4), "peer_pooled": u.priors[k].map(round4), "percentile": pct.map(round4)})
    };
    let evidence = json!({
        "programme": {"institution_id": u.institution, "occupation_code": u.occupation, "level": u.level},
        "trainees": u.counts.trainees,
        "peer_group": u.peer_group,
        "peers": u.peers,
        "composite": u.composite.map(round4),
        "composite_percentile": u.composite_percentile.map(round4),
        "pass": rate(0),
        "certificate": rate(1),
        "upgrade": rate(2),
        "employment": rate(3),
        "bottom_share": cfg.bottom_share,
        "min_gap": cfg.min_gap,
    });
    DetectorFinding {
        rule_id: "IE-01".into(),
        category: "institution",
        severity: "low",
        detector: "rule",
        entity_kind: "institution",
        entity_id: format!("{}:{}:{}", u.institution, u.occupation, u.level),
        institution_id: Some(u.institution.clone()),
        responsible_party: u.institution.clone(),
        role: "training_institution",
        claim_ids: Vec::new(),
        amount_at_risk: 0,
        recover_full: false,
        score: round4(
            cfg.bottom_share / u.composite_percentile.unwrap_or(cfg.bottom_share).max(1e-4),
        ),
        message,
        message_zh,
        evidence: evidence.to_string(),
        date: Some(as_of.to_string()),
    }
}

/// `parties` with `effectiveness_score` set: each training institution's composite, empty for
/// any other party.
pub fn with_scores(parties: &DataFrame, scores: &BTreeMap<String, f64>) -> PolarsResult<DataFrame> {
    let party = parties.column("responsible_party")?.str()?;
    let v: Float64Chunked = party
        .iter()
        .map(|p| p.and_then(|p| scores.get(p).copied()))
        .collect();
    let mut out = parties.clone();
    out.with_column(v.with_name("effectiveness_score".into()).into_column())?;
    Ok(out)
}

fn to_frame(progs: &[Unit], insts: &[Unit]) -> PolarsResult<DataFrame> {
    let rows: Vec<(&str, &Unit)> = progs
        .iter()
        .map(|u| ("programme", u))
        .chain(insts.iter().map(|u| ("institution", u)))
        .collect();
    let mut cols: Vec<Column> = Vec::new();
    for (name, ty) in EFFECTIVENESS {
        let f = |g: &dyn Fn(&Unit) -> Option<f64>| -> Column {
            Column::new(
                (*name).into(),
                rows.iter()
                    .map(|(_, u)| g(u).map(round4))
                    .collect::<Vec<_>>(),
            )
        };
        let i = |g: &dyn Fn(&Unit) -> Option<i64>| -> Column {
            Column::new(
                (*name).into(),
                rows.iter().map(|(_, u)| g(u)).collect::<Vec<_>>(),
            )
        };
        let s = |g: &dyn Fn(&str, &Unit) -> Option<String>| -> Column {
            Column::new(
                (*name).into(),
                rows.iter().map(|(k, u)| g(k, u)).collect::<Vec<_>>(),
            )
        };
        let rate = |k: usize, part: usize| -> Column {
            f(&|u: &Unit| match part {
                0 => u.rates[k].0,
                1 => u.rates[k].1,
                2 => u.rates[k].2,
                _ => u.rates[k].3,
            })
        };
        let nonempty = |x: &str| (!x.is_empty()).then(|| x.to_string());
        let col = match *name {
            "unit" => s(&|k, _| Some(k.to_string())),
            "institution_id" => s(&|_, u| Some(u.institution.clone())),
            "occupation_code" => s(&|_, u| nonempty(&u.occupation)),
            "level" => s(&|_, u| nonempty(&u.level)),
            "region" => s(&|_, u| nonempty(&u.region).map(|r| format!("{r}00"))),
            "peer_group" => s(&|_, u| Some(u.peer_group.clone())),
            "peers" => i(&|u| Some(u.peers as i64)),
            "trainees" => i(&|u| Some(u.counts.trainees)),
            "assessed" => i(&|u| Some(u.counts.assessed)),
            "passed" => i(&|u| Some(u.counts.passed)),
            "certified" => i(&|u| Some(u.counts.certified)),
            "upgraded" => i(&|u| Some(u.counts.upgraded)),
            "employable" => i(&|u| Some(u.counts.employable)),
            "employed" => i(&|u| Some(u.counts.employed)),
            "subsidy_paid" => i(&|u| Some(u.counts.paid)),
            "subsidy_per_employed" => i(&|u| u.cost.0),
            "subsidy_per_employed_peer_median" => i(&|u| u.cost.1),
            "cost_percentile" => f(&|u| u.cost.2),
            "composite" => f(&|u| u.composite),
            "composite_percentile" => f(&|u| u.composite_percentile),
            "flagged" => s(&|_, u| Some(if u.flagged { "yes" } else { "no" }.to_string())),
            other => {
                let (measure, part) = other
                    .rsplit_once("_rate")
                    .map(|(m, rest)| (m, rest))
                    .ok_or_else(|| polars_err!(ColumnNotFound: "{other}"))?;
                let k = RATES
                    .iter()
                    .position(|r| *r == measure)
                    .ok_or_else(|| polars_err!(ColumnNotFound: "{other}"))?;
                let p = match part {
                    "" => 0,
                    "_shrunk" => 1,
                    "_peer_median" => 2,
                    "_percentile" => 3,
                    _ => return Err(polars_err!(ColumnNotFound: "{other}")),
                };
                rate(k, p)
            }
        };
        debug_assert_eq!(col.dtype(), &ty.dtype(), "{name}");
        cols.push(col);
    }
    DataFrame::new_infer_height(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midrank_counts_half_the_ties_itself_included() {
        let midrank = |x: f64, all: &[f64]| Ranked::new(all).midrank(x);
        assert_eq!(midrank(1.0, &[1.0, 2.0, 3.0, 4.0]), 0.125);
        assert_eq!(midrank(2.0, &[2.0, 2.0]), 0.5);
        assert_eq!(midrank(4.0, &[1.0, 2.0, 3.0, 4.0]), 0.875);
    }

    #[test]
    fn midrank_by_search_is_midrank_by_counting() {
        // the definition, by scanning: below + half of the equal, over all values
        let counted = |x: f64, all: &[f64]| {
            let below = all.iter().filter(|v| **v < x).count() as f64;
            let equal = all.iter().filter(|v| **v == x).count() as f64;
            (below + 0.5 * equal) / all.len().max(1) as f64
        };
        let all = [
            0.5,
            -0.0,
            0.0,
            0.25,
            0.5,
            f64::NAN,
            1.0,
            0.5,
            -1.0,
            0.25,
            1.0e-12,
            0.0,
        ];
        let ranked = Ranked::new(&all);
        for x in all.iter().chain(&[2.0, -2.0, 0.3, f64::NAN]) {
            assert_eq!(ranked.midrank(*x), counted(*x, &all), "x = {x}");
        }
        assert_eq!(Ranked::new(&[]).midrank(1.0), 0.0);
    }

    #[test]
    fn levels_rank_for_upgrade() {
        assert!(level_rank("senior") > level_rank("junior"));
        assert_eq!(level_rank("special_ability"), level_rank("apprentice"));
        assert_eq!(level_rank("nonsense"), None);
    }
}
