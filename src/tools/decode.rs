//! `porttrack decode`: NMEA or JSON lines in, events as JSON lines out.
//!
//! Normalised mode runs each line through the pipeline's decoders and prints
//! the events PortTrack would accept (`{"event":"position",…}`), one per
//! line; refusals go to stderr with their dead-letter class. `--gpsd-json`
//! prints, for NMEA input, one object per AIS message with the keys and
//! scaled units of `gpsdecode -j`, so it can stand in where gpsd is used.

use std::io::{BufRead, Write};

use chrono::Utc;
use porttrack_ais::{Decoder, Limits, Line};
use porttrack_ingest::KafkaConfig;
use porttrack_ingest::config::{EventName, Format, TopicConfig};
use porttrack_ingest::decode::{Decoders, RecordIn};
use porttrack_schemas::{Origin, ValidationRules};

/// What the input lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Decide per line: `!` or `\` starts NMEA, `{` starts JSON.
    Auto,
    /// NMEA 0183 AIS sentences.
    Nmea,
    /// JSON documents of one event kind (see `--event`), or tagged with `"event"`.
    Json,
}

/// Options of `porttrack decode`.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Input format.
    pub format: InputFormat,
    /// Event kind of untagged JSON lines.
    pub event: EventName,
    /// gpsdecode-compatible output for NMEA.
    pub gpsd_json: bool,
    /// Validation rules (the configuration's).
    pub rules: ValidationRules,
}

/// Counts of a run, for the exit status and the summary on stderr.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DecodeSummary {
    /// Lines read.
    pub lines: u64,
    /// Events (or gpsd objects) printed.
    pub printed: u64,
    /// Lines refused.
    pub refused: u64,
}

const NMEA_TOPIC: &str = "nmea";

fn json_topic(event: EventName) -> &'static str {
    match event {
        EventName::Position => "position",
        EventName::Static => "static",
        EventName::Weather => "weather",
        EventName::Cargo => "cargo",
        EventName::PortOps => "port_ops",
    }
}

/// Decodes `input` line by line into `out`; refusals go to `err`.
pub fn run(
    input: impl BufRead,
    mut out: impl Write,
    mut err: impl Write,
    options: &DecodeOptions,
) -> anyhow::Result<DecodeSummary> {
    let mut summary = DecodeSummary::default();
    if options.gpsd_json {
        return gpsd(input, out, err);
    }
    let events =
        [EventName::Position, EventName::Static, EventName::Weather, EventName::Cargo, EventName::PortOps];
    let mut topics: Vec<TopicConfig> = events.iter().map(|e| TopicConfig::json(json_topic(*e), *e)).collect();
    topics.push(TopicConfig { name: NMEA_TOPIC.into(), format: Format::Nmea, event: None });
    let kafka = KafkaConfig { topics, ..KafkaConfig::default() };
    let mut decoders = Decoders::new(&kafka, options.rules.clone(), Default::default())?;
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        let trimmed = line.trim();
        if is_comment(trimmed) {
            continue;
        }
        summary.lines += 1;
        let is_nmea = match options.format {
            InputFormat::Nmea => true,
            InputFormat::Json => false,
            InputFormat::Auto => trimmed.starts_with(['!', '\\']),
        };
        let (topic, payload) =
            if is_nmea { (NMEA_TOPIC, trimmed.to_owned()) } else { untag(trimmed, options.event) };
        let origin = Origin::new(topic, 0, n as i64 + 1);
        let decoded = decoders.decode(&RecordIn::new(&origin, payload.as_bytes()), Utc::now());
        for e in &decoded.events {
            serde_json::to_writer(&mut out, &e.event)?;
            out.write_all(b"\n")?;
            summary.printed += 1;
        }
        report(&decoded.rejections, &mut err, &mut summary)?;
        for (origin, message_type) in &decoded.ignored {
            let note = format!("AIS type {message_type}: valid, not stored by PortTrack (counted)");
            writeln!(err, "{}", serde_json::json!({"line": origin.offset, "skipped": note}))?;
        }
    }
    // Fragments whose other parts never came: refused, as the pipeline does
    // once the reassembly timeout passes.
    let (expired, _) = decoders.expire(Utc::now() + chrono::Duration::days(1));
    report(&expired.rejections, &mut err, &mut summary)?;
    out.flush()?;
    Ok(summary)
}

