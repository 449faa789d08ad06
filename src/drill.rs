//! Release drills on the local stack: a canary that must be aborted, and a
//! rolling restart that must lose and duplicate nothing.
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
//! * [`canary`]: N *stable* instances (`PORTTRACK_RELEASE=stable`) under load;
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
//! * [`check`]: the Jepsen-style verdict, a pure function of the producer's
//!   acknowledgements and what was read back from the stores (unit-tested
//!   below without any service).
//!
//! The `porttrack drill` command and `tests/drill.rs` call the same two
//! functions; the test asserts on the returned reports.
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
//! For every acknowledged position record, by its Kafka coordinates:
//!
//! * a *valid* record is in Postgres `positions` and in Elasticsearch exactly
//!   once and not dead-lettered; or it was failed on purpose by the canary's
//!   fault injection: dead-lettered with class `fault_injected` and in
//!   neither store. Both at once is allowed only in that order of events (the
//!   canary dead-lettered it, its batch was not committed before the
//!   partition moved, and stable stored it on redelivery); such records are
//!   counted separately, never as duplicates;
//! * an *invalid* record is dead-lettered with the class the simulator
//!   tagged it with, and in no store;
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
//! use porttrack::drill::{self, CanaryOptions, DrillEnv};
//!
//! # async fn example() -> Result<(), drill::DrillError> {
//! let env = DrillEnv::from_stack_env(".porttrack/stack/stack.env".as_ref(), "target/release/porttrack".into())?;
//! let report = drill::canary(&env, &CanaryOptions::default()).await?;
//! println!("{report}");
//! assert!(report.decision.is_abort() && report.check.is_clean());
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use humantime_serde::re::humantime;
use porttrack_ingest::dead_letter::headers;
use porttrack_schemas::{Origin, RejectClass};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::sim::{AckedRecord, Expect, ProduceOptions, ProduceReport, SimConfig, Simulator};

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a drill could not run to its verdict. (A drill that ran and found lost
/// or duplicated records is not an error: that is in its report.)
#[derive(Debug)]
#[non_exhaustive]
pub enum DrillError {
    /// The local stack is missing or answered unexpectedly (topics, database,
    /// Elasticsearch, Prometheus configuration).
    Stack(String),
    /// A `porttrack` process could not be started, died, or did not stop.
    Instance {
        /// Its label (`stable-1`, `canary`, ...).
        label: String,
        /// What happened.
        detail: String,
        /// Its log file.
        log: PathBuf,
    },
    /// Something the drill waits for did not happen in time.
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the drill waited.
        after: Duration,
    },
    /// The simulator's producer failed.
    Load(String),
    /// Reading or writing a local file failed.
    Io {
        /// What the drill was doing.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl fmt::Display for DrillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrillError::Stack(detail) => write!(f, "local stack: {detail}"),
            DrillError::Instance { label, detail, log } => {
                write!(f, "instance {label}: {detail} (log: {})", log.display())
            }
            DrillError::Timeout { what, after } => write!(f, "timed out after {after:?} waiting for {what}"),
            DrillError::Load(detail) => write!(f, "simulated load: {detail}"),
            DrillError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for DrillError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DrillError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DrillError {
    let context = context.into();
    move |source| DrillError::Io { context, source }
}

// ---------------------------------------------------------------------------------------------
// Environment and options
// ---------------------------------------------------------------------------------------------

/// Where the local stack is, which binary to run and where to put files.
#[derive(Debug, Clone)]
pub struct DrillEnv {
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Postgres URL of an existing database (the drill creates its own next to it).
    pub postgres_url: String,
    /// Elasticsearch-API base URL (the local stack runs OpenSearch).
    pub elasticsearch_url: String,
    /// Prometheus base URL.
    pub prometheus_url: String,
    /// The `porttrack` executable the instances run.
    pub binary: PathBuf,
    /// Directory for this run's configuration and instance logs (a
    /// subdirectory per run is created in it).
    pub runs_dir: PathBuf,
    /// Prometheus file-SD directory for the drill's targets; `None` asks
    /// Prometheus (the directory of its `porttrack-drill` job's files).
    pub targets_dir: Option<PathBuf>,
}

impl DrillEnv {
    /// Reads the addresses `deploy/local/up` wrote to `stack.env`; runs and
    /// targets go under the current directory (the repository root).
    pub fn from_stack_env(stack_env: &Path, binary: PathBuf) -> Result<DrillEnv, DrillError> {
        let vars = crate::demo::read_stack_env(stack_env).ok_or_else(|| {
            DrillError::Stack(format!("{} not found: run deploy/local/up first", stack_env.display()))
        })?;
        let get = |key: &str| {
            vars.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| DrillError::Stack(format!("{key} missing from {}", stack_env.display())))
        };
        Ok(DrillEnv {
            brokers: get("PORTTRACK_KAFKA__BROKERS")?,
            postgres_url: get("PORTTRACK_POSTGRES__URL")?,
            elasticsearch_url: get("PORTTRACK_ELASTICSEARCH__URL")?,
            prometheus_url: get("PORTTRACK_PROMETHEUS_URL")?,
            binary,
            runs_dir: PathBuf::from("target/drill-runs"),
            targets_dir: None,
        })
    }
}

/// The simulated traffic a drill runs under.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Position records per second (at most 10k/s: the drills judge
    /// behaviour, not throughput, and share two cores with the stack).
    pub rate: f64,
    /// Ships simulated.
    pub vessels: usize,
    /// Fraction of records made invalid on purpose (dead-lettered by every instance).
    pub invalid_ratio: f64,
    /// Partitions of the drill's topic.
    pub partitions: i32,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { rate: 1_500.0, vessels: 400, invalid_ratio: 0.01, partitions: 4 }
    }
}

/// The canary analysis, as in `deploy/k8s/base/analysistemplate.yaml` with
/// times scaled down (Prometheus scrapes the local stack every 5 s).
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// From the canary's start to the first measurement.
    pub initial_delay: Duration,
    /// Between measurements.
    pub interval: Duration,
    /// Measurements per metric; all passing promotes.
    pub count: u32,
    /// Failed measurements tolerated per metric; one more aborts.
    pub failure_limit: u32,
    /// Consecutive query errors (no data, NaN) tolerated per metric; one more aborts.
    pub consecutive_error_limit: u32,
    /// `rate()` window of the ratio and commit queries (the template's `2m`);
    /// the latency query uses twice this (the template's `5m`).
    pub window: Duration,
    /// `max-error-ratio-increase`.
    pub max_error_ratio_increase: f64,
    /// `max-dead-letter-ratio-increase`.
    pub max_dead_letter_ratio_increase: f64,
    /// `max-latency-factor`.
    pub max_latency_factor: f64,
    /// `latency-slack-seconds`: the absolute floor under the relative
    /// threshold, so a few milliseconds of noise on fast writes never fail.
    pub latency_slack_seconds: f64,
    /// `min-records`: records each side must have consumed in the window
    /// before the ratio metrics judge; fewer is too small a sample, and the
    /// measurement passes (the canary-commits metric still requires work).
    pub min_records: u32,
    /// `min-latency-samples`: sink writes each side must have made in the
    /// latency window before the latency metric judges.
    pub min_latency_samples: u32,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            initial_delay: Duration::from_secs(30),
            interval: Duration::from_secs(10),
            count: 5,
            failure_limit: 1,
            consecutive_error_limit: 2,
            window: Duration::from_secs(30),
            max_error_ratio_increase: 0.005,
            max_dead_letter_ratio_increase: 0.005,
            max_latency_factor: 1.5,
            latency_slack_seconds: 0.1,
            min_records: 500,
            min_latency_samples: 20,
        }
    }
}

impl AnalysisOptions {
    /// The longest the analysis can take: the bound on the decision time.
    pub fn bound(&self) -> Duration {
        self.initial_delay + self.interval * self.count.saturating_sub(1) + QUERY_TIMEOUT * 5 * self.count
    }
}

/// What [`canary`] does.
#[derive(Debug, Clone)]
pub struct CanaryOptions {
    /// Stable instances.
    pub stable: usize,
    /// `pipeline.fault_injection_ratio` of the canary (0 for a healthy canary,
    /// which the analysis should promote).
    pub fault_ratio: f64,
    /// Longest wait for the canary to own partitions and commit before the
    /// analysis clock starts anyway.
    pub join_timeout: Duration,
    /// The traffic.
    pub load: LoadOptions,
    /// The analysis.
    pub analysis: AnalysisOptions,
    /// Keep the run's topics' data, database and Elasticsearch indices.
    pub keep: bool,
}

impl Default for CanaryOptions {
    fn default() -> Self {
        CanaryOptions {
            stable: 2,
            fault_ratio: 0.2,
            join_timeout: Duration::from_secs(90),
            load: LoadOptions::default(),
            analysis: AnalysisOptions::default(),
            keep: false,
        }
    }
}

/// What [`rolling_restart`] does.
#[derive(Debug, Clone)]
pub struct RollingOptions {
    /// Instances in the group.
    pub instances: usize,
    /// The traffic.
    pub load: LoadOptions,
    /// Load before the first restart and after the last one.
    pub settle: Duration,
    /// Wait between one instance being ready again and stopping the next.
    pub between: Duration,
    /// Keep the run's database and Elasticsearch indices.
    pub keep: bool,
}

impl Default for RollingOptions {
    fn default() -> Self {
        RollingOptions {
            instances: 3,
            load: LoadOptions::default(),
            settle: Duration::from_secs(15),
            between: Duration::from_secs(5),
            keep: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

/// The canary analysis' decision.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// Every measurement of every metric passed.
    Promote,
    /// A metric failed more often than tolerated (or errored, or the canary died).
    Abort {
        /// The metrics that failed or errored past their limits.
        metrics: Vec<String>,
        /// Why, with the measured values.
        reason: String,
    },
}

impl Decision {
    /// True when the rollout was aborted.
    pub fn is_abort(&self) -> bool {
        matches!(self, Decision::Abort { .. })
    }

    /// True when `metric` is among the reasons for an abort.
    pub fn aborted_by(&self, metric: &str) -> bool {
        matches!(self, Decision::Abort { metrics, .. } if metrics.iter().any(|m| m == metric))
    }
}

/// One metric measured once.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Since the canary started.
    pub at: Duration,
    /// The metric's name in the AnalysisTemplate.
    pub metric: &'static str,
    /// The query's value; `None` for an empty result or a failed query.
    pub value: Option<f64>,
    /// Pass, fail or error.
    pub outcome: Outcome,
}

/// The result of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The success condition held.
    Pass,
    /// It did not.
    Fail,
    /// No usable value (empty result, NaN, query failed).
    Error,
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    /// Acknowledged position records.
    pub produced: u64,
    /// Of which valid.
    pub valid: u64,
    /// Of which invalid on purpose.
    pub invalid: u64,
    /// Valid records found in both stores, once.
    pub stored: u64,
    /// Distinct records dead-lettered, by class.
    pub dead_lettered: BTreeMap<String, u64>,
    /// Valid records dead-lettered as `fault_injected` and stored later on
    /// redelivery (the canary's batch was not committed before its partition moved).
    pub fault_injected_then_stored: u64,
    /// Acknowledged records found nowhere.
    pub lost: u64,
    /// Rows or documents present more than once, or not acknowledged at all.
    pub duplicated: u64,
    /// Records in the wrong place (an invalid one stored, a valid one
    /// dead-lettered with another class, in one store only, wrong class).
    pub misplaced: u64,
    /// Dead letters written more than once (at-least-once; not a failure).
    pub dead_letter_redeliveries: u64,
    /// Vessels whose `vessel_state` row is not one of their newest stored positions.
    pub vessel_state_mismatches: u64,
    /// Partitions whose committed offset is behind the last acknowledged record.
    pub uncommitted_partitions: u64,
    /// The first few problems, for the log.
    pub examples: Vec<String>,
}

