//! PortTrack's stream processors.
//!
//! Processors turn decoded events into the state a port authority acts on.
//! They are pure: no tokio, no Kafka, no SQL, no clock (time is event time,
//! advanced by the events and by the watermark the caller passes to
//! [`Port::tick`]). The pipeline in the `porttrack` binary drives them from
//! Kafka and hands their outputs to the sinks; benchmarks and tests drive
//! them directly.
//!
//! # Roles
//!
//! * [`Geography`]: the port's zones (port limits, approach channels,
//!   anchorages, basins, berths, restricted zones), loaded and validated from
//!   GeoJSON ([`ROTTERDAM_GEOJSON`] is built in), with fast point-in-zone
//!   lookup.
//! * [`Port`]: the processor. Keeps a [`VesselRoute`] per MMSI in a sharded
//!   lock-free map; [`Port::process`] applies one [`Event`](porttrack_schemas::Event)
//!   and emits typed [`Output`]s: zone entries and exits, port-call phases
//!   ([`PortCall`], with waiting and service times), anomalies (dark periods,
//!   speeding, stopped in a channel, dangerous goods in a restricted zone)
//!   and weather alerts.
//! * Congestion: [`Port::snapshot`] emits [`ZonePartial`]s per (zone,
//!   partition); [`merge`] folds them into [`ZoneSnapshot`]s (vessels
//!   present, queue, waiting times mean and p90, arrival and departure
//!   rates, berth occupancy, channel transits, weather, a
//!   [`CongestionLevel`]). [`Port::zone_gauges`] reads live gauges.
//!   [`stats::nearest_rank`] is the one quantile rule (the p90s), and
//!   [`WeatherLimits`] decides when gusts and visibility cross a limit.
//! * Scale-out: every piece of state belongs to a Kafka partition.
//!   [`Port::export_partition`] / [`Port::restore_partition`] /
//!   [`Port::forget_partition`] move a partition between instances so that
//!   processing continues exactly as if it had never moved.
//!   [`Port::checkpoint`] serializes the same document without copying the
//!   state first. Checkpoints write times as epoch milliseconds and read
//!   older ones written as RFC 3339 strings ([`PartitionState::VERSION`]).
//! * [`VesselStore`]: the original latest-position store, still used by the
//!   pipeline until it switches to [`Port`].
//!
//! # Rules, briefly
//!
//! * **Zones** use hysteresis: an entry (exit) is confirmed after
//!   `hysteresis_fixes` consecutive fixes inside (outside), or two
//!   consecutive fixes spanning `hysteresis_dwell_s`; it is dated at the
//!   first of those fixes. A vessel jittering across a boundary never
//!   confirms anything.
//! * **Movement** comes from speed and dwell, never `nav_status`: stopped
//!   below `stop_speed_kn`, moving again at `move_speed_kn`; moored when
//!   stopped `status_dwell_s` inside a berth, anchored when stopped that long
//!   inside an anchorage or `anchored_elsewhere_after_s` anywhere else.
//! * **Port calls** open on entering the port limits and close on leaving
//!   them, but are only reported once *confirmed*: the vessel anchored,
//!   moored, or entered a basin or berth. Until then nothing about the call
//!   is emitted, and a vessel that turns back first (an aborted approach,
//!   traffic through the limits) makes no call; once confirmed, the arrival
//!   is emitted dated at the crossing. Waiting time runs from the start of
//!   the stop at anchor to its end, service time likewise alongside; a stop
//!   starts and ends between two fixes, dated by the distance run between
//!   them at the moving fix's speed. The id is `"{mmsi}-{arrival}"`.
//!   [`CallStage`] owns the lifecycle: stages, order, stored names, legal
//!   transitions and the forward-only fields.
//! * **Jumps**: a fix implying more than `max_speed_kn` from the previous
//!   one is rejected and counted (accepted after `outlier_reanchor_after`
//!   in a row); so is a fix reporting the vessel stopped, within 15 min of
//!   one that did too, but more than 0.25 nm away (at a moored ship's
//!   3-minute interval a 2 nm jump implies only 40 kn). **Dark**: a silence longer than `dark_multiple` times the
//!   nominal AIS interval for the vessel's (inferred) class and state, while
//!   inside the port limits.
//! * **Order**: see [`route`](crate::VesselRoute) for exactly which parts of
//!   the state are independent of delivery order and duplication.
//!
//! # Example
//!
//! A vessel arrives, anchors for three hours, berths for ten, and leaves:
//!
//! ```
//! use chrono::{DateTime, Duration, TimeZone, Utc};
//! use porttrack_processors::{CallPhase, Geography, Output, Port, PortConfig, distance_nm};
//! use porttrack_schemas::{Event, Origin, Position, Sourced};
//!
//! /// Feeds one vessel's reports to the port, as Kafka would.
//! struct Feed<'a> { port: &'a Port, t: DateTime<Utc>, offset: i64, out: Vec<Output> }
//!
//! impl Feed<'_> {
//!     /// One report at `at` with speed `sog`, then `wait_s` seconds of silence.
//!     fn report(&mut self, at: (f64, f64), sog: f32, wait_s: i64) {
//!         let p = Position { mmsi: 244_123_456, timestamp: self.t, lat: at.0, lon: at.1,
//!                            sog: Some(sog), cog: None, heading: None, nav_status: None };
//!         let origin = Origin::new("ais.positions", 0, self.offset);
//!         self.port.process(&Sourced { origin, event: Event::Position(p) }, &mut self.out);
//!         self.offset += 1;
//!         self.t += Duration::seconds(wait_s);
//!     }
//!     /// A straight passage at `knots`, reporting every 10 s.
//!     fn sail(&mut self, from: (f64, f64), to: (f64, f64), knots: f32) {
//!         let steps = (distance_nm(from, to) / (f64::from(knots) * 10.0 / 3600.0)).ceil() as i32;
//!         for i in 0..steps {
//!             let f = f64::from(i) / f64::from(steps);
//!             self.report((from.0 + (to.0 - from.0) * f, from.1 + (to.1 - from.1) * f), knots, 10);
//!         }
//!     }
//! }
//!
//! let port = Port::new(Geography::rotterdam(), PortConfig::default());
//! let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
//! let mut feed = Feed { port: &port, t: t0, offset: 0, out: Vec::new() };
//! let (sea, anchorage, berth) = ((52.05, 3.30), (52.08, 3.72), (51.958, 4.005));
//!
//! feed.sail(sea, anchorage, 12.0);              // into the port limits, to the Maas North Anchorage
//! for _ in 0..60 { feed.report(anchorage, 0.1, 180); } // three hours at anchor (3-minute reports)
//! feed.sail(anchorage, berth, 10.0);            // weigh anchor, to the Maasvlakte II berth
//! for _ in 0..200 { feed.report(berth, 0.0, 180); }    // ten hours alongside
//! feed.sail(berth, sea, 14.0);                  // and out to sea
//!
//! let (phase, call) = feed.out.iter().rev().find_map(|o| match o {
//!     Output::PortCall(u) => Some((u.phase, &u.call)),
//!     _ => None,
//! }).unwrap();
//! assert_eq!(phase, CallPhase::Departed);
//! assert_eq!(call.berth.as_deref(), Some("Maasvlakte II"));
//! assert_eq!(call.waiting_time_s, 3 * 3600);
//! assert_eq!(call.service_time_s, 10 * 3600);
//! assert!(call.arrival_observed);
//! //! ```

