//! The pipeline's side of each row, in-process, one run at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use porttrack::config::{Config, FilesConfig, HttpConfig};
use porttrack::pipeline::Pipeline;
use porttrack::sim::{ProduceOptions, ProduceReport, SimConfig, Simulator};
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::config::TopicConfig;
use porttrack_sinks::elasticsearch::{ElasticsearchConfig, ElasticsearchSink};
use porttrack_sinks::postgres::PostgresConfig;

use crate::cpu::{self, Run};
use crate::inputs::Input;
use crate::support::{self, Stack};

/// Where the pipeline writes; the null sink stands in for the others.
pub(crate) enum Sinks {
    Null,
    Postgres(String),
    Search(String),
}

fn search_config(stack: &Stack, prefix: &str) -> ElasticsearchConfig {
    ElasticsearchConfig {
        url: stack.elasticsearch_url.clone(),
        index_prefix: prefix.to_owned(),
        ..ElasticsearchConfig::default()
    }
}

/// The bench's pipeline configuration: a fresh group on `topics`, the sinks
/// asked for, the null sink standing in for the others.
pub(crate) fn config(stack: &Stack, topics: Vec<TopicConfig>, dlq: &str, sinks: Sinks) -> Config {
    let (postgres, elasticsearch) = match sinks {
        Sinks::Null => (None, None),
        Sinks::Postgres(url) => (Some(PostgresConfig { url, ..PostgresConfig::default() }), None),
        Sinks::Search(prefix) => (None, Some(search_config(stack, &prefix))),
    };
    Config {
        kafka: KafkaConfig {
            brokers: stack.brokers.clone(),
            group_id: support::unique("bench-pipeline"),
            topics,
            dead_letter_topic: dlq.to_owned(),
            ..KafkaConfig::default()
        },
        postgres,
        elasticsearch,
        files: FilesConfig { discard: true, ..FilesConfig::default() },
        http: HttpConfig { listen: "127.0.0.1:0".parse().expect("addr"), ..HttpConfig::default() },
        processors: processors(),
        ..Config::default()
    }
}

/// The processors' configuration: the default, in the checkpoint format
/// `PORTTRACK_BENCH_CHECKPOINT_VERSION` names, if it does.
fn processors() -> porttrack::config::ProcessorsConfig {
    let mut processors = porttrack::config::ProcessorsConfig::default();
    if let Ok(version) = std::env::var("PORTTRACK_BENCH_CHECKPOINT_VERSION") {
        processors.port.checkpoint_version =
            version.parse().expect("PORTTRACK_BENCH_CHECKPOINT_VERSION: 1 or 2");
    }
    processors
}

/// Builds the sinks (migrations, templates) and starts the pipeline.
pub(crate) async fn start(config: &Config) -> Pipeline {
    let sinks = porttrack::outputs::build(config).await.expect("sinks");
    Pipeline::start(config, sinks).await.expect("pipeline")
}

/// Consumes `input` from the start with a fresh group until every record
/// is committed.
pub(crate) async fn pipeline(stack: &Stack, input: &Input, dlq: &str, sinks: Sinks) -> Run {
    let config = config(stack, input.topics.clone(), dlq, sinks);
    // Migrations and templates are set-up, not the pipeline's running cost.
    let sinks = porttrack::outputs::build(&config).await.expect("sinks");
    let (heap_before, mut heap_peak) = (cpu::heap(), 0);
    let cpu_before = cpu::used();
    let pipeline = Pipeline::start(&config, sinks).await.expect("pipeline");
    let status = pipeline.status();
    let deadline = Instant::now() + Duration::from_secs(1800);
    let mut first = None;
    for turn in 0_u64.. {
        if status.committed.load(Ordering::Relaxed) >= input.records {
            break;
        }
        if first.is_none() && status.consumed() > 0 {
            first = Some(Instant::now());
        }
        if turn.is_multiple_of(20) {
            heap_peak = heap_peak.max(cpu::heap()); // every 100 ms
        }
        assert!(
            Instant::now() < deadline,
            "pipeline stalled: {} of {} committed",
            status.committed.load(Ordering::Relaxed),
            input.records
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = first.map_or(Duration::ZERO, |t| t.elapsed());
    let cpu = cpu::used() - cpu_before;
    assert_eq!(status.dead_lettered.load(Ordering::Relaxed), 0, "the bench's inputs are all valid");
    pipeline.stop().await.expect("stop");
    Run { events: input.records, elapsed, cpu, peak_heap: Some(heap_peak.saturating_sub(heap_before)) }
}

/// A fresh, empty database next to the stack's, its name unique to this run.
pub(crate) async fn database(stack: &Stack, prefix: &str) -> String {
    support::create_database(&stack.postgres_url, &support::unique(prefix).replace('-', "_")).await
}

/// Simulated positions into `topic` at a steady `rate`, on a thread of its
/// own, from `vessels` ships (seeded: the same stream every run).
pub(crate) fn steady_positions(
    stack: &Stack,
    topic: &str,
    rate: u64,
    records: u64,
    vessels: usize,
    seed: u64,
    sent: Arc<AtomicU64>,
) -> std::thread::JoinHandle<ProduceReport> {
    let kafka = KafkaConfig { brokers: stack.brokers.clone(), ..KafkaConfig::default() };
    let options = ProduceOptions {
        rate: Some(rate as f64),
        count: Some(records),
        // No traceparent headers: AIS receivers send none, and a plain
        // consumer beside the pipeline reads the same bytes.
        trace_context: false,
        ..ProduceOptions::positions_only(topic)
    };
    // Far enough in the past that the simulation always has an event due,
    // so the rate alone paces the producer: every vessel may need
    // `records / vessels` reports, at most ~200 s apart (moored or at
    // anchor). Bug: a fixed 48 h ran out 23 minutes into a 30-minute soak
    // at 20,000/s, and the producer fell back to the fleet's real-time
    // pace (a few hundred records/s).
    let history_s = (records / vessels.max(1) as u64 + 1).saturating_mul(200);
    let start = chrono::Utc::now() - chrono::Duration::seconds(history_s.max(48 * 3600) as i64);
    std::thread::spawn(move || {
        let mut sim = Simulator::new(SimConfig { vessels, seed, start, invalid_ratio: 0.0 });
        porttrack::sim::produce(&kafka, &mut sim, &options, &AtomicBool::new(false), Some(&sent))
            .expect("produce")
    })
}

/// A fresh database with PortTrack's schema (empty tables).
pub(crate) async fn migrated_database(stack: &Stack, prefix: &str) -> String {
    let url = database(stack, prefix).await;
    porttrack_sinks::postgres::migrate(&PostgresConfig { url: url.clone(), ..PostgresConfig::default() })
        .await
        .expect("migrate");
    url
}

/// The documents the pipeline indexed under `prefix`, loaded again under a
/// fresh prefix (same templates, same index names otherwise) with plain `_bulk`.
pub(crate) async fn plain_bulk(stack: &Stack, prefix: &str) -> Run {
    let base = &stack.elasticsearch_url;
    let docs = crate::baselines::documents(base, &format!("{prefix}-*")).await;
    let fresh = support::unique("bench-bulk");
    let config = search_config(stack, &fresh);
    ElasticsearchSink::new(&config).expect("search sink").install_template().await.expect("templates");
    let docs: Vec<(String, String, serde_json::Value)> =
        docs.into_iter().map(|(index, id, source)| (index.replacen(prefix, &fresh, 1), id, source)).collect();
    crate::baselines::bulk_loader(base, &docs, config.batch_max_docs, config.concurrency).await
}
