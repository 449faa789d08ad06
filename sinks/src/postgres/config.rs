//! The `[postgres]` configuration section: [`PostgresConfig`], its defaults,
//! the [`TlsMode`], and how they become a `tokio_postgres::Config` (the URL
//! parsed, the password read from its file).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_postgres::config::SslMode;

use crate::SinkError;

/// The `[postgres]` configuration section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// libpq-style URL or key=value string. Keep the password out of it in
    /// production: use `password_file`.
    pub url: String,
    /// A file whose content (trimmed) is the password; read at start.
    pub password_file: Option<PathBuf>,
    /// Connections in the pool. A batch takes up to `batch_writers` for
    /// its events and one for the processor's outputs at the same time.
    pub pool_size: usize,
    /// Transactions a batch's events are split over, by vessel, written side
    /// by side on as many connections (at least 1). Each vessel's positions
    /// and `vessel_state` row stay in one of them; the other event kinds go
    /// with the first. The default, 3, was the fastest of 1–3 on the 2-core
    /// stack (`PostgresSink`'s `write_events` has the figures).
    pub batch_writers: usize,
    /// How long to wait for a connection.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Apply pending migrations when the pipeline starts.
    pub migrate_on_start: bool,
    /// `disable`, `require` (encrypt, do not verify) or `verify-full`.
    pub tls: TlsMode,
    /// PEM file of the CA(s) to trust for `verify-full` (default: the Mozilla roots).
    pub ca_file: Option<PathBuf>,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            url: "postgres://postgres@127.0.0.1:5432/porttrack".into(),
            password_file: None,
            pool_size: 4,
            batch_writers: 3,
            connect_timeout: Duration::from_secs(5),
            migrate_on_start: true,
            tls: TlsMode::Disable,
            ca_file: None,
        }
    }
}

impl PostgresConfig {
    /// The driver's configuration: the URL parsed, the timeout and `sslmode`
    /// applied, the password read from `password_file`. A bad URL or an
    /// unreadable file is permanent.
    pub(super) fn pg_config(&self) -> Result<tokio_postgres::Config, SinkError> {
        let mut config = tokio_postgres::Config::from_str(&self.url)
            .map_err(|e| SinkError::Permanent(format!("postgres url: {e}")))?;
        config.connect_timeout(self.connect_timeout);
        config.ssl_mode(self.tls.ssl_mode());
        if let Some(path) = &self.password_file {
            let password = std::fs::read_to_string(path)
                .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", path.display())))?;
            config.password(password.trim_end());
        }
        Ok(config)
    }
}

/// How the connection to Postgres is protected (libpq's `sslmode` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TlsMode {
    /// Plain TCP (local development, or a sidecar that encrypts).
    #[default]
    Disable,
    /// TLS required, certificate not verified: protects against passive
    /// eavesdropping only.
    Require,
    /// TLS required, certificate chain and host name verified.
    VerifyFull,
}

impl TlsMode {
    /// The driver's `sslmode`: verification is rustls's job (see
    /// [`service`](super::service)), so both TLS modes ask for `require`.
    pub(super) fn ssl_mode(self) -> SslMode {
        match self {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Require | TlsMode::VerifyFull => SslMode::Require,
        }
    }
}
