//! DAC 1 (international) applications other than met-hydro: IMO236 and IMO289 messages as
//! gpsd 3.22 decodes them.
//!
//! Fields are kept as transmitted (gpsd prints them so); each doc says the unit and the
//! "not available" code. gpsd's length rules are reproduced: most of these decoders have none
//! (fields past the end read as zero), array elements are decoded while they start within
//! the message.

use std::fmt::Write as _;

use super::{Application, At, Defects, MINUTE_1000, MINUTE_10000, PartialTime, legend, push_escaped};

/// gpsd's divisor for 1/1000-minute positions (`AIS_LATLON3_DIV`), also applied to FID 14's
/// 1/10000-minute ones.
const DIV3: f64 = 60_000.0;

pub(super) fn decode(at: &At<'_, '_>, fid: u8, addressed: bool) -> Option<Application> {
    let app = match (addressed, fid) {
        (false, 11) => Application::MetHydro(Box::new(super::MetHydroReport::decode_fid11(at))),
        (false, 31) => Application::MetHydro(Box::new(super::MetHydroReport::decode_fid31(at))),
        (true, 12) => Application::DangerousCargo(DangerousCargo::decode(at)),
        (false, 13) => Application::FairwayClosed(FairwayClosed::decode(at)),
        (true, 14) => Application::TidalWindow(TidalWindow::decode_fid14(at)),
        (true, 32) => Application::TidalWindow(TidalWindow::decode_fid32(at)),
        // gpsd reads it at absolute bit 56 in both message types (inside the type 6 header).
        (_, 15) => {
            // 11 bits: lossless.
            let airdraught = Some(at.bits.u(56, 11) as u16).filter(|&v| v != 0);
            Application::AirDraught(AirDraught { airdraught, addressed })
        }
        (_, 16) => Application::PersonsOnBoard(PersonsOnBoard::decode(at, addressed)?),
        (false, 17) => Application::VtsTargets(VtsTargets::decode(at)),
        (true, 18) => Application::ClearanceTime(ClearanceTime::decode(at)),
        (false, 19) => Application::TrafficSignal(TrafficSignal::decode(at)),
        (true, 20) => Application::BerthingData(BerthingData::decode(at)),
        (true, 25) => Application::CargoList(CargoList::decode(at)),
        (false, 27) | (true, 28) => Application::RouteInfo(RouteInfo::decode(at, fid)),
        (false, 29) | (true, 30) => {
            Application::TextDescription(TextDescription { linkage: at.u(0, 10), text: at.end_text(10) })
        }
        _ => return None,
    };
    Some(app)
}

/// `%02u-%02uT%02u:%02u`, gpsd's partial ISO 8601 dates.
fn date(out: &mut String, key: &str, time: PartialTime, zulu: bool) {
    let (month, day, hour, minute) = time.codes();
    let z = if zulu { "Z" } else { "" };
    let _ = write!(out, ",\"{key}\":\"{month:02}-{day:02}T{hour:02}:{minute:02}{z}\"");
}

/// `value` escaped for a JSON string.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    push_escaped(&mut out, value);
    out
}

/// `,"key":"escaped text"`.
fn text(out: &mut String, key: &str, value: &str) {
    let _ = write!(out, ",\"{key}\":\"");
    push_escaped(out, value);
    out.push('"');
}

/// DAC 1 FID 12 (type 6, IMO236): dangerous cargo indication.
#[derive(Debug, Clone, PartialEq)]
pub struct DangerousCargo {
    /// Last port of call (UN/LOCODE).
    pub lastport: String,
    /// Departure from the last port (UTC).
    pub departure: PartialTime,
    /// Next port of call (UN/LOCODE).
    pub nextport: String,
    /// ETA at the next port (UTC).
    pub eta: PartialTime,
    /// Main dangerous good.
    pub dangerous: String,
    /// IMD category.
    pub imdcat: String,
    /// UN number (0 N/A).
    pub unid: u32,
    /// Amount of cargo (0 N/A), in `unit`.
    pub amount: u32,
    /// Unit of quantity (0 N/A, 1 kg, 2 tonnes, 3 thousand tonnes).
    pub unit: u32,
}

