//! The canary analysis: the AnalysisTemplate's five metrics as Prometheus
//! queries against the drill's instances (the two sides told apart by a
//! join on `porttrack_build_info{version}`), and Argo Rollouts' judge
//! (initial delay, interval, count, failure limit, consecutive-error limit).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::error::DrillError;
use crate::instance::Instance;
use crate::options::AnalysisOptions;
use crate::report::{Decision, Measurement, Outcome};
use crate::run::Run;

/// Per-query timeout (the template's `timeout: 20`, shorter locally).
pub(crate) const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The value of an instant query: the first sample, `None` when empty.
pub(crate) async fn prom_query(
    http: &reqwest::Client,
    base: &str,
    expr: &str,
) -> Result<Option<f64>, String> {
    let response: Value = http
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    if response["status"] != "success" {
        return Err(format!("{}: {}", response["errorType"], response["error"]));
    }
    let data = &response["data"];
    let sample = match data["resultType"].as_str() {
        Some("scalar") => &data["result"][1],
        _ => &data["result"][0]["value"][1],
    };
    Ok(sample.as_str().and_then(|v| v.parse::<f64>().ok()))
}

/// When a measurement passes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Condition {
    AtMost(f64),
    Above(f64),
    AtLeast(f64),
}

impl Condition {
    fn judge(self, value: Option<f64>) -> Outcome {
        match value {
            None => Outcome::Error,
            Some(v) if v.is_nan() => Outcome::Error,
            Some(v) => {
                let pass = match self {
                    Condition::AtMost(limit) => v <= limit,
                    Condition::Above(limit) => v > limit,
                    Condition::AtLeast(limit) => v >= limit,
                };
                if pass { Outcome::Pass } else { Outcome::Fail }
            }
        }
    }
}

/// One AnalysisTemplate metric, as a query against the drill's instances.
#[derive(Debug, Clone)]
struct Metric {
    name: &'static str,
    query: String,
    condition: Condition,
}

/// `expr` restricted to the instances whose `porttrack_build_info` carries
/// `version` (the drill's stand-in for `rollouts_pod_template_hash`).
fn side(expr: &str, run: &str, version: &str) -> String {
    format!("({expr} * on (instance) group_left () porttrack_build_info{{{run},version=\"{version}\"}})")
}

/// (Rejected + permanent sink errors) / consumed of one side, over window `w`.
pub(crate) fn error_ratio_query(run: &str, version: &str, w: &str) -> String {
    let rejected = side(&format!("rate(porttrack_records_rejected_total{{{run}}}[{w}])"), run, version);
    let permanent =
        side(&format!("rate(porttrack_sink_errors_total{{{run},kind=\"permanent\"}}[{w}])"), run, version);
    let consumed = side(&format!("rate(porttrack_records_consumed_total{{{run}}}[{w}])"), run, version);
    format!("(((sum({rejected}) or vector(0)) + (sum({permanent}) or vector(0))) / sum({consumed}))")
}

