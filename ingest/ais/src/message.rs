//! Typed AIS messages and their decoding from a payload's bits.
//!
//! Field semantics follow gpsd (`driver_ais.c`, and `AIVDM.adoc` in gpsd's documentation):
//! the same bit layout, the same length tolerances, the same text decoding; values are
//! scaled to natural units (degrees, knots, metres) and the "not available" value of a
//! field becomes `None`. Values that are out of range but not "not available" (a course of
//! 400°, a latitude of 95°) are kept, as gpsd keeps them: validation is the caller's job.
//!
//! One file on purpose: the message types (first half) and their decoders (second half)
//! are checked side by side against gpsd's bit tables, and the decoders share the
//! "not available" sentinels and field helpers in between.

use crate::Error;
use crate::assemble::Payload;
use crate::bits::{self, Bits};

/// A decoded AIS message of one of the supported types.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// Types 1, 2 and 3: Class A position report.
    Position(PositionReport),
    /// Types 4 and 11: base station report, UTC/date response.
    BaseStation(BaseStationReport),
    /// Type 5: Class A static and voyage related data.
    StaticVoyage(StaticVoyageData),
    /// Type 8, DAC 1, FID 31: meteorological and hydrographic data (IMO289).
    MetHydro(MetHydroReport),
    /// Type 9: standard SAR aircraft position report.
    SarAircraft(SarAircraftReport),
    /// Type 18: standard Class B position report.
    ClassBPosition(ClassBPositionReport),
    /// Type 19: extended Class B position report.
    ClassBExtended(ClassBExtendedReport),
    /// Type 21: aid-to-navigation report.
    AidToNavigation(AidToNavigationReport),
    /// Type 24: Class B static data report (part A, part B, or both merged).
    StaticData(StaticDataReport),
    /// Type 27: long-range AIS broadcast.
    LongRange(LongRangeReport),
}

/// Types 1, 2, 3: Class A position report.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionReport {
    /// 1 (scheduled), 2 (assigned) or 3 (response to interrogation).
    pub message_type: u8,
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Navigation status (0–15; 15 = not defined); see [`nav_status_text`](crate::gpsd::nav_status_text).
    pub status: u8,
    /// Rate of turn; `None` when not available (raw −128).
    pub turn: Option<Turn>,
    /// Speed over ground in knots; `None` when not available (raw 1023). 102.2 means 102.2 knots or more.
    pub speed: Option<f64>,
    /// Position accuracy flag: `true` = high (< 10 m, DGPS).
    pub accuracy: bool,
    /// Longitude in degrees; `None` when not available (181°).
    pub lon: Option<f64>,
    /// Latitude in degrees; `None` when not available (91°).
    pub lat: Option<f64>,
    /// Course over ground in degrees; `None` when not available (360°).
    pub course: Option<f64>,
    /// True heading in degrees; `None` when not available (511).
    pub heading: Option<u16>,
    /// UTC second of the report (0–59; 60 = not available, 61–63 = positioning system states).
    pub second: u8,
    /// Manoeuvre indicator (0 = not available, 1 = none, 2 = special).
    pub maneuver: u8,
    /// RAIM flag.
    pub raim: bool,
    /// Radio status (19 bits: SOTDMA/ITDMA state), as gpsd reports it.
    pub radio: u32,
}

/// Rate of turn of a Class A vessel (gpsd's `turn`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Turn {
    /// Turning left faster than 5° per 30 s, no turn indicator (raw −127).
    FastLeft,
    /// Turning right faster than 5° per 30 s, no turn indicator (raw +127).
    FastRight,
    /// Degrees per minute, negative to port: `(raw / 4.733)²` with the sign of `raw`.
    Rate(f64),
}

/// Types 4 and 11: base station report, UTC/date response.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseStationReport {
    /// 4 (base station report) or 11 (UTC/date response).
    pub message_type: u8,
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// UTC year; `None` when not available (0).
    pub year: Option<u16>,
    /// UTC month; `None` when not available (0).
    pub month: Option<u8>,
    /// UTC day; `None` when not available (0).
    pub day: Option<u8>,
    /// UTC hour; `None` when not available (24).
    pub hour: Option<u8>,
    /// UTC minute; `None` when not available (60).
    pub minute: Option<u8>,
    /// UTC second; `None` when not available (60).
    pub second: Option<u8>,
    /// Position accuracy flag.
    pub accuracy: bool,
    /// Longitude in degrees; `None` when not available.
    pub lon: Option<f64>,
    /// Latitude in degrees; `None` when not available.
    pub lat: Option<f64>,
    /// Type of position fixing device (0–15); see [`epfd_text`](crate::gpsd::epfd_text).
    pub epfd: u8,
    /// RAIM flag.
    pub raim: bool,
    /// Radio status (19 bits).
    pub radio: u32,
}