impl DangerousCargo {
    fn decode(at: &At<'_, '_>) -> Self {
        Self {
            lastport: at.text(0, 5),
            departure: PartialTime::read(at, 30),
            nextport: at.text(50, 5),
            eta: PartialTime::read(at, 80),
            dangerous: at.text(100, 20),
            imdcat: at.text(220, 4),
            unid: at.u(244, 13),
            amount: at.u(257, 10),
            unit: at.u(267, 2),
        }
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        text(out, "lastport", &self.lastport);
        date(out, "departure", self.departure, true);
        text(out, "nextport", &self.nextport);
        date(out, "eta", self.eta, true);
        text(out, "dangerous", &self.dangerous);
        text(out, "imdcat", &self.imdcat);
        let _ = write!(out, ",\"unid\":{},\"amount\":{},\"unit\":{}", self.unid, self.amount, self.unit);
    }
}

/// DAC 1 FID 13 (type 8, IMO236): fairway closed.
#[derive(Debug, Clone, PartialEq)]
pub struct FairwayClosed {
    /// Reason for closing.
    pub reason: String,
    /// Location of closing from.
    pub closefrom: String,
    /// Location of closing to.
    pub closeto: String,
    /// Radius extension (10001 N/A), in `extunit`.
    pub radius: u32,
    /// Unit of extension (0 N/A).
    pub extunit: u32,
    /// Closed from (UTC).
    pub from: PartialTime,
    /// Closed to (UTC).
    pub to: PartialTime,
}

impl FairwayClosed {
    fn decode(at: &At<'_, '_>) -> Self {
        Self {
            reason: at.text(0, 20),
            closefrom: at.text(120, 20),
            closeto: at.text(240, 20),
            radius: at.u(360, 10),
            extunit: at.u(370, 2),
            // The wire order is day, month.
            from: PartialTime::from_codes(at.u(377, 4), at.u(372, 5), at.u(381, 5), at.u(386, 6)),
            to: PartialTime::from_codes(at.u(397, 4), at.u(392, 5), at.u(401, 5), at.u(406, 6)),
        }
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        text(out, "reason", &self.reason);
        text(out, "closefrom", &self.closefrom);
        text(out, "closeto", &self.closeto);
        let _ = write!(out, ",\"radius\":{},\"extunit\":{}", self.radius, self.extunit);
        date(out, "from", self.from, false);
        date(out, "to", self.to, false);
    }
}

/// DAC 1 FID 14 (IMO236) and 32 (IMO289), type 6: tidal window.
#[derive(Debug, Clone, PartialEq)]
pub struct TidalWindow {
    /// The FID (14 or 32): the element layouts differ.
    pub fid: u8,
    /// Month (UTC).
    pub month: u32,
    /// Day (UTC).
    pub day: u32,
    /// The windows, as many as start within the message (gpsd's rule, which counts an
    /// element starting exactly at the end).
    pub tidals: Vec<TidalWindowElement>,
}

/// One tidal window.
#[derive(Debug, Clone, PartialEq)]
pub struct TidalWindowElement {
    /// Longitude, 1/1000 minute (FID 14: 1/10000 minute, which gpsd scales as 1/1000).
    pub lon: i32,
    /// Latitude, same units as `lon`.
    pub lat: i32,
    /// From hour (UTC).
    pub from_hour: u32,
    /// From minute.
    pub from_min: u32,
    /// To hour (UTC).
    pub to_hour: u32,
    /// To minute.
    pub to_min: u32,
    /// Predicted current direction, degrees (360 N/A).
    pub cdir: u32,
    /// Predicted current speed, 0.1 knot (127 N/A in FID 32).
    pub cspeed: u32,
}

