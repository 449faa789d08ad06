//! Retrying, kept apart from the I/O it repeats.
//!
//! One policy type serves every retry loop of the project, in the shape of
//! vector's `RetryLogic`: *what* to repeat is a closure, *whether* an error is
//! worth repeating is a [`RetryLogic`] (a classification, with no I/O), and
//! *how long and how often* is a [`RetryPolicy`]:
//!
//! * [`Bound`]: [`Forever`](Bound::Forever) (until success or a
//!   non-retriable error), [`Tries(n)`](Bound::Tries) (at most `n` attempts
//!   in all) or [`Within(d)`](Bound::Within) (while less than `d` has passed
//!   since the first attempt).
//! * [`Backoff`]: exponential with full jitter, capped.
//! * [`RetryMetric`]: the counter a retriable failure adds to, labelled
//!   `sink = label`. The names and labels are the ones the pipeline and the
//!   sinks already export (`docs/metrics.md`):
//!   `porttrack_sink_errors_total{sink, kind="transient"}` (+1 per failure)
//!   or `porttrack_sink_item_retries_total{sink}` (+ the items the failure
//!   holds, [`RetryLogic::items`]).
//!
//! Every retriable failure is counted, including the one that exhausts the
//! bound (the metrics count failures, not sleeps); every retry is logged as a
//! `tracing` warning with the policy's `label` (field `sink`), the error and
//! the 0-based attempt that failed. [`RetryPolicy::retry`] returns the first
//! success, the first non-retriable error, or the last error once the bound
//! is reached; logging or counting *that* is the caller's business.
//!
//! ```
//! use std::time::Duration;
//!
//! use porttrack_sinks::SinkError;
//! use porttrack_sinks::retry::{Backoff, Bound, RetryPolicy, Transient};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // A write retried while it fails transiently, counted in
//! // porttrack_sink_errors_total{sink="state", kind="transient"}.
//! let policy = RetryPolicy::forever("state", "checkpointing processor state")
//!     .with_backoff(Backoff { base: Duration::from_millis(1), max: Duration::from_millis(5) });
//! let mut calls = 0;
//! let saved = policy
//!     .retry(Transient, |attempt| {
//!         calls += 1;
//!         async move {
//!             if attempt < 2 { Err(SinkError::Transient("database restarting".into())) } else { Ok(attempt) }
//!         }
//!     })
//!     .await;
//! assert_eq!(saved.unwrap(), 2);
//! assert_eq!(calls, 3);
//!
//! // At most 6 attempts (5 retries), any error retried, nothing counted; the
//! // caller decides what giving up means.
//! let policy = RetryPolicy::tries("state", "loading processor checkpoints", 6).silent();
//! assert_eq!(policy.bound, Bound::retries(5));
//! let loaded: Result<(), &str> = policy
//!     .with_backoff(Backoff { base: Duration::ZERO, max: Duration::ZERO })
//!     .retry(|_: &&str| true, |_| async { Err("unreachable") })
//!     .await;
//! assert!(loaded.is_err());
//! # }
//! ```

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::SinkError;

/// Exponential backoff with full jitter: attempt `n` waits a random time in
/// `[0, min(max, base · 2ⁿ)]`, so instances that failed together do not
/// retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Ceiling of the first wait.
    pub base: Duration,
    /// Ceiling of any wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_millis(100), max: Duration::from_secs(5) }
    }
}

impl Backoff {
    /// The longest wait before retry number `attempt` (0-based):
    /// `min(max, base · 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        self.base.saturating_mul(1_u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX)).min(self.max)
    }

    /// The wait before retry number `attempt` (0-based): uniform in `[0, ceiling(attempt)]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let nanos = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

/// How long a [`RetryPolicy`] keeps trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Until success or a non-retriable error.
    Forever,
    /// At most this many attempts in all, the first included: `Tries(1)`
    /// never retries (and `Tries(0)` is read as `Tries(1)`).
    Tries(u32),
    /// Retries while less than this has passed since the first attempt
    /// started (checked after each failure).
    Within(Duration),
}

impl Bound {
    /// `n` retries after the first attempt: `Tries(n + 1)`.
    pub const fn retries(n: u32) -> Bound {
        Bound::Tries(n.saturating_add(1))
    }
}

