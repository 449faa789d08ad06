//! The one error type of the crate, and its dead-letter classes.

/// Why a line, a fragment or a payload could not be turned into a [`Message`](crate::Message).
///
/// Every variant maps to a short, stable [`class`](Error::class) so that the pipeline can
/// route a refused record to a bounded set of dead-letter classes without matching on
/// variants (new variants may be added: the enum is `#[non_exhaustive]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The sentence's `*hh` checksum does not match the XOR of its body.
    #[error("sentence checksum mismatch: computed {computed:02X}, sentence says {stated:02X}")]
    Checksum {
        /// XOR of the bytes between the start delimiter and `*`.
        computed: u8,
        /// The two hex digits after `*`.
        stated: u8,
    },
    /// The NMEA 4 tag block's `*hh` checksum does not match its content.
    #[error("tag block checksum mismatch: computed {computed:02X}, tag block says {stated:02X}")]
    TagBlockChecksum {
        /// XOR of the bytes between the opening `\` and `*`.
        computed: u8,
        /// The two hex digits after `*`.
        stated: u8,
    },
    /// The line is not a well-formed `!--VDM`/`!--VDO` sentence.
    #[error("malformed sentence: {0}")]
    MalformedSentence(&'static str),
    /// The tag block (`\...\` before the sentence) is not well formed.
    #[error("malformed tag block: {0}")]
    MalformedTagBlock(&'static str),
    /// A payload character lies outside the 6-bit armoring alphabet (`0`–`W`, `` ` ``–`w`).
    #[error("invalid armor character 0x{byte:02X} at payload offset {offset}")]
    BadArmor {
        /// The offending byte.
        byte: u8,
        /// Its offset in the payload field.
        offset: usize,
    },
    /// A fragment that cannot belong to any message (number 0 or above the count, count 0…).
    #[error("bad fragment: {0}")]
    BadFragment(&'static str),
    /// The same fragment of a pending message arrived twice with different content.
    #[error("fragment {number} of {count} conflicts with one already received")]
    ConflictingFragment {
        /// Fragment number (1-based).
        number: u8,
        /// Fragment count of the message.
        count: u8,
    },
    /// A pending multi-sentence message was dropped to respect the bound on pending messages.
    #[error("reassembly table full: dropped a pending message with {received} of {count} fragments")]
    ReassemblyOverflow {
        /// Fragments received before the message was dropped.
        received: u8,
        /// Fragments expected.
        count: u8,
    },
    /// A pending multi-sentence message was dropped because its fragments did not all arrive in time.
    #[error("reassembly timeout: dropped a pending message with {received} of {count} fragments")]
    ReassemblyTimeout {
        /// Fragments received before the message was dropped.
        received: u8,
        /// Fragments expected.
        count: u8,
    },
    /// A pending multi-sentence message was dropped because a new first fragment arrived under its key.
    #[error("reassembly superseded: dropped a pending message with {received} of {count} fragments")]
    Superseded {
        /// Fragments received before the message was dropped.
        received: u8,
        /// Fragments expected.
        count: u8,
    },
    /// A multi-sentence message still incomplete when the input ended
    /// ([`Decoder::finish`](crate::Decoder::finish)).
    #[error("input ended with a pending message with {received} of {count} fragments")]
    FragmentIncomplete {
        /// Fragments received.
        received: u8,
        /// Fragments expected.
        count: u8,
    },
    /// The payload has fewer bits than its message type needs (gpsd's lower bound).
    #[error("message type {message_type} too short: {bits} bits, at least {min} needed")]
    TooShort {
        /// AIS message type (0–63).
        message_type: u8,
        /// Payload length in bits, after fill bits.
        bits: usize,
        /// The smallest length accepted for this type.
        min: usize,
    },
    /// The payload has more bits than its message type allows (gpsd's upper bound, where it has one).
    #[error("message type {message_type} too long: {bits} bits, at most {max} allowed")]
    TooLong {
        /// AIS message type (0–63).
        message_type: u8,
        /// Payload length in bits, after fill bits.
        bits: usize,
        /// The largest length accepted for this type.
        max: usize,
    },
    /// A message type outside 1–27 (0 and 28–63 are not defined by ITU-R M.1371).
    #[error("unsupported message type {message_type}")]
    UnsupportedType {
        /// AIS message type (0–63).
        message_type: u8,
    },
    /// A type 24 message whose part number is neither A (0) nor B (1).
    #[error("type 24 with unknown part number {part}")]
    UnknownPart {
        /// The 2-bit part number.
        part: u8,
    },
}

impl Error {
    /// A short, stable, snake_case name for the error's class, meant for dead-letter headers
    /// and metric labels (a closed set: one per variant).
    ///
    /// ```
    /// use porttrack_ais::Sentence;
    /// let err = Sentence::parse("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B").unwrap_err();
    /// assert_eq!(err.class(), "bad_checksum");
    /// ```
    #[must_use]
    pub fn class(&self) -> &'static str {
        match self {
            Self::Checksum { .. } => "bad_checksum",
            Self::TagBlockChecksum { .. } => "bad_tag_block_checksum",
            Self::MalformedSentence(_) => "malformed_sentence",
            Self::MalformedTagBlock(_) => "malformed_tag_block",
            Self::BadArmor { .. } => "bad_armor",
            Self::BadFragment(_) => "bad_fragment",
            Self::ConflictingFragment { .. } => "conflicting_fragment",
            Self::ReassemblyOverflow { .. } => "reassembly_overflow",
            Self::ReassemblyTimeout { .. } => "reassembly_timeout",
            Self::Superseded { .. } => "reassembly_superseded",
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::FragmentIncomplete { .. } => "fragment_incomplete",
            Self::UnsupportedType { .. } => "unsupported_type",
            Self::UnknownPart { .. } => "unknown_part",
        }
    }

    /// Every value [`class`](Error::class) can return, for pre-registering metric labels.
    pub const CLASSES: &'static [&'static str] = &[
        "bad_checksum",
        "bad_tag_block_checksum",
        "malformed_sentence",
        "malformed_tag_block",
        "bad_armor",
        "bad_fragment",
        "conflicting_fragment",
        "reassembly_overflow",
        "reassembly_timeout",
        "reassembly_superseded",
        "fragment_incomplete",
        "too_short",
        "too_long",
        "unsupported_type",
        "unknown_part",
    ];
}
