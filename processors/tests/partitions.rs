//! Horizontal scale: partitions move between instances mid-stream, and the
//! merged aggregates, the outputs and the final state equal a single
//! instance's.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use porttrack_processors::{
    Geography, Output, PartitionState, Port, PortConfig, RestoreError, ZonePartial, merge,
};
use support::{FleetOptions, fleet};

fn port() -> Port {
    Port::new(Geography::rotterdam(), PortConfig::default())
}

/// Moves partition `p` from one instance to another through JSON, as a
/// compacted changelog topic or a Postgres row would carry it.
fn transfer(p: i32, from: &Port, to: &Port) {
    let json = serde_json::to_string(&from.export_partition(p)).unwrap();
    let state: PartitionState = serde_json::from_str(&json).unwrap();
    to.restore_partition(p, state).unwrap();
    from.forget_partition(p);
}

fn sorted_partials(mut partials: Vec<ZonePartial>) -> Vec<ZonePartial> {
    partials.sort_by(|a, b| (&a.zone, a.partition).cmp(&(&b.zone, b.partition)));
    partials
}

fn as_multiset(outputs: &[Output]) -> Vec<String> {
    let mut all: Vec<String> = outputs.iter().map(|o| serde_json::to_string(o).unwrap()).collect();
    all.sort();
    all
}

#[test]
fn moving_partitions_mid_stream_matches_a_single_instance() {
    let opts = FleetOptions { seed: 11, vessels: 48, partitions: 4, hours: 16, ..FleetOptions::default() };
    let events = fleet(&opts);
    assert!(events.len() > 50_000, "{}", events.len());
    let single = port();
    let instances = [port(), port()];
    let mut owner: BTreeMap<i32, usize> = (0..4).map(|p| (p, 0)).collect();
    let (mut single_out, mut split_out) = (Vec::new(), Vec::new());
    let moves = [(events.len() / 3, vec![(2, 1), (3, 1)]), (2 * events.len() / 3, vec![(1, 1), (3, 0)])];
    let mut snapshots = 0;
    for (i, e) in events.iter().enumerate() {
        for (at, plan) in &moves {
            if i == *at {
                for (p, to) in plan {
                    let from = owner[p];
                    transfer(*p, &instances[from], &instances[*to]);
                    owner.insert(*p, *to);
                }
            }
        }
        single.process(e, &mut single_out);
        instances[owner[&e.origin.partition]].process(e, &mut split_out);
        if i % 2_500 == 0 {
            let now = e.event.timestamp();
            single.tick(now, &mut single_out);
            for instance in &instances {
                instance.tick(now, &mut split_out);
            }
            let one = sorted_partials(single.snapshot(now));
            let mut two = instances[0].snapshot(now);
            two.extend(instances[1].snapshot(now));
            let two = sorted_partials(two);
            assert_eq!(one, two, "partials differ at event {i}");
            let thresholds = &single.config().congestion;
            assert_eq!(merge(&one, thresholds), merge(&two, thresholds));
            snapshots += 1;
        }
    }
    assert!(snapshots > 10);
    assert_eq!(as_multiset(&single_out), as_multiset(&split_out));
    for p in 0..4 {
        assert_eq!(single.export_partition(p), instances[owner[&p]].export_partition(p), "partition {p}");
    }
    // The run exercised what it claims to.
    let merged = single.snapshot_merged(events.last().unwrap().event.timestamp());
    assert!(merged.iter().map(|z| z.arrivals_per_hour).sum::<f64>() > 0.0);
    assert!(single_out.iter().any(|o| matches!(o, Output::PortCall(_))));
    assert!(single.counters().positions_outlier > 0);
}

#[test]
fn restoring_on_a_fresh_instance_continues_exactly() {
    let opts = FleetOptions { seed: 5, vessels: 30, partitions: 3, hours: 10, ..FleetOptions::default() };
    let events = fleet(&opts);
    let (first, rest) = events.split_at(events.len() / 2);
    let reference = port();
    support::run(&reference, first);
    let expected = support::run(&reference, rest);

    let before = port();
    support::run(&before, first);
    let states: Vec<String> = before
        .partitions()
        .into_iter()
        .map(|p| serde_json::to_string(&before.export_partition(p)).unwrap())
        .collect();
    drop(before);
    let after = port();
    for json in states {
        let state: PartitionState = serde_json::from_str(&json).unwrap();
        after.restore_partition(state.partition, state).unwrap();
    }
    assert_eq!(after.counters(), {
        let c = port();
        support::run(&c, first);
        c.counters()
    });
    let continued = support::run(&after, rest);
    assert_eq!(continued, expected, "same outputs in the same order");
    for p in 0..3 {
        assert_eq!(after.export_partition(p), reference.export_partition(p));
        for zone in reference.geography().zones() {
            assert_eq!(after.zone_gauges(zone.id()), reference.zone_gauges(zone.id()));
        }
    }
}

#[test]
fn restore_refuses_foreign_state() {
    let events = fleet(&FleetOptions { vessels: 5, hours: 2, ..FleetOptions::default() });
    let a = port();
    support::run(&a, &events);
    let state = a.export_partition(1);
    assert!(!state.vessels.is_empty());
    assert!(matches!(port().restore_partition(2, state.clone()), Err(RestoreError::Partition { .. })));
    let other_geography = Geography::from_geojson(
        &porttrack_processors::ROTTERDAM_GEOJSON.replace("\"Botlek basin\"", "\"Botlek harbour\""),
    )
    .unwrap();
    let b = Port::new(other_geography, PortConfig::default());
    assert!(matches!(b.restore_partition(1, state.clone()), Err(RestoreError::Geography { .. })));
    let old = PartitionState { version: 0, ..state };
    assert!(matches!(port().restore_partition(1, old), Err(RestoreError::Version { .. })));
    // Forgetting removes the partition's vessels and gauges, and only those.
    let vessels = a.vessel_count();
    let forgotten = a.forget_partition(1);
    assert!(forgotten > 0 && a.vessel_count() == vessels - forgotten);
    assert!(!a.partitions().contains(&1));
}
