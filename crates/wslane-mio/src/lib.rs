//! WebSocket (RFC 6455) without an async runtime: a blocking client and server over `std::net`, and a
//! single-threaded event loop on [`mio`] that serves many connections.
//!
//! A thin binding of the sans-IO [`wslane`] core: every protocol rule (handshake checks, framing, close
//! rules, limits, keepalive) lives in the core; this crate moves bytes between sockets and
//! [`Connection`](wslane::Connection)s, arms timeouts from
//! [`Connection::poll_timeout`](wslane::Connection::poll_timeout), and converts events.
//!
//! - **Blocking**: [`connect`] and [`accept`] give a [`WebSocket`] with the same verbs as the async
//!   adapters: [`recv`](WebSocket::recv), [`recv_with`](WebSocket::recv_with),
//!   [`recv_with_reply`](WebSocket::recv_with_reply), [`send`](WebSocket::send), [`feed`](WebSocket::feed)/[`flush`](WebSocket::flush) and
//!   [`close`](WebSocket::close); one connection per thread.
//! - **Event loop**: a [`Server`] calls your [`Handler`] for requests, messages and closes of all its
//!   connections on one thread; the [`Context`] it passes sends to and closes any of them.
//!
//! ```no_run
//! use wslane_mio::{CloseCode, Message};
//!
//! # fn run() -> Result<(), wslane_mio::Error> {
//! // A blocking echo server, one thread per connection.
//! let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
//! std::thread::spawn(move || {
//!     for tcp in listener.incoming().flatten() {
//!         std::thread::spawn(move || {
//!             let mut ws = wslane_mio::accept(tcp)?;
//!             while let Some(message) = ws.recv() {
//!                 let message = message?;
//!                 if message.is_data() {
//!                     ws.send(message)?;
//!                 }
//!             }
//!             Ok::<_, wslane_mio::Error>(())
//!         });
//!     }
//! });
//!
//! // A blocking client.
//! let (mut ws, _response) = wslane_mio::connect("ws://127.0.0.1:9001/")?;
//! ws.send(Message::text("hello"))?;
//! assert_eq!(ws.recv().transpose()?, Some(Message::text("hello")));
//! ws.close(CloseCode::NORMAL, "bye")?;
//! # Ok(())
//! # }
//! ```

mod blocking;
mod clock;
mod event_loop;

pub use blocking::{accept, accept_with, client_on, connect, connect_with, Transport, WebSocket};
pub use event_loop::{CloseReason, ConnectionId, Context, Handler, Server, StopHandle};
pub use wslane_async::common::*;

/// The crate README's examples (the page crates.io shows), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