/// The template's five metrics for run selector `run` (`drill_run="..."`).
fn metrics(run: &str, o: &AnalysisOptions) -> Vec<Metric> {
    let w = format!("{}s", o.window.as_secs().max(10));
    let lw = format!("{}s", (o.window * 2).as_secs().max(20));
    let dead_letter_ratio = |version: &str| {
        let letters = side(&format!("rate(porttrack_dead_letters_total{{{run}}}[{w}])"), run, version);
        let consumed = side(&format!("rate(porttrack_records_consumed_total{{{run}}}[{w}])"), run, version);
        format!("((sum({letters}) or vector(0)) / sum({consumed}))")
    };
    let p95 = |version: &str| {
        let buckets =
            side(&format!("rate(porttrack_sink_write_duration_seconds_bucket{{{run}}}[{lw}])"), run, version);
        format!("histogram_quantile(0.95, sum by (sink, le) ({buckets}))")
    };
    // Judge only on samples large enough on both sides (Kayenta's and
    // Argo's minimum-sample rule); below that the measurement passes.
    let gated = |comparison: String, counter: &str, window: &str, min: u32| {
        let count = |version: &str| side(&format!("increase({counter}{{{run}}}[{window}])"), run, version);
        format!(
            "(({comparison}) and on () ((sum({}) >= {min}) and on () (sum({}) >= {min}))) or on () vector(0)",
            count("canary"),
            count("stable")
        )
    };
    vec![
        Metric {
            name: "error-ratio",
            query: gated(
                format!(
                    "{} - {}",
                    error_ratio_query(run, "canary", &w),
                    error_ratio_query(run, "stable", &w)
                ),
                "porttrack_records_consumed_total",
                &w,
                o.min_records,
            ),
            condition: Condition::AtMost(o.max_error_ratio_increase),
        },
        Metric {
            name: "dead-letter-ratio",
            query: gated(
                format!("{} - {}", dead_letter_ratio("canary"), dead_letter_ratio("stable")),
                "porttrack_records_consumed_total",
                &w,
                o.min_records,
            ),
            condition: Condition::AtMost(o.max_dead_letter_ratio_increase),
        },
        Metric {
            name: "sink-latency-p95",
            query: gated(
                format!(
                    "max({} - on (sink) ({} * {} + {}))",
                    p95("canary"),
                    p95("stable"),
                    o.max_latency_factor,
                    o.latency_slack_seconds
                ),
                "porttrack_sink_write_duration_seconds_count",
                &lw,
                o.min_latency_samples,
            ),
            condition: Condition::AtMost(0.0),
        },
        Metric {
            name: "canary-commits",
            query: format!(
                "sum({}) or vector(0)",
                side(&format!("rate(porttrack_records_committed_total{{{run}}}[{w}])"), run, "canary")
            ),
            condition: Condition::Above(0.0),
        },
        Metric {
            name: "canary-owns-partitions",
            query: format!(
                "min({}) or vector(0)",
                side(&format!("porttrack_partitions_assigned{{{run}}}"), run, "canary")
            ),
            condition: Condition::AtLeast(1.0),
        },
    ]
}

/// Argo Rollouts' bookkeeping: per metric, failures and consecutive errors.
#[derive(Debug, Clone, Default)]
struct Judge {
    failures: BTreeMap<&'static str, u32>,
    consecutive_errors: BTreeMap<&'static str, u32>,
}

impl Judge {
    /// Records one measurement; returns why the analysis fails, if it now does.
    fn record(&mut self, m: &Measurement, o: &AnalysisOptions) -> Option<String> {
        let errors = self.consecutive_errors.entry(m.metric).or_default();
        match m.outcome {
            Outcome::Pass => *errors = 0,
            Outcome::Error => {
                *errors += 1;
                if *errors > o.consecutive_error_limit {
                    return Some(format!("{}: {} consecutive measurements without data", m.metric, *errors));
                }
            }
            Outcome::Fail => {
                *errors = 0;
                let failures = self.failures.entry(m.metric).or_default();
                *failures += 1;
                if *failures > o.failure_limit {
                    return Some(format!("{}: failed {} times", m.metric, *failures));
                }
            }
        }
        None
    }
}

/// Runs the analysis, its initial delay counted from `clock`, checking the
/// instances stay alive; measurement times are since `canary_started`.
pub(crate) async fn analyse(
    run: &Run,
    o: &AnalysisOptions,
    canary: &mut Instance,
    stable: &mut [Instance],
    canary_started: Instant,
    clock: Instant,
) -> Result<(Decision, Vec<Measurement>), DrillError> {
    let metrics = metrics(&run.selector(), o);
    let mut judge = Judge::default();
    let mut measurements = Vec::new();
    let mut next = clock + o.initial_delay;
    for _ in 0..o.count {
        while Instant::now() < next {
            for s in stable.iter_mut() {
                s.alive()?;
            }
            if let Err(e) = canary.alive() {
                // A crashing canary is the plainest reason to abort.
                let reason = format!("the canary died: {e}");
                return Ok((Decision::Abort { metrics: vec!["canary-alive".into()], reason }, measurements));
            }
            tokio::time::sleep(Duration::from_millis(250).min(next - Instant::now())).await;
        }
        let mut failed = Vec::new();
        for metric in &metrics {
            let value = match prom_query(&run.http, &run.env.prometheus_url, &metric.query).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(metric = metric.name, error = %e, "analysis query failed");
                    None
                }
            };
            let m = Measurement {
                at: canary_started.elapsed(),
                metric: metric.name,
                value,
                outcome: metric.condition.judge(value),
            };
            if let Some(reason) = judge.record(&m, o) {
                let shown = value.map_or_else(|| "no data".to_owned(), |v| format!("{v:.4}"));
                failed.push((metric.name.to_owned(), format!("{reason} (last value {shown})")));
            }
            measurements.push(m);
        }
        if !failed.is_empty() {
            let (metrics, reasons): (Vec<String>, Vec<String>) = failed.into_iter().unzip();
            return Ok((Decision::Abort { metrics, reason: reasons.join("; ") }, measurements));
        }
        next += o.interval;
    }
    Ok((Decision::Promote, measurements))
}

