//! The API's contract, tested by schemathesis (PyPI) against a running
//! `porttrack serve` on the local stack's Postgres: every operation of the
//! served `/api/v1/openapi.json`, generated inputs (coverage and fuzzing
//! phases), every check (`--checks all`: no 5xx, status codes, content
//! types and response bodies as documented, invalid input rejected, valid
//! input accepted). The few cross-parameter rules OpenAPI cannot express
//! are declared in `api/tests/fixtures/schemathesis.toml`.
//!
//! schemathesis is installed once into a cached virtualenv:
//! `$PORTTRACK_CACHE/venv-schemathesis` (default `/var/cache/porttrack/`),
//! `python3 -m venv` + `pip install schemathesis==<pinned>`. Fails (never
//! skips) when Postgres, Python or the package index is unavailable.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The schemathesis release the contract is checked with.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

fn venv() -> PathBuf {
    let cache = std::env::var("PORTTRACK_CACHE").unwrap_or_else(|_| "/var/cache/porttrack".into());
    let dir = PathBuf::from(cache).join("venv-schemathesis");
    let bin = dir.join("bin/schemathesis");
    let version_ok = Command::new(&bin).arg("--version").output().is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS.trim_start_matches("schemathesis=="))
    });
    if !version_ok {
        let status =
            Command::new("python3").args(["-m", "venv"]).arg(&dir).status().expect("python3 -m venv");
        assert!(status.success(), "creating the virtualenv {}", dir.display());
        let status = Command::new(dir.join("bin/pip"))
            .args(["install", "--quiet", SCHEMATHESIS])
            .status()
            .expect("pip install schemathesis");
        assert!(status.success(), "pip install {SCHEMATHESIS} into {}", dir.display());
    }
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_openapi_document_holds_under_schemathesis() {
    let stack = support::stack();
    let name = support::unique("api_contract").replace('-', "_");
    let url = support::create_database(&stack.postgres_url, &name).await;
    let config = porttrack_sinks::postgres::PostgresConfig { url: url.clone(), ..Default::default() };
    porttrack_sinks::postgres::migrate(&config).await.expect("migrations apply");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    client.batch_execute(include_str!("../api/tests/fixtures/seed.sql")).await.expect("seeding");

    let schemathesis = venv();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_porttrack"))
        .arg("serve")
        .env("PORTTRACK_POSTGRES__URL", &url)
        .env("PORTTRACK_SERVE__LISTEN", "127.0.0.1:0")
        .env("PORTTRACK_LOG__FILTER", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawning porttrack serve");
    let mut line = String::new();
    BufReader::new(serve.stdout.take().expect("stdout")).read_line(&mut line).expect("serve's address");
    let base = line
        .trim()
        .strip_prefix("serve: listening on ")
        .expect("address line")
        .trim_end_matches('/')
        .to_owned();

    let root = support::repo_root();
    let max_time = std::env::var("PORTTRACK_SCHEMATHESIS_MAX_TIME").unwrap_or_else(|_| "90".into());
    let status = Command::new(&schemathesis)
        .arg("--config-file")
        .arg(root.join("api/tests/fixtures/schemathesis.toml"))
        .args(["run", &format!("{base}/api/v1/openapi.json"), "--checks", "all", "--max-time", &max_time])
        .args(["--seed", "20261201"])
        .current_dir(std::env::temp_dir())
        .status()
        .expect("running schemathesis");
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(status.success(), "schemathesis found contract violations (see its report above)");
}
