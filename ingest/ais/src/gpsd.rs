//! gpsd-compatible JSON: what `gpsdecode -j` prints for a message.
//!
//! [`to_gpsd_json_line`] renders the exact text gpsd prints (same keys, same order, same
//! `printf` precision: `"lon":-70.7582000`), and [`to_gpsd_json`] the same object as a
//! [`serde_json::Value`] whose numbers are those printed values. "Not available" fields
//! are rendered with the raw sentinel values gpsd prints (`"heading":511`, `"lat":91.0000000`),
//! or with gpsd's legends (`"turn":"n/a"`, `"speed":"n/a"`).
//!
//! ```
//! use porttrack_ais::{Decoder, Limits, gpsd};
//!
//! let mut decoder = Decoder::new(Limits::default());
//! let decoded = decoder.decode_line("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", 0)?.unwrap();
//! let line = gpsd::to_gpsd_json_line(&decoded.message, Some("stdin"));
//! assert!(line.starts_with(r#"{"class":"AIS","device":"stdin","type":1,"repeat":0,"mmsi":371798000,"scaled":true,"#));
//! let value = gpsd::to_gpsd_json(&decoded.message, None);
//! assert_eq!(value["turn"], "fastleft");
//! assert_eq!(value["lon"], -123.3953833);
//! # Ok::<(), porttrack_ais::Error>(())
//! ```
//!
//! Which gpsd: the byte-exact reference is the newer gpsd whose output ships as
//! `sample.aivdm.js.chk` (7 decimals for positions, `"n/a"`), and values agree with
//! Debian's `gpsdecode` 3.22 at the precision it prints (`tests/gpsdecode_oracle.rs`). Where
//! the two differ in *what* they print, we print what 3.22 prints:
//! - type 27: `status` as its legend (3.22's table), no `status_text`, positions with one
//!   decimal;
//! - type 26: `"radio":0` (no gpsd decodes that field; [`SlotBinary::radio`] has it);
//! - the `"bits:hex"` data of types 17, 25 and 26 with gpsd's padding bits, those of an
//!   addressed 25/26 as its `shiftleft` leaves them ([`BinaryData`]).
//!
//! Type 6/8 applications are rendered by [`crate::binary`], after `"dac"` and `"fid"`.
//! Only scaled output (`gpsdecode -j`), not `-u`.
//!
//! One renderer per message type, in gpsd's key order, so a difference from
//! `gpsdecode -j` is found by reading one function.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

use crate::binary;
use crate::message::{
    self, Acknowledge, AddressedBinary, AidToNavigationReport, AssignedMode, BaseStationReport,
    BinaryBroadcast, BinaryData, ChannelManagement, ChannelTarget, ClassBExtendedReport,
    ClassBPositionReport, DataLinkManagement, DgnssBroadcast, Dimensions, GroupAssignment, Hull,
    Interrogation, LongRangeReport, Message, PositionReport, SarAircraftReport, SlotBinary, StaticDataReport,
    StaticVoyageData, Turn,
};

/// Whether `gpsdecode` (without `--split24`) prints this message: it holds back a type 24
/// part until it can merge part A with part B.
#[must_use]
pub fn is_reported(message: &Message) -> bool {
    !matches!(message, Message::StaticData(r) if !r.is_complete())
}

/// The message as one line of `gpsdecode -j` output (without the line terminator), with a
/// `"device"` key when `device` is given (gpsdecode says `"stdin"`).
#[must_use]
pub fn to_gpsd_json_line(message: &Message, device: Option<&str>) -> String {
    let mut out = String::with_capacity(384);
    out.push('{');
    for (i, (key, value)) in fields(message, device).iter().enumerate() {
        if let J::Raw { gpsd, .. } = value {
            // Already rendered, with its leading commas.
            out.push_str(gpsd);
            continue;
        }
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push(':');
        match value {
            J::U(v) => {
                let _ = write!(out, "{v}");
            }
            J::F(v, precision) => push_fixed(&mut out, *v, *precision),
            J::B(v) => out.push_str(if *v { "true" } else { "false" }),
            J::S(s) => push_json_string(&mut out, s),
            // Appended as a whole, above.
            J::Raw { .. } => {}
        }
    }
    out.push('}');
    out
}

