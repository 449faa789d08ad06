//! `cargo bench --bench slice`: the first slice's throughput next to the raw
//! rdkafka consumption rate of the same topic, measured in the same run.
//!
//! Both sides read the same records from the local stack's broker, each run
//! with a fresh consumer group; a rate is records divided by the time from
//! the first record consumed to the last one done (received, for raw;
//! committed after Postgres and Elasticsearch acknowledged, for the slice), so
//! group-join time is left out of both. Prints the median of the runs and the
//! ratio. `PORTTRACK_BENCH_RECORDS` (default 100000) and
//! `PORTTRACK_BENCH_RUNS` (default 3) size it.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use porttrack::config::{Config, HttpConfig};
use porttrack::pipeline::Pipeline;
use porttrack::sim::{ProduceOptions, SimConfig, Simulator};
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::config::{EventName, TopicConfig};
use porttrack_sinks::elasticsearch::ElasticsearchConfig;
use porttrack_sinks::postgres::PostgresConfig;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

const PARTITIONS: i32 = 4;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Records per second of a plain rdkafka consumer reading the whole topic.
fn raw_rate(brokers: &str, topic: &str, records: u64) -> f64 {
    // Assigned, not subscribed: the raw side measures fetching and
    // delivery only (the slice's rate also starts at its first record).
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", support::unique("bench-raw"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("raw consumer");
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning).expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut seen = 0_u64;
    let mut bytes = 0_usize;
    let mut first = None;
    let deadline = Instant::now() + Duration::from_secs(300);
    while seen < records {
        assert!(Instant::now() < deadline, "raw consumer stalled at {seen} records");
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            first.get_or_insert_with(Instant::now);
            bytes += m.payload().map_or(0, <[u8]>::len);
            seen += 1;
        }
    }
    let elapsed = first.map_or(Duration::ZERO, |t| t.elapsed());
    std::hint::black_box(bytes);
    records as f64 / elapsed.as_secs_f64()
}

async fn slice_rate(stack: &support::Stack, topic: &str, dlq: &str, records: u64, with_es: bool) -> f64 {
    let db = support::create_database(&stack.postgres_url, &support::unique("bench").replace('-', "_")).await;
    let config = Config {
        kafka: KafkaConfig {
            brokers: stack.brokers.clone(),
            group_id: support::unique("bench-slice"),
            topics: vec![TopicConfig::json(topic, EventName::Position)],
            dead_letter_topic: dlq.to_owned(),
            ..KafkaConfig::default()
        },
        postgres: Some(PostgresConfig { url: db, ..PostgresConfig::default() }),
        elasticsearch: with_es.then(|| ElasticsearchConfig {
            url: stack.elasticsearch_url.clone(),
            index_prefix: support::unique("bench"),
            ..ElasticsearchConfig::default()
        }),
        http: HttpConfig { listen: "127.0.0.1:0".parse().expect("addr"), ..HttpConfig::default() },
        ..Config::default()
    };
    let mut sinks = porttrack::outputs::build(&config).await.expect("sinks");
    // Without Elasticsearch configured the file sink would stand in; the
    // Postgres-only variant measures Postgres alone.
    sinks.retain(|s| s.name() != "file");
    let pipeline = Pipeline::start(&config, sinks).await.expect("pipeline");
    let status = pipeline.status();
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut first = None;
    loop {
        if first.is_none() && status.consumed() > 0 {
            first = Some(Instant::now());
        }
        if status.committed.load(std::sync::atomic::Ordering::Relaxed) >= records {
            break;
        }
        assert!(Instant::now() < deadline, "pipeline stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = first.map_or(Duration::ZERO, |t| t.elapsed());
    pipeline.stop().await.expect("stop");
    records as f64 / elapsed.as_secs_f64()
}

fn main() {
    let records = support::env_or("PORTTRACK_BENCH_RECORDS", 100_000);
    let runs = support::env_or("PORTTRACK_BENCH_RUNS", 3).max(1);
    let stack = support::stack();
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let topic = support::unique("bench-positions");
    let dlq = support::unique("bench-dlq");
    rt.block_on(support::create_topics(&stack.brokers, &[(&topic, PARTITIONS), (&dlq, 1)]));

    let kafka = KafkaConfig { brokers: stack.brokers.clone(), ..KafkaConfig::default() };
    let options = ProduceOptions { count: Some(records), ..ProduceOptions::positions_only(topic.clone()) };
    let mut sim = Simulator::new(SimConfig {
        vessels: 1_000,
        seed: 1,
        start: chrono::Utc::now() - chrono::Duration::hours(24),
        invalid_ratio: 0.0,
    });
    let produced =
        porttrack::sim::produce(&kafka, &mut sim, &options, &AtomicBool::new(false), None).expect("produce");
    assert_eq!(produced.acked, records, "every record acknowledged");
    println!("slice bench: {records} position records on {PARTITIONS} partitions, {runs} runs each");

    let mut raw = Vec::new();
    let mut full = Vec::new();
    let mut pg_only = Vec::new();
    for run in 1..=runs {
        let r = raw_rate(&stack.brokers, &topic, records);
        let f = rt.block_on(slice_rate(stack, &topic, &dlq, records, true));
        let p = rt.block_on(slice_rate(stack, &topic, &dlq, records, false));
        println!(
            "  run {run}: raw rdkafka {r:>8.0}/s | slice Postgres+Elasticsearch {f:>8.0}/s | slice Postgres only {p:>8.0}/s"
        );
        raw.push(r);
        full.push(f);
        pg_only.push(p);
    }
    let (raw, full, pg_only) = (median(raw), median(full), median(pg_only));
    println!("median records/s: raw rdkafka {raw:.0}");
    println!("  slice Postgres + Elasticsearch {full:.0}  ratio to raw {:.3}", full / raw);
    println!("  slice Postgres only            {pg_only:.0}  ratio to raw {:.3}", pg_only / raw);
}
