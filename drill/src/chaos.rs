//! The chaos drill: three instances under load while everything they depend
//! on fails, then two verdicts, each independent of the instances' own
//! accounts: the Jepsen-style check of the producer's acknowledgements, and
//! the derived outputs compared with those of a clean run over the same
//! records.
//!
//! # The load
//!
//! Every kind of record on a topic of its own ([`Topics::every_kind`]),
//! unless `--positions-only`: the simulator's JSON positions and static
//! data, weather observations, Avro cargo moves and port operations events,
//! and one vessel in four reporting over raw NMEA instead (type 1
//! positions; type 5 static data as two fragments in two records, so a
//! crash between them must re-read the first). 1% of positions are invalid
//! (JSON faults, or a wrong NMEA checksum). The rate counts every kind.
//!
//! # The faults
//!
//! The instances reach Postgres through [`PgProxy`], a TCP relay in this
//! process, so the drill can drop their connections in the middle of a
//! batch's transaction. Over the run ([`schedule`]):
//!
//! * every 10 s a random instance is SIGKILLed and started again (no drain,
//!   no commit, no leaving the group: its partitions move when its session
//!   expires, 10 s on the local broker);
//! * the Kafka broker is SIGKILLed twice and restarted by `deploy/local/up`;
//!   the time until it answers a metadata request is measured;
//! * Postgres is shut down immediately (SIGQUIT to the postmaster, the
//!   signal `pg_ctl stop -m immediate` sends: no checkpoint, crash recovery
//!   at the restart) for a sixth of `--duration` (10–30 s), then restarted
//!   by `deploy/local/up`;
//! * the proxy drops every Postgres connection four times, refusing new
//!   ones for a second each time;
//! * the search engine is frozen with SIGSTOP for as long as Postgres was
//!   stopped, then resumed with SIGCONT: cheaper than a JVM restart, and
//!   harsher for the client, whose connections stay open and unanswered as
//!   a hung node's do. It starts 3 s after an instance kill and the kills
//!   go on, so the restarted instance joins and takes partitions from
//!   members whose batches hang: their drains time out (`drain_timeout`);
//! * finally a rebalance storm: extra instances join and leave (SIGTERM)
//!   the group every 5 s for an eighth of `--duration` (10–60 s).
//!
//! The stack-level faults run one after the other, because `deploy/local/up`
//! restarts whatever is down (a broker restart during the Postgres outage
//! would end it early) and waits for every service (a frozen search engine
//! would hold it). The instance kills go on throughout, except around the
//! Postgres faults: a partition assigned while its checkpoint store is
//! unreachable starts with empty processor state after about 5 s of retries
//! (ARCHITECTURE.md, "No commit past the processor state"), and its derived
//! outputs then restart from what the new records show, by design. The
//! drill keeps partition moves and Postgres faults apart (kills are held
//! from 13 s before a Postgres fault, after the last kill or broker restart,
//! until it is over; they are counted), so the derived outputs must come out
//! exactly equal. Whatever happens, [`StackGuard`] resumes the search engine
//! and runs `deploy/local/up` at the end, on error and on panic too.
//!
//! # The verdicts
//!
//! * [`Run::verify`]: every acknowledged record in Postgres and in the search
//!   engine exactly once by its Kafka coordinates, or dead-lettered with its
//!   class; `vessel_state` the newest fix; everything committed. The load's
//!   producer is idempotent with a five-minute message timeout, so a
//!   broker killed mid-request cannot leave a record in the log that was
//!   never acknowledged.
//! * Derived outputs: after the chaos run one fresh instance (new group,
//!   database and index prefix, no faults) consumes the same topics until it
//!   committed everything, and the two databases' `port_calls` (all columns
//!   but the wall-clock `updated_at`), `zone_events` and `anomalies` are
//!   compared row by row by their keys. These are functions of each vessel's
//!   records in offset order and of its checkpointed state, so replays,
//!   restores and batch boundaries must not change them. Not compared: the
//!   `went_silent` anomalies, which [`Port::tick`] dates at the instance's
//!   watermark when a wall-clock snapshot timer fires (the watermark is the
//!   newest event time over every partition the instance owns, so it
//!   depends on assignment and batch timing), and the congestion partials,
//!   keyed by snapshot time for the same reason.
//!
//! [`Port::tick`]: https://docs.rs/porttrack-processors
//! [`Run::verify`]: crate::check

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use tokio::time::Instant;

use crate::error::{DrillError, io};
use crate::instance::{Instance, free_port, free_ports, tail, wait_group_consuming};
use crate::load::{
    CommitWatch, OffsetReader, longest_pause, max_commit_lag, recovered_after, wait_all_committed,
};
use crate::options::{ChaosOptions, DrillEnv};
use crate::report::{ChaosReport, DerivedComparison, Fault, FaultKind};
use crate::run::Run;
#[cfg(doc)]
use crate::run::Topics;
use crate::stack::{psql, repo_root};

