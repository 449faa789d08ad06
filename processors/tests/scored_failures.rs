//! The failures the scored run (`tests/port_calls.rs` in the workspace root,
//! `porttrack::sim::score`) showed, each reproduced with one vessel whose
//! every report the test controls, and fixed.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::Duration;
use porttrack_processors::{CallPhase, Geography, Output, Port, PortCall, PortConfig};
use support::{ANCHORAGES, CHANNEL_START, ENTRANCE, Feed, ROUTES, SEA_POINTS};

fn port() -> Port {
    Port::new(Geography::rotterdam(), PortConfig::default())
}

fn calls(out: &[Output]) -> Vec<(CallPhase, PortCall)> {
    out.iter()
        .filter_map(|o| match o {
            Output::PortCall(u) => Some((u.phase, u.call.clone())),
            _ => None,
        })
        .collect()
}

/// Before: the call opened (and was emitted) on crossing the port limits, so
/// a ship that came in towards the anchorage and turned back to sea without
/// stopping was a port call (5% of the scored run's arrivals; precision
/// 0.95). After: a call is held until the ship anchors, moors or enters a
/// basin or berth; one that leaves first was never a call.
#[test]
fn aborted_approach_is_not_a_port_call() {
    let port = port();
    let mut feed = Feed::new(&port, 244_000_101);
    let turn = (ANCHORAGES[0].0, ANCHORAGES[0].1 - 0.02); // well inside the limits
    feed.sail(SEA_POINTS[0], turn, 12.0, 10);
    feed.sail(turn, SEA_POINTS[2], 12.0, 10);
    assert!(calls(&feed.out).is_empty(), "{:?}", calls(&feed.out));
    let v = port.vessel(244_000_101).unwrap();
    assert!(v.call.is_none() && v.last_call().is_none() && !v.call_unconfirmed);

    // The same ship coming back and anchoring makes a call, dated at its
    // second crossing, and the held arrival comes before the anchoring.
    let back = feed.t;
    feed.sail(SEA_POINTS[2], ANCHORAGES[0], 12.0, 10);
    for _ in 0..5 {
        feed.report(ANCHORAGES[0], 0.1, 180);
    }
    let phases: Vec<CallPhase> = calls(&feed.out).iter().map(|(p, _)| *p).collect();
    assert_eq!(phases, [CallPhase::Arrived, CallPhase::Anchored]);
    let call = &calls(&feed.out)[0].1;
    assert!(call.arrived_at > back && call.arrived_at < back + Duration::hours(1), "{call:?}");
    assert!(call.anchored_at.is_none(), "the arrival is emitted as it was, before anchoring");
}

/// A ship that sails straight up the channel into the port, without
/// anchoring, is confirmed on entering the first basin.
#[test]
fn call_through_the_channel_is_confirmed_in_the_first_basin() {
    let port = port();
    let mut feed = Feed::new(&port, 244_000_102);
    feed.sail(SEA_POINTS[1], CHANNEL_START, 12.0, 10);
    let maasgeul = (51.99, 4.0); // the channel, short of the Maasmond basin
    feed.sail(CHANNEL_START, maasgeul, 10.0, 10);
    assert!(calls(&feed.out).is_empty(), "held while in the outer port");
    let in_channel = feed.t;
    feed.sail(maasgeul, ENTRANCE, 10.0, 10);
    let mut path = vec![ENTRANCE];
    path.extend_from_slice(ROUTES[0]);
    feed.route(&path, 6.0, 10);
    let calls = calls(&feed.out);
    assert_eq!(calls.first().map(|c| c.0), Some(CallPhase::Arrived));
    // Dated when it crossed the limits, long before it was confirmed.
    assert!(calls[0].1.arrived_at < in_channel - Duration::minutes(30), "{:?}", calls[0].1);
    assert!(calls[0].1.arrival_observed);
}

