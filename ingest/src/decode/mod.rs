//! Kafka records to validated events, per topic format.
//!
//! Each consumed topic has a [`Format`](crate::config::Format) in
//! configuration; [`Decoders`] holds one decoder per topic and turns a
//! record's payload into zero or more [`Event`]s, or says why not with a
//! [`Rejection`] whose [`RejectClass`](porttrack_schemas::RejectClass)
//! becomes a metric label and a dead-letter header:
//!
//! * JSON ([`json`]): one document of the topic's event kind per record.
//! * Avro ([`avro`]): Confluent wire format (schema id looked up in a schema
//!   registry, or configured locally) or Avro single-object encoding
//!   (schema fingerprint), resolved against PortTrack's own schemas.
//! * NMEA ([`nmea`]): raw `!AIVDM`/`!AIVDO` sentences, one or more lines per
//!   record, with multi-sentence reassembly across records.
//!
//! Decoding is pure apart from the registry lookups of unseen Avro schema ids,
//! which are cached.
//!
//! ```
//! use chrono::Utc;
//! use porttrack_ingest::config::KafkaConfig;
//! use porttrack_ingest::decode::{Decoders, RecordIn};
//! use porttrack_schemas::{Event, Origin, RejectClass, ValidationRules};
//!
//! let mut decoders = Decoders::new(&KafkaConfig::default(), ValidationRules::default(), Default::default()).unwrap();
//! let now = Utc::now();
//! let json = format!(r#"{{"mmsi":244123456,"timestamp":"{}","lat":51.95,"lon":4.05}}"#, now.to_rfc3339());
//! let origin = Origin::new("ais.positions", 0, 7);
//! let out = decoders.decode(&RecordIn::new(&origin, json.as_bytes()), now);
//! assert!(matches!(&out.events[0].event, Event::Position(p) if p.mmsi == 244_123_456));
//!
//! let origin = Origin::new("ais.positions", 0, 8);
//! let out = decoders.decode(&RecordIn::new(&origin, b"{"), now);
//! assert_eq!(out.rejections[0].rejection.class, RejectClass::MalformedJson);
//! ```

pub mod avro;
pub mod json;
pub mod nmea;

use chrono::{DateTime, Utc};
use porttrack_schemas::{Event, Origin, RejectClass, Rejection, Sourced, Topic, ValidationRules};

use crate::config::{EventName, Format, KafkaConfig};
use crate::source::hash::FxHashMap;

pub use avro::{AvroCatalog, AvroConfig};
pub use json::decode_position_json;

/// A record to decode: where it was read and its payload.
#[derive(Debug, Clone, Copy)]
pub struct RecordIn<'a> {
    /// The record's coordinates (index 0).
    pub origin: &'a Origin,
    /// The payload bytes (empty for a tombstone).
    pub payload: &'a [u8],
    /// The Kafka record timestamp, used as receive time for NMEA sentences
    /// without a tag-block time.
    pub timestamp: Option<DateTime<Utc>>,
}

impl<'a> RecordIn<'a> {
    /// A record with no Kafka timestamp.
    pub fn new(origin: &'a Origin, payload: &'a [u8]) -> Self {
        RecordIn { origin, payload, timestamp: None }
    }
}

/// A refusal, with the origin of the record (or earlier fragment) it concerns
/// and, for a fragment held from an earlier record, that fragment's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// The record refused.
    pub origin: Origin,
    /// Why.
    pub rejection: Rejection,
    /// `Some` when the refused bytes are not the current record's payload
    /// (an expired fragment of an earlier record).
    pub payload: Option<Vec<u8>>,
}

/// What decoding gave: for one record ([`Decoders::decode`]), its events and
/// refusals; for an expiry ([`Decoders::expire`]), the refusals of fragments
/// that waited too long. (One decoded AIS message, before it becomes events,
/// is a [`porttrack_ais::Decoded`].)
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DecodeOutcome {
    /// Valid events, in order.
    pub events: Vec<Sourced<Event>>,
    /// Refusals: this record (if any part of it is bad) or expired fragments
    /// of earlier records.
    pub rejections: Vec<Refused>,
    /// Valid AIS messages deliberately not stored, with their type (counted
    /// in `porttrack_ais_messages_ignored_total`; `porttrack decode` says so
    /// per line, so that no input line produces nothing).
    pub ignored: Vec<(Origin, u8)>,
}

