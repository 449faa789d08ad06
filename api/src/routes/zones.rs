//! `GET /api/v1/zones`: the geography with live congestion.

use axum::Json;
use axum::extract::State;
use chrono::Utc;

use crate::AppState;
use crate::error::ApiError;
use crate::model::{ErrorBody, ZoneCollection, ZoneFeature, ZoneProps};
use crate::view::congestion;

/// Every zone with its geometry and its congestion (merged over all partitions).
#[utoipa::path(get, path = "/api/v1/zones", tag = "zones",
    responses((status = 200, body = ZoneCollection), (status = 503, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<ZoneCollection>, ApiError> {
    let partials = state.store.partials(state.config.congestion_window).await?;
    let mut levels = congestion(&partials, &state.thresholds);
    let features = state
        .zoning
        .geography()
        .zones()
        .iter()
        .map(|z| ZoneFeature {
            kind: "Feature".into(),
            id: z.name().to_owned(),
            geometry: state.zoning.geometry(z.name()),
            properties: ZoneProps {
                name: z.name().to_owned(),
                kind: z.kind().as_str().to_owned(),
                length_m: z.length_m(),
                speed_limit_kn: z.speed_limit_kn(),
                congestion: levels.remove(z.name()),
            },
        })
        .collect();
    Ok(Json(ZoneCollection { kind: "FeatureCollection".into(), features, generated_at: Utc::now() }))
}
