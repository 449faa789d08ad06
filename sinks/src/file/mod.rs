//! The file sink: the demo's stand-in when Postgres and Elasticsearch are not
//! configured. Nothing accepted is dropped: every event kind and every
//! processor output has a file.
//!
//! * `{kind}.ndjson` per event kind (`position`, `static`, `weather`,
//!   `cargo`, `port_ops`, `safety`, `met_hydro`, `station`): one line per accepted event, the [`Event`]'s own
//!   serialisation (with its `event` tag) plus its document `id`:
//!   `{"id":"ais.positions-0-7","event":"position","mmsi":…}`.
//! * `derived/{kind}.ndjson` (`zone_events`, `port_calls`, `anomalies`,
//!   `weather_alerts`, `congestion`): processor outputs, with their `id`.
//! * `dead_letters.ndjson`: the dead-letter summary.
//! * `vessel_state.json`: the latest state per vessel, rewritten atomically
//!   (temporary file, then rename) after every batch, guarded by event time
//!   like the Postgres upsert, so it is idempotent.
//!
//! Lines are appended and flushed (`fsync`) before a write is acknowledged.
//! A replay after a crash appends the replayed lines again; readers
//! deduplicate on `id`, the same deterministic id Elasticsearch uses.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack_schemas::{Event, Position, Sourced};
use serde::Serialize;
use serde_json::json;

use crate::{DeadLetterSummary, Derived, Sink, SinkError, WriteOutcome, latest_per_vessel};

/// Writes positions and vessel state under one directory.
#[derive(Debug)]
pub struct FileSink {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Open append handles by relative path, opened on first use.
    files: HashMap<&'static str, File>,
    state: BTreeMap<u32, (Position, i64)>,
}

impl Inner {
    /// Appends `lines` (each already `\n`-terminated) to `name` and fsyncs it.
    fn append(&mut self, dir: &Path, name: &'static str, lines: &[u8]) -> Result<(), SinkError> {
        if lines.is_empty() {
            return Ok(());
        }
        let path = dir.join(name);
        let file = match self.files.entry(name) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|err| io(err, parent))?;
                }
                let f =
                    OpenOptions::new().create(true).append(true).open(&path).map_err(|err| io(err, &path))?;
                e.insert(f)
            }
        };
        file.write_all(lines).map_err(|e| io(e, &path))?;
        file.sync_data().map_err(|e| io(e, &path))
    }
}

/// Appends one NDJSON line.
fn line(out: &mut Vec<u8>, value: &impl Serialize) -> Result<(), SinkError> {
    serde_json::to_writer(&mut *out, value)
        .map_err(|e| SinkError::Permanent(format!("encoding line: {e}")))?;
    out.push(b'\n');
    Ok(())
}

/// An event line: its id, then the event's own fields and `event` tag.
/// One row of `vessel_state.json`.
#[derive(Serialize)]
struct StateRow<'a> {
    position: &'a Position,
    source_offset: i64,
}

#[derive(Serialize)]
struct EventLine<'a> {
    id: String,
    #[serde(flatten)]
    event: &'a Event,
}

/// A derived line: its id, then the row.
#[derive(Serialize)]
struct IdLine<'a, T: Serialize> {
    id: String,
    #[serde(flatten)]
    row: &'a T,
}

/// The file of an event kind.
fn event_file(event: &Event) -> Result<&'static str, SinkError> {
    Ok(match event {
        Event::Position(_) => "position.ndjson",
        Event::Static(_) => "static.ndjson",
        Event::Weather(_) => "weather.ndjson",
        Event::Cargo(_) => "cargo.ndjson",
        Event::PortOps(_) => "port_ops.ndjson",
        Event::Safety(_) => "safety.ndjson",
        Event::MetHydro(_) => "met_hydro.ndjson",
        Event::Station(_) => "station.ndjson",
        other => {
            return Err(SinkError::Permanent(format!("event kind {} has no file", other.kind().as_str())));
        }
    })
}

fn io(e: std::io::Error, what: &Path) -> SinkError {
    SinkError::Transient(format!("{}: {e}", what.display()))
}

