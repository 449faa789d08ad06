//! How a route is read back from a checkpoint.
//!
//! The route's `Serialize` is derived on [`VesselRoute`] itself; reading
//! goes through [`RouteIn`], the checkpoint's flat object as every release
//! since version 1 writes it, because the route in memory is not shaped like
//! its checkpoint: its rarely used fields sit in boxes ([`ColdBox`]) and
//! the `track` of whole fixes that older releases wrote is folded into the
//! fix times ([`crate::ser::legacy_track`]). Deriving `Deserialize` on a
//! flattened box would buffer every field of every route through serde's
//! `Content` on each restore; this keeps reading as direct as before.
//!
//! A field added to the route's checkpoint is added here too, with
//! `#[serde(default)]` so older checkpoints still read.
//! `tests/checkpoint_format.rs` reads a version 1 fixture; the test below
//! writes and reads a route with every field set.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use thin_vec::ThinVec;

use super::cold::{ColdBox, Dwell, Rare};
use super::{Deferred, Fix, Movement, Pending, ReportingClass, VesselRoute};
use crate::fix_times::{FixTimes, LegacyTrack, NoTrack};
use crate::geography::{ZoneId, ZoneSet};
use crate::output::{PortCall, Service};
use crate::statics::StaticData;

/// A route as its checkpoint holds it (field docs on [`VesselRoute`]).
#[derive(Deserialize)]
pub(super) struct RouteIn {
    mmsi: u32,
    partition: i32,
    events: u64,
    #[serde(default, with = "crate::ser::opt")]
    last_event_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::ser::opt")]
    first_seen: Option<DateTime<Utc>>,
    last: Option<Fix>,
    smoothed_sog_kn: f32,
    distance_nm: f64,
    #[serde(rename = "track", default, with = "crate::ser::legacy_track")]
    legacy_track: LegacyTrack,
    #[serde(default, with = "crate::ser::fix_times")]
    fix_times: FixTimes,
    zones: ZoneSet,
    #[serde(with = "crate::ser::keyed")]
    zone_entered: ThinVec<(ZoneId, DateTime<Utc>)>,
    pending: ThinVec<Pending>,
    movement: Movement,
    #[serde(default, with = "crate::ser::opt")]
    stopped_since: Option<DateTime<Utc>>,
    anchored_in: ZoneSet,
    #[serde(default, with = "crate::ser::opt")]
    anchored_since: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::ser::opt")]
    moored_since: Option<DateTime<Utc>>,
    class: ReportingClass,
    moving_interval_s: f32,
    statics: Option<Box<StaticData>>,
    #[serde(default, with = "crate::ser::call_opt")]
    call: Option<Box<PortCall>>,
    #[serde(default)]
    call_unconfirmed: bool,
    #[serde(default, with = "crate::ser::call_opt")]
    last_call: Option<Box<PortCall>>,
    teu_on_board_change: i64,
    imdg_classes: Vec<String>,
    assigned_berth: Option<ZoneId>,
    silent_reported: bool,
    seen_outside_port: bool,
    consecutive_outliers: u32,
    speeding_reported: ZoneSet,
    restricted_reported: ZoneSet,
    channel_stop_reported: bool,
    #[serde(with = "crate::ser::ids")]
    recent_ids: ThinVec<Box<str>>,
    #[serde(with = "crate::ser::services")]
    unattached_services: Vec<Service>,
    #[serde(default)]
    deferred: Vec<Deferred>,
}

