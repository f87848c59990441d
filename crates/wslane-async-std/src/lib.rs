//! WebSocket (RFC 6455) for async-std and smol.
//!
//! The [`wslane_async`] layer with its runtime fixed to async-io, the reactor async-std and smol share:
//! streams are any `futures-io` `AsyncRead` + `AsyncWrite` (async-std's and smol's TCP streams, TLS
//! streams, in-memory pipes), and timers come from `async-io`. Every protocol rule lives in the sans-IO
//! `wslane` core. The API is the same as `wslane-tokio`'s: moving between runtimes changes imports and
//! the runtime attribute, nothing else.
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

wslane_async::runtime_api!(wslane_async::AsyncIo, "async-io (async-std, smol)");

/// The crate README's examples (the page crates.io shows), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
