//! [`PostgresStore`]: the API over the tables the Postgres sink writes.
//!
//! Connections come from the `[postgres]` section `porttrack run` uses
//! ([`PostgresConfig`]: URL, password file, pool size, TLS). Each pooled
//! connection starts a read-only session with a `statement_timeout`
//! (`sql/session.sql`), so no request can hold the database longer than
//! `serve.statement_timeout`. Statements live in `api/sql/`, one per query.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::FutureExt;
use porttrack_processors::{WeatherPartial, ZoneKind, ZonePartial};
use porttrack_sinks::postgres::{PostgresConfig, TlsMode};
use tokio_postgres::Row;
use tokio_postgres::config::SslMode;

use super::{AlertQuery, CallQuery, Store, StoreFuture, VesselRow, VesselScan};
use crate::error::StoreError;
use crate::model::{
    AnomalyItem, CargoItem, PortCall, SafetyMessageItem, ServiceItem, TrackPoint, WeatherAlertItem,
};

const VESSELS: &str = include_str!("../../sql/vessels.sql");
const VESSELS_PAGE: &str = include_str!("../../sql/vessels_page.sql");
const VESSELS_COUNT: &str = include_str!("../../sql/vessels_count.sql");
const VESSEL: &str = include_str!("../../sql/vessel.sql");
const VESSELS_UPDATED: &str = include_str!("../../sql/vessels_updated.sql");
const TRACK: &str = include_str!("../../sql/track.sql");
const CALLS_OF: &str = include_str!("../../sql/calls_of.sql");
const PORT_CALLS: &str = include_str!("../../sql/port_calls.sql");
const OPEN_CALLS: &str = include_str!("../../sql/open_calls.sql");
const DEPARTED_SINCE: &str = include_str!("../../sql/departed_since.sql");
const CARGO_OF: &str = include_str!("../../sql/cargo_of.sql");
const SERVICES_OF: &str = include_str!("../../sql/services_of.sql");
const PARTIALS: &str = include_str!("../../sql/partials.sql");
const ANOMALIES: &str = include_str!("../../sql/anomalies.sql");
const WEATHER_ALERTS: &str = include_str!("../../sql/weather_alerts.sql");
const LATEST_WEATHER_ALERTS: &str = include_str!("../../sql/latest_weather_alerts.sql");
const SAFETY_MESSAGES: &str = include_str!("../../sql/safety_messages.sql");
const SESSION: &str = include_str!("../../sql/session.sql");

/// The API's view of Postgres: a pool of read-only, time-limited sessions.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("pool", &self.pool.status()).finish()
    }
}