/// The message as the JSON object `gpsdecode -j` prints, numbers rounded as gpsd prints them.
#[must_use]
pub fn to_gpsd_json(message: &Message, device: Option<&str>) -> Value {
    let mut map = Map::new();
    for (key, value) in fields(message, device) {
        let value = match value {
            J::U(v) => Value::from(v),
            J::F(v, precision) => {
                // The printed decimal, read back: the value gpsd's reader would see.
                let printed = format!("{v:.precision$}");
                printed.parse::<f64>().ok().and_then(Number::from_f64).map_or(Value::Null, Value::Number)
            }
            J::B(v) => Value::Bool(v),
            J::S(s) => Value::String(s.into_owned()),
            J::Raw { json, .. } => {
                // `,"a":1,"b":[…]` read back as the object `{"a":1,"b":[…]}`: the printed values.
                let object = format!("{{{}}}", json.strip_prefix(',').unwrap_or(&json));
                match serde_json::from_str::<Value>(&object) {
                    Ok(Value::Object(fields)) => map.extend(fields),
                    // A renderer's bug: loud in tests and fuzzing, and the message's other
                    // fields are still there.
                    other => {
                        debug_assert!(false, "application fields are not a JSON object ({other:?}): {object}")
                    }
                }
                continue;
            }
        };
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// A JSON value as gpsd formats it.
enum J<'m> {
    U(u64),
    /// A float printed with this many decimals (`%.Nf`).
    F(f64, usize),
    B(bool),
    S(Cow<'m, str>),
    /// JSON text already rendered (`,"key":value…`, leading comma included): the fields of a
    /// type 6/8 application, written by [`crate::binary`], once as gpsd prints them (its
    /// defects included) and once as valid JSON.
    Raw {
        /// For the `gpsdecode -j` line.
        gpsd: String,
        /// For the structured value.
        json: String,
    },
}

type Fields<'m> = Vec<(&'static str, J<'m>)>;

fn fields<'m>(message: &'m Message, device: Option<&'m str>) -> Fields<'m> {
    let mut f: Fields<'m> = Vec::with_capacity(48);
    f.push(("class", J::S(Cow::Borrowed("AIS"))));
    if let Some(device) = device.filter(|d| !d.is_empty()) {
        f.push(("device", J::S(Cow::Borrowed(device))));
    }
    f.push(("type", J::U(message.message_type().into())));
    f.push(("repeat", J::U(message.repeat().into())));
    f.push(("mmsi", J::U(message.mmsi().into())));
    f.push(("scaled", J::B(true)));
    match message {
        Message::Position(m) => position(&mut f, m),
        Message::BaseStation(m) => base_station(&mut f, m),
        Message::StaticVoyage(m) => static_voyage(&mut f, m),
        Message::AddressedBinary(m) => addressed_binary(&mut f, m),
        Message::Acknowledge(m) => acknowledge(&mut f, m),
        Message::BinaryBroadcast(m) => binary_broadcast(&mut f, m),
        Message::SarAircraft(m) => sar_aircraft(&mut f, m),
        Message::UtcInquiry(m) => f.push(("dest_mmsi", u(m.dest_mmsi))),
        Message::SafetyAddressed(m) => {
            f.push(("seqno", u(m.seqno)));
            f.push(("dest_mmsi", u(m.dest_mmsi)));
            f.push(("retransmit", J::B(m.retransmit)));
            f.push(("text", s(&m.text)));
        }
        Message::SafetyBroadcast(m) => f.push(("text", s(&m.text))),
        Message::Interrogation(m) => interrogation(&mut f, m),
        Message::AssignedMode(m) => assigned_mode(&mut f, m),
        Message::Dgnss(m) => dgnss(&mut f, m),
        Message::ClassBPosition(m) => class_b(&mut f, m),
        Message::ClassBExtended(m) => class_b_extended(&mut f, m),
        Message::DataLinkManagement(m) => data_link(&mut f, m),
        Message::AidToNavigation(m) => aid_to_navigation(&mut f, m),
        Message::ChannelManagement(m) => channel_management(&mut f, m),
        Message::GroupAssignment(m) => group_assignment(&mut f, m),
        Message::StaticData(m) => static_data(&mut f, m),
        Message::SingleSlotBinary(m) | Message::MultiSlotBinary(m) => slot_binary(&mut f, m),
        Message::LongRange(m) => long_range(&mut f, m),
    }
    f
}

fn s(text: &str) -> J<'_> {
    J::S(Cow::Borrowed(text))
}

fn owned<'m>(text: String) -> J<'m> {
    J::S(Cow::Owned(text))
}

fn u<T: Into<u64>>(v: T) -> J<'static> {
    J::U(v.into())
}

