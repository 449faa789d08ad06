//! `porttrack sim`: the stand-in for a port's sensors.
//!
//! A discrete-event simulation of ships around the Port of Rotterdam
//! ([`port`]): arrivals from sea, waiting at anchor, inbound transit with a
//! pilot, berthing, departure. Each vessel reports its position at the AIS
//! rate its class and state call for (ITU-R M.1371: class A every 2–10 s
//! under way, every 3 min at anchor or moored; class B every 30 s / 3 min)
//! and its static and voyage data every 6 minutes. Around the port calls it
//! also produces what terminal and port systems send: pilot, tug and
//! mooring events when ships move between anchorage, channel and berth
//! (JSON), cargo moves while they are alongside (Avro, single-object
//! encoding, some with an IMDG class), and weather observations from three
//! shore stations every minute, with squalls above the crane gust limit and
//! spells of fog.
//!
//! [`Simulator`] yields records in event-time order and never yields an event
//! later than the caller's clock allows; [`produce`] drives it into Kafka,
//! paced or as fast as possible. A configurable fraction of position records
//! is deliberately invalid, each tagged with the rejection it must cause, so
//! tests can check the pipeline's dead-letter path against ground truth.
//!
//! ```
//! use porttrack::sim::{Expect, SimConfig, Simulator};
//!
//! let mut sim = Simulator::new(SimConfig { vessels: 20, invalid_ratio: 0.1, ..SimConfig::default() });
//! let records: Vec<_> = (0..1_000).map(|_| sim.next_record()).collect();
//! assert!(records.windows(2).all(|w| w[0].event_time <= w[1].event_time));
//! assert!(records.iter().any(|r| matches!(r.expect, Expect::Invalid(_))));
//! ```
//!
//! The simulator also knows what really happened ([`truth`]): built
//! [`with_truth`](Simulator::with_truth) it records every visit's true
//! phases ([`CallTruth`]: crossing the port limits, anchoring, weighing
//! anchor, berthing, casting off, leaving), and built
//! [`with_noise`](Simulator::with_noise) it degrades the reports the way
//! real AIS does ([`Noise`]: lost reports, dark spells, GPS jumps, class B,
//! anchoring outside the anchorages, berth shifts, aborted approaches).
//! Both are off by default, and the default stream for a seed is what it
//! was before they existed. [`score`] runs a noisy simulation through the
//! port processor and scores its port calls against the truth.
//!
//! Longer than 600 lines (about 950 without its tests) on purpose: the event
//! loop and the emitters it schedules (positions, static data, operations,
//! cargo, weather) share the simulation's clock and fleet state, and the
//! ground truth is recorded where the vessels move; the port model itself is
//! in `port.rs`, the truth and noise types in `truth.rs`, the scoring in
//! `score.rs` and the Kafka producer in `produce.rs`.

mod nmea;
pub(crate) mod port;
mod produce;
pub mod score;
pub mod truth;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};

use chrono::{DateTime, Duration, DurationRound, Timelike, Utc};
use porttrack_schemas::{
    CargoEvent, CargoOperation, Event, NavStatus, PortOpsEvent, PortOpsKind, Position, RejectClass,
    WeatherObservation,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub use nmea::NmeaReceiver;
pub use produce::{AckedRecord, NmeaOptions, ProduceOptions, ProduceReport, produce};
pub use truth::{CallTruth, Noise};

use port::{BERTHS, CHANNEL_START, ENTRANCE, LatLon, SEA_POINTS, STATIONS, TERMINALS, places};

/// What the simulation generates.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Ships in the simulation at any time.
    pub vessels: usize,
    /// Seed: the same seed and start give the same records.
    pub seed: u64,
    /// Simulated clock at the first record.
    pub start: DateTime<Utc>,
    /// Fraction of position records made invalid on purpose (0.0–1.0).
    pub invalid_ratio: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { vessels: 200, seed: 7, start: Utc::now(), invalid_ratio: 0.0 }
    }
}

/// Which stream a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// Position reports (JSON).
    Positions,
    /// Static and voyage data (AIS types 5/24).
    Static,
    /// Weather observations (JSON).
    Weather,
    /// Cargo moves (Avro, single-object encoding).
    Cargo,
    /// Pilot, tug and mooring events (JSON).
    Ops,
    /// Raw `!AIVDM` sentences of the vessels an [`NmeaReceiver`] hears.
    Nmea,
}

/// What the pipeline must do with a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// A valid position: the pipeline must store exactly this.
    Valid(Position),
    /// An invalid position: the pipeline must dead-letter it with this class.
    Invalid(RejectClass),
    /// A static/voyage report of `mmsi` at `at` (merged into the vessel's row).
    Static {
        /// The vessel.
        mmsi: u32,
        /// The report's time.
        at: DateTime<Utc>,
    },
    /// A weather, cargo or operations event (valid), by its natural key.
    Event(EventKey),
    /// A fragment of a multi-sentence NMEA message: nothing of its own to
    /// store; the record completing the message carries the event.
    Fragment,
}

/// What identifies a weather, cargo or operations event in its store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKey {
    /// A weather observation: its station and time.
    Weather {
        /// The station.
        station: String,
        /// The observation's time.
        at: DateTime<Utc>,
    },
    /// A cargo move: the terminal's event id.
    Cargo(String),
    /// A port operations event: the operator's event id.
    Ops(String),
}

/// One generated Kafka record.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRecord {
    /// Target stream.
    pub stream: Stream,
    /// Record key: the MMSI in decimal, so a vessel's records share a partition.
    pub key: String,
    /// JSON payload.
    pub payload: Vec<u8>,
    /// Event time.
    pub event_time: DateTime<Utc>,
    /// Ground truth for tests.
    pub expect: Expect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// From sea towards an anchorage or straight to the channel.
    Approaching,
    /// Waiting at anchor until `until`.
    Anchored,
    /// Channel and inner harbour towards the berth.
    Inbound,
    /// Alongside until `until`.
    Moored,
    /// From the berth back to sea.
    Outbound,
    /// Out of receiver range until `until`; no reports.
    Away,
}