/// The counter a [`RetryPolicy`] adds every retriable failure to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryMetric {
    /// Nothing (the loop had no metric, or the caller counts).
    None,
    /// `porttrack_sink_errors_total{sink = label, kind = "transient"}`, +1
    /// per retriable failure: the pipeline's write, checkpoint and
    /// dead-letter loops.
    SinkErrors,
    /// `porttrack_sink_item_retries_total{sink = label}`, +
    /// [`RetryLogic::items`] per retriable failure: Elasticsearch's
    /// per-item retries inside one write.
    ItemRetries,
}

/// Classifies an operation's errors: retry, or give up at once. No I/O.
///
/// Implemented by [`Transient`] (a [`SinkError`] is retried when transient),
/// [`Always`] (every error is retried), and any `Fn(&E) -> bool`.
pub trait RetryLogic<E> {
    /// Whether repeating the operation may succeed.
    fn is_retriable(&self, error: &E) -> bool;

    /// How many items a retriable `error` stands for, in
    /// [`RetryMetric::ItemRetries`] (1 unless said otherwise).
    fn items(&self, error: &E) -> u64 {
        let _ = error;
        1
    }
}

impl<E, F: Fn(&E) -> bool> RetryLogic<E> for F {
    fn is_retriable(&self, error: &E) -> bool {
        self(error)
    }
}

/// Retries [`SinkError::Transient`], gives up on [`SinkError::Permanent`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Transient;

impl RetryLogic<SinkError> for Transient {
    fn is_retriable(&self, error: &SinkError) -> bool {
        error.is_transient()
    }
}

/// Retries every error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Always;

impl<E> RetryLogic<E> for Always {
    fn is_retriable(&self, _: &E) -> bool {
        true
    }
}

/// How one kind of operation is retried: see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The `sink` label of the metric and the `sink` field of the warnings
    /// (`postgres`, `elasticsearch`, `file`, `state`, `dead_letter`).
    pub label: &'static str,
    /// What is retried, for the warnings: "{what} failed; retrying".
    pub what: &'static str,
    /// How long to keep trying.
    pub bound: Bound,
    /// The waits between attempts.
    pub backoff: Backoff,
    /// The counter retriable failures add to.
    pub metric: RetryMetric,
}

impl RetryPolicy {
    /// Retries until success or a non-retriable error, with the default
    /// [`Backoff`], counting in [`RetryMetric::SinkErrors`].
    pub const fn forever(label: &'static str, what: &'static str) -> Self {
        RetryPolicy {
            label,
            what,
            bound: Bound::Forever,
            backoff: Backoff { base: Duration::from_millis(100), max: Duration::from_secs(5) },
            metric: RetryMetric::SinkErrors,
        }
    }

    /// At most `tries` attempts in all ([`Bound::Tries`]), otherwise as [`RetryPolicy::forever`].
    pub const fn tries(label: &'static str, what: &'static str, tries: u32) -> Self {
        RetryPolicy { bound: Bound::Tries(tries), ..RetryPolicy::forever(label, what) }
    }

    /// The same policy with another bound.
    #[must_use]
    pub const fn with_bound(self, bound: Bound) -> Self {
        RetryPolicy { bound, ..self }
    }

    /// The same policy with other waits.
    #[must_use]
    pub const fn with_backoff(self, backoff: Backoff) -> Self {
        RetryPolicy { backoff, ..self }
    }

    /// The same policy counting in another metric.
    #[must_use]
    pub const fn with_metric(self, metric: RetryMetric) -> Self {
        RetryPolicy { metric, ..self }
    }

    /// The same policy counting nothing ([`RetryMetric::None`]).
    #[must_use]
    pub const fn silent(self) -> Self {
        self.with_metric(RetryMetric::None)
    }

