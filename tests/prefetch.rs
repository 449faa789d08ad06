//! librdkafka's read-ahead on the real broker: a consumer that runs behind
//! holds at most `queued.max.messages.kbytes` of prefetched records, the
//! bound [`KafkaConfig::consumer_config`] sets (16 MiB, where librdkafka's
//! own default is 64 MiB), and an operator's `properties` still raise it.
//!
//! "Runs behind" is taken to the limit: the consumer is assigned a topic
//! holding more than either bound and never polled, so librdkafka fetches
//! until its queue is full. What it holds is read as the heap this process
//! holds (jemalloc serves librdkafka's `malloc` too, [`porttrack::alloc`]),
//! so this file keeps to one test: another running beside it would move
//! the count.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::time::{Duration, Instant};

use porttrack_ingest::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

const PARTITIONS: i32 = 4;
const RECORD_BYTES: usize = 4_096;
/// 98 MB: more than librdkafka's default bound, so that bound is reached.
const RECORDS: usize = 24_000;
const MB: f64 = 1e6;

#[test]
fn a_consumer_running_behind_prefetches_at_most_its_bound() {
    let brokers = support::stack().brokers.clone();
    let topic = support::unique("prefetch");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(support::create_topics(&brokers, &[(&topic, PARTITIONS)]));
    produce(&brokers, &topic);

    let bounded = prefetched(&brokers, &topic, None);
    let raised = prefetched(&brokers, &topic, Some("65536"));
    eprintln!("prefetched: {:.1} MB bounded, {:.1} MB at 64 MiB", bounded / MB, raised / MB);
    // 16 MiB of payload is 16.8 MB; librdkafka holds its fetch buffers and
    // a header per message besides, and may overshoot by one fetch. Here
    // the heap held 24.3 MB under the 16 MiB bound, and 96.5 MB (nearly
    // the whole 98 MB topic) under 64 MiB and without the bound.
    assert!(bounded < 36.0 * MB, "the default bound must hold: {:.1} MB prefetched", bounded / MB);
    assert!(bounded > 8.0 * MB, "the consumer must have fetched: {:.1} MB", bounded / MB);
    assert!(raised > 2.5 * bounded, "an operator's bound must win: {:.1} MB prefetched", raised / MB);
}

fn produce(brokers: &str, topic: &str) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .set("queue.buffering.max.kbytes", "262144")
        .create()
        .unwrap();
    let body = vec![b'x'; RECORD_BYTES];
    for i in 0..RECORDS {
        let key = i.to_string();
        let mut record = BaseRecord::to(topic).key(&key).payload(&body);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(60)).unwrap();
}

/// The heap a consumer made from [`KafkaConfig::consumer_config`] (with
/// `queued.max.messages.kbytes` set to `kbytes` if given) holds once it has
/// fetched all it will without being polled, bytes.
fn prefetched(brokers: &str, topic: &str, kbytes: Option<&str>) -> f64 {
    let kafka = KafkaConfig {
        brokers: brokers.to_owned(),
        group_id: support::unique("prefetch"),
        properties: kbytes
            .map(|k| ("queued.max.messages.kbytes".to_owned(), k.to_owned()))
            .into_iter()
            .collect(),
        ..KafkaConfig::default()
    };
    let consumer: BaseConsumer = kafka.consumer_config().unwrap().create().unwrap();
    let heap = || porttrack::alloc::heap().expect("jemalloc's statistics (Linux)").allocated as f64;
    let before = heap();
    let mut partitions = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        partitions.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    // Assigned, not subscribed: no group to join, fetching starts at once.
    consumer.assign(&partitions).unwrap();
    // Until the heap has not grown for two seconds.
    let (mut peak, mut grew_at, started) = (0.0_f64, Instant::now(), Instant::now());
    while grew_at.elapsed() < Duration::from_secs(2) {
        assert!(started.elapsed() < Duration::from_secs(60), "prefetch did not settle");
        std::thread::sleep(Duration::from_millis(100));
        let held = heap() - before;
        if held > peak + 0.5 * MB {
            (peak, grew_at) = (held, Instant::now());
        }
        peak = peak.max(held);
    }
    drop(consumer);
    peak
}
