//! Planted fraud scenarios: each named, with a category, the catalogue rule that should catch
//! it, and a rate (planted cases per background person, at least one per package).
//!
//! Every planted fact is written to `labels.csv`:
//! `scenario, category, entity_kind, entity_id, claim_id, expected_recovery` (yuan; the last
//! column extends the contract's labels).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use chrono::{Datelike, Duration};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use subsidy_model::ids::id_check_char;
use subsidy_model::money::format_yuan;

use crate::SynthError;
use crate::generator::{
    AttMode, Claim, Cohort, Enroll, Grading, Ids, Mode, Route, Timetable, World, d, entitled,
    grant, is_level_certificate, is_special, make_eval, new_class, route_claim,
};
use crate::world::{NAME_VARIANTS, OCCUPATIONS, REGIONS};

/// A scenario's definition.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// name (stable; used in labels and `--rate NAME=X`)
    pub name: &'static str,
    /// contract category of the planted claims or entities
    pub category: &'static str,
    /// the catalogue rule (DOMAIN.md §6) or detector that should catch it
    pub caught_by: &'static str,
    /// planted cases per background person
    pub rate: f64,
    /// what is planted
    pub what: &'static str,
}

/// Every scenario the generator plants.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "invalid_uscc",
        category: "institution",
        caught_by: "ID-02",
        rate: 0.0002,
        what: "an institution whose credit code fails the GB 32100 check",
    },
    Scenario {
        name: "delisted_institution",
        category: "institution",
        caught_by: "IS-01",
        rate: 0.0002,
        what: "an institution removed from the catalogue on 2025-06-30 that keeps training and claiming",
    },
    Scenario {
        name: "revoked_institution",
        category: "institution",
        caught_by: "IS-01",
        rate: 0.0001,
        what: "an institution whose qualification was revoked on 2025-09-30 that keeps claiming",
    },
    Scenario {
        name: "colluding_institutions",
        category: "fake_training",
        caught_by: "cluster",
        rate: 0.0003,
        what: "institutions whose classes are scripted (synchronised sign-ins, low-but-passing face scores, tight high exam scores) without crossing any rule threshold",
    },
    Scenario {
        name: "low_frontline_share",
        category: "funds_use",
        caught_by: "EN-01",
        rate: 0.0002,
        what: "an enterprise spending under 60 % of its 职工教育经费 on frontline workers",
    },
    Scenario {
        name: "invalid_id",
        category: "fake_training",
        caught_by: "ID-01",
        rate: 0.002,
        what: "a trainee whose ID number fails the MOD 11-2 check",
    },
    Scenario {
        name: "over_age",
        category: "ineligible",
        caught_by: "EL-01",
        rate: 0.002,
        what: "a trainee aged over the retirement age at class start",
    },
    Scenario {
        name: "deceased_trainee",
        category: "fake_training",
        caught_by: "EL-02",
        rate: 0.002,
        what: "a trainee recorded deceased before the class ended, still signing in",
    },
    Scenario {
        name: "pensioner",
        category: "ineligible",
        caught_by: "EL-03",
        rate: 0.002,
        what: "a trainee drawing a pension since before the class",
    },
    Scenario {
        name: "full_time_student",
        category: "ineligible",
        caught_by: "EL-04",
        rate: 0.002,
        what: "a full-time student (not in the graduation year) on a roster",
    },
    Scenario {
        name: "public_payroll",
        category: "ineligible",
        caught_by: "EL-05",
        rate: 0.002,
        what: "a trainee on public payroll during the class",
    },
    Scenario {
        name: "ui_tenure_short",
        category: "ineligible",
        caught_by: "EL-07",
        rate: 0.002,
        what: "a skill-upgrade claim with under 12 months of unemployment-insurance contributions",
    },
    Scenario {
        name: "status_after_training",
        category: "ineligible",
        caught_by: "EL-08",
        rate: 0.002,
        what: "a living allowance for a key-group status that began after the class started",
    },
    Scenario {
        name: "same_occupation_level_twice",
        category: "duplicate_claim",
        caught_by: "DC-01",
        rate: 0.002,
        what: "a second paid claim for the same occupation and level",
    },
    Scenario {
        name: "annual_cap_exceeded",
        category: "over_claim",
        caught_by: "DC-02",
        rate: 0.001,
        what: "four training claims in one calendar year (the fourth is over the cap of 3)",
    },
    Scenario {
        name: "lower_after_higher",
        category: "duplicate_claim",
        caught_by: "DC-03",
        rate: 0.002,
        what: "a claim at a lower level after a paid higher level in the same occupation",
    },
    Scenario {
        name: "cross_scheme_certificate",
        category: "duplicate_claim",
        caught_by: "DC-04",
        rate: 0.002,
        what: "one certificate claimed under training and again under skill upgrade",
    },
    Scenario {
        name: "certificate_reused",
        category: "duplicate_claim",
        caught_by: "DC-05",
        rate: 0.002,
        what: "a claim citing another person's certificate",
    },
    Scenario {
        name: "overlapping_classes",
        category: "fake_training",
        caught_by: "DC-06",
        rate: 0.002,
        what: "a trainee attending two classes at the same hours at different venues (both claims labelled: the evidence does not say which is false)",
    },
    Scenario {
        name: "living_allowance_twice",
        category: "over_claim",
        caught_by: "DC-09",
        rate: 0.002,
        what: "a second living allowance in one year",
    },
    Scenario {
        name: "low_attendance",
        category: "fake_training",
        caught_by: "TP-01",
        rate: 0.003,
        what: "a trainee credited under 80 % of the planned 学时 (presence inside the timetabled sessions), claimed in full: present on 40 % of the days, or leaving after 45 % of each session, or signing in hours early and leaving after 40 % of the first session, or attending only the mornings of two-session days",
    },
    Scenario {
        name: "ghost_trainee",
        category: "fake_training",
        caught_by: "TP-01",
        rate: 0.003,
        what: "a trainee on the roster who never signs in, claimed in full",
    },
    Scenario {
        name: "shortened_class",
        category: "over_claim",
        caught_by: "TP-02",
        rate: 0.0005,
        what: "a class run for half the standard hours, claimed at the full rate (excess recovered pro rata)",
    },
    Scenario {
        name: "implausible_daily_hours",
        category: "fake_training",
        caught_by: "TP-03",
        rate: 0.002,
        what: "a trainee signed in 06:00 to 22:00 every day",
    },
    Scenario {
        name: "face_check_failures",
        category: "fake_training",
        caught_by: "TP-04",
        rate: 0.002,
        what: "a trainee whose face checks fail",
    },
    Scenario {
        name: "geofence_breach",
        category: "fake_training",
        caught_by: "TP-05",
        rate: 0.002,
        what: "a trainee signing in about 28 km from the venue",
    },
    Scenario {
        name: "shared_device",
        category: "fake_training",
        caught_by: "TP-06",
        rate: 0.0005,
        what: "one device signing in four trainees of a class (代打卡)",
    },
    Scenario {
        name: "teacher_double_booked",
        category: "institution",
        caught_by: "TP-08",
        rate: 0.0005,
        what: "a teacher filed for two classes at different venues on the same days",
    },
    Scenario {
        name: "over_capacity",
        category: "institution",
        caught_by: "TP-09",
        rate: 0.0005,
        what: "a class attended by more trainees than its filed capacity",
    },
    Scenario {
        name: "late_filing",
        category: "institution",
        caught_by: "TP-10",
        rate: 0.0005,
        what: "a class filed after it started",
    },
    Scenario {
        name: "exam_before_training_end",
        category: "fake_evaluation",
        caught_by: "FE-01",
        rate: 0.0005,
        what: "a sitting held before the class ended",
    },
    Scenario {
        name: "identical_answers",
        category: "fake_evaluation",
        caught_by: "FE-02",
        rate: 0.0005,
        what: "six candidates of one sitting with the same answer-sheet hash",
    },
    Scenario {
        name: "uniform_scores",
        category: "fake_evaluation",
        caught_by: "FE-02",
        rate: 0.0003,
        what: "a sitting of at least 31 candidates, all passed, practical scores with a standard deviation under 2 (every claim of the sitting labelled)",
    },
    Scenario {
        name: "too_few_examiners",
        category: "fake_evaluation",
        caught_by: "FE-03",
        rate: 0.0005,
        what: "a sitting run by one examiner",
    },
    Scenario {
        name: "proxy_exam",
        category: "fake_evaluation",
        caught_by: "FE-04",
        rate: 0.001,
        what: "one candidate sitting two exams in different rooms at the same time (both evaluations and both claims labelled)",
    },
    Scenario {
        name: "malformed_certificate",
        category: "fake_evaluation",
        caught_by: "FE-05",
        rate: 0.002,
        what: "a claim citing a certificate number of the wrong structure or level digit",
    },
    Scenario {
        name: "late_claim",
        category: "ineligible",
        caught_by: "CL-01",
        rate: 0.002,
        what: "a claim filed more than 12 months after the certificate",
    },
    Scenario {
        name: "over_standard_amount",
        category: "over_claim",
        caught_by: "CL-02",
        rate: 0.003,
        what: "a claim 30 % above its entitlement (excess recovered)",
    },
    Scenario {
        name: "shared_payee_account",
        category: "fake_training",
        caught_by: "CL-03",
        rate: 0.0005,
        what: "four trainees' subsidies paid into one account",
    },
    Scenario {
        name: "fee_inversion",
        category: "fake_training",
        caught_by: "CL-05",
        rate: 0.0005,
        what: "a one-day class charging at least half the subsidy",
    },
    Scenario {
        name: "two_ids_one_person",
        category: "duplicate_claim",
        caught_by: "identity",
        rate: 0.002,
        what: "one person registered under two IDs (a digit typo, a look-alike name character) who claims the same training twice",
    },
    Scenario {
        name: "low_effectiveness",
        category: "institution",
        caught_by: "IE-01",
        rate: 0.0001,
        what: "a programme (institution × occupation × level) of one class of 30–40 trainees, honest in every other way, with a pass rate under 0.35, or almost no employment after the class (0.04 of employable trainees), or trainees re-trained at a level they already held (no upgrade, little employment); at least 3 per package; labelled in labels_effectiveness.csv (not labels.csv), see crate::effectiveness",
    },
];

