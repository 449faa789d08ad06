//! The times of a vessel's recent fixes: what tells a late duplicate from a
//! late fix.
//!
//! AIS is heard by several receivers, and a feed that lagged (a satellite
//! pass, a receiver that reconnects) delivers fixes the vessel has long
//! sent. A fix older than the vessel's last one changes nothing, but it is
//! counted: as a *duplicate* when a fix with exactly its time was already
//! seen, else as *late* (`porttrack_processor_events_total`). Telling the
//! two apart needs the times of the recent fixes, and nothing else.
//!
//! Why times and not fixes: the route kept its `track_len` newest fixes
//! whole, 48 bytes each, 1.5 kB of the 2.8 kB a vessel cost at the default
//! of 32, and no rule ever read their positions. A vessel's track for
//! people is the `positions` table in Postgres, which the API serves.
//!
//! Why two forms: a route is kept per tracked vessel, a million of them at
//! global scale, and the times are most of a vessel at sea's heap. Event
//! times are nearly always whole milliseconds (a tag block's seconds, a
//! Kafka timestamp, a JSON position's RFC 3339 time), and a vessel's
//! recent fixes lie within days of each other. So a time is kept as 4
//! bytes, its offset in milliseconds from a base ([`Repr::Millis`]), while
//! every kept time fits that: whole milliseconds at most `u32::MAX` ms
//! (49.7 days) apart. A time that does not fit (a nanosecond part, a vessel
//! back after seven weeks) turns the list into 8-byte epoch nanoseconds
//! ([`Repr::Nanos`]), exact from 1677 to 2262 (event validation keeps times
//! far inside; one outside is clamped to the nearest end, so at worst two
//! such times count as duplicates of each other). The list turns compact
//! again once its times fit. Either way a time is kept exactly: duplicates
//! are told by equal times, never by rounded ones.

use std::collections::VecDeque;
use std::collections::vec_deque;

use chrono::{DateTime, Utc};

/// The times of a vessel's newest distinct fixes (accepted and late),
/// oldest first, at most `track_len` of them.
#[derive(Debug, Clone, Default)]
pub struct FixTimes {
    repr: Repr,
}

/// How [`FixTimes`] keeps its times (see the module docs).
#[derive(Debug, Clone)]
enum Repr {
    /// Whole milliseconds, each `base_ms + offset`. `base_ms` is at or
    /// before the oldest kept time (it does not follow the oldest out).
    Millis { base_ms: i64, offsets: VecDeque<u32> },
    /// Epoch nanoseconds.
    Nanos(VecDeque<i64>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Millis { base_ms: 0, offsets: VecDeque::new() }
    }
}

/// Equal when they keep the same times, whatever their form and base.
impl PartialEq for FixTimes {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for FixTimes {}

/// What [`FixTimes::insert_late`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LateFix {
    /// A fix with exactly this time was seen.
    Duplicate,
    /// A new time: kept if it is among the newest `track_len`.
    Late,
}

/// The times of a `track` read from a checkpoint written before
/// [`FixTimes`], which the route adopts as it is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LegacyTrack(pub(crate) Option<Box<FixTimes>>);

/// The route's `track` field, which releases before [`FixTimes`] require:
/// nothing in memory, an empty track in checkpoints
/// ([`crate::ser::legacy_track`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NoTrack;

fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(if at.timestamp() < 0 { i64::MIN } else { i64::MAX })
}

