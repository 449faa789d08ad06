//! The API's two metrics: requests by route and status, and their latency
//! (named and documented with every other metric in `porttrack-metrics`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use porttrack_metrics::{API_REQUEST_DURATION_SECONDS, API_REQUESTS_TOTAL};

/// Counts and times every request by its route template (a closed set:
/// never the raw path, which carries MMSIs).
pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(API_REQUESTS_TOTAL, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!(API_REQUEST_DURATION_SECONDS, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
