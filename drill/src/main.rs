//! The `porttrack-drill` command: release drills on the local stack.
//!
//! `cargo run -p porttrack-drill -- canary` (a fault-injecting canary the
//! analysis must abort; `--fault-ratio 0`: a healthy one it must promote),
//! `cargo run -p porttrack-drill -- rolling-restart`. See
//! `deploy/local/drill/README.md`.

use clap::Parser as _;
use porttrack::signal::terminated;
use porttrack_drill::cli::{self, Cli};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli::main(cli.command, terminated()).await
}
