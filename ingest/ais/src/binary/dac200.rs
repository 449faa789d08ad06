//! DAC 200 (inland AIS, European river information services) applications, and the GLA
//! AtoN monitoring message of DAC 235/250 (UK and Ireland), as gpsd 3.22 decodes them.
//!
//! gpsd accepts each of these only at its exact specified length (and 200/10 only with a
//! hazard code ≤ 5, its guard against other uses of the id): anything else stays raw.
//! Inland strings are printed by gpsd without JSON escaping; reproduced.

use std::fmt::Write as _;

use super::{Application, At, Defects, MINUTE_10000, PartialTime, legend, push_escaped};

/// An inland string as gpsd prints it (unescaped), or escaped into valid JSON.
fn push_text(out: &mut String, value: &str, defects: Defects) {
    match defects {
        Defects::Reproduce => out.push_str(value),
        Defects::Mend => push_escaped(out, value),
    }
}

pub(super) fn decode_addressed(at: &At<'_, '_>, fid: u8) -> Option<Application> {
    let app = match (fid, at.len()) {
        (21, 248) => Application::InlandEta(InlandEta {
            place: Place::decode(at),
            eta: PartialTime::read(at, 120),
            // 3 and 12 bits: lossless.
            tugs: Some(at.u(140, 3) as u8).filter(|&v| v != 7),
            airdraught: Some(at.u(143, 12) as u16).filter(|&v| v != 0),
        }),
        (22, 232) => Application::InlandRta(InlandRta {
            place: Place::decode(at),
            rta: PartialTime::read(at, 120),
            status: at.u(140, 2),
        }),
        (55, 168) => Application::InlandPersonsOnBoard(InlandPersonsOnBoard {
            // 8, 13 and 8 bits: lossless.
            crew: Some(at.u(0, 8) as u16).filter(|&v| v != 255),
            passengers: Some(at.u(8, 13) as u16).filter(|&v| v != 8191),
            personnel: Some(at.u(21, 8) as u16).filter(|&v| v != 255),
        }),
        _ => return None,
    };
    Some(app)
}

pub(super) fn decode_broadcast(at: &At<'_, '_>, fid: u8) -> Option<Application> {
    let app = match (fid, at.len()) {
        (10, 168) => Application::InlandStaticData(InlandStaticData::decode(at)?),
        (23, 256) => Application::EmmaWarning(EmmaWarning {
            start_date: (at.u(0, 8), at.u(8, 4), at.u(12, 5)),
            end_date: (at.u(17, 8), at.u(25, 4), at.u(29, 5)),
            start_time: (at.u(34, 5), at.u(39, 6)),
            end_time: (at.u(45, 5), at.u(50, 6)),
            start_lon: MINUTE_10000.lon(at.i(56, 28)),
            start_lat: MINUTE_10000.lat(at.i(84, 27)),
            end_lon: MINUTE_10000.lon(at.i(111, 28)),
            end_lat: MINUTE_10000.lat(at.i(139, 27)),
            kind: at.u(166, 4),
            min: at.i(170, 9),
            max: at.i(179, 9),
            class: at.u(188, 2),
            wind: at.u(190, 4),
        }),
        (24, 168) => Application::WaterLevels(WaterLevels {
            country: at.text(0, 2),
            // gpsd: gauges while `68 + 25 i < bitlen`, i.e. four in 168 bits.
            gauges: (0..)
                .map(|i| 12 + 25 * i)
                .take_while(|&a| a < at.data_len())
                .map(|a| Gauge { id: at.u(a, 11), level: at.i(a + 11, 14) })
                .collect(),
        }),
        (40, 168) => Application::SignalStatus(SignalStatus {
            lon: MINUTE_10000.lon(at.i(0, 28)),
            lat: MINUTE_10000.lat(at.i(28, 27)),
            form: at.u(55, 4),
            facing: at.u(59, 9),
            direction: at.u(68, 3),
            status: at.u(71, 30),
        }),
        _ => return None,
    };
    Some(app)
}

