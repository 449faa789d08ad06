//! Memory over a long run at half the capacity, and through a Postgres
//! outage.
//!
//! The pipeline writes to Postgres through [`Proxy`], a TCP relay the bench
//! can cut: while it is down, open connections are dropped and new ones
//! refused, as a network partition or a database restart looks to the
//! pipeline. Simulated positions are produced at a steady rate throughout.
//! RSS (this process: the pipeline, librdkafka and the producer thread) is
//! sampled twice a second, and beside it the heap the program holds
//! (jemalloc's `stats.allocated`, [`porttrack::alloc`]): RSS also moves
//! with what the allocator keeps cached, the heap only with what the code
//! keeps, so a leak shows in the heap's slope. The backlog is sampled with
//! them, because a pipeline that falls behind holds more without leaking:
//! librdkafka prefetches up to `queued.max.messages.kbytes` for a consumer
//! that lags. It is counted twice: records handed to the producer but not
//! yet committed, and of those the records the pipeline has consumed (its
//! batches in flight, and finished ones waiting for the next checkpoint),
//! so the rest are in the producer, the broker or librdkafka's prefetch
//! queue.
//!
//! * the steady part, from 10% to 50% of the run, gives the slopes (a
//!   least-squares fit, MB per hour), which must be flat;
//! * then Postgres is cut for `PORTTRACK_BENCH_OUTAGE_SECONDS`: the source
//!   pauses when its in-flight batches are full, so RSS must stay bounded
//!   (its peak is reported beside the steady level) and everything produced
//!   is committed after the catch-up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use porttrack_ingest::config::{EventName, TopicConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::support::{self, Stack};

/// A TCP relay to Postgres that can be cut.
struct Proxy {
    addr: SocketAddr,
    down: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy listener");
        let addr = listener.local_addr().expect("proxy address");
        let (down, cut) = (Arc::new(AtomicBool::new(false)), Arc::new(Notify::new()));
        let (d, c) = (Arc::clone(&down), Arc::clone(&cut));
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: refused while the outage lasts
                }
                let c = Arc::clone(&c);
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        () = c.notified() => {} // cut: both ends dropped
                    }
                });
            }
        });
        Proxy { addr, down, cut }
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut.notify_waiters();
        }
    }
}

/// What the soak measured.
pub(crate) struct Soak {
    pub(crate) rate: u64,
    pub(crate) seconds: u64,
    pub(crate) outage_seconds: u64,
    pub(crate) records: u64,
    /// The process's resident set.
    pub(crate) rss: Level,
    /// The heap the program holds (jemalloc's `stats.allocated`).
    pub(crate) heap: Level,
    /// Records produced and not yet committed.
    pub(crate) behind: Level,
    /// Records consumed and not yet committed.
    pub(crate) in_flight: Level,
    /// The longest time the committed count did not move, s.
    pub(crate) longest_commit_pause: f64,
}

/// One figure sampled over the soak: MB for memory, records for backlogs.
pub(crate) struct Level {
    /// At the start and end of the steady part.
    pub(crate) steady: (f64, f64),
    /// Least-squares slope over the steady part, per hour.
    pub(crate) slope_per_hour: f64,
    /// Peak during the outage and the catch-up after it.
    pub(crate) outage_peak: f64,
    /// When everything produced was committed.
    pub(crate) end: f64,
}

impl Level {
    fn of(steady: &[(f64, f64)], outage_peak: f64, end: f64) -> Level {
        Level {
            steady: (steady.first().map_or(0.0, |s| s.1), steady.last().map_or(0.0, |s| s.1)),
            slope_per_hour: slope_per_hour(steady),
            outage_peak,
            end,
        }
    }
}

fn slope_per_hour(samples: &[(f64, f64)]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mt, mr) =
        (samples.iter().map(|s| s.0).sum::<f64>() / n, samples.iter().map(|s| s.1).sum::<f64>() / n);
    let cov: f64 = samples.iter().map(|(t, r)| (t - mt) * (r - mr)).sum();
    let var: f64 = samples.iter().map(|(t, _)| (t - mt).powi(2)).sum();
    if var == 0.0 { 0.0 } else { cov / var * 3600.0 }
}

