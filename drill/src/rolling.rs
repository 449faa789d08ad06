//! The rolling-restart drill: N instances under load, restarted one by
//! one (SIGTERM, wait for the exit, start again, wait until it is ready and
//! committing) while the load continues; then the check, the longest pause
//! in the group's commits and the largest lag seen.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::analysis::prom_query;
use crate::error::DrillError;
use crate::instance::{Instance, free_ports, wait_group_consuming};
use crate::load::{CommitWatch, OffsetReader, longest_pause, max_commit_lag, wait_all_committed};
use crate::options::{DrillEnv, RollingOptions};
use crate::report::{Restart, RollingReport};
use crate::run::Run;

/// The rolling-restart drill: see the crate documentation.
pub async fn rolling_restart(env: &DrillEnv, options: &RollingOptions) -> Result<RollingReport, DrillError> {
    let run = Run::create(env, "rolling", options.load.partitions, false).await?;
    let result = rolling_in(&run, options).await;
    run.cleanup(options.keep || result.is_err()).await;
    result
}

async fn rolling_in(run: &Run, options: &RollingOptions) -> Result<RollingReport, DrillError> {
    let ports = free_ports(options.instances)?;
    run.write_targets(&ports)?;
    let mut instances = run.spawn_stable("instance", &ports)?;
    let load_started = Utc::now();
    let load = run.load(&options.load);
    let watch = CommitWatch::start(&run.http, &ports, Arc::clone(&load.sent));
    let offsets = OffsetReader::new(run)?;
    let partitions = f64::from(run.partitions);
    let took = wait_group_consuming(&mut instances, partitions).await?;
    tracing::info!(run = %run.name, took = ?took, "instances consuming");
    let consuming = Instant::now();
    tokio::time::sleep(options.settle).await;

    let restarts_began = Instant::now();
    let mut restarts = Vec::new();
    for i in 0..instances.len() {
        let stop = instances[i].terminate().await?;
        let (label, port) = (instances[i].label.clone(), instances[i].port);
        let exited = Instant::now();
        instances[i] = run.spawn(&label, port, "stable", 0.0)?;
        // Ready (partitions assigned, sinks fine) and committing again: its
        // own counter restarts at zero, so any commit is a new one.
        let limit = Duration::from_secs(180);
        loop {
            for other in instances.iter_mut() {
                other.alive()?;
            }
            let me = &instances[i];
            if me.ready().await && me.scrape().await.committed > 0.0 {
                break;
            }
            if exited.elapsed() > limit {
                return Err(DrillError::Timeout {
                    what: format!("{label} to be ready and committing"),
                    after: limit,
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let restart = Restart { label, stop, ready: exited.elapsed() };
        tracing::info!(?restart, "restarted");
        restarts.push(restart);
        tokio::time::sleep(if i + 1 < instances.len() { options.between } else { options.settle }).await;
    }

    let load_stopped = Instant::now();
    let report = load.finish().await?;
    let load_ended = Utc::now();
    tracing::info!(acked = report.acks.len(), "load stopped; waiting for the group to commit everything");
    let mut alive: Vec<&mut Instance> = instances.iter_mut().collect();
    wait_all_committed(&offsets, &report.acks, &mut alive).await?;
    let samples = watch.finish().await;
    for i in &mut instances {
        i.terminate().await?;
    }
    tracing::info!("instances stopped; checking the stores");

    let longest = longest_pause(&samples, restarts_began, load_stopped);
    let baseline = longest_pause(&samples, consuming, restarts_began);
    let max_commit_lag = max_commit_lag(&samples, load_stopped);
    let max_consumer_lag = max_prometheus_lag(run, load_started, load_ended).await;
    let check = run.verify(&report).await?;
    Ok(RollingReport {
        run: run.name.clone(),
        dir: run.dir.clone(),
        restarts,
        longest_pause: longest,
        baseline_pause: baseline,
        max_commit_lag,
        max_consumer_lag,
        produce_failed: report.failed,
        check,
    })
}

/// The largest total consumer lag Prometheus saw during the load (per
/// partition the largest gauge across instances, summed over partitions).
async fn max_prometheus_lag(run: &Run, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
    let seconds = (to - from).num_seconds().max(10);
    let expr = format!(
        "max_over_time((sum(max by (partition) (porttrack_consumer_lag_records{{{}}})))[{seconds}s:5s])",
        run.selector()
    );
    // Let Prometheus scrape the last seconds of the load first.
    tokio::time::sleep(Duration::from_secs(6)).await;
    prom_query(&run.http, &run.env.prometheus_url, &expr).await.ok().flatten()
}
