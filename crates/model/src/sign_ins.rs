//! The one pass over the sign-ins: per (class, person, day), per (class, person) and per class,
//! computed together from one sort of the attendance rows.
//!
//! Each row becomes one 128-bit key, `class | person | time | sign-in | row`, with class and
//! person as their ranks among the distinct ids (so the order is the ids' order, whatever the
//! order of the file), and the keys are sorted in parallel. A (class, person) is then one run of
//! keys, its days runs inside it, and each day's events are already in time order, a sign-out
//! before a sign-in at one instant, as [`crate::hours::credit`] wants them. A walk over the runs
//! (in parallel, by enrolment) gives every per-day and per-enrolment figure at once.
//!
//! The figures are those the views read:
//!
//! | frame | one row per | columns |
//! | --- | --- | --- |
//! | [`SignInDays::days`] | class, person, day | `first_in`, `last_out`, `face_checks`, `face_fails`, `max_distance_m`, `span_h`, `credited_h`, `present_from`, `present_until` |
//! | [`SignInDays::enrolments`] | class, person | `days_attended`, `verified_hours`, `max_span_h`, `max_day_hours`, `face_checks`, `face_fails`, `max_distance_m`, `class_face_fail_share`, `class_max_verified_hours` |
//! | [`SignInDays::classes`] | class with a sign-in | `max_daily_trainees`, `max_concurrent_trainees` |
//!
//! The same pass marks the sign-ins on devices that signed in two or more trainees (TP-06's
//! rows, [`SignInDays::shared_devices`]), from the rows' person ranks and device hashes: two
//! devices whose ids hash alike would only add rows to TP-06's view, which counts trainees by
//! the device id itself. [`on_shared_devices`] does the same from the ids, for a table too
//! large for one sort.
//!
//! - A face check is a sign-in row (either direction) by `method = face` with a score; it fails
//!   below the pack's `face_pass_score`.
//! - The distance is from the class's venue: 110,540 m per degree of latitude, and per degree of
//!   longitude 111,320 m × cos(venue latitude).
//! - `span_h` is the first sign-in to the last sign-out in whole minutes, over 60; `credited_h`,
//!   `present_from` and `present_until` follow the 学时 convention ([`crate::hours`]).
//! - `days_attended` counts days with credited 学时; `class_max_verified_hours` is the most
//!   verified 学时 of any trainee of the class (what it delivered); `class_face_fail_share` is the class's
//!   failed face checks over its face checks (null with none); `max_daily_trainees` counts the
//!   trainees with a sign-in (`direction = in`) on the class's busiest day;
//!   `max_concurrent_trainees` the most present at one moment (inside sessions where the class has
//!   them).

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;

use crate::hours::{Timetable, credit};

/// The per-day and per-enrolment frames of one package's sign-ins.
#[derive(Debug, Clone)]
pub struct SignInDays {
    /// one row per (class, person, day), sorted by class, person and day
    pub days: DataFrame,
    /// one row per (class, person), sorted by class and person
    pub enrolments: DataFrame,
    /// one row per class with a sign-in, sorted by class: `max_daily_trainees`, the most
    /// trainees signing in on one day
    pub classes: DataFrame,
    /// by attendance row: a sign-in (`direction = in`) on a device that signed in two or more
    /// different trainees (TP-06's rows; [`on_shared_devices`])
    pub shared_devices: BooleanChunked,
}

/// The settings the pass reads from the pack (they change the enrolment figures only; the
/// default, 0 and 0, is for callers that read the per-class figures alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct DaySettings {
    /// a face check below this score fails
    pub face_pass_score: f64,
    /// a class without sessions: the most 学时 one day's sign-in span is credited with
    pub untimetabled_daily_cap_hours: f64,
}

const MS_PER_DAY: i64 = 86_400_000;
const ROW_BITS: u32 = 29;
const TS_BITS: u32 = 42;
const ID_BITS: u32 = 28;
const TS_SHIFT: u32 = ROW_BITS + 1;
const PERSON_SHIFT: u32 = TS_SHIFT + TS_BITS;
const CLASS_SHIFT: u32 = PERSON_SHIFT + ID_BITS;
/// the most rows one sort takes; a larger table is split by class into several
const MAX_ROWS: usize = 1 << ROW_BITS;

/// The ranks of a string column's values among its distinct values (null ranks as ""), and the
/// number of distinct values.
fn ranks(ca: &StringChunked) -> (Vec<u32>, usize) {
    let mut first: HashMap<&str, u32, foldhash::fast::FixedState> = HashMap::with_hasher(hasher());
    let codes: Vec<u32> = ca
        .iter()
        .map(|v| {
            let n = first.len() as u32;
            *first.entry(v.unwrap_or("")).or_insert(n)
        })
        .collect();
    let mut distinct: Vec<(&str, u32)> = first.into_iter().collect();
    distinct.par_sort_unstable();
    let mut rank = vec![0u32; distinct.len()];
    for (r, (_, code)) in distinct.iter().enumerate() {
        rank[*code as usize] = r as u32;
    }
    let n = distinct.len();
    (codes.into_iter().map(|c| rank[c as usize]).collect(), n)
}

/// The fixed-seed hasher of every map and split here (the same rows, the same results).
fn hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x5eed)
}

fn strs(df: &DataFrame, c: &str) -> PolarsResult<StringChunked> {
    Ok(df.column(c)?.cast(&DataType::String)?.str()?.clone())
}

fn floats(df: &DataFrame, c: &str) -> PolarsResult<Float64Chunked> {
    Ok(df.column(c)?.cast(&DataType::Float64)?.f64()?.clone())
}

/// One (class, person, day).
#[derive(Debug, Clone, Copy)]
struct Day {
    row: u32,
    day: i32,
    first_in: Option<i64>,
    last_out: Option<i64>,
    face_checks: u32,
    face_fails: u32,
    max_distance: Option<f64>,
    credited: f64,
    from: Option<i64>,
    until: Option<i64>,
}

