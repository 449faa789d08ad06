//! The connection to Postgres: the TLS connector (rustls with the ring
//! provider, the stack reqwest uses), the connection pool the sink writes
//! through, and the one-off session [`migrate`](super::migrate()) uses.
//!
//! `tls = "require"` encrypts without checking the certificate, as libpq
//! does (the handshake signatures are still checked); `verify-full` checks
//! the chain against `ca_file` (or the Mozilla roots from `webpki-roots`) and
//! the host name. With `disable` the connector is never used, but the pool's
//! type stays the same.
//!
//! Every pooled connection creates the session's staging tables when it
//! opens (`sinks/sql/staging.sql`); the pool recycles with
//! [`RecyclingMethod::Fast`] so they survive (`Clean` would `DISCARD ALL`).

use std::path::Path;
use std::sync::Arc;

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use futures::FutureExt;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::statements::STAGING;
use super::{PostgresConfig, TlsMode, classify};
use crate::SinkError;
use crate::tls::certificate_refused;

/// A pool of `config.pool_size` connections (at least one); connects lazily.
pub(super) fn pool(config: &PostgresConfig) -> Result<Pool, SinkError> {
    let tls = connector(config.tls, config.ca_file.as_deref())?;
    let manager = Manager::from_config(
        config.pg_config()?,
        tls,
        // Fast: the staging tables are session state and must survive
        // recycling (Clean would DISCARD ALL them).
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    Pool::builder(manager)
        .max_size(config.pool_size.max(1))
        .wait_timeout(Some(config.connect_timeout))
        .create_timeout(Some(config.connect_timeout))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .post_create(Hook::async_fn(|client, _| {
            async move { client.batch_execute(STAGING).await.map_err(HookError::Backend) }.boxed()
        }))
        .build()
        .map_err(|e| SinkError::Permanent(format!("postgres pool: {e}")))
}

/// A connection from `pool`, its failures classified like any Postgres error.
pub(super) async fn client(pool: &Pool) -> Result<Object, SinkError> {
    pool.get().await.map_err(|e| match e {
        PoolError::Backend(e) | PoolError::PostCreateHook(HookError::Backend(e)) => classify(e),
        other => SinkError::Transient(format!("postgres pool: {other}")),
    })
}

/// One session outside the pool (no staging tables), its connection driven
/// by a spawned task that ends when the client is dropped.
pub(super) async fn connect(
    config: &PostgresConfig,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>), SinkError> {
    let tls = connector(config.tls, config.ca_file.as_deref())?;
    let (client, connection) = config.pg_config()?.connect(tls).await.map_err(classify_setup)?;
    Ok((client, tokio::spawn(connection)))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The connector for `mode`. With `disable` it is never used (the config's
/// `sslmode` is `disable`), but the pool's type stays the same. Public so
/// that every Postgres client of PortTrack (the read API too) speaks TLS the
/// same way for the same `[postgres]` section.
pub fn connector(mode: TlsMode, ca_file: Option<&Path>) -> Result<MakeRustlsConnect, SinkError> {
    let tls_error = |e: rustls::Error| SinkError::Permanent(format!("postgres TLS: {e}"));
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let config = match mode {
        TlsMode::Disable | TlsMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(
                provider().signature_verification_algorithms,
            )))
            .with_no_client_auth(),
        TlsMode::VerifyFull => {
            let mut roots = RootCertStore::empty();
            match ca_file {
                Some(path) => {
                    let certs = CertificateDer::pem_file_iter(path)
                        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                        .map_err(|e| SinkError::Permanent(format!("reading {}: {e}", path.display())))?;
                    let (added, _) = roots.add_parsable_certificates(certs);
                    if added == 0 {
                        return Err(SinkError::Permanent(format!(
                            "{}: no usable CA certificate",
                            path.display()
                        )));
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// libpq's `sslmode=require`: any certificate is accepted, but the
/// handshake signatures are still checked (so the session key belongs to
/// whoever holds the presented certificate).
#[derive(Debug)]
struct EncryptOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// What a failed connection means at setup (migrations, run at start): a
/// certificate that does not verify and refused credentials never heal by
/// retrying, so they are permanent here and the process stops at start with
/// the reason. Everything else is [`classify`]'s. (Writes keep treating
/// them as transient: a batch must never be dead-lettered because a
/// password was rotated.)
fn classify_setup(e: tokio_postgres::Error) -> SinkError {
    if e.code().is_some_and(|c| c.code().starts_with("28")) {
        return SinkError::Permanent(format!(
            "postgres refused the credentials: {e} (check the user in postgres.url and postgres.password_file)"
        ));
    }
    if certificate_refused(&e) {
        let cause = std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
        return SinkError::Permanent(format!(
            "postgres TLS verification failed: {cause} (check postgres.ca_file and the host name in postgres.url)"
        ));
    }
    classify(e)
}
