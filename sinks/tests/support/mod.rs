//! Shared fixtures for the sink tests against the local stack.
#![allow(dead_code, unreachable_pub)]

use chrono::{DateTime, TimeZone, Utc};
use porttrack_schemas::{
    CargoEvent, CargoOperation, Event, MetHydroObservation, Origin, PortOpsEvent, PortOpsKind, Position,
    SafetyMessage, Sourced, StationKind, StationReport, VesselStatic, WeatherObservation,
};

fn answers(addr: &str) -> bool {
    addr.parse()
        .ok()
        .and_then(|a| std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).ok())
        .is_some()
}

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Runs `deploy/local/up` once per test process; whether it succeeded.
fn stack_up() -> bool {
    static UP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *UP.get_or_init(|| {
        std::process::Command::new(format!("{ROOT}/deploy/local/up"))
            .current_dir(ROOT)
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Makes sure the local stack's `service` answers at `addr`: when it does
/// not, runs `deploy/local/up` (once per test process), and fails the test
/// naming the service if it still does not. A sink test never passes
/// without its server.
pub fn require(service: &str, addr: &str) {
    if answers(addr) {
        return;
    }
    assert!(
        stack_up() && answers(addr),
        "{service} at {addr} is unreachable, and deploy/local/up could not start it (see its output above)"
    );
}

fn read_stack_env(key: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("{ROOT}/.porttrack/stack/stack.env")).ok()?;
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('=').map(str::to_owned))
}

/// The value `deploy/local/up` wrote for `key` in the stack's `stack.env`
/// (read here, never put into the tests' environment, where the pipeline's
/// configuration would pick it up). Runs `up` once when the key is missing
/// (a stack an older `up` started); fails the test if it is still missing.
pub fn stack_value(key: &str) -> String {
    read_stack_env(key).or_else(|| stack_up().then(|| read_stack_env(key)).flatten()).unwrap_or_else(|| {
        panic!("{key} missing from .porttrack/stack/stack.env, and deploy/local/up did not write it")
    })
}

/// The local search engine as a secured cluster: the stack's nginx in front
/// of it with TLS (the stack's CA) and basic auth (deploy/nginx/search.conf.template).
#[derive(Debug, Clone)]
pub struct SearchFront {
    /// `https://127.0.0.1:9443`.
    pub url: String,
    pub username: String,
    pub password_file: std::path::PathBuf,
    pub ca_file: std::path::PathBuf,
}

impl SearchFront {
    /// Where `stack.env` says it is; fails the test when it does not answer.
    pub fn require() -> SearchFront {
        let front = SearchFront {
            url: stack_value("PORTTRACK_SEARCH_TLS_URL"),
            username: stack_value("PORTTRACK_SEARCH_USERNAME"),
            password_file: stack_value("PORTTRACK_SEARCH_PASSWORD_FILE").into(),
            ca_file: stack_value("PORTTRACK_TLS_CA_FILE").into(),
        };
        require("the search engine's TLS front (nginx)", front.url.trim_start_matches("https://"));
        front
    }

    /// The user's real password.
    pub fn password(&self) -> String {
        std::fs::read_to_string(&self.password_file)
            .unwrap_or_else(|e| panic!("{}: {e}", self.password_file.display()))
            .trim_end()
            .to_owned()
    }
}

/// The local stack's CA, which signed its servers' certificates.
pub fn stack_ca_file() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.porttrack/stack/tls/ca.pem"))
}

/// A name unique to this process and call site, for databases and index prefixes.
pub fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("sinktest_{tag}_{}_{nanos}", std::process::id())
}

pub fn t(second: i64) -> DateTime<Utc> {
    // 2026-09-21T14:13:20Z: two days' partitions are exercised by +86400.
    Utc.timestamp_opt(1_790_000_000 + second, 0).unwrap()
}

pub fn position(mmsi: u32, second: i64, offset: i64) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("ais.positions", 0, offset),
        event: Event::Position(Position {
            mmsi,
            timestamp: t(second),
            lat: 51.9 + second as f64 * 1e-6,
            lon: 4.1,
            sog: Some(10.5),
            cog: Some(90.0),
            heading: Some(91),
            nav_status: Some(0),
        }),
    }
}

pub fn static_report(
    mmsi: u32,
    second: i64,
    offset: i64,
    name: Option<&str>,
    draught: Option<f32>,
) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("ais.static", 0, offset),
        event: Event::Static(Box::new(VesselStatic {
            mmsi,
            timestamp: t(second),
            shipname: name.map(str::to_owned),
            draught,
            imo: Some(9_321_483),
            ..Default::default()
        })),
    }
}

pub fn weather(station: &str, second: i64, offset: i64) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("weather.observations", 0, offset),
        event: Event::Weather(Box::new(WeatherObservation {
            station: station.into(),
            timestamp: t(second),
            lat: Some(51.98),
            lon: Some(4.1),
            zone: Some("Maasmond".into()),
            wind_speed_kn: Some(22.0),
            wind_gust_kn: Some(31.5),
            ..Default::default()
        })),
    }
}

pub fn cargo(id: &str, mmsi: u32, second: i64, offset: i64, teu: u32) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("terminal.cargo", 0, offset),
        event: Event::Cargo(Box::new(CargoEvent {
            event_id: id.into(),
            timestamp: t(second),
            mmsi,
            voyage: Some("042W".into()),
            berth: "Maasvlakte II".into(),
            operation: CargoOperation::Discharge,
            containers: teu / 2,
            teu,
            imdg_class: Some("3".into()),
        })),
    }
}

