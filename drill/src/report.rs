//! What a drill reports: the analysis' [`Decision`] and [`Measurement`]s,
//! the check's [`CheckReport`], and each drill's report ([`CanaryReport`],
//! [`RollingReport`], [`ChaosReport`] with its [`Fault`]s and
//! [`DerivedComparison`]s), all printable as the command shows them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

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

/// What [`check`](crate::check()) found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    /// Acknowledged records.
    pub produced: u64,
    /// Acknowledged records per stream (`positions`, `static`, `nmea`, …).
    pub produced_by_stream: BTreeMap<String, u64>,
    /// Of which valid events.
    pub valid: u64,
    /// Of which invalid on purpose.
    pub invalid: u64,
    /// Of which first fragments of two-sentence NMEA messages (stored with
    /// the record completing them).
    pub fragments: u64,
    /// Valid events found where they belong, once: Postgres (positions by
    /// their coordinates, weather, cargo and operations by their natural
    /// keys; static data merged into `vessels`) and the search engine (by
    /// their coordinates).
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
    /// Vessels whose `vessel_state` row is not one of their newest stored
    /// positions, or whose `vessels` row is not as of their newest static report.
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

    /// Keeps the first few problems as examples.
    pub(crate) fn problem(&mut self, example: impl FnOnce() -> String) {
        if self.examples.len() < 10 {
            self.examples.push(example());
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  records produced (acked)  {} ({} valid, {} invalid, {} first fragments)",
            self.produced, self.valid, self.invalid, self.fragments
        )?;
        if self.produced_by_stream.len() > 1 {
            let kinds: Vec<String> =
                self.produced_by_stream.iter().map(|(k, n)| format!("{k} {n}")).collect();
            writeln!(f, "  by kind                   {}", kinds.join(", "))?;
        }
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
        writeln!(f, "  vessel_state/vessels mismatches {}", self.vessel_state_mismatches)?;
        writeln!(f, "  partitions not committed  {}", self.uncommitted_partitions)?;
        for e in &self.examples {
            writeln!(f, "    e.g. {e}")?;
        }
        write!(f, "  verdict                   {}", if self.is_clean() { "CLEAN" } else { "FAILED" })
    }
}

/// What [`canary`](crate::canary()) measured.
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

/// One instance's restart in [`rolling_restart`](crate::rolling_restart).
#[derive(Debug, Clone, PartialEq)]
pub struct Restart {
    /// The instance.
    pub label: String,
    /// SIGTERM → exit.
    pub stop: Duration,
    /// Exit → ready (`/readyz` 200) and committing again.
    pub ready: Duration,
}

/// What [`rolling_restart`](crate::rolling_restart) measured.
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

/// What a [`Fault`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// An instance SIGKILLed and started again.
    InstanceKill,
    /// The Kafka broker SIGKILLed and restarted by `deploy/local/up`.
    BrokerKill,
    /// Postgres shut down immediately (SIGQUIT to the postmaster, which is
    /// what `pg_ctl stop -m immediate` sends), restarted by `deploy/local/up`.
    PostgresStop,
    /// The search engine frozen with SIGSTOP, then resumed with SIGCONT
    /// (its connections stay open and unanswered, as a hung node's do).
    SearchStop,
    /// The drill's Postgres proxy dropped every connection (mid-transaction
    /// for the batches being written) and refused new ones for a moment.
    PostgresCut,
    /// Extra instances joining and leaving the group every 5 s.
    RebalanceStorm,
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FaultKind::InstanceKill => "instance SIGKILL",
            FaultKind::BrokerKill => "broker SIGKILL",
            FaultKind::PostgresStop => "postgres stop",
            FaultKind::SearchStop => "search SIGSTOP",
            FaultKind::PostgresCut => "postgres cut",
            FaultKind::RebalanceStorm => "rebalance storm",
        })
    }
}

/// One fault [`chaos`](crate::chaos()) injected.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// What it was.
    pub kind: FaultKind,
    /// What it hit (an instance's label, a service).
    pub target: String,
    /// Since the load started.
    pub started: Duration,
    /// Since the load started: when it was over (the instance restarted, the
    /// service answering again, the proxy relaying again).
    pub ended: Duration,
    /// How it went (restart times, ...).
    pub detail: String,
    /// Fault end → the group's committed count growing again (None: it did
    /// not grow again before the load stopped).
    pub recovered: Option<Duration>,
}

