//! One drill run: everything it creates, named after it (topics, group,
//! database, search indices, the instances' configuration, the Prometheus
//! file-SD targets), the `porttrack` processes it starts, and the cleanup.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use porttrack::sim::Stream;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::analysis::QUERY_TIMEOUT;
use crate::error::{DrillError, io};
use crate::instance::{Instance, tail};
use crate::load::Load;
use crate::options::{DrillEnv, LoadOptions};
use crate::stack::{create_topics, psql};

/// Everything one drill run creates, named after it.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) env: DrillEnv,
    pub(crate) name: String,
    /// Every topic the run's instances consume, by the simulator's stream
    /// that feeds it: the positions topic alone, or one topic per kind
    /// ([`Topics::every_kind`]).
    pub(crate) topics: Topics,
    pub(crate) dlq: String,
    pub(crate) group: String,
    pub(crate) database: String,
    pub(crate) db_url: String,
    pub(crate) es_prefix: String,
    pub(crate) partitions: i32,
    pub(crate) dir: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) targets: PathBuf,
    pub(crate) http: reqwest::Client,
    /// Extra environment for the instances (the chaos drill points their
    /// `postgres.url` at its proxy this way; migrations run direct).
    pub(crate) instance_env: Vec<(String, String)>,
}

impl Run {
    /// A run over a new positions topic of `partitions` partitions (and, if
    /// `every_kind`, a new topic for every other kind of record).
    pub(crate) async fn create(
        env: &DrillEnv,
        kind: &str,
        partitions: i32,
        every_kind: bool,
    ) -> Result<Run, DrillError> {
        Run::create_with(env, kind, partitions, Err(every_kind)).await
    }

    /// A run that consumes existing `topics` (of `partitions` partitions)
    /// with its own dead-letter topic, group, database and indices: the
    /// chaos drill's clean run over the chaos run's records.
    pub(crate) async fn over_topics(
        env: &DrillEnv,
        kind: &str,
        topics: &Topics,
        partitions: i32,
    ) -> Result<Run, DrillError> {
        Run::create_with(env, kind, partitions, Ok(topics)).await
    }

    /// `existing`: the topics to consume, or whether to create one for every kind.
    async fn create_with(
        env: &DrillEnv,
        kind: &str,
        partitions: i32,
        existing: Result<&Topics, bool>,
    ) -> Result<Run, DrillError> {
        let millis = Utc::now().timestamp_millis();
        let name = format!("drill-{kind}-{millis}-{}", std::process::id());
        let topics = match existing {
            Ok(topics) => topics.clone(),
            Err(true) => Topics::every_kind(&name),
            Err(false) => Topics::positions_only(&name),
        };
        let dlq = format!("{name}-dlq");
        let group = format!("{name}-group");
        let database = name.replace('-', "_");
        let es_prefix = name.clone();
        let dir = env.runs_dir.join(&name);
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let http = reqwest::Client::builder()
            .timeout(QUERY_TIMEOUT)
            .build()
            .map_err(|e| DrillError::Stack(format!("http client: {e}")))?;

        let targets_dir = match &env.targets_dir {
            Some(dir) => dir.clone(),
            None => prometheus_targets_dir(&http, &env.prometheus_url).await?,
        };
        let mut new_topics = vec![(dlq.as_str(), 1)];
        if existing.is_err() {
            new_topics.extend(topics.0.iter().map(|(_, t)| (t.as_str(), partitions)));
        }
        create_topics(&env.brokers, &new_topics).await?;
        psql(&env.postgres_url, &format!("CREATE DATABASE \"{database}\"")).await?;
        let (base, _) = env
            .postgres_url
            .rsplit_once('/')
            .ok_or_else(|| DrillError::Stack(format!("{} has no database path", env.postgres_url)))?;
        let db_url = format!("{base}/{database}");

        let kafka = env.client_kafka();
        let config = dir.join("porttrack.toml");
        std::fs::write(
            &config,
            format!(
                r#"# Written by `porttrack-drill` for run {name}.
[kafka]
brokers = "{brokers}"{sasl_password_file}
group_id = "{group}"
dead_letter_topic = "{dlq}"
# The drills stop instances with SIGTERM, which leaves the group at once, so
# the session timeout (the broker's, under the KIP-848 protocol) never delays
# a planned hand-over. The poll interval must exceed drain_timeout.
max_poll_interval = "30s"
{kafka_properties}
{topic_tables}
# A batch, and so an offset commit, at most four times a second per
# instance: commit pauses are measured at this resolution.
[pipeline]
batch_max_records = 2000
batch_linger = "250ms"
drain_timeout = "10s"

[postgres]
url = "{db_url}"

[elasticsearch]
url = "{es}"
index_prefix = "{es_prefix}"

[files]
dir = "{files}"

[http]
listen = "127.0.0.1:0"
"#,
                brokers = kafka.brokers,
                sasl_password_file = kafka
                    .sasl_password_file
                    .as_ref()
                    .map(|f| format!("\nsasl_password_file = \"{}\"", f.display()))
                    .unwrap_or_default(),
                kafka_properties = if kafka.properties.is_empty() {
                    String::new()
                } else {
                    let lines: String =
                        kafka.properties.iter().map(|(k, v)| format!("\"{k}\" = \"{v}\"\n")).collect();
                    format!("\n[kafka.properties]\n{lines}")
                },
                topic_tables = topics.config_tables(),
                es = env.elasticsearch_url,
                files = dir.join("files").display(),
            ),
        )
        .map_err(io(format!("writing {}", config.display())))?;
        let targets = targets_dir.join(format!("{name}.json"));
        let run = Run {
            env: env.clone(),
            name,
            topics,
            dlq,
            group,
            database,
            db_url,
            es_prefix,
            partitions,
            dir,
            config,
            targets,
            http,
            instance_env: Vec::new(),
        };
        run.migrate().await?;
        Ok(run)
    }

