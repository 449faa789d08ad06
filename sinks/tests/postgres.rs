//! The Postgres sink against the local stack's Postgres (127.0.0.1:5432):
//! each test creates its own database and drops it at the end.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use porttrack_processors::{CallPhase, ZoneKind, ZonePartial};
use porttrack_schemas::{Event, Origin, RejectClass, Sourced, VesselStatic};
use porttrack_sinks::derived::{PortCallRow, ZoneEventRow};
use porttrack_sinks::postgres::{PostgresConfig, PostgresSink, TlsMode, migrate, migration_names};
use porttrack_sinks::{DeadLetterSummary, Derived, Sink, SinkError};
use support::*;
use tokio_postgres::NoTls;

const ADDR: &str = "127.0.0.1:5432";

/// A fresh, migrated database; dropped by [`Db::drop_now`].
struct Db {
    name: String,
    config: PostgresConfig,
}

impl Db {
    async fn create(tag: &str) -> Db {
        require("postgres", ADDR);
        let name = unique(tag);
        let admin = admin().await;
        admin.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
        let config = PostgresConfig {
            url: format!("postgres://postgres@{ADDR}/{name}"),
            pool_size: 2,
            ..Default::default()
        };
        assert_eq!(migrate(&config).await.unwrap(), migration_names().len(), "every migration applies");
        assert_eq!(migrate(&config).await.unwrap(), 0, "migrations apply once");
        Db { name, config }
    }

    async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.config.url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    }

    async fn count(&self, sql: &str) -> i64 {
        self.client().await.query_one(sql, &[]).await.unwrap().get(0)
    }

    async fn drop_now(self) {
        let admin = admin().await;
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await.unwrap();
    }
}

