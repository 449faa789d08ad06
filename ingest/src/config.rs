//! The `[kafka]` configuration section.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

/// How to reach Kafka and which topics to use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// Consumer group id; every instance of one deployment shares it.
    pub group_id: String,
    /// The topics to consume, each with its wire format.
    pub topics: Vec<TopicConfig>,
    /// Topic refused records are written to.
    pub dead_letter_topic: String,
    /// The consumer-group protocol; see [`GroupProtocol`].
    pub group_protocol: GroupProtocol,
    /// Static membership (KIP-345): a stable id per instance, such as the
    /// Kubernetes pod name of a StatefulSet. A restarted member with the same
    /// id takes its partitions back without a rebalance, if it returns within
    /// the session timeout; meanwhile nobody consumes them. Empty: dynamic
    /// membership (every start is a new member), right for Deployments and
    /// Rollouts whose pod names change.
    pub group_instance_id: String,
    /// Group session timeout: how fast a dead member is noticed. Classic
    /// protocol only: with `consumer` the broker's
    /// `group.consumer.session.timeout.ms` decides.
    #[serde(with = "humantime_serde")]
    pub session_timeout: Duration,
    /// Longest gap between polls before librdkafka leaves the group. Also
    /// bounds how long a rebalance waits for in-flight batches to drain.
    #[serde(with = "humantime_serde")]
    pub max_poll_interval: Duration,
    /// Extra librdkafka properties, applied after PortTrack's own (TLS and
    /// SASL settings go here: `security.protocol`, `ssl.ca.location`,
    /// `sasl.mechanism`, `sasl.username`, …). Keep secrets out of them: use
    /// the `*_file` keys below.
    pub properties: BTreeMap<String, String>,
    /// A file whose content (trimmed) is the SASL password
    /// (`sasl.password`), read at start. Wins over `properties`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sasl_password_file: Option<PathBuf>,
    /// A file whose content (trimmed) is the password of the TLS client key
    /// (`ssl.key.password`), read at start. Wins over `properties`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_key_password_file: Option<PathBuf>,
}

/// A `[kafka]` setting that could not be turned into client settings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaConfigError {
    /// A `*_file` secret could not be read. The message names the key and
    /// the path, never the content.
    #[error("kafka.{key}: cannot read {path}: {source}")]
    SecretFile {
        /// The configuration key (`sasl_password_file`, …).
        key: &'static str,
        /// The file named by it.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A `*_file` secret is empty, which is never what was meant.
    #[error("kafka.{key}: {path} is empty")]
    EmptySecret {
        /// The configuration key.
        key: &'static str,
        /// The file named by it.
        path: PathBuf,
    },
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            group_id: "porttrack".into(),
            topics: TopicConfig::defaults(),
            dead_letter_topic: "porttrack.dead-letter".into(),
            group_protocol: GroupProtocol::default(),
            group_instance_id: String::new(),
            session_timeout: Duration::from_secs(30),
            max_poll_interval: Duration::from_secs(30),
            properties: BTreeMap::new(),
            sasl_password_file: None,
            ssl_key_password_file: None,
        }
    }
}

/// How the group's members agree on who owns which partition.
///
/// Both keep partitions with the same number on one member across topics
/// ("range"), which the processors need: their state is per partition
/// number, since every topic is keyed by MMSI with the same partition count.
/// (`cooperative-sticky` balances topic-partitions one by one and would split
/// them, so it is not offered.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupProtocol {
    /// KIP-848 (Kafka ≥ 4.0, librdkafka ≥ 2.12): the broker computes
    /// assignments with its sticky `range` assignor and members hear of them
    /// incrementally, so a join or a leave moves only the partitions that
    /// change owner; everyone else keeps consuming and committing. Session
    /// timeout and heartbeat interval are broker settings.
    #[default]
    Consumer,
    /// The classic protocol with the eager `range` assignor, for brokers
    /// before 4.0: every rebalance revokes every partition of every member.
    Classic,
}

