//! Per-vessel route state and the rules that advance it.
//!
//! A [`VesselRoute`] is everything PortTrack knows about one vessel: its last
//! fix, speeds, recent fix times, confirmed zones, movement status, joined
//! static data, cargo on board and its current port call.
//! [`Port`](crate::Port) keeps one per MMSI and advances it with each
//! event; this module holds the rules.
//!
//!
//! See [`VesselRoute`] for what depends on delivery order.
//!
//! Longer than 600 lines on purpose: one fix advances the zones, the movement
//! status, the port call and the anomalies of a vessel in one step, and keeping
//! those rules in one file keeps each transition readable end to end.

use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use porttrack_schemas::{CargoEvent, CargoOperation, PortOpsEvent, PortOpsKind, Position, VesselStatic};
use serde::{Deserialize, Serialize};

use crate::config::PortConfig;
use crate::fix_times::{FixTimes, LateFix, NoTrack};
use crate::geography::{Geography, ZoneId, ZoneKind, ZoneSet, distance_nm};
use crate::history::PartitionHistory;
use crate::lifecycle::CallStage;
use crate::output::{
    Anomaly, AnomalyKind, CallPhase, Direction, Output, PortCall, PortCallUpdate, Processed, Service,
    ZoneTransition,
};
use crate::statics::StaticData;

mod cold;
mod read;

use cold::{ColdBox, Dwell, Rare};
use thin_vec::ThinVec;

/// One accepted position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// Event time.
    #[serde(with = "crate::ser::time")]
    pub at: DateTime<Utc>,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Reported speed over ground, knots.
    pub sog: Option<f32>,
    /// Reported course over ground, degrees.
    pub cog: Option<f32>,
    /// Reported heading, degrees.
    pub heading: Option<u16>,
}

impl Fix {
    fn from_position(p: &Position) -> Fix {
        // AIS "not available" sentinels are not values.
        let p = p.clone().normalize();
        Fix { at: p.timestamp, lat: p.lat, lon: p.lon, sog: p.sog, cog: p.cog, heading: p.heading }
    }
}

/// Movement status, derived from speed and dwell (the vessel's own
/// `nav_status` is not trusted: crews forget to change it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// Moving (at or above `move_speed_kn`).
    UnderWay,
    /// Stopped, not yet long enough to classify.
    Stopped,
    /// Stopped inside an anchorage for `status_dwell_s`, or anywhere but a
    /// berth for `anchored_elsewhere_after_s`.
    Anchored,
    /// Stopped inside a berth for `status_dwell_s`.
    Moored,
}

/// AIS transponder class, inferred from the observed reporting interval
/// while moving (class B reports every 30 s, class A every 2–10 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportingClass {
    /// Class A (the default until the interval says otherwise).
    A,
    /// Class B.
    B,
}

/// A zone candidate under hysteresis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    zone: ZoneId,
    fixes: u32,
    #[serde(with = "crate::ser::time")]
    since: DateTime<Utc>,
}

