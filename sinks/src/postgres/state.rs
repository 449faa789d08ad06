//! Processor checkpoints in Postgres: the `processor_state` table (V3).
//!
//! The pipeline saves every owned partition's
//! [`PartitionState`] before it commits
//! the offsets that state reflects, and loads it when a partition is
//! assigned. All partitions of one checkpoint are saved in one transaction.
//! The column is `json` text, lz4-compressed (`V6__processor_state_json_lz4.sql`):
//! Postgres validates the document but does not parse it into `jsonb`,
//! which made each save several times dearer and bought nothing, since the
//! document is only ever read back whole.

use std::collections::VecDeque;
use std::task::Poll;

use bytes::{BufMut, BytesMut};
use porttrack_processors::{PartitionCheckpoint, PartitionState};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::statements::{LOAD_PROCESSOR_STATE as LOAD, SAVE_PROCESSOR_STATE as SAVE};
use super::{PostgresSink, classify};
use crate::SinkError;

impl PostgresSink {
    /// Replaces the checkpoints of `states`' partitions for consumer group `group`.
    pub async fn save_processor_state(
        &self,
        group: &str,
        states: &[PartitionCheckpoint<'_>],
    ) -> Result<(), SinkError> {
        if states.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        let statement = tx.prepare_cached(SAVE).await.map_err(classify)?;
        // Each partition's document is serialized into a `Vec` (serde_json's
        // fast path) and copied into the bind message once. A
        // `serde_json::Value` in between built a tree node per field of every
        // vessel, then dropped it (half the pipeline's CPU with a few thousand
        // vessels); `Json` wrote into the bind message's `BytesMut` one small
        // slice at a time.
        //
        // Overlapped: one poll of a partition's write encodes it and hands it
        // to the connection task, which sends it and Postgres stores it while
        // the next partition is serialized here. At most `IN_FLIGHT` documents
        // are held at once, so a large state is not held twice over.
        // Measured on the pipeline bench (5,000 vessels, 4 partitions, 15 MB):
        // a checkpoint's median 177 ms → 125 ms (9 and 11 checkpoints).
        const IN_FLIGHT: usize = 2;
        let mut in_flight = VecDeque::with_capacity(IN_FLIGHT);
        for s in states {
            let mut doc = Vec::new();
            serde_json::to_writer(&mut doc, s)
                .map_err(|e| SinkError::Permanent(format!("processor state: {e}")))?;
            // The fingerprint's bits, as Postgres has no unsigned 64-bit type.
            let geography = i64::from_ne_bytes(s.geography().to_ne_bytes());
            let params: [Box<dyn ToSql + Sync + Send + '_>; 6] = [
                Box::new(group),
                Box::new(s.partition()),
                Box::new(i32::try_from(s.version()).unwrap_or(i32::MAX)),
                Box::new(geography),
                Box::new(i32::try_from(s.vessels()).unwrap_or(i32::MAX)),
                Box::new(JsonText(doc)),
            ];
            let mut write = Box::pin(tx.execute_raw(&statement, params));
            if let Poll::Ready(written) = futures::poll!(write.as_mut()) {
                written.map_err(classify)?;
                continue;
            }
            in_flight.push_back(write);
            // The connection task was woken on this worker, in a slot no
            // other worker steals from: let it run before serializing on.
            tokio::task::yield_now().await;
            if in_flight.len() >= IN_FLIGHT
                && let Some(oldest) = in_flight.pop_front()
            {
                oldest.await.map_err(classify)?;
            }
        }
        for write in in_flight {
            write.await.map_err(classify)?;
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

/// A JSON document already serialized, bound as `json` or `jsonb`.
#[derive(Debug)]
struct JsonText(Vec<u8>);

impl ToSql for JsonText {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        if *ty == Type::JSONB {
            // jsonb's binary format: a version byte, then the text.
            out.put_u8(1);
        }
        out.put_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }

    to_sql_checked!();
}
