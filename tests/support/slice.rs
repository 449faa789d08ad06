//! A pipeline scenario on the real local stack: its own topic, dead-letter
//! topic, group, database and index prefix; `porttrack run` processes
//! started and killed like pods; simulated positions produced with every
//! acknowledgement kept; and the Jepsen-style check of the stores against
//! those acknowledgements ([`verify`]). Used by `tests/slice.rs` and
//! `tests/rebalance.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::{DateTime, Utc};
use porttrack::sim::{AckedRecord, Expect, ProduceOptions, ProduceReport, SimConfig, Simulator};
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::dead_letter::headers;
use porttrack_schemas::Position;

use super::{Stack, es, stack, unique};

pub const PARTITIONS: i32 = 4;
pub const RECORDS: u64 = 100_000;
pub const INVALID_RATIO: f64 = 0.015;
/// The local broker's `group.consumer.session.timeout.ms` (deploy/local/up):
/// under the KIP-848 protocol the broker, not the member, sets it.
pub const SESSION_TIMEOUT_SECS: u64 = 10;

#[derive(Clone)]
pub struct Scenario {
    pub stack: &'static Stack,
    pub topic: String,
    pub dlq: String,
    pub group: String,
    pub db_url: String,
    pub es_prefix: String,
    /// Logs and files of this run, kept after the test for diagnosis.
    pub dir: PathBuf,
    pub config: PathBuf,
}

/// Scenarios run one at a time: they share one broker and two cores, and
/// the point is correctness, not contention.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn scenario(name: &str) -> Scenario {
    let stack = stack();
    let topic = unique(&format!("positions-{name}"));
    let dlq = unique(&format!("dlq-{name}"));
    let group = unique(&format!("group-{name}"));
    super::create_topics(&stack.brokers, &[(&topic, PARTITIONS), (&dlq, 1)]).await;
    let db_url =
        super::create_database(&stack.postgres_url, &unique(&format!("pt_{name}")).replace('-', "_")).await;
    let es_prefix = unique(&format!("t-{name}"));
    let dir = super::repo_root().join("target/test-runs").join(unique(name));
    std::fs::create_dir_all(&dir).expect("run directory");
    let config = super::write_config(
        &dir,
        &format!(
            r#"
[kafka]
brokers = "{brokers}"
group_id = "{group}"
dead_letter_topic = "{dlq}"
max_poll_interval = "30s"

[[kafka.topics]]
name = "{topic}"
format = "json"
event = "position"

[pipeline]
batch_max_records = 5000
batch_linger = "50ms"
drain_timeout = "10s"

[postgres]
url = "{db_url}"

[elasticsearch]
url = "{es}"
index_prefix = "{es_prefix}"

[files]
dir = "{files}"

[http]
listen = "127.0.0.1:0"
"#,
            brokers = stack.brokers,
            es = stack.elasticsearch_url,
            files = dir.join("files").display(),
        ),
    );
    Scenario { stack, topic, dlq, group, db_url, es_prefix, dir, config }
}

