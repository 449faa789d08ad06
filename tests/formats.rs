//! Every input format end to end against the real local stack: JSON static,
//! weather and operations events, Avro cargo events (single-object and
//! Confluent framing), raw NMEA replayed from gpsd's sample log, and broken
//! records of each — through Kafka and the pipeline into Postgres and the
//! search engine, with the refusals on the dead-letter topic under the right
//! class and policy.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{SubsecRound, Utc};
use porttrack::config::Config;
use porttrack::pipeline::Pipeline;
use porttrack_ingest::dead_letter::headers;
use porttrack_ingest::decode::avro::encode;
use porttrack_ingest::decode::{AvroCatalog, AvroConfig};
use porttrack_schemas::{
    CargoEvent, CargoOperation, Event, PortOpsEvent, PortOpsKind, VesselStatic, WeatherObservation,
};
use rdkafka::producer::{FutureProducer, FutureRecord};
use support::{stack, unique};

const PARTITIONS: i32 = 2;

async fn produce(brokers: &str, topic: &str, records: &[(Option<String>, Vec<u8>)]) {
    let producer: FutureProducer =
        rdkafka::ClientConfig::new().set("bootstrap.servers", brokers).set("acks", "all").create().unwrap();
    for (key, payload) in records {
        let mut record = FutureRecord::<String, Vec<u8>>::to(topic).payload(payload);
        if let Some(k) = key {
            record = record.key(k);
        }
        producer.send(record, Duration::from_secs(30)).await.map_err(|(e, _)| e).unwrap();
    }
}