fn lon_lat(lon: Option<f64>, lat: Option<f64>, na_lon: i32, na_lat: i32, div: f64) -> (f64, f64) {
    (lon.unwrap_or(f64::from(na_lon) / div), lat.unwrap_or(f64::from(na_lat) / div))
}

fn tenths_or(v: Option<f64>, raw_na: u32) -> f64 {
    v.unwrap_or(f64::from(raw_na) / 10.0)
}

fn dims(f: &mut Fields<'_>, d: &Dimensions) {
    f.push(("to_bow", u(d.to_bow)));
    f.push(("to_stern", u(d.to_stern)));
    f.push(("to_port", u(d.to_port)));
    f.push(("to_starboard", u(d.to_starboard)));
}

fn position<'m>(f: &mut Fields<'m>, m: &'m PositionReport) {
    let turn = match m.turn {
        None => s("n/a"),
        Some(Turn::FastLeft) => s("fastleft"),
        Some(Turn::FastRight) => s("fastright"),
        Some(Turn::Rate(rate)) => owned(format!("{rate:.2}")),
    };
    let speed = match m.speed {
        None => s("n/a"),
        // Raw 1022: 102.2 knots or more.
        Some(102.2) => s("fast"),
        Some(v) => J::F(v, 1),
    };
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON_NA, message::LAT_NA, 600_000.0);
    f.push(("status", u(m.status)));
    f.push(("status_text", s(nav_status_text(m.status))));
    f.push(("turn", turn));
    f.push(("speed", speed));
    f.push(("accuracy", J::B(m.accuracy)));
    f.push(("lon", J::F(lon, 7)));
    f.push(("lat", J::F(lat, 7)));
    f.push(("course", J::F(tenths_or(m.course, 3600), 1)));
    f.push(("heading", u(m.heading.unwrap_or(511))));
    f.push(("second", u(m.second)));
    f.push(("maneuver", u(m.maneuver)));
    f.push(("raim", J::B(m.raim)));
    f.push(("radio", u(m.radio)));
}

fn base_station<'m>(f: &mut Fields<'m>, m: &'m BaseStationReport) {
    let timestamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        m.year.unwrap_or(0),
        m.month.unwrap_or(0),
        m.day.unwrap_or(0),
        m.hour.unwrap_or(24),
        m.minute.unwrap_or(60),
        m.second.unwrap_or(60)
    );
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON_NA, message::LAT_NA, 600_000.0);
    f.push(("timestamp", owned(timestamp)));
    f.push(("accuracy", J::B(m.accuracy)));
    f.push(("lon", J::F(lon, 7)));
    f.push(("lat", J::F(lat, 7)));
    f.push(("epfd", u(m.epfd)));
    f.push(("epfd_text", s(epfd_text(m.epfd))));
    f.push(("raim", J::B(m.raim)));
    f.push(("radio", u(m.radio)));
}

fn static_voyage<'m>(f: &mut Fields<'m>, m: &'m StaticVoyageData) {
    f.push(("imo", u(m.imo.unwrap_or(0))));
    f.push(("ais_version", u(m.ais_version)));
    f.push(("callsign", s(&m.callsign)));
    f.push(("shipname", s(&m.shipname)));
    f.push(("shiptype", u(m.shiptype)));
    f.push(("shiptype_text", s(ship_type_text(m.shiptype))));
    dims(f, &m.dimensions);
    f.push(("epfd", u(m.epfd)));
    f.push(("epfd_text", s(epfd_text(m.epfd))));
    let eta = format!(
        "{:02}-{:02}T{:02}:{:02}Z",
        m.eta.month.unwrap_or(0),
        m.eta.day.unwrap_or(0),
        m.eta.hour.unwrap_or(24),
        m.eta.minute.unwrap_or(60)
    );
    f.push(("eta", owned(eta)));
    f.push(("draught", J::F(m.draught.unwrap_or(0.0), 1)));
    f.push(("destination", s(&m.destination)));
    f.push(("dte", u(m.dte)));
}

fn sar_aircraft<'m>(f: &mut Fields<'m>, m: &'m SarAircraftReport) {
    let alt = match m.alt {
        None => s("nan"),
        Some(4094) => s("high"),
        Some(v) => u(v),
    };
    let speed = match m.speed {
        None => s("nan"),
        Some(1022) => s("fast"),
        Some(v) => u(v),
    };
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON_NA, message::LAT_NA, 600_000.0);
    f.push(("alt", alt));
    f.push(("speed", speed));
    f.push(("accuracy", J::B(m.accuracy)));
    f.push(("lon", J::F(lon, 7)));
    f.push(("lat", J::F(lat, 7)));
    f.push(("course", J::F(tenths_or(m.course, 3600), 1)));
    f.push(("second", u(m.second)));
    f.push(("regional", u(m.regional)));
    f.push(("dte", u(m.dte)));
    f.push(("raim", J::B(m.raim)));
    f.push(("radio", u(m.radio)));
}