/// An instance is killed this often.
const KILL_EVERY: Duration = Duration::from_secs(10);
/// How long partitions may still move after a kill or a broker restart
/// (the broker's 10 s session timeout, the restarted instance joining).
const QUIET: Duration = Duration::from_secs(13);
/// Extra instances join or leave this often during the storm.
const STORM_EVERY: Duration = Duration::from_secs(5);
/// Postgres connection drops per cut stretch, and how long each refuses new ones.
const CUTS: u32 = 4;
const CUT_BLACKOUT: Duration = Duration::from_secs(1);
/// The longest a stopped service may take to answer again.
const RESTART_LIMIT: Duration = Duration::from_secs(180);

/// The chaos drill: see the module documentation.
pub async fn chaos(env: &DrillEnv, options: &ChaosOptions) -> Result<ChaosReport, DrillError> {
    let mut run = Run::create(env, "chaos", options.load.partitions, options.every_kind).await?;
    let guard = StackGuard::new(&run.dir);
    let mut clean = None;
    let result = async {
        let proxy = PgProxy::start(pg_address(&run.db_url)?)?;
        let proxied = with_address(&run.db_url, &proxy.addr.to_string())?;
        run.instance_env.push(("PORTTRACK_POSTGRES__URL".to_owned(), proxied));
        chaos_in(&run, &guard, &proxy, options, &mut clean).await
    }
    .await;
    // The stack first: dropping the runs' databases needs Postgres.
    let restored = guard.restore().await;
    // A failed drill, or one whose verdict is not clean, keeps both runs'
    // databases and indices for a look at what differs.
    let keep = options.keep || result.as_ref().map_or(true, |r| !r.is_clean());
    if let Some(clean) = &clean {
        clean.cleanup(keep).await;
    }
    run.cleanup(keep).await;
    let report = result?;
    restored?;
    Ok(report)
}

async fn chaos_in(
    run: &Run,
    guard: &StackGuard,
    proxy: &PgProxy,
    options: &ChaosOptions,
    clean_slot: &mut Option<Run>,
) -> Result<ChaosReport, DrillError> {
    let ports = free_ports(options.instances)?;
    let storm_ports = free_ports(2)?;
    let all_ports: Vec<u16> = ports.iter().chain(&storm_ports).copied().collect();
    run.write_targets(&all_ports)?;
    let mut instances = run.spawn_stable("instance", &ports)?;
    let t0 = Instant::now();
    let load = run.load(&options.load);
    let watch = CommitWatch::start(&run.http, &all_ports, Arc::clone(&load.sent));
    let offsets = OffsetReader::new(run)?;
    let took = wait_group_consuming(&mut instances, f64::from(run.partitions)).await?;
    tracing::info!(run = %run.name, took = ?took, "instances consuming; faults begin");

    let control = Control::default();
    let faults_began = Instant::now();
    let (kills, stack_faults) = tokio::join!(kill_loop(run, &mut instances, &control, t0), async {
        let result = schedule(run, guard, proxy, &control, options, t0, &storm_ports).await;
        control.done.store(true, Ordering::SeqCst);
        if result.is_err() {
            control.abort.store(true, Ordering::SeqCst);
        }
        result
    });
    let kills = kills?;
    let (stack_faults, storm_problems) = stack_faults?;
    let mut faults: Vec<Fault> = kills.faults.into_iter().chain(stack_faults).collect();
    faults.sort_by_key(|f| f.started);
    let mut unexpected_exits = kills.unexpected;
    unexpected_exits.extend(storm_problems);

    let load_stopped = Instant::now();
    let report = load.finish().await?;
    tracing::info!(acked = report.acks.len(), "load stopped; waiting for the group to commit everything");
    let mut alive: Vec<&mut Instance> = instances.iter_mut().collect();
    let drain = wait_all_committed(&offsets, &report.acks, &mut alive).await?;
    let samples = watch.finish().await;
    for i in &mut instances {
        i.terminate().await?;
    }
    for fault in &mut faults {
        fault.recovered = recovered_after(&samples, t0 + fault.ended);
    }
    let longest = longest_pause(&samples, faults_began, load_stopped);
    let max_commit_lag = max_commit_lag(&samples, load_stopped);
    tracing::info!("chaos instances stopped; checking the stores");
    let check = run.verify(&report).await?;

    tracing::info!("starting the clean run over the same topic");
    let clean = clean_slot.insert(Run::over_topics(&run.env, "clean", &run.topics, run.partitions).await?);
    let mut instance = clean.spawn("clean", free_port()?, "stable", 0.0)?;
    let clean_offsets = OffsetReader::new(clean)?;
    let clean_catch_up = wait_all_committed(&clean_offsets, &report.acks, &mut [&mut instance]).await?;
    instance.terminate().await?;
    tracing::info!(took = ?clean_catch_up, "clean run caught up; comparing derived outputs");
    let derived = compare_derived(&run.db_url, &clean.db_url).await?;

    Ok(ChaosReport {
        run: run.name.clone(),
        dir: run.dir.clone(),
        clean_run: clean.name.clone(),
        faults,
        kills_held: kills.held,
        unexpected_exits,
        longest_pause: longest,
        max_commit_lag,
        produce_failed: report.failed,
        drain,
        clean_catch_up,
        check,
        derived,
    })
}