fn json<T: serde::Serialize>(key: u32, value: &T) -> (Option<String>, Vec<u8>) {
    (Some(key.to_string()), serde_json::to_vec(value).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_reaches_the_stores_or_the_dead_letter_topic() {
    let stack = stack();
    let name = |t: &str| unique(&format!("fmt-{t}"));
    let (statics, weather, ops, cargo, nmea, dlq) =
        (name("static"), name("weather"), name("ops"), name("cargo"), name("nmea"), name("dlq"));
    let positions = name("positions");
    support::create_topics(
        &stack.brokers,
        &[
            (&positions, PARTITIONS),
            (&statics, PARTITIONS),
            (&weather, PARTITIONS),
            (&ops, PARTITIONS),
            (&cargo, PARTITIONS),
            (&nmea, PARTITIONS),
            (&dlq, 1),
        ],
    )
    .await;
    let now = Utc::now().trunc_subsecs(3);

    // JSON: three static reports (one refused: IMO not seven digits), two
    // weather observations and a truncated one, two operations events.
    let ship = |mmsi: u32, imo: u32| VesselStatic {
        mmsi,
        timestamp: now,
        imo: Some(imo),
        shipname: Some(format!("SHIP {mmsi}")),
        shiptype: Some(70),
        to_bow: Some(100),
        to_stern: Some(40),
        to_port: Some(10),
        to_starboard: Some(12),
        ..VesselStatic::default()
    };
    produce(
        &stack.brokers,
        &statics,
        &[
            json(244_000_001, &ship(244_000_001, 9_000_001)),
            json(244_000_002, &ship(244_000_002, 9_000_002)),
            json(244_000_003, &ship(244_000_003, 12)),
        ],
    )
    .await;
    let obs = |station: &str, gust: f32| WeatherObservation {
        station: station.into(),
        timestamp: now,
        zone: Some("Maasmond".into()),
        wind_gust_kn: Some(gust),
        visibility_nm: Some(5.0),
        ..WeatherObservation::default()
    };
    let mut truncated = serde_json::to_vec(&obs("hvh", 20.0)).unwrap();
    truncated.truncate(20);
    produce(
        &stack.brokers,
        &weather,
        &[
            (Some("hvh".into()), serde_json::to_vec(&obs("hvh", 41.0)).unwrap()),
            (Some("mvl".into()), serde_json::to_vec(&obs("mvl", 22.0)).unwrap()),
            (Some("hvh".into()), truncated),
        ],
    )
    .await;
    let op = |id: &str, kind| PortOpsEvent {
        event_id: id.into(),
        timestamp: now,
        mmsi: 244_000_001,
        kind,
        resource: "pilot-7".into(),
        shift: None,
        berth: None,
    };
    produce(
        &stack.brokers,
        &ops,
        &[
            json(244_000_001, &op("p-1", PortOpsKind::PilotBoarded)),
            json(244_000_001, &op("p-2", PortOpsKind::PilotDisembarked)),
        ],
    )
    .await;

    // Avro: two single-object, one Confluent with a locally mapped id, one
    // Confluent with an id nobody knows (quarantined), one not Avro at all.
    let catalog = AvroCatalog::new(AvroConfig::default()).unwrap();
    let move_ = |id: &str| {
        Event::Cargo(Box::new(CargoEvent {
            event_id: id.into(),
            timestamp: now,
            mmsi: 244_000_002,
            voyage: Some("042E".into()),
            berth: "Europoort".into(),
            operation: CargoOperation::Discharge,
            containers: 100,
            teu: 160,
            imdg_class: Some("3".into()),
        }))
    };
    let key = Some("244000002".to_owned());
    let mut unknown = encode(&catalog, &move_("c-x"), Some(7)).unwrap();
    unknown[4] = 99;
    produce(
        &stack.brokers,
        &cargo,
        &[
            (key.clone(), encode(&catalog, &move_("c-1"), None).unwrap()),
            (key.clone(), encode(&catalog, &move_("c-2"), None).unwrap()),
            (key.clone(), encode(&catalog, &move_("c-3"), Some(7)).unwrap()),
            (key.clone(), unknown),
            (key, b"not avro".to_vec()),
        ],
    )
    .await;

    // NMEA: gpsd's sample log through `porttrack replay`, the way operators
    // load recordings. Its sentences have no tag blocks: event time is the
    // record timestamp, i.e. now.
    let dir = support::repo_root().join("target/test-runs").join(unique("formats"));
    std::fs::create_dir_all(&dir).unwrap();
    let topics = format!(
        r#"
[[kafka.topics]]
name = "{positions}"
format = "json"
event = "position"

[[kafka.topics]]
name = "{statics}"
format = "json"
event = "static"

[[kafka.topics]]
name = "{weather}"
format = "json"
event = "weather"

[[kafka.topics]]
name = "{ops}"
format = "json"
event = "port_ops"

[[kafka.topics]]
name = "{cargo}"
format = "avro"

[[kafka.topics]]
name = "{nmea}"
format = "nmea"
"#
    );
    let db = support::create_database(&stack.postgres_url, &unique("pt_formats").replace('-', "_")).await;
    let es_prefix = unique("t-formats");
    let config_path = support::write_config(
        &dir,
        &format!(
            r#"
[kafka]
brokers = "{brokers}"
group_id = "{group}"
dead_letter_topic = "{dlq}"
max_poll_interval = "30s"
{topics}
[avro.schema_ids]
7 = "dev.porttrack.v1.CargoEvent"

[pipeline]
batch_linger = "50ms"
drain_timeout = "10s"

[postgres]
url = "{db}"

[elasticsearch]
url = "{es}"
index_prefix = "{es_prefix}"

[files]
dir = "{files}"

[http]
listen = "127.0.0.1:0"
"#,
            brokers = stack.brokers,
            group = unique("fmt-group"),
            es = stack.elasticsearch_url,
            files = dir.join("files").display(),
        ),
    );
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_porttrack"))
        .args(["replay", "--speed", "0", "--config"])
        .arg(&config_path)
        .arg(support::repo_root().join("../shared/corpus/ais/gpsd/sample.aivdm"))
        .env_remove("PORTTRACK_CONFIG")
        .output()
        .unwrap();
    assert!(replay.status.success(), "replay: {}", String::from_utf8_lossy(&replay.stderr));
    let nmea_records: usize = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(" acknowledged")?.rsplit(": ").next()?.parse::<usize>().ok())
        .sum();
    assert!(
        nmea_records > 90,
        "gpsd's sample has ~100 messages: {}",
        String::from_utf8_lossy(&replay.stdout)
    );

    // What the pipeline must make of the NMEA log: what `decode` makes of it.
    let mut decoded = Vec::new();
    let mut refused = Vec::new();
    let sample = std::fs::read(support::repo_root().join("../shared/corpus/ais/gpsd/sample.aivdm")).unwrap();
    porttrack::tools::decode::run(
        sample.as_slice(),
        &mut decoded,
        &mut refused,
        &porttrack::tools::decode::DecodeOptions {
            format: porttrack::tools::decode::InputFormat::Nmea,
            event: porttrack_ingest::config::EventName::Position,
            gpsd_json: false,
            rules: Default::default(),
        },
    )
    .unwrap();
    let nmea_events: Vec<serde_json::Value> =
        String::from_utf8(decoded).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let nmea_positions = nmea_events.iter().filter(|e| e["event"] == "position").count() as i64;
    // stderr also says which lines were valid AIS PortTrack does not store ("skipped").
    let refused: Vec<String> = String::from_utf8(refused)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"class\""))
        .map(str::to_owned)
        .collect();
    let nmea_refusals = refused.len();
    let nmea_classes: std::collections::BTreeSet<String> = refused
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["class"].as_str().unwrap().to_owned())
        .filter(|c| c != "fragment_incomplete")
        .collect();
    assert!(nmea_positions > 10);

    let config = Config::load(Some(&config_path)).unwrap();
    porttrack::telemetry::init_logging(&porttrack::config::LogConfig {
        filter: "info,librdkafka=warn,rdkafka=warn".into(),
        ..Default::default()
    });
    let sinks = porttrack::outputs::build(&config).await.unwrap();
    let pipeline = Pipeline::start(&config, sinks).await.unwrap();
    let status = pipeline.status();
    let expected = 3 + 3 + 2 + 5 + nmea_records as u64;
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    while status.committed.load(std::sync::atomic::Ordering::Relaxed) < expected {
        assert!(
            std::time::Instant::now() < deadline,
            "committed {} of {expected} (consumed {}, partitions {}, dead-lettered {})",
            status.committed.load(std::sync::atomic::Ordering::Relaxed),
            status.consumed(),
            status.assigned_partitions(),
            status.dead_lettered.load(std::sync::atomic::Ordering::Relaxed),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pipeline.stop().await.unwrap();

    let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM vessels WHERE mmsi IN (244000001, 244000002)").await, 2);
    assert_eq!(
        count("SELECT count(*) FROM vessels WHERE mmsi = 244000003").await,
        0,
        "refused static report"
    );
    assert_eq!(count("SELECT count(*) FROM port_ops_events").await, 2);
    assert_eq!(count("SELECT count(*) FROM cargo_events").await, 3);
    // Observations are keyed by (station, time): a station's reports replayed
    // within one clock tick are one row, so NMEA weather is checked by station.
    let of_kind = |kind: &str| nmea_events.iter().filter(|e| e["event"] == kind).cloned().collect::<Vec<_>>();
    let distinct = |events: &[serde_json::Value], key: &str| {
        events.iter().map(|e| e[key].to_string()).collect::<std::collections::BTreeSet<_>>().len() as i64
    };
    let on_nmea = |sql: &'static str| {
        let (client, nmea) = (&client, &nmea);
        async move { client.query_one(sql, &[nmea]).await.unwrap().get::<_, i64>(0) }
    };
    let (nmea_weather, nmea_met_hydro) = (of_kind("weather"), of_kind("met_hydro"));
    assert!(!nmea_weather.is_empty() && !nmea_met_hydro.is_empty(), "gpsd's sample has met-hydro reports");
    let weather_rows = count("SELECT count(*) FROM weather").await;
    let nmea_weather_rows = on_nmea("SELECT count(*) FROM weather WHERE source_topic = $1").await;
    assert_eq!(weather_rows - nmea_weather_rows, 2, "the JSON observations");
    assert!((1..=nmea_weather.len() as i64).contains(&nmea_weather_rows));
    assert_eq!(
        on_nmea("SELECT count(DISTINCT station) FROM weather WHERE source_topic = $1").await,
        distinct(&nmea_weather, "station")
    );
    assert_eq!(count("SELECT count(DISTINCT mmsi) FROM met_hydro").await, distinct(&nmea_met_hydro, "mmsi"));
    // Safety messages are keyed by their coordinates: exactly once each.
    let safety = of_kind("safety");
    assert!(!safety.is_empty(), "gpsd's sample has safety messages");
    assert_eq!(count("SELECT count(*) FROM safety_messages").await, safety.len() as i64);
    // Stations: the latest report of each.
    assert_eq!(count("SELECT count(*) FROM stations").await, distinct(&of_kind("station"), "mmsi"));
    assert_eq!(count("SELECT count(*) FROM positions").await, nmea_positions, "NMEA positions, once each");

    // Elasticsearch: every NMEA position is a document.
    support::es::refresh(&stack.elasticsearch_url, &format!("{es_prefix}-*")).await;
    let ids = support::es::ids(&stack.elasticsearch_url, &format!("{es_prefix}-positions-*")).await;
    assert_eq!(ids.len() as i64, nmea_positions);

    // The dead-letter topic: each refusal with its class and policy.
    // Lone NMEA fragments stay held (pinning the commit) until the reassembly
    // timeout, which this test does not wait for, so the count is a floor.
    let letters = support::read_all(&stack.brokers, &dlq, 1, 4 + nmea_refusals);
    assert!(letters.len() >= 4, "the broken JSON and Avro records are dead-lettered: {}", letters.len());
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    for l in &letters {
        let class = l.headers[headers::ERROR_CLASS].clone();
        let policy = l.headers[headers::ERROR_POLICY].clone();
        let expected_policy =
            if matches!(class.as_str(), "unsupported_message" | "fragment_incomplete" | "schema_unknown") {
                "quarantine"
            } else {
                "reject"
            };
        assert_eq!(policy, expected_policy, "{class}");
        assert!(l.payload.as_ref().is_some_and(|p| !p.is_empty()), "original bytes kept");
        *classes.entry(class).or_default() += 1;
    }
    // NMEA classes are whatever `decode` refused (gpsd's sample no longer holds
    // a message PortTrack cannot use: base stations and aids are stations now).
    for class in ["field_out_of_range", "malformed_json", "schema_unknown", "malformed_avro"] {
        assert!(classes.contains_key(class), "{class} missing from {classes:?}");
    }
    for class in &nmea_classes {
        assert!(classes.contains_key(class), "{class} (as `decode` refuses it) missing from {classes:?}");
    }
}
