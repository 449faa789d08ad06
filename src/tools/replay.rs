//! `porttrack replay FILE`: a recorded file into Kafka.
//!
//! Three recordings are understood (by extension, or `--input`):
//!
//! * an NMEA log (`.nmea`, `.aivdm`, `.txt`): `!AIVDM` lines, optionally with
//!   NMEA 4 tag blocks. All fragments of one message go into one record, keyed
//!   by the message's MMSI so the positions topic's partitioning by vessel
//!   holds. Event time is the tag block's `c:` when present; otherwise the
//!   record carries none and the pipeline uses the receive time (the Kafka
//!   record timestamp, i.e. when it is replayed).
//! * a NOAA MarineCadastre AIS CSV (`.csv`): every row becomes a JSON
//!   position; static fields become a static/voyage record whenever they change
//!   for a vessel. The CSV has length and width only, so the reference point is
//!   put amidships (A = B = L/2, C = D = W/2): length and beam stay right.
//! * JSON lines (`.json`, `.jsonl`, `.ndjson`): documents tagged with
//!   `"event"` (as `porttrack decode` prints them) or of `--event`'s kind.
//!
//! Pace: `--speed 1` replays at the original pace (by event time), `--speed 60`
//! sixty times faster, `--speed 0` as fast as the broker takes it. Lines
//! that do not parse are produced as they are (unkeyed), so the pipeline's
//! dead-letter path sees them, unless `--skip-invalid`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use porttrack_ais::{Decoder, FragmentKey, Limits, Message, Sentence};
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::config::{EventName, Format};
use porttrack_schemas::{Position, VesselStatic};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// What the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Recording {
    /// By file extension.
    Auto,
    /// NMEA 0183 AIS log.
    Nmea,
    /// NOAA MarineCadastre AIS CSV.
    Csv,
    /// JSON lines.
    Json,
}

/// Which configured topic a record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The NMEA topic.
    Nmea,
    /// The JSON topic of this event kind.
    Json(EventName),
}

/// One record to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayRecord {
    /// Where it goes.
    pub target: Target,
    /// Partitioning key (the MMSI; `None` for lines that could not be read).
    pub key: Option<String>,
    /// The payload.
    pub payload: Vec<u8>,
    /// Event time, for pacing and the Kafka record timestamp.
    pub event_time: Option<DateTime<Utc>>,
}

/// Options of a replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// What the file holds.
    pub recording: Recording,
    /// Pace multiplier; 0 is as fast as possible.
    pub speed: f64,
    /// Kind of untagged JSON lines.
    pub event: EventName,
    /// Leave out lines that cannot be read instead of producing them as they are.
    pub skip_invalid: bool,
}

/// What a replay did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    /// Records acknowledged by the broker, per topic.
    pub acked: HashMap<String, u64>,
    /// Records the broker refused.
    pub failed: u64,
    /// Unreadable lines produced as they are (or skipped with `--skip-invalid`).
    pub invalid: u64,
}

/// Reads a recording into records.
pub fn read(path: &Path, options: &ReplayOptions) -> anyhow::Result<(Vec<ReplayRecord>, u64)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = std::io::BufReader::new(file);
    let recording = match options.recording {
        Recording::Auto => match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
            "csv" => Recording::Csv,
            "json" | "jsonl" | "ndjson" => Recording::Json,
            _ => Recording::Nmea,
        },
        r => r,
    };
    match recording {
        Recording::Csv => read_marinecadastre(reader),
        Recording::Json => read_json_lines(reader, options.event),
        Recording::Nmea | Recording::Auto => read_nmea(reader),
    }
}

