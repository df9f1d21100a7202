//! Developer tracing: with `SUBSIDY_TRACE` set, stages print how long they took and the
//! process's resident memory to stderr. Off by default; never part of any output file.

use std::sync::OnceLock;
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

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let now = rss_mib().expect("VmRSS");
            let peak = peak_rss_mib().expect("VmHWM");
            assert!(peak >= now);
        }
    }
}
