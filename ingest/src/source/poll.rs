//! The poll loop: [`Source::run`].
//!
//! Each turn of the loop, on the source's own thread:
//!
//! 1. beat the heartbeat ([`SourceHandle::last_heartbeat_unix_ms`](super::SourceHandle::last_heartbeat_unix_ms));
//! 2. once a second, dead-letter NMEA fragments that waited too long
//!    ([`Source::expire_fragments`]);
//! 3. seal the batch if it is due and hand it to the channel; if the channel
//!    is full, wait for room up to `pause_after` ([`Source::wait_for_room`]),
//!    then pause every partition (and resume, from the source's own
//!    positions, once there is room again: [`Source::set_paused`]);
//! 4. seek back to the fetch positions if a rebalance asked for it;
//! 5. poll (librdkafka runs the rebalance and statistics callbacks in
//!    here) and stage the record ([`Source::stage`]), if it is the next
//!    one of its partition; then keep polling without waiting and staging
//!    what librdkafka already holds, a burst of at most `BURST` records
//!    that ends early when a batch is sealed or a rewind or shutdown is
//!    asked for (full batches are sealed as records are staged, lingering
//!    ones in step 3).
//!
//! On shutdown it drains and commits, closes the channel and leaves the
//! group.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use porttrack_schemas::{Origin, Topic};
use rdkafka::consumer::Consumer;
use rdkafka::message::{BorrowedMessage, Message};

use super::{PollState, Source, TopicPartition, lock};
use crate::decode::{DecodeOutcome, RecordIn};

/// Records staged per turn of the poll loop at most (see [`Source::run`]):
/// a few milliseconds of work, so the heartbeat and the batch linger stay
/// accurate.
const BURST: usize = 256;

/// How long a wait for channel room lasts at most before the shutdown and
/// rewind flags are looked at again.
const ROOM_CHECK: Duration = Duration::from_millis(50);

/// Without a runtime to wait on (a source created outside one), how often a
/// batch waiting for room looks again.
const ROOM_POLL: Duration = Duration::from_millis(1);

