//! `/healthz`, `/readyz` and `/metrics` of the API server.
//!
//! `/healthz` is liveness only (the process answers); `/readyz` also asks
//! the store, so a load balancer stops sending requests to a server that
//! cannot reach Postgres, without anyone restarting it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::AppState;

/// Liveness.
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

/// Readiness: the store answers.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.check().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}\n")),
    }
}

/// Prometheus text format, from the recorder the binary installed.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.metrics.as_ref().map(|render| render()).unwrap_or_default();
    ([("content-type", "text/plain; version=0.0.4")], body)
}
