//! The local stack (`deploy/local/up`): where its services are, bringing it
//! up, and the Kafka, Postgres and search-engine helpers that create a run's
//! resources and read the results back.
//!
//! Shared by the drills and the end-to-end tests (`tests/support` uses
//! [`Stack::up`], [`create_topics`], [`committed_offsets`] and the search
//! helpers), so there is one reader of `stack.env` and one id pager.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{Value, json};

use crate::error::DrillError;

/// Where `deploy/local/up` writes the stack's addresses, relative to the
/// repository root.
pub const STACK_ENV: &str = porttrack::demo::STACK_ENV;

/// The repository root (the workspace's directory).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The `KEY=VALUE` lines of the stack's env file (read by the `porttrack`
/// library's reader, which `demo` uses too).
#[derive(Debug, Clone)]
pub struct StackEnv {
    path: PathBuf,
    vars: Vec<(String, String)>,
}

impl StackEnv {
    /// Reads `path`; an error when it does not exist (the stack was never started).
    pub fn read(path: &Path) -> Result<StackEnv, DrillError> {
        let vars = porttrack::demo::read_stack_env(path).ok_or_else(|| {
            DrillError::Stack(format!("{} not found: run deploy/local/up first", path.display()))
        })?;
        Ok(StackEnv { path: path.to_path_buf(), vars })
    }

    /// The value of `key`; an error when it is missing.
    pub fn get(&self, key: &str) -> Result<String, DrillError> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| DrillError::Stack(format!("{key} missing from {}", self.path.display())))
    }
}

/// Where the local stack's services are.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Kafka bootstrap servers (plaintext listener).
    pub brokers: String,
    /// Postgres URL of the stack's database.
    pub postgres_url: String,
    /// Elasticsearch-API base URL (the local stack runs OpenSearch).
    pub elasticsearch_url: String,
    /// Prometheus base URL.
    pub prometheus_url: String,
    /// Partitions per topic the stack was started with.
    pub partitions: i32,
    /// Kafka's SASL_SSL listener (SCRAM-SHA-512, TLS with the stack's CA).
    pub sasl: SaslListener,
    /// The search engine behind nginx: TLS with the stack's CA, basic auth.
    pub search_front: SearchFront,
}

/// The local Kafka's secured listener and the credentials `up` made for it.
#[derive(Debug, Clone)]
pub struct SaslListener {
    /// Its bootstrap servers.
    pub brokers: String,
    /// The SCRAM user.
    pub username: String,
    /// The file holding the user's password.
    pub password_file: PathBuf,
    /// The CA certificate the listener's certificate is signed with.
    pub ca_file: PathBuf,
}

impl SaslListener {
    /// librdkafka properties that connect to it, except the password (for
    /// configurations that read it from [`SaslListener::password_file`]).
    pub fn properties_without_password(&self) -> Vec<(String, String)> {
        vec![
            ("security.protocol".into(), "sasl_ssl".into()),
            ("sasl.mechanism".into(), "SCRAM-SHA-512".into()),
            ("sasl.username".into(), self.username.clone()),
            ("ssl.ca.location".into(), self.ca_file.display().to_string()),
        ]
    }

    /// librdkafka properties that connect to it (`password` overrides the real one).
    ///
    /// # Panics
    ///
    /// When the password file cannot be read (test support: the stack is broken).
    pub fn properties(&self, password: Option<&str>) -> Vec<(String, String)> {
        let real = std::fs::read_to_string(&self.password_file)
            .unwrap_or_else(|e| panic!("SCRAM password file {}: {e}", self.password_file.display()));
        vec![
            ("security.protocol".into(), "sasl_ssl".into()),
            ("sasl.mechanism".into(), "SCRAM-SHA-512".into()),
            ("sasl.username".into(), self.username.clone()),
            ("sasl.password".into(), password.unwrap_or(real.trim()).to_owned()),
            ("ssl.ca.location".into(), self.ca_file.display().to_string()),
        ]
    }
}

