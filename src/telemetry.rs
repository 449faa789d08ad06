//! Metrics, logs and traces.
//!
//! Three roles, each usable alone:
//!
//! * **Metrics** ([`metrics`], [`render`]): the global `metrics` recorder,
//!   exported by `/metrics` in the Prometheus text format, plus the standard
//!   `process_*` metrics read from `/proc` and the allocator's
//!   `porttrack_heap_*` gauges, both at scrape time. Names follow
//!   `docs/metrics.md`: `porttrack_` prefix, base units in the name
//!   (`_seconds`, `_records`), `_total` on counters, labels from small closed
//!   sets only (never an MMSI or free text). Every metric is described here
//!   ([`describe`]) and every labelled counter over a closed label set is
//!   registered at 0 when the recorder is installed, so `rate()` and
//!   `increase()` have a series from the first scrape on.
//! * **Logs** ([`init`]): `tracing` events as human-readable text, or as JSON
//!   lines with Elastic Common Schema names (`log.format = "json"`, see
//!   [`EcsLayer`]).
//! * **Traces** ([`init`] with `telemetry.otlp_endpoint` set): `tracing` spans
//!   exported through OpenTelemetry over OTLP/HTTP. The pipeline makes one
//!   span per batch ([`batch_span`]), never per record, linked to the W3C
//!   trace contexts its records carried in their `traceparent` header (at
//!   most `telemetry.max_links`; the rest are counted in
//!   `porttrack_trace_links_dropped_total`).
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let config = porttrack::config::Config::load(None).map_err(|e| anyhow::anyhow!("{e}"))?;
//! // Keep the guard alive: dropping it flushes and stops the span exporter.
//! let _telemetry = porttrack::telemetry::init(&config.log, &config.telemetry)?;
//! porttrack::telemetry::metrics(); // installs the recorder
//! metrics::counter!(porttrack_metrics::RECORDS_CONSUMED_TOTAL).increment(1);
//! let text = porttrack::telemetry::render(); // what /metrics serves
//! assert!(text.contains("porttrack_records_consumed_total 1"));
//! # Ok(()) }
//! ```

mod ecs;
mod heap;
pub mod histogram;
mod process;
mod trace_context;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use porttrack_ingest::Batch;
use porttrack_ingest::config::Format;
use porttrack_schemas::RejectClass;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use ecs::{ECS_VERSION, EcsLayer};
pub use process::ProcessSample;
pub use trace_context::TraceParent;

use crate::config::{LogConfig, LogFormat, TelemetryConfig};

/// `service.name` of logs and spans (unless `OTEL_SERVICE_NAME` says otherwise for spans).
pub const SERVICE_NAME: &str = "porttrack";

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The OTLP exporter refused its configuration (a malformed endpoint).
    #[error("telemetry.otlp_endpoint: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// Whether spans are exported: links are only worth parsing then.
static OTEL_ENABLED: AtomicBool = AtomicBool::new(false);

/// Keeps the span exporter running; dropping it flushes pending spans and
/// stops the exporter (bounded by `telemetry.otlp_timeout`).
#[derive(Debug)]
#[must_use = "dropping the guard stops the span exporter"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported over OTLP.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            OTEL_ENABLED.store(false, Ordering::Relaxed);
            if let Err(e) = provider.shutdown() {
                eprintln!("flushing spans at exit: {e}");
            }
        }
    }
}

/// Installs the global `tracing` subscriber: logs to stderr in the
/// configured format and, if `telemetry.otlp_endpoint` is set, span export.
/// Later calls install nothing and return an inert guard.
pub fn init(log: &LogConfig, telemetry: &TelemetryConfig) -> Result<Telemetry, TelemetryError> {
    init_with_writer(log, telemetry, std::io::stderr)
}

/// [`init`] without span export: logs only (tools such as `sim` and `migrate`).
pub fn init_logging(config: &LogConfig) {
    // No exporter, so the guard holds nothing to flush.
    let _ = init(config, &TelemetryConfig::default());
}

