//! The running pipeline: source thread → processors → sinks → commit.
//!
//! [`Pipeline::start`] wires a [`Source`] (its own thread, polling Kafka)
//! to an async stage that, for each batch in order:
//!
//! 1. applies accepted events to the processors ([`VesselStore`]);
//! 2. writes them to every sink concurrently, retrying transient failures
//!    with jittered backoff and bisecting a permanently failing batch until
//!    the records at fault are isolated;
//! 3. writes refused records (decode/validation failures and the records a
//!    sink refused) to the dead-letter topic and waits for the acks;
//! 4. only then hands the batch to the [`Committer`].
//!
//! Nothing is committed that was not acknowledged by every sink and the
//! dead-letter topic.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use porttrack_ingest::source::SourceHandle;
use porttrack_ingest::{Batch, Committer, DeadLetter, DeadLetterProducer, Source};
use porttrack_processors::VesselStore;
use porttrack_schemas::{Position, RejectClass, Rejection, Sourced};
use porttrack_sinks::retry::Backoff;
use porttrack_sinks::{Sink, SinkError};
use rdkafka::producer::{FutureProducer, Producer};
use tokio::sync::mpsc;

use crate::config::Config;

/// Live counters and health of a pipeline, shared with `/healthz`, `/readyz`,
/// `/metrics` and the demo's summary line.
#[derive(Debug)]
pub struct PipelineStatus {
    source: OnceLock<SourceHandle>,
    sinks: Vec<(&'static str, AtomicBool)>,
    /// Vessel state held by this instance.
    pub store: Arc<VesselStore>,
    /// Records whose batch was committed.
    pub committed: AtomicU64,
    /// Records written to the dead-letter topic.
    pub dead_lettered: AtomicU64,
}

impl PipelineStatus {
    fn new(sinks: &[Arc<dyn Sink>], store: Arc<VesselStore>) -> Self {
        PipelineStatus {
            source: OnceLock::new(),
            sinks: sinks.iter().map(|s| (s.name(), AtomicBool::new(true))).collect(),
            store,
            committed: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
        }
    }

    fn set_sink_up(&self, name: &str, up: bool) {
        for (n, flag) in &self.sinks {
            if *n == name {
                flag.store(up, Ordering::Relaxed);
            }
        }
        metrics::gauge!("porttrack_sink_up", "sink" => name.to_owned()).set(if up { 1.0 } else { 0.0 });
    }

    /// How long the poll loop has been silent, if longer than `limit`.
    pub fn stalled_for(&self, limit: Duration) -> Option<Duration> {
        let source = self.source.get()?;
        let age_ms = Utc::now().timestamp_millis() - source.last_heartbeat_unix_ms();
        let age = Duration::from_millis(u64::try_from(age_ms).unwrap_or(0));
        (age > limit).then_some(age)
    }

    /// Why the instance should not receive traffic now, if it should not.
    pub fn not_ready_reason(&self) -> Option<String> {
        let Some(source) = self.source.get() else { return Some("starting".into()) };
        if source.assigned_partitions() == 0 {
            return Some("no partitions assigned".into());
        }
        let down: Vec<&str> =
            self.sinks.iter().filter(|(_, up)| !up.load(Ordering::Relaxed)).map(|(n, _)| *n).collect();
        (!down.is_empty()).then(|| format!("sinks unavailable: {}", down.join(", ")))
    }

    /// Consumer lag summed over this instance's partitions.
    pub fn lag(&self) -> i64 {
        self.source.get().map_or(0, SourceHandle::lag)
    }

    /// Records consumed since start.
    pub fn consumed(&self) -> u64 {
        self.source.get().map_or(0, SourceHandle::consumed)
    }

    /// Partitions assigned to this instance.
    pub fn assigned_partitions(&self) -> usize {
        self.source.get().map_or(0, SourceHandle::assigned_partitions)
    }