fn class_b<'m>(f: &mut Fields<'m>, m: &'m ClassBPositionReport) {
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON_NA, message::LAT_NA, 600_000.0);
    f.push(("reserved", u(m.reserved)));
    f.push(("speed", J::F(tenths_or(m.speed, 1023), 1)));
    f.push(("accuracy", J::B(m.accuracy)));
    f.push(("lon", J::F(lon, 7)));
    f.push(("lat", J::F(lat, 7)));
    f.push(("course", J::F(tenths_or(m.course, 3600), 1)));
    f.push(("heading", u(m.heading.unwrap_or(511))));
    f.push(("second", u(m.second)));
    f.push(("regional", u(m.regional)));
    f.push(("cs", J::B(m.cs)));
    f.push(("display", J::B(m.display)));
    f.push(("dsc", J::B(m.dsc)));
    f.push(("band", J::B(m.band)));
    f.push(("msg22", J::B(m.msg22)));
    f.push(("raim", J::B(m.raim)));
    f.push(("radio", u(m.radio)));
}

fn class_b_extended<'m>(f: &mut Fields<'m>, m: &'m ClassBExtendedReport) {
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON_NA, message::LAT_NA, 600_000.0);
    f.push(("reserved", u(m.reserved)));
    f.push(("speed", J::F(tenths_or(m.speed, 1023), 1)));
    f.push(("accuracy", J::B(m.accuracy)));
    f.push(("lon", J::F(lon, 7)));
    f.push(("lat", J::F(lat, 7)));
    f.push(("course", J::F(tenths_or(m.course, 3600), 1)));
    f.push(("heading", u(m.heading.unwrap_or(511))));
    f.push(("second", u(m.second)));
    f.push(("regional", u(m.regional)));
    f.push(("shipname", s(&m.shipname)));
    f.push(("shiptype", u(m.shiptype)));
    f.push(("shiptype_text", s(ship_type_text(m.shiptype))));
    dims(f, &m.dimensions);
    f.push(("epfd", u(m.epfd)));
    f.push(("epfd_text", s(epfd_text(m.epfd))));
    f.push(("raim", J::B(m.raim)));
    f.push(("dte", u(m.dte)));
    f.push(("assigned", J::B(m.assigned)));
}

fn aid_to_navigation<'m>(f: &mut Fields<'m>, m: &'m AidToNavigationReport) {
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON_NA, message::LAT_NA, 600_000.0);
    f.push(("aid_type", u(m.aid_type)));
    f.push(("aid_type_text", s(navaid_type_text(m.aid_type))));
    f.push(("name", s(&m.name)));
    f.push(("lon", J::F(lon, 7)));
    f.push(("lat", J::F(lat, 7)));
    f.push(("accuracy", J::B(m.accuracy)));
    dims(f, &m.dimensions);
    f.push(("epfd", u(m.epfd)));
    f.push(("epfd_text", s(epfd_text(m.epfd))));
    f.push(("second", u(m.second)));
    f.push(("regional", u(m.regional)));
    f.push(("off_position", J::B(m.off_position)));
    f.push(("raim", J::B(m.raim)));
    f.push(("virtual_aid", J::B(m.virtual_aid)));
}

fn static_data<'m>(f: &mut Fields<'m>, m: &'m StaticDataReport) {
    match (&m.shipname, &m.part_b) {
        (Some(_), Some(_)) => {}
        (_, None) => f.push(("part", s("A"))),
        (None, Some(_)) => f.push(("part", s("B"))),
    }
    if let Some(name) = &m.shipname {
        f.push(("shipname", s(name)));
    }
    if let Some(b) = &m.part_b {
        f.push(("shiptype", u(b.shiptype)));
        f.push(("shiptype_text", s(ship_type_text(b.shiptype))));
        f.push(("vendorid", s(&b.vendorid)));
        f.push(("model", u(b.model)));
        f.push(("serial", u(b.serial)));
        f.push(("callsign", s(&b.callsign)));
        match &b.hull {
            Hull::MothershipMmsi(mmsi) => f.push(("mothership_mmsi", u(*mmsi))),
            Hull::Dimensions(d) => dims(f, d),
        }
    }
}

