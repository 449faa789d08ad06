//! One line of input: [`Sentence`], with its [`TagBlock`] and [`Uscg`] fields.

use std::borrow::Cow;

use crate::Error;
use crate::bits;

/// A parsed `!--VDM`/`!--VDO` sentence, borrowing from its line.
///
/// A line holds an optional NMEA 4 tag block, the `!--VDM`/`!--VDO` sentence, and
/// optional USCG receiver fields after the checksum.
///
/// ```text
/// \g:1-2-1604,s:rORBCOMM008,c:1418169601*37\!AIVDM,2,1,6,A,53@o0E00…,0*63,d-109,S2105,r003669946,1325394060
/// └──────────── tag block ─────────────────┘└──────────── sentence ─────────┘└──── USCG trailer ────────────┘
/// ```
///
/// [`Sentence::parse`] borrows from the line and allocates nothing; it verifies both
/// checksums and the armoring alphabet, so a parsed sentence only fails later for reasons
/// of reassembly or message content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence<'a> {
    /// The two-character talker (`AI`, `AB`, `BS`, `SA`…).
    pub talker: &'a str,
    /// `true` for `VDO` (own-ship report), `false` for `VDM`.
    pub own_ship: bool,
    /// Number of sentences of the message (1–9).
    pub fragment_count: u8,
    /// This sentence's number within the message (1-based).
    pub fragment_number: u8,
    /// Sequential message id tying the fragments of a multi-sentence message (0–9), if present.
    pub sequence_id: Option<u8>,
    /// Radio channel as sent (`A`, `B`, `1`, `2`…), if present.
    pub channel: Option<char>,
    /// The armored payload characters (already checked against the armoring alphabet).
    pub payload: &'a str,
    /// Fill bits at the end of the payload (0–5).
    pub fill_bits: u8,
    /// The NMEA 4 tag block, if the line had one.
    pub tag_block: Option<TagBlock<'a>>,
    /// The USCG receiver fields after the checksum, if the line had them.
    pub uscg: Option<Uscg<'a>>,
}

/// An NMEA 4 tag block: `\key:value,key:value*hh\` before the sentence.
///
/// Only the keys PortTrack uses are parsed; others are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagBlock<'a> {
    /// `s:` the source (receiver or station) identifier.
    pub source: Option<Cow<'a, str>>,
    /// `c:` the UNIX time of the report, in milliseconds. The field is seconds in most feeds
    /// and milliseconds in some; values above 10¹¹ are taken as milliseconds (10¹¹ s is the
    /// year 5138, 10¹¹ ms is 1973).
    pub time_ms: Option<i64>,
    /// `g:` the sentence group (NMEA 4 grouping of the fragments of one message).
    pub group: Option<Group>,
    /// `n:` the line count.
    pub line_count: Option<u64>,
    /// `d:` the destination identifier.
    pub destination: Option<Cow<'a, str>>,
    /// `t:` free text.
    pub text: Option<Cow<'a, str>>,
}

/// The `g:` tag of a tag block: sentence `number` of `count` in group `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Group {
    /// This sentence's number in the group (1-based).
    pub number: u8,
    /// Number of sentences in the group.
    pub count: u8,
    /// Group identifier.
    pub id: u32,
}

/// The receiver metadata the USCG's NAIS network appends after the checksum:
/// `,s28089,d-103,T39.44353985,x147521,r08TPHI1,1242958962`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Uscg<'a> {
    /// `r…` the receiving station.
    pub station: Option<Cow<'a, str>>,
    /// The first bare integer: the UNIX time (seconds) the station received the sentence.
    pub receive_time: Option<i64>,
    /// `d…` the received signal strength in dBm.
    pub signal_dbm: Option<i32>,
    /// `S…` the TDMA slot the message was received in.
    pub slot: Option<u32>,
}

