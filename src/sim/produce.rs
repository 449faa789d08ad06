//! Driving the simulation into Kafka.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use porttrack_ingest::KafkaConfig;
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};

use super::{Expect, NmeaReceiver, SimRecord, Simulator, Stream};

/// How to produce.
#[derive(Debug, Clone)]
pub struct ProduceOptions {
    /// Topic for position reports.
    pub positions_topic: String,
    /// Topic for static/voyage data; `None` skips those records.
    pub static_topic: Option<String>,
    /// Topic for weather observations (JSON); `None` skips them.
    pub weather_topic: Option<String>,
    /// Topic for cargo events (Avro); `None` skips them.
    pub cargo_topic: Option<String>,
    /// Topic for port operations events (JSON); `None` skips them.
    pub ops_topic: Option<String>,
    /// Some vessels report over raw NMEA instead of JSON ([`NmeaReceiver`]).
    pub nmea: Option<NmeaOptions>,
    /// Records per second across both streams; `None` is as fast as possible.
    pub rate: Option<f64>,
    /// Stop after this many position records (valid and invalid).
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Keep every acknowledged record's stream, partition, offset and ground truth.
    pub record_acks: bool,
    /// Give every record a W3C `traceparent` header, as an instrumented
    /// sensor gateway would (on by default). Benchmarks that compare the
    /// pipeline with a plain consumer turn it off, so both read the same
    /// bytes.
    pub trace_context: bool,
}

impl ProduceOptions {
    /// Every stream to the topics `kafka` consumes: positions and static data
    /// to the JSON topics of their kind, weather and operations likewise,
    /// cargo to the first Avro topic.
    pub fn for_config(kafka: &KafkaConfig) -> anyhow::Result<ProduceOptions> {
        use porttrack_ingest::config::{EventName, Format};
        Ok(ProduceOptions {
            positions_topic: kafka
                .json_topic_for(EventName::Position)
                .context("kafka.topics has no JSON position topic for the simulator")?
                .to_owned(),
            static_topic: kafka.json_topic_for(EventName::Static).map(str::to_owned),
            weather_topic: kafka.json_topic_for(EventName::Weather).map(str::to_owned),
            cargo_topic: kafka.topics.iter().find(|t| t.format == Format::Avro).map(|t| t.name.clone()),
            ops_topic: kafka.json_topic_for(EventName::PortOps).map(str::to_owned),
            nmea: None,
            rate: None,
            count: None,
            duration: None,
            record_acks: false,
            trace_context: true,
        })
    }

    /// Positions only, to `topic` (benchmarks and tests of the position path).
    pub fn positions_only(topic: impl Into<String>) -> ProduceOptions {
        ProduceOptions {
            positions_topic: topic.into(),
            static_topic: None,
            weather_topic: None,
            cargo_topic: None,
            ops_topic: None,
            nmea: None,
            rate: None,
            count: None,
            duration: None,
            record_acks: false,
            trace_context: true,
        }
    }
}

/// Which vessels report over NMEA, and where to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmeaOptions {
    /// The NMEA topic.
    pub topic: String,
    /// One vessel in this many (by MMSI) reports over NMEA only.
    pub one_in: u32,
}

/// An acknowledged record.
#[derive(Debug, Clone, PartialEq)]
pub struct AckedRecord {
    /// The stream (and so the topic) it was sent to.
    pub stream: Stream,
    /// Partition it landed in.
    pub partition: i32,
    /// Offset it was given.
    pub offset: i64,
    /// What the pipeline must make of it.
    pub expect: Expect,
}

/// What a [`produce`] run did.
#[derive(Debug, Default)]
pub struct ProduceReport {
    /// Records handed to the producer.
    pub sent: u64,
    /// Records the broker acknowledged.
    pub acked: u64,
    /// Records that failed delivery.
    pub failed: u64,
    /// Acknowledged records of every stream, if asked for (in acknowledgement order).
    pub acks: Vec<AckedRecord>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

struct SimContext {
    record: bool,
    acks: Mutex<Vec<AckedRecord>>,
    acked: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for SimContext {}

impl ProducerContext for SimContext {
    type DeliveryOpaque = Box<(Stream, Expect)>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent: Box<(Stream, Expect)>) {
        match result {
            Ok(message) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
                if self.record {
                    let (stream, expect) = *sent;
                    let ack = AckedRecord {
                        stream,
                        partition: message.partition(),
                        offset: message.offset(),
                        expect,
                    };
                    self.acks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(ack);
                }
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "simulated record not delivered");
            }
        }
    }
}

/// How long the simulator waits for the brokers' first answer before it
/// produces anyway.
const PREFLIGHT_PATIENCE: Duration = Duration::from_secs(10);