/// A scenario by name.
pub fn scenario(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// One planted fact.
#[derive(Debug, Clone)]
pub struct Label {
    /// scenario name
    pub scenario: &'static str,
    /// category
    pub category: &'static str,
    /// entity kind
    pub entity_kind: &'static str,
    /// entity id
    pub entity_id: String,
    /// claim id (may be empty)
    pub claim_id: String,
    /// expected recovery for the claim, fen
    pub recovery: i64,
}

/// `labels.csv`.
pub struct LabelSink {
    w: csv::Writer<BufWriter<File>>,
    n: u64,
}

impl LabelSink {
    /// Creates `<dir>/labels.csv`.
    pub fn open(dir: &Path) -> Result<LabelSink, SynthError> {
        let mut w = csv::Writer::from_writer(BufWriter::new(File::create(dir.join("labels.csv"))?));
        w.write_record([
            "scenario",
            "category",
            "entity_kind",
            "entity_id",
            "claim_id",
            "expected_recovery",
        ])?;
        Ok(LabelSink { w, n: 0 })
    }
    /// Writes labels.
    pub fn write_all(&mut self, labels: &[Label]) -> Result<(), SynthError> {
        for l in labels {
            let rec = if l.claim_id.is_empty() {
                String::new()
            } else {
                format_yuan(l.recovery)
            };
            self.w.write_record([
                l.scenario,
                l.category,
                l.entity_kind,
                &l.entity_id,
                &l.claim_id,
                &rec,
            ])?;
            self.n += 1;
        }
        Ok(())
    }
    /// Flushes.
    pub fn finish(mut self) -> Result<u64, SynthError> {
        self.w.flush()?;
        Ok(self.n)
    }
}

/// How many cases of each scenario remain to plant.
pub struct Quotas {
    rates: BTreeMap<&'static str, f64>,
    acc: BTreeMap<&'static str, f64>,
    planted: BTreeMap<&'static str, u64>,
    persons: u64,
    /// delisted or revoked institutions already labelled (once they show a claim)
    institutions_labelled: BTreeSet<String>,
}

impl Quotas {
    /// Rates from the defaults, overridden by name.
    pub fn new(overrides: &BTreeMap<String, f64>, persons: u64) -> Quotas {
        let mut rates = BTreeMap::new();
        let mut acc = BTreeMap::new();
        for s in SCENARIOS {
            rates.insert(s.name, overrides.get(s.name).copied().unwrap_or(s.rate));
            // start at one so that every scenario is planted at least once
            acc.insert(
                s.name,
                if overrides.get(s.name) == Some(&0.0) {
                    0.0
                } else {
                    1.0
                },
            );
        }
        Quotas {
            rates,
            acc,
            planted: BTreeMap::new(),
            persons,
            institutions_labelled: BTreeSet::new(),
        }
    }

    /// Cases of `name` to plant among `people` more persons.
    pub fn take(&mut self, name: &'static str, people: usize) -> usize {
        let a = self.acc.get_mut(name).expect("known scenario");
        *a += self.rates[name] * people as f64;
        let n = a.floor();
        *a -= n;
        n as usize
    }

    /// Cases of a package-wide scenario.
    pub fn take_world(&mut self, name: &'static str) -> usize {
        let r = self.rates[name];
        if r == 0.0 {
            0
        } else {
            ((r * self.persons as f64).round() as usize).max(match name {
                "colluding_institutions" => 2,
                // one of each kind of low-effectiveness programme
                "low_effectiveness" => 3,
                _ => 1,
            })
        }
    }

    fn count(&mut self, name: &'static str) {
        *self.planted.entry(name).or_default() += 1;
    }

    /// Counts `n` cases of `name` (none: no entry).
    pub(crate) fn count_n(&mut self, name: &'static str, n: u64) {
        if n > 0 {
            *self.planted.entry(name).or_default() += n;
        }
    }

    /// Cases planted so far.
    pub fn planted(&self) -> BTreeMap<&'static str, u64> {
        self.planted.clone()
    }
}

fn label(
    c: &mut Cohort,
    name: &'static str,
    kind: &'static str,
    id: &str,
    claim: Option<&Claim>,
    recovery: i64,
) {
    let cat = scenario(name).expect("known").category;
    c.labels.push(Label {
        scenario: name,
        category: cat,
        entity_kind: kind,
        entity_id: id.to_string(),
        claim_id: claim.map(|c| c.id.clone()).unwrap_or_default(),
        recovery,
    });
}

fn label_claim(c: &mut Cohort, name: &'static str, claim_idx: usize, recovery: Option<i64>) {
    let cl = c.claims[claim_idx].clone();
    let rec = recovery.unwrap_or(cl.paid.unwrap_or(0));
    label(c, name, "claim", &cl.id.clone(), Some(&cl), rec);
}

