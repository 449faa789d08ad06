//! The Elasticsearch sink: one document per accepted event and per processor
//! output, through `_bulk`.
//!
//! Written for Elasticsearch 8 semantics. The local stack and the tests run
//! OpenSearch 2.19 (no Elasticsearch server can be installed on the project's
//! machines), which serves every request of the default mode; the ILM and
//! data-stream mode below is Elasticsearch-only, and its requests are
//! unit-tested as sent:
//!
//! * **Families.** Every event kind and derived kind has an index family
//!   ([`Family`]) with an index template (`PUT _index_template/{prefix}-{family}`,
//!   composable templates, ES ≥ 7.8) installed by
//!   [`ElasticsearchSink::install_template`]: `dynamic: strict`, `keyword`
//!   identifiers, `date` times, `geo_point` locations (positions, weather).
//!   A malformed document is refused with a mapping error (HTTP 400 item)
//!   rather than silently widening the mapping; the record is reported back
//!   as rejected, for the dead-letter topic.
//! * **Indices.** By default `{prefix}-{family}-YYYY.MM.DD` chosen by *event*
//!   day (port calls: `{prefix}-port-calls-YYYY.MM` by arrival month), so a
//!   replayed record lands in the same index as the first time and its
//!   deterministic `_id` ([`Origin::document_id`](porttrack_schemas::Origin::document_id),
//!   or the derived row's key) overwrites itself instead of duplicating.
//! * **ILM and data streams** (`ilm = true`, off by default): installs
//!   `PUT _ilm/policy/{prefix}-events` (hot rollover at 1 day or 50 GB per
//!   primary shard, delete after `ilm_delete_after`), and templates with
//!   `"data_stream": {}` and `index.lifecycle.name`. Documents then go to the
//!   data stream `{prefix}-{family}` with `op_type: create` (data streams
//!   accept nothing else), so a replay answers 409 `version_conflict_engine_exception`
//!   for documents already there, which counts as success. Port calls are
//!   updated in place and stay in regular monthly indices.
//! * **Port calls** are indexed with `version_type: external_gte` and a
//!   version that grows with the call's progress, so a replayed older update
//!   is refused (409, success) instead of overwriting a newer one.
//! * **Per-item status.** `_bulk` answers 200 even when items fail. 2xx and
//!   409 succeeded; 429 and 5xx are retried (only those items) with jittered
//!   exponential backoff, up to `max_item_retries`, then the write fails
//!   transiently; any other 4xx is the document's fault (rejected with the
//!   reason).
//! * **Requests.** A write is split into `_bulk` requests of at most
//!   `batch_max_docs` documents and `batch_max_bytes` bytes (uncompressed),
//!   sent `concurrency` at a time, gzip-compressed when `gzip` is set
//!   (`Content-Encoding: gzip` is accepted on every endpoint). A whole
//!   request answering 400 or 413 is permanent (the pipeline bisects),
//!   anything else transient.
//! * **Auth.** API key (`Authorization: ApiKey …`, preferred) or basic
//!   auth; TLS with a custom CA via `ca_file`.

mod docs;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use porttrack_schemas::{Event, Sourced};
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use docs::Family;

use crate::retry::Backoff;
use crate::{Derived, Sink, SinkError, WriteOutcome};

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
    /// Most documents in one `_bulk` request.
    pub batch_max_docs: usize,
    /// Most bytes (uncompressed NDJSON) in one `_bulk` request.
    pub batch_max_bytes: usize,
    /// `_bulk` requests in flight at once per write.
    pub concurrency: usize,
    /// Use ILM and data streams (Elasticsearch 8 only; see the module docs).
    pub ilm: bool,
    /// With `ilm`: how long after rollover an index is deleted.
    #[serde(with = "humantime_serde")]
    pub ilm_delete_after: Duration,
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
            batch_max_docs: 5000,
            batch_max_bytes: 10 * 1024 * 1024,
            concurrency: 2,
            ilm: false,
            ilm_delete_after: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic { username: String, password: String },
    ApiKey(String),
}

