//! Configuration: defaults, then a TOML file, then `PORTTRACK_*` environment
//! variables (`__` separates levels: `PORTTRACK_KAFKA__BROKERS`).
//!
//! Every field is documented in README's configuration reference and in
//! `config/porttrack.example.toml`; `porttrack check-config` prints the
//! effective configuration after all three layers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use porttrack_ingest::{KafkaConfig, SourceConfig};
use porttrack_schemas::ValidationRules;
use porttrack_sinks::elasticsearch::ElasticsearchConfig;
use porttrack_sinks::postgres::PostgresConfig;
use serde::{Deserialize, Serialize};

/// `PORTTRACK_*` variables that are not configuration keys: the config file
/// path (read by the CLI) and the local stack's extras.
const NOT_CONFIG_KEYS: &[&str] = &["CONFIG", "STACK_ENV", "PROMETHEUS_URL", "PARTITIONS"];

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Kafka connection, group and topics.
    pub kafka: KafkaConfig,
    /// Batching and back-pressure.
    pub pipeline: PipelineConfig,
    /// Record validation.
    pub validation: ValidationConfig,
    /// Postgres sink; absent means "not configured" (the file sink stands in).
    pub postgres: Option<PostgresConfig>,
    /// Elasticsearch sink; absent means "not configured" (the file sink stands in).
    pub elasticsearch: Option<ElasticsearchConfig>,
    /// Fallback file sink.
    pub files: FilesConfig,
    /// Metrics and health endpoints.
    pub http: HttpConfig,
    /// Logging.
    pub log: LogConfig,
}

/// The `[pipeline]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Seal a batch at this many records.
    pub batch_max_records: usize,
    /// Seal a non-empty batch after this long.
    #[serde(with = "humantime_serde")]
    pub batch_linger: Duration,
    /// Sealed batches waiting for sinks before the source pauses its partitions.
    pub max_in_flight_batches: usize,
    /// How long a rebalance or shutdown waits for sinks to acknowledge in-flight batches.
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        let source = SourceConfig::default();
        PipelineConfig {
            batch_max_records: source.batch_max_records,
            batch_linger: source.batch_linger,
            max_in_flight_batches: source.max_in_flight_batches,
            drain_timeout: source.drain_timeout,
        }
    }
}

/// The `[validation]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationConfig {
    /// Event times before this are refused as absurd.
    pub earliest: chrono::DateTime<chrono::Utc>,
    /// Event times further than this ahead of the receive time are refused.
    #[serde(with = "humantime_serde")]
    pub max_future_skew: Duration,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        let rules = ValidationRules::default();
        ValidationConfig { earliest: rules.earliest, max_future_skew: rules.max_future_skew }
    }
}

/// The `[files]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// Directory of the fallback file sink.
    pub dir: PathBuf,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig { dir: PathBuf::from("porttrack-data") }
    }
}

/// The `[http]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub listen: SocketAddr,
    /// `/healthz` fails when the poll loop made no progress for this long.
    #[serde(with = "humantime_serde")]
    pub stall_after: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { listen: SocketAddr::from(([127, 0, 0, 1], 9464)), stall_after: Duration::from_secs(30) }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON lines (for log shippers).
    Json,
    /// Human-readable.
    Text,
}

/// The `[log]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Output format.
    pub format: LogFormat,
    /// `tracing` filter directive, e.g. `info` or `porttrack=debug,rdkafka=warn`.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, filter: "info".into() }
    }
}

impl Config {
    /// Loads defaults ← `file` (if given) ← `PORTTRACK_*` environment.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        Config::load_with(file, &[])
    }

    /// Like [`Config::load`], with `PORTTRACK_*` variables from `extra_env`
    /// (the local stack's `stack.env`) layered under the real environment.
    pub fn load_with(
        file: Option<&Path>,
        extra_env: &[(String, String)],
    ) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {} does not exist",
                    file.display()
                ))));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Serialized::defaults(env_tree(extra_env)));
        figment = figment.merge(Env::prefixed("PORTTRACK_").split("__").ignore(NOT_CONFIG_KEYS));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.check().map_err(|e| Box::new(figment::Error::from(e)))?;
        Ok(config)
    }

    /// Cross-field checks figment cannot express.
    pub fn check(&self) -> Result<(), String> {
        if self.kafka.brokers.trim().is_empty() {
            return Err("kafka.brokers is empty".into());
        }
        if self.kafka.positions_topic == self.kafka.dead_letter_topic {
            return Err("kafka.dead_letter_topic must differ from kafka.positions_topic".into());
        }
        if self.pipeline.batch_max_records == 0 {
            return Err("pipeline.batch_max_records must be at least 1".into());
        }
        if self.pipeline.drain_timeout >= self.kafka.max_poll_interval {
            return Err(format!(
                "pipeline.drain_timeout ({:?}) must be shorter than kafka.max_poll_interval ({:?}), \
                 or a rebalance that waits for the sinks would get this member evicted",
                self.pipeline.drain_timeout, self.kafka.max_poll_interval
            ));
        }
        Ok(())
    }

    /// The source settings derived from this configuration.
    pub fn source(&self) -> SourceConfig {
        SourceConfig {
            batch_max_records: self.pipeline.batch_max_records,
            batch_linger: self.pipeline.batch_linger,
            max_in_flight_batches: self.pipeline.max_in_flight_batches,
            drain_timeout: self.pipeline.drain_timeout,
            rules: ValidationRules {
                earliest: self.validation.earliest,
                max_future_skew: self.validation.max_future_skew,
            },
        }
    }
}

