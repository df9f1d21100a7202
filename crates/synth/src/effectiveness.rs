//! Training outcomes (质效) and the programmes planted for the effectiveness scorecard (IE-01,
//! `docs/effectiveness.md`).
//!
//! A **programme** is a training institution × occupation × level. Every programme of the
//! background has outcomes of its own, drawn once from the seed (not from the cohort stream, so
//! a programme whose classes fall in many cohorts keeps one quality):
//!
//! - **pass rate**: a programme-type mean by occupation and level (0.82–0.90 at junior, 2
//!   points lower per level above) plus the programme's own offset of ±0.06, clamped to
//!   0.72–0.96. A class's number of failing candidates is that share of its candidates (rounded
//!   at random), except that a quarter of sittings pass everyone (see the crate docs). Every
//!   candidate who passes gets a certificate number, so the certificate rate equals the pass
//!   rate; junior classes that end in a 培训合格证书 have no evaluation at all.
//! - **employment**: of the trainees not employed (no `employed` / `ui_insured` status) on their
//!   class's last day, a share gets an `employed` status row (60 % of them also `ui_insured`,
//!   the same day, source 社保) with `valid_from` 1–150 days after the class ended: a
//!   programme-type mean (0.47–0.65, higher for shortage occupations) plus the programme's own
//!   ±0.10, clamped to 0.40–0.75; 15–35 % of the others find work 7–14 months later (outside a
//!   six-month window). Trainees with a planted ineligibility or a person-level fraud label
//!   get none.
//!   Rows are written only when `valid_from` is on or before the package's reference date (its
//!   latest `claimed_on`): they are appended to `person_status` once every cohort is written.
//!
//! Peers are programmes of the same occupation and level, so the programme-type mean cancels
//! among peers and an honest programme stays within about ±0.10 of its peers' pooled rate: a
//! clean package has no programme whose shrunk pass, certificate or employment rate is 0.20
//! below its peers'.
//!
//! **Planted programmes** (scenario `low_effectiveness`, rate per person, at least 3 per
//! package unless its rate is 0; none in a clean package): one class of 30–40 trainees, started
//! between 2025-02-01 and 2025-09-30 (so that its employment is observable), at an institution
//! with nothing else planted, on the training route, sittings graded normally (never all-pass).
//! No other background class joins the programme, and its classes and trainees host no fraud
//! scenario: attendance, sign-ins, exams, claims and amounts are normal. In turn:
//! - *low pass*: pass rate 0.18–0.32 (failing candidates claim nothing), employment half the
//!   honest rate;
//! - *no employment*: pass rate 0.15 below the honest one, employment 0.04 of employable
//!   trainees (almost no employment status after the class);
//! - *repeat*: 90 % of its trainees already held a certificate of the same occupation and level
//!   (an earlier passed evaluation in 2023–2024, no class, no claim), so the class upgrades no
//!   one; pass rate 0.10 below the honest one, employment 0.04.
//!
//! A planted programme takes the occupation of its institution that most institutions are
//! filed for (so that it has many peers) and is at junior level.
//!
//! **Hard negatives** (part of the background: present in every package, the clean one
//! included, and must not be flagged):
//! - `hard_negative_small`: a programme of one class of 8–15 trainees with terrible outcomes
//!   (pass rate 0.2, no employment): under the 20 trainees IE-01 needs;
//! - `hard_negative_new`: the programmes of an institution that entered the catalogue on
//!   2025-01-01 (the others: 2020–2024), whose classes all start from 2025-06-01 (one forced
//!   class of 25–35 trainees per labelled programme), with honest outcomes;
//! - `hard_negative_seasonal`: a 农作物种植技术员 programme (one class of 30–40) with a pass rate
//!   clearly normal (0.05 above the honest one, at least 0.88) whose employment comes late:
//!   0.40 or more of employable trainees within six months (at most 0.12 below the type mean),
//!   half of the others 7–11 months after the class.
//!
//! Both are listed in `labels_effectiveness.csv` in the package folder:
//! `institution_id, occupation_code, level, kind`, kind `low_effectiveness`,
//! `hard_negative_small`, `hard_negative_new` or `hard_negative_seasonal`, one row per
//! programme (read it back with [`crate::labels::read_effectiveness_labels`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::SynthError;
use crate::generator::{Cohort, StatusRec, World, d, fingerprint, fmt_d, level_rank};
use crate::world::OCCUPATIONS;

