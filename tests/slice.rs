//! The first end-to-end slice against the real local stack: simulated
//! positions → tansu → `porttrack run` → Postgres + osmem-server, with the
//! invalid ones on the dead-letter topic. Checked Jepsen-style against the
//! producer's acknowledgements: every acknowledged record is where it must
//! be, exactly once, and the committed offsets cover exactly what was acked.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

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
use support::{Stack, es, stack, unique};

const PARTITIONS: i32 = 4;
const RECORDS: u64 = 100_000;
const INVALID_RATIO: f64 = 0.015;
const SESSION_TIMEOUT_SECS: u64 = 30;

#[derive(Clone)]
struct Scenario {
    stack: &'static Stack,
    topic: String,
    dlq: String,
    group: String,
    db_url: String,
    es_prefix: String,
    /// Logs and files of this run, kept after the test for diagnosis.
    dir: PathBuf,
    config: PathBuf,
}

/// Scenarios run one at a time: they share one broker and two cores, and
/// the point is correctness, not contention.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scenario(name: &str) -> Scenario {
    let stack = stack();
    let topic = unique(&format!("positions-{name}"));
    let dlq = unique(&format!("dlq-{name}"));
    let group = unique(&format!("group-{name}"));
    support::create_topics(&stack.brokers, &[(&topic, PARTITIONS), (&dlq, 1)]).await;
    let db_url =
        support::create_database(&stack.postgres_url, &unique(&format!("pt_{name}")).replace('-', "_")).await;
    let es_prefix = unique(&format!("t-{name}"));
    let dir = support::repo_root().join("target/test-runs").join(unique(name));
    std::fs::create_dir_all(&dir).expect("run directory");
    let config = support::write_config(
        &dir,
        &format!(
            r#"
[kafka]
brokers = "{brokers}"
group_id = "{group}"
dead_letter_topic = "{dlq}"
session_timeout = "{SESSION_TIMEOUT_SECS}s"
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
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Scenario {
    fn spawn(&self, label: &str) -> Running {
        Running(Some(self.spawn_child(label)))
    }

    fn spawn_child(&self, label: &str) -> Child {
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

    fn log(&self, label: &str) -> PathBuf {
        self.dir.join(format!("{label}.log"))
    }

    /// Produces the simulated traffic and returns every acknowledgement.
    async fn produce(&self) -> ProduceReport {
        self.produce_n(RECORDS).await
    }

    async fn produce_n(&self, records: u64) -> ProduceReport {
        let kafka = KafkaConfig { brokers: self.stack.brokers.clone(), ..KafkaConfig::default() };
        let options = ProduceOptions {
            // tansu's sqlite-backed group coordinator stops answering
            // heartbeats in time under an unthrottled producer on a 2-core
            // machine, and slows as its database grows over the suite.
            rate: Some(10_000.0),
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

    fn committed_total(&self) -> i64 {
        support::committed(&self.stack.brokers, &self.group, &self.topic, PARTITIONS)
            .values()
            .map(|o| o.max(&0))
            .sum()
    }

    /// Waits until the group committed `expected`, failing fast (with the
    /// log) if one of the pipeline processes died.
    fn wait_committed(&self, expected: &HashMap<i32, i64>, running: &mut [(&str, &mut Running)]) {
        eprintln!("waiting for commits up to {expected:?}; logs in {}", self.dir.display());
        support::wait_for("the group to commit every acknowledged record", Duration::from_secs(600), || {
            for (label, child) in running.iter_mut() {
                let Some(child) = child.0.as_mut() else { continue };
                if let Ok(Some(exit)) = child.try_wait() {
                    let log = std::fs::read_to_string(self.log(label)).unwrap_or_default();
                    panic!("pipeline {label} exited early with {exit}:\n{log}");
                }
            }
            let committed = support::committed(&self.stack.brokers, &self.group, &self.topic, PARTITIONS);
            expected.iter().all(|(p, next)| committed.get(p).is_some_and(|c| c >= next))
        });
    }
}

fn terminate(mut running: Running) {
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
fn expected_next(acks: &[AckedRecord]) -> HashMap<i32, i64> {
    let mut next = HashMap::new();
    for a in acks {
        let e = next.entry(a.partition).or_insert(0);
        *e = (*e).max(a.offset + 1);
    }
    next
}

/// Checks the stores against the acknowledgements.
async fn verify(s: &Scenario, report: &ProduceReport) {
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

    // Committed offsets equal what the producer was acknowledged. (tansu's
    // high watermark under-reports after batched produces, so the acks are
    // the ground truth, not the watermark.)
    let committed = support::committed(&s.stack.brokers, &s.group, &s.topic, PARTITIONS);
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
    let letters = support::read_all(&s.stack.brokers, &s.dlq, 1, invalid.len());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_writes_every_record_exactly_once() {
    let _serial = SERIAL.lock().await;
    let s = scenario("single").await;
    let mut pipeline = s.spawn("single");
    let report = s.produce().await;
    s.wait_committed(&expected_next(&report.acks), &mut [("single", &mut pipeline)]);
    terminate(pipeline);
    verify(&s, &report).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_and_restart_loses_and_duplicates_nothing() {
    let _serial = SERIAL.lock().await;
    let s = scenario("kill").await;
    let mut first = s.spawn("first");
    let producing = tokio::spawn({
        let s = s.clone();
        async move { s.produce().await }
    });
    // Kill once a good part is committed but before the end.
    support::wait_for("a first commit", Duration::from_secs(300), || s.committed_total() >= 20_000);
    let mut child = first.0.take().expect("first instance");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // Start the replacement once the dead member's session has expired, as a
    // restarted pod would. tansu 0.6 gives a member that joins while a dead
    // member's session is still live an empty assignment, and does not
    // rebalance when that session later expires.
    std::thread::sleep(Duration::from_secs(SESSION_TIMEOUT_SECS + 5));
    let report = producing.await.expect("producer task");
    let mut second = s.spawn("second");
    s.wait_committed(&expected_next(&report.acks), &mut [("second", &mut second)]);
    terminate(second);
    verify(&s, &report).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_split_the_partitions_and_build_the_same_stores() {
    let _serial = SERIAL.lock().await;
    let s = scenario("pair").await;
    let mut a = s.spawn("a");
    let mut b = s.spawn("b");
    // Fewer records than the single-instance test: tansu's coordinator
    // rebalances a busy group every minute or two as its database grows, and
    // the point here is the split, not volume.
    let report = s.produce_n(30_000).await;
    s.wait_committed(&expected_next(&report.acks), &mut [("a", &mut a), ("b", &mut b)]);
    // Every assignment each instance received. tansu may rebalance later
    // (a slow coordinator times a session out), so look for the split, not
    // at the last assignment only.
    let assignments = |label: &str| -> Vec<BTreeSet<i32>> {
        let log = std::fs::read_to_string(s.log(label)).expect("instance log");
        log.lines()
            .filter(|l| l.contains("partitions assigned"))
            .map(|line| {
                let list = line.split("partitions=[").nth(1).and_then(|r| r.split(']').next()).unwrap_or("");
                list.split(',').filter_map(|p| p.trim().parse().ok()).collect()
            })
            .collect()
    };
    let split = |sets: &[BTreeSet<i32>]| sets.iter().any(|p| !p.is_empty() && p.len() < PARTITIONS as usize);
    let (pa, pb) = (assignments("a"), assignments("b"));
    assert!(split(&pa) && split(&pb), "both instances owned a share of the partitions: {pa:?} {pb:?}");
    let first_a =
        pa.iter().find(|p| !p.is_empty() && p.len() < PARTITIONS as usize).cloned().unwrap_or_default();
    let first_b =
        pb.iter().find(|p| !p.is_empty() && p.len() < PARTITIONS as usize).cloned().unwrap_or_default();
    assert!(
        first_a.is_disjoint(&first_b),
        "the first split owns no partition twice: {first_a:?} {first_b:?}"
    );
    terminate(a);
    terminate(b);
    verify(&s, &report).await;
}

/// `/metrics`, `/healthz` and `/readyz` of a running instance, and the local
/// stack's Prometheus scraping it (the stack scrapes 127.0.0.1:9464-9467).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_answer_and_prometheus_scrapes_the_pipeline() {
    const RECORDS_HERE: u64 = 2_000;
    const PORT: u16 = 9467;
    let _serial = SERIAL.lock().await;
    let s = scenario("http").await;
    let config = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, config.replace("127.0.0.1:0", &format!("127.0.0.1:{PORT}"))).unwrap();
    let mut pipeline = s.spawn("http");
    let report = s.produce_n(RECORDS_HERE).await;
    s.wait_committed(&expected_next(&report.acks), &mut [("http", &mut pipeline)]);

    let base = format!("http://127.0.0.1:{PORT}");
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).send();
    let healthz = get("/healthz").await.unwrap();
    assert_eq!(healthz.status(), 200, "liveness");
    let readyz = get("/readyz").await.unwrap();
    assert_eq!(readyz.status(), 200, "readiness: {}", readyz.text().await.unwrap_or_default());
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    let consumed = format!("porttrack_records_consumed_total {RECORDS_HERE}");
    assert!(metrics.contains(&consumed), "{consumed} in:\n{metrics}");
    for name in [
        "porttrack_build_info{",
        "porttrack_records_rejected_total{reason=",
        "porttrack_dead_letters_total{reason=",
        "porttrack_sink_records_written_total{sink=\"postgres\"}",
        "porttrack_sink_write_duration_seconds_bucket{sink=\"elasticsearch\"",
        "porttrack_partitions_assigned 4",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }

    // The stack's Prometheus scrapes every 5 s.
    let query = format!("porttrack_records_consumed_total{{instance=\"127.0.0.1:{PORT}\"}}");
    let mut scraped = None;
    for _ in 0..40 {
        let resp: serde_json::Value = client
            .get(format!("{}/api/v1/query", s.stack.prometheus_url))
            .query(&[("query", query.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        scraped = resp["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse::<f64>().ok());
        if scraped == Some(RECORDS_HERE as f64) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(scraped, Some(RECORDS_HERE as f64), "Prometheus scraped the instance's counter");
    terminate(pipeline);
}
