use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::position::check_mmsi;
use crate::rejection::{Rejection, ValidationRules, out_of_range};

/// A vessel's static and voyage data (AIS message types 5, 19 and 24, or
/// their JSON/Avro equivalents from terminal systems).
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
}

impl VesselStatic {
    /// Length overall in metres, when both bow and stern distances are known.
    pub fn length(&self) -> Option<u16> {
        Some(self.to_bow?.saturating_add(self.to_stern?)).filter(|l| *l > 0)
    }

    /// Beam in metres, when both side distances are known.
    pub fn beam(&self) -> Option<u16> {
        Some(self.to_port?.saturating_add(self.to_starboard?)).filter(|b| *b > 0)
    }

    /// Whether the ship type code says the vessel carries dangerous goods
    /// (second digit 1–4: IMDG/IBC categories X, Y, Z, OS).
    pub fn declares_hazardous_cargo(&self) -> bool {
        matches!(self.shiptype, Some(t) if (20..=99).contains(&t) && (1..=4).contains(&(t % 10)))
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
        self
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
