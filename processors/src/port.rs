//! [`Port`]: the processor entry point.
//!
//! Longer than 600 lines on purpose: [`Port`] is the processors' single entry
//! point (processing, ticks, snapshots, partition export and restore, gauges),
//! and its methods share one set of invariants about partition ownership.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use dashmap::DashMap;
use geo::{ClosestPoint, Point};
use porttrack_schemas::{Event, Sourced, WeatherObservation};
use serde::{Deserialize, Serialize};

use crate::config::PortConfig;
use crate::congestion::{WeatherPartial, ZonePartial, ZoneSnapshot, ZoneWeather, merge};
use crate::geography::{Geography, ZoneId, ZoneSet, distance_nm};
use crate::history::PartitionHistory;
use crate::output::{Anomaly, AnomalyKind, Output, Processed};
use crate::route::{Ctx, GaugeKey, Masks, Movement, VesselRoute};

/// The port processor: route state of every vessel, zone aggregates and the
/// events they produce. See the [crate docs](crate) for the model.
///
/// All methods take `&self`: batches of different partitions may be
/// processed concurrently from several threads. Events of one partition
/// must be processed in order by one thread at a time (as Kafka delivers
/// them), and a partition must not be processed while it is exported,
/// restored or forgotten.
#[derive(Debug)]
pub struct Port {
    geo: Geography,
    cfg: PortConfig,
    masks: Masks,
    /// Boxed: the table keeps spare buckets (up to half of them after it
    /// grows), and a spare bucket costs the size of its value; a pointer
    /// wastes 8 bytes where an inline route would waste a kilobyte.
    vessels: DashMap<u32, Box<VesselRoute>>,
    partitions: DashMap<i32, Arc<Shard>>,
}

/// Per-partition state that is not per vessel.
#[derive(Debug)]
struct Shard {
    /// Zone gauges, indexed by zone id: derived from the partition's
    /// vessels, kept incrementally.
    gauges: Box<[AtomicGauges]>,
    counters: AtomicCounters,
    /// Touched only on zone transitions, waits, cargo and weather (a few
    /// times per vessel per hour), and by one thread at a time in the
    /// pipeline, so this lock is uncontended; positions never take it.
    history: Mutex<PartitionHistory>,
}

impl Shard {
    fn new(zones: usize) -> Shard {
        Shard {
            gauges: (0..zones).map(|_| AtomicGauges::default()).collect(),
            counters: AtomicCounters::default(),
            history: Mutex::new(PartitionHistory::default()),
        }
    }

    /// Adds (`sign` = 1) or removes (`sign` = -1) a vessel's contribution.
    fn apply(&self, key: GaugeKey, sign: i64, masks: &Masks) {
        for zone in key.zones.iter() {
            let g = &self.gauges[zone.index()];
            g.present.fetch_add(sign, Ordering::Relaxed);
            if key.hazardous {
                g.hazardous.fetch_add(sign, Ordering::Relaxed);
            }
            if key.movement == Movement::Anchored {
                g.queue.fetch_add(sign, Ordering::Relaxed);
            }
            if key.movement == Movement::Moored && masks.berth.contains(zone) {
                g.moored.fetch_add(sign, Ordering::Relaxed);
                match key.length_m {
                    Some(l) => g.moored_length_m.fetch_add(sign * i64::from(l), Ordering::Relaxed),
                    None => g.moored_without_length.fetch_add(sign, Ordering::Relaxed),
                };
            }
        }
    }