    /// Runs `operation` (given the 0-based attempt number) until it succeeds,
    /// fails in a way `logic` does not retry, or the bound is reached; waits
    /// [`Backoff::delay`]`(attempt)` after failed attempt `attempt`. Returns
    /// the success, or the error that ended the loop.
    pub async fn retry<T, E, L, Op, Fut>(&self, logic: L, mut operation: Op) -> Result<T, E>
    where
        E: Display,
        L: RetryLogic<E>,
        Op: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        loop {
            {
                let error = match operation(attempt).await {
                    Ok(value) => return Ok(value),
                    Err(error) => error,
                };
                if !logic.is_retriable(&error) {
                    return Err(error);
                }
                self.count(logic.items(&error));
                let more = match self.bound {
                    Bound::Forever => true,
                    Bound::Tries(tries) => attempt.saturating_add(1) < tries.max(1),
                    Bound::Within(patience) => started.elapsed() < patience,
                };
                if !more {
                    return Err(error);
                }
                tracing::warn!(sink = self.label, error = %error, attempt, "{} failed; retrying", self.what);
            }
            tokio::time::sleep(self.backoff.delay(attempt)).await;
            attempt = attempt.saturating_add(1);
        }
    }

    fn count(&self, items: u64) {
        match self.metric {
            RetryMetric::None => {}
            RetryMetric::SinkErrors => {
                metrics::counter!(porttrack_metrics::SINK_ERRORS_TOTAL, "sink" => self.label, "kind" => "transient")
                    .increment(1);
            }
            RetryMetric::ItemRetries => {
                metrics::counter!(porttrack_metrics::SINK_ITEM_RETRIES_TOTAL, "sink" => self.label)
                    .increment(items);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::*;

    const NO_WAIT: Backoff = Backoff { base: Duration::ZERO, max: Duration::ZERO };

    fn policy(bound: Bound) -> RetryPolicy {
        RetryPolicy::forever("test", "testing").with_bound(bound).with_backoff(NO_WAIT)
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
    }

    /// An operation failing transiently `failures` times, then succeeding;
    /// records the attempt numbers it was given.
    fn flaky(
        failures: u32,
        calls: &Mutex<Vec<u32>>,
    ) -> impl FnMut(u32) -> std::future::Ready<Result<u32, SinkError>> {
        move |attempt| {
            calls.lock().unwrap().push(attempt);
            std::future::ready(if attempt < failures {
                Err(SinkError::Transient(format!("failure {attempt}")))
            } else {
                Ok(attempt)
            })
        }
    }

    #[test]
    fn bounded_stops_after_n_tries_with_the_last_error() {
        let calls = Mutex::new(Vec::new());
        let got = run(policy(Bound::Tries(3)).retry(Transient, flaky(u32::MAX, &calls)));
        assert_eq!(got.unwrap_err().to_string(), "transient: failure 2");
        assert_eq!(*calls.lock().unwrap(), vec![0, 1, 2]);

        let calls = Mutex::new(Vec::new());
        assert!(run(policy(Bound::Tries(0)).retry(Transient, flaky(u32::MAX, &calls))).is_err());
        assert_eq!(calls.lock().unwrap().len(), 1, "Tries(0) is one attempt");
        assert_eq!(Bound::retries(5), Bound::Tries(6));
    }

    #[test]
    fn bounded_returns_a_success_within_the_bound() {
        let calls = Mutex::new(Vec::new());
        assert_eq!(run(policy(Bound::Tries(3)).retry(Transient, flaky(2, &calls))).unwrap(), 2);
    }

    #[test]
    fn forever_keeps_going_until_success() {
        let calls = Mutex::new(Vec::new());
        let got = run(policy(Bound::Forever).retry(Transient, flaky(50, &calls)));
        assert_eq!(got.unwrap(), 50);
        assert_eq!(*calls.lock().unwrap(), (0..=50).collect::<Vec<_>>());
    }

    #[test]
    fn non_retriable_stops_at_once() {
        let mut calls = 0;
        let got: Result<(), SinkError> = run(policy(Bound::Forever).retry(Transient, |_| {
            calls += 1;
            async { Err(SinkError::Permanent("bad row".into())) }
        }));
        assert!(!got.unwrap_err().is_transient());
        assert_eq!(calls, 1);

        // A closure classifies too.
        let mut calls = 0;
        let got: Result<(), u32> = run(policy(Bound::Forever).retry(
            |e: &u32| *e < 3,
            |attempt| {
                calls += 1;
                async move { Err(attempt) }
            },
        ));
        assert_eq!((got, calls), (Err(3), 4));
    }

    #[test]
    fn within_stops_once_the_patience_is_spent() {
        let policy = policy(Bound::Within(Duration::from_millis(30)))
            .with_backoff(Backoff { base: Duration::from_millis(5), max: Duration::from_millis(5) });
        let mut calls = 0;
        let started = std::time::Instant::now();
        let got: Result<(), &str> = run(policy.retry(Always, |_| {
            calls += 1;
            async { Err("down") }
        }));
        assert_eq!(got, Err("down"));
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(calls >= 2, "{calls}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff { base: Duration::from_millis(10), max: Duration::from_millis(300) };
        let ceilings: Vec<u64> = (0..8).map(|a| b.ceiling(a).as_millis() as u64).collect();
        assert_eq!(ceilings, vec![10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(b.ceiling(u32::MAX), b.max);
        for attempt in 0..40 {
            let ceiling = Duration::from_millis(10 * 2_u64.pow(attempt.min(20))).min(b.max);
            for _ in 0..50 {
                assert!(b.delay(attempt) <= ceiling, "attempt {attempt}");
            }
        }
        // Full jitter over a growing ceiling: later waits exceed earlier ceilings.
        let longest = (0..200).map(|_| b.delay(4)).max().unwrap();
        assert!(longest > b.ceiling(3), "{longest:?}");
    }

    #[test]
    fn waits_follow_the_backoff() {
        let policy = policy(Bound::Tries(3))
            .with_backoff(Backoff { base: Duration::from_millis(20), max: Duration::from_millis(20) });
        let mut times = Vec::new();
        let _: Result<(), &str> = run(policy.retry(Always, |_| {
            times.push(std::time::Instant::now());
            async { Err("down") }
        }));
        assert_eq!(times.len(), 3);
        // Waits are jittered in [0, 20ms]: never longer (with slack for the scheduler).
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] < Duration::from_millis(200));
        }
    }

    /// Counts what the policy records, by metric name and labels.
    #[derive(Default)]
    struct Counts(Mutex<Vec<(String, Arc<AtomicU64>)>>);

    struct Cell(Arc<AtomicU64>);

    impl CounterFn for Cell {
        fn increment(&self, value: u64) {
            self.0.fetch_add(value, Ordering::Relaxed);
        }
        fn absolute(&self, value: u64) {
            self.0.store(value, Ordering::Relaxed);
        }
    }

    impl Counts {
        fn get(&self, key: &str) -> u64 {
            let all = self.0.lock().unwrap();
            all.iter().filter(|(k, _)| k == key).map(|(_, v)| v.load(Ordering::Relaxed)).sum()
        }
    }

    impl Recorder for Counts {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
            let cell = Arc::new(AtomicU64::new(0));
            self.0
                .lock()
                .unwrap()
                .push((format!("{}{{{}}}", key.name(), labels.join(",")), Arc::clone(&cell)));
            Counter::from_arc(Arc::new(Cell(cell)))
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn every_retriable_failure_is_counted_under_the_label() {
        struct Items;
        impl RetryLogic<u64> for Items {
            fn is_retriable(&self, _: &u64) -> bool {
                true
            }
            fn items(&self, error: &u64) -> u64 {
                *error
            }
        }
        let counts = Counts::default();
        metrics::with_local_recorder(&counts, || {
            let calls = Mutex::new(Vec::new());
            let pg = RetryPolicy::forever("postgres", "sink write").with_backoff(NO_WAIT);
            run(pg.retry(Transient, flaky(3, &calls))).unwrap();
            // The failure that exhausts the bound counts too; a permanent one does not.
            let calls = Mutex::new(Vec::new());
            run(pg.with_bound(Bound::Tries(2)).retry(Transient, flaky(5, &calls))).unwrap_err();
            let _: Result<(), SinkError> =
                run(pg.retry(Transient, |_| async { Err(SinkError::Permanent("bad".into())) }));
            let es = RetryPolicy::tries("elasticsearch", "_bulk items", 3)
                .with_backoff(NO_WAIT)
                .with_metric(RetryMetric::ItemRetries);
            let _: Result<(), u64> =
                run(es.retry(Items, |attempt| async move { Err(u64::from(attempt) + 10) }));
            let _: Result<(), u64> = run(es.silent().retry(Items, |_| async { Err(7) }));
        });
        assert_eq!(counts.get("porttrack_sink_errors_total{sink=postgres,kind=transient}"), 5);
        assert_eq!(counts.get("porttrack_sink_item_retries_total{sink=elasticsearch}"), 10 + 11 + 12);
        let series: std::collections::BTreeSet<String> =
            counts.0.lock().unwrap().iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(series.len(), 2, "no other series: {series:?}");
    }
}
