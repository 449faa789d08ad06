//! `GET /api/v1/geography`: what the map draws without a tile server.

use axum::Json;
use axum::extract::State;

use crate::AppState;
use crate::model::GeographyLayers;

/// The configured port geography (zones, name and kind only) and the coastline layer.
#[utoipa::path(get, path = "/api/v1/geography", tag = "zones",
    responses((status = 200, body = GeographyLayers)))]
pub async fn geography(State(state): State<AppState>) -> Json<GeographyLayers> {
    Json(GeographyLayers { zones: state.zoning.layer().clone(), coastline: (*state.coastline).clone() })
}