    fn history(&self) -> std::sync::MutexGuard<'_, PartitionHistory> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Default)]
struct AtomicGauges {
    present: AtomicI64,
    queue: AtomicI64,
    moored: AtomicI64,
    moored_length_m: AtomicI64,
    moored_without_length: AtomicI64,
    hazardous: AtomicI64,
}

/// A zone's live gauges on this instance (for Prometheus): vessels inside,
/// anchored, moored and hazardous, summed over the partitions it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ZoneGauges {
    /// Vessels confirmed inside.
    pub present: i64,
    /// Vessels anchored inside.
    pub queue: i64,
    /// Vessels moored inside (berths).
    pub moored: i64,
    /// Known length of the moored vessels, metres.
    pub moored_length_m: i64,
    /// Moored vessels of unknown length.
    pub moored_without_length: i64,
    /// Vessels inside with dangerous goods.
    pub hazardous: i64,
}

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Event counters, per partition (they travel with it) or summed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
        pub struct Counters {
            $($(#[$doc])* pub $name: u64,)*
        }

        #[derive(Debug, Default)]
        struct AtomicCounters {
            $($name: AtomicU64,)*
        }

        impl AtomicCounters {
            fn load(&self) -> Counters {
                Counters { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
            fn store(&self, c: &Counters) {
                $(self.$name.store(c.$name, Ordering::Relaxed);)*
            }
        }

        impl Counters {
            fn add(&mut self, other: &Counters) {
                $(self.$name += other.$name;)*
            }
        }
    };
}

counters! {
    /// Position reports that advanced a vessel's state.
    positions_applied,
    /// Positions with the same event time as the vessel's last.
    positions_duplicate,
    /// Positions older than the vessel's last.
    positions_late,
    /// Positions rejected as GPS jumps.
    positions_outlier,
    /// Static reports applied.
    static_reports,
    /// Cargo events applied.
    cargo_events,
    /// Port operations events applied.
    ops_events,
    /// Weather observations applied.
    weather_observations,
    /// Cargo and operations events dropped as replays.
    replays_dropped,
    /// Events with nothing to apply to (see [`Processed::Ignored`]).
    ignored,
    /// Vessels forgotten by `tick` after `forget_after_s` without events.
    vessels_forgotten,
    /// Outputs emitted.
    outputs,
}

impl AtomicCounters {
    fn count(&self, event: &Event, processed: Processed, outputs: usize) {
        let c = match (event, processed) {
            (_, Processed::Ignored) => &self.ignored,
            (Event::Position(_), Processed::Applied) => &self.positions_applied,
            (Event::Position(_), Processed::Duplicate) => &self.positions_duplicate,
            (Event::Position(_), Processed::Late) => &self.positions_late,
            (Event::Position(_), _) => &self.positions_outlier,
            (Event::Cargo(_) | Event::PortOps(_), Processed::Duplicate) => &self.replays_dropped,
            (Event::Static(_), _) => &self.static_reports,
            (Event::Cargo(_), _) => &self.cargo_events,
            (Event::PortOps(_), _) => &self.ops_events,
            (Event::Weather(_), _) => &self.weather_observations,
            _ => &self.ignored,
        };
        c.fetch_add(1, Ordering::Relaxed);
        if outputs > 0 {
            self.outputs.fetch_add(outputs as u64, Ordering::Relaxed);
        }
    }
}

/// A partition's complete state, for a compacted changelog topic or a
/// Postgres row: restoring it elsewhere continues processing exactly as if
/// the partition had never moved.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PartitionState {
    /// Format version ([`PartitionState::VERSION`]): what it was read as,
    /// and what it is written as (`PortConfig::checkpoint_version` at
    /// export).
    pub version: u32,
    /// The partition.
    pub partition: i32,
    /// [`Geography::fingerprint`] of the geography the state refers to.
    pub geography: u64,
    /// The partition's vessels, by MMSI.
    pub vessels: Vec<VesselRoute>,
    /// The partition's zone history.
    pub history: PartitionHistory,
    /// The partition's counters.
    pub counters: Counters,
}

impl PartitionState {
    /// The format version this version writes.
    ///
    /// 2: times as integer epoch milliseconds (RFC 3339 strings only for
    /// times that are not whole milliseconds): see the `ser` module.
    /// 1: times as RFC 3339 strings.
    pub const VERSION: u32 = 2;

    /// The oldest format version this version restores. Every reader of
    /// version 2 also accepts version 1's string times, so a checkpoint
    /// written before an upgrade restores to the same state.
    pub const OLDEST_READABLE: u32 = 1;
}

impl Serialize for PartitionState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        crate::ser::writing(self.version, || {
            let mut st = s.serialize_struct("PartitionState", 6)?;
            st.serialize_field("version", &self.version)?;
            st.serialize_field("partition", &self.partition)?;
            st.serialize_field("geography", &self.geography)?;
            st.serialize_field("vessels", &self.vessels)?;
            st.serialize_field("history", &self.history)?;
            st.serialize_field("counters", &self.counters)?;
            st.end()
        })
    }
}

