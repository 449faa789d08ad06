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
//! Differences from gpsd, all deliberate:
//! - the type 8 DAC 1 FID 31 `waterlevel` is rendered as the signed value for raw levels
//!   below 1000 (gpsd computes it in unsigned arithmetic and prints about 42949662.7);
//! - only scaled output (`gpsdecode -j`), not `-u`.
//!
//! Just over 600 lines: one renderer per message type, in gpsd's key order, so
//! a difference from `gpsdecode -j` is found by reading one function.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

use crate::message::{
    self, AidToNavigationReport, BaseStationReport, ClassBExtendedReport, ClassBPositionReport, Dimensions,
    Hull, LongRangeReport, Message, MetHydroReport, PositionReport, SarAircraftReport, StaticDataReport,
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
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push(':');
        match value {
            J::U(v) => {
                let _ = write!(out, "{v}");
            }
            J::F(v, precision) => {
                let _ = write!(out, "{v:.precision$}");
            }
            J::B(v) => out.push_str(if *v { "true" } else { "false" }),
            J::S(s) => push_json_string(&mut out, s),
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
        Message::MetHydro(m) => met_hydro(&mut f, m),
        Message::SarAircraft(m) => sar_aircraft(&mut f, m),
        Message::ClassBPosition(m) => class_b(&mut f, m),
        Message::ClassBExtended(m) => class_b_extended(&mut f, m),
        Message::AidToNavigation(m) => aid_to_navigation(&mut f, m),
        Message::StaticData(m) => static_data(&mut f, m),
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

fn met_hydro<'m>(f: &mut Fields<'m>, m: &'m MetHydroReport) {
    const TRENDS: [&str; 4] = ["steady", "increasing", "decreasing", "N/A"];
    const PRECIPITATION: [&str; 8] =
        ["reserved", "rain", "thunderstorm", "freezing rain", "mixed/ice", "snow", "reserved", "N/A"];
    const ICE: [&str; 4] = ["no", "yes", "reserved", "N/A"];
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON31_NA, message::LAT31_NA, 60_000.0);
    f.push(("dac", u(1u8)));
    f.push(("fid", u(31u8)));
    f.push(("lat", J::F(lat, 6)));
    f.push(("lon", J::F(lon, 6)));
    f.push(("accuracy", J::B(m.accuracy)));
    let timestamp =
        format!("{:02}T{:02}:{:02}Z", m.day.unwrap_or(0), m.hour.unwrap_or(24), m.minute.unwrap_or(60));
    f.push(("timestamp", owned(timestamp)));
    f.push(("wspeed", u(m.wspeed.unwrap_or(127))));
    f.push(("wgust", u(m.wgust.unwrap_or(127))));
    f.push(("wdir", u(m.wdir.unwrap_or(360))));
    f.push(("wgustdir", u(m.wgustdir.unwrap_or(360))));
    f.push(("humidity", u(m.humidity.unwrap_or(101))));
    f.push(("airtemp", J::F(m.airtemp.unwrap_or(-102.4), 1)));
    f.push(("dewpoint", J::F(m.dewpoint.unwrap_or(50.1), 1)));
    f.push(("pressure", u(m.pressure.unwrap_or(511 + 799))));
    f.push(("pressuretend", s(TRENDS[usize::from(m.pressuretend.unwrap_or(3) & 3)])));
    f.push(("visgreater", J::B(m.visgreater)));
    f.push(("visibility", J::F(tenths_or(m.visibility, 127), 1)));
    f.push(("waterlevel", J::F(m.waterlevel.unwrap_or((4001.0 - 1000.0) / 100.0), 1)));
    f.push(("leveltrend", s(TRENDS[usize::from(m.leveltrend.unwrap_or(3) & 3)])));
    f.push(("cspeed", J::F(tenths_or(m.cspeed, 255), 1)));
    f.push(("cdir", u(m.cdir.unwrap_or(360))));
    f.push(("cspeed2", J::F(tenths_or(m.cspeed2, 255), 1)));
    f.push(("cdir2", u(m.cdir2.unwrap_or(360))));
    f.push(("cdepth2", u(m.cdepth2.unwrap_or(31))));
    f.push(("cspeed3", J::F(tenths_or(m.cspeed3, 255), 1)));
    f.push(("cdir3", u(m.cdir3.unwrap_or(360))));
    f.push(("cdepth3", u(m.cdepth3.unwrap_or(31))));
    f.push(("waveheight", J::F(tenths_or(m.waveheight, 255), 1)));
    f.push(("waveperiod", u(m.waveperiod.unwrap_or(63))));
    f.push(("wavedir", u(m.wavedir.unwrap_or(360))));
    f.push(("swellheight", J::F(tenths_or(m.swellheight, 255), 1)));
    f.push(("swellperiod", u(m.swellperiod.unwrap_or(63))));
    f.push(("swelldir", u(m.swelldir.unwrap_or(360))));
    f.push(("seastate", u(m.seastate.unwrap_or(13))));
    f.push(("watertemp", J::F(m.watertemp.unwrap_or(50.1), 1)));
    f.push(("preciptype", s(PRECIPITATION[usize::from(m.preciptype.unwrap_or(7) & 7)])));
    f.push(("salinity", J::F(tenths_or(m.salinity, 510), 1)));
    f.push(("ice", s(ICE[usize::from(m.ice.unwrap_or(3) & 3)])));
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
    let (lon, lat) = lon_lat(m.lon, m.lat, message::LON27_NA, message::LAT27_NA, 600.0);
    f.push(("status", u(m.status)));
    f.push(("status_text", s(nav_status_text(m.status))));
    f.push(("accuracy", J::B(m.accuracy)));
    f.push(("lon", J::F(lon, 4)));
    f.push(("lat", J::F(lat, 4)));
    f.push(("speed", u(m.speed.unwrap_or(63))));
    f.push(("course", u(m.course.unwrap_or(511))));
    f.push(("raim", J::B(m.raim)));
    f.push(("gnss", J::B(m.gnss)));
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
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
