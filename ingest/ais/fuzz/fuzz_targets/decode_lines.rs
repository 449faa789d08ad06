//! Lines through the whole decoder: parsing, tag blocks, reassembly (with a tiny table and
//! timeout, so eviction and expiry paths run), skipping of non-AIS lines, decoding of all 27
//! types, type 24 merging, gpsd JSON, and the end-of-input report of pending fragments.
//! Any panic is a bug; so is a reassembly table above its bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porttrack_ais::{Decoder, Limits, Line, gpsd};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let limits = Limits { max_pending: 4, timeout_ms: 3 };
    let mut decoder = Decoder::new(limits);
    for (now, line) in text.lines().enumerate() {
        let now = now as u64;
        if let Ok(Line::Decoded(decoded)) = decoder.process_line(line, now) {
            let text = gpsd::to_gpsd_json_line(&decoded.message, Some("fuzz"));
            let value = gpsd::to_gpsd_json(&decoded.message, None);
            assert!(text.starts_with('{') && value.is_object());
            let _ = decoded.event_time_ms();
        }
        for error in decoder.take_dropped() {
            assert!(porttrack_ais::Error::CLASSES.contains(&error.class()));
        }
        decoder.expire(now);
        assert!(decoder.assembler().pending() <= limits.max_pending);
    }
    // End of input: every pending fragment is reported, in a known class.
    for error in decoder.finish() {
        assert!(porttrack_ais::Error::CLASSES.contains(&error.class()));
    }
    assert_eq!(decoder.assembler().pending(), 0);
});