/// A partition's state, serialized where it lives: the same document as
/// [`PartitionState`] (and read back as one), without the copy of every
/// vessel that [`Port::export_partition`] makes. From [`Port::checkpoint`].
///
/// An export allocates a second copy of the partition's state (each
/// route's boxes, lists and strings: about 1.3 kB per vessel, so over a
/// hundred megabytes for all partitions at 100,000 vessels), only to serialize
/// and drop it. This view serializes each vessel in place, holding its map
/// entry for that vessel only, and allocates nothing per vessel. It saves
/// memory, not CPU: `benches/memory.rs` measures the same time per vessel
/// as export and serialize together, as reading each route where it lives
/// costs what copying it first saved the serializer.
///
/// Like an export, it must not be serialized while its partition is being
/// processed, restored or forgotten: the pipeline checkpoints between
/// batches, on the thread that processes them. Vessels are listed when the
/// view is made; one forgotten before it is serialized is left out.
#[derive(Debug)]
pub struct PartitionCheckpoint<'a> {
    port: &'a Port,
    partition: i32,
    mmsis: Vec<u32>,
    shard: Option<Arc<Shard>>,
}

impl PartitionCheckpoint<'_> {
    /// The format version it is written in (`PortConfig::checkpoint_version`).
    pub fn version(&self) -> u32 {
        self.port.config().checkpoint_version
    }

    /// The partition.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// [`Geography::fingerprint`] of the port's geography.
    pub fn geography(&self) -> u64 {
        self.port.geo.fingerprint()
    }

    /// How many vessels it holds.
    pub fn vessels(&self) -> usize {
        self.mmsis.len()
    }
}

impl Serialize for PartitionCheckpoint<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::ser::writing(self.version(), || self.serialize_fields(s))
    }
}

impl PartitionCheckpoint<'_> {
    fn serialize_fields<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        // `PartitionState`'s fields, names and order: one reader for both.
        let mut st = s.serialize_struct("PartitionState", 6)?;
        st.serialize_field("version", &self.version())?;
        st.serialize_field("partition", &self.partition)?;
        st.serialize_field("geography", &self.geography())?;
        st.serialize_field("vessels", &VesselsInPlace(self))?;
        match &self.shard {
            Some(shard) => {
                st.serialize_field("history", &*shard.history())?;
                st.serialize_field("counters", &shard.counters.load())?;
            }
            None => {
                st.serialize_field("history", &PartitionHistory::default())?;
                st.serialize_field("counters", &Counters::default())?;
            }
        }
        st.end()
    }
}

struct VesselsInPlace<'a, 'p>(&'a PartitionCheckpoint<'p>);

impl Serialize for VesselsInPlace<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;

        let view = self.0;
        let mut seq = s.serialize_seq(None)?;
        for mmsi in &view.mmsis {
            if let Some(v) = view.port.vessels.get(mmsi) {
                seq.serialize_element(&**v)?;
            }
        }
        seq.end()
    }
}

/// Why a partition state was not restored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// Written by an incompatible version.
    #[error("partition state version {found}, expected {} to {expected}", PartitionState::OLDEST_READABLE)]
    Version {
        /// Found.
        found: u32,
        /// Expected.
        expected: u32,
    },
    /// Written against another geography: zone ids would mean other zones.
    #[error("partition state refers to geography {found:016x}, this port has {expected:016x}")]
    Geography {
        /// Found.
        found: u64,
        /// Expected.
        expected: u64,
    },
    /// The state is another partition's, or holds a vessel of another partition.
    #[error("state of partition {found} offered for partition {expected}")]
    Partition {
        /// Found.
        found: i32,
        /// Expected.
        expected: i32,
    },
}

/// Estimated arrival of a vessel at its next target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eta {
    /// The assigned berth, or the nearest port limits when outside them.
    pub target: ZoneId,
    /// Straight-line distance, nautical miles (a lower bound on the route).
    pub distance_nm: f64,
    /// Smoothed speed used, knots.
    pub speed_kn: f32,
    /// Last fix time + distance / speed; `None` when stopped.
    pub at: Option<DateTime<Utc>>,
}

impl Port {
    /// A port processor over `geography`.
    pub fn new(geography: Geography, config: PortConfig) -> Port {
        Port {
            masks: Masks::of(&geography),
            geo: geography,
            cfg: config,
            vessels: DashMap::new(),
            partitions: DashMap::new(),
        }
    }

    /// The geography (for zone names: `port.geography().name(id)`).
    pub fn geography(&self) -> &Geography {
        &self.geo
    }