/// The local search engine as a secured cluster is reached: the stack's
/// nginx terminates TLS (the stack's CA) and checks HTTP basic auth in front
/// of it (`deploy/nginx/search.conf.template`). The search engine itself
/// (`Stack::elasticsearch_url`) has neither.
#[derive(Debug, Clone)]
pub struct SearchFront {
    /// Its `https://` base URL.
    pub url: String,
    /// The basic-auth user.
    pub username: String,
    /// The file holding the user's password.
    pub password_file: PathBuf,
    /// The CA certificate nginx's certificate is signed with.
    pub ca_file: PathBuf,
}

impl SearchFront {
    /// The environment overrides that point a `porttrack` instance's
    /// `[elasticsearch]` section at it, credentials and CA included.
    pub fn porttrack_env(&self) -> Vec<(String, String)> {
        vec![
            ("PORTTRACK_ELASTICSEARCH__URL".into(), self.url.clone()),
            ("PORTTRACK_ELASTICSEARCH__USERNAME".into(), self.username.clone()),
            ("PORTTRACK_ELASTICSEARCH__PASSWORD_FILE".into(), self.password_file.display().to_string()),
            ("PORTTRACK_ELASTICSEARCH__CA_FILE".into(), self.ca_file.display().to_string()),
        ]
    }
}

impl Stack {
    /// The addresses in a `stack.env` (every key `up` writes is required).
    pub fn from_env(env: &StackEnv) -> Result<Stack, DrillError> {
        Ok(Stack {
            brokers: env.get("PORTTRACK_KAFKA__BROKERS")?,
            postgres_url: env.get("PORTTRACK_POSTGRES__URL")?,
            elasticsearch_url: env.get("PORTTRACK_ELASTICSEARCH__URL")?,
            prometheus_url: env.get("PORTTRACK_PROMETHEUS_URL")?,
            partitions: env.get("PORTTRACK_PARTITIONS")?.parse().unwrap_or(4),
            sasl: SaslListener {
                brokers: env.get("PORTTRACK_KAFKA_SASL_SSL_BROKERS")?,
                username: env.get("PORTTRACK_KAFKA_SASL_USERNAME")?,
                password_file: PathBuf::from(env.get("PORTTRACK_KAFKA_SASL_PASSWORD_FILE")?),
                ca_file: PathBuf::from(env.get("PORTTRACK_TLS_CA_FILE")?),
            },
            search_front: SearchFront {
                url: env.get("PORTTRACK_SEARCH_TLS_URL")?,
                username: env.get("PORTTRACK_SEARCH_USERNAME")?,
                password_file: PathBuf::from(env.get("PORTTRACK_SEARCH_PASSWORD_FILE")?),
                ca_file: PathBuf::from(env.get("PORTTRACK_TLS_CA_FILE")?),
            },
        })
    }

    /// Brings the local stack up with `<root>/deploy/local/up` (idempotent;
    /// quick when it is already up) and reads the `stack.env` it wrote.
    pub fn up(root: &Path) -> Result<Stack, DrillError> {
        let status = Command::new(root.join("deploy/local/up"))
            .current_dir(root)
            .status()
            .map_err(|e| DrillError::Stack(format!("running deploy/local/up: {e}")))?;
        if !status.success() {
            return Err(DrillError::Stack(format!("deploy/local/up failed ({status})")));
        }
        Stack::from_env(&StackEnv::read(&root.join(STACK_ENV))?)
    }
}

/// Creates `topics` (name, partitions), replication factor 1.
pub async fn create_topics(brokers: &str, topics: &[(&str, i32)]) -> Result<(), DrillError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(|e| DrillError::Stack(format!("admin client: {e}")))?;
    let new: Vec<NewTopic<'_>> =
        topics.iter().map(|(name, p)| NewTopic::new(name, *p, TopicReplication::Fixed(1))).collect();
    let results = admin
        .create_topics(&new, &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))))
        .await
        .map_err(|e| DrillError::Stack(format!("creating topics: {e}")))?;
    for result in results {
        result.map_err(|(topic, e)| DrillError::Stack(format!("creating topic {topic}: {e}")))?;
    }
    Ok(())
}

