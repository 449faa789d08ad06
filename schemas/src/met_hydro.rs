use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::checks::{check_identity, check_optional_position, check_ranges};
use crate::rejection::{Rejection, ValidationRules, out_of_range};

/// A meteorological and hydrological report from an AIS station: a binary
/// application of AIS type 8 (or 6), DAC 1 FID 31 (IMO SN.1/Circ.289) or
/// FID 11 (its predecessor, IMO SN/Circ.236), or any other met-hydro
/// application the decoder knows.
///
/// The main measurements are typed fields (units as in
/// [`WeatherObservation`](crate::WeatherObservation): knots, nautical miles,
/// metres, hPa, °C); `None` where the station reports "not available".
/// `details` holds the whole application as `gpsdecode -j` prints it
/// (gpsd's key names, its not-available sentinels and text legends, e.g.
/// `"cdepth2":31`, `"preciptype":"rain"`), so nothing gpsd decodes is lost,
/// currents at depth included. The decoder also emits a
/// [`WeatherObservation`](crate::WeatherObservation) from the same message
/// for the weather processor and its alerts.
///
/// Identity: the record's Kafka coordinates (one AIS message, one report).
/// `timestamp` is the receive time; the report's own day, hour and minute
/// (no month or year on the air) are kept as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MetHydroObservation {
    /// The reporting station's MMSI.
    pub mmsi: u32,
    /// When the report was received (event time).
    pub timestamp: DateTime<Utc>,
    /// Designated area code of the application (1: international).
    pub dac: u16,
    /// Function identifier of the application (31, or 11 for the older format).
    pub fid: u8,
    /// Station latitude, degrees WGS 84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Station longitude, degrees WGS 84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Day of month of the observation, as the station sent it (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_day: Option<u8>,
    /// Hour of the observation (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_hour: Option<u8>,
    /// Minute of the observation (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_minute: Option<u8>,
    /// Average wind speed, knots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wind_speed_kn: Option<f32>,
    /// Gust speed, knots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wind_gust_kn: Option<f32>,
    /// Direction the wind blows from, degrees true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wind_direction_deg: Option<u16>,
    /// Direction of the gusts, degrees true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wind_gust_direction_deg: Option<u16>,
    /// Air temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub air_temperature_c: Option<f32>,
    /// Relative humidity, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub humidity_pct: Option<u8>,
    /// Dew point, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dew_point_c: Option<f32>,
    /// Air pressure, hPa.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure_hpa: Option<f32>,
    /// Pressure tendency, AIS code: 0 steady, 1 decreasing, 2 increasing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure_tendency: Option<u8>,
    /// Horizontal visibility, nautical miles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_nm: Option<f32>,
    /// Visibility is greater than `visibility_nm` (the top of the scale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_greater: Option<bool>,
    /// Water level (deviation from the local chart datum), metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_level_m: Option<f32>,
    /// Water level trend, AIS code: 0 steady, 1 decreasing, 2 increasing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_level_trend: Option<u8>,
    /// Surface current speed, knots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_speed_kn: Option<f32>,
    /// Surface current direction (towards), degrees true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_direction_deg: Option<u16>,
    /// Significant wave height, metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave_height_m: Option<f32>,
    /// Wave period, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave_period_s: Option<u8>,
    /// Wave direction, degrees true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave_direction_deg: Option<u16>,
    /// Swell height, metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swell_height_m: Option<f32>,
    /// Swell period, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swell_period_s: Option<u8>,
    /// Swell direction, degrees true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swell_direction_deg: Option<u16>,
    /// Sea state, Beaufort scale 0..=12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sea_state: Option<u8>,
    /// Water temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_temperature_c: Option<f32>,
    /// Precipitation type, WMO 306 code table 4.201 (1 rain, 2 thunderstorm,
    /// 3 freezing rain, 4 mixed/ice, 5 snow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precipitation_type: Option<u8>,
    /// Salinity, ‰.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salinity_permille: Option<f32>,
    /// Ice: 0 no, 1 yes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ice: Option<u8>,
    /// The whole application as `gpsdecode -j` prints it (flat: numbers,
    /// strings, booleans), without the envelope (`class`, `type`, `repeat`,
    /// `mmsi`, `scaled`, `dac`, `fid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
}

