//! W3C Trace Context: the `traceparent` header of Kafka records.
//!
//! ```text
//! traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//!              ^^ ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ ^^^^^^^^^^^^^^^^ ^^
//!         version          trace-id (16 bytes)     parent-id (8)   flags
//! ```
//!
//! Parsed by OpenTelemetry's own `TraceContextPropagator` (the W3C Trace
//! Context recommendation, level 1: lower-case hex, all-zero ids invalid,
//! version `ff` invalid, version `00` exactly four fields, later versions
//! may append fields). This module adapts a record's header value to the
//! propagator's carrier, and checks the field lengths first: the propagator
//! (0.31) reads the ids with `from_hex` and so accepts a trace id a digit
//! short, which the recommendation forbids (`32HEXDIGLC`).

use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceFlags, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;

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

/// A carrier holding one record's `traceparent` value.
struct OneHeader<'a>(&'a str);

impl Extractor for OneHeader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == "traceparent").then_some(self.0)
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent"]
    }
}

impl TraceParent {
    /// Parses a `traceparent` header value; `None` if it is not a valid one.
    pub fn parse(value: &str) -> Option<TraceParent> {
        let mut fields = value.trim_matches(|c| c == ' ' || c == '\t').split('-');
        for len in [2, 32, 16, 2] {
            if fields.next()?.len() != len {
                return None;
            }
        }
        let context = TraceContextPropagator::new().extract(&OneHeader(value));
        let span = context.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return None;
        }
        Some(TraceParent {
            trace_id: sc.trace_id().to_bytes(),
            parent_id: sc.span_id().to_bytes(),
            flags: sc.trace_flags().to_u8(),
        })
    }

    /// The remote span context, for an OpenTelemetry span link.
    pub fn span_context(&self) -> SpanContext {
        SpanContext::new(
            opentelemetry::trace::TraceId::from_bytes(self.trace_id),
            opentelemetry::trace::SpanId::from_bytes(self.parent_id),
            // Only the sampled bit is defined; keep the others out.
            TraceFlags::new(self.flags & TraceFlags::SAMPLED.to_u8()),
            true,
            TraceState::default(),
        )
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
        assert_eq!(tp.flags, 1, "undefined flag bits dropped, the sampled bit kept");
        assert_eq!(tp.span_context().trace_flags(), TraceFlags::SAMPLED);
    }
}
