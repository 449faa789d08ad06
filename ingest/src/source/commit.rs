//! Committing offsets, and the generations that keep stragglers from
//! committing.
//!
//! Two paths commit:
//!
//! * [`Committer::complete`], on the pipeline's task, as each batch is
//!   acknowledged by every sink: an asynchronous commit of the batch's
//!   offsets, also remembered in [`CommitState`].
//! * [`Shared::drain_and_commit`], on the poll thread, at a revocation and at
//!   shutdown: seal what is staged, wait for the batches in flight, commit
//!   everything remembered synchronously, and start a new generation.
//!
//! Every batch carries the generation it was sealed in. A batch completed
//! after its generation ended (its drain timed out) is counted
//! (`porttrack_batches_stale_total`) and not committed: its partitions may
//! belong to another member by now, which replays those records.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Instant;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};

use super::{Batch, Shared, SourceContext, TopicPartition, lock};

/// The current generation, and the offsets acknowledged in it.
#[derive(Debug, Default)]
pub(super) struct CommitState {
    generation: u64,
    /// Offsets acknowledged since the last synchronous commit.
    completed: HashMap<TopicPartition, i64>,
}

impl CommitState {
    /// Remembers that `batch` was acknowledged, if it belongs to the current
    /// generation; returns whether it does.
    fn complete(&mut self, batch: &Batch) -> bool {
        if batch.generation() != self.generation {
            return false;
        }
        for (topic, partition, next) in &batch.offsets {
            self.completed.entry((*topic, *partition)).and_modify(|o| *o = (*o).max(*next)).or_insert(*next);
        }
        true
    }

    /// Ends the generation: batches sealed so far can no longer commit.
    /// Returns the offsets acknowledged in it.
    fn next_generation(&mut self) -> HashMap<TopicPartition, i64> {
        self.generation += 1;
        std::mem::take(&mut self.completed)
    }
}

/// Commits a batch's offsets once the pipeline has acknowledged it.
#[derive(Debug, Clone)]
pub struct Committer {
    consumer: Weak<BaseConsumer<SourceContext>>,
    shared: Arc<Shared>,
}

impl Committer {
    pub(super) fn new(consumer: Weak<BaseConsumer<SourceContext>>, shared: Arc<Shared>) -> Self {
        Committer { consumer, shared }
    }

    /// Whether `batch` belongs to the current generation, so it may still
    /// commit. A batch of an ended generation (its drain timed out) may hold
    /// records of partitions this member no longer owns.
    pub fn is_current(&self, batch: &Batch) -> bool {
        batch.generation() == self.shared.generation()
    }

    /// Hands back the events of a batch the caller is done with (every sink
    /// acknowledged them), emptied, so that a batch sealed later reuses the
    /// vector instead of fresh memory (see `Shared::recycle`). Optional:
    /// [`complete`](Self::complete) does it with whatever is left.
    pub fn recycle(&self, events: Vec<porttrack_schemas::Sourced<porttrack_schemas::Event>>) {
        self.shared.recycle(events);
    }

    /// Marks `batch` as acknowledged by every sink and commits its offsets
    /// (asynchronously; the next rebalance or shutdown commits synchronously).
    pub fn complete(&self, mut batch: Batch) {
        self.shared.recycle(std::mem::take(&mut batch.accepted));
        let mut commits = lock(&self.shared.commits);
        if !commits.complete(&batch) {
            metrics::counter!(porttrack_metrics::BATCHES_STALE_TOTAL).increment(1);
            return;
        }
        let mut tpl = TopicPartitionList::with_capacity(batch.offsets.len());
        for (topic, partition, next) in &batch.offsets {
            if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*next)) {
                tracing::error!(error = %e, "building commit list");
            }
        }
        if let Some(consumer) = self.consumer.upgrade() {
            match consumer.commit(&tpl, CommitMode::Async) {
                Ok(()) => {
                    metrics::counter!(porttrack_metrics::OFFSET_COMMITS_TOTAL, "result" => "ok").increment(1)
                }
                Err(e) => tracing::warn!(error = %e, "queueing offset commit failed"),
            }
        }
    }
}

impl Shared {
    /// The generation batches sealed now belong to.
    pub(super) fn generation(&self) -> u64 {
        lock(&self.commits).generation
    }

    /// Called on revocation and at shutdown: drain, commit synchronously, and
    /// open a new generation so stragglers cannot commit.
    /// Returns whether every batch was acknowledged in time.
    pub(super) fn drain_and_commit<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>) -> bool {
        let deadline = Instant::now() + self.config.drain_timeout;
        let flushed = self.flush(deadline);
        let drained = self.inflight.wait_zero(deadline);
        let clean = flushed && drained;
        if !clean {
            tracing::warn!(
                flushed,
                drained,
                "sinks did not acknowledge in-flight batches in time; their records will be replayed"
            );
        }
        let completed = lock(&self.commits).next_generation();
        if completed.is_empty() {
            return clean;
        }
        let mut tpl = TopicPartitionList::with_capacity(completed.len());
        for ((topic, partition), next) in &completed {
            if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*next)) {
                tracing::error!(error = %e, "building commit list");
            }
        }
        match consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) => {
                metrics::counter!(porttrack_metrics::OFFSET_COMMITS_TOTAL, "result" => "ok").increment(1)
            }
            Err(e) => {
                metrics::counter!(porttrack_metrics::OFFSET_COMMITS_TOTAL, "result" => "error").increment(1);
                tracing::warn!(error = %e, "synchronous offset commit failed; records after the last commit will be replayed");
            }
        }
        clean
    }
}