impl CheckReport {
    /// Nothing lost, duplicated, misplaced, stale or uncommitted.
    pub fn is_clean(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.misplaced == 0
            && self.vessel_state_mismatches == 0
            && self.uncommitted_partitions == 0
    }

    fn problem(&mut self, example: impl FnOnce() -> String) {
        if self.examples.len() < 10 {
            self.examples.push(example());
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  records produced (acked)  {} ({} valid, {} invalid)",
            self.produced, self.valid, self.invalid
        )?;
        writeln!(f, "  stored (Postgres + ES)    {}", self.stored)?;
        let classes: Vec<String> = self.dead_lettered.iter().map(|(c, n)| format!("{c} {n}")).collect();
        writeln!(
            f,
            "  dead-lettered             {}",
            if classes.is_empty() { "0".into() } else { classes.join(", ") }
        )?;
        writeln!(f, "  fault-injected, then stored on redelivery {}", self.fault_injected_then_stored)?;
        writeln!(f, "  dead letters written twice (at-least-once) {}", self.dead_letter_redeliveries)?;
        writeln!(f, "  lost                      {}", self.lost)?;
        writeln!(f, "  duplicated                {}", self.duplicated)?;
        writeln!(f, "  misplaced                 {}", self.misplaced)?;
        writeln!(f, "  vessel_state mismatches   {}", self.vessel_state_mismatches)?;
        writeln!(f, "  partitions not committed  {}", self.uncommitted_partitions)?;
        for e in &self.examples {
            writeln!(f, "    e.g. {e}")?;
        }
        write!(f, "  verdict                   {}", if self.is_clean() { "CLEAN" } else { "FAILED" })
    }
}

/// What [`canary`] measured.
#[derive(Debug, Clone)]
pub struct CanaryReport {
    /// The run's name (topics, group, database and `drill_run` label derive from it).
    pub run: String,
    /// Where its configuration and logs are.
    pub dir: PathBuf,
    /// The analysis' decision.
    pub decision: Decision,
    /// Every measurement, in order.
    pub measurements: Vec<Measurement>,
    /// Canary start → decision.
    pub time_to_decision: Duration,
    /// The bound on that time (join timeout + the analysis' own bound).
    pub decision_bound: Duration,
    /// Canary start → it owned partitions and committed records (None: never).
    pub canary_consuming_after: Option<Duration>,
    /// Records the canary committed (from its `/metrics` just before SIGTERM).
    pub canary_committed: u64,
    /// Records the canary failed on purpose (`porttrack_fault_injected_total`).
    pub canary_fault_injected: u64,
    /// Last measured error ratios (rejected + permanent sink errors) / consumed, per side.
    pub canary_error_ratio: Option<f64>,
    /// The same for stable.
    pub stable_error_ratio: Option<f64>,
    /// SIGTERM to the canary → it exited.
    pub canary_stop: Duration,
    /// SIGTERM to the canary → the stable instances own every partition.
    pub reassigned_after: Option<Duration>,
    /// SIGTERM to the canary → stable committed records again after taking
    /// every partition back.
    pub resumed_after: Option<Duration>,
    /// Every stable instance ran throughout and exited 0 on SIGTERM.
    pub stable_survived: bool,
    /// The simulator's delivery failures (not part of the check).
    pub produce_failed: u64,
    /// The Jepsen-style check.
    pub check: CheckReport,
}

impl fmt::Display for CanaryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "canary drill {} (logs in {})", self.run, self.dir.display())?;
        for m in &self.measurements {
            writeln!(
                f,
                "  t+{:>5.1}s {:<24} {:>12} {:?}",
                m.at.as_secs_f64(),
                m.metric,
                m.value.map_or_else(|| "no data".to_owned(), |v| format!("{v:.5}")),
                m.outcome
            )?;
        }
        match &self.decision {
            Decision::Promote => writeln!(f, "  decision                  PROMOTE")?,
            Decision::Abort { reason, .. } => writeln!(f, "  decision                  ABORT: {reason}")?,
        }
        let secs = |d: Option<Duration>| {
            d.map_or_else(|| "never".to_owned(), |d| format!("{:.1}s", d.as_secs_f64()))
        };
        writeln!(
            f,
            "  time to decision          {:.1}s (bound {:.0}s)",
            self.time_to_decision.as_secs_f64(),
            self.decision_bound.as_secs_f64()
        )?;
        writeln!(f, "  canary consuming after    {}", secs(self.canary_consuming_after))?;
        writeln!(
            f,
            "  canary committed          {} records, {} fault-injected",
            self.canary_committed, self.canary_fault_injected
        )?;
        let ratio = |r: Option<f64>| r.map_or_else(|| "no data".to_owned(), |r| format!("{r:.4}"));
        writeln!(
            f,
            "  error ratio               canary {} stable {}",
            ratio(self.canary_error_ratio),
            ratio(self.stable_error_ratio)
        )?;
        writeln!(f, "  canary stopped in         {:.1}s after SIGTERM", self.canary_stop.as_secs_f64())?;
        writeln!(f, "  partitions back to stable {}", secs(self.reassigned_after))?;
        writeln!(f, "  stable committing again   {}", secs(self.resumed_after))?;
        writeln!(f, "  stable instances survived {}", self.stable_survived)?;
        writeln!(f, "  producer delivery failures {}", self.produce_failed)?;
        write!(f, "{}", self.check)
    }
}

/// One instance's restart in [`rolling_restart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Restart {
    /// The instance.
    pub label: String,
    /// SIGTERM → exit.
    pub stop: Duration,
    /// Exit → ready (`/readyz` 200) and committing again.
    pub ready: Duration,
}

/// What [`rolling_restart`] measured.
#[derive(Debug, Clone)]
pub struct RollingReport {
    /// The run's name.
    pub run: String,
    /// Where its configuration and logs are.
    pub dir: PathBuf,
    /// Each restart.
    pub restarts: Vec<Restart>,
    /// The longest interval without the group's committed offsets moving,
    /// from the first restart to the end of the load (polled every 250 ms).
    pub longest_pause: Duration,
    /// The longest pause before any restart (the baseline of the same measure).
    pub baseline_pause: Duration,
    /// The largest `records sent − records committed` seen by the drill's poller.
    pub max_commit_lag: u64,
    /// The largest summed `porttrack_consumer_lag_records` Prometheus recorded
    /// (librdkafka's view).
    pub max_consumer_lag: Option<f64>,
    /// The simulator's delivery failures (not part of the check).
    pub produce_failed: u64,
    /// The Jepsen-style check.
    pub check: CheckReport,
}

impl fmt::Display for RollingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "rolling-restart drill {} (logs in {})", self.run, self.dir.display())?;
        for r in &self.restarts {
            writeln!(
                f,
                "  {:<10} stopped in {:>5.1}s, ready and committing {:>5.1}s after",
                r.label,
                r.stop.as_secs_f64(),
                r.ready.as_secs_f64()
            )?;
        }
        writeln!(
            f,
            "  longest commit pause      {:.2}s during restarts (baseline before them {:.2}s)",
            self.longest_pause.as_secs_f64(),
            self.baseline_pause.as_secs_f64()
        )?;
        writeln!(f, "  max lag (sent − committed) {} records", self.max_commit_lag)?;
        writeln!(
            f,
            "  max consumer lag (Prometheus, librdkafka) {}",
            self.max_consumer_lag.map_or_else(|| "no data".to_owned(), |v| format!("{v:.0}"))
        )?;
        writeln!(f, "  producer delivery failures {}", self.produce_failed)?;
        write!(f, "{}", self.check)
    }
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

/// `porttrack drill ...`.
#[derive(Debug, Clone, clap::Subcommand)]
#[non_exhaustive]
pub enum DrillCommand {
    /// Stable instances under load, a fault-injecting canary joins, the
    /// analysis must abort it; then nothing lost, nothing duplicated.
    Canary {
        /// Stable instances.
        #[arg(long, default_value_t = 2)]
        stable: usize,
        /// The canary's fault-injection ratio (0: a healthy canary, which must be promoted).
        #[arg(long, default_value_t = 0.2)]
        fault_ratio: f64,
        /// Time from the canary's start to the first measurement.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
        initial_delay: Duration,
        /// Time between measurements.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
        interval: Duration,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Instances under load restarted one by one; nothing lost, nothing
    /// duplicated; longest commit pause and largest lag reported.
    RollingRestart {
        /// Instances.
        #[arg(long, default_value_t = 3)]
        instances: usize,
        /// Load before the first and after the last restart.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "15s")]
        settle: Duration,
        #[command(flatten)]
        common: CommonArgs,
    },
}

/// Flags both drills take.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Position records per second.
    #[arg(long, default_value_t = 1_500.0)]
    rate: f64,
    /// Partitions of the drill's topic.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// The local stack's env file.
    #[arg(long, default_value = crate::demo::STACK_ENV)]
    stack_env: PathBuf,
    /// Keep the drill's database and Elasticsearch indices afterwards.
    #[arg(long)]
    keep: bool,
}