/// NMEA lines, fragments of one message grouped into one record keyed by MMSI.
///
/// Fragments are matched to their message by its [`FragmentKey`] (sequence
/// id, channel, tag-block group), not by adjacency: real logs interleave the
/// fragments of two messages, and a line's trailing bytes (gpsd's sample has
/// a literal `\x0d\x0a` after one checksum) say nothing about where the
/// sentence starts.
pub fn read_nmea(reader: impl BufRead) -> anyhow::Result<(Vec<ReplayRecord>, u64)> {
    let mut decoder = Decoder::new(Limits::default());
    let mut out = Vec::new();
    let mut invalid = 0;
    // Lines of messages still waiting for fragments, in arrival order.
    let mut waiting: Vec<(Option<FragmentKey>, String)> = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        let line = line.trim();
        // Blank lines and `#` comments (gpsd's logs have them) are not records.
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match decoder.decode_line(line, n as u64) {
            Ok(None) => waiting.push((fragment_key(line), line.to_owned())),
            Ok(Some(decoded)) => {
                let mmsi = mmsi_of(&decoded.message);
                // The fragments this line completes: the waiting lines of the same message.
                let mut lines = Vec::new();
                if let Some(key) = fragment_key(line) {
                    waiting.retain(|(k, l)| {
                        let same = k.as_ref() == Some(&key);
                        if same {
                            lines.push(l.clone());
                        }
                        !same
                    });
                }
                lines.push(line.to_owned());
                let event_time = decoded.event_time_ms().and_then(DateTime::from_timestamp_millis);
                out.push(ReplayRecord {
                    target: Target::Nmea,
                    key: Some(mmsi.to_string()),
                    payload: lines.join("\r\n").into_bytes(),
                    event_time,
                });
            }
            Err(_) => {
                invalid += 1;
                out.push(ReplayRecord {
                    target: Target::Nmea,
                    key: None,
                    payload: line.as_bytes().to_vec(),
                    event_time: None,
                });
            }
        }
    }
    // Fragments whose message never completed: produced alone, unkeyed, so
    // the pipeline dead-letters them as incomplete rather than losing them.
    for (_, line) in waiting {
        invalid += 1;
        out.push(ReplayRecord {
            target: Target::Nmea,
            key: None,
            payload: line.into_bytes(),
            event_time: None,
        });
    }
    Ok((out, invalid))
}

/// The message a multi-sentence fragment belongs to (`None` for a
/// single-sentence message).
fn fragment_key(line: &str) -> Option<FragmentKey> {
    Sentence::parse(line).ok().filter(|s| s.fragment_count > 1).map(|s| FragmentKey::of(&s))
}

fn mmsi_of(message: &Message) -> u32 {
    message.mmsi()
}

/// JSON lines: tagged with `"event"` or of kind `default`.
pub fn read_json_lines(reader: impl BufRead, default: EventName) -> anyhow::Result<(Vec<ReplayRecord>, u64)> {
    let mut out = Vec::new();
    let mut invalid = 0;
    for line in reader.lines() {
        let line = line?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str::<serde_json::Value>(line) else {
            invalid += 1;
            out.push(ReplayRecord {
                target: Target::Json(default),
                key: None,
                payload: line.as_bytes().to_vec(),
                event_time: None,
            });
            continue;
        };
        let event = match map.remove("event") {
            Some(serde_json::Value::String(kind)) => {
                serde_json::from_value::<EventName>(serde_json::Value::String(kind)).unwrap_or(default)
            }
            _ => default,
        };
        let key = match (map.get("mmsi"), map.get("station")) {
            (Some(m), _) => Some(m.to_string()),
            (None, Some(serde_json::Value::String(s))) => Some(s.clone()),
            _ => None,
        };
        let event_time = map
            .get("timestamp")
            .and_then(|t| t.as_str())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        out.push(ReplayRecord {
            target: Target::Json(event),
            key,
            payload: serde_json::Value::Object(map).to_string().into_bytes(),
            event_time,
        });
    }
    Ok((out, invalid))
}

/// A row of NOAA MarineCadastre's AIS CSV.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    #[serde(rename = "MMSI")]
    mmsi: u32,
    base_date_time: String,
    #[serde(rename = "LAT")]
    lat: f64,
    #[serde(rename = "LON")]
    lon: f64,
    #[serde(rename = "SOG")]
    sog: Option<f32>,
    #[serde(rename = "COG")]
    cog: Option<f32>,
    heading: Option<f32>,
    vessel_name: Option<String>,
    #[serde(rename = "IMO")]
    imo: Option<String>,
    call_sign: Option<String>,
    vessel_type: Option<u16>,
    status: Option<u8>,
    length: Option<f32>,
    width: Option<f32>,
    draft: Option<f32>,
}

