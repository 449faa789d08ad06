//! The one-call decoder: lines in, [`Decoded`] messages out.

use std::collections::HashMap;

use crate::assemble::{Assembler, Limits, Payload};
use crate::message::{Message, StaticDataReport};
use crate::sentence::{Skip, TagBlock, Uscg};
use crate::{Error, Sentence};

/// A decoded message with what the line(s) said about its reception.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The message.
    pub message: Message,
    /// The tag block of the (first) sentence, if any.
    pub tag_block: Option<TagBlock<'static>>,
    /// The USCG receiver fields of the (first) sentence, if any.
    pub uscg: Option<Uscg<'static>>,
    /// Radio channel, as sent.
    pub channel: Option<char>,
    /// `true` for a `VDO` (own-ship) message.
    pub own_ship: bool,
}

impl Decoded {
    /// Event time in UNIX milliseconds: the tag block's `c:`, or else the USCG receive time.
    #[must_use]
    pub fn event_time_ms(&self) -> Option<i64> {
        crate::sentence::event_time_ms(self.tag_block.as_ref(), self.uscg.as_ref())
    }
}

/// What one input line came to ([`Decoder::process_line`]); refusals are the `Err` beside it.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // One per line, moved once: boxing would cost more.
pub enum Line {
    /// The line completed a message.
    Decoded(Decoded),
    /// The line is a fragment of a message still waiting for other fragments.
    Pending,
    /// The line is not AIS (blank, comment, another NMEA sentence): ignored, with the reason.
    Skipped(Skip),
}

/// Parses lines, reassembles fragments, decodes messages and merges type 24 parts.
///
/// Time is the caller's: every call takes `now_ms` on any monotonic clock in milliseconds.
///
/// ```
/// use porttrack_ais::{Decoder, Limits, Message};
///
/// let mut decoder = Decoder::new(Limits::default());
/// let lines = [
///     "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
///     "!AIVDM,2,2,1,A,88888888880,2*25",
///     "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4X", // corrupted
/// ];
/// assert_eq!(decoder.decode_line(lines[0], 0)?, None); // waits for its second part
/// let Message::StaticVoyage(ship) = decoder.decode_line(lines[1], 1)?.unwrap().message else { panic!() };
/// assert_eq!(ship.shipname, "EVER DIADEM");
/// let err = decoder.decode_line(lines[2], 2).unwrap_err();
/// assert_eq!(err.class(), "malformed_sentence");
/// # Ok::<(), porttrack_ais::Error>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    assembler: Assembler,
    limits: Limits,
    /// Type 24 part A names waiting for their part B, by MMSI.
    part_a: HashMap<u32, (String, u64)>,
}

