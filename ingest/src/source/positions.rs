//! Fetch positions: per owned partition, the next offset the source must
//! stage.
//!
//! A partition's position starts at its committed offset when it is
//! assigned ([`committed_position`]) and moves with every staged record.
//! Every polled record is checked against it ([`Source::in_sequence`],
//! deciding with [`Positions::advance`]):
//!
//! * the expected offset is staged;
//! * an earlier offset is a re-delivery and is skipped;
//! * a later offset is a gap: the source seeks back to the expected offset
//!   once ([`FetchPosition::Refetching`]); if the broker then serves the same
//!   later offset, the gap is in the log itself (compaction, transaction
//!   markers) and the record is staged.
//!
//! Positions are also where the source goes back to: on resume after a pause
//! (librdkafka drops what it had prefetched for paused partitions) and after
//! a drain that timed out, when kept partitions restart from their committed
//! offsets ([`Shared::restart_from_committed`]); both seek with
//! [`Source::rewind_to_positions`].

use std::sync::atomic::Ordering;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use super::hash::FxHashMap;
use super::{Shared, Source, TopicPartition, lock, tp_list};

/// Where the source stands on one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FetchPosition {
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

impl FetchPosition {
    /// What to do with the record at `offset` of a partition standing here.
    fn step(self, offset: i64) -> Step {
        match self {
            FetchPosition::Unknown => Step::Stage,
            FetchPosition::Next(n) | FetchPosition::Refetching(n) if offset == n => Step::Stage,
            FetchPosition::Next(n) | FetchPosition::Refetching(n) if offset < n => Step::Redelivered,
            FetchPosition::Next(n) => Step::Gap { expected: n },
            FetchPosition::Refetching(n) => Step::LogGap { from: n },
        }
    }

    /// The next offset to stage, if known.
    fn next(self) -> Option<i64> {
        match self {
            FetchPosition::Next(n) | FetchPosition::Refetching(n) => Some(n),
            FetchPosition::Unknown => None,
        }
    }
}

/// The fetch position a partition starts from: its committed offset, or
/// unknown (where `auto.offset.reset` puts it).
pub(super) fn committed_position(
    committed: &TopicPartitionList,
    topic: &str,
    partition: i32,
) -> FetchPosition {
    match committed.find_partition(topic, partition).map(|c| c.offset()) {
        Some(Offset::Offset(o)) => FetchPosition::Next(o),
        _ => FetchPosition::Unknown,
    }
}

/// What to do with a polled record, given its partition's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// The partition is not (or no longer) this member's: a record
    /// librdkafka fetched before the partition was revoked. Skip it; its new
    /// owner reads it.
    NotOwned,
    /// The record to stage next (or the first of a partition whose position
    /// is unknown).
    Stage,
    /// A record before the position: a re-delivery. Skip it.
    Redelivered,
    /// A record past the position: records `expected..` were not delivered.
    /// Fetch again from `expected`, once.
    Gap { expected: i64 },
    /// A record past the position while re-fetching from `from`: the broker
    /// itself has nothing in between. Stage it.
    LogGap { from: i64 },
}

/// The fetch position of every partition this member owns. Owning a
/// partition and having a position for it are the same thing: assignment
/// adds one, revocation removes it.
#[derive(Debug, Default)]
pub(super) struct Positions(FxHashMap<TopicPartition, FetchPosition>);

impl Positions {
    /// Sets the position of an owned (or newly assigned) partition.
    pub(super) fn set(&mut self, partition: TopicPartition, at: FetchPosition) {
        self.0.insert(partition, at);
    }

    /// Forgets a partition given up.
    pub(super) fn remove(&mut self, partition: &TopicPartition) {
        self.0.remove(partition);
    }

    /// Whether this member owns `partition`.
    pub(super) fn owns(&self, partition: &TopicPartition) -> bool {
        self.0.contains_key(partition)
    }

    /// The partitions owned, in no particular order.
    pub(super) fn partitions(&self) -> impl Iterator<Item = &TopicPartition> {
        self.0.keys()
    }

    /// How many partitions are owned.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// The next offset to stage on `partition`, if owned and known.
    pub(super) fn next_offset(&self, partition: &TopicPartition) -> Option<i64> {
        self.0.get(partition).and_then(|at| at.next())
    }

    /// Decides what to do with the record at `offset` of `partition`, and
    /// moves the position past it if it is the one to stage (one lookup per
    /// record). The other outcomes leave the position to the caller
    /// ([`staged`](Self::staged), [`refetching`](Self::refetching)).
    pub(super) fn advance(&mut self, partition: &TopicPartition, offset: i64) -> Step {
        let Some(at) = self.0.get_mut(partition) else { return Step::NotOwned };
        let step = at.step(offset);
        if step == Step::Stage {
            *at = FetchPosition::Next(offset + 1);
        }
        step
    }

    /// The record at `offset` was staged: the next one follows it.
    pub(super) fn staged(&mut self, partition: TopicPartition, offset: i64) {
        self.0.insert(partition, FetchPosition::Next(offset + 1));
    }

    /// The source seeked back to `expected` after a gap.
    pub(super) fn refetching(&mut self, partition: TopicPartition, expected: i64) {
        self.0.insert(partition, FetchPosition::Refetching(expected));
    }