impl TidalWindow {
    fn decode_fid14(at: &At<'_, '_>) -> Self {
        let tidals = elements(at, 9, 93)
            .map(|a| TidalWindowElement {
                lat: at.i(a, 27),
                lon: at.i(a + 27, 28),
                from_hour: at.u(a + 55, 5),
                from_min: at.u(a + 60, 6),
                to_hour: at.u(a + 66, 5),
                to_min: at.u(a + 71, 6),
                cdir: at.u(a + 77, 9),
                cspeed: at.u(a + 86, 7),
            })
            .collect();
        Self { fid: 14, month: at.u(0, 4), day: at.u(4, 5), tidals }
    }

    fn decode_fid32(at: &At<'_, '_>) -> Self {
        let tidals = elements(at, 9, 88)
            .map(|a| TidalWindowElement {
                lon: at.i(a, 25),
                lat: at.i(a + 25, 24),
                from_hour: at.u(a + 49, 5),
                from_min: at.u(a + 54, 6),
                to_hour: at.u(a + 60, 5),
                to_min: at.u(a + 65, 6),
                cdir: at.u(a + 71, 9),
                cspeed: at.u(a + 80, 8),
            })
            .collect();
        Self { fid: 32, month: at.u(0, 4), day: at.u(4, 5), tidals }
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        let _ = write!(out, ",\"month\":{},\"day\":{},\"tidals\":[", self.month, self.day);
        for (i, t) in self.tidals.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"lon\":{:.4},\"lat\":{:.4},\"from_hour\":{},\"from_min\":{},\"to_hour\":{},\"to_min\":{},\
                 \"cdir\":{},\"cspeed\":{:.1}}}",
                f64::from(t.lon) / DIV3,
                f64::from(t.lat) / DIV3,
                t.from_hour,
                t.from_min,
                t.to_hour,
                t.to_min,
                t.cdir,
                f64::from(t.cspeed) / 10.0
            );
        }
        out.push(']');
    }
}

/// Data offsets of array elements of `size` bits from `base`, while an element starts at or
/// before the end of the message (gpsd: `base + size * u <= bitlen`).
fn elements(at: &At<'_, '_>, base: usize, size: usize) -> impl Iterator<Item = usize> {
    let end = at.data_len();
    (0..).map(move |u| base + size * u).take_while(move |&a| a <= end)
}

/// DAC 1 FID 15 (types 6 and 8, IMO236): extended ship static data.
#[derive(Debug, Clone, PartialEq)]
pub struct AirDraught {
    /// Air draught, metres; `None` (0). gpsd reads it at bit 56 of the message, which for a
    /// type 6 is inside the destination MMSI: reproduced, since it is what gpsd prints.
    pub airdraught: Option<u16>,
    /// Whether it came in a type 6.
    pub addressed: bool,
}

impl AirDraught {
    pub(super) fn write_gpsd(&self, out: &mut String) {
        let _ = write!(out, ",\"airdraught\":{}", self.airdraught.map_or(0, u32::from));
    }
}

/// DAC 1 FID 16 (types 6 and 8): number of persons on board.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonsOnBoard {
    /// Persons on board; `None` (8191).
    pub persons: Option<u16>,
    /// Whether it came in a type 6 (a type 8's count is printed as 0 by gpsd 3.22).
    pub addressed: bool,
}

impl PersonsOnBoard {
    fn decode(at: &At<'_, '_>, addressed: bool) -> Option<Self> {
        // IMO289 (136 data bits) puts the count after the application id; IMO236 at bit 55,
        // gpsd's absolute offset for both types. A type 8 of any other length stays raw.
        let persons = match at.data_len() {
            136 => at.bits.u(88, 13),
            72 => at.bits.u(55, 13),
            _ if addressed => at.bits.u(55, 13),
            _ => return None,
        };
        // 13 bits: lossless.
        Some(Self { persons: Some(persons as u16).filter(|&v| v != 8191), addressed })
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        // gpsd 3.22 prints a type 8's count from the type 6 union, where it is always 0.
        let persons = if self.addressed { self.persons.map_or(8191, u32::from) } else { 0 };
        let _ = write!(out, ",\"persons\":{persons}");
    }
}

