//! TLS facts both network sinks need from an error.

/// Whether anywhere in `e`'s causes rustls refused the server's certificate
/// (an unknown issuer, an expired certificate, another host's name): a
/// configuration mistake that no retry fixes, which setup calls report as
/// such.
pub(crate) fn certificate_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(rustls::Error::InvalidCertificate(_)) = err.downcast_ref::<rustls::Error>() {
            return true;
        }
        // An io::Error's `source()` skips the error it wraps: look inside.
        if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref)
            && certificate_refused(inner)
        {
            return true;
        }
        next = err.source();
    }
    false
}
