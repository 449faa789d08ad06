//! [`MemoryStore`]: the API over the demo's in-process state, and
//! [`MemorySink`], the [`Sink`] that fills it.
//!
//! The embedded demo has no Postgres. Rather than reading one pipeline's
//! processor (which the real deployment never does: each instance owns only
//! some partitions), the demo adds a `MemorySink` beside its file sink: it
//! receives exactly the events and derived rows a Postgres sink would, and
//! keeps the same tables in memory with the same rules (latest state guarded
//! by event time, port calls only moving forward, the latest partial per
//! (zone, partition)). Histories are bounded so a long demo does not grow
//! without limit.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use parking_lot::RwLock;
use porttrack_processors::ZonePartial;
use porttrack_schemas::{Event, Sourced};
use porttrack_sinks::{Derived, Sink, SinkError, WriteOutcome};

use super::{AlertQuery, CallQuery, Store, StoreFuture, VesselRow, VesselScan};
use crate::model::{
    AnomalyItem, CargoItem, PortCall, SafetyMessageItem, ServiceItem, TrackPoint, WeatherAlertItem,
};

/// Positions kept per vessel (the track endpoint reads at most 48 h).
const TRACK_POINTS: usize = 2_000;
/// Rows kept in each event history (anomalies, alerts, cargo, services).
const HISTORY: usize = 20_000;

#[derive(Debug, Default)]
struct Tables {
    vessels: BTreeMap<u32, VesselRow>,
    /// Static reports of vessels with no position yet.
    statics: HashMap<u32, porttrack_schemas::VesselStatic>,
    tracks: HashMap<u32, VecDeque<TrackPoint>>,
    /// Calls by id, with their progress (last event time, phase rank).
    calls: HashMap<String, (PortCall, (DateTime<Utc>, i16))>,
    cargo: VecDeque<CargoItem>,
    services: VecDeque<ServiceItem>,
    anomalies: VecDeque<AnomalyItem>,
    anomaly_keys: HashSet<(u32, DateTime<Utc>, String)>,
    weather_alerts: VecDeque<WeatherAlertItem>,
    /// Safety messages in arrival order, and their ids: a replayed record
    /// (same Kafka coordinates) adds nothing, as in Postgres.
    safety: VecDeque<SafetyMessageItem>,
    safety_ids: HashSet<String>,
    partials: HashMap<(String, i32), ZonePartial>,
}

/// The demo's tables, in memory. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    tables: Arc<RwLock<Tables>>,
}

