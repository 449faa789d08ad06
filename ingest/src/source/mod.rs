//! The consumer-group member: Kafka records in, [`Batch`]es out, offsets
//! committed only once every sink has acknowledged them.
//!
//! ```text
//!   poll thread (Source::run)              pipeline (async)
//!   ─────────────────────────              ────────────────
//!   poll → in sequence? → decode
//!        → BatchBuilder (staging)
//!        seal (size or linger) ──Batch──▶  bounded channel ──▶ sinks write
//!        channel full: wait (up to 1 s),                         │ all acked
//!        then pause partitions and keep                          │
//!        polling (group stays alive)                             ▼
//!                                          Committer::complete ── commit offsets
//!   librdkafka callbacks, also on the poll thread (inside poll):
//!        revoke → seal, drain in-flight, commit synchronously, new generation
//!        assign → fetch positions from the committed offsets
//! ```
//!
//! Invariants:
//!
//! * A partition's committed offset only moves over records every sink has
//!   acknowledged: batches are completed in the order they were sealed (one
//!   channel, one consumer of it) and a batch's commit covers only its own
//!   records. A batch never commits past an NMEA fragment still waiting for
//!   its other parts.
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
//! * The source owns the fetch position. It knows, per assigned partition,
//!   the next offset it must stage (from the committed offset at assignment,
//!   then from every staged record). Pausing a partition discards what
//!   librdkafka had prefetched for it, so on resume the source seeks every
//!   partition back to its own position. A record arriving past that
//!   position (a gap: a broker that served too little, or records the
//!   source skipped by mistake) triggers one re-fetch from it, and a record
//!   before it (a re-delivery) is skipped. Apache Kafka itself never skips;
//!   the check stays as a defence against Kafka-compatible brokers that do
//!   (it caught one) and costs one comparison per record. A gap the broker
//!   confirms (compaction, transaction markers) is counted and logged.
//! * Memory stays bounded during a sink outage: at most
//!   `max_in_flight_batches` batches in the channel, one pending, and what
//!   librdkafka had already fetched before the partitions were paused.
//!
//! # Where things are
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | the public face ([`Source`], [`SourceHandle`], [`SourceConfig`], [`SourceError`], [`PartitionHooks`]) and `Shared`, the state every part below reads |
//! | `poll.rs` | the poll loop ([`Source::run`]): staging a record, back-pressure (waiting for room, then pause and resume), expiring NMEA fragments |
//! | `batch.rs` | the batch being built (`BatchBuilder`), the sealed one waiting for channel room (`Staging`), [`Batch`], in-flight tickets; sealing and dispatching |
//! | `positions.rs` | the fetch position of every owned partition: in-sequence check, re-fetch, rewind after a pause or a cut-off generation |
//! | `commit.rs` | generations, [`Committer`] (asynchronous commits as batches complete), drain-and-commit (synchronous, on revocation and shutdown) |
//! | `rebalance.rs` | the librdkafka callbacks ([`SourceContext`]): statistics, errors, incremental assign and revoke |
//!
//! # Threads and locks
//!
//! Everything runs on the poll thread, librdkafka's callbacks included
//! (librdkafka calls them from inside `poll`), except
//! [`Committer::complete`] (the pipeline's task) and [`SourceHandle`]
//! (anyone). What only the poll thread touches, the batch being staged,
//! the fetch positions and the decoders, is one `PollState` behind one
//! mutex (`Shared::poll`): uncontended, it is there because the callbacks'
//! context must be `Sync`, and one lock per staged record costs a third of
//! three. What crosses threads (`commits`, `tx`, the in-flight count,
//! `spare`) has a mutex of its own. Each type (`Staging`, `CommitState`,
//! `Positions`) changes its fields only through its own methods. Locks are
//! held briefly; the only nesting is `poll` → `commits` (the generation
//! read while sealing), `poll` → `tx` (dispatching), `poll` → the in-flight
//! count (a sealed batch takes a ticket) and `poll` → `spare` (a recycled
//! events vector for the next batch). Nothing takes them in the other
//! order.
//!
//! [`GroupProtocol`]: crate::config::GroupProtocol

mod batch;
mod commit;
pub(crate) mod hash;
mod poll;
mod positions;
mod rebalance;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use porttrack_schemas::{Event, Sourced, Topic, ValidationRules};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use tokio::sync::mpsc;

pub use self::batch::Batch;
use self::batch::{InFlight, Staging};
use self::commit::CommitState;
pub use self::commit::Committer;
use self::positions::Positions;
pub use self::rebalance::SourceContext;
use crate::config::KafkaConfig;
use crate::decode::{AvroConfig, Decoders, DecodersError};

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
    /// The `[kafka]` settings could not be applied (a secret file unreadable).
    #[error(transparent)]
    Config(#[from] crate::config::KafkaConfigError),
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
    /// How long a sealed batch waits for room among them before the source
    /// pauses its partitions (see `Source::wait_for_room` in `poll.rs`).
    pub pause_after: Duration,
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
            // Longer than the sinks' usual hiccups (a batch written, a
            // checkpoint taken: tens to a few hundred milliseconds), far
            // below `max.poll.interval.ms`.
            pause_after: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(20),
            rules: ValidationRules::default(),
            avro: AvroConfig::default(),
            max_trace_parents: 0,
        }
    }
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

