//! The `[serve]` configuration section ([`ServeConfig`]). Postgres comes
//! from the same `[postgres]` section `porttrack run` uses.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `[serve]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Where the API and the map are served.
    pub listen: SocketAddr,
    /// Postgres `statement_timeout` of every pooled connection: no request
    /// can hold the database longer than this.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    /// How often the one stream poller per process reads the stores (≤ 1 s
    /// keeps the stream within 2 s of a commit).
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How far back each vessel poll looks before the newest `updated_at` it
    /// saw: a transaction's `now()` is its start, so one that committed late
    /// has an older `updated_at` than rows already seen.
    #[serde(with = "humantime_serde")]
    pub poll_overlap: Duration,
    /// Stream events kept for `Last-Event-ID` resumption (per process).
    pub stream_retention: usize,
    /// Per-client backlog before a slow client is told to `reset`.
    pub stream_buffer: usize,
    /// Heartbeat interval of the stream.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// Congestion partials older than this before the newest are ignored (a
    /// partition no instance writes any more).
    #[serde(with = "humantime_serde")]
    pub congestion_window: Duration,
    /// Raster tile URL template for the map's basemap (production); null draws only the shipped layers.
    pub tile_url: Option<String>,
    /// MapLibre style URL (production).
    pub style_url: Option<String>,
    /// A GeoJSON coastline served by `/api/v1/geography` (empty when absent).
    pub coastline: Option<PathBuf>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8088)),
            statement_timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(500),
            poll_overlap: Duration::from_secs(10),
            stream_retention: 10_000,
            stream_buffer: 4_096,
            heartbeat: Duration::from_secs(15),
            congestion_window: Duration::from_secs(3_600),
            tile_url: None,
            style_url: None,
            coastline: None,
        }
    }
}

impl ServeConfig {
    /// Checks the values make sense together.
    pub fn validate(&self) -> Result<(), String> {
        if self.poll_interval.is_zero() || self.poll_interval > Duration::from_secs(1) {
            return Err(
                "serve.poll_interval must be between 1 ms and 1 s (the stream is at most 2 s behind)".into(),
            );
        }
        if self.statement_timeout.is_zero() {
            return Err("serve.statement_timeout must be positive".into());
        }
        if self.stream_retention == 0 || self.stream_buffer == 0 {
            return Err("serve.stream_retention and serve.stream_buffer must be positive".into());
        }
        if self.heartbeat.is_zero() {
            return Err("serve.heartbeat must be positive".into());
        }
        Ok(())
    }
}