impl<'a> Sentence<'a> {
    /// Parses one line (trailing whitespace, `\r\n` included, is ignored).
    ///
    /// ```
    /// use porttrack_ais::Sentence;
    ///
    /// let s = Sentence::parse(r"\s:rORBCOMM104,c:1418172113*23\!AIVDM,1,1,,B,13F?Vv700<DJuLEtvep`iToV0<00,0*78")?;
    /// assert_eq!(s.talker, "AI");
    /// assert_eq!(s.channel, Some('B'));
    /// let tags = s.tag_block.as_ref().unwrap();
    /// assert_eq!(tags.source.as_deref(), Some("rORBCOMM104"));
    /// assert_eq!(tags.time_ms, Some(1_418_172_113_000));
    /// # Ok::<(), porttrack_ais::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Checksum`], [`Error::TagBlockChecksum`], [`Error::MalformedSentence`],
    /// [`Error::MalformedTagBlock`] or [`Error::BadArmor`]. A sentence other than `VDM`/`VDO`
    /// is [`Error::MalformedSentence`] here; [`Decoder::process_line`](crate::Decoder::process_line)
    /// skips such lines before parsing (see [`Skip`]).
    pub fn parse(line: &'a str) -> Result<Self, Error> {
        let line = line.trim_end();
        let (tag_block, rest) = match line.strip_prefix('\\') {
            Some(tagged) => {
                let end = tagged.find('\\').ok_or(Error::MalformedTagBlock("no closing backslash"))?;
                (Some(TagBlock::parse(&tagged[..end])?), &tagged[end + 1..])
            }
            None => (None, line),
        };
        let body = rest
            .strip_prefix('!')
            .or_else(|| rest.strip_prefix('$'))
            .ok_or(Error::MalformedSentence("no '!' start delimiter"))?;
        let star = body.find('*').ok_or(Error::MalformedSentence("no checksum"))?;
        let (fields, after) = (&body[..star], &body[star + 1..]);
        let stated = after
            .get(..2)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .ok_or(Error::MalformedSentence("checksum is not two hex digits"))?;
        let computed = xor(fields);
        if computed != stated {
            return Err(Error::Checksum { computed, stated });
        }
        // After the checksum: USCG fields, or (rarely) junk that gpsd ignores too.
        let uscg = after[2..].strip_prefix(',').map(Uscg::parse);

        let mut it = fields.split(',');
        let address = it.next().unwrap_or_default();
        let (talker, kind) = match (address.get(..2), address.get(2..)) {
            (Some(talker), Some(kind)) if address.len() == 5 => (talker, kind),
            _ => return Err(Error::MalformedSentence("address field is not 5 characters")),
        };
        let own_ship = match kind {
            "VDM" => false,
            "VDO" => true,
            _ => return Err(Error::MalformedSentence("not a VDM or VDO sentence")),
        };
        let mut next = || it.next().ok_or(Error::MalformedSentence("fewer than 7 fields"));
        let fragment_count = digit(next()?).ok_or(Error::MalformedSentence("bad fragment count"))?;
        let fragment_number = digit(next()?).ok_or(Error::MalformedSentence("bad fragment number"))?;
        let sequence_id = match next()? {
            "" => None,
            s => Some(digit(s).ok_or(Error::MalformedSentence("bad sequence id"))?),
        };
        let channel = {
            let field = next()?;
            let mut chars = field.chars();
            match (chars.next(), chars.next()) {
                (None, _) => None,
                (Some(c), None) => Some(c),
                // gpsd accepts "12" no more than we do; longer channel names are not AIS.
                (Some(_), Some(_)) => return Err(Error::MalformedSentence("bad channel")),
            }
        };
        let payload = next()?;
        let fill_bits = match next()? {
            // gpsd reads an empty fill-bits field as 0.
            "" => 0,
            s => digit(s).filter(|&f| f <= 5).ok_or(Error::MalformedSentence("bad fill bits"))?,
        };
        if fragment_count == 0 || fragment_number == 0 || fragment_number > fragment_count {
            return Err(Error::BadFragment("fragment number outside 1..=count"));
        }
        bits::validate(payload.as_bytes())?;
        Ok(Self {
            talker,
            own_ship,
            fragment_count,
            fragment_number,
            sequence_id,
            channel,
            payload,
            fill_bits,
            tag_block,
            uscg,
        })
    }

    /// The tag block's event time or, failing that, the USCG receive time, in UNIX milliseconds.
    #[must_use]
    pub fn event_time_ms(&self) -> Option<i64> {
        event_time_ms(self.tag_block.as_ref(), self.uscg.as_ref())
    }
}

pub(crate) fn event_time_ms(tags: Option<&TagBlock<'_>>, uscg: Option<&Uscg<'_>>) -> Option<i64> {
    tags.and_then(|t| t.time_ms)
        .or_else(|| uscg.and_then(|u| u.receive_time).and_then(|s| s.checked_mul(1000)))
}

