//! The TLS front of `porttrack serve` (`deploy/nginx`), on Debian's real
//! nginx with a certificate from the local stack's CA.
//!
//! Two nginx instances are tested, both running the committed templates as
//! rendered by `deploy/nginx/render` (the script `deploy/local/up` uses):
//!
//! * Most tests start an nginx of their own, on ports of their own, in front
//!   of stand-in upstreams inside the test. The stand-ins make the upstream's
//!   behaviour known (the stream writes one event, waits a second, writes
//!   another, and never asks for unbuffering itself), so what is measured is
//!   the proxy's configuration; and a real `serve` on 127.0.0.1:8088, which
//!   other tests and developers run, is neither needed nor disturbed.
//! * `stack_nginx_terminates_tls_with_the_stack_ca` checks the stack's own
//!   instance (https://127.0.0.1:8443, HTTP on 8080), whatever runs behind it.
//!
//! Every test fails when nginx or openssl is missing, or the stack is not up.

mod support;

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use reqwest::tls::Version;

/// The stack's TLS material: its CA, and the server certificate and key
/// `deploy/local/up` made for localhost/127.0.0.1 (nginx's too).
struct Tls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn stack_env() -> Vec<(String, String)> {
    support::stack();
    let path = support::repo_root().join(porttrack::demo::STACK_ENV);
    porttrack::demo::read_stack_env(&path)
        .unwrap_or_else(|| panic!("{} missing: run deploy/local/up", path.display()))
}

fn env_value(env: &[(String, String)], key: &str) -> String {
    env.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{key} missing from stack.env: run deploy/local/up"))
}

fn tls() -> Tls {
    let ca = PathBuf::from(env_value(&stack_env(), "PORTTRACK_TLS_CA_FILE"));
    let dir = ca.parent().expect("CA file has a directory").to_path_buf();
    Tls { ca, cert: dir.join("server.pem"), key: dir.join("server.key") }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port()
}

/// An nginx started by the test from the committed templates; killed on drop.
struct Nginx {
    child: Child,
    https: SocketAddr,
    http: SocketAddr,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start(upstreams: &[SocketAddr], tls: &Tls) -> Nginx {
        let nginx = ["nginx", "/usr/sbin/nginx"]
            .into_iter()
            .find(|bin| Command::new(bin).arg("-v").output().is_ok_and(|o| o.status.success()))
            .expect("nginx is not installed (Debian: apt-get install nginx; deploy/local/up installs it)");
        let dir = tempfile::tempdir().expect("tempdir");
        // nginx's workers run as `nobody` when the test runs as root: they
        // must be able to enter the prefix for their temp files.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let https: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let upstream = upstreams.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        let conf = dir.path().join("conf");
        let render = Command::new(support::repo_root().join("deploy/nginx/render"))
            .arg(&conf)
            .env("PORTTRACK_NGINX_CERT", &tls.cert)
            .env("PORTTRACK_NGINX_KEY", &tls.key)
            .env("PORTTRACK_NGINX_UPSTREAM", &upstream)
            .env("PORTTRACK_NGINX_HTTPS_LISTEN", https.to_string())
            .env("PORTTRACK_NGINX_HTTP_LISTEN", http.to_string())
            .env("PORTTRACK_NGINX_PUBLIC_ORIGIN", format!("https://{https}"))
            .output()
            .expect("running deploy/nginx/render");
        assert!(render.status.success(), "render: {}", String::from_utf8_lossy(&render.stderr));
        let log = std::fs::File::create(dir.path().join("nginx.log")).expect("log file");
        let mut child = Command::new(nginx)
            .arg("-p")
            .arg(&conf)
            .arg("-c")
            .arg(conf.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("starting nginx");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(https).is_err() || TcpStream::connect(http).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nginx exited ({status}): {}", read(&dir.path().join("nginx.log")));
            }
            assert!(Instant::now() < deadline, "nginx did not listen on {https} and {http} within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx { child, https, http, dir }
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.https)
    }

