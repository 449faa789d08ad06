#![allow(clippy::unwrap_used)]
//! gpsd as an oracle on generated input: more than 10 000 messages of every type, 1 to 27,
//! are encoded with the encoder of `support/mod.rs`, wrapped as (possibly multi-sentence)
//! `!AIVDM` lines, decoded by the installed `gpsdecode -j` (Debian package `gpsd-clients`,
//! gpsd 3.22) and by us, and the two decodes compared field by field.
//!
//! The messages are random bits with, field by field, edge values mixed in: zero, all ones,
//! the most negative value of signed fields, and each field's "not available" and other
//! special values (speed 102.2, turn ±127, second 60–63, text full of `@` or spaces…), at
//! every length gpsd accepts and at lengths just outside (which both must refuse). Types 6
//! and 8 carry every DAC/FID gpsd 3.22 decodes, and random ones. Each message has its own
//! MMSI (a type 24 part A and its part B share one), so that every decode is matched with
//! gpsd's by MMSI: a message one side decodes and the other refuses is a failure too.
//!
//! Numbers are compared at the precision gpsdecode 3.22 prints (6 decimals for positions,
//! 4 for the positions of binary applications). A short list of fields where 3.22's
//! *formatting* differs from the newer gpsd our JSON follows byte for byte (the
//! `sample.aivdm.js.chk` of `gpsd_conformance.rs`) is counted, not failed; see
//! [`known_322_difference`].
//!
//! The oracle must be installed: the test fails without it, unless `PORTTRACK_REQUIRE_ORACLE=0`
//! (then it says so and passes, for machines that cannot install gpsd).

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::process::{Command, Stdio};

use porttrack_ais::{Decoder, Limits, Line, gpsd};
use serde_json::Value;
use support::{Rng, Writer, sentences};

/// A field of a message layout: start bit, width, special values besides 0 and all ones.
type Field = (usize, usize, &'static [u64]);

const LON28: u64 = 181 * 600_000;
const LAT27: u64 = 91 * 600_000;
const SECONDS: &[u64] = &[59, 60, 61, 62, 63];

/// Edge-valued fields of each type (those with special values or signs; the rest stay random).
fn fields(message_type: u8) -> &'static [Field] {
    match message_type {
        1..=3 => &[
            (38, 4, &[14, 15]),
            (42, 8, &[0x80, 0x81, 0x7f, 0x01, 0xff]),
            (50, 10, &[1022, 1023]),
            (61, 28, &[LON28]),
            (89, 27, &[LAT27]),
            (116, 12, &[3599, 3600]),
            (128, 9, &[359, 511]),
            (137, 6, SECONDS),
        ],
        4 | 11 => &[
            (38, 14, &[]),
            (52, 4, &[12]),
            (56, 5, &[31]),
            (61, 5, &[23, 24]),
            (66, 6, &[59, 60]),
            (72, 6, &[59, 60]),
            (79, 28, &[LON28]),
            (107, 27, &[LAT27]),
            (134, 4, &[7, 8, 9, 15]),
        ],
        5 => &[
            (40, 30, &[]),
            (70, 42, &[]),
            (112, 120, &[]),
            (232, 8, &[99, 100]),
            (270, 4, &[8, 15]),
            (274, 4, &[12]),
            (278, 5, &[31]),
            (283, 5, &[24]),
            (288, 6, &[60]),
            (294, 8, &[]),
            (302, 120, &[]),
        ],
        9 => &[
            (38, 12, &[4094, 4095]),
            (50, 10, &[1022, 1023]),
            (61, 28, &[LON28]),
            (89, 27, &[LAT27]),
            (116, 12, &[3600]),
            (128, 6, SECONDS),
        ],
        17 => &[(40, 18, &[181 * 600]), (58, 17, &[91 * 600])],
        18 | 19 => &[
            (46, 10, &[1022, 1023]),
            (57, 28, &[LON28]),
            (85, 27, &[LAT27]),
            (112, 12, &[3600]),
            (124, 9, &[511]),
            (133, 6, SECONDS),
            (263, 8, &[99, 100]),
            (301, 4, &[15]),
        ],
        21 => &[(38, 5, &[31]), (43, 120, &[]), (164, 28, &[LON28]), (192, 27, &[LAT27]), (249, 4, &[15])],
        22 => &[(69, 18, &[]), (87, 17, &[]), (104, 18, &[]), (122, 17, &[]), (139, 1, &[])],
        23 => &[
            (40, 18, &[]),
            (58, 17, &[]),
            (75, 18, &[]),
            (93, 17, &[]),
            (110, 4, &[6, 10]),
            (114, 8, &[99, 100]),
        ],
        27 => &[
            (40, 4, &[11, 14]),
            (44, 18, &[181 * 600]),
            (62, 17, &[91 * 600]),
            (79, 6, &[63]),
            (85, 9, &[511]),
        ],
        _ => &[],
    }
}

