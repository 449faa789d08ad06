//! `GET /api/v1/vessels` (the snapshot) and `GET /api/v1/vessels/{mmsi}`.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{Duration, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::model::{ErrorBody, Movement, TypeGroup, VesselCollection, VesselDetail, VesselFeature, name_of};
use crate::store::VesselScan;
use crate::view::vessel_props;

/// Default and largest page.
pub const PAGE_DEFAULT: usize = 5_000;
/// Largest page.
pub const PAGE_MAX: usize = 20_000;
/// `max_age`: default and largest, seconds.
pub const MAX_AGE_DEFAULT_S: u32 = 86_400;
/// Largest `max_age`, seconds (7 days).
pub const MAX_AGE_MAX_S: u32 = 7 * 86_400;
/// Track window: default and largest, hours.
pub const TRACK_HOURS_DEFAULT: u32 = 6;
/// Largest track window, hours.
pub const TRACK_HOURS_MAX: u32 = 48;
/// Largest number of track points returned (the newest).
pub const TRACK_POINTS_MAX: usize = 5_000;

/// Snapshot filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VesselParams {
    /// `min_lon,min_lat,max_lon,max_lat` (WGS 84 degrees, RFC 7946: `min_lon > max_lon` crosses the
    /// antimeridian; `min_lat > max_lat` is a 400).
    #[param(
        pattern = r"^-?(180(\.0+)?|(1[0-7][0-9]|[0-9]?[0-9])(\.[0-9]+)?),-?(90(\.0+)?|[0-8]?[0-9](\.[0-9]+)?),-?(180(\.0+)?|(1[0-7][0-9]|[0-9]?[0-9])(\.[0-9]+)?),-?(90(\.0+)?|[0-8]?[0-9](\.[0-9]+)?)$"
    )]
    pub bbox: Option<String>,
    /// Only vessels in this zone (its name, as in `/zones`; the served document lists them).
    pub zone: Option<String>,
    /// Only this type group.
    #[serde(rename = "type")]
    #[param(rename = "type", inline)]
    pub type_group: Option<TypeGroup>,
    /// Only this movement.
    #[param(inline)]
    pub movement: Option<Movement>,
    /// Only vessels that reported within this many seconds (default 86400, at most 604800).
    #[param(minimum = 1, maximum = 604800)]
    pub max_age: Option<u32>,
    /// Page size (default 5000, at most 20000).
    #[param(minimum = 1, maximum = 20000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,10}$")]
    pub cursor: Option<String>,
}

