//! The map: the web app built into `web/dist` (embedded in release builds
//! by rust-embed; read from disk in debug builds), and `/config.json`.
//!
//! When the app was not built (`web/dist/index.html` missing), `/` answers
//! 503 with a short page saying how to build it; the API works regardless.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::Embed;

use crate::AppState;
use crate::model::ClientConfig;

#[derive(Embed)]
#[folder = "../web/dist/"]
#[allow_missing = true]
struct Dist;

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>PortTrack</title></head>\
<body><h1>PortTrack</h1><p>The web app is not built into this binary. Run <code>npm ci &amp;&amp; npm run build</code> \
in <code>web/</code> and rebuild. The API is at <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>.</p></body></html>";

fn file(path: &str) -> Option<Response> {
    let file = Dist::get(path)?;
    let mime = file.metadata.mimetype().to_owned();
    // Vite fingerprints asset names, so they never change under a name.
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    Some(
        ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, cache.to_owned())], file.data)
            .into_response(),
    )
}

/// `/` and `/index.html`.
pub async fn index() -> Response {
    file("index.html").unwrap_or_else(|| (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response())
}

/// `/assets/*`.
pub async fn asset(Path(path): Path<String>) -> Response {
    file(&format!("assets/{path}")).unwrap_or_else(|| {
        crate::error::error_response(StatusCode::NOT_FOUND, "not_found", format!("no asset {path}"))
    })
}

/// Other files at the root of `web/dist` (favicon, coastline data…).
pub async fn root_file(Path(path): Path<String>) -> Response {
    file(&path).unwrap_or_else(|| {
        crate::error::error_response(StatusCode::NOT_FOUND, "not_found", format!("no such path /{path}"))
    })
}

/// `/config.json`: the production basemap, if configured.
#[utoipa::path(get, path = "/config.json", tag = "web", responses((status = 200, body = ClientConfig)))]
pub async fn config(State(state): State<AppState>) -> Json<ClientConfig> {
    Json(ClientConfig { tile_url: state.config.tile_url.clone(), style_url: state.config.style_url.clone() })
}
