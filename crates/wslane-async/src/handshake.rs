//! The opening handshake over an async stream: read the peer's head, answer, and hand over to a
//! [`WebSocket`]. The rules are the core's ([`wslane::handshake`]); this only moves bytes, and bounds the
//! whole handshake by [`Limits::timeout`](wslane::handshake::Limits::timeout).

use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;
use std::sync::Arc;

use wslane::handshake::{
    Acceptance, ClientRequest, Rejection, Request, ServerConfig, ServerHandshake, ServerResponse,
};
use wslane::mask_keys::ChaChaKeys;
use wslane::{Config, Instant};

use crate::runtime::{Runtime, Timer, Transport};
use crate::{Error, WebSocket};

/// Bytes read per call while the head is incomplete; the head itself is bounded by the handshake limits.
const HEAD_CHUNK: usize = 1024;

/// Accepts a WebSocket connection on `stream` with default settings, from any origin.
///
/// With the `deflate` feature (on by default in `wslane-tokio` and `wslane-async-std`), it accepts a
/// client's permessage-deflate offer with
/// [`DeflateConfig::memory_conscious`](wslane::deflate::DeflateConfig::memory_conscious): the server
/// resets its compressor after each message (so published messages are compressed once for all) and
/// compresses with window 12 and memory level 5. [`accept_with`] and `ServerConfig::default()` negotiate
/// only the extensions listed in the config.
pub async fn accept<R, S>(stream: S) -> Result<WebSocket<S, R>, Error>
where
    S: Unpin,
    R: Transport<S>,
{
    accept_with(stream, default_server(), Config::default(), |_| {
        Ok(Acceptance::new())
    })
    .await
}

/// The server settings of [`accept`].
fn default_server() -> ServerConfig {
    #[allow(unused_mut)]
    let mut server = ServerConfig::default();
    #[cfg(feature = "deflate")]
    server
        .extensions
        .push(Arc::new(wslane::deflate::PerMessageDeflate::new(
            wslane::deflate::DeflateConfig::memory_conscious(),
        )));
    server
}

/// Accepts a WebSocket connection on `stream`. `decide` sees the checked request (path, headers, `Origin`,
/// offered subprotocols) and accepts it, with a subprotocol and extra response fields, or refuses it with
/// a status. Refusals, the caller's or the handshake's own, are answered and the stream is closed. The
/// whole handshake is bounded by `server.limits.timeout`.
pub async fn accept_with<R, S, F>(
    stream: S,
    server: impl Into<Arc<ServerConfig>>,
    config: Config,
    decide: F,
) -> Result<WebSocket<S, R>, Error>
where
    S: Unpin,
    R: Transport<S>,
    F: FnOnce(&Request) -> Result<Acceptance, Rejection>,
{
    let server = server.into();
    let limit = server.limits.timeout;
    // The handshake's state (the head being parsed, the read buffer, the response) lives on the heap while
    // it runs and is freed when it ends: a task that holds this future inline then stays small for the
    // connection's whole life.
    within::<R, _>(
        limit,
        Box::pin(accept_boxed(stream, server, config, decide)),
    )
    .await
}

async fn accept_boxed<R, S, F>(
    mut stream: S,
    server: Arc<ServerConfig>,
    config: Config,
    decide: F,
) -> Result<WebSocket<S, R>, Error>
where
    S: Unpin,
    R: Transport<S>,
    F: FnOnce(&Request) -> Result<Acceptance, Rejection>,
{
    let mut handshake = ServerHandshake::new(server);
    let request = match read_head::<R, S>(&mut stream, &mut handshake).await {
        Ok(request) => request,
        Err(Error::Request(err)) => {
            refuse::<R, S>(&mut stream, &err.to_response()).await;
            return Err(Error::Request(err));
        }
        Err(err) => return Err(err),
    };
    match decide(&request) {
        Ok(acceptance) => upgrade_unbounded(stream, request, acceptance, config).await,
        Err(rejection) => {
            refuse::<R, S>(&mut stream, &rejection.to_bytes()).await;
            Err(Error::Rejected {
                status: rejection.status(),
            })
        }
    }
}

/// Reads the client's request head through `handshake`, for servers that route requests themselves
/// (for example, to answer plain HTTP on the same port), bounded by the handshake's
/// [`Limits::timeout`](wslane::handshake::Limits::timeout). Nothing is written: on [`Error::Request`],
/// answer with [`ServerError::to_response`](wslane::handshake::ServerError::to_response); otherwise
/// finish with [`upgrade`].
pub async fn read_request<R, S>(
    stream: &mut S,
    handshake: &mut ServerHandshake,
) -> Result<Request, Error>
where
    S: Unpin,
    R: Transport<S>,
{
    let limit = handshake.limits().timeout;
    within::<R, _>(limit, read_head::<R, S>(stream, handshake)).await
}

async fn read_head<R, S>(stream: &mut S, handshake: &mut ServerHandshake) -> Result<Request, Error>
where
    S: Unpin,
    R: Transport<S>,
{
    let mut buf = [0; HEAD_CHUNK];
    loop {
        let n = read::<R, S>(stream, &mut buf).await?;
        if n == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        if let Some(request) = handshake.handle_input(&buf[..n])? {
            return Ok(request);
        }
    }
}

