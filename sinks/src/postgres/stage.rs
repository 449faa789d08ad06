//! The steps of one batch inside its transactions: COPY each kind into the
//! session's staging table, then merge it into the real tables.
//!
//! The staging tables are temporary (`sinks/sql/staging.sql`, created when
//! the pool opens a connection), so they write no WAL; the merges
//! (`INSERT … SELECT … ON CONFLICT`, see [`statements`](super::statements))
//! give the idempotence `COPY` alone lacks. Positions skip staging in the
//! common case ([`stage_positions`]), and the newest position per vessel is
//! upserted into `vessel_state` with one array-parameter statement.
//!
//! A batch's events may be split over several transactions by vessel
//! ([`Shard`]); the caller owns each transaction, runs them side by side
//! and acknowledges the batch once all committed.

use deadpool_postgres::Transaction;
use porttrack_schemas::{Event, Sourced};
use tokio_postgres::error::SqlState;

use super::classify;
use super::copy::{self, Coords, i16_of, i32_of};
use super::statements::{
    ANOMALIES, CARGO, CONGESTION, DEAD_LETTERS, Kind, MET_HYDRO, PORT_CALLS, PORT_OPS, POSITIONS,
    POSITIONS_DIRECT, ROLLBACK_TO_SAVEPOINT, SAFETY_MESSAGES, SAVEPOINT, STATIONS, UPSERT_VESSEL_STATE,
    VESSELS, WEATHER, WEATHER_ALERTS, ZONE_EVENTS,
};
use crate::{DeadLetterSummary, Derived, PositionRef, SinkError};

/// One of the transactions a batch's events are split over
/// (`postgres.batch_writers`): the positions of the vessels whose MMSI falls
/// in it, and, for the first, every other event.
///
/// Split by vessel so that no two of a batch's transactions touch the same
/// `vessel_state` row: they never wait on each other's row locks, and cannot
/// deadlock. Positions are most of the traffic and most of the write's cost;
/// the other kinds stay together, so a vessel's static data and cargo are
/// merged in one place as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shard {
    index: u32,
    of: u32,
}

impl Shard {
    /// The whole batch in one transaction.
    #[cfg(test)]
    pub(super) const WHOLE: Shard = Shard { index: 0, of: 1 };

    /// The `of` shards of a batch (at least one).
    pub(super) fn all(of: usize) -> impl Iterator<Item = Shard> {
        let of = u32::try_from(of.max(1)).unwrap_or(u32::MAX);
        (0..of).map(move |index| Shard { index, of })
    }

    /// Whether this shard writes the vessel's positions.
    fn holds(self, mmsi: u32) -> bool {
        // MMSIs are 9-digit numbers with no structure in their low digits
        // worth avoiding; a remainder spreads them evenly.
        mmsi % self.of == self.index
    }

    /// Whether this shard writes the events that are not positions.
    fn takes_the_rest(self) -> bool {
        self.index == 0
    }

    /// The positions of `records` this shard writes.
    fn positions(self, records: &[Sourced<Event>]) -> impl Iterator<Item = PositionRef<'_>> {
        crate::positions(records).filter(move |p| self.holds(p.event.mmsi))
    }

    /// Whether this shard has anything of `records` to write.
    pub(super) fn has_work(self, records: &[Sourced<Event>]) -> bool {
        records.iter().any(|r| match &r.event {
            Event::Position(p) => self.holds(p.mmsi),
            _ => self.takes_the_rest(),
        })
    }
}

