//! The parts of a route that most vessels never use, kept out of line.
//!
//! A route is kept per tracked vessel, a million of them at global scale,
//! and most of them are ships at sea: they never load dangerous goods,
//! speed in a limited zone, enter a restricted one or stop in the channel,
//! have not left the port after a call this instance saw, and are neither
//! at anchor nor alongside. The fields for those states took 113 bytes of
//! every route; in two boxes ([`Rare`], [`Dwell`]) they take 16 (null
//! pointers) until a vessel needs one. With its two short lists as
//! `ThinVec`s (32 bytes less) and the old checkpoints' `track` read into
//! the fix times as the route is read (8 less), that took the route from
//! the 384-byte to the 256-byte jemalloc size class (`tests/memory.rs`).
//!
//! Checkpoints are unchanged in content: a [`ColdBox`] writes every field
//! of its parts, their defaults when there is no box, flattened into the
//! route's object (`#[serde(flatten)]` on the route), so releases that read
//! the route's fields by name read them as before. They are read back with
//! the rest of the route by [`super::read`].

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::Deferred;
use crate::geography::ZoneSet;
use crate::output::{PortCall, Service};

/// Parts of a route kept in a [`ColdBox`]: what they are when unset.
pub(super) trait ColdParts: PartialEq + Serialize + Sized + 'static {
    /// Nothing set: what a route without the box reads as.
    fn empty() -> &'static Self;
}

/// Events most vessels never meet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct Rare {
    /// The last closed port call (late services still attach to it).
    #[serde(with = "crate::ser::call_opt")]
    pub(super) last_call: Option<Box<PortCall>>,
    /// IMDG classes loaded (sorted, unique).
    pub(super) imdg_classes: Vec<String>,
    /// Zones where speeding was reported, until the vessel leaves them.
    pub(super) speeding_reported: ZoneSet,
    /// Restricted zones whose entry was reported, until the vessel leaves them.
    pub(super) restricted_reported: ZoneSet,
    /// A stop in the channel was reported; cleared when the vessel moves on.
    pub(super) channel_stop_reported: bool,
    /// Services recorded outside a call, waiting for one to open.
    #[serde(serialize_with = "crate::ser::services::serialize")]
    pub(super) unattached_services: Vec<Service>,
    /// Operations and cargo events held for the vessel's fixes to reach
    /// them ([`Deferred`]). Not written when none, so checkpoints without
    /// any are unchanged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) deferred: Vec<Deferred>,
}

impl Rare {
    pub(super) const EMPTY: Rare = Rare {
        last_call: None,
        imdg_classes: Vec::new(),
        speeding_reported: ZoneSet::EMPTY,
        restricted_reported: ZoneSet::EMPTY,
        channel_stop_reported: false,
        unattached_services: Vec::new(),
        deferred: Vec::new(),
    };
}

static RARE_EMPTY: Rare = Rare::EMPTY;

impl ColdParts for Rare {
    fn empty() -> &'static Rare {
        &RARE_EMPTY
    }
}

/// A stay at anchor or alongside: where and since when. Most tracked
/// vessels are under way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct Dwell {
    /// Zones the vessel was in when it anchored (its wait counts there).
    pub(super) anchored_in: ZoneSet,
    /// Start of the current anchorage wait (the stop's first fix).
    #[serde(with = "crate::ser::opt")]
    pub(super) anchored_since: Option<DateTime<Utc>>,
    /// Start of the current stay alongside (the stop's first fix).
    #[serde(with = "crate::ser::opt")]
    pub(super) moored_since: Option<DateTime<Utc>>,
}

impl Dwell {
    pub(super) const EMPTY: Dwell =
        Dwell { anchored_in: ZoneSet::EMPTY, anchored_since: None, moored_since: None };
}

static DWELL_EMPTY: Dwell = Dwell::EMPTY;

impl ColdParts for Dwell {
    fn empty() -> &'static Dwell {
        &DWELL_EMPTY
    }
}

/// A route's cold parts `T`: no box until one is set, and none again once
/// they are all unset.
///
/// Equality is by content: a route whose box holds nothing equals one
/// without a box (a restored route gets a box only when its checkpoint
/// holds something in it).
#[derive(Debug, Clone)]
pub(super) struct ColdBox<T>(Option<Box<T>>);

impl<T> Default for ColdBox<T> {
    fn default() -> ColdBox<T> {
        ColdBox(None)
    }
}

impl<T: ColdParts> ColdBox<T> {
    /// A box for `parts`, allocated only when they hold something.
    pub(super) fn new(parts: T) -> ColdBox<T> {
        ColdBox((parts != *T::empty()).then(|| Box::new(parts)))
    }

    /// The parts, [`ColdParts::empty`] when there is no box.
    pub(super) fn get(&self) -> &T {
        self.0.as_deref().unwrap_or(T::empty())
    }

