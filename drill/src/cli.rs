//! The `porttrack-drill` command line: the `canary`, `rolling-restart` and
//! `chaos` subcommands (the flags the `porttrack drill` subcommand had), running
//! the library's drills, printing their reports and failing unless a drill
//! came out as it must.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use humantime_serde::re::humantime;

use crate::options::{AnalysisOptions, CanaryOptions, ChaosOptions, DrillEnv, LoadOptions, RollingOptions};
use crate::{canary, chaos, rolling_restart};

/// `porttrack-drill`: release drills on the local stack.
#[derive(Debug, clap::Parser)]
#[command(
    name = "porttrack-drill",
    version,
    about = "Release drills on the local stack: a canary the analysis must abort, a rolling restart, chaos"
)]
#[non_exhaustive]
pub struct Cli {
    /// The drill.
    #[command(subcommand)]
    pub command: DrillCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
#[non_exhaustive]
pub enum DrillCommand {
    /// Stable instances under load, a fault-injecting canary joins, the
    /// analysis must abort it; then nothing lost, nothing duplicated.
    Canary {
        /// Stable instances.
        #[arg(long, default_value_t = 2)]
        stable: usize,
        /// The canary's fault-injection ratio (0: a healthy canary, which must be promoted).
        #[arg(long, default_value_t = 0.2)]
        fault_ratio: f64,
        /// Time from the canary's start to the first measurement.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
        initial_delay: Duration,
        /// Time between measurements.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
        interval: Duration,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Instances under load restarted one by one; nothing lost, nothing
    /// duplicated; longest commit pause and largest lag reported.
    RollingRestart {
        /// Instances.
        #[arg(long, default_value_t = 3)]
        instances: usize,
        /// Load before the first and after the last restart.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "15s")]
        settle: Duration,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Instances under load while instances, the broker, Postgres and the
    /// search engine fail, connections are cut and the group rebalances;
    /// nothing lost or duplicated, and the derived outputs equal a clean
    /// run's. Brings the local stack back up at the end.
    Chaos {
        /// Instances in the group.
        #[arg(long, default_value_t = 3)]
        instances: usize,
        /// Nominal length of the fault schedule (outages and storm scale with it).
        #[arg(long, value_parser = humantime::parse_duration, default_value = "3m")]
        duration: Duration,
        /// JSON positions only, instead of every kind of record on a topic of its own.
        #[arg(long)]
        positions_only: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
}

/// Flags every drill takes.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Records per second (every kind together; at most 10,000).
    #[arg(long, default_value_t = 1_500.0)]
    rate: f64,
    /// Ships simulated (more ships, more records per simulated second: the
    /// simulation starts 12 hours back and never runs ahead of the clock).
    #[arg(long, default_value_t = 400)]
    vessels: usize,
    /// Partitions of each of the drill's topics.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// The local stack's env file.
    #[arg(long, default_value = crate::stack::STACK_ENV)]
    stack_env: PathBuf,
    /// Keep the drill's database and Elasticsearch indices afterwards.
    #[arg(long)]
    keep: bool,
    /// Run the instances and the load over the stack's Kafka SASL_SSL
    /// listener (SCRAM-SHA-512, the password from its file).
    #[arg(long)]
    sasl: bool,
    /// The `porttrack` executable the instances run (default: the one next
    /// to this command, rebuilt first when it was started by `cargo run`).
    #[arg(long)]
    binary: Option<PathBuf>,
}

/// Runs a drill from the command line, prints its report, and fails unless
/// the drill came out as it must. Stops (killing its instances) when
/// `shutdown` resolves first.
pub async fn main(
    command: DrillCommand,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    porttrack::telemetry::init_logging(&porttrack::config::LogConfig::default());
    let (DrillCommand::Canary { common, .. }
    | DrillCommand::RollingRestart { common, .. }
    | DrillCommand::Chaos { common, .. }) = &command;
    let binary = porttrack_binary(common.binary.clone())?;
    let load = |c: &CommonArgs| LoadOptions {
        rate: c.rate,
        vessels: c.vessels,
        partitions: c.partitions,
        ..LoadOptions::default()
    };
    let drill = async {
        match command {
            DrillCommand::Canary { stable, fault_ratio, initial_delay, interval, common } => {
                let env = drill_env(&common, binary)?;
                let options = CanaryOptions {
                    stable,
                    fault_ratio,
                    join_timeout: Duration::from_secs(90),
                    load: load(&common),
                    analysis: AnalysisOptions { initial_delay, interval, ..AnalysisOptions::default() },
                    keep: common.keep,
                };
                let report = canary(&env, &options).await?;
                println!("{report}");
                let expected = if fault_ratio > 0.0 { "abort" } else { "promote" };
                anyhow::ensure!(
                    report.decision.is_abort() == (fault_ratio > 0.0),
                    "the analysis should {expected} this canary"
                );
                anyhow::ensure!(report.check.is_clean(), "the check failed");
                Ok(())
            }
            DrillCommand::RollingRestart { instances, settle, common } => {
                let env = drill_env(&common, binary)?;
                let options = RollingOptions {
                    instances,
                    load: load(&common),
                    settle,
                    keep: common.keep,
                    ..RollingOptions::default()
                };
                let report = rolling_restart(&env, &options).await?;
                println!("{report}");
                anyhow::ensure!(report.check.is_clean(), "the check failed");
                Ok(())
            }
            DrillCommand::Chaos { instances, duration, positions_only, common } => {
                let env = drill_env(&common, binary)?;
                let options = ChaosOptions {
                    instances,
                    load: load(&common),
                    duration,
                    every_kind: !positions_only,
                    keep: common.keep,
                };
                let report = chaos(&env, &options).await?;
                println!("{report}");
                anyhow::ensure!(report.check.is_clean(), "the check failed");
                anyhow::ensure!(
                    report.derived.iter().all(crate::DerivedComparison::is_equal),
                    "the derived outputs differ from the clean run's"
                );
                Ok(())
            }
        }
    };
    tokio::select! {
        result = drill => result,
        () = shutdown => anyhow::bail!("interrupted; the drill's instances were stopped"),
    }
}

/// The `porttrack` executable the instances run: `explicit`, else the one in
/// this command's own directory (`target/<profile>/`). Started by `cargo run`
/// (which sets `CARGO`), the command first builds it in the same profile, so
/// the instances run the code of the checkout as the drill does.
fn porttrack_binary(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(binary) = explicit {
        return Ok(binary);
    }
    let me = std::env::current_exe().context("locating this executable")?;
    let dir = me.parent().context("this executable has no directory")?;
    let binary = dir.join(format!("porttrack{}", std::env::consts::EXE_SUFFIX));
    if let Some(cargo) = std::env::var_os("CARGO") {
        let mut build = Command::new(cargo);
        build
            .args(["build", "--package", "porttrack", "--bin", "porttrack", "--manifest-path"])
            .arg(crate::stack::repo_root().join("Cargo.toml"));
        match dir.file_name().and_then(|p| p.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                build.arg("--release");
            }
            Some(profile) => {
                build.args(["--profile", profile]);
            }
        }
        eprintln!("porttrack-drill: building the porttrack binary the instances run");
        let status = build.status().context("running cargo build")?;
        anyhow::ensure!(status.success(), "cargo build --bin porttrack failed ({status})");
    }
    anyhow::ensure!(
        binary.is_file(),
        "{} not found: build it (cargo build --bin porttrack) or pass --binary",
        binary.display()
    );
    Ok(binary)
}

/// The drill environment `common` asks for.
fn drill_env(common: &CommonArgs, binary: PathBuf) -> anyhow::Result<DrillEnv> {
    let env = DrillEnv::from_stack_env(&common.stack_env, binary)?;
    if !common.sasl {
        return Ok(env);
    }
    let stack = crate::stack::Stack::from_env(&crate::stack::StackEnv::read(&common.stack_env)?)?;
    Ok(env.over_sasl(&stack.sasl))
}