/// Plants the package-wide scenarios (institutions and enterprises); labels for institution-level
/// facts are written at once, their claims are labelled as cohorts make them.
pub fn plant_world(
    w: &mut World,
    rng: &mut Xoshiro256PlusPlus,
    q: &mut Quotas,
    out: &mut LabelSink,
) -> Result<(), SynthError> {
    let mut labels = Vec::new();
    let mut free: Vec<usize> = (0..w.training.len()).collect();
    free.shuffle(rng);
    let pick = |free: &mut Vec<usize>| free.pop();
    let mk = |name: &'static str, kind: &'static str, id: &str| Label {
        scenario: name,
        category: scenario(name).expect("known").category,
        entity_kind: kind,
        entity_id: id.to_string(),
        claim_id: String::new(),
        recovery: 0,
    };
    for _ in 0..q.take_world("invalid_uscc") {
        let Some(i) = pick(&mut free) else { break };
        let inst = &mut w.training[i];
        let last = inst.id.pop().expect("18 chars");
        inst.id.push(if last == '0' { '1' } else { '0' });
        labels.push(mk("invalid_uscc", "institution", &inst.id));
        q.count("invalid_uscc");
    }
    for _ in 0..q.take_world("delisted_institution") {
        let Some(i) = pick(&mut free) else { break };
        w.training[i].until = Some(d(2025, 6, 30));
        q.count("delisted_institution");
    }
    for _ in 0..q.take_world("revoked_institution") {
        let Some(i) = pick(&mut free) else { break };
        w.training[i].revoked = Some(d(2025, 9, 30));
        q.count("revoked_institution");
    }
    let n_coll = q.take_world("colluding_institutions");
    for _ in 0..n_coll {
        let Some(i) = pick(&mut free) else { break };
        w.training[i].colluding = true;
        labels.push(mk(
            "colluding_institutions",
            "institution",
            &w.training[i].id,
        ));
        q.count("colluding_institutions");
    }
    for e in w
        .enterprises
        .iter_mut()
        .take(q.take_world("low_frontline_share"))
    {
        e.colluding = true; // for an enterprise: spends under 60 % on frontline workers
        labels.push(mk("low_frontline_share", "institution", &e.id));
        q.count("low_frontline_share");
    }
    // the effectiveness scorecard's programmes, at institutions with nothing else planted
    let n_low = q.take_world("low_effectiveness");
    let seed = w.effectiveness.seed;
    crate::effectiveness::plan(w, rng, &mut free, seed, q.persons, n_low);
    out.write_all(&labels)
}

/// Claims of a class that were paid.
fn paid_claims_of(c: &Cohort, class_id: &str) -> Vec<usize> {
    (0..c.claims.len())
        .filter(|&k| {
            c.claims[k].of_class.as_deref() == Some(class_id)
                && c.claims[k].paid.is_some()
                && c.claims[k].scheme != "living_allowance"
        })
        .collect()
}

/// Enrolments whose person has exactly one enrolment, one paid training claim and nothing
/// planted yet: safe hosts for a person-level scenario.
fn clean_hosts(c: &Cohort, used: &BTreeSet<usize>) -> Vec<(usize, usize)> {
    let mut n_enroll: BTreeMap<usize, usize> = BTreeMap::new();
    for e in &c.enrolls {
        *n_enroll.entry(e.person).or_default() += 1;
    }
    let mut by_person: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, cl) in c.claims.iter().enumerate() {
        by_person.entry(cl.person.as_str()).or_default().push(k);
    }
    let mut out = Vec::new();
    for (ei, e) in c.enrolls.iter().enumerate() {
        if n_enroll[&e.person] != 1 || used.contains(&e.person) {
            continue;
        }
        let pid = c.persons[e.person].id.as_str();
        let claims: &[usize] = by_person.get(pid).map_or(&[], Vec::as_slice);
        if claims.len() == 1
            && c.claims[claims[0]].paid.is_some()
            && c.claims[claims[0]].scheme == "training"
        {
            out.push((ei, claims[0]));
        }
    }
    out
}

/// Makes `status` the person's only key-group status (the groups a living allowance is for).
fn set_key_group(
    c: &mut Cohort,
    person: &str,
    status: &'static str,
    from: chrono::NaiveDate,
    source: &'static str,
) {
    c.statuses.retain(|s| {
        !(s.person == person
            && matches!(
                s.status,
                "poverty_alleviated" | "hard_to_employ" | "zero_employment_family" | "disabled"
            ))
    });
    c.statuses.push(crate::generator::StatusRec {
        person: person.to_string(),
        status,
        from,
        until: None,
        employer: None,
        source,
    });
}

/// A paid 500-yuan living allowance for `p`, dated and approved like the training claim `base`.
fn living_allowance(base: &Claim, p: &crate::generator::Person, ids: &mut Ids) -> Claim {
    let amount = 50_000;
    Claim {
        id: ids.claim(),
        scheme: "living_allowance",
        claimant: p.id.clone(),
        eval: None,
        cert: None,
        claimed: amount,
        paid: Some(amount),
        payee: p.account.clone(),
        entitled: amount,
        ..base.clone()
    }
}

/// A person of the cohort with no enrolment and no claim (one of those never trained).
fn untrained(c: &Cohort) -> Option<usize> {
    let enrolled: BTreeSet<usize> = c.enrolls.iter().map(|e| e.person).collect();
    let claimed: BTreeSet<&str> = c.claims.iter().map(|cl| cl.person.as_str()).collect();
    (0..c.persons.len())
        .find(|p| !enrolled.contains(p) && !claimed.contains(c.persons[*p].id.as_str()))
}

/// Classes with at least one paid claim and nothing planted yet, that suit class scenario
/// `name` (see [`fits`]).
fn clean_classes(c: &Cohort, used: &BTreeSet<usize>, name: &str) -> Vec<usize> {
    (0..c.classes.len())
        .filter(|k| {
            !used.contains(k)
                && fits(name, c, *k)
                && c.enrolls.iter().filter(|e| e.class == *k).count() >= 5
                && !paid_claims_of(c, &c.classes[*k].id).is_empty()
        })
        .collect()
}

/// Whether class `k` can host class scenario `name` under its shape: venue scenarios need an
/// offline class, exam scenarios a class with a sitting, claim-amount scenarios training
/// claims, the teacher scenario timetabled sessions, the uniform-score scenario a sitting of at
/// least 31 candidates.
fn fits(name: &str, c: &Cohort, k: usize) -> bool {
    let cls = &c.classes[k];
    match name {
        "over_capacity" | "shared_device" => cls.mode == Mode::Offline,
        "teacher_double_booked" => cls.mode == Mode::Offline && cls.tt.written,
        "exam_before_training_end" | "identical_answers" | "too_few_examiners" => {
            cls.route != Route::TrainingCertificate
        }
        "uniform_scores" => {
            cls.route != Route::TrainingCertificate
                && c.enrolls.iter().filter(|e| e.class == k).count() >= 31
        }
        "shortened_class" => cls.route != Route::Evaluation,
        // the planted class is cut to one day, which must stay under a 7-学时 day (CL-05): a
        // 3.5 h day is 4.67 学时, a 5.25 h day exactly 7
        "fee_inversion" => {
            cls.route != Route::Evaluation && cls.tt.length == crate::generator::DayLength::Short
        }
        "shared_payee_account" => cls.route == Route::Training,
        _ => true,
    }
}

/// Whether claim `ci` cites a 职业技能等级证书 from an evaluation (the certificate scenarios'
/// hosts).
fn has_level_certificate(c: &Cohort, ci: usize) -> bool {
    c.claims[ci].eval.is_some()
        && c.claims[ci]
            .cert
            .as_deref()
            .is_some_and(is_level_certificate)
}