impl FileSink {
    /// Opens (creating) `dir`, resuming from an existing `vessel_state.json`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SinkError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| io(e, &dir))?;
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
        Ok(FileSink { dir, inner: Mutex::new(Inner { files: HashMap::new(), state }) })
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn write_sync(&self, records: &[Sourced<Event>]) -> Result<WriteOutcome, SinkError> {
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Encode everything first: an unencodable record fails the write
        // before anything is appended.
        let mut by_file: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
        for r in records {
            let out = by_file.entry(event_file(&r.event)?).or_default();
            line(out, &EventLine { id: r.origin.document_id(), event: &r.event })?;
        }
        for (name, lines) in &by_file {
            inner.append(&self.dir, name, lines)?;
        }

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
        // Serialized straight from the state: the snapshot is rewritten on
        // every batch, and a `serde_json::Value` per row in between (a tree
        // node per field of every vessel) was most of the file sink's CPU.
        let rows: Vec<StateRow<'_>> = inner
            .state
            .values()
            .map(|(position, source_offset)| StateRow { position, source_offset: *source_offset })
            .collect();
        let state_path = self.dir.join("vessel_state.json");
        let tmp = self.dir.join("vessel_state.json.tmp");
        let bytes = serde_json::to_vec_pretty(&rows).map_err(|e| SinkError::Permanent(e.to_string()))?;
        std::fs::write(&tmp, bytes).map_err(|e| io(e, &tmp))?;
        std::fs::rename(&tmp, &state_path).map_err(|e| io(e, &state_path))?;
        Ok(WriteOutcome::default())
    }

    fn write_derived_sync(&self, d: &Derived) -> Result<(), SinkError> {
        let mut files: Vec<(&'static str, Vec<u8>)> = Vec::new();
        let mut add = |name, encode: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), SinkError>| {
            let mut out = Vec::new();
            encode(&mut out)?;
            files.push((name, out));
            Ok::<(), SinkError>(())
        };
        add("derived/zone_events.ndjson", &mut |out| {
            d.zone_events.iter().try_for_each(|r| line(out, &IdLine { id: r.id(), row: r }))
        })?;
        add("derived/port_calls.ndjson", &mut |out| {
            d.port_calls.iter().try_for_each(|r| line(out, &IdLine { id: r.call.id().to_string(), row: r }))
        })?;
        add("derived/anomalies.ndjson", &mut |out| {
            d.anomalies.iter().try_for_each(|r| line(out, &IdLine { id: r.id(), row: r }))
        })?;
        add("derived/weather_alerts.ndjson", &mut |out| {
            d.weather_alerts.iter().try_for_each(|r| line(out, &IdLine { id: r.id(), row: r }))
        })?;
        add("derived/congestion.ndjson", &mut |out| {
            d.congestion
                .iter()
                .try_for_each(|r| line(out, &IdLine { id: crate::derived::partial_id(r), row: r }))
        })?;
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, lines) in files {
            inner.append(&self.dir, name, &lines)?;
        }
        Ok(())
    }

    fn write_dead_letters_sync(&self, letters: &[DeadLetterSummary<'_>]) -> Result<(), SinkError> {
        let mut out = Vec::new();
        for l in letters {
            line(
                &mut out,
                &json!({
                    "id": l.origin.document_id(),
                    "class": l.class.as_str(),
                    "reason": l.reason,
                    "at": l.at,
                }),
            )?;
        }
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.append(&self.dir, "dead_letters.ndjson", &out)
    }
}

