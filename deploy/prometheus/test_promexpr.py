"""Unit tests of promexpr, the PromQL helpers behind `queries` and `check`.

    python3 deploy/prometheus/test_promexpr.py
"""

import sys
import unittest
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import promexpr as p  # noqa: E402


class AlertSignals(unittest.TestCase):
    def test_strips_the_final_threshold(self):
        self.assertEqual(p.alert_signals("instance:x:rate5m > 0.01"), ["instance:x:rate5m"])
        self.assertEqual(p.alert_signals("time() - x > 120"), ["time() - x"])
        self.assertEqual(p.alert_signals("up{job=\"porttrack\"} == 0"), ['up{job="porttrack"}'])
        self.assertEqual(p.alert_signals("x >= bool 3"), ["x"])

    def test_keeps_comparisons_inside_brackets_and_strings(self):
        expr = 'sum by (job) (rate(x{a!="b>1"}[5m]) > 2)'
        self.assertEqual(p.alert_signals(expr), [expr])

    def test_keeps_vector_to_vector_comparisons(self):
        self.assertEqual(p.alert_signals("a > b"), ["a > b"])

    def test_splits_set_operators_and_drops_vector_matching(self):
        expr = "sum by (j, i) (lag) > 0\nand on (j, i)\nassigned > 0\nunless on (j, i)\nincrease(c[10m]) > 0"
        self.assertEqual(p.alert_signals(expr), ["sum by (j, i) (lag)", "assigned", "increase(c[10m])"])

    def test_absent_yields_its_argument(self):
        self.assertEqual(p.alert_signals('sum(up) == 0 or absent(up{job="p"})'), ["sum(up)", 'up{job="p"}'])

    def test_does_not_split_inside_words_or_brackets(self):
        self.assertEqual(p.split_set_operators("sum(a or b) > 1"), ["sum(a or b) > 1"])
        self.assertEqual(p.split_set_operators("order_total > 1"), ["order_total > 1"])

    def test_threshold_sites_point_at_the_numbers(self):
        expr = "a > 10000\nand\nb > 0"
        self.assertEqual([expr[s:e] for s, e, _op, _v in p.threshold_sites(expr)], ["10000", "0"])


class Inline(unittest.TestCase):
    def test_inlines_recursively(self):
        records = {"r:b": "sum(x)", "r:a": "r:b / 2"}
        self.assertEqual(p.inline_records("r:a > 1", records), "((sum(x)) / 2) > 1")

    def test_refuses_selectors_on_recording_rules(self):
        with self.assertRaises(p.ExprError):
            p.inline_records("rate(r:b[5m])", {"r:b": "sum(x)"})

    def test_leaves_longer_names_alone(self):
        self.assertEqual(p.inline_records("r:bc", {"r:b": "x"}), "r:bc")


class MetricNames(unittest.TestCase):
    def test_finds_metrics_not_labels_functions_or_keywords(self):
        expr = (
            "histogram_quantile(0.95, sum by (le, sink) (rate(h_bucket{sink=~\"$s\"}[5m])))"
            " / on (instance) group_left (version) build_info offset 5m"
            " unless count without (x) (y) > bool 1e3"
        )
        self.assertEqual(p.metric_names(expr), {"h_bucket", "build_info", "y"})


class Variables(unittest.TestCase):
    def test_substitutes_grafana_variables(self):
        expr = 'rate(x{job=~"$job", instance=~"${instance}", v=~"${version:regex}"}[$__rate_interval])'
        self.assertEqual(
            p.substitute_variables(expr), 'rate(x{job=~"porttrack", instance=~".*", v=~".*"}[1m])'
        )


class Squash(unittest.TestCase):
    def test_collapses_whitespace_outside_strings(self):
        self.assertEqual(p.squash('sum by (a)  (\n  x{l="a  b"}\n)'), 'sum by (a) (x{l="a  b"})')


class AbsentReason(unittest.TestCase):
    def test_flags_event_counters_without_fallback(self):
        self.assertIsNotNone(p.absent_reason("sum(rate(porttrack_sink_errors_total[1m]))"))
        self.assertIsNone(p.absent_reason("sum(rate(porttrack_sink_errors_total[1m])) or vector(0)"))
        self.assertIsNone(p.absent_reason("sum(rate(porttrack_records_consumed_total[1m]))"))
        self.assertIsNotNone(p.absent_reason('rate(porttrack_offset_commits_total{result="error"}[1m])'))


if __name__ == "__main__":
    unittest.main()
