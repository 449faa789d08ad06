//! The Jepsen-style check: reading a run's results back (the group's
//! committed offsets, the dead-letter topic, Postgres `positions` and
//! `vessel_state`, the search indices) and [`check`], the verdict, a pure
//! function of the producer's acknowledgements and what was read back (the
//! rules are in the crate documentation).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use porttrack::sim::{AckedRecord, EventKey, Expect, ProduceReport, Stream};
use porttrack_ingest::dead_letter::headers;
use porttrack_schemas::{Origin, RejectClass};
use rdkafka::consumer::Consumer;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::error::DrillError;
use crate::load::{OffsetReader, expected_next};
use crate::report::CheckReport;
use crate::run::Run;
use crate::stack::{es_ids, es_refresh, kafka_reader, parse_rows, psql};

impl Run {
    /// Reads everything back and runs the check.
    pub(crate) async fn verify(&self, report: &ProduceReport) -> Result<CheckReport, DrillError> {
        let committed = OffsetReader::new(self)?.fetch().await?;
        let min_letters = report.acks.iter().filter(|a| matches!(a.expect, Expect::Invalid(_))).count();
        let letters = read_dead_letters(&self.env.brokers, &self.dlq, min_letters).await?;
        // The event families only: derived outputs have ids of their own.
        let pattern = ["positions", "static", "weather-obs", "cargo", "port-ops"]
            .map(|family| format!("{}-{family}-*", self.es_prefix))
            .join(",");
        // The answer's status is not judged: the paging below fails loudly enough.
        es_refresh(&self.http, &self.env.elasticsearch_url, &pattern).await?;
        let es_ids = es_ids(&self.http, &self.env.elasticsearch_url, &pattern).await?;
        let rows = psql(
            &self.db_url,
            "SELECT source_topic, source_partition, source_offset, source_index FROM positions",
        )
        .await?;
        let positions = parse_rows(&rows, |f| {
            Some(StoredPosition {
                topic: (*f.first()?).to_owned(),
                partition: f.get(1)?.parse().ok()?,
                offset: f.get(2)?.parse().ok()?,
                index: f.get(3)?.parse().ok()?,
            })
        })?;
        let rows = psql(
            &self.db_url,
            "SELECT mmsi, source_topic, source_partition, source_offset FROM vessel_state",
        )
        .await?;
        let vessel_state = parse_rows(&rows, |f| {
            Some(VesselStateRow {
                mmsi: f.first()?.parse().ok()?,
                topic: (*f.get(1)?).to_owned(),
                partition: f.get(2)?.parse().ok()?,
                offset: f.get(3)?.parse().ok()?,
            })
        })?;
        let rows =
            psql(&self.db_url, &format!("SELECT mmsi, {} FROM vessels", epoch_ms("last_report"))).await?;
        let vessels = parse_rows(&rows, |f| Some((f.first()?.parse().ok()?, f.get(1)?.parse().ok()?)))?;
        let mut events = Vec::new();
        for (table, key) in [
            ("weather", format!("'weather', station, {}", epoch_ms("event_time"))),
            ("cargo_events", "'cargo', event_id, 0".to_owned()),
            ("port_ops_events", "'ops', event_id, 0".to_owned()),
        ] {
            let sql = format!("SELECT {key}, source_topic, source_partition, source_offset FROM {table}");
            let rows = psql(&self.db_url, &sql).await?;
            events.extend(parse_rows(&rows, |f| {
                let id = (*f.get(1)?).to_owned();
                let key = match *f.first()? {
                    "weather" => EventKey::Weather {
                        station: id,
                        at: DateTime::from_timestamp_millis(f.get(2)?.parse().ok()?)?,
                    },
                    "cargo" => EventKey::Cargo(id),
                    _ => EventKey::Ops(id),
                };
                Some(StoredEvent {
                    key,
                    topic: (*f.get(3)?).to_owned(),
                    partition: f.get(4)?.parse().ok()?,
                    offset: f.get(5)?.parse().ok()?,
                })
            })?);
        }
        let observed = Observed {
            topics: self.topics.0.clone(),
            committed,
            es_ids,
            positions,
            vessel_state,
            vessels,
            events,
            dead_letters: letters,
        };
        Ok(check(&report.acks, &observed))
    }
}