/// MarineCadastre CSV rows to JSON positions and, on change, static records.
pub fn read_marinecadastre(reader: impl std::io::Read) -> anyhow::Result<(Vec<ReplayRecord>, u64)> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(reader);
    let mut out = Vec::new();
    let mut invalid = 0;
    let mut last_static: HashMap<u32, VesselStatic> = HashMap::new();
    for row in csv.deserialize::<Row>() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                invalid += 1;
                tracing::debug!(error = %e, "unreadable CSV row");
                continue;
            }
        };
        let Ok(at) = NaiveDateTime::parse_from_str(&row.base_date_time, "%Y-%m-%dT%H:%M:%S") else {
            invalid += 1;
            continue;
        };
        let at = at.and_utc();
        let position = Position {
            mmsi: row.mmsi,
            timestamp: at,
            lat: row.lat,
            lon: row.lon,
            sog: row.sog,
            cog: row.cog,
            heading: row.heading.map(|h| h.round() as u16),
            nav_status: row.status,
        };
        out.push(ReplayRecord {
            target: Target::Json(EventName::Position),
            key: Some(row.mmsi.to_string()),
            payload: serde_json::to_vec(&position)?,
            event_time: Some(at),
        });
        let half = |v: Option<f32>| v.filter(|v| *v > 0.0).map(|v| (v / 2.0).round() as u16);
        let report = VesselStatic {
            mmsi: row.mmsi,
            timestamp: at,
            imo: row
                .imo
                .as_deref()
                .and_then(|i| i.trim_start_matches("IMO").parse().ok())
                .filter(|i| *i >= 1_000_000),
            callsign: row.call_sign.filter(|s| !s.is_empty()),
            shipname: row.vessel_name.filter(|s| !s.is_empty()),
            shiptype: row.vessel_type.and_then(|t| u8::try_from(t).ok()).filter(|t| *t <= 99),
            to_bow: half(row.length),
            to_stern: half(row.length),
            to_port: half(row.width),
            to_starboard: half(row.width),
            draught: row.draft.filter(|d| *d > 0.0),
            destination: None,
            eta: None,
            ..Default::default()
        };
        let changed = last_static
            .get(&row.mmsi)
            .is_none_or(|prev| VesselStatic { timestamp: at, ..prev.clone() } != report);
        let has_any = report.shipname.is_some() || report.shiptype.is_some() || report.to_bow.is_some();
        if changed && has_any {
            out.push(ReplayRecord {
                target: Target::Json(EventName::Static),
                key: Some(row.mmsi.to_string()),
                payload: serde_json::to_vec(&report)?,
                event_time: Some(at),
            });
            last_static.insert(row.mmsi, report);
        }
    }
    Ok((out, invalid))
}

/// Produces `records` into the topics of `kafka`, paced by event time.
pub async fn produce(
    kafka: &KafkaConfig,
    records: Vec<ReplayRecord>,
    options: &ReplayOptions,
) -> anyhow::Result<ReplayReport> {
    let topic_of = |target: Target| -> anyhow::Result<String> {
        match target {
            Target::Nmea => kafka
                .topics
                .iter()
                .find(|t| t.format == Format::Nmea)
                .map(|t| t.name.clone())
                .context("kafka.topics has no NMEA topic"),
            Target::Json(event) => kafka
                .json_topic_for(event)
                .map(str::to_owned)
                .with_context(|| format!("kafka.topics has no JSON topic for {event:?}")),
        }
    };
    let producer: FutureProducer =
        kafka.durable_producer_config()?.create().context("creating the producer")?;
    let mut report = ReplayReport::default();
    let start_wall = Instant::now();
    let start_event = records.iter().find_map(|r| r.event_time);
    let mut in_flight = Vec::new();
    for record in records {
        if record.key.is_none() && options.skip_invalid {
            report.invalid += 1;
            continue;
        }
        if let (Some(t0), Some(t), true) = (start_event, record.event_time, options.speed > 0.0) {
            let offset = (t - t0).to_std().unwrap_or_default().div_f64(options.speed);
            let due = start_wall + offset;
            let now = Instant::now();
            if due > now {
                tokio::time::sleep(due - now).await;
            }
        }
        let topic = topic_of(record.target)?;
        let mut kafka_record = FutureRecord::<String, Vec<u8>>::to(&topic).payload(&record.payload);
        if let Some(key) = &record.key {
            kafka_record = kafka_record.key(key);
        }
        if let Some(t) = record.event_time
            && record.target != Target::Nmea
        {
            kafka_record = kafka_record.timestamp(t.timestamp_millis());
        }
        let delivery = producer.send_result(kafka_record).map_err(|(e, _)| e)?;
        in_flight.push((topic, delivery));
        if in_flight.len() >= 10_000 {
            settle(&mut in_flight, &mut report).await;
        }
    }
    settle(&mut in_flight, &mut report).await;
    Ok(report)
}

