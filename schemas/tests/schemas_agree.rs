//! The published schemas and the Rust types describe the same events: the
//! same field names, the same required set, and every value the Rust type
//! accepts as valid is valid under the JSON Schema too.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use porttrack_schemas::{
    CargoEvent, CargoOperation, Event, EventKind, MetHydroObservation, PortOpsEvent, PortOpsKind, Position,
    SafetyMessage, StationKind, StationReport, ValidationRules, VesselStatic, WeatherObservation,
    schemas_by_kind,
};
use proptest::prelude::*;
use serde_json::Value;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 4, 0, 0).unwrap()
}

/// One instance of every kind with every optional field set, and one with none.
fn full_and_minimal(kind: EventKind) -> (Value, Value) {
    let to = |v: &dyn erased::Ser| v.to_value();
    match kind {
        EventKind::Position => (
            to(&Position {
                mmsi: 244_123_456,
                timestamp: t0(),
                lat: 1.0,
                lon: 2.0,
                sog: Some(1.0),
                cog: Some(2.0),
                heading: Some(3),
                nav_status: Some(0),
            }),
            to(&Position {
                mmsi: 244_123_456,
                timestamp: t0(),
                lat: 1.0,
                lon: 2.0,
                sog: None,
                cog: None,
                heading: None,
                nav_status: None,
            }),
        ),
        EventKind::Static => (
            to(&VesselStatic {
                mmsi: 244_123_456,
                timestamp: t0(),
                imo: Some(9_321_483),
                callsign: Some("PDXY".into()),
                shipname: Some("EVER GIVEN".into()),
                shiptype: Some(71),
                to_bow: Some(300),
                to_stern: Some(99),
                to_port: Some(29),
                to_starboard: Some(30),
                draught: Some(14.5),
                destination: Some("NLRTM".into()),
                eta: Some(t0()),
                eni: Some("02103547".into()),
                inland_ship_type: Some(8010),
                hazard: Some(0),
                loaded: Some(false),
                length_m: Some(110.0),
                beam_m: Some(11.4),
            }),
            to(&VesselStatic { mmsi: 244_123_456, timestamp: t0(), ..Default::default() }),
        ),
        EventKind::Weather => (
            to(&WeatherObservation {
                station: "hvh".into(),
                timestamp: t0(),
                lat: Some(51.98),
                lon: Some(4.1),
                zone: Some("Maasmond".into()),
                wind_speed_kn: Some(20.0),
                wind_gust_kn: Some(30.0),
                wind_direction_deg: Some(250),
                visibility_nm: Some(3.0),
                wave_height_m: Some(1.5),
                pressure_hpa: Some(1012.0),
                air_temperature_c: Some(8.5),
            }),
            to(&WeatherObservation { station: "hvh".into(), timestamp: t0(), ..Default::default() }),
        ),
        EventKind::Cargo => {
            let full = CargoEvent {
                event_id: "e-1".into(),
                timestamp: t0(),
                mmsi: 244_123_456,
                voyage: Some("042W".into()),
                berth: "Europoort".into(),
                operation: CargoOperation::Load,
                containers: 10,
                teu: 16,
                imdg_class: Some("3".into()),
            };
            let minimal = CargoEvent { voyage: None, imdg_class: None, ..full.clone() };
            (to(&full), to(&minimal))
        }
        EventKind::PortOps => {
            let full = PortOpsEvent {
                event_id: "o-1".into(),
                timestamp: t0(),
                mmsi: 244_123_456,
                kind: PortOpsKind::TugAssigned,
                resource: "SMIT ORCA".into(),
                shift: Some("night".into()),
                berth: Some("Europoort".into()),
            };
            let minimal = PortOpsEvent { shift: None, berth: None, ..full.clone() };
            (to(&full), to(&minimal))
        }
        EventKind::Safety => {
            let full = full_safety();
            let minimal = SafetyMessage {
                dest_mmsi: None,
                sequence: None,
                retransmit: None,
                addressed: false,
                ..full.clone()
            };
            (to(&full), to(&minimal))
        }
        EventKind::MetHydro => (
            to(&full_met_hydro()),
            to(&MetHydroObservation {
                mmsi: 2_442_011,
                timestamp: t0(),
                dac: 1,
                fid: 11,
                ..Default::default()
            }),
        ),
        EventKind::Station => (
            to(&full_station()),
            to(&StationReport { mmsi: 2_442_000, timestamp: t0(), ..Default::default() }),
        ),
        _ => unreachable!("a new kind needs its schemas and a case here"),
    }
}

fn full_safety() -> SafetyMessage {
    SafetyMessage {
        mmsi: 271_002_099,
        timestamp: t0(),
        addressed: true,
        dest_mmsi: Some(271_002_111),
        sequence: Some(3),
        retransmit: Some(false),
        text: "MSG FROM 271002099".into(),
    }
}

