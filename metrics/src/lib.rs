//! Every metric PortTrack exports, written once: its name, type, unit and
//! help text.
//!
//! Code records through these constants (`metrics::counter!(RECORDS_CONSUMED_TOTAL)`),
//! never through a string literal, so a name cannot drift between the place
//! that records it, the `# HELP` text ([`describe_all`]) and the naming spec
//! in `docs/metrics.md`, which `tests/docs.rs` holds to [`ALL`]. A test there
//! also fails on any `porttrack_` literal left in a `metrics` macro of the
//! workspace.
//!
//! Why a crate of its own: the source (`porttrack-ingest`), the sinks
//! (`porttrack-sinks`) and the binary all record metrics, and the one place
//! they can share without depending on each other is a crate below them.
//! It does no I/O: it only names things, and [`describe_all`] hands the help
//! texts to whatever recorder is installed.

use metrics::Unit;

/// A metric's type, as Prometheus shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// Only goes up; a `_total` name.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations in buckets.
    Histogram,
}

impl Kind {
    /// The type's name in Prometheus' text format.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One metric's definition.
#[derive(Debug, Clone, Copy)]
pub struct Def {
    /// The exported name (`porttrack_` prefix, base unit, `_total` for counters).
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// The unit, when it has one.
    pub unit: Option<Unit>,
    /// The `# HELP` text.
    pub help: &'static str,
}

macro_rules! metrics {
    ($( $konst:ident = $name:literal, $kind:ident, $unit:expr, $help:literal; )*) => {
        $(
            #[doc = $help]
            pub const $konst: &str = $name;
        )*
        /// Every metric, in the order of `docs/metrics.md`.
        pub const ALL: &[Def] = &[ $( Def { name: $name, kind: Kind::$kind, unit: $unit, help: $help } ),* ];
    };
}

metrics! {
    BUILD_INFO = "porttrack_build_info", Gauge, None, "Always 1; labels carry the version and commit of this build.";
    LAST_PROGRESS_TIMESTAMP_SECONDS = "porttrack_last_progress_timestamp_seconds", Gauge, Some(Unit::Seconds), "Unix time of the last committed batch or idle pass of the stage.";
    RECORDS_CONSUMED_TOTAL = "porttrack_records_consumed_total", Counter, Some(Unit::Count), "Records read from Kafka and staged.";
    RECORDS_DECODED_TOTAL = "porttrack_records_decoded_total", Counter, Some(Unit::Count), "Records decoded into events, by wire format (json/avro/nmea).";
    RECORDS_REJECTED_TOTAL = "porttrack_records_rejected_total", Counter, Some(Unit::Count), "Records refused by decoding or validation (or failed on purpose), by reason.";
    AIS_MESSAGES_IGNORED_TOTAL = "porttrack_ais_messages_ignored_total", Counter, Some(Unit::Count), "AIS messages decoded and deliberately not stored (acknowledgements, interrogations, base-station management, DGNSS, other binary applications), by message type.";
    RECORDS_REDELIVERED_TOTAL = "porttrack_records_redelivered_total", Counter, Some(Unit::Count), "Records delivered again by the Kafka client and skipped.";
    RECORDS_COMMITTED_TOTAL = "porttrack_records_committed_total", Counter, Some(Unit::Count), "Records whose offsets were committed after every sink acknowledged them.";
    BATCHES_IN_FLIGHT = "porttrack_batches_in_flight", Gauge, Some(Unit::Count), "Batches sealed but not yet acknowledged.";
    SOURCE_PAUSED = "porttrack_source_paused", Gauge, None, "1 while partitions are paused because sinks are behind.";
    PARTITIONS_ASSIGNED = "porttrack_partitions_assigned", Gauge, Some(Unit::Count), "Partitions assigned to this instance.";
    CONSUMER_LAG_RECORDS = "porttrack_consumer_lag_records", Gauge, Some(Unit::Count), "Records behind the high watermark, by owned partition (librdkafka statistics; 0 once revoked).";
    REBALANCES_TOTAL = "porttrack_rebalances_total", Counter, Some(Unit::Count), "Rebalance callbacks, by kind (assign/revoke).";
    OFFSET_COMMITS_TOTAL = "porttrack_offset_commits_total", Counter, Some(Unit::Count), "Offset commits, by result (ok/error).";
    OFFSET_REFETCHES_TOTAL = "porttrack_offset_refetches_total", Counter, Some(Unit::Count), "Gaps in delivered offsets that triggered a re-fetch.";
    OFFSET_GAPS_TOTAL = "porttrack_offset_gaps_total", Counter, Some(Unit::Count), "Offset gaps confirmed by the broker (records absent from the log).";
    BATCHES_STALE_TOTAL = "porttrack_batches_stale_total", Counter, Some(Unit::Count), "Batches of a generation a rebalance ended before they were acknowledged: skipped, or if already being written not committed; replayed by the new owner.";
    KAFKA_ERRORS_TOTAL = "porttrack_kafka_errors_total", Counter, Some(Unit::Count), "Errors reported by the Kafka client.";
    DEAD_LETTERS_TOTAL = "porttrack_dead_letters_total", Counter, Some(Unit::Count), "Records written to the dead-letter topic (acknowledged), by reason.";
    SINK_RECORDS_WRITTEN_TOTAL = "porttrack_sink_records_written_total", Counter, Some(Unit::Count), "Records durably written, by sink.";
    SINK_ERRORS_TOTAL = "porttrack_sink_errors_total", Counter, Some(Unit::Count), "Failed sink writes, by sink and kind (transient/permanent).";
    SINK_ITEM_RETRIES_TOTAL = "porttrack_sink_item_retries_total", Counter, Some(Unit::Count), "Individual items retried inside a sink write (Elasticsearch 429/5xx).";
    SINK_UP = "porttrack_sink_up", Gauge, None, "1 when the sink's last write or check succeeded, by sink.";
    SINK_WRITE_DURATION_SECONDS = "porttrack_sink_write_duration_seconds", Histogram, Some(Unit::Seconds), "Duration of one successful sink write, by sink.";
    BATCH_DURATION_SECONDS = "porttrack_batch_duration_seconds", Histogram, Some(Unit::Seconds), "From a batch's first record being consumed to its offsets being committed.";
    CHECKPOINT_DURATION_SECONDS = "porttrack_checkpoint_duration_seconds", Histogram, Some(Unit::Seconds), "Duration of one processor checkpoint (every owned partition's state saved), retries included; the stage processes nothing meanwhile.";
    BATCH_SIZE_RECORDS = "porttrack_batch_size_records", Histogram, Some(Unit::Count), "Records per batch.";
    EVENT_AGE_SECONDS = "porttrack_event_age_seconds", Histogram, Some(Unit::Seconds), "Event time to durable write, per committed record.";
    RECORD_LATENCY_SECONDS = "porttrack_record_latency_seconds", Histogram, Some(Unit::Seconds), "Kafka record timestamp (producer create time) to every sink's acknowledgement, per record.";
    DERIVED_UNSTORED_TOTAL = "porttrack_derived_unstored_total", Counter, Some(Unit::Count), "Processor outputs of a kind no sink stores (a defect; should stay 0).";
    FAULT_INJECTED_TOTAL = "porttrack_fault_injected_total", Counter, Some(Unit::Count), "Records failed on purpose by pipeline.fault_injection_ratio (drills only; 0 normally).";
    STATE_RESTORES_TOTAL = "porttrack_state_restores_total", Counter, Some(Unit::Count), "Partition checkpoints restored on assignment, by result (ok/error/refused).";
    TRACE_LINKS_DROPPED_TOTAL = "porttrack_trace_links_dropped_total", Counter, Some(Unit::Count), "Record trace contexts not linked to their batch span, by reason (cap/invalid).";
    VESSELS_TRACKED = "porttrack_vessels_tracked", Gauge, Some(Unit::Count), "Vessels with state on this instance.";
    HEAP_ALLOCATED_BYTES = "porttrack_heap_allocated_bytes", Gauge, Some(Unit::Bytes), "Bytes allocated and not yet freed (jemalloc stats.allocated), read at scrape time.";
    HEAP_RESIDENT_BYTES = "porttrack_heap_resident_bytes", Gauge, Some(Unit::Bytes), "Bytes in the allocator's resident pages (jemalloc stats.resident), read at scrape time.";
    PROCESSOR_EVENTS_TOTAL = "porttrack_processor_events_total", Counter, Some(Unit::Count), "Events applied to the port processor, by event kind and result.";
    ZONE_VESSELS = "porttrack_zone_vessels", Gauge, Some(Unit::Count), "Vessels of this instance's partitions inside a zone of the port geography.";
    ANCHORAGE_QUEUE_VESSELS = "porttrack_anchorage_queue_vessels", Gauge, Some(Unit::Count), "Vessels of this instance's partitions waiting at an anchorage.";
    ANCHORAGE_WAIT_SECONDS = "porttrack_anchorage_wait_seconds", Gauge, Some(Unit::Seconds), "Waiting time so far of the vessels at an anchorage, by quantile (0.5/0.9).";
    BERTH_OCCUPANCY_RATIO = "porttrack_berth_occupancy_ratio", Gauge, None, "Occupied share of a zone's berths (0 to 1).";
    CONGESTION_LEVEL = "porttrack_congestion_level", Gauge, None, "Congestion of a zone: 0 free, 1 moderate, 2 heavy, 3 severe.";
    PORT_ARRIVALS_TOTAL = "porttrack_port_arrivals_total", Counter, Some(Unit::Count), "Observed arrivals at a berth.";
    PORT_DEPARTURES_TOTAL = "porttrack_port_departures_total", Counter, Some(Unit::Count), "Departures from a berth.";
    WEATHER_ALERTS_ACTIVE = "porttrack_weather_alerts_active", Gauge, None, "1 while a weather alert (gust/visibility) is active in a zone.";
    ANOMALIES_TOTAL = "porttrack_anomalies_total", Counter, Some(Unit::Count), "Vessel anomalies detected, by kind.";
    API_REQUESTS_TOTAL = "porttrack_api_requests_total", Counter, Some(Unit::Count), "API requests answered, by route template and HTTP status.";
    API_REQUEST_DURATION_SECONDS = "porttrack_api_request_duration_seconds", Histogram, Some(Unit::Seconds), "Time to answer an API request (to the response head), by route template.";
}

/// Gives the installed recorder every metric's help text and unit (`# HELP`).
pub fn describe_all() {
    for def in ALL {
        let help = def.help;
        match (def.kind, def.unit) {
            (Kind::Counter, Some(unit)) => metrics::describe_counter!(def.name, unit, help),
            (Kind::Counter, None) => metrics::describe_counter!(def.name, help),
            (Kind::Gauge, Some(unit)) => metrics::describe_gauge!(def.name, unit, help),
            (Kind::Gauge, None) => metrics::describe_gauge!(def.name, help),
            (Kind::Histogram, Some(unit)) => metrics::describe_histogram!(def.name, unit, help),
            (Kind::Histogram, None) => metrics::describe_histogram!(def.name, help),
        }
    }
}

/// The definition of the metric named `name`.
pub fn def(name: &str) -> Option<&'static Def> {
    ALL.iter().find(|d| d.name == name)
}