/// Runs a drill from the command line, prints its report, and fails unless
/// the drill came out as it must. Stops (killing its instances) when
/// `shutdown` resolves first.
pub async fn main(
    command: DrillCommand,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    crate::telemetry::init_logging(&crate::config::LogConfig::default());
    let binary = std::env::current_exe()?;
    let load =
        |c: &CommonArgs| LoadOptions { rate: c.rate, partitions: c.partitions, ..LoadOptions::default() };
    let drill = async {
        match command {
            DrillCommand::Canary { stable, fault_ratio, initial_delay, interval, common } => {
                let env = DrillEnv::from_stack_env(&common.stack_env, binary)?;
                let options = CanaryOptions {
                    stable,
                    fault_ratio,
                    join_timeout: Duration::from_secs(90),
                    load: load(&common),
                    analysis: AnalysisOptions { initial_delay, interval, ..AnalysisOptions::default() },
                    keep: common.keep,
                };
                let report = canary(&env, &options).await?;
                println!("{report}");
                let expected = if fault_ratio > 0.0 { "abort" } else { "promote" };
                anyhow::ensure!(
                    report.decision.is_abort() == (fault_ratio > 0.0),
                    "the analysis should {expected} this canary"
                );
                anyhow::ensure!(report.check.is_clean(), "the check failed");
                Ok(())
            }
            DrillCommand::RollingRestart { instances, settle, common } => {
                let env = DrillEnv::from_stack_env(&common.stack_env, binary)?;
                let options = RollingOptions {
                    instances,
                    load: load(&common),
                    settle,
                    keep: common.keep,
                    ..RollingOptions::default()
                };
                let report = rolling_restart(&env, &options).await?;
                println!("{report}");
                anyhow::ensure!(report.check.is_clean(), "the check failed");
                Ok(())
            }
        }
    };
    tokio::select! {
        result = drill => result,
        () = shutdown => anyhow::bail!("interrupted; the drill's instances were stopped"),
    }
}

// ---------------------------------------------------------------------------------------------
// One run: names, topics, database, configuration, Prometheus targets
// ---------------------------------------------------------------------------------------------

/// Everything one drill run creates, named after it.
#[derive(Debug)]
struct Run {
    env: DrillEnv,
    name: String,
    topic: String,
    dlq: String,
    group: String,
    database: String,
    db_url: String,
    es_prefix: String,
    partitions: i32,
    dir: PathBuf,
    config: PathBuf,
    targets: PathBuf,
    http: reqwest::Client,
}

impl Run {
    async fn create(env: &DrillEnv, kind: &str, partitions: i32) -> Result<Run, DrillError> {
        let millis = Utc::now().timestamp_millis();
        let name = format!("drill-{kind}-{millis}-{}", std::process::id());
        let topic = format!("{name}-positions");
        let dlq = format!("{name}-dlq");
        let group = format!("{name}-group");
        let database = name.replace('-', "_");
        let es_prefix = name.clone();
        let dir = env.runs_dir.join(&name);
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let http = reqwest::Client::builder()
            .timeout(QUERY_TIMEOUT)
            .build()
            .map_err(|e| DrillError::Stack(format!("http client: {e}")))?;

        let targets_dir = match &env.targets_dir {
            Some(dir) => dir.clone(),
            None => prometheus_targets_dir(&http, &env.prometheus_url).await?,
        };
        create_topics(&env.brokers, &[(&topic, partitions), (&dlq, 1)]).await?;
        psql(&env.postgres_url, &format!("CREATE DATABASE \"{database}\"")).await?;
        let (base, _) = env
            .postgres_url
            .rsplit_once('/')
            .ok_or_else(|| DrillError::Stack(format!("{} has no database path", env.postgres_url)))?;
        let db_url = format!("{base}/{database}");

        let config = dir.join("porttrack.toml");
        std::fs::write(
            &config,
            format!(
                r#"# Written by `porttrack drill` for run {name}.
[kafka]
brokers = "{brokers}"
group_id = "{group}"
dead_letter_topic = "{dlq}"
# The drills stop instances with SIGTERM, which leaves the group at once, so
# the session timeout (the broker's, under the KIP-848 protocol) never delays
# a planned hand-over. The poll interval must exceed drain_timeout.
max_poll_interval = "30s"

[[kafka.topics]]
name = "{topic}"
format = "json"
event = "position"

# A batch, and so an offset commit, at most four times a second per
# instance: commit pauses are measured at this resolution.
[pipeline]
batch_max_records = 2000
batch_linger = "250ms"
drain_timeout = "10s"

[postgres]
url = "{db_url}"

[elasticsearch]
url = "{es}"
index_prefix = "{es_prefix}"

[files]
dir = "{files}"

[http]
listen = "127.0.0.1:0"
"#,
                brokers = env.brokers,
                es = env.elasticsearch_url,
                files = dir.join("files").display(),
            ),
        )
        .map_err(io(format!("writing {}", config.display())))?;
        let targets = targets_dir.join(format!("{name}.json"));
        let run = Run {
            env: env.clone(),
            name,
            topic,
            dlq,
            group,
            database,
            db_url,
            es_prefix,
            partitions,
            dir,
            config,
            targets,
            http,
        };
        run.migrate().await?;
        Ok(run)
    }

    async fn migrate(&self) -> Result<(), DrillError> {
        let log = self.dir.join("migrate.log");
        let mut child =
            self.command("migrate", &log)?.args(["migrate", "--config"]).arg(&self.config).spawn().map_err(
                |e| DrillError::Instance {
                    label: "migrate".into(),
                    detail: format!("spawning: {e}"),
                    log: log.clone(),
                },
            )?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(DrillError::Instance {
                        label: "migrate".into(),
                        detail: format!("exited with {status}: {}", tail(&log)),
                        log,
                    });
                }
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                Ok(None) => {
                    let _ = child.kill();
                    return Err(DrillError::Timeout {
                        what: "porttrack migrate".into(),
                        after: Duration::from_secs(60),
                    });
                }
                Err(e) => return Err(io("waiting for porttrack migrate")(e)),
            }
        }
    }

    /// A `porttrack` command with the caller's `PORTTRACK_*` variables
    /// removed: a shell that sourced `stack.env` would otherwise point the
    /// instances at the shared database instead of the drill's.
    fn command(&self, label: &str, log: &Path) -> Result<Command, DrillError> {
        let file = std::fs::File::create(log).map_err(io(format!("creating {}", log.display())))?;
        let mut command = Command::new(&self.env.binary);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PORTTRACK_") {
                command.env_remove(key);
            }
        }
        command
            .env("PORTTRACK_LOG__FILTER", "info")
            .env("PORTTRACK_DRILL_LABEL", label)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        Ok(command)
    }

    /// Starts an instance labelled `label` on `port` with release label `release`.
    fn spawn(&self, label: &str, port: u16, release: &str, fault_ratio: f64) -> Result<Instance, DrillError> {
        let log = self.dir.join(format!("{label}.log"));
        let child = self
            .command(label, &log)?
            .args(["run", "--config"])
            .arg(&self.config)
            .env("PORTTRACK_HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .env("PORTTRACK_RELEASE", release)
            .env("PORTTRACK_PIPELINE__FAULT_INJECTION_RATIO", fault_ratio.to_string())
            .spawn()
            .map_err(|e| DrillError::Instance {
                label: label.into(),
                detail: format!("spawning: {e}"),
                log: log.clone(),
            })?;
        Ok(Instance { label: label.to_owned(), port, log, child: Some(child), http: self.http.clone() })
    }

    /// Tells Prometheus to scrape `ports` with this run's `drill_run` label.
    fn write_targets(&self, ports: &[u16]) -> Result<(), DrillError> {
        let targets: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let body = json!([{ "targets": targets, "labels": { "drill_run": self.name } }]);
        if let Some(dir) = self.targets.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        }
        // Written whole then renamed: Prometheus must never read half a file.
        let tmp = self.targets.with_extension("json.tmp");
        std::fs::write(&tmp, body.to_string()).map_err(io(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, &self.targets).map_err(io(format!("renaming to {}", self.targets.display())))
    }

    fn load(&self, options: &LoadOptions) -> Load {
        Load::start(&self.env.brokers, &self.topic, options)
    }

    fn selector(&self) -> String {
        format!("drill_run=\"{}\"", self.name)
    }

    /// Reads everything back and runs the check.
    async fn verify(&self, report: &ProduceReport) -> Result<CheckReport, DrillError> {
        let committed = OffsetReader::new(self)?.fetch().await?;
        let min_letters = report.acks.iter().filter(|a| matches!(a.expect, Expect::Invalid(_))).count();
        let letters = read_dead_letters(&self.env.brokers, &self.dlq, min_letters).await?;
        let pattern = format!("{}-positions-*", self.es_prefix);
        let es_ids = es_ids(&self.http, &self.env.elasticsearch_url, &pattern).await?;
        let rows = psql(
            &self.db_url,
            &format!(
                "SELECT source_partition, source_offset, source_index FROM positions WHERE source_topic = '{}'",
                self.topic
            ),
        )
        .await?;
        let positions = parse_rows(&rows, |f| {
            Some(StoredPosition {
                partition: f.first()?.parse().ok()?,
                offset: f.get(1)?.parse().ok()?,
                index: f.get(2)?.parse().ok()?,
            })
        })?;
        let rows =
            psql(&self.db_url, "SELECT mmsi, source_partition, source_offset FROM vessel_state").await?;
        let vessel_state = parse_rows(&rows, |f| {
            Some(VesselStateRow {
                mmsi: f.first()?.parse().ok()?,
                partition: f.get(1)?.parse().ok()?,
                offset: f.get(2)?.parse().ok()?,
            })
        })?;
        let observed = Observed {
            topic: self.topic.clone(),
            committed,
            es_ids,
            positions,
            vessel_state,
            dead_letters: letters,
        };
        Ok(check(&report.acks, &observed))
    }

    /// Removes the run's Prometheus targets and, unless `keep`, its database
    /// and its search indices.
    async fn cleanup(&self, keep: bool) {
        let _ = std::fs::remove_file(&self.targets);
        if keep {
            return;
        }
        let url = format!("{}/{}-*", self.env.elasticsearch_url, self.es_prefix);
        if let Err(e) = self.http.delete(&url).send().await {
            tracing::warn!(error = %e, "deleting the drill's indices");
        }
        if let Err(e) = psql(
            &self.env.postgres_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.database),
        )
        .await
        {
            tracing::warn!(error = %e, "dropping the drill's database");
        }
    }
}

