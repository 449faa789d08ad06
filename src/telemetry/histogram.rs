//! The two per-record histograms, `porttrack_event_age_seconds` and
//! `porttrack_record_latency_seconds`: bucket counters in atomics, added to
//! once per batch, rendered at scrape time beside the recorder's metrics.
//!
//! Why not the `metrics` recorder, as every other histogram is: the
//! Prometheus exporter keeps each observation (value and a clock read) in a
//! lock-free list until its upkeep folds them into buckets. Observed twice
//! per record, that was about 7% of a `json → null` run's CPU (the clock
//! reads, the list's epoch pinning, and the upkeep thread folding), and the
//! list held 32 bytes per record for up to the 5 s between folds: 64 MB at
//! 400,000 records/s. Here a batch's records are counted into local buckets
//! and each bucket's atomic is added to once.
//!
//! The output is what the exporter printed for the same observations (a
//! test renders both and compares): the same buckets, `_sum` in seconds,
//! `_count`. A scrape during a batch's additions can see some of its
//! buckets counted and not yet others, or its `_sum` a batch ahead of or
//! behind the buckets; the buckets themselves are read once each and
//! summed, so they are cumulative and `_count` equals the `+Inf` bucket.
//! Observations are whole milliseconds, as both figures are made of.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Latency buckets, in seconds: 1 ms to 60 s (the recorder's histograms
/// ending in `_seconds` share them).
pub(super) const SECONDS_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Record-latency buckets, in seconds: finer around the 1 s objective, so a
/// p99 read off them is good to 0.1 s there.
pub const RECORD_LATENCY_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0, 2.5, 5.0, 10.0,
    30.0, 60.0,
];

/// Bucket bounds a [`RecordHistogram`] holds at most (`+Inf` not counted).
const MAX_BOUNDS: usize = 24;

/// Event time to durable write, per committed record.
pub static EVENT_AGE: RecordHistogram =
    RecordHistogram::new(porttrack_metrics::EVENT_AGE_SECONDS, SECONDS_BUCKETS);

/// Kafka record timestamp to every sink's acknowledgement, per record.
pub static RECORD_LATENCY: RecordHistogram =
    RecordHistogram::new(porttrack_metrics::RECORD_LATENCY_SECONDS, RECORD_LATENCY_BUCKETS);

/// A histogram of whole-millisecond observations, one atomic per bucket.
#[derive(Debug)]
pub struct RecordHistogram {
    name: &'static str,
    /// Upper bounds in seconds, ascending; observations above the last one
    /// count only in `+Inf`.
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); index `bounds.len()` is
    /// above every bound.
    counts: [AtomicU64; MAX_BOUNDS + 1],
    /// The observations' sum, in milliseconds.
    sum_ms: AtomicU64,
}

impl RecordHistogram {
    /// An empty histogram exported as `name` with upper `bounds` (seconds,
    /// ascending, at most 24).
    pub const fn new(name: &'static str, bounds: &'static [f64]) -> RecordHistogram {
        assert!(bounds.len() <= MAX_BOUNDS, "more bucket bounds than a RecordHistogram holds");
        RecordHistogram {
            name,
            bounds,
            counts: [const { AtomicU64::new(0) }; MAX_BOUNDS + 1],
            sum_ms: AtomicU64::new(0),
        }
    }

    /// Observes every value of `millis` (negative ones as 0): counted
    /// locally, then one atomic addition per bucket that got any.
    pub fn record_ms(&self, millis: impl IntoIterator<Item = i64>) {
        let mut counts = [0_u64; MAX_BOUNDS + 1];
        let mut sum = 0_u64;
        for ms in millis {
            let ms = ms.max(0);
            // The exporter compared the value in seconds with each bound;
            // the same arithmetic puts a value on a bound in that bucket.
            let seconds = ms as f64 / 1000.0;
            counts[self.bounds.partition_point(|&bound| bound < seconds)] += 1;
            sum = sum.saturating_add(ms as u64);
        }
        for (total, &n) in self.counts.iter().zip(&counts) {
            if n > 0 {
                total.fetch_add(n, Ordering::Relaxed);
            }
        }
        if sum > 0 {
            self.sum_ms.fetch_add(sum, Ordering::Relaxed);
        }
    }

