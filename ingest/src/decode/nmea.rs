//! Raw NMEA 0183 AIS sentences to events, on top of [`porttrack_ais`].
//!
//! A Kafka record holds one or more lines. Each line is parsed and, when it
//! is a fragment of a multi-sentence message, held until its other parts
//! arrive — in the same record or in later records of the same partition
//! (producers keyed by MMSI cannot key a second fragment, which carries no
//! MMSI, so PortTrack's own `replay` puts all fragments of a message in one
//! record; other producers may not).
//!
//! Invariants:
//!
//! * A fragment held across records pins its partition's commit: the
//!   source never commits past the earliest record holding a fragment that
//!   still waits ([`NmeaDecoder::earliest_pending`]), so a crash re-reads it.
//! * A fragment whose other parts never come is not dropped silently: after
//!   the reassembly timeout it is dead-lettered (`fragment_incomplete`, a
//!   quarantine class) with its own bytes and origin.
//! * Event time is the tag block's `c:` (or the USCG receive time), else the
//!   Kafka record timestamp, else the receive time.
//!
//! Message types map to events: 1/2/3, 18 and 27 → positions; 19 → a
//! position and static data; 5 and 24 → static data (24 parts merged by
//! MMSI); 8 DAC 1 FID 31 → a weather observation. Types that describe no
//! vessel (4, 11 base stations; 21 aids to navigation; 9 SAR aircraft) and
//! reports without a position are quarantined as `unsupported_message`.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use porttrack_ais::{Assembler, Decoder, FragmentKey, Hull, Limits, Message, Sentence};
use porttrack_schemas::{
    Event, Origin, Position, RejectClass, Rejection, Sourced, ValidationRules, VesselStatic,
    WeatherObservation,
};

use super::{DecodeOutcome, RecordIn, Refused};

/// Fragments held for one message: where each came from, and its line.
#[derive(Debug)]
struct Held {
    first_seen_ms: u64,
    parts: Vec<(Origin, Vec<u8>)>,
}

/// One partition's reassembly state: the assembler, the decoder (type 24
/// parts merge per partition) and the fragments held, by the message
/// ([`FragmentKey`]) they belong to.
#[derive(Debug)]
struct PartitionReassembly {
    assembler: Assembler,
    decoder: Decoder,
    held: HashMap<FragmentKey, Held>,
}

impl PartitionReassembly {
    fn new(limits: Limits) -> Self {
        PartitionReassembly {
            assembler: Assembler::new(limits),
            decoder: Decoder::new(limits),
            held: HashMap::new(),
        }
    }
}

/// Decoder state of one NMEA topic: reassembly per partition.
#[derive(Debug)]
pub struct NmeaDecoder {
    limits: Limits,
    partitions: HashMap<i32, PartitionReassembly>,
}

impl Default for NmeaDecoder {
    fn default() -> Self {
        NmeaDecoder::new(Limits::default())
    }
}

impl NmeaDecoder {
    /// A decoder with these reassembly bounds.
    pub fn new(limits: Limits) -> Self {
        NmeaDecoder { limits, partitions: HashMap::new() }
    }

