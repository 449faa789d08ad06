//! AIS decoding for PortTrack: NMEA 0183 `!AIVDM`/`!AIVDO` lines in, typed messages out.
//!
//! The crate is pure: no I/O, no clock (time is passed in as milliseconds on the caller's
//! clock), no async. Four layers, each usable alone:
//!
//! | layer | type | does |
//! |---|---|---|
//! | line | [`Sentence`] | parses one line: NMEA 4 [`TagBlock`] (`\s:…,c:…*hh\`), the `!--VDM`/`!--VDO` sentence of any talker (`AI`, `AB`, `BS`, `SA`…), the USCG receiver fields after the checksum ([`Uscg`]); verifies both checksums and the 6-bit armoring. Borrows, allocates nothing. |
//! | reassembly | [`Assembler`] | joins the fragments of multi-sentence messages, keyed ([`FragmentKey`]) by sequence id and channel, or by the tag block group (`g:`) when fragments are not adjacent; bounded in size and time ([`Limits`]). |
//! | message | [`Message`] | decodes a [`Payload`] into typed structs with gpsd's field semantics: every type of ITU-R M.1371, 1 to 27; the applications of types 6 and 8 in [`binary`] (every DAC/FID gpsd 3.22 decodes, the others kept raw). |
//! | output | [`gpsd`] | renders a message as `gpsdecode -j` would. |
//!
//! [`Decoder`] chains them: one call per line. [`Decoder::process_line`] says what became of
//! every line ([`Line`]: decoded, pending, or skipped with a [`Skip`] reason — blank, comment,
//! another NMEA sentence), refusals being [`Error`]s; [`Decoder::finish`] reports, at the end
//! of an input, the messages whose fragments never all came ([`Error::FragmentIncomplete`]).
//!
//! ```
//! use porttrack_ais::{Decoder, Limits, Message};
//!
//! let mut decoder = Decoder::new(Limits::default());
//! let line = r"\s:rORBCOMM104,q:u,c:1418172113,T:2014-12-10 00.41.53*55\!AIVDM,1,1,,B,13F?Vv700<DJuLEtvep`iToV0<00,0*78";
//! let decoded = decoder.decode_line(line, 0)?.expect("a single-sentence message");
//! assert_eq!(decoded.event_time_ms(), Some(1_418_172_113_000));
//! let Message::Position(p) = &decoded.message else { panic!("a position report") };
//! assert_eq!((p.mmsi, p.status, p.heading), (224_651_000, 7, Some(155)));
//! # Ok::<(), porttrack_ais::Error>(())
//! ```
//!
//! # Errors and dead letters
//!
//! Every failure is an [`Error`] whose [`class`](Error::class) is one of a closed set
//! ([`Error::CLASSES`]): bad checksums, malformed sentences or tag blocks, bad armoring,
//! lengths outside what gpsd accepts, message types outside 1–27 (`unsupported_type`: types
//! 0 and 28–63, which ITU-R M.1371 does not define), reassembly losses (overflow, timeout,
//! superseded — collected with [`Decoder::take_dropped`]) and fragments still pending when
//! the input ends (`fragment_incomplete`, from [`Decoder::finish`]). No input is meant to
//! panic; property tests and the fuzz targets in `fuzz/` (runs in `DECISION.md`) found none.
//!
//! # Field semantics, and differences from gpsd
//!
//! Bit layouts, length tolerances (types 1–3: ≥ 163 bits, type 5: ≥ 420, type 6: 88–1008,
//! type 25: 40–168 and long enough for its header, type 27: 96 or 168…), text decoding
//! (stop at `@`, trim trailing spaces) and the type 24 A/B merge follow gpsd 3.22's
//! `driver_ais.c`; "not available" values become `None`, values are scaled to degrees,
//! knots and metres. The conformance tests compare every message of gpsd's
//! `sample.aivdm` with `gpsdecode -j`'s output, and more than 10 000 generated messages of
//! every type with what the installed `gpsdecode -j` (3.22) prints for them. Deliberate
//! differences:
//!
//! - **Reassembly** is keyed by sequence id and channel (and tag block source/group), not one
//!   buffer per channel: interleaved messages on one channel both complete, fragments may
//!   arrive out of order, exact duplicates are ignored. gpsd restarts on any fragment 1.
//! - **Fill bits** of fragments other than the last are ignored (gpsd subtracts them, which
//!   misaligns the following fragment).
//! - **Type 24**: the part A cache is keyed by MMSI across channels, bounded by
//!   [`Limits::max_pending`] and aged out after a minute (or the reassembly timeout if longer);
//!   gpsd keeps 8 per channel. Unmerged parts are returned too (gpsdecode holds them back
//!   unless `--split24`; see [`gpsd::is_reported`]).
//! - **Types 7 and 13**: the sequence numbers are read after each 30-bit MMSI, as ITU-R
//!   M.1371 places them; gpsd reads them two bits further on (it does not print them).
//! - **Type 21** names with an extension longer than 14 characters (ITU's maximum) are
//!   decoded whole; gpsd 3.22 overflows its name buffer into `accuracy` and `lon`.
//! - **Type 26** `radio` (communication state) is decoded; gpsd never decodes it and prints
//!   0, and so does our gpsd JSON.
//! - **Trailing junk** after the checksum that is not USCG fields is ignored, as gpsd does;
//!   lines without the `!` (or `$`) delimiter are refused, as gpsd's lexer does.
//!
//! Lenient where gpsd is and it is harmless, each case tested in `decoder.rs`:
//!
//! - **`$` start delimiter** is accepted as well as `!`, and **any two-letter talker**
//!   (`!SAVDM`, `!BSVDM`, `!ABVDM`…).
//! - **Tag blocks** without a checksum, or with a one-digit checksum (`*5`), are accepted
//!   (NMEA 4 requires two digits; some feeds drop the leading zero; gpsd does not check).
//! - **Other sentences** interleaved (`$GPGGA`, proprietary `$P…`, `!AIALR`…) are skipped
//!   with a reason by [`Decoder::process_line`], not refused, as gpsd ignores them.
//! - **Tag block groups** (`g:1-2-77`) tie fragments even when only the first sentence
//!   carries the source and time, with other sentences in between.
//!
//! Strict where it matters: the sentence checksum (a corrupt AIS sentence is refused,
//! whatever its talker), the armoring alphabet, the fragment fields, and gpsd's lengths.
//!
//! # Performance
//!
//! Single-sentence messages are decoded without allocation for position reports: the
//! sentence borrows from the line and fields are read straight from the armored characters
//! (no bit vector). `benches/decode.rs` measures it against the fastest crate on crates.io
//! and against `gpsdecode` itself, on position reports and on a mix of all 27 types; see
//! `DECISION.md`.

mod assemble;
pub mod binary;
mod bits;
mod decoder;
pub mod encode;
mod error;
pub mod gpsd;
mod message;
mod sentence;

pub use assemble::{Assembler, FragmentKey, Limits, Payload};
pub use binary::{Application, InlandStaticData, MetHydroReport, RawPayload};
pub use decoder::{Decoded, Decoder, Line};
pub use error::Error;
pub use message::{
    Acknowledge, Acknowledged, AddressedBinary, AidToNavigationReport, AssignedMode, Assignment,
    BaseStationReport, BinaryBroadcast, BinaryData, ChannelManagement, ChannelTarget, ClassBExtendedReport,
    ClassBPositionReport, DataLinkManagement, DgnssBroadcast, Dimensions, Eta, GroupAssignment, Hull,
    Interrogation, InterrogationRequest, LongRangeReport, Message, PositionReport, SafetyAddressed,
    SafetyBroadcast, SarAircraftReport, SlotBinary, SlotReservation, StaticDataPartB, StaticDataReport,
    StaticVoyageData, Turn, UtcInquiry,
};
pub use sentence::{Group, Sentence, Skip, TagBlock, Uscg};
