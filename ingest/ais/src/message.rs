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
use crate::binary::{self, Application};
use crate::bits::{self, Bits};

/// A decoded AIS message: one variant per message type (or family of types) of ITU-R M.1371,
/// all 27 of them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// Types 1, 2 and 3: Class A position report.
    Position(PositionReport),
    /// Types 4 and 11: base station report, UTC/date response.
    BaseStation(BaseStationReport),
    /// Type 5: Class A static and voyage related data.
    StaticVoyage(StaticVoyageData),
    /// Type 6: addressed binary message (its application decoded by [`crate::binary`]).
    AddressedBinary(AddressedBinary),
    /// Types 7 and 13: binary acknowledge, safety-related acknowledge.
    Acknowledge(Acknowledge),
    /// Type 8: binary broadcast message (its application decoded by [`crate::binary`]:
    /// meteorological and hydrological data, inland static data, area notices…).
    BinaryBroadcast(BinaryBroadcast),
    /// Type 9: standard SAR aircraft position report.
    SarAircraft(SarAircraftReport),
    /// Type 10: UTC/date inquiry.
    UtcInquiry(UtcInquiry),
    /// Type 12: addressed safety-related message (text).
    SafetyAddressed(SafetyAddressed),
    /// Type 14: safety-related broadcast message (text).
    SafetyBroadcast(SafetyBroadcast),
    /// Type 15: interrogation.
    Interrogation(Interrogation),
    /// Type 16: assigned mode command.
    AssignedMode(AssignedMode),
    /// Type 17: DGNSS broadcast binary message (differential corrections).
    Dgnss(DgnssBroadcast),
    /// Type 18: standard Class B position report.
    ClassBPosition(ClassBPositionReport),
    /// Type 19: extended Class B position report.
    ClassBExtended(ClassBExtendedReport),
    /// Type 20: data link management (slot reservations of a base station).
    DataLinkManagement(DataLinkManagement),
    /// Type 21: aid-to-navigation report.
    AidToNavigation(AidToNavigationReport),
    /// Type 22: channel management.
    ChannelManagement(ChannelManagement),
    /// Type 23: group assignment command.
    GroupAssignment(GroupAssignment),
    /// Type 24: Class B static data report (part A, part B, or both merged).
    StaticData(StaticDataReport),
    /// Type 25: single slot binary message.
    SingleSlotBinary(SlotBinary),
    /// Type 26: multiple slot binary message with communication state.
    MultiSlotBinary(SlotBinary),
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

/// Type 6: addressed binary message.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressedBinary {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Sequence number (0–3), for the acknowledgement (type 7).
    pub seqno: u8,
    /// Destination MMSI.
    pub dest_mmsi: u32,
    /// Retransmit flag (`true`: retransmitted).
    pub retransmit: bool,
    /// Designated area code of the application.
    pub dac: u16,
    /// Function identifier of the application.
    pub fid: u8,
    /// The application data, decoded when gpsd decodes its DAC/FID, raw otherwise.
    pub application: Application,
}

/// Type 8: binary broadcast message.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryBroadcast {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Designated area code of the application.
    pub dac: u16,
    /// Function identifier of the application.
    pub fid: u8,
    /// The application data, decoded when gpsd decodes its DAC/FID, raw otherwise.
    pub application: Application,
}

/// One acknowledged message of a type 7 or 13.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledged {
    /// MMSI of the station whose message is acknowledged.
    pub mmsi: u32,
    /// Sequence number of the acknowledged message (0–3).
    pub seqno: u8,
}

/// Types 7 and 13: binary acknowledge, safety-related acknowledge.
#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledge {
    /// 7 (binary acknowledge) or 13 (safety-related acknowledge).
    pub message_type: u8,
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// One to four acknowledgements. As gpsd, an entry is read when the message extends past
    /// its first bit (bits 40 + 32·i), even if it ends inside it.
    pub acks: Vec<Acknowledged>,
}

/// Type 10: UTC/date inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtcInquiry {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// MMSI of the station asked.
    pub dest_mmsi: u32,
}

