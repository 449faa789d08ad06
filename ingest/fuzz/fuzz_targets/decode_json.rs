//! Arbitrary bytes as a JSON record of every event kind: never a panic, and
//! every record ends as exactly one event or one refusal.
#![no_main]

use chrono::Utc;
use libfuzzer_sys::fuzz_target;
use porttrack_ingest::config::EventName;
use porttrack_ingest::decode::json;
use porttrack_schemas::ValidationRules;

fuzz_target!(|data: &[u8]| {
    let rules = ValidationRules::default();
    for kind in [EventName::Position, EventName::Static, EventName::Weather, EventName::Cargo, EventName::PortOps] {
        if let Ok(event) = json::decode(kind, data, &rules, Utc::now()) {
            // Whatever was accepted validates and serialises.
            assert!(event.validate(&rules, Utc::now()).is_ok());
        }
    }
});
