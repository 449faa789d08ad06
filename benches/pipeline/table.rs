//! The one table the bench ends with.

use crate::cpu::Run;
use crate::latency::Latency;
use crate::soak::Soak;

/// One comparison: the pipeline's run beside its baseline's.
pub(crate) struct Row {
    what: String,
    ours: Run,
    baseline: String,
    theirs: Run,
}

impl Row {
    pub(crate) fn what(&self) -> &str {
        &self.what
    }

    pub(crate) fn rate(&self) -> f64 {
        self.ours.rate()
    }

    pub(crate) fn new(what: &str, ours: Run, baseline: &str, theirs: Run) -> Row {
        Row { what: what.to_owned(), ours, baseline: baseline.to_owned(), theirs }
    }
}

fn heap(run: &Run) -> String {
    run.peak_heap.map_or_else(|| "—".to_owned(), |b| format!("{:.1}", b as f64 / 1e6))
}

fn cpu(run: &Run) -> String {
    if run.cpu.is_zero() { "—".to_owned() } else { format!("{:.2}", run.cpu_us()) }
}

/// Prints `rows` as a Markdown table (README's Performance section is a copy).
pub(crate) fn print(rows: &[Row]) {
    println!(
        "| pipeline | events | events/s | own CPU µs/event | peak heap MB | baseline | events/s | CPU µs/event | ratio |"
    );
    println!("|---|---:|---:|---:|---:|---|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {:.0} | {} | {:.2} |",
            r.what,
            r.ours.events,
            r.ours.rate(),
            cpu(&r.ours),
            heap(&r.ours),
            r.baseline,
            r.theirs.rate(),
            cpu(&r.theirs),
            r.ours.rate() / r.theirs.rate(),
        );
    }
}

/// Prints the latency run: the pipeline's quantiles beside the broker's.
pub(crate) fn print_latency(l: &Latency) {
    let verdict =
        if l.pipeline[1] <= 1.0 && l.sustained >= l.target_rate as f64 * 0.95 { "met" } else { "NOT met" };
    println!(
        "latency at {:.0} records/s sustained (asked {}), {} records after warm-up; p99 ≤ 1 s: {verdict}",
        l.sustained, l.target_rate, l.records
    );
    println!("| quantile | record → Postgres (bucket bound) | broker alone (plain consumer) |");
    println!("|---|---:|---:|");
    for (i, q) in ["p50", "p99", "p99.9"].iter().enumerate() {
        println!("| {q} | ≤ {:.3} s | {:.3} s |", l.pipeline[i], l.broker[i]);
    }
}

/// Prints the soak: memory over the steady part and through the outage.
pub(crate) fn print_soak(s: &Soak) {
    println!(
        "soak: {} records at {}/s for {} s into Postgres, cut for {} s at half-time; all committed",
        s.records, s.rate, s.seconds, s.outage_seconds
    );
    println!("| | steady start | steady end | slope | peak through the outage | at the end |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, m) in [("RSS", &s.rss), ("heap held", &s.heap)] {
        println!(
            "| {name} | {:.1} MB | {:.1} MB | {:+.1} MB/h | {:.1} MB | {:.1} MB |",
            m.steady.0, m.steady.1, m.slope_per_hour, m.outage_peak, m.end
        );
    }
    for (name, m) in
        [("records not yet committed", &s.behind), ("of those consumed (batches in flight)", &s.in_flight)]
    {
        println!(
            "| {name} | {:.0} | {:.0} | {:+.0}/h | {:.0} | {:.0} |",
            m.steady.0, m.steady.1, m.slope_per_hour, m.outage_peak, m.end
        );
    }
    println!("longest commit pause: {:.1} s", s.longest_commit_pause);
}
