//! Reading a [`Position`] off the wire: serde's `Deserialize`, written out.
//!
//! What the derive did (`deny_unknown_fields`, the four required fields,
//! the optional ones absent or `null` as `None`), with the same error
//! messages, except that it also took a position as an array of its
//! fields, which no sender writes and this refuses.
//!
//! Why by hand: every JSON position goes through here, and decoding is the
//! largest share of the source thread. The derive names a field by
//! matching the key as a `&str`, which serde_json checks as UTF-8 first,
//! nine times per position with the timestamp. Here keys are matched as
//! bytes (`deserialize_bytes`, which serde_json serves without the check;
//! formats without bytes hand over a `&str` as before). In a throwaway
//! comparison on 10,000 simulator-shaped positions (minimum of five rounds
//! per process, five processes each), the derive took 459–734 ns per
//! position and this 397–592 ns. `agrees_with_the_derive` (below) holds the
//! two to the same answers on arbitrary objects.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::Position;

/// The wire names, in the struct's order (also the "expected one of" list
/// of an unknown field's error).
const FIELDS: &[&str] = &["mmsi", "timestamp", "lat", "lon", "sog", "cog", "heading", "nav_status"];

enum Field {
    Mmsi,
    Timestamp,
    Lat,
    Lon,
    Sog,
    Cog,
    Heading,
    NavStatus,
}

struct FieldVisitor;

impl Visitor<'_> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Field, E> {
        Ok(match key {
            b"mmsi" => Field::Mmsi,
            b"timestamp" => Field::Timestamp,
            b"lat" => Field::Lat,
            b"lon" => Field::Lon,
            b"sog" => Field::Sog,
            b"cog" => Field::Cog,
            b"heading" => Field::Heading,
            b"nav_status" => Field::NavStatus,
            other => return Err(E::unknown_field(&String::from_utf8_lossy(other), FIELDS)),
        })
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
        self.visit_bytes(key.as_bytes())
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        d.deserialize_bytes(FieldVisitor)
    }
}

/// The timestamp through [`crate::time`]'s reader.
struct Timestamp(chrono::DateTime<chrono::Utc>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        crate::time::deserialize(d).map(Timestamp)
    }
}

struct PositionVisitor;

/// Reads the value of field `name` into `slot`, refusing a field seen
/// before (before its value is read, as the derive does: a repeated key is
/// the error, whatever its value).
fn read<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Visitor<'de> for PositionVisitor {
    type Value = Position;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct Position")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Position, A::Error> {
        let (mut mmsi, mut timestamp, mut lat, mut lon) = (None, None::<Timestamp>, None, None);
        let (mut sog, mut cog, mut heading, mut nav_status) = (None, None, None, None);
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Mmsi => read(&mut map, &mut mmsi, "mmsi")?,
                Field::Timestamp => read(&mut map, &mut timestamp, "timestamp")?,
                Field::Lat => read(&mut map, &mut lat, "lat")?,
                Field::Lon => read(&mut map, &mut lon, "lon")?,
                Field::Sog => read(&mut map, &mut sog, "sog")?,
                Field::Cog => read(&mut map, &mut cog, "cog")?,
                Field::Heading => read(&mut map, &mut heading, "heading")?,
                Field::NavStatus => read(&mut map, &mut nav_status, "nav_status")?,
            }
        }
        Ok(Position {
            mmsi: mmsi.ok_or_else(|| de::Error::missing_field("mmsi"))?,
            timestamp: timestamp.ok_or_else(|| de::Error::missing_field("timestamp"))?.0,
            lat: lat.ok_or_else(|| de::Error::missing_field("lat"))?,
            lon: lon.ok_or_else(|| de::Error::missing_field("lon"))?,
            sog: sog.flatten(),
            cog: cog.flatten(),
            heading: heading.flatten(),
            nav_status: nav_status.flatten(),
        })
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Position, D::Error> {
        d.deserialize_struct("Position", FIELDS, PositionVisitor)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::Position;

    /// The derive this replaced, field for field.
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Derived {
        mmsi: u32,
        #[serde(deserialize_with = "crate::time::deserialize")]
        timestamp: DateTime<Utc>,
        lat: f64,
        lon: f64,
        #[serde(default)]
        sog: Option<f32>,
        #[serde(default)]
        cog: Option<f32>,
        #[serde(default)]
        heading: Option<u16>,
        #[serde(default)]
        nav_status: Option<u8>,
    }

    fn same(p: &Position, d: &Derived) -> bool {
        (p.mmsi, p.timestamp, p.lat, p.lon, p.sog, p.cog, p.heading, p.nav_status)
            == (d.mmsi, d.timestamp, d.lat, d.lon, d.sog, d.cog, d.heading, d.nav_status)
    }

    /// A key: each field's, an unknown one, or one with an escape.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(super::FIELDS.to_vec()).prop_map(str::to_owned),
            Just("speed".to_owned()),
            Just("m\\u006dsi".to_owned()),
        ]
    }

    /// A value of any kind a sender might put there, right or wrong.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("null".to_owned()),
            Just("\"2026-11-22T11:59:55.123Z\"".to_owned()),
            Just("\"2026-11-22T11:59:55+02:00\"".to_owned()),
            Just("\"yesterday\"".to_owned()),
            Just("[1,2]".to_owned()),
            Just("{}".to_owned()),
            (0_u64..5_000_000_000).prop_map(|n| n.to_string()),
            (-1000.0_f64..1000.0).prop_map(|x| x.to_string()),
            Just("-1".to_owned()),
        ]
    }

    proptest! {
        #[test]
        fn agrees_with_the_derive(fields in proptest::collection::vec((key(), value()), 0..10)) {
            let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let json = format!("{{{}}}", body.join(","));
            let ours = serde_json::from_str::<Position>(&json);
            let derived = serde_json::from_str::<Derived>(&json);
            match (&ours, &derived) {
                (Ok(p), Ok(d)) => prop_assert!(same(p, d), "{json}: {p:?} against {d:?}"),
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string(), "{}", json),
                _ => prop_assert!(false, "{json}: {ours:?} against {derived:?}"),
            }
        }
    }

    /// The same answers when the position comes as a `serde_json::Value`
    /// (how the Avro decoder hands it over), whose keys are strings.
    #[test]
    fn reads_from_a_value_too() {
        let value = serde_json::json!({
            "mmsi": 244123456, "timestamp": "2026-11-22T11:59:55Z", "lat": 51.95, "lon": 4.05, "sog": null, "heading": 12
        });
        let p: Position = serde_json::from_value(value.clone()).unwrap();
        let d: Derived = serde_json::from_value(value).unwrap();
        assert!(same(&p, &d), "{p:?} against {d:?}");
        let unknown = serde_json::json!({"mmsi": 1, "timestamp": "2026-11-22T11:59:55Z", "lat": 1, "lon": 2, "speed": 3});
        let (a, b) = (
            serde_json::from_value::<Position>(unknown.clone()).unwrap_err(),
            serde_json::from_value::<Derived>(unknown).unwrap_err(),
        );
        assert_eq!(a.to_string(), b.to_string());
    }

    #[test]
    fn an_array_is_refused() {
        let json = r#"[244123456,"2026-11-22T11:59:55Z",1.0,2.0,null,null,null,null]"#;
        assert!(serde_json::from_str::<Derived>(json).is_ok(), "the derive took it");
        assert!(serde_json::from_str::<Position>(json).is_err());
    }
}
