//! Shared test fixtures: a one-vessel feed with exact control over times,
//! and a random fleet that makes port calls around the simulated Rotterdam.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use porttrack_processors::{Output, Port, distance_nm};
use porttrack_schemas::{
    CargoEvent, CargoOperation, Event, Origin, PortOpsEvent, PortOpsKind, Position, Sourced, VesselStatic,
    WeatherObservation,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub type LatLon = (f64, f64);

pub const SEA_POINTS: &[LatLon] = &[(52.05, 3.30), (51.92, 3.35), (52.15, 3.45), (51.85, 3.50)];
pub const ANCHORAGES: &[LatLon] = &[(52.08, 3.72), (51.93, 3.68)];
pub const CHANNEL_START: LatLon = (51.995, 3.85);
pub const ENTRANCE: LatLon = (51.985, 4.045);
pub const ROUTES: &[&[LatLon]] = &[
    &[(51.975, 4.02), (51.958, 4.005)],
    &[(51.965, 4.10), (51.950, 4.14)],
    &[(51.962, 4.13), (51.905, 4.22), (51.885, 4.28)],
    &[(51.962, 4.13), (51.900, 4.30), (51.893, 4.43)],
];
pub const BERTHS: &[&str] = &["Maasvlakte II", "Europoort", "Botlek", "Waalhaven"];

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap()
}

pub fn position(mmsi: u32, t: DateTime<Utc>, at: LatLon, sog: f32) -> Position {
    Position {
        mmsi,
        timestamp: t,
        lat: at.0,
        lon: at.1,
        sog: Some(sog),
        cog: None,
        heading: None,
        nav_status: None,
    }
}

/// Feeds one vessel's reports to a port with exact control over times.
pub struct Feed<'a> {
    pub port: &'a Port,
    pub mmsi: u32,
    pub partition: i32,
    pub t: DateTime<Utc>,
    pub offset: i64,
    pub out: Vec<Output>,
}

impl<'a> Feed<'a> {
    pub fn new(port: &'a Port, mmsi: u32) -> Self {
        Feed { port, mmsi, partition: 0, t: t0(), offset: 0, out: Vec::new() }
    }

    pub fn event(&mut self, event: Event) -> porttrack_processors::Processed {
        let origin = Origin::new("test", self.partition, self.offset);
        self.offset += 1;
        self.port.process(&Sourced { origin, event }, &mut self.out)
    }

    /// One report now, then `wait_s` seconds of silence.
    pub fn report(&mut self, at: LatLon, sog: f32, wait_s: i64) -> porttrack_processors::Processed {
        let p = position(self.mmsi, self.t, at, sog);
        let r = self.event(Event::Position(p));
        self.t += Duration::seconds(wait_s);
        r
    }

    /// A straight passage at `knots`, one report every `every_s`.
    pub fn sail(&mut self, from: LatLon, to: LatLon, knots: f32, every_s: i64) {
        let step_nm = f64::from(knots) * every_s as f64 / 3600.0;
        let steps = (distance_nm(from, to) / step_nm).ceil().max(1.0) as i32;
        for i in 0..steps {
            let f = f64::from(i) / f64::from(steps);
            self.report((from.0 + (to.0 - from.0) * f, from.1 + (to.1 - from.1) * f), knots, every_s);
        }
    }

    /// Sails through waypoints.
    pub fn route(&mut self, points: &[LatLon], knots: f32, every_s: i64) {
        for w in points.windows(2) {
            self.sail(w[0], w[1], knots, every_s);
        }
    }
}

/// Options of a random fleet.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub seed: u64,
    pub vessels: usize,
    pub partitions: i32,
    pub hours: i64,
    /// Probability that a position is a GPS jump.
    pub jump_probability: f64,
    /// Whether to add static, cargo, ops and weather events.
    pub other_events: bool,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            seed: 1,
            vessels: 40,
            partitions: 4,
            hours: 12,
            jump_probability: 0.001,
            other_events: true,
        }
    }
}