/// Type 12: addressed safety-related message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyAddressed {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Sequence number (0–3), for the acknowledgement (type 13).
    pub seqno: u8,
    /// Destination MMSI.
    pub dest_mmsi: u32,
    /// Retransmit flag.
    pub retransmit: bool,
    /// The text (6-bit ASCII, up to 156 characters; stops at `@`, trailing spaces trimmed).
    pub text: String,
}

/// Type 14: safety-related broadcast message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyBroadcast {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// The text (6-bit ASCII, up to 161 characters; stops at `@`, trailing spaces trimmed).
    pub text: String,
}

/// One request of an interrogation: a message type and the slot offset for the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InterrogationRequest {
    /// Requested message type (6 bits).
    pub message_type: u8,
    /// Slot offset of the reply (12 bits).
    pub offset: u16,
}

/// Type 15: interrogation of one or two stations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrogation {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// First interrogated station.
    pub mmsi1: u32,
    /// First request to the first station.
    pub request1_1: InterrogationRequest,
    /// Second request to the first station (messages longer than 90 bits).
    pub request1_2: Option<InterrogationRequest>,
    /// Second interrogated station and its request (messages longer than 110 bits).
    pub station2: Option<(u32, InterrogationRequest)>,
}

/// One assignment of a type 16 command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    /// Destination MMSI.
    pub mmsi: u32,
    /// Slot offset (12 bits).
    pub offset: u16,
    /// Slot increment (10 bits).
    pub increment: u16,
}

/// Type 16: assigned mode command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedMode {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// One assignment, or two in a message of 144 bits or more (gpsd's threshold).
    pub assignments: Vec<Assignment>,
}

/// Binary data carried by types 17, 25 and 26, as gpsd prints it (`"bits:hex"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryData {
    /// Length of the data in bits.
    pub bits: usize,
    /// The data, MSB first. The bits of the last byte after `bits` are those gpsd 3.22 prints
    /// there (the bits that follow in its buffer), so that the JSON is gpsd's byte for byte.
    pub data: Vec<u8>,
}

/// Type 17: DGNSS broadcast binary message.
#[derive(Debug, Clone, PartialEq)]
pub struct DgnssBroadcast {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Longitude of the reference station in degrees (1/10 minute); `None` when not available (181°).
    pub lon: Option<f64>,
    /// Latitude of the reference station in degrees (1/10 minute); `None` when not available (91°).
    pub lat: Option<f64>,
    /// The correction data (RTCM SC-104 words), not decoded.
    pub data: BinaryData,
}

/// One slot reservation of a type 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlotReservation {
    /// Reserved offset number (12 bits).
    pub offset: u16,
    /// Number of reserved consecutive slots (0–15).
    pub number: u8,
    /// Time-out in minutes (0–7).
    pub timeout: u8,
    /// Increment (11 bits).
    pub increment: u16,
}

/// Type 20: data link management.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLinkManagement {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// The four reservations, read as gpsd reads them whatever the message length (a short
    /// message's missing reservations read as zeros, or as its spare and fill bits).
    pub reservations: [SlotReservation; 4],
}

/// The area or the stations a channel management applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChannelTarget {
    /// A rectangle, corners in degrees (1/10 minute resolution).
    Area {
        /// North-east longitude.
        ne_lon: f64,
        /// North-east latitude.
        ne_lat: f64,
        /// South-west longitude.
        sw_lon: f64,
        /// South-west latitude.
        sw_lat: f64,
    },
    /// Two addressed stations.
    Addressed {
        /// First station MMSI.
        dest1: u32,
        /// Second station MMSI.
        dest2: u32,
    },
}

/// Type 22: channel management.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelManagement {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Channel A number (ITU-R M.1084).
    pub channel_a: u16,
    /// Channel B number.
    pub channel_b: u16,
    /// Transmit/receive mode (4 bits).
    pub txrx: u8,
    /// Low power (`true`) or high.
    pub power: bool,
    /// Area, or addressed stations.
    pub target: ChannelTarget,
    /// Channel A bandwidth: `true` = 12.5 kHz.
    pub band_a: bool,
    /// Channel B bandwidth: `true` = 12.5 kHz.
    pub band_b: bool,
    /// Transitional zone size in nautical miles minus one (0–7).
    pub zonesize: u8,
}