pub(super) fn decode_aton(at: &At<'_, '_>) -> Option<Application> {
    (at.len() == 136).then(|| {
        Application::AtonMonitoring(AtonMonitoring {
            ana_int: at.u(0, 10),
            ana_ext1: at.u(10, 10),
            ana_ext2: at.u(20, 10),
            racon: at.u(30, 2),
            light: at.u(32, 2),
            alarm: at.u(34, 1) != 0,
            stat_ext: at.u(35, 8),
            off_pos: at.u(43, 1) != 0,
        })
    })
}

/// A place on an inland waterway (ERI location code), shared by 200/21 and 200/22.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// UN country code (2 characters).
    pub country: String,
    /// UN/LOCODE (3 characters).
    pub locode: String,
    /// Fairway section number (5 characters).
    pub section: String,
    /// Terminal code (5 characters).
    pub terminal: String,
    /// Fairway hectometre (5 characters).
    pub hectometre: String,
}

impl Place {
    fn decode(at: &At<'_, '_>) -> Self {
        Self {
            country: at.text(0, 2),
            locode: at.text(12, 3),
            section: at.text(30, 5),
            terminal: at.text(60, 5),
            hectometre: at.text(90, 5),
        }
    }

    fn write_gpsd(&self, out: &mut String, defects: Defects) {
        // gpsd prints these unescaped.
        let fields = [
            ("country", &self.country),
            ("locode", &self.locode),
            ("section", &self.section),
            ("terminal", &self.terminal),
            ("hectometre", &self.hectometre),
        ];
        for (key, value) in fields {
            let _ = write!(out, ",\"{key}\":\"");
            push_text(out, value, defects);
            out.push('"');
        }
    }
}

/// DAC 200 FID 21 (type 6): ETA at lock, bridge or terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct InlandEta {
    /// Where.
    pub place: Place,
    /// ETA (UTC).
    pub eta: PartialTime,
    /// Number of assisting tugs; `None` (7).
    pub tugs: Option<u8>,
    /// Air draught, cm; `None` (0).
    pub airdraught: Option<u16>,
}

impl InlandEta {
    pub(super) fn write_gpsd(&self, out: &mut String, defects: Defects) {
        self.place.write_gpsd(out, defects);
        let (month, day, hour, minute) = self.eta.codes();
        let _ = write!(
            out,
            ",\"eta\":\"{month}-{day}T{hour}:{minute}\",\"tugs\":{},\"airdraught\":{}",
            self.tugs.map_or(7, u32::from),
            self.airdraught.map_or(0, u32::from)
        );
    }
}

/// DAC 200 FID 22 (type 6): RTA (requested time of arrival) at lock, bridge or terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct InlandRta {
    /// Where.
    pub place: Place,
    /// RTA (UTC).
    pub rta: PartialTime,
    /// Lock/bridge/terminal status (0 operational, 1 limited, 2 out of order, 3 N/A).
    pub status: u32,
}

const RTA_STATUS: [&str; 4] = ["Operational", "Limited operation", "Out of order", "N/A"];

impl InlandRta {
    pub(super) fn write_gpsd(&self, out: &mut String, defects: Defects) {
        self.place.write_gpsd(out, defects);
        let (month, day, hour, minute) = self.rta.codes();
        // gpsd keys the RTA as "eta".
        let _ = write!(
            out,
            ",\"eta\":\"{month}-{day}T{hour}:{minute}\",\"status\":{},\"status_text\":\"{}\"",
            self.status,
            legend(&RTA_STATUS, self.status, "")
        );
    }
}

/// DAC 200 FID 55 (type 6): number of persons on board.
#[derive(Debug, Clone, PartialEq)]
pub struct InlandPersonsOnBoard {
    /// Crew members; `None` (255).
    pub crew: Option<u16>,
    /// Passengers; `None` (8191).
    pub passengers: Option<u16>,
    /// Shipboard personnel; `None` (255).
    pub personnel: Option<u16>,
}

impl InlandPersonsOnBoard {
    pub(super) fn write_gpsd(&self, out: &mut String) {
        let _ = write!(
            out,
            ",\"crew\":{},\"passengers\":{},\"personnel\":{}",
            self.crew.map_or(255, u32::from),
            self.passengers.map_or(8191, u32::from),
            self.personnel.map_or(255, u32::from)
        );
    }
}

