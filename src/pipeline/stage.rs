//! The per-batch stage: one task that takes the source's batches in order,
//! runs them through the port processor, fans the events and the
//! processor's outputs out to every sink, and hands the batches on to
//! delivery (dead letters, checkpoint, commit: `delivery.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::join_all;
use porttrack_ingest::{Batch, Committer, DeadLetterProducer};
use porttrack_processors::Port;
use porttrack_schemas::{Origin, RejectClass, Rejection};
use porttrack_sinks::retry::Backoff;
use porttrack_sinks::{Derived, Sink};
use tokio::sync::mpsc;
use tracing::Instrument as _;

use super::PipelineStatus;
use super::delivery::{letter_for, letters_for_outputs, write_batch_until_acked};
use super::metrics::{ProcessedTally, count_outputs};
use super::pacing::Pacing;
use crate::state::StateStore;
use crate::telemetry::histogram;

pub(super) struct Stage {
    pub(super) sinks: Vec<Arc<dyn Sink>>,
    pub(super) dlq: DeadLetterProducer,
    pub(super) committer: Committer,
    pub(super) status: Arc<PipelineStatus>,
    pub(super) backoff: Backoff,
    pub(super) port: Arc<Port>,
    pub(super) state: Arc<dyn StateStore>,
    pub(super) snapshot_interval: Duration,
    pub(super) fault_ratio: f64,
    /// The newest event time processed: the processor's clock for dark
    /// periods and snapshots (never the wall clock, so replays of old
    /// recordings behave as they did live).
    pub(super) watermark: Option<DateTime<Utc>>,
    pub(super) last_snapshot: Instant,
    /// When to checkpoint ([`Pacing`]).
    pub(super) pacing: Pacing,
    /// Acknowledged batches whose offsets wait for the next checkpoint.
    pub(super) uncheckpointed: Vec<Batch>,
    /// The partition numbers this member owns (kept by the rebalance hooks).
    pub(super) owned: super::hooks::Owned,
}

impl Stage {
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Batch>) {
        let mut idle_since = Instant::now();
        loop {
            let next = if self.uncheckpointed.is_empty() {
                rx.recv().await
            } else {
                // Acknowledged batches wait for a checkpoint: take it when
                // the pacing says so, unless a batch comes first.
                let due = tokio::time::Instant::from_std(self.pacing.due_when_idle(idle_since));
                tokio::select! {
                    batch = rx.recv() => batch,
                    () = tokio::time::sleep_until(due) => {
                        self.checkpoint_and_commit().await;
                        self.status.progressed();
                        continue;
                    }
                }
            };
            let Some(batch) = next else { break };
            // One span per batch (never per record), linked to the trace
            // contexts of its records; sink writes are its children.
            let span = crate::telemetry::batch_span(&batch);
            self.process(batch).instrument(span).await;
            let idle = rx.is_empty();
            if self.pacing.due_after_batch(Instant::now(), idle) {
                self.checkpoint_and_commit().await;
            }
            if idle {
                self.status.progressed();
            }
            idle_since = Instant::now();
        }
        self.checkpoint_and_commit().await;
        tracing::debug!("sink stage finished: source closed the channel");
    }

    async fn process(&mut self, mut batch: Batch) {
        if !self.committer.is_current(&batch) {
            // Sealed before a rebalance whose drain gave up waiting for it:
            // it can no longer commit, its records will be read again by
            // whoever owns them now, and its partitions may have moved (and
            // their state been forgotten here). Applying it would rebuild a
            // partial state and write outputs concluded from it (found by
            // the chaos drill): skip it whole.
            tracing::warn!(
                records = batch.records,
                "skipping a batch of an ended generation (its drain timed out)"
            );
            metrics::counter!(porttrack_metrics::BATCHES_STALE_TOTAL).increment(1);
            return;
        }
        self.inject_faults(&mut batch);
        let mut outputs = Vec::new();
        let mut tally = ProcessedTally::default();
        for r in &batch.accepted {
            let processed = self.port.process(r, &mut outputs);
            tally.note(&r.event, processed);
            let t = r.event.timestamp();
            if self.watermark.is_none_or(|w| t > w) {
                self.watermark = Some(t);
            }
        }
        tally.publish();
        let mut partials = Vec::new();
        if let Some(watermark) = self.watermark
            && self.last_snapshot.elapsed() >= self.snapshot_interval
        {
            self.port.tick(watermark, &mut outputs);
            partials = self.port.snapshot(watermark);
            self.last_snapshot = Instant::now();
            super::metrics::publish_port_gauges(&self.port, &self.status, &partials);
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
            write_batch_until_acked(sink, records, derived, status, backoff).instrument(span)
        });
        let results = join_all(writes).await;
        let mut refused = Vec::new();
        let mut refused_outputs = Vec::new();
        for (records, outputs) in results {
            refused.extend(records);
            refused_outputs.extend(outputs);
        }
        refused.sort_unstable_by_key(|(i, _)| *i);
        refused.dedup_by_key(|(i, _)| *i);
        for (i, message) in refused {
            let r = &batch.accepted[i];
            batch.rejected.push(letter_for(r, Rejection::new(RejectClass::SinkRejected, message)));
        }
        if !refused_outputs.is_empty() {
            batch.rejected.extend(letters_for_outputs(&output_anchor(&batch), &refused_outputs));
        }
        if !batch.rejected.is_empty() {
            let span = tracing::info_span!("dead_letter", records = batch.rejected.len());
            self.dead_letter(&batch.rejected).instrument(span).await;
        }
        // Every sink has acknowledged the batch (and its dead letters): this
        // is when its records became durable, whatever their event time says.
        // Both histograms are counted per batch, not observed per record
        // through the recorder (see `telemetry::histogram`).
        let now_ms = Utc::now().timestamp_millis();
        histogram::EVENT_AGE
            .record_ms(batch.accepted.iter().map(|r| now_ms - r.event.timestamp().timestamp_millis()));
        histogram::RECORD_LATENCY.record_ms(batch.record_times_ms.iter().map(|t| now_ms - t));
        metrics::histogram!(porttrack_metrics::BATCH_SIZE_RECORDS).record(batch.len() as f64);
        // Every sink has the events: only the offsets wait for the
        // checkpoint. The vector goes back to the source now, not at the
        // commit (which comes after dozens of batches when the source is far
        // ahead), so the batches it seals meanwhile fill it instead of
        // page-faulting through fresh memory.
        self.committer.recycle(std::mem::take(&mut batch.accepted));
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
                metrics::counter!(porttrack_metrics::FAULT_INJECTED_TOTAL).increment(1);
                metrics::counter!(porttrack_metrics::RECORDS_REJECTED_TOTAL, "reason" => RejectClass::FaultInjected.as_str())
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
}

/// The source named by dead letters of a batch's refused outputs: its last
/// record, the newest input the processor had seen when it concluded them.
fn output_anchor(batch: &Batch) -> Origin {
    match (batch.accepted.last(), batch.offsets.last()) {
        (Some(r), _) => r.origin,
        (None, Some((topic, partition, next))) => Origin::new(*topic, *partition, next - 1),
        // Outputs of a tick with no input (a snapshot on an empty batch).
        (None, None) => Origin::new("porttrack.processor", -1, -1),
    }
}
