//! Binary application payloads of AIS types 6 (addressed) and 8 (broadcast).
//!
//! A type 6/8 message carries a 16-bit application identifier — the Designated Area Code
//! (DAC, 10 bits: 1 is international, 200 inland Europe, 235/250 UK and Ireland…) and the
//! Function Identifier (FID, 6 bits) — followed by application data whose layout depends on
//! the pair. This module decodes the pairs gpsd 3.22 (`driver_ais.c`) decodes, with gpsd's
//! bit layouts, length rules and JSON (`gpsd_json.c`), plus the IMO289 area notices;
//! everything else is kept as [`RawPayload`] and rendered as gpsd renders it
//! (`"data":"<bits>:<hex>"`).
//!
//! | message | DAC | FID | application | type | gpsd's length rule |
//! |---|---|---|---|---|---|
//! | 6 | 1 | 12 | dangerous cargo (IMO236) | [`DangerousCargo`] | none |
//! | 6 | 1 | 14, 32 | tidal window (IMO236, IMO289) | [`TidalWindow`] | elements while they start within the message |
//! | 6, 8 | 1 | 15 | extended ship static data: air draught | [`AirDraught`] | none |
//! | 6, 8 | 1 | 16 | persons on board | [`PersonsOnBoard`] | type 8: 72 or 136 data bits |
//! | 6 | 1 | 18 | clearance time to enter port | [`ClearanceTime`] | none |
//! | 6 | 1 | 20 | berthing data | [`BerthingData`] | none |
//! | 6 | 1 | 25 | dangerous cargo (IMO289) | [`CargoList`] | elements while they start within the message |
//! | 6, 8 | 1 | 28, 27 | route information | [`RouteInfo`] | waypoint count field |
//! | 6, 8 | 1 | 30, 29 | text description | [`TextDescription`] | rest of the message |
//! | 8 | 1 | 11, 31 | meteorological and hydrographic data | [`MetHydroReport`] | none |
//! | 8 | 1 | 13 | fairway closed | [`FairwayClosed`] | none |
//! | 8 | 1 | 17 | VTS-generated targets | [`VtsTargets`] | elements while they start within the message |
//! | 8 | 1 | 19 | marine traffic signal | [`TrafficSignal`] | none |
//! | 6 | 200 | 21, 22 | inland ETA / RTA at lock, bridge, terminal | [`InlandEta`], [`InlandRta`] | exactly 248 / 232 bits |
//! | 6 | 200 | 55 | inland persons on board | [`InlandPersonsOnBoard`] | exactly 168 bits |
//! | 8 | 200 | 10 | inland ship static and voyage data | [`InlandStaticData`] | exactly 168 bits, hazard ≤ 5 |
//! | 8 | 200 | 23 | EMMA weather warning | [`EmmaWarning`] | exactly 256 bits |
//! | 8 | 200 | 24 | inland water levels | [`WaterLevels`] | exactly 168 bits |
//! | 8 | 200 | 40 | inland signal status | [`SignalStatus`] | exactly 168 bits |
//! | 6 | 235, 250 | 10 | AtoN monitoring (GLA) | [`AtonMonitoring`] | exactly 136 bits |
//! | 8, 6 | 1 | 22, 23 | area notice (ours; gpsd 3.22 prints it raw) | [`AreaNotice`] | at least one whole sub-area |
//!
//! gpsd 3.22 leaves the IMO289 weather observations (FID 21), extended static data (FID 24),
//! environmental (FID 26) and the dangerous cargo broadcast (type 8 FID 25) undecoded: they
//! are [`Application::Raw`] here too. It leaves the area notices (FID 22/23) undecoded as
//! well; we decode them ([`AreaNotice`]: the issue asks for them, and zones matter to a port)
//! but render them raw, exactly as gpsd prints them.
//!
//! Where the bits end: gpsd reads fields past the end of a short message as zero bits (its
//! buffer is cleared per message) and the fill bits of the last character as they are;
//! this decoder reads the same way, so a short message decodes to the same values as in gpsd.
//!
//! Typed values: positions are degrees and times [`PartialTime`]s, `None` where the
//! message says "not available" (181°/91°; month 0, day 0, hour 24, minute 60), as are the
//! measurements of [`MetHydroReport`] and [`InlandStaticData`] (in SI-ish units, the codes
//! gpsd prints kept privately). Other fields are the transmitted codes, each documented with
//! its unit and "not available" code; [`TidalWindow`] keeps its positions as codes because
//! gpsd scales FID 14's 1/10000-minute positions as 1/1000 minute. Rendering goes back from
//! the typed value to the exact code gpsd prints.
//!
//! Known gpsd 3.22 rendering defects are reproduced in the JSON line (and only there, see
//! `Defects`), so that `--gpsd-json` stays byte-comparable with `gpsdecode -j`; the typed
//! values, and the structured JSON value, are right:
//! - type 8 FID 16 prints `"persons":0` whatever the count (it reads the type 6 union);
//! - type 8 FID 19 misses the comma before `"nextsignal_text"` and prints its legends (one
//!   holds quotes) unescaped (invalid JSON);
//! - inland strings (200/21, 200/22, 200/24) are printed without JSON escaping;
//! - FID 31 `waterlevel` below the datum offset wraps (unsigned arithmetic);
//! - 200/23 prints the start as year-month-hourTminute:day (its argument order);
//! - arrays are not bounded by gpsd's fixed array sizes (nor, in practice, by gpsd: the
//!   elements past them are printed as decoded).

