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
//!   identifiers, `date` times, `geo_point` locations (positions, weather,
//!   met-hydro reports, stations), analysed `text` for safety messages.
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
//!   reason). The retries follow a [`RetryPolicy`](crate::retry::RetryPolicy)
//!   and count in `porttrack_sink_item_retries_total{sink="elasticsearch"}`.
//! * **Requests.** A write is split into `_bulk` requests of at most
//!   `batch_max_docs` documents and `batch_max_bytes` bytes (uncompressed),
//!   sent `concurrency` at a time, gzip-compressed when `gzip` is set
//!   (`Content-Encoding: gzip` is accepted on every endpoint). A whole
//!   `_bulk` answering Elasticsearch's own 400 (a JSON error) or 413 is
//!   permanent (the pipeline bisects); anything else, refused credentials
//!   and TLS failures included, is transient for writes. For setup calls and
//!   `check`, refused credentials (401/403), an unverifiable certificate and
//!   a 400 that is not Elasticsearch's are permanent, so start-up fails at
//!   once.
//! * **Auth.** API key (`Authorization: ApiKey …`, preferred) or basic
//!   auth (`username` + `password_file`); TLS with a custom CA via
//!   `ca_file`. Errors name the credentials' source, never their value;
//!   `Debug` redacts them. Tested through the local stack's nginx front
//!   (`https://127.0.0.1:9443`).
//!
//! # Files
//!
//! One role each, from the outside in:
//!
//! | file | role |
//! |---|---|
//! | `config.rs` | [`ElasticsearchConfig`] and its defaults |
//! | `client.rs` | the HTTP client: CA, auth, gzip bodies, sending, whole-response status |
//! | `sink.rs` | [`ElasticsearchSink`]: setup calls, the [`Sink`](crate::Sink) impl, chunked concurrent `_bulk` writes and item retries |
//! | `bulk.rs` | the `_bulk` protocol: items, chunking, per-item statuses ([`parse_bulk_response`]) |
//! | `docs.rs` | the documents: action and source lines per event and derived row |
//! | `family.rs` | index families ([`Family`]), their mappings, templates and ILM policy |

mod bulk;
mod client;
mod config;
mod docs;
mod family;
mod sink;

pub use bulk::{ItemStatus, parse_bulk_response};
pub use config::ElasticsearchConfig;
pub use family::Family;
pub use sink::ElasticsearchSink;
