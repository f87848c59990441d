//! WebSocket (RFC 6455) for tokio.
//!
//! The [`wslane_async`] layer with its runtime fixed to tokio: streams are tokio's own `AsyncRead` +
//! `AsyncWrite` types (TCP, TLS, `tokio::io::duplex`, an upgraded HTTP connection), timers and the clock
//! are tokio's (so a paused test clock drives keepalive and close timeouts too). Every protocol rule lives
//! in the sans-IO `wslane` core. The API is the same as `wslane-async-std`'s: moving between runtimes
//! changes imports and the runtime attribute, nothing else.
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

wslane_async::runtime_api!(wslane_async::Tokio, "tokio");

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// The crate README's examples (the page crates.io shows), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
