//! Throughput of `Port::process` on one core for a simulated fleet making
//! port calls around Rotterdam (zone transitions, anchoring, berthing, port
//! call events and the odd GPS jump included), and the cost of a snapshot.
//!
//! `cargo bench -p porttrack-processors --bench port`; events/s is the
//! element throughput Criterion prints (from its median-centred estimate).
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use porttrack_processors::{Geography, Port, PortConfig};
use support::{FleetOptions, fleet};

const EVENTS: usize = 200_000;

fn process(c: &mut Criterion) {
    let opts = FleetOptions {
        seed: 3,
        vessels: 300,
        partitions: 8,
        hours: 5,
        other_events: false,
        ..FleetOptions::default()
    };
    let events: Vec<_> = fleet(&opts).into_iter().take(EVENTS).collect();
    assert_eq!(events.len(), EVENTS);
    let mut group = c.benchmark_group("process");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(20);
    group.bench_function("fleet_positions", |b| {
        b.iter_batched(
            || (Port::new(Geography::rotterdam(), PortConfig::default()), Vec::with_capacity(1024)),
            |(port, mut out)| {
                for e in &events {
                    port.process(e, &mut out);
                    out.clear();
                }
                port
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();

    let port = Port::new(Geography::rotterdam(), PortConfig::default());
    support::run(&port, &events);
    let at = events.last().unwrap().event.timestamp();
    c.bench_function("snapshot_merged_300_vessels_8_partitions", |b| b.iter(|| port.snapshot_merged(at)));
    c.bench_function("locate", |b| {
        let geo = Geography::rotterdam();
        b.iter(|| geo.locate(std::hint::black_box(51.958), std::hint::black_box(4.005)));
    });
}

criterion_group!(benches, process);
criterion_main!(benches);