    /// The configuration.
    pub fn config(&self) -> &PortConfig {
        &self.cfg
    }

    fn shard(&self, partition: i32) -> Arc<Shard> {
        if let Some(s) = self.partitions.get(&partition) {
            return Arc::clone(&s);
        }
        let zones = self.geo.len();
        Arc::clone(&self.partitions.entry(partition).or_insert_with(|| Arc::new(Shard::new(zones))))
    }

    /// Applies one event and appends what it caused to `out` (which is not
    /// cleared: reuse one `Vec` across calls to avoid allocating). Most
    /// position reports cause nothing and allocate nothing.
    ///
    /// The partition is `event.origin.partition`; all topics must be
    /// co-partitioned by MMSI (same partition count and key hashing), so a
    /// vessel's events of every kind arrive on one partition number. Weather
    /// observations are stored under the partition they arrive on.
    pub fn process(&self, event: &Sourced<Event>, out: &mut Vec<Output>) -> Processed {
        let partition = event.origin.partition;
        let shard = self.shard(partition);
        let before = out.len();
        let processed = match &event.event {
            Event::Position(p) => {
                self.with_vessel(&shard, partition, p.mmsi, out, |v, ctx| v.on_position(ctx, p))
            }
            Event::Static(s) => {
                self.with_vessel(&shard, partition, s.mmsi, out, |v, ctx| v.on_static(ctx, s))
            }
            Event::Cargo(c) => self.with_vessel(&shard, partition, c.mmsi, out, |v, ctx| v.on_cargo(ctx, c)),
            Event::PortOps(o) => self.with_vessel(&shard, partition, o.mmsi, out, |v, ctx| v.on_ops(ctx, o)),
            Event::Weather(w) => self.on_weather(&shard, w, out),
            _ => Processed::Ignored,
        };
        shard.counters.count(&event.event, processed, out.len() - before);
        processed
    }

