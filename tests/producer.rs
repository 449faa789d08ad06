//! `AckedProducer`, the producer the pipeline writes dead letters with,
//! against the real local Kafka: a write returns once the broker holds the
//! record, a refused one returns its error, and an idle producer does not
//! spin the way rdkafka's own threaded producer does.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use porttrack_ingest::AckedProducer;
use porttrack_ingest::producer::Record;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::FutureProducer;
use support::{stack, unique};

fn config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers).set("acks", "all").set("message.max.bytes", "100000");
    config
}

fn record<'a>(topic: &'a str, payload: &'a [u8]) -> Record<'a> {
    Record { topic, key: Some(b"244000001"), payload: Some(payload), headers: OwnedHeaders::new() }
}

/// Sum of the high watermarks of `topic`'s partitions.
fn stored(brokers: &str, topic: &str, partitions: i32) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("acks"))
        .create()
        .unwrap();
    (0..partitions).map(|p| consumer.fetch_watermarks(topic, p, Duration::from_secs(10)).unwrap().1).sum()
}

/// The tests run one at a time: the idle test tells the producers' threads
/// apart by name, and the other test's thread, busy writing or still
/// finishing its last poll, would count as ours.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn a_write_returns_once_the_broker_holds_it_and_a_refused_one_with_its_error() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let stack = stack();
    let topic = unique("acked-producer");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        support::create_topics(&stack.brokers, &[(&topic, 2)]).await;
        let producer = AckedProducer::new(&config(&stack.brokers)).unwrap();
        for i in 0..20 {
            producer.send(record(&topic, format!("letter {i}").as_bytes())).await.unwrap();
            // acks=all: acknowledged means stored, so the watermark already counts it.
            assert_eq!(stored(&stack.brokers, &topic, 2), i + 1);
        }
        let too_large = vec![b'x'; 200_000];
        match producer.send(record(&topic, &too_large)).await {
            Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)) => {}
            other => panic!("a record over message.max.bytes: {other:?}"),
        }
        producer.flush(Duration::from_secs(5)).unwrap();
        assert_eq!(stored(&stack.brokers, &topic, 2), 20);
    });
}

/// CPU time of this process's threads named `name`, from the kernel's
/// per-thread scheduler statistics (nanoseconds).
fn thread_cpu_ns(name: &str) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let stat = std::fs::read_to_string(path.join("schedstat")).unwrap();
            total += stat.split_whitespace().next().unwrap().parse::<u64>().unwrap();
        }
    }
    total
}

/// The bug: rdkafka's threaded producer polls 100 ms at a time and ends each
/// poll spinning through the last fraction of a millisecond, 0.8% of a core
/// on an idle pipeline. Both producers idle side by side for the same
/// seconds; ours must spend a small part of what rdkafka's spends.
#[test]
fn an_idle_producer_does_not_spin_like_rdkafkas_threaded_one() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let stack = stack();
    let ours = AckedProducer::new(&config(&stack.brokers)).unwrap();
    let theirs: FutureProducer = config(&stack.brokers).create().unwrap();
    // Thread names as the kernel keeps them (15 bytes).
    let (our_thread, their_thread) = ("porttrack-acks", "producer pollin");
    // Longer than one poll: a producer dropped by the other test has let
    // its thread go by then.
    std::thread::sleep(Duration::from_secs(2));
    let (our_start, their_start) = (thread_cpu_ns(our_thread), thread_cpu_ns(their_thread));
    assert!(their_start > 0, "rdkafka's polling thread was not found: did its name change?");
    std::thread::sleep(Duration::from_secs(5));
    let ours_ns = thread_cpu_ns(our_thread) - our_start;
    let theirs_ns = thread_cpu_ns(their_thread) - their_start;
    eprintln!("idle for 5 s: ours {ours_ns} ns of CPU, rdkafka's threaded producer {theirs_ns} ns");
    assert!(ours_ns * 4 < theirs_ns, "ours {ours_ns} ns, rdkafka's {theirs_ns} ns");
    drop((ours, theirs));
}
