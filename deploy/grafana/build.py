#!/usr/bin/env python3
"""Generate PortTrack's Grafana dashboards (deploy/grafana/dashboards/*.json).

The JSON files are committed and provisioned as they are; this script is
their source, so panels stay consistent (datasource, units, legends, layout)
and ids stay stable: every panel's id is written here by hand and never
reused, so links to a panel (`viewPanel=23`) survive edits.

    deploy/grafana/build.py               # rewrite the dashboards
    deploy/grafana/build.py --check       # exit 1 if they differ from this script
                                          # (or a Postgres panel's SQL is amiss)
    deploy/grafana/build.py --export-sql  # every Postgres query, one JSON object a line

Prometheus dashboards (dashboards/*.json): queries use only the metric
contract (docs/metrics.md) and Grafana's variables: $datasource, $job,
$version, $instance (pipeline), $zone (port). Multi-value variables are
always matched with =~.

Postgres dashboards (dashboards/postgres/*.json, kept apart because
deploy/prometheus/lint.py checks dashboards/*.json as PromQL): every query
is a file of sql/<dashboard>/, read here into the panel's rawSql, so the SQL
is reviewed as SQL, and tests/grafana_sql.rs runs every one of them (from
the generated JSON, with Grafana's macros expanded) against the stack's
Postgres. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39

# Selectors shared by the pipeline dashboard's queries.
SEL = 'job=~"$job", instance=~"$instance"'
RI = "$__rate_interval"


# --- panel helpers --------------------------------------------------------------


class Layout:
    """Places panels left to right, 24 columns wide, wrapping to a new line."""

    def __init__(self) -> None:
        self.x = 0
        self.y = 0
        self.line_height = 0

    def place(self, w: int, h: int) -> dict:
        if self.x + w > 24:
            self.newline()
        pos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.line_height = max(self.line_height, h)
        return pos

    def newline(self) -> None:
        if self.x:
            self.y += self.line_height
        self.x = 0
        self.line_height = 0


def target(expr: str, legend: str = "", ref: str = "A", **extra) -> dict:
    t = {"datasource": DS, "editorMode": "code", "expr": expr, "legendFormat": legend or "__auto", "range": True, "refId": ref}
    t.update(extra)
    return t


def targets(*specs) -> list[dict]:
    """targets(("expr", "legend"), ...) with refIds A, B, C..."""
    return [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(specs)]


def row(layout: Layout, pid: int, title: str) -> dict:
    layout.newline()
    panel = {"collapsed": False, "gridPos": layout.place(24, 1), "id": pid, "panels": [], "title": title, "type": "row"}
    layout.newline()
    return panel


def timeseries(layout, pid, title, description, tgts, unit="short", w=12, h=8, stack=False, bars=False, min_zero=True, extra_defaults=None):
    custom = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 80 if bars else 10,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
    }
    defaults = {"custom": custom, "unit": unit}
    if min_zero:
        defaults["min"] = 0
    defaults.update(extra_defaults or {})
    return {
        "datasource": DS,
        "description": description,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "gridPos": layout.place(w, h),
        "id": pid,
        "options": {
            "legend": {"calcs": ["lastNotNull", "max"], "displayMode": "table", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": tgts,
        "title": title,
        "type": "timeseries",
    }


def stat(layout, pid, title, description, tgts, unit="short", w=4, h=4, thresholds=None, mappings=None, decimals=None):
    defaults = {
        "color": {"mode": "thresholds"},
        "mappings": mappings or [],
        "thresholds": {"mode": "absolute", "steps": thresholds or [{"color": "green", "value": None}]},
        "unit": unit,
    }
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "datasource": DS,
        "description": description,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "gridPos": layout.place(w, h),
        "id": pid,
        "options": {
            "colorMode": "value",
            "graphMode": "area",
            "justifyMode": "auto",
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "textMode": "auto",
        },
        "targets": tgts,
        "title": title,
        "type": "stat",
    }


def table(layout, pid, title, description, expr, hide=("Time", "Value"), w=12, h=6, unit=None):
    return {
        "datasource": DS,
        "description": description,
        "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
        "gridPos": layout.place(w, h),
        "id": pid,
        "options": {"cellHeight": "sm", "showHeader": True},
        "targets": [target(expr, "", "A", format="table", instant=True, range=False)],
        "title": title,
        "transformations": [{"id": "organize", "options": {"excludeByName": {name: True for name in hide}}}],
        "type": "table",
    }


def heatmap(layout, pid, title, description, expr, unit="s", w=12, h=8):
    return {
        "datasource": DS,
        "description": description,
        "fieldConfig": {"defaults": {"custom": {"scaleDistribution": {"type": "linear"}}}, "overrides": []},
        "gridPos": layout.place(w, h),
        "id": pid,
        "options": {
            "calculate": False,
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "legend": {"show": True},
            "tooltip": {"show": True, "yHistogram": False},
            "yAxis": {"axisPlacement": "left", "unit": unit},
        },
        "targets": [target(expr, "{{le}}", "A", format="heatmap")],
        "title": title,
        "type": "heatmap",
    }


def state_timeline(layout, pid, title, description, tgts, mappings, thresholds, w=12, h=8):
    return {
        "datasource": DS,
        "description": description,
        "fieldConfig": {
            "defaults": {
                "color": {"mode": "thresholds"},
                "custom": {"fillOpacity": 80, "lineWidth": 0},
                "mappings": mappings,
                "thresholds": {"mode": "absolute", "steps": thresholds},
            },
            "overrides": [],
        },
        "gridPos": layout.place(w, h),
        "id": pid,
        "options": {
            "alignValue": "left",
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "mergeValues": True,
            "rowHeight": 0.9,
            "showValue": "auto",
            "tooltip": {"mode": "single", "sort": "none"},
        },
        "targets": tgts,
        "title": title,
        "type": "state-timeline",
    }


def bargauge(layout, pid, title, description, expr, legend, unit="short", w=12, h=8):
    return {
        "datasource": DS,
        "description": description,
        "fieldConfig": {
            "defaults": {
                "color": {"mode": "continuous-GrYlRd"},
                "min": 0,
                "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}]},
                "unit": unit,
            },
            "overrides": [],
        },
        "gridPos": layout.place(w, h),
        "id": pid,
        "options": {
            "displayMode": "gradient",
            "orientation": "horizontal",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showUnfilled": True,
        },
        "targets": [target(expr, legend, "A", instant=True, range=False)],
        "title": title,
        "type": "bargauge",
    }


def quantiles(metric: str, by: str, sel: str, qs=(0.5, 0.95, 0.99)) -> list[dict]:
    """One target per quantile of a histogram, grouped by `by`."""
    group = f"{by}, le" if by else "le"
    legend_by = " ".join("{{" + label.strip() + "}}" for label in by.split(",") if label.strip())
    return [
        target(
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{sel}}}[{RI}])))",
            f"p{int(q * 100)} {legend_by}".strip(),
            chr(ord("A") + i),
        )
        for i, q in enumerate(qs)
    ]


# --- variables ------------------------------------------------------------------


def datasource_variable() -> dict:
    return {
        "current": {},
        "hide": 0,
        "includeAll": False,
        "label": "Data source",
        "multi": False,
        "name": "datasource",
        "options": [],
        "query": "prometheus",
        "refresh": 1,
        "regex": "",
        "type": "datasource",
    }


def query_variable(name: str, label: str, query: str, multi: bool = True, include_all: bool = True, hide: int = 0) -> dict:
    v = {
        "current": {},
        "datasource": DS,
        "definition": query,
        "hide": hide,
        "includeAll": include_all,
        "label": label,
        "multi": multi,
        "name": name,
        "options": [],
        # A plain label_values() string: every Grafana version since 7 reads it.
        "query": query,
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "type": "query",
    }
    if include_all:
        v["allValue"] = ".*"
    return v


def dashboard(uid: str, title: str, description: str, tags: list[str], variables: list[dict], panels: list[dict], refresh="30s", time_from="now-3h") -> dict:
    return {
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "links": [
            {"asDropdown": False, "icon": "dashboard", "includeVars": False, "keepTime": True, "tags": ["porttrack"], "targetBlank": False, "title": "PortTrack", "type": "dashboards"}
        ],
        "panels": panels,
        "refresh": refresh,
        "schemaVersion": SCHEMA_VERSION,
        "tags": tags,
        "templating": {"list": variables},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


# --- pipeline health -------------------------------------------------------------


def pipeline_health() -> dict:
    L = Layout()
    consumed = f"sum by (instance) (rate(porttrack_records_consumed_total{{{SEL}}}[{RI}]))"
    # Failures as in the alert rules: rejected + permanent sink errors, each
    # falling back to 0 per instance when the counter does not exist yet.
    failed_by_instance = (
        f"(sum by (instance) (rate(porttrack_records_rejected_total{{{SEL}}}[{RI}])) or 0 * {consumed})"
        f" + (sum by (instance) (rate(porttrack_sink_errors_total{{{SEL}, kind=\"permanent\"}}[{RI}])) or 0 * {consumed})"
    )
    build = 'porttrack_build_info{job=~"$job", instance=~"$instance"}'
    per_version = lambda e: f"sum by (version) ({e} * on (instance) group_left (version) {build})"  # noqa: E731

    panels = [
        row(L, 1, "Overview"),
        stat(L, 2, "Throughput", "Records consumed per second, all selected instances.",
             [target(f"sum(rate(porttrack_records_consumed_total{{{SEL}}}[{RI}]))", "records/s")], unit="ops"),
        stat(L, 3, "Error ratio", "(rejected + permanently failed) / consumed over 5 minutes; the PorttrackErrorRatioHigh alert fires above 1% (warning) and 5% (critical).",
             [target(
                 f"((sum(rate(porttrack_records_rejected_total{{{SEL}}}[5m])) or vector(0))"
                 f" + (sum(rate(porttrack_sink_errors_total{{{SEL}, kind=\"permanent\"}}[5m])) or vector(0)))"
                 f" / sum(rate(porttrack_records_consumed_total{{{SEL}}}[5m]))", "error ratio")],
             unit="percentunit", decimals=2,
             thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 0.01}, {"color": "red", "value": 0.05}]),
        stat(L, 4, "Consumer lag", "Records behind the log end, summed over partitions (largest report per partition).",
             [target(f"sum(max by (topic, partition) (porttrack_consumer_lag_records{{{SEL}}}))", "lag")], unit="short",
             thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 10000}, {"color": "red", "value": 100000}]),
        stat(L, 5, "Instances up", "Scrape targets of the job that answer.",
             [target(f"sum(up{{{SEL}}})", "up")], unit="short",
             thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}]),
        stat(L, 6, "Partitions assigned", "Partitions owned by the selected instances.",
             [target(f"sum(porttrack_partitions_assigned{{{SEL}}})", "partitions")]),
        stat(L, 7, "Vessels tracked", "Vessels with state on the selected instances.",
             [target(f"sum(porttrack_vessels_tracked{{{SEL}}})", "vessels")]),
        table(L, 8, "Versions running", "Build versions and commits running now, with their instance count.",
              f'count by (version, commit) (porttrack_build_info{{job=~"$job"}})', hide=("Time",), w=24, h=5),

        row(L, 9, "Rate"),
        timeseries(L, 10, "Records consumed per instance", "Records read from Kafka and staged, per second.",
                   [target(consumed, "{{instance}}")], unit="ops", stack=True),
        timeseries(L, 11, "Records written per sink", "Records durably written, per second, by sink.",
                   [target(f"sum by (sink) (rate(porttrack_sink_records_written_total{{{SEL}}}[{RI}]))", "{{sink}}")], unit="ops"),
        timeseries(L, 12, "Throughput per version", "Records consumed per second by each running version (canary vs stable).",
                   [target(per_version(consumed), "{{version}}")], unit="ops", stack=True),
        timeseries(L, 13, "Records committed and decoded", "Records whose offsets were committed, and records decoded by format, per second.",
                   targets(
                       (f"sum(rate(porttrack_records_committed_total{{{SEL}}}[{RI}]))", "committed"),
                       (f"sum by (format) (rate(porttrack_records_decoded_total{{{SEL}}}[{RI}]))", "decoded {{format}}"),
                   ), unit="ops"),

        row(L, 14, "Errors"),
        timeseries(L, 15, "Error ratio per instance", "(rejected + permanently failed) / consumed, per instance.",
                   [target(f"({failed_by_instance}) / {consumed}", "{{instance}}")], unit="percentunit",
                   extra_defaults={"thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 0.01}]},
                                   "custom": {"drawStyle": "line", "fillOpacity": 10, "lineWidth": 1, "showPoints": "never", "spanNulls": False,
                                              "stacking": {"group": "A", "mode": "none"}, "thresholdsStyle": {"mode": "line"}}}),
        timeseries(L, 16, "Error ratio per version", "(rejected + permanently failed) / consumed, per running version: compare canary and stable.",
                   [target(f"{per_version('(' + failed_by_instance + ')')} / {per_version(consumed)}", "{{version}}")], unit="percentunit"),
        timeseries(L, 17, "Rejected records by reason", "Records refused by decoding or validation, per second.",
                   [target(f"sum by (reason) (rate(porttrack_records_rejected_total{{{SEL}}}[{RI}]))", "{{reason}}")], unit="ops", stack=True),
        timeseries(L, 18, "Dead letters by reason", "Records written to the dead-letter topic, per second.",
                   [target(f"sum by (reason) (rate(porttrack_dead_letters_total{{{SEL}}}[{RI}]))", "{{reason}}")], unit="ops", stack=True),
        timeseries(L, 19, "Sink errors", "Failed sink writes per second, by sink and kind (transient: retried; permanent: bisected and dead-lettered).",
                   [target(f"sum by (sink, kind) (rate(porttrack_sink_errors_total{{{SEL}}}[{RI}]))", "{{sink}} {{kind}}")], unit="ops"),
        timeseries(L, 20, "Retries and client errors", "Items retried inside Elasticsearch writes, Kafka client errors and failed offset commits, per second.",
                   targets(
                       (f"sum by (sink) (rate(porttrack_sink_item_retries_total{{{SEL}}}[{RI}]))", "item retries {{sink}}"),
                       (f"sum(rate(porttrack_kafka_errors_total{{{SEL}}}[{RI}]))", "kafka errors"),
                       (f"sum(rate(porttrack_offset_commits_total{{{SEL}, result=\"error\"}}[{RI}]))", "commit errors"),
                   ), unit="ops"),

        row(L, 21, "Duration"),
        timeseries(L, 22, "Sink write latency", "Successful sink writes: p50, p95, p99 by sink. PorttrackSinkLatencyHigh fires when p95 stays above 500 ms.",
                   quantiles("porttrack_sink_write_duration_seconds", "sink", SEL), unit="s"),
        timeseries(L, 23, "Sink write p95 per version", "p95 of successful sink writes by version and sink.",
                   [target(f"histogram_quantile(0.95, sum by (version, sink, le) (rate(porttrack_sink_write_duration_seconds_bucket{{{SEL}}}[{RI}])"
                           f" * on (instance) group_left (version) {build}))", "{{version}} {{sink}}")], unit="s"),
        timeseries(L, 24, "Batch duration", "First record consumed to offsets committed: p50, p95, p99.",
                   quantiles("porttrack_batch_duration_seconds", "", SEL), unit="s"),
        timeseries(L, 25, "End-to-end latency", "Event time to durable write, per record: p50, p95, p99 (includes the sensors' own delay); and the pipeline's own part, Kafka record timestamp to every sink's acknowledgement: p99 (objective: 1 s).",
                   quantiles("porttrack_event_age_seconds", "", SEL)
                   + [target(f"histogram_quantile(0.99, sum by (le) (rate(porttrack_record_latency_seconds_bucket{{{SEL}}}[{RI}])))", "record latency p99", "D")],
                   unit="s"),
        timeseries(L, 26, "Batch size", "Records per batch: p50, p95, and the mean.",
                   quantiles("porttrack_batch_size_records", "", SEL, qs=(0.5, 0.95))
                   + [target(f"sum(rate(porttrack_batch_size_records_sum{{{SEL}}}[{RI}])) / sum(rate(porttrack_batch_size_records_count{{{SEL}}}[{RI}]))", "mean", "C")],
                   unit="short"),
        heatmap(L, 27, "Sink write latency distribution", "Successful writes per latency bucket, all sinks.",
                f"sum by (le) (increase(porttrack_sink_write_duration_seconds_bucket{{{SEL}}}[{RI}]))"),

        row(L, 28, "Saturation"),
        timeseries(L, 29, "Consumer lag per partition", "Records behind, by topic and partition (largest report per partition).",
                   [target(f"max by (topic, partition) (porttrack_consumer_lag_records{{{SEL}}})", "{{topic}}/{{partition}}")], unit="short"),
        timeseries(L, 30, "Batches in flight", "Sealed batches waiting for sinks; the source pauses at pipeline.max_in_flight_batches.",
                   [target(f"sum by (instance) (porttrack_batches_in_flight{{{SEL}}})", "{{instance}}")], unit="short"),
        timeseries(L, 31, "Source paused (back-pressure)", "1 while an instance's partitions are paused because sinks are behind.",
                   [target(f"max by (instance) (porttrack_source_paused{{{SEL}}})", "{{instance}}")], unit="short",
                   extra_defaults={"max": 1}),
        timeseries(L, 32, "Rebalances", "Partition assignments and revocations per 5 minutes, by kind.",
                   [target(f"sum by (kind) (increase(porttrack_rebalances_total{{{SEL}}}[5m]))", "{{kind}}")], unit="short"),
        timeseries(L, 33, "Partitions assigned", "Partitions owned, per instance.",
                   [target(f"sum by (instance) (porttrack_partitions_assigned{{{SEL}}})", "{{instance}}")], unit="short", stack=True),
        timeseries(L, 34, "Sinks up", "1 when a sink's last write or check succeeded.",
                   [target(f"min by (instance, sink) (porttrack_sink_up{{{SEL}}})", "{{instance}} {{sink}}")], unit="short",
                   extra_defaults={"max": 1}),
        timeseries(L, 35, "Seconds since last progress", "Time since the last committed batch or idle poll; PorttrackStalled fires above 120 s.",
                   [target(f"time() - max by (instance) (porttrack_last_progress_timestamp_seconds{{{SEL}}})", "{{instance}}")], unit="s"),
        timeseries(L, 36, "Vessels tracked", "Vessels with state, per instance.",
                   [target(f"sum by (instance) (porttrack_vessels_tracked{{{SEL}}})", "{{instance}}")], unit="short", stack=True),

        row(L, 37, "Process"),
        timeseries(L, 38, "CPU", "CPU seconds per second, per instance.",
                   [target(f"rate(process_cpu_seconds_total{{{SEL}}}[{RI}])", "{{instance}}")], unit="percentunit", w=8),
        timeseries(L, 39, "Memory", "Resident set size and the heap the program holds (jemalloc), per instance; a leak shows as the heap climbing under a steady load.",
                   targets((f"process_resident_memory_bytes{{{SEL}}}", "{{instance}} resident"),
                           (f"porttrack_heap_allocated_bytes{{{SEL}}}", "{{instance}} heap held")), unit="bytes", w=8),
        timeseries(L, 40, "Open file descriptors", "Per instance.",
                   [target(f"process_open_fds{{{SEL}}}", "{{instance}}")], unit="short", w=8),
        timeseries(L, 41, "Restarts (1 h)", "Process starts in the last hour, per instance; PorttrackCrashLooping fires above 2 in 15 minutes.",
                   [target(f"changes(process_start_time_seconds{{{SEL}}}[1h])", "{{instance}}")], unit="short"),
        timeseries(L, 42, "Faults injected", "Faults injected by the drill switch per 5 minutes; 0 outside drills.",
                   [target(f"sum by (instance) (increase(porttrack_fault_injected_total{{{SEL}}}[5m]))", "{{instance}}")], unit="short"),
        table(L, 43, "Instances", "Every instance with its version, commit and uptime (Value).",
              f"porttrack_build_info{{{SEL}}} * on (instance) (time() - process_start_time_seconds{{{SEL}}})",
              hide=("Time",), w=24, unit="s"),
    ]
    variables = [
        datasource_variable(),
        query_variable("job", "Job", "label_values(porttrack_build_info, job)", multi=False, include_all=False),
        query_variable("version", "Version", 'label_values(porttrack_build_info{job=~"$job"}, version)'),
        query_variable("instance", "Instance", 'label_values(porttrack_build_info{job=~"$job", version=~"$version"}, instance)'),
    ]
    return dashboard(
        "porttrack-pipeline-health",
        "PortTrack / Pipeline health",
        "Rate, errors, duration and saturation of the PortTrack pipeline, per instance and per version.",
        ["porttrack", "pipeline"],
        variables,
        panels,
    )


# --- port operations ---------------------------------------------------------------


def port_operations() -> dict:
    L = Layout()
    J = 'job=~"$job"'
    Z = f'{J}, zone=~"$zone"'
    congestion_mappings = [
        {"options": {"0": {"color": "green", "index": 0, "text": "free"},
                     "1": {"color": "yellow", "index": 1, "text": "moderate"},
                     "2": {"color": "orange", "index": 2, "text": "heavy"},
                     "3": {"color": "red", "index": 3, "text": "severe"}},
         "type": "value"}
    ]
    congestion_thresholds = [{"color": "green", "value": None}, {"color": "yellow", "value": 1},
                             {"color": "orange", "value": 2}, {"color": "red", "value": 3}]
    panels = [
        row(L, 1, "Now"),
        stat(L, 2, "Active ships", "Vessels with state on any instance.",
             [target(f"sum(porttrack_vessels_tracked{{{J}}})", "vessels")]),
        stat(L, 3, "Waiting at anchor", "Vessels queueing at the selected anchorages.",
             [target(f"sum(porttrack_anchorage_queue_vessels{{{Z}}})", "vessels")],
             thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 20}]),
        stat(L, 4, "Arrivals (24 h)", "Port arrivals in the last 24 hours.",
             [target(f"sum(increase(porttrack_port_arrivals_total{{{J}}}[24h]))", "arrivals")], decimals=0),
        stat(L, 5, "Departures (24 h)", "Port departures in the last 24 hours.",
             [target(f"sum(increase(porttrack_port_departures_total{{{J}}}[24h]))", "departures")], decimals=0),
        stat(L, 6, "Worst congestion", "Highest congestion level over the selected zones.",
             [target(f"max(porttrack_congestion_level{{{Z}}})", "level")],
             mappings=congestion_mappings, thresholds=congestion_thresholds),
        stat(L, 7, "Weather alerts", "Active weather alerts (gust, visibility) in the selected zones.",
             [target(f"sum(max by (zone, kind) (porttrack_weather_alerts_active{{{Z}}}))", "alerts")],
             thresholds=[{"color": "green", "value": None}, {"color": "red", "value": 1}]),

        row(L, 8, "Zones"),
        bargauge(L, 9, "Vessels per zone", "Vessels in each zone now (instances each report the vessels of their partitions; summed).",
                 f"sum by (zone) (porttrack_zone_vessels{{{Z}}})", "{{zone}}"),
        timeseries(L, 10, "Vessels per zone over time", "Vessels in each zone.",
                   [target(f"sum by (zone) (porttrack_zone_vessels{{{Z}}})", "{{zone}}")], unit="short"),
        state_timeline(L, 11, "Congestion level", "0 free, 1 moderate, 2 heavy, 3 severe (worst report per zone). PortCongestionSevere fires after 15 minutes at 3.",
                       [target(f"max by (zone) (porttrack_congestion_level{{{Z}}})", "{{zone}}")],
                       congestion_mappings, congestion_thresholds),
        timeseries(L, 12, "Berth occupancy", "Share of berth capacity occupied, per zone (instances' shares summed).",
                   [target(f"sum by (zone) (porttrack_berth_occupancy_ratio{{{Z}}})", "{{zone}}")], unit="percentunit",
                   extra_defaults={"max": 1}),

        row(L, 13, "Anchorage"),
        timeseries(L, 14, "Anchorage queue", "Vessels waiting at each anchorage. PortAnchorageQueueLong fires above 20 for 30 minutes.",
                   [target(f"sum by (zone) (porttrack_anchorage_queue_vessels{{{Z}}})", "{{zone}}")], unit="short"),
        timeseries(L, 15, "Waiting time at anchor", "Median and 90th percentile of how long the vessels currently waiting have waited (worst instance per zone).",
                   targets(
                       (f'max by (zone) (porttrack_anchorage_wait_seconds{{{Z}, quantile="0.5"}})', "p50 {{zone}}"),
                       (f'max by (zone) (porttrack_anchorage_wait_seconds{{{Z}, quantile="0.9"}})', "p90 {{zone}}"),
                   ), unit="s"),

        row(L, 16, "Traffic"),
        timeseries(L, 17, "Arrivals and departures per hour", "Port calls started and ended, per hour.",
                   targets(
                       (f"sum(increase(porttrack_port_arrivals_total{{{J}}}[1h]))", "arrivals"),
                       (f"sum(increase(porttrack_port_departures_total{{{J}}}[1h]))", "departures"),
                   ), unit="short", w=24),

        row(L, 18, "Weather and anomalies"),
        state_timeline(L, 19, "Weather alerts", "Active weather alerts by zone and kind. PortWeatherAlertActive fires after 1 minute.",
                       [target(f"max by (zone, kind) (porttrack_weather_alerts_active{{{Z}}})", "{{zone}} {{kind}}")],
                       [{"options": {"0": {"color": "green", "index": 0, "text": "clear"}}, "type": "value"},
                        {"options": {"from": 1, "result": {"color": "red", "index": 1, "text": "alert"}, "to": 1e9}, "type": "range"}],
                       [{"color": "green", "value": None}, {"color": "red", "value": 1}]),
        timeseries(L, 20, "Anomalies per hour", "Detected anomalies by kind: dark, speeding, stopped_in_channel, hazardous_in_restricted, position_jump.",
                   [target(f"sum by (kind) (increase(porttrack_anomalies_total{{{J}}}[1h]))", "{{kind}}")], unit="short", bars=True, stack=True),
        table(L, 21, "Anomalies (24 h)", "Anomalies detected in the last 24 hours, by kind.",
              f"sum by (kind) (increase(porttrack_anomalies_total{{{J}}}[24h]))", hide=("Time",), w=24),
    ]
    variables = [
        datasource_variable(),
        query_variable("job", "Job", "label_values(porttrack_build_info, job)", multi=False, include_all=False),
        query_variable("zone", "Zone", 'label_values(porttrack_zone_vessels{job=~"$job"}, zone)'),
    ]
    return dashboard(
        "porttrack-port-operations",
        "PortTrack / Port operations",
        "The port as PortTrack sees it: ships, zones, anchorage queues, congestion, berths, traffic, weather and anomalies.",
        ["porttrack", "port"],
        variables,
        panels,
        refresh="1m",
        time_from="now-24h",
    )


# --- port operations on Postgres ------------------------------------------------------

PG_TYPE = "grafana-postgresql-datasource"
PG_DS = {"type": PG_TYPE, "uid": "${datasource}"}
SQL_DIR = Path(__file__).resolve().parent / "sql"
PG_DASHBOARD = "port-operations-postgres"
# Phases of a port call, in lifecycle order (porttrack_processors::lifecycle::CallStage).
PHASES = ["arrived", "anchored", "wait_ended", "berthed", "unberthed", "departed"]
MOVEMENT_COLOURS = {"under_way": "green", "anchored": "orange", "moored": "blue", "stopped": "yellow", "unknown": "text"}


def sql(name: str) -> str:
    """The query in sql/port-operations-postgres/<name>.sql, comments kept."""
    return (SQL_DIR / PG_DASHBOARD / f"{name}.sql").read_text().strip()


def sql_target(name: str, fmt: str = "table", ref: str = "A") -> dict:
    # `sqlFile` is not Grafana's: it names the source file for --export-sql
    # and the checks (Grafana ignores unknown target keys).
    return {"datasource": PG_DS, "editorMode": "code", "format": fmt, "rawQuery": True, "rawSql": sql(name), "refId": ref, "sqlFile": f"{PG_DASHBOARD}/{name}.sql"}


def pg_panel(layout, pid, kind, title, description, tgts, w, h, defaults=None, options=None, overrides=None) -> dict:
    return {
        "datasource": PG_DS,
        "description": description,
        "fieldConfig": {"defaults": defaults or {}, "overrides": overrides or []},
        "gridPos": layout.place(w, h),
        "id": pid,
        "options": options or {},
        "targets": tgts,
        "title": title,
        "type": kind,
    }


def pg_stat(layout, pid, title, description, name, unit="short", thresholds=None, w=4, h=4) -> dict:
    defaults = {"color": {"mode": "thresholds"}, "thresholds": {"mode": "absolute", "steps": thresholds or [{"color": "green", "value": None}]}, "unit": unit, "decimals": 0}
    options = {"colorMode": "value", "graphMode": "none", "justifyMode": "auto", "orientation": "auto",
               "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "textMode": "auto"}
    return pg_panel(layout, pid, "stat", title, description, [sql_target(name)], w, h, defaults, options)


def pg_table(layout, pid, title, description, name, w=24, h=8, overrides=None, sort=None) -> dict:
    options = {"cellHeight": "sm", "showHeader": True, "footer": {"show": False, "reducer": ["sum"], "fields": ""}}
    if sort:
        options["sortBy"] = [{"displayName": sort, "desc": True}]
    return pg_panel(layout, pid, "table", title, description, [sql_target(name)], w, h, {"custom": {"filterable": True}}, options, overrides)


def pg_timeseries(layout, pid, title, description, name, unit="short", w=12, h=8, bars=False) -> dict:
    custom = {"drawStyle": "bars" if bars else "line", "fillOpacity": 60 if bars else 10, "lineWidth": 1, "showPoints": "auto",
              "spanNulls": False, "stacking": {"group": "A", "mode": "normal" if bars else "none"}}
    options = {"legend": {"calcs": ["lastNotNull", "max"], "displayMode": "table", "placement": "bottom", "showLegend": True},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    return pg_panel(layout, pid, "timeseries", title, description, [sql_target(name, "time_series")], w, h,
                    {"custom": custom, "unit": unit, "min": 0}, options)


def pg_bargauge(layout, pid, title, description, name, unit="short", w=12, h=8, max_value=None) -> dict:
    defaults = {"color": {"mode": "continuous-GrYlRd"}, "min": 0, "unit": unit,
                "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}]}}
    if max_value is not None:
        defaults["max"] = max_value
    options = {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
               "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": True}}
    return pg_panel(layout, pid, "bargauge", title, description, [sql_target(name)], w, h, defaults, options)


def movement_mappings() -> list[dict]:
    return [{"options": {m: {"color": c, "index": i, "text": m.replace("_", " ")} for i, (m, c) in enumerate(MOVEMENT_COLOURS.items())}, "type": "value"}]


def pg_geomap(layout, pid, title, description, name, w=24, h=14) -> dict:
    options = {
        "view": {"id": "coords", "lat": 51.95, "lon": 4.1, "zoom": 11, "allLayers": True},
        "controls": {"showZoom": True, "mouseWheelZoom": True, "showAttribution": True, "showScale": True},
        "basemap": {"type": "default", "name": "Basemap", "config": {}},
        "layers": [
            {
                "type": "markers",
                "name": "Vessels",
                "config": {
                    "showLegend": True,
                    "style": {
                        "size": {"fixed": 6},
                        "color": {"field": "movement", "fixed": "green"},
                        "opacity": 0.9,
                        "symbol": {"mode": "fixed", "fixed": "img/icons/marker/triangle.svg"},
                        "symbolAlign": {"horizontal": "center", "vertical": "center"},
                        # Markers point where the vessel heads (heading, else course).
                        "rotation": {"field": "heading_deg", "fixed": 0, "mode": "mod", "min": -360, "max": 360},
                        "text": {"field": "name", "mode": "field", "fixed": ""},
                        "textConfig": {"fontSize": 10, "offsetX": 0, "offsetY": -12, "textAlign": "center", "textBaseline": "middle"},
                    },
                },
                "location": {"mode": "coords", "latitude": "latitude", "longitude": "longitude"},
                "tooltip": True,
            }
        ],
        "tooltip": {"mode": "details"},
    }
    overrides = [{"matcher": {"id": "byName", "options": "movement"}, "properties": [{"id": "mappings", "value": movement_mappings()}]}]
    return pg_panel(layout, pid, "geomap", title, description, [sql_target(name)], w, h, {"color": {"mode": "fixed", "fixedColor": "green"}}, options, overrides)


def pg_datasource_variable() -> dict:
    return {"current": {}, "hide": 0, "includeAll": False, "label": "Data source", "multi": False, "name": "datasource",
            "options": [], "query": PG_TYPE, "refresh": 1, "regex": "", "type": "datasource"}


def port_operations_postgres() -> dict:
    L = Layout()
    panels = [
        row(L, 1, "Now"),
        pg_stat(L, 2, "Vessels reporting", "Vessels whose latest position falls in the time range (vessel_state).", "vessels-reporting"),
        pg_stat(L, 3, "Waiting at anchor", "Vessels queueing at the selected anchorages now (congestion view).", "anchorage-queue-now",
                thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 20}]),
        pg_stat(L, 4, "Arrivals", "Port calls started in the time range.", "arrivals"),
        pg_stat(L, 5, "Departures", "Port calls ended in the time range.", "departures"),
        pg_stat(L, 6, "Weather alerts", "Alerts raised now in the selected zones (latest state per zone and kind).", "weather-alerts-active",
                thresholds=[{"color": "green", "value": None}, {"color": "red", "value": 1}]),
        pg_stat(L, 7, "Anomalies", "Anomalies detected in the time range.", "anomalies-count",
                thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1}]),

        row(L, 8, "Vessels"),
        pg_geomap(L, 9, "Vessels", "Latest position of every vessel that reported in the time range, coloured by movement (AIS status, else speed), pointing where it heads; hover for its data.",
                  "vessels-map", w=18),
        pg_bargauge(L, 10, "Vessels by movement", "Vessels reporting in the time range, by movement.", "vessels-by-movement", w=6, h=14),

        row(L, 11, "Congestion"),
        pg_table(L, 12, "Congestion by zone", "Per zone now: vessels present, anchorage queue, waiting times of the vessels waiting (mean, p90) and of completed waits (p90), berth occupancy, traffic per hour. From the congestion view (the latest partial of every partition, merged).",
                 "congestion-by-zone", h=9,
                 overrides=[{"matcher": {"id": "byRegexp", "options": ".*_s$"}, "properties": [{"id": "unit", "value": "s"}]},
                            {"matcher": {"id": "byName", "options": "berth_occupancy"}, "properties": [{"id": "unit", "value": "percentunit"}]}]),
        pg_timeseries(L, 13, "Anchorage queue", "Vessels waiting at each anchorage over time (each partition's largest report per interval, summed).", "anchorage-queue-over-time"),
        pg_bargauge(L, 14, "Berth occupancy", "Share of each berth's quay length occupied now.", "berth-occupancy", unit="percentunit", max_value=1),

        row(L, 15, "Port calls and waiting times"),
        pg_timeseries(L, 16, "Waiting and service times", "Waiting at anchor of the calls that berthed, and time at the berth of the calls that left it, per interval: median and 90th percentile.",
                      "waiting-and-service-times", unit="s"),
        pg_bargauge(L, 17, "Port calls by phase", "Calls open now or started in the time range, by phase.", "port-calls-by-phase"),
        pg_table(L, 18, "Port calls", "Calls started in the time range, newest first; open waits and services count up to now.", "port-calls", h=10,
                 overrides=[{"matcher": {"id": "byRegexp", "options": ".*_s$"}, "properties": [{"id": "unit", "value": "s"}]}]),
        pg_table(L, 19, "Waiting and service by berth", "Calls that berthed in the time range, per berth: waiting and service times (median, p90) and TEU moved.",
                 "waiting-by-berth", h=8,
                 overrides=[{"matcher": {"id": "byRegexp", "options": ".*_s$"}, "properties": [{"id": "unit", "value": "s"}]}]),

        row(L, 20, "Anomalies and weather"),
        pg_timeseries(L, 21, "Anomalies", "Anomalies per interval, by kind.", "anomalies-over-time", bars=True),
        pg_table(L, 22, "Weather alerts", "Weather alerts raised and cleared in the time range, newest first.", "weather-alerts", w=12, h=8),
        pg_table(L, 23, "Anomaly list", "Anomalies in the time range, newest first, with their details.", "anomalies", h=8),
    ]
    zone_query = sql("zones-variable")
    variables = [
        pg_datasource_variable(),
        {
            "current": {}, "datasource": PG_DS, "definition": zone_query, "hide": 0, "includeAll": True, "label": "Zone",
            "multi": True, "name": "zone", "options": [], "query": zone_query, "refresh": 2, "regex": "", "sort": 1, "type": "query",
            "sqlFile": f"{PG_DASHBOARD}/zones-variable.sql",
        },
        {
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "hide": 0, "includeAll": True, "label": "Phase",
            "multi": True, "name": "phase", "options": [], "query": ",".join(PHASES), "type": "custom",
        },
    ]
    return dashboard(
        "porttrack-port-operations-pg",
        "PortTrack / Port operations (Postgres)",
        "The port from PortTrack's Postgres tables: vessels on a map, congestion by zone, port calls with waiting and service times, anomalies and weather alerts. "
        "Complements PortTrack / Port operations (Prometheus gauges of the running instances) with the stored state and history.",
        ["porttrack", "port", "postgres"],
        variables,
        panels,
        refresh="1m",
        time_from="now-6h",
    )


def pg_queries(dash: dict) -> list[dict]:
    """Every SQL query of a Postgres dashboard: its variables' and its panels' targets."""
    out = []
    for v in dash["templating"]["list"]:
        if v.get("type") == "query":
            out.append({"kind": "variable", "name": v["name"], "file": v.get("sqlFile"), "rawSql": v["query"]})
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            out.append({"kind": "panel", "id": panel["id"], "title": panel["title"], "refId": t["refId"], "format": t.get("format"),
                        "file": t.get("sqlFile"), "rawSql": t.get("rawSql", "")})
    return out


def check_pg_dashboard(name: str, dash: dict) -> list[str]:
    """What lint.py checks for Prometheus dashboards, for SQL ones."""
    problems = []
    ids = set()
    variables = {v["name"] for v in dash["templating"]["list"]}
    if dash["templating"]["list"][0].get("query") != PG_TYPE:
        problems.append(f"{name}: the datasource variable is not of type {PG_TYPE}")
    for panel in dash["panels"]:
        pw = f"{name} panel {panel['id']} {panel['title']!r}"
        if panel["id"] in ids:
            problems.append(f"{pw}: id used twice")
        ids.add(panel["id"])
        if panel["type"] == "row":
            continue
        if panel.get("datasource") != PG_DS or not panel.get("targets"):
            problems.append(f"{pw}: no targets on the $datasource variable")
        for t in panel.get("targets", []):
            if t.get("datasource") != PG_DS or not t.get("rawSql", "").strip():
                problems.append(f"{pw} {t.get('refId')}: empty rawSql or not on $datasource")
            for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", t.get("rawSql", "")):
                if not var.startswith("__") and var not in variables:
                    problems.append(f"{pw}: uses undefined variable ${var}")
    used = {q["file"] for q in pg_queries(dash)}
    for path in sorted((SQL_DIR / PG_DASHBOARD).glob("*.sql")):
        if f"{PG_DASHBOARD}/{path.name}" not in used:
            problems.append(f"sql/{PG_DASHBOARD}/{path.name}: used by no panel or variable")
    return problems


DASHBOARDS = {
    "pipeline-health.json": pipeline_health,
    "port-operations.json": port_operations,
    "postgres/port-operations-postgres.json": port_operations_postgres,
}
PG_DASHBOARDS = {"postgres/port-operations-postgres.json"}


def render(build) -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate deploy/grafana/dashboards/*.json.")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    parser.add_argument("--export-sql", action="store_true", help="print every Postgres query (JSON lines) and exit")
    args = parser.parse_args()
    if args.export_sql:
        for name in sorted(PG_DASHBOARDS):
            for q in pg_queries(DASHBOARDS[name]()):
                print(json.dumps({"dashboard": name, **q}, ensure_ascii=False))
        return 0
    stale = []
    problems = []
    for name, build in DASHBOARDS.items():
        path = OUT / name
        text = render(build)
        if name in PG_DASHBOARDS:
            problems += check_pg_dashboard(name, json.loads(text))
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for p in problems:
        print(p, file=sys.stderr)
    if stale:
        print("out of date (run deploy/grafana/build.py): " + ", ".join(stale), file=sys.stderr)
    return 1 if stale or problems else 0


if __name__ == "__main__":
    sys.exit(main())
