//! WebSocket (RFC 6455) for tokio.
//!
//! A thin binding of the sans-IO [`wslane`] core to tokio: every protocol rule lives in the core; this crate
//! supplies the transport, the timer, TCP and TLS.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use wslane_tokio::Message;
//!
//! # async fn run() -> Result<(), wslane_tokio::Error> {
//! // Server: echo every message.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! tokio::spawn(async move {
//!     while let Ok((tcp, _)) = listener.accept().await {
//!         tokio::spawn(async move {
//!             let mut ws = wslane_tokio::accept(tcp).await?;
//!             while let Some(message) = ws.next().await {
//!                 let message = message?;
//!                 if message.is_data() {
//!                     ws.send(message).await?;
//!                 }
//!             }
//!             Ok::<_, wslane_tokio::Error>(())
//!         });
//!     }
//! });
//!
//! // Client.
//! let (mut ws, _response) = wslane_tokio::connect("ws://127.0.0.1:9001/").await?;
//! ws.send(Message::text("hello")).await?;
//! assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello")));
//! ws.close(wslane_tokio::CloseCode::NORMAL, "bye").await?;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod server;
mod stream;
mod timer;

use tokio_util::compat::Compat;

pub use client::{client_on, connect, connect_with, Connector};
pub use server::{accept, accept_with, read_request, upgrade};
pub use stream::MaybeTlsStream;
pub use timer::TokioTimer;

#[cfg(feature = "deflate")]
pub use wslane::deflate::{DeflateConfig, PerMessageDeflate};
pub use wslane::driver::{ConnectGate, Error};
pub use wslane::handshake::{
    Acceptance, ClientError, ClientRequest, ClientUpgrade, OriginPolicy, Rejection, Request,
    ServerConfig, ServerError, ServerHandshake, Url,
};
pub use wslane::{CloseCode, CloseFrame, Config, Event, Message, ReceiveMode, Sender};

/// A WebSocket over a tokio stream `S` (TCP, TLS, `tokio::io::duplex`, …): a
/// `Stream<Item = Result<Message, Error>>` and a `Sink<Message>`, with `recv`, `send`, `feed`, `flush`,
/// `close` and `split`. See [`wslane::driver::WebSocket`] for every method.
pub type WebSocketStream<S> = wslane::driver::WebSocket<Compat<S>, TokioTimer>;

/// The receiving half of a split [`WebSocketStream`].
pub type ReadHalf<S> = wslane::driver::ReadHalf<Compat<S>, TokioTimer>;

/// The sending half of a split [`WebSocketStream`].
pub type WriteHalf<S> = wslane::driver::WriteHalf<Compat<S>, TokioTimer>;

/// Runs `future` under the configured handshake timeout.
async fn within<T>(
    limit: std::time::Duration,
    future: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| Err(Error::Io(std::io::ErrorKind::TimedOut.into())))
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// The crate README's examples (the page crates.io shows), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
