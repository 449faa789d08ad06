//! Order statistics shared by the processors and everything that reports
//! on their outputs (the binary's gauges, the sinks' SQL views).

/// The nearest-rank quantile `q` (0 ≤ `q` ≤ 1) of `sorted` (ascending): the
/// smallest value with at least a fraction `q` of the values at or below it,
/// i.e. the value at rank ⌈q·n⌉ (clamped to 1..=n). 0 when `sorted` is empty.
///
/// This is PostgreSQL's `percentile_disc(q)`, which the congestion view uses.
/// For `q = 0.9` the rank equals the exact integer ⌈9n/10⌉ for every `n`
/// (the tests check it).
///
/// ```
/// use porttrack_processors::stats::nearest_rank;
///
/// let ten: Vec<i64> = (1..=10).collect();
/// assert_eq!(nearest_rank(&ten, 0.5), 5);
/// assert_eq!(nearest_rank(&ten, 0.9), 9);
/// assert_eq!(nearest_rank(&[], 0.9), 0);
/// ```
pub fn nearest_rank(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_p90_is_the_exact_integer_rank() {
        // The congestion p90 was computed as ⌈9n/10⌉ in integers; the float
        // formula must agree for every size that can occur.
        for n in 1..=200_000_u64 {
            let rank = ((0.9 * n as f64).ceil() as u64).clamp(1, n);
            assert_eq!(rank, (9 * n).div_ceil(10).max(1), "n = {n}");
        }
        let ten: Vec<i64> = (1..=10).collect();
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(nearest_rank(&ten, 0.9), 9);
        assert_eq!(nearest_rank(&eleven, 0.9), 10);
        assert_eq!(nearest_rank(&[7], 0.9), 7);
        assert_eq!(nearest_rank(&[7], 0.0), 7);
        assert_eq!(nearest_rank(&ten, 1.0), 10);
        assert_eq!(nearest_rank(&[1, 2, 3], 0.5), 2);
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 0.5), 2);
    }
}
