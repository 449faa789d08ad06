//! The consumer-group member.
//!
//! ```text
//!   poll thread (Source::run)              pipeline (async)
//!   ─────────────────────────              ────────────────
//!   poll → decode → BatchBuilder
//!        seal (size or linger) ──Batch──▶  bounded channel ──▶ sinks write
//!        channel full: pause partitions,                         │ all acked
//!        keep polling (group stays alive)                        ▼
//!                                          Committer::complete ── commit offsets
//! ```
//!
//! Invariants:
//!
//! * A partition's committed offset only moves over records every sink has
//!   acknowledged: batches are completed in the order they were sealed (one
//!   channel, one consumer of it) and a batch's commit covers only its own
//!   records.
//! * Rebalances are incremental (KIP-848, see [`GroupProtocol`]): a callback
//!   names only the partitions that move. Before partitions are given up, the
//!   staged records are sealed, in-flight batches are drained (bounded by
//!   [`SourceConfig::drain_timeout`]) and their offsets committed
//!   synchronously, so the next owner starts where this one stopped; the
//!   partitions this member keeps are committed in the same step and go on
//!   being consumed. A batch that completes after that point belongs to an
//!   older generation and does not commit: its records are replayed by the
//!   new owner, and the kept partitions restart from their committed offsets,
//!   which the idempotent sinks absorb.
//!
//! [`GroupProtocol`]: crate::config::GroupProtocol
//! * The source owns the fetch position. It knows, per assigned partition,
//!   the next offset it must stage (from the committed offset at assignment,
//!   then from every staged record). Pausing a partition discards what
//!   librdkafka had prefetched for it, so on resume the source seeks every
//!   partition back to its own position. A record arriving past that
//!   position (a gap: a broker that served too little, or records the
//!   source skipped by mistake) triggers one
//!   re-fetch from it, and a record before it (a re-delivery) is skipped.
//!   Apache Kafka itself never skips; the check stays as a defence against
//!   Kafka-compatible brokers that do (it caught one) and costs one comparison per
//!   record. A gap the broker confirms (compaction, transaction markers) is
//!   counted and logged.
//! * Memory stays bounded during a sink outage: at most
//!   `max_in_flight_batches` batches in the channel, one pending, and what
//!   librdkafka had already fetched before the partitions were paused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use porttrack_schemas::{Event, Origin, Sourced, ValidationRules};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::config::KafkaConfig;
use crate::dead_letter::DeadLetter;
use crate::decode::{AvroConfig, Decoders, DecodersError, RecordIn, Refused};

/// The W3C Trace Context header naming the trace a record belongs to.
pub const TRACEPARENT: &str = "traceparent";

/// Why a source could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The Kafka consumer could not be created or subscribed.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// The topics' decoders could not be built.
    #[error(transparent)]
    Decoders(#[from] DecodersError),
}

/// Tuning of the source.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Seal a batch once it holds this many records.
    pub batch_max_records: usize,
    /// Seal a non-empty batch once its first record is this old.
    pub batch_linger: Duration,
    /// Sealed batches that may wait for the sinks before the source pauses.
    pub max_in_flight_batches: usize,
    /// How long a rebalance or a shutdown waits for in-flight batches.
    pub drain_timeout: Duration,
    /// Validation rules applied to every record.
    pub rules: ValidationRules,
    /// Avro schema registry and local schema ids.
    pub avro: AvroConfig,
    /// W3C `traceparent` headers kept per batch, for the pipeline's batch
    /// span to link to (0: none are read, as when tracing is off).
    pub max_trace_parents: usize,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            batch_max_records: 5_000,
            batch_linger: Duration::from_millis(100),
            // Each pause and resume costs a fresh fetch, so room for several
            // batches keeps the source fetching while the sinks write.
            // Memory stays bounded: 8 batches of at most `batch_max_records`.
            max_in_flight_batches: 8,
            drain_timeout: Duration::from_secs(20),
            rules: ValidationRules::default(),
            avro: AvroConfig::default(),
            max_trace_parents: 0,
        }
    }
}

/// A sealed group of consumed records, in consumption order.
#[derive(Debug)]
pub struct Batch {
    /// Records that decoded and validated.
    pub accepted: Vec<Sourced<Event>>,
    /// Records refused, bound for the dead-letter topic.
    pub rejected: Vec<DeadLetter>,
    /// Per partition, the offset to commit once the batch is acknowledged
    /// (the highest offset in the batch plus one).
    pub offsets: Vec<(Arc<str>, i32, i64)>,
    /// When the first record of the batch was consumed.
    pub opened: Instant,
    /// The `traceparent` headers of the batch's first records, unparsed, at
    /// most [`SourceConfig::max_trace_parents`].
    pub trace_parents: Vec<String>,
    /// Records with a `traceparent` beyond that cap.
    pub trace_parents_dropped: usize,
    /// Kafka records staged into this batch.
    pub records: usize,
    /// The Kafka timestamps (the producer's create time, or the broker's
    /// log-append time), in ms since the epoch, of the batch's records that
    /// carry one: what record-to-store latency is measured from.
    pub record_times_ms: Vec<i64>,
    generation: u64,
    _ticket: Ticket,
}

