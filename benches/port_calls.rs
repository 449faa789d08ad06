//! Port calls scored, the full report: precision and recall of the port
//! processor's calls against the simulator's ground truth, and the median
//! and p90 error of every phase time and of waiting and service times, for
//! 1,000 simulated visits with realistic AIS noise; then precision and recall
//! with each kind of noise alone, so a regression points at its cause.
//!
//! `cargo bench --bench port_calls` (or `-- --quick` for the realistic run
//! only; `PORTTRACK_BENCH_CALLS` sizes it, default 1,000, smaller in CI's
//! smoke run). What is matched and how, and what each figure means:
//! `porttrack::sim::score`. The floors are asserted by `tests/port_calls.rs`.
#![allow(clippy::unwrap_used, missing_docs)]

use porttrack::sim::Noise;
use porttrack::sim::score::{self, ScoreOptions};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let calls = std::env::var("PORTTRACK_BENCH_CALLS").ok().and_then(|v| v.parse().ok());
    let sized = |o: ScoreOptions| ScoreOptions { calls: calls.unwrap_or(o.calls), ..o };
    let realistic = score::run(&sized(ScoreOptions::default()));
    println!("## Realistic noise (seed {})\n", ScoreOptions::default().seed);
    println!("{realistic}");
    if std::env::args().any(|a| a == "--examples") {
        for e in &realistic.examples {
            println!("{e}");
        }
    }
    if quick {
        return;
    }
    let off = Noise::none();
    let alone: [(&str, Noise); 9] = [
        ("none", off.clone()),
        ("dropouts 5%", Noise { dropout: 0.05, ..off.clone() }),
        ("dark spells", Noise { dark_per_hour: 0.02, ..off.clone() }),
        ("GPS jumps", Noise { gps_jump: 0.0005, ..off.clone() }),
        (
            "interval jitter ±30%, 20% class B",
            Noise { interval_jitter: 0.3, class_b: Some(0.2), ..off.clone() },
        ),
        ("anchoring outside anchorages 15%", Noise { anchor_outside: 0.15, ..off.clone() }),
        ("berth shifts 10%", Noise { berth_shift: 0.10, ..off.clone() }),
        ("aborted approaches 5%", Noise { aborted_approach: 0.05, ..off.clone() }),
        ("all of the above", Noise::realistic()),
    ];
    println!("## Each kind of noise alone\n");
    println!(
        "| noise | scored | precision | recall | FP aborted/split/spurious | arrival p90 | berthing p90 | unberthing p90 | departure p90 | service time p90 |"
    );
    println!("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|");
    for (name, noise) in alone {
        let card = score::run(&sized(ScoreOptions { noise, ..ScoreOptions::default() }));
        let p90 = |phase: &str| card.phase(phase).map_or(0, |p| p.p90_s);
        let fp = card.false_positives;
        println!(
            "| {name} | {} | {:.4} | {:.4} | {}/{}/{} | {} s | {} s | {} s | {} s | {} s |",
            card.scored,
            card.precision(),
            card.recall(),
            fp.aborted,
            fp.split,
            fp.spurious,
            p90("arrival"),
            p90("berthing"),
            p90("unberthing"),
            p90("departure"),
            p90("service time"),
        );
    }
}
