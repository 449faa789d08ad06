//! A shore receiver's view of some vessels: their positions and static data
//! as raw `!AIVDM` sentences instead of JSON ([`NmeaReceiver`]).
//!
//! A vessel the receiver [hears](NmeaReceiver::hears) reports only over
//! NMEA, so no vessel is split between a JSON and an NMEA topic (the port
//! processor would see two tracks of one vessel interleaved differently on
//! every run). Its records become:
//!
//! * a position: one type 1 sentence, one record;
//! * static and voyage data: a type 5 message of two fragments, each its own
//!   record (a receiver sends line by line), so the pipeline reassembles it
//!   across records, and a crash between the two must re-read the first.
//!   The first fragment's record is [`Expect::Fragment`]; the one completing
//!   the message carries the event;
//! * an invalid position: a type 1 sentence with a wrong checksum
//!   ([`RejectClass::NmeaChecksum`]), whatever the JSON fault was.
//!
//! The sentences carry no tag block: [`produce`](super::produce) sends the
//! event time as the Kafka record's timestamp, the way a receiver that
//! stamps on arrival does, and the pipeline falls back to it. AIS
//! quantises what it carries (1/10 000 minute, 0.1 kn, 0.1°), so the
//! expected [`Position`] is the quantised one.

use chrono::{Datelike, Timelike};
use porttrack_ais::encode::{self, Writer};
use porttrack_ais::{Dimensions, Eta, Message, PositionReport, StaticVoyageData};
use porttrack_schemas::{Position, RejectClass, VesselStatic};

use super::{Expect, SimRecord, Stream};

/// Re-encodes the records of one vessel in `one_in` as NMEA (see the module docs).
#[derive(Debug, Clone)]
pub struct NmeaReceiver {
    one_in: u32,
    /// The multi-sentence sequence id, 0–9, advanced per message.
    sequence: usize,
}

impl NmeaReceiver {
    /// A receiver hearing the vessels whose MMSI is a multiple of `one_in`
    /// (0 and 1 hear every vessel).
    pub fn new(one_in: u32) -> NmeaReceiver {
        NmeaReceiver { one_in: one_in.max(1), sequence: 0 }
    }

    /// Whether `record` is one of this receiver's vessels' positions or static data.
    pub fn hears(&self, record: &SimRecord) -> bool {
        matches!(record.stream, Stream::Positions | Stream::Static)
            && record.key.parse::<u32>().is_ok_and(|mmsi| mmsi % self.one_in == 0)
    }

    /// `record` as the receiver sends it: one record or, for static data,
    /// the two fragments'. A record that cannot be re-encoded (it never
    /// happens with the simulator's own) is returned unchanged.
    pub fn encode(&mut self, record: SimRecord) -> Vec<SimRecord> {
        let nmea = |payload: String, expect: Expect| SimRecord {
            stream: Stream::Nmea,
            key: record.key.clone(),
            payload: payload.into_bytes(),
            event_time: record.event_time,
            expect,
        };
        match (&record.stream, &record.expect) {
            (Stream::Positions, Expect::Valid(p)) => {
                let (line, quantised) = position_sentence(p);
                vec![nmea(line, Expect::Valid(quantised))]
            }
            (Stream::Positions, Expect::Invalid(_)) => {
                let Ok(mmsi) = record.key.parse::<u32>() else { return vec![record] };
                let (mut line, _) = position_sentence(&Position {
                    mmsi,
                    timestamp: record.event_time,
                    lat: 51.95,
                    lon: 4.05,
                    sog: None,
                    cog: None,
                    heading: None,
                    nav_status: None,
                });
                // Flip the checksum's last digit: the line is well formed, its sum is wrong.
                let last = line.pop().unwrap_or('0');
                line.push(if last == '0' { '1' } else { '0' });
                vec![nmea(line, Expect::Invalid(RejectClass::NmeaChecksum))]
            }
            (Stream::Static, _) => {
                let Ok(report) = serde_json::from_slice::<VesselStatic>(&record.payload) else {
                    return vec![record];
                };
                let Ok(bits) = encode::encode(&Message::StaticVoyage(static_voyage(&report))) else {
                    return vec![record];
                };
                let (armored, fill) = bits.armor();
                self.sequence = (self.sequence + 1) % 10;
                let lines = encode::sentences(&armored, fill, self.sequence);
                let last = lines.len().saturating_sub(1);
                let at = record.event_time;
                lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, line)| {
                        let expect = if i == last {
                            Expect::Static { mmsi: report.mmsi, at }
                        } else {
                            Expect::Fragment
                        };
                        nmea(line, expect)
                    })
                    .collect()
            }
            _ => vec![record],
        }
    }
}