fn full_met_hydro() -> MetHydroObservation {
    let details = serde_json::json!({"wspeed": 22, "airtemp": 8.5, "preciptype": "rain", "visgreater": true});
    MetHydroObservation {
        mmsi: 2_442_011,
        timestamp: t0(),
        dac: 1,
        fid: 31,
        lat: Some(51.98),
        lon: Some(4.05),
        report_day: Some(22),
        report_hour: Some(3),
        report_minute: Some(50),
        wind_speed_kn: Some(22.0),
        wind_gust_kn: Some(30.0),
        wind_direction_deg: Some(250),
        wind_gust_direction_deg: Some(260),
        air_temperature_c: Some(8.5),
        humidity_pct: Some(80),
        dew_point_c: Some(5.1),
        pressure_hpa: Some(1004.0),
        pressure_tendency: Some(1),
        visibility_nm: Some(12.6),
        visibility_greater: Some(true),
        water_level_m: Some(-0.45),
        water_level_trend: Some(2),
        current_speed_kn: Some(1.5),
        current_direction_deg: Some(90),
        wave_height_m: Some(1.5),
        wave_period_s: Some(6),
        wave_direction_deg: Some(240),
        swell_height_m: Some(0.8),
        swell_period_s: Some(9),
        swell_direction_deg: Some(300),
        sea_state: Some(5),
        water_temperature_c: Some(11.2),
        precipitation_type: Some(1),
        salinity_permille: Some(31.5),
        ice: Some(0),
        details: details.as_object().cloned(),
    }
}

fn full_station() -> StationReport {
    StationReport {
        mmsi: 992_446_001,
        timestamp: t0(),
        kind: StationKind::AidToNavigation,
        lat: Some(51.98),
        lon: Some(4.05),
        name: Some("MAAS CENTER".into()),
        aid_type: Some(22),
        virtual_aid: Some(false),
        off_position: Some(true),
        epfd: Some(7),
        to_bow: Some(2),
        to_stern: Some(2),
        to_port: Some(1),
        to_starboard: Some(1),
        station_time: Some(t0()),
    }
}

