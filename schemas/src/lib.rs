//! PortTrack's event model.
//!
//! This crate is the contract between the sensors that produce to Kafka and the
//! rest of PortTrack. It holds:
//!
//! * the typed events ([`Event`]: [`Position`], [`VesselStatic`],
//!   [`WeatherObservation`], [`CargoEvent`], [`PortOpsEvent`], and the
//!   AIS-only [`SafetyMessage`], [`MetHydroObservation`], [`StationReport`])
//!   and the provenance every decoded record carries ([`Origin`], [`Sourced`]);
//! * the validation rules a record must pass before any processor or sink sees
//!   it ([`ValidationRules`], [`Rejection`]), with a stable, bounded set of
//!   rejection classes ([`RejectClass`]) that metrics and the dead-letter topic
//!   use as labels;
//! * the published schemas under `schemas/json/` and `schemas/avro/`, embedded
//!   here (see [`schema_files`]) so tests can prove the Rust types and the
//!   schemas agree.
//!
//! The crate does no I/O.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use porttrack_schemas::{Position, ValidationRules};
//!
//! let json = br#"{"mmsi":244123456,"timestamp":"2026-11-22T04:00:00Z",
//!                 "lat":51.95,"lon":4.05,"sog":12.3,"cog":87.5,"heading":88,"nav_status":0}"#;
//! let position: Position = serde_json::from_slice(json).unwrap();
//! let now = Utc.with_ymd_and_hms(2026, 11, 22, 4, 1, 0).unwrap();
//! assert!(position.validate(&ValidationRules::default(), now).is_ok());
//! ```

mod checks;
mod event;
mod met_hydro;
mod operations;
mod position;
mod record;
mod rejection;
mod safety;
mod station;
pub mod time;
mod topic;
mod vessel_static;
mod weather;

pub use event::{Event, EventKind};
pub use met_hydro::MetHydroObservation;
pub use operations::{CargoEvent, CargoOperation, PortOpsEvent, PortOpsKind};
pub use position::{NavStatus, Position};
pub use record::{Origin, Sourced};
pub use rejection::{Policy, RejectClass, Rejection, ValidationRules};
pub use safety::SafetyMessage;
pub use station::{StationKind, StationReport};
pub use topic::Topic;
pub use vessel_static::{VesselStatic, declares_hazard, dimension};
pub use weather::WeatherObservation;

/// The schema files this crate publishes, as `(path relative to schemas/, contents)`.
pub fn schema_files() -> &'static [(&'static str, &'static str)] {
    &[
        ("json/position.v1.schema.json", include_str!("../json/position.v1.schema.json")),
        ("json/vessel_static.v1.schema.json", include_str!("../json/vessel_static.v1.schema.json")),
        ("json/weather.v1.schema.json", include_str!("../json/weather.v1.schema.json")),
        ("json/cargo_event.v1.schema.json", include_str!("../json/cargo_event.v1.schema.json")),
        ("json/port_ops_event.v1.schema.json", include_str!("../json/port_ops_event.v1.schema.json")),
        ("json/safety.v1.schema.json", include_str!("../json/safety.v1.schema.json")),
        ("json/met_hydro.v1.schema.json", include_str!("../json/met_hydro.v1.schema.json")),
        ("json/station.v1.schema.json", include_str!("../json/station.v1.schema.json")),
        ("avro/position.v1.avsc", include_str!("../avro/position.v1.avsc")),
        ("avro/vessel_static.v1.avsc", include_str!("../avro/vessel_static.v1.avsc")),
        ("avro/weather.v1.avsc", include_str!("../avro/weather.v1.avsc")),
        ("avro/cargo_event.v1.avsc", include_str!("../avro/cargo_event.v1.avsc")),
        ("avro/port_ops_event.v1.avsc", include_str!("../avro/port_ops_event.v1.avsc")),
        ("avro/safety.v1.avsc", include_str!("../avro/safety.v1.avsc")),
        ("avro/met_hydro.v1.avsc", include_str!("../avro/met_hydro.v1.avsc")),
        ("avro/station.v1.avsc", include_str!("../avro/station.v1.avsc")),
    ]
}

/// The published schemas of each event kind: `(kind, JSON Schema, Avro schema)`.
pub fn schemas_by_kind() -> [(EventKind, &'static str, &'static str); 8] {
    let find = |path: &str| schema_files().iter().find(|(p, _)| *p == path).map_or("", |(_, text)| *text);
    [
        (EventKind::Position, find("json/position.v1.schema.json"), find("avro/position.v1.avsc")),
        (EventKind::Static, find("json/vessel_static.v1.schema.json"), find("avro/vessel_static.v1.avsc")),
        (EventKind::Weather, find("json/weather.v1.schema.json"), find("avro/weather.v1.avsc")),
        (EventKind::Cargo, find("json/cargo_event.v1.schema.json"), find("avro/cargo_event.v1.avsc")),
        (EventKind::PortOps, find("json/port_ops_event.v1.schema.json"), find("avro/port_ops_event.v1.avsc")),
        (EventKind::Safety, find("json/safety.v1.schema.json"), find("avro/safety.v1.avsc")),
        (EventKind::MetHydro, find("json/met_hydro.v1.schema.json"), find("avro/met_hydro.v1.avsc")),
        (EventKind::Station, find("json/station.v1.schema.json"), find("avro/station.v1.avsc")),
    ]
}