/// [`init`], writing logs to `writer` (benchmarks and tests).
pub fn init_with_writer<W>(
    log: &LogConfig,
    telemetry: &TelemetryConfig,
    writer: W,
) -> Result<Telemetry, TelemetryError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&log.filter).unwrap_or_else(|e| {
        eprintln!("log.filter {:?} is not a valid filter ({e}); using \"info\"", log.filter);
        EnvFilter::new("info")
    });
    let provider = telemetry.otlp_endpoint.as_deref().map(|e| tracer_provider(e, telemetry)).transpose()?;
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer(SERVICE_NAME))
            // Busy/idle time per span costs two clock reads per poll of the
            // instrumented future; the span's own duration is what matters.
            .with_tracked_inactivity(false)
            .with_threads(false)
    });
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = match log.format {
        LogFormat::Json => {
            registry.with(EcsLayer::new(writer, SERVICE_NAME, &release_version())).try_init().is_ok()
        }
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_writer(writer),
            )
            .try_init()
            .is_ok(),
    };
    if !installed {
        // Already installed (tests, or `demo` calling into `run`): keep the
        // first, and do not export spans nobody produces.
        if let Some(p) = provider {
            let _ = p.shutdown();
        }
        return Ok(Telemetry { provider: None });
    }
    if let Some(endpoint) = &telemetry.otlp_endpoint {
        OTEL_ENABLED.store(true, Ordering::Relaxed);
        tracing::info!(endpoint = %endpoint, sample_ratio = telemetry.sample_ratio, "exporting spans over OTLP/HTTP");
    }
    Ok(Telemetry { provider })
}

/// The OTLP/HTTP traces URL of a collector's base URL.
fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") { base.to_owned() } else { format!("{base}/v1/traces") }
}

fn tracer_provider(endpoint: &str, config: &TelemetryConfig) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(traces_url(endpoint))
        .with_timeout(config.otlp_timeout)
        .build()?;
    let mut resource = opentelemetry_sdk::Resource::builder()
        .with_attribute(opentelemetry::KeyValue::new("service.version", release_version()));
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(SERVICE_NAME);
    }
    Ok(SdkTracerProvider::builder()
        // A batch processor on its own thread: export never blocks the pipeline.
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.sample_ratio))))
        .with_max_links_per_span(u32::try_from(config.max_links).unwrap_or(u32::MAX))
        .with_resource(resource.build())
        .build())
}

/// The span of one batch through the stage: processors, sink writes, dead
/// letters. Linked to the trace contexts the batch's records carried.
///
/// Fields follow OpenTelemetry's messaging conventions where they apply
/// (`messaging.system`, `messaging.batch.message_count`); `otel.kind`
/// makes the exported span a consumer span.
pub fn batch_span(batch: &Batch) -> tracing::Span {
    let span = tracing::info_span!(
        "batch",
        otel.kind = "consumer",
        messaging.system = "kafka",
        "messaging.operation.type" = "process",
        messaging.batch.message_count = batch.len(),
        accepted = batch.accepted.len(),
        rejected = batch.rejected.len(),
    );
    if OTEL_ENABLED.load(Ordering::Relaxed) && !span.is_disabled() {
        let mut invalid = 0_u64;
        for value in &batch.trace_parents {
            match TraceParent::parse(value) {
                Some(parent) => span.add_link(parent.span_context()),
                None => invalid += 1,
            }
        }
        if invalid > 0 {
            metrics::counter!(porttrack_metrics::TRACE_LINKS_DROPPED_TOTAL, "reason" => "invalid")
                .increment(invalid);
        }
        if batch.trace_parents_dropped > 0 {
            metrics::counter!(porttrack_metrics::TRACE_LINKS_DROPPED_TOTAL, "reason" => "cap")
                .increment(batch.trace_parents_dropped as u64);
        }
    }
    span
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The `version` label of `porttrack_build_info`: `PORTTRACK_RELEASE` when
/// set (the release or image tag a deployment stamps on its pods, so a
/// canary of the same crate version is still told apart), else the crate
/// version.
pub fn release_version() -> String {
    std::env::var("PORTTRACK_RELEASE")
        .ok()
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned())
}

/// Batch-size buckets, in records.
const RECORDS_BUCKETS: &[f64] = &[1.0, 10.0, 100.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 25_000.0];

/// Installs the global Prometheus recorder once and returns its handle.
pub fn metrics() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), histogram::SECONDS_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_records".into()), RECORDS_BUCKETS))
            .map(|b| b.build_recorder())
            .map(|recorder| {
                let handle = recorder.handle();
                if metrics::set_global_recorder(recorder).is_err() {
                    tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
                }
                handle
            })
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "metrics buckets refused; falling back to defaults");
                PrometheusBuilder::new().build_recorder().handle()
            });
        spawn_upkeep(handle.clone());
        describe();
        preregister();
        metrics::gauge!(
            porttrack_metrics::BUILD_INFO,
            "version" => release_version(),
            "commit" => option_env!("PORTTRACK_GIT_COMMIT").unwrap_or("unknown")
        )
        .set(1.0);
        handle
    })
}

