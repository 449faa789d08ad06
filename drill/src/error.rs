//! Why a drill could not run to its verdict.
//!
//! A drill that ran and found lost or duplicated records is not an error:
//! that is in its report ([`crate::report`]).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Why a drill could not run to its verdict. (A drill that ran and found lost
/// or duplicated records is not an error: that is in its report.)
#[derive(Debug)]
#[non_exhaustive]
pub enum DrillError {
    /// The local stack is missing or answered unexpectedly (topics, database,
    /// Elasticsearch, Prometheus configuration).
    Stack(String),
    /// A `porttrack` process could not be started, died, or did not stop.
    Instance {
        /// Its label (`stable-1`, `canary`, ...).
        label: String,
        /// What happened.
        detail: String,
        /// Its log file.
        log: PathBuf,
    },
    /// Something the drill waits for did not happen in time.
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the drill waited.
        after: Duration,
    },
    /// The simulator's producer failed.
    Load(String),
    /// Reading or writing a local file failed.
    Io {
        /// What the drill was doing.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl fmt::Display for DrillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrillError::Stack(detail) => write!(f, "local stack: {detail}"),
            DrillError::Instance { label, detail, log } => {
                write!(f, "instance {label}: {detail} (log: {})", log.display())
            }
            DrillError::Timeout { what, after } => write!(f, "timed out after {after:?} waiting for {what}"),
            DrillError::Load(detail) => write!(f, "simulated load: {detail}"),
            DrillError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for DrillError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DrillError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DrillError {
    let context = context.into();
    move |source| DrillError::Io { context, source }
}