    /// Updates gauges that are cheaper to sample than to maintain.
    pub fn refresh_gauges(&self) {
        metrics::gauge!("porttrack_vessels_tracked").set(self.store.len() as f64);
    }
}

/// A started pipeline; [`Pipeline::stop`] drains and commits.
pub struct Pipeline {
    status: Arc<PipelineStatus>,
    source: SourceHandle,
    source_thread: Option<std::thread::JoinHandle<()>>,
    stage: tokio::task::JoinHandle<()>,
    producer: FutureProducer,
}

impl Pipeline {
    /// Joins the consumer group and starts processing into `sinks`.
    pub async fn start(config: &Config, sinks: Vec<Arc<dyn Sink>>) -> anyhow::Result<Pipeline> {
        crate::telemetry::metrics();
        let producer: FutureProducer =
            config.kafka.durable_producer_config().create().context("creating the dead-letter producer")?;
        let dlq = DeadLetterProducer::new(producer.clone(), &config.kafka.dead_letter_topic);
        let store = Arc::new(VesselStore::default());
        let status = Arc::new(PipelineStatus::new(&sinks, Arc::clone(&store)));
        for (name, _) in &status.sinks {
            status.set_sink_up(name, true);
        }
        let revoke_store = Arc::clone(&store);
        let (source, rx, committer) = Source::new(&config.kafka, config.source(), move |partitions| {
            let forgotten = revoke_store.forget_partitions(partitions);
            tracing::info!(?partitions, forgotten, "forgot vessel state of revoked partitions");
        })
        .context("creating the Kafka consumer")?;
        let handle = source.handle();
        let _ = status.source.set(handle.clone());
        let source_thread = std::thread::Builder::new()
            .name("porttrack-source".into())
            .spawn(move || source.run())
            .context("spawning the source thread")?;
        let stage = Stage { sinks, dlq, committer, status: Arc::clone(&status), backoff: Backoff::default() };
        let stage = tokio::spawn(stage.run(rx));
        Ok(Pipeline { status, source: handle, source_thread: Some(source_thread), stage, producer })
    }

    /// Live status, for health endpoints and summaries.
    pub fn status(&self) -> Arc<PipelineStatus> {
        Arc::clone(&self.status)
    }

    /// Drains in-flight batches (bounded by `pipeline.drain_timeout`),
    /// commits what the sinks acknowledged, and leaves the group.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.source.shutdown();
        if let Some(thread) = self.source_thread.take() {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .context("joining the source thread")?
                .map_err(|_| anyhow::anyhow!("the source thread panicked"))?;
        }
        // The source closed the channel after draining; a stage still busy now
        // is stuck on an unavailable sink, and its batch is uncommitted anyway.
        match tokio::time::timeout(Duration::from_secs(5), &mut self.stage).await {
            Ok(result) => result.context("the sink stage panicked")?,
            Err(_) => {
                tracing::warn!(
                    "sink stage still busy after the source stopped; abandoning uncommitted batch"
                );
                self.stage.abort();
            }
        }
        self.producer.flush(Duration::from_secs(5)).context("flushing the dead-letter producer")?;
        Ok(())
    }

    /// Runs until the future `until` resolves, then stops.
    pub async fn run_until(self, until: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        tokio::pin!(until);
        until.await;
        self.stop().await
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("status", &self.status).finish_non_exhaustive()
    }
}

struct Stage {
    sinks: Vec<Arc<dyn Sink>>,
    dlq: DeadLetterProducer,
    committer: Committer,
    status: Arc<PipelineStatus>,
    backoff: Backoff,
}

impl Stage {
    async fn run(self, mut rx: mpsc::Receiver<Batch>) {
        while let Some(batch) = rx.recv().await {
            self.process(batch).await;
        }
        tracing::debug!("sink stage finished: source closed the channel");
    }

    async fn process(&self, mut batch: Batch) {
        for r in &batch.accepted {
            self.status.store.apply(r.origin.partition, &r.event);
        }
        let writes = self
            .sinks
            .iter()
            .map(|sink| write_until_acked(Arc::clone(sink), &batch.accepted, &self.status, self.backoff));
        let results = join_all(writes).await;
        let mut refused: Vec<(usize, String)> = results.into_iter().flatten().collect();
        refused.sort_unstable_by_key(|(i, _)| *i);
        refused.dedup_by_key(|(i, _)| *i);
        for (i, message) in refused {
            let r = &batch.accepted[i];
            batch.rejected.push(DeadLetter {
                origin: r.origin.clone(),
                key: Some(r.event.mmsi.to_string().into_bytes()),
                payload: serde_json::to_vec(&r.event).ok(),
                headers: Vec::new(),
                rejection: Rejection::new(RejectClass::SinkRejected, message),
            });
        }
        if !batch.rejected.is_empty() {
            self.dead_letter(&batch.rejected).await;
        }
        let records = batch.len() as u64;
        let now = Utc::now();
        for r in &batch.accepted {
            let age = (now - r.event.timestamp).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::histogram!("porttrack_event_age_seconds").record(age);
        }
        metrics::histogram!("porttrack_batch_size_records").record(records as f64);
        metrics::histogram!("porttrack_batch_duration_seconds").record(batch.opened.elapsed().as_secs_f64());
        self.status.committed.fetch_add(records, Ordering::Relaxed);
        self.committer.complete(batch);
    }

    async fn dead_letter(&self, letters: &[DeadLetter]) {
        let mut attempt = 0;
        loop {
            match self.dlq.send_all(letters).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "dead-letter write failed; retrying");
                    metrics::counter!("porttrack_sink_errors_total", "sink" => "dead_letter", "kind" => "transient")
                        .increment(1);
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
        for l in letters {
            metrics::counter!("porttrack_dead_letters_total", "reason" => l.rejection.class.as_str())
                .increment(1);
        }
        self.status.dead_lettered.fetch_add(letters.len() as u64, Ordering::Relaxed);
    }
}

