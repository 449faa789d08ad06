//! Meteorological and hydrographic data: DAC 1 FID 11 (IMO236, the trial message used by
//! many Baltic stations) and FID 31 (IMO289, its replacement).
//!
//! The two layouts carry the same quantities with different offsets, scalings and "not
//! available" codes (FID 11 biases its temperatures and levels instead of signing them; FID
//! 31 adds a position accuracy flag and a "visibility greater than" flag). Both decode to one
//! [`MetHydroReport`] in common units; the raw codes are kept privately, because gpsd prints
//! them (N/A sentinels included) and `--gpsd-json` must print what gpsd prints.

use std::fmt::Write as _;

use super::At;

const TRENDS: [&str; 4] = ["steady", "increasing", "decreasing", "N/A"];
// WMO 306, code table 4.201.
const PRECIPITATION: [&str; 8] =
    ["reserved", "rain", "thunderstorm", "freezing rain", "mixed/ice", "snow", "reserved", "N/A"];
const ICE: [&str; 4] = ["no", "yes", "reserved", "N/A"];

/// Type 8, DAC 1, FID 11 (IMO236) or FID 31 (IMO289): a met-hydro station's report.
///
/// Every measurement is `None` when the station reports it as not available. Units: degrees
/// for positions and directions, knots for wind and current speeds, °C, hPa, %, nautical
/// miles for visibility, metres for levels, heights and depths, seconds for periods, ‰ for
/// salinity.
#[derive(Debug, Clone, PartialEq)]
pub struct MetHydroReport {
    /// The FID: 11 (IMO236 layout) or 31 (IMO289 layout).
    pub fid: u8,
    /// Longitude in degrees (1/1000 minute resolution).
    pub lon: Option<f64>,
    /// Latitude in degrees (1/1000 minute resolution).
    pub lat: Option<f64>,
    /// Position accuracy flag (FID 31 only; `false` for FID 11).
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
    /// Wind direction, degrees; `None` (360; 511 in FID 11).
    pub wdir: Option<u16>,
    /// Gust direction, degrees; `None` (360; 511 in FID 11).
    pub wgustdir: Option<u16>,
    /// Air temperature, °C; `None` (FID 31 −102.4, FID 11 raw 2047).
    pub airtemp: Option<f64>,
    /// Relative humidity, %; `None` (101; 127 in FID 11).
    pub humidity: Option<u8>,
    /// Dew point, °C; `None` (FID 31 50.1, FID 11 raw 1023).
    pub dewpoint: Option<f64>,
    /// Air pressure, hPa; `None` (raw 511).
    pub pressure: Option<u16>,
    /// Pressure tendency (0 steady, 1 decreasing, 2 increasing); `None` (3).
    pub pressuretend: Option<u8>,
    /// Visibility is greater than the reported value (FID 31 only).
    pub visgreater: bool,
    /// Horizontal visibility, nautical miles; `None` (FID 31 12.7, FID 11 25.5).
    pub visibility: Option<f64>,
    /// Water level (deviation from datum), metres; `None` (FID 31 raw 4001, FID 11 raw 511).
    pub waterlevel: Option<f64>,
    /// Water level trend (0 steady, 1 decreasing, 2 increasing); `None` (3).
    pub leveltrend: Option<u8>,
    /// Surface current speed, knots; `None` (25.5).
    pub cspeed: Option<f64>,
    /// Surface current direction, degrees; `None` (360; 511 in FID 11).
    pub cdir: Option<u16>,
    /// Current speed at depth 2, knots; `None` (25.5).
    pub cspeed2: Option<f64>,
    /// Current direction at depth 2, degrees; `None` (360; 511 in FID 11).
    pub cdir2: Option<u16>,
    /// Measurement depth 2, metres; `None` (31).
    pub cdepth2: Option<u8>,
    /// Current speed at depth 3, knots; `None` (25.5).
    pub cspeed3: Option<f64>,
    /// Current direction at depth 3, degrees; `None` (360; 511 in FID 11).
    pub cdir3: Option<u16>,
    /// Measurement depth 3, metres; `None` (31).
    pub cdepth3: Option<u8>,
    /// Significant wave height, metres; `None` (25.5).
    pub waveheight: Option<f64>,
    /// Wave period, seconds; `None` (63).
    pub waveperiod: Option<u8>,
    /// Wave direction, degrees; `None` (360; 511 in FID 11).
    pub wavedir: Option<u16>,
    /// Swell height, metres; `None` (25.5).
    pub swellheight: Option<f64>,
    /// Swell period, seconds; `None` (63).
    pub swellperiod: Option<u8>,
    /// Swell direction, degrees; `None` (360; 511 in FID 11).
    pub swelldir: Option<u16>,
    /// Sea state, Beaufort (0–12); `None` (13 in FID 31, 15 in FID 11).
    pub seastate: Option<u8>,
    /// Water temperature, °C; `None` (FID 31 50.1, FID 11 raw 1023).
    pub watertemp: Option<f64>,
    /// Precipitation type (WMO 306 table 4.201); `None` (7).
    pub preciptype: Option<u8>,
    /// Salinity, ‰; `None` (FID 31 51.0, FID 11 51.1).
    pub salinity: Option<f64>,
    /// Ice (0 no, 1 yes); `None` (3).
    pub ice: Option<u8>,
    /// The codes as transmitted, for gpsd's rendering.
    raw: Raw,
}