/// Identity of a VTS target.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetId {
    /// MMSI (gpsd keeps the low 32 bits of the 42-bit field).
    Mmsi(u32),
    /// IMO number (low 32 bits).
    Imo(u32),
    /// Call sign (7 characters).
    Callsign(String),
    /// Other identifier (7 characters).
    Other(String),
}

/// One VTS-generated or synthetic target.
#[derive(Debug, Clone, PartialEq)]
pub struct VtsTarget {
    /// Identifier.
    pub id: TargetId,
    /// Latitude, degrees (1/1000 minute resolution); `None` (91°).
    pub lat: Option<f64>,
    /// Longitude, degrees; `None` (181°).
    pub lon: Option<f64>,
    /// Course over ground, degrees; `None` (360).
    pub course: Option<u16>,
    /// UTC second of the observation; `None` (60).
    pub second: Option<u8>,
    /// Speed over ground, knots; `None` (255).
    pub speed: Option<u16>,
}

/// DAC 1 FID 17 (type 8, IMO289): VTS-generated/synthetic targets.
#[derive(Debug, Clone, PartialEq)]
pub struct VtsTargets {
    /// Targets, as many as start within the message.
    pub targets: Vec<VtsTarget>,
}

impl VtsTargets {
    fn decode(at: &At<'_, '_>) -> Self {
        let targets = elements(at, 0, 122)
            .map(|a| {
                let id = match at.u(a, 2) {
                    // Low 32 bits of the 42-bit field, as gpsd stores it.
                    0 => TargetId::Mmsi(at.u(a + 12, 32)),
                    1 => TargetId::Imo(at.u(a + 12, 32)),
                    2 => TargetId::Callsign(at.text(a + 2, 7)),
                    _ => TargetId::Other(at.text(a + 2, 7)),
                };
                VtsTarget {
                    id,
                    lat: MINUTE_1000.lat(at.i(a + 48, 24)),
                    lon: MINUTE_1000.lon(at.i(a + 72, 25)),
                    // 9, 6 and 10 bits: lossless.
                    course: Some(at.u(a + 97, 9) as u16).filter(|&v| v != 360),
                    second: Some(at.u(a + 106, 6) as u8).filter(|&v| v != 60),
                    speed: Some(at.u(a + 112, 10) as u16).filter(|&v| v != 255),
                }
            })
            .collect();
        Self { targets }
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        out.push_str(",\"targets\":[");
        for (i, t) in self.targets.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let (code, name) = match &t.id {
                TargetId::Mmsi(_) => (0, "mmsi"),
                TargetId::Imo(_) => (1, "imo"),
                TargetId::Callsign(_) => (2, "callsign"),
                TargetId::Other(_) => (3, "other"),
            };
            let _ = write!(out, "{{\"idtype\":{code},\"idtype_text\":\"{name}\",\"{name}\":\"");
            match &t.id {
                TargetId::Mmsi(v) | TargetId::Imo(v) => {
                    let _ = write!(out, "{v}");
                }
                TargetId::Callsign(s) | TargetId::Other(s) => push_escaped(out, s),
            }
            let _ = write!(
                out,
                "\",\"lat\":{:.4},\"lon\":{:.4},\"course\":{},\"second\":{},\"speed\":{}}}",
                MINUTE_1000.lat_or_na(t.lat),
                MINUTE_1000.lon_or_na(t.lon),
                t.course.map_or(360, u32::from),
                t.second.map_or(60, u32::from),
                t.speed.map_or(255, u32::from)
            );
        }
        out.push(']');
    }
}

/// DAC 1 FID 18 (type 6, IMO289): clearance time to enter port.
#[derive(Debug, Clone, PartialEq)]
pub struct ClearanceTime {
    /// Message linkage id.
    pub linkage: u32,
    /// Clearance time (UTC).
    pub arrival: PartialTime,
    /// Name of port and berth.
    pub portname: String,
    /// Destination (UN/LOCODE).
    pub destination: String,
    /// Longitude, degrees (1/1000 minute resolution); `None` (181°).
    pub lon: Option<f64>,
    /// Latitude, degrees; `None` (91°).
    pub lat: Option<f64>,
}

