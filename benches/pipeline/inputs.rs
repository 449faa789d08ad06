//! The bench's inputs, produced once into fresh topics before anything is timed.

use std::sync::atomic::AtomicBool;

use porttrack::sim::{ProduceOptions, SimConfig, Simulator};
use porttrack::tools::replay::{self, ReplayOptions, ReplayRecord, Target};
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::config::{EventName, Format, TopicConfig};

use crate::ais;
use crate::support::{self, Stack};

/// One input: its topics and how many records they hold.
pub(crate) struct Input {
    pub(crate) topics: Vec<TopicConfig>,
    pub(crate) records: u64,
}

impl Input {
    pub(crate) fn topic_names(&self) -> Vec<String> {
        self.topics.iter().map(|t| t.name.clone()).collect()
    }
}

pub(crate) struct Inputs {
    pub(crate) json: Option<Input>,
    pub(crate) nmea: Option<Input>,
    pub(crate) mixed: Option<Input>,
    pub(crate) dlq: String,
}

impl Inputs {
    pub(crate) async fn produce(
        stack: &Stack,
        records: u64,
        partitions: i32,
        vessels: u32,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Inputs {
        let dlq = support::unique("bench-dlq");
        support::create_topics(&stack.brokers, &[(&dlq, 1)]).await;
        let needs_json = ["json", "postgres", "handwritten", "search"].iter().any(|r| wanted(r));
        let json = if needs_json { Some(json(stack, records, partitions, vessels).await) } else { None };
        let nmea = if wanted("nmea") { Some(nmea(stack, records, partitions, vessels).await) } else { None };
        let mixed =
            if wanted("mixed") { Some(mixed(stack, records, partitions, vessels).await) } else { None };
        Inputs { json, nmea, mixed, dlq }
    }
}

fn simulator(vessels: u32) -> Simulator {
    Simulator::new(SimConfig {
        vessels: vessels as usize,
        seed: 1,
        start: chrono::Utc::now() - chrono::Duration::hours(24),
        invalid_ratio: 0.0,
    })
}

fn kafka(stack: &Stack, topics: Vec<TopicConfig>) -> KafkaConfig {
    KafkaConfig { brokers: stack.brokers.clone(), topics, ..KafkaConfig::default() }
}

/// JSON positions from the simulator, as its sensors would send them.
async fn json(stack: &Stack, records: u64, partitions: i32, vessels: u32) -> Input {
    let topic = support::unique("bench-json");
    support::create_topics(&stack.brokers, &[(&topic, partitions)]).await;
    let options = ProduceOptions {
        count: Some(records),
        trace_context: false,
        ..ProduceOptions::positions_only(topic.clone())
    };
    let config = kafka(stack, vec![TopicConfig::json(&topic, EventName::Position)]);
    let report = tokio::task::spawn_blocking(move || {
        porttrack::sim::produce(&config, &mut simulator(vessels), &options, &AtomicBool::new(false), None)
    })
    .await
    .expect("producer thread")
    .expect("produce");
    assert_eq!(report.acked, records, "every JSON position acknowledged");
    Input { topics: vec![TopicConfig::json(topic, EventName::Position)], records }
}

/// `!AIVDM` type 1 sentences, one per record, keyed by MMSI: ships moving
/// about the simulated port's waters.
async fn nmea(stack: &Stack, records: u64, partitions: i32, vessels: u32) -> Input {
    let topic = support::unique("bench-nmea");
    support::create_topics(&stack.brokers, &[(&topic, partitions)]).await;
    let vessels = u64::from(vessels.max(1));
    let lines: Vec<ReplayRecord> = (0..records)
        .map(|i| {
            let v = i % vessels;
            let step = (i / vessels) as f64;
            let mmsi = 244_000_000 + v as u32;
            // Spread over 51.85–52.10 N, 3.30–4.10 E, drifting east.
            let lat = 51.85 + (v % 250) as f64 * 0.001;
            let lon = 3.30 + (v / 250 % 80) as f64 * 0.01 + step * 0.0001;
            let mut w = ais::Writer::default();
            w.header(1, 0, mmsi)
                .u(if v % 5 == 0 { 1 } else { 0 }, 4)
                .i(0, 8)
                .u(if v % 5 == 0 { 0 } else { 120 }, 10)
                .b(false)
                .lon_lat(Some(lon.min(4.1)), Some(lat))
                .u(900, 12)
                .u(90, 9)
                .u(i % 60, 6)
                .u(0, 2)
                .u(0, 3)
                .b(false)
                .u(0, 19);
            let (armored, fill) = w.armor();
            let line = ais::sentences(&armored, fill, 0).remove(0);
            ReplayRecord {
                target: Target::Nmea,
                key: Some(mmsi.to_string()),
                payload: line.into_bytes(),
                event_time: None,
            }
        })
        .collect();
    let topics = vec![TopicConfig { name: topic, format: Format::Nmea, event: None }];
    let options = ReplayOptions {
        recording: replay::Recording::Nmea,
        speed: 0.0,
        event: EventName::Position,
        skip_invalid: false,
    };
    let report = replay::produce(&kafka(stack, topics.clone()), lines, &options).await.expect("produce NMEA");
    assert_eq!(report.failed, 0, "every NMEA record acknowledged");
    Input { topics, records }
}

/// Every stream the simulator has: JSON positions and static data, weather,
/// Avro cargo and port operations, in their proportions.
async fn mixed(stack: &Stack, records: u64, partitions: i32, vessels: u32) -> Input {
    let name = |kind: &str| support::unique(&format!("bench-mixed-{kind}"));
    let topics = vec![
        TopicConfig::json(name("positions"), EventName::Position),
        TopicConfig::json(name("static"), EventName::Static),
        TopicConfig::json(name("weather"), EventName::Weather),
        TopicConfig { name: name("cargo"), format: Format::Avro, event: None },
        TopicConfig::json(name("ops"), EventName::PortOps),
    ];
    let specs: Vec<(&str, i32)> = topics.iter().map(|t| (t.name.as_str(), partitions)).collect();
    support::create_topics(&stack.brokers, &specs).await;
    let config = kafka(stack, topics.clone());
    let options = ProduceOptions {
        count: Some(records),
        trace_context: false,
        ..ProduceOptions::for_config(&config).expect("simulator topics")
    };
    let report = tokio::task::spawn_blocking(move || {
        porttrack::sim::produce(&config, &mut simulator(vessels), &options, &AtomicBool::new(false), None)
    })
    .await
    .expect("producer thread")
    .expect("produce");
    assert_eq!(report.failed, 0, "every mixed record acknowledged");
    Input { topics, records: report.acked }
}