/// Everything known about one vessel. Serializable: it is what
/// [`PartitionState`](crate::PartitionState) carries when a partition moves.
///
/// # Event time and order
///
/// Only a position newer (by event time) than the vessel's last accepted fix
/// advances the movement state machine (zones, status, port call, anomalies).
/// A position with the same event time is a duplicate and changes nothing but
/// a counter; an older one is *late* (a duplicate when its time is among the
/// recent fixes', [`FixTimes`]) and is otherwise ignored. Kafka keeps a
/// vessel's records in order (topics are keyed by MMSI), so lateness only
/// comes from the sensors and is rare; ignoring late fixes keeps every
/// output a function of the ordered stream, and replays harmless.
///
/// Order-independent (the same for any order and any duplication of the same
/// events, given no position is rejected as a jump): the last fix, the first
/// fix time, the recent fix times (the `track_len` newest distinct), the kept
/// static data (each field comes from the newest report carrying it; reports
/// with equal timestamps and conflicting values are the exception: the one
/// processed last wins), cargo totals and IMDG classes on board, and the
/// services recorded (cargo and operations events are deduplicated by event
/// id within the last `dedup_window` ids of the vessel).
///
/// Order-dependent: zones, movement, smoothed speed, distance run, port calls
/// and anomalies, which follow the fixes in the order they advanced the state.
///
/// # Memory
///
/// One route per tracked vessel, so its size is multiplied by up to a
/// million. `benches/memory.rs` measures it: about 0.75 kB of resident
/// memory per vessel in its mixed fleet, 0.43 kB at sea, of which this
/// struct is 256 bytes (kept small by boxing the static data, the calls,
/// the lists most vessels never fill, and the fields of states most never
/// reach, `route/cold.rs`), the static data 48, an open call 128 plus 80
/// for its first service (its id is made when asked for, `call_id.rs`),
/// and the recent fix times 4 bytes each (64 at the default `track_len` of
/// 16; 8 bytes while one is not a whole millisecond, see [`FixTimes`]).
/// It was 2.8 kB while the route kept its last 32 fixes whole, 48 bytes
/// each, for no rule but the one [`FixTimes`] now serves, and every static
/// field with its strings. `tests/memory.rs` pins the inline size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "read::RouteIn")]
pub struct VesselRoute {
    /// The vessel.
    pub mmsi: u32,
    /// The Kafka partition its events arrive on.
    pub partition: i32,
    /// Events applied to this vessel, of every kind and outcome.
    pub events: u64,
    /// Event time of the newest event of any kind (eviction runs on it).
    #[serde(default, with = "crate::ser::opt")]
    pub last_event_at: Option<DateTime<Utc>>,
    /// Event time of the earliest fix seen.
    #[serde(default, with = "crate::ser::opt")]
    pub first_seen: Option<DateTime<Utc>>,
    /// The newest accepted fix.
    pub last: Option<Fix>,
    /// Speed smoothed over `speed_smoothing_s` (reported SOG, or the speed
    /// implied by consecutive fixes when SOG is absent), knots.
    pub smoothed_sog_kn: f32,
    /// Distance run between consecutive accepted fixes, nautical miles.
    pub distance_nm: f64,
    /// Releases before the track became [`FixTimes`] require a `track`
    /// field: written empty for them (their checkpoints' tracks are read
    /// for their times by [`read`]).
    #[serde(rename = "track", serialize_with = "crate::ser::legacy_track::serialize")]
    legacy_track: NoTrack,
    /// Times of the recent fixes, at most `track_len`: they tell a late
    /// duplicate from a late fix.
    #[serde(default, with = "crate::ser::fix_times")]
    pub fix_times: FixTimes,
    /// Confirmed zones.
    pub zones: ZoneSet,
    /// When each confirmed zone was entered ([`VesselRoute::zone_entered`]).
    // `ThinVec`s here: 8 bytes inline instead of 24 for two short lists.
    #[serde(with = "crate::ser::keyed")]
    zone_entered: ThinVec<(ZoneId, DateTime<Utc>)>,
    pending: ThinVec<Pending>,
    /// Derived movement status.
    pub movement: Movement,
    /// First fix of the current stop.
    #[serde(default, with = "crate::ser::opt")]
    pub stopped_since: Option<DateTime<Utc>>,
    /// Where and since when it is at anchor or alongside, boxed
    /// (`route/cold.rs`): written as fields of the route.
    #[serde(flatten)]
    dwell: ColdBox<Dwell>,
    /// Inferred transponder class.
    pub class: ReportingClass,
    moving_interval_s: f32,
    /// What the rules read of the static and voyage data ([`StaticData`]).
    /// Boxed, as are the calls: a route is kept per tracked vessel (a
    /// million of them at global scale), and a vessel without static data
    /// or a call should not pay their size.
    pub statics: Option<Box<StaticData>>,
    /// The open port call.
    #[serde(default, with = "crate::ser::call_opt")]
    pub call: Option<Box<PortCall>>,
    /// The open call is not confirmed yet: the vessel crossed the port
    /// limits but has neither stopped at anchor or alongside nor entered a
    /// basin or berth, so it may still turn back (an aborted approach, or
    /// traffic passing through the limits). Nothing about it is emitted
    /// until it is confirmed; if the vessel leaves first, the call is
    /// dropped. Absent in older checkpoints, whose open calls were all
    /// emitted: `false`.
    #[serde(default)]
    pub call_unconfirmed: bool,
    /// TEU loaded minus TEU discharged since tracking began.
    pub teu_on_board_change: i64,
    /// The berth named by the vessel's latest cargo or mooring event.
    pub assigned_berth: Option<ZoneId>,
    /// Whether [`Port::tick`](crate::Port::tick) reported it silent and it has not reappeared.
    pub silent_reported: bool,
    seen_outside_port: bool,
    consecutive_outliers: u32,
    // A `ThinVec` grown one id at a time: most vessels never have a cargo
    // or operations event, and those that do have a few. 8 bytes inline,
    // and for two ids one 48-byte allocation besides the ids, where a boxed
    // `VecDeque` took a 32-byte box and a 64-byte buffer of four slots.
    // Dropping the oldest id shifts the rest, only for a vessel past
    // `dedup_window` (256) events.
    #[serde(with = "crate::ser::ids")]
    recent_ids: ThinVec<Box<str>>,
    /// The last call, IMDG classes, anomalies reported and events held,
    /// boxed together (`route/cold.rs`): written as fields of the route.
    #[serde(flatten)]
    rare: ColdBox<Rare>,
}

/// An operations or cargo event that arrived before the positions that
/// reach its time.
///
/// Kafka orders records only within a partition, so a vessel's operations
/// and cargo topics may be read ahead of its positions: by seconds when
/// consuming live, by hours when catching up on a backlog after an outage.
/// Applied on arrival, a pilot boarding at the berth would meet a call that
/// has not opened yet, and a discharge one that has not reached the berth,
/// and what the processor concluded would depend on how fast each topic was
/// read. Held until the vessel's own fixes reach the event's time, it is
/// applied where it belongs in event time, however the topics were paced
/// (the chaos drill's catch-up run and faulty run disagreed on 200 of 490
/// port calls before). At most [`DEFERRED_MAX`] per vessel: past that (a
/// vessel without AIS, a clock far off) the oldest is applied at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Deferred {
    Ops(PortOpsEvent),
    Cargo(CargoEvent),
}

impl Deferred {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Deferred::Ops(e) => e.timestamp,
            Deferred::Cargo(c) => c.timestamp,
        }
    }

    fn id(&self) -> &str {
        match self {
            Deferred::Ops(e) => &e.event_id,
            Deferred::Cargo(c) => &c.event_id,
        }
    }
}

/// Deferred events kept per vessel at most.
const DEFERRED_MAX: usize = 64;

/// Precomputed zone sets by kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Masks {
    pub(crate) port_limits: ZoneSet,
    pub(crate) anchorage: ZoneSet,
    pub(crate) berth: ZoneSet,
    pub(crate) basin: ZoneSet,
    pub(crate) channel: ZoneSet,
    pub(crate) restricted: ZoneSet,
}

