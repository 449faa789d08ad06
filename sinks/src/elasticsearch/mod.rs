//! The Elasticsearch sink: one document per accepted position, via `_bulk`.
//!
//! Behaviour follows Elasticsearch 8:
//!
//! * Documents go to daily indices `{prefix}-positions-YYYY.MM.DD` chosen by
//!   *event* time, so a replayed record lands in the same index as the first
//!   time, and its `_id` (`{topic}-{partition}-{offset}`) overwrites itself
//!   instead of duplicating.
//! * An index template (installed by [`ElasticsearchSink::install_template`])
//!   maps `location` as `geo_point`, `@timestamp` as `date`, identifiers as
//!   `keyword`, with `dynamic: strict` so a malformed document is refused
//!   with a mapping error rather than silently widening the mapping.
//! * `_bulk` answers 200 even when items fail; each item carries its own
//!   status. 2xx succeeded; 429 and 5xx are retried (only those items) with
//!   jittered exponential backoff; any other 4xx is the document's fault and
//!   is reported back as rejected, for the dead-letter topic.
//! * Request bodies are gzip-compressed when `gzip` is set (Elasticsearch
//!   accepts `Content-Encoding: gzip` on every endpoint).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Datelike;
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack_schemas::{Position, Sourced};
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::retry::Backoff;
use crate::{Sink, SinkError, WriteOutcome};

/// The `[elasticsearch]` configuration section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ElasticsearchConfig {
    /// Base URL, e.g. `https://es.internal:9200`.
    pub url: String,
    /// Prefix of every index and template name.
    pub index_prefix: String,
    /// Basic-auth user (with `password_file`).
    pub username: Option<String>,
    /// File holding the basic-auth password.
    pub password_file: Option<PathBuf>,
    /// File holding an API key (the base64 `id:key` form); preferred over basic auth.
    pub api_key_file: Option<PathBuf>,
    /// PEM file with the CA that signed the cluster's certificate.
    pub ca_file: Option<PathBuf>,
    /// Compress request bodies.
    pub gzip: bool,
    /// Timeout of one `_bulk` request.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Times a 429/5xx item is retried within one write before the whole
    /// write is reported as transiently failed.
    pub max_item_retries: u32,
}

impl Default for ElasticsearchConfig {
    fn default() -> Self {
        ElasticsearchConfig {
            url: "http://127.0.0.1:9200".into(),
            index_prefix: "porttrack".into(),
            username: None,
            password_file: None,
            api_key_file: None,
            ca_file: None,
            gzip: true,
            request_timeout: Duration::from_secs(30),
            max_item_retries: 5,
        }
    }
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic { username: String, password: String },
    ApiKey(String),
}

/// Indexes positions through `_bulk`.
#[derive(Debug, Clone)]
pub struct ElasticsearchSink {
    client: reqwest::Client,
    base: String,
    prefix: String,
    auth: Auth,
    gzip: bool,
    max_item_retries: u32,
    backoff: Backoff,
}

fn read_secret(path: &PathBuf) -> Result<String, SinkError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end().to_owned())
        .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", path.display())))
}

impl ElasticsearchSink {
    /// A sink for the cluster at `config.url`. Does not connect yet.
    pub fn new(config: &ElasticsearchConfig) -> Result<Self, SinkError> {
        let mut builder = reqwest::Client::builder().timeout(config.request_timeout);
        if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", ca.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| SinkError::Permanent(format!("CA certificate {}: {e}", ca.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| SinkError::Permanent(format!("http client: {e}")))?;
        let auth = match (&config.api_key_file, &config.username, &config.password_file) {
            (Some(key), _, _) => Auth::ApiKey(read_secret(key)?),
            (None, Some(username), password) => Auth::Basic {
                username: username.clone(),
                password: password.as_ref().map(read_secret).transpose()?.unwrap_or_default(),
            },
            (None, None, _) => Auth::None,
        };
        Ok(ElasticsearchSink {
            client,
            base: config.url.trim_end_matches('/').to_owned(),
            prefix: config.index_prefix.clone(),
            auth,
            gzip: config.gzip,
            max_item_retries: config.max_item_retries,
            backoff: Backoff::default(),
        })
    }

