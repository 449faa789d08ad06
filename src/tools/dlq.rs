//! `porttrack dlq replay`: dead letters back to their source topic, once the
//! cause is fixed.
//!
//! A dead letter (see `porttrack_ingest::dead_letter`) keeps the refused
//! record's key, payload and headers, and adds headers saying why it was
//! refused (`porttrack.error.*`) and where it was read (`porttrack.source.*`).
//! Replaying one produces that record again where it came from, so the
//! pipeline consumes it like any new record: after a decoder fix, a schema
//! registered late, a sink mapping corrected.
//!
//! # What is read
//!
//! The dead-letter topic of `[kafka]`, with its brokers and `properties` (so
//! TLS and SASL settings apply), by a consumer that is *assigned* its
//! partitions and commits nothing: a replay leaves no trace in any group, and
//! running it twice reads the same letters twice. Each partition is read from
//! the beginning up to the end offset taken at start (`read_committed`), one
//! partition after the other, so the run terminates even while the pipeline
//! keeps writing letters, in particular letters for records this replay just
//! sent that fail again, and its order (and so what `--limit` keeps) is the
//! same on every run.
//!
//! # What is sent, and what is not
//!
//! [`decide`] is the whole policy, a pure function of the letter and the
//! configuration. In order, a letter is skipped when
//!
//! 1. a `--class` or `--source-topic` filter leaves it out (`filtered_out`);
//! 2. it carries a processor output, not a consumed record
//!    (`porttrack.derived.kind`): there is no source record to produce again
//!    (`derived_output`);
//! 3. it names no source topic (`no_source_topic`), or one `kafka.topics`
//!    does not list (`source_topic_not_configured`): the topic's format is
//!    what says whether the payload may go there;
//! 4. its payload is the decoded event re-encoded as JSON
//!    (`porttrack.payload.reencoded = json`) and the target topic is not a
//!    JSON topic: an NMEA or Avro topic's decoder would refuse it
//!    (`reencoded_for_non_json_topic`; another value of the header:
//!    `unknown_reencoding`);
//! 5. with `--to-topic`, the payload does not fit that topic's format and
//!    event kind (`incompatible_target`);
//! 6. `--limit` letters were already chosen (`limit_reached`).
//!
//! Everything else goes to its source topic, *on its source partition*
//! (`porttrack.source.partition`): topics are co-partitioned by MMSI and the
//! processors keep per-partition state, and the fragments of one NMEA
//! message must meet in one partition to be reassembled; re-partitioning by
//! key could put a vessel's record where its other records are not, if the
//! original producer's partitioner differs from librdkafka's. (With
//! `--to-topic` naming another topic, the key decides.) The record keeps the
//! original key and payload byte for byte, and the original headers in order
//! minus PortTrack's `porttrack.error.*`, `porttrack.source.*` and
//! `porttrack.payload.*`, plus [`REPLAY_OF`] = `<dead-letter topic>/<partition>/<offset>`
//! (replacing one from an earlier replay), so a reader can tell a replayed
//! record and deduplicate a replay run twice.
//!
//! The producer is idempotent with `acks=all`, every send is awaited (in
//! batches, in order) and the producer is flushed at the end; the run reports
//! each letter that could not be sent and the binary exits non-zero. A replay
//! is at-least-once: run it again after a failure and the letters that did go
//! go again (with the same [`REPLAY_OF`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::future::join_all;
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::config::{Format, TopicConfig};
use porttrack_ingest::dead_letter::headers;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

pub use porttrack_ingest::dead_letter::headers::REPLAY_OF;

/// Header prefixes that describe the letter, not the record: dropped on replay.
const LETTER_HEADER_PREFIXES: [&str; 3] = ["porttrack.error.", "porttrack.source.", "porttrack.payload."];

/// Letters listed one per line in a dry run (filtered-out letters are not
/// listed: with a narrow filter they would hide the others); the summary
/// counts the rest.
pub const LISTED_LETTERS: usize = 200;

/// Send failures reported one per line; the summary counts the rest.
const LISTED_FAILURES: u64 = 50;

/// Sends awaited together (in order, one batch after the other).
const SEND_BATCH: usize = 512;

/// Metadata and watermark requests give up after this long.
const KAFKA_TIMEOUT: Duration = Duration::from_secs(15);

/// Reading gives up when no letter, end of partition or error came for this
/// long (librdkafka retries an unreachable broker forever on its own).
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Printed where a letter lacks a source topic or a class.
const NONE: &str = "(none)";