/// DAC 200 FID 10 (type 8): inland ship static and voyage related data.
///
/// Fields are `None` when not available; `raw` keeps the codes gpsd prints.
#[derive(Debug, Clone, PartialEq)]
pub struct InlandStaticData {
    /// European Number of Identification (ENI, 8 characters); empty when not available.
    pub eni: String,
    /// Length of ship, metres (0.1 m resolution); `None` (0).
    pub length_m: Option<f64>,
    /// Beam of ship, metres (0.1 m resolution); `None` (0).
    pub beam_m: Option<f64>,
    /// ERI ship or combination type (e.g. 8010 motor freighter; gpsd also accepts the
    /// matching ITU type codes); `None` (0).
    pub ship_type: Option<u16>,
    /// Hazardous cargo: number of blue cones/lights (0–3), or 4 for the B flag; `None` (5,
    /// unknown).
    pub hazard: Option<u8>,
    /// Draught, metres (0.01 m resolution); `None` (0).
    pub draught_m: Option<f64>,
    /// Loaded (`true`) or unloaded (`false`); `None` (0 or the reserved 3).
    pub loaded: Option<bool>,
    /// Speed information quality: `true` high (from a certified sensor), `false` low.
    pub speed_q: bool,
    /// Course information quality.
    pub course_q: bool,
    /// Heading information quality.
    pub heading_q: bool,
    raw: InlandRaw,
}

#[derive(Debug, Clone, PartialEq)]
struct InlandRaw {
    length: u32,
    beam: u32,
    shiptype: u32,
    hazard: u32,
    draught: u32,
    loaded: u32,
}

/// gpsd's inland ship types: (ERI code, ITU code, legend); matched on either code, first
/// match wins, the `(0, 0)` entry catches everything else.
const SHIP_TYPES: [(u32, u32, &str); 42] = [
    (8000, 99, "Vessel, type unknown"),
    (8010, 79, "Motor freighter"),
    (8020, 89, "Motor tanker"),
    (8021, 80, "Motor tanker, liquid cargo, type N"),
    (8022, 80, "Motor tanker, liquid cargo, type C"),
    (8023, 89, "Motor tanker, dry cargo as if liquid (e.g. cement)"),
    (8030, 79, "Container vessel"),
    (8040, 80, "Gas tanker"),
    (8050, 79, "Motor freighter, tug"),
    (8060, 89, "Motor tanker, tug"),
    (8070, 79, "Motor freighter with one or more ships alongside"),
    (8080, 89, "Motor freighter with tanker"),
    (8090, 79, "Motor freighter pushing one or more freighters"),
    (8100, 89, "Motor freighter pushing at least one tank-ship"),
    (8110, 79, "Tug, freighter"),
    (8120, 89, "Tug, tanker"),
    (8130, 31, "Tug freighter, coupled"),
    (8140, 31, "Tug, freighter/tanker, coupled"),
    (8150, 99, "Freightbarge"),
    (8160, 99, "Tankbarge"),
    (8161, 90, "Tankbarge, liquid cargo, type N"),
    (8162, 90, "Tankbarge, liquid cargo, type C"),
    (8163, 99, "Tankbarge, dry cargo as if liquid (e.g. cement)"),
    (8170, 99, "Freightbarge with containers"),
    (8180, 90, "Tankbarge, gas"),
    (8210, 79, "Pushtow, one cargo barge"),
    (8220, 79, "Pushtow, two cargo barges"),
    (8230, 79, "Pushtow, three cargo barges"),
    (8240, 79, "Pushtow, four cargo barges"),
    (8250, 79, "Pushtow, five cargo barges"),
    (8260, 79, "Pushtow, six cargo barges"),
    (8270, 79, "Pushtow, seven cargo barges"),
    (8280, 79, "Pushtow, eigth cargo barges"),
    (8290, 79, "Pushtow, nine or more barges"),
    (8310, 80, "Pushtow, one tank/gas barge"),
    (8320, 80, "Pushtow, two barges at least one tanker or gas barge"),
    (8330, 80, "Pushtow, three barges at least one tanker or gas barge"),
    (8340, 80, "Pushtow, four barges at least one tanker or gas barge"),
    (8350, 80, "Pushtow, five barges at least one tanker or gas barge"),
    (8360, 80, "Pushtow, six barges at least one tanker or gas barge"),
    (8370, 80, "Pushtow, seven barges at least one tanker or gas barg"),
    (0, 0, "Illegal ship type value."),
];

