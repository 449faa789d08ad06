//! The running pipeline: source thread → processors → sinks → commit.
//!
//! [`Pipeline::start`] wires a [`Source`] (its own thread, polling Kafka)
//! to an async stage that, for each batch in order:
//!
//! 1. applies accepted events to the port processor ([`Port`]), collecting
//!    its outputs (zone transitions, port calls, anomalies, weather alerts)
//!    and, every `processors.snapshot_interval`, its congestion partials;
//! 2. writes the events and the outputs to every sink concurrently,
//!    retrying transient failures with jittered backoff and bisecting a
//!    permanently failing batch until the records at fault are isolated;
//! 3. writes refused records (decode/validation failures and the records a
//!    sink refused) to the dead-letter topic and waits for the acks;
//! 4. checkpoints the processor state of every owned partition (at most every
//!    `processors.checkpoint_interval`, and whenever the stage is idle);
//! 5. only then hands the batches the checkpoint covers to the [`Committer`].
//!
//! Nothing is committed that was not acknowledged by every sink and the
//! dead-letter topic, and no offset is committed past the processor state
//! that reflects it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use porttrack_ingest::source::SourceHandle;
use porttrack_ingest::{Batch, Committer, DeadLetter, DeadLetterProducer, PartitionHooks, Source};
use porttrack_processors::{CallPhase, Output, Port, Processed, ZoneKind, ZonePartial};
use porttrack_schemas::{Event, RejectClass, Rejection, Sourced};
use porttrack_sinks::retry::Backoff;
use porttrack_sinks::{Derived, Sink, SinkError};
use rdkafka::producer::{FutureProducer, Producer};
use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::config::Config;
use crate::state::StateStore;

