#!/usr/bin/env python3
"""Structural checks of PortTrack's rules, rule tests and dashboards.

Run by deploy/prometheus/check; each subcommand prints one line per problem
and exits 1 if there is any.

  lint.py rules        every alert: severity critical|warning|info, summary,
                       description and runbook_url annotations, a runbook
                       entry in README.md; tested firing (for each of its
                       severities) and not firing in tests/*.yml; no test for
                       an alert that does not exist
  lint.py dashboards   valid JSON, unique panel ids, every panel with the
                       $datasource variable and a non-empty expr per target,
                       unique refIds, multi-value variables matched with =~,
                       generated file up to date (deploy/grafana/build.py)
  lint.py metrics      every metric in rules and dashboards is in the contract
  lint.py thresholds   mutation test of the rule tests: move every alert
                       threshold up and down (x1.5 and x0.5; 0 to +1 and -1;
                       == to +1 and -1) one at a time and require that
                       `promtool test rules` then fails; slow (about two
                       minutes on two cores), so `check --thorough` only
  lint.py syntax-file OUT
                       write every dashboard, variable and alert-signal
                       expression into OUT as a recording-rule file, so that
                       `promtool check rules OUT` parses them all
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # keep the checkout clean of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))

import promexpr  # noqa: E402
import yaml  # noqa: E402  (promexpr reports a missing PyYAML)

README = Path(__file__).resolve().parent / "README.md"
SEVERITIES = {"critical", "warning", "info"}
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")
RUNBOOK_PREFIX = "https://github.com/porttrack/porttrack/blob/main/deploy/prometheus/README.md#"

# The metric contract: docs/metrics.md plus the metrics being added with the
# port processors, the process collector, Prometheus' `up` and, for the
# crash-loop alert, kube-state-metrics.
CONTRACT = {
    "porttrack_build_info", "porttrack_records_consumed_total", "porttrack_records_rejected_total",
    "porttrack_records_redelivered_total", "porttrack_dead_letters_total",
    "porttrack_sink_records_written_total", "porttrack_sink_errors_total", "porttrack_sink_item_retries_total",
    "porttrack_sink_up", "porttrack_batches_in_flight", "porttrack_source_paused",
    "porttrack_partitions_assigned", "porttrack_consumer_lag_records", "porttrack_rebalances_total",
    "porttrack_offset_commits_total", "porttrack_offset_refetches_total", "porttrack_offset_gaps_total",
    "porttrack_batches_stale_total", "porttrack_kafka_errors_total", "porttrack_vessels_tracked",
    "porttrack_records_decoded_total", "porttrack_records_committed_total",
    "porttrack_last_progress_timestamp_seconds", "porttrack_zone_vessels", "porttrack_anchorage_queue_vessels",
    "porttrack_anchorage_wait_seconds", "porttrack_berth_occupancy_ratio", "porttrack_congestion_level",
    "porttrack_port_arrivals_total", "porttrack_port_departures_total", "porttrack_weather_alerts_active",
    "porttrack_anomalies_total", "porttrack_fault_injected_total",
    "process_start_time_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
    "porttrack_heap_allocated_bytes",
    "up", "kube_pod_container_status_restarts_total",
}
HISTOGRAMS = {
    "porttrack_sink_write_duration_seconds", "porttrack_batch_size_records",
    "porttrack_batch_duration_seconds", "porttrack_event_age_seconds", "porttrack_record_latency_seconds",
    "porttrack_checkpoint_duration_seconds",
}
CONTRACT |= {h + suffix for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}


def runbook_anchors() -> set[str]:
    """GitHub's anchors for README.md's headings."""
    anchors = set()
    for line in README.read_text().splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors


def check_rules() -> list[str]:
    problems = []
    rules = promexpr.load_rules()
    alerts = [r for r in rules if r.kind == "alert"]
    anchors = runbook_anchors()
    for r in alerts:
        where = f"{r.file.name}: {r.name}"
        if r.severity not in SEVERITIES:
            problems.append(f"{where}: severity {r.severity!r} is not one of {sorted(SEVERITIES)}")
        for a in REQUIRED_ANNOTATIONS:
            if not str(r.annotations.get(a, "")).strip():
                problems.append(f"{where}: no {a} annotation")
        url = r.annotations.get("runbook_url", "")
        if url:
            if not url.startswith(RUNBOOK_PREFIX):
                problems.append(f"{where}: runbook_url does not point into deploy/prometheus/README.md")
            anchor = url.rsplit("#", 1)[-1]
            if anchor != r.name.lower():
                problems.append(f"{where}: runbook anchor #{anchor} should be #{r.name.lower()}")
            if anchor not in anchors:
                problems.append(f"{where}: README.md has no heading for #{anchor}")

    # Coverage by the promtool tests.
    fired: dict[str, set] = {}
    quiet: set[str] = set()
    tested: set[str] = set()
    for path in sorted(promexpr.TESTS_DIR.glob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for test in doc.get("tests", []):
            for case in test.get("alert_rule_test", []) or []:
                name = case["alertname"]
                tested.add(name)
                exp = case.get("exp_alerts") or []
                if not exp:
                    quiet.add(name)
                for alert in exp:
                    fired.setdefault(name, set()).add((alert.get("exp_labels") or {}).get("severity"))
    names = {r.name for r in alerts}
    for name in sorted(names):
        severities = {r.severity for r in alerts if r.name == name}
        if name not in tested:
            problems.append(f"{name}: no test in tests/*.yml")
            continue
        missing = severities - fired.get(name, set())
        if missing:
            problems.append(f"{name}: never tested firing with severity {', '.join(sorted(missing))}")
        if name not in quiet:
            problems.append(f"{name}: never tested not firing (an alert_rule_test with exp_alerts: [])")
    for name in sorted(tested - names):
        problems.append(f"tests name alert {name}, which no rule defines (a typo passes silently)")
    return problems


def check_dashboards() -> list[str]:
    problems = []
    for path, dash in promexpr.load_dashboards():
        where = path.name
        if not dash.get("uid"):
            problems.append(f"{where}: no uid")
        if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
            problems.append(f"{where}: schemaVersion {dash.get('schemaVersion')!r} is older than Grafana 9")
        variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
        if variables.get("datasource", {}).get("type") != "datasource":
            problems.append(f"{where}: no datasource variable named `datasource`")
        multi = {name for name, v in variables.items() if v.get("multi") or v.get("includeAll")}
        ids = {}
        for panel in promexpr.iter_panels(dash.get("panels", [])):
            pid = panel.get("id")
            pw = f"{where} panel {pid} {panel.get('title', '')!r}"
            if not isinstance(pid, int):
                problems.append(f"{pw}: id is not an integer")
            elif pid in ids:
                problems.append(f"{pw}: id {pid} already used by {ids[pid]!r}")
            else:
                ids[pid] = panel.get("title", "")
            if "gridPos" not in panel:
                problems.append(f"{pw}: no gridPos")
            if panel.get("type") == "row":
                continue
            if panel.get("datasource") != promexpr_ds():
                problems.append(f"{pw}: datasource is {panel.get('datasource')!r}, not the $datasource variable")
            tgts = panel.get("targets") or []
            if not tgts:
                problems.append(f"{pw}: no targets")
            refs = set()
            for t in tgts:
                ref = t.get("refId")
                if ref in refs:
                    problems.append(f"{pw}: refId {ref} used twice")
                refs.add(ref)
                if t.get("datasource") != promexpr_ds():
                    problems.append(f"{pw} {ref}: target datasource is not the $datasource variable")
                expr = (t.get("expr") or "").strip()
                if not expr:
                    problems.append(f"{pw} {ref}: empty expr")
                    continue
                for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", expr):
                    if var.startswith("__"):
                        continue
                    if var not in variables:
                        problems.append(f"{pw} {ref}: uses undefined variable ${var}")
                    elif var in multi and not re.search(r'=~\s*"\$\{?' + var + r"\b", expr):
                        problems.append(f"{pw} {ref}: multi-value ${var} must be matched with =~")
    build = promexpr.DEPLOY / "grafana" / "build.py"
    if build.exists():
        import subprocess

        result = subprocess.run([sys.executable, str(build), "--check"], capture_output=True, text=True)
        if result.returncode != 0:
            problems.append(result.stderr.strip() or "deploy/grafana/build.py --check failed")
    return problems


def promexpr_ds() -> dict:
    return {"type": "prometheus", "uid": "${datasource}"}


def check_metrics() -> list[str]:
    problems = []
    rules = promexpr.load_rules()
    records = {r.name for r in rules if r.kind == "record"}
    known = CONTRACT | records
    queries = [(f"{r.file.name} {r.kind} {r.name}", r.expr) for r in rules]
    queries += [(q.source, q.expr) for q in promexpr.dashboard_queries()]
    for source, expr in queries:
        for name in sorted(promexpr.metric_names(expr) - known):
            problems.append(f"{source}: {name} is not in the metric contract")
    return problems


# Threshold moves the tests do not catch, on purpose.
UNCAUGHT_MOVES = {
    ("PorttrackNoProgress", 3, "raise"): "any healthy commit rate is far above one record in 10 minutes",
    ("PorttrackVersionSkew", 1, "raise"): "the number of versions is an integer: 1.5 means the same as 1",
}


def _moved(value: float, op: str, direction: str) -> float:
    if op == "==" or value == 0:
        return value + (1 if direction == "raise" else -1)
    return value * (1.5 if direction == "raise" else 0.5)


def check_thresholds() -> list[str]:
    import concurrent.futures
    import os
    import shutil
    import subprocess
    import tempfile

    promtool = os.environ.get("PROMTOOL", "promtool")
    here = Path(__file__).resolve().parent
    rule_files = sorted(promexpr.RULES_DIR.glob("*.yml"))
    jobs = []  # (description, key, rule file, mutated text)
    for path in rule_files:
        text = path.read_text()
        doc = yaml.safe_load(text)
        for group in doc["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                expr = str(rule["expr"])
                sites = promexpr.threshold_sites(expr)
                for n, (start, end, op, value) in enumerate(sites, 1):
                    for direction in ("raise", "lower"):
                        new = _moved(value, op, direction)
                        mutated_expr = expr[:start] + repr(new) + expr[end:]
                        rule_copy = dict(rule, expr=mutated_expr)
                        mutated = yaml.safe_load(text)
                        for g in mutated["groups"]:
                            g["rules"] = [rule_copy if r == rule else r for r in g["rules"]]
                        severity = (rule.get("labels") or {}).get("severity")
                        desc = f"{rule['alert']}{{severity={severity}}} threshold {n}/{len(sites)} {op} {value:g} -> {new:g}"
                        jobs.append((desc, (rule["alert"], n, direction), path.name, yaml.safe_dump(mutated, sort_keys=False)))

    def run(job):
        desc, key, name, text = job
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(here / "tests", Path(tmp) / "tests")
            (Path(tmp) / "rules").mkdir()
            for other in rule_files:
                shutil.copy(other, Path(tmp) / "rules" / other.name)
            (Path(tmp) / "rules" / name).write_text(text)
            tests = sorted(str(p) for p in (Path(tmp) / "tests").glob("*.yml"))
            result = subprocess.run([promtool, "test", "rules", *tests], capture_output=True, text=True)
            return desc, key, result.returncode != 0

    problems = []
    caught = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for desc, key, failed in pool.map(run, jobs):
            if failed:
                caught += 1
            elif key not in UNCAUGHT_MOVES:
                problems.append(f"{desc}: the tests still pass (add a case on the other side of the threshold)")
    print(f"  {caught} of {len(jobs)} threshold moves break a test; {len(UNCAUGHT_MOVES)} allowed not to")
    return problems


def write_syntax_file(out: Path) -> list[str]:
    queries = [q for q in promexpr.dashboard_queries() + promexpr.rule_queries(inline=False) if q.kind != "record"]
    rules = [{"record": f"porttrack_check:expr_{i}", "expr": q.expr} for i, q in enumerate(queries)]
    out.write_text(
        "# Generated by deploy/prometheus/lint.py for `promtool check rules`; not a rule file to load.\n"
        + "# " + "\n# ".join(f"expr_{i}: {q.source}" for i, q in enumerate(queries)) + "\n"
        + yaml.safe_dump({"groups": [{"name": "porttrack-check", "rules": rules}]}, sort_keys=False, width=1000)
    )
    return []


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("rules", "dashboards", "metrics", "thresholds", "syntax-file"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[0] == "rules":
            problems = check_rules()
        elif argv[0] == "dashboards":
            problems = check_dashboards()
        elif argv[0] == "metrics":
            problems = check_metrics()
        elif argv[0] == "thresholds":
            problems = check_thresholds()
        else:
            if len(argv) != 2:
                print("usage: lint.py syntax-file OUT", file=sys.stderr)
                return 2
            problems = write_syntax_file(Path(argv[1]))
    except promexpr.ExprError as e:
        problems = [str(e)]
    for p in problems:
        print(f"  {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