/// The labels file of the effectiveness scorecard.
pub const LABELS_FILE: &str = "labels_effectiveness.csv";

/// The seasonal occupation of the hard negatives (农作物种植技术员).
pub const SEASONAL_OCCUPATION: &str = "5-01-02-01";

/// What a planted programme is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// low effectiveness: pass rate ≤ 0.35
    LowPass,
    /// low effectiveness: employment ≤ 0.10 of employable trainees
    LowEmployment,
    /// low effectiveness: trainees re-trained at a level they held, low employment
    Repeat,
    /// hard negative: under 20 trainees, terrible outcomes
    Small,
    /// hard negative: an institution new to the catalogue, honest outcomes
    New,
    /// hard negative: seasonal occupation, employment late
    Seasonal,
}

impl Kind {
    /// The `kind` column of `labels_effectiveness.csv`.
    pub fn label(self) -> &'static str {
        match self {
            Kind::LowPass | Kind::LowEmployment | Kind::Repeat => "low_effectiveness",
            Kind::Small => "hard_negative_small",
            Kind::New => "hard_negative_new",
            Kind::Seasonal => "hard_negative_seasonal",
        }
    }
    /// Whether it is a low-effectiveness programme (scenario `low_effectiveness`).
    pub fn is_low(self) -> bool {
        matches!(self, Kind::LowPass | Kind::LowEmployment | Kind::Repeat)
    }
    /// The fewest trainees its class must reach for the programme to be labelled.
    fn min_trainees(self) -> u32 {
        match self {
            Kind::Small => 1,
            Kind::New => 20,
            _ => 25,
        }
    }
}

/// A programme key: training-institution index, occupation index, level.
pub type Key = (usize, usize, &'static str);

/// One planted programme: its one forced class is made in cohort `cohort`.
#[derive(Debug, Clone)]
pub struct Planned {
    /// index into World::training
    pub inst: usize,
    /// index into OCCUPATIONS
    pub occ: usize,
    /// level
    pub level: &'static str,
    /// what it is
    pub kind: Kind,
    /// the cohort that makes its class
    pub cohort: u64,
    /// trainees of its class
    pub size: u32,
    /// the class starts between these days
    pub start: (NaiveDate, NaiveDate),
}

/// The planted programmes of a package.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// the seed (programme outcomes are drawn from it)
    pub seed: u64,
    /// planted programmes, in planting order
    pub programmes: Vec<Planned>,
    /// every planted programme's kind: no background class joins them
    pub reserved: BTreeMap<Key, Kind>,
}

impl Plan {
    /// The kind of a planted programme.
    pub fn kind(&self, inst: usize, occ: usize, level: &str) -> Option<Kind> {
        self.reserved
            .get(&(inst, occ, static_level(level)))
            .copied()
    }
}

/// A programme's outcomes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// share of candidates who pass (in sittings not graded all-pass)
    pub pass: f64,
    /// share of employable trainees employed 1–150 days after the class
    pub employ: f64,
    /// share of the other employable trainees employed later
    pub late: f64,
    /// late employment comes 7–11 months after the class (else 7–14)
    pub seasonal: bool,
    /// its sittings are graded normally (never all-pass)
    pub normal_grading: bool,
}