/// Field codes as gpsd stores them (signed where gpsd reads them signed).
#[derive(Debug, Clone, PartialEq, Default)]
struct Raw {
    lon: i32,
    lat: i32,
    day: u32,
    hour: u32,
    minute: u32,
    wspeed: u32,
    wgust: u32,
    wdir: u32,
    wgustdir: u32,
    airtemp: i32,
    humidity: u32,
    dewpoint: i32,
    pressure: u32,
    pressuretend: u32,
    visibility: u32,
    waterlevel: u32,
    leveltrend: u32,
    cspeed: u32,
    cdir: u32,
    cspeed2: u32,
    cdir2: u32,
    cdepth2: u32,
    cspeed3: u32,
    cdir3: u32,
    cdepth3: u32,
    waveheight: u32,
    waveperiod: u32,
    wavedir: u32,
    swellheight: u32,
    swellperiod: u32,
    swelldir: u32,
    seastate: u32,
    watertemp: i32,
    preciptype: u32,
    salinity: u32,
    ice: u32,
}

/// `Some(v)` unless `v` is the "not available" code.
fn na<T: PartialEq>(v: T, not_available: T) -> Option<T> {
    (v != not_available).then_some(v)
}

/// Narrowing for fields of at most 8 bits (or 16): the widths make the casts lossless.
fn b(v: u32) -> u8 {
    v as u8
}
fn w(v: u32) -> u16 {
    v as u16
}

/// 1/1000-minute position (`None` at 181°/91°, and at gpsd's FID 11 codes).
fn position(raw_lon: i32, raw_lat: i32, extra_na: (i32, i32)) -> (Option<f64>, Option<f64>) {
    let lon = (raw_lon != 181 * 60_000 && raw_lon != extra_na.0).then(|| f64::from(raw_lon) / 60_000.0);
    let lat = (raw_lat != 91 * 60_000 && raw_lat != extra_na.1).then(|| f64::from(raw_lat) / 60_000.0);
    (lon, lat)
}

