//! Building the configured sinks.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use porttrack_sinks::Sink;
use porttrack_sinks::elasticsearch::ElasticsearchSink;
use porttrack_sinks::file::FileSink;
use porttrack_sinks::null::NullSink;
use porttrack_sinks::postgres::{self, PostgresSink};
use porttrack_sinks::retry::{Backoff, Bound, RetryPolicy, Transient};

use crate::config::Config;

/// How long start-up waits for a sink's service before giving up.
const STARTUP_PATIENCE: Duration = Duration::from_secs(60);

/// Startup calls wait for a service that is still starting, up to
/// `STARTUP_PATIENCE`; permanent errors fail at once.
fn patience(what: &'static str) -> RetryPolicy {
    RetryPolicy::forever("startup", what)
        .with_bound(Bound::Within(STARTUP_PATIENCE))
        .with_backoff(Backoff { base: Duration::from_millis(200), max: Duration::from_secs(5) })
        .silent()
}

/// The sinks `config` asks for: Postgres and Elasticsearch where configured,
/// and the file sink (or, with `files.discard`, the null sink) standing in
/// for whichever is not. Applies migrations and
/// installs index templates on the way.
pub async fn build(config: &Config) -> anyhow::Result<Vec<Arc<dyn Sink>>> {
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    if let Some(pg) = &config.postgres {
        if pg.migrate_on_start {
            let applied = patience("postgres migrations")
                .retry(Transient, |_| postgres::migrate(pg))
                .await
                .with_context(|| format!("applying Postgres migrations at {}", redact(&pg.url)))?;
            tracing::info!(applied, "postgres migrations up to date");
        }
        sinks.push(Arc::new(PostgresSink::new(pg).context("configuring the Postgres sink")?));
    }
    if let Some(es) = &config.elasticsearch {
        let sink = ElasticsearchSink::new(es).context("configuring the Elasticsearch sink")?;
        patience("elasticsearch template")
            .retry(Transient, |_| sink.install_template())
            .await
            .with_context(|| format!("installing the index template at {}", es.url))?;
        sinks.push(Arc::new(sink));
    }
    if (config.postgres.is_none() || config.elasticsearch.is_none()) && config.files.discard {
        tracing::warn!(
            "files.discard: a null sink stands in for the unconfigured service(s); nothing it is given is kept"
        );
        sinks.push(Arc::new(NullSink));
    } else if config.postgres.is_none() || config.elasticsearch.is_none() {
        let sink = FileSink::open(&config.files.dir)
            .with_context(|| format!("opening the file sink in {}", config.files.dir.display()))?;
        tracing::info!(dir = %config.files.dir.display(), "file sink stands in for the unconfigured service(s)");
        sinks.push(Arc::new(sink));
    }
    Ok(sinks)
}

/// `url` with any password replaced, for error messages and logs: the
/// `user:password@` of a URL, and a `password=` parameter of a URL query or
/// a libpq `key=value` string.
pub fn redact(url: &str) -> String {
    let mut out = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    };
    let mut from = 0;
    while let Some(found) = out[from..].find("password=") {
        let start = from + found + "password=".len();
        // A quoted libpq value runs to its closing quote; others to the next
        // separator.
        let end = if out[start..].starts_with('\'') {
            out[start + 1..].find('\'').map_or(out.len(), |e| start + 2 + e)
        } else {
            out[start..].find([' ', '&', '\t']).map_or(out.len(), |e| start + e)
        };
        out.replace_range(start..end, "***");
        from = start + 3;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(redact("postgres://u:s3cret@db:5432/p"), "postgres://u:***@db:5432/p");
        assert_eq!(redact("postgres://u@db/p"), "postgres://u@db/p");
        assert_eq!(redact("host=db user=u"), "host=db user=u");
        assert_eq!(redact("host=db password=s3cret user=u"), "host=db password=*** user=u");
        assert_eq!(redact("host=db password='s3 cret' user=u"), "host=db password=*** user=u");
        assert_eq!(
            redact("postgres://db/p?user=u&password=s3cret&sslmode=require"),
            "postgres://db/p?user=u&password=***&sslmode=require"
        );
    }
}
