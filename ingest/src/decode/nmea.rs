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
//! Message types map to events (every arm of `to_events` is a line or two;
//! one helper per event kind holds the field mapping):
//!
//! | AIS message | events |
//! |---|---|
//! | 1/2/3, 18, 27 | position |
//! | 19 | position + static data |
//! | 5, 24 (parts merged by MMSI) | static data |
//! | 8 DAC 200 FID 10 (inland ship static and voyage data, ERI) | static data with `eni`, `inland_ship_type`, `hazard`, `loaded`, `length_m`, `beam_m`, draught |
//! | 12, 14 | safety message (addressed with its sequence number, addressee and retransmit flag; broadcast) |
//! | 8 (or 6) DAC 1 FID 31 / FID 11 met-hydro | weather observation (when the station gives its position), then met-hydro report: two events, two indices |
//! | 4, 11, 21 | station (`base_station`, `utc_response`, `aid_to_navigation`) |
//!
//! Refused (dead-lettered): lines that are not AIS or fail their checksum,
//! payloads the decoder refuses, fragments that never complete, reports
//! without a position (`unsupported_message`: a position report with none is
//! no position), and events that fail validation.
//!
//! **Deliberately not stored** — valid traffic a port keeps no table for:
//! 7 and 13 (acknowledgements), 9 (SAR aircraft), 10 (UTC inquiry), 15
//! (interrogation), 16 (assigned mode), 17 (DGNSS corrections), 20 (data
//! link management), 22 (channel management), 23 (group assignment), 25
//! and 26 (slot binaries), and types 6/8 whose application is not one of
//! the above (area notices, dangerous cargo, route information, inland ETAs
//! and water levels, raw payloads…). Dead-lettering them would fill the
//! dead-letter topic with valid traffic (a base station sends a type 17 or
//! 20 every few seconds) and bury the records that need an operator. They
//! are not silently dropped either: each is counted by message type
//! ([`NmeaDecoder::ignored`], exported as
//! `porttrack_ais_messages_ignored_total{type}`), and a type that becomes
//! useful gets a row in the table above.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use porttrack_ais::{Application, Assembler, Decoder, FragmentKey, Hull, Limits, Message, Sentence};
use porttrack_schemas::{
    Event, MetHydroObservation, Origin, Position, RejectClass, Rejection, SafetyMessage, Sourced,
    StationKind, StationReport, ValidationRules, VesselStatic, WeatherObservation,
};

use super::{DecodeOutcome, RecordIn, Refused};
use crate::source::hash::FxHashMap;

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

/// Decoder state of one NMEA topic: reassembly per partition, and the
/// tally of messages deliberately not stored.
#[derive(Debug)]
pub struct NmeaDecoder {
    limits: Limits,
    /// Looked up per record: see `source/hash.rs`.
    partitions: FxHashMap<i32, PartitionReassembly>,
    ignored: Ignored,
}

/// The AIS message types that may be decoded and deliberately not stored
/// (the closed label set of `porttrack_ais_messages_ignored_total`): 6 and
/// 8 when their application is not one PortTrack stores, the others always.
pub const IGNORED_TYPES: [u8; 14] = [6, 7, 8, 9, 10, 13, 15, 16, 17, 20, 22, 23, 25, 26];

/// An AIS message type as a metric label (`"0"`..=`"27"`; `"other"` beyond).
pub fn type_label(message_type: u8) -> &'static str {
    const LABELS: [&str; 28] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17",
        "18", "19", "20", "21", "22", "23", "24", "25", "26", "27",
    ];
    LABELS.get(usize::from(message_type)).copied().unwrap_or("other")
}

/// Messages decoded and deliberately not stored, by AIS message type.
#[derive(Debug, Default)]
struct Ignored {
    by_type: [u64; 28],
}

impl Ignored {
    /// Counts one message of `message_type`.
    fn note(&mut self, message_type: u8) {
        if let Some(n) = self.by_type.get_mut(usize::from(message_type)) {
            *n += 1;
        }
        metrics::counter!(porttrack_metrics::AIS_MESSAGES_IGNORED_TOTAL, "type" => type_label(message_type))
            .increment(1);
    }
}

impl Default for NmeaDecoder {
    fn default() -> Self {
        NmeaDecoder::new(Limits::default())
    }
}