impl Day {
    fn span_h(&self) -> Option<f64> {
        match (self.first_in, self.last_out) {
            // whole minutes (truncated), as a duration's total_minutes
            (Some(a), Some(b)) => Some(((b - a) / 60_000) as f64 / 60.0),
            _ => None,
        }
    }
}

/// One (class, person).
#[derive(Debug, Clone, Copy)]
struct Enrolment {
    row: u32,
    class: u32,
    days_attended: i64,
    /// credited milliseconds (exact; over 45 minutes they are the verified 学时)
    verified_ms: i64,
    max_span: Option<f64>,
    max_day: Option<f64>,
    face_checks: i64,
    face_fails: i64,
    max_distance: Option<f64>,
    /// days with a sign-in (their days follow in [`Walked::in_days`])
    in_days: u32,
}

/// What a walk over runs of keys gives, in key order.
#[derive(Default)]
struct Walked {
    days: Vec<Day>,
    enrols: Vec<Enrolment>,
    /// per enrolment in order, the days it signed in ([`Enrolment::in_days`] of them)
    in_days: Vec<i32>,
    /// one day's events (scratch)
    events: Vec<(i64, bool)>,
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// What the walk reads of a row, by row number: its face-check flags ([`FACE`], [`FAIL`]) and
/// its place; the time and direction are in the key.
struct Rows<'a> {
    base: i64,
    flags: Vec<u8>,
    /// by row: latitude, longitude and face score (of a face check), NaN where missing
    lat: Vec<f64>,
    lon: Vec<f64>,
    face_score: Vec<f64>,
    /// by row: the device's hash (0: no device)
    device: Vec<u64>,
    class_ids: &'a StringChunked,
    person_ids: &'a StringChunked,
    /// by class rank: the venue (latitude, longitude, metres per degree of longitude)
    venues: Vec<Option<(f64, f64, f64)>>,
    /// the persons kept at day grain (all when `None`)
    days_for: Option<&'a PlHashSet<&'a str>>,
}

const FACE: u8 = 1;
const FAIL: u8 = 2;

impl Rows<'_> {
    /// The row a key stands for.
    fn row(k: u128) -> usize {
        (k & ((1 << ROW_BITS) - 1)) as usize
    }

    /// The time (ms) in a key.
    fn ts(&self, k: u128) -> i64 {
        self.base + ((k >> TS_SHIFT) & ((1 << TS_BITS) - 1)) as i64
    }

    fn distance(&self, class: u32, r: usize) -> Option<f64> {
        let (vla, vlo, m) = self.venues[class as usize]?;
        let (la, lo) = (self.lat[r], self.lon[r]);
        if la.is_nan() || lo.is_nan() {
            return None;
        }
        let dy = (la - vla) * 110_540.0;
        let dx = (lo - vlo) * m;
        Some((dy.powi(2) + dx.powi(2)).sqrt())
    }
}

