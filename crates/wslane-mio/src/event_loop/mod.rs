//! The event loop: many connections on one thread, on `mio::Poll`. See [`Server`].
//!
//! - [`server`]: the public [`Server`] and [`StopHandle`], and the round that polls and dispatches.
//! - [`serve`]: the loop's state, its run queue, and serving one peer phase by phase.
//! - [`accept`], [`handshake`], [`open`], [`draining`]: a peer's phases, from `accept` to the linger.
//! - [`timers`]: every peer's deadline in one ordered set, and how long a poll may wait.
//! - [`peer`], [`peers`]: one socket and its phase; the slab that holds them and their tokens.
//! - [`handler`]: what the application supplies and what it acts with.

mod accept;
mod draining;
mod handler;
mod handshake;
mod open;
mod peer;
mod peers;
mod serve;
mod server;
mod timers;

pub use handler::{CloseReason, ConnectionId, Context, Handler};
pub use server::{Server, StopHandle};
