//! The core without a heap: the opening handshake and a connection over caller buffers.
//!
//! For a microcontroller, or any caller that owns its memory: nothing here allocates, so it builds
//! without the `alloc` feature. The rules are the buffered layer's ([`handshake`](crate::handshake),
//! [`Connection`](crate::Connection)), checked by the same functions and tested against the same cases.
//!
//! - [`handshake`]: the request or response head parsed into the caller's header array (httparse's
//!   model), the answer written into the caller's buffer ("too small" says how much is needed and writes
//!   nothing).
//! - [`connection`]: a connection over a fixed receive buffer and a fixed transmit buffer, with
//!   auto-pong, keepalive and the close handshake. Messages larger than the receive buffer arrive as
//!   fragments.
//!
//! The `wslane-embedded` crate drives both over `embedded-io-async` (embassy-net).

pub mod connection;
pub mod handshake;
