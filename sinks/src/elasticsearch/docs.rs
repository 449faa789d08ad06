//! Documents: the action line and the document line of every event and
//! derived row, in the index its [`Family`] and event day choose.
//!
//! Documents are structs rather than `json!` values so floats keep their
//! shortest `f32` form (`9.9`, not `9.899999618530273`) and encoding does
//! not build an intermediate tree. Field names must match the mappings in
//! `sinks/es/{family}.json` (strict: an unknown field is refused).

use std::cell::RefCell;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use porttrack_processors::ZonePartial;
use porttrack_schemas::{
    CargoEvent, CargoOperation, Event, MetHydroObservation, Origin, PortOpsEvent, PortOpsKind, Position,
    SafetyMessage, Sourced, StationReport, VesselStatic, WeatherObservation,
};
use serde::Serialize;

use super::Family;
use crate::SinkError;
use crate::derived::{AnomalyRow, PortCallRow, WeatherAlertRow, ZoneEventRow, partial_id};

/// Writes action and source lines.
///
/// It keeps the last daily index name and a buffer for ids: documents come
/// in runs of one family and day, and `format!`ing both for every document
/// was a visible share of encoding them (the `bulk_body` bench).
#[derive(Debug)]
pub(super) struct Encoder<'a> {
    prefix: &'a str,
    data_streams: bool,
    index: RefCell<Option<(Family, NaiveDate, String)>>,
    id: RefCell<String>,
}

#[derive(Serialize)]
struct Action<'a> {
    #[serde(rename = "_index")]
    index: &'a str,
    #[serde(rename = "_id")]
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_type: Option<&'static str>,
}

fn encode(out: &mut Vec<u8>, value: &impl Serialize) -> Result<(), SinkError> {
    serde_json::to_writer(&mut *out, value)
        .map_err(|e| SinkError::Permanent(format!("encoding document: {e}")))?;
    out.push(b'\n');
    Ok(())
}

impl<'a> Encoder<'a> {
    pub(super) fn new(prefix: &'a str, data_streams: bool) -> Self {
        Encoder { prefix, data_streams, index: RefCell::new(None), id: RefCell::new(String::new()) }
    }

    /// Runs `f` with the index of `family` for `day`: daily, or the family's
    /// data stream.
    fn with_index<R>(&self, family: Family, day: DateTime<Utc>, f: impl FnOnce(&str) -> R) -> R {
        let d = day.date_naive();
        let mut cached = self.index.borrow_mut();
        if !matches!(&*cached, Some((cached_family, cached_day, _)) if *cached_family == family && *cached_day == d)
        {
            let name = if self.data_streams && family.is_append_only() {
                format!("{}-{}", self.prefix, family.name())
            } else {
                format!("{}-{}-{:04}.{:02}.{:02}", self.prefix, family.name(), d.year(), d.month(), d.day())
            };
            *cached = Some((family, d, name));
        }
        let name = cached.as_ref().map_or("", |(_, _, name)| name.as_str());
        f(name)
    }

    fn action(
        &self,
        out: &mut Vec<u8>,
        family: Family,
        index: &str,
        id: &str,
        version: Option<i64>,
    ) -> Result<(), SinkError> {
        let action = Action { index, id, version, version_type: version.map(|_| "external_gte") };
        // Data streams take `create` only; a replayed create answers 409.
        let op = if self.data_streams && family.is_append_only() { "create" } else { "index" };
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(op.as_bytes());
        out.extend_from_slice(b"\":");
        serde_json::to_writer(&mut *out, &action)
            .map_err(|e| SinkError::Permanent(format!("encoding action: {e}")))?;
        out.extend_from_slice(b"}\n");
        Ok(())
    }

    fn simple(
        &self,
        out: &mut Vec<u8>,
        family: Family,
        at: DateTime<Utc>,
        id: &str,
        doc: &impl Serialize,
    ) -> Result<(), SinkError> {
        self.with_index(family, at, |index| self.action(out, family, index, id, None))?;
        encode(out, doc)
    }