mod area_notice;
mod dac1;
mod dac200;
mod met_hydro;

use std::fmt::Write as _;

pub use area_notice::{AreaNotice, Leg, SubArea};
pub use dac1::{
    AirDraught, BerthingData, CargoList, ClearanceTime, DangerousCargo, DangerousCargoItem, FairwayClosed,
    PersonsOnBoard, RouteInfo, TargetId, TextDescription, TidalWindow, TidalWindowElement, TrafficSignal,
    VtsTarget, VtsTargets, Waypoint,
};
pub use dac200::{
    AtonMonitoring, EmmaWarning, Gauge, InlandEta, InlandPersonsOnBoard, InlandRta, InlandStaticData, Place,
    SignalStatus, WaterLevels,
};
pub use met_hydro::MetHydroReport;

use crate::bits::{Bits, SIXBIT_ASCII};

/// A decoded type 6/8 application payload.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Application {
    /// DAC 1 FID 11 (IMO236) or FID 31 (IMO289), type 8 (boxed: by far the largest).
    MetHydro(Box<MetHydroReport>),
    /// DAC 1 FID 22 (type 8) or 23 (type 6): decoded here, rendered raw as by gpsd 3.22.
    AreaNotice(AreaNotice),
    /// DAC 1 FID 12, type 6.
    DangerousCargo(DangerousCargo),
    /// DAC 1 FID 13, type 8.
    FairwayClosed(FairwayClosed),
    /// DAC 1 FID 14 (IMO236) or 32 (IMO289), type 6.
    TidalWindow(TidalWindow),
    /// DAC 1 FID 15, types 6 and 8.
    AirDraught(AirDraught),
    /// DAC 1 FID 16, types 6 and 8.
    PersonsOnBoard(PersonsOnBoard),
    /// DAC 1 FID 17, type 8.
    VtsTargets(VtsTargets),
    /// DAC 1 FID 18, type 6.
    ClearanceTime(ClearanceTime),
    /// DAC 1 FID 19, type 8.
    TrafficSignal(TrafficSignal),
    /// DAC 1 FID 20, type 6.
    BerthingData(BerthingData),
    /// DAC 1 FID 25, type 6.
    CargoList(CargoList),
    /// DAC 1 FID 27 (type 8) or 28 (type 6).
    RouteInfo(RouteInfo),
    /// DAC 1 FID 29 (type 8) or 30 (type 6).
    TextDescription(TextDescription),
    /// DAC 200 FID 10, type 8.
    InlandStaticData(InlandStaticData),
    /// DAC 200 FID 21, type 6.
    InlandEta(InlandEta),
    /// DAC 200 FID 22, type 6.
    InlandRta(InlandRta),
    /// DAC 200 FID 23, type 8.
    EmmaWarning(EmmaWarning),
    /// DAC 200 FID 24, type 8.
    WaterLevels(WaterLevels),
    /// DAC 200 FID 40, type 8.
    SignalStatus(SignalStatus),
    /// DAC 200 FID 55, type 6.
    InlandPersonsOnBoard(InlandPersonsOnBoard),
    /// DAC 235 or 250 FID 10, type 6.
    AtonMonitoring(AtonMonitoring),
    /// A payload not decoded: unknown DAC/FID, or a length gpsd does not accept for it.
    Raw(RawPayload),
}