/// Runs one statement with `psql` and returns its unaligned, comma-separated
/// output. (`psql` ships with the stack's Postgres; the drill reads a few
/// columns of integers, for which its output is exact.)
pub(crate) async fn psql(url: &str, sql: &str) -> Result<String, DrillError> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-F", ",", "-v", "ON_ERROR_STOP=1", "-d", &url, "-c", &sql])
            .stdin(Stdio::null())
            .output()
    })
    .await
    .map_err(|e| DrillError::Stack(format!("psql task: {e}")))?
    .map_err(|e| DrillError::Stack(format!("running psql (is the Postgres client installed?): {e}")))?;
    if !output.status.success() {
        return Err(DrillError::Stack(format!("psql: {}", String::from_utf8_lossy(&output.stderr).trim())));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Parses [`psql`]'s comma-separated rows with `row`; an error names the first unreadable one.
pub(crate) fn parse_rows<T>(text: &str, row: impl Fn(&[&str]) -> Option<T>) -> Result<Vec<T>, DrillError> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            row(&fields).ok_or_else(|| DrillError::Stack(format!("unexpected psql row {line:?}")))
        })
        .collect()
}

/// A Kafka consumer with group id `group` that never commits (for reading back).
pub fn kafka_reader(brokers: &str, group: &str) -> Result<BaseConsumer, DrillError> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|e| DrillError::Stack(format!("kafka consumer: {e}")))
}

/// The committed offsets of `consumer`'s group on `topic`, per partition (-1:
/// none yet); one attempt (the coordinator may be moving: callers retry).
pub fn committed_offsets(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: i32,
    timeout: Duration,
) -> Result<HashMap<i32, i64>, String> {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(tpl, timeout).map_err(|e| e.to_string())?;
    Ok(committed
        .elements()
        .iter()
        .map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { o } else { -1 }))
        .collect())
}

/// Makes everything indexed under `pattern` searchable; returns the answer's
/// status (an error only when the search engine could not be asked).
pub async fn es_refresh(
    http: &reqwest::Client,
    base: &str,
    pattern: &str,
) -> Result<reqwest::StatusCode, DrillError> {
    let response = http
        .post(format!("{base}/{pattern}/_refresh"))
        .send()
        .await
        .map_err(|e| DrillError::Stack(format!("elasticsearch {pattern}: {e}")))?;
    Ok(response.status())
}

/// Every document id under `pattern` (indices, comma-separated patterns
/// allowed), read with a scroll: unlike `search_after` on a sort key, it
/// cannot skip documents whose sort values tie at a page boundary (the same
/// id in two indices is a duplicate the check must see).
pub async fn es_ids(http: &reqwest::Client, base: &str, pattern: &str) -> Result<Vec<String>, DrillError> {
    let err = |e: reqwest::Error| DrillError::Stack(format!("elasticsearch {pattern}: {e}"));
    let mut out = Vec::new();
    // The first page opens the scroll; each next page continues it.
    let mut page = (
        format!("{base}/{pattern}/_search?scroll=2m"),
        json!({ "size": 10_000, "_source": false, "sort": ["_doc"] }),
    );
    loop {
        let response: Value = http
            .post(&page.0)
            .timeout(Duration::from_secs(60))
            .json(&page.1)
            .send()
            .await
            .map_err(err)?
            .json()
            .await
            .map_err(err)?;
        if let Some(e) = response.get("error") {
            return Err(DrillError::Stack(format!("elasticsearch {pattern}: {e}")));
        }
        let hits = response["hits"]["hits"].as_array().cloned().unwrap_or_default();
        let scroll_id = response["_scroll_id"].as_str().map(str::to_owned);
        if hits.is_empty() {
            if let Some(id) = scroll_id {
                // Frees the search context early; it would expire anyway.
                let _ = http
                    .delete(format!("{base}/_search/scroll"))
                    .json(&json!({ "scroll_id": id }))
                    .send()
                    .await;
            }
            return Ok(out);
        }
        out.extend(hits.iter().filter_map(|h| h["_id"].as_str().map(str::to_owned)));
        let Some(id) = scroll_id else {
            return Err(DrillError::Stack(format!("elasticsearch {pattern}: no scroll id")));
        };
        page = (format!("{base}/_search/scroll"), json!({ "scroll": "2m", "scroll_id": id }));
    }
}