/// Type 23: group assignment command.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupAssignment {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// North-east longitude in degrees (1/10 minute).
    pub ne_lon: f64,
    /// North-east latitude in degrees.
    pub ne_lat: f64,
    /// South-west longitude in degrees.
    pub sw_lon: f64,
    /// South-west latitude in degrees.
    pub sw_lat: f64,
    /// Station type addressed (0–15); see [`station_type_text`](crate::gpsd::station_type_text).
    pub station_type: u8,
    /// Ship and cargo type addressed.
    pub ship_type: u8,
    /// Transmit/receive mode (2 bits; gpsd decodes but does not print it).
    pub txrx: u8,
    /// Reporting interval code (0–15).
    pub interval: u8,
    /// Quiet time in minutes (0 = none).
    pub quiet: u8,
}

/// Types 25 and 26: single and multiple slot binary messages.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotBinary {
    /// Repeat indicator (0–3).
    pub repeat: u8,
    /// Source MMSI.
    pub mmsi: u32,
    /// Destination MMSI when the message is addressed.
    pub dest_mmsi: Option<u32>,
    /// Application id (DAC and FID, 16 bits) when the message is structured.
    pub app_id: Option<u16>,
    /// The data after the header.
    pub data: BinaryData,
    /// Type 26: the communication state (20 bits); `None` for type 25.
    pub radio: Option<u32>,
}

