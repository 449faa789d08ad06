//! Memory per tracked vessel: what the port processor costs at 100k and 1M
//! vessels, as the process's resident set and as checkpoint bytes.
//!
//! ```text
//! cargo bench -p porttrack-processors --bench memory
//! PORTTRACK_BENCH_VESSELS=10000 cargo bench -p porttrack-processors --bench memory   # smoke
//! ```
//!
//! Each size runs in a fresh child process (this binary re-executed), so
//! memory freed by a smaller run and kept by the allocator cannot hide part
//! of a larger one. The child builds a [`Port`] over the built-in Rotterdam
//! geography, reads `VmRSS` from `/proc/self/status`, then feeds N distinct
//! vessels spread over the port the way the crate's fleet fixture sails
//! them: a quarter under way at sea, a fifth at anchor, a fifth inbound
//! through the channel and the rest alongside a berth (with a pilot boarding
//! and two cargo moves, one in five loading dangerous goods). Every vessel
//! gets two static reports (name; type and dimensions) and
//! `PORTTRACK_BENCH_FIXES` positions (default 40, more than `track_len`, so
//! every vessel's fix times are full: the steady state of a vessel tracked
//! for a while). `PORTTRACK_BENCH_VESSEL_KIND` sails every vessel one way instead
//! (`sea`, `anchor`, `channel` or `berth`; default `mixed`, as above): what
//! one kind of vessel costs, since a global feed of a million vessels is
//! nearly all at sea, far from any one port's calls.
//! `PORTTRACK_BENCH_TRACK_LEN` overrides `track_len`, and
//! `PORTTRACK_BENCH_CHECKPOINT_VERSION` the checkpoint format (default 2).
//! Events are generated one vessel at a time and dropped, so what remains
//! is the processor's state.
//!
//! Reported per vessel: the growth of `VmRSS` (everything the state costs,
//! allocator and hash-table slack included), the JSON checkpoint of every
//! partition ([`Port::export_partition`], serialized as the pipeline stores
//! it), and what one checkpoint of every partition costs: the export (a
//! copy of the state), its serialization, and parsing and restoring it on a
//! fresh port, and, for comparison, serializing it in place with
//! [`Port::checkpoint`], which skips the copy (medians of
//! `PORTTRACK_BENCH_RUNS` rounds, default 5; the first round also checks
//! that the restored state equals the exported one and that the in-place
//! document is the same bytes). The target of issue 13 is at most 512 bytes of state per vessel at 1M
//! vessels, judged on the RSS growth.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

// The allocator `porttrack` runs on (its `src/alloc.rs`): RSS per vessel
// depends on the allocator's size classes and caching.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "../tests/support/mod.rs"]
mod support;

use std::hash::Hasher;
use std::io::Write;
use std::process::Command;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use porttrack_processors::{
    Fix, Geography, Output, Port, PortCall, PortConfig, Service, StaticData, VesselRoute,
};
use porttrack_schemas::{
    CargoEvent, CargoOperation, Event, Origin, PortOpsEvent, PortOpsKind, Sourced, Topic, VesselStatic,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use support::{ANCHORAGES, BERTHS, CHANNEL_START, ENTRANCE, LatLon, ROUTES, SEA_POINTS, position, t0};

/// The target of issue 13, bytes of state per vessel at 1M vessels.
const TARGET_BYTES: f64 = 512.0;
const PARTITIONS: u32 = 8;
const CHILD_ENV: &str = "PORTTRACK_BENCH_MEMORY_CHILD";

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS in /proc/self/status");
    let kb: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmRSS in kB");
    kb * 1024
}

/// Counts and hashes bytes written: the hash tells whether a change to the
/// state's representation left the checkpoints (and so the state) as they were.
#[derive(Default)]
struct Counter(u64, std::collections::hash_map::DefaultHasher);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        self.1.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One size's measurements (the child prints them, the parent tabulates).
#[derive(Debug, Clone, Copy)]
struct Measured {
    vessels: u64,
    events: u64,
    rss_before: u64,
    rss_after: u64,
    checkpoint_bytes: u64,
    checkpoint_hash: u64,
    feed_s: f64,
    /// Medians over `PORTTRACK_BENCH_RUNS` checkpoints of every partition,
    /// nanoseconds for all vessels: `export_partition` (the clone),
    /// `serde_json::to_writer` of the export, and parsing the document back
    /// and restoring it on a fresh port; and serializing it in place with
    /// [`Port::checkpoint`] (the same bytes, without the export's copy).
    export_ns: u64,
    serialize_ns: u64,
    restore_ns: u64,
    in_place_ns: u64,
}