impl Masks {
    pub(crate) fn of(geo: &Geography) -> Masks {
        Masks {
            port_limits: geo.of_kind(ZoneKind::PortLimits),
            anchorage: geo.of_kind(ZoneKind::Anchorage),
            berth: geo.of_kind(ZoneKind::Berth),
            basin: geo.of_kind(ZoneKind::Basin),
            channel: geo.of_kind(ZoneKind::ApproachChannel),
            restricted: geo.of_kind(ZoneKind::Restricted),
        }
    }
}

/// What a step needs besides the vessel.
pub(crate) struct Ctx<'a> {
    pub(crate) geo: &'a Geography,
    pub(crate) cfg: &'a PortConfig,
    pub(crate) masks: Masks,
    pub(crate) history: &'a Mutex<PartitionHistory>,
    pub(crate) out: &'a mut Vec<Output>,
}

impl Ctx<'_> {
    fn history(&self) -> MutexGuard<'_, PartitionHistory> {
        // A panic while holding the lock cannot leave the history
        // inconsistent in a way that matters more than losing it.
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The parts of a vessel that zone gauges count; when they change, the
/// gauges move from the old to the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GaugeKey {
    pub(crate) zones: ZoneSet,
    pub(crate) movement: Movement,
    pub(crate) length_m: Option<u16>,
    pub(crate) hazardous: bool,
}

const SERVICES_MAX: usize = 64;
/// How far (nautical miles, ≈ 460 m) a stopped vessel may seem to move
/// between two reports before the second is a GPS jump: more than a ship
/// swinging at anchor drifts in a few minutes, less than the distance to
/// the nearest zone boundary from most berths.
const STOPPED_DRIFT_NM: f64 = 0.25;
/// The stopped-drift rule compares fixes at most this far apart (15 min,
/// five stopped reporting intervals); after a longer silence the vessel may
/// really have moved (and stopped again), and only `max_speed_kn` applies.
const STOPPED_JUMP_WINDOW_MS: i64 = 900_000;
const UNATTACHED_MAX: usize = 16;
/// How long after a call's departure its services still belong to it: the
/// pilot leaves an outbound ship at the pilot station, outside the port
/// limits, and the tugs let go on the way out. Without it a pilot
/// disembarking after the departure joined the call or not depending on
/// whether the operations topic's record was processed before or after the
/// positions that showed the ship leaving (the chaos drill's faulty and
/// clean runs disagreed on it), and when not, it joined the ship's next call.
const SERVICES_AFTER_DEPARTURE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds()
}

/// Time to run `nm` at `knots`, at most `max_ms` (the time between the two
/// fixes the run is measured between).
fn run_time(nm: f64, knots: f32, max_ms: i64) -> chrono::Duration {
    let ms = (nm / f64::from(knots.max(0.1)) * 3_600_000.0) as i64;
    chrono::Duration::milliseconds(ms.clamp(0, max_ms.max(0)))
}

fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_milliseconds()
}

impl VesselRoute {
    /// A vessel with no events applied yet.
    pub fn new(mmsi: u32, partition: i32) -> VesselRoute {
        VesselRoute {
            mmsi,
            partition,
            events: 0,
            last_event_at: None,
            first_seen: None,
            last: None,
            smoothed_sog_kn: 0.0,
            distance_nm: 0.0,
            legacy_track: NoTrack,
            fix_times: FixTimes::default(),
            zones: ZoneSet::EMPTY,
            zone_entered: ThinVec::new(),
            pending: ThinVec::new(),
            movement: Movement::UnderWay,
            stopped_since: None,
            dwell: ColdBox::default(),
            class: ReportingClass::A,
            moving_interval_s: 0.0,
            statics: None,
            call: None,
            call_unconfirmed: false,
            teu_on_board_change: 0,
            assigned_berth: None,
            silent_reported: false,
            seen_outside_port: false,
            consecutive_outliers: 0,
            recent_ids: ThinVec::new(),
            rare: ColdBox::default(),
        }
    }

    /// When each confirmed zone was entered.
    pub fn zone_entered(&self) -> &[(ZoneId, DateTime<Utc>)] {
        &self.zone_entered
    }

    /// Zones the vessel was in when it anchored (its wait counts there).
    pub fn anchored_in(&self) -> ZoneSet {
        self.dwell.get().anchored_in
    }

    /// Start of the current anchorage wait (the stop's first fix).
    pub fn anchored_since(&self) -> Option<DateTime<Utc>> {
        self.dwell.get().anchored_since
    }

    /// Start of the current stay alongside (the stop's first fix).
    pub fn moored_since(&self) -> Option<DateTime<Utc>> {
        self.dwell.get().moored_since
    }

    /// The last closed port call (late services still attach to it).
    pub fn last_call(&self) -> Option<&PortCall> {
        self.rare.get().last_call.as_deref()
    }

    /// IMDG classes loaded (sorted, unique).
    pub fn imdg_classes(&self) -> &[String] {
        &self.rare.get().imdg_classes
    }

    /// Length overall from static data.
    pub fn length_m(&self) -> Option<u16> {
        self.statics.as_ref().and_then(|s| s.length())
    }

    /// Whether the vessel carries dangerous goods: an IMDG class was loaded,
    /// or its static data declares them (an AIS ship type of a hazardous
    /// category, or an inland hazard code).
    pub fn hazardous(&self) -> bool {
        !self.imdg_classes().is_empty() || self.statics.as_ref().is_some_and(|s| s.declares_hazardous_cargo())
    }

