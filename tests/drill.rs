//! The release drills (`porttrack-drill`) as tests, at small volumes, on the
//! local stack: real `porttrack run` processes, Apache Kafka, Postgres,
//! the search engine and the stack's Prometheus (which scrapes the drill's
//! instances through the `porttrack-drill` file-SD job). They run in the
//! default `cargo test --workspace`, one at a time.
//!
//! The tests call the same library functions as the command and assert on
//! their reports: the analysis' decision (a fault-injecting canary is aborted
//! because of its error ratio; a healthy one is promoted, so the analysis can
//! also say yes), the stable instances untouched by the abort, and the
//! Jepsen-style check: nothing lost, nothing duplicated, nothing misplaced.
//! The chaos drill also kills the broker, stops Postgres, freezes the search
//! engine and cuts connections (it runs `deploy/local/up` at the end), and
//! compares the derived outputs with a clean run's.
//!
//! Each run leaves its configuration and instance logs in
//! `target/test-runs/drill-*/`.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::path::PathBuf;
use std::time::Duration;

use porttrack_drill::{
    self as drill, AnalysisOptions, CanaryOptions, ChaosOptions, DrillEnv, FaultKind, LoadOptions,
    RollingOptions,
};

/// Drills run one at a time: they share one broker, one Prometheus and two
/// cores, and their timings are part of what they report.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const INVALID_RATIO: f64 = 0.01;

fn env() -> DrillEnv {
    // The drill logs its phases (with --nocapture they show as they happen).
    porttrack::telemetry::init_logging(&porttrack::config::LogConfig::default());
    // The Prometheus targets directory is asked from Prometheus, as the command does.
    DrillEnv::for_stack(
        support::stack(),
        PathBuf::from(env!("CARGO_BIN_EXE_porttrack")),
        support::repo_root().join("target/test-runs"),
    )
}

/// Modest load: a debug build of three instances shares two cores with the
/// whole stack, and the drills judge behaviour, not throughput.
fn load() -> LoadOptions {
    LoadOptions { rate: 500.0, vessels: 300, invalid_ratio: INVALID_RATIO, partitions: 4 }
}

fn analysis() -> AnalysisOptions {
    AnalysisOptions {
        initial_delay: Duration::from_secs(20),
        interval: Duration::from_secs(10),
        count: 4,
        ..AnalysisOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_injecting_canary_is_aborted_and_nothing_is_lost_or_duplicated() {
    let _serial = SERIAL.lock().await;
    let options =
        CanaryOptions { fault_ratio: 0.2, load: load(), analysis: analysis(), ..CanaryOptions::default() };
    let report = drill::canary(&env(), &options).await.unwrap();
    eprintln!("{report}");

    assert!(
        report.decision.aborted_by("error-ratio"),
        "aborted because of the error ratio: {:?}",
        report.decision
    );
    assert!(
        report.time_to_decision <= report.decision_bound,
        "decided within the bound: {:?} > {:?}",
        report.time_to_decision,
        report.decision_bound
    );
    assert!(report.canary_consuming_after.is_some(), "the canary took part before it was judged");
    assert!(report.canary_fault_injected > 0, "the switch failed some records");
    let (canary, stable) = (report.canary_error_ratio.unwrap(), report.stable_error_ratio.unwrap());
    assert!(canary > 0.1, "canary error ratio {canary}");
    assert!(stable < INVALID_RATIO * 3.0, "stable error ratio {stable}: stable is not what failed");
    assert!(report.stable_survived, "the stable instances ran throughout and stopped cleanly");
    assert!(report.reassigned_after.is_some(), "the canary's partitions went back to stable");

    let check = &report.check;
    assert!(check.is_clean(), "{check}");
    assert_eq!((check.lost, check.duplicated, check.misplaced), (0, 0, 0));
    assert!(check.dead_lettered.get("fault_injected").is_some_and(|n| *n > 0), "{check}");
    assert!(check.stored > 0 && check.stored < check.valid, "{check}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_is_promoted() {
    let _serial = SERIAL.lock().await;
    let options =
        CanaryOptions { fault_ratio: 0.0, load: load(), analysis: analysis(), ..CanaryOptions::default() };
    let report = drill::canary(&env(), &options).await.unwrap();
    eprintln!("{report}");

    assert_eq!(report.decision, drill::Decision::Promote);
    assert_eq!(report.canary_fault_injected, 0);
    assert!(report.canary_committed > 0, "the canary did work");
    assert!(report.stable_survived);
    let check = &report.check;
    assert!(check.is_clean(), "{check}");
    assert_eq!(check.stored, check.valid, "{check}");
}

/// Runs over SASL_SSL, so the drills are proven on the secured listener too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_loses_and_duplicates_nothing() {
    let _serial = SERIAL.lock().await;
    // Three instances, as the command defaults to.
    let options = RollingOptions {
        instances: 3,
        load: load(),
        settle: Duration::from_secs(10),
        between: Duration::from_secs(3),
        keep: false,
    };
    // Over Kafka's SASL_SSL listener: the instances and the load with the
    // password from its file (the checker reads through the plain one).
    let env = env().over_sasl(&support::stack().sasl);
    let report = drill::rolling_restart(&env, &options).await.unwrap();
    eprintln!("{report}");

    assert_eq!(report.restarts.len(), 3);
    let check = &report.check;
    assert!(check.is_clean(), "{check}");
    assert_eq!((check.lost, check.duplicated, check.misplaced), (0, 0, 0));
    assert_eq!(check.stored, check.valid, "no fault injection here: every valid record stored");
    assert!(report.longest_pause > Duration::ZERO);
    assert!(report.max_commit_lag > 0);
}

/// Every fault of the chaos drill at CI size (about three and a half
/// minutes with the clean run and the check); `--nocapture` prints the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_loses_duplicates_nothing_and_derives_what_a_clean_run_derives() {
    let _serial = SERIAL.lock().await;
    let options = ChaosOptions {
        instances: 3,
        load: load(),
        duration: Duration::from_secs(120),
        every_kind: true,
        keep: false,
    };
    let report = drill::chaos(&env(), &options).await.unwrap();
    eprintln!("{report}");

    let count = |kind: FaultKind| report.faults.iter().filter(|f| f.kind == kind).count();
    assert!(count(FaultKind::InstanceKill) >= 3, "instances were killed throughout");
    assert_eq!(count(FaultKind::BrokerKill), 2);
    assert_eq!(count(FaultKind::PostgresStop), 1);
    assert_eq!(count(FaultKind::SearchStop), 1);
    assert!(count(FaultKind::PostgresCut) >= 3);
    assert_eq!(count(FaultKind::RebalanceStorm), 1);
    assert!(report.unexpected_exits.is_empty(), "{:?}", report.unexpected_exits);

    let check = &report.check;
    assert!(check.is_clean(), "{check}");
    assert_eq!((check.lost, check.duplicated, check.misplaced), (0, 0, 0));
    assert_eq!(check.stored, check.valid, "no fault injection here: every valid record stored");
    for kind in ["positions", "static", "nmea", "weather", "ops"] {
        assert!(check.produced_by_stream.get(kind).is_some_and(|n| *n > 0), "no {kind} records: {check}");
    }
    assert!(check.fragments > 0, "two-sentence NMEA messages were sent: {check}");
    for table in ["port_calls", "zone_events"] {
        let d = report.derived.iter().find(|d| d.table == table).unwrap();
        assert!(d.clean_rows > 0, "{table}: the clean run derived something to compare");
    }
    for d in &report.derived {
        assert!(d.is_equal(), "{}: {d:?}", d.table);
    }
}
