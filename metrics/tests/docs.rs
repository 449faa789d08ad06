//! `docs/metrics.md` (the naming spec users and rules read) and the code
//! agree: the spec lists exactly the metrics of [`porttrack_metrics::ALL`],
//! with the same types, and no code records a metric through a string
//! literal that could drift from them.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn the_naming_spec_lists_exactly_the_metrics_in_code() {
    let spec = std::fs::read_to_string(root().join("docs/metrics.md")).unwrap();
    let documented: BTreeMap<String, &str> = spec
        .lines()
        .filter_map(|l| l.strip_prefix("| `porttrack_"))
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('`')?;
            let kind = rest.trim_start_matches(" |").split('|').next()?.trim();
            Some((format!("porttrack_{name}"), kind))
        })
        .collect();
    let coded: BTreeMap<String, &str> =
        porttrack_metrics::ALL.iter().map(|d| (d.name.to_owned(), d.kind.as_str())).collect();
    assert_eq!(documented, coded, "docs/metrics.md and porttrack_metrics::ALL differ");
}

#[test]
fn no_metric_is_recorded_through_a_string_literal() {
    let mut offenders = Vec::new();
    for dir in [
        "src",
        "ingest/src",
        "ingest/ais/src",
        "sinks/src",
        "processors/src",
        "schemas/src",
        "drill/src",
        "api/src",
    ] {
        visit(&root().join(dir), &mut |path, text| {
            let squashed: String = text.split_whitespace().collect::<Vec<_>>().join("");
            for macro_name in
                ["counter!(", "gauge!(", "histogram!(", "describe_counter!(", "describe_gauge!("]
            {
                if squashed.contains(&format!("{macro_name}\"porttrack_")) {
                    offenders.push(format!("{}: {macro_name}\"porttrack_…", path.display()));
                }
            }
        });
    }
    assert!(offenders.is_empty(), "use the porttrack_metrics constants instead:\n{}", offenders.join("\n"));
}

fn visit(dir: &Path, f: &mut impl FnMut(&Path, &str)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, f);
        } else if path.extension().is_some_and(|e| e == "rs") {
            f(&path, &std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_metric_has_a_help_text_and_a_well_formed_name() {
    for def in porttrack_metrics::ALL {
        assert!(def.name.starts_with("porttrack_"), "{}", def.name);
        assert!(!def.help.is_empty(), "{} has no help text", def.name);
        if def.kind == porttrack_metrics::Kind::Counter {
            assert!(def.name.ends_with("_total"), "counter {} must end in _total", def.name);
        }
    }
}