/// Accepts a request read with [`read_request`]: writes the 101 response and starts the connection,
/// within the default handshake timeout.
pub async fn upgrade<R, S>(
    stream: S,
    request: Request,
    acceptance: Acceptance,
    config: Config,
) -> Result<WebSocket<S, R>, Error>
where
    S: Unpin,
    R: Transport<S>,
{
    let limit = wslane::handshake::Limits::default().timeout;
    within::<R, _>(
        limit,
        upgrade_unbounded(stream, request, acceptance, config),
    )
    .await
}

async fn upgrade_unbounded<R, S>(
    mut stream: S,
    request: Request,
    acceptance: Acceptance,
    config: Config,
) -> Result<WebSocket<S, R>, Error>
where
    S: Unpin,
    R: Transport<S>,
{
    let upgrade = request.accept(acceptance)?;
    write_all::<R, S>(&mut stream, upgrade.response()).await?;
    // The socket's clock starts with the connection (see `WebSocket::new`).
    Ok(WebSocket::new(
        stream,
        upgrade.into_connection(Instant::ZERO, config),
    ))
}

/// Runs the client's side of the handshake on a connected stream (a TCP or TLS stream, a proxy tunnel,
/// a Unix socket, an in-memory pipe), bounded by the request's
/// [`Limits::timeout`](wslane::handshake::Limits::timeout). The nonce and the masking keys come from the
/// operating system's random source. Returns the socket and the server's answer (subprotocol, fields).
///
/// The caller keeps the RFC 6455 section 4.1 rule for such streams ([`crate::connect_with`] does it for
/// TCP).
pub async fn client_on<R, S>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S, R>, ServerResponse), Error>
where
    S: Unpin,
    R: Transport<S>,
{
    let limit = request.handshake_limits().timeout;
    within::<R, _>(limit, Box::pin(client_unbounded(stream, request, config))).await
}

pub(crate) async fn client_unbounded<R, S>(
    mut stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S, R>, ServerResponse), Error>
where
    S: Unpin,
    R: Transport<S>,
{
    let mut nonce = [0; 16];
    let mut seed = [0; 32];
    getrandom::fill(&mut nonce).map_err(std::io::Error::from)?;
    getrandom::fill(&mut seed).map_err(std::io::Error::from)?;
    let (mut handshake, request) = request.start(nonce);
    write_all::<R, S>(&mut stream, &request).await?;
    let mut buf = [0; HEAD_CHUNK];
    let upgrade = loop {
        let n = read::<R, S>(&mut stream, &mut buf).await?;
        if n == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        if let Some(upgrade) = handshake.handle_input(&buf[..n])? {
            break upgrade;
        }
    };
    let keys = ChaChaKeys::from_seed(seed);
    let (conn, response) = upgrade.into_connection(Instant::ZERO, config, keys);
    Ok((WebSocket::new(stream, conn), response))
}

/// Runs `future` for at most `limit` on the runtime's clock; past it, fails with
/// [`std::io::ErrorKind::TimedOut`] (dropping the future drops the stream it owns).
///
/// First checks that the runtime can run timers here ([`Runtime::check_timers`]), and fails with its error
/// (for tokio without its time driver, [`std::io::ErrorKind::Unsupported`]) before `future` runs: a
/// connection is never started where its handshake timeout, keepalive and close timeout cannot work.
pub(crate) async fn within<R: Runtime, T>(
    limit: std::time::Duration,
    future: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    R::check_timers().map_err(Error::Io)?;
    let mut future = core::pin::pin!(future);
    let mut timer = R::timer();
    timer.reset(R::now() + limit);
    poll_fn(|cx| {
        if let Poll::Ready(result) = future.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        match timer.poll_expired(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Error::Io(std::io::ErrorKind::TimedOut.into()))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

pub(crate) async fn read<R: Transport<S>, S: Unpin>(
    stream: &mut S,
    buf: &mut [u8],
) -> Result<usize, Error> {
    loop {
        match poll_fn(|cx| R::poll_read(Pin::new(&mut *stream), cx, buf)).await {
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            result => return result.map_err(Error::Io),
        }
    }
}

pub(crate) async fn write_all<R: Transport<S>, S: Unpin>(
    stream: &mut S,
    mut data: &[u8],
) -> Result<(), Error> {
    while !data.is_empty() {
        match poll_fn(|cx| R::poll_write(Pin::new(&mut *stream), cx, data)).await {
            Ok(0) => return Err(Error::Io(std::io::ErrorKind::WriteZero.into())),
            Ok(n) => data = &data[n..],
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(Error::Io(err)),
        }
    }
    poll_fn(|cx| R::poll_flush(Pin::new(&mut *stream), cx)).await?;
    Ok(())
}

/// Writes a refusal and closes the stream; the peer may already be gone, which changes nothing.
async fn refuse<R: Transport<S>, S: Unpin>(stream: &mut S, response: &[u8]) {
    if write_all::<R, S>(stream, response).await.is_ok() {
        let _ = poll_fn(|cx| R::poll_close(Pin::new(&mut *stream), cx)).await;
    }
}
