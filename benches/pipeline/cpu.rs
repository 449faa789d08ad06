//! CPU time and memory of this process, for "own CPU per event" and the
//! heap and RSS figures.
//!
//! Everything the bench measures runs in this process one at a time (a
//! baseline, then the pipeline), so the process's user + system time between
//! two readings is what the measured side spent: its own threads, librdkafka's
//! threads and the runtime's. Read from `/proc/self/stat` (clock ticks,
//! usually 10 ms; runs last seconds, so the error stays below a percent).

use std::time::Duration;

/// User + system CPU time this process has used so far.
pub(crate) fn used() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields after its closing one. utime and stime are fields 14
    // and 15, so the 12th and 13th after the name.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    let per_second = rustix::param::clock_ticks_per_second();
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}

/// Resident set size of this process, in bytes (`VmRSS`).
pub(crate) fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Bytes of heap this process holds (jemalloc's `stats.allocated`, which
/// counts librdkafka's allocations too: [`porttrack::alloc`]).
pub(crate) fn heap() -> u64 {
    porttrack::alloc::heap().expect("jemalloc's statistics (Linux)").allocated
}

/// A measured run: how many events, how long from the first one to the
/// last one done, and the CPU this process spent meanwhile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) events: u64,
    pub(crate) elapsed: Duration,
    pub(crate) cpu: Duration,
    /// The most heap the run held above what the process held before it,
    /// bytes (jemalloc's count, librdkafka's included; pipeline runs only).
    pub(crate) peak_heap: Option<u64>,
}

impl Run {
    pub(crate) fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU per event, in microseconds (`None` for runs in another process).
    pub(crate) fn cpu_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.events as f64
    }
}

/// The run with the median rate of `runs` (CPU goes with it).
pub(crate) fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    runs[runs.len() / 2]
}
