//! The `porttrack` command.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use humantime_serde::re::humantime;
use porttrack::config::Config;
use porttrack::demo::{self, DemoOptions};
use porttrack::pipeline::Pipeline;
use porttrack::sim::{ProduceOptions, SimConfig, Simulator};

#[derive(Debug, Parser)]
#[command(name = "porttrack", version, about = "Streaming pipeline for port traffic")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Join the consumer group and process until SIGTERM/SIGINT.
    Run {
        /// Configuration file (TOML); `PORTTRACK_*` variables override it.
        #[arg(long, short, env = "PORTTRACK_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Produce simulated port traffic into Kafka.
    Sim {
        /// Configuration file (for `[kafka]`).
        #[arg(long, short, env = "PORTTRACK_CONFIG")]
        config: Option<PathBuf>,
        /// Ships simulated.
        #[arg(long, default_value_t = 500)]
        vessels: usize,
        /// Records per second; 0 means as fast as possible.
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
        /// Stop after this many position records.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this long (e.g. `90s`, `10m`).
        #[arg(long, value_parser = humantime::parse_duration)]
        duration: Option<Duration>,
        /// Fraction of position records made invalid on purpose.
        #[arg(long, default_value_t = 0.0)]
        invalid_ratio: f64,
        /// Random seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Start the simulated clock this far in the past (it never runs ahead of the wall clock).
        #[arg(long, value_parser = humantime::parse_duration, default_value = "6h")]
        backfill: Duration,
        /// Topic for static/voyage data.
        #[arg(long, default_value = "ais.static")]
        static_topic: String,
    },
    /// Run simulator and pipeline together, on the local stack or embedded.
    Demo {
        /// Configuration file.
        #[arg(long, short, env = "PORTTRACK_CONFIG")]
        config: Option<PathBuf>,
        /// Ships simulated.
        #[arg(long, default_value_t = 300)]
        vessels: usize,
        /// Records per second while the simulation catches up with the clock.
        #[arg(long, default_value_t = 2_000.0)]
        rate: f64,
        /// Start the simulated clock this far in the past.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "6h")]
        backfill: Duration,
        /// Stop after this long (default: until Ctrl-C).
        #[arg(long, value_parser = humantime::parse_duration)]
        duration: Option<Duration>,
        /// Use the embedded broker and the file sink even when services are up.
        #[arg(long)]
        embedded: bool,
        /// Partitions of the embedded broker's topics.
        #[arg(long, default_value_t = 4)]
        partitions: i32,
    },
    /// Validate a configuration and print the effective result.
    CheckConfig {
        /// Configuration file.
        #[arg(long, short, env = "PORTTRACK_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Apply pending Postgres migrations.
    Migrate {
        /// Configuration file.
        #[arg(long, short, env = "PORTTRACK_CONFIG")]
        config: Option<PathBuf>,
    },
}

fn load(config: Option<&std::path::Path>) -> anyhow::Result<Config> {
    Config::load(config).map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

/// Resolves on SIGINT or SIGTERM.
async fn terminated() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown requested");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config } => run(load(config.as_deref())?).await,
        Command::Sim {
            config,
            vessels,
            rate,
            count,
            duration,
            invalid_ratio,
            seed,
            backfill,
            static_topic,
        } => {
            let config = load(config.as_deref())?;
            porttrack::telemetry::init_logging(&config.log);
            let sim = SimConfig {
                vessels,
                seed,
                start: chrono::Utc::now() - chrono::Duration::from_std(backfill).unwrap_or_default(),
                invalid_ratio,
            };
            let options = ProduceOptions {
                positions_topic: config.kafka.positions_topic.clone(),
                static_topic: Some(static_topic),
                rate: (rate > 0.0).then_some(rate),
                count,
                duration,
                record_acks: false,
            };
            let stop = Arc::new(AtomicBool::new(false));
            let stopper = Arc::clone(&stop);
            tokio::spawn(async move {
                terminated().await;
                stopper.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            let report = tokio::task::spawn_blocking(move || {
                let mut sim = Simulator::new(sim);
                porttrack::sim::produce(&config.kafka, &mut sim, &options, &stop, None)
            })
            .await??;
            println!(
                "sent {} records in {:.1}s ({:.0}/s); acknowledged {}, failed {}",
                report.sent,
                report.elapsed.as_secs_f64(),
                report.sent as f64 / report.elapsed.as_secs_f64().max(1e-9),
                report.acked,
                report.failed
            );
            anyhow::ensure!(report.failed == 0, "{} records were not delivered", report.failed);
            Ok(())
        }
        Command::Demo { config, vessels, rate, backfill, duration, embedded, partitions } => {
            let options = DemoOptions { config, vessels, rate, backfill, duration, embedded, partitions };
            demo::run(options, terminated()).await
        }
        Command::CheckConfig { config } => {
            let config = load(config.as_deref())?;
            let mut shown = config.clone();
            if let Some(pg) = shown.postgres.as_mut() {
                pg.url = porttrack::outputs::redact(&pg.url);
            }
            if let Some(es) = shown.elasticsearch.as_mut() {
                es.url = porttrack::outputs::redact(&es.url);
            }
            for (key, value) in &mut shown.kafka.properties {
                if key.contains("password") || key.contains("secret") {
                    *value = "***".into();
                }
            }
            print!("{}", render_config(&shown)?);
            eprintln!("configuration is valid");
            Ok(())
        }
        Command::Migrate { config } => {
            let config = load(config.as_deref())?;
            porttrack::telemetry::init_logging(&config.log);
            let pg =
                config.postgres.context("no [postgres] section or PORTTRACK_POSTGRES__URL configured")?;
            let applied = porttrack_sinks::postgres::migrate(&pg).await?;
            println!("applied {applied} migration(s); schema is up to date");
            Ok(())
        }
    }
}

/// The effective configuration as pretty JSON (same keys as the TOML file).
fn render_config(config: &Config) -> anyhow::Result<String> {
    Ok(format!("{}\n", serde_json::to_string_pretty(config).context("serialising the configuration")?))
}

async fn run(config: Config) -> anyhow::Result<()> {
    porttrack::telemetry::init_logging(&config.log);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), brokers = %config.kafka.brokers, group = %config.kafka.group_id, "starting");
    let sinks = porttrack::outputs::build(&config).await?;
    let pipeline = Pipeline::start(&config, sinks).await?;
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding {}", config.http.listen))?;
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http = tokio::spawn(porttrack::http::serve(
        listener,
        pipeline.status(),
        config.http.stall_after,
        async move {
            let _ = http_stopped.await;
        },
    ));
    pipeline.run_until(terminated()).await?;
    let _ = stop_http.send(());
    let _ = http.await;
    tracing::info!("stopped cleanly");
    Ok(())
}