/// Indexes events and processor outputs through `_bulk`.
#[derive(Debug, Clone)]
pub struct ElasticsearchSink {
    client: reqwest::Client,
    base: String,
    prefix: String,
    auth: Auth,
    gzip: bool,
    max_item_retries: u32,
    batch_max_docs: usize,
    batch_max_bytes: usize,
    concurrency: usize,
    ilm: bool,
    ilm_delete_after: Duration,
    backoff: Backoff,
}

fn read_secret(path: &PathBuf) -> Result<String, SinkError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end().to_owned())
        .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", path.display())))
}

/// One encoded bulk action: its lines, and which input it came from.
#[derive(Debug)]
struct Item {
    /// Index into the write's input, for [`WriteOutcome::rejected`].
    input: usize,
    /// The action line and the source line, each ending in `\n`.
    lines: Vec<u8>,
}

/// What happened to the items of one or more `_bulk` requests.
#[derive(Debug, Default)]
struct Outcome {
    /// (input index, reason) of items refused for good.
    rejected: Vec<(usize, String)>,
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
            batch_max_docs: config.batch_max_docs.max(1),
            batch_max_bytes: config.batch_max_bytes.max(1),
            concurrency: config.concurrency.max(1),
            ilm: config.ilm,
            ilm_delete_after: config.ilm_delete_after,
            backoff: Backoff::default(),
        })
    }

    /// Overrides the pacing of item retries (tests use short waits).
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
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

    async fn put_json(&self, path: &str, value: &serde_json::Value) -> Result<(), SinkError> {
        let body = serde_json::to_vec(value).map_err(|e| SinkError::Permanent(e.to_string()))?;
        let rb = self.body(self.request(reqwest::Method::PUT, path), "application/json", body)?;
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            status_to_result(status, || format!("PUT {path}: {}", truncate(&text, 300)))?;
        }
        Ok(())
    }

    /// The ILM policy body (with `ilm`).
    pub fn ilm_policy(&self) -> serde_json::Value {
        let days = self.ilm_delete_after.as_secs().div_ceil(86_400).max(1);
        json!({ "policy": { "phases": {
            "hot": { "actions": { "rollover": { "max_age": "1d", "max_primary_shard_size": "50gb" } } },
            "delete": { "min_age": format!("{days}d"), "actions": { "delete": {} } }
        }}})
    }

    /// The index template of `family`.
    pub fn template(&self, family: Family) -> serde_json::Value {
        let mappings: serde_json::Value =
            serde_json::from_str(family.mappings()).unwrap_or_else(|_| json!({ "dynamic": "strict" }));
        let data_stream = self.ilm && family.is_append_only();
        let pattern = if data_stream {
            format!("{}-{}", self.prefix, family.name())
        } else {
            format!("{}-{}-*", self.prefix, family.name())
        };
        let mut template = json!({
            "index_patterns": [pattern],
            // Distinct per family: ES refuses overlapping patterns of equal priority.
            "priority": family.priority(),
            "template": { "mappings": mappings },
            "_meta": { "managed_by": "porttrack" }
        });
        if data_stream {
            template["data_stream"] = json!({});
            template["template"]["settings"] =
                json!({ "index.lifecycle.name": format!("{}-events", self.prefix) });
        }
        template
    }

    /// Installs (or updates) the ILM policy (with `ilm`) and the index
    /// template of every [`Family`]. Idempotent; run at start.
    pub async fn install_template(&self) -> Result<(), SinkError> {
        if self.ilm {
            self.put_json(&format!("_ilm/policy/{}-events", self.prefix), &self.ilm_policy()).await?;
        }
        for family in Family::ALL {
            let name = format!("{}-{}", self.prefix, family.name());
            self.put_json(&format!("_index_template/{name}"), &self.template(family)).await?;
        }
        Ok(())
    }

    /// Makes recent writes visible to search (tests and tools; the pipeline never calls it).
    pub async fn refresh(&self) -> Result<(), SinkError> {
        let resp = self
            .request(reqwest::Method::POST, &format!("{}-*/_refresh", self.prefix))
            .send()
            .await
            .map_err(transport)?;
        status_to_result(resp.status(), || "refresh".into())
    }

    /// The NDJSON `_bulk` body for `records`, as one request (benchmarks and tests).
    pub fn bulk_body(&self, records: &[Sourced<Event>]) -> Result<Vec<u8>, SinkError> {
        let items = self.event_items(records)?;
        Ok(items.into_iter().flat_map(|i| i.lines).collect())
    }

    fn encoder(&self) -> docs::Encoder<'_> {
        docs::Encoder { prefix: &self.prefix, data_streams: self.ilm }
    }

    fn event_items(&self, records: &[Sourced<Event>]) -> Result<Vec<Item>, SinkError> {
        let enc = self.encoder();
        let mut items = Vec::with_capacity(records.len());
        for (input, r) in records.iter().enumerate() {
            let mut lines = Vec::with_capacity(384);
            enc.event(r, &mut lines)?;
            items.push(Item { input, lines });
        }
        Ok(items)
    }

    fn derived_items(&self, d: &Derived) -> Result<Vec<Item>, SinkError> {
        let enc = self.encoder();
        let mut items = Vec::with_capacity(d.len());
        let mut push = |f: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), SinkError>| {
            let mut lines = Vec::with_capacity(512);
            f(&mut lines)?;
            items.push(Item { input: items.len(), lines });
            Ok::<(), SinkError>(())
        };
        for e in &d.zone_events {
            push(&mut |out| enc.zone_event(e, out))?;
        }
        for c in &d.port_calls {
            push(&mut |out| enc.port_call(c, out))?;
        }
        for a in &d.anomalies {
            push(&mut |out| enc.anomaly(a, out))?;
        }
        for w in &d.weather_alerts {
            push(&mut |out| enc.weather_alert(w, out))?;
        }
        for p in &d.congestion {
            push(&mut |out| enc.partial(p, out))?;
        }
        Ok(items)
    }

    /// Splits `items` into requests by `batch_max_docs` and `batch_max_bytes`.
    fn chunks<'a>(&self, items: &'a [Item]) -> Vec<&'a [Item]> {
        let mut chunks = Vec::new();
        let mut start = 0;
        let mut bytes = 0;
        for (i, item) in items.iter().enumerate() {
            let full = i - start >= self.batch_max_docs
                || (i > start && bytes + item.lines.len() > self.batch_max_bytes);
            if full {
                chunks.push(&items[start..i]);
                start = i;
                bytes = 0;
            }
            bytes += item.lines.len();
        }
        if start < items.len() {
            chunks.push(&items[start..]);
        }
        chunks
    }

    /// Sends `items` in chunks, `concurrency` at a time.
    async fn send_items(&self, items: &[Item]) -> Result<Outcome, SinkError> {
        let chunks = self.chunks(items);
        // Boxed so the stream's item type names no closure lifetime (a
        // higher-ranked `Send` bound the compiler cannot prove otherwise).
        let requests: Vec<BoxFuture<'_, Result<Outcome, SinkError>>> =
            chunks.into_iter().map(|c| self.send_chunk(c).boxed()).collect();
        let results: Vec<Result<Outcome, SinkError>> =
            futures::stream::iter(requests).buffer_unordered(self.concurrency).collect().await;
        let mut outcome = Outcome::default();
        for r in results {
            outcome.rejected.extend(r?.rejected);
        }
        outcome.rejected.sort_unstable_by_key(|(i, _)| *i);
        Ok(outcome)
    }

    /// One chunk until every item succeeded or was refused for good.
    async fn send_chunk(&self, chunk: &[Item]) -> Result<Outcome, SinkError> {
        let mut pending: Vec<&Item> = chunk.iter().collect();
        let mut outcome = Outcome::default();
        let mut attempt = 0;
        while !pending.is_empty() {
            let body: Vec<u8> = pending.iter().flat_map(|i| i.lines.iter().copied()).collect();
            let rb = self.body(self.request(reqwest::Method::POST, "_bulk"), "application/x-ndjson", body)?;
            let resp = rb.send().await.map_err(transport)?;
            status_to_result(resp.status(), || "_bulk".into())?;
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| SinkError::Transient(format!("reading _bulk response: {e}")))?;
            let statuses = parse_bulk_response(&bytes)?;
            if statuses.len() != pending.len() {
                return Err(SinkError::Transient(format!(
                    "_bulk answered {} items for {} actions",
                    statuses.len(),
                    pending.len()
                )));
            }
            let mut retry = Vec::new();
            for (item, status) in pending.into_iter().zip(statuses) {
                match status {
                    ItemStatus::Done => {}
                    ItemStatus::Retry => retry.push(item),
                    ItemStatus::Refused(reason) => outcome.rejected.push((item.input, reason)),
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
        Ok(outcome)
    }

    async fn write_events(&self, records: &[Sourced<Event>]) -> Result<WriteOutcome, SinkError> {
        let items = self.event_items(records)?;
        let outcome = self.send_items(&items).await?;
        Ok(WriteOutcome { rejected: outcome.rejected })
    }

    async fn write_derived_docs(&self, batch: &Derived) -> Result<(), SinkError> {
        let items = self.derived_items(batch)?;
        let outcome = self.send_items(&items).await?;
        if let Some((_, reason)) = outcome.rejected.first() {
            // Derived rows cannot be dead-lettered: a refusal is our mapping's bug.
            return Err(SinkError::Permanent(format!(
                "{} derived documents refused, first: {reason}",
                outcome.rejected.len()
            )));
        }
        Ok(())
    }
}

/// What one `_bulk` item's status means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemStatus {
    /// Stored (2xx), or already stored in this or a newer version (409).
    Done,
    /// Overloaded or failing (429, 5xx): send again.
    Retry,
    /// The document's fault: the reason, for the dead-letter topic.
    Refused(String),
}

