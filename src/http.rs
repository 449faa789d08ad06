//! `/metrics`, `/healthz` and `/readyz`.
//!
//! * `/healthz` (liveness): 200 while the poll loop iterates. It never looks
//!   at Kafka, Postgres or Elasticsearch: a dependency outage must not get the
//!   pod restarted, only a stuck process should.
//! * `/readyz` (readiness): 200 when partitions are assigned and every sink's
//!   last write or check succeeded; 503 with the reason otherwise.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::pipeline::PipelineStatus;

#[derive(Clone)]
struct AppState {
    status: Arc<PipelineStatus>,
    stall_after: Duration,
}

/// Serves the endpoints on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    status: Arc<PipelineStatus>,
    stall_after: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AppState { status, stall_after });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state.status.refresh_gauges();
    ([("content-type", "text/plain; version=0.0.4")], crate::telemetry::render())
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.status.stalled_for(state.stall_after) {
        None => (StatusCode::OK, "ok\n".to_owned()),
        Some(age) => (StatusCode::SERVICE_UNAVAILABLE, format!("stalled: no poll for {}s\n", age.as_secs())),
    }
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.status.not_ready_reason() {
        None => (StatusCode::OK, "ready\n".to_owned()),
        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}\n")),
    }
}
