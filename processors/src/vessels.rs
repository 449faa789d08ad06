use dashmap::DashMap;
use porttrack_schemas::Position;

/// What [`VesselStore::apply`] did with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// First report of this vessel, or newer than the last one: state updated.
    Newer,
    /// Same event time as the last report: a duplicate (AIS is often heard by
    /// several receivers); state unchanged.
    Duplicate,
    /// Older than the last report (out of order): state unchanged.
    Stale,
}

/// The latest known state of one vessel.
#[derive(Debug, Clone, PartialEq)]
pub struct VesselState {
    /// The Kafka partition this vessel's reports arrive on.
    pub partition: i32,
    /// The newest report by event time.
    pub last: Position,
    /// Reports applied to this vessel, duplicates and late ones included.
    pub reports: u64,
}

/// Latest state per vessel, safe to update from many threads without a global lock.
///
/// Backed by a sharded [`DashMap`]; each update touches one shard's lock for
/// the duration of a compare-and-replace, so readers (metrics, snapshots) and
/// writers on other vessels do not wait on each other.
#[derive(Debug, Default)]
pub struct VesselStore {
    vessels: DashMap<u32, VesselState>,
}

impl VesselStore {
    /// Applies one report that arrived on `partition`.
    ///
    /// Event time decides: a report older than the stored one never overwrites
    /// it, so replays and out-of-order delivery converge on the same state.
    pub fn apply(&self, partition: i32, position: &Position) -> Applied {
        let mut applied = Applied::Newer;
        self.vessels
            .entry(position.mmsi)
            .and_modify(|state| {
                state.reports += 1;
                state.partition = partition;
                applied = if position.timestamp > state.last.timestamp {
                    state.last = position.clone();
                    Applied::Newer
                } else if position.timestamp == state.last.timestamp {
                    Applied::Duplicate
                } else {
                    Applied::Stale
                };
            })
            .or_insert_with(|| VesselState { partition, last: position.clone(), reports: 1 });
        applied
    }

    /// The state of vessel `mmsi`, cloned out of the map.
    pub fn get(&self, mmsi: u32) -> Option<VesselState> {
        self.vessels.get(&mmsi).map(|s| s.clone())
    }

    /// How many vessels are tracked.
    pub fn len(&self) -> usize {
        self.vessels.len()
    }

    /// Whether no vessel is tracked.
    pub fn is_empty(&self) -> bool {
        self.vessels.is_empty()
    }

    /// Forgets every vessel owned through one of `partitions` (after a
    /// rebalance took them away). Returns how many were forgotten.
    pub fn forget_partitions(&self, partitions: &[i32]) -> usize {
        let before = self.vessels.len();
        self.vessels.retain(|_, state| !partitions.contains(&state.partition));
        before.saturating_sub(self.vessels.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn report(mmsi: u32, second: i64, lat: f64) -> Position {
        Position {
            mmsi,
            timestamp: Utc.timestamp_opt(1_700_000_000 + second, 0).unwrap(),
            lat,
            lon: 4.0,
            sog: Some(10.0),
            cog: None,
            heading: None,
            nav_status: None,
        }
    }

    #[test]
    fn duplicates_and_late_reports_do_not_change_state() {
        let store = VesselStore::default();
        assert_eq!(store.apply(1, &report(1, 10, 1.0)), Applied::Newer);
        assert_eq!(store.apply(1, &report(1, 10, 2.0)), Applied::Duplicate);
        assert_eq!(store.apply(1, &report(1, 3, 3.0)), Applied::Stale);
        let state = store.get(1).unwrap();
        assert_eq!((state.last.lat, state.reports), (1.0, 3));
    }

    #[test]
    fn forgetting_a_partition_keeps_the_others() {
        let store = VesselStore::default();
        store.apply(0, &report(1, 1, 0.0));
        store.apply(1, &report(2, 1, 0.0));
        store.apply(2, &report(3, 1, 0.0));
        assert_eq!(store.forget_partitions(&[0, 2]), 2);
        assert_eq!(store.len(), 1);
        assert!(store.get(2).is_some());
    }

    #[test]
    fn concurrent_writers_converge_on_the_newest_report() {
        let store = VesselStore::default();
        std::thread::scope(|scope| {
            for t in 0..4_i64 {
                let store = &store;
                scope.spawn(move || {
                    for i in 0..2_000_i64 {
                        let second = i * 4 + t;
                        store.apply(0, &report((i % 50) as u32 + 100_000_000, second, second as f64));
                    }
                });
            }
        });
        assert_eq!(store.len(), 50);
        for v in 0..50_u32 {
            let state = store.get(v + 100_000_000).unwrap();
            // The newest report for vessel v was written by some thread at i = 1950 + v.
            let newest = (1950 + i64::from(v)) * 4 + 3;
            assert_eq!(state.last.timestamp.timestamp(), 1_700_000_000 + newest);
            assert_eq!(state.reports, 160);
        }
    }

    proptest! {
        /// Out-of-order and duplicated delivery converge on the same state as ordered delivery.
        #[test]
        fn order_and_duplicates_do_not_matter(
            seconds in proptest::collection::vec(0_i64..10_000, 1..60),
            shuffle_seed in any::<u64>(),
        ) {
            let ordered = VesselStore::default();
            let mut sorted = seconds.clone();
            sorted.sort_unstable();
            sorted.dedup();
            for s in &sorted {
                ordered.apply(0, &report(7, *s, *s as f64));
            }
            let messy = VesselStore::default();
            let mut input: Vec<i64> = seconds.iter().chain(seconds.iter()).copied().collect();
            // A cheap deterministic shuffle driven by the seed.
            let mut state = shuffle_seed | 1;
            for i in (1..input.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                input.swap(i, (state % (i as u64 + 1)) as usize);
            }
            for s in &input {
                messy.apply(0, &report(7, *s, *s as f64));
            }
            prop_assert_eq!(ordered.get(7).unwrap().last, messy.get(7).unwrap().last);
        }
    }
}
