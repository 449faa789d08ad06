//! PortTrack's read API: what `porttrack serve` (and `porttrack demo`)
//! answer under `/api/v1/`, the live stream, and the map's static files.
//!
//! # Roles
//!
//! * [`store`]: where answers come from. [`Store`] is the one interface;
//!   [`PostgresStore`] reads the tables the Postgres sink writes (any number
//!   of servers, stateless, behind a load balancer), [`MemoryStore`] holds
//!   the embedded demo's rows, fed by [`MemorySink`].
//! * [`view`]: what is derived from rows the same way for both stores: the
//!   zone a vessel is in, its type group and movement, congestion levels by
//!   `porttrack_processors::merge` with the configured thresholds.
//! * [`routes`]: one file per resource; parameters are checked and bounded
//!   there (time ranges, page sizes), with `{"error":{"code","message"}}`
//!   answers ([`error`]).
//! * [`stream`]: the Server-Sent Events hub and the one poller per process
//!   that feeds it.
//! * [`model`]: the response types, from which the OpenAPI document
//!   ([`ApiDoc`], `/api/v1/openapi.json`) is generated.
//! * [`config`]: the `[serve]` section.
//!
//! See `docs/api.md` for the endpoints, limits, stream semantics and scaling.

pub mod config;
pub mod error;
pub mod metrics;
pub mod model;
pub mod routes;
pub mod store;
pub mod stream;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use porttrack_processors::CongestionThresholds;
use utoipa::OpenApi;

pub use crate::config::ServeConfig;
pub use crate::store::Store;
pub use crate::store::memory::{MemorySink, MemoryStore};
pub use crate::store::postgres::PostgresStore;
pub use crate::view::Zoning;

/// Renders the Prometheus text of the recorder the binary installed.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Where answers come from.
    pub store: Arc<dyn Store>,
    /// The port geography.
    pub zoning: Arc<Zoning>,
    /// Congestion thresholds (the processors' configuration).
    pub thresholds: CongestionThresholds,
    /// The stream hub.
    pub hub: Arc<stream::Hub>,
    /// `[serve]`.
    pub config: Arc<ServeConfig>,
    /// The coastline layer.
    pub coastline: Arc<serde_json::Value>,
    /// `/metrics`.
    pub metrics: Option<MetricsRender>,
    /// The OpenAPI document served.
    pub openapi: Arc<serde_json::Value>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The OpenAPI document (OpenAPI 3.1, generated from the handlers and [`model`]).
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "PortTrack read API",
        description = "Vessels, zones and congestion, port calls, alerts, AIS safety messages and a live stream. See docs/api.md."
    ),
    paths(
        routes::vessels::list,
        routes::vessels::detail,
        routes::zones::list,
        routes::port_calls::list,
        routes::alerts::anomalies,
        routes::alerts::weather_alerts,
        routes::safety::safety_messages,
        routes::overview::overview,
        routes::stream::stream,
        routes::geography::geography,
        routes::web::config,
    ),
    components(schemas(model::CongestionChange, model::AlertEvent, model::StreamTick, model::SseEvent))
)]
pub struct ApiDoc;

async fn openapi(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<serde_json::Value> {
    axum::Json((*state.openapi).clone())
}

/// The generated document with what only the running server knows: the
/// zone names its geography has (the `zone` filter's allowed values).
pub fn openapi_document(zoning: &Zoning) -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let names: Vec<&str> = zoning.geography().zones().iter().map(|z| z.name()).collect();
    if let Some(params) =
        doc.pointer_mut("/paths/~1api~1v1~1vessels/get/parameters").and_then(|p| p.as_array_mut())
    {
        for param in params.iter_mut().filter(|p| p["name"] == "zone") {
            param["schema"] = serde_json::json!({"type": "string", "enum": names});
        }
    }
    doc
}

/// The coastline layer at `path`, or an empty FeatureCollection.
pub fn coastline(path: Option<&std::path::Path>) -> Result<serde_json::Value, String> {
    match path {
        None => Ok(serde_json::json!({"type": "FeatureCollection", "features": []})),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| format!("serve.coastline {}: {e}", p.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("serve.coastline {}: {e}", p.display()))
        }
    }
}

/// Everything the server needs; [`Api::start`] spawns the stream poller and
/// returns the router.
#[derive(Clone)]
pub struct Api {
    /// The shared state.
    pub state: AppState,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state.fmt(f)
    }
}

impl Api {
    /// An API over `store`.
    pub fn new(
        store: Arc<dyn Store>,
        zoning: Arc<Zoning>,
        thresholds: CongestionThresholds,
        config: ServeConfig,
        coastline: serde_json::Value,
        metrics: Option<MetricsRender>,
    ) -> Api {
        let hub = Arc::new(stream::Hub::new(config.stream_retention, config.stream_buffer));
        let openapi = Arc::new(openapi_document(&zoning));
        Api {
            state: AppState {
                store,
                zoning,
                thresholds,
                hub,
                config: Arc::new(config),
                coastline: Arc::new(coastline),
                metrics,
                openapi,
            },
        }
    }

    /// Spawns the stream poller (one per process) and returns the router.
    pub fn start(&self) -> (Router, tokio::task::JoinHandle<()>) {
        let s = &self.state;
        let poller = tokio::spawn(stream::poll(
            Arc::clone(&s.store),
            Arc::clone(&s.zoning),
            s.thresholds.clone(),
            Arc::clone(&s.hub),
            stream::PollSettings {
                interval: s.config.poll_interval,
                overlap: s.config.poll_overlap,
                congestion_window: s.config.congestion_window,
            },
        ));
        (self.router(), poller)
    }

    /// The routes (without the poller: the stream then carries only heartbeats).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/v1/vessels", get(routes::vessels::list))
            .route("/api/v1/vessels/{mmsi}", get(routes::vessels::detail))
            .route("/api/v1/zones", get(routes::zones::list))
            .route("/api/v1/port-calls", get(routes::port_calls::list))
            .route("/api/v1/anomalies", get(routes::alerts::anomalies))
            .route("/api/v1/weather-alerts", get(routes::alerts::weather_alerts))
            .route("/api/v1/safety-messages", get(routes::safety::safety_messages))
            .route("/api/v1/overview", get(routes::overview::overview))
            .route("/api/v1/stream", get(routes::stream::stream))
            .route("/api/v1/geography", get(routes::geography::geography))
            .route("/api/v1/openapi.json", get(openapi))
            .route("/config.json", get(routes::web::config))
            .route("/healthz", get(routes::health::healthz))
            .route("/readyz", get(routes::health::readyz))
            .route("/metrics", get(routes::health::metrics))
            .route("/", get(routes::web::index))
            .route("/index.html", get(routes::web::index))
            .route("/assets/{*path}", get(routes::web::asset))
            .route("/{file}", get(routes::web::root_file))
            .fallback(|| async {
                error::error_response(axum::http::StatusCode::NOT_FOUND, "not_found", "no such route".into())
            })
            .layer(axum::middleware::from_fn(metrics::record))
            .with_state(self.state.clone())
    }
}
