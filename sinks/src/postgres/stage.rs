//! The steps of one batch inside its transaction: COPY each kind into the
//! session's staging table, then merge it into the real tables.
//!
//! The staging tables are temporary (`sinks/sql/staging.sql`, created when
//! the pool opens a connection), so they write no WAL; the merges
//! (`INSERT … SELECT … ON CONFLICT`, see [`statements`](super::statements))
//! give the idempotence `COPY` alone lacks. Positions skip staging in the
//! common case ([`stage_positions`]), and the newest position per vessel is
//! upserted into `vessel_state` with one array-parameter statement. The
//! caller owns the transaction: a failure anywhere leaves none of the batch.

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

/// Stages and merges every event of `records`.
pub(super) async fn stage_events(tx: &Transaction<'_>, records: &[Sourced<Event>]) -> Result<(), SinkError> {
    let mut kinds = [false; 8];
    for r in records {
        let k = match &r.event {
            Event::Position(_) => 0,
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
        stage_positions(tx, records).await?;
        upsert_vessel_state(tx, &crate::latest_per_vessel(records)).await?;
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
pub(super) async fn stage_positions(
    tx: &Transaction<'_>,
    records: &[Sourced<Event>],
) -> Result<(), SinkError> {
    tx.batch_execute(SAVEPOINT).await.map_err(classify)?;
    match copy::copy_positions(tx, &POSITIONS_DIRECT, crate::positions(records)).await? {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute(ROLLBACK_TO_SAVEPOINT).await.map_err(classify)?;
            copy::copy_positions(tx, &POSITIONS, crate::positions(records)).await?.map_err(classify)?;
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
