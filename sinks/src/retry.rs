//! Retry timing, kept apart from the I/O it paces.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with full jitter: attempt `n` waits a random time in
/// `[0, min(max, base · 2ⁿ)]`, so instances that failed together do not
/// retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Ceiling of the first wait.
    pub base: Duration,
    /// Ceiling of any wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_millis(100), max: Duration::from_secs(5) }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling =
            self.base.saturating_mul(1_u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX)).min(self.max);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_the_growing_ceiling_and_the_max() {
        let b = Backoff { base: Duration::from_millis(10), max: Duration::from_millis(300) };
        for attempt in 0..40 {
            let ceiling = Duration::from_millis(10 * 2_u64.pow(attempt.min(20))).min(b.max);
            for _ in 0..50 {
                assert!(b.delay(attempt) <= ceiling, "attempt {attempt}");
            }
        }
    }
}