#[derive(Debug, Deserialize)]
struct BulkResponse {
    items: Vec<BulkItemWrapper>,
}

/// An item is `{"<op>": {...}}` with op one of index/create/update/delete.
#[derive(Debug, Deserialize)]
struct BulkItemWrapper {
    #[serde(alias = "create", alias = "update", alias = "delete")]
    index: BulkItem,
}

#[derive(Debug, Deserialize)]
struct BulkItem {
    status: u16,
    #[serde(default)]
    error: Option<BulkError>,
}

#[derive(Debug, Deserialize)]
struct BulkError {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Parses a `_bulk` response body into one status per item, in order.
pub fn parse_bulk_response(body: &[u8]) -> Result<Vec<ItemStatus>, SinkError> {
    let parsed: BulkResponse = serde_json::from_slice(body)
        .map_err(|e| SinkError::Transient(format!("unreadable _bulk response: {e}")))?;
    Ok(parsed
        .items
        .into_iter()
        .map(|w| {
            let item = w.index;
            match item.status {
                200..=299 | 409 => ItemStatus::Done,
                429 | 500..=599 => ItemStatus::Retry,
                status => ItemStatus::Refused(match item.error {
                    Some(e) => format!(
                        "elasticsearch {status}: {}: {}",
                        e.kind.as_deref().unwrap_or("error"),
                        e.reason.as_deref().unwrap_or("no reason given")
                    ),
                    None => format!("elasticsearch {status}"),
                }),
            }
        })
        .collect())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
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

    fn write<'a>(&'a self, records: &'a [Sourced<Event>]) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        self.write_events(records).boxed()
    }