/// `column` (a `timestamptz`) as whole epoch milliseconds in SQL.
fn epoch_ms(column: &str) -> String {
    format!("round(extract(epoch FROM {column}) * 1000)::bigint")
}

/// Every dead letter of the run: reads from the beginning until at least
/// `at_least` arrived and nothing new came for 3 s (the instances are
/// stopped, so nothing more is coming; the quiet period covers fetch latency).
async fn read_dead_letters(
    brokers: &str,
    topic: &str,
    at_least: usize,
) -> Result<Vec<DeadLetterSeen>, DrillError> {
    let consumer = kafka_reader(brokers, &format!("{topic}-reader"))?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Beginning)
            .map_err(|e| DrillError::Stack(format!("reading {topic}: {e}")))?;
        consumer.assign(&tpl).map_err(|e| DrillError::Stack(format!("reading {topic}: {e}")))?;
        let started = std::time::Instant::now();
        let mut quiet_since = std::time::Instant::now();
        let mut out = Vec::new();
        while out.len() < at_least || quiet_since.elapsed() < Duration::from_secs(3) {
            if quiet_since.elapsed() > Duration::from_secs(30) || started.elapsed() > Duration::from_secs(300)
            {
                break;
            }
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    quiet_since = std::time::Instant::now();
                    let mut seen = DeadLetterSeen::default();
                    if let Some(h) = m.headers() {
                        for h in h.iter() {
                            let value = String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned();
                            match h.key {
                                headers::SOURCE_TOPIC => seen.topic = value,
                                headers::SOURCE_PARTITION => seen.partition = value.parse().unwrap_or(-1),
                                headers::SOURCE_OFFSET => seen.offset = value.parse().unwrap_or(-1),
                                headers::ERROR_CLASS => seen.class = value,
                                _ => {}
                            }
                        }
                    }
                    out.push(seen);
                }
                // Connection events (a broker restarting, "all brokers
                // down") are reported here too; the client reconnects by
                // itself and the quiet-period limit bounds the wait.
                Some(Err(e)) => tracing::warn!(%topic, error = %e, "reading dead letters"),
                None => {}
            }
        }
        Ok(out)
    })
    .await
    .map_err(|e| DrillError::Stack(format!("dead-letter reader task: {e}")))?
}

/// A `positions` row's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredPosition {
    /// `source_topic`.
    pub topic: String,
    /// `source_partition`.
    pub partition: i32,
    /// `source_offset`.
    pub offset: i64,
    /// `source_index` (0 for JSON positions).
    pub index: i16,
}

/// A `vessel_state` row's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VesselStateRow {
    /// The vessel.
    pub mmsi: u32,
    /// `source_topic` of the position it holds.
    pub topic: String,
    /// `source_partition` of the position it holds.
    pub partition: i32,
    /// `source_offset` of the position it holds.
    pub offset: i64,
}

/// A `weather`, `cargo_events` or `port_ops_events` row: its natural key and
/// the coordinates of the record it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Station and time, or the event id.
    pub key: EventKey,
    /// `source_topic`.
    pub topic: String,
    /// `source_partition`.
    pub partition: i32,
    /// `source_offset`.
    pub offset: i64,
}

/// A dead letter's identity and class, from its headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterSeen {
    /// `porttrack.source.topic`.
    pub topic: String,
    /// `porttrack.source.partition`.
    pub partition: i32,
    /// `porttrack.source.offset`.
    pub offset: i64,
    /// `porttrack.error.class`.
    pub class: String,
}

/// What was read back after a drill.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The run's topics, by the stream that fed each.
    pub topics: Vec<(Stream, String)>,
    /// The group's committed offsets per topic (by its stream) and partition.
    pub committed: HashMap<(Stream, i32), i64>,
    /// Search-engine document ids of the run's event indices.
    pub es_ids: Vec<String>,
    /// Postgres `positions` rows.
    pub positions: Vec<StoredPosition>,
    /// Postgres `vessel_state`.
    pub vessel_state: Vec<VesselStateRow>,
    /// Postgres `vessels`: MMSI and `last_report` in epoch milliseconds.
    pub vessels: Vec<(u32, i64)>,
    /// Postgres weather, cargo and operations rows.
    pub events: Vec<StoredEvent>,
    /// Everything on the dead-letter topic.
    pub dead_letters: Vec<DeadLetterSeen>,
}