impl Decoder {
    /// A decoder whose reassembly table, and type 24 part A cache, respect `limits`.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self { assembler: Assembler::new(limits), limits, part_a: HashMap::new() }
    }

    /// Decodes one line received at `now_ms`. `Ok(None)` means the line is a fragment of a
    /// message still waiting for other fragments.
    ///
    /// A type 24 part A is returned as it is and remembered; a later part B of the same
    /// MMSI is returned merged with it (and the part A forgotten), as gpsd does.
    ///
    /// Messages dropped from the reassembly table meanwhile are reported by
    /// [`take_dropped`](Self::take_dropped).
    ///
    /// # Errors
    ///
    /// Any [`Error`] of parsing, reassembly or decoding; see [`Error::class`].
    pub fn decode_line(&mut self, line: &str, now_ms: u64) -> Result<Option<Decoded>, Error> {
        let sentence = Sentence::parse(line)?;
        self.push_sentence(sentence, now_ms)
    }

    /// Like [`decode_line`](Self::decode_line), but says what became of every line: each one
    /// is decoded, pending, skipped with a reason ([`Skip`]: blank, comment, another NMEA
    /// sentence — which `decode_line` refuses as malformed), or refused with an [`Error`].
    /// At the end of the input, [`finish`](Self::finish) reports the messages left incomplete.
    ///
    /// ```
    /// use porttrack_ais::{Decoder, Limits, Line, Skip};
    ///
    /// let mut decoder = Decoder::new(Limits::default());
    /// assert_eq!(decoder.process_line("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47", 0)?, Line::Skipped(Skip::NotAis));
    /// assert_eq!(decoder.process_line("!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C", 1)?, Line::Pending);
    /// let left = decoder.finish();
    /// assert_eq!(left[0].class(), "fragment_incomplete");
    /// # Ok::<(), porttrack_ais::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`decode_line`](Self::decode_line).
    pub fn process_line(&mut self, line: &str, now_ms: u64) -> Result<Line, Error> {
        if let Some(skip) = Skip::of(line) {
            return Ok(Line::Skipped(skip));
        }
        let sentence = Sentence::parse(line)?;
        Ok(match self.push_sentence(sentence, now_ms)? {
            Some(decoded) => Line::Decoded(decoded),
            None => Line::Pending,
        })
    }

    /// End of input: forgets the pending fragments and returns, oldest first, the errors of
    /// the messages dropped meanwhile ([`take_dropped`](Self::take_dropped)) and an
    /// [`Error::FragmentIncomplete`] for each message still waiting for fragments, so that
    /// no fragment vanishes without a report. The decoder can be used again afterwards.
    pub fn finish(&mut self) -> Vec<Error> {
        let mut errors: Vec<Error> = self.assembler.take_dropped().collect();
        errors.extend(self.assembler.finish());
        errors
    }

    fn push_sentence(&mut self, sentence: Sentence<'_>, now_ms: u64) -> Result<Option<Decoded>, Error> {
        match self.assembler.push(sentence, now_ms)? {
            Some(payload) => self.decode_payload(&payload, now_ms).map(Some),
            None => Ok(None),
        }
    }

    /// Decodes a complete payload (from an [`Assembler`] of the caller's, say), merging
    /// type 24 parts as [`decode_line`](Self::decode_line) does.
    ///
    /// # Errors
    ///
    /// As [`Message::decode`].
    pub fn decode_payload(&mut self, payload: &Payload<'_>, now_ms: u64) -> Result<Decoded, Error> {
        let mut message = Message::decode(payload)?;
        if let Message::StaticData(report) = &mut message {
            self.merge_type24(report, now_ms);
        }
        Ok(Decoded {
            message,
            tag_block: payload.tag_block.clone().map(TagBlock::into_owned),
            uscg: payload.uscg.clone().map(Uscg::into_owned),
            channel: payload.channel,
            own_ship: payload.own_ship,
        })
    }

    /// Drops pending fragments and type 24 part A names older than the timeout at `now_ms`;
    /// returns how many pending messages were dropped (reported by [`take_dropped`](Self::take_dropped)).
    pub fn expire(&mut self, now_ms: u64) -> usize {
        let timeout = self.type24_timeout_ms();
        self.part_a.retain(|_, (_, seen)| now_ms.saturating_sub(*seen) <= timeout);
        self.assembler.expire(now_ms)
    }

    /// Errors describing the multi-sentence messages dropped since the last call:
    /// [`Error::ReassemblyOverflow`], [`Error::ReassemblyTimeout`], [`Error::Superseded`].
    pub fn take_dropped(&mut self) -> impl Iterator<Item = Error> + '_ {
        self.assembler.take_dropped()
    }

    /// The reassembly table.
    #[must_use]
    pub fn assembler(&self) -> &Assembler {
        &self.assembler
    }

    /// Part B follows part A within a minute (ITU-R M.1371); give it at least that.
    fn type24_timeout_ms(&self) -> u64 {
        self.limits.timeout_ms.max(60_000)
    }

    fn merge_type24(&mut self, report: &mut StaticDataReport, now_ms: u64) {
        match (&report.shipname, &report.part_b) {
            (Some(name), None) => {
                if self.part_a.len() >= self.limits.max_pending.max(1)
                    && !self.part_a.contains_key(&report.mmsi)
                {
                    let oldest = self.part_a.iter().min_by_key(|(_, (_, seen))| *seen).map(|(&mmsi, _)| mmsi);
                    if let Some(mmsi) = oldest {
                        self.part_a.remove(&mmsi);
                    }
                }
                self.part_a.insert(report.mmsi, (name.clone(), now_ms));
            }
            (None, Some(_)) => {
                let timeout = self.type24_timeout_ms();
                if let Some((name, seen)) = self.part_a.remove(&report.mmsi)
                    && now_ms.saturating_sub(seen) <= timeout
                {
                    report.shipname = Some(name);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // gpsd's sample: a 24A and a 24B of MMSI 271041815.
    const PART_A: &str = "!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2*6D";
    const PART_B: &str = "!AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0*40";

    fn static_data(decoded: Option<Decoded>) -> StaticDataReport {
        match decoded.map(|d| d.message) {
            Some(Message::StaticData(r)) => r,
            other => panic!("expected a type 24, got {other:?}"),
        }
    }

    fn xor(s: &str) -> u8 {
        s.bytes().fold(0, |a, b| a ^ b)
    }

    fn sentence(body: &str) -> String {
        format!("!{body}*{:02X}", xor(body))
    }

    fn tagged(tags: &str, body: &str) -> String {
        format!("\\{tags}*{:02X}\\{}", xor(tags), sentence(body))
    }

    #[test]
    fn every_line_has_an_outcome() {
        let mut decoder = Decoder::new(Limits::default());
        let skipped = [
            ("", Skip::Blank),
            ("   ", Skip::Blank),
            ("# a comment", Skip::Comment),
            ("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47", Skip::NotAis),
            ("$PSTT,10,0*00", Skip::NotAis),
            ("!AIALR,000000.00,007,A,V,AIS: UTC Lost*75", Skip::NotAis),
            (r"\s:r1*00\$GPRMC,1,2*00", Skip::NotAis),
        ];
        for (line, why) in skipped {
            assert_eq!(decoder.process_line(line, 0), Ok(Line::Skipped(why)), "{line:?}");
        }
        // `decode_line` keeps refusing them, as before.
        assert!(decoder.decode_line("$PSTT,10,0*00", 0).is_err());
        // AIS lines: strict about the sentence checksum, whatever the talker.
        let position = "AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0";
        for talker in ["AI", "SA", "BS", "AB", "AN"] {
            let line = sentence(&position.replacen("AI", talker, 1));
            assert!(matches!(decoder.process_line(&line, 0), Ok(Line::Decoded(_))), "{line}");
            let corrupt = line.replace(",0*", ",1*");
            assert_eq!(decoder.process_line(&corrupt, 0).unwrap_err().class(), "bad_checksum");
        }
    }

    #[test]
    fn tag_block_checksum_of_one_digit_is_accepted() {
        // A tag block whose checksum is below 0x10, written with one digit as some feeds do.
        let tags = "s:rp0,c:1700000000";
        let sum = xor(tags);
        assert!(sum < 0x10);
        let line = format!("\\{tags}*{sum:X}\\{}", sentence("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0"));
        let mut decoder = Decoder::new(Limits::default());
        let Ok(Line::Decoded(d)) = decoder.process_line(&line, 0) else { panic!("{line}") };
        assert_eq!(d.event_time_ms(), Some(1_700_000_000_000));
        let wrong = line.replacen(&format!("*{sum:X}\\"), &format!("*{:X}\\", (sum + 1) % 16), 1);
        assert_eq!(decoder.process_line(&wrong, 0).unwrap_err().class(), "bad_tag_block_checksum");
    }

    #[test]
    fn tag_block_group_ties_fragments_whose_later_parts_carry_the_group_only() {
        // NMEA 4: source and time on the group's first sentence only; other sentences between.
        let first = tagged(
            "g:1-2-77,s:rSAT01,c:1700000000",
            "AIVDM,2,1,4,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0",
        );
        let other = sentence("AIVDM,1,1,,B,15RTgt0PAso;90TKcjM8h6g208CQ,0");
        let second = tagged("g:2-2-77", "AIVDM,2,2,4,A,88888888880,2");
        let mut decoder = Decoder::new(Limits::default());
        assert_eq!(decoder.process_line(&first, 0), Ok(Line::Pending));
        assert!(matches!(decoder.process_line(&other, 1), Ok(Line::Decoded(_))));
        let Ok(Line::Decoded(d)) = decoder.process_line(&second, 2) else { panic!("not completed") };
        let Message::StaticVoyage(ship) = &d.message else { panic!("a type 5") };
        assert_eq!(ship.shipname, "EVER DIADEM");
        assert_eq!(d.event_time_ms(), Some(1_700_000_000_000), "the first sentence's time");
    }

    #[test]
    fn finish_reports_fragments_left_pending() {
        let mut decoder = Decoder::new(Limits::default());
        let first = sentence("AIVDM,3,1,5,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0");
        let second = sentence("AIVDM,3,2,5,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0");
        decoder.process_line(&first, 0).unwrap();
        decoder.process_line(&second, 1).unwrap();
        let left = decoder.finish();
        assert_eq!(left, vec![Error::FragmentIncomplete { received: 2, count: 3 }]);
        assert_eq!(left[0].class(), "fragment_incomplete");
        assert!(Error::CLASSES.contains(&"fragment_incomplete"));
        assert_eq!(decoder.assembler().pending(), 0);
        assert_eq!(decoder.finish(), vec![], "reported once");
    }

    #[test]
    fn merges_part_b_with_part_a_once() {
        let mut decoder = Decoder::new(Limits::default());
        let a = static_data(decoder.decode_line(PART_A, 0).unwrap());
        assert_eq!((a.shipname.as_deref(), a.part_b.is_some()), (Some("PROGUY"), false));
        let b = static_data(decoder.decode_line(PART_B, 1_000).unwrap());
        assert!(b.is_complete());
        assert_eq!(b.shipname.as_deref(), Some("PROGUY"));
        assert_eq!(b.part_b.as_ref().unwrap().callsign, "TC6163");
        // A repeated part B does not match the consumed part A again.
        let again = static_data(decoder.decode_line(PART_B, 2_000).unwrap());
        assert!(again.shipname.is_none());
    }

    #[test]
    fn stale_part_a_is_not_merged() {
        let mut decoder = Decoder::new(Limits { max_pending: 8, timeout_ms: 1_000 });
        decoder.decode_line(PART_A, 0).unwrap();
        // The part A cache keeps at least a minute, whatever the reassembly timeout.
        let b = static_data(decoder.decode_line(PART_B, 60_001).unwrap());
        assert!(b.shipname.is_none());
        decoder.decode_line(PART_A, 100_000).unwrap();
        assert_eq!(decoder.expire(160_001), 0);
        assert!(decoder.part_a.is_empty());
    }

    #[test]
    fn part_a_cache_is_bounded() {
        let mut decoder = Decoder::new(Limits { max_pending: 2, timeout_ms: 1_000 });
        for (now, mmsi) in [(0, 1u32), (1, 2), (2, 3)] {
            let mut report =
                StaticDataReport { repeat: 0, mmsi, shipname: Some(format!("S{mmsi}")), part_b: None };
            decoder.merge_type24(&mut report, now);
        }
        assert_eq!(decoder.part_a.len(), 2);
        assert!(!decoder.part_a.contains_key(&1), "the oldest is evicted");
    }
}
