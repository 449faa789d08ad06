use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

/// Why a record was refused. The set is closed and small on purpose: it is
/// used as a metric label and as the `porttrack.error.class` dead-letter
/// header, so it must stay bounded and stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectClass {
    /// The payload is not the JSON document the topic's schema describes.
    MalformedJson,
    /// The MMSI is not nine decimal digits.
    MmsiInvalid,
    /// Latitude outside -90..=90 (or not a number).
    LatOutOfRange,
    /// Longitude outside -180..=180 (or not a number).
    LonOutOfRange,
    /// Event time before the earliest plausible time or too far in the future.
    TimestampAbsurd,
    /// Another field (SOG, COG, heading, navigational status) out of range.
    FieldOutOfRange,
    /// A sink refused the record itself (for example an Elasticsearch mapping error).
    SinkRejected,
}

impl RejectClass {
    /// Every class, for pre-registering metrics.
    pub const ALL: [RejectClass; 7] = [
        RejectClass::MalformedJson,
        RejectClass::MmsiInvalid,
        RejectClass::LatOutOfRange,
        RejectClass::LonOutOfRange,
        RejectClass::TimestampAbsurd,
        RejectClass::FieldOutOfRange,
        RejectClass::SinkRejected,
    ];

    /// The stable snake_case name used in metrics and headers.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectClass::MalformedJson => "malformed_json",
            RejectClass::MmsiInvalid => "mmsi_invalid",
            RejectClass::LatOutOfRange => "lat_out_of_range",
            RejectClass::LonOutOfRange => "lon_out_of_range",
            RejectClass::TimestampAbsurd => "timestamp_absurd",
            RejectClass::FieldOutOfRange => "field_out_of_range",
            RejectClass::SinkRejected => "sink_rejected",
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
