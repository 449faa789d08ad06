//! The schema: versioned refinery migrations (`sinks/migrations/`), embedded
//! in the binary and applied by [`migrate`] (`porttrack migrate`, and
//! `porttrack run` unless `migrate_on_start` is off).

use super::{PostgresConfig, classify, service};
use crate::SinkError;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Key of the session-level advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x0070_6f72_7474_726b; // "porttrk"

/// Applies every pending migration. Safe to run from several instances at
/// once: they serialise on a Postgres advisory lock (refinery alone is not:
/// two first runs race to create its history table).
pub async fn migrate(config: &PostgresConfig) -> Result<usize, SinkError> {
    let (mut client, conn) = service::connect(config).await?;
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(classify)?;
    // A newer release's migrations are expected here: during a canary, and
    // after a rollback, this (older) release runs against the schema the
    // newer one migrated, which the expand-then-contract rule keeps
    // compatible (deploy/README.md). refinery would refuse to start on an
    // applied migration it does not carry, so a rolled-back pod would crash
    // on start; it logs it instead. A *different* migration under a version
    // this release carries is still an error (`abort_divergent`).
    let report = embedded::migrations::runner().set_abort_missing(false).run_async(&mut client).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_versioned_in_order() {
        let names = migration_names();
        assert_eq!(names[0], "V1__vessel_state");
        assert_eq!(names[1], "V2__events_and_derived");
        assert_eq!(names.last().map(String::as_str), Some("V6__processor_state_json_lz4"));
    }
}