    /// The parts to change, if the vessel has a box.
    pub(super) fn get_mut(&mut self) -> Option<&mut T> {
        self.0.as_deref_mut()
    }

    /// Changes the parts with `f` if the vessel has a box (clearing has
    /// nothing to do without one), then drops the box if nothing is left
    /// in it.
    pub(super) fn clear<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let out = f(self.0.as_deref_mut()?);
        self.tidy();
        Some(out)
    }

    /// Drops the box once nothing is left in it (the last held event
    /// applied, the reported zones left, the stay over): a vessel that
    /// needed it once does not keep paying for it.
    pub(super) fn tidy(&mut self) {
        if self.0.as_deref() == Some(T::empty()) {
            self.0 = None;
        }
    }
}

impl<T: ColdParts + Clone> ColdBox<T> {
    /// The parts to change, boxed on first use.
    pub(super) fn make_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(|| Box::new(T::empty().clone()))
    }
}

impl<T: ColdParts> PartialEq for ColdBox<T> {
    fn eq(&self, other: &ColdBox<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: ColdParts> Serialize for ColdBox<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use porttrack_schemas::{CargoEvent, CargoOperation, Event, Origin, Position, Sourced};

    use super::*;
    use crate::geography::ZoneKind;
    use crate::route::Movement;
    use crate::{Geography, Port, PortConfig};

    #[test]
    fn a_route_without_the_box_equals_one_with_an_empty_box() {
        let mut boxed = ColdBox(Some(Box::new(Rare::EMPTY)));
        assert_eq!(boxed, ColdBox::<Rare>::default());
        assert_eq!(ColdBox::new(Rare::EMPTY).0, None, "nothing rare, no box");
        boxed.tidy();
        assert_eq!(boxed.0, None);
        let mut set = ColdBox::<Rare>::default();
        set.make_mut().channel_stop_reported = true;
        set.tidy();
        assert!(set.0.is_some() && set != ColdBox::<Rare>::default());
    }

    fn process(port: &Port, offset: i64, event: Event) {
        let origin = Origin::new("t", 0, offset);
        port.process(&Sourced { origin, event }, &mut Vec::new());
    }

    fn fix(t: DateTime<Utc>, (lat, lon): (f64, f64), sog: f32) -> Event {
        Event::Position(Position {
            mmsi: 244_000_001,
            timestamp: t,
            lat,
            lon,
            sog: Some(sog),
            cog: None,
            heading: None,
            nav_status: None,
        })
    }

    fn at_sea(t: DateTime<Utc>) -> Event {
        fix(t, (52.1, 3.6), 12.0)
    }

    /// Every berthed vessel in the memory bench had its cargo events held
    /// for a fix to reach them; the box they were held in must go with them.
    #[test]
    fn held_events_leave_no_box_once_applied() {
        let port = Port::new(Geography::rotterdam(), PortConfig::default());
        let boxed = || port.with_vessel_ref(244_000_001, |v| v.rare.0.is_some()).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
        process(&port, 0, at_sea(t));
        assert!(!boxed());
        let cargo = CargoEvent {
            event_id: "cargo-1".into(),
            timestamp: t + Duration::seconds(30),
            mmsi: 244_000_001,
            voyage: None,
            berth: "Botlek".into(),
            operation: CargoOperation::Discharge,
            containers: 10,
            teu: 15,
            imdg_class: None,
        };
        process(&port, 1, Event::Cargo(Box::new(cargo)));
        assert!(boxed(), "held until a fix reaches its time");
        process(&port, 2, at_sea(t + Duration::seconds(60)));
        assert!(!boxed(), "applied, and nothing else rare");
        assert_eq!(port.with_vessel_ref(244_000_001, |v| v.teu_on_board_change).unwrap(), -15);
    }

    /// The stay's box goes when the vessel weighs anchor.
    #[test]
    fn a_stay_leaves_no_box_once_over() {
        let geo = Geography::rotterdam();
        let anchorage = geo.zone(geo.of_kind(ZoneKind::Anchorage).first().unwrap()).centroid();
        let port = Port::new(geo, PortConfig::default());
        let dwell = || port.with_vessel_ref(244_000_001, |v| (v.dwell.0.is_some(), v.movement)).unwrap();
        let mut t = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
        let mut offset = 0;
        let mut next = |at, sog| {
            process(&port, offset, fix(t, at, sog));
            offset += 1;
            t += Duration::minutes(3);
        };
        for _ in 0..40 {
            next(anchorage, 0.1);
        }
        assert_eq!(dwell(), (true, Movement::Anchored));
        for _ in 0..5 {
            next(anchorage, 12.0);
        }
        assert_eq!(dwell(), (false, Movement::UnderWay));
    }
}