// "Not available" raw values.
pub(crate) const LON_NA: i32 = 181 * 600_000;
pub(crate) const LAT_NA: i32 = 91 * 600_000;
pub(crate) const LON27_NA: i32 = 181 * 600;
pub(crate) const LAT27_NA: i32 = 91 * 600;

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
    /// [`Error::UnsupportedType`] (types 0 and 28–63) or [`Error::UnknownPart`].
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
            6 => Self::AddressedBinary(AddressedBinary::decode(&bits, repeat, mmsi)?),
            7 | 13 => Self::Acknowledge(Acknowledge::decode(&bits, message_type, repeat, mmsi)?),
            8 => Self::BinaryBroadcast(BinaryBroadcast::decode(&bits, repeat, mmsi)?),
            9 => Self::SarAircraft(SarAircraftReport::decode(&bits, repeat, mmsi)?),
            10 => {
                // gpsd's "permissive" check: longer messages are accepted.
                check_min(10, &bits, 72)?;
                Self::UtcInquiry(UtcInquiry { repeat, mmsi, dest_mmsi: bits.u(40, 30) })
            }
            12 => {
                check_range(12, &bits, 72, 1008)?;
                Self::SafetyAddressed(SafetyAddressed {
                    repeat,
                    mmsi,
                    seqno: bits.u(38, 2) as u8,
                    dest_mmsi: bits.u(40, 30),
                    retransmit: bits.flag(70),
                    text: bits.text(72, (bits.len() - 72) / 6),
                })
            }
            14 => {
                check_range(14, &bits, 40, 1008)?;
                Self::SafetyBroadcast(SafetyBroadcast {
                    repeat,
                    mmsi,
                    text: bits.text(40, (bits.len() - 40) / 6),
                })
            }
            15 => Self::Interrogation(Interrogation::decode(&bits, repeat, mmsi)?),
            16 => Self::AssignedMode(AssignedMode::decode(&bits, repeat, mmsi)?),
            17 => Self::Dgnss(DgnssBroadcast::decode(&bits, repeat, mmsi)?),
            18 => Self::ClassBPosition(ClassBPositionReport::decode(&bits, repeat, mmsi)?),
            19 => Self::ClassBExtended(ClassBExtendedReport::decode(&bits, repeat, mmsi)?),
            20 => Self::DataLinkManagement(DataLinkManagement::decode(&bits, repeat, mmsi)?),
            21 => Self::AidToNavigation(AidToNavigationReport::decode(&bits, repeat, mmsi)?),
            22 => Self::ChannelManagement(ChannelManagement::decode(&bits, repeat, mmsi)?),
            23 => Self::GroupAssignment(GroupAssignment::decode(&bits, repeat, mmsi)?),
            24 => Self::StaticData(StaticDataReport::decode(&bits, repeat, mmsi)?),
            25 => Self::SingleSlotBinary(SlotBinary::decode_single(&bits, repeat, mmsi)?),
            26 => Self::MultiSlotBinary(SlotBinary::decode_multi(&bits, repeat, mmsi)?),
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
            Self::AddressedBinary(_) => 6,
            Self::Acknowledge(m) => m.message_type,
            Self::BinaryBroadcast(_) => 8,
            Self::SarAircraft(_) => 9,
            Self::UtcInquiry(_) => 10,
            Self::SafetyAddressed(_) => 12,
            Self::SafetyBroadcast(_) => 14,
            Self::Interrogation(_) => 15,
            Self::AssignedMode(_) => 16,
            Self::Dgnss(_) => 17,
            Self::ClassBPosition(_) => 18,
            Self::ClassBExtended(_) => 19,
            Self::DataLinkManagement(_) => 20,
            Self::AidToNavigation(_) => 21,
            Self::ChannelManagement(_) => 22,
            Self::GroupAssignment(_) => 23,
            Self::StaticData(_) => 24,
            Self::SingleSlotBinary(_) => 25,
            Self::MultiSlotBinary(_) => 26,
            Self::LongRange(_) => 27,
        }
    }

    /// The source MMSI.
    #[must_use]
    pub fn mmsi(&self) -> u32 {
        self.header().1
    }

    /// The repeat indicator (0–3).
    #[must_use]
    pub fn repeat(&self) -> u8 {
        self.header().0
    }

    /// (repeat, mmsi): the two header fields every message has.
    fn header(&self) -> (u8, u32) {
        match self {
            Self::Position(m) => (m.repeat, m.mmsi),
            Self::BaseStation(m) => (m.repeat, m.mmsi),
            Self::StaticVoyage(m) => (m.repeat, m.mmsi),
            Self::AddressedBinary(m) => (m.repeat, m.mmsi),
            Self::Acknowledge(m) => (m.repeat, m.mmsi),
            Self::BinaryBroadcast(m) => (m.repeat, m.mmsi),
            Self::SarAircraft(m) => (m.repeat, m.mmsi),
            Self::UtcInquiry(m) => (m.repeat, m.mmsi),
            Self::SafetyAddressed(m) => (m.repeat, m.mmsi),
            Self::SafetyBroadcast(m) => (m.repeat, m.mmsi),
            Self::Interrogation(m) => (m.repeat, m.mmsi),
            Self::AssignedMode(m) => (m.repeat, m.mmsi),
            Self::Dgnss(m) => (m.repeat, m.mmsi),
            Self::ClassBPosition(m) => (m.repeat, m.mmsi),
            Self::ClassBExtended(m) => (m.repeat, m.mmsi),
            Self::DataLinkManagement(m) => (m.repeat, m.mmsi),
            Self::AidToNavigation(m) => (m.repeat, m.mmsi),
            Self::ChannelManagement(m) => (m.repeat, m.mmsi),
            Self::GroupAssignment(m) => (m.repeat, m.mmsi),
            Self::StaticData(m) => (m.repeat, m.mmsi),
            Self::SingleSlotBinary(m) | Self::MultiSlotBinary(m) => (m.repeat, m.mmsi),
            Self::LongRange(m) => (m.repeat, m.mmsi),
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
        // gpsd 3.22: at least 163 bits ("some are 163 and 204"), longer accepted.
        check_min(message_type, bits, 163)?;
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

impl AddressedBinary {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(6, bits, 88, 1008)?;
        let (dac, fid) = (bits.u(72, 10) as u16, bits.u(82, 6) as u8);
        Ok(Self {
            repeat,
            mmsi,
            seqno: bits.u(38, 2) as u8,
            dest_mmsi: bits.u(40, 30),
            retransmit: bits.flag(70),
            dac,
            fid,
            application: binary::decode(bits, 88, dac, fid, true),
        })
    }
}

impl BinaryBroadcast {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(8, bits, 56, 1008)?;
        let (dac, fid) = (bits.u(40, 10) as u16, bits.u(50, 6) as u8);
        Ok(Self { repeat, mmsi, dac, fid, application: binary::decode(bits, 56, dac, fid, false) })
    }
}