/// A topic partition: the key of every per-partition table of the source.
type TopicPartition = (Topic, i32);

/// The state the poll loop, the librdkafka callbacks, the [`Committer`] and
/// the [`SourceHandle`]s share. See the module documentation for who runs
/// where and the order locks are taken in.
struct Shared {
    config: SourceConfig,
    /// The poll thread's own state (see [`PollState`]).
    poll: Mutex<PollState>,
    /// The batch channel; taken (closed) when the source stops.
    tx: Mutex<Option<mpsc::Sender<Batch>>>,
    /// Sealed batches not yet completed or dropped.
    inflight: Arc<InFlight>,
    /// The generation and the offsets acknowledged since the last
    /// synchronous commit (`commit.rs`).
    commits: Mutex<CommitState>,
    assigned: AtomicUsize,
    paused: AtomicBool,
    /// Set when fetch positions were moved back (see
    /// `Shared::restart_from_committed`); the poll loop seeks before polling.
    rewind: AtomicBool,
    shutdown: AtomicBool,
    heartbeat_unix_ms: AtomicI64,
    lag: AtomicI64,
    consumed: AtomicU64,
    hooks: Arc<dyn PartitionHooks>,
    /// Emptied event vectors of completed batches, for the next ones
    /// (`batch.rs`, `Shared::recycle`). A leaf lock: nothing is taken
    /// while it is held.
    spare: Mutex<Vec<Vec<Sourced<Event>>>>,
}

/// What only the poll thread reads and changes, in its loop and in
/// librdkafka's callbacks (which run inside its `poll`): one lock per
/// staged record for all three. A record is judged against its partition's
/// position, decoded, and staged, in that order, under one guard.
struct PollState {
    /// Records staged into the next batch, and a sealed batch waiting for
    /// channel room (`batch.rs`).
    staging: Staging,
    /// Per owned partition, the next offset to stage (`positions.rs`).
    positions: Positions,
    /// Each topic's decoder, with NMEA fragments waiting for their other
    /// parts (`crate::decode`).
    decoders: Decoders,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("assigned", &self.assigned)
            .field("paused", &self.paused)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn set_assigned(&self, partitions: usize) {
        self.assigned.store(partitions, Ordering::Relaxed);
        metrics::gauge!(porttrack_metrics::PARTITIONS_ASSIGNED).set(partitions as f64);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind; keep going.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `topic[partition]` pairs for logs, sorted.
fn tp_list(partitions: &[TopicPartition]) -> Vec<String> {
    let mut v: Vec<String> = partitions.iter().map(|(t, p)| format!("{t}[{p}]")).collect();
    v.sort();
    v
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
///
/// Its poll loop ([`Source::run`]) is in `poll.rs`; the fetch-position
/// checks it makes on every record are in `positions.rs`.
pub struct Source {
    consumer: Arc<BaseConsumer<SourceContext>>,
    shared: Arc<Shared>,
    topics: Vec<Topic>,
    /// `porttrack_records_consumed_total`, resolved once (it counts every record).
    consumed_counter: metrics::Counter,
    /// The runtime the source was created in, if any: the poll thread waits
    /// on it for room in the batch channel (`Source::until_room`).
    runtime: Option<tokio::runtime::Handle>,
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
            poll: Mutex::new(PollState {
                staging: Staging::default(),
                positions: Positions::default(),
                decoders,
            }),
            tx: Mutex::new(Some(tx)),
            inflight: Arc::default(),
            commits: Mutex::default(),
            assigned: AtomicUsize::new(0),
            paused: AtomicBool::new(false),
            rewind: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            heartbeat_unix_ms: AtomicI64::new(Utc::now().timestamp_millis()),
            lag: AtomicI64::new(0),
            consumed: AtomicU64::new(0),
            hooks,
            spare: Mutex::default(),
        });
        let consumer: BaseConsumer<SourceContext> =
            kafka.consumer_config()?.create_with_context(SourceContext::new(Arc::clone(&shared)))?;
        consumer.subscribe(&kafka.topic_names())?;
        let consumer = Arc::new(consumer);
        let committer = Committer::new(Arc::downgrade(&consumer), Arc::clone(&shared));
        let topics = kafka.topic_names().into_iter().map(Topic::from).collect();
        let consumed_counter = metrics::counter!(porttrack_metrics::RECORDS_CONSUMED_TOTAL);
        let runtime = tokio::runtime::Handle::try_current().ok();
        Ok((Source { consumer, shared, topics, consumed_counter, runtime }, rx, committer))
    }

    /// A handle for health checks and shutdown.
    pub fn handle(&self) -> SourceHandle {
        SourceHandle { shared: Arc::clone(&self.shared) }
    }
}
