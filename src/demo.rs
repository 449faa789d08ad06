//! `porttrack demo`: the whole system on one machine, in one command.
//!
//! With the local stack up (`deploy/local/up` writes `.porttrack/stack/stack.env`)
//! or with brokers and service URLs configured, the demo produces simulated
//! traffic into the real Kafka and the pipeline writes to the real Postgres
//! and Elasticsearch. On a machine with nothing running, it starts an
//! embedded Kafka-protocol broker (librdkafka's mock cluster) and the file
//! sink stands in for Postgres and Elasticsearch. Either way it serves
//! `/metrics`, prints a one-line summary every second, and serves the live
//! map and the read API (`serve.listen`, printed at start): from Postgres on
//! the real stack, as `porttrack serve` does, and otherwise from a
//! `MemoryStore` that a `MemorySink` beside the file sink fills with exactly
//! what a Postgres sink would receive (same routes, same types).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use rdkafka::mocking::MockCluster;

use crate::config::Config;
use crate::pipeline::{Pipeline, PipelineStatus};
use crate::sim::{ProduceOptions, SimConfig, Simulator};

/// Demo settings (the `demo` subcommand's flags).
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Configuration file, if any.
    pub config: Option<PathBuf>,
    /// Ships simulated.
    pub vessels: usize,
    /// Records per second while the simulation catches up with the clock.
    pub rate: f64,
    /// How far in the past the simulation starts.
    pub backfill: Duration,
    /// Stop after this long (default: until Ctrl-C).
    pub duration: Option<Duration>,
    /// Use the embedded broker and file sinks even if services are up.
    pub embedded: bool,
    /// Partitions of the embedded broker's topics.
    pub partitions: i32,
}

/// The default location of the local stack's environment file.
pub const STACK_ENV: &str = ".porttrack/stack/stack.env";

/// Reads the `KEY=VALUE` lines of the local stack's env file, if it exists.
pub fn read_stack_env(path: &Path) -> Option<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect(),
    )
}

fn reachable(brokers: &str) -> bool {
    use std::net::ToSocketAddrs;
    brokers.split(',').any(|b| {
        b.trim().to_socket_addrs().ok().and_then(|mut addrs| addrs.next()).is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
        })
    })
}