/// Stages and merges the events of `records` that `shard` writes.
pub(super) async fn stage_events(
    tx: &Transaction<'_>,
    records: &[Sourced<Event>],
    shard: Shard,
) -> Result<(), SinkError> {
    let mut kinds = [false; 8];
    for r in records {
        let k = match &r.event {
            Event::Position(p) if shard.holds(p.mmsi) => 0,
            Event::Position(_) => continue,
            _ if !shard.takes_the_rest() => continue,
            Event::Static(_) => 1,
            Event::Weather(_) => 2,
            Event::Cargo(_) => 3,
            Event::PortOps(_) => 4,
            Event::Safety(_) => 5,
            Event::MetHydro(_) => 6,
            Event::Station(_) => 7,
            // A kind this sink does not know yet must not be acknowledged as stored.
            other => {
                return Err(SinkError::Permanent(format!(
                    "event kind {} has no Postgres table",
                    other.kind().as_str()
                )));
            }
        };
        kinds[k] = true;
    }
    if kinds[0] {
        stage_positions(tx, || shard.positions(records)).await?;
        let latest = crate::latest_of(shard.positions(records), records.len() / shard.of as usize);
        upsert_vessel_state(tx, &latest).await?;
    }
    if kinds[1] {
        copy::copy_vessels(tx, records).await?;
        merge(tx, &VESSELS).await?;
    }
    if kinds[2] {
        copy::copy_weather(tx, records).await?;
        merge(tx, &WEATHER).await?;
    }
    if kinds[3] {
        copy::copy_cargo(tx, records).await?;
        merge(tx, &CARGO).await?;
    }
    if kinds[4] {
        copy::copy_port_ops(tx, records).await?;
        merge(tx, &PORT_OPS).await?;
    }
    if kinds[5] {
        copy::copy_safety(tx, records).await?;
        merge(tx, &SAFETY_MESSAGES).await?;
    }
    if kinds[6] {
        copy::copy_met_hydro(tx, records).await?;
        merge(tx, &MET_HYDRO).await?;
    }
    if kinds[7] {
        copy::copy_stations(tx, records).await?;
        merge(tx, &STATIONS).await?;
    }
    Ok(())
}

/// Positions into the history.
///
/// One binary COPY straight into `positions` inside a savepoint: no staging
/// copy and no per-row conflict arbitration, so the common case costs what a
/// bulk load costs. A replay (after a crash, or another instance's
/// rebalance) makes that COPY fail with a unique violation; then the sink
/// rolls back to the savepoint, stages every row and merges with
/// `ON CONFLICT DO NOTHING`, which skips the rows already there.
pub(super) async fn stage_positions<'r, I>(
    tx: &Transaction<'_>,
    positions: impl Fn() -> I,
) -> Result<(), SinkError>
where
    I: Iterator<Item = PositionRef<'r>>,
{
    tx.batch_execute(SAVEPOINT).await.map_err(classify)?;
    match copy::copy_positions(tx, &POSITIONS_DIRECT, positions()).await? {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute(ROLLBACK_TO_SAVEPOINT).await.map_err(classify)?;
            copy::copy_positions(tx, &POSITIONS, positions()).await?.map_err(classify)?;
            merge(tx, &POSITIONS).await
        }
        Err(e) => Err(classify(e)),
    }
}

/// The batch's newest report per vessel into `vessel_state`, as one
/// statement over array parameters (`upsert_vessel_state.sql`).
async fn upsert_vessel_state(tx: &Transaction<'_>, latest: &[PositionRef<'_>]) -> Result<(), SinkError> {
    if latest.is_empty() {
        return Ok(());
    }
    let n = latest.len();
    let mut mmsi = Vec::with_capacity(n);
    let mut time = Vec::with_capacity(n);
    let mut lat = Vec::with_capacity(n);
    let mut lon = Vec::with_capacity(n);
    let mut sog = Vec::with_capacity(n);
    let mut cog = Vec::with_capacity(n);
    let mut heading = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut topic = Vec::with_capacity(n);
    let mut partition = Vec::with_capacity(n);
    let mut offset = Vec::with_capacity(n);
    let mut index = Vec::with_capacity(n);
    for r in latest {
        let (p, c) = (r.event, Coords::of(r.origin));
        mmsi.push(i32_of("mmsi", p.mmsi)?);
        time.push(p.timestamp);
        lat.push(p.lat);
        lon.push(p.lon);
        sog.push(p.sog);
        cog.push(p.cog);
        heading.push(p.heading.map(|h| i16_of("heading", h)).transpose()?);
        status.push(p.nav_status.map(i16::from));
        topic.push(c.topic);
        partition.push(c.partition);
        offset.push(c.offset);
        index.push(c.index);
    }
    let statement = tx.prepare_cached(UPSERT_VESSEL_STATE).await.map_err(classify)?;
    tx.execute(
        &statement,
        &[&mmsi, &time, &lat, &lon, &sog, &cog, &heading, &status, &topic, &partition, &offset, &index],
    )
    .await
    .map_err(classify)?;
    Ok(())
}