/// One record read from the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// Its partition in the dead-letter topic.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
    /// The original key.
    pub key: Option<Vec<u8>>,
    /// The original payload (or, re-encoded, the decoded event as JSON).
    pub payload: Option<Vec<u8>>,
    /// Every header, in order: the original ones, then PortTrack's.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Letter {
    /// The letter a consumed message holds.
    pub fn from_message(message: &impl Message) -> Letter {
        let headers = message
            .headers()
            .map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec))).collect())
            .unwrap_or_default();
        Letter {
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
        }
    }

    /// Whether header `name` is present, and its value: the *last* one, since
    /// PortTrack appends its headers after the original ones, which may
    /// carry the same name (a record that was itself a dead letter elsewhere).
    fn header_entry(&self, name: &str) -> Option<Option<&[u8]>> {
        self.headers.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_deref())
    }

    /// The last value of header `name` as text (absent, null or not UTF-8: `None`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_entry(name).flatten().and_then(|v| std::str::from_utf8(v).ok())
    }

    /// `porttrack.error.class`.
    pub fn class(&self) -> Option<&str> {
        self.header(headers::ERROR_CLASS).filter(|c| !c.is_empty())
    }

    /// `porttrack.source.topic`.
    pub fn source_topic(&self) -> Option<&str> {
        self.header(headers::SOURCE_TOPIC).filter(|t| !t.is_empty())
    }

    /// `porttrack.source.partition`.
    pub fn source_partition(&self) -> Option<i32> {
        self.header(headers::SOURCE_PARTITION)?.parse().ok().filter(|p| *p >= 0)
    }

    /// `<topic>/<partition>/<offset>` of the source record, for listings.
    fn source_coordinates(&self) -> String {
        let part = |name| self.header(name).unwrap_or("?");
        match self.source_topic() {
            Some(t) => format!("{t}/{}/{}", part(headers::SOURCE_PARTITION), part(headers::SOURCE_OFFSET)),
            None => NONE.to_owned(),
        }
    }

    /// The summary row it counts in: (source topic, class).
    fn row(&self) -> (String, String) {
        (self.source_topic().unwrap_or(NONE).to_owned(), self.class().unwrap_or(NONE).to_owned())
    }
}

/// Which letters an operator asked for; an empty list admits everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Error classes (`porttrack.error.class`), any of.
    pub classes: Vec<String>,
    /// Source topics (`porttrack.source.topic`), any of.
    pub source_topics: Vec<String>,
}

impl Filter {
    /// Whether `letter` passes both lists.
    pub fn admits(&self, letter: &Letter) -> bool {
        let any = |wanted: &[String], value: Option<&str>| {
            wanted.is_empty() || value.is_some_and(|v| wanted.iter().any(|w| w == v))
        };
        any(&self.classes, letter.class()) && any(&self.source_topics, letter.source_topic())
    }
}

/// Where a letter goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The topic.
    pub topic: String,
    /// The partition; `None` lets the producer partition by key.
    pub partition: Option<i32>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.partition {
            Some(p) => write!(f, "{}/{p}", self.topic),
            None => write!(f, "{} (partition by key)", self.topic),
        }
    }
}

/// Why a letter is not replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A `--class` or `--source-topic` filter left it out.
    FilteredOut,
    /// It carries a processor output of this kind, not a consumed record.
    DerivedOutput {
        /// `porttrack.derived.kind`.
        kind: String,
    },
    /// It has no `porttrack.source.topic`.
    NoSourceTopic,
    /// Its source topic is not in `kafka.topics`, so its format is unknown.
    SourceTopicNotConfigured {
        /// The source topic.
        topic: String,
    },
    /// Its payload was re-encoded as JSON and the target topic is not JSON.
    ReencodedForNonJsonTopic {
        /// The target topic.
        topic: String,
        /// Its format.
        format: Format,
    },
    /// `porttrack.payload.reencoded` holds a value other than `json`.
    UnknownReencoding {
        /// The value.
        value: String,
    },
    /// `--to-topic` names a topic whose format or event kind the payload does not have.
    IncompatibleTarget {
        /// What the payload is (`json/position`, `nmea`, …).
        payload: String,
        /// The target topic.
        topic: String,
        /// What the target takes.
        takes: String,
    },
    /// `--limit` letters were already chosen.
    LimitReached,
}

impl SkipReason {
    /// The stable name, as counted in the summary.
    pub fn label(&self) -> &'static str {
        match self {
            SkipReason::FilteredOut => "filtered_out",
            SkipReason::DerivedOutput { .. } => "derived_output",
            SkipReason::NoSourceTopic => "no_source_topic",
            SkipReason::SourceTopicNotConfigured { .. } => "source_topic_not_configured",
            SkipReason::ReencodedForNonJsonTopic { .. } => "reencoded_for_non_json_topic",
            SkipReason::UnknownReencoding { .. } => "unknown_reencoding",
            SkipReason::IncompatibleTarget { .. } => "incompatible_target",
            SkipReason::LimitReached => "limit_reached",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = self.label();
        match self {
            SkipReason::FilteredOut | SkipReason::NoSourceTopic | SkipReason::LimitReached => {
                f.write_str(label)
            }
            SkipReason::DerivedOutput { kind } => write!(f, "{label} ({kind})"),
            SkipReason::SourceTopicNotConfigured { topic } => {
                write!(f, "{label} ({topic} is not in kafka.topics)")
            }
            SkipReason::ReencodedForNonJsonTopic { topic, format } => {
                write!(f, "{label} (JSON payload, {topic} is {})", format.as_str())
            }
            SkipReason::UnknownReencoding { value } => write!(f, "{label} ({value:?})"),
            SkipReason::IncompatibleTarget { payload, topic, takes } => {
                write!(f, "{label} ({payload} payload, {topic} takes {takes})")
            }
        }
    }
}