    /// Nominal reporting interval for the vessel's class and current state, seconds.
    pub fn expected_interval_s(&self, cfg: &PortConfig) -> u32 {
        let r = &cfg.reporting;
        match (self.class, self.stopped_since.is_some()) {
            (ReportingClass::A, false) => r.class_a_moving_s,
            (ReportingClass::A, true) => r.class_a_stopped_s,
            (ReportingClass::B, false) => r.class_b_moving_s,
            (ReportingClass::B, true) => r.class_b_stopped_s,
        }
    }

    /// Silence (milliseconds) beyond which the vessel is dark.
    pub(crate) fn dark_after_ms(&self, cfg: &PortConfig) -> i64 {
        (f64::from(self.expected_interval_s(cfg)) * f64::from(cfg.dark_multiple) * 1000.0) as i64
    }

    pub(crate) fn gauge_key(&self) -> GaugeKey {
        GaugeKey {
            zones: self.zones,
            movement: self.movement,
            length_m: self.length_m(),
            hazardous: self.hazardous(),
        }
    }

    pub(crate) fn in_port(&self, masks: &Masks) -> bool {
        self.zones.intersects(masks.port_limits)
    }

    /// Applies a position report.
    fn touch(&mut self, at: DateTime<Utc>) {
        self.events += 1;
        self.last_event_at = Some(self.last_event_at.map_or(at, |t| t.max(at)));
    }

    /// Applies a position, then the deferred events its time reaches.
    pub(crate) fn on_position(&mut self, ctx: &mut Ctx<'_>, position: &Position) -> Processed {
        let processed = self.position(ctx, position);
        if !self.rare.get().deferred.is_empty() {
            self.release_deferred(ctx, false);
        }
        processed
    }

    fn position(&mut self, ctx: &mut Ctx<'_>, position: &Position) -> Processed {
        self.touch(position.timestamp);
        let fix = Fix::from_position(position);
        self.first_seen = Some(self.first_seen.map_or(fix.at, |f| f.min(fix.at)));
        let Some(last) = self.last.clone() else {
            return self.accept(ctx, fix, None);
        };
        if fix.at == last.at {
            return Processed::Duplicate;
        }
        if fix.at < last.at {
            return match self.fix_times.insert_late(fix.at, ctx.cfg.track_len) {
                LateFix::Duplicate => Processed::Duplicate,
                LateFix::Late => Processed::Late,
            };
        }
        let dt_ms = millis(last.at, fix.at);
        let run = distance_nm((last.lat, last.lon), (fix.lat, fix.lon));
        let implied_kn = run / (dt_ms as f64 / 3_600_000.0);
        // A jump of a few tens of metres is GPS noise whatever the interval.
        let too_fast = run > 0.05 && implied_kn > f64::from(ctx.cfg.max_speed_kn);
        // A stopped vessel does not move: a fix reporting it still stopped,
        // minutes after one that did too, yet further off than an anchored
        // ship swings, is a GPS jump however slow the implied speed (at the
        // 3-minute interval of a moored ship a 2 nm jump is only 40 kn).
        let stopped = |f: &Fix| f.sog.is_some_and(|s| s < ctx.cfg.stop_speed_kn);
        let jumped_while_stopped =
            run > STOPPED_DRIFT_NM && dt_ms <= STOPPED_JUMP_WINDOW_MS && stopped(&last) && stopped(&fix);
        if too_fast || jumped_while_stopped {
            self.consecutive_outliers += 1;
            if self.consecutive_outliers < ctx.cfg.outlier_reanchor_after {
                return Processed::Outlier;
            }
            // Several consistent "jumps" in a row: the old fix was the bad one.
            self.consecutive_outliers = 0;
            return self.accept(ctx, fix, None);
        }
        self.consecutive_outliers = 0;
        self.accept(ctx, fix, Some((last, dt_ms, run, implied_kn)))
    }