/// One derived table of the chaos run against the clean run's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DerivedComparison {
    /// The table.
    pub table: String,
    /// Rows compared in the chaos run's database.
    pub chaos_rows: u64,
    /// Rows in the clean run's.
    pub clean_rows: u64,
    /// Keys only the chaos run has.
    pub only_chaos: u64,
    /// Keys only the clean run has.
    pub only_clean: u64,
    /// Keys in both with different columns.
    pub differing: u64,
    /// The first few differences.
    pub examples: Vec<String>,
}

impl DerivedComparison {
    /// Both runs hold the same rows.
    pub fn is_equal(&self) -> bool {
        self.only_chaos == 0 && self.only_clean == 0 && self.differing == 0
    }
}

/// What [`chaos`](crate::chaos()) measured.
#[derive(Debug, Clone)]
pub struct ChaosReport {
    /// The chaos run's name.
    pub run: String,
    /// Where its configuration, instance logs and `up` logs are.
    pub dir: PathBuf,
    /// The clean run's name (one instance, no faults, the same topic).
    pub clean_run: String,
    /// Every fault, in the order they started.
    pub faults: Vec<Fault>,
    /// Instance kills skipped because a Postgres fault was near (see the
    /// crate documentation: partitions must not move while the checkpoint
    /// store is unreachable, or the derived outputs legitimately differ).
    pub kills_held: u64,
    /// Instances that exited without being killed (label and log tail);
    /// each was started again.
    pub unexpected_exits: Vec<String>,
    /// The longest interval without the group's committed count growing,
    /// from the first fault to the end of the load (polled every 250 ms).
    pub longest_pause: Duration,
    /// The largest `records sent − records committed` seen by the drill's poller.
    pub max_commit_lag: u64,
    /// The simulator's delivery failures (not part of the check).
    pub produce_failed: u64,
    /// Load stopped → the group committed every acknowledged record.
    pub drain: Duration,
    /// The clean instance's start → it committed every acknowledged record.
    pub clean_catch_up: Duration,
    /// The Jepsen-style check of the chaos run.
    pub check: CheckReport,
    /// The derived tables of the chaos run against the clean run's.
    pub derived: Vec<DerivedComparison>,
}

impl ChaosReport {
    /// A clean check and every derived table equal to the clean run's.
    pub fn is_clean(&self) -> bool {
        self.check.is_clean() && self.derived.iter().all(DerivedComparison::is_equal)
    }
}

impl fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |d: Duration| format!("{:.1}s", d.as_secs_f64());
        writeln!(f, "chaos drill {} (logs in {})", self.run, self.dir.display())?;
        writeln!(f, "  faults ({}):", self.faults.len())?;
        for x in &self.faults {
            writeln!(
                f,
                "    t+{:>6} .. t+{:>6} {:<16} {:<14} recovered {:>7}  {}",
                secs(x.started),
                secs(x.ended),
                x.kind.to_string(),
                x.target,
                x.recovered.map_or_else(|| "never".to_owned(), secs),
                x.detail
            )?;
        }
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for x in &self.faults {
            *counts.entry(x.kind.to_string()).or_default() += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        writeln!(f, "  faults injected           {}", counts.join(", "))?;
        let worst = self.faults.iter().filter_map(|x| x.recovered).max();
        writeln!(f, "  slowest recovery          {}", worst.map_or_else(|| "n/a".to_owned(), secs))?;
        writeln!(f, "  instance kills held back  {} (Postgres fault near)", self.kills_held)?;
        writeln!(f, "  unexpected exits          {}", self.unexpected_exits.len())?;
        for e in &self.unexpected_exits {
            writeln!(f, "    {e}")?;
        }
        writeln!(f, "  longest commit pause      {}", secs(self.longest_pause))?;
        writeln!(f, "  max lag (sent − committed) {} records", self.max_commit_lag)?;
        writeln!(f, "  all committed after load  {}", secs(self.drain))?;
        writeln!(f, "  producer delivery failures {}", self.produce_failed)?;
        writeln!(f, "{}", self.check)?;
        writeln!(
            f,
            "  derived outputs against clean run {} (caught up in {}):",
            self.clean_run,
            secs(self.clean_catch_up)
        )?;
        for d in &self.derived {
            writeln!(
                f,
                "    {:<12} chaos {:>6} clean {:>6} only-chaos {} only-clean {} differing {} {}",
                d.table,
                d.chaos_rows,
                d.clean_rows,
                d.only_chaos,
                d.only_clean,
                d.differing,
                if d.is_equal() { "EQUAL" } else { "DIFFERENT" }
            )?;
            for e in &d.examples {
                writeln!(f, "      e.g. {e}")?;
            }
        }
        write!(f, "  chaos verdict             {}", if self.is_clean() { "CLEAN" } else { "FAILED" })
    }
}