/// How often histogram samples are folded into their buckets without a scrape.
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds recorded histogram samples into their buckets every
/// [`UPKEEP_INTERVAL`], on a thread of its own.
///
/// Why: the recorder keeps every histogram sample until an upkeep folds
/// them, and `build_recorder` leaves upkeep to the caller; before this,
/// only a scrape of `/metrics` did it. A pipeline nobody scraped
/// (Prometheus down, or not deployed) grew by 2.4 GB an hour at 20,000
/// records/s, when the two per-record histograms still went through the
/// recorder (found by the 30-minute soak of `cargo bench --bench
/// pipeline`). They no longer do ([`histogram`]); the recorder's
/// histograms are now a few samples per batch.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new().name("porttrack-metrics-upkeep".into()).spawn(move || {
        loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "metrics upkeep thread not started; histograms fold only when scraped");
    }
}

/// What `/metrics` serves: the recorder's metrics and the process metrics.
pub fn render() -> String {
    let handle = metrics();
    heap::record();
    handle.run_upkeep();
    let mut text = handle.render();
    histogram::render(&mut text);
    process::render(&mut text);
    text
}

/// Anomaly kinds of `porttrack_anomalies_total`.
pub const ANOMALY_KINDS: [&str; 5] =
    ["dark", "speeding", "stopped_in_channel", "hazardous_in_restricted", "position_jump"];

/// Registers at 0 the counters whose label sets are closed and known
/// without configuration, so their series exist before the first event.
fn preregister() {
    for class in RejectClass::ALL {
        metrics::counter!(porttrack_metrics::RECORDS_REJECTED_TOTAL, "reason" => class.as_str()).absolute(0);
        metrics::counter!(porttrack_metrics::DEAD_LETTERS_TOTAL, "reason" => class.as_str()).absolute(0);
    }
    for format in Format::ALL {
        metrics::counter!(porttrack_metrics::RECORDS_DECODED_TOTAL, "format" => format.as_str()).absolute(0);
    }
    for t in porttrack_ingest::decode::nmea::IGNORED_TYPES {
        let label = porttrack_ingest::decode::nmea::type_label(t);
        metrics::counter!(porttrack_metrics::AIS_MESSAGES_IGNORED_TOTAL, "type" => label).absolute(0);
    }
    for kind in ANOMALY_KINDS {
        metrics::counter!(porttrack_metrics::ANOMALIES_TOTAL, "kind" => kind).absolute(0);
    }
    for kind in ["assign", "revoke"] {
        metrics::counter!(porttrack_metrics::REBALANCES_TOTAL, "kind" => kind).absolute(0);
    }
    for result in ["ok", "error"] {
        metrics::counter!(porttrack_metrics::OFFSET_COMMITS_TOTAL, "result" => result).absolute(0);
    }
    for result in ["ok", "error", "refused"] {
        metrics::counter!(porttrack_metrics::STATE_RESTORES_TOTAL, "result" => result).absolute(0);
    }
    for reason in ["cap", "invalid"] {
        metrics::counter!(porttrack_metrics::TRACE_LINKS_DROPPED_TOTAL, "reason" => reason).absolute(0);
    }
    for name in [
        porttrack_metrics::RECORDS_CONSUMED_TOTAL,
        porttrack_metrics::RECORDS_COMMITTED_TOTAL,
        porttrack_metrics::RECORDS_REDELIVERED_TOTAL,
        porttrack_metrics::OFFSET_REFETCHES_TOTAL,
        porttrack_metrics::OFFSET_GAPS_TOTAL,
        porttrack_metrics::BATCHES_STALE_TOTAL,
        porttrack_metrics::KAFKA_ERRORS_TOTAL,
        porttrack_metrics::PORT_ARRIVALS_TOTAL,
        porttrack_metrics::PORT_DEPARTURES_TOTAL,
        porttrack_metrics::FAULT_INJECTED_TOTAL,
        porttrack_metrics::DERIVED_UNSTORED_TOTAL,
    ] {
        metrics::counter!(name).absolute(0);
    }
    for name in [
        porttrack_metrics::BATCHES_IN_FLIGHT,
        porttrack_metrics::SOURCE_PAUSED,
        porttrack_metrics::PARTITIONS_ASSIGNED,
    ] {
        metrics::gauge!(name).increment(0.0);
    }
}

