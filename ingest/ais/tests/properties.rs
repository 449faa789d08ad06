#![allow(clippy::unwrap_used)]
//! Property tests.
//!
//! - Round trips: random payload bits of every supported type (all field values, the
//!   "not available" ones included) decode; a small encoder written here from the bit
//!   layouts turns the decoded message back into a payload, which decodes to the same message.
//! - The two gpsd JSON renderings agree: the text line parses to the `Value`.
//! - Nothing panics: arbitrary strings as lines, arbitrary bytes as payloads, and valid
//!   sentences with random fragment fields fed through one decoder.

use porttrack_ais::{Decoder, Dimensions, Hull, Limits, Message, Sentence, StaticDataPartB, Turn, gpsd};
use proptest::prelude::*;

// ---------------------------------------------------------------- encoder (tests only)

const SIXBIT: &[u8; 64] = b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?";

#[derive(Default)]
struct Writer {
    bits: Vec<bool>,
}

impl Writer {
    fn u(&mut self, value: u64, width: usize) -> &mut Self {
        for i in (0..width).rev() {
            self.bits.push((value >> i) & 1 == 1);
        }
        self
    }
    fn i(&mut self, value: i64, width: usize) -> &mut Self {
        self.u((value as u64) & ((1u64 << width) - 1), width)
    }
    fn b(&mut self, value: bool) -> &mut Self {
        self.u(u64::from(value), 1)
    }
    fn text(&mut self, s: &str, chars: usize) -> &mut Self {
        let mut codes: Vec<u64> =
            s.bytes().map(|c| SIXBIT.iter().position(|&x| x == c).unwrap() as u64).collect();
        codes.resize(chars, 0); // '@' padding
        for c in codes {
            self.u(c, 6);
        }
        self
    }
    fn scaled(&mut self, v: Option<f64>, scale: f64, na: i64, width: usize) -> &mut Self {
        self.i(v.map_or(na, |v| (v * scale).round() as i64), width)
    }
    fn opt<T: Into<u64>>(&mut self, v: Option<T>, na: u64, width: usize) -> &mut Self {
        self.u(v.map_or(na, Into::into), width)
    }
    fn dims(&mut self, d: &Dimensions) -> &mut Self {
        self.u(d.to_bow.into(), 9).u(d.to_stern.into(), 9).u(d.to_port.into(), 6).u(d.to_starboard.into(), 6)
    }
    fn header(&mut self, message_type: u8, repeat: u8, mmsi: u32) -> &mut Self {
        self.u(message_type.into(), 6).u(repeat.into(), 2).u(mmsi.into(), 30)
    }
    fn lon_lat(&mut self, lon: Option<f64>, lat: Option<f64>) -> &mut Self {
        self.scaled(lon, 600_000.0, 181 * 600_000, 28).scaled(lat, 600_000.0, 91 * 600_000, 27)
    }
    /// Armored characters and fill bits.
    fn armor(&self) -> (String, u8) {
        let fill = (6 - self.bits.len() % 6) % 6;
        let mut bits = self.bits.clone();
        bits.resize(bits.len() + fill, false);
        let armored = bits
            .chunks(6)
            .map(|c| {
                let v = c.iter().fold(0u8, |a, &b| (a << 1) | u8::from(b));
                char::from(if v < 40 { v + b'0' } else { v + b'8' })
            })
            .collect();
        (armored, fill as u8)
    }
}

