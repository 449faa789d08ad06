//! The live stream: one poller per server process feeding a broadcast hub
//! that every `/api/v1/stream` client subscribes to.
//!
//! # Why a poller and not LISTEN/NOTIFY
//!
//! The sinks' schema has no triggers and the API may not add any, so the
//! stream reads the stores: every `serve.poll_interval` (≤ 1 s) one task per
//! process, never one per client, asks for
//!
//! * vessel rows whose `updated_at` is newer than the newest seen minus
//!   `poll_overlap`: `updated_at` is the writing transaction's `now()`, its
//!   *start*, so a transaction that commits late can carry an older stamp
//!   than rows already seen. The overlap re-reads those; a vessel is sent
//!   again only if its `(event_time, lat, lon, call)` changed, so re-reads
//!   are not re-sent;
//! * the latest congestion partials, merged: zones whose values changed
//!   (ignoring the snapshot time alone) are sent;
//! * the newest anomalies, weather alerts and safety messages (bounded by
//!   time and count), deduplicated by their keys (a safety message's is its
//!   id, the record's Kafka coordinates): new ones are sent as `alert`
//!   events of kind `anomaly`, `weather` or `safety`.
//!
//! # Ids, resumption and slow clients
//!
//! Ids are `{boot}-{seq}`: `boot` identifies this process (its start time in
//! ms), `seq` grows by one per event. The hub keeps the last
//! `stream_retention` events in a ring; a client reconnecting with
//! `Last-Event-ID` from this process gets what it missed if it is still in
//! the ring, and otherwise (too old, or an id from another process behind
//! the load balancer) a `reset` event: reload the snapshots. A client whose
//! buffer (`stream_buffer` events) overflows is not waited for: it gets a
//! `reset` and continues from the newest event, so one slow client never
//! holds up the others.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures::Stream;
use parking_lot::Mutex;
use porttrack_processors::CongestionThresholds;
use tokio::sync::broadcast;

use crate::model::{AlertEvent, CongestionChange, StreamTick, VesselFeature, ZoneCongestion};
use crate::store::{AlertQuery, Store};
use crate::view::{Zoning, congestion, vessel_props};

/// One stream event, serialised once for every client.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// Sequence number within this process.
    pub seq: u64,
    /// `vessel`, `congestion` or `alert`.
    pub kind: &'static str,
    /// The JSON data.
    pub data: String,
}

/// The broadcast hub with its resumption ring.
#[derive(Debug)]
pub struct Hub {
    boot: u64,
    tx: broadcast::Sender<Arc<StreamEvent>>,
    ring: Mutex<Ring>,
}

#[derive(Debug)]
struct Ring {
    events: VecDeque<Arc<StreamEvent>>,
    capacity: usize,
    last_seq: u64,
}

/// What a new subscriber starts with.
#[derive(Debug)]
pub enum Resume {
    /// The events after its `Last-Event-ID` (possibly none).
    Missed(Vec<Arc<StreamEvent>>),
    /// Its id is unknown here or too old: reload the snapshots.
    Reset,
}

impl Hub {
    /// A hub keeping `retention` events, with a per-client buffer of `buffer`.
    pub fn new(retention: usize, buffer: usize) -> Hub {
        let boot = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
        let (tx, _) = broadcast::channel(buffer.max(1));
        Hub {
            boot,
            tx,
            ring: Mutex::new(Ring { events: VecDeque::new(), capacity: retention.max(1), last_seq: 0 }),
        }
    }

    /// The id of event `seq` of this process.
    pub fn id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.boot)
    }

    /// Publishes an event to every subscriber and the ring.
    pub fn publish(&self, kind: &'static str, data: String) {
        let mut ring = self.ring.lock();
        ring.last_seq += 1;
        let event = Arc::new(StreamEvent { seq: ring.last_seq, kind, data });
        if ring.events.len() >= ring.capacity {
            ring.events.pop_front();
        }
        ring.events.push_back(Arc::clone(&event));
        // Sent under the lock, so subscribers see events in id order and a
        // subscription taken under the lock misses nothing and repeats nothing.
        let _ = self.tx.send(event);
    }

    /// The newest sequence number.
    pub fn last_seq(&self) -> u64 {
        self.ring.lock().last_seq
    }

    /// Subscribes, resuming after `last_event_id` if given.
    pub fn subscribe(
        &self,
        last_event_id: Option<&str>,
    ) -> (Resume, broadcast::Receiver<Arc<StreamEvent>>, u64) {
        let ring = self.ring.lock();
        let rx = self.tx.subscribe();
        let resume = match last_event_id {
            None => Resume::Missed(Vec::new()),
            Some(id) => match self.parse(id) {
                Some(seq) if seq == ring.last_seq => Resume::Missed(Vec::new()),
                Some(seq) if seq < ring.last_seq => {
                    let oldest = ring.events.front().map_or(ring.last_seq + 1, |e| e.seq);
                    if seq + 1 < oldest {
                        Resume::Reset
                    } else {
                        Resume::Missed(ring.events.iter().filter(|e| e.seq > seq).cloned().collect())
                    }
                }
                _ => Resume::Reset,
            },
        };
        (resume, rx, ring.last_seq)
    }

    /// A fresh receiver after a lag, and the sequence it continues after.
    fn resubscribe(&self) -> (broadcast::Receiver<Arc<StreamEvent>>, u64) {
        let ring = self.ring.lock();
        (self.tx.subscribe(), ring.last_seq)
    }

    fn parse(&self, id: &str) -> Option<u64> {
        let (boot, seq) = id.trim().split_once('-')?;
        (boot.parse::<u64>().ok()? == self.boot).then_some(())?;
        seq.parse().ok()
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        self.tx.receiver_count()
    }
}