/// Plants the per-person and per-class scenarios in a cohort.
pub fn plant_cohort(
    w: &World,
    c: &mut Cohort,
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    q: &mut Quotas,
) {
    let people = c.persons.len();
    // colluding institutions' exam scores are tight and high
    let colluding_classes: BTreeSet<String> = c
        .classes
        .iter()
        .filter(|x| w.training[x.inst].colluding)
        .map(|x| x.id.clone())
        .collect();
    for ev in c.evals.iter_mut() {
        if ev
            .class
            .as_ref()
            .is_some_and(|id| colluding_classes.contains(id))
            && ev.passed
        {
            // high and tight, but spread enough (sd ≈ 3) not to cross FE-02's uniform half
            ev.theory = (84.0 + rng.gen_range(0.0..12.0_f64)).round();
            ev.practical = (86.0 + rng.gen_range(0.0..11.0_f64)).round();
        }
    }

    let mut used_people: BTreeSet<usize> = BTreeSet::new();
    let mut used_classes: BTreeSet<usize> = colluding_classes
        .iter()
        .filter_map(|id| c.classes.iter().position(|x| &x.id == id))
        .collect();
    for (k, cls) in c.classes.iter().enumerate() {
        let inst = &w.training[cls.inst];
        // (nor do the programmes planted for the effectiveness scorecard host fraud)
        if inst.until.is_some()
            || inst.revoked.is_some()
            || w.effectiveness.kind(cls.inst, cls.occ, cls.level).is_some()
        {
            used_classes.insert(k);
        }
    }
    // persons of planted-institution classes are not hosts either
    for e in &c.enrolls {
        if used_classes.contains(&e.class) {
            used_people.insert(e.person);
        }
    }

    macro_rules! hosts_if {
        ($name:expr, $fits:expr, $body:expr) => {{
            let n = q.take($name, people);
            for _ in 0..n {
                let hs: Vec<(usize, usize)> = clean_hosts(c, &used_people)
                    .into_iter()
                    .filter(|&(ei, ci)| ($fits)(&*c, ei, ci))
                    .collect();
                let Some(&(ei, ci)) = hs.choose(rng) else {
                    break;
                };
                used_people.insert(c.enrolls[ei].person);
                #[allow(clippy::redundant_closure_call)]
                ($body)(c, rng, ei, ci, &mut *ids);
                q.count($name);
            }
        }};
    }
    macro_rules! hosts {
        ($name:expr, $body:expr) => {
            hosts_if!($name, |_: &Cohort, _: usize, _: usize| true, $body)
        };
    }

    // ---- class-level scenarios first: their members are then no person-level host ----
    let class_scenarios: [&'static str; 11] = [
        "shared_device",
        "shortened_class",
        "teacher_double_booked",
        "over_capacity",
        "late_filing",
        "exam_before_training_end",
        "identical_answers",
        "uniform_scores",
        "too_few_examiners",
        "fee_inversion",
        "shared_payee_account",
    ];
    for name in class_scenarios {
        let n = q.take(name, people);
        for _ in 0..n {
            let mut cands = clean_classes(c, &used_classes, name);
            if name == "exam_before_training_end" {
                // in turn on a class whose claims name it, on one whose trainees' evaluation
                // claims find it on the evaluation row, and on one found only through enrolments
                let turn = q.planted.get(name).copied().unwrap_or(0) % 3;
                let shaped: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|&k| {
                        let x = &c.classes[k];
                        match turn {
                            0 => x.route == Route::Training,
                            1 => x.route == Route::Evaluation && x.exam_names_class,
                            _ => x.route == Route::Evaluation && !x.exam_names_class,
                        }
                    })
                    .collect();
                if shaped.is_empty() {
                    // no class of this turn's shape here: the case waits for a later cohort
                    *q.acc.get_mut(name).expect("known scenario") += 1.0;
                    break;
                }
                cands = shaped;
            }
            let Some(&k) = cands.choose(rng) else { break };
            used_classes.insert(k);
            let before = c.labels.len();
            plant_class(w, c, rng, ids, k, name, &mut used_classes);
            // a scenario that changes the class's schedule or exam reserves every member; the
            // others reserve only the trainees whose claims they label
            let reshapes = matches!(
                name,
                "shortened_class" | "fee_inversion" | "exam_before_training_end" | "uniform_scores"
            );
            let labelled: BTreeSet<String> = c.labels[before..]
                .iter()
                .filter(|l| !l.claim_id.is_empty())
                .map(|l| l.claim_id.clone())
                .collect();
            let touched: BTreeSet<String> = c
                .claims
                .iter()
                .filter(|cl| labelled.contains(&cl.id))
                .map(|cl| cl.person.clone())
                .collect();
            for e in &c.enrolls {
                if e.class == k && (reshapes || touched.contains(&c.persons[e.person].id)) {
                    used_people.insert(e.person);
                }
            }
            q.count(name);
        }
    }
    // ---- eligibility (statuses) ----
    for (name, status) in [
        ("deceased_trainee", "deceased"),
        ("pensioner", "pensioner"),
        ("full_time_student", "full_time_student"),
        ("public_payroll", "public_payroll"),
    ] {
        hosts!(name, |c: &mut Cohort,
                      _rng: &mut Xoshiro256PlusPlus,
                      ei: usize,
                      ci: usize,
                      _ids: &mut Ids| {
            let e = c.enrolls[ei].clone();
            let cls = c.classes[e.class].clone();
            let pid = c.persons[e.person].id.clone();
            let (from, until) = match status {
                "deceased" => (cls.end - Duration::days(3), None),
                "full_time_student" => (d(2024, 9, 1), Some(d(2028, 6, 30))),
                _ => (cls.start - Duration::days(400), None),
            };
            c.statuses
                .retain(|s| !(s.person == pid && s.status == "graduate"));
            c.statuses.push(crate::generator::StatusRec {
                person: pid.clone(),
                status,
                from,
                until,
                employer: None,
                source: if status == "deceased" {
                    "民政"
                } else {
                    "社保"
                },
            });
            label(c, name, "person", &pid, None, 0);
            label_claim(c, name, ci, None);
        });
    }
    hosts!("over_age", |c: &mut Cohort,
                        rng: &mut Xoshiro256PlusPlus,
                        ei: usize,
                        ci: usize,
                        ids: &mut Ids| {
        let e = c.enrolls[ei].clone();
        let start = c.classes[e.class].start;
        let p = &mut c.persons[e.person];
        let old_id = p.id.clone();
        // make them 63 at class start, male
        let birth = d(
            start.year() - 63,
            rng.gen_range(1..13),
            rng.gen_range(1..29),
        );
        let region = REGIONS[p.region].code;
        p.birth = birth;
        p.male = true;
        p.id = loop {
            let id =
                crate::idgen::person_id(rng, region, &birth.format("%Y%m%d").to_string(), true);
            if ids.persons.insert(crate::generator::fingerprint(&id)) {
                break id;
            }
        };
        let new_id = p.id.clone();
        rename_person(c, &old_id, &new_id);
        label(c, "over_age", "person", &new_id, None, 0);
        label_claim(c, "over_age", ci, None);
    });
    hosts!("invalid_id", |c: &mut Cohort,
                          _rng: &mut Xoshiro256PlusPlus,
                          ei: usize,
                          ci: usize,
                          _ids: &mut Ids| {
        let e = c.enrolls[ei].clone();
        let old = c.persons[e.person].id.clone();
        let good = old.chars().last().expect("18");
        let bad = if good == '0' { '1' } else { '0' };
        let new_id = format!("{}{}", &old[..17], bad);
        c.persons[e.person].id = new_id.clone();
        rename_person(c, &old, &new_id);
        label(c, "invalid_id", "person", &new_id, None, 0);
        label_claim(c, "invalid_id", ci, None);
    });
    hosts!(
        "ui_tenure_short",
        |c: &mut Cohort, _rng: &mut Xoshiro256PlusPlus, _ei: usize, ci: usize, _ids: &mut Ids| {
            let pid = c.claims[ci].person.clone();
            let on = c.claims[ci].on;
            let acct = c
                .persons
                .iter()
                .find(|p| p.id == pid)
                .map(|p| p.account.clone())
                .unwrap_or_default();
            c.statuses
                .retain(|s| !(s.person == pid && matches!(s.status, "ui_insured" | "employed")));
            c.statuses.push(crate::generator::StatusRec {
                person: pid.clone(),
                status: "ui_insured",
                from: on - Duration::days(150),
                until: None,
                employer: None,
                source: "社保",
            });
            let cl = &mut c.claims[ci];
            cl.scheme = "skill_upgrade";
            cl.claimant = pid.clone();
            cl.payee = acct;
            cl.fund = "unemployment_insurance";
            label_claim(c, "ui_tenure_short", ci, None);
        }
    );
    hosts!(
        "status_after_training",
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, ids: &mut Ids| {
            let e = c.enrolls[ei].clone();
            let cls = c.classes[e.class].clone();
            let p = c.persons[e.person].clone();
            let from = cls.start + Duration::days(rng.gen_range(20..60));
            set_key_group(c, &p.id, "poverty_alleviated", from, "乡村振兴");
            let allowance = living_allowance(&c.claims[ci], &p, ids);
            c.claims.push(allowance);
            let k = c.claims.len() - 1;
            label_claim(c, "status_after_training", k, None);
        }
    );
    hosts!(
        "living_allowance_twice",
        |c: &mut Cohort, _rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, ids: &mut Ids| {
            let e = c.enrolls[ei].clone();
            let p = c.persons[e.person].clone();
            let base = c.claims[ci].clone();
            // a key-group person since long before; the first allowance is legitimate
            set_key_group(c, &p.id, "hard_to_employ", d(2023, 1, 1), "就业");
            let first = living_allowance(&base, &p, ids);
            let mut second = Claim {
                id: ids.claim(),
                on: base.on + Duration::days(1),
                ..first.clone()
            };
            second.paid_on = second.paid_on.map(|x| x + Duration::days(1));
            if second.on.year() != first.on.year() {
                second.on = first.on;
            }
            c.claims.push(first);
            c.claims.push(second);
            let k = c.claims.len() - 1;
            label_claim(c, "living_allowance_twice", k, None);
        }
    );

    // ---- duplicates ----
    hosts!(
        "same_occupation_level_twice",
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, ids: &mut Ids| {
            let e = c.enrolls[ei].clone();
            let cls = c.classes[e.class].clone();
            let Some(inst2) = (1..w.training.len())
                .map(|k| (cls.inst + k) % w.training.len())
                .find(|&i| w.training[i].approved.contains(&cls.occ))
            else {
                return;
            };
            let _ = rng.gen_range(0..2);
            let gap = Duration::days(rng.gen_range(90..200));
            let k = add_solo_training(
                w,
                c,
                rng,
                ids,
                e.person,
                inst2,
                cls.occ,
                cls.level,
                cls.end + gap,
                ci,
            );
            label_claim(c, "same_occupation_level_twice", k, None);
        }
    );
    hosts!(
        "annual_cap_exceeded",
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, ids: &mut Ids| {
            let e = c.enrolls[ei].clone();
            let cls = c.classes[e.class].clone();
            let year = c.claims[ci].on.year();
            // three more junior trainings in other occupations, each at an institution filed for it
            let mut picks: Vec<(usize, usize)> = Vec::new();
            let start = rng.gen_range(0..w.training.len());
            for k in 0..w.training.len() {
                let inst = (start + k) % w.training.len();
                let t = &w.training[inst];
                if t.until.is_some() || t.revoked.is_some() || t.colluding {
                    continue;
                }
                for &occ in &t.approved {
                    if picks.len() < 3
                        && occ != cls.occ
                        && !OCCUPATIONS[occ].code.starts_with('Z')
                        && !picks.iter().any(|p| p.1 == occ)
                    {
                        picks.push((inst, occ));
                    }
                }
            }
            if picks.len() < 3 {
                return;
            }
            let mut made = Vec::new();
            let host_on = c.claims[ci].on;
            for (j, (inst, occ)) in picks.into_iter().enumerate() {
                // classes one after another after the host's class; claims in the host claim's year
                let start = cls.end + Duration::days(5 + 25 * j as i64);
                let k = add_solo_training(w, c, rng, ids, e.person, inst, occ, "junior", start, ci);
                let mut on = host_on - Duration::days(j as i64 + 1);
                if on.year() != year {
                    on = host_on + Duration::days(j as i64 + 1);
                }
                c.claims[k].on = on;
                c.claims[k].paid_on = Some(on + Duration::days(15));
                made.push(k);
            }
            // the claim that exceeds the cap is the latest of the four in the year
            let mut all: Vec<usize> = made.clone();
            all.push(ci);
            all.sort_by_key(|&k| (c.claims[k].on, c.claims[k].id.clone()));
            let last = *all.last().expect("four");
            label_claim(c, "annual_cap_exceeded", last, None);
        }
    );
    hosts!(
        "lower_after_higher",
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, ids: &mut Ids| {
            let e = c.enrolls[ei].clone();
            let cls = c.classes[e.class].clone();
            // a senior class in another approved occupation, then an intermediate one of it later
            let inst = &w.training[cls.inst];
            let Some(&occ) = inst
                .approved
                .iter()
                .find(|o| **o != cls.occ && !OCCUPATIONS[**o].code.starts_with('Z'))
            else {
                return;
            };
            let gap = Duration::days(rng.gen_range(30..60));
            let k1 = add_solo_training(
                w,
                c,
                rng,
                ids,
                e.person,
                cls.inst,
                occ,
                "senior",
                cls.end + gap,
                ci,
            );
            let later = c.claims[k1].on + Duration::days(rng.gen_range(40..90));
            let k2 = add_solo_training(
                w,
                c,
                rng,
                ids,
                e.person,
                cls.inst,
                occ,
                "intermediate",
                later,
                ci,
            );
            label_claim(c, "lower_after_higher", k2, None);
        }
    );
    hosts_if!(
        "cross_scheme_certificate",
        |c: &Cohort, _ei: usize, ci: usize| has_level_certificate(c, ci),
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, ids: &mut Ids| {
            let p = c.persons[c.enrolls[ei].person].clone();
            // an insured employee, so that only the double route is wrong
            c.statuses
                .retain(|s| !(s.person == p.id && s.status == "ui_insured"));
            c.statuses.push(crate::generator::StatusRec {
                person: p.id.clone(),
                status: "ui_insured",
                from: d(2019, 1, 1),
                until: None,
                employer: None,
                source: "社保",
            });
            let base = c.claims[ci].clone();
            let on = base.on + Duration::days(rng.gen_range(20..60));
            c.claims.push(Claim {
                id: ids.claim(),
                scheme: "skill_upgrade",
                claimant: p.id.clone(),
                payee: p.account.clone(),
                fund: "unemployment_insurance",
                on,
                paid_on: Some(on + Duration::days(20)),
                ..base
            });
            let k = c.claims.len() - 1;
            label_claim(c, "cross_scheme_certificate", k, None);
        }
    );
    {
        let n = q.take("certificate_reused", people);
        for _ in 0..n {
            let hs: Vec<(usize, usize)> = clean_hosts(c, &used_people)
                .into_iter()
                .filter(|&(_, ci)| has_level_certificate(c, ci))
                .collect();
            if hs.len() < 2 {
                break;
            }
            let Some(first) = hs.choose(rng).copied() else {
                break;
            };
            let level = c.claims[first.1].level;
            let same: Vec<(usize, usize)> = hs
                .iter()
                .copied()
                .filter(|h| *h != first && c.claims[h.1].level == level)
                .collect();
            let Some(second) = same.choose(rng).copied() else {
                break;
            };
            let mut two = [&first, &second];
            two.sort();
            let (ea, ca) = *two[0];
            let (eb, cb) = *two[1];
            used_people.insert(c.enrolls[ea].person);
            used_people.insert(c.enrolls[eb].person);
            c.claims[cb].cert = c.claims[ca].cert.clone();
            label_claim(c, "certificate_reused", cb, None);
            q.count("certificate_reused");
        }
    }
    hosts_if!(
        "overlapping_classes",
        |c: &Cohort, ei: usize, _ci: usize| c.classes[c.enrolls[ei].class].mode == Mode::Offline,
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, ids: &mut Ids| {
            let e = c.enrolls[ei].clone();
            let cls = c.classes[e.class].clone();
            let inst2 = (cls.inst + 1) % w.training.len();
            let Some(&occ) = w.training[inst2].approved.iter().find(|o| **o != cls.occ) else {
                return;
            };
            let level = if is_special(occ) {
                "special_ability"
            } else {
                "junior"
            };
            // the second class keeps the first one's hours (and writes sessions or not as it
            // does), at another institution's venue, from the first one's second day
            let shape = Solo {
                route: Route::Training,
                tt: Some(cls.tt.clone()),
                mode: Some(Mode::Offline),
            };
            let k = add_solo(
                w,
                c,
                rng,
                ids,
                e.person,
                inst2,
                occ,
                level,
                cls.start + Duration::days(1),
                &shape,
            );
            // an impossible pair: both sides are flagged
            label_claim(c, "overlapping_classes", ci, None);
            label_claim(c, "overlapping_classes", k, None);
        }
    );
    hosts!(
        "two_ids_one_person",
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, ids: &mut Ids| {
            let e = c.enrolls[ei].clone();
            let cls = c.classes[e.class].clone();
            let p = c.persons[e.person].clone();
            // a second registration: one digit of the sequence mistyped, check digit recomputed or
            // not, a look-alike character in the name, same birth date and phone
            let mut digits: Vec<char> = p.id.chars().collect();
            let pos = rng.gen_range(14..16);
            digits[pos] = char::from(b'0' + ((digits[pos] as u8 - b'0' + 1) % 10));
            let first17: String = digits[..17].iter().collect();
            let check = if rng.gen_bool(0.5) {
                id_check_char(&first17).expect("17")
            } else {
                digits[17]
            };
            let mut id2 = format!("{first17}{check}");
            // the mistyped number must not be someone else's
            while !ids.persons.insert(crate::generator::fingerprint(&id2)) {
                let bump = char::from(b'0' + ((id2.as_bytes()[13] - b'0' + 1) % 10));
                id2.replace_range(13..14, &bump.to_string());
            }
            let name2 = NAME_VARIANTS
                .iter()
                .find(|(a, _)| p.name.contains(a))
                .map(|(a, b)| p.name.replacen(a, b, 1))
                .unwrap_or_else(|| format!("{} ", p.name).trim().to_string());
            let mut p2 = p.clone();
            p2.id = id2.clone();
            p2.name = name2;
            p2.account = crate::idgen::bank_card(rng);
            p2.address = p.address.replace("号", "號");
            c.persons.push(p2);
            let pi2 = c.persons.len() - 1;
            let inst2 = (1..w.training.len())
                .map(|k| (cls.inst + k) % w.training.len())
                .find(|&i| w.training[i].approved.contains(&cls.occ))
                .unwrap_or(cls.inst);
            let gap = Duration::days(rng.gen_range(60..200));
            let k = add_solo_training(
                w,
                c,
                rng,
                ids,
                pi2,
                inst2,
                cls.occ,
                cls.level,
                cls.end + gap,
                ci,
            );
            label(c, "two_ids_one_person", "person", &p.id, None, 0);
            label(c, "two_ids_one_person", "person", &id2, None, 0);
            label_claim(c, "two_ids_one_person", k, None);
        }
    );

    // ---- attendance and process ----
    for (name, mode) in [
        ("low_attendance", AttMode::Partial(0.4)),
        ("ghost_trainee", AttMode::Ghost),
        ("implausible_daily_hours", AttMode::LongDays),
        ("face_check_failures", AttMode::FaceFail),
        ("geofence_breach", AttMode::FarAway),
    ] {
        hosts_if!(
            name,
            // a sign-in far from the venue needs a venue: offline classes only
            |c: &Cohort, ei: usize, _ci: usize| name != "geofence_breach"
                || c.classes[c.enrolls[ei].class].mode == Mode::Offline,
            |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, ei: usize, ci: usize, _ids: &mut Ids| {
                let mode = if name == "low_attendance" {
                    low_attendance_shape(&c.classes[c.enrolls[ei].class].tt, rng)
                } else {
                    mode
                };
                c.enrolls[ei].att = mode;
                label_claim(c, name, ci, None);
            }
        );
    }
    hosts_if!(
        "proxy_exam",
        |c: &Cohort, _ei: usize, ci: usize| c.claims[ci].eval.is_some(),
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, _ei: usize, ci: usize, ids: &mut Ids| {
            let pid = c.claims[ci].person.clone();
            let eval_id = c.claims[ci].eval.clone();
            let Some(ev) = c
                .evals
                .iter()
                .find(|ev| Some(&ev.id) == eval_id.as_ref())
                .cloned()
            else {
                return;
            };
            let org2 = (ev.org + 1) % w.evaluators.len();
            let occ2 = (ev.occ + 3) % OCCUPATIONS.len();
            let level = if is_special(occ2) {
                "special_ability"
            } else {
                "senior"
            };
            let mut ev2 = make_eval(
                rng,
                ids,
                &pid,
                org2,
                None,
                occ2,
                level,
                &format!("SITE{org2:04}07"),
                ev.starts + Duration::minutes(30),
                w.evaluators[org2].staff.iter().take(3).cloned().collect(),
                w,
                Grading::Normal,
            );
            grant(&mut ev2, rng, ids, w);
            let p = c
                .persons
                .iter()
                .find(|p| p.id == pid)
                .cloned()
                .expect("person");
            let amount = entitled("*", "evaluation", level, 0);
            let on = ev2.issued.expect("issued") + Duration::days(10);
            c.claims.push(Claim {
                id: ids.claim(),
                scheme: "evaluation",
                claimant: pid.clone(),
                person: pid.clone(),
                class: None,
                of_class: None,
                eval: Some(ev2.id.clone()),
                cert: ev2.cert.clone(),
                occ: occ2,
                level,
                claimed: amount,
                paid: Some(amount),
                on,
                paid_on: Some(on + Duration::days(15)),
                payee: p.account.clone(),
                fund: "employment_fund",
                approver: c.claims[ci].approver.clone(),
                entitled: amount,
            });
            let k = c.claims.len() - 1;
            let ev2_id = ev2.id.clone();
            c.evals.push(ev2);
            // an impossible pair: both sittings and both claims are flagged
            label(c, "proxy_exam", "evaluation", &ev.id, None, 0);
            label(c, "proxy_exam", "evaluation", &ev2_id, None, 0);
            label_claim(c, "proxy_exam", ci, None);
            label_claim(c, "proxy_exam", k, None);
        }
    );
    hosts_if!(
        "malformed_certificate",
        |c: &Cohort, _ei: usize, ci: usize| has_level_certificate(c, ci),
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, _ei: usize, ci: usize, _ids: &mut Ids| {
            let Some(cert) = c.claims[ci].cert.clone() else {
                return;
            };
            let has_digit = matches!(
                c.claims[ci].level,
                "junior" | "intermediate" | "senior" | "technician" | "senior_technician"
            );
            let bad = if has_digit && rng.gen_bool(0.5) {
                // wrong level digit (a junior claim citing a technician certificate, or the reverse)
                let digit = if &cert[15..16] == "2" { "5" } else { "2" };
                let mut b = cert.clone();
                b.replace_range(15..16, digit);
                b
            } else {
                format!("ZS{}", &cert[2..21])
            };
            let old = cert.clone();
            c.claims[ci].cert = Some(bad.clone());
            for ev in c
                .evals
                .iter_mut()
                .filter(|ev| ev.cert.as_deref() == Some(&old))
            {
                ev.cert = Some(bad.clone());
            }
            label_claim(c, "malformed_certificate", ci, None);
        }
    );
    hosts_if!(
        "late_claim",
        |c: &Cohort, _ei: usize, ci: usize| c.claims[ci].eval.is_some(),
        |c: &mut Cohort, rng: &mut Xoshiro256PlusPlus, _ei: usize, ci: usize, _ids: &mut Ids| {
            let ev_id = c.claims[ci].eval.clone();
            let issued = c
                .evals
                .iter()
                .find(|e| Some(&e.id) == ev_id.as_ref())
                .and_then(|e| e.issued);
            let Some(issued) = issued else { return };
            let on = issued + Duration::days(rng.gen_range(400..500));
            c.claims[ci].on = on;
            c.claims[ci].paid_on = Some(on + Duration::days(20));
            label_claim(c, "late_claim", ci, None);
        }
    );
    hosts!(
        "over_standard_amount",
        |c: &mut Cohort, _rng: &mut Xoshiro256PlusPlus, _ei: usize, ci: usize, _ids: &mut Ids| {
            let cl = &mut c.claims[ci];
            let inflated = cl.entitled * 130 / 100;
            cl.claimed = inflated;
            cl.paid = Some(inflated);
            let excess = inflated - cl.entitled;
            label_claim(c, "over_standard_amount", ci, Some(excess));
        }
    );
    // a delisted or revoked institution that has not yet shown a claim after its date gets one
    // (a one-trainee class for someone never trained), so that the scenario is there to catch
    for i in 0..w.training.len() {
        let t = &w.training[i];
        let date = match (t.until, t.revoked) {
            (Some(u), _) => u,
            (None, Some(r)) => r,
            _ => continue,
        };
        if q.institutions_labelled.contains(&t.id) || c.claims.is_empty() {
            continue;
        }
        let Some(p) = untrained(c) else { continue };
        let occ = t.approved[0];
        let level = if is_special(occ) {
            "special_ability"
        } else {
            "junior"
        };
        let revoked = t.until.is_none();
        let id = t.id.clone();
        add_solo_training(
            w,
            c,
            rng,
            ids,
            p,
            i,
            occ,
            level,
            date + Duration::days(20),
            0,
        );
        // a revoked institution's class started after the revocation also ends in an
        // evaluation claim, whose class is on the evaluation row or only in the enrolments
        if revoked
            && q.institutions_labelled
                .insert(format!("evaluation claim {id}"))
        {
            let Some(p2) = untrained(c) else { continue };
            let shape = Solo {
                route: Route::Evaluation,
                tt: None,
                mode: None,
            };
            let k = add_solo(
                w,
                c,
                rng,
                ids,
                p2,
                i,
                occ,
                level,
                date + Duration::days(25),
                &shape,
            );
            let names = rng.gen_bool(0.5);
            let ev_id = c.claims[k].eval.clone();
            for ev in c.evals.iter_mut().filter(|e| Some(&e.id) == ev_id.as_ref()) {
                ev.class_written = names;
            }
        }
    }
    // claims of institutions planted package-wide (last, so claims added by scenarios count too)
    let already: BTreeSet<String> = c.labels.iter().map(|l| l.claim_id.clone()).collect();
    for (k, cl) in c.claims.clone().iter().enumerate() {
        // the class the claim is for, on the claim or not (an evaluation claim's)
        let Some(class_id) = &cl.of_class else {
            continue;
        };
        let Some(cls) = c.classes.iter().find(|x| &x.id == class_id) else {
            continue;
        };
        let inst = &w.training[cls.inst];
        if cl.paid.is_none() || already.contains(&cl.id) {
            continue;
        }
        let scen = if inst.until.is_some_and(|u| cls.start > u) {
            Some("delisted_institution")
        } else if inst.revoked.is_some_and(|r| {
            // a claim of a class that started on or after the revocation (the training ran
            // without the qualification; one that ran before it stays payable)
            cls.start >= r
        }) {
            Some("revoked_institution")
        } else {
            None
        };
        if let Some(name) = scen {
            label_claim(c, name, k, None);
            // the institution itself, the first time it shows a claim to recover
            if q.institutions_labelled.insert(inst.id.clone()) {
                label(c, name, "institution", &inst.id.clone(), None, 0);
            }
        } else if inst.colluding && cl.scheme != "living_allowance" {
            label_claim(c, "colluding_institutions", k, None);
        }
    }
}