    pub(crate) fn decode(
        &mut self,
        record: &RecordIn<'_>,
        rules: &ValidationRules,
        now: DateTime<Utc>,
        out: &mut DecodeOutcome,
    ) {
        let origin = record.origin;
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let limits = self.limits;
        let state =
            self.partitions.entry(origin.partition).or_insert_with(|| PartitionReassembly::new(limits));
        expire(state, now_ms, limits.timeout_ms, out);

        let text = match std::str::from_utf8(record.payload) {
            Ok(t) => t,
            Err(e) => {
                out.refuse(origin, Rejection::new(RejectClass::MalformedNmea, format!("not UTF-8: {e}")));
                return;
            }
        };
        let mut index: u16 = 0;
        let mut lines = 0;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            lines += 1;
            let sentence = match Sentence::parse(line) {
                Ok(s) => s,
                Err(e) => {
                    out.refuse(origin, rejection(&e));
                    continue;
                }
            };
            let key = (sentence.fragment_count > 1).then(|| FragmentKey::of(&sentence));
            let payload = match state.assembler.push(sentence, now_ms) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    if let Some(key) = key {
                        state
                            .held
                            .entry(key)
                            .or_insert_with(|| Held { first_seen_ms: now_ms, parts: Vec::new() })
                            .parts
                            .push((origin.clone(), line.as_bytes().to_vec()));
                    }
                    continue;
                }
                Err(e) => {
                    out.refuse(origin, rejection(&e));
                    continue;
                }
            };
            if let Some(key) = key {
                // Complete: the earlier fragments are consumed.
                state.held.remove(&key);
            }
            let decoded = match state.decoder.decode_payload(&payload, now_ms) {
                Ok(d) => d,
                Err(e) => {
                    out.refuse(origin, rejection(&e));
                    continue;
                }
            };
            let event_time = decoded
                .event_time_ms()
                .and_then(DateTime::from_timestamp_millis)
                .or(record.timestamp)
                .unwrap_or(now);
            match to_events(&decoded.message, event_time) {
                Ok(events) => {
                    for event in events {
                        if let Err(r) = event.validate(rules, now) {
                            out.refuse(origin, r);
                            continue;
                        }
                        out.events.push(Sourced { origin: origin.clone().with_index(index), event });
                        index = index.saturating_add(1);
                    }
                }
                Err(r) => out.refuse(origin, r),
            }
        }
        if lines == 0 {
            out.refuse(origin, Rejection::new(RejectClass::MalformedNmea, "empty record: no NMEA sentence"));
        }
        // The assembler's own drops are reported through `held` (expire above).
        state.assembler.expire(now_ms);
        state.assembler.take_dropped().for_each(drop);
        state.decoder.take_dropped().for_each(drop);
    }

    /// Dead-letters fragments of `partition`s that waited past the timeout at
    /// `now`, for partitions that receive no new record to trigger it.
    pub(crate) fn expire(&mut self, now: DateTime<Utc>, out: &mut DecodeOutcome) -> Vec<i32> {
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let timeout = self.limits.timeout_ms;
        let mut touched = Vec::new();
        for (partition, state) in &mut self.partitions {
            let before = out.rejections.len();
            expire(state, now_ms, timeout, out);
            if out.rejections.len() > before {
                touched.push(*partition);
            }
        }
        touched
    }

    /// Forgets a revoked partition's held fragments: the next owner re-reads
    /// them, because the commit never moved past them.
    pub(crate) fn forget_partition(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// The offset of the earliest record of `partition` holding a fragment
    /// that still waits for its other parts.
    pub(crate) fn earliest_pending(&self, partition: i32) -> Option<i64> {
        let state = self.partitions.get(&partition)?;
        state.held.values().flat_map(|h| h.parts.iter().map(|(o, _)| o.offset)).min()
    }
}

/// Dead-letters fragments that waited longer than `timeout_ms`.
fn expire(state: &mut PartitionReassembly, now_ms: u64, timeout_ms: u64, out: &mut DecodeOutcome) {
    let expired: Vec<FragmentKey> = state
        .held
        .iter()
        .filter(|(_, h)| now_ms.saturating_sub(h.first_seen_ms) > timeout_ms)
        .map(|(k, _)| k.clone())
        .collect();
    for key in expired {
        let Some(held) = state.held.remove(&key) else { continue };
        let parts = held.parts.len();
        for (origin, line) in held.parts {
            out.rejections.push(Refused {
                origin,
                rejection: Rejection::new(
                    RejectClass::FragmentIncomplete,
                    format!(
                        "fragment of a {}-sentence message whose other parts did not arrive within {} ms ({parts} held)",
                        key.count(), timeout_ms
                    ),
                ),
                payload: Some(line),
            });
        }
    }
}

/// Maps a decoder error to its dead-letter class.
fn rejection(e: &porttrack_ais::Error) -> Rejection {
    let class = match e.class() {
        "bad_checksum" | "bad_tag_block_checksum" => RejectClass::NmeaChecksum,
        "unsupported_type" => RejectClass::UnsupportedMessage,
        "reassembly_overflow" | "reassembly_timeout" | "reassembly_superseded" => {
            RejectClass::FragmentIncomplete
        }
        _ => RejectClass::MalformedNmea,
    };
    Rejection::new(class, format!("{}: {e}", e.class()))
}

fn unsupported(message: &str) -> Rejection {
    Rejection::new(RejectClass::UnsupportedMessage, message.to_owned())
}

/// Speed (knots), course (degrees) and heading (degrees) as reported.
type Motion = (Option<f64>, Option<f64>, Option<u16>);

fn position(
    mmsi: u32,
    at: DateTime<Utc>,
    (lat, lon): (Option<f64>, Option<f64>),
    (speed, course, heading): Motion,
    status: Option<u8>,
) -> Result<Position, Rejection> {
    let (Some(lat), Some(lon)) = (lat, lon) else {
        return Err(unsupported("position report without a position (lat/lon not available)"));
    };
    Ok(Position {
        mmsi,
        timestamp: at,
        lat,
        lon,
        sog: speed.map(|s| s as f32),
        cog: course.map(|c| c as f32),
        heading,
        nav_status: status,
    })
}

fn text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn with_dimensions(mut s: VesselStatic, d: &porttrack_ais::Dimensions) -> VesselStatic {
    // All zero means "not available" in AIS.
    if d.to_bow + d.to_stern > 0 || d.to_port + d.to_starboard > 0 {
        s.to_bow = Some(d.to_bow);
        s.to_stern = Some(d.to_stern);
        s.to_port = Some(d.to_port.into());
        s.to_starboard = Some(d.to_starboard.into());
    }
    s
}