/// Runs a kind's merge statements.
async fn merge(tx: &Transaction<'_>, kind: &Kind) -> Result<(), SinkError> {
    for sql in kind.merges {
        let statement = tx.prepare_cached(sql).await.map_err(classify)?;
        tx.execute(&statement, &[]).await.map_err(classify)?;
    }
    Ok(())
}

/// Stages and merges processor outputs.
pub(super) async fn stage_derived(tx: &Transaction<'_>, d: &Derived) -> Result<(), SinkError> {
    if !d.zone_events.is_empty() {
        copy::copy_zone_events(tx, &d.zone_events).await?;
        merge(tx, &ZONE_EVENTS).await?;
    }
    if !d.port_calls.is_empty() {
        copy::copy_port_calls(tx, &d.port_calls).await?;
        merge(tx, &PORT_CALLS).await?;
    }
    if !d.anomalies.is_empty() {
        copy::copy_anomalies(tx, &d.anomalies).await?;
        merge(tx, &ANOMALIES).await?;
    }
    if !d.weather_alerts.is_empty() {
        copy::copy_weather_alerts(tx, &d.weather_alerts).await?;
        merge(tx, &WEATHER_ALERTS).await?;
    }
    if !d.congestion.is_empty() {
        copy::copy_congestion(tx, &d.congestion).await?;
        merge(tx, &CONGESTION).await?;
    }
    Ok(())
}

/// Stages and merges dead-letter summaries.
pub(super) async fn stage_dead_letters(
    tx: &Transaction<'_>,
    letters: &[DeadLetterSummary<'_>],
) -> Result<(), SinkError> {
    copy::copy_dead_letters(tx, letters).await?;
    merge(tx, &DEAD_LETTERS).await
}

#[cfg(test)]
mod tests {
    use super::Shard;
    use crate::testing::record;

    #[test]
    fn every_position_is_in_exactly_one_shard() {
        let records: Vec<_> = (0..200).map(|i| record(244_000_000 + i * 7, i64::from(i), 0)).collect();
        for of in 1..=4 {
            let shards: Vec<Shard> = Shard::all(of).collect();
            assert_eq!(shards.len(), of);
            let counts: Vec<usize> = shards.iter().map(|s| s.positions(&records).count()).collect();
            assert_eq!(counts.iter().sum::<usize>(), records.len(), "{of} shards: {counts:?}");
            // Spread: no shard is empty with 200 vessels.
            assert!(counts.iter().all(|&n| n > 0), "{of} shards: {counts:?}");
            for p in crate::positions(&records) {
                assert_eq!(shards.iter().filter(|s| s.holds(p.event.mmsi)).count(), 1);
            }
        }
        assert_eq!(Shard::all(0).count(), 1, "at least one writer");
        assert_eq!(Shard::all(1).next(), Some(Shard::WHOLE));
    }

    #[test]
    fn a_shard_without_rows_has_no_work() {
        // One vessel: one of two shards holds it, the other has nothing.
        let records = vec![record(244_000_001, 0, 0), record(244_000_001, 10, 1)];
        let busy: Vec<bool> = Shard::all(2).map(|s| s.has_work(&records)).collect();
        assert_eq!(busy, [false, true]);
        assert!(Shard::WHOLE.has_work(&records));
        assert!(!Shard::WHOLE.has_work(&[]));
    }
}
