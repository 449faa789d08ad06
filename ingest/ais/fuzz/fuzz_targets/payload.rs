//! Raw payload bytes (first byte: fill bits) through the message decoder and the JSON
//! renderers: any panic is a bug, and the two renderings must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porttrack_ais::{Message, gpsd};

fuzz_target!(|data: &[u8]| {
    let Some((&fill, armored)) = data.split_first() else { return };
    if let Ok(message) = Message::decode_armored(armored, fill) {
        let line = gpsd::to_gpsd_json_line(&message, None);
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(parsed, gpsd::to_gpsd_json(&message, None));
    }
});