    /// The index a position goes to.
    pub fn index_for(&self, position: &Position) -> String {
        let d = position.timestamp.date_naive();
        format!("{}-positions-{:04}.{:02}.{:02}", self.prefix, d.year(), d.month(), d.day())
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, format!("{}/{}", self.base, path.trim_start_matches('/')));
        match &self.auth {
            Auth::None => rb,
            Auth::Basic { username, password } => rb.basic_auth(username, Some(password)),
            Auth::ApiKey(key) => rb.header("Authorization", format!("ApiKey {key}")),
        }
    }

    fn body(
        &self,
        rb: reqwest::RequestBuilder,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::RequestBuilder, SinkError> {
        let rb = rb.header(CONTENT_TYPE, content_type);
        if !self.gzip {
            return Ok(rb.body(body));
        }
        let mut gz = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
        gz.write_all(&body).map_err(|e| SinkError::Permanent(format!("gzip: {e}")))?;
        let compressed = gz.finish().map_err(|e| SinkError::Permanent(format!("gzip: {e}")))?;
        Ok(rb.header(CONTENT_ENCODING, "gzip").body(compressed))
    }

    /// Installs (or updates) the index template for position indices.
    pub async fn install_template(&self) -> Result<(), SinkError> {
        let name = format!("{}-positions", self.prefix);
        let template = json!({
            "index_patterns": [format!("{}-positions-*", self.prefix)],
            "priority": 200,
            "template": {
                "mappings": {
                    "dynamic": "strict",
                    "properties": {
                        "@timestamp": { "type": "date" },
                        "mmsi": { "type": "keyword" },
                        "location": { "type": "geo_point" },
                        "sog": { "type": "float" },
                        "cog": { "type": "float" },
                        "heading": { "type": "short" },
                        "nav_status": { "type": "byte" },
                        "source": { "properties": {
                            "topic": { "type": "keyword" },
                            "partition": { "type": "integer" },
                            "offset": { "type": "long" }
                        }}
                    }
                }
            }
        });
        let body = serde_json::to_vec(&template).map_err(|e| SinkError::Permanent(e.to_string()))?;
        let rb = self.body(
            self.request(reqwest::Method::PUT, &format!("_index_template/{name}")),
            "application/json",
            body,
        )?;
        let resp = rb.send().await.map_err(transport)?;
        status_to_result(resp.status(), || format!("installing index template {name}"))?;
        Ok(())
    }

    /// Makes recent writes visible to search (tests and tools; the pipeline never calls it).
    pub async fn refresh(&self) -> Result<(), SinkError> {
        let resp = self
            .request(reqwest::Method::POST, &format!("{}-positions-*/_refresh", self.prefix))
            .send()
            .await
            .map_err(transport)?;
        status_to_result(resp.status(), || "refresh".into())
    }

    fn bulk_body(&self, records: &[Sourced<Position>], which: &[usize]) -> Result<Vec<u8>, SinkError> {
        let mut body = Vec::with_capacity(which.len() * 320);
        for &i in which {
            let r = &records[i];
            let p = &r.event;
            let action = json!({ "index": { "_index": self.index_for(p), "_id": r.origin.document_id() } });
            let doc = PositionDoc {
                timestamp: p.timestamp,
                mmsi: p.mmsi.to_string(),
                location: GeoPoint { lat: p.lat, lon: p.lon },
                sog: p.sog,
                cog: p.cog,
                heading: p.heading,
                nav_status: p.nav_status,
                source: SourceDoc {
                    topic: &r.origin.topic,
                    partition: r.origin.partition,
                    offset: r.origin.offset,
                },
            };
            serde_json::to_writer(&mut body, &action).map_err(|e| SinkError::Permanent(e.to_string()))?;
            body.push(b'\n');
            serde_json::to_writer(&mut body, &doc).map_err(|e| SinkError::Permanent(e.to_string()))?;
            body.push(b'\n');
        }
        Ok(body)
    }

    async fn bulk(&self, records: &[Sourced<Position>]) -> Result<WriteOutcome, SinkError> {
        let mut pending: Vec<usize> = (0..records.len()).collect();
        let mut outcome = WriteOutcome::default();
        let mut attempt = 0;
        while !pending.is_empty() {
            let body = self.bulk_body(records, &pending)?;
            let rb = self.body(self.request(reqwest::Method::POST, "_bulk"), "application/x-ndjson", body)?;
            let resp = rb.send().await.map_err(transport)?;
            status_to_result(resp.status(), || "_bulk".into())?;
            let parsed: BulkResponse = resp
                .json()
                .await
                .map_err(|e| SinkError::Transient(format!("reading _bulk response: {e}")))?;
            if parsed.items.len() != pending.len() {
                return Err(SinkError::Transient(format!(
                    "_bulk answered {} items for {} actions",
                    parsed.items.len(),
                    pending.len()
                )));
            }
            let mut retry = Vec::new();
            for (&i, item) in pending.iter().zip(&parsed.items) {
                let Some(result) = item.values().next() else {
                    retry.push(i);
                    continue;
                };
                match result.status {
                    200..=299 => {}
                    429 | 500..=599 => retry.push(i),
                    _ => outcome.rejected.push((i, result.describe())),
                }
            }
            if !retry.is_empty() {
                metrics::counter!("porttrack_sink_item_retries_total", "sink" => "elasticsearch")
                    .increment(retry.len() as u64);
                if attempt >= self.max_item_retries {
                    return Err(SinkError::Transient(format!(
                        "{} _bulk items still failing after {attempt} retries",
                        retry.len()
                    )));
                }
                tokio::time::sleep(self.backoff.delay(attempt)).await;
                attempt += 1;
            }
            pending = retry;
        }
        outcome.rejected.sort_unstable_by_key(|(i, _)| *i);
        Ok(outcome)
    }
}

