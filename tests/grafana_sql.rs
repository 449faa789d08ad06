//! Every SQL query of the Postgres Grafana dashboards runs on the real
//! Postgres of the local stack.
//!
//! The queries are read from the generated dashboards
//! (`deploy/grafana/dashboards/postgres/*.json`, what Grafana is provisioned
//! with; `deploy/grafana/build.py` writes them from `deploy/grafana/sql/`):
//! every panel target's `rawSql` and every query variable. Grafana's macros
//! and variables are expanded the way its PostgreSQL data source expands
//! them (`$__timeFilter(col)` → `col BETWEEN '<from>' AND '<to>'`,
//! `$__timeGroup(col, 1m)` → `floor(extract(epoch from col)/60)*60`, …), with
//! a six-hour range, a one-minute interval and every value of the
//! multi-value variables, as "All" does.
//!
//! Each test creates a fresh database on the stack's server, migrates it
//! with the pipeline's own migrations (`sinks/migrations`), creates the
//! read-only role of `deploy/grafana/postgres-reader.sql` and runs the
//! queries as that role: on the empty database (they must parse, plan and
//! run), then after `deploy/grafana/sql/sample-data.sql`, where every panel
//! must show something. The tests fail when Postgres is not up.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use tokio_postgres::{Client, NoTls};

/// The role of deploy/grafana/postgres-reader.sql.
const READER: &str = "porttrack_grafana";

/// One SQL query of a dashboard.
#[derive(Debug)]
struct Query {
    /// "dashboard panel 9 'Vessels' A", for messages.
    name: String,
    sql: String,
    /// Query variables (name) run first: their values feed the panels.
    variable: Option<String>,
}

fn grafana_dir() -> PathBuf {
    support::repo_root().join("deploy/grafana")
}

/// Every query of every Postgres dashboard, variables first.
fn queries() -> Vec<(String, Value, Vec<Query>)> {
    let dir = grafana_dir().join("dashboards/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboards in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let file = path.file_name().expect("name").to_string_lossy().into_owned();
            let dash: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
            let mut out = Vec::new();
            for var in dash["templating"]["list"].as_array().expect("variables") {
                if var["type"] == "query" {
                    let name = var["name"].as_str().expect("name").to_owned();
                    out.push(Query {
                        name: format!("{file} variable ${name}"),
                        sql: var["query"].as_str().expect("query").to_owned(),
                        variable: Some(name),
                    });
                }
            }
            for panel in dash["panels"].as_array().expect("panels") {
                for target in panel["targets"].as_array().into_iter().flatten() {
                    out.push(Query {
                        name: format!("{file} panel {} {} {}", panel["id"], panel["title"], target["refId"]),
                        sql: target["rawSql"].as_str().expect("rawSql").to_owned(),
                        variable: None,
                    });
                }
            }
            (file, dash, out)
        })
        .collect()
}

/// The dashboard's time range and interval.
#[derive(Debug, Clone, Copy)]
struct Range {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval: &'static str,
}

impl Range {
    fn last_six_hours() -> Range {
        let to = Utc::now() + chrono::Duration::minutes(1);
        Range { from: to - chrono::Duration::hours(6), to, interval: "1m" }
    }
}

/// Grafana's interval syntax (`30s`, `1m`, `1h`, `1d`, `500ms`) in seconds.
fn interval_seconds(text: &str) -> f64 {
    let text = text.trim().trim_matches('\'').trim_matches('"');
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: f64 = n.parse().unwrap_or_else(|_| panic!("interval {text:?}"));
    n * match unit {
        "ms" => 0.001,
        "s" | "" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => panic!("interval unit {other:?}"),
    }
}

