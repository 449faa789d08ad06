//! What the API answers: the JSON bodies of every endpoint, with their
//! OpenAPI schemas (`utoipa::ToSchema`).
//!
//! These types are the contract with the map (`web/`) and with other
//! dashboards (`docs/api.md`). Field names are snake_case, times RFC 3339
//! UTC, durations integer seconds with an `_s` suffix, and an unknown value
//! is `null`, never an omitted key (no `skip_serializing_if` here).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A GeoJSON point: `[lon, lat]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Point {
    /// Always `Point`.
    #[serde(rename = "type")]
    #[schema(example = "Point")]
    pub kind: String,
    /// `[longitude, latitude]`, WGS 84 degrees.
    pub coordinates: [f64; 2],
}

impl Point {
    /// The point at (`lat`, `lon`).
    pub fn new(lat: f64, lon: f64) -> Point {
        Point { kind: "Point".into(), coordinates: [lon, lat] }
    }
}

/// The open port call a vessel is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallRef {
    /// The call's id (`{mmsi}-{arrival}`).
    pub id: String,
    /// Its lifecycle phase: `arrived`, `anchored`, `wait_ended`, `berthed`, `unberthed`, `departed`.
    pub phase: String,
}

/// A vessel's latest state, static data, movement, zone and port call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VesselProps {
    /// Maritime Mobile Service Identity.
    pub mmsi: u32,
    /// Ship name (from static reports).
    pub name: Option<String>,
    /// Radio call sign.
    pub callsign: Option<String>,
    /// IMO number.
    pub imo: Option<u32>,
    /// AIS ship type code, 0–99.
    pub ship_type: Option<u8>,
    /// `cargo`, `tanker`, `passenger`, `fishing`, `tug`, `pilot`, `sar`, `pleasure`, `hsc`, `other` or `unknown`.
    pub type_group: String,
    /// Length overall, metres (bow + stern distances).
    pub length_m: Option<u32>,
    /// Beam, metres (port + starboard distances).
    pub beam_m: Option<u32>,
    /// Draught, metres.
    pub draught_m: Option<f32>,
    /// Reported destination.
    pub destination: Option<String>,
    /// Reported ETA.
    pub eta: Option<DateTime<Utc>>,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Speed over ground, knots.
    pub sog_kn: Option<f32>,
    /// Course over ground, degrees.
    pub cog_deg: Option<f32>,
    /// True heading, degrees.
    pub heading_deg: Option<u16>,
    /// AIS navigational status code.
    pub nav_status: Option<u8>,
    /// `under_way`, `anchored`, `moored`, `stopped` or `unknown`.
    pub movement: String,
    /// Event time of the latest position.
    pub event_time: DateTime<Utc>,
    /// The smallest zone the vessel is in (berth before anchorage before basin …), or null.
    pub zone: Option<String>,
    /// That zone's kind.
    pub zone_kind: Option<String>,
    /// The open port call, if any.
    pub port_call: Option<CallRef>,
}

/// A vessel as a GeoJSON feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VesselFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(example = "Feature")]
    pub kind: String,
    /// The MMSI.
    pub id: u32,
    /// Where it is.
    pub geometry: Point,
    /// What it is.
    pub properties: VesselProps,
}

impl VesselFeature {
    /// The feature of `props`.
    pub fn new(props: VesselProps) -> VesselFeature {
        VesselFeature {
            kind: "Feature".into(),
            id: props.mmsi,
            geometry: Point::new(props.lat, props.lon),
            properties: props,
        }
    }
}

/// `GET /api/v1/vessels`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VesselCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(example = "FeatureCollection")]
    pub kind: String,
    /// This page, ordered by MMSI.
    pub features: Vec<VesselFeature>,
    /// Vessels matching the filters, on all pages.
    pub total: u64,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// When the answer was computed.
    pub generated_at: DateTime<Utc>,
}

/// One point of a vessel's track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrackPoint {
    /// Event time.
    pub t: DateTime<Utc>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Speed over ground, knots.
    pub sog_kn: Option<f32>,
    /// Course over ground, degrees.
    pub cog_deg: Option<f32>,
}