impl ClearanceTime {
    fn decode(at: &At<'_, '_>) -> Self {
        Self {
            linkage: at.u(0, 10),
            arrival: PartialTime::read(at, 10),
            portname: at.text(30, 20),
            destination: at.text(150, 5),
            lon: MINUTE_1000.lon(at.i(180, 25)),
            lat: MINUTE_1000.lat(at.i(205, 24)),
        }
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        let _ = write!(out, ",\"linkage\":{}", self.linkage);
        date(out, "arrival", self.arrival, true);
        text(out, "portname", &self.portname);
        text(out, "destination", &self.destination);
        let _ = write!(
            out,
            ",\"lon\":{:.4},\"lat\":{:.4}",
            MINUTE_1000.lon_or_na(self.lon),
            MINUTE_1000.lat_or_na(self.lat)
        );
    }
}

/// gpsd's marine traffic signal legends (index = signal code).
const SIGNALS: [&str; 15] = [
    "N/A",
    "Serious emergency – stop or divert according to instructions.",
    "Vessels shall not proceed.",
    "Vessels may proceed. One way traffic.",
    "Vessels may proceed. Two way traffic.",
    "Vessels shall proceed on specific orders only.",
    "Vessels in main channel shall not proceed.",
    "Vessels in main channel shall proceed on specific orders only.",
    "Vessels in main channel shall proceed on specific orders only.",
    "I = \"in-bound\" only acceptable.",
    "O = \"out-bound\" only acceptable.",
    "F = both \"in- and out-bound\" acceptable.",
    "XI = Code will shift to \"I\" in due time.",
    "XO = Code will shift to \"O\" in due time.",
    "X = Vessels shall proceed only on direction.",
];

/// DAC 1 FID 19 (type 8, IMO289): marine traffic signal.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSignal {
    /// Message linkage id.
    pub linkage: u32,
    /// Name of the signal station.
    pub station: String,
    /// Longitude, degrees (1/1000 minute resolution); `None` (181°).
    pub lon: Option<f64>,
    /// Latitude, degrees; `None` (91°).
    pub lat: Option<f64>,
    /// Status of signal (0 N/A, 1 in regular service, 2 irregular, 3 reserved).
    pub status: u32,
    /// Signal in service (0 N/A, 1–14 IALA codes).
    pub signal: u32,
    /// Hour of the next signal shift (UTC); `None` (24).
    pub hour: Option<u8>,
    /// Minute; `None` (60).
    pub minute: Option<u8>,
    /// Expected next signal.
    pub nextsignal: u32,
}

impl TrafficSignal {
    fn decode(at: &At<'_, '_>) -> Self {
        Self {
            linkage: at.u(0, 10),
            station: at.text(10, 20),
            lon: MINUTE_1000.lon(at.i(130, 25)),
            lat: MINUTE_1000.lat(at.i(155, 24)),
            status: at.u(179, 2),
            signal: at.u(181, 5),
            hour: PartialTime::from_codes(1, 1, at.u(186, 5), 0).hour,
            minute: PartialTime::from_codes(1, 1, 0, at.u(191, 6)).minute,
            nextsignal: at.u(197, 5),
        }
    }

    pub(super) fn write_gpsd(&self, out: &mut String, defects: Defects) {
        let invalid = "INVALID SIGNAL TYPE";
        let _ = write!(out, ",\"linkage\":{}", self.linkage);
        text(out, "station", &self.station);
        // gpsd 3.22's format string lacks the comma before "nextsignal_text", and prints the
        // legends (some of which hold quotes) unescaped: both reproduced.
        let (comma, signal_text, nextsignal_text) = {
            let signal = legend(&SIGNALS, self.signal, invalid);
            let next = legend(&SIGNALS, self.nextsignal, invalid);
            match defects {
                Defects::Reproduce => ("", signal.to_owned(), next.to_owned()),
                Defects::Mend => (",", escaped(signal), escaped(next)),
            }
        };
        let _ = write!(
            out,
            ",\"lon\":{:.4},\"lat\":{:.4},\"status\":{},\"signal\":{},\"signal_text\":\"{signal_text}\",\"hour\":{},\
             \"minute\":{},\"nextsignal\":{}{comma}\"nextsignal_text\":\"{nextsignal_text}\"",
            MINUTE_1000.lon_or_na(self.lon),
            MINUTE_1000.lat_or_na(self.lat),
            self.status,
            self.signal,
            self.hour.map_or(24, u32::from),
            self.minute.map_or(60, u32::from),
            self.nextsignal,
        );
    }
}

