//! A cheap hasher for the source's per-record lookups.
//!
//! Every staged record looks up its `(topic, partition)` several times (its
//! fetch position, the batch's commit offset and held fragment, its topic's
//! decoder). With std's SipHash each lookup went through a DoS-resistant
//! function; in the profile of the `json → null` bench these hashes were a
//! few percent of the poll thread. The keys are the partitions this member
//! was assigned and the topics it was configured with (a
//! [`Topic`](porttrack_schemas::Topic) hashes as its address), never input
//! data, so flooding is not a concern and a multiply-rotate hash (rustc's
//! `FxHasher`, eight bytes a step) does.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// `FxHasher`: `rotate_left(5) ^ word`, times a constant, per word.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while let Some((chunk, rest)) = bytes.split_first_chunk::<8>() {
            self.add(u64::from_le_bytes(*chunk));
            bytes = rest;
        }
        if let Some((chunk, rest)) = bytes.split_first_chunk::<4>() {
            self.add(u64::from(u32::from_le_bytes(*chunk)));
            bytes = rest;
        }
        for b in bytes {
            self.add(u64::from(*b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_i32(&mut self, i: i32) {
        self.add(u64::from(i as u32));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`], for keys the source chose itself.
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hash};

    use porttrack_schemas::Topic;

    use super::*;

    fn hash(key: &(Topic, i32)) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(key)
    }

    #[test]
    fn equal_topic_partitions_hash_equal_whatever_their_allocation() {
        let a = (Topic::new("ais.positions"), 3);
        let b = (Topic::new(String::from("ais.positions").as_str()), 3);
        assert_eq!(hash(&a), hash(&b));
    }

    #[test]
    fn nearby_keys_spread() {
        let mut seen = std::collections::HashSet::new();
        for topic in ["ais.positions", "ais.static", "ais.nmea", "a", "ab", "abcdefghi"] {
            for p in 0..64 {
                assert!(seen.insert(hash(&(Topic::new(topic), p))), "{topic}[{p}] collides");
            }
        }
        let mut h = FxHasher::default();
        "x".hash(&mut h);
        assert_ne!(h.finish(), 0);
    }
}
