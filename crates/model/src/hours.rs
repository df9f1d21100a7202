//! Credited 学时, by the convention of DATA_CONTRACT.md ("Conventions the rules rely on"):
//!
//! - 1 学时 = 45 minutes of teaching; `planned_hours` and `standard_hours` are 学时.
//! - Presence runs from a sign-in to the next sign-out. A repeated sign-in while present, or a
//!   sign-out while absent, changes nothing; a sign-in never followed by a sign-out that day
//!   credits nothing.
//! - A class with `sessions` rows (a timetable): a day's credited 学时 are the minutes of presence
//!   that fall inside that day's sessions, over 45. Signing in early or out late adds nothing, and
//!   a day with no session credits nothing. Several sessions a day (morning and afternoon, each
//!   with its own sign-in and sign-out) are summed. Overlapping session rows are merged first, so
//!   a duplicated timetable row is not counted twice.
//! - A class with no `sessions` rows: the span from the day's first sign-in to its last sign-out,
//!   over 45, capped at the pack's `untimetabled_daily_cap_hours`.
//!
//! Each day also gets its presence envelope (`present_from`, `present_until`): the first and last
//! moment of credited presence (inside sessions where the class has them), which the overlap
//! checks compare, so a late sign-out in one class does not collide with the next class.

use foldhash::HashMap;

use polars::prelude::*;

/// Milliseconds in one 学时.
pub const MS_PER_XUESHI: f64 = 45.0 * 60_000.0;
const MS_PER_DAY: i64 = 86_400_000;

/// The timetable: merged sessions per (class, day), in milliseconds of the CST wall clock.
#[derive(Debug, Default)]
pub struct Timetable {
    by_day: HashMap<String, HashMap<i32, Vec<(i64, i64)>>>,
}

impl Timetable {
    /// From the canonical `sessions` frame (class_id, starts_at, ends_at as `Datetime(ms)`).
    /// Sessions with no class, no times, or an end not after the start are ignored.
    pub fn from_sessions(sessions: &DataFrame) -> PolarsResult<Self> {
        let class = sessions.column("class_id")?.str()?.clone();
        let start = ms_column(sessions, "starts_at")?;
        let end = ms_column(sessions, "ends_at")?;
        let mut t = Timetable::default();
        for ((c, s), e) in class.iter().zip(start).zip(end) {
            let (Some(c), Some(s), Some(e)) = (c, s, e) else {
                continue;
            };
            if e <= s {
                continue;
            }
            // a session crossing midnight is split at it
            let mut a = s;
            while a < e {
                let day = a.div_euclid(MS_PER_DAY);
                let b = e.min((day + 1) * MS_PER_DAY);
                t.by_day
                    .entry(c.to_string())
                    .or_default()
                    .entry(day as i32)
                    .or_default()
                    .push((a, b));
                a = b;
            }
        }
        for v in t.by_day.values_mut().flat_map(HashMap::values_mut) {
            v.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::with_capacity(v.len());
            for &(s, e) in v.iter() {
                match merged.last_mut() {
                    Some(last) if s <= last.1 => last.1 = last.1.max(e),
                    _ => merged.push((s, e)),
                }
            }
            *v = merged;
        }
        Ok(t)
    }

    /// Whether the class has a timetable at all.
    pub fn has(&self, class: &str) -> bool {
        self.by_day.contains_key(class)
    }

    /// A class's merged sessions on one day (no allocation: this runs once per trainee-day).
    pub(crate) fn day(&self, class: &str, day: i32) -> &[(i64, i64)] {
        self.by_day
            .get(class)
            .and_then(|d| d.get(&day))
            .map_or(&[], Vec::as_slice)
    }
}

/// One day's credit.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DayCredit {
    /// credited 学时 (`ms` over 45 minutes)
    pub hours: f64,
    /// credited milliseconds, exact: sums of them divide into 学时 without rounding drift
    pub ms: i64,
    /// first moment of credited presence (ms)
    pub from: Option<i64>,
    /// last moment of credited presence (ms)
    pub until: Option<i64>,
}

/// Presence intervals from one day's events `(ts, is_sign_in)`, sorted by time (a sign-out
/// before a sign-in at the same instant).
pub fn presence(events: &[(i64, bool)]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut since: Option<i64> = None;
    for &(t, is_in) in events {
        match (is_in, since) {
            (true, None) => since = Some(t),
            (false, Some(s)) => {
                if t > s {
                    out.push((s, t));
                }
                since = None;
            }
            _ => {}
        }
    }
    out
}

