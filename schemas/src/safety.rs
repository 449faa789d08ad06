use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checks::{check_identity, check_len, check_ranges};
use crate::rejection::{Rejection, ValidationRules, out_of_range};

/// A safety-related text message: AIS type 12 (addressed to one station) or
/// type 14 (broadcast to all).
///
/// These are what a duty officer must see: navigational warnings, "VESSEL
/// NOT UNDER COMMAND", buoy-adrift notices, MOB alarms (`MOB TEST` /
/// `MOB ACTIVE`), AIS-SART beacons (`SART ACTIVE`). The sender is often a
/// coast station, whose MMSI (`00MIDxxxx`) is below 10⁸ as a number; every
/// identity `1..=999_999_999` is accepted.
///
/// Identity: the record's Kafka coordinates. Two identical texts sent twice
/// are two messages (a warning repeated every few minutes is repeated on
/// purpose), so there is no natural key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SafetyMessage {
    /// Sender's MMSI.
    pub mmsi: u32,
    /// When the message was received (event time).
    pub timestamp: DateTime<Utc>,
    /// `true` for type 12 (addressed), `false` for type 14 (broadcast).
    pub addressed: bool,
    /// Type 12: the addressee's MMSI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_mmsi: Option<u32>,
    /// Type 12: sequence number 0..=3 (the addressee acknowledges it with a type 13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u8>,
    /// Type 12: retransmitted flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retransmit: Option<bool>,
    /// The text, as gpsd decodes it (6-bit ASCII, trailing `@` and spaces
    /// trimmed). At most 161 characters (a five-slot type 14).
    pub text: String,
}

impl SafetyMessage {
    /// Longest text five slots carry (type 14: (1008 − 40) / 6 = 161).
    pub const MAX_TEXT: usize = 161;

    /// Checks every field against `rules`, with `now` as the receive time.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        check_identity("mmsi", self.mmsi)?;
        rules.check_timestamp(self.timestamp, now)?;
        if let Some(dest) = self.dest_mmsi {
            check_identity("dest_mmsi", dest)?;
        }
        if !self.addressed && (self.dest_mmsi.is_some() || self.sequence.is_some()) {
            return Err(out_of_range("a broadcast (type 14) has no dest_mmsi or sequence".to_owned()));
        }
        check_ranges(&[("sequence", self.sequence.map(f64::from), 0.0, 3.0)])?;
        check_len("text", Some(&self.text), Self::MAX_TEXT)
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

    fn addressed() -> SafetyMessage {
        SafetyMessage {
            mmsi: 271_002_099,
            timestamp: now(),
            addressed: true,
            dest_mmsi: Some(271_002_111),
            sequence: Some(0),
            retransmit: Some(true),
            text: "MSG FROM 271002099".into(),
        }
    }

    #[test]
    fn coast_station_senders_and_broadcasts_are_valid() {
        let rules = ValidationRules::default();
        assert!(addressed().validate(&rules, now()).is_ok());
        let broadcast = SafetyMessage {
            mmsi: 2_442_000, // coast station 002442000
            addressed: false,
            dest_mmsi: None,
            sequence: None,
            retransmit: None,
            text: "SART ACTIVE".into(),
            ..addressed()
        };
        assert!(broadcast.validate(&rules, now()).is_ok());
        assert!(SafetyMessage { text: String::new(), ..broadcast }.validate(&rules, now()).is_ok());
    }

    #[test]
    fn validation_refuses_what_ais_cannot_send() {
        let rules = ValidationRules::default();
        for bad in [
            SafetyMessage { sequence: Some(4), ..addressed() },
            SafetyMessage { text: "X".repeat(162), ..addressed() },
            SafetyMessage { addressed: false, ..addressed() },
        ] {
            assert_eq!(
                bad.validate(&rules, now()).unwrap_err().class,
                RejectClass::FieldOutOfRange,
                "{bad:?}"
            );
        }
        for bad in [
            SafetyMessage { mmsi: 0, ..addressed() },
            SafetyMessage { dest_mmsi: Some(1_000_000_000), ..addressed() },
        ] {
            assert_eq!(bad.validate(&rules, now()).unwrap_err().class, RejectClass::MmsiInvalid);
        }
    }
}
