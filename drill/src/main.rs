//! The `porttrack-drill` command: release drills on the local stack.
//!
//! `cargo run -p porttrack-drill -- canary` (a fault-injecting canary the
//! analysis must abort; `--fault-ratio 0`: a healthy one it must promote),
//! `cargo run -p porttrack-drill -- rolling-restart`. See
//! `deploy/local/drill/README.md`.

use clap::Parser as _;
use porttrack_drill::cli::{self, Cli};

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
    cli::main(cli.command, terminated()).await
}