/// Ship dimensions from the position reference point, in metres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dimensions {
    /// To bow (0 = not available, 511 = 511 m or more).
    pub to_bow: u16,
    /// To stern (0 = not available, 511 = 511 m or more).
    pub to_stern: u16,
    /// To port (0 = not available, 63 = 63 m or more).
    pub to_port: u8,
    /// To starboard (0 = not available, 63 = 63 m or more).
    pub to_starboard: u8,
}

/// Estimated time of arrival, without a year (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Eta {
    /// Month; `None` when not available (0).
    pub month: Option<u8>,
    /// Day; `None` when not available (0).
    pub day: Option<u8>,
    /// Hour; `None` when not available (24).
    pub hour: Option<u8>,
    /// Minute; `None` when not available (60).
    pub minute: Option<u8>,
}

/// Type 5: Class A static and voyage related data.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticVoyageData {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// AIS version indicator (0–3).
    pub ais_version: u8,
    /// IMO number; `None` when not available (0).
    pub imo: Option<u32>,
    /// Call sign (trailing spaces and `@` trimmed).
    pub callsign: String,
    /// Vessel name (trailing spaces and `@` trimmed).
    pub shipname: String,
    /// Ship and cargo type (0 = not available); see [`ship_type_text`](crate::gpsd::ship_type_text).
    pub shiptype: u8,
    /// Dimensions.
    pub dimensions: Dimensions,
    /// Type of position fixing device (0–15).
    pub epfd: u8,
    /// Estimated time of arrival.
    pub eta: Eta,
    /// Maximum present static draught in metres; `None` when not available (0).
    pub draught: Option<f64>,
    /// Destination (trailing spaces and `@` trimmed).
    pub destination: String,
    /// Raw DTE flag: `false` = data terminal ready (gpsd's `dte`). Messages of 420–422
    /// bits, which gpsd tolerates, have no DTE bit: `false`.
    pub dte: bool,
}

/// Type 9: standard SAR aircraft position report.
#[derive(Debug, Clone, PartialEq)]
pub struct SarAircraftReport {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Altitude in metres; `None` when not available (4095). 4094 means 4094 m or more.
    pub alt: Option<u16>,
    /// Speed over ground in whole knots; `None` when not available (1023). 1022 means 1022 or more.
    pub speed: Option<u16>,
    /// Position accuracy flag.
    pub accuracy: bool,
    /// Longitude in degrees; `None` when not available.
    pub lon: Option<f64>,
    /// Latitude in degrees; `None` when not available.
    pub lat: Option<f64>,
    /// Course over ground in degrees; `None` when not available.
    pub course: Option<f64>,
    /// UTC second (as in [`PositionReport::second`]).
    pub second: u8,
    /// Regional reserved (8 bits).
    pub regional: u8,
    /// Raw DTE flag (`false` = ready).
    pub dte: bool,
    /// Assigned-mode flag.
    pub assigned: bool,
    /// RAIM flag.
    pub raim: bool,
    /// Radio status (20 bits).
    pub radio: u32,
}

/// Type 18: standard Class B position report.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassBPositionReport {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Regional reserved (8 bits).
    pub reserved: u8,
    /// Speed over ground in knots; `None` when not available.
    pub speed: Option<f64>,
    /// Position accuracy flag.
    pub accuracy: bool,
    /// Longitude in degrees; `None` when not available.
    pub lon: Option<f64>,
    /// Latitude in degrees; `None` when not available.
    pub lat: Option<f64>,
    /// Course over ground in degrees; `None` when not available.
    pub course: Option<f64>,
    /// True heading in degrees; `None` when not available.
    pub heading: Option<u16>,
    /// UTC second.
    pub second: u8,
    /// Regional reserved (2 bits).
    pub regional: u8,
    /// Class B unit flag: `true` = carrier-sense (CS) unit.
    pub cs: bool,
    /// Has a display for messages 12 and 14.
    pub display: bool,
    /// Has a DSC function.
    pub dsc: bool,
    /// Can use the whole marine band.
    pub band: bool,
    /// Accepts channel management (message 22).
    pub msg22: bool,
    /// Assigned-mode flag.
    pub assigned: bool,
    /// RAIM flag.
    pub raim: bool,
    /// Radio status (20 bits).
    pub radio: u32,
}

