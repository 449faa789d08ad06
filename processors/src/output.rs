//! What the port processor emits: typed events for sinks and alerting.
//!
//! Every output carries the event time it is about (never a clock reading),
//! and, where a sink must upsert, a stable identity: a port call's `id`, or
//! `(mmsi, zone, at)` for zone transitions. Replaying the same input produces
//! the same outputs.

use chrono::{DateTime, Utc};
use porttrack_schemas::PortOpsKind;
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use thin_vec::ThinVec;

use crate::call_id::CallId;
use crate::geography::ZoneId;

/// One event emitted by [`Port::process`](crate::Port::process) or [`Port::tick`](crate::Port::tick).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Output {
    /// A vessel's entry into or exit from a zone, confirmed by hysteresis.
    Zone(ZoneTransition),
    /// A port call changed phase; carries the whole call record for upserts.
    PortCall(PortCallUpdate),
    /// Something an operator should look at.
    Anomaly(Anomaly),
    /// A weather limit was crossed, or the condition cleared.
    Weather(WeatherAlert),
}

/// Entry or exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The vessel entered the zone.
    Entered,
    /// The vessel left the zone.
    Exited,
}

/// A confirmed zone entry or exit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneTransition {
    /// The vessel.
    pub mmsi: u32,
    /// The zone.
    pub zone: ZoneId,
    /// Entered or exited.
    pub direction: Direction,
    /// Event time of the first fix on the new side of the boundary (not the
    /// fix that confirmed it).
    pub at: DateTime<Utc>,
    /// For exits: how long the vessel was inside.
    pub stay_s: Option<i64>,
}

/// A port call's phase change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortCallUpdate {
    /// What just happened.
    pub phase: CallPhase,
    /// The call as it stands after it.
    pub call: PortCall,
}

/// Port call phases, in lifecycle order (anchoring is optional, and a call
/// may berth more than once when the vessel shifts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallPhase {
    /// Entered the port limits: the call opens.
    Arrived,
    /// Anchored (inside an anchorage, or stopped long elsewhere).
    Anchored,
    /// Weighed anchor; `waiting_time_s` grew.
    WaitEnded,
    /// Moored at a berth.
    Berthed,
    /// Left the berth; `service_time_s` grew.
    Unberthed,
    /// Left the port limits: the call closes.
    Departed,
    /// A pilot, tug or mooring crew was recorded on the call.
    Served,
    /// Cargo was recorded on the call.
    Cargo,
}

/// One visit of a vessel to the port, from crossing the port limits inbound
/// to crossing them outbound.
///
/// Its [`id`](PortCall::id) is `"{mmsi}-{arrival as YYYYMMDDTHHMMSSZ}"`:
/// the same input always yields the same id, so a sink upserts on it and
/// replays converge. It is made from those two fields when asked for, and
/// written first when the call is serialized, as when it was a field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PortCall {
    /// The vessel.
    pub mmsi: u32,
    /// First fix inside the port limits.
    pub arrived_at: DateTime<Utc>,
    /// False when the vessel was already inside at its first fix: the
    /// arrival time is then only when tracking began.
    pub arrival_observed: bool,
    /// When it first anchored during this call.
    pub anchored_at: Option<DateTime<Utc>>,
    /// Completed time at anchor, seconds (stopped → weighed anchor).
    pub waiting_time_s: i64,
    /// The berth it (last) moored at.
    pub berth: Option<Box<str>>,
    /// When it first moored.
    pub berthed_at: Option<DateTime<Utc>>,
    /// When it last left a berth.
    pub unberthed_at: Option<DateTime<Utc>>,
    /// Completed time alongside, seconds (stopped at the berth → moving again).
    pub service_time_s: i64,
    /// When it left the port limits.
    pub departed_at: Option<DateTime<Utc>>,
    /// TEU loaded during the call.
    pub teu_loaded: u64,
    /// TEU discharged during the call.
    pub teu_discharged: u64,
    /// Pilots, tugs and mooring crews that served the call, by event time.
    /// A `ThinVec` (8 bytes inline, not 24): with the id no longer stored,
    /// that puts a call in the 128-byte size class instead of 160.
    pub services: ThinVec<Service>,
}

impl PortCall {
    /// A call opened at `arrived_at`, nothing else known yet; its id is
    /// `"{mmsi}-{arrival as YYYYMMDDTHHMMSSZ}"`.
    pub fn open(mmsi: u32, arrived_at: DateTime<Utc>, arrival_observed: bool) -> PortCall {
        PortCall {
            mmsi,
            arrived_at,
            arrival_observed,
            anchored_at: None,
            waiting_time_s: 0,
            berth: None,
            berthed_at: None,
            unberthed_at: None,
            service_time_s: 0,
            departed_at: None,
            teu_loaded: 0,
            teu_discharged: 0,
            services: ThinVec::new(),
        }
    }

    /// The call's stable id, `"{mmsi}-{arrival as YYYYMMDDTHHMMSSZ}"`.
    pub fn id(&self) -> CallId {
        CallId::new(self.mmsi, self.arrived_at)
    }
}

