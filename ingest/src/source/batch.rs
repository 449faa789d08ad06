//! From staged records to batches in the channel.
//!
//! Records are staged into a [`BatchBuilder`]. Once it is full or has
//! lingered, it is sealed into a [`Batch`], which waits in [`Staging`] until
//! the channel has room (while it waits, the poll loop pauses the
//! partitions). Each sealed batch holds a [`Ticket`], so a rebalance can wait
//! for every batch in flight ([`InFlight::wait_zero`]) before it commits.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use porttrack_schemas::{Event, Sourced, Topic};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use tokio::sync::mpsc;

use super::hash::FxHashMap;
use super::{Shared, SourceConfig, TRACEPARENT, TopicPartition, lock};
use crate::dead_letter::DeadLetter;
use crate::decode::Refused;

/// A sealed group of consumed records, in consumption order.
#[derive(Debug)]
pub struct Batch {
    /// Records that decoded and validated.
    pub accepted: Vec<Sourced<Event>>,
    /// Records refused, bound for the dead-letter topic.
    pub rejected: Vec<DeadLetter>,
    /// Per partition, the offset to commit once the batch is acknowledged
    /// (the highest offset in the batch plus one).
    pub offsets: Vec<(Topic, i32, i64)>,
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

    /// The commit generation the batch was sealed in (see `commit.rs`).
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }
}

/// Counts batches that are sealed but not yet completed or dropped.
#[derive(Debug, Default)]
pub(super) struct InFlight {
    count: Mutex<usize>,
    zero: Condvar,
}

impl InFlight {
    /// Waits until no batch is in flight; false if `deadline` came first.
    pub(super) fn wait_zero(&self, deadline: Instant) -> bool {
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
        metrics::gauge!(porttrack_metrics::BATCHES_IN_FLIGHT).increment(1.0);
        Ticket(Arc::clone(inflight))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut count = lock(&self.0.count);
        *count = count.saturating_sub(1);
        metrics::gauge!(porttrack_metrics::BATCHES_IN_FLIGHT).decrement(1.0);
        if *count == 0 {
            self.0.zero.notify_all();
        }
    }
}

/// Processed batches' event vectors kept for reuse ([`Shared::recycle`]):
/// two cover the usual hand-over (one being filled, one coming back).
const SPARE_BUFFERS: usize = 2;

/// The records staged since the last seal: what the next [`Batch`] holds.
#[derive(Debug, Default)]
pub(super) struct BatchBuilder {
    accepted: Vec<Sourced<Event>>,
    rejected: Vec<DeadLetter>,
    /// Per partition, the offset after the last record staged.
    offsets: FxHashMap<TopicPartition, i64>,
    /// Per partition with one, the offset of the earliest fragment still
    /// waiting for its other parts, as of the last record staged: commits
    /// stop there.
    held: FxHashMap<TopicPartition, i64>,
    opened: Option<Instant>,
    trace_parents: Vec<String>,
    trace_parents_dropped: usize,
    records: usize,
    record_times_ms: Vec<i64>,
}

impl BatchBuilder {
    pub(super) fn len(&self) -> usize {
        self.records.max(self.accepted.len() + self.rejected.len())
    }

    /// Counts one consumed record of `partition` at `offset`: the batch's
    /// commit for that partition moves past it.
    pub(super) fn push_offset(&mut self, partition: &TopicPartition, offset: i64) {
        self.records += 1;
        self.opened.get_or_insert_with(Instant::now);
        self.cover(partition, offset + 1);
    }

    /// Lets the batch's commit for `partition` move up to `next` without
    /// staging a record (for expired fragments: the records up to the fetch
    /// position were all staged before).
    pub(super) fn cover(&mut self, partition: &TopicPartition, next: i64) {
        // Looked up before an entry is made: nearly every record's partition
        // is already in the batch, and a lookup by reference makes no key
        // (an `Arc` clone and drop per record).
        match self.offsets.get_mut(partition) {
            Some(o) => *o = (*o).max(next),
            None => {
                self.offsets.insert(*partition, next);
            }
        }
    }

    /// Opens the batch now if nothing opened it yet (the linger counts from
    /// here).
    pub(super) fn open(&mut self) {
        self.opened.get_or_insert_with(Instant::now);
    }

