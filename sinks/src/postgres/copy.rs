//! COPY rows: every kind's values encoded, in column order, into a binary
//! `COPY … FROM STDIN (FORMAT binary)` stream.
//!
//! Binary `COPY` is the fastest way into Postgres from a client (no SQL
//! parsing per row, no text conversion of numbers and timestamps). Each
//! `copy_*` function streams one kind into the statement of its
//! [`Kind`] and returns the rows written; the
//! order of the values must match the kind's column types in
//! [`statements`](super::statements). A value that does not fit its column
//! (an unsigned number over the signed column's range) is the record's
//! fault: [`SinkError::Permanent`]. What to merge afterwards, and in which
//! transaction, is [`stage`](super::stage)'s business.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use futures::pin_mut;
use porttrack_processors::ZonePartial;
use porttrack_schemas::{CargoOperation, Event, Origin, Sourced, StationReport, VesselStatic};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::ToSql;

use super::classify;
use super::statements::{
    ANOMALIES, CARGO, CONGESTION, DEAD_LETTERS, Kind, MET_HYDRO, PORT_CALLS, PORT_OPS, SAFETY_MESSAGES,
    STATIONS, VESSELS, WEATHER, WEATHER_ALERTS, ZONE_EVENTS,
};
use crate::derived::{AnomalyRow, PortCallRow, WeatherAlertRow, ZoneEventRow};
use crate::{DeadLetterSummary, PositionRef, SinkError};

/// A value that does not fit its column: the record's fault, not the database's.
pub(super) fn too_big(what: &str, value: impl std::fmt::Display) -> SinkError {
    SinkError::Permanent(format!("{what} {value} does not fit its column"))
}

pub(super) fn i32_of(what: &str, v: u32) -> Result<i32, SinkError> {
    i32::try_from(v).map_err(|_| too_big(what, v))
}

pub(super) fn i16_of(what: &str, v: u16) -> Result<i16, SinkError> {
    i16::try_from(v).map_err(|_| too_big(what, v))
}

pub(super) fn i64_of(what: &str, v: u64) -> Result<i64, SinkError> {
    i64::try_from(v).map_err(|_| too_big(what, v))
}

/// Origin columns as the tables hold them.
pub(super) struct Coords<'a> {
    pub(super) topic: &'a str,
    pub(super) partition: i32,
    pub(super) offset: i64,
    pub(super) index: i16,
}

impl<'a> Coords<'a> {
    pub(super) fn of(o: &'a Origin) -> Self {
        // index is a u16 of sentences in one record; real records hold a few.
        Coords { topic: &o.topic, partition: o.partition, offset: o.offset, index: o.index as i16 }
    }
}

/// Streams rows into `$kind`'s `COPY`: `$body` writes them through `$w`;
/// evaluates to the rows written.
macro_rules! copy_rows {
    ($tx:expr, $kind:expr, |$w:ident| $body:block) => {{
        let statement = $tx.prepare_cached($kind.copy).await.map_err(classify)?;
        let sink = $tx.copy_in(&statement).await.map_err(classify)?;
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

/// COPYs position rows with `kind`'s statement. The outer error is a value
/// that fits no column (the record's fault); the inner one is Postgres's,
/// left unclassified so the caller can tell a unique violation apart.
pub(super) async fn copy_positions<'r>(
    tx: &Transaction<'_>,
    kind: &Kind,
    rows: impl Iterator<Item = PositionRef<'r>>,
) -> Result<Result<u64, tokio_postgres::Error>, SinkError> {
    // Prepared once per pooled connection: `copy_in` of a string prepares
    // it again on every call, a round trip per COPY of every batch.
    let statement = tx.prepare_cached(kind.copy).await.map_err(classify)?;
    let sink = match tx.copy_in(&statement).await {
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
pub(super) async fn copy_vessels(tx: &Transaction<'_>, records: &[Sourced<Event>]) -> Result<u64, SinkError> {
    let mut reports: Vec<(&VesselStatic, &Origin)> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Static(s) => Some((&**s, &r.origin)),
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
            let inland_type = s.inland_ship_type.map(|t| i16_of("inland_ship_type", t)).transpose()?;
            let hazard = s.hazard.map(i16::from);
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
                    &s.eni,
                    &inland_type,
                    &hazard,
                    &s.loaded,
                    &s.length_m,
                    &s.beam_m,
                ],
            )
            .await?;
        }
    })
}

