//! # wslane-async
//!
//! The runtime-generic async layer of wslane: a [`WebSocket`] over any async runtime, driving the sans-IO
//! [`wslane`] core. Every protocol rule lives in the core; this crate moves bytes between a stream and a
//! [`Connection`](wslane::Connection), arms one timer from its deadline, and adds what needs a runtime:
//! accepting and connecting, the handshake timeout, the RFC 6455 section 4.1 connect gate, TLS.
//!
//! It follows quinn's split: a small [`Runtime`] trait (timers, clock, resolving, TCP, TLS) and
//! [`Transport<S>`] (how the runtime reads and writes a stream `S`), with one short module per runtime
//! behind a feature: [`Tokio`] (`runtime-tokio`) and [`AsyncIo`] (`runtime-async-io`, for async-std and
//! smol). Applications usually use the thin crates instead, which fix the runtime and offer the same API:
//! `wslane-tokio` and `wslane-async-std`.
//!
//! ```text
//!   stream ──R::poll_read──▶ Connection::read_buffer/handle_read ──poll_event──▶ recv / Stream
//!   stream ◀─R::poll_write── Connection::poll_transmit/advance_transmit ◀── send / feed / Sink / close
//!   R::Timer ◀── Connection::poll_timeout          Connection::handle_timeout ◀── the timer fires
//! ```
//!
//! Which calls may be cancelled (dropped in a `select!` or by a timeout) without losing anything is listed
//! in the [cancel safety](WebSocket#cancel-safety) section of [`WebSocket`]. On tokio, the handshake calls
//! refuse a runtime built without its time driver with an [`Unsupported`](std::io::ErrorKind::Unsupported)
//! error ([`Runtime::check_timers`]).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod abort;
mod connect;
mod error;
mod gate;
mod handshake;
mod options;
pub mod proxy;
pub mod runtime;
mod sink;
mod socket;
mod split;
mod stream;
pub mod tls;
pub mod topics;
mod wakers;

pub use abort::AbortHandle;
pub use connect::{connect, connect_gated, connect_with};
pub use error::{Error, TrySendError, TrySendPreparedError};
pub use gate::{ConnectGate, GateGuard};
pub use handshake::{accept, accept_with, client_on, read_request, upgrade};
pub use options::ConnectOptions;
#[cfg(feature = "runtime-async-io")]
pub use runtime::AsyncIo;
#[cfg(feature = "runtime-tokio")]
pub use runtime::Tokio;
pub use runtime::{Runtime, Timer, Transport};
pub use socket::WebSocket;
pub use split::{ReadHalf, WriteHalf};
pub use stream::{DrivesTcpAndTls, MaybeTlsStream};
pub use tls::Connector;

/// The names every adapter crate re-exports (`wslane-tokio`, `wslane-async-std`, `wslane-mio`), so that
/// moving between adapters changes imports only.
pub mod common {
    pub use crate::{ConnectGate, Error};
    #[cfg(feature = "deflate")]
    pub use wslane::deflate::{DeflateConfig, PerMessageDeflate};
    pub use wslane::handshake::{
        Acceptance, ClientError, ClientRequest, Limits, OriginPolicy, Rejection, Request,
        ServerConfig, ServerError, ServerHandshake, ServerResponse, Url,
    };
    pub use wslane::{
        CloseCode, CloseFrame, Config, Event, Message, PreparedMessage, ReceiveMode, SendError,
        Sender, State,
    };
}

