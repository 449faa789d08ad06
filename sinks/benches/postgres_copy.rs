//! Loads the same N position rows into `positions` three ways, in one run,
//! against the local stack's Postgres, and compares them:
//!
//! 1. `psql \copy … (FORMAT csv)` from a CSV file: the baseline;
//! 2. the sink's write path ([`PostgresSink::write`] in batches of 5,000:
//!    binary COPY straight into `positions` inside a savepoint, the latest
//!    row per vessel upserted into `vessel_state`, each batch split by
//!    vessel over `batch_writers` durable transactions written side by side);
//! 3. one raw binary COPY straight into `positions` (the ceiling).
//!
//! Each is run 3 times on an emptied table; the median rows/s are printed
//! with the ratio ours/psql. `PORTTRACK_BENCH_ROWS` sets N (default 500,000),
//! `PORTTRACK_BENCH_WRITERS` the sink's `batch_writers` (default the
//! configuration's, 3).
//!
//! `cargo bench -p porttrack-sinks --bench postgres_copy`

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use futures::pin_mut;
use porttrack_schemas::{Event, Origin, Position, Sourced};
use porttrack_sinks::Sink;
use porttrack_sinks::postgres::{POSITION_COPY_TYPES, PostgresConfig, PostgresSink, migrate};
use tokio_postgres::NoTls;
use tokio_postgres::binary_copy::BinaryCopyInWriter;

const ADDR: &str = "127.0.0.1:5432";
const BATCH: usize = 5_000;
const RUNS: usize = 3;
const COLUMNS: &str = "event_time, source_topic, source_partition, source_offset, source_index, mmsi, lat, lon, sog, cog, heading, nav_status";

