//! Shared fixtures for tests that run against the real local stack
//! (Apache Kafka, Postgres, the search engine, Prometheus), started by
//! `deploy/local/up`.
#![allow(dead_code, unreachable_pub)]

pub mod slice;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Where the local stack's services are (with its Kafka SASL_SSL listener,
/// `stack.sasl`): the drill crate's stack module, the one reader of `stack.env`.
pub use porttrack_drill::stack::Stack;

pub fn repo_root() -> PathBuf {
    porttrack_drill::stack::repo_root()
}

/// Brings the local stack up (idempotent; quick when it is already up) once
/// per test process and returns its addresses.
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        Stack::up(&repo_root()).unwrap_or_else(|e| panic!("{e}: the local stack is required for this test"))
    })
}

/// An unsigned number from the environment (bench sizes), or `default`.
pub fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    format!("{prefix}-{}-{t}-{n}", std::process::id())
}

pub async fn create_topics(brokers: &str, topics: &[(&str, i32)]) {
    porttrack_drill::stack::create_topics(brokers, topics).await.unwrap_or_else(|e| panic!("{e}"));
}

/// Creates a fresh database next to the stack's and returns its URL.
pub async fn create_database(base_url: &str, name: &str) -> String {
    let (client, conn) =
        tokio_postgres::connect(base_url, tokio_postgres::NoTls).await.expect("connect to postgres");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
    let (prefix, _) = base_url.rsplit_once('/').expect("url has a database path");
    format!("{prefix}/{name}")
}

/// Committed offsets of `group` on `topic`, per partition.
pub fn committed(brokers: &str, group: &str, topic: &str, partitions: i32) -> HashMap<i32, i64> {
    let consumer = porttrack_drill::stack::kafka_reader(brokers, group).expect("consumer");
    let mut attempts = 0;
    loop {
        match porttrack_drill::stack::committed_offsets(&consumer, topic, partitions, Duration::from_secs(10))
        {
            Ok(c) => return c,
            // The coordinator may be moving or still loading its partition
            // of __consumer_offsets: transient, retried for about 20 s.
            Err(e) if attempts < 20 => {
                attempts += 1;
                eprintln!("reading committed offsets: {e}; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => panic!("committed offsets: {e}"),
        }
    }
}

/// Waits until `check` returns true, polling, or panics with `what` after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A record read back from a topic.
#[derive(Debug, Clone)]
pub struct ReadRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub headers: HashMap<String, String>,
}

/// Reads every record of `topic` from the beginning until `expected` were
/// read or nothing new arrived for a while.
pub fn read_all(brokers: &str, topic: &str, partitions: i32, expected: usize) -> Vec<ReadRecord> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning).expect("tpl");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut quiet_since = Instant::now();
    while out.len() < expected || quiet_since.elapsed() < Duration::from_secs(2) {
        if quiet_since.elapsed() > Duration::from_secs(20) {
            break;
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                quiet_since = Instant::now();
                let headers = m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| {
                                (
                                    h.key.to_owned(),
                                    String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(ReadRecord {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    payload: m.payload().map(<[u8]>::to_vec),
                    headers,
                });
            }
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None => {}
        }
    }
    out
}

/// Writes a pipeline configuration for one test and returns its path.
pub fn write_config(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("porttrack.toml");
    std::fs::write(&path, body).expect("writing config");
    path
}

/// The partition numbers in one "partitions assigned"/"partitions revoked"
/// log line of the source (its `topic[partition]` entries).
pub fn logged_partitions(line: &str) -> impl Iterator<Item = i32> + '_ {
    line.split('"')
        .filter(|t| t.ends_with(']'))
        .filter_map(|entry| entry.rsplit_once('[').and_then(|(_, n)| n.trim_end_matches(']').parse().ok()))
}

/// The partition numbers a `porttrack run` instance owns at the end of its
/// log, replayed from its incremental "partitions assigned" and "partitions
/// revoked" lines (each lists `topic[partition]` entries).
pub fn owned_partitions(log: &Path) -> std::collections::BTreeSet<i32> {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let mut owned = std::collections::BTreeSet::new();
    for line in text.lines() {
        let assigned = line.contains("partitions assigned");
        if !assigned && !line.contains("partitions revoked") {
            continue;
        }
        for p in logged_partitions(line) {
            if assigned {
                owned.insert(p);
            } else {
                owned.remove(&p);
            }
        }
    }
    owned
}

/// Elasticsearch-API helpers (the local stack runs OpenSearch): the drill
/// crate's, which read the drills' results back too.
pub mod es {
    pub async fn refresh(base: &str, pattern: &str) {
        let status = porttrack_drill::stack::es_refresh(&reqwest::Client::new(), base, pattern)
            .await
            .unwrap_or_else(|e| panic!("refresh: {e}"));
        assert!(status.is_success(), "refresh {pattern}: {status}");
    }

    /// Every document id under `pattern`, paging with `search_after`.
    pub async fn ids(base: &str, pattern: &str) -> Vec<String> {
        porttrack_drill::stack::es_ids(&reqwest::Client::new(), base, pattern)
            .await
            .unwrap_or_else(|e| panic!("search: {e}"))
    }
}