#[derive(Debug)]
struct Vessel {
    mmsi: u32,
    class_b: bool,
    name: String,
    call_sign: String,
    imo: u32,
    ship_type: u8,
    dims: (u16, u16, u8, u8),
    draught: f32,
    terminal: usize,
    phase: Phase,
    until: DateTime<Utc>,
    pos: LatLon,
    /// Remaining waypoints with the speed (knots) to make towards each.
    path: Vec<(LatLon, f64)>,
    heading: f64,
    updated: DateTime<Utc>,
    /// Inside the port limits (ground truth, not what the reports show).
    inside: bool,
    /// The visit in progress (ground truth).
    call: Option<CallTruth>,
    /// Visits that ended since the simulator last collected them.
    finished: Vec<CallTruth>,
    /// When the current stop at anchor or alongside began.
    stop_since: Option<DateTime<Utc>>,
    /// Sailing back to sea after an aborted approach.
    aborting: bool,
    /// Reports suppressed until then (a dark spell).
    dark_until: Option<DateTime<Utc>>,
    /// A GPS jump in progress: reports left and the displacement (degrees).
    jump: Option<(u8, (f64, f64))>,
}

/// The noise and its own random generator, lent to a vessel while it moves.
struct Chaos<'a> {
    noise: &'a Noise,
    rng: &'a mut SmallRng,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Position,
    Static,
    /// A weather station's observation.
    Weather(usize),
    /// A cargo move (the move's number) of a vessel alongside.
    Cargo(u8),
}

/// A weather station's state: a random walk with squalls and fog spells.
#[derive(Debug, Clone)]
struct Station {
    wind_kn: f64,
    direction: f64,
    squall_until: Option<DateTime<Utc>>,
    fog_until: Option<DateTime<Utc>>,
}

/// A report due: (when, tie-breaking sequence, vessel index, what).
type Scheduled = (DateTime<Utc>, u64, usize, Kind);

/// The simulation. Yields records in event-time order.
#[derive(Debug)]
pub struct Simulator {
    config: SimConfig,
    rng: SmallRng,
    vessels: Vec<Vessel>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    /// Records due at the current event time (port operations at a phase change).
    pending: VecDeque<SimRecord>,
    stations: Vec<Station>,
    /// Encodes cargo events (Avro single-object); `None` leaves them out.
    avro: Option<porttrack_ingest::decode::AvroCatalog>,
    events: u64,
    noise: Noise,
    /// Draws for the noise only, so noise never shifts the main sequence.
    noise_rng: SmallRng,
    /// Finished visits, when ground truth is recorded.
    truth: Option<Vec<CallTruth>>,
}

const MIDS: &[u32] = &[244, 245, 211, 636, 538, 477, 357, 563, 219, 235, 249, 255];
const WORDS_A: &[&str] = &[
    "NORDIC",
    "MAAS",
    "EVER",
    "STAR",
    "OCEAN",
    "BALTIC",
    "ATLANTIC",
    "SILVER",
    "GOLDEN",
    "EASTERN",
    "ROTTERDAM",
    "NEW",
];
const WORDS_B: &[&str] = &[
    "TRADER", "SPIRIT", "PIONEER", "HARMONY", "EXPRESS", "CARRIER", "GLORY", "WAVE", "HORIZON", "BRIDGE",
    "LION", "ELBA",
];

impl Simulator {
    /// A simulation of `config.vessels` ships, spread over every phase of a port call.
    pub fn new(config: SimConfig) -> Self {
        let mut rng = SmallRng::seed_from_u64(config.seed);
        let noise_seed = config.seed ^ 0x006e_6f69_7365; // "noise"
        let start = config.start.duration_trunc(Duration::milliseconds(1)).unwrap_or(config.start);
        let mut used = HashSet::new();
        let mut vessels = Vec::with_capacity(config.vessels);
        for _ in 0..config.vessels {
            let mmsi = loop {
                let m = MIDS[rng.random_range(0..MIDS.len())] * 1_000_000 + rng.random_range(0..1_000_000);
                if used.insert(m) {
                    break m;
                }
            };
            vessels.push(Vessel::spawn(mmsi, start, &mut rng));
        }
        let stations = STATIONS
            .iter()
            .map(|_| Station {
                wind_kn: rng.random_range(10.0..25.0),
                direction: rng.random_range(180.0..300.0),
                squall_until: None,
                fog_until: None,
            })
            .collect();
        let avro = porttrack_ingest::decode::AvroCatalog::new(Default::default()).ok();
        let mut sim = Simulator {
            config,
            rng,
            vessels,
            queue: BinaryHeap::new(),
            seq: 0,
            pending: VecDeque::new(),
            stations,
            avro,
            events: 0,
            noise: Noise::default(),
            noise_rng: SmallRng::seed_from_u64(noise_seed),
            truth: None,
        };
        for s in 0..STATIONS.len() {
            let at = start + Duration::milliseconds(sim.rng.random_range(0..60_000));
            sim.schedule(at, s, Kind::Weather(s));
        }
        for i in 0..sim.vessels.len() {
            // Stagger first reports so the stream does not start with a burst.
            let p = start + Duration::milliseconds(sim.rng.random_range(0..10_000));
            let s = start + Duration::milliseconds(sim.rng.random_range(0..360_000));
            sim.schedule(p, i, Kind::Position);
            sim.schedule(s, i, Kind::Static);
        }
        sim
    }

