//! The demo's path: a `MemorySink` fed what the pipeline gives its sinks
//! (events and derived rows), and the same API answering from the
//! `MemoryStore`: same routes, same types, the stream included.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Duration as Span, Utc};
use porttrack_api::{Api, MemoryStore, ServeConfig, Zoning};
use porttrack_processors::{CallPhase, Geography, Output, PortCall, PortCallUpdate, ZoneKind, ZonePartial};
use porttrack_schemas::{Event, Origin, Position, SafetyMessage, Sourced, VesselStatic};
use porttrack_sinks::{Derived, Sink};
use serde_json::Value;

fn position(mmsi: u32, lat: f64, lon: f64, sog: f32, offset: i64) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("ais.positions", 0, offset),
        event: Event::Position(Position {
            mmsi,
            timestamp: Utc::now() - Span::seconds(60 - offset),
            lat,
            lon,
            sog: Some(sog),
            cog: Some(90.0),
            heading: Some(91),
            nav_status: Some(0),
        }),
    }
}

fn named(mmsi: u32, name: &str) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("ais.static", 0, 0),
        event: Event::Static(Box::new(VesselStatic {
            mmsi,
            timestamp: Utc::now(),
            shipname: Some(name.into()),
            shiptype: Some(70),
            ..Default::default()
        })),
    }
}

fn safety(mmsi: u32, text: &str, offset: i64) -> Sourced<Event> {
    Sourced {
        origin: Origin::new("ais.nmea", 0, offset),
        event: Event::Safety(Box::new(SafetyMessage {
            mmsi,
            timestamp: Utc::now(),
            addressed: false,
            text: text.into(),
            ..Default::default()
        })),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_the_same_api_from_what_its_sinks_receive() {
    let store = MemoryStore::new();
    let sink = store.sink();
    // A static report before the vessel's first position is kept for it.
    sink.write(&[named(244000002, "BRAVO")]).await.unwrap();
    sink.write(&[
        position(244000001, 52.05, 3.60, 12.0, 1),
        position(244000002, 52.08, 3.72, 0.1, 2),
        named(244000001, "ALPHA"),
    ])
    .await
    .unwrap();
    // A safety message, and its replay (same coordinates): one message.
    sink.write(&[safety(244000001, "MOB TEST", 5)]).await.unwrap();
    sink.write(&[safety(244000001, "MOB TEST", 5)]).await.unwrap();
    let arrived = Utc::now() - Span::hours(4);
    let mut call = PortCall::open(244000002, arrived, true);
    call.anchored_at = Some(arrived + Span::hours(1));
    let partial = ZonePartial {
        zone: "Maas North Anchorage".into(),
        kind: ZoneKind::Anchorage,
        berth_length_m: None,
        partition: 0,
        at: Utc::now(),
        vessels_present: 1,
        queue_length: 1,
        waiting_now_s: vec![10_800],
        waits_completed_s: vec![],
        rate_window_s: 3600,
        entries: 1,
        exits: 0,
        moored_vessels: 0,
        moored_length_m: 0,
        moored_without_length: 0,
        hazardous_vessels: 0,
        teu_loaded: 0,
        teu_discharged: 0,
        weather: None,
    };
    let outputs = [Output::PortCall(PortCallUpdate { phase: CallPhase::Anchored, call })];
    sink.write_derived(&Derived::new(&Geography::rotterdam(), &outputs, &[partial])).await.unwrap();

    let config = ServeConfig { poll_interval: Duration::from_millis(200), ..ServeConfig::default() };
    let api = Api::new(
        Arc::new(store),
        Arc::new(Zoning::from_geojson(porttrack_processors::ROTTERDAM_GEOJSON).unwrap()),
        Default::default(),
        config,
        porttrack_api::coastline(None).unwrap(),
        None,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (router, _poller) = api.start();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move { http.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };

    let v = get("/api/v1/vessels").await;
    assert_eq!(v["total"], 2);
    assert_eq!(v["features"][0]["properties"]["name"], "ALPHA");
    let bravo = &v["features"][1]["properties"];
    assert_eq!(bravo["name"], "BRAVO");
    assert_eq!(bravo["movement"], "anchored");
    assert_eq!(bravo["port_call"]["phase"], "anchored");
    let d = get("/api/v1/vessels/244000001").await;
    assert_eq!(d["track"].as_array().unwrap().len(), 1);
    let zones = get("/api/v1/zones").await;
    let anchorage = zones["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["id"] == "Maas North Anchorage")
        .unwrap()
        .clone();
    assert_eq!(anchorage["properties"]["congestion"]["waiting_p90_s"], 10_800);
    let o = get("/api/v1/overview").await;
    assert_eq!(o["anchorage_queue"][0]["mmsi"], 244000002);
    assert_eq!(get("/api/v1/port-calls").await["items"][0]["mmsi"], 244000002);
    let m = get("/api/v1/safety-messages").await;
    assert_eq!(m["items"].as_array().unwrap().len(), 1, "the replay added nothing: {m}");
    let mob = &m["items"][0];
    assert_eq!((mob["id"].as_str(), mob["text"].as_str()), (Some("ais.nmea-0-5"), Some("MOB TEST")));
    assert_eq!((mob["name"].as_str(), mob["located_by"].as_str()), (Some("ALPHA"), Some("vessel_position")));
    assert_eq!((mob["lat"].as_f64(), mob["lon"].as_f64()), (Some(52.05), Some(3.60)));
    assert_eq!(o["safety_messages"][0]["id"], "ais.nmea-0-5");

    // The stream: a new position reaches a client within 2 s.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut response = http.get(format!("{base}/api/v1/stream")).send().await.unwrap();
    sink.write(&[position(244000001, 52.06, 3.61, 12.0, 59)]).await.unwrap();
    let written = Instant::now();
    let mut buffer = String::new();
    while !buffer.contains("\"lat\":52.06") {
        let left = Duration::from_secs(2).checked_sub(written.elapsed()).expect("the update within 2 s");
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .expect("the update within 2 s")
            .unwrap()
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(buffer.contains("event: vessel"));

    // A new safety message reaches it as an `alert` of kind `safety`.
    sink.write(&[safety(244000002, "SART ACTIVE", 6)]).await.unwrap();
    let written = Instant::now();
    while !buffer.contains("SART ACTIVE") {
        let left = Duration::from_secs(2).checked_sub(written.elapsed()).expect("the message within 2 s");
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .expect("the message within 2 s")
            .unwrap()
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(buffer.contains(r#""kind":"safety""#), "{buffer}");
}
