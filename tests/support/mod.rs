//! Shared fixtures for tests that run against the real local stack
//! (Apache Kafka, Postgres, the search engine, Prometheus), started by
//! `deploy/local/up`.
#![allow(dead_code, unreachable_pub)]

pub mod slice;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Where the local stack's services are.
#[derive(Debug, Clone)]
pub struct Stack {
    pub brokers: String,
    pub postgres_url: String,
    pub elasticsearch_url: String,
    pub prometheus_url: String,
    pub partitions: i32,
    /// Kafka's SASL_SSL listener (SCRAM-SHA-512, TLS with the stack's CA).
    pub sasl: SaslListener,
}

/// The local Kafka's secured listener and the credentials `up` made for it.
#[derive(Debug, Clone)]
pub struct SaslListener {
    pub brokers: String,
    pub username: String,
    pub password_file: PathBuf,
    pub ca_file: PathBuf,
}

impl SaslListener {
    /// librdkafka properties that connect to it (`password` overrides the real one).
    pub fn properties(&self, password: Option<&str>) -> Vec<(String, String)> {
        let real = std::fs::read_to_string(&self.password_file).expect("SCRAM password file");
        vec![
            ("security.protocol".into(), "sasl_ssl".into()),
            ("sasl.mechanism".into(), "SCRAM-SHA-512".into()),
            ("sasl.username".into(), self.username.clone()),
            ("sasl.password".into(), password.unwrap_or(real.trim()).to_owned()),
            ("ssl.ca.location".into(), self.ca_file.display().to_string()),
        ]
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Brings the local stack up (idempotent; quick when it is already up) once
/// per test process and returns its addresses.
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let root = repo_root();
        let status = Command::new(root.join("deploy/local/up"))
            .current_dir(&root)
            .status()
            .expect("running deploy/local/up");
        assert!(status.success(), "deploy/local/up failed: the local stack is required for this test");
        let env_file = root.join(".porttrack/stack/stack.env");
        let text =
            std::fs::read_to_string(&env_file).unwrap_or_else(|e| panic!("{}: {e}", env_file.display()));
        let env: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let get = |k: &str| env.get(k).unwrap_or_else(|| panic!("{k} missing from stack.env")).to_string();
        Stack {
            brokers: get("PORTTRACK_KAFKA__BROKERS"),
            postgres_url: get("PORTTRACK_POSTGRES__URL"),
            elasticsearch_url: get("PORTTRACK_ELASTICSEARCH__URL"),
            prometheus_url: get("PORTTRACK_PROMETHEUS_URL"),
            partitions: get("PORTTRACK_PARTITIONS").parse().unwrap_or(4),
            sasl: SaslListener {
                brokers: get("PORTTRACK_KAFKA_SASL_SSL_BROKERS"),
                username: get("PORTTRACK_KAFKA_SASL_USERNAME"),
                password_file: PathBuf::from(get("PORTTRACK_KAFKA_SASL_PASSWORD_FILE")),
                ca_file: PathBuf::from(get("PORTTRACK_TLS_CA_FILE")),
            },
        }
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
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers).create().expect("admin client");
    let new: Vec<NewTopic<'_>> =
        topics.iter().map(|(name, p)| NewTopic::new(name, *p, TopicReplication::Fixed(1))).collect();
    let results = admin
        .create_topics(&new, &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))))
        .await
        .expect("create_topics");
    for r in results {
        if let Err((topic, e)) = r {
            panic!("creating topic {topic}: {e}");
        }
    }
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
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let mut attempts = 0;
    let committed = loop {
        match consumer.committed_offsets(tpl.clone(), Duration::from_secs(10)) {
            Ok(c) => break c,
            // The coordinator may be moving or still loading its partition
            // of __consumer_offsets: transient, retried for about 20 s.
            Err(e) if attempts < 20 => {
                attempts += 1;
                eprintln!("reading committed offsets: {e}; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => panic!("committed offsets: {e}"),
        }
    };
    committed
        .elements()
        .iter()
        .map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { o } else { -1 }))
        .collect()
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
        for entry in line.split('"').filter(|t| t.ends_with(']')) {
            let Some(p) =
                entry.rsplit_once('[').and_then(|(_, n)| n.trim_end_matches(']').parse::<i32>().ok())
            else {
                continue;
            };
            if assigned {
                owned.insert(p);
            } else {
                owned.remove(&p);
            }
        }
    }
    owned
}

/// Elasticsearch-API helpers (the local stack runs OpenSearch).
pub mod es {
    use serde_json::{Value, json};

    pub async fn refresh(base: &str, pattern: &str) {
        let resp =
            reqwest::Client::new().post(format!("{base}/{pattern}/_refresh")).send().await.expect("refresh");
        assert!(resp.status().is_success(), "refresh {pattern}: {}", resp.status());
    }

    /// Every document id under `pattern`, paging with `search_after`.
    pub async fn ids(base: &str, pattern: &str) -> Vec<String> {
        let client = reqwest::Client::new();
        let mut out = Vec::new();
        let mut after: Option<Value> = None;
        loop {
            let mut body = json!({
                "size": 10_000,
                "_source": false,
                "sort": [{ "source.partition": "asc" }, { "source.offset": "asc" }],
            });
            if let Some(a) = &after {
                body["search_after"] = a.clone();
            }
            let resp: Value = client
                .post(format!("{base}/{pattern}/_search"))
                .json(&body)
                .send()
                .await
                .expect("search")
                .json()
                .await
                .expect("search json");
            let hits = resp["hits"]["hits"].as_array().cloned().unwrap_or_default();
            if hits.is_empty() {
                return out;
            }
            for h in &hits {
                out.push(h["_id"].as_str().expect("_id").to_owned());
            }
            after = hits.last().map(|h| h["sort"].clone());
        }
    }
}