/// `sql` as Grafana's PostgreSQL data source sends it: template variables
/// first (`$zone`, `${zone}`, `$__interval`), then the macros.
fn expand(sql: &str, range: Range, vars: &BTreeMap<String, String>) -> String {
    let mut text = sql.replace("$__interval_ms", &format!("{}", interval_seconds(range.interval) * 1000.0));
    text = text.replace("$__interval", range.interval);
    // Longest names first, so $zone_kind would not be taken for $zone.
    let mut names: Vec<_> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for name in names {
        text = text.replace(&format!("${{{name}}}"), &vars[name]).replace(&format!("${name}"), &vars[name]);
    }
    let time = |t: DateTime<Utc>| format!("'{}'", t.to_rfc3339_opts(SecondsFormat::Secs, true));
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("$__") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let name_len = after.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(after.len());
        let name = &after[..name_len];
        let tail = &after[name_len..];
        assert!(tail.starts_with('('), "unknown Grafana variable $__{name} in:\n{sql}");
        // The argument list up to the matching parenthesis.
        let mut depth = 0;
        let close = tail
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("unclosed $__{name}( in:\n{sql}"));
        let args: Vec<&str> = tail[1..close].split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
        let group = |args: &[&str]| {
            let secs = interval_seconds(args.get(1).unwrap_or_else(|| panic!("$__{name} needs an interval")));
            format!("floor(extract(epoch from {})/{secs})*{secs}", args[0])
        };
        out.push_str(&match name {
            "timeFilter" => format!("{} BETWEEN {} AND {}", args[0], time(range.from), time(range.to)),
            "timeFrom" => time(range.from),
            "timeTo" => time(range.to),
            "time" => format!("{} AS \"time\"", args[0]),
            "timeEpoch" => format!("extract(epoch from {}) AS \"time\"", args[0]),
            "timeGroup" => group(&args),
            "timeGroupAlias" => format!("{} AS \"time\"", group(&args)),
            "unixEpochFilter" => {
                format!(
                    "{} >= {} AND {} <= {}",
                    args[0],
                    range.from.timestamp(),
                    args[0],
                    range.to.timestamp()
                )
            }
            other => {
                panic!("macro $__{other} is not expanded by this test; add it (Grafana's PostgreSQL macros)")
            }
        });
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    // Nothing of Grafana's may reach Postgres.
    if let Some(at) = out.find('$') {
        let near = &out[at..out.len().min(at + 20)];
        assert!(
            !near[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '{'),
            "unexpanded variable {near:?} in:\n{out}"
        );
    }
    out
}

/// Values of a multi-value variable as Grafana's SQL data sources send
/// "All": every value, single-quoted, comma-separated.
fn quoted(values: &[String]) -> String {
    values.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect::<Vec<_>>().join(",")
}

/// Custom variables: their comma-separated options.
fn custom_variables(dash: &Value) -> BTreeMap<String, String> {
    dash["templating"]["list"]
        .as_array()
        .expect("variables")
        .iter()
        .filter(|v| v["type"] == "custom")
        .map(|v| {
            let options: Vec<String> =
                v["query"].as_str().expect("query").split(',').map(|s| s.trim().to_owned()).collect();
            (v["name"].as_str().expect("name").to_owned(), quoted(&options))
        })
        .collect()
}

async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e} (is the local stack up?)"));
    tokio::spawn(conn);
    client
}

/// A fresh database on the stack's server with the pipeline's schema and the
/// dashboards' read-only role; returns (owner URL, reader URL).
async fn migrated_database() -> (String, String) {
    let stack = support::stack();
    let url =
        support::create_database(&stack.postgres_url, &support::unique("grafana").replace('-', "_")).await;
    let mut config = porttrack_sinks::postgres::PostgresConfig::default();
    config.url.clone_from(&url);
    let applied = porttrack_sinks::postgres::migrate(&config).await.expect("migrating");
    assert!(applied > 0, "no migration applied");
    let owner = connect(&url).await;
    let reader =
        std::fs::read_to_string(grafana_dir().join("postgres-reader.sql")).expect("postgres-reader.sql");
    // The role is the server's, shared by every test's database: two
    // `ALTER ROLE`s at once fail ("tuple concurrently updated").
    static ROLE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = ROLE.lock().await;
    owner.batch_execute(&reader).await.expect("deploy/grafana/postgres-reader.sql");
    let reader_url = url.replacen("postgres://postgres@", &format!("postgres://{READER}@"), 1);
    assert_ne!(reader_url, url, "the stack's URL is not postgres://postgres@…: {url}");
    (url, reader_url)
}