/// A uniform number in 0..1 from the seed and a key (stable across runs and cohorts).
fn unit(seed: u64, key: &str) -> f64 {
    let h = fingerprint(&format!("{seed}:{key}"));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The honest outcomes of a programme (before any planting).
pub fn honest(seed: u64, inst_id: &str, occ: usize, level: &str) -> Outcome {
    let code = OCCUPATIONS[occ].code;
    let rank = f64::from(level_rank(level));
    let pass_type =
        0.86 + 0.04 * (2.0 * unit(seed, &format!("pass-type:{code}:{level}")) - 1.0) - 0.02 * rank;
    let prog = format!("{inst_id}:{code}:{level}");
    let pass =
        (pass_type + 0.06 * (2.0 * unit(seed, &format!("pass:{prog}")) - 1.0)).clamp(0.72, 0.96);
    let employ_type = employ_type(seed, occ, level);
    let employ = (employ_type + 0.10 * (2.0 * unit(seed, &format!("employ:{prog}")) - 1.0))
        .clamp(0.40, 0.75);
    let late = 0.15 + 0.20 * unit(seed, &format!("late:{prog}"));
    Outcome {
        pass,
        employ,
        late,
        seasonal: false,
        normal_grading: false,
    }
}

fn employ_type(seed: u64, occ: usize, level: &str) -> f64 {
    let code = OCCUPATIONS[occ].code;
    0.56 + 0.02 * (f64::from(OCCUPATIONS[occ].tier) - 1.5)
        + 0.06 * (2.0 * unit(seed, &format!("employ-type:{code}:{level}")) - 1.0)
}

/// The outcomes of a programme of the package: honest, or those of its planted kind.
pub fn outcome(w: &World, inst: usize, occ: usize, level: &str) -> Outcome {
    let seed = w.effectiveness.seed;
    let id = &w.training[inst].id;
    let h = honest(seed, id, occ, level);
    let Some(kind) = w.effectiveness.kind(inst, occ, level) else {
        return h;
    };
    let u = unit(seed, &format!("planted:{id}:{occ}:{level}"));
    match kind {
        Kind::LowPass => Outcome {
            pass: 0.18 + 0.14 * u,
            employ: h.employ * 0.5,
            late: h.late,
            seasonal: false,
            normal_grading: true,
        },
        Kind::LowEmployment => Outcome {
            pass: (h.pass - 0.15).max(0.6),
            employ: 0.04,
            late: 0.05,
            seasonal: false,
            normal_grading: true,
        },
        Kind::Repeat => Outcome {
            pass: (h.pass - 0.10).max(0.6),
            employ: 0.04,
            late: 0.05,
            seasonal: false,
            normal_grading: true,
        },
        Kind::Small => Outcome {
            pass: 0.2,
            employ: 0.0,
            late: 0.0,
            seasonal: false,
            normal_grading: true,
        },
        Kind::New => h,
        Kind::Seasonal => Outcome {
            pass: (h.pass + 0.05).clamp(0.88, 0.96),
            employ: (employ_type(seed, occ, level) - 0.12).max(0.40),
            late: 0.5,
            seasonal: true,
            normal_grading: false,
        },
    }
}

/// The `&'static str` of a level name used by the generator.
fn static_level(level: &str) -> &'static str {
    const LEVELS: [&str; 6] = [
        "special_ability",
        "junior",
        "intermediate",
        "senior",
        "technician",
        "senior_technician",
    ];
    LEVELS.iter().find(|l| **l == level).copied().unwrap_or("")
}

/// `x` rounded up or down at random, in proportion to its fraction.
pub(crate) fn round_random(rng: &mut Xoshiro256PlusPlus, x: f64) -> usize {
    let f = x.max(0.0).floor();
    f as usize + usize::from(rng.gen_bool((x - f).clamp(0.0, 1.0)))
}

