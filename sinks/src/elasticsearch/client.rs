//! The HTTP side: one `reqwest` client (timeouts, custom CA), the
//! credentials every request carries (API key, preferred, or basic auth),
//! gzip-compressed bodies, and what a failed request means.
//!
//! Only the data can make a failure permanent for a write: the pipeline
//! answers a permanent write error by bisecting the batch down to single
//! records and dead-lettering them, which must never happen to good records
//! because of a wrong password or an outage. So a `_bulk` request ([`Call::Data`])
//! is permanent only when Elasticsearch itself answers 400 (the body is
//! unusable) or anyone answers 413 (too big: splitting fixes it). Everything
//! else is transient, and the pipeline retries the write until someone fixes
//! the cause.
//!
//! Setup calls and `check` ([`Call::Setup`]: templates, refresh, `GET /`) are
//! where a configuration mistake should stop the process at start instead:
//! refused credentials (401/403), a certificate that does not verify, and a
//! 400 that is not Elasticsearch's (a plain `http://` URL to a TLS port) are
//! permanent there. Every message names the cause (authentication, TLS
//! verification) and the credentials by where they come from, never their
//! value. Per-item statuses inside a `_bulk` answer are [`bulk`](super::bulk)'s business.

use std::io::Write;
use std::path::Path;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use super::ElasticsearchConfig;
use crate::SinkError;
use crate::tls::certificate_refused;

/// The `_bulk` endpoint, its response filtered to what
/// [`parse_bulk_response`](super::bulk::parse_bulk_response) reads.
const BULK: &str = "_bulk?filter_path=items.*.status,items.*.error";

#[derive(Clone)]
enum Auth {
    None,
    Basic { username: String, password: String },
    ApiKey(String),
}

/// Never the secrets: the sink (and so this) is logged with `{:?}`.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => {
                f.debug_struct("Basic").field("username", username).field("password", &"***").finish()
            }
            Auth::ApiKey(_) => f.write_str("ApiKey(***)"),
        }
    }
}

/// What a request is for, which decides how a failure that is not the
/// data's fault is classified (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// Templates, mappings, refresh, `GET /`: a misconfiguration is permanent.
    Setup,
    /// `_bulk`: only the data's fault is permanent.
    Data,
}

impl Call {
    /// A failure that retrying does not fix, but that is not the data's fault.
    fn misconfigured(self, message: String) -> SinkError {
        match self {
            Call::Setup => SinkError::Permanent(message),
            Call::Data => SinkError::Transient(message),
        }
    }
}

/// Sends requests to one cluster.
#[derive(Debug, Clone)]
pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    /// `base` with any password in it replaced, for messages.
    shown: String,
    auth: Auth,
    /// Who the requests claim to be, for messages ("user \"porttrack\" with
    /// the password in /run/…"); `None` without credentials.
    credentials: Option<String>,
    /// Where trusted CAs come from, for messages.
    roots: String,
    gzip: bool,
}

fn read_secret(path: &Path) -> Result<String, SinkError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end().to_owned())
        .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", path.display())))
}

/// `url` with the password of any `user:password@` replaced.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string().trim_end_matches('/').to_owned()
        }
        _ => url.to_owned(),
    }
}