pub(crate) fn measure(
    rt: &tokio::runtime::Runtime,
    stack: &Stack,
    partitions: i32,
    rate: u64,
    seconds: u64,
    outage: u64,
) -> Soak {
    let records = rate * seconds;
    let topic = support::unique("bench-soak");
    let dlq = support::unique("bench-soak-dlq");
    rt.block_on(support::create_topics(&stack.brokers, &[(&topic, partitions), (&dlq, 1)]));
    let db = rt.block_on(crate::runs::database(stack, "bench_soak"));
    let target: SocketAddr = "127.0.0.1:5432".parse().expect("postgres address");
    let proxy = rt.block_on(Proxy::start(target));
    let through_proxy = db.replace("127.0.0.1:5432", &proxy.addr.to_string());
    assert_ne!(through_proxy, db, "the stack's Postgres URL names 127.0.0.1:5432");
    let config = crate::runs::config(
        stack,
        vec![TopicConfig::json(&topic, EventName::Position)],
        &dlq,
        crate::runs::Sinks::Postgres(through_proxy),
    );
    let pipeline = rt.block_on(crate::runs::start(&config));
    let status = pipeline.status();
    let sent = Arc::new(AtomicU64::new(0));
    let producer = crate::runs::steady_positions(stack, &topic, rate, records, 5_000, 11, Arc::clone(&sent));

    let started = Instant::now();
    let mb = || crate::cpu::rss() as f64 / 1e6;
    let heap_mb = || crate::cpu::heap() as f64 / 1e6;
    let (steady_from, outage_at) = (seconds as f64 * 0.1, seconds as f64 * 0.5);
    // Each figure's samples over the steady part and its peak through the
    // outage: RSS, heap, records behind the producer, records in flight.
    let mut steady: [Vec<(f64, f64)>; 4] = Default::default();
    let (mut peaks, mut outage_started) = ([0.0_f64; 4], None::<Instant>);
    let (mut last_committed, mut last_move, mut longest_pause) = (0, Instant::now(), Duration::ZERO);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let t = started.elapsed().as_secs_f64();
        let committed = status.committed.load(Ordering::Relaxed);
        let backlog = |count: u64| count.saturating_sub(committed) as f64;
        let now = [mb(), heap_mb(), backlog(sent.load(Ordering::Relaxed)), backlog(status.consumed())];
        if committed != last_committed {
            longest_pause = longest_pause.max(last_move.elapsed());
            (last_committed, last_move) = (committed, Instant::now());
        }
        if (steady_from..outage_at).contains(&t) {
            steady.iter_mut().zip(now).for_each(|(samples, v)| samples.push((t, v)));
        }
        if t >= outage_at && outage_started.is_none() {
            proxy.set_down(true);
            outage_started = Some(Instant::now());
        }
        if let Some(at) = outage_started {
            peaks.iter_mut().zip(now).for_each(|(peak, v)| *peak = peak.max(v));
            if at.elapsed() >= Duration::from_secs(outage) {
                proxy.set_down(false);
            }
        }
        if producer.is_finished() && committed >= records {
            break;
        }
        assert!(t < seconds as f64 * 3.0 + 600.0, "soak stalled: {committed} of {records} committed");
    }
    longest_pause = longest_pause.max(last_move.elapsed());
    let report = producer.join().expect("producer thread");
    assert_eq!(report.acked, records, "every record acknowledged");
    let (end, heap_end) = (mb(), heap_mb());
    rt.block_on(pipeline.stop()).expect("stop");
    let [rss, heap, behind, in_flight] = steady;
    Soak {
        rate,
        seconds,
        outage_seconds: outage,
        records,
        rss: Level::of(&rss, peaks[0], end),
        heap: Level::of(&heap, peaks[1], heap_end),
        behind: Level::of(&behind, peaks[2], 0.0),
        in_flight: Level::of(&in_flight, peaks[3], 0.0),
        longest_commit_pause: longest_pause.as_secs_f64(),
    }
}