/// What happens to one letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It goes to this target.
    Replay(Target),
    /// It stays where it is.
    Skip(SkipReason),
}

/// `json/position`, `nmea`, `avro`: what a topic takes.
fn shape(format: Format, event: Option<porttrack_ingest::config::EventName>) -> String {
    match (format, event) {
        (Format::Json, Some(e)) => {
            let name = serde_json::to_value(e).ok().and_then(|v| v.as_str().map(str::to_owned));
            format!("json/{}", name.unwrap_or_default())
        }
        (format, _) => format.as_str().to_owned(),
    }
}

/// Where `letter` goes, or why it stays: the replay policy (see the module
/// documentation for the order of the checks).
///
/// `topics` is `kafka.topics`; `to_topic` overrides the target topic (it must
/// be one of `topics`: its format decides what may go there).
pub fn decide(
    letter: &Letter,
    topics: &[TopicConfig],
    filter: &Filter,
    to_topic: Option<&TopicConfig>,
) -> Decision {
    if !filter.admits(letter) {
        return Decision::Skip(SkipReason::FilteredOut);
    }
    if let Some(kind) = letter.header_entry(headers::DERIVED_KIND) {
        let kind = kind.map(String::from_utf8_lossy).unwrap_or_default().into_owned();
        return Decision::Skip(SkipReason::DerivedOutput { kind });
    }
    let Some(source) = letter.source_topic() else {
        return Decision::Skip(SkipReason::NoSourceTopic);
    };
    let Some(source) = topics.iter().find(|t| t.name == source) else {
        return Decision::Skip(SkipReason::SourceTopicNotConfigured { topic: source.to_owned() });
    };
    let reencoded = match letter.header_entry(headers::REENCODED) {
        None => false,
        Some(Some(b"json")) => true,
        Some(value) => {
            let value = value.map(String::from_utf8_lossy).unwrap_or_default().into_owned();
            return Decision::Skip(SkipReason::UnknownReencoding { value });
        }
    };
    let target = to_topic.unwrap_or(source);
    if reencoded && target.format != Format::Json {
        return Decision::Skip(SkipReason::ReencodedForNonJsonTopic {
            topic: target.name.clone(),
            format: target.format,
        });
    }
    if target.name != source.name {
        // The payload is what the source topic holds, or JSON of the source
        // topic's event kind when re-encoded; re-encoded from an NMEA or Avro
        // topic, its kind is unknown, so it fits no JSON topic for certain.
        let payload = match (reencoded, source.format) {
            (false, format) => shape(format, source.event),
            (true, Format::Json) => shape(Format::Json, source.event),
            (true, _) => "json (event kind unknown)".to_owned(),
        };
        let takes = shape(target.format, target.event);
        if payload != takes {
            return Decision::Skip(SkipReason::IncompatibleTarget {
                payload,
                topic: target.name.clone(),
                takes,
            });
        }
        return Decision::Replay(Target { topic: target.name.clone(), partition: None });
    }
    Decision::Replay(Target { topic: source.name.clone(), partition: letter.source_partition() })
}

/// [`decide`] for a run of letters, with `--limit`.
#[derive(Debug)]
pub struct Planner<'a> {
    topics: &'a [TopicConfig],
    filter: &'a Filter,
    to_topic: Option<&'a TopicConfig>,
    limit: Option<u64>,
    chosen: u64,
}

impl<'a> Planner<'a> {
    /// A planner over `topics` (`kafka.topics`) choosing at most `limit` letters.
    pub fn new(
        topics: &'a [TopicConfig],
        filter: &'a Filter,
        to_topic: Option<&'a TopicConfig>,
        limit: Option<u64>,
    ) -> Self {
        Planner { topics, filter, to_topic, limit, chosen: 0 }
    }

    /// The next letter's fate: [`decide`]'s, until `limit` letters were chosen.
    pub fn decide(&mut self, letter: &Letter) -> Decision {
        match decide(letter, self.topics, self.filter, self.to_topic) {
            Decision::Replay(_) if self.limit.is_some_and(|l| self.chosen >= l) => {
                Decision::Skip(SkipReason::LimitReached)
            }
            Decision::Replay(target) => {
                self.chosen += 1;
                Decision::Replay(target)
            }
            skip => skip,
        }
    }
}

/// The headers a replayed record carries: the original ones in order,
/// without the letter's own (`porttrack.error.*`, `porttrack.source.*`,
/// `porttrack.payload.*`) and without an earlier replay's [`REPLAY_OF`],
/// then [`REPLAY_OF`] naming this letter.
pub fn replay_headers(letter: &Letter, dead_letter_topic: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out: Vec<(String, Option<Vec<u8>>)> = letter
        .headers
        .iter()
        .filter(|(k, _)| k != REPLAY_OF && !LETTER_HEADER_PREFIXES.iter().any(|p| k.starts_with(p)))
        .cloned()
        .collect();
    let of = format!("{dead_letter_topic}/{}/{}", letter.partition, letter.offset);
    out.push((REPLAY_OF.to_owned(), Some(of.into_bytes())));
    out
}