    /// Records the Kafka timestamp of a staged record.
    pub(super) fn record_time(&mut self, unix_ms: i64) {
        self.record_times_ms.push(unix_ms);
    }

    /// Records where `partition`'s earliest waiting fragment is (`None`:
    /// none waits), as of the record just staged.
    ///
    /// Only partitions with a fragment waiting are kept: sealing treats
    /// "none waits" and "never said" alike. So a record of a topic without
    /// fragments (JSON, Avro, complete sentences), nearly every record,
    /// costs a look at an empty map here, not a key made and inserted.
    pub(super) fn hold(&mut self, topic: &Topic, partition: i32, earliest_fragment: Option<i64>) {
        match earliest_fragment {
            Some(offset) => {
                self.held.insert((*topic, partition), offset);
            }
            None if self.held.is_empty() => {}
            None => {
                self.held.remove(&(*topic, partition));
            }
        }
    }

    /// Stages valid events.
    pub(super) fn accept(&mut self, events: impl IntoIterator<Item = Sourced<Event>>) {
        self.accepted.extend(events);
    }

    /// Stages a refusal for the dead-letter topic: the current `message`'s
    /// bytes, or (for an expired fragment of an earlier record) the bytes the
    /// refusal carries.
    pub(super) fn refuse(&mut self, refused: Refused, message: Option<&BorrowedMessage<'_>>) {
        let rejection = refused.rejection;
        metrics::counter!(porttrack_metrics::RECORDS_REJECTED_TOTAL, "reason" => rejection.class.as_str())
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

    /// Keeps the record's W3C `traceparent` header for the batch span's
    /// links, up to `cap`; later ones are only counted.
    pub(super) fn keep_trace_parent(&mut self, message: &BorrowedMessage<'_>, cap: usize) {
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
        if self.trace_parents.len() >= cap {
            // Past the cap only the count matters: no UTF-8 check per record.
            self.trace_parents_dropped += 1;
            return;
        }
        // Version 00 is 55 bytes; later versions may append fields. Anything
        // much longer is not a trace context and is not worth keeping.
        match std::str::from_utf8(value) {
            Ok(v) if v.len() <= 128 => {
                self.trace_parents.push(v.to_owned());
            }
            _ => self.trace_parents_dropped += 1,
        }
    }

    /// Empties the builder into a batch of `generation`, taking an in-flight
    /// ticket; `None` if nothing was staged. Each partition's commit stops
    /// at its earliest waiting fragment.
    fn seal(
        &mut self,
        generation: u64,
        inflight: &Arc<InFlight>,
        spare: Option<Vec<Sourced<Event>>>,
    ) -> Option<Batch> {
        let opened = self.opened.take()?;
        let held = std::mem::take(&mut self.held);
        let mut offsets: Vec<(Topic, i32, i64)> = self
            .offsets
            .drain()
            .map(|((topic, partition), next)| {
                let next = match held.get(&(topic, partition)) {
                    Some(fragment) => next.min(*fragment),
                    None => next,
                };
                (topic, partition, next)
            })
            .collect();
        offsets.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        // The next batch starts with room for as many events and record
        // times as this one held: a vector grown from empty reallocates and
        // copies a dozen times on its way to thousands of events (visible in
        // the poll thread's profile), and sizing by the last batch keeps a
        // quiet pipeline's small batches small. The events' vector is a
        // completed batch's when one is spare (see `Shared::recycle`).
        let (events, times) = (self.accepted.len(), self.record_times_ms.len());
        let next = spare.filter(|v| v.capacity() >= events).unwrap_or_else(|| Vec::with_capacity(events));
        let accepted = std::mem::replace(&mut self.accepted, next);
        let record_times_ms = std::mem::replace(&mut self.record_times_ms, Vec::with_capacity(times));
        Some(Batch {
            accepted,
            rejected: std::mem::take(&mut self.rejected),
            offsets,
            opened,
            trace_parents: std::mem::take(&mut self.trace_parents),
            trace_parents_dropped: std::mem::take(&mut self.trace_parents_dropped),
            records: std::mem::take(&mut self.records),
            record_times_ms,
            generation,
            _ticket: Ticket::new(inflight),
        })
    }
}

/// The batch being built, and a sealed batch the channel had no room for.
#[derive(Debug, Default)]
pub(super) struct Staging {
    builder: BatchBuilder,
    /// A sealed batch the channel had no room for.
    pending: Option<Batch>,
}

impl Staging {
    /// The batch being built.
    pub(super) fn builder(&mut self) -> &mut BatchBuilder {
        &mut self.builder
    }

