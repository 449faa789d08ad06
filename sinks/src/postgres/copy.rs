//! Staging: one binary `COPY` per kind into the session's temporary tables,
//! then the kind's `INSERT … SELECT … ON CONFLICT` merge.
//!
//! Binary `COPY` is the fastest way into Postgres from a client (no SQL
//! parsing per row, no text conversion of numbers and timestamps); the
//! staging tables are temporary, so they write no WAL, and the merge
//! statements give the idempotence `COPY` alone lacks. Column lists and
//! types here must match `sinks/sql/copy_*.sql` in order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use futures::pin_mut;
use porttrack_processors::ZonePartial;
use porttrack_schemas::{CargoOperation, Event, Origin, Sourced, VesselStatic};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};

use super::classify;
use crate::derived::{AnomalyRow, PortCallRow, WeatherAlertRow, ZoneEventRow};
use crate::{PositionRef, SinkError};

/// A staged kind: its `COPY` statement, the column types, and its merges.
pub(super) struct Kind {
    pub(super) copy: &'static str,
    pub(super) types: &'static [Type],
    pub(super) merges: &'static [&'static str],
}

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("../../sql/", $name, ".sql"))
    };
}

pub(super) const STAGING: &str = sql!("staging");
pub(super) const ENSURE_PARTITION: &str = sql!("ensure_partition");

/// The binary types of the `positions` COPY columns, in the order of
/// `copy_positions*.sql`: event_time, source_topic, source_partition,
/// source_offset, source_index, mmsi, lat, lon, sog, cog, heading, nav_status.
pub const POSITION_COPY_TYPES: &[Type] = &[
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::INT4,
    Type::INT8,
    Type::INT2,
    Type::INT4,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT4,
    Type::FLOAT4,
    Type::INT2,
    Type::INT2,
];

pub(super) const POSITIONS: Kind = Kind {
    copy: sql!("copy_positions"),
    types: POSITION_COPY_TYPES,
    // Staged only when the direct COPY met rows already there (see
    // `stage_positions`).
    merges: &[sql!("merge_positions")],
};

/// Positions COPYed straight into the partitioned history (same columns).
pub(super) const POSITIONS_DIRECT: Kind =
    Kind { copy: sql!("copy_positions_direct"), types: POSITION_COPY_TYPES, merges: &[] };

const UPSERT_VESSEL_STATE: &str = sql!("upsert_vessel_state");
const SAVEPOINT: &str = sql!("savepoint");
const ROLLBACK_TO_SAVEPOINT: &str = sql!("rollback_to_savepoint");

pub(super) const VESSELS: Kind = Kind {
    copy: sql!("copy_vessels"),
    types: &[
        Type::INT4,
        Type::TIMESTAMPTZ,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::INT2,
        Type::FLOAT4,
        Type::TEXT,
        Type::TIMESTAMPTZ,
    ],
    merges: &[sql!("merge_vessels")],
};

pub(super) const WEATHER: Kind = Kind {
    copy: sql!("copy_weather"),
    types: &[
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::INT2,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
    ],
    merges: &[sql!("merge_weather")],
};

pub(super) const CARGO: Kind = Kind {
    copy: sql!("copy_cargo_events"),
    types: &[
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT4,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
    ],
    merges: &[sql!("merge_cargo_events")],
};

pub(super) const PORT_OPS: Kind = Kind {
    copy: sql!("copy_port_ops_events"),
    types: &[
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
    ],
    merges: &[sql!("merge_port_ops_events")],
};

pub(super) const ZONE_EVENTS: Kind = Kind {
    copy: sql!("copy_zone_events"),
    types: &[Type::INT4, Type::TEXT, Type::TEXT, Type::TEXT, Type::TIMESTAMPTZ, Type::INT8],
    merges: &[sql!("merge_zone_events")],
};

pub(super) const PORT_CALLS: Kind = Kind {
    copy: sql!("copy_port_calls"),
    types: &[
        Type::TEXT,
        Type::INT4,
        Type::TEXT,
        Type::INT2,
        Type::TIMESTAMPTZ,
        Type::TIMESTAMPTZ,
        Type::BOOL,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::INT8,
        Type::JSONB,
    ],
    merges: &[sql!("merge_port_calls")],
};