    fn log(&self) -> String {
        read(&self.dir.path().join("nginx.log"))
    }
}

impl Drop for Nginx {
    /// SIGTERM, nginx's fast shutdown: the master stops its workers, then
    /// exits. (SIGKILL would leave the workers running, orphaned, on the
    /// listening sockets.) SIGKILL only if it is still there after 10 s.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Bytes of the stand-in's `/big` response (a 100k-vessel snapshot is several MB).
const BIG: usize = 8 << 20;

/// A stand-in for one `porttrack serve` instance: `/` names the instance,
/// `/echo` returns the forwarding headers it received, `/metrics` has a
/// body, and `/api/v1/stream` is an event stream that writes one event,
/// waits a second, writes a second event and ends half a second later.
async fn upstream(name: &'static str) -> SocketAddr {
    let app = Router::new()
        .route(
            "/",
            get(move || async move {
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/html")
                    .header("x-upstream", name)
                    .body(Body::from("<!doctype html><title>PortTrack</title>"))
                    .expect("response")
            }),
        )
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                format!("proto={} for={} host={}", h("x-forwarded-proto"), h("x-forwarded-for"), h("host"))
            }),
        )
        .route("/metrics", get(|| async { "porttrack_vessels_tracked 3\n" }))
        // A large snapshot: more than nginx's memory buffers, so the proxy
        // may spill it to its temp files (which its workers must be able to write).
        .route("/big", get(|| async { "x".repeat(BIG) }))
        .route("/api/v1/stream", get(stream));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn stream() -> Response {
    let events = futures::stream::unfold(0u8, |step| async move {
        let event = match step {
            0 => "id: 1\nevent: vessel\ndata: {\"mmsi\":244123456}\n\n",
            1 => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                "id: 2\nevent: congestion\ndata: {\"zone\":\"maasmond\"}\n\n"
            }
            2 => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                return None;
            }
            _ => return None,
        };
        Some((Ok::<_, Infallible>(event.to_owned()), step + 1))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(events))
        .expect("response")
}

