//! Metrics, logs and traces.
//!
//! Three roles, each usable alone:
//!
//! * **Metrics** ([`metrics`], [`render`]): the global `metrics` recorder,
//!   exported by `/metrics` in the Prometheus text format, plus the standard
//!   `process_*` metrics read from `/proc` at scrape time. Names follow
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
//! metrics::counter!("porttrack_records_consumed_total").increment(1);
//! let text = porttrack::telemetry::render(); // what /metrics serves
//! assert!(text.contains("porttrack_records_consumed_total 1"));
//! # Ok(()) }
//! ```

mod ecs;
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
            metrics::counter!("porttrack_trace_links_dropped_total", "reason" => "invalid")
                .increment(invalid);
        }
        if batch.trace_parents_dropped > 0 {
            metrics::counter!("porttrack_trace_links_dropped_total", "reason" => "cap")
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

/// Latency buckets, in seconds: 1 ms to 60 s.
const SECONDS_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Record-latency buckets, in seconds: finer around the 1 s objective, so a
/// p99 read off them is good to 0.1 s there.
pub const RECORD_LATENCY_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0, 2.5, 5.0, 10.0,
    30.0, 60.0,
];
/// Batch-size buckets, in records.
const RECORDS_BUCKETS: &[f64] = &[1.0, 10.0, 100.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 25_000.0];

/// Installs the global Prometheus recorder once and returns its handle.
pub fn metrics() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            // A full-name matcher is consulted before suffixes.
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("porttrack_record_latency_seconds".into()),
                    RECORD_LATENCY_BUCKETS,
                )
            })
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
        describe();
        preregister();
        metrics::gauge!(
            "porttrack_build_info",
            "version" => release_version(),
            "commit" => option_env!("PORTTRACK_GIT_COMMIT").unwrap_or("unknown")
        )
        .set(1.0);
        handle
    })
}

/// What `/metrics` serves: the recorder's metrics and the process metrics.
pub fn render() -> String {
    let handle = metrics();
    handle.run_upkeep();
    let mut text = handle.render();
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
        metrics::counter!("porttrack_records_rejected_total", "reason" => class.as_str()).absolute(0);
        metrics::counter!("porttrack_dead_letters_total", "reason" => class.as_str()).absolute(0);
    }
    for format in Format::ALL {
        metrics::counter!("porttrack_records_decoded_total", "format" => format.as_str()).absolute(0);
    }
    for kind in ANOMALY_KINDS {
        metrics::counter!("porttrack_anomalies_total", "kind" => kind).absolute(0);
    }
    for kind in ["assign", "revoke"] {
        metrics::counter!("porttrack_rebalances_total", "kind" => kind).absolute(0);
    }
    for result in ["ok", "error"] {
        metrics::counter!("porttrack_offset_commits_total", "result" => result).absolute(0);
    }
    for result in ["ok", "error", "refused"] {
        metrics::counter!("porttrack_state_restores_total", "result" => result).absolute(0);
    }
    for reason in ["cap", "invalid"] {
        metrics::counter!("porttrack_trace_links_dropped_total", "reason" => reason).absolute(0);
    }
    for name in [
        "porttrack_records_consumed_total",
        "porttrack_records_committed_total",
        "porttrack_records_redelivered_total",
        "porttrack_offset_refetches_total",
        "porttrack_offset_gaps_total",
        "porttrack_batches_stale_total",
        "porttrack_kafka_errors_total",
        "porttrack_port_arrivals_total",
        "porttrack_port_departures_total",
        "porttrack_fault_injected_total",
        "porttrack_derived_unstored_total",
    ] {
        metrics::counter!(name).absolute(0);
    }
    for name in ["porttrack_batches_in_flight", "porttrack_source_paused", "porttrack_partitions_assigned"] {
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
        metrics::counter!("porttrack_sink_records_written_total", "sink" => sink.to_owned()).absolute(0);
        for kind in ["transient", "permanent"] {
            metrics::counter!("porttrack_sink_errors_total", "sink" => sink.to_owned(), "kind" => kind)
                .absolute(0);
        }
        if sink == "elasticsearch" {
            metrics::counter!("porttrack_sink_item_retries_total", "sink" => "elasticsearch").absolute(0);
        }
    }
    for sink in ["dead_letter", "state"] {
        metrics::counter!("porttrack_sink_errors_total", "sink" => sink, "kind" => "transient").absolute(0);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    metrics::gauge!("porttrack_last_progress_timestamp_seconds").set(now);
}

