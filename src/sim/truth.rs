//! Ground truth and noise: what the simulated vessels really did, and how
//! badly their AIS reports it.
//!
//! The simulator moves every ship along exact legs, so it knows each phase of
//! a port call to the millisecond: crossing the port limits inbound (found by
//! bisecting the leg that crosses the boundary of the `port_limits` zone of
//! the processor's own geography), reaching the anchoring spot, weighing
//! anchor, arriving at the berth, casting off, crossing the limits outbound.
//! [`CallTruth`] is that record, one per visit; [`Simulator::truth`] returns
//! them when the simulator was built [`with_truth`](Simulator::with_truth).
//!
//! [`Noise`] is what real AIS does to those reports, off by default (the
//! default stream is unchanged for a seed) and [`Noise::realistic`] for the
//! scored run (`sim::score`): lost reports, dark spells, GPS jumps, more
//! class B transponders, ships anchoring outside the charted anchorages,
//! berth shifts and aborted approaches. Every draw comes from the noise's
//! own random generator, seeded from the simulation's seed, so switching
//! noise on never changes which ships the simulation spawns.
//!
//! [`Simulator::truth`]: super::Simulator::truth
//! [`Simulator`]: super::Simulator

use chrono::{DateTime, Utc};

/// One visit of a simulated vessel to the port, as it really happened.
///
/// Times are when the vessel *did* it (not when a report showed it). A
/// berth shift keeps the call open: `berthed_at` is the first berthing,
/// `unberthed_at` the last casting-off, `service_s` the sum of the stays and
/// `berth` the last berth; likewise `anchored_at`/`wait_end`/`waiting_s` for
/// anchoring.
#[derive(Debug, Clone, PartialEq)]
pub struct CallTruth {
    /// The vessel.
    pub mmsi: u32,
    /// Crossed the port limits inbound; `None` when the vessel was already
    /// inside when the simulation started (the arrival is unknown).
    pub arrived_at: Option<DateTime<Utc>>,
    /// Dropped anchor (first time in the call).
    pub anchored_at: Option<DateTime<Utc>>,
    /// Weighed anchor (last time in the call).
    pub wait_end: Option<DateTime<Utc>>,
    /// Total time at anchor, seconds.
    pub waiting_s: i64,
    /// Made fast at a berth (first time in the call).
    pub berthed_at: Option<DateTime<Utc>>,
    /// The berth (zone name) of the last stay.
    pub berth: Option<String>,
    /// Cast off (last time in the call).
    pub unberthed_at: Option<DateTime<Utc>>,
    /// Total time alongside, seconds.
    pub service_s: i64,
    /// Crossed the port limits outbound; `None` while still inside.
    pub departed_at: Option<DateTime<Utc>>,
    /// The vessel turned back without anchoring or berthing: not a port call.
    pub aborted: bool,
    /// Berth shifts during the call.
    pub berth_shifts: u32,
    /// It anchored outside the charted anchorages.
    pub anchored_outside: bool,
    /// Dark spells (no reports for minutes to hours) during the call.
    pub dark_spells: u32,
    /// GPS jumps (bursts of displaced positions) during the call.
    pub gps_jumps: u32,
}

impl CallTruth {
    pub(super) fn open(mmsi: u32, arrived_at: Option<DateTime<Utc>>, aborted: bool) -> CallTruth {
        CallTruth {
            mmsi,
            arrived_at,
            anchored_at: None,
            wait_end: None,
            waiting_s: 0,
            berthed_at: None,
            berth: None,
            unberthed_at: None,
            service_s: 0,
            departed_at: None,
            aborted,
            berth_shifts: 0,
            anchored_outside: false,
            dark_spells: 0,
            gps_jumps: 0,
        }
    }

    /// Whether the whole visit is known: arrival and departure both fell
    /// inside the simulated time.
    pub fn complete(&self) -> bool {
        self.arrived_at.is_some() && self.departed_at.is_some()
    }
}

/// What real AIS reception does to the reports, and the traffic that makes
/// port-call inference hard. Probabilities are per report unless stated.
#[derive(Debug, Clone, PartialEq)]
pub struct Noise {
    /// A report is lost (slot collision, out of range for one report).
    pub dropout: f64,
    /// Dark spells per hour of a vessel's life: reports stop for a spell of
    /// [`dark_minutes`](Self::dark_minutes) (transponder off, shadowed by a
    /// quay crane, receiver outage).
    pub dark_per_hour: f64,
    /// Length of a dark spell, minutes (uniform).
    pub dark_minutes: (f64, f64),
    /// A report starts a GPS jump: 1–3 consecutive positions displaced by
    /// [`jump_nm`](Self::jump_nm) in one direction (speed and course stay as
    /// the vessel reports them).
    pub gps_jump: f64,
    /// Displacement of a GPS jump, nautical miles (uniform).
    pub jump_nm: (f64, f64),
    /// Extra jitter on every reporting interval: the nominal interval is
    /// scaled by a factor uniform in `1 ± interval_jitter`.
    pub interval_jitter: f64,
    /// Share of class B transponders, replacing the default 10%; `None`
    /// keeps the default.
    pub class_b: Option<f64>,
    /// Share of anchorings at a spot inside the port limits but outside
    /// every anchorage zone.
    pub anchor_outside: f64,
    /// Share of stays alongside that end in a shift to another berth (at
    /// most one per call).
    pub berth_shift: f64,
    /// Share of arrivals that cross the port limits and turn back to sea
    /// without anchoring or berthing.
    pub aborted_approach: f64,
}

impl Default for Noise {
    /// No noise: the simulator's stream is exactly what it was without it.
    fn default() -> Self {
        Noise {
            dropout: 0.0,
            dark_per_hour: 0.0,
            dark_minutes: (10.0, 120.0),
            gps_jump: 0.0,
            jump_nm: (0.3, 5.0),
            interval_jitter: 0.0,
            class_b: None,
            anchor_outside: 0.0,
            berth_shift: 0.0,
            aborted_approach: 0.0,
        }
    }
}

impl Noise {
    /// No noise (the default).
    pub fn none() -> Noise {
        Noise::default()
    }

    /// The scored run's noise, roughly what a shore receiver near a busy
    /// port sees: 5% of reports lost, a dark spell of 10–120 min every 50
    /// vessel-hours or so (about a third of calls have one), a GPS jump
    /// every 2,000 reports, intervals ±30% off nominal, 20% class B,
    /// and among the calls 15% anchoring outside the anchorages, 10% berth
    /// shifts and 5% aborted approaches.
    pub fn realistic() -> Noise {
        Noise {
            dropout: 0.05,
            dark_per_hour: 0.02,
            dark_minutes: (10.0, 120.0),
            gps_jump: 0.0005,
            jump_nm: (0.3, 5.0),
            interval_jitter: 0.3,
            class_b: Some(0.2),
            anchor_outside: 0.15,
            berth_shift: 0.10,
            aborted_approach: 0.05,
        }
    }

    pub(super) fn is_off(&self) -> bool {
        *self == Noise::default()
    }
}
