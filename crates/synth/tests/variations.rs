//! The legitimate variations a real export may show, generated at scale s: timetables of 3.5,
//! 5.25 and 7 hour days, one or two sessions a day, classes with and without `sessions` rows,
//! online and blended classes, special-ability and training certificates in their own
//! numbering, evaluation claims without `class_id`, direct-recognition candidates, exams after
//! the class with mixed scores. The trainees' credited 学时 are computed here from the written
//! rows under the contract's definition (presence inside the timetabled sessions; without
//! sessions the day's first sign-in to last sign-out, capped at 8 学时), independently of the
//! rules crate: every trainee of the clean package reaches 80 % of the planned hours, every
//! planted low-attendance trainee stays under it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use subsidy_synth::{Config, NO_SESSION_DAILY_CAP_MIN, Scale, generate};

/// A table as column name → index, and its rows.
struct T {
    col: BTreeMap<String, usize>,
    rows: Vec<Vec<String>>,
}

impl T {
    fn read(dir: &Path, table: &str) -> T {
        let mut r = csv::Reader::from_path(dir.join(format!("{table}.csv"))).expect("csv");
        let col = r
            .headers()
            .expect("header")
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), i))
            .collect();
        let rows = r
            .records()
            .map(|x| x.expect("row").iter().map(str::to_string).collect())
            .collect();
        T { col, rows }
    }
    fn get<'a>(&self, row: &'a [String], c: &str) -> &'a str {
        &row[self.col[c]]
    }
}

fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("datetime")
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn is_level_cert(no: &str) -> bool {
    subsidy_model::ids::parse_certificate_no(no).is_some()
}

/// Credited 学时 and planned 学时 per (class, person) enrolled, under the contract.
fn credited(dir: &Path) -> BTreeMap<(String, String), (f64, f64)> {
    let classes = T::read(dir, "classes");
    let sessions = T::read(dir, "sessions");
    let enrollments = T::read(dir, "enrollments");
    let attendance = T::read(dir, "attendance");
    let planned: BTreeMap<String, f64> = classes
        .rows
        .iter()
        .map(|r| {
            (
                classes.get(r, "class_id").to_string(),
                classes.get(r, "planned_hours").parse().expect("hours"),
            )
        })
        .collect();
    let mut slots: BTreeMap<&str, Vec<(NaiveDateTime, NaiveDateTime)>> = BTreeMap::new();
    for r in &sessions.rows {
        slots.entry(sessions.get(r, "class_id")).or_default().push((
            dt(sessions.get(r, "starts_at")),
            dt(sessions.get(r, "ends_at")),
        ));
    }
    let mut events: BTreeMap<(&str, &str), Vec<(NaiveDateTime, bool)>> = BTreeMap::new();
    for r in &attendance.rows {
        events
            .entry((
                attendance.get(r, "class_id"),
                attendance.get(r, "person_id"),
            ))
            .or_default()
            .push((
                dt(attendance.get(r, "ts")),
                attendance.get(r, "direction") == "in",
            ));
    }
    let mut out = BTreeMap::new();
    for r in &enrollments.rows {
        let (class, person) = (
            enrollments.get(r, "class_id"),
            enrollments.get(r, "person_id"),
        );
        let mut ev = events.get(&(class, person)).cloned().unwrap_or_default();
        ev.sort();
        // presence intervals: a sign-in to the next sign-out
        let mut spans = Vec::new();
        let mut open: Option<NaiveDateTime> = None;
        for (t, is_in) in ev {
            match (is_in, open) {
                (true, None) => open = Some(t),
                (false, Some(a)) => {
                    spans.push((a, t));
                    open = None;
                }
                _ => {}
            }
        }
        let minutes: f64 = match slots.get(class) {
            Some(ss) => spans
                .iter()
                .map(|&(a, b)| {
                    ss.iter()
                        .map(|&(s, e)| {
                            let (lo, hi) = (a.max(s), b.min(e));
                            if hi > lo {
                                (hi - lo).num_seconds() as f64 / 60.0
                            } else {
                                0.0
                            }
                        })
                        .sum::<f64>()
                })
                .sum(),
            None => {
                // no sessions: the day's first sign-in to its last sign-out, capped
                let mut by_day: BTreeMap<NaiveDate, (NaiveDateTime, NaiveDateTime)> =
                    BTreeMap::new();
                for &(a, b) in &spans {
                    let e = by_day.entry(a.date()).or_insert((a, b));
                    e.0 = e.0.min(a);
                    e.1 = e.1.max(b);
                }
                by_day
                    .values()
                    .map(|&(a, b)| {
                        ((b - a).num_seconds() as f64 / 60.0)
                            .min(f64::from(NO_SESSION_DAILY_CAP_MIN))
                    })
                    .sum()
            }
        };
        out.insert(
            (class.to_string(), person.to_string()),
            (minutes / 45.0, planned[class]),
        );
    }
    out
}