pub(super) const ANOMALIES: Kind = Kind {
    copy: sql!("copy_anomalies"),
    types: &[Type::INT4, Type::TIMESTAMPTZ, Type::TEXT, Type::TEXT, Type::JSONB],
    merges: &[sql!("merge_anomalies")],
};

pub(super) const WEATHER_ALERTS: Kind = Kind {
    copy: sql!("copy_weather_alerts"),
    types: &[Type::TEXT, Type::TEXT, Type::TIMESTAMPTZ, Type::TEXT, Type::FLOAT4, Type::FLOAT4, Type::BOOL],
    merges: &[sql!("merge_weather_alerts")],
};

pub(super) const CONGESTION: Kind = Kind {
    copy: sql!("copy_congestion_partials"),
    types: &[
        Type::TEXT,
        Type::INT4,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::INT4,
        Type::INT8,
        Type::INT8,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
        Type::INT4,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::JSONB,
    ],
    merges: &[sql!("merge_congestion_partials")],
};

pub(super) const DEAD_LETTERS: Kind = Kind {
    copy: sql!("copy_dead_letters"),
    types: &[Type::TEXT, Type::INT4, Type::INT8, Type::INT2, Type::TEXT, Type::TEXT, Type::TIMESTAMPTZ],
    merges: &[sql!("merge_dead_letters")],
};

/// Every staged kind, in the order a batch is merged.
#[cfg(test)]
pub(super) const ALL: [&Kind; 12] = [
    &POSITIONS,
    &POSITIONS_DIRECT,
    &VESSELS,
    &WEATHER,
    &CARGO,
    &PORT_OPS,
    &ZONE_EVENTS,
    &PORT_CALLS,
    &ANOMALIES,
    &WEATHER_ALERTS,
    &CONGESTION,
    &DEAD_LETTERS,
];

/// A value that does not fit its column: the record's fault, not the database's.
fn too_big(what: &str, value: impl std::fmt::Display) -> SinkError {
    SinkError::Permanent(format!("{what} {value} does not fit its column"))
}

fn i32_of(what: &str, v: u32) -> Result<i32, SinkError> {
    i32::try_from(v).map_err(|_| too_big(what, v))
}

fn i16_of(what: &str, v: u16) -> Result<i16, SinkError> {
    i16::try_from(v).map_err(|_| too_big(what, v))
}

fn i64_of(what: &str, v: u64) -> Result<i64, SinkError> {
    i64::try_from(v).map_err(|_| too_big(what, v))
}

/// Origin columns as the tables hold them.
struct Coords<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    index: i16,
}

impl<'a> Coords<'a> {
    fn of(o: &'a Origin) -> Self {
        // index is a u16 of sentences in one record; real records hold a few.
        Coords { topic: &o.topic, partition: o.partition, offset: o.offset, index: o.index as i16 }
    }
}

/// Streams rows into a `COPY … FROM STDIN (FORMAT binary)`; `rows` calls
/// `write` once per row.
macro_rules! copy_rows {
    ($tx:expr, $kind:expr, |$w:ident| $body:block) => {{
        let sink = $tx.copy_in($kind.copy).await.map_err(classify)?;
        let writer = BinaryCopyInWriter::new(sink, $kind.types);
        pin_mut!(writer);
        let $w = &mut writer;
        $body
        writer.finish().await.map_err(classify)
    }};
}

async fn write_row(
    w: &mut std::pin::Pin<&mut BinaryCopyInWriter>,
    row: &[&(dyn ToSql + Sync)],
) -> Result<(), SinkError> {
    w.as_mut().write(row).await.map_err(classify)
}