impl GroupProtocol {
    /// librdkafka's `group.protocol` value.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupProtocol::Consumer => "consumer",
            GroupProtocol::Classic => "classic",
        }
    }
}

/// How records on a topic are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One JSON document per record, of the schema of the topic's `event`.
    Json,
    /// Avro: the Confluent wire format (magic byte 0, 4-byte schema id) or
    /// Avro single-object encoding (`C3 01`, 8-byte fingerprint). The schema
    /// names the event.
    Avro,
    /// Raw NMEA 0183 AIS sentences (`!AIVDM`/`!AIVDO`), one or more lines per
    /// record, with optional NMEA 4 tag blocks. Yields positions, static
    /// data and weather.
    Nmea,
}

impl Format {
    /// Every format, for pre-registering metrics, in declaration order (so
    /// `format as usize` indexes it).
    pub const ALL: [Format; 3] = [Format::Json, Format::Avro, Format::Nmea];

    /// The stable name used in configuration and the `format` metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Avro => "avro",
            Format::Nmea => "nmea",
        }
    }
}

/// The kind of event a JSON topic carries (configuration spelling of
/// [`porttrack_schemas::EventKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventName {
    /// [`porttrack_schemas::Position`].
    Position,
    /// [`porttrack_schemas::VesselStatic`].
    Static,
    /// [`porttrack_schemas::WeatherObservation`].
    Weather,
    /// [`porttrack_schemas::CargoEvent`].
    Cargo,
    /// [`porttrack_schemas::PortOpsEvent`].
    PortOps,
}

/// One consumed topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    /// Topic name.
    pub name: String,
    /// Wire format of its records.
    pub format: Format,
    /// For JSON topics: the event every record holds. Avro records name
    /// their schema and NMEA sentences their message type, so those need none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventName>,
}

impl TopicConfig {
    /// A JSON topic carrying `event`.
    pub fn json(name: impl Into<String>, event: EventName) -> Self {
        TopicConfig { name: name.into(), format: Format::Json, event: Some(event) }
    }

    /// The topics of a default deployment.
    pub fn defaults() -> Vec<TopicConfig> {
        let json =
            |name: &str, event| TopicConfig { name: name.into(), format: Format::Json, event: Some(event) };
        vec![
            json("ais.positions", EventName::Position),
            json("ais.static", EventName::Static),
            TopicConfig { name: "ais.nmea".into(), format: Format::Nmea, event: None },
            json("weather.observations", EventName::Weather),
            TopicConfig { name: "terminal.cargo".into(), format: Format::Avro, event: None },
            json("port.operations", EventName::PortOps),
        ]
    }

    /// Checks the entry on its own.
    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("kafka.topics: a topic needs a name".into());
        }
        match (self.format, self.event) {
            (Format::Json, None) => Err(format!(
                "kafka.topics: JSON topic {:?} needs `event` (position, static, weather, cargo or port_ops)",
                self.name
            )),
            (Format::Nmea, Some(_)) => Err(format!(
                "kafka.topics: NMEA topic {:?} takes no `event`: each sentence's message type decides",
                self.name
            )),
            _ => Ok(()),
        }
    }
}

impl KafkaConfig {
    /// The topic names to subscribe to.
    pub fn topic_names(&self) -> Vec<&str> {
        self.topics.iter().map(|t| t.name.as_str()).collect()
    }

    /// The configuration of the topic named `name`.
    pub fn topic(&self, name: &str) -> Option<&TopicConfig> {
        self.topics.iter().find(|t| t.name == name)
    }

    /// The first topic carrying `event` as JSON (where simulators and tools produce it).
    pub fn json_topic_for(&self, event: EventName) -> Option<&str> {
        self.topics
            .iter()
            .find(|t| t.format == Format::Json && t.event == Some(event))
            .map(|t| t.name.as_str())
    }

