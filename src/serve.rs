//! `porttrack serve`: the read API and the map, over Postgres.
//!
//! Stateless: everything it answers comes from the stores the pipeline
//! writes (the `[postgres]` section `run` uses), never from a pipeline's
//! memory (each instance owns only some partitions). Any number of servers
//! can run behind a load balancer; each runs one stream poller. The routes,
//! stream and store live in the `porttrack-api` crate (`api/`); this module
//! wires them to the configuration, the metrics recorder and a listener.
//!
//! `demo` serves the same API ([`api`]) from a `MemoryStore` when it runs
//! without Postgres.

use std::sync::Arc;

use anyhow::Context as _;
use porttrack_api::{Api, PostgresStore, Store, Zoning};
use tokio::net::TcpListener;

use crate::config::Config;

/// The API over `store`, with the configuration's geography, thresholds,
/// `[serve]` settings and the process's metrics recorder.
pub fn api(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Api> {
    let zoning = Zoning::from_geojson(&config.processors.geography_text()?)
        .map_err(|e| anyhow::anyhow!("processors.geography: {e}"))?;
    let coastline =
        porttrack_api::coastline(config.serve.coastline.as_deref()).map_err(anyhow::Error::msg)?;
    crate::telemetry::metrics();
    Ok(Api::new(
        store,
        Arc::new(zoning),
        config.processors.port.congestion.clone(),
        config.serve.clone(),
        coastline,
        Some(Arc::new(crate::telemetry::render)),
    ))
}

/// Serves `api` on `listener` (with its stream poller) until `shutdown`.
pub async fn serve_on(
    listener: TcpListener,
    api: &Api,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (router, poller) = api.start();
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown).await;
    poller.abort();
    served.context("serving the API")
}

/// `porttrack serve`: binds `serve.listen` and answers from Postgres until `shutdown`.
pub async fn run(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let _telemetry = crate::telemetry::init(&config.log, &config.telemetry)?;
    let pg = config
        .postgres
        .as_ref()
        .context("serve reads Postgres: configure [postgres] or PORTTRACK_POSTGRES__URL")?;
    let store =
        PostgresStore::new(pg, config.serve.statement_timeout).context("configuring the Postgres pool")?;
    let api = api(&config, Arc::new(store))?;
    let listener = TcpListener::bind(config.serve.listen)
        .await
        .with_context(|| format!("binding {}", config.serve.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, postgres = %crate::outputs::redact(&pg.url), "serving the API");
    // Tests and scripts read the bound address (the port may be 0 = ephemeral).
    println!("serve: listening on http://{addr}/");
    serve_on(listener, &api, shutdown).await?;
    tracing::info!("stopped cleanly");
    Ok(())
}
