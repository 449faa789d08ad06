//! What the pipeline is measured against, each as plain as its kind gets.
//!
//! * [`plain_consumer`]: rdkafka reading the topics and touching each
//!   payload, nothing else: the broker's and the client's ceiling.
//! * [`handwritten`]: the consumer a team writes in an afternoon: parse each
//!   JSON position, upsert the vessel's latest state into Postgres in one
//!   transaction per polled batch, commit offsets after the write.
//! * [`psql_copy`]: `psql \copy` of the rows the pipeline stored into the
//!   same table of a fresh database: Postgres's own bulk-load rate.
//! * [`bulk_loader`]: the documents the pipeline indexed, sent again with
//!   plain `_bulk` requests at the sink's batch size and concurrency.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;

use crate::cpu::{self, Run};

/// Reads `records` records from `topics` (each `partitions` wide) from the
/// start, assigned rather than subscribed: no group join in the timing.
/// Fetches as the pipeline's consumer does: with librdkafka's default
/// `fetch.queue.backoff.ms` (1 s) a consumer this fast drains its queue and
/// waits out the backoff, and the ceiling would be the backoff's, not the
/// broker's (`KafkaConfig::consumer_config` says why).
pub(crate) fn plain_consumer(brokers: &str, topics: &[String], partitions: i32, records: u64) -> Run {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", crate::support::unique("bench-plain"))
        .set("enable.auto.commit", "false")
        .set("fetch.queue.backoff.ms", porttrack_ingest::config::FETCH_QUEUE_BACKOFF_MS)
        .create()
        .expect("plain consumer");
    let mut tpl = rdkafka::TopicPartitionList::new();
    for topic in topics {
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning).expect("partition");
        }
    }
    consumer.assign(&tpl).expect("assign");
    let cpu_before = cpu::used();
    let (mut seen, mut bytes, mut first) = (0_u64, 0_usize, None);
    let deadline = Instant::now() + Duration::from_secs(600);
    while seen < records {
        assert!(Instant::now() < deadline, "plain consumer stalled at {seen} of {records} records");
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            first.get_or_insert_with(Instant::now);
            bytes += m.payload().map_or(0, <[u8]>::len);
            seen += 1;
        }
    }
    let elapsed = first.map_or(Duration::ZERO, |t| t.elapsed());
    std::hint::black_box(bytes);
    Run { events: records, elapsed, cpu: cpu::used() - cpu_before, peak_heap: None }
}

#[derive(serde::Deserialize)]
struct Fix {
    mmsi: i32,
    timestamp: chrono::DateTime<chrono::Utc>,
    lat: f64,
    lon: f64,
    sog: Option<f32>,
    cog: Option<f32>,
}

const LATEST: &str = "CREATE TABLE IF NOT EXISTS latest (mmsi integer PRIMARY KEY, at timestamptz NOT NULL, \
                      lat double precision NOT NULL, lon double precision NOT NULL, sog real, cog real)";
const UPSERT: &str = "INSERT INTO latest (mmsi, at, lat, lon, sog, cog) VALUES ($1, $2, $3, $4, $5, $6) \
                      ON CONFLICT (mmsi) DO UPDATE SET at = excluded.at, lat = excluded.lat, lon = excluded.lon, \
                      sog = excluded.sog, cog = excluded.cog WHERE latest.at <= excluded.at";

