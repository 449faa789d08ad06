//! JSON payloads to validated events.
//!
//! ```
//! use chrono::Utc;
//! use porttrack_ingest::decode::decode_position_json;
//! use porttrack_schemas::{RejectClass, ValidationRules};
//!
//! let rules = ValidationRules::default();
//! let err = decode_position_json(b"{\"mmsi\": 1", &rules, Utc::now()).unwrap_err();
//! assert_eq!(err.class, RejectClass::MalformedJson);
//! ```

use chrono::{DateTime, Utc};
use porttrack_schemas::{
    CargoEvent, Event, PortOpsEvent, Position, RejectClass, Rejection, ValidationRules, VesselStatic,
    WeatherObservation,
};
use serde::de::DeserializeOwned;

use crate::config::EventName;

/// Decodes and validates one JSON document of kind `kind`.
///
/// `now` is the receive time against which the event time is judged.
pub fn decode(
    kind: EventName,
    payload: &[u8],
    rules: &ValidationRules,
    now: DateTime<Utc>,
) -> Result<Event, Rejection> {
    let event = match kind {
        EventName::Position => Event::Position(parse::<Position>(payload, "position report")?),
        EventName::Static => Event::Static(parse::<Box<VesselStatic>>(payload, "static/voyage report")?),
        EventName::Weather => {
            Event::Weather(parse::<Box<WeatherObservation>>(payload, "weather observation")?)
        }
        EventName::Cargo => Event::Cargo(parse::<Box<CargoEvent>>(payload, "cargo event")?),
        EventName::PortOps => Event::PortOps(parse::<Box<PortOpsEvent>>(payload, "port operations event")?),
    };
    event.validate(rules, now)?;
    Ok(normalize(event))
}

fn parse<T: DeserializeOwned>(payload: &[u8], what: &str) -> Result<T, Rejection> {
    serde_json::from_slice(payload)
        .map_err(|e| Rejection::new(RejectClass::MalformedJson, format!("not a {what}: {e}")))
}

/// Maps wire sentinels to their meaning (AIS "not available" values to `None`).
pub fn normalize(event: Event) -> Event {
    match event {
        Event::Position(p) => Event::Position(p.normalize()),
        other => other,
    }
}

/// Decodes and validates one JSON position report.
///
/// `now` is the receive time against which the event time is judged.
pub fn decode_position_json(
    payload: &[u8],
    rules: &ValidationRules,
    now: DateTime<Utc>,
) -> Result<Position, Rejection> {
    let position: Position = serde_json::from_slice(payload)
        .map_err(|e| Rejection::new(RejectClass::MalformedJson, format!("not a position report: {e}")))?;
    position.validate(rules, now)?;
    Ok(position.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_valid_report_decodes() {
        let json = format!(
            r#"{{"mmsi":244123456,"timestamp":"{}","lat":51.95,"lon":4.05,"sog":102.3}}"#,
            Utc::now().to_rfc3339()
        );
        let p = decode_position_json(json.as_bytes(), &ValidationRules::default(), Utc::now()).unwrap();
        assert_eq!(p.sog, None, "not-available speed is normalised");
    }

    #[test]
    fn each_bad_input_gets_its_class() {
        let now = Utc::now();
        let ts = now.to_rfc3339();
        let cases = [
            (String::from("not json"), RejectClass::MalformedJson),
            (String::new(), RejectClass::MalformedJson),
            (
                format!(r#"{{"mmsi":"244123456","timestamp":"{ts}","lat":1,"lon":1}}"#),
                RejectClass::MalformedJson,
            ),
            (format!(r#"{{"mmsi":24412345,"timestamp":"{ts}","lat":1,"lon":1}}"#), RejectClass::MmsiInvalid),
            (
                format!(r#"{{"mmsi":244123456,"timestamp":"{ts}","lat":-91,"lon":1}}"#),
                RejectClass::LatOutOfRange,
            ),
            (
                format!(r#"{{"mmsi":244123456,"timestamp":"{ts}","lat":1,"lon":181}}"#),
                RejectClass::LonOutOfRange,
            ),
            (
                r#"{"mmsi":244123456,"timestamp":"1999-12-31T23:59:59Z","lat":1,"lon":1}"#.into(),
                RejectClass::TimestampAbsurd,
            ),
        ];
        for (input, class) in cases {
            let got = decode_position_json(input.as_bytes(), &ValidationRules::default(), now);
            assert_eq!(got.map_err(|r| r.class).err(), Some(class), "{input}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_position_json(&bytes, &ValidationRules::default(), Utc::now());
        }

        #[test]
        fn valid_reports_round_trip(
            mmsi in 100_000_000_u32..=999_999_999,
            lat in -90.0_f64..=90.0,
            lon in -180.0_f64..=180.0,
            sog in proptest::option::of(0.0_f32..=102.2),
            heading in proptest::option::of(0_u16..=359),
        ) {
            let now = Utc::now();
            let p = Position { mmsi, timestamp: now, lat, lon, sog, cog: None, heading, nav_status: Some(0) };
            let bytes = serde_json::to_vec(&p).unwrap();
            let back = decode_position_json(&bytes, &ValidationRules::default(), now).unwrap();
            prop_assert_eq!(back, p);
        }
    }
}