fn long_range<'m>(f: &mut Fields<'m>, m: &'m LongRangeReport) {
    // gpsd 3.22 prints type 27's status as its legend only, and positions with one decimal.
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON27_NA, message::LAT27_NA, 600.0);
    f.push(("status", s(nav_status_text_322(m.status))));
    f.push(("accuracy", J::B(m.accuracy)));
    f.push(("lon", J::F(lon, 1)));
    f.push(("lat", J::F(lat, 1)));
    f.push(("speed", u(m.speed.unwrap_or(63))));
    f.push(("course", u(m.course.unwrap_or(511))));
    f.push(("raim", J::B(m.raim)));
    f.push(("gnss", J::B(m.gnss)));
}

/// An application's fields, as gpsd prints them and as the JSON they mean.
fn application(app: &binary::Application) -> J<'static> {
    let (mut gpsd, mut json) = (String::new(), String::new());
    binary::write_gpsd_fields(app, &mut gpsd, binary::Defects::Reproduce);
    binary::write_gpsd_fields(app, &mut json, binary::Defects::Mend);
    J::Raw { gpsd, json }
}

fn addressed_binary<'m>(f: &mut Fields<'m>, m: &'m AddressedBinary) {
    f.push(("seqno", u(m.seqno)));
    f.push(("dest_mmsi", u(m.dest_mmsi)));
    f.push(("retransmit", J::B(m.retransmit)));
    f.push(("dac", u(m.dac)));
    f.push(("fid", u(m.fid)));
    f.push(("application", application(&m.application)));
}

fn binary_broadcast<'m>(f: &mut Fields<'m>, m: &'m BinaryBroadcast) {
    f.push(("dac", u(m.dac)));
    f.push(("fid", u(m.fid)));
    f.push(("application", application(&m.application)));
}

fn acknowledge<'m>(f: &mut Fields<'m>, m: &'m Acknowledge) {
    const KEYS: [&str; 4] = ["mmsi1", "mmsi2", "mmsi3", "mmsi4"];
    for (i, key) in KEYS.iter().enumerate() {
        f.push((key, u(m.acks.get(i).map_or(0, |a| a.mmsi))));
    }
}

fn interrogation<'m>(f: &mut Fields<'m>, m: &'m Interrogation) {
    let r12 = m.request1_2.unwrap_or_default();
    let (mmsi2, r21) = m.station2.unwrap_or_default();
    f.push(("mmsi1", u(m.mmsi1)));
    f.push(("type1_1", u(m.request1_1.message_type)));
    f.push(("offset1_1", u(m.request1_1.offset)));
    f.push(("type1_2", u(r12.message_type)));
    f.push(("offset1_2", u(r12.offset)));
    f.push(("mmsi2", u(mmsi2)));
    f.push(("type2_1", u(r21.message_type)));
    f.push(("offset2_1", u(r21.offset)));
}

fn assigned_mode<'m>(f: &mut Fields<'m>, m: &'m AssignedMode) {
    const KEYS: [[&str; 3]; 2] = [["mmsi1", "offset1", "increment1"], ["mmsi2", "offset2", "increment2"]];
    for (i, [mmsi, offset, increment]) in KEYS.iter().enumerate() {
        let a = m.assignments.get(i);
        f.push((mmsi, u(a.map_or(0, |a| a.mmsi))));
        f.push((offset, u(a.map_or(0, |a| a.offset))));
        f.push((increment, u(a.map_or(0, |a| a.increment))));
    }
}

/// `"bits:hex"`, as gpsd's `%zd:%s` of its hex dump.
fn data_text(d: &BinaryData) -> String {
    let mut out = String::with_capacity(8 + 2 * d.data.len());
    let _ = write!(out, "{}:", d.bits);
    for byte in &d.data {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn dgnss<'m>(f: &mut Fields<'m>, m: &'m DgnssBroadcast) {
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON27_NA, message::LAT27_NA, 600.0);
    f.push(("lon", J::F(lon, 1)));
    f.push(("lat", J::F(lat, 1)));
    f.push(("data", owned(data_text(&m.data))));
}

