//! A port call's id, `"{mmsi}-{arrival as YYYYMMDDTHHMMSSZ}"`, made when it
//! is asked for.
//!
//! The id is a function of two fields every [`PortCall`](crate::PortCall)
//! keeps (the arrival is [`FieldRule::Fixed`](crate::FieldRule::Fixed)), so
//! the call does not store it. Stored, it cost every vessel in port 48 bytes
//! (a `Box<str>` and its 32-byte allocation), and every update emitted one
//! allocation more. [`CallId`] is the id on the stack instead: at most 31
//! bytes for any `u32` and any year chrono represents, so a fixed buffer
//! holds it and it is `Copy`.
//!
//! Written by hand for the years 0 to 9999 (all of AIS); other years go
//! through chrono's formatter, which is what every id was made with before,
//! so the two agree byte for byte (a test checks the edges).

use std::fmt::{self, Write};
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

/// Longest id: 10 digits of a `u32`, the dash, a year of up to 6 digits and
/// its sign (chrono's range), and the 12 characters of `MMDDTHHMMSSZ`.
const CAPACITY: usize = 31;

/// A port call's stable id, held inline; it reads as a `&str`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use porttrack_processors::CallId;
///
/// let id = CallId::new(244_000_001, Utc.with_ymd_and_hms(2026, 11, 22, 4, 36, 40).unwrap());
/// assert_eq!(&*id, "244000001-20261122T043640Z");
/// ```
#[derive(Clone, Copy)]
pub struct CallId {
    len: u8,
    buf: [u8; CAPACITY],
}

impl CallId {
    /// The id of vessel `mmsi`'s call that arrived at `arrived_at`.
    pub fn new(mmsi: u32, arrived_at: DateTime<Utc>) -> CallId {
        let mut id = CallId { len: 0, buf: [0; CAPACITY] };
        let year = arrived_at.year();
        if (0..=9999).contains(&year) {
            id.digits(u64::from(mmsi), 0);
            id.push(b'-');
            id.digits(year as u64, 4);
            for part in [arrived_at.month(), arrived_at.day()] {
                id.digits(u64::from(part), 2);
            }
            id.push(b'T');
            for part in [arrived_at.hour(), arrived_at.minute(), arrived_at.second()] {
                id.digits(u64::from(part), 2);
            }
            id.push(b'Z');
        } else {
            // Cannot fail: CAPACITY holds the longest id chrono writes.
            _ = write!(id, "{mmsi}-{}", arrived_at.format("%Y%m%dT%H%M%SZ"));
        }
        id
    }

    /// Appends `n` in decimal, zero-padded to `width` digits.
    fn digits(&mut self, mut n: u64, width: usize) {
        let mut tmp = [b'0'; 20];
        let mut i = tmp.len();
        while n > 0 || i == tmp.len() {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let start = i.min(tmp.len() - width);
        for &b in &tmp[start..] {
            self.push(b);
        }
    }

    fn push(&mut self, b: u8) {
        self.buf[usize::from(self.len)] = b;
        self.len += 1;
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, '-', 'T', 'Z' and chrono's ASCII output are
        // ever pushed, so this never fails.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl Write for CallId {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = usize::from(self.len) + s.len();
        if end > CAPACITY {
            return Err(fmt::Error);
        }
        self.buf[usize::from(self.len)..end].copy_from_slice(s.as_bytes());
        self.len = end as u8;
        Ok(())
    }
}

impl Deref for CallId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for CallId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for CallId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for CallId {
    fn eq(&self, other: &CallId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for CallId {}

impl PartialEq<str> for CallId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CallId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

// By the string, as `Borrow<str>` requires.
impl Hash for CallId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for CallId {
    fn partial_cmp(&self, other: &CallId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CallId {
    fn cmp(&self, other: &CallId) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for CallId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// What every id was before it was written by hand.
    fn chrono_id(mmsi: u32, at: DateTime<Utc>) -> String {
        format!("{mmsi}-{}", at.format("%Y%m%dT%H%M%SZ"))
    }

    #[test]
    fn ids_are_what_chrono_wrote_for_every_year_and_mmsi() {
        let times = [
            Utc.timestamp_opt(0, 0).unwrap(),
            Utc.timestamp_opt(1_795_000_000, 999_999_999).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 9, 0, 0, 9).unwrap(),
            Utc.with_ymd_and_hms(1, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 6, 15, 12, 30, 0).unwrap(),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ];
        for mmsi in [0, 7, 244_000_001, u32::MAX] {
            for at in times {
                let id = CallId::new(mmsi, at);
                assert_eq!(&*id, chrono_id(mmsi, at), "{at:?}");
            }
        }
    }

    #[test]
    fn equal_ids_hash_and_compare_as_their_strings() {
        use std::collections::HashMap;
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 4, 36, 40).unwrap();
        let mut calls = HashMap::new();
        calls.insert(CallId::new(1, at), "one");
        assert_eq!(calls.get("1-20261122T043640Z"), Some(&"one"));
        assert!(CallId::new(1, at) < CallId::new(2, at));
        assert_eq!(serde_json::to_string(&CallId::new(1, at)).unwrap(), "\"1-20261122T043640Z\"");
    }
}
