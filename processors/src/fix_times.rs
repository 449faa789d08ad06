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
//! people is the `positions` table in Postgres, which the API serves. A time
//! here is 8 bytes: epoch nanoseconds, exact from 1677 to 2262, the range
//! event validation keeps far inside; a time outside it is clamped to the
//! nearest end, so at worst two such times count as duplicates of each
//! other.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

/// The times of a vessel's newest distinct fixes (accepted and late),
/// oldest first, at most `track_len` of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixTimes {
    nanos: VecDeque<i64>,
}

/// What [`FixTimes::insert_late`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LateFix {
    /// A fix with exactly this time was seen.
    Duplicate,
    /// A new time: kept if it is among the newest `track_len`.
    Late,
}

/// The times of a `track` read from a checkpoint written before
/// [`FixTimes`], until the route adopts them: in memory, always `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LegacyTrack(pub(crate) Option<Box<FixTimes>>);

fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(if at.timestamp() < 0 { i64::MIN } else { i64::MAX })
}

impl FixTimes {
    /// Times read from a checkpoint, oldest first.
    pub(crate) fn from_times(times: impl IntoIterator<Item = DateTime<Utc>>) -> FixTimes {
        let mut nanos: VecDeque<i64> = times.into_iter().map(nanos).collect();
        // Written sorted; sorted again so that a hand-edited document cannot
        // break the binary search.
        nanos.make_contiguous().sort_unstable();
        nanos.shrink_to_fit();
        FixTimes { nanos }
    }

    /// Records the time of a fix newer than every one kept.
    pub(crate) fn push_newest(&mut self, at: DateTime<Utc>, track_len: usize) {
        self.make_room(track_len);
        self.nanos.push_back(nanos(at));
    }

    /// Records the time of a fix older than the vessel's last one, if it is
    /// new and among the newest `track_len`.
    pub(crate) fn insert_late(&mut self, at: DateTime<Utc>, track_len: usize) -> LateFix {
        let at = nanos(at);
        match self.nanos.binary_search(&at) {
            Ok(_) => LateFix::Duplicate,
            Err(0) if self.nanos.len() >= track_len => LateFix::Late,
            Err(i) => {
                let full = self.nanos.len() >= track_len;
                self.make_room(track_len);
                self.nanos.insert(if full { i - 1 } else { i }, at);
                LateFix::Late
            }
        }
    }

    /// Drops the oldest time when `track_len` are kept, else makes room for
    /// one more without letting the capacity pass `track_len`. Left to
    /// itself a full `VecDeque` doubles, so one pushed to `track_len + 1`
    /// before its oldest entry was dropped held room for twice what it
    /// keeps, for every vessel. Growth stays geometric (a vessel seen once
    /// does not pay for `track_len`), capped at `track_len`.
    fn make_room(&mut self, track_len: usize) {
        let len = self.nanos.len();
        if len >= track_len {
            self.nanos.pop_front();
        } else if len == self.nanos.capacity() {
            // Not `clamp`: it panics when `track_len` is below 4.
            let target = (len * 2).max(4).min(track_len.max(len + 1));
            self.nanos.reserve_exact(target - len);
        }
    }

    /// The times, oldest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = DateTime<Utc>> + Clone + '_ {
        self.nanos.iter().map(|n| DateTime::from_timestamp_nanos(*n))
    }

    /// How many times are kept.
    pub fn len(&self) -> usize {
        self.nanos.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.nanos.is_empty()
    }

    /// How many times fit without allocating: what the vessel pays for.
    pub fn capacity(&self) -> usize {
        self.nanos.capacity()
    }
}

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
        assert_eq!(t.insert_late(DateTime::<Utc>::MIN_UTC, 4), LateFix::Duplicate);
    }

    #[test]
    fn from_times_sorts_what_it_reads() {
        let t = FixTimes::from_times([at(20), at(0), at(10)]);
        assert_eq!(seconds(&t), [0, 10, 20]);
    }
}