impl MetHydroReport {
    /// FID 11: IMO236 layout (gpsd's offsets, biased fields).
    pub(super) fn decode_fid11(at: &At<'_, '_>) -> Self {
        let r = Raw {
            lat: at.i(0, 24),
            lon: at.i(24, 25),
            day: at.u(49, 5),
            hour: at.u(54, 5),
            minute: at.u(59, 6),
            wspeed: at.u(65, 7),
            wgust: at.u(72, 7),
            wdir: at.u(79, 9),
            wgustdir: at.u(88, 9),
            airtemp: at.u(97, 11) as i32,
            humidity: at.u(108, 7),
            dewpoint: at.u(115, 10) as i32,
            pressure: at.u(125, 9),
            pressuretend: at.u(134, 2),
            visibility: at.u(136, 8),
            waterlevel: at.u(144, 9),
            leveltrend: at.u(153, 2),
            cspeed: at.u(155, 8),
            cdir: at.u(163, 9),
            cspeed2: at.u(172, 8),
            cdir2: at.u(180, 9),
            cdepth2: at.u(189, 5),
            cspeed3: at.u(194, 8),
            cdir3: at.u(202, 9),
            cdepth3: at.u(211, 5),
            waveheight: at.u(216, 8),
            waveperiod: at.u(224, 6),
            wavedir: at.u(230, 9),
            swellheight: at.u(239, 8),
            swellperiod: at.u(247, 6),
            swelldir: at.u(253, 9),
            seastate: at.u(262, 4),
            watertemp: at.u(266, 10) as i32,
            preciptype: at.u(276, 3),
            salinity: at.u(279, 9),
            ice: at.u(288, 2),
        };
        // gpsd's FID 11 N/A codes: 0x7FFFFF / 0xFFFFFF (positive in 24/25 bits).
        let (lon, lat) = position(r.lon, r.lat, (0xFF_FFFF, 0x7F_FFFF));
        let tenths = |v: u32, not_available: u32| na(v, not_available).map(|v| f64::from(v) / 10.0);
        let biased =
            |v: i32, not_available: i32, bias: i32| na(v, not_available).map(|v| f64::from(v - bias) / 10.0);
        Self {
            fid: 11,
            lon,
            lat,
            accuracy: false,
            day: na(b(r.day), 0),
            hour: na(b(r.hour), 24),
            minute: na(b(r.minute), 60),
            wspeed: na(b(r.wspeed), 127),
            wgust: na(b(r.wgust), 127),
            wdir: na(w(r.wdir), 511),
            wgustdir: na(w(r.wgustdir), 511),
            airtemp: biased(r.airtemp, 2047, 600),
            humidity: na(b(r.humidity), 127),
            dewpoint: biased(r.dewpoint, 1023, 200),
            pressure: na(w(r.pressure), 511).map(|p| p + 800),
            pressuretend: na(b(r.pressuretend), 3),
            visgreater: false,
            visibility: tenths(r.visibility, 255),
            waterlevel: biased(r.waterlevel as i32, 511, 100),
            leveltrend: na(b(r.leveltrend), 3),
            cspeed: tenths(r.cspeed, 255),
            cdir: na(w(r.cdir), 511),
            cspeed2: tenths(r.cspeed2, 255),
            cdir2: na(w(r.cdir2), 511),
            cdepth2: na(b(r.cdepth2), 31),
            cspeed3: tenths(r.cspeed3, 255),
            cdir3: na(w(r.cdir3), 511),
            cdepth3: na(b(r.cdepth3), 31),
            waveheight: tenths(r.waveheight, 255),
            waveperiod: na(b(r.waveperiod), 63),
            wavedir: na(w(r.wavedir), 511),
            swellheight: tenths(r.swellheight, 255),
            swellperiod: na(b(r.swellperiod), 63),
            swelldir: na(w(r.swelldir), 511),
            seastate: na(b(r.seastate), 15),
            watertemp: biased(r.watertemp, 1023, 100),
            preciptype: na(b(r.preciptype), 7),
            salinity: tenths(r.salinity, 511),
            ice: na(b(r.ice), 3),
            raw: r,
        }
    }