pub fn port_ops(id: &str, mmsi: u32, second: i64, offset: i64) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("port.operations", 0, offset),
        event: Event::PortOps(Box::new(PortOpsEvent {
            event_id: id.into(),
            timestamp: t(second),
            mmsi,
            kind: PortOpsKind::PilotBoarded,
            resource: "pilot-17".into(),
            shift: None,
            berth: None,
        })),
    }
}

/// A batch with every event kind: 300 positions of 30 vessels over two
/// event days, static reports, weather, cargo and port operations.
pub fn mixed_batch() -> Vec<Sourced<Event>> {
    let mut batch = Vec::new();
    for i in 0..300 {
        let mmsi = 244_000_000 + (i % 30) as u32;
        // Half the reports on the next day: two partitions.
        let second = i64::from(i) * 10 + if i % 2 == 0 { 0 } else { 86_400 };
        batch.push(position(mmsi, second, i64::from(i)));
    }
    batch.push(static_report(244_000_001, 5, 1000, Some("EVER GIVEN"), None));
    batch.push(static_report(244_000_002, 5, 1001, None, Some(14.5)));
    batch.push(weather("hoek", 0, 2000));
    batch.push(weather("hoek", 600, 2001));
    batch.push(cargo("c-1", 244_000_001, 100, 3000, 200));
    batch.push(cargo("c-2", 244_000_001, 200, 3001, 100));
    batch.push(port_ops("p-1", 244_000_001, 50, 4000));
    batch
}

/// A safety-related text from `mmsi` (addressed when `dest` is given).
pub fn safety(mmsi: u32, second: i64, offset: i64, dest: Option<u32>, text: &str) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("ais.nmea", 0, offset),
        event: Event::Safety(Box::new(SafetyMessage {
            mmsi,
            timestamp: t(second),
            addressed: dest.is_some(),
            dest_mmsi: dest,
            sequence: dest.map(|_| 1),
            retransmit: dest.map(|_| false),
            text: text.into(),
        })),
    }
}

/// A met-hydro report of station `mmsi`, as the NMEA decoder emits it (`index` 0).
pub fn met_hydro(mmsi: u32, second: i64, offset: i64, wind_kn: f32) -> Sourced<Event> {
    let details =
        serde_json::json!({"wspeed": wind_kn, "cdepth2": 31, "preciptype": "rain", "visgreater": false});
    Sourced {
        origin: Origin::new("ais.nmea", 0, offset),
        event: Event::MetHydro(Box::new(MetHydroObservation {
            mmsi,
            timestamp: t(second),
            dac: 1,
            fid: 31,
            lat: Some(51.98),
            lon: Some(4.05),
            report_day: Some(21),
            report_hour: Some(12),
            report_minute: Some(26),
            wind_speed_kn: Some(wind_kn),
            wind_gust_kn: Some(wind_kn + 9.9),
            wind_direction_deg: Some(250),
            pressure_hpa: Some(1004.0),
            water_level_m: Some(-0.45),
            wave_height_m: Some(1.5),
            precipitation_type: Some(1),
            details: details.as_object().cloned(),
            ..Default::default()
        })),
    }
}

/// A station report: an aid to navigation (`off_position` set) or, without
/// a name, a base station.
pub fn station(
    mmsi: u32,
    second: i64,
    offset: i64,
    name: Option<&str>,
    off_position: bool,
) -> Sourced<Event> {
    let aid = name.is_some();
    Sourced {
        origin: Origin::new("ais.nmea", 0, offset),
        event: Event::Station(Box::new(StationReport {
            mmsi,
            timestamp: t(second),
            kind: if aid { StationKind::AidToNavigation } else { StationKind::BaseStation },
            lat: Some(51.95 + second as f64 * 1e-6),
            lon: Some(4.0),
            name: name.map(str::to_owned),
            aid_type: aid.then_some(22),
            virtual_aid: aid.then_some(false),
            off_position: aid.then_some(off_position),
            epfd: Some(7),
            station_time: (!aid).then(|| t(second)),
            ..Default::default()
        })),
    }
}

/// A batch of the AIS-only kinds: three safety texts (one from a coast
/// station, one from a vessel that also reports a position), met-hydro
/// reports of one station (the third is the second heard by another
/// receiver: same station and time, another offset), and station reports
/// (a base station twice, the newer one first; a buoy).
pub fn ais_batch() -> Vec<Sourced<Event>> {
    vec![
        position(244_000_001, 0, 100),
        safety(2_442_000, 10, 101, None, "BUOY ADRIFT NEAR MAASMOND"),
        safety(244_000_001, 20, 102, Some(2_442_000), "ENGINE FAILURE REQUEST TUG"),
        safety(244_000_001, 30, 103, None, "NOT UNDER COMMAND"),
        met_hydro(2_442_011, 0, 104, 22.0),
        met_hydro(2_442_011, 600, 105, 24.5),
        met_hydro(2_442_011, 600, 106, 24.5),
        station(2_442_000, 60, 107, None, false),
        station(2_442_000, 30, 108, None, false),
        station(992_446_001, 5, 109, Some("MAAS CENTER"), true),
    ]
}
