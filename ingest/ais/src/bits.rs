//! 6-bit armoring: reading AIS fields straight out of the armored payload characters.
//!
//! The payload of an AIVDM sentence carries 6 bits per character (`0`–`W` are 0–39,
//! `` ` ``–`w` are 40–63). Rather than unpacking the payload into a bit vector first,
//! [`Bits`] reads each field directly from the characters that cover it: a field of up to
//! 32 bits touches at most 7 characters, and nothing is allocated.
//!
//! Like gpsd, reads past the end of the payload yield zero bits, and the fill bits at the
//! end of the last character are readable (gpsd reads a short type 1 radio field that way);
//! only [`Bits::len`] excludes them.

use crate::Error;

/// Value of an armored character, or `None` if it is not one.
#[inline]
pub(crate) fn sixbit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'W' => Some(c - b'0'),
        b'`'..=b'w' => Some(c - b'8'),
        _ => None,
    }
}

/// Checks that every byte of `payload` is an armored character.
pub(crate) fn validate(payload: &[u8]) -> Result<(), Error> {
    match payload.iter().position(|&c| sixbit(c).is_none()) {
        None => Ok(()),
        Some(offset) => Err(Error::BadArmor { byte: payload[offset], offset }),
    }
}

/// A read-only view of an armored payload as a bit string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bits<'a> {
    armored: &'a [u8],
    len: usize,
}

impl<'a> Bits<'a> {
    /// Views `armored` (already [validated](validate)) minus `fill_bits` trailing bits.
    pub(crate) fn new(armored: &'a [u8], fill_bits: u8) -> Self {
        let len = (armored.len() * 6).saturating_sub(usize::from(fill_bits));
        Self { armored, len }
    }

    /// Message length in bits (fill bits excluded).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The unsigned field of `width` (≤ 32) bits starting at bit `start`.
    #[inline]
    pub(crate) fn u(&self, start: usize, width: usize) -> u32 {
        debug_assert!(width <= 32);
        let mut value: u64 = 0;
        let mut pos = start;
        let end = start + width;
        while pos < end {
            let index = pos / 6;
            let offset = pos % 6;
            let six = self.armored.get(index).and_then(|&c| sixbit(c)).unwrap_or(0);
            let take = (6 - offset).min(end - pos);
            let chunk = (six >> (6 - offset - take)) & ((1u8 << take) - 1);
            value = (value << take) | u64::from(chunk);
            pos += take;
        }
        // `width <= 32`, so the value fits.
        value as u32
    }

    /// The two's-complement signed field of `width` (1..=32) bits starting at bit `start`.
    #[inline]
    pub(crate) fn i(&self, start: usize, width: usize) -> i32 {
        let raw = self.u(start, width);
        let shift = 32 - width as u32;
        ((raw << shift) as i32) >> shift
    }

    /// A boolean flag at bit `start`.
    #[inline]
    pub(crate) fn flag(&self, start: usize) -> bool {
        self.u(start, 1) != 0
    }

    /// Up to `count` 6-bit text characters from bit `start`, as gpsd decodes them: stop at the
    /// first `@` (the padding character), then trim trailing spaces and `@`.
    pub(crate) fn text(&self, start: usize, count: usize) -> String {
        let mut out = self.text_untrimmed(start, count);
        trim_right(&mut out);
        out
    }

    /// Like [`text`](Bits::text) without the trailing-space trim (gpsd's type 21 name, whose
    /// extension is appended before trimming).
    pub(crate) fn text_untrimmed(&self, start: usize, count: usize) -> String {
        // gpsd's own bounds check: nothing at all when the text starts past the end.
        if self.len <= start {
            return String::new();
        }
        let mut out = String::with_capacity(count);
        for i in 0..count {
            let c = SIXBIT_ASCII[self.u(start + 6 * i, 6) as usize];
            if c == b'@' {
                break;
            }
            out.push(char::from(c));
        }
        out
    }
}

/// Trims trailing spaces and `@` as gpsd does.
pub(crate) fn trim_right(s: &mut String) {
    let kept = s.trim_end_matches([' ', '@']).len();
    s.truncate(kept);
}

/// The AIS 6-bit character set (ITU-R M.1371 table 47).
pub(crate) const SIXBIT_ASCII: &[u8; 64] =
    b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armor_alphabet_round_trips() {
        for v in 0u8..64 {
            let c = if v < 40 { v + b'0' } else { v + b'8' };
            assert_eq!(sixbit(c), Some(v), "char {c}");
        }
        for c in [b'X', b'_', b'x', b' ', b'/', 0xFF] {
            assert_eq!(sixbit(c), None, "char {c}");
        }
    }

    #[test]
    fn reads_fields_across_characters() {
        // "15RTgt" = 000001 000101 100010 100100 101111 111100
        let bits = Bits::new(b"15RTgt", 0);
        assert_eq!(bits.len(), 36);
        assert_eq!(bits.u(0, 6), 1);
        assert_eq!(bits.u(6, 2), 0);
        assert_eq!(bits.u(8, 12), 0b0101_1000_1010);
        assert_eq!(bits.u(30, 6), 0b111100);
        assert_eq!(bits.i(30, 3), -1);
        assert_eq!(bits.i(31, 4), -2);
        // Past the end: zeros.
        assert_eq!(bits.u(34, 8), 0b00_000000);
        assert_eq!(bits.u(100, 30), 0);
    }

    #[test]
    fn fill_bits_shorten_but_stay_readable() {
        let bits = Bits::new(b"w", 2);
        assert_eq!(bits.len(), 4);
        assert_eq!(bits.u(0, 6), 63);
    }

    #[test]
    fn text_stops_at_padding_and_trims() {
        // "A", "B", " ", "@" -> 1, 2, 32, 0
        let mut armored = Vec::new();
        for v in [1u8, 2, 32, 0, 3] {
            armored.push(if v < 40 { v + b'0' } else { v + b'8' });
        }
        let bits = Bits::new(&armored, 0);
        assert_eq!(bits.text(0, 5), "AB");
        assert_eq!(bits.text_untrimmed(0, 3), "AB ");
        assert_eq!(bits.text(30, 5), "");
    }
}