/// Feeds a [`MemoryStore`] from the pipeline, as a sink.
#[derive(Debug, Clone)]
pub struct MemorySink {
    store: MemoryStore,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// The sink that writes into this store.
    pub fn sink(&self) -> MemorySink {
        MemorySink { store: self.clone() }
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, item: T, cap: usize) {
    if q.len() >= cap {
        q.pop_front();
    }
    q.push_back(item);
}

fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn dim(a: Option<u16>, b: Option<u16>) -> Option<u32> {
    match (a, b) {
        (Some(x), Some(y)) if u32::from(x) + u32::from(y) > 0 => Some(u32::from(x) + u32::from(y)),
        _ => None,
    }
}

/// Newer reports fill fields and never blank them (as `merge_vessels.sql`).
fn fill_static(row: &mut VesselRow, s: &porttrack_schemas::VesselStatic, now: DateTime<Utc>) {
    row.name = s.shipname.clone().or(row.name.take());
    row.callsign = s.callsign.clone().or(row.callsign.take());
    row.imo = s.imo.or(row.imo);
    row.ship_type = s.shiptype.or(row.ship_type);
    row.length_m = dim(s.to_bow, s.to_stern).or(row.length_m);
    row.beam_m = dim(s.to_port, s.to_starboard).or(row.beam_m);
    row.draught_m = s.draught.or(row.draught_m);
    row.destination = s.destination.clone().or(row.destination.take());
    row.eta = s.eta.or(row.eta);
    row.updated_at = now;
}

impl Tables {
    fn apply(&mut self, event: &Event, now: DateTime<Utc>) {
        match event {
            Event::Position(p) => {
                let call = self.open_call(p.mmsi);
                let pending = self.statics.remove(&p.mmsi);
                let row = self.vessels.entry(p.mmsi).or_insert_with(|| VesselRow {
                    mmsi: p.mmsi,
                    event_time: p.timestamp,
                    lat: p.lat,
                    lon: p.lon,
                    sog: None,
                    cog: None,
                    heading: None,
                    nav_status: None,
                    updated_at: now,
                    name: None,
                    callsign: None,
                    imo: None,
                    ship_type: None,
                    length_m: None,
                    beam_m: None,
                    draught_m: None,
                    destination: None,
                    eta: None,
                    call: None,
                });
                if let Some(s) = pending {
                    fill_static(row, &s, now);
                }
                // The Postgres upsert's guard: only a newer (or equal) event time replaces.
                if p.timestamp >= row.event_time {
                    row.event_time = p.timestamp;
                    row.lat = p.lat;
                    row.lon = p.lon;
                    row.sog = p.sog;
                    row.cog = p.cog;
                    row.heading = p.heading;
                    row.nav_status = p.nav_status;
                    row.updated_at = now;
                    row.call = call;
                }
                let track = self.tracks.entry(p.mmsi).or_default();
                push_bounded(
                    track,
                    TrackPoint { t: p.timestamp, lat: p.lat, lon: p.lon, sog_kn: p.sog, cog_deg: p.cog },
                    TRACK_POINTS,
                );
            }
            Event::Static(s) => match self.vessels.get_mut(&s.mmsi) {
                Some(row) => fill_static(row, s, now),
                None => {
                    if self.statics.len() < HISTORY {
                        self.statics.insert(s.mmsi, (**s).clone());
                    }
                }
            },
            Event::Cargo(c) => push_bounded(
                &mut self.cargo,
                CargoItem {
                    event_id: c.event_id.clone(),
                    event_time: c.timestamp,
                    mmsi: c.mmsi,
                    voyage: c.voyage.clone(),
                    berth: c.berth.clone(),
                    operation: name_of(&c.operation),
                    containers: i64::from(c.containers),
                    teu: i64::from(c.teu),
                    imdg_class: c.imdg_class.clone(),
                },
                HISTORY,
            ),
            Event::PortOps(o) => push_bounded(
                &mut self.services,
                ServiceItem {
                    event_id: o.event_id.clone(),
                    event_time: o.timestamp,
                    mmsi: o.mmsi,
                    kind: name_of(&o.kind),
                    resource: o.resource.clone(),
                    shift: o.shift.clone(),
                    berth: o.berth.clone(),
                },
                HISTORY,
            ),
            _ => {}
        }
    }

    /// A safety message, located like `safety_messages_located` does it:
    /// the sender's latest position if it is at most an hour older than the
    /// message (the demo keeps no stations, so that is the only way).
    fn apply_safety(&mut self, origin: &porttrack_schemas::Origin, m: &porttrack_schemas::SafetyMessage) {
        let id = origin.document_id();
        if self.safety_ids.contains(&id) {
            return;
        }
        let sender = self.vessels.get(&m.mmsi);
        let fix = self.tracks.get(&m.mmsi).and_then(|t| {
            t.iter()
                .filter(|p| p.t <= m.timestamp && p.t > m.timestamp - chrono::Duration::hours(1))
                .max_by_key(|p| p.t)
        });
        let item = SafetyMessageItem {
            id: id.clone(),
            event_time: m.timestamp,
            mmsi: m.mmsi,
            name: sender.and_then(|v| v.name.clone()),
            addressed: m.addressed,
            dest_mmsi: m.dest_mmsi,
            sequence: m.sequence,
            retransmit: m.retransmit,
            text: m.text.clone(),
            lat: fix.map(|p| p.lat),
            lon: fix.map(|p| p.lon),
            located_by: fix.map(|_| "vessel_position".to_owned()),
        };
        if self.safety.len() >= HISTORY
            && let Some(old) = self.safety.pop_front()
        {
            self.safety_ids.remove(&old.id);
        }
        self.safety_ids.insert(id);
        self.safety.push_back(item);
    }