/// The indexed document. A struct rather than `json!` so floats keep their
/// shortest `f32` form (`9.9`, not `9.899999618530273`).
#[derive(Debug, Serialize)]
struct PositionDoc<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: chrono::DateTime<chrono::Utc>,
    mmsi: String,
    location: GeoPoint,
    sog: Option<f32>,
    cog: Option<f32>,
    heading: Option<u16>,
    nav_status: Option<u8>,
    source: SourceDoc<'a>,
}

#[derive(Debug, Serialize)]
struct GeoPoint {
    lat: f64,
    lon: f64,
}

#[derive(Debug, Serialize)]
struct SourceDoc<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
}

#[derive(Debug, Deserialize)]
struct BulkResponse {
    items: Vec<std::collections::HashMap<String, BulkItem>>,
}

#[derive(Debug, Deserialize)]
struct BulkItem {
    status: u16,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

impl BulkItem {
    fn describe(&self) -> String {
        match &self.error {
            Some(e) => format!(
                "elasticsearch {}: {}: {}",
                self.status,
                e.get("type").and_then(|t| t.as_str()).unwrap_or("error"),
                e.get("reason").and_then(|t| t.as_str()).unwrap_or("no reason given")
            ),
            None => format!("elasticsearch {}", self.status),
        }
    }
}

fn transport(e: reqwest::Error) -> SinkError {
    SinkError::Transient(format!("elasticsearch unreachable: {e}"))
}

fn status_to_result(status: reqwest::StatusCode, what: impl FnOnce() -> String) -> Result<(), SinkError> {
    if status.is_success() {
        return Ok(());
    }
    let msg = format!("{}: HTTP {status}", what());
    // 400 on the request as a whole means the body itself is unusable; 413
    // means it is too big. Both are fixed by splitting, not by waiting.
    // Auth and everything else is retried: it is not the data's fault.
    match status.as_u16() {
        400 | 413 => Err(SinkError::Permanent(msg)),
        _ => Err(SinkError::Transient(msg)),
    }
}

impl Sink for ElasticsearchSink {
    fn name(&self) -> &'static str {
        "elasticsearch"
    }

    fn write<'a>(
        &'a self,
        records: &'a [Sourced<Position>],
    ) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        self.bulk(records).boxed()
    }

    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
        async move {
            let resp = self.request(reqwest::Method::GET, "").send().await.map_err(transport)?;
            status_to_result(resp.status(), || "GET /".into())
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;

    #[test]
    fn bulk_body_uses_event_day_indices_and_coordinate_ids() {
        let sink =
            ElasticsearchSink::new(&ElasticsearchConfig { gzip: false, ..Default::default() }).unwrap();
        let records = vec![record(244_123_456, 0, 7)];
        let body = String::from_utf8(sink.bulk_body(&records, &[0]).unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["index"]["_id"], "ais.positions-0-7");
        assert_eq!(lines[0]["index"]["_index"], "porttrack-positions-2026.09.21");
        assert_eq!(lines[1]["location"]["lat"], 51.9);
        assert_eq!(lines[1]["mmsi"], "244123456");
    }

    #[test]
    fn whole_request_status_classification() {
        use reqwest::StatusCode;
        assert!(status_to_result(StatusCode::OK, String::new).is_ok());
        assert!(!status_to_result(StatusCode::BAD_REQUEST, String::new).unwrap_err().is_transient());
        assert!(status_to_result(StatusCode::TOO_MANY_REQUESTS, String::new).unwrap_err().is_transient());
        assert!(status_to_result(StatusCode::SERVICE_UNAVAILABLE, String::new).unwrap_err().is_transient());
    }
}
