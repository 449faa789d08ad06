//! The librdkafka callbacks of the source's consumer ([`SourceContext`]):
//! statistics, client errors, and the incremental rebalance.
//!
//! librdkafka calls them on the poll thread, from inside `poll`, so they
//! never run concurrently with staging.
//!
//! Under the KIP-848 protocol a rebalance names only the partitions that
//! move:
//!
//! * **revoke**: drain and commit (`commit.rs`), forget the revoked
//!   partitions' decoder state and fetch positions, tell the
//!   [`PartitionHooks`](super::PartitionHooks) which partition numbers are
//!   gone, and, if the drain timed out, restart the kept partitions from
//!   their committed offsets.
//! * **assign**: read the new partitions' committed offsets into fetch
//!   positions, tell the hooks which partition numbers are new, then (after
//!   the assignment) apply the current back-pressure state to them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use porttrack_schemas::Topic;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};

use super::positions::{Positions, committed_position};
use super::{Shared, TopicPartition, lock, tp_list};

/// The librdkafka callbacks of the source's consumer.
#[derive(Debug)]
pub struct SourceContext {
    shared: Arc<Shared>,
}

impl SourceContext {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        SourceContext { shared }
    }

    /// Partitions given up: drain and commit, then forget them.
    fn revoke(&self, consumer: &BaseConsumer<Self>, tpl: &TopicPartitionList) {
        metrics::counter!(porttrack_metrics::REBALANCES_TOTAL, "kind" => "revoke").increment(1);
        let revoked = topic_partitions(tpl);
        tracing::info!(partitions = ?tp_list(&revoked), "partitions revoked: draining in-flight batches");
        let clean = self.shared.drain_and_commit(consumer);
        let (released, kept) = {
            let mut state = lock(&self.shared.poll);
            state.decoders.forget_partitions(&revoked);
            let positions = &mut state.positions;
            for key in &revoked {
                positions.remove(key);
            }
            let kept: Vec<TopicPartition> = positions.partitions().copied().collect();
            (numbers_not_in(&revoked, positions), kept)
        };
        self.shared.hooks.revoked(&released);
        for (topic, partition) in &revoked {
            metrics::gauge!(
                porttrack_metrics::CONSUMER_LAG_RECORDS,
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

    /// Partitions newly owned: start them at their committed offsets.
    fn assign(&self, consumer: &BaseConsumer<Self>, tpl: &TopicPartitionList) {
        metrics::counter!(porttrack_metrics::REBALANCES_TOTAL, "kind" => "assign").increment(1);
        let added = topic_partitions(tpl);
        tracing::info!(partitions = ?tp_list(&added), "partitions assigned");
        let committed =
            consumer.committed_offsets(tpl.clone(), self.shared.config.drain_timeout).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading committed offsets; positions start unknown");
                TopicPartitionList::new()
            });
        let (gained, total) = {
            let positions = &mut lock(&self.shared.poll).positions;
            let gained = numbers_not_in(&added, positions);
            for (topic, partition) in &added {
                positions.set((*topic, *partition), committed_position(&committed, topic, *partition));
            }
            warn_unless_copartitioned(positions);
            (gained, positions.len())
        };
        self.shared.hooks.assigned(&gained);
        self.shared.set_assigned(total);
    }
}

impl ClientContext for SourceContext {
    fn stats(&self, statistics: Statistics) {
        let mut total = 0_i64;
        // librdkafka reports every partition it knows of, and keeps the last
        // lag of a partition this member gave up: export owned ones only (the
        // revoke callback zeroed the others), or a stale lag outlives the move.
        let state = lock(&self.shared.poll);
        let positions = &state.positions;
        for (topic_name, topic) in &statistics.topics {
            let topic_key = Topic::new(topic_name.as_str());
            for (partition, p) in &topic.partitions {
                // Partition -1 is librdkafka's internal "unassigned" bucket;
                // a lag of -1 means unknown (not assigned or not yet fetched).
                if *partition < 0 || p.consumer_lag < 0 || !positions.owns(&(topic_key, *partition)) {
                    continue;
                }
                total += p.consumer_lag;
                metrics::gauge!(
                    porttrack_metrics::CONSUMER_LAG_RECORDS,
                    "topic" => topic_name.clone(),
                    "partition" => partition.to_string()
                )
                .set(p.consumer_lag as f64);
            }
        }
        self.shared.lag.store(total, Ordering::Relaxed);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        metrics::counter!(porttrack_metrics::KAFKA_ERRORS_TOTAL).increment(1);
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
            Rebalance::Revoke(tpl) => self.revoke(consumer, tpl),
            Rebalance::Assign(tpl) => self.assign(consumer, tpl),
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
            metrics::counter!(porttrack_metrics::OFFSET_COMMITS_TOTAL, "result" => "error").increment(1);
            tracing::warn!(error = %e, "offset commit failed");
        }
    }
}

/// The `(topic, partition)`s of a rebalance list.
fn topic_partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements().iter().map(|e| (Topic::new(e.topic()), e.partition())).collect()
}

/// The partition numbers among `changed` that no partition in `owned` has:
/// processor state is per partition number (topics are co-partitioned), so
/// it is restored when the first topic's partition of a number arrives and
/// forgotten when the last one leaves.
fn numbers_not_in(changed: &[TopicPartition], owned: &Positions) -> Vec<i32> {
    let mut numbers: Vec<i32> =
        changed.iter().map(|(_, p)| *p).filter(|p| !owned.partitions().any(|(_, q)| q == p)).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// Logs when this member owns a partition number on some topics but not on
/// others: the range assignor keeps them together when every topic has the
/// same partition count, so this means the topics' counts differ.
fn warn_unless_copartitioned(owned: &Positions) {
    let mut by_topic: HashMap<&str, Vec<i32>> = HashMap::new();
    for (topic, partition) in owned.partitions() {
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

#[cfg(test)]
mod tests {
    use super::super::positions::FetchPosition;
    use super::*;

    #[test]
    fn hooks_hear_of_a_partition_number_only_on_its_first_arrival_and_last_departure() {
        let tp = |topic: &str, p| (Topic::new(topic), p);
        let mut owned = Positions::default();
        owned.set(tp("positions", 0), FetchPosition::Unknown);
        owned.set(tp("statics", 0), FetchPosition::Unknown);
        // Partition 0 stays owned through the other topic; 1 and 2 are new.
        let changed = [tp("positions", 2), tp("statics", 0), tp("positions", 1), tp("statics", 1)];
        assert_eq!(numbers_not_in(&changed, &owned), [1, 2]);
        assert!(numbers_not_in(&[], &owned).is_empty());
    }
}