/// `at` in epoch milliseconds, if it is a whole millisecond.
fn whole_millis(at: DateTime<Utc>) -> Option<i64> {
    at.timestamp_subsec_nanos().is_multiple_of(1_000_000).then(|| at.timestamp_millis())
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    // Always in range: every kept millisecond came from a `DateTime`.
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The offset of `ms` from `base_ms`, moving the base (and every offset)
/// if `ms` lies before it or too far after it; `None` when `ms` and the
/// kept times span more than `u32::MAX` ms.
fn offset(base_ms: &mut i64, offsets: &mut VecDeque<u32>, ms: i64) -> Option<u32> {
    let (Some(&oldest), Some(&newest)) = (offsets.front(), offsets.back()) else {
        *base_ms = ms;
        return Some(0);
    };
    if let Ok(o) = u32::try_from(ms - *base_ms) {
        return Some(o);
    }
    let low = ms.min(*base_ms + i64::from(oldest));
    let high = ms.max(*base_ms + i64::from(newest));
    u32::try_from(high - low).ok()?;
    let shift = *base_ms - low;
    for o in offsets.iter_mut() {
        // In range: every kept time lies within `low ..= high`.
        *o = u32::try_from(i64::from(*o) + shift).unwrap_or(u32::MAX);
    }
    *base_ms = low;
    u32::try_from(ms - low).ok()
}

/// Inserts `key` in sorted `keys`, as [`FixTimes::insert_late`] does.
fn insert_sorted<T: Ord>(keys: &mut VecDeque<T>, key: T, track_len: usize) -> LateFix {
    match keys.binary_search(&key) {
        Ok(_) => LateFix::Duplicate,
        Err(0) if keys.len() >= track_len => LateFix::Late,
        Err(i) => {
            let full = keys.len() >= track_len;
            make_room(keys, track_len);
            keys.insert(if full { i - 1 } else { i }, key);
            LateFix::Late
        }
    }
}

/// Drops the oldest key when `track_len` are kept, else makes room for
/// one more without letting the capacity pass `track_len`. Left to itself
/// a full `VecDeque` doubles, so one pushed to `track_len + 1` before its
/// oldest entry was dropped held room for twice what it keeps, for every
/// vessel. Growth stays geometric (a vessel seen once does not pay for
/// `track_len`), capped at `track_len`.
fn make_room<T>(keys: &mut VecDeque<T>, track_len: usize) {
    let len = keys.len();
    if len >= track_len {
        keys.pop_front();
    } else if len == keys.capacity() {
        // Not `clamp`: it panics when `track_len` is below 4.
        let target = (len * 2).max(4).min(track_len.max(len + 1));
        keys.reserve_exact(target - len);
    }
}

impl FixTimes {
    /// Times read from a checkpoint, oldest first.
    pub(crate) fn from_times(times: impl IntoIterator<Item = DateTime<Utc>>) -> FixTimes {
        let mut nanos: VecDeque<i64> = times.into_iter().map(nanos).collect();
        // Written sorted; sorted again so that a hand-edited document cannot
        // break the binary search.
        nanos.make_contiguous().sort_unstable();
        nanos.shrink_to_fit();
        let mut times = FixTimes { repr: Repr::Nanos(nanos) };
        times.compact();
        times
    }

    /// Records the time of a fix newer than every one kept.
    pub(crate) fn push_newest(&mut self, at: DateTime<Utc>, track_len: usize) {
        if let Repr::Millis { base_ms, offsets } = &mut self.repr
            && let Some(o) = whole_millis(at).and_then(|ms| offset(base_ms, offsets, ms))
        {
            make_room(offsets, track_len);
            offsets.push_back(o);
            return;
        }
        let mut nanos_kept = self.take_nanos();
        make_room(&mut nanos_kept, track_len);
        nanos_kept.push_back(nanos(at));
        self.repr = Repr::Nanos(nanos_kept);
        // The time that did not fit may just have left.
        if whole_millis(at).is_some() {
            self.compact();
        }
    }

    /// Records the time of a fix older than the vessel's last one, if it is
    /// new and among the newest `track_len`.
    pub(crate) fn insert_late(&mut self, at: DateTime<Utc>, track_len: usize) -> LateFix {
        if let Repr::Millis { base_ms, offsets } = &mut self.repr {
            if let Some(o) = whole_millis(at).and_then(|ms| offset(base_ms, offsets, ms)) {
                return insert_sorted(offsets, o, track_len);
            }
            // Every kept time fits, so one that does not is new. It is kept
            // only if it is among the newest `track_len`: else the list
            // stays as it is.
            if self.len() >= track_len && self.iter().next().is_some_and(|oldest| at < oldest) {
                return LateFix::Late;
            }
        }
        let mut nanos_kept = self.take_nanos();
        let found = insert_sorted(&mut nanos_kept, nanos(at), track_len);
        self.repr = Repr::Nanos(nanos_kept);
        found
    }

    /// The times as nanoseconds, capacity and all, leaving none kept.
    fn take_nanos(&mut self) -> VecDeque<i64> {
        match std::mem::take(&mut self.repr) {
            Repr::Millis { base_ms, offsets } => {
                let mut nanos_kept = VecDeque::with_capacity(offsets.capacity());
                nanos_kept.extend(offsets.iter().map(|o| nanos(from_millis(base_ms + i64::from(*o)))));
                nanos_kept
            }
            Repr::Nanos(nanos_kept) => nanos_kept,
        }
    }

    /// Turns nanoseconds back into millisecond offsets if every time fits.
    fn compact(&mut self) {
        let Repr::Nanos(nanos_kept) = &self.repr else { return };
        let (Some(&oldest), Some(&newest)) = (nanos_kept.front(), nanos_kept.back()) else {
            self.repr = Repr::default();
            return;
        };
        // Clamped times (`i64::MIN`, `i64::MAX`) are not whole milliseconds
        // either, so a list holding one stays in nanoseconds.
        let whole = |n: i64| n.rem_euclid(1_000_000) == 0;
        if nanos_kept.iter().any(|n| !whole(*n))
            || u32::try_from(newest.div_euclid(1_000_000) - oldest.div_euclid(1_000_000)).is_err()
        {
            return;
        }
        let base_ms = oldest.div_euclid(1_000_000);
        let mut offsets = VecDeque::with_capacity(nanos_kept.capacity());
        offsets.extend(nanos_kept.iter().map(|n| {
            // In range: checked just above.
            u32::try_from(n.div_euclid(1_000_000) - base_ms).unwrap_or(u32::MAX)
        }));
        self.repr = Repr::Millis { base_ms, offsets };
    }

    /// The times, oldest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = DateTime<Utc>> + Clone + '_ {
        match &self.repr {
            Repr::Millis { base_ms, offsets } => Iter::Millis(*base_ms, offsets.iter()),
            Repr::Nanos(nanos_kept) => Iter::Nanos(nanos_kept.iter()),
        }
    }

    /// The times in epoch milliseconds, oldest first, when they are kept
    /// compact (so every one is a whole millisecond): what checkpoints
    /// write, without a round trip through `DateTime`.
    pub(crate) fn compact_millis(&self) -> Option<impl Iterator<Item = i64> + Clone + '_> {
        match &self.repr {
            Repr::Millis { base_ms, offsets } => {
                let base_ms = *base_ms;
                Some(offsets.iter().map(move |o| base_ms + i64::from(*o)))
            }
            Repr::Nanos(_) => None,
        }
    }

    /// How many times are kept.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Millis { offsets, .. } => offsets.len(),
            Repr::Nanos(nanos_kept) => nanos_kept.len(),
        }
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many times fit without allocating: what the vessel pays for.
    pub fn capacity(&self) -> usize {
        match &self.repr {
            Repr::Millis { offsets, .. } => offsets.capacity(),
            Repr::Nanos(nanos_kept) => nanos_kept.capacity(),
        }
    }
}