/// Options of `porttrack dlq replay`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    /// List what would go; send nothing.
    pub dry_run: bool,
    /// Which letters.
    pub filter: Filter,
    /// At most this many letters go.
    pub limit: Option<u64>,
    /// Send to this configured topic instead of each letter's source topic.
    pub to_topic: Option<String>,
}

/// One row of the summary: the letters of one source topic and class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// Letters that would go (dry run) or were sent and acknowledged.
    pub replayed: u64,
    /// Letters whose send failed.
    pub failed: u64,
    /// Letters skipped, per [`SkipReason::label`].
    pub skipped: BTreeMap<&'static str, u64>,
}

impl Row {
    fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn add(&mut self, other: &Row) {
        self.replayed += other.replayed;
        self.failed += other.failed;
        for (reason, n) in &other.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
    }
}

/// What a replay did (or, dry, would do), per source topic and class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The dead-letter topic read.
    pub dead_letter_topic: String,
    /// Nothing was sent.
    pub dry_run: bool,
    /// Letters read.
    pub letters: u64,
    /// Per (source topic, class).
    pub rows: BTreeMap<(String, String), Row>,
    /// Filter values no letter had (a typo, or nothing of that kind).
    pub unmatched: Vec<String>,
}

impl Summary {
    fn new(dead_letter_topic: &str, dry_run: bool) -> Self {
        Summary { dead_letter_topic: dead_letter_topic.to_owned(), dry_run, ..Summary::default() }
    }

    fn row(&mut self, row: &(String, String)) -> &mut Row {
        self.rows.entry(row.clone()).or_default()
    }

    /// Every row added up.
    pub fn total(&self) -> Row {
        let mut total = Row::default();
        for row in self.rows.values() {
            total.add(row);
        }
        total
    }

    /// Letters that would go or were sent.
    pub fn replayed(&self) -> u64 {
        self.total().replayed
    }

    /// Letters whose send failed.
    pub fn failed(&self) -> u64 {
        self.total().failed
    }

    /// Notes the filter values no letter read had.
    fn note_unmatched(&mut self, filter: &Filter) {
        let sources: BTreeSet<&str> = self.rows.keys().map(|(s, _)| s.as_str()).collect();
        let classes: BTreeSet<&str> = self.rows.keys().map(|(_, c)| c.as_str()).collect();
        let mut unmatched = Vec::new();
        for class in filter.classes.iter().filter(|c| !classes.contains(c.as_str())) {
            unmatched.push(format!("--class {class}"));
        }
        for topic in filter.source_topics.iter().filter(|t| !sources.contains(t.as_str())) {
            unmatched.push(format!("--source-topic {topic}"));
        }
        self.unmatched = unmatched;
    }
}

fn reasons(row: &Row) -> String {
    row.skipped.iter().map(|(reason, n)| format!("{reason} {n}")).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Summary {
    /// A table: one line per source topic and class, then the total.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.dry_run { "dry run, nothing sent" } else { "replayed" };
        writeln!(f, "dead-letter topic {}: {} letters read ({how})", self.dead_letter_topic, self.letters)?;
        let total = self.total();
        let source_width = self.rows.keys().map(|(s, _)| s.len()).chain(["source topic".len()]).max();
        let class_width = self.rows.keys().map(|(_, c)| c.len()).chain(["class".len()]).max();
        let (sw, cw) = (source_width.unwrap_or_default(), class_width.unwrap_or_default());
        if self.dry_run {
            writeln!(
                f,
                "{:sw$}  {:cw$}  {:>8}  {:>7}  reasons",
                "source topic", "class", "would go", "skipped"
            )?;
        } else {
            writeln!(
                f,
                "{:sw$}  {:cw$}  {:>8}  {:>6}  {:>7}  reasons",
                "source topic", "class", "sent", "failed", "skipped"
            )?;
        }
        let lines = self.rows.iter().map(|((s, c), row)| (s.as_str(), c.as_str(), row));
        for (source, class, row) in lines.chain([("total", "", &total)]) {
            let (skipped, why) = (row.skipped_total(), reasons(row));
            let line = if self.dry_run {
                format!("{source:sw$}  {class:cw$}  {:>8}  {skipped:>7}  {why}", row.replayed)
            } else {
                format!(
                    "{source:sw$}  {class:cw$}  {:>8}  {:>6}  {skipped:>7}  {why}",
                    row.replayed, row.failed
                )
            };
            writeln!(f, "{}", line.trim_end())?;
        }
        for filter in &self.unmatched {
            writeln!(f, "note: {filter} matched no letter")?;
        }
        Ok(())
    }
}