mod call_id;
mod config;
mod congestion;
mod fix_times;
mod geography;
mod history;
mod lifecycle;
mod output;
mod port;
mod route;
mod ser;
mod statics;
pub mod stats;
mod vessels;

pub use call_id::CallId;
pub use config::{ConfigError, CongestionThresholds, Levels, PortConfig, ReportingIntervals, WeatherLimits};
pub use congestion::{
    CongestionLevel, WaitStats, WeatherPartial, ZonePartial, ZoneSnapshot, ZoneWeather, merge,
};
pub use fix_times::FixTimes;
pub use geography::{
    Geography, GeographyError, ROTTERDAM_GEOJSON, Zone, ZoneId, ZoneKind, ZoneSet, distance_nm,
};
pub use history::PartitionHistory;
pub use lifecycle::{CallStage, FieldRule};
pub use output::{
    Anomaly, AnomalyKind, CallPhase, Direction, Output, PortCall, PortCallUpdate, Processed, Service,
    WeatherAlert, WeatherAlertKind, ZoneTransition,
};
pub use port::{Counters, Eta, PartitionCheckpoint, PartitionState, Port, RestoreError, ZoneGauges};
pub use route::{Fix, Movement, ReportingClass, VesselRoute};
pub use statics::StaticData;
pub use vessels::{Applied, VesselState, VesselStore};