/// [`FixTimes::iter`] over either form.
#[derive(Clone)]
enum Iter<'a> {
    Millis(i64, vec_deque::Iter<'a, u32>),
    Nanos(vec_deque::Iter<'a, i64>),
}

impl Iterator for Iter<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        match self {
            Iter::Millis(base_ms, offsets) => offsets.next().map(|o| from_millis(*base_ms + i64::from(*o))),
            Iter::Nanos(nanos_kept) => nanos_kept.next().map(|n| DateTime::from_timestamp_nanos(*n)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Millis(_, offsets) => offsets.size_hint(),
            Iter::Nanos(nanos_kept) => nanos_kept.size_hint(),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn seconds(t: &FixTimes) -> Vec<i64> {
        t.iter().map(|x| (x - at(0)).num_seconds()).collect()
    }

    #[test]
    fn late_times_slot_in_order_and_the_oldest_give_way() {
        let mut t = FixTimes::default();
        for s in [0, 10, 20, 30] {
            t.push_newest(at(s), 4);
        }
        assert_eq!(t.insert_late(at(10), 4), LateFix::Duplicate);
        assert_eq!(t.insert_late(at(15), 4), LateFix::Late);
        assert_eq!(seconds(&t), [10, 15, 20, 30]);
        // Older than everything kept in a full list: counted, not kept.
        assert_eq!(t.insert_late(at(5), 4), LateFix::Late);
        assert_eq!(seconds(&t), [10, 15, 20, 30]);
        t.push_newest(at(40), 4);
        assert_eq!(seconds(&t), [15, 20, 30, 40]);
        assert!(t.capacity() <= 4);
    }

    #[test]
    fn nanoseconds_are_kept_exactly() {
        let mut t = FixTimes::default();
        let fine = at(0) + Duration::nanoseconds(1);
        t.push_newest(fine, 8);
        t.push_newest(fine + Duration::nanoseconds(1), 8);
        assert_eq!(t.insert_late(fine, 8), LateFix::Duplicate);
        assert_eq!(t.insert_late(at(0), 8), LateFix::Late);
        assert_eq!(t.iter().collect::<Vec<_>>(), [at(0), fine, fine + Duration::nanoseconds(1)]);
    }

    #[test]
    fn times_outside_the_nanosecond_range_are_clamped_not_a_panic() {
        let mut t = FixTimes::default();
        t.push_newest(DateTime::<Utc>::MIN_UTC, 4);
        t.push_newest(at(0), 4);
        t.push_newest(DateTime::<Utc>::MAX_UTC, 4);
        assert_eq!(t.len(), 3);
        assert!(!is_compact(&t), "clamped times are kept as nanoseconds");
        assert_eq!(t.insert_late(DateTime::<Utc>::MIN_UTC, 4), LateFix::Duplicate);
    }

    #[test]
    fn from_times_sorts_what_it_reads() {
        let t = FixTimes::from_times([at(20), at(0), at(10)]);
        assert_eq!(seconds(&t), [0, 10, 20]);
    }

    fn is_compact(t: &FixTimes) -> bool {
        matches!(t.repr, Repr::Millis { .. })
    }

    /// The point of the compact form: a vessel's sixteen times take 64
    /// bytes of heap, not 128, and the route keeps its jemalloc class.
    #[test]
    fn whole_milliseconds_take_four_bytes() {
        assert!(size_of::<FixTimes>() <= 40, "FixTimes is {} B inline", size_of::<FixTimes>());
        let mut t = FixTimes::default();
        for s in 0..16 {
            t.push_newest(at(s * 10) + Duration::milliseconds(s), 16);
        }
        assert!(is_compact(&t));
        assert_eq!(t.insert_late(at(50) + Duration::milliseconds(5), 16), LateFix::Duplicate);
        assert_eq!(t.insert_late(at(50), 16), LateFix::Late);
    }

    #[test]
    fn a_nanosecond_part_widens_until_it_leaves() {
        let mut t = FixTimes::default();
        for s in [0, 10, 20] {
            t.push_newest(at(s), 3);
        }
        let fine = at(25) + Duration::nanoseconds(7);
        t.push_newest(fine, 3);
        assert!(!is_compact(&t));
        assert_eq!(t.insert_late(fine, 3), LateFix::Duplicate);
        assert_eq!(t.insert_late(at(25), 3), LateFix::Late, "a millisecond apart is not the same time");
        for s in [30, 40, 50] {
            t.push_newest(at(s), 3);
        }
        assert!(is_compact(&t));
        assert_eq!(seconds(&t), [30, 40, 50]);
    }

    #[test]
    fn times_seven_weeks_apart_are_kept_exactly() {
        let mut t = FixTimes::default();
        t.push_newest(at(0), 4);
        t.push_newest(at(60 * 86_400), 4);
        assert!(!is_compact(&t));
        assert_eq!(t.insert_late(at(0), 4), LateFix::Duplicate);
        // Once the old time has gone, the list is compact again.
        for d in [61, 62, 63] {
            t.push_newest(at(d * 86_400), 4);
        }
        assert!(is_compact(&t));
        assert_eq!(t.insert_late(at(60 * 86_400), 4), LateFix::Duplicate);
    }

    #[test]
    fn the_base_moves_for_late_times_and_for_long_tracked_vessels() {
        let mut t = FixTimes::default();
        t.push_newest(at(100), 4);
        // Before the base: the offsets move, nothing widens.
        assert_eq!(t.insert_late(at(40), 4), LateFix::Late);
        assert!(is_compact(&t));
        // A vessel tracked for months: the base follows the oldest kept.
        let mut t = FixTimes::default();
        for day in 0..120 {
            t.push_newest(at(day * 86_400), 4);
            assert!(is_compact(&t), "day {day}");
        }
        assert_eq!(t.insert_late(at(118 * 86_400), 4), LateFix::Duplicate);
        assert_eq!(seconds(&t).len(), 4);
    }

    #[test]
    fn equal_times_are_equal_whatever_the_form() {
        let mut live = FixTimes::default();
        for s in [0, 10, 20, 30] {
            live.push_newest(at(s), 3);
        }
        assert_eq!(live, FixTimes::from_times([at(10), at(20), at(30)]));
        assert_ne!(live, FixTimes::from_times([at(10), at(20)]));
    }

    /// The times kept the way they were before the compact form: sorted
    /// epoch nanoseconds, the same rules.
    #[derive(Default)]
    struct Model(Vec<i64>);

    impl Model {
        fn push_newest(&mut self, at: DateTime<Utc>, track_len: usize) {
            if self.0.len() >= track_len {
                self.0.remove(0);
            }
            self.0.push(nanos(at));
        }

        fn insert_late(&mut self, at: DateTime<Utc>, track_len: usize) -> LateFix {
            let at = nanos(at);
            match self.0.binary_search(&at) {
                Ok(_) => LateFix::Duplicate,
                Err(0) if self.0.len() >= track_len => LateFix::Late,
                Err(i) => {
                    let full = self.0.len() >= track_len;
                    if full {
                        self.0.remove(0);
                    }
                    self.0.insert(if full { i - 1 } else { i }, at);
                    LateFix::Late
                }
            }
        }
    }

    proptest::proptest! {
        /// Whatever the times (whole milliseconds or not, minutes or months
        /// apart), both forms answer and keep exactly what the plain list
        /// of nanoseconds did.
        #[test]
        fn both_forms_keep_what_a_plain_list_keeps(
            steps in proptest::collection::vec((0u8..4, 0i64..4_000, 0u8..8), 1..80),
            track_len in 1usize..8,
        ) {
            let mut t = FixTimes::default();
            let mut model = Model::default();
            let mut newest = at(0);
            for (kind, ms, fine) in steps {
                // Sub-millisecond parts one time in eight; a jump of two
                // months one time in four, to cross the compact span.
                let fine = if fine == 0 { Duration::nanoseconds(ms + 1) } else { Duration::zero() };
                match kind {
                    0 => newest += Duration::days(60) + Duration::milliseconds(ms),
                    1 | 2 => newest += Duration::milliseconds(ms + 1) + fine,
                    _ => {
                        let late = newest - Duration::milliseconds(ms * 1_000) - fine;
                        proptest::prop_assert_eq!(t.insert_late(late, track_len), model.insert_late(late, track_len));
                        continue;
                    }
                }
                t.push_newest(newest, track_len);
                model.push_newest(newest, track_len);
                proptest::prop_assert!(t.capacity() <= track_len, "capacity {} for {track_len}", t.capacity());
            }
            let kept: Vec<i64> = t.iter().map(nanos).collect();
            proptest::prop_assert_eq!(kept, model.0);
        }
    }
}