    /// Appends the histogram to `out` in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let help = porttrack_metrics::ALL.iter().find(|d| d.name == self.name).map_or("", |d| d.help);
        let name = self.name;
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0_u64;
        for (i, count) in self.counts[..=self.bounds.len()].iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            match self.bounds.get(i) {
                Some(bound) => _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}"),
                None => _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}"),
            }
        }
        let sum = self.sum_ms.load(Ordering::Relaxed) as f64 / 1000.0;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// Appends both per-record histograms to `out`.
pub(super) fn render(out: &mut String) {
    EVENT_AGE.render(out);
    RECORD_LATENCY.render(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_exporter_prometheus::PrometheusBuilder;

    /// The lines of `text` that belong to histogram `name`, HELP and TYPE
    /// included.
    fn lines_of<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        text.lines()
            .filter(|l| {
                l.starts_with(&format!("{name}_"))
                    || *l == format!("# TYPE {name} histogram")
                    || l.starts_with(&format!("# HELP {name} "))
            })
            .collect()
    }

    #[test]
    fn renders_what_the_exporter_rendered_for_the_same_observations() {
        let millis =
            [0_i64, 1, 2, 3, 9, 10, 11, 99, 100, 101, 999, 1_000, 1_001, 59_999, 60_000, 60_001, 3_600_000];
        for (bounds, name) in [
            (SECONDS_BUCKETS, porttrack_metrics::EVENT_AGE_SECONDS),
            (RECORD_LATENCY_BUCKETS, porttrack_metrics::RECORD_LATENCY_SECONDS),
        ] {
            let recorder = PrometheusBuilder::new().set_buckets(bounds).unwrap().build_recorder();
            let help = porttrack_metrics::ALL.iter().find(|d| d.name == name).unwrap().help;
            metrics::with_local_recorder(&recorder, || {
                metrics::describe_histogram!(name, help);
                let h = metrics::histogram!(name);
                for ms in millis {
                    h.record(ms as f64 / 1000.0);
                }
            });
            let theirs = recorder.handle().render();

            let ours = RecordHistogram::new(name, bounds);
            // Two batches, as the stage records them.
            ours.record_ms(millis[..5].iter().copied());
            ours.record_ms(millis[5..].iter().copied());
            let mut text = String::new();
            ours.render(&mut text);

            // The sums differ only in the exporter's float rounding (it added
            // seconds; these are whole milliseconds, added exactly).
            let sum = |lines: &[&str]| -> f64 {
                let line = lines.iter().find(|l| l.starts_with(&format!("{name}_sum "))).unwrap();
                line.rsplit(' ').next().unwrap().parse().unwrap()
            };
            let (ours, theirs) = (lines_of(&text, name), lines_of(&theirs, name));
            assert!((sum(&ours) - sum(&theirs)).abs() < 1e-9, "{name}: {ours:?} against {theirs:?}");
            let not_sum = |lines: Vec<&str>| -> Vec<String> {
                lines
                    .into_iter()
                    .filter(|l| !l.starts_with(&format!("{name}_sum ")))
                    .map(str::to_owned)
                    .collect()
            };
            assert_eq!(not_sum(ours), not_sum(theirs), "{name}");
        }
    }

    #[test]
    fn a_negative_observation_counts_as_zero() {
        let h = RecordHistogram::new("porttrack_test_seconds", &[0.001]);
        h.record_ms([-5, 2]);
        let mut text = String::new();
        h.render(&mut text);
        assert!(text.contains("porttrack_test_seconds_bucket{le=\"0.001\"} 1\n"), "{text}");
        assert!(text.contains("porttrack_test_seconds_sum 0.002\n"), "{text}");
        assert!(text.contains("porttrack_test_seconds_count 2\n"), "{text}");
    }

    #[test]
    fn concurrent_batches_are_all_counted() {
        let h = RecordHistogram::new("porttrack_test_seconds", SECONDS_BUCKETS);
        std::thread::scope(|s| {
            for t in 0..4_i64 {
                let h = &h;
                s.spawn(move || {
                    for _ in 0..1_000 {
                        h.record_ms([t, 50, 70_000]);
                    }
                });
            }
        });
        let mut text = String::new();
        h.render(&mut text);
        assert!(text.contains("porttrack_test_seconds_count 12000\n"), "{text}");
        assert!(text.contains("porttrack_test_seconds_bucket{le=\"60\"} 8000\n"), "{text}");
        // 4,000 × (50 + 70,000) ms, plus 1,000 × (0 + 1 + 2 + 3).
        assert!(text.contains("porttrack_test_seconds_sum 280206\n"), "{text}");
    }
}