/// Undecoded application data.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPayload {
    /// Length of the application data in bits.
    pub bits: usize,
    /// The application data, MSB first, padded to whole bytes. As in gpsd, the padding of a
    /// type 6 payload holds what follows in the sentence (the armoring's fill bits), that of
    /// a type 8 payload is zeroed.
    pub data: Vec<u8>,
}

/// Decodes the application data of a type 6 (`addressed`) or 8 message.
///
/// `bits` is the message's bit view, `start` the bit index where the application data begins
/// (just after the 16-bit application id).
pub(crate) fn decode(bits: &Bits<'_>, start: usize, dac: u16, fid: u8, addressed: bool) -> Application {
    let at = At { bits, start };
    let decoded = match (addressed, dac) {
        (false, 1) if fid == 22 => {
            area_notice::AreaNotice::decode(&at, raw(bits, start, false)).map(Application::AreaNotice)
        }
        (true, 1) if fid == 23 => {
            area_notice::AreaNotice::decode(&at, raw(bits, start, true)).map(Application::AreaNotice)
        }
        (_, 1) => dac1::decode(&at, fid, addressed),
        (true, 200) => dac200::decode_addressed(&at, fid),
        (false, 200) => dac200::decode_broadcast(&at, fid),
        (true, 235 | 250) if fid == 10 => dac200::decode_aton(&at),
        _ => None,
    };
    decoded.unwrap_or_else(|| Application::Raw(raw(bits, start, addressed)))
}

/// Field reader with offsets relative to the application data, the way gpsd's are written
/// (gpsd's offsets are absolute; `start` is 88 for type 6 and 56 for type 8).
pub(crate) struct At<'b, 'a> {
    bits: &'b Bits<'a>,
    start: usize,
}

impl At<'_, '_> {
    /// Message length in bits (gpsd's `bitlen`).
    fn len(&self) -> usize {
        self.bits.len()
    }

    /// Application data length in bits (gpsd's `bitcount`).
    fn data_len(&self) -> usize {
        self.bits.len().saturating_sub(self.start)
    }

    /// Unsigned field at data offset `at`.
    fn u(&self, at: usize, width: usize) -> u32 {
        self.bits.u(self.start + at, width)
    }

    /// Signed field at data offset `at`.
    fn i(&self, at: usize, width: usize) -> i32 {
        self.bits.i(self.start + at, width)
    }

    /// gpsd's `from_sixbit`: `count` characters, stop at `@`, trim trailing spaces and `@`.
    /// Unlike [`Bits::text`] it reads past the end of the message as gpsd does (fill bits
    /// included), since gpsd's application decoders have no bounds check.
    fn text(&self, at: usize, count: usize) -> String {
        let mut out = String::with_capacity(count);
        for i in 0..count {
            let c = SIXBIT_ASCII[self.u(at + 6 * i, 6) as usize];
            if c == b'@' {
                break;
            }
            out.push(char::from(c));
        }
        crate::bits::trim_right(&mut out);
        out
    }

    /// gpsd's `ENDCHARS`: the characters from `at` to the end of the message.
    fn end_text(&self, at: usize) -> String {
        // gpsd computes the count in unsigned arithmetic; past the end it wraps to a negative
        // `int`, i.e. no characters.
        let count = self.len().saturating_sub(self.start + at) / 6;
        self.text(at, count)
    }
}

/// The application data from `start` to the end of the message, as gpsd copies it.
fn raw(bits: &Bits<'_>, start: usize, addressed: bool) -> RawPayload {
    let count = bits.len().saturating_sub(start);
    let bytes = count.div_ceil(8);
    let mut data = Vec::with_capacity(bytes);
    for i in 0..bytes {
        let mut byte = bits.u(start + 8 * i, 8) as u8;
        // gpsd masks the bits past the end of a type 8 payload, not those of a type 6.
        let valid = count - 8 * i;
        if !addressed && valid < 8 {
            byte &= 0xFFu8 << (8 - valid);
        }
        data.push(byte);
    }
    RawPayload { bits: count, data }
}

/// Whether a rendering reproduces gpsd 3.22's textual defects (the module docs' list): the
/// missing comma of FID 19 and the unescaped inland strings make invalid JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Defects {
    /// Byte for byte what `gpsdecode -j` prints (`--gpsd-json`, the oracle tests).
    Reproduce,
    /// Valid JSON of the same values: what the structured form is read from. (Reading the
    /// faithful text instead lost every field of an application whose text did not parse;
    /// found by `cargo fuzz run payload`.)
    Mend,
}