/// Before: a moored ship reports every 3 minutes, so a GPS jump of a mile
/// or two implies only 20–40 kn and passed the `max_speed_kn` check; two
/// displaced fixes confirmed an exit from the berth (the ship became
/// "anchored" elsewhere, its service cut in two) and, near the edge of the
/// limits, from the port: the call departed and a second one opened (the
/// scored run's 2 split calls, 6 spurious anchorings, service times off by
/// up to 22 h). After: a fix reporting the ship still stopped, minutes
/// after one that did too, but displaced more than an anchor swing, is an
/// outlier.
#[test]
fn gps_jump_while_moored_is_not_a_departure() {
    let port = port();
    let mut feed = Feed::new(&port, 244_000_103);
    let berth = *ROUTES[2].last().unwrap(); // Botlek, 1.5 nm inside the southern limits
    let mut path = vec![ENTRANCE];
    path.extend_from_slice(ROUTES[2]);
    feed.sail(SEA_POINTS[1], CHANNEL_START, 12.0, 10);
    feed.route(&[CHANNEL_START, ENTRANCE], 10.0, 10);
    feed.route(&path, 6.0, 10);
    for _ in 0..20 {
        feed.report(berth, 0.0, 180);
    }
    // Three fixes 2 nm south, outside the port limits, still reporting 0 kn.
    let jumped = (berth.0 - 2.0 / 60.0, berth.1);
    for _ in 0..3 {
        feed.report(jumped, 0.0, 180);
    }
    for _ in 0..20 {
        feed.report(berth, 0.0, 180);
    }
    let phases: Vec<CallPhase> = calls(&feed.out).iter().map(|(p, _)| *p).collect();
    assert_eq!(phases, [CallPhase::Arrived, CallPhase::Berthed], "one call, still alongside");
    let v = port.vessel(244_000_103).unwrap();
    assert_eq!(v.movement, porttrack_processors::Movement::Moored);
    assert!(port.counters().positions_outlier >= 2);
}

/// A ship that really moves off its berth (reporting speed) and stops
/// elsewhere is not mistaken for a jump.
#[test]
fn a_real_move_between_stops_is_not_a_gps_jump() {
    let port = port();
    let mut feed = Feed::new(&port, 244_000_104);
    let berth = *ROUTES[2].last().unwrap();
    feed.report(berth, 0.0, 180);
    feed.report(berth, 0.0, 180);
    let nearby = (berth.0 + 0.01, berth.1 + 0.02);
    feed.sail(berth, nearby, 6.0, 10);
    assert_eq!(feed.report(nearby, 0.0, 180), porttrack_processors::Processed::Applied);
    assert_eq!(port.counters().positions_outlier, 0);
}

/// Before: a wait or a stay alongside ended at the first fix under way, on
/// average half a stopped reporting interval (90 s) after the anchor came
/// up, and a whole dark period late when the ship reappeared under way
/// (the scored run's wait-end and unberthing medians were 93 s and 87 s,
/// maxima 23 h and 105 min). After: the end is dated back by the distance
/// run from the last stopped fix at the reported speed, and a stop's start
/// forward from the last fix under way.
#[test]
fn end_of_a_stop_is_dated_by_the_run_not_the_next_report() {
    let port = port();
    let mut feed = Feed::new(&port, 244_000_105);
    let anchorage = ANCHORAGES[0];
    feed.sail(SEA_POINTS[0], anchorage, 12.0, 10);
    for _ in 0..40 {
        feed.report(anchorage, 0.1, 180);
    }
    // Anchor up 30 s after that last report; the next one comes 150 s
    // later, 0.4167 nm on at 10 kn.
    let weighed = feed.t - Duration::seconds(150);
    let on = (anchorage.0 + 0.4167 / 60.0, anchorage.1);
    feed.report(on, 10.0, 10);
    feed.sail(on, CHANNEL_START, 10.0, 10);
    let (_, call) = calls(&feed.out).into_iter().find(|(p, _)| *p == CallPhase::WaitEnded).unwrap();
    let ended = call.anchored_at.unwrap() + Duration::seconds(call.waiting_time_s);
    assert!((ended - weighed).num_seconds().abs() <= 2, "wait ended {ended}, anchor up {weighed}");

    // Alongside, then dark for an hour: the ship reappears 3 nm off under
    // way at 6 kn, so it left the berth about 30 minutes before.
    let berth = *ROUTES[0].last().unwrap();
    let mut path = vec![ENTRANCE];
    path.extend_from_slice(ROUTES[0]);
    feed.route(&[CHANNEL_START, ENTRANCE], 10.0, 10);
    feed.route(&path, 6.0, 10);
    for _ in 0..40 {
        feed.report(berth, 0.0, 180);
    }
    feed.t += Duration::hours(1);
    let off = (berth.0 + 3.0 / 60.0, berth.1);
    feed.report(off, 6.0, 10);
    let (_, call) = calls(&feed.out).into_iter().find(|(p, _)| *p == CallPhase::Unberthed).unwrap();
    let left = feed.t - Duration::seconds(10) - Duration::minutes(30);
    let unberthed = call.unberthed_at.unwrap();
    assert!((unberthed - left).num_seconds().abs() <= 5, "unberthed {unberthed}, left about {left}");
}