    async fn migrate(&self) -> Result<(), DrillError> {
        let log = self.dir.join("migrate.log");
        let mut child =
            self.command("migrate", &log)?.args(["migrate", "--config"]).arg(&self.config).spawn().map_err(
                |e| DrillError::Instance {
                    label: "migrate".into(),
                    detail: format!("spawning: {e}"),
                    log: log.clone(),
                },
            )?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(DrillError::Instance {
                        label: "migrate".into(),
                        detail: format!("exited with {status}: {}", tail(&log)),
                        log,
                    });
                }
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                Ok(None) => {
                    let _ = child.kill();
                    return Err(DrillError::Timeout {
                        what: "porttrack migrate".into(),
                        after: Duration::from_secs(60),
                    });
                }
                Err(e) => return Err(io("waiting for porttrack migrate")(e)),
            }
        }
    }

    /// A `porttrack` command with the caller's `PORTTRACK_*` variables
    /// removed: a shell that sourced `stack.env` would otherwise point the
    /// instances at the shared database instead of the drill's.
    ///
    /// The log is appended to, with a line marking each start: an instance
    /// the chaos drill restarts keeps the log of its earlier lives.
    fn command(&self, label: &str, log: &Path) -> Result<Command, DrillError> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(io(format!("opening {}", log.display())))?;
        writeln!(file, "### porttrack-drill: {label} started at {}", Utc::now().to_rfc3339())
            .map_err(io(format!("writing {}", log.display())))?;
        let mut command = Command::new(&self.env.binary);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PORTTRACK_") {
                command.env_remove(key);
            }
        }
        command
            .env("PORTTRACK_LOG__FILTER", "info")
            .env("PORTTRACK_DRILL_LABEL", label)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        Ok(command)
    }

    /// Starts an instance labelled `label` on `port` with release label `release`.
    /// Stable instances `{prefix}-1`, `{prefix}-2`, … on `ports`, one each.
    pub(crate) fn spawn_stable(&self, prefix: &str, ports: &[u16]) -> Result<Vec<Instance>, DrillError> {
        ports
            .iter()
            .enumerate()
            .map(|(i, port)| self.spawn(&format!("{prefix}-{}", i + 1), *port, "stable", 0.0))
            .collect()
    }

    pub(crate) fn spawn(
        &self,
        label: &str,
        port: u16,
        release: &str,
        fault_ratio: f64,
    ) -> Result<Instance, DrillError> {
        let log = self.dir.join(format!("{label}.log"));
        let child = self
            .command(label, &log)?
            .args(["run", "--config"])
            .arg(&self.config)
            .env("PORTTRACK_HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .env("PORTTRACK_RELEASE", release)
            .env("PORTTRACK_PIPELINE__FAULT_INJECTION_RATIO", fault_ratio.to_string())
            .envs(self.instance_env.iter().map(|(k, v)| (k, v)))
            .spawn()
            .map_err(|e| DrillError::Instance {
                label: label.into(),
                detail: format!("spawning: {e}"),
                log: log.clone(),
            })?;
        Ok(Instance { label: label.to_owned(), port, log, child: Some(child), http: self.http.clone() })
    }

    /// Tells Prometheus to scrape `ports` with this run's `drill_run` label.
    pub(crate) fn write_targets(&self, ports: &[u16]) -> Result<(), DrillError> {
        let targets: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let body = json!([{ "targets": targets, "labels": { "drill_run": self.name } }]);
        if let Some(dir) = self.targets.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        }
        // Written whole then renamed: Prometheus must never read half a file.
        let tmp = self.targets.with_extension("json.tmp");
        std::fs::write(&tmp, body.to_string()).map_err(io(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, &self.targets).map_err(io(format!("renaming to {}", self.targets.display())))
    }

    pub(crate) fn load(&self, options: &LoadOptions) -> Load {
        Load::start(self.env.client_kafka(), &self.topics, options)
    }

    /// This run's label matcher in PromQL.
    pub(crate) fn selector(&self) -> String {
        format!("drill_run=\"{}\"", self.name)
    }

    /// Removes the run's Prometheus targets and, unless `keep`, its database
    /// and its search indices.
    pub(crate) async fn cleanup(&self, keep: bool) {
        let _ = std::fs::remove_file(&self.targets);
        if keep {
            return;
        }
        let url = format!("{}/{}-*", self.env.elasticsearch_url, self.es_prefix);
        if let Err(e) = self.http.delete(&url).send().await {
            tracing::warn!(error = %e, "deleting the drill's indices");
        }
        if let Err(e) = psql(
            &self.env.postgres_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.database),
        )
        .await
        {
            tracing::warn!(error = %e, "dropping the drill's database");
        }
    }
}

