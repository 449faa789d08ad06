//! Port calls scored: 1,000 simulated visits with realistic AIS noise run
//! through the real port processor, its calls matched one-to-one to the
//! simulator's ground truth (`porttrack::sim::score` documents the matching
//! and every figure). Deterministic: a fixed seed and start.
//!
//! The floors: precision and recall of detected calls ≥ 0.98. The error
//! bounds follow from how often a vessel reports (ITU-R M.1371 intervals,
//! ±30% jitter, 5% of reports lost):
//!
//! * arrival and departure are dated at the first fix across the port
//!   limits: under way a class A ship reports every 10 s and a class B every
//!   30 s, so the median error is a fraction of that (≤ 30 s); the p90 must
//!   stay within two minutes (a few lost class B reports).
//! * anchoring, berthing, wait end and unberthing happen between two fixes
//!   and are dated by the distance run between them at the moving fix's
//!   speed: what is left is speed rounding and jitter, so the same bounds
//!   hold although a stopped ship reports only every 3 minutes (dated at
//!   the next report instead, the wait end and unberthing medians were 93 s
//!   and 87 s).
//! * waiting and service times add both ends' errors: median ≤ 60 s, p90
//!   ≤ 3 min (one stopped reporting interval).
//!
//! A dark spell over a phase change can still delay it by up to the spell's
//! length (two hours): those calls are the tail beyond the p90 (the maxima
//! in the table).
//!
//! Slow in a debug build (3.6 million events, a few minutes);
//! `cargo test --release --test port_calls` takes seconds.
//! `cargo test --test port_calls -- --nocapture` prints the table (as does
//! `cargo bench --bench port_calls`).
#![allow(clippy::unwrap_used)]

use porttrack::sim::score::{self, ScoreOptions};

#[test]
fn port_calls_scored_against_ground_truth_meet_the_floors() {
    let card = score::run(&ScoreOptions::default());
    println!("{card}");
    for e in &card.examples {
        println!("{e}");
    }
    assert!(card.scored >= 1_000, "{}", card.scored);
    assert!(card.aborted > 0, "the run includes aborted approaches");
    assert!(card.noisy.0 > 0 && card.noisy.1 > 0 && card.noisy.2 > 0 && card.noisy.3 > 0, "{:?}", card.noisy);
    assert!(card.precision() >= 0.98, "precision {:.4}", card.precision());
    assert!(card.recall() >= 0.98, "recall {:.4}", card.recall());
    let bounds = [
        ("arrival", 30, 120),
        ("anchoring", 30, 120),
        ("wait end", 30, 120),
        ("berthing", 30, 120),
        ("unberthing", 30, 120),
        ("departure", 30, 120),
        ("waiting time", 60, 180),
        ("service time", 60, 180),
    ];
    for (name, median, p90) in bounds {
        let p = card.phase(name).unwrap();
        assert!(p.pairs > 100, "{name}: {} pairs", p.pairs);
        assert!(p.median_s <= median && p.p90_s <= p90, "{name}: median {} s, p90 {} s", p.median_s, p.p90_s);
    }
}