impl Acknowledge {
    fn decode(bits: &Bits<'_>, message_type: u8, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(message_type, bits, 72, 168)?;
        let acks = (0..4)
            .take_while(|i| bits.len() > 40 + 32 * i)
            // The sequence number follows the 30-bit MMSI (ITU-R M.1371). gpsd 3.22 reads it two
            // bits further on, but does not print it.
            .map(|i| Acknowledged { mmsi: bits.u(40 + 32 * i, 30), seqno: bits.u(70 + 32 * i, 2) as u8 })
            .collect();
        Ok(Self { message_type, repeat, mmsi, acks })
    }
}

impl Interrogation {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(15, bits, 88, 168)?;
        let request = |at| InterrogationRequest {
            message_type: bits.u(at, 6) as u8,
            offset: bits.u(at + 6, 12) as u16,
        };
        Ok(Self {
            repeat,
            mmsi,
            mmsi1: bits.u(40, 30),
            request1_1: request(70),
            request1_2: (bits.len() > 90).then(|| request(90)),
            station2: (bits.len() > 110).then(|| (bits.u(110, 30), request(140))),
        })
    }
}

impl AssignedMode {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(16, bits, 96, 168)?;
        let assignment = |at| Assignment {
            mmsi: bits.u(at, 30),
            offset: bits.u(at + 30, 12) as u16,
            increment: bits.u(at + 42, 10) as u16,
        };
        let mut assignments = vec![assignment(40)];
        if bits.len() >= 144 {
            assignments.push(assignment(92));
        }
        Ok(Self { repeat, mmsi, assignments })
    }
}

impl DgnssBroadcast {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(17, bits, 80, 816)?;
        let (lon, lat) = lon_lat(bits, 40, 18, 17, 600.0, LON27_NA, LAT27_NA);
        let count = bits.len() - 80;
        Ok(Self { repeat, mmsi, lon, lat, data: binary_data(bits, 80, count) })
    }
}

impl DataLinkManagement {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(20, bits, 72, 186)?;
        let reservation = |i: usize| {
            let at = 40 + 30 * i;
            SlotReservation {
                offset: bits.u(at, 12) as u16,
                number: bits.u(at + 12, 4) as u8,
                timeout: bits.u(at + 16, 3) as u8,
                increment: bits.u(at + 19, 11) as u16,
            }
        };
        Ok(Self {
            repeat,
            mmsi,
            reservations: [reservation(0), reservation(1), reservation(2), reservation(3)],
        })
    }
}

impl ChannelManagement {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        // gpsd's "permissive" check: longer messages are accepted.
        check_min(22, bits, 168)?;
        let target = if bits.flag(139) {
            ChannelTarget::Addressed { dest1: bits.u(69, 30), dest2: bits.u(104, 30) }
        } else {
            let tenth_minutes = |at, width| f64::from(bits.i(at, width)) / 600.0;
            ChannelTarget::Area {
                ne_lon: tenth_minutes(69, 18),
                ne_lat: tenth_minutes(87, 17),
                sw_lon: tenth_minutes(104, 18),
                sw_lat: tenth_minutes(122, 17),
            }
        };
        Ok(Self {
            repeat,
            mmsi,
            channel_a: bits.u(40, 12) as u16,
            channel_b: bits.u(52, 12) as u16,
            txrx: bits.u(64, 4) as u8,
            power: bits.flag(68),
            target,
            band_a: bits.flag(140),
            band_b: bits.flag(141),
            zonesize: bits.u(142, 3) as u8,
        })
    }
}

