//! The checkpoint's format across versions: a checkpoint written by an
//! older version restores to the same state (an upgrade never loses
//! processor state), the current format round-trips exactly, sub-millisecond
//! event times included, and [`Port::checkpoint`] writes what
//! [`Port::export_partition`] would, byte for byte.
//!
//! `fixtures/partition_state_v1.json` is partition 0 of
//! `FleetOptions { seed: 13, vessels: 10, partitions: 2, hours: 10, ..default }`
//! run through the support fleet, plus vessel 244999990 fed five positions
//! with nanosecond event times, exported and serialized with `serde_json` by
//! the version before times became integers (`PartitionState::VERSION` 1:
//! every time an RFC 3339 string). It is never regenerated: it stands for
//! the checkpoints already stored by deployed versions.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use porttrack_processors::{Geography, PartitionState, Port, PortConfig, Processed};
use serde_json::Value;
use support::{Feed, FleetOptions, fleet};

const V1: &str = include_str!("fixtures/partition_state_v1.json");

/// A port writing the current format (version 2, the default).
fn port() -> Port {
    Port::new(Geography::rotterdam(), PortConfig::default())
}

/// Every release since commit `36a08c1` reads version 2, so the default
/// writes it.
#[test]
fn by_default_checkpoints_are_written_as_version_2() {
    assert_eq!(PortConfig::default().checkpoint_version, 2);
    let events =
        fleet(&FleetOptions { seed: 5, vessels: 4, partitions: 1, hours: 2, ..FleetOptions::default() });
    let port = port();
    support::run(&port, &events);
    // Compared as parsed text: `to_value` would widen each f32 to f64.
    let value: Value =
        serde_json::from_str(&serde_json::to_string(&port.export_partition(0)).unwrap()).unwrap();
    assert_eq!(value["version"], 2);
    let view: Value = serde_json::from_slice(&serde_json::to_vec(&port.checkpoint(0)).unwrap()).unwrap();
    assert_eq!(view, value, "the checkpoint view writes what the export does");
}

/// Objects whose times are a schema type's own (`VesselStatic`,
/// `WeatherObservation`, and the `PortOpsEvent`s and `CargoEvent`s a vessel
/// holds until its fixes reach them): the checkpoint keeps their wire form.
const WIRE_FORM: [&str; 3] = ["merged", "latest", "deferred"];