const HAZARDS: [&str; 6] = [
    "0 blue cones/lights",
    "1 blue cone/light",
    "2 blue cones/lights",
    "3 blue cones/lights",
    "4 B-Flag",
    "Unknown",
];
const LOAD_STATUS: [&str; 3] = ["N/A (default)", "Unloaded", "Loaded"];

impl InlandStaticData {
    fn decode(at: &At<'_, '_>) -> Option<Self> {
        let raw = InlandRaw {
            length: at.u(48, 13),
            beam: at.u(61, 10),
            shiptype: at.u(71, 14),
            hazard: at.u(85, 3),
            draught: at.u(88, 11),
            loaded: at.u(99, 2),
        };
        // gpsd's guard against other uses of this application id.
        if raw.hazard > 5 {
            return None;
        }
        let positive = |v: u32, scale: f64| (v != 0).then(|| f64::from(v) / scale);
        Some(Self {
            eni: at.text(0, 8),
            length_m: positive(raw.length, 10.0),
            beam_m: positive(raw.beam, 10.0),
            ship_type: (raw.shiptype != 0).then_some(raw.shiptype as u16),
            hazard: (raw.hazard != 5).then_some(raw.hazard as u8),
            draught_m: positive(raw.draught, 100.0),
            loaded: match raw.loaded {
                1 => Some(false),
                2 => Some(true),
                _ => None,
            },
            speed_q: at.u(101, 1) != 0,
            course_q: at.u(102, 1) != 0,
            heading_q: at.u(103, 1) != 0,
            raw,
        })
    }

    pub(super) fn write_gpsd(&self, out: &mut String) {
        let r = &self.raw;
        let ship_type = SHIP_TYPES
            .iter()
            .find(|(code, itu, _)| *code == r.shiptype || *itu == r.shiptype || *code == 0)
            .map_or("", |(_, _, legend)| legend);
        out.push_str(",\"vin\":\"");
        push_escaped(out, &self.eni);
        let _ = write!(
            out,
            "\",\"length\":{},\"beam\":{},\"shiptype\":{},\"shiptype_text\":\"{ship_type}\",\"hazard\":{},\
             \"hazard_text\":\"{}\",\"draught\":{},\"loaded\":{},\"loaded_text\":\"{}\",\"speed_q\":{},\
             \"course_q\":{},\"heading_q\":{}",
            r.length,
            r.beam,
            r.shiptype,
            r.hazard,
            legend(&HAZARDS, r.hazard, "INVALID HAZARD TYPE"),
            r.draught,
            r.loaded,
            legend(&LOAD_STATUS, r.loaded, "INVALID LOAD STATUS"),
            self.speed_q,
            self.course_q,
            self.heading_q
        );
    }
}

/// DAC 200 FID 23 (type 8): EMMA weather warning.
#[derive(Debug, Clone, PartialEq)]
pub struct EmmaWarning {
    /// Start: year − 2000, month, day.
    pub start_date: (u32, u32, u32),
    /// End: year − 2000, month, day.
    pub end_date: (u32, u32, u32),
    /// Start: hour, minute (UTC).
    pub start_time: (u32, u32),
    /// End: hour, minute (UTC).
    pub end_time: (u32, u32),
    /// Start of the area, longitude, degrees (1/10000 minute resolution); `None` (181°).
    pub start_lon: Option<f64>,
    /// Start latitude, degrees; `None` (91°).
    pub start_lat: Option<f64>,
    /// End longitude, degrees; `None` (181°).
    pub end_lon: Option<f64>,
    /// End latitude, degrees; `None` (91°).
    pub end_lat: Option<f64>,
    /// Warning type (0 N/A, 1 wind, 2 rain, 3 snow and ice, 4 thunderstorm, 5 fog, 6 low
    /// temperature, 7 high temperature, 8 flood, 9 forest fire).
    pub kind: u32,
    /// Minimum value (unit depends on `kind`).
    pub min: i32,
    /// Maximum value.
    pub max: i32,
    /// Classification (0 slight, 1 medium, 2 strong).
    pub class: u32,
    /// Wind direction (0 N/A, 1 north … 8 north-west).
    pub wind: u32,
}

