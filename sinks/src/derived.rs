//! Processor outputs as the sinks store them.
//!
//! This is the one module that knows `porttrack-processors`' output types.
//! [`Derived::new`] turns a batch of [`Output`]s and [`ZonePartial`]s into
//! plain rows with zone *names* (the processors speak in [`ZoneId`] indices
//! into their [`Geography`]) and a stable identity per row, so every sink
//! upserts or skips on the same key and replays converge:
//!
//! | row | identity | replay of an older version |
//! |---|---|---|
//! | [`ZoneEventRow`] | `(mmsi, zone, at, direction)` | same row, skipped |
//! | [`PortCallRow`] | the call's `id` | guarded by [`PortCallRow::progress`] |
//! | [`AnomalyRow`] | `(mmsi, at, kind)` | same row, skipped |
//! | [`WeatherAlertRow`] | `(zone, at, kind, station)` | same row, skipped |
//! | [`ZonePartial`] | `(zone, partition, at)` | same row, skipped |
//!
//! ```
//! use porttrack_processors::{Geography, Port, PortConfig};
//! use porttrack_sinks::Derived;
//!
//! let port = Port::new(Geography::rotterdam(), PortConfig::default());
//! let derived = Derived::new(port.geography(), &[], &[]);
//! assert!(derived.is_empty());
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use porttrack_processors::{
    Anomaly, AnomalyKind, CallId, CallPhase, CallStage, Direction, Geography, Output, PortCall, WeatherAlert,
    ZoneId, ZonePartial, ZoneTransition,
};
use serde::Serialize;

/// One acknowledgement step's worth of processor outputs, ready for the sinks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// Confirmed zone entries and exits.
    pub zone_events: Vec<ZoneEventRow>,
    /// The newest state of every port call updated in the batch (one per id).
    pub port_calls: Vec<PortCallRow>,
    /// Anomalies.
    pub anomalies: Vec<AnomalyRow>,
    /// Weather limits crossed or cleared.
    pub weather_alerts: Vec<WeatherAlertRow>,
    /// Per-(zone, partition) congestion partials from a snapshot.
    pub congestion: Vec<ZonePartial>,
}

impl Derived {
    /// Resolves `outputs` and `partials` against `geography` (the one the
    /// processor that emitted them uses).
    ///
    /// Port-call updates are coalesced here: several updates of one call in
    /// a batch become its most advanced state, because a single upsert
    /// statement may not touch a row twice.
    ///
    /// # Panics
    ///
    /// If an output names a zone that is not in `geography` (outputs of a
    /// processor built on another geography), as [`Geography::zone`] does.
    pub fn new(geography: &Geography, outputs: &[Output], partials: &[ZonePartial]) -> Derived {
        let zone = |id: ZoneId| geography.zone(id);
        let mut derived = Derived { congestion: partials.to_vec(), ..Derived::default() };
        let mut calls: HashMap<CallId, PortCallRow> = HashMap::new();
        for output in outputs {
            match output {
                Output::Zone(t) => derived.zone_events.push(ZoneEventRow::new(t, zone(t.zone))),
                Output::PortCall(update) => {
                    let row = PortCallRow::new(update.phase, &update.call);
                    match calls.get_mut(&update.call.id()) {
                        // Equal progress: the later output wins (cargo and
                        // services change a call without a newer timestamp).
                        Some(cur) if row.progress() >= cur.progress() => *cur = row.inherit_phase(cur),
                        Some(_) => {}
                        None => {
                            calls.insert(update.call.id(), row);
                        }
                    }
                }
                Output::Anomaly(a) => {
                    derived.anomalies.push(AnomalyRow::new(a, a.zone.map(|z| zone(z).name().to_owned())))
                }
                Output::Weather(w) => {
                    derived.weather_alerts.push(WeatherAlertRow::new(w, zone(w.zone).name()))
                }
                // `Output` is non-exhaustive: a new kind must be given a home
                // here before the processors emit it; until then it is loud.
                other => {
                    tracing::error!(?other, "processor output of an unknown kind: not stored by any sink");
                    metrics::counter!(porttrack_metrics::DERIVED_UNSTORED_TOTAL).increment(1);
                }
            }
        }
        let mut calls: Vec<_> = calls.into_iter().collect();
        calls.sort_unstable_by_key(|(id, _)| *id);
        derived.port_calls = calls.into_iter().map(|(_, row)| row).collect();
        derived
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows of every kind.
    pub fn len(&self) -> usize {
        self.zone_events.len()
            + self.port_calls.len()
            + self.anomalies.len()
            + self.weather_alerts.len()
            + self.congestion.len()
    }

    /// The rows whose position lies in `range`, counting every kind in
    /// declaration order (zone events first, congestion last): how a write
    /// that a sink refused is bisected down to the rows at fault.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Derived {
        fn take<T: Clone>(rows: &[T], range: &std::ops::Range<usize>, start: &mut usize) -> Vec<T> {
            let from = range.start.saturating_sub(*start).min(rows.len());
            let to = range.end.saturating_sub(*start).min(rows.len());
            *start += rows.len();
            rows[from..to.max(from)].to_vec()
        }
        let mut start = 0;
        Derived {
            zone_events: take(&self.zone_events, &range, &mut start),
            port_calls: take(&self.port_calls, &range, &mut start),
            anomalies: take(&self.anomalies, &range, &mut start),
            weather_alerts: take(&self.weather_alerts, &range, &mut start),
            congestion: take(&self.congestion, &range, &mut start),
        }
    }