/// gpsd's mooring position legends.
const POSITIONS: [&str; 8] = [
    "Not available",
    "Port-side to",
    "Starboard-side to",
    "Mediterranean (end-on) mooring",
    "Mooring buoy",
    "Anchorage",
    "Reserved for future use",
    "Reserved for future use",
];

/// DAC 1 FID 20 (type 6, IMO289): berthing data.
#[derive(Debug, Clone, PartialEq)]
pub struct BerthingData {
    /// Message linkage id.
    pub linkage: u32,
    /// Berth length, metres; `None` (0).
    pub berth_length: Option<u16>,
    /// Water depth at berth, metres (0.1 m resolution); `None` (0).
    pub berth_depth: Option<f64>,
    /// Mooring position (0 N/A; see gpsd's legends).
    pub position: u32,
    /// Arrival time (UTC).
    pub arrival: PartialTime,
    /// Services availability flag.
    pub availability: u32,
    /// Service status codes (0 N/A, 1 available, 2 not available, 3 reserved), in gpsd's
    /// order: agent, fuel, chandler, stevedore, electrical, water, customs, cartage, crane,
    /// lift, medical, navrepair, provisions, shiprepair, surveyor, steam, tugs, solidwaste,
    /// liquidwaste, hazardouswaste, ballast, additional, regional1, regional2, future1, future2.
    pub services: [u32; 26],
    /// Name of the berth.
    pub berth_name: String,
    /// Berth longitude, degrees (1/1000 minute resolution); `None` (181°).
    pub berth_lon: Option<f64>,
    /// Berth latitude, degrees; `None` (91°).
    pub berth_lat: Option<f64>,
}

const SERVICES: [&str; 26] = [
    "agent",
    "fuel",
    "chandler",
    "stevedore",
    "electrical",
    "water",
    "customs",
    "cartage",
    "crane",
    "lift",
    "medical",
    "navrepair",
    "provisions",
    "shiprepair",
    "surveyor",
    "steam",
    "tugs",
    "solidwaste",
    "liquidwaste",
    "hazardouswaste",
    "ballast",
    "additional",
    "regional1",
    "regional2",
    "future1",
    "future2",
];

impl BerthingData {
    fn decode(at: &At<'_, '_>) -> Self {
        Self {
            linkage: at.u(0, 10),
            // 9 bits: lossless.
            berth_length: Some(at.u(10, 9) as u16).filter(|&v| v != 0),
            berth_depth: Some(at.u(19, 8)).filter(|&v| v != 0).map(|v| f64::from(v) * 0.1),
            position: at.u(27, 3),
            arrival: PartialTime::read(at, 30),
            availability: at.u(50, 1),
            services: std::array::from_fn(|i| at.u(51 + 2 * i, 2)),
            berth_name: at.text(103, 20),
            berth_lon: MINUTE_1000.lon(at.i(223, 25)),
            berth_lat: MINUTE_1000.lat(at.i(248, 24)),
        }
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        let (month, day, hour, minute) = self.arrival.codes();
        let _ = write!(
            out,
            ",\"linkage\":{},\"berth_length\":{},\"position\":{},\"position_text\":\"{}\",\
             \"arrival\":\"{month}-{day}T{hour}:{minute}\",\"availability\":{}",
            self.linkage,
            self.berth_length.unwrap_or(0),
            self.position,
            legend(&POSITIONS, self.position, ""),
            self.availability
        );
        for (name, value) in SERVICES.iter().zip(self.services) {
            let _ = write!(out, ",\"{name}\":{value}");
        }
        text(out, "berth_name", &self.berth_name);
        let _ = write!(
            out,
            ",\"berth_lon\":{:.4},\"berth_lat\":{:.4},\"berth_depth\":{:.1}",
            MINUTE_1000.lon_or_na(self.berth_lon),
            MINUTE_1000.lat_or_na(self.berth_lat),
            // gpsd: code * 0.1, the same product as the decoded value; 0 when not available.
            self.berth_depth.unwrap_or(0.0)
        );
    }
}

