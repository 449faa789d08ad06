//! The Elasticsearch sink against the local stack's search engine
//! (OpenSearch, http://127.0.0.1:9200), and through the stack's nginx in
//! front of it (https://127.0.0.1:9443: TLS with the stack's CA, basic auth),
//! which is how a secured cluster is reached. Each test uses its own index
//! prefix and deletes its indices at the end.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use porttrack_schemas::{Event, Sourced};
use porttrack_sinks::elasticsearch::{ElasticsearchConfig, ElasticsearchSink, Family};
use porttrack_sinks::retry::Backoff;
use porttrack_sinks::{Derived, Sink, SinkError};
use serde_json::{Value, json};
use support::*;

const ADDR: &str = "127.0.0.1:9200";
const URL: &str = "http://127.0.0.1:9200";

struct Es {
    prefix: String,
    http: reqwest::Client,
}

impl Es {
    fn new(tag: &str) -> Es {
        require("search engine", ADDR);
        Es { prefix: unique(tag).replace('_', "-"), http: reqwest::Client::new() }
    }

    fn config(&self) -> ElasticsearchConfig {
        ElasticsearchConfig { url: URL.into(), index_prefix: self.prefix.clone(), ..Default::default() }
    }

    async fn sink(&self, config: ElasticsearchConfig) -> ElasticsearchSink {
        let sink = ElasticsearchSink::new(&config)
            .unwrap()
            .with_backoff(Backoff { base: Duration::from_millis(10), max: Duration::from_millis(100) });
        sink.install_template().await.unwrap();
        sink
    }