/// A record's place: the stream of its topic, partition, offset.
type Coord = (Stream, i32, i64);

/// A vessel's newest stored event time and the records that have it.
type Newest = (DateTime<Utc>, Vec<Coord>);

/// The Jepsen-style check of `observed` against the producer's `acks` (the
/// rules are in the crate documentation).
pub fn check(acks: &[AckedRecord], observed: &Observed) -> CheckReport {
    let mut r = CheckReport { produced: acks.len() as u64, ..CheckReport::default() };
    let fault = RejectClass::FaultInjected.as_str();
    let stream_of = |topic: &str| observed.topics.iter().find(|(_, t)| t == topic).map(|(s, _)| *s);
    let topic_of =
        |stream: Stream| observed.topics.iter().find(|(s, _)| *s == stream).map_or("?", |(_, t)| t.as_str());

    // Counts per coordinate in each place.
    let mut in_pg: HashMap<Coord, u32> = HashMap::new();
    for p in &observed.positions {
        let Some(stream) = stream_of(&p.topic) else {
            r.misplaced += 1;
            r.problem(|| format!("positions row {p:?} from a topic the run never used"));
            continue;
        };
        *in_pg.entry((stream, p.partition, p.offset)).or_default() += 1;
        if p.index != 0 {
            r.misplaced += 1;
            r.problem(|| format!("positions row {p:?} has a source_index"));
        }
    }
    let mut in_es: HashMap<&str, u32> = HashMap::new();
    for id in &observed.es_ids {
        *in_es.entry(id.as_str()).or_default() += 1;
    }
    let mut letters: HashMap<Coord, BTreeMap<&str, u32>> = HashMap::new();
    for l in &observed.dead_letters {
        let Some(stream) = stream_of(&l.topic) else {
            r.misplaced += 1;
            r.problem(|| format!("dead letter from another topic: {l:?}"));
            continue;
        };
        *letters.entry((stream, l.partition, l.offset)).or_default().entry(l.class.as_str()).or_default() +=
            1;
    }
    // Natural key → the coordinates of the row holding it (a primary key: one at most).
    let mut events: HashMap<&EventKey, Option<Coord>> = HashMap::new();
    for e in &observed.events {
        let coord = stream_of(&e.topic).map(|s| (s, e.partition, e.offset));
        if events.insert(&e.key, coord).is_some() {
            r.duplicated += 1;
            r.problem(|| format!("{:?} stored twice", e.key));
        }
    }
    let mut event_acks: HashMap<&EventKey, Vec<Coord>> = HashMap::new();

    let mut acked: HashSet<Coord> = HashSet::new();
    let mut acked_ids: HashSet<String> = HashSet::new();
    // Per vessel: the newest stored event time and the coordinates holding it.
    let mut newest: HashMap<u32, Newest> = HashMap::new();
    // Per vessel: its newest static report's time (epoch ms).
    let mut newest_static: HashMap<u32, i64> = HashMap::new();
    for a in acks {
        let coord = (a.stream, a.partition, a.offset);
        if !acked.insert(coord) {
            r.duplicated += 1;
            r.problem(|| format!("the producer was acknowledged {coord:?} twice"));
            continue;
        }
        *r.produced_by_stream.entry(format!("{:?}", a.stream).to_lowercase()).or_default() += 1;
        let id = Origin::new(topic_of(a.stream), a.partition, a.offset).document_id();
        let pg = in_pg.get(&coord).copied().unwrap_or(0);
        let es = in_es.get(id.as_str()).copied().unwrap_or(0);
        acked_ids.insert(id.clone());
        let classes = letters.get(&coord);
        if pg > 1 || es > 1 {
            r.duplicated += 1;
            r.problem(|| format!("{id}: {pg} Postgres rows, {es} documents"));
        }
        if let Some(classes) = classes {
            let written: u32 = classes.values().sum();
            r.dead_letter_redeliveries += u64::from(written.saturating_sub(1));
            for class in classes.keys() {
                *r.dead_lettered.entry((*class).to_owned()).or_default() += 1;
            }
        }
        let faulted = classes.is_some_and(|c| c.contains_key(fault));
        let other_class = classes.is_some_and(|c| c.keys().any(|k| *k != fault));
        // Where a valid record of this kind must be, besides its document.
        let in_table = match &a.expect {
            Expect::Valid(position) => {
                if pg > 0 && es > 0 {
                    let e = newest.entry(position.mmsi).or_insert((position.timestamp, Vec::new()));
                    if position.timestamp > e.0 {
                        *e = (position.timestamp, Vec::new());
                    }
                    if position.timestamp == e.0 {
                        e.1.push(coord);
                    }
                }
                Some(pg > 0)
            }
            Expect::Static { mmsi, at } => {
                let e = newest_static.entry(*mmsi).or_insert(i64::MIN);
                *e = (*e).max(at.timestamp_millis());
                None
            }
            Expect::Event(key) => {
                event_acks.entry(key).or_default().push(coord);
                Some(events.get(key).is_some_and(|c| c.is_some()))
            }
            Expect::Invalid(class) => {
                r.invalid += 1;
                if pg > 0 || es > 0 {
                    r.misplaced += 1;
                    r.problem(|| format!("{id}: invalid ({}) but stored", class.as_str()));
                }
                match classes {
                    None => {
                        r.lost += 1;
                        r.problem(|| format!("{id}: invalid ({}), not dead-lettered", class.as_str()));
                    }
                    Some(c) if c.len() == 1 && c.contains_key(class.as_str()) => {}
                    Some(c) => {
                        r.misplaced += 1;
                        r.problem(|| format!("{id}: invalid ({}), dead-lettered as {c:?}", class.as_str()));
                    }
                }
                continue;
            }
            Expect::Fragment => {
                r.fragments += 1;
                if pg > 0 || es > 0 || classes.is_some() {
                    r.misplaced += 1;
                    r.problem(|| format!("{id}: a fragment, but stored or dead-lettered ({classes:?})"));
                }
                continue;
            }
        };
        if !matches!(a.expect, Expect::Valid(_)) && pg > 0 {
            r.misplaced += 1;
            r.problem(|| format!("{id}: not a position, but in positions"));
        }
        r.valid += 1;
        if other_class {
            r.misplaced += 1;
            r.problem(|| format!("{id}: valid but dead-lettered as {classes:?}"));
        }
        // A kind without a per-record table (static data) is judged by its document alone.
        match (in_table.unwrap_or(es > 0), es > 0) {
            (true, true) => {
                r.stored += 1;
                if faulted {
                    r.fault_injected_then_stored += 1;
                }
            }
            (false, false) if faulted => {}
            (false, false) if !other_class => {
                r.lost += 1;
                r.problem(|| format!("{id}: valid, acknowledged, found nowhere"));
            }
            (false, false) => {}
            (in_pg, in_es) => {
                r.misplaced += 1;
                r.problem(|| format!("{id}: in Postgres {in_pg}, in the search engine {in_es}"));
            }
        }
    }

    // Anything stored or dead-lettered that was never acknowledged.
    for coord in in_pg.keys().filter(|c| !acked.contains(c)) {
        r.duplicated += 1;
        r.problem(|| format!("Postgres row {coord:?} was never acknowledged"));
    }
    // (Documents of acknowledged records were judged above.)
    for id in in_es.keys().filter(|id| !acked_ids.contains(**id)) {
        r.duplicated += 1;
        r.problem(|| format!("document {id} was never acknowledged"));
    }
    for coord in letters.keys().filter(|c| !acked.contains(c)) {
        r.misplaced += 1;
        r.problem(|| format!("dead letter for {coord:?}, never acknowledged"));
    }
    // An event row must come from a record acknowledged with its key.
    for (key, coord) in &events {
        let from_its_record =
            coord.is_some_and(|c| event_acks.get(key).is_some_and(|acks| acks.contains(&c)));
        if !from_its_record {
            r.misplaced += 1;
            r.problem(|| format!("{key:?} stored from {coord:?}, never acknowledged with that key"));
        }
    }

    // vessel_state: one row per vessel with stored positions, holding one of its newest.
    let mut seen_vessels = BTreeSet::new();
    for row in &observed.vessel_state {
        seen_vessels.insert(row.mmsi);
        let coord = stream_of(&row.topic).map(|s| (s, row.partition, row.offset));
        let ok = newest.get(&row.mmsi).is_some_and(|(_, coords)| coord.is_some_and(|c| coords.contains(&c)));
        if !ok {
            r.vessel_state_mismatches += 1;
            r.problem(|| {
                format!("vessel_state of {} holds {:?}", row.mmsi, (&row.topic, row.partition, row.offset))
            });
        }
    }
    for mmsi in newest.keys().filter(|m| !seen_vessels.contains(*m)) {
        r.vessel_state_mismatches += 1;
        r.problem(|| format!("vessel {mmsi} has stored positions but no vessel_state row"));
    }
    // vessels: every vessel with static data, as of its newest report.
    let vessels: HashMap<u32, i64> = observed.vessels.iter().copied().collect();
    for (mmsi, at) in &newest_static {
        if vessels.get(mmsi) != Some(at) {
            r.vessel_state_mismatches += 1;
            r.problem(|| {
                format!(
                    "vessels row of {mmsi}: last report {:?}, newest acknowledged {at}",
                    vessels.get(mmsi)
                )
            });
        }
    }

    for ((stream, partition), next) in expected_next(acks) {
        let committed = observed.committed.get(&(stream, partition)).copied().unwrap_or(-1);
        if committed < next {
            r.uncommitted_partitions += 1;
            r.problem(|| {
                format!("{stream:?} partition {partition}: committed {committed}, acknowledged up to {next}")
            });
        }
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use porttrack_schemas::Position;

    const TOPIC: &str = "t";

    fn position(mmsi: u32, secs: i64) -> Position {
        Position {
            mmsi,
            timestamp: DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
            lat: 51.9,
            lon: 4.1,
            sog: None,
            cog: None,
            heading: None,
            nav_status: None,
        }
    }

    fn valid(partition: i32, offset: i64, mmsi: u32, secs: i64) -> AckedRecord {
        AckedRecord {
            stream: Stream::Positions,
            partition,
            offset,
            expect: Expect::Valid(position(mmsi, secs)),
        }
    }

    fn invalid(partition: i32, offset: i64) -> AckedRecord {
        AckedRecord {
            stream: Stream::Positions,
            partition,
            offset,
            expect: Expect::Invalid(RejectClass::MmsiInvalid),
        }
    }

    fn letter(partition: i32, offset: i64, class: &str) -> DeadLetterSeen {
        DeadLetterSeen { topic: TOPIC.into(), partition, offset, class: class.into() }
    }

    fn store(o: &mut Observed, partition: i32, offset: i64) {
        o.positions.push(StoredPosition { topic: TOPIC.into(), partition, offset, index: 0 });
        o.es_ids.push(Origin::new(TOPIC, partition, offset).document_id());
    }

    /// Three valid records of two vessels, one invalid, one fault-injected:
    /// everything where it belongs.
    fn world() -> (Vec<AckedRecord>, Observed) {
        let acks = vec![
            valid(0, 0, 244_000_001, 1),
            valid(0, 1, 244_000_001, 2),
            invalid(0, 2),
            valid(1, 0, 244_000_002, 1),
            valid(1, 1, 244_000_002, 5),
        ];
        let mut o = Observed { topics: vec![(Stream::Positions, TOPIC.into())], ..Observed::default() };
        store(&mut o, 0, 0);
        store(&mut o, 0, 1);
        store(&mut o, 1, 0);
        o.dead_letters.push(letter(0, 2, "mmsi_invalid"));
        o.dead_letters.push(letter(1, 1, "fault_injected"));
        o.vessel_state = vec![
            VesselStateRow { mmsi: 244_000_001, topic: TOPIC.into(), partition: 0, offset: 1 },
            VesselStateRow { mmsi: 244_000_002, topic: TOPIC.into(), partition: 1, offset: 0 },
        ];
        o.committed = HashMap::from([((Stream::Positions, 0), 3), ((Stream::Positions, 1), 2)]);
        (acks, o)
    }

    #[test]
    fn everything_in_its_place_is_clean() {
        let (acks, o) = world();
        let r = check(&acks, &o);
        assert!(r.is_clean(), "{r}");
        assert_eq!((r.produced, r.valid, r.invalid, r.stored), (5, 4, 1, 3));
        assert_eq!(
            r.dead_lettered,
            BTreeMap::from([("fault_injected".into(), 1), ("mmsi_invalid".into(), 1)])
        );
    }

    #[test]
    fn a_missing_record_is_lost() {
        let (acks, mut o) = world();
        o.positions.retain(|p| p.offset != 0 || p.partition != 0);
        o.es_ids.retain(|id| id != "t-0-0");
        let r = check(&acks, &o);
        assert_eq!(r.lost, 1, "{r}");
        assert!(!r.is_clean());
    }

    #[test]
    fn a_record_in_one_store_only_is_misplaced() {
        let (acks, mut o) = world();
        o.es_ids.retain(|id| id != "t-0-0");
        assert_eq!(check(&acks, &o).misplaced, 1);
    }

    #[test]
    fn a_document_or_row_twice_is_a_duplicate() {
        let (acks, mut o) = world();
        o.es_ids.push("t-1-0".into());
        o.positions.push(StoredPosition { topic: TOPIC.into(), partition: 0, offset: 1, index: 0 });
        assert_eq!(check(&acks, &o).duplicated, 2);
    }

    #[test]
    fn something_never_acknowledged_is_a_duplicate() {
        let (acks, mut o) = world();
        store(&mut o, 3, 9);
        assert_eq!(check(&acks, &o).duplicated, 2, "one row and one document");
    }

    #[test]
    fn the_wrong_class_is_misplaced() {
        let (acks, mut o) = world();
        o.dead_letters[0].class = "malformed_json".into();
        let r = check(&acks, &o);
        assert_eq!(r.misplaced, 1, "{r}");
        // A valid record dead-lettered for anything but fault injection, too.
        let (acks, mut o) = world();
        o.dead_letters[1].class = "sink_rejected".into();
        assert_eq!(check(&acks, &o).misplaced, 1);
    }

    #[test]
    fn an_invalid_record_stored_is_misplaced_and_one_not_dead_lettered_is_lost() {
        let (acks, mut o) = world();
        store(&mut o, 0, 2);
        assert_eq!(check(&acks, &o).misplaced, 1);
        let (acks, mut o) = world();
        o.dead_letters.remove(0);
        assert_eq!(check(&acks, &o).lost, 1);
    }

    #[test]
    fn fault_injected_then_stored_on_redelivery_is_counted_not_failed() {
        let (acks, mut o) = world();
        store(&mut o, 1, 1);
        o.vessel_state[1].offset = 1;
        let r = check(&acks, &o);
        assert!(r.is_clean(), "{r}");
        assert_eq!(r.fault_injected_then_stored, 1);
    }

    #[test]
    fn dead_letters_twice_are_counted_not_failed() {
        let (acks, mut o) = world();
        o.dead_letters.push(letter(0, 2, "mmsi_invalid"));
        let r = check(&acks, &o);
        assert!(r.is_clean(), "{r}");
        assert_eq!(r.dead_letter_redeliveries, 1);
    }

    #[test]
    fn a_stale_vessel_state_and_an_uncommitted_partition_fail() {
        let (acks, mut o) = world();
        o.vessel_state[0].offset = 0;
        assert_eq!(check(&acks, &o).vessel_state_mismatches, 1);
        let (acks, mut o) = world();
        o.committed.insert((Stream::Positions, 1), 1);
        assert_eq!(check(&acks, &o).uncommitted_partitions, 1);
    }
}
