//! What full telemetry costs the pipeline: throughput with it on versus off,
//! measured in one run.
//!
//! ```sh
//! cargo bench --bench telemetry                 # 5 rounds of on/off
//! PORTTRACK_BENCH_ROUNDS=9 PORTTRACK_BENCH_RECORDS=200000 cargo bench --bench telemetry
//! ```
//!
//! **On** is everything a production instance runs: the Prometheus recorder
//! behind every `metrics::` call, `tracing` spans per batch (with links to
//! the records' `traceparent` contexts) and per sink write, ECS JSON logs at
//! `info` (written to `io::sink`), and the OpenTelemetry batch exporter
//! shipping spans over OTLP/HTTP to a dummy in-process collector that
//! accepts and discards them. **Off** is no recorder (`metrics`'
//! `NoopRecorder`, which is what the macros see when none is installed) and
//! no `tracing` subscriber.
//!
//! **Setup, and why.** Each measurement is a fresh child process (this
//! binary re-executed) so that "off" really has nothing installed: the
//! recorder and the subscriber are process-global and cannot be removed once
//! set. The child pre-produces the simulator's streams (positions, static,
//! weather, Avro cargo, port operations; 0.5% invalid, a `traceparent` on
//! every record) into librdkafka's in-process mock cluster, then times the
//! real [`Pipeline`]: source thread, decoding, the port processor, the file
//! sinks, dead letters, checkpoints and commits, from the first consumed
//! record to the last committed one. That is every place telemetry touches,
//! while the shared local stack (Kafka, Postgres, the search engine, other
//! engineers' tests on two cores) would add noise far larger than the effect
//! measured. The rounds alternate which mode goes first, and the
//! report gives medians and their ratio (target: on/off ≥ 0.95).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the report

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use porttrack::config::{Config, LogConfig, LogFormat, TelemetryConfig};
use porttrack::pipeline::Pipeline;
use porttrack::sim::{ProduceOptions, SimConfig, Simulator};
use porttrack_ingest::config::{EventName, Format, TopicConfig};
use rdkafka::mocking::MockCluster;

const CHILD: &str = "PORTTRACK_BENCH_TELEMETRY_CHILD";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    match std::env::var(CHILD).as_deref() {
        Ok("on") => child(true),
        Ok("off") => child(false),
        _ => parent(),
    }
}

/// One measurement's result, printed by the child as one line.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Measured {
    telemetry: bool,
    records: u64,
    seconds: f64,
    spans_exported_requests: u64,
    spans_exported_bytes: u64,
}

fn parent() {
    let rounds = env_or("PORTTRACK_BENCH_ROUNDS", 5);
    let records = env_or("PORTTRACK_BENCH_RECORDS", 100_000);
    let exe = std::env::current_exe().expect("own executable");
    println!(
        "telemetry bench: {rounds} rounds, {records} position records (+ other streams) per measurement"
    );
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate the order, so drift (other load, thermal) hits both modes.
        let order: [bool; 2] = if round % 2 == 0 { [true, false] } else { [false, true] };
        for telemetry in order {
            let output = Command::new(&exe)
                .env(CHILD, if telemetry { "on" } else { "off" })
                .env("PORTTRACK_BENCH_RECORDS", records.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .output()
                .expect("running a measurement");
            assert!(output.status.success(), "measurement failed: {}", output.status);
            let line = String::from_utf8_lossy(&output.stdout);
            let m: Measured = serde_json::from_str(line.trim()).expect("measurement line");
            let rate = m.records as f64 / m.seconds;
            println!(
                "round {round}: telemetry {:<3} {:>9.0} records/s ({} records in {:.2} s; {} OTLP requests, {} bytes)",
                if telemetry { "on" } else { "off" },
                rate,
                m.records,
                m.seconds,
                m.spans_exported_requests,
                m.spans_exported_bytes
            );
            if telemetry {
                assert!(m.spans_exported_requests > 0, "telemetry on, yet no span reached the collector");
                on.push(rate);
            } else {
                off.push(rate);
            }
        }
    }
    let (on, off) = (median(&mut on), median(&mut off));
    println!(
        "median records/s: telemetry on {on:.0}, off {off:.0}; ratio on/off {:.3} (target >= 0.95)",
        on / off
    );
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

fn child(telemetry: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let m = runtime.block_on(measure(telemetry));
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(&m).unwrap()).unwrap();
}

