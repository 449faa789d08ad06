//! PortTrack: a streaming pipeline for port traffic.
//!
//! This crate is the `porttrack` binary's library: configuration, the
//! running pipeline, the simulator, the demo and the HTTP endpoints. The
//! pieces it wires together live in the workspace's focused crates:
//!
//! * `porttrack-schemas`: the event model and its validation;
//! * `porttrack-ingest`: Kafka consumption, decoding, dead letters;
//! * `porttrack-processors`: pure, lock-free state (no I/O);
//! * `porttrack-sinks`: Postgres, Elasticsearch and file sinks;
//! * `porttrack-api` (`api/`): the read API `serve` and `demo` answer with;
//! * `porttrack-drill` (`drill/`): the release drills, built on this library.
//!
//! See `ARCHITECTURE.md` for the bird's-eye view and the invariants.

pub mod alloc;
pub mod config;
pub mod demo;
pub mod http;
pub mod outputs;
pub mod pipeline;
pub mod serve;
pub mod signal;
pub mod sim;
pub mod state;
pub mod telemetry;
pub mod tools;