async fn settle(in_flight: &mut Vec<(String, rdkafka::producer::DeliveryFuture)>, report: &mut ReplayReport) {
    for (topic, delivery) in in_flight.drain(..) {
        match tokio::time::timeout(Duration::from_secs(300), delivery).await {
            Ok(Ok(Ok(_))) => *report.acked.entry(topic).or_default() += 1,
            _ => report.failed += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmea_fragments_are_grouped_and_keyed_by_mmsi() {
        let log = "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C\n\
                   !AIVDM,2,2,1,A,88888888880,2*25\n\
                   !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n\
                   garbage\n\
                   !AIVDM,2,1,2,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1F\n";
        let (records, invalid) = read_nmea(log.as_bytes()).unwrap();
        assert_eq!(records.len(), 4);
        assert_eq!(records[0].key.as_deref(), Some("351759000"));
        assert_eq!(String::from_utf8_lossy(&records[0].payload).lines().count(), 2);
        assert_eq!(records[1].key.as_deref(), Some("371798000"));
        assert_eq!((records[2].key.as_deref(), records[3].key.as_deref()), (None, None));
        assert_eq!(invalid, 2, "the garbage line and the lone fragment");
    }

    /// gpsd's sample holds a type 21 whose lines end in a literal `\x0d\x0a`
    /// after the checksum. Finding the sentence by the last backslash took
    /// that tail for it, so the first fragment was produced alone at the end
    /// (unkeyed, on a random partition) and the aid to navigation was lost
    /// whenever the two fragments landed on different partitions.
    #[test]
    fn fragments_with_a_trailing_backslash_escape_stay_in_one_record() {
        let log = "!AIVDM,2,1,8,B,E03l90w4Q1h3h1:WdPOwwwwwwwwlQdn`:e55020@@@gP0000000000000000,0*47\\x0d\\x0a\n\
                   !AIVDM,2,2,8,B,00,4*19\\x0d\\x0a\n";
        let (records, invalid) = read_nmea(log.as_bytes()).unwrap();
        assert_eq!((records.len(), invalid), (1, 0));
        assert_eq!(records[0].key.as_deref(), Some("4000003"));
        assert_eq!(String::from_utf8_lossy(&records[0].payload).lines().count(), 2);
    }

    #[test]
    fn interleaved_fragments_of_two_messages_are_grouped_by_message() {
        // Two type 5 messages, fragments interleaved (as in gpsd's sample).
        let log = "!AIVDM,2,1,6,B,542M92h00001@<7;?G0PD4i@R0<tqA8tj37>220o0h:2240Ht50000000000,0*3B\n\
                   !AIVDM,2,1,2,A,542M92h00001@<7;?G0PD4i@R0<tqA8tj37>220o0h:2240Ht500000000000000,0*3C\n\
                   !AIVDM,2,2,2,A,0000002,2*24\n\
                   !AIVDM,2,2,6,B,00000000000,2*21\n";
        let (records, invalid) = read_nmea(log.as_bytes()).unwrap();
        assert_eq!((records.len(), invalid), (2, 0));
        for (record, seq) in records.iter().zip([",2,A,", ",6,B,"]) {
            let text = String::from_utf8_lossy(&record.payload).into_owned();
            assert_eq!(text.lines().count(), 2);
            assert!(text.lines().all(|l| l.contains(seq)), "{text}");
        }
    }

    #[test]
    fn marinecadastre_rows_become_positions_and_static_on_change() {
        let csv = "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass\n\
                   367000001,2023-01-01T00:00:01,29.9,-90.1,10.2,180.5,181,ALPHA,IMO9241061,WDA1234,70,0,200,30,9.5,70,A\n\
                   367000001,2023-01-01T00:00:11,29.91,-90.1,10.3,180.4,181,ALPHA,IMO9241061,WDA1234,70,0,200,30,9.5,70,A\n\
                   367000002,2023-01-01T00:00:12,29.5,-90.0,0.0,360.0,511,,,,,15,,,,,B\n\
                   not,a,row\n";
        let (records, invalid) = read_marinecadastre(csv.as_bytes()).unwrap();
        let targets: Vec<Target> = records.iter().map(|r| r.target).collect();
        assert_eq!(
            targets,
            [
                Target::Json(EventName::Position),
                Target::Json(EventName::Static),
                Target::Json(EventName::Position),
                Target::Json(EventName::Position),
            ]
        );
        let s: VesselStatic = serde_json::from_slice(&records[1].payload).unwrap();
        assert_eq!(
            (s.imo, s.length(), s.beam(), s.shiptype),
            (Some(9_241_061), Some(200), Some(30), Some(70))
        );
        assert_eq!(invalid, 1);
    }

    #[test]
    fn json_lines_keep_their_kind_and_key() {
        let lines = "{\"event\":\"weather\",\"station\":\"hvh\",\"timestamp\":\"2026-11-22T04:00:00Z\",\"zone\":\"x\"}\n\
                     {\"mmsi\":244123456,\"timestamp\":\"2026-11-22T04:00:00Z\",\"lat\":1,\"lon\":2}\n";
        let (records, _) = read_json_lines(lines.as_bytes(), EventName::Position).unwrap();
        assert_eq!(records[0].target, Target::Json(EventName::Weather));
        assert_eq!(records[0].key.as_deref(), Some("hvh"));
        assert!(!String::from_utf8_lossy(&records[0].payload).contains("\"event\""));
        assert_eq!(records[1].key.as_deref(), Some("244123456"));
    }
}