async fn admin() -> tokio_postgres::Client {
    let (client, conn) =
        tokio_postgres::connect(&format!("postgres://postgres@{ADDR}/postgres"), NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

/// Writes until the sink acknowledges, as the pipeline does (transient errors retried).
async fn write_until_acked(
    sink: &PostgresSink,
    batch: &[porttrack_schemas::Sourced<porttrack_schemas::Event>],
) -> u32 {
    let mut transient = 0;
    loop {
        match sink.write(batch).await {
            Ok(outcome) => {
                assert!(outcome.rejected.is_empty());
                return transient;
            }
            Err(SinkError::Transient(_)) => {
                transient += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn replaying_every_kind_changes_nothing_and_counts_exactly() {
    let db = Db::create("replay").await;
    let sink = PostgresSink::new(&db.config).unwrap();
    let batch = mixed_batch();
    sink.write(&batch).await.unwrap();
    let tables = [
        ("positions", 300),
        ("vessel_state", 30),
        ("vessels", 2),
        ("weather", 2),
        ("cargo_events", 2),
        ("port_ops_events", 1),
    ];
    for (table, n) in tables {
        assert_eq!(db.count(&format!("SELECT count(*) FROM {table}")).await, n, "{table}");
    }
    let snapshot = "SELECT string_agg(format('%s', v), ';' ORDER BY mmsi) FROM vessel_state v";
    let before: String = db.client().await.query_one(snapshot, &[]).await.unwrap().get(0);
    // The same records again, and again split differently: no new rows.
    sink.write(&batch).await.unwrap();
    sink.write(&batch[100..]).await.unwrap();
    for (table, n) in tables {
        assert_eq!(db.count(&format!("SELECT count(*) FROM {table}")).await, n, "{table} after replay");
    }
    let after: String = db.client().await.query_one(snapshot, &[]).await.unwrap().get(0);
    // Not even updated_at moves: replaying the current state writes nothing.
    assert_eq!(before, after);
    // Two event days: two partitions, created on demand.
    assert_eq!(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'positions'::regclass").await, 2);
    assert_eq!(db.count("SELECT sum(teu_discharged)::bigint FROM cargo_inventory").await, 300);
    assert_eq!(db.count("SELECT count(*) FROM weather_latest").await, 1);
    db.drop_now().await;
}

#[tokio::test]
async fn older_replays_never_overwrite_newer_state() {
    let db = Db::create("order").await;
    let sink = PostgresSink::new(&db.config).unwrap();
    let mmsi = 244_000_009;
    sink.write(&[position(mmsi, 100, 10)]).await.unwrap();
    sink.write(&[position(mmsi, 50, 5)]).await.unwrap(); // older, replayed late
    let row =
        db.client().await.query_one("SELECT event_time, source_offset FROM vessel_state", &[]).await.unwrap();
    assert_eq!(row.get::<_, chrono::DateTime<Utc>>(0), t(100));
    assert_eq!(row.get::<_, i64>(1), 10);
    assert_eq!(db.count("SELECT count(*) FROM positions").await, 2, "history keeps both");

    // Static data: a newer report fills fields and never blanks them; an
    // older one only fills blanks.
    sink.write(&[static_report(mmsi, 100, 1, Some("NEW NAME"), None)]).await.unwrap();
    sink.write(&[static_report(mmsi, 200, 2, None, Some(12.0))]).await.unwrap();
    sink.write(&[static_report(mmsi, 50, 0, Some("OLD NAME"), Some(9.0))]).await.unwrap();
    let row =
        db.client().await.query_one("SELECT shipname, draught, last_report FROM vessels", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "NEW NAME");
    assert_eq!(row.get::<_, f32>(1), 12.0);
    assert_eq!(row.get::<_, chrono::DateTime<Utc>>(2), t(200));
    db.drop_now().await;
}

#[tokio::test]
async fn ais_kinds_are_stored_once_and_replays_change_nothing() {
    let db = Db::create("aiskinds").await;
    let sink = PostgresSink::new(&db.config).unwrap();
    let batch = ais_batch();
    sink.write(&batch).await.unwrap();
    // Three texts; two met-hydro reports (the copy heard by a second
    // receiver at the same time is the same report); two stations.
    let tables = [("safety_messages", 3), ("met_hydro", 2), ("stations", 2)];
    for (table, n) in tables {
        assert_eq!(db.count(&format!("SELECT count(*) FROM {table}")).await, n, "{table}");
    }
    let snapshot = "SELECT string_agg(format('%s', s), ';' ORDER BY mmsi) FROM stations s";
    let before: String = db.client().await.query_one(snapshot, &[]).await.unwrap().get(0);
    sink.write(&batch).await.unwrap();
    sink.write(&batch[3..]).await.unwrap();
    sink.write(&batch[..6]).await.unwrap();
    for (table, n) in tables {
        assert_eq!(db.count(&format!("SELECT count(*) FROM {table}")).await, n, "{table} after replay");
    }
    let after: String = db.client().await.query_one(snapshot, &[]).await.unwrap().get(0);
    assert_eq!(before, after, "replaying the current station state writes nothing");

    let client = db.client().await;
    // The base station keeps its newest report, though the older came later in the batch.
    let row = client
        .query_one(
            "SELECT kind, event_time, source_offset, station_time FROM stations WHERE mmsi = 2442000",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "base_station");
    assert_eq!(row.get::<_, chrono::DateTime<Utc>>(1), t(60));
    assert_eq!(row.get::<_, i64>(2), 107);
    assert_eq!(row.get::<_, Option<chrono::DateTime<Utc>>>(3), Some(t(60)));
    sink.write(&[station(2_442_000, 10, 200, None, false)]).await.unwrap(); // older, replayed late
    let offset: i64 = client
        .query_one("SELECT source_offset FROM stations WHERE mmsi = 2442000", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(offset, 107, "an older report never overwrites a newer one");
    let buoy = client
        .query_one("SELECT kind, name, off_position, aid_type FROM stations WHERE mmsi = 992446001", &[])
        .await
        .unwrap();
    assert_eq!(buoy.get::<_, String>(0), "aid_to_navigation");
    assert_eq!(buoy.get::<_, String>(1), "MAAS CENTER");
    assert!(buoy.get::<_, bool>(2));
    assert_eq!(buoy.get::<_, i16>(3), 22);

    // Met-hydro: typed columns, and the details as decoded.
    let row = client
        .query_one(
            "SELECT wind_speed_kn, wind_gust_kn, water_level_m, details->>'preciptype', (details->>'cdepth2')::int \
             FROM met_hydro WHERE event_time = $1",
            &[&t(600)],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, f32>(0), 24.5);
    assert_eq!(row.get::<_, f32>(1), 34.4);
    assert_eq!(row.get::<_, f32>(2), -0.45);
    assert_eq!(row.get::<_, String>(3), "rain");
    assert_eq!(row.get::<_, i32>(4), 31);

    // Safety messages on the map: a vessel at its last position before the
    // text, a coast station at the station's position.
    let rows = client
        .query(
            "SELECT mmsi, addressed, dest_mmsi, text, lat, lon, located_by FROM safety_messages_located \
             ORDER BY event_time",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].get::<_, i32>(0), 2_442_000);
    assert_eq!(rows[0].get::<_, Option<String>>(6).as_deref(), Some("station"));
    assert!(rows[1].get::<_, bool>(1));
    assert_eq!(rows[1].get::<_, Option<i32>>(2), Some(2_442_000));
    assert_eq!(rows[1].get::<_, Option<f64>>(4), Some(51.9));
    assert_eq!(rows[1].get::<_, Option<String>>(6).as_deref(), Some("vessel_position"));
    assert_eq!(rows[2].get::<_, String>(3), "NOT UNDER COMMAND");
    db.drop_now().await;
}

#[tokio::test]
async fn inland_static_data_merges_into_the_vessel_record_and_is_never_blanked() {
    let db = Db::create("inland").await;
    let sink = PostgresSink::new(&db.config).unwrap();
    let mmsi = 244_650_946;
    let inland = |second, offset, eni: Option<&str>, hazard| Sourced {
        origin: Origin::new("ais.nmea", 0, offset),
        event: Event::Static(Box::new(VesselStatic {
            mmsi,
            timestamp: t(second),
            eni: eni.map(str::to_owned),
            inland_ship_type: Some(8010),
            hazard,
            loaded: Some(true),
            length_m: Some(110.0),
            beam_m: Some(11.4),
            draught: Some(2.5),
            ..Default::default()
        })),
    };
    // A type 5 first, then the inland report, then a newer type 5 without
    // inland fields, then an older inland report replayed late.
    let batch = vec![
        static_report(mmsi, 100, 1, Some("RHENUS"), None),
        inland(200, 2, Some("02103547"), Some(1)),
        static_report(mmsi, 300, 3, Some("RHENUS 2"), None),
    ];
    sink.write(&batch).await.unwrap();
    sink.write(&batch).await.unwrap(); // replay
    sink.write(&[inland(50, 0, Some("99999999"), Some(3))]).await.unwrap();
    let read = "SELECT shipname, eni, inland_ship_type, hazard, loaded, length_m, beam_m, draught, last_report \
                FROM vessels";
    let rows = db.client().await.query(read, &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.get::<_, String>(0), "RHENUS 2");
    assert_eq!(row.get::<_, String>(1), "02103547", "an older report only fills blanks");
    assert_eq!(row.get::<_, i16>(2), 8010);
    assert_eq!(row.get::<_, i16>(3), 1);
    assert!(row.get::<_, bool>(4));
    assert_eq!((row.get::<_, f32>(5), row.get::<_, f32>(6), row.get::<_, f32>(7)), (110.0, 11.4, 2.5));
    assert_eq!(row.get::<_, chrono::DateTime<Utc>>(8), t(300));
    // A newer inland report overwrites what it has.
    sink.write(&[inland(400, 4, None, Some(0))]).await.unwrap();
    let row = db.client().await.query_one(read, &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(1), "02103547", "a field a newer report lacks is kept");
    assert_eq!(row.get::<_, i16>(3), 0);
    db.drop_now().await;
}

#[tokio::test]
async fn a_bad_row_fails_its_batch_permanently_and_leaves_nothing_behind() {
    let db = Db::create("bad").await;
    // One writer: the batch is one transaction, all or nothing.
    let sink = PostgresSink::new(&PostgresConfig { batch_writers: 1, ..db.config.clone() }).unwrap();
    let mut batch = mixed_batch();
    batch.insert(150, bad_position());
    let err = sink.write(&batch).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert_eq!(db.count("SELECT count(*) FROM positions").await, 0, "all or nothing");
    assert_eq!(db.count("SELECT count(*) FROM cargo_events").await, 0, "all or nothing");
    // A NUL byte cannot be stored in text: also the record's fault.
    let nul = static_report(244_000_001, 0, 5, Some("BAD\0NAME"), None);
    assert!(!sink.write(&[nul]).await.unwrap_err().is_transient());
    bisect_out(&sink, &batch, 150).await;
    assert_eq!(db.count("SELECT count(*) FROM positions").await, 300);
    db.drop_now().await;
}

/// With the batch split over writers, a failure may leave the other
/// writers' part committed; the bisection that follows writes it again,
/// and ends with every good row stored exactly once.
#[tokio::test]
async fn a_bad_row_in_a_split_batch_is_isolated_and_the_rest_stored_once() {
    let db = Db::create("bad_split").await;
    let sink = PostgresSink::new(&PostgresConfig { batch_writers: 2, ..db.config.clone() }).unwrap();
    let mut batch = mixed_batch();
    batch.insert(150, bad_position());
    assert!(!sink.write(&batch).await.unwrap_err().is_transient());
    bisect_out(&sink, &batch, 150).await;
    for (table, n) in [("positions", 300), ("vessel_state", 30), ("cargo_events", 2), ("vessels", 2)] {
        assert_eq!(db.count(&format!("SELECT count(*) FROM {table}")).await, n, "{table}");
    }
    db.drop_now().await;
}

/// What the pipeline's bisection of `batch` comes to when the record at
/// `bad` is at fault: the good parts go through, and the bad record, alone,
/// is refused permanently.
async fn bisect_out(sink: &PostgresSink, batch: &[Sourced<Event>], bad: usize) {
    sink.write(&batch[..bad]).await.unwrap();
    sink.write(&batch[bad + 1..]).await.unwrap();
    assert!(!sink.write(&batch[bad..=bad]).await.unwrap_err().is_transient());
}

/// A position the table's CHECK refuses (latitude 95°), from a vessel of
/// the mixed batch's (244000001: the second of two writers).
fn bad_position() -> Sourced<Event> {
    let mut bad = position(244_000_001, 0, 99);
    if let Event::Position(p) = &mut bad.event {
        p.lat = 95.0;
    }
    bad
}

/// Splitting a batch over writers changes where its rows are written from,
/// never which rows end up stored.
#[tokio::test]
async fn a_batch_split_over_writers_stores_what_one_writer_stores() {
    let mut stored = Vec::new();
    for writers in [1, 3] {
        let db = Db::create(&format!("writers{writers}")).await;
        let config = PostgresConfig { batch_writers: writers, pool_size: writers + 1, ..db.config.clone() };
        let sink = PostgresSink::new(&config).unwrap();
        let batch = mixed_batch();
        sink.write(&batch).await.unwrap();
        let client = db.client().await;
        // One transaction per writer wrote the positions (xmin names it).
        let transactions = "SELECT count(DISTINCT xmin::text) FROM positions";
        assert_eq!(client.query_one(transactions, &[]).await.unwrap().get::<_, i64>(0), writers as i64);
        // And once more, split differently: a replay adds nothing.
        sink.write(&batch[100..]).await.unwrap();
        let mut tables = Vec::new();
        for sql in [
            "SELECT count(*)::text || ' ' || sum(source_offset)::text FROM positions",
            "SELECT string_agg(format('%s %s %s %s %s', mmsi, event_time, lat, lon, source_offset), ';' \
             ORDER BY mmsi) FROM vessel_state",
            "SELECT string_agg(format('%s %s %s', mmsi, shipname, draught), ';' ORDER BY mmsi) FROM vessels",
            "SELECT count(*)::text FROM weather",
            "SELECT string_agg(event_id, ';' ORDER BY event_id) FROM cargo_events",
            "SELECT string_agg(event_id, ';' ORDER BY event_id) FROM port_ops_events",
        ] {
            tables.push(client.query_one(sql, &[]).await.unwrap().get::<_, String>(0));
        }
        stored.push(tables);
        db.drop_now().await;
    }
    assert_eq!(stored[0], stored[1]);
    assert!(stored[0][0].starts_with("300 "), "{}", stored[0][0]);
}

#[tokio::test]
async fn an_unreachable_server_is_transient() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let config = PostgresConfig {
        url: "postgres://postgres@127.0.0.1:1/porttrack".into(),
        connect_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let sink = PostgresSink::new(&config).unwrap();
    let err = sink.write(&[position(244_000_001, 0, 0)]).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(sink.check().await.unwrap_err().is_transient());
    assert!(migrate(&config).await.unwrap_err().is_transient());
}

#[tokio::test]
async fn tls_require_encrypts_the_session() {
    let db = Db::create("tls").await;
    let ssl_on: String = db.client().await.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    assert_eq!(ssl_on, "on", "the local stack's Postgres serves TLS (deploy/local/up)");
    let config = PostgresConfig { tls: TlsMode::Require, ..db.config.clone() };
    let sink = PostgresSink::new(&config).unwrap();
    sink.write(&mixed_batch()).await.unwrap();
    // Our pooled sessions are the ones using SSL in this database.
    let encrypted = db
        .count(&format!(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = '{}' AND s.ssl",
            db.name
        ))
        .await;
    assert!(encrypted >= 1, "no encrypted session");
    assert_eq!(db.count("SELECT count(*) FROM positions").await, 300);
    // verify-full against the Mozilla roots refuses a certificate of the
    // stack's own CA; with that CA it connects (the URL names 127.0.0.1,
    // which the certificate lists).
    let strict =
        PostgresSink::new(&PostgresConfig { tls: TlsMode::VerifyFull, ..db.config.clone() }).unwrap();
    assert!(strict.check().await.is_err());
    let trusted = PostgresSink::new(&PostgresConfig {
        tls: TlsMode::VerifyFull,
        ca_file: Some(stack_ca_file()),
        ..db.config.clone()
    })
    .unwrap();
    trusted.check().await.unwrap();
    trusted.write(&[position(244_000_777, 0, 0)]).await.unwrap();
    drop(sink);
    drop(strict);
    drop(trusted);
    db.drop_now().await;
}

#[tokio::test]
async fn derived_outputs_converge_and_move_forward_only() {
    let db = Db::create("derived").await;
    let sink = PostgresSink::new(&db.config).unwrap();
    let call = |phase: CallPhase, anchored: Option<i64>, berthed: Option<i64>, waiting: i64| {
        let mut c = porttrack_processors::PortCall {
            anchored_at: anchored.map(t),
            waiting_time_s: waiting,
            berth: berthed.map(|_| "Maasvlakte II".into()),
            berthed_at: berthed.map(t),
            ..porttrack_processors::PortCall::open(244_000_001, t(0), true)
        };
        c.teu_discharged = 10;
        Derived { port_calls: vec![port_call_row(phase, c)], ..Derived::default() }
    };
    let berthed = call(CallPhase::Berthed, Some(100), Some(4000), 3000);
    let anchored = call(CallPhase::Anchored, Some(100), None, 0);
    sink.write_derived(&berthed).await.unwrap();
    sink.write_derived(&anchored).await.unwrap(); // older update, replayed late
    let row = db
        .client()
        .await
        .query_one("SELECT phase, berth, waiting_time_s, berthed_at FROM port_calls", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "berthed");
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some("Maasvlakte II"));
    assert_eq!(row.get::<_, i64>(2), 3000);
    assert_eq!(row.get::<_, Option<chrono::DateTime<Utc>>>(3), Some(t(4000)));

    // Zone events and congestion partials: replays insert nothing; the view
    // merges the latest partial of each (zone, partition).
    let partial = |partition: i32, at: i64, queue: u64, waits: Vec<i64>| ZonePartial {
        zone: "Maas North Anchorage".into(),
        kind: ZoneKind::Anchorage,
        berth_length_m: None,
        partition,
        at: t(at),
        vessels_present: queue + 1,
        queue_length: queue,
        waiting_now_s: waits,
        waits_completed_s: vec![],
        rate_window_s: 3600,
        entries: 2,
        exits: 1,
        moored_vessels: 0,
        moored_length_m: 0,
        moored_without_length: 0,
        hazardous_vessels: 0,
        teu_loaded: 0,
        teu_discharged: 0,
        weather: None,
    };
    let d = Derived {
        zone_events: vec![zone_event(244_000_001, "entered", 10), zone_event(244_000_001, "exited", 500)],
        congestion: vec![
            partial(0, 0, 9, vec![1; 9]),
            partial(0, 60, 3, vec![100, 200, 300]),
            partial(1, 60, 2, vec![10, 1000]),
        ],
        ..Derived::default()
    };
    sink.write_derived(&d).await.unwrap();
    sink.write_derived(&d).await.unwrap();
    assert_eq!(db.count("SELECT count(*) FROM zone_events").await, 2);
    assert_eq!(db.count("SELECT count(*) FROM congestion_partials").await, 3);
    let c = db
        .client()
        .await
        .query_one(
            "SELECT partitions, queue_length, waiting_now_count, waiting_now_p90_s, arrivals_per_hour FROM congestion",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(c.get::<_, i64>(0), 2);
    assert_eq!(c.get::<_, i64>(1), 5);
    assert_eq!(c.get::<_, i64>(2), 5);
    // Pooled waits 10, 100, 200, 300, 1000: nearest-rank p90 is the 5th.
    assert_eq!(c.get::<_, i64>(3), 1000);
    assert_eq!(c.get::<_, f64>(4), 4.0);
    // The same through the processors' own merge.
    let latest = [partial(0, 60, 3, vec![100, 200, 300]), partial(1, 60, 2, vec![10, 1000])];
    let merged = porttrack_processors::merge(&latest, &porttrack_processors::CongestionThresholds::default());
    assert_eq!(merged[0].waiting_now.p90_s, 1000);
    assert_eq!(merged[0].queue_length, 5);
    db.drop_now().await;
}

fn port_call_row(phase: CallPhase, call: porttrack_processors::PortCall) -> PortCallRow {
    let geo = porttrack_processors::Geography::rotterdam();
    let update = porttrack_processors::Output::PortCall(porttrack_processors::PortCallUpdate { phase, call });
    Derived::new(&geo, &[update], &[]).port_calls.remove(0)
}

fn zone_event(mmsi: u32, direction: &'static str, at: i64) -> ZoneEventRow {
    ZoneEventRow {
        mmsi,
        zone: "Maas North Anchorage".into(),
        zone_kind: "anchorage",
        direction,
        at: t(at),
        stay_s: (direction == "exited").then_some(490),
    }
}

#[tokio::test]
async fn dead_letters_are_counted_once_per_record_per_hour() {
    let db = Db::create("dlq").await;
    let sink = PostgresSink::new(&db.config).unwrap();
    let origins: Vec<Origin> = (0..5).map(|o| Origin::new("ais.positions", 1, o)).collect();
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 8, 30, 0).unwrap();
    let letters: Vec<DeadLetterSummary<'_>> = origins
        .iter()
        .enumerate()
        .map(|(i, origin)| DeadLetterSummary {
            origin,
            class: if i < 3 { RejectClass::MmsiInvalid } else { RejectClass::MalformedJson },
            reason: "bad",
            at,
        })
        .collect();
    sink.write_dead_letters(&letters).await.unwrap();
    sink.write_dead_letters(&letters).await.unwrap(); // at-least-once: delivered twice
    let rows = db
        .client()
        .await
        .query("SELECT class, records FROM dead_letters_hourly ORDER BY class", &[])
        .await
        .unwrap();
    let got: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![("malformed_json".into(), 2), ("mmsi_invalid".into(), 3)]);
    db.drop_now().await;
}

/// A TCP proxy in front of Postgres that can cut every connection and
/// refuse new ones, to simulate an outage without touching the server.
struct FlakyProxy {
    port: u16,
    down: Arc<AtomicBool>,
}

impl FlakyProxy {
    async fn start() -> FlakyProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&down);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if flag.load(Ordering::SeqCst) {
                    drop(inbound); // refused, as far as the client can tell
                    continue;
                }
                let flag = Arc::clone(&flag);
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(ADDR).await else { return };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    tokio::pin!(copy);
                    loop {
                        tokio::select! {
                            _ = &mut copy => return,
                            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                                if flag.load(Ordering::SeqCst) {
                                    return; // cut: both sockets dropped mid-session
                                }
                            }
                        }
                    }
                });
            }
        });
        FlakyProxy { port, down }
    }
}

