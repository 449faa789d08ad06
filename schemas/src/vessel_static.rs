use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::position::check_mmsi;
use crate::rejection::{Rejection, ValidationRules, out_of_range};

/// A vessel's static and voyage data (AIS message types 5, 19 and 24, the
/// inland static and voyage data of type 8 DAC 200 FID 10, or their
/// JSON/Avro equivalents from terminal systems).
///
/// AIS sends these every six minutes, and class B transponders split them
/// over two parts (24A: name; 24B: type, call sign, dimensions), so every
/// field but the MMSI and the time is optional and a processor merges
/// successive reports rather than replacing the whole record.
///
/// Dimensions are distances from the GPS antenna (the reference point), in
/// metres: `to_bow` + `to_stern` is the length, `to_port` + `to_starboard` the
/// beam. Names follow gpsd's JSON keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VesselStatic {
    /// Maritime Mobile Service Identity: nine decimal digits.
    pub mmsi: u32,
    /// When the data was reported (event time).
    pub timestamp: DateTime<Utc>,
    /// IMO ship identification number (seven digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imo: Option<u32>,
    /// Radio call sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callsign: Option<String>,
    /// Vessel name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipname: Option<String>,
    /// AIS ship and cargo type code, 0..=99 (70–79 cargo, 80–89 tanker, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shiptype: Option<u8>,
    /// Metres from the reference point to the bow (dimension A).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_bow: Option<u16>,
    /// Metres from the reference point to the stern (dimension B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_stern: Option<u16>,
    /// Metres from the reference point to port (dimension C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<u16>,
    /// Metres from the reference point to starboard (dimension D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_starboard: Option<u16>,
    /// Present static draught in metres, 0.1..=25.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draught: Option<f32>,
    /// Destination as typed by the crew (often a UN/LOCODE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Estimated time of arrival at the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<DateTime<Utc>>,
    /// Inland: European Number of Identification (ENI, 8 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eni: Option<String>,
    /// Inland: ERI ship or combination type, 0..=9999 (8010 motor freighter,
    /// 8030 container ship, 8160 pushed convoy…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inland_ship_type: Option<u16>,
    /// Inland: dangerous cargo signal, number of blue cones or lights 0..=3,
    /// or 4 for the B flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard: Option<u8>,
    /// Inland: loaded (`true`) or unloaded (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
    /// Length overall in metres, when the sender states it directly (inland
    /// data, 0.1 m resolution) rather than as distances from the antenna.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_m: Option<f32>,
    /// Beam in metres, when the sender states it directly (inland data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beam_m: Option<f32>,
}

impl VesselStatic {
    /// Length overall in metres: from the bow and stern distances when both
    /// are known, else the directly stated [`length_m`](Self::length_m), rounded.
    pub fn length(&self) -> Option<u16> {
        dimension(self.to_bow, self.to_stern, self.length_m)
    }

    /// Beam in metres: from the side distances when both are known, else
    /// the directly stated [`beam_m`](Self::beam_m), rounded.
    pub fn beam(&self) -> Option<u16> {
        dimension(self.to_port, self.to_starboard, self.beam_m)
    }

    /// Whether the vessel declares dangerous goods: a ship type whose second
    /// digit is 1–4 (IMDG/IBC categories X, Y, Z, OS), or, inland, one to
    /// three blue cones or the B flag.
    pub fn declares_hazardous_cargo(&self) -> bool {
        declares_hazard(self.shiptype, self.hazard)
    }

