//! `GET /api/v1/safety-messages`: AIS safety-related texts (types 12 and
//! 14) with where their sender was, for the map and the duty officer's list.
//!
//! Bounded like the alerts: a time range of at most 7 days (default the
//! last 24 h) and a page size, newest first.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::model::{ErrorBody, SafetyMessageList};
use crate::store::AlertQuery;

/// Safety message filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SafetyParams {
    /// At or after (default `to` − 24 h; the range is at most 7 days).
    pub from: Option<DateTime<Utc>>,
    /// Before (default now).
    pub to: Option<DateTime<Utc>>,
    /// At most this many (default 500, at most 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

/// Safety messages (AIS 12 addressed, 14 broadcast) by event time, newest first.
#[utoipa::path(get, path = "/api/v1/safety-messages", params(SafetyParams), tag = "alerts",
    responses((status = 200, body = SafetyMessageList), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn safety_messages(
    State(state): State<AppState>,
    params: Result<Query<SafetyParams>, QueryRejection>,
) -> Result<Json<SafetyMessageList>, ApiError> {
    let Query(p) = params.map_err(super::rejected)?;
    let (from, to) = super::time_range(p.from, p.to, Duration::hours(24), Duration::days(7))?;
    let limit = super::limit(p.limit, 500, 5_000)?;
    let items = state.store.safety_messages(AlertQuery { kind: None, from, to, limit }).await?;
    Ok(Json(SafetyMessageList { items }))
}