/// Appends the application's gpsd JSON fields (each prefixed with `,`): what gpsdecode prints
/// after `"dac":..,"fid":..`. For [`Application::Raw`]: `,"data":"<bits>:<hex>"`.
pub(crate) fn write_gpsd_fields(app: &Application, out: &mut String, defects: Defects) {
    match app {
        Application::MetHydro(m) => m.write_gpsd(out),
        Application::DangerousCargo(m) => m.write_gpsd(out),
        Application::FairwayClosed(m) => m.write_gpsd(out),
        Application::TidalWindow(m) => m.write_gpsd(out),
        Application::AirDraught(m) => m.write_gpsd(out),
        Application::PersonsOnBoard(m) => m.write_gpsd(out),
        Application::VtsTargets(m) => m.write_gpsd(out),
        Application::ClearanceTime(m) => m.write_gpsd(out),
        Application::TrafficSignal(m) => m.write_gpsd(out, defects),
        Application::BerthingData(m) => m.write_gpsd(out),
        Application::CargoList(m) => m.write_gpsd(out),
        Application::RouteInfo(m) => m.write_gpsd(out),
        Application::TextDescription(m) => m.write_gpsd(out),
        Application::InlandStaticData(m) => m.write_gpsd(out),
        Application::InlandEta(m) => m.write_gpsd(out, defects),
        Application::InlandRta(m) => m.write_gpsd(out, defects),
        Application::EmmaWarning(m) => m.write_gpsd(out),
        Application::WaterLevels(m) => m.write_gpsd(out, defects),
        Application::SignalStatus(m) => m.write_gpsd(out),
        Application::InlandPersonsOnBoard(m) => m.write_gpsd(out),
        Application::AtonMonitoring(m) => m.write_gpsd(out),
        Application::AreaNotice(m) => write_raw(m.raw(), out),
        Application::Raw(raw) => write_raw(raw, out),
    }
}

/// gpsd's rendering of undecoded data: `,"data":"<bits>:<hex>"`.
fn write_raw(raw: &RawPayload, out: &mut String) {
    let _ = write!(out, ",\"data\":\"{}:", raw.bits);
    for byte in &raw.data {
        let _ = write!(out, "{byte:02x}");
    }
    out.push('"');
}

/// Appends `s` escaped as gpsd's `json_stringify` does. Decoded 6-bit text is printable
/// ASCII, so only `"` and `\` need it.
fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A UTC time without year, as AIS applications send it (month 4 bits, day 5, hour 5,
/// minute 6); each part `None` when not available (month 0, day 0, hour 24, minute 60).
/// Out-of-range codes other than those are kept (`Some(31)` for an hour of 31).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartialTime {
    /// Month, 1–12.
    pub month: Option<u8>,
    /// Day of month, 1–31.
    pub day: Option<u8>,
    /// Hour, 0–23.
    pub hour: Option<u8>,
    /// Minute, 0–59.
    pub minute: Option<u8>,
}

impl PartialTime {
    /// From the codes (each at most 6 bits wide, so the narrowing is lossless).
    fn from_codes(month: u32, day: u32, hour: u32, minute: u32) -> Self {
        let na = |v: u32, code: u32| (v != code).then_some(v as u8);
        Self { month: na(month, 0), day: na(day, 0), hour: na(hour, 24), minute: na(minute, 60) }
    }

    /// Month, day, hour, minute at consecutive data offsets from `at`.
    fn read(r: &At<'_, '_>, at: usize) -> Self {
        Self::from_codes(r.u(at, 4), r.u(at + 4, 5), r.u(at + 9, 5), r.u(at + 14, 6))
    }

    /// Back to the transmitted codes, which gpsd prints.
    fn codes(&self) -> (u32, u32, u32, u32) {
        let code = |v: Option<u8>, na: u32| v.map_or(na, u32::from);
        (code(self.month, 0), code(self.day, 0), code(self.hour, 24), code(self.minute, 60))
    }
}

/// Resolution of a position field: 1/1000 minute (25/24-bit pairs) or 1/10000 minute
/// (28/27-bit pairs); the divisor to degrees and the "not available" codes (181°, 91°).
#[derive(Clone, Copy)]
struct Resolution {
    div: f64,
    lon_na: i32,
    lat_na: i32,
}