    /// Settings shared by every client PortTrack creates: the brokers, then
    /// `properties`, then the secrets read from their files.
    pub fn client_config(&self) -> Result<ClientConfig, KafkaConfigError> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers).set("client.id", "porttrack");
        self.apply_properties(&mut config)?;
        Ok(config)
    }

    /// Applies `properties` and then the `*_file` secrets over `config`:
    /// last, so what the operator configured wins over PortTrack's defaults.
    pub fn apply_properties(&self, config: &mut ClientConfig) -> Result<(), KafkaConfigError> {
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        let secrets = [
            ("sasl_password_file", "sasl.password", &self.sasl_password_file),
            ("ssl_key_password_file", "ssl.key.password", &self.ssl_key_password_file),
        ];
        for (key, property, path) in secrets {
            if let Some(path) = path {
                config.set(property, read_secret(key, path)?);
            }
        }
        Ok(())
    }

    /// Settings for the consumer-group member.
    ///
    /// Offsets are committed by PortTrack itself after the sinks acknowledged
    /// (`enable.auto.commit=false`); a partition with no committed offset
    /// starts at the earliest record so nothing produced before the first
    /// start is skipped.
    ///
    /// `fetch.queue.backoff.ms` is lowered from librdkafka's 1 s to
    /// [`FETCH_QUEUE_BACKOFF_MS`]: a partition whose prefetch queue was full
    /// when librdkafka looked waits that long before its next fetch, and a
    /// consumer that drains the queue in less time than that (PortTrack
    /// does, catching up) then sits idle in `poll` until the backoff ends.
    /// With the default the pipeline spent most of a catch-up waiting there:
    /// 120,000 JSON positions/s at 0.4 of a core; with 20 ms, 300,000/s
    /// (`cargo bench --bench pipeline`, `json → null`).
    ///
    /// `queued.max.messages.kbytes` is lowered from librdkafka's 64 MiB to
    /// [`QUEUED_MAX_MESSAGES_KBYTES`]: a consumer that runs behind the
    /// producers (a catch-up, a rate near its capacity) keeps that much
    /// payload prefetched, each message in an allocation of its own beside
    /// it. At 200-byte JSON positions the default is some 300,000 records,
    /// several seconds of a busy port's feed and as much memory as the rest
    /// of the pipeline holds. The pipeline's own read-ahead is its in-flight
    /// batches; librdkafka's need only cover a few fetches, and the smaller
    /// queue cost no throughput (`cargo bench --bench pipeline`, `json →
    /// null`, seven alternating pairs: medians 2.71 µs of CPU per record
    /// without, 2.63 µs with it). An operator's `properties` still win, for
    /// both settings.
    pub fn consumer_config(&self) -> Result<ClientConfig, KafkaConfigError> {
        let mut config = self.client_config()?;
        config
            .set("group.id", &self.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set("group.protocol", self.group_protocol.as_str())
            .set("max.poll.interval.ms", millis(self.max_poll_interval))
            .set("statistics.interval.ms", "1000")
            .set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS)
            .set("queued.max.messages.kbytes", QUEUED_MAX_MESSAGES_KBYTES);
        match self.group_protocol {
            // librdkafka refuses the classic settings under KIP-848.
            GroupProtocol::Consumer => config.set("group.remote.assignor", "range"),
            GroupProtocol::Classic => config
                .set("partition.assignment.strategy", "range")
                .set("session.timeout.ms", millis(self.session_timeout))
                .set("heartbeat.interval.ms", millis(self.session_timeout / 4)),
        };
        if !self.group_instance_id.is_empty() {
            config.set("group.instance.id", &self.group_instance_id);
        }
        self.apply_properties(&mut config)?;
        Ok(config)
    }

    /// Settings for producers whose acknowledgement counts as durable (the
    /// dead-letter producer, replays): all in-sync replicas, and idempotent,
    /// so librdkafka's internal retries never write a letter twice or out
    /// of order.
    pub fn durable_producer_config(&self) -> Result<ClientConfig, KafkaConfigError> {
        let mut config = self.client_config()?;
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000");
        self.apply_properties(&mut config)?;
        Ok(config)
    }
}