/// What the fault tasks share.
#[derive(Debug, Default)]
struct Control {
    /// Instance kills are held (a Postgres fault is near).
    hold: AtomicBool,
    /// The schedule is over.
    done: AtomicBool,
    /// The schedule failed: stop waiting.
    abort: AtomicBool,
    /// The last moment partitions were made to move (a kill, a broker back).
    last_move: Mutex<Option<Instant>>,
    /// The last instance kill.
    last_kill: Mutex<Option<Instant>>,
}

impl Control {
    /// Sleeps `d`, failing early if the schedule was aborted.
    async fn pause(&self, d: Duration) -> Result<(), DrillError> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.abort.load(Ordering::SeqCst) {
                return Err(DrillError::Stack("the chaos schedule was aborted".into()));
            }
            tokio::time::sleep(
                until.saturating_duration_since(Instant::now()).min(Duration::from_millis(250)),
            )
            .await;
        }
        Ok(())
    }

    fn moved(&self) {
        *self.last_move.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    fn killed(&self) {
        self.moved();
        *self.last_kill.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// Waits for the next instance kill, then `after` more.
    async fn after_next_kill(&self, after: Duration) -> Result<(), DrillError> {
        let since = Instant::now();
        loop {
            let last = *self.last_kill.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(killed) = last.filter(|k| *k >= since) {
                return self.pause((killed + after).saturating_duration_since(Instant::now())).await;
            }
            if since.elapsed() > KILL_EVERY * 2 {
                return Ok(()); // kills held or stopped: go ahead anyway
            }
            self.pause(Duration::from_millis(100)).await?;
        }
    }

    /// Holds the kills and waits until no partition should still be moving.
    async fn quiet(&self) -> Result<(), DrillError> {
        self.hold.store(true, Ordering::SeqCst);
        // A kill under way finishes its restart.
        self.pause(Duration::from_secs(1)).await?;
        let last = *self.last_move.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(last) = last {
            self.pause((last + QUIET).saturating_duration_since(Instant::now())).await?;
        }
        Ok(())
    }
}

/// What the kill loop did.
#[derive(Debug, Default)]
struct Kills {
    faults: Vec<Fault>,
    held: u64,
    unexpected: Vec<String>,
}

/// Every [`KILL_EVERY`] SIGKILLs a random instance and starts it again,
/// unless kills are held; restarts any instance that exited by itself
/// (recorded as unexpected).
async fn kill_loop(
    run: &Run,
    instances: &mut [Instance],
    control: &Control,
    t0: Instant,
) -> Result<Kills, DrillError> {
    let mut out = Kills::default();
    let mut rng = XorShift::from_clock();
    // The restarted instance still to be seen ready: (fault index, instance, restarted at).
    let mut pending: Option<(usize, usize, Instant)> = None;
    let mut next = Instant::now() + KILL_EVERY;
    let result = async {
        loop {
            while Instant::now() < next {
                if control.done.load(Ordering::SeqCst) {
                    return Ok(());
                }
                for instance in instances.iter_mut() {
                    if let Err(e) = instance.alive() {
                        let (label, port) = (instance.label.clone(), instance.port);
                        tracing::error!(%label, error = %e, "instance exited unexpectedly; starting it again");
                        out.unexpected.push(format!("{label} at t+{:.1}s: {e}", t0.elapsed().as_secs_f64()));
                        *instance = run.spawn(&label, port, "stable", 0.0)?;
                    }
                }
                if let Some((fault, i, restarted)) = pending
                    && instances[i].ready().await
                {
                    out.faults[fault].detail = format!("ready {:.1}s after the restart", restarted.elapsed().as_secs_f64());
                    pending = None;
                }
                tokio::time::sleep(next.saturating_duration_since(Instant::now()).min(Duration::from_millis(250)))
                    .await;
            }
            next += KILL_EVERY;
            if control.hold.load(Ordering::SeqCst) {
                out.held += 1;
                continue;
            }
            let i = rng.below(instances.len());
            let started = Instant::now();
            instances[i].kill()?;
            control.killed();
            let (label, port) = (instances[i].label.clone(), instances[i].port);
            instances[i] = run.spawn(&label, port, "stable", 0.0)?;
            tracing::info!(%label, "SIGKILLed and restarted");
            out.faults.push(Fault {
                kind: FaultKind::InstanceKill,
                target: label,
                started: started - t0,
                ended: Instant::now() - t0,
                detail: format!("not ready within {}s", KILL_EVERY.as_secs()),
                recovered: None,
            });
            pending = Some((out.faults.len() - 1, i, Instant::now()));
        }
    }
    .await;
    result.map(|()| out)
}

/// The stack-level faults, one after the other, and the storm; returns
/// them and the storm's problems (an extra instance that did not leave cleanly).
async fn schedule(
    run: &Run,
    guard: &StackGuard,
    proxy: &PgProxy,
    control: &Control,
    options: &ChaosOptions,
    t0: Instant,
    storm_ports: &[u16],
) -> Result<(Vec<Fault>, Vec<String>), DrillError> {
    let d = options.duration;
    let outage = (d / 6).clamp(Duration::from_secs(10), Duration::from_secs(30));
    let storm_len = (d / 8).clamp(Duration::from_secs(10), Duration::from_secs(60));
    let settle = (d / 20).clamp(Duration::from_secs(5), Duration::from_secs(15));
    let mut faults = Vec::new();

    control.pause(settle).await?;
    faults.push(broker_kill(run, guard, control, t0).await?);

    control.quiet().await?;
    faults.push(postgres_stop(run, guard, control, t0, outage).await?);
    control.hold.store(false, Ordering::SeqCst);

    faults.push(broker_kill(run, guard, control, t0).await?);

    control.quiet().await?;
    faults.extend(postgres_cuts(proxy, control, t0, outage).await?);
    control.hold.store(false, Ordering::SeqCst);

    // Not during the cuts: while the search engine hangs, batches wait for
    // it and hold few Postgres connections to cut. The kills go on, so
    // partitions move while a sink hangs and revocations drain in vain:
    // the freeze starts 3 s after a kill, when the restarted instance has
    // usually passed its start-up (which needs the search engine) and is
    // about to join, taking partitions from members whose batches hang.
    control.after_next_kill(Duration::from_secs(3)).await?;
    faults.push(search_stop(run, guard, control, t0, outage).await?);

    let (storm, problems) = rebalance_storm(run, control, t0, storm_len, storm_ports).await?;
    faults.push(storm);

    // The load goes on for at least the nominal duration, and a little
    // after the last fault so recovery shows in the commits.
    let end = (t0 + d).max(Instant::now() + Duration::from_secs(5));
    control.pause(end.saturating_duration_since(Instant::now())).await?;
    Ok((faults, problems))
}

async fn broker_kill(
    run: &Run,
    guard: &StackGuard,
    control: &Control,
    t0: Instant,
) -> Result<Fault, DrillError> {
    let pid = guard.pid("kafka")?;
    let started = Instant::now();
    tracing::info!(pid, "SIGKILL to the Kafka broker; restarting it with deploy/local/up");
    signal(pid, "KILL")?;
    wait_gone(pid, Duration::from_secs(30)).await?;
    // `up` refuses to start a broker while anything answers on its ports,
    // and the kernel may still answer there for a moment after the exit.
    let listeners = guard.kafka_listeners()?;
    let freed =
        wait_for("the broker's ports to close", || {
            let listeners = listeners.clone();
            async move {
                listeners.iter().all(|a| TcpStream::connect_timeout(a, Duration::from_millis(500)).is_err())
            }
        })
        .await?;
    let brokers = run.env.brokers.clone();
    let (up, answered) = tokio::try_join!(
        guard.up(),
        wait_for("the Kafka broker to answer", || broker_answers(brokers.clone()))
    )?;
    control.moved();
    Ok(Fault {
        kind: FaultKind::BrokerKill,
        target: "kafka".into(),
        started: started - t0,
        ended: answered - t0,
        detail: format!(
            "pid {pid}; ports closed after {:.1}s, answering {:.1}s after the kill, `up` done after {:.1}s",
            (freed - started).as_secs_f64(),
            (answered - started).as_secs_f64(),
            (up - started).as_secs_f64()
        ),
        recovered: None,
    })
}

async fn postgres_stop(
    run: &Run,
    guard: &StackGuard,
    control: &Control,
    t0: Instant,
    outage: Duration,
) -> Result<Fault, DrillError> {
    let pid = guard.pid("postgres")?;
    let started = Instant::now();
    tracing::info!(pid, ?outage, "immediate shutdown of Postgres (SIGQUIT to the postmaster)");
    signal(pid, "QUIT")?;
    wait_gone(pid, Duration::from_secs(60)).await?;
    control.pause(outage.saturating_sub(started.elapsed())).await?;
    let url = run.env.postgres_url.clone();
    let (up, answered) =
        tokio::try_join!(guard.up(), wait_for("Postgres to answer", || postgres_answers(url.clone())))?;
    Ok(Fault {
        kind: FaultKind::PostgresStop,
        target: "postgres".into(),
        started: started - t0,
        ended: answered - t0,
        detail: format!(
            "postmaster pid {pid}, SIGQUIT (pg_ctl stop -m immediate); answering {:.1}s after, `up` done after {:.1}s",
            (answered - started).as_secs_f64(),
            (up - started).as_secs_f64()
        ),
        recovered: None,
    })
}

async fn search_stop(
    run: &Run,
    guard: &StackGuard,
    control: &Control,
    t0: Instant,
    outage: Duration,
) -> Result<Fault, DrillError> {
    let pid = guard.pid("search")?;
    let started = Instant::now();
    tracing::info!(pid, ?outage, "SIGSTOP to the search engine");
    guard.set_search_stopped(Some(pid));
    signal(pid, "STOP")?;
    control.pause(outage).await?;
    signal(pid, "CONT")?;
    guard.set_search_stopped(None);
    let resumed = Instant::now();
    let (http, url) = (run.http.clone(), format!("{}/_cluster/health", run.env.elasticsearch_url));
    let answered = wait_for("the search engine to answer", || {
        let (http, url) = (http.clone(), url.clone());
        async move { http.get(&url).send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await?;
    Ok(Fault {
        kind: FaultKind::SearchStop,
        target: "search".into(),
        started: started - t0,
        ended: resumed - t0,
        detail: format!(
            "pid {pid}, SIGSTOP then SIGCONT (no restart); answering {:.1}s after SIGCONT",
            (answered - resumed).as_secs_f64()
        ),
        recovered: None,
    })
}

async fn postgres_cuts(
    proxy: &PgProxy,
    control: &Control,
    t0: Instant,
    outage: Duration,
) -> Result<Vec<Fault>, DrillError> {
    let spacing = (outage / (CUTS + 1)).max(Duration::from_secs(2));
    let mut faults = Vec::new();
    for _ in 0..CUTS {
        control.pause(spacing).await?;
        let started = Instant::now();
        let dropped = proxy.set_down(true);
        tracing::info!(dropped, "Postgres connections cut");
        control.pause(CUT_BLACKOUT).await?;
        proxy.set_down(false);
        faults.push(Fault {
            kind: FaultKind::PostgresCut,
            target: "proxy".into(),
            started: started - t0,
            ended: Instant::now() - t0,
            detail: format!(
                "{dropped} connections dropped, new ones refused for {}s",
                CUT_BLACKOUT.as_secs()
            ),
            recovered: None,
        });
    }
    Ok(faults)
}

/// Extra instances on `ports` join and leave (SIGTERM) every
/// [`STORM_EVERY`] for `len`: join while fewer than all are in, else the
/// oldest leaves.
async fn rebalance_storm(
    run: &Run,
    control: &Control,
    t0: Instant,
    len: Duration,
    ports: &[u16],
) -> Result<(Fault, Vec<String>), DrillError> {
    let started = Instant::now();
    let mut extras: VecDeque<Instance> = VecDeque::new();
    let mut free: Vec<u16> = ports.to_vec();
    let (mut joins, mut leaves, mut n) = (0, 0, 0);
    let mut problems = Vec::new();
    tracing::info!(?len, "rebalance storm");
    while started.elapsed() < len {
        let tick = Instant::now();
        if let Some(port) = free.pop() {
            n += 1;
            extras.push_back(run.spawn(&format!("storm-{n}"), port, "stable", 0.0)?);
            joins += 1;
        } else if let Some(oldest) = extras.pop_front() {
            free.push(leave(oldest, &mut problems, t0).await);
            leaves += 1;
        }
        control.pause((tick + STORM_EVERY).saturating_duration_since(Instant::now())).await?;
    }
    while let Some(extra) = extras.pop_front() {
        leave(extra, &mut problems, t0).await;
        leaves += 1;
    }
    Ok((
        Fault {
            kind: FaultKind::RebalanceStorm,
            target: format!("{} extra", ports.len()),
            started: started - t0,
            ended: Instant::now() - t0,
            detail: format!("{joins} joins, {leaves} leaves (SIGTERM), every {}s", STORM_EVERY.as_secs()),
            recovered: None,
        },
        problems,
    ))
}

/// A storm instance leaves the group (SIGTERM); a failure to leave cleanly
/// is one of the storm's problems. Returns its port, free again.
async fn leave(mut instance: Instance, problems: &mut Vec<String>, t0: Instant) -> u16 {
    if let Err(e) = instance.terminate().await {
        problems.push(format!("storm {} at t+{:.1}s: {e}", instance.label, t0.elapsed().as_secs_f64()));
    }
    instance.port
}

/// Polls `probe` twice a second until it says yes; when it did.
async fn wait_for<F, Fut>(what: &str, mut probe: F) -> Result<Instant, DrillError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if probe().await {
            return Ok(Instant::now());
        }
        if started.elapsed() > RESTART_LIMIT {
            return Err(DrillError::Timeout { what: what.to_owned(), after: RESTART_LIMIT });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The broker answers a metadata request (a fresh client each time, so no
/// connection state is carried over from before the restart; a quiet one,
/// whose refused connections are expected and not logged).
async fn broker_answers(brokers: String) -> bool {
    tokio::task::spawn_blocking(move || {
        ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("group.id", "porttrack-drill-chaos-probe")
            .create_with_context::<_, BaseConsumer<QuietClient>>(QuietClient)
            .is_ok_and(|c| c.fetch_metadata(None, Duration::from_secs(2)).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A Kafka client context that logs nothing (the probe of a broker that is down).
struct QuietClient;

impl ClientContext for QuietClient {
    fn log(&self, _: RDKafkaLogLevel, _: &str, _: &str) {}
    fn error(&self, _: KafkaError, _: &str) {}
}

impl ConsumerContext for QuietClient {}

async fn postgres_answers(url: String) -> bool {
    psql(&url, "SELECT 1").await.is_ok()
}

/// Sends `kill -<sig>` to `pid`.
fn signal(pid: u32, sig: &str) -> Result<(), DrillError> {
    let status = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .map_err(io(format!("kill -{sig} {pid}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(DrillError::Stack(format!("kill -{sig} {pid} exited with {status}")))
    }
}

/// A process is gone when `/proc` no longer has it, or it is a zombie
/// holding no files. (A multithreaded process's leader shows as a zombie
/// while its other threads still exit and its sockets are still open: a
/// restart then finds the broker's port taken.)
fn running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let zombie = stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
    !zombie || std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|mut fds| fds.next().is_some())
}

async fn wait_gone(pid: u32, limit: Duration) -> Result<(), DrillError> {
    let started = Instant::now();
    while running(pid) {
        if started.elapsed() > limit {
            return Err(DrillError::Timeout { what: format!("pid {pid} to exit"), after: limit });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The local stack's services as the drill hurts them, and the promise to
/// leave them running: [`StackGuard::restore`] (called on every path of
/// [`chaos`]) resumes a frozen search engine and runs `deploy/local/up`;
/// dropped without it (a panic, a cancelled future), it does the same,
/// blocking.
#[derive(Debug)]
struct StackGuard {
    root: PathBuf,
    state: PathBuf,
    logs: PathBuf,
    ups: AtomicU64,
    search_stopped: Mutex<Option<u32>>,
    restored: AtomicBool,
}

impl StackGuard {
    fn new(logs: &Path) -> StackGuard {
        let root = repo_root();
        // As deploy/local/lib.sh finds it.
        let state = match std::env::var_os("PORTTRACK_STACK_DIR") {
            Some(dir) => root.join(dir),
            None => root.join(".porttrack/stack"),
        };
        StackGuard {
            root,
            state,
            logs: logs.to_path_buf(),
            ups: AtomicU64::new(0),
            search_stopped: Mutex::new(None),
            restored: AtomicBool::new(false),
        }
    }

    /// The pid of the stack's `service`, checked against its command line
    /// as `lib.sh` does (a stale pidfile must not get another process killed).
    fn pid(&self, service: &str) -> Result<u32, DrillError> {
        let (pidfile, marker) = match service {
            "postgres" => {
                let datadir = std::fs::read_to_string(self.state.join("postgres.datadir"))
                    .map_err(io("reading postgres.datadir"))?;
                (PathBuf::from(datadir.trim()).join("postmaster.pid"), "postgres")
            }
            "kafka" => (self.state.join("kafka.pid"), "kafka.Kafka"),
            "search" => (self.state.join("search.pid"), "PortTrackSearchNode"),
            other => return Err(DrillError::Stack(format!("no pid for service {other}"))),
        };
        let text = std::fs::read_to_string(&pidfile).map_err(io(format!("reading {}", pidfile.display())))?;
        let pid: u32 = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| DrillError::Stack(format!("{} holds no pid", pidfile.display())))?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmdline).contains(marker) || !running(pid) {
            return Err(DrillError::Stack(format!(
                "{service} is not running (pid {pid} from {})",
                pidfile.display()
            )));
        }
        Ok(pid)
    }

    /// The addresses in the broker's `listeners=` (client and controller).
    fn kafka_listeners(&self) -> Result<Vec<SocketAddr>, DrillError> {
        let props = self.state.join("kafka/server.properties");
        let text = std::fs::read_to_string(&props).map_err(io(format!("reading {}", props.display())))?;
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("listeners="))
            .ok_or_else(|| DrillError::Stack(format!("no listeners= in {}", props.display())))?;
        let mut out = Vec::new();
        for listener in line.split(',') {
            let address = listener.rsplit_once("://").map_or(listener, |(_, a)| a);
            out.extend(address.to_socket_addrs().map_err(io(format!("resolving {address}")))?);
        }
        Ok(out)
    }

    fn set_search_stopped(&self, pid: Option<u32>) {
        *self.search_stopped.lock().unwrap_or_else(PoisonError::into_inner) = pid;
    }

    /// Runs `deploy/local/up` (its output in the run's directory); when it finished.
    async fn up(&self) -> Result<Instant, DrillError> {
        let n = self.ups.fetch_add(1, Ordering::SeqCst) + 1;
        let (root, log) = (self.root.clone(), self.logs.join(format!("up-{n}.log")));
        tokio::task::spawn_blocking(move || run_up(&root, &log))
            .await
            .map_err(|e| DrillError::Stack(format!("deploy/local/up task: {e}")))??;
        Ok(Instant::now())
    }

    /// Resumes the search engine if it is frozen and runs `deploy/local/up`.
    async fn restore(&self) -> Result<(), DrillError> {
        self.resume_search();
        self.up().await?;
        self.restored.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn resume_search(&self) {
        let stopped = self.search_stopped.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(pid) = stopped
            && let Err(e) = signal(pid, "CONT")
        {
            tracing::error!(pid, error = %e, "resuming the search engine");
        }
    }
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        if self.restored.load(Ordering::SeqCst) {
            return;
        }
        self.resume_search();
        if let Err(e) = run_up(&self.root, &self.logs.join("up-restore.log")) {
            tracing::error!(error = %e, "restoring the local stack; run deploy/local/up");
        }
    }
}

fn run_up(root: &Path, log: &Path) -> Result<(), DrillError> {
    let file = std::fs::File::create(log).map_err(io(format!("creating {}", log.display())))?;
    let err = file.try_clone().map_err(io("duplicating a log handle"))?;
    let status = Command::new(root.join("deploy/local/up"))
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(io("running deploy/local/up"))?;
    if status.success() {
        Ok(())
    } else {
        Err(DrillError::Stack(format!("deploy/local/up failed ({status}):\n{}", tail(log))))
    }
}

/// A TCP relay to Postgres that can drop every connection it carries.
///
/// Blocking sockets and two threads per connection: the instances open a
/// few pooled connections each, and the relay must not depend on the tokio
/// runtime's I/O features. While it is down, new connections are accepted
/// and closed at once (a refused connection, as the client sees it).
#[derive(Debug)]
pub(crate) struct PgProxy {
    pub(crate) addr: SocketAddr,
    shared: Arc<ProxyShared>,
}

#[derive(Debug, Default)]
struct ProxyShared {
    down: AtomicBool,
    closed: AtomicBool,
    next: AtomicU64,
    /// Both ends of every open connection, for cutting them.
    conns: Mutex<HashMap<u64, (TcpStream, TcpStream)>>,
}

impl ProxyShared {
    fn forget(&self, id: u64) {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }
}

impl PgProxy {
    pub(crate) fn start(target: SocketAddr) -> Result<PgProxy, DrillError> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io("binding the Postgres proxy"))?;
        let addr = listener.local_addr().map_err(io("the Postgres proxy's address"))?;
        let shared = Arc::new(ProxyShared::default());
        let accept = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("drill-pg-proxy".into())
            .spawn(move || accept_loop(&listener, target, &accept))
            .map_err(io("spawning the Postgres proxy"))?;
        Ok(PgProxy { addr, shared })
    }

    /// Down: drops every open connection (both ends) and refuses new ones
    /// until set up again. Returns how many connections were dropped.
    pub(crate) fn set_down(&self, down: bool) -> usize {
        self.shared.down.store(down, Ordering::SeqCst);
        if !down {
            return 0;
        }
        let conns: Vec<(TcpStream, TcpStream)> = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, c)| c)
            .collect();
        for (a, b) in &conns {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
        conns.len()
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.set_down(true);
        // Wakes the accept loop so it sees `closed`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn accept_loop(listener: &TcpListener, target: SocketAddr, shared: &Arc<ProxyShared>) {
    for inbound in listener.incoming() {
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
        let Ok(inbound) = inbound else { continue };
        if shared.down.load(Ordering::SeqCst) {
            continue; // dropped: refused while down
        }
        let Ok(outbound) = TcpStream::connect_timeout(&target, Duration::from_secs(3)) else { continue };
        let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
        let id = shared.next.fetch_add(1, Ordering::SeqCst);
        let (Ok(a), Ok(b), Ok(c), Ok(d)) =
            (inbound.try_clone(), outbound.try_clone(), inbound.try_clone(), outbound.try_clone())
        else {
            continue;
        };
        shared.conns.lock().unwrap_or_else(PoisonError::into_inner).insert(id, (a, b));
        for (mut from, mut to) in [(inbound, outbound), (d, c)] {
            let shared = Arc::clone(shared);
            let _ = std::thread::Builder::new().name("drill-pg-relay".into()).spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
                // One direction ended (or was cut): end the connection.
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                shared.forget(id);
            });
        }
    }
}

/// The byte range of `host:port` in a `postgres://[user@]host:port/db` URL.
fn address_range(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let from = rest[..end].rfind('@').map_or(0, |at| at + 1);
    Some((start + from, start + end))
}

/// The Postgres server's socket address in `url`.
fn pg_address(url: &str) -> Result<SocketAddr, DrillError> {
    let (from, to) = address_range(url)
        .ok_or_else(|| DrillError::Stack(format!("no host:port in the Postgres URL {url}")))?;
    let host = &url[from..to];
    let host = if host.contains(':') { host.to_owned() } else { format!("{host}:5432") };
    host.to_socket_addrs()
        .map_err(io(format!("resolving {host}")))?
        .next()
        .ok_or_else(|| DrillError::Stack(format!("{host} resolves to nothing")))
}

/// `url` with its `host:port` replaced by `address`.
fn with_address(url: &str, address: &str) -> Result<String, DrillError> {
    let (from, to) = address_range(url)
        .ok_or_else(|| DrillError::Stack(format!("no host:port in the Postgres URL {url}")))?;
    Ok(format!("{}{address}{}", &url[..from], &url[to..]))
}

/// A few random numbers without another dependency (which instance to kill).
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn from_clock() -> XorShift {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        // SplitMix64 of the clock: xorshift's first outputs from a seed with
        // few bits set are far from random.
        let mut z = nanos.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// The derived tables compared, as (table, key expression over `t`, the
/// row query `t`). Every column but `port_calls.updated_at` (wall clock);
/// no `went_silent` anomalies (dated at a watermark, see the module docs).
const DERIVED: [(&str, &str, &str); 3] = [
    (
        "port_calls",
        "t.id",
        "SELECT id, mmsi, phase, phase_rank, last_event_time, arrived_at, arrival_observed, anchored_at, \
         waiting_time_s, berth, berthed_at, unberthed_at, service_time_s, departed_at, teu_loaded, \
         teu_discharged, services FROM port_calls",
    ),
    ("zone_events", "concat_ws('|', t.mmsi, t.zone, t.event_time, t.direction)", "SELECT * FROM zone_events"),
    (
        "anomalies",
        "concat_ws('|', t.mmsi, t.event_time, t.kind)",
        "SELECT * FROM anomalies WHERE kind <> 'went_silent'",
    ),
];

/// Reads every [`DERIVED`] table from both databases and compares them.
async fn compare_derived(chaos_db: &str, clean_db: &str) -> Result<Vec<DerivedComparison>, DrillError> {
    let mut out = Vec::new();
    for (table, key, query) in DERIVED {
        let sql = format!("SELECT concat_ws(E'\\t', {key}, row_to_json(t)::text) FROM ({query}) t");
        let chaos = psql(chaos_db, &sql).await?;
        let clean = psql(clean_db, &sql).await?;
        out.push(compare_rows(table, &chaos, &clean));
    }
    Ok(out)
}

/// Compares two tables given as `key<TAB>row` lines.
fn compare_rows(table: &str, chaos: &str, clean: &str) -> DerivedComparison {
    let rows = |text: &str| -> BTreeMap<String, String> {
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.split_once('\t')
                    .map_or((l.to_owned(), String::new()), |(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect()
    };
    let (chaos, clean) = (rows(chaos), rows(clean));
    let mut c = DerivedComparison {
        table: table.to_owned(),
        chaos_rows: chaos.len() as u64,
        clean_rows: clean.len() as u64,
        ..DerivedComparison::default()
    };
    let short = |s: &str| {
        if s.chars().count() > 400 {
            format!("{}…", s.chars().take(400).collect::<String>())
        } else {
            s.to_owned()
        }
    };
    for (key, row) in &chaos {
        match clean.get(key) {
            None => {
                c.only_chaos += 1;
                if c.examples.len() < 5 {
                    c.examples.push(format!("only in the chaos run: {}", short(row)));
                }
            }
            Some(other) if other != row => {
                c.differing += 1;
                if c.examples.len() < 5 {
                    c.examples.push(format!("chaos {} / clean {}", short(row), short(other)));
                }
            }
            Some(_) => {}
        }
    }
    for (key, row) in &clean {
        if !chaos.contains_key(key) {
            c.only_clean += 1;
            if c.examples.len() < 5 {
                c.examples.push(format!("only in the clean run: {}", short(row)));
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::{Read, Write};

    use super::*;

    #[test]
    fn the_postgres_address_is_swapped_for_the_proxy() {
        let url = "postgres://postgres@127.0.0.1:5432/drill_x?sslmode=require";
        assert_eq!(pg_address(url).unwrap(), "127.0.0.1:5432".parse().unwrap());
        assert_eq!(
            with_address(url, "127.0.0.1:41000").unwrap(),
            "postgres://postgres@127.0.0.1:41000/drill_x?sslmode=require"
        );
        assert_eq!(with_address("postgres://u:p@db:6543/x", "h:1").unwrap(), "postgres://u:p@h:1/x");
        assert!(with_address("not a url", "h:1").is_err());
    }

    #[test]
    fn derived_rows_are_compared_by_key() {
        let chaos = "a\t{\"x\":1}\nb\t{\"x\":2}\nc\t{\"x\":3}\n";
        let clean = "a\t{\"x\":1}\nb\t{\"x\":20}\nd\t{\"x\":4}\n";
        let c = compare_rows("t", chaos, clean);
        assert_eq!((c.chaos_rows, c.clean_rows, c.only_chaos, c.only_clean, c.differing), (3, 3, 1, 1, 1));
        assert!(!c.is_equal());
        assert_eq!(c.examples.len(), 3, "{:?}", c.examples);
        assert!(compare_rows("t", chaos, chaos).is_equal());
    }

    #[test]
    fn the_proxy_relays_and_a_cut_drops_the_connection() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = server.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in server.incoming() {
                let mut stream = stream.unwrap();
                std::thread::spawn(move || {
                    let mut buf = [0_u8; 64];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let proxy = PgProxy::start(target).unwrap();
        let mut client = TcpStream::connect(proxy.addr).unwrap();
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        client.write_all(b"ping").unwrap();
        let mut buf = [0_u8; 4];
        client.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");

        assert_eq!(proxy.set_down(true), 1, "the one open connection was dropped");
        let mut rest = Vec::new();
        let n = client.read_to_end(&mut rest).unwrap_or(0);
        assert_eq!(n, 0, "the client sees its connection end");
        // While down, a new connection is closed at once.
        let mut refused = TcpStream::connect(proxy.addr).unwrap();
        refused.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(refused.read(&mut buf).unwrap_or(0), 0);

        proxy.set_down(false);
        let mut again = TcpStream::connect(proxy.addr).unwrap();
        again.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        again.write_all(b"pong").unwrap();
        again.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
    }
}
