//! What a drill is given: where the local stack is ([`DrillEnv`]), the
//! traffic ([`LoadOptions`]), the canary analysis ([`AnalysisOptions`]) and
//! each drill's own options ([`CanaryOptions`], [`RollingOptions`],
//! [`ChaosOptions`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::analysis::QUERY_TIMEOUT;
use crate::error::DrillError;
use crate::stack::{SaslListener, Stack, StackEnv};

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
    /// When set, the instances and the load reach Kafka through this
    /// SASL_SSL listener, the password read from its file; the drill's own
    /// checker and offset readers stay on `brokers`, independent of what
    /// they check.
    pub sasl: Option<SaslListener>,
}

impl DrillEnv {
    /// Reads the addresses `deploy/local/up` wrote to `stack.env`; runs and
    /// targets go under the current directory (the repository root).
    pub fn from_stack_env(stack_env: &Path, binary: PathBuf) -> Result<DrillEnv, DrillError> {
        let vars = StackEnv::read(stack_env)?;
        Ok(DrillEnv {
            brokers: vars.get("PORTTRACK_KAFKA__BROKERS")?,
            postgres_url: vars.get("PORTTRACK_POSTGRES__URL")?,
            elasticsearch_url: vars.get("PORTTRACK_ELASTICSEARCH__URL")?,
            prometheus_url: vars.get("PORTTRACK_PROMETHEUS_URL")?,
            binary,
            runs_dir: PathBuf::from("target/drill-runs"),
            targets_dir: None,
            sasl: None,
        })
    }

    /// The drill environment of a [`Stack`] (the tests' way in).
    pub fn for_stack(stack: &Stack, binary: PathBuf, runs_dir: PathBuf) -> DrillEnv {
        DrillEnv {
            brokers: stack.brokers.clone(),
            postgres_url: stack.postgres_url.clone(),
            elasticsearch_url: stack.elasticsearch_url.clone(),
            prometheus_url: stack.prometheus_url.clone(),
            binary,
            runs_dir,
            targets_dir: None,
            sasl: None,
        }
    }

    /// The same, with the instances and the load on `sasl`.
    pub fn over_sasl(self, sasl: &SaslListener) -> DrillEnv {
        DrillEnv { sasl: Some(sasl.clone()), ..self }
    }

    /// The `[kafka]` settings the instances and the load use: the SASL_SSL
    /// listener's when [`DrillEnv::sasl`] is set, else the plain brokers.
    pub fn client_kafka(&self) -> porttrack_ingest::KafkaConfig {
        let mut kafka = porttrack_ingest::KafkaConfig { brokers: self.brokers.clone(), ..Default::default() };
        if let Some(sasl) = &self.sasl {
            kafka.brokers = sasl.brokers.clone();
            kafka.sasl_password_file = Some(sasl.password_file.clone());
            kafka.properties = sasl.properties_without_password().into_iter().collect();
        }
        kafka
    }
}

/// The simulated traffic a drill runs under.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Records per second, every kind together (at most 10k/s: the drills judge
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

/// What [`canary`](crate::canary()) does.
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

/// What [`rolling_restart`](crate::rolling_restart) does.
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

/// What [`chaos`](crate::chaos()) does.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// Instances in the group (the rebalance storm adds up to two more for a while).
    pub instances: usize,
    /// The traffic.
    pub load: LoadOptions,
    /// The nominal length of the fault schedule: the outages and the storm
    /// scale with it (a sixth of it for the Postgres and search outages, at
    /// least 10 s and at most 30 s; an eighth for the storm, 10–60 s). The broker's
    /// restarts take as long as they take, so the load runs somewhat longer.
    pub duration: Duration,
    /// Every kind of record on a topic of its own (JSON positions and
    /// static data, NMEA with two-fragment messages, weather, Avro cargo,
    /// port operations), else JSON positions only.
    pub every_kind: bool,
    /// Keep both runs' databases and search indices.
    pub keep: bool,
}

impl Default for ChaosOptions {
    fn default() -> Self {
        ChaosOptions {
            instances: 3,
            load: LoadOptions::default(),
            duration: Duration::from_secs(180),
            every_kind: true,
            keep: false,
        }
    }
}