/// Describes every metric (`# HELP`); names and meanings are listed in `docs/metrics.md`.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    // Build and progress.
    describe_gauge!("porttrack_build_info", "Always 1; labels carry the version and commit of this build.");
    describe_gauge!(
        "porttrack_last_progress_timestamp_seconds",
        Unit::Seconds,
        "Unix time of the last committed batch or idle pass of the stage."
    );
    // Source.
    describe_counter!("porttrack_records_consumed_total", Unit::Count, "Records read from Kafka and staged.");
    describe_counter!(
        "porttrack_records_decoded_total",
        Unit::Count,
        "Records decoded into events, by wire format (json/avro/nmea)."
    );
    describe_counter!(
        "porttrack_records_rejected_total",
        Unit::Count,
        "Records refused by decoding or validation (or failed on purpose), by reason."
    );
    describe_counter!(
        "porttrack_records_redelivered_total",
        Unit::Count,
        "Records delivered again by the Kafka client and skipped."
    );
    describe_counter!(
        "porttrack_records_committed_total",
        Unit::Count,
        "Records whose offsets were committed after every sink acknowledged them."
    );
    describe_gauge!("porttrack_batches_in_flight", Unit::Count, "Batches sealed but not yet acknowledged.");
    describe_gauge!("porttrack_source_paused", "1 while partitions are paused because sinks are behind.");
    describe_gauge!("porttrack_partitions_assigned", Unit::Count, "Partitions assigned to this instance.");
    describe_gauge!(
        "porttrack_consumer_lag_records",
        Unit::Count,
        "Records behind the high watermark, by owned partition (librdkafka statistics; 0 once revoked)."
    );
    describe_counter!(
        "porttrack_rebalances_total",
        Unit::Count,
        "Rebalance callbacks, by kind (assign/revoke)."
    );
    describe_counter!("porttrack_offset_commits_total", Unit::Count, "Offset commits, by result (ok/error).");
    describe_counter!(
        "porttrack_offset_refetches_total",
        Unit::Count,
        "Gaps in delivered offsets that triggered a re-fetch."
    );
    describe_counter!(
        "porttrack_offset_gaps_total",
        Unit::Count,
        "Offset gaps confirmed by the broker (records absent from the log)."
    );
    describe_counter!(
        "porttrack_batches_stale_total",
        Unit::Count,
        "Batches acknowledged after their partitions were revoked (not committed; replayed by the new owner)."
    );
    describe_counter!("porttrack_kafka_errors_total", Unit::Count, "Errors reported by the Kafka client.");
    // Stage and sinks.
    describe_counter!(
        "porttrack_dead_letters_total",
        Unit::Count,
        "Records written to the dead-letter topic (acknowledged), by reason."
    );
    describe_counter!(
        "porttrack_sink_records_written_total",
        Unit::Count,
        "Records durably written, by sink."
    );
    describe_counter!(
        "porttrack_sink_errors_total",
        Unit::Count,
        "Failed sink writes, by sink and kind (transient/permanent)."
    );
    describe_counter!(
        "porttrack_sink_item_retries_total",
        Unit::Count,
        "Individual items retried inside a sink write (Elasticsearch 429/5xx)."
    );
    describe_gauge!("porttrack_sink_up", "1 when the sink's last write or check succeeded, by sink.");
    describe_histogram!(
        "porttrack_sink_write_duration_seconds",
        Unit::Seconds,
        "Duration of one successful sink write, by sink."
    );
    describe_histogram!(
        "porttrack_batch_duration_seconds",
        Unit::Seconds,
        "From a batch's first record being consumed to its offsets being committed."
    );
    describe_histogram!("porttrack_batch_size_records", Unit::Count, "Records per batch.");
    describe_histogram!(
        "porttrack_event_age_seconds",
        Unit::Seconds,
        "Event time to durable write, per committed record."
    );
    describe_histogram!(
        "porttrack_record_latency_seconds",
        Unit::Seconds,
        "Kafka record timestamp (producer create time) to every sink's acknowledgement, per record."
    );
    describe_counter!(
        "porttrack_derived_unstored_total",
        Unit::Count,
        "Processor outputs of a kind no sink stores (a defect; should stay 0)."
    );
    describe_counter!(
        "porttrack_fault_injected_total",
        Unit::Count,
        "Records failed on purpose by pipeline.fault_injection_ratio (drills only; 0 normally)."
    );
    describe_counter!(
        "porttrack_state_restores_total",
        Unit::Count,
        "Partition checkpoints restored on assignment, by result (ok/error/refused)."
    );
    describe_counter!(
        "porttrack_trace_links_dropped_total",
        Unit::Count,
        "Record trace contexts not linked to their batch span, by reason (cap/invalid)."
    );
    // Port processor.
    describe_gauge!("porttrack_vessels_tracked", Unit::Count, "Vessels with state on this instance.");
    describe_counter!(
        "porttrack_processor_events_total",
        Unit::Count,
        "Events applied to the port processor, by event kind and result."
    );
    describe_gauge!(
        "porttrack_zone_vessels",
        Unit::Count,
        "Vessels of this instance's partitions inside a zone of the port geography."
    );
    describe_gauge!(
        "porttrack_anchorage_queue_vessels",
        Unit::Count,
        "Vessels of this instance's partitions waiting at an anchorage."
    );
    describe_gauge!(
        "porttrack_anchorage_wait_seconds",
        Unit::Seconds,
        "Waiting time so far of the vessels at an anchorage, by quantile (0.5/0.9)."
    );
    describe_gauge!("porttrack_berth_occupancy_ratio", "Occupied share of a zone's berths (0 to 1).");
    describe_gauge!(
        "porttrack_congestion_level",
        "Congestion of a zone: 0 free, 1 moderate, 2 heavy, 3 severe."
    );
    describe_counter!("porttrack_port_arrivals_total", Unit::Count, "Observed arrivals at a berth.");
    describe_counter!("porttrack_port_departures_total", Unit::Count, "Departures from a berth.");
    describe_gauge!(
        "porttrack_weather_alerts_active",
        "1 while a weather alert (gust/visibility) is active in a zone."
    );
    describe_counter!("porttrack_anomalies_total", Unit::Count, "Vessel anomalies detected, by kind.");
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    }
}