    /// FID 31: IMO289 layout.
    pub(super) fn decode_fid31(at: &At<'_, '_>) -> Self {
        let r = Raw {
            lon: at.i(0, 25),
            lat: at.i(25, 24),
            day: at.u(50, 5),
            hour: at.u(55, 5),
            minute: at.u(60, 6),
            wspeed: at.u(66, 7),
            wgust: at.u(73, 7),
            wdir: at.u(80, 9),
            wgustdir: at.u(89, 9),
            airtemp: at.i(98, 11),
            humidity: at.u(109, 7),
            dewpoint: at.i(116, 10),
            pressure: at.u(126, 9),
            pressuretend: at.u(135, 2),
            visibility: at.u(138, 7),
            waterlevel: at.u(145, 12),
            leveltrend: at.u(157, 2),
            cspeed: at.u(159, 8),
            cdir: at.u(167, 9),
            cspeed2: at.u(176, 8),
            cdir2: at.u(184, 9),
            cdepth2: at.u(193, 5),
            cspeed3: at.u(198, 8),
            cdir3: at.u(206, 9),
            cdepth3: at.u(215, 5),
            waveheight: at.u(220, 8),
            waveperiod: at.u(228, 6),
            wavedir: at.u(234, 9),
            swellheight: at.u(243, 8),
            swellperiod: at.u(251, 6),
            swelldir: at.u(257, 9),
            seastate: at.u(266, 4),
            watertemp: at.i(270, 10),
            preciptype: at.u(280, 3),
            salinity: at.u(283, 9),
            ice: at.u(292, 2),
        };
        let (lon, lat) = position(r.lon, r.lat, (181 * 60_000, 91 * 60_000));
        let tenths = |v: u32, not_available: u32| na(v, not_available).map(|v| f64::from(v) / 10.0);
        let signed_tenths = |v: i32, not_available: i32| na(v, not_available).map(|v| f64::from(v) / 10.0);
        Self {
            fid: 31,
            lon,
            lat,
            accuracy: at.u(49, 1) != 0,
            day: na(b(r.day), 0),
            hour: na(b(r.hour), 24),
            minute: na(b(r.minute), 60),
            wspeed: na(b(r.wspeed), 127),
            wgust: na(b(r.wgust), 127),
            wdir: na(w(r.wdir), 360),
            wgustdir: na(w(r.wgustdir), 360),
            airtemp: signed_tenths(r.airtemp, -1024),
            humidity: na(b(r.humidity), 101),
            dewpoint: signed_tenths(r.dewpoint, 501),
            pressure: na(w(r.pressure), 511).map(|p| p + 799),
            pressuretend: na(b(r.pressuretend), 3),
            visgreater: at.u(137, 1) != 0,
            visibility: tenths(r.visibility, 127),
            waterlevel: na(r.waterlevel, 4001).map(|v| (f64::from(v) - 1000.0) / 100.0),
            leveltrend: na(b(r.leveltrend), 3),
            cspeed: tenths(r.cspeed, 255),
            cdir: na(w(r.cdir), 360),
            cspeed2: tenths(r.cspeed2, 255),
            cdir2: na(w(r.cdir2), 360),
            cdepth2: na(b(r.cdepth2), 31),
            cspeed3: tenths(r.cspeed3, 255),
            cdir3: na(w(r.cdir3), 360),
            cdepth3: na(b(r.cdepth3), 31),
            waveheight: tenths(r.waveheight, 255),
            waveperiod: na(b(r.waveperiod), 63),
            wavedir: na(w(r.wavedir), 360),
            swellheight: tenths(r.swellheight, 255),
            swellperiod: na(b(r.swellperiod), 63),
            swelldir: na(w(r.swelldir), 360),
            seastate: na(b(r.seastate), 13),
            watertemp: signed_tenths(r.watertemp, 501),
            preciptype: na(b(r.preciptype), 7),
            salinity: tenths(r.salinity, 510),
            ice: na(b(r.ice), 3),
            raw: r,
        }
    }

