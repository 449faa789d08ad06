//! The Postgres sink: every event kind and every processor output, one
//! transaction per batch.
//!
//! # Schema
//!
//! Owned by the versioned refinery migrations in `sinks/migrations/`
//! (applied by [`migrate`], which `porttrack migrate` and, unless disabled,
//! `porttrack run` call); the statements the sink runs live in `sinks/sql/`.
//!
//! | table / view | from | key (what makes a replay a no-op) |
//! |---|---|---|
//! | `positions` (RANGE partitions by event day) | positions | event time + Kafka coordinates |
//! | `vessel_state` | positions, coalesced per batch | MMSI, guarded by (event time, offset) |
//! | `vessels` | static/voyage reports (inland ERI fields too), merged | MMSI; newer fills, older only fills blanks |
//! | `weather`, view `weather_latest` | observations | (station, event time) |
//! | `cargo_events`, view `cargo_inventory` | cargo | terminal `event_id` |
//! | `port_ops_events` | pilotage, towage, mooring | operator `event_id` |
//! | `safety_messages`, view `safety_messages_located` | AIS 12/14 texts (the view adds the sender's position) | Kafka coordinates |
//! | `met_hydro` | AIS met-hydro reports (typed columns + `details` jsonb) | (station MMSI, event time) |
//! | `stations` | AIS 4/11/21 base stations, UTC responses, aids to navigation | MMSI, guarded by (event time, offset, index) |
//! | `zone_events`, view `vessels_in_zone` | processors | (mmsi, zone, time, direction) |
//! | `port_calls` | processors | call id; fields only move forward |
//! | `anomalies`, `weather_alerts` | processors | (vessel or zone, time, kind) |
//! | `congestion_partials`, view `congestion` | processor snapshots | (zone, partition, time) |
//! | `dead_letters`, view `dead_letters_hourly` | [`Sink::write_dead_letters`](crate::Sink::write_dead_letters) | Kafka coordinates |
//! | `processor_state` | processor checkpoints ([`PostgresSink::save_processor_state`]) | (consumer group, partition) |
//!
//! # Write path
//!
//! For each batch: make sure the positions partitions of the batch's event
//! days exist (`porttrack_ensure_positions_partition`, idempotent, cached
//! per sink), then binary-`COPY` each kind into the session's temporary
//! staging table (`sinks/sql/staging.sql`, created when the pool opens a
//! connection) and merge it with `INSERT … SELECT … ON CONFLICT`.
//!
//! The events go in `batch_writers` transactions (default 3) side by side
//! on as many pooled connections, split by vessel (`stage::Shard`): each
//! vessel's positions and `vessel_state` row in one of them, every other
//! kind in the first. The batch is acknowledged once all committed. A crash
//! or error may leave part of a batch (one transaction committed, another
//! not); the batch is then not acknowledged, and writing it again, as the
//! retry, the bisection or the replay after a crash does, adds nothing
//! twice (the keys below). With `batch_writers = 1` a batch is all or
//! nothing. The processor's outputs go in a transaction of their own
//! beside them.
//!
//! # Errors
//!
//! [`classify`] sorts failures by SQLSTATE: data exceptions (class 22) and
//! integrity violations (23) are the batch's fault and
//! [`Permanent`](crate::SinkError::Permanent), so the pipeline bisects down
//! to the bad record and dead-letters it; everything else (connection loss,
//! serialization failures, resources, shutdowns, and also schema problems
//! such as a missing table, which no record caused) is
//! [`Transient`](crate::SinkError::Transient) and retried by the pipeline,
//! never dead-lettering good data. The sink itself does not retry.
//!
//! # TLS
//!
//! `tls = "disable" | "require" | "verify-full"` (libpq's `sslmode` names,
//! via rustls with the ring provider, the same stack reqwest uses).
//! `require` encrypts without checking the certificate, as libpq does;
//! `verify-full` checks the chain against `ca_file` (or the Mozilla roots
//! from `webpki-roots`) and the host name.
//!
//! # Files
//!
//! One role each, from the outside in:
//!
//! | file | role |
//! |---|---|
//! | `config.rs` | [`PostgresConfig`], its defaults, [`TlsMode`], the driver configuration it yields |
//! | `service.rs` | the connection: TLS connector, pool (with the staging tables), one-off sessions |
//! | `schema.rs` | the schema: embedded migrations, [`migrate`], [`migration_names`] |
//! | `sink.rs` | [`PostgresSink`] and its [`Sink`](crate::Sink) impl: partitions, transactions |
//! | `state.rs` | processor checkpoints (`processor_state`) on [`PostgresSink`] |
//! | `stage.rs` | one batch inside its transaction: which kinds to COPY, then merge |
//! | `copy.rs` | COPY rows: each kind's values, in column order, binary-encoded |
//! | `statements.rs` | the SQL from `sinks/sql/` and each kind's COPY column types |
//! | `error.rs` | [`classify`]: a Postgres error as transient or permanent |

mod config;
mod copy;
mod error;
mod schema;
mod service;
mod sink;
mod stage;
mod state;
mod statements;

pub use config::{PostgresConfig, TlsMode};
pub use error::classify;
pub use schema::{migrate, migration_names};
pub use service::connector as tls_connector;
pub use sink::PostgresSink;
pub use statements::POSITION_COPY_TYPES;
