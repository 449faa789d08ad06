//! A faster reader for the one RFC 3339 shape senders almost always use.
//!
//! Every JSON position carries a `timestamp`, and chrono's own reader
//! (`DateTime<Utc>`'s `Deserialize`: a general RFC 3339 parser, then an
//! offset conversion) was a visible share of decoding one in the pipeline's
//! profile. [`deserialize`] reads `YYYY-MM-DDTHH:MM:SS[.f…]Z` (1 to 9
//! fraction digits, `Z` or `+00:00`) directly and hands everything else,
//! leap seconds and invalid dates included, to chrono's parser, with
//! chrono's error messages: what is accepted, the value it reads and what is
//! refused (and why) are unchanged. `fast_path_agrees_with_chrono` pins it.
//!
//! [`serialize`] is the writer's side: chrono's `Serialize`, byte for byte,
//! without `fmt`.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// `#[serde(deserialize_with = "crate::time::deserialize")]` for a
/// `DateTime<Utc>`: the same as chrono's `Deserialize`, faster.
///
/// Asked for as bytes: serde_json then hands the string over without its
/// UTF-8 check, which the fast path does not need (it takes only ASCII
/// digits and separators); anything else is checked before chrono reads
/// it. Formats without bytes hand over the string as before.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_bytes(Rfc3339)
}

/// Serializes `t` exactly as chrono's own `Serialize` does (RFC 3339 in
/// UTC with `Z`, seconds with 0, 3, 6 or 9 fraction digits, whichever is
/// exact), without going through `fmt`.
///
/// `#[serde(serialize_with = "porttrack_schemas::time::serialize")]` for a
/// `DateTime<Utc>`.
///
/// Why: chrono formats it field by field through `fmt::Write`
/// (`collect_str`). A version 1 checkpoint writes every time of every
/// vessel this way, where it was the largest single cost in the `json →
/// null` bench's profile, and so does every search document. Years outside
/// 0..=9999 (written with a sign) are left to chrono.
/// `serialize_is_chronos_byte_for_byte` pins the equivalence.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match rfc3339_bytes(t) {
        Some((buf, len)) => {
            // Only ASCII digits and separators were written.
            let text = std::str::from_utf8(&buf[..len]).map_err(serde::ser::Error::custom)?;
            s.serialize_str(text)
        }
        None => t.serialize(s),
    }
}

/// The bytes of [`serialize`] and their length; `None` for a year chrono
/// writes with a sign.
fn rfc3339_bytes(t: &DateTime<Utc>) -> Option<([u8; 30], usize)> {
    use chrono::{Datelike, Timelike};

    fn two(buf: &mut [u8], at: usize, v: u32) {
        buf[at] = b'0' + (v / 10 % 10) as u8;
        buf[at + 1] = b'0' + (v % 10) as u8;
    }
    fn digits(buf: &mut [u8], at: usize, mut v: u32, n: usize) {
        for i in (0..n).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }

    let year = t.year();
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut buf = *b"0000-00-00T00:00:00.000000000Z";
    digits(&mut buf, 0, year as u32, 4);
    two(&mut buf, 5, t.month());
    two(&mut buf, 8, t.day());
    // A leap second is kept in the nanoseconds (>= 1e9); chrono writes it
    // as second 60.
    let (mut sec, mut nano) = (t.second(), t.nanosecond());
    if nano >= 1_000_000_000 {
        sec += 1;
        nano -= 1_000_000_000;
    }
    two(&mut buf, 11, t.hour());
    two(&mut buf, 14, t.minute());
    two(&mut buf, 17, sec);
    let len = if nano == 0 {
        19
    } else if nano % 1_000_000 == 0 {
        digits(&mut buf, 20, nano / 1_000_000, 3);
        23
    } else if nano % 1_000 == 0 {
        digits(&mut buf, 20, nano / 1_000, 6);
        26
    } else {
        digits(&mut buf, 20, nano, 9);
        29
    };
    buf[len] = b'Z';
    Some((buf, len + 1))
}

/// chrono's `DateTimeVisitor`, same expectation, same errors.
struct Rfc3339;