/// The dead-letter reader: the `[kafka]` client settings (TLS, SASL), no
/// commits, committed records only, and an end-of-partition event so a
/// partition whose last offsets are transaction markers still ends.
///
/// librdkafka assigns partitions only to a consumer with a `group.id`; this
/// one is the pipeline's with a suffix (prefixed ACLs keep working) and is
/// never joined or committed to.
fn reader_config(kafka: &KafkaConfig) -> anyhow::Result<ClientConfig> {
    let mut config = kafka.client_config()?;
    config
        .set("group.id", format!("{}-dlq-replay", kafka.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true");
    Ok(config)
}

/// The replay producer: the durable producer's settings, idempotent with
/// `acks=all` whatever `properties` say, so a retried send neither
/// duplicates nor reorders a partition's records.
fn producer_config(kafka: &KafkaConfig) -> anyhow::Result<ClientConfig> {
    let mut config = kafka.durable_producer_config()?;
    config.set("enable.idempotence", "true").set("acks", "all");
    Ok(config)
}

/// `(partition, end offset)` of every non-empty partition of `topic`, in
/// partition order, as the broker answers now.
fn partition_ends(consumer: &StreamConsumer, topic: &str) -> anyhow::Result<Vec<(i32, i64)>> {
    // Blocking calls, made once before anything else runs on this task.
    let metadata = consumer
        .fetch_metadata(Some(topic), KAFKA_TIMEOUT)
        .with_context(|| format!("reading the metadata of dead-letter topic {topic}"))?;
    let found = metadata.topics().iter().find(|t| t.name() == topic);
    let found = found.with_context(|| format!("dead-letter topic {topic}: not in the broker's metadata"))?;
    if let Some(err) = found.error() {
        anyhow::bail!("dead-letter topic {topic}: {}", RDKafkaErrorCode::from(err));
    }
    let mut ends = Vec::new();
    for partition in found.partitions() {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition.id(), KAFKA_TIMEOUT)
            .with_context(|| format!("reading the offsets of {topic}/{}", partition.id()))?;
        if high > low {
            ends.push((partition.id(), high));
        }
    }
    ends.sort_unstable();
    Ok(ends)
}

/// Reads the letters of one partition after the other, each up to its end
/// offset taken at start.
struct LetterReader<'c> {
    consumer: &'c StreamConsumer,
    topic: &'c str,
    /// Partitions still to read, with their end offsets.
    pending: std::vec::IntoIter<(i32, i64)>,
    /// The partition being read.
    current: Option<(i32, i64)>,
    /// The last error librdkafka reported (it retries on its own), for the stall message.
    last_error: Option<KafkaError>,
}

impl<'c> LetterReader<'c> {
    fn new(consumer: &'c StreamConsumer, topic: &'c str, ends: Vec<(i32, i64)>) -> Self {
        LetterReader { consumer, topic, pending: ends.into_iter(), current: None, last_error: None }
    }

    /// The next letter, or `None` once every partition was read to its end.
    async fn next(&mut self) -> anyhow::Result<Option<Letter>> {
        let mut progress = Instant::now();
        loop {
            let (partition, end) = match self.current {
                Some(current) => current,
                None => {
                    let Some(next) = self.pending.next() else { return Ok(None) };
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition_offset(self.topic, next.0, Offset::Beginning)?;
                    self.consumer
                        .assign(&tpl)
                        .with_context(|| format!("assigning {}/{}", self.topic, next.0))?;
                    self.current = Some(next);
                    progress = Instant::now();
                    next
                }
            };
            let wait = STALL_TIMEOUT.saturating_sub(progress.elapsed());
            let Ok(received) = tokio::time::timeout(wait, self.consumer.recv()).await else {
                let why = self.last_error.as_ref().map(|e| format!(" (last error: {e})")).unwrap_or_default();
                anyhow::bail!(
                    "no progress reading {}/{partition} for {}s{why}",
                    self.topic,
                    STALL_TIMEOUT.as_secs()
                );
            };
            match received {
                Err(KafkaError::PartitionEOF(p)) if p == partition => self.current = None,
                // A message or event of the previous assignment, still queued.
                Err(KafkaError::PartitionEOF(_)) => {}
                Ok(m) if m.topic() != self.topic || m.partition() != partition => {}
                // Written after the start: not this run's (it may be a letter
                // for a record this very run sent, refused again).
                Ok(m) if m.offset() >= end => self.current = None,
                Ok(m) => {
                    if m.offset() + 1 >= end {
                        self.current = None;
                    }
                    return Ok(Some(Letter::from_message(&m)));
                }
                // Consumer errors are informational: librdkafka recovers on
                // its own; a lasting one ends the run as a stall.
                Err(e) => self.last_error = Some(e),
            }
        }
    }
}

