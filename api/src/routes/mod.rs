//! The HTTP routes, one file per resource, and the parameter checks they share.

pub mod alerts;
pub mod geography;
pub mod health;
pub mod overview;
pub mod port_calls;
pub mod stream;
pub mod vessels;
pub mod web;
pub mod zones;

use chrono::{DateTime, Duration, Utc};

use crate::error::ApiError;

/// A `[from, to)` range from optional parameters: `to` defaults to now,
/// `from` to `to - default`; longer than `max` (or reversed) is a 400.
pub(crate) fn time_range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    default: Duration,
    max: Duration,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - default);
    if from > to {
        return Err(ApiError::bad("`from` is after `to`"));
    }
    if to - from > max {
        return Err(ApiError::bad(format!(
            "the time range is longer than {} hours (the limit for this endpoint)",
            max.num_hours()
        )));
    }
    Ok((from, to))
}

/// A page size between 1 and `max`, `default` when absent.
pub(crate) fn limit(value: Option<u32>, default: usize, max: usize) -> Result<usize, ApiError> {
    match value {
        None => Ok(default),
        Some(n) if n >= 1 && (n as usize) <= max => Ok(n as usize),
        Some(n) => Err(ApiError::bad(format!("limit {n} is outside 1..={max}"))),
    }
}

/// A query string the route could not parse, as a JSON 400.
pub(crate) fn rejected(e: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::bad(e.body_text())
}
