//! CPU cost of the Elasticsearch path per document, apart from the server:
//! encoding a
//! 5,000-position `_bulk` body, compressing it, and parsing a 5,000-item
//! response, as the sink asks for it (`filter_path`: each item's status
//! only) and, for comparison, unfiltered.
//!
//! `cargo bench -p porttrack-sinks --bench bulk_body`; divide the reported
//! time by 5,000 (criterion also prints elements/s).

#![allow(clippy::unwrap_used)] // a benchmark: a failure should stop it loudly

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use porttrack_schemas::{Event, Origin, Position, Sourced};
use porttrack_sinks::elasticsearch::{ElasticsearchConfig, ElasticsearchSink, parse_bulk_response};

const DOCS: usize = 5_000;

fn records() -> Vec<Sourced<Event>> {
    (0..DOCS)
        .map(|i| Sourced {
            origin: Origin::new("ais.positions", (i % 4) as i32, i as i64),
            event: Event::Position(Position {
                mmsi: 244_000_000 + (i % 1000) as u32,
                timestamp: Utc.timestamp_opt(1_790_000_000 + i as i64, 0).unwrap(),
                lat: 51.9 + i as f64 * 1e-5,
                lon: 4.1 - i as f64 * 1e-5,
                sog: Some(10.5),
                cog: Some(87.3),
                heading: Some(88),
                nav_status: Some(0),
            }),
        })
        .collect()
}

fn response(filtered: bool) -> Vec<u8> {
    let mut body =
        String::from(if filtered { r#"{"items":["# } else { r#"{"took":12,"errors":false,"items":["# });
    for i in 0..DOCS {
        if i > 0 {
            body.push(',');
        }
        if filtered {
            body.push_str(r#"{"index":{"status":201}}"#);
            continue;
        }
        body.push_str(&format!(
            r#"{{"index":{{"_index":"porttrack-positions-2026.09.21","_id":"ais.positions-0-{i}","_version":1,"result":"created","_shards":{{"total":2,"successful":1,"failed":0}},"_seq_no":{i},"_primary_term":1,"status":201}}}}"#
        ));
    }
    body.push_str("]}");
    body.into_bytes()
}

fn bench(c: &mut Criterion) {
    let sink = ElasticsearchSink::new(&ElasticsearchConfig::default()).unwrap();
    let records = records();
    let (filtered, unfiltered) = (response(true), response(false));
    let mut group = c.benchmark_group("elasticsearch_per_5000_docs");
    group.throughput(Throughput::Elements(DOCS as u64));
    group.bench_function("encode", |b| b.iter(|| sink.bulk_body(&records).unwrap()));
    group.bench_function("encode_gzip", |b| {
        b.iter(|| {
            use std::io::Write;
            let body = sink.bulk_body(&records).unwrap();
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&body).unwrap();
            gz.finish().unwrap()
        })
    });
    group.bench_function("parse_response", |b| b.iter(|| parse_bulk_response(&filtered).unwrap()));
    group.bench_function("parse_unfiltered_response", |b| {
        b.iter(|| parse_bulk_response(&unfiltered).unwrap())
    });
    group.finish();
    let body = sink.bulk_body(&records).unwrap();
    println!("bulk body: {} bytes for {DOCS} documents ({} bytes/doc)", body.len(), body.len() / DOCS);
    let gzipped = {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).unwrap();
        gz.finish().unwrap()
    };
    println!(
        "gzipped: {} bytes ({:.1}% of the body)",
        gzipped.len(),
        gzipped.len() as f64 * 100.0 / body.len() as f64
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
