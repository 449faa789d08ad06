//! PortTrack's sinks: where processed events become durable.
//!
//! Every sink implements [`Sink`]: `write` returns only once the records are
//! durably stored (a committed transaction, an acknowledged `_bulk` item, a
//! flushed file), because the pipeline commits Kafka offsets on that answer.
//! Every sink is idempotent under replay, because after a crash the pipeline
//! re-delivers everything after the last commit:
//!
//! * [`postgres::PostgresSink`] upserts the latest state per vessel, guarded
//!   by event time so an older replay never overwrites a newer state.
//! * [`elasticsearch::ElasticsearchSink`] indexes one document per record with
//!   a deterministic `_id` derived from the record's Kafka coordinates.
//! * [`file::FileSink`] is the demo fallback when neither service is
//!   configured: positions as NDJSON, vessel state as a JSON snapshot.
//!
//! Errors are classified once, in [`SinkError`]: transient ones are retried
//! by the pipeline with [`retry::Backoff`]; permanent ones isolate the
//! offending records to the dead-letter topic.

pub mod elasticsearch;
pub mod file;
pub mod postgres;
pub mod retry;

use futures::future::BoxFuture;
use porttrack_schemas::{Position, Sourced};

/// What a successful write reports back.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Records the sink refused individually, by index into the input, with
    /// the reason. Everything else was durably written.
    pub rejected: Vec<(usize, String)>,
}

/// Why a write failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Worth retrying unchanged: the service is unreachable, overloaded or restarting.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying the same input will fail again (bad data, schema mismatch).
    #[error("permanent: {0}")]
    Permanent(String),
}

impl SinkError {
    /// Whether retrying the same write may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SinkError::Transient(_))
    }
}

/// A destination for accepted position reports.
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// A short, stable name used as a metric label (`postgres`, `elasticsearch`, `file`).
    fn name(&self) -> &'static str;

    /// Durably writes `records`; idempotent for the same records.
    fn write<'a>(
        &'a self,
        records: &'a [Sourced<Position>],
    ) -> BoxFuture<'a, Result<WriteOutcome, SinkError>>;

    /// Whether the destination is reachable now (used by `/readyz`).
    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>>;
}

/// The latest report per vessel in `records`: by event time, ties broken by
/// the later offset, so the choice is the same on every replay.
pub fn latest_per_vessel(records: &[Sourced<Position>]) -> Vec<&Sourced<Position>> {
    let mut latest: std::collections::HashMap<u32, &Sourced<Position>> =
        std::collections::HashMap::with_capacity(records.len() / 4 + 1);
    for r in records {
        latest
            .entry(r.event.mmsi)
            .and_modify(|cur| {
                if (r.event.timestamp, r.origin.offset) >= (cur.event.timestamp, cur.origin.offset) {
                    *cur = r;
                }
            })
            .or_insert(r);
    }
    let mut out: Vec<_> = latest.into_values().collect();
    out.sort_unstable_by_key(|r| r.event.mmsi);
    out
}

#[cfg(test)]
pub(crate) mod testing {
    use chrono::{TimeZone, Utc};
    use porttrack_schemas::{Origin, Position, Sourced};

    pub(crate) fn record(mmsi: u32, second: i64, offset: i64) -> Sourced<Position> {
        Sourced {
            origin: Origin { topic: "ais.positions".into(), partition: 0, offset },
            event: Position {
                mmsi,
                timestamp: Utc.timestamp_opt(1_790_000_000 + second, 0).unwrap(),
                lat: 51.9 + second as f64 * 1e-4,
                lon: 4.1,
                sog: Some(10.5),
                cog: Some(90.0),
                heading: None,
                nav_status: Some(0),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::record;
    use super::*;

    #[test]
    fn latest_per_vessel_picks_newest_event_time_then_offset() {
        let records = vec![record(1, 10, 0), record(2, 5, 1), record(1, 3, 2), record(1, 10, 3)];
        let latest = latest_per_vessel(&records);
        let got: Vec<(u32, i64)> = latest.iter().map(|r| (r.event.mmsi, r.origin.offset)).collect();
        assert_eq!(got, vec![(1, 3), (2, 1)]);
    }
}