/// The shape of a one-trainee class a scenario adds.
#[derive(Debug, Clone)]
struct Solo {
    /// how it is subsidised
    route: Route,
    /// the timetable to copy (else a random one)
    tt: Option<Timetable>,
    /// the mode to force (else a random one)
    mode: Option<Mode>,
}

impl Solo {
    fn training() -> Solo {
        Solo {
            route: Route::Training,
            tt: None,
            mode: None,
        }
    }
}

/// How a low-attendance trainee falls short, under the contract's definition (presence inside
/// the timetabled sessions, or for a class without `sessions` the day's sign-in span capped
/// per day): missed days everywhere, early departures where they shorten the day's presence;
/// where sessions are written, also a
/// sign-in hours early with a short stay (the span looks full, the presence is not) and, on
/// two-session days, the mornings only.
fn low_attendance_shape(tt: &Timetable, rng: &mut Xoshiro256PlusPlus) -> AttMode {
    let mut shapes = vec![AttMode::Partial(0.4)];
    if tt.written {
        shapes.push(AttMode::LeavesEarly(0.45));
        shapes.push(AttMode::EarlyInShortStay);
        if tt.slots.len() == 2 {
            shapes.push(AttMode::MorningsOnly);
        }
    } else if tt.slots.len() == 2 {
        // without sessions the day's span counts (lunch break included): leaving the
        // afternoon early is not short, attending the mornings only is
        shapes.push(AttMode::MorningsOnly);
    } else {
        shapes.push(AttMode::LeavesEarly(0.45));
    }
    shapes[rng.gen_range(0..shapes.len())]
}