/// A letter on its way.
struct Outgoing {
    /// `<dead-letter topic>/<partition>/<offset>`.
    letter: String,
    row: (String, String),
    target: Target,
    key: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Sends `batch`, awaiting every delivery report, and counts the outcomes.
async fn send_batch(
    producer: &FutureProducer,
    batch: &mut Vec<Outgoing>,
    summary: &mut Summary,
    mut err: impl Write,
) -> std::io::Result<()> {
    let sends = batch.iter().map(|o| {
        let mut kafka_headers = OwnedHeaders::new_with_capacity(o.headers.len());
        for (key, value) in &o.headers {
            kafka_headers = kafka_headers.insert(Header { key, value: value.as_deref() });
        }
        let mut record = FutureRecord::<[u8], [u8]>::to(&o.target.topic).headers(kafka_headers);
        if let Some(partition) = o.target.partition {
            record = record.partition(partition);
        }
        if let Some(key) = &o.key {
            record = record.key(key.as_slice());
        }
        if let Some(payload) = &o.payload {
            record = record.payload(payload.as_slice());
        }
        // Waits while librdkafka's queue is full; delivery then has
        // `message.timeout.ms` (the durable producer's 30 s).
        producer.send(record, KAFKA_TIMEOUT)
    });
    let results = join_all(sends).await;
    for (outgoing, result) in batch.drain(..).zip(results) {
        let row = summary.row(&outgoing.row);
        match result {
            Ok(_) => row.replayed += 1,
            Err((e, _)) => {
                row.failed += 1;
                let failed = summary.failed();
                if failed <= LISTED_FAILURES {
                    writeln!(err, "{}: not sent to {}: {e}", outgoing.letter, outgoing.target)?;
                } else if failed == LISTED_FAILURES + 1 {
                    writeln!(err, "(further failures are only counted)")?;
                }
            }
        }
    }
    Ok(())
}

/// Reads the dead-letter topic of `kafka` and replays what [`decide`] lets
/// go (in a dry run: lists each letter's fate on `out`, but for those a
/// filter left out, up to [`LISTED_LETTERS`] lines). Letters that could not be sent are reported on
/// `err` and counted in the summary; an error is returned only when the
/// topic cannot be read or the producer not created or flushed.
pub async fn replay(
    kafka: &KafkaConfig,
    options: &ReplayOptions,
    mut out: impl Write,
    mut err: impl Write,
) -> anyhow::Result<Summary> {
    let to_topic = match &options.to_topic {
        Some(name) => Some(kafka.topic(name).with_context(|| {
            format!("--to-topic {name}: not in kafka.topics (its format says what may go there)")
        })?),
        None => None,
    };
    let dlq = kafka.dead_letter_topic.as_str();
    // A wrong password or CA fails here with librdkafka's reason rather
    // than as a timeout. Unlike the pipeline, a one-off tool does not wait
    // for a broker that is down.
    if porttrack_ingest::preflight(kafka, KAFKA_TIMEOUT)? == porttrack_ingest::Preflight::Unreachable {
        anyhow::bail!("no Kafka broker at {} answered within {}s", kafka.brokers, KAFKA_TIMEOUT.as_secs());
    }
    let consumer: StreamConsumer =
        reader_config(kafka)?.create().context("creating the dead-letter reader")?;
    let ends = partition_ends(&consumer, dlq)?;
    let producer: Option<FutureProducer> = if options.dry_run {
        None
    } else {
        Some(producer_config(kafka)?.create().context("creating the replay producer")?)
    };
    let mut reader = LetterReader::new(&consumer, dlq, ends);
    let mut planner = Planner::new(&kafka.topics, &options.filter, to_topic, options.limit);
    let mut summary = Summary::new(dlq, options.dry_run);
    let mut batch = Vec::new();
    let (mut listed, mut unlisted) = (0, 0);
    while let Some(letter) = reader.next().await? {
        summary.letters += 1;
        let decision = planner.decide(&letter);
        let row = letter.row();
        let listable = options.dry_run && decision != Decision::Skip(SkipReason::FilteredOut);
        if listable && listed == LISTED_LETTERS {
            unlisted += 1;
        } else if listable {
            listed += 1;
            let fate = match &decision {
                Decision::Replay(target) => format!("would go to {target}"),
                Decision::Skip(reason) => format!("skip {reason}"),
            };
            writeln!(
                out,
                "{dlq}/{}/{}  {}  from {}  {fate}",
                letter.partition,
                letter.offset,
                row.1,
                letter.source_coordinates()
            )?;
        }
        match decision {
            Decision::Skip(reason) => *summary.row(&row).skipped.entry(reason.label()).or_default() += 1,
            Decision::Replay(_) if options.dry_run => summary.row(&row).replayed += 1,
            Decision::Replay(target) => {
                batch.push(Outgoing {
                    letter: format!("{dlq}/{}/{}", letter.partition, letter.offset),
                    headers: replay_headers(&letter, dlq),
                    row,
                    target,
                    key: letter.key,
                    payload: letter.payload,
                });
            }
        }
        if let Some(producer) = &producer
            && batch.len() >= SEND_BATCH
        {
            send_batch(producer, &mut batch, &mut summary, &mut err).await?;
        }
    }
    if let Some(producer) = &producer {
        send_batch(producer, &mut batch, &mut summary, &mut err).await?;
        // Every send was acknowledged or failed already; this only returns
        // once librdkafka holds nothing more.
        producer.flush(KAFKA_TIMEOUT).context("flushing the replay producer")?;
    }
    if unlisted > 0 {
        writeln!(out, "… and {unlisted} more letters, counted below")?;
    }
    summary.note_unmatched(&options.filter);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use porttrack_ingest::config::EventName;

    fn topics() -> Vec<TopicConfig> {
        vec![
            TopicConfig::json("ais.positions", EventName::Position),
            TopicConfig::json("ais.static", EventName::Static),
            TopicConfig { name: "ais.nmea".into(), format: Format::Nmea, event: None },
        ]
    }

    /// A letter as `DeadLetter::kafka_headers` writes it: `originals`, then PortTrack's.
    fn letter(source: &str, class: &str, originals: &[(&str, &str)]) -> Letter {
        let mut headers: Vec<(String, Option<Vec<u8>>)> =
            originals.iter().map(|(k, v)| ((*k).to_owned(), Some(v.as_bytes().to_vec()))).collect();
        for (k, v) in [
            (headers::ERROR_CLASS, class),
            (headers::ERROR_POLICY, "reject"),
            (headers::ERROR_MESSAGE, "something was wrong"),
            (headers::SOURCE_TOPIC, source),
            (headers::SOURCE_PARTITION, "3"),
            (headers::SOURCE_OFFSET, "41"),
        ] {
            headers.push((k.to_owned(), Some(v.as_bytes().to_vec())));
        }
        Letter {
            partition: 1,
            offset: 7,
            key: Some(b"244123456".to_vec()),
            payload: Some(b"{}".to_vec()),
            headers,
        }
    }

    fn go(topic: &str, partition: Option<i32>) -> Decision {
        Decision::Replay(Target { topic: topic.into(), partition })
    }

    fn skip_label(decision: &Decision) -> Option<&'static str> {
        match decision {
            Decision::Skip(reason) => Some(reason.label()),
            Decision::Replay(_) => None,
        }
    }