/// A client that trusts only the stack's CA, follows no redirects and
/// speaks exactly `version`.
fn client(tls: &Tls, version: Version) -> reqwest::Client {
    let ca = std::fs::read(&tls.ca).expect("reading the stack's CA");
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("CA PEM"))
        .min_tls_version(version)
        .max_tls_version(version)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn openssl_s_client(addr: SocketAddr, tls: &Tls, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-servername", "localhost", "-CAfile"])
        .arg(&tls.ca)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl is not installed (Debian: apt-get install openssl)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn assert_security_headers(what: &str, headers: &reqwest::header::HeaderMap) {
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let hsts = h("strict-transport-security");
    assert!(
        hsts.starts_with("max-age=")
            && hsts["max-age=".len()..]
                .split(';')
                .next()
                .unwrap_or("")
                .parse::<u64>()
                .is_ok_and(|s| s >= 31_536_000),
        "{what}: HSTS missing or shorter than a year: {hsts:?}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    assert_eq!(h("referrer-policy"), "strict-origin-when-cross-origin", "{what}");
    let csp = h("content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: CSP lacks {directive:?}: {csp:?}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{what}: CSP allows inline code: {csp:?}"
    );
}

#[tokio::test]
async fn http_redirects_permanently_to_the_https_origin() {
    let tls = tls();
    let nginx = Nginx::start(&[upstream("a").await], &tls);
    let plain =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    for path in ["/", "/api/v1/vessels?zone=maasmond&limit=5"] {
        let resp = plain.get(format!("http://{}{path}", nginx.http)).send().await.expect("GET over HTTP");
        assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY, "{path}");
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(
            location,
            format!("https://{}{path}", nginx.https),
            "{path}: redirect keeps path and query"
        );
    }
    // The target is the configured origin, not the request's Host header.
    let resp = plain
        .get(format!("http://{}/", nginx.http))
        .header("host", "evil.example")
        .send()
        .await
        .expect("GET with a foreign Host");
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(location, format!("https://{}/", nginx.https));
}

#[tokio::test]
async fn only_tls_1_2_and_1_3_are_accepted() {
    let tls = tls();
    let nginx = Nginx::start(&[upstream("a").await], &tls);
    for version in [Version::TLS_1_2, Version::TLS_1_3] {
        let resp = client(&tls, version).get(nginx.url("/")).send().await;
        let resp = resp.unwrap_or_else(|e| panic!("{version:?} refused: {e:?}\n{}", nginx.log()));
        assert_eq!(resp.status(), StatusCode::OK, "{version:?}");
    }
    // rustls cannot speak TLS 1.0/1.1, so openssl does. SECLEVEL=0 lets
    // OpenSSL 3 offer them at all; the refusal must then come from the
    // server (a protocol_version alert), not from the client.
    let (ok, out) = openssl_s_client(nginx.https, &tls, &["-tls1_2"]);
    assert!(ok && out.contains("TLSv1.2"), "control: openssl speaks TLS 1.2 to it:\n{out}");
    for flag in ["-tls1", "-tls1_1"] {
        let (ok, out) = openssl_s_client(nginx.https, &tls, &[flag, "-cipher", "DEFAULT@SECLEVEL=0"]);
        assert!(!ok, "{flag} was accepted:\n{out}");
        assert!(
            out.contains("alert protocol version"),
            "{flag}: not refused by the server's protocol_version alert:\n{out}"
        );
    }
    // TLS 1.2 without forward secrecy or with CBC is refused too.
    for cipher in ["AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA"] {
        let (ok, out) = openssl_s_client(nginx.https, &tls, &["-tls1_2", "-cipher", cipher]);
        assert!(
            !ok && out.contains("alert handshake failure"),
            "TLS 1.2 with {cipher} was not refused:\n{out}"
        );
    }
}

#[tokio::test]
async fn the_certificate_verifies_with_the_stack_ca_and_not_without_it() {
    let tls = tls();
    let nginx = Nginx::start(&[upstream("a").await], &tls);
    let resp = client(&tls, Version::TLS_1_3).get(nginx.url("/")).send().await.expect("with the stack's CA");
    assert_eq!(resp.status(), StatusCode::OK);
    // The public roots only (reqwest's defaults): the stack's CA is unknown.
    let public = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let err = public.get(nginx.url("/")).send().await.expect_err("verified without the stack's CA");
    let chain = format!("{err:?}");
    assert!(
        chain.contains("UnknownIssuer") || chain.to_lowercase().contains("certificate"),
        "not a certificate error: {chain}"
    );
}

#[tokio::test]
async fn every_response_carries_hsts_and_the_security_headers() {
    let tls = tls();
    let nginx = Nginx::start(&[upstream("a").await], &tls);
    let client = client(&tls, Version::TLS_1_3);
    for path in ["/", "/metrics", "/api/v1/stream"] {
        let resp = client.get(nginx.url(path)).send().await.expect("GET");
        assert_security_headers(path, resp.headers());
    }
    // An upstream that is down: nginx's own 502 carries them as well.
    let dead = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let broken = Nginx::start(&[dead], &tls);
    let resp = client.get(broken.url("/")).send().await.expect("GET");
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_security_headers("502", resp.headers());
    // Only reads go through.
    let resp = client.post(nginx.url("/api/v1/vessels")).body("{}").send().await.expect("POST");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "POST must be refused");
}

#[tokio::test]
async fn metrics_are_not_exposed_through_the_proxy() {
    let tls = tls();
    let instance = upstream("a").await;
    let direct = reqwest::get(format!("http://{instance}/metrics")).await.expect("direct GET");
    assert_eq!(direct.status(), StatusCode::OK, "control: the instance serves /metrics");
    let nginx = Nginx::start(&[instance], &tls);
    let resp = client(&tls, Version::TLS_1_3).get(nginx.url("/metrics")).send().await.expect("GET");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body = resp.text().await.expect("body");
    assert!(!body.contains("porttrack_"), "metrics leaked: {body}");
}