impl Batch {
    /// Kafka records in the batch (one record may hold several events, or
    /// none yet: an NMEA fragment waiting for its other parts).
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counts batches that are sealed but not yet completed or dropped.
#[derive(Debug, Default)]
struct InFlight {
    count: Mutex<usize>,
    zero: Condvar,
}

impl InFlight {
    fn wait_zero(&self, deadline: Instant) -> bool {
        let mut count = lock(&self.count);
        while *count > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            count = match self.zero.wait_timeout(count, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

/// Held by each sealed batch; releases its in-flight slot when dropped.
#[derive(Debug)]
struct Ticket(Arc<InFlight>);

impl Ticket {
    fn new(inflight: &Arc<InFlight>) -> Ticket {
        *lock(&inflight.count) += 1;
        metrics::gauge!("porttrack_batches_in_flight").increment(1.0);
        Ticket(Arc::clone(inflight))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut count = lock(&self.0.count);
        *count = count.saturating_sub(1);
        metrics::gauge!("porttrack_batches_in_flight").decrement(1.0);
        if *count == 0 {
            self.0.zero.notify_all();
        }
    }
}

#[derive(Debug, Default)]
struct BatchBuilder {
    accepted: Vec<Sourced<Event>>,
    rejected: Vec<DeadLetter>,
    offsets: HashMap<(Arc<str>, i32), i64>,
    /// Per partition, the offset of the earliest fragment still waiting for
    /// its other parts, as of the last record staged: commits stop there.
    held: HashMap<(Arc<str>, i32), Option<i64>>,
    opened: Option<Instant>,
    trace_parents: Vec<String>,
    trace_parents_dropped: usize,
    records: usize,
    record_times_ms: Vec<i64>,
}

impl BatchBuilder {
    fn len(&self) -> usize {
        self.records.max(self.accepted.len() + self.rejected.len())
    }

    /// Stages a refusal for the dead-letter topic: the current `message`'s
    /// bytes, or (for an expired fragment of an earlier record) the bytes the
    /// refusal carries.
    fn refuse(&mut self, refused: Refused, message: Option<&BorrowedMessage<'_>>) {
        let rejection = refused.rejection;
        metrics::counter!("porttrack_records_rejected_total", "reason" => rejection.class.as_str())
            .increment(1);
        tracing::debug!(%rejection, partition = refused.origin.partition, offset = refused.origin.offset, "record refused");
        let (payload, headers, key) = match (refused.payload, message) {
            (Some(bytes), _) => (Some(bytes), Vec::new(), None),
            (None, Some(message)) => (
                message.payload().map(<[u8]>::to_vec),
                message
                    .headers()
                    .map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec))).collect())
                    .unwrap_or_default(),
                message.key().map(<[u8]>::to_vec),
            ),
            (None, None) => (None, Vec::new(), None),
        };
        self.rejected.push(DeadLetter { origin: refused.origin, key, payload, headers, rejection });
    }

    fn push_offset(&mut self, topic: &Arc<str>, partition: i32, offset: i64) {
        self.records += 1;
        self.opened.get_or_insert_with(Instant::now);
        let next = offset + 1;
        self.offsets
            .entry((Arc::clone(topic), partition))
            .and_modify(|o| *o = (*o).max(next))
            .or_insert(next);
    }

    fn seal(&mut self, generation: u64, inflight: &Arc<InFlight>) -> Option<Batch> {
        let opened = self.opened.take()?;
        let held = std::mem::take(&mut self.held);
        let mut offsets: Vec<(Arc<str>, i32, i64)> = self
            .offsets
            .drain()
            .map(|((topic, partition), next)| {
                let next = match held.get(&(Arc::clone(&topic), partition)) {
                    Some(Some(fragment)) => next.min(*fragment),
                    _ => next,
                };
                (topic, partition, next)
            })
            .collect();
        offsets.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        Some(Batch {
            accepted: std::mem::take(&mut self.accepted),
            rejected: std::mem::take(&mut self.rejected),
            offsets,
            opened,
            trace_parents: std::mem::take(&mut self.trace_parents),
            trace_parents_dropped: std::mem::take(&mut self.trace_parents_dropped),
            records: std::mem::take(&mut self.records),
            record_times_ms: std::mem::take(&mut self.record_times_ms),
            generation,
            _ticket: Ticket::new(inflight),
        })
    }
}