    async fn count(&self, family: Family) -> u64 {
        self.http.post(format!("{URL}/{}-*/_refresh", self.prefix)).send().await.unwrap();
        let v: Value = self
            .http
            .get(format!("{URL}/{}-{}-*/_count", self.prefix, family.name()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["count"].as_u64().unwrap_or_else(|| panic!("{v}"))
    }

    async fn cleanup(self) {
        let _ = self.http.delete(format!("{URL}/{}-*", self.prefix)).send().await;
        for family in Family::ALL {
            let _ = self
                .http
                .delete(format!("{URL}/_index_template/{}-{}", self.prefix, family.name()))
                .send()
                .await;
        }
    }
}

async fn write_until_acked(
    sink: &ElasticsearchSink,
    batch: &[Sourced<Event>],
) -> (Vec<(usize, String)>, u32) {
    let mut transient = 0;
    loop {
        match sink.write(batch).await {
            Ok(outcome) => return (outcome.rejected, transient),
            Err(SinkError::Transient(_)) => {
                transient += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn replaying_every_kind_yields_the_same_documents() {
    let es = Es::new("replay");
    // Small requests, several in flight: the split and the concurrency are exercised.
    let sink = es.sink(ElasticsearchConfig { batch_max_docs: 40, concurrency: 3, ..es.config() }).await;
    let batch = mixed_batch();
    let outcome = sink.write(&batch).await.unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    let expected = [
        (Family::Positions, 300),
        (Family::Static, 2),
        (Family::Weather, 2),
        (Family::Cargo, 2),
        (Family::PortOps, 1),
    ];
    for (family, n) in expected {
        assert_eq!(es.count(family).await, n, "{}", family.name());
    }
    sink.write(&batch).await.unwrap();
    sink.write(&batch[50..]).await.unwrap();
    for (family, n) in expected {
        assert_eq!(es.count(family).await, n, "{} after replay", family.name());
    }
    // Positions live in the index of their event day.
    let v: Value = es
        .http
        .get(format!("{URL}/{}-positions-2026.09.22/_count", es.prefix))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["count"], 150);
    es.cleanup().await;
}

#[tokio::test]
async fn ais_kinds_index_once_with_searchable_text_and_locations() {
    let es = Es::new("aiskinds");
    let sink = es.sink(es.config()).await;
    let batch = ais_batch();
    let outcome = sink.write(&batch).await.unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    // One document per record (history, by coordinates): every station
    // report and every copy of a met-hydro report.
    let expected = [(Family::Safety, 3), (Family::MetHydro, 3), (Family::Stations, 3)];
    for (family, n) in expected {
        assert_eq!(es.count(family).await, n, "{}", family.name());
    }
    sink.write(&batch).await.unwrap();
    sink.write(&batch[4..]).await.unwrap();
    for (family, n) in expected {
        assert_eq!(es.count(family).await, n, "{} after replay", family.name());
    }
    let search = |family: Family, query: Value| {
        let (http, url) = (es.http.clone(), format!("{URL}/{}-{}-*/_search", es.prefix, family.name()));
        async move {
            let v: Value = http.post(url).json(&query).send().await.unwrap().json().await.unwrap();
            v["hits"]["hits"].as_array().cloned().unwrap_or_else(|| panic!("{v}"))
        }
    };
    // `text` is analysed: a word finds the message, whatever its place.
    let hits = search(Family::Safety, json!({"query": {"match": {"text": "adrift"}}})).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["_source"]["text"], "BUOY ADRIFT NEAR MAASMOND");
    assert_eq!(hits[0]["_id"], "ais.nmea-0-101");
    let hits = search(Family::Safety, json!({"query": {"term": {"dest_mmsi": "2442000"}}})).await;
    assert_eq!(hits.len(), 1);
    // Stations and met-hydro reports are geo_points: found by distance.
    let near = json!({"query": {"bool": {"filter": [
        {"geo_distance": {"distance": "2km", "location": {"lat": 51.95, "lon": 4.0}}},
        {"term": {"off_position": true}}
    ]}}});
    let hits = search(Family::Stations, near).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["_source"]["name"], "MAAS CENTER");
    assert_eq!(hits[0]["_source"]["kind"], "aid_to_navigation");
    let hits = search(
        Family::MetHydro,
        json!({"query": {"bool": {"filter": [
            {"geo_distance": {"distance": "1km", "location": {"lat": 51.98, "lon": 4.05}}},
            {"range": {"wind_speed_kn": {"gte": 24}}}
        ]}}}),
    )
    .await;
    assert_eq!(hits.len(), 2);
    // The full decode is kept in the source, shortest float forms intact.
    assert_eq!(hits[0]["_source"]["details"]["preciptype"], "rain");
    assert_eq!(hits[0]["_source"]["wind_gust_kn"], json!(34.4));
    es.cleanup().await;
}

#[tokio::test]
async fn an_index_made_before_the_inland_fields_takes_them_when_templates_are_installed() {
    let es = Es::new("inland");
    // Today's static index as an older release made it: without the inland fields.
    let mut old: Value = serde_json::from_str(Family::Static.mappings()).unwrap();
    for field in ["eni", "inland_ship_type", "hazard", "loaded", "length_m", "beam_m"] {
        old["properties"].as_object_mut().unwrap().remove(field);
    }
    let index = format!("{URL}/{}-static-2026.09.21", es.prefix);
    let resp = es.http.put(&index).json(&json!({"mappings": old})).send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let sink = es.sink(es.config()).await;
    let inland = Sourced {
        origin: porttrack_schemas::Origin::new("ais.nmea", 0, 1),
        event: Event::Static(Box::new(porttrack_schemas::VesselStatic {
            mmsi: 244_650_946,
            timestamp: t(0),
            eni: Some("02103547".into()),
            inland_ship_type: Some(8010),
            hazard: Some(0),
            loaded: Some(false),
            length_m: Some(39.0),
            beam_m: Some(5.0),
            ..Default::default()
        })),
    };
    let outcome = sink.write(std::slice::from_ref(&inland)).await.unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    let doc: Value =
        es.http.get(format!("{index}/_doc/ais.nmea-0-1")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["_source"]["eni"], "02103547");
    assert_eq!(doc["_source"]["length"], 39, "the stated length stands in for the dimensions");
    es.cleanup().await;
}

#[tokio::test]
async fn derived_documents_are_idempotent_and_port_calls_only_move_forward() {
    let es = Es::new("derived");
    let sink = es.sink(es.config()).await;
    let geo = porttrack_processors::Geography::rotterdam();
    let call = |phase, berthed: Option<i64>| {
        let c = porttrack_processors::PortCall {
            anchored_at: Some(t(100)),
            berth: berthed.map(|_| "Maasvlakte II".into()),
            berthed_at: berthed.map(t),
            ..porttrack_processors::PortCall::open(244_000_001, t(0), true)
        };
        porttrack_processors::Output::PortCall(porttrack_processors::PortCallUpdate { phase, call: c })
    };
    let anomaly = porttrack_processors::Output::Anomaly(porttrack_processors::Anomaly {
        mmsi: 244_000_001,
        at: t(50),
        zone: None,
        kind: porttrack_processors::AnomalyKind::Speeding { speed_kn: 14.5, limit_kn: 10.0 },
    });
    let newer = Derived::new(
        &geo,
        &[call(porttrack_processors::CallPhase::Berthed, Some(4000)), anomaly.clone()],
        &[],
    );
    let older = Derived::new(&geo, &[call(porttrack_processors::CallPhase::Anchored, None), anomaly], &[]);
    sink.write_derived(&newer).await.unwrap();
    sink.write_derived(&older).await.unwrap(); // a late replay: 409, counted as success
    assert_eq!(es.count(Family::PortCalls).await, 1);
    assert_eq!(es.count(Family::Anomalies).await, 1);

    // Every other derived family passes its strict mapping, once per identity.
    use porttrack_processors::*;
    let outputs = [
        Output::Zone(ZoneTransition {
            mmsi: 244_000_001,
            zone: ZoneId(0),
            direction: Direction::Exited,
            at: t(9),
            stay_s: Some(60),
        }),
        Output::Weather(WeatherAlert {
            zone: ZoneId(1),
            station: "hoek".into(),
            at: t(10),
            kind: WeatherAlertKind::GustAboveCraneLimit,
            value: 41.5,
            limit: 38.0,
            raised: true,
        }),
    ];
    let weather = ZoneWeather {
        station: "hoek".into(),
        at: t(10),
        wind_speed_kn: Some(30.0),
        wind_gust_kn: Some(41.5),
        wind_direction_deg: Some(250),
        visibility_nm: None,
        wave_height_m: Some(2.5),
    };
    let partial = ZonePartial {
        zone: "Maasmond".into(),
        kind: ZoneKind::ApproachChannel,
        berth_length_m: None,
        partition: 3,
        at: t(60),
        vessels_present: 4,
        queue_length: 0,
        waiting_now_s: vec![],
        waits_completed_s: vec![600, 900],
        rate_window_s: 3600,
        entries: 5,
        exits: 4,
        moored_vessels: 0,
        moored_length_m: 0,
        moored_without_length: 0,
        hazardous_vessels: 1,
        teu_loaded: 0,
        teu_discharged: 0,
        weather: Some(WeatherPartial {
            latest: weather,
            oldest_gust: Some((t(0), 30.0)),
            newest_gust: Some((t(10), 41.5)),
        }),
    };
    let rest = Derived::new(&geo, &outputs, &[partial]);
    sink.write_derived(&rest).await.unwrap();
    sink.write_derived(&rest).await.unwrap();
    for family in [Family::ZoneEvents, Family::WeatherAlerts, Family::Congestion] {
        assert_eq!(es.count(family).await, 1, "{}", family.name());
    }
    let doc: Value = es
        .http
        .get(format!(
            "{URL}/{}-port-calls-2026.09/_doc/{}",
            es.prefix,
            porttrack_processors::PortCall::open(244_000_001, t(0), true).id()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["_source"]["phase"], "berthed", "{doc}");
    assert_eq!(doc["_source"]["mmsi"], "244000001");
    es.cleanup().await;
}

#[tokio::test]
async fn a_mapping_refusal_is_a_rejected_record_with_its_reason() {
    let es = Es::new("strict");
    let sink = es.sink(es.config()).await;
    // The positions template replaced by a narrower strict mapping (no
    // `cog`): documents with a course are refused, the others stored.
    let resp = es
        .http
        .put(format!("{URL}/_index_template/{}-positions", es.prefix))
        .json(&json!({ "index_patterns": [format!("{}-positions-*", es.prefix)], "priority": 200,
            "template": { "mappings": { "dynamic": "strict", "properties": {
            "@timestamp": { "type": "date" }, "mmsi": { "type": "keyword" },
            "location": { "type": "geo_point" }, "sog": { "type": "float" },
            "heading": { "type": "short" }, "nav_status": { "type": "byte" },
            "source": { "properties": { "topic": { "type": "keyword" },
                "partition": { "type": "integer" }, "offset": { "type": "long" } } } } } } }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let mut batch: Vec<_> = (0..4).map(|i| position(244_000_001, i, i)).collect();
    for r in &mut batch[2..] {
        if let Event::Position(p) = &mut r.event {
            p.cog = None;
        }
    }
    let outcome = sink.write(&batch).await.unwrap();
    let refused: Vec<usize> = outcome.rejected.iter().map(|(i, _)| *i).collect();
    assert_eq!(refused, vec![0, 1]);
    assert!(outcome.rejected[0].1.contains("400"), "{}", outcome.rejected[0].1);
    assert!(outcome.rejected[0].1.contains("cog"), "{}", outcome.rejected[0].1);
    assert_eq!(es.count(Family::Positions).await, 2);
    es.cleanup().await;
}

/// A proxy in front of the search engine that turns the first `faults` answers
/// of `_bulk` requests into per-item 429/503s (every other item) after
/// forwarding them, and counts `_bulk` requests.
async fn faulty_proxy(faults: usize) -> (String, Arc<AtomicUsize>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};

    let requests = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&requests);
    let http = reqwest::Client::new();
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let http = http.clone();
        let n = if uri.path() == "/_bulk" { seen.fetch_add(1, Ordering::SeqCst) } else { usize::MAX };
        async move {
            let mut rb = http.request(method, format!("{URL}{uri}")).body(body);
            for name in ["content-type", "content-encoding"] {
                if let Some(v) = headers.get(name) {
                    rb = rb.header(name, v.as_bytes());
                }
            }
            let resp = rb.send().await.unwrap();
            let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
            let mut body: Value = resp.json().await.unwrap_or(Value::Null);
            if n < faults {
                for (i, item) in body["items"].as_array_mut().unwrap().iter_mut().enumerate() {
                    if i % 2 == 0 {
                        let code = if n % 2 == 0 { 429 } else { 503 };
                        item["index"]["status"] = json!(code);
                        item["index"]["error"] = json!({"type": "injected", "reason": "test proxy"});
                    }
                }
            }
            (status, [("content-type", "application/json")], body.to_string())
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, requests)
}

#[tokio::test]
async fn overloaded_and_failing_items_are_retried_until_stored() {
    let es = Es::new("retry");
    es.sink(es.config()).await; // templates, directly
    let (url, requests) = faulty_proxy(3).await;
    let sink = es.sink(ElasticsearchConfig { url, gzip: false, ..es.config() }).await;
    let batch: Vec<_> = (0..50).map(|i| position(244_000_001, i, i)).collect();
    let outcome = sink.write(&batch).await.unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    // One request, then three retries of the faulted items (the last one clean).
    assert_eq!(requests.load(Ordering::SeqCst), 4);
    assert_eq!(es.count(Family::Positions).await, 50);

    // Faults outlasting max_item_retries fail the write transiently; the
    // pipeline's retry then stores everything, exactly once.
    let (url, _) = faulty_proxy(100).await;
    let stubborn = ElasticsearchSink::new(&ElasticsearchConfig { url, max_item_retries: 2, ..es.config() })
        .unwrap()
        .with_backoff(Backoff { base: Duration::from_millis(1), max: Duration::from_millis(5) });
    let more: Vec<_> = (50..60).map(|i| position(244_000_001, i, i)).collect();
    assert!(stubborn.write(&more).await.unwrap_err().is_transient());
    sink.write(&more).await.unwrap();
    assert_eq!(es.count(Family::Positions).await, 60);
    es.cleanup().await;
}

/// Resumes the search engine even if the test panics while it is stopped.
struct Frozen(String);

impl Frozen {
    fn freeze(pid: &str) -> Frozen {
        assert!(std::process::Command::new("kill").args(["-STOP", pid]).status().unwrap().success());
        Frozen(pid.to_owned())
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

#[tokio::test]
async fn a_frozen_server_delays_writes_and_loses_nothing() {
    let es = Es::new("outage");
    let pid_file = concat!(env!("CARGO_MANIFEST_DIR"), "/../.porttrack/stack/search.pid");
    let pid = std::fs::read_to_string(pid_file)
        .unwrap_or_else(|e| panic!("{pid_file}: {e} (the search engine is started by deploy/local/up)"));
    let sink = es.sink(ElasticsearchConfig { request_timeout: Duration::from_secs(1), ..es.config() }).await;
    let batches: Vec<Vec<_>> = (0..5)
        .map(|b| (0..100).map(|i| position(244_000_000 + i as u32, b * 100 + i, b * 100 + i)).collect())
        .collect();
    sink.write(&batches[0]).await.unwrap();
    let frozen = Frozen::freeze(pid.trim());
    let thaw = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(frozen);
    });
    let started = Instant::now();
    let mut transient = 0;
    for batch in &batches[1..] {
        let (rejected, t) = write_until_acked(&sink, batch).await;
        assert!(rejected.is_empty());
        transient += t;
    }
    thaw.await.unwrap();
    assert!(transient > 0, "the freeze was not noticed");
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(es.count(Family::Positions).await, 500, "nothing lost, nothing doubled");
    es.cleanup().await;
}

// --- through the TLS + basic-auth front ------------------------------------------

/// A config for the front: `base` with its URL, the stack's CA, the user and
/// `password_file`.
fn front_config(
    base: ElasticsearchConfig,
    front: &SearchFront,
    password_file: &std::path::Path,
) -> ElasticsearchConfig {
    ElasticsearchConfig {
        url: front.url.clone(),
        ca_file: Some(front.ca_file.clone()),
        username: Some(front.username.clone()),
        password_file: Some(password_file.to_path_buf()),
        ..base
    }
}

/// The stack nginx's error log (its stderr), where it warns about bodies it
/// spooled to disk.
fn nginx_log() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.porttrack/stack/nginx.log");
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (nginx is started by deploy/local/up)"))
}

#[tokio::test]
async fn basic_auth_over_tls_with_the_stack_ca_stores_a_full_size_bulk_request() {
    let front = SearchFront::require();
    let es = Es::new("tlsauth");
    // One `_bulk` request close to the default batch_max_bytes (10 MiB),
    // uncompressed: far above nginx's default body limit (1 MiB), and far
    // above what it keeps in memory before spooling a body to disk.
    let config = ElasticsearchConfig {
        gzip: false,
        batch_max_docs: 1_000_000,
        ..front_config(es.config(), &front, &front.password_file)
    };
    assert_eq!(config.batch_max_bytes, ElasticsearchConfig::default().batch_max_bytes);
    let sink = ElasticsearchSink::new(&config).unwrap();
    sink.check().await.unwrap();
    sink.install_template().await.unwrap();
    let mut batch = Vec::new();
    let mut bytes = 0;
    while bytes < config.batch_max_bytes - 64 * 1024 {
        let i = batch.len() as i64;
        let record = position(244_000_000 + (i % 1000) as u32, i, i);
        bytes += sink.bulk_body(std::slice::from_ref(&record)).unwrap().len();
        batch.push(record);
    }
    assert!(bytes > 9 * 1024 * 1024, "{bytes} bytes");
    let log_before = nginx_log().len();
    let started = Instant::now();
    let outcome = sink.write(&batch).await.unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", &outcome.rejected[..1]);
    eprintln!(
        "{} documents, {bytes} bytes in one _bulk through the front: {:?}",
        batch.len(),
        started.elapsed()
    );
    // Read back past the front, from the search engine itself.
    assert_eq!(es.count(Family::Positions).await, batch.len() as u64);
    let new_log = nginx_log().split_off(log_before);
    assert!(!new_log.contains("buffered to a temporary file"), "nginx spooled the body: {new_log}");
    es.cleanup().await;
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error_that_never_shows_a_password() {
    let front = SearchFront::require();
    let es = Es::new("badpass");
    let dir = tempfile::tempdir().unwrap();
    let wrong = format!("wrong-{}", unique("pw"));
    let wrong_file = dir.path().join("password");
    std::fs::write(&wrong_file, format!("{wrong}\n")).unwrap();
    let real = front.password();
    let sink = ElasticsearchSink::new(&front_config(es.config(), &front, &wrong_file)).unwrap();
    let assert_auth_error = |what: &str, e: &SinkError| {
        let text = e.to_string();
        assert!(text.contains("authentication failed") && text.contains("401"), "{what}: {text}");
        assert!(text.contains(&wrong_file.display().to_string()), "{what} names the password file: {text}");
        assert!(!text.contains(&wrong) && !text.contains(&real), "{what} shows a password: {text}");
        let debug = format!("{e:?} {sink:?}");
        assert!(!debug.contains(&wrong) && !debug.contains(&real), "{what}: Debug shows a password: {debug}");
    };
    // Setup and check: a misconfiguration, permanent, so start-up stops at once.
    let e = sink.check().await.unwrap_err();
    assert!(!e.is_transient(), "{e}");
    assert_auth_error("check", &e);
    let e = sink.install_template().await.unwrap_err();
    assert!(!e.is_transient(), "{e}");
    assert_auth_error("install_template", &e);
    // A write: the same clear error, but transient. A permanent one would
    // make the pipeline bisect the batch and dead-letter every good record.
    let e = sink.write(&[position(244_000_001, 0, 0)]).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_auth_error("write", &e);
    assert_eq!(es.count(Family::Positions).await, 0, "nothing got past the front");
    // Without any credentials: refused the same way.
    let anonymous = ElasticsearchSink::new(&ElasticsearchConfig {
        username: None,
        password_file: None,
        ..sink_config(&es, &front)
    })
    .unwrap();
    let e = anonymous.check().await.unwrap_err();
    assert!(
        !e.is_transient() && e.to_string().contains("401") && e.to_string().contains("none are configured"),
        "{e}"
    );
    es.cleanup().await;
}

fn sink_config(es: &Es, front: &SearchFront) -> ElasticsearchConfig {
    front_config(es.config(), front, &front.password_file)
}

#[tokio::test]
async fn without_the_stack_ca_the_certificate_fails_verification() {
    let front = SearchFront::require();
    let es = Es::new("noca");
    // The right credentials, but only the built-in Mozilla roots.
    let sink =
        ElasticsearchSink::new(&ElasticsearchConfig { ca_file: None, ..sink_config(&es, &front) }).unwrap();
    let e = sink.check().await.unwrap_err();
    let text = e.to_string();
    assert!(!e.is_transient(), "{e}");
    assert!(text.contains("TLS verification failed") && text.contains("no ca_file"), "{text}");
    assert!(text.contains("UnknownIssuer"), "the cause is named: {text}");
    assert!(!text.contains(&front.password()), "{text}");
    let e = sink.write(&[position(244_000_001, 0, 0)]).await.unwrap_err();
    assert!(e.is_transient() && e.to_string().contains("TLS verification failed"), "{e}");
    // The same sink with the CA: the certificate is the only difference.
    ElasticsearchSink::new(&sink_config(&es, &front)).unwrap().check().await.unwrap();
    assert_eq!(es.count(Family::Positions).await, 0);
    es.cleanup().await;
}

#[tokio::test]
async fn plain_http_to_the_tls_port_is_a_configuration_error_not_bad_data() {
    let front = SearchFront::require();
    let es = Es::new("plainhttp");
    let url = front.url.replacen("https://", "http://", 1);
    let sink = ElasticsearchSink::new(&ElasticsearchConfig { url, ..sink_config(&es, &front) }).unwrap();
    // nginx answers 400 "The plain HTTP request was sent to HTTPS port".
    let e = sink.check().await.unwrap_err();
    let text = e.to_string();
    assert!(!e.is_transient(), "{e}");
    assert!(text.contains("400") && text.contains("not Elasticsearch's"), "{text}");
    assert!(text.contains("plain HTTP request was sent to HTTPS port"), "{text}");
    // A whole-request 400 from Elasticsearch would be the data's fault
    // (permanent: bisected, dead-lettered); this one is not.
    let e = sink.write(&[position(244_000_001, 0, 0)]).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    es.cleanup().await;
}
