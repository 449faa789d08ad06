//! The standard Prometheus process metrics, read from `/proc` at scrape time.
//!
//! Same names, types and meanings as the official clients' process
//! collectors, so stock dashboards and the crash-loop alert
//! (`changes(process_start_time_seconds[15m])`) work unchanged:
//!
//! | name | type | source |
//! |---|---|---|
//! | `process_start_time_seconds` | gauge | `/proc/stat` btime + `/proc/self/stat` starttime |
//! | `process_cpu_seconds_total` | counter | utime + stime |
//! | `process_resident_memory_bytes` | gauge | rss × page size |
//! | `process_virtual_memory_bytes` | gauge | vsize |
//! | `process_open_fds` | gauge | entries of `/proc/self/fd` |
//! | `process_max_fds` | gauge | soft `Max open files` limit |
//! | `process_threads` | gauge | num_threads |
//!
//! Rendered directly in the exposition format rather than through the
//! `metrics` recorder: its counters are integers, and CPU seconds are not.
//! That is also why this is not the `metrics-process` crate, which records
//! through that recorder (`process_cpu_seconds_total` would lose its
//! fractions of a second).
//! On systems without `/proc` nothing is rendered.

use std::fmt::Write as _;

/// One sample of the process's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessSample {
    /// Unix time the process started, in seconds.
    pub start_time_seconds: f64,
    /// User + system CPU time, in seconds.
    pub cpu_seconds: f64,
    /// Resident set size, in bytes.
    pub resident_memory_bytes: f64,
    /// Virtual memory size, in bytes.
    pub virtual_memory_bytes: f64,
    /// Threads of the process.
    pub threads: f64,
}

impl ProcessSample {
    /// Parses `/proc/self/stat` given the boot time (`btime` of `/proc/stat`),
    /// clock ticks per second and the page size.
    pub fn parse(stat: &str, boot_time: f64, ticks: f64, page_size: f64) -> Option<ProcessSample> {
        // The command name (field 2) is in parentheses and may itself hold
        // spaces or parentheses: split after the last ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // fields[0] is field 3 (state), so field n is fields[n - 3].
        let field = |n: usize| -> Option<f64> { fields.get(n - 3)?.parse::<f64>().ok() };
        let (utime, stime) = (field(14)?, field(15)?);
        Some(ProcessSample {
            start_time_seconds: boot_time + field(22)? / ticks,
            cpu_seconds: (utime + stime) / ticks,
            threads: field(20)?,
            virtual_memory_bytes: field(23)?,
            resident_memory_bytes: field(24)? * page_size,
        })
    }
}

/// `btime` of `/proc/stat`: the boot time, in Unix seconds.
fn boot_time(proc_stat: &str) -> Option<f64> {
    proc_stat.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

/// The soft `Max open files` limit of `/proc/self/limits`.
fn max_fds(limits: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(target_os = "linux")]
fn sample() -> Option<(ProcessSample, Option<f64>, Option<f64>)> {
    use std::sync::OnceLock;
    static BOOT_TIME: OnceLock<Option<f64>> = OnceLock::new();
    let boot = (*BOOT_TIME.get_or_init(|| boot_time(&std::fs::read_to_string("/proc/stat").ok()?)))?;
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let page = rustix::param::page_size() as f64;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let sample = ProcessSample::parse(&stat, boot, ticks, page)?;
    let open_fds = std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as f64);
    let max_fds = std::fs::read_to_string("/proc/self/limits").ok().and_then(|l| max_fds(&l));
    Some((sample, open_fds, max_fds))
}

#[cfg(not(target_os = "linux"))]
fn sample() -> Option<(ProcessSample, Option<f64>, Option<f64>)> {
    None
}

/// Appends the process metrics, in the Prometheus text format, to `out`.
pub(super) fn render(out: &mut String) {
    let Some((s, open_fds, max_fds)) = sample() else { return };
    let mut metric = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        if let Some(v) = value {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n\n");
        }
    };
    metric(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        Some(s.start_time_seconds),
    );
    metric(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        Some(s.cpu_seconds),
    );
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        Some(s.resident_memory_bytes),
    );
    metric(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        Some(s.virtual_memory_bytes),
    );
    metric("process_open_fds", "gauge", "Number of open file descriptors.", open_fds);
    metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", max_fds);
    metric("process_threads", "gauge", "Number of OS threads in the process.", Some(s.threads));
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real line, with a command name holding a space and a parenthesis.
    const STAT: &str = "4242 (porttrack (x) y) S 1 4242 4242 0 -1 4194560 5000 0 0 0 \
        250 130 0 0 20 0 9 0 123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn parses_proc_self_stat() {
        let s = ProcessSample::parse(STAT, 1_700_000_000.0, 100.0, 4096.0).unwrap();
        assert_eq!(s.cpu_seconds, 3.8);
        assert_eq!(s.threads, 9.0);
        assert_eq!(s.start_time_seconds, 1_700_000_000.0 + 1234.56);
        assert_eq!(s.virtual_memory_bytes, 987_654_321.0);
        assert_eq!(s.resident_memory_bytes, 2048.0 * 4096.0);
        assert_eq!(ProcessSample::parse("garbage", 0.0, 100.0, 4096.0), None);
    }

    #[test]
    fn parses_boot_time_and_limits() {
        assert_eq!(boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"), Some(1_700_000_000.0));
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(max_fds(limits), Some(1024.0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn renders_this_process() {
        let mut out = String::new();
        render(&mut out);
        for name in [
            "process_start_time_seconds",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
        ] {
            let line = out.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| {
                panic!("{name} missing from:\n{out}");
            });
            let value: f64 = line[name.len() + 1..].parse().unwrap();
            assert!(value > 0.0 || name == "process_cpu_seconds_total", "{line}");
        }
        assert!(out.contains("# TYPE process_cpu_seconds_total counter"));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        let start: f64 = out
            .lines()
            .find_map(|l| l.strip_prefix("process_start_time_seconds "))
            .and_then(|v| v.parse().ok())
            .unwrap();
        assert!(start <= now + 1.0 && start > now - 86_400.0 * 30.0, "started at {start}, now {now}");
    }
}