#[derive(Debug, Default)]
struct Staging {
    builder: BatchBuilder,
    /// A sealed batch the channel had no room for.
    pending: Option<Batch>,
}

#[derive(Debug, Default)]
struct CommitState {
    generation: u64,
    /// Offsets acknowledged since the last synchronous commit.
    completed: HashMap<(Arc<str>, i32), i64>,
}

/// What the owner of per-partition state does when partitions move.
///
/// Both hooks run on the poll thread inside the rebalance callback, so no
/// record of an assigned partition is staged before [`assigned`] returns,
/// and revoked partitions' batches are drained and committed before
/// [`revoked`] is called. Partition numbers are deduplicated across topics
/// (topics are co-partitioned by MMSI).
///
/// [`assigned`]: PartitionHooks::assigned
/// [`revoked`]: PartitionHooks::revoked
pub trait PartitionHooks: Send + Sync {
    /// Partitions newly owned: restore their state before processing them.
    fn assigned(&self, partitions: &[i32]);
    /// Partitions given up: forget their state (it was checkpointed).
    fn revoked(&self, partitions: &[i32]);
}

/// Hooks that do nothing, for sources without per-partition state.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl PartitionHooks for NoHooks {
    fn assigned(&self, _: &[i32]) {}
    fn revoked(&self, _: &[i32]) {}
}

/// Where the source stands on one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FetchPosition {
    /// No committed offset and nothing consumed yet: wherever
    /// `auto.offset.reset` (earliest) puts the first record.
    Unknown,
    /// The next offset to stage.
    Next(i64),
    /// A record beyond `Next(n)` arrived; the source seeked back to `n`. The
    /// next record decides: `n` itself, or a later offset confirming a real
    /// gap in the log (compaction, transaction markers).
    Refetching(i64),
}

struct Shared {
    config: SourceConfig,
    staging: Mutex<Staging>,
    tx: Mutex<Option<mpsc::Sender<Batch>>>,
    inflight: Arc<InFlight>,
    commits: Mutex<CommitState>,
    positions: Mutex<HashMap<(Arc<str>, i32), FetchPosition>>,
    assigned: AtomicUsize,
    paused: AtomicBool,
    /// Set when fetch positions were moved back (see
    /// `Shared::restart_from_committed`); the poll loop seeks before polling.
    rewind: AtomicBool,
    shutdown: AtomicBool,
    heartbeat_unix_ms: AtomicI64,
    lag: AtomicI64,
    consumed: std::sync::atomic::AtomicU64,
    decoders: Mutex<Decoders>,
    hooks: Arc<dyn PartitionHooks>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("assigned", &self.assigned)
            .field("paused", &self.paused)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind; keep going.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn generation(&self) -> u64 {
        lock(&self.commits).generation
    }

    /// Seals the builder if it is due (full, lingered, or `force`) and no
    /// sealed batch is already waiting.
    fn seal_if_due(&self, staging: &mut Staging, force: bool) {
        if staging.pending.is_some() {
            return;
        }
        let due = force
            || staging.builder.len() >= self.config.batch_max_records
            || staging.builder.opened.is_some_and(|t| t.elapsed() >= self.config.batch_linger);
        if due {
            staging.pending = staging.builder.seal(self.generation(), &self.inflight);
        }
    }