/// Adds a class of one trainee (the person at `person`) with its evaluation and a paid training
/// claim. Returns the new claim's index.
#[allow(clippy::too_many_arguments)]
fn add_solo_training(
    w: &World,
    c: &mut Cohort,
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    person: usize,
    inst: usize,
    occ: usize,
    level: &'static str,
    start: chrono::NaiveDate,
    _model: usize,
) -> usize {
    add_solo(
        w,
        c,
        rng,
        ids,
        person,
        inst,
        occ,
        level,
        start,
        &Solo::training(),
    )
}

/// Adds a class of one trainee of the given shape, its sitting three days after it ends
/// (passed) and the paid claim of its route. Returns the new claim's index.
#[allow(clippy::too_many_arguments)]
fn add_solo(
    w: &World,
    c: &mut Cohort,
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    person: usize,
    inst: usize,
    occ: usize,
    level: &'static str,
    start: chrono::NaiveDate,
    shape: &Solo,
) -> usize {
    // a programme planted for the effectiveness scorecard hosts no fraud: the class goes to the
    // next institution filed for the occupation
    let n = w.training.len();
    let inst = if w.effectiveness.kind(inst, occ, level).is_some() {
        (1..n)
            .map(|k| (inst + k) % n)
            .find(|&i| {
                let t = &w.training[i];
                t.approved.contains(&occ)
                    && w.effectiveness.kind(i, occ, level).is_none()
                    && t.until.is_none()
                    && t.revoked.is_none()
                    && !t.colluding
            })
            .unwrap_or(inst)
    } else {
        inst
    };
    let mut cls = new_class(w, rng, ids, inst, occ, level, start, 1);
    cls.route = shape.route;
    if let Some(tt) = &shape.tt {
        cls.tt = tt.clone();
        cls.fit_days(OCCUPATIONS[occ].hours + 14 * crate::generator::level_rank(level));
    }
    if let Some(m) = shape.mode {
        cls.mode = m;
    }
    if cls.route == Route::Evaluation && cls.fee == 0 {
        cls.fee = 150_000;
    }
    let ci = c.classes.len();
    c.enrolls.push(Enroll {
        class: ci,
        person,
        on: cls.filed - Duration::days(1),
        att: AttMode::Normal,
    });
    let p = c.persons[person].clone();
    let org = rng.gen_range(0..w.evaluators.len());
    let when = (cls.end + Duration::days(3))
        .and_hms_opt(9, 0, 0)
        .expect("time");
    let evs: Vec<String> = w.evaluators[org].staff.iter().take(3).cloned().collect();
    let mut ev = make_eval(
        rng,
        ids,
        &p.id,
        org,
        Some(cls.id.clone()),
        occ,
        level,
        &format!("SITE{org:04}05"),
        when,
        evs,
        w,
        Grading::Normal,
    );
    ev.class_written = cls.exam_names_class;
    grant(&mut ev, rng, ids, w);
    let issued = ev.issued.unwrap_or(when.date());
    let mut claim = route_claim(
        w,
        rng,
        ids,
        &cls,
        &p,
        Some(ev.id.clone()),
        ev.cert.clone(),
        issued,
        false,
    );
    claim.paid = Some(claim.claimed);
    claim.paid_on = Some(claim.on + Duration::days(20));
    c.claims.push(claim);
    c.evals.push(ev);
    c.classes.push(cls);
    c.claims.len() - 1
}

