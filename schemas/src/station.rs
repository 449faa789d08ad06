use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checks::{check_identity, check_len, check_optional_position, check_ranges};
use crate::rejection::{Rejection, ValidationRules};

/// What kind of fixed (or clock-reporting) station a [`StationReport`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StationKind {
    /// AIS type 4: a base (coast) station's report, with its UTC clock.
    #[default]
    BaseStation,
    /// AIS type 11: the UTC/date response a station (often a ship) sends
    /// to a type 10 inquiry. Same layout as type 4, but not necessarily a
    /// base station, so kept apart: a map of stations filters it out.
    UtcResponse,
    /// AIS type 21: an aid to navigation (buoy, beacon, light; real or virtual).
    AidToNavigation,
}

impl StationKind {
    /// The stable snake_case name (tables, documents).
    pub fn as_str(self) -> &'static str {
        match self {
            StationKind::BaseStation => "base_station",
            StationKind::UtcResponse => "utc_response",
            StationKind::AidToNavigation => "aid_to_navigation",
        }
    }
}

/// A base station, UTC response or aid-to-navigation report (AIS types 4,
/// 11 and 21).
///
/// They describe no vessel, but the port keeps them: base stations show
/// which receivers and repeaters cover the port (and their clocks), aids to
/// navigation are the buoys and beacons of the fairway, with an
/// off-position flag a duty officer must see. Sinks keep the latest state
/// per MMSI, guarded by event time, and the history by Kafka coordinates.
///
/// Dimensions (type 21) are metres from the reference point, as for
/// [`VesselStatic`](crate::VesselStatic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StationReport {
    /// The station's MMSI (base stations `00MIDxxxx`, aids to navigation `99MIDxxxx`).
    pub mmsi: u32,
    /// When the report was received (event time).
    pub timestamp: DateTime<Utc>,
    /// Base station, UTC response or aid to navigation.
    pub kind: StationKind,
    /// Latitude, degrees WGS 84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, degrees WGS 84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Type 21: name of the aid, with its name extension appended (≤ 34 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Type 21: type of aid, 0..=31 (ITU-R M.1371 table 74: 1 reference point,
    /// 5 light without sectors, 20–27 cardinal and lateral beacons…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aid_type: Option<u8>,
    /// Type 21: a virtual aid (broadcast only, nothing physical at the position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_aid: Option<bool>,
    /// Type 21: the floating aid is off its charted position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_position: Option<bool>,
    /// Type of position fixing device, 0..=15 (1 GPS, 7 surveyed, 15 internal GNSS…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epfd: Option<u8>,
    /// Metres from the reference point to the bow (dimension A).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_bow: Option<u16>,
    /// Metres to the stern (B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_stern: Option<u16>,
    /// Metres to port (C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<u16>,
    /// Metres to starboard (D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_starboard: Option<u16>,
    /// Types 4 and 11: the station's own UTC clock, when it reports a valid
    /// date and time (a drifting clock is data, not an error: not validated
    /// against the receive time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_time: Option<DateTime<Utc>>,
}

impl StationReport {
    /// Checks every field against `rules`, with `now` as the receive time.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        check_identity("mmsi", self.mmsi)?;
        rules.check_timestamp(self.timestamp, now)?;
        check_optional_position(self.lat, self.lon)?;
        check_len("name", self.name.as_deref(), 34)?;
        check_ranges(&[
            ("aid_type", self.aid_type.map(f64::from), 0.0, 31.0),
            ("epfd", self.epfd.map(f64::from), 0.0, 15.0),
            ("to_bow", self.to_bow.map(f64::from), 0.0, 511.0),
            ("to_stern", self.to_stern.map(f64::from), 0.0, 511.0),
            ("to_port", self.to_port.map(f64::from), 0.0, 63.0),
            ("to_starboard", self.to_starboard.map(f64::from), 0.0, 63.0),
        ])
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

    fn buoy() -> StationReport {
        StationReport {
            mmsi: 992_446_001,
            timestamp: now(),
            kind: StationKind::AidToNavigation,
            lat: Some(51.98),
            lon: Some(4.05),
            name: Some("MAAS CENTER".into()),
            aid_type: Some(22),
            virtual_aid: Some(false),
            off_position: Some(false),
            epfd: Some(7),
            to_bow: Some(1),
            to_stern: Some(1),
            to_port: Some(1),
            to_starboard: Some(1),
            station_time: None,
        }
    }

    #[test]
    fn aids_and_coast_stations_are_valid() {
        let rules = ValidationRules::default();
        assert!(buoy().validate(&rules, now()).is_ok());
        let base = StationReport {
            mmsi: 2_442_000,
            timestamp: now(),
            kind: StationKind::BaseStation,
            lat: Some(51.9),
            lon: Some(4.1),
            station_time: Some(now()),
            ..Default::default()
        };
        assert!(base.validate(&rules, now()).is_ok());
        assert!(StationReport { lat: None, lon: None, ..base }.validate(&rules, now()).is_ok());
    }

    #[test]
    fn validation_refuses_out_of_range_fields() {
        let rules = ValidationRules::default();
        for bad in [
            StationReport { aid_type: Some(32), ..buoy() },
            StationReport { name: Some("N".repeat(35)), ..buoy() },
            StationReport { lon: None, ..buoy() },
            StationReport { to_port: Some(64), ..buoy() },
        ] {
            assert_eq!(
                bad.validate(&rules, now()).unwrap_err().class,
                RejectClass::FieldOutOfRange,
                "{bad:?}"
            );
        }
        let far = StationReport { lat: Some(91.0), ..buoy() };
        assert_eq!(far.validate(&rules, now()).unwrap_err().class, RejectClass::LatOutOfRange);
        assert_eq!(
            StationReport { mmsi: 0, ..buoy() }.validate(&rules, now()).unwrap_err().class,
            RejectClass::MmsiInvalid
        );
    }

    #[test]
    fn kinds_serialise_as_their_stable_names() {
        for kind in [StationKind::BaseStation, StationKind::UtcResponse, StationKind::AidToNavigation] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
