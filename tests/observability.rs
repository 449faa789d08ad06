//! Observability against the real local stack.
//!
//! * Every PromQL expression of the dashboards and rules
//!   (`deploy/prometheus/queries`) is evaluated by the stack's Prometheus
//!   while an in-process pipeline, scraped by it, processes every simulated
//!   stream: each must parse and, unless flagged `may_be_empty`, return data.
//!   And every metric name those expressions use must be scraped from this
//!   very instance (not from some other process Prometheus also scrapes).
//! * `/readyz` follows a sink outage while `/healthz` stays 200.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack::config::Config;
use porttrack::pipeline::Pipeline;
use porttrack::sim::{ProduceOptions, SimConfig, Simulator};
use porttrack_schemas::{Event, Sourced};
use porttrack_sinks::{Derived, Sink, SinkError, WriteOutcome};
use support::{Stack, stack, unique};

const PARTITIONS: i32 = 4;

/// Tests here share the process-wide metrics recorder and the broker.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Topics, database and configuration of one run.
async fn configure(
    stack: &Stack,
    name: &str,
    listen: &str,
    with_services: bool,
) -> (Config, std::path::PathBuf) {
    let streams = [
        ("positions", "json", Some("position")),
        ("static", "json", Some("static")),
        ("weather", "json", Some("weather")),
        ("cargo", "avro", None),
        ("ops", "json", Some("port_ops")),
    ];
    let names: Vec<(String, &str, Option<&str>)> =
        streams.iter().map(|(s, f, e)| (unique(&format!("obs-{name}-{s}")), *f, *e)).collect();
    let dlq = unique(&format!("obs-{name}-dlq"));
    let mut topics: Vec<(&str, i32)> = names.iter().map(|(t, _, _)| (t.as_str(), PARTITIONS)).collect();
    topics.push((&dlq, 1));
    support::create_topics(&stack.brokers, &topics).await;

    let dir = support::repo_root().join("target/test-runs").join(unique(&format!("obs-{name}")));
    std::fs::create_dir_all(&dir).unwrap();
    let mut toml = format!(
        r#"
[kafka]
brokers = "{brokers}"
group_id = "{group}"
dead_letter_topic = "{dlq}"
max_poll_interval = "30s"

[pipeline]
batch_linger = "50ms"
drain_timeout = "10s"

[processors]
snapshot_interval = "2s"
checkpoint_interval = "1s"

[files]
dir = "{files}"

[http]
listen = "{listen}"
"#,
        brokers = stack.brokers,
        group = unique(&format!("obs-{name}")),
        files = dir.join("files").display(),
    );
    for (topic, format, event) in &names {
        toml.push_str(&format!("\n[[kafka.topics]]\nname = \"{topic}\"\nformat = \"{format}\"\n"));
        if let Some(event) = event {
            toml.push_str(&format!("event = \"{event}\"\n"));
        }
    }
    if with_services {
        let db = unique(&format!("pt_obs_{name}")).replace('-', "_");
        let db_url = support::create_database(&stack.postgres_url, &db).await;
        toml.push_str(&format!(
            "\n[postgres]\nurl = \"{db_url}\"\n\n[elasticsearch]\nurl = \"{}\"\nindex_prefix = \"{}\"\n",
            stack.elasticsearch_url,
            unique(&format!("obs-{name}"))
        ));
    }
    let path = support::write_config(&dir, &toml);
    let config = Config::load(Some(&path)).unwrap();
    (config, dir)
}