impl PostgresStore {
    /// A pool of `config.pool_size` connections (connected lazily), each
    /// with `statement_timeout`.
    pub fn new(config: &PostgresConfig, statement_timeout: Duration) -> Result<PostgresStore, StoreError> {
        let mut pg = tokio_postgres::Config::from_str(&config.url)
            .map_err(|e| StoreError::Other(format!("postgres url: {e}")))?;
        pg.connect_timeout(config.connect_timeout);
        pg.ssl_mode(match config.tls {
            TlsMode::Disable => SslMode::Disable,
            _ => SslMode::Require,
        });
        if let Some(path) = &config.password_file {
            let password = std::fs::read_to_string(path)
                .map_err(|e| StoreError::Other(format!("reading {}: {e}", path.display())))?;
            pg.password(password.trim_end());
        }
        let session: Arc<str> =
            SESSION.replace("$TIMEOUT_MS", &statement_timeout.as_millis().max(1).to_string()).into();
        let manager = Manager::from_config(
            pg,
            porttrack_sinks::postgres::tls_connector(config.tls, config.ca_file.as_deref())
                .map_err(|e| StoreError::Other(e.to_string()))?,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .wait_timeout(Some(config.connect_timeout))
            .create_timeout(Some(config.connect_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .post_create(Hook::async_fn(move |client, _| {
                let session = Arc::clone(&session);
                async move { client.batch_execute(&session).await.map_err(HookError::Backend) }.boxed()
            }))
            .build()
            .map_err(|e| StoreError::Other(format!("postgres pool: {e}")))?;
        Ok(PostgresStore { pool })
    }

    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query(&statement, params).await?)
    }
}

fn u32_of(v: Option<i32>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn vessel_row(r: &Row) -> VesselRow {
    let dim = |a: &str, b: &str| -> Option<u32> {
        match (r.get::<_, Option<i16>>(a), r.get::<_, Option<i16>>(b)) {
            (Some(x), Some(y)) if x >= 0 && y >= 0 && x + y > 0 => Some((x + y) as u32),
            _ => None,
        }
    };
    let call = match (r.get::<_, Option<String>>("call_id"), r.get::<_, Option<String>>("call_phase")) {
        (Some(id), Some(phase)) => Some((id, phase)),
        _ => None,
    };
    VesselRow {
        mmsi: r.get::<_, i32>("mmsi") as u32,
        event_time: r.get("event_time"),
        lat: r.get("lat"),
        lon: r.get("lon"),
        sog: r.get("sog"),
        cog: r.get("cog"),
        heading: r.get::<_, Option<i16>>("heading").and_then(|h| u16::try_from(h).ok()),
        nav_status: r.get::<_, Option<i16>>("nav_status").and_then(|h| u8::try_from(h).ok()),
        updated_at: r.get("updated_at"),
        name: r.get("shipname"),
        callsign: r.get("callsign"),
        imo: u32_of(r.get("imo")),
        ship_type: r.get::<_, Option<i16>>("shiptype").and_then(|h| u8::try_from(h).ok()),
        length_m: dim("to_bow", "to_stern"),
        beam_m: dim("to_port", "to_starboard"),
        draught_m: r.get("draught"),
        destination: r.get("destination"),
        eta: r.get("eta"),
        call,
    }
}

fn port_call(r: &Row) -> PortCall {
    PortCall {
        id: r.get("id"),
        mmsi: r.get::<_, i32>("mmsi") as u32,
        name: r.get("shipname"),
        phase: r.get("phase"),
        arrived_at: r.get("arrived_at"),
        anchored_at: r.get("anchored_at"),
        waiting_time_s: r.get("waiting_time_s"),
        berth: r.get("berth"),
        berthed_at: r.get("berthed_at"),
        unberthed_at: r.get("unberthed_at"),
        service_time_s: r.get("service_time_s"),
        departed_at: r.get("departed_at"),
        teu_loaded: r.get("teu_loaded"),
        teu_discharged: r.get("teu_discharged"),
        services: r.get("services"),
        last_event_time: r.get("last_event_time"),
    }
}

fn safety_message(r: &Row) -> SafetyMessageItem {
    let id = porttrack_schemas::Origin::document_id_of(
        r.get("source_topic"),
        r.get("source_partition"),
        r.get("source_offset"),
        u16::try_from(r.get::<_, i16>("source_index")).unwrap_or(0),
    );
    SafetyMessageItem {
        id,
        event_time: r.get("event_time"),
        mmsi: r.get::<_, i32>("mmsi") as u32,
        name: r.get("name"),
        addressed: r.get("addressed"),
        dest_mmsi: u32_of(r.get("dest_mmsi")),
        sequence: r.get::<_, Option<i16>>("sequence").and_then(|s| u8::try_from(s).ok()),
        retransmit: r.get("retransmit"),
        text: r.get("text"),
        lat: r.get("lat"),
        lon: r.get("lon"),
        located_by: r.get("located_by"),
    }
}

fn weather_alert(r: &Row) -> WeatherAlertItem {
    WeatherAlertItem {
        zone: r.get("zone"),
        station: r.get("station"),
        event_time: r.get("event_time"),
        kind: r.get("kind"),
        value: r.get("value"),
        limit: r.get("limit"),
        raised: r.get("raised"),
    }
}

fn zone_kind(name: &str) -> Option<ZoneKind> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

fn partial(r: &Row) -> Option<ZonePartial> {
    let n = |c: &str| r.get::<_, i64>(c).max(0) as u64;
    let weather: Option<serde_json::Value> = r.get("weather");
    Some(ZonePartial {
        zone: r.get("zone"),
        kind: zone_kind(r.get("zone_kind"))?,
        berth_length_m: r.get::<_, Option<i32>>("berth_length_m").and_then(|v| u32::try_from(v).ok()),
        partition: r.get("partition"),
        at: r.get("snapshot_time"),
        vessels_present: n("vessels_present"),
        queue_length: n("queue_length"),
        waiting_now_s: r.get("waiting_now_s"),
        waits_completed_s: r.get("waits_completed_s"),
        rate_window_s: u32::try_from(r.get::<_, i32>("rate_window_s")).unwrap_or(0),
        entries: n("entries"),
        exits: n("exits"),
        moored_vessels: n("moored_vessels"),
        moored_length_m: n("moored_length_m"),
        moored_without_length: n("moored_without_length"),
        hazardous_vessels: n("hazardous_vessels"),
        teu_loaded: n("teu_loaded"),
        teu_discharged: n("teu_discharged"),
        weather: weather.and_then(|w| serde_json::from_value::<WeatherPartial>(w).ok()),
    })
}

fn mmsi_param(mmsi: u32) -> i32 {
    // MMSIs are nine digits: they fit; anything larger matches nothing.
    i32::try_from(mmsi).unwrap_or(-1)
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Store for PostgresStore {
    fn now(&self) -> StoreFuture<'_, DateTime<Utc>> {
        async move {
            let rows = self.query("SELECT now()", &[]).await?;
            rows.first().map(|r| r.get(0)).ok_or_else(|| StoreError::Other("now() returned nothing".into()))
        }
        .boxed()
    }

    fn vessels(&self, scan: VesselScan) -> StoreFuture<'_, Vec<VesselRow>> {
        async move {
            let [x0, y0, x1, y1] = scan.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
            let rows = self.query(VESSELS, &[&scan.since, &x0, &y0, &x1, &y1]).await?;
            Ok(rows.iter().map(vessel_row).collect())
        }
        .boxed()
    }

    fn vessels_page(
        &self,
        scan: VesselScan,
        after: Option<u32>,
        limit: usize,
    ) -> StoreFuture<'_, (u64, Vec<VesselRow>)> {
        async move {
            let [x0, y0, x1, y1] = scan.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
            let after = after.map_or(0, mmsi_param);
            let limit = limit_param(limit);
            let count_params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] =
                [&scan.since, &x0, &y0, &x1, &y1];
            let page_params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] =
                [&scan.since, &x0, &y0, &x1, &y1, &after, &limit];
            let (count, rows) = futures::try_join!(
                self.query(VESSELS_COUNT, &count_params),
                self.query(VESSELS_PAGE, &page_params)
            )?;
            let total = count.first().map_or(0, |r| r.get::<_, i64>(0).max(0) as u64);
            Ok((total, rows.iter().map(vessel_row).collect()))
        }
        .boxed()
    }

    fn vessel(&self, mmsi: u32) -> StoreFuture<'_, Option<VesselRow>> {
        async move { Ok(self.query(VESSEL, &[&mmsi_param(mmsi)]).await?.first().map(vessel_row)) }.boxed()
    }

    fn vessels_updated(&self, after: DateTime<Utc>) -> StoreFuture<'_, Vec<VesselRow>> {
        async move { Ok(self.query(VESSELS_UPDATED, &[&after]).await?.iter().map(vessel_row).collect()) }
            .boxed()
    }

    fn track(
        &self,
        mmsi: u32,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<TrackPoint>> {
        async move {
            let rows = self.query(TRACK, &[&mmsi_param(mmsi), &from, &to, &limit_param(limit)]).await?;
            let mut track: Vec<TrackPoint> = rows
                .iter()
                .map(|r| TrackPoint {
                    t: r.get("event_time"),
                    lat: r.get("lat"),
                    lon: r.get("lon"),
                    sog_kn: r.get("sog"),
                    cog_deg: r.get("cog"),
                })
                .collect();
            track.reverse();
            Ok(track)
        }
        .boxed()
    }

    fn calls_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<PortCall>> {
        async move {
            Ok(self
                .query(CALLS_OF, &[&mmsi_param(mmsi), &limit_param(limit)])
                .await?
                .iter()
                .map(port_call)
                .collect())
        }
        .boxed()
    }

    fn cargo_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<CargoItem>> {
        async move {
            let rows = self.query(CARGO_OF, &[&mmsi_param(mmsi), &limit_param(limit)]).await?;
            Ok(rows
                .iter()
                .map(|r| CargoItem {
                    event_id: r.get("event_id"),
                    event_time: r.get("event_time"),
                    mmsi: r.get::<_, i32>("mmsi") as u32,
                    voyage: r.get("voyage"),
                    berth: r.get("berth"),
                    operation: r.get("operation"),
                    containers: i64::from(r.get::<_, i32>("containers")),
                    teu: i64::from(r.get::<_, i32>("teu")),
                    imdg_class: r.get("imdg_class"),
                })
                .collect())
        }
        .boxed()
    }

    fn services_of(&self, mmsi: u32, limit: usize) -> StoreFuture<'_, Vec<ServiceItem>> {
        async move {
            let rows = self.query(SERVICES_OF, &[&mmsi_param(mmsi), &limit_param(limit)]).await?;
            Ok(rows
                .iter()
                .map(|r| ServiceItem {
                    event_id: r.get("event_id"),
                    event_time: r.get("event_time"),
                    mmsi: r.get::<_, i32>("mmsi") as u32,
                    kind: r.get("kind"),
                    resource: r.get("resource"),
                    shift: r.get("shift"),
                    berth: r.get("berth"),
                })
                .collect())
        }
        .boxed()
    }

    fn port_calls(&self, q: CallQuery) -> StoreFuture<'_, Vec<PortCall>> {
        async move {
            let mmsi = q.mmsi.map(mmsi_param);
            let rows = self
                .query(PORT_CALLS, &[&q.from, &q.to, &q.phase, &q.berth, &mmsi, &limit_param(q.limit)])
                .await?;
            Ok(rows.iter().map(port_call).collect())
        }
        .boxed()
    }

    fn open_calls(&self, limit: usize) -> StoreFuture<'_, Vec<PortCall>> {
        async move { Ok(self.query(OPEN_CALLS, &[&limit_param(limit)]).await?.iter().map(port_call).collect()) }
            .boxed()
    }

    fn departed_since(&self, since: DateTime<Utc>, limit: usize) -> StoreFuture<'_, Vec<PortCall>> {
        async move {
            Ok(self
                .query(DEPARTED_SINCE, &[&since, &limit_param(limit)])
                .await?
                .iter()
                .map(port_call)
                .collect())
        }
        .boxed()
    }

    fn partials(&self, window: Duration) -> StoreFuture<'_, Vec<ZonePartial>> {
        async move {
            let rows = self.query(PARTIALS, &[&window.as_secs_f64()]).await?;
            Ok(rows.iter().filter_map(partial).collect())
        }
        .boxed()
    }

    fn anomalies(&self, q: AlertQuery) -> StoreFuture<'_, Vec<AnomalyItem>> {
        async move {
            let rows = self.query(ANOMALIES, &[&q.from, &q.to, &q.kind, &limit_param(q.limit)]).await?;
            Ok(rows
                .iter()
                .map(|r| AnomalyItem {
                    mmsi: r.get::<_, i32>("mmsi") as u32,
                    name: r.get("shipname"),
                    event_time: r.get("event_time"),
                    kind: r.get("kind"),
                    zone: r.get("zone"),
                    details: r.get("details"),
                })
                .collect())
        }
        .boxed()
    }

    fn weather_alerts(&self, q: AlertQuery) -> StoreFuture<'_, Vec<WeatherAlertItem>> {
        async move {
            let rows = self.query(WEATHER_ALERTS, &[&q.from, &q.to, &q.kind, &limit_param(q.limit)]).await?;
            Ok(rows.iter().map(weather_alert).collect())
        }
        .boxed()
    }

    fn latest_weather_alerts(&self, since: DateTime<Utc>) -> StoreFuture<'_, Vec<WeatherAlertItem>> {
        async move { Ok(self.query(LATEST_WEATHER_ALERTS, &[&since]).await?.iter().map(weather_alert).collect()) }
            .boxed()
    }

    fn safety_messages(&self, q: AlertQuery) -> StoreFuture<'_, Vec<SafetyMessageItem>> {
        async move {
            let rows = self.query(SAFETY_MESSAGES, &[&q.from, &q.to, &limit_param(q.limit)]).await?;
            Ok(rows.iter().map(safety_message).collect())
        }
        .boxed()
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        async move {
            self.query("SELECT 1", &[]).await?;
            Ok(())
        }
        .boxed()
    }
}
