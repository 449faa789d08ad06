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
use porttrack_schemas::{RejectClass, Rejection};
use porttrack_sinks::retry::Backoff;
use porttrack_sinks::{Derived, Sink};
use tokio::sync::mpsc;
use tracing::Instrument as _;

use super::PipelineStatus;
use super::delivery::{letter_for, write_derived_until_acked, write_until_acked};
use super::metrics::{count_outputs, count_processed};
use crate::state::StateStore;

pub(super) struct Stage {
    pub(super) sinks: Vec<Arc<dyn Sink>>,
    pub(super) dlq: DeadLetterProducer,
    pub(super) committer: Committer,
    pub(super) status: Arc<PipelineStatus>,
    pub(super) backoff: Backoff,
    pub(super) port: Arc<Port>,
    pub(super) state: Arc<dyn StateStore>,
    pub(super) snapshot_interval: Duration,
    pub(super) checkpoint_interval: Duration,
    pub(super) fault_ratio: f64,
    /// The newest event time processed: the processor's clock for dark
    /// periods and snapshots (never the wall clock, so replays of old
    /// recordings behave as they did live).
    pub(super) watermark: Option<DateTime<Utc>>,
    pub(super) last_snapshot: Instant,
    pub(super) last_checkpoint: Instant,
    /// Acknowledged batches whose offsets wait for the next checkpoint.
    pub(super) uncheckpointed: Vec<Batch>,
}

impl Stage {
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Batch>) {
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
        // Handles resolved once per batch, not per record.
        let event_age = metrics::histogram!(porttrack_metrics::EVENT_AGE_SECONDS);
        for r in &batch.accepted {
            event_age.record((now - r.event.timestamp()).num_milliseconds().max(0) as f64 / 1000.0);
        }
        // Every sink has acknowledged the batch (and its dead letters): this
        // is when its records became durable, whatever their event time says.
        let now_ms = now.timestamp_millis();
        let latency = metrics::histogram!(porttrack_metrics::RECORD_LATENCY_SECONDS);
        for t in &batch.record_times_ms {
            latency.record((now_ms - t).max(0) as f64 / 1000.0);
        }
        metrics::histogram!(porttrack_metrics::BATCH_SIZE_RECORDS).record(batch.len() as f64);
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