/// One port call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PortCall {
    /// `{mmsi}-{arrival as YYYYMMDDTHHMMSSZ}`.
    pub id: String,
    /// The vessel.
    pub mmsi: u32,
    /// Its name, if known.
    pub name: Option<String>,
    /// Lifecycle phase.
    pub phase: String,
    /// First fix inside the port limits.
    pub arrived_at: DateTime<Utc>,
    /// When it first anchored.
    pub anchored_at: Option<DateTime<Utc>>,
    /// Completed time at anchor, seconds.
    pub waiting_time_s: i64,
    /// The berth it (last) moored at.
    pub berth: Option<String>,
    /// When it first moored.
    pub berthed_at: Option<DateTime<Utc>>,
    /// When it last left a berth.
    pub unberthed_at: Option<DateTime<Utc>>,
    /// Completed time alongside, seconds.
    pub service_time_s: i64,
    /// When it left the port limits.
    pub departed_at: Option<DateTime<Utc>>,
    /// TEU loaded.
    pub teu_loaded: i64,
    /// TEU discharged.
    pub teu_discharged: i64,
    /// Pilots, tugs and mooring crews: `[{event_id, at, kind, resource, berth}]`.
    #[schema(value_type = Vec<Object>)]
    pub services: serde_json::Value,
    /// The newest event time recorded on the call.
    pub last_event_time: DateTime<Utc>,
}

/// One cargo operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CargoItem {
    /// The terminal's event id.
    pub event_id: String,
    /// When.
    pub event_time: DateTime<Utc>,
    /// The vessel.
    pub mmsi: u32,
    /// Voyage reference.
    pub voyage: Option<String>,
    /// Berth.
    pub berth: String,
    /// `load` or `discharge`.
    pub operation: String,
    /// Containers moved.
    pub containers: i64,
    /// TEU moved.
    pub teu: i64,
    /// IMDG class of dangerous goods, if any.
    pub imdg_class: Option<String>,
}

/// One port service (pilotage, towage, mooring).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceItem {
    /// The operator's event id.
    pub event_id: String,
    /// When.
    pub event_time: DateTime<Utc>,
    /// The vessel.
    pub mmsi: u32,
    /// What (`pilot_boarded`, `tug_made_fast`, …).
    pub kind: String,
    /// Who: pilot id, tug name, crew id.
    pub resource: String,
    /// Shift, if given.
    pub shift: Option<String>,
    /// Berth, if given.
    pub berth: Option<String>,
}

/// `GET /api/v1/vessels/{mmsi}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VesselDetail {
    /// Latest state.
    pub vessel: VesselProps,
    /// Recent track, oldest first.
    pub track: Vec<TrackPoint>,
    /// Recent port calls, newest first.
    pub port_calls: Vec<PortCall>,
    /// Recent cargo operations, newest first.
    pub cargo: Vec<CargoItem>,
    /// Recent services, newest first.
    pub services: Vec<ServiceItem>,
}

/// A zone's live congestion, merged over all partitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ZoneCongestion {
    /// `free`, `moderate`, `heavy` or `severe` (porttrack_processors thresholds).
    pub level: String,
    /// Vessels inside.
    pub vessels_present: u64,
    /// Vessels anchored inside.
    pub queue_length: u64,
    /// Vessels waiting at anchor now.
    pub waiting_now_count: u64,
    /// Median current wait, seconds (nearest rank; 0 when nobody waits).
    pub waiting_p50_s: i64,
    /// 90th percentile of current waits, seconds.
    pub waiting_p90_s: i64,
    /// Berths: moored length over quay length (may exceed 1 when rafted); null elsewhere.
    pub berth_occupancy: Option<f64>,
    /// Vessels moored inside.
    pub moored_vessels: u64,
    /// Entries per hour.
    pub arrivals_per_hour: f64,
    /// Exits per hour.
    pub departures_per_hour: f64,
    /// Time of the newest partial merged.
    pub snapshot_time: DateTime<Utc>,
}

/// A zone's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ZoneProps {
    /// Name (unique).
    pub name: String,
    /// `port_limits`, `anchorage`, `approach_channel`, `basin`, `berth` or `restricted`.
    pub kind: String,
    /// Quay length of a berth, metres.
    pub length_m: Option<u32>,
    /// Speed limit, knots.
    pub speed_limit_kn: Option<f32>,
    /// Live congestion; null when no partial has been stored for the zone.
    pub congestion: Option<ZoneCongestion>,
}