/// Registers the per-sink series of a starting pipeline at 0 and starts its
/// progress clock (`porttrack_last_progress_timestamp_seconds`), so the
/// stall alert measures from the start rather than staying silent until the
/// first commit.
pub fn pipeline_started<'a>(sinks: impl IntoIterator<Item = &'a str>) {
    metrics();
    for sink in sinks {
        metrics::counter!(porttrack_metrics::SINK_RECORDS_WRITTEN_TOTAL, "sink" => sink.to_owned())
            .absolute(0);
        for kind in ["transient", "permanent"] {
            metrics::counter!(porttrack_metrics::SINK_ERRORS_TOTAL, "sink" => sink.to_owned(), "kind" => kind)
                .absolute(0);
        }
        if sink == "elasticsearch" {
            metrics::counter!(porttrack_metrics::SINK_ITEM_RETRIES_TOTAL, "sink" => "elasticsearch")
                .absolute(0);
        }
    }
    for sink in ["dead_letter", "state"] {
        metrics::counter!(porttrack_metrics::SINK_ERRORS_TOTAL, "sink" => sink, "kind" => "transient")
            .absolute(0);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    metrics::gauge!(porttrack_metrics::LAST_PROGRESS_TIMESTAMP_SECONDS).set(now);
}

/// Describes every metric (`# HELP`) from `porttrack_metrics`, where each is
/// defined once (and held to `docs/metrics.md` by a test).
pub fn describe() {
    porttrack_metrics::describe_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-record histograms are rendered by `histogram`, not the
    /// recorder, which still has their descriptions: one `# TYPE` each, or
    /// Prometheus refuses the scrape.
    #[test]
    fn the_per_record_histograms_are_rendered_once() {
        let text = render();
        for name in [porttrack_metrics::EVENT_AGE_SECONDS, porttrack_metrics::RECORD_LATENCY_SECONDS] {
            assert_eq!(text.matches(&format!("# TYPE {name} histogram\n")).count(), 1, "{name}");
            assert_eq!(text.matches(&format!("# HELP {name} ")).count(), 1, "{name}");
        }
    }

    #[test]
    fn traces_url_appends_the_signal_path_once() {
        assert_eq!(traces_url("http://collector:4318"), "http://collector:4318/v1/traces");
        assert_eq!(traces_url("http://collector:4318/"), "http://collector:4318/v1/traces");
        assert_eq!(traces_url("https://c/v1/traces"), "https://c/v1/traces");
    }

    /// What the contract (deploy/prometheus/lint.py, docs/metrics.md) needs
    /// before any traffic: closed label sets at 0, process metrics, HELP.
    #[test]
    fn the_first_scrape_has_every_closed_series_at_zero() {
        pipeline_started(["postgres", "elasticsearch"]);
        let text = render();
        for class in RejectClass::ALL {
            for name in ["porttrack_records_rejected_total", "porttrack_dead_letters_total"] {
                let series = format!("{name}{{reason=\"{}\"}} ", class.as_str());
                assert!(text.contains(&series), "{series} missing");
            }
        }
        for needle in [
            "porttrack_records_decoded_total{format=\"nmea\"} 0",
            "porttrack_anomalies_total{kind=\"position_jump\"} 0",
            "porttrack_rebalances_total{kind=\"assign\"} 0",
            "porttrack_offset_commits_total{result=\"error\"} 0",
            "porttrack_sink_errors_total{sink=\"postgres\",kind=\"permanent\"} 0",
            "porttrack_sink_item_retries_total{sink=\"elasticsearch\"} 0",
            "porttrack_port_arrivals_total 0",
            "porttrack_fault_injected_total 0",
            "porttrack_partitions_assigned 0",
            "porttrack_build_info{version=",
            "porttrack_last_progress_timestamp_seconds ",
            "# HELP porttrack_records_committed_total ",
            "# TYPE process_cpu_seconds_total counter",
            "process_start_time_seconds ",
            "process_open_fds ",
            "process_resident_memory_bytes ",
            "# TYPE porttrack_heap_allocated_bytes gauge",
            "porttrack_heap_resident_bytes ",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    }
}