/// Plans the planted programmes among the training institutions `free` (shuffled, nothing
/// else planted there): `n_low` low-effectiveness programmes and the hard negatives.
pub(crate) fn plan(
    w: &mut World,
    rng: &mut Xoshiro256PlusPlus,
    free: &mut Vec<usize>,
    seed: u64,
    persons: u64,
    n_low: usize,
) {
    w.effectiveness.seed = seed;
    let cohorts = (persons / crate::generator::COHORT as u64).max(1);
    let seasonal_occ = OCCUPATIONS
        .iter()
        .position(|o| o.code == SEASONAL_OCCUPATION)
        .expect("the seasonal occupation is in the catalogue");
    let per = |rate: f64| ((rate * persons as f64).round() as usize).max(1);
    let (n_small, n_new, n_seasonal) = (per(0.00006), per(0.00002), per(0.00002));
    let early = (d(2025, 2, 1), d(2025, 9, 30));
    let mut wanted: Vec<(Kind, usize)> = Vec::new();
    for k in 0..n_low {
        wanted.push(([Kind::LowPass, Kind::LowEmployment, Kind::Repeat][k % 3], 1));
    }
    wanted.extend((0..n_small).map(|_| (Kind::Small, 1)));
    wanted.extend((0..n_new).map(|_| (Kind::New, if persons < 5000 { 1 } else { 2 })));
    wanted.extend((0..n_seasonal).map(|_| (Kind::Seasonal, 1)));
    // how many institutions are filed for each occupation: a planted programme takes the most
    // common of its institution's occupations, so that it has many peers
    let mut filed = vec![0usize; OCCUPATIONS.len()];
    for t in &w.training {
        for &o in &t.approved {
            filed[o] += 1;
        }
    }
    let mut planned: Vec<Planned> = Vec::new();
    for (kind, n_prog) in wanted {
        let Some(inst) = free.pop() else { break };
        let t = &mut w.training[inst];
        let level_occs: Vec<usize> = t
            .approved
            .iter()
            .copied()
            .filter(|o| {
                let code = OCCUPATIONS[*o].code;
                !code.starts_with('Z')
                    && !crate::generator::TRAINING_CERTIFICATE_OCCS.contains(&code)
            })
            .collect();
        let mut occs: Vec<usize> = if level_occs.is_empty() {
            t.approved.clone()
        } else {
            level_occs
        };
        occs.shuffle(rng);
        occs.sort_by_key(|&o| std::cmp::Reverse(filed[o]));
        if kind == Kind::Seasonal {
            if !t.approved.contains(&seasonal_occ) {
                t.approved.push(seasonal_occ);
                t.approved.sort_unstable();
            }
            occs = vec![seasonal_occ];
        }
        if kind == Kind::New {
            t.in_from = d(2025, 1, 1);
        }
        for &occ in occs.iter().take(n_prog) {
            let level = if OCCUPATIONS[occ].code.starts_with('Z') {
                "special_ability"
            } else if kind == Kind::Small && rng.gen_bool(0.5) {
                "intermediate"
            } else {
                "junior"
            };
            let (size, start) = match kind {
                Kind::Small => (rng.gen_range(8..16), (d(2025, 1, 6), d(2026, 3, 31))),
                Kind::New => (rng.gen_range(25..36), (d(2025, 6, 1), early.1)),
                _ => (rng.gen_range(30..41), early),
            };
            planned.push(Planned {
                inst,
                occ,
                level,
                kind,
                cohort: 0,
                size,
                start,
            });
        }
    }
    // spread over the full cohorts
    let n = planned.len() as u64;
    for (j, p) in planned.iter_mut().enumerate() {
        p.cohort = (j as u64 * cohorts) / n.max(1);
    }
    // ...in an order independent of the kind
    let mut order: Vec<u64> = planned.iter().map(|p| p.cohort).collect();
    order.shuffle(rng);
    for (p, c) in planned.iter_mut().zip(order) {
        p.cohort = c;
    }
    for p in &planned {
        w.effectiveness
            .reserved
            .insert((p.inst, p.occ, p.level), p.kind);
    }
    w.effectiveness.programmes = planned;
}

/// Whether the training institution `inst` is one of the new institutions (hard negatives).
pub(crate) fn is_new(w: &World, inst: usize) -> bool {
    w.training[inst].in_from >= d(2025, 1, 1)
}