/// A zone as a GeoJSON feature (geometry as in the port's GeoJSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ZoneFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The zone's name.
    pub id: String,
    /// A GeoJSON `Polygon` or `MultiPolygon`.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    /// Name, kind, limits and congestion.
    pub properties: ZoneProps,
}

/// `GET /api/v1/zones`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ZoneCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// One feature per zone.
    pub features: Vec<ZoneFeature>,
    /// When the answer was computed.
    pub generated_at: DateTime<Utc>,
}

/// `GET /api/v1/port-calls`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PortCallList {
    /// Newest arrival first.
    pub items: Vec<PortCall>,
}

/// One anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnomalyItem {
    /// The vessel.
    pub mmsi: u32,
    /// Its name, if known.
    pub name: Option<String>,
    /// When it was established.
    pub event_time: DateTime<Utc>,
    /// `dark_period`, `speeding`, `stopped_in_channel`, `dangerous_goods_in_restricted_zone`, …
    pub kind: String,
    /// The zone concerned.
    pub zone: Option<String>,
    /// Kind-specific details.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// `GET /api/v1/anomalies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnomalyList {
    /// Newest first.
    pub items: Vec<AnomalyItem>,
}

/// One weather alert (raised or cleared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WeatherAlertItem {
    /// The zone.
    pub zone: String,
    /// The station that observed it.
    pub station: String,
    /// When.
    pub event_time: DateTime<Utc>,
    /// `gust` or `visibility`.
    pub kind: String,
    /// The observed value.
    pub value: f32,
    /// The limit crossed.
    pub limit: f32,
    /// True when raised, false when cleared.
    pub raised: bool,
}

/// `GET /api/v1/weather-alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WeatherAlertList {
    /// Newest first.
    pub items: Vec<WeatherAlertItem>,
}

/// One AIS safety-related message (type 12 addressed, type 14 broadcast),
/// with where its sender was when it is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SafetyMessageItem {
    /// `{topic}-{partition}-{offset}[-{index}]`: the record's Kafka
    /// coordinates, the message's only identity (a repeated warning is a new message).
    pub id: String,
    /// When it was received.
    pub event_time: DateTime<Utc>,
    /// The sender (a coast station's MMSI is below 10^8).
    pub mmsi: u32,
    /// The sender's name: the vessel's, else the station's, if known.
    pub name: Option<String>,
    /// True for type 12 (addressed to `dest_mmsi`), false for a type 14 broadcast.
    pub addressed: bool,
    /// Type 12: the addressee.
    pub dest_mmsi: Option<u32>,
    /// Type 12: sequence number 0..=3.
    pub sequence: Option<u8>,
    /// Type 12: retransmitted flag.
    pub retransmit: Option<bool>,
    /// The text.
    pub text: String,
    /// Where the sender was, or null.
    pub lat: Option<f64>,
    /// Where the sender was, or null.
    pub lon: Option<f64>,
    /// `vessel_position` (its last fix within the hour before), `station`, or null when not located.
    pub located_by: Option<String>,
}

/// `GET /api/v1/safety-messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SafetyMessageList {
    /// Newest first.
    pub items: Vec<SafetyMessageItem>,
}

/// A vessel waiting at anchor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueEntry {
    /// The vessel.
    pub mmsi: u32,
    /// Its name.
    pub name: Option<String>,
    /// The anchorage it is in now.
    pub zone: Option<String>,
    /// When it anchored.
    pub anchored_at: DateTime<Utc>,
    /// How long it has waited so far, seconds.
    pub waiting_s: i64,
}

/// A vessel moored at a berth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MooredVessel {
    /// The vessel.
    pub mmsi: u32,
    /// Its name.
    pub name: Option<String>,
}

/// A berth and what is alongside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BerthStatus {
    /// The berth.
    pub name: String,
    /// Quay length, metres.
    pub length_m: Option<u32>,
    /// Moored length over quay length (from congestion), or null.
    pub occupancy: Option<f64>,
    /// Vessels moored there now.
    pub moored: Vec<MooredVessel>,
}