/// A pipeline process, killed if the test panics before stopping it.
pub struct Running(pub Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Scenario {
    pub fn spawn(&self, label: &str) -> Running {
        Running(Some(self.spawn_child(label)))
    }

    pub fn spawn_child(&self, label: &str) -> Child {
        let log = std::fs::File::create(self.log(label)).expect("log file");
        Command::new(env!("CARGO_BIN_EXE_porttrack"))
            .args(["run", "--config"])
            .arg(&self.config)
            .env("PORTTRACK_LOG__FILTER", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawning porttrack run")
    }

    pub fn log(&self, label: &str) -> PathBuf {
        self.dir.join(format!("{label}.log"))
    }

    /// Produces the simulated traffic and returns every acknowledgement.
    pub async fn produce(&self) -> ProduceReport {
        self.produce_n(RECORDS).await
    }

    pub async fn produce_n(&self, records: u64) -> ProduceReport {
        self.produce_at(records, None).await
    }

    /// Produces `records` at `rate` records/s (`None`: as fast as the broker takes them).
    pub async fn produce_at(&self, records: u64, rate: Option<f64>) -> ProduceReport {
        let kafka = KafkaConfig { brokers: self.stack.brokers.clone(), ..KafkaConfig::default() };
        let options = ProduceOptions {
            rate,
            count: Some(records),
            record_acks: true,
            ..ProduceOptions::positions_only(self.topic.clone())
        };
        let report = tokio::task::spawn_blocking(move || {
            let mut sim = Simulator::new(SimConfig {
                vessels: 400,
                seed: 42,
                start: Utc::now() - chrono::Duration::hours(12),
                invalid_ratio: INVALID_RATIO,
            });
            porttrack::sim::produce(&kafka, &mut sim, &options, &AtomicBool::new(false), None)
        })
        .await
        .expect("producer thread")
        .expect("producing");
        assert_eq!(report.failed, 0);
        assert_eq!(report.acks.len() as u64, records);
        report
    }

    pub fn committed_total(&self) -> i64 {
        super::committed(&self.stack.brokers, &self.group, &self.topic, PARTITIONS)
            .values()
            .map(|o| o.max(&0))
            .sum()
    }

    /// Waits until the group committed `expected`, failing fast (with the
    /// log) if one of the pipeline processes died.
    pub fn wait_committed(&self, expected: &HashMap<i32, i64>, running: &mut [(&str, &mut Running)]) {
        eprintln!("waiting for commits up to {expected:?}; logs in {}", self.dir.display());
        super::wait_for("the group to commit every acknowledged record", Duration::from_secs(600), || {
            for (label, child) in running.iter_mut() {
                let Some(child) = child.0.as_mut() else { continue };
                if let Ok(Some(exit)) = child.try_wait() {
                    let log = std::fs::read_to_string(self.log(label)).unwrap_or_default();
                    panic!("pipeline {label} exited early with {exit}:\n{log}");
                }
            }
            let committed = super::committed(&self.stack.brokers, &self.group, &self.topic, PARTITIONS);
            expected.iter().all(|(p, next)| committed.get(p).is_some_and(|c| c >= next))
        });
    }
}

pub fn terminate(mut running: Running) {
    let Some(mut child) = running.0.take() else { return };
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill -TERM");
    assert!(status.success());
    for _ in 0..300 {
        if let Some(exit) = child.try_wait().expect("try_wait") {
            assert!(exit.success(), "porttrack run exited with {exit} after SIGTERM");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("porttrack run did not stop within 30 s of SIGTERM");
}

/// Per partition, the offset after the last acknowledged record.
pub fn expected_next(acks: &[AckedRecord]) -> HashMap<i32, i64> {
    let mut next = HashMap::new();
    for a in acks {
        let e = next.entry(a.partition).or_insert(0);
        *e = (*e).max(a.offset + 1);
    }
    next
}

/// Checks the stores against the acknowledgements.
pub async fn verify(s: &Scenario, report: &ProduceReport) {
    let acks = &report.acks;
    let valid: Vec<(&AckedRecord, &Position)> = acks
        .iter()
        .filter_map(|a| if let Expect::Valid(p) = &a.expect { Some((a, p)) } else { None })
        .collect();
    let invalid: BTreeMap<(i32, i64), &str> = acks
        .iter()
        .filter_map(|a| {
            if let Expect::Invalid(c) = a.expect { Some(((a.partition, a.offset), c.as_str())) } else { None }
        })
        .collect();
    assert!(invalid.len() as f64 >= acks.len() as f64 * 0.01, "at least 1% invalid: {}", invalid.len());

    // Committed offsets equal what the producer was acknowledged: the acks
    // are the ground truth (Jepsen style), not the broker's watermark.
    let committed = super::committed(&s.stack.brokers, &s.group, &s.topic, PARTITIONS);
    let next = expected_next(acks);
    assert_eq!(next.len(), PARTITIONS as usize, "records went to every partition");
    for (p, n) in &next {
        assert_eq!(committed.get(p), Some(n), "committed offset of partition {p}");
    }

    // Postgres: the latest valid state of every vessel, and nothing else.
    let mut latest: HashMap<u32, (&AckedRecord, &Position)> = HashMap::new();
    for (a, p) in &valid {
        let e = latest.entry(p.mmsi).or_insert((a, p));
        if (p.timestamp, a.offset) > (e.1.timestamp, e.0.offset) {
            *e = (a, p);
        }
    }
    let (client, conn) = tokio_postgres::connect(&s.db_url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    let rows = client
        .query("SELECT mmsi, event_time, lat, lon, source_partition, source_offset FROM vessel_state", &[])
        .await
        .expect("query vessel_state");
    assert_eq!(rows.len(), latest.len(), "one row per valid vessel");
    for row in rows {
        let mmsi = row.get::<_, i32>(0) as u32;
        let (a, p) = latest.get(&mmsi).unwrap_or_else(|| panic!("unexpected vessel {mmsi}"));
        let got = (
            row.get::<_, DateTime<Utc>>(1),
            row.get::<_, f64>(2),
            row.get::<_, f64>(3),
            row.get::<_, i32>(4),
            row.get::<_, i64>(5),
        );
        assert_eq!(got, (p.timestamp, p.lat, p.lon, a.partition, a.offset), "state of {mmsi}");
    }

    // Elasticsearch: exactly one document per valid record.
    let pattern = format!("{}-positions-*", s.es_prefix);
    es::refresh(&s.stack.elasticsearch_url, &pattern).await;
    let ids = es::ids(&s.stack.elasticsearch_url, &pattern).await;
    let unique_ids: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique_ids.len(), ids.len(), "no document twice");
    let expected_ids: BTreeSet<String> =
        valid.iter().map(|(a, _)| format!("{}-{}-{}", s.topic, a.partition, a.offset)).collect();
    let got_ids: BTreeSet<String> = ids.into_iter().collect();
    assert_eq!(got_ids.len(), expected_ids.len(), "documents vs valid records");
    assert!(got_ids == expected_ids, "document ids differ from the valid records' coordinates");

    // Dead-letter topic: every invalid record, with its reason. Dead letters
    // are at-least-once (a crash can write one twice), so compare as a set.
    let letters = super::read_all(&s.stack.brokers, &s.dlq, 1, invalid.len());
    let mut seen: BTreeMap<(i32, i64), String> = BTreeMap::new();
    for l in &letters {
        let coord = (
            l.headers[headers::SOURCE_PARTITION].parse::<i32>().expect("partition header"),
            l.headers[headers::SOURCE_OFFSET].parse::<i64>().expect("offset header"),
        );
        assert_eq!(l.headers[headers::SOURCE_TOPIC], s.topic);
        assert!(!l.headers[headers::ERROR_MESSAGE].is_empty());
        assert!(l.payload.is_some() && l.key.is_some(), "original key and payload kept");
        seen.insert(coord, l.headers[headers::ERROR_CLASS].clone());
    }
    let seen: BTreeMap<(i32, i64), &str> = seen.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(seen.len(), invalid.len(), "dead letters vs invalid records");
    assert!(seen == invalid, "dead-letter coordinates or reasons differ from the invalid records");
}