    /// Moves the pending batch into the channel if there is room. Returns
    /// whether a batch is still pending.
    fn dispatch(&self, staging: &mut Staging) -> bool {
        let Some(batch) = staging.pending.take() else { return false };
        let tx = lock(&self.tx);
        let Some(tx) = tx.as_ref() else {
            // The pipeline is gone: nothing can acknowledge this batch.
            return false;
        };
        match tx.try_send(batch) {
            Ok(()) => false,
            Err(mpsc::error::TrySendError::Full(batch)) => {
                staging.pending = Some(batch);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Seals and dispatches everything staged, waiting for channel room until
    /// `deadline`. Returns false if something had to be dropped uncommitted.
    fn flush(&self, deadline: Instant) -> bool {
        loop {
            {
                let mut staging = lock(&self.staging);
                self.seal_if_due(&mut staging, true);
                let still_pending = self.dispatch(&mut staging);
                if !still_pending && staging.builder.len() == 0 {
                    return true;
                }
                if Instant::now() >= deadline {
                    staging.pending = None;
                    staging.builder = BatchBuilder::default();
                    return false;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Called on revocation and at shutdown: drain, commit synchronously, and
    /// open a new generation so stragglers cannot commit.
    /// Returns whether every batch was acknowledged in time.
    fn drain_and_commit<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>) -> bool {
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
        let completed = {
            let mut commits = lock(&self.commits);
            commits.generation += 1;
            std::mem::take(&mut commits.completed)
        };
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
            Ok(()) => metrics::counter!("porttrack_offset_commits_total", "result" => "ok").increment(1),
            Err(e) => {
                metrics::counter!("porttrack_offset_commits_total", "result" => "error").increment(1);
                tracing::warn!(error = %e, "synchronous offset commit failed; records after the last commit will be replayed");
            }
        }
        clean
    }

    fn set_assigned(&self, partitions: usize) {
        self.assigned.store(partitions, Ordering::Relaxed);
        metrics::gauge!("porttrack_partitions_assigned").set(partitions as f64);
    }

    /// Moves the fetch position of `partitions` back to their committed
    /// offsets; the poll loop seeks there before its next poll.
    fn restart_from_committed<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        partitions: &[(Arc<str>, i32)],
    ) {
        let mut tpl = TopicPartitionList::with_capacity(partitions.len());
        for (topic, partition) in partitions {
            tpl.add_partition(topic, *partition);
        }
        let committed = match consumer.committed_offsets(tpl, self.config.drain_timeout) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "reading committed offsets to restart kept partitions; they restart unknown");
                TopicPartitionList::new()
            }
        };
        let mut positions = lock(&self.positions);
        for (topic, partition) in partitions {
            positions
                .insert((Arc::clone(topic), *partition), committed_position(&committed, topic, *partition));
        }
        tracing::warn!(partitions = ?tp_list(partitions), "kept partitions restart from their committed offsets");
        self.rewind.store(true, Ordering::SeqCst);
    }
}

/// The fetch position a partition starts from: its committed offset, or
/// unknown (where `auto.offset.reset` puts it).
fn committed_position(committed: &TopicPartitionList, topic: &str, partition: i32) -> FetchPosition {
    match committed.find_partition(topic, partition).map(|c| c.offset()) {
        Some(Offset::Offset(o)) => FetchPosition::Next(o),
        _ => FetchPosition::Unknown,
    }
}

/// The partition numbers among `changed` that no partition in `owned` has:
/// processor state is per partition number (topics are co-partitioned), so
/// it is restored when the first topic's partition of a number arrives and
/// forgotten when the last one leaves.
fn numbers_not_in(changed: &[(Arc<str>, i32)], owned: &HashMap<(Arc<str>, i32), FetchPosition>) -> Vec<i32> {
    let mut numbers: Vec<i32> =
        changed.iter().map(|(_, p)| *p).filter(|p| !owned.keys().any(|(_, q)| q == p)).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// Logs when this member owns a partition number on some topics but not on
/// others: the range assignor keeps them together when every topic has the
/// same partition count, so this means the topics' counts differ.
fn warn_unless_copartitioned(owned: &HashMap<(Arc<str>, i32), FetchPosition>) {
    let mut by_topic: HashMap<&str, Vec<i32>> = HashMap::new();
    for (topic, partition) in owned.keys() {
        by_topic.entry(&**topic).or_default().push(*partition);
    }
    for list in by_topic.values_mut() {
        list.sort_unstable();
    }
    let mut lists = by_topic.values();
    if let Some(first) = lists.next()
        && lists.any(|l| l != first)
    {
        tracing::warn!(
            assignment = ?by_topic,
            "assignment is not co-partitioned: give every topic the same partition count"
        );
    }
}

/// `topic[partition]` pairs for logs, sorted.
fn tp_list(partitions: &[(Arc<str>, i32)]) -> Vec<String> {
    let mut v: Vec<String> = partitions.iter().map(|(t, p)| format!("{t}[{p}]")).collect();
    v.sort();
    v
}

/// The librdkafka callbacks of the source's consumer.
#[derive(Debug)]
pub struct SourceContext {
    shared: Arc<Shared>,
}

impl ClientContext for SourceContext {
    fn stats(&self, statistics: Statistics) {
        let mut total = 0_i64;
        // librdkafka reports every partition it knows of, and keeps the last
        // lag of a partition this member gave up: export owned ones only (the
        // revoke callback zeroed the others), or a stale lag outlives the move.
        let positions = lock(&self.shared.positions);
        for (topic_name, topic) in &statistics.topics {
            let topic_key: Arc<str> = Arc::from(topic_name.as_str());
            for (partition, p) in &topic.partitions {
                // Partition -1 is librdkafka's internal "unassigned" bucket;
                // a lag of -1 means unknown (not assigned or not yet fetched).
                if *partition < 0
                    || p.consumer_lag < 0
                    || !positions.contains_key(&(Arc::clone(&topic_key), *partition))
                {
                    continue;
                }
                total += p.consumer_lag;
                metrics::gauge!(
                    "porttrack_consumer_lag_records",
                    "topic" => topic_name.clone(),
                    "partition" => partition.to_string()
                )
                .set(p.consumer_lag as f64);
            }
        }
        self.shared.lag.store(total, Ordering::Relaxed);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        metrics::counter!("porttrack_kafka_errors_total").increment(1);
        tracing::warn!(error = %error, reason, "kafka client error");
    }
}

impl ConsumerContext for SourceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        // Under the KIP-848 protocol both lists are increments: the
        // partitions that move, never the whole assignment. (The classic
        // eager protocol revokes everything, then assigns the new set, which
        // is the same code with bigger lists.)
        match rebalance {
            Rebalance::Revoke(tpl) => {
                metrics::counter!("porttrack_rebalances_total", "kind" => "revoke").increment(1);
                let revoked: Vec<(Arc<str>, i32)> =
                    tpl.elements().iter().map(|e| (Arc::from(e.topic()), e.partition())).collect();
                tracing::info!(partitions = ?tp_list(&revoked), "partitions revoked: draining in-flight batches");
                let clean = self.shared.drain_and_commit(consumer);
                lock(&self.shared.decoders).forget_partitions(&revoked);
                let (released, kept) = {
                    let mut positions = lock(&self.shared.positions);
                    for key in &revoked {
                        positions.remove(key);
                    }
                    let kept: Vec<(Arc<str>, i32)> = positions.keys().cloned().collect();
                    (numbers_not_in(&revoked, &positions), kept)
                };
                self.shared.hooks.revoked(&released);
                for (topic, partition) in &revoked {
                    metrics::gauge!(
                        "porttrack_consumer_lag_records",
                        "topic" => topic.to_string(),
                        "partition" => partition.to_string()
                    )
                    .set(0.0);
                }
                if !clean && !kept.is_empty() {
                    // Batches of the partitions this member keeps were cut
                    // off by the new generation without being acknowledged:
                    // their offsets will never commit, and later batches
                    // must not commit past them. Start those partitions
                    // again from their committed offsets (the sinks absorb
                    // the replay).
                    self.shared.restart_from_committed(consumer, &kept);
                }
                self.shared.set_assigned(kept.len());
            }
            Rebalance::Assign(tpl) => {
                metrics::counter!("porttrack_rebalances_total", "kind" => "assign").increment(1);
                let added: Vec<(Arc<str>, i32)> =
                    tpl.elements().iter().map(|e| (Arc::from(e.topic()), e.partition())).collect();
                tracing::info!(partitions = ?tp_list(&added), "partitions assigned");
                let committed = consumer
                    .committed_offsets((*tpl).clone(), self.shared.config.drain_timeout)
                    .unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "reading committed offsets; positions start unknown");
                        TopicPartitionList::new()
                    });
                let (gained, total) = {
                    let mut positions = lock(&self.shared.positions);
                    let gained = numbers_not_in(&added, &positions);
                    for (topic, partition) in &added {
                        positions.insert(
                            (Arc::clone(topic), *partition),
                            committed_position(&committed, topic, *partition),
                        );
                    }
                    warn_unless_copartitioned(&positions);
                    (gained, positions.len())
                };
                self.shared.hooks.assigned(&gained);
                self.shared.set_assigned(total);
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        // librdkafka keeps a partition's pause flag across unassign/assign, so
        // a partition paused before the rebalance would come back paused and
        // never be fetched again (seen: an instance idle on two partitions).
        // Apply the source's current back-pressure state to the new
        // assignment explicitly.
        if let Rebalance::Assign(tpl) = rebalance {
            let paused = self.shared.paused.load(Ordering::Relaxed);
            let result = if paused { consumer.pause(tpl) } else { consumer.resume(tpl) };
            if let Err(e) = result {
                tracing::warn!(error = %e, paused, "applying back-pressure state to the new assignment");
            }
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            metrics::counter!("porttrack_offset_commits_total", "result" => "error").increment(1);
            tracing::warn!(error = %e, "offset commit failed");
        }
    }
}

