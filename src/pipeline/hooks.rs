//! Processor state follows partitions: [`StateHooks`] restores a partition's
//! checkpoint when it is assigned (inside the rebalance callback, before any
//! of its records is staged) and forgets it when it is revoked (after the
//! drain committed what the state reflects).

use std::sync::Arc;

use porttrack_ingest::PartitionHooks;
use porttrack_processors::Port;
use porttrack_sinks::retry::Backoff;

use crate::state::StateStore;

/// Restores and forgets processor state as partitions move.
pub(super) struct StateHooks {
    pub(super) port: Arc<Port>,
    pub(super) store: Arc<dyn StateStore>,
    pub(super) runtime: tokio::runtime::Handle,
}

impl PartitionHooks for StateHooks {
    fn assigned(&self, partitions: &[i32]) {
        // Runs on the poll thread, inside the rebalance callback: block until
        // restored, so no record of these partitions is processed before.
        let loaded = self.runtime.block_on(async {
            let mut attempt = 0;
            loop {
                match self.store.load(partitions).await {
                    Ok(states) => break Some(states),
                    Err(e) if attempt < 5 => {
                        tracing::warn!(error = %e, attempt, "loading processor checkpoints; retrying");
                        tokio::time::sleep(Backoff::default().delay(attempt)).await;
                        attempt += 1;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, ?partitions, "processor checkpoints unavailable; starting these partitions empty");
                        metrics::counter!("porttrack_state_restores_total", "result" => "error").increment(1);
                        break None;
                    }
                }
            }
        });
        for state in loaded.unwrap_or_default() {
            let p = state.partition;
            let vessels = state.vessels.len();
            match self.port.restore_partition(p, state) {
                Ok(()) => {
                    metrics::counter!("porttrack_state_restores_total", "result" => "ok").increment(1);
                    tracing::info!(partition = p, vessels, "restored processor state");
                }
                Err(e) => {
                    metrics::counter!("porttrack_state_restores_total", "result" => "refused").increment(1);
                    tracing::error!(partition = p, error = %e, "checkpoint refused; starting the partition empty");
                }
            }
        }
    }

    fn revoked(&self, partitions: &[i32]) {
        // The stage checkpointed before the drain committed: forget.
        let forgotten: usize = partitions.iter().map(|p| self.port.forget_partition(*p)).sum();
        tracing::info!(?partitions, forgotten, "forgot processor state of revoked partitions");
    }
}
