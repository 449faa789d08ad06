#![allow(clippy::unwrap_used)]
//! Decoding throughput, ours against the fastest crates.io decoder (`aivdm`, see
//! `DECISION.md`) in the same run:
//!
//! - `positions`: a synthetic stream of 100 000 single-sentence type 1/2/3 reports with
//!   random field values (the bulk of real AIS traffic);
//! - `gpsd_sample`: every sentence of gpsd's `sample.aivdm` (all types, multi-sentence
//!   messages, quirks), read from `../shared` at run time.
//!
//! Criterion reports throughput in elements (sentences) per second; a summary with
//! messages/s and the ratio to the baseline is printed first.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-ais cargo bench -p porttrack-ais --bench decode
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use porttrack_ais::{Decoder, Limits, Message, Payload, Sentence};

/// `n` valid `!AIVDM` position reports with random payload bits (deterministic).
fn positions(n: usize) -> Vec<String> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let mut payload = String::with_capacity(28);
            payload.push(char::from(b'1' + (i % 3) as u8));
            for _ in 0..27 {
                let v = (next() % 64) as u8;
                payload.push(char::from(if v < 40 { v + b'0' } else { v + b'8' }));
            }
            let body = format!("AIVDM,1,1,,{},{payload},0", if i % 2 == 0 { 'A' } else { 'B' });
            let checksum = body.bytes().fold(0u8, |a, b| a ^ b);
            format!("!{body}*{checksum:02X}")
        })
        .collect()
}

fn gpsd_sample() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/ais/gpsd/sample.aivdm");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn ours(lines: &[String]) -> usize {
    let mut decoder = Decoder::new(Limits::default());
    lines
        .iter()
        .enumerate()
        .filter(|(i, l)| matches!(decoder.decode_line(black_box(l), *i as u64), Ok(Some(_))))
        .count()
}

/// The lower layers without the `Decoder`: what a single-sentence fast path costs.
fn ours_layers(lines: &[String]) -> usize {
    lines
        .iter()
        .filter_map(|l| Sentence::parse(black_box(l)).ok())
        .filter_map(Payload::single)
        .filter(|p| Message::decode(p).is_ok())
        .count()
}

fn baseline(lines: &[String]) -> usize {
    let mut decoder = aivdm::LineDecoder::<1024>::new();
    lines.iter().filter(|l| matches!(decoder.feed(black_box(l)), Ok(Some(_)))).count()
}

/// Best of `rounds` timings of `f` over `lines`, in lines per second.
fn rate(lines: &[String], rounds: usize, f: fn(&[String]) -> usize) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            black_box(f(lines));
            lines.len() as f64 / start.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn summary(positions: &[String], sample: &[String]) {
    for (name, lines) in [("positions", positions), ("gpsd_sample", sample)] {
        let (a, b) = (rate(lines, 5, ours), rate(lines, 5, baseline));
        println!(
            "summary {name}: porttrack-ais {a:.0} msg/s, aivdm {b:.0} msg/s, ratio {:.2} \
             (decoded: ours {}, aivdm {} of {} lines)",
            a / b,
            ours(lines),
            baseline(lines),
            lines.len()
        );
    }
}

fn bench(c: &mut Criterion) {
    let positions = positions(100_000);
    let sample = gpsd_sample();
    summary(&positions, &sample);

    let mut group = c.benchmark_group("positions");
    group.throughput(Throughput::Elements(positions.len() as u64));
    group.sample_size(20);
    group.bench_function("porttrack-ais Decoder", |b| b.iter(|| ours(&positions)));
    group.bench_function("porttrack-ais Sentence+Message", |b| b.iter(|| ours_layers(&positions)));
    group.bench_function("aivdm LineDecoder", |b| b.iter(|| baseline(&positions)));
    group.finish();

    let mut group = c.benchmark_group("gpsd_sample");
    group.throughput(Throughput::Elements(sample.len() as u64));
    group.bench_function("porttrack-ais Decoder", |b| b.iter(|| ours(&sample)));
    group.bench_function("aivdm LineDecoder", |b| b.iter(|| baseline(&sample)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
