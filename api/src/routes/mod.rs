//! The HTTP routes, one file per resource, and the parameter checks they share.

pub mod alerts;
pub mod geography;
pub mod health;
pub mod overview;
pub mod port_calls;
pub mod safety;
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

/// A free-text filter (a berth, an alert kind) fit to reach Postgres: text
/// there cannot hold NUL, which would fail the query with a 500 instead of
/// saying what was wrong (schemathesis found it), and no name in the port
/// geography or the alert kinds is longer than `MAX_TEXT_PARAM`.
pub(crate) fn text_param(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.contains('\0') => Err(ApiError::bad(format!("{name} must not contain NUL characters"))),
        Some(v) if v.chars().count() > MAX_TEXT_PARAM => {
            Err(ApiError::bad(format!("{name} is longer than {MAX_TEXT_PARAM} characters")))
        }
        other => Ok(other),
    }
}

/// The longest free-text filter accepted.
pub(crate) const MAX_TEXT_PARAM: usize = 200;

/// A query string the route could not parse, as a JSON 400.
pub(crate) fn rejected(e: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::bad(e.body_text())
}
