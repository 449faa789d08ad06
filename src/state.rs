//! Where per-partition processor state is checkpointed, so that a partition
//! moving to another instance (or an instance restarting) resumes exactly.
//!
//! The pipeline checkpoints every owned partition's
//! [`PartitionState`](porttrack_processors::PartitionState) *before* it
//! commits the Kafka offsets of the batches that state reflects. On a crash
//! between the two, the state is ahead of the committed offsets; the new
//! owner restores it and the replayed records are no-ops for the processor
//! (it ignores fixes not newer than a vessel's last, and deduplicates cargo
//! and operations events), so nothing is counted twice. State is never behind
//! the committed offsets.
//!
//! Stores: Postgres (the `processor_state` table, keyed by consumer group and
//! partition) when Postgres is configured, else JSON files under the file
//! sink's directory.

use std::path::PathBuf;

use anyhow::Context as _;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use porttrack_processors::{PartitionCheckpoint, PartitionState};
use porttrack_sinks::postgres::PostgresSink;

/// The store the configuration implies: Postgres when configured, else files.
pub fn from_config(config: &crate::config::Config) -> anyhow::Result<std::sync::Arc<dyn StateStore>> {
    Ok(match &config.postgres {
        Some(pg) => std::sync::Arc::new(PostgresStateStore {
            sink: PostgresSink::new(pg).context("processor state store")?,
            group: config.kafka.group_id.clone(),
        }),
        None => std::sync::Arc::new(FileStateStore::new(&config.files.dir, &config.kafka.group_id)?),
    })
}

/// Checkpoints in the `processor_state` table, one row per (group, partition).
#[derive(Debug)]
pub struct PostgresStateStore {
    sink: PostgresSink,
    group: String,
}

impl StateStore for PostgresStateStore {
    fn save<'a>(&'a self, states: &'a [PartitionCheckpoint<'a>]) -> BoxFuture<'a, anyhow::Result<()>> {
        async move { Ok(self.sink.save_processor_state(&self.group, states).await?) }.boxed()
    }

    fn load<'a>(&'a self, partitions: &'a [i32]) -> BoxFuture<'a, anyhow::Result<Vec<PartitionState>>> {
        async move { Ok(self.sink.load_processor_state(&self.group, partitions).await?) }.boxed()
    }
}

/// A checkpoint store for processor state.
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// Saves the states (one per partition, serialized where they live:
    /// no copy of the state is made), replacing older checkpoints.
    fn save<'a>(&'a self, states: &'a [PartitionCheckpoint<'a>]) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Loads the checkpoints of `partitions` that exist.
    fn load<'a>(&'a self, partitions: &'a [i32]) -> BoxFuture<'a, anyhow::Result<Vec<PartitionState>>>;
}

/// Checkpoints as one JSON file per partition, replaced atomically.
#[derive(Debug)]
pub struct FileStateStore {
    dir: PathBuf,
}

impl FileStateStore {
    /// A store in `dir/state/<group>/`.
    pub fn new(dir: &std::path::Path, group: &str) -> anyhow::Result<Self> {
        let dir = dir.join("state").join(group.replace(['/', '\\'], "_"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(FileStateStore { dir })
    }

    fn path(&self, partition: i32) -> PathBuf {
        self.dir.join(format!("partition-{partition}.json"))
    }
}

impl StateStore for FileStateStore {
    fn save<'a>(&'a self, states: &'a [PartitionCheckpoint<'a>]) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            for state in states {
                let path = self.path(state.partition());
                let tmp = path.with_extension("json.tmp");
                let bytes = serde_json::to_vec(state)?;
                std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
                std::fs::File::open(&tmp)?.sync_all()?;
                std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
            }
            Ok(())
        }
        .boxed()
    }

    fn load<'a>(&'a self, partitions: &'a [i32]) -> BoxFuture<'a, anyhow::Result<Vec<PartitionState>>> {
        async move {
            let mut out = Vec::new();
            for p in partitions {
                let path = self.path(*p);
                match std::fs::read(&path) {
                    Ok(bytes) => out.push(
                        serde_json::from_slice(&bytes)
                            .with_context(|| format!("reading {}", path.display()))?,
                    ),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
                }
            }
            Ok(out)
        }
        .boxed()
    }
}