/// Lengths in bits of each type: those gpsd accepts, plus some just outside.
fn lengths(message_type: u8, rng: &mut Rng) -> usize {
    let pick = |rng: &mut Rng, options: &[usize]| options[rng.below(options.len() as u64) as usize];
    let span = |rng: &mut Rng, lo: usize, hi: usize| lo + rng.below((hi - lo + 1) as u64) as usize;
    // One message in 25 is just outside gpsd's bounds: both must refuse it.
    let outside = rng.below(25) == 0;
    match message_type {
        1..=3 if outside => pick(rng, &[162, 205]),
        1..=3 => pick(rng, &[163, 168, 168, 168, 174, 204]),
        4 | 11 | 9 | 18 if outside => 167,
        4 | 11 | 9 | 18 => pick(rng, &[168, 168, 174]),
        5 if outside => 419,
        5 => pick(rng, &[420, 422, 424, 424, 426]),
        6 if outside => pick(rng, &[87, 1009]),
        6 => span(rng, 88, 1008),
        7 | 13 if outside => pick(rng, &[71, 169]),
        7 | 13 => span(rng, 72, 168),
        8 if outside => pick(rng, &[55, 1009]),
        8 => span(rng, 56, 1008),
        10 if outside => 71,
        10 => pick(rng, &[72, 72, 78, 168]),
        12 if outside => pick(rng, &[71, 1009]),
        12 => span(rng, 72, 1008),
        14 if outside => pick(rng, &[39, 1009]),
        14 => span(rng, 40, 1008),
        15 if outside => pick(rng, &[87, 169]),
        15 => span(rng, 88, 168),
        16 if outside => pick(rng, &[95, 169]),
        16 => span(rng, 96, 168),
        17 if outside => pick(rng, &[79, 817]),
        17 => span(rng, 80, 816),
        19 if outside => 311,
        19 => pick(rng, &[312, 312, 318]),
        20 if outside => pick(rng, &[71, 187]),
        20 => span(rng, 72, 186),
        21 if outside => pick(rng, &[271, 369]),
        21 => span(rng, 272, 368),
        22 if outside => 167,
        22 => pick(rng, &[168, 168, 174]),
        23 if outside => 159,
        23 => pick(rng, &[160, 160, 168]),
        25 if outside => pick(rng, &[39, 169]),
        25 => span(rng, 40, 168),
        26 if outside => pick(rng, &[59, 1005]),
        26 => span(rng, 60, 1004),
        27 if outside => pick(rng, &[95, 97, 167]),
        27 => pick(rng, &[96, 96, 96, 168]),
        _ => 168,
    }
}

/// The (DAC, FID) pairs gpsd 3.22 decodes, type 6 and type 8.
const KNOWN_6: &[(u64, u64)] = &[
    (1, 12),
    (1, 14),
    (1, 15),
    (1, 16),
    (1, 18),
    (1, 20),
    (1, 23),
    (1, 25),
    (1, 28),
    (1, 30),
    (1, 32),
    (200, 21),
    (200, 22),
    (200, 55),
    (235, 10),
    (250, 10),
];
const KNOWN_8: &[(u64, u64)] = &[
    (1, 11),
    (1, 13),
    (1, 15),
    (1, 16),
    (1, 17),
    (1, 19),
    (1, 21),
    (1, 22),
    (1, 24),
    (1, 26),
    (1, 27),
    (1, 29),
    (1, 31),
    (200, 10),
    (200, 23),
    (200, 24),
    (200, 40),
];

