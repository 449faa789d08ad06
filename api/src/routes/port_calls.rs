//! `GET /api/v1/port-calls`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::model::{ErrorBody, Phase, PortCallList, name_of};
use crate::store::CallQuery;

/// Filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallParams {
    /// Only calls in this phase.
    #[param(inline)]
    pub phase: Option<Phase>,
    /// Berth name.
    pub berth: Option<String>,
    /// Vessel.
    #[param(minimum = 100000000, maximum = 999999999)]
    pub mmsi: Option<u32>,
    /// Arrived at or after (default `to` − 24 h; the range is at most 31 days).
    pub from: Option<DateTime<Utc>>,
    /// Arrived before (default now).
    pub to: Option<DateTime<Utc>>,
    /// At most this many (default 500, at most 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

/// Port calls by arrival time, newest first.
#[utoipa::path(get, path = "/api/v1/port-calls", params(CallParams), tag = "port calls",
    responses((status = 200, body = PortCallList), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    params: Result<Query<CallParams>, QueryRejection>,
) -> Result<Json<PortCallList>, ApiError> {
    let Query(p) = params.map_err(super::rejected)?;
    let (from, to) = super::time_range(p.from, p.to, Duration::hours(24), Duration::days(31))?;
    let limit = super::limit(p.limit, 500, 5_000)?;
    if p.mmsi.is_some_and(|m| !(100_000_000..=999_999_999).contains(&m)) {
        return Err(ApiError::bad("mmsi must be a nine-digit number"));
    }
    let items = state
        .store
        .port_calls(CallQuery {
            phase: p.phase.as_ref().map(name_of),
            berth: super::text_param("berth", p.berth)?,
            mmsi: p.mmsi,
            from,
            to,
            limit,
        })
        .await?;
    Ok(Json(PortCallList { items }))
}
