//! Connecting to a server.

use std::io;
#[cfg(feature = "tls")]
use std::sync::Arc;

use async_net::TcpStream;
use futures_io::{AsyncRead, AsyncWrite};
use wslane::driver::{self, connect_gated};
use wslane::handshake::{ClientRequest, ServerResponse, Url};
use wslane::mask_keys::ChaChaKeys;
use wslane::Config;

use crate::{within, AsyncIoTimer, Error, MaybeTlsStream, WebSocketStream};

/// How a `wss://` connection makes its TLS session.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum Connector {
    /// rustls with the roots chosen by the enabled feature (`rustls-webpki-roots` or
    /// `rustls-native-roots`); without either, `wss://` fails.
    #[default]
    Default,
    /// rustls with the caller's configuration (roots, client certificates, ALPN).
    #[cfg(feature = "tls")]
    Rustls(Arc<futures_rustls::rustls::ClientConfig>),
}

/// Connects to a `ws://` or `wss://` URL with default settings.
pub async fn connect(
    url: &str,
) -> Result<(WebSocketStream<MaybeTlsStream>, ServerResponse), Error> {
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
) -> Result<(WebSocketStream<MaybeTlsStream>, ServerResponse), Error> {
    let url = request.url().clone();
    let limit = config.handshake_timeout;
    let addrs = within(limit, async {
        Ok(async_net::resolve((url.host(), url.port())).await?)
    })
    .await?;
    // The timeout bounds this connection's own attempt, not its wait behind others at the gate.
    let attempt = |addr| within(limit, async move { Ok(TcpStream::connect(addr).await?) });
    let (tcp, _connecting) = connect_gated(addrs, attempt).await?;
    tcp.set_nodelay(true)?;
    let handshake = async {
        let stream = secure(tcp, &url, &connector).await?;
        client_on(stream, request, config).await
    };
    within(limit, handshake).await
}

/// Runs the client handshake on a stream that is already connected (a proxy tunnel, a Unix socket, an
/// in-memory pipe). The caller keeps the section 4.1 rule for such streams.
pub async fn client_on<S>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocketStream<S>, ServerResponse), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut nonce = [0; 16];
    let mut seed = [0; 32];
    getrandom::fill(&mut nonce).map_err(io::Error::from)?;
    getrandom::fill(&mut seed).map_err(io::Error::from)?;
    let keys = ChaChaKeys::from_seed(seed);
    driver::client_handshake(
        stream,
        AsyncIoTimer::default(),
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
            "wss:// needs a TLS feature of wslane-async-std (rustls-webpki-roots or rustls-native-roots)",
        )));
    }
    Ok(MaybeTlsStream::Plain(tcp))
}

#[cfg(feature = "tls")]
async fn secure(tcp: TcpStream, url: &Url, connector: &Connector) -> Result<MaybeTlsStream, Error> {
    if !url.is_tls() {
        return Ok(MaybeTlsStream::Plain(tcp));
    }
    let config = match connector {
        Connector::Rustls(config) => Arc::clone(config),
        Connector::Default => wslane::driver::tls::default_client_config()?,
    };
    let name = wslane::driver::tls::server_name(url.host())?;
    let tls = futures_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    Ok(MaybeTlsStream::Tls(Box::new(tls)))
}
