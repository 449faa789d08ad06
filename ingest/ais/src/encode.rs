//! An AIS encoder: messages to payload bits, bits to armored characters, and
//! armored payloads to checksummed `!AIVDM` sentences, split into fragments.
//!
//! - [`Writer`]: a bit writer with AIS's field encodings (unsigned, two's
//!   complement, 6-bit text, scaled values with their "not available"
//!   sentinel), and the 6-bit armoring ([`armor`]).
//! - [`sentences`]: armored payload → `!AIVDM` lines (fragments of at most 60
//!   characters, checksummed); [`nmea`]: one checksummed sentence from its body.
//! - [`encode`]: a [`Message`] to its payload bits.
//!
//! Written from the bit layouts (ITU-R M.1371 and gpsd's `driver_ais.c`), not
//! from the decoder, so the round-trip property tests (`tests/properties.rs`)
//! and the `gpsdecode` oracle test check one against the other. The
//! simulator uses it to speak raw NMEA like a shore receiver.

use std::fmt;

use crate::{Application, BinaryData, ChannelTarget, Dimensions, Hull, Message, StaticDataPartB, Turn};

/// A message this encoder cannot write (see [`encode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unencodable(pub String);

impl fmt::Display for Unencodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot encode: {}", self.0)
    }
}

impl std::error::Error for Unencodable {}

/// The AIS 6-bit text alphabet (ITU-R M.1371 table 47), by code.
pub const SIXBIT: &[u8; 64] = b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?";

/// A growing bit string, MSB first, with AIS field writers (each returns `&mut Self` to chain).
#[derive(Debug, Default, Clone)]
pub struct Writer {
    /// The bits written so far.
    pub bits: Vec<bool>,
}

impl Writer {
    /// `width` low bits of `value`, unsigned.
    pub fn u(&mut self, value: u64, width: usize) -> &mut Self {
        for i in (0..width).rev() {
            self.bits.push((value >> i) & 1 == 1);
        }
        self
    }
    /// `value` in `width`-bit two's complement.
    pub fn i(&mut self, value: i64, width: usize) -> &mut Self {
        self.u((value as u64) & ((1u64 << width) - 1), width)
    }
    /// One flag bit.
    pub fn b(&mut self, value: bool) -> &mut Self {
        self.u(u64::from(value), 1)
    }
    /// `s` as `chars` 6-bit characters, padded with `@`.
    pub fn text(&mut self, s: &str, chars: usize) -> &mut Self {
        // Lower case is sent as upper case (the alphabet has none); anything
        // else outside the alphabet becomes `?`, as gpsd prints unknown codes.
        let code = |c: u8| SIXBIT.iter().position(|&x| x == c.to_ascii_uppercase()).unwrap_or(63) as u64;
        let mut codes: Vec<u64> = s.bytes().map(code).collect();
        codes.resize(chars, 0);
        for c in codes {
            self.u(c, 6);
        }
        self
    }
    /// `v × scale`, rounded, signed; `na` when `None`.
    pub fn scaled(&mut self, v: Option<f64>, scale: f64, na: i64, width: usize) -> &mut Self {
        self.i(v.map_or(na, |v| (v * scale).round() as i64), width)
    }
    /// An optional unsigned value; `na` when `None`.
    pub fn opt<T: Into<u64>>(&mut self, v: Option<T>, na: u64, width: usize) -> &mut Self {
        self.u(v.map_or(na, Into::into), width)
    }
    /// Ship dimensions (30 bits).
    pub fn dims(&mut self, d: &Dimensions) -> &mut Self {
        self.u(d.to_bow.into(), 9).u(d.to_stern.into(), 9).u(d.to_port.into(), 6).u(d.to_starboard.into(), 6)
    }
    /// Message type, repeat indicator, MMSI (38 bits).
    pub fn header(&mut self, message_type: u8, repeat: u8, mmsi: u32) -> &mut Self {
        self.u(message_type.into(), 6).u(repeat.into(), 2).u(mmsi.into(), 30)
    }
    /// A 1/10 000 minute position (28 + 27 bits).
    pub fn lon_lat(&mut self, lon: Option<f64>, lat: Option<f64>) -> &mut Self {
        self.scaled(lon, 600_000.0, 181 * 600_000, 28).scaled(lat, 600_000.0, 91 * 600_000, 27)
    }
    /// The first `bits` bits of `data` (MSB first).
    pub fn data(&mut self, data: &[u8], bits: usize) -> &mut Self {
        for i in 0..bits {
            let byte = data.get(i / 8).copied().unwrap_or(0);
            self.bits.push(byte >> (7 - i % 8) & 1 == 1);
        }
        self
    }
    /// Overwrites `width` bits at `at` with `value` (growing the string if needed).
    pub fn set(&mut self, at: usize, width: usize, value: u64) -> &mut Self {
        if self.bits.len() < at + width {
            self.bits.resize(at + width, false);
        }
        for i in 0..width {
            self.bits[at + i] = (value >> (width - 1 - i)) & 1 == 1;
        }
        self
    }
    /// Armored characters and fill bits (zeros).
    pub fn armor(&self) -> (String, u8) {
        armor(&self.bits)
    }
}

