//! Accepting connections.

use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};
use wslane::driver;
use wslane::handshake::{Acceptance, Rejection, Request, ServerConfig, ServerHandshake};
use wslane::Config;

use crate::{within, AsyncIoTimer, Error, WebSocketStream};

/// Accepts a WebSocket connection on `stream` with default settings, from any origin.
pub async fn accept<S>(stream: S) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(stream, ServerConfig::default(), Config::default(), |_| {
        Ok(Acceptance::new())
    })
    .await
}

/// Accepts a WebSocket connection on `stream`. `decide` sees the request (path, headers, `Origin`,
/// offered subprotocols) and accepts it, with a subprotocol and extra fields, or refuses it with a status.
/// The handshake is bounded by [`Config::handshake_timeout`].
pub async fn accept_with<S, F>(
    stream: S,
    server: impl Into<Arc<ServerConfig>>,
    config: Config,
    decide: F,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Acceptance, Rejection>,
{
    let accepting = driver::accept_with(stream, AsyncIoTimer::default(), server, config, decide);
    within(config.handshake_timeout, accepting).await
}

/// Reads a request head for servers that route requests themselves (for example, serving plain HTTP on
/// the same port). On success, finish with [`upgrade`]; on [`Error::Request`], answer with the error's
/// `to_response()`.
pub async fn read_request<S>(
    stream: &mut S,
    handshake: &mut ServerHandshake,
) -> Result<Request, Error>
where
    S: AsyncRead + Unpin,
{
    driver::read_request(stream, handshake).await
}

/// Accepts a request read with [`read_request`].
pub async fn upgrade<S>(
    stream: S,
    request: Request,
    acceptance: Acceptance,
    config: Config,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    driver::upgrade(stream, AsyncIoTimer::default(), request, acceptance, config).await
}