    fn schedule(&mut self, at: DateTime<Utc>, vessel: usize, kind: Kind) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, vessel, kind)));
    }

    /// Event time of the next record.
    pub fn peek_time(&self) -> Option<DateTime<Utc>> {
        self.queue.peek().map(|Reverse((t, ..))| *t)
    }

    /// The vessels' MMSIs.
    pub fn mmsis(&self) -> Vec<u32> {
        self.vessels.iter().map(|v| v.mmsi).collect()
    }

    /// The same simulation with `noise` on the reports and the traffic (see
    /// [`Noise`]). Call it before the first record.
    pub fn with_noise(mut self, noise: Noise) -> Self {
        if let Some(share) = noise.class_b {
            for v in &mut self.vessels {
                v.class_b = self.noise_rng.random_bool(share.clamp(0.0, 1.0));
            }
        }
        self.noise = noise;
        self
    }

    /// The same simulation, keeping every finished visit's ground truth for
    /// [`truth`](Self::truth). Memory grows with the visits: for tests and
    /// scoring, not for a long-running producer.
    pub fn with_truth(mut self) -> Self {
        self.truth = Some(Vec::new());
        self
    }

    /// Finished visits so far, in the order they ended (empty unless built
    /// [`with_truth`](Self::with_truth)): cheap to poll while running.
    pub fn finished_truth(&self) -> &[CallTruth] {
        self.truth.as_deref().unwrap_or_default()
    }

    /// Ground truth of every visit so far, finished ones first (in the
    /// order they ended), then those in progress (by vessel). Empty unless
    /// built [`with_truth`](Self::with_truth).
    pub fn truth(&self) -> Vec<CallTruth> {
        let Some(finished) = &self.truth else { return Vec::new() };
        let mut all = finished.clone();
        all.extend(self.vessels.iter().filter_map(|v| v.call.clone()));
        all
    }

    /// The next record in event-time order. The queue is never empty: every
    /// vessel always has a next report scheduled.
    pub fn next_record(&mut self) -> SimRecord {
        loop {
            if let Some(record) = self.pending.pop_front() {
                return record;
            }
            let Some(Reverse((at, _, i, kind))) = self.queue.pop() else {
                unreachable!("every vessel always has its next report scheduled");
            };
            match kind {
                Kind::Weather(s) => {
                    self.schedule(at + Duration::minutes(1), s, kind);
                    return self.weather_record(s, at);
                }
                Kind::Cargo(n) => {
                    if let Some(record) = self.cargo_record(i, n, at) {
                        return record;
                    }
                    continue;
                }
                Kind::Position | Kind::Static => {}
            }
            let before = self.vessels[i].phase;
            let mut chaos = Chaos { noise: &self.noise, rng: &mut self.noise_rng };
            self.vessels[i].advance(at, &mut self.rng, &mut chaos);
            if self.vessels[i].phase != before {
                self.phase_changed(i, before, at);
            }
            let finished = &mut self.vessels[i].finished;
            if !finished.is_empty() {
                match self.truth.as_mut() {
                    Some(truth) => truth.append(finished),
                    None => finished.clear(),
                }
            }
            let v = &self.vessels[i];
            if v.phase == Phase::Away {
                // Out of range: look again when it is back.
                let back = v.until.max(at + Duration::seconds(1));
                self.schedule(back, i, kind);
                continue;
            }
            return match kind {
                Kind::Static => {
                    let record = self.vessels[i].static_record(at);
                    self.schedule(at + Duration::minutes(6), i, Kind::Static);
                    record
                }
                Kind::Position => {
                    let (position, interval) = self.vessels[i].report(at, &mut self.rng);
                    let mut chaos = Chaos { noise: &self.noise, rng: &mut self.noise_rng };
                    let (position, interval) = self.vessels[i].distort(position, interval, &mut chaos);
                    self.schedule(at + interval, i, Kind::Position);
                    match position {
                        Some(position) => self.position_record(position),
                        None => continue, // lost, or the vessel is dark
                    }
                }
                Kind::Weather(_) | Kind::Cargo(_) => unreachable!("handled above"),
            };
        }
    }

    /// Port operations when a vessel changes phase; cargo moves once alongside.
    fn phase_changed(&mut self, i: usize, before: Phase, at: DateTime<Utc>) {
        let after = self.vessels[i].phase;
        let berth = BERTHS.get(self.vessels[i].terminal).copied();
        let tug = format!("SMIT {}", ["ORCA", "HUDSON", "ELBE", "NJORD"][self.rng.random_range(0..4)]);
        let pilot = format!("pilot-{:02}", self.rng.random_range(1..60));
        let crew = format!("moor-{}", self.rng.random_range(1..9));
        let shift = if (6..18).contains(&at.time().hour()) { "day" } else { "night" };
        let ops: Vec<(PortOpsKind, String, Option<&str>)> = match (before, after) {
            (_, Phase::Inbound) => vec![(PortOpsKind::PilotBoarded, pilot, None)],
            (_, Phase::Moored) => vec![
                (PortOpsKind::TugAssigned, tug.clone(), berth),
                (PortOpsKind::MooringCompleted, crew, berth),
                (PortOpsKind::TugReleased, tug, berth),
                (PortOpsKind::PilotDisembarked, pilot, berth),
            ],
            (Phase::Moored, Phase::Outbound) => vec![
                (PortOpsKind::PilotBoarded, pilot, berth),
                (PortOpsKind::TugAssigned, tug.clone(), berth),
                (PortOpsKind::UnmooringCompleted, crew, berth),
                (PortOpsKind::TugReleased, tug, berth),
            ],
            (Phase::Outbound, Phase::Away) => vec![(PortOpsKind::PilotDisembarked, pilot, None)],
            _ => Vec::new(),
        };
        let mmsi = self.vessels[i].mmsi;
        for (kind, resource, berth) in ops {
            self.events += 1;
            let event = PortOpsEvent {
                event_id: format!("ops-{mmsi}-{}", self.events),
                timestamp: at,
                mmsi,
                kind,
                resource,
                shift: Some(shift.to_owned()),
                berth: berth.map(str::to_owned),
            };
            self.pending.push_back(SimRecord {
                stream: Stream::Ops,
                key: mmsi.to_string(),
                payload: serde_json::to_vec(&event).unwrap_or_default(),
                event_time: at,
                expect: Expect::Event(EventKey::Ops(event.event_id)),
            });
        }
        if after == Phase::Moored && (70..80).contains(&self.vessels[i].ship_type) {
            // Discharge, then load, while alongside.
            let (discharge, load) = (self.rng.random_range(30..90), self.rng.random_range(120..240));
            self.schedule(at + Duration::minutes(discharge), i, Kind::Cargo(0));
            self.schedule(at + Duration::minutes(load), i, Kind::Cargo(1));
        }
    }

    fn cargo_record(&mut self, i: usize, n: u8, at: DateTime<Utc>) -> Option<SimRecord> {
        let v = &self.vessels[i];
        if v.phase != Phase::Moored {
            return None; // left early: the move did not happen
        }
        let containers = self.rng.random_range(20..400_u32);
        let teu = containers + self.rng.random_range(0..=containers / 2);
        let imdg = self
            .rng
            .random_bool(0.1)
            .then(|| ["2.1", "3", "6.1", "8", "9"][self.rng.random_range(0..5)].to_owned());
        self.events += 1;
        let event_id = format!("cargo-{}-{}", v.mmsi, self.events);
        let event = Event::Cargo(Box::new(CargoEvent {
            event_id: event_id.clone(),
            timestamp: at,
            mmsi: v.mmsi,
            voyage: Some(format!("{:03}{}", self.events % 1000, if n == 0 { "E" } else { "W" })),
            berth: BERTHS.get(v.terminal).copied().unwrap_or("Europoort").to_owned(),
            operation: if n == 0 { CargoOperation::Discharge } else { CargoOperation::Load },
            containers,
            teu,
            imdg_class: imdg,
        }));
        let payload = porttrack_ingest::decode::avro::encode(self.avro.as_ref()?, &event, None).ok()?;
        Some(SimRecord {
            stream: Stream::Cargo,
            key: v.mmsi.to_string(),
            payload,
            event_time: at,
            expect: Expect::Event(EventKey::Cargo(event_id)),
        })
    }

    fn weather_record(&mut self, s: usize, at: DateTime<Utc>) -> SimRecord {
        let (id, zone, pos) = STATIONS[s];
        let rng = &mut self.rng;
        let st = &mut self.stations[s];
        st.wind_kn = (st.wind_kn + rng.random_range(-1.5..1.5)).clamp(4.0, 32.0);
        st.direction = (st.direction + rng.random_range(-5.0..5.0)).rem_euclid(360.0);
        if st.squall_until.is_none_or(|t| t < at) && rng.random_bool(0.005) {
            st.squall_until = Some(at + Duration::minutes(rng.random_range(10..25)));
        }
        if st.fog_until.is_none_or(|t| t < at) && rng.random_bool(0.002) {
            st.fog_until = Some(at + Duration::minutes(rng.random_range(30..90)));
        }
        let squall = st.squall_until.is_some_and(|t| t >= at);
        let gust =
            if squall { rng.random_range(40.0..52.0) } else { st.wind_kn * rng.random_range(1.2..1.5) };
        let visibility = if st.fog_until.is_some_and(|t| t >= at) {
            rng.random_range(0.2..0.9)
        } else {
            rng.random_range(3.0..12.0)
        };
        let round1 = |x: f64| ((x * 10.0).round() / 10.0) as f32;
        let observation = WeatherObservation {
            station: id.to_owned(),
            timestamp: at,
            lat: zone.is_none().then_some(pos.0),
            lon: zone.is_none().then_some(pos.1),
            zone: zone.map(str::to_owned),
            wind_speed_kn: Some(round1(st.wind_kn)),
            wind_gust_kn: Some(round1(gust)),
            wind_direction_deg: Some(st.direction.round() as u16 % 360),
            visibility_nm: Some(round1(visibility)),
            wave_height_m: Some(round1(st.wind_kn / 12.0)),
            pressure_hpa: Some(round1(1013.0 - st.wind_kn / 3.0)),
            air_temperature_c: Some(8.5),
        };
        SimRecord {
            stream: Stream::Weather,
            key: id.to_owned(),
            payload: serde_json::to_vec(&observation).unwrap_or_default(),
            event_time: at,
            expect: Expect::Event(EventKey::Weather { station: id.to_owned(), at }),
        }
    }

    fn position_record(&mut self, position: Position) -> SimRecord {
        let key = position.mmsi.to_string();
        let event_time = position.timestamp;
        if self.config.invalid_ratio > 0.0 && self.rng.random_bool(self.config.invalid_ratio.clamp(0.0, 1.0))
        {
            let (payload, class) = self.corrupt(position);
            return SimRecord {
                stream: Stream::Positions,
                key,
                payload,
                event_time,
                expect: Expect::Invalid(class),
            };
        }
        let payload = serde_json::to_vec(&position).unwrap_or_default();
        SimRecord { stream: Stream::Positions, key, payload, event_time, expect: Expect::Valid(position) }
    }

    /// The faults real feeds show: truncated payloads, short MMSIs, a latitude
    /// with the wrong sign convention or scale, clocks reset to the epoch.
    fn corrupt(&mut self, mut p: Position) -> (Vec<u8>, RejectClass) {
        let class = match self.rng.random_range(0..4) {
            0 => {
                let full = serde_json::to_vec(&p).unwrap_or_default();
                let cut = self.rng.random_range(1..full.len().max(2));
                return (full[..cut].to_vec(), RejectClass::MalformedJson);
            }
            1 => {
                p.mmsi /= 10;
                RejectClass::MmsiInvalid
            }
            2 => {
                p.lat = 91.0 + self.rng.random_range(0.0..90.0);
                RejectClass::LatOutOfRange
            }
            _ => {
                p.timestamp =
                    DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(self.rng.random_range(0..86_400));
                RejectClass::TimestampAbsurd
            }
        };
        (serde_json::to_vec(&p).unwrap_or_default(), class)
    }
}

