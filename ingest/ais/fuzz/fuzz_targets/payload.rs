//! Raw payload bytes (first byte: fill bits) through the message decoder and the JSON
//! renderers: any panic is a bug, and the two renderings must agree wherever gpsd's own
//! line is valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porttrack_ais::{Message, gpsd};

fuzz_target!(|data: &[u8]| {
    let Some((&fill, armored)) = data.split_first() else { return };
    if let Ok(message) = Message::decode_armored(armored, fill) {
        // Its own check: a renderer writing invalid JSON for the value is a debug assertion.
        let value = gpsd::to_gpsd_json(&message, None);
        let line = gpsd::to_gpsd_json_line(&message, None);
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(parsed) => assert_eq!(parsed, value),
            // gpsd 3.22's textual defects (a missing comma in type 8 FID 19, unescaped inland
            // strings), reproduced byte for byte in the line for the oracle: only type 6/8
            // applications have them, and the structured value stays whole.
            Err(e) => assert!(matches!(value["type"].as_u64(), Some(6 | 8)), "{e}: {line}"),
        }
    }
});