impl From<RouteIn> for VesselRoute {
    fn from(r: RouteIn) -> VesselRoute {
        // A `track` read from an older checkpoint gives the fix times,
        // unless the checkpoint had its own.
        let fix_times = match r.legacy_track.0 {
            Some(times) if r.fix_times.is_empty() => *times,
            _ => r.fix_times,
        };
        VesselRoute {
            mmsi: r.mmsi,
            partition: r.partition,
            events: r.events,
            last_event_at: r.last_event_at,
            first_seen: r.first_seen,
            last: r.last,
            smoothed_sog_kn: r.smoothed_sog_kn,
            distance_nm: r.distance_nm,
            legacy_track: NoTrack,
            fix_times,
            zones: r.zones,
            zone_entered: r.zone_entered,
            pending: r.pending,
            movement: r.movement,
            stopped_since: r.stopped_since,
            dwell: ColdBox::new(Dwell {
                anchored_in: r.anchored_in,
                anchored_since: r.anchored_since,
                moored_since: r.moored_since,
            }),
            class: r.class,
            moving_interval_s: r.moving_interval_s,
            statics: r.statics,
            call: r.call,
            call_unconfirmed: r.call_unconfirmed,
            teu_on_board_change: r.teu_on_board_change,
            assigned_berth: r.assigned_berth,
            silent_reported: r.silent_reported,
            seen_outside_port: r.seen_outside_port,
            consecutive_outliers: r.consecutive_outliers,
            recent_ids: r.recent_ids,
            rare: ColdBox::new(Rare {
                last_call: r.last_call,
                imdg_classes: r.imdg_classes,
                speeding_reported: r.speeding_reported,
                restricted_reported: r.restricted_reported,
                channel_stop_reported: r.channel_stop_reported,
                unattached_services: r.unattached_services,
                deferred: r.deferred,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use porttrack_schemas::{CargoEvent, CargoOperation, PortOpsKind, VesselStatic};
    use thin_vec::thin_vec;

    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_338_000 + s, 0).unwrap()
    }

    /// A route with every field set, each to a value of its own, reads back
    /// equal: a field of a box read into the wrong place (two zone sets
    /// swapped, a time dropped) fails here. The fixture of
    /// `tests/checkpoint_format.rs` has no held events, services outside a
    /// call, zone candidates, speeding or channel stops.
    #[test]
    fn every_field_reads_back_as_written() {
        let mmsi = 244_000_001;
        let mut r = VesselRoute::new(mmsi, 3);
        r.events = 7;
        r.last_event_at = Some(t(9));
        r.first_seen = Some(t(1));
        r.last =
            Some(Fix { at: t(9), lat: 52.0, lon: 4.0, sog: Some(1.5), cog: Some(90.0), heading: Some(91) });
        r.smoothed_sog_kn = 1.25;
        r.distance_nm = 3.5;
        r.fix_times = FixTimes::from_times([t(8), t(9)]);
        r.zones = ZoneSet(0b1010);
        r.zone_entered = thin_vec![(ZoneId(1), t(2)), (ZoneId(3), t(3))];
        r.pending = thin_vec![Pending { zone: ZoneId(5), fixes: 1, since: t(4) }];
        r.movement = Movement::Anchored;
        r.stopped_since = Some(t(5));
        r.dwell = ColdBox::new(Dwell {
            anchored_in: ZoneSet(0b10),
            anchored_since: Some(t(5)),
            moored_since: Some(t(6)),
        });
        r.class = ReportingClass::B;
        r.moving_interval_s = 30.0;
        let mut statics = StaticData::new(mmsi, t(0));
        statics.apply(&VesselStatic { mmsi, timestamp: t(0), shiptype: Some(84), ..VesselStatic::default() });
        r.statics = Some(Box::new(statics));
        r.call = Some(Box::new(PortCall::open(mmsi, t(2), true)));
        r.call_unconfirmed = true;
        r.teu_on_board_change = -15;
        r.assigned_berth = Some(ZoneId(4));
        r.silent_reported = true;
        r.seen_outside_port = true;
        r.consecutive_outliers = 2;
        r.recent_ids = ThinVec::from_iter([Box::from("a"), Box::from("b")]);
        let service = Service {
            event_id: "pilot-1".into(),
            at: t(3),
            kind: PortOpsKind::PilotBoarded,
            resource: "p".into(),
            berth: None,
        };
        let cargo = CargoEvent {
            event_id: "cargo-1".into(),
            timestamp: t(20),
            mmsi,
            voyage: None,
            berth: "Botlek".into(),
            operation: CargoOperation::Load,
            containers: 10,
            teu: 15,
            imdg_class: Some("3".into()),
        };
        r.rare = ColdBox::new(Rare {
            last_call: Some(Box::new(PortCall::open(mmsi, t(0), false))),
            imdg_classes: vec!["3".into()],
            speeding_reported: ZoneSet(0b100),
            restricted_reported: ZoneSet(0b1000),
            channel_stop_reported: true,
            unattached_services: vec![service],
            deferred: vec![Deferred::Cargo(cargo)],
        });
        let json = serde_json::to_string(&r).unwrap();
        let back: VesselRoute = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        // And nothing set reads back as nothing, without boxes.
        let empty = VesselRoute::new(mmsi, 3);
        let mut back: VesselRoute = serde_json::from_str(&serde_json::to_string(&empty).unwrap()).unwrap();
        assert!(back.dwell.get_mut().is_none() && back.rare.get_mut().is_none());
    }
}