/// Type 19: extended Class B position report.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassBExtendedReport {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Regional reserved (8 bits).
    pub reserved: u8,
    /// Speed over ground in knots; `None` when not available.
    pub speed: Option<f64>,
    /// Position accuracy flag.
    pub accuracy: bool,
    /// Longitude in degrees; `None` when not available.
    pub lon: Option<f64>,
    /// Latitude in degrees; `None` when not available.
    pub lat: Option<f64>,
    /// Course over ground in degrees; `None` when not available.
    pub course: Option<f64>,
    /// True heading in degrees; `None` when not available.
    pub heading: Option<u16>,
    /// UTC second.
    pub second: u8,
    /// Regional reserved (4 bits).
    pub regional: u8,
    /// Vessel name.
    pub shipname: String,
    /// Ship and cargo type.
    pub shiptype: u8,
    /// Dimensions.
    pub dimensions: Dimensions,
    /// Type of position fixing device.
    pub epfd: u8,
    /// RAIM flag.
    pub raim: bool,
    /// Raw DTE flag (`false` = ready).
    pub dte: bool,
    /// Assigned-mode flag.
    pub assigned: bool,
}

/// Type 21: aid-to-navigation report.
#[derive(Debug, Clone, PartialEq)]
pub struct AidToNavigationReport {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Type of aid (0–31); see [`navaid_type_text`](crate::gpsd::navaid_type_text).
    pub aid_type: u8,
    /// Name, with the name extension appended (up to 34 characters).
    pub name: String,
    /// Position accuracy flag.
    pub accuracy: bool,
    /// Longitude in degrees; `None` when not available.
    pub lon: Option<f64>,
    /// Latitude in degrees; `None` when not available.
    pub lat: Option<f64>,
    /// Dimensions.
    pub dimensions: Dimensions,
    /// Type of position fixing device.
    pub epfd: u8,
    /// UTC second.
    pub second: u8,
    /// Off-position indicator.
    pub off_position: bool,
    /// Regional reserved (8 bits).
    pub regional: u8,
    /// RAIM flag.
    pub raim: bool,
    /// Virtual aid (no physical aid at the position).
    pub virtual_aid: bool,
    /// Assigned-mode flag.
    pub assigned: bool,
}

/// Type 24: Class B static data report.
///
/// A 24 comes in two parts, A (name) and B (type, vendor, call sign, dimensions), sent
/// separately. [`Message::decode`] returns each part alone; the [`Decoder`](crate::Decoder)
/// merges a part B with the preceding part A of the same MMSI, as gpsd does, so that a
/// merged report has both `shipname` and `part_b`.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticDataReport {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Part A: the vessel name.
    pub shipname: Option<String>,
    /// Part B.
    pub part_b: Option<StaticDataPartB>,
}

/// The fields of a type 24 part B.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticDataPartB {
    /// Ship and cargo type.
    pub shiptype: u8,
    /// Vendor id, read as 7 characters (ITU-R M.1371-3); the last 4 overlap `model` and `serial`.
    pub vendorid: String,
    /// Unit model code (M.1371-4).
    pub model: u8,
    /// Unit serial number (M.1371-4).
    pub serial: u32,
    /// Call sign.
    pub callsign: String,
    /// Dimensions, or the mother ship's MMSI for an auxiliary craft (MMSI 98xxxxxxx).
    pub hull: Hull,
}

/// What the last 30 bits of a type 24 part B carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hull {
    /// Dimensions of the vessel.
    Dimensions(Dimensions),
    /// MMSI of the mother ship (auxiliary craft, MMSI 98xxxxxxx).
    MothershipMmsi(u32),
}

/// Type 27: long-range AIS broadcast.
#[derive(Debug, Clone, PartialEq)]
pub struct LongRangeReport {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Position accuracy flag.
    pub accuracy: bool,
    /// RAIM flag.
    pub raim: bool,
    /// Navigation status (0–15).
    pub status: u8,
    /// Longitude in degrees (1/10 minute resolution); `None` when not available.
    pub lon: Option<f64>,
    /// Latitude in degrees (1/10 minute resolution); `None` when not available.
    pub lat: Option<f64>,
    /// Speed over ground in whole knots; `None` when not available (63).
    pub speed: Option<u8>,
    /// Course over ground in whole degrees; `None` when not available (511).
    pub course: Option<u16>,
    /// Raw GNSS position status: `false` = current GNSS position, `true` = not.
    pub gnss: bool,
}

