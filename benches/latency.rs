//! `cargo bench --bench latency`: record-to-Postgres latency at a steady
//! produce rate (issue 5's objective: p99 ≤ 1 s at 20,000 events/s).
//!
//! Runs the pipeline in-process against the local stack (Postgres only, so
//! the figure is Postgres's), waits until it owns every partition, then
//! produces simulated positions at a fixed rate for a fixed time. Latency
//! is the pipeline's own `porttrack_record_latency_seconds` histogram: each
//! record's Kafka timestamp (set by the producer when it sends the record)
//! to the moment every sink acknowledged its batch. The first seconds
//! (warm-up: connection pools, partition creation, the first fetches) are
//! subtracted by snapshotting the histogram when they end.
//!
//! Beside it, from the same run, the Postgres write time per batch
//! (`porttrack_sink_write_duration_seconds{sink="postgres"}`): the sink's
//! share; the rest of a record's latency is the broker's (produce, store,
//! fetch), the batch linger and any queueing in front of the sink. With
//! `PORTTRACK_BENCH_RAW=1` a plain rdkafka consumer also reads the topic
//! beside the pipeline and times each record from its Kafka timestamp to its
//! arrival: the broker alone, measured directly, though a second reader
//! loads the broker too.
//!
//! Prints the produce rate actually sustained, the quantiles (histogram
//! ones are the upper bound of the bucket they fall in: 0.1 s steps around
//! 1 s for record latency; exact for the plain consumer) and whether p99 met
//! the objective.
//!
//! `PORTTRACK_BENCH_RATE` (events/s, default 20000),
//! `PORTTRACK_BENCH_SECONDS` (default 60) and
//! `PORTTRACK_BENCH_WARMUP_SECONDS` (default 10) size it.

#![allow(clippy::unwrap_used)] // a bench: a panic is the failure report

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use porttrack::config::{Config, HttpConfig};
use porttrack::pipeline::Pipeline;
use porttrack::sim::{ProduceOptions, SimConfig, Simulator};
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::config::{EventName, TopicConfig};
use porttrack_sinks::postgres::PostgresConfig;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

const PARTITIONS: i32 = 4;
const LATENCY: &str = "porttrack_record_latency_seconds_bucket";
const WRITE: &str = "porttrack_sink_write_duration_seconds_bucket{sink=\"postgres\"";
const OBJECTIVE_SECONDS: f64 = 1.0;

type Buckets = BTreeMap<u64, (f64, u64)>;

/// Cumulative bucket counts of histogram `metric`, by upper bound.
fn buckets(metric: &str) -> Buckets {
    let text = porttrack::telemetry::metrics().render();
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with(metric)) {
        let Some(le) = line.split("le=\"").nth(1).and_then(|r| r.split('"').next()) else { continue };
        let bound = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap() };
        let count: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        // Keyed by the bound's bits so the map sorts like the bounds (all ≥ 0).
        out.insert(bound.to_bits(), (bound, count));
    }
    out
}

/// The upper bound of the bucket holding quantile `q` of `after - before`.
fn quantile(before: &Buckets, after: &Buckets, q: f64) -> f64 {
    let total =
        after.values().map(|v| v.1).max().unwrap_or(0) - before.values().map(|v| v.1).max().unwrap_or(0);
    let rank = (q * total as f64).ceil() as u64;
    for (key, (bound, count)) in after {
        let earlier = before.get(key).map_or(0, |v| v.1);
        if count - earlier >= rank.max(1) {
            return *bound;
        }
    }
    f64::INFINITY
}

/// Receive latencies (ms) of a plain consumer reading `topic` beside the
/// pipeline until `stop`, for records stamped at or after `from_ms`.
fn raw_latencies(brokers: &str, topic: &str, from_ms: &AtomicU64, stop: &AtomicBool) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", support::unique("bench-latency-raw"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("raw consumer");
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning).expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let now = chrono::Utc::now().timestamp_millis();
            if let Some(t) = m.timestamp().to_millis()
                && t >= from_ms.load(Ordering::Relaxed) as i64
            {
                out.push(now - t);
            }
        }
    }
    out
}

/// The nearest-rank quantile `q` of `v`, in seconds.
fn exact(v: &mut [i64], q: f64) -> f64 {
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    v.get(rank - 1).map_or(f64::NAN, |ms| *ms as f64 / 1000.0)
}

