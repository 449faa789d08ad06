//! `porttrack dlq replay` against the real local Kafka, run as an operator
//! runs it: letters written by the pipeline's own `DeadLetterProducer` into
//! a fresh dead-letter topic, the command over the SASL_SSL listener (so
//! the `[kafka]` properties reach both its reader and its producer), the
//! source topics read back byte for byte.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use porttrack::tools::dlq::{Letter, REPLAY_OF};
use porttrack_ingest::AckedProducer;
use porttrack_ingest::dead_letter::{DeadLetter, DeadLetterProducer, headers};
use porttrack_schemas::{Origin, RejectClass, Rejection};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use support::{stack, unique};

const PARTITIONS: i32 = 2;

fn porttrack(config: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_porttrack"));
    // No configuration from the caller's environment leaks in.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PORTTRACK_")) {
        command.env_remove(k);
    }
    command.args(["dlq", "replay", "--config"]).arg(config).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every record of `topic` up to the end offsets at the time of the call,
/// in partition then offset order, with headers in order.
fn read_topic(brokers: &str, topic: &str) -> Vec<Letter> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("dlq-test-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    let partitions: Vec<i32> = metadata.topics()[0].partitions().iter().map(|p| p.id()).collect();
    assert!(!partitions.is_empty(), "{topic} has no partitions");
    let mut tpl = TopicPartitionList::new();
    let mut ends = std::collections::HashMap::new();
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10)).unwrap();
        if high > low {
            tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
            ends.insert(p, high);
        }
    }
    let mut out = Vec::new();
    if ends.is_empty() {
        return out;
    }
    consumer.assign(&tpl).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ends.is_empty() {
        assert!(Instant::now() < deadline, "reading {topic}: partitions {ends:?} did not reach their end");
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let p = rdkafka::Message::partition(&m);
                let offset = rdkafka::Message::offset(&m);
                if ends.get(&p).is_some_and(|end| offset < *end) {
                    out.push(Letter::from_message(&m));
                    if ends.get(&p).is_some_and(|end| offset + 1 >= *end) {
                        ends.remove(&p);
                    }
                }
            }
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None => {}
        }
    }
    out.sort_by_key(|l| (l.partition, l.offset));
    out
}

fn header(key: &str, value: &str) -> (String, Option<Vec<u8>>) {
    (key.to_owned(), Some(value.as_bytes().to_vec()))
}

fn letter(
    topic: &str,
    partition: i32,
    offset: i64,
    class: RejectClass,
    key: Option<&str>,
    payload: &str,
    headers: Vec<(String, Option<Vec<u8>>)>,
) -> DeadLetter {
    DeadLetter {
        origin: Origin::new(topic, partition, offset),
        key: key.map(|k| k.as_bytes().to_vec()),
        payload: Some(payload.as_bytes().to_vec()),
        headers,
        rejection: Rejection::new(class, format!("{} on purpose", class.as_str())),
    }
}