/// Produces every simulated stream into the configured topics until `stop`.
fn start_producer(config: &Config, rate: f64, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let kafka = config.kafka.clone();
    let options = ProduceOptions { rate: Some(rate), ..ProduceOptions::for_config(&kafka).unwrap() };
    std::thread::spawn(move || {
        let mut sim = Simulator::new(SimConfig {
            vessels: 300,
            seed: 11,
            // Hours of backfill: ships have arrived, anchored and berthed by
            // the time the simulation catches up with the clock.
            start: Utc::now() - chrono::Duration::hours(6),
            invalid_ratio: 0.005,
        });
        // What is tested is the pipeline's telemetry: a broker slow to
        // acknowledge the last records at shutdown is reported, not fatal.
        match porttrack::sim::produce(&kafka, &mut sim, &options, &stop, None) {
            Ok(report) => report.acked,
            Err(e) => {
                eprintln!("simulated producer: {e:#}");
                0
            }
        }
    })
}

/// Binds the first free port Prometheus scrapes, leaving 9467 to tests/slice.rs.
async fn bind_scraped_port() -> tokio::net::TcpListener {
    for port in [9466, 9465, 9464] {
        if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            return listener;
        }
    }
    panic!("127.0.0.1:9464-9466 are all taken: nowhere the local Prometheus scrapes is free");
}

async fn prometheus_query(client: &reqwest::Client, url: &str, query: &str) -> serde_json::Value {
    client
        .get(format!("{url}/api/v1/query"))
        .query(&[("query", query)])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()
}

/// One line of `deploy/prometheus/queries`.
#[derive(Debug, serde::Deserialize)]
struct Query {
    source: String,
    kind: String,
    expr: String,
    may_be_empty: Option<String>,
}