/// Type 8, DAC 1, FID 31: meteorological and hydrographic data (IMO289).
///
/// Every measurement is `None` when the station reports it as not available.
#[derive(Debug, Clone, PartialEq)]
pub struct MetHydroReport {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Longitude in degrees (1/1000 minute resolution).
    pub lon: Option<f64>,
    /// Latitude in degrees (1/1000 minute resolution).
    pub lat: Option<f64>,
    /// Position accuracy flag.
    pub accuracy: bool,
    /// Day of the observation (UTC); `None` when not available (0).
    pub day: Option<u8>,
    /// Hour (UTC); `None` when not available (24).
    pub hour: Option<u8>,
    /// Minute (UTC); `None` when not available (60).
    pub minute: Option<u8>,
    /// Average wind speed, knots (126 = 126 or more); `None` (127).
    pub wspeed: Option<u8>,
    /// Gust speed, knots; `None` (127).
    pub wgust: Option<u8>,
    /// Wind direction, degrees; `None` (360).
    pub wdir: Option<u16>,
    /// Gust direction, degrees; `None` (360).
    pub wgustdir: Option<u16>,
    /// Air temperature, °C; `None` (−102.4).
    pub airtemp: Option<f64>,
    /// Relative humidity, %; `None` (101).
    pub humidity: Option<u8>,
    /// Dew point, °C; `None` (50.1).
    pub dewpoint: Option<f64>,
    /// Air pressure, hPa (raw + 799); `None` (raw 511).
    pub pressure: Option<u16>,
    /// Pressure tendency (0 steady, 1 decreasing, 2 increasing); `None` (3).
    pub pressuretend: Option<u8>,
    /// Visibility is greater than the reported value.
    pub visgreater: bool,
    /// Horizontal visibility, nautical miles; `None` (12.7).
    pub visibility: Option<f64>,
    /// Water level (deviation from datum), metres; `None` (raw 4001).
    pub waterlevel: Option<f64>,
    /// Water level trend (0 steady, 1 decreasing, 2 increasing); `None` (3).
    pub leveltrend: Option<u8>,
    /// Surface current speed, knots; `None` (25.5).
    pub cspeed: Option<f64>,
    /// Surface current direction, degrees; `None` (360).
    pub cdir: Option<u16>,
    /// Current speed at depth 2, knots; `None` (25.5).
    pub cspeed2: Option<f64>,
    /// Current direction at depth 2, degrees; `None` (360).
    pub cdir2: Option<u16>,
    /// Measurement depth 2, metres; `None` (31).
    pub cdepth2: Option<u8>,
    /// Current speed at depth 3, knots; `None` (25.5).
    pub cspeed3: Option<f64>,
    /// Current direction at depth 3, degrees; `None` (360).
    pub cdir3: Option<u16>,
    /// Measurement depth 3, metres; `None` (31).
    pub cdepth3: Option<u8>,
    /// Significant wave height, metres; `None` (25.5).
    pub waveheight: Option<f64>,
    /// Wave period, seconds; `None` (63).
    pub waveperiod: Option<u8>,
    /// Wave direction, degrees; `None` (360).
    pub wavedir: Option<u16>,
    /// Swell height, metres; `None` (25.5).
    pub swellheight: Option<f64>,
    /// Swell period, seconds; `None` (63).
    pub swellperiod: Option<u8>,
    /// Swell direction, degrees; `None` (360).
    pub swelldir: Option<u16>,
    /// Sea state, Beaufort (0–12); `None` (13).
    pub seastate: Option<u8>,
    /// Water temperature, °C; `None` (50.1).
    pub watertemp: Option<f64>,
    /// Precipitation type (WMO 306 table 4.201); `None` (7).
    pub preciptype: Option<u8>,
    /// Salinity, ‰; `None` (51.0).
    pub salinity: Option<f64>,
    /// Ice (0 no, 1 yes); `None` (3).
    pub ice: Option<u8>,
}

// "Not available" raw values.
pub(crate) const LON_NA: i32 = 181 * 600_000;
pub(crate) const LAT_NA: i32 = 91 * 600_000;
pub(crate) const LON27_NA: i32 = 181 * 600;
pub(crate) const LAT27_NA: i32 = 91 * 600;
pub(crate) const LON31_NA: i32 = 181 * 60_000;
pub(crate) const LAT31_NA: i32 = 91 * 60_000;

fn na<T: PartialEq>(raw: T, not_available: T) -> Option<T> {
    (raw != not_available).then_some(raw)
}

fn lon_lat(
    bits: &Bits<'_>,
    lon_at: usize,
    lon_width: usize,
    lat_width: usize,
    div: f64,
    na_lon: i32,
    na_lat: i32,
) -> (Option<f64>, Option<f64>) {
    let lon = bits.i(lon_at, lon_width);
    let lat = bits.i(lon_at + lon_width, lat_width);
    (na(lon, na_lon).map(|v| f64::from(v) / div), na(lat, na_lat).map(|v| f64::from(v) / div))
}

