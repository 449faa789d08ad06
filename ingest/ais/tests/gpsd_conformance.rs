#![allow(clippy::unwrap_used)]
//! Conformance with gpsd: decode every sentence of gpsd's `sample.aivdm` (in `../shared`)
//! and compare each supported message with the line `gpsdecode -j` printed for it in
//! `sample.aivdm.js.chk`, byte for byte and field by field. Messages of unsupported types
//! are skipped explicitly and listed.

use std::path::PathBuf;

use porttrack_ais::{Decoder, Error, Limits, gpsd};
use serde_json::Value;

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/ais/gpsd").join(name)
}

fn read(name: &str) -> String {
    let path = corpus(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What our decoder made of one line that gpsd reports on.
enum Outcome {
    Decoded { text: String, value: Value },
    Unsupported { message_type: u8 },
}

#[test]
fn sample_aivdm_matches_gpsdecode_json() {
    let expected: Vec<String> = read("sample.aivdm.js.chk").lines().map(str::to_owned).collect();
    let mut decoder = Decoder::new(Limits::default());
    let mut outcomes = Vec::new();
    let mut refused = Vec::new();
    for (n, line) in read("sample.aivdm").lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        match decoder.decode_line(line, n as u64) {
            Ok(Some(decoded)) if gpsd::is_reported(&decoded.message) => outcomes.push((
                line.to_owned(),
                Outcome::Decoded {
                    text: gpsd::to_gpsd_json_line(&decoded.message, Some("stdin")),
                    value: gpsd::to_gpsd_json(&decoded.message, Some("stdin")),
                },
            )),
            Ok(_) => {}
            Err(Error::UnsupportedType { message_type } | Error::UnsupportedBinary { message_type, .. }) => {
                outcomes.push((line.to_owned(), Outcome::Unsupported { message_type }));
            }
            Err(e) => refused.push(format!("{line} -> {e}")),
        }
    }
    // gpsd ignores these lines too: a fragment without its '!' start delimiter.
    assert_eq!(refused, vec!["AIVDM,2,2,1,B,00000000000,2*26 -> malformed sentence: no '!' start delimiter"]);
    assert_eq!(decoder.assembler().pending(), 0, "no fragment left behind");

    assert_eq!(outcomes.len(), expected.len(), "one outcome per gpsdecode line");
    let mut compared = std::collections::BTreeMap::<u64, usize>::new();
    let mut skipped = std::collections::BTreeMap::<u8, usize>::new();
    let mut failures = Vec::new();
    for ((line, outcome), want_text) in outcomes.iter().zip(&expected) {
        let want: Value = serde_json::from_str(want_text).unwrap();
        let want_type = want["type"].as_u64().unwrap();
        match outcome {
            Outcome::Unsupported { message_type } => {
                assert_eq!(u64::from(*message_type), want_type, "alignment at {line}");
                let supported = matches!(want_type, 1..=5 | 9 | 11 | 18 | 19 | 21 | 24 | 27)
                    || (want_type == 8 && want["dac"] == 1 && want["fid"] == 31);
                assert!(!supported, "supported type refused: {line}");
                *skipped.entry(*message_type).or_default() += 1;
            }
            Outcome::Decoded { text, value } => {
                *compared.entry(want_type).or_default() += 1;
                if text != want_text {
                    failures.push(format!("{line}\n  ours: {text}\n  gpsd: {want_text}"));
                }
                // Field by field, as JSON values (key order aside).
                let (ours, theirs) = (value.as_object().unwrap(), want.as_object().unwrap());
                for (key, v) in theirs {
                    if ours.get(key) != Some(v) {
                        failures.push(format!("{line}: {key}: ours {:?}, gpsd {v}", ours.get(key)));
                    }
                }
                for key in ours.keys().filter(|k| !theirs.contains_key(*k)) {
                    failures.push(format!("{line}: extra key {key}"));
                }
            }
        }
    }
    println!("compared with gpsdecode, by type: {compared:?}");
    println!("skipped (unsupported), by type: {skipped:?}");
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    // Every required type is exercised by the sample.
    for t in [1u64, 2, 3, 4, 5, 8, 9, 11, 18, 19, 21, 24, 27] {
        assert!(compared.contains_key(&t), "type {t} not compared");
    }
    assert_eq!(
        skipped.keys().copied().collect::<Vec<_>>(),
        vec![6, 7, 8, 10, 12, 13, 14, 15, 16, 17, 20, 22, 23, 25, 26]
    );
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
