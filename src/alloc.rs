//! The process's allocator: jemalloc, for its heap statistics.
//!
//! A pipeline that runs for months must show a leak before it becomes an
//! outage, and the resident set alone cannot: it also moves with what the
//! allocator keeps cached, which with per-thread arenas can be a lot (a
//! batch allocated on the poll thread is freed on a Tokio worker). jemalloc
//! counts the bytes the program holds (`stats.allocated`) apart from what
//! it keeps mapped (`stats.resident`), cheaply, so `/metrics` serves both
//! ([`porttrack_heap_*`](crate::telemetry)) and the soak of
//! `cargo bench --bench pipeline` fits a slope to each.
//!
//! jemalloc is also the C library's `malloc` here
//! (`unprefixed_malloc_on_supported_platforms`), so librdkafka and OpenSSL
//! allocate from it too, and the heap statistics count their buffers.
//! That is for speed as much as for the count. librdkafka allocates every
//! message on its broker thread and the poll thread frees it; glibc's
//! `free` of another thread's chunk takes that thread's arena lock, and the
//! two threads queued on it: in a `json → null` run of 1,000,000 records
//! (2026-12-03, `perf record -e sched:sched_switch` with call graphs) 367
//! of the poll thread's 1,134 context switches and 208 of the broker
//! thread's 1,192 were sleeps on that lock. With jemalloc for both, in three
//! alternating pairs of runs (medians of 3 runs each), the plain consumer
//! of the bench's baseline went from 1.01–1.16 to 0.65–0.78 µs of CPU per
//! record (1.07–1.23M to 2.07–2.46M records/s), and the pipeline from
//! 2.55 / 3.47 / 3.24 to 2.94 / 3.23 / 2.37 µs, within the machine's noise.
//!
//! Rust's allocations alone on jemalloc (`de60156`, before the C
//! library's moved too), against glibc's malloc on the `json → null` row,
//! four alternating runs each of 1,000,000 records: 2.16–2.69 µs of CPU per
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
        let _alone = ALONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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

    /// librdkafka allocates with the C library's `malloc`, and glibc's
    /// arenas made its broker thread and the poll thread queue on each
    /// other's lock (module docs): jemalloc must serve C's `malloc` too. A
    /// librdkafka configuration is a few kilobytes of C memory; held by
    /// the thousand, they show in jemalloc's count only if it made them.
    #[test]
    #[cfg(all(target_os = "linux", not(target_env = "musl")))]
    fn librdkafka_allocates_from_jemalloc() {
        let _alone = ALONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let config = rdkafka::ClientConfig::new();
        let before = heap().expect("jemalloc's statistics").allocated;
        let held: Vec<_> =
            (0..CONFIGS).map(|_| config.create_native_config().expect("a librdkafka config")).collect();
        let during = heap().expect("jemalloc's statistics").allocated;
        // Other tests allocate concurrently: compare with a wide margin
        // (about 2.9 kB each, 116 MB in all, on librdkafka 2.x).
        assert!(
            during >= before + (64 << 20),
            "{CONFIGS} librdkafka configs held: {before} then {during} bytes"
        );
        drop(held);
    }

    const CONFIGS: usize = 40_000;

    /// The two tests above measure the whole heap by tens of megabytes:
    /// one at a time, so that neither sees the other's.
    static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
}
