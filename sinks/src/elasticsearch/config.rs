//! The `[elasticsearch]` configuration section: [`ElasticsearchConfig`] and
//! its defaults. Sizes and concurrency below 1 are read as 1 by the sink.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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
