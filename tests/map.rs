//! The live map as a person uses it: the web helper's Playwright script
//! (`web/tests/map.mjs`: Debian's Chromium, headless, via playwright-core)
//! against `porttrack serve` on the local stack while the simulator
//! produces into Kafka and a `porttrack run` pipeline writes to Postgres.
//! Screenshots go to `target/screenshots` (CI keeps them as artifacts).
//!
//! Fails, never skips, when the stack, `web/node_modules` (run `npm ci` in
//! `web/`) or Chromium (`apt-get install chromium`, or `CHROMIUM=path`) is
//! missing.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Child processes, killed on drop (in reverse order of start).
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        while let Some(mut child) = self.0.pop() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_shows_the_live_port_from_serve_on_the_real_stack() {
    let root = support::repo_root();
    assert!(
        root.join("web/node_modules/playwright-core").is_dir(),
        "web/node_modules is missing: run `npm ci` in web/ first"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium not found at {chromium}: install Debian's chromium (apt-get install chromium) or set CHROMIUM"
    );
    let stack = support::stack();
    let id = support::unique("map");
    let topic = |kind: &str| format!("{id}.{kind}");
    let partitions = stack.partitions;
    support::create_topics(
        &stack.brokers,
        &[
            (topic("positions").as_str(), partitions),
            (topic("static").as_str(), partitions),
            (topic("weather").as_str(), partitions),
            (topic("ops").as_str(), partitions),
            (topic("dlq").as_str(), partitions),
        ],
    )
    .await;
    let db_url = support::create_database(&stack.postgres_url, &id.replace('-', "_")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = support::write_config(
        dir.path(),
        &format!(
            r#"
[kafka]
brokers = "{brokers}"
group_id = "{id}"
dead_letter_topic = "{dlq}"

[[kafka.topics]]
name = "{positions}"
format = "json"
event = "position"

[[kafka.topics]]
name = "{statics}"
format = "json"
event = "static"

[[kafka.topics]]
name = "{weather}"
format = "json"
event = "weather"

[[kafka.topics]]
name = "{ops}"
format = "json"
event = "port_ops"

[processors]
snapshot_interval = "2s"

[postgres]
url = "{db_url}"

[files]
dir = "{files}"

[http]
listen = "127.0.0.1:0"

[serve]
listen = "127.0.0.1:0"
"#,
            brokers = stack.brokers,
            dlq = topic("dlq"),
            positions = topic("positions"),
            statics = topic("static"),
            weather = topic("weather"),
            ops = topic("ops"),
            files = dir.path().join("files").display(),
        ),
    );
    let bin = env!("CARGO_BIN_EXE_porttrack");
    let log = |name: &str| std::fs::File::create(dir.path().join(name)).expect("log file");
    let mut processes = Processes(Vec::new());
    processes.0.push(
        Command::new(bin)
            .args(["run", "--config"])
            .arg(&config)
            .env("PORTTRACK_LOG__FILTER", "warn")
            .stdout(Stdio::null())
            .stderr(log("run.log"))
            .spawn()
            .expect("spawning porttrack run"),
    );
    processes.0.push(
        Command::new(bin)
            .args(["sim", "--config"])
            .arg(&config)
            .args(["--vessels", "300", "--rate", "300", "--backfill", "2h", "--duration", "15m"])
            .stdout(Stdio::null())
            .stderr(log("sim.log"))
            .spawn()
            .expect("spawning porttrack sim"),
    );
    let mut serve = Command::new(bin)
        .args(["serve", "--config"])
        .arg(&config)
        .env("PORTTRACK_LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .stderr(log("serve.log"))
        .spawn()
        .expect("spawning porttrack serve");
    let mut line = String::new();
    BufReader::new(serve.stdout.take().expect("stdout")).read_line(&mut line).expect("serve's address");
    processes.0.push(serve);
    let url = line.trim().strip_prefix("serve: listening on ").expect("address line").to_owned();

    // Wait until the pipeline has written vessels the page can show.
    let http = reqwest::Client::new();
    let vessels = format!("{url}api/v1/vessels");
    support::wait_for("vessels in Postgres", Duration::from_secs(120), || {
        let http = http.clone();
        let vessels = vessels.clone();
        let total = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                let body: serde_json::Value = http.get(&vessels).send().await.ok()?.json().await.ok()?;
                body["total"].as_u64()
            })
        });
        total.is_some_and(|n| n >= 50)
    });

    let screenshots = root.join("target/screenshots");
    let status = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("web/tests/map.mjs")
            .current_dir(&root)
            .env("PORTTRACK_MAP_URL", &url)
            .env("PORTTRACK_SCREENSHOT_DIR", &screenshots)
            .env("CHROMIUM", &chromium)
            .status()
            .expect("running node web/tests/map.mjs (is node installed?)")
    })
    .await
    .expect("node");
    assert!(
        status.success(),
        "web/tests/map.mjs failed ({status}); logs of run, sim and serve are in {}",
        dir.keep().display()
    );
}