/// The fields of a summary line (`source class numbers… reasons`) whose
/// first two fields are `source` and `class` (`total` has no class).
fn summary_line(stdout: &str, first: &[&str]) -> Vec<String> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .find(|fields| fields.len() >= first.len() && fields.iter().zip(first).all(|(a, b)| a == b))
        .unwrap_or_else(|| panic!("no summary line starting with {first:?} in:\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_go_back_to_their_source_byte_for_byte_and_the_rest_stay_with_a_reason() {
    let stack = stack();
    let (json, nmea, dlq) = (unique("dlq-json"), unique("dlq-nmea"), unique("dlq-letters"));
    let retired = unique("dlq-retired");
    support::create_topics(&stack.brokers, &[(&json, PARTITIONS), (&nmea, PARTITIONS), (&dlq, PARTITIONS)])
        .await;

    // The letters, as the pipeline writes them. Payloads are distinct: they
    // identify each letter once it is on the dead-letter topic.
    let trace = header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    let originals =
        vec![trace, header("x-sensor", "hvh"), ("x-empty".to_owned(), None), header("x-sensor", "mvl")];
    let letters = vec![
        // 0, 1: the class replayed below; one keyed with headers, one unkeyed without.
        letter(
            &json,
            1,
            10,
            RejectClass::MalformedJson,
            Some("244000001"),
            r#"{"mmsi":244000001,"lat":"#,
            originals.clone(),
        ),
        letter(&json, 0, 11, RejectClass::MalformedJson, None, "not json at all", vec![]),
        // 2: another class on the same topic.
        letter(&json, 0, 12, RejectClass::MmsiInvalid, Some("12"), r#"{"mmsi":12,"lat":1,"lon":2}"#, vec![]),
        // 3: quarantined (a type PortTrack does not decode yet).
        letter(
            &nmea,
            1,
            5,
            RejectClass::UnsupportedMessage,
            Some("244000002"),
            "!AIVDM,1,1,,A,I00000000000,0*00",
            vec![],
        ),
        // 4: a processor output a sink refused: never replayable.
        letter(
            &json,
            1,
            13,
            RejectClass::SinkRejected,
            Some("244000003"),
            r#"{"zone":"Maasmond","mmsi":244000003}"#,
            vec![header(headers::DERIVED_KIND, "zone_event")],
        ),
        // 5: decoded from NMEA, re-encoded as JSON: not for the NMEA topic.
        letter(
            &nmea,
            0,
            6,
            RejectClass::SinkRejected,
            Some("244000004"),
            r#"{"mmsi":244000004,"lat":51.9,"lon":4.1}"#,
            vec![header(headers::REENCODED, "json")],
        ),
        // 6: from a topic the configuration no longer lists.
        letter(&retired, 0, 1, RejectClass::MalformedJson, Some("244000005"), "{retired", vec![]),
        // 7: a second NMEA letter that may go.
        letter(
            &nmea,
            0,
            7,
            RejectClass::NmeaChecksum,
            Some("244000006"),
            "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B",
            vec![],
        ),
        // 8: names a partition the source topic does not have: its send fails.
        letter(
            &json,
            7,
            1,
            RejectClass::LatOutOfRange,
            Some("244000007"),
            r#"{"mmsi":244000007,"lat":91}"#,
            vec![],
        ),
    ];
    let producer =
        AckedProducer::new(ClientConfig::new().set("bootstrap.servers", &stack.brokers).set("acks", "all"))
            .unwrap();
    DeadLetterProducer::new(producer, dlq.clone()).send_all(&letters).await.unwrap();
    let on_dlq = read_topic(&stack.brokers, &dlq);
    assert_eq!(on_dlq.len(), letters.len());
    // Where each letter landed on the dead-letter topic, in `letters` order.
    let coordinates: Vec<(i32, i64)> = letters
        .iter()
        .map(|l| {
            let found = on_dlq.iter().find(|d| d.payload == l.payload).unwrap();
            (found.partition, found.offset)
        })
        .collect();
    let at = |i: usize| format!("{dlq}/{}/{}", coordinates[i].0, coordinates[i].1);

    let dir = tempfile::tempdir().unwrap();
    let sasl = &stack.sasl;
    let mut properties = String::new();
    for (k, v) in sasl.properties(None) {
        properties.push_str(&format!("\"{k}\" = \"{v}\"\n"));
    }
    let config = support::write_config(
        dir.path(),
        &format!(
            r#"
[kafka]
brokers = "{brokers}"
group_id = "{group}"
dead_letter_topic = "{dlq}"

[kafka.properties]
{properties}
[[kafka.topics]]
name = "{json}"
format = "json"
event = "position"

[[kafka.topics]]
name = "{nmea}"
format = "nmea"
"#,
            brokers = sasl.brokers,
            group = unique("dlq-group"),
        ),
    );

    // Dry run: every letter's fate, nothing sent.
    let dry = porttrack(&config, &["--dry-run"]);
    let stdout = text(&dry.stdout);
    assert!(dry.status.success(), "dry run failed:\n{stdout}\n{}", text(&dry.stderr));
    let fates = [
        (0, format!("would go to {json}/1")),
        (1, format!("would go to {json}/0")),
        (2, format!("would go to {json}/0")),
        (3, format!("would go to {nmea}/1")),
        (4, "skip derived_output (zone_event)".to_owned()),
        (5, format!("skip reencoded_for_non_json_topic (JSON payload, {nmea} is nmea)")),
        (6, format!("skip source_topic_not_configured ({retired} is not in kafka.topics)")),
        (7, format!("would go to {nmea}/0")),
        (8, format!("would go to {json}/7")),
    ];
    for (i, fate) in fates {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{} ", at(i))))
            .unwrap_or_else(|| panic!("no line for letter {i} ({}) in:\n{stdout}", at(i)));
        assert!(line.ends_with(&fate), "letter {i}: {line:?} should end with {fate:?}");
        assert!(line.contains(letters[i].rejection.class.as_str()), "letter {i} names its class: {line}");
    }
    assert_eq!(
        summary_line(&stdout, &["total"]),
        [
            "total",
            "6",
            "3",
            "derived_output",
            "1,",
            "reencoded_for_non_json_topic",
            "1,",
            "source_topic_not_configured",
            "1"
        ]
    );
    assert_eq!(summary_line(&stdout, &[json.as_str(), "malformed_json"])[2..], ["2", "0"]);
    assert!(read_topic(&stack.brokers, &json).is_empty(), "a dry run sent to {json}");
    assert!(read_topic(&stack.brokers, &nmea).is_empty(), "a dry run sent to {nmea}");

    // One class: exactly its letters arrive, on their source partition, as they were.
    let run = porttrack(&config, &["--class", "malformed_json"]);
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "replay failed:\n{stdout}\n{}", text(&run.stderr));
    let arrived = read_topic(&stack.brokers, &json);
    assert_eq!(arrived.len(), 2, "{arrived:#?}");
    for (i, partition) in [(0, 1), (1, 0)] {
        let sent = &letters[i];
        let record = arrived.iter().find(|r| r.payload == sent.payload).unwrap();
        assert_eq!(record.partition, partition, "letter {i} goes back to its source partition");
        assert_eq!(record.key, sent.key, "letter {i}: key");
        let mut expected = sent.headers.clone();
        expected.push(header(REPLAY_OF, &at(i)));
        assert_eq!(record.headers, expected, "letter {i}: the original headers, in order, and {REPLAY_OF}");
        assert!(record.headers.iter().all(|(k, _)| !k.starts_with("porttrack.error.")
            && !k.starts_with("porttrack.source.")
            && !k.starts_with("porttrack.payload.")));
    }
    assert!(read_topic(&stack.brokers, &nmea).is_empty(), "{nmea} got letters of another class");
    assert_eq!(summary_line(&stdout, &[json.as_str(), "malformed_json"])[2..], ["2", "0", "0"]);
    assert_eq!(
        summary_line(&stdout, &[retired.as_str(), "malformed_json"])[2..],
        ["0", "0", "1", "source_topic_not_configured", "1"]
    );
    assert_eq!(
        summary_line(&stdout, &["total"]),
        ["total", "2", "0", "7", "filtered_out", "6,", "source_topic_not_configured", "1"]
    );

    // One source topic, at most one letter: the first that may go, in
    // dead-letter partition then offset order.
    let run = porttrack(&config, &["--source-topic", &nmea, "--limit", "1"]);
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "replay failed:\n{stdout}\n{}", text(&run.stderr));
    let first = [3, 7].into_iter().min_by_key(|i| coordinates[*i]).unwrap();
    let arrived = read_topic(&stack.brokers, &nmea);
    assert_eq!(arrived.len(), 1, "{arrived:#?}");
    assert_eq!(arrived[0].payload, letters[first].payload);
    assert_eq!(arrived[0].headers, [header(REPLAY_OF, &at(first))]);
    assert_eq!(
        summary_line(&stdout, &["total"]),
        [
            "total",
            "1",
            "0",
            "8",
            "filtered_out",
            "6,",
            "limit_reached",
            "1,",
            "reencoded_for_non_json_topic",
            "1"
        ]
    );

    // A send that fails is reported with its letter and fails the run.
    let run = porttrack(&config, &["--class", "lat_out_of_range"]);
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert!(!run.status.success(), "a failed send must fail the run:\n{stdout}\n{stderr}");
    assert!(stderr.contains(&format!("{}: not sent to {json}/7", at(8))), "{stderr}");
    assert!(stderr.contains("1 dead letters could not be sent"), "{stderr}");
    assert_eq!(summary_line(&stdout, &["total"])[..4], ["total", "0", "1", "8"]);
    assert_eq!(read_topic(&stack.brokers, &json).len(), 2, "nothing more reached {json}");
}