    fn accept(&mut self, ctx: &mut Ctx<'_>, fix: Fix, previous: Option<(Fix, i64, f64, f64)>) -> Processed {
        let cfg = ctx.cfg;
        let masks = ctx.masks;
        let speed_kn = match (fix.sog, &previous) {
            (Some(sog), _) => Some(sog),
            (None, Some((_, _, _, implied))) => Some(*implied as f32),
            (None, None) => None,
        };
        if let Some((last, dt_ms, run, _)) = &previous {
            self.distance_nm += run;
            let dark_after = self.dark_after_ms(cfg);
            if *dt_ms > dark_after && self.in_port(&masks) {
                ctx.out.push(Output::Anomaly(Anomaly {
                    mmsi: self.mmsi,
                    at: fix.at,
                    zone: None,
                    kind: AnomalyKind::DarkPeriod { last_seen: last.at, silent_s: dt_ms / 1000 },
                }));
            }
            if self.stopped_since.is_none() && *dt_ms < 120_000 {
                let sample = *dt_ms as f32 / 1000.0;
                self.moving_interval_s = if self.moving_interval_s == 0.0 {
                    sample
                } else {
                    0.8 * self.moving_interval_s + 0.2 * sample
                };
                self.class =
                    if self.moving_interval_s > 20.0 { ReportingClass::B } else { ReportingClass::A };
            }
            if let Some(v) = speed_kn {
                let alpha = 1.0 - (-(*dt_ms as f32) / (cfg.speed_smoothing_s.max(1) as f32 * 1000.0)).exp();
                self.smoothed_sog_kn += alpha * (v - self.smoothed_sog_kn);
            }
        } else if let Some(v) = speed_kn {
            self.smoothed_sog_kn = v;
        }
        self.silent_reported = false;
        self.fix_times.push_newest(fix.at, cfg.track_len);
        self.last = Some(fix.clone());

        // Zones, with hysteresis.
        let observed = ctx.geo.locate(fix.lat, fix.lon);
        if !observed.intersects(masks.port_limits) {
            self.seen_outside_port = true;
        }
        self.update_zones(ctx, observed, fix.at);

        // Movement. A stop begins or ends somewhere between two fixes, up to
        // a stopped reporting interval (3 min) or a dark period apart: it is
        // dated by the distance run between them at the moving fix's speed
        // (the last one under way for a stop, the first one under way for a
        // departure), within the two fixes' times.
        let mut changed_at = fix.at;
        match speed_kn {
            Some(v) if v < cfg.stop_speed_kn && self.stopped_since.is_none() => {
                let began = match &previous {
                    Some((last, dt_ms, run, _)) => {
                        let moving = last.sog.filter(|s| *s >= cfg.stop_speed_kn);
                        moving.map_or(fix.at, |s| last.at + run_time(*run, s, *dt_ms))
                    }
                    None => fix.at,
                };
                self.stopped_since = Some(began);
            }
            Some(v) if v >= cfg.move_speed_kn => {
                if self.stopped_since.is_some()
                    && let Some((_, dt_ms, run, _)) = &previous
                {
                    changed_at = fix.at - run_time(*run, v, *dt_ms);
                }
                self.stopped_since = None;
                // Only when set: this runs on every fix under way.
                if self.rare.get().channel_stop_reported {
                    self.rare.clear(|rare| rare.channel_stop_reported = false);
                }
            }
            _ => {}
        }
        let movement = self.classify(cfg, &masks, fix.at);
        if movement != self.movement {
            self.change_movement(ctx, movement, changed_at);
        }
        self.check_anomalies(ctx, fix.at);
        Processed::Applied
    }

    fn classify(&self, cfg: &PortConfig, masks: &Masks, at: DateTime<Utc>) -> Movement {
        let Some(since) = self.stopped_since else {
            return Movement::UnderWay;
        };
        let dwell = seconds(since, at);
        let settled = dwell >= i64::from(cfg.status_dwell_s);
        if settled && self.zones.intersects(masks.berth) {
            Movement::Moored
        } else if (settled && self.zones.intersects(masks.anchorage))
            || (dwell >= i64::from(cfg.anchored_elsewhere_after_s) && !self.zones.intersects(masks.berth))
        {
            Movement::Anchored
        } else {
            Movement::Stopped
        }
    }