fn queries() -> Vec<Query> {
    let root = support::repo_root();
    let out = Command::new(root.join("deploy/prometheus/queries")).current_dir(&root).output().unwrap();
    assert!(out.status.success(), "deploy/prometheus/queries: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let queries: Vec<Query> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(queries.len() > 50, "only {} expressions listed", queries.len());
    queries
}

/// Metric names an expression reads (not recording-rule names, which hold colons).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &expr[i..];
        let boundary =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':');
        if boundary && (rest.starts_with("porttrack_") || rest.starts_with("process_")) {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            let name = &rest[..len];
            if !name.contains(':') {
                names.insert(name.to_owned());
            }
            i += len;
        } else {
            i += 1;
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_and_rule_expression_evaluates_on_prometheus() {
    let _serial = SERIAL.lock().await;
    let stack = stack();
    let listener = bind_scraped_port().await;
    let addr = listener.local_addr().unwrap();
    let (config, dir) = configure(stack, "prom", &addr.to_string(), true).await;
    eprintln!("observability run in {}; instance {addr}", dir.display());

    let sinks = porttrack::outputs::build(&config).await.unwrap();
    let pipeline = Pipeline::start(&config, sinks).await.unwrap();
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http =
        tokio::spawn(porttrack::http::serve(listener, pipeline.status(), config.http.stall_after, async {
            let _ = http_stopped.await;
        }));
    let stop = Arc::new(AtomicBool::new(false));
    let producer = start_producer(&config, 400.0, Arc::clone(&stop));

    // Prometheus scrapes every 5 s: wait until it holds at least six samples
    // of this instance taken since it started (an earlier run may have used
    // the same address), the last with records committed, so 1-minute rates
    // have data.
    let client = reqwest::Client::new();
    let instance = addr.to_string();
    let started = Instant::now();
    loop {
        let window = started.elapsed().as_secs().max(1);
        let series = format!("porttrack_records_committed_total{{instance=\"{instance}\"}}");
        let value = |resp: serde_json::Value| {
            resp["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse::<f64>().ok())
        };
        let samples = value(
            prometheus_query(
                &client,
                &stack.prometheus_url,
                &format!("count_over_time({series}[{window}s])"),
            )
            .await,
        );
        let scraped_committed = value(prometheus_query(&client, &stack.prometheus_url, &series).await);
        let committed = pipeline.status().committed.load(Ordering::Relaxed);
        if samples.unwrap_or(0.0) >= 6.0 && scraped_committed.unwrap_or(0.0) > 0.0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "Prometheus has {samples:?} samples of {instance} after 90 s, last {scraped_committed:?} (committed {committed})"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    // Every expression parses and, unless allowed to be empty, returns data.
    let queries = queries();
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for q in &queries {
        names.extend(metric_names(&q.expr));
        let resp = prometheus_query(&client, &stack.prometheus_url, &q.expr).await;
        if resp["status"] != "success" {
            failures.push(format!("{} [{}]: {}\n    {}", q.source, q.kind, resp["error"], q.expr));
            continue;
        }
        let empty = resp["data"]["result"].as_array().is_none_or(Vec::is_empty);
        if empty && q.may_be_empty.is_none() {
            failures.push(format!("{} [{}]: no data\n    {}", q.source, q.kind, q.expr));
        }
    }

    // Every metric those expressions read is scraped from this instance.
    let resp = prometheus_query(
        &client,
        &stack.prometheus_url,
        &format!("count by (__name__) ({{__name__=~\"porttrack_.+|process_.+\", instance=\"{instance}\"}})"),
    )
    .await;
    let scraped: BTreeSet<String> = resp["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["metric"]["__name__"].as_str().map(str::to_owned))
        .collect();
    let missing: Vec<&String> = names.iter().filter(|n| !scraped.contains(*n)).collect();

    for f in &failures {
        eprintln!("FAILED {f}");
    }
    stop.store(true, Ordering::Relaxed);
    let acked = tokio::task::spawn_blocking(move || producer.join().unwrap()).await.unwrap();
    pipeline.stop().await.unwrap();
    let _ = stop_http.send(());
    http.await.unwrap().unwrap();

    eprintln!(
        "{} expressions evaluated, {} metric names checked, {acked} records produced",
        queries.len(),
        names.len()
    );
    assert!(
        missing.is_empty(),
        "metrics the rules and dashboards use but {instance} does not expose: {missing:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} expressions failed:\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n")
    );
}

/// A sink that fails transiently while `down` is set.
#[derive(Debug, Default)]
struct Switchable {
    down: AtomicBool,
    written: AtomicU64,
}

impl Sink for Switchable {
    fn name(&self) -> &'static str {
        "switchable"
    }

    fn write<'a>(&'a self, records: &'a [Sourced<Event>]) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        async move {
            if self.down.load(Ordering::Relaxed) {
                return Err(SinkError::Transient("switched off by the test".into()));
            }
            self.written.fetch_add(records.len() as u64, Ordering::Relaxed);
            Ok(WriteOutcome::default())
        }
        .boxed()
    }

    fn write_derived<'a>(&'a self, _: &'a Derived) -> BoxFuture<'a, Result<(), SinkError>> {
        async move {
            if self.down.load(Ordering::Relaxed) {
                return Err(SinkError::Transient("switched off by the test".into()));
            }
            Ok(())
        }
        .boxed()
    }

    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
        async { Ok(()) }.boxed()
    }
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> (u16, String) {
    let resp = client.get(format!("{base}{path}")).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Polls `path` until it answers `status`, or fails with the last answer.
async fn wait_status(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    status: u16,
    limit: Duration,
) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let (got, body) = get(client, base, path).await;
        if got == status {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {got} ({body:?}) after {limit:?}, expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_a_sink_outage_and_liveness_does_not() {
    let _serial = SERIAL.lock().await;
    let stack = stack();
    let (config, _dir) = configure(stack, "ready", "127.0.0.1:0", false).await;
    let sink = Arc::new(Switchable::default());
    let pipeline = Pipeline::start(&config, vec![sink.clone() as Arc<dyn Sink>]).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http =
        tokio::spawn(porttrack::http::serve(listener, pipeline.status(), config.http.stall_after, async {
            let _ = http_stopped.await;
        }));
    let stop = Arc::new(AtomicBool::new(false));
    let producer = start_producer(&config, 300.0, Arc::clone(&stop));
    let client = reqwest::Client::new();

    // Ready once partitions are assigned and the sink accepts writes.
    wait_status(&client, &base, "/readyz", 200, Duration::from_secs(60)).await;
    support::wait_for("a first write", Duration::from_secs(60), || sink.written.load(Ordering::Relaxed) > 0);

    // Outage: not ready, naming the sink; still alive; the gauge says so.
    sink.down.store(true, Ordering::Relaxed);
    let body = wait_status(&client, &base, "/readyz", 503, Duration::from_secs(30)).await;
    assert!(body.contains("switchable"), "the reason names the sink: {body:?}");
    let (live, _) = get(&client, &base, "/healthz").await;
    assert_eq!(live, 200, "a sink outage must not fail liveness");
    let (_, metrics) = get(&client, &base, "/metrics").await;
    assert!(metrics.contains("porttrack_sink_up{sink=\"switchable\"} 0"), "sink_up is 0 during the outage");
    let transient = metrics
        .lines()
        .find_map(|l| l.strip_prefix("porttrack_sink_errors_total{sink=\"switchable\",kind=\"transient\"} "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(transient.is_some_and(|v| v > 0.0), "transient errors counted: {transient:?}");

    // Recovery: ready again.
    sink.down.store(false, Ordering::Relaxed);
    wait_status(&client, &base, "/readyz", 200, Duration::from_secs(60)).await;
    let (live, _) = get(&client, &base, "/healthz").await;
    assert_eq!(live, 200);

    stop.store(true, Ordering::Relaxed);
    tokio::task::spawn_blocking(move || producer.join().unwrap()).await.unwrap();
    pipeline.stop().await.unwrap();
    let _ = stop_http.send(());
    http.await.unwrap().unwrap();
}

#[test]
fn metric_names_are_read_from_expressions() {
    let names = metric_names(
        "sum by (job) (rate(porttrack_records_consumed_total{job=\"porttrack\"}[5m])) / \
         instance:porttrack_error_ratio:rate5m + process_open_fds + my_porttrack_x",
    );
    let expected: BTreeSet<String> =
        ["porttrack_records_consumed_total", "process_open_fds"].iter().map(|s| s.to_string()).collect();
    assert_eq!(names, expected);
}

/// A stand-in OTLP/HTTP collector keeping every export request body.
async fn collector() -> (String, Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    use axum::routing::post;
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let kept = Arc::clone(&bodies);
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let kept = Arc::clone(&kept);
            async move {
                kept.lock().unwrap().push(body.to_vec());
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, bodies)
}

fn dropped_links(reason: &str) -> f64 {
    let needle = format!("porttrack_trace_links_dropped_total{{reason=\"{reason}\"}} ");
    porttrack::telemetry::render()
        .lines()
        .find_map(|l| l.strip_prefix(needle.as_str()))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Batch spans reach an OTLP collector, each linked to (at most
/// `max_links`) trace contexts of its records, with sink writes as children;
/// the contexts over the cap are counted. Runs on librdkafka's in-process
/// mock cluster: what is checked is the telemetry, not the broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_spans_are_exported_with_links_to_the_records_trace_contexts() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use porttrack::config::{LogConfig, LogFormat, TelemetryConfig};
    use porttrack_ingest::config::{EventName, TopicConfig};
    use prost::Message as _;
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};

    const RECORDS: u64 = 600;
    const MAX_LINKS: usize = 32;
    let _serial = SERIAL.lock().await;
    let (url, bodies) = collector().await;
    let cluster = rdkafka::mocking::MockCluster::new(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kafka.brokers = cluster.bootstrap_servers();
    config.kafka.topics = vec![TopicConfig::json("positions", EventName::Position)];
    config.kafka.group_id = unique("obs-otlp");
    for topic in ["positions", config.kafka.dead_letter_topic.as_str()] {
        cluster.create_topic(topic, 2, 1).unwrap();
    }
    config.files.dir = dir.path().to_path_buf();
    config.pipeline.batch_max_records = 100;
    config.telemetry =
        TelemetryConfig { otlp_endpoint: Some(url), max_links: MAX_LINKS, ..TelemetryConfig::default() };

    // Records with known trace contexts: trace id = record number + 1.
    let producer: FutureProducer =
        rdkafka::ClientConfig::new().set("bootstrap.servers", cluster.bootstrap_servers()).create().unwrap();
    let now = Utc::now();
    for i in 0..RECORDS {
        let mmsi = 244_000_000 + (i % 50) as u32;
        let t = (now - chrono::Duration::seconds((RECORDS - i) as i64)).to_rfc3339();
        let payload = format!(r#"{{"mmsi":{mmsi},"timestamp":"{t}","lat":51.95,"lon":4.05}}"#);
        let traceparent = format!("00-{:032x}-{:016x}-01", i + 1, i + 1);
        let headers = OwnedHeaders::new().insert(Header { key: "traceparent", value: Some(&traceparent) });
        let key = mmsi.to_string();
        let record = FutureRecord::to("positions").key(&key).payload(&payload).headers(headers);
        producer.send(record, Duration::from_secs(10)).await.unwrap();
    }

    let log = LogConfig { format: LogFormat::Json, filter: "info".into() };
    let guard = porttrack::telemetry::init_with_writer(&log, &config.telemetry, std::io::sink).unwrap();
    assert!(guard.exporting(), "another test installed a subscriber first");
    let capped_before = dropped_links("cap");
    let sinks = porttrack::outputs::build(&config).await.unwrap();
    let pipeline = Pipeline::start(&config, sinks).await.unwrap();
    let status = pipeline.status();
    support::wait_for("every record committed", Duration::from_secs(60), || {
        status.committed.load(Ordering::Relaxed) >= RECORDS
    });
    pipeline.stop().await.unwrap();
    let capped = dropped_links("cap") - capped_before;
    drop(guard); // flushes the exporter

    let mut batches = Vec::new();
    let mut others = Vec::new();
    for body in bodies.lock().unwrap().iter() {
        let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        for resource in request.resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.clone());
            assert!(format!("{service:?}").contains("porttrack"), "service.name: {service:?}");
            for scope in resource.scope_spans {
                for span in scope.spans {
                    if span.name == "batch" { batches.push(span) } else { others.push(span) }
                }
            }
        }
    }
    assert!(batches.len() >= (RECORDS / 100) as usize, "{} batch spans exported", batches.len());
    let mut linked = BTreeSet::new();
    let mut links = 0;
    for batch in &batches {
        assert!(batch.links.len() <= MAX_LINKS, "{} links on one batch", batch.links.len());
        assert!(batch.parent_span_id.is_empty(), "a batch span is a root");
        for link in &batch.links {
            let id = u128::from_be_bytes(link.trace_id.as_slice().try_into().unwrap());
            assert!((1..=RECORDS as u128).contains(&id), "linked to an unknown trace {id:x}");
            assert_eq!(link.span_id, (id as u64).to_be_bytes().to_vec(), "the producer's span id");
            linked.insert(id);
            links += 1;
        }
    }
    assert!(links > 0, "no link exported");
    assert_eq!(linked.len(), links, "each record's context linked once");
    assert_eq!(links as f64 + capped, RECORDS as f64, "every context linked or counted as over the cap");
    let batch_ids: BTreeSet<&[u8]> = batches.iter().map(|s| s.span_id.as_slice()).collect();
    let writes: Vec<_> = others.iter().filter(|s| s.name == "sink_write").collect();
    assert!(
        !writes.is_empty(),
        "sink_write spans exported: {:?}",
        others.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert!(
        writes.iter().all(|w| batch_ids.contains(w.parent_span_id.as_slice())),
        "every sink_write is a child of a batch span"
    );
    assert!(others.iter().any(|s| s.name == "commit"), "commit spans exported");
}
