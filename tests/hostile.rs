//! Hostile input at volume against the real local stack, through a real
//! `porttrack run` process.
//!
//! One instance consumes a JSON position topic and an NMEA topic (two
//! partitions each). Interleaved with a few thousand valid positions, the
//! test produces what a broken or malicious producer can send:
//!
//! * records near the broker's default size limit (~900 KiB): random bytes,
//!   a JSON position with a ~900 KiB string field, and on the NMEA topic an
//!   `!AIVDM` first fragment with a ~900 KiB payload that never completes;
//! * deeply nested JSON (100 000 `[`, 50 000 `{"a":`), which serde_json's
//!   recursion limit must refuse (`malformed_json`) instead of overflowing
//!   the poll thread's stack;
//! * a flood of first fragments of 2-part messages that never complete, each
//!   a different message (distinct tag-block sources or `g:` groups, so they
//!   do not supersede one another): more than the reassembly table's 1024
//!   per partition, so it evicts;
//! * a ~900 KiB NMEA record of 460 000 short junk lines, which must become
//!   one dead letter (it once became one whole-record copy per line);
//! * binary junk on both topics.
//!
//! Then it checks that the process is still alive, that every partition's
//! commit reaches its end (fragments the reassembly table evicts are
//! dead-lettered at once; the last 1024 per partition pin the NMEA commits
//! until the decoder's 30 s reassembly timeout dead-letters them, see
//! `ingest/src/decode/nmea.rs`), that every valid position reached Postgres
//! exactly once, that every hostile record is on the dead-letter topic with
//! its class and original bytes, and that the process's resident memory
//! stayed bounded.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use porttrack_ingest::dead_letter::headers;
use porttrack_schemas::Position;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rdkafka::producer::{FutureProducer, FutureRecord};
use support::slice::{SERIAL, Scenario, terminate};
use support::{stack, unique};

const PARTITIONS: i32 = 2;
/// Valid JSON positions, spread over 300 vessels.
const VALID_JSON: usize = 3000;
/// Valid single-sentence NMEA position reports.
const VALID_NMEA: usize = 100;
/// Never-completed first fragments: ~1500 per partition, past the
/// reassembly table's 1024.
const FRAGMENT_FLOOD: usize = 3000;
/// Just under librdkafka's default `message.max.bytes` (1 000 000) and the
/// broker's (1 048 588).
const NEAR_MAX: usize = 900 * 1024;
/// The decoder's reassembly timeout (`porttrack_ais::Limits::default`).
const FRAGMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Peak resident memory allowed to the `porttrack run` process (a debug
/// build). Measured at 80–86 MiB over five runs on a 2-core, 23 GiB machine
/// (the ~10 MiB of large records pass through librdkafka's fetch buffers,
/// the batch and the dead-letter producer a few copies at a time). 512 MiB
/// is ~6× that: room for another allocator or machine, while a hostile
/// record copied per line, or held fragments kept past their timeout, at
/// this volume would cross it.
const RSS_LIMIT_KIB: u64 = 512 * 1024;

/// A type-5 first fragment's armored payload (from the assembler's docs).
const FIRST_PART: &str = "55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8";
/// Type-1 position reports from gpsd's sample log, each complete in one sentence.
const NMEA_POSITIONS: [&str; 2] =
    ["!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", "!AIVDM,1,1,,B,177KQJ5000G?tO`K>RA1wUbN0TKH,0*5C"];

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Topic {
    Json,
    Nmea,
}

/// One record to produce and what the pipeline must make of it: stored
/// (`None`) or dead-lettered under `class`.
struct Planned {
    topic: Topic,
    key: String,
    payload: Vec<u8>,
    class: Option<&'static str>,
    what: &'static str,
}

fn hostile(topic: Topic, key: String, payload: Vec<u8>, class: &'static str, what: &'static str) -> Planned {
    Planned { topic, key, payload, class: Some(class), what }
}

fn xor(s: &str) -> u8 {
    s.bytes().fold(0, |a, b| a ^ b)
}

/// A 2-part message's first fragment, its own message by its tag block:
/// odd `n` by an NMEA 4 group id, even `n` by the receiver (`s:`) with the
/// sequence id and channel varying as well.
fn first_fragment(n: usize, payload: &str) -> String {
    let tags = if n % 2 == 1 { format!("g:1-2-{n}") } else { format!("s:hostile{n}") };
    let channel = if n % 4 < 2 { 'A' } else { 'B' };
    let body = format!("AIVDM,2,1,{},{channel},{payload},0", n % 10);
    format!("\\{tags}*{:02X}\\!{body}*{:02X}", xor(&tags), xor(&body))
}

/// Binary junk: starts with 0xFF so it is UTF-8 for neither decoder.
fn junk(rng: &mut SmallRng, len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF];
    bytes.extend((1..len).map(|_| rng.random::<u8>()));
    bytes
}

