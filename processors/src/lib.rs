//! PortTrack's stream processors.
//!
//! Processors turn decoded events into the state a port authority acts on.
//! They are pure: no tokio, no Kafka, no SQL. The pipeline in the `porttrack`
//! binary drives them from Kafka and hands what they hold to the sinks, and
//! benchmarks and tests drive them directly.
//!
//! Roles:
//!
//! * [`VesselStore`]: the latest known state of every vessel, in a lock-free
//!   concurrent map keyed by MMSI, partitioned by the Kafka partition the
//!   vessel's reports arrive on so that a rebalance can forget exactly the
//!   vessels this instance no longer owns.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use porttrack_processors::{Applied, VesselStore};
//! use porttrack_schemas::Position;
//!
//! let store = VesselStore::default();
//! let at = |s: i64| Position {
//!     mmsi: 244_123_456, timestamp: Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap(),
//!     lat: 51.9, lon: 4.0, sog: None, cog: None, heading: None, nav_status: None,
//! };
//! assert_eq!(store.apply(0, &at(10)), Applied::Newer);
//! assert_eq!(store.apply(0, &at(5)), Applied::Stale);   // late report: kept out of the state
//! assert_eq!(store.get(244_123_456).unwrap().last.timestamp.timestamp(), 1_700_000_010);
//! ```

mod vessels;

pub use vessels::{Applied, VesselState, VesselStore};