fn pick(rng: &mut SmallRng, points: &[LatLon]) -> LatLon {
    points[rng.random_range(0..points.len())]
}

fn jitter(around: LatLon, nm: f64, rng: &mut SmallRng) -> LatLon {
    let dlat = rng.random_range(-nm..=nm) / 60.0;
    let dlon = rng.random_range(-nm..=nm) / 60.0 / around.0.to_radians().cos();
    (around.0 + dlat, around.1 + dlon)
}

fn hours(rng: &mut SmallRng, lo: f64, hi: f64) -> Duration {
    Duration::seconds((rng.random_range(lo..hi) * 3600.0) as i64)
}

impl Vessel {
    fn spawn(mmsi: u32, now: DateTime<Utc>, rng: &mut SmallRng) -> Vessel {
        let class_b = rng.random_bool(0.1);
        let length = if class_b { rng.random_range(10..25) } else { rng.random_range(80..400) };
        let beam = (length / 7).clamp(4, 60) as u8;
        let bow = length * rng.random_range(60..80) / 100;
        let name = format!(
            "{} {}",
            WORDS_A[rng.random_range(0..WORDS_A.len())],
            WORDS_B[rng.random_range(0..WORDS_B.len())]
        );
        let mut v = Vessel {
            mmsi,
            class_b,
            name,
            call_sign: format!(
                "P{}{:03}",
                char::from(b'A' + rng.random_range(0..26_u8)),
                rng.random_range(0..1000)
            ),
            imo: if class_b { 0 } else { rng.random_range(9_000_000..9_999_999) },
            ship_type: if class_b { 37 } else { [70, 71, 74, 80, 84, 60][rng.random_range(0..6)] },
            dims: (bow, length - bow, beam / 2, beam - beam / 2),
            draught: if class_b { 1.5 } else { rng.random_range(6.0..16.0) },
            terminal: rng.random_range(0..TERMINALS.len()),
            phase: Phase::Away,
            until: now,
            pos: SEA_POINTS[0],
            path: Vec::new(),
            heading: rng.random_range(0.0..360.0),
            updated: now,
            inside: false,
            call: None,
            finished: Vec::new(),
            stop_since: None,
            aborting: false,
            dark_until: None,
            jump: None,
        };
        // Spread the fleet over a port call's phases.
        match rng.random_range(0..100) {
            0..25 => {
                // The initial spread has no noise: nothing is drawn from `quiet`.
                let (off, mut quiet) = (Noise::default(), SmallRng::seed_from_u64(0));
                v.arrive(rng, &mut Chaos { noise: &off, rng: &mut quiet });
                let first = v.path.first().map_or(v.pos, |w| w.0);
                v.pos = port::advance(v.pos, first, rng.random_range(0.0..port::distance_nm(v.pos, first)));
            }
            25..45 => {
                v.phase = Phase::Anchored;
                v.pos = jitter(pick(rng, &places().anchorages), 1.5, rng);
                v.until = now + hours(rng, 0.2, 6.0);
            }
            45..55 => {
                v.pos = CHANNEL_START;
                v.go_inbound();
            }
            55..90 => v.moor(now, rng),
            _ => {
                v.moor(now, rng);
                v.go_outbound(rng);
            }
        }
        // Already inside: a visit whose arrival the simulation never saw.
        v.inside = port::in_port_limits(v.pos);
        if v.inside {
            v.call = Some(CallTruth::open(mmsi, None, false));
            if matches!(v.phase, Phase::Anchored | Phase::Moored) {
                v.stop_since = Some(now);
            }
        }
        v
    }