/// Where Prometheus looks for the drill's targets: the directory of the
/// `porttrack-drill` job's file-SD pattern in its running configuration. A
/// Prometheus started before the job existed is reloaded once.
async fn prometheus_targets_dir(http: &reqwest::Client, prometheus: &str) -> Result<PathBuf, DrillError> {
    let url = format!("{prometheus}/api/v1/status/config");
    let running = || async {
        let body: Value = http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| DrillError::Stack(format!("GET {url}: {e}")))?
            .json()
            .await
            .map_err(|e| DrillError::Stack(format!("GET {url}: {e}")))?;
        Ok::<_, DrillError>(body["data"]["yaml"].as_str().and_then(drill_targets_dir))
    };
    if let Some(dir) = running().await? {
        return Ok(dir);
    }
    let reload = format!("{prometheus}/-/reload");
    let status = http
        .post(&reload)
        .send()
        .await
        .map_err(|e| DrillError::Stack(format!("POST {reload}: {e}")))?
        .status();
    running().await?.ok_or_else(|| {
        DrillError::Stack(format!(
            "Prometheus at {prometheus} has no porttrack-drill job, even after a reload ({status}); \
             is it running deploy/local/prometheus.yml?"
        ))
    })
}

/// The directory of the first file pattern of job `porttrack-drill` in
/// Prometheus' rendered configuration (absolute paths: Prometheus resolves
/// them against its configuration file's directory).
fn drill_targets_dir(yaml: &str) -> Option<PathBuf> {
    let job = &yaml[yaml.find("job_name: porttrack-drill")?..];
    let files = &job[job.find("files:")?..];
    let pattern = files.lines().skip(1).find_map(|l| l.trim().strip_prefix("- "))?;
    Path::new(pattern.trim()).parent().map(Path::to_path_buf)
}

/// A free loopback port for an instance's HTTP endpoints (free when asked;
/// the instance binds it a moment later).
fn free_port() -> Result<u16, DrillError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener.local_addr().map_err(io("finding a free port"))?.port())
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

async fn create_topics(brokers: &str, topics: &[(&str, i32)]) -> Result<(), DrillError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(|e| DrillError::Stack(format!("admin client: {e}")))?;
    let new: Vec<NewTopic<'_>> =
        topics.iter().map(|(name, p)| NewTopic::new(name, *p, TopicReplication::Fixed(1))).collect();
    let results = admin
        .create_topics(&new, &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))))
        .await
        .map_err(|e| DrillError::Stack(format!("creating topics: {e}")))?;
    for result in results {
        result.map_err(|(topic, e)| DrillError::Stack(format!("creating topic {topic}: {e}")))?;
    }
    Ok(())
}

/// Runs one statement with `psql` and returns its unaligned, comma-separated
/// output. (`psql` ships with the stack's Postgres; the drill reads a few
/// columns of integers, for which its output is exact.)
async fn psql(url: &str, sql: &str) -> Result<String, DrillError> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-F", ",", "-v", "ON_ERROR_STOP=1", "-d", &url, "-c", &sql])
            .stdin(Stdio::null())
            .output()
    })
    .await
    .map_err(|e| DrillError::Stack(format!("psql task: {e}")))?
    .map_err(|e| DrillError::Stack(format!("running psql (is the Postgres client installed?): {e}")))?;
    if !output.status.success() {
        return Err(DrillError::Stack(format!("psql: {}", String::from_utf8_lossy(&output.stderr).trim())));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn parse_rows<T>(text: &str, row: impl Fn(&[&str]) -> Option<T>) -> Result<Vec<T>, DrillError> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            row(&fields).ok_or_else(|| DrillError::Stack(format!("unexpected psql row {line:?}")))
        })
        .collect()
}

fn reader(brokers: &str, group: &str) -> Result<BaseConsumer, DrillError> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|e| DrillError::Stack(format!("kafka consumer: {e}")))
}

/// Reads the group's committed offsets as a non-member with the group's id
/// (the group is unaffected).
#[derive(Clone)]
struct OffsetReader {
    consumer: Arc<BaseConsumer>,
    topic: String,
    partitions: i32,
}

impl fmt::Debug for OffsetReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OffsetReader").field("topic", &self.topic).finish_non_exhaustive()
    }
}

impl OffsetReader {
    fn new(run: &Run) -> Result<OffsetReader, DrillError> {
        Ok(OffsetReader {
            consumer: Arc::new(reader(&run.env.brokers, &run.group)?),
            topic: run.topic.clone(),
            partitions: run.partitions,
        })
    }

    /// Committed offsets per partition (-1: none yet).
    async fn fetch(&self) -> Result<HashMap<i32, i64>, DrillError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut last = String::new();
            for _ in 0..5 {
                match fetch_committed(&this.consumer, &this.topic, this.partitions) {
                    Ok(c) => return Ok(c),
                    Err(e) => last = e,
                }
            }
            Err(DrillError::Stack(format!("committed offsets: {last}")))
        })
        .await
        .map_err(|e| DrillError::Stack(format!("committed offsets task: {e}")))?
    }
}

fn fetch_committed(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: i32,
) -> Result<HashMap<i32, i64>, String> {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(tpl, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    Ok(committed
        .elements()
        .iter()
        .map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { o } else { -1 }))
        .collect())
}

/// Every dead letter of the run: reads from the beginning until at least
/// `at_least` arrived and nothing new came for 3 s (the instances are
/// stopped, so nothing more is coming; the quiet period covers fetch latency).
async fn read_dead_letters(
    brokers: &str,
    topic: &str,
    at_least: usize,
) -> Result<Vec<DeadLetterSeen>, DrillError> {
    let consumer = reader(brokers, &format!("{topic}-reader"))?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Beginning)
            .map_err(|e| DrillError::Stack(format!("reading {topic}: {e}")))?;
        consumer.assign(&tpl).map_err(|e| DrillError::Stack(format!("reading {topic}: {e}")))?;
        let started = std::time::Instant::now();
        let mut quiet_since = std::time::Instant::now();
        let mut out = Vec::new();
        while out.len() < at_least || quiet_since.elapsed() < Duration::from_secs(3) {
            if quiet_since.elapsed() > Duration::from_secs(30) || started.elapsed() > Duration::from_secs(300)
            {
                break;
            }
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    quiet_since = std::time::Instant::now();
                    let mut seen = DeadLetterSeen::default();
                    if let Some(h) = m.headers() {
                        for h in h.iter() {
                            let value = String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned();
                            match h.key {
                                headers::SOURCE_TOPIC => seen.topic = value,
                                headers::SOURCE_PARTITION => seen.partition = value.parse().unwrap_or(-1),
                                headers::SOURCE_OFFSET => seen.offset = value.parse().unwrap_or(-1),
                                headers::ERROR_CLASS => seen.class = value,
                                _ => {}
                            }
                        }
                    }
                    out.push(seen);
                }
                // Connection events (a broker restarting, "all brokers
                // down") are reported here too; the client reconnects by
                // itself and the quiet-period limit bounds the wait.
                Some(Err(e)) => tracing::warn!(%topic, error = %e, "reading dead letters"),
                None => {}
            }
        }
        Ok(out)
    })
    .await
    .map_err(|e| DrillError::Stack(format!("dead-letter reader task: {e}")))?
}

/// Every document id under `pattern`, paging with `search_after`.
async fn es_ids(http: &reqwest::Client, base: &str, pattern: &str) -> Result<Vec<String>, DrillError> {
    let err = |e: reqwest::Error| DrillError::Stack(format!("elasticsearch {pattern}: {e}"));
    http.post(format!("{base}/{pattern}/_refresh")).send().await.map_err(err)?;
    let mut out = Vec::new();
    let mut after: Option<Value> = None;
    loop {
        let mut body = json!({
            "size": 10_000,
            "_source": false,
            "sort": [{ "source.partition": "asc" }, { "source.offset": "asc" }],
        });
        if let Some(a) = &after {
            body["search_after"] = a.clone();
        }
        let response: Value = http
            .post(format!("{base}/{pattern}/_search"))
            .timeout(Duration::from_secs(60))
            .json(&body)
            .send()
            .await
            .map_err(err)?
            .json()
            .await
            .map_err(err)?;
        let hits = response["hits"]["hits"].as_array().cloned().unwrap_or_default();
        if hits.is_empty() {
            return Ok(out);
        }
        out.extend(hits.iter().filter_map(|h| h["_id"].as_str().map(str::to_owned)));
        after = hits.last().map(|h| h["sort"].clone());
    }
}

// ---------------------------------------------------------------------------------------------
// Instances
// ---------------------------------------------------------------------------------------------

/// A `porttrack run` process, killed if the drill ends before stopping it.
#[derive(Debug)]
struct Instance {
    label: String,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    http: reqwest::Client,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The few unlabelled samples of an instance's `/metrics` the drill reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Scrape {
    assigned: f64,
    committed: f64,
    fault_injected: f64,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Scrape {
            assigned: value("porttrack_partitions_assigned"),
            committed: value("porttrack_records_committed_total"),
            fault_injected: value("porttrack_fault_injected_total"),
        }
    }
}

impl Instance {
    fn error(&self, detail: impl Into<String>) -> DrillError {
        DrillError::Instance { label: self.label.clone(), detail: detail.into(), log: self.log.clone() }
    }

    /// Fails if the process exited.
    fn alive(&mut self) -> Result<(), DrillError> {
        let Some(child) = self.child.as_mut() else { return Err(self.error("not running")) };
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(self.error(format!("exited with {status}:\n{}", tail(&self.log)))),
            Err(e) => Err(self.error(format!("waiting: {e}"))),
        }
    }

    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let response = self.http.get(format!("http://127.0.0.1:{}{path}", self.port)).send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// Its `/metrics`, or zeros while it does not answer yet.
    async fn scrape(&self) -> Scrape {
        self.get("/metrics").await.map(|(_, body)| Scrape::parse(&body)).unwrap_or_default()
    }

    async fn ready(&self) -> bool {
        self.get("/readyz").await.is_some_and(|(status, _)| status == 200)
    }

    /// Sends SIGTERM and waits for a clean exit (drain, commit, leave the group).
    async fn terminate(&mut self) -> Result<Duration, DrillError> {
        let Some(mut child) = self.child.take() else { return Err(self.error("not running")) };
        let started = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .map_err(|e| self.error(format!("kill -TERM: {e}")))?;
        if !status.success() {
            return Err(self.error(format!("kill -TERM exited with {status}")));
        }
        // drain_timeout (10 s) plus leaving the group, with room.
        let limit = Duration::from_secs(45);
        loop {
            match child.try_wait() {
                Ok(Some(exit)) if exit.success() => return Ok(started.elapsed()),
                Ok(Some(exit)) => {
                    return Err(self.error(format!("exited with {exit} after SIGTERM:\n{}", tail(&self.log))));
                }
                Ok(None) if started.elapsed() < limit => tokio::time::sleep(Duration::from_millis(50)).await,
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.error(format!("did not stop within {limit:?} of SIGTERM")));
                }
                Err(e) => return Err(self.error(format!("waiting: {e}"))),
            }
        }
    }
}

