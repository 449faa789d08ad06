//! The null sink: acknowledges every write at once and keeps nothing.
//!
//! It exists to measure the pipeline's own cost (decode, validation,
//! processors, batching, dead letters, offset commits) with no store in the
//! way: `files.discard = true` makes it stand in for the unconfigured
//! services instead of the file sink. Never use it in production: whatever it
//! acknowledges is committed and gone.

use futures::FutureExt;
use futures::future::BoxFuture;
use porttrack_schemas::{Event, Sourced};

use crate::{Derived, Sink, SinkError, WriteOutcome};

/// A sink that stores nothing and acknowledges everything (benchmarks only).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl Sink for NullSink {
    fn name(&self) -> &'static str {
        "null"
    }

    fn write<'a>(&'a self, records: &'a [Sourced<Event>]) -> BoxFuture<'a, Result<WriteOutcome, SinkError>> {
        std::hint::black_box(records);
        async { Ok(WriteOutcome::default()) }.boxed()
    }

    fn write_derived<'a>(&'a self, batch: &'a Derived) -> BoxFuture<'a, Result<(), SinkError>> {
        std::hint::black_box(batch);
        async { Ok(()) }.boxed()
    }

    fn check(&self) -> BoxFuture<'_, Result<(), SinkError>> {
        async { Ok(()) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;

    #[test]
    fn acknowledges_everything_and_refuses_nothing() {
        let outcome = futures::executor::block_on(NullSink.write(&[record(244_000_001, 10, 0)])).unwrap();
        assert!(outcome.rejected.is_empty());
        futures::executor::block_on(NullSink.write_derived(&Derived::default())).unwrap();
    }
}