/// A random fleet making port calls: events of every vessel, in event-time
/// order (ties by vessel), with Kafka-like origins (partition = MMSI mod
/// partitions, offsets increasing per partition).
pub fn fleet(opts: &FleetOptions) -> Vec<Sourced<Event>> {
    let mut rng = SmallRng::seed_from_u64(opts.seed);
    let end = t0() + Duration::hours(opts.hours);
    let mut timeline: Vec<(DateTime<Utc>, u32, u32, Event)> = Vec::new();
    for i in 0..opts.vessels {
        let mmsi = 244_000_000 + i as u32 * 7 + rng.random_range(0..7);
        let mut v =
            VesselGen { mmsi, rng: SmallRng::seed_from_u64(rng.random()), t: t0(), end, events: Vec::new() };
        v.run(opts);
        for (seq, (t, e)) in v.events.into_iter().enumerate() {
            timeline.push((t, mmsi, seq as u32, e));
        }
    }
    if opts.other_events {
        let mut t = t0();
        let mut k = 0;
        while t < end {
            for (station, zone, lat, lon) in
                [("hoek", Some("Maasmond"), None, None), ("mv2", None, Some(51.958), Some(4.005))]
            {
                k += 1;
                let obs = WeatherObservation {
                    station: station.into(),
                    timestamp: t,
                    lat,
                    lon,
                    zone: zone.map(Into::into),
                    wind_speed_kn: Some(rng.random_range(5.0..30.0)),
                    wind_gust_kn: Some(rng.random_range(15.0..45.0)),
                    wind_direction_deg: Some(rng.random_range(0..360)),
                    visibility_nm: Some(rng.random_range(0.3..6.0)),
                    ..Default::default()
                };
                timeline.push((t, 0, k, Event::Weather(Box::new(obs))));
            }
            t += Duration::minutes(10);
        }
    }
    timeline.sort_by_key(|a| (a.0, a.1, a.2));
    let mut offsets: HashMap<i32, i64> = HashMap::new();
    timeline
        .into_iter()
        .map(|(_, mmsi, seq, event)| {
            let partition = if mmsi == 0 {
                (seq % 2) as i32 % opts.partitions
            } else {
                (mmsi % opts.partitions as u32) as i32
            };
            let offset = offsets.entry(partition).or_default();
            *offset += 1;
            Sourced { origin: Origin::new("fleet", partition, *offset), event }
        })
        .collect()
}

struct VesselGen {
    mmsi: u32,
    rng: SmallRng,
    t: DateTime<Utc>,
    end: DateTime<Utc>,
    events: Vec<(DateTime<Utc>, Event)>,
}

impl VesselGen {
    fn jitter(&mut self, p: LatLon, nm: f64) -> LatLon {
        let dlat = self.rng.random_range(-nm..=nm) / 60.0;
        let dlon = self.rng.random_range(-nm..=nm) / 60.0 / p.0.to_radians().cos();
        (p.0 + dlat, p.1 + dlon)
    }

    fn pick_jittered(&mut self, points: &[LatLon], nm: f64) -> LatLon {
        let p = points[self.rng.random_range(0..points.len())];
        self.jitter(p, nm)
    }

    fn push(&mut self, e: Event) {
        self.events.push((self.t, e));
    }

    fn report(&mut self, at: LatLon, sog: f32, every_s: f64, opts: &FleetOptions) {
        let mut at = at;
        if self.rng.random_bool(opts.jump_probability) {
            at.0 += 0.5; // a GPS jump of 30 nm
        }
        let p = position(self.mmsi, self.t, at, sog);
        self.push(Event::Position(p));
        let ms = (every_s * self.rng.random_range(0.9..1.1) * 1000.0) as i64;
        self.t += Duration::milliseconds(ms.max(1));
    }

    fn sail(&mut self, from: LatLon, to: LatLon, knots: f32, every_s: f64, opts: &FleetOptions) {
        let step_nm = f64::from(knots) * every_s / 3600.0;
        let steps = (distance_nm(from, to) / step_nm).ceil().max(1.0) as i32;
        for i in 0..steps {
            if self.t >= self.end {
                return;
            }
            let f = f64::from(i) / f64::from(steps);
            let sog = (knots + self.rng.random_range(-0.3..0.3)).max(0.0);
            self.report((from.0 + (to.0 - from.0) * f, from.1 + (to.1 - from.1) * f), sog, every_s, opts);
        }
    }

    fn stay(&mut self, at: LatLon, hours: f64, swing_nm: f64, opts: &FleetOptions) {
        let until = self.t + Duration::seconds((hours * 3600.0) as i64);
        while self.t < until && self.t < self.end {
            let p = self.jitter(at, swing_nm);
            let sog = self.rng.random_range(0.0..0.4);
            self.report(p, sog, 180.0, opts);
        }
    }