/// Commits a batch's offsets once the pipeline has acknowledged it.
#[derive(Debug, Clone)]
pub struct Committer {
    consumer: Weak<BaseConsumer<SourceContext>>,
    shared: Arc<Shared>,
}

impl Committer {
    /// Marks `batch` as acknowledged by every sink and commits its offsets
    /// (asynchronously; the next rebalance or shutdown commits synchronously).
    pub fn complete(&self, batch: Batch) {
        let mut commits = lock(&self.shared.commits);
        if batch.generation != commits.generation {
            metrics::counter!("porttrack_batches_stale_total").increment(1);
            return;
        }
        let mut tpl = TopicPartitionList::with_capacity(batch.offsets.len());
        for (topic, partition, next) in &batch.offsets {
            commits
                .completed
                .entry((Arc::clone(topic), *partition))
                .and_modify(|o| *o = (*o).max(*next))
                .or_insert(*next);
            if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*next)) {
                tracing::error!(error = %e, "building commit list");
            }
        }
        if let Some(consumer) = self.consumer.upgrade() {
            match consumer.commit(&tpl, CommitMode::Async) {
                Ok(()) => metrics::counter!("porttrack_offset_commits_total", "result" => "ok").increment(1),
                Err(e) => tracing::warn!(error = %e, "queueing offset commit failed"),
            }
        }
    }
}