fn rename_person(c: &mut Cohort, old: &str, new: &str) {
    for s in c.statuses.iter_mut().filter(|s| s.person == old) {
        s.person = new.to_string();
    }
    for e in c.evals.iter_mut().filter(|e| e.person == old) {
        e.person = new.to_string();
    }
    for cl in c.claims.iter_mut() {
        if cl.person == old {
            cl.person = new.to_string();
        }
        if cl.claimant == old {
            cl.claimant = new.to_string();
        }
    }
}

fn plant_class(
    w: &World,
    c: &mut Cohort,
    rng: &mut Xoshiro256PlusPlus,
    ids: &mut Ids,
    k: usize,
    name: &'static str,
    used_classes: &mut BTreeSet<usize>,
) {
    let cls = c.classes[k].clone();
    let claims = paid_claims_of(c, &cls.id);
    match name {
        "shared_device" => {
            let members: Vec<usize> = (0..c.enrolls.len())
                .filter(|&i| c.enrolls[i].class == k)
                .take(4)
                .collect();
            let dev = rng.gen_range(0..1_000_000);
            for i in members {
                c.enrolls[i].att = AttMode::SharedDevice(dev);
                let pid = c.persons[c.enrolls[i].person].id.clone();
                // the claims that paid for the training: an evaluation subsidy answers for
                // its sitting, not for the sign-ins
                if let Some(ci) = claims
                    .iter()
                    .copied()
                    .find(|&ci| c.claims[ci].person == pid && c.claims[ci].scheme != "evaluation")
                {
                    label_claim(c, name, ci, None);
                }
            }
            label(c, name, "device", &format!("DVSHARED{dev:06}"), None, 0);
        }
        "shortened_class" => {
            // half the days the standard hours need: planned 学时 at most half the standard
            let std_hours = OCCUPATIONS[cls.occ].hours;
            let full_days = (std_hours * 45).div_ceil(cls.tt.length.minutes());
            let days = (full_days / 2).max(1);
            c.classes[k].days = days;
            c.classes[k].end = cls.start + Duration::days(i64::from(days) - 1);
            // the planned hours as written (two decimals)
            let planned: f64 = crate::generator::fmt_hours(c.classes[k].planned_hours())
                .parse()
                .unwrap_or(0.0);
            label(c, name, "class", &cls.id, None, 0);
            for ci in claims {
                let paid = c.claims[ci].paid.unwrap_or(0);
                // the shortfall share, as the rule computes it: paid × (standard − hours) / standard
                let std = f64::from(std_hours);
                let excess = (paid as f64 * (std - planned) / std).round() as i64;
                label_claim(c, name, ci, Some(excess));
            }
        }
        "teacher_double_booked" => {
            // another class of another institution on overlapping days and at the same hours
            // (both with timetabled sessions, at their venues) gets the same teacher
            let Some(other) = (0..c.classes.len()).find(|&j| {
                j != k
                    && !used_classes.contains(&j)
                    && c.classes[j].inst != cls.inst
                    && c.classes[j].start <= cls.end
                    && c.classes[j].end >= cls.start
                    && c.classes[j].mode == Mode::Offline
                    && c.classes[j].tt == cls.tt
            }) else {
                // none overlaps: a one-trainee class elsewhere on the same days, same teacher
                let Some(p) = untrained(c) else { return };
                let Some(inst2) = (1..w.training.len())
                    .map(|j| (cls.inst + j) % w.training.len())
                    .find(|&i| {
                        w.training[i].until.is_none()
                            && w.training[i].revoked.is_none()
                            && !w.training[i].colluding
                    })
                else {
                    return;
                };
                let occ = w.training[inst2].approved[0];
                let level = if is_special(occ) {
                    "special_ability"
                } else {
                    "junior"
                };
                let before = c.classes.len();
                let shape = Solo {
                    route: Route::Training,
                    tt: Some(cls.tt.clone()),
                    mode: Some(Mode::Offline),
                };
                add_solo(w, c, rng, ids, p, inst2, occ, level, cls.start, &shape);
                c.classes[before].teacher = cls.teacher.clone();
                used_classes.insert(before);
                label(c, name, "teacher", &cls.teacher, None, 0);
                return;
            };
            used_classes.insert(other);
            c.classes[other].teacher = cls.teacher.clone();
            label(c, name, "teacher", &cls.teacher, None, 0);
        }
        "over_capacity" => {
            let n = c.enrolls.iter().filter(|e| e.class == k).count() as u32;
            c.classes[k].capacity = (n / 2).max(1);
            label(c, name, "class", &cls.id, None, 0);
        }
        "late_filing" => {
            c.classes[k].filed = cls.start + Duration::days(rng.gen_range(2..10));
            label(c, name, "class", &cls.id, None, 0);
        }
        "exam_before_training_end" => {
            for ev in c
                .evals
                .iter_mut()
                .filter(|ev| ev.class.as_deref() == Some(&cls.id))
            {
                let shift = ev.starts.date() - (cls.end - Duration::days(2));
                ev.starts -= shift;
                ev.ends -= shift;
            }
            label(c, name, "class", &cls.id, None, 0);
            for ci in claims {
                label_claim(c, name, ci, None);
            }
        }
        "identical_answers" => {
            let hash = format!("{:016x}", rng.r#gen::<u64>());
            let mut changed = Vec::new();
            for ev in c
                .evals
                .iter_mut()
                .filter(|ev| ev.class.as_deref() == Some(&cls.id))
                .take(6)
            {
                ev.hash = hash.clone();
                changed.push(ev.person.clone());
            }
            for ci in claims {
                if changed.contains(&c.claims[ci].person) {
                    label_claim(c, name, ci, None);
                }
            }
        }
        "uniform_scores" => {
            // every candidate of the sitting passes with a practical score of 84, 85 or 86
            // (standard deviation under 1; the practical score is the one varied, theory keeps
            // its normal spread): those who had failed get their certificate and claim
            let members: Vec<usize> = (0..c.enrolls.len())
                .filter(|&i| c.enrolls[i].class == k)
                .collect();
            for i in members {
                let pid = c.persons[c.enrolls[i].person].id.clone();
                let Some(ei) = c
                    .evals
                    .iter()
                    .position(|ev| ev.person == pid && ev.class.as_deref() == Some(&cls.id))
                else {
                    continue;
                };
                let was_passed = c.evals[ei].passed;
                {
                    let mut ev = c.evals[ei].clone();
                    ev.theory = ev.theory.max(f64::from(rng.gen_range(62..75)));
                    ev.practical = 60.0; // below the new mark: grant keeps the larger one
                    grant(&mut ev, rng, ids, w);
                    ev.practical = f64::from(rng.gen_range(84..87));
                    // a room of its own, so that no other class's sitting merges into it
                    ev.site = format!("{}U", ev.site);
                    c.evals[ei] = ev;
                }
                if !was_passed {
                    let ev = &c.evals[ei];
                    let (ev_id, cert) = (ev.id.clone(), ev.cert.clone());
                    let issued = ev.issued.unwrap_or(ev.starts.date());
                    let person = c.persons[c.enrolls[i].person].clone();
                    let mut claim =
                        route_claim(w, rng, ids, &cls, &person, Some(ev_id), cert, issued, false);
                    claim.paid = Some(claim.claimed);
                    claim.paid_on = Some(claim.on + Duration::days(20));
                    c.claims.push(claim);
                }
            }
            label(c, name, "class", &cls.id, None, 0);
            for ci in 0..c.claims.len() {
                let cl = &c.claims[ci];
                // the paid claims (an unpaid one is flagged too, but has nothing to recover)
                if cl.of_class.as_deref() == Some(&cls.id)
                    && cl.eval.is_some()
                    && cl.paid.is_some()
                    && cl.scheme != "living_allowance"
                {
                    label_claim(c, name, ci, None);
                }
            }
        }
        "too_few_examiners" => {
            let mut evs = Vec::new();
            for ev in c
                .evals
                .iter_mut()
                .filter(|ev| ev.class.as_deref() == Some(&cls.id))
            {
                ev.evaluators.truncate(1);
                evs.push(ev.id.clone());
            }
            for e in evs {
                label(c, name, "evaluation", &e, None, 0);
            }
        }
        "fee_inversion" => {
            let amount = claims
                .first()
                .map(|&ci| c.claims[ci].paid.unwrap_or(0))
                .unwrap_or(100_000);
            let cl = &mut c.classes[k];
            cl.days = 1;
            cl.end = cl.start;
            cl.fee = amount * 6 / 10;
            label(c, name, "class", &cls.id, None, 0);
            for ci in claims {
                label_claim(c, name, ci, None);
            }
        }
        "shared_payee_account" => {
            let acct = crate::idgen::bank_card(rng);
            let mut n = 0;
            for ci in claims {
                if n == 4 {
                    break;
                }
                let cl = &mut c.claims[ci];
                cl.scheme = "training";
                cl.claimant = cl.person.clone();
                cl.payee = acct.clone();
                label_claim(c, name, ci, None);
                n += 1;
            }
            label(c, name, "account", &acct, None, 0);
        }
        _ => unreachable!("unknown class scenario {name}"),
    }
    let _ = w;
}
