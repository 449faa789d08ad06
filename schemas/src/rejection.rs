use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

/// Why a record was refused. The set is closed and small on purpose: it is
/// used as a metric label and as the `porttrack.error.class` dead-letter
/// header, so it must stay bounded and stable.
///
/// Every class has a [`Policy`] (see [`RejectClass::policy`]); the README's
/// dead-letter section documents them for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectClass {
    /// The payload is not the JSON document the topic's schema describes.
    MalformedJson,
    /// The payload is not Avro of the schema it names (or names none).
    MalformedAvro,
    /// The Avro payload names a schema (Confluent id or single-object
    /// fingerprint) that neither the registry nor the local schemas know.
    SchemaUnknown,
    /// Not an NMEA 0183 AIS sentence, or its payload is not valid 6-bit armour
    /// or too short for its message type.
    MalformedNmea,
    /// The NMEA sentence's (or tag block's) checksum does not match.
    NmeaChecksum,
    /// A well-formed AIS message of a type PortTrack does not decode.
    UnsupportedMessage,
    /// A fragment of a multi-sentence AIS message whose other parts never
    /// arrived (timed out or evicted by the reassembly bound).
    FragmentIncomplete,
    /// The MMSI is not nine decimal digits.
    MmsiInvalid,
    /// Latitude outside -90..=90 (or not a number).
    LatOutOfRange,
    /// Longitude outside -180..=180 (or not a number).
    LonOutOfRange,
    /// Event time before the earliest plausible time or too far in the future.
    TimestampAbsurd,
    /// Another field out of range.
    FieldOutOfRange,
    /// A sink refused the record itself (for example an Elasticsearch mapping error).
    SinkRejected,
    /// Failed on purpose by the fault-injection switch (release drills only).
    FaultInjected,
}

/// What PortTrack does with a record of a given [`RejectClass`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Policy {
    /// The record is wrong: dead-lettered and counted as an error (alerts and
    /// canary analysis read the error ratio).
    Reject,
    /// The record may be fine but PortTrack cannot use it: dead-lettered for
    /// later reprocessing, not counted as an error.
    Quarantine,
}

impl Policy {
    /// The stable name used in the `porttrack.error.policy` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Reject => "reject",
            Policy::Quarantine => "quarantine",
        }
    }
}

impl RejectClass {
    /// Every class, for pre-registering metrics.
    pub const ALL: [RejectClass; 14] = [
        RejectClass::MalformedJson,
        RejectClass::MalformedAvro,
        RejectClass::SchemaUnknown,
        RejectClass::MalformedNmea,
        RejectClass::NmeaChecksum,
        RejectClass::UnsupportedMessage,
        RejectClass::FragmentIncomplete,
        RejectClass::MmsiInvalid,
        RejectClass::LatOutOfRange,
        RejectClass::LonOutOfRange,
        RejectClass::TimestampAbsurd,
        RejectClass::FieldOutOfRange,
        RejectClass::SinkRejected,
        RejectClass::FaultInjected,
    ];

    /// The stable snake_case name used in metrics and headers.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectClass::MalformedJson => "malformed_json",
            RejectClass::MalformedAvro => "malformed_avro",
            RejectClass::SchemaUnknown => "schema_unknown",
            RejectClass::MalformedNmea => "malformed_nmea",
            RejectClass::NmeaChecksum => "nmea_checksum",
            RejectClass::UnsupportedMessage => "unsupported_message",
            RejectClass::FragmentIncomplete => "fragment_incomplete",
            RejectClass::MmsiInvalid => "mmsi_invalid",
            RejectClass::LatOutOfRange => "lat_out_of_range",
            RejectClass::LonOutOfRange => "lon_out_of_range",
            RejectClass::TimestampAbsurd => "timestamp_absurd",
            RejectClass::FieldOutOfRange => "field_out_of_range",
            RejectClass::SinkRejected => "sink_rejected",
            RejectClass::FaultInjected => "fault_injected",
        }
    }

    /// What happens to records of this class.
    ///
    /// Quarantined: an AIS type we do not decode, an incomplete multi-part
    /// message (its parts are dead-lettered and can be replayed together), a
    /// schema the registry does not know yet (a producer ahead of the
    /// registry). Everything else is wrong data and rejected.
    pub fn policy(self) -> Policy {
        match self {
            RejectClass::UnsupportedMessage
            | RejectClass::FragmentIncomplete
            | RejectClass::SchemaUnknown => Policy::Quarantine,
            _ => Policy::Reject,
        }
    }
}

impl fmt::Display for RejectClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused record's class and a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The bounded class.
    pub class: RejectClass,
    /// What exactly was wrong, for operators reading the dead-letter topic.
    pub message: String,
}

impl Rejection {
    /// A rejection of `class` with `message`.
    pub fn new(class: RejectClass, message: impl Into<String>) -> Self {
        Rejection { class, message: message.into() }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}

impl std::error::Error for Rejection {}

/// A [`RejectClass::FieldOutOfRange`] rejection: the shared refusal of every
/// event's range checks.
pub(crate) fn out_of_range(message: String) -> Rejection {
    Rejection::new(RejectClass::FieldOutOfRange, message)
}

/// The tunable part of validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationRules {
    /// Event times before this are absurd (AIS as deployed did not exist).
    pub earliest: DateTime<Utc>,
    /// How far ahead of the receive time an event time may be (receiver clocks drift).
    pub max_future_skew: Duration,
}

impl Default for ValidationRules {
    fn default() -> Self {
        ValidationRules {
            earliest: Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().unwrap_or_default(),
            max_future_skew: Duration::from_secs(300),
        }
    }
}

impl ValidationRules {
    /// Checks `timestamp` against the rules, with `now` as the receive time.
    pub fn check_timestamp(&self, timestamp: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Rejection> {
        if timestamp < self.earliest {
            return Err(Rejection::new(
                RejectClass::TimestampAbsurd,
                format!("timestamp {timestamp} is before {}", self.earliest),
            ));
        }
        let skew = chrono::Duration::from_std(self.max_future_skew).unwrap_or(chrono::Duration::MAX);
        if timestamp > now + skew {
            return Err(Rejection::new(
                RejectClass::TimestampAbsurd,
                format!(
                    "timestamp {timestamp} is more than {}s ahead of receive time {now}",
                    self.max_future_skew.as_secs()
                ),
            ));
        }
        Ok(())
    }
}
