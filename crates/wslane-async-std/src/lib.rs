//! WebSocket (RFC 6455) for async-std and smol.
//!
//! A thin binding of the sans-IO [`wslane`] core to any `futures-io` transport: async-std's and smol's TCP
//! streams, TLS streams, in-memory pipes. Timers come from `async-io`, the reactor both runtimes share.
//! Every protocol rule lives in the core; the API is the same as `wslane-tokio`'s, so moving between
//! runtimes is a change of import.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use wslane_async_std::Message;
//!
//! # async fn run() -> Result<(), wslane_async_std::Error> {
//! let (mut ws, _response) = wslane_async_std::connect("ws://127.0.0.1:9001/").await?;
//! ws.send(Message::text("hello")).await?;
//! let echoed = ws.next().await.transpose()?;
//! ws.close(wslane_async_std::CloseCode::NORMAL, "bye").await?;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod server;
mod stream;
mod timer;

pub use client::{client_on, connect, connect_with, Connector};
pub use server::{accept, accept_with, read_request, upgrade};
pub use stream::MaybeTlsStream;
pub use timer::AsyncIoTimer;

#[cfg(feature = "deflate")]
pub use wslane::deflate::{DeflateConfig, PerMessageDeflate};
pub use wslane::driver::{ConnectGate, Error};
pub use wslane::handshake::{
    Acceptance, ClientError, ClientRequest, ClientUpgrade, OriginPolicy, Rejection, Request,
    ServerConfig, ServerError, ServerHandshake, Url,
};
pub use wslane::{CloseCode, CloseFrame, Config, Event, Message, ReceiveMode, Sender};

/// A WebSocket over a `futures-io` stream `S`: a `Stream<Item = Result<Message, Error>>` and a
/// `Sink<Message>`, with `recv`, `send`, `feed`, `flush`, `close` and `split`. See
/// [`wslane::driver::WebSocket`] for every method.
pub type WebSocketStream<S> = wslane::driver::WebSocket<S, AsyncIoTimer>;

/// The receiving half of a split [`WebSocketStream`].
pub type ReadHalf<S> = wslane::driver::ReadHalf<S, AsyncIoTimer>;

/// The sending half of a split [`WebSocketStream`].
pub type WriteHalf<S> = wslane::driver::WriteHalf<S, AsyncIoTimer>;

/// Runs `future` under the configured handshake timeout.
async fn within<T>(
    limit: std::time::Duration,
    future: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let expired = async {
        async_io::Timer::after(limit).await;
        Err(Error::Io(std::io::ErrorKind::TimedOut.into()))
    };
    futures_lite::future::or(future, expired).await
}

/// The crate README's examples (the page crates.io shows), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
