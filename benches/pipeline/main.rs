//! `cargo bench --bench pipeline`: what the pipeline costs next to the
//! servers it connects, every figure beside a baseline from the same run.
//!
//! One entry point, one table (issue 13). On the local stack's broker
//! (`deploy/local/up`), with the inputs produced once up front:
//!
//! | row | pipeline side | baseline side |
//! |---|---|---|
//! | `json → null` | 1M JSON positions through decode, validation, processors, batching, commits; sinks nulled (`files.discard`) | a plain rdkafka consumer reading the same topic |
//! | `nmea → null` | the same as `!AIVDM` type 1 sentences | the plain consumer |
//! | `mixed → null` | the simulator's topic set: JSON positions and static data, weather, Avro cargo, operations | the plain consumer |
//! | `json → postgres` | the JSON positions into Postgres (positions history, vessel state, derived rows) | `psql \copy` of the stored positions into the same table of a fresh database |
//! | `json → postgres vs hand-written` | the same run | an afternoon's consumer: parse, upsert the latest fix per vessel, commit after the write ([`baselines::handwritten`]) |
//! | `json → search` | the JSON positions into the search engine | the same documents through plain `_bulk` at the sink's batch size and concurrency |
//! | `latency` | record → Postgres at a steady rate ([`latency`]) | a plain consumer's receive latency: the broker alone |
//! | `soak` | RSS over a long run at half the measured capacity, and through a Postgres outage ([`soak`]) | its own steady level |
//!
//! Rates run from the first record consumed to the last one committed
//! (group joins left out); "own CPU" is this process's user + system time
//! over the run divided by events ([`cpu`]): the pipeline runs in-process, one
//! measurement at a time. "Peak heap" is the most the pipeline's run held
//! above what the process held before it (jemalloc's count, sampled every
//! 100 ms; librdkafka's prefetched records included): every row but the
//! latency one is a catch-up from a full topic, where read-ahead is at its
//! largest. Medians of `PORTTRACK_BENCH_RUNS` runs (default 3).
//!
//! Sizes: `PORTTRACK_BENCH_RECORDS` (default 1,000,000 per input),
//! `PORTTRACK_BENCH_PARTITIONS` (default 4), `PORTTRACK_BENCH_FLEET`
//! (default 5,000), `PORTTRACK_BENCH_ONLY` (comma list of the rows' first
//! words to run: `json,nmea,mixed,postgres,handwritten,search,latency,soak`;
//! default all); for latency `PORTTRACK_BENCH_RATE` (default 20,000/s),
//! `PORTTRACK_BENCH_SECONDS` (60) and `PORTTRACK_BENCH_WARMUP_SECONDS` (10);
//! for the soak `PORTTRACK_BENCH_SOAK_SECONDS` (1,800),
//! `PORTTRACK_BENCH_SOAK_RATE` (default half the `json → postgres` rate) and
//! `PORTTRACK_BENCH_OUTAGE_SECONDS` (60). `PORTTRACK_BENCH_CHECKPOINT_VERSION`
//! sets `processors.port.checkpoint_version` (default the configuration's, 2).
//! The run's topics, databases and indices are removed at the end
//! ([`cleanup`]) unless `PORTTRACK_BENCH_KEEP=1`.
//! CI runs it at a smoke size so it cannot rot.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a panic is the failure report

#[path = "../../tests/support/mod.rs"]
mod support;

/// The AIS crate's test encoder (its own `#![allow]`s cover what is unused here).
#[path = "../../ingest/ais/tests/support/mod.rs"]
mod ais;

mod baselines;
mod cleanup;
mod cpu;
mod inputs;
mod latency;
mod runs;
mod soak;
mod table;

use cpu::median;
use table::Row;

