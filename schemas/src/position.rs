use chrono::{DateTime, Utc};
use serde::Serialize;

mod de;

use crate::rejection::{RejectClass, Rejection, ValidationRules};

/// An AIS-style vessel position report (message types 1/2/3, 18, 19 and their
/// JSON equivalent).
///
/// Units follow AIS after scaling: degrees (WGS 84) for `lat`/`lon`, knots for
/// `sog`, degrees true for `cog` and `heading`. Optional fields are `None`
/// when the sender did not have them; AIS "not available" sentinels (SOG
/// 102.3, COG 360, heading 511) are mapped to `None` by [`Position::normalize`].
///
/// Read by a hand-written `Deserialize` (`position/de.rs`): unknown fields
/// are refused, the optional ones may be absent or `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Position {
    /// Maritime Mobile Service Identity: nine decimal digits.
    pub mmsi: u32,
    /// When the position was observed (event time), RFC 3339 on the wire.
    // Read by a fast path for the usual shape, chrono's parser otherwise
    // (`time.rs`): one of the larger costs of decoding a JSON position.
    pub timestamp: DateTime<Utc>,
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
    /// Speed over ground in knots, 0..=102.2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sog: Option<f32>,
    /// Course over ground in degrees true, 0..360.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cog: Option<f32>,
    /// True heading in degrees, 0..=359.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading: Option<u16>,
    /// AIS navigational status code, 0..=15 (see [`NavStatus`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nav_status: Option<u8>,
}

/// AIS navigational status (ITU-R M.1371 table 45), as reported by the vessel.
///
/// PortTrack's processors derive movement from speed and dwell rather than
/// trusting this field; it is kept for display and for anomaly rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u8)]
pub enum NavStatus {
    /// Under way using engine.
    UnderWayUsingEngine = 0,
    /// At anchor.
    AtAnchor = 1,
    /// Not under command.
    NotUnderCommand = 2,
    /// Restricted manoeuvrability.
    RestrictedManoeuvrability = 3,
    /// Constrained by her draught.
    ConstrainedByDraught = 4,
    /// Moored.
    Moored = 5,
    /// Aground.
    Aground = 6,
    /// Engaged in fishing.
    Fishing = 7,
    /// Under way sailing.
    UnderWaySailing = 8,
    /// Not defined (the default).
    NotDefined = 15,
}

impl NavStatus {
    /// The wire code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Refuses an MMSI that is not nine decimal digits.
pub(crate) fn check_mmsi(mmsi: u32) -> Result<(), Rejection> {
    if !(100_000_000..=999_999_999).contains(&mmsi) {
        return Err(Rejection::new(RejectClass::MmsiInvalid, format!("mmsi {mmsi} is not nine digits")));
    }
    Ok(())
}

/// AIS "speed not available".
const SOG_NOT_AVAILABLE: f32 = 102.3;
/// AIS "course not available".
const COG_NOT_AVAILABLE: f32 = 360.0;
/// AIS "heading not available".
const HEADING_NOT_AVAILABLE: u16 = 511;

impl Position {
    /// Checks every field against `rules`, with `now` as the receive time used
    /// to judge the timestamp. Returns the first violation found.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        check_mmsi(self.mmsi)?;
        if !(-90.0..=90.0).contains(&self.lat) {
            return Err(Rejection::new(
                RejectClass::LatOutOfRange,
                format!("lat {} is outside -90..=90", self.lat),
            ));
        }
        if !(-180.0..=180.0).contains(&self.lon) {
            return Err(Rejection::new(
                RejectClass::LonOutOfRange,
                format!("lon {} is outside -180..=180", self.lon),
            ));
        }
        rules.check_timestamp(self.timestamp, now)?;
        if let Some(sog) = self.sog {
            // 102.3 is AIS "not available"; anything else above 102.2 is garbage.
            if !(0.0..=102.2).contains(&sog) && sog != SOG_NOT_AVAILABLE {
                return Err(Rejection::new(
                    RejectClass::FieldOutOfRange,
                    format!("sog {sog} is outside 0..=102.2 knots"),
                ));
            }
        }
        if let Some(cog) = self.cog
            && !(0.0..=COG_NOT_AVAILABLE).contains(&cog)
        {
            return Err(Rejection::new(
                RejectClass::FieldOutOfRange,
                format!("cog {cog} is outside 0..360 degrees"),
            ));
        }
        if let Some(heading) = self.heading
            && heading > 359
            && heading != HEADING_NOT_AVAILABLE
        {
            return Err(Rejection::new(
                RejectClass::FieldOutOfRange,
                format!("heading {heading} is outside 0..=359 degrees"),
            ));
        }
        if let Some(status) = self.nav_status
            && status > 15
        {
            return Err(Rejection::new(
                RejectClass::FieldOutOfRange,
                format!("nav_status {status} is outside 0..=15"),
            ));
        }
        Ok(())
    }

