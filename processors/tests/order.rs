//! Delivery order and duplication: what is independent of them, exactly as
//! the `route` module documents it.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::Duration;
use porttrack_processors::{Geography, Output, Port, PortConfig, VesselRoute};
use porttrack_schemas::{CargoEvent, CargoOperation, Event, Origin, Sourced, VesselStatic};
use proptest::prelude::*;
use support::{FleetOptions, fleet, t0};

fn port() -> Port {
    Port::new(Geography::rotterdam(), PortConfig::default())
}

/// One vessel's events from the random fleet (no GPS jumps), plus static
/// parts and cargo with distinct timestamps.
fn one_vessel(seed: u64) -> (u32, Vec<Sourced<Event>>) {
    let opts =
        FleetOptions { seed, vessels: 1, partitions: 1, hours: 6, jump_probability: 0.0, other_events: true };
    let mut events: Vec<Sourced<Event>> =
        fleet(&opts).into_iter().filter(|e| !matches!(e.event, Event::Weather(_))).collect();
    let mmsi = events[0].event.mmsi().unwrap();
    for k in 0..6_i64 {
        let t = t0() + Duration::minutes(37 * k + 3);
        let mut s = VesselStatic { mmsi, timestamp: t, ..Default::default() };
        match k % 3 {
            0 => s.destination = Some(format!("DEST{k}")),
            1 => s.draught = Some(5.0 + k as f32),
            _ => s.shipname = Some(format!("NAME{k}")),
        }
        events.push(Sourced { origin: Origin::new("t", 0, 0), event: Event::Static(Box::new(s)) });
        let c = CargoEvent {
            event_id: format!("extra-{k}"),
            timestamp: t,
            mmsi,
            voyage: None,
            berth: "Botlek".into(),
            operation: if k % 2 == 0 { CargoOperation::Load } else { CargoOperation::Discharge },
            containers: 10,
            teu: 15,
            imdg_class: (k == 4).then(|| "2.1".into()),
        };
        events.push(Sourced { origin: Origin::new("t", 0, 0), event: Event::Cargo(Box::new(c)) });
    }
    // Event-time order (the fleet's order, with the extras slotted in).
    events.sort_by_key(|e| e.event.timestamp());
    (mmsi, events)
}

/// The order-independent view of a vessel.
fn view(v: &VesselRoute) -> impl PartialEq + std::fmt::Debug {
    (
        v.last.clone(),
        v.first_seen,
        v.fix_times.clone(),
        v.statics.clone(),
        v.teu_on_board_change,
        v.imdg_classes().to_vec(),
        v.length_m(),
    )
}

fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any order, any duplication: the documented order-independent parts
    /// of the state are the same as after ordered delivery.
    #[test]
    fn shuffled_and_duplicated_input_converges(seed in 1_u64..1_000, shuffle_seed in any::<u64>(), dup_every in 1_usize..7) {
        let (mmsi, events) = one_vessel(seed);
        let ordered = port();
        support::run(&ordered, &events);
        let mut messy: Vec<Sourced<Event>> = events.clone();
        messy.extend(events.iter().step_by(dup_every).cloned());
        shuffle(&mut messy, shuffle_seed);
        let shuffled = port();
        support::run(&shuffled, &messy);
        let a = ordered.vessel(mmsi).unwrap();
        let b = shuffled.vessel(mmsi).unwrap();
        prop_assert!(shuffled.counters().positions_late > 0);
        prop_assert_eq!(view(&a), view(&b));
    }

    /// In-order delivery with duplicates (a record heard by two receivers,
    /// or a replay after a crash): the same outputs and the same state.
    #[test]
    fn duplicates_change_nothing(seed in 1_u64..1_000, replay_from in 0.0_f64..1.0) {
        let (mmsi, events) = one_vessel(seed);
        let once = port();
        let expected = support::run(&once, &events);
        let twice = port();
        let mut out: Vec<Output> = Vec::new();
        let replay_at = (events.len() as f64 * replay_from) as usize;
        for (i, e) in events.iter().enumerate() {
            twice.process(e, &mut out);
            twice.process(e, &mut out); // heard twice
            if i == replay_at {
                // A replay of everything so far, as after a crash before a commit.
                for old in &events[..=i] {
                    twice.process(old, &mut out);
                }
            }
        }
        prop_assert_eq!(&out, &expected);
        let mut a = once.vessel(mmsi).unwrap();
        let mut b = twice.vessel(mmsi).unwrap();
        (a.events, b.events) = (0, 0);
        prop_assert_eq!(a, b);
    }
}

#[test]
fn in_order_static_merge_is_merged_with() {
    let (mmsi, events) = one_vessel(3);
    let port = port();
    support::run(&port, &events);
    let by_hand = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Static(s) => Some((**s).clone()),
            _ => None,
        })
        .reduce(|acc, s| acc.merged_with(&s))
        .unwrap();
    let kept = port.vessel(mmsi).unwrap().statics.unwrap();
    assert_eq!(
        (kept.timestamp, kept.shiptype, kept.to_bow, kept.to_stern, kept.length()),
        (by_hand.timestamp, by_hand.shiptype, by_hand.to_bow, by_hand.to_stern, by_hand.length())
    );
}
