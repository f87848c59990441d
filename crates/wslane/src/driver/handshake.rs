//! The opening handshake over an async transport: read the peer's head, answer, and hand over to a
//! [`WebSocket`]. The rules are the core's ([`crate::handshake`]); this only moves bytes.

use core::future::poll_fn;
use core::pin::Pin;
use std::boxed::Box;
use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};

use super::{Error, Timer, WebSocket};
use crate::config::Config;
use crate::handshake::{
    Acceptance, ClientRequest, Rejection, Request, ServerConfig, ServerHandshake, ServerResponse,
};
use crate::mask_keys::MaskKeySource;

/// Bytes read per call while the head is incomplete; the head itself is bounded by the handshake limits.
const HEAD_CHUNK: usize = 1024;

/// Accepts a WebSocket connection with default settings and any origin.
pub async fn accept<T, R>(io: T, timer: R) -> Result<WebSocket<T, R>, Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    R: Timer,
{
    accept_with(
        io,
        timer,
        ServerConfig::default(),
        Config::default(),
        |_| Ok(Acceptance::new()),
    )
    .await
}

/// Accepts a WebSocket connection. `decide` sees the checked request (path, headers, `Origin`, offered
/// subprotocols) and accepts it, with a subprotocol and extra response fields, or refuses it with a
/// status. Refusals, the caller's or the handshake's own, are answered and the transport is closed.
pub async fn accept_with<T, R, F>(
    io: T,
    timer: R,
    server: impl Into<Arc<ServerConfig>>,
    config: Config,
    decide: F,
) -> Result<WebSocket<T, R>, Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    R: Timer,
    F: FnOnce(&Request) -> Result<Acceptance, Rejection>,
{
    // The handshake's state (the head being parsed, the read buffer, the response) lives on the heap while
    // it runs and is freed when it ends: a task that holds this future inline then stays small for the
    // connection's whole life.
    Box::pin(accept_boxed(io, timer, server.into(), config, decide)).await
}

async fn accept_boxed<T, R, F>(
    mut io: T,
    timer: R,
    server: Arc<ServerConfig>,
    config: Config,
    decide: F,
) -> Result<WebSocket<T, R>, Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    R: Timer,
    F: FnOnce(&Request) -> Result<Acceptance, Rejection>,
{
    let mut handshake = ServerHandshake::new(server);
    let request = match read_request(&mut io, &mut handshake).await {
        Ok(request) => request,
        Err(Error::Request(err)) => {
            refuse(&mut io, &err.to_response()).await;
            return Err(Error::Request(err));
        }
        Err(err) => return Err(err),
    };
    match decide(&request) {
        Ok(acceptance) => upgrade(io, timer, request, acceptance, config).await,
        Err(rejection) => {
            refuse(&mut io, &rejection.to_bytes()).await;
            Err(Error::Rejected {
                status: rejection.status(),
            })
        }
    }
}

/// Reads the client's request head through `handshake`, for servers that route requests themselves
/// (for example, to answer plain HTTP on the same port). Nothing is written: on an error, answer with
/// [`ServerError::to_response`](crate::handshake::ServerError::to_response).
pub async fn read_request<T>(io: &mut T, handshake: &mut ServerHandshake) -> Result<Request, Error>
where
    T: AsyncRead + Unpin,
{
    let mut buf = [0; HEAD_CHUNK];
    loop {
        let n = read(io, &mut buf).await?;
        if n == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        if let Some(request) = handshake.handle_input(&buf[..n])? {
            return Ok(request);
        }
    }
}

/// Accepts a request read with [`read_request`]: writes the 101 response and starts the connection.
pub async fn upgrade<T, R>(
    mut io: T,
    timer: R,
    request: Request,
    acceptance: Acceptance,
    config: Config,
) -> Result<WebSocket<T, R>, Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    R: Timer,
{
    let upgrade = request.accept(acceptance)?;
    write_all(&mut io, upgrade.response()).await?;
    Ok(WebSocket::new(io, upgrade.into_connection(config), timer))
}

/// Runs the client's side of the handshake on a connected transport. `nonce` (16 random bytes) makes the
/// key; `keys` masks every frame sent. Returns the socket and the server's answer (subprotocol, fields).
pub async fn client_handshake<T, R>(
    io: T,
    timer: R,
    request: ClientRequest,
    config: Config,
    nonce: [u8; 16],
    keys: impl MaskKeySource + 'static,
) -> Result<(WebSocket<T, R>, ServerResponse), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    R: Timer,
{
    // As for `accept_with`: the handshake's state lives on the heap only while it runs.
    Box::pin(client_boxed(io, timer, request, config, nonce, keys)).await
}

async fn client_boxed<T, R>(
    mut io: T,
    timer: R,
    request: ClientRequest,
    config: Config,
    nonce: [u8; 16],
    keys: impl MaskKeySource + 'static,
) -> Result<(WebSocket<T, R>, ServerResponse), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    R: Timer,
{
    let (mut handshake, request) = request.start(nonce);
    write_all(&mut io, &request).await?;
    let mut buf = [0; HEAD_CHUNK];
    let upgrade = loop {
        let n = read(&mut io, &mut buf).await?;
        if n == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        if let Some(upgrade) = handshake.handle_input(&buf[..n])? {
            break upgrade;
        }
    };
    let (conn, response) = upgrade.into_connection(config, keys);
    Ok((WebSocket::new(io, conn, timer), response))
}

async fn read<T: AsyncRead + Unpin>(io: &mut T, buf: &mut [u8]) -> Result<usize, Error> {
    loop {
        match poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, buf)).await {
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            result => return result.map_err(Error::Io),
        }
    }
}

async fn write_all<T: AsyncWrite + Unpin>(io: &mut T, mut data: &[u8]) -> Result<(), Error> {
    while !data.is_empty() {
        match poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, data)).await {
            Ok(0) => return Err(Error::Io(std::io::ErrorKind::WriteZero.into())),
            Ok(n) => data = &data[n..],
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(Error::Io(err)),
        }
    }
    poll_fn(|cx| Pin::new(&mut *io).poll_flush(cx)).await?;
    Ok(())
}

/// Writes a refusal and closes the transport; the peer may already be gone, which changes nothing.
async fn refuse<T: AsyncWrite + Unpin>(io: &mut T, response: &[u8]) {
    if write_all(io, response).await.is_ok() {
        let _ = poll_fn(|cx| Pin::new(&mut *io).poll_close(cx)).await;
    }
}
