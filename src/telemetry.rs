//! Logs and metrics set-up.
//!
//! Metric names follow `docs/metrics.md`: `porttrack_` prefix, base units in
//! the name (`_seconds`, `_records`), `_total` on counters, and labels from
//! small closed sets only (never an MMSI or free text).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogFormat};

/// Installs the global `tracing` subscriber. Later calls are no-ops.
pub fn init_logging(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|e| {
        eprintln!("log.filter {:?} is not a valid filter ({e}); using \"info\"", config.filter);
        EnvFilter::new("info")
    });
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().flatten_event(true).with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // Already installed (tests, or `demo` calling into `run`): keep the first.
    let _ = result;
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets, in seconds: 1 ms to 60 s.
const SECONDS_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Batch-size buckets, in records.
const RECORDS_BUCKETS: &[f64] = &[1.0, 10.0, 100.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 25_000.0];

/// Installs the global Prometheus recorder once and returns its handle.
pub fn metrics() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
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
        metrics::gauge!(
            "porttrack_build_info",
            "version" => env!("CARGO_PKG_VERSION"),
            "commit" => option_env!("PORTTRACK_GIT_COMMIT").unwrap_or("unknown")
        )
        .set(1.0);
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!("porttrack_build_info", "Always 1; labels carry the version and commit of this build.");
    describe_counter!("porttrack_records_consumed_total", Unit::Count, "Records read from Kafka.");
    describe_counter!(
        "porttrack_records_rejected_total",
        Unit::Count,
        "Records refused by decoding or validation, by reason."
    );
    describe_counter!(
        "porttrack_dead_letters_total",
        Unit::Count,
        "Records written to the dead-letter topic, by reason."
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
        "Individual items retried inside a sink write."
    );
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
    describe_gauge!("porttrack_batches_in_flight", Unit::Count, "Batches sealed but not yet acknowledged.");
    describe_gauge!("porttrack_source_paused", "1 while partitions are paused because sinks are behind.");
    describe_gauge!("porttrack_sink_up", "1 when the sink's last write or check succeeded, by sink.");
    describe_gauge!("porttrack_partitions_assigned", Unit::Count, "Partitions assigned to this instance.");
    describe_gauge!(
        "porttrack_consumer_lag_records",
        Unit::Count,
        "Records behind the high watermark, by partition (librdkafka statistics)."
    );
    describe_gauge!("porttrack_vessels_tracked", Unit::Count, "Vessels with state on this instance.");
    describe_counter!(
        "porttrack_rebalances_total",
        Unit::Count,
        "Rebalance callbacks, by kind (assign/revoke)."
    );
    describe_counter!("porttrack_offset_commits_total", Unit::Count, "Offset commits, by result.");
    describe_counter!(
        "porttrack_batches_stale_total",
        Unit::Count,
        "Batches acknowledged after their partitions were revoked (not committed; replayed by the new owner)."
    );
    describe_counter!("porttrack_kafka_errors_total", Unit::Count, "Errors reported by the Kafka client.");
}