fn data_link<'m>(f: &mut Fields<'m>, m: &'m DataLinkManagement) {
    const KEYS: [[&str; 4]; 4] = [
        ["offset1", "number1", "timeout1", "increment1"],
        ["offset2", "number2", "timeout2", "increment2"],
        ["offset3", "number3", "timeout3", "increment3"],
        ["offset4", "number4", "timeout4", "increment4"],
    ];
    for (r, [offset, number, timeout, increment]) in m.reservations.iter().zip(KEYS) {
        f.push((offset, u(r.offset)));
        f.push((number, u(r.number)));
        f.push((timeout, u(r.timeout)));
        f.push((increment, u(r.increment)));
    }
}

/// gpsd prints area corners of types 22 and 23 as strings, with C's `%f` (6 decimals).
fn corner(v: f64) -> J<'static> {
    owned(format!("{v:.6}"))
}

fn channel_management<'m>(f: &mut Fields<'m>, m: &'m ChannelManagement) {
    f.push(("channel_a", u(m.channel_a)));
    f.push(("channel_b", u(m.channel_b)));
    f.push(("txrx", u(m.txrx)));
    f.push(("power", J::B(m.power)));
    let addressed = match m.target {
        ChannelTarget::Addressed { dest1, dest2 } => {
            f.push(("dest1", u(dest1)));
            f.push(("dest2", u(dest2)));
            true
        }
        ChannelTarget::Area { ne_lon, ne_lat, sw_lon, sw_lat } => {
            f.push(("ne_lon", corner(ne_lon)));
            f.push(("ne_lat", corner(ne_lat)));
            f.push(("sw_lon", corner(sw_lon)));
            f.push(("sw_lat", corner(sw_lat)));
            false
        }
    };
    f.push(("addressed", J::B(addressed)));
    f.push(("band_a", J::B(m.band_a)));
    f.push(("band_b", J::B(m.band_b)));
    f.push(("zonesize", u(m.zonesize)));
}

fn group_assignment<'m>(f: &mut Fields<'m>, m: &'m GroupAssignment) {
    f.push(("ne_lon", corner(m.ne_lon)));
    f.push(("ne_lat", corner(m.ne_lat)));
    f.push(("sw_lon", corner(m.sw_lon)));
    f.push(("sw_lat", corner(m.sw_lat)));
    f.push(("stationtype", u(m.station_type)));
    f.push(("stationtype_text", s(station_type_text(m.station_type))));
    f.push(("shiptype", u(m.ship_type)));
    f.push(("shiptype_text", s(ship_type_text(m.ship_type))));
    f.push(("interval", u(m.interval)));
    f.push(("quiet", u(m.quiet)));
}

fn slot_binary<'m>(f: &mut Fields<'m>, m: &'m SlotBinary) {
    f.push(("addressed", J::B(m.dest_mmsi.is_some())));
    f.push(("structured", J::B(m.app_id.is_some())));
    f.push(("dest_mmsi", u(m.dest_mmsi.unwrap_or(0))));
    f.push(("app_id", u(m.app_id.unwrap_or(0))));
    f.push(("data", owned(data_text(&m.data))));
    if m.radio.is_some() {
        // gpsd never decodes type 26's communication state: it prints the zeroed field.
        f.push(("radio", u(0u8)));
    }
}

/// `v` as `printf("%.{precision}f")` prints it. Rust's `{:.N}` does the same (exact decimal
/// rounding of the binary value) but slowly; integer arithmetic gives the same digits
/// whenever the scaled value is not within 1e-6 of a rounding tie, which covers AIS's
/// values (raw integers over 10ⁿ or 6·10ⁿ) but for the ties, left to `{:.N}`.
fn push_fixed(out: &mut String, v: f64, precision: usize) {
    const POW10: [f64; 8] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7];
    const IPOW10: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];
    if let (Some(&scale), Some(&unit)) = (POW10.get(precision), IPOW10.get(precision)) {
        let scaled = v.abs() * scale;
        let frac = scaled - scaled.floor();
        if scaled < 1e15 && (frac - 0.5).abs() > 1e-6 {
            let n = scaled.round() as u64;
            if v.is_sign_negative() {
                out.push('-');
            }
            let _ = write!(out, "{}", n / unit);
            if precision > 0 {
                let _ = write!(out, ".{:0precision$}", n % unit);
            }
            return;
        }
    }
    let _ = write!(out, "{v:.precision$}");
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        // The common case: nothing to escape.
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// gpsd's legend for a navigation status (types 1–3 and 27).
#[must_use]
pub fn nav_status_text(status: u8) -> &'static str {
    const LEGENDS: [&str; 16] = [
        "Under way using engine",
        "At anchor",
        "Not under command",
        "Restricted maneuverability",
        "Constrained by her draught",
        "Moored",
        "Aground",
        "Engaged in fishing",
        "Under way sailing",
        "Reserved for HSC",
        "Reserved for WIG",
        "Power-driven vessel towing astern",
        "Power-driven vessel pushing ahead or towing alongside",
        "Reserved",
        "AIS-SART is active",
        "Not defined",
    ];
    LEGENDS.get(usize::from(status)).copied().unwrap_or("Not defined")
}

