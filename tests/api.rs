//! `porttrack serve` as deployed: the binary, configured by environment
//! variables, against a fresh database on the local stack's Postgres
//! (migrated by the sinks' migrations, seeded with plain SQL). Checks the
//! endpoints a client uses, the errors, `/metrics`, and that the stream
//! delivers a commit within 2 s and resumes from `Last-Event-ID`. The
//! endpoint-by-endpoint detail is in `api/tests/postgres.rs`; this test
//! proves the command wires it up. Fails when Postgres is absent.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SEED: &str = include_str!("../api/tests/fixtures/seed.sql");

/// A `porttrack serve` process, killed on drop.
struct Serve {
    child: Child,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh, migrated and seeded database; its URL.
async fn seeded_database(tag: &str) -> String {
    let stack = support::stack();
    let name = support::unique(tag).replace('-', "_");
    let url = support::create_database(&stack.postgres_url, &name).await;
    let config = porttrack_sinks::postgres::PostgresConfig { url: url.clone(), ..Default::default() };
    porttrack_sinks::postgres::migrate(&config).await.expect("migrations apply");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    client.batch_execute(SEED).await.expect("seeding");
    url
}

/// Starts `porttrack serve` on an ephemeral port and waits for its address.
fn serve(db_url: &str) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_porttrack"))
        .arg("serve")
        .env("PORTTRACK_POSTGRES__URL", db_url)
        .env("PORTTRACK_SERVE__LISTEN", "127.0.0.1:0")
        .env("PORTTRACK_SERVE__POLL_INTERVAL", "250ms")
        .env("PORTTRACK_LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning porttrack serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("reading serve's first line");
    let base = line
        .trim()
        .strip_prefix("serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from serve: {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    Serve { child, base }
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (r.status().as_u16(), r.text().await.expect("body"))
}

async fn json(http: &reqwest::Client, url: &str) -> Value {
    let (status, body) = get(http, url).await;
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

/// Reads SSE events (`event`, `id`, `data`) from a response.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn next(&mut self, within: Duration) -> Option<(String, String, String)> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_owned())
                        .unwrap_or_default()
                };
                let (event, id, data) = (field("event:"), field("id:"), field("data:"));
                if !event.is_empty() {
                    return Some((event, id, data));
                }
                continue;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// The next `vessel` event about `mmsi`: (id, feature).
    async fn vessel(&mut self, mmsi: u64, within: Duration) -> Option<(String, Value)> {
        let deadline = Instant::now() + within;
        loop {
            let (event, id, data) = self.next(deadline.checked_duration_since(Instant::now())?).await?;
            let v: Value = serde_json::from_str(&data).unwrap_or_default();
            if event == "vessel" && v["id"].as_u64() == Some(mmsi) {
                return Some((id, v));
            }
        }
    }
}

async fn open(http: &reqwest::Client, base: &str, last_event_id: Option<&str>) -> Events {
    let mut request = http.get(format!("{base}/api/v1/stream"));
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let response = request.send().await.expect("stream");
    assert_eq!(response.status(), 200);
    Events { response, buffer: String::new() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_from_postgres_and_streams_commits_within_two_seconds() {
    let db = seeded_database("api").await;
    let server = serve(&db);
    let base = server.base.clone();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");

    let vessels = json(&http, &format!("{base}/api/v1/vessels")).await;
    assert_eq!(vessels["total"], 3);
    assert_eq!(vessels["features"][1]["properties"]["movement"], "anchored");
    let detail = json(&http, &format!("{base}/api/v1/vessels/244000001")).await;
    assert_eq!(detail["track"].as_array().map(Vec::len), Some(30));
    let zones = json(&http, &format!("{base}/api/v1/zones")).await;
    assert!(zones["features"].as_array().is_some_and(|z| z.len() > 5));
    let overview = json(&http, &format!("{base}/api/v1/overview")).await;
    assert_eq!(overview["counts"]["vessels"], 3);
    for path in [
        "/api/v1/port-calls",
        "/api/v1/anomalies",
        "/api/v1/weather-alerts?active=true",
        "/api/v1/geography",
        "/config.json",
    ] {
        json(&http, &format!("{base}{path}")).await;
    }
    let doc = json(&http, &format!("{base}/api/v1/openapi.json")).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    let (status, body) = get(&http, &format!("{base}/api/v1/vessels/244009999")).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).expect("json")["error"]["code"].clone()),
        (404, "not_found".into())
    );
    let (status, body) = get(&http, &format!("{base}/api/v1/port-calls?from=2020-01-01T00:00:00Z")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(get(&http, &format!("{base}/readyz")).await.0, 200);
    assert_eq!(get(&http, &format!("{base}/healthz")).await.0, 200);
    let (status, page) = get(&http, &format!("{base}/")).await;
    assert!(status == 200 || status == 503, "/ answered {status}");
    assert!(
        page.contains("<html") || page.contains("<!doctype") || page.contains("<!DOCTYPE"),
        "/ is a page"
    );
    let (_, metrics) = get(&http, &format!("{base}/metrics")).await;
    assert!(metrics.contains("porttrack_api_requests_total"), "requests are counted");
    assert!(metrics.contains("porttrack_api_request_duration_seconds"), "requests are timed");

    // The stream: a commit arrives within 2 s; a reconnect resumes.
    let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut events = open(&http, &base, None).await;
    let update = |lat: f64| {
        format!(
            "UPDATE vessel_state SET lat = {lat}, event_time = now(), updated_at = now() WHERE mmsi = 244000001"
        )
    };
    client.batch_execute(&update(52.061)).await.expect("update");
    let committed = Instant::now();
    let (first_id, feature) =
        events.vessel(244000001, Duration::from_secs(5)).await.expect("the update on the stream");
    let delay = committed.elapsed();
    assert!(delay <= Duration::from_secs(2), "{delay:?} behind the commit");
    assert_eq!(feature["properties"]["lat"], 52.061);
    drop(events);
    client.batch_execute(&update(52.062)).await.expect("update");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut resumed = open(&http, &base, Some(&first_id)).await;
    let (_, missed) =
        resumed.vessel(244000001, Duration::from_secs(2)).await.expect("the missed update, replayed");
    assert_eq!(missed["properties"]["lat"], 52.062);
}