/// Declares a runtime crate's API for runtime `$rt`: the type aliases (`WebSocketStream<S>`, `ReadHalf<S>`,
/// `WriteHalf<S>`, `MaybeTlsStream`), the entry points (`accept`, `accept_with`, `read_request`,
/// `upgrade`, `connect`, `connect_with`, `client_on`) and the [`common`] re-exports. `wslane-tokio` and
/// `wslane-async-std` are this one line over their runtime, so their APIs cannot drift apart.
#[macro_export]
macro_rules! runtime_api {
    ($rt:ty, $runtime_name:literal) => {
        pub use $crate::common::*;
        pub use $crate::proxy::{Proxy, ProxyError, ProxySetting};
        pub use $crate::topics::{Published, SlowPolicy, Subscriber, TopicStats, Topics};
        pub use $crate::{AbortHandle, ConnectOptions, Connector, TrySendError, TrySendPreparedError};

        #[doc = concat!("The ", $runtime_name, " runtime, as the async layer sees it.")]
        pub type Runtime = $rt;

        #[doc = concat!("A WebSocket over a ", $runtime_name, " stream `S` (TCP, TLS, an upgraded HTTP ")]
        /// connection, an in-memory pipe): a `Stream<Item = Result<Message, Error>>` and a `Sink<Message>`,
        /// with `recv`, `recv_with`, `recv_with_reply`, `send`, `feed`, `try_send`, `flush`, `close`,
        /// `abort_handle` and `split`. See
        /// [`wslane_async::WebSocket`] for every method.
        pub type WebSocketStream<S> = $crate::WebSocket<S, $rt>;

        /// The receiving half of a split [`WebSocketStream`].
        pub type ReadHalf<S> = $crate::ReadHalf<S, $rt>;

        /// The sending half of a split [`WebSocketStream`].
        pub type WriteHalf<S> = $crate::WriteHalf<S, $rt>;

        /// The stream a client connects over: TCP, or TLS over TCP for `wss://`.
        pub type MaybeTlsStream = $crate::MaybeTlsStream<$rt>;

        /// Accepts a WebSocket connection on `stream` with default settings, from any origin. With the
        /// `deflate` feature (a default one), a permessage-deflate offer is accepted with
        /// `DeflateConfig::memory_conscious()`; see [`wslane_async::accept`].
        pub async fn accept<S>(stream: S) -> Result<WebSocketStream<S>, Error>
        where
            S: Unpin,
            $rt: $crate::Transport<S>,
        {
            $crate::accept::<$rt, S>(stream).await
        }

        /// Accepts a WebSocket connection on `stream`. `decide` sees the request (path, headers, `Origin`,
        /// offered subprotocols) and accepts it, with a subprotocol and extra fields, or refuses it with a
        /// status. The handshake is bounded by `server.limits.timeout`.
        pub async fn accept_with<S, F>(
            stream: S,
            server: impl Into<std::sync::Arc<ServerConfig>>,
            config: Config,
            decide: F,
        ) -> Result<WebSocketStream<S>, Error>
        where
            S: Unpin,
            $rt: $crate::Transport<S>,
            F: FnOnce(&Request) -> Result<Acceptance, Rejection>,
        {
            $crate::accept_with::<$rt, S, F>(stream, server, config, decide).await
        }

        /// Reads a request head for servers that route requests themselves (for example, serving plain
        /// HTTP on the same port), bounded by the handshake's timeout. On success, finish with
        /// [`upgrade`]; on [`Error::Request`], answer with the error's `to_response()`.
        pub async fn read_request<S>(
            stream: &mut S,
            handshake: &mut ServerHandshake,
        ) -> Result<Request, Error>
        where
            S: Unpin,
            $rt: $crate::Transport<S>,
        {
            $crate::read_request::<$rt, S>(stream, handshake).await
        }

        /// Accepts a request read with [`read_request`]: writes the 101 response and starts the
        /// connection.
        pub async fn upgrade<S>(
            stream: S,
            request: Request,
            acceptance: Acceptance,
            config: Config,
        ) -> Result<WebSocketStream<S>, Error>
        where
            S: Unpin,
            $rt: $crate::Transport<S>,
        {
            $crate::upgrade::<$rt, S>(stream, request, acceptance, config).await
        }

        /// Connects to a `ws://` or `wss://` URL with default settings, through the proxy the
        /// environment names for it, if any ([`Proxy::from_env`]).
        pub async fn connect(
            url: &str,
        ) -> Result<(WebSocketStream<MaybeTlsStream>, ServerResponse), Error> {
            $crate::connect::<$rt>(url).await
        }

        /// Connects with a built request (origin, subprotocols, extensions, extra fields, handshake
        /// limits), connection settings and [`ConnectOptions`]: a TLS [`Connector`] (which converts
        /// into options) and a proxy setting, by default the proxy the environment names for the URL.
        /// While this connection is connecting, other connections from this process to the same address
        /// wait their turn (RFC 6455 section 4.1).
        pub async fn connect_with(
            request: ClientRequest,
            config: Config,
            options: impl Into<ConnectOptions>,
        ) -> Result<(WebSocketStream<MaybeTlsStream>, ServerResponse), Error> {
            $crate::connect_with::<$rt>(request, config, options).await
        }

        /// Runs the client handshake on a stream that is already connected (a proxy tunnel, a Unix
        /// socket, an in-memory pipe). The caller keeps the section 4.1 rule for such streams.
        pub async fn client_on<S>(
            stream: S,
            request: ClientRequest,
            config: Config,
        ) -> Result<(WebSocketStream<S>, ServerResponse), Error>
        where
            S: Unpin,
            $rt: $crate::Transport<S>,
        {
            $crate::client_on::<$rt, S>(stream, request, config).await
        }
    };
}

/// The crate README's examples (the page crates.io shows), compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
