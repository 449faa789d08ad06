//! PortTrack's ingest: from Kafka records to validated events.
//!
//! Roles:
//!
//! * [`decode`]: payload bytes to typed, validated events, or a
//!   [`Rejection`](porttrack_schemas::Rejection) saying why not. Pure.
//! * [`dead_letter`]: what a refused record becomes ([`DeadLetter`]) and the
//!   producer that writes it to the dead-letter topic with its reason in
//!   headers ([`DeadLetterProducer`]).
//! * [`producer`]: a producer whose writes return once the broker
//!   acknowledged them ([`AckedProducer`]), what the dead letters are
//!   written with.
//! * [`source`]: the consumer-group member. A dedicated thread polls Kafka,
//!   decodes into [`Batch`]es and hands them to the pipeline over a bounded
//!   channel; a [`Committer`] commits a batch's offsets only once the pipeline
//!   says every sink has acknowledged it. Rebalances drain in-flight batches
//!   before partitions are given up.
//! * [`preflight`]: before joining, proves the brokers accept the
//!   credentials and the TLS settings, so a wrong password or CA fails at
//!   start with a clear message instead of a retry loop.
//! * [`config`]: the `[kafka]` section of the configuration and the librdkafka
//!   settings derived from it.

pub mod config;
pub mod dead_letter;
pub mod decode;
pub mod preflight;
pub mod producer;
pub mod source;

pub use config::{KafkaConfig, KafkaConfigError};
pub use dead_letter::{DeadLetter, DeadLetterProducer};
pub use preflight::{Preflight, PreflightError, preflight};
pub use producer::AckedProducer;
pub use source::{
    Batch, Committer, NoHooks, PartitionHooks, Source, SourceConfig, SourceError, SourceHandle,
};