/// Stages and merges every event of `records`; returns rows staged per kind.
pub(super) async fn stage_events(tx: &Transaction<'_>, records: &[Sourced<Event>]) -> Result<(), SinkError> {
    let mut kinds = [false; 5];
    for r in records {
        let k = match &r.event {
            Event::Position(_) => 0,
            Event::Static(_) => 1,
            Event::Weather(_) => 2,
            Event::Cargo(_) => 3,
            Event::PortOps(_) => 4,
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
        copy_vessels(tx, records).await?;
        merge(tx, &VESSELS).await?;
    }
    if kinds[2] {
        copy_rows!(tx, WEATHER, |w| {
            for r in records {
                let Event::Weather(e) = &r.event else { continue };
                let c = Coords::of(&r.origin);
                let dir = e.wind_direction_deg.map(|d| i16_of("wind_direction_deg", d)).transpose()?;
                write_row(
                    w,
                    &[
                        &e.station,
                        &e.timestamp,
                        &e.zone,
                        &e.lat,
                        &e.lon,
                        &e.wind_speed_kn,
                        &e.wind_gust_kn,
                        &dir,
                        &e.visibility_nm,
                        &e.wave_height_m,
                        &e.pressure_hpa,
                        &e.air_temperature_c,
                        &c.topic,
                        &c.partition,
                        &c.offset,
                    ],
                )
                .await?;
            }
        })?;
        merge(tx, &WEATHER).await?;
    }
    if kinds[3] {
        copy_rows!(tx, CARGO, |w| {
            for r in records {
                let Event::Cargo(e) = &r.event else { continue };
                let c = Coords::of(&r.origin);
                let mmsi = i32_of("mmsi", e.mmsi)?;
                let operation = match e.operation {
                    CargoOperation::Load => "load",
                    CargoOperation::Discharge => "discharge",
                };
                let containers = i32_of("containers", e.containers)?;
                let teu = i32_of("teu", e.teu)?;
                write_row(
                    w,
                    &[
                        &e.event_id,
                        &e.timestamp,
                        &mmsi,
                        &e.voyage,
                        &e.berth,
                        &operation,
                        &containers,
                        &teu,
                        &e.imdg_class,
                        &c.topic,
                        &c.partition,
                        &c.offset,
                    ],
                )
                .await?;
            }
        })?;
        merge(tx, &CARGO).await?;
    }
    if kinds[4] {
        copy_rows!(tx, PORT_OPS, |w| {
            for r in records {
                let Event::PortOps(e) = &r.event else { continue };
                let c = Coords::of(&r.origin);
                let mmsi = i32_of("mmsi", e.mmsi)?;
                // The serde name is the stable one (`pilot_boarded`, ...).
                let kind = serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .ok_or_else(|| SinkError::Permanent(format!("port ops kind {:?}", e.kind)))?;
                write_row(
                    w,
                    &[
                        &e.event_id,
                        &e.timestamp,
                        &mmsi,
                        &kind,
                        &e.resource,
                        &e.shift,
                        &e.berth,
                        &c.topic,
                        &c.partition,
                        &c.offset,
                    ],
                )
                .await?;
            }
        })?;
        merge(tx, &PORT_OPS).await?;
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
    match copy_positions(tx, &POSITIONS_DIRECT, crate::positions(records)).await? {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute(ROLLBACK_TO_SAVEPOINT).await.map_err(classify)?;
            copy_positions(tx, &POSITIONS, crate::positions(records)).await?.map_err(classify)?;
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

/// COPYs position rows with `kind`'s statement. The outer error is a value
/// that fits no column (the record's fault); the inner one is Postgres's,
/// left unclassified so the caller can tell a unique violation apart.
async fn copy_positions<'r>(
    tx: &Transaction<'_>,
    kind: &Kind,
    rows: impl Iterator<Item = PositionRef<'r>>,
) -> Result<Result<u64, tokio_postgres::Error>, SinkError> {
    let sink = match tx.copy_in(kind.copy).await {
        Ok(sink) => sink,
        Err(e) => return Ok(Err(e)),
    };
    let writer = BinaryCopyInWriter::new(sink, kind.types);
    pin_mut!(writer);
    for r in rows {
        let p = r.event;
        let c = Coords::of(r.origin);
        let mmsi = i32_of("mmsi", p.mmsi)?;
        let heading = p.heading.map(|h| i16_of("heading", h)).transpose()?;
        let status = p.nav_status.map(i16::from);
        let row: [&(dyn ToSql + Sync); 12] = [
            &p.timestamp,
            &c.topic,
            &c.partition,
            &c.offset,
            &c.index,
            &mmsi,
            &p.lat,
            &p.lon,
            &p.sog,
            &p.cog,
            &heading,
            &status,
        ];
        if let Err(e) = writer.as_mut().write(&row).await {
            return Ok(Err(e));
        }
    }
    Ok(writer.finish().await)
}

/// Static reports, merged per vessel first (oldest to newest, the order
/// [`VesselStatic::merged_with`] expects), since one upsert statement may
/// touch each vessel's row once.
async fn copy_vessels(tx: &Transaction<'_>, records: &[Sourced<Event>]) -> Result<u64, SinkError> {
    let mut reports: Vec<(&VesselStatic, &Origin)> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Static(s) => Some((s, &r.origin)),
            _ => None,
        })
        .collect();
    reports.sort_by_key(|(s, o)| (s.mmsi, s.timestamp, o.offset, o.index));
    let mut merged: BTreeMap<u32, VesselStatic> = BTreeMap::new();
    for (s, _) in reports {
        match merged.remove(&s.mmsi) {
            Some(older) => merged.insert(s.mmsi, older.merged_with(s)),
            None => merged.insert(s.mmsi, s.clone()),
        };
    }
    copy_rows!(tx, VESSELS, |w| {
        for s in merged.values() {
            let mmsi = i32_of("mmsi", s.mmsi)?;
            let imo = s.imo.map(|v| i32_of("imo", v)).transpose()?;
            let shiptype = s.shiptype.map(i16::from);
            let dims = [s.to_bow, s.to_stern, s.to_port, s.to_starboard]
                .map(|d| d.map(|v| i16_of("dimension", v)).transpose());
            let [bow, stern, port, starboard] = dims;
            let (bow, stern, port, starboard) = (bow?, stern?, port?, starboard?);
            write_row(
                w,
                &[
                    &mmsi,
                    &s.timestamp,
                    &imo,
                    &s.callsign,
                    &s.shipname,
                    &shiptype,
                    &bow,
                    &stern,
                    &port,
                    &starboard,
                    &s.draught,
                    &s.destination,
                    &s.eta,
                ],
            )
            .await?;
        }
    })
}

/// Runs a kind's merge statements.
pub(super) async fn merge(tx: &Transaction<'_>, kind: &Kind) -> Result<(), SinkError> {
    for sql in kind.merges {
        let statement = tx.prepare_cached(sql).await.map_err(classify)?;
        tx.execute(&statement, &[]).await.map_err(classify)?;
    }
    Ok(())
}

/// Stages and merges processor outputs.
pub(super) async fn stage_derived(tx: &Transaction<'_>, d: &crate::Derived) -> Result<(), SinkError> {
    if !d.zone_events.is_empty() {
        copy_rows!(tx, ZONE_EVENTS, |w| {
            for e in &d.zone_events {
                zone_event(w, e).await?;
            }
        })?;
        merge(tx, &ZONE_EVENTS).await?;
    }
    if !d.port_calls.is_empty() {
        copy_rows!(tx, PORT_CALLS, |w| {
            for c in &d.port_calls {
                port_call(w, c).await?;
            }
        })?;
        merge(tx, &PORT_CALLS).await?;
    }
    if !d.anomalies.is_empty() {
        copy_rows!(tx, ANOMALIES, |w| {
            for a in &d.anomalies {
                anomaly(w, a).await?;
            }
        })?;
        merge(tx, &ANOMALIES).await?;
    }
    if !d.weather_alerts.is_empty() {
        copy_rows!(tx, WEATHER_ALERTS, |w| {
            for a in &d.weather_alerts {
                weather_alert(w, a).await?;
            }
        })?;
        merge(tx, &WEATHER_ALERTS).await?;
    }
    if !d.congestion.is_empty() {
        copy_rows!(tx, CONGESTION, |w| {
            for p in &d.congestion {
                partial(w, p).await?;
            }
        })?;
        merge(tx, &CONGESTION).await?;
    }
    Ok(())
}

async fn zone_event(
    w: &mut std::pin::Pin<&mut BinaryCopyInWriter>,
    e: &ZoneEventRow,
) -> Result<(), SinkError> {
    let mmsi = i32_of("mmsi", e.mmsi)?;
    write_row(w, &[&mmsi, &e.zone, &e.zone_kind, &e.direction, &e.at, &e.stay_s]).await
}

async fn port_call(w: &mut std::pin::Pin<&mut BinaryCopyInWriter>, r: &PortCallRow) -> Result<(), SinkError> {
    let c = &r.call;
    let mmsi = i32_of("mmsi", c.mmsi)?;
    let loaded = i64_of("teu_loaded", c.teu_loaded)?;
    let discharged = i64_of("teu_discharged", c.teu_discharged)?;
    let services = serde_json::to_value(&c.services)
        .map_err(|e| SinkError::Permanent(format!("encoding services: {e}")))?;
    write_row(
        w,
        &[
            &c.id,
            &mmsi,
            &r.phase,
            &r.phase_rank,
            &r.last_event_at,
            &c.arrived_at,
            &c.arrival_observed,
            &c.anchored_at,
            &c.waiting_time_s,
            &c.berth,
            &c.berthed_at,
            &c.unberthed_at,
            &c.service_time_s,
            &c.departed_at,
            &loaded,
            &discharged,
            &services,
        ],
    )
    .await
}

async fn anomaly(w: &mut std::pin::Pin<&mut BinaryCopyInWriter>, a: &AnomalyRow) -> Result<(), SinkError> {
    let mmsi = i32_of("mmsi", a.mmsi)?;
    let kind = a.kind();
    let details = a.details_json();
    write_row(w, &[&mmsi, &a.at, &kind, &a.zone, &details]).await
}

async fn weather_alert(
    w: &mut std::pin::Pin<&mut BinaryCopyInWriter>,
    a: &WeatherAlertRow,
) -> Result<(), SinkError> {
    write_row(w, &[&a.zone, &a.station, &a.at, &a.kind, &a.value, &a.limit, &a.raised]).await
}

async fn partial(w: &mut std::pin::Pin<&mut BinaryCopyInWriter>, p: &ZonePartial) -> Result<(), SinkError> {
    let berth_length = p.berth_length_m.map(|l| i32_of("berth_length_m", l)).transpose()?;
    let counts = [
        p.vessels_present,
        p.queue_length,
        p.entries,
        p.exits,
        p.moored_vessels,
        p.moored_length_m,
        p.moored_without_length,
        p.hazardous_vessels,
        p.teu_loaded,
        p.teu_discharged,
    ]
    .map(|v| i64_of("count", v));
    let [present, queue, entries, exits, moored, moored_len, no_len, hazardous, loaded, discharged] = counts;
    let rate_window = i64::from(p.rate_window_s);
    let rate_window = i32::try_from(rate_window).map_err(|_| too_big("rate_window_s", rate_window))?;
    let weather = p
        .weather
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| SinkError::Permanent(format!("encoding weather: {e}")))?;
    let kind = p.kind.as_str();
    write_row(
        w,
        &[
            &p.zone,
            &p.partition,
            &p.at,
            &kind,
            &berth_length,
            &present?,
            &queue?,
            &p.waiting_now_s,
            &p.waits_completed_s,
            &rate_window,
            &entries?,
            &exits?,
            &moored?,
            &moored_len?,
            &no_len?,
            &hazardous?,
            &loaded?,
            &discharged?,
            &weather,
        ],
    )
    .await
}

/// Stages and merges dead-letter summaries.
pub(super) async fn stage_dead_letters(
    tx: &Transaction<'_>,
    letters: &[crate::DeadLetterSummary<'_>],
) -> Result<(), SinkError> {
    copy_rows!(tx, DEAD_LETTERS, |w| {
        for l in letters {
            let c = Coords::of(l.origin);
            let class = l.class.as_str();
            // Reasons quote the payload at times; a summary row needs no more than this.
            let reason: String = l.reason.chars().take(500).collect();
            let at: DateTime<Utc> = l.at;
            write_row(w, &[&c.topic, &c.partition, &c.offset, &c.index, &class, &reason, &at]).await?;
        }
    })?;
    merge(tx, &DEAD_LETTERS).await
}
