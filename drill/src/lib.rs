//! Release drills on the local stack: a canary that must be aborted, a
//! rolling restart that must lose and duplicate nothing, and a chaos drill
//! whose results must equal a clean run's.
//!
//! The Kubernetes release path (`deploy/k8s/`: an Argo Rollouts canary gated
//! by the `porttrack-canary` AnalysisTemplate) cannot run on a developer's
//! machine, but everything it relies on can: the consumer group, the
//! drain-and-commit on SIGTERM, idempotent sinks, the metrics and the
//! Prometheus queries. A drill starts real `porttrack run` processes against
//! the local stack (`deploy/local/up`), puts simulated traffic through them,
//! does to them what a release does, and then checks Jepsen-style that every
//! record the simulator's producer got acknowledged ended up exactly where it
//! must, exactly once.
//!
//! Roles:
//!
//! * [`canary()`]: N *stable* instances (`PORTTRACK_RELEASE=stable`) under load;
//!   then one *canary* (`PORTTRACK_RELEASE=canary`) joins the group with the
//!   fault-injection switch on. An analysis loop queries Prometheus with the
//!   AnalysisTemplate's five metrics, told apart by a join on
//!   `porttrack_build_info{version}` instead of the pod-template hash, and
//!   decides like Argo Rollouts does (initial delay, interval, count,
//!   failure limit, consecutive-error limit). The canary is then stopped with
//!   SIGTERM, its partitions return to stable, the load stops, stable commits
//!   everything, and the stores are checked.
//! * [`rolling_restart`]: N instances under load, restarted one by one
//!   (SIGTERM, wait for exit, start again, wait until it is ready and
//!   committing) while the load continues; then the same check, the longest
//!   pause in the group's commits and the largest lag seen.
//! * [`chaos()`]: three instances under load of every kind of record (JSON
//!   positions and static data, raw NMEA with two-fragment messages, JSON
//!   weather, Avro cargo, JSON port operations; a topic each) while an instance is SIGKILLed
//!   every 10 s, the Kafka broker is SIGKILLed and restarted twice, Postgres
//!   is shut down immediately and the search engine frozen (SIGSTOP) for a
//!   while, the instances' Postgres connections are cut mid-transaction by
//!   the drill's TCP proxy, and extra instances join and leave in a
//!   rebalance storm; each fault's start, end and the time until commits
//!   progressed again are reported. Then the same check, plus the derived
//!   outputs (`port_calls`, `zone_events`, `anomalies` but `went_silent`)
//!   compared row by row with those of one fresh instance that consumed the
//!   same topic without faults. Which outputs are comparable and why, and
//!   how faults are kept apart, is in the module's documentation
//!   (`drill/src/chaos.rs`); `deploy/local/up` always runs at the end.
//! * [`check()`]: the Jepsen-style verdict, a pure function of the producer's
//!   acknowledgements and what was read back from the stores (unit-tested
//!   without any service).
//!
//! The `porttrack-drill` binary (`cargo run -p porttrack-drill -- canary`,
//! `... -- rolling-restart`, `... -- chaos`) and `tests/drill.rs` call the
//! same functions; the test asserts on the returned reports. The drills run the
//! `porttrack` binary as separate processes and use the `porttrack` library
//! only for the simulator and logging: nothing here is part of the
//! production binary.
//!
//! # The crate's parts
//!
//! * [`stack`]: the local stack (`deploy/local/up`, `stack.env`) and the
//!   Kafka, Postgres and search-engine helpers the drills read back with;
//!   shared with the end-to-end tests (`tests/support`);
//! * `run` and `instance`: one drill run's topics, database, configuration
//!   and Prometheus targets; `porttrack run` processes started, scraped and
//!   stopped like pods;
//! * `load`: the simulated traffic and the commit watcher;
//! * `analysis`: the AnalysisTemplate's queries and Argo's judge;
//! * [`check`](mod@check): reading the stores back and the Jepsen-style check;
//! * `canary`, `rolling` and `chaos`: the drills (`chaos` with its Postgres
//!   proxy and the guard that brings the stack back up);
//! * [`options`], [`report`], [`error`]: what goes in and comes out;
//! * [`cli`]: the `porttrack-drill` command line.
//!
//! # How the drill sees its instances in Prometheus
//!
//! Every drill run writes `deploy/local/drill/targets/<run>.json`, a
//! file-based service discovery file that the local stack's Prometheus reads
//! (job `porttrack-drill`), with the instances' ports and a `drill_run`
//! label. A query for one side of the canary then reads
//!
//! ```text
//! sum(rate(porttrack_records_consumed_total{drill_run="R"}[30s])
//!     * on (instance) group_left () porttrack_build_info{drill_run="R",version="canary"})
//! ```
//!
//! The instances listen on free ephemeral ports, never on the static
//! 9464–9467 targets, so a drill does not collide with `demo` or the
//! endpoint test. A Prometheus started before the drill job existed is
//! reloaded once (`POST /-/reload`; the stack starts it with
//! `--web.enable-lifecycle`).
//!
//! # What counts as correct
//!
//! For every acknowledged record, by its Kafka coordinates:
//!
//! * a *valid* record is in Postgres and in the search engine exactly once
//!   and not dead-lettered: a position (JSON or NMEA) in `positions` by its
//!   coordinates; a weather observation, cargo move or operations event by
//!   its natural key (station and time, event id), the row naming a record
//!   acknowledged with that key; static data (JSON, or a two-sentence NMEA
//!   type 5 completed by this record) merged into `vessels`, which must be
//!   as of each vessel's newest report; every kind's document by its
//!   coordinates. Or it was failed on purpose by the canary's
//!   fault injection: dead-lettered with class `fault_injected` and in
//!   neither store. Both at once is allowed only in that order of events (the
//!   canary dead-lettered it, its batch was not committed before the
//!   partition moved, and stable stored it on redelivery); such records are
//!   counted separately, never as duplicates;
//! * an *invalid* record is dead-lettered with the class the simulator
//!   tagged it with, and in no store;
//! * the first fragment of a two-sentence NMEA message is in no store and
//!   not dead-lettered (its message is stored with the record completing it);
//! * no store holds a record twice or a record that was never acknowledged;
//!   the dead-letter topic is at-least-once, so a letter written twice is
//!   counted (`dead_letter_redeliveries`) but is not a failure;
//! * `vessel_state` holds, per vessel, one of the newest stored positions;
//! * the group's committed offsets cover every acknowledged record (the
//!   acknowledgements are the ground truth, not the broker's watermark).
//!
//! # Example
//!
//! ```no_run
//! use porttrack_drill::{self as drill, CanaryOptions, DrillEnv};
//!
//! # async fn example() -> Result<(), drill::DrillError> {
//! let env = DrillEnv::from_stack_env(".porttrack/stack/stack.env".as_ref(), "target/release/porttrack".into())?;
//! let report = drill::canary(&env, &CanaryOptions::default()).await?;
//! println!("{report}");
//! assert!(report.decision.is_abort() && report.check.is_clean());
//! # Ok(())
//! # }
//! ```

pub mod check;
pub mod cli;
pub mod error;
pub mod options;
pub mod report;
pub mod stack;

mod analysis;
mod canary;
mod chaos;
mod instance;
mod load;
mod rolling;
mod run;

pub use canary::canary;
pub use chaos::chaos;
pub use check::{DeadLetterSeen, Observed, StoredEvent, StoredPosition, VesselStateRow, check};
pub use error::DrillError;
pub use options::{AnalysisOptions, CanaryOptions, ChaosOptions, DrillEnv, LoadOptions, RollingOptions};
pub use report::{
    CanaryReport, ChaosReport, CheckReport, Decision, DerivedComparison, Fault, FaultKind, Measurement,
    Outcome, Restart, RollingReport,
};
pub use rolling::rolling_restart;
