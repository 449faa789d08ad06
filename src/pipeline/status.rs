//! [`PipelineStatus`]: what the health endpoints, `/metrics` and the demo's
//! summary line read of a running pipeline: the source's heartbeat and
//! assignment, each sink's last outcome, records committed and
//! dead-lettered, and the port processor for its gauges.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;
use porttrack_ingest::source::SourceHandle;
use porttrack_processors::{Port, ZoneKind};
use porttrack_sinks::Sink;

/// Live counters and health of a pipeline, shared with `/healthz`, `/readyz`,
/// `/metrics` and the demo's summary line.
#[derive(Debug)]
pub struct PipelineStatus {
    source: OnceLock<SourceHandle>,
    sinks: Vec<(&'static str, AtomicBool)>,
    /// The port processor: vessel routes, port calls, congestion.
    pub port: Arc<Port>,
    /// Records whose batch was committed.
    pub committed: AtomicU64,
    /// Records written to the dead-letter topic.
    pub dead_lettered: AtomicU64,
    /// Unix milliseconds of the last committed batch (or idle stage).
    last_progress_ms: AtomicI64,
}

impl PipelineStatus {
    pub(super) fn new(sinks: &[Arc<dyn Sink>], port: Arc<Port>) -> Self {
        PipelineStatus {
            source: OnceLock::new(),
            sinks: sinks.iter().map(|s| (s.name(), AtomicBool::new(true))).collect(),
            port,
            committed: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
            last_progress_ms: AtomicI64::new(Utc::now().timestamp_millis()),
        }
    }

    pub(super) fn attach_source(&self, source: SourceHandle) {
        let _ = self.source.set(source);
    }

    pub(super) fn mark_all_sinks_up(&self) {
        for (name, _) in &self.sinks {
            self.set_sink_up(name, true);
        }
    }

    pub(super) fn set_sink_up(&self, name: &str, up: bool) {
        for (n, flag) in &self.sinks {
            if *n == name {
                flag.store(up, Ordering::Relaxed);
            }
        }
        metrics::gauge!(porttrack_metrics::SINK_UP, "sink" => name.to_owned()).set(if up {
            1.0
        } else {
            0.0
        });
    }

    pub(super) fn progressed(&self) {
        let now = Utc::now().timestamp_millis();
        self.last_progress_ms.store(now, Ordering::Relaxed);
        metrics::gauge!(porttrack_metrics::LAST_PROGRESS_TIMESTAMP_SECONDS).set(now as f64 / 1000.0);
    }

    /// How long the poll loop has been silent, if longer than `limit`.
    pub fn stalled_for(&self, limit: Duration) -> Option<Duration> {
        let source = self.source.get()?;
        let age_ms = Utc::now().timestamp_millis() - source.last_heartbeat_unix_ms();
        let age = Duration::from_millis(u64::try_from(age_ms).unwrap_or(0));
        (age > limit).then_some(age)
    }

    /// Why the instance should not receive traffic now, if it should not.
    pub fn not_ready_reason(&self) -> Option<String> {
        let Some(source) = self.source.get() else { return Some("starting".into()) };
        if source.assigned_partitions() == 0 {
            return Some("no partitions assigned".into());
        }
        let down: Vec<&str> =
            self.sinks.iter().filter(|(_, up)| !up.load(Ordering::Relaxed)).map(|(n, _)| *n).collect();
        (!down.is_empty()).then(|| format!("sinks unavailable: {}", down.join(", ")))
    }

    /// Consumer lag summed over this instance's partitions.
    pub fn lag(&self) -> i64 {
        self.source.get().map_or(0, SourceHandle::lag)
    }

    /// Records consumed since start.
    pub fn consumed(&self) -> u64 {
        self.source.get().map_or(0, SourceHandle::consumed)
    }

    /// Partitions assigned to this instance.
    pub fn assigned_partitions(&self) -> usize {
        self.source.get().map_or(0, SourceHandle::assigned_partitions)
    }

    /// Vessels with state on this instance.
    pub fn vessels(&self) -> usize {
        self.port.vessel_count()
    }

    /// Updates gauges that are cheaper to sample than to maintain.
    pub fn refresh_gauges(&self) {
        metrics::gauge!(porttrack_metrics::VESSELS_TRACKED).set(self.port.vessel_count() as f64);
        for zone in self.port.geography().zones() {
            let g = self.port.zone_gauges(zone.id());
            metrics::gauge!(porttrack_metrics::ZONE_VESSELS, "zone" => zone.name().to_owned())
                .set(g.present as f64);
            if zone.kind() == ZoneKind::Anchorage {
                metrics::gauge!(porttrack_metrics::ANCHORAGE_QUEUE_VESSELS, "zone" => zone.name().to_owned())
                    .set(g.queue as f64);
            }
        }
    }
}