#[tokio::test]
async fn large_responses_pass_whole() {
    let tls = tls();
    let nginx = Nginx::start(&[upstream("a").await], &tls);
    let resp = client(&tls, Version::TLS_1_3).get(nginx.url("/big")).send().await.expect("GET /big");
    assert_eq!(resp.status(), StatusCode::OK, "{}", nginx.log());
    let body = resp.bytes().await.expect("body");
    assert_eq!(body.len(), BIG, "truncated: {}", nginx.log());
}

#[tokio::test]
async fn requests_are_spread_over_every_instance_with_forwarding_headers() {
    let tls = tls();
    let nginx = Nginx::start(&[upstream("a").await, upstream("b").await], &tls);
    let client = client(&tls, Version::TLS_1_3);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..10 {
        let resp = client.get(nginx.url("/")).send().await.expect("GET");
        assert_eq!(resp.status(), StatusCode::OK);
        let name = resp.headers().get("x-upstream").and_then(|v| v.to_str().ok()).unwrap_or("?").to_owned();
        seen.insert(name);
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["a", "b"], "both instances answer");
    let echo = client.get(nginx.url("/echo")).send().await.expect("GET").text().await.expect("body");
    assert!(echo.starts_with("proto=https for=127.0.0.1 "), "forwarding headers: {echo}");
    assert!(echo.ends_with(&format!("host={}", nginx.https.ip())), "Host is the client's: {echo}");
}

#[tokio::test]
async fn server_sent_events_pass_through_one_by_one() {
    let tls = tls();
    let nginx = Nginx::start(&[upstream("a").await], &tls);
    let started = Instant::now();
    let mut resp = client(&tls, Version::TLS_1_3)
        .get(nginx.url("/api/v1/stream"))
        .header("accept", "text/event-stream")
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("GET /api/v1/stream");
    assert_eq!(resp.status(), StatusCode::OK);
    let h = |k: &str| resp.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(h("content-type").starts_with("text/event-stream"));
    assert_eq!(h("content-encoding"), "", "the stream must not be compressed");
    assert_eq!(h("x-accel-buffering"), "no", "proxies in front are told not to buffer");

    let mut text = String::new();
    let mut arrivals = Vec::new();
    while let Some(chunk) = resp.chunk().await.expect("reading the stream") {
        text.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        while arrivals.len() < text.matches("\n\n").count() {
            arrivals.push(started.elapsed());
        }
    }
    assert_eq!(arrivals.len(), 2, "two events: {text:?}");
    assert!(
        text.contains("id: 1\nevent: vessel\n") && text.contains("id: 2\nevent: congestion\n"),
        "{text:?}"
    );
    let (first, second) = (arrivals[0], arrivals[1]);
    eprintln!("events arrived after {first:?} and {second:?}");
    assert!(first < Duration::from_millis(700), "the first event waited {first:?}: buffered by the proxy");
    assert!(
        second.saturating_sub(first) >= Duration::from_millis(800),
        "the events arrived together ({first:?}, {second:?}): buffered by the proxy"
    );
}

#[tokio::test]
async fn stack_nginx_terminates_tls_with_the_stack_ca() {
    let env = stack_env();
    let tls = tls();
    let https = env_value(&env, "PORTTRACK_NGINX_HTTPS_URL");
    let http = env_value(&env, "PORTTRACK_NGINX_HTTP_URL");
    let plain =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let resp = plain.get(format!("{http}/api/v1/zones")).send().await.expect("the stack's nginx over HTTP");
    assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(location, format!("{https}/api/v1/zones"));
    // /metrics is answered by nginx itself: no `serve` needed behind it.
    for version in [Version::TLS_1_2, Version::TLS_1_3] {
        let resp = client(&tls, version)
            .get(format!("{https}/metrics"))
            .send()
            .await
            .expect("the stack's nginx over TLS");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{version:?}");
        assert!(resp.headers().contains_key("strict-transport-security"), "{version:?}: HSTS");
    }
}