    /// When the first record staged since the last seal was consumed.
    pub(super) fn opened(&self) -> Option<Instant> {
        self.builder.opened
    }

    /// Whether the builder should be sealed now: no sealed batch is waiting,
    /// and it is full, has lingered, or `force`.
    fn seal_due(&self, force: bool, config: &SourceConfig) -> bool {
        self.pending.is_none()
            && (force
                || self.builder.len() >= config.batch_max_records
                || self.builder.opened.is_some_and(|t| t.elapsed() >= config.batch_linger))
    }

    /// Whether a sealed batch waits for channel room.
    pub(super) fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Seals the builder into the waiting batch (nothing if it is empty);
    /// `spare` (emptied) may hold the next batch's events.
    fn seal(&mut self, generation: u64, inflight: &Arc<InFlight>, spare: Option<Vec<Sourced<Event>>>) {
        self.pending = self.builder.seal(generation, inflight, spare);
    }

    /// Takes the sealed batch waiting for channel room.
    fn take_pending(&mut self) -> Option<Batch> {
        self.pending.take()
    }

    /// Puts back a sealed batch the channel had no room for.
    fn set_pending(&mut self, batch: Batch) {
        self.pending = Some(batch);
    }

    /// Whether nothing is staged or waiting.
    fn is_empty(&self) -> bool {
        self.pending.is_none() && self.builder.len() == 0
    }

    /// Forgets everything staged and the waiting batch (its ticket is
    /// released): their records are not committed and will be replayed.
    fn discard(&mut self) {
        self.pending = None;
        self.builder = BatchBuilder::default();
    }
}

impl Shared {
    /// Seals the builder if it is due (full, lingered, or `force`) and no
    /// sealed batch is already waiting.
    pub(super) fn seal_if_due(&self, staging: &mut Staging, force: bool) {
        if staging.seal_due(force, &self.config) {
            staging.seal(self.generation(), &self.inflight, self.spare());
        }
    }

    /// Seals the builder if it is full and no sealed batch is already
    /// waiting; the linger is [`seal_if_due`](Self::seal_if_due)'s.
    pub(super) fn seal_if_full(&self, staging: &mut Staging) {
        if staging.pending.is_none() && staging.builder.len() >= self.config.batch_max_records {
            staging.seal(self.generation(), &self.inflight, self.spare());
        }
    }

    /// Keeps the (emptied) events vector of a batch the pipeline is done
    /// with ([`Committer::recycle`](super::Committer::recycle), or at the
    /// commit) for a batch sealed later, at most [`SPARE_BUFFERS`] of them.
    ///
    /// Why: a fresh vector of thousands of events is fresh memory from the
    /// allocator (often straight from the kernel), and the poll thread then
    /// page-faults its way through it while staging; reusing one that the
    /// stage is done with avoids that (a few percent of the pipeline's CPU
    /// in the `json → null` profile).
    pub(super) fn recycle(&self, mut events: Vec<Sourced<Event>>) {
        events.clear();
        if events.capacity() == 0 {
            return;
        }
        let mut spare = lock(&self.spare);
        if spare.len() < SPARE_BUFFERS {
            spare.push(events);
        }
    }

    /// A recycled events vector, if one is spare.
    fn spare(&self) -> Option<Vec<Sourced<Event>>> {
        lock(&self.spare).pop()
    }

