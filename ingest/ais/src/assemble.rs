//! Reassembly of multi-sentence messages: [`Assembler`], keyed by [`FragmentKey`].

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use crate::sentence::{TagBlock, Uscg};
use crate::{Error, Sentence};

/// Bounds on the reassembly table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most messages waiting for fragments at once; the oldest is dropped to make room.
    pub max_pending: usize,
    /// How long (in the caller's milliseconds) a message may wait for its other fragments.
    pub timeout_ms: u64,
}

impl Default for Limits {
    /// 1024 pending messages, 30 seconds: fragments normally arrive within a second of
    /// each other; satellite feeds can take longer.
    fn default() -> Self {
        Self { max_pending: 1024, timeout_ms: 30_000 }
    }
}

/// A complete armored payload: one sentence's, or the concatenation of a message's fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload<'a> {
    /// The armored characters.
    pub armored: Cow<'a, str>,
    /// Fill bits of the last fragment.
    pub fill_bits: u8,
    /// Radio channel of the (first) fragment.
    pub channel: Option<char>,
    /// `true` for a `VDO` (own-ship) message.
    pub own_ship: bool,
    /// Tag block of the first fragment that had one.
    pub tag_block: Option<TagBlock<'a>>,
    /// USCG receiver fields of the first fragment that had them.
    pub uscg: Option<Uscg<'a>>,
}

impl<'a> Payload<'a> {
    /// The payload of a single-sentence message, borrowed from it; `None` for a fragment.
    #[must_use]
    pub fn single(sentence: Sentence<'a>) -> Option<Self> {
        (sentence.fragment_count == 1).then_some(Self {
            armored: Cow::Borrowed(sentence.payload),
            fill_bits: sentence.fill_bits,
            channel: sentence.channel,
            own_ship: sentence.own_ship,
            tag_block: sentence.tag_block,
            uscg: sentence.uscg,
        })
    }

    /// Event time: the tag block's `c:` or else the USCG receive time, in UNIX milliseconds.
    #[must_use]
    pub fn event_time_ms(&self) -> Option<i64> {
        crate::sentence::event_time_ms(self.tag_block.as_ref(), self.uscg.as_ref())
    }
}

/// Which message a fragment belongs to: the sentence fields that identify the
/// fragments of one multi-sentence message. Fragments with equal keys are parts of the
/// same message; their fragment numbers say which part each is.
///
/// - With an NMEA 4 tag block group (`g:`), the group's id and fragment count: fragments
///   tied by a group may come on different channels, with other sentences in between, and
///   the later ones may carry the group alone (NMEA 4 puts `s:` and `c:` on the first
///   sentence of a group only), so the source is not part of a group's key.
/// - Otherwise the sentence's sequential message id, radio channel, `VDM`/`VDO`
///   (own ship) and fragment count, plus the tag block source when there is one.
///
/// The fragment count is part of the key: a 3-part message and a 2-part message that
/// reuse a sequence id are different messages. The [`Assembler`] reassembles by this key;
/// callers that hold fragments themselves (to dead-letter them, say) can use it to know
/// which ones a completed message consumed.
///
/// ```
/// use porttrack_ais::{FragmentKey, Sentence};
///
/// let first = Sentence::parse("!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C")?;
/// let second = Sentence::parse("!AIVDM,2,2,1,A,88888888880,2*25")?;
/// assert_eq!(FragmentKey::of(&first), FragmentKey::of(&second));
/// assert_eq!(FragmentKey::of(&first).count(), 2);
/// # Ok::<(), porttrack_ais::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    source: Option<Box<str>>,
    group: Option<u32>,
    sequence_id: Option<u8>,
    channel: Option<char>,
    own_ship: bool,
    count: u8,
}

impl FragmentKey {
    /// The key of the message `sentence` is a fragment of. Only fragments need one
    /// (`fragment_count > 1`): a single-sentence message is complete by itself.
    #[must_use]
    pub fn of(sentence: &Sentence<'_>) -> Self {
        let group = sentence.tag_block.as_ref().and_then(|t| t.group);
        Self {
            source: if group.is_some() {
                None
            } else {
                sentence.tag_block.as_ref().and_then(|t| t.source.as_deref()).map(Box::from)
            },
            group: group.map(|g| g.id),
            sequence_id: if group.is_some() { None } else { sentence.sequence_id },
            channel: if group.is_some() { None } else { sentence.channel },
            own_ship: sentence.own_ship,
            count: group.map_or(sentence.fragment_count, |g| g.count),
        }
    }