impl<'a> TagBlock<'a> {
    /// Parses the content between the backslashes (`s:…,c:…*hh`), verifying the checksum
    /// when there is one (NMEA 4 requires it; some feeds omit it).
    fn parse(content: &'a str) -> Result<Self, Error> {
        let fields = match content.rfind('*') {
            Some(star) => {
                // Two hex digits per NMEA 4; some feeds drop a leading zero (`*5`), which
                // gpsd (it does not check tag blocks) accepts too.
                let hex = &content[star + 1..];
                let stated = u8::from_str_radix(hex, 16)
                    .ok()
                    .filter(|_| matches!(hex.len(), 1 | 2))
                    .ok_or(Error::MalformedTagBlock("checksum is not one or two hex digits"))?;
                let fields = &content[..star];
                let computed = xor(fields);
                if computed != stated {
                    return Err(Error::TagBlockChecksum { computed, stated });
                }
                fields
            }
            None => content,
        };
        let mut tags = TagBlock::default();
        for field in fields.split(',').filter(|f| !f.is_empty()) {
            let (key, value) = field.split_once(':').ok_or(Error::MalformedTagBlock("field without ':'"))?;
            match key {
                "s" => tags.source = Some(Cow::Borrowed(value)),
                "c" => {
                    let t: i64 = value.parse().map_err(|_| Error::MalformedTagBlock("bad c: time"))?;
                    tags.time_ms = Some(if t.abs() > 100_000_000_000 { t } else { t * 1000 });
                }
                "g" => tags.group = Some(Group::parse(value)?),
                "n" => {
                    tags.line_count =
                        Some(value.parse().map_err(|_| Error::MalformedTagBlock("bad n: line count"))?);
                }
                "d" => tags.destination = Some(Cow::Borrowed(value)),
                "t" => tags.text = Some(Cow::Borrowed(value)),
                // r: relative time, x:, and vendor keys (ORBCOMM's q:, T:…) are not used.
                _ => {}
            }
        }
        Ok(tags)
    }

    /// An owned copy, for keeping past the line's lifetime.
    #[must_use]
    pub fn into_owned(self) -> TagBlock<'static> {
        TagBlock {
            source: self.source.map(|s| Cow::Owned(s.into_owned())),
            time_ms: self.time_ms,
            group: self.group,
            line_count: self.line_count,
            destination: self.destination.map(|s| Cow::Owned(s.into_owned())),
            text: self.text.map(|s| Cow::Owned(s.into_owned())),
        }
    }
}

impl Group {
    fn parse(value: &str) -> Result<Self, Error> {
        let bad = || Error::MalformedTagBlock("bad g: group");
        let mut it = value.splitn(3, '-');
        let number: u8 = it.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let count: u8 = it.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let id: u32 = it.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        if number == 0 || count == 0 || number > count {
            return Err(bad());
        }
        Ok(Self { number, count, id })
    }
}

impl<'a> Uscg<'a> {
    /// Parses the comma-separated fields after the checksum; unknown or malformed fields are
    /// skipped (this metadata is best effort, the sentence itself is already verified).
    fn parse(trailer: &'a str) -> Self {
        let mut uscg = Uscg::default();
        for field in trailer.split(',') {
            let mut chars = field.chars();
            match chars.next() {
                Some('r') => uscg.station = Some(Cow::Borrowed(chars.as_str())),
                Some('d') => uscg.signal_dbm = chars.as_str().parse().ok(),
                Some('S') => uscg.slot = chars.as_str().parse().ok(),
                Some(c) if c.is_ascii_digit() && uscg.receive_time.is_none() => {
                    uscg.receive_time = field.parse().ok();
                }
                _ => {}
            }
        }
        uscg
    }

    /// An owned copy, for keeping past the line's lifetime.
    #[must_use]
    pub fn into_owned(self) -> Uscg<'static> {
        Uscg {
            station: self.station.map(|s| Cow::Owned(s.into_owned())),
            receive_time: self.receive_time,
            signal_dbm: self.signal_dbm,
            slot: self.slot,
        }
    }
}

fn xor(s: &str) -> u8 {
    s.bytes().fold(0, |acc, b| acc ^ b)
}

