//! The one table the bench ends with.

use crate::cpu::Run;

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
