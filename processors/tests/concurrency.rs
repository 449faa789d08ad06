//! Several partitions processed concurrently on one `Port` while readers
//! take snapshots and read gauges.
//!
//! A stress test rather than a loom model: the processor has no custom
//! atomic protocol. Vessel state is guarded by DashMap's shard locks, the
//! partition history by a `Mutex`, and the gauges and counters are
//! independent `Relaxed` read-modify-writes made while the vessel's entry
//! is locked; readers sum them and may see a vessel half-way between two
//! zones for an instant, which gauges tolerate. Loom could only check the
//! standard library's and DashMap's locks, which are not ours to prove.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use porttrack_processors::{Geography, Output, Port, PortConfig};
use porttrack_schemas::{Event, Sourced};
use support::{FleetOptions, fleet};

#[test]
fn concurrent_partitions_equal_a_sequential_run() {
    let opts = FleetOptions { seed: 21, vessels: 64, partitions: 4, hours: 8, ..FleetOptions::default() };
    let events = fleet(&opts);
    let mut by_partition: BTreeMap<i32, Vec<Sourced<Event>>> = BTreeMap::new();
    for e in &events {
        by_partition.entry(e.origin.partition).or_default().push(e.clone());
    }
    let sequential = Port::new(Geography::rotterdam(), PortConfig::default());
    let expected: BTreeMap<i32, Vec<Output>> =
        by_partition.iter().map(|(p, evs)| (*p, support::run(&sequential, evs))).collect();

    for round in 0..3 {
        let port = Port::new(Geography::rotterdam(), PortConfig::default());
        let done = AtomicBool::new(false);
        let outputs: BTreeMap<i32, Vec<Output>> = std::thread::scope(|s| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut reads = 0_u64;
                        let at = events.last().unwrap().event.timestamp();
                        while !done.load(Ordering::Relaxed) {
                            let partials = port.snapshot(at);
                            reads += partials.len() as u64;
                            for zone in port.geography().zones() {
                                let g = port.zone_gauges(zone.id());
                                assert!(g.present >= -4 && g.queue <= g.present + 4, "{g:?}");
                            }
                            let _ = port.counters();
                        }
                        reads
                    })
                })
                .collect();
            let writers: Vec<_> = by_partition
                .iter()
                .map(|(p, evs)| {
                    let port = &port;
                    s.spawn(move || (*p, support::run(port, evs)))
                })
                .collect();
            let outputs = writers.into_iter().map(|w| w.join().unwrap()).collect();
            done.store(true, Ordering::Relaxed);
            for r in readers {
                assert!(r.join().unwrap() > 0);
            }
            outputs
        });
        assert_eq!(outputs, expected, "round {round}");
        for p in by_partition.keys() {
            assert_eq!(port.export_partition(*p), sequential.export_partition(*p), "round {round}");
        }
        for zone in port.geography().zones() {
            assert_eq!(port.zone_gauges(zone.id()), sequential.zone_gauges(zone.id()));
        }
        assert_eq!(port.counters(), sequential.counters());
    }
}