impl Source {
    /// Runs the poll loop on the calling thread until [`SourceHandle::shutdown`](super::SourceHandle::shutdown);
    /// then drains, commits, and leaves the group. Blocking: give it a thread.
    pub fn run(self) {
        let shared = Arc::clone(&self.shared);
        let consumer = &*self.consumer;
        let mut last_expiry = Instant::now();
        // Every record is decoded into this one outcome, emptied after each
        // (no allocation per record).
        let mut outcome = DecodeOutcome::default();
        while !shared.shutdown.load(Ordering::SeqCst) {
            shared.heartbeat_unix_ms.store(Utc::now().timestamp_millis(), Ordering::Relaxed);
            if last_expiry.elapsed() >= Duration::from_secs(1) {
                self.expire_fragments();
                last_expiry = Instant::now();
            }
            let mut backpressured = {
                let staging = &mut lock(&shared.poll).staging;
                shared.seal_if_due(staging, false);
                shared.dispatch(staging)
            };
            if backpressured && !shared.paused.load(Ordering::Relaxed) {
                backpressured = !self.wait_for_room();
            }
            self.set_paused(backpressured);
            if shared.rewind.swap(false, Ordering::SeqCst)
                && let Err(e) = self.rewind_to_positions()
            {
                tracing::error!(error = %e, "seeking kept partitions back to their committed offsets");
            }
            let timeout = if backpressured { Duration::from_millis(50) } else { self.poll_timeout() };
            let mut polled = consumer.poll(timeout);
            // One clock read per burst, not per record: the receive time
            // event times are judged against (and the NMEA reassembly
            // clock) may be a few milliseconds old, far below any tolerance
            // it is compared with; a clock read per record was a visible
            // share of the poll thread's time.
            let now = Utc::now();
            // A burst: records librdkafka already holds are staged without
            // going back through the housekeeping above (clock reads and
            // locks that cost more than staging a record does). It ends at
            // the first empty poll, after `BURST` records, or as soon as the
            // housekeeping has work: a sealed batch to dispatch, a rewind or
            // a shutdown.
            let mut budget = BURST;
            // Counted once per burst: a shared counter and a metric handle
            // are atomics other threads read, and an addition per record
            // moved their cache line between cores every time.
            let mut staged = 0_u64;
            while let Some(result) = polled {
                // Whether a sealed batch waits for channel room: `stage`
                // answers it under the lock it already holds.
                let pending = match result {
                    Ok(message) => self.stage(&message, now, &mut outcome),
                    Err(e) => {
                        metrics::counter!(porttrack_metrics::KAFKA_ERRORS_TOTAL).increment(1);
                        tracing::warn!(error = %e, "consume error");
                        None
                    }
                };
                staged += u64::from(pending.is_some());
                budget -= 1;
                if budget == 0
                    || shared.rewind.load(Ordering::SeqCst)
                    || shared.shutdown.load(Ordering::SeqCst)
                    || pending.unwrap_or_else(|| lock(&shared.poll).staging.has_pending())
                {
                    break;
                }
                polled = consumer.poll(Duration::ZERO);
            }
            if staged > 0 {
                self.consumed_counter.increment(staged);
                shared.consumed.fetch_add(staged, Ordering::Relaxed);
                lock(&shared.poll).decoders.flush_counts();
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
        let mut state = lock(&self.shared.poll);
        let PollState { staging, positions, decoders } = &mut *state;
        let (decoded, touched) = decoders.expire(Utc::now());
        if decoded.rejections.is_empty() {
            return;
        }
        let builder = staging.builder();
        builder.open();
        for key in touched {
            if let Some(next) = positions.next_offset(&key) {
                builder.cover(&key, next);
            }
            builder.hold(&key.0, key.1, decoders.held_offset(&key.0, key.1));
        }
        for refused in decoded.rejections {
            builder.refuse(refused, None);
        }
    }

    /// How long the next poll may block: until the open batch's linger ends,
    /// between 1 and 100 ms.
    fn poll_timeout(&self) -> Duration {
        match lock(&self.shared.poll).staging.opened() {
            Some(opened) => self.shared.config.batch_linger.saturating_sub(opened.elapsed()),
            None => Duration::from_millis(100),
        }
        .clamp(Duration::from_millis(1), Duration::from_millis(100))
    }

    /// Waits up to `pause_after` ([`SourceConfig`](super::SourceConfig))
    /// for channel room for the sealed batch, and dispatches it. Returns
    /// whether it went.
    ///
    /// The sinks fall behind for a moment all the time (a batch written, a
    /// checkpoint taken), and pausing then costs far more than waiting: a
    /// pause discards what librdkafka prefetched, and after the resume its
    /// fetcher notices the partitions only at its next wake-up. Logged in
    /// the pipeline bench, the poll loop got nothing for 1.0 s after the
    /// one resume of a 1,000,000-record `json → null` run, and for 0.4-1 s
    /// after most of the five resumes of a 200,000-record `json → postgres`
    /// run. Waiting here keeps the prefetched records and the fetcher; a longer
    /// stall (a sink outage) still pauses, so the loop goes back to polling
    /// and the group stays alive. Rebalance callbacks wait at most that long.
    fn wait_for_room(&self) -> bool {
        let shared = &self.shared;
        let deadline = Instant::now() + shared.config.pause_after;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            if shared.shutdown.load(Ordering::SeqCst) || shared.rewind.load(Ordering::SeqCst) {
                return false;
            }
            self.until_room((deadline - now).min(ROOM_CHECK));
            if !shared.dispatch(&mut lock(&shared.poll).staging) {
                return true;
            }
        }
    }

    /// Blocks until the batch channel has room for one batch, or `wait`
    /// has passed.
    ///
    /// It waits on the channel itself (a reserved slot, given back at once:
    /// this thread is the channel's only sender, so the slot is still free
    /// when `dispatch` sends), and wakes when the stage takes a batch.
    /// Sleeping a millisecond at a time instead, the poll thread woke about
    /// 840 times a second while the search engine held the pipeline back,
    /// and those wake-ups were a quarter of its samples in that row.
    fn until_room(&self, wait: Duration) {
        let tx = lock(&self.shared.tx).clone();
        match (&self.runtime, tx) {
            (Some(runtime), Some(tx)) => {
                // A timeout or a closed channel: either way `dispatch` says
                // what next. The timer is made inside the runtime's context.
                // A runtime shutting down drops the stage's task, and with it
                // the receiver: `reserve` then returns at once, before the
                // timer (which would panic on a stopped runtime) is polled.
                runtime.block_on(async {
                    let _ = tokio::time::timeout(wait, tx.reserve()).await;
                });
            }
            _ => std::thread::sleep(wait.min(ROOM_POLL)),
        }
    }

    /// Pauses every assigned partition (the sinks are behind), or resumes
    /// them from the source's own positions.
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
                metrics::gauge!(porttrack_metrics::SOURCE_PAUSED).set(if paused { 1.0 } else { 0.0 });
                tracing::debug!(paused, "sink backpressure changed");
            }
            Err(e) => tracing::warn!(error = %e, paused, "pausing/resuming partitions"),
        }
    }

    /// The record's partition, its topic the configured topic's shared name
    /// (one allocation per topic, not per record): the key of the record's
    /// fetch position and of its batch offset.
    fn partition_of(&self, message: &BorrowedMessage<'_>) -> TopicPartition {
        let name = message.topic();
        let topic =
            self.topics.iter().find(|t| t.as_str() == name).copied().unwrap_or_else(|| Topic::new(name));
        (topic, message.partition())
    }

    /// Decodes `message`, if it is the next record of its partition, into
    /// the batch being built (through `decoded`, emptied again), and seals
    /// the batch if that made it due. Returns whether a sealed batch now
    /// waits for channel room, or `None` if the record was not staged.
    ///
    /// All of it under one guard of the poll state: three locks per record
    /// (positions, decoders, staging) were 4% of the `json → null`
    /// profile, the uncontended lock and unlock themselves.
    fn stage(
        &self,
        message: &BorrowedMessage<'_>,
        now: DateTime<Utc>,
        decoded: &mut DecodeOutcome,
    ) -> Option<bool> {
        let key = self.partition_of(message);
        let mut state = lock(&self.shared.poll);
        let PollState { staging, positions, decoders } = &mut *state;
        if !self.in_sequence(positions, &key, message.offset()) {
            return None;
        }
        let origin = Origin::new(key.0, key.1, message.offset());
        let payload = message.payload().unwrap_or_default();
        let record = RecordIn {
            origin: &origin,
            payload,
            timestamp: message.timestamp().to_millis().and_then(chrono::DateTime::from_timestamp_millis),
        };
        decoders.decode_into(&record, now, decoded);
        let held = decoders.held_offset(&origin.topic, origin.partition);
        // Nothing here reads which AIS messages were ignored (the decoder
        // counted them); emptied so that the outcome is fresh next time.
        decoded.ignored.clear();
        let builder = staging.builder();
        builder.push_offset(&key, origin.offset);
        if let Some(t) = record.timestamp {
            builder.record_time(t.timestamp_millis());
        }
        builder.keep_trace_parent(message, self.shared.config.max_trace_parents);
        builder.hold(&origin.topic, origin.partition, held);
        builder.accept(decoded.events.drain(..));
        for refused in decoded.rejections.drain(..) {
            builder.refuse(refused, Some(message));
        }
        // Full batches are sealed here; a lingering one at the top of the
        // poll loop (no clock read per record).
        self.shared.seal_if_full(staging);
        Some(staging.has_pending())
    }
}
