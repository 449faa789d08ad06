//! The file sink: the demo's stand-in when Postgres and Elasticsearch are not
//! configured.
//!
//! * `positions.ndjson`: one line per accepted position, with its document id.
//!   Appended and flushed (`fsync`) before the write is acknowledged. A replay
//!   after a crash appends the replayed lines again; readers deduplicate on
//!   `id`, which is the same deterministic id Elasticsearch uses.
//! * `vessel_state.json`: the latest state per vessel, rewritten atomically
//!   (temporary file, then rename) after every batch, guarded by event time
//!   like the Postgres upsert, so it is idempotent.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack_schemas::{Position, Sourced};
use serde_json::json;

use crate::{Sink, SinkError, WriteOutcome, latest_per_vessel};

/// Writes positions and vessel state under one directory.
#[derive(Debug)]
pub struct FileSink {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    positions: File,
    state: BTreeMap<u32, (Position, i64)>,
}

fn io(e: std::io::Error, what: &Path) -> SinkError {
    SinkError::Transient(format!("{}: {e}", what.display()))
}

/// A positions line; a struct so floats keep their shortest `f32` form.
#[derive(serde::Serialize)]
struct Line<'a> {
    id: String,
    position: &'a Position,
}

impl FileSink {
    /// Opens (creating) `dir`, resuming from an existing `vessel_state.json`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SinkError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| io(e, &dir))?;
        let positions_path = dir.join("positions.ndjson");
        let positions = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&positions_path)
            .map_err(|e| io(e, &positions_path))?;
        let state_path = dir.join("vessel_state.json");
        let state = match std::fs::read(&state_path) {
            Ok(bytes) => {
                let rows: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap_or_default();
                rows.into_iter()
                    .filter_map(|row| {
                        let offset = row.get("source_offset")?.as_i64()?;
                        let p: Position = serde_json::from_value(row.get("position")?.clone()).ok()?;
                        Some((p.mmsi, (p, offset)))
                    })
                    .collect()
            }
            Err(_) => BTreeMap::new(),
        };
        Ok(FileSink { dir, inner: Mutex::new(Inner { positions, state }) })
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn write_sync(&self, records: &[Sourced<Position>]) -> Result<WriteOutcome, SinkError> {
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let positions_path = self.dir.join("positions.ndjson");
        {
            let mut out = BufWriter::new(&inner.positions);
            for r in records {
                let line = Line { id: r.origin.document_id(), position: &r.event };
                serde_json::to_writer(&mut out, &line)
                    .map_err(|e| SinkError::Permanent(format!("encoding position: {e}")))?;
                out.write_all(b"\n").map_err(|e| io(e, &positions_path))?;
            }
            out.flush().map_err(|e| io(e, &positions_path))?;
        }
        inner.positions.sync_data().map_err(|e| io(e, &positions_path))?;

        for r in latest_per_vessel(records) {
            let candidate = (r.event.clone(), r.origin.offset);
            inner
                .state
                .entry(r.event.mmsi)
                .and_modify(|cur| {
                    if (candidate.0.timestamp, candidate.1) >= (cur.0.timestamp, cur.1) {
                        *cur = candidate.clone();
                    }
                })
                .or_insert_with(|| candidate.clone());
        }
        let rows: Vec<serde_json::Value> = inner
            .state
            .values()
            .map(|(p, offset)| json!({ "position": p, "source_offset": offset }))
            .collect();
        let state_path = self.dir.join("vessel_state.json");
        let tmp = self.dir.join("vessel_state.json.tmp");
        let bytes = serde_json::to_vec_pretty(&rows).map_err(|e| SinkError::Permanent(e.to_string()))?;
        std::fs::write(&tmp, bytes).map_err(|e| io(e, &tmp))?;
        std::fs::rename(&tmp, &state_path).map_err(|e| io(e, &state_path))?;
        Ok(WriteOutcome::default())
    }
}

impl Sink for FileSink {
    fn name(&self) -> &'static str {
        "file"
    }

    fn write<'a>(
        &'a self,
        records: &'a [Sourced<Position>],
    ) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        // Small demo volumes: blocking file I/O inline is cheaper than a thread hop.
        async move { self.write_sync(records) }.boxed()
    }

    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
        async move { if self.dir.is_dir() { Ok(()) } else { Err(SinkError::Transient("directory gone".into())) } }
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;

    #[test]
    fn replaying_a_batch_leaves_the_same_state_and_reopening_resumes_it() {
        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::open(dir.path()).unwrap();
        let batch = vec![record(244_000_001, 10, 0), record(244_000_001, 20, 1), record(244_000_002, 5, 2)];
        futures::executor::block_on(sink.write(&batch)).unwrap();
        let first = std::fs::read(dir.path().join("vessel_state.json")).unwrap();
        futures::executor::block_on(sink.write(&batch[..1])).unwrap(); // an older replay
        assert_eq!(std::fs::read(dir.path().join("vessel_state.json")).unwrap(), first);
        drop(sink);
        let reopened = FileSink::open(dir.path()).unwrap();
        futures::executor::block_on(reopened.write(&[])).unwrap();
        assert_eq!(std::fs::read(dir.path().join("vessel_state.json")).unwrap(), first);
        let lines = std::fs::read_to_string(dir.path().join("positions.ndjson")).unwrap();
        assert_eq!(lines.lines().count(), 4);
    }
}
