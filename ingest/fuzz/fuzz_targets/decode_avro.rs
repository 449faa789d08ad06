//! Arbitrary bytes as Avro, raw and behind each framing (Confluent with a
//! locally mapped id, single-object with each PortTrack fingerprint): never a
//! panic, never a huge allocation (the catalogue caps them).
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use porttrack_ingest::decode::{AvroCatalog, AvroConfig};
use porttrack_schemas::EventKind;

thread_local! {
    // Built once: parsing the schemas per input made this target ~100×
    // slower than the others (66 inputs/s). Without a registry its cache
    // holds only the configured ids, so inputs do not influence each other.
    static CATALOG: RefCell<AvroCatalog> = RefCell::new(
        AvroCatalog::new(AvroConfig {
            schema_ids: [
                ("1".to_owned(), "dev.porttrack.v1.CargoEvent".to_owned()),
                ("2".to_owned(), "dev.porttrack.v1.Position".to_owned()),
            ]
            .into(),
            ..AvroConfig::default()
        })
        .expect("PortTrack's own schemas parse"),
    );
}

fuzz_target!(|data: &[u8]| CATALOG.with_borrow_mut(|catalog| fuzz(catalog, data)));

fn fuzz(catalog: &mut AvroCatalog, data: &[u8]) {
    let _ = catalog.decode(data);
    for id in [1_u32, 2] {
        let mut framed = vec![0];
        framed.extend_from_slice(&id.to_be_bytes());
        framed.extend_from_slice(data);
        let _ = catalog.decode(&framed);
    }
    for kind in EventKind::ALL {
        if let Some(mut framed) = catalog.single_object_header(kind) {
            framed.extend_from_slice(data);
            let _ = catalog.decode(&framed);
        }
    }
}
