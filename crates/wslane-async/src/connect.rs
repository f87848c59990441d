//! Connecting a client: resolve, connect TCP under the section 4.1 gate (or through a proxy), TLS for
//! `wss://`, then the opening handshake, all within the request's handshake timeout.

use std::net::SocketAddr;

use wslane::handshake::{ClientRequest, ServerResponse, Url};
use wslane::Config;

use crate::gate::{ConnectGate, GateGuard};
use crate::handshake::{client_unbounded, within};
use crate::options::ConnectOptions;
#[cfg(not(feature = "tls"))]
use crate::runtime::Runtime;
use crate::stream::{DrivesTcpAndTls, MaybeTlsStream};
use crate::tls::Connector;
use crate::{Error, WebSocket};

/// Connects to a `ws://` or `wss://` URL with default settings, through the proxy the environment names
/// for it, if any ([`Proxy::from_env`](crate::proxy::Proxy::from_env)).
pub async fn connect<R>(
    url: &str,
) -> Result<(WebSocket<MaybeTlsStream<R>, R>, ServerResponse), Error>
where
    R: DrivesTcpAndTls,
{
    let request = ClientRequest::new(Url::parse(url)?);
    connect_with(request, Config::default(), ConnectOptions::default()).await
}

/// Connects with a built request (origin, subprotocols, extensions, extra fields, handshake limits),
/// connection settings and [`ConnectOptions`]: a TLS [`Connector`] (which converts into options) and a
/// proxy setting, by default the proxy the environment names for the URL (see `docs/proxies.md`).
///
/// RFC 6455 section 4.1: while this connection is in the CONNECTING state (TCP, TLS, opening handshake),
/// other connections from this process to the same address wait their turn. The request's
/// [`Limits::timeout`](wslane::handshake::Limits::timeout) bounds resolving, and then this connection's own
/// attempt (TCP, TLS, handshake), not its wait behind others at the gate. Through a proxy, it bounds the
/// whole attempt: resolving and connecting to the proxy, the proxy's exchange, TLS and the handshake.
pub async fn connect_with<R>(
    request: ClientRequest,
    config: Config,
    options: impl Into<ConnectOptions>,
) -> Result<(WebSocket<MaybeTlsStream<R>, R>, ServerResponse), Error>
where
    R: DrivesTcpAndTls,
{
    let options = options.into();
    let connector = options.connector;
    if let Some(proxy) = options.proxy.proxy_for(request.url())? {
        return crate::proxy::tunnel::connect_through::<R>(&proxy, request, config, &connector)
            .await;
    }
    let url = request.url().clone();
    let limit = request.handshake_limits().timeout;
    let addrs = within::<R, _>(limit, async {
        Ok(R::resolve(url.host(), url.port()).await?)
    })
    .await?;
    let attempt = |addr| within::<R, _>(limit, async move { Ok(R::connect_tcp(addr).await?) });
    let (tcp, _connecting) = connect_gated(addrs, attempt).await?;
    let handshake = async {
        let stream = secure::<R>(tcp, &url, &connector).await?;
        client_unbounded::<R, MaybeTlsStream<R>>(stream, request, config).await
    };
    within::<R, _>(limit, handshake).await
}

/// Connects to the first of `addrs` that answers, holding the [global gate](ConnectGate::global) for the
/// address being tried (so a timeout inside `connect` bounds the attempt, not the wait for the gate).
/// Returns the stream with the guard: hold it until the opening handshake ends.
pub async fn connect_gated<S, E, F, Fut>(
    addrs: impl IntoIterator<Item = SocketAddr>,
    mut connect: F,
) -> Result<(S, GateGuard<'static>), E>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: core::future::Future<Output = Result<S, E>>,
    E: From<std::io::Error>,
{
    let mut last_error = None;
    for addr in addrs {
        let guard = ConnectGate::global().acquire(addr).await;
        match connect(addr).await {
            Ok(stream) => return Ok((stream, guard)),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address").into()
    }))
}

#[cfg(not(feature = "tls"))]
pub(crate) async fn secure<R: Runtime>(
    tcp: R::TcpStream,
    url: &Url,
    _: &Connector,
) -> Result<MaybeTlsStream<R>, Error> {
    if url.is_tls() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "wss:// needs a TLS feature (rustls-webpki-roots or rustls-native-roots)",
        )));
    }
    Ok(MaybeTlsStream::Plain(tcp))
}

#[cfg(feature = "tls")]
pub(crate) async fn secure<R: DrivesTcpAndTls>(
    tcp: R::TcpStream,
    url: &Url,
    connector: &Connector,
) -> Result<MaybeTlsStream<R>, Error> {
    if !url.is_tls() {
        return Ok(MaybeTlsStream::Plain(tcp));
    }
    let config = match connector {
        Connector::Rustls(config) => std::sync::Arc::clone(config),
        Connector::Default => crate::tls::default_client_config()?,
    };
    let name = crate::tls::server_name(url.host())?;
    let tls = R::connect_tls(config, name, tcp).await?;
    Ok(MaybeTlsStream::Tls(Box::new(tls)))
}