const EMMA_TYPES: [&str; 10] = [
    "Not Available",
    "Wind",
    "Rain",
    "Snow and ice",
    "Thunderstorm",
    "Fog",
    "Low temperature",
    "High temperature",
    "Flood",
    "Forest Fire",
];
const EMMA_CLASSES: [&str; 3] = ["Slight", "Medium", "Strong"];
const EMMA_WINDS: [&str; 9] =
    ["N/A", "North", "North East", "East", "South East", "South", "South West", "West", "North West"];

impl EmmaWarning {
    pub(super) fn write_gpsd(&self, out: &mut String) {
        let (sy, smo, sd) = self.start_date;
        let (ey, emo, ed) = self.end_date;
        let (sh, smi) = self.start_time;
        let (eh, emi) = self.end_time;
        // gpsd 3.22 passes the start's hour, minute and day where its format expects day,
        // hour and minute: reproduced.
        let _ = write!(
            out,
            ",\"start\":\"{:4}-{smo:02}-{sh:02}T{smi:02}:{sd:02}\",\"end\":\"{:4}-{emo:02}-{ed:02}T{eh:02}:{emi:02}\"",
            sy + 2000,
            ey + 2000
        );
        let r = MINUTE_10000;
        let _ = write!(
            out,
            ",\"start_lon\":{:.6},\"start_lat\":{:.6},\"end_lon\":{:.6},\"end_lat\":{:.6}",
            r.lon_or_na(self.start_lon),
            r.lat_or_na(self.start_lat),
            r.lon_or_na(self.end_lon),
            r.lat_or_na(self.end_lat)
        );
        let _ = write!(
            out,
            ",\"type\":{},\"type_text\":\"{}\",\"min\":{},\"max\":{},\"class\":{},\"class_text\":\"{}\",\"wind\":{},\
             \"wind_text\":\"{}\"",
            self.kind,
            legend(&EMMA_TYPES, self.kind, "INVALID EMMA TYPE"),
            self.min,
            self.max,
            self.class,
            legend(&EMMA_CLASSES, self.class, "INVALID EMMA TYPE"),
            self.wind,
            legend(&EMMA_WINDS, self.wind, "INVALID EMMA WIND DIRECTION")
        );
    }
}

/// One gauge of a [`WaterLevels`] report.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    /// Gauge id (0 N/A).
    pub id: u32,
    /// Water level, cm (0 N/A).
    pub level: i32,
}

/// DAC 200 FID 24 (type 8): water levels.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterLevels {
    /// UN country code.
    pub country: String,
    /// The gauges (four in the 168-bit message).
    pub gauges: Vec<Gauge>,
}

impl WaterLevels {
    pub(super) fn write_gpsd(&self, out: &mut String, defects: Defects) {
        // Unescaped, as gpsd prints it.
        out.push_str(",\"country\":\"");
        push_text(out, &self.country, defects);
        out.push_str("\",\"gauges\":[");
        for (i, g) in self.gauges.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{{\"id\":{},\"level\":{}}}", g.id, g.level);
        }
        out.push(']');
    }
}

/// DAC 200 FID 40 (type 8): signal status.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalStatus {
    /// Signal longitude, degrees (1/10000 minute resolution); `None` (181°).
    pub lon: Option<f64>,
    /// Signal latitude, degrees; `None` (91°).
    pub lat: Option<f64>,
    /// Signal form (0 N/A).
    pub form: u32,
    /// Orientation, degrees (0 N/A).
    pub facing: u32,
    /// Direction of impact (0 unknown, 1 upstream, 2 downstream, 3 to left bank, 4 to right
    /// bank).
    pub direction: u32,
    /// Light status, 30 bits (gpsd legends its low values only).
    pub status: u32,
}