/// A cheap handle to observe and stop a running [`Source`].
#[derive(Debug, Clone)]
pub struct SourceHandle {
    shared: Arc<Shared>,
}

impl SourceHandle {
    /// Asks the poll loop to drain, commit and leave the group.
    pub fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
    }

    /// Partitions currently assigned to this member.
    pub fn assigned_partitions(&self) -> usize {
        self.shared.assigned.load(Ordering::Relaxed)
    }

    /// Unix milliseconds of the poll loop's last iteration.
    pub fn last_heartbeat_unix_ms(&self) -> i64 {
        self.shared.heartbeat_unix_ms.load(Ordering::Relaxed)
    }

    /// Consumer lag summed over assigned partitions, from librdkafka statistics.
    pub fn lag(&self) -> i64 {
        self.shared.lag.load(Ordering::Relaxed)
    }

    /// Records consumed (and staged) since start.
    pub fn consumed(&self) -> u64 {
        self.shared.consumed.load(Ordering::Relaxed)
    }

    /// Whether the source is holding back because the sinks are behind.
    pub fn backpressured(&self) -> bool {
        self.shared.paused.load(Ordering::Relaxed)
    }
}

/// A consumer-group member that turns records into [`Batch`]es.
pub struct Source {
    consumer: Arc<BaseConsumer<SourceContext>>,
    shared: Arc<Shared>,
    topics: Vec<Arc<str>>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source").field("topics", &self.topics).finish_non_exhaustive()
    }
}

impl Source {
    /// Creates the consumer, subscribes to the positions topic and returns the
    /// source with the receiving end of its batch channel and its committer.
    ///
    /// `hooks` hear of partitions assigned (before their records are staged)
    /// and revoked (after their in-flight batches were drained and committed).
    pub fn new(
        kafka: &KafkaConfig,
        config: SourceConfig,
        hooks: Arc<dyn PartitionHooks>,
    ) -> Result<(Source, mpsc::Receiver<Batch>, Committer), SourceError> {
        let decoders = Decoders::new(kafka, config.rules.clone(), config.avro.clone())?;
        let (tx, rx) = mpsc::channel(config.max_in_flight_batches.max(1));
        let shared = Arc::new(Shared {
            config,
            staging: Mutex::default(),
            tx: Mutex::new(Some(tx)),
            inflight: Arc::default(),
            commits: Mutex::default(),
            positions: Mutex::default(),
            assigned: AtomicUsize::new(0),
            paused: AtomicBool::new(false),
            rewind: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            heartbeat_unix_ms: AtomicI64::new(Utc::now().timestamp_millis()),
            lag: AtomicI64::new(0),
            consumed: std::sync::atomic::AtomicU64::new(0),
            decoders: Mutex::new(decoders),
            hooks,
        });
        let consumer: BaseConsumer<SourceContext> =
            kafka.consumer_config().create_with_context(SourceContext { shared: Arc::clone(&shared) })?;
        consumer.subscribe(&kafka.topic_names())?;
        let consumer = Arc::new(consumer);
        let committer = Committer { consumer: Arc::downgrade(&consumer), shared: Arc::clone(&shared) };
        let topics = kafka.topic_names().into_iter().map(Arc::from).collect();
        Ok((Source { consumer, shared, topics }, rx, committer))
    }

    /// A handle for health checks and shutdown.
    pub fn handle(&self) -> SourceHandle {
        SourceHandle { shared: Arc::clone(&self.shared) }
    }