impl GroupAssignment {
    fn decode(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_min(23, bits, 160)?;
        let tenth_minutes = |at, width| f64::from(bits.i(at, width)) / 600.0;
        Ok(Self {
            repeat,
            mmsi,
            ne_lon: tenth_minutes(40, 18),
            ne_lat: tenth_minutes(58, 17),
            sw_lon: tenth_minutes(75, 18),
            sw_lat: tenth_minutes(93, 17),
            station_type: bits.u(110, 4) as u8,
            ship_type: bits.u(114, 8) as u8,
            // 2 bits (ITU-R M.1371); gpsd reads 4 and does not print them.
            txrx: bits.u(144, 2) as u8,
            interval: bits.u(146, 4) as u8,
            quiet: bits.u(150, 4) as u8,
        })
    }
}

impl SlotBinary {
    /// Type 25: 40 to 168 bits, and long enough for its header (gpsd's checks).
    fn decode_single(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(25, bits, 40, 168)?;
        Self::decode_slots(bits, repeat, mmsi, 0)
    }

    /// Type 26: 60 to 1004 bits, and long enough for its header and communication state.
    fn decode_multi(bits: &Bits<'_>, repeat: u8, mmsi: u32) -> Result<Self, Error> {
        check_range(26, bits, 60, 1004)?;
        Self::decode_slots(bits, repeat, mmsi, 20)
    }

    fn decode_slots(bits: &Bits<'_>, repeat: u8, mmsi: u32, radio_bits: usize) -> Result<Self, Error> {
        let message_type = if radio_bits == 0 { 25 } else { 26 };
        let (addressed, structured) = (bits.flag(38), bits.flag(39));
        let header = 40 + 30 * usize::from(addressed) + 16 * usize::from(structured);
        check_min(message_type, bits, header + radio_bits)?;
        let dest_mmsi = addressed.then(|| bits.u(40, 30));
        let app_id = structured.then(|| bits.u(40 + 30 * usize::from(addressed), 16) as u16);
        let count = bits.len() - header - radio_bits;
        // gpsd copies whole bytes from bit 40 (56 if structured) and, if addressed, shifts the
        // copy 30 bits left with its `shiftleft`, whose padding bits we reproduce.
        let copied = bits.len() - 40 - 16 * usize::from(structured) - radio_bits;
        let data = if addressed {
            gpsd_shifted(bits, 40 + 16 * usize::from(structured), copied, count)
        } else {
            binary_data(bits, header, count)
        };
        let radio = (radio_bits > 0).then(|| bits.u(bits.len() - 20, 20));
        Ok(Self { repeat, mmsi, dest_mmsi, app_id, data, radio })
    }
}

/// `count` bits from `start` as bytes, the last byte padded with the bits that follow (fill
/// bits, then zeros past the payload), as gpsd's byte copy does.
fn binary_data(bits: &Bits<'_>, start: usize, count: usize) -> BinaryData {
    let data = (0..count.div_ceil(8)).map(|i| bits.u(start + 8 * i, 8) as u8).collect();
    BinaryData { bits: count, data }
}

/// gpsd 3.22's copy of an addressed type 25/26 payload: `copied` bits from `from`, copied as
/// whole bytes, then shifted 30 bits left by its `shiftleft` — which moves only part of the
/// buffer, so the padding bits of the last byte may come from a stale byte. Reproduced
/// byte for byte so that the `data` JSON matches; the `count` data bits are exact either way.
fn gpsd_shifted(bits: &Bits<'_>, from: usize, copied: usize, count: usize) -> BinaryData {
    let out_len = count.div_ceil(8);
    // The copied bytes, then zeros (gpsd's buffer beyond the copy is zeroed memory).
    let mut buf: Vec<u8> = (0..copied.div_ceil(8)).map(|i| bits.u(from + 8 * i, 8) as u8).collect();
    buf.resize(buf.len().max(out_len + 8) + 8, 0);
    // shiftleft(data, size = copied, left = 30), as written in gpsd's libgps/bits.c.
    let mut size = copied;
    size -= 30 / 8;
    let moved = size.div_ceil(8);
    buf.copy_within(3..3 + moved, 0);
    let left = 30 % 8;
    for i in 0..out_len {
        let next = buf[i + 1] >> (8 - left);
        buf[i] = (buf[i] << left) | next;
    }
    buf.truncate(out_len);
    BinaryData { bits: count, data: buf }
}