/// Σ partitions assigned and Σ records committed over `instances`, and
/// whether every one of them owns at least one partition.
async fn group_state(instances: &[&Instance]) -> (f64, f64, bool) {
    let mut assigned = 0.0;
    let mut committed = 0.0;
    let mut everyone = true;
    for i in instances {
        let s = i.scrape().await;
        assigned += s.assigned;
        committed += s.committed;
        everyone &= s.assigned >= 1.0;
    }
    (assigned, committed, everyone)
}

// ---------------------------------------------------------------------------------------------
// Load and the commit watcher
// ---------------------------------------------------------------------------------------------

/// The simulator producing on a blocking thread until stopped.
#[derive(Debug)]
struct Load {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<ProduceReport>>>,
}

impl Load {
    fn start(brokers: &str, topic: &str, options: &LoadOptions) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let kafka = porttrack_ingest::KafkaConfig {
            brokers: brokers.to_owned(),
            // Fewer, larger produce requests than the simulator's default
            // 10 ms linger: the load shares two cores with the stack.
            properties: [("linger.ms".to_owned(), "100".to_owned())].into_iter().collect(),
            ..Default::default()
        };
        let produce = ProduceOptions {
            rate: Some(options.rate.clamp(1.0, 10_000.0)),
            record_acks: true,
            ..ProduceOptions::positions_only(topic)
        };
        let sim = SimConfig {
            vessels: options.vessels,
            seed: 42,
            // Half a day in the past: the simulated clock races through it at
            // `rate`, so the load never waits for the wall clock.
            start: Utc::now() - chrono::Duration::hours(12),
            invalid_ratio: options.invalid_ratio,
        };
        let handle = tokio::task::spawn_blocking({
            let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
            move || crate::sim::produce(&kafka, &mut Simulator::new(sim), &produce, &stop, Some(&sent))
        });
        Load { stop, sent, handle: Some(handle) }
    }

    /// Stops producing, flushes, and returns every acknowledgement.
    async fn finish(mut self) -> Result<ProduceReport, DrillError> {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.handle.take().ok_or_else(|| DrillError::Load("already finished".into()))?;
        handle
            .await
            .map_err(|e| DrillError::Load(format!("producer thread: {e}")))?
            .map_err(|e| DrillError::Load(format!("{e:#}")))
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One look at the group's progress.
#[derive(Debug, Clone)]
struct Sample {
    at: Instant,
    /// Records committed by the group since the drill started (Σ of the
    /// instances' `porttrack_records_committed_total` increments).
    committed: u64,
    /// Records the simulator had sent.
    sent: u64,
}

/// Scrapes every instance's `porttrack_records_committed_total` every 250 ms.
///
/// From the instances' `/metrics`, which also tells which instance
/// committed; `tests/rebalance.rs` measures per partition from the group's
/// committed offsets.
#[derive(Debug)]
struct CommitWatch {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl CommitWatch {
    fn start(http: &reqwest::Client, ports: &[u16], sent: Arc<AtomicU64>) -> CommitWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let (stop, samples, http, ports) =
                (Arc::clone(&stop), Arc::clone(&samples), http.clone(), ports.to_vec());
            async move {
                // The last value read from each port; forgotten when the port
                // does not answer, so a restarted instance counts from zero.
                let mut previous: HashMap<u16, f64> = HashMap::new();
                let mut total = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    let next = Instant::now() + WATCH_INTERVAL;
                    for port in &ports {
                        let url = format!("http://127.0.0.1:{port}/metrics");
                        let body = match http.get(&url).timeout(Duration::from_secs(1)).send().await {
                            Ok(response) => response.text().await.ok(),
                            Err(_) => None,
                        };
                        match body.map(|b| Scrape::parse(&b).committed) {
                            Some(now) => {
                                let before = previous.insert(*port, now).unwrap_or(0.0);
                                let gained = if now >= before { now - before } else { now };
                                total += gained as u64;
                            }
                            None => {
                                previous.remove(port);
                            }
                        }
                    }
                    let sample =
                        Sample { at: Instant::now(), committed: total, sent: sent.load(Ordering::Relaxed) };
                    samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(sample);
                    tokio::time::sleep_until(next).await;
                }
            }
        });
        CommitWatch { stop, samples, task: Some(task) }
    }

    fn last(&self) -> Option<Sample> {
        self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).last().cloned()
    }

    async fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl Drop for CommitWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The longest stretch within `[from, to]` without the committed total
/// growing: between consecutive increases, and from `from` to the first and
/// the last to `to`.
fn longest_pause(samples: &[Sample], from: Instant, to: Instant) -> Duration {
    let mut last_move = from;
    let mut longest = Duration::ZERO;
    for pair in samples.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        if after.at < from || after.at > to || after.committed <= before.committed {
            continue;
        }
        longest = longest.max(after.at.saturating_duration_since(last_move));
        last_move = after.at;
    }
    longest.max(to.saturating_duration_since(last_move))
}

/// Per partition, the offset after the last acknowledged record.
fn expected_next(acks: &[AckedRecord]) -> HashMap<i32, i64> {
    let mut next = HashMap::new();
    for a in acks {
        let e = next.entry(a.partition).or_insert(0);
        *e = (*e).max(a.offset + 1);
    }
    next
}