fn main() {
    let records = support::env_or("PORTTRACK_BENCH_RECORDS", 1_000_000);
    let runs = support::env_or("PORTTRACK_BENCH_RUNS", 3).max(1);
    let partitions = support::env_or("PORTTRACK_BENCH_PARTITIONS", 4) as i32;
    let vessels = support::env_or("PORTTRACK_BENCH_FLEET", 5_000) as u32;
    let only = std::env::var("PORTTRACK_BENCH_ONLY").unwrap_or_default();
    let wanted = |row: &str| only.is_empty() || only.split(',').any(|r| r.trim() == row);
    let stack = support::stack();
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let scratch = tempfile::tempdir().expect("scratch dir");

    println!(
        "pipeline bench: {records} records per input, {partitions} partitions, {vessels} vessels, {runs} runs; \
         medians; {} cores",
        std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get)
    );
    let inputs = rt.block_on(inputs::Inputs::produce(stack, records, partitions, vessels, &wanted));
    let mut rows: Vec<Row> = Vec::new();

    for (name, input) in [("json", &inputs.json), ("nmea", &inputs.nmea), ("mixed", &inputs.mixed)] {
        let Some(input) = input.as_ref().filter(|_| wanted(name)) else { continue };
        let (mut plain, mut ours) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            let p =
                baselines::plain_consumer(&stack.brokers, &input.topic_names(), partitions, input.records);
            let o = rt.block_on(runs::pipeline(stack, input, &inputs.dlq, runs::Sinks::Null));
            println!(
                "  {name} → null, run {run}: plain consumer {:.0}/s, pipeline {:.0}/s",
                p.rate(),
                o.rate()
            );
            plain.push(p);
            ours.push(o);
        }
        rows.push(Row::new(&format!("{name} → null"), median(ours), "plain rdkafka consumer", median(plain)));
    }

    if let Some(json) = inputs.json.as_ref().filter(|_| wanted("postgres") || wanted("handwritten")) {
        let (mut ours, mut copy, mut hand) = (Vec::new(), Vec::new(), Vec::new());
        for run in 1..=runs {
            let db = rt.block_on(runs::database(stack, "bench_pg"));
            let o = rt.block_on(runs::pipeline(stack, json, &inputs.dlq, runs::Sinks::Postgres(db.clone())));
            let mut line = format!("  json → postgres, run {run}: pipeline {:.0}/s", o.rate());
            if wanted("postgres") {
                let fresh = rt.block_on(runs::migrated_database(stack, "bench_copy"));
                let c = rt.block_on(baselines::psql_copy(&db, &fresh, scratch.path()));
                assert_eq!(c.events, json.records, "psql loads every position the pipeline stored");
                line += &format!(", psql \\copy {:.0}/s", c.rate());
                copy.push(c);
            }
            if wanted("handwritten") {
                let own = rt.block_on(runs::database(stack, "bench_hand"));
                let h = rt.block_on(baselines::handwritten(
                    &stack.brokers,
                    &json.topics[0].name,
                    &own,
                    json.records,
                ));
                line += &format!(", hand-written consumer {:.0}/s", h.rate());
                hand.push(h);
            }
            println!("{line}");
            ours.push(o);
        }
        let ours = median(ours);
        if !copy.is_empty() {
            rows.push(Row::new("json → postgres", ours, "psql \\copy of the same rows", median(copy)));
        }
        if !hand.is_empty() {
            rows.push(Row::new("json → postgres", ours, "hand-written upsert consumer", median(hand)));
        }
    }

    if let Some(json) = inputs.json.as_ref().filter(|_| wanted("search")) {
        let (mut ours, mut bulk) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            let prefix = support::unique("bench-es");
            let o =
                rt.block_on(runs::pipeline(stack, json, &inputs.dlq, runs::Sinks::Search(prefix.clone())));
            let b = rt.block_on(runs::plain_bulk(stack, &prefix));
            assert!(b.events >= o.events, "every position is a document, and derived rows add more");
            // Compared per document: positions plus the derived documents
            // (zone events, port calls…) the pipeline indexed beside them.
            let o = cpu::Run { events: b.events, ..o };
            println!("  json → search, run {run}: pipeline {:.0}/s, plain _bulk {:.0}/s", o.rate(), b.rate());
            ours.push(o);
            bulk.push(b);
        }
        rows.push(Row::new("json → search", median(ours), "plain _bulk of the same documents", median(bulk)));
    }

    let latency = wanted("latency").then(|| {
        let rate = support::env_or("PORTTRACK_BENCH_RATE", 20_000);
        let seconds = support::env_or("PORTTRACK_BENCH_SECONDS", 60);
        let warmup = support::env_or("PORTTRACK_BENCH_WARMUP_SECONDS", 10).min(seconds / 2);
        latency::measure(&rt, stack, partitions, rate, seconds, warmup)
    });

    // Half the capacity measured above (Postgres end to end), unless asked.
    let capacity = rows.iter().find(|r| r.what() == "json → postgres").map(|r| r.rate());
    let soak = wanted("soak").then(|| {
        let rate = std::env::var("PORTTRACK_BENCH_SOAK_RATE")
            .ok()
            .and_then(|v| v.parse().ok())
            .or(capacity.map(|c| (c / 2.0) as u64))
            .unwrap_or(5_000);
        let seconds = support::env_or("PORTTRACK_BENCH_SOAK_SECONDS", 1_800);
        let outage = support::env_or("PORTTRACK_BENCH_OUTAGE_SECONDS", 60);
        soak::measure(&rt, stack, partitions, rate, seconds, outage)
    });

    if !rows.is_empty() {
        println!();
        table::print(&rows);
    }
    if let Some(l) = latency {
        println!();
        table::print_latency(&l);
    }
    if let Some(s) = soak {
        println!();
        table::print_soak(&s);
    }
    rt.block_on(cleanup::remove(stack));
}
