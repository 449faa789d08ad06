//! The process's allocator: jemalloc, for its heap statistics.
//!
//! A pipeline that runs for months must show a leak before it becomes an
//! outage, and the resident set alone cannot: it also moves with what the
//! allocator keeps cached, which with per-thread arenas can be a lot (a
//! batch allocated on the poll thread is freed on a Tokio worker). jemalloc
//! counts the bytes the program holds (`stats.allocated`) apart from what
//! it keeps mapped (`stats.resident`), cheaply, so `/metrics` serves both
//! ([`porttrack_heap_*`](crate::telemetry)) and the soak of
//! `cargo bench --bench pipeline` fits a slope to each. These count Rust's
//! allocations only: `tikv-jemallocator` does not replace the C library's
//! `malloc`, which librdkafka and OpenSSL keep using.
//!
//! Measured against glibc's malloc on the `json → null` row, four
//! alternating runs each of 1,000,000 records: 2.16–2.69 µs of CPU per
//! record with jemalloc, 1.94–2.57 µs with glibc; the same within the
//! machine's noise. The processor's state per vessel: 2,764 B against
//! 2,833 B (`processors/benches/memory.rs`, 100,000 vessels).
//!
//! Declared in this library, not in `main.rs`, so every test and bench
//! linking it runs on the allocator `porttrack` runs on. Linux with glibc
//! only: elsewhere (musl, macOS, Windows) the system allocator stays, and
//! [`heap`] answers `None`.

/// The global allocator.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The allocator's view of the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heap {
    /// Bytes the program holds: allocated and not yet freed.
    pub allocated: u64,
    /// Bytes of the allocator's pages resident in memory: what is held,
    /// plus its metadata and the freed pages it has not returned yet.
    pub resident: u64,
}

/// The heap now, or `None` where the allocator is not jemalloc.
///
/// jemalloc caches its statistics; this refreshes them first (a few
/// microseconds: it merges the arenas' counters), so call it per scrape or
/// per sample, not per record.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
pub fn heap() -> Option<Heap> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    Some(Heap {
        allocated: stats::allocated::read().ok()? as u64,
        resident: stats::resident::read().ok()? as u64,
    })
}

/// The heap now, or `None` where the allocator is not jemalloc.
#[cfg(not(all(target_os = "linux", not(target_env = "musl"))))]
pub fn heap() -> Option<Heap> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", not(target_env = "musl")))]
    fn held_bytes_follow_an_allocation_and_its_release() {
        let before = heap().expect("jemalloc's statistics").allocated;
        let block = vec![1_u8; 64 << 20];
        std::hint::black_box(&block);
        let during = heap().expect("jemalloc's statistics");
        // Other tests allocate concurrently: compare with a wide margin.
        assert!(during.allocated >= before + (48 << 20), "{before} then {during:?}");
        assert!(during.resident >= 48 << 20, "{during:?}");
        drop(std::hint::black_box(block));
        let after = heap().expect("jemalloc's statistics").allocated;
        assert!(after + (48 << 20) <= during.allocated, "{during:?} then {after}");
    }
}