    /// Each row on its own, as `(kind, JSON)`: what a dead letter for a
    /// refused output carries. The kinds are `zone_event`, `port_call`,
    /// `anomaly`, `weather_alert` and `congestion`.
    pub fn rows_as_json(&self) -> Vec<(&'static str, Vec<u8>)> {
        fn json<'a, T: Serialize>(
            kind: &'static str,
            rows: &'a [T],
        ) -> impl Iterator<Item = (&'static str, Vec<u8>)> + 'a {
            // These types serialize infallibly (no maps with non-string keys).
            rows.iter().map(move |r| (kind, serde_json::to_vec(r).unwrap_or_default()))
        }
        json("zone_event", &self.zone_events)
            .chain(json("port_call", &self.port_calls))
            .chain(json("anomaly", &self.anomalies))
            .chain(json("weather_alert", &self.weather_alerts))
            .chain(json("congestion", &self.congestion))
            .collect()
    }
}

/// A confirmed zone entry or exit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneEventRow {
    /// The vessel.
    pub mmsi: u32,
    /// Zone name.
    pub zone: String,
    /// Zone kind (`anchorage`, `berth`, ...).
    pub zone_kind: &'static str,
    /// `entered` or `exited`.
    pub direction: &'static str,
    /// Event time of the first fix on the new side.
    pub at: DateTime<Utc>,
    /// For exits, seconds inside.
    pub stay_s: Option<i64>,
}

impl ZoneEventRow {
    fn new(t: &ZoneTransition, zone: &porttrack_processors::Zone) -> Self {
        ZoneEventRow {
            mmsi: t.mmsi,
            zone: zone.name().to_owned(),
            zone_kind: zone.kind().as_str(),
            direction: match t.direction {
                Direction::Entered => "entered",
                Direction::Exited => "exited",
            },
            at: t.at,
            stay_s: t.stay_s,
        }
    }

    /// Stable document id.
    pub fn id(&self) -> String {
        format!("{}-{}-{}-{}", self.mmsi, self.zone, self.at.timestamp_millis(), self.direction)
    }
}

/// A port call as it stands after its latest update in the batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortCallRow {
    /// Lifecycle phase, [`CallStage::name`]: `arrived`, `anchored`,
    /// `wait_ended`, `berthed`, `unberthed` or `departed` (service and cargo
    /// updates keep the phase).
    pub phase: &'static str,
    /// Order of `phase` in the lifecycle, [`CallStage::rank`] (`arrived` 0 …
    /// `departed` 5).
    pub phase_rank: i16,
    /// The newest event time recorded on the call.
    pub last_event_at: DateTime<Utc>,
    /// The call.
    #[serde(flatten)]
    pub call: PortCall,
}

impl PortCallRow {
    fn new(phase: CallPhase, call: &PortCall) -> Self {
        // A service or cargo update has no stage: the call's fields imply one.
        let stage = CallStage::of_phase(phase).unwrap_or_else(|| CallStage::implied_by(call));
        let (phase, phase_rank) = (stage.name(), stage.rank());
        let last_event_at =
            [Some(call.arrived_at), call.anchored_at, call.berthed_at, call.unberthed_at, call.departed_at]
                .into_iter()
                .flatten()
                .chain(call.services.iter().map(|s| s.at))
                .max()
                .unwrap_or(call.arrived_at);
        PortCallRow { phase, phase_rank, last_event_at, call: call.clone() }
    }

