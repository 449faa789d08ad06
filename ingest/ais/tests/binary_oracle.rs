#![allow(clippy::unwrap_used)]
//! gpsd as the oracle for type 6/8 application payloads: generated messages for every
//! DAC/FID gpsd 3.22 decodes (plus lengths it refuses, ids it leaves undecoded and unknown
//! ids, which must come out as raw data), wrapped as `!AIVDM` sentences (multi-sentence
//! when long), decoded by the installed `gpsdecode -j` (Debian package `gpsd-clients`) and
//! by `Decoder` + `gpsd::to_gpsd_json_line`, and compared field by field.
//!
//! Payload bits are random, all ones (the largest values, and many "not available" codes at
//! once), all zeros, or random runs of ones and zeros (extremes of single fields); and, for
//! each application with positions, times or other sentinels, those "not available" codes
//! placed at their offsets on a random or zero background (`SENTINELS`).
//!
//! gpsd 3.22 prints invalid JSON for two applications (type 8 DAC 1 FID 19 lacks a comma;
//! inland strings are not escaped, so a `"` or `\` in them breaks the line): when gpsd's
//! line does not parse, the lines are compared as text, byte for byte.
//!
//! The test fails when `gpsdecode` is missing, unless `PORTTRACK_REQUIRE_ORACLE=0`.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::{Command, Stdio};

use porttrack_ais::{Decoder, Limits, gpsd};
use serde_json::Value;
use support::{Rng, Writer, sentences};

mod support;

/// Messages generated per shape and data mode.
const ROUNDS: usize = 20;

/// (message type, DAC, FID, data lengths in bits; empty = random lengths in the type's range).
const SHAPES: &[(u8, u16, u8, &[usize])] = &[
    // DAC 1, type 8.
    (8, 1, 11, &[296, 290, 200, 0]),
    (8, 1, 31, &[304, 294, 350, 100]),
    (8, 1, 13, &[416, 300]),
    (8, 1, 15, &[16, 0]),
    (8, 1, 16, &[136, 72, 136, 72, 71, 137, 30]),
    (8, 1, 17, &[]),
    (8, 1, 19, &[258, 360, 100]),
    (8, 1, 27, &[]),
    (8, 1, 29, &[]),
    // DAC 1, type 6.
    (6, 1, 12, &[272, 100]),
    (6, 1, 14, &[]),
    (6, 1, 15, &[]),
    (6, 1, 16, &[136, 48, 0]),
    (6, 1, 18, &[272, 100]),
    (6, 1, 20, &[272, 100]),
    (6, 1, 25, &[]),
    (6, 1, 28, &[]),
    (6, 1, 30, &[]),
    (6, 1, 32, &[]),
    // Inland (DAC 200) and GLA (235/250), exact lengths and one bit off.
    (8, 200, 10, &[112, 112, 112, 111, 113]),
    (8, 200, 23, &[200, 200, 200, 199]),
    (8, 200, 24, &[112, 112, 112, 113]),
    (8, 200, 40, &[112, 112, 112, 111]),
    (6, 200, 21, &[160, 160, 160, 161]),
    (6, 200, 22, &[144, 144, 144, 143]),
    (6, 200, 55, &[80, 80, 80, 81]),
    (6, 235, 10, &[48, 48, 48, 47]),
    (6, 250, 10, &[48, 48, 48, 49]),
    // Ids gpsd 3.22 leaves undecoded (area notices, weather observation, …): raw.
    (8, 1, 22, &[]),
    (6, 1, 23, &[]),
    (8, 1, 21, &[]),
    (8, 1, 24, &[]),
    (8, 1, 26, &[]),
    (8, 1, 25, &[]),
    (6, 1, 40, &[16, 0]),
    (8, 200, 55, &[112]),
    (6, 200, 10, &[112]),
    (6, 235, 11, &[48]),
];

/// "Not available" codes (and a few other edges) placed at known data offsets, on a random
/// or zero background: (type, DAC, FID, data bits, [(offset, width, value)]).
/// A data field set to a chosen value: (offset in the application data, width, value).
type Field = (usize, usize, u64);

