//! The dead-letter path.
//!
//! A refused record is never dropped: it is written to the dead-letter topic
//! with its original key, payload and headers, plus headers that say where it
//! came from and why it was refused. Its offset is committed only after the
//! dead-letter write was acknowledged, like any other sink write.
//!
//! The producer is idempotent (`enable.idempotence`), so librdkafka's own
//! retries never duplicate or reorder a letter. The topic as a whole is
//! still at-least-once: a crash between the dead-letter write and the
//! offset commit writes the letter again on replay. Readers that need
//! exactly-once deduplicate on the source headers (topic, partition, offset,
//! index, and for refused processor outputs the derived kind and payload).
//!
//! Why not a Kafka transaction around the letters and the offset commit:
//! offsets are committed by the consumer, after the processor checkpoint,
//! for several batches at once and across rebalances that drain in-flight
//! work (`source/commit.rs`). Moving that commit into a transactional
//! producer (`send_offsets_to_transaction`) would give every instance a
//! transactional id and fencing of its own and make every commit, not only
//! the rare ones with letters, a transaction; and the stores (Postgres,
//! Elasticsearch) are outside any Kafka transaction anyway, which is why
//! they are idempotent. The letters are made idempotent the same way: by
//! their identity in the headers.

use futures::future::try_join_all;
use porttrack_schemas::{Origin, Rejection};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};

use crate::producer::{AckedProducer, Record};

/// Header names PortTrack adds to every dead letter.
pub mod headers {
    /// The bounded error class (`malformed_json`, `mmsi_invalid`, …).
    pub const ERROR_CLASS: &str = "porttrack.error.class";
    /// What the class's policy is: `reject` (bad data, counted as an error)
    /// or `quarantine` (kept for reprocessing, not an error).
    pub const ERROR_POLICY: &str = "porttrack.error.policy";
    /// A human-readable description of what was wrong.
    pub const ERROR_MESSAGE: &str = "porttrack.error.message";
    /// Topic the record was read from.
    pub const SOURCE_TOPIC: &str = "porttrack.source.topic";
    /// Partition the record was read from, decimal.
    pub const SOURCE_PARTITION: &str = "porttrack.source.partition";
    /// Offset the record was read at, decimal.
    pub const SOURCE_OFFSET: &str = "porttrack.source.offset";
    /// Which event of the record was refused, decimal: 0 unless one record
    /// yields several events (an NMEA record of several sentences, each of
    /// which a sink may refuse on its own). With topic, partition and offset
    /// it identifies a letter, which is what readers deduplicate on.
    pub const SOURCE_INDEX: &str = "porttrack.source.index";
    /// Set only on letters that carry a processor output a sink refused
    /// (`zone_event`, `port_call`, `anomaly`, `weather_alert`,
    /// `congestion`), not a consumed record: the payload is the output as
    /// JSON and the source headers name the batch's last record of that
    /// partition. Such letters cannot be replayed to a source topic.
    pub const DERIVED_KIND: &str = "porttrack.derived.kind";
    /// Set (to `json`) when the payload is not the consumed record's bytes
    /// but its decoded event re-encoded as JSON (a record a sink refused
    /// after decoding). Such a letter can be replayed only to a JSON topic.
    pub const REENCODED: &str = "porttrack.payload.reencoded";
    /// On a record replayed by `porttrack dlq replay`: the letter it came
    /// from, `<dlq topic>/<partition>/<offset>` (readers drop a second
    /// replay of the same letter by it).
    pub const REPLAY_OF: &str = "porttrack.replay.of";
}

/// A refused record, ready for the dead-letter topic.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Where the record was read.
    pub origin: Origin,
    /// The original key, byte for byte.
    pub key: Option<Vec<u8>>,
    /// The original payload, byte for byte.
    pub payload: Option<Vec<u8>>,
    /// The original headers, in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Why it was refused.
    pub rejection: Rejection,
}

impl DeadLetter {
    /// The headers written with the letter: the original ones, then PortTrack's.
    pub fn kafka_headers(&self) -> OwnedHeaders {
        let mut out = OwnedHeaders::new_with_capacity(self.headers.len() + 7);
        for (key, value) in &self.headers {
            out = out.insert(Header { key, value: value.as_deref() });
        }
        let partition = self.origin.partition.to_string();
        let offset = self.origin.offset.to_string();
        let index = self.origin.index.to_string();
        let ours: [(&str, &[u8]); 7] = [
            (headers::ERROR_CLASS, self.rejection.class.as_str().as_bytes()),
            (headers::ERROR_POLICY, self.rejection.class.policy().as_str().as_bytes()),
            (headers::ERROR_MESSAGE, self.rejection.message.as_bytes()),
            (headers::SOURCE_TOPIC, self.origin.topic.as_bytes()),
            (headers::SOURCE_PARTITION, partition.as_bytes()),
            (headers::SOURCE_OFFSET, offset.as_bytes()),
            (headers::SOURCE_INDEX, index.as_bytes()),
        ];
        for (key, value) in ours {
            out = out.insert(Header { key, value: Some(value) });
        }
        out
    }
}

/// Writes dead letters and waits until the broker acknowledged each.
#[derive(Clone)]
pub struct DeadLetterProducer {
    producer: AckedProducer,
    topic: String,
}

impl std::fmt::Debug for DeadLetterProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetterProducer").field("topic", &self.topic).finish_non_exhaustive()
    }
}

impl DeadLetterProducer {
    /// A producer writing to `topic`.
    pub fn new(producer: AckedProducer, topic: impl Into<String>) -> Self {
        DeadLetterProducer { producer, topic: topic.into() }
    }

    /// The dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Writes every letter and returns once all were acknowledged, or with the
    /// first error. On error some letters may have been written: callers retry
    /// the whole set, which the at-least-once contract above allows.
    pub async fn send_all(&self, letters: &[DeadLetter]) -> Result<(), KafkaError> {
        let sends = letters.iter().map(|letter| {
            self.producer.send(Record {
                topic: &self.topic,
                key: letter.key.as_deref(),
                payload: letter.payload.as_deref(),
                headers: letter.kafka_headers(),
            })
        });
        try_join_all(sends).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use porttrack_schemas::RejectClass;
    use rdkafka::message::Headers;

    #[test]
    fn headers_keep_the_originals_and_add_the_reason_and_source() {
        let letter = DeadLetter {
            origin: Origin::new("ais.positions", 2, 77),
            key: Some(b"244123456".to_vec()),
            payload: Some(b"{".to_vec()),
            headers: vec![("traceparent".into(), Some(b"00-abc-def-01".to_vec()))],
            rejection: Rejection::new(RejectClass::MalformedJson, "EOF while parsing"),
        };
        let h = letter.kafka_headers();
        let pairs: Vec<(String, String)> = h
            .iter()
            .map(|h| (h.key.to_owned(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned()))
            .collect();
        let expect = [
            ("traceparent", "00-abc-def-01"),
            (headers::ERROR_CLASS, "malformed_json"),
            (headers::ERROR_POLICY, "reject"),
            (headers::ERROR_MESSAGE, "EOF while parsing"),
            (headers::SOURCE_TOPIC, "ais.positions"),
            (headers::SOURCE_PARTITION, "2"),
            (headers::SOURCE_OFFSET, "77"),
            (headers::SOURCE_INDEX, "0"),
        ];
        let expect: Vec<(String, String)> = expect.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        assert_eq!(pairs, expect);
    }
}