    /// One event: action line and document line.
    pub(super) fn event(&self, r: &Sourced<Event>, out: &mut Vec<u8>) -> Result<(), SinkError> {
        let mut id = self.id.borrow_mut();
        id.clear();
        r.origin.write_document_id(&mut id);
        let id = id.as_str();
        let source = SourceDoc::of(&r.origin);
        match &r.event {
            Event::Position(p) => {
                self.simple(out, Family::Positions, p.timestamp, id, &PositionDoc::new(p, source))
            }
            Event::Static(s) => self.simple(out, Family::Static, s.timestamp, id, &StaticDoc::new(s, source)),
            Event::Weather(w) => {
                self.simple(out, Family::Weather, w.timestamp, id, &WeatherDoc::new(w, source))
            }
            Event::Cargo(c) => self.simple(out, Family::Cargo, c.timestamp, id, &CargoDoc::new(c, source)),
            Event::PortOps(o) => {
                self.simple(out, Family::PortOps, o.timestamp, id, &PortOpsDoc::new(o, source))
            }
            Event::Safety(m) => self.simple(out, Family::Safety, m.timestamp, id, &SafetyDoc::new(m, source)),
            Event::MetHydro(m) => {
                self.simple(out, Family::MetHydro, m.timestamp, id, &MetHydroDoc::new(m, source))
            }
            Event::Station(s) => {
                self.simple(out, Family::Stations, s.timestamp, id, &StationDoc::new(s, source))
            }
            // Never acknowledge a kind without a home as stored.
            other => Err(SinkError::Permanent(format!(
                "event kind {} has no Elasticsearch index family",
                other.kind().as_str()
            ))),
        }
    }

    pub(super) fn zone_event(&self, e: &ZoneEventRow, out: &mut Vec<u8>) -> Result<(), SinkError> {
        self.simple(out, Family::ZoneEvents, e.at, &e.id(), &Timestamped { timestamp: e.at, doc: e })
    }

    pub(super) fn port_call(&self, c: &PortCallRow, out: &mut Vec<u8>) -> Result<(), SinkError> {
        // Monthly by arrival: the id fixes the arrival, so the index too.
        let d = c.call.arrived_at.date_naive();
        let index = format!("{}-{}-{:04}.{:02}", self.prefix, Family::PortCalls.name(), d.year(), d.month());
        self.action(out, Family::PortCalls, &index, &c.call.id(), Some(c.version()))?;
        encode(
            out,
            &PortCallDoc {
                timestamp: c.last_event_at,
                phase: c.phase,
                phase_rank: c.phase_rank,
                call: &c.call,
            },
        )
    }

    pub(super) fn anomaly(&self, a: &AnomalyRow, out: &mut Vec<u8>) -> Result<(), SinkError> {
        self.simple(out, Family::Anomalies, a.at, &a.id(), &Timestamped { timestamp: a.at, doc: a })
    }

    pub(super) fn weather_alert(&self, w: &WeatherAlertRow, out: &mut Vec<u8>) -> Result<(), SinkError> {
        self.simple(out, Family::WeatherAlerts, w.at, &w.id(), &Timestamped { timestamp: w.at, doc: w })
    }

    pub(super) fn partial(&self, p: &ZonePartial, out: &mut Vec<u8>) -> Result<(), SinkError> {
        let weather = p.weather.as_ref();
        let doc = CongestionDoc {
            timestamp: p.at,
            zone: &p.zone,
            zone_kind: p.kind.as_str(),
            partition: p.partition,
            berth_length_m: p.berth_length_m,
            vessels_present: p.vessels_present,
            queue_length: p.queue_length,
            waiting_now_s: &p.waiting_now_s,
            waits_completed_s: &p.waits_completed_s,
            rate_window_s: p.rate_window_s,
            entries: p.entries,
            exits: p.exits,
            moored_vessels: p.moored_vessels,
            moored_length_m: p.moored_length_m,
            moored_without_length: p.moored_without_length,
            hazardous_vessels: p.hazardous_vessels,
            teu_loaded: p.teu_loaded,
            teu_discharged: p.teu_discharged,
            weather: weather.map(|w| &w.latest),
            oldest_gust_at: weather.and_then(|w| w.oldest_gust).map(|g| g.0),
            oldest_gust_kn: weather.and_then(|w| w.oldest_gust).map(|g| g.1),
            newest_gust_at: weather.and_then(|w| w.newest_gust).map(|g| g.0),
            newest_gust_kn: weather.and_then(|w| w.newest_gust).map(|g| g.1),
        };
        self.simple(out, Family::Congestion, p.at, &partial_id(p), &doc)
    }
}

