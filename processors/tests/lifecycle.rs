//! The route state machine obeys [`CallStage`]: every call's stages follow
//! the legal transitions and its forward-only fields never move back.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;

use porttrack_processors::{CallId, CallStage, FieldRule, Geography, Output, Port, PortCall, PortConfig};
use proptest::prelude::*;
use support::{FleetOptions, fleet, run};

/// A forward-only field of `call`, as a comparable number (NULL as None).
fn field(call: &PortCall, name: &str) -> Option<i64> {
    let ms = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_millis());
    match name {
        "arrived_at" => ms(Some(call.arrived_at)),
        "arrival_observed" => Some(i64::from(call.arrival_observed)),
        "anchored_at" => ms(call.anchored_at),
        "berthed_at" => ms(call.berthed_at),
        "unberthed_at" => ms(call.unberthed_at),
        "departed_at" => ms(call.departed_at),
        "waiting_time_s" => Some(call.waiting_time_s),
        "service_time_s" => Some(call.service_time_s),
        "teu_loaded" => Some(call.teu_loaded as i64),
        "teu_discharged" => Some(call.teu_discharged as i64),
        other => panic!("no such field {other}"),
    }
}

fn check(outputs: &[Output]) -> usize {
    let mut last: HashMap<CallId, (Option<CallStage>, &PortCall)> = HashMap::new();
    let mut checked = 0;
    for output in outputs {
        let Output::PortCall(update) = output else { continue };
        let stage = update.phase.stage();
        let call = &update.call;
        match last.get(&call.id()) {
            None => assert_eq!(stage, Some(CallStage::Arrived), "a call opens with its arrival: {call:?}"),
            Some((previous_stage, previous)) => {
                if let Some(stage) = stage {
                    let previous_stage = previous_stage.unwrap();
                    assert!(stage.can_follow(previous_stage), "{previous_stage:?} -> {stage:?}: {call:?}");
                }
                for (name, rule) in CallStage::FORWARD_ONLY {
                    let (before, after) = (field(previous, name), field(call, name));
                    let ok = match rule {
                        FieldRule::Fixed => before == after,
                        FieldRule::Earliest => before.is_none() || before == after,
                        FieldRule::Latest | FieldRule::Growing | FieldRule::Sticky => after >= before,
                        _ => unreachable!(),
                    };
                    assert!(ok, "{name} ({rule:?}) went from {before:?} to {after:?}: {call:?}");
                }
                checked += 1;
            }
        }
        let previous_stage = last.get(&call.id()).and_then(|(s, _)| *s);
        last.insert(call.id(), (stage.or(previous_stage), call));
        if let Some(stage) = stage.filter(|s| *s != CallStage::WaitEnded) {
            assert!(stage.stamped(call).is_some(), "{stage:?} is stamped: {call:?}");
        }
    }
    checked
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Random fleets (with GPS jumps, cargo and services), in order.
    #[test]
    fn random_fleets_follow_the_lifecycle(seed in 1_u64..10_000) {
        let opts = FleetOptions { seed, vessels: 12, partitions: 2, hours: 12, jump_probability: 0.01, other_events: true };
        let port = Port::new(Geography::rotterdam(), PortConfig::default());
        let outputs = run(&port, &fleet(&opts));
        check(&outputs);
    }
}

#[test]
fn a_day_of_traffic_exercises_the_lifecycle() {
    let opts = FleetOptions {
        seed: 7,
        vessels: 40,
        partitions: 4,
        hours: 24,
        jump_probability: 0.01,
        other_events: true,
    };
    let port = Port::new(Geography::rotterdam(), PortConfig::default());
    let outputs = run(&port, &fleet(&opts));
    let stages: std::collections::BTreeSet<CallStage> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::PortCall(u) => u.phase.stage(),
            _ => None,
        })
        .collect();
    assert!(check(&outputs) > 0);
    assert_eq!(stages.len(), CallStage::ALL.len(), "every stage occurs: {stages:?}");
}