    /// Runs the poll loop on the calling thread until [`SourceHandle::shutdown`];
    /// then drains, commits, and leaves the group. Blocking: give it a thread.
    pub fn run(self) {
        let shared = Arc::clone(&self.shared);
        let consumer = &*self.consumer;
        let mut last_expiry = Instant::now();
        while !shared.shutdown.load(Ordering::SeqCst) {
            shared.heartbeat_unix_ms.store(Utc::now().timestamp_millis(), Ordering::Relaxed);
            if last_expiry.elapsed() >= Duration::from_secs(1) {
                self.expire_fragments();
                last_expiry = Instant::now();
            }
            let backpressured = {
                let mut staging = lock(&shared.staging);
                shared.seal_if_due(&mut staging, false);
                shared.dispatch(&mut staging)
            };
            self.set_paused(backpressured);
            if shared.rewind.swap(false, Ordering::SeqCst)
                && let Err(e) = self.rewind_to_positions()
            {
                tracing::error!(error = %e, "seeking kept partitions back to their committed offsets");
            }
            let timeout = if backpressured { Duration::from_millis(50) } else { self.poll_timeout() };
            match consumer.poll(timeout) {
                Some(Ok(message)) => self.stage(&message),
                Some(Err(e)) => {
                    metrics::counter!("porttrack_kafka_errors_total").increment(1);
                    tracing::warn!(error = %e, "consume error");
                }
                None => {}
            }
        }
        tracing::info!("source stopping: draining in-flight batches");
        shared.drain_and_commit(consumer);
        // No more batches: lets the pipeline's receive loop end.
        lock(&shared.tx).take();
        // Dropping the only strong reference closes the consumer, which
        // leaves the group so the partitions move without a session timeout.
        consumer.unsubscribe();
        drop(self);
        tracing::info!("source stopped: left the consumer group");
    }

    /// Dead-letters NMEA fragments that waited past the reassembly timeout on
    /// partitions no new record arrives on, and lets the next commit move past
    /// them.
    fn expire_fragments(&self) {
        let (decoded, touched, held) = {
            let mut decoders = lock(&self.shared.decoders);
            let (decoded, touched) = decoders.expire(Utc::now());
            let held: Vec<Option<i64>> = touched.iter().map(|(t, p)| decoders.held_offset(t, *p)).collect();
            (decoded, touched, held)
        };
        if decoded.rejections.is_empty() {
            return;
        }
        let positions: Vec<Option<i64>> = {
            let positions = lock(&self.shared.positions);
            touched
                .iter()
                .map(|key| match positions.get(key) {
                    Some(FetchPosition::Next(n) | FetchPosition::Refetching(n)) => Some(*n),
                    _ => None,
                })
                .collect()
        };
        let mut staging = lock(&self.shared.staging);
        staging.builder.opened.get_or_insert_with(Instant::now);
        for (((topic, partition), held), next) in touched.into_iter().zip(held).zip(positions) {
            if let Some(next) = next {
                staging
                    .builder
                    .offsets
                    .entry((Arc::clone(&topic), partition))
                    .and_modify(|o| *o = (*o).max(next))
                    .or_insert(next);
            }
            staging.builder.held.insert((topic, partition), held);
        }
        for refused in decoded.rejections {
            staging.builder.refuse(refused, None);
        }
    }

    fn poll_timeout(&self) -> Duration {
        let staging = lock(&self.shared.staging);
        match staging.builder.opened {
            Some(opened) => self.shared.config.batch_linger.saturating_sub(opened.elapsed()),
            None => Duration::from_millis(100),
        }
        .clamp(Duration::from_millis(1), Duration::from_millis(100))
    }

    fn set_paused(&self, paused: bool) {
        if self.shared.paused.load(Ordering::Relaxed) == paused {
            return;
        }
        let result = self.consumer.assignment().and_then(|tpl| {
            if paused {
                self.consumer.pause(&tpl)
            } else {
                self.rewind_to_positions()?;
                self.consumer.resume(&tpl)
            }
        });
        match result {
            Ok(()) => {
                self.shared.paused.store(paused, Ordering::Relaxed);
                metrics::gauge!("porttrack_source_paused").set(if paused { 1.0 } else { 0.0 });
                tracing::debug!(paused, "sink backpressure changed");
            }
            Err(e) => tracing::warn!(error = %e, paused, "pausing/resuming partitions"),
        }
    }

    /// Seeks every assigned partition to the source's own position, undoing
    /// whatever librdkafka prefetched and dropped while paused.
    fn rewind_to_positions(&self) -> KafkaResult<()> {
        let positions = lock(&self.shared.positions);
        let mut tpl = TopicPartitionList::with_capacity(positions.len());
        for ((topic, partition), at) in positions.iter() {
            let offset = match at {
                FetchPosition::Next(n) | FetchPosition::Refetching(n) => Offset::Offset(*n),
                FetchPosition::Unknown => Offset::Beginning,
            };
            tpl.add_partition_offset(topic, *partition, offset)?;
        }
        drop(positions);
        if tpl.count() > 0 {
            let result = self.consumer.seek_partitions(tpl, Duration::from_secs(10))?;
            for e in result.elements() {
                if let Err(err) = e.error() {
                    tracing::warn!(partition = e.partition(), error = %err, "seeking to the source position");
                }
            }
        }
        Ok(())
    }