/// Every optional measurement with its valid range, written once: `validate`
/// refuses a value outside it, `blank_invalid` clears it. `$each` is a macro
/// taking the list.
macro_rules! measurements {
    ($each:ident) => {
        $each! {
            report_day: 1.0..=31.0,
            report_hour: 0.0..=23.0,
            report_minute: 0.0..=59.0,
            wind_speed_kn: 0.0..=250.0,
            wind_gust_kn: 0.0..=250.0,
            wind_direction_deg: 0.0..=360.0,
            wind_gust_direction_deg: 0.0..=360.0,
            air_temperature_c: -60.0..=60.0,
            humidity_pct: 0.0..=100.0,
            dew_point_c: -60.0..=60.0,
            pressure_hpa: 790.0..=1210.0,
            pressure_tendency: 0.0..=2.0,
            visibility_nm: 0.0..=100.0,
            water_level_m: -30.0..=50.0,
            water_level_trend: 0.0..=2.0,
            current_speed_kn: 0.0..=30.0,
            current_direction_deg: 0.0..=360.0,
            wave_height_m: 0.0..=30.0,
            wave_period_s: 0.0..=63.0,
            wave_direction_deg: 0.0..=360.0,
            swell_height_m: 0.0..=30.0,
            swell_period_s: 0.0..=63.0,
            swell_direction_deg: 0.0..=360.0,
            sea_state: 0.0..=12.0,
            water_temperature_c: -10.0..=50.0,
            precipitation_type: 0.0..=7.0,
            salinity_permille: 0.0..=60.0,
            ice: 0.0..=1.0,
        }
    };
}

impl MetHydroObservation {
    /// Most keys `details` may hold (gpsd prints about 40 for FID 31).
    pub const MAX_DETAILS: usize = 96;

    /// Clears the measurements outside their valid range, for reports decoded
    /// from AIS: a 7-bit humidity field can hold 127, a 9-bit direction 511
    /// (codes gpsd prints as they come), and one unusable measurement must not
    /// refuse the whole observation. `details` keeps what was sent.
    pub fn blank_invalid(&mut self) {
        macro_rules! clear {
            ($($field:ident: $min:literal..=$max:literal,)*) => {$(
                if self.$field.is_some_and(|v| !($min..=$max).contains(&f64::from(v))) {
                    self.$field = None;
                }
            )*};
        }
        measurements!(clear);
    }

    /// Checks every field against `rules`, with `now` as the receive time.
    ///
    /// The ranges are those the AIS fields can express (wind up to 126 kn,
    /// pressure 800–1200 hPa, water level −10..+30 m…), so a report is only
    /// refused for values no station can send.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        check_identity("mmsi", self.mmsi)?;
        rules.check_timestamp(self.timestamp, now)?;
        check_optional_position(self.lat, self.lon)?;
        check_ranges(&[
            ("dac", Some(f64::from(self.dac)), 0.0, 1023.0),
            ("fid", Some(f64::from(self.fid)), 0.0, 63.0),
        ])?;
        macro_rules! check {
            ($($field:ident: $min:literal..=$max:literal,)*) => {
                check_ranges(&[$((stringify!($field), self.$field.map(f64::from), $min, $max)),*])?
            };
        }
        measurements!(check);
        if let Some(details) = &self.details {
            if details.len() > Self::MAX_DETAILS {
                return Err(out_of_range(format!("details has more than {} keys", Self::MAX_DETAILS)));
            }
            for (key, value) in details {
                let scalar = match value {
                    Value::Null | Value::Bool(_) | Value::Number(_) => true,
                    Value::String(s) => s.len() <= 256,
                    Value::Array(_) | Value::Object(_) => false,
                };
                if !scalar || key.is_empty() || key.len() > 64 {
                    return Err(out_of_range(format!("details.{key} is not a short scalar")));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectClass;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn sample() -> MetHydroObservation {
        let details =
            serde_json::json!({"wspeed": 22, "preciptype": "rain", "visgreater": false, "cdepth2": 31});
        MetHydroObservation {
            mmsi: 2_442_011,
            timestamp: now(),
            dac: 1,
            fid: 31,
            lat: Some(51.98),
            lon: Some(4.05),
            report_day: Some(22),
            report_hour: Some(11),
            report_minute: Some(50),
            wind_speed_kn: Some(22.0),
            pressure_hpa: Some(1004.0),
            water_level_m: Some(-0.4),
            details: details.as_object().cloned(),
            ..Default::default()
        }
    }

    #[test]
    fn a_station_report_with_details_is_valid() {
        let rules = ValidationRules::default();
        assert!(sample().validate(&rules, now()).is_ok());
        let bare =
            MetHydroObservation { mmsi: 2_442_011, timestamp: now(), dac: 1, fid: 11, ..Default::default() };
        assert!(bare.validate(&rules, now()).is_ok(), "no position, no measurement: still a report");
    }

    #[test]
    fn validation_refuses_values_no_station_sends() {
        let rules = ValidationRules::default();
        let nested = serde_json::json!({"a": {"b": 1}});
        for bad in [
            MetHydroObservation { wind_speed_kn: Some(-1.0), ..sample() },
            MetHydroObservation { pressure_hpa: Some(f32::NAN), ..sample() },
            MetHydroObservation { report_hour: Some(24), ..sample() },
            MetHydroObservation { fid: 64, ..sample() },
            MetHydroObservation { lon: None, ..sample() },
            MetHydroObservation { details: nested.as_object().cloned(), ..sample() },
        ] {
            assert_eq!(
                bad.validate(&rules, now()).unwrap_err().class,
                RejectClass::FieldOutOfRange,
                "{bad:?}"
            );
        }
    }
}