/// Vessel counts by movement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    /// Vessels reporting within the last 24 h.
    pub vessels: u64,
    /// Of which under way.
    pub under_way: u64,
    /// Anchored.
    pub anchored: u64,
    /// Moored.
    pub moored: u64,
}

/// `GET /api/v1/overview`: what the map's side panels show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Overview {
    /// When the answer was computed.
    pub generated_at: DateTime<Utc>,
    /// Vessels at anchor on an open call, longest wait first.
    pub anchorage_queue: Vec<QueueEntry>,
    /// Calls that arrived since midnight UTC.
    pub arrivals_today: Vec<PortCall>,
    /// Calls that departed since midnight UTC.
    pub departures_today: Vec<PortCall>,
    /// Every berth of the geography.
    pub berths: Vec<BerthStatus>,
    /// Active weather alerts.
    pub weather_alerts: Vec<WeatherAlertItem>,
    /// Anomalies of the last 24 h, newest first, at most 50.
    pub anomalies: Vec<AnomalyItem>,
    /// Safety messages of the last 24 h, newest first, at most 20.
    pub safety_messages: Vec<SafetyMessageItem>,
    /// Vessel counts.
    pub counts: Counts,
}

/// `GET /api/v1/geography`: what the map draws without a tile server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GeographyLayers {
    /// The port's zones (GeoJSON FeatureCollection; properties `name`, `kind`).
    #[schema(value_type = Object)]
    pub zones: serde_json::Value,
    /// The coastline layer (GeoJSON FeatureCollection; empty when none is configured).
    #[schema(value_type = Object)]
    pub coastline: serde_json::Value,
}

/// `GET /config.json`: the production basemap, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClientConfig {
    /// Raster tile URL template (`…/{z}/{x}/{y}.png`), or null.
    pub tile_url: Option<String>,
    /// MapLibre style URL, or null.
    pub style_url: Option<String>,
}

/// Stream event `congestion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CongestionChange {
    /// The zone.
    pub zone: String,
    /// Its congestion now.
    pub congestion: ZoneCongestion,
}

/// Stream event `alert`: `kind` is `anomaly` (item: [`AnomalyItem`]), `weather`
/// (item: [`WeatherAlertItem`]) or `safety` (item: [`SafetyMessageItem`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertEvent {
    /// `anomaly`, `weather` or `safety`.
    pub kind: String,
    /// The item, as in its list.
    #[schema(value_type = Object)]
    pub item: serde_json::Value,
}

/// Stream events `heartbeat` and `reset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamTick {
    /// Server time.
    pub generated_at: DateTime<Utc>,
}

/// An error: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `not_found`, `unavailable`, `timeout` or `internal`.
    pub code: String,
    /// For people.
    pub message: String,
}

/// A vessel type group (filter values of `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum TypeGroup {
    Cargo,
    Tanker,
    Passenger,
    Fishing,
    Tug,
    Pilot,
    Sar,
    Pleasure,
    Hsc,
    Other,
    Unknown,
}

/// A vessel movement (filter values of `movement`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Movement {
    UnderWay,
    Anchored,
    Moored,
    Stopped,
    Unknown,
}

/// A port-call phase (filter values of `phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Phase {
    Arrived,
    Anchored,
    WaitEnded,
    Berthed,
    Unberthed,
    Departed,
}

/// The stable name of a filter value (its serde name).
pub fn name_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// One Server-Sent Event as it appears on `/api/v1/stream`; `data` is the
/// JSON of [`VesselFeature`] (`vessel`), [`CongestionChange`]
/// (`congestion`), [`AlertEvent`] (`alert`) or [`StreamTick`]
/// (`heartbeat`, `reset`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SseEvent {
    /// `vessel`, `congestion`, `alert`, `heartbeat` or `reset`.
    #[schema(pattern = "^(vessel|congestion|alert|heartbeat|reset)$")]
    pub event: String,
    /// `{server}-{sequence}`: pass it back as `Last-Event-ID` to resume.
    #[schema(pattern = "^[0-9]+-[0-9]+$")]
    pub id: String,
    /// The event's JSON.
    pub data: String,
}