/// Runs every query as the reader; returns the row count of each.
async fn run_all(reader_url: &str, range: Range) -> Vec<(String, usize)> {
    let client = connect(reader_url).await;
    let who: String = client.query_one("SELECT current_user::text", &[]).await.expect("whoami").get(0);
    assert_eq!(who, READER);
    let mut counts = Vec::new();
    for (_, dash, queries) in queries() {
        let mut vars = custom_variables(&dash);
        for q in &queries {
            let sql = expand(&q.sql, range, &vars);
            let started = std::time::Instant::now();
            let rows = client.query(&sql, &[]).await.unwrap_or_else(|e| panic!("{}: {e:?}\n{sql}", q.name));
            let took = started.elapsed();
            assert!(took < Duration::from_secs(5), "{}: took {took:?}", q.name);
            if let Some(var) = &q.variable {
                let values: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
                // An empty "All" is sent as '' by Grafana, which matches nothing.
                vars.insert(var.clone(), if values.is_empty() { "''".into() } else { quoted(&values) });
            }
            counts.push((q.name.clone(), rows.len()));
        }
    }
    counts
}

#[tokio::test]
async fn every_dashboard_query_runs_on_an_empty_database() {
    let (_, reader) = migrated_database().await;
    let counts = run_all(&reader, Range::last_six_hours()).await;
    assert!(counts.len() >= 15, "expected the dashboard's queries, got {counts:?}");
}

#[tokio::test]
async fn every_panel_shows_the_sample_data() {
    let (owner_url, reader_url) = migrated_database().await;
    let owner = connect(&owner_url).await;
    let sample = std::fs::read_to_string(grafana_dir().join("sql/sample-data.sql")).expect("sample-data.sql");
    owner.batch_execute(&sample).await.expect("deploy/grafana/sql/sample-data.sql");

    let counts = run_all(&reader_url, Range::last_six_hours()).await;
    let empty: Vec<_> = counts.iter().filter(|(_, n)| *n == 0).map(|(name, _)| name.as_str()).collect();
    assert!(empty.is_empty(), "queries without rows on the sample data: {empty:#?}");

    // The geomap's columns are what its layer reads, with the sample's values.
    let client = connect(&reader_url).await;
    let (_, dash, queries) = queries().into_iter().next().expect("a dashboard");
    let mut vars = custom_variables(&dash);
    vars.insert("zone".into(), "'Maas North Anchorage','Europoort'".into());
    let map = queries.iter().find(|q| q.name.contains("\"Vessels\" \"A\"")).expect("the vessels map");
    let rows =
        client.query(&expand(&map.sql, Range::last_six_hours(), &vars), &[]).await.expect("vessels map");
    let anchored =
        rows.iter().find(|r| r.get::<_, i32>("mmsi") == 244_990_001).expect("sample vessel 244990001");
    assert_eq!(anchored.get::<_, String>("name"), "NOORDZEE TRADER");
    assert!((anchored.get::<_, f64>("latitude") - 51.9876).abs() < 1e-9);
    assert!((anchored.get::<_, f64>("longitude") - 3.9321).abs() < 1e-9);
    assert_eq!(anchored.get::<_, String>("movement"), "anchored");
    assert_eq!(anchored.get::<_, String>("type_group"), "cargo");

    // Congestion by zone: two partitions' partials merged.
    let congestion =
        queries.iter().find(|q| q.name.contains("Congestion by zone")).expect("congestion panel");
    let rows = client
        .query(&expand(&congestion.sql, Range::last_six_hours(), &vars), &[])
        .await
        .expect("congestion");
    let north =
        rows.iter().find(|r| r.get::<_, String>("zone") == "Maas North Anchorage").expect("the anchorage");
    assert_eq!(north.get::<_, i64>("queue_length"), 3 + 4, "partition 0 reports 3, partition 1 reports 4");
}

#[test]
fn macros_expand_as_grafana_does() {
    let range = Range {
        from: DateTime::parse_from_rfc3339("2026-01-02T03:00:00Z").expect("t").with_timezone(&Utc),
        to: DateTime::parse_from_rfc3339("2026-01-02T09:00:00Z").expect("t").with_timezone(&Utc),
        interval: "5m",
    };
    let vars = BTreeMap::from([("zone".to_owned(), "'a','b'".to_owned())]);
    assert_eq!(
        expand(
            "SELECT $__timeGroupAlias(t, $__interval), x FROM y WHERE $__timeFilter(t) AND z IN ($zone)",
            range,
            &vars
        ),
        "SELECT floor(extract(epoch from t)/300)*300 AS \"time\", x FROM y WHERE t BETWEEN '2026-01-02T03:00:00Z' AND '2026-01-02T09:00:00Z' AND z IN ('a','b')"
    );
    assert_eq!(expand("$__timeFrom() < ${zone}", range, &vars), "'2026-01-02T03:00:00Z' < 'a','b'");
}
