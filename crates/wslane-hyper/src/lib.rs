//! # wslane-hyper
//!
//! WebSocket for [hyper] 1.x and [axum] 0.8 servers, over HTTP/1.1 (RFC 6455) and HTTP/2 (RFC 8441), and
//! WebSocket clients over HTTP/2 that share one connection. Every rule is the sans-IO [`wslane`] core's:
//! the request is checked by its server handshake (method, version, `Origin` policy, subprotocols,
//! permessage-deflate, limits), a refusal gets the same status and fields as from the raw adapters
//! ([`Refusal`]), and the upgraded connection (or HTTP/2 stream) becomes the same
//! [`wslane_async::WebSocket`] as from `wslane-tokio`: split, keepalive, backpressure, close.
//!
//! - [`WebSocketUpgrade`]: check a request ([`from_request`](WebSocketUpgrade::from_request)), choose a
//!   subprotocol ([`protocols`](WebSocketUpgrade::protocols)) and settings
//!   ([`config`](WebSocketUpgrade::config)), and answer with
//!   [`on_upgrade`](WebSocketUpgrade::on_upgrade). With the `axum` feature it is an extractor.
//! - [`server_builder`]: hyper-util's server for HTTP/1.1 and HTTP/2 on one port, with the extended
//!   CONNECT enabled, so one route serves WebSockets over both.
//! - [`H2Client`]: WebSockets as streams of one HTTP/2 connection: h2c, or TLS with ALPN `h2`
//!   (`H2Client::handshake_tls`, feature `tls`, with rustls).
//!
//! An axum echo route (`any`, not `get`: HTTP/2 WebSockets arrive as `CONNECT`):
//!
//! ```
//! # #[cfg(feature = "axum")]
//! # mod example {
//! use axum::{response::Response, routing::any, Router};
//! use wslane_hyper::WebSocketUpgrade;
//!
//! async fn echo(ws: WebSocketUpgrade) -> Response {
//!     ws.on_upgrade(|mut ws| async move {
//!         while let Some(Ok(message)) = ws.recv().await {
//!             if message.is_data() && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! pub fn app() -> Router {
//!     Router::new().route("/ws", any(echo))
//! }
//! # }
//! ```
//!
//! With hyper alone, the same in a service function:
//!
//! ```
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use wslane_hyper::{default_server_config, WebSocketUpgrade};
//!
//! async fn serve(mut request: http::Request<Incoming>) -> http::Response<Full<Bytes>> {
//!     let upgrade = match WebSocketUpgrade::from_request(&mut request, default_server_config()) {
//!         Ok(upgrade) => upgrade,
//!         Err(refusal) => return refusal.into_response(),
//!     };
//!     upgrade.protocols(["chat"]).on_upgrade(|mut ws| async move {
//!         while let Some(Ok(message)) = ws.recv().await {
//!             if message.is_data() && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//! ```
//!
//! `docs/http.md` in the repository walks through hyper, axum, HTTP/2 and TLS.
//!
//! [hyper]: https://docs.rs/hyper
//! [axum]: https://docs.rs/axum
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
mod axum;
mod client;
mod head;
mod refusal;
mod server;
#[cfg(feature = "tls")]
mod tls;
mod upgrade;

use std::sync::{Arc, OnceLock};

pub use client::H2Client;
pub use refusal::Refusal;
/// The rustls this crate's `tls` feature uses, for building the `ClientConfig` and `ServerName` that
/// [`H2Client::handshake_tls`] takes.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use rustls;
pub use server::server_builder;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::{H2TlsError, ALPN_H2};
pub use upgrade::WebSocketUpgrade;
pub use wslane_async::common::*;
pub use wslane_async::topics::{Published, SlowPolicy, Subscriber, TopicStats, Topics};

/// The WebSocket an upgrade yields: [`wslane_async::WebSocket`] over hyper's upgraded connection (or
/// HTTP/2 stream) on tokio, the same type every other adapter yields for its stream.
pub type WebSocket =
    wslane_async::WebSocket<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>, wslane_async::Tokio>;

/// The server settings used when none is given: any origin, and with the `deflate` feature (on by
/// default) permessage-deflate accepted when the client offers it. Shared: built once.
#[must_use]
pub fn default_server_config() -> Arc<ServerConfig> {
    static DEFAULT: OnceLock<Arc<ServerConfig>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            #[allow(unused_mut)]
            let mut server = ServerConfig::default();
            #[cfg(feature = "deflate")]
            server
                .extensions
                .push(Arc::new(PerMessageDeflate::new(DeflateConfig::default())));
            Arc::new(server)
        })
        .clone()
}

/// The crate README's examples (the page crates.io shows), compiled as doc tests.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;

/// The programs of `docs/http.md`, compiled as doc tests (they need servers to run).
#[cfg(all(doctest, feature = "axum", feature = "tls"))]
#[doc = include_str!("../../../docs/http.md")]
pub struct HttpGuideDoctests;