fn encode(message: &Message) -> (String, u8) {
    let mut w = Writer::default();
    match message {
        Message::Position(m) => {
            let turn = match m.turn {
                None => -128,
                Some(Turn::FastLeft) => -127,
                Some(Turn::FastRight) => 127,
                Some(Turn::Rate(r)) => (r.abs().sqrt() * 4.733).round() as i64 * if r < 0.0 { -1 } else { 1 },
            };
            w.header(m.message_type, m.repeat, m.mmsi).u(m.status.into(), 4).i(turn, 8);
            w.scaled(m.speed, 10.0, 1023, 10)
                .b(m.accuracy)
                .lon_lat(m.lon, m.lat)
                .scaled(m.course, 10.0, 3600, 12);
            w.opt(m.heading, 511, 9).u(m.second.into(), 6).u(m.maneuver.into(), 2).u(0, 3).b(m.raim);
            w.u(m.radio.into(), 19);
        }
        Message::BaseStation(m) => {
            w.header(m.message_type, m.repeat, m.mmsi).opt(m.year, 0, 14).opt(m.month, 0, 4).opt(m.day, 0, 5);
            w.opt(m.hour, 24, 5)
                .opt(m.minute, 60, 6)
                .opt(m.second, 60, 6)
                .b(m.accuracy)
                .lon_lat(m.lon, m.lat);
            w.u(m.epfd.into(), 4).u(0, 10).b(m.raim).u(m.radio.into(), 19);
        }
        Message::StaticVoyage(m) => {
            w.header(5, m.repeat, m.mmsi).u(m.ais_version.into(), 2).opt(m.imo, 0, 30).text(&m.callsign, 7);
            w.text(&m.shipname, 20).u(m.shiptype.into(), 8).dims(&m.dimensions).u(m.epfd.into(), 4);
            w.opt(m.eta.month, 0, 4).opt(m.eta.day, 0, 5).opt(m.eta.hour, 24, 5).opt(m.eta.minute, 60, 6);
            w.scaled(m.draught, 10.0, 0, 8).text(&m.destination, 20).b(m.dte).u(0, 1);
        }
        Message::MetHydro(m) => {
            w.header(8, m.repeat, m.mmsi).u(0, 2).u(1, 10).u(31, 6);
            w.scaled(m.lon, 60_000.0, 181 * 60_000, 25)
                .scaled(m.lat, 60_000.0, 91 * 60_000, 24)
                .b(m.accuracy);
            w.opt(m.day, 0, 5)
                .opt(m.hour, 24, 5)
                .opt(m.minute, 60, 6)
                .opt(m.wspeed, 127, 7)
                .opt(m.wgust, 127, 7);
            w.opt(m.wdir, 360, 9).opt(m.wgustdir, 360, 9).scaled(m.airtemp, 10.0, -1024, 11);
            w.opt(m.humidity, 101, 7).scaled(m.dewpoint, 10.0, 501, 10);
            w.opt(m.pressure.map(|p| p - 799), 511, 9).opt(m.pressuretend, 3, 2).b(m.visgreater);
            w.scaled(m.visibility, 10.0, 127, 7)
                .u(m.waterlevel.map_or(4001, |l| (l * 100.0 + 1000.0).round() as u64), 12);
            w.opt(m.leveltrend, 3, 2).scaled(m.cspeed, 10.0, 255, 8).opt(m.cdir, 360, 9);
            w.scaled(m.cspeed2, 10.0, 255, 8).opt(m.cdir2, 360, 9).opt(m.cdepth2, 31, 5);
            w.scaled(m.cspeed3, 10.0, 255, 8).opt(m.cdir3, 360, 9).opt(m.cdepth3, 31, 5);
            w.scaled(m.waveheight, 10.0, 255, 8).opt(m.waveperiod, 63, 6).opt(m.wavedir, 360, 9);
            w.scaled(m.swellheight, 10.0, 255, 8).opt(m.swellperiod, 63, 6).opt(m.swelldir, 360, 9);
            w.opt(m.seastate, 13, 4).scaled(m.watertemp, 10.0, 501, 10).opt(m.preciptype, 7, 3);
            w.scaled(m.salinity, 10.0, 510, 9).opt(m.ice, 3, 2).u(0, 10);
        }
        Message::SarAircraft(m) => {
            w.header(9, m.repeat, m.mmsi).opt(m.alt, 4095, 12).opt(m.speed, 1023, 10).b(m.accuracy);
            w.lon_lat(m.lon, m.lat).scaled(m.course, 10.0, 3600, 12).u(m.second.into(), 6);
            w.u(m.regional.into(), 8).b(m.dte).u(0, 3).b(m.assigned).b(m.raim).u(m.radio.into(), 20);
        }
        Message::ClassBPosition(m) => {
            w.header(18, m.repeat, m.mmsi)
                .u(m.reserved.into(), 8)
                .scaled(m.speed, 10.0, 1023, 10)
                .b(m.accuracy);
            w.lon_lat(m.lon, m.lat)
                .scaled(m.course, 10.0, 3600, 12)
                .opt(m.heading, 511, 9)
                .u(m.second.into(), 6);
            w.u(m.regional.into(), 2)
                .b(m.cs)
                .b(m.display)
                .b(m.dsc)
                .b(m.band)
                .b(m.msg22)
                .b(m.assigned)
                .b(m.raim);
            w.u(m.radio.into(), 20);
        }
        Message::ClassBExtended(m) => {
            w.header(19, m.repeat, m.mmsi)
                .u(m.reserved.into(), 8)
                .scaled(m.speed, 10.0, 1023, 10)
                .b(m.accuracy);
            w.lon_lat(m.lon, m.lat)
                .scaled(m.course, 10.0, 3600, 12)
                .opt(m.heading, 511, 9)
                .u(m.second.into(), 6);
            w.u(m.regional.into(), 4).text(&m.shipname, 20).u(m.shiptype.into(), 8).dims(&m.dimensions);
            w.u(m.epfd.into(), 4).b(m.raim).b(m.dte).b(m.assigned).u(0, 4);
        }
        Message::AidToNavigation(m) => {
            let (first, extension) = m.name.split_at(m.name.len().min(20));
            w.header(21, m.repeat, m.mmsi).u(m.aid_type.into(), 5).text(first, 20).b(m.accuracy);
            w.lon_lat(m.lon, m.lat).dims(&m.dimensions).u(m.epfd.into(), 4).u(m.second.into(), 6);
            w.b(m.off_position).u(m.regional.into(), 8).b(m.raim).b(m.virtual_aid).b(m.assigned).u(0, 1);
            w.text(extension, extension.len());
        }
        Message::StaticData(m) => {
            w.header(24, m.repeat, m.mmsi);
            match (&m.shipname, &m.part_b) {
                (Some(name), None) => {
                    w.u(0, 2).text(name, 20).u(0, 8);
                }
                (None, Some(b)) => encode_part_b(&mut w, b),
                _ => unreachable!("Message::decode returns one part"),
            }
        }
        Message::LongRange(m) => {
            w.header(27, m.repeat, m.mmsi).b(m.accuracy).b(m.raim).u(m.status.into(), 4);
            w.scaled(m.lon, 600.0, 181 * 600, 18).scaled(m.lat, 600.0, 91 * 600, 17);
            w.opt(m.speed, 63, 6).opt(m.course, 511, 9).b(m.gnss).u(0, 1);
        }
        other => unreachable!("not generated: {other:?}"),
    }
    w.armor()
}

