//! The Postgres sink: every event kind and every processor output, one
//! transaction per batch.
//!
//! # Schema
//!
//! Owned by the versioned refinery migrations in `sinks/migrations/`
//! (applied by [`migrate`], which `porttrack migrate` and, unless disabled,
//! `porttrack run` call); the statements the sink runs live in `sinks/sql/`.
//!
//! | table / view | from | key (what makes a replay a no-op) |
//! |---|---|---|
//! | `positions` (RANGE partitions by event day) | positions | event time + Kafka coordinates |
//! | `vessel_state` | positions, coalesced per batch | MMSI, guarded by (event time, offset) |
//! | `vessels` | static/voyage reports, merged | MMSI; newer fills, older only fills blanks |
//! | `weather`, view `weather_latest` | observations | (station, event time) |
//! | `cargo_events`, view `cargo_inventory` | cargo | terminal `event_id` |
//! | `port_ops_events` | pilotage, towage, mooring | operator `event_id` |
//! | `zone_events`, view `vessels_in_zone` | processors | (mmsi, zone, time, direction) |
//! | `port_calls` | processors | call id; fields only move forward |
//! | `anomalies`, `weather_alerts` | processors | (vessel or zone, time, kind) |
//! | `congestion_partials`, view `congestion` | processor snapshots | (zone, partition, time) |
//! | `dead_letters`, view `dead_letters_hourly` | [`Sink::write_dead_letters`] | Kafka coordinates |
//!
//! # Write path
//!
//! For each batch: make sure the positions partitions of the batch's event
//! days exist (`porttrack_ensure_positions_partition`, idempotent, cached
//! per sink), then in **one transaction** binary-`COPY` each kind into the
//! session's temporary staging table (`sinks/sql/staging.sql`, created when
//! the pool opens a connection) and merge it with `INSERT … SELECT … ON
//! CONFLICT`. A crash or error leaves all of the batch or none of it.
//!
//! # Errors
//!
//! [`classify`] sorts failures by SQLSTATE: data exceptions (class 22) and
//! integrity violations (23) are the batch's fault and
//! [`Permanent`](SinkError::Permanent), so the pipeline bisects down to the
//! bad record and dead-letters it; everything else (connection loss,
//! serialization failures, resources, shutdowns, and also schema problems
//! such as a missing table, which no record caused) is
//! [`Transient`](SinkError::Transient) and retried, never dead-lettering
//! good data.
//!
//! # TLS
//!
//! `tls = "disable" | "require" | "verify-full"` (libpq's `sslmode` names,
//! via rustls with the ring provider, the same stack reqwest uses).
//! `require` encrypts without checking the certificate, as libpq does;
//! `verify-full` checks the chain against `ca_file` (or the Mozilla roots
//! from `webpki-roots`) and the host name.

mod copy;
mod state;
mod tls;

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::NaiveDate;
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack_schemas::{Event, Sourced};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;

pub use copy::POSITION_COPY_TYPES;
pub use tls::TlsMode;

use crate::{DeadLetterSummary, Derived, Sink, SinkError, WriteOutcome};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The `[postgres]` configuration section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// libpq-style URL or key=value string. Keep the password out of it in
    /// production: use `password_file`.
    pub url: String,
    /// A file whose content (trimmed) is the password; read at start.
    pub password_file: Option<PathBuf>,
    /// Connections in the pool.
    pub pool_size: usize,
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
            connect_timeout: Duration::from_secs(5),
            migrate_on_start: true,
            tls: TlsMode::Disable,
            ca_file: None,
        }
    }
}

impl PostgresConfig {
    fn pg_config(&self) -> Result<tokio_postgres::Config, SinkError> {
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

/// Key of the session-level advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x0070_6f72_7474_726b; // "porttrk"

/// Applies every pending migration. Safe to run from several instances at
/// once: they serialise on a Postgres advisory lock (refinery alone is not:
/// two first runs race to create its history table).
pub async fn migrate(config: &PostgresConfig) -> Result<usize, SinkError> {
    let tls = tls::connector(config.tls, config.ca_file.as_deref())?;
    let (mut client, connection) = config.pg_config()?.connect(tls).await.map_err(classify)?;
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

/// The migrations this build carries, as `V{version}__{name}`, in order.
pub fn migration_names() -> Vec<String> {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| format!("V{}__{}", m.version(), m.name()))
        .collect()
}

/// Writes batches into the tables above through a connection pool.
pub struct PostgresSink {
    pool: Pool,
    /// Event days whose `positions` partition is known to exist.
    partitions: Mutex<HashSet<NaiveDate>>,
}

impl std::fmt::Debug for PostgresSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSink").field("pool", &self.pool.status()).finish_non_exhaustive()
    }
}

