//! `GET /api/v1/stream`: Server-Sent Events (see [`crate::stream`]).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;

use crate::AppState;

/// Live vessel updates, congestion changes and alerts.
///
/// Events: `vessel` (a vessel Feature as in `/vessels`), `congestion`
/// (`{"zone", "congestion"}`), `alert` (`{"kind":"anomaly"|"weather","item"}`),
/// `heartbeat` (every 15 s), `reset` (reload the snapshots: the
/// `Last-Event-ID` is unknown or too old, or the client fell behind).
#[utoipa::path(get, path = "/api/v1/stream", tag = "stream",
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received, to resume after it")),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = crate::model::SseEvent)))]
pub async fn stream(State(state): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut response =
        crate::stream::sse(state.hub.clone(), last.as_deref(), state.config.heartbeat).into_response();
    // Proxies (nginx) must not buffer the stream.
    response.headers_mut().insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    response.headers_mut().insert("cache-control", axum::http::HeaderValue::from_static("no-cache"));
    response
}
