//! The port-call lifecycle, in one place.
//!
//! [`CallStage`] owns everything about a call's lifecycle that more than one
//! component relies on:
//!
//! * the stages and their order ([`CallStage::ALL`], [`CallStage::rank`]);
//! * their stable names ([`CallStage::name`], equal to [`CallPhase`]'s serde
//!   names), stored by the sinks;
//! * the legal transitions ([`CallStage::successors`], [`CallStage::can_follow`]);
//! * which [`PortCall`] field each stage stamps, and how
//!   ([`CallStage::stamp`], [`CallStage::field`]);
//! * which fields are forward-only and how two versions of one call merge
//!   ([`CallStage::FORWARD_ONLY`], [`FieldRule`]).
//!
//! The route state machine stamps calls through it; the sinks take a row's
//! phase name and rank from it; `sinks/sql/merge_port_calls.sql` and the
//! `port_calls` table are checked against it by the sinks' tests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::output::{CallPhase, PortCall};

/// A stage of a port call's lifecycle, in order: arrived → (anchored → wait
/// ended)* → (berthed → unberthed)* → departed, where anchoring is optional
/// and a vessel may anchor or shift berths more than once.
///
/// [`CallPhase`] is what an update reports; its `Served` and `Cargo` change a
/// call without moving it through the lifecycle, so they have no stage.
///
/// ```
/// use porttrack_processors::{CallPhase, CallStage};
///
/// let stage = CallStage::of_phase(CallPhase::WaitEnded).unwrap();
/// assert_eq!((stage.name(), stage.rank()), ("wait_ended", 2));
/// assert!(CallStage::Berthed.can_follow(stage));
/// assert_eq!(CallStage::of_phase(CallPhase::Cargo), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStage {
    /// Entered the port limits: the call opens. Stamps `arrived_at`.
    Arrived,
    /// Anchored. Stamps `anchored_at` (the first time only).
    Anchored,
    /// Weighed anchor; `waiting_time_s` grew. Stamps nothing.
    WaitEnded,
    /// Moored at a berth. Stamps `berthed_at` (the first time only).
    Berthed,
    /// Left the berth; `service_time_s` grew. Stamps `unberthed_at` (the latest).
    Unberthed,
    /// Left the port limits: the call closes. Stamps `departed_at`.
    Departed,
}

/// How a forward-only [`PortCall`] field may change, and so how a store
/// merges two versions of one call (whatever order they arrive in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldRule {
    /// Set when the call opens and never changed (SQL: not updated).
    Fixed,
    /// A time set once, then never cleared or moved later: the earliest
    /// known wins (SQL: `least`, which ignores NULLs).
    Earliest,
    /// A time never cleared or moved back: the latest known wins (SQL:
    /// `greatest`, which ignores NULLs).
    Latest,
    /// A total that only grows (SQL: `greatest`).
    Growing,
    /// A flag that, once set, stays set (SQL: `OR`).
    Sticky,
}

impl CallStage {
    /// Every stage, in lifecycle order (index = [`rank`](Self::rank)).
    pub const ALL: [CallStage; 6] = [
        CallStage::Arrived,
        CallStage::Anchored,
        CallStage::WaitEnded,
        CallStage::Berthed,
        CallStage::Unberthed,
        CallStage::Departed,
    ];