impl PortCall {
    /// Writes the call, every field as it is declared and its id first,
    /// with its times as `time` makes them and `services` for its
    /// services: the output's form and the checkpoint's (`ser.rs`) differ
    /// only there.
    pub(crate) fn serialize_as<S: Serializer, T: Serialize>(
        &self,
        s: S,
        time: impl Fn(DateTime<Utc>) -> T,
        services: &impl Serialize,
    ) -> Result<S::Ok, S::Error> {
        let PortCall {
            mmsi,
            arrived_at,
            arrival_observed,
            anchored_at,
            waiting_time_s,
            berth,
            berthed_at,
            unberthed_at,
            service_time_s,
            departed_at,
            teu_loaded,
            teu_discharged,
            services: _,
        } = self;
        let mut st = s.serialize_struct("PortCall", 14)?;
        st.serialize_field("id", &self.id())?;
        st.serialize_field("mmsi", mmsi)?;
        st.serialize_field("arrived_at", &time(*arrived_at))?;
        st.serialize_field("arrival_observed", arrival_observed)?;
        st.serialize_field("anchored_at", &anchored_at.map(&time))?;
        st.serialize_field("waiting_time_s", waiting_time_s)?;
        st.serialize_field("berth", berth)?;
        st.serialize_field("berthed_at", &berthed_at.map(&time))?;
        st.serialize_field("unberthed_at", &unberthed_at.map(&time))?;
        st.serialize_field("service_time_s", service_time_s)?;
        st.serialize_field("departed_at", &departed_at.map(&time))?;
        st.serialize_field("teu_loaded", teu_loaded)?;
        st.serialize_field("teu_discharged", teu_discharged)?;
        st.serialize_field("services", services)?;
        st.end()
    }
}

// By hand, for the id, which is not a field.
impl Serialize for PortCall {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.serialize_as(s, |t| t, &self.services)
    }
}

/// A port service delivered during a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// `Box<str>`s (16 bytes inline, not 24): a service is 64 bytes, not 88,
// and a call keeps its services in a list grown one at a time.
pub struct Service {
    /// The operator's event id.
    pub event_id: Box<str>,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: PortOpsKind,
    /// Who: pilot id, tug name, crew id.
    pub resource: Box<str>,
    /// The berth named by the event, if any.
    pub berth: Option<Box<str>>,
}

/// An anomaly about one vessel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// The vessel.
    pub mmsi: u32,
    /// Event time the anomaly was established.
    pub at: DateTime<Utc>,
    /// The zone concerned, if any.
    pub zone: Option<ZoneId>,
    /// What.
    pub kind: AnomalyKind,
}

/// Kinds of anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnomalyKind {
    /// The vessel reappeared after a silence longer than its reporting
    /// interval allows, having been inside the port limits.
    DarkPeriod {
        /// Last fix before the silence.
        last_seen: DateTime<Utc>,
        /// Length of the silence, seconds.
        silent_s: i64,
    },
    /// [`Port::tick`](crate::Port::tick) found the vessel silent for longer
    /// than allowed (it has not reappeared yet).
    WentSilent {
        /// Last fix.
        last_seen: DateTime<Utc>,
    },
    /// Smoothed speed above a zone's limit.
    Speeding {
        /// Smoothed speed, knots.
        speed_kn: f32,
        /// The zone's limit, knots.
        limit_kn: f32,
    },
    /// Stopped in an approach channel for too long.
    StoppedInChannel {
        /// When it stopped.
        since: DateTime<Utc>,
    },
    /// A vessel carrying dangerous goods is in a restricted zone: dated from
    /// its entry when its ship type declares the hazard, else from the
    /// cargo event or report that revealed it inside.
    HazardousInRestricted {
        /// IMDG classes loaded on board (from cargo events), sorted.
        imdg_classes: Vec<String>,
        /// AIS ship type, when it declares a hazardous category.
        shiptype: Option<u8>,
    },
}

/// A weather condition crossing an operational limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherAlert {
    /// The zone.
    pub zone: ZoneId,
    /// The station that reported it.
    pub station: String,
    /// Observation time.
    pub at: DateTime<Utc>,
    /// Which limit.
    pub kind: WeatherAlertKind,
    /// The observed value (knots or nautical miles).
    pub value: f32,
    /// The limit.
    pub limit: f32,
    /// True when the condition starts, false when it clears.
    pub raised: bool,
}

/// Weather limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WeatherAlertKind {
    /// Gusts above the crane operating limit.
    GustAboveCraneLimit,
    /// Visibility below the safe-departure limit.
    VisibilityBelowDepartureLimit,
}

/// What [`Port::process`](crate::Port::process) did with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Processed {
    /// The event advanced the state.
    Applied,
    /// A position with the same event time as the vessel's last one, or a
    /// cargo/ops event whose id was seen: nothing changed.
    Duplicate,
    /// A position older than the vessel's last one: kept in the track only.
    Late,
    /// A position implying an impossible speed: rejected.
    Outlier,
    /// Nothing to apply it to (a weather observation outside every zone and
    /// naming no known zone).
    Ignored,
}
