//! The async driver the runtime adapters share (feature `driver`).
//!
//! [`WebSocket`] drives a [`Connection`](crate::Connection) over any `futures-io` transport and a
//! [`Timer`] supplied by the runtime. It holds no protocol rule of its own: it moves bytes between the
//! transport and the connection, arms one timer from
//! [`Connection::poll_timeout`](crate::Connection::poll_timeout), and converts events to
//! [`Message`](crate::Message)s. The `wslane-tokio` and `wslane-async-std` crates supply the transport
//! wrapper and the timer and re-export it.
//!
//! ```text
//!   transport ──read──▶ read_buffer/handle_read ──▶ Connection ──poll_event──▶ Stream / recv_with
//!   transport ◀─write── poll_transmit/advance_transmit ◀── Connection ◀── Sink / send / close
//!   Timer ◀── poll_timeout              handle_timeout ◀── Timer fires
//! ```

mod connect;
mod handshake;
mod sink;
mod socket;
mod split;
#[cfg(feature = "rustls")]
pub mod tls;

pub use crate::adapter_error::Error;
pub use crate::gate::{ConnectGate, GateGuard};
pub use connect::connect_gated;
pub use handshake::{accept, accept_with, client_handshake, read_request, upgrade};
pub use socket::WebSocket;
pub use split::{ReadHalf, WriteHalf};

use core::task::{Context, Poll};

/// A runtime's one-shot timer, re-armed by the driver.
pub trait Timer: Unpin + Send {
    /// Arms the timer for `deadline`, replacing any earlier deadline.
    fn reset(&mut self, deadline: std::time::Instant);

    /// Ready once the armed deadline has passed; registers the waker otherwise.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()>;

    /// The runtime's clock (a runtime with a test clock, such as tokio's paused time, supplies its own).
    fn now(&self) -> std::time::Instant {
        std::time::Instant::now()
    }
}
