//! The published schemas and the Rust types describe the same fields.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;

use chrono::Utc;
use porttrack_schemas::{Position, schema_files};
use serde_json::Value;

fn schema(path: &str) -> Value {
    let (_, text) =
        schema_files().iter().find(|(p, _)| *p == path).unwrap_or_else(|| panic!("{path} is not published"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn full_position_fields() -> BTreeSet<String> {
    let p = Position {
        mmsi: 244_123_456,
        timestamp: Utc::now(),
        lat: 1.0,
        lon: 2.0,
        sog: Some(1.0),
        cog: Some(2.0),
        heading: Some(3),
        nav_status: Some(0),
    };
    match serde_json::to_value(p).unwrap() {
        Value::Object(map) => map.keys().cloned().collect(),
        other => panic!("position serialised as {other}"),
    }
}

#[test]
fn json_schema_properties_match_position_fields() {
    let s = schema("json/position.v1.schema.json");
    let props: BTreeSet<String> = s["properties"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(props, full_position_fields());
    let required: BTreeSet<String> =
        s["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    let minimal: Position = serde_json::from_value(serde_json::json!({
        "mmsi": 244123456, "timestamp": "2026-11-22T00:00:00Z", "lat": 0.0, "lon": 0.0
    }))
    .unwrap();
    let minimal_keys: BTreeSet<String> =
        serde_json::to_value(minimal).unwrap().as_object().unwrap().keys().cloned().collect();
    assert_eq!(required, minimal_keys, "required fields are exactly the non-optional ones");
}

#[test]
fn avro_schema_fields_match_position_fields() {
    let s = schema("avro/position.v1.avsc");
    let fields: BTreeSet<String> =
        s["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, full_position_fields());
}