    /// The forward-only fields of a [`PortCall`] (by field name, which is
    /// also the `port_calls` column name) and their rules. The fields not
    /// listed (`berth`, `services`, and the row's phase) follow the version
    /// with the most progress.
    pub const FORWARD_ONLY: [(&'static str, FieldRule); 10] = [
        ("arrived_at", FieldRule::Fixed),
        ("arrival_observed", FieldRule::Sticky),
        ("anchored_at", FieldRule::Earliest),
        ("waiting_time_s", FieldRule::Growing),
        ("berthed_at", FieldRule::Earliest),
        ("unberthed_at", FieldRule::Latest),
        ("service_time_s", FieldRule::Growing),
        ("departed_at", FieldRule::Latest),
        ("teu_loaded", FieldRule::Growing),
        ("teu_discharged", FieldRule::Growing),
    ];

    /// Position in the lifecycle: `Arrived` 0 … `Departed` 5. Stored as the
    /// `phase_rank` smallint; a later stage always has a higher rank.
    pub const fn rank(self) -> i16 {
        match self {
            CallStage::Arrived => 0,
            CallStage::Anchored => 1,
            CallStage::WaitEnded => 2,
            CallStage::Berthed => 3,
            CallStage::Unberthed => 4,
            CallStage::Departed => 5,
        }
    }

    /// The stable name sinks store (`arrived`, `anchored`, `wait_ended`,
    /// `berthed`, `unberthed`, `departed`): the serde name of the stage and
    /// of its [`CallPhase`].
    pub const fn name(self) -> &'static str {
        match self {
            CallStage::Arrived => "arrived",
            CallStage::Anchored => "anchored",
            CallStage::WaitEnded => "wait_ended",
            CallStage::Berthed => "berthed",
            CallStage::Unberthed => "unberthed",
            CallStage::Departed => "departed",
        }
    }

    /// The stage named `name` (see [`name`](Self::name)).
    pub fn from_name(name: &str) -> Option<CallStage> {
        CallStage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stage a phase update reports; `None` for `Served` and `Cargo`
    /// (and any phase that is not a lifecycle step).
    pub const fn of_phase(phase: CallPhase) -> Option<CallStage> {
        Some(match phase {
            CallPhase::Arrived => CallStage::Arrived,
            CallPhase::Anchored => CallStage::Anchored,
            CallPhase::WaitEnded => CallStage::WaitEnded,
            CallPhase::Berthed => CallStage::Berthed,
            CallPhase::Unberthed => CallStage::Unberthed,
            CallPhase::Departed => CallStage::Departed,
            CallPhase::Served | CallPhase::Cargo => return None,
        })
    }

    /// The phase an update reaching this stage reports.
    pub const fn phase(self) -> CallPhase {
        match self {
            CallStage::Arrived => CallPhase::Arrived,
            CallStage::Anchored => CallPhase::Anchored,
            CallStage::WaitEnded => CallPhase::WaitEnded,
            CallStage::Berthed => CallPhase::Berthed,
            CallStage::Unberthed => CallPhase::Unberthed,
            CallStage::Departed => CallPhase::Departed,
        }
    }

    /// The stages that may be reported next on the same call.
    ///
    /// Stages follow the vessel's movement: anchoring ends in `WaitEnded`,
    /// mooring in `Unberthed`, and leaving the port limits (`Departed`, the
    /// end) may interrupt any stage. Right after `Arrived` the movement may
    /// still be the one the vessel had before the call opened (it anchored
    /// or moored just outside the limits), so the end of that stop may come
    /// next.
    pub const fn successors(self) -> &'static [CallStage] {
        use CallStage::{Anchored, Berthed, Departed, Unberthed, WaitEnded};
        match self {
            CallStage::Arrived => &[Anchored, WaitEnded, Berthed, Unberthed, Departed],
            CallStage::Anchored => &[WaitEnded, Departed],
            CallStage::WaitEnded => &[Anchored, Berthed, Departed],
            CallStage::Berthed => &[Unberthed, Departed],
            CallStage::Unberthed => &[Anchored, Berthed, Departed],
            CallStage::Departed => &[],
        }
    }

    /// Whether this stage may be reported right after `previous` on the same call.
    pub fn can_follow(self, previous: CallStage) -> bool {
        previous.successors().contains(&self)
    }