fn tenths(raw: u32, not_available: u32) -> Option<f64> {
    na(raw, not_available).map(|v| f64::from(v) / 10.0)
}

fn dimensions(bits: &Bits<'_>, at: usize) -> Dimensions {
    Dimensions {
        to_bow: bits.u(at, 9) as u16,
        to_stern: bits.u(at + 9, 9) as u16,
        to_port: bits.u(at + 18, 6) as u8,
        to_starboard: bits.u(at + 24, 6) as u8,
    }
}

fn check_min(message_type: u8, bits: &Bits<'_>, min: usize) -> Result<(), Error> {
    if bits.len() < min { Err(Error::TooShort { message_type, bits: bits.len(), min }) } else { Ok(()) }
}

fn check_range(message_type: u8, bits: &Bits<'_>, min: usize, max: usize) -> Result<(), Error> {
    check_min(message_type, bits, min)?;
    if bits.len() > max { Err(Error::TooLong { message_type, bits: bits.len(), max }) } else { Ok(()) }
}

/// MMSIs 98xxxxxxx are auxiliary craft of a mother ship.
pub(crate) fn is_auxiliary(mmsi: u32) -> bool {
    mmsi / 10_000_000 == 98
}

impl Message {
    /// Decodes a complete payload.
    ///
    /// ```
    /// use porttrack_ais::{Message, Payload, Sentence};
    ///
    /// let sentence = Sentence::parse("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A")?;
    /// let Message::Position(p) = Message::decode(&Payload::single(sentence).unwrap())? else { panic!() };
    /// assert_eq!(p.mmsi, 371_798_000);
    /// assert_eq!(p.speed, Some(12.3));
    /// assert_eq!(p.heading, Some(215));
    /// # Ok::<(), porttrack_ais::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::BadArmor`], [`Error::TooShort`], [`Error::TooLong`],
    /// [`Error::UnsupportedType`], [`Error::UnsupportedBinary`] or [`Error::UnknownPart`].
    pub fn decode(payload: &Payload<'_>) -> Result<Self, Error> {
        Self::decode_armored(payload.armored.as_bytes(), payload.fill_bits)
    }

    /// Decodes armored payload characters with `fill_bits` (0–5) fill bits.
    ///
    /// # Errors
    ///
    /// As [`Message::decode`].
    pub fn decode_armored(armored: &[u8], fill_bits: u8) -> Result<Self, Error> {
        bits::validate(armored)?;
        let bits = Bits::new(armored, fill_bits.min(5));
        if bits.len() < 38 {
            let message_type = bits.u(0, 6) as u8;
            return Err(Error::TooShort { message_type, bits: bits.len(), min: 38 });
        }
        let message_type = bits.u(0, 6) as u8;
        let repeat = bits.u(6, 2) as u8;
        let mmsi = bits.u(8, 30);
        Ok(match message_type {
            1..=3 => Self::Position(PositionReport::decode(&bits, message_type, repeat, mmsi)?),
            4 | 11 => Self::BaseStation(BaseStationReport::decode(&bits, message_type, repeat, mmsi)?),
            5 => Self::StaticVoyage(StaticVoyageData::decode(&bits, repeat, mmsi)?),
            8 => Self::MetHydro(MetHydroReport::decode(&bits, repeat, mmsi)?),
            9 => Self::SarAircraft(SarAircraftReport::decode(&bits, repeat, mmsi)?),
            18 => Self::ClassBPosition(ClassBPositionReport::decode(&bits, repeat, mmsi)?),
            19 => Self::ClassBExtended(ClassBExtendedReport::decode(&bits, repeat, mmsi)?),
            21 => Self::AidToNavigation(AidToNavigationReport::decode(&bits, repeat, mmsi)?),
            24 => Self::StaticData(StaticDataReport::decode(&bits, repeat, mmsi)?),
            27 => Self::LongRange(LongRangeReport::decode(&bits, repeat, mmsi)?),
            _ => return Err(Error::UnsupportedType { message_type }),
        })
    }

    /// The AIS message type (1–27).
    #[must_use]
    pub fn message_type(&self) -> u8 {
        match self {
            Self::Position(m) => m.message_type,
            Self::BaseStation(m) => m.message_type,
            Self::StaticVoyage(_) => 5,
            Self::MetHydro(_) => 8,
            Self::SarAircraft(_) => 9,
            Self::ClassBPosition(_) => 18,
            Self::ClassBExtended(_) => 19,
            Self::AidToNavigation(_) => 21,
            Self::StaticData(_) => 24,
            Self::LongRange(_) => 27,
        }
    }