/// Computes both frames from the canonical attendance, classes and sessions frames. `days_for`
/// keeps the per-day rows of those persons only (the enrolment totals count every day).
pub fn sign_in_days(
    attendance: &DataFrame,
    classes: &DataFrame,
    sessions: &DataFrame,
    days_for: Option<&PlHashSet<&str>>,
    s: DaySettings,
) -> PolarsResult<SignInDays> {
    let timetable = Timetable::from_sessions(sessions)?;
    let venues = venues(classes)?;
    // SUBSIDY_ROWS_PER_PASS lowers the limit (for tests of the split; the result is the same)
    let limit = std::env::var("SUBSIDY_ROWS_PER_PASS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(MAX_ROWS, |v| v.clamp(1, MAX_ROWS));
    if attendance.height() <= limit {
        return one_sort(attendance, &venues, &timetable, days_for, s);
    }
    // a table too large for one sort's row numbers: by class, in shares of whole classes
    let parts = attendance.height().div_ceil(limit) as u64;
    let h = hasher();
    let part: UInt64Chunked = strs(attendance, "class_id")?
        .iter()
        .map(|c| Some(std::hash::BuildHasher::hash_one(&h, c.unwrap_or("")) % parts))
        .collect();
    let share = |k: u64| -> PolarsResult<SignInDays> {
        one_sort(
            &attendance.filter(&part.equal(k))?,
            &venues,
            &timetable,
            days_for,
            s,
        )
    };
    let mut out = share(0)?;
    // a device's sign-ins may fall in several shares: judged over the whole table
    out.shared_devices = on_shared_devices(attendance)?;
    for k in 1..parts {
        let r = share(k)?;
        out.days.vstack_mut_owned(r.days)?;
        out.enrolments.vstack_mut_owned(r.enrolments)?;
        out.classes.vstack_mut_owned(r.classes)?;
    }
    let by = |df: DataFrame, keys: &[&str]| -> PolarsResult<DataFrame> {
        df.sort(keys.to_vec(), SortMultipleOptions::default())
    };
    Ok(SignInDays {
        days: by(out.days, &["class_id", "person_id", "day"])?,
        enrolments: by(out.enrolments, &["class_id", "person_id"])?,
        classes: by(out.classes, &["class_id"])?,
        shared_devices: out.shared_devices,
    })
}

/// class_id → (venue latitude, longitude, metres per degree of longitude there).
type Venues = HashMap<String, (Option<f64>, Option<f64>, Option<f64>)>;

fn venues(classes: &DataFrame) -> PolarsResult<Venues> {
    let ids = strs(classes, "class_id")?;
    let lat = floats(classes, "venue_lat")?;
    let lon = floats(classes, "venue_lon")?;
    Ok(ids
        .iter()
        .zip(lat.iter().zip(lon.iter()))
        .filter_map(|(id, (la, lo))| {
            let m = la.map(|l| 111_320.0 * l.to_radians().cos());
            id.map(|id| (id.to_string(), (la, lo, m)))
        })
        .collect())
}

fn one_sort(
    att: &DataFrame,
    venues: &Venues,
    timetable: &Timetable,
    days_for: Option<&PlHashSet<&str>>,
    s: DaySettings,
) -> PolarsResult<SignInDays> {
    let lap = std::time::Instant::now();
    let n = att.height();
    let class_ids = strs(att, "class_id")?;
    let person_ids = strs(att, "person_id")?;
    let ((class, n_class), (person, n_person)) =
        rayon::join(|| ranks(&class_ids), || ranks(&person_ids));
    let too_many = |what: &str, k: usize| polars_err!(ComputeError: "attendance: {k} distinct {what}, more than one pass over the sign-ins can key ({})", 1u64 << ID_BITS);
    if n_class as u64 >= 1 << ID_BITS {
        return Err(too_many("classes", n_class));
    }
    if n_person as u64 >= 1 << ID_BITS {
        return Err(too_many("persons", n_person));
    }
    let ts: Vec<i64> = att
        .column("ts")?
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
        .as_materialized_series()
        .to_physical_repr()
        .i64()?
        .iter()
        .map(|t| t.unwrap_or(0))
        .collect();
    let base = ts.iter().copied().min().unwrap_or(0);
    let span = ts.iter().copied().max().unwrap_or(0) - base;
    if span as u64 >= 1 << TS_BITS {
        return Err(
            polars_err!(ComputeError: "attendance: the sign-in times span {} days, more than one pass over the sign-ins can key", span / MS_PER_DAY),
        );
    }
    let direction = strs(att, "direction")?;
    let method = strs(att, "method")?;
    let score = floats(att, "face_score")?;
    let flags: Vec<u8> = method
        .iter()
        .zip(score.iter())
        .map(|(m, sc)| match (m, sc) {
            (Some("face"), Some(v)) if v < s.face_pass_score => FACE | FAIL,
            (Some("face"), Some(_)) => FACE,
            _ => 0,
        })
        .collect();
    // read in order: `get(i)` on a column of many chunks searches for the chunk every time
    let inward: Vec<bool> = direction.iter().map(|d| d == Some("in")).collect();
    let mut keys: Vec<u128> = (0..n)
        .into_par_iter()
        .map(|i| {
            (u128::from(class[i]) << CLASS_SHIFT)
                | (u128::from(person[i]) << PERSON_SHIFT)
                | (((ts[i] - base) as u128) << TS_SHIFT)
                | (u128::from(inward[i]) << ROW_BITS)
                | i as u128
        })
        .collect();
    // the venue of each class rank
    let mut by_rank: Vec<Option<(f64, f64, f64)>> = vec![None; n_class];
    for (i, c) in class_ids.iter().enumerate() {
        let v = &mut by_rank[class[i] as usize];
        if v.is_none() {
            *v = venues
                .get(c.unwrap_or(""))
                .and_then(|&(a, b, m)| Some((a?, b?, m?)));
        }
    }
    let h = hasher();
    let device: Vec<u64> = strs(att, "device_id")?
        .iter()
        .map(|d| d.map_or(0, |d| std::hash::BuildHasher::hash_one(&h, d).max(1)))
        .collect();
    let shared_devices = shared_by_rank(&device, &person, &inward);
    drop((class, person, ts, inward));
    crate::trace::lap("sign-in days: keyed", lap);
    keys.par_sort_unstable();
    crate::trace::lap("sign-in days: sorted", lap);
    let nan_coded =
        |ca: &Float64Chunked| -> Vec<f64> { ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect() };
    let face_score: Vec<f64> = score
        .iter()
        .zip(&flags)
        .map(|(v, f)| {
            if f & FACE != 0 {
                v.unwrap_or(f64::NAN)
            } else {
                f64::NAN
            }
        })
        .collect();
    let rows = Rows {
        base,
        flags,
        lat: nan_coded(&floats(att, "lat")?),
        lon: nan_coded(&floats(att, "lon")?),
        face_score,
        device,
        class_ids: &class_ids,
        person_ids: &person_ids,
        venues: by_rank,
        days_for,
    };
    // the start of each (class, person) run
    let enrolment_of = |k: u128| k >> PERSON_SHIFT;
    let starts: Vec<usize> = (0..keys.len())
        .filter(|&i| i == 0 || enrolment_of(keys[i]) != enrolment_of(keys[i - 1]))
        .chain(std::iter::once(keys.len()))
        .collect();
    let walked: Vec<Walked> = starts
        .par_windows(2)
        .chunks(4096)
        .map(|runs| {
            let mut w = Walked::default();
            for r in runs {
                let e = walk(&keys[r[0]..r[1]], &rows, timetable, s, &mut w);
                w.enrols.push(e);
            }
            w
        })
        .collect();
    let mut all = Walked::default();
    for w in walked {
        all.days.extend(w.days);
        all.enrols.extend(w.enrols);
        all.in_days.extend(w.in_days);
    }
    // per class (one run of keys each): the features of the anomaly detector
    let class_starts: Vec<usize> = (0..keys.len())
        .filter(|&i| i == 0 || keys[i] >> CLASS_SHIFT != keys[i - 1] >> CLASS_SHIFT)
        .chain(std::iter::once(keys.len()))
        .collect();
    let features: Vec<ClassFeatures> = class_starts
        .par_windows(2)
        .map(|w| {
            let run = &keys[w[0]..w[1]];
            let mut f = class_features(run, &rows);
            let class = rows.class_ids.get(Rows::row(run[0])).unwrap_or("");
            f.max_concurrent = max_concurrent(
                run,
                &rows,
                timetable.has(class).then_some((timetable, class)),
            );
            f
        })
        .collect();
    drop(keys);
    crate::trace::lap("sign-in days: walked", lap);
    let out = SignInDays {
        days: days_frame(att, &all.days)?,
        enrolments: enrolments_frame(att, &all.enrols)?,
        classes: classes_frame(att, &all.enrols, &all.in_days, &features)?,
        shared_devices,
    };
    crate::trace::lap("sign-in days: framed", lap);
    Ok(out)
}
/// One (class, person) run of sorted keys: pushes its days, returns its totals.
fn walk(
    run: &[u128],
    rows: &Rows<'_>,
    timetable: &Timetable,
    s: DaySettings,
    w: &mut Walked,
) -> Enrolment {
    let row_of = Rows::row;
    let first = row_of(run[0]);
    let class = rows.class_ids.get(first).unwrap_or("");
    let sessions = timetable.has(class).then_some(class);
    let keep_days = rows
        .days_for
        .is_none_or(|p| p.contains(rows.person_ids.get(first).unwrap_or("")));
    let class_rank = (run[0] >> CLASS_SHIFT) as u32;
    let ts_of = |k| rows.ts(k);
    let mut e = Enrolment {
        row: first as u32,
        class: class_rank,
        days_attended: 0,
        verified_ms: 0,
        max_span: None,
        max_day: None,
        face_checks: 0,
        face_fails: 0,
        max_distance: None,
        in_days: 0,
    };
    let mut i = 0;
    while i < run.len() {
        let r0 = row_of(run[i]);
        let day = ts_of(run[i]).div_euclid(MS_PER_DAY);
        let mut d = Day {
            row: r0 as u32,
            day: day as i32,
            first_in: None,
            last_out: None,
            face_checks: 0,
            face_fails: 0,
            max_distance: None,
            credited: 0.0,
            from: None,
            until: None,
        };
        w.events.clear();
        while i < run.len() {
            let k = run[i];
            let r = row_of(k);
            let t = ts_of(k);
            if t.div_euclid(MS_PER_DAY) != day {
                break;
            }
            let is_in = (k >> ROW_BITS) & 1 == 1;
            w.events.push((t, is_in));
            if is_in {
                d.first_in = Some(d.first_in.map_or(t, |f| f.min(t)));
            } else {
                d.last_out = Some(d.last_out.map_or(t, |l| l.max(t)));
            }
            d.face_checks += u32::from(rows.flags[r] & FACE != 0);
            d.face_fails += u32::from(rows.flags[r] & FAIL != 0);
            d.max_distance = max_opt(d.max_distance, rows.distance(class_rank, r));
            i += 1;
        }
        let cr = credit(
            &w.events,
            sessions.map(|c| timetable.day(c, d.day)),
            s.untimetabled_daily_cap_hours,
        );
        d.credited = cr.hours;
        d.from = cr.from;
        d.until = cr.until;
        e.days_attended += i64::from(d.credited > 0.0);
        e.verified_ms += cr.ms;
        e.max_span = max_opt(e.max_span, d.span_h());
        e.max_day = max_opt(e.max_day, Some(d.credited));
        e.face_checks += i64::from(d.face_checks);
        e.face_fails += i64::from(d.face_fails);
        e.max_distance = max_opt(e.max_distance, d.max_distance);
        if d.first_in.is_some() {
            e.in_days += 1;
            w.in_days.push(d.day);
        }
        if keep_days {
            w.days.push(d);
        }
    }
    e
}

fn ids(att: &DataFrame, rows: impl Iterator<Item = u32>) -> PolarsResult<[Column; 2]> {
    let idx = IdxCa::from_vec("".into(), rows.map(|r| r as IdxSize).collect());
    let take = |c: &str| -> PolarsResult<Column> { att.column(c)?.take(&idx) };
    Ok([take("class_id")?, take("person_id")?])
}

fn datetimes(name: &str, v: impl Iterator<Item = Option<i64>>) -> PolarsResult<Column> {
    Ok(Int64Chunked::from_iter_options(name.into(), v)
        .into_series()
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
        .into_column())
}

fn days_frame(att: &DataFrame, days: &[Day]) -> PolarsResult<DataFrame> {
    let [class, person] = ids(att, days.iter().map(|d| d.row))?;
    let opt_f = |name: &str, f: &dyn Fn(&Day) -> Option<f64>| {
        Float64Chunked::from_iter_options(name.into(), days.iter().map(f)).into_column()
    };
    DataFrame::new_infer_height(vec![
        class,
        person,
        Int32Chunked::from_iter_values("day".into(), days.iter().map(|d| d.day))
            .into_date()
            .into_column(),
        datetimes("first_in", days.iter().map(|d| d.first_in))?,
        datetimes("last_out", days.iter().map(|d| d.last_out))?,
        IdxCa::from_iter_values(
            "face_checks".into(),
            days.iter().map(|d| d.face_checks as IdxSize),
        )
        .into_column(),
        IdxCa::from_iter_values(
            "face_fails".into(),
            days.iter().map(|d| d.face_fails as IdxSize),
        )
        .into_column(),
        opt_f("max_distance_m", &|d| d.max_distance),
        opt_f("span_h", &Day::span_h),
        Float64Chunked::from_iter_values("credited_h".into(), days.iter().map(|d| d.credited))
            .into_column(),
        datetimes("present_from", days.iter().map(|d| d.from))?,
        datetimes("present_until", days.iter().map(|d| d.until))?,
    ])
}

fn enrolments_frame(att: &DataFrame, en: &[Enrolment]) -> PolarsResult<DataFrame> {
    let [class, person] = ids(att, en.iter().map(|e| e.row))?;
    // per class (its enrolments are one run): failed face checks over face checks
    // and the most 学时 any of its trainees was verified for (what the class delivered)
    let mut share: Vec<Option<f64>> = Vec::with_capacity(en.len());
    let mut best: Vec<f64> = Vec::with_capacity(en.len());
    for run in en.chunk_by(|a, b| a.class == b.class) {
        let checks: i64 = run.iter().map(|e| e.face_checks).sum();
        let fails: i64 = run.iter().map(|e| e.face_fails).sum();
        let v = (checks > 0).then(|| fails as f64 / checks as f64);
        share.extend(std::iter::repeat_n(v, run.len()));
        let most = run.iter().map(|e| e.verified_ms).max().unwrap_or(0);
        best.extend(std::iter::repeat_n(xueshi(most), run.len()));
    }
    let opt_f = |name: &str, f: &dyn Fn(&Enrolment) -> Option<f64>| {
        Float64Chunked::from_iter_options(name.into(), en.iter().map(f)).into_column()
    };
    let int = |name: &str, f: &dyn Fn(&Enrolment) -> i64| {
        Int64Chunked::from_iter_values(name.into(), en.iter().map(f)).into_column()
    };
    DataFrame::new_infer_height(vec![
        class,
        person,
        int("days_attended", &|e| e.days_attended),
        Float64Chunked::from_iter_values(
            "verified_hours".into(),
            en.iter().map(|e| xueshi(e.verified_ms)),
        )
        .into_column(),
        opt_f("max_span_h", &|e| e.max_span),
        opt_f("max_day_hours", &|e| e.max_day),
        int("face_checks", &|e| e.face_checks),
        int("face_fails", &|e| e.face_fails),
        opt_f("max_distance_m", &|e| e.max_distance),
        Float64Chunked::from_iter_options("class_face_fail_share".into(), share.into_iter())
            .into_column(),
        Float64Chunked::from_vec("class_max_verified_hours".into(), best).into_column(),
    ])
}

/// Milliseconds as 学时.
fn xueshi(ms: i64) -> f64 {
    ms as f64 / crate::hours::MS_PER_XUESHI
}

/// [`on_shared_devices`] from the rows' device hashes (0: none) and person ranks, as one sort
/// has them.
fn shared_by_rank(device: &[u64], person: &[u32], inward: &[bool]) -> BooleanChunked {
    mark_shared(device.len(), |i| {
        (inward[i] && device[i] != 0).then(|| (device[i], person[i]))
    })
}

/// Which sign-in rows (`direction = in`) were made on a device that signed in two or more
/// different trainees (the rows TP-06 reads), from the ids themselves.
pub fn on_shared_devices(attendance: &DataFrame) -> PolarsResult<BooleanChunked> {
    let device = strs(attendance, "device_id")?.rechunk().into_owned();
    let person = strs(attendance, "person_id")?.rechunk().into_owned();
    let is_in: Vec<bool> = strs(attendance, "direction")?
        .iter()
        .map(|d| d == Some("in"))
        .collect();
    Ok(mark_shared(attendance.height(), |i| {
        match (is_in[i], device.get(i), person.get(i)) {
            (true, Some(d), Some(p)) => Some((d, p)),
            _ => None,
        }
    }))
}

/// The rows `0..n` whose (device, person) `row(i)` gives (`None`: not a sign-in on a device) on a
/// device seen with two or more persons. One pass over the rows, in parallel shares: each share
/// notes per device its first person or that it saw two, and the shares are merged.
fn mark_shared<D, P>(n: usize, row: impl Fn(usize) -> Option<(D, P)> + Sync) -> BooleanChunked
where
    D: std::hash::Hash + Eq + Copy + Send + Sync,
    P: Eq + Copy + Send + Sync,
{
    #[derive(Clone, Copy, PartialEq)]
    enum Seen<P> {
        One(P),
        Shared,
    }
    let new_map = || HashMap::<D, Seen<P>, _>::with_hasher(hasher());
    fn note<D: std::hash::Hash + Eq, P: Eq + Copy>(
        m: &mut HashMap<D, Seen<P>, foldhash::fast::FixedState>,
        d: D,
        p: Seen<P>,
    ) {
        m.entry(d)
            .and_modify(|s| {
                if *s != p {
                    *s = Seen::Shared;
                }
            })
            .or_insert(p);
    }
    let share = n.div_ceil(rayon::current_num_threads().max(1) * 4).max(1);
    let seen = (0..n.div_ceil(share))
        .into_par_iter()
        .map(|k| {
            let mut m = new_map();
            for (d, p) in (k * share..((k + 1) * share).min(n)).filter_map(&row) {
                note(&mut m, d, Seen::One(p));
            }
            m
        })
        .reduce(new_map, |mut a, b| {
            for (d, s) in b {
                note(&mut a, d, s);
            }
            a
        });
    let mask: Vec<bool> = (0..n)
        .into_par_iter()
        .map(|i| row(i).is_some_and(|(d, _)| seen.get(&d) == Some(&Seen::Shared)))
        .collect();
    BooleanChunked::from_slice("shared".into(), &mask)
}

/// One class's sign-in features (the anomaly detector's, `subsidy_scoring::features`).
#[derive(Debug, Clone, Copy, Default)]
struct ClassFeatures {
    signin_spread_min: Option<f64>,
    signout_spread_min: Option<f64>,
    face_score_mean: Option<f64>,
    face_score_sd: Option<f64>,
    devices_per_trainee: Option<f64>,
    location_spread_m: Option<f64>,
    signins_per_day: Option<f64>,
    trainees: i64,
    /// the most trainees present at one moment ([`max_concurrent`])
    max_concurrent: i64,
}

/// One class's run of sorted keys: the most trainees present at one moment. Presence runs from a
/// sign-in to the next sign-out of the same trainee on the same day (the 学时 convention); where
/// the class has a timetable, only presence inside that day's sessions counts, so a morning
/// shift signing out late does not meet an afternoon shift signing in early. An interval ending
/// at the instant another starts does not overlap it, and a count must hold for 15 minutes
/// ([`HOLD_MS`]).
fn max_concurrent(run: &[u128], rows: &Rows<'_>, sessions: Option<(&Timetable, &str)>) -> i64 {
    let mut edges: Vec<(i64, i64)> = Vec::new();
    let mut push = |a: i64, b: i64, day: i64| match sessions {
        Some((t, class)) => {
            for &(s, e) in t.day(class, day as i32) {
                let (lo, hi) = (a.max(s), b.min(e));
                if hi > lo {
                    edges.extend([(lo, 1), (hi, -1)]);
                }
            }
        }
        None => edges.extend([(a, 1), (b, -1)]),
    };
    let mut since: Option<i64> = None;
    let mut at: Option<(u128, i64)> = None;
    for &k in run {
        let t = rows.ts(k);
        let here = (k >> PERSON_SHIFT, t.div_euclid(MS_PER_DAY));
        if at != Some(here) {
            since = None;
            at = Some(here);
        }
        let is_in = (k >> ROW_BITS) & 1 == 1;
        match (is_in, since) {
            (true, None) => since = Some(t),
            (false, Some(a)) => {
                if t > a {
                    push(a, t, here.1);
                }
                since = None;
            }
            _ => {}
        }
    }
    // an end sorts before a start at one instant; a count counts once it holds for HOLD_MS
    edges.sort_unstable();
    let (mut now, mut most) = (0i64, 0i64);
    for (i, &(t, d)) in edges.iter().enumerate() {
        now += d;
        let until = edges.get(i + 1).map_or(t, |e| e.0);
        if until - t >= HOLD_MS {
            most = most.max(now);
        }
    }
    most
}

/// How long a head count must hold to count as trainees present at once: a morning shift
/// signing out a few minutes late while the afternoon shift signs in (back-to-back sessions
/// merge into one timetable span) is a hand-over, not a crowd.
const HOLD_MS: i64 = 15 * 60_000;

/// Mean and sample standard deviation (two passes; the deviation needs two values).
fn mean_sd(v: &[f64]) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.len() > 1)
        .then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (Some(mean), sd)
}