/// AIS ETAs have no year: the next such moment at or after the report
/// (an ETA in the recent past is kept in this year: ships run late).
fn eta(e: &porttrack_ais::Eta, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (month, day) = (e.month?, e.day?);
    let (hour, minute) = (e.hour.unwrap_or(0), e.minute.unwrap_or(0));
    let make = |year: i32| {
        Utc.with_ymd_and_hms(year, month.into(), day.into(), hour.min(23).into(), minute.min(59).into(), 0)
            .single()
    };
    let this_year = make(at.year())?;
    if this_year + Duration::days(31) < at { make(at.year() + 1) } else { Some(this_year) }
}

/// The events one AIS message stands for.
fn to_events(message: &Message, at: DateTime<Utc>) -> Result<Vec<Event>, Rejection> {
    Ok(match message {
        Message::Position(p) => {
            let motion = (p.speed, p.course, p.heading);
            vec![Event::Position(position(p.mmsi, at, (p.lat, p.lon), motion, Some(p.status))?)]
        }
        Message::ClassBPosition(p) => {
            vec![Event::Position(position(p.mmsi, at, (p.lat, p.lon), (p.speed, p.course, p.heading), None)?)]
        }
        Message::LongRange(p) => vec![Event::Position(position(
            p.mmsi,
            at,
            (p.lat, p.lon),
            (p.speed.map(f64::from), p.course.map(f64::from), None),
            Some(p.status),
        )?)],
        Message::ClassBExtended(p) => {
            let base = VesselStatic {
                mmsi: p.mmsi,
                timestamp: at,
                shipname: text(&p.shipname),
                shiptype: (p.shiptype != 0).then_some(p.shiptype),
                ..Default::default()
            };
            vec![
                Event::Position(position(p.mmsi, at, (p.lat, p.lon), (p.speed, p.course, p.heading), None)?),
                Event::Static(with_dimensions(base, &p.dimensions)),
            ]
        }
        Message::StaticVoyage(s) => {
            let base = VesselStatic {
                mmsi: s.mmsi,
                timestamp: at,
                imo: s.imo.filter(|i| *i != 0),
                callsign: text(&s.callsign),
                shipname: text(&s.shipname),
                shiptype: (s.shiptype != 0).then_some(s.shiptype),
                draught: s.draught.filter(|d| *d > 0.0).map(|d| d as f32),
                destination: text(&s.destination),
                eta: eta(&s.eta, at),
                ..Default::default()
            };
            vec![Event::Static(with_dimensions(base, &s.dimensions))]
        }
        Message::StaticData(s) => {
            let mut report = VesselStatic {
                mmsi: s.mmsi,
                timestamp: at,
                shipname: s.shipname.as_deref().and_then(text),
                ..Default::default()
            };
            if let Some(b) = &s.part_b {
                report.shiptype = (b.shiptype != 0).then_some(b.shiptype);
                report.callsign = text(&b.callsign);
                if let Hull::Dimensions(d) = &b.hull {
                    report = with_dimensions(report, d);
                }
            }
            vec![Event::Static(report)]
        }
        Message::MetHydro(m) => {
            let (Some(lat), Some(lon)) = (m.lat, m.lon) else {
                return Err(unsupported("meteorological report without a station position"));
            };
            vec![Event::Weather(WeatherObservation {
                station: m.mmsi.to_string(),
                timestamp: at,
                lat: Some(lat),
                lon: Some(lon),
                zone: None,
                wind_speed_kn: m.wspeed.map(f32::from),
                wind_gust_kn: m.wgust.map(f32::from),
                wind_direction_deg: m.wdir,
                visibility_nm: m.visibility.map(|v| v as f32),
                wave_height_m: m.waveheight.map(|v| v as f32),
                pressure_hpa: m.pressure.map(f32::from),
                air_temperature_c: m.airtemp.map(|v| v as f32),
            })]
        }
        Message::BaseStation(_) => return Err(unsupported("base station report: describes no vessel")),
        Message::AidToNavigation(_) => {
            return Err(unsupported("aid-to-navigation report: describes no vessel"));
        }
        Message::SarAircraft(_) => return Err(unsupported("SAR aircraft report: not a vessel")),
        _ => return Err(unsupported("AIS message type without a PortTrack event")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Format, KafkaConfig, TopicConfig};
    use crate::decode::Decoders;

    fn decoders() -> Decoders {
        let kafka = KafkaConfig {
            topics: vec![TopicConfig { name: "ais.nmea".into(), format: Format::Nmea, event: None }],
            ..KafkaConfig::default()
        };
        Decoders::new(&kafka, ValidationRules::default(), Default::default()).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap()
    }

    fn decode(d: &mut Decoders, offset: i64, payload: &str, at: DateTime<Utc>) -> DecodeOutcome {
        let origin = Origin::new("ais.nmea", 0, offset);
        d.decode(&RecordIn::new(&origin, payload.as_bytes()), at)
    }

    const TYPE5_A: &str = "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C";
    const TYPE5_B: &str = "!AIVDM,2,2,1,A,88888888880,2*25";

    /// `\body*hh\` with the checksum computed.
    fn tag_block(body: &str) -> String {
        let sum = body.bytes().fold(0_u8, |a, b| a ^ b);
        format!("\\{body}*{sum:02X}\\")
    }

    #[test]
    fn event_time_comes_from_the_tag_block_then_the_record_timestamp() {
        let mut d = decoders();
        let sentence = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
        let tagged = format!("{}{sentence}", tag_block("s:rPORT,c:1795334400"));
        let out = decode(&mut d, 0, &tagged, now());
        let [Sourced { event: Event::Position(p), .. }] = out.events.as_slice() else { panic!("{out:?}") };
        assert_eq!(p.timestamp, Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap());
        assert_eq!(p.mmsi, 371_798_000);

        let origin = Origin::new("ais.nmea", 0, 1);
        let at = now() - Duration::seconds(90);
        let record = RecordIn { origin: &origin, payload: sentence.as_bytes(), timestamp: Some(at) };
        let out = d.decode(&record, now());
        let [Sourced { event: Event::Position(p), .. }] = out.events.as_slice() else { panic!("{out:?}") };
        assert_eq!(p.timestamp, at);
    }

    #[test]
    fn fragments_across_records_pin_the_commit_until_complete() {
        let mut d = decoders();
        let first = decode(&mut d, 10, TYPE5_A, now());
        assert!(first.events.is_empty() && first.rejections.is_empty(), "{first:?}");
        assert_eq!(d.held_offset("ais.nmea", 0), Some(10));
        let second = decode(&mut d, 11, TYPE5_B, now());
        assert_eq!(d.held_offset("ais.nmea", 0), None);
        let [Sourced { event: Event::Static(s), origin }] = second.events.as_slice() else {
            panic!("{second:?}")
        };
        assert_eq!(s.shipname.as_deref(), Some("EVER DIADEM"));
        assert_eq!(origin.offset, 11);
    }

    #[test]
    fn a_lone_fragment_is_dead_lettered_after_the_timeout_with_its_own_bytes() {
        let mut d = decoders();
        decode(&mut d, 3, TYPE5_A, now());
        let later = decode(
            &mut d,
            4,
            "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
            now() + Duration::seconds(31),
        );
        let expired: Vec<&Refused> = later
            .rejections
            .iter()
            .filter(|r| r.rejection.class == RejectClass::FragmentIncomplete)
            .collect();
        assert_eq!(expired.len(), 1, "{later:?}");
        assert_eq!(expired[0].origin.offset, 3);
        assert_eq!(expired[0].payload.as_deref(), Some(TYPE5_A.as_bytes()));
        assert_eq!(d.held_offset("ais.nmea", 0), None);
    }

    #[test]
    fn both_parts_in_one_record_and_several_messages_get_distinct_indices() {
        let mut d = decoders();
        let record = format!("{TYPE5_A}\r\n{TYPE5_B}\r\n!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\r\n");
        let out = decode(&mut d, 0, &record, now());
        assert_eq!(out.events.len(), 2, "{out:?}");
        let ids: Vec<String> = out.events.iter().map(|e| e.origin.document_id()).collect();
        assert_eq!(ids, ["ais.nmea-0-0", "ais.nmea-0-0-1"]);
    }

    #[test]
    fn bad_lines_get_their_classes() {
        let mut d = decoders();
        let checksum = decode(&mut d, 0, "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B", now());
        assert_eq!(checksum.rejections[0].rejection.class, RejectClass::NmeaChecksum);
        let garbage = decode(&mut d, 1, "hello world", now());
        assert_eq!(garbage.rejections[0].rejection.class, RejectClass::MalformedNmea);
        let empty = decode(&mut d, 2, "", now());
        assert_eq!(empty.rejections[0].rejection.class, RejectClass::MalformedNmea);
    }

    #[test]
    fn etas_take_the_next_year_once_well_past() {
        let e = porttrack_ais::Eta { month: Some(1), day: Some(3), hour: Some(10), minute: Some(0) };
        assert_eq!(eta(&e, now()), Utc.with_ymd_and_hms(2027, 1, 3, 10, 0, 0).single());
        let e = porttrack_ais::Eta { month: Some(11), day: Some(20), hour: Some(10), minute: Some(0) };
        assert_eq!(eta(&e, now()), Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).single());
    }
}
