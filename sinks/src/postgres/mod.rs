//! The Postgres sink: latest vessel state, upserted per batch.
//!
//! The schema is owned by the versioned migrations in `sinks/migrations/`
//! (applied by [`migrate`], which `porttrack migrate` and, unless disabled,
//! `porttrack run` call). Queries live in `sinks/sql/`.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack_schemas::{Position, Sourced};
use serde::{Deserialize, Serialize};
use tokio_postgres::NoTls;

use crate::{Sink, SinkError, WriteOutcome, latest_per_vessel};

mod embedded {
    refinery::embed_migrations!("migrations");
}

const UPSERT_VESSEL_STATE: &str = include_str!("../../sql/upsert_vessel_state.sql");

/// The `[postgres]` configuration section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// libpq-style URL or key=value string. Keep the password out of it in
    /// production: use `password_file`.
    pub url: String,
    /// A file whose content (trimmed) is the password; read at start.
    pub password_file: Option<std::path::PathBuf>,
    /// Connections in the pool.
    pub pool_size: usize,
    /// How long to wait for a connection.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Apply pending migrations when the pipeline starts.
    pub migrate_on_start: bool,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            url: "postgres://postgres@127.0.0.1:5432/porttrack".into(),
            password_file: None,
            pool_size: 4,
            connect_timeout: Duration::from_secs(5),
            migrate_on_start: true,
        }
    }
}

impl PostgresConfig {
    fn pg_config(&self) -> Result<tokio_postgres::Config, SinkError> {
        let mut config = tokio_postgres::Config::from_str(&self.url)
            .map_err(|e| SinkError::Permanent(format!("postgres url: {e}")))?;
        config.connect_timeout(self.connect_timeout);
        if let Some(path) = &self.password_file {
            let password = std::fs::read_to_string(path)
                .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", path.display())))?;
            config.password(password.trim_end());
        }
        Ok(config)
    }
}

/// Key of the session-level advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x0070_6f72_7474_726b; // "porttrk"

/// Applies every pending migration. Safe to run from several instances at
/// once: they serialise on a Postgres advisory lock (refinery alone is not:
/// two first runs race to create its history table).
pub async fn migrate(config: &PostgresConfig) -> Result<usize, SinkError> {
    let (mut client, connection) = config.pg_config()?.connect(NoTls).await.map_err(classify)?;
    let conn = tokio::spawn(connection);
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(classify)?;
    let report = embedded::migrations::runner().run_async(&mut client).await;
    // Closing the session releases the lock too; unlocking first is just tidy.
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await;
    let report = report.map_err(|e| SinkError::Permanent(format!("migrations: {e}")))?;
    drop(client);
    let _ = conn.await;
    Ok(report.applied_migrations().len())
}

/// Upserts the latest state per vessel into `vessel_state`.
#[derive(Clone)]
pub struct PostgresSink {
    pool: Pool,
}

impl std::fmt::Debug for PostgresSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSink").field("pool", &self.pool.status()).finish()
    }
}

impl PostgresSink {
    /// A sink with a connection pool; connects lazily.
    pub fn new(config: &PostgresConfig) -> Result<Self, SinkError> {
        let manager = Manager::from_config(
            config.pg_config()?,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .wait_timeout(Some(config.connect_timeout))
            .create_timeout(Some(config.connect_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| SinkError::Permanent(format!("postgres pool: {e}")))?;
        Ok(PostgresSink { pool })
    }

    async fn upsert(&self, records: &[Sourced<Position>]) -> Result<WriteOutcome, SinkError> {
        let latest = latest_per_vessel(records);
        if latest.is_empty() {
            return Ok(WriteOutcome::default());
        }
        let n = latest.len();
        let mut mmsi = Vec::with_capacity(n);
        let mut time = Vec::with_capacity(n);
        let mut lat = Vec::with_capacity(n);
        let mut lon = Vec::with_capacity(n);
        let mut sog = Vec::with_capacity(n);
        let mut cog = Vec::with_capacity(n);
        let mut heading = Vec::with_capacity(n);
        let mut status = Vec::with_capacity(n);
        let mut topic = Vec::with_capacity(n);
        let mut partition = Vec::with_capacity(n);
        let mut offset = Vec::with_capacity(n);
        for r in latest {
            let p = &r.event;
            // MMSIs are validated to nine digits, so they fit an i32.
            mmsi.push(i32::try_from(p.mmsi).unwrap_or(i32::MAX));
            time.push(p.timestamp);
            lat.push(p.lat);
            lon.push(p.lon);
            sog.push(p.sog);
            cog.push(p.cog);
            heading.push(p.heading.map(|h| h as i16));
            status.push(p.nav_status.map(i16::from));
            topic.push(&*r.origin.topic);
            partition.push(r.origin.partition);
            offset.push(r.origin.offset);
        }
        let client =
            self.pool.get().await.map_err(|e| SinkError::Transient(format!("postgres pool: {e}")))?;
        let statement = client.prepare_cached(UPSERT_VESSEL_STATE).await.map_err(classify)?;
        client
            .execute(
                &statement,
                &[&mmsi, &time, &lat, &lon, &sog, &cog, &heading, &status, &topic, &partition, &offset],
            )
            .await
            .map_err(classify)?;
        Ok(WriteOutcome::default())
    }
}

impl Sink for PostgresSink {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn write<'a>(
        &'a self,
        records: &'a [Sourced<Position>],
    ) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        self.upsert(records).boxed()
    }

    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
        async move {
            let client =
                self.pool.get().await.map_err(|e| SinkError::Transient(format!("postgres pool: {e}")))?;
            client.simple_query("SELECT 1").await.map_err(classify)?;
            Ok(())
        }
        .boxed()
    }
}

/// Sorts a Postgres error into retry-worthy or not, by SQLSTATE class.
fn classify(e: tokio_postgres::Error) -> SinkError {
    let transient = match e.code() {
        // No SQLSTATE: the connection itself failed (refused, reset, closed).
        None => true,
        Some(code) => matches!(
            &code.code()[..2],
            // connection exception, transaction rollback (serialization,
            // deadlock), insufficient resources, operator intervention
            // (admin shutdown, cannot connect now), system error
            "08" | "40" | "53" | "57" | "58"
        ),
    };
    if transient { SinkError::Transient(e.to_string()) } else { SinkError::Permanent(e.to_string()) }
}