    /// How many fragments the message has.
    #[must_use]
    pub fn count(&self) -> u8 {
        self.count
    }
}

#[derive(Debug)]
struct Pending {
    parts: Vec<Option<String>>,
    received: u8,
    fill_bits: u8,
    first_seen_ms: u64,
    channel: Option<char>,
    own_ship: bool,
    tag_block: Option<TagBlock<'static>>,
    uscg: Option<Uscg<'static>>,
}

impl Pending {
    fn count(&self) -> u8 {
        self.parts.len() as u8
    }
}

/// Reassembles multi-sentence messages.
///
/// A message longer than one sentence (type 5 nearly always) is sent as up to 9 fragments
/// that share a sequence id and a channel. Feeds interleave fragments of different
/// messages, and satellite feeds (ORBCOMM) may even put unrelated sentences between two
/// fragments or deliver them out of order; NMEA 4 tag blocks then tie them with a `g:` group.
///
/// The [`Assembler`] keys pending messages by [`FragmentKey`]:
/// - the tag block group id when there is one (plus the tag block source), otherwise
/// - sequence id, channel and VDM/VDO (plus the tag block source, when there is one),
///
/// stores fragments by number (so out-of-order arrival completes too), ignores exact
/// duplicates, and bounds its memory: at most [`Limits::max_pending`] messages wait, each
/// at most [`Limits::timeout_ms`] on the caller's clock. Dropped messages are not lost
/// silently: they are queued as [`Error`]s to be collected with [`Assembler::take_dropped`].
///
/// Single-sentence messages go straight through without touching the table or allocating.
///
/// ```
/// use porttrack_ais::{Assembler, Limits, Sentence};
///
/// let mut assembler = Assembler::new(Limits::default());
/// let first = Sentence::parse("!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C")?;
/// let second = Sentence::parse("!AIVDM,2,2,1,A,88888888880,2*25")?;
/// assert!(assembler.push(first, 0)?.is_none());
/// let payload = assembler.push(second, 5)?.expect("complete");
/// assert_eq!(payload.armored.len(), 71);
/// assert_eq!(payload.fill_bits, 2);
/// # Ok::<(), porttrack_ais::Error>(())
/// ```
#[derive(Debug)]
pub struct Assembler {
    limits: Limits,
    pending: HashMap<FragmentKey, Pending>,
    dropped: VecDeque<Error>,
    dropped_overflow: u64,
}