    /// The source MMSI.
    #[must_use]
    pub fn mmsi(&self) -> u32 {
        match self {
            Self::Position(m) => m.mmsi,
            Self::BaseStation(m) => m.mmsi,
            Self::StaticVoyage(m) => m.mmsi,
            Self::MetHydro(m) => m.mmsi,
            Self::SarAircraft(m) => m.mmsi,
            Self::ClassBPosition(m) => m.mmsi,
            Self::ClassBExtended(m) => m.mmsi,
            Self::AidToNavigation(m) => m.mmsi,
            Self::StaticData(m) => m.mmsi,
            Self::LongRange(m) => m.mmsi,
        }
    }

    /// The repeat indicator (0–3).
    #[must_use]
    pub fn repeat(&self) -> u8 {
        match self {
            Self::Position(m) => m.repeat,
            Self::BaseStation(m) => m.repeat,
            Self::StaticVoyage(m) => m.repeat,
            Self::MetHydro(m) => m.repeat,
            Self::SarAircraft(m) => m.repeat,
            Self::ClassBPosition(m) => m.repeat,
            Self::ClassBExtended(m) => m.repeat,
            Self::AidToNavigation(m) => m.repeat,
            Self::StaticData(m) => m.repeat,
            Self::LongRange(m) => m.repeat,
        }
    }
}

impl Turn {
    /// From the raw signed 8-bit field; `None` for −128 (not available).
    #[must_use]
    pub fn from_raw(raw: i8) -> Option<Self> {
        match raw {
            -128 => None,
            -127 => Some(Self::FastLeft),
            127 => Some(Self::FastRight),
            r => {
                // gpsd: square of raw / 4.733, with the sign of raw.
                let rate = f64::from(r) / 4.733;
                let rate = rate * rate;
                Some(Self::Rate(if r < 0 { -rate } else { rate }))
            }
        }
    }
}

impl PositionReport {
    fn decode(bits: &Bits<'_>, message_type: u8, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        // gpsd: "most of our samples are 168, but some are 163 and 204".
        check_range(message_type, bits, 163, 204)?;
        let (lon, lat) = lon_lat(bits, 61, 28, 27, 600_000.0, LON_NA, LAT_NA);
        // A 163-bit report carries a 14-bit radio field; gpsd reads what is there.
        let radio_width = bits.len().min(168) - 149;
        Ok(Self {
            message_type,
            repeat,
            mmsi,
            status: bits.u(38, 4) as u8,
            turn: Turn::from_raw(bits.i(42, 8) as i8),
            speed: tenths(bits.u(50, 10), 1023),
            accuracy: bits.flag(60),
            lon,
            lat,
            course: tenths(bits.u(116, 12), 3600),
            heading: na(bits.u(128, 9) as u16, 511),
            second: bits.u(137, 6) as u8,
            maneuver: bits.u(143, 2) as u8,
            raim: bits.flag(148),
            radio: bits.u(149, radio_width),
        })
    }
}

impl BaseStationReport {
    fn decode(bits: &Bits<'_>, message_type: u8, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_min(message_type, bits, 168)?;
        let (lon, lat) = lon_lat(bits, 79, 28, 27, 600_000.0, LON_NA, LAT_NA);
        Ok(Self {
            message_type,
            repeat,
            mmsi,
            year: na(bits.u(38, 14) as u16, 0),
            month: na(bits.u(52, 4) as u8, 0),
            day: na(bits.u(56, 5) as u8, 0),
            hour: na(bits.u(61, 5) as u8, 24),
            minute: na(bits.u(66, 6) as u8, 60),
            second: na(bits.u(72, 6) as u8, 60),
            accuracy: bits.flag(78),
            lon,
            lat,
            epfd: bits.u(134, 4) as u8,
            raim: bits.flag(148),
            radio: bits.u(149, 19),
        })
    }
}

impl StaticVoyageData {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        // 424 bits per the standard; gpsd accepts the 420 and 422 seen in the wild.
        check_min(5, bits, 420)?;
        Ok(Self {
            repeat,
            mmsi,
            ais_version: bits.u(38, 2) as u8,
            imo: na(bits.u(40, 30), 0),
            callsign: bits.text(70, 7),
            shipname: bits.text(112, 20),
            shiptype: bits.u(232, 8) as u8,
            dimensions: dimensions(bits, 240),
            epfd: bits.u(270, 4) as u8,
            eta: Eta {
                month: na(bits.u(274, 4) as u8, 0),
                day: na(bits.u(278, 5) as u8, 0),
                hour: na(bits.u(283, 5) as u8, 24),
                minute: na(bits.u(288, 6) as u8, 60),
            },
            draught: tenths(bits.u(294, 8), 0),
            destination: bits.text(302, 20),
            dte: bits.len() >= 423 && bits.flag(422),
        })
    }
}

