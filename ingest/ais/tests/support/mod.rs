//! Test support shared by the integration tests (`mod support;`): the
//! library's AIS encoder ([`porttrack_ais::encode`]) with a panicking
//! [`encode`] for round trips, and a deterministic [`Rng`].
//!
//! Every test binary compiles its own copy; not all of them use everything.
#![allow(dead_code, unreachable_pub, unused_imports, clippy::unwrap_used)]

use porttrack_ais::Message;
pub use porttrack_ais::encode::{SIXBIT, Writer, armor, nmea, sentences};

/// Encodes a decoded message back into payload bits; panics on what the
/// encoder refuses (type 6/8 applications other than raw have their own
/// tests in `binary/`).
pub fn encode(message: &Message) -> Writer {
    porttrack_ais::encode::encode(message).unwrap()
}

/// A deterministic xorshift generator (no dependency, same stream on every run).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