impl NmeaDecoder {
    /// A decoder with these reassembly bounds.
    pub fn new(limits: Limits) -> Self {
        NmeaDecoder { limits, partitions: FxHashMap::default(), ignored: Ignored::default() }
    }

    /// How many messages of each AIS type were decoded and deliberately not
    /// stored (see the module documentation), as `(type, count)` for the
    /// types seen.
    pub fn ignored(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        (0_u8..).zip(self.ignored.by_type.iter().copied()).filter(|(_, n)| *n > 0)
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
        // A record's refused lines become ONE dead letter (the record's
        // bytes once), not one per line: a record of many junk lines would
        // otherwise copy itself once per line.
        let mut refused: Vec<Rejection> = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            lines += 1;
            let sentence = match Sentence::parse(line) {
                Ok(s) => s,
                Err(e) => {
                    refused.push(rejection(&e));
                    continue;
                }
            };
            let key = (sentence.fragment_count > 1).then(|| FragmentKey::of(&sentence));
            if let Some(key) = &key
                && sentence.fragment_number == 1
                && let Some(old) = state.held.remove(key)
            {
                // A new message under a key still held: the assembler drops
                // the old one ("superseded"), and so must we, loudly.
                let reason = "superseded: a new message began with the same sequence id and channel";
                dead_letter_held(key, old, reason, out);
            }
            let payload = match state.assembler.push(sentence, now_ms) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    if let Some(key) = key {
                        state
                            .held
                            .entry(key)
                            .or_insert_with(|| Held { first_seen_ms: now_ms, parts: Vec::new() })
                            .parts
                            .push((*origin, line.as_bytes().to_vec()));
                    }
                    continue;
                }
                Err(e) => {
                    refused.push(rejection(&e));
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
                    refused.push(rejection(&e));
                    continue;
                }
            };
            let event_time = decoded
                .event_time_ms()
                .and_then(DateTime::from_timestamp_millis)
                .or(record.timestamp)
                .unwrap_or(now);
            match to_events(&decoded.message, event_time) {
                Ok(Mapped::Ignored) => {
                    let message_type = decoded.message.message_type();
                    self.ignored.note(message_type);
                    out.ignored.push((*origin, message_type));
                }
                Ok(Mapped::Events(events)) => {
                    for event in events {
                        if let Err(r) = event.validate(rules, now) {
                            refused.push(r);
                            continue;
                        }
                        out.events.push(Sourced { origin: (*origin).with_index(index), event });
                        index = index.saturating_add(1);
                    }
                }
                Err(r) => refused.push(r),
            }
        }
        if let Some(first) = refused.first() {
            let message = if refused.len() == 1 {
                first.message.clone()
            } else {
                format!("{} of {lines} lines refused; the first: {}", refused.len(), first.message)
            };
            out.refuse(origin, Rejection::new(first.class, message));
        }
        if lines == 0 {
            out.refuse(origin, Rejection::new(RejectClass::MalformedNmea, "empty record: no NMEA sentence"));
        }
        // Timeouts are reported through `held` (expire above). Messages the
        // assembler evicted to stay within `max_pending` are dead-lettered
        // now, so the copies held here stay within the same bound.
        state.assembler.expire(now_ms);
        let evicted = state.assembler.take_dropped().count();
        if evicted > 0 || state.held.len() > limits.max_pending {
            let gone: Vec<FragmentKey> =
                state.held.keys().filter(|k| !state.assembler.is_pending(k)).cloned().collect();
            for key in gone {
                if let Some(held) = state.held.remove(&key) {
                    let reason =
                        format!("evicted: more than {} messages waited for fragments", limits.max_pending);
                    dead_letter_held(&key, held, &reason, out);
                }
            }
        }
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
        let reason = format!("other parts did not arrive within {timeout_ms} ms");
        dead_letter_held(&key, held, &reason, out);
    }
}

/// Dead-letters the held fragments of a message that will never complete,
/// each with its own line as the payload (`fragment_incomplete`).
fn dead_letter_held(key: &FragmentKey, held: Held, reason: &str, out: &mut DecodeOutcome) {
    let parts = held.parts.len();
    for (origin, line) in held.parts {
        out.rejections.push(Refused {
            origin,
            rejection: Rejection::new(
                RejectClass::FragmentIncomplete,
                format!("fragment of a {}-sentence message ({parts} held): {reason}", key.count()),
            ),
            payload: Some(line),
        });
    }
}