    /// Checks every field against `rules`, with `now` as the receive time.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        check_mmsi(self.mmsi)?;
        rules.check_timestamp(self.timestamp, now)?;
        if let Some(imo) = self.imo
            && !(1_000_000..=9_999_999).contains(&imo)
        {
            return Err(out_of_range(format!("imo {imo} is not seven digits")));
        }
        if let Some(t) = self.shiptype
            && t > 99
        {
            return Err(out_of_range(format!("shiptype {t} is outside 0..=99")));
        }
        if let Some(d) = self.draught
            && !(0.0..=25.5).contains(&d)
        {
            return Err(out_of_range(format!("draught {d} is outside 0..=25.5 m")));
        }
        for (name, value) in [("to_bow", self.to_bow), ("to_stern", self.to_stern)] {
            if let Some(v) = value
                && v > 511
            {
                return Err(out_of_range(format!("{name} {v} is outside 0..=511 m")));
            }
        }
        for (name, value) in [("to_port", self.to_port), ("to_starboard", self.to_starboard)] {
            if let Some(v) = value
                && v > 63
            {
                return Err(out_of_range(format!("{name} {v} is outside 0..=63 m")));
            }
        }
        if let Some(t) = self.inland_ship_type
            && t > 9999
        {
            return Err(out_of_range(format!("inland_ship_type {t} is outside 0..=9999")));
        }
        if let Some(h) = self.hazard
            && h > 4
        {
            return Err(out_of_range(format!("hazard {h} is outside 0..=4")));
        }
        // The ERI fields' widths: 13 bits of decimetres, 10 bits of decimetres.
        for (name, value, max) in [("length_m", self.length_m, 819.1), ("beam_m", self.beam_m, 102.3)] {
            if let Some(v) = value
                && !(0.0..=max).contains(&v)
            {
                return Err(out_of_range(format!("{name} {v} is outside 0..={max} m")));
            }
        }
        if self.eni.as_ref().is_some_and(|e| e.chars().count() > 8) {
            return Err(out_of_range("eni is longer than 8 characters".to_owned()));
        }
        for (name, value) in
            [("callsign", &self.callsign), ("shipname", &self.shipname), ("destination", &self.destination)]
        {
            if let Some(v) = value
                && v.chars().count() > 20
            {
                return Err(out_of_range(format!("{name} is longer than 20 characters")));
            }
        }
        Ok(())
    }

    /// Fills the fields `newer` has and keeps the others: class B vessels
    /// send their static data in two parts, and type 5 and 24 reports of the
    /// same vessel complement each other.
    #[must_use]
    pub fn merged_with(mut self, newer: &VesselStatic) -> Self {
        fn take<T: Clone>(old: &mut Option<T>, new: &Option<T>) {
            if new.is_some() {
                old.clone_from(new);
            }
        }
        self.timestamp = self.timestamp.max(newer.timestamp);
        take(&mut self.imo, &newer.imo);
        take(&mut self.callsign, &newer.callsign);
        take(&mut self.shipname, &newer.shipname);
        take(&mut self.shiptype, &newer.shiptype);
        take(&mut self.to_bow, &newer.to_bow);
        take(&mut self.to_stern, &newer.to_stern);
        take(&mut self.to_port, &newer.to_port);
        take(&mut self.to_starboard, &newer.to_starboard);
        take(&mut self.draught, &newer.draught);
        take(&mut self.destination, &newer.destination);
        take(&mut self.eta, &newer.eta);
        take(&mut self.eni, &newer.eni);
        take(&mut self.inland_ship_type, &newer.inland_ship_type);
        take(&mut self.hazard, &newer.hazard);
        take(&mut self.loaded, &newer.loaded);
        take(&mut self.length_m, &newer.length_m);
        take(&mut self.beam_m, &newer.beam_m);
        self
    }
}

/// Whether a ship type and an inland hazard code declare dangerous goods,
/// as [`VesselStatic::declares_hazardous_cargo`] decides it, for state that
/// keeps those two fields without the whole record: an AIS ship type whose
/// second digit is 1–4 (IMDG/IBC categories X, Y, Z, OS; types 20–99 have
/// categories), or one to three blue cones or the B flag (hazard 1–4).
pub fn declares_hazard(shiptype: Option<u8>, hazard: Option<u8>) -> bool {
    matches!(shiptype, Some(t) if (20..=99).contains(&t) && (1..=4).contains(&(t % 10)))
        || matches!(hazard, Some(1..=4))
}

/// A length (or beam) in whole metres from the distances to the reference
/// point on either side when both are known, else from the stated value,
/// rounded: what [`VesselStatic::length`] and [`VesselStatic::beam`] compute,
/// for state that keeps those fields without the whole record.
pub fn dimension(a: Option<u16>, b: Option<u16>, stated: Option<f32>) -> Option<u16> {
    let from_distances = || Some(a?.saturating_add(b?)).filter(|l| *l > 0);
    from_distances().or_else(|| whole_metres(stated))
}