    fn write_derived<'a>(&'a self, batch: &'a Derived) -> BoxFuture<'a, Result<(), SinkError>> {
        self.write_derived_docs(batch).boxed()
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

    fn sink(config: ElasticsearchConfig) -> ElasticsearchSink {
        ElasticsearchSink::new(&ElasticsearchConfig { gzip: false, ..config }).unwrap()
    }

    #[test]
    fn bulk_body_uses_event_day_indices_and_coordinate_ids() {
        let sink = sink(ElasticsearchConfig::default());
        let records = vec![record(244_123_456, 0, 7)];
        let body = String::from_utf8(sink.bulk_body(&records).unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["index"]["_id"], "ais.positions-0-7");
        assert_eq!(lines[0]["index"]["_index"], "porttrack-positions-2026.09.21");
        assert_eq!(lines[1]["location"]["lat"], 51.9);
        assert_eq!(lines[1]["mmsi"], "244123456");
    }

    #[test]
    fn data_stream_mode_creates_into_the_stream() {
        let sink = sink(ElasticsearchConfig { ilm: true, ..Default::default() });
        let body = String::from_utf8(sink.bulk_body(&[record(244_123_456, 0, 7)]).unwrap()).unwrap();
        let action: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
        assert_eq!(action["create"]["_index"], "porttrack-positions");
        let t = sink.template(Family::Positions);
        assert_eq!(t["index_patterns"][0], "porttrack-positions");
        assert_eq!(t["template"]["settings"]["index.lifecycle.name"], "porttrack-events");
        assert!(t["data_stream"].is_object());
        // Port calls are updated in place: never a data stream.
        assert!(sink.template(Family::PortCalls).get("data_stream").is_none());
        assert_eq!(sink.ilm_policy()["policy"]["phases"]["delete"]["min_age"], "30d");
    }

    #[test]
    fn requests_are_split_by_docs_and_bytes() {
        let records: Vec<_> = (0..10).map(|i| record(244_123_456, 0, i)).collect(); // equal sizes
        let by_docs = sink(ElasticsearchConfig { batch_max_docs: 4, ..Default::default() });
        let items = by_docs.event_items(&records).unwrap();
        let sizes: Vec<usize> = by_docs.chunks(&items).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![4, 4, 2]);
        let one = items[0].lines.len();
        let by_bytes = sink(ElasticsearchConfig { batch_max_bytes: one * 3 + 1, ..Default::default() });
        let sizes: Vec<usize> = by_bytes.chunks(&items).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![3, 3, 3, 1]);
        // A document larger than the limit still goes, alone.
        let tiny = sink(ElasticsearchConfig { batch_max_bytes: 1, ..Default::default() });
        assert_eq!(tiny.chunks(&items).len(), 10);
    }

    #[test]
    fn item_statuses() {
        let body = br#"{"took":1,"errors":true,"items":[
            {"index":{"status":201}},
            {"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},
            {"index":{"status":429}},
            {"index":{"status":503}},
            {"index":{"status":400,"error":{"type":"strict_dynamic_mapping_exception","reason":"no field x"}}}]}"#;
        let got = parse_bulk_response(body).unwrap();
        assert_eq!(got[..4], [ItemStatus::Done, ItemStatus::Done, ItemStatus::Retry, ItemStatus::Retry]);
        assert_eq!(
            got[4],
            ItemStatus::Refused("elasticsearch 400: strict_dynamic_mapping_exception: no field x".into())
        );
    }

    #[test]
    fn whole_request_status_classification() {
        use reqwest::StatusCode;
        assert!(status_to_result(StatusCode::OK, String::new).is_ok());
        assert!(!status_to_result(StatusCode::BAD_REQUEST, String::new).unwrap_err().is_transient());
        assert!(status_to_result(StatusCode::TOO_MANY_REQUESTS, String::new).unwrap_err().is_transient());
        assert!(status_to_result(StatusCode::SERVICE_UNAVAILABLE, String::new).unwrap_err().is_transient());
    }

    #[test]
    fn every_family_has_a_strict_mapping_with_a_timestamp() {
        for family in Family::ALL {
            let m: serde_json::Value = serde_json::from_str(family.mappings()).unwrap();
            assert_eq!(m["dynamic"], "strict", "{}", family.name());
            assert_eq!(m["properties"]["@timestamp"]["type"], "date", "{}", family.name());
        }
    }
}
