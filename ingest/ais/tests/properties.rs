#![allow(clippy::unwrap_used)]
//! Property tests.
//!
//! - Round trips: random payload bits of every type, 1 to 27, at every length gpsd accepts
//!   (all field values, the "not available" ones included) decode; the encoder of
//!   `support/mod.rs`, written from the bit layouts, turns the decoded message back into a
//!   payload, which decodes to the same message.
//! - The two gpsd JSON renderings agree: the text line parses to the `Value`.
//! - Nothing panics: arbitrary strings as lines, arbitrary bytes as payloads, and valid
//!   sentences with random fragment fields fed through one decoder.

use porttrack_ais::{Decoder, Limits, Message, Sentence, gpsd};
use proptest::prelude::*;

mod support;

use support::{Writer, nmea};

fn encode(message: &Message) -> (String, u8) {
    support::encode(message).armor()
}

// ---------------------------------------------------------------- generators

/// (message type, 24 part, length in bits) of every shape gpsd accepts, for all 27 types.
fn shape() -> impl Strategy<Value = (u8, u8, usize)> {
    prop_oneof![
        (1u8..=3).prop_map(|t| (t, 0, 168)),
        Just((4, 0, 168)),
        Just((11, 0, 168)),
        Just((5, 0, 424)),
        (88usize..=1008).prop_map(|len| (6, 0, len)),
        (prop::sample::select(vec![7u8, 13]), 1usize..=4).prop_map(|(t, n)| (t, 0, 40 + 32 * n)),
        (56usize..=1008).prop_map(|len| (8, 0, len)),
        Just((9, 0, 168)),
        Just((10, 0, 72)),
        (0usize..=156).prop_map(|k| (12, 0, 72 + 6 * k)),
        (0usize..=161).prop_map(|k| (14, 0, 40 + 6 * k)),
        prop::sample::select(vec![88usize, 110, 160, 168]).prop_map(|len| (15, 0, len)),
        prop::sample::select(vec![96usize, 144, 168]).prop_map(|len| (16, 0, len)),
        (80usize..=816).prop_map(|len| (17, 0, len)),
        Just((18, 0, 168)),
        Just((19, 0, 312)),
        (72usize..=186).prop_map(|len| (20, 0, len)),
        (0usize..=14).prop_map(|k| (21, 0, 272 + 6 * k)),
        Just((22, 0, 168)),
        Just((23, 0, 160)),
        Just((24, 0, 168)),
        Just((24, 1, 168)),
        (0u8..4, 86usize..=168).prop_map(|(flags, len)| (25, flags, len)),
        (0u8..4, 106usize..=1004).prop_map(|(flags, len)| (26, flags, len)),
        prop::sample::select(vec![96usize, 168]).prop_map(|len| (27, 0, len)),
    ]
}

/// Random payload bits of the given shape. Types 6 and 8 get a DAC (2–199) no application
/// decoder claims, so that their payload stays raw and re-encodes; types 25 and 26 get the
/// addressed/structured flags of the shape.
fn payload() -> impl Strategy<Value = (String, u8)> {
    (shape(), 2u64..200).prop_flat_map(|((t, part, len), dac)| {
        prop::collection::vec(any::<bool>(), len).prop_map(move |bits| {
            let mut w = Writer { bits };
            w.set(0, 6, t.into());
            match t {
                6 => {
                    w.set(72, 10, dac);
                }
                8 => {
                    w.set(40, 10, dac);
                }
                24 => {
                    w.set(38, 2, part.into());
                }
                25 | 26 => {
                    w.set(38, 2, part.into());
                }
                _ => {}
            }
            w.armor()
        })
    })
}