#[derive(Serialize)]
struct SourceDoc<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    #[serde(skip_serializing_if = "is_zero")]
    index: u16,
}

fn is_zero(v: &u16) -> bool {
    *v == 0
}

impl<'a> SourceDoc<'a> {
    fn of(o: &'a Origin) -> Self {
        SourceDoc { topic: &o.topic, partition: o.partition, offset: o.offset, index: o.index }
    }
}

#[derive(Serialize)]
struct GeoPoint {
    lat: f64,
    lon: f64,
}

/// MMSIs are identifiers: keyword strings, never numbers to range over.
struct Mmsi(u32);

impl Serialize for Mmsi {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(itoa::Buffer::new().format(self.0))
    }
}

#[derive(Serialize)]
struct PositionDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    mmsi: Mmsi,
    location: GeoPoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    sog: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cog: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    heading: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nav_status: Option<u8>,
    source: SourceDoc<'a>,
}

impl<'a> PositionDoc<'a> {
    fn new(p: &Position, source: SourceDoc<'a>) -> Self {
        PositionDoc {
            timestamp: p.timestamp,
            mmsi: Mmsi(p.mmsi),
            location: GeoPoint { lat: p.lat, lon: p.lon },
            sog: p.sog,
            cog: p.cog,
            heading: p.heading,
            nav_status: p.nav_status,
            source,
        }
    }
}

#[derive(Serialize)]
struct StaticDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    mmsi: Mmsi,
    #[serde(skip_serializing_if = "Option::is_none")]
    imo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callsign: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shiptype: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_bow: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_stern: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_starboard: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    beam: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    draught: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eni: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inland_ship_type: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hazard: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loaded: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length_m: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    beam_m: Option<f32>,
    source: SourceDoc<'a>,
}

impl<'a> StaticDoc<'a> {
    fn new(s: &'a VesselStatic, source: SourceDoc<'a>) -> Self {
        StaticDoc {
            timestamp: s.timestamp,
            mmsi: Mmsi(s.mmsi),
            imo: s.imo.map(|i| i.to_string()),
            callsign: s.callsign.as_deref(),
            shipname: s.shipname.as_deref(),
            shiptype: s.shiptype,
            to_bow: s.to_bow,
            to_stern: s.to_stern,
            to_port: s.to_port,
            to_starboard: s.to_starboard,
            length: s.length(),
            beam: s.beam(),
            draught: s.draught,
            destination: s.destination.as_deref(),
            eta: s.eta,
            eni: s.eni.as_deref(),
            inland_ship_type: s.inland_ship_type,
            hazard: s.hazard,
            loaded: s.loaded,
            length_m: s.length_m,
            beam_m: s.beam_m,
            source,
        }
    }
}

#[derive(Serialize)]
struct WeatherDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    station: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<GeoPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wind_speed_kn: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wind_gust_kn: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wind_direction_deg: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility_nm: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wave_height_m: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pressure_hpa: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    air_temperature_c: Option<f32>,
    source: SourceDoc<'a>,
}

impl<'a> WeatherDoc<'a> {
    fn new(w: &'a WeatherObservation, source: SourceDoc<'a>) -> Self {
        WeatherDoc {
            timestamp: w.timestamp,
            station: &w.station,
            zone: w.zone.as_deref(),
            location: w.lat.zip(w.lon).map(|(lat, lon)| GeoPoint { lat, lon }),
            wind_speed_kn: w.wind_speed_kn,
            wind_gust_kn: w.wind_gust_kn,
            wind_direction_deg: w.wind_direction_deg,
            visibility_nm: w.visibility_nm,
            wave_height_m: w.wave_height_m,
            pressure_hpa: w.pressure_hpa,
            air_temperature_c: w.air_temperature_c,
            source,
        }
    }
}