/// A run's topics, by the simulator stream that feeds each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Topics(pub(crate) Vec<(Stream, String)>);

impl Topics {
    /// Every vessel's positions as JSON on `{run}-positions`.
    pub(crate) fn positions_only(run: &str) -> Topics {
        Topics(vec![(Stream::Positions, format!("{run}-positions"))])
    }

    /// Every kind of record the simulator sends, a topic each: JSON
    /// positions and static data, raw NMEA (one vessel in [`NMEA_ONE_IN`]
    /// reports only there, static data as two-fragment type 5 messages),
    /// JSON weather, Avro cargo and JSON port operations.
    pub(crate) fn every_kind(run: &str) -> Topics {
        let kinds = [
            (Stream::Positions, "positions"),
            (Stream::Static, "static"),
            (Stream::Nmea, "nmea"),
            (Stream::Weather, "weather"),
            (Stream::Cargo, "cargo"),
            (Stream::Ops, "ops"),
        ];
        Topics(kinds.iter().map(|(stream, kind)| (*stream, format!("{run}-{kind}"))).collect())
    }

    /// The topic `stream` goes to, if the run has one.
    pub(crate) fn name(&self, stream: Stream) -> Option<&str> {
        self.0.iter().find(|(s, _)| *s == stream).map(|(_, t)| t.as_str())
    }

    /// The `[[kafka.topics]]` tables of the instances' configuration.
    fn config_tables(&self) -> String {
        self.0
            .iter()
            .map(|(stream, name)| {
                let format = match stream {
                    Stream::Positions => "format = \"json\"\nevent = \"position\"",
                    Stream::Static => "format = \"json\"\nevent = \"static\"",
                    Stream::Weather => "format = \"json\"\nevent = \"weather\"",
                    Stream::Ops => "format = \"json\"\nevent = \"port_ops\"",
                    Stream::Cargo => "format = \"avro\"",
                    Stream::Nmea => "format = \"nmea\"",
                };
                format!("[[kafka.topics]]\nname = \"{name}\"\n{format}\n\n")
            })
            .collect()
    }
}

/// One vessel in this many (by MMSI) reports over raw NMEA in an
/// every-kind run.
pub(crate) const NMEA_ONE_IN: u32 = 4;

/// Where Prometheus looks for the drill's targets: the directory of the
/// `porttrack-drill` job's file-SD pattern in its running configuration. A
/// Prometheus started before the job existed is reloaded once.
async fn prometheus_targets_dir(http: &reqwest::Client, prometheus: &str) -> Result<PathBuf, DrillError> {
    let url = format!("{prometheus}/api/v1/status/config");
    let running = || async {
        let body: Value = http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| DrillError::Stack(format!("GET {url}: {e}")))?
            .json()
            .await
            .map_err(|e| DrillError::Stack(format!("GET {url}: {e}")))?;
        Ok::<_, DrillError>(body["data"]["yaml"].as_str().and_then(drill_targets_dir))
    };
    if let Some(dir) = running().await? {
        return Ok(dir);
    }
    let reload = format!("{prometheus}/-/reload");
    let status = http
        .post(&reload)
        .send()
        .await
        .map_err(|e| DrillError::Stack(format!("POST {reload}: {e}")))?
        .status();
    running().await?.ok_or_else(|| {
        DrillError::Stack(format!(
            "Prometheus at {prometheus} has no porttrack-drill job, even after a reload ({status}); \
             is it running deploy/local/prometheus.yml?"
        ))
    })
}

/// The directory of the first file pattern of job `porttrack-drill` in
/// Prometheus' rendered configuration (absolute paths: Prometheus resolves
/// them against its configuration file's directory).
fn drill_targets_dir(yaml: &str) -> Option<PathBuf> {
    let job = &yaml[yaml.find("job_name: porttrack-drill")?..];
    let files = &job[job.find("files:")?..];
    let pattern = files.lines().skip(1).find_map(|l| l.trim().strip_prefix("- "))?;
    Path::new(pattern.trim()).parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_targets_dir_comes_from_the_running_configuration() {
        let yaml = "scrape_configs:\n- job_name: porttrack\n  static_configs:\n  - targets:\n    - 127.0.0.1:9464\n\
                    - job_name: porttrack-drill\n  file_sd_configs:\n  - files:\n    - /repo/deploy/local/drill/targets/*.json\n\
                    \x20   refresh_interval: 5s\n- job_name: prometheus\n";
        assert_eq!(drill_targets_dir(yaml), Some(PathBuf::from("/repo/deploy/local/drill/targets")));
        assert_eq!(drill_targets_dir("scrape_configs:\n- job_name: porttrack\n"), None);
    }
}
