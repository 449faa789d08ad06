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
use porttrack_ingest::decode::AvroConfig;
use porttrack_ingest::{KafkaConfig, SourceConfig};
use porttrack_processors::{Geography, Port, PortConfig};
use porttrack_schemas::ValidationRules;
use porttrack_sinks::elasticsearch::ElasticsearchConfig;
use porttrack_sinks::postgres::PostgresConfig;

pub use porttrack_api::ServeConfig;
use serde::{Deserialize, Serialize};

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
    /// Avro decoding: schema registry and locally mapped schema ids.
    pub avro: AvroConfig,
    /// Port processor: geography, rules, snapshots and checkpoints.
    pub processors: ProcessorsConfig,
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
    /// Traces (OpenTelemetry); off unless an OTLP endpoint is set.
    pub telemetry: TelemetryConfig,
    /// The read API and map (`porttrack serve`, and `demo`).
    pub serve: ServeConfig,
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
    /// Fraction of accepted records failed on purpose, dead-lettered as
    /// `fault_injected` (release drills only; keep 0 in production).
    pub fault_injection_ratio: f64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        let source = SourceConfig::default();
        PipelineConfig {
            batch_max_records: source.batch_max_records,
            batch_linger: source.batch_linger,
            max_in_flight_batches: source.max_in_flight_batches,
            drain_timeout: source.drain_timeout,
            fault_injection_ratio: 0.0,
        }
    }
}

/// The `[processors]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessorsConfig {
    /// Port geography (GeoJSON); the built-in Rotterdam geography when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geography: Option<PathBuf>,
    /// How often congestion partials are snapshotted (and dark periods checked).
    #[serde(with = "humantime_serde")]
    pub snapshot_interval: Duration,
    /// Longest time between processor-state checkpoints; offsets are committed
    /// only up to the last checkpoint.
    #[serde(with = "humantime_serde")]
    pub checkpoint_interval: Duration,
    /// The processor's rules and thresholds.
    pub port: PortConfig,
}

impl Default for ProcessorsConfig {
    fn default() -> Self {
        ProcessorsConfig {
            geography: None,
            snapshot_interval: Duration::from_secs(10),
            checkpoint_interval: Duration::from_secs(5),
            port: PortConfig::default(),
        }
    }
}

impl ProcessorsConfig {
    /// The geography this configuration names (or the built-in one).
    pub fn geography(&self) -> anyhow::Result<Geography> {
        match &self.geography {
            None => Ok(Geography::rotterdam()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("processors.geography {}: {e}", path.display()))?;
                Geography::from_geojson(&text)
                    .map_err(|e| anyhow::anyhow!("processors.geography {}: {e}", path.display()))
            }
        }
    }

    /// The geography's GeoJSON text (the configured file, or the built-in one).
    pub fn geography_text(&self) -> anyhow::Result<String> {
        match &self.geography {
            None => Ok(porttrack_processors::ROTTERDAM_GEOJSON.to_owned()),
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("processors.geography {}: {e}", path.display())),
        }
    }

    /// The port processor this configuration describes.
    pub fn port(&self) -> anyhow::Result<Port> {
        self.port.validate().map_err(|e| anyhow::anyhow!("processors.port: {e}"))?;
        Ok(Port::new(self.geography()?, self.port.clone()))
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
    /// Discard instead of writing files: a null sink stands in for the
    /// unconfigured services, acknowledging everything. For measuring the
    /// pipeline's own cost (benchmarks); never in production.
    pub discard: bool,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig { dir: PathBuf::from("porttrack-data"), discard: false }
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

/// The `[telemetry]` section: OpenTelemetry traces over OTLP/HTTP.
///
/// Off by default. With `otlp_endpoint` set, every batch becomes a span
/// (`batch`, with `sink_write` and `commit` children) exported to that
/// collector, linked to the W3C trace contexts (`traceparent` headers) of
/// the records it carried, and JSON logs carry `trace.id` / `span.id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Base URL of an OTLP/HTTP (protobuf) collector, e.g.
    /// `http://otel-collector:4318`; spans go to `<endpoint>/v1/traces`.
    /// Unset: no spans are exported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    /// Timeout of one export request.
    #[serde(with = "humantime_serde")]
    pub otlp_timeout: Duration,
    /// Fraction of batch traces kept (parent-based, then by trace id).
    pub sample_ratio: f64,
    /// Record trace contexts linked per batch span; the rest are counted
    /// in `porttrack_trace_links_dropped_total`.
    pub max_links: usize,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: None,
            otlp_timeout: Duration::from_secs(10),
            sample_ratio: 1.0,
            max_links: 32,
        }
    }
}

