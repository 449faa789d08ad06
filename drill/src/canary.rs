//! The canary drill: N stable instances under load; a canary with the
//! fault-injection switch joins the group; the analysis decides; the
//! canary is stopped with SIGTERM as Argo scaling its ReplicaSet down does,
//! its partitions return to stable, the load stops, stable commits
//! everything, and the stores are checked.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::analysis::{analyse, error_ratio_query, prom_query, window};
use crate::error::DrillError;
use crate::instance::{Instance, free_port, free_ports, group_state, wait_group_consuming};
use crate::load::{CommitWatch, OffsetReader, WATCH_INTERVAL, wait_all_committed};
use crate::options::{CanaryOptions, DrillEnv};
use crate::report::CanaryReport;
use crate::run::Run;

/// The canary drill: see the crate documentation.
pub async fn canary(env: &DrillEnv, options: &CanaryOptions) -> Result<CanaryReport, DrillError> {
    let run = Run::create(env, "canary", options.load.partitions, false).await?;
    let result = canary_in(&run, options).await;
    run.cleanup(options.keep || result.is_err()).await;
    result
}

async fn canary_in(run: &Run, options: &CanaryOptions) -> Result<CanaryReport, DrillError> {
    let stable_ports = free_ports(options.stable)?;
    let canary_port = free_port()?;
    run.write_targets(&[stable_ports.as_slice(), &[canary_port]].concat())?;

    let mut stable = run.spawn_stable("stable", &stable_ports)?;
    let load = run.load(&options.load);
    let watch = CommitWatch::start(&run.http, &stable_ports, Arc::clone(&load.sent));
    let offsets = OffsetReader::new(run)?;
    let partitions = f64::from(run.partitions);
    let took = wait_group_consuming(&mut stable, partitions).await?;
    tracing::info!(run = %run.name, took = ?took, "stable instances consuming; starting the canary");

    // The canary joins the group as a new pod of the next version would.
    let canary_started = Instant::now();
    let mut canary = run.spawn("canary", canary_port, "canary", options.fault_ratio)?;
    // The analysis clock starts once the canary does work (or after
    // `join_timeout`, and then canary-commits fails it): Argo's initial delay
    // exists to let the rebalance settle.
    let mut consuming = None;
    while canary_started.elapsed() < options.join_timeout {
        canary.alive()?;
        let s = canary.scrape().await;
        if s.assigned >= 1.0 && s.committed > 0.0 {
            consuming = Some(canary_started.elapsed());
            break;
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
    tracing::info!(?consuming, "canary consuming; analysis starts");
    let (decision, measurements) =
        analyse(run, &options.analysis, &mut canary, &mut stable, canary_started, Instant::now()).await?;
    let time_to_decision = canary_started.elapsed();
    tracing::info!(?decision, ?time_to_decision, "analysis decided; stopping the canary");
    let canary_error_ratio = prom_query(
        &run.http,
        &run.env.prometheus_url,
        &error_ratio_query(&run.selector(), "canary", &window(&options.analysis)),
    )
    .await
    .ok()
    .flatten();
    let stable_error_ratio = prom_query(
        &run.http,
        &run.env.prometheus_url,
        &error_ratio_query(&run.selector(), "stable", &window(&options.analysis)),
    )
    .await
    .ok()
    .flatten();

    // Abort (or, for a healthy canary, the end of the drill): SIGTERM, as
    // Argo scaling the canary ReplicaSet down does.
    let before = canary.scrape().await;
    let sigterm = Instant::now();
    let canary_stop = canary.terminate().await?;
    // Partitions back: the stable instances own all of them again; resumed:
    // and they committed records after that (the watch only sees stable now).
    let stable_refs: Vec<&Instance> = stable.iter().collect();
    let mut reassigned_after = None;
    let mut resumed_after = None;
    let mut committed_at_reassignment = 0;
    while sigterm.elapsed() < Duration::from_secs(90) && resumed_after.is_none() {
        let committed = watch.last().map_or(0, |s| s.committed);
        if reassigned_after.is_none() && group_state(&stable_refs).await.0 >= partitions {
            reassigned_after = Some(sigterm.elapsed());
            committed_at_reassignment = committed;
        } else if reassigned_after.is_some() && committed > committed_at_reassignment {
            resumed_after = Some(sigterm.elapsed());
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
    drop(stable_refs);
    tracing::info!(?canary_stop, ?reassigned_after, ?resumed_after, "canary stopped");

    // A few more seconds of load on stable alone, then stop it and let
    // stable commit everything.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let report = load.finish().await?;
    tracing::info!(acked = report.acks.len(), "load stopped; waiting for the group to commit everything");
    let mut alive: Vec<&mut Instance> = stable.iter_mut().collect();
    wait_all_committed(&offsets, &report.acks, &mut alive).await?;
    drop(watch.finish().await);
    let mut stable_survived = true;
    for s in &mut stable {
        stable_survived &= s.terminate().await.is_ok();
    }
    tracing::info!("stable stopped; checking the stores");
    let check = run.verify(&report).await?;
    Ok(CanaryReport {
        run: run.name.clone(),
        dir: run.dir.clone(),
        decision,
        measurements,
        time_to_decision,
        decision_bound: options.join_timeout + options.analysis.bound(),
        canary_consuming_after: consuming,
        canary_committed: before.committed as u64,
        canary_fault_injected: before.fault_injected as u64,
        canary_error_ratio,
        stable_error_ratio,
        canary_stop,
        reassigned_after,
        resumed_after,
        stable_survived,
        produce_failed: report.failed,
        check,
    })
}
