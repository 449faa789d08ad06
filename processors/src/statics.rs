//! What the rules read of a vessel's static and voyage data.
//!
//! Static reports (AIS messages 5 and 24, JSON) carry a vessel's name, call
//! sign, IMO number, type, dimensions, draught, destination and ETA. The
//! sinks store every report, and Postgres merges them into the `vessels`
//! table that the API and the map read. The processor keeps only what its
//! own rules read: the ship type and the inland hazard code (whether the
//! vessel declares dangerous goods, and the anomaly that names it), and the
//! distances from the reference point to bow and stern or a stated length
//! (its length, which the berth occupancy and the zone gauges count). Each
//! takes the value of the newest report carrying it, and keeps that
//! report's time, so the result is the same in any order
//! ([`StaticData::apply`]).
//!
//! Why not the whole record: kept whole (a `VesselStatic`, its strings and
//! eleven field times) it was 344 bytes per vessel, a quarter of a tracked
//! vessel, for fields nothing in the processor read.
//!
//! Checkpoints keep the form they had, `{"merged": <VesselStatic>,
//! "field_times": [eleven times]}`, with only these fields in the record
//! and the others' times at "never" (`DateTime::<Utc>::MIN_UTC`); the
//! hazard code's and the stated length's times, which the eleven never
//! had, follow as `"more_field_times"`. Releases before this one read it as
//! a record whose other fields no report has set yet (and ignore the extra
//! times); from theirs, this one keeps the fields and their times.
//!
//! Those releases merged eleven fields and never the hazard code nor the
//! stated length, so an inland tanker's blue cones and a length sent only
//! as `length_m` never counted; they do now.
//!
//! The five field times are nearly always the newest report's time (a
//! static report carries the fields a vessel states, all at once) or
//! "never" (the fields it does not state). So they are kept only when one
//! of them is neither, boxed: 60 bytes less for nearly every vessel, which
//! puts [`StaticData`] in the 48-byte size class instead of 96
//! (`FieldTimes`).

use chrono::{DateTime, Utc};
use porttrack_schemas::{VesselStatic, declares_hazard, dimension};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The fields the rules read, merged field by field, each with the event
/// time of its value.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticData {
    mmsi: u32,
    /// Event time of the newest static report.
    pub timestamp: DateTime<Utc>,
    /// AIS ship and cargo type.
    pub shiptype: Option<u8>,
    /// Inland hazard code (blue cones, B flag).
    pub hazard: Option<u8>,
    /// Metres from the reference point to the bow.
    pub to_bow: Option<u16>,
    /// Metres from the reference point to the stern.
    pub to_stern: Option<u16>,
    /// Length overall as stated, metres.
    pub length_m: Option<f32>,
    /// When `shiptype`, `to_bow`, `to_stern`, `hazard` and `length_m` got
    /// their values.
    field_times: FieldTimes,
}

/// When each of the five fields got its value: `None` while every field
/// with a value got it at `timestamp` and every other one has none (then
/// its time is "never", `MIN_UTC`), as nearly always; else all five, boxed.
/// Always in that canonical form, so the derived `PartialEq` compares the
/// times and not their form.
type FieldTimes = Option<Box<[DateTime<Utc>; 5]>>;

/// Where the first three fields' times sit among the eleven a checkpoint
/// carries (imo, callsign, shipname, shiptype, to_bow, to_stern, to_port,
/// to_starboard, draught, destination, eta); the last two follow apart.
const CHECKPOINT_SLOTS: [usize; 3] = [3, 4, 5];
const CHECKPOINT_FIELDS: usize = 11;

impl StaticData {
    /// Nothing known yet of vessel `mmsi`.
    pub(crate) fn new(mmsi: u32, timestamp: DateTime<Utc>) -> StaticData {
        StaticData {
            mmsi,
            timestamp,
            shiptype: None,
            hazard: None,
            to_bow: None,
            to_stern: None,
            length_m: None,
            field_times: None,
        }
    }

    /// Which of the five fields have a value, in `field_times` order.
    fn stated(&self) -> [bool; 5] {
        [
            self.shiptype.is_some(),
            self.to_bow.is_some(),
            self.to_stern.is_some(),
            self.hazard.is_some(),
            self.length_m.is_some(),
        ]
    }

    /// The five field times, whatever their form.
    fn field_times(&self) -> [DateTime<Utc>; 5] {
        match &self.field_times {
            Some(times) => **times,
            None => {
                self.stated().map(|stated| if stated { self.timestamp } else { DateTime::<Utc>::MIN_UTC })
            }
        }
    }

    /// Keeps `times` in the canonical form (see [`FieldTimes`]).
    fn set_field_times(&mut self, times: [DateTime<Utc>; 5]) {
        self.field_times = None;
        if self.field_times() != times {
            self.field_times = Some(Box::new(times));
        }
    }

