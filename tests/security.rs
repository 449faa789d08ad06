//! Security against the real local stack (`deploy/local/up`).
//!
//! * Kafka over the SASL_SSL listener (SCRAM-SHA-512, the stack's CA) with
//!   the password read from `kafka.sasl_password_file`: the pipeline and the
//!   simulator both run on it.
//! * A refused password or an unknown CA ends `porttrack run` at start with
//!   a message saying which, instead of a retry loop that looks alive.
//! * Known secrets (the SCRAM password, the search engine's basic-auth
//!   password behind the nginx TLS front, a Postgres password) are searched
//!   for in everything PortTrack writes: its logs at debug level, `/metrics`,
//!   `check-config` output and the dead-letter records with their headers.
//!
//! See `docs/security.md` for the threat model these tests stand behind.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chrono::Utc;
use porttrack::sim::{ProduceOptions, SimConfig, Simulator};
use porttrack_drill::stack::Stack;
use porttrack_ingest::KafkaConfig;
use support::slice::{Running, SERIAL, expected_next, terminate};
use support::{committed, create_database, create_topics, es, read_all, repo_root, stack, unique, wait_for};

const PARTITIONS: i32 = 2;

/// A run directory kept after the test for diagnosis.
fn run_dir(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-runs").join(unique(name));
    std::fs::create_dir_all(&dir).expect("run directory");
    dir
}

fn read_secret(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).trim().to_owned()
}