    /// Decides whether `message` is the next record of its partition.
    /// Returns false for a record to drop (a re-delivery, or one past a gap
    /// that is being re-fetched).
    fn in_sequence(&self, topic: &Arc<str>, message: &BorrowedMessage<'_>) -> bool {
        let (partition, offset) = (message.partition(), message.offset());
        let mut positions = lock(&self.shared.positions);
        let Some(at) = positions.get(&(Arc::clone(topic), partition)).copied() else {
            // Not (or no longer) this member's: a record librdkafka fetched
            // before the partition was revoked. Its new owner reads it.
            tracing::debug!(partition, offset, "record of a partition this member does not own; skipped");
            return false;
        };
        let accept = match at {
            FetchPosition::Unknown => true,
            FetchPosition::Next(n) | FetchPosition::Refetching(n) if offset == n => true,
            FetchPosition::Next(n) | FetchPosition::Refetching(n) if offset < n => {
                metrics::counter!("porttrack_records_redelivered_total").increment(1);
                false
            }
            FetchPosition::Next(n) => {
                // Records n..offset were not delivered. Fetch again from n once.
                drop(positions);
                tracing::warn!(
                    partition,
                    expected = n,
                    got = offset,
                    "offset gap; re-fetching from the expected offset"
                );
                metrics::counter!("porttrack_offset_refetches_total").increment(1);
                match self.consumer.seek(topic, partition, Offset::Offset(n), Duration::from_secs(10)) {
                    Ok(()) => {
                        lock(&self.shared.positions)
                            .insert((Arc::clone(topic), partition), FetchPosition::Refetching(n));
                        return false;
                    }
                    Err(e) => {
                        tracing::error!(partition, error = %e, "re-fetch seek failed; accepting the gap");
                        metrics::counter!("porttrack_offset_gaps_total").increment(1);
                        positions = lock(&self.shared.positions);
                        true
                    }
                }
            }
            FetchPosition::Refetching(n) => {
                // The broker itself has nothing between n and offset.
                tracing::warn!(
                    partition,
                    from = n,
                    to = offset,
                    "offsets missing in the log itself; continuing"
                );
                metrics::counter!("porttrack_offset_gaps_total").increment(1);
                true
            }
        };
        if accept {
            positions.insert((Arc::clone(topic), partition), FetchPosition::Next(offset + 1));
        }
        accept
    }

    /// Keeps the record's W3C `traceparent` header for the batch span's
    /// links, up to the cap; later ones are only counted.
    fn keep_trace_parent(&self, builder: &mut BatchBuilder, message: &BorrowedMessage<'_>) {
        let cap = self.shared.config.max_trace_parents;
        if cap == 0 {
            return;
        }
        let Some(value) = message
            .headers()
            .and_then(|headers| headers.iter().find(|h| h.key == TRACEPARENT))
            .and_then(|h| h.value)
        else {
            return;
        };
        // Version 00 is 55 bytes; later versions may append fields. Anything
        // much longer is not a trace context and is not worth keeping.
        match std::str::from_utf8(value) {
            Ok(v) if v.len() <= 128 && builder.trace_parents.len() < cap => {
                builder.trace_parents.push(v.to_owned());
            }
            _ => builder.trace_parents_dropped += 1,
        }
    }

    fn topic(&self, name: &str) -> Arc<str> {
        self.topics.iter().find(|t| &***t == name).cloned().unwrap_or_else(|| Arc::from(name))
    }

    fn stage(&self, message: &BorrowedMessage<'_>) {
        let topic = self.topic(message.topic());
        if !self.in_sequence(&topic, message) {
            return;
        }
        metrics::counter!("porttrack_records_consumed_total").increment(1);
        self.shared.consumed.fetch_add(1, Ordering::Relaxed);

        let origin = Origin::new(topic, message.partition(), message.offset());
        let payload = message.payload().unwrap_or_default();
        let record = RecordIn {
            origin: &origin,
            payload,
            timestamp: message.timestamp().to_millis().and_then(chrono::DateTime::from_timestamp_millis),
        };
        let (decoded, held) = {
            let mut decoders = lock(&self.shared.decoders);
            let decoded = decoders.decode(&record, Utc::now());
            let held = decoders.held_offset(&origin.topic, origin.partition);
            (decoded, held)
        };
        let mut staging = lock(&self.shared.staging);
        staging.builder.push_offset(&origin.topic, origin.partition, origin.offset);
        if let Some(t) = record.timestamp {
            staging.builder.record_times_ms.push(t.timestamp_millis());
        }
        self.keep_trace_parent(&mut staging.builder, message);
        staging.builder.held.insert((Arc::clone(&origin.topic), origin.partition), held);
        staging.builder.accepted.extend(decoded.events);
        for refused in decoded.rejections {
            staging.builder.refuse(refused, Some(message));
        }
        self.shared.seal_if_due(&mut staging, false);
    }
}