    /// A service or cargo update says nothing about the phase: keep the one
    /// the previous update of the batch established.
    fn inherit_phase(mut self, previous: &PortCallRow) -> Self {
        if self.last_event_at == previous.last_event_at && self.phase_rank < previous.phase_rank {
            self.phase = previous.phase;
            self.phase_rank = previous.phase_rank;
        }
        self
    }

    /// How far the call has progressed: newer event time first, then later
    /// phase. Sinks never replace a row with one of lower progress.
    pub fn progress(&self) -> (DateTime<Utc>, i16) {
        (self.last_event_at, self.phase_rank)
    }

    /// A version number increasing with [`progress`](Self::progress), for
    /// Elasticsearch's `external_gte` versioning.
    pub fn version(&self) -> i64 {
        self.last_event_at.timestamp_millis().max(0) * 8 + i64::from(self.phase_rank)
    }
}

/// An anomaly about one vessel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyRow {
    /// The vessel.
    pub mmsi: u32,
    /// When it was established.
    pub at: DateTime<Utc>,
    /// Zone name, if any.
    pub zone: Option<String>,
    /// The kind (`kind` field) and its details, flattened.
    #[serde(flatten)]
    pub details: AnomalyKind,
}

impl AnomalyRow {
    fn new(a: &Anomaly, zone: Option<String>) -> Self {
        AnomalyRow { mmsi: a.mmsi, at: a.at, zone, details: a.kind.clone() }
    }

    /// The kind's stable name (`dark_period`, `speeding`, ...).
    pub fn kind(&self) -> String {
        serde_json::to_value(&self.details)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// The details without the kind, as JSON.
    pub fn details_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.details).unwrap_or(serde_json::Value::Null);
        if let Some(map) = v.as_object_mut() {
            map.remove("kind");
        }
        v
    }

    /// Stable document id.
    pub fn id(&self) -> String {
        format!("{}-{}-{}", self.mmsi, self.at.timestamp_millis(), self.kind())
    }
}

/// A weather limit crossed (`raised`) or cleared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeatherAlertRow {
    /// Zone name.
    pub zone: String,
    /// Reporting station.
    pub station: String,
    /// Observation time.
    pub at: DateTime<Utc>,
    /// Which limit.
    pub kind: &'static str,
    /// Observed value.
    pub value: f32,
    /// The limit.
    pub limit: f32,
    /// Starts (true) or clears (false).
    pub raised: bool,
}

impl WeatherAlertRow {
    fn new(w: &WeatherAlert, zone: &str) -> Self {
        let kind = match w.kind {
            porttrack_processors::WeatherAlertKind::GustAboveCraneLimit => "gust_above_crane_limit",
            porttrack_processors::WeatherAlertKind::VisibilityBelowDepartureLimit => {
                "visibility_below_departure_limit"
            }
            _ => "other",
        };
        WeatherAlertRow {
            zone: zone.to_owned(),
            station: w.station.clone(),
            at: w.at,
            kind,
            value: w.value,
            limit: w.limit,
            raised: w.raised,
        }
    }

    /// Stable document id.
    pub fn id(&self) -> String {
        format!("{}-{}-{}-{}", self.zone, self.at.timestamp_millis(), self.kind, self.station)
    }
}