/// The median (the mean of the middle two of an even count).
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// One class's run of sorted keys: the spread of sign-in and of sign-out times across trainees
/// on a day (the sample deviation of the minutes of that day's sign-ins, on days with three or
/// more; the median over days), sign-ins per class day, the face scores' mean and deviation,
/// distinct devices (a missing device counts as one) per distinct trainee, and the spread of
/// places (the deviations of latitude and longitude at 111,000 and 91,000 m per degree).
fn class_features(run: &[u128], rows: &Rows<'_>) -> ClassFeatures {
    let row_of = Rows::row;
    let ts_of = |k| rows.ts(k);
    let mut f = ClassFeatures::default();
    // ((day, sign-in) packed, minute)
    let mut times: Vec<(i64, f64)> = Vec::with_capacity(run.len());
    let mut scores = Vec::new();
    let (mut lats, mut lons) = (Vec::new(), Vec::new());
    let mut devices: Vec<u64> = Vec::with_capacity(run.len());
    let mut persons = 0i64;
    for (i, &k) in run.iter().enumerate() {
        let r = row_of(k);
        let t = ts_of(k);
        if i == 0 || k >> PERSON_SHIFT != run[i - 1] >> PERSON_SHIFT {
            persons += 1;
        }
        let is_in = ((k >> ROW_BITS) & 1) as i64;
        times.push((t.div_euclid(MS_PER_DAY) * 2 + is_in, t as f64 / 60_000.0));
        if !rows.face_score[r].is_nan() {
            scores.push(rows.face_score[r]);
        }
        if !rows.lat[r].is_nan() {
            lats.push(rows.lat[r]);
        }
        if !rows.lon[r].is_nan() {
            lons.push(rows.lon[r]);
        }
        devices.push(rows.device[r]);
    }
    f.trainees = persons;
    (f.face_score_mean, f.face_score_sd) = mean_sd(&scores);
    devices.sort_unstable();
    devices.dedup();
    f.devices_per_trainee = Some(devices.len() as f64 / persons as f64);
    f.location_spread_m = match (mean_sd(&lats).1, mean_sd(&lons).1) {
        (Some(a), Some(b)) => Some(((a * 111_000.0).powi(2) + (b * 91_000.0).powi(2)).sqrt()),
        _ => None,
    };
    times.sort_unstable_by_key(|t| t.0);
    let (mut ins, mut outs) = (Vec::new(), Vec::new());
    let (mut in_days, mut in_rows) = (0usize, 0usize);
    let mut minutes = Vec::new();
    for g in times.chunk_by(|a, b| a.0 == b.0) {
        let is_in = g[0].0 & 1 == 1;
        if is_in {
            in_days += 1;
            in_rows += g.len();
        }
        if g.len() >= 3 {
            minutes.clear();
            minutes.extend(g.iter().map(|x| x.1));
            if let Some(sd) = mean_sd(&minutes).1 {
                if is_in { ins.push(sd) } else { outs.push(sd) }
            }
        }
    }
    f.signin_spread_min = median(&mut ins);
    f.signout_spread_min = median(&mut outs);
    f.signins_per_day = (in_days > 0).then(|| in_rows as f64 / in_days as f64);
    f
}