fn report(
    refusals: &[porttrack_ingest::decode::Refused],
    mut err: impl Write,
    summary: &mut DecodeSummary,
) -> std::io::Result<()> {
    for r in refusals {
        summary.refused += 1;
        let report = serde_json::json!({
            "line": r.origin.offset,
            "class": r.rejection.class.as_str(),
            "policy": r.rejection.class.policy().as_str(),
            "message": r.rejection.message,
        });
        writeln!(err, "{report}")?;
    }
    Ok(())
}

/// Blank lines and `#` comments (as in gpsd's test logs) are skipped, as gpsdecode does.
fn is_comment(line: &str) -> bool {
    line.is_empty() || line.starts_with('#')
}

/// Splits a tagged line (`{"event":"static",…}`, as `decode` prints) into
/// its kind's topic and the bare document; untagged lines are `default`.
fn untag(line: &str, default: EventName) -> (&'static str, String) {
    if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str::<serde_json::Value>(line)
        && let Some(serde_json::Value::String(kind)) = map.remove("event")
        && let Ok(event) = serde_json::from_value::<EventName>(serde_json::Value::String(kind))
    {
        return (json_topic(event), serde_json::Value::Object(map).to_string());
    }
    (json_topic(default), line.to_owned())
}

fn gpsd(input: impl BufRead, mut out: impl Write, mut err: impl Write) -> anyhow::Result<DecodeSummary> {
    let mut summary = DecodeSummary::default();
    let mut decoder = Decoder::new(Limits::default());
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if is_comment(line.trim()) {
            continue;
        }
        summary.lines += 1;
        match decoder.process_line(&line, n as u64) {
            Ok(Line::Decoded(decoded)) => {
                if porttrack_ais::gpsd::is_reported(&decoded.message) {
                    writeln!(
                        out,
                        "{}",
                        porttrack_ais::gpsd::to_gpsd_json_line(&decoded.message, Some("stdin"))
                    )?;
                    summary.printed += 1;
                }
            }
            Ok(Line::Pending) => {}
            // Not AIS (a comment, a GPS fix, a proprietary sentence): said, not refused, as gpsd skips it.
            Ok(Line::Skipped(skip)) => {
                writeln!(err, "{}", serde_json::json!({"line": n + 1, "skipped": skip.reason()}))?;
            }
            Err(e) => {
                summary.refused += 1;
                let report = serde_json::json!({"line": n + 1, "class": e.class(), "message": e.to_string()});
                writeln!(err, "{report}")?;
            }
        }
    }
    // A fragment still waiting at the end of the input is refused, never silently lost.
    for e in decoder.finish() {
        summary.refused += 1;
        writeln!(err, "{}", serde_json::json!({"line": null, "class": e.class(), "message": e.to_string()}))?;
    }
    out.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &str, gpsd_json: bool) -> (String, String, DecodeSummary) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let options = DecodeOptions {
            format: InputFormat::Auto,
            event: EventName::Position,
            gpsd_json,
            rules: ValidationRules::default(),
        };
        let summary = run(input.as_bytes(), &mut out, &mut err, &options).unwrap();
        (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap(), summary)
    }

    #[test]
    fn mixed_input_is_normalised_and_refusals_are_reported() {
        let input = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n\
                     {\"mmsi\":244123456,\"timestamp\":\"2026-11-22T04:00:00Z\",\"lat\":51.9,\"lon\":4.1}\n\
                     {\"event\":\"static\",\"mmsi\":244123456,\"timestamp\":\"2026-11-22T04:00:00Z\",\"shipname\":\"X\"}\n\
                     {\"mmsi\":1}\n";
        let (out, err, summary) = decode(input, false);
        let kinds: Vec<String> = out
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(kinds, ["position", "position", "static"]);
        assert!(err.contains("\"class\":\"malformed_json\"") && err.contains("\"line\":4"), "{err}");
        assert_eq!(summary, DecodeSummary { lines: 4, printed: 3, refused: 1 });
    }

    #[test]
    fn a_valid_message_without_a_table_says_so_instead_of_printing_nothing() {
        // A binary acknowledgement (type 7) is counted, not stored: the line
        // must still get an answer.
        let (out, err, summary) = decode("!AIVDM,1,1,,A,702R5`hwCjq8,0*6B\n", false);
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("\"skipped\":\"AIS type 7: valid, not stored"), "{err}");
        assert_eq!(summary, DecodeSummary { lines: 1, printed: 0, refused: 0 });
    }

    #[test]
    fn gpsd_mode_prints_gpsdecode_lines() {
        let (out, _, _) = decode("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n", true);
        assert!(out.starts_with("{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":1,"), "{out}");
    }
}