    fn open_call(&self, mmsi: u32) -> Option<(String, String)> {
        self.calls
            .values()
            .filter(|(c, _)| c.mmsi == mmsi && c.departed_at.is_none())
            .max_by_key(|(c, _)| c.arrived_at)
            .map(|(c, _)| (c.id.clone(), c.phase.clone()))
    }

    fn apply_derived(&mut self, derived: &Derived, now: DateTime<Utc>) {
        for row in &derived.port_calls {
            let call = &row.call;
            let id = call.id();
            let name = self.vessels.get(&call.mmsi).and_then(|v| v.name.clone());
            let item = PortCall {
                id: id.to_string(),
                mmsi: call.mmsi,
                name,
                phase: row.phase.to_owned(),
                arrived_at: call.arrived_at,
                anchored_at: call.anchored_at,
                waiting_time_s: call.waiting_time_s,
                berth: call.berth.as_deref().map(str::to_owned),
                berthed_at: call.berthed_at,
                unberthed_at: call.unberthed_at,
                service_time_s: call.service_time_s,
                departed_at: call.departed_at,
                teu_loaded: i64::try_from(call.teu_loaded).unwrap_or(i64::MAX),
                teu_discharged: i64::try_from(call.teu_discharged).unwrap_or(i64::MAX),
                services: serde_json::to_value(&call.services).unwrap_or_default(),
                last_event_time: row.last_event_at,
            };
            let progress = row.progress();
            // Forward only, as merge_port_calls.sql.
            let newer = self.calls.get(&*id).is_none_or(|(_, p)| progress >= *p);
            if newer {
                self.calls.insert(item.id.clone(), (item, progress));
                let open = self.open_call(call.mmsi);
                if let Some(v) = self.vessels.get_mut(&call.mmsi)
                    && v.call != open
                {
                    v.call = open;
                    v.updated_at = now;
                }
            }
        }
        for a in &derived.anomalies {
            let key = (a.mmsi, a.at, a.kind());
            if self.anomaly_keys.insert(key) {
                let name = self.vessels.get(&a.mmsi).and_then(|v| v.name.clone());
                if self.anomalies.len() >= HISTORY
                    && let Some(old) = self.anomalies.pop_front()
                {
                    self.anomaly_keys.remove(&(old.mmsi, old.event_time, old.kind.clone()));
                }
                self.anomalies.push_back(AnomalyItem {
                    mmsi: a.mmsi,
                    name,
                    event_time: a.at,
                    kind: a.kind(),
                    zone: a.zone.clone(),
                    details: a.details_json(),
                });
            }
        }
        for w in &derived.weather_alerts {
            push_bounded(
                &mut self.weather_alerts,
                WeatherAlertItem {
                    zone: w.zone.clone(),
                    station: w.station.clone(),
                    event_time: w.at,
                    kind: w.kind.to_owned(),
                    value: w.value,
                    limit: w.limit,
                    raised: w.raised,
                },
                HISTORY,
            );
        }
        for p in &derived.congestion {
            let key = (p.zone.clone(), p.partition);
            if self.partials.get(&key).is_none_or(|old| p.at >= old.at) {
                self.partials.insert(key, p.clone());
            }
        }
    }
}

impl Sink for MemorySink {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn write<'a>(&'a self, records: &'a [Sourced<Event>]) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        async move {
            let now = Utc::now();
            let mut tables = self.store.tables.write();
            for r in records {
                if let Event::Safety(m) = &r.event {
                    tables.apply_safety(&r.origin, m);
                }
                tables.apply(&r.event, now);
            }
            Ok(WriteOutcome::default())
        }
        .boxed()
    }

    fn write_derived<'a>(&'a self, batch: &'a Derived) -> BoxFuture<'a, Result<(), SinkError>> {
        async move {
            self.store.tables.write().apply_derived(batch, Utc::now());
            Ok(())
        }
        .boxed()
    }

    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
        async { Ok(()) }.boxed()
    }
}

