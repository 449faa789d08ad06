//! Errors: what a store can fail with ([`StoreError`]) and what a client
//! sees ([`ApiError`], always `{"error":{"code","message"}}` with a 4xx or
//! 5xx status).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::model::{ErrorBody, ErrorDetail};

/// Why a store could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is unreachable or refused the connection.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The query ran past the statement timeout.
    #[error("query timed out: {0}")]
    Timeout(String),
    /// Anything else (a bug, or a schema the server does not expect).
    #[error("store error: {0}")]
    Other(String),
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        // 57014 query_canceled: the statement_timeout fired.
        if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) {
            return StoreError::Timeout(e.to_string());
        }
        if e.is_closed() || e.code().is_none() {
            return StoreError::Unavailable(e.to_string());
        }
        StoreError::Other(e.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Unavailable(format!("postgres pool: {e}"))
    }
}

/// An error answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A parameter is malformed or out of its limits (400).
    #[error("{0}")]
    BadRequest(String),
    /// The resource does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The store failed (503 or 504).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    /// A 400 with `message`.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest(message.into())
    }

    /// The status and the stable code.
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Store(StoreError::Unavailable(_)) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Store(StoreError::Timeout(_)) => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            ApiError::Store(StoreError::Other(_)) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The JSON error body with `status`.
pub fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(ErrorBody { error: ErrorDetail { code: code.to_owned(), message } })).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "api request failed");
        }
        error_response(status, code, self.to_string())
    }
}
