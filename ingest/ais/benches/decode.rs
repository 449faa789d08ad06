#![allow(clippy::unwrap_used)]
//! Decoding throughput, ours against the fastest crates.io decoder (`aivdm`, see
//! `DECISION.md`) in the same run:
//!
//! - `positions`: a synthetic stream of 100 000 single-sentence type 1/2/3 reports with
//!   random field values (the bulk of real AIS traffic);
//! - `mixed`: 100 000 messages of all 27 types in equal shares, random bits at lengths gpsd
//!   accepts (types 6 and 8 with every DAC/FID gpsd decodes, and others), encoded with the
//!   tests' encoder (`tests/support`), multi-sentence where longer than 60 characters;
//! - `gpsd_sample`: every sentence of gpsd's `sample.aivdm` (all types, multi-sentence
//!   messages, quirks), read from `../shared` at run time.
//!
//! A summary is printed first, per input: the median of 5 timings of our decoder alone, of
//! our decoder plus the `gpsdecode -j` JSON rendering, of `aivdm`, and of Debian's
//! `gpsdecode -j` (gpsd 3.22) on the same lines written to a file — all in this run — and
//! the ratios. Criterion then reports throughput in elements (lines) per second.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-ais cargo bench -p porttrack-ais --bench decode
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use porttrack_ais::{Decoder, Limits, Line, Message, Payload, Sentence, gpsd};

/// The tests' encoder (its own `#![allow]`s cover what the bench does not use).
#[path = "../tests/support/mod.rs"]
mod support;

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

/// `n` messages of all 27 types in turn (random bits at a length gpsd accepts), as lines.
fn mixed(n: usize) -> Vec<String> {
    const LENGTHS: [usize; 28] = [
        0, 168, 168, 168, 168, 424, 360, 136, 360, 168, 72, 168, 300, 136, 200, 160, 144, 400, 168, 312, 160,
        320, 168, 160, 168, 140, 300, 96,
    ];
    let mut rng = support::Rng(0x2545_F491_4F6C_DD1D);
    let mut lines = Vec::with_capacity(n * 5 / 4);
    for i in 0..n {
        let message_type = 1 + (i % 27) as u64;
        let len = LENGTHS[message_type as usize];
        let mut w = support::Writer { bits: (0..len).map(|_| rng.next() & 1 == 1).collect() };
        w.set(0, 6, message_type);
        match message_type {
            // Every other one an application gpsd decodes (met-hydro, inland static data).
            6 if i % 2 == 0 => {
                w.set(72, 16, (1 << 6) | 14);
            }
            8 if i % 2 == 0 => {
                w.set(40, 16, if i % 4 == 0 { (1 << 6) | 31 } else { (200 << 6) | 10 });
            }
            24 => {
                w.set(38, 2, (i / 27 % 2) as u64);
            }
            25 | 26 => {
                w.set(38, 2, rng.next() % 4);
            }
            _ => {}
        }
        let (armored, fill) = w.armor();
        lines.extend(support::sentences(&armored, fill, i));
    }
    lines
}

/// Decoded and rendered as `gpsdecode -j` lines: the work gpsdecode does.
fn ours_json(lines: &[String]) -> usize {
    let mut decoder = Decoder::new(Limits::default());
    let mut bytes = 0;
    for (i, l) in lines.iter().enumerate() {
        if let Ok(Line::Decoded(d)) = decoder.process_line(black_box(l), i as u64)
            && gpsd::is_reported(&d.message)
        {
            bytes += gpsd::to_gpsd_json_line(&d.message, Some("stdin")).len() + 1;
        }
    }
    bytes
}

/// Median of `rounds` timings of `gpsdecode -j` reading `lines` from a file, in lines per
/// second (output to a pipe we drain); `None` when gpsdecode is not installed.
fn gpsdecode_rate(lines: &[String], rounds: usize) -> Option<(f64, usize)> {
    let path = std::env::temp_dir().join(format!("porttrack-ais-bench-{}.nmea", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").ok()?;
    let mut rates = Vec::new();
    let mut printed = 0;
    for _ in 0..rounds {
        let input = std::fs::File::open(&path).ok()?;
        let start = Instant::now();
        let out = Command::new("gpsdecode").arg("-j").stdin(input).stderr(Stdio::null()).output().ok()?;
        rates.push(lines.len() as f64 / start.elapsed().as_secs_f64());
        printed = out.stdout.iter().filter(|&&b| b == b'\n').count();
    }
    let _ = std::fs::remove_file(&path);
    Some((median(rates), printed))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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

/// Median of `rounds` timings of `f` over `lines`, in lines per second.
fn rate(lines: &[String], rounds: usize, f: fn(&[String]) -> usize) -> f64 {
    median(
        (0..rounds)
            .map(|_| {
                let start = Instant::now();
                black_box(f(lines));
                lines.len() as f64 / start.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn summary(inputs: &[(&str, &[String])]) {
    for (name, lines) in inputs {
        let (decode, json, b) = (rate(lines, 5, ours), rate(lines, 5, ours_json), rate(lines, 5, baseline));
        println!(
            "summary {name}: {} lines; medians of 5: porttrack-ais decode {decode:.0} lines/s, \
             decode+gpsd JSON {json:.0} lines/s, aivdm {b:.0} lines/s (decode ratio {:.2}; \
             decoded: ours {}, aivdm {})",
            lines.len(),
            decode / b,
            ours(lines),
            baseline(lines),
        );
        match gpsdecode_rate(lines, 5) {
            Some((g, printed)) => println!(
                "summary {name}: gpsdecode -j {g:.0} lines/s ({printed} objects); \
                 porttrack-ais/gpsdecode: decode+JSON {:.1}x, decode {:.1}x",
                json / g,
                decode / g
            ),
            None => println!("summary {name}: gpsdecode not installed, not measured"),
        }
    }
}

fn bench(c: &mut Criterion) {
    // `PORTTRACK_BENCH_LINES` sizes the generated inputs (CI's smoke run: small).
    let lines = std::env::var("PORTTRACK_BENCH_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let positions = positions(lines);
    let mixed = mixed(lines);
    let sample = gpsd_sample();
    summary(&[("positions", &positions), ("mixed", &mixed), ("gpsd_sample", &sample)]);

    let mut group = c.benchmark_group("positions");
    group.throughput(Throughput::Elements(positions.len() as u64));
    group.sample_size(20);
    group.bench_function("porttrack-ais Decoder", |b| b.iter(|| ours(&positions)));
    group.bench_function("porttrack-ais Sentence+Message", |b| b.iter(|| ours_layers(&positions)));
    group.bench_function("porttrack-ais Decoder + gpsd JSON", |b| b.iter(|| ours_json(&positions)));
    group.bench_function("aivdm LineDecoder", |b| b.iter(|| baseline(&positions)));
    group.finish();

    let mut group = c.benchmark_group("mixed");
    group.throughput(Throughput::Elements(mixed.len() as u64));
    group.sample_size(20);
    group.bench_function("porttrack-ais Decoder", |b| b.iter(|| ours(&mixed)));
    group.bench_function("porttrack-ais Decoder + gpsd JSON", |b| b.iter(|| ours_json(&mixed)));
    group.bench_function("aivdm LineDecoder", |b| b.iter(|| baseline(&mixed)));
    group.finish();

    let mut group = c.benchmark_group("gpsd_sample");
    group.throughput(Throughput::Elements(sample.len() as u64));
    group.bench_function("porttrack-ais Decoder", |b| b.iter(|| ours(&sample)));
    group.bench_function("aivdm LineDecoder", |b| b.iter(|| baseline(&sample)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