fn digit(s: &str) -> Option<u8> {
    match s.as_bytes() {
        [d @ b'0'..=b'9'] => Some(d - b'0'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_checksum(body: &str) -> String {
        format!("!{body}*{:02X}", xor(body))
    }

    #[test]
    fn parses_plain_sentence() {
        let s = Sentence::parse("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\r\n").unwrap();
        assert_eq!(s.talker, "AI");
        assert!(!s.own_ship);
        assert_eq!((s.fragment_count, s.fragment_number, s.sequence_id), (1, 1, None));
        assert_eq!(s.channel, Some('A'));
        assert_eq!(s.payload, "15RTgt0PAso;90TKcjM8h6g208CQ");
        assert_eq!(s.fill_bits, 0);
        assert!(s.tag_block.is_none() && s.uscg.is_none());
    }

    #[test]
    fn other_talkers_and_vdo() {
        let line = with_checksum("BSVDO,2,1,7,2,5,0");
        let s = Sentence::parse(&line).unwrap();
        assert_eq!(s.talker, "BS");
        assert!(s.own_ship);
        assert_eq!(s.sequence_id, Some(7));
        assert_eq!(s.channel, Some('2'));
        assert!(matches!(
            Sentence::parse(&with_checksum("GPGGA,1,1,,A,5,0")),
            Err(Error::MalformedSentence(_))
        ));
    }

    #[test]
    fn rejects_bad_checksum_and_armor() {
        assert_eq!(
            Sentence::parse("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B"),
            Err(Error::Checksum { computed: 0x4A, stated: 0x4B })
        );
        assert_eq!(
            Sentence::parse(&with_checksum("AIVDM,1,1,,A,15RX,0")),
            Err(Error::BadArmor { byte: b'X', offset: 3 })
        );
        assert!(matches!(Sentence::parse("AIVDM,1,1,,A,1,0*00"), Err(Error::MalformedSentence(_))));
        assert!(matches!(
            Sentence::parse(&with_checksum("AIVDM,1,1,,A,1")),
            Err(Error::MalformedSentence(_))
        ));
        assert!(matches!(Sentence::parse(&with_checksum("AIVDM,1,2,,A,1,0")), Err(Error::BadFragment(_))));
        assert!(matches!(
            Sentence::parse(&with_checksum("AIVDM,1,1,,A,1,6")),
            Err(Error::MalformedSentence(_))
        ));
    }

    #[test]
    fn tag_block_fields_and_checksum() {
        let line = r"\g:1-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01*37\!AIVDM,2,1,6,A,53@o0E000001Q0CG37U8u<Tp4q@D00000000000018330400000000000000,0*63";
        let s = Sentence::parse(line).unwrap();
        let t = s.tag_block.unwrap();
        assert_eq!(t.group, Some(Group { number: 1, count: 2, id: 1604 }));
        assert_eq!(t.source.as_deref(), Some("rORBCOMM008"));
        assert_eq!(t.time_ms, Some(1_418_169_601_000));

        let bad = line.replacen("*37", "*38", 1);
        assert_eq!(
            Sentence::parse(&bad).map(|_| ()),
            Err(Error::TagBlockChecksum { computed: 0x37, stated: 0x38 })
        );
        let unterminated = r"\s:x*00!AIVDM,1,1,,A,1,0*00";
        assert!(matches!(Sentence::parse(unterminated), Err(Error::MalformedTagBlock(_))));
    }

    #[test]
    fn tag_block_time_in_milliseconds() {
        let content = "c:1426032000123";
        let line = format!(r"\{content}*{:02X}\{}", xor(content), with_checksum("AIVDM,1,1,,A,1,0"));
        let s = Sentence::parse(&line).unwrap();
        assert_eq!(s.event_time_ms(), Some(1_426_032_000_123));
    }

    #[test]
    fn uscg_trailer() {
        let line = "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30,d-080,S2118,t050056.00,T56.4837741,r003669946,1325394060,1325394001";
        let s = Sentence::parse(line).unwrap();
        let u = s.uscg.clone().unwrap();
        assert_eq!(u.station.as_deref(), Some("003669946"));
        assert_eq!(u.receive_time, Some(1_325_394_060));
        assert_eq!(u.signal_dbm, Some(-80));
        assert_eq!(u.slot, Some(2118));
        assert_eq!(s.event_time_ms(), Some(1_325_394_060_000));
    }
}

/// Why [`Decoder::process_line`](crate::Decoder::process_line) skipped a line: lines that are
/// not AIS at all, as gpsd ignores them, as opposed to AIS lines refused with an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skip {
    /// An empty or all-blank line.
    Blank,
    /// A `#` comment (as in gpsd's test logs).
    Comment,
    /// An NMEA sentence other than `!--VDM`/`!--VDO`: `$GPGGA`, `$PSTT` (proprietary),
    /// `!AIALR`… (the address field is not a talker and `VDM`/`VDO`).
    NotAis,
}

impl Skip {
    /// A short, stable, snake_case reason, for logs and reports.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Self::Blank => "blank",
            Self::Comment => "comment",
            Self::NotAis => "not_ais_sentence",
        }
    }

    /// Whether `line` is one to skip, and why; `None` for lines to parse as AIS (which may
    /// still be refused). The checksum of a skipped sentence is not checked: its content is
    /// not used.
    #[must_use]
    pub fn of(line: &str) -> Option<Self> {
        let line = line.trim();
        if line.is_empty() {
            return Some(Self::Blank);
        }
        if line.starts_with('#') {
            return Some(Self::Comment);
        }
        // After a well-formed tag block, if any (a broken one is refused by the parser).
        let rest = match line.strip_prefix('\\') {
            Some(tagged) => &tagged[tagged.find('\\')? + 1..],
            None => line,
        };
        let body = rest.strip_prefix('!').or_else(|| rest.strip_prefix('$'))?;
        let address = body.split([',', '*']).next().unwrap_or_default();
        let is_ais = address.len() == 5 && (address.ends_with("VDM") || address.ends_with("VDO"));
        (!is_ais).then_some(Self::NotAis)
    }
}
