//! PortTrack's event model.
//!
//! This crate is the contract between the sensors that produce to Kafka and the
//! rest of PortTrack. It holds:
//!
//! * the typed events ([`Position`]) and the provenance every decoded record
//!   carries ([`Origin`], [`Sourced`]);
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

mod position;
mod record;
mod rejection;

pub use position::{NavStatus, Position};
pub use record::{Origin, Sourced};
pub use rejection::{RejectClass, Rejection, ValidationRules};

/// The schema files this crate publishes, as `(path relative to schemas/, contents)`.
pub fn schema_files() -> &'static [(&'static str, &'static str)] {
    &[
        ("json/position.v1.schema.json", include_str!("../json/position.v1.schema.json")),
        ("avro/position.v1.avsc", include_str!("../avro/position.v1.avsc")),
    ]
}