const SENTINELS: &[(u8, u16, u8, usize, &[Field])] = &[
    // Position 181°/91° at 1/1000 minute, time 0/0/24/60.
    (
        6,
        1,
        18,
        272,
        &[(180, 25, 181 * 60_000), (205, 24, 91 * 60_000), (10, 4, 0), (14, 5, 0), (19, 5, 24), (24, 6, 60)],
    ),
    (
        6,
        1,
        20,
        272,
        &[(223, 25, 181 * 60_000), (248, 24, 91 * 60_000), (39, 5, 24), (44, 6, 60), (10, 9, 0), (19, 8, 0)],
    ),
    (
        6,
        1,
        12,
        272,
        &[(30, 4, 0), (34, 5, 0), (39, 5, 24), (44, 6, 60), (80, 4, 0), (84, 5, 0), (89, 5, 24), (94, 6, 60)],
    ),
    (
        8,
        1,
        13,
        416,
        &[(372, 5, 0), (377, 4, 0), (381, 5, 24), (386, 6, 60), (392, 5, 0), (397, 4, 0), (401, 5, 24)],
    ),
    (
        8,
        1,
        17,
        244,
        &[(48, 24, 91 * 60_000), (72, 25, 181 * 60_000), (97, 9, 360), (106, 6, 60), (112, 10, 255)],
    ),
    (8, 1, 19, 258, &[(130, 25, 181 * 60_000), (155, 24, 91 * 60_000), (186, 5, 24), (191, 6, 60)]),
    (
        8,
        1,
        27,
        171,
        &[(56, 5, 2), (38, 18, 262_143), (61, 28, 181 * 600_000), (89, 27, 91 * 600_000), (18, 4, 0)],
    ),
    (6, 1, 28, 116, &[(56, 5, 1), (38, 18, 262_143), (61, 28, 181 * 600_000), (89, 27, 91 * 600_000)]),
    (8, 1, 11, 296, &[(0, 24, 0x7F_FFFF), (24, 25, 0xFF_FFFF), (144, 9, 511), (97, 11, 2047)]),
    (8, 1, 11, 296, &[(0, 24, 91 * 60_000), (24, 25, 181 * 60_000), (144, 9, 0), (97, 11, 0)]),
    (8, 1, 31, 294, &[(0, 25, 181 * 60_000), (25, 24, 91 * 60_000), (145, 12, 4001), (98, 11, 0x400)]),
    (8, 1, 31, 294, &[(145, 12, 999), (98, 11, 0x3FF), (270, 10, 0x200), (116, 10, 501)]),
    (
        8,
        200,
        23,
        200,
        &[(56, 28, 181 * 600_000), (84, 27, 91 * 600_000), (111, 28, 181 * 600_000), (139, 27, 91 * 600_000)],
    ),
    (8, 200, 40, 112, &[(0, 28, 181 * 600_000), (28, 27, 91 * 600_000), (55, 4, 0)]),
    (8, 200, 10, 112, &[(85, 3, 5), (99, 2, 3), (48, 13, 0), (71, 14, 8010)]),
    (8, 200, 10, 112, &[(85, 3, 4), (99, 2, 2), (71, 14, 79)]),
    (6, 200, 21, 160, &[(120, 4, 0), (124, 5, 0), (129, 5, 24), (134, 6, 60)]),
    (6, 200, 22, 144, &[(120, 4, 0), (124, 5, 0), (129, 5, 24), (134, 6, 60), (140, 2, 3)]),
];

/// Unknown ids (random DAC/FID) per round and type.
const UNKNOWN_PER_ROUND: usize = 6;

/// How the application data bits are chosen.
#[derive(Clone, Copy)]
enum Mode {
    Random,
    Ones,
    Zeros,
    Runs,
}

const MODES: [Mode; 4] = [Mode::Random, Mode::Ones, Mode::Zeros, Mode::Runs];

fn data_bits(rng: &mut Rng, mode: Mode, len: usize) -> Vec<bool> {
    match mode {
        Mode::Random => (0..len).map(|_| rng.next() & 1 == 1).collect(),
        Mode::Ones => vec![true; len],
        Mode::Zeros => vec![false; len],
        Mode::Runs => {
            let mut bits = Vec::with_capacity(len);
            let mut value = rng.next() & 1 == 1;
            while bits.len() < len {
                let run = 1 + rng.below(24) as usize;
                bits.extend(std::iter::repeat_n(value, run.min(len - bits.len())));
                value = !value;
            }
            bits
        }
    }
}

/// The sentences of one message, with `mmsi` identifying it in both outputs.
fn message(
    rng: &mut Rng,
    message_type: u8,
    dac: u16,
    fid: u8,
    data: &[bool],
    mmsi: u32,
    seq: usize,
) -> Vec<String> {
    let mut w = Writer::default();
    w.header(message_type, (rng.next() % 4) as u8, mmsi);
    if message_type == 6 {
        w.u(rng.below(4), 2).u(rng.below(1 << 30), 30).u(rng.below(2), 1).u(0, 1);
    } else {
        w.u(0, 2);
    }
    w.u(dac.into(), 10).u(fid.into(), 6);
    w.bits.extend_from_slice(data);
    let (armored, fill) = w.armor();
    sentences(&armored, fill, seq)
}