fn main() {
    let rate = support::env_or("PORTTRACK_BENCH_RATE", 20_000);
    let seconds = support::env_or("PORTTRACK_BENCH_SECONDS", 60);
    let warmup = support::env_or("PORTTRACK_BENCH_WARMUP_SECONDS", 10).min(seconds / 2);
    let records = rate * seconds;
    let stack = support::stack();
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let topic = support::unique("bench-latency");
    let dlq = support::unique("bench-latency-dlq");
    rt.block_on(support::create_topics(&stack.brokers, &[(&topic, PARTITIONS), (&dlq, 1)]));
    let db = rt.block_on(support::create_database(
        &stack.postgres_url,
        &support::unique("bench_latency").replace('-', "_"),
    ));
    porttrack::telemetry::metrics(); // the pipeline records into the global recorder

    let config = Config {
        kafka: KafkaConfig {
            brokers: stack.brokers.clone(),
            group_id: support::unique("bench-latency"),
            topics: vec![TopicConfig::json(&topic, EventName::Position)],
            dead_letter_topic: dlq.clone(),
            ..KafkaConfig::default()
        },
        postgres: Some(PostgresConfig { url: db, ..PostgresConfig::default() }),
        http: HttpConfig { listen: "127.0.0.1:0".parse().expect("addr"), ..HttpConfig::default() },
        ..Config::default()
    };
    let pipeline = rt.block_on(async {
        let mut sinks = porttrack::outputs::build(&config).await.expect("sinks");
        sinks.retain(|s| s.name() != "file"); // Postgres alone
        Pipeline::start(&config, sinks).await.expect("pipeline")
    });
    let status = pipeline.status();
    let joined = Instant::now();
    while status.assigned_partitions() < PARTITIONS as usize {
        assert!(joined.elapsed() < Duration::from_secs(120), "the pipeline got no assignment");
        std::thread::sleep(Duration::from_millis(50));
    }

    println!(
        "latency bench: {records} positions at {rate}/s for {seconds} s, {PARTITIONS} partitions, Postgres sink"
    );
    let kafka = KafkaConfig { brokers: stack.brokers.clone(), ..KafkaConfig::default() };
    let options = ProduceOptions {
        rate: Some(rate as f64),
        count: Some(records),
        // No traceparent headers: AIS receivers send none, and the plain
        // consumer baseline reads the same bytes.
        trace_context: false,
        ..ProduceOptions::positions_only(topic.clone())
    };
    let raw_from = Arc::new(AtomicU64::new(u64::MAX));
    let raw_stop = Arc::new(AtomicBool::new(false));
    let raw = (std::env::var("PORTTRACK_BENCH_RAW").as_deref() == Ok("1")).then(|| {
        let (brokers, topic) = (stack.brokers.clone(), topic.clone());
        let (from, stop) = (Arc::clone(&raw_from), Arc::clone(&raw_stop));
        std::thread::spawn(move || raw_latencies(&brokers, &topic, &from, &stop))
    });
    let sent = Arc::new(AtomicU64::new(0));
    let producer = std::thread::spawn({
        let sent = Arc::clone(&sent);
        move || {
            let mut sim = Simulator::new(SimConfig {
                vessels: 2_000,
                seed: 7,
                // Far enough in the past that the simulation always has an
                // event due: the rate alone paces the producer.
                start: chrono::Utc::now() - chrono::Duration::hours(48),
                invalid_ratio: 0.0,
            });
            porttrack::sim::produce(&kafka, &mut sim, &options, &AtomicBool::new(false), Some(&sent))
                .expect("produce")
        }
    });
    std::thread::sleep(Duration::from_secs(warmup));
    let (before, write_before) = (buckets(LATENCY), buckets(WRITE));
    raw_from.store(chrono::Utc::now().timestamp_millis() as u64, Ordering::Relaxed);
    let report = producer.join().expect("producer thread");
    assert_eq!(report.acked, records, "every record acknowledged");
    let caught_up = Instant::now();
    while status.committed.load(Ordering::Relaxed) < records {
        assert!(caught_up.elapsed() < Duration::from_secs(600), "pipeline stalled");
        std::thread::sleep(Duration::from_millis(20));
    }
    let tail = caught_up.elapsed();
    let (after, write_after) = (buckets(LATENCY), buckets(WRITE));
    rt.block_on(pipeline.stop()).expect("stop");
    raw_stop.store(true, Ordering::Relaxed);
    let mut raw = raw.map(|t| t.join().expect("raw consumer thread"));

    let measured =
        after.values().map(|v| v.1).max().unwrap_or(0) - before.values().map(|v| v.1).max().unwrap_or(0);
    let sustained = report.acked as f64 / report.elapsed.as_secs_f64();
    println!(
        "  produced {} records in {:.1} s: {sustained:.0}/s sustained (target {rate}/s); pipeline done {:.2} s after the last ack",
        report.acked,
        report.elapsed.as_secs_f64(),
        tail.as_secs_f64()
    );
    println!("  after {warmup} s of warm-up, over {measured} records (bucket upper bounds):");
    println!("    quantile   record → Postgres   Postgres write, per batch");
    for q in [0.5, 0.9, 0.99, 0.999] {
        println!(
            "    p{:<8} ≤ {:>6.3} s          ≤ {:.3} s",
            q * 100.0,
            quantile(&before, &after, q),
            quantile(&write_before, &write_after, q)
        );
    }
    if let Some(raw) = raw.as_mut() {
        println!("  a plain consumer beside it ({} records, exact): the broker alone", raw.len());
        for q in [0.5, 0.9, 0.99, 0.999] {
            println!("    p{:<8}   {:>6.3} s", q * 100.0, exact(raw, q));
        }
    }
    let p99 = quantile(&before, &after, 0.99);
    let verdict = if p99 <= OBJECTIVE_SECONDS && sustained >= rate as f64 * 0.95 { "met" } else { "NOT met" };
    println!("  objective p99 ≤ {OBJECTIVE_SECONDS} s at {rate}/s: {verdict}");
}