impl Measured {
    fn per_vessel(&self, bytes: f64) -> f64 {
        bytes / self.vessels as f64
    }
    fn rss_per_vessel(&self) -> f64 {
        self.per_vessel(self.rss_after as f64 - self.rss_before as f64)
    }
    fn line(&self) -> String {
        format!(
            "vessels={} events={} rss_before={} rss_after={} checkpoint_bytes={} checkpoint_hash={:016x} feed_s={} export_ns={} serialize_ns={} restore_ns={} in_place_ns={}",
            self.vessels,
            self.events,
            self.rss_before,
            self.rss_after,
            self.checkpoint_bytes,
            self.checkpoint_hash,
            self.feed_s,
            self.export_ns,
            self.serialize_ns,
            self.restore_ns,
            self.in_place_ns,
        )
    }
    fn parse(line: &str) -> Option<Measured> {
        let field = |name: &str| {
            line.split_whitespace().find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
        };
        Some(Measured {
            vessels: field("vessels")?.parse().ok()?,
            events: field("events")?.parse().ok()?,
            rss_before: field("rss_before")?.parse().ok()?,
            rss_after: field("rss_after")?.parse().ok()?,
            checkpoint_bytes: field("checkpoint_bytes")?.parse().ok()?,
            checkpoint_hash: u64::from_str_radix(&field("checkpoint_hash")?, 16).ok()?,
            feed_s: field("feed_s")?.parse().ok()?,
            export_ns: field("export_ns")?.parse().ok()?,
            serialize_ns: field("serialize_ns")?.parse().ok()?,
            restore_ns: field("restore_ns")?.parse().ok()?,
            in_place_ns: field("in_place_ns")?.parse().ok()?,
        })
    }
}

/// Generates one vessel's events into a reused buffer and applies them.
struct Feeder {
    port: Port,
    topic: Topic,
    offsets: [i64; PARTITIONS as usize],
    fixes: usize,
    /// How every vessel sails, read from the environment once.
    kind: VesselKind,
    rng: SmallRng,
    events: Vec<(DateTime<Utc>, Event)>,
    out: Vec<Output>,
    applied: u64,
}

impl Feeder {
    fn jitter(&mut self, p: LatLon, nm: f64) -> LatLon {
        let dlat = self.rng.random_range(-nm..=nm) / 60.0;
        let dlon = self.rng.random_range(-nm..=nm) / 60.0 / p.0.to_radians().cos();
        (p.0 + dlat, p.1 + dlon)
    }

    /// `fixes` reports along `path` at `knots`, every `every_s` seconds.
    fn sail(&mut self, mmsi: u32, t: &mut DateTime<Utc>, path: &[LatLon], knots: f32, every_s: i64) {
        let mut legs: Vec<(LatLon, LatLon)> = path.windows(2).map(|w| (w[0], w[1])).collect();
        if legs.is_empty() {
            return;
        }
        let step_nm = f64::from(knots) * every_s as f64 / 3600.0;
        let (mut leg, mut along) = (0, 0.0);
        for _ in 0..self.fixes {
            let (from, to) = legs[leg];
            let len = porttrack_processors::distance_nm(from, to).max(1e-9);
            let f = (along / len).min(1.0);
            let at = (from.0 + (to.0 - from.0) * f, from.1 + (to.1 - from.1) * f);
            let sog = (knots + self.rng.random_range(-0.3..0.3)).max(0.0);
            self.events.push((*t, Event::Position(position(mmsi, *t, at, sog))));
            *t += Duration::seconds(every_s);
            along += step_nm;
            if along >= len {
                along -= len;
                leg += 1;
                if leg == legs.len() {
                    // Past the end: turn round and sail back.
                    legs = legs.iter().rev().map(|(a, b)| (*b, *a)).collect();
                    leg = 0;
                }
            }
        }
    }

    /// `fixes` stopped reports around `at`, every 3 minutes.
    fn stay(&mut self, mmsi: u32, t: &mut DateTime<Utc>, at: LatLon, swing_nm: f64) {
        for _ in 0..self.fixes {
            let p = self.jitter(at, swing_nm);
            let sog = self.rng.random_range(0.0..0.4);
            self.events.push((*t, Event::Position(position(mmsi, *t, p, sog))));
            *t += Duration::seconds(180);
        }
    }