/// Live counters and health of a pipeline, shared with `/healthz`, `/readyz`,
/// `/metrics` and the demo's summary line.
#[derive(Debug)]
pub struct PipelineStatus {
    source: OnceLock<SourceHandle>,
    sinks: Vec<(&'static str, AtomicBool)>,
    /// The port processor: vessel routes, port calls, congestion.
    pub port: Arc<Port>,
    /// Records whose batch was committed.
    pub committed: AtomicU64,
    /// Records written to the dead-letter topic.
    pub dead_lettered: AtomicU64,
    /// Unix milliseconds of the last committed batch (or idle stage).
    last_progress_ms: AtomicI64,
}

impl PipelineStatus {
    fn new(sinks: &[Arc<dyn Sink>], port: Arc<Port>) -> Self {
        PipelineStatus {
            source: OnceLock::new(),
            sinks: sinks.iter().map(|s| (s.name(), AtomicBool::new(true))).collect(),
            port,
            committed: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
            last_progress_ms: AtomicI64::new(Utc::now().timestamp_millis()),
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

    fn progressed(&self) {
        let now = Utc::now().timestamp_millis();
        self.last_progress_ms.store(now, Ordering::Relaxed);
        metrics::gauge!("porttrack_last_progress_timestamp_seconds").set(now as f64 / 1000.0);
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

    /// Vessels with state on this instance.
    pub fn vessels(&self) -> usize {
        self.port.vessel_count()
    }

    /// Updates gauges that are cheaper to sample than to maintain.
    pub fn refresh_gauges(&self) {
        metrics::gauge!("porttrack_vessels_tracked").set(self.port.vessel_count() as f64);
        for zone in self.port.geography().zones() {
            let g = self.port.zone_gauges(zone.id());
            metrics::gauge!("porttrack_zone_vessels", "zone" => zone.name().to_owned()).set(g.present as f64);
            if zone.kind() == ZoneKind::Anchorage {
                metrics::gauge!("porttrack_anchorage_queue_vessels", "zone" => zone.name().to_owned())
                    .set(g.queue as f64);
            }
        }
    }
}

/// Restores and forgets processor state as partitions move.
struct StateHooks {
    port: Arc<Port>,
    store: Arc<dyn StateStore>,
    runtime: tokio::runtime::Handle,
}

impl PartitionHooks for StateHooks {
    fn assigned(&self, partitions: &[i32]) {
        // Runs on the poll thread, inside the rebalance callback: block until
        // restored, so no record of these partitions is processed before.
        let loaded = self.runtime.block_on(async {
            let mut attempt = 0;
            loop {
                match self.store.load(partitions).await {
                    Ok(states) => break Some(states),
                    Err(e) if attempt < 5 => {
                        tracing::warn!(error = %e, attempt, "loading processor checkpoints; retrying");
                        tokio::time::sleep(Backoff::default().delay(attempt)).await;
                        attempt += 1;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, ?partitions, "processor checkpoints unavailable; starting these partitions empty");
                        metrics::counter!("porttrack_state_restores_total", "result" => "error").increment(1);
                        break None;
                    }
                }
            }
        });
        for state in loaded.unwrap_or_default() {
            let p = state.partition;
            let vessels = state.vessels.len();
            match self.port.restore_partition(p, state) {
                Ok(()) => {
                    metrics::counter!("porttrack_state_restores_total", "result" => "ok").increment(1);
                    tracing::info!(partition = p, vessels, "restored processor state");
                }
                Err(e) => {
                    metrics::counter!("porttrack_state_restores_total", "result" => "refused").increment(1);
                    tracing::error!(partition = p, error = %e, "checkpoint refused; starting the partition empty");
                }
            }
        }
    }

    fn revoked(&self, partitions: &[i32]) {
        // The stage checkpointed before the drain committed: forget.
        let forgotten: usize = partitions.iter().map(|p| self.port.forget_partition(*p)).sum();
        tracing::info!(?partitions, forgotten, "forgot processor state of revoked partitions");
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
    /// Joins the consumer group and starts processing into `sinks`, with
    /// processor checkpoints where the configuration says
    /// ([`crate::state::from_config`]).
    pub async fn start(config: &Config, sinks: Vec<Arc<dyn Sink>>) -> anyhow::Result<Pipeline> {
        let state = crate::state::from_config(config)?;
        Self::start_with_state(config, sinks, state).await
    }

    /// Like [`Pipeline::start`], with an explicit checkpoint store.
    pub async fn start_with_state(
        config: &Config,
        sinks: Vec<Arc<dyn Sink>>,
        state: Arc<dyn StateStore>,
    ) -> anyhow::Result<Pipeline> {
        crate::telemetry::metrics();
        let producer: FutureProducer =
            config.kafka.durable_producer_config().create().context("creating the dead-letter producer")?;
        let dlq = DeadLetterProducer::new(producer.clone(), &config.kafka.dead_letter_topic);
        let port = Arc::new(config.processors.port()?);
        let status = Arc::new(PipelineStatus::new(&sinks, Arc::clone(&port)));
        crate::telemetry::pipeline_started(sinks.iter().map(|s| s.name()));
        for (name, _) in &status.sinks {
            status.set_sink_up(name, true);
        }
        let hooks = Arc::new(StateHooks {
            port: Arc::clone(&port),
            store: Arc::clone(&state),
            runtime: tokio::runtime::Handle::current(),
        });
        let (source, rx, committer) =
            Source::new(&config.kafka, config.source(), hooks).context("creating the Kafka consumer")?;
        let handle = source.handle();
        let _ = status.source.set(handle.clone());
        let source_thread = std::thread::Builder::new()
            .name("porttrack-source".into())
            .spawn(move || source.run())
            .context("spawning the source thread")?;
        let stage = Stage {
            sinks,
            dlq,
            committer,
            status: Arc::clone(&status),
            backoff: Backoff::default(),
            port,
            state,
            snapshot_interval: config.processors.snapshot_interval,
            checkpoint_interval: config.processors.checkpoint_interval,
            fault_ratio: config.pipeline.fault_injection_ratio,
            watermark: None,
            last_snapshot: Instant::now() - config.processors.snapshot_interval,
            last_checkpoint: Instant::now(),
            uncheckpointed: Vec::new(),
        };
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
    port: Arc<Port>,
    state: Arc<dyn StateStore>,
    snapshot_interval: Duration,
    checkpoint_interval: Duration,
    fault_ratio: f64,
    /// The newest event time processed: the processor's clock for dark
    /// periods and snapshots (never the wall clock, so replays of old
    /// recordings behave as they did live).
    watermark: Option<DateTime<Utc>>,
    last_snapshot: Instant,
    last_checkpoint: Instant,
    /// Acknowledged batches whose offsets wait for the next checkpoint.
    uncheckpointed: Vec<Batch>,
}

impl Stage {
    async fn run(mut self, mut rx: mpsc::Receiver<Batch>) {
        while let Some(batch) = rx.recv().await {
            // One span per batch (never per record), linked to the trace
            // contexts of its records; sink writes are its children.
            let span = crate::telemetry::batch_span(&batch);
            self.process(batch).instrument(span).await;
            let idle = rx.is_empty();
            if idle || self.last_checkpoint.elapsed() >= self.checkpoint_interval {
                self.checkpoint_and_commit().await;
            }
            if idle {
                self.status.progressed();
            }
        }
        self.checkpoint_and_commit().await;
        tracing::debug!("sink stage finished: source closed the channel");
    }

    async fn process(&mut self, mut batch: Batch) {
        self.inject_faults(&mut batch);
        let mut outputs = Vec::new();
        for r in &batch.accepted {
            let processed = self.port.process(r, &mut outputs);
            count_processed(&r.event, processed);
            let t = r.event.timestamp();
            if self.watermark.is_none_or(|w| t > w) {
                self.watermark = Some(t);
            }
        }
        let mut partials = Vec::new();
        if let Some(watermark) = self.watermark
            && self.last_snapshot.elapsed() >= self.snapshot_interval
        {
            self.port.tick(watermark, &mut outputs);
            partials = self.port.snapshot(watermark);
            self.last_snapshot = Instant::now();
            self.publish_port_gauges(&partials);
        }
        count_outputs(&outputs);
        let derived = Derived::new(self.port.geography(), &outputs, &partials);

        let writes = self.sinks.iter().map(|sink| {
            let sink = Arc::clone(sink);
            let records = &batch.accepted;
            let derived = &derived;
            let status = &self.status;
            let backoff = self.backoff;
            let span = tracing::info_span!("sink_write", sink = sink.name(), records = records.len());
            async move {
                let refused = write_until_acked(Arc::clone(&sink), records, status, backoff).await;
                write_derived_until_acked(sink, derived, status, backoff).await;
                refused
            }
            .instrument(span)
        });
        let results = join_all(writes).await;
        let mut refused: Vec<(usize, String)> = results.into_iter().flatten().collect();
        refused.sort_unstable_by_key(|(i, _)| *i);
        refused.dedup_by_key(|(i, _)| *i);
        for (i, message) in refused {
            let r = &batch.accepted[i];
            batch.rejected.push(letter_for(r, Rejection::new(RejectClass::SinkRejected, message)));
        }
        if !batch.rejected.is_empty() {
            let span = tracing::info_span!("dead_letter", records = batch.rejected.len());
            self.dead_letter(&batch.rejected).instrument(span).await;
        }
        let now = Utc::now();
        for r in &batch.accepted {
            let age = (now - r.event.timestamp()).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::histogram!("porttrack_event_age_seconds").record(age);
        }
        // Every sink has acknowledged the batch (and its dead letters): this
        // is when its records became durable, whatever their event time says.
        let now_ms = now.timestamp_millis();
        let latency = metrics::histogram!("porttrack_record_latency_seconds");
        for t in &batch.record_times_ms {
            latency.record((now_ms - t).max(0) as f64 / 1000.0);
        }
        metrics::histogram!("porttrack_batch_size_records").record(batch.len() as f64);
        self.uncheckpointed.push(batch);
    }

    /// Fails a fraction of accepted records on purpose (release drills only;
    /// `pipeline.fault_injection_ratio`, 0 by default).
    fn inject_faults(&self, batch: &mut Batch) {
        if self.fault_ratio <= 0.0 {
            return;
        }
        let mut kept = Vec::with_capacity(batch.accepted.len());
        for r in batch.accepted.drain(..) {
            if rand::random::<f64>() < self.fault_ratio {
                metrics::counter!("porttrack_fault_injected_total").increment(1);
                metrics::counter!("porttrack_records_rejected_total", "reason" => RejectClass::FaultInjected.as_str())
                    .increment(1);
                batch.rejected.push(letter_for(
                    &r,
                    Rejection::new(
                        RejectClass::FaultInjected,
                        "failed on purpose by the fault-injection switch",
                    ),
                ));
            } else {
                kept.push(r);
            }
        }
        batch.accepted = kept;
    }

    /// Saves the state of every owned partition, then commits the batches it covers.
    async fn checkpoint_and_commit(&mut self) {
        if self.uncheckpointed.is_empty() {
            return;
        }
        let span = tracing::info_span!(
            "commit",
            batches = self.uncheckpointed.len(),
            records = self.uncheckpointed.iter().map(Batch::len).sum::<usize>(),
        );
        self.checkpoint_and_commit_inner().instrument(span).await;
    }

    async fn checkpoint_and_commit_inner(&mut self) {
        let states: Vec<_> =
            self.port.partitions().into_iter().map(|p| self.port.export_partition(p)).collect();
        let mut attempt = 0;
        loop {
            match self.state.save(&states).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "checkpointing processor state failed; retrying");
                    metrics::counter!("porttrack_sink_errors_total", "sink" => "state", "kind" => "transient")
                        .increment(1);
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
        self.last_checkpoint = Instant::now();
        for batch in self.uncheckpointed.drain(..) {
            let records = batch.len() as u64;
            metrics::histogram!("porttrack_batch_duration_seconds")
                .record(batch.opened.elapsed().as_secs_f64());
            metrics::counter!("porttrack_records_committed_total").increment(records);
            self.status.committed.fetch_add(records, Ordering::Relaxed);
            self.committer.complete(batch);
        }
        self.status.progressed();
    }

    fn publish_port_gauges(&self, partials: &[ZonePartial]) {
        let limits = &self.port.config().weather;
        let mut waits: HashMap<&str, Vec<i64>> = HashMap::new();
        for p in partials {
            waits.entry(p.zone.as_str()).or_default().extend_from_slice(&p.waiting_now_s);
        }
        for snapshot in porttrack_processors::merge(partials, &self.port.config().congestion) {
            let zone = snapshot.zone.clone();
            metrics::gauge!("porttrack_congestion_level", "zone" => zone.clone())
                .set(snapshot.congestion as u8 as f64);
            if let Some(occupancy) = snapshot.berth_occupancy {
                metrics::gauge!("porttrack_berth_occupancy_ratio", "zone" => zone.clone()).set(occupancy);
            }
            if snapshot.kind == ZoneKind::Anchorage {
                let mut w = waits.remove(zone.as_str()).unwrap_or_default();
                w.sort_unstable();
                for (q, label) in [(0.5, "0.5"), (0.9, "0.9")] {
                    let v = nearest_rank(&w, q);
                    metrics::gauge!("porttrack_anchorage_wait_seconds", "zone" => zone.clone(), "quantile" => label)
                        .set(v as f64);
                }
            }
            let weather = snapshot.weather.as_ref();
            let gust = weather.and_then(|w| w.wind_gust_kn).is_some_and(|g| g > limits.crane_gust_limit_kn);
            let fog = weather
                .and_then(|w| w.visibility_nm)
                .is_some_and(|v| v < limits.safe_departure_visibility_nm);
            metrics::gauge!("porttrack_weather_alerts_active", "zone" => zone.clone(), "kind" => "gust")
                .set(if gust { 1.0 } else { 0.0 });
            metrics::gauge!("porttrack_weather_alerts_active", "zone" => zone, "kind" => "visibility")
                .set(if fog { 1.0 } else { 0.0 });
        }
        self.status.refresh_gauges();
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
        self.summarise_dead_letters(letters).await;
    }

    /// Counts the dead letters in the sinks that keep a summary for
    /// dashboards (Postgres `dead_letters`). The topic is the authority, so a
    /// permanent failure here is logged and skipped; transient ones are retried.
    async fn summarise_dead_letters(&self, letters: &[DeadLetter]) {
        let at = Utc::now();
        let summaries: Vec<porttrack_sinks::DeadLetterSummary<'_>> = letters
            .iter()
            .map(|l| porttrack_sinks::DeadLetterSummary {
                origin: &l.origin,
                class: l.rejection.class,
                reason: &l.rejection.message,
                at,
            })
            .collect();
        for sink in &self.sinks {
            let mut attempt = 0;
            loop {
                match sink.write_dead_letters(&summaries).await {
                    Ok(()) => break,
                    Err(SinkError::Permanent(message)) => {
                        tracing::error!(sink = sink.name(), %message, "dead-letter summary refused");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(sink = sink.name(), error = %e, attempt, "dead-letter summary failed; retrying");
                        tokio::time::sleep(self.backoff.delay(attempt)).await;
                        attempt += 1;
                    }
                }
            }
        }
    }
}

/// A dead letter for an accepted event refused after decoding (by a sink or
/// the fault-injection switch). The batch keeps the decoded event, not the
/// record's bytes, so the letter carries the event re-encoded as JSON.
fn letter_for(r: &Sourced<Event>, rejection: Rejection) -> DeadLetter {
    DeadLetter {
        origin: r.origin.clone(),
        key: r.event.mmsi().map(|m| m.to_string().into_bytes()),
        payload: serde_json::to_vec(&r.event).ok(),
        headers: Vec::new(),
        rejection,
    }
}

/// The nearest-rank quantile `q` of sorted `values` (0 when empty).
fn nearest_rank(values: &[i64], q: f64) -> i64 {
    if values.is_empty() {
        return 0;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

fn count_processed(event: &Event, processed: Processed) {
    let result = match processed {
        Processed::Applied => "applied",
        Processed::Duplicate => "duplicate",
        Processed::Late => "late",
        Processed::Outlier => {
            // An implied speed no ship makes: a GPS or receiver jump.
            metrics::counter!("porttrack_anomalies_total", "kind" => "position_jump").increment(1);
            "outlier"
        }
        _ => "ignored",
    };
    metrics::counter!("porttrack_processor_events_total", "kind" => event.kind().as_str(), "result" => result)
        .increment(1);
}

fn count_outputs(outputs: &[Output]) {
    for o in outputs {
        match o {
            Output::PortCall(u) if u.phase == CallPhase::Arrived && u.call.arrival_observed => {
                metrics::counter!("porttrack_port_arrivals_total").increment(1);
            }
            Output::PortCall(u) if u.phase == CallPhase::Departed => {
                metrics::counter!("porttrack_port_departures_total").increment(1);
            }
            Output::Anomaly(a) => {
                let kind = match &a.kind {
                    porttrack_processors::AnomalyKind::DarkPeriod { .. }
                    | porttrack_processors::AnomalyKind::WentSilent { .. } => "dark",
                    porttrack_processors::AnomalyKind::Speeding { .. } => "speeding",
                    porttrack_processors::AnomalyKind::StoppedInChannel { .. } => "stopped_in_channel",
                    porttrack_processors::AnomalyKind::HazardousInRestricted { .. } => {
                        "hazardous_in_restricted"
                    }
                    _ => "other",
                };
                metrics::counter!("porttrack_anomalies_total", "kind" => kind).increment(1);
            }
            _ => {}
        }
    }
}

/// Writes processor outputs to `sink` until it acknowledges. Transient
/// failures are retried for as long as it takes; a permanent one is a defect
/// (derived rows are not Kafka records and cannot be dead-lettered): it is
/// logged and counted loudly, and the pipeline goes on.
async fn write_derived_until_acked(
    sink: Arc<dyn Sink>,
    derived: &Derived,
    status: &PipelineStatus,
    backoff: Backoff,
) {
    if derived.is_empty() {
        return;
    }
    let name = sink.name();
    let mut attempt = 0;
    loop {
        match sink.write_derived(derived).await {
            Ok(()) => {
                status.set_sink_up(name, true);
                return;
            }
            Err(SinkError::Permanent(message)) => {
                metrics::counter!("porttrack_sink_errors_total", "sink" => name, "kind" => "permanent")
                    .increment(1);
                tracing::error!(sink = name, %message, "sink refused processor outputs; they are not stored");
                return;
            }
            Err(e) => {
                metrics::counter!("porttrack_sink_errors_total", "sink" => name, "kind" => "transient")
                    .increment(1);
                status.set_sink_up(name, false);
                tracing::warn!(sink = name, error = %e, attempt, "writing processor outputs failed; retrying");
                tokio::time::sleep(backoff.delay(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// Writes `records` to `sink` until it acknowledges. Transient failures are
/// retried with backoff for as long as it takes (the source pauses
/// meanwhile); a permanent failure is bisected down to the single records at
/// fault, which are returned (index, reason) as refused.
fn write_until_acked<'a>(
    sink: Arc<dyn Sink>,
    records: &'a [Sourced<Event>],
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
    use porttrack_schemas::{Origin, Position};
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
            records: &'a [Sourced<Event>],
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
                if records.iter().any(|r| r.event.mmsi() == Some(POISON)) {
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

    fn record(offset: i64, mmsi: u32) -> Sourced<Event> {
        Sourced {
            origin: Origin::new("t", 0, offset),
            event: Event::Position(Position {
                mmsi,
                timestamp: Utc.timestamp_opt(1_790_000_000 + offset, 0).unwrap(),
                lat: 1.0,
                lon: 2.0,
                sog: None,
                cog: None,
                heading: None,
                nav_status: None,
            }),
        }
    }

    #[tokio::test]
    async fn a_permanent_failure_is_bisected_to_the_records_at_fault() {
        let records: Vec<_> =
            (0..37).map(|i| record(i, if i == 5 || i == 30 { POISON } else { 244_000_000 })).collect();
        let picky = Arc::new(Picky::default());
        let sink: Arc<dyn Sink> = picky.clone();
        let port = Arc::new(Port::new(porttrack_processors::Geography::rotterdam(), Default::default()));
        let status = PipelineStatus::new(std::slice::from_ref(&sink), port);
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