/// One edge value for a field of `width` bits.
fn edge(rng: &mut Rng, width: usize, specials: &[u64]) -> u64 {
    let ones = if width >= 64 { u64::MAX } else { (1 << width) - 1 };
    match rng.below(4 + specials.len() as u64) {
        0 => 0,
        1 => ones,
        2 => 1 << (width - 1).min(63), // the most negative value of a signed field
        3 => 1,
        i => specials[(i - 4) as usize],
    }
}

/// The bits of one generated message of `message_type` with MMSI `mmsi`.
fn message(rng: &mut Rng, message_type: u8, mmsi: u64, part: u64) -> Writer {
    let len = lengths(message_type, rng);
    let mut w = Writer { bits: (0..len).map(|_| rng.next() & 1 == 1).collect() };
    w.set(0, 6, message_type.into()).set(8, 30, mmsi);
    for &(at, width, specials) in fields(message_type) {
        if at + width > len || rng.below(3) != 0 {
            continue;
        }
        if width > 60 {
            // Text: all '@', all spaces, or a '@' in the middle of trailing spaces.
            let code = [0u64, 32, 32][rng.below(3) as usize];
            for c in 0..width / 6 {
                let code = if code == 32 && c == width / 12 && rng.below(2) == 0 { 0 } else { code };
                w.set(at + 6 * c, 6, code);
            }
        } else {
            let value = edge(rng, width, specials);
            w.set(at, width, value);
        }
    }
    match message_type {
        6 | 8 => {
            let (dac_at, known) = if message_type == 6 { (72, KNOWN_6) } else { (40, KNOWN_8) };
            if dac_at + 16 <= len {
                let (dac, fid) = match rng.below(3) {
                    0 => (rng.below(1024), rng.below(64)),
                    _ => known[rng.below(known.len() as u64) as usize],
                };
                w.set(dac_at, 10, dac).set(dac_at + 10, 6, fid);
            }
        }
        12 | 14 => {
            // Text with an '@' (the end of the text for gpsd) or trailing spaces, now and then.
            let start = if message_type == 12 { 72 } else { 40 };
            let chars = (len.saturating_sub(start)) / 6;
            if chars > 0 && rng.below(3) == 0 {
                let at = rng.below(chars as u64) as usize;
                let code = if rng.below(2) == 0 { 0 } else { 32 };
                for c in at..chars {
                    w.set(start + 6 * c, 6, code);
                }
            }
        }
        24 => {
            w.set(38, 2, part);
        }
        _ => {}
    }
    w
}

/// Where gpsdecode 3.22 formats a field differently from the newer gpsd whose output we
/// follow byte for byte (`gpsd_conformance.rs`): counted, not failed. Each is formatting
/// only — the decoded value is the same:
/// - types 1–3 `turn` and `speed`: 3.22 prints `"nan"` for "not available" (newer:
///   `"n/a"`), and the rate of turn as `%.0f` of its magnitude (newer: the signed `%.2f`
///   rate, compared by [`same`]);
/// - type 21 with a name extension longer than ITU-R M.1371's 14 characters: 3.22 writes
///   the name past its buffer, over `accuracy` and `lon`, which it then prints (not a
///   formatting difference: a gpsd bug we do not reproduce);
/// - `status_text`, `epfd_text`: 3.22's older legend tables ("Reserved" for statuses 11, 12
///   and 14, "INVALID EPFD" for 9–14, "manoeuverability");
/// - lines 3.22 prints as invalid JSON (DAC 1 FID 19, see [`gpsdecode`]) cannot be compared.
fn known_322_difference(message_type: u64, key: &str, object: &Value, ours: &Value, theirs: &Value) -> bool {
    match (message_type, key) {
        (1..=3, "turn" | "speed") => theirs == "nan" && ours == "n/a",
        // A type 21 name extension of more than 14 characters overflows 3.22's 35-byte name
        // buffer into the fields decoded before it.
        (21, "accuracy" | "lon") => object["name"].as_str().is_some_and(|n| n.len() > 34),
        (_, "status_text" | "epfd_text") => {
            theirs == "Reserved" || theirs == "INVALID EPFD" || theirs == "Restricted manoeuverability"
        }
        _ => false,
    }
}

