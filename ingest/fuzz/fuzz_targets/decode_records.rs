//! A stream of records, split on 0xFF bytes, through the pipeline's decoders
//! of every default topic (JSON, Avro, NMEA with reassembly across records):
//! never a panic, and every record is accounted for (events, refusals, or a
//! fragment held that pins the commit).
#![no_main]

use chrono::{Duration, Utc};
use libfuzzer_sys::fuzz_target;
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::decode::{Decoders, RecordIn};
use porttrack_schemas::{Origin, ValidationRules};

fuzz_target!(|data: &[u8]| {
    let kafka = KafkaConfig::default();
    let Ok(mut decoders) = Decoders::new(&kafka, ValidationRules::default(), Default::default()) else { return };
    let start = Utc::now();
    for (i, record) in data.split(|b| *b == 0xFF).enumerate() {
        let topic = &kafka.topics[i % kafka.topics.len()];
        let origin = Origin::new(topic.name.as_str(), (i % 2) as i32, i as i64);
        // Time moves 10 s a record so reassembly timeouts fire.
        let now = start + Duration::seconds(10 * i as i64);
        let out = decoders.decode(&RecordIn::new(&origin, record), now);
        let held = decoders.held_offset(&origin.topic, origin.partition).is_some();
        assert!(!out.events.is_empty() || !out.rejections.is_empty() || held);
    }
});