/// One cargo of a [`CargoList`].
#[derive(Debug, Clone, PartialEq)]
pub struct DangerousCargoItem {
    /// Code under which the cargo is classified (IMDG, BC, MARPOL…; 0 N/A).
    pub code: u32,
    /// Subtype within the code.
    pub subtype: u32,
}

/// DAC 1 FID 25 (type 6, IMO289): dangerous cargo indication.
#[derive(Debug, Clone, PartialEq)]
pub struct CargoList {
    /// Unit of quantity (0 N/A, 1 kg, 2 tonnes, 3 thousand tonnes).
    pub unit: u32,
    /// Amount of cargo, in `unit`.
    pub amount: u32,
    /// Cargos, as many as start before the end of the message.
    pub cargos: Vec<DangerousCargoItem>,
}

impl CargoList {
    fn decode(at: &At<'_, '_>) -> Self {
        let end = at.data_len();
        let cargos = (0..)
            .map(|u| 12 + 17 * u)
            .take_while(|&a| a < end)
            .map(|a| DangerousCargoItem { code: at.u(a, 4), subtype: at.u(a + 4, 13) })
            .collect();
        Self { unit: at.u(0, 2), amount: at.u(2, 10), cargos }
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        let _ = write!(out, ",\"unit\":{},\"amount\":{},\"cargos\":[", self.unit, self.amount);
        for (i, c) in self.cargos.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{{\"code\":{},\"subtype\":{}}}", c.code, c.subtype);
        }
        out.push(']');
    }
}

/// gpsd's route type legends (index = 5-bit route type).
const ROUTE_TYPES: [&str; 7] = [
    "Undefined (default)",
    "Mandatory",
    "Recommended",
    "Alternative",
    "Recommended route through ice",
    "Ship route plan",
    "Reserved for future use.",
];

/// A route waypoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Waypoint {
    /// Longitude, degrees (1/10000 minute resolution); `None` (181°).
    pub lon: Option<f64>,
    /// Latitude, degrees; `None` (91°).
    pub lat: Option<f64>,
}

/// DAC 1 FID 27 (type 8) and 28 (type 6), IMO289: route information.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteInfo {
    /// Message linkage id.
    pub linkage: u32,
    /// Sender classification (0 ship, 1 authority, 2–7 reserved).
    pub sender: u32,
    /// Route type (0 undefined, 1 mandatory, 2 recommended, 3 alternative, 4 through ice,
    /// 5 ship route plan, 31 cancellation).
    pub rtype: u32,
    /// Start (UTC).
    pub start: PartialTime,
    /// Duration, minutes; `None` (262143). 0 means the route is cancelled.
    pub duration: Option<u32>,
    /// Waypoints: as many as the 5-bit count says (read as zeros past the end, as gpsd does).
    pub waypoints: Vec<Waypoint>,
}