/// Writes `records` to `sink` until it acknowledges. Transient failures are
/// retried with backoff for as long as it takes (the source pauses
/// meanwhile); a permanent failure is bisected down to the single records at
/// fault, which are returned (index, reason) as refused.
fn write_until_acked<'a>(
    sink: Arc<dyn Sink>,
    records: &'a [Sourced<Position>],
    status: &'a PipelineStatus,
    backoff: Backoff,
) -> BoxFuture<'a, Vec<(usize, String)>> {
    async move {
        if records.is_empty() {
            return Vec::new();
        }
        let name = sink.name();
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            match sink.write(records).await {
                Ok(outcome) => {
                    metrics::histogram!("porttrack_sink_write_duration_seconds", "sink" => name)
                        .record(started.elapsed().as_secs_f64());
                    let written = records.len() - outcome.rejected.len();
                    metrics::counter!("porttrack_sink_records_written_total", "sink" => name)
                        .increment(written as u64);
                    if attempt > 0 {
                        tracing::info!(sink = name, attempt, "sink recovered");
                    }
                    status.set_sink_up(name, true);
                    return outcome.rejected;
                }
                Err(SinkError::Permanent(message)) => {
                    metrics::counter!("porttrack_sink_errors_total", "sink" => name, "kind" => "permanent")
                        .increment(1);
                    if records.len() == 1 {
                        tracing::warn!(sink = name, %message, "record refused by sink");
                        return vec![(0, format!("{name}: {message}"))];
                    }
                    let mid = records.len() / 2;
                    let (left, right) = records.split_at(mid);
                    let mut refused = write_until_acked(Arc::clone(&sink), left, status, backoff).await;
                    let right = write_until_acked(sink, right, status, backoff).await;
                    refused.extend(right.into_iter().map(|(i, m)| (i + mid, m)));
                    return refused;
                }
                Err(e) => {
                    metrics::counter!("porttrack_sink_errors_total", "sink" => name, "kind" => "transient")
                        .increment(1);
                    status.set_sink_up(name, false);
                    tracing::warn!(sink = name, error = %e, attempt, "sink write failed; retrying");
                    tokio::time::sleep(backoff.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::TimeZone;
    use porttrack_schemas::Origin;
    use porttrack_sinks::WriteOutcome;

    use super::*;

    /// Refuses, as a whole, any write that holds a poisoned record; fails
    /// transiently on its first call.
    #[derive(Debug, Default)]
    struct Picky {
        calls: Mutex<u32>,
        written: Mutex<Vec<i64>>,
    }

    const POISON: u32 = 999_999_999;

    impl Sink for Picky {
        fn name(&self) -> &'static str {
            "picky"
        }

        fn write<'a>(
            &'a self,
            records: &'a [Sourced<Position>],
        ) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
            async move {
                let first = {
                    let mut calls = self.calls.lock().unwrap();
                    *calls += 1;
                    *calls == 1
                };
                if first {
                    return Err(SinkError::Transient("warming up".into()));
                }
                if records.iter().any(|r| r.event.mmsi == POISON) {
                    return Err(SinkError::Permanent("value out of range".into()));
                }
                self.written.lock().unwrap().extend(records.iter().map(|r| r.origin.offset));
                Ok(WriteOutcome::default())
            }
            .boxed()
        }

        fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
            async { Ok(()) }.boxed()
        }
    }

    fn record(offset: i64, mmsi: u32) -> Sourced<Position> {
        Sourced {
            origin: Origin { topic: "t".into(), partition: 0, offset },
            event: Position {
                mmsi,
                timestamp: Utc.timestamp_opt(1_790_000_000 + offset, 0).unwrap(),
                lat: 1.0,
                lon: 2.0,
                sog: None,
                cog: None,
                heading: None,
                nav_status: None,
            },
        }
    }

    #[tokio::test]
    async fn a_permanent_failure_is_bisected_to_the_records_at_fault() {
        let records: Vec<_> =
            (0..37).map(|i| record(i, if i == 5 || i == 30 { POISON } else { 244_000_000 })).collect();
        let picky = Arc::new(Picky::default());
        let sink: Arc<dyn Sink> = picky.clone();
        let status = PipelineStatus::new(std::slice::from_ref(&sink), Arc::default());
        let backoff = Backoff { base: Duration::from_millis(1), max: Duration::from_millis(2) };
        let refused = write_until_acked(sink, &records, &status, backoff).await;
        let refused: Vec<usize> = refused.into_iter().map(|(i, _)| i).collect();
        assert_eq!(refused, vec![5, 30]);
        let mut written = picky.written.lock().unwrap().clone();
        written.sort_unstable();
        let expected: Vec<i64> = (0..37).filter(|i| *i != 5 && *i != 30).collect();
        assert_eq!(written, expected, "every other record written exactly once");
    }
}
