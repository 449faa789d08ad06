//! The `[kafka]` configuration section.

use std::collections::BTreeMap;
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
    /// Topic carrying position reports (JSON, keyed by MMSI).
    pub positions_topic: String,
    /// Topic refused records are written to.
    pub dead_letter_topic: String,
    /// Group session timeout: how fast a dead member is noticed.
    #[serde(with = "humantime_serde")]
    pub session_timeout: Duration,
    /// Longest gap between polls before librdkafka leaves the group. Also
    /// bounds how long a rebalance waits for in-flight batches to drain.
    #[serde(with = "humantime_serde")]
    pub max_poll_interval: Duration,
    /// Extra librdkafka properties, applied last (TLS and SASL settings go
    /// here: `security.protocol`, `ssl.ca.location`, `sasl.password`, …).
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            group_id: "porttrack".into(),
            positions_topic: "ais.positions".into(),
            dead_letter_topic: "porttrack.dead-letter".into(),
            session_timeout: Duration::from_secs(30),
            max_poll_interval: Duration::from_secs(30),
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// Settings shared by every client PortTrack creates.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers).set("client.id", "porttrack");
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }

    /// Settings for the consumer-group member.
    ///
    /// Offsets are committed by PortTrack itself after the sinks acknowledged
    /// (`enable.auto.commit=false`); a partition with no committed offset
    /// starts at the earliest record so nothing produced before the first
    /// start is skipped.
    pub fn consumer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("group.id", &self.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set("session.timeout.ms", millis(self.session_timeout))
            .set("heartbeat.interval.ms", millis(self.session_timeout / 4))
            .set("max.poll.interval.ms", millis(self.max_poll_interval))
            .set("statistics.interval.ms", "1000");
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }

    /// Settings for producers whose acknowledgement counts as durable
    /// (the dead-letter producer): all in-sync replicas, idempotent retries.
    pub fn durable_producer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config.set("acks", "all").set("linger.ms", "5").set("message.timeout.ms", "30000");
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }
}

fn millis(d: Duration) -> String {
    d.as_millis().to_string()
}