impl RouteInfo {
    fn decode(at: &At<'_, '_>, _fid: u8) -> Self {
        let count = at.u(56, 5) as usize;
        let waypoints = (0..count)
            .map(|i| 61 + 55 * i)
            .map(|a| Waypoint { lon: MINUTE_10000.lon(at.i(a, 28)), lat: MINUTE_10000.lat(at.i(a + 28, 27)) })
            .collect();
        Self {
            linkage: at.u(0, 10),
            sender: at.u(10, 3),
            rtype: at.u(13, 5),
            start: PartialTime::read(at, 18),
            duration: Some(at.u(38, 18)).filter(|&v| v != 262_143),
            waypoints,
        }
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        let rtype = match self.rtype {
            31 => "Cancel route identified by message linkage",
            code => legend(&ROUTE_TYPES, code, "Reserved for future use."),
        };
        let _ = write!(
            out,
            ",\"linkage\":{},\"sender\":{},\"rtype\":{},\"rtype_text\":\"{rtype}\"",
            self.linkage, self.sender, self.rtype
        );
        date(out, "start", self.start, true);
        let _ = write!(out, ",\"duration\":{},\"waypoints\":[", self.duration.unwrap_or(262_143));
        for (i, w) in self.waypoints.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let (lon, lat) = (MINUTE_10000.lon_or_na(w.lon), MINUTE_10000.lat_or_na(w.lat));
            let _ = write!(out, "{{\"lon\":{lon:.6},\"lat\":{lat:.6}}}");
        }
        out.push(']');
    }
}

/// DAC 1 FID 29 (type 8) and 30 (type 6), IMO289: text description.
#[derive(Debug, Clone, PartialEq)]
pub struct TextDescription {
    /// Message linkage id.
    pub linkage: u32,
    /// The text: every whole 6-bit character to the end of the message, up to the first `@`,
    /// trailing spaces trimmed.
    pub text: String,
}

impl TextDescription {
    pub(super) fn write_gpsd(&self, out: &mut String) {
        let _ = write!(out, ",\"linkage\":{}", self.linkage);
        text(out, "text", &self.text);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{armor, decode_payload, render};
    use super::super::{Application, TargetId};

    /// A type 8 message with DAC 1 and `fid`, then `data` fields.
    fn type8(fid: u64, data: &[(u64, usize)]) -> (String, u8) {
        let mut fields = vec![(8, 6), (0, 2), (1, 30), (0, 2), (1, 10), (fid, 6)];
        fields.extend_from_slice(data);
        armor(&fields)
    }

    #[test]
    fn type8_persons_on_board_decodes_the_count_but_renders_zero_as_gpsd() {
        // IMO289 layout: 136 data bits, the count 13 bits after the first 32.
        let (payload, fill) = type8(16, &[(0, 32), (1234, 13), (0, 91)]);
        let Application::PersonsOnBoard(p) = decode_payload(&payload, fill) else { panic!("persons") };
        assert_eq!(p.persons, Some(1234));
        assert_eq!(render(&payload, fill), r#","persons":0"#);
        // Any other length stays raw, as in gpsd.
        let (payload, fill) = type8(16, &[(0, 32), (1234, 13), (0, 90)]);
        assert!(matches!(decode_payload(&payload, fill), Application::Raw(_)));
    }

    #[test]
    fn traffic_signal_reproduces_gpsds_missing_comma() {
        let (payload, fill) =
            type8(19, &[(0, 130), (0, 49), (1, 2), (3, 5), (12, 5), (30, 6), (4, 5), (0, 102)]);
        let rendered = render(&payload, fill);
        assert!(
            rendered.ends_with(r#""signal":3,"signal_text":"Vessels may proceed. One way traffic.","hour":12,"minute":30,"nextsignal":4"nextsignal_text":"Vessels may proceed. Two way traffic.""#),
            "{rendered}"
        );
    }

    #[test]
    fn vts_targets_keep_the_low_32_bits_of_a_42_bit_mmsi_and_count_by_gpsds_rule() {
        // Two whole targets (244 bits): gpsd decodes a third, starting exactly at the end.
        let target =
            [(0, 2), (1u64 << 35 | 227_006_760, 42), (0, 4), (0, 24), (0, 25), (0, 9), (0, 6), (0, 10)];
        let data: Vec<(u64, usize)> = target.iter().chain(target.iter()).copied().collect();
        let (payload, fill) = type8(17, &data);
        let Application::VtsTargets(t) = decode_payload(&payload, fill) else { panic!("targets") };
        assert_eq!(t.targets.len(), 3);
        assert_eq!(t.targets[0].id, TargetId::Mmsi(227_006_760));
    }
}