impl Client {
    /// A client for `config.url`, its CA and credentials read now. Does not connect yet.
    pub(super) fn new(config: &ElasticsearchConfig) -> Result<Self, SinkError> {
        let mut builder = reqwest::Client::builder().timeout(config.request_timeout);
        let roots = if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", ca.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| SinkError::Permanent(format!("CA certificate {}: {e}", ca.display())))?;
            builder = builder.add_root_certificate(cert);
            format!("the CA in ca_file {} or the built-in Mozilla roots", ca.display())
        } else {
            "the built-in Mozilla roots (no ca_file set)".to_owned()
        };
        let http = builder.build().map_err(|e| SinkError::Permanent(format!("http client: {e}")))?;
        let (auth, credentials) = match (&config.api_key_file, &config.username, &config.password_file) {
            (Some(key), _, _) => {
                (Auth::ApiKey(read_secret(key)?), Some(format!("the API key in {}", key.display())))
            }
            (None, Some(username), password) => (
                Auth::Basic {
                    username: username.clone(),
                    password: password.as_deref().map(read_secret).transpose()?.unwrap_or_default(),
                },
                Some(match password {
                    Some(file) => format!("user {username:?} with the password in {}", file.display()),
                    None => format!("user {username:?} without a password (no password_file set)"),
                }),
            ),
            (None, None, _) => (Auth::None, None),
        };
        let base = config.url.trim_end_matches('/').to_owned();
        Ok(Client { http, shown: redact(&base), base, auth, credentials, roots, gzip: config.gzip })
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
        // Level 1: the body shrinks to a tenth of the text all the same
        // (flate2 on zlib-rs, see the workspace's Cargo.toml).
        let mut gz = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
        gz.write_all(&body).map_err(|e| SinkError::Permanent(format!("gzip: {e}")))?;
        let compressed = gz.finish().map_err(|e| SinkError::Permanent(format!("gzip: {e}")))?;
        Ok(rb.header(CONTENT_ENCODING, "gzip").body(compressed))
    }

    /// Sends `rb`; the response when its status is a success, else the
    /// failure classified for `call`, `what` naming the request.
    async fn send(&self, rb: RequestBuilder, call: Call, what: &str) -> Result<Response, SinkError> {
        let resp = rb.send().await.map_err(|e| self.transport(&e, call, what))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        // Auth answers carry nothing useful (an HTML page from a proxy, or
        // a security exception that repeats the user name).
        let body = match status.as_u16() {
            401 | 403 => String::new(),
            _ => resp.text().await.unwrap_or_default(),
        };
        Err(self.refusal(status, &body, call, what))
    }

    /// What a non-success answer means.
    fn refusal(&self, status: StatusCode, body: &str, call: Call, what: &str) -> SinkError {
        let at = &self.shown;
        let who = self.credentials.as_deref();
        match status.as_u16() {
            401 => call.misconfigured(match who {
                Some(who) => {
                    format!("authentication failed: {what} at {at} answered HTTP {status}; it refused {who}")
                }
                None => format!(
                    "authentication failed: {what} at {at} answered HTTP {status}; it wants credentials \
                     and none are configured (username and password_file, or api_key_file)"
                ),
            }),
            403 => call.misconfigured(format!(
                "authentication accepted but not authorized: {what} at {at} answered HTTP {status}; \
                 {} lacks a privilege this request needs",
                who.unwrap_or("an anonymous request")
            )),
            // The body as a whole is unusable, by Elasticsearch's own word
            // (a JSON error): the data's fault. A 400 from anything else (a
            // proxy given plain HTTP on its TLS port) is not.
            400 if is_elasticsearch_error(body) => {
                SinkError::Permanent(format!("{what}: HTTP {status}: {}", snippet(body)))
            }
            400 => call.misconfigured(format!(
                "{what} at {at} answered HTTP {status} that is not Elasticsearch's (is the URL, its \
                 scheme and port, right?): {}",
                snippet(body)
            )),
            // Too big: splitting fixes it, whoever says so.
            413 => SinkError::Permanent(format!("{what}: HTTP {status}: {}", snippet(body))),
            _ => SinkError::Transient(format!("{what} at {at}: HTTP {status}: {}", snippet(body))),
        }
    }

    /// A request that got no answer: unreachable, timed out, or a TLS
    /// handshake that failed. A certificate that does not verify is a
    /// misconfiguration (a missing `ca_file`, a wrong host name), not an outage.
    fn transport(&self, e: &reqwest::Error, call: Call, what: &str) -> SinkError {
        let cause = error_chain(e);
        if certificate_refused(e) {
            call.misconfigured(format!(
                "TLS verification failed: {what} at {}: the server's certificate is not trusted by {}: {cause}",
                self.shown, self.roots
            ))
        } else {
            SinkError::Transient(format!("elasticsearch unreachable: {what} at {}: {cause}", self.shown))
        }
    }

    /// `PUT {path}` with a JSON body (templates, policies).
    pub(super) async fn put_json(&self, path: &str, value: &serde_json::Value) -> Result<(), SinkError> {
        let body = serde_json::to_vec(value).map_err(|e| SinkError::Permanent(e.to_string()))?;
        let rb = self.body(self.request(Method::PUT, path), "application/json", body)?;
        self.send(rb, Call::Setup, &format!("PUT {path}")).await.map(drop)
    }

    /// `POST _bulk` with an NDJSON body; the response body when the request
    /// as a whole succeeded.
    ///
    /// The response keeps only each item's `status` and `error`, all the
    /// sink reads (`filter_path`, in Elasticsearch and OpenSearch alike):
    /// unfiltered, every item also echoes its index, id, version, shards and
    /// sequence numbers, about 180 bytes per document for the sink to read
    /// and throw away. Parsing 5,000 items took 0.51 ms filtered against
    /// 1.55 ms unfiltered (`bulk_body` bench).
    pub(super) async fn bulk(&self, body: Vec<u8>) -> Result<Bytes, SinkError> {
        let rb = self.body(self.request(Method::POST, BULK), "application/x-ndjson", body)?;
        let resp = self.send(rb, Call::Data, "_bulk").await?;
        resp.bytes().await.map_err(|e| SinkError::Transient(format!("reading _bulk response: {e}")))
    }

    /// `POST {path}` without a body, `what` naming it in errors.
    pub(super) async fn post(&self, path: &str, what: &str) -> Result<(), SinkError> {
        self.send(self.request(Method::POST, path), Call::Setup, what).await.map(drop)
    }

    /// `GET /`: whether the cluster answers and takes the credentials.
    pub(super) async fn ping(&self) -> Result<(), SinkError> {
        self.send(self.request(Method::GET, ""), Call::Setup, "GET /").await.map(drop)
    }
}

