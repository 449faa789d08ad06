//! `GET /api/v1/overview`: the map's side panels in one request.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use chrono::{Duration, Utc};
use porttrack_processors::ZoneKind;

use crate::AppState;
use crate::error::ApiError;
use crate::model::{BerthStatus, Counts, ErrorBody, MooredVessel, Overview, QueueEntry};
use crate::store::{AlertQuery, CallQuery, VesselScan};
use crate::view::{congestion, vessel_props};

/// Anchorage queue, arrivals and departures of today, berths, active
/// weather alerts, the last day's anomalies and safety messages, and vessel counts.
#[utoipa::path(get, path = "/api/v1/overview", tag = "overview",
    responses((status = 200, body = Overview), (status = 503, body = ErrorBody)))]
pub async fn overview(State(state): State<AppState>) -> Result<Json<Overview>, ApiError> {
    let now = Utc::now();
    let midnight = now.date_naive().and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc());
    let store = &state.store;
    let (rows, open, arrivals, departures, partials, anomalies, safety_messages) = futures::try_join!(
        store.vessels(VesselScan { since: now - Duration::hours(24), bbox: None }),
        store.open_calls(5_000),
        store.port_calls(CallQuery {
            phase: None,
            berth: None,
            mmsi: None,
            from: midnight,
            to: now + Duration::hours(1),
            limit: 1_000
        }),
        store.departed_since(midnight, 1_000),
        store.partials(state.config.congestion_window),
        store.anomalies(AlertQuery {
            kind: None,
            from: now - Duration::hours(24),
            to: now + Duration::hours(1),
            limit: 50
        }),
        store.safety_messages(AlertQuery {
            kind: None,
            from: now - Duration::hours(24),
            to: now + Duration::hours(1),
            limit: 20
        }),
    )?;
    let weather_alerts = super::alerts::active(&state).await?;
    let levels = congestion(&partials, &state.thresholds);

    let mut counts = Counts::default();
    let mut moored: HashMap<String, Vec<MooredVessel>> = HashMap::new();
    let mut where_is: HashMap<u32, Option<String>> = HashMap::new();
    for row in rows {
        let v = vessel_props(row, &state.zoning);
        counts.vessels += 1;
        match v.movement.as_str() {
            "under_way" => counts.under_way += 1,
            "anchored" => counts.anchored += 1,
            "moored" => counts.moored += 1,
            _ => {}
        }
        if v.movement == "moored"
            && v.zone_kind.as_deref() == Some("berth")
            && let Some(zone) = &v.zone
        {
            moored.entry(zone.clone()).or_default().push(MooredVessel { mmsi: v.mmsi, name: v.name.clone() });
        }
        where_is.insert(v.mmsi, v.zone);
    }
    let mut anchorage_queue: Vec<QueueEntry> = open
        .into_iter()
        .filter(|c| c.phase == "anchored")
        .filter_map(|c| {
            let anchored_at = c.anchored_at?;
            Some(QueueEntry {
                mmsi: c.mmsi,
                name: c.name,
                zone: where_is.get(&c.mmsi).cloned().flatten(),
                anchored_at,
                waiting_s: (now - anchored_at).num_seconds().max(0),
            })
        })
        .collect();
    anchorage_queue.sort_by_key(|q| std::cmp::Reverse(q.waiting_s));
    let berths = state
        .zoning
        .geography()
        .zones()
        .iter()
        .filter(|z| z.kind() == ZoneKind::Berth)
        .map(|z| BerthStatus {
            name: z.name().to_owned(),
            length_m: z.length_m(),
            occupancy: levels.get(z.name()).and_then(|c| c.berth_occupancy),
            moored: moored.remove(z.name()).unwrap_or_default(),
        })
        .collect();
    Ok(Json(Overview {
        generated_at: now,
        anchorage_queue,
        arrivals_today: arrivals,
        departures_today: departures,
        berths,
        weather_alerts,
        anomalies,
        safety_messages,
        counts,
    }))
}
