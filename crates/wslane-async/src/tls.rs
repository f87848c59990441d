//! How a `wss://` connection makes its TLS session, and the default rustls client settings (features
//! `rustls-webpki-roots` and `rustls-native-roots`).

#[cfg(feature = "tls")]
use std::io;
#[cfg(feature = "tls")]
use std::sync::Arc;

/// How a `wss://` connection makes its TLS session.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum Connector {
    /// The crate's default: rustls with the roots chosen by the enabled feature (`rustls-webpki-roots` or
    /// `rustls-native-roots`); without either, `wss://` fails.
    #[default]
    Default,
    /// rustls with the caller's configuration (roots, client certificates, ALPN).
    #[cfg(feature = "tls")]
    Rustls(Arc<rustls::ClientConfig>),
}

/// A rustls client configuration trusting the roots the enabled features name: the webpki roots bundled
/// with the crate, the operating system's, or both. Fails when no root was found.
#[cfg(feature = "tls")]
pub fn default_client_config() -> io::Result<Arc<rustls::ClientConfig>> {
    #[allow(unused_mut)]
    let mut roots = rustls::RootCertStore::empty();
    #[cfg(feature = "rustls-webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "rustls-native-roots")]
    for cert in rustls_native_certs::load_native_certs().certs {
        // A certificate the system lists but rustls cannot parse is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "no TLS root certificates: enable rustls-webpki-roots or rustls-native-roots, or pass a \
             rustls configuration",
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The server name to verify for `host`.
#[cfg(feature = "tls")]
pub fn server_name(host: &str) -> io::Result<rustls::pki_types::ServerName<'static>> {
    rustls::pki_types::ServerName::try_from(std::string::String::from(host))
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))
}
