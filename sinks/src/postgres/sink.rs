//! [`PostgresSink`]: the [`Sink`] implementation. Each write makes sure the
//! batch's `positions` partitions exist, then stages the batch's events in
//! `batch_writers` transactions split by vessel, side by side on as many
//! pooled connections ([`stage`]).

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDate;
use deadpool_postgres::{Object, Pool};
use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack_schemas::{Event, Sourced};

use super::stage::Shard;
use super::statements::ENSURE_PARTITION;
use super::{PostgresConfig, classify, service, stage};
use crate::{DeadLetterSummary, Derived, Sink, SinkError, WriteOutcome};

/// Writes batches into the tables of the [module docs](super) through a connection pool.
pub struct PostgresSink {
    pool: Pool,
    /// Event days whose `positions` partition is known to exist.
    partitions: Mutex<HashSet<NaiveDate>>,
    /// `postgres.batch_writers`.
    writers: usize,
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
        Ok(PostgresSink {
            pool: service::pool(config)?,
            partitions: Mutex::new(HashSet::new()),
            writers: config.batch_writers.max(1),
        })
    }

    pub(super) async fn client(&self) -> Result<Object, SinkError> {
        service::client(&self.pool).await
    }

    /// Creates the `positions` partitions of `records`' event days that this
    /// sink has not seen yet. Runs outside the batch transaction: creating a
    /// partition locks the parent table, which should be brief.
    async fn ensure_partitions(&self, records: &[Sourced<Event>]) -> Result<(), SinkError> {
        let missing: HashSet<NaiveDate> = {
            let known = self.partitions.lock().unwrap_or_else(PoisonError::into_inner);
            crate::positions(records)
                .map(|p| p.event.timestamp.date_naive())
                .filter(|d| !known.contains(d))
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        let statement = client.prepare_cached(ENSURE_PARTITION).await.map_err(classify)?;
        for day in missing {
            client.execute(&statement, &[&day]).await.map_err(classify)?;
            self.partitions.lock().unwrap_or_else(PoisonError::into_inner).insert(day);
        }
        Ok(())
    }

    /// Writes `records` in `batch_writers` transactions side by side
    /// ([`Shard`]), and acknowledges once all committed.
    ///
    /// Split, the batch is no longer all or nothing: if one transaction
    /// fails after another committed, the batch is not acknowledged, and
    /// its retry (or the replay after a crash) writes the committed part
    /// again, which every table's key makes a no-op.
    ///
    /// Why split: Postgres' backend was the bottleneck of the pipeline
    /// bench's `json → postgres` row, with a third of the 2-core machine
    /// idle (`vmstat`). In alternating runs of 1,000,000 records, two
    /// writers beat one in five pairs of six, and three beat two in six of
    /// six; the last set ran one, two and three side by side three times:
    /// medians 78,139, 77,995 and 107,606 records/s (0.71, 0.70 and 0.90 of
    /// `psql \copy` in the same runs). Hence the default of three.
    async fn write_events(&self, records: &[Sourced<Event>]) -> Result<WriteOutcome, SinkError> {
        if records.is_empty() {
            return Ok(WriteOutcome::default());
        }
        // Before the split, so that two transactions never race to create
        // the same partition.
        self.ensure_partitions(records).await?;
        let shards: Vec<Shard> = Shard::all(self.writers).filter(|s| s.has_work(records)).collect();
        let writes = shards.into_iter().map(|shard| self.write_shard(records, shard));
        // Every transaction runs to its end (none is dropped halfway through
        // its COPY when another fails). A transient error is reported before
        // a permanent one: retrying is always safe, and a bad row fails
        // again on the retry and is bisected then.
        let mut failures: Vec<SinkError> =
            futures::future::join_all(writes).await.into_iter().filter_map(Result::err).collect();
        failures.sort_by_key(|e| !e.is_transient());
        match failures.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(WriteOutcome::default()),
        }
    }

    async fn write_shard(&self, records: &[Sourced<Event>], shard: Shard) -> Result<(), SinkError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        match stage::stage_events(&tx, records, shard).await {
            Ok(()) => {}
            Err(e) => {
                // A partition dropped behind our back (retention) makes the
                // row fit no partition. Not the record's fault: forget what
                // we know and retry, which recreates it.
                if e.to_string().contains("no partition of relation") {
                    self.partitions.lock().unwrap_or_else(PoisonError::into_inner).clear();
                    return Err(SinkError::Transient(e.to_string()));
                }
                return Err(e);
            }
        }
        tx.commit().await.map_err(classify)
    }

    async fn write_derived_rows(&self, batch: &Derived) -> Result<(), SinkError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        stage::stage_derived(&tx, batch).await?;
        tx.commit().await.map_err(classify)
    }

    async fn write_dead_letter_rows(&self, letters: &[DeadLetterSummary<'_>]) -> Result<(), SinkError> {
        if letters.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        stage::stage_dead_letters(&tx, letters).await?;
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
