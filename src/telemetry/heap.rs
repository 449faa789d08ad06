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
//! Set on the recorder just before it renders, like a scrape-time
//! collector: nothing reads the allocator between scrapes. Nothing is set
//! where the allocator is not jemalloc.

/// Sets the heap gauges to the allocator's figures now.
pub(super) fn record() {
    let Some(heap) = crate::alloc::heap() else { return };
    metrics::gauge!(porttrack_metrics::HEAP_ALLOCATED_BYTES).set(heap.allocated as f64);
    metrics::gauge!(porttrack_metrics::HEAP_RESIDENT_BYTES).set(heap.resident as f64);
}
