use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::rejection::{RejectClass, Rejection, ValidationRules, out_of_range};

/// One observation from a weather station: a shore station publishing JSON or
/// Avro, or an AIS base station or buoy sending a type 8 meteorological and
/// hydrographic report (DAC 1, FID 31).
///
/// A station is located by position, by the name of the port zone it
/// serves, or both. Units are the ones mariners use: knots for wind,
/// nautical miles for visibility, metres for waves, hectopascals for pressure.
/// Every measurement is optional because stations carry different sensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WeatherObservation {
    /// Station identifier (for AIS reports, the sender's MMSI as text).
    pub station: String,
    /// When the observation was made.
    pub timestamp: DateTime<Utc>,
    /// Station latitude, degrees WGS 84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Station longitude, degrees WGS 84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// The port zone the station reports for, when it is not located by position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Mean wind speed, knots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wind_speed_kn: Option<f32>,
    /// Gust speed, knots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wind_gust_kn: Option<f32>,
    /// Direction the wind blows from, degrees true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wind_direction_deg: Option<u16>,
    /// Horizontal visibility, nautical miles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_nm: Option<f32>,
    /// Significant wave height, metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave_height_m: Option<f32>,
    /// Air pressure at sea level, hPa.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure_hpa: Option<f32>,
    /// Air temperature, degrees Celsius.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub air_temperature_c: Option<f32>,
}

impl WeatherObservation {
    /// Checks every field against `rules`, with `now` as the receive time.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        if self.station.is_empty() || self.station.len() > 64 {
            return Err(out_of_range("station must be 1..=64 bytes".to_owned()));
        }
        rules.check_timestamp(self.timestamp, now)?;
        match (self.lat, self.lon, &self.zone) {
            (None, None, None) => {
                return Err(out_of_range("an observation needs a position (lat, lon) or a zone".to_owned()));
            }
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(out_of_range("lat and lon come together".to_owned()));
            }
            _ => {}
        }
        if let Some(lat) = self.lat
            && !(-90.0..=90.0).contains(&lat)
        {
            return Err(Rejection::new(RejectClass::LatOutOfRange, format!("lat {lat} is outside -90..=90")));
        }
        if let Some(lon) = self.lon
            && !(-180.0..=180.0).contains(&lon)
        {
            return Err(Rejection::new(
                RejectClass::LonOutOfRange,
                format!("lon {lon} is outside -180..=180"),
            ));
        }
        let ranges: [(&str, Option<f32>, f32, f32); 7] = [
            ("wind_speed_kn", self.wind_speed_kn, 0.0, 250.0),
            ("wind_gust_kn", self.wind_gust_kn, 0.0, 250.0),
            ("wind_direction_deg", self.wind_direction_deg.map(f32::from), 0.0, 360.0),
            ("visibility_nm", self.visibility_nm, 0.0, 100.0),
            ("wave_height_m", self.wave_height_m, 0.0, 30.0),
            ("pressure_hpa", self.pressure_hpa, 800.0, 1100.0),
            ("air_temperature_c", self.air_temperature_c, -60.0, 60.0),
        ];
        for (name, value, min, max) in ranges {
            if let Some(v) = value
                && !(min..=max).contains(&v)
            {
                return Err(out_of_range(format!("{name} {v} is outside {min}..={max}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn sample() -> WeatherObservation {
        WeatherObservation {
            station: "hoek-van-holland".into(),
            timestamp: now(),
            zone: Some("maasmond".into()),
            wind_speed_kn: Some(22.0),
            wind_gust_kn: Some(31.0),
            wind_direction_deg: Some(250),
            visibility_nm: Some(4.5),
            ..Default::default()
        }
    }

    #[test]
    fn validation() {
        let rules = ValidationRules::default();
        assert!(sample().validate(&rules, now()).is_ok());
        let located = WeatherObservation { zone: None, lat: Some(51.98), lon: Some(4.1), ..sample() };
        assert!(located.validate(&rules, now()).is_ok());
        for bad in [
            WeatherObservation { zone: None, ..sample() },
            WeatherObservation { lat: Some(51.0), ..sample() },
            WeatherObservation { wind_gust_kn: Some(-1.0), ..sample() },
            WeatherObservation { pressure_hpa: Some(200.0), ..sample() },
            WeatherObservation { visibility_nm: Some(f32::NAN), ..sample() },
            WeatherObservation { station: String::new(), ..sample() },
        ] {
            assert_eq!(
                bad.validate(&rules, now()).unwrap_err().class,
                RejectClass::FieldOutOfRange,
                "{bad:?}"
            );
        }
    }
}