fn bbox(text: &str) -> Result<[f64; 4], ApiError> {
    let bad = || ApiError::bad("bbox must be min_lon,min_lat,max_lon,max_lat in degrees");
    let values: Vec<f64> =
        text.split(',').map(|v| v.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    let [x0, y0, x1, y1]: [f64; 4] = values.try_into().map_err(|_| bad())?;
    let ok = (-180.0..=180.0).contains(&x0)
        && (-180.0..=180.0).contains(&x1)
        && (-90.0..=90.0).contains(&y0)
        && (-90.0..=90.0).contains(&y1)
        && y0 <= y1;
    if !ok {
        return Err(ApiError::bad("bbox must be within [-180,180]×[-90,90] with min_lat ≤ max_lat"));
    }
    Ok([x0, y0, x1, y1])
}

/// The latest state of every vessel, as GeoJSON, filtered and paged by MMSI.
#[utoipa::path(get, path = "/api/v1/vessels", params(VesselParams), tag = "vessels",
    responses((status = 200, body = VesselCollection), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    params: Result<Query<VesselParams>, QueryRejection>,
) -> Result<Json<VesselCollection>, ApiError> {
    let Query(p) = params.map_err(super::rejected)?;
    let limit = super::limit(p.limit, PAGE_DEFAULT, PAGE_MAX)?;
    let max_age = p.max_age.unwrap_or(MAX_AGE_DEFAULT_S);
    if max_age == 0 || max_age > MAX_AGE_MAX_S {
        return Err(ApiError::bad(format!("max_age must be within 1..={MAX_AGE_MAX_S} seconds")));
    }
    let type_group = p.type_group.as_ref().map(name_of);
    let movement = p.movement.as_ref().map(name_of);
    let after = match &p.cursor {
        None => None,
        Some(c) => Some(c.parse::<u32>().map_err(|_| ApiError::bad("cursor is not one this server issued"))?),
    };
    let user_box = p.bbox.as_deref().map(bbox).transpose()?;
    // What the store scans: the user's box (all longitudes when it crosses
    // the antimeridian), narrowed to the zone's box; exact tests follow.
    let mut scan_box =
        user_box.map(|[x0, y0, x1, y1]| if x0 > x1 { [-180.0, y0, 180.0, y1] } else { [x0, y0, x1, y1] });
    let zone = match &p.zone {
        None => None,
        Some(name) => {
            let id = state
                .zoning
                .geography()
                .id(name)
                .ok_or_else(|| ApiError::bad(format!("unknown zone {name:?} (see /api/v1/zones)")))?;
            let zone = state.zoning.geography().zone(id);
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for c in zone.shape().iter().flat_map(|p| p.exterior().coords()) {
                (x0, y0, x1, y1) = (x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y));
            }
            scan_box = Some(match scan_box {
                Some([a0, b0, a1, b1]) => [a0.max(x0), b0.max(y0), a1.min(x1), b1.min(y1)],
                None => [x0, y0, x1, y1],
            });
            Some(zone)
        }
    };
    if let Some([x0, y0, x1, y1]) = scan_box
        && (x0 > x1 || y0 > y1)
    {
        // Disjoint: nothing can match; an empty box scans nothing.
        scan_box = Some([0.0, 0.0, -1.0, -1.0]);
    }
    let in_user_box = |lat: f64, lon: f64| match user_box {
        None => true,
        Some([x0, y0, x1, y1]) => {
            (y0..=y1).contains(&lat)
                && if x0 <= x1 { (x0..=x1).contains(&lon) } else { lon >= x0 || lon <= x1 }
        }
    };
    let now = Utc::now();
    let since = now - Duration::seconds(i64::from(max_age));
    let scan = VesselScan { since, bbox: scan_box };
    let crosses = user_box.is_some_and(|[x0, _, x1, _]| x0 > x1);
    if type_group.is_none() && movement.is_none() && zone.is_none() && !crosses {
        // Nothing to filter in Rust: the store counts and pages (one page
        // read along the primary key, not the whole table).
        let (total, mut rows) = state.store.vessels_page(scan, after, limit + 1).await?;
        let next_cursor = (rows.len() > limit).then(|| rows[limit - 1].mmsi.to_string());
        rows.truncate(limit);
        let features = rows.into_iter().map(|r| VesselFeature::new(vessel_props(r, &state.zoning))).collect();
        return Ok(Json(VesselCollection {
            kind: "FeatureCollection".into(),
            features,
            total,
            next_cursor,
            generated_at: now,
        }));
    }
    let rows = state.store.vessels(scan).await?;
    let mut total = 0_u64;
    let mut features = Vec::with_capacity(limit.min(rows.len()));
    let mut next_cursor = None;
    // Deriving a vessel's properties (zone lookup, movement) is only needed
    // for every row when a filter depends on them; otherwise only the page's.
    let derived_filter = type_group.is_some() || movement.is_some();
    for row in rows {
        if !in_user_box(row.lat, row.lon) || zone.is_some_and(|z| !z.contains(row.lat, row.lon)) {
            continue;
        }
        let mut props = None;
        if derived_filter {
            let p = vessel_props(row.clone(), &state.zoning);
            if type_group.as_ref().is_some_and(|t| &p.type_group != t)
                || movement.as_ref().is_some_and(|m| &p.movement != m)
            {
                continue;
            }
            props = Some(p);
        }
        total += 1;
        if after.is_some_and(|a| row.mmsi <= a) {
            continue;
        }
        if features.len() < limit {
            let props = props.unwrap_or_else(|| vessel_props(row, &state.zoning));
            features.push(VesselFeature::new(props));
        } else if next_cursor.is_none() {
            next_cursor = features.last().map(|f: &VesselFeature| f.id.to_string());
        }
    }
    Ok(Json(VesselCollection {
        kind: "FeatureCollection".into(),
        features,
        total,
        next_cursor,
        generated_at: now,
    }))
}

/// Detail parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetailParams {
    /// Track window in hours (default 6, at most 48).
    #[param(minimum = 1, maximum = 48)]
    pub hours: Option<u32>,
}

/// One vessel: latest state, recent track, port calls, cargo and services.
#[utoipa::path(get, path = "/api/v1/vessels/{mmsi}", tag = "vessels",
    params(("mmsi" = u32, Path, description = "The vessel's MMSI (nine digits)", minimum = 100000000, maximum = 999999999), DetailParams),
    responses((status = 200, body = VesselDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn detail(
    State(state): State<AppState>,
    mmsi: Result<Path<u32>, PathRejection>,
    params: Result<Query<DetailParams>, QueryRejection>,
) -> Result<Json<VesselDetail>, ApiError> {
    let Path(mmsi) = mmsi.map_err(|_| ApiError::bad("mmsi must be a nine-digit number"))?;
    if !(100_000_000..=999_999_999).contains(&mmsi) {
        return Err(ApiError::bad("mmsi must be a nine-digit number"));
    }
    let Query(p) = params.map_err(super::rejected)?;
    let hours = p.hours.unwrap_or(TRACK_HOURS_DEFAULT);
    if hours == 0 || hours > TRACK_HOURS_MAX {
        return Err(ApiError::bad(format!("hours must be within 1..={TRACK_HOURS_MAX}")));
    }
    let row =
        state.store.vessel(mmsi).await?.ok_or_else(|| ApiError::NotFound(format!("no vessel {mmsi}")))?;
    // The window ends at the vessel's last report, so a vessel that went
    // quiet still shows where it came from.
    let to = row.event_time.max(Utc::now());
    let from = to - Duration::hours(i64::from(hours));
    let (track, port_calls, cargo, services) = futures::try_join!(
        state.store.track(mmsi, from, to, TRACK_POINTS_MAX),
        state.store.calls_of(mmsi, 20),
        state.store.cargo_of(mmsi, 200),
        state.store.services_of(mmsi, 200),
    )?;
    Ok(Json(VesselDetail { vessel: vessel_props(row, &state.zoning), track, port_calls, cargo, services }))
}