impl PostgresSink {
    /// A sink with a connection pool; connects lazily. Every new connection
    /// creates its staging tables (the migrations must have run).
    pub fn new(config: &PostgresConfig) -> Result<Self, SinkError> {
        let tls = tls::connector(config.tls, config.ca_file.as_deref())?;
        let manager = Manager::from_config(
            config.pg_config()?,
            tls,
            // Fast: the staging tables are session state and must survive
            // recycling (Clean would DISCARD ALL them).
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .wait_timeout(Some(config.connect_timeout))
            .create_timeout(Some(config.connect_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .post_create(Hook::async_fn(|client, _| {
                async move { client.batch_execute(copy::STAGING).await.map_err(HookError::Backend) }.boxed()
            }))
            .build()
            .map_err(|e| SinkError::Permanent(format!("postgres pool: {e}")))?;
        Ok(PostgresSink { pool, partitions: Mutex::new(HashSet::new()) })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, SinkError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e)
            | deadpool_postgres::PoolError::PostCreateHook(HookError::Backend(e)) => classify(e),
            other => SinkError::Transient(format!("postgres pool: {other}")),
        })
    }

    /// Creates the `positions` partitions of `records`' event days that this
    /// sink has not seen yet. Runs outside the batch transaction: creating a
    /// partition locks the parent table, which should be brief.
    async fn ensure_partitions(
        &self,
        client: &deadpool_postgres::Object,
        records: &[Sourced<Event>],
    ) -> Result<(), SinkError> {
        let missing: HashSet<NaiveDate> = {
            let known = self.partitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            crate::positions(records)
                .map(|p| p.event.timestamp.date_naive())
                .filter(|d| !known.contains(d))
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let statement = client.prepare_cached(copy::ENSURE_PARTITION).await.map_err(classify)?;
        for day in missing {
            client.execute(&statement, &[&day]).await.map_err(classify)?;
            self.partitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(day);
        }
        Ok(())
    }

    async fn write_events(&self, records: &[Sourced<Event>]) -> Result<WriteOutcome, SinkError> {
        if records.is_empty() {
            return Ok(WriteOutcome::default());
        }
        let mut client = self.client().await?;
        self.ensure_partitions(&client, records).await?;
        let tx = client.transaction().await.map_err(classify)?;
        match copy::stage_events(&tx, records).await {
            Ok(()) => {}
            Err(e) => {
                // A partition dropped behind our back (retention) makes the
                // row fit no partition. Not the record's fault: forget what
                // we know and retry, which recreates it.
                if e.to_string().contains("no partition of relation") {
                    self.partitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
                    return Err(SinkError::Transient(e.to_string()));
                }
                return Err(e);
            }
        }
        tx.commit().await.map_err(classify)?;
        Ok(WriteOutcome::default())
    }

    async fn write_derived_rows(&self, batch: &Derived) -> Result<(), SinkError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        copy::stage_derived(&tx, batch).await?;
        tx.commit().await.map_err(classify)
    }

    async fn write_dead_letter_rows(&self, letters: &[DeadLetterSummary<'_>]) -> Result<(), SinkError> {
        if letters.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        copy::stage_dead_letters(&tx, letters).await?;
        tx.commit().await.map_err(classify)
    }
}

impl Sink for PostgresSink {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn write<'a>(&'a self, records: &'a [Sourced<Event>]) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        self.write_events(records).boxed()
    }

    fn write_derived<'a>(&'a self, batch: &'a Derived) -> BoxFuture<'a, Result<(), SinkError>> {
        self.write_derived_rows(batch).boxed()
    }

    fn write_dead_letters<'a>(
        &'a self,
        letters: &'a [DeadLetterSummary<'a>],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        self.write_dead_letter_rows(letters).boxed()
    }

    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
        async move {
            let client = self.client().await?;
            client.simple_query("SELECT 1").await.map_err(classify)?;
            Ok(())
        }
        .boxed()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_staged_kind_lists_one_type_per_copied_column() {
        for kind in copy::ALL {
            // The statement without its SQL comments, which may hold parentheses.
            let sql: String = kind
                .copy
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            let open = sql.find('(').unwrap();
            let close = sql[open..].find(')').unwrap() + open;
            let columns = sql[open + 1..close].split(',').count();
            assert_eq!(columns, kind.types.len(), "{}", kind.copy);
        }
    }

    #[test]
    fn migrations_are_versioned_in_order() {
        let names = migration_names();
        assert_eq!(names[0], "V1__vessel_state");
        assert_eq!(names[1], "V2__events_and_derived");
    }
}