/// The per-class frame: every class with a sign-in row, with its busiest day and its features.
fn classes_frame(
    att: &DataFrame,
    en: &[Enrolment],
    in_days: &[i32],
    features: &[ClassFeatures],
) -> PolarsResult<DataFrame> {
    let mut rows = Vec::new();
    let mut most: Vec<Option<i64>> = Vec::new();
    let mut at = 0usize;
    let mut days: Vec<i32> = Vec::new();
    for run in en.chunk_by(|a, b| a.class == b.class) {
        let k: usize = run.iter().map(|e| e.in_days as usize).sum();
        days.clear();
        days.extend_from_slice(&in_days[at..at + k]);
        at += k;
        days.sort_unstable();
        // each (person, day) once: the longest run of one day is its trainee count
        let n = days.chunk_by(|a, b| a == b).map(<[i32]>::len).max();
        rows.push(run[0].row);
        most.push(n.map(|n| n as i64));
    }
    let idx = IdxCa::from_vec("".into(), rows.into_iter().map(|r| r as IdxSize).collect());
    let feat = |name: &str, g: &dyn Fn(&ClassFeatures) -> Option<f64>| {
        Float64Chunked::from_iter_options(name.into(), features.iter().map(g)).into_column()
    };
    DataFrame::new_infer_height(vec![
        att.column("class_id")?.take(&idx)?,
        Int64Chunked::from_iter_options("max_daily_trainees".into(), most.into_iter())
            .into_column(),
        Int64Chunked::from_iter_values("trainees".into(), features.iter().map(|f| f.trainees))
            .into_column(),
        Int64Chunked::from_iter_values(
            "max_concurrent_trainees".into(),
            features.iter().map(|f| f.max_concurrent),
        )
        .into_column(),
        feat("signin_spread_min", &|f| f.signin_spread_min),
        feat("signout_spread_min", &|f| f.signout_spread_min),
        feat("face_score_mean", &|f| f.face_score_mean),
        feat("face_score_sd", &|f| f.face_score_sd),
        feat("devices_per_trainee", &|f| f.devices_per_trainee),
        feat("location_spread_m", &|f| f.location_spread_m),
        feat("signins_per_day", &|f| f.signins_per_day),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const M: i64 = 60_000;
    /// 2025-03-03 00:00 (ms since the epoch)
    const D0: i64 = 20_150 * 86_400_000;

    fn dt(name: &str, v: Vec<Option<i64>>) -> Column {
        Int64Chunked::from_iter_options(name.into(), v.into_iter())
            .into_series()
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .expect("datetime")
            .into_column()
    }

    /// Rows out of order on purpose: the pass sorts them itself.
    /// (class, person, ts, direction, method, score, device, lat)
    type Row = (
        &'static str,
        &'static str,
        i64,
        &'static str,
        &'static str,
        Option<f64>,
        Option<&'static str>,
        Option<f64>,
    );

    fn attendance() -> DataFrame {
        let rows: Vec<Row> = vec![
            // P1 in C1 (timetabled 09:00–12:00): day 0 present 08:50–12:10, face checks 0.9, 0.3
            (
                "C1",
                "P1",
                D0 + 12 * H + 10 * M,
                "out",
                "face",
                Some(0.3),
                Some("d1"),
                Some(30.0),
            ),
            (
                "C1",
                "P1",
                D0 + 8 * H + 50 * M,
                "in",
                "face",
                Some(0.9),
                Some("d1"),
                Some(30.0),
            ),
            // day 1: a sign-in only (credits nothing, but the day has a sign-in)
            (
                "C1",
                "P1",
                D0 + 86_400_000 + 9 * H,
                "in",
                "card",
                None,
                Some("d1"),
                None,
            ),
            // P2 in C1, day 0: 10:00–11:30 (2 学时), on P1's device
            (
                "C1",
                "P2",
                D0 + 10 * H,
                "in",
                "face",
                Some(0.95),
                Some("d1"),
                Some(30.01),
            ),
            (
                "C1",
                "P2",
                D0 + 11 * H + 30 * M,
                "out",
                "face",
                Some(0.95),
                Some("d2"),
                None,
            ),
            // P1 in C2 (no timetable): 14:00–23:00 is 12 学时, capped at 8
            (
                "C2",
                "P1",
                D0 + 14 * H,
                "in",
                "card",
                None,
                Some("d3"),
                None,
            ),
            (
                "C2",
                "P1",
                D0 + 23 * H,
                "out",
                "card",
                None,
                Some("d3"),
                None,
            ),
        ];
        let s = |f: &dyn Fn(&Row) -> Option<String>, name: &str| {
            Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
        };
        DataFrame::new_infer_height(vec![
            s(&|r| Some(r.0.into()), "class_id"),
            s(&|r| Some(r.1.into()), "person_id"),
            dt("ts", rows.iter().map(|r| Some(r.2)).collect()),
            s(&|r| Some(r.3.into()), "direction"),
            s(&|r| Some(r.4.into()), "method"),
            Column::new(
                "face_score".into(),
                rows.iter().map(|r| r.5).collect::<Vec<_>>(),
            ),
            s(&|r| r.6.map(Into::into), "device_id"),
            Column::new("lat".into(), rows.iter().map(|r| r.7).collect::<Vec<_>>()),
            Column::new(
                "lon".into(),
                rows.iter().map(|r| r.7.map(|_| 120.0)).collect::<Vec<_>>(),
            ),
        ])
        .expect("frame")
    }

    fn classes() -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new("class_id".into(), ["C1", "C2"]),
            Column::new("venue_lat".into(), [Some(30.0), None]),
            Column::new("venue_lon".into(), [Some(120.0), None]),
        ])
        .expect("frame")
    }

    fn sessions() -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new("class_id".into(), ["C1", "C1"]),
            dt(
                "starts_at",
                vec![Some(D0 + 9 * H), Some(D0 + 86_400_000 + 9 * H)],
            ),
            dt(
                "ends_at",
                vec![Some(D0 + 12 * H), Some(D0 + 86_400_000 + 12 * H)],
            ),
        ])
        .expect("frame")
    }

    const SETTINGS: DaySettings = DaySettings {
        face_pass_score: 0.5,
        untimetabled_daily_cap_hours: 8.0,
    };

    fn f64s(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
        df.column(c).expect(c).f64().expect(c).iter().collect()
    }

    fn i64s(df: &DataFrame, c: &str) -> Vec<Option<i64>> {
        df.column(c)
            .expect(c)
            .cast(&DataType::Int64)
            .expect(c)
            .i64()
            .expect(c)
            .iter()
            .collect()
    }

    #[test]
    fn days_enrolments_and_classes_from_one_sort() {
        let r = sign_in_days(&attendance(), &classes(), &sessions(), None, SETTINGS).expect("pass");
        // days, in (class, person, day) order
        let d = &r.days;
        let ids: Vec<String> = (0..d.height())
            .map(|i| {
                format!(
                    "{}/{}",
                    d.column("class_id")
                        .expect("c")
                        .str()
                        .expect("c")
                        .get(i)
                        .expect("c"),
                    d.column("person_id")
                        .expect("p")
                        .str()
                        .expect("p")
                        .get(i)
                        .expect("p")
                )
            })
            .collect();
        assert_eq!(ids, ["C1/P1", "C1/P1", "C1/P2", "C2/P1"]);
        // inside the 09:00–12:00 session only: 3 h = 4 学时; the lone sign-in credits nothing;
        // 90 minutes = 2 学时; the untimetabled 9 h (12 学时) capped at 8
        assert_eq!(
            f64s(d, "credited_h"),
            [Some(4.0), Some(0.0), Some(2.0), Some(8.0)]
        );
        assert_eq!(f64s(d, "span_h")[0], Some((3 * 60 + 20) as f64 / 60.0));
        assert_eq!(f64s(d, "span_h")[1], None);
        assert_eq!(i64s(d, "face_checks"), [Some(2), Some(0), Some(2), Some(0)]);
        assert_eq!(i64s(d, "face_fails"), [Some(1), Some(0), Some(0), Some(0)]);
        let far = f64s(d, "max_distance_m");
        assert_eq!(far[0], Some(0.0));
        assert!((far[2].expect("distance") - 1105.4).abs() < 1e-6, "{far:?}");
        // C2 has no venue
        assert_eq!(far[3], None);
        let from = i64s(d, "present_from");
        assert_eq!(from[0], Some(D0 + 9 * H));
        assert_eq!(from[1], None);
        // per enrolment
        let e = &r.enrolments;
        assert_eq!(e.height(), 3);
        assert_eq!(i64s(e, "days_attended"), [Some(1), Some(1), Some(1)]);
        assert_eq!(f64s(e, "verified_hours"), [Some(4.0), Some(2.0), Some(8.0)]);
        assert_eq!(i64s(e, "face_checks"), [Some(2), Some(2), Some(0)]);
        // C1: one failure in four checks; C2: no checks
        assert_eq!(
            f64s(e, "class_face_fail_share"),
            [Some(0.25), Some(0.25), None]
        );
        // the most any trainee of the class was verified for
        assert_eq!(
            f64s(e, "class_max_verified_hours"),
            [Some(4.0), Some(4.0), Some(8.0)]
        );
        // per class: two trainees signed in on C1's first day, and both were present at 10:00
        assert_eq!(i64s(&r.classes, "max_daily_trainees"), [Some(2), Some(1)]);
        assert_eq!(
            i64s(&r.classes, "max_concurrent_trainees"),
            [Some(2), Some(1)]
        );
    }

    #[test]
    fn two_shifts_a_day_are_never_present_at_once() {
        // morning shift P1..P3 08:00–12:00, afternoon P4..P6 12:00–16:00 (back to back: the
        // timetable merges them into one span); the morning signs out at 12:07 and the afternoon
        // signs in at 11:58. Six sign in that day; six are in the room for 9 minutes only.
        let shift = |i: usize| {
            if i < 3 {
                (D0 + 7 * H + 55 * M, D0 + 12 * H + 7 * M)
            } else {
                (D0 + 11 * H + 58 * M, D0 + 16 * H + 5 * M)
            }
        };
        let frame = |late: bool| {
            let mut class = Vec::new();
            let mut person = Vec::new();
            let mut ts = Vec::new();
            let mut dir = Vec::new();
            for (i, p) in ["P1", "P2", "P3", "P4", "P5", "P6"].iter().enumerate() {
                let (a, b) = shift(i);
                // `late`: the morning stays until 12:40, a crowd of six for 40 minutes
                let b = if late && i < 3 {
                    D0 + 12 * H + 40 * M
                } else {
                    b
                };
                for (t, d) in [(a, "in"), (b, "out")] {
                    class.push("C3");
                    person.push(*p);
                    ts.push(Some(t));
                    dir.push(d);
                }
            }
            let n = class.len();
            DataFrame::new_infer_height(vec![
                Column::new("class_id".into(), class),
                Column::new("person_id".into(), person),
                dt("ts", ts),
                Column::new("direction".into(), dir),
                Column::new("method".into(), vec!["card"; n]),
                Column::new("face_score".into(), vec![None::<f64>; n]),
                Column::new("device_id".into(), vec![None::<&str>; n]),
                Column::new("lat".into(), vec![None::<f64>; n]),
                Column::new("lon".into(), vec![None::<f64>; n]),
            ])
            .expect("frame")
        };
        let cls = DataFrame::new_infer_height(vec![
            Column::new("class_id".into(), ["C3"]),
            Column::new("venue_lat".into(), [None::<f64>]),
            Column::new("venue_lon".into(), [None::<f64>]),
        ])
        .expect("frame");
        let shifts = DataFrame::new_infer_height(vec![
            Column::new("class_id".into(), ["C3", "C3"]),
            dt("starts_at", vec![Some(D0 + 8 * H), Some(D0 + 12 * H)]),
            dt("ends_at", vec![Some(D0 + 12 * H), Some(D0 + 16 * H)]),
        ])
        .expect("frame");
        let most = |att: &DataFrame, s: &DataFrame| {
            let r = sign_in_days(att, &cls, s, None, SETTINGS).expect("pass");
            (
                i64s(&r.classes, "max_daily_trainees"),
                i64s(&r.classes, "max_concurrent_trainees"),
            )
        };
        assert_eq!(most(&frame(false), &shifts), (vec![Some(6)], vec![Some(3)]));
        assert_eq!(
            most(&frame(false), &shifts.clear()),
            (vec![Some(6)], vec![Some(3)])
        );
        // a crowd that stays: six for 40 minutes
        assert_eq!(most(&frame(true), &shifts), (vec![Some(6)], vec![Some(6)]));
    }

    #[test]
    fn days_for_keeps_those_persons_days_and_every_total() {
        let keep: PlHashSet<&str> = ["P2"].into_iter().collect();
        let r = sign_in_days(
            &attendance(),
            &classes(),
            &sessions(),
            Some(&keep),
            SETTINGS,
        )
        .expect("pass");
        assert_eq!(r.days.height(), 1);
        assert_eq!(r.enrolments.height(), 3);
    }

    #[test]
    fn an_empty_table_gives_empty_frames() {
        let att = attendance().slice(0, 0);
        let r = sign_in_days(&att, &classes(), &sessions(), None, SETTINGS).expect("pass");
        assert_eq!(
            (r.days.height(), r.enrolments.height(), r.classes.height()),
            (0, 0, 0)
        );
        assert!(r.days.column("credited_h").is_ok());
    }

    #[test]
    fn shared_devices_are_those_of_two_trainees_sign_ins() {
        let m = on_shared_devices(&attendance()).expect("mask");
        // d1 signed in P1 and P2: its sign-ins (not P2's sign-out on d2, not P1's sign-out)
        let v: Vec<bool> = m.iter().map(|b| b == Some(true)).collect();
        assert_eq!(v, [false, true, true, true, false, false, false]);
        // the one pass marks the same rows, from person ranks and device hashes
        let pass = sign_in_days(&attendance(), &classes(), &sessions(), None, SETTINGS)
            .expect("pass")
            .shared_devices;
        assert!(pass.equal_missing(&m).all(), "{pass:?} against {m:?}");
    }
}
