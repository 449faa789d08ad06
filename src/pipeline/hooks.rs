//! Processor state follows partitions: [`StateHooks`] restores a partition's
//! checkpoint when it is assigned (inside the rebalance callback, before any
//! of its records is staged) and forgets it when it is revoked (after the
//! drain committed what the state reflects).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use porttrack_ingest::PartitionHooks;
use porttrack_processors::Port;
use porttrack_sinks::retry::{Always, RetryPolicy};

use crate::state::StateStore;

/// Restores and forgets processor state as partitions move.
/// Tries at loading checkpoints when partitions are assigned (with the
/// default backoff, about 5 s in all).
const LOAD_TRIES: u32 = 6;

pub(super) struct StateHooks {
    pub(super) port: Arc<Port>,
    pub(super) store: Arc<dyn StateStore>,
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) owned: Owned,
}

/// The partition numbers this member owns, as the hooks last heard: a
/// number joins once its state is restored and leaves before it is
/// forgotten. The stage checkpoints only these.
#[derive(Debug, Clone, Default)]
pub(super) struct Owned(Arc<Mutex<BTreeSet<i32>>>);

impl Owned {
    fn set(&self) -> std::sync::MutexGuard<'_, BTreeSet<i32>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether partition number `p` is owned now.
    pub(super) fn contains(&self, p: i32) -> bool {
        self.set().contains(&p)
    }
}

impl PartitionHooks for StateHooks {
    fn assigned(&self, partitions: &[i32]) {
        // Runs on the poll thread, inside the rebalance callback: block until
        // restored, so no record of these partitions is processed before.
        // Bounded: this blocks the poll thread, and past `max_poll_interval`
        // the member would be expelled from the group. After the last try
        // the partitions start empty (counted, logged): see ARCHITECTURE.md,
        // "No commit past the processor state".
        let policy = RetryPolicy::tries("state", "loading processor checkpoints", LOAD_TRIES).silent();
        let loaded = self.runtime.block_on(policy.retry(Always, |_| self.store.load(partitions)));
        let loaded = match loaded {
            Ok(states) => Some(states),
            Err(e) => {
                tracing::error!(error = %e, ?partitions, "processor checkpoints unavailable; starting these partitions empty");
                metrics::counter!(porttrack_metrics::STATE_RESTORES_TOTAL, "result" => "error").increment(1);
                None
            }
        };
        for state in loaded.unwrap_or_default() {
            let p = state.partition;
            let vessels = state.vessels.len();
            match self.port.restore_partition(p, state) {
                Ok(()) => {
                    metrics::counter!(porttrack_metrics::STATE_RESTORES_TOTAL, "result" => "ok").increment(1);
                    tracing::info!(partition = p, vessels, "restored processor state");
                }
                Err(e) => {
                    metrics::counter!(porttrack_metrics::STATE_RESTORES_TOTAL, "result" => "refused")
                        .increment(1);
                    tracing::error!(partition = p, error = %e, "checkpoint refused; starting the partition empty");
                }
            }
        }
        self.owned.set().extend(partitions);
    }

    fn revoked(&self, partitions: &[i32]) {
        // No longer checkpointed from here on: a batch still in flight when a
        // drain timed out must not save its partial view over the new
        // owner's checkpoint (found by the chaos drill).
        {
            let mut owned = self.owned.set();
            for p in partitions {
                owned.remove(p);
            }
        }
        // The stage checkpointed before the drain committed: forget.
        let forgotten: usize = partitions.iter().map(|p| self.port.forget_partition(*p)).sum();
        tracing::info!(?partitions, forgotten, "forgot processor state of revoked partitions");
    }
}