impl Sink for FileSink {
    fn name(&self) -> &'static str {
        "file"
    }

    fn write<'a>(&'a self, records: &'a [Sourced<Event>]) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        // Small demo volumes: blocking file I/O inline is cheaper than a thread hop.
        async move { self.write_sync(records) }.boxed()
    }

    fn write_derived<'a>(&'a self, batch: &'a Derived) -> BoxFuture<'a, Result<(), SinkError>> {
        async move { self.write_derived_sync(batch) }.boxed()
    }

    fn write_dead_letters<'a>(
        &'a self,
        letters: &'a [DeadLetterSummary<'a>],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        async move { self.write_dead_letters_sync(letters) }.boxed()
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
        let lines = std::fs::read_to_string(dir.path().join("position.ndjson")).unwrap();
        assert_eq!(lines.lines().count(), 4);
        let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(first["id"], "ais.positions-0-0");
        assert_eq!(first["event"], "position");
        assert_eq!(first["mmsi"], 244_000_001);
    }

    #[test]
    fn the_ais_kinds_get_one_file_each_with_their_ids() {
        use chrono::{TimeZone, Utc};
        use porttrack_schemas::{MetHydroObservation, Origin, SafetyMessage, StationKind, StationReport};

        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::open(dir.path()).unwrap();
        let t = Utc.timestamp_opt(1_790_000_000, 0).unwrap();
        let at = |index| Origin::new("ais.nmea", 0, 9).with_index(index);
        let details = serde_json::json!({"wspeed": 22, "preciptype": "rain"});
        let batch = vec![
            Sourced {
                origin: at(0),
                event: Event::Safety(Box::new(SafetyMessage {
                    mmsi: 2_442_000,
                    timestamp: t,
                    text: "SART ACTIVE".into(),
                    ..Default::default()
                })),
            },
            Sourced {
                origin: at(1),
                event: Event::MetHydro(Box::new(MetHydroObservation {
                    mmsi: 2_442_011,
                    timestamp: t,
                    dac: 1,
                    fid: 31,
                    wind_speed_kn: Some(22.0),
                    details: details.as_object().cloned(),
                    ..Default::default()
                })),
            },
            Sourced {
                origin: at(2),
                event: Event::Station(Box::new(StationReport {
                    mmsi: 992_446_001,
                    timestamp: t,
                    kind: StationKind::AidToNavigation,
                    off_position: Some(true),
                    ..Default::default()
                })),
            },
        ];
        futures::executor::block_on(sink.write(&batch)).unwrap();
        for (file, id, field, value) in [
            ("safety", "ais.nmea-0-9", "text", serde_json::json!("SART ACTIVE")),
            ("met_hydro", "ais.nmea-0-9-1", "details", details.clone()),
            ("station", "ais.nmea-0-9-2", "kind", serde_json::json!("aid_to_navigation")),
        ] {
            let text = std::fs::read_to_string(dir.path().join(format!("{file}.ndjson"))).unwrap();
            let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
            assert_eq!(v["event"], file);
            assert_eq!(v["id"], id);
            assert_eq!(v[field], value, "{file}");
        }
    }

    #[test]
    fn every_event_kind_and_derived_kind_gets_its_file() {
        use chrono::{TimeZone, Utc};
        use porttrack_schemas::{CargoEvent, CargoOperation, Origin, VesselStatic, WeatherObservation};

        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::open(dir.path()).unwrap();
        let t = Utc.timestamp_opt(1_790_000_000, 0).unwrap();
        let at = |offset| Origin::new("t", 0, offset);
        let batch = vec![
            record(244_000_001, 10, 0),
            Sourced {
                origin: at(1),
                event: Event::Static(Box::new(VesselStatic {
                    mmsi: 244_000_001,
                    timestamp: t,
                    ..Default::default()
                })),
            },
            Sourced {
                origin: at(2),
                event: Event::Weather(Box::new(WeatherObservation {
                    station: "s".into(),
                    timestamp: t,
                    zone: Some("z".into()),
                    ..Default::default()
                })),
            },
            Sourced {
                origin: at(3),
                event: Event::Cargo(Box::new(CargoEvent {
                    event_id: "c-1".into(),
                    timestamp: t,
                    mmsi: 244_000_001,
                    voyage: None,
                    berth: "b".into(),
                    operation: CargoOperation::Load,
                    containers: 1,
                    teu: 2,
                    imdg_class: None,
                })),
            },
        ];
        futures::executor::block_on(sink.write(&batch)).unwrap();
        for (file, kind) in
            [("position", "position"), ("static", "static"), ("weather", "weather"), ("cargo", "cargo")]
        {
            let text = std::fs::read_to_string(dir.path().join(format!("{file}.ndjson"))).unwrap();
            let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
            assert_eq!(v["event"], kind);
        }
        let derived = Derived {
            anomalies: vec![crate::derived::AnomalyRow {
                mmsi: 244_000_001,
                at: t,
                zone: None,
                details: porttrack_processors::AnomalyKind::WentSilent { last_seen: t },
            }],
            ..Derived::default()
        };
        futures::executor::block_on(sink.write_derived(&derived)).unwrap();
        let text = std::fs::read_to_string(dir.path().join("derived/anomalies.ndjson")).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["kind"], "went_silent");
        assert_eq!(v["id"], "244000001-1790000000000-went_silent");
    }
}
