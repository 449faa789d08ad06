//! The source under slow sinks, against librdkafka's mock cluster and the
//! real broker (one body, both backends): every record must be staged
//! exactly once, in order, with commits covering exactly what was
//! completed, whether the sinks' stalls make the source pause and resume
//! its partitions or only wait for room. On the real broker the source is
//! created inside a Tokio runtime, as the pipeline creates it, and waits
//! for room on the channel itself; on the mock cluster outside one, where
//! it falls back to looking again every millisecond.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use porttrack_ingest::config::{EventName, TopicConfig};
use porttrack_ingest::{KafkaConfig, Source, SourceConfig};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc::error::TryRecvError;

const TOPIC: &str = "positions";
const PARTITIONS: i32 = 3;
const RECORDS: usize = 6_000;

fn payload(i: usize) -> String {
    if i.is_multiple_of(97) {
        return "{ not json".into();
    }
    format!(
        r#"{{"mmsi":{},"timestamp":"{}","lat":51.9,"lon":4.1}}"#,
        244_000_000 + i % 50,
        Utc::now().to_rfc3339()
    )
}

/// Slow sinks with the source pausing at once: pause and resume cycles.
#[test]
fn slow_sinks_pause_the_source_without_losing_or_repeating_records() {
    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster.create_topic(TOPIC, PARTITIONS, 1).expect("topic");
    let paused = run(&cluster.bootstrap_servers(), TOPIC, "backpressure", Duration::ZERO, None);
    assert!(paused, "the test must exercise pause/resume");
}

#[test]
fn slow_sinks_pause_the_source_on_the_real_broker_without_losing_or_repeating_records() {
    let (brokers, topic) = real_topic();
    let paused = run(&brokers, &topic, &support::unique("backpressure"), Duration::ZERO, Some(runtime()));
    assert!(paused, "the test must exercise pause/resume");
}

/// Bug: every moment the sinks fell behind paused the partitions, and
/// librdkafka fetched nothing for 0.4-1 s after each resume (a quarter of
/// a `json → postgres` bench run). Stalls shorter than `pause_after` are
/// now waited out, the prefetched records kept.
#[test]
fn short_sink_stalls_do_not_pause_the_source() {
    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster.create_topic(TOPIC, PARTITIONS, 1).expect("topic");
    let paused =
        run(&cluster.bootstrap_servers(), TOPIC, "short-stalls", SourceConfig::default().pause_after, None);
    assert!(!paused, "stalls of 15 ms must not pause the source");
}

#[test]
fn short_sink_stalls_do_not_pause_the_source_on_the_real_broker() {
    let (brokers, topic) = real_topic();
    let pause_after = SourceConfig::default().pause_after;
    let paused = run(&brokers, &topic, &support::unique("short-stalls"), pause_after, Some(runtime()));
    assert!(!paused, "stalls of 15 ms must not pause the source");
}

/// A runtime like the pipeline's, for the source to wait on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime")
}

/// A fresh topic on the local stack's broker.
fn real_topic() -> (String, String) {
    let brokers = support::stack().brokers.clone();
    let topic = support::unique("backpressure");
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(support::create_topics(&brokers, &[(&topic, PARTITIONS)]));
    (brokers, topic)
}

/// Produces `RECORDS` into `topic`, runs a source over it whose sink takes
/// 15 ms per batch of at most 100, with one batch in flight, and checks
/// every offset was staged once, in order, and committed. Returns whether
/// the source ever paused. With `runtime`, the source is created inside it.
fn run(
    brokers: &str,
    topic: &str,
    group: &str,
    pause_after: Duration,
    runtime: Option<tokio::runtime::Runtime>,
) -> bool {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    for i in 0..RECORDS {
        let key = (i % 50).to_string();
        let body = payload(i);
        producer.send(BaseRecord::to(topic).key(&key).payload(&body)).expect("enqueue");
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(10)).expect("flush");

    let kafka = KafkaConfig {
        brokers: brokers.to_owned(),
        group_id: group.to_owned(),
        topics: vec![TopicConfig::json(topic, EventName::Position)],
        session_timeout: Duration::from_secs(6),
        max_poll_interval: Duration::from_secs(20),
        ..KafkaConfig::default()
    };
    // Small batches and one slot in flight: the sinks are behind all the
    // time.
    let config = SourceConfig {
        batch_max_records: 100,
        batch_linger: Duration::from_millis(10),
        max_in_flight_batches: 1,
        pause_after,
        drain_timeout: Duration::from_secs(5),
        ..SourceConfig::default()
    };
    let entered = runtime.as_ref().map(tokio::runtime::Runtime::enter);
    let (source, mut rx, committer) =
        Source::new(&kafka, config, std::sync::Arc::new(porttrack_ingest::NoHooks)).expect("source");
    drop(entered);
    let handle = source.handle();
    let thread = std::thread::spawn(move || source.run());

    let mut seen: HashMap<i32, Vec<i64>> = HashMap::new();
    let mut rejected = 0;
    let mut total = 0;
    let mut paused_seen = false;
    while total < RECORDS {
        let batch = loop {
            match rx.try_recv() {
                Ok(batch) => break batch,
                // A panicked poll thread keeps the channel open (the source's
                // state holds its sender): fail, do not wait for ever.
                Err(TryRecvError::Empty) if thread.is_finished() => panic!("the source thread ended"),
                Err(TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(1)),
                Err(TryRecvError::Disconnected) => panic!("the batch channel closed"),
            }
        };
        // Accepted and refused records sit in separate lists; within a
        // partition, a batch's offsets must follow the previous batch's.
        let mut in_batch: HashMap<i32, Vec<i64>> = HashMap::new();
        let origins =
            batch.accepted.iter().map(|r| &r.origin).chain(batch.rejected.iter().map(|l| &l.origin));
        for o in origins {
            in_batch.entry(o.partition).or_default().push(o.offset);
        }
        for (partition, mut offsets) in in_batch {
            offsets.sort_unstable();
            seen.entry(partition).or_default().extend(offsets);
        }
        rejected += batch.rejected.len();
        total += batch.len();
        // A slow sink.
        std::thread::sleep(Duration::from_millis(15));
        paused_seen |= handle.backpressured();
        committer.complete(batch);
    }
    assert_eq!(rejected, RECORDS.div_ceil(97), "every malformed record refused");
    for (partition, offsets) in &seen {
        let expected: Vec<i64> = (0..offsets.len() as i64).collect();
        assert_eq!(offsets, &expected, "partition {partition}: every offset once, in order");
    }
    assert_eq!(seen.values().map(Vec::len).sum::<usize>(), RECORDS);

    handle.shutdown();
    thread.join().expect("source thread");

    let check: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", brokers).set("group.id", group).create().expect("c");
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition(topic, p);
    }
    let committed = check.committed_offsets(tpl, Duration::from_secs(10)).expect("committed");
    for e in committed.elements() {
        let n = seen.get(&e.partition()).map_or(0, Vec::len) as i64;
        assert_eq!(e.offset(), Offset::Offset(n), "partition {} committed to its end", e.partition());
    }
    paused_seen
}