    #[test]
    fn a_plain_letter_goes_back_to_its_source_partition() {
        let d = decide(&letter("ais.positions", "malformed_json", &[]), &topics(), &Filter::default(), None);
        assert_eq!(d, go("ais.positions", Some(3)));
    }

    #[test]
    fn a_letter_without_a_readable_source_partition_is_partitioned_by_key() {
        let mut l = letter("ais.nmea", "unsupported_message", &[]);
        for (k, v) in &mut l.headers {
            if k == headers::SOURCE_PARTITION {
                *v = Some(b"-1".to_vec());
            }
        }
        assert_eq!(decide(&l, &topics(), &Filter::default(), None), go("ais.nmea", None));
    }

    #[test]
    fn derived_outputs_are_never_replayed() {
        let l = letter("ais.positions", "sink_rejected", &[(headers::DERIVED_KIND, "zone_event")]);
        assert_eq!(
            decide(&l, &topics(), &Filter::default(), None),
            Decision::Skip(SkipReason::DerivedOutput { kind: "zone_event".into() })
        );
        // Not even to a topic named explicitly.
        let topics = topics();
        let to = &topics[0];
        assert_eq!(skip_label(&decide(&l, &topics, &Filter::default(), Some(to))), Some("derived_output"));
    }

    #[test]
    fn a_reencoded_payload_goes_only_to_a_json_topic() {
        let to_nmea = letter("ais.nmea", "sink_rejected", &[(headers::REENCODED, "json")]);
        assert_eq!(
            decide(&to_nmea, &topics(), &Filter::default(), None),
            Decision::Skip(SkipReason::ReencodedForNonJsonTopic {
                topic: "ais.nmea".into(),
                format: Format::Nmea
            })
        );
        let to_json = letter("ais.positions", "sink_rejected", &[(headers::REENCODED, "json")]);
        assert_eq!(decide(&to_json, &topics(), &Filter::default(), None), go("ais.positions", Some(3)));
        let odd = letter("ais.positions", "sink_rejected", &[(headers::REENCODED, "avro")]);
        assert_eq!(
            skip_label(&decide(&odd, &topics(), &Filter::default(), None)),
            Some("unknown_reencoding")
        );
    }

    #[test]
    fn letters_without_a_known_source_topic_stay() {
        let mut nowhere = letter("x", "malformed_json", &[]);
        nowhere.headers.retain(|(k, _)| k != headers::SOURCE_TOPIC);
        assert_eq!(
            decide(&nowhere, &topics(), &Filter::default(), None),
            Decision::Skip(SkipReason::NoSourceTopic)
        );
        let unknown = letter("old.topic", "malformed_json", &[]);
        assert_eq!(
            decide(&unknown, &topics(), &Filter::default(), None),
            Decision::Skip(SkipReason::SourceTopicNotConfigured { topic: "old.topic".into() })
        );
    }

    #[test]
    fn filters_come_first_and_admit_any_listed_value() {
        let filter = Filter {
            classes: vec!["mmsi_invalid".into(), "malformed_json".into()],
            source_topics: vec!["ais.positions".into()],
        };
        let ok = letter("ais.positions", "malformed_json", &[]);
        assert_eq!(decide(&ok, &topics(), &filter, None), go("ais.positions", Some(3)));
        let other_class = letter("ais.positions", "lat_out_of_range", &[]);
        let other_topic = letter("ais.static", "mmsi_invalid", &[]);
        // Filtered out before it is found unreplayable: the operator did not ask.
        let derived = letter("ais.positions", "sink_rejected", &[(headers::DERIVED_KIND, "port_call")]);
        for l in [other_class, other_topic, derived] {
            assert_eq!(decide(&l, &topics(), &filter, None), Decision::Skip(SkipReason::FilteredOut));
        }
        let mut classless = letter("ais.positions", "", &[]);
        classless.headers.retain(|(k, _)| k != headers::ERROR_CLASS);
        assert_eq!(decide(&classless, &topics(), &filter, None), Decision::Skip(SkipReason::FilteredOut));
    }