/// Produces records from `sim` until a limit in `options` is reached or
/// `stop` is set, then flushes. Blocking: call it from a thread or
/// `spawn_blocking`.
///
/// The simulation never runs ahead of the wall clock: when its next event is
/// in the future the producer waits for it, so a run that starts in the past
/// catches up as fast as `rate` allows and then continues live.
pub fn produce(
    kafka: &KafkaConfig,
    sim: &mut Simulator,
    options: &ProduceOptions,
    stop: &AtomicBool,
    progress: Option<&AtomicU64>,
) -> anyhow::Result<ProduceReport> {
    let context = SimContext {
        record: options.record_acks,
        acks: Mutex::new(Vec::new()),
        acked: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    };
    // A wrong password or CA is reported now, not as 60 s message timeouts.
    if porttrack_ingest::preflight(kafka, PREFLIGHT_PATIENCE)? == porttrack_ingest::Preflight::Unreachable {
        tracing::warn!(brokers = %kafka.brokers, "Kafka does not answer yet; producing anyway (librdkafka retries)");
    }
    let mut config = kafka.client_config()?;
    config
        .set("client.id", "porttrack-sim")
        .set("acks", "all")
        .set("linger.ms", "10")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "500000")
        // Long enough to ride out a broker restart (a few seconds here);
        // a record still unacknowledged after a minute is a failure.
        .set("message.timeout.ms", "60000");
    kafka.apply_properties(&mut config)?;
    let producer: ThreadedProducer<SimContext> =
        config.create_with_context(context).context("creating the simulator's producer")?;

    let started = Instant::now();
    let mut sent = 0_u64;
    let mut positions = 0_u64;
    let mut receiver = options.nmea.as_ref().map(|n| NmeaReceiver::new(n.one_in));
    // Records of one simulated record still to send (a type 5's fragments).
    let mut outbox: VecDeque<SimRecord> = VecDeque::new();
    loop {
        // Never between the fragments of one message: a half-sent message
        // would be a fragment that never completes.
        if outbox.is_empty()
            && (stop.load(Ordering::Relaxed)
                || options.count.is_some_and(|c| positions >= c)
                || options.duration.is_some_and(|d| started.elapsed() >= d))
        {
            break;
        }
        if let Some(rate) = options.rate {
            let due = started + Duration::from_secs_f64(sent as f64 / rate.max(0.001));
            let now = Instant::now();
            if due > now + Duration::from_millis(1) {
                std::thread::sleep((due - now).min(Duration::from_millis(100)));
                continue;
            }
        }
        if let Some(next) = sim.peek_time().filter(|_| outbox.is_empty()) {
            let ahead = next - Utc::now();
            if ahead > chrono::Duration::zero() {
                std::thread::sleep(ahead.to_std().unwrap_or_default().min(Duration::from_millis(100)));
                continue;
            }
        }
        let record = match outbox.pop_front() {
            Some(r) => r,
            None => {
                let record = sim.next_record();
                if record.stream == Stream::Positions {
                    positions += 1;
                }
                match &mut receiver {
                    Some(rx) if rx.hears(&record) => {
                        outbox.extend(rx.encode(record));
                        continue;
                    }
                    _ => record,
                }
            }
        };
        let topic = match record.stream {
            Stream::Positions => Some(options.positions_topic.as_str()),
            Stream::Static => options.static_topic.as_deref(),
            Stream::Weather => options.weather_topic.as_deref(),
            Stream::Cargo => options.cargo_topic.as_deref(),
            Stream::Ops => options.ops_topic.as_deref(),
            Stream::Nmea => options.nmea.as_ref().map(|n| n.topic.as_str()),
        };
        let Some(topic) = topic else { continue };
        // Every record starts a trace, as an instrumented sensor gateway would:
        // the pipeline links its batch spans to these (W3C trace context).
        let mut pending = BaseRecord::with_opaque_to(topic, Box::new((record.stream, record.expect)))
            .key(&record.key)
            .payload(&record.payload);
        if record.stream == Stream::Nmea {
            // No tag block: the receiver's time stamp is the record's.
            pending = pending.timestamp(record.event_time.timestamp_millis());
        }
        if options.trace_context {
            let traceparent =
                format!("00-{:032x}-{:016x}-01", rand::random::<u128>() | 1, rand::random::<u64>() | 1);
            pending = pending.headers(
                OwnedHeaders::new().insert(Header { key: "traceparent", value: Some(traceparent.as_str()) }),
            );
        }
        loop {
            match producer.send(pending) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    pending = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err((e, _)) => return Err(e).context("producing a simulated record"),
            }
        }
        sent += 1;
        if let Some(p) = progress {
            p.store(sent, Ordering::Relaxed);
        }
    }
    // Every record is acknowledged or failed within message.timeout.ms.
    producer.flush(Duration::from_secs(90)).context("flushing simulated records")?;
    let context = producer.context();
    let acks = std::mem::take(&mut *context.acks.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    Ok(ProduceReport {
        sent,
        acked: context.acked.load(Ordering::Relaxed),
        failed: context.failed.load(Ordering::Relaxed),
        acks,
        elapsed: started.elapsed(),
    })
}