/// The `[kafka]` section for the SASL_SSL listener, the password in a file.
fn secured_kafka(stack: &Stack, group: &str, dlq: &str, password_file: &Path, ca: &Path) -> String {
    format!(
        r#"
[kafka]
brokers = "{brokers}"
group_id = "{group}"
dead_letter_topic = "{dlq}"
sasl_password_file = "{password_file}"

[kafka.properties]
"security.protocol" = "sasl_ssl"
"sasl.mechanism" = "SCRAM-SHA-512"
"sasl.username" = "{user}"
"ssl.ca.location" = "{ca}"
"#,
        brokers = stack.sasl.brokers,
        user = stack.sasl.username,
        password_file = password_file.display(),
        ca = ca.display(),
    )
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Bug: with a wrong SASL password (or a CA that did not sign the broker's
/// certificate) `porttrack run` started, logged a warning every few seconds
/// and consumed nothing, looking alive to its liveness probe. The same for
/// the sinks' certificates and credentials, found at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_password_or_an_unknown_ca_ends_the_run_at_start_with_the_reason() {
    let stack = stack();
    let dir = run_dir("refused");
    let wrong = dir.join("wrong.password");
    let wrong_password = format!("not-the-password-{}", std::process::id());
    std::fs::write(&wrong, format!("{wrong_password}\n")).unwrap();
    // The system's roots: a real CA bundle that did not sign the stack's broker.
    let system_roots = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
    assert!(system_roots.exists(), "{} is missing", system_roots.display());
    let (ca, real) = (&stack.sasl.ca_file, &stack.sasl.password_file);
    // Postgres with verify-full but the system's roots; search through the
    // TLS front with a wrong password.
    let postgres_unknown_ca =
        format!("[postgres]\nurl = \"{}\"\ntls = \"verify-full\"\n", stack.postgres_url);
    let search_wrong_password = format!(
        "[elasticsearch]\nurl = \"{}\"\nusername = \"{}\"\npassword_file = \"{}\"\nca_file = \"{}\"\n",
        stack.search_front.url,
        stack.search_front.username,
        wrong.display(),
        ca.display()
    );
    let cases = [
        ("kafka-password", &wrong, ca, String::new(), "refused authentication"),
        ("kafka-ca", real, &system_roots, String::new(), "TLS handshake failed"),
        ("postgres-ca", real, ca, postgres_unknown_ca, "postgres TLS verification failed"),
        ("search-password", real, ca, search_wrong_password, "authentication failed"),
    ];
    for (case, password_file, kafka_ca, sinks, expected) in cases {
        let config = format!(
            "{kafka}\n[[kafka.topics]]\nname = \"ais.positions\"\nformat = \"json\"\nevent = \"position\"\n\n\
             {sinks}\n[files]\ndiscard = true\n\n[http]\nlisten = \"127.0.0.1:0\"\n",
            kafka = secured_kafka(
                stack,
                &unique("group-refused"),
                "porttrack.dead-letter",
                password_file,
                kafka_ca
            ),
        );
        let path = dir.join(format!("{case}.toml"));
        std::fs::write(&path, config).unwrap();
        let log = dir.join(format!("{case}.log"));
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_porttrack"))
            .args(["run", "--config"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawning porttrack run");
        let status = wait_exit(&mut child, Duration::from_secs(60));
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let elapsed = started.elapsed();
        let stderr = std::fs::read_to_string(&log).unwrap();
        let status = status.unwrap_or_else(|| panic!("{case}: still running after 60 s:\n{stderr}"));
        assert!(!status.success(), "{case}: exited successfully:\n{stderr}");
        assert!(stderr.contains(expected), "{case}: the reason is not named ({expected:?}):\n{stderr}");
        assert!(elapsed < Duration::from_secs(15), "{case}: took {elapsed:?} to give up:\n{stderr}");
        assert!(!stderr.contains(&wrong_password), "{case}: the password was printed:\n{stderr}");
    }
}

/// Everything secured at once (Kafka SASL_SSL, search through the TLS front
/// with basic auth, Postgres with `verify-full`), every credential from a
/// file; then the known secrets must appear nowhere PortTrack writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_secrets_appear_in_no_log_metric_config_output_or_dead_letter() {
    let _serial = SERIAL.lock().await;
    let stack = stack();
    let dir = run_dir("secrets");
    let topic = unique("positions-secrets");
    let dlq = unique("dlq-secrets");
    let group = unique("group-secrets");
    create_topics(&stack.brokers, &[(&topic, PARTITIONS), (&dlq, 1)]).await;
    let db_url = create_database(&stack.postgres_url, &unique("pt_secrets").replace('-', "_")).await;
    let es_prefix = unique("t-secrets");

    // The stack's Postgres trusts loopback, so this password is never
    // checked; it still travels through the configuration like a real one.
    let pg_password = format!("pg-known-secret-{}", std::process::id());
    let pg_password_file = dir.join("postgres.password");
    std::fs::write(&pg_password_file, &pg_password).unwrap();
    let secrets = [
        ("kafka SASL password", read_secret(&stack.sasl.password_file)),
        ("search password", read_secret(&stack.search_front.password_file)),
        ("postgres password", pg_password.clone()),
    ];
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = format!(
        r#"{kafka}
[[kafka.topics]]
name = "{topic}"
format = "json"
event = "position"

[pipeline]
batch_max_records = 500
batch_linger = "50ms"

[postgres]
url = "{db_url}"
password_file = "{pg_password_file}"
tls = "verify-full"
ca_file = "{ca}"

[elasticsearch]
url = "{es_url}"
index_prefix = "{es_prefix}"
username = "{es_user}"
password_file = "{es_password_file}"
ca_file = "{ca}"

[files]
discard = true

[http]
listen = "127.0.0.1:{port}"
"#,
        kafka = secured_kafka(stack, &group, &dlq, &stack.sasl.password_file, &stack.sasl.ca_file),
        pg_password_file = pg_password_file.display(),
        ca = stack.sasl.ca_file.display(),
        es_url = stack.search_front.url,
        es_user = stack.search_front.username,
        es_password_file = stack.search_front.password_file.display(),
    );
    let config_path = dir.join("porttrack.toml");
    std::fs::write(&config_path, &config).unwrap();
    let mut outputs: Vec<(String, String)> = Vec::new();

    // check-config, of this file and of one with the secrets written inline
    // by mistake.
    let inline = config
        .replace(
            &db_url,
            &db_url.replacen("postgres://postgres@", &format!("postgres://postgres:{pg_password}@"), 1),
        )
        .replace(
            "[kafka.properties]\n",
            &format!("[kafka.properties]\n\"sasl.password\" = \"{}\"\n", secrets[0].1),
        );
    assert!(inline.contains(&pg_password) && inline.contains(&secrets[0].1), "the inline variant holds them");
    let inline_path = dir.join("inline.toml");
    std::fs::write(&inline_path, &inline).unwrap();
    for path in [&config_path, &inline_path] {
        let out = Command::new(env!("CARGO_BIN_EXE_porttrack"))
            .args(["check-config", "--config"])
            .arg(path)
            .output()
            .expect("check-config");
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "check-config {}: {text}", path.display());
        outputs.push((format!("check-config {}", path.display()), text));
    }

    // The pipeline at debug level, fed by the simulator over SASL_SSL,
    // with invalid records among the valid ones for the dead-letter topic.
    let log = dir.join("run.log");
    let pipeline = Running(Some(
        Command::new(env!("CARGO_BIN_EXE_porttrack"))
            .args(["run", "--config"])
            .arg(&config_path)
            .env("PORTTRACK_LOG__FILTER", "debug")
            .stdout(std::fs::File::create(dir.join("run.stdout")).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawning porttrack run"),
    ));
    let kafka = KafkaConfig {
        brokers: stack.sasl.brokers.clone(),
        sasl_password_file: Some(stack.sasl.password_file.clone()),
        properties: [
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", stack.sasl.username.as_str()),
            ("ssl.ca.location", &stack.sasl.ca_file.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        ..KafkaConfig::default()
    };
    let options = ProduceOptions {
        count: Some(2_000),
        record_acks: true,
        ..ProduceOptions::positions_only(topic.clone())
    };
    let report = tokio::task::spawn_blocking(move || {
        let mut sim = Simulator::new(SimConfig {
            vessels: 50,
            seed: 7,
            start: Utc::now() - chrono::Duration::hours(2),
            invalid_ratio: 0.05,
        });
        porttrack::sim::produce(&kafka, &mut sim, &options, &AtomicBool::new(false), None)
    })
    .await
    .expect("producer thread")
    .expect("the simulator produces over SASL_SSL");
    assert_eq!(report.failed, 0);
    let expected = expected_next(&report.acks);
    wait_for("every record committed", Duration::from_secs(120), || {
        let now = committed(&stack.brokers, &group, &topic, PARTITIONS);
        expected.iter().all(|(p, next)| now.get(p).is_some_and(|c| c >= next))
    });
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("scraping /metrics")
        .text()
        .await
        .expect("metrics body");
    assert!(metrics.contains("porttrack_records_committed_total"), "not PortTrack's /metrics:\n{metrics}");
    outputs.push(("/metrics".into(), metrics));
    terminate(pipeline);
    outputs.push(("run log (stderr, debug)".into(), std::fs::read_to_string(&log).unwrap()));
    outputs.push(("run stdout".into(), std::fs::read_to_string(dir.join("run.stdout")).unwrap()));

    // The secured sinks really stored the run.
    let (client, conn) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let stored: i64 = client.query_one("SELECT count(*) FROM positions", &[]).await.unwrap().get(0);
    assert!(stored > 0, "nothing reached Postgres");
    es::refresh(&stack.elasticsearch_url, &format!("{es_prefix}*")).await;
    assert!(
        !es::ids(&stack.elasticsearch_url, &format!("{es_prefix}*")).await.is_empty(),
        "nothing reached search"
    );

    let letters = read_all(&stack.brokers, &dlq, 1, 1);
    assert!(!letters.is_empty(), "the invalid records were dead-lettered");
    for l in &letters {
        let mut text = String::new();
        for (k, v) in &l.headers {
            text.push_str(&format!("{k}={v}\n"));
        }
        text.push_str(&String::from_utf8_lossy(l.payload.as_deref().unwrap_or_default()));
        outputs.push((format!("dead letter {}/{}", l.partition, l.offset), text));
    }

    for (what, text) in &outputs {
        assert!(!text.is_empty() || what == "run stdout", "{what} is empty: the search would prove nothing");
        for (name, secret) in &secrets {
            assert!(!text.contains(secret.as_str()), "the {name} appears in {what}");
        }
    }
}