    /// gpsd's JSON for FID 11 and 31 (`gpsd_json.c`, scaled).
    pub(super) fn write_gpsd(&self, out: &mut String) {
        let r = &self.raw;
        let tenths = |v: u32| f64::from(v) / 10.0;
        let _ = write!(
            out,
            ",\"lat\":{:.4},\"lon\":{:.4}",
            f64::from(r.lat) / 60_000.0,
            f64::from(r.lon) / 60_000.0
        );
        let fid11 = self.fid == 11;
        if !fid11 {
            let _ = write!(out, ",\"accuracy\":{}", self.accuracy);
        }
        let _ = write!(
            out,
            ",\"timestamp\":\"{:02}T{:02}:{:02}Z\",\"wspeed\":{},\"wgust\":{},\"wdir\":{},\"wgustdir\":{},\"humidity\":{}",
            r.day, r.hour, r.minute, r.wspeed, r.wgust, r.wdir, r.wgustdir, r.humidity
        );
        // Every table index below is a 2- or 3-bit field.
        if fid11 {
            let _ = write!(
                out,
                ",\"airtemp\":{:.1},\"dewpoint\":{:.1},\"pressure\":{},\"pressuretend\":\"{}\"",
                f64::from(r.airtemp - 600) / 10.0,
                f64::from(r.dewpoint - 200) / 10.0,
                r.pressure + 800,
                TRENDS[r.pressuretend as usize & 3]
            );
            let _ = write!(
                out,
                ",\"visibility\":{:.1},\"waterlevel\":{:.1}",
                tenths(r.visibility),
                f64::from(r.waterlevel as i32 - 100) / 10.0
            );
        } else {
            let _ = write!(
                out,
                ",\"airtemp\":{:.1},\"dewpoint\":{:.1},\"pressure\":{},\"pressuretend\":\"{}\",\"visgreater\":{}",
                f64::from(r.airtemp) / 10.0,
                f64::from(r.dewpoint) / 10.0,
                r.pressure + 799,
                TRENDS[r.pressuretend as usize & 3],
                self.visgreater
            );
            // gpsd subtracts the offset in unsigned arithmetic: levels below the datum wrap.
            let _ = write!(
                out,
                ",\"visibility\":{:.1},\"waterlevel\":{:.1}",
                tenths(r.visibility),
                f64::from(r.waterlevel.wrapping_sub(1000)) / 100.0
            );
        }
        let _ = write!(
            out,
            ",\"leveltrend\":\"{}\",\"cspeed\":{:.1},\"cdir\":{},\"cspeed2\":{:.1},\"cdir2\":{},\"cdepth2\":{},\
             \"cspeed3\":{:.1},\"cdir3\":{},\"cdepth3\":{},\"waveheight\":{:.1},\"waveperiod\":{},\"wavedir\":{},\
             \"swellheight\":{:.1},\"swellperiod\":{},\"swelldir\":{},\"seastate\":{}",
            TRENDS[r.leveltrend as usize & 3],
            tenths(r.cspeed),
            r.cdir,
            tenths(r.cspeed2),
            r.cdir2,
            r.cdepth2,
            tenths(r.cspeed3),
            r.cdir3,
            r.cdepth3,
            tenths(r.waveheight),
            r.waveperiod,
            r.wavedir,
            tenths(r.swellheight),
            r.swellperiod,
            r.swelldir,
            r.seastate
        );
        let precip = PRECIPITATION[r.preciptype as usize & 7];
        let ice = ICE[r.ice as usize & 3];
        if fid11 {
            let _ = write!(
                out,
                ",\"watertemp\":{:.1},\"preciptype\":{},\"preciptype_text\":\"{precip}\",\"salinity\":{:.1},\
                 \"ice\":{},\"ice_text\":\"{ice}\"",
                f64::from(r.watertemp - 100) / 10.0,
                r.preciptype,
                tenths(r.salinity),
                r.ice
            );
        } else {
            let _ = write!(
                out,
                ",\"watertemp\":{:.1},\"preciptype\":\"{precip}\",\"salinity\":{:.1},\"ice\":\"{ice}\"",
                f64::from(r.watertemp) / 10.0,
                tenths(r.salinity)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::render;
    use super::super::{Application, decode};
    use crate::bits::Bits;

    #[test]
    fn fid11_matches_gpsdecode_on_gpsd_sample() {
        // sample.aivdm, MMSI 992509977 (gpsdecode 3.22 output, JSON after "fid":11).
        let fields = render("8>jR06@0Bk3:wOli;<`WPhh<1rqVBQf2V@Pdt0J82avIM2b<<Rv1t<ot=@1", 2);
        assert_eq!(
            fields,
            r#","lat":53.2949,"lon":-6.1340,"timestamp":"18T17:15Z","wspeed":3,"wgust":6,"wdir":12,"wgustdir":15,"humidity":50,"airtemp":14.2,"dewpoint":12.3,"pressure":1024,"pressuretend":"decreasing","visibility":15.3,"waterlevel":-8.4,"leveltrend":"increasing","cspeed":10.3,"cdir":256,"cspeed2":10.4,"cdir2":257,"cdepth2":10,"cspeed3":12.6,"cdir3":203,"cdepth3":20,"waveheight":4.2,"waveperiod":35,"wavedir":25,"swellheight":2.3,"swellperiod":48,"swelldir":124,"seastate":3,"watertemp":12.3,"preciptype":6,"preciptype_text":"reserved","salinity":5.3,"ice":0,"ice_text":"no""#
        );
        let payload = "8>jR06@0Bk3:wOli;<`WPhh<1rqVBQf2V@Pdt0J82avIM2b<<Rv1t<ot=@1";
        let bits = Bits::new(payload.as_bytes(), 2);
        let Application::MetHydro(m) = decode(&bits, 56, 1, 11, false) else { panic!("met-hydro") };
        assert_eq!(
            (m.fid, m.wspeed, m.pressure, m.airtemp, m.waterlevel),
            (11, Some(3), Some(1024), Some(14.2), Some(-8.4))
        );
        assert!((m.lat.unwrap() - 53.2949).abs() < 1e-4);
    }

    #[test]
    fn fid11_not_available_codes_become_none() {
        // sample.aivdm: the same station with every measurement not available.
        let payload = "8>jR06@0Bk3:vOli;L`nwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwt1";
        let bits = Bits::new(payload.as_bytes(), 2);
        let Application::MetHydro(m) = decode(&bits, 56, 1, 11, false) else { panic!("met-hydro") };
        assert_eq!(
            (m.wspeed, m.wdir, m.airtemp, m.pressure, m.waterlevel, m.seastate),
            (None, None, None, None, None, None)
        );
        assert!(
            render(payload, 2)
                .contains(r#""airtemp":144.7,"dewpoint":82.3,"pressure":1311,"pressuretend":"N/A""#)
        );
    }

    #[test]
    fn fid31_sample_decodes_to_units_with_not_available_as_none() {
        // sample.aivdm, MMSI 992509977: a FID 31 report with nearly everything not available.
        let payload = "8>jR06@0Gwli:QQUP3en?wvlFR06EuOwgwl?wnSwe7wvlOwwsAwwnSGmwvh0";
        let bits = Bits::new(payload.as_bytes(), 0);
        let Application::MetHydro(m) = decode(&bits, 56, 1, 31, false) else { panic!("met-hydro") };
        assert_eq!(m.fid, 31);
        assert!((m.lat.unwrap() - 53.2949).abs() < 1e-4 && (m.lon.unwrap() + 6.1341).abs() < 1e-4);
        assert_eq!((m.day, m.hour, m.minute), (Some(29), Some(23), Some(24)));
        assert_eq!((m.wspeed, m.wdir, m.airtemp, m.humidity, m.pressure), (None, None, None, None, None));
        assert_eq!(
            (m.visibility, m.waterlevel, m.waveheight, m.seastate, m.salinity),
            (None, None, None, None, None)
        );
    }

    #[test]
    fn fid31_water_level_below_datum_is_signed_but_rendered_wrapped_as_gpsd() {
        use super::super::tests::armor;
        // FID 31 with raw water level 900 (−1.00 m); other fields zero.
        let mut fields = vec![(8, 6), (0, 2), (1, 30), (0, 2), (1, 10), (31, 6), (0, 145)];
        fields.extend([(900, 12), (0, 150)]);
        let (payload, fill) = armor(&fields);
        let bits = Bits::new(payload.as_bytes(), fill);
        let Application::MetHydro(m) = decode(&bits, 56, 1, 31, false) else { panic!("met-hydro") };
        assert_eq!(m.waterlevel, Some(-1.0));
        // gpsd 3.22: ((unsigned) 900 - 1000) / 100.0
        assert!(render(&payload, fill).contains(r#""waterlevel":42949672.0,"#));
    }
}
