//! The simulated traffic a drill runs under ([`Load`]: the simulator's
//! producer on a blocking thread, every acknowledgement kept), and how the
//! drill follows the group's progress: the instances' commit counters every
//! 250 ms ([`CommitWatch`], [`longest_pause`]) and the group's committed
//! offsets against the acknowledgements ([`OffsetReader`], [`wait_all_committed`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use porttrack::sim::{AckedRecord, NmeaOptions, ProduceOptions, ProduceReport, SimConfig, Simulator, Stream};
use rdkafka::consumer::BaseConsumer;
use tokio::time::Instant;

use crate::error::DrillError;
use crate::instance::{Instance, Scrape};
use crate::options::LoadOptions;
use crate::run::{NMEA_ONE_IN, Run, Topics};
use crate::stack::{committed_offsets, kafka_reader};

/// How often the drill looks at the instances' commit counters.
pub(crate) const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// The simulator producing on a blocking thread until stopped.
#[derive(Debug)]
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    /// Records sent so far.
    pub(crate) sent: Arc<AtomicU64>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<ProduceReport>>>,
}

impl Load {
    /// Starts producing to `topics` (every stream the run has a topic for)
    /// with `kafka`'s brokers and security settings.
    pub(crate) fn start(
        mut kafka: porttrack_ingest::KafkaConfig,
        topics: &Topics,
        options: &LoadOptions,
    ) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        // Fewer, larger produce requests than the simulator's default 10 ms
        // linger: the load shares two cores with the stack.
        kafka.properties.insert("linger.ms".to_owned(), "100".to_owned());
        // The acknowledgements are the check's ground truth, so the load
        // must not write a record the producer was not told about: an
        // idempotent producer never duplicates a retried batch (a broker
        // killed between writing it and answering), and five minutes of
        // message timeout ride out the chaos drill's broker restarts instead
        // of failing records that may be in the log all the same.
        kafka.properties.insert("enable.idempotence".to_owned(), "true".to_owned());
        kafka.properties.insert("message.timeout.ms".to_owned(), "300000".to_owned());
        let topic = |stream| topics.name(stream).map(str::to_owned);
        let produce = ProduceOptions {
            static_topic: topic(Stream::Static),
            weather_topic: topic(Stream::Weather),
            cargo_topic: topic(Stream::Cargo),
            ops_topic: topic(Stream::Ops),
            nmea: topic(Stream::Nmea).map(|topic| NmeaOptions { topic, one_in: NMEA_ONE_IN }),
            rate: Some(options.rate.clamp(1.0, 10_000.0)),
            record_acks: true,
            ..ProduceOptions::positions_only(topic(Stream::Positions).unwrap_or_default())
        };
        let sim = SimConfig {
            vessels: options.vessels,
            seed: 42,
            // Half a day in the past: the simulated clock races through it at
            // `rate`, so the load never waits for the wall clock.
            start: Utc::now() - chrono::Duration::hours(12),
            invalid_ratio: options.invalid_ratio,
        };
        let handle = tokio::task::spawn_blocking({
            let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
            move || porttrack::sim::produce(&kafka, &mut Simulator::new(sim), &produce, &stop, Some(&sent))
        });
        Load { stop, sent, handle: Some(handle) }
    }

    /// Stops producing, flushes, and returns every acknowledgement.
    pub(crate) async fn finish(mut self) -> Result<ProduceReport, DrillError> {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.handle.take().ok_or_else(|| DrillError::Load("already finished".into()))?;
        handle
            .await
            .map_err(|e| DrillError::Load(format!("producer thread: {e}")))?
            .map_err(|e| DrillError::Load(format!("{e:#}")))
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One look at the group's progress.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) at: Instant,
    /// Records committed by the group since the drill started (Σ of the
    /// instances' `porttrack_records_committed_total` increments).
    pub(crate) committed: u64,
    /// Records the simulator had sent.
    pub(crate) sent: u64,
}

/// Scrapes every instance's `porttrack_records_committed_total` every 250 ms.
///
/// From the instances' `/metrics`, which also tells which instance
/// committed; `tests/rebalance.rs` measures per partition from the group's
/// committed offsets.
#[derive(Debug)]
pub(crate) struct CommitWatch {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl CommitWatch {
    /// Starts watching the instances on `ports`; `sent` is the load's counter.
    pub(crate) fn start(http: &reqwest::Client, ports: &[u16], sent: Arc<AtomicU64>) -> CommitWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let (stop, samples, http, ports) =
                (Arc::clone(&stop), Arc::clone(&samples), http.clone(), ports.to_vec());
            async move {
                // The last value read from each port; forgotten when the port
                // does not answer, so a restarted instance counts from zero.
                let mut previous: HashMap<u16, f64> = HashMap::new();
                let mut total = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    let next = Instant::now() + WATCH_INTERVAL;
                    for port in &ports {
                        let url = format!("http://127.0.0.1:{port}/metrics");
                        let body = match http.get(&url).timeout(Duration::from_secs(1)).send().await {
                            Ok(response) => response.text().await.ok(),
                            Err(_) => None,
                        };
                        match body.map(|b| Scrape::parse(&b).committed) {
                            Some(now) => {
                                let before = previous.insert(*port, now).unwrap_or(0.0);
                                let gained = if now >= before { now - before } else { now };
                                total += gained as u64;
                            }
                            None => {
                                previous.remove(port);
                            }
                        }
                    }
                    let sample =
                        Sample { at: Instant::now(), committed: total, sent: sent.load(Ordering::Relaxed) };
                    samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(sample);
                    tokio::time::sleep_until(next).await;
                }
            }
        });
        CommitWatch { stop, samples, task: Some(task) }
    }

    /// The latest sample.
    pub(crate) fn last(&self) -> Option<Sample> {
        self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).last().cloned()
    }

    /// Stops watching and returns every sample.
    pub(crate) async fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl Drop for CommitWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The longest stretch within `[from, to]` without the committed total