    fn arrive(&mut self, rng: &mut SmallRng, chaos: &mut Chaos<'_>) {
        self.pos = jitter(pick(rng, SEA_POINTS), 2.0, rng);
        self.phase = Phase::Approaching;
        let speed = rng.random_range(11.0..16.0);
        self.path = if rng.random_bool(0.6) {
            vec![(jitter(pick(rng, &places().anchorages), 1.5, rng), speed)]
        } else {
            vec![(CHANNEL_START, speed)]
        };
        let noise = chaos.noise;
        let target = self.path[0].0;
        if noise.aborted_approach > 0.0 && chaos.rng.random_bool(noise.aborted_approach) {
            // Cross the limits, get most of the way, turn back to sea.
            for _ in 0..20 {
                let f = chaos.rng.random_range(0.8..0.95);
                let turn = port::advance(self.pos, target, port::distance_nm(self.pos, target) * f);
                if port::in_port_limits(turn) {
                    let sea = pick(chaos.rng, SEA_POINTS);
                    self.path = vec![(turn, speed), (sea, 14.0)];
                    self.aborting = true;
                    return;
                }
            }
        }
        if target != CHANNEL_START
            && noise.anchor_outside > 0.0
            && chaos.rng.random_bool(noise.anchor_outside)
        {
            // A spot 3–5 nm from an anchorage's centre: inside the port
            // limits, outside every anchorage, channel and berth.
            for _ in 0..20 {
                let centre = pick(chaos.rng, &places().anchorages);
                let bearing = chaos.rng.random_range(0.0..360.0_f64).to_radians();
                let nm = chaos.rng.random_range(3.0..5.0);
                let lat = centre.0 + nm * bearing.cos() / 60.0;
                let lon = centre.1 + nm * bearing.sin() / 60.0 / centre.0.to_radians().cos();
                if port::open_water_in_port((lat, lon)) {
                    self.path = vec![((lat, lon), speed)];
                    return;
                }
            }
        }
    }