    /// Maps AIS "not available" sentinels to `None`.
    #[must_use]
    pub fn normalize(mut self) -> Self {
        if self.sog == Some(SOG_NOT_AVAILABLE) {
            self.sog = None;
        }
        if self.cog == Some(COG_NOT_AVAILABLE) {
            self.cog = None;
        }
        if self.heading == Some(HEADING_NOT_AVAILABLE) {
            self.heading = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn valid() -> Position {
        Position {
            mmsi: 244_123_456,
            timestamp: now() - chrono::Duration::seconds(5),
            lat: 51.95,
            lon: 4.05,
            sog: Some(12.3),
            cog: Some(87.5),
            heading: Some(88),
            nav_status: Some(0),
        }
    }

    fn class_of(p: &Position) -> Option<RejectClass> {
        p.validate(&ValidationRules::default(), now()).err().map(|r| r.class)
    }

    #[test]
    fn accepts_a_plain_report() {
        assert_eq!(class_of(&valid()), None);
    }

    #[test]
    fn rejects_each_invalid_field_with_its_class() {
        let cases: Vec<(Position, RejectClass)> = vec![
            (Position { mmsi: 24_412_345, ..valid() }, RejectClass::MmsiInvalid),
            (Position { mmsi: 1_000_000_000, ..valid() }, RejectClass::MmsiInvalid),
            (Position { lat: 91.0, ..valid() }, RejectClass::LatOutOfRange),
            (Position { lat: f64::NAN, ..valid() }, RejectClass::LatOutOfRange),
            (Position { lon: -180.5, ..valid() }, RejectClass::LonOutOfRange),
            (Position { sog: Some(150.0), ..valid() }, RejectClass::FieldOutOfRange),
            (Position { cog: Some(361.0), ..valid() }, RejectClass::FieldOutOfRange),
            (Position { heading: Some(400), ..valid() }, RejectClass::FieldOutOfRange),
            (Position { nav_status: Some(16), ..valid() }, RejectClass::FieldOutOfRange),
            (
                Position { timestamp: Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(), ..valid() },
                RejectClass::TimestampAbsurd,
            ),
            (
                Position { timestamp: now() + chrono::Duration::hours(1), ..valid() },
                RejectClass::TimestampAbsurd,
            ),
        ];
        for (position, class) in cases {
            assert_eq!(class_of(&position), Some(class), "{position:?}");
        }
    }

    #[test]
    fn not_available_sentinels_are_accepted_and_normalized_away() {
        let p = Position { sog: Some(102.3), cog: Some(360.0), heading: Some(511), ..valid() };
        assert_eq!(class_of(&p), None);
        let n = p.normalize();
        assert_eq!((n.sog, n.cog, n.heading), (None, None, None));
    }

    #[test]
    fn wire_format_round_trips_and_optional_fields_may_be_absent() {
        let json = r#"{"mmsi":244123456,"timestamp":"2026-11-22T11:59:55Z","lat":51.95,"lon":4.05}"#;
        let p: Position = serde_json::from_str(json).unwrap();
        assert_eq!(p.sog, None);
        assert_eq!(serde_json::to_string(&p).unwrap(), json);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"mmsi":244123456,"timestamp":"2026-11-22T11:59:55Z","lat":1,"lon":2,"speed":3}"#;
        assert!(serde_json::from_str::<Position>(json).is_err());
    }
}