    /// Moves the pending batch into the channel if there is room. Returns
    /// whether a batch is still pending.
    pub(super) fn dispatch(&self, staging: &mut Staging) -> bool {
        let Some(batch) = staging.take_pending() else { return false };
        let tx = lock(&self.tx);
        let Some(tx) = tx.as_ref() else {
            // The pipeline is gone: nothing can acknowledge this batch.
            return false;
        };
        match tx.try_send(batch) {
            Ok(()) => false,
            Err(mpsc::error::TrySendError::Full(batch)) => {
                staging.set_pending(batch);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Seals and dispatches everything staged, waiting for channel room until
    /// `deadline`. Returns false if something had to be dropped uncommitted.
    pub(super) fn flush(&self, deadline: Instant) -> bool {
        loop {
            {
                let mut state = lock(&self.poll);
                let staging = &mut state.staging;
                self.seal_if_due(staging, true);
                self.dispatch(staging);
                if staging.is_empty() {
                    return true;
                }
                if Instant::now() >= deadline {
                    staging.discard();
                    return false;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use porttrack_schemas::{Origin, Position};

    use super::*;

    fn staged(builder: &mut BatchBuilder, topic: &Topic, offset: i64) {
        builder.push_offset(&(*topic, 0), offset);
        builder.accept([Sourced {
            origin: Origin::new(*topic, 0, offset),
            event: Event::Position(Position {
                mmsi: 244_000_000,
                timestamp: Utc.timestamp_opt(1_790_000_000 + offset, 0).unwrap(),
                lat: 51.9,
                lon: 4.1,
                sog: None,
                cog: None,
                heading: None,
                nav_status: None,
            }),
        }]);
    }

    /// The next batch is staged into a recycled vector when one is given
    /// (no fresh allocation), and into one sized like the last batch when
    /// not; either way each batch holds exactly its own events.
    #[test]
    fn a_spare_vector_is_reused_and_batches_hold_only_their_own_events() {
        let inflight = Arc::new(InFlight::default());
        let topic = Topic::new("ais.positions");
        let mut builder = BatchBuilder::default();
        for offset in 0..3 {
            staged(&mut builder, &topic, offset);
        }
        let mut spare: Vec<Sourced<Event>> = Vec::with_capacity(64);
        spare.push(builder.accepted[0].clone());
        spare.clear();
        let spare_ptr = spare.as_ptr();
        let first = builder.seal(1, &inflight, Some(spare)).unwrap();
        assert_eq!(first.accepted.iter().map(|r| r.origin.offset).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(builder.accepted.as_ptr(), spare_ptr, "the spare vector is staged into");

        staged(&mut builder, &topic, 3);
        let second = builder.seal(1, &inflight, None).unwrap();
        assert_eq!(second.accepted.iter().map(|r| r.origin.offset).collect::<Vec<_>>(), [3]);
        assert_eq!(second.offsets, vec![(topic, 0, 4)]);
        assert!(builder.accepted.capacity() >= 1, "sized like the last batch");

        // Too small for the last batch's size: a fresh one instead.
        staged(&mut builder, &topic, 4);
        staged(&mut builder, &topic, 5);
        let third = builder.seal(1, &inflight, Some(Vec::new())).unwrap();
        assert_eq!(third.accepted.len(), 2);
        assert!(builder.accepted.capacity() >= 2);
    }

    /// A batch commits up to the earliest fragment still waiting on a
    /// partition, and past it once a later record of the same batch says
    /// none waits (the map keeps only waiting fragments).
    #[test]
    fn a_fragment_holds_the_commit_until_a_later_record_completes_it() {
        let inflight = Arc::new(InFlight::default());
        let (nmea, json) = (Topic::new("ais.nmea"), Topic::new("ais.positions"));
        let mut builder = BatchBuilder::default();
        builder.push_offset(&(nmea, 0), 10);
        builder.hold(&nmea, 0, Some(10));
        builder.push_offset(&(json, 0), 7);
        builder.hold(&json, 0, None);
        builder.push_offset(&(nmea, 0), 11);
        builder.hold(&nmea, 0, Some(10));
        let held = builder.seal(1, &inflight, None).unwrap();
        assert_eq!(held.offsets, vec![(nmea, 0, 10), (json, 0, 8)]);

        builder.push_offset(&(nmea, 0), 12);
        builder.hold(&nmea, 0, Some(12));
        builder.push_offset(&(nmea, 0), 13);
        builder.hold(&nmea, 0, None);
        let completed = builder.seal(1, &inflight, None).unwrap();
        assert_eq!(completed.offsets, vec![(nmea, 0, 14)]);
    }
}