impl MetHydroReport {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(8, bits, 56, 1008)?;
        let dac = bits.u(40, 10) as u16;
        let fid = bits.u(50, 6) as u8;
        if (dac, fid) != (1, 31) {
            return Err(Error::UnsupportedBinary { message_type: 8, dac, fid });
        }
        // gpsd decodes a short FID 31 with zeros for the missing fields; we refuse it.
        check_min(8, bits, 350)?;
        let (lon, lat) = lon_lat(bits, 56, 25, 24, 60_000.0, LON31_NA, LAT31_NA);
        let signed_tenths =
            |at, width, not_available| na(bits.i(at, width), not_available).map(|v| f64::from(v) / 10.0);
        Ok(Self {
            repeat,
            mmsi,
            lon,
            lat,
            accuracy: bits.flag(105),
            day: na(bits.u(106, 5) as u8, 0),
            hour: na(bits.u(111, 5) as u8, 24),
            minute: na(bits.u(116, 6) as u8, 60),
            wspeed: na(bits.u(122, 7) as u8, 127),
            wgust: na(bits.u(129, 7) as u8, 127),
            wdir: na(bits.u(136, 9) as u16, 360),
            wgustdir: na(bits.u(145, 9) as u16, 360),
            airtemp: signed_tenths(154, 11, -1024),
            humidity: na(bits.u(165, 7) as u8, 101),
            dewpoint: signed_tenths(172, 10, 501),
            pressure: na(bits.u(182, 9) as u16, 511).map(|p| p + 799),
            pressuretend: na(bits.u(191, 2) as u8, 3),
            visgreater: bits.flag(193),
            visibility: tenths(bits.u(194, 7), 127),
            waterlevel: na(bits.u(201, 12), 4001).map(|w| (f64::from(w) - 1000.0) / 100.0),
            leveltrend: na(bits.u(213, 2) as u8, 3),
            cspeed: tenths(bits.u(215, 8), 255),
            cdir: na(bits.u(223, 9) as u16, 360),
            cspeed2: tenths(bits.u(232, 8), 255),
            cdir2: na(bits.u(240, 9) as u16, 360),
            cdepth2: na(bits.u(249, 5) as u8, 31),
            cspeed3: tenths(bits.u(254, 8), 255),
            cdir3: na(bits.u(262, 9) as u16, 360),
            cdepth3: na(bits.u(271, 5) as u8, 31),
            waveheight: tenths(bits.u(276, 8), 255),
            waveperiod: na(bits.u(284, 6) as u8, 63),
            wavedir: na(bits.u(290, 9) as u16, 360),
            swellheight: tenths(bits.u(299, 8), 255),
            swellperiod: na(bits.u(307, 6) as u8, 63),
            swelldir: na(bits.u(313, 9) as u16, 360),
            seastate: na(bits.u(322, 4) as u8, 13),
            watertemp: signed_tenths(326, 10, 501),
            preciptype: na(bits.u(336, 3) as u8, 7),
            salinity: tenths(bits.u(339, 9), 510),
            ice: na(bits.u(348, 2) as u8, 3),
        })
    }
}

impl SarAircraftReport {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_min(9, bits, 168)?;
        let (lon, lat) = lon_lat(bits, 61, 28, 27, 600_000.0, LON_NA, LAT_NA);
        Ok(Self {
            repeat,
            mmsi,
            alt: na(bits.u(38, 12) as u16, 4095),
            speed: na(bits.u(50, 10) as u16, 1023),
            accuracy: bits.flag(60),
            lon,
            lat,
            course: tenths(bits.u(116, 12), 3600),
            second: bits.u(128, 6) as u8,
            regional: bits.u(134, 8) as u8,
            dte: bits.flag(142),
            assigned: bits.flag(146),
            raim: bits.flag(147),
            radio: bits.u(148, 20),
        })
    }
}