    /// Ground truth: the vessel moved from `a` at `ta` to `b` at `tb` in a
    /// straight line; if that crossed the port limits, the visit opens or
    /// closes at the crossing (found by bisection, to the millisecond).
    fn crossed(&mut self, a: LatLon, ta: DateTime<Utc>, b: LatLon, tb: DateTime<Utc>) {
        let inside = port::in_port_limits(b);
        if inside == self.inside {
            return;
        }
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        for _ in 0..40 {
            let mid = (lo + hi) / 2.0;
            let p = (a.0 + (b.0 - a.0) * mid, a.1 + (b.1 - a.1) * mid);
            if port::in_port_limits(p) == inside {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let at = ta + Duration::milliseconds(((tb - ta).num_milliseconds() as f64 * hi).round() as i64);
        self.inside = inside;
        if inside {
            if self.call.is_none() {
                self.call = Some(CallTruth::open(self.mmsi, Some(at), self.aborting));
            }
        } else if let Some(mut call) = self.call.take() {
            call.departed_at = Some(at);
            self.finished.push(call);
        }
    }

    fn go_inbound(&mut self) {
        self.phase = Phase::Inbound;
        self.path = vec![(CHANNEL_START, 10.0), (ENTRANCE, 10.0)];
        self.path.extend(places().routes[self.terminal].iter().map(|p| (*p, 6.0)));
    }

    fn moor(&mut self, now: DateTime<Utc>, rng: &mut SmallRng) {
        self.phase = Phase::Moored;
        self.pos = places().routes[self.terminal].last().copied().unwrap_or(ENTRANCE);
        self.path.clear();
        self.until = now + hours(rng, 0.5, 24.0);
    }

    /// Casts off for another terminal's berth: back to the entrance and in
    /// along the other terminal's route, the port call still open.
    fn shift_berth(&mut self, chaos: &mut Chaos<'_>) {
        let from = self.terminal;
        let to = (from + chaos.rng.random_range(1..TERMINALS.len())) % TERMINALS.len();
        self.phase = Phase::Inbound;
        self.path = places().routes[from].iter().rev().skip(1).map(|p| (*p, 6.0)).collect();
        self.path.push((ENTRANCE, 6.0));
        self.path.extend(places().routes[to].iter().map(|p| (*p, 6.0)));
        self.terminal = to;
        if let Some(call) = self.call.as_mut() {
            call.berth_shifts += 1;
        }
    }

    /// Noise on one report: lost, dark or displaced, and the interval to the
    /// next one jittered. Without noise, exactly `(Some(position), interval)`.
    fn distort(
        &mut self,
        mut position: Position,
        interval: Duration,
        chaos: &mut Chaos<'_>,
    ) -> (Option<Position>, Duration) {
        let noise = chaos.noise;
        if noise.is_off() {
            return (Some(position), interval);
        }
        let rng = &mut *chaos.rng;
        let t = position.timestamp;
        let interval = if noise.interval_jitter > 0.0 {
            let j = noise.interval_jitter.clamp(0.0, 0.9);
            Duration::milliseconds(
                (interval.num_milliseconds() as f64 * rng.random_range(1.0 - j..1.0 + j)) as i64,
            )
        } else {
            interval
        };
        if self.dark_until.is_some_and(|until| t < until) {
            return (None, interval);
        }
        self.dark_until = None;
        let hours = interval.num_milliseconds() as f64 / 3_600_000.0;
        if noise.dark_per_hour > 0.0 && rng.random_bool((noise.dark_per_hour * hours).clamp(0.0, 1.0)) {
            let (lo, hi) = noise.dark_minutes;
            let minutes = if hi > lo { rng.random_range(lo..hi) } else { lo };
            self.dark_until = Some(t + Duration::milliseconds((minutes * 60_000.0) as i64));
            self.jump = None;
            if let Some(call) = self.call.as_mut() {
                call.dark_spells += 1;
            }
            return (None, interval);
        }
        if noise.dropout > 0.0 && rng.random_bool(noise.dropout.clamp(0.0, 1.0)) {
            return (None, interval);
        }
        if self.jump.is_none() && noise.gps_jump > 0.0 && rng.random_bool(noise.gps_jump.clamp(0.0, 1.0)) {
            let fixes = match rng.random_range(0..10) {
                0..7 => 1,
                7..9 => 2,
                _ => 3,
            };
            let (lo, hi) = noise.jump_nm;
            let nm = if hi > lo { rng.random_range(lo..hi) } else { lo };
            let bearing = rng.random_range(0.0..360.0_f64).to_radians();
            let offset =
                (nm * bearing.cos() / 60.0, nm * bearing.sin() / 60.0 / position.lat.to_radians().cos());
            self.jump = Some((fixes, offset));
            if let Some(call) = self.call.as_mut() {
                call.gps_jumps += 1;
            }
        }
        if let Some((left, (dlat, dlon))) = self.jump {
            position.lat = ((position.lat + dlat) * 1e6).round() / 1e6;
            position.lon = ((position.lon + dlon) * 1e6).round() / 1e6;
            self.jump = (left > 1).then_some((left - 1, (dlat, dlon)));
        }
        (Some(position), interval)
    }

    fn go_outbound(&mut self, rng: &mut SmallRng) {
        self.phase = Phase::Outbound;
        let route = places().routes[self.terminal].as_slice();
        self.path = route.iter().rev().skip(1).map(|p| (*p, 6.0)).collect();
        self.path.push((ENTRANCE, 6.0));
        self.path.push((CHANNEL_START, 12.0));
        self.path.push((jitter(pick(rng, SEA_POINTS), 2.0, rng), 14.0));
    }

    /// Moves the vessel's state forward to `t`.
    fn advance(&mut self, t: DateTime<Utc>, rng: &mut SmallRng, chaos: &mut Chaos<'_>) {
        let mut now = self.updated;
        while now < t {
            match self.phase {
                Phase::Anchored | Phase::Moored | Phase::Away if t < self.until => break,
                Phase::Anchored => {
                    let (until, since) = (self.until, self.stop_since.take());
                    if let Some(call) = self.call.as_mut() {
                        call.wait_end = Some(until);
                        call.waiting_s += since.map_or(0, |s| (until - s).num_seconds());
                    }
                    self.go_inbound();
                }
                Phase::Moored => {
                    let (until, since) = (self.until, self.stop_since.take());
                    let shifts = self.call.as_ref().map_or(1, |c| c.berth_shifts);
                    if let Some(call) = self.call.as_mut() {
                        call.unberthed_at = Some(until);
                        call.service_s += since.map_or(0, |s| (until - s).num_seconds());
                    }
                    let noise = chaos.noise;
                    if shifts == 0 && noise.berth_shift > 0.0 && chaos.rng.random_bool(noise.berth_shift) {
                        self.shift_berth(chaos);
                    } else {
                        self.go_outbound(rng);
                    }
                }
                Phase::Away => {
                    self.terminal = rng.random_range(0..TERMINALS.len());
                    self.arrive(rng, chaos);
                }
                Phase::Approaching | Phase::Inbound | Phase::Outbound => {
                    let Some(&(target, speed)) = self.path.first() else {
                        self.finish_leg(now, rng);
                        continue;
                    };
                    let dt_h = (t - now).num_milliseconds() as f64 / 3_600_000.0;
                    let to_go = port::distance_nm(self.pos, target);
                    let (from, since) = (self.pos, now);
                    if speed * dt_h < to_go {
                        self.heading = port::bearing_deg(self.pos, target);
                        self.pos = port::advance(self.pos, target, speed * dt_h);
                        now = t;
                        self.crossed(from, since, self.pos, now);
                    } else {
                        now += Duration::milliseconds((to_go / speed * 3_600_000.0) as i64);
                        self.pos = target;
                        self.path.remove(0);
                        self.crossed(from, since, self.pos, now);
                        if self.path.is_empty() {
                            self.finish_leg(now, rng);
                        }
                    }
                    continue;
                }
            }
            now = now.max(self.until.min(t));
        }
        self.updated = t;
    }

    fn finish_leg(&mut self, now: DateTime<Utc>, rng: &mut SmallRng) {
        match self.phase {
            Phase::Approaching if self.aborting => {
                self.aborting = false;
                self.phase = Phase::Away;
                self.until = now + hours(rng, 0.5, 3.0);
            }
            Phase::Approaching if port::distance_nm(self.pos, CHANNEL_START) < 0.1 => self.go_inbound(),
            Phase::Approaching => {
                self.phase = Phase::Anchored;
                self.until = now + hours(rng, 0.5, 8.0);
                self.stop_since = Some(now);
                let outside = !port::in_anchorage(self.pos);
                if let Some(call) = self.call.as_mut() {
                    call.anchored_at.get_or_insert(now);
                    call.anchored_outside |= outside;
                }
            }
            Phase::Inbound => {
                self.moor(now, rng);
                self.stop_since = Some(now);
                if let Some(call) = self.call.as_mut() {
                    call.berthed_at.get_or_insert(now);
                    call.berth = BERTHS.get(self.terminal).map(|b| (*b).to_owned());
                }
            }
            _ => {
                self.phase = Phase::Away;
                self.until = now + hours(rng, 0.5, 3.0);
            }
        }
    }

    /// A position report at `t` and the interval to the next one.
    fn report(&mut self, t: DateTime<Utc>, rng: &mut SmallRng) -> (Position, Duration) {
        let (pos, sog, cog, status) = match self.phase {
            Phase::Anchored => {
                let swing = jitter(self.pos, 0.02, rng);
                let heading = (self.heading + rng.random_range(-5.0..5.0)).rem_euclid(360.0);
                self.heading = heading;
                (swing, rng.random_range(0.0..0.4), heading, NavStatus::AtAnchor)
            }
            Phase::Moored => (self.pos, 0.0, self.heading, NavStatus::Moored),
            _ => {
                let speed = self.path.first().map_or(0.0, |w| w.1);
                let cog = (self.heading + rng.random_range(-2.0..2.0)).rem_euclid(360.0);
                (
                    self.pos,
                    (speed + rng.random_range(-0.3..0.3)).max(0.0),
                    cog,
                    NavStatus::UnderWayUsingEngine,
                )
            }
        };
        let interval_s = match (self.class_b, self.phase, sog) {
            (_, Phase::Anchored | Phase::Moored, _) => 180.0,
            (true, _, _) => 30.0,
            (false, _, s) if s > 23.0 => 2.0,
            (false, _, s) if s > 14.0 => 6.0,
            _ => 10.0,
        };
        let jittered = interval_s * rng.random_range(0.9..1.1);
        let position = Position {
            mmsi: self.mmsi,
            timestamp: t,
            lat: (pos.0 * 1e6).round() / 1e6,
            lon: (pos.1 * 1e6).round() / 1e6,
            sog: Some(((sog * 10.0).round() / 10.0) as f32),
            cog: Some((((cog * 10.0).round() / 10.0) % 360.0) as f32),
            heading: Some((self.heading.round() as u16) % 360),
            nav_status: (!self.class_b).then_some(status.code()),
        };
        (position, Duration::milliseconds((jittered * 1000.0) as i64))
    }

    fn static_record(&self, t: DateTime<Utc>) -> SimRecord {
        let destination = match self.phase {
            Phase::Outbound | Phase::Away => "GBFXT",
            _ => "NLRTM",
        };
        let report = porttrack_schemas::VesselStatic {
            mmsi: self.mmsi,
            timestamp: t,
            imo: (self.imo != 0).then_some(self.imo),
            callsign: Some(self.call_sign.clone()),
            shipname: Some(self.name.clone()),
            shiptype: Some(self.ship_type),
            to_bow: Some(self.dims.0),
            to_stern: Some(self.dims.1),
            to_port: Some(self.dims.2.into()),
            to_starboard: Some(self.dims.3.into()),
            draught: Some(self.draught),
            destination: Some(destination.to_owned()),
            eta: (self.phase != Phase::Moored).then(|| t + Duration::hours(6)),
            ..Default::default()
        };
        let payload = serde_json::to_value(&report).unwrap_or_default();
        SimRecord {
            stream: Stream::Static,
            key: self.mmsi.to_string(),
            payload: serde_json::to_vec(&payload).unwrap_or_default(),
            event_time: t,
            expect: Expect::Static { mmsi: self.mmsi, at: t },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use porttrack_schemas::ValidationRules;

    #[test]
    fn valid_records_validate_and_invalid_ones_fail_with_their_class() {
        let start = Utc::now() - Duration::hours(12);
        let mut sim = Simulator::new(SimConfig { vessels: 50, seed: 1, start, invalid_ratio: 0.05 });
        let rules = ValidationRules::default();
        let now = Utc::now() + Duration::days(1);
        let mut invalid = 0;
        for _ in 0..20_000 {
            let r = sim.next_record();
            match r.expect {
                Expect::Valid(p) => {
                    let decoded =
                        porttrack_ingest::decode::decode_position_json(&r.payload, &rules, now).unwrap();
                    assert_eq!(decoded, p);
                    assert_eq!(r.key, p.mmsi.to_string());
                }
                Expect::Invalid(class) => {
                    invalid += 1;
                    let err =
                        porttrack_ingest::decode::decode_position_json(&r.payload, &rules, now).unwrap_err();
                    assert_eq!(err.class, class, "{}", String::from_utf8_lossy(&r.payload));
                }
                Expect::Static { .. } => assert_eq!(r.stream, Stream::Static),
                Expect::Event(EventKey::Weather { .. }) => assert_eq!(r.stream, Stream::Weather),
                Expect::Event(EventKey::Cargo(_)) => assert_eq!(r.stream, Stream::Cargo),
                Expect::Event(EventKey::Ops(_)) => assert_eq!(r.stream, Stream::Ops),
                Expect::Fragment => panic!("the simulator itself sends no NMEA"),
            }
        }
        assert!(invalid > 500, "about 5% of ~19k position records: {invalid}");
    }

    #[test]
    fn same_seed_same_records() {
        let start = Utc::now();
        let a: Vec<_> = {
            let mut s = Simulator::new(SimConfig { vessels: 10, seed: 3, start, invalid_ratio: 0.1 });
            (0..500).map(|_| s.next_record()).collect()
        };
        let mut s = Simulator::new(SimConfig { vessels: 10, seed: 3, start, invalid_ratio: 0.1 });
        let b: Vec<_> = (0..500).map(|_| s.next_record()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn truth_is_recorded_without_changing_the_stream() {
        let config = SimConfig { vessels: 10, seed: 5, start: Utc::now(), invalid_ratio: 0.0 };
        let mut plain = Simulator::new(config.clone());
        let mut recorded = Simulator::new(config).with_noise(Noise::none()).with_truth();
        for _ in 0..200_000 {
            assert_eq!(plain.next_record(), recorded.next_record());
        }
        let truth = recorded.truth();
        let complete: Vec<&CallTruth> = truth.iter().filter(|c| c.complete()).collect();
        assert!(complete.len() > 10, "{}", complete.len());
        for c in complete {
            // Phases in order, durations their sums.
            let times =
                [c.arrived_at, c.anchored_at, c.wait_end, c.berthed_at, c.unberthed_at, c.departed_at];
            let known: Vec<_> = times.into_iter().flatten().collect();
            assert!(known.is_sorted(), "{c:?}");
            assert!(c.berthed_at.is_some() && !c.aborted, "without noise every call berths: {c:?}");
            if let (Some(a), Some(w)) = (c.anchored_at, c.wait_end) {
                assert_eq!(c.waiting_s, (w - a).num_seconds());
            }
        }
    }

    #[test]
    fn noise_brings_its_failures_into_the_truth() {
        let config = SimConfig { vessels: 100, seed: 5, start: Utc::now(), invalid_ratio: 0.0 };
        let mut sim = Simulator::new(config).with_noise(Noise::realistic()).with_truth();
        for _ in 0..400_000 {
            sim.next_record();
        }
        let truth = sim.truth();
        assert!(truth.iter().any(|c| c.aborted && c.berthed_at.is_none() && c.anchored_at.is_none()));
        assert!(truth.iter().any(|c| c.berth_shifts > 0));
        assert!(truth.iter().any(|c| c.anchored_outside));
        assert!(truth.iter().any(|c| c.dark_spells > 0));
        assert!(truth.iter().any(|c| c.gps_jumps > 0));
    }

    #[test]
    fn ships_go_through_a_whole_port_call() {
        let mut sim =
            Simulator::new(SimConfig { vessels: 30, seed: 9, start: Utc::now(), invalid_ratio: 0.0 });
        let mut statuses = HashSet::new();
        let mut reports_by_vessel = std::collections::HashMap::<u32, usize>::new();
        for _ in 0..200_000 {
            if let Expect::Valid(p) = sim.next_record().expect {
                statuses.insert(p.nav_status);
                *reports_by_vessel.entry(p.mmsi).or_default() += 1;
                assert!((51.5..52.5).contains(&p.lat) && (3.0..4.6).contains(&p.lon), "{p:?}");
            }
        }
        for s in [NavStatus::UnderWayUsingEngine, NavStatus::AtAnchor, NavStatus::Moored] {
            assert!(statuses.contains(&Some(s.code())), "{s:?} never reported");
        }
        assert_eq!(reports_by_vessel.len(), 30, "every vessel reports");
    }
}
