//! The consumer group through restarts, on the real broker: members killed
//! and replaced like crashing pods, and a rolling restart like a deploy.
//!
//! The group runs the KIP-848 protocol (`kafka.group_protocol = "consumer"`):
//! the broker moves only the partitions that change owner, so a restart
//! stops only those. These tests hold the pipeline to that, and to losing
//! and duplicating nothing on the way (the same Jepsen-style check as
//! `tests/slice.rs`).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use support::slice::{
    PARTITIONS, Running, SERIAL, SESSION_TIMEOUT_SECS, expected_next, scenario, terminate, verify,
};

/// Regression (found as a new user would, on the old stand-in broker): `porttrack run`
/// SIGKILLed and restarted five times, 15 s apart, under load; the last
/// member then held no partitions for ten minutes. On Kafka the last member
/// must own everything once the dead members' sessions expire, and commit
/// every record, including records produced after it started, within about
/// a session timeout of its start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_sigkills_15s_apart_then_every_record_commits_within_a_session_timeout() {
    let _serial = SERIAL.lock().await;
    let s = scenario("restarts").await;
    let mut current = s.spawn("run-0");
    let producing = tokio::spawn({
        let s = s.clone();
        // About 70 s of load, over the first four restarts.
        async move { s.produce_at(100_000, Some(1_500.0)).await }
    });
    support::wait_for("a first commit", Duration::from_secs(120), || s.committed_total() > 0);
    for i in 1..=5 {
        tokio::time::sleep(Duration::from_secs(15)).await;
        let mut child = current.0.take().expect("running instance");
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        current = s.spawn(&format!("run-{i}"));
    }
    let last_restart = Instant::now();
    let mut report = producing.await.expect("producer task");
    // More records after the last restart, which only the last member can
    // commit: it must take the dead member's partitions over (the broker
    // expires that session) and not sit idle.
    let tail = s.produce_at(5_000, None).await;
    report.acks.extend(tail.acks);
    s.wait_committed(&expected_next(&report.acks), &mut [("run-5", &mut current)]);
    let took = last_restart.elapsed();
    eprintln!(
        "every record committed {:.1} s after the last restart (session timeout {SESSION_TIMEOUT_SECS} s)",
        took.as_secs_f64()
    );
    assert!(
        took <= Duration::from_secs(SESSION_TIMEOUT_SECS + 20),
        "the last member took {took:?} to commit everything"
    );
    assert_eq!(
        support::owned_partitions(&s.log("run-5")).len(),
        PARTITIONS as usize,
        "the last member owns every partition"
    );
    terminate(current);
    verify(&s, &report).await;
}