    fn with_vessel(
        &self,
        shard: &Shard,
        partition: i32,
        mmsi: u32,
        out: &mut Vec<Output>,
        step: impl FnOnce(&mut VesselRoute, &mut Ctx<'_>) -> Processed,
    ) -> Processed {
        let mut entry =
            self.vessels.entry(mmsi).or_insert_with(|| Box::new(VesselRoute::new(mmsi, partition)));
        let vessel = entry.value_mut();
        let before = vessel.gauge_key();
        if vessel.partition != partition {
            // The vessel's key now hashes elsewhere (topics repartitioned):
            // its contribution moves with it.
            if let Some(old) = self.partitions.get(&vessel.partition) {
                old.apply(before, -1, &self.masks);
            }
            shard.apply(before, 1, &self.masks);
            vessel.partition = partition;
        }
        let mut ctx = Ctx { geo: &self.geo, cfg: &self.cfg, masks: self.masks, history: &shard.history, out };
        let processed = step(vessel, &mut ctx);
        let after = vessel.gauge_key();
        if after != before {
            shard.apply(before, -1, &self.masks);
            shard.apply(after, 1, &self.masks);
        }
        processed
    }

    fn on_weather(&self, shard: &Shard, w: &WeatherObservation, out: &mut Vec<Output>) -> Processed {
        let zones = match (w.zone.as_deref().and_then(|z| self.geo.id(z)), w.lat, w.lon) {
            (Some(zone), _, _) => ZoneSet::single(zone),
            (None, Some(lat), Some(lon)) => self.geo.locate(lat, lon),
            _ => ZoneSet::EMPTY,
        };
        if zones.is_empty() {
            return Processed::Ignored;
        }
        let mut history = shard.history();
        let mut changed = false;
        for zone in zones.iter() {
            changed |= history.on_weather(zone, w, &self.cfg, out);
        }
        if changed { Processed::Applied } else { Processed::Duplicate }
    }

    /// Advances time to the event-time `watermark` (the pipeline's low
    /// watermark, never a clock reading): reports vessels inside the port
    /// limits that have been silent longer than their reporting interval
    /// allows ([`AnomalyKind::WentSilent`], once per silence), forgets
    /// vessels without any event for `forget_after_s`, and drops history
    /// older than the trailing windows. Outputs are appended in MMSI order.
    pub fn tick(&self, watermark: DateTime<Utc>, out: &mut Vec<Output>) {
        let start = out.len();
        for mut v in self.vessels.iter_mut() {
            if v.silent_reported || !v.in_port(&self.masks) {
                continue;
            }
            let Some(last) = v.last.as_ref().map(|f| f.at) else { continue };
            if (watermark - last).num_milliseconds() > v.dark_after_ms(&self.cfg) {
                v.silent_reported = true;
                out.push(Output::Anomaly(Anomaly {
                    mmsi: v.mmsi,
                    at: watermark,
                    zone: None,
                    kind: AnomalyKind::WentSilent { last_seen: last },
                }));
            }
        }
        out[start..].sort_by_key(|o| match o {
            Output::Anomaly(a) => a.mmsi,
            _ => 0,
        });
        let forget_before = watermark - Duration::seconds(i64::from(self.cfg.forget_after_s));
        self.vessels.retain(|_, v| {
            if v.last_event_at.is_none_or(|t| t >= forget_before) {
                return true;
            }
            // Lock order everywhere: a vessel's entry, then the partition map.
            if let Some(shard) = self.partitions.get(&v.partition) {
                shard.apply(v.gauge_key(), -1, &self.masks);
                shard.counters.vessels_forgotten.fetch_add(1, Ordering::Relaxed);
            }
            false
        });
        let rates_from = watermark - Duration::seconds(i64::from(self.cfg.rate_window_s));
        let waits_from = watermark - Duration::seconds(i64::from(self.cfg.wait_window_s));
        for shard in self.shards() {
            shard.1.history().prune(rates_from, waits_from);
        }
    }

    fn shards(&self) -> Vec<(i32, Arc<Shard>)> {
        let mut shards: Vec<_> = self.partitions.iter().map(|e| (*e.key(), Arc::clone(e.value()))).collect();
        shards.sort_by_key(|(p, _)| *p);
        shards
    }

    /// Zone partials at event time `at` (normally the watermark): one per
    /// (zone, owned partition), zeros included so a sink overwrites stale
    /// rows. Sorted by (partition, zone id). Merge them with [`merge`].
    ///
    /// Exact for partitions not being processed during the call; for one
    /// being processed concurrently, each vessel is read atomically.
    pub fn snapshot(&self, at: DateTime<Utc>) -> Vec<ZonePartial> {
        let shards = self.shards();
        let zones = self.geo.len();
        let mut partials: Vec<ZonePartial> = Vec::with_capacity(shards.len() * zones);
        for (partition, shard) in &shards {
            let history = shard.history();
            let rates_from = at - Duration::seconds(i64::from(self.cfg.rate_window_s));
            let waits_from = at - Duration::seconds(i64::from(self.cfg.wait_window_s));
            let trend_from = at - Duration::seconds(i64::from(self.cfg.weather_trend_window_s));
            for zone in self.geo.zones() {
                let h = history.zone(zone.id());
                let in_window = |t: &DateTime<Utc>| *t > rates_from && *t <= at;
                let mut waits: Vec<i64> = h
                    .map(|h| {
                        h.waits.iter().filter(|(t, _)| *t > waits_from && *t <= at).map(|(_, s)| *s).collect()
                    })
                    .unwrap_or_default();
                waits.sort_unstable();
                let weather =
                    h.and_then(|h| h.weather.as_ref()).filter(|w| w.latest.timestamp <= at).map(|w| {
                        let mut gusts = w.gusts.iter().filter(|(t, _)| *t > trend_from && *t <= at);
                        WeatherPartial {
                            latest: ZoneWeather {
                                station: w.latest.station.clone(),
                                at: w.latest.timestamp,
                                wind_speed_kn: w.latest.wind_speed_kn,
                                wind_gust_kn: w.latest.wind_gust_kn,
                                wind_direction_deg: w.latest.wind_direction_deg,
                                visibility_nm: w.latest.visibility_nm,
                                wave_height_m: w.latest.wave_height_m,
                            },
                            oldest_gust: gusts.clone().next().copied(),
                            newest_gust: gusts.next_back().copied(),
                        }
                    });
                partials.push(ZonePartial {
                    zone: zone.name().to_owned(),
                    kind: zone.kind(),
                    berth_length_m: zone.length_m(),
                    partition: *partition,
                    at,
                    vessels_present: 0,
                    queue_length: 0,
                    waiting_now_s: Vec::new(),
                    waits_completed_s: waits,
                    rate_window_s: self.cfg.rate_window_s,
                    entries: h.map_or(0, |h| h.entries.iter().filter(|t| in_window(t)).count() as u64),
                    exits: h.map_or(0, |h| h.exits.iter().filter(|t| in_window(t)).count() as u64),
                    moored_vessels: 0,
                    moored_length_m: 0,
                    moored_without_length: 0,
                    hazardous_vessels: 0,
                    teu_loaded: h.map_or(0, |h| h.teu_loaded),
                    teu_discharged: h.map_or(0, |h| h.teu_discharged),
                    weather,
                });
            }
        }
        // The history locks are released; now the vessels (never both at once).
        for v in self.vessels.iter() {
            let Ok(i) = shards.binary_search_by_key(&v.partition, |(p, _)| *p) else { continue };
            let base = i * zones;
            for zone in v.zones.iter() {
                let p = &mut partials[base + zone.index()];
                p.vessels_present += 1;
                if v.hazardous() {
                    p.hazardous_vessels += 1;
                }
                match v.movement {
                    Movement::Anchored => {
                        p.queue_length += 1;
                        let since = v.anchored_since().unwrap_or(at);
                        p.waiting_now_s.push((at - since).num_seconds().max(0));
                    }
                    Movement::Moored if self.masks.berth.contains(zone) => {
                        p.moored_vessels += 1;
                        match v.length_m() {
                            Some(l) => p.moored_length_m += u64::from(l),
                            None => p.moored_without_length += 1,
                        }
                    }
                    _ => {}
                }
            }
        }
        for p in &mut partials {
            p.waiting_now_s.sort_unstable();
        }
        partials
    }

    /// [`snapshot`](Port::snapshot) merged with this port's thresholds: the
    /// zone aggregates of the partitions this instance owns.
    pub fn snapshot_merged(&self, at: DateTime<Utc>) -> Vec<ZoneSnapshot> {
        merge(&self.snapshot(at), &self.cfg.congestion)
    }

    /// Live gauges of one zone over the partitions this instance owns.
    pub fn zone_gauges(&self, zone: ZoneId) -> ZoneGauges {
        let mut sum = ZoneGauges::default();
        for e in self.partitions.iter() {
            let Some(g) = e.value().gauges.get(zone.index()) else { continue };
            sum.present += g.present.load(Ordering::Relaxed);
            sum.queue += g.queue.load(Ordering::Relaxed);
            sum.moored += g.moored.load(Ordering::Relaxed);
            sum.moored_length_m += g.moored_length_m.load(Ordering::Relaxed);
            sum.moored_without_length += g.moored_without_length.load(Ordering::Relaxed);
            sum.hazardous += g.hazardous.load(Ordering::Relaxed);
        }
        sum
    }

    /// Counters summed over the partitions this instance owns.
    pub fn counters(&self) -> Counters {
        let mut sum = Counters::default();
        for e in self.partitions.iter() {
            sum.add(&e.value().counters.load());
        }
        sum
    }

    /// A copy of one vessel's state.
    pub fn vessel(&self, mmsi: u32) -> Option<VesselRoute> {
        self.vessels.get(&mmsi).map(|v| VesselRoute::clone(&v))
    }

    /// Runs `f` on one vessel's state without copying it.
    pub fn with_vessel_ref<R>(&self, mmsi: u32, f: impl FnOnce(&VesselRoute) -> R) -> Option<R> {
        self.vessels.get(&mmsi).map(|v| f(&v))
    }

    /// Every vessel's MMSI, ascending.
    pub fn mmsis(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self.vessels.iter().map(|v| *v.key()).collect();
        all.sort_unstable();
        all
    }

    /// Vessels tracked.
    pub fn vessel_count(&self) -> usize {
        self.vessels.len()
    }

    /// Partitions with state on this instance, ascending.
    pub fn partitions(&self) -> Vec<i32> {
        self.shards().into_iter().map(|(p, _)| p).collect()
    }

    /// Estimated arrival at the assigned berth (from cargo or mooring
    /// events) or, outside the port, at the nearest port limits.
    pub fn eta(&self, mmsi: u32) -> Option<Eta> {
        let v = self.vessels.get(&mmsi)?;
        let last = v.last.as_ref()?;
        let here = (last.lat, last.lon);
        let (target, distance_nm) = match v.assigned_berth {
            Some(berth) if !v.zones.contains(berth) => {
                (berth, distance_nm(here, self.geo.zone(berth).centroid()))
            }
            _ if !v.in_port(&self.masks) => self
                .masks
                .port_limits
                .iter()
                .filter_map(|z| {
                    // Closest point in degrees: close enough to the metric one at port scale.
                    let target = match self.geo.zone(z).shape().closest_point(&Point::new(last.lon, last.lat))
                    {
                        geo::Closest::Intersection(p) | geo::Closest::SinglePoint(p) => p,
                        geo::Closest::Indeterminate => return None,
                    };
                    Some((z, distance_nm(here, (target.y(), target.x()))))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))?,
            _ => return None,
        };
        let speed_kn = v.smoothed_sog_kn;
        let at = (speed_kn >= self.cfg.move_speed_kn).then(|| {
            last.at + Duration::milliseconds((distance_nm / f64::from(speed_kn) * 3_600_000.0) as i64)
        });
        Some(Eta { target, distance_nm, speed_kn, at })
    }

    /// The complete state of partition `p` (vessels by MMSI, history,
    /// counters), serializable with serde.
    pub fn export_partition(&self, p: i32) -> PartitionState {
        let mut vessels: Vec<VesselRoute> =
            self.vessels.iter().filter(|v| v.partition == p).map(|v| VesselRoute::clone(v.value())).collect();
        vessels.sort_by_key(|v| v.mmsi);
        let (history, counters) = match self.partitions.get(&p).map(|s| Arc::clone(&s)) {
            Some(shard) => (shard.history().clone(), shard.counters.load()),
            None => (PartitionHistory::default(), Counters::default()),
        };
        PartitionState {
            version: self.config().checkpoint_version,
            partition: p,
            geography: self.geo.fingerprint(),
            vessels,
            history,
            counters,
        }
    }

    /// The state of partition `p` as a serializable view: the document
    /// [`export_partition`](Port::export_partition)'s state serializes to,
    /// byte for byte, without copying it first. For checkpoints.
    pub fn checkpoint(&self, p: i32) -> PartitionCheckpoint<'_> {
        let mut mmsis: Vec<u32> =
            self.vessels.iter().filter(|v| v.partition == p).map(|v| *v.key()).collect();
        mmsis.sort_unstable();
        PartitionCheckpoint {
            port: self,
            partition: p,
            mmsis,
            shard: self.partitions.get(&p).map(|s| Arc::clone(&s)),
        }
    }

