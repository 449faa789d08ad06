//! `GET /api/v1/anomalies` and `GET /api/v1/weather-alerts`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::model::{AnomalyList, ErrorBody, WeatherAlertList};
use crate::store::AlertQuery;

/// How far back "active" weather alerts are looked for.
pub const ACTIVE_LOOKBACK_DAYS: i64 = 7;

/// Anomaly filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomalyParams {
    /// Kind (`dark_period`, `speeding`, …).
    pub kind: Option<String>,
    /// At or after (default `to` − 24 h; the range is at most 7 days).
    pub from: Option<DateTime<Utc>>,
    /// Before (default now).
    pub to: Option<DateTime<Utc>>,
    /// At most this many (default 500, at most 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

/// Anomalies by event time, newest first.
#[utoipa::path(get, path = "/api/v1/anomalies", params(AnomalyParams), tag = "alerts",
    responses((status = 200, body = AnomalyList), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn anomalies(
    State(state): State<AppState>,
    params: Result<Query<AnomalyParams>, QueryRejection>,
) -> Result<Json<AnomalyList>, ApiError> {
    let Query(p) = params.map_err(super::rejected)?;
    let (from, to) = super::time_range(p.from, p.to, Duration::hours(24), Duration::days(7))?;
    let limit = super::limit(p.limit, 500, 5_000)?;
    let kind = super::text_param("kind", p.kind)?;
    let items = state.store.anomalies(AlertQuery { kind, from, to, limit }).await?;
    Ok(Json(AnomalyList { items }))
}

/// Weather alert filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WeatherParams {
    /// Only alerts whose latest state per (zone, kind) is raised (within the last 7 days); `from`/`to` are then ignored.
    pub active: Option<bool>,
    /// `gust` or `visibility`.
    pub kind: Option<String>,
    /// At or after (default `to` − 24 h; the range is at most 7 days).
    pub from: Option<DateTime<Utc>>,
    /// Before (default now).
    pub to: Option<DateTime<Utc>>,
    /// At most this many (default 500, at most 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

/// Weather alerts (raised and cleared) by event time, newest first, or only the active ones.
#[utoipa::path(get, path = "/api/v1/weather-alerts", params(WeatherParams), tag = "alerts",
    responses((status = 200, body = WeatherAlertList), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn weather_alerts(
    State(state): State<AppState>,
    params: Result<Query<WeatherParams>, QueryRejection>,
) -> Result<Json<WeatherAlertList>, ApiError> {
    let Query(p) = params.map_err(super::rejected)?;
    let limit = super::limit(p.limit, 500, 5_000)?;
    let kind = super::text_param("kind", p.kind)?;
    if p.active == Some(true) {
        let mut items = active(&state).await?;
        items.retain(|a| kind.as_ref().is_none_or(|k| &a.kind == k));
        items.truncate(limit);
        return Ok(Json(WeatherAlertList { items }));
    }
    let (from, to) = super::time_range(p.from, p.to, Duration::hours(24), Duration::days(7))?;
    let items = state.store.weather_alerts(AlertQuery { kind, from, to, limit }).await?;
    Ok(Json(WeatherAlertList { items }))
}

/// Alerts whose latest state per (zone, kind) is raised, newest first.
pub(crate) async fn active(state: &AppState) -> Result<Vec<crate::model::WeatherAlertItem>, ApiError> {
    let since = Utc::now() - Duration::days(ACTIVE_LOOKBACK_DAYS);
    let mut items: Vec<_> =
        state.store.latest_weather_alerts(since).await?.into_iter().filter(|a| a.raised).collect();
    items.sort_by_key(|a| std::cmp::Reverse(a.event_time));
    Ok(items)
}