/// Reads a secret file: its content without the trailing newline editors add.
fn read_secret(key: &'static str, path: &Path) -> Result<String, KafkaConfigError> {
    let content = std::fs::read_to_string(path).map_err(|source| KafkaConfigError::SecretFile {
        key,
        path: path.to_owned(),
        source,
    })?;
    let secret = content.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(KafkaConfigError::EmptySecret { key, path: path.to_owned() });
    }
    Ok(secret.to_owned())
}

fn millis(d: Duration) -> String {
    d.as_millis().to_string()
}

/// How long librdkafka postpones a partition's next fetch after finding its
/// prefetch queue full (its default is 1,000 ms; see
/// [`KafkaConfig::consumer_config`]).
pub const FETCH_QUEUE_BACKOFF_MS: &str = "20";

/// The prefetched payload librdkafka keeps for the consumer at most, KiB
/// (its default is 65,536; see [`KafkaConfig::consumer_config`]). Four
/// rounds of fetches of four partitions at librdkafka's 1 MiB each.
pub const QUEUED_MAX_MESSAGES_KBYTES: &str = "16384";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_their_files_and_win_over_inline_properties() {
        let dir = std::env::temp_dir().join(format!("porttrack-kafka-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sasl");
        std::fs::write(&file, "s3cret-from-file\n").unwrap();
        let config = KafkaConfig {
            properties: [("sasl.password".to_owned(), "inline".to_owned())].into(),
            sasl_password_file: Some(file.clone()),
            ..KafkaConfig::default()
        };
        for client in [config.client_config(), config.consumer_config(), config.durable_producer_config()] {
            assert_eq!(client.unwrap().get("sasl.password"), Some("s3cret-from-file"));
        }
        std::fs::write(&file, "\n").unwrap();
        let err = config.client_config().unwrap_err().to_string();
        assert!(err.contains("sasl_password_file") && err.contains("empty"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        let err = config.client_config().unwrap_err().to_string();
        assert!(err.contains("cannot read") && !err.contains("s3cret"), "{err}");
    }

    /// Checks that the consumer's settings hold `key` at PortTrack's own
    /// `default`, and that an operator's `properties` still set it.
    fn ours_unless_told_otherwise(key: &str, default: &str, operators: &str) {
        let config = KafkaConfig::default().consumer_config().unwrap();
        assert_eq!(config.get(key), Some(default));
        let operator = KafkaConfig {
            properties: [(key.to_owned(), operators.to_owned())].into(),
            ..KafkaConfig::default()
        };
        assert_eq!(operator.consumer_config().unwrap().get(key), Some(operators));
    }

    /// Bug: with librdkafka's 1 s fetch queue backoff, a catching-up source
    /// drained its queue and waited in `poll` for most of each second.
    #[test]
    fn the_consumer_refetches_soon_after_a_full_queue_unless_told_otherwise() {
        ours_unless_told_otherwise("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS, "500");
    }

    /// A consumer running behind the producers held librdkafka's default
    /// 64 MiB of prefetched records (the soak at 38,000/s, `cargo bench
    /// --bench pipeline`; on the real broker, `tests/prefetch.rs`).
    #[test]
    fn the_consumer_prefetches_a_bounded_amount_unless_told_otherwise() {
        ours_unless_told_otherwise("queued.max.messages.kbytes", QUEUED_MAX_MESSAGES_KBYTES, "65536");
    }

    #[test]
    fn the_dead_letter_producer_is_idempotent() {
        let config = KafkaConfig::default().durable_producer_config().unwrap();
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("acks"), Some("all"));
    }

    #[test]
    fn format_all_is_in_declaration_order() {
        for (i, f) in Format::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i, "{f:?}");
        }
    }
}
