//! Connecting to a server.

use std::io;
use std::net::SocketAddr;
#[cfg(feature = "tls")]
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncReadCompatExt;
use wslane::driver::{self, ConnectGate};
use wslane::handshake::{ClientRequest, ClientUpgrade, Url};
use wslane::mask_keys::ChaChaKeys;
use wslane::Config;

use crate::{within, Error, MaybeTlsStream, TokioTimer, WebSocketStream};

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
    Rustls(Arc<tokio_rustls::rustls::ClientConfig>),
}

/// Connects to a `ws://` or `wss://` URL with default settings.
pub async fn connect(url: &str) -> Result<(WebSocketStream<MaybeTlsStream>, ClientUpgrade), Error> {
    let request = ClientRequest::new(Url::parse(url)?);
    connect_with(request, Config::default(), Connector::Default).await
}

/// Connects with a built request (origin, subprotocols, extensions, extra fields), connection settings and
/// a TLS connector.
///
/// RFC 6455 section 4.1: while this connection is in the CONNECTING state (TCP, TLS, opening handshake),
/// other connections from this process to the same address wait their turn.
pub async fn connect_with(
    request: ClientRequest,
    config: Config,
    connector: Connector,
) -> Result<(WebSocketStream<MaybeTlsStream>, ClientUpgrade), Error> {
    let url = request.url().clone();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((url.host(), url.port()))
        .await?
        .collect();
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for addr in addrs {
        let _connecting = ConnectGate::global().acquire(addr).await;
        let tcp = match TcpStream::connect(addr).await {
            Ok(tcp) => tcp,
            Err(err) => {
                last_error = err;
                continue;
            }
        };
        tcp.set_nodelay(true)?;
        let handshake = async {
            let stream = secure(tcp, &url, &connector).await?;
            client_on(stream, request, config).await
        };
        return within(config.handshake_timeout, handshake).await;
    }
    Err(Error::Io(last_error))
}

/// Runs the client handshake on a stream that is already connected (a proxy tunnel, a Unix socket, an
/// in-memory pipe). The caller keeps the section 4.1 rule for such streams.
pub async fn client_on<S>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocketStream<S>, ClientUpgrade), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut nonce = [0; 16];
    let mut seed = [0; 32];
    getrandom::fill(&mut nonce).map_err(io::Error::from)?;
    getrandom::fill(&mut seed).map_err(io::Error::from)?;
    let keys = ChaChaKeys::from_seed(seed);
    driver::client_handshake(
        stream.compat(),
        TokioTimer::default(),
        request,
        config,
        nonce,
        keys,
    )
    .await
}

#[cfg(not(feature = "tls"))]
async fn secure(tcp: TcpStream, url: &Url, _: &Connector) -> Result<MaybeTlsStream, Error> {
    if url.is_tls() {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::Unsupported,
            "wss:// needs a TLS feature of wslane-tokio (rustls-webpki-roots or rustls-native-roots)",
        )));
    }
    Ok(MaybeTlsStream::Plain(tcp))
}

#[cfg(feature = "tls")]
async fn secure(tcp: TcpStream, url: &Url, connector: &Connector) -> Result<MaybeTlsStream, Error> {
    use tokio_rustls::rustls::pki_types::ServerName;
    if !url.is_tls() {
        return Ok(MaybeTlsStream::Plain(tcp));
    }
    let config = match connector {
        Connector::Rustls(config) => Arc::clone(config),
        Connector::Default => default_tls_config()?,
    };
    let name = ServerName::try_from(url.host().to_owned())
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    Ok(MaybeTlsStream::Tls(Box::new(tls)))
}

#[cfg(feature = "tls")]
fn default_tls_config() -> Result<Arc<tokio_rustls::rustls::ClientConfig>, Error> {
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};
    #[allow(unused_mut)]
    let mut roots = RootCertStore::empty();
    #[cfg(feature = "rustls-webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "rustls-native-roots")]
    {
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A certificate the system lists but rustls cannot parse is skipped, as browsers do.
            let _ = roots.add(cert);
        }
    }
    if roots.is_empty() {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::NotFound,
            "no TLS root certificates: enable rustls-webpki-roots or rustls-native-roots, or pass \
             Connector::Rustls",
        )));
    }
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
