//! Record → Postgres latency at a steady produce rate, beside the broker
//! alone (issue 5's objective, kept here: p99 ≤ 1 s at 20,000 records/s).
//!
//! The pipeline runs in-process on Postgres (the null sink standing in for
//! the search engine), owns every partition, then simulated positions are
//! produced at a fixed rate for a fixed time. Its latency is the
//! pipeline's own `porttrack_record_latency_seconds` histogram: each
//! record's Kafka timestamp (set by the producer) to the moment every sink
//! acknowledged its batch; the warm-up (pools, partition creation, first
//! fetches) is subtracted by snapshotting the histogram when it ends, and a
//! figure is the upper bound of its bucket (0.1 s steps around 1 s). A plain
//! rdkafka consumer reads the same topic meanwhile and times each record
//! from its Kafka timestamp to its arrival: the broker alone, exactly
//! (though a second reader loads the broker too).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use porttrack_ingest::config::{EventName, TopicConfig};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

use crate::support::{self, Stack};

const LATENCY: &str = "porttrack_record_latency_seconds_bucket";

/// What one latency run measured.
pub(crate) struct Latency {
    pub(crate) target_rate: u64,
    pub(crate) sustained: f64,
    pub(crate) records: u64,
    /// p50, p99, p99.9 of record → every sink acknowledged (bucket bounds), s.
    pub(crate) pipeline: [f64; 3],
    /// The same quantiles of the plain consumer's receive latency, s.
    pub(crate) broker: [f64; 3],
}

const QUANTILES: [f64; 3] = [0.5, 0.99, 0.999];

type Buckets = BTreeMap<u64, (f64, u64)>;

/// Cumulative bucket counts of histogram `metric`, by upper bound.
fn buckets(metric: &str) -> Buckets {
    // What `/metrics` serves: the per-record histograms are rendered
    // beside the recorder's metrics, not by it (`telemetry::histogram`).
    let text = porttrack::telemetry::render();
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

/// Receive latencies (ms) of a plain consumer reading `topic` until `stop`,
/// for records stamped at or after `from_ms`.
fn broker_latencies(
    brokers: &str,
    topic: &str,
    partitions: i32,
    from_ms: &AtomicU64,
    stop: &AtomicBool,
) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", support::unique("bench-latency-plain"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("plain consumer");
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..partitions {
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

/// Produces at `rate` records/s for `seconds` (the first `warmup` not
/// counted) into a fresh topic while the pipeline writes to Postgres.
pub(crate) fn measure(
    rt: &tokio::runtime::Runtime,
    stack: &Stack,
    partitions: i32,
    rate: u64,
    seconds: u64,
    warmup: u64,
) -> Latency {
    let records = rate * seconds;
    let topic = support::unique("bench-latency");
    let dlq = support::unique("bench-latency-dlq");
    rt.block_on(support::create_topics(&stack.brokers, &[(&topic, partitions), (&dlq, 1)]));
    let db = rt.block_on(crate::runs::database(stack, "bench_latency"));
    porttrack::telemetry::metrics(); // the pipeline records into the global recorder
    let config = crate::runs::config(
        stack,
        vec![TopicConfig::json(&topic, EventName::Position)],
        &dlq,
        crate::runs::Sinks::Postgres(db),
    );
    let pipeline = rt.block_on(crate::runs::start(&config));
    let status = pipeline.status();
    let joined = Instant::now();
    while status.assigned_partitions() < partitions as usize {
        assert!(joined.elapsed() < Duration::from_secs(120), "the pipeline got no assignment");
        std::thread::sleep(Duration::from_millis(50));
    }

    let from = Arc::new(AtomicU64::new(u64::MAX));
    let stop = Arc::new(AtomicBool::new(false));
    let plain = {
        let (brokers, topic) = (stack.brokers.clone(), topic.clone());
        let (from, stop) = (Arc::clone(&from), Arc::clone(&stop));
        std::thread::spawn(move || broker_latencies(&brokers, &topic, partitions, &from, &stop))
    };
    let producer = crate::runs::steady_positions(stack, &topic, rate, records, 2_000, 7, Arc::default());
    std::thread::sleep(Duration::from_secs(warmup));
    let before = buckets(LATENCY);
    from.store(chrono::Utc::now().timestamp_millis() as u64, Ordering::Relaxed);
    let report = producer.join().expect("producer thread");
    assert_eq!(report.acked, records, "every record acknowledged");
    let caught_up = Instant::now();
    while status.committed.load(Ordering::Relaxed) < records {
        assert!(caught_up.elapsed() < Duration::from_secs(600), "pipeline stalled");
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = buckets(LATENCY);
    rt.block_on(pipeline.stop()).expect("stop");
    stop.store(true, Ordering::Relaxed);
    let mut broker = plain.join().expect("plain consumer thread");
    let measured =
        after.values().map(|v| v.1).max().unwrap_or(0) - before.values().map(|v| v.1).max().unwrap_or(0);
    // Records were produced for seconds after the warm-up: none counted
    // means the histogram was not found in what `/metrics` serves (as when
    // it moved out of the recorder and this still read only the recorder).
    assert!(measured > 0, "{LATENCY}: no record counted after the warm-up");
    Latency {
        target_rate: rate,
        sustained: report.acked as f64 / report.elapsed.as_secs_f64(),
        records: measured,
        pipeline: QUANTILES.map(|q| quantile(&before, &after, q)),
        broker: QUANTILES.map(|q| exact(&mut broker, q)),
    }
}