/// How far apart two numbers may be: half a unit of gpsdecode 3.22's last printed decimal.
fn tolerance(message_type: u64, key: &str) -> f64 {
    match (message_type, key) {
        // 3.22 prints 6 decimals where the newer gpsd prints 7 (types 22/23 and 17/27 are exact).
        (1..=5 | 9 | 11 | 18 | 19 | 21, "lon" | "lat") => 0.51e-6,
        // Binary applications' positions: 4 decimals in 3.22, 6 in the newer gpsd.
        (6 | 8, "lon" | "lat") => 0.51e-4,
        _ => 1e-9,
    }
}

fn same(message_type: u64, key: &str, ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() <= tolerance(message_type, key)
        }
        // The turn: ours (as the newer gpsd) "%.2f" of the signed rate, 3.22 "%.0f" of its magnitude.
        (Value::String(a), Value::Number(b)) if key == "turn" => {
            a.parse::<f64>().is_ok_and(|x| (x.abs() - b.as_f64().unwrap()).abs() <= 0.5 + 1e-9)
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(message_type, key, x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && b.iter().all(|(k, y)| a.get(k).is_some_and(|x| same(message_type, k, x, y)))
        }
        (a, b) => a == b,
    }
}

/// The oracle's version, or `None` when it is missing and allowed to be.
fn oracle() -> Option<String> {
    match Command::new("gpsdecode").arg("-V").output() {
        // 3.22 prints its version on stderr.
        Ok(out) => Some(
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
                .trim()
                .to_owned(),
        ),
        Err(e) => {
            let required = std::env::var("PORTTRACK_REQUIRE_ORACLE").map_or(true, |v| v != "0");
            assert!(
                !required,
                "gpsdecode is not installed ({e}): apt-get install gpsd-clients, \
                 or set PORTTRACK_REQUIRE_ORACLE=0 to run without the oracle"
            );
            println!("NOT RUN: gpsdecode is not installed and PORTTRACK_REQUIRE_ORACLE=0");
            None
        }
    }
}