    fn vessel(&mut self, i: u32) {
        let mmsi = 200_000_000 + i;
        let mut t = t0() + Duration::seconds(self.rng.random_range(0..600));
        let class_b = self.rng.random_bool(0.15);
        let length: u16 =
            if class_b { self.rng.random_range(10..25) } else { self.rng.random_range(80..400) };
        let shiptype = [70, 71, 74, 80, 84, 60][self.rng.random_range(0..6)];
        let name = VesselStatic {
            mmsi,
            timestamp: t,
            shipname: Some(format!("SHIP {}", mmsi % 100_000)),
            callsign: Some(format!("PD{:04}", mmsi % 10_000)),
            ..Default::default()
        };
        self.events.push((t, Event::Static(Box::new(name))));
        t += Duration::seconds(1);
        let dimensions = VesselStatic {
            mmsi,
            timestamp: t,
            shiptype: Some(shiptype),
            to_bow: Some(length * 2 / 3),
            to_stern: Some(length - length * 2 / 3),
            ..Default::default()
        };
        self.events.push((t, Event::Static(Box::new(dimensions))));
        t += Duration::seconds(1);
        let every = if class_b { 30 } else { 10 };
        let terminal = self.rng.random_range(0..ROUTES.len());
        let kind = match self.kind {
            VesselKind::Mixed => self.rng.random_range(0..20),
            VesselKind::Sea => 0,
            VesselKind::Anchor => 5,
            VesselKind::Channel => 9,
            VesselKind::Berth => 13,
        };
        match kind {
            // A quarter under way at sea, towards the channel.
            0..5 => {
                let sea = SEA_POINTS[self.rng.random_range(0..SEA_POINTS.len())];
                let from = self.jitter(sea, 2.0);
                self.sail(mmsi, &mut t, &[from, CHANNEL_START], 12.0, every);
            }
            // A fifth at anchor.
            5..9 => {
                let anchorage = ANCHORAGES[self.rng.random_range(0..ANCHORAGES.len())];
                let at = self.jitter(anchorage, 1.5);
                self.stay(mmsi, &mut t, at, 0.02);
            }
            // A fifth inbound through the channel to a terminal.
            9..13 => {
                let mut path = vec![CHANNEL_START, ENTRANCE];
                path.extend_from_slice(ROUTES[terminal]);
                self.sail(mmsi, &mut t, &path, 10.0, every);
            }
            // The rest alongside, served and working cargo.
            _ => {
                let berth = *ROUTES[terminal].last().unwrap();
                let start = t;
                self.stay(mmsi, &mut t, berth, 0.0);
                let pilot = PortOpsEvent {
                    event_id: format!("pilot-{mmsi}-1"),
                    timestamp: start + Duration::minutes(5),
                    mmsi,
                    kind: PortOpsKind::MooringCompleted,
                    resource: format!("crew-{}", self.rng.random_range(1..40)),
                    shift: None,
                    berth: Some(BERTHS[terminal].into()),
                };
                self.events.push((pilot.timestamp, Event::PortOps(Box::new(pilot))));
                for (k, operation) in
                    [CargoOperation::Discharge, CargoOperation::Load].into_iter().enumerate()
                {
                    let containers = self.rng.random_range(10..400);
                    let cargo = CargoEvent {
                        event_id: format!("cargo-{mmsi}-1-{k}"),
                        timestamp: start + Duration::minutes(30 + 30 * k as i64),
                        mmsi,
                        voyage: None,
                        berth: BERTHS[terminal].into(),
                        operation,
                        containers,
                        teu: containers + containers / 2,
                        imdg_class: (operation == CargoOperation::Load && self.rng.random_bool(0.2))
                            .then(|| "3".into()),
                    };
                    self.events.push((cargo.timestamp, Event::Cargo(Box::new(cargo))));
                }
            }
        }
        // Kafka delivers a vessel's events in order (one key, one partition).
        self.events.sort_by_key(|(t, _)| *t);
        let partition = mmsi % PARTITIONS;
        for (_, event) in self.events.drain(..) {
            let offset = &mut self.offsets[partition as usize];
            *offset += 1;
            let origin = Origin::new(self.topic, partition as i32, *offset);
            self.port.process(&Sourced { origin, event }, &mut self.out);
            self.out.clear();
            self.applied += 1;
        }
    }
}

