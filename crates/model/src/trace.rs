//! Developer tracing: with `SUBSIDY_TRACE` set, stages print how long they took and the
//! process's resident memory to stderr. Off by default; never part of any output file.
//!
//! Profiling (`scan --profile`): [`begin`] … [`Timer::end`] spans (stages, views, rules) record
//! their wall time and the peak resident memory inside them. Each span resets the kernel's
//! high-water mark (`/proc/self/clear_refs`, Linux) when it begins, after handing the mark so
//! far to the spans that enclose it, so a rule's peak is its own and a stage's still covers its
//! rules. Off unless [`start_profile`] was called; a span then costs two reads of
//! `/proc/self/status`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// Whether `SUBSIDY_TRACE` is set (read once).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SUBSIDY_TRACE").is_some())
}

/// Prints `trace: {what} in {elapsed since t} (rss {MiB})` when tracing is on.
pub fn lap(what: &str, t: Instant) {
    if enabled() {
        eprintln!(
            "trace: {what} in {:?} (rss {} MiB)",
            t.elapsed(),
            rss_mib().unwrap_or(0)
        );
    }
}

/// The resident set of this process in MiB (Linux; `None` elsewhere).
pub fn rss_mib() -> Option<u64> {
    status_kib("VmRSS:").map(|k| k / 1024)
}

/// The peak resident set of this process in MiB (Linux; `None` elsewhere).
pub fn peak_rss_mib() -> Option<u64> {
    status_kib("VmHWM:").map(|k| k / 1024)
}

/// One profiled span.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    /// what it is: `stage`, `view`, `rule`
    pub kind: &'static str,
    /// its name (a stage, a view, a rule id)
    pub name: String,
    /// wall time in milliseconds
    pub wall_ms: u64,
    /// the process's peak resident memory inside the span, MiB (0 where it cannot be read)
    pub peak_mib: u64,
    /// how many spans enclosed it
    pub depth: usize,
    #[serde(skip)]
    seq: usize,
}

struct Profile {
    /// the peak (KiB) seen so far by each open span, innermost last
    open: Vec<u64>,
    spans: Vec<Span>,
    next: usize,
}

static PROFILING: AtomicBool = AtomicBool::new(false);
static PROFILE: Mutex<Profile> = Mutex::new(Profile {
    open: Vec::new(),
    spans: Vec::new(),
    next: 0,
});

/// Turns profiling on for the rest of the process.
pub fn start_profile() {
    PROFILING.store(true, Ordering::Relaxed);
}

/// Whether [`start_profile`] was called.
pub fn profiling() -> bool {
    PROFILING.load(Ordering::Relaxed)
}

/// The spans recorded so far, in the order they began (and forgets them).
pub fn take_profile() -> Vec<Span> {
    let mut p = PROFILE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut spans = std::mem::take(&mut p.spans);
    spans.sort_by_key(|s| s.seq);
    spans
}

fn high_water_kib() -> u64 {
    status_kib("VmHWM:").unwrap_or(0)
}

fn reset_high_water() {
    // "5" resets the peak resident set to the current one (Linux 4.0+); elsewhere a no-op
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A span being measured: ends with [`Timer::end`] or [`Timer::next`].
#[must_use = "a span is recorded when it ends"]
pub struct Timer {
    kind: &'static str,
    name: String,
    t: Instant,
    seq: Option<usize>,
}

/// Begins a span of `kind` named `name` (nothing is recorded unless profiling is on).
pub fn begin(kind: &'static str, name: impl Into<String>) -> Timer {
    let seq = profiling().then(|| {
        let mut p = PROFILE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let h = high_water_kib();
        p.open.iter_mut().for_each(|x| *x = (*x).max(h));
        reset_high_water();
        p.open.push(0);
        p.next += 1;
        p.next - 1
    });
    Timer {
        kind,
        name: name.into(),
        t: Instant::now(),
        seq,
    }
}

impl Timer {
    /// Ends the span and records it.
    pub fn end(self) {
        drop(self);
    }
    /// Ends this span and begins the next of the same kind.
    pub fn next(self, name: impl Into<String>) -> Timer {
        let kind = self.kind;
        drop(self);
        begin(kind, name)
    }
    /// Ends the span under `name` (a span named once its work is known) and records it.
    pub fn end_as(mut self, name: impl Into<String>) {
        self.name = name.into();
        drop(self);
    }
    /// Ends this span under `name`, as in a list of laps, and begins the next, unnamed: an
    /// unnamed span that ends is forgotten.
    pub fn lap(self, name: impl Into<String>) -> Timer {
        let kind = self.kind;
        self.end_as(name);
        begin(kind, String::new())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let Some(seq) = self.seq else { return };
        let wall_ms = self.t.elapsed().as_millis() as u64;
        let mut p = PROFILE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let peak = p.open.pop().unwrap_or(0).max(high_water_kib());
        if let Some(parent) = p.open.last_mut() {
            *parent = (*parent).max(peak);
        }
        if self.name.is_empty() {
            return;
        }
        let depth = p.open.len();
        p.spans.push(Span {
            kind: self.kind,
            name: std::mem::take(&mut self.name),
            wall_ms,
            peak_mib: peak / 1024,
            depth,
            seq,
        });
    }
}

/// The profile as a table for a terminal: one line per span, indented by depth.
pub fn profile_table(spans: &[Span]) -> String {
    let width = spans
        .iter()
        .map(|s| s.kind.len() + 1 + s.name.chars().count() + 2 * s.depth)
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "{:<width$}  {:>10}  {:>9}\n",
        "span", "wall (s)", "peak MiB"
    );
    for s in spans {
        let label = format!("{}{} {}", "  ".repeat(s.depth), s.kind, s.name);
        let pad = width.saturating_sub(label.chars().count());
        out.push_str(&format!(
            "{label}{}  {:>10.3}  {:>9}\n",
            " ".repeat(pad),
            s.wall_ms as f64 / 1000.0,
            s.peak_mib
        ));
    }
    out
}

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_nest_and_a_parent_keeps_its_childrens_peak() {
        start_profile();
        let outer = begin("stage", "outer");
        let inner = begin("rule", "inner");
        // touch 64 MiB inside the inner span, then free it
        let mut v = vec![0u8; 64 << 20];
        for i in (0..v.len()).step_by(4096) {
            v[i] = 1;
        }
        assert_eq!(v.iter().step_by(4096).count(), 16384);
        drop(v);
        let inner = inner.next("after");
        inner.end();
        outer.end();
        let spans = take_profile();
        let names: Vec<(&str, &str, usize)> = spans
            .iter()
            .map(|s| (s.kind, s.name.as_str(), s.depth))
            .collect();
        assert_eq!(
            names,
            [
                ("stage", "outer", 0),
                ("rule", "inner", 1),
                ("rule", "after", 1)
            ]
        );
        if cfg!(target_os = "linux") {
            let (outer, inner, after) = (&spans[0], &spans[1], &spans[2]);
            assert!(inner.peak_mib >= 64, "{inner:?}");
            assert!(outer.peak_mib >= inner.peak_mib, "{outer:?}");
            // the high-water mark was reset when `after` began (where the kernel allows it)
            assert!(after.peak_mib <= inner.peak_mib, "{after:?}");
        }
        let table = profile_table(&spans);
        assert!(table.contains("  rule inner"), "{table}");
    }

    #[test]
    fn memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let now = rss_mib().expect("VmRSS");
            let peak = peak_rss_mib().expect("VmHWM");
            assert!(peak >= now);
        }
    }
}
