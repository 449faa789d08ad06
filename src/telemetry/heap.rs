//! The allocator's heap gauges, read at scrape time (see [`crate::alloc`]).
//!
//! | name | type | source |
//! |---|---|---|
//! | `porttrack_heap_allocated_bytes` | gauge | bytes the program holds (jemalloc `stats.allocated`) |
//! | `porttrack_heap_resident_bytes` | gauge | the allocator's resident pages (jemalloc `stats.resident`) |
//!
//! A leak shows as `allocated` climbing; `resident` above it is what the
//! allocator keeps cached, and `process_resident_memory_bytes` above that
//! is the rest of the process (librdkafka's buffers, thread stacks, code).
//! Rendered like the process metrics, beside the recorder: gauges read
//! only when scraped. Nothing is rendered where the allocator is not
//! jemalloc.

use std::fmt::Write as _;

/// Appends the heap gauges, in the Prometheus text format, to `out`.
pub(super) fn render(out: &mut String) {
    let Some(heap) = crate::alloc::heap() else { return };
    for (name, help, value) in [
        (
            "porttrack_heap_allocated_bytes",
            "Bytes allocated and not yet freed (jemalloc stats.allocated).",
            heap.allocated,
        ),
        (
            "porttrack_heap_resident_bytes",
            "Bytes in the allocator's resident pages (jemalloc stats.resident).",
            heap.resident,
        ),
    ] {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n\n");
    }
}
