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
use porttrack::signal::terminated;
use porttrack::sim::{ProduceOptions, SimConfig, Simulator};
use porttrack_ingest::config::EventName;

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
    /// Serve the read API and the live map from Postgres until SIGTERM/SIGINT.
    Serve {
        /// Configuration file (`[serve]`, `[postgres]`, `[processors]`).
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
        /// Topic for static/voyage data (default: the configuration's JSON static topic).
        #[arg(long)]
        static_topic: Option<String>,
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
    /// Decode NMEA or JSON lines (a file, or stdin) and print events as JSON lines.
    Decode {
        /// Input file; stdin when absent or `-`.
        file: Option<PathBuf>,
        /// What the lines are.
        #[arg(long, value_enum, default_value = "auto")]
        format: porttrack::tools::decode::InputFormat,
        /// Event kind of untagged JSON lines.
        #[arg(long, value_enum, default_value = "position")]
        event: EventArg,
        /// For NMEA: print one object per AIS message as `gpsdecode -j` does.
        #[arg(long)]
        gpsd_json: bool,
        /// Configuration file (for `[validation]`).
        #[arg(long, short, env = "PORTTRACK_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Produce a recorded file (NMEA log, MarineCadastre CSV, JSON lines) into Kafka.
    Replay {
        /// The recording.
        file: PathBuf,
        /// What the file holds (default: by extension).
        #[arg(long, value_enum, default_value = "auto")]
        input: porttrack::tools::replay::Recording,
        /// Pace: 1 = original pace by event time, 60 = sixty times faster, 0 = as fast as possible.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Event kind of untagged JSON lines.
        #[arg(long, value_enum, default_value = "position")]
        event: EventArg,
        /// Leave out unreadable lines instead of producing them for the dead-letter path.
        #[arg(long)]
        skip_invalid: bool,
        /// Configuration file (for `[kafka]` and its topics).
        #[arg(long, short, env = "PORTTRACK_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Dead-letter topic tools.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Exit 0 if a running instance's /healthz answers 200 (for container health checks).
    Healthcheck {
        /// The health endpoint.
        #[arg(long, default_value = "http://127.0.0.1:9464/healthz")]
        url: String,
        /// Give up after this long.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "3s")]
        timeout: Duration,
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

/// `porttrack dlq …`.
#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// Send dead letters back to their source topic (after a fix); `--dry-run` lists what would go.
    Replay {
        /// Configuration file (`[kafka]`: brokers, properties, topics, dead_letter_topic).
        #[arg(long, short, env = "PORTTRACK_CONFIG")]
        config: Option<PathBuf>,
        /// List each letter a filter admits and what would happen to it; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only letters of this error class (repeatable).
        #[arg(long = "class", value_name = "CLASS")]
        classes: Vec<String>,
        /// Only letters read from this topic (repeatable).
        #[arg(long = "source-topic", value_name = "TOPIC")]
        source_topics: Vec<String>,
        /// Replay at most this many letters (in partition, then offset order).
        #[arg(long)]
        limit: Option<u64>,
        /// Send to this configured topic instead of each letter's source topic.
        #[arg(long, value_name = "TOPIC")]
        to_topic: Option<String>,
    },
}

/// Event kinds, as command-line values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EventArg {
    Position,
    Static,
    Weather,
    Cargo,
    PortOps,
}

impl From<EventArg> for EventName {
    fn from(e: EventArg) -> Self {
        match e {
            EventArg::Position => EventName::Position,
            EventArg::Static => EventName::Static,
            EventArg::Weather => EventName::Weather,
            EventArg::Cargo => EventName::Cargo,
            EventArg::PortOps => EventName::PortOps,
        }
    }
}

fn load(config: Option<&std::path::Path>) -> anyhow::Result<Config> {
    Config::load(config).map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config } => run(load(config.as_deref())?).await,
        Command::Serve { config } => porttrack::serve::run(load(config.as_deref())?, terminated()).await,
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
            let defaults = ProduceOptions::for_config(&config.kafka)?;
            let options = ProduceOptions {
                static_topic: static_topic.or(defaults.static_topic.clone()),
                rate: (rate > 0.0).then_some(rate),
                count,
                duration,
                ..defaults
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
        Command::Decode { file, format, event, gpsd_json, config } => {
            let config = load(config.as_deref())?;
            let options = porttrack::tools::decode::DecodeOptions {
                format,
                event: event.into(),
                gpsd_json,
                rules: config.source().rules,
            };
            let stdout = std::io::stdout().lock();
            let stderr = std::io::stderr().lock();
            let summary = match file.filter(|f| f.as_os_str() != "-") {
                Some(path) => {
                    let file =
                        std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
                    porttrack::tools::decode::run(std::io::BufReader::new(file), stdout, stderr, &options)?
                }
                None => porttrack::tools::decode::run(std::io::stdin().lock(), stdout, stderr, &options)?,
            };
            eprintln!(
                "decode: {} lines, {} printed, {} refused",
                summary.lines, summary.printed, summary.refused
            );
            Ok(())
        }
        Command::Replay { file, input, speed, event, skip_invalid, config } => {
            let config = load(config.as_deref())?;
            porttrack::telemetry::init_logging(&config.log);
            let options = porttrack::tools::replay::ReplayOptions {
                recording: input,
                speed: speed.max(0.0),
                event: event.into(),
                skip_invalid,
            };
            let (records, invalid) = porttrack::tools::replay::read(&file, &options)?;
            eprintln!(
                "replay: {} records from {} ({invalid} unreadable lines)",
                records.len(),
                file.display()
            );
            let report = porttrack::tools::replay::produce(&config.kafka, records, &options).await?;
            let mut topics: Vec<_> = report.acked.iter().collect();
            topics.sort();
            for (topic, n) in topics {
                println!("{topic}: {n} acknowledged");
            }
            anyhow::ensure!(report.failed == 0, "{} records were not delivered", report.failed);
            Ok(())
        }
        Command::Dlq {
            command: DlqCommand::Replay { config, dry_run, classes, source_topics, limit, to_topic },
        } => {
            let config = load(config.as_deref())?;
            let options = porttrack::tools::dlq::ReplayOptions {
                dry_run,
                filter: porttrack::tools::dlq::Filter { classes, source_topics },
                limit,
                to_topic,
            };
            let summary =
                porttrack::tools::dlq::replay(&config.kafka, &options, std::io::stdout(), std::io::stderr())
                    .await?;
            print!("{summary}");
            anyhow::ensure!(summary.failed() == 0, "{} dead letters could not be sent", summary.failed());
            Ok(())
        }
        Command::Healthcheck { url, timeout } => {
            let client = reqwest::Client::builder().timeout(timeout).build()?;
            let response = client.get(&url).send().await.with_context(|| format!("GET {url}"))?;
            anyhow::ensure!(response.status().is_success(), "{url} answered {}", response.status());
            Ok(())
        }
        Command::CheckConfig { config } => {
            let config = load(config.as_deref())?;
            print!("{}", render_config(&config.redacted())?);
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
    // Held until the end: dropping it flushes spans still queued for export.
    let _telemetry = porttrack::telemetry::init(&config.log, &config.telemetry)?;
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
