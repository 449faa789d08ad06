//! The HTTP side: one `reqwest` client (timeouts, custom CA), the
//! credentials every request carries (API key, preferred, or basic auth),
//! gzip-compressed bodies, and what a whole response's status means.
//!
//! A request answering 400 or 413 as a whole is permanent (the body is
//! unusable or too big: splitting fixes it, waiting does not); any other
//! failure, unreachable cluster and refused credentials included, is
//! transient. Per-item statuses inside a `_bulk` answer are
//! [`bulk`](super::bulk)'s business.

use std::io::Write;
use std::path::Path;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};

use super::ElasticsearchConfig;
use crate::SinkError;

#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic { username: String, password: String },
    ApiKey(String),
}

/// Sends requests to one cluster.
#[derive(Debug, Clone)]
pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    auth: Auth,
    gzip: bool,
}

fn read_secret(path: &Path) -> Result<String, SinkError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end().to_owned())
        .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", path.display())))
}

impl Client {
    /// A client for `config.url`, its CA and credentials read now. Does not connect yet.
    pub(super) fn new(config: &ElasticsearchConfig) -> Result<Self, SinkError> {
        let mut builder = reqwest::Client::builder().timeout(config.request_timeout);
        if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", ca.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| SinkError::Permanent(format!("CA certificate {}: {e}", ca.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| SinkError::Permanent(format!("http client: {e}")))?;
        let auth = match (&config.api_key_file, &config.username, &config.password_file) {
            (Some(key), _, _) => Auth::ApiKey(read_secret(key)?),
            (None, Some(username), password) => Auth::Basic {
                username: username.clone(),
                password: password.as_deref().map(read_secret).transpose()?.unwrap_or_default(),
            },
            (None, None, _) => Auth::None,
        };
        Ok(Client { http, base: config.url.trim_end_matches('/').to_owned(), auth, gzip: config.gzip })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let rb = self.http.request(method, format!("{}/{}", self.base, path.trim_start_matches('/')));
        match &self.auth {
            Auth::None => rb,
            Auth::Basic { username, password } => rb.basic_auth(username, Some(password)),
            Auth::ApiKey(key) => rb.header("Authorization", format!("ApiKey {key}")),
        }
    }

    /// `rb` with `body`, gzip-compressed when configured.
    fn body(
        &self,
        rb: RequestBuilder,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<RequestBuilder, SinkError> {
        let rb = rb.header(CONTENT_TYPE, content_type);
        if !self.gzip {
            return Ok(rb.body(body));
        }
        let mut gz = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
        gz.write_all(&body).map_err(|e| SinkError::Permanent(format!("gzip: {e}")))?;
        let compressed = gz.finish().map_err(|e| SinkError::Permanent(format!("gzip: {e}")))?;
        Ok(rb.header(CONTENT_ENCODING, "gzip").body(compressed))
    }

    /// `PUT {path}` with a JSON body (templates, policies).
    pub(super) async fn put_json(&self, path: &str, value: &serde_json::Value) -> Result<(), SinkError> {
        let body = serde_json::to_vec(value).map_err(|e| SinkError::Permanent(e.to_string()))?;
        let rb = self.body(self.request(Method::PUT, path), "application/json", body)?;
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            status_to_result(status, || format!("PUT {path}: {}", truncate(&text, 300)))?;
        }
        Ok(())
    }

    /// `POST _bulk` with an NDJSON body; the response body when the request
    /// as a whole succeeded.
    pub(super) async fn bulk(&self, body: Vec<u8>) -> Result<Bytes, SinkError> {
        let rb = self.body(self.request(Method::POST, "_bulk"), "application/x-ndjson", body)?;
        let resp = rb.send().await.map_err(transport)?;
        status_to_result(resp.status(), || "_bulk".into())?;
        resp.bytes().await.map_err(|e| SinkError::Transient(format!("reading _bulk response: {e}")))
    }

    /// `POST {path}` without a body, `what` naming it in errors.
    pub(super) async fn post(&self, path: &str, what: &str) -> Result<(), SinkError> {
        let resp = self.request(Method::POST, path).send().await.map_err(transport)?;
        status_to_result(resp.status(), || what.into())
    }

    /// `GET /`: whether the cluster answers.
    pub(super) async fn ping(&self) -> Result<(), SinkError> {
        let resp = self.request(Method::GET, "").send().await.map_err(transport)?;
        status_to_result(resp.status(), || "GET /".into())
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn transport(e: reqwest::Error) -> SinkError {
    SinkError::Transient(format!("elasticsearch unreachable: {e}"))
}

fn status_to_result(status: StatusCode, what: impl FnOnce() -> String) -> Result<(), SinkError> {
    if status.is_success() {
        return Ok(());
    }
    let msg = format!("{}: HTTP {status}", what());
    // 400 on the request as a whole means the body itself is unusable; 413
    // means it is too big. Both are fixed by splitting, not by waiting.
    // Auth and everything else is retried: it is not the data's fault.
    match status.as_u16() {
        400 | 413 => Err(SinkError::Permanent(msg)),
        _ => Err(SinkError::Transient(msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_request_status_classification() {
        assert!(status_to_result(StatusCode::OK, String::new).is_ok());
        assert!(!status_to_result(StatusCode::BAD_REQUEST, String::new).unwrap_err().is_transient());
        assert!(status_to_result(StatusCode::TOO_MANY_REQUESTS, String::new).unwrap_err().is_transient());
        assert!(status_to_result(StatusCode::SERVICE_UNAVAILABLE, String::new).unwrap_err().is_transient());
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("ééé", 2), "éé");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