/// 1/1000 minute (gpsd's `AIS_LATLON3_DIV`).
const MINUTE_1000: Resolution = Resolution { div: 60_000.0, lon_na: 181 * 60_000, lat_na: 91 * 60_000 };
/// 1/10000 minute (gpsd's `AIS_LATLON4_DIV`).
const MINUTE_10000: Resolution = Resolution { div: 600_000.0, lon_na: 181 * 600_000, lat_na: 91 * 600_000 };

impl Resolution {
    /// Longitude in degrees, `None` at 181°.
    fn lon(self, raw: i32) -> Option<f64> {
        (raw != self.lon_na).then(|| f64::from(raw) / self.div)
    }
    /// Latitude in degrees, `None` at 91°.
    fn lat(self, raw: i32) -> Option<f64> {
        (raw != self.lat_na).then(|| f64::from(raw) / self.div)
    }
    /// The degrees gpsd prints: the same division of the same code, N/A included.
    fn lon_or_na(self, lon: Option<f64>) -> f64 {
        lon.unwrap_or(f64::from(self.lon_na) / self.div)
    }
    fn lat_or_na(self, lat: Option<f64>) -> f64 {
        lat.unwrap_or(f64::from(self.lat_na) / self.div)
    }
}

/// Table lookup with gpsd's `..._DISPLAY` fallback for codes past the table.
fn legend<'t>(table: &[&'t str], code: u32, invalid: &'t str) -> &'t str {
    table.get(code as usize).copied().unwrap_or(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gpsd's JSON fields for one armored type 6/8 payload (after `"dac":..,"fid":..`).
    pub(crate) fn render(payload: &str, fill: u8) -> String {
        let mut out = String::new();
        write_gpsd_fields(&decode_payload(payload, fill), &mut out, Defects::Reproduce);
        out
    }

    /// Decodes the application of one armored single-sentence type 6/8 payload.
    pub(crate) fn decode_payload(payload: &str, fill: u8) -> Application {
        let bits = Bits::new(payload.as_bytes(), fill);
        let (start, addressed) = if bits.u(0, 6) == 6 { (88, true) } else { (56, false) };
        let dac = bits.u(start - 16, 10) as u16;
        let fid = bits.u(start - 6, 6) as u8;
        decode(&bits, start, dac, fid, addressed)
    }

    /// Armors a message given as fields `(value, width)`: the payload and its fill bits.
    pub(crate) fn armor(fields: &[(u64, usize)]) -> (String, u8) {
        let mut bits: Vec<u8> = Vec::new();
        for &(value, width) in fields {
            // Wide fields (zero padding) may exceed 64 bits.
            bits.extend((0..width).rev().map(|i| if i < 64 { ((value >> i) & 1) as u8 } else { 0 }));
        }
        let fill = (6 - bits.len() % 6) % 6;
        bits.resize(bits.len() + fill, 0);
        let armored = bits
            .chunks(6)
            .map(|c| {
                let v = c.iter().fold(0u8, |v, &b| (v << 1) | b);
                char::from(if v < 40 { v + b'0' } else { v + b'8' })
            })
            .collect();
        (armored, fill as u8)
    }

    /// Every single-sentence type 6/8 payload of gpsd's `sample.aivdm`, with the fields
    /// Debian's `gpsdecode -j` (3.22) prints after the application id. The newer gpsd that
    /// wrote `sample.aivdm.js.chk` differs on several of them (6 decimals for FID 11
    /// positions, FID 31 with FID 11's tables, no `preciptype_text` key…); 3.22 is the
    /// reference here.
    const SAMPLE: &[(&str, u8, &str)] = &[
        // 669/11
        ("6B?n;be:cbapalgc;i6?Ow4", 2, r#","data":"48:eb2f118f7ff1""#),
        // 235/10
        (
            "6>jR0600V:C0>da4P106P00",
            2,
            r#","off_pos":false,"alarm":false,"stat_ext":0,"ana_int":13.70,"ana_ext1":0.05,"ana_ext2":0.05,"racon":2,"racon_text":"RACON operational","light":2,"light_text":"Light OFF""#,
        ),
        // 1/40
        ("63u?;TP0`QJ<06P000", 4, r#","data":"16:0000""#),
        // 1/12
        (
            "63LBA4;WBevJ04k0=@E=B0td",
            0,
            r#","lastport":"0CTES","departure":"05-04T00:60Z","nextport":",","eta":"00-00T00:00Z","dangerous":"","imdcat":"","unid":0,"amount":0,"unit":0"#,
        ),
        // 1/14
        (
            "6h2E:81>NmKC04p0J<000?vv20Ru",
            0,
            r#","month":0,"day":0,"tidals":[{"lon":279.3388,"lat":-406.3232,"from_hour":1,"from_min":5,"to_hour":29,"to_min":0,"cdir":0,"cspeed":0.0}]"#,
        ),
        // 1/18
        (
            "6h2E3MDrDRiB0580@00000000000",
            0,
            r#","linkage":1,"arrival":"00-00T00:00Z","portname":"","destination":"","lon":0.0000,"lat":0.0000"#,
        ),
        // 366/56
        (
            "85Mwp`1Kf3aCnsNvBWLi=wQuNhA5t43N`5nCuI=p<IBfVqnMgPGs",
            0,
            r#","data":"256:3a53dbb7be4a773137f87d7b0445f040dea05d93f593783194ae9b9d9dbe05fb""#,
        ),
        // 1/11
        (
            "8>jR06@0Bk3:wOli;<`WPhh<1rqVBQf2V@Pdt0J82avIM2b<<Rv1t<ot=@1",
            2,
            r#","lat":53.2949,"lon":-6.1340,"timestamp":"18T17:15Z","wspeed":3,"wgust":6,"wdir":12,"wgustdir":15,"humidity":50,"airtemp":14.2,"dewpoint":12.3,"pressure":1024,"pressuretend":"decreasing","visibility":15.3,"waterlevel":-8.4,"leveltrend":"increasing","cspeed":10.3,"cdir":256,"cspeed2":10.4,"cdir2":257,"cdepth2":10,"cspeed3":12.6,"cdir3":203,"cdepth3":20,"waveheight":4.2,"waveperiod":35,"wavedir":25,"swellheight":2.3,"swellperiod":48,"swelldir":124,"seastate":3,"watertemp":12.3,"preciptype":6,"preciptype_text":"reserved","salinity":5.3,"ice":0,"ice_text":"no""#,
        ),
        // 1/11
        (
            "8>jR06@0Bk3:vOli;L`nwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwt1",
            2,
            r#","lat":53.2948,"lon":-6.1339,"timestamp":"18T17:45Z","wspeed":127,"wgust":127,"wdir":511,"wgustdir":511,"humidity":127,"airtemp":144.7,"dewpoint":82.3,"pressure":1311,"pressuretend":"N/A","visibility":25.5,"waterlevel":41.1,"leveltrend":"N/A","cspeed":25.5,"cdir":511,"cspeed2":25.5,"cdir2":511,"cdepth2":31,"cspeed3":25.5,"cdir3":511,"cdepth3":31,"waveheight":25.5,"waveperiod":63,"wavedir":511,"swellheight":25.5,"swellperiod":63,"swelldir":511,"seastate":15,"watertemp":92.3,"preciptype":7,"preciptype_text":"N/A","salinity":51.1,"ice":3,"ice_text":"N/A""#,
        ),
        // 1/31
        (
            "8>jR06@0Gwli:QQUP3en?wvlFR06EuOwgwl?wnSwe7wvlOwwsAwwnSGmwvh0",
            0,
            r#","lat":53.2949,"lon":-6.1341,"accuracy":false,"timestamp":"29T23:24Z","wspeed":127,"wgust":127,"wdir":360,"wgustdir":360,"humidity":101,"airtemp":-102.4,"dewpoint":50.1,"pressure":1310,"pressuretend":"N/A","visgreater":false,"visibility":12.7,"waterlevel":30.0,"leveltrend":"N/A","cspeed":25.5,"cdir":360,"cspeed2":25.5,"cdir2":360,"cdepth2":31,"cspeed3":25.5,"cdir3":360,"cdepth3":31,"waveheight":25.5,"waveperiod":63,"wavedir":360,"swellheight":25.5,"swellperiod":63,"swelldir":360,"seastate":13,"watertemp":50.1,"preciptype":"N/A","salinity":51.0,"ice":"N/A""#,
        ),
        // 200/10
        (
            "83aDChPj2d<dL<uM=hhhI?a@6HP0",
            0,
            r#","vin":"02103547","length":390,"beam":50,"shiptype":8010,"shiptype_text":"Motor freighter","hazard":0,"hazard_text":"0 blue cones/lights","draught":204,"loaded":1,"loaded_text":"Unloaded","speed_q":false,"course_q":false,"heading_q":false"#,
        ),
        // 1/40
        ("647sBv00b=E006P9>0", 4, r#","data":"16:0938""#),
        // 1/18
        (
            "602E:s0tw@9B0580@00000000000",
            0,
            r#","linkage":1,"arrival":"00-00T00:00Z","portname":"","destination":"","lon":0.0000,"lat":0.0000"#,
        ),
        // 1/30
        ("6h2E3MPr<buN05p0J00000000000", 0, r#","linkage":1,"text":"(""#),
        // 1/32
        (
            "6h2E3MHrg19P0600@00000000000",
            0,
            r#","month":0,"day":0,"tidals":[{"lon":-279.6203,"lat":0.0000,"from_hour":0,"from_min":0,"to_hour":0,"to_min":0,"cdir":0,"cspeed":0.0}]"#,
        ),
        // 1/32
        (
            "6h2E3N0rThqP0600J00000000000",
            0,
            r#","month":0,"day":0,"tidals":[{"lon":-104.8576,"lat":0.0000,"from_hour":0,"from_min":0,"to_hour":0,"to_min":0,"cdir":0,"cspeed":0.0}]"#,
        ),
        // 1/11
        (
            "8@2<HW@0BkdhF0dcH59=RiRRDqnJ7wfRwwwwwwwwwwwwwwwwwwwwwwwwwt0",
            2,
            r#","lat":64.6500,"lon":24.4000,"timestamp":"20T18:27Z","wspeed":11,"wgust":12,"wdir":162,"wgustdir":167,"humidity":80,"airtemp":-12.7,"dewpoint":82.3,"pressure":1032,"pressuretend":"decreasing","visibility":25.5,"waterlevel":41.1,"leveltrend":"N/A","cspeed":25.5,"cdir":511,"cspeed2":25.5,"cdir2":511,"cdepth2":31,"cspeed3":25.5,"cdir3":511,"cdepth3":31,"waveheight":25.5,"waveperiod":63,"wavedir":511,"swellheight":25.5,"swellperiod":63,"swelldir":511,"seastate":15,"watertemp":92.3,"preciptype":7,"preciptype_text":"N/A","salinity":51.1,"ice":3,"ice_text":"N/A""#,
        ),
        // 1/11
        (
            "8@2<HVh0BkL8V@Wfp=9=RAA57jC;wwf>wwwwwwwwwwwwwwwwwwwwwwwwwt0",
            2,
            r#","lat":60.1114,"lon":21.6992,"timestamp":"20T18:27Z","wspeed":9,"wgust":10,"wdir":69,"wgustdir":62,"humidity":95,"airtemp":-1.2,"dewpoint":82.3,"pressure":1027,"pressuretend":"decreasing","visibility":25.5,"waterlevel":41.1,"leveltrend":"N/A","cspeed":25.5,"cdir":511,"cspeed2":25.5,"cdir2":511,"cdepth2":31,"cspeed3":25.5,"cdir3":511,"cdepth3":31,"waveheight":25.5,"waveperiod":63,"wavedir":511,"swellheight":25.5,"swellperiod":63,"swelldir":511,"seastate":15,"watertemp":92.3,"preciptype":7,"preciptype_text":"N/A","salinity":51.1,"ice":3,"ice_text":"N/A""#,
        ),
        // 1/11
        (
            "8@2<HW@0Bkb<B0akj59>1@juFB4:7wfNwwwwwwwwwwwwwwwwwwwwwwwwwt0",
            2,
            r#","lat":63.9500,"lon":22.8333,"timestamp":"20T18:28Z","wspeed":5,"wgust":6,"wdir":189,"wgustdir":178,"humidity":80,"airtemp":-7.2,"dewpoint":82.3,"pressure":1031,"pressuretend":"decreasing","visibility":25.5,"waterlevel":41.1,"leveltrend":"N/A","cspeed":25.5,"cdir":511,"cspeed2":25.5,"cdir2":511,"cdepth2":31,"cspeed3":25.5,"cdir3":511,"cdepth3":31,"waveheight":25.5,"waveperiod":63,"wavedir":511,"swellheight":25.5,"swellperiod":63,"swelldir":511,"seastate":15,"watertemp":92.3,"preciptype":7,"preciptype_text":"N/A","salinity":51.1,"ice":3,"ice_text":"N/A""#,
        ),
        // 1/11
        (
            "8@2<HV@0BkLfrhhJWM9=SjAk=B@pOwfNwwwwwwwwwwwwwwwwwwwwwwwwwt0",
            2,
            r#","lat":60.2749,"lon":26.4415,"timestamp":"20T18:27Z","wspeed":15,"wgust":18,"wdir":115,"wgustdir":106,"humidity":67,"airtemp":-2.1,"dewpoint":82.3,"pressure":1031,"pressuretend":"decreasing","visibility":25.5,"waterlevel":41.1,"leveltrend":"N/A","cspeed":25.5,"cdir":511,"cspeed2":25.5,"cdir2":511,"cdepth2":31,"cspeed3":25.5,"cdir3":511,"cdepth3":31,"waveheight":25.5,"waveperiod":63,"wavedir":511,"swellheight":25.5,"swellperiod":63,"swelldir":511,"seastate":15,"watertemp":92.3,"preciptype":7,"preciptype_text":"N/A","salinity":51.1,"ice":3,"ice_text":"N/A""#,
        ),
        // 1/11
        (
            "8@2<HVh0BkM75P`MKU9>31iL:RBcGwfBwwwwwwwwwwwwwwwwwwwwwwwwwt0",
            2,
            r#","lat":60.3780,"lon":22.0965,"timestamp":"20T18:28Z","wspeed":12,"wgust":14,"wdir":92,"wgustdir":84,"humidity":90,"airtemp":-1.4,"dewpoint":82.3,"pressure":1028,"pressuretend":"decreasing","visibility":25.5,"waterlevel":41.1,"leveltrend":"N/A","cspeed":25.5,"cdir":511,"cspeed2":25.5,"cdir2":511,"cdepth2":31,"cspeed3":25.5,"cdir3":511,"cdepth3":31,"waveheight":25.5,"waveperiod":63,"wavedir":511,"swellheight":25.5,"swellperiod":63,"swelldir":511,"seastate":15,"watertemp":92.3,"preciptype":7,"preciptype_text":"N/A","salinity":51.1,"ice":3,"ice_text":"N/A""#,
        ),
        // 200/3
        ("601uEPprEH2@<P<j00", 4, r#","data":"16:3200""#),
        // 1/16
        (
            "802At?00D000qFap02:lA0b@?3fw0001<:iFP2:rf0cCGp0w00",
            4,
            r#","data":"240:0000e56a780022b4440a903c3bbf00000130ac568022bab80ad35f803f00""#,
        ),
    ];

    #[test]
    fn gpsd_sample_applications_render_as_gpsdecode_3_22() {
        for (payload, fill, expected) in SAMPLE {
            assert_eq!(render(payload, *fill), *expected, "payload {payload}");
        }
    }

    #[test]
    fn sample_covers_decoded_and_raw_applications() {
        let kinds: Vec<&str> = SAMPLE
            .iter()
            .map(|(p, f, _)| match decode_payload(p, *f) {
                Application::Raw(_) => "raw",
                Application::MetHydro(_) => "met-hydro",
                Application::DangerousCargo(_) => "dangerous cargo",
                Application::TidalWindow(_) => "tidal window",
                Application::ClearanceTime(_) => "clearance",
                Application::TextDescription(_) => "text",
                Application::InlandStaticData(_) => "inland static",
                Application::AtonMonitoring(_) => "aton",
                _ => "other",
            })
            .collect();
        for kind in [
            "raw",
            "met-hydro",
            "dangerous cargo",
            "tidal window",
            "clearance",
            "text",
            "inland static",
            "aton",
        ] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
        }
    }

    #[test]
    fn type8_raw_padding_is_masked_type6_is_not() {
        // A 58-bit message: 56-bit header, 2 data bits `11`, then 2 fill bits `11` in the
        // last character (`?` = 0b001111) — nonzero fill, as some transmitters send.
        let bits = Bits::new(b"800000000?", 2);
        assert_eq!(bits.len(), 58);
        let Application::Raw(raw8) = decode(&bits, 56, 0, 0, false) else { panic!("raw") };
        assert_eq!((raw8.bits, raw8.data.clone()), (2, vec![0b1100_0000]));
        let Application::Raw(raw6) = decode(&bits, 56, 0, 0, true) else { panic!("raw") };
        assert_eq!(raw6.data, vec![0b1111_0000]);
    }
}