#[derive(Serialize)]
struct CargoDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    event_id: &'a str,
    mmsi: Mmsi,
    #[serde(skip_serializing_if = "Option::is_none")]
    voyage: Option<&'a str>,
    berth: &'a str,
    operation: CargoOperation,
    containers: u32,
    teu: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    imdg_class: Option<&'a str>,
    source: SourceDoc<'a>,
}

impl<'a> CargoDoc<'a> {
    fn new(c: &'a CargoEvent, source: SourceDoc<'a>) -> Self {
        CargoDoc {
            timestamp: c.timestamp,
            event_id: &c.event_id,
            mmsi: Mmsi(c.mmsi),
            voyage: c.voyage.as_deref(),
            berth: &c.berth,
            operation: c.operation,
            containers: c.containers,
            teu: c.teu,
            imdg_class: c.imdg_class.as_deref(),
            source,
        }
    }
}

#[derive(Serialize)]
struct PortOpsDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    event_id: &'a str,
    mmsi: Mmsi,
    kind: PortOpsKind,
    resource: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shift: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    berth: Option<&'a str>,
    source: SourceDoc<'a>,
}

impl<'a> PortOpsDoc<'a> {
    fn new(o: &'a PortOpsEvent, source: SourceDoc<'a>) -> Self {
        PortOpsDoc {
            timestamp: o.timestamp,
            event_id: &o.event_id,
            mmsi: Mmsi(o.mmsi),
            kind: o.kind,
            resource: &o.resource,
            shift: o.shift.as_deref(),
            berth: o.berth.as_deref(),
            source,
        }
    }
}

/// A safety-related text. No location: the message carries none (the
/// read API places it at its sender, see the `safety_messages_located` view).
#[derive(Serialize)]
struct SafetyDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    mmsi: Mmsi,
    addressed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_mmsi: Option<Mmsi>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retransmit: Option<bool>,
    text: &'a str,
    source: SourceDoc<'a>,
}

impl<'a> SafetyDoc<'a> {
    fn new(m: &'a SafetyMessage, source: SourceDoc<'a>) -> Self {
        SafetyDoc {
            timestamp: m.timestamp,
            mmsi: Mmsi(m.mmsi),
            addressed: m.addressed,
            dest_mmsi: m.dest_mmsi.map(Mmsi),
            sequence: m.sequence,
            retransmit: m.retransmit,
            text: &m.text,
            source,
        }
    }
}

/// A met-hydro report: its typed fields (their shortest `f32` forms), and
/// `details` as decoded (stored, not indexed: the mapping disables it).
#[derive(Serialize)]
struct MetHydroDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    mmsi: Mmsi,
    dac: u16,
    fid: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<GeoPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report_day: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report_hour: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report_minute: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wind_speed_kn: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wind_gust_kn: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wind_direction_deg: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wind_gust_direction_deg: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    air_temperature_c: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    humidity_pct: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dew_point_c: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pressure_hpa: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pressure_tendency: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility_nm: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility_greater: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    water_level_m: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    water_level_trend: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_speed_kn: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_direction_deg: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wave_height_m: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wave_period_s: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wave_direction_deg: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    swell_height_m: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    swell_period_s: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    swell_direction_deg: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sea_state: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    water_temperature_c: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    precipitation_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    salinity_permille: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ice: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Map<String, serde_json::Value>>,
    source: SourceDoc<'a>,
}

impl<'a> MetHydroDoc<'a> {
    fn new(m: &'a MetHydroObservation, source: SourceDoc<'a>) -> Self {
        MetHydroDoc {
            timestamp: m.timestamp,
            mmsi: Mmsi(m.mmsi),
            dac: m.dac,
            fid: m.fid,
            location: m.lat.zip(m.lon).map(|(lat, lon)| GeoPoint { lat, lon }),
            report_day: m.report_day,
            report_hour: m.report_hour,
            report_minute: m.report_minute,
            wind_speed_kn: m.wind_speed_kn,
            wind_gust_kn: m.wind_gust_kn,
            wind_direction_deg: m.wind_direction_deg,
            wind_gust_direction_deg: m.wind_gust_direction_deg,
            air_temperature_c: m.air_temperature_c,
            humidity_pct: m.humidity_pct,
            dew_point_c: m.dew_point_c,
            pressure_hpa: m.pressure_hpa,
            pressure_tendency: m.pressure_tendency,
            visibility_nm: m.visibility_nm,
            visibility_greater: m.visibility_greater,
            water_level_m: m.water_level_m,
            water_level_trend: m.water_level_trend,
            current_speed_kn: m.current_speed_kn,
            current_direction_deg: m.current_direction_deg,
            wave_height_m: m.wave_height_m,
            wave_period_s: m.wave_period_s,
            wave_direction_deg: m.wave_direction_deg,
            swell_height_m: m.swell_height_m,
            swell_period_s: m.swell_period_s,
            swell_direction_deg: m.swell_direction_deg,
            sea_state: m.sea_state,
            water_temperature_c: m.water_temperature_c,
            precipitation_type: m.precipitation_type,
            salinity_permille: m.salinity_permille,
            ice: m.ice,
            details: m.details.as_ref(),
            source,
        }
    }
}