impl Assembler {
    /// An empty assembler. A `max_pending` of 0 is taken as 1.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        let limits = Limits { max_pending: limits.max_pending.max(1), ..limits };
        Self { limits, pending: HashMap::new(), dropped: VecDeque::new(), dropped_overflow: 0 }
    }

    /// Adds a sentence received at `now_ms` (any monotonic clock of the caller's, in
    /// milliseconds). Returns the complete payload if this sentence completes a message.
    ///
    /// A message that this call pushes out of the table (full table, expired entry, or a
    /// new first fragment under the same key) is queued for [`take_dropped`](Self::take_dropped).
    ///
    /// # Errors
    ///
    /// [`Error::ConflictingFragment`] when a fragment other than the first arrives twice
    /// with different content (the pending message is kept, the new fragment refused).
    pub fn push<'a>(&mut self, sentence: Sentence<'a>, now_ms: u64) -> Result<Option<Payload<'a>>, Error> {
        if sentence.fragment_count == 1 {
            return Ok(Payload::single(sentence));
        }
        let group = sentence.tag_block.as_ref().and_then(|t| t.group);
        let number = group.map_or(sentence.fragment_number, |g| g.number);
        let key = FragmentKey::of(&sentence);
        let count = key.count();

        if let Some(entry) = self.pending.get(&key) {
            let expired = now_ms.saturating_sub(entry.first_seen_ms) > self.limits.timeout_ms;
            let slot = &entry.parts[usize::from(number - 1)];
            let conflicting = slot.as_deref().is_some_and(|p| p != sentence.payload);
            if slot.as_deref() == Some(sentence.payload) && !expired {
                // An exact duplicate (satellite feeds repeat sentences): nothing new.
                return Ok(None);
            }
            if expired || (conflicting && number == 1) {
                // A stale message, or a new message reusing the key: the old one is lost.
                if let Some(old) = self.pending.remove(&key) {
                    let (received, count) = (old.received, old.count());
                    self.record(if expired {
                        Error::ReassemblyTimeout { received, count }
                    } else {
                        Error::Superseded { received, count }
                    });
                }
            } else if conflicting {
                return Err(Error::ConflictingFragment { number, count });
            }
        }

        if !self.pending.contains_key(&key) && self.pending.len() >= self.limits.max_pending {
            self.evict_oldest();
        }
        let entry = self.pending.entry(key.clone()).or_insert_with(|| Pending {
            parts: vec![None; usize::from(count)],
            received: 0,
            fill_bits: 0,
            first_seen_ms: now_ms,
            channel: sentence.channel,
            own_ship: sentence.own_ship,
            tag_block: None,
            uscg: None,
        });
        entry.parts[usize::from(number - 1)] = Some(sentence.payload.to_owned());
        entry.received += 1;
        if number == count {
            entry.fill_bits = sentence.fill_bits;
        }
        if entry.tag_block.is_none() {
            entry.tag_block = sentence.tag_block.map(TagBlock::into_owned);
        }
        if entry.uscg.is_none() {
            entry.uscg = sentence.uscg.map(Uscg::into_owned);
        }
        if entry.received < entry.count() {
            return Ok(None);
        }

        let Some(done) = self.pending.remove(&key) else {
            return Ok(None);
        };
        let mut armored = String::with_capacity(done.parts.iter().flatten().map(String::len).sum());
        for part in done.parts.iter().flatten() {
            armored.push_str(part);
        }
        Ok(Some(Payload {
            armored: Cow::Owned(armored),
            fill_bits: done.fill_bits,
            channel: done.channel,
            own_ship: done.own_ship,
            tag_block: done.tag_block,
            uscg: done.uscg,
        }))
    }

    /// Drops every message that has waited longer than the timeout at `now_ms`, queueing an
    /// [`Error::ReassemblyTimeout`] for each; returns how many were dropped.
    pub fn expire(&mut self, now_ms: u64) -> usize {
        let timeout = self.limits.timeout_ms;
        let mut expired = Vec::new();
        self.pending.retain(|_, p| {
            let keep = now_ms.saturating_sub(p.first_seen_ms) <= timeout;
            if !keep {
                expired.push(Error::ReassemblyTimeout { received: p.received, count: p.count() });
            }
            keep
        });
        let n = expired.len();
        for e in expired {
            self.record(e);
        }
        n
    }

    /// End of input: drops every message still waiting for fragments and returns an
    /// [`Error::FragmentIncomplete`] for each, oldest first.
    pub fn finish(&mut self) -> Vec<Error> {
        let mut pending: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        pending.sort_by_key(|p| p.first_seen_ms);
        pending.iter().map(|p| Error::FragmentIncomplete { received: p.received, count: p.count() }).collect()
    }

    /// Takes the errors describing messages dropped since the last call (oldest first).
    pub fn take_dropped(&mut self) -> impl Iterator<Item = Error> + '_ {
        self.dropped.drain(..)
    }

    /// Dropped-message errors that could not be queued because nobody collected them
    /// (the queue holds at most `max_pending`).
    #[must_use]
    pub fn uncollected_drops(&self) -> u64 {
        self.dropped_overflow
    }

    /// Number of messages waiting for fragments.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Whether the message of `key` waits for fragments (it has not
    /// completed, expired, been evicted or been superseded).
    #[must_use]
    pub fn is_pending(&self, key: &FragmentKey) -> bool {
        self.pending.contains_key(key)
    }

    fn evict_oldest(&mut self) {
        let oldest = self.pending.iter().min_by_key(|(_, p)| p.first_seen_ms).map(|(k, _)| k.clone());
        if let Some(p) = oldest.and_then(|k| self.pending.remove(&k)) {
            self.record(Error::ReassemblyOverflow { received: p.received, count: p.count() });
        }
    }

    fn record(&mut self, error: Error) {
        if self.dropped.len() >= self.limits.max_pending {
            self.dropped.pop_front();
            self.dropped_overflow += 1;
        }
        self.dropped.push_back(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(body: &str) -> String {
        format!("!{body}*{:02X}", body.bytes().fold(0u8, |a, b| a ^ b))
    }

    fn push(a: &mut Assembler, body: &str, now: u64) -> Result<Option<String>, Error> {
        let l = line(body);
        let s = Sentence::parse(&l).unwrap();
        a.push(s, now).map(|p| p.map(|p| format!("{}/{}", p.armored, p.fill_bits)))
    }

    #[test]
    fn single_sentence_borrows() {
        let mut a = Assembler::new(Limits::default());
        let l = line("AIVDM,1,1,,A,15RT,0");
        let p = a.push(Sentence::parse(&l).unwrap(), 0).unwrap().unwrap();
        assert!(matches!(p.armored, Cow::Borrowed("15RT")));
        assert_eq!(a.pending(), 0);
    }

    #[test]
    fn interleaved_and_out_of_order() {
        let mut a = Assembler::new(Limits::default());
        assert_eq!(push(&mut a, "AIVDM,2,1,6,B,AAA,0", 0), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,2,1,2,A,BBB,0", 1), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,2,2,2,A,bb,2", 2), Ok(Some("BBBbb/2".into())));
        assert_eq!(push(&mut a, "AIVDM,3,3,6,B,cc,4", 3), Ok(None), "another count is another message");
        assert_eq!(push(&mut a, "AIVDM,2,2,6,B,aa,4", 3), Ok(Some("AAAaa/4".into())));
        // Last part first.
        assert_eq!(push(&mut a, "AIVDM,3,2,6,B,bb,0", 4), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,3,1,6,B,aa,0", 5), Ok(Some("aabbcc/4".into())));
        assert_eq!(a.pending(), 0);
        assert_eq!(a.take_dropped().count(), 0);
    }

    #[test]
    fn duplicates_and_conflicts() {
        let mut a = Assembler::new(Limits::default());
        assert_eq!(push(&mut a, "AIVDM,3,1,1,A,AA,0", 0), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,3,2,1,A,BB,0", 0), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,3,2,1,A,BB,0", 0), Ok(None), "exact duplicate ignored");
        assert_eq!(
            push(&mut a, "AIVDM,3,2,1,A,CC,0", 0),
            Err(Error::ConflictingFragment { number: 2, count: 3 })
        );
        // A different first fragment starts a new message; the old one is reported.
        assert_eq!(push(&mut a, "AIVDM,3,1,1,A,DD,0", 0), Ok(None));
        assert_eq!(a.take_dropped().collect::<Vec<_>>(), vec![Error::Superseded { received: 2, count: 3 }]);
        assert_eq!(push(&mut a, "AIVDM,3,2,1,A,EE,0", 0), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,3,3,1,A,FF,0", 0), Ok(Some("DDEEFF/0".into())));
    }

    #[test]
    fn bounded_and_timed_out() {
        let mut a = Assembler::new(Limits { max_pending: 2, timeout_ms: 100 });
        assert_eq!(push(&mut a, "AIVDM,2,1,1,A,AA,0", 0), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,2,1,2,A,BB,0", 10), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,2,1,3,A,CC,0", 20), Ok(None));
        assert_eq!(a.pending(), 2);
        assert_eq!(
            a.take_dropped().collect::<Vec<_>>(),
            vec![Error::ReassemblyOverflow { received: 1, count: 2 }]
        );
        // Seq 1 was evicted: its second part now waits alone (and evicts seq 2).
        assert_eq!(push(&mut a, "AIVDM,2,2,1,A,aa,0", 30), Ok(None));
        assert_eq!(a.take_dropped().count(), 1);
        assert_eq!(a.expire(121), 1, "seq 3 (t=20) expired, seq 1 part 2 (t=30) not yet");
        assert_eq!(a.expire(131), 1);
        assert_eq!(a.pending(), 0);
        let dropped: Vec<_> = a.take_dropped().collect();
        assert_eq!(dropped, vec![Error::ReassemblyTimeout { received: 1, count: 2 }; 2]);
        // An expired entry is replaced on push, not completed with stale parts.
        assert_eq!(push(&mut a, "AIVDM,2,1,4,A,WW,0", 200), Ok(None));
        assert_eq!(push(&mut a, "AIVDM,2,2,4,A,ww,0", 400), Ok(None));
        assert_eq!(a.take_dropped().count(), 1);
    }

    #[test]
    fn tag_block_groups_join_non_adjacent_parts() {
        let tag = |content: &str| format!("\\{content}*{:02X}\\", content.bytes().fold(0u8, |a, b| a ^ b));
        let mut a = Assembler::new(Limits::default());
        let p1 = format!("{}{}", tag("g:1-2-77,s:r1,c:1000"), line("AIVDM,2,1,,A,AA,0"));
        let p2 = format!("{}{}", tag("g:2-2-77,s:r1"), line("AIVDM,2,2,,B,bb,2"));
        assert!(a.push(Sentence::parse(&p1).unwrap(), 0).unwrap().is_none());
        let done = a.push(Sentence::parse(&p2).unwrap(), 1).unwrap().unwrap();
        assert_eq!(done.armored, "AAbb");
        assert_eq!(done.event_time_ms(), Some(1_000_000));
        assert_eq!(done.channel, Some('A'));
    }
}