/// Waits until the group committed every acknowledged record (asks the
/// coordinator once a second).
async fn wait_all_committed(
    offsets: &OffsetReader,
    acks: &[AckedRecord],
    instances: &mut [&mut Instance],
) -> Result<Duration, DrillError> {
    let expected = expected_next(acks);
    let started = Instant::now();
    let limit = Duration::from_secs(600);
    loop {
        for instance in instances.iter_mut() {
            instance.alive()?;
        }
        if let Ok(committed) = offsets.fetch().await
            && expected.iter().all(|(p, next)| committed.get(p).is_some_and(|c| c >= next))
        {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            return Err(DrillError::Timeout {
                what: "the group to commit every acknowledged record".into(),
                after: limit,
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Prometheus and the analysis
// ---------------------------------------------------------------------------------------------

/// Per-query timeout (the template's `timeout: 20`, shorter locally).
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the drill looks at the instances' commit counters.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// The value of an instant query: the first sample, `None` when empty.
async fn prom_query(http: &reqwest::Client, base: &str, expr: &str) -> Result<Option<f64>, String> {
    let response: Value = http
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    if response["status"] != "success" {
        return Err(format!("{}: {}", response["errorType"], response["error"]));
    }
    let data = &response["data"];
    let sample = match data["resultType"].as_str() {
        Some("scalar") => &data["result"][1],
        _ => &data["result"][0]["value"][1],
    };
    Ok(sample.as_str().and_then(|v| v.parse::<f64>().ok()))
}

/// When a measurement passes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Condition {
    AtMost(f64),
    Above(f64),
    AtLeast(f64),
}

impl Condition {
    fn judge(self, value: Option<f64>) -> Outcome {
        match value {
            None => Outcome::Error,
            Some(v) if v.is_nan() => Outcome::Error,
            Some(v) => {
                let pass = match self {
                    Condition::AtMost(limit) => v <= limit,
                    Condition::Above(limit) => v > limit,
                    Condition::AtLeast(limit) => v >= limit,
                };
                if pass { Outcome::Pass } else { Outcome::Fail }
            }
        }
    }
}

/// One AnalysisTemplate metric, as a query against the drill's instances.
#[derive(Debug, Clone)]
struct Metric {
    name: &'static str,
    query: String,
    condition: Condition,
}

/// `expr` restricted to the instances whose `porttrack_build_info` carries
/// `version` (the drill's stand-in for `rollouts_pod_template_hash`).
fn side(expr: &str, run: &str, version: &str) -> String {
    format!("({expr} * on (instance) group_left () porttrack_build_info{{{run},version=\"{version}\"}})")
}

fn error_ratio_query(run: &str, version: &str, w: &str) -> String {
    let rejected = side(&format!("rate(porttrack_records_rejected_total{{{run}}}[{w}])"), run, version);
    let permanent =
        side(&format!("rate(porttrack_sink_errors_total{{{run},kind=\"permanent\"}}[{w}])"), run, version);
    let consumed = side(&format!("rate(porttrack_records_consumed_total{{{run}}}[{w}])"), run, version);
    format!("(((sum({rejected}) or vector(0)) + (sum({permanent}) or vector(0))) / sum({consumed}))")
}

/// The template's five metrics for run selector `run` (`drill_run="..."`).
fn metrics(run: &str, o: &AnalysisOptions) -> Vec<Metric> {
    let w = format!("{}s", o.window.as_secs().max(10));
    let lw = format!("{}s", (o.window * 2).as_secs().max(20));
    let dead_letter_ratio = |version: &str| {
        let letters = side(&format!("rate(porttrack_dead_letters_total{{{run}}}[{w}])"), run, version);
        let consumed = side(&format!("rate(porttrack_records_consumed_total{{{run}}}[{w}])"), run, version);
        format!("((sum({letters}) or vector(0)) / sum({consumed}))")
    };
    let p95 = |version: &str| {
        let buckets =
            side(&format!("rate(porttrack_sink_write_duration_seconds_bucket{{{run}}}[{lw}])"), run, version);
        format!("histogram_quantile(0.95, sum by (sink, le) ({buckets}))")
    };
    // Judge only on samples large enough on both sides (Kayenta's and
    // Argo's minimum-sample rule); below that the measurement passes.
    let gated = |comparison: String, counter: &str, window: &str, min: u32| {
        let count = |version: &str| side(&format!("increase({counter}{{{run}}}[{window}])"), run, version);
        format!(
            "(({comparison}) and on () ((sum({}) >= {min}) and on () (sum({}) >= {min}))) or on () vector(0)",
            count("canary"),
            count("stable")
        )
    };
    vec![
        Metric {
            name: "error-ratio",
            query: gated(
                format!(
                    "{} - {}",
                    error_ratio_query(run, "canary", &w),
                    error_ratio_query(run, "stable", &w)
                ),
                "porttrack_records_consumed_total",
                &w,
                o.min_records,
            ),
            condition: Condition::AtMost(o.max_error_ratio_increase),
        },
        Metric {
            name: "dead-letter-ratio",
            query: gated(
                format!("{} - {}", dead_letter_ratio("canary"), dead_letter_ratio("stable")),
                "porttrack_records_consumed_total",
                &w,
                o.min_records,
            ),
            condition: Condition::AtMost(o.max_dead_letter_ratio_increase),
        },
        Metric {
            name: "sink-latency-p95",
            query: gated(
                format!(
                    "max({} - on (sink) ({} * {} + {}))",
                    p95("canary"),
                    p95("stable"),
                    o.max_latency_factor,
                    o.latency_slack_seconds
                ),
                "porttrack_sink_write_duration_seconds_count",
                &lw,
                o.min_latency_samples,
            ),
            condition: Condition::AtMost(0.0),
        },
        Metric {
            name: "canary-commits",
            query: format!(
                "sum({}) or vector(0)",
                side(&format!("rate(porttrack_records_committed_total{{{run}}}[{w}])"), run, "canary")
            ),
            condition: Condition::Above(0.0),
        },
        Metric {
            name: "canary-owns-partitions",
            query: format!(
                "min({}) or vector(0)",
                side(&format!("porttrack_partitions_assigned{{{run}}}"), run, "canary")
            ),
            condition: Condition::AtLeast(1.0),
        },
    ]
}

/// Argo Rollouts' bookkeeping: per metric, failures and consecutive errors.
#[derive(Debug, Clone, Default)]
struct Judge {
    failures: BTreeMap<&'static str, u32>,
    consecutive_errors: BTreeMap<&'static str, u32>,
}

impl Judge {
    /// Records one measurement; returns why the analysis fails, if it now does.
    fn record(&mut self, m: &Measurement, o: &AnalysisOptions) -> Option<String> {
        let errors = self.consecutive_errors.entry(m.metric).or_default();
        match m.outcome {
            Outcome::Pass => *errors = 0,
            Outcome::Error => {
                *errors += 1;
                if *errors > o.consecutive_error_limit {
                    return Some(format!("{}: {} consecutive measurements without data", m.metric, *errors));
                }
            }
            Outcome::Fail => {
                *errors = 0;
                let failures = self.failures.entry(m.metric).or_default();
                *failures += 1;
                if *failures > o.failure_limit {
                    return Some(format!("{}: failed {} times", m.metric, *failures));
                }
            }
        }
        None
    }
}

/// Runs the analysis, its initial delay counted from `clock`, checking the
/// instances stay alive; measurement times are since `canary_started`.
async fn analyse(
    run: &Run,
    o: &AnalysisOptions,
    canary: &mut Instance,
    stable: &mut [Instance],
    canary_started: Instant,
    clock: Instant,
) -> Result<(Decision, Vec<Measurement>), DrillError> {
    let metrics = metrics(&run.selector(), o);
    let mut judge = Judge::default();
    let mut measurements = Vec::new();
    let mut next = clock + o.initial_delay;
    for _ in 0..o.count {
        while Instant::now() < next {
            for s in stable.iter_mut() {
                s.alive()?;
            }
            if let Err(e) = canary.alive() {
                // A crashing canary is the plainest reason to abort.
                let reason = format!("the canary died: {e}");
                return Ok((Decision::Abort { metrics: vec!["canary-alive".into()], reason }, measurements));
            }
            tokio::time::sleep(Duration::from_millis(250).min(next - Instant::now())).await;
        }
        let mut failed = Vec::new();
        for metric in &metrics {
            let value = match prom_query(&run.http, &run.env.prometheus_url, &metric.query).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(metric = metric.name, error = %e, "analysis query failed");
                    None
                }
            };
            let m = Measurement {
                at: canary_started.elapsed(),
                metric: metric.name,
                value,
                outcome: metric.condition.judge(value),
            };
            if let Some(reason) = judge.record(&m, o) {
                let shown = value.map_or_else(|| "no data".to_owned(), |v| format!("{v:.4}"));
                failed.push((metric.name.to_owned(), format!("{reason} (last value {shown})")));
            }
            measurements.push(m);
        }
        if !failed.is_empty() {
            let (metrics, reasons): (Vec<String>, Vec<String>) = failed.into_iter().unzip();
            return Ok((Decision::Abort { metrics, reason: reasons.join("; ") }, measurements));
        }
        next += o.interval;
    }
    Ok((Decision::Promote, measurements))
}

// ---------------------------------------------------------------------------------------------
// The drills
// ---------------------------------------------------------------------------------------------

/// The canary drill: see the module documentation.
pub async fn canary(env: &DrillEnv, options: &CanaryOptions) -> Result<CanaryReport, DrillError> {
    let run = Run::create(env, "canary", options.load.partitions).await?;
    let result = canary_in(&run, options).await;
    run.cleanup(options.keep || result.is_err()).await;
    result
}

async fn canary_in(run: &Run, options: &CanaryOptions) -> Result<CanaryReport, DrillError> {
    let stable_ports: Vec<u16> = (0..options.stable.max(1)).map(|_| free_port()).collect::<Result<_, _>>()?;
    let canary_port = free_port()?;
    run.write_targets(&[stable_ports.as_slice(), &[canary_port]].concat())?;

    let mut stable: Vec<Instance> = stable_ports
        .iter()
        .enumerate()
        .map(|(i, port)| run.spawn(&format!("stable-{}", i + 1), *port, "stable", 0.0))
        .collect::<Result<_, _>>()?;
    let load = run.load(&options.load);
    let watch = CommitWatch::start(&run.http, &stable_ports, Arc::clone(&load.sent));
    let offsets = OffsetReader::new(run)?;
    let partitions = f64::from(run.partitions);
    let took = wait_group_consuming(&mut stable, partitions).await?;
    tracing::info!(run = %run.name, took = ?took, "stable instances consuming; starting the canary");

    // The canary joins the group as a new pod of the next version would.
    let canary_started = Instant::now();
    let mut canary = run.spawn("canary", canary_port, "canary", options.fault_ratio)?;
    // The analysis clock starts once the canary does work (or after
    // `join_timeout`, and then canary-commits fails it): Argo's initial delay
    // exists to let the rebalance settle.
    let mut consuming = None;
    while canary_started.elapsed() < options.join_timeout {
        canary.alive()?;
        let s = canary.scrape().await;
        if s.assigned >= 1.0 && s.committed > 0.0 {
            consuming = Some(canary_started.elapsed());
            break;
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
    tracing::info!(?consuming, "canary consuming; analysis starts");
    let (decision, measurements) =
        analyse(run, &options.analysis, &mut canary, &mut stable, canary_started, Instant::now()).await?;
    let time_to_decision = canary_started.elapsed();
    tracing::info!(?decision, ?time_to_decision, "analysis decided; stopping the canary");
    let canary_error_ratio = prom_query(
        &run.http,
        &run.env.prometheus_url,
        &error_ratio_query(&run.selector(), "canary", &window(&options.analysis)),
    )
    .await
    .ok()
    .flatten();
    let stable_error_ratio = prom_query(
        &run.http,
        &run.env.prometheus_url,
        &error_ratio_query(&run.selector(), "stable", &window(&options.analysis)),
    )
    .await
    .ok()
    .flatten();

    // Abort (or, for a healthy canary, the end of the drill): SIGTERM, as
    // Argo scaling the canary ReplicaSet down does.
    let before = canary.scrape().await;
    let sigterm = Instant::now();
    let canary_stop = canary.terminate().await?;
    // Partitions back: the stable instances own all of them again; resumed:
    // and they committed records after that (the watch only sees stable now).
    let stable_refs: Vec<&Instance> = stable.iter().collect();
    let mut reassigned_after = None;
    let mut resumed_after = None;
    let mut committed_at_reassignment = 0;
    while sigterm.elapsed() < Duration::from_secs(90) && resumed_after.is_none() {
        let committed = watch.last().map_or(0, |s| s.committed);
        if reassigned_after.is_none() && group_state(&stable_refs).await.0 >= partitions {
            reassigned_after = Some(sigterm.elapsed());
            committed_at_reassignment = committed;
        } else if reassigned_after.is_some() && committed > committed_at_reassignment {
            resumed_after = Some(sigterm.elapsed());
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
    drop(stable_refs);
    tracing::info!(?canary_stop, ?reassigned_after, ?resumed_after, "canary stopped");

    // A few more seconds of load on stable alone, then stop it and let
    // stable commit everything.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let report = load.finish().await?;
    tracing::info!(acked = report.acks.len(), "load stopped; waiting for the group to commit everything");
    let mut alive: Vec<&mut Instance> = stable.iter_mut().collect();
    wait_all_committed(&offsets, &report.acks, &mut alive).await?;
    drop(watch.finish().await);
    let mut stable_survived = true;
    for s in &mut stable {
        stable_survived &= s.terminate().await.is_ok();
    }
    tracing::info!("stable stopped; checking the stores");
    let check = run.verify(&report).await?;
    Ok(CanaryReport {
        run: run.name.clone(),
        dir: run.dir.clone(),
        decision,
        measurements,
        time_to_decision,
        decision_bound: options.join_timeout + options.analysis.bound(),
        canary_consuming_after: consuming,
        canary_committed: before.committed as u64,
        canary_fault_injected: before.fault_injected as u64,
        canary_error_ratio,
        stable_error_ratio,
        canary_stop,
        reassigned_after,
        resumed_after,
        stable_survived,
        produce_failed: report.failed,
        check,
    })
}

fn window(o: &AnalysisOptions) -> String {
    format!("{}s", o.window.as_secs().max(10))
}

/// Waits until `instances` together own every partition, each owns one, and
/// they have committed records.
async fn wait_group_consuming(instances: &mut [Instance], partitions: f64) -> Result<Duration, DrillError> {
    let started = Instant::now();
    let limit = Duration::from_secs(180);
    loop {
        for i in instances.iter_mut() {
            i.alive()?;
        }
        let refs: Vec<&Instance> = instances.iter().collect();
        let (assigned, committed, everyone) = group_state(&refs).await;
        if assigned >= partitions && everyone && committed > 0.0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            return Err(DrillError::Timeout {
                what: format!("{} instances to share {partitions} partitions and commit", instances.len()),
                after: limit,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The rolling-restart drill: see the module documentation.
pub async fn rolling_restart(env: &DrillEnv, options: &RollingOptions) -> Result<RollingReport, DrillError> {
    let run = Run::create(env, "rolling", options.load.partitions).await?;
    let result = rolling_in(&run, options).await;
    run.cleanup(options.keep || result.is_err()).await;
    result
}

async fn rolling_in(run: &Run, options: &RollingOptions) -> Result<RollingReport, DrillError> {
    let ports: Vec<u16> = (0..options.instances.max(1)).map(|_| free_port()).collect::<Result<_, _>>()?;
    run.write_targets(&ports)?;
    let mut instances: Vec<Instance> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| run.spawn(&format!("instance-{}", i + 1), *port, "stable", 0.0))
        .collect::<Result<_, _>>()?;
    let load_started = Utc::now();
    let load = run.load(&options.load);
    let watch = CommitWatch::start(&run.http, &ports, Arc::clone(&load.sent));
    let offsets = OffsetReader::new(run)?;
    let partitions = f64::from(run.partitions);
    let took = wait_group_consuming(&mut instances, partitions).await?;
    tracing::info!(run = %run.name, took = ?took, "instances consuming");
    let consuming = Instant::now();
    tokio::time::sleep(options.settle).await;

    let restarts_began = Instant::now();
    let mut restarts = Vec::new();
    for i in 0..instances.len() {
        let stop = instances[i].terminate().await?;
        let (label, port) = (instances[i].label.clone(), instances[i].port);
        let exited = Instant::now();
        instances[i] = run.spawn(&label, port, "stable", 0.0)?;
        // Ready (partitions assigned, sinks fine) and committing again: its
        // own counter restarts at zero, so any commit is a new one.
        let limit = Duration::from_secs(180);
        loop {
            for other in instances.iter_mut() {
                other.alive()?;
            }
            let me = &instances[i];
            if me.ready().await && me.scrape().await.committed > 0.0 {
                break;
            }
            if exited.elapsed() > limit {
                return Err(DrillError::Timeout {
                    what: format!("{label} to be ready and committing"),
                    after: limit,
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let restart = Restart { label, stop, ready: exited.elapsed() };
        tracing::info!(?restart, "restarted");
        restarts.push(restart);
        tokio::time::sleep(if i + 1 < instances.len() { options.between } else { options.settle }).await;
    }

    let load_stopped = Instant::now();
    let report = load.finish().await?;
    let load_ended = Utc::now();
    tracing::info!(acked = report.acks.len(), "load stopped; waiting for the group to commit everything");
    let mut alive: Vec<&mut Instance> = instances.iter_mut().collect();
    wait_all_committed(&offsets, &report.acks, &mut alive).await?;
    let samples = watch.finish().await;
    for i in &mut instances {
        i.terminate().await?;
    }
    tracing::info!("instances stopped; checking the stores");

    let longest = longest_pause(&samples, restarts_began, load_stopped);
    let baseline = longest_pause(&samples, consuming, restarts_began);
    let max_commit_lag = samples
        .iter()
        .filter(|s| s.at <= load_stopped)
        .map(|s| s.sent.saturating_sub(s.committed))
        .max()
        .unwrap_or(0);
    let max_consumer_lag = max_prometheus_lag(run, load_started, load_ended).await;
    let check = run.verify(&report).await?;
    Ok(RollingReport {
        run: run.name.clone(),
        dir: run.dir.clone(),
        restarts,
        longest_pause: longest,
        baseline_pause: baseline,
        max_commit_lag,
        max_consumer_lag,
        produce_failed: report.failed,
        check,
    })
}

/// The largest total consumer lag Prometheus saw during the load (per
/// partition the largest gauge across instances, summed over partitions).
async fn max_prometheus_lag(run: &Run, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
    let seconds = (to - from).num_seconds().max(10);
    let expr = format!(
        "max_over_time((sum(max by (partition) (porttrack_consumer_lag_records{{{}}})))[{seconds}s:5s])",
        run.selector()
    );
    // Let Prometheus scrape the last seconds of the load first.
    tokio::time::sleep(Duration::from_secs(6)).await;
    prom_query(&run.http, &run.env.prometheus_url, &expr).await.ok().flatten()
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/// A `positions` row's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredPosition {
    /// `source_partition`.
    pub partition: i32,
    /// `source_offset`.
    pub offset: i64,
    /// `source_index` (0 for JSON positions).
    pub index: i16,
}

/// A `vessel_state` row's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VesselStateRow {
    /// The vessel.
    pub mmsi: u32,
    /// `source_partition` of the position it holds.
    pub partition: i32,
    /// `source_offset` of the position it holds.
    pub offset: i64,
}

/// A dead letter's identity and class, from its headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterSeen {
    /// `porttrack.source.topic`.
    pub topic: String,
    /// `porttrack.source.partition`.
    pub partition: i32,
    /// `porttrack.source.offset`.
    pub offset: i64,
    /// `porttrack.error.class`.
    pub class: String,
}

/// What was read back after a drill.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The positions topic.
    pub topic: String,
    /// The group's committed offsets per partition.
    pub committed: HashMap<i32, i64>,
    /// Elasticsearch document ids of the run's positions indices.
    pub es_ids: Vec<String>,
    /// Postgres `positions` rows of the topic.
    pub positions: Vec<StoredPosition>,
    /// Postgres `vessel_state`.
    pub vessel_state: Vec<VesselStateRow>,
    /// Everything on the dead-letter topic.
    pub dead_letters: Vec<DeadLetterSeen>,
}

/// A vessel's newest stored event time and the records (coordinates) that have it.
type Newest = (DateTime<Utc>, Vec<(i32, i64)>);

/// The Jepsen-style check of `observed` against the producer's `acks` (the
/// rules are in the module documentation).
pub fn check(acks: &[AckedRecord], observed: &Observed) -> CheckReport {
    let mut r = CheckReport { produced: acks.len() as u64, ..CheckReport::default() };
    let fault = RejectClass::FaultInjected.as_str();

    // Counts per coordinate in each place.
    let mut in_pg: HashMap<(i32, i64), u32> = HashMap::new();
    for p in &observed.positions {
        *in_pg.entry((p.partition, p.offset)).or_default() += 1;
        if p.index != 0 {
            r.misplaced += 1;
            r.problem(|| format!("positions row {p:?} has a source_index"));
        }
    }
    let mut in_es: HashMap<&str, u32> = HashMap::new();
    for id in &observed.es_ids {
        *in_es.entry(id.as_str()).or_default() += 1;
    }
    let mut letters: HashMap<(i32, i64), BTreeMap<&str, u32>> = HashMap::new();
    for l in &observed.dead_letters {
        if l.topic != observed.topic {
            r.misplaced += 1;
            r.problem(|| format!("dead letter from another topic: {l:?}"));
            continue;
        }
        *letters.entry((l.partition, l.offset)).or_default().entry(l.class.as_str()).or_default() += 1;
    }

    let mut acked: BTreeSet<(i32, i64)> = BTreeSet::new();
    let mut acked_ids: HashSet<String> = HashSet::new();
    // Per vessel: the newest stored event time and the coordinates holding it.
    let mut newest: HashMap<u32, Newest> = HashMap::new();
    for a in acks {
        let coord = (a.partition, a.offset);
        if !acked.insert(coord) {
            r.duplicated += 1;
            r.problem(|| format!("the producer was acknowledged {coord:?} twice"));
            continue;
        }
        let id = Origin::new(&*observed.topic, a.partition, a.offset).document_id();
        acked_ids.insert(id.clone());
        let pg = in_pg.get(&coord).copied().unwrap_or(0);
        let es = in_es.get(id.as_str()).copied().unwrap_or(0);
        let classes = letters.get(&coord);
        if pg > 1 || es > 1 {
            r.duplicated += 1;
            r.problem(|| format!("{id}: {pg} Postgres rows, {es} documents"));
        }
        if let Some(classes) = classes {
            let written: u32 = classes.values().sum();
            r.dead_letter_redeliveries += u64::from(written.saturating_sub(1));
            for class in classes.keys() {
                *r.dead_lettered.entry((*class).to_owned()).or_default() += 1;
            }
        }
        match &a.expect {
            Expect::Valid(position) => {
                r.valid += 1;
                let faulted = classes.is_some_and(|c| c.contains_key(fault));
                let other_class = classes.is_some_and(|c| c.keys().any(|k| *k != fault));
                if other_class {
                    r.misplaced += 1;
                    r.problem(|| format!("{id}: valid but dead-lettered as {classes:?}"));
                }
                match (pg > 0, es > 0) {
                    (true, true) => {
                        r.stored += 1;
                        if faulted {
                            r.fault_injected_then_stored += 1;
                        }
                        let e = newest.entry(position.mmsi).or_insert((position.timestamp, Vec::new()));
                        if position.timestamp > e.0 {
                            *e = (position.timestamp, Vec::new());
                        }
                        if position.timestamp == e.0 {
                            e.1.push(coord);
                        }
                    }
                    (false, false) if faulted => {}
                    (false, false) if !other_class => {
                        r.lost += 1;
                        r.problem(|| format!("{id}: valid, acknowledged, found nowhere"));
                    }
                    (false, false) => {}
                    (in_pg, in_es) => {
                        r.misplaced += 1;
                        r.problem(|| format!("{id}: in Postgres {in_pg}, in Elasticsearch {in_es}"));
                    }
                }
            }
            Expect::Invalid(class) => {
                r.invalid += 1;
                if pg > 0 || es > 0 {
                    r.misplaced += 1;
                    r.problem(|| format!("{id}: invalid ({}) but stored", class.as_str()));
                }
                match classes {
                    None => {
                        r.lost += 1;
                        r.problem(|| format!("{id}: invalid ({}), not dead-lettered", class.as_str()));
                    }
                    Some(c) if c.len() == 1 && c.contains_key(class.as_str()) => {}
                    Some(c) => {
                        r.misplaced += 1;
                        r.problem(|| format!("{id}: invalid ({}), dead-lettered as {c:?}", class.as_str()));
                    }
                }
            }
            Expect::Static | Expect::Other => {}
        }
    }

    // Anything stored or dead-lettered that was never acknowledged.
    for coord in in_pg.keys().filter(|c| !acked.contains(c)) {
        r.duplicated += 1;
        r.problem(|| format!("Postgres row {coord:?} was never acknowledged"));
    }
    // (Documents of acknowledged records were judged above.)
    for id in in_es.keys().filter(|id| !acked_ids.contains(**id)) {
        r.duplicated += 1;
        r.problem(|| format!("document {id} was never acknowledged"));
    }
    for coord in letters.keys().filter(|c| !acked.contains(c)) {
        r.misplaced += 1;
        r.problem(|| format!("dead letter for {coord:?}, never acknowledged"));
    }

    // vessel_state: one row per vessel with stored positions, holding one of its newest.
    let mut seen_vessels = BTreeSet::new();
    for row in &observed.vessel_state {
        seen_vessels.insert(row.mmsi);
        let ok =
            newest.get(&row.mmsi).is_some_and(|(_, coords)| coords.contains(&(row.partition, row.offset)));
        if !ok {
            r.vessel_state_mismatches += 1;
            r.problem(|| format!("vessel_state of {} holds {:?}", row.mmsi, (row.partition, row.offset)));
        }
    }
    for mmsi in newest.keys().filter(|m| !seen_vessels.contains(*m)) {
        r.vessel_state_mismatches += 1;
        r.problem(|| format!("vessel {mmsi} has stored positions but no vessel_state row"));
    }

    for (partition, next) in expected_next(acks) {
        let committed = observed.committed.get(&partition).copied().unwrap_or(-1);
        if committed < next {
            r.uncommitted_partitions += 1;
            r.problem(|| format!("partition {partition}: committed {committed}, acknowledged up to {next}"));
        }
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use porttrack_schemas::Position;

    const TOPIC: &str = "t";

    fn position(mmsi: u32, secs: i64) -> Position {
        Position {
            mmsi,
            timestamp: DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
            lat: 51.9,
            lon: 4.1,
            sog: None,
            cog: None,
            heading: None,
            nav_status: None,
        }
    }

    fn valid(partition: i32, offset: i64, mmsi: u32, secs: i64) -> AckedRecord {
        AckedRecord { partition, offset, expect: Expect::Valid(position(mmsi, secs)) }
    }

    fn invalid(partition: i32, offset: i64) -> AckedRecord {
        AckedRecord { partition, offset, expect: Expect::Invalid(RejectClass::MmsiInvalid) }
    }

    fn letter(partition: i32, offset: i64, class: &str) -> DeadLetterSeen {
        DeadLetterSeen { topic: TOPIC.into(), partition, offset, class: class.into() }
    }

    fn store(o: &mut Observed, partition: i32, offset: i64) {
        o.positions.push(StoredPosition { partition, offset, index: 0 });
        o.es_ids.push(Origin::new(TOPIC, partition, offset).document_id());
    }

    /// Three valid records of two vessels, one invalid, one fault-injected:
    /// everything where it belongs.
    fn world() -> (Vec<AckedRecord>, Observed) {
        let acks = vec![
            valid(0, 0, 244_000_001, 1),
            valid(0, 1, 244_000_001, 2),
            invalid(0, 2),
            valid(1, 0, 244_000_002, 1),
            valid(1, 1, 244_000_002, 5),
        ];
        let mut o = Observed { topic: TOPIC.into(), ..Observed::default() };
        store(&mut o, 0, 0);
        store(&mut o, 0, 1);
        store(&mut o, 1, 0);
        o.dead_letters.push(letter(0, 2, "mmsi_invalid"));
        o.dead_letters.push(letter(1, 1, "fault_injected"));
        o.vessel_state = vec![
            VesselStateRow { mmsi: 244_000_001, partition: 0, offset: 1 },
            VesselStateRow { mmsi: 244_000_002, partition: 1, offset: 0 },
        ];
        o.committed = HashMap::from([(0, 3), (1, 2)]);
        (acks, o)
    }

    #[test]
    fn everything_in_its_place_is_clean() {
        let (acks, o) = world();
        let r = check(&acks, &o);
        assert!(r.is_clean(), "{r}");
        assert_eq!((r.produced, r.valid, r.invalid, r.stored), (5, 4, 1, 3));
        assert_eq!(
            r.dead_lettered,
            BTreeMap::from([("fault_injected".into(), 1), ("mmsi_invalid".into(), 1)])
        );
    }

    #[test]
    fn a_missing_record_is_lost() {
        let (acks, mut o) = world();
        o.positions.retain(|p| p.offset != 0 || p.partition != 0);
        o.es_ids.retain(|id| id != "t-0-0");
        let r = check(&acks, &o);
        assert_eq!(r.lost, 1, "{r}");
        assert!(!r.is_clean());
    }

    #[test]
    fn a_record_in_one_store_only_is_misplaced() {
        let (acks, mut o) = world();
        o.es_ids.retain(|id| id != "t-0-0");
        assert_eq!(check(&acks, &o).misplaced, 1);
    }

    #[test]
    fn a_document_or_row_twice_is_a_duplicate() {
        let (acks, mut o) = world();
        o.es_ids.push("t-1-0".into());
        o.positions.push(StoredPosition { partition: 0, offset: 1, index: 0 });
        assert_eq!(check(&acks, &o).duplicated, 2);
    }

    #[test]
    fn something_never_acknowledged_is_a_duplicate() {
        let (acks, mut o) = world();
        store(&mut o, 3, 9);
        assert_eq!(check(&acks, &o).duplicated, 2, "one row and one document");
    }

    #[test]
    fn the_wrong_class_is_misplaced() {
        let (acks, mut o) = world();
        o.dead_letters[0].class = "malformed_json".into();
        let r = check(&acks, &o);
        assert_eq!(r.misplaced, 1, "{r}");
        // A valid record dead-lettered for anything but fault injection, too.
        let (acks, mut o) = world();
        o.dead_letters[1].class = "sink_rejected".into();
        assert_eq!(check(&acks, &o).misplaced, 1);
    }

    #[test]
    fn an_invalid_record_stored_is_misplaced_and_one_not_dead_lettered_is_lost() {
        let (acks, mut o) = world();
        store(&mut o, 0, 2);
        assert_eq!(check(&acks, &o).misplaced, 1);
        let (acks, mut o) = world();
        o.dead_letters.remove(0);
        assert_eq!(check(&acks, &o).lost, 1);
    }

    #[test]
    fn fault_injected_then_stored_on_redelivery_is_counted_not_failed() {
        let (acks, mut o) = world();
        store(&mut o, 1, 1);
        o.vessel_state[1].offset = 1;
        let r = check(&acks, &o);
        assert!(r.is_clean(), "{r}");
        assert_eq!(r.fault_injected_then_stored, 1);
    }

    #[test]
    fn dead_letters_twice_are_counted_not_failed() {
        let (acks, mut o) = world();
        o.dead_letters.push(letter(0, 2, "mmsi_invalid"));
        let r = check(&acks, &o);
        assert!(r.is_clean(), "{r}");
        assert_eq!(r.dead_letter_redeliveries, 1);
    }

    #[test]
    fn a_stale_vessel_state_and_an_uncommitted_partition_fail() {
        let (acks, mut o) = world();
        o.vessel_state[0].offset = 0;
        assert_eq!(check(&acks, &o).vessel_state_mismatches, 1);
        let (acks, mut o) = world();
        o.committed.insert(1, 1);
        assert_eq!(check(&acks, &o).uncommitted_partitions, 1);
    }

    #[test]
    fn the_judge_aborts_on_the_second_failure_and_the_third_consecutive_error() {
        let o = AnalysisOptions::default();
        let m = |outcome| Measurement { at: Duration::ZERO, metric: "error-ratio", value: None, outcome };
        let mut judge = Judge::default();
        assert_eq!(judge.record(&m(Outcome::Fail), &o), None);
        assert_eq!(judge.record(&m(Outcome::Pass), &o), None);
        assert!(judge.record(&m(Outcome::Fail), &o).is_some());

        let mut judge = Judge::default();
        assert_eq!(judge.record(&m(Outcome::Error), &o), None);
        assert_eq!(judge.record(&m(Outcome::Error), &o), None);
        assert_eq!(judge.record(&m(Outcome::Pass), &o), None, "a pass resets the error streak");
        assert_eq!(judge.record(&m(Outcome::Error), &o), None);
        assert_eq!(judge.record(&m(Outcome::Error), &o), None);
        assert!(judge.record(&m(Outcome::Error), &o).is_some());
    }

    #[test]
    fn conditions_treat_no_data_and_nan_as_errors() {
        assert_eq!(Condition::AtMost(0.005).judge(Some(0.2)), Outcome::Fail);
        assert_eq!(Condition::AtMost(0.005).judge(Some(-0.001)), Outcome::Pass);
        assert_eq!(Condition::Above(0.0).judge(Some(0.0)), Outcome::Fail);
        assert_eq!(Condition::AtLeast(1.0).judge(Some(1.0)), Outcome::Pass);
        assert_eq!(Condition::AtMost(0.0).judge(Some(f64::NAN)), Outcome::Error);
        assert_eq!(Condition::AtMost(0.0).judge(None), Outcome::Error);
    }

    #[test]
    fn queries_join_on_build_info_for_each_side() {
        let all = metrics("drill_run=\"r\"", &AnalysisOptions::default());
        let names: Vec<&str> = all.iter().map(|m| m.name).collect();
        assert_eq!(
            names,
            [
                "error-ratio",
                "dead-letter-ratio",
                "sink-latency-p95",
                "canary-commits",
                "canary-owns-partitions"
            ]
        );
        let error = &all[0].query;
        assert!(error.contains("porttrack_build_info{drill_run=\"r\",version=\"canary\"}"), "{error}");
        assert!(error.contains("porttrack_build_info{drill_run=\"r\",version=\"stable\"}"), "{error}");
        assert!(error.contains("kind=\"permanent\""));
        assert!(error.contains("[30s]"));
        assert!(all[2].query.contains("[60s]"), "latency uses the longer window");
        // Parentheses balance (a cheap guard against a malformed expression).
        for m in &all {
            let depth = m.query.chars().try_fold(0_i32, |d, c| match c {
                '(' => Some(d + 1),
                ')' => (d > 0).then(|| d - 1),
                _ => Some(d),
            });
            assert_eq!(depth, Some(0), "{}", m.query);
        }
    }

    #[test]
    fn the_targets_dir_comes_from_the_running_configuration() {
        let yaml = "scrape_configs:\n- job_name: porttrack\n  static_configs:\n  - targets:\n    - 127.0.0.1:9464\n\
                    - job_name: porttrack-drill\n  file_sd_configs:\n  - files:\n    - /repo/deploy/local/drill/targets/*.json\n\
                    \x20   refresh_interval: 5s\n- job_name: prometheus\n";
        assert_eq!(drill_targets_dir(yaml), Some(PathBuf::from("/repo/deploy/local/drill/targets")));
        assert_eq!(drill_targets_dir("scrape_configs:\n- job_name: porttrack\n"), None);
    }

    #[test]
    fn scrape_reads_unlabelled_samples() {
        let text = "# HELP porttrack_partitions_assigned x\nporttrack_partitions_assigned 2\n\
                    porttrack_records_committed_total 1234\nporttrack_records_committed_totalx 9\n";
        let s = Scrape::parse(text);
        assert_eq!((s.assigned, s.committed, s.fault_injected), (2.0, 1234.0, 0.0));
    }

    #[test]
    fn longest_pause_spans_the_quietest_stretch() {
        let t0 = Instant::now();
        let at = |ms: u64, committed: u64| Sample { at: t0 + Duration::from_millis(ms), committed, sent: 0 };
        let samples =
            vec![at(0, 0), at(250, 10), at(500, 10), at(750, 10), at(1000, 10), at(1250, 20), at(1500, 30)];
        let pause = longest_pause(&samples, t0, t0 + Duration::from_millis(1600));
        assert_eq!(pause, Duration::from_millis(1000));
        // A tail without commits counts up to the end of the window.
        let pause = longest_pause(&samples, t0, t0 + Duration::from_millis(3000));
        assert_eq!(pause, Duration::from_millis(1500));
    }
}