/// A base station, UTC response or aid-to-navigation report (one document
/// per report: the history; Postgres keeps the latest per station).
#[derive(Serialize)]
struct StationDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    mmsi: Mmsi,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<GeoPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aid_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    virtual_aid: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    off_position: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epfd: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_bow: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_stern: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_starboard: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    station_time: Option<DateTime<Utc>>,
    source: SourceDoc<'a>,
}

impl<'a> StationDoc<'a> {
    fn new(s: &'a StationReport, source: SourceDoc<'a>) -> Self {
        StationDoc {
            timestamp: s.timestamp,
            mmsi: Mmsi(s.mmsi),
            kind: s.kind.as_str(),
            location: s.lat.zip(s.lon).map(|(lat, lon)| GeoPoint { lat, lon }),
            name: s.name.as_deref(),
            aid_type: s.aid_type,
            virtual_aid: s.virtual_aid,
            off_position: s.off_position,
            epfd: s.epfd,
            to_bow: s.to_bow,
            to_stern: s.to_stern,
            to_port: s.to_port,
            to_starboard: s.to_starboard,
            station_time: s.station_time,
            source,
        }
    }
}

/// A derived row under its event time as `@timestamp` (every family has
/// one, as data streams require); the row's own `at` is left out and its
/// `mmsi` becomes a keyword string.
#[derive(Serialize)]
struct Timestamped<'a, T: Serialize> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    #[serde(flatten, serialize_with = "without_at")]
    doc: &'a T,
}

/// Serialises a row's fields except `at` (it is the `@timestamp`).
fn without_at<T: Serialize, S: serde::Serializer>(doc: &&T, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error, SerializeMap};
    let value = serde_json::to_value(doc).map_err(S::Error::custom)?;
    let serde_json::Value::Object(map) = value else {
        return Err(S::Error::custom("derived row is not an object"));
    };
    let mut m = s.serialize_map(Some(map.len()))?;
    for (k, v) in map.iter().filter(|(k, _)| k.as_str() != "at") {
        if k == "mmsi" {
            m.serialize_entry(k, &v.to_string())?;
        } else {
            m.serialize_entry(k, v)?;
        }
    }
    m.end()
}

#[derive(Serialize)]
struct PortCallDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    phase: &'static str,
    phase_rank: i16,
    #[serde(flatten, serialize_with = "without_at")]
    call: &'a porttrack_processors::PortCall,
}

#[derive(Serialize)]
struct CongestionDoc<'a> {
    #[serde(rename = "@timestamp", serialize_with = "porttrack_schemas::time::serialize")]
    timestamp: DateTime<Utc>,
    zone: &'a str,
    zone_kind: &'static str,
    partition: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    berth_length_m: Option<u32>,
    vessels_present: u64,
    queue_length: u64,
    waiting_now_s: &'a [i64],
    waits_completed_s: &'a [i64],
    rate_window_s: u32,
    entries: u64,
    exits: u64,
    moored_vessels: u64,
    moored_length_m: u64,
    moored_without_length: u64,
    hazardous_vessels: u64,
    teu_loaded: u64,
    teu_discharged: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    weather: Option<&'a porttrack_processors::ZoneWeather>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oldest_gust_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oldest_gust_kn: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    newest_gust_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    newest_gust_kn: Option<f32>,
}