/// A stand-in OTLP/HTTP collector: accepts and counts export requests.
async fn dummy_collector(requests: Arc<AtomicU64>, bytes: Arc<AtomicU64>) -> String {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let (requests, bytes) = (Arc::clone(&requests), Arc::clone(&bytes));
            async move {
                requests.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                // An empty ExportTraceServiceResponse is zero bytes of protobuf.
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn measure(telemetry: bool) -> Measured {
    let records = env_or("PORTTRACK_BENCH_RECORDS", 100_000);
    let requests = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let collector = dummy_collector(Arc::clone(&requests), Arc::clone(&bytes)).await;

    let cluster = MockCluster::new(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kafka.brokers = cluster.bootstrap_servers();
    config.kafka.topics = vec![
        TopicConfig::json("positions", EventName::Position),
        TopicConfig::json("static", EventName::Static),
        TopicConfig::json("weather", EventName::Weather),
        TopicConfig { name: "cargo".into(), format: Format::Avro, event: None },
        TopicConfig::json("ops", EventName::PortOps),
    ];
    for topic in config.kafka.topic_names().into_iter().chain([config.kafka.dead_letter_topic.as_str()]) {
        cluster.create_topic(topic, 4, 1).unwrap();
    }
    config.files.dir = dir.path().to_path_buf();
    config.log = LogConfig { format: LogFormat::Json, filter: "info".into() };
    config.telemetry = TelemetryConfig { otlp_endpoint: Some(collector), ..TelemetryConfig::default() };
    if !telemetry {
        config.telemetry.otlp_endpoint = None;
    }

    // Pre-produce, untimed.
    let kafka = config.kafka.clone();
    let options = ProduceOptions { count: Some(records), ..ProduceOptions::for_config(&kafka).unwrap() };
    let report = tokio::task::spawn_blocking(move || {
        let mut sim = Simulator::new(SimConfig {
            vessels: 300,
            seed: 5,
            // Far enough back that the simulation never waits for the
            // wall clock: the whole count is backlog.
            start: Utc::now() - chrono::Duration::days(30),
            invalid_ratio: 0.005,
        });
        porttrack::sim::produce(&kafka, &mut sim, &options, &AtomicBool::new(false), None)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.failed, 0);
    let total = report.acked;
    eprintln!("  produced {total} records in {:.1} s", report.elapsed.as_secs_f64());

    // Install (or not) the telemetry, then time the pipeline.
    let _guard = if telemetry {
        porttrack::telemetry::metrics();
        Some(porttrack::telemetry::init_with_writer(&config.log, &config.telemetry, std::io::sink).unwrap())
    } else {
        // The pipeline installs the Prometheus recorder itself; a no-op one
        // installed first keeps the slot, as if there were none.
        metrics::set_global_recorder(metrics::NoopRecorder).unwrap();
        None
    };
    let sinks = porttrack::outputs::build(&config).await.unwrap();
    let pipeline = Pipeline::start(&config, sinks).await.unwrap();
    let status = pipeline.status();
    let deadline = Instant::now() + Duration::from_secs(120);
    while status.consumed() == 0 {
        assert!(Instant::now() < deadline, "nothing consumed");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Done when consumption and commits both stopped moving; the end is the
    // moment of the last change. (Not "all produced records": the mock
    // cluster keeps a bounded log per partition and drops the oldest
    // records of a large backlog, so fewer may be consumed than produced;
    // and a record can yield no event, so committed events need not equal
    // records.)
    let started = Instant::now();
    let (mut last, mut last_change) = ((0, 0), started);
    loop {
        let now = (status.consumed(), status.committed.load(Ordering::Relaxed));
        if now != last {
            (last, last_change) = (now, Instant::now());
        }
        if now.1 > 0 && last_change.elapsed() > Duration::from_secs(2) {
            break;
        }
        assert!(Instant::now() < deadline, "still consuming after 120 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let consumed = last.0;
    let seconds = (last_change - started).as_secs_f64();
    pipeline.stop().await.unwrap();
    // Flush the exporter so the collector has seen the spans.
    drop(_guard);
    Measured {
        telemetry,
        records: consumed,
        seconds,
        spans_exported_requests: requests.load(Ordering::Relaxed),
        spans_exported_bytes: bytes.load(Ordering::Relaxed),
    }
}