fn records(n: usize) -> Vec<Sourced<Event>> {
    (0..n)
        .map(|i| Sourced {
            origin: Origin::new("ais.positions", (i % 4) as i32, (i / 4) as i64),
            event: Event::Position(Position {
                mmsi: 244_000_000 + (i % 2000) as u32,
                // One report per vessel every ~10 s, over a bit more than a day: two partitions.
                timestamp: Utc
                    .timestamp_opt(1_790_000_000 + (i as i64 / 2000) * 10 + (i % 2000) as i64 % 10, 0)
                    .unwrap(),
                lat: 51.9 + (i % 997) as f64 * 1e-4,
                lon: 4.1 - (i % 991) as f64 * 1e-4,
                sog: Some((i % 200) as f32 / 10.0),
                cog: Some((i % 3600) as f32 / 10.0),
                heading: Some((i % 360) as u16),
                nav_status: Some((i % 9) as u8),
            }),
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

#[tokio::main]
async fn main() {
    if std::net::TcpStream::connect(ADDR).is_err() {
        eprintln!("postgres_copy: Postgres at {ADDR} is unreachable; start the stack with deploy/local/up");
        std::process::exit(if std::env::var("PORTTRACK_REQUIRE_STACK").as_deref() == Ok("1") {
            1
        } else {
            0
        });
    }
    let n: usize = std::env::var("PORTTRACK_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(500_000);
    let db = format!("porttrack_bench_{}", std::process::id());
    let admin = connect(&format!("postgres://postgres@{ADDR}/postgres")).await;
    admin.batch_execute(&format!("CREATE DATABASE {db}")).await.unwrap();
    let url = format!("postgres://postgres@{ADDR}/{db}");
    let writers: usize = std::env::var("PORTTRACK_BENCH_WRITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(PostgresConfig::default().batch_writers);
    let config =
        PostgresConfig { url: url.clone(), pool_size: writers, batch_writers: writers, ..Default::default() };
    migrate(&config).await.unwrap();
    let client = connect(&url).await;

    let records = records(n);
    // Partitions first, as the sink would (not part of any timing).
    for day in ["2026-09-21", "2026-09-22", "2026-09-23"] {
        client.execute(&format!("SELECT porttrack_ensure_positions_partition('{day}')"), &[]).await.unwrap();
    }
    let csv = tempfile_path(&records);
    let empty = || async {
        client.batch_execute("TRUNCATE positions, vessel_state; CHECKPOINT").await.unwrap();
    };
    let count =
        || async { client.query_one("SELECT count(*) FROM positions", &[]).await.unwrap().get::<_, i64>(0) };

    let (mut psql, mut ours, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    let sink = PostgresSink::new(&config).unwrap();
    for run in 0..RUNS {
        empty().await;
        let started = Instant::now();
        let status = std::process::Command::new("psql")
            .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-d", &db, "-c"])
            .arg(format!("\\copy positions ({COLUMNS}) FROM '{}' WITH (FORMAT csv)", csv.display()))
            .status()
            .unwrap();
        assert!(status.success());
        psql.push(rate(n, started.elapsed()));
        assert_eq!(count().await, n as i64);

        empty().await;
        let started = Instant::now();
        for batch in records.chunks(BATCH) {
            sink.write(batch).await.unwrap();
        }
        ours.push(rate(n, started.elapsed()));
        assert_eq!(count().await, n as i64);

        empty().await;
        let started = Instant::now();
        raw_copy(&client, &records).await;
        raw.push(rate(n, started.elapsed()));
        assert_eq!(count().await, n as i64);
        eprintln!(
            "run {}: psql {:.0} rows/s, ours {:.0} rows/s, raw {:.0} rows/s",
            run + 1,
            psql[run],
            ours[run],
            raw[run]
        );
    }
    let (psql, ours, raw) = (median(psql), median(ours), median(raw));
    println!("positions load, {n} rows, median of {RUNS} runs:");
    println!("  psql \\copy (CSV)                        {psql:>10.0} rows/s");
    println!(
        "  sink write (COPY + vessel_state upsert, batches of {BATCH}, {writers} writers) {ours:>10.0} rows/s"
    );
    println!("  raw binary COPY into positions          {raw:>10.0} rows/s");
    println!("  ratio ours/psql = {:.2} (target ≥ 0.70)", ours / psql);
    drop(sink);
    drop(client);
    let _ = std::fs::remove_file(&csv);
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await.unwrap();
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

fn tempfile_path(records: &[Sourced<Event>]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("porttrack_bench_{}.csv", std::process::id()));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for r in records {
        let Event::Position(p) = &r.event else { continue };
        let o = &r.origin;
        let opt = |v: Option<String>| v.unwrap_or_default();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            p.timestamp.to_rfc3339(),
            o.topic,
            o.partition,
            o.offset,
            o.index,
            p.mmsi,
            p.lat,
            p.lon,
            opt(p.sog.map(|v| v.to_string())),
            opt(p.cog.map(|v| v.to_string())),
            opt(p.heading.map(|v| v.to_string())),
            opt(p.nav_status.map(|v| v.to_string())),
        )
        .unwrap();
    }
    out.flush().unwrap();
    path
}

async fn raw_copy(client: &tokio_postgres::Client, records: &[Sourced<Event>]) {
    let sink =
        client.copy_in(&format!("COPY positions ({COLUMNS}) FROM STDIN (FORMAT binary)")).await.unwrap();
    let writer = BinaryCopyInWriter::new(sink, POSITION_COPY_TYPES);
    pin_mut!(writer);
    for r in records {
        let Event::Position(p) = &r.event else { continue };
        let o = &r.origin;
        let (mmsi, index) = (p.mmsi as i32, o.index as i16);
        let heading = p.heading.map(|h| h as i16);
        let status = p.nav_status.map(i16::from);
        writer
            .as_mut()
            .write(&[
                &p.timestamp,
                &&*o.topic,
                &o.partition,
                &o.offset,
                &index,
                &mmsi,
                &p.lat,
                &p.lon,
                &p.sog,
                &p.cog,
                &heading,
                &status,
            ])
            .await
            .unwrap();
    }
    writer.finish().await.unwrap();
}
