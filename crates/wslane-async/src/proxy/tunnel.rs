//! The proxy hop over a runtime: connect to the proxy, run the exchange, then TLS and the opening
//! handshake through the tunnel, all within the handshake timeout.

use std::time::Instant;

use wslane::handshake::{ClientRequest, ServerResponse};
use wslane::Config;

use super::{Progress, Proxy, ProxyHandshake, Target};
use crate::connect::{connect_gated, secure};
use crate::handshake::{client_unbounded, read, within, write_all};
use crate::runtime::{Runtime, Transport};
use crate::stream::{DrivesTcpAndTls, MaybeTlsStream};
use crate::tls::Connector;
use crate::{Error, WebSocket};

/// Bytes read per call at most; the exchange's read limit is smaller still.
const CHUNK: usize = 512;

/// Connects to the request's URL through `proxy`.
///
/// One handshake timeout bounds the attempt: resolving and connecting to the proxy, the exchange, TLS
/// and the opening handshake. With `socks5://` the client resolves the target first (bounded on its
/// own, as for a direct connection) and holds the section 4.1 gate for the target's address while it
/// connects; otherwise the target's address is unknown here and no gate applies (RFC 6455 section 4.1
/// treats each host name as a distinct host then).
pub(crate) async fn connect_through<R>(
    proxy: &Proxy,
    request: ClientRequest,
    config: Config,
    connector: &Connector,
) -> Result<(WebSocket<MaybeTlsStream<R>, R>, ServerResponse), Error>
where
    R: DrivesTcpAndTls,
{
    let url = request.url().clone();
    let limit = request.handshake_limits().timeout;
    let (tcp, deadline, _connecting) = if proxy.kind().resolves_locally() {
        let addrs = within::<R, _>(limit, async {
            Ok(R::resolve(url.host(), url.port()).await?)
        })
        .await?;
        let attempt = |addr| async move {
            let deadline = R::now() + limit;
            let tcp = within::<R, _>(limit, tunnel::<R>(proxy, Target::Address(addr))).await?;
            Ok::<_, Error>((tcp, deadline))
        };
        let ((tcp, deadline), guard) = connect_gated(addrs, attempt).await?;
        (tcp, deadline, Some(guard))
    } else {
        let deadline = R::now() + limit;
        let target = Target::name(url.host(), url.port());
        let tcp = within::<R, _>(limit, tunnel::<R>(proxy, target)).await?;
        (tcp, deadline, None)
    };
    let handshake = async {
        let stream = secure::<R>(tcp, &url, connector).await?;
        client_unbounded::<R, MaybeTlsStream<R>>(stream, request, config).await
    };
    within::<R, _>(left::<R>(deadline), handshake).await
}

/// The time left until `deadline` on the runtime's clock.
fn left<R: Runtime>(deadline: Instant) -> std::time::Duration {
    deadline.saturating_duration_since(R::now())
}

/// Connects to `proxy` (its first address that answers) and asks it for a tunnel to `target`.
async fn tunnel<R>(proxy: &Proxy, target: Target) -> Result<R::TcpStream, Error>
where
    R: Runtime + Transport<<R as Runtime>::TcpStream>,
{
    let mut exchange = ProxyHandshake::new(proxy, &target)?;
    let mut last_error = None;
    let mut tcp = None;
    for addr in R::resolve(proxy.host(), proxy.port()).await? {
        match R::connect_tcp(addr).await {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(err) => last_error = Some(err),
        }
    }
    let mut tcp = tcp.ok_or_else(|| {
        last_error.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "the proxy has no address")
        })
    })?;
    run::<R, R::TcpStream>(&mut tcp, &mut exchange).await?;
    Ok(tcp)
}

/// Drives `exchange` over `stream` until the tunnel is open.
pub(crate) async fn run<R, S>(stream: &mut S, exchange: &mut ProxyHandshake) -> Result<(), Error>
where
    S: Unpin,
    R: Transport<S>,
{
    let mut buf = [0; CHUNK];
    loop {
        while let Some(message) = exchange.poll_transmit() {
            write_all::<R, S>(stream, &message).await?;
        }
        let limit = exchange.read_limit().min(CHUNK);
        if limit == 0 {
            return Ok(());
        }
        let n = read::<R, S>(stream, &mut buf[..limit]).await?;
        if n == 0 {
            return Err(exchange.handle_eof().into());
        }
        if let Progress::Established { .. } = exchange.handle_input(&buf[..n])? {
            return Ok(());
        }
    }
}