/// The afternoon consumer: subscribe, poll up to 1,000 records, upsert each
/// vessel's latest fix in one transaction, commit the offsets, repeat.
/// Unparseable records are skipped (a team's first version would).
pub(crate) async fn handwritten(brokers: &str, topic: &str, db: &str, records: u64) -> Run {
    let (mut client, conn) = tokio_postgres::connect(db, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    client.batch_execute(LATEST).await.expect("create table");
    let upsert = client.prepare(UPSERT).await.expect("prepare");
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", crate::support::unique("bench-handwritten"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let cpu_before = cpu::used();
    let (mut done, mut first) = (0_u64, None);
    let deadline = Instant::now() + Duration::from_secs(1800);
    while done < records {
        assert!(Instant::now() < deadline, "hand-written consumer stalled at {done} of {records}");
        let mut fixes = Vec::with_capacity(1000);
        let mut polled = 0;
        let until = Instant::now() + Duration::from_millis(100);
        while polled < 1000 && Instant::now() < until {
            match consumer.poll(Duration::from_millis(10)) {
                Some(Ok(m)) => {
                    first.get_or_insert_with(Instant::now);
                    polled += 1;
                    if let Some(fix) = m.payload().and_then(|p| serde_json::from_slice::<Fix>(p).ok()) {
                        fixes.push(fix);
                    }
                }
                Some(Err(e)) => panic!("consume: {e}"),
                None if polled > 0 => break,
                None => {}
            }
        }
        if polled == 0 {
            continue;
        }
        let tx = client.transaction().await.expect("begin");
        for f in &fixes {
            tx.execute(&upsert, &[&f.mmsi, &f.timestamp, &f.lat, &f.lon, &f.sog, &f.cog])
                .await
                .expect("upsert");
        }
        tx.commit().await.expect("commit");
        consumer.commit_consumer_state(CommitMode::Sync).expect("commit offsets");
        done += polled;
    }
    let elapsed = first.map_or(Duration::ZERO, |t| t.elapsed());
    Run { events: done, elapsed, cpu: cpu::used() - cpu_before, peak_heap: None }
}

/// `psql \copy` of `from`'s positions into the same (migrated, empty)
/// table of `to`. The export is not timed; the load is, psql's start
/// included (milliseconds). CPU is psql's and Postgres's, not ours: none.
pub(crate) async fn psql_copy(from: &str, to: &str, dir: &Path) -> Run {
    let file = dir.join("positions.csv");
    psql(from, &format!("\\copy (SELECT * FROM positions) TO '{}' CSV", file.display()));
    let (client, conn) = tokio_postgres::connect(to, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    let (source, source_conn) = tokio_postgres::connect(from, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(source_conn);
    for row in source
        .query("SELECT DISTINCT (event_time AT TIME ZONE 'UTC')::date FROM positions", &[])
        .await
        .expect("days")
    {
        let day: chrono::NaiveDate = row.get(0);
        client.execute("SELECT porttrack_ensure_positions_partition($1)", &[&day]).await.expect("partition");
    }
    let rows: i64 = source.query_one("SELECT count(*) FROM positions", &[]).await.expect("count").get(0);
    let started = Instant::now();
    psql(to, &format!("\\copy positions FROM '{}' CSV", file.display()));
    Run { events: rows as u64, elapsed: started.elapsed(), cpu: Duration::ZERO, peak_heap: None }
}

fn psql(url: &str, command: &str) {
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", command])
        .output()
        .expect("psql (Debian's postgresql-client)");
    assert!(out.status.success(), "psql {command}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every document under `pattern`: (`_index`, `_id`, source), by scrolling.
pub(crate) async fn documents(base: &str, pattern: &str) -> Vec<(String, String, serde_json::Value)> {
    let http = reqwest::Client::new();
    crate::support::es::refresh(base, pattern).await;
    let mut page: serde_json::Value = http
        .post(format!("{base}/{pattern}/_search?scroll=2m"))
        .json(&serde_json::json!({"size": 5000, "sort": ["_doc"]}))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("search body");
    let mut docs = Vec::new();
    loop {
        let hits = page["hits"]["hits"].as_array().cloned().unwrap_or_default();
        if hits.is_empty() {
            break;
        }
        for h in hits {
            let (index, id) = (h["_index"].as_str().expect("_index"), h["_id"].as_str().expect("_id"));
            docs.push((index.to_owned(), id.to_owned(), h["_source"].clone()));
        }
        let scroll_id = page["_scroll_id"].as_str().expect("scroll id").to_owned();
        page = http
            .post(format!("{base}/_search/scroll"))
            .json(&serde_json::json!({"scroll": "2m", "scroll_id": scroll_id}))
            .send()
            .await
            .expect("scroll")
            .json()
            .await
            .expect("scroll body");
    }
    docs
}

/// `_bulk`-indexes `docs` (`_index`, `_id`, source), `batch` per request,
/// `concurrency` requests in flight, and checks every item succeeded.
pub(crate) async fn bulk_loader(
    base: &str,
    docs: &[(String, String, serde_json::Value)],
    batch: usize,
    concurrency: usize,
) -> Run {
    let http = reqwest::Client::new();
    let cpu_before = cpu::used();
    let started = Instant::now();
    let requests = docs.chunks(batch.max(1)).map(|chunk| {
        let mut body = Vec::with_capacity(chunk.len() * 256);
        for (index, id, source) in chunk {
            serde_json::to_writer(&mut body, &serde_json::json!({"index": {"_index": index, "_id": id}}))
                .expect("action");
            body.push(b'\n');
            serde_json::to_writer(&mut body, source).expect("source");
            body.push(b'\n');
        }
        let http = http.clone();
        async move {
            let reply: serde_json::Value = http
                .post(format!("{base}/_bulk"))
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .await
                .expect("_bulk")
                .json()
                .await
                .expect("_bulk reply");
            assert_eq!(reply["errors"], false, "plain _bulk had item errors");
        }
    });
    futures::stream::iter(requests).buffer_unordered(concurrency.max(1)).collect::<Vec<()>>().await;
    Run {
        events: docs.len() as u64,
        elapsed: started.elapsed(),
        cpu: cpu::used() - cpu_before,
        peak_heap: None,
    }
}