/// The `rate()` window of the ratio queries.
pub(crate) fn window(o: &AnalysisOptions) -> String {
    format!("{}s", o.window.as_secs().max(10))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_judge_aborts_on_the_second_failure_and_the_third_consecutive_error() {
        let o = AnalysisOptions::default();
        let m = |outcome| Measurement { at: Duration::ZERO, metric: "error-ratio", value: None, outcome };
        let mut judge = Judge::default();
        assert_eq!(judge.record(&m(Outcome::Fail), &o), None);
        assert_eq!(judge.record(&m(Outcome::Pass), &o), None);
        assert!(judge.record(&m(Outcome::Fail), &o).is_some());

        let mut judge = Judge::default();
        assert_eq!(judge.record(&m(Outcome::Error), &o), None);
        assert_eq!(judge.record(&m(Outcome::Error), &o), None);
        assert_eq!(judge.record(&m(Outcome::Pass), &o), None, "a pass resets the error streak");
        assert_eq!(judge.record(&m(Outcome::Error), &o), None);
        assert_eq!(judge.record(&m(Outcome::Error), &o), None);
        assert!(judge.record(&m(Outcome::Error), &o).is_some());
    }

    #[test]
    fn conditions_treat_no_data_and_nan_as_errors() {
        assert_eq!(Condition::AtMost(0.005).judge(Some(0.2)), Outcome::Fail);
        assert_eq!(Condition::AtMost(0.005).judge(Some(-0.001)), Outcome::Pass);
        assert_eq!(Condition::Above(0.0).judge(Some(0.0)), Outcome::Fail);
        assert_eq!(Condition::AtLeast(1.0).judge(Some(1.0)), Outcome::Pass);
        assert_eq!(Condition::AtMost(0.0).judge(Some(f64::NAN)), Outcome::Error);
        assert_eq!(Condition::AtMost(0.0).judge(None), Outcome::Error);
    }

    #[test]
    fn queries_join_on_build_info_for_each_side() {
        let all = metrics("drill_run=\"r\"", &AnalysisOptions::default());
        let names: Vec<&str> = all.iter().map(|m| m.name).collect();
        assert_eq!(
            names,
            [
                "error-ratio",
                "dead-letter-ratio",
                "sink-latency-p95",
                "canary-commits",
                "canary-owns-partitions"
            ]
        );
        let error = &all[0].query;
        assert!(error.contains("porttrack_build_info{drill_run=\"r\",version=\"canary\"}"), "{error}");
        assert!(error.contains("porttrack_build_info{drill_run=\"r\",version=\"stable\"}"), "{error}");
        assert!(error.contains("kind=\"permanent\""));
        assert!(error.contains("[30s]"));
        assert!(all[2].query.contains("[60s]"), "latency uses the longer window");
        // Parentheses balance (a cheap guard against a malformed expression).
        for m in &all {
            let depth = m.query.chars().try_fold(0_i32, |d, c| match c {
                '(' => Some(d + 1),
                ')' => (d > 0).then(|| d - 1),
                _ => Some(d),
            });
            assert_eq!(depth, Some(0), "{}", m.query);
        }
    }
}
