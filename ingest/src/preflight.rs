//! Preflight: before joining the group, prove the brokers let us in.
//!
//! librdkafka treats every failed connection as transient and retries it
//! forever, which is right for a broker that restarts and wrong for a
//! mistake that never heals by itself: a wrong SASL password, a CA that did
//! not sign the broker's certificate, TLS spoken to a plaintext listener.
//! Left to the consumer, those show up as a warning repeated every few
//! seconds while the instance looks alive and consumes nothing.
//!
//! [`preflight`] asks for the cluster's metadata with a throwaway client and
//! watches the client's error callback meanwhile. An authentication or TLS
//! error ends it at once with librdkafka's own reason (which names the
//! listener and what failed, never the secret); an answer ends it as
//! [`Reached`](Preflight::Reached). Silence (a broker that is down) is not a
//! misconfiguration: after `patience` it returns
//! [`Unreachable`](Preflight::Unreachable) and the caller goes on, letting
//! the consumer retry as usual.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer as _, ProducerContext};

use crate::config::{KafkaConfig, KafkaConfigError};

/// What the brokers said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preflight {
    /// The cluster answered a metadata request: credentials and TLS work.
    Reached,
    /// Nothing answered within the patience (a broker down or restarting):
    /// not a misconfiguration, so the caller carries on and retries.
    Unreachable,
}

/// Why the brokers can never be reached with this configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreflightError {
    /// The `[kafka]` section could not be turned into client settings.
    #[error(transparent)]
    Config(#[from] KafkaConfigError),
    /// librdkafka refused the settings themselves.
    #[error("kafka client settings refused: {0}")]
    Client(KafkaError),
    /// The broker refused our credentials (SASL).
    #[error(
        "kafka at {brokers} refused authentication: {reason} \
         (check sasl.mechanism, sasl.username and the password)"
    )]
    Authentication {
        /// The bootstrap servers tried.
        brokers: String,
        /// librdkafka's reason.
        reason: String,
    },
    /// The TLS handshake failed: an unknown CA, a certificate for another
    /// host, or TLS spoken to a plaintext listener (or the reverse).
    #[error(
        "kafka at {brokers}: TLS handshake failed: {reason} \
         (check security.protocol, ssl.ca.location and the broker's certificate)"
    )]
    Tls {
        /// The bootstrap servers tried.
        brokers: String,
        /// librdkafka's reason.
        reason: String,
    },
}

/// Connects with `kafka`'s settings and waits up to `patience` for the
/// cluster's metadata, failing at the first authentication or TLS error.
pub fn preflight(kafka: &KafkaConfig, patience: Duration) -> Result<Preflight, PreflightError> {
    let mut config = kafka.client_config()?;
    config.set("client.id", "porttrack-preflight");
    let producer: BaseProducer<Watch> =
        config.create_with_context(Watch::default()).map_err(PreflightError::Client)?;
    let deadline = Instant::now() + patience;
    loop {
        let step = deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(500));
        let answered = producer.client().fetch_metadata(None, step).is_ok();
        // Serves the error callback, where refusals arrive.
        producer.poll(Duration::ZERO);
        if let Some(refusal) = producer.context().refusal.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let brokers = kafka.brokers.clone();
            return Err(match refusal {
                Refusal::Authentication(reason) => PreflightError::Authentication { brokers, reason },
                Refusal::Tls(reason) => PreflightError::Tls { brokers, reason },
            });
        }
        if answered {
            return Ok(Preflight::Reached);
        }
        if Instant::now() >= deadline {
            return Ok(Preflight::Unreachable);
        }
    }
}

enum Refusal {
    Authentication(String),
    Tls(String),
}

/// Keeps the first refusal the client reports.
#[derive(Default)]
struct Watch {
    refusal: Mutex<Option<Refusal>>,
}

// Nothing is produced: the producer is only a client that serves callbacks.
impl ProducerContext for Watch {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

impl ClientContext for Watch {
    fn error(&self, error: KafkaError, reason: &str) {
        let refusal = match error.rdkafka_error_code() {
            Some(
                RDKafkaErrorCode::Authentication
                | RDKafkaErrorCode::SaslAuthenticationFailed
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed,
            ) => Refusal::Authentication(reason.to_owned()),
            Some(RDKafkaErrorCode::SSL) => Refusal::Tls(reason.to_owned()),
            // Transport errors, timeouts, "all brokers down": what a broker
            // that is merely down looks like. The patience decides.
            _ => return,
        };
        let mut slot = self.refusal.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(refusal);
    }

    // The throwaway client's own log lines would repeat the refusal the
    // error above reports; keep them at debug.
    fn log(&self, _level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        tracing::debug!(target: "librdkafka", fac, "{log_message}");
    }
}