/// A type 1 sentence for `p`, and `p` as AIS quantises it.
fn position_sentence(p: &Position) -> (String, Position) {
    let quantise = |v: f64, scale: f64| (v * scale).round() / scale;
    let report = PositionReport {
        message_type: 1,
        repeat: 0,
        mmsi: p.mmsi,
        status: p.nav_status.unwrap_or(15),
        turn: None,
        speed: p.sog.map(|s| quantise(f64::from(s), 10.0).min(102.2)),
        accuracy: false,
        lon: Some(quantise(p.lon, 600_000.0)),
        lat: Some(quantise(p.lat, 600_000.0)),
        course: p.cog.map(|c| quantise(f64::from(c), 10.0) % 360.0),
        heading: p.heading.filter(|h| *h < 360),
        second: u8::try_from(p.timestamp.second()).unwrap_or(60),
        maneuver: 0,
        raim: false,
        radio: 0,
    };
    let quantised = Position {
        lat: report.lat.unwrap_or(p.lat),
        lon: report.lon.unwrap_or(p.lon),
        sog: report.speed.map(|s| s as f32),
        cog: report.course.map(|c| c as f32),
        heading: report.heading,
        nav_status: (report.status != 15).then_some(report.status),
        ..p.clone()
    };
    let bits = encode::encode(&Message::Position(report)).unwrap_or_else(|_| Writer::default());
    let (armored, fill) = bits.armor();
    let line = encode::sentences(&armored, fill, 0).swap_remove(0);
    (line, quantised)
}

/// The type 5 message of a JSON static report.
fn static_voyage(s: &VesselStatic) -> StaticVoyageData {
    let eta = s.eta.map_or(Eta { month: None, day: None, hour: None, minute: None }, |t| Eta {
        month: u8::try_from(t.month()).ok(),
        day: u8::try_from(t.day()).ok(),
        hour: u8::try_from(t.hour()).ok(),
        minute: u8::try_from(t.minute()).ok(),
    });
    let clip = |s: &Option<String>, n: usize| s.as_deref().unwrap_or("").chars().take(n).collect::<String>();
    StaticVoyageData {
        repeat: 0,
        mmsi: s.mmsi,
        ais_version: 0,
        imo: s.imo,
        callsign: clip(&s.callsign, 7),
        shipname: clip(&s.shipname, 20),
        shiptype: s.shiptype.unwrap_or(0),
        dimensions: Dimensions {
            to_bow: s.to_bow.unwrap_or(0).min(511),
            to_stern: s.to_stern.unwrap_or(0).min(511),
            to_port: u8::try_from(s.to_port.unwrap_or(0).min(63)).unwrap_or(63),
            to_starboard: u8::try_from(s.to_starboard.unwrap_or(0).min(63)).unwrap_or(63),
        },
        epfd: 1,
        eta,
        draught: s.draught.map(|d| (f64::from(d) * 10.0).round() / 10.0),
        destination: clip(&s.destination, 20),
        dte: false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{DateTime, Utc};
    use porttrack_ais::{Assembler, Decoder, Limits, Sentence};

    use super::*;
    use crate::sim::{SimConfig, Simulator};

    /// Decodes a receiver's lines as the pipeline would (one assembler).
    fn decode(lines: &[String]) -> Vec<Message> {
        let (mut assembler, mut decoder) =
            (Assembler::new(Limits::default()), Decoder::new(Limits::default()));
        let mut out = Vec::new();
        for line in lines {
            let sentence = Sentence::parse(line).unwrap();
            if let Some(payload) = assembler.push(sentence, 0).unwrap() {
                out.push(decoder.decode_payload(&payload, 0).unwrap().message);
            }
        }
        out
    }

    #[test]
    fn a_heard_vessel_speaks_nmea_that_decodes_to_what_was_expected() {
        let start: DateTime<Utc> = "2026-11-30T08:00:00Z".parse().unwrap();
        let mut sim = Simulator::new(SimConfig { vessels: 40, seed: 11, start, invalid_ratio: 0.05 });
        let mut rx = NmeaReceiver::new(3);
        let (mut positions, mut statics, mut invalid) = (0, 0, 0);
        for _ in 0..20_000 {
            let record = sim.next_record();
            if !rx.hears(&record) {
                continue;
            }
            let out = rx.encode(record);
            assert!(out.iter().all(|r| r.stream == Stream::Nmea));
            let lines: Vec<String> =
                out.iter().map(|r| String::from_utf8(r.payload.clone()).unwrap()).collect();
            match &out.last().unwrap().expect {
                Expect::Valid(expected) => {
                    positions += 1;
                    let decoded = decode(&lines);
                    let [Message::Position(m)] = decoded.as_slice() else { panic!("{decoded:?}") };
                    assert_eq!(
                        (m.mmsi, m.lat, m.lon),
                        (expected.mmsi, Some(expected.lat), Some(expected.lon))
                    );
                    assert_eq!(m.speed.map(|s| s as f32), expected.sog);
                }
                Expect::Static { mmsi, .. } => {
                    statics += 1;
                    assert_eq!(out.len(), 2, "a type 5 takes two sentences");
                    assert_eq!(out[0].expect, Expect::Fragment);
                    let decoded = decode(&lines);
                    let [Message::StaticVoyage(m)] = decoded.as_slice() else { panic!("{decoded:?}") };
                    assert_eq!(m.mmsi, *mmsi);
                    assert!(!m.shipname.is_empty());
                }
                Expect::Invalid(class) => {
                    invalid += 1;
                    assert_eq!(*class, RejectClass::NmeaChecksum);
                    assert!(Sentence::parse(&lines[0]).is_err(), "{}", lines[0]);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(positions > 100 && statics > 5 && invalid > 0, "{positions} {statics} {invalid}");
    }
}
