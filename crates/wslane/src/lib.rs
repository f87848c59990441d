//! # wslane
//!
//! A sans-IO implementation of the WebSocket protocol (RFC 6455). This crate never touches a socket, a
//! clock or a random source: received bytes go in and come out as events; commands go in and come out as
//! bytes to transmit; time and randomness are arguments.
//!
//! The crate is layered, each layer usable on its own:
//!
//! | layer | module | needs |
//! |---|---|---|
//! | frame codec: header parse and encode, masking | [`frame`] | nothing |
//! | protocol checks over caller buffers: every rule of RFC 6455 sections 5 and 7 | [`decoder`] | nothing |
//! | streaming UTF-8 validation | [`utf8`] | nothing |
//! | the opening handshake over caller buffers, client and server | [`unbuffered::handshake`] | nothing |
//! | a connection over fixed caller buffers: fragments, auto-pong, close handshake, keepalive | [`unbuffered::connection`] | nothing |
//! | the opening handshake, client and server | [`handshake`] | `alloc` |
//! | a buffered connection: message assembly, auto-pong, close handshake, keepalive | [`Connection`] | `alloc` |
//! | permessage-deflate (RFC 7692) | `deflate` | `deflate` (std) |
//! | messages framed once for many connections | [`prepared`] | `alloc` |
//! | a connection's worst-case heap, from its settings | [`memory`] | `alloc` |
//!
//! Drivers live in other crates: `wslane-async` runs a connection on any async runtime (with
//! `wslane-tokio` and `wslane-async-std` binding it to tokio and to async-std/smol), and `wslane-mio`
//! runs it blocking or on a mio event loop. See `docs/architecture.md` in the repository for a tour of the
//! layers and how a driver calls them.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// Compiled only by compilers that have the AVX-512 intrinsics (see the build script).
#[cfg(all(wslane_avx512, target_arch = "x86_64"))]
#[clippy::msrv = "1.89"]
mod avx512;
pub mod close;
pub mod config;
pub mod decoder;
pub mod error;
pub mod event;
pub mod frame;
mod handshake_rules;
mod lifecycle;
pub mod mask_keys;
pub mod time;
pub mod unbuffered;
pub mod utf8;

#[cfg(feature = "alloc")]
pub mod connection;
#[cfg(feature = "alloc")]
mod copy;
#[cfg(feature = "deflate")]
pub mod deflate;
#[cfg(feature = "alloc")]
pub mod extension;
#[cfg(feature = "alloc")]
pub mod handshake;
#[cfg(feature = "alloc")]
pub mod memory;
#[cfg(feature = "alloc")]
pub mod message;
#[cfg(feature = "alloc")]
pub mod prepared;

pub use close::CloseCode;
pub use error::{Error, ProtocolError, SendError};
pub use event::{Event, Fragment};
pub use frame::{DataKind, FrameHeader, OpCode};
pub use time::Instant;

pub use config::{Config, ReceiveMode};
#[cfg(feature = "alloc")]
pub use connection::{Connection, Sender};
pub use lifecycle::state::State;
#[cfg(feature = "alloc")]
pub use message::{CloseFrame, Message};
#[cfg(feature = "alloc")]
pub use prepared::PreparedMessage;

/// Which end of the connection this endpoint is. Clients mask what they send; servers must not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The endpoint that opened the connection; masks every frame it sends.
    Client,
    /// The endpoint that accepted the connection; sends unmasked frames.
    Server,
}

/// The crate README's examples (the page crates.io shows), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