impl Config {
    /// This configuration with every secret replaced by `***`: what
    /// `check-config` prints. Secrets kept in `*_file` keys are never read
    /// into it; these are the ones written inline by mistake (a password in
    /// a URL, a `password`, `secret`, private-key or JAAS property).
    pub fn redacted(&self) -> Config {
        let mut shown = self.clone();
        if let Some(pg) = shown.postgres.as_mut() {
            pg.url = crate::outputs::redact(&pg.url);
        }
        if let Some(es) = shown.elasticsearch.as_mut() {
            es.url = crate::outputs::redact(&es.url);
        }
        for (key, value) in &mut shown.kafka.properties {
            let secret = ["password", "secret", "ssl.key.pem", "jaas", "oauthbearer.config"]
                .iter()
                .any(|s| key.contains(s));
            if secret {
                *value = "***".into();
            }
        }
        shown
    }

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
        // Every key lives in a section, so a configuration variable always has
        // a `__`; others (`PORTTRACK_CONFIG`, the local stack's and tools'
        // `PORTTRACK_PARTITIONS`, `PORTTRACK_BIN`, …) are not configuration.
        figment =
            figment.merge(Env::prefixed("PORTTRACK_").filter(|key| key.as_str().contains("__")).split("__"));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.check().map_err(|e| Box::new(figment::Error::from(e)))?;
        Ok(config)
    }

    /// Cross-field checks figment cannot express.
    pub fn check(&self) -> Result<(), String> {
        if self.kafka.brokers.trim().is_empty() {
            return Err("kafka.brokers is empty".into());
        }
        if self.kafka.topics.is_empty() {
            return Err("kafka.topics is empty: nothing to consume".into());
        }
        let mut seen = std::collections::HashSet::new();
        for t in &self.kafka.topics {
            t.check()?;
            if t.name == self.kafka.dead_letter_topic {
                return Err(format!("kafka.dead_letter_topic {:?} is also a consumed topic", t.name));
            }
            if !seen.insert(t.name.as_str()) {
                return Err(format!("kafka.topics lists {:?} twice", t.name));
            }
        }
        if !(0.0..=1.0).contains(&self.pipeline.fault_injection_ratio) {
            return Err("pipeline.fault_injection_ratio must be within 0..=1".into());
        }
        self.processors.port.validate().map_err(|e| format!("processors.port: {e}"))?;
        if self.processors.geography.is_some() {
            self.processors.geography().map_err(|e| e.to_string())?;
        }
        if !(0.0..=1.0).contains(&self.telemetry.sample_ratio) {
            return Err("telemetry.sample_ratio must be within 0..=1".into());
        }
        if let Some(endpoint) = &self.telemetry.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(format!("telemetry.otlp_endpoint {endpoint:?} must be an http:// or https:// URL"));
        }
        self.serve.validate()?;
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
            pause_after: SourceConfig::default().pause_after,
            rules: ValidationRules {
                earliest: self.validation.earliest,
                max_future_skew: self.validation.max_future_skew,
            },
            avro: self.avro.clone(),
            // Trace contexts are read only to be linked by exported spans.
            max_trace_parents: if self.telemetry.otlp_endpoint.is_some() {
                self.telemetry.max_links
            } else {
                0
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

    /// Every key the defaults have is written out in the example file (so
    /// the file is a complete reference), and the file has no other keys.
    #[test]
    fn the_example_file_lists_every_key() {
        fn paths(prefix: &str, v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
            match v {
                serde_json::Value::Object(map) if !map.is_empty() => {
                    for (k, v) in map {
                        paths(&format!("{prefix}{k}."), v, out);
                    }
                }
                // Empty tables (kafka.properties, avro.schema_ids) and arrays
                // of tables (kafka.topics) are compared as a whole.
                _ => {
                    out.insert(prefix.trim_end_matches('.').to_owned());
                }
            }
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/porttrack.example.toml");
        let written: serde_json::Value = Figment::from(Toml::file(&path)).extract().unwrap();
        let defaults = serde_json::to_value(Config {
            postgres: Some(PostgresConfig::default()),
            elasticsearch: Some(ElasticsearchConfig::default()),
            ..Config::default()
        })
        .unwrap();
        let (mut w, mut d) = (Default::default(), Default::default());
        paths("", &written, &mut w);
        paths("", &defaults, &mut d);
        // Keys without a default (secrets files, optional URLs) are shown
        // commented out: `# password_file = …`.
        let text = std::fs::read_to_string(&path).unwrap();
        let optional = |key: &String| {
            let leaf = key.rsplit('.').next().unwrap_or(key);
            defaults.pointer(&format!("/{}", key.replace('.', "/"))).is_some_and(serde_json::Value::is_null)
                && text.contains(&format!("# {leaf} = "))
        };
        let missing: Vec<&String> = d.difference(&w).filter(|k| !optional(k)).collect();
        let extra: Vec<&String> = w.difference(&d).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing from the example: {missing:?}; unknown: {extra:?}"
        );
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