/// Environment-style pairs (`PORTTRACK_KAFKA__BROKERS=…`) as a nested tree,
/// the way figment's `Env` provider reads the real environment.
fn env_tree(pairs: &[(String, String)]) -> serde_json::Value {
    let mut root = serde_json::Map::new();
    for (key, value) in pairs {
        let Some(rest) = key.strip_prefix("PORTTRACK_") else { continue };
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.len() < 2 {
            continue; // not a configuration key (PORTTRACK_PARTITIONS, …)
        }
        let mut node = &mut root;
        for segment in &path[..path.len() - 1] {
            let next =
                node.entry(segment.clone()).or_insert_with(|| serde_json::Value::Object(Default::default()));
            if !next.is_object() {
                *next = serde_json::Value::Object(Default::default());
            }
            let serde_json::Value::Object(map) = next else { unreachable!("made an object above") };
            node = map;
        }
        node.insert(path[path.len() - 1].clone(), serde_json::Value::String(value.clone()));
    }
    serde_json::Value::Object(root)
}

#[cfg(test)]
// figment's Jail closures return its own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn stack_env_pairs_configure_services_and_the_real_environment_wins() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PORTTRACK_KAFKA__BROKERS", "real:9092");
            let pairs = vec![
                ("PORTTRACK_KAFKA__BROKERS".to_owned(), "stack:9092".to_owned()),
                ("PORTTRACK_POSTGRES__URL".to_owned(), "postgres://postgres@127.0.0.1/porttrack".to_owned()),
                ("PORTTRACK_PARTITIONS".to_owned(), "4".to_owned()),
            ];
            let c = Config::load_with(None, &pairs).map_err(|e| e.to_string())?;
            assert_eq!(c.kafka.brokers, "real:9092");
            assert_eq!(c.postgres.map(|p| p.url).as_deref(), Some("postgres://postgres@127.0.0.1/porttrack"));
            Ok(())
        });
    }

    /// Keeps `config/porttrack.example.toml` true: it must parse and state
    /// exactly the defaults (with both services configured).
    #[test]
    fn the_example_file_states_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/porttrack.example.toml");
        let example = Config::load(Some(&path)).expect("example config loads");
        let expected = Config {
            postgres: Some(PostgresConfig::default()),
            elasticsearch: Some(ElasticsearchConfig::default()),
            ..Config::default()
        };
        assert_eq!(example, expected);
    }

    #[test]
    fn defaults_pass_their_own_checks() {
        Config::default().check().unwrap();
    }

    #[test]
    fn file_then_env_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "p.toml",
                r#"
                [kafka]
                brokers = "kafka:9092"
                [postgres]
                url = "postgres://u@db/porttrack"
                [pipeline]
                batch_linger = "250ms"
                "#,
            )?;
            jail.set_env("PORTTRACK_KAFKA__GROUP_ID", "canary");
            let c = Config::load(Some(Path::new("p.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.kafka.brokers, "kafka:9092");
            assert_eq!(c.kafka.group_id, "canary");
            assert_eq!(c.pipeline.batch_linger, Duration::from_millis(250));
            let pg = c.postgres.expect("postgres section configures the sink");
            assert_eq!(pg.url, "postgres://u@db/porttrack");
            assert_eq!(pg.pool_size, PostgresConfig::default().pool_size);
            assert!(c.elasticsearch.is_none());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_combinations_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("typo.toml", "[kafka]\nbroker = \"x\"\n")?;
            assert!(Config::load(Some(Path::new("typo.toml"))).is_err());
            jail.create_file("drain.toml", "[pipeline]\ndrain_timeout = \"60s\"\n")?;
            let err = Config::load(Some(Path::new("drain.toml"))).unwrap_err().to_string();
            assert!(err.contains("drain_timeout"), "{err}");
            assert!(Config::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }
}