/// Stable document id of a congestion partial.
pub fn partial_id(p: &ZonePartial) -> String {
    format!("{}-{}-{}", p.zone, p.partition, p.at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use porttrack_processors::{FieldRule, PortCallUpdate, PortConfig, Service};
    use porttrack_schemas::PortOpsKind;

    use super::*;

    fn call(at: i64) -> PortCall {
        PortCall {
            anchored_at: Some(Utc.timestamp_opt(1_790_000_000 + at, 0).unwrap()),
            ..PortCall::open(244_123_456, Utc.timestamp_opt(1_790_000_000, 0).unwrap(), true)
        }
    }

    #[test]
    fn port_call_updates_coalesce_to_the_most_advanced_and_services_keep_the_phase() {
        let geo = porttrack_processors::Port::new(Geography::rotterdam(), PortConfig::default());
        let anchored = call(100);
        let mut served = anchored.clone();
        served.services.push(Service {
            event_id: "p-1".into(),
            at: anchored.anchored_at.unwrap(),
            kind: PortOpsKind::PilotBoarded,
            resource: "pilot-7".into(),
            berth: None,
        });
        let outputs = vec![
            Output::PortCall(PortCallUpdate { phase: CallPhase::Anchored, call: anchored.clone() }),
            Output::PortCall(PortCallUpdate { phase: CallPhase::Served, call: served.clone() }),
            // An older update arriving last changes nothing.
            Output::PortCall(PortCallUpdate { phase: CallPhase::Arrived, call: call(-10) }),
        ];
        let d = Derived::new(geo.geography(), &outputs, &[]);
        assert_eq!(d.port_calls.len(), 1);
        let row = &d.port_calls[0];
        assert_eq!(row.phase, "anchored");
        assert_eq!(row.call.services.len(), 1);
        assert_eq!(row.last_event_at, anchored.anchored_at.unwrap());
    }

    #[test]
    fn slices_count_rows_across_kinds_in_order() {
        let zone = |mmsi| ZoneEventRow {
            mmsi,
            zone: "Maas North Anchorage".into(),
            zone_kind: "anchorage",
            direction: "entered",
            at: Utc.timestamp_opt(1_790_000_000, 0).unwrap(),
            stay_s: None,
        };
        let d = Derived {
            zone_events: vec![zone(1), zone(2)],
            port_calls: vec![PortCallRow::new(CallPhase::Anchored, &call(100))],
            ..Derived::default()
        };
        assert_eq!(d.slice(0..d.len()), d);
        assert_eq!(d.slice(1..2).zone_events, vec![zone(2)]);
        let tail = d.slice(1..3);
        assert_eq!((tail.zone_events.len(), tail.port_calls.len()), (1, 1));
        assert!(d.slice(3..9).is_empty());
        let kinds: Vec<_> = d.rows_as_json().into_iter().map(|(kind, _)| kind).collect();
        assert_eq!(kinds, ["zone_event", "zone_event", "port_call"]);
        let (_, json) = &d.rows_as_json()[2];
        assert!(String::from_utf8_lossy(json).contains("\"id\":\"244123456-20260921T141320Z\""));
    }

    /// The SQL merge of a forward-only column under `rule` (`p` is the
    /// stored row, `EXCLUDED` the incoming one).
    fn merge_sql(column: &str, rule: FieldRule) -> Option<String> {
        match rule {
            FieldRule::Fixed => None,
            FieldRule::Earliest => Some(format!("least(p.{column}, EXCLUDED.{column})")),
            FieldRule::Latest | FieldRule::Growing => {
                Some(format!("greatest(p.{column}, EXCLUDED.{column})"))
            }
            FieldRule::Sticky => Some(format!("p.{column} OR EXCLUDED.{column}")),
            other => panic!("{column}: no SQL for {other:?}; teach this test and merge_port_calls.sql"),
        }
    }

    fn squash(sql: &str) -> String {
        sql.lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Splits on commas outside parentheses.
    fn top_level(list: &str) -> Vec<String> {
        let (mut items, mut cur, mut depth) = (Vec::new(), String::new(), 0_i32);
        for c in list.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(cur.trim().to_owned());
                    cur.clear();
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        items.push(cur.trim().to_owned());
        items
    }

    /// The first parenthesized column list after `marker`.
    fn columns_after(sql: &str, marker: &str) -> Vec<String> {
        let rest = &sql[sql.find(marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len()..];
        let list = &rest[rest.find('(').unwrap() + 1..rest.find(')').unwrap()];
        list.split(',').map(|c| c.trim().to_owned()).collect()
    }

    /// `sinks/sql/merge_port_calls.sql` encodes the lifecycle's order (the
    /// progress guard on `phase_rank`) and forward-only rules; it must agree
    /// with [`CallStage`].
    #[test]
    fn port_call_sql_agrees_with_the_lifecycle() {
        let merge = squash(include_str!("../sql/merge_port_calls.sql"));
        let (insert, set) = merge.split_once("ON CONFLICT (id) DO UPDATE SET").unwrap();
        let set: HashMap<String, String> = top_level(set)
            .into_iter()
            .map(|a| {
                let (column, expr) = a.split_once('=').unwrap();
                (column.trim().to_owned(), expr.trim().to_owned())
            })
            .collect();
        let inserted = columns_after(insert, "INSERT INTO port_calls AS p");
        let copied =
            columns_after(&squash(include_str!("../sql/copy_port_calls.sql")), "COPY stage_port_calls");
        assert_eq!(inserted, copied);

        for (column, rule) in CallStage::FORWARD_ONLY {
            assert!(inserted.iter().any(|c| c == column), "{column} is not stored");
            assert_eq!(set.get(column), merge_sql(column, rule).as_ref(), "{column} ({rule:?})");
        }
        // Phase, rank and berth follow the update with the most progress,
        // compared as PortCallRow::progress does: event time, then rank.
        let guard = "CASE WHEN (EXCLUDED.last_event_time, EXCLUDED.phase_rank) >= (p.last_event_time, p.phase_rank) THEN";
        for column in ["phase", "phase_rank", "berth"] {
            assert!(set[column].starts_with(guard), "{column}: {}", set[column]);
        }
        assert_eq!(set["phase"], format!("{guard} EXCLUDED.phase ELSE p.phase END"));
        assert_eq!(set["phase_rank"], format!("{guard} EXCLUDED.phase_rank ELSE p.phase_rank END"));
        assert_eq!(set["last_event_time"], "greatest(p.last_event_time, EXCLUDED.last_event_time)");
        // Nothing else is updated without a rule here.
        for column in set.keys() {
            let ruled = CallStage::FORWARD_ONLY.iter().any(|(c, _)| c == column);
            let other = ["phase", "phase_rank", "berth", "services", "last_event_time", "updated_at"];
            assert!(ruled || other.contains(&column.as_str()), "{column} has no rule in CallStage");
        }
    }

    /// The `port_calls` table holds what the lifecycle needs: NULL until a
    /// stage stamps a time, a smallint rank, totals and flags never NULL.
    #[test]
    fn port_calls_table_agrees_with_the_lifecycle() {
        let v2 = include_str!("../migrations/V2__events_and_derived.sql");
        let table = &v2[v2.find("CREATE TABLE port_calls (").unwrap()..];
        let table = &table[..table.find(");").unwrap()];
        let column = |name: &str| {
            let line = table.lines().find(|l| l.split_whitespace().next() == Some(name));
            squash(line.unwrap_or_else(|| panic!("port_calls has no {name}")))
        };
        for (name, rule) in CallStage::FORWARD_ONLY {
            let nullable = matches!(rule, FieldRule::Earliest | FieldRule::Latest);
            assert_eq!(!column(name).contains("NOT NULL"), nullable, "{name} ({rule:?}): {}", column(name));
        }
        assert!(column("phase_rank").starts_with("phase_rank smallint NOT NULL"));
        // Ranks are 0, 1, 2, … in lifecycle order, and fit the 3 bits
        // PortCallRow::version gives them.
        let ranks: Vec<i16> = CallStage::ALL.iter().map(|s| s.rank()).collect();
        assert_eq!(ranks, (0..CallStage::ALL.len() as i16).collect::<Vec<_>>());
        assert!(ranks.iter().all(|r| (0..8).contains(r)));
    }

    #[test]
    fn rows_take_phase_names_and_ranks_from_the_lifecycle() {
        let geo = Geography::rotterdam();
        let mut c = call(100);
        c.berthed_at = Some(c.arrived_at + chrono::Duration::seconds(500));
        for stage in CallStage::ALL {
            let d = Derived::new(
                &geo,
                &[Output::PortCall(PortCallUpdate { phase: stage.phase(), call: c.clone() })],
                &[],
            );
            assert_eq!((d.port_calls[0].phase, d.port_calls[0].phase_rank), (stage.name(), stage.rank()));
        }
        // Services and cargo: the most advanced stage the fields show.
        let d =
            Derived::new(&geo, &[Output::PortCall(PortCallUpdate { phase: CallPhase::Cargo, call: c })], &[]);
        assert_eq!((d.port_calls[0].phase, d.port_calls[0].phase_rank), ("berthed", 3));
    }

    #[test]
    fn anomaly_kind_and_details_split() {
        let row = AnomalyRow {
            mmsi: 244_123_456,
            at: Utc.timestamp_opt(1_790_000_000, 0).unwrap(),
            zone: None,
            details: AnomalyKind::Speeding { speed_kn: 14.5, limit_kn: 10.0 },
        };
        assert_eq!(row.kind(), "speeding");
        assert_eq!(row.details_json(), serde_json::json!({"speed_kn": 14.5, "limit_kn": 10.0}));
        assert_eq!(row.id(), "244123456-1790000000000-speeding");
    }
}
