//! Where the API reads from: the [`Store`] trait and its two
//! implementations.
//!
//! * [`postgres::PostgresStore`] (`porttrack serve`): the tables and views the
//!   Postgres sink writes, through a pool whose connections carry a
//!   `statement_timeout`. Every query is bounded (time ranges, limits) and
//!   uses an index, except the `vessel_state` scan, which is one row per
//!   vessel by design.
//! * [`memory::MemoryStore`] (`porttrack demo` without Postgres): the same
//!   rows kept in memory, fed by [`memory::MemorySink`], a
//!   [`Sink`](porttrack_sinks::Sink) the demo adds beside its file sink, so
//!   it sees exactly what a Postgres sink would.
//!
//! A store returns raw rows ([`VesselRow`], …); what the API derives from
//! them (zone, type group, movement, congestion level, paging) is done once,
//! in [`crate::view`], whichever store answered.

pub mod memory;
pub mod postgres;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use porttrack_processors::ZonePartial;

use crate::error::StoreError;
use crate::model::{
    AnomalyItem, CargoItem, PortCall, SafetyMessageItem, ServiceItem, TrackPoint, WeatherAlertItem,
};

/// A vessel's latest position joined with its static data and open call.
#[derive(Debug, Clone, PartialEq)]
pub struct VesselRow {
    /// MMSI.
    pub mmsi: u32,
    /// Event time of the position.
    pub event_time: DateTime<Utc>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Knots.
    pub sog: Option<f32>,
    /// Degrees.
    pub cog: Option<f32>,
    /// Degrees.
    pub heading: Option<u16>,
    /// AIS code.
    pub nav_status: Option<u8>,
    /// When the store last wrote the row (the stream's cursor).
    pub updated_at: DateTime<Utc>,
    /// Static and voyage data.
    pub name: Option<String>,
    /// Call sign.
    pub callsign: Option<String>,
    /// IMO.
    pub imo: Option<u32>,
    /// AIS ship type.
    pub ship_type: Option<u8>,
    /// Metres (bow + stern).
    pub length_m: Option<u32>,
    /// Metres (port + starboard).
    pub beam_m: Option<u32>,
    /// Metres.
    pub draught_m: Option<f32>,
    /// Reported destination.
    pub destination: Option<String>,
    /// Reported ETA.
    pub eta: Option<DateTime<Utc>>,
    /// The open port call: (id, phase).
    pub call: Option<(String, String)>,
}

/// Which vessels a snapshot reads (the cheap, store-side part of the filters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VesselScan {
    /// Only positions at or after this time.
    pub since: DateTime<Utc>,
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
}

/// Port calls by arrival time.
#[derive(Debug, Clone, PartialEq)]
pub struct CallQuery {
    /// Phase name.
    pub phase: Option<String>,
    /// Berth name.
    pub berth: Option<String>,
    /// Vessel.
    pub mmsi: Option<u32>,
    /// Arrived at or after.
    pub from: DateTime<Utc>,
    /// Arrived before.
    pub to: DateTime<Utc>,
    /// At most this many, newest arrival first.
    pub limit: usize,
}

/// Anomalies or weather alerts by event time.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertQuery {
    /// Kind name.
    pub kind: Option<String>,
    /// At or after.
    pub from: DateTime<Utc>,
    /// Before.
    pub to: DateTime<Utc>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// A boxed store answer.
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, StoreError>>;

/// What the API reads. Every method is bounded: by key, by a time range or
/// by a limit.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The store's clock (Postgres' `now()`): stream cursors compare with
    /// times the store wrote, so they use its clock, not the server's.
    fn now(&self) -> StoreFuture<'_, DateTime<Utc>>;
    /// Vessels reporting since `scan.since` inside `scan.bbox`, by MMSI.
    fn vessels(&self, scan: VesselScan) -> StoreFuture<'_, Vec<VesselRow>>;
    /// The number of vessels `scan` matches, and the page of at most
    /// `limit` of them after MMSI `after`, by MMSI (the snapshot when no
    /// filter needs the derived fields).
    fn vessels_page(
        &self,
        scan: VesselScan,
        after: Option<u32>,
        limit: usize,
    ) -> StoreFuture<'_, (u64, Vec<VesselRow>)>;
    /// One vessel.
    fn vessel(&self, mmsi: u32) -> StoreFuture<'_, Option<VesselRow>>;
    /// Vessels whose row was written after `after` (the stream's poll).
    fn vessels_updated(&self, after: DateTime<Utc>) -> StoreFuture<'_, Vec<VesselRow>>;
    /// Positions of `mmsi` in `[from, to]`, oldest first, at most `limit` (the newest kept).
    fn track(
        &self,
        mmsi: u32,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<TrackPoint>>;
    /// Port calls of `mmsi`, newest arrival first.
    fn calls_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<PortCall>>;
    /// Cargo operations of `mmsi`, newest first.
    fn cargo_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<CargoItem>>;
    /// Services of `mmsi`, newest first.
    fn services_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<ServiceItem>>;
    /// Port calls by arrival time.
    fn port_calls(&self, query: CallQuery) -> StoreFuture<'_, Vec<PortCall>>;
    /// Calls not departed, newest arrival first (at most `limit`).
    fn open_calls(&self, limit: usize) -> StoreFuture<'_, Vec<PortCall>>;
    /// Calls that departed at or after `since`, newest first.
    fn departed_since(&self, since: DateTime<Utc>, limit: usize) -> StoreFuture<'_, Vec<PortCall>>;
    /// The latest partial of every (zone, partition) written within
    /// `window` of the newest.
    fn partials(&self, window: std::time::Duration) -> StoreFuture<'_, Vec<ZonePartial>>;
    /// Anomalies by event time, newest first.
    fn anomalies(&self, query: AlertQuery) -> StoreFuture<'_, Vec<AnomalyItem>>;
    /// Weather alerts by event time, newest first.
    fn weather_alerts(&self, query: AlertQuery) -> StoreFuture<'_, Vec<WeatherAlertItem>>;
    /// The latest alert per (zone, kind) since `since`, raised or not.
    fn latest_weather_alerts(&self, since: DateTime<Utc>) -> StoreFuture<'_, Vec<WeatherAlertItem>>;
    /// Safety messages by event time, newest first (`query.kind` is not used).
    fn safety_messages(&self, query: AlertQuery) -> StoreFuture<'_, Vec<SafetyMessageItem>>;
    /// Whether the store answers (`/readyz`).
    fn check(&self) -> StoreFuture<'_, ()>;
}
