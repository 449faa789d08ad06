//! What the bench made on the stack, removed when it is done.
//!
//! A full run writes gigabytes: 1M records per input into Kafka, three
//! Postgres databases per run (the pipeline's, `psql \copy`'s, the
//! hand-written consumer's), search indices for both loaders, and the soak's
//! tens of millions of records. Bug: left behind, a few full runs and one
//! soak filled the machine's disk (44 GB under `.porttrack/stack`), and the
//! next build on it failed with "No space left on device".
//!
//! Every name the bench creates comes from `support::unique`, which embeds
//! this process's id, so this removes exactly this run's topics, databases
//! and indices, never another run's or a test's. `PORTTRACK_BENCH_KEEP=1`
//! keeps them for inspection.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::support::Stack;

/// `support::unique`'s names are `{prefix}-{pid}-{millis}-{n}`; databases
/// swap `-` for `_`.
fn ours(name: &str) -> bool {
    let pid = std::process::id();
    name.starts_with("bench") && (name.contains(&format!("-{pid}-")) || name.contains(&format!("_{pid}_")))
}

/// Removes this run's topics, databases and indices (unless `PORTTRACK_BENCH_KEEP` is set).
pub(crate) async fn remove(stack: &Stack) {
    if std::env::var_os("PORTTRACK_BENCH_KEEP").is_some_and(|v| v != "0") {
        println!("PORTTRACK_BENCH_KEEP: leaving this run's topics, databases and indices in place");
        return;
    }
    let topics = topics(&stack.brokers).await;
    let databases = databases(&stack.postgres_url).await;
    let indices = indices(&stack.elasticsearch_url).await;
    println!(
        "removed this run's {topics} topics, {databases} databases and {indices} indices \
         (PORTTRACK_BENCH_KEEP=1 keeps them)"
    );
}

async fn topics(brokers: &str) -> usize {
    let consumer: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", brokers).create().expect("consumer");
    let metadata = tokio::task::block_in_place(|| consumer.fetch_metadata(None, Duration::from_secs(10)))
        .expect("topic metadata");
    let names: Vec<String> =
        metadata.topics().iter().map(|t| t.name().to_owned()).filter(|n| ours(n)).collect();
    if names.is_empty() {
        return 0;
    }
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers).create().expect("admin client");
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let results = admin
        .delete_topics(&refs, &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))))
        .await
        .expect("delete topics");
    for result in &results {
        if let Err((topic, e)) = result {
            panic!("deleting topic {topic}: {e}");
        }
    }
    names.len()
}

async fn databases(base_url: &str) -> usize {
    let (client, conn) = tokio_postgres::connect(base_url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    let rows = client.query("SELECT datname FROM pg_database", &[]).await.expect("list databases");
    let names: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).filter(|n| ours(n)).collect();
    for name in &names {
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .unwrap_or_else(|e| panic!("dropping database {name}: {e}"));
    }
    names.len()
}

async fn indices(base: &str) -> usize {
    let http = reqwest::Client::new();
    let listed: Vec<serde_json::Value> = http
        .get(format!("{base}/_cat/indices/bench-*?format=json&h=index&expand_wildcards=all"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("list indices")
        .json()
        .await
        .expect("index list");
    let names: Vec<String> =
        listed.iter().filter_map(|i| i["index"].as_str()).filter(|n| ours(n)).map(str::to_owned).collect();
    // By name, a few at a time: the engine may refuse wildcard deletes
    // (`action.destructive_requires_name`), and a URL has a length limit.
    for chunk in names.chunks(20) {
        http.delete(format!("{base}/{}", chunk.join(",")))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|e| panic!("deleting indices {chunk:?}: {e}"));
    }
    names.len()
}