/// The employment statuses the trainees of cohort `c` get after their classes (see the module
/// docs), to be written once the reference date is known.
pub(crate) fn employment(w: &World, c: &Cohort, rng: &mut Xoshiro256PlusPlus) -> Vec<StatusRec> {
    // persons with a planted ineligibility or a person-level fraud label (an invalid or
    // second ID, over age, deceased ...) get no outcome
    let mut skip: BTreeSet<&str> = c
        .statuses
        .iter()
        .filter(|s| {
            matches!(
                s.status,
                "deceased" | "pensioner" | "full_time_student" | "public_payroll"
            )
        })
        .map(|s| s.person.as_str())
        .collect();
    for l in &c.labels {
        if l.entity_kind == "person" {
            skip.insert(l.entity_id.as_str());
        }
    }
    let mut jobs: BTreeMap<&str, Vec<(NaiveDate, Option<NaiveDate>)>> = BTreeMap::new();
    for s in &c.statuses {
        if matches!(s.status, "employed" | "ui_insured") {
            jobs.entry(s.person.as_str())
                .or_default()
                .push((s.from, s.until));
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for e in &c.enrolls {
        let v = members.entry(e.class).or_default();
        if !v.contains(&e.person) {
            v.push(e.person);
        }
    }
    let mut order: Vec<usize> = members.keys().copied().collect();
    order.sort_by_key(|&k| (c.classes[k].end, k));
    let mut out = Vec::new();
    for k in order {
        let cls = &c.classes[k];
        let o = outcome(w, cls.inst, cls.occ, cls.level);
        let end = cls.end;
        let mut employable: Vec<&str> = members[&k]
            .iter()
            .map(|&p| c.persons[p].id.as_str())
            .filter(|p| !skip.contains(p))
            .filter(|p| {
                !jobs.get(p).is_some_and(|v| {
                    v.iter()
                        .any(|&(from, until)| from <= end && until.is_none_or(|u| u >= end))
                })
            })
            .collect();
        employable.shuffle(rng);
        let n = employable.len();
        let within = round_random(rng, o.employ * n as f64).min(n);
        let late = round_random(rng, o.late * (n - within) as f64).min(n - within);
        for (j, p) in employable.into_iter().take(within + late).enumerate() {
            let days = if j < within {
                rng.gen_range(1..=150)
            } else if o.seasonal {
                rng.gen_range(215..=330)
            } else {
                rng.gen_range(215..=425)
            };
            let from = end + Duration::days(days);
            let employer = w.enterprises[rng.gen_range(0..w.enterprises.len())]
                .id
                .clone();
            let insured = rng.gen_bool(0.6);
            for status in ["employed", "ui_insured"] {
                if status == "ui_insured" && !insured {
                    continue;
                }
                out.push(StatusRec {
                    person: p.to_string(),
                    status,
                    from,
                    until: None,
                    employer: Some(employer.clone()),
                    source: "社保",
                });
            }
            jobs.entry(p).or_default().push((from, None));
        }
    }
    out
}

/// Employment rows waiting for the reference date, in a scratch file of the package folder.
pub(crate) struct Deferred {
    path: PathBuf,
    w: Option<BufWriter<File>>,
}

impl Deferred {
    pub fn open(dir: &Path) -> Result<Deferred, SynthError> {
        let path = dir.join(".person_status_outcomes.tmp");
        let w = BufWriter::new(File::create(&path)?);
        Ok(Deferred { path, w: Some(w) })
    }
    pub fn push(&mut self, rows: &[StatusRec]) -> Result<(), SynthError> {
        let w = self.w.as_mut().expect("open");
        for s in rows {
            writeln!(
                w,
                "{}\t{}\t{}\t{}",
                s.person,
                s.status,
                fmt_d(s.from),
                s.employer.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    }
    /// Writes the rows dated on or before `as_of` to `sink` (person_status) and removes the
    /// scratch file.
    pub fn finish(
        mut self,
        as_of: Option<NaiveDate>,
        sink: &mut crate::sink::Sink,
    ) -> Result<(), SynthError> {
        if let Some(mut w) = self.w.take() {
            w.flush()?;
        }
        let r = BufReader::new(File::open(&self.path)?);
        for line in r.lines() {
            let line = line?;
            let f: Vec<&str> = line.split('\t').collect();
            let from = NaiveDate::parse_from_str(f[2], "%Y-%m-%d")
                .map_err(|e| SynthError::Invalid(e.to_string()))?;
            if as_of.is_some_and(|a| from <= a) {
                sink.row(&[f[0], f[1], f[2], "", f[3], "社保"])?;
            }
        }
        std::fs::remove_file(&self.path)?;
        Ok(())
    }
}

/// Writes `labels_effectiveness.csv`: the planted programmes whose class reached its size.
pub(crate) fn write_labels(
    dir: &Path,
    w: &World,
    realised: &BTreeMap<Key, u32>,
) -> Result<(u64, u64), SynthError> {
    let mut out = csv::Writer::from_writer(BufWriter::new(File::create(dir.join(LABELS_FILE))?));
    out.write_record(["institution_id", "occupation_code", "level", "kind"])?;
    let (mut rows, mut low) = (0, 0);
    let mut sorted: Vec<&Planned> = w.effectiveness.programmes.iter().collect();
    sorted.sort_by(|a, b| {
        (a.kind.label(), &w.training[a.inst].id, a.occ, a.level).cmp(&(
            b.kind.label(),
            &w.training[b.inst].id,
            b.occ,
            b.level,
        ))
    });
    for p in sorted {
        let n = realised
            .get(&(p.inst, p.occ, p.level))
            .copied()
            .unwrap_or(0);
        if n < p.kind.min_trainees() || (p.kind == Kind::Small && n >= 20) {
            continue;
        }
        out.write_record([
            w.training[p.inst].id.as_str(),
            OCCUPATIONS[p.occ].code,
            p.level,
            p.kind.label(),
        ])?;
        rows += 1;
        if p.kind.is_low() {
            low += 1;
        }
    }
    out.flush()?;
    Ok((rows, low))
}
