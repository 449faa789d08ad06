//! What a Postgres failure means for the batch: [`classify`].

use tokio_postgres::error::SqlState;

use crate::SinkError;

/// Sorts a Postgres error into retry-worthy or not, by SQLSTATE class.
///
/// Only errors the *data* causes are permanent: retrying them fails the same
/// way, and the pipeline isolates the record at fault by bisection. Anything
/// else is retried, because dead-lettering good records for an outage or a
/// deployment mistake (a missing table, a revoked grant) would lose them.
pub fn classify(e: tokio_postgres::Error) -> SinkError {
    let permanent = match e.code() {
        // No SQLSTATE: the connection itself failed (refused, reset, closed, timed out).
        None => false,
        Some(code) if *code == SqlState::CHECK_VIOLATION && e.to_string().contains("no partition") => false,
        Some(code) => matches!(
            &code.code()[..2],
            // 22: data exception (out of range, invalid text such as NUL
            // bytes, bad datetime); 23: integrity constraint violation
            // (CHECK, NOT NULL, foreign key); 54: program limit exceeded
            // (a row or value too large).
            "22" | "23" | "54"
        ),
    };
    if permanent { SinkError::Permanent(e.to_string()) } else { SinkError::Transient(e.to_string()) }
}