/// A rolling restart of three instances under load, one at a time, as a
/// deploy does: the partitions that do not change owner go on committing;
/// the moved ones pause only for the hand-over. Prints the longest commit
/// pause per partition, split into pauses across a move and the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_restart_of_three_keeps_unmoved_partitions_committing() {
    let _serial = SERIAL.lock().await;
    let s = scenario("rolling").await;
    // Checkpoint (and so commit) every second instead of every 5 s, so the
    // commit cadence does not hide the hand-overs.
    let mut config = std::fs::read_to_string(&s.config).unwrap();
    config.push_str("\n[processors]\ncheckpoint_interval = \"1s\"\n");
    std::fs::write(&s.config, config).unwrap();
    let mut instances: Vec<(String, Running)> =
        ["a", "b", "c"].into_iter().map(|l| (l.to_owned(), s.spawn(l))).collect();
    let producing = tokio::spawn({
        let s = s.clone();
        async move { s.produce_at(150_000, Some(2_000.0)).await }
    });
    let sampler = CommitSampler::start(&s.stack.brokers, &s.group, &s.topic);
    support::wait_for("every partition committing", Duration::from_secs(120), || {
        sampler.latest().is_some_and(|c| c.len() == PARTITIONS as usize && c.values().all(|o| *o > 0))
    });
    let baseline_start = Utc::now();
    tokio::time::sleep(Duration::from_secs(10)).await;

    let window_start = Utc::now();
    let mut logs = Vec::new();
    for (i, slot) in instances.iter_mut().enumerate() {
        logs.push(s.log(&slot.0));
        let old = std::mem::replace(&mut slot.1, Running(None));
        terminate(old);
        slot.0 = format!("{}-restarted", ["a", "b", "c"][i]);
        slot.1 = s.spawn(&slot.0);
        let log = s.log(&slot.0);
        support::wait_for("the restarted instance to own a partition", Duration::from_secs(60), || {
            std::fs::read_to_string(&log).is_ok_and(|t| t.contains("partitions assigned"))
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let window_end = Utc::now();
    logs.extend(instances.iter().map(|(label, _)| s.log(label)));

    let report = producing.await.expect("producer task");
    assert!(Utc::now() > window_end, "the load outlasted the restarts");
    {
        let mut running: Vec<(&str, &mut Running)> =
            instances.iter_mut().map(|(l, r)| (l.as_str(), r)).collect();
        s.wait_committed(&expected_next(&report.acks), &mut running);
    }
    let samples = sampler.stop();

    let revocations = revocations(&logs);
    // The same measure before any restart: the pipeline's own cadence.
    let baseline = (0..PARTITIONS)
        .map(|p| pauses(&samples, p, baseline_start, window_start, &revocations).1)
        .max()
        .unwrap_or_default();
    let mut worst_moved = Duration::ZERO;
    let mut worst_unmoved = Duration::ZERO;
    for p in 0..PARTITIONS {
        let (moved, unmoved) = pauses(&samples, p, window_start, window_end, &revocations);
        eprintln!(
            "partition {p}: longest commit pause across a move {:.2} s, otherwise {:.2} s",
            moved.as_secs_f64(),
            unmoved.as_secs_f64()
        );
        worst_moved = worst_moved.max(moved);
        worst_unmoved = worst_unmoved.max(unmoved);
    }
    eprintln!(
        "rolling restart: longest pause of a moved partition {:.2} s, of an unmoved one {:.2} s; \
         before the restarts {:.2} s",
        worst_moved.as_secs_f64(),
        worst_unmoved.as_secs_f64(),
        baseline.as_secs_f64()
    );
    // An eager rebalance stops every partition for the drain, the rejoin and
    // the restore, six times here; an incremental one leaves the others at
    // their usual cadence, give or take a loaded machine's noise.
    assert!(
        worst_unmoved <= baseline + Duration::from_secs(2),
        "a partition that did not move stopped committing for {worst_unmoved:?} (before the restarts: {baseline:?})"
    );
    for (_, r) in instances {
        terminate(r);
    }
    verify(&s, &report).await;
}

/// When a sample was taken, and the committed offset of each partition.
type Sample = (DateTime<Utc>, HashMap<i32, i64>);

/// The group's committed offsets per partition, read every 200 ms with one
/// consumer that never joins the group (OffsetFetch only).
struct CommitSampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: std::thread::JoinHandle<()>,
}

impl CommitSampler {
    fn start(brokers: &str, group: &str, topic: &str) -> CommitSampler {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", group)
            .create()
            .expect("sampler consumer");
        let mut tpl = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            tpl.add_partition(topic, p);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let thread = std::thread::spawn({
            let (stop, samples) = (Arc::clone(&stop), Arc::clone(&samples));
            move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(c) = consumer.committed_offsets(tpl.clone(), Duration::from_secs(5)) {
                        let offsets = c
                            .elements()
                            .iter()
                            .filter_map(|e| match e.offset() {
                                Offset::Offset(o) => Some((e.partition(), o)),
                                _ => None,
                            })
                            .collect();
                        samples.lock().unwrap().push((Utc::now(), offsets));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        });
        CommitSampler { stop, samples, thread }
    }

    fn latest(&self) -> Option<HashMap<i32, i64>> {
        self.samples.lock().unwrap().last().map(|(_, c)| c.clone())
    }

    fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        std::mem::take(&mut *self.samples.lock().unwrap())
    }
}

/// When each partition was revoked from some instance, from the instances'
/// logs (text lines start with an RFC 3339 timestamp).
fn revocations(logs: &[impl AsRef<Path>]) -> BTreeMap<i32, Vec<DateTime<Utc>>> {
    let mut out: BTreeMap<i32, Vec<DateTime<Utc>>> = BTreeMap::new();
    for log in logs {
        let text = std::fs::read_to_string(log.as_ref()).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("partitions revoked")) {
            let Some(at) = line
                .split_whitespace()
                .next()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
            else {
                continue;
            };
            for p in support::logged_partitions(line) {
                out.entry(p).or_default().push(at);
            }
        }
    }
    out
}

/// The longest stretch in `[from, to]` over which partition `p`'s committed
/// offset did not move: among stretches during which `p` was revoked
/// somewhere (a move), and among the others.
fn pauses(
    samples: &[Sample],
    p: i32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    revocations: &BTreeMap<i32, Vec<DateTime<Utc>>>,
) -> (Duration, Duration) {
    let mut advances = vec![from];
    let mut last = None;
    for (at, committed) in samples {
        let Some(offset) = committed.get(&p) else { continue };
        if last.is_some_and(|l| *offset > l) && *at > from && *at <= to {
            advances.push(*at);
        }
        last = Some(*offset);
    }
    advances.push(to);
    let revoked = revocations.get(&p).cloned().unwrap_or_default();
    let (mut moved, mut unmoved) = (Duration::ZERO, Duration::ZERO);
    for w in advances.windows(2) {
        let gap = (w[1] - w[0]).to_std().unwrap_or_default();
        // A revocation logged up to a second before the last advance still
        // belongs to this stretch: the drain commits, then the log line.
        let across_move = revoked.iter().any(|r| *r >= w[0] - chrono::Duration::seconds(1) && *r <= w[1]);
        if across_move {
            moved = moved.max(gap);
        } else {
            unmoved = unmoved.max(gap);
        }
    }
    (moved, unmoved)
}