    fn run(&mut self, opts: &FleetOptions) {
        let class_b = self.rng.random_bool(0.15);
        let every = if class_b { 30.0 } else { 10.0 };
        let length: u16 =
            if class_b { self.rng.random_range(10..25) } else { self.rng.random_range(80..400) };
        let shiptype = [70, 71, 74, 80, 84, 60][self.rng.random_range(0..6)];
        self.t += Duration::seconds(self.rng.random_range(0..600));
        if opts.other_events {
            let part_a = VesselStatic {
                mmsi: self.mmsi,
                timestamp: self.t,
                shipname: Some(format!("SHIP {}", self.mmsi % 1000)),
                ..Default::default()
            };
            self.push(Event::Static(Box::new(part_a)));
            self.t += Duration::seconds(1);
            let part_b = VesselStatic {
                mmsi: self.mmsi,
                timestamp: self.t,
                shiptype: Some(shiptype),
                to_bow: Some(length * 2 / 3),
                to_stern: Some(length - length * 2 / 3),
                ..Default::default()
            };
            self.push(Event::Static(Box::new(part_b)));
        }
        let mut call = 0;
        // Some start moored, as when tracking begins mid-call.
        let mut start_moored = self.rng.random_bool(0.3);
        while self.t < self.end {
            call += 1;
            let terminal = self.rng.random_range(0..ROUTES.len());
            let route = ROUTES[terminal];
            let berth = *route.last().unwrap();
            if !start_moored {
                let sea = self.pick_jittered(SEA_POINTS, 2.0);
                let knots = self.rng.random_range(11.0..16.0);
                if self.rng.random_bool(0.6) {
                    let anchorage = self.pick_jittered(ANCHORAGES, 1.5);
                    self.sail(sea, anchorage, knots, every, opts);
                    let hours = self.rng.random_range(0.5..6.0);
                    self.stay(anchorage, hours, 0.02, opts);
                    self.sail(anchorage, CHANNEL_START, 10.0, every, opts);
                } else {
                    self.sail(sea, CHANNEL_START, knots, every, opts);
                }
                if opts.other_events {
                    let ops = PortOpsEvent {
                        event_id: format!("pilot-{}-{call}", self.mmsi),
                        timestamp: self.t,
                        mmsi: self.mmsi,
                        kind: PortOpsKind::PilotBoarded,
                        resource: format!("pilot-{}", self.rng.random_range(1..40)),
                        shift: None,
                        berth: None,
                    };
                    self.push(Event::PortOps(Box::new(ops)));
                }
                self.sail(CHANNEL_START, ENTRANCE, 10.0, every, opts);
                let mut from = ENTRANCE;
                for w in route {
                    self.sail(from, *w, 6.0, every, opts);
                    from = *w;
                }
            }
            start_moored = false;
            if opts.other_events && self.t < self.end {
                for (k, operation) in
                    [CargoOperation::Discharge, CargoOperation::Load].into_iter().enumerate()
                {
                    let containers = self.rng.random_range(10..400);
                    let cargo = CargoEvent {
                        event_id: format!("cargo-{}-{call}-{k}", self.mmsi),
                        timestamp: self.t + Duration::minutes(30),
                        mmsi: self.mmsi,
                        voyage: None,
                        berth: BERTHS[terminal].into(),
                        operation,
                        containers,
                        teu: containers + containers / 2,
                        imdg_class: self.rng.random_bool(0.2).then(|| "3".into()),
                    };
                    self.events.push((cargo.timestamp, Event::Cargo(Box::new(cargo))));
                }
            }
            let hours = self.rng.random_range(0.5..10.0);
            self.stay(berth, hours, 0.0, opts);
            let mut back: Vec<LatLon> = route.iter().rev().copied().collect();
            back.push(ENTRANCE);
            back.push(CHANNEL_START);
            let sea = self.pick_jittered(SEA_POINTS, 2.0);
            back.push(sea);
            for w in back.windows(2) {
                self.sail(w[0], w[1], 12.0, every, opts);
            }
            // Out of range for a while.
            self.t += Duration::minutes(self.rng.random_range(30..180));
        }
    }
}

/// Processes events in order on one port, collecting outputs.
pub fn run(port: &Port, events: &[Sourced<Event>]) -> Vec<Output> {
    let mut out = Vec::new();
    for e in events {
        port.process(e, &mut out);
    }
    out
}