/// gpsd 3.22's legend for a navigation status, as it prints type 27's `status` (its older
/// table: "manoeuverability", statuses 11–14 "Reserved").
#[must_use]
pub fn nav_status_text_322(status: u8) -> &'static str {
    match status {
        3 => "Restricted manoeuverability",
        11..=14 => "Reserved",
        other => nav_status_text(other),
    }
}

/// gpsd's legend for the station type a group assignment (type 23) addresses.
#[must_use]
pub fn station_type_text(station_type: u8) -> &'static str {
    match station_type {
        0 => "All types of mobiles",
        2 => "All types of Class B mobile stations",
        3 => "SAR airborne mobile station",
        4 => "Aid to Navigation station",
        5 => "Class B shipborne mobile station",
        6..=9 => "Regional use and inland waterways",
        1 | 10..=15 => "Reserved for future use",
        _ => "INVALID STATION TYPE",
    }
}

/// gpsd's legend for a type of electronic position fixing device.
#[must_use]
pub fn epfd_text(epfd: u8) -> &'static str {
    const LEGENDS: [&str; 16] = [
        "Undefined",
        "GPS",
        "GLONASS",
        "Combined GPS/GLONASS",
        "Loran-C",
        "Chayka",
        "Integrated navigation system",
        "Surveyed",
        "Galileo",
        "Reserved (9)",
        "Reserved (10)",
        "Reserved (11)",
        "Reserved (12)",
        "Reserved (13)",
        "Reserved (14)",
        "Internal GNSS",
    ];
    LEGENDS.get(usize::from(epfd)).copied().unwrap_or("INVALID EPFD")
}

/// gpsd's legend for a type of aid to navigation (type 21).
#[must_use]
pub fn navaid_type_text(aid_type: u8) -> &'static str {
    const LEGENDS: [&str; 32] = [
        "Unspecified",
        "Reference point",
        "RACON",
        "Fixed offshore structure",
        "Spare, Reserved for future use.",
        "Light, without sectors",
        "Light, with sectors",
        "Leading Light Front",
        "Leading Light Rear",
        "Beacon, Cardinal N",
        "Beacon, Cardinal E",
        "Beacon, Cardinal S",
        "Beacon, Cardinal W",
        "Beacon, Port hand",
        "Beacon, Starboard hand",
        "Beacon, Preferred Channel port hand",
        "Beacon, Preferred Channel starboard hand",
        "Beacon, Isolated danger",
        "Beacon, Safe water",
        "Beacon, Special mark",
        "Cardinal Mark N",
        "Cardinal Mark E",
        "Cardinal Mark S",
        "Cardinal Mark W",
        "Port hand Mark",
        "Starboard hand Mark",
        "Preferred Channel Port hand",
        "Preferred Channel Starboard hand",
        "Isolated danger",
        "Safe Water",
        "Special Mark",
        "Light Vessel / LANBY / Rigs",
    ];
    LEGENDS.get(usize::from(aid_type)).copied().unwrap_or("INVALID NAVAID TYPE")
}

