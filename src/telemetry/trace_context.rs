//! W3C Trace Context: the `traceparent` header of Kafka records.
//!
//! ```text
//! traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//!              ^^ ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ ^^^^^^^^^^^^^^^^ ^^
//!         version          trace-id (16 bytes)     parent-id (8)   flags
//! ```
//!
//! Parsed per the W3C Trace Context recommendation (level 1, §3.2): lower-case
//! hex only, all-zero ids invalid, version `ff` invalid, and a version above
//! `00` may carry more `-`-separated fields after the flags (ignored), while
//! version `00` must be exactly 55 characters.

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

/// A parsed `traceparent`: the remote span a record was produced in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace the record belongs to.
    pub trace_id: [u8; 16],
    /// The producer's span.
    pub parent_id: [u8; 8],
    /// Trace flags (bit 0: sampled).
    pub flags: u8,
}

impl TraceParent {
    /// Parses a `traceparent` header value; `None` if it is not a valid one.
    pub fn parse(value: &str) -> Option<TraceParent> {
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        let mut parts = value.split('-');
        let version = hex_array::<1>(parts.next()?)?[0];
        let trace_id = hex_array::<16>(parts.next()?)?;
        let parent_id = hex_array::<8>(parts.next()?)?;
        let flags = hex_array::<1>(parts.next()?)?[0];
        match version {
            0xff => return None,
            // Version 00 has exactly four fields.
            0x00 if parts.next().is_some() => return None,
            _ => {}
        }
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent { trace_id, parent_id, flags })
    }

    /// The remote span context, for an OpenTelemetry span link.
    pub fn span_context(&self) -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes(self.trace_id),
            SpanId::from_bytes(self.parent_id),
            // Only the sampled bit is defined; keep the others out.
            TraceFlags::new(self.flags & TraceFlags::SAMPLED.to_u8()),
            true,
            TraceState::default(),
        )
    }
}

/// Decodes exactly `2 * N` lower-case hex digits.
fn hex_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = s.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut out = [0_u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_the_recommendation_example() {
        let tp = TraceParent::parse(VALID).unwrap();
        assert_eq!(tp.trace_id[0], 0x4b);
        assert_eq!(tp.trace_id[15], 0x36);
        assert_eq!(tp.parent_id, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        assert_eq!(tp.flags, 1);
        let sc = tp.span_context();
        assert!(sc.is_valid() && sc.is_remote() && sc.is_sampled());
        assert_eq!(sc.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
    }

    #[test]
    fn what_the_simulator_writes_parses() {
        // src/sim/produce.rs: format!("00-{:032x}-{:016x}-01", u128 | 1, u64 | 1).
        let v = format!("00-{:032x}-{:016x}-01", 0xabc_u128 | 1, 7_u64 | 1);
        let tp = TraceParent::parse(&v).unwrap();
        assert_eq!(tp.trace_id[15], 0xbd);
        assert_eq!(tp.parent_id[7], 7);
    }

    #[test]
    fn refuses_invalid_values() {
        for bad in [
            "",
            "00",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // 00 has 4 fields
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  // short flags
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", // not hex
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn later_versions_may_append_fields() {
        let v = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-comes-next";
        let tp = TraceParent::parse(v).unwrap();
        assert_eq!(tp.flags, 9);
        assert_eq!(tp.span_context().trace_flags(), TraceFlags::SAMPLED, "undefined flag bits dropped");
    }
}
