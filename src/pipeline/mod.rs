//! The running pipeline: source thread → processors → sinks → commit.
//!
//! [`Pipeline::start`] wires a [`Source`] (its own thread, polling Kafka)
//! to an async stage that, for each batch in order:
//!
//! 1. applies accepted events to the port processor ([`Port`]), collecting
//!    its outputs (zone transitions, port calls, anomalies, weather alerts)
//!    and, every `processors.snapshot_interval`, its congestion partials;
//! 2. writes the events and the outputs to every sink concurrently,
//!    retrying transient failures with jittered backoff and bisecting a
//!    permanently failing batch until the records at fault are isolated;
//! 3. writes refused records (decode/validation failures and the records a
//!    sink refused) to the dead-letter topic and waits for the acks;
//! 4. checkpoints the processor state of every owned partition: at least
//!    every `processors.checkpoint_interval`; when the stage goes idle, at
//!    most once a second, less often when checkpoints are slow (one costs a
//!    pass over every vessel's state); and soon after the input stops, as
//!    long as checkpoints have taken a small share of the time (`pacing.rs`
//!    has the rules);
//! 5. only then hands the batches the checkpoint covers to the [`Committer`].
//!
//! Nothing is committed that was not acknowledged by every sink and the
//! dead-letter topic, and no offset is committed past the processor state
//! that reflects it.

mod delivery;
mod hooks;
mod metrics;
mod pacing;
mod stage;
mod status;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use porttrack_ingest::source::SourceHandle;
use porttrack_ingest::{AckedProducer, DeadLetterProducer, Source};
use porttrack_sinks::Sink;
use porttrack_sinks::retry::Backoff;

use self::hooks::{Owned, StateHooks};
use self::stage::Stage;
pub use self::status::PipelineStatus;
use crate::config::Config;
use crate::state::StateStore;

/// How long the start waits for the brokers' first answer before joining the
/// group anyway.
const PREFLIGHT_PATIENCE: Duration = Duration::from_secs(10);

/// A started pipeline; [`Pipeline::stop`] drains and commits.
pub struct Pipeline {
    status: Arc<PipelineStatus>,
    source: SourceHandle,
    source_thread: Option<std::thread::JoinHandle<()>>,
    stage: tokio::task::JoinHandle<()>,
    producer: AckedProducer,
}

impl Pipeline {
    /// Joins the consumer group and starts processing into `sinks`, with
    /// processor checkpoints where the configuration says
    /// ([`crate::state::from_config`]).
    pub async fn start(config: &Config, sinks: Vec<Arc<dyn Sink>>) -> anyhow::Result<Pipeline> {
        let state = crate::state::from_config(config)?;
        Self::start_with_state(config, sinks, state).await
    }

    /// Like [`Pipeline::start`], with an explicit checkpoint store.
    pub async fn start_with_state(
        config: &Config,
        sinks: Vec<Arc<dyn Sink>>,
        state: Arc<dyn StateStore>,
    ) -> anyhow::Result<Pipeline> {
        crate::telemetry::metrics();
        // Fail at start, with librdkafka's reason, on a password or CA that
        // can never work; a broker that is merely down is waited for later.
        let kafka = config.kafka.clone();
        let reached =
            tokio::task::spawn_blocking(move || porttrack_ingest::preflight(&kafka, PREFLIGHT_PATIENCE))
                .await
                .context("the Kafka preflight panicked")??;
        if reached == porttrack_ingest::Preflight::Unreachable {
            tracing::warn!(
                brokers = %config.kafka.brokers,
                "Kafka does not answer yet; joining the group anyway (the consumer keeps retrying)"
            );
        }
        let producer = AckedProducer::new(&config.kafka.durable_producer_config()?)
            .context("creating the dead-letter producer")?;
        let dlq = DeadLetterProducer::new(producer.clone(), &config.kafka.dead_letter_topic);
        let port = Arc::new(config.processors.port()?);
        let status = Arc::new(PipelineStatus::new(&sinks, Arc::clone(&port)));
        crate::telemetry::pipeline_started(sinks.iter().map(|s| s.name()));
        status.mark_all_sinks_up();
        let owned = Owned::default();
        let hooks = Arc::new(StateHooks {
            port: Arc::clone(&port),
            store: Arc::clone(&state),
            runtime: tokio::runtime::Handle::current(),
            owned: owned.clone(),
        });
        let (source, rx, committer) =
            Source::new(&config.kafka, config.source(), hooks).context("creating the Kafka consumer")?;
        let handle = source.handle();
        status.attach_source(handle.clone());
        let source_thread = std::thread::Builder::new()
            .name("porttrack-source".into())
            .spawn(move || source.run())
            .context("spawning the source thread")?;
        let stage = Stage {
            sinks,
            dlq,
            committer,
            status: Arc::clone(&status),
            backoff: Backoff::default(),
            port,
            state,
            snapshot_interval: config.processors.snapshot_interval,
            fault_ratio: config.pipeline.fault_injection_ratio,
            watermark: None,
            last_snapshot: Instant::now() - config.processors.snapshot_interval,
            pacing: pacing::Pacing::new(config.processors.checkpoint_interval, Instant::now()),
            uncheckpointed: Vec::new(),
            owned,
        };
        let stage = tokio::spawn(stage.run(rx));
        Ok(Pipeline { status, source: handle, source_thread: Some(source_thread), stage, producer })
    }

    /// Live status, for health endpoints and summaries.
    pub fn status(&self) -> Arc<PipelineStatus> {
        Arc::clone(&self.status)
    }

    /// Drains in-flight batches (bounded by `pipeline.drain_timeout`),
    /// commits what the sinks acknowledged, and leaves the group.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.source.shutdown();
        if let Some(thread) = self.source_thread.take() {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .context("joining the source thread")?
                .map_err(|_| anyhow::anyhow!("the source thread panicked"))?;
        }
        // The source closed the channel after draining; a stage still busy now
        // is stuck on an unavailable sink, and its batch is uncommitted anyway.
        match tokio::time::timeout(Duration::from_secs(5), &mut self.stage).await {
            Ok(result) => result.context("the sink stage panicked")?,
            Err(_) => {
                tracing::warn!(
                    "sink stage still busy after the source stopped; abandoning uncommitted batch"
                );
                self.stage.abort();
            }
        }
        self.producer.flush(Duration::from_secs(5)).context("flushing the dead-letter producer")?;
        Ok(())
    }

    /// Runs until the future `until` resolves, then stops.
    pub async fn run_until(self, until: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        tokio::pin!(until);
        until.await;
        self.stop().await
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("status", &self.status).finish_non_exhaustive()
    }
}