/// growing: between consecutive increases, and from `from` to the first and
/// the last to `to`.
pub(crate) fn longest_pause(samples: &[Sample], from: Instant, to: Instant) -> Duration {
    let mut last_move = from;
    let mut longest = Duration::ZERO;
    for pair in samples.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        if after.at < from || after.at > to || after.committed <= before.committed {
            continue;
        }
        longest = longest.max(after.at.saturating_duration_since(last_move));
        last_move = after.at;
    }
    longest.max(to.saturating_duration_since(last_move))
}

/// The largest gap between records sent and records committed in the
/// samples up to `until` (the load's stop: afterwards nothing more is sent).
pub(crate) fn max_commit_lag(samples: &[Sample], until: Instant) -> u64 {
    samples.iter().filter(|s| s.at <= until).map(|s| s.sent.saturating_sub(s.committed)).max().unwrap_or(0)
}

/// How long after `at` the committed total grew again: the first sample
/// after `at` that is higher than the one before it (None: never).
pub(crate) fn recovered_after(samples: &[Sample], at: Instant) -> Option<Duration> {
    samples
        .windows(2)
        .find(|pair| pair[1].at >= at && pair[1].committed > pair[0].committed)
        .map(|pair| pair[1].at.saturating_duration_since(at))
}

/// Per topic (by its stream) and partition, the offset after the last
/// acknowledged record.
pub(crate) fn expected_next(acks: &[AckedRecord]) -> HashMap<(Stream, i32), i64> {
    let mut next = HashMap::new();
    for a in acks {
        let e = next.entry((a.stream, a.partition)).or_insert(0);
        *e = (*e).max(a.offset + 1);
    }
    next
}

/// Waits until the group committed every acknowledged record (asks the
/// coordinator once a second).
pub(crate) async fn wait_all_committed(
    offsets: &OffsetReader,
    acks: &[AckedRecord],
    instances: &mut [&mut Instance],
) -> Result<Duration, DrillError> {
    let expected = expected_next(acks);
    let started = Instant::now();
    let limit = Duration::from_secs(600);
    loop {
        for instance in instances.iter_mut() {
            instance.alive()?;
        }
        if let Ok(committed) = offsets.fetch().await
            && expected.iter().all(|(p, next)| committed.get(p).is_some_and(|c| c >= next))
        {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            return Err(DrillError::Timeout {
                what: "the group to commit every acknowledged record".into(),
                after: limit,
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Reads the group's committed offsets as a non-member with the group's id
/// (the group is unaffected).
#[derive(Clone)]
pub(crate) struct OffsetReader {
    consumer: Arc<BaseConsumer>,
    topics: Topics,
    partitions: i32,
}

impl fmt::Debug for OffsetReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OffsetReader").field("topics", &self.topics).finish_non_exhaustive()
    }
}

impl OffsetReader {
    /// A reader of `run`'s group on `run`'s topics.
    pub(crate) fn new(run: &Run) -> Result<OffsetReader, DrillError> {
        Ok(OffsetReader {
            consumer: Arc::new(kafka_reader(&run.env.brokers, &run.group)?),
            topics: run.topics.clone(),
            partitions: run.partitions,
        })
    }

    /// Committed offsets per topic (by its stream) and partition (-1: none yet).
    pub(crate) async fn fetch(&self) -> Result<HashMap<(Stream, i32), i64>, DrillError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = HashMap::new();
            for (stream, topic) in &this.topics.0 {
                let mut last = None;
                for _ in 0..5 {
                    match committed_offsets(&this.consumer, topic, this.partitions, Duration::from_secs(5)) {
                        Ok(c) => {
                            out.extend(c.into_iter().map(|(p, o)| ((*stream, p), o)));
                            last = None;
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                if let Some(e) = last {
                    return Err(DrillError::Stack(format!("committed offsets of {topic}: {e}")));
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| DrillError::Stack(format!("committed offsets task: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn longest_pause_spans_the_quietest_stretch() {
        let t0 = Instant::now();
        let at = |ms: u64, committed: u64| Sample { at: t0 + Duration::from_millis(ms), committed, sent: 0 };
        let samples =
            vec![at(0, 0), at(250, 10), at(500, 10), at(750, 10), at(1000, 10), at(1250, 20), at(1500, 30)];
        let pause = longest_pause(&samples, t0, t0 + Duration::from_millis(1600));
        assert_eq!(pause, Duration::from_millis(1000));
        // A tail without commits counts up to the end of the window.
        let pause = longest_pause(&samples, t0, t0 + Duration::from_millis(3000));
        assert_eq!(pause, Duration::from_millis(1500));
    }

    #[test]
    fn recovery_is_the_first_growth_after_the_fault_ended() {
        let t0 = Instant::now();
        let at = |ms: u64, committed: u64| Sample { at: t0 + Duration::from_millis(ms), committed, sent: 0 };
        let samples = vec![at(0, 5), at(250, 10), at(500, 10), at(750, 10), at(1000, 12), at(1250, 12)];
        // Growth at 250 ms is before the fault ended at 300 ms: it does not count.
        let ended = t0 + Duration::from_millis(300);
        assert_eq!(recovered_after(&samples, ended), Some(Duration::from_millis(700)));
        assert_eq!(recovered_after(&samples, t0 + Duration::from_millis(1100)), None);
    }
}
