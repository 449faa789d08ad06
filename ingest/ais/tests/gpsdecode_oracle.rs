#![allow(clippy::unwrap_used)]
//! gpsd as an oracle on generated input: random payloads of every supported type, wrapped
//! as (possibly multi-sentence) `!AIVDM` lines, are decoded by the installed `gpsdecode -j -s`
//! (Debian package `gpsd-clients`) and by us, and the decodes compared field by field.
//!
//! Skipped, with the reason printed, when `gpsdecode` is not installed.
//!
//! The byte-exact reference is `sample.aivdm.js.chk` (see `gpsd_conformance.rs`), written
//! by a newer gpsd than Debian's 3.22, whose JSON differs in formatting: 6 decimals for
//! positions (4 for FID 31, 1 for type 27), `"nan"` for an unavailable turn and the turn
//! as the unsigned square otherwise, type 27's status as text, FID 31 rendered with FID 11's
//! code tables, and older legend tables. Values are therefore compared numerically (to the
//! precision 3.22 prints), and those known formatting differences are counted, not failed.

use std::io::Write as _;
use std::process::{Command, Stdio};

use porttrack_ais::{Decoder, Limits, gpsd};
use serde_json::Value;

/// (type, 24 part, bits) of each supported shape.
const SHAPES: &[(u8, u8, usize)] = &[
    (1, 0, 168),
    (2, 0, 168),
    (3, 0, 168),
    (4, 0, 168),
    (5, 0, 424),
    (8, 0, 360),
    (9, 0, 168),
    (11, 0, 168),
    (18, 0, 168),
    (19, 0, 312),
    (21, 0, 272),
    (21, 0, 320),
    (24, 0, 168),
    (24, 1, 168),
    (27, 0, 96),
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn set(bits: &mut [bool], at: usize, width: usize, value: u64) {
    for i in 0..width {
        bits[at + i] = (value >> (width - 1 - i)) & 1 == 1;
    }
}

/// Lines for one random message of `shape`.
fn lines(rng: &mut Rng, (message_type, part, len): (u8, u8, usize), seq: usize) -> Vec<String> {
    let mut bits: Vec<bool> = (0..len).map(|_| rng.next() & 1 == 1).collect();
    set(&mut bits, 0, 6, message_type.into());
    if message_type == 8 {
        set(&mut bits, 40, 16, (1 << 6) | 31);
    }
    if message_type == 24 {
        set(&mut bits, 38, 2, part.into());
        // Same MMSI for both parts of a pair, so that gpsd and we merge them.
        set(&mut bits, 8, 30, 271_000_000 + (seq as u64 / 2));
    }
    let fill = (6 - len % 6) % 6;
    bits.resize(len + fill, false);
    let armored: String = bits
        .chunks(6)
        .map(|c| {
            let v = c.iter().fold(0u8, |a, &b| (a << 1) | u8::from(b));
            char::from(if v < 40 { v + b'0' } else { v + b'8' })
        })
        .collect();
    let chunks: Vec<&str> = armored.as_bytes().chunks(60).map(|c| std::str::from_utf8(c).unwrap()).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let seq_field = if chunks.len() > 1 { (seq % 10).to_string() } else { String::new() };
            let f = if i + 1 == chunks.len() { fill } else { 0 };
            let body = format!("AIVDM,{},{},{seq_field},A,{chunk},{f}", chunks.len(), i + 1);
            format!("!{body}*{:02X}", body.bytes().fold(0u8, |a, b| a ^ b))
        })
        .collect()
}

/// Known formatting differences of gpsdecode 3.22: (type, key) pairs not compared.
fn known_322_difference(message_type: u64, key: &str, ours: &Value, theirs: &Value) -> bool {
    match (message_type, key) {
        // "nan" for "n/a"; otherwise compared (see `same`).
        (1..=3, "turn") => theirs == "nan" && ours == "n/a",
        // Status as a legend, and 1-decimal positions (compared coarsely below).
        (27, "status") => true,
        // 3.22 prints FID 31 with FID 11's code tables (numbers plus *_text keys).
        (8, "preciptype" | "ice" | "accuracy" | "visgreater") => true,
        // 3.22 wraps water levels below datum in unsigned arithmetic (we do not: see crate docs).
        (8, "waterlevel") => theirs.as_f64().is_some_and(|v| v > 4.0e7),
        // 3.22's legend tables predate the newer gpsd's: status 11, 12, 14 were "Reserved",
        // EPFD 9-15 "INVALID EPFD".
        // EPFD 9-15 "INVALID EPFD", and one spelling changed since.
        (_, "status_text" | "epfd_text") => {
            theirs == "Reserved" || theirs == "INVALID EPFD" || theirs == "Restricted manoeuverability"
        }
        _ => false,
    }
}

fn tolerance(message_type: u64, key: &str) -> f64 {
    match (message_type, key) {
        (27, "lon" | "lat") => 0.051,
        (8, "lon" | "lat") => 0.51e-4,
        (_, "lon" | "lat") => 1.01e-6,
        _ => 1e-9,
    }
}

fn same(ours: &Value, theirs: &Value, tol: f64) -> bool {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() <= tol,
        // gpsd's turn legend: ours "%.2f" of the rate, 3.22's "%.0f" of its square.
        // The turn: ours (as the newer gpsd) "%.2f" of the signed rate, 3.22 "%.0f" of its magnitude.
        (Value::String(a), Value::Number(b)) => {
            a.parse::<f64>().is_ok_and(|x| (x.abs() - b.as_f64().unwrap()).abs() <= 0.5 + 1e-9)
        }
        (a, b) => a == b,
    }
}

#[test]
fn generated_messages_match_gpsdecode() {
    let Ok(probe) = Command::new("gpsdecode").arg("-V").output() else {
        println!("skipping: gpsdecode is not installed (Debian package gpsd-clients)");
        return;
    };
    println!("oracle: {}", String::from_utf8_lossy(&probe.stdout).trim());

    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut input = Vec::new();
    for round in 0..40 {
        for (i, shape) in SHAPES.iter().enumerate() {
            input.extend(lines(&mut rng, *shape, round * SHAPES.len() + i));
        }
    }

    let mut child = Command::new("gpsdecode")
        .args(["-j", "-s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = input.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let theirs: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();

    let mut decoder = Decoder::new(Limits::default());
    let ours: Vec<Value> = input
        .iter()
        .filter_map(|line| decoder.decode_line(line, 0).unwrap())
        .map(|d| gpsd::to_gpsd_json(&d.message, Some("stdin")))
        .collect();

    assert_eq!(ours.len(), theirs.len(), "as many messages as gpsdecode");
    let (mut fields, mut skipped, mut failures) = (0usize, 0usize, Vec::new());
    for (o, t) in ours.iter().zip(&theirs) {
        let message_type = t["type"].as_u64().unwrap();
        assert_eq!(o["type"], t["type"]);
        assert_eq!(o["mmsi"], t["mmsi"]);
        for (key, theirs_value) in t.as_object().unwrap() {
            let Some(ours_value) = o.get(key) else { continue };
            if known_322_difference(message_type, key, ours_value, theirs_value) {
                skipped += 1;
                continue;
            }
            fields += 1;
            if !same(ours_value, theirs_value, tolerance(message_type, key)) {
                failures
                    .push(format!("type {message_type} {key}: ours {ours_value}, gpsdecode {theirs_value}"));
            }
        }
    }
    println!(
        "{} messages, {fields} fields compared, {skipped} known 3.22 formatting differences",
        ours.len()
    );
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    assert!(fields > ours.len() * 10, "too few fields compared: {fields}");
}