    fn update_zones(&mut self, ctx: &mut Ctx<'_>, observed: ZoneSet, at: DateTime<Utc>) {
        let differing = ZoneSet(observed.0 ^ self.zones.0);
        if differing.is_empty() && self.pending.is_empty() {
            return; // the hot path: nothing near a boundary
        }
        self.pending.retain(|p| differing.contains(p.zone));
        let mut confirmed: Vec<(ZoneId, DateTime<Utc>)> = Vec::new();
        for zone in differing.iter() {
            let i = match self.pending.iter().position(|p| p.zone == zone) {
                Some(i) => i,
                None => {
                    // One or two candidates at a time: no spare room.
                    self.pending.reserve_exact(1);
                    self.pending.push(Pending { zone, fixes: 0, since: at });
                    self.pending.len() - 1
                }
            };
            let p = &mut self.pending[i];
            p.fixes += 1;
            let dwelled = p.fixes >= 2 && seconds(p.since, at) >= i64::from(ctx.cfg.hysteresis_dwell_s);
            if p.fixes >= ctx.cfg.hysteresis_fixes || dwelled {
                confirmed.push((zone, p.since));
                self.pending.swap_remove(i);
            }
        }
        if self.pending.is_empty() {
            // Candidates are rare (a vessel near a boundary): an emptied
            // list gives its buffer back rather than keep it per vessel.
            self.pending = ThinVec::new();
        }
        if confirmed.is_empty() {
            return;
        }
        // Port limits are entered first and left last, so a call is open
        // while the vessel is in any of the port's other zones.
        let pl = ctx.masks.port_limits;
        let rank = |(z, _): &(ZoneId, DateTime<Utc>)| {
            let entering = observed.contains(*z);
            match (entering, pl.contains(*z)) {
                (true, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (false, true) => 3,
            }
        };
        confirmed.sort_by_key(|c| (rank(c), c.0));
        for (zone, since) in confirmed {
            if observed.contains(zone) {
                self.enter_zone(ctx, zone, since);
            } else {
                self.exit_zone(ctx, zone, since);
            }
        }
        self.check_restricted(ctx, at);
    }

    fn enter_zone(&mut self, ctx: &mut Ctx<'_>, zone: ZoneId, at: DateTime<Utc>) {
        self.zones.insert(zone);
        // A vessel is in a few zones at once: no spare room.
        self.zone_entered.reserve_exact(1);
        self.zone_entered.push((zone, at));
        ctx.out.push(Output::Zone(ZoneTransition {
            mmsi: self.mmsi,
            zone,
            direction: Direction::Entered,
            at,
            stay_s: None,
        }));
        ctx.history().zone_mut(zone).entries.push_back(at);
        if ctx.masks.port_limits.contains(zone) && self.call.is_none() {
            let mut call = PortCall::open(self.mmsi, at, self.seen_outside_port);
            // Services recorded before the vessel crossed the limits (a pilot
            // boarding outside them) belong to this call.
            // `take`: the emptied buffer goes, not kept per vessel.
            if let Some(waiting) = self.rare.clear(|rare| std::mem::take(&mut rare.unattached_services)) {
                call.services = waiting.into_iter().collect();
            }
            self.call = Some(Box::new(call));
            // Held until the vessel commits to the port (see `call_unconfirmed`).
            self.call_unconfirmed = true;
        }
        if ctx.masks.basin.contains(zone) || ctx.masks.berth.contains(zone) {
            self.confirm_call(ctx);
        }
    }

    /// Confirms the open call, if it was held: from now on it is a port
    /// call, and its arrival is emitted (dated when it crossed the limits).
    fn confirm_call(&mut self, ctx: &mut Ctx<'_>) {
        if self.call_unconfirmed && self.call.is_some() {
            self.call_unconfirmed = false;
            self.emit_call(ctx, CallStage::Arrived);
        }
    }

    fn exit_zone(&mut self, ctx: &mut Ctx<'_>, zone: ZoneId, at: DateTime<Utc>) {
        self.zones.remove(zone);
        let entered = self
            .zone_entered
            .iter()
            .position(|(z, _)| *z == zone)
            .map(|i| self.zone_entered.swap_remove(i).1);
        ctx.out.push(Output::Zone(ZoneTransition {
            mmsi: self.mmsi,
            zone,
            direction: Direction::Exited,
            at,
            stay_s: entered.map(|e| seconds(e, at)),
        }));
        ctx.history().zone_mut(zone).exits.push_back(at);
        self.rare.clear(|rare| {
            rare.speeding_reported.remove(zone);
            rare.restricted_reported.remove(zone);
        });
        if ctx.masks.port_limits.contains(zone) && !self.in_port(&ctx.masks) {
            if self.call_unconfirmed {
                // Turned back without stopping or entering the port: not a
                // call. Its services wait for the next one.
                self.call_unconfirmed = false;
                if let Some(mut call) = self.call.take()
                    && !call.services.is_empty()
                {
                    let waiting = &mut self.rare.make_mut().unattached_services;
                    waiting.extend(call.services.drain(..));
                    waiting.truncate(UNATTACHED_MAX);
                }
                return;
            }
            if let Some(call) = self.call.as_mut() {
                CallStage::Departed.stamp(call, at);
            }
            self.emit_call(ctx, CallStage::Departed);
            // The departed call, or none: an older last call must not
            // outlive a departure without a call of its own.
            match self.call.take() {
                Some(call) => self.rare.make_mut().last_call = Some(call),
                None => _ = self.rare.clear(|rare| rare.last_call = None),
            }
        }
    }

    fn change_movement(&mut self, ctx: &mut Ctx<'_>, to: Movement, at: DateTime<Utc>) {
        if matches!(to, Movement::Anchored | Movement::Moored) {
            self.confirm_call(ctx);
        }
        let from = self.movement;
        self.movement = to;
        // The stop began at the first stopped fix, not when the dwell rule fired.
        let began = self.stopped_since.unwrap_or(at);
        if from == Movement::Anchored {
            let wait_start = self.anchored_since().unwrap_or(at);
            let waited = seconds(wait_start, at).max(0);
            {
                let mut history = ctx.history();
                for zone in self.anchored_in().iter() {
                    history.zone_mut(zone).waits.push_back((at, waited));
                }
            }
            self.dwell.clear(|dwell| {
                dwell.anchored_in = ZoneSet::EMPTY;
                dwell.anchored_since = None;
            });
            if let Some(call) = self.call.as_mut() {
                call.waiting_time_s += waited;
            }
            self.emit_call(ctx, CallStage::WaitEnded);
        }
        if from == Movement::Moored {
            let served = seconds(self.moored_since().unwrap_or(at), at).max(0);
            self.dwell.clear(|dwell| dwell.moored_since = None);
            if let Some(call) = self.call.as_mut() {
                call.service_time_s += served;
                CallStage::Unberthed.stamp(call, at);
            }
            self.emit_call(ctx, CallStage::Unberthed);
        }
        match to {
            Movement::Anchored => {
                let dwell = self.dwell.make_mut();
                dwell.anchored_in = self.zones;
                dwell.anchored_since = Some(began);
                if let Some(call) = self.call.as_mut() {
                    CallStage::Anchored.stamp(call, began);
                }
                self.emit_call(ctx, CallStage::Anchored);
            }
            Movement::Moored => {
                self.dwell.make_mut().moored_since = Some(began);
                let berth = self.zones.and(ctx.masks.berth).first().map(|z| Box::from(ctx.geo.name(z)));
                if let Some(call) = self.call.as_mut() {
                    CallStage::Berthed.stamp(call, began);
                    call.berth = berth;
                }
                self.emit_call(ctx, CallStage::Berthed);
            }
            Movement::UnderWay | Movement::Stopped => {}
        }
    }

    /// Reports the open call reaching `stage` (nothing when no call is
    /// open, or while it is unconfirmed).
    fn emit_call(&self, ctx: &mut Ctx<'_>, stage: CallStage) {
        if self.call_unconfirmed {
            return;
        }
        if let Some(call) = &self.call {
            ctx.out
                .push(Output::PortCall(PortCallUpdate { phase: stage.phase(), call: PortCall::clone(call) }));
        }
    }

    fn check_anomalies(&mut self, ctx: &mut Ctx<'_>, at: DateTime<Utc>) {
        let limited = self.zones.and(ctx.geo.speed_limited()).minus(self.rare.get().speeding_reported);
        for zone in limited.iter() {
            let limit = ctx.geo.zone(zone).speed_limit_kn().unwrap_or(f32::INFINITY);
            if self.smoothed_sog_kn > limit + ctx.cfg.speed_tolerance_kn {
                self.rare.make_mut().speeding_reported.insert(zone);
                ctx.out.push(Output::Anomaly(Anomaly {
                    mmsi: self.mmsi,
                    at,
                    zone: Some(zone),
                    kind: AnomalyKind::Speeding { speed_kn: self.smoothed_sog_kn, limit_kn: limit },
                }));
            }
        }
        if let Some(since) = self.stopped_since
            && !self.rare.get().channel_stop_reported
            && seconds(since, at) >= i64::from(ctx.cfg.channel_stop_after_s)
            && let Some(zone) = self.zones.and(ctx.masks.channel).first()
        {
            self.rare.make_mut().channel_stop_reported = true;
            ctx.out.push(Output::Anomaly(Anomaly {
                mmsi: self.mmsi,
                at,
                zone: Some(zone),
                kind: AnomalyKind::StoppedInChannel { since },
            }));
        }
    }

    /// Reports a hazardous vessel in a restricted zone, once per stay.
    fn check_restricted(&mut self, ctx: &mut Ctx<'_>, at: DateTime<Utc>) {
        let zones = self.zones.and(ctx.masks.restricted).minus(self.rare.get().restricted_reported);
        if zones.is_empty() || !self.hazardous() {
            return;
        }
        let shiptype =
            self.statics.as_ref().filter(|s| s.declares_hazardous_cargo()).and_then(|s| s.shiptype);
        for zone in zones.iter() {
            self.rare.make_mut().restricted_reported.insert(zone);
            // Dated from the stay's start when the ship type declares the
            // hazard (it always did: the report only told us), so the
            // anomaly does not move with when the static-data topic's
            // record happened to be processed against the positions'.
            let entered = self.zone_entered.iter().find(|(z, _)| *z == zone).map(|(_, t)| *t);
            let at = match (shiptype, entered) {
                (Some(_), Some(entered)) => entered,
                _ => at,
            };
            ctx.out.push(Output::Anomaly(Anomaly {
                mmsi: self.mmsi,
                at,
                zone: Some(zone),
                kind: AnomalyKind::HazardousInRestricted {
                    imdg_classes: self.imdg_classes().to_vec(),
                    shiptype,
                },
            }));
        }
    }

    /// Applies static and voyage data: each field the rules read takes the
    /// value of the newest report carrying it ([`StaticData`]). For reports
    /// in event-time order this is [`VesselStatic::merged_with`] of those
    /// fields.
    pub(crate) fn on_static(&mut self, ctx: &mut Ctx<'_>, s: &VesselStatic) -> Processed {
        self.touch(s.timestamp);
        let data = self.statics.get_or_insert_with(|| Box::new(StaticData::new(s.mmsi, s.timestamp)));
        let changed = data.apply(s);
        if changed {
            self.check_restricted(ctx, s.timestamp);
        }
        if changed { Processed::Applied } else { Processed::Duplicate }
    }

    /// Remembers an event id; false when it was already seen.
    fn first_sighting(&mut self, cfg: &PortConfig, id: &str) -> bool {
        let recent = &mut self.recent_ids;
        if recent.iter().any(|seen| &**seen == id) {
            return false;
        }
        if cfg.dedup_window == 0 {
            return true;
        }
        let excess = (recent.len() + 1).saturating_sub(cfg.dedup_window);
        if excess > 0 {
            recent.drain(..excess);
        } else {
            recent.reserve_exact(1);
        }
        recent.push(id.into());
        true
    }

    /// Applies a cargo move.
    pub(crate) fn on_cargo(&mut self, ctx: &mut Ctx<'_>, c: &CargoEvent) -> Processed {
        self.touch(c.timestamp);
        if !self.first_sighting(ctx.cfg, &c.event_id) {
            return Processed::Duplicate;
        }
        self.defer_or_apply(ctx, Deferred::Cargo(c.clone()));
        Processed::Applied
    }

    /// Holds `event` if it is newer than the vessel's last fix, else applies it.
    fn defer_or_apply(&mut self, ctx: &mut Ctx<'_>, event: Deferred) {
        if self.last.as_ref().is_some_and(|fix| event.at() <= fix.at) {
            return self.apply(ctx, &event);
        }
        let deferred = &mut self.rare.make_mut().deferred;
        deferred.push(event);
        if deferred.len() > DEFERRED_MAX {
            self.release_deferred(ctx, true);
        }
    }

    /// Applies, oldest first, the deferred events the last fix reached (and,
    /// if `overflow`, the oldest one whatever its time).
    fn release_deferred(&mut self, ctx: &mut Ctx<'_>, overflow: bool) {
        let mut deferred = match self.rare.get_mut() {
            Some(rare) if !rare.deferred.is_empty() => std::mem::take(&mut rare.deferred),
            _ => return,
        };
        // By event time, then id: the same order however they arrived.
        deferred.sort_by(|a, b| (a.at(), a.id()).cmp(&(b.at(), b.id())));
        let clock = self.last.as_ref().map(|fix| fix.at);
        let due = deferred.iter().take_while(|e| clock.is_some_and(|c| e.at() <= c)).count();
        let due = if overflow { due.max(1) } else { due };
        let rest = deferred.split_off(due);
        for event in deferred.iter() {
            self.apply(ctx, event);
        }
        if rest.is_empty() {
            // Nothing left held: the box goes if nothing else is in it.
            self.rare.tidy();
        } else {
            self.rare.make_mut().deferred = rest;
        }
    }

    fn apply(&mut self, ctx: &mut Ctx<'_>, event: &Deferred) {
        match event {
            Deferred::Ops(e) => self.apply_ops(ctx, e),
            Deferred::Cargo(c) => self.apply_cargo(ctx, c),
        }
    }

    fn apply_cargo(&mut self, ctx: &mut Ctx<'_>, c: &CargoEvent) {
        let teu = u64::from(c.teu);
        let berth = ctx.geo.id(&c.berth);
        match c.operation {
            CargoOperation::Load => {
                self.teu_on_board_change += i64::from(c.teu);
                if let Some(class) = &c.imdg_class
                    && let Err(i) = self.imdg_classes().binary_search(class)
                {
                    let classes = &mut self.rare.make_mut().imdg_classes;
                    // One or two classes per vessel: no spare room for more.
                    classes.reserve_exact(1);
                    classes.insert(i, class.clone());
                }
            }
            CargoOperation::Discharge => self.teu_on_board_change -= i64::from(c.teu),
        }
        if let Some(zone) = berth {
            let mut history = ctx.history();
            let h = history.zone_mut(zone);
            match c.operation {
                CargoOperation::Load => h.teu_loaded += teu,
                CargoOperation::Discharge => h.teu_discharged += teu,
            }
            if ctx.masks.berth.contains(zone) {
                self.assigned_berth = Some(zone);
            }
        }
        let held = self.holds_call_at(c.timestamp);
        let target = self.call_at(c.timestamp);
        if let Some(call) = target {
            match c.operation {
                CargoOperation::Load => call.teu_loaded += teu,
                CargoOperation::Discharge => call.teu_discharged += teu,
            }
            if !held {
                let update = PortCallUpdate { phase: CallPhase::Cargo, call: call.clone() };
                ctx.out.push(Output::PortCall(update));
            }
        }
        self.check_restricted(ctx, c.timestamp);
        // An unknown berth name still counts on the vessel and its call; only
        // the per-berth totals, keyed by configured zones, skip it.
    }

    /// Whether an event at `at` belongs to the open call while it is held
    /// unconfirmed (recorded on it, not emitted).
    fn holds_call_at(&self, at: DateTime<Utc>) -> bool {
        self.call_unconfirmed && self.call.as_ref().is_some_and(|c| at >= c.arrived_at)
    }

    /// The call an event at `at` belongs to: the open one, or the last closed
    /// one if `at` falls within it or [`SERVICES_AFTER_DEPARTURE`] after it.
    fn call_at(&mut self, at: DateTime<Utc>) -> Option<&mut PortCall> {
        if self.call.as_ref().is_some_and(|c| at >= c.arrived_at) {
            return self.call.as_deref_mut();
        }
        if self.last_call().is_some_and(|c| {
            at >= c.arrived_at && c.departed_at.is_none_or(|d| at <= d + SERVICES_AFTER_DEPARTURE)
        }) {
            return self.rare.get_mut().and_then(|rare| rare.last_call.as_deref_mut());
        }
        None
    }

    /// Applies a pilot, tug or mooring event: it is recorded on the port
    /// call it falls in, or kept until the next call opens.
    pub(crate) fn on_ops(&mut self, ctx: &mut Ctx<'_>, e: &PortOpsEvent) -> Processed {
        self.touch(e.timestamp);
        if !self.first_sighting(ctx.cfg, &e.event_id) {
            return Processed::Duplicate;
        }
        self.defer_or_apply(ctx, Deferred::Ops(e.clone()));
        Processed::Applied
    }

    fn apply_ops(&mut self, ctx: &mut Ctx<'_>, e: &PortOpsEvent) {
        if matches!(e.kind, PortOpsKind::MooringCompleted)
            && let Some(zone) = e.berth.as_deref().and_then(|b| ctx.geo.id(b))
            && ctx.masks.berth.contains(zone)
        {
            self.assigned_berth = Some(zone);
        }
        let service = Service {
            event_id: e.event_id.as_str().into(),
            at: e.timestamp,
            kind: e.kind,
            resource: e.resource.as_str().into(),
            berth: e.berth.as_deref().map(Box::from),
        };
        let held = self.holds_call_at(e.timestamp);
        match self.call_at(e.timestamp) {
            Some(call) => {
                if call.services.len() < SERVICES_MAX {
                    let i = call
                        .services
                        .partition_point(|s| (s.at, &s.event_id) <= (service.at, &service.event_id));
                    // A call has a handful of services: grow one at a time
                    // (a `Vec` would reserve four 88-byte slots for the first).
                    call.services.reserve_exact(1);
                    call.services.insert(i, service);
                }
                if !held {
                    let update = PortCallUpdate { phase: CallPhase::Served, call: call.clone() };
                    ctx.out.push(Output::PortCall(update));
                }
            }
            None => {
                let waiting = &mut self.rare.make_mut().unattached_services;
                if waiting.len() < UNATTACHED_MAX {
                    waiting.reserve_exact(1);
                    waiting.push(service);
                }
            }
        }
    }
}