/// Everything to produce, valid and hostile interleaved.
fn plan() -> Vec<Planned> {
    let mut rng = SmallRng::seed_from_u64(7);
    let start = Utc::now() - chrono::Duration::hours(2);
    let position = |i: usize| Position {
        mmsi: 244_100_000 + (i % 300) as u32,
        timestamp: start + chrono::Duration::seconds(i as i64),
        lat: 51.90 + (i % 100) as f64 * 0.001,
        lon: 4.00 + (i % 150) as f64 * 0.001,
        sog: Some(5.5),
        cog: Some(90.0),
        heading: Some(91),
        nav_status: Some(0),
    };
    let mut valid: Vec<Planned> = (0..VALID_JSON)
        .map(|i| {
            let p = position(i);
            let payload = serde_json::to_vec(&p).unwrap();
            Planned { topic: Topic::Json, key: p.mmsi.to_string(), payload, class: None, what: "valid" }
        })
        .collect();
    for i in 0..VALID_NMEA {
        let line = NMEA_POSITIONS[i % 2];
        valid.push(Planned {
            topic: Topic::Nmea,
            key: format!("nmea-{i}"),
            payload: line.as_bytes().to_vec(),
            class: None,
            what: "valid",
        });
    }

    let mut bad = Vec::new();
    for i in 0..3 {
        let garbage: Vec<u8> = junk(&mut rng, NEAR_MAX);
        bad.push(hostile(Topic::Json, format!("big-{i}"), garbage, "malformed_json", "900 KiB garbage"));
        // A position with one field too many (positions deny unknown fields).
        let mut doc = serde_json::to_value(position(i)).unwrap();
        doc["comment"] = serde_json::Value::String("x".repeat(NEAR_MAX));
        let doc = serde_json::to_vec(&doc).unwrap();
        bad.push(hostile(Topic::Json, format!("bigstr-{i}"), doc, "malformed_json", "900 KiB string field"));
        // The same size as a known field's value.
        let doc =
            format!(r#"{{"mmsi":244100001,"timestamp":"{}","lat":51.9,"lon":4.0}}"#, "9".repeat(NEAR_MAX));
        bad.push(hostile(
            Topic::Json,
            format!("bigts-{i}"),
            doc.into_bytes(),
            "malformed_json",
            "900 KiB timestamp",
        ));
    }
    for i in 0..2 {
        let arrays = "[".repeat(100_000).into_bytes();
        bad.push(hostile(Topic::Json, format!("deep-{i}"), arrays, "malformed_json", "100k nested arrays"));
        let objects = r#"{"a":"#.repeat(50_000).into_bytes();
        bad.push(hostile(Topic::Json, format!("deepo-{i}"), objects, "malformed_json", "50k nested objects"));
    }
    for i in 0..40 {
        let len = rng.random_range(1..2048);
        bad.push(hostile(Topic::Json, format!("junk-{i}"), junk(&mut rng, len), "malformed_json", "junk"));
        let len = rng.random_range(1..2048);
        bad.push(hostile(Topic::Nmea, format!("junk-{i}"), junk(&mut rng, len), "malformed_nmea", "junk"));
    }
    let lines = "x\n".repeat(NEAR_MAX / 2).into_bytes();
    bad.push(hostile(Topic::Nmea, "lines".into(), lines, "malformed_nmea", "460k junk lines"));
    for i in 0..2 {
        let garbage = junk(&mut rng, NEAR_MAX);
        bad.push(hostile(Topic::Nmea, format!("big-{i}"), garbage, "malformed_nmea", "900 KiB garbage"));
    }
    for n in 0..FRAGMENT_FLOOD {
        let line = first_fragment(n, FIRST_PART).into_bytes();
        bad.push(hostile(Topic::Nmea, format!("frag-{n}"), line, "fragment_incomplete", "lone fragment"));
    }
    for n in 0..4 {
        // Distinct from the flood's keys (its n stays below FRAGMENT_FLOOD).
        let line = first_fragment(FRAGMENT_FLOOD + n, &"0".repeat(NEAR_MAX)).into_bytes();
        bad.push(hostile(
            Topic::Nmea,
            format!("bigfrag-{n}"),
            line,
            "fragment_incomplete",
            "900 KiB lone fragment",
        ));
    }

    // Interleave: the hostile records are spread evenly among the valid ones.
    let (v, h) = (valid.len(), bad.len());
    let mut out = Vec::with_capacity(v + h);
    let (mut valid, mut bad) = (valid.into_iter(), bad.into_iter().peekable());
    for (i, record) in valid.by_ref().enumerate() {
        out.push(record);
        while bad.peek().is_some() && out.len() - (i + 1) < (i + 1) * h / v {
            out.extend(bad.next());
        }
    }
    out.extend(bad);
    out
}

/// Produces every planned record (all in flight at once) and returns each
/// one's partition and offset, in plan order.
async fn produce(brokers: &str, topics: [&str; 2], plan: &[Planned]) -> Vec<(i32, i64)> {
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "10")
        .create()
        .unwrap();
    let sends = plan.iter().map(|r| {
        let topic = if r.topic == Topic::Json { topics[0] } else { topics[1] };
        producer.send(FutureRecord::to(topic).key(&r.key).payload(&r.payload), Duration::from_secs(60))
    });
    futures::future::join_all(sends)
        .await
        .into_iter()
        .zip(plan)
        .map(|(delivery, r)| match delivery {
            Ok(d) => (d.partition, d.offset),
            Err((e, _)) => panic!("producing a {} record: {e}", r.what),
        })
        .collect()
}