/// gpsd's legend for a ship and cargo type (types 5, 19, 24).
#[must_use]
pub fn ship_type_text(shiptype: u8) -> &'static str {
    const LEGENDS: [&str; 100] = [
        "Not available",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Reserved for future use",
        "Wing in ground (WIG) - all ships of this type",
        "Wing in ground (WIG) - Hazardous category A",
        "Wing in ground (WIG) - Hazardous category B",
        "Wing in ground (WIG) - Hazardous category C",
        "Wing in ground (WIG) - Hazardous category D",
        "Wing in ground (WIG) - Reserved for future use",
        "Wing in ground (WIG) - Reserved for future use",
        "Wing in ground (WIG) - Reserved for future use",
        "Wing in ground (WIG) - Reserved for future use",
        "Wing in ground (WIG) - Reserved for future use",
        "Fishing",
        "Towing",
        "Towing: length exceeds 200m or breadth exceeds 25m",
        "Dredging or underwater ops",
        "Diving ops",
        "Military ops",
        "Sailing",
        "Pleasure Craft",
        "Reserved",
        "Reserved",
        "High speed craft (HSC) - all ships of this type",
        "High speed craft (HSC) - Hazardous category A",
        "High speed craft (HSC) - Hazardous category B",
        "High speed craft (HSC) - Hazardous category C",
        "High speed craft (HSC) - Hazardous category D",
        "High speed craft (HSC) - Reserved for future use",
        "High speed craft (HSC) - Reserved for future use",
        "High speed craft (HSC) - Reserved for future use",
        "High speed craft (HSC) - Reserved for future use",
        "High speed craft (HSC) - No additional information",
        "Pilot Vessel",
        "Search and Rescue vessel",
        "Tug",
        "Port Tender",
        "Anti-pollution equipment",
        "Law Enforcement",
        "Spare - Local Vessel",
        "Spare - Local Vessel",
        "Medical Transport",
        "Ship according to RR Resolution No. 18",
        "Passenger - all ships of this type",
        "Passenger - Hazardous category A",
        "Passenger - Hazardous category B",
        "Passenger - Hazardous category C",
        "Passenger - Hazardous category D",
        "Passenger - Reserved for future use",
        "Passenger - Reserved for future use",
        "Passenger - Reserved for future use",
        "Passenger - Reserved for future use",
        "Passenger - No additional information",
        "Cargo - all ships of this type",
        "Cargo - Hazardous category A",
        "Cargo - Hazardous category B",
        "Cargo - Hazardous category C",
        "Cargo - Hazardous category D",
        "Cargo - Reserved for future use",
        "Cargo - Reserved for future use",
        "Cargo - Reserved for future use",
        "Cargo - Reserved for future use",
        "Cargo - No additional information",
        "Tanker - all ships of this type",
        "Tanker - Hazardous category A",
        "Tanker - Hazardous category B",
        "Tanker - Hazardous category C",
        "Tanker - Hazardous category D",
        "Tanker - Reserved for future use",
        "Tanker - Reserved for future use",
        "Tanker - Reserved for future use",
        "Tanker - Reserved for future use",
        "Tanker - No additional information",
        "Other Type - all ships of this type",
        "Other Type - Hazardous category A",
        "Other Type - Hazardous category B",
        "Other Type - Hazardous category C",
        "Other Type - Hazardous category D",
        "Other Type - Reserved for future use",
        "Other Type - Reserved for future use",
        "Other Type - Reserved for future use",
        "Other Type - Reserved for future use",
        "Other Type - no additional information",
    ];
    LEGENDS.get(usize::from(shiptype)).copied().unwrap_or("INVALID SHIP TYPE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_prints_as_printf() {
        // Every AIS scaling (1/10, 1/600, 1/60 000, 1/600 000) at every precision gpsd uses,
        // over a sweep of raw values: the same digits as Rust's exact `{:.N}`.
        let mut out = String::new();
        for div in [1.0, 10.0, 100.0, 600.0, 60_000.0, 600_000.0] {
            for precision in [0, 1, 2, 4, 6, 7] {
                for raw in (-108_600_000i64..=108_600_000).step_by(7_919).chain(-2000..2000) {
                    let v = raw as f64 / div;
                    out.clear();
                    push_fixed(&mut out, v, precision);
                    assert_eq!(out, format!("{v:.precision$}"), "{raw}/{div} at {precision}");
                }
            }
        }
    }

    /// Found by `cargo fuzz run payload` (input `crash-1dd04ead…`): a type 8 FID 19 traffic
    /// signal's value lost every application field, because it was read back from gpsd's line,
    /// which misses a comma. The line keeps gpsd's defect; the value has the fields.
    #[test]
    fn a_traffic_signal_keeps_its_fields_in_the_value_and_gpsds_defect_in_the_line() {
        let armored =
            b"8R0T:w@0Dm6uUUU88888888888888888888888888888888888888888888888888UUUUle?wW5JR@;DfhvD5JR@S0";
        let message = Message::decode_armored(armored, 0).unwrap();
        let line = to_gpsd_json_line(&message, None);
        assert!(line.contains(r#""nextsignal":8"nextsignal_text""#), "{line}");
        let value = to_gpsd_json(&message, None);
        assert_eq!((value["fid"].as_u64(), value["nextsignal"].as_u64()), (Some(19), Some(8)), "{value}");
        assert_eq!(value["signal_text"], "N/A");
        let mended = line.replace(r#""nextsignal_text""#, r#","nextsignal_text""#);
        assert_eq!(serde_json::from_str::<Value>(&mended).unwrap(), value);
    }
}