/// `json` with every RFC 3339 time that is a whole millisecond replaced by
/// its epoch milliseconds, except inside [`WIRE_FORM`] objects, after
/// [`as_this_release_writes`], with every vessel's fix times as a column of
/// deltas when they are all integers: what this release writes for what
/// version 1 wrote, spelled out independently of the crate's writer.
fn as_version_2(json: &Value) -> Value {
    fn walk(v: &Value, wire: bool) -> Value {
        match v {
            Value::String(s) if !wire => match s.parse::<DateTime<Utc>>() {
                Ok(t) if t.timestamp_subsec_nanos().is_multiple_of(1_000_000) => {
                    Value::from(t.timestamp_millis())
                }
                _ => v.clone(),
            },
            Value::Array(items) => Value::Array(items.iter().map(|i| walk(i, wire)).collect()),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, f)| {
                        let f = walk(f, wire || WIRE_FORM.contains(&k.as_str()));
                        (k.clone(), if k == "fix_times" { column(f) } else { f })
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    /// Times that are all integers, as `{"at": [first, deltas…]}`.
    fn column(times: Value) -> Value {
        let items = times.as_array().unwrap();
        if items.is_empty() || !items.iter().all(Value::is_i64) {
            return times;
        }
        let ms: Vec<i64> = items.iter().map(|t| t.as_i64().unwrap()).collect();
        let at: Vec<i64> = std::iter::once(ms[0]).chain(ms.windows(2).map(|w| w[1] - w[0])).collect();
        serde_json::json!({ "at": at })
    }
    let mut out = walk(&as_this_release_writes(json), false);
    out["version"] = Value::from(PartitionState::VERSION);
    out
}

/// A checkpoint written before routes kept only their fixes' times and the
/// static fields their rules read, as this release writes it in the same
/// version: every vessel's `track` empty (what those releases read) and its
/// fixes' times as `fix_times`; its static record down to the fields the
/// rules read, the other fields' times at "never", and the two field times
/// the eleven never had (never set, by those releases).
fn as_this_release_writes(json: &Value) -> Value {
    const KEPT: [&str; 7] = ["mmsi", "timestamp", "shiptype", "hazard", "to_bow", "to_stern", "length_m"];
    let never = Value::from("-262143-01-01T00:00:00Z");
    let mut out = json.clone();
    for v in out["vessels"].as_array_mut().unwrap() {
        let track = v["track"].take();
        let times = track.as_array().unwrap().iter().map(|f| f["at"].clone()).collect();
        v["track"] = Value::Array(Vec::new());
        v["fix_times"] = Value::Array(times);
        if let Some(statics) = v.get_mut("statics").filter(|s| !s.is_null()) {
            statics["merged"].as_object_mut().unwrap().retain(|k, _| KEPT.contains(&k.as_str()));
            for (i, t) in statics["field_times"].as_array_mut().unwrap().iter_mut().enumerate() {
                if ![3, 4, 5].contains(&i) {
                    *t = never.clone();
                }
            }
            statics["more_field_times"] = Value::Array(vec![never.clone(), never.clone()]);
        }
    }
    out
}

/// Strings that parse as times outside [`WIRE_FORM`] objects.
fn string_times(v: &Value, wire: bool, found: &mut Vec<String>) {
    match v {
        Value::String(s) if !wire && s.parse::<DateTime<Utc>>().is_ok() => found.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| string_times(i, wire, found)),
        Value::Object(fields) => {
            for (k, f) in fields {
                string_times(f, wire || WIRE_FORM.contains(&k.as_str()), found);
            }
        }
        _ => {}
    }
}

#[test]
fn a_version_1_checkpoint_restores_to_the_same_state() {
    let state: PartitionState = serde_json::from_str(V1).unwrap();
    assert_eq!(state.version, 1);
    // The fixture holds what the format has to carry.
    let vessels = &state.vessels;
    assert!(vessels.iter().any(|v| v.call.as_ref().is_some_and(|c| !c.services.is_empty())));
    assert!(
        vessels.iter().any(|v| v.last_call().is_some() && v.statics.is_some() && v.stopped_since.is_some())
    );
    assert!(vessels.iter().all(|v| !v.fix_times.is_empty() && v.last_event_at.is_some()));

    let port = port();
    port.restore_partition(0, state.clone()).unwrap();
    let restored = port.export_partition(0);
    assert_eq!(restored, PartitionState { version: PartitionState::VERSION, ..state });

    // Field by field: every time the same instant, now as milliseconds.
    // (Compared as parsed text: `to_value` would widen each f32 to f64.)
    let json = serde_json::to_string(&restored).unwrap();
    let written: Value = serde_json::from_str(&json).unwrap();
    let old: Value = serde_json::from_str(V1).unwrap();
    assert!(written == as_version_2(&old), "version 2 of the fixture differs from the restored state's");
    // Smaller, and still read back as the same state.
    assert!(json.len() * 10 < V1.len() * 9, "{} bytes, version 1 {}", json.len(), V1.len());
    assert_eq!(serde_json::from_str::<PartitionState>(&json).unwrap(), restored);
}

/// Asked for version 1 (`checkpoint_version = 1`), a port writes what
/// releases before format 2 read, so that a rollback that far restores what
/// this one checkpointed: the fixture, restored and written again, is the
/// fixture, but for the tracks, which are empty (those releases fill them
/// again; nothing reads their positions), the fixes' times beside them,
/// and the static records, down to the fields the rules read.
#[test]
fn asked_for_version_1_checkpoints_are_what_releases_before_format_2_read() {
    let state: PartitionState = serde_json::from_str(V1).unwrap();
    let port =
        Port::new(Geography::rotterdam(), PortConfig { checkpoint_version: 1, ..PortConfig::default() });
    port.restore_partition(0, state).unwrap();
    let old = as_this_release_writes(&serde_json::from_str(V1).unwrap());
    let exported: Value =
        serde_json::from_str(&serde_json::to_string(&port.export_partition(0)).unwrap()).unwrap();
    assert!(exported == old, "version 1 written by this release differs from what the last one wrote");
    let view: Value = serde_json::from_slice(&serde_json::to_vec(&port.checkpoint(0)).unwrap()).unwrap();
    assert!(view == old, "the checkpoint view's version 1 differs");
    // The switch is scoped to the document: a version 2 port's checkpoint,
    // written right after, is version 2 again.
    let v2 = serde_json::to_value(self::port().export_partition(0)).unwrap();
    assert_eq!(v2["version"], 2);
}

#[test]
fn a_version_1_checkpoint_keeps_nanosecond_event_times() {
    let state: PartitionState = serde_json::from_str(V1).unwrap();
    let fine = state.vessels.iter().find(|v| v.mmsi == 244_999_990).unwrap();
    assert_eq!(fine.fix_times.len(), 5);
    assert!(fine.fix_times.iter().all(|at| !at.timestamp_subsec_nanos().is_multiple_of(1_000_000)));
    let last = fine.last.as_ref().unwrap().at;
    let port = port();
    port.restore_partition(0, state.clone()).unwrap();
    // The next report at exactly that time is still the duplicate it is.
    let mut feed = Feed::new(&port, fine.mmsi);
    feed.t = last;
    assert_eq!(feed.report((51.99, 3.904), 12.0, 0), Processed::Duplicate);
}

#[test]
fn checkpoints_write_times_as_milliseconds() {
    let events =
        fleet(&FleetOptions { seed: 3, vessels: 12, partitions: 2, hours: 8, ..FleetOptions::default() });
    let port = port();
    support::run(&port, &events);
    for p in port.partitions() {
        let state = port.export_partition(p);
        let value = serde_json::to_value(&state).unwrap();
        let mut strings = Vec::new();
        string_times(&value, false, &mut strings);
        assert_eq!(strings, Vec::<String>::new(), "partition {p}: every time is whole milliseconds here");
        let back: PartitionState = serde_json::from_value(value).unwrap();
        assert_eq!(back, state, "partition {p} through a serde_json::Value, as Postgres reads it");
    }
}

#[test]
fn sub_millisecond_event_times_survive_a_checkpoint() {
    let port = port();
    let mmsi = 244_123_456;
    let start = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    let times = [
        start + Duration::nanoseconds(1),
        start + Duration::nanoseconds(10_000_000_500),
        start + Duration::milliseconds(20_001),
        start + Duration::nanoseconds(30_000_000_001),
    ];
    let mut feed = Feed::new(&port, mmsi);
    for (i, t) in times.iter().enumerate() {
        feed.t = *t;
        feed.report((51.99, 3.9 + i as f64 * 0.001), 12.0, 0);
    }
    let state = port.export_partition(0);
    let json = serde_json::to_string(&state).unwrap();
    let back: PartitionState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
    let kept: Vec<_> = back.vessels[0].fix_times.iter().collect();
    assert_eq!(kept, times);

    let restored = self::port();
    restored.restore_partition(0, back).unwrap();
    let mut feed = Feed::new(&restored, mmsi);
    feed.t = times[3];
    assert_eq!(feed.report((51.99, 3.904), 12.0, 0), Processed::Duplicate);
    feed.t = times[3] + Duration::nanoseconds(1);
    assert_eq!(feed.report((51.99, 3.904), 12.0, 0), Processed::Applied);
}

#[test]
fn checkpoint_view_writes_the_export_byte_for_byte() {
    let events =
        fleet(&FleetOptions { seed: 4, vessels: 16, partitions: 3, hours: 6, ..FleetOptions::default() });
    let port = port();
    support::run(&port, &events);
    // A partition that has state, and one this instance never saw.
    for p in [0, 1, 2, 7] {
        let exported = serde_json::to_vec(&port.export_partition(p)).unwrap();
        let view = port.checkpoint(p);
        assert_eq!(serde_json::to_vec(&view).unwrap(), exported, "partition {p}");
        let state: PartitionState = serde_json::from_slice(&exported).unwrap();
        assert_eq!(
            (view.version(), view.partition(), view.geography(), view.vessels()),
            (state.version, state.partition, state.geography, state.vessels.len())
        );
    }
    assert!(port.checkpoint(0).vessels() > 0);
    // The pipeline's state stores save from a `Send` future.
    fn shareable<T: Send + Sync>(_: &T) {}
    shareable(&port.checkpoint(0));
}

#[test]
fn versions_outside_the_readable_range_are_refused() {
    let state: PartitionState = serde_json::from_str(V1).unwrap();
    for version in [0, PartitionState::VERSION + 1] {
        let refused = port().restore_partition(0, PartitionState { version, ..state.clone() });
        assert!(matches!(refused, Err(porttrack_processors::RestoreError::Version { .. })), "{version}");
    }
    for version in PartitionState::OLDEST_READABLE..=PartitionState::VERSION {
        port().restore_partition(0, PartitionState { version, ..state.clone() }).unwrap();
    }
}
