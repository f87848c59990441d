//! [`WebSocketUpgrade`]: a request checked by the core's server handshake, waiting for the application to
//! choose a subprotocol and settings, then answered and handed over as a [`WebSocket`].

use core::future::Future;
use std::sync::Arc;

use http::request::Parts;
use http::{Extensions, HeaderName, HeaderValue, Response, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use wslane::handshake::{
    Acceptance, Headers, HttpVersion, Request, RequestHead, ServerConfig, ServerHandshake,
};
use wslane::{Config, Instant};

use crate::head;
use crate::refusal::Refusal;
use crate::WebSocket;

/// A request that passed the core's opening handshake checks, over HTTP/1.1 (an upgrade, RFC 6455) or
/// HTTP/2 (an extended CONNECT, RFC 8441), as axum's `WebSocketUpgrade` is.
///
/// Build it from a request ([`from_request`](Self::from_request)) or its parts
/// ([`from_parts`](Self::from_parts)), or, with the `axum` feature, take it as a handler's argument.
/// Choose a subprotocol with [`protocols`](Self::protocols) and the connection's settings with
/// [`config`](Self::config), then answer with [`on_upgrade`](Self::on_upgrade): it returns the 101 (or
/// HTTP/2 200) response and runs the callback with the [`WebSocket`] once the HTTP layer hands the
/// connection (or the stream) over.
///
/// Which origins may connect and which extensions are negotiated are the [`ServerConfig`]'s: the axum
/// extractor takes an `Arc<ServerConfig>` from the request's extensions (an `axum::Extension` layer),
/// and otherwise [`default_server_config`](crate::default_server_config).
pub struct WebSocketUpgrade {
    request: Request,
    on_upgrade: OnUpgrade,
    protocol: Option<String>,
    config: Config,
}

impl WebSocketUpgrade {
    /// Checks a request's head with the core's server handshake under `server`'s settings and takes its
    /// pending upgrade. On a refusal, answer with [`Refusal::into_response`].
    pub fn from_parts(
        parts: &mut Parts,
        server: impl Into<Arc<ServerConfig>>,
    ) -> Result<WebSocketUpgrade, Refusal> {
        let version = head::version(parts.version);
        let protocol = parts
            .extensions
            .get::<hyper::ext::Protocol>()
            .map(|protocol| protocol.as_str());
        let head = head::request_head(&parts.method, &parts.uri, version, protocol);
        let request = check(head, head::headers(&parts.headers), server, version)?;
        take(request, &mut parts.extensions, version)
    }

    /// As [`from_parts`](Self::from_parts), for a whole request (the body is left in place).
    pub fn from_request<B>(
        request: &mut http::Request<B>,
        server: impl Into<Arc<ServerConfig>>,
    ) -> Result<WebSocketUpgrade, Refusal> {
        let version = head::version(request.version());
        let protocol = request
            .extensions()
            .get::<hyper::ext::Protocol>()
            .map(|protocol| protocol.as_str());
        let head = head::request_head(request.method(), request.uri(), version, protocol);
        let headers = head::headers(request.headers());
        let checked = check(head, headers, server, version)?;
        take(checked, request.extensions_mut(), version)
    }

    /// The checked request: path, `Origin`, fields, offered subprotocols and extensions, the accepted
    /// extension, and its [`version`](Request::version).
    #[must_use]
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Chooses the subprotocol: the first the client offered (in its order of preference) that is one of
    /// `protocols`. None when the client offered none of them; the handshake goes on without one, and the
    /// client decides whether that will do.
    #[must_use]
    pub fn protocols<I>(mut self, protocols: I) -> WebSocketUpgrade
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let supported: Vec<I::Item> = protocols.into_iter().collect();
        let chosen = self
            .request
            .protocols()
            .iter()
            .find(|offered| supported.iter().any(|p| p.as_ref() == offered.as_str()));
        self.protocol = chosen.cloned();
        self
    }

    /// The chosen subprotocol, if any.
    #[must_use]
    pub fn selected_protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The connection's settings: limits, keepalive, timeouts. Default: [`Config::default`].
    #[must_use]
    pub fn config(mut self, config: Config) -> WebSocketUpgrade {
        self.config = config;
        self
    }

    /// Answers the request and, once the HTTP layer hands the connection over, runs `callback` with the
    /// [`WebSocket`] on a new tokio task. Returns the response to send: 101 Switching Protocols over
    /// HTTP/1.1, 200 over HTTP/2, with the chosen subprotocol and the accepted extension. `B` is the
    /// server's body type (axum's `Body`, hyper's `Full<Bytes>`, `String`...); the response has no body.
    ///
    /// If the upgrade never completes (the client went away), `callback` is not called.
    pub fn on_upgrade<B, F, Fut>(self, callback: F) -> Response<B>
    where
        B: Default + From<String>,
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let version = self.request.version();
        let mut acceptance = Acceptance::new();
        if let Some(protocol) = &self.protocol {
            acceptance = acceptance.protocol(protocol);
        }
        let upgrade = match self.request.accept(acceptance) {
            Ok(upgrade) => upgrade,
            Err(err) => return Refusal::new(err, version).into_response(),
        };
        let mut response = Response::new(B::default());
        *response.status_mut() =
            StatusCode::from_u16(upgrade.status()).unwrap_or(StatusCode::SWITCHING_PROTOCOLS);
        for (name, value) in upgrade.fields() {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        let config = self.config;
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            // The socket's clock starts with the connection, as after the raw adapters' handshake.
            let conn = upgrade.into_connection(Instant::ZERO, config);
            callback(WebSocket::new(TokioIo::new(upgraded), conn)).await;
        });
        response
    }
}

/// The core's server handshake on a head given as data.
fn check(
    head: RequestHead<'_>,
    headers: Headers,
    server: impl Into<Arc<ServerConfig>>,
    version: HttpVersion,
) -> Result<Request, Refusal> {
    ServerHandshake::new(server)
        .handle_head(head, headers)
        .map_err(|err| Refusal::new(err, version))
}

/// Takes the pending upgrade that hyper puts in every HTTP/1.1 request and every HTTP/2 CONNECT; a
/// request without one came through a layer that took it, or not from hyper at all.
fn take(
    request: Request,
    extensions: &mut Extensions,
    version: HttpVersion,
) -> Result<WebSocketUpgrade, Refusal> {
    let on_upgrade = extensions
        .remove::<OnUpgrade>()
        .ok_or_else(|| Refusal::not_upgradable(version))?;
    Ok(WebSocketUpgrade {
        request,
        on_upgrade,
        protocol: None,
        config: Config::default(),
    })
}

impl core::fmt::Debug for WebSocketUpgrade {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("request", &self.request)
            .field("protocol", &self.protocol)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