    /// PortTrack's headers come after the original ones, so a record that
    /// carried a header of the same name (it was a dead letter elsewhere)
    /// does not decide where it goes.
    #[test]
    fn the_last_porttrack_header_wins_over_an_original_of_the_same_name() {
        let l = letter("ais.positions", "malformed_json", &[(headers::SOURCE_TOPIC, "ais.nmea")]);
        assert_eq!(l.source_topic(), Some("ais.positions"));
        assert_eq!(decide(&l, &topics(), &Filter::default(), None), go("ais.positions", Some(3)));
    }

    #[test]
    fn to_topic_takes_only_payloads_of_its_format_and_kind() {
        let topics = topics();
        let (positions, statics, nmea) = (&topics[0], &topics[1], &topics[2]);
        let json = letter("ais.positions", "malformed_json", &[]);
        let mut moved = topics.clone();
        moved.push(TopicConfig::json("ais.positions.v2", EventName::Position));
        let v2 = &moved[3];
        assert_eq!(decide(&json, &moved, &Filter::default(), Some(v2)), go("ais.positions.v2", None));
        assert_eq!(
            decide(&json, &topics, &Filter::default(), Some(statics)),
            Decision::Skip(SkipReason::IncompatibleTarget {
                payload: "json/position".into(),
                topic: "ais.static".into(),
                takes: "json/static".into()
            })
        );
        assert_eq!(
            skip_label(&decide(&json, &topics, &Filter::default(), Some(nmea))),
            Some("incompatible_target")
        );
        // Named explicitly, the source topic itself keeps the source partition.
        assert_eq!(decide(&json, &topics, &Filter::default(), Some(positions)), go("ais.positions", Some(3)));
        // Re-encoded from NMEA: JSON of an unknown kind, so no JSON topic for certain.
        let reencoded = letter("ais.nmea", "sink_rejected", &[(headers::REENCODED, "json")]);
        assert_eq!(
            skip_label(&decide(&reencoded, &topics, &Filter::default(), Some(positions))),
            Some("incompatible_target")
        );
    }

    #[test]
    fn limit_counts_only_letters_that_go() {
        let topics = topics();
        let filter = Filter::default();
        let mut planner = Planner::new(&topics, &filter, None, Some(2));
        let good = letter("ais.positions", "malformed_json", &[]);
        let derived = letter("ais.positions", "sink_rejected", &[(headers::DERIVED_KIND, "anomaly")]);
        let fates: Vec<Option<&str>> = [&good, &derived, &good, &derived, &good]
            .iter()
            .map(|l| skip_label(&planner.decide(l)))
            .collect();
        assert_eq!(
            fates,
            [None, Some("derived_output"), None, Some("derived_output"), Some("limit_reached")]
        );
    }

    #[test]
    fn replayed_headers_are_the_originals_in_order_plus_replay_of() {
        let mut l = letter(
            "ais.positions",
            "malformed_json",
            &[("traceparent", "00-abc-def-01"), ("x-sensor", "a"), ("x-sensor", "b"), (REPLAY_OF, "old/0/1")],
        );
        l.headers.insert(2, ("x-null".into(), None));
        l.headers.push((headers::REENCODED.into(), Some(b"json".to_vec())));
        let expect: Vec<(String, Option<Vec<u8>>)> = vec![
            ("traceparent".into(), Some(b"00-abc-def-01".to_vec())),
            ("x-sensor".into(), Some(b"a".to_vec())),
            ("x-null".into(), None),
            ("x-sensor".into(), Some(b"b".to_vec())),
            (REPLAY_OF.into(), Some(b"porttrack.dead-letter/1/7".to_vec())),
        ];
        assert_eq!(replay_headers(&l, "porttrack.dead-letter"), expect);
    }

    #[test]
    fn the_summary_counts_each_source_and_class_with_its_skip_reasons() {
        let mut s = Summary::new("dlq", true);
        let key = |s: &str, c: &str| (s.to_owned(), c.to_owned());
        s.letters = 4;
        s.row(&key("ais.positions", "malformed_json")).replayed = 2;
        s.row(&key("ais.nmea", "sink_rejected")).skipped.insert("reencoded_for_non_json_topic", 1);
        s.row(&key("ais.positions", "sink_rejected")).skipped.insert("derived_output", 1);
        s.note_unmatched(&Filter {
            classes: vec!["malformed_jsn".into()],
            source_topics: vec!["ais.nmea".into()],
        });
        let text = s.to_string();
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(lines[0].join(" "), "dead-letter topic dlq: 4 letters read (dry run, nothing sent)");
        assert_eq!(lines[2], ["ais.nmea", "sink_rejected", "0", "1", "reencoded_for_non_json_topic", "1"]);
        assert_eq!(lines[3], ["ais.positions", "malformed_json", "2", "0"]);
        assert_eq!(lines[4], ["ais.positions", "sink_rejected", "0", "1", "derived_output", "1"]);
        assert_eq!(
            lines[5],
            ["total", "2", "2", "derived_output", "1,", "reencoded_for_non_json_topic", "1"]
        );
        assert_eq!(lines[6].join(" "), "note: --class malformed_jsn matched no letter");
        assert_eq!(lines.len(), 7, "{text}");
    }
}