/// Maps a decoder error to its dead-letter class.
fn rejection(e: &porttrack_ais::Error) -> Rejection {
    let class = match e.class() {
        "bad_checksum" | "bad_tag_block_checksum" => RejectClass::NmeaChecksum,
        "unsupported_type" => RejectClass::UnsupportedMessage,
        "reassembly_overflow" | "reassembly_timeout" | "reassembly_superseded" | "fragment_incomplete" => {
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

/// What a decoded AIS message becomes.
#[derive(Debug)]
enum Mapped {
    /// The events it stands for (in order: they get consecutive indices).
    Events(Vec<Event>),
    /// Valid traffic PortTrack does not store (see the module documentation):
    /// counted by message type, never dead-lettered.
    Ignored,
}

/// The events one AIS message stands for.
///
/// Every arm is a line or two: the field mapping lives in one helper per
/// event kind ([`safety`], [`base_station`], [`aid_to_navigation`], [`met_hydro`],
/// [`inland_static`]).
fn to_events(message: &Message, at: DateTime<Utc>) -> Result<Mapped, Rejection> {
    Ok(Mapped::Events(match message {
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
                Event::Static(Box::new(with_dimensions(base, &p.dimensions))),
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
            vec![Event::Static(Box::new(with_dimensions(base, &s.dimensions)))]
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
            vec![Event::Static(Box::new(report))]
        }
        Message::SafetyAddressed(m) => {
            let addressee = (m.seqno, m.dest_mmsi, m.retransmit);
            vec![Event::Safety(Box::new(safety(m.mmsi, at, Some(addressee), &m.text)))]
        }
        Message::SafetyBroadcast(m) => vec![Event::Safety(Box::new(safety(m.mmsi, at, None, &m.text)))],
        Message::BaseStation(m) => vec![Event::Station(Box::new(base_station(m, at)))],
        Message::AidToNavigation(m) => vec![Event::Station(Box::new(aid_to_navigation(m, at)))],
        Message::BinaryBroadcast(b) => match &b.application {
            Application::MetHydro(m) => met_hydro(message, b.mmsi, b.dac, m, at),
            Application::InlandStaticData(s) => vec![Event::Static(Box::new(inland_static(b.mmsi, s, at)))],
            _ => return Ok(Mapped::Ignored),
        },
        Message::AddressedBinary(b) => match &b.application {
            Application::MetHydro(m) => met_hydro(message, b.mmsi, b.dac, m, at),
            _ => return Ok(Mapped::Ignored),
        },
        // Decoded, valid, and of no use to the port's tables: acknowledgements
        // (7, 13), inquiries and interrogations (10, 15), base-station
        // management (16, 17, 20, 22, 23), slot binaries (25, 26), SAR
        // aircraft (9), and binaries other than the above.
        _ => return Ok(Mapped::Ignored),
    }))
}

/// Type 12 (with its addressee: sequence number, MMSI, retransmit flag) or 14.
fn safety(mmsi: u32, at: DateTime<Utc>, addressee: Option<(u8, u32, bool)>, text: &str) -> SafetyMessage {
    SafetyMessage {
        mmsi,
        timestamp: at,
        addressed: addressee.is_some(),
        // 0 is no MMSI: validation would refuse the whole message for it.
        dest_mmsi: addressee.map(|a| a.1).filter(|d| *d != 0),
        sequence: addressee.map(|a| a.0),
        retransmit: addressee.map(|a| a.2),
        text: text.to_owned(),
    }
}

/// Types 4 and 11, with the station's clock when it reports a valid UTC time.
fn base_station(m: &porttrack_ais::BaseStationReport, at: DateTime<Utc>) -> StationReport {
    let clock = (|| {
        let date = chrono::NaiveDate::from_ymd_opt(m.year?.into(), m.month?.into(), m.day?.into())?;
        let time = date.and_hms_opt(m.hour?.into(), m.minute?.into(), m.second?.into())?;
        Some(time.and_utc())
    })();
    StationReport {
        mmsi: m.mmsi,
        timestamp: at,
        kind: if m.message_type == 11 { StationKind::UtcResponse } else { StationKind::BaseStation },
        lat: m.lat.zip(m.lon).map(|p| p.0),
        lon: m.lat.zip(m.lon).map(|p| p.1),
        epfd: (m.epfd != 0).then_some(m.epfd),
        station_time: clock,
        ..Default::default()
    }
}

/// Type 21: name (with its extension), type of aid, virtual and off-position flags.
fn aid_to_navigation(m: &porttrack_ais::AidToNavigationReport, at: DateTime<Utc>) -> StationReport {
    let d = &m.dimensions;
    let dims = (d.to_bow + d.to_stern > 0 || d.to_port + d.to_starboard > 0).then_some(d);
    StationReport {
        mmsi: m.mmsi,
        timestamp: at,
        kind: StationKind::AidToNavigation,
        lat: m.lat.zip(m.lon).map(|p| p.0),
        lon: m.lat.zip(m.lon).map(|p| p.1),
        name: text(&m.name),
        aid_type: Some(m.aid_type),
        virtual_aid: Some(m.virtual_aid),
        off_position: Some(m.off_position),
        epfd: (m.epfd != 0).then_some(m.epfd),
        to_bow: dims.map(|d| d.to_bow),
        to_stern: dims.map(|d| d.to_stern),
        to_port: dims.map(|d| d.to_port.into()),
        to_starboard: dims.map(|d| d.to_starboard.into()),
        station_time: None,
    }
}

/// Keys of gpsd's JSON that are the message's envelope, not the application.
const ENVELOPE: [&str; 10] =
    ["class", "device", "type", "repeat", "mmsi", "scaled", "seqno", "dest_mmsi", "retransmit", "dac"];

/// A met-hydro application: the weather observation the weather processor
/// and its alerts read (only when the station gives its position), then the
/// full report. The weather event comes first so that its index, and so its
/// document id, is what it was before met-hydro reports had their own kind.
fn met_hydro(
    message: &Message,
    mmsi: u32,
    dac: u16,
    m: &porttrack_ais::MetHydroReport,
    at: DateTime<Utc>,
) -> Vec<Event> {
    let f32_of = |v: Option<f64>| v.map(|v| v as f32);
    // The whole application as gpsdecode prints it, without the envelope.
    let mut details = match porttrack_ais::gpsd::to_gpsd_json(message, None) {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    for key in ENVELOPE.iter().chain(&["fid"]) {
        details.remove(*key);
    }
    let mut report = MetHydroObservation {
        mmsi,
        timestamp: at,
        dac,
        fid: m.fid,
        lat: m.lat.zip(m.lon).map(|p| p.0),
        lon: m.lat.zip(m.lon).map(|p| p.1),
        report_day: m.day,
        report_hour: m.hour,
        report_minute: m.minute,
        wind_speed_kn: m.wspeed.map(f32::from),
        wind_gust_kn: m.wgust.map(f32::from),
        wind_direction_deg: m.wdir,
        wind_gust_direction_deg: m.wgustdir,
        air_temperature_c: f32_of(m.airtemp),
        humidity_pct: m.humidity,
        dew_point_c: f32_of(m.dewpoint),
        pressure_hpa: m.pressure.map(f32::from),
        pressure_tendency: m.pressuretend,
        // FID 11 has no "greater than" flag.
        visibility_greater: (m.fid == 31).then_some(m.visgreater),
        visibility_nm: f32_of(m.visibility),
        water_level_m: f32_of(m.waterlevel),
        water_level_trend: m.leveltrend,
        current_speed_kn: f32_of(m.cspeed),
        current_direction_deg: m.cdir,
        wave_height_m: f32_of(m.waveheight),
        wave_period_s: m.waveperiod,
        wave_direction_deg: m.wavedir,
        swell_height_m: f32_of(m.swellheight),
        swell_period_s: m.swellperiod,
        swell_direction_deg: m.swelldir,
        sea_state: m.seastate,
        water_temperature_c: f32_of(m.watertemp),
        precipitation_type: m.preciptype,
        salinity_permille: f32_of(m.salinity),
        ice: m.ice,
        details: (!details.is_empty()).then_some(details),
    };
    report.blank_invalid();
    let mut events = Vec::with_capacity(2);
    if let (Some(lat), Some(lon)) = (report.lat, report.lon) {
        events.push(Event::Weather(Box::new(WeatherObservation {
            station: mmsi.to_string(),
            timestamp: at,
            lat: Some(lat),
            lon: Some(lon),
            zone: None,
            wind_speed_kn: report.wind_speed_kn,
            wind_gust_kn: report.wind_gust_kn,
            wind_direction_deg: report.wind_direction_deg,
            visibility_nm: report.visibility_nm,
            wave_height_m: report.wave_height_m,
            pressure_hpa: report.pressure_hpa,
            air_temperature_c: report.air_temperature_c,
        })));
    }
    events.push(Event::MetHydro(Box::new(report)));
    events
}

/// DAC 200 FID 10: inland (ERI) static and voyage data, merged into the
/// vessel record like any other static report.
fn inland_static(mmsi: u32, s: &porttrack_ais::InlandStaticData, at: DateTime<Utc>) -> VesselStatic {
    VesselStatic {
        mmsi,
        timestamp: at,
        draught: s.draught_m.filter(|d| *d > 0.0).map(|d| d as f32),
        eni: text(&s.eni),
        inland_ship_type: s.ship_type,
        hazard: s.hazard,
        loaded: s.loaded,
        length_m: s.length_m.map(|l| l as f32),
        beam_m: s.beam_m.map(|b| b as f32),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use porttrack_schemas::Topic;

    use super::*;
    use crate::config::{Format, KafkaConfig, TopicConfig};
    use crate::decode::{Decoders, TopicDecoder};

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
        assert_eq!(d.held_offset(&Topic::new("ais.nmea"), 0), Some(10));
        let second = decode(&mut d, 11, TYPE5_B, now());
        assert_eq!(d.held_offset(&Topic::new("ais.nmea"), 0), None);
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
        assert_eq!(d.held_offset(&Topic::new("ais.nmea"), 0), None);
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

    /// Sentences from gpsd's `sample.aivdm` (test/sample.aivdm in gpsd's
    /// sources), with the values `gpsdecode -j` prints for them.
    const TYPE12: &str = "!AIVDM,1,1,,A,<02:oP0kKcv0@<51C5PB5@?BDPD?P:?2?EB7PDB16693P381>>5<PikP,0*37";
    const TYPE14: &str = "!AIVDM,1,1,,A,>5?Per18=HB1U:1@E=B0m<L,2*51";
    const TYPE4: &str = "!AIVDM,1,1,,A,403OviQuMGCqWrRO9>E6fE700@GO,0*4D";
    const TYPE11: &str = "!AIVDM,1,1,,B,;4R33:1uUK2F`q?mOt@@GoQ00000,0*5D";
    const TYPE21_A: &str = "!AIVDM,2,1,5,B,E1mg=5J1T4W0h97aRh6ba84<h2d;W:Te=eLvH50```q,0*46";
    const TYPE21_B: &str = "!AIVDM,2,2,5,B,:D44QDlp0C1DU00,2*36";
    const MET_HYDRO_11: &str =
        "!AIVDO,1,1,4,B,8>jR06@0Bk3:wOli;<`WPhh<1rqVBQf2V@Pdt0J82avIM2b<<Rv1t<ot=@1,2*54";
    const INLAND_STATIC: &str = "!AIVDM,1,1,,B,83aDChPj2d<dL<uM=hhhI?a@6HP0,0*40";
    const TYPE17: &str = "!AIVDM,1,1,1,A,A;wUJKU>io;WlWuwH`W1PpnuN<isf;5iHtOM1S6q?vsvNrNGOqLcr5mfD6t,2*51";
    const TYPE20: &str = "!AIVDM,1,1,,A,Dh3OvjB8IN>4,0*1D";

    fn only_event(out: &DecodeOutcome) -> &Event {
        assert!(out.rejections.is_empty(), "{out:?}");
        let [Sourced { event, .. }] = out.events.as_slice() else { panic!("{out:?}") };
        event
    }

    #[test]
    fn safety_texts_become_safety_messages() {
        let mut d = decoders();
        let out = decode(&mut d, 0, TYPE12, now());
        let Event::Safety(m) = only_event(&out) else { panic!("{out:?}") };
        assert_eq!(
            (m.mmsi, m.addressed, m.dest_mmsi, m.sequence, m.retransmit),
            (2_275_200, true, Some(215_724_000), Some(0), Some(false))
        );
        assert_eq!(m.text, "PLEASE REPORT TO JOBOURG TRAFFIC CHANNEL 13");
        assert_eq!(m.timestamp, now());

        let out = decode(&mut d, 1, TYPE14, now());
        let Event::Safety(m) = only_event(&out) else { panic!("{out:?}") };
        assert_eq!((m.mmsi, m.addressed, m.dest_mmsi, m.sequence), (351_809_000, false, None, None));
        assert_eq!(m.text, "RCVD YR TEST MSG");
    }

    #[test]
    fn base_stations_utc_responses_and_aids_to_navigation_become_stations() {
        let mut d = decoders();
        let out = decode(&mut d, 0, TYPE4, now());
        let Event::Station(s) = only_event(&out) else { panic!("{out:?}") };
        assert_eq!((s.mmsi, s.kind, s.epfd), (3_669_702, StationKind::BaseStation, Some(7)));
        assert_eq!(s.station_time, Utc.with_ymd_and_hms(2007, 5, 14, 19, 57, 39).single());
        assert!((s.lat.unwrap() - 36.883_766_7).abs() < 1e-6 && (s.lon.unwrap() + 76.352_361_7).abs() < 1e-6);

        let out = decode(&mut d, 1, TYPE11, now());
        let Event::Station(s) = only_event(&out) else { panic!("{out:?}") };
        assert_eq!((s.mmsi, s.kind), (304_137_000, StationKind::UtcResponse));
        assert_eq!(s.station_time, Utc.with_ymd_and_hms(2009, 5, 22, 2, 22, 40).single());

        let out = decode(&mut d, 2, &format!("{TYPE21_A}\n{TYPE21_B}"), now());
        let Event::Station(s) = only_event(&out) else { panic!("{out:?}") };
        assert_eq!((s.mmsi, s.kind, s.aid_type), (123_456_789, StationKind::AidToNavigation, Some(20)));
        assert_eq!(s.name.as_deref(), Some("CHINA ROSE MURPHY EXPRESS ALERT"));
        assert_eq!((s.virtual_aid, s.off_position, s.epfd), (Some(false), Some(false), Some(1)));
        assert_eq!((s.to_bow, s.to_stern, s.to_port, s.to_starboard), (Some(5), Some(5), Some(5), Some(5)));
        assert_eq!(s.station_time, None);
    }

    #[test]
    fn met_hydro_yields_a_weather_observation_then_the_full_report() {
        let mut d = decoders();
        let out = decode(&mut d, 7, MET_HYDRO_11, now());
        assert!(out.rejections.is_empty(), "{out:?}");
        let [weather, report] = out.events.as_slice() else { panic!("{out:?}") };
        // Two events of one message: two indices, the weather one first (its
        // id is the one it had before met-hydro reports had their own kind).
        assert_eq!(weather.origin.document_id(), "ais.nmea-0-7");
        assert_eq!(report.origin.document_id(), "ais.nmea-0-7-1");
        let Event::Weather(w) = &weather.event else { panic!("{weather:?}") };
        assert_eq!(w.station, "992509977");
        assert_eq!((w.wind_speed_kn, w.wind_gust_kn, w.pressure_hpa), (Some(3.0), Some(6.0), Some(1024.0)));
        let Event::MetHydro(m) = &report.event else { panic!("{report:?}") };
        assert_eq!((m.mmsi, m.dac, m.fid), (992_509_977, 1, 11));
        assert_eq!((m.report_day, m.report_hour, m.report_minute), (Some(18), Some(17), Some(15)));
        assert_eq!(
            (m.wind_direction_deg, m.humidity_pct, m.air_temperature_c),
            (Some(12), Some(50), Some(14.2))
        );
        assert_eq!((m.dew_point_c, m.water_level_m, m.wave_period_s), (Some(12.3), Some(-8.4), Some(35)));
        assert_eq!((m.sea_state, m.water_temperature_c, m.ice), (Some(3), Some(12.3), Some(0)));
        assert_eq!(m.visibility_greater, None, "FID 11 has no such flag");
        // Everything gpsd prints, currents at depth included, without the envelope.
        let details = m.details.as_ref().unwrap();
        assert_eq!(details["cdepth3"], 20);
        assert_eq!(details["cspeed2"], 10.4);
        assert_eq!(details["ice_text"], "no");
        for envelope in ["class", "type", "mmsi", "dac", "fid", "scaled"] {
            assert!(!details.contains_key(envelope), "{envelope}");
        }
        assert!((m.lat.unwrap() - 53.294_883).abs() < 1e-6);
    }

    #[test]
    fn a_met_hydro_report_of_not_available_values_is_kept_and_valid() {
        // gpsd's FID 31 test message: every measurement "not available".
        let fid31 = "!AIVDO,1,1,5,A,8>jR06@0Gwli:QQUP3en?wvlFR06EuOwgwl?wnSwe7wvlOwwsAwwnSGmwvh0,0*51";
        let mut d = decoders();
        let out = decode(&mut d, 0, fid31, now());
        assert!(out.rejections.is_empty(), "{out:?}");
        let [_, report] = out.events.as_slice() else { panic!("{out:?}") };
        let Event::MetHydro(m) = &report.event else { panic!("{report:?}") };
        assert_eq!((m.fid, m.wind_speed_kn, m.pressure_hpa, m.air_temperature_c), (31, None, None, None));
        assert_eq!((m.report_day, m.visibility_greater), (Some(29), Some(false)));
        // gpsd's sentinels stay in the details, as gpsd prints them.
        assert_eq!(m.details.as_ref().unwrap()["wspeed"], 127);
    }

    #[test]
    fn codes_outside_a_field_s_range_blank_the_field_not_the_observation() {
        // gpsd's sample: a FID 31 report whose gust direction is 511 (FID 31's
        // "not available" is 360) and humidity 127 (101). It was dead-lettered
        // as field_out_of_range.
        let mut d = decoders();
        let first = "!AIVDM,2,1,9,B,8>j`;MP0GhRHI1S`CrTW2?u2Ot1owwnews0F003wwwwwww0001wwwwwwwwh0,0*02";
        let both = format!("{first}\n!AIVDM,2,2,9,B,00,4*18");
        let out = decode(&mut d, 0, &both, now());
        assert!(out.rejections.is_empty(), "{out:?}");
        let [weather, report] = out.events.as_slice() else { panic!("{out:?}") };
        let Event::Weather(w) = &weather.event else { panic!("{weather:?}") };
        assert_eq!(w.wind_direction_deg, Some(132));
        let Event::MetHydro(m) = &report.event else { panic!("{report:?}") };
        assert_eq!(
            (m.wind_direction_deg, m.wind_gust_direction_deg, m.swell_direction_deg),
            (Some(132), None, None)
        );
        assert_eq!(m.humidity_pct, None);
        assert_eq!(m.details.as_ref().unwrap()["wgustdir"], 511, "gpsd's value kept in the details");
    }

    #[test]
    fn inland_static_data_becomes_a_static_report() {
        let mut d = decoders();
        let out = decode(&mut d, 0, INLAND_STATIC, now());
        let Event::Static(s) = only_event(&out) else { panic!("{out:?}") };
        // gpsdecode: "vin":"02103547","length":390,"beam":50,"shiptype":8010,"hazard":0,"draught":204
        assert_eq!(s.mmsi, 244_650_946);
        assert_eq!(s.eni.as_deref(), Some("02103547"));
        assert_eq!((s.length_m, s.beam_m, s.draught), (Some(39.0), Some(5.0), Some(2.04)));
        assert_eq!((s.inland_ship_type, s.hazard), (Some(8010), Some(0)));
        assert_eq!(s.length(), Some(39));
        assert!(s.loaded.is_some());
    }

    #[test]
    fn valid_traffic_without_a_table_is_counted_not_dead_lettered() {
        let mut d = decoders();
        let area_notice = "!AIVDM,1,1,,B,803Ovrh0EP:024`@02PN04da=3V<>N0000,4*39"; // 8, DAC 1 FID 22
        let out = decode(&mut d, 0, &format!("{TYPE17}\n{TYPE20}\n{TYPE20}\n{area_notice}"), now());
        assert!(out.events.is_empty() && out.rejections.is_empty(), "{out:?}");
        let TopicDecoder::Nmea(nmea) = d.topics.get(&Topic::new("ais.nmea")).unwrap() else { panic!() };
        assert_eq!(nmea.ignored().collect::<Vec<_>>(), [(8, 1), (17, 1), (20, 2)]);
        assert!(nmea.ignored().all(|(t, _)| IGNORED_TYPES.contains(&t)));
        assert_eq!((type_label(17), type_label(0), type_label(28)), ("17", "0", "other"));
    }

    #[test]
    fn etas_take_the_next_year_once_well_past() {
        let e = porttrack_ais::Eta { month: Some(1), day: Some(3), hour: Some(10), minute: Some(0) };
        assert_eq!(eta(&e, now()), Utc.with_ymd_and_hms(2027, 1, 3, 10, 0, 0).single());
        let e = porttrack_ais::Eta { month: Some(11), day: Some(20), hour: Some(10), minute: Some(0) };
        assert_eq!(eta(&e, now()), Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).single());
    }

    /// `!AIVDM,2,1,{seq},A,…` first fragments of distinct messages (the
    /// sequence id and an `s:` source in a tag block make each key unique).
    fn lone_first_fragment(i: usize) -> String {
        format!("{}{}", tag_block(&format!("s:rx{i}")), TYPE5_A)
    }

    /// Bug: a record of many junk lines became one dead letter per line,
    /// each carrying the whole record (a 900 KiB record of short lines:
    /// hundreds of thousands of copies).
    #[test]
    fn a_record_of_many_bad_lines_is_one_dead_letter() {
        let mut d = decoders();
        let junk: String = (0..500).map(|i| format!("junk line {i}\n")).collect();
        let out = decode(&mut d, 5, &junk, now());
        assert_eq!(out.rejections.len(), 1, "{:?}", out.rejections.first());
        let r = &out.rejections[0];
        assert_eq!(r.rejection.class, RejectClass::MalformedNmea);
        assert!(r.rejection.message.starts_with("500 of 500 lines refused"), "{}", r.rejection.message);
        // A good line beside bad ones still becomes its event.
        let mixed = "garbage\n!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n";
        let out = decode(&mut d, 6, mixed, now());
        assert_eq!((out.events.len(), out.rejections.len()), (1, 1));
    }

    /// Bug: the assembler evicted messages beyond `max_pending`, but the
    /// decoder kept its own copies of their fragments (unbounded, pinning
    /// the commit) until the timeout.
    #[test]
    fn fragments_beyond_the_bound_are_dead_lettered_at_once_not_kept() {
        let limits = Limits { max_pending: 8, timeout_ms: 30_000 };
        let mut nmea = NmeaDecoder::new(limits);
        let rules = ValidationRules::default();
        let mut dead = 0;
        for i in 0..100 {
            let line = lone_first_fragment(i);
            let origin = Origin::new("ais.nmea", 0, i as i64);
            let mut out = DecodeOutcome::default();
            // A millisecond apart: the assembler evicts the oldest.
            let at = now() + Duration::milliseconds(i as i64);
            nmea.decode(&RecordIn::new(&origin, line.as_bytes()), &rules, at, &mut out);
            assert!(out.events.is_empty());
            for r in &out.rejections {
                assert_eq!(r.rejection.class, RejectClass::FragmentIncomplete, "{}", r.rejection.message);
                assert!(r.rejection.message.contains("evicted"), "{}", r.rejection.message);
            }
            dead += out.rejections.len();
            let held = nmea.partitions[&0].held.len();
            assert!(held <= limits.max_pending, "{held} messages held after {} records", i + 1);
        }
        assert_eq!(dead, 100 - limits.max_pending, "every evicted fragment dead-lettered, once");
        // The commit is pinned only by the fragments still waiting.
        assert_eq!(nmea.earliest_pending(0), Some(100 - limits.max_pending as i64));
    }

    /// Bug: a new message under a key whose fragment was still held merged
    /// the old fragment into the new message's held parts, and completing
    /// the new message dropped the old fragment without a dead letter.
    #[test]
    fn a_superseded_fragment_is_dead_lettered_not_dropped() {
        let mut d = decoders();
        decode(&mut d, 20, TYPE5_A, now());
        let again = decode(&mut d, 21, TYPE5_A, now());
        let [r] = again.rejections.as_slice() else { panic!("{again:?}") };
        assert_eq!((r.origin.offset, r.rejection.class), (20, RejectClass::FragmentIncomplete));
        assert!(r.rejection.message.contains("superseded"), "{}", r.rejection.message);
        assert_eq!(r.payload.as_deref(), Some(TYPE5_A.as_bytes()));
        let done = decode(&mut d, 22, TYPE5_B, now());
        assert_eq!((done.events.len(), done.rejections.len()), (1, 0), "{done:?}");
        assert_eq!(d.held_offset(&Topic::new("ais.nmea"), 0), None);
    }
}
