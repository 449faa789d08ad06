use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::position::check_mmsi;
use crate::rejection::{Rejection, ValidationRules, out_of_range};

/// Whether containers went onto the vessel or off it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CargoOperation {
    /// Loaded onto the vessel.
    Load,
    /// Discharged from the vessel.
    Discharge,
}

/// A terminal system's record of cargo moved between a vessel and a berth.
///
/// `event_id` is the terminal's own identifier for the move; it makes the
/// event idempotent downstream (a replay updates the same row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CargoEvent {
    /// The terminal's unique id for this event.
    pub event_id: String,
    /// When the move was completed.
    pub timestamp: DateTime<Utc>,
    /// The vessel.
    pub mmsi: u32,
    /// The terminal's voyage number for this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voyage: Option<String>,
    /// The berth (zone name in the port geography).
    pub berth: String,
    /// Load or discharge.
    pub operation: CargoOperation,
    /// Number of containers moved.
    pub containers: u32,
    /// Twenty-foot equivalent units moved.
    pub teu: u32,
    /// IMDG hazard class of the goods, when dangerous ("1.1" to "9").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imdg_class: Option<String>,
}

impl CargoEvent {
    /// Checks every field against `rules`, with `now` as the receive time.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        check_id("event_id", &self.event_id)?;
        check_mmsi(self.mmsi)?;
        rules.check_timestamp(self.timestamp, now)?;
        check_id("berth", &self.berth)?;
        if self.teu < self.containers || self.teu > self.containers.saturating_mul(3) {
            return Err(out_of_range(format!(
                "teu {} is not between containers ({}) and three times that",
                self.teu, self.containers
            )));
        }
        if let Some(class) = &self.imdg_class
            && !is_imdg_class(class)
        {
            return Err(out_of_range(format!(
                "imdg_class {class:?} is not an IMDG class (1 to 9, with division)"
            )));
        }
        Ok(())
    }
}

/// `"3"`, `"2.1"`, `"1.4"`: a class 1–9 with an optional one-digit division.
fn is_imdg_class(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let class_ok = matches!(parts.next(), Some(c) if c.len() == 1 && matches!(c.as_bytes()[0], b'1'..=b'9'));
    let division_ok = match parts.next() {
        None => true,
        Some(d) => d.len() == 1 && d.as_bytes()[0].is_ascii_digit() && d != "0",
    };
    class_ok && division_ok
}

/// What happened in a port operations event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PortOpsKind {
    /// A pilot boarded the vessel.
    PilotBoarded,
    /// The pilot left the vessel.
    PilotDisembarked,
    /// A tug was made fast.
    TugAssigned,
    /// A tug was released.
    TugReleased,
    /// The mooring crew made the vessel fast at its berth.
    MooringCompleted,
    /// The mooring crew let the vessel go.
    UnmooringCompleted,
}

/// A port service delivered to a vessel: pilotage, towage, mooring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortOpsEvent {
    /// The operator's unique id for this event.
    pub event_id: String,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// The vessel served.
    pub mmsi: u32,
    /// What happened.
    pub kind: PortOpsKind,
    /// Who did it: pilot id, tug name or mooring crew id.
    pub resource: String,
    /// The shift of the pilot or crew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<String>,
    /// The berth, for mooring events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub berth: Option<String>,
}

impl PortOpsEvent {
    /// Checks every field against `rules`, with `now` as the receive time.
    pub fn validate(&self, rules: &ValidationRules, now: DateTime<Utc>) -> Result<(), Rejection> {
        check_id("event_id", &self.event_id)?;
        check_mmsi(self.mmsi)?;
        rules.check_timestamp(self.timestamp, now)?;
        check_id("resource", &self.resource)?;
        Ok(())
    }
}

fn check_id(name: &str, value: &str) -> Result<(), Rejection> {
    if value.is_empty() || value.len() > 64 {
        return Err(out_of_range(format!("{name} must be 1..=64 bytes")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectClass;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn cargo() -> CargoEvent {
        CargoEvent {
            event_id: "ECT-2026-000123".into(),
            timestamp: now(),
            mmsi: 244_123_456,
            voyage: Some("042W".into()),
            berth: "Maasvlakte II".into(),
            operation: CargoOperation::Discharge,
            containers: 120,
            teu: 200,
            imdg_class: Some("2.1".into()),
        }
    }

    #[test]
    fn cargo_validation() {
        let rules = ValidationRules::default();
        assert!(cargo().validate(&rules, now()).is_ok());
        for bad in [
            CargoEvent { teu: 10, ..cargo() },
            CargoEvent { teu: 400, ..cargo() },
            CargoEvent { imdg_class: Some("10".into()), ..cargo() },
            CargoEvent { imdg_class: Some("2.".into()), ..cargo() },
            CargoEvent { berth: String::new(), ..cargo() },
        ] {
            assert_eq!(
                bad.validate(&rules, now()).unwrap_err().class,
                RejectClass::FieldOutOfRange,
                "{bad:?}"
            );
        }
        for ok in ["1", "1.4", "9"] {
            assert!(is_imdg_class(ok), "{ok}");
        }
    }

    #[test]
    fn ops_wire_format() {
        let json = r#"{"event_id":"p-1","timestamp":"2026-11-22T12:00:00Z","mmsi":244123456,"kind":"pilot_boarded","resource":"pilot-17"}"#;
        let e: PortOpsEvent = serde_json::from_str(json).unwrap();
        assert_eq!(e.kind, PortOpsKind::PilotBoarded);
        assert!(e.validate(&ValidationRules::default(), now()).is_ok());
        assert_eq!(serde_json::to_string(&e).unwrap(), json);
    }
}