    /// Replaces whatever this instance holds for partition `p` with `state`
    /// (from [`export_partition`](Port::export_partition), possibly on
    /// another instance). Gauges are rebuilt from the restored vessels.
    pub fn restore_partition(&self, p: i32, state: PartitionState) -> Result<(), RestoreError> {
        if !(PartitionState::OLDEST_READABLE..=PartitionState::VERSION).contains(&state.version) {
            return Err(RestoreError::Version { found: state.version, expected: PartitionState::VERSION });
        }
        if state.geography != self.geo.fingerprint() {
            return Err(RestoreError::Geography { found: state.geography, expected: self.geo.fingerprint() });
        }
        if let Some(found) = std::iter::once(state.partition)
            .chain(state.vessels.iter().map(|v| v.partition))
            .find(|q| *q != p)
        {
            return Err(RestoreError::Partition { found, expected: p });
        }
        self.forget_partition(p);
        let shard = Arc::new(Shard::new(self.geo.len()));
        *shard.history() = state.history;
        shard.counters.store(&state.counters);
        for v in state.vessels {
            shard.apply(v.gauge_key(), 1, &self.masks);
            if let Some(old) = self.vessels.insert(v.mmsi, Box::new(v))
                && let Some(old_shard) = self.partitions.get(&old.partition)
            {
                old_shard.apply(old.gauge_key(), -1, &self.masks);
            }
        }
        self.partitions.insert(p, shard);
        Ok(())
    }

    /// Forgets partition `p` (after a rebalance took it away). Returns how
    /// many vessels were forgotten.
    pub fn forget_partition(&self, p: i32) -> usize {
        self.partitions.remove(&p);
        let before = self.vessels.len();
        self.vessels.retain(|_, v| v.partition != p);
        before.saturating_sub(self.vessels.len())
    }
}