    /// Takes each kept field `s` carries unless a newer report set it
    /// (a report as new as that one wins: the one processed last).
    /// Whether anything kept changed, the newest report's time included.
    pub(crate) fn apply(&mut self, s: &VesselStatic) -> bool {
        let before = self.clone();
        let mut times = self.field_times();
        let t = &mut times;
        macro_rules! field {
            ($i:expr, $f:ident) => {
                if s.$f.is_some() && s.timestamp >= t[$i] {
                    self.$f = s.$f;
                    t[$i] = s.timestamp;
                }
            };
        }
        field!(0, shiptype);
        field!(1, to_bow);
        field!(2, to_stern);
        field!(3, hazard);
        field!(4, length_m);
        self.timestamp = self.timestamp.max(s.timestamp);
        self.set_field_times(times);
        *self != before
    }

    /// Length overall in metres, as [`VesselStatic::length`] computes it.
    pub fn length(&self) -> Option<u16> {
        dimension(self.to_bow, self.to_stern, self.length_m)
    }

    /// Whether the ship type or the hazard code declares dangerous goods,
    /// as [`VesselStatic::declares_hazardous_cargo`] decides it.
    pub fn declares_hazardous_cargo(&self) -> bool {
        declares_hazard(self.shiptype, self.hazard)
    }

    /// The record a checkpoint carries: these fields, the others unset.
    fn record(&self) -> VesselStatic {
        VesselStatic {
            mmsi: self.mmsi,
            timestamp: self.timestamp,
            shiptype: self.shiptype,
            hazard: self.hazard,
            to_bow: self.to_bow,
            to_stern: self.to_stern,
            length_m: self.length_m,
            ..VesselStatic::default()
        }
    }
}

impl Serialize for StaticData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut times = [DateTime::<Utc>::MIN_UTC; CHECKPOINT_FIELDS];
        let field_times = self.field_times();
        for (slot, t) in CHECKPOINT_SLOTS.iter().zip(field_times) {
            times[*slot] = t;
        }
        let mut st = s.serialize_struct("StaticData", 3)?;
        st.serialize_field("merged", &self.record())?;
        st.serialize_field("field_times", &Times(&times))?;
        st.serialize_field("more_field_times", &Times(&[field_times[3], field_times[4]]))?;
        st.end()
    }
}

/// Field times in the checkpoint's form.
struct Times<'a, const N: usize>(&'a [DateTime<Utc>; N]);

impl<const N: usize> Serialize for Times<'_, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::ser::seq::serialize(self.0, s)
    }
}

/// A checkpoint's static data, this release's or an older one's.
#[derive(Deserialize)]
struct Checkpointed {
    merged: VesselStatic,
    #[serde(with = "crate::ser::seq")]
    field_times: [DateTime<Utc>; CHECKPOINT_FIELDS],
    /// The hazard code's and the stated length's; absent from older releases'.
    #[serde(default = "never", with = "crate::ser::seq")]
    more_field_times: [DateTime<Utc>; 2],
}

fn never() -> [DateTime<Utc>; 2] {
    [DateTime::<Utc>::MIN_UTC; 2]
}