/// Samples the process's resident set size (`VmRSS`) until stopped; the peak in KiB.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let (s, p) = (Arc::clone(&stop), Arc::clone(&peak_kib));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return };
                let rss = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
                if let Some(kib) = rss {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        RssSampler { stop, peak_kib, thread: Some(thread) }
    }

    fn peak_kib(&self) -> u64 {
        self.peak_kib.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn config(s: &Scenario, nmea: &str) -> String {
    format!(
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

[[kafka.topics]]
name = "{nmea}"
format = "nmea"

[pipeline]
batch_max_records = 5000
batch_linger = "50ms"
drain_timeout = "10s"

[postgres]
url = "{db}"

[elasticsearch]
url = "{es}"
index_prefix = "{es_prefix}"

[files]
dir = "{files}"

[http]
listen = "127.0.0.1:0"
"#,
        brokers = s.stack.brokers,
        group = s.group,
        dlq = s.dlq,
        topic = s.topic,
        db = s.db_url,
        es = s.stack.elasticsearch_url,
        es_prefix = s.es_prefix,
        files = s.dir.join("files").display(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_records_at_volume_are_dead_lettered_without_stalling_or_bloating_the_pipeline() {
    let _serial = SERIAL.lock().await;
    let began = Instant::now();
    let stack = stack();
    let (topic, nmea, dlq) = (unique("hostile-json"), unique("hostile-nmea"), unique("hostile-dlq"));
    support::create_topics(&stack.brokers, &[(&topic, PARTITIONS), (&nmea, PARTITIONS), (&dlq, 1)]).await;
    let db_url = support::create_database(&stack.postgres_url, &unique("pt_hostile").replace('-', "_")).await;
    let dir = support::repo_root().join("target/test-runs").join(unique("hostile"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = Scenario {
        stack,
        topic,
        dlq,
        group: unique("hostile-group"),
        db_url,
        es_prefix: unique("t-hostile"),
        config: dir.join("porttrack.toml"),
        dir,
    };
    s.config = support::write_config(&s.dir, &config(&s, &nmea));

    let mut running = s.spawn("hostile");
    let pid = running.0.as_ref().unwrap().id();
    let rss = RssSampler::start(pid);

    let plan = plan();
    let producing = Instant::now();
    let coords = produce(&stack.brokers, [&s.topic, &nmea], &plan).await;
    let produced_at = Instant::now();
    eprintln!("produced {} records in {:?}; logs in {}", plan.len(), began.elapsed(), s.dir.display());

    // Every partition's end: the commit must reach it, the flood's held
    // fragments included (released only by their timeout).
    let mut end: HashMap<(Topic, i32), i64> = HashMap::new();
    for (r, (p, o)) in plan.iter().zip(&coords) {
        let e = end.entry((r.topic, *p)).or_insert(0);
        *e = (*e).max(o + 1);
    }
    assert_eq!(end.len(), 2 * PARTITIONS as usize, "records went to every partition of both topics");
    let group = s.group.clone();
    let committed_all = |t: Topic, name: &str| {
        let committed = support::committed(&stack.brokers, &group, name, PARTITIONS);
        (0..PARTITIONS).all(|p| committed.get(&p).is_some_and(|c| *c >= end[&(t, p)]))
    };
    support::wait_for(
        "every partition of both topics to be committed to its end",
        FRAGMENT_TIMEOUT + Duration::from_secs(45),
        || {
            let child = running.0.as_mut().unwrap();
            if let Ok(Some(exit)) = child.try_wait() {
                let log = std::fs::read_to_string(s.log("hostile")).unwrap_or_default();
                panic!("porttrack run died under hostile input with {exit}:\n{log}");
            }
            committed_all(Topic::Json, &s.topic) && committed_all(Topic::Nmea, &nmea)
        },
    );
    let settled = produced_at.elapsed();
    // No fragment was seen before production began, and each pins its
    // partition's commit until it has waited the full timeout: an earlier
    // commit means fragments were let go early (evicted and forgotten).
    assert!(
        producing.elapsed() >= FRAGMENT_TIMEOUT,
        "the NMEA commits passed the lone fragments {:?} after producing began, before the reassembly timeout",
        producing.elapsed()
    );
    assert!(running.0.as_mut().unwrap().try_wait().unwrap().is_none(), "porttrack run is alive");
    let peak_kib = rss.peak_kib();
    drop(rss);
    eprintln!("all committed {settled:?} after producing; peak RSS {} MiB", peak_kib / 1024);

    // Valid positions: each stored once, beside the hostile records.
    let (client, conn) = tokio_postgres::connect(&s.db_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let stored: i64 = client.query_one("SELECT count(*) FROM positions", &[]).await.unwrap().get(0);
    assert_eq!(stored, (VALID_JSON + VALID_NMEA) as i64, "every valid position stored exactly once");

    // The dead-letter topic: every hostile record, with its class and its
    // original bytes (a held fragment's letter carries its line, which here
    // is the whole record). Letters are at-least-once: compared as a set.
    let expected: BTreeMap<(String, i32, i64), (&'static str, &Planned)> = plan
        .iter()
        .zip(&coords)
        .filter_map(|(r, (p, o))| {
            let name = if r.topic == Topic::Json { s.topic.clone() } else { nmea.clone() };
            r.class.map(|c| ((name, *p, *o), (c, r)))
        })
        .collect();
    let letters = support::read_all(&stack.brokers, &s.dlq, 1, expected.len());
    let mut seen: BTreeMap<(String, i32, i64), usize> = BTreeMap::new();
    let mut per_class: BTreeMap<String, usize> = BTreeMap::new();
    for l in &letters {
        let coord = (
            l.headers[headers::SOURCE_TOPIC].clone(),
            l.headers[headers::SOURCE_PARTITION].parse::<i32>().unwrap(),
            l.headers[headers::SOURCE_OFFSET].parse::<i64>().unwrap(),
        );
        let class = &l.headers[headers::ERROR_CLASS];
        let Some((want, planned)) = expected.get(&coord) else {
            panic!("a valid record was dead-lettered as {class}: {coord:?}");
        };
        assert_eq!(class, want, "class of the {} at {coord:?}", planned.what);
        let policy = if *want == "fragment_incomplete" { "quarantine" } else { "reject" };
        assert_eq!(l.headers[headers::ERROR_POLICY], policy, "policy of {class}");
        assert!(
            l.payload.as_deref() == Some(planned.payload.as_slice()),
            "the {} at {coord:?} is dead-lettered with its original bytes",
            planned.what
        );
        *seen.entry(coord).or_default() += 1;
        *per_class.entry(class.clone()).or_default() += 1;
    }
    // At-least-once allows a repeat after a restart, never one per line.
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 2).collect();
    assert!(repeated.is_empty(), "records dead-lettered more than twice: {repeated:?}");
    let missing: Vec<_> =
        expected.iter().filter(|(c, _)| !seen.contains_key(*c)).map(|(c, (_, r))| (c, r.what)).collect();
    assert!(
        missing.is_empty(),
        "{} hostile records not dead-lettered: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    let mut want_per_class: BTreeMap<&str, usize> = BTreeMap::new();
    for (class, _) in expected.values() {
        *want_per_class.entry(class).or_default() += 1;
    }
    eprintln!(
        "dead letters: {} for {} hostile records; per class {per_class:?} (records per class {want_per_class:?}); \
         peak RSS {} KiB; total {:?}",
        letters.len(),
        expected.len(),
        peak_kib,
        began.elapsed()
    );

    assert!(peak_kib > 0, "RSS was sampled");
    assert!(
        peak_kib < RSS_LIMIT_KIB,
        "peak RSS {} MiB over the {} MiB bound",
        peak_kib / 1024,
        RSS_LIMIT_KIB / 1024
    );
    terminate(running);
}
