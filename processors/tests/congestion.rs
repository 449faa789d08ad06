//! Congestion aggregates against brute-force recounts over random fleets.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use porttrack_processors::{
    Direction, Geography, Movement, Output, Port, PortConfig, Processed, VesselRoute, WaitStats, ZoneGauges,
    ZoneKind,
};
use porttrack_schemas::Event;
use support::{FleetOptions, fleet};

/// Recounts one zone's gauges from the vessels' states.
fn recount(port: &Port, vessels: &[VesselRoute], zone: porttrack_processors::ZoneId) -> ZoneGauges {
    let berth = port.geography().zone(zone).kind() == ZoneKind::Berth;
    let mut g = ZoneGauges::default();
    for v in vessels.iter().filter(|v| v.zones.contains(zone)) {
        g.present += 1;
        g.hazardous += i64::from(v.hazardous());
        g.queue += i64::from(v.movement == Movement::Anchored);
        if berth && v.movement == Movement::Moored {
            g.moored += 1;
            match v.length_m() {
                Some(l) => g.moored_length_m += i64::from(l),
                None => g.moored_without_length += 1,
            }
        }
    }
    g
}

/// The positions each vessel's state last accepted, newest last, as many
/// as `hysteresis_fixes`.
type Recent = HashMap<u32, VecDeque<(f64, f64)>>;

fn check(port: &Port, outputs: &[Output], recent: &Recent, at: DateTime<Utc>) -> u64 {
    let vessels: Vec<VesselRoute> = port.mmsis().into_iter().filter_map(|m| port.vessel(m)).collect();
    let merged = port.snapshot_merged(at);
    let geo = port.geography();
    let fixes = port.config().hysteresis_fixes as usize;
    let mut present_total = 0;
    for zone in geo.zones() {
        let expected = recount(port, &vessels, zone.id());
        assert_eq!(port.zone_gauges(zone.id()), expected, "gauges of {} at {at}", zone.name());
        let s = merged.iter().find(|s| s.zone == zone.name()).unwrap();
        assert_eq!(s.vessels_present as i64, expected.present, "{}", zone.name());
        assert_eq!(s.queue_length as i64, expected.queue, "{}", zone.name());
        assert_eq!(s.moored_vessels as i64, expected.moored, "{}", zone.name());
        assert_eq!(s.hazardous_vessels as i64, expected.hazardous, "{}", zone.name());
        if let Some(len) = zone.length_m() {
            assert_eq!(s.berth_occupancy, Some(expected.moored_length_m as f64 / f64::from(len)));
        }
        let mut waits: Vec<i64> = vessels
            .iter()
            .filter(|v| v.zones.contains(zone.id()) && v.movement == Movement::Anchored)
            .map(|v| (at - v.anchored_since().unwrap()).num_seconds())
            .collect();
        waits.sort_unstable();
        assert_eq!(s.waiting_now, WaitStats::of_sorted(&waits), "{}", zone.name());
        // Entries in the last hour, recounted from the outputs.
        let hour_ago = at - Duration::hours(1);
        let entries = outputs
            .iter()
            .filter(|o| {
                matches!(o, Output::Zone(z) if z.zone == zone.id() && z.direction == Direction::Entered
                && z.at > hour_ago && z.at <= at)
            })
            .count();
        assert_eq!(s.arrivals_per_hour, entries as f64, "{}", zone.name());
        present_total += s.vessels_present;
    }
    // Zone membership agrees with geometry whenever the last few fixes agree.
    for v in &vessels {
        let Some(recent) = recent.get(&v.mmsi).filter(|r| r.len() == fixes) else {
            continue;
        };
        for zone in geo.zones() {
            let inside = recent.iter().filter(|(lat, lon)| zone.contains(*lat, *lon)).count();
            if inside == fixes {
                assert!(v.zones.contains(zone.id()), "{} should be in {}", v.mmsi, zone.name());
            } else if inside == 0 {
                assert!(!v.zones.contains(zone.id()), "{} should not be in {}", v.mmsi, zone.name());
            }
        }
    }
    present_total
}

#[test]
fn snapshots_equal_brute_force_recounts() {
    for seed in [1, 2, 3] {
        let opts = FleetOptions { seed, vessels: 50, partitions: 3, hours: 10, ..FleetOptions::default() };
        let events = fleet(&opts);
        let port = Port::new(Geography::rotterdam(), PortConfig::default());
        let mut out = Vec::new();
        let mut checks = 0;
        let mut seen_present = 0;
        let mut recent = Recent::new();
        let fixes = port.config().hysteresis_fixes as usize;
        for (i, e) in events.iter().enumerate() {
            if port.process(e, &mut out) == Processed::Applied
                && let Event::Position(p) = &e.event
            {
                let r = recent.entry(p.mmsi).or_default();
                if r.len() == fixes {
                    r.pop_front();
                }
                r.push_back((p.lat, p.lon));
            }
            if i % 1_500 == 0 {
                let now = e.event.timestamp();
                port.tick(now, &mut out);
                seen_present += check(&port, &out, &recent, now);
                checks += 1;
            }
        }
        assert!(checks > 20, "{checks}");
        assert!(seen_present > 100, "the fleet was in the zones: {seen_present}");
        let merged = port.snapshot_merged(events.last().unwrap().event.timestamp());
        assert!(merged.iter().any(|z| z.kind == ZoneKind::Anchorage && z.waits_completed.count > 0));
        assert!(merged.iter().any(|z| z.channel_transits_per_hour.is_some_and(|t| t > 0.0)));
    }
}