fn newest_first<T: Clone>(
    items: impl Iterator<Item = T>,
    time: impl Fn(&T) -> DateTime<Utc>,
    keep: impl Fn(&T) -> bool,
    limit: usize,
) -> Vec<T> {
    let mut out: Vec<T> = items.filter(|i| keep(i)).collect();
    out.sort_by_key(|i| std::cmp::Reverse(time(i)));
    out.truncate(limit);
    out
}

impl Store for MemoryStore {
    fn now(&self) -> StoreFuture<'_, DateTime<Utc>> {
        async { Ok(Utc::now()) }.boxed()
    }

    fn vessels(&self, scan: VesselScan) -> StoreFuture<'_, Vec<VesselRow>> {
        let tables = self.tables.read();
        let [x0, y0, x1, y1] = scan.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
        let rows = tables
            .vessels
            .values()
            .filter(|v| {
                v.event_time >= scan.since && (x0..=x1).contains(&v.lon) && (y0..=y1).contains(&v.lat)
            })
            .cloned()
            .collect();
        async move { Ok(rows) }.boxed()
    }

    fn vessels_page(
        &self,
        scan: VesselScan,
        after: Option<u32>,
        limit: usize,
    ) -> StoreFuture<'_, (u64, Vec<VesselRow>)> {
        let tables = self.tables.read();
        let [x0, y0, x1, y1] = scan.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
        let matching = tables.vessels.values().filter(|v| {
            v.event_time >= scan.since && (x0..=x1).contains(&v.lon) && (y0..=y1).contains(&v.lat)
        });
        let (mut total, mut page) = (0_u64, Vec::new());
        for v in matching {
            total += 1;
            if after.is_none_or(|a| v.mmsi > a) && page.len() < limit {
                page.push(v.clone());
            }
        }
        async move { Ok((total, page)) }.boxed()
    }

    fn vessel(&self, mmsi: u32) -> StoreFuture<'_, Option<VesselRow>> {
        let row = self.tables.read().vessels.get(&mmsi).cloned();
        async move { Ok(row) }.boxed()
    }

    fn vessels_updated(&self, after: DateTime<Utc>) -> StoreFuture<'_, Vec<VesselRow>> {
        let mut rows: Vec<VesselRow> =
            self.tables.read().vessels.values().filter(|v| v.updated_at > after).cloned().collect();
        rows.sort_by_key(|v| v.updated_at);
        async move { Ok(rows) }.boxed()
    }

    fn track(
        &self,
        mmsi: u32,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<TrackPoint>> {
        let tables = self.tables.read();
        let mut points: Vec<TrackPoint> = tables
            .tracks
            .get(&mmsi)
            .map(|t| t.iter().filter(|p| p.t >= from && p.t <= to).cloned().collect())
            .unwrap_or_default();
        points.sort_by_key(|p| p.t);
        let skip = points.len().saturating_sub(limit);
        let points = points.split_off(skip);
        async move { Ok(points) }.boxed()
    }

    fn calls_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<PortCall>> {
        let tables = self.tables.read();
        let calls = newest_first(
            tables.calls.values().map(|(c, _)| c.clone()),
            |c| c.arrived_at,
            |c| c.mmsi == mmsi,
            limit,
        );
        async move { Ok(calls) }.boxed()
    }

    fn cargo_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<CargoItem>> {
        let tables = self.tables.read();
        let items = newest_first(tables.cargo.iter().cloned(), |c| c.event_time, |c| c.mmsi == mmsi, limit);
        async move { Ok(items) }.boxed()
    }

    fn services_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<ServiceItem>> {
        let tables = self.tables.read();
        let items =
            newest_first(tables.services.iter().cloned(), |c| c.event_time, |c| c.mmsi == mmsi, limit);
        async move { Ok(items) }.boxed()
    }

    fn port_calls(&self, q: CallQuery) -> StoreFuture<'_, Vec<PortCall>> {
        let tables = self.tables.read();
        let calls = newest_first(
            tables.calls.values().map(|(c, _)| c.clone()),
            |c| c.arrived_at,
            |c| {
                c.arrived_at >= q.from
                    && c.arrived_at < q.to
                    && q.phase.as_ref().is_none_or(|p| &c.phase == p)
                    && q.berth.as_ref().is_none_or(|b| c.berth.as_ref() == Some(b))
                    && q.mmsi.is_none_or(|m| c.mmsi == m)
            },
            q.limit,
        );
        async move { Ok(calls) }.boxed()
    }

    fn open_calls(&self, limit: usize) -> StoreFuture<'_, Vec<PortCall>> {
        let tables = self.tables.read();
        let calls = newest_first(
            tables.calls.values().map(|(c, _)| c.clone()),
            |c| c.arrived_at,
            |c| c.departed_at.is_none(),
            limit,
        );
        async move { Ok(calls) }.boxed()
    }

    fn departed_since(&self, since: DateTime<Utc>, limit: usize) -> StoreFuture<'_, Vec<PortCall>> {
        let tables = self.tables.read();
        let mut calls: Vec<PortCall> = tables
            .calls
            .values()
            .filter(|(c, _)| c.departed_at.is_some_and(|d| d >= since))
            .map(|(c, _)| c.clone())
            .collect();
        calls.sort_by_key(|c| std::cmp::Reverse(c.departed_at));
        calls.truncate(limit);
        async move { Ok(calls) }.boxed()
    }

    fn partials(&self, window: Duration) -> StoreFuture<'_, Vec<ZonePartial>> {
        let tables = self.tables.read();
        let newest = tables.partials.values().map(|p| p.at).max();
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        let partials = match newest {
            Some(newest) => tables.partials.values().filter(|p| p.at >= newest - window).cloned().collect(),
            None => Vec::new(),
        };
        async move { Ok(partials) }.boxed()
    }

    fn anomalies(&self, q: AlertQuery) -> StoreFuture<'_, Vec<AnomalyItem>> {
        let tables = self.tables.read();
        let items = newest_first(
            tables.anomalies.iter().cloned(),
            |a| a.event_time,
            |a| a.event_time >= q.from && a.event_time < q.to && q.kind.as_ref().is_none_or(|k| &a.kind == k),
            q.limit,
        );
        async move { Ok(items) }.boxed()
    }

    fn weather_alerts(&self, q: AlertQuery) -> StoreFuture<'_, Vec<WeatherAlertItem>> {
        let tables = self.tables.read();
        let items = newest_first(
            tables.weather_alerts.iter().cloned(),
            |a| a.event_time,
            |a| a.event_time >= q.from && a.event_time < q.to && q.kind.as_ref().is_none_or(|k| &a.kind == k),
            q.limit,
        );
        async move { Ok(items) }.boxed()
    }

    fn latest_weather_alerts(&self, since: DateTime<Utc>) -> StoreFuture<'_, Vec<WeatherAlertItem>> {
        let tables = self.tables.read();
        let mut latest: BTreeMap<(String, String), WeatherAlertItem> = BTreeMap::new();
        for a in tables.weather_alerts.iter().filter(|a| a.event_time >= since) {
            let key = (a.zone.clone(), a.kind.clone());
            if latest.get(&key).is_none_or(|cur| a.event_time >= cur.event_time) {
                latest.insert(key, a.clone());
            }
        }
        let items = latest.into_values().collect();
        async move { Ok(items) }.boxed()
    }

    fn safety_messages(&self, q: AlertQuery) -> StoreFuture<'_, Vec<SafetyMessageItem>> {
        let tables = self.tables.read();
        let items = newest_first(
            tables.safety.iter().cloned(),
            |m| m.event_time,
            |m| m.event_time >= q.from && m.event_time < q.to,
            q.limit,
        );
        async move { Ok(items) }.boxed()
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        async { Ok(()) }.boxed()
    }
}