const DIRECTIONS: [&str; 5] = ["Unknown", "Upstream", "Downstream", "To left bank", "To right bank"];
const LIGHT_STATUS: [&str; 8] =
    ["Unknown", "No light", "White", "Yellow", "Green", "Red", "White flashing", "Yellow flashing."];

impl SignalStatus {
    pub(super) fn write_gpsd(&self, out: &mut String) {
        let _ = write!(
            out,
            ",\"lon\":{:.6},\"lat\":{:.6},\"form\":{},\"facing\":{},\"direction\":{},\"direction_text\":\"{}\",\
             \"status\":{},\"status_text\":\"{}\"",
            MINUTE_10000.lon_or_na(self.lon),
            MINUTE_10000.lat_or_na(self.lat),
            self.form,
            self.facing,
            self.direction,
            legend(&DIRECTIONS, self.direction, "INVALID DIRECTION"),
            self.status,
            legend(&LIGHT_STATUS, self.status, "INVALID STATUS")
        );
    }
}

/// DAC 235/250 FID 10 (type 6): GLA AtoN monitoring data.
#[derive(Debug, Clone, PartialEq)]
pub struct AtonMonitoring {
    /// Analogue internal supply, 0.05 V (0 N/A).
    pub ana_int: u32,
    /// Analogue external channel 1, 0.05 V.
    pub ana_ext1: u32,
    /// Analogue external channel 2, 0.05 V.
    pub ana_ext2: u32,
    /// RACON status (0 none, 1 not monitored, 2 operational, 3 error).
    pub racon: u32,
    /// Light status (0 none/not monitored, 1 on, 2 off, 3 error).
    pub light: u32,
    /// Health alarm.
    pub alarm: bool,
    /// External digital status bits.
    pub stat_ext: u32,
    /// Off position.
    pub off_pos: bool,
}

const RACON: [&str; 4] = ["No RACON installed", "RACON not monitored", "RACON operational", "RACON ERROR"];
const LIGHT: [&str; 4] = ["No light or no monitoring", "Light ON", "Light OFF", "Light ERROR"];

impl AtonMonitoring {
    pub(super) fn write_gpsd(&self, out: &mut String) {
        let _ = write!(
            out,
            ",\"off_pos\":{},\"alarm\":{},\"stat_ext\":{}",
            self.off_pos, self.alarm, self.stat_ext
        );
        // gpsd prints a zero (not available) as the integer 0, others scaled.
        for (name, v) in [("ana_int", self.ana_int), ("ana_ext1", self.ana_ext1), ("ana_ext2", self.ana_ext2)]
        {
            if v == 0 {
                let _ = write!(out, ",\"{name}\":0");
            } else {
                let _ = write!(out, ",\"{name}\":{:.2}", f64::from(v) * 0.05);
            }
        }
        let _ = write!(
            out,
            ",\"racon\":{},\"racon_text\":\"{}\",\"light\":{},\"light_text\":\"{}\"",
            self.racon,
            legend(&RACON, self.racon, ""),
            self.light,
            legend(&LIGHT, self.light, "")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::render;
    use super::super::{Application, decode};
    use crate::bits::Bits;

    #[test]
    fn inland_static_matches_gpsdecode_on_gpsd_sample() {
        let payload = "83aDChPj2d<dL<uM=hhhI?a@6HP0";
        assert_eq!(
            render(payload, 0),
            r#","vin":"02103547","length":390,"beam":50,"shiptype":8010,"shiptype_text":"Motor freighter","hazard":0,"hazard_text":"0 blue cones/lights","draught":204,"loaded":1,"loaded_text":"Unloaded","speed_q":false,"course_q":false,"heading_q":false"#
        );
        let bits = Bits::new(payload.as_bytes(), 0);
        let Application::InlandStaticData(d) = decode(&bits, 56, 200, 10, false) else {
            panic!("inland static")
        };
        assert_eq!(d.eni, "02103547");
        assert_eq!(
            (d.length_m, d.beam_m, d.ship_type, d.hazard),
            (Some(39.0), Some(5.0), Some(8010), Some(0))
        );
        assert_eq!((d.draught_m, d.loaded), (Some(2.04), Some(false)));
    }
}