impl Visitor<'_> for Rfc3339 {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        match fast(value.as_bytes()) {
            Some(t) => Ok(t),
            None => value.parse::<DateTime<FixedOffset>>().map(|t| t.with_timezone(&Utc)).map_err(E::custom),
        }
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Self::Value, E> {
        match fast(value) {
            Some(t) => Ok(t),
            None => match std::str::from_utf8(value) {
                Ok(text) => self.visit_str(text),
                Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(value), &self)),
            },
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+00:00)` with a valid date and time and
/// second below 60; `None` for anything else (chrono decides those).
fn fast(s: &[u8]) -> Option<DateTime<Utc>> {
    fn num(s: &[u8]) -> Option<u32> {
        s.iter().try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
    }
    if s.len() < 20 || s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    let (hour, minute, second) = (num(&s[11..13])?, num(&s[14..16])?, num(&s[17..19])?);
    let mut rest = &s[19..];
    let mut nanos = 0;
    if let [b'.', tail @ ..] = rest {
        let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = num(&tail[..digits])? * 10u32.pow(9 - digits as u32);
        rest = &tail[digits..];
    }
    if (rest != b"Z" && rest != b"+00:00") || second >= 60 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some(date.and_hms_nano_opt(hour, minute, second, nanos)?.and_utc())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Serializes with [`serialize`], for comparing with chrono's own.
    struct Written(DateTime<Utc>);

    impl Serialize for Written {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(&self.0, s)
        }
    }

    /// Checkpoints (read by earlier releases) and search documents (matched
    /// by their mappings) must stay byte for byte what chrono writes.
    fn assert_serialize_is_chronos(t: DateTime<Utc>) {
        assert_eq!(serde_json::to_string(&Written(t)).unwrap(), serde_json::to_string(&t).unwrap(), "{t:?}");
    }

    #[test]
    fn serialize_is_chronos_byte_for_byte_at_the_edges() {
        use chrono::{Duration, TimeZone};
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        let ms = |ms| DateTime::from_timestamp_millis(ms).unwrap();
        for t in [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::UNIX_EPOCH,
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(-1, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            leap,
            leap + Duration::nanoseconds(1),
            leap + Duration::microseconds(1),
            ms(1_795_338_000_123),
            ms(1_795_338_000_000) + Duration::nanoseconds(5),
            ms(1_795_338_000_000) + Duration::microseconds(120),
        ] {
            assert_serialize_is_chronos(t);
        }
    }

    proptest! {
        #[test]
        fn serialize_is_chronos_byte_for_byte(
            secs in DateTime::<Utc>::MIN_UTC.timestamp()..DateTime::<Utc>::MAX_UTC.timestamp(),
            near in 0i64..400 * 365 * 86_400,
            nanos in 0u32..1_000_000_000,
            digits in 0usize..4,
        ) {
            // Nanoseconds with 0, 3, 6 or 9 significant digits, over all
            // years and densely over years 1800..2200.
            let nanos = [0, nanos / 1_000_000 * 1_000_000, nanos / 1_000 * 1_000, nanos][digits];
            assert_serialize_is_chronos(DateTime::from_timestamp(secs, nanos).unwrap());
            assert_serialize_is_chronos(DateTime::from_timestamp(near - 5_364_662_400, nanos).unwrap());
        }
    }

    fn ours(s: &str) -> Result<DateTime<Utc>, String> {
        let json = serde_json::to_string(s).unwrap();
        let mut d = serde_json::Deserializer::from_str(&json);
        deserialize(&mut d).map_err(|e| e.to_string())
    }

    fn chronos(s: &str) -> Result<DateTime<Utc>, String> {
        serde_json::from_str::<DateTime<Utc>>(&serde_json::to_string(s).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn fast_path_agrees_with_chrono_on_edge_cases() {
        for s in [
            "2026-11-22T11:59:55Z",
            "2026-11-22T11:59:55.1Z",
            "2026-11-22T11:59:55.123456789Z",
            "2026-11-22T11:59:55.1234567891Z",
            "2026-11-22T11:59:55.Z",
            "2026-11-22T11:59:55+00:00",
            "2026-11-22T11:59:55-00:00",
            "2026-11-22T11:59:55+01:00",
            "2026-11-22t11:59:55z",
            "2026-11-22 11:59:55Z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
            "2026-02-29T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T11:60:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "+2026-11-22T11:59:55Z",
            "2026-11-22T11:59:55",
            "2026-11-22T11:59:55ZZ",
            "2026-11-22T11:59:55 Z",
            "2026-11-2２T11:59:55Z",
            "",
        ] {
            assert_eq!(ours(s), chronos(s), "{s:?}");
        }
        // Not a string: the same type error.
        let mut d = serde_json::Deserializer::from_str("17");
        assert_eq!(
            deserialize(&mut d).map_err(|e| e.to_string()),
            serde_json::from_str::<DateTime<Utc>>("17").map_err(|e| e.to_string())
        );
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_chrono(
            y in 0u32..10_000, mo in 0u32..14, d in 0u32..33, h in 0u32..25, mi in 0u32..61, s in 0u32..62,
            frac in proptest::option::of("[0-9]{0,11}"),
            zone in prop::sample::select(vec!["Z", "+00:00", "z", "+01:00", "-00:00", ""]),
        ) {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}");
            prop_assert_eq!(ours(&text), chronos(&text), "{}", text);
        }

        #[test]
        fn arbitrary_strings_agree_with_chrono(text in "[0-9T:.Z+-]{0,32}") {
            prop_assert_eq!(ours(&text), chronos(&text), "{}", text);
        }
    }
}
