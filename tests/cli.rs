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

/// `decode --gpsd-json` prints what gpsd prints for its own sample
/// (`sample.aivdm.js.chk`), every message of every type, in order. That file
/// was written by a newer gpsd than Debian's 3.22, which PortTrack follows
/// (the ais crate's oracle tests compare with the installed `gpsdecode`
/// field by field): type 27 and the positions inside type 6/8 applications
/// are printed as 3.22 prints them, so those lines must only agree on the
/// message and its sender, and on every field within the newer precision.
#[test]
fn decode_gpsd_json_matches_gpsds_sample() {
    let out = porttrack().args(["decode", "--gpsd-json"]).arg(gpsd_corpus("sample.aivdm")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ours: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    let expected: Vec<String> = std::fs::read_to_string(gpsd_corpus("sample.aivdm.js.chk"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ours.len(), expected.len(), "one line per message of the sample");
    let mut identical = 0;
    for (n, (a, b)) in ours.iter().zip(&expected).enumerate() {
        if a == b {
            identical += 1;
            continue;
        }
        let (x, y): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(a).unwrap(), serde_json::from_str(b).unwrap());
        let t = y["type"].as_u64().unwrap();
        assert!(
            matches!(t, 6 | 8 | 27),
            "line {}: only types 6, 8 and 27 may differ\n ours: {a}\n gpsd: {b}",
            n + 1
        );
        assert_eq!((&x["type"], &x["mmsi"]), (&y["type"], &y["mmsi"]), "line {}", n + 1);
        if t != 27 {
            let (x, y) = (x.as_object().unwrap(), y.as_object().unwrap());
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "line {}", n + 1);
            for (k, v) in x {
                assert!(close(v, &y[k]), "line {} {k}: {v} vs {}", n + 1, y[k]);
            }
        }
    }
    assert!(identical * 10 >= ours.len() * 7, "most lines byte for byte: {identical} of {}", ours.len());
}

/// Equal JSON, numbers within the newer gpsd's extra precision.
fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(p), Some(q)) => (p - q).abs() < 1e-3,
            _ => a == b,
        },
    }
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