/// Whether `body` is an Elasticsearch error answer (`{"error": …}`).
fn is_elasticsearch_error(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body).is_ok_and(|v| v.get("error").is_some())
}

/// At most 300 characters of `body`, HTML tags dropped and whitespace
/// collapsed (a proxy's error page reads as its text).
fn snippet(body: &str) -> String {
    let mut text = String::with_capacity(body.len().min(1024));
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' if body.trim_start().starts_with('<') => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if in_tag => {}
            _ => text.push(c),
        }
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&collapsed, 300).to_owned()
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `e` and its causes, "outer: inner: …" (reqwest's own message alone is
/// only "error sending request"). The request's URL is left out: messages
/// name the redacted base URL themselves.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let top = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connecting failed"
    } else {
        "sending the request failed"
    };
    parts.push(top.to_owned());
    while let Some(err) = next {
        let text = err.to_string();
        // Wrappers repeat their cause ("client error (Connect)"); keep what is new.
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(config: ElasticsearchConfig) -> Client {
        Client::new(&config).unwrap()
    }

    #[test]
    fn whole_request_statuses_are_permanent_only_when_the_data_is_at_fault() {
        let c = client(ElasticsearchConfig::default());
        let es_400 =
            r#"{"error":{"type":"illegal_argument_exception","reason":"Malformed action"},"status":400}"#;
        for call in [Call::Setup, Call::Data] {
            let e = c.refusal(StatusCode::BAD_REQUEST, es_400, call, "_bulk");
            assert!(!e.is_transient(), "{e}");
            assert!(e.to_string().contains("Malformed action"), "{e}");
            assert!(!c.refusal(StatusCode::PAYLOAD_TOO_LARGE, "", call, "_bulk").is_transient());
            assert!(c.refusal(StatusCode::TOO_MANY_REQUESTS, "", call, "_bulk").is_transient());
            assert!(c.refusal(StatusCode::SERVICE_UNAVAILABLE, "", call, "_bulk").is_transient());
        }
        // Misconfiguration: stops setup, never dead-letters a write.
        let proxy_400 =
            "<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>";
        for status in [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::BAD_REQUEST] {
            assert!(!c.refusal(status, proxy_400, Call::Setup, "GET /").is_transient(), "{status}");
            assert!(c.refusal(status, proxy_400, Call::Data, "_bulk").is_transient(), "{status}");
        }
        let e = c.refusal(StatusCode::BAD_REQUEST, proxy_400, Call::Setup, "GET /");
        assert!(e.to_string().contains("The plain HTTP request was sent to HTTPS port"), "{e}");
        assert!(!e.to_string().contains('<'), "{e}");
    }

    #[test]
    fn auth_errors_name_the_credentials_source_but_never_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cret-value\n").unwrap();
        let c = client(ElasticsearchConfig {
            url: "https://elastic:inline-pw@es.internal:9200/".into(),
            username: Some("porttrack".into()),
            password_file: Some(file.clone()),
            ..Default::default()
        });
        let e = c.refusal(StatusCode::UNAUTHORIZED, "", Call::Setup, "GET /").to_string();
        assert!(e.contains("authentication failed") && e.contains("401"), "{e}");
        assert!(e.contains("\"porttrack\"") && e.contains(&file.display().to_string()), "{e}");
        assert!(!e.contains("s3cret") && !e.contains("inline-pw"), "{e}");
        assert!(!format!("{c:?}").contains("s3cret"), "Debug shows the password");
        let key = dir.path().join("key");
        std::fs::write(&key, "a2V5LWlkOmtleQ==").unwrap();
        let c = client(ElasticsearchConfig { api_key_file: Some(key), ..Default::default() });
        assert!(!format!("{c:?}").contains("a2V5"), "Debug shows the API key");
    }

    #[test]
    fn snippets_read_html_as_text_and_keep_json() {
        assert_eq!(snippet("<html><body><h1>400 Bad Request</h1>\n</body></html>"), "400 Bad Request");
        assert_eq!(snippet(r#"{"error": "a < b"}"#), r#"{"error": "a < b"}"#);
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("ééé", 2), "éé");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
