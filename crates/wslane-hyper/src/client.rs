//! The client's side over HTTP/2 (RFC 8441): WebSockets as streams of one HTTP/2 connection that hyper
//! runs, so that many WebSockets share one TCP (or TLS) connection.

use core::future::{poll_fn, Future};
use core::pin::Pin;
use std::io;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Version};
use http_body_util::Empty;
use hyper::client::conn::http2::{self, SendRequest};
use hyper::ext::Protocol;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use wslane::handshake::{ClientRequest, Headers, ServerResponse};
use wslane::mask_keys::ChaChaKeys;
use wslane::{Config, Instant};
use wslane_async::Error;

use crate::WebSocket;

/// How often the connection's task looks whether the server's SETTINGS allowed the extended CONNECT yet.
const SETTINGS_POLL: std::time::Duration = std::time::Duration::from_millis(2);

/// A client HTTP/2 connection on which each [`connect`](Self::connect) opens a WebSocket as a new stream
/// (RFC 8441), over TCP for `h2c` (prior knowledge) or over TLS after ALPN chose `h2`. Clone it to open
/// WebSockets from many tasks; the connection ends when every clone and every WebSocket is dropped.
#[derive(Clone, Debug)]
pub struct H2Client {
    sender: SendRequest<Empty<Bytes>>,
    /// Whether the server's SETTINGS allowed the extended CONNECT, updated as the connection runs.
    connect_enabled: watch::Receiver<bool>,
}

impl H2Client {
    /// Starts an HTTP/2 connection on `io`, a connected tokio stream (TCP, or TLS whose ALPN chose
    /// `h2`), and runs it on a new tokio task.
    pub async fn handshake<T>(io: T) -> Result<H2Client, Error>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, mut connection) = http2::Builder::new(TokioExecutor::new())
            .handshake::<_, Empty<Bytes>>(TokioIo::new(io))
            .await
            .map_err(io::Error::other)?;
        let (enabled, connect_enabled) = watch::channel(false);
        tokio::spawn(async move {
            // hyper runs the HTTP/2 connection's reading on a task of its own, so this one is not woken
            // when the server's SETTINGS arrive: it looks every few milliseconds until they allowed the
            // extended CONNECT, and then only drives the connection.
            let mut tick = Box::pin(tokio::time::sleep(SETTINGS_POLL));
            let _ = poll_fn(|cx| {
                let result = Pin::new(&mut connection).poll(cx);
                if !*enabled.borrow() {
                    if connection.is_extended_connect_protocol_enabled() {
                        enabled.send_replace(true);
                    } else {
                        while tick.as_mut().poll(cx).is_ready() {
                            let next = tokio::time::Instant::now() + SETTINGS_POLL;
                            tick.as_mut().reset(next);
                        }
                    }
                }
                result
            })
            .await;
        });
        Ok(H2Client {
            sender,
            connect_enabled,
        })
    }

    /// Opens a WebSocket as a new stream: sends the extended CONNECT the core builds from `request`,
    /// checks the response with the core, and hands the stream over. The whole handshake is bounded by
    /// the request's [`Limits::timeout`](wslane::handshake::Limits::timeout).
    ///
    /// RFC 8441 section 3: the request goes out only once the server has announced the extended
    /// CONNECT (`SETTINGS_ENABLE_CONNECT_PROTOCOL`), which comes with its first SETTINGS; against a
    /// server that never does, this fails when the timeout passes, with an
    /// [`io::ErrorKind::Unsupported`] error.
    pub async fn connect(
        &self,
        request: ClientRequest,
        config: Config,
    ) -> Result<(WebSocket, ServerResponse), Error> {
        let limit = request.handshake_limits().timeout;
        let mut enabled = self.connect_enabled.clone();
        let open = async {
            if enabled.wait_for(|on| *on).await.is_err() {
                return Err(Error::Io(io::ErrorKind::ConnectionAborted.into()));
            }
            open(self.sender.clone(), request, config).await
        };
        match tokio::time::timeout(limit, open).await {
            Ok(result) => result,
            Err(_) if !*self.connect_enabled.borrow() => Err(Error::Io(io::Error::new(
                io::ErrorKind::Unsupported,
                "the server does not allow WebSockets over HTTP/2 (no SETTINGS_ENABLE_CONNECT_PROTOCOL)",
            ))),
            Err(_) => Err(Error::Io(io::ErrorKind::TimedOut.into())),
        }
    }

    /// Whether the server has announced the extended CONNECT so far.
    #[must_use]
    pub fn is_connect_enabled(&self) -> bool {
        *self.connect_enabled.borrow()
    }
}

async fn open(
    mut sender: SendRequest<Empty<Bytes>>,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket, ServerResponse), Error> {
    let mut seed = [0; 32];
    getrandom::fill(&mut seed).map_err(io::Error::from)?;
    let (handshake, connect) = request.start_connect();
    let uri = http::Uri::builder()
        .scheme(connect.scheme())
        .authority(connect.authority())
        .path_and_query(connect.path())
        .build()
        .map_err(io::Error::other)?;
    let mut http_request = Request::new(Empty::new());
    *http_request.method_mut() = Method::CONNECT;
    *http_request.uri_mut() = uri;
    *http_request.version_mut() = Version::HTTP_2;
    http_request
        .extensions_mut()
        .insert(Protocol::from_static(wslane::handshake::h2::PROTOCOL));
    for (name, value) in connect.fields() {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(io::Error::other)?;
        let value = HeaderValue::from_str(value).map_err(io::Error::other)?;
        http_request.headers_mut().append(name, value);
    }
    sender.ready().await.map_err(io::Error::other)?;
    let mut response = sender
        .send_request(http_request)
        .await
        .map_err(io::Error::other)?;
    let headers: Headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    let upgrade = handshake
        .handle_response(response.status().as_u16(), headers)
        .map_err(|err| Error::Response(Box::new(err)))?;
    let upgraded = hyper::upgrade::on(&mut response)
        .await
        .map_err(io::Error::other)?;
    let keys = ChaChaKeys::from_seed(seed);
    let (conn, answer) = upgrade.into_connection(Instant::ZERO, config, keys);
    Ok((WebSocket::new(TokioIo::new(upgraded), conn), answer))
}