/// Data length for a shape: a listed one (0 = just the header), or random within gpsd's
/// range for the type (type 6: 88–1008 message bits, type 8: 56–1008).
fn pick_len(rng: &mut Rng, message_type: u8, lens: &[usize]) -> usize {
    let header = if message_type == 6 { 88 } else { 56 };
    if lens.is_empty() || rng.below(4) == 0 {
        rng.below((1008 - header + 1) as u64) as usize
    } else {
        lens[rng.below(lens.len() as u64) as usize]
    }
}

fn gpsdecode(input: &[String]) -> Option<String> {
    let mut child = Command::new("gpsdecode")
        .arg("-j")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take().unwrap();
    let text = input.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Some(String::from_utf8(output.stdout).unwrap())
}

/// The MMSI of a gpsd JSON line, read without parsing (some of gpsd's lines are not JSON).
fn mmsi_of(line: &str) -> Option<u32> {
    let rest = &line[line.find("\"mmsi\":")? + 7..];
    rest[..rest.find(',')?].parse().ok()
}

#[test]
fn generated_binary_messages_match_gpsdecode_field_for_field() {
    let required = std::env::var("PORTTRACK_REQUIRE_ORACLE").map_or(true, |v| v != "0");
    let probe = Command::new("gpsdecode").arg("-V").output();
    if probe.is_err() {
        assert!(
            !required,
            "gpsdecode is not installed (Debian package gpsd-clients); set PORTTRACK_REQUIRE_ORACLE=0 to skip"
        );
        println!("skipping: gpsdecode is not installed and PORTTRACK_REQUIRE_ORACLE=0");
        return;
    }
    let probe = probe.unwrap();
    let version = [probe.stdout, probe.stderr].concat();
    println!("oracle: {}", String::from_utf8_lossy(&version).trim());

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut input = Vec::new();
    // mmsi -> (type, dac, fid, data bits)
    let mut shapes: HashMap<u32, (u8, u16, u8, usize)> = HashMap::new();
    let mut mmsi = 100_000_000u32;
    let mut add = |rng: &mut Rng, input: &mut Vec<String>, t: u8, dac: u16, fid: u8, data: Vec<bool>| {
        mmsi += 1;
        shapes.insert(mmsi, (t, dac, fid, data.len()));
        input.extend(message(rng, t, dac, fid, &data, mmsi, mmsi as usize));
    };
    for _ in 0..ROUNDS {
        for &(t, dac, fid, lens) in SHAPES {
            for mode in MODES {
                let len = pick_len(&mut rng, t, lens);
                let data = data_bits(&mut rng, mode, len);
                add(&mut rng, &mut input, t, dac, fid, data);
            }
        }
        for &(t, dac, fid, len, fields) in SENTINELS {
            for mode in [Mode::Random, Mode::Zeros] {
                let mut data = data_bits(&mut rng, mode, len);
                for &(at, width, value) in fields {
                    for i in 0..width {
                        data[at + i] = (value >> (width - 1 - i)) & 1 == 1;
                    }
                }
                add(&mut rng, &mut input, t, dac, fid, data);
            }
        }
        for t in [6u8, 8] {
            for _ in 0..UNKNOWN_PER_ROUND {
                let (dac, fid) = ((rng.next() % 1024) as u16, (rng.next() % 64) as u8);
                let len = pick_len(&mut rng, t, &[]);
                let mode = MODES[rng.below(4) as usize];
                let data = data_bits(&mut rng, mode, len);
                add(&mut rng, &mut input, t, dac, fid, data);
            }
        }
    }
    let generated = shapes.len();

    let Some(theirs) = gpsdecode(&input) else {
        assert!(!required, "gpsdecode could not be run");
        return;
    };
    let theirs: HashMap<u32, &str> = theirs.lines().filter_map(|l| Some((mmsi_of(l)?, l))).collect();

    let mut decoder = Decoder::new(Limits::default());
    let mut ours: HashMap<u32, String> = HashMap::new();
    for line in &input {
        if let Some(decoded) = decoder.decode_line(line, 0).unwrap() {
            let json = gpsd::to_gpsd_json_line(&decoded.message, Some("stdin"));
            ours.insert(decoded.message.mmsi(), json);
        }
    }

    let (mut fields, mut text_compared, mut exact_lines) = (0usize, 0usize, 0usize);
    let mut per_app: HashMap<(u8, u16, u8, bool), usize> = HashMap::new();
    let mut failures = Vec::new();
    let mut mmsis: Vec<u32> = shapes.keys().copied().collect();
    mmsis.sort_unstable();
    for m in mmsis {
        let shape = shapes[&m];
        let (Some(t), Some(o)) = (theirs.get(&m), ours.get(&m)) else {
            failures.push(format!("{shape:?}: gpsdecode {:?}, ours {:?}", theirs.get(&m), ours.get(&m)));
            continue;
        };
        if *t == o.as_str() {
            exact_lines += 1;
        }
        let raw = t.contains("\"data\":\"");
        let listed = SHAPES.iter().any(|&(t, dac, fid, _)| (t, dac, fid) == (shape.0, shape.1, shape.2));
        // Random ids are counted together, as DAC 0 FID 0.
        let key = if listed { (shape.0, shape.1, shape.2, raw) } else { (shape.0, 0, 0, raw) };
        *per_app.entry(key).or_default() += 1;
        match serde_json::from_str::<Value>(t) {
            Ok(theirs_value) => {
                let ours_value: Value = match serde_json::from_str(o) {
                    Ok(v) => v,
                    Err(e) => {
                        failures.push(format!("{shape:?}: our line is not JSON ({e}): {o}"));
                        continue;
                    }
                };
                let (to, oo) = (theirs_value.as_object().unwrap(), ours_value.as_object().unwrap());
                if to.keys().collect::<Vec<_>>() != oo.keys().collect::<Vec<_>>() {
                    failures.push(format!("{shape:?}: keys differ\n  gpsdecode {t}\n  ours      {o}"));
                    continue;
                }
                for (key, tv) in to {
                    fields += 1;
                    if oo[key] != *tv {
                        failures.push(format!("{shape:?} {key}: ours {}, gpsdecode {tv}\n  {t}", oo[key]));
                    }
                }
            }
            Err(_) => {
                text_compared += 1;
                if *t != o.as_str() {
                    failures.push(format!("{shape:?}: (text)\n  gpsdecode {t}\n  ours      {o}"));
                }
            }
        }
    }
    let mut apps: Vec<_> = per_app.into_iter().collect();
    apps.sort_unstable();
    for ((t, dac, fid, raw), n) in &apps {
        let id = if *dac == 0 { "random DAC/FID".to_owned() } else { format!("DAC {dac} FID {fid}") };
        println!("type {t} {id}{}: {n}", if *raw { " (raw)" } else { "" });
    }
    println!(
        "{generated} messages generated, {} decoded by gpsdecode; {fields} fields compared, {text_compared} \
         lines compared as text (gpsd's output is not JSON), {exact_lines} lines byte-identical; {} differences",
        theirs.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(generated >= 3000, "too few messages: {generated}");
    assert_eq!(theirs.len(), generated, "gpsdecode decoded every generated message");
}

/// gpsd's own `sample.aivdm` (in `../shared/corpus/ais/gpsd`, as `gpsd_conformance.rs`
/// reads it): every type 6/8 message, single- and multi-sentence, rendered as gpsdecode 3.22
/// renders it, in order.
#[test]
fn gpsd_sample_binary_messages_match_gpsdecode() {
    let required = std::env::var("PORTTRACK_REQUIRE_ORACLE").map_or(true, |v| v != "0");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/ais/gpsd/sample.aivdm");
    let sample = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let lines: Vec<String> = sample.lines().map(str::to_owned).collect();
    let Some(theirs) = gpsdecode(&lines) else {
        assert!(!required, "gpsdecode is not installed (Debian package gpsd-clients)");
        return;
    };
    let binary = |l: &&str| l.contains("\"type\":6,") || l.contains("\"type\":8,");
    let theirs: Vec<&str> = theirs.lines().filter(binary).collect();
    let mut decoder = Decoder::new(Limits::default());
    let ours: Vec<String> = lines
        .iter()
        .filter_map(|line| decoder.decode_line(line, 0).ok().flatten())
        .filter(|d| matches!(d.message.message_type(), 6 | 8))
        .map(|d| gpsd::to_gpsd_json_line(&d.message, Some("stdin")))
        .collect();
    println!("{} type 6/8 messages in gpsd's sample", theirs.len());
    assert!(theirs.len() >= 20, "the sample has type 6/8 messages");
    assert_eq!(ours, theirs);
}