    /// The [`PortCall`] time field this stage stamps and its rule (`None`
    /// for `WaitEnded`, which stamps nothing).
    pub const fn field(self) -> Option<(&'static str, FieldRule)> {
        match self {
            CallStage::Arrived => Some(("arrived_at", FieldRule::Fixed)),
            CallStage::Anchored => Some(("anchored_at", FieldRule::Earliest)),
            CallStage::WaitEnded => None,
            CallStage::Berthed => Some(("berthed_at", FieldRule::Earliest)),
            CallStage::Unberthed => Some(("unberthed_at", FieldRule::Latest)),
            CallStage::Departed => Some(("departed_at", FieldRule::Latest)),
        }
    }

    /// Records reaching this stage at `at` on `call`, by the stage's
    /// [`field`](Self::field) rule: `Earliest` fields are set the first time
    /// only, `Latest` ones every time (the route state machine advances in
    /// event-time order, so that is the latest). `Arrived` is dated when the
    /// call is created and `WaitEnded` stamps nothing: both leave `call` as
    /// it is.
    pub fn stamp(self, call: &mut PortCall, at: DateTime<Utc>) {
        match self {
            CallStage::Arrived | CallStage::WaitEnded => {}
            CallStage::Anchored => {
                call.anchored_at.get_or_insert(at);
            }
            CallStage::Berthed => {
                call.berthed_at.get_or_insert(at);
            }
            CallStage::Unberthed => call.unberthed_at = Some(at),
            CallStage::Departed => call.departed_at = Some(at),
        }
    }

    /// The time this stage stamped on `call`, if it has been reached.
    pub fn stamped(self, call: &PortCall) -> Option<DateTime<Utc>> {
        match self {
            CallStage::Arrived => Some(call.arrived_at),
            CallStage::Anchored => call.anchored_at,
            CallStage::WaitEnded => None,
            CallStage::Berthed => call.berthed_at,
            CallStage::Unberthed => call.unberthed_at,
            CallStage::Departed => call.departed_at,
        }
    }

    /// The most advanced stage `call`'s fields show, for updates that carry
    /// no stage (services, cargo): the latest stage whose time is stamped,
    /// and `WaitEnded`, which stamps nothing, for a call last stamped
    /// `Anchored` whose wait has been counted (`waiting_time_s` grows when
    /// the ship weighs anchor).
    ///
    /// Without that second rule a pilot boarding after the wait ended
    /// reported `Anchored` with a newer event time than the `wait_ended`
    /// update, and undid it where stored, or not, depending on whether the
    /// operations topic's record was processed before or after the
    /// positions showing the ship under way: the chaos drill's faulty and
    /// clean runs disagreed on exactly that.
    pub fn implied_by(call: &PortCall) -> CallStage {
        let stamped = CallStage::ALL
            .into_iter()
            .rev()
            .find(|s| s.stamped(call).is_some())
            .unwrap_or(CallStage::Arrived);
        if stamped == CallStage::Anchored && call.waiting_time_s > 0 { CallStage::WaitEnded } else { stamped }
    }
}