fn env_list(name: &str, default: &str) -> Vec<u64> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().parse().unwrap_or_else(|_| panic!("{name}: {s:?} is not a count")))
        .collect()
}

/// How the vessels sail (`PORTTRACK_BENCH_VESSEL_KIND`).
#[derive(Debug, Clone, Copy)]
enum VesselKind {
    Mixed,
    Sea,
    Anchor,
    Channel,
    Berth,
}

fn vessel_kind() -> VesselKind {
    match std::env::var("PORTTRACK_BENCH_VESSEL_KIND").as_deref() {
        Err(_) | Ok("mixed") => VesselKind::Mixed,
        Ok("sea") => VesselKind::Sea,
        Ok("anchor") => VesselKind::Anchor,
        Ok("channel") => VesselKind::Channel,
        Ok("berth") => VesselKind::Berth,
        Ok(other) => {
            panic!("PORTTRACK_BENCH_VESSEL_KIND: {other:?} is not mixed, sea, anchor, channel or berth")
        }
    }
}

/// The default configuration, with `track_len` from `PORTTRACK_BENCH_TRACK_LEN`
/// when set (the track is most of a vessel's state: this shows what a
/// shorter one would save).
fn config() -> PortConfig {
    // The format the checkpoint columns measure: 2 unless
    // PORTTRACK_BENCH_CHECKPOINT_VERSION says 1 (the default a deployment
    // writes until every instance reads 2).
    let version = std::env::var("PORTTRACK_BENCH_CHECKPOINT_VERSION").ok().and_then(|v| v.parse().ok());
    let mut cfg = PortConfig { checkpoint_version: version.unwrap_or(2), ..PortConfig::default() };
    if std::env::var_os("PORTTRACK_BENCH_TRACK_LEN").is_some() {
        cfg.track_len = env_list("PORTTRACK_BENCH_TRACK_LEN", "")[0] as usize;
    }
    cfg
}

/// The child: one size, one line of measurements on stdout.
fn measure(vessels: u64) -> Measured {
    let fixes = env_list("PORTTRACK_BENCH_FIXES", "40")[0] as usize;
    let mut feeder = Feeder {
        port: Port::new(Geography::rotterdam(), config()),
        topic: Topic::new("ais.positions"),
        offsets: [0; PARTITIONS as usize],
        fixes,
        kind: vessel_kind(),
        rng: SmallRng::seed_from_u64(13),
        events: Vec::with_capacity(fixes + 8),
        out: Vec::with_capacity(64),
        applied: 0,
    };
    let rss_before = rss_bytes();
    let started = Instant::now();
    for i in 0..vessels {
        feeder.vessel(i as u32);
    }
    let feed_s = started.elapsed().as_secs_f64();
    // The generator's buffers are the bench's, not the processor's.
    feeder.events = Vec::new();
    feeder.out = Vec::new();
    let rss_after = rss_bytes();
    assert_eq!(feeder.port.vessel_count() as u64, vessels, "every vessel tracked");
    let mut checkpoint = Counter::default();
    for p in feeder.port.partitions() {
        let state = feeder.port.export_partition(p);
        serde_json::to_writer(&mut checkpoint, &state).unwrap();
    }
    let timed = checkpoint_costs(&feeder.port);
    Measured {
        vessels,
        events: feeder.applied,
        rss_before,
        rss_after,
        checkpoint_bytes: checkpoint.0,
        checkpoint_hash: checkpoint.1.finish(),
        feed_s,
        export_ns: timed[0],
        serialize_ns: timed[1],
        restore_ns: timed[2],
        in_place_ns: timed[3],
    }
}