fn armored_char() -> impl Strategy<Value = char> {
    (0u8..64).prop_map(|v| char::from(if v < 40 { v + b'0' } else { v + b'8' }))
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encode_decode_round_trip((armored, fill) in payload()) {
        let decoded = Message::decode_armored(armored.as_bytes(), fill).unwrap();
        let (again, again_fill) = encode(&decoded);
        let redecoded = Message::decode_armored(again.as_bytes(), again_fill).unwrap();
        prop_assert_eq!(&decoded, &redecoded);
    }

    #[test]
    fn gpsd_text_and_value_agree((armored, fill) in payload()) {
        let message = Message::decode_armored(armored.as_bytes(), fill).unwrap();
        let line = gpsd::to_gpsd_json_line(&message, Some("stdin"));
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(parsed, gpsd::to_gpsd_json(&message, Some("stdin")));
    }

    #[test]
    fn through_sentences_and_decoder((armored, fill) in payload(), parts in 1usize..=3) {
        // Split into fragments, wrap as sentences, decode: the same message as directly.
        let direct = Message::decode_armored(armored.as_bytes(), fill).unwrap();
        let chunk = armored.len().div_ceil(parts).max(1);
        let pieces: Vec<&str> = armored.as_bytes().chunks(chunk).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let mut decoder = Decoder::new(Limits::default());
        let mut out = None;
        for (i, piece) in pieces.iter().enumerate() {
            let last = i + 1 == pieces.len();
            let line = nmea(&format!("AIVDM,{},{},3,B,{piece},{}", pieces.len(), i + 1, if last { fill } else { 0 }));
            out = decoder.decode_line(&line, 0).unwrap();
            prop_assert_eq!(out.is_some(), last);
        }
        prop_assert_eq!(out.unwrap().message, direct);
    }

    #[test]
    fn position_lengths_gpsd_accepts(len in 163usize..=204, bits in prop::collection::vec(any::<bool>(), 204)) {
        let mut w = Writer { bits: bits[..len].to_vec() };
        w.set(0, 6, 1);
        let (armored, fill) = w.armor();
        prop_assert!(matches!(Message::decode_armored(armored.as_bytes(), fill), Ok(Message::Position(_))));
    }

    #[test]
    fn arbitrary_lines_never_panic(line in ".{0,120}") {
        let _ = Sentence::parse(&line);
        let mut decoder = Decoder::new(Limits::default());
        let _ = decoder.decode_line(&line, 0);
    }

    #[test]
    fn arbitrary_payload_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), fill in any::<u8>()) {
        if let Ok(message) = Message::decode_armored(&bytes, fill) {
            let _ = gpsd::to_gpsd_json_line(&message, None);
        }
    }

    #[test]
    fn random_sentences_never_panic(
        sentences in prop::collection::vec(
            (1u8..=9, 1u8..=9, prop::option::of(0u8..=9), prop::sample::select(vec!["A", "B", "", "1", "2"]),
             prop::collection::vec(armored_char(), 0..90), 0u8..=5, any::<bool>()),
            1..40),
        max_pending in 1usize..4,
    ) {
        let mut decoder = Decoder::new(Limits { max_pending, timeout_ms: 5 });
        for (now, (count, number, seq, channel, payload, fill, tagged)) in sentences.into_iter().enumerate() {
            let payload: String = payload.into_iter().collect();
            let seq = seq.map(|s| s.to_string()).unwrap_or_default();
            let body = format!("AIVDM,{count},{number},{seq},{channel},{payload},{fill}");
            let line = if tagged {
                let tags = format!("g:{number}-{count}-42,s:r1,c:{now}");
                format!("\\{tags}*{:02X}\\{}", tags.bytes().fold(0u8, |a, b| a ^ b), nmea(&body))
            } else {
                nmea(&body)
            };
            if let Ok(Some(decoded)) = decoder.decode_line(&line, now as u64) {
                let _ = gpsd::to_gpsd_json_line(&decoded.message, None);
            }
            decoder.take_dropped().for_each(drop);
            decoder.expire(now as u64);
            prop_assert!(decoder.assembler().pending() <= max_pending);
        }
    }
}