/// `bits` armored (6 bits a character), padded with zero fill bits; returns the fill count.
pub fn armor(bits: &[bool]) -> (String, u8) {
    let fill = (6 - bits.len() % 6) % 6;
    let mut bits = bits.to_vec();
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

/// `!body*hh`.
pub fn nmea(body: &str) -> String {
    format!("!{body}*{:02X}", body.bytes().fold(0u8, |a, b| a ^ b))
}

/// The `!AIVDM` lines of one payload: fragments of at most 60 characters, sequence id `seq`
/// (used when there is more than one fragment), channel A.
pub fn sentences(armored: &str, fill: u8, seq: usize) -> Vec<String> {
    let chunks: Vec<String> =
        armored.as_bytes().chunks(60).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let chunks = if chunks.is_empty() { vec![String::new()] } else { chunks };
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let seq_field = if chunks.len() > 1 { (seq % 10).to_string() } else { String::new() };
            let f = if i + 1 == chunks.len() { fill } else { 0 };
            nmea(&format!("AIVDM,{},{},{seq_field},A,{chunk},{f}", chunks.len(), i + 1))
        })
        .collect()
}

fn binary_data(w: &mut Writer, d: &BinaryData) {
    w.data(&d.data, d.bits);
}

/// Encodes a message into payload bits. Type 6/8 applications are encoded
/// only when [`Application::Raw`], and a type 24 must carry exactly one part;
/// anything else is [`Unencodable`].
pub fn encode(message: &Message) -> Result<Writer, Unencodable> {
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
        Message::AddressedBinary(m) => {
            w.header(6, m.repeat, m.mmsi)
                .u(m.seqno.into(), 2)
                .u(m.dest_mmsi.into(), 30)
                .b(m.retransmit)
                .u(0, 1);
            w.u(m.dac.into(), 10).u(m.fid.into(), 6);
            raw_application(&mut w, &m.application)?;
        }
        Message::Acknowledge(m) => {
            w.header(m.message_type, m.repeat, m.mmsi).u(0, 2);
            for ack in &m.acks {
                w.u(ack.mmsi.into(), 30).u(ack.seqno.into(), 2);
            }
        }
        Message::BinaryBroadcast(m) => {
            w.header(8, m.repeat, m.mmsi).u(0, 2).u(m.dac.into(), 10).u(m.fid.into(), 6);
            raw_application(&mut w, &m.application)?;
        }
        Message::SarAircraft(m) => {
            w.header(9, m.repeat, m.mmsi).opt(m.alt, 4095, 12).opt(m.speed, 1023, 10).b(m.accuracy);
            w.lon_lat(m.lon, m.lat).scaled(m.course, 10.0, 3600, 12).u(m.second.into(), 6);
            w.u(m.regional.into(), 8).b(m.dte).u(0, 3).b(m.assigned).b(m.raim).u(m.radio.into(), 20);
        }
        Message::UtcInquiry(m) => {
            w.header(10, m.repeat, m.mmsi).u(0, 2).u(m.dest_mmsi.into(), 30).u(0, 2);
        }
        Message::SafetyAddressed(m) => {
            w.header(12, m.repeat, m.mmsi)
                .u(m.seqno.into(), 2)
                .u(m.dest_mmsi.into(), 30)
                .b(m.retransmit)
                .u(0, 1);
            w.text(&m.text, m.text.len());
        }
        Message::SafetyBroadcast(m) => {
            w.header(14, m.repeat, m.mmsi).u(0, 2).text(&m.text, m.text.len());
        }
        Message::Interrogation(m) => {
            w.header(15, m.repeat, m.mmsi).u(0, 2).u(m.mmsi1.into(), 30);
            w.u(m.request1_1.message_type.into(), 6).u(m.request1_1.offset.into(), 12);
            if let Some(r) = m.request1_2 {
                w.u(0, 2).u(r.message_type.into(), 6).u(r.offset.into(), 12);
                if let Some((mmsi2, r)) = m.station2 {
                    w.u(0, 2).u(mmsi2.into(), 30).u(r.message_type.into(), 6).u(r.offset.into(), 12).u(0, 2);
                }
            }
        }
        Message::AssignedMode(m) => {
            w.header(16, m.repeat, m.mmsi).u(0, 2);
            for a in &m.assignments {
                w.u(a.mmsi.into(), 30).u(a.offset.into(), 12).u(a.increment.into(), 10);
            }
            w.u(0, 4);
        }
        Message::Dgnss(m) => {
            w.header(17, m.repeat, m.mmsi).u(0, 2);
            w.scaled(m.lon, 600.0, 181 * 600, 18).scaled(m.lat, 600.0, 91 * 600, 17).u(0, 5);
            binary_data(&mut w, &m.data);
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
        Message::DataLinkManagement(m) => {
            w.header(20, m.repeat, m.mmsi).u(0, 2);
            for r in &m.reservations {
                w.u(r.offset.into(), 12)
                    .u(r.number.into(), 4)
                    .u(r.timeout.into(), 3)
                    .u(r.increment.into(), 11);
            }
        }
        Message::AidToNavigation(m) => {
            let (first, extension) = m.name.split_at(m.name.len().min(20));
            w.header(21, m.repeat, m.mmsi).u(m.aid_type.into(), 5).text(first, 20).b(m.accuracy);
            w.lon_lat(m.lon, m.lat).dims(&m.dimensions).u(m.epfd.into(), 4).u(m.second.into(), 6);
            w.b(m.off_position).u(m.regional.into(), 8).b(m.raim).b(m.virtual_aid).b(m.assigned).u(0, 1);
            w.text(extension, extension.len());
        }
        Message::ChannelManagement(m) => {
            w.header(22, m.repeat, m.mmsi).u(0, 2).u(m.channel_a.into(), 12).u(m.channel_b.into(), 12);
            w.u(m.txrx.into(), 4).b(m.power);
            let tenths = |v: f64| (v * 600.0).round() as i64;
            let addressed = match m.target {
                ChannelTarget::Area { ne_lon, ne_lat, sw_lon, sw_lat } => {
                    w.i(tenths(ne_lon), 18).i(tenths(ne_lat), 17).i(tenths(sw_lon), 18).i(tenths(sw_lat), 17);
                    false
                }
                ChannelTarget::Addressed { dest1, dest2 } => {
                    w.u(dest1.into(), 30).u(0, 5).u(dest2.into(), 30).u(0, 5);
                    true
                }
            };
            w.b(addressed).b(m.band_a).b(m.band_b).u(m.zonesize.into(), 3).u(0, 23);
        }
        Message::GroupAssignment(m) => {
            let tenths = |v: f64| (v * 600.0).round() as i64;
            w.header(23, m.repeat, m.mmsi).u(0, 2);
            w.i(tenths(m.ne_lon), 18).i(tenths(m.ne_lat), 17).i(tenths(m.sw_lon), 18).i(tenths(m.sw_lat), 17);
            w.u(m.station_type.into(), 4).u(m.ship_type.into(), 8).u(0, 22);
            w.u(m.txrx.into(), 2).u(m.interval.into(), 4).u(m.quiet.into(), 4).u(0, 6);
        }
        Message::StaticData(m) => {
            w.header(24, m.repeat, m.mmsi);
            match (&m.shipname, &m.part_b) {
                (Some(name), None) => {
                    w.u(0, 2).text(name, 20).u(0, 8);
                }
                (None, Some(b)) => encode_part_b(&mut w, b),
                _ => return Err(Unencodable("a type 24 message carries exactly one part".into())),
            }
        }
        Message::SingleSlotBinary(m) | Message::MultiSlotBinary(m) => {
            w.header(if m.radio.is_some() { 26 } else { 25 }, m.repeat, m.mmsi);
            w.b(m.dest_mmsi.is_some()).b(m.app_id.is_some());
            if let Some(dest) = m.dest_mmsi {
                w.u(dest.into(), 30);
            }
            if let Some(app) = m.app_id {
                w.u(app.into(), 16);
            }
            binary_data(&mut w, &m.data);
            if let Some(radio) = m.radio {
                w.u(radio.into(), 20);
            }
        }
        Message::LongRange(m) => {
            w.header(27, m.repeat, m.mmsi).b(m.accuracy).b(m.raim).u(m.status.into(), 4);
            w.scaled(m.lon, 600.0, 181 * 600, 18).scaled(m.lat, 600.0, 91 * 600, 17);
            w.opt(m.speed, 63, 6).opt(m.course, 511, 9).b(m.gnss).u(0, 1);
        }
    }
    Ok(w)
}

fn raw_application(w: &mut Writer, application: &Application) -> Result<(), Unencodable> {
    match application {
        Application::Raw(raw) => {
            w.data(&raw.data, raw.bits);
            Ok(())
        }
        other => Err(Unencodable(format!("only raw applications are encoded: {other:?}"))),
    }
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