/// The credit of one (class, person, day) from its sorted events.
pub fn credit(
    events: &[(i64, bool)],
    sessions: Option<&[(i64, i64)]>,
    cap_hours: f64,
) -> DayCredit {
    match sessions {
        Some(sessions) => {
            let mut ms = 0i64;
            let (mut from, mut until) = (None::<i64>, None::<i64>);
            for (a, b) in presence(events) {
                for &(s, e) in sessions {
                    let (lo, hi) = (a.max(s), b.min(e));
                    if hi > lo {
                        ms += hi - lo;
                        from = Some(from.map_or(lo, |f| f.min(lo)));
                        until = Some(until.map_or(hi, |u| u.max(hi)));
                    }
                }
            }
            DayCredit {
                hours: ms as f64 / MS_PER_XUESHI,
                ms,
                from,
                until,
            }
        }
        None => {
            let first_in = events.iter().filter(|e| e.1).map(|e| e.0).min();
            let last_out = events.iter().filter(|e| !e.1).map(|e| e.0).max();
            match (first_in, last_out) {
                (Some(a), Some(b)) if b > a => {
                    let ms = (b - a).min((cap_hours * MS_PER_XUESHI).round() as i64);
                    DayCredit {
                        hours: ms as f64 / MS_PER_XUESHI,
                        ms,
                        from: Some(a),
                        until: Some(b),
                    }
                }
                _ => DayCredit::default(),
            }
        }
    }
}

fn ms_column(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<i64>>> {
    let s = df
        .column(c)?
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?;
    Ok(s.as_materialized_series()
        .to_physical_repr()
        .i64()?
        .iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const M: i64 = 60_000;

    #[test]
    fn early_sign_in_and_late_sign_out_add_nothing() {
        // session 09:00–14:15 (7 学时); present 08:40–15:30
        let s = [(9 * H, 14 * H + 15 * M)];
        let c = credit(
            &[(8 * H + 40 * M, true), (15 * H + 30 * M, false)],
            Some(&s),
            8.0,
        );
        assert!((c.hours - 7.0).abs() < 1e-9, "{}", c.hours);
        assert_eq!((c.from, c.until), (Some(9 * H), Some(14 * H + 15 * M)));
    }

    #[test]
    fn two_sessions_each_with_own_sign_in_and_out() {
        // 08:30–11:30 and 13:30–16:30: 6 h = 8 学时
        let s = [
            (8 * H + 30 * M, 11 * H + 30 * M),
            (13 * H + 30 * M, 16 * H + 30 * M),
        ];
        let ev = [
            (8 * H + 25 * M, true),
            (11 * H + 35 * M, false),
            (13 * H + 20 * M, true),
            (16 * H + 40 * M, false),
        ];
        assert!((credit(&ev, Some(&s), 8.0).hours - 8.0).abs() < 1e-9);
        // the morning only: 4 学时
        assert!((credit(&ev[..2], Some(&s), 8.0).hours - 4.0).abs() < 1e-9);
    }

    #[test]
    fn repeated_sign_ins_and_unmatched_events() {
        // in, in, out: one interval from the first in; a trailing in credits nothing
        let ev = [
            (9 * H, true),
            (10 * H, true),
            (12 * H, false),
            (13 * H, true),
        ];
        assert_eq!(presence(&ev), vec![(9 * H, 12 * H)]);
        // out with nobody present
        assert!(presence(&[(9 * H, false)]).is_empty());
    }

    #[test]
    fn a_day_without_a_session_credits_nothing() {
        let c = credit(&[(9 * H, true), (17 * H, false)], Some(&[]), 8.0);
        assert_eq!(c, DayCredit::default());
    }

    #[test]
    fn no_timetable_uses_the_span_capped() {
        // 08:00–18:30 is 14 学时 of span, capped at 8
        let c = credit(&[(8 * H, true), (18 * H + 30 * M, false)], None, 8.0);
        assert!((c.hours - 8.0).abs() < 1e-9);
        // 09:00–13:30: 6 学时
        let c = credit(&[(9 * H, true), (13 * H + 30 * M, false)], None, 8.0);
        assert!((c.hours - 6.0).abs() < 1e-9);
    }

    #[test]
    fn overlapping_session_rows_are_merged() {
        let df = df! {
            "class_id" => ["c", "c", "c"],
            "starts_at" => [9 * H, 9 * H, 13 * H],
            "ends_at" => [12 * H, 12 * H, 16 * H],
        }
        .expect("frame")
        .lazy()
        .with_columns([
            col("starts_at").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
            col("ends_at").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
        ])
        .collect()
        .expect("frame");
        let t = Timetable::from_sessions(&df).expect("timetable");
        assert_eq!(t.day("c", 0), &[(9 * H, 12 * H), (13 * H, 16 * H)]);
        assert!(t.has("c") && !t.has("d"));
    }
}