/// Weather observations, one row per record.
pub(super) async fn copy_weather(tx: &Transaction<'_>, records: &[Sourced<Event>]) -> Result<u64, SinkError> {
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
    })
}

/// Cargo events, one row per record.
pub(super) async fn copy_cargo(tx: &Transaction<'_>, records: &[Sourced<Event>]) -> Result<u64, SinkError> {
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
    })
}

/// Port operations events, one row per record.
pub(super) async fn copy_port_ops(
    tx: &Transaction<'_>,
    records: &[Sourced<Event>],
) -> Result<u64, SinkError> {
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
    })
}

/// Safety-related messages, one row per record.
pub(super) async fn copy_safety(tx: &Transaction<'_>, records: &[Sourced<Event>]) -> Result<u64, SinkError> {
    copy_rows!(tx, SAFETY_MESSAGES, |w| {
        for r in records {
            let Event::Safety(e) = &r.event else { continue };
            let c = Coords::of(&r.origin);
            let mmsi = i32_of("mmsi", e.mmsi)?;
            let dest = e.dest_mmsi.map(|d| i32_of("dest_mmsi", d)).transpose()?;
            let sequence = e.sequence.map(i16::from);
            write_row(
                w,
                &[
                    &c.topic,
                    &c.partition,
                    &c.offset,
                    &c.index,
                    &e.timestamp,
                    &mmsi,
                    &e.addressed,
                    &dest,
                    &sequence,
                    &e.retransmit,
                    &e.text,
                ],
            )
            .await?;
        }
    })
}

/// Met-hydro reports, one row per record (the merge keeps one per station and time).
pub(super) async fn copy_met_hydro(
    tx: &Transaction<'_>,
    records: &[Sourced<Event>],
) -> Result<u64, SinkError> {
    copy_rows!(tx, MET_HYDRO, |w| {
        for r in records {
            let Event::MetHydro(e) = &r.event else { continue };
            let c = Coords::of(&r.origin);
            let mmsi = i32_of("mmsi", e.mmsi)?;
            let dac = i16_of("dac", e.dac)?;
            let small = |v: Option<u8>| v.map(i16::from);
            let deg = |what: &str, v: Option<u16>| v.map(|d| i16_of(what, d)).transpose();
            let details = e.details.clone().map(serde_json::Value::Object);
            write_row(
                w,
                &[
                    &mmsi,
                    &e.timestamp,
                    &dac,
                    &i16::from(e.fid),
                    &e.lat,
                    &e.lon,
                    &small(e.report_day),
                    &small(e.report_hour),
                    &small(e.report_minute),
                    &e.wind_speed_kn,
                    &e.wind_gust_kn,
                    &deg("wind_direction_deg", e.wind_direction_deg)?,
                    &deg("wind_gust_direction_deg", e.wind_gust_direction_deg)?,
                    &e.air_temperature_c,
                    &small(e.humidity_pct),
                    &e.dew_point_c,
                    &e.pressure_hpa,
                    &small(e.pressure_tendency),
                    &e.visibility_nm,
                    &e.visibility_greater,
                    &e.water_level_m,
                    &small(e.water_level_trend),
                    &e.current_speed_kn,
                    &deg("current_direction_deg", e.current_direction_deg)?,
                    &e.wave_height_m,
                    &small(e.wave_period_s),
                    &deg("wave_direction_deg", e.wave_direction_deg)?,
                    &e.swell_height_m,
                    &small(e.swell_period_s),
                    &deg("swell_direction_deg", e.swell_direction_deg)?,
                    &small(e.sea_state),
                    &e.water_temperature_c,
                    &small(e.precipitation_type),
                    &e.salinity_permille,
                    &small(e.ice),
                    &details,
                    &c.topic,
                    &c.partition,
                    &c.offset,
                    &c.index,
                ],
            )
            .await?;
        }
    })
}