fn encode_part_b(w: &mut Writer, b: &StaticDataPartB) {
    // The 7-character vendor id overlaps model and serial: write it, then overwrite.
    w.u(1, 2).u(b.shiptype.into(), 8).text(&b.vendorid, 7).text(&b.callsign, 7);
    let model_at = 66;
    let mut tail = Writer::default();
    tail.u(b.model.into(), 4).u(b.serial.into(), 20);
    w.bits.splice(model_at..model_at + 24, tail.bits);
    match b.hull {
        Hull::Dimensions(d) => w.dims(&d),
        Hull::MothershipMmsi(mmsi) => w.u(mmsi.into(), 30),
    };
    w.u(0, 6);
}

// ---------------------------------------------------------------- generators

/// (message type, 24 part, length in bits) of every supported shape.
fn shape() -> impl Strategy<Value = (u8, u8, usize)> {
    prop_oneof![
        (1u8..=3).prop_map(|t| (t, 0, 168)),
        Just((4, 0, 168)),
        Just((11, 0, 168)),
        Just((5, 0, 424)),
        Just((8, 0, 360)),
        Just((9, 0, 168)),
        Just((18, 0, 168)),
        Just((19, 0, 312)),
        (0usize..=14).prop_map(|k| (21, 0, 272 + 6 * k)),
        Just((24, 0, 168)),
        Just((24, 1, 168)),
        Just((27, 0, 96)),
    ]
}

/// Random payload bits of the given shape.
fn payload() -> impl Strategy<Value = (String, u8)> {
    shape().prop_flat_map(|(t, part, len)| {
        prop::collection::vec(any::<bool>(), len).prop_map(move |bits| {
            let mut w = Writer { bits };
            let mut head = Writer::default();
            head.u(t.into(), 6);
            w.bits.splice(0..6, head.bits);
            if t == 8 {
                let mut app = Writer::default();
                app.u(1, 10).u(31, 6);
                w.bits.splice(40..56, app.bits);
            }
            if t == 24 {
                w.bits[38] = false;
                w.bits[39] = part == 1;
            }
            w.armor()
        })
    })
}

fn nmea(body: &str) -> String {
    format!("!{body}*{:02X}", body.bytes().fold(0u8, |a, b| a ^ b))
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
        let mut head = Writer::default();
        head.u(1, 6);
        w.bits.splice(0..6, head.bits);
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