/// The median, over `PORTTRACK_BENCH_RUNS` rounds (default 5), of what one
/// checkpoint of every partition costs, as the pipeline takes it: export a
/// partition, serialize it into one reused buffer (as the Postgres store
/// does), then, as a new owner would, parse it and restore it on a fresh
/// port; and, separately, serializing it in place ([`Port::checkpoint`]).
/// Nanoseconds for all vessels: [export, serialize, restore, in place]. The
/// first round also checks that the restored state equals the exported one
/// and that the in-place document is the export's, byte for byte.
fn checkpoint_costs(port: &Port) -> [u64; 4] {
    let runs = env_list("PORTTRACK_BENCH_RUNS", "5")[0].max(1);
    let mut rounds: Vec<[u64; 4]> = Vec::new();
    let (mut buf, mut in_place) = (Vec::new(), Vec::new());
    let fresh = Port::new(Geography::rotterdam(), config());
    for round in 0..runs {
        let mut costs = [0u64; 4];
        for p in port.partitions() {
            let started = Instant::now();
            let state = port.export_partition(p);
            let exported = Instant::now();
            buf.clear();
            serde_json::to_writer(&mut buf, &state).unwrap();
            let serialized = Instant::now();
            let parsed: porttrack_processors::PartitionState = serde_json::from_slice(&buf).unwrap();
            fresh.restore_partition(p, parsed).unwrap();
            let restored = Instant::now();
            in_place.clear();
            serde_json::to_writer(&mut in_place, &port.checkpoint(p)).unwrap();
            let written = Instant::now();
            for (cost, (from, to)) in costs.iter_mut().zip([
                (started, exported),
                (exported, serialized),
                (serialized, restored),
                (restored, written),
            ]) {
                *cost += u64::try_from((to - from).as_nanos()).unwrap();
            }
            if round == 0 {
                assert!(fresh.export_partition(p) == state, "partition {p} restored as it was exported");
                assert!(in_place == buf, "partition {p} serialized in place as exported");
            }
            drop(state);
            fresh.forget_partition(p);
        }
        rounds.push(costs);
    }
    std::array::from_fn(|i| {
        let mut all: Vec<u64> = rounds.iter().map(|r| r[i]).collect();
        all.sort_unstable();
        all[all.len() / 2]
    })
}

fn main() {
    // `cargo bench` passes `--bench`; a size filter is not supported.
    if let Ok(n) = std::env::var(CHILD_ENV) {
        let m = measure(n.parse().expect("child size"));
        println!("{}", m.line());
        return;
    }
    let sizes = env_list("PORTTRACK_BENCH_VESSELS", "100000,1000000");
    println!(
        "porttrack-processors memory per tracked vessel (Rotterdam geography, PortConfig default but track_len {} and checkpoint_version {}, {} positions per vessel, vessels {:?})",
        config().track_len,
        config().checkpoint_version,
        env_list("PORTTRACK_BENCH_FIXES", "40")[0],
        vessel_kind(),
    );
    println!(
        "size_of: VesselRoute {} B, Fix {} B, StaticData {} B, PortCall {} B, Service {} B, VesselStatic {} B",
        size_of::<VesselRoute>(),
        size_of::<Fix>(),
        size_of::<StaticData>(),
        size_of::<PortCall>(),
        size_of::<Service>(),
        size_of::<VesselStatic>(),
    );
    let exe = std::env::current_exe().expect("current exe");
    let mut rows = Vec::new();
    for n in sizes {
        let output = Command::new(&exe).env(CHILD_ENV, n.to_string()).output().expect("run child");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "child for {n} vessels failed: {}\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let m = stdout.lines().find_map(Measured::parse).expect("child's measurements");
        rows.push(m);
    }
    println!();
    println!(
        "| vessels | events | RSS before MiB | RSS after MiB | RSS Δ B/vessel | checkpoint JSON B/vessel | checkpoint hash | feed s | export ns/vessel | serialize ns/vessel | parse+restore ns/vessel | in place ns/vessel |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    for m in &rows {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.0} | {:.0} | {:016x} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} |",
            m.vessels,
            m.events,
            mib(m.rss_before),
            mib(m.rss_after),
            m.rss_per_vessel(),
            m.per_vessel(m.checkpoint_bytes as f64),
            m.checkpoint_hash,
            m.feed_s,
            m.per_vessel(m.export_ns as f64),
            m.per_vessel(m.serialize_ns as f64),
            m.per_vessel(m.restore_ns as f64),
            m.per_vessel(m.in_place_ns as f64),
        );
    }
    println!();
    for m in &rows {
        let verdict = if m.rss_per_vessel() <= TARGET_BYTES { "met" } else { "MISSED" };
        println!(
            "{} vessels: {:.0} B/vessel of RSS, target ≤ {TARGET_BYTES:.0} B/vessel: {verdict}",
            m.vessels,
            m.rss_per_vessel()
        );
    }
}