#[tokio::test]
async fn an_outage_is_retried_and_loses_nothing() {
    let db = Db::create("outage").await;
    let proxy = FlakyProxy::start().await;
    let config = PostgresConfig {
        url: format!("postgres://postgres@127.0.0.1:{}/{}", proxy.port, db.name),
        connect_timeout: Duration::from_secs(1),
        ..db.config.clone()
    };
    let sink = PostgresSink::new(&config).unwrap();
    let batches: Vec<Vec<_>> = (0..10)
        .map(|b| {
            (0..100)
                .map(|i| {
                    position(
                        244_000_000 + i,
                        i64::from(b) * 100 + i64::from(i),
                        i64::from(b * 100 + i as i32),
                    )
                })
                .collect()
        })
        .collect();
    sink.write(&batches[0]).await.unwrap();
    proxy.down.store(true, Ordering::SeqCst);
    let down = Arc::clone(&proxy.down);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        down.store(false, Ordering::SeqCst);
    });
    let started = Instant::now();
    let mut transient = 0;
    for batch in &batches[1..] {
        transient += write_until_acked(&sink, batch).await;
    }
    assert!(transient > 0, "the outage was not noticed");
    assert!(started.elapsed() >= Duration::from_secs(2), "writes did not wait for the outage");
    assert_eq!(db.count("SELECT count(*) FROM positions").await, 1000, "nothing lost, nothing doubled");
    drop(sink);
    db.drop_now().await;
}