/// Station reports: the batch's newest per MMSI (event time, then offset,
/// then index: the order the merge's guard uses), since one upsert
/// statement may touch each station's row once.
pub(super) async fn copy_stations(
    tx: &Transaction<'_>,
    records: &[Sourced<Event>],
) -> Result<u64, SinkError> {
    let mut latest: BTreeMap<u32, (&StationReport, &Origin)> = BTreeMap::new();
    for r in records {
        let Event::Station(s) = &r.event else { continue };
        latest
            .entry(s.mmsi)
            .and_modify(|cur| {
                if (s.timestamp, r.origin.offset, r.origin.index)
                    >= (cur.0.timestamp, cur.1.offset, cur.1.index)
                {
                    *cur = (s, &r.origin);
                }
            })
            .or_insert((s, &r.origin));
    }
    copy_rows!(tx, STATIONS, |w| {
        for (s, origin) in latest.values() {
            let c = Coords::of(origin);
            let mmsi = i32_of("mmsi", s.mmsi)?;
            let kind = s.kind.as_str();
            let small = |v: Option<u8>| v.map(i16::from);
            let dims = [s.to_bow, s.to_stern, s.to_port, s.to_starboard]
                .map(|d| d.map(|v| i16_of("dimension", v)).transpose());
            let [bow, stern, port, starboard] = dims;
            write_row(
                w,
                &[
                    &mmsi,
                    &kind,
                    &s.timestamp,
                    &s.lat,
                    &s.lon,
                    &s.name,
                    &small(s.aid_type),
                    &s.virtual_aid,
                    &s.off_position,
                    &small(s.epfd),
                    &bow?,
                    &stern?,
                    &port?,
                    &starboard?,
                    &s.station_time,
                    &c.topic,
                    &c.partition,
                    &c.offset,
                    &c.index,
                ],
            )
            .await?;
        }
    })
}

/// Zone entries and exits.
pub(super) async fn copy_zone_events(tx: &Transaction<'_>, rows: &[ZoneEventRow]) -> Result<u64, SinkError> {
    copy_rows!(tx, ZONE_EVENTS, |w| {
        for e in rows {
            zone_event(w, e).await?;
        }
    })
}

/// Port calls.
pub(super) async fn copy_port_calls(tx: &Transaction<'_>, rows: &[PortCallRow]) -> Result<u64, SinkError> {
    copy_rows!(tx, PORT_CALLS, |w| {
        for c in rows {
            port_call(w, c).await?;
        }
    })
}

/// Anomalies.
pub(super) async fn copy_anomalies(tx: &Transaction<'_>, rows: &[AnomalyRow]) -> Result<u64, SinkError> {
    copy_rows!(tx, ANOMALIES, |w| {
        for a in rows {
            anomaly(w, a).await?;
        }
    })
}

/// Weather alerts.
pub(super) async fn copy_weather_alerts(
    tx: &Transaction<'_>,
    rows: &[WeatherAlertRow],
) -> Result<u64, SinkError> {
    copy_rows!(tx, WEATHER_ALERTS, |w| {
        for a in rows {
            weather_alert(w, a).await?;
        }
    })
}

/// Congestion partials.
pub(super) async fn copy_congestion(tx: &Transaction<'_>, rows: &[ZonePartial]) -> Result<u64, SinkError> {
    copy_rows!(tx, CONGESTION, |w| {
        for p in rows {
            partial(w, p).await?;
        }
    })
}

/// Dead-letter summaries (the reason cut to 500 characters).
pub(super) async fn copy_dead_letters(
    tx: &Transaction<'_>,
    letters: &[DeadLetterSummary<'_>],
) -> Result<u64, SinkError> {
    copy_rows!(tx, DEAD_LETTERS, |w| {
        for l in letters {
            let c = Coords::of(l.origin);
            let class = l.class.as_str();
            // Reasons quote the payload at times; a summary row needs no more than this.
            let reason: String = l.reason.chars().take(500).collect();
            let at: DateTime<Utc> = l.at;
            write_row(w, &[&c.topic, &c.partition, &c.offset, &c.index, &class, &reason, &at]).await?;
        }
    })
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
    let id = c.id();
    write_row(
        w,
        &[
            &id.as_str(),
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