impl CallPhase {
    /// The lifecycle stage this phase reports (see [`CallStage::of_phase`]).
    pub const fn stage(self) -> Option<CallStage> {
        CallStage::of_phase(self)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn call() -> PortCall {
        PortCall::open(1, Utc.timestamp_opt(1_000, 0).unwrap(), true)
    }

    #[test]
    fn a_service_after_the_wait_ended_implies_wait_ended_not_anchored() {
        let mut c = call();
        CallStage::Anchored.stamp(&mut c, Utc.timestamp_opt(2_000, 0).unwrap());
        assert_eq!(CallStage::implied_by(&c), CallStage::Anchored, "still waiting");
        c.waiting_time_s = 600;
        assert_eq!(CallStage::implied_by(&c), CallStage::WaitEnded, "the wait was counted: it ended");
        CallStage::Berthed.stamp(&mut c, Utc.timestamp_opt(4_000, 0).unwrap());
        assert_eq!(CallStage::implied_by(&c), CallStage::Berthed);
    }

    #[test]
    fn order_names_and_phases_agree() {
        for (i, stage) in CallStage::ALL.into_iter().enumerate() {
            assert_eq!(usize::try_from(stage.rank()).ok(), Some(i));
            assert_eq!(CallStage::from_name(stage.name()), Some(stage));
            assert_eq!(CallStage::of_phase(stage.phase()), Some(stage));
            assert_eq!(stage.phase().stage(), Some(stage));
            // The stored names are the serde names, of the stage and of the phase.
            let name = serde_json::Value::String(stage.name().to_owned());
            assert_eq!(serde_json::to_value(stage).unwrap(), name);
            assert_eq!(serde_json::to_value(stage.phase()).unwrap(), name);
        }
        assert!(CallStage::ALL.is_sorted());
        assert_eq!(CallStage::of_phase(CallPhase::Served), None);
        assert_eq!(CallStage::of_phase(CallPhase::Cargo), None);
        assert_eq!(CallStage::from_name("served"), None);
    }

    #[test]
    fn transitions_only_go_forward_except_anchoring_and_shifting_again() {
        for stage in CallStage::ALL {
            assert!(!CallStage::Arrived.can_follow(stage), "nothing precedes arrival");
            assert!(stage == CallStage::Departed || CallStage::Departed.can_follow(stage));
            for next in stage.successors() {
                // Going back is only anchoring or berthing again after a stop ended.
                assert!(
                    next > &stage
                        || matches!(
                            (stage, next),
                            (
                                CallStage::WaitEnded | CallStage::Unberthed,
                                CallStage::Anchored | CallStage::Berthed
                            )
                        ),
                    "{stage:?} -> {next:?}"
                );
            }
        }
        assert!(CallStage::Departed.successors().is_empty());
    }

    #[test]
    fn stamps_follow_the_field_rules() {
        let (t1, t2) = (Utc.timestamp_opt(2_000, 0).unwrap(), Utc.timestamp_opt(3_000, 0).unwrap());
        for stage in CallStage::ALL {
            let mut c = call();
            stage.stamp(&mut c, t1);
            stage.stamp(&mut c, t2);
            let expected = match stage.field() {
                None => None,
                Some((_, FieldRule::Fixed)) => Some(c.arrived_at),
                Some((_, FieldRule::Earliest)) => Some(t1),
                Some((_, FieldRule::Latest)) => Some(t2),
                Some((name, rule)) => panic!("{name}: a stage stamps a time, not {rule:?}"),
            };
            assert_eq!(stage.stamped(&c), expected, "{stage:?}");
            if let Some(field) = stage.field() {
                assert!(CallStage::FORWARD_ONLY.contains(&field), "{field:?}");
            }
            if stage != CallStage::WaitEnded {
                assert_eq!(CallStage::implied_by(&c), stage, "{stage:?} alone");
            }
        }
        // Every listed field is a PortCall field.
        let fields = serde_json::to_value(call()).unwrap();
        for (name, _) in CallStage::FORWARD_ONLY {
            assert!(fields.get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn implied_stage_is_the_latest_stamped() {
        let t = Utc.timestamp_opt(2_000, 0).unwrap();
        let mut c = call();
        assert_eq!(CallStage::implied_by(&c), CallStage::Arrived);
        CallStage::Anchored.stamp(&mut c, t);
        assert_eq!(CallStage::implied_by(&c), CallStage::Anchored);
        CallStage::WaitEnded.stamp(&mut c, t);
        assert_eq!(CallStage::implied_by(&c), CallStage::Anchored);
        CallStage::Berthed.stamp(&mut c, t);
        CallStage::Unberthed.stamp(&mut c, t);
        assert_eq!(CallStage::implied_by(&c), CallStage::Unberthed);
        CallStage::Departed.stamp(&mut c, t);
        assert_eq!(CallStage::implied_by(&c), CallStage::Departed);
    }
}
