//! The `porttrack` command-line tools, run as a user would.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::PathBuf;
use std::process::Command;

fn porttrack() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_porttrack"));
    // No configuration from the caller's environment leaks in.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PORTTRACK_")) {
        c.env_remove(k);
    }
    c
}

fn gpsd_corpus(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ais/gpsd").join(file)
}

/// `decode --gpsd-json` prints what `gpsdecode -j` prints (gpsd's expected
/// output for its own sample), for every message type PortTrack decodes;
/// the lines it leaves out are exactly those of types it does not decode.
#[test]
fn decode_gpsd_json_matches_gpsdecode_on_gpsds_sample() {
    let out = porttrack().args(["decode", "--gpsd-json"]).arg(gpsd_corpus("sample.aivdm")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ours: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    let expected: Vec<String> = std::fs::read_to_string(gpsd_corpus("sample.aivdm.js.chk"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();

    let supported = |line: &str| {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let t = v["type"].as_u64().unwrap();
        matches!(t, 1..=5 | 9 | 11 | 18 | 19 | 21 | 24 | 27) || (t == 8 && v["dac"] == 1 && v["fid"] == 31)
    };
    let wanted: Vec<&String> = expected.iter().filter(|l| supported(l)).collect();
    assert_eq!(ours.iter().collect::<Vec<_>>(), wanted, "byte for byte, in order");
    assert!(ours.len() >= 28, "every supported message of the sample: {}", ours.len());
}

/// Normalised output: NMEA and JSON mixed, one event per line, refusals on
/// stderr with their dead-letter class.
#[test]
fn decode_normalises_mixed_input_from_stdin() {
    use std::io::Write;
    let mut child = porttrack()
        .arg("decode")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n\
              # a comment\n\
              !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B\n\
              {\"event\":\"weather\",\"station\":\"hvh\",\"timestamp\":\"2026-11-22T04:00:00Z\",\"zone\":\"Maasmond\",\"wind_gust_kn\":41}\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let events: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 2, "{stdout}");
    assert_eq!(
        (events[0]["event"].as_str(), events[0]["mmsi"].as_u64()),
        (Some("position"), Some(371_798_000))
    );
    assert_eq!(events[1]["event"], "weather");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("\"class\":\"nmea_checksum\""), "{stderr}");
    assert!(stderr.contains("3 lines, 2 printed, 1 refused"), "{stderr}");
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let out = porttrack()
        .args(["healthcheck", "--url", "http://127.0.0.1:9/healthz", "--timeout", "1s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn non_configuration_variables_do_not_break_loading() {
    let out = porttrack()
        .args(["check-config"])
        .env("PORTTRACK_BIN", "/usr/bin/porttrack")
        .env("PORTTRACK_PARTITIONS", "4")
        .env("PORTTRACK_KAFKA__GROUP_ID", "from-env")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"group_id\": \"from-env\""));
}
