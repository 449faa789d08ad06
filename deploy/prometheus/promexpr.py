"""Read PortTrack's PromQL out of the rules and dashboards.

Shared by `queries` (prints every expression as JSON lines) and `lint.py`
(deploy/prometheus/check's structural checks). Standard library plus PyYAML.

The PromQL handling here is deliberately small: a scanner that knows about
strings, brackets and the few keywords that matter, enough to

- split an alert expression into the operands of its top-level `and`, `or`
  and `unless`, and strip each operand's final threshold comparison
  (`X > 0.01` becomes `X`), which yields the alert's underlying signals;
- inline recording rules, so an expression can be evaluated by a Prometheus
  that does not load deploy/prometheus/rules (the local stack's);
- list the metric names an expression reads, to hold them to the contract.

It is not a PromQL parser: promtool checks syntax (see `check`).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - exercised only on machines without PyYAML
    sys.stderr.write(
        "error: PyYAML is not installed; install it with `pip install pyyaml` "
        "or `apt-get install python3-yaml`\n"
    )
    sys.exit(2)

DEPLOY = Path(__file__).resolve().parent.parent
RULES_DIR = DEPLOY / "prometheus" / "rules"
TESTS_DIR = DEPLOY / "prometheus" / "tests"
DASHBOARDS_DIR = DEPLOY / "grafana" / "dashboards"

# Values for Grafana's template variables when an expression leaves Grafana.
# Multi-value variables are used as regex matchers (`=~"$instance"`), so `.*`
# selects everything; `$job` is the contract's job name.
VARIABLE_VALUES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "job": "porttrack",
}
DEFAULT_VARIABLE_VALUE = ".*"

COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
SET_OPERATORS = ("and", "or", "unless")
# Keywords followed by a parenthesised label list (not an expression).
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
}
KEYWORDS = LABEL_LIST_KEYWORDS | set(SET_OPERATORS) | {"bool", "offset", "inf", "nan", "atan2"}

# Metrics that only appear with their first event (metrics-rs registers a
# labelled counter when it is first incremented), or come from a collector a
# local run does not have: an expression reading only these may return no
# data from a healthy pipeline.
MAY_BE_ABSENT = {
    "porttrack_sink_errors_total": "absent until a sink write fails",
    "porttrack_kafka_errors_total": "absent until the Kafka client reports an error",
    "porttrack_sink_item_retries_total": "absent until Elasticsearch asks for a retry",
    "porttrack_records_redelivered_total": "absent until the client re-delivers a record",
    "porttrack_records_rejected_total": "absent until a record is rejected (the simulator sends invalid records only with --invalid-ratio)",
    "porttrack_dead_letters_total": "absent until a record is dead-lettered (the simulator sends invalid records only with --invalid-ratio)",
    "porttrack_anomalies_total": "absent until an anomaly is detected",
    "kube_pod_container_status_restarts_total": "kube-state-metrics is scraped only in Kubernetes",
}
MAY_BE_ABSENT_PATTERNS = {
    r'porttrack_offset_commits_total\{[^}]*result="error"': "absent until an offset commit fails",
}


@dataclass
class Rule:
    """One rule of a rule file."""

    file: Path
    group: str
    kind: str  # "record" or "alert"
    name: str
    expr: str
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)
    for_: str | None = None

    @property
    def severity(self) -> str | None:
        return self.labels.get("severity")


@dataclass
class Query:
    """One PromQL expression and where it comes from."""

    source: str
    kind: str
    expr: str
    extra: dict = field(default_factory=dict)

    def as_json(self) -> str:
        obj = {"source": self.source, "kind": self.kind, "expr": squash(self.expr)}
        obj.update(self.extra)
        return json.dumps(obj, ensure_ascii=False)


class ExprError(ValueError):
    """An expression this module cannot take apart safely."""


# --- scanning -----------------------------------------------------------------


def squash(expr: str) -> str:
    """Collapse runs of whitespace outside string literals to one space."""
    out = []
    quote = None
    i = 0
    while i < len(expr):
        c = expr[i]
        if quote:
            out.append(c)
            if c == "\\" and quote != "`" and i + 1 < len(expr):
                out.append(expr[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
            out.append(c)
        elif c.isspace():
            if out and out[-1] not in " (":
                out.append(" ")
        else:
            if c == ")" and out and out[-1] == " ":
                out.pop()
            out.append(c)
        i += 1
    return "".join(out).strip()


def _scan(expr: str):
    """Yield (index, char, depth) for characters outside string literals.

    `depth` counts open (), {} and [] before the character; characters inside
    quotes are skipped entirely.
    """
    depth = 0
    i = 0
    n = len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            quote = c
            i += 1
            while i < n and expr[i] != quote:
                if expr[i] == "\\" and quote != "`":
                    i += 1
                i += 1
            i += 1
            continue
        if c in "({[":
            yield i, c, depth
            depth += 1
        elif c in ")}]":
            depth -= 1
            if depth < 0:
                raise ExprError(f"unbalanced {c!r} at {i} in {expr!r}")
            yield i, c, depth
        else:
            yield i, c, depth
        i += 1
    if depth != 0:
        raise ExprError(f"unbalanced brackets in {expr!r}")


def _matching_paren(expr: str, open_at: int) -> int:
    """Index of the bracket closing the one at `open_at`."""
    start_depth = None
    for i, c, depth in _scan(expr):
        if i == open_at:
            start_depth = depth
        elif start_depth is not None and c in ")}]" and depth == start_depth:
            return i
    raise ExprError(f"no closing bracket for position {open_at} in {expr!r}")


_WORD = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _top_level_words(expr: str):
    """Yield (start, end, word) for identifiers at bracket depth 0."""
    top = {i for i, _c, depth in _scan(expr) if depth == 0}
    for m in _WORD.finditer(expr):
        if m.start() in top and (m.start() == 0 or not (expr[m.start() - 1].isalnum() or expr[m.start() - 1] in "_:.")):
            yield m.start(), m.end(), m.group()


def split_set_operators(expr: str) -> list[str]:
    """Operands of the top-level `and`/`or`/`unless`, vector matching removed.

    `A > 1 and on (job) B > 0 unless C` gives ["A > 1", "B > 0", "C"].
    """
    cuts = []
    for start, end, word in _top_level_words(expr):
        if word.lower() in SET_OPERATORS:
            cuts.append((start, end))
    operands = []
    prev = 0
    for start, end in cuts:
        operands.append(expr[prev:start])
        prev = end
    operands.append(expr[prev:])
    cleaned = []
    for op in operands:
        op = op.strip()
        m = re.match(r"(on|ignoring)\s*\(", op)
        if m:
            close = _matching_paren(op, m.end() - 1)
            op = op[close + 1 :].strip()
        cleaned.append(op)
    return cleaned


def _is_number(text: str) -> bool:
    text = text.strip()
    if not text:
        return False
    # Allow simple constant arithmetic such as 6 * 3600.
    return re.fullmatch(r"[0-9eE.+\-*/ ()]+", text) is not None and re.search(r"[0-9]", text) is not None


def strip_threshold(operand: str) -> str:
    """`X > 0.01` -> `X`; `absent(X)` -> `X`; anything else unchanged."""
    operand = operand.strip()
    last = None
    for i, c, depth in _scan(operand):
        if depth != 0:
            continue
        two = operand[i : i + 2]
        prev = operand[i - 1] if i > 0 else ""
        if two in ("==", "!=", ">=", "<="):
            last = (i, 2)
        elif c in "<>" and not (prev and prev in "<>=!") and operand[i + 1 : i + 2] != "=":
            last = (i, 1)
    if last is not None:
        at, width = last
        rhs = operand[at + width :].strip()
        rhs = re.sub(r"^bool\b", "", rhs).strip()
        if _is_number(rhs):
            operand = operand[:at].strip()
    m = re.fullmatch(r"absent\s*\((.*)\)", operand, re.S)
    if m and _matching_paren(operand, operand.index("(")) == len(operand) - 1:
        operand = m.group(1).strip()
    return operand


def threshold_sites(expr: str) -> list[tuple[int, int, str, float]]:
    """Where each top-level operand's numeric threshold sits in `expr`.

    Returns (start, end, operator, value) per threshold, positions into
    `expr`, for operands like `X > 0.01` (not for vector-vector comparisons).
    """
    sites = []
    offset = 0
    for operand in split_set_operators(expr):
        at = expr.index(operand, offset)
        offset = at + len(operand)
        last = None
        for i, c, depth in _scan(operand):
            if depth != 0:
                continue
            two = operand[i : i + 2]
            prev = operand[i - 1] if i > 0 else ""
            if two in ("==", "!=", ">=", "<="):
                last = (i, two)
            elif c in "<>" and not (prev and prev in "<>=!") and operand[i + 1 : i + 2] != "=":
                last = (i, c)
        if last is None:
            continue
        i, op = last
        m = re.match(r"\s*(?:bool\s+)?([0-9][0-9.eE+-]*)\s*$", operand[i + len(op) :])
        if m:
            start = at + i + len(op) + m.start(1)
            sites.append((start, start + len(m.group(1)), op, float(m.group(1))))
    return sites


def alert_signals(expr: str) -> list[str]:
    """The signals behind an alert: each set operand, threshold removed."""
    return [strip_threshold(op) for op in split_set_operators(expr)]


def metric_names(expr: str) -> set[str]:
    """Metric names (and recording-rule names) an expression selects."""
    names = set()
    depth_at = {i: depth for i, _c, depth in _scan(expr)}
    skip_until = -1
    for m in _WORD.finditer(expr):
        start, end, word = m.start(), m.end(), m.group()
        if start <= skip_until or start not in depth_at:
            continue  # inside a label list or a string
        before = expr[start - 1] if start > 0 else ""
        if before.isalnum() or before in "_:.":
            continue  # part of a number (1e3) or a longer token
        # Inside {...} or [...]: label names and durations, not metrics.
        enclosing = _enclosing_bracket(expr, start)
        if enclosing in ("{", "["):
            continue
        rest = expr[end:].lstrip()
        if word.lower() in LABEL_LIST_KEYWORDS and rest.startswith("("):
            open_at = end + (len(expr[end:]) - len(rest))
            skip_until = _matching_paren(expr, open_at)
            continue
        if word.lower() in KEYWORDS:
            continue
        if rest.startswith("(") or (word.lower() in AGGREGATIONS and re.match(r"(by|without)\b", rest)):
            continue  # a function call or an aggregation
        names.add(word)
    return names


def _enclosing_bracket(expr: str, pos: int) -> str:
    stack = []
    for i, c, _depth in _scan(expr):
        if i >= pos:
            break
        if c in "({[":
            stack.append(c)
        elif c in ")}]":
            stack.pop()
    return stack[-1] if stack else ""


def inline_records(expr: str, records: dict[str, str], _seen: tuple = ()) -> str:
    """Replace recording-rule names by their (parenthesised) expressions."""
    for name, body in records.items():
        pattern = re.compile(r"(?<![A-Za-z0-9_:])" + re.escape(name) + r"(?![A-Za-z0-9_:])")
        for m in pattern.finditer(expr):
            following = expr[m.end() :].lstrip()[:1]
            if following in ("{", "["):
                raise ExprError(
                    f"recording rule {name} is used with a selector or range in {expr!r}; "
                    "it cannot be inlined as text"
                )
        if pattern.search(expr):
            if name in _seen:
                raise ExprError(f"recording rule {name} refers to itself")
            inner = inline_records(body, records, _seen + (name,))
            expr = pattern.sub(lambda _m, inner=inner: "(" + inner.strip() + ")", expr)
    return expr


def substitute_variables(expr: str) -> str:
    """Grafana template variables -> values a plain Prometheus accepts."""

    def value(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        name = name.split(":", 1)[0]  # ${var:regex} and other formats
        return VARIABLE_VALUES.get(name, DEFAULT_VARIABLE_VALUE)

    return re.sub(r"\$\{([A-Za-z0-9_:]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)", value, expr)


def absent_reason(expr: str) -> str | None:
    """Why `expr` may legitimately return no data from a healthy pipeline."""
    if re.search(r"(?<![A-Za-z0-9_:])or(?![A-Za-z0-9_:])", expr):
        return None  # has a fallback branch
    for pattern, reason in MAY_BE_ABSENT_PATTERNS.items():
        if re.search(pattern, expr):
            return reason
    reasons = [MAY_BE_ABSENT[n] for n in sorted(metric_names(expr)) if n in MAY_BE_ABSENT]
    return "; ".join(reasons) if reasons else None


# --- loading ------------------------------------------------------------------


def load_rules(rules_dir: Path = RULES_DIR) -> list[Rule]:
    rules = []
    for path in sorted(rules_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for group in doc.get("groups", []):
            for r in group.get("rules", []):
                kind = "record" if "record" in r else "alert"
                rules.append(
                    Rule(
                        file=path,
                        group=group["name"],
                        kind=kind,
                        name=r[kind],
                        expr=str(r["expr"]).strip(),
                        labels=r.get("labels") or {},
                        annotations=r.get("annotations") or {},
                        for_=r.get("for"),
                    )
                )
    return rules


def iter_panels(panels: list):
    """Every panel, including those nested in collapsed rows."""
    for p in panels:
        yield p
        yield from iter_panels(p.get("panels") or [])


def load_dashboards(dashboards_dir: Path = DASHBOARDS_DIR) -> list[tuple[Path, dict]]:
    return [(p, json.loads(p.read_text())) for p in sorted(dashboards_dir.glob("*.json"))]


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(DEPLOY.parent))
    except ValueError:
        return str(path)


def dashboard_queries(dashboards=None) -> list[Query]:
    out = []
    for path, dash in dashboards if dashboards is not None else load_dashboards():
        for var in dash.get("templating", {}).get("list", []):
            if var.get("type") != "query":
                continue
            q = var.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", q or "", re.S)
            if not m:
                continue  # label_values(label) has no selector to evaluate
            out.append(
                Query(
                    f"{_rel(path)} variable ${var['name']}",
                    "dashboard-variable",
                    substitute_variables(m.group(1).strip()),
                )
            )
        for panel in iter_panels(dash.get("panels", [])):
            for target in panel.get("targets") or []:
                expr = target.get("expr", "")
                src = f"{_rel(path)} panel {panel.get('id')} {target.get('refId')} \"{panel.get('title', '')}\""
                q = Query(src, "dashboard", substitute_variables(expr))
                reason = absent_reason(q.expr)
                if reason:
                    q.extra["may_be_empty"] = reason
                out.append(q)
    return out


def rule_queries(rules=None, inline: bool = True) -> list[Query]:
    rules = rules if rules is not None else load_rules()
    records = {r.name: r.expr for r in rules if r.kind == "record"}

    def prepare(expr: str) -> str:
        return inline_records(expr, records) if inline else expr

    out = []
    for r in rules:
        src = f"{_rel(r.file)} {r.kind} {r.name}"
        if r.kind == "record":
            out.append(Query(src, "record", prepare(r.expr), {"name": r.name}))
            continue
        src += f'{{severity="{r.severity}"}}'
        out.append(
            Query(
                src,
                "alert",
                prepare(r.expr),
                {"name": r.name, "severity": r.severity, "may_be_empty": "an alert expression returns data only while its condition holds"},
            )
        )
        signals = alert_signals(r.expr)
        for i, signal in enumerate(signals, 1):
            q = Query(
                f"{src} signal {i}/{len(signals)}",
                "alert-signal",
                prepare(signal),
                {"name": r.name, "severity": r.severity},
            )
            reason = absent_reason(q.expr)
            if reason:
                q.extra["may_be_empty"] = reason
            out.append(q)
    return out
