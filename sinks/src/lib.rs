//! PortTrack's sinks: where processed events and processor outputs become durable.
//!
//! # Roles
//!
//! Every sink implements [`Sink`]:
//!
//! * [`Sink::write`] stores accepted events of every kind and returns only
//!   once they are durable (a committed transaction, acknowledged `_bulk`
//!   items, an fsynced file), because the pipeline commits Kafka offsets on
//!   that answer. Nothing accepted is silently dropped: a sink either stores
//!   a record or lists it in [`WriteOutcome::rejected`] with the reason.
//! * [`Sink::write_derived`] stores the processors' outputs ([`Derived`]:
//!   zone events, port calls, anomalies, weather alerts, congestion
//!   partials), in the same acknowledgement step.
//! * [`Sink::write_dead_letters`] keeps a queryable summary of what went to
//!   the dead-letter topic (Postgres and files; a no-op elsewhere).
//!
//! Every sink is idempotent under replay, because after a crash the pipeline
//! re-delivers everything after the last commit:
//!
//! * [`postgres::PostgresSink`] stages each batch with binary `COPY` and
//!   merges it with `INSERT … ON CONFLICT` in one transaction: history rows
//!   are keyed by the record's Kafka coordinates or event id, latest-state
//!   rows are guarded by event time.
//! * [`elasticsearch::ElasticsearchSink`] indexes one document per record with
//!   a deterministic `_id` ([`Origin::document_id`]) in an index chosen by
//!   event day.
//! * [`file::FileSink`] is the demo fallback: NDJSON per event kind and per
//!   derived kind, plus a vessel-state snapshot.
//! * [`null::NullSink`] stores nothing and acknowledges everything: it
//!   measures the pipeline's own cost in benchmarks (`files.discard`).
//!
//! Errors are classified once, in [`SinkError`]: transient ones are retried
//! by the pipeline; permanent ones isolate the offending records to the
//! dead-letter topic (the pipeline bisects). Retrying is the project's one
//! [`retry::RetryPolicy`] type (a bound, a [`retry::Backoff`] and a metric),
//! kept apart from the [`retry::RetryLogic`] that classifies errors and from
//! the I/O being repeated.
//!
//! ```no_run
//! # async fn demo(records: Vec<porttrack_schemas::Sourced<porttrack_schemas::Event>>) -> Result<(), porttrack_sinks::SinkError> {
//! use porttrack_sinks::{Sink, file::FileSink};
//!
//! let sink = FileSink::open("porttrack-data")?;
//! let outcome = sink.write(&records).await?; // durable when this returns
//! assert!(outcome.rejected.is_empty());
//! # Ok(()) }
//! ```

pub mod derived;
pub mod elasticsearch;
pub mod file;
pub mod null;
pub mod postgres;
pub mod retry;
mod tls;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack_schemas::{Event, Origin, Position, RejectClass, Sourced};

pub use derived::Derived;

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

/// One record that went to the dead-letter topic, as the summary stores it.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetterSummary<'a> {
    /// The refused record's coordinates (its identity: a replay is not counted twice).
    pub origin: &'a Origin,
    /// Why it was refused.
    pub class: RejectClass,
    /// The human-readable reason.
    pub reason: &'a str,
    /// When it was dead-lettered (the hour it is counted in).
    pub at: DateTime<Utc>,
}

/// A destination for accepted events and processor outputs.
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// A short, stable name used as a metric label (`postgres`, `elasticsearch`, `file`).
    fn name(&self) -> &'static str;

    /// Durably writes `records` (every event kind); idempotent for the same records.
    fn write<'a>(&'a self, records: &'a [Sourced<Event>]) -> BoxFuture<'a, Result<WriteOutcome, SinkError>>;

    /// Durably writes processor outputs; idempotent for the same outputs.
    ///
    /// Derived rows are not Kafka records, so there is nothing to dead-letter:
    /// a [`SinkError::Permanent`] here means a bug (a row the schema cannot
    /// hold), and the default implementation is exactly that, loudly, so a
    /// sink cannot forget to store outputs without anyone noticing.
    fn write_derived<'a>(&'a self, batch: &'a Derived) -> BoxFuture<'a, Result<(), SinkError>> {
        let name = self.name();
        async move {
            if batch.is_empty() {
                return Ok(());
            }
            Err(SinkError::Permanent(format!("sink {name} does not store processor outputs")))
        }
        .boxed()
    }

    /// Records a summary of dead-lettered records. The dead-letter topic is
    /// the authority; this is for dashboards, so the default does nothing.
    fn write_dead_letters<'a>(
        &'a self,
        letters: &'a [DeadLetterSummary<'a>],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        let _ = letters;
        async { Ok(()) }.boxed()
    }

    /// Whether the destination is reachable now (used by `/readyz`).
    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>>;
}

/// A position report in a batch, with its index in the batch and its origin.
#[derive(Debug, Clone, Copy)]
pub struct PositionRef<'a> {
    /// Index into the batch (what [`WriteOutcome::rejected`] refers to).
    pub index: usize,
    /// Where the record was read.
    pub origin: &'a Origin,
    /// The report.
    pub event: &'a Position,
}

/// The position reports in `records`, with their indices.
pub fn positions(records: &[Sourced<Event>]) -> impl Iterator<Item = PositionRef<'_>> {
    records.iter().enumerate().filter_map(|(index, r)| match &r.event {
        Event::Position(event) => Some(PositionRef { index, origin: &r.origin, event }),
        _ => None,
    })
}

/// The latest report per vessel in `records`: by event time, ties broken by
/// the later offset and then the later event index within the record (the
/// order `vessel_state`'s guard uses), so the choice is the same on every
/// replay.
pub fn latest_per_vessel(records: &[Sourced<Event>]) -> Vec<PositionRef<'_>> {
    latest_of(positions(records), records.len())
}

/// [`latest_per_vessel`] of some of a batch's positions (`hint`: about how
/// many), sorted by MMSI.
pub(crate) fn latest_of<'a>(
    positions: impl Iterator<Item = PositionRef<'a>>,
    hint: usize,
) -> Vec<PositionRef<'a>> {
    let mut latest: std::collections::HashMap<u32, PositionRef<'a>> =
        std::collections::HashMap::with_capacity(hint / 4 + 1);
    for r in positions {
        latest
            .entry(r.event.mmsi)
            .and_modify(|cur| {
                if (r.event.timestamp, r.origin.offset, r.origin.index)
                    >= (cur.event.timestamp, cur.origin.offset, cur.origin.index)
                {
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
    use porttrack_schemas::{Event, Origin, Position, Sourced};

    pub(crate) fn record(mmsi: u32, second: i64, offset: i64) -> Sourced<Event> {
        Sourced {
            origin: Origin::new("ais.positions", 0, offset),
            event: Event::Position(Position {
                mmsi,
                timestamp: Utc.timestamp_opt(1_790_000_000 + second, 0).unwrap(),
                lat: 51.9 + second as f64 * 1e-4,
                lon: 4.1,
                sog: Some(10.5),
                cog: Some(90.0),
                heading: None,
                nav_status: Some(0),
            }),
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