#[tokio::test]
async fn processor_checkpoints_round_trip_and_are_replaced_per_group_and_partition() {
    use porttrack_processors::{Geography, Port, PortConfig};
    use porttrack_schemas::{Event, Position, Sourced};
    let db = Db::create("state").await;
    let sink = PostgresSink::new(&db.config).unwrap();
    let port = Port::new(Geography::rotterdam(), PortConfig::default());
    let mut out = Vec::new();
    for (i, p) in [0, 1].into_iter().enumerate() {
        let position = Position {
            mmsi: 244_000_100 + i as u32,
            timestamp: Utc.with_ymd_and_hms(2026, 11, 22, 4, 0, 0).unwrap(),
            lat: 51.98,
            lon: 4.05,
            sog: Some(8.0),
            cog: Some(90.0),
            heading: None,
            nav_status: None,
        };
        port.process(
            &Sourced { origin: Origin::new("ais.positions", p, 0), event: Event::Position(position) },
            &mut out,
        );
    }
    let states = vec![port.checkpoint(0), port.checkpoint(1)];
    sink.save_processor_state("group-a", &states).await.unwrap();
    sink.save_processor_state("group-a", &states[..1]).await.unwrap(); // replaced, not added
    let loaded = sink.load_processor_state("group-a", &[0, 1, 2]).await.unwrap();
    assert_eq!(loaded.len(), 2);
    let restored = Port::new(Geography::rotterdam(), PortConfig::default());
    for state in loaded {
        let p = state.partition;
        assert_eq!(state, port.export_partition(p), "partition {p} round-trips exactly");
        restored.restore_partition(p, state).unwrap();
    }
    assert_eq!(restored.vessel_count(), 2);
    assert!(sink.load_processor_state("group-b", &[0, 1]).await.unwrap().is_empty(), "groups are apart");
    assert_eq!(db.count("SELECT count(*) FROM processor_state").await, 2);
    // Stored as text, lz4-compressed (V6): a save is not parsed into jsonb.
    let column = db
        .client()
        .await
        .query_one(
            "SELECT atttypid::regtype::text, attcompression::text FROM pg_attribute \
             WHERE attrelid = 'processor_state'::regclass AND attname = 'state'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((column.get::<_, String>(0), column.get::<_, String>(1)), ("json".into(), "l".into()));
    db.drop_now().await;
}

/// Bug: refinery refuses to run when the database holds a migration this
/// build does not carry, so a pod of the stable release restarted during a
/// canary, or after a rollback, crashed on start against the schema the
/// newer release had (compatibly) migrated.
#[tokio::test]
async fn a_release_starts_on_a_schema_a_newer_release_migrated() {
    let db = Db::create("newer").await;
    db.client()
        .await
        .batch_execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (9999, 'from_a_newer_release', '2026-12-01T00:00:00Z', '0')",
        )
        .await
        .unwrap();
    assert_eq!(migrate(&db.config).await.unwrap(), 0, "starts, applies nothing");
    db.drop_now().await;
}
