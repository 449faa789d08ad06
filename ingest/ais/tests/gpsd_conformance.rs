#![allow(clippy::unwrap_used)]
//! Conformance with gpsd: decode every sentence of gpsd's `sample.aivdm` (in `../shared`)
//! and compare each message (every type, 1 to 27) with the line `gpsdecode -j` printed for
//! it in `sample.aivdm.js.chk`, field by field and byte for byte.

use std::path::PathBuf;

use porttrack_ais::{Decoder, Limits, Line, gpsd};
use serde_json::Value;

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/ais/gpsd").join(name)
}

fn read(name: &str) -> String {
    let path = corpus(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where the newer gpsd that wrote `sample.aivdm.js.chk` and Debian's gpsdecode 3.22 (our
/// reference for `--gpsd-json`, see `gpsdecode_oracle.rs`) print a field differently and we
/// print it as 3.22 does. Counted, not failed:
/// - type 27's `status` (3.22: the legend only, no `status_text`) and positions (one decimal);
/// - the positions of type 6/8 applications (3.22: 4 decimals, newer: 6), equal to 3.22's
///   precision.
fn follows_322(want_type: u64, key: &str, ours: Option<&Value>, theirs: &Value) -> bool {
    fn close(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() <= 0.51e-4
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && y.iter().all(|(k, b)| x.get(k).is_some_and(|a| close(a, b)))
            }
            (a, b) => a == b,
        }
    }
    match want_type {
        27 => matches!(key, "status" | "status_text" | "lon" | "lat"),
        6 | 8 => ours.is_some_and(|o| close(o, theirs)),
        _ => false,
    }
}

#[test]
fn sample_aivdm_matches_gpsdecode_json() {
    let expected: Vec<String> = read("sample.aivdm.js.chk").lines().map(str::to_owned).collect();
    let mut decoder = Decoder::new(Limits::default());
    let mut outcomes = Vec::new();
    let mut refused = Vec::new();
    let mut skipped = 0;
    for (n, line) in read("sample.aivdm").lines().enumerate() {
        match decoder.process_line(line, n as u64) {
            Ok(Line::Decoded(decoded)) if gpsd::is_reported(&decoded.message) => outcomes.push((
                line.to_owned(),
                gpsd::to_gpsd_json_line(&decoded.message, Some("stdin")),
                gpsd::to_gpsd_json(&decoded.message, Some("stdin")),
            )),
            Ok(Line::Decoded(_) | Line::Pending) => {}
            Ok(Line::Skipped(_)) => skipped += 1,
            Err(e) => refused.push(format!("{line} -> {e}")),
        }
    }
    // gpsd ignores these lines too: a fragment without its '!' start delimiter.
    assert_eq!(refused, vec!["AIVDM,2,2,1,B,00000000000,2*26 -> malformed sentence: no '!' start delimiter"]);
    assert!(skipped > 0, "the sample's comments are skipped");
    assert_eq!(decoder.finish(), vec![], "no fragment left behind");

    assert_eq!(outcomes.len(), expected.len(), "one message per gpsdecode line");
    let mut compared = std::collections::BTreeMap::<u64, usize>::new();
    let (mut counted, mut failures) = (0usize, Vec::new());
    for ((line, text, value), want_text) in outcomes.iter().zip(&expected) {
        let want: Value = serde_json::from_str(want_text).unwrap();
        let want_type = want["type"].as_u64().unwrap();
        *compared.entry(want_type).or_default() += 1;
        let (ours, theirs) = (value.as_object().unwrap(), want.as_object().unwrap());
        let mut differs = false;
        // Field by field, as JSON values (key order aside).
        for (key, v) in theirs {
            if ours.get(key) != Some(v) {
                if follows_322(want_type, key, ours.get(key), v) {
                    counted += 1;
                } else {
                    failures
                        .push(format!("type {want_type} {line}: {key}: ours {:?}, gpsd {v}", ours.get(key)));
                }
                differs = true;
            }
        }
        for key in ours.keys().filter(|k| !theirs.contains_key(*k)) {
            if want_type != 27 {
                failures.push(format!("type {want_type} {line}: extra key {key}"));
            }
            differs = true;
        }
        // Byte for byte, wherever no field differs (but for application positions printed
        // with 3.22's 4 decimals, equal as values: `0.0000` and `0.000000`).
        if !differs && text != want_text && matches!(want_type, 6 | 8) {
            counted += 1;
        } else if !differs && text != want_text {
            failures.push(format!("type {want_type} {line}\n  ours: {text}\n  gpsd: {want_text}"));
        }
    }
    println!("compared with gpsdecode, by type: {compared:?}; {counted} fields printed as 3.22 does");
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    // Every message type of the sample is decoded and compared: 1 to 27 except 0 and 28+.
    assert_eq!(compared.keys().copied().collect::<Vec<_>>(), (1..=27).collect::<Vec<u64>>());
    assert!(counted >= 2 * 4, "two type 27 messages, four fields each, at least");
}

#[test]
fn sample_error_classes_are_stable() {
    // Corrupt each supported line's checksum and payload: the classes the pipeline routes on.
    let line = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
    let mut decoder = Decoder::new(Limits::default());
    assert_eq!(decoder.decode_line(&line.replace("*4A", "*4B"), 0).unwrap_err().class(), "bad_checksum");
    let short = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208,0*58";
    assert_eq!(decoder.decode_line(short, 0).unwrap_err().class(), "too_short");
}