/// A directly stated length or beam in whole metres (none for 0 or less).
fn whole_metres(v: Option<f32>) -> Option<u16> {
    v.filter(|v| *v >= 0.5 && *v <= f32::from(u16::MAX)).map(|v| v.round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectClass;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn sample() -> VesselStatic {
        VesselStatic {
            mmsi: 244_123_456,
            timestamp: now(),
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
            eta: None,
            ..Default::default()
        }
    }

    fn inland() -> VesselStatic {
        VesselStatic {
            mmsi: 244_650_946,
            timestamp: now(),
            eni: Some("02103547".into()),
            inland_ship_type: Some(8010),
            hazard: Some(2),
            loaded: Some(true),
            length_m: Some(39.0),
            beam_m: Some(5.05),
            draught: Some(2.04),
            ..Default::default()
        }
    }

    #[test]
    fn inland_data_gives_length_beam_and_hazard_and_merges_without_blanking() {
        let rules = ValidationRules::default();
        assert!(inland().validate(&rules, now()).is_ok());
        assert_eq!((inland().length(), inland().beam()), (Some(39), Some(5)));
        assert!(inland().declares_hazardous_cargo());
        assert!(!VesselStatic { hazard: Some(0), ..inland() }.declares_hazardous_cargo());
        // Dimensions win over the stated length when both are there.
        assert_eq!(VesselStatic { to_bow: Some(30), to_stern: Some(10), ..inland() }.length(), Some(40));
        let type5 = VesselStatic { mmsi: 244_650_946, ..sample() };
        let merged = type5.clone().merged_with(&inland()).merged_with(&type5);
        assert_eq!(merged.eni.as_deref(), Some("02103547"));
        assert_eq!((merged.hazard, merged.loaded, merged.length_m), (Some(2), Some(true), Some(39.0)));
        assert_eq!(merged.shipname.as_deref(), Some("EVER GIVEN"));
        for bad in [
            VesselStatic { hazard: Some(5), ..inland() },
            VesselStatic { inland_ship_type: Some(10_000), ..inland() },
            VesselStatic { length_m: Some(900.0), ..inland() },
            VesselStatic { eni: Some("123456789".into()), ..inland() },
        ] {
            assert_eq!(
                bad.validate(&rules, now()).unwrap_err().class,
                RejectClass::FieldOutOfRange,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn dimensions_give_length_and_beam() {
        assert_eq!(sample().length(), Some(399));
        assert_eq!(sample().beam(), Some(59));
        assert_eq!(VesselStatic { to_stern: None, ..sample() }.length(), None);
    }

    #[test]
    fn hazardous_categories_come_from_the_second_digit() {
        assert!(sample().declares_hazardous_cargo()); // 71: cargo, hazardous category X
        assert!(!VesselStatic { shiptype: Some(70), ..sample() }.declares_hazardous_cargo());
        assert!(!VesselStatic { shiptype: Some(11), ..sample() }.declares_hazardous_cargo());
    }

    #[test]
    fn validation_refuses_out_of_range_fields() {
        let rules = ValidationRules::default();
        assert!(sample().validate(&rules, now()).is_ok());
        for bad in [
            VesselStatic { imo: Some(12), ..sample() },
            VesselStatic { draught: Some(30.0), ..sample() },
            VesselStatic { to_port: Some(64), ..sample() },
            VesselStatic { shipname: Some("A NAME MUCH LONGER THAN TWENTY".into()), ..sample() },
        ] {
            assert_eq!(bad.validate(&rules, now()).unwrap_err().class, RejectClass::FieldOutOfRange);
        }
        assert_eq!(
            VesselStatic { mmsi: 12, ..sample() }.validate(&rules, now()).unwrap_err().class,
            RejectClass::MmsiInvalid
        );
    }

    #[test]
    fn class_b_parts_merge() {
        let part_a =
            VesselStatic { mmsi: 1, timestamp: now(), shipname: Some("A".into()), ..Default::default() };
        let part_b = VesselStatic {
            mmsi: 1,
            timestamp: now(),
            shiptype: Some(37),
            to_bow: Some(5),
            ..Default::default()
        };
        let merged = part_a.clone().merged_with(&part_b);
        assert_eq!(merged.shipname.as_deref(), Some("A"));
        assert_eq!(merged.shiptype, Some(37));
        assert_eq!(part_b.merged_with(&part_a).shiptype, Some(37));
    }
}