impl ClassBPositionReport {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_min(18, bits, 168)?;
        let (lon, lat) = lon_lat(bits, 57, 28, 27, 600_000.0, LON_NA, LAT_NA);
        Ok(Self {
            repeat,
            mmsi,
            reserved: bits.u(38, 8) as u8,
            speed: tenths(bits.u(46, 10), 1023),
            accuracy: bits.flag(56),
            lon,
            lat,
            course: tenths(bits.u(112, 12), 3600),
            heading: na(bits.u(124, 9) as u16, 511),
            second: bits.u(133, 6) as u8,
            regional: bits.u(139, 2) as u8,
            cs: bits.flag(141),
            display: bits.flag(142),
            dsc: bits.flag(143),
            band: bits.flag(144),
            msg22: bits.flag(145),
            assigned: bits.flag(146),
            raim: bits.flag(147),
            radio: bits.u(148, 20),
        })
    }
}

impl ClassBExtendedReport {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_min(19, bits, 312)?;
        let (lon, lat) = lon_lat(bits, 57, 28, 27, 600_000.0, LON_NA, LAT_NA);
        Ok(Self {
            repeat,
            mmsi,
            reserved: bits.u(38, 8) as u8,
            speed: tenths(bits.u(46, 10), 1023),
            accuracy: bits.flag(56),
            lon,
            lat,
            course: tenths(bits.u(112, 12), 3600),
            heading: na(bits.u(124, 9) as u16, 511),
            second: bits.u(133, 6) as u8,
            regional: bits.u(139, 4) as u8,
            shipname: bits.text(143, 20),
            shiptype: bits.u(263, 8) as u8,
            dimensions: dimensions(bits, 271),
            epfd: bits.u(301, 4) as u8,
            raim: bits.flag(305),
            dte: bits.flag(306),
            assigned: bits.flag(307),
        })
    }
}

impl AidToNavigationReport {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(21, bits, 272, 368)?;
        let (lon, lat) = lon_lat(bits, 164, 28, 27, 600_000.0, LON_NA, LAT_NA);
        let mut name = bits.text_untrimmed(43, 20);
        if name.len() == 20 && bits.len() > 272 {
            // The name extension fills the rest of the message, whole characters only.
            name.push_str(&bits.text_untrimmed(272, (bits.len() - 272) / 6));
        }
        bits::trim_right(&mut name);
        Ok(Self {
            repeat,
            mmsi,
            aid_type: bits.u(38, 5) as u8,
            name,
            accuracy: bits.flag(163),
            lon,
            lat,
            dimensions: dimensions(bits, 219),
            epfd: bits.u(249, 4) as u8,
            second: bits.u(253, 6) as u8,
            off_position: bits.flag(259),
            regional: bits.u(260, 8) as u8,
            raim: bits.flag(268),
            virtual_aid: bits.flag(269),
            assigned: bits.flag(270),
        })
    }
}

impl StaticDataReport {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        match bits.u(38, 2) {
            0 => {
                check_range(24, bits, 160, 168)?;
                Ok(Self { repeat, mmsi, shipname: Some(bits.text(40, 20)), part_b: None })
            }
            1 => {
                check_min(24, bits, 168)?;
                let hull = if is_auxiliary(mmsi) {
                    Hull::MothershipMmsi(bits.u(132, 30))
                } else {
                    Hull::Dimensions(dimensions(bits, 132))
                };
                let part_b = StaticDataPartB {
                    shiptype: bits.u(40, 8) as u8,
                    vendorid: bits.text(48, 7),
                    model: bits.u(66, 4) as u8,
                    serial: bits.u(70, 20),
                    callsign: bits.text(90, 7),
                    hull,
                };
                Ok(Self { repeat, mmsi, shipname: None, part_b: Some(part_b) })
            }
            part => Err(Error::UnknownPart { part: part as u8 }),
        }
    }

    /// `true` when both parts are present (a part B merged with its part A).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.shipname.is_some() && self.part_b.is_some()
    }
}

impl LongRangeReport {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        // 96 bits; gpsd also takes the full 168-bit slot some transmitters send.
        if bits.len() != 96 && bits.len() != 168 {
            return Err(if bits.len() < 96 {
                Error::TooShort { message_type: 27, bits: bits.len(), min: 96 }
            } else {
                Error::TooLong {
                    message_type: 27,
                    bits: bits.len(),
                    max: if bits.len() < 168 { 96 } else { 168 },
                }
            });
        }
        let (lon, lat) = lon_lat(bits, 44, 18, 17, 600.0, LON27_NA, LAT27_NA);
        Ok(Self {
            repeat,
            mmsi,
            accuracy: bits.flag(38),
            raim: bits.flag(39),
            status: bits.u(40, 4) as u8,
            lon,
            lat,
            speed: na(bits.u(79, 6) as u8, 63),
            course: na(bits.u(85, 9) as u16, 511),
            gnss: bits.flag(94),
        })
    }
}