impl<'de> Deserialize<'de> for StaticData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Checkpointed { merged: m, field_times, more_field_times: [hazard_at, length_at] } =
            Checkpointed::deserialize(d)?;
        let [shiptype_at, bow_at, stern_at] = CHECKPOINT_SLOTS.map(|slot| field_times[slot]);
        let mut data = StaticData {
            mmsi: m.mmsi,
            timestamp: m.timestamp,
            shiptype: m.shiptype,
            hazard: m.hazard,
            to_bow: m.to_bow,
            to_stern: m.to_stern,
            length_m: m.length_m,
            field_times: None,
        };
        data.set_field_times([shiptype_at, bow_at, stern_at, hazard_at, length_at]);
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn report(s: i64) -> VesselStatic {
        VesselStatic { mmsi: 244_000_001, timestamp: at(s), ..VesselStatic::default() }
    }

    #[test]
    fn each_field_keeps_the_newest_value_whatever_the_order() {
        let dims = VesselStatic { to_bow: Some(200), to_stern: Some(50), ..report(20) };
        let older = VesselStatic { shiptype: Some(70), to_bow: Some(10), to_stern: Some(5), ..report(10) };
        let tanker = VesselStatic { shiptype: Some(82), ..report(30) };
        let mut a = StaticData::new(244_000_001, at(10));
        let mut b = a.clone();
        for s in [&older, &dims, &tanker] {
            a.apply(s);
        }
        for s in [&tanker, &dims, &older] {
            b.apply(s);
        }
        assert_eq!(a, b);
        assert_eq!((a.shiptype, a.length(), a.timestamp), (Some(82), Some(250), at(30)));
        assert!(a.declares_hazardous_cargo());
        // Nothing kept changes: a name-only report as old as the newest.
        assert!(!a.apply(&VesselStatic { shipname: Some("X".into()), ..report(30) }));
        assert!(a.apply(&report(31)), "a newer report moves the newest time");
    }

    #[test]
    fn checkpoints_carry_the_record_and_eleven_times() {
        let mut data = StaticData::new(244_000_001, at(0));
        data.apply(&VesselStatic { shiptype: Some(70), to_bow: Some(100), ..report(5) });
        let json = serde_json::to_value(&data).unwrap();
        assert_eq!(json["merged"]["shiptype"], 70);
        assert_eq!(json["merged"]["mmsi"], 244_000_001);
        assert!(json["merged"].get("shipname").is_none());
        let times = json["field_times"].as_array().unwrap();
        assert_eq!(times.len(), 11);
        assert_eq!(times[3], times[4]);
        assert_eq!(times[5], serde_json::json!(DateTime::<Utc>::MIN_UTC.timestamp_millis()));
        assert_eq!(serde_json::from_value::<StaticData>(json).unwrap(), data);
    }

    /// What releases before this one wrote: the whole record.
    #[test]
    fn a_whole_record_reads_as_its_kept_fields() {
        let old = r#"{"merged":{"mmsi":244000001,"timestamp":"2026-11-22T09:00:10Z","callsign":"PD1234",
            "shipname":"SHIP","shiptype":70,"to_bow":120,"to_stern":30,"destination":"NLRTM"},
            "field_times":["2026-11-22T09:00:00Z","2026-11-22T09:00:00Z","2026-11-22T09:00:00Z",
            "2026-11-22T09:00:10Z","2026-11-22T09:00:10Z","2026-11-22T09:00:10Z","2026-11-22T09:00:10Z",
            "2026-11-22T09:00:10Z","-262143-01-01T00:00:00Z","2026-11-22T09:00:00Z","-262143-01-01T00:00:00Z"]}"#;
        let data: StaticData = serde_json::from_str(old).unwrap();
        assert_eq!((data.shiptype, data.length(), data.timestamp), (Some(70), Some(150), at(10)));
        assert_eq!(data.field_times()[..3], [at(10); 3]);
    }

    /// Releases before this one merged eleven fields, and never these two:
    /// an inland tanker's blue cones, and a length sent only as `length_m`,
    /// were dropped, and the berth it moored at counted it without a length.
    #[test]
    fn the_inland_hazard_code_and_a_stated_length_count() {
        let mut data = StaticData::new(244_000_001, at(0));
        data.apply(&VesselStatic { hazard: Some(2), length_m: Some(110.4), ..report(0) });
        assert!(data.declares_hazardous_cargo());
        assert_eq!(data.length(), Some(110));
        // Bow and stern, when both are known, win over the stated length.
        data.apply(&VesselStatic { to_bow: Some(100), to_stern: Some(20), ..report(5) });
        assert_eq!(data.length(), Some(120));
        // An older report does not take a newer value back.
        data.apply(&VesselStatic { hazard: Some(0), ..report(-5) });
        assert!(data.declares_hazardous_cargo());
        let json = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<StaticData>(&json).unwrap(), data);
    }

    /// The times are boxed only while some field's is neither the newest
    /// report's nor "never", and the box goes once a report restates them.
    #[test]
    fn field_times_are_boxed_only_while_they_differ() {
        let mut data = StaticData::new(244_000_001, at(0));
        data.apply(&VesselStatic { shiptype: Some(70), to_bow: Some(100), to_stern: Some(20), ..report(0) });
        assert!(data.field_times.is_none(), "one report: its time, or never");
        assert_eq!(data.field_times()[..4], [at(0), at(0), at(0), DateTime::<Utc>::MIN_UTC]);
        data.apply(&VesselStatic { hazard: Some(2), ..report(10) });
        assert!(data.field_times.is_some(), "the dimensions' time is older than the hazard code's");
        assert_eq!(data.field_times()[..4], [at(0), at(0), at(0), at(10)]);
        let json = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<StaticData>(&json).unwrap(), data);
        data.apply(&VesselStatic {
            shiptype: Some(70),
            to_bow: Some(100),
            to_stern: Some(20),
            hazard: Some(2),
            ..report(20)
        });
        assert!(data.field_times.is_none(), "restated at once: no box");
        let json = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<StaticData>(&json).unwrap(), data);
        assert!(size_of::<StaticData>() <= 48, "StaticData is {} B, budget 48 B", size_of::<StaticData>());
    }
}