type Candidate<'a> = (f64, bool, &'a str);

fn sd(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt()
}

#[test]
fn the_variations_are_generated_in_their_shares_and_a_clean_package_is_clean() {
    let t0 = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("tmp");
    // SYNTH_KEEP=DIR keeps the package for a look
    let keep = std::env::var_os("SYNTH_KEEP").map(std::path::PathBuf::from);
    let d = keep.as_deref().unwrap_or(dir.path());
    generate(d, &Config::new(Scale::S, 3)).expect("generates");
    eprintln!("generated s in {:.1}s", t0.elapsed().as_secs_f64());

    let classes = T::read(d, "classes");
    let sessions = T::read(d, "sessions");
    let attendance = T::read(d, "attendance");
    let claims = T::read(d, "claims");
    let evals = T::read(d, "evaluations");
    let enrollments = T::read(d, "enrollments");
    let labels = subsidy_synth::labels::read_labels(&d.join("labels.csv")).expect("labels");
    let n_classes = classes.rows.len() as f64;

    // ---- timetables ----
    let mut per_day: BTreeMap<(&str, NaiveDate), (u32, i64)> = BTreeMap::new();
    for r in &sessions.rows {
        let (a, b) = (
            dt(sessions.get(r, "starts_at")),
            dt(sessions.get(r, "ends_at")),
        );
        let e = per_day
            .entry((sessions.get(r, "class_id"), a.date()))
            .or_default();
        e.0 += 1;
        e.1 += (b - a).num_minutes();
    }
    let with_sessions: BTreeSet<&str> = per_day.keys().map(|k| k.0).collect();
    let share_with = with_sessions.len() as f64 / n_classes;
    eprintln!("classes with sessions rows: {share_with:.2}");
    assert!(
        (0.55..0.85).contains(&share_with),
        "share with sessions {share_with}"
    );
    let two = per_day.values().filter(|v| v.0 == 2).count() as f64 / per_day.len() as f64;
    eprintln!("two-session days: {two:.2}");
    assert!((0.2..0.8).contains(&two), "two-session days {two}");
    let mut lengths: BTreeMap<i64, usize> = BTreeMap::new();
    for v in per_day.values() {
        *lengths.entry(v.1).or_default() += 1;
    }
    eprintln!("day lengths (minutes: days): {lengths:?}");
    assert_eq!(
        lengths.keys().copied().collect::<Vec<_>>(),
        vec![210, 315, 420]
    );
    for n in lengths.values() {
        assert!(*n as f64 / per_day.len() as f64 > 0.1);
    }
    // planned hours are the timetabled minutes / 45; a class without sessions keeps its days
    // within the daily cap
    let mut minutes_of: BTreeMap<&str, i64> = BTreeMap::new();
    for ((c, _), v) in &per_day {
        *minutes_of.entry(c).or_default() += v.1;
    }
    let mut modes: BTreeMap<String, usize> = BTreeMap::new();
    let mut online = BTreeSet::new();
    for r in &classes.rows {
        let id = classes.get(r, "class_id");
        let planned: f64 = classes.get(r, "planned_hours").parse().expect("hours");
        *modes.entry(classes.get(r, "mode").to_string()).or_default() += 1;
        if classes.get(r, "mode") == "online" {
            online.insert(id.to_string());
            assert!(classes.get(r, "venue_lat").is_empty());
        }
        match minutes_of.get(id) {
            Some(m) => assert!(
                (planned - *m as f64 / 45.0).abs() < 0.006,
                "{id}: planned {planned}, sessions {m} min"
            ),
            None => {
                let days = (date(classes.get(r, "end_date")) - date(classes.get(r, "start_date")))
                    .num_days()
                    + 1;
                assert!(
                    planned * 45.0 / days as f64 <= f64::from(NO_SESSION_DAILY_CAP_MIN) + 0.01,
                    "{id}: {planned} 学时 over {days} days"
                );
            }
        }
    }
    eprintln!("modes: {modes:?}");
    for m in ["online", "blended", "offline"] {
        assert!(
            modes.get(m).copied().unwrap_or(0) as f64 / n_classes > 0.05,
            "{m}: {modes:?}"
        );
    }
    // sign-ins: online ones carry no location; some legitimate sign-outs are an hour or more late
    let mut online_rows = 0;
    for r in &attendance.rows {
        if online.contains(attendance.get(r, "class_id")) {
            online_rows += 1;
            assert!(attendance.get(r, "lat").is_empty());
        }
    }
    assert!(online_rows > 0);
    let rows_per_person = attendance.rows.len() as f64 / 10_000.0;
    eprintln!("sign-in rows per person: {rows_per_person:.1}");
    assert!(rows_per_person >= 30.0, "{rows_per_person}");

    // ---- certificates ----
    let with_cert: Vec<&Vec<String>> = claims
        .rows
        .iter()
        .filter(|r| !claims.get(r, "certificate_no").is_empty())
        .collect();
    let special: Vec<&&Vec<String>> = with_cert
        .iter()
        .filter(|r| claims.get(r, "level") == "special_ability")
        .collect();
    let training_cert = with_cert
        .iter()
        .filter(|r| claims.get(r, "evaluation_id").is_empty())
        .count();
    eprintln!(
        "claims with a certificate: {}, special-ability {}, training certificates {training_cert}",
        with_cert.len(),
        special.len()
    );
    assert!(special.len() as f64 / with_cert.len() as f64 > 0.03);
    assert!(training_cert as f64 / with_cert.len() as f64 > 0.03);
    for r in &special {
        assert!(!is_level_cert(claims.get(r, "certificate_no")));
    }
    for r in with_cert
        .iter()
        .filter(|r| claims.get(r, "evaluation_id").is_empty())
    {
        assert!(!is_level_cert(claims.get(r, "certificate_no")));
    }

    // ---- how evaluation claims find their class ----
    let eval_class: BTreeMap<&str, &str> = evals
        .rows
        .iter()
        .map(|r| (evals.get(r, "evaluation_id"), evals.get(r, "class_id")))
        .collect();
    let enrolled: BTreeSet<&str> = enrollments
        .rows
        .iter()
        .map(|r| enrollments.get(r, "person_id"))
        .collect();
    let (mut on_eval, mut only_enrolled, mut direct) = (0, 0, 0);
    for r in &claims.rows {
        if claims.get(r, "scheme") != "evaluation" || !claims.get(r, "class_id").is_empty() {
            continue;
        }
        let ev = claims.get(r, "evaluation_id");
        if !eval_class.get(ev).copied().unwrap_or("").is_empty() {
            on_eval += 1;
        } else if enrolled.contains(claims.get(r, "person_id")) {
            only_enrolled += 1;
        } else {
            direct += 1;
        }
    }
    eprintln!(
        "evaluation claims without class_id: class on the evaluation {on_eval}, only in \
         enrolments {only_enrolled}, direct recognition {direct}"
    );
    assert!(on_eval > 50 && only_enrolled > 50 && direct > 50);

    // ---- sittings: after the class, mixed scores ----
    let class_end: BTreeMap<&str, NaiveDate> = classes
        .rows
        .iter()
        .map(|r| (classes.get(r, "class_id"), date(classes.get(r, "end_date"))))
        .collect();
    let early: BTreeSet<&str> = labels
        .iter()
        .filter(|l| l.scenario == "exam_before_training_end" && l.entity_kind.as_str() == "class")
        .map(|l| l.entity_id.as_str())
        .collect();
    // (organisation, site, start) → (practical score, passed, evaluation id)
    let mut sittings: BTreeMap<(&str, &str, &str), Vec<Candidate>> = BTreeMap::new();
    for r in &evals.rows {
        let c = evals.get(r, "class_id");
        if !c.is_empty() && !early.contains(c) {
            assert!(dt(evals.get(r, "starts_at")).date() > class_end[c]);
        }
        sittings
            .entry((
                evals.get(r, "evaluation_org_id"),
                evals.get(r, "site_id"),
                evals.get(r, "starts_at"),
            ))
            .or_default()
            .push((
                evals.get(r, "practical_score").parse().expect("score"),
                evals.get(r, "passed") == "true",
                evals.get(r, "evaluation_id"),
            ));
    }
    let failed = evals
        .rows
        .iter()
        .filter(|r| evals.get(r, "passed") == "false")
        .count() as f64
        / evals.rows.len() as f64;
    eprintln!("failed candidates: {failed:.3}");
    assert!((0.02..0.2).contains(&failed));
    let uniform_claims: BTreeSet<&str> = labels
        .iter()
        .filter(|l| l.scenario == "uniform_scores" && l.claim_id.is_some())
        .map(|l| l.claim_id.as_deref().unwrap_or(""))
        .collect();
    let claim_of_eval: BTreeMap<&str, &str> = claims
        .rows
        .iter()
        .map(|r| (claims.get(r, "evaluation_id"), claims.get(r, "claim_id")))
        .collect();
    let paid: BTreeSet<&str> = claims
        .rows
        .iter()
        .filter(|r| !claims.get(r, "amount_paid").is_empty())
        .map(|r| claims.get(r, "claim_id"))
        .collect();
    let (mut uniform, mut large_all_pass, mut small_identical) = (0, 0, 0);
    for v in sittings.values() {
        let scores: Vec<f64> = v.iter().map(|x| x.0).collect();
        let all_pass = v.iter().all(|x| x.1);
        let is_uniform = v.len() >= 30 && all_pass && sd(&scores) < 2.0;
        let labelled = v
            .iter()
            .filter(|x| {
                claim_of_eval
                    .get(x.2)
                    .is_some_and(|c| uniform_claims.contains(c))
            })
            .count();
        if is_uniform {
            uniform += 1;
            // every paid claim of the sitting is labelled (an unpaid one has nothing to recover)
            let with_claim = v
                .iter()
                .filter(|x| claim_of_eval.get(x.2).is_some_and(|c| paid.contains(c)))
                .count();
            assert_eq!(labelled, with_claim);
        } else {
            assert_eq!(
                labelled, 0,
                "a labelled uniform sitting that is not uniform"
            );
        }
        if v.len() >= 30 && all_pass && sd(&scores) >= 2.0 {
            large_all_pass += 1;
        }
        if v.len() < 30 && v.len() >= 5 && sd(&scores) == 0.0 {
            small_identical += 1;
        }
    }
    eprintln!(
        "sittings: {} ; uniform (planted) {uniform}, large all-pass with spread {large_all_pass}, \
         small with identical scores {small_identical}",
        sittings.len()
    );
    assert!(uniform >= 1 && large_all_pass >= 3 && small_identical >= 3);

    // ---- the impossible pairs are labelled on both sides ----
    for name in ["overlapping_classes", "proxy_exam"] {
        let mut per_person: BTreeMap<&str, usize> = BTreeMap::new();
        let person_of: BTreeMap<&str, &str> = claims
            .rows
            .iter()
            .map(|r| (claims.get(r, "claim_id"), claims.get(r, "person_id")))
            .collect();
        for l in labels
            .iter()
            .filter(|l| l.scenario == name && l.claim_id.is_some())
        {
            *per_person
                .entry(person_of[l.claim_id.as_deref().unwrap_or("")])
                .or_default() += 1;
        }
        assert!(!per_person.is_empty());
        assert!(
            per_person.values().all(|n| *n == 2),
            "{name}: {per_person:?}"
        );
    }

    let class_occ: BTreeMap<&str, &str> = classes
        .rows
        .iter()
        .map(|r| {
            (
                classes.get(r, "class_id"),
                classes.get(r, "occupation_code"),
            )
        })
        .collect();
    // ---- exams before the class ended, on claims that find their class three ways ----
    let claim_row: BTreeMap<&str, &Vec<String>> = claims
        .rows
        .iter()
        .map(|r| (claims.get(r, "claim_id"), r))
        .collect();
    let (mut named, mut on_row, mut via_enrolment) = (0, 0, 0);
    for l in labels
        .iter()
        .filter(|l| l.scenario == "exam_before_training_end" && l.claim_id.is_some())
    {
        let r = claim_row[l.claim_id.as_deref().unwrap_or("")];
        let ev = claims.get(r, "evaluation_id");
        let ev_row = evals
            .rows
            .iter()
            .find(|e| evals.get(e, "evaluation_id") == ev)
            .expect("evaluation");
        // the class: on the claim, else on the evaluation, else the person's enrolment in a
        // class of the occupation
        let class = if !claims.get(r, "class_id").is_empty() {
            named += 1;
            claims.get(r, "class_id").to_string()
        } else if !evals.get(ev_row, "class_id").is_empty() {
            on_row += 1;
            evals.get(ev_row, "class_id").to_string()
        } else {
            via_enrolment += 1;
            enrollments
                .rows
                .iter()
                .filter(|e| enrollments.get(e, "person_id") == claims.get(r, "person_id"))
                .map(|e| enrollments.get(e, "class_id").to_string())
                .find(|c| class_occ[c.as_str()] == claims.get(r, "occupation_code"))
                .expect("enrolment")
        };
        assert!(dt(evals.get(ev_row, "starts_at")).date() < class_end[class.as_str()]);
    }
    eprintln!(
        "exam before the class end: claims naming the class {named}, class on the evaluation \
         {on_row}, only in enrolments {via_enrolment}"
    );
    assert!(named > 0 && on_row > 0 && via_enrolment > 0);
    assert!(labels.iter().any(|l| l.scenario == "revoked_institution"
        && l.claim_id.is_some()
        && claims.get(claim_row[l.claim_id.as_deref().unwrap_or("")], "scheme") == "evaluation"));

    // ---- overlapping classes really overlap (≥ 30 min on a day, at two venues) ----
    let mut span: BTreeMap<(&str, &str, NaiveDate), (NaiveDateTime, NaiveDateTime)> =
        BTreeMap::new();
    for r in &attendance.rows {
        let t = dt(attendance.get(r, "ts"));
        let e = span
            .entry((
                attendance.get(r, "person_id"),
                attendance.get(r, "class_id"),
                t.date(),
            ))
            .or_insert((t, t));
        e.0 = e.0.min(t);
        e.1 = e.1.max(t);
    }
    let overlapped: BTreeSet<&str> = labels
        .iter()
        .filter(|l| l.scenario == "overlapping_classes" && l.claim_id.is_some())
        .map(|l| claims.get(claim_row[l.claim_id.as_deref().unwrap_or("")], "person_id"))
        .collect();
    for p in &overlapped {
        let mine: Vec<_> = span
            .range((*p, "", NaiveDate::MIN)..)
            .take_while(|(k, _)| k.0 == *p)
            .collect();
        let hit = mine.iter().any(|(k, v)| {
            mine.iter().any(|(k2, v2)| {
                k2.1 != k.1 && k2.2 == k.2 && (v.1.min(v2.1) - v.0.max(v2.0)).num_minutes() >= 30
            })
        });
        assert!(hit, "{p}: no overlap of 30 minutes");
    }
    // ---- a double-booked teacher teaches two classes at the same hours ----
    let teachers: BTreeSet<&str> = labels
        .iter()
        .filter(|l| l.scenario == "teacher_double_booked")
        .map(|l| l.entity_id.as_str())
        .collect();
    assert!(!teachers.is_empty());
    for t in &teachers {
        let mine: Vec<(&str, NaiveDateTime, NaiveDateTime)> = sessions
            .rows
            .iter()
            .filter(|r| sessions.get(r, "teacher_id") == *t)
            .map(|r| {
                (
                    sessions.get(r, "class_id"),
                    dt(sessions.get(r, "starts_at")),
                    dt(sessions.get(r, "ends_at")),
                )
            })
            .collect();
        let hit = mine
            .iter()
            .any(|a| mine.iter().any(|b| a.0 != b.0 && a.1 < b.2 && b.1 < a.2));
        assert!(hit, "{t}: no overlapping sessions");
    }

    // ---- the attendance plants hold under the contract's definition ----
    let hours = credited(d);
    let person_of_claim: BTreeMap<&str, (&str, &str)> = claims
        .rows
        .iter()
        .map(|r| {
            (
                claims.get(r, "claim_id"),
                (claims.get(r, "person_id"), claims.get(r, "occupation_code")),
            )
        })
        .collect();
    for l in labels
        .iter()
        .filter(|l| matches!(l.scenario, "low_attendance" | "ghost_trainee"))
    {
        let (person, occ) = person_of_claim[l.claim_id.as_deref().unwrap_or("")];
        let ((class, _), (got, planned)) = hours
            .iter()
            .find(|((c, p), _)| p == person && class_occ[c.as_str()] == occ)
            .expect("the trainee's class");
        assert!(
            *got < 0.8 * planned,
            "{}: {person} credited {got:.1} of {planned} in {class}",
            l.scenario
        );
    }

    // ---- a clean package: nothing planted, every trainee at 80 % or more ----
    let clean = tempfile::tempdir().expect("tmp");
    let summary = generate(clean.path(), &Config::clean(Scale::S, 3)).expect("generates");
    assert_eq!(summary.labels, 0);
    let hours = credited(clean.path());
    let worst = hours
        .values()
        .map(|(got, planned)| got / planned)
        .fold(f64::INFINITY, f64::min);
    eprintln!(
        "clean: {} enrolments, lowest credited share {worst:.3}",
        hours.len()
    );
    assert!(worst >= 0.89, "a clean trainee at {worst}");
    // no teacher is in two sessions at once, no trainee in two classes at once
    let sessions = T::read(clean.path(), "sessions");
    let mut by_teacher: BTreeMap<&str, Vec<(NaiveDateTime, NaiveDateTime, &str)>> = BTreeMap::new();
    for r in &sessions.rows {
        by_teacher
            .entry(sessions.get(r, "teacher_id"))
            .or_default()
            .push((
                dt(sessions.get(r, "starts_at")),
                dt(sessions.get(r, "ends_at")),
                sessions.get(r, "class_id"),
            ));
    }
    for (t, mut v) in by_teacher {
        v.sort();
        for w in v.windows(2) {
            assert!(w[1].0 >= w[0].1, "{t} double-booked: {w:?}");
        }
    }
    let attendance = T::read(clean.path(), "attendance");
    let mut day_span: BTreeMap<(&str, NaiveDate, &str), (NaiveDateTime, NaiveDateTime)> =
        BTreeMap::new();
    for r in &attendance.rows {
        let t = dt(attendance.get(r, "ts"));
        let e = day_span
            .entry((
                attendance.get(r, "person_id"),
                t.date(),
                attendance.get(r, "class_id"),
            ))
            .or_insert((t, t));
        e.0 = e.0.min(t);
        e.1 = e.1.max(t);
    }
    let keys: Vec<_> = day_span.keys().copied().collect();
    for w in keys.windows(2) {
        assert!(
            !(w[0].0 == w[1].0 && w[0].1 == w[1].1),
            "{} in two classes on {}",
            w[0].0,
            w[0].1
        );
    }
    eprintln!("test took {:.1}s", t0.elapsed().as_secs_f64());
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let mut cfg = Config::new(Scale::Demo, 5);
    cfg.persons = 1200;
    generate(a.path(), &cfg).expect("generates");
    generate(b.path(), &cfg).expect("generates");
    for e in std::fs::read_dir(a.path()).expect("dir") {
        let name = e.expect("entry").file_name();
        assert_eq!(
            std::fs::read(a.path().join(&name)).expect("a"),
            std::fs::read(b.path().join(&name)).expect("b"),
            "{name:?}"
        );
    }
}
