//! The one table the bench ends with.

use crate::cpu::Run;
use crate::latency::Latency;

/// One comparison: the pipeline's run beside its baseline's.
pub(crate) struct Row {
    what: String,
    ours: Run,
    baseline: String,
    theirs: Run,
}

impl Row {
    pub(crate) fn new(what: &str, ours: Run, baseline: &str, theirs: Run) -> Row {
        Row { what: what.to_owned(), ours, baseline: baseline.to_owned(), theirs }
    }
}

fn cpu(run: &Run) -> String {
    if run.cpu.is_zero() { "—".to_owned() } else { format!("{:.2}", run.cpu_us()) }
}

/// Prints `rows` as a Markdown table (README's Performance section is a copy).
pub(crate) fn print(rows: &[Row]) {
    println!(
        "| pipeline | events | events/s | own CPU µs/event | baseline | events/s | CPU µs/event | ratio |"
    );
    println!("|---|---:|---:|---:|---|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.0} | {} | {} | {:.0} | {} | {:.2} |",
            r.what,
            r.ours.events,
            r.ours.rate(),
            cpu(&r.ours),
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