/// A tiny object-safe wrapper so the match above can hold different types.
mod erased {
    pub(super) trait Ser {
        fn to_value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn every_kind_publishes_a_json_and_an_avro_schema_with_the_rust_fields() {
    for (kind, json_schema, avro_schema) in schemas_by_kind() {
        let (full, minimal) = full_and_minimal(kind);
        let js: Value =
            serde_json::from_str(json_schema).unwrap_or_else(|e| panic!("{kind:?} JSON Schema: {e}"));
        let av: Value =
            serde_json::from_str(avro_schema).unwrap_or_else(|e| panic!("{kind:?} Avro schema: {e}"));

        let props: BTreeSet<String> = js["properties"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(props, keys(&full), "{kind:?}: JSON Schema properties vs Rust fields");
        assert_eq!(
            js["additionalProperties"],
            Value::Bool(false),
            "{kind:?}: closed like deny_unknown_fields"
        );
        let required: BTreeSet<String> =
            js["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        assert_eq!(required, keys(&minimal), "{kind:?}: required = the non-optional Rust fields");

        let fields: Vec<&Value> = av["fields"].as_array().unwrap().iter().collect();
        let names: BTreeSet<String> = fields.iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, keys(&full), "{kind:?}: Avro fields vs Rust fields");
        for f in fields {
            let name = f["name"].as_str().unwrap();
            let nullable = f["type"].as_array().is_some_and(|u| u.first() == Some(&Value::from("null")));
            assert_eq!(nullable, !required.contains(name), "{kind:?}.{name}: Avro optional ⇔ Rust optional");
            if nullable {
                assert_eq!(f["default"], Value::Null, "{kind:?}.{name}: optional fields default to null");
            }
        }
        assert_eq!(av["namespace"], "dev.porttrack.v1", "{kind:?}: versioned namespace");
    }
}

fn validator(kind: EventKind) -> jsonschema::Validator {
    let (_, json_schema, _) = schemas_by_kind().into_iter().find(|(k, _, _)| *k == kind).unwrap();
    jsonschema::validator_for(&serde_json::from_str(json_schema).unwrap()).unwrap()
}

#[test]
fn full_and_minimal_instances_are_valid_under_their_json_schema() {
    for (kind, _, _) in schemas_by_kind() {
        let v = validator(kind);
        let (full, minimal) = full_and_minimal(kind);
        for instance in [full, minimal] {
            let errors: Vec<String> = v.iter_errors(&instance).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{kind:?} {instance}: {errors:?}");
        }
    }
}

#[test]
fn json_schema_refuses_what_the_rust_type_refuses() {
    let v = validator(EventKind::Position);
    for bad in [
        serde_json::json!({"mmsi": 244123456, "timestamp": "2026-11-22T04:00:00Z", "lat": 1, "lon": 2, "speed": 3}),
        serde_json::json!({"mmsi": 244123456, "lat": 1, "lon": 2}),
        serde_json::json!({"mmsi": "244123456", "timestamp": "2026-11-22T04:00:00Z", "lat": 1, "lon": 2}),
    ] {
        assert!(!v.is_valid(&bad), "{bad}");
        assert!(serde_json::from_value::<Position>(bad).is_err());
    }
}

proptest! {
    /// Every safety message the Rust validation accepts is valid under the JSON Schema.
    #[test]
    fn safety_messages_valid_in_rust_are_valid_under_the_schema(
        mmsi in 1_u32..=999_999_999,
        dest in proptest::option::of(1_u32..=999_999_999),
        sequence in proptest::option::of(0_u8..=3),
        retransmit in proptest::option::of(any::<bool>()),
        text in "[A-Z0-9 ,.!?-]{0,161}",
    ) {
        let s = SafetyMessage { mmsi, timestamp: t0(), addressed: true, dest_mmsi: dest, sequence, retransmit, text };
        prop_assert!(s.validate(&ValidationRules::default(), t0()).is_ok());
        prop_assert!(validator(EventKind::Safety).is_valid(&serde_json::to_value(&s).unwrap()));
    }

    /// Every position the Rust validation accepts is valid under the JSON Schema.
    #[test]
    fn positions_valid_in_rust_are_valid_under_the_schema(
        mmsi in 100_000_000_u32..=999_999_999,
        lat in -90.0_f64..=90.0,
        lon in -180.0_f64..=180.0,
        sog in proptest::option::of(0.0_f32..=102.2),
        cog in proptest::option::of(0.0_f32..360.0),
        heading in proptest::option::of(0_u16..=359),
        nav_status in proptest::option::of(0_u8..=15),
    ) {
        let p = Position { mmsi, timestamp: t0(), lat, lon, sog, cog, heading, nav_status };
        prop_assert!(p.validate(&ValidationRules::default(), t0()).is_ok());
        prop_assert!(validator(EventKind::Position).is_valid(&serde_json::to_value(&p).unwrap()));
    }

    /// Every static report the Rust validation accepts is valid under the JSON Schema.
    #[test]
    fn static_reports_valid_in_rust_are_valid_under_the_schema(
        imo in proptest::option::of(1_000_000_u32..=9_999_999),
        shiptype in proptest::option::of(0_u8..=99),
        to_bow in proptest::option::of(0_u16..=511),
        to_port in proptest::option::of(0_u16..=63),
        draught in proptest::option::of(0.0_f32..=25.5),
        name in proptest::option::of("[A-Z @]{0,20}"),
    ) {
        let s = VesselStatic { mmsi: 244_123_456, timestamp: t0(), imo, shiptype, to_bow, to_port, draught, shipname: name, ..Default::default() };
        prop_assert!(s.validate(&ValidationRules::default(), t0()).is_ok());
        prop_assert!(validator(EventKind::Static).is_valid(&serde_json::to_value(&s).unwrap()));
    }
}

#[test]
fn the_new_ais_kinds_round_trip_through_json_and_validate() {
    let rules = ValidationRules::default();
    for event in [
        Event::Safety(Box::new(full_safety())),
        Event::MetHydro(Box::new(full_met_hydro())),
        Event::Station(Box::new(full_station())),
    ] {
        event.validate(&rules, t0()).unwrap_or_else(|e| panic!("{event:?}: {e}"));
        let kind = event.kind();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event"], kind.as_str());
        // The inner object (without the tag) reads back into the same type.
        let mut inner = json.clone();
        inner.as_object_mut().unwrap().remove("event");
        assert!(validator(kind).is_valid(&inner), "{kind:?}: {inner}");
        let back = match kind {
            EventKind::Safety => Event::Safety(serde_json::from_value(inner).unwrap()),
            EventKind::MetHydro => Event::MetHydro(serde_json::from_value(inner).unwrap()),
            _ => Event::Station(serde_json::from_value(inner).unwrap()),
        };
        assert_eq!(back, event);
    }
}

#[test]
fn json_schema_refuses_nested_met_hydro_details_and_unknown_station_kinds() {
    let mut nested = serde_json::to_value(full_met_hydro()).unwrap();
    nested["details"] = serde_json::json!({"a": {"b": 1}});
    assert!(!validator(EventKind::MetHydro).is_valid(&nested));
    let mut station = serde_json::to_value(full_station()).unwrap();
    station["kind"] = "lighthouse".into();
    assert!(!validator(EventKind::Station).is_valid(&station));
    assert!(serde_json::from_value::<StationReport>(station).is_err());
}
