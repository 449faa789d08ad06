//! `porttrack run` processes as the drills see them: started by a run
//! ([`crate::run::Run::spawn`]), watched through their `/metrics` and
//! `/readyz`, stopped with SIGTERM (drain, commit, leave the group) as a pod
//! is, SIGKILLed by the chaos drill, and killed if a drill ends before
//! stopping them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{DrillError, io};

/// A `porttrack run` process, killed if the drill ends before stopping it.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) label: String,
    pub(crate) port: u16,
    pub(crate) log: PathBuf,
    pub(crate) child: Option<Child>,
    pub(crate) http: reqwest::Client,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The few unlabelled samples of an instance's `/metrics` the drill reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Scrape {
    pub(crate) assigned: f64,
    pub(crate) committed: f64,
    pub(crate) fault_injected: f64,
}

impl Scrape {
    /// Reads the samples from a `/metrics` body (zero when absent).
    pub(crate) fn parse(text: &str) -> Scrape {
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Scrape {
            assigned: value("porttrack_partitions_assigned"),
            committed: value("porttrack_records_committed_total"),
            fault_injected: value("porttrack_fault_injected_total"),
        }
    }
}

impl Instance {
    fn error(&self, detail: impl Into<String>) -> DrillError {
        DrillError::Instance { label: self.label.clone(), detail: detail.into(), log: self.log.clone() }
    }

    /// Fails if the process exited.
    pub(crate) fn alive(&mut self) -> Result<(), DrillError> {
        let Some(child) = self.child.as_mut() else { return Err(self.error("not running")) };
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(self.error(format!("exited with {status}:\n{}", tail(&self.log)))),
            Err(e) => Err(self.error(format!("waiting: {e}"))),
        }
    }

    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let response = self.http.get(format!("http://127.0.0.1:{}{path}", self.port)).send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// Its `/metrics`, or zeros while it does not answer yet.
    pub(crate) async fn scrape(&self) -> Scrape {
        self.get("/metrics").await.map(|(_, body)| Scrape::parse(&body)).unwrap_or_default()
    }

    /// `/readyz` answers 200.
    pub(crate) async fn ready(&self) -> bool {
        self.get("/readyz").await.is_some_and(|(status, _)| status == 200)
    }

    /// Sends SIGKILL and reaps the process: a crash, no drain, no commit,
    /// no leaving the group (its partitions move when its session expires).
    pub(crate) fn kill(&mut self) -> Result<(), DrillError> {
        let Some(mut child) = self.child.take() else { return Err(self.error("not running")) };
        child.kill().map_err(|e| self.error(format!("SIGKILL: {e}")))?;
        child.wait().map_err(|e| self.error(format!("waiting after SIGKILL: {e}")))?;
        Ok(())
    }

    /// Sends SIGTERM and waits for a clean exit (drain, commit, leave the group).
    pub(crate) async fn terminate(&mut self) -> Result<Duration, DrillError> {
        let Some(mut child) = self.child.take() else { return Err(self.error("not running")) };
        let started = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .map_err(|e| self.error(format!("kill -TERM: {e}")))?;
        if !status.success() {
            return Err(self.error(format!("kill -TERM exited with {status}")));
        }
        // drain_timeout (10 s) plus leaving the group, with room.
        let limit = Duration::from_secs(45);
        loop {
            match child.try_wait() {
                Ok(Some(exit)) if exit.success() => return Ok(started.elapsed()),
                Ok(Some(exit)) => {
                    return Err(self.error(format!("exited with {exit} after SIGTERM:\n{}", tail(&self.log))));
                }
                Ok(None) if started.elapsed() < limit => tokio::time::sleep(Duration::from_millis(50)).await,
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.error(format!("did not stop within {limit:?} of SIGTERM")));
                }
                Err(e) => return Err(self.error(format!("waiting: {e}"))),
            }
        }
    }
}

/// Σ partitions assigned and Σ records committed over `instances`, and
/// whether every one of them owns at least one partition.
pub(crate) async fn group_state(instances: &[&Instance]) -> (f64, f64, bool) {
    let mut assigned = 0.0;
    let mut committed = 0.0;
    let mut everyone = true;
    for i in instances {
        let s = i.scrape().await;
        assigned += s.assigned;
        committed += s.committed;
        everyone &= s.assigned >= 1.0;
    }
    (assigned, committed, everyone)
}

/// Waits until `instances` together own every partition, each owns one, and
/// they have committed records.
pub(crate) async fn wait_group_consuming(
    instances: &mut [Instance],
    partitions: f64,
) -> Result<Duration, DrillError> {
    let started = Instant::now();
    let limit = Duration::from_secs(180);
    loop {
        for i in instances.iter_mut() {
            i.alive()?;
        }
        let refs: Vec<&Instance> = instances.iter().collect();
        let (assigned, committed, everyone) = group_state(&refs).await;
        if assigned >= partitions && everyone && committed > 0.0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            return Err(DrillError::Timeout {
                what: format!("{} instances to share {partitions} partitions and commit", instances.len()),
                after: limit,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A free loopback port for an instance's HTTP endpoints (free when asked;
/// the instance binds it a moment later).
pub(crate) fn free_port() -> Result<u16, DrillError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener.local_addr().map_err(io("finding a free port"))?.port())
}

/// `n` free loopback ports (at least one).
pub(crate) fn free_ports(n: usize) -> Result<Vec<u16>, DrillError> {
    (0..n.max(1)).map(|_| free_port()).collect()
}

/// The last 20 lines of an instance's log.
pub(crate) fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn scrape_reads_unlabelled_samples() {
        let text = "# HELP porttrack_partitions_assigned x\nporttrack_partitions_assigned 2\n\
                    porttrack_records_committed_total 1234\nporttrack_records_committed_totalx 9\n";
        let s = Scrape::parse(text);
        assert_eq!((s.assigned, s.committed, s.fault_injected), (2.0, 1234.0, 0.0));
    }
}