/// gpsdecode's output: the objects it printed, and the (MMSI, type) of the lines that are not
/// valid JSON. 3.22 prints DAC 1 FID 19 (marine traffic signal) without the comma before
/// `"nextsignal_text"` and with unescaped quotes in some signal legends.
fn gpsdecode(input: &[String]) -> (Vec<Value>, Vec<(u64, u64)>) {
    let mut child = Command::new("gpsdecode")
        .args(["-j"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = input.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let (mut values, mut invalid) = (Vec::new(), Vec::new());
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        match serde_json::from_str(line) {
            Ok(value) => values.push(value),
            Err(_) => {
                let number = |key: &str| -> u64 {
                    let at = line.find(key).unwrap() + key.len();
                    line[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
                };
                invalid.push((number("\"mmsi\":"), number("\"type\":")));
            }
        }
    }
    (values, invalid)
}

/// Every type (24 counts its two parts), this many times.
const ROUNDS: usize = 420;

#[test]
fn generated_messages_match_gpsdecode() {
    let Some(version) = oracle() else { return };
    println!("oracle: {version}");

    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut input = Vec::new();
    let mut generated = BTreeMap::<u8, usize>::new();
    let mut mmsi = 100_000_000u64;
    for round in 0..ROUNDS {
        for message_type in 1u8..=27 {
            mmsi += 1;
            let parts: &[u64] = if message_type == 24 { &[0, 1] } else { &[0] };
            // Auxiliary craft (98xxxxxxx) carry a mother ship MMSI in their type 24 part B.
            let id = if message_type == 24 && round % 4 == 0 { 980_000_000 + mmsi } else { mmsi };
            for &part in parts {
                let w = message(&mut rng, message_type, id, part);
                let (armored, fill) = w.armor();
                input.extend(sentences(&armored, fill, input.len()));
                *generated.entry(message_type).or_default() += 1;
            }
        }
    }
    let total: usize = generated.values().sum();
    assert!(total >= 10_000, "{total} messages generated");

    let (theirs, invalid) = gpsdecode(&input);
    let mut decoder = Decoder::new(Limits::default());
    let mut ours = Vec::new();
    for line in &input {
        match decoder.process_line(line, 0) {
            Ok(Line::Decoded(d)) if gpsd::is_reported(&d.message) => {
                ours.push(gpsd::to_gpsd_json(&d.message, Some("stdin")));
            }
            Ok(_) | Err(_) => {}
        }
    }
    assert_eq!(decoder.finish(), vec![], "no fragment left pending");

    let by_mmsi = |values: &[Value]| -> HashMap<(u64, u64), Value> {
        values
            .iter()
            .map(|v| ((v["mmsi"].as_u64().unwrap(), v["type"].as_u64().unwrap()), v.clone()))
            .collect()
    };
    let (ours, theirs) = (by_mmsi(&ours), by_mmsi(&theirs));
    let mut failures = Vec::new();
    let (mut fields, mut counted, mut both) =
        (0usize, BTreeMap::<String, usize>::new(), BTreeMap::<u64, usize>::new());
    for (key, t) in &theirs {
        let Some(o) = ours.get(key) else {
            failures.push(format!("type {} mmsi {}: gpsdecode decodes it, we refuse it", key.1, key.0));
            continue;
        };
        let message_type = key.1;
        *both.entry(message_type).or_default() += 1;
        for (k, theirs_value) in t.as_object().unwrap() {
            let Some(ours_value) = o.get(k) else {
                failures.push(format!(
                    "type {message_type} mmsi {}: {k} missing (gpsdecode {theirs_value})",
                    key.0
                ));
                continue;
            };
            if known_322_difference(message_type, k, o, ours_value, theirs_value) {
                *counted.entry(k.clone()).or_default() += 1;
                continue;
            }
            fields += 1;
            if !same(message_type, k, ours_value, theirs_value) {
                failures.push(format!(
                    "type {message_type} mmsi {}: {k}: ours {ours_value}, gpsdecode {theirs_value}",
                    key.0
                ));
            }
        }
        for k in o.as_object().unwrap().keys().filter(|k| !t.as_object().unwrap().contains_key(*k)) {
            failures.push(format!("type {message_type} mmsi {}: extra key {k}", key.0));
        }
    }
    // Lines gpsdecode printed as invalid JSON: not compared, counted; we must decode them.
    for key in &invalid {
        *counted.entry("gpsdecode invalid JSON (DAC 1 FID 19)".to_owned()).or_default() += 1;
        if !ours.contains_key(key) {
            failures.push(format!("type {} mmsi {}: gpsdecode decodes it, we refuse it", key.1, key.0));
        }
    }
    for key in ours.keys().filter(|k| !theirs.contains_key(*k) && !invalid.contains(k)) {
        failures.push(format!("type {} mmsi {}: we decode it, gpsdecode refuses it", key.1, key.0));
    }
    let agreed = fields.saturating_sub(failures.len());
    println!(
        "{total} messages generated ({} lines); gpsdecode printed {}; both decoded, by type: {both:?}; \
         {fields} fields compared, {agreed} agree ({:.4}%); counted 3.22 formatting differences: {counted:?}",
        input.len(),
        theirs.len() + invalid.len(),
        100.0 * agreed as f64 / fields.max(1) as f64,
    );
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} differences (first 60):\n{}",
        failures.len(),
        failures.iter().take(60).cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(
        both.keys().copied().collect::<Vec<_>>(),
        (1..=27).collect::<Vec<u64>>(),
        "every type compared"
    );
}