/// Runs the demo until Ctrl-C (or `options.duration`).
pub async fn run(
    options: DemoOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let stack_env =
        std::env::var("PORTTRACK_STACK_ENV").map_or_else(|_| PathBuf::from(STACK_ENV), PathBuf::from);
    let overrides = if options.embedded { None } else { read_stack_env(&stack_env) };
    let stack = overrides.is_some();
    let overrides = overrides.unwrap_or_default();
    let mut config = Config::load_with(options.config.as_deref(), &overrides)
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let _telemetry = crate::telemetry::init(&config.log, &config.telemetry)?;

    let explicit_brokers = std::env::var_os("PORTTRACK_KAFKA__BROKERS").is_some()
        || overrides.iter().any(|(k, _)| k == "PORTTRACK_KAFKA__BROKERS")
        || options.config.is_some();
    let use_real = !options.embedded && explicit_brokers && reachable(&config.kafka.brokers);
    let mut _cluster = None;
    if use_real {
        eprintln!(
            "demo: using Kafka at {}{}",
            config.kafka.brokers,
            if stack { " (local stack)" } else { "" }
        );
    } else {
        if explicit_brokers && !options.embedded {
            eprintln!("demo: Kafka at {} is not reachable; using the embedded broker", config.kafka.brokers);
        }
        let cluster = MockCluster::new(1).context("starting the embedded broker")?;
        for topic in config.kafka.topic_names().into_iter().chain([config.kafka.dead_letter_topic.as_str()]) {
            cluster
                .create_topic(topic, options.partitions, 1)
                .with_context(|| format!("creating {topic}"))?;
        }
        config.kafka.brokers = cluster.bootstrap_servers();
        config.postgres = None;
        config.elasticsearch = None;
        eprintln!(
            "demo: embedded Kafka-protocol broker at {} (librdkafka mock cluster)",
            config.kafka.brokers
        );
        _cluster = Some(cluster);
    }

    let mut sinks = crate::outputs::build(&config).await?;
    // The API's store: Postgres when the pipeline writes there, else the
    // demo's own memory, fed as one more sink.
    let store: Arc<dyn porttrack_api::Store> = match &config.postgres {
        Some(pg) => Arc::new(
            porttrack_api::PostgresStore::new(pg, config.serve.statement_timeout)
                .context("configuring the API's Postgres pool")?,
        ),
        None => {
            let memory = porttrack_api::MemoryStore::new();
            sinks.push(Arc::new(memory.sink()));
            Arc::new(memory)
        }
    };
    let names: Vec<&str> = sinks.iter().map(|s| s.name()).collect();
    eprintln!("demo: sinks: {}", names.join(", "));
    if names.contains(&"file") {
        eprintln!("demo: file sink writes to {}/", config.files.dir.display());
    }
    let pipeline = Pipeline::start(&config, sinks).await?;
    let status = pipeline.status();

    let (http_stop_tx, http_stop_rx) = tokio::sync::oneshot::channel::<()>();
    match tokio::net::TcpListener::bind(config.http.listen).await {
        Ok(listener) => {
            eprintln!("demo: metrics at http://{}/metrics", listener.local_addr()?);
            let status = Arc::clone(&status);
            let stall = config.http.stall_after;
            tokio::spawn(async move {
                let stop = async move {
                    let _ = http_stop_rx.await;
                };
                if let Err(e) = crate::http::serve(listener, status, stall, stop).await {
                    tracing::warn!(error = %e, "http server stopped");
                }
            });
        }
        Err(e) => eprintln!("demo: cannot serve metrics on {}: {e}", config.http.listen),
    }

    let (api_stop_tx, api_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let api = crate::serve::api(&config, store)?;
    match tokio::net::TcpListener::bind(config.serve.listen).await {
        Ok(listener) => {
            let addr = listener.local_addr()?;
            eprintln!();
            eprintln!("  ┌──────────────────────────────────────────────────────────┐");
            eprintln!("  │  PortTrack live map:  {:<35}│", format!("http://{addr}/"));
            eprintln!("  └──────────────────────────────────────────────────────────┘");
            eprintln!("demo: API at http://{addr}/api/v1/ (OpenAPI: /api/v1/openapi.json)");
            eprintln!();
            tokio::spawn(async move {
                let stop = async move {
                    let _ = api_stop_rx.await;
                };
                if let Err(e) = crate::serve::serve_on(listener, &api, stop).await {
                    tracing::warn!(error = %e, "API server stopped");
                }
            });
        }
        Err(e) => eprintln!("demo: cannot serve the map on {}: {e}", config.serve.listen),
    }

    let stop = Arc::new(AtomicBool::new(false));
    let produced = Arc::new(AtomicU64::new(0));
    let sim_config = SimConfig {
        vessels: options.vessels,
        seed: Utc::now().timestamp() as u64,
        start: Utc::now() - chrono::Duration::from_std(options.backfill).unwrap_or_default(),
        invalid_ratio: 0.005,
    };
    let produce_options =
        ProduceOptions { rate: Some(options.rate), ..ProduceOptions::for_config(&config.kafka)? };
    let kafka = config.kafka.clone();
    let sim_thread = {
        let stop = Arc::clone(&stop);
        let produced = Arc::clone(&produced);
        std::thread::spawn(move || {
            let mut sim = Simulator::new(sim_config);
            crate::sim::produce(&kafka, &mut sim, &produce_options, &stop, Some(&produced))
        })
    };
    eprintln!("demo: simulating {} vessels around Rotterdam; Ctrl-C to stop", options.vessels);

    let deadline = options.duration.map(|d| Instant::now() + d);
    let summary = summarise(&status, &produced, deadline);
    tokio::select! {
        () = summary => {}
        () = shutdown => {}
    }
    stop.store(true, Ordering::Relaxed);
    let vessels = status.vessels();
    let report = tokio::task::spawn_blocking(move || sim_thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("simulator thread panicked"))??;
    pipeline.stop().await?;
    let _ = http_stop_tx.send(());
    let _ = api_stop_tx.send(());
    println!();
    println!(
        "demo: produced {} records ({} acknowledged); pipeline committed {}, dead-lettered {}, tracking {} vessels",
        report.sent,
        report.acked,
        status.committed.load(Ordering::Relaxed),
        status.dead_lettered.load(Ordering::Relaxed),
        vessels
    );
    Ok(())
}

async fn summarise(status: &PipelineStatus, produced: &AtomicU64, deadline: Option<Instant>) {
    let tty = std::io::stdout().is_terminal();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut last = 0_u64;
    let mut last_at = Instant::now();
    loop {
        ticker.tick().await;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return;
        }
        let total = status.committed.load(Ordering::Relaxed);
        let rate = (total - last) as f64 / last_at.elapsed().as_secs_f64().max(1e-3);
        last = total;
        last_at = Instant::now();
        let line = format!(
            "events/s {:>8.0} | total {:>10} | vessels {:>5} | lag {:>7} | dead-lettered {:>6} | produced {:>10}",
            rate,
            total,
            status.vessels(),
            status.lag(),
            status.dead_lettered.load(Ordering::Relaxed),
            produced.load(Ordering::Relaxed),
        );
        let mut out = std::io::stdout().lock();
        let _ = if tty { write!(out, "\r{line}") } else { writeln!(out, "{line}") };
        let _ = out.flush();
    }
}
