//! Processor checkpoints in Postgres: the `processor_state` table (V3).
//!
//! The pipeline saves every owned partition's
//! [`PartitionState`] before it commits
//! the offsets that state reflects, and loads it when a partition is
//! assigned. All partitions of one checkpoint are saved in one transaction.

use porttrack_processors::PartitionState;

use super::statements::{LOAD_PROCESSOR_STATE as LOAD, SAVE_PROCESSOR_STATE as SAVE};
use super::{PostgresSink, classify};
use crate::SinkError;

impl PostgresSink {
    /// Replaces the checkpoints of `states`' partitions for consumer group `group`.
    pub async fn save_processor_state(
        &self,
        group: &str,
        states: &[PartitionState],
    ) -> Result<(), SinkError> {
        if states.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        let statement = tx.prepare_cached(SAVE).await.map_err(classify)?;
        for s in states {
            let json =
                serde_json::to_value(s).map_err(|e| SinkError::Permanent(format!("processor state: {e}")))?;
            let version = i32::try_from(s.version).unwrap_or(i32::MAX);
            // The fingerprint's bits, as Postgres has no unsigned 64-bit type.
            let geography = i64::from_ne_bytes(s.geography.to_ne_bytes());
            let vessels = i32::try_from(s.vessels.len()).unwrap_or(i32::MAX);
            tx.execute(&statement, &[&group, &s.partition, &version, &geography, &vessels, &json])
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }

    /// The checkpoints of `partitions` for consumer group `group` that exist.
    pub async fn load_processor_state(
        &self,
        group: &str,
        partitions: &[i32],
    ) -> Result<Vec<PartitionState>, SinkError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(LOAD).await.map_err(classify)?;
        let rows = client.query(&statement, &[&group, &partitions]).await.map_err(classify)?;
        rows.into_iter()
            .map(|row| {
                let partition: i32 = row.get(0);
                let json: serde_json::Value = row.get(1);
                serde_json::from_value(json).map_err(|e| {
                    SinkError::Permanent(format!("processor state of partition {partition}: {e}"))
                })
            })
            .collect()
    }
}
