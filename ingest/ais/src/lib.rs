//! AIS decoding for PortTrack: NMEA 0183 `!AIVDM`/`!AIVDO` lines in, typed messages out.
//!
//! The crate is pure: no I/O, no clock (time is passed in as milliseconds on the caller's
//! clock), no async. Four layers, each usable alone:
//!
//! | layer | type | does |
//! |---|---|---|
//! | line | [`Sentence`] | parses one line: NMEA 4 [`TagBlock`] (`\s:…,c:…*hh\`), the `!--VDM`/`!--VDO` sentence of any talker (`AI`, `AB`, `BS`…), the USCG receiver fields after the checksum ([`Uscg`]); verifies both checksums and the 6-bit armoring. Borrows, allocates nothing. |
//! | reassembly | [`Assembler`] | joins the fragments of multi-sentence messages, keyed ([`FragmentKey`]) by sequence id and channel, or by the tag block group (`g:`) when fragments are not adjacent; bounded in size and time ([`Limits`]). |
//! | message | [`Message`] | decodes a [`Payload`] into typed structs with gpsd's field semantics: types 1/2/3, 4/11, 5, 8 (DAC 1 FID 31), 9, 18, 19, 21, 24 A/B, 27. |
//! | output | [`gpsd`] | renders a message as `gpsdecode -j` would. |
//!
//! [`Decoder`] chains them: one call per line.
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
//! lengths outside what gpsd accepts, unsupported types, and reassembly losses (overflow,
//! timeout, superseded — collected with [`Decoder::take_dropped`]). No input is meant to
//! panic; property tests and the fuzz targets in `fuzz/` (runs in `DECISION.md`) found none.
//!
//! # Field semantics, and differences from gpsd
//!
//! Bit layouts, length tolerances (type 1–3: 163–204 bits, type 5: ≥ 420, type 27: 96 or
//! 168…), text decoding (stop at `@`, trim trailing spaces) and the type 24 A/B merge follow
//! gpsd's `driver_ais.c`; "not available" values become `None`, values are scaled to
//! degrees, knots and metres. The conformance tests compare every supported message of
//! gpsd's `sample.aivdm` with `gpsdecode -j`'s output, byte for byte. Deliberate
//! differences:
//!
//! - **Reassembly** is keyed by sequence id and channel (and tag block source/group), not one
//!   buffer per channel: interleaved messages on one channel both complete, fragments may
//!   arrive out of order, exact duplicates are ignored. gpsd restarts on any fragment 1.
//! - **Fill bits** of fragments other than the last are ignored (gpsd subtracts them, which
//!   misaligns the following fragment).
//! - **Type 8 DAC 1 FID 31** shorter than 350 bits is refused ([`Error::TooShort`]); gpsd
//!   decodes the missing fields as zeros. Its JSON `waterlevel` is signed where gpsd wraps.
//! - **Type 24**: the part A cache is keyed by MMSI across channels, bounded by
//!   [`Limits::max_pending`] and aged out after a minute (or the reassembly timeout if longer);
//!   gpsd keeps 8 per channel. Unmerged parts are returned too (gpsdecode holds them back
//!   unless `--split24`; see [`gpsd::is_reported`]).
//! - **Trailing junk** after the checksum that is not USCG fields is ignored, as gpsd does;
//!   lines without the `!` (or `$`) delimiter are refused, as gpsd's lexer does.
//! - **`$` start delimiter** is accepted as well as `!`.
//! - **Tag blocks** without a checksum are accepted (NMEA 4 requires one; some feeds omit it).
//!
//! # Performance
//!
//! Single-sentence messages are decoded without allocation for position reports: the
//! sentence borrows from the line and fields are read straight from the armored characters
//! (no bit vector). `benches/decode.rs` measures it against the fastest crate on crates.io;
//! see `DECISION.md`.

mod assemble;
mod bits;
mod decoder;
mod error;
pub mod gpsd;
mod message;
mod sentence;

pub use assemble::{Assembler, FragmentKey, Limits, Payload};
pub use decoder::{Decoded, Decoder};
pub use error::Error;
pub use message::{
    AidToNavigationReport, BaseStationReport, ClassBExtendedReport, ClassBPositionReport, Dimensions, Eta,
    Hull, LongRangeReport, Message, MetHydroReport, PositionReport, SarAircraftReport, StaticDataPartB,
    StaticDataReport, StaticVoyageData, Turn,
};
pub use sentence::{Group, Sentence, TagBlock, Uscg};