fn tick_data() -> String {
    serde_json::to_string(&StreamTick { generated_at: Utc::now() }).unwrap_or_default()
}

struct ClientState {
    hub: Arc<Hub>,
    rx: broadcast::Receiver<Arc<StreamEvent>>,
    pending: VecDeque<Event>,
    heartbeat: tokio::time::Interval,
    last_seq: u64,
}

/// The SSE response for one client.
pub fn sse(
    hub: Arc<Hub>,
    last_event_id: Option<&str>,
    heartbeat: Duration,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    let (resume, rx, last_seq) = hub.subscribe(last_event_id);
    let mut pending = VecDeque::new();
    match resume {
        Resume::Reset => {
            pending.push_back(Event::default().event("reset").id(hub.id(last_seq)).data(tick_data()))
        }
        Resume::Missed(events) => pending
            .extend(events.iter().map(|e| Event::default().event(e.kind).id(hub.id(e.seq)).data(&e.data))),
    }
    let mut interval = tokio::time::interval(heartbeat);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = ClientState { hub, rx, pending, heartbeat: interval, last_seq };
    let stream = futures::stream::unfold(state, |mut s| async move {
        if let Some(event) = s.pending.pop_front() {
            return Some((Ok(event), s));
        }
        tokio::select! {
            received = s.rx.recv() => match received {
                Ok(e) => {
                    s.last_seq = e.seq;
                    let event = Event::default().event(e.kind).id(s.hub.id(e.seq)).data(&e.data);
                    Some((Ok(event), s))
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Too slow: drop its backlog rather than hold anyone up.
                    let (rx, seq) = s.hub.resubscribe();
                    s.rx = rx;
                    s.last_seq = seq;
                    let event = Event::default().event("reset").id(s.hub.id(seq)).data(tick_data());
                    Some((Ok(event), s))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            },
            _ = s.heartbeat.tick() => {
                let event = Event::default().event("heartbeat").id(s.hub.id(s.last_seq)).data(tick_data());
                Some((Ok(event), s))
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(heartbeat.max(Duration::from_secs(1)) * 2))
}

/// What the poller needs.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// Between polls.
    pub interval: Duration,
    /// Re-read window for late commits.
    pub overlap: Duration,
    /// Congestion partials window.
    pub congestion_window: Duration,
}

/// The identity of what was last sent for a vessel.
type VesselKey = (DateTime<Utc>, u64, u64, Option<(String, String)>);

/// A weather alert's key: (zone, time, kind, station).
type WeatherKey = (String, DateTime<Utc>, String, String);

/// The per-process poller's memory.
#[derive(Debug, Default)]
struct Seen {
    high_water: Option<DateTime<Utc>>,
    vessels: HashMap<u32, VesselKey>,
    congestion: Option<HashMap<String, ZoneCongestion>>,
    anomalies: Option<HashSet<(u32, DateTime<Utc>, String)>>,
    weather: Option<HashSet<WeatherKey>>,
    safety: Option<HashSet<String>>,
}

fn same_congestion(a: &ZoneCongestion, b: &ZoneCongestion) -> bool {
    ZoneCongestion { snapshot_time: b.snapshot_time, ..a.clone() } == *b
}

/// Runs the poller until the hub is dropped by everyone else (never, in
/// practice: it lives as long as the server).
pub async fn poll(
    store: Arc<dyn Store>,
    zoning: Arc<Zoning>,
    thresholds: CongestionThresholds,
    hub: Arc<Hub>,
    settings: PollSettings,
) {
    let mut seen = Seen::default();
    let mut ticker = tokio::time::interval(settings.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = poll_once(store.as_ref(), &zoning, &thresholds, &hub, &settings, &mut seen).await {
            tracing::warn!(error = %e, "stream poll failed; retrying at the next interval");
        }
    }
}

async fn poll_once(
    store: &dyn Store,
    zoning: &Zoning,
    thresholds: &CongestionThresholds,
    hub: &Hub,
    settings: &PollSettings,
    seen: &mut Seen,
) -> Result<(), crate::error::StoreError> {
    let overlap = chrono::Duration::from_std(settings.overlap).unwrap_or(chrono::Duration::seconds(10));
    let high_water = match seen.high_water {
        Some(h) => h,
        None => store.now().await?,
    };
    for row in store.vessels_updated(high_water - overlap).await? {
        seen.high_water = Some(seen.high_water.map_or(row.updated_at, |h| h.max(row.updated_at)));
        let key = (row.event_time, row.lat.to_bits(), row.lon.to_bits(), row.call.clone());
        if seen.vessels.get(&row.mmsi) == Some(&key) {
            continue;
        }
        seen.vessels.insert(row.mmsi, key);
        let feature = VesselFeature::new(vessel_props(row, zoning));
        hub.publish("vessel", serde_json::to_string(&feature).unwrap_or_default());
    }
    if seen.high_water.is_none() {
        seen.high_water = Some(high_water);
    }

    let now = store.now().await?;
    let zones = congestion(&store.partials(settings.congestion_window).await?, thresholds);
    if let Some(previous) = &seen.congestion {
        let mut names: Vec<&String> = zones.keys().collect();
        names.sort();
        for name in names {
            let c = &zones[name];
            if previous.get(name).is_none_or(|p| !same_congestion(p, c)) {
                let change = CongestionChange { zone: name.clone(), congestion: c.clone() };
                hub.publish("congestion", serde_json::to_string(&change).unwrap_or_default());
            }
        }
    }
    seen.congestion = Some(zones);

    let window = AlertQuery {
        kind: None,
        from: now - chrono::Duration::days(1),
        to: now + chrono::Duration::hours(1),
        limit: 500,
    };
    let anomalies = store.anomalies(window.clone()).await?;
    let keys: HashSet<_> = anomalies.iter().map(|a| (a.mmsi, a.event_time, a.kind.clone())).collect();
    if let Some(previous) = &seen.anomalies {
        for a in
            anomalies.iter().rev().filter(|a| !previous.contains(&(a.mmsi, a.event_time, a.kind.clone())))
        {
            let event =
                AlertEvent { kind: "anomaly".into(), item: serde_json::to_value(a).unwrap_or_default() };
            hub.publish("alert", serde_json::to_string(&event).unwrap_or_default());
        }
    }
    seen.anomalies = Some(keys);
    let alerts = store.weather_alerts(window.clone()).await?;
    let key = |a: &crate::model::WeatherAlertItem| {
        (a.zone.clone(), a.event_time, a.kind.clone(), a.station.clone())
    };
    let keys: HashSet<_> = alerts.iter().map(key).collect();
    if let Some(previous) = &seen.weather {
        for a in alerts.iter().rev().filter(|a| !previous.contains(&key(a))) {
            let event =
                AlertEvent { kind: "weather".into(), item: serde_json::to_value(a).unwrap_or_default() };
            hub.publish("alert", serde_json::to_string(&event).unwrap_or_default());
        }
    }
    seen.weather = Some(keys);
    let messages = store.safety_messages(window).await?;
    let keys: HashSet<String> = messages.iter().map(|m| m.id.clone()).collect();
    if let Some(previous) = &seen.safety {
        for m in messages.iter().rev().filter(|m| !previous.contains(&m.id)) {
            let event =
                AlertEvent { kind: "safety".into(), item: serde_json::to_value(m).unwrap_or_default() };
            hub.publish("alert", serde_json::to_string(&event).unwrap_or_default());
        }
    }
    seen.safety = Some(keys);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumption_replays_the_ring_and_resets_when_too_old_or_foreign() {
        let hub = Hub::new(3, 16);
        for i in 0..5 {
            hub.publish("vessel", format!("{i}"));
        }
        // Ring holds seq 3, 4, 5.
        match hub.subscribe(Some(&hub.id(3))).0 {
            Resume::Missed(events) => assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]),
            Resume::Reset => panic!("seq 3 is in the ring"),
        }
        match hub.subscribe(Some(&hub.id(2))).0 {
            Resume::Missed(events) => assert_eq!(events.len(), 3, "2 is just before the ring: all of it"),
            Resume::Reset => panic!("seq 2's successors are all in the ring"),
        }
        assert!(matches!(hub.subscribe(Some(&hub.id(1))).0, Resume::Reset), "seq 2 was dropped");
        assert!(matches!(hub.subscribe(Some("1-3")).0, Resume::Reset), "another process's id");
        assert!(matches!(hub.subscribe(Some(&hub.id(9))).0, Resume::Reset), "an id from the future");
        assert!(matches!(hub.subscribe(Some("garbage")).0, Resume::Reset));
    }
}