impl DecodeOutcome {
    fn refuse(&mut self, origin: &Origin, rejection: Rejection) {
        self.rejections.push(Refused { origin: *origin, rejection, payload: None });
    }
}

enum TopicDecoder {
    Json(EventName),
    Avro,
    Nmea(Box<nmea::NmeaDecoder>),
}

/// Per-topic decoders for everything the source consumes.
pub struct Decoders {
    /// By topic name (hashed per record: see `source/hash.rs`).
    topics: FxHashMap<Topic, TopicDecoder>,
    rules: ValidationRules,
    avro: AvroCatalog,
    /// `porttrack_records_decoded_total` per format (json, avro, nmea),
    /// resolved once.
    decoded: [metrics::Counter; 3],
    /// Records decoded per format since the last [`flush_counts`](Self::flush_counts):
    /// the counters are added to once per burst of the poll loop, not per
    /// record (an atomic addition per record was about 1% of the `json →
    /// null` bench's samples).
    unflushed: [u64; 3],
}

impl std::fmt::Debug for Decoders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoders")
            .field("topics", &self.topics.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Why decoders could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodersError {
    /// The Avro catalogue could not be built.
    #[error("avro: {0}")]
    Avro(#[from] avro::AvroError),
}

impl Decoders {
    /// Decoders for the topics of `kafka`, validating with `rules`.
    pub fn new(kafka: &KafkaConfig, rules: ValidationRules, avro: AvroConfig) -> Result<Self, DecodersError> {
        let mut topics = FxHashMap::default();
        for t in &kafka.topics {
            let decoder = match (t.format, t.event) {
                (Format::Json, Some(event)) => TopicDecoder::Json(event),
                // Checked by the configuration; a default keeps this total.
                (Format::Json, None) => TopicDecoder::Json(EventName::Position),
                (Format::Avro, _) => TopicDecoder::Avro,
                (Format::Nmea, _) => TopicDecoder::Nmea(Box::default()),
            };
            topics.insert(Topic::new(&t.name), decoder);
        }
        // Indexed by `Format as usize`: `Format::ALL` is in declaration order.
        let decoded = Format::ALL
            .map(|f| metrics::counter!(porttrack_metrics::RECORDS_DECODED_TOTAL, "format" => f.as_str()));
        Ok(Decoders { topics, rules, avro: AvroCatalog::new(avro)?, decoded, unflushed: [0; 3] })
    }

    /// Decodes one record. `now` is the receive time that event times are
    /// judged against (and the clock of NMEA reassembly timeouts).
    pub fn decode(&mut self, record: &RecordIn<'_>, now: DateTime<Utc>) -> DecodeOutcome {
        let mut out = DecodeOutcome::default();
        self.decode_into(record, now, &mut out);
        self.flush_counts();
        out
    }

    /// Like [`decode`](Self::decode), appending to `out` (whose vectors the
    /// caller empties and reuses: the poll loop decodes every record into
    /// the same one instead of allocating an outcome per record). The
    /// record is counted in `porttrack_records_decoded_total` at the next
    /// [`flush_counts`](Self::flush_counts).
    pub fn decode_into(&mut self, record: &RecordIn<'_>, now: DateTime<Utc>, out: &mut DecodeOutcome) {
        let events_before = out.events.len();
        let origin = record.origin;
        let Some(decoder) = self.topics.get_mut(&origin.topic) else {
            out.refuse(
                origin,
                Rejection::new(RejectClass::MalformedJson, "no decoder configured for this topic"),
            );
            return;
        };
        let format = match decoder {
            TopicDecoder::Json(kind) => {
                match json::decode(*kind, record.payload, &self.rules, now) {
                    Ok(event) => out.events.push(Sourced { origin: *origin, event }),
                    Err(r) => out.refuse(origin, r),
                }
                Format::Json
            }
            TopicDecoder::Avro => {
                match self.avro.decode(record.payload).and_then(|event| {
                    event.validate(&self.rules, now)?;
                    Ok(json::normalize(event))
                }) {
                    Ok(event) => out.events.push(Sourced { origin: *origin, event }),
                    Err(r) => out.refuse(origin, r),
                }
                Format::Avro
            }
            TopicDecoder::Nmea(nmea) => {
                nmea.decode(record, &self.rules, now, out);
                Format::Nmea
            }
        };
        if out.events.len() > events_before {
            self.unflushed[format as usize] += 1;
        }
    }

    /// Adds the records decoded since the last call to
    /// `porttrack_records_decoded_total`.
    pub fn flush_counts(&mut self) {
        for (counter, n) in self.decoded.iter().zip(&mut self.unflushed) {
            if *n > 0 {
                counter.increment(std::mem::take(n));
            }
        }
    }

    /// Forgets per-partition decoder state (pending NMEA fragments) of
    /// partitions given up in a rebalance; the next owner re-reads them.
    pub fn forget_partitions(&mut self, partitions: &[(Topic, i32)]) {
        for (topic, partition) in partitions {
            if let Some(TopicDecoder::Nmea(n)) = self.topics.get_mut(topic) {
                n.forget_partition(*partition);
            }
        }
    }

    /// Dead-letters held NMEA fragments that waited past the reassembly
    /// timeout (the source calls this periodically, so a lone fragment at the
    /// end of a partition is not held forever). Returns the refusals and the
    /// `(topic, partition)`s they came from.
    pub fn expire(&mut self, now: DateTime<Utc>) -> (DecodeOutcome, Vec<(Topic, i32)>) {
        let mut out = DecodeOutcome::default();
        let mut touched = Vec::new();
        for (topic, decoder) in &mut self.topics {
            if let TopicDecoder::Nmea(n) = decoder {
                touched.extend(n.expire(now, &mut out).into_iter().map(|p| (*topic, p)));
            }
        }
        (out, touched)
    }

    /// The offset of the earliest record of `(topic, partition)` holding a
    /// fragment that still waits for its other parts. Offsets must not be
    /// committed past it, or a crash would lose the fragment.
    pub fn held_offset(&self, topic: &Topic, partition: i32) -> Option<i64> {
        match self.topics.get(topic) {
            Some(TopicDecoder::Nmea(n)) => n.earliest_pending(partition),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_formats() -> Decoders {
        Decoders::new(&KafkaConfig::default(), ValidationRules::default(), AvroConfig::default()).unwrap()
    }

    #[test]
    fn every_default_topic_has_a_decoder_and_unknown_topics_are_refused() {
        let mut d = all_formats();
        for t in KafkaConfig::default().topics {
            let origin = Origin::new(t.name.as_str(), 0, 0);
            let out = d.decode(&RecordIn::new(&origin, b"\xff"), Utc::now());
            assert_eq!(out.rejections.len(), 1, "{}: garbage is refused once", t.name);
        }
        let origin = Origin::new("elsewhere", 0, 0);
        assert_eq!(d.decode(&RecordIn::new(&origin, b"{}"), Utc::now()).rejections.len(), 1);
    }

    proptest! {
        /// No input crashes any decoder, and every record is accounted for:
        /// it yields events or refusals (or, for NMEA, is held as a fragment).
        #[test]
        fn arbitrary_payloads_never_panic_and_are_never_ignored(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            line in "(!AIVDM,[0-9],[0-9],[0-9]?,[AB12]?,[0-9A-Za-z`;:<>=?@]{0,60},[0-5]\\*[0-9A-F]{2}){1,3}",
        ) {
            let mut d = all_formats();
            for (i, t) in KafkaConfig::default().topics.iter().enumerate() {
                for payload in [bytes.as_slice(), line.as_bytes()] {
                    let origin = Origin::new(t.name.as_str(), 0, i as i64);
                    let out = d.decode(&RecordIn::new(&origin, payload), Utc::now());
                    let held = d.held_offset(&Topic::new(&t.name), 0).is_some();
                    prop_assert!(!out.events.is_empty() || !out.rejections.is_empty() || held);
                }
            }
        }
    }
}
