use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::met_hydro::MetHydroObservation;
use crate::operations::{CargoEvent, PortOpsEvent};
use crate::position::Position;
use crate::rejection::{Rejection, ValidationRules};
use crate::safety::SafetyMessage;
use crate::station::StationReport;
use crate::vessel_static::VesselStatic;
use crate::weather::WeatherObservation;

/// Any event PortTrack consumes, after decoding.
///
/// Decoders produce these whatever the wire format (JSON, Avro or NMEA);
/// processors and sinks only ever see this type.
///
/// Serialised (for the file sink and dead letters) as the inner event with an
/// `event` field naming its kind: `{"event":"position","mmsi":…}`.
///
/// Every kind but positions is boxed. Positions are nearly every event (a
/// vessel reports every 2 to 10 s under way, its static data every 6
/// minutes) and take 56 bytes; the other kinds take 120 to 184. Unboxed,
/// every event was 224 bytes, and each position paid for that size in
/// every move (decoded, staged, batched) and in every batch held in
/// memory: a memory copy was 2% of the `json → null` bench's samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A vessel position report.
    Position(Position),
    /// Vessel static and voyage data.
    Static(Box<VesselStatic>),
    /// A weather observation.
    Weather(Box<WeatherObservation>),
    /// Cargo loaded or discharged.
    Cargo(Box<CargoEvent>),
    /// Pilotage, towage or mooring.
    PortOps(Box<PortOpsEvent>),
    /// A safety-related text (AIS 12, 14).
    Safety(Box<SafetyMessage>),
    /// A meteorological and hydrological report (AIS 8/6 binary applications).
    MetHydro(Box<MetHydroObservation>),
    /// A base station, UTC response or aid to navigation (AIS 4, 11, 21).
    Station(Box<StationReport>),
}

/// The kind of an [`Event`]: a bounded label for metrics and routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// [`Event::Position`].
    Position,
    /// [`Event::Static`].
    Static,
    /// [`Event::Weather`].
    Weather,
    /// [`Event::Cargo`].
    Cargo,
    /// [`Event::PortOps`].
    PortOps,
    /// [`Event::Safety`].
    Safety,
    /// [`Event::MetHydro`].
    MetHydro,
    /// [`Event::Station`].
    Station,
}

impl EventKind {
    /// Every kind, for pre-registering metrics.
    pub const ALL: [EventKind; 8] = [
        EventKind::Position,
        EventKind::Static,
        EventKind::Weather,
        EventKind::Cargo,
        EventKind::PortOps,
        EventKind::Safety,
        EventKind::MetHydro,
        EventKind::Station,
    ];

    /// The stable snake_case name used in metrics and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Position => "position",
            EventKind::Static => "static",
            EventKind::Weather => "weather",
            EventKind::Cargo => "cargo",
            EventKind::PortOps => "port_ops",
            EventKind::Safety => "safety",
            EventKind::MetHydro => "met_hydro",
            EventKind::Station => "station",
        }
    }
}

impl Event {
    /// Which kind of event this is.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Position(_) => EventKind::Position,
            Event::Static(_) => EventKind::Static,
            Event::Weather(_) => EventKind::Weather,
            Event::Cargo(_) => EventKind::Cargo,
            Event::PortOps(_) => EventKind::PortOps,
            Event::Safety(_) => EventKind::Safety,
            Event::MetHydro(_) => EventKind::MetHydro,
            Event::Station(_) => EventKind::Station,
        }
    }

    /// Event time.
    pub fn timestamp(&self) -> DateTime<Utc> {
        match self {
            Event::Position(e) => e.timestamp,
            Event::Static(e) => e.timestamp,
            Event::Weather(e) => e.timestamp,
            Event::Cargo(e) => e.timestamp,
            Event::PortOps(e) => e.timestamp,
            Event::Safety(e) => e.timestamp,
            Event::MetHydro(e) => e.timestamp,
            Event::Station(e) => e.timestamp,
        }
    }

    /// The vessel the event is about, if it is about one: for a safety
    /// message its sender (often a vessel); stations and met-hydro reports
    /// describe no vessel, like weather observations.
    pub fn mmsi(&self) -> Option<u32> {
        match self {
            Event::Position(e) => Some(e.mmsi),
            Event::Static(e) => Some(e.mmsi),
            Event::Weather(_) => None,
            Event::Cargo(e) => Some(e.mmsi),
            Event::PortOps(e) => Some(e.mmsi),
            Event::Safety(e) => Some(e.mmsi),
            Event::MetHydro(_) | Event::Station(_) => None,
        }
    }

    /// Validates the event with the rules of its kind.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        match self {
            Event::Position(e) => e.validate(rules, now),
            Event::Static(e) => e.validate(rules, now),
            Event::Weather(e) => e.validate(rules, now),
            Event::Cargo(e) => e.validate(rules, now),
            Event::PortOps(e) => e.validate(rules, now),
            Event::Safety(e) => e.validate(rules, now),
            Event::MetHydro(e) => e.validate(rules, now),
            Event::Station(e) => e.validate(rules, now),
        }
    }
}

impl From<Position> for Event {
    fn from(e: Position) -> Self {
        Event::Position(e)
    }
}
impl From<VesselStatic> for Event {
    fn from(e: VesselStatic) -> Self {
        Event::Static(Box::new(e))
    }
}
impl From<WeatherObservation> for Event {
    fn from(e: WeatherObservation) -> Self {
        Event::Weather(Box::new(e))
    }
}
impl From<CargoEvent> for Event {
    fn from(e: CargoEvent) -> Self {
        Event::Cargo(Box::new(e))
    }
}
impl From<PortOpsEvent> for Event {
    fn from(e: PortOpsEvent) -> Self {
        Event::PortOps(Box::new(e))
    }
}
impl From<SafetyMessage> for Event {
    fn from(e: SafetyMessage) -> Self {
        Event::Safety(Box::new(e))
    }
}
impl From<MetHydroObservation> for Event {
    fn from(e: MetHydroObservation) -> Self {
        Event::MetHydro(Box::new(e))
    }
}
impl From<StationReport> for Event {
    fn from(e: StationReport) -> Self {
        Event::Station(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sourced;

    /// Every event is as large as its largest kind. With the static data
    /// unboxed that was 224 bytes (256 with its origin), paid by every
    /// position in every move and in every batch held in memory. The
    /// origin is 24 bytes since its topic is an interned pointer (32 as an
    /// `Arc<str>`).
    #[test]
    fn an_event_is_no_larger_than_a_position_and_its_tag() {
        assert!(size_of::<Event>() <= size_of::<Position>() + 8, "Event is {} B", size_of::<Event>());
        assert!(size_of::<Sourced<Event>>() <= 88, "Sourced<Event> is {} B", size_of::<Sourced<Event>>());
    }
}