    /// Every owned partition at its position, for a seek (`Unknown`: the
    /// beginning, where `auto.offset.reset` would put it).
    fn seek_list(&self) -> KafkaResult<TopicPartitionList> {
        let mut tpl = TopicPartitionList::with_capacity(self.0.len());
        for ((topic, partition), at) in &self.0 {
            let offset = at.next().map_or(Offset::Beginning, Offset::Offset);
            tpl.add_partition_offset(topic, *partition, offset)?;
        }
        Ok(tpl)
    }
}

impl Shared {
    /// Moves the fetch position of `partitions` back to their committed
    /// offsets; the poll loop seeks there before its next poll.
    pub(super) fn restart_from_committed<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        partitions: &[TopicPartition],
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
        let positions = &mut lock(&self.poll).positions;
        for (topic, partition) in partitions {
            positions.set((*topic, *partition), committed_position(&committed, topic, *partition));
        }
        tracing::warn!(partitions = ?tp_list(partitions), "kept partitions restart from their committed offsets");
        self.rewind.store(true, Ordering::SeqCst);
    }
}

impl Source {
    /// Seeks every assigned partition to the source's own position, undoing
    /// whatever librdkafka prefetched and dropped while paused.
    pub(super) fn rewind_to_positions(&self) -> KafkaResult<()> {
        let tpl = lock(&self.shared.poll).positions.seek_list()?;
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

    /// Decides whether `message` is the next record of its partition, and
    /// if so moves the position past it. Returns false for a record to drop
    /// (a re-delivery, or one past a gap that is being re-fetched).
    ///
    /// Takes the positions from the caller's guard of the poll state: a
    /// re-fetch seeks while holding it, which blocks no one (only the poll
    /// thread takes it).
    pub(super) fn in_sequence(&self, positions: &mut Positions, key: &TopicPartition, offset: i64) -> bool {
        let (topic, partition) = (&key.0, key.1);
        match positions.advance(key, offset) {
            Step::Stage => return true,
            Step::NotOwned => {
                tracing::debug!(partition, offset, "record of a partition this member does not own; skipped");
                return false;
            }
            Step::Redelivered => {
                metrics::counter!(porttrack_metrics::RECORDS_REDELIVERED_TOTAL).increment(1);
                return false;
            }
            Step::Gap { expected } => {
                // Records expected..offset were not delivered. Fetch again from expected once.
                tracing::warn!(
                    partition,
                    expected,
                    got = offset,
                    "offset gap; re-fetching from the expected offset"
                );
                metrics::counter!(porttrack_metrics::OFFSET_REFETCHES_TOTAL).increment(1);
                match self.consumer.seek(topic, partition, Offset::Offset(expected), Duration::from_secs(10))
                {
                    Ok(()) => {
                        positions.refetching(*key, expected);
                        return false;
                    }
                    Err(e) => {
                        tracing::error!(partition, error = %e, "re-fetch seek failed; accepting the gap");
                        metrics::counter!(porttrack_metrics::OFFSET_GAPS_TOTAL).increment(1);
                    }
                }
            }
            Step::LogGap { from } => {
                // The broker itself has nothing between from and offset.
                tracing::warn!(partition, from, to = offset, "offsets missing in the log itself; continuing");
                metrics::counter!(porttrack_metrics::OFFSET_GAPS_TOTAL).increment(1);
            }
        }
        positions.staged(*key, offset);
        true
    }
}

#[cfg(test)]
mod tests {
    use porttrack_schemas::Topic;

    use super::*;

    fn tp(partition: i32) -> TopicPartition {
        (Topic::new("positions"), partition)
    }

    #[test]
    fn records_are_judged_against_the_position() {
        let mut positions = Positions::default();
        assert_eq!(positions.advance(&tp(0), 5), Step::NotOwned);

        positions.set(tp(0), FetchPosition::Unknown);
        assert_eq!(positions.advance(&tp(0), 5), Step::Stage, "an unknown position takes the first record");
        assert_eq!(positions.next_offset(&tp(0)), Some(6));

        assert_eq!(positions.advance(&tp(0), 4), Step::Redelivered);
        assert_eq!(positions.advance(&tp(0), 9), Step::Gap { expected: 6 });
        assert_eq!(positions.next_offset(&tp(0)), Some(6), "only a record staged moves the position");
        assert_eq!(positions.advance(&tp(0), 6), Step::Stage);
        assert_eq!(positions.next_offset(&tp(0)), Some(7));

        positions.refetching(tp(0), 7);
        assert_eq!(positions.advance(&tp(0), 6), Step::Redelivered);
        assert_eq!(positions.advance(&tp(0), 9), Step::LogGap { from: 7 }, "the log itself has a gap");
        assert_eq!(positions.next_offset(&tp(0)), Some(7), "the caller stages past a log gap");
        assert_eq!(positions.advance(&tp(0), 7), Step::Stage, "the re-fetch served the missing record");
        assert_eq!(positions.next_offset(&tp(0)), Some(8));
    }

    #[test]
    fn seeks_go_to_the_position_or_the_beginning() {
        let mut positions = Positions::default();
        positions.set(tp(0), FetchPosition::Next(7));
        positions.set(tp(1), FetchPosition::Refetching(3));
        positions.set(tp(2), FetchPosition::Unknown);
        let tpl = positions.seek_list().unwrap();
        let offset = |p| tpl.find_partition("positions", p).map(|e| e.offset());
        assert_eq!(offset(0), Some(Offset::Offset(7)));
        assert_eq!(offset(1), Some(Offset::Offset(3)));
        assert_eq!(offset(2), Some(Offset::Beginning));
        positions.remove(&tp(2));
        assert!(!positions.owns(&tp(2)));
        assert_eq!(positions.len(), 2);
    }
}
