//! The opening handshake (RFC 6455 section 4), for both roles, without I/O.
//!
//! Both sides read their peer's HTTP head incrementally: feed bytes as they arrive to `handle_input`,
//! which returns `Ok(None)` until the head is complete (need more bytes is a status, not an error). The
//! head is bounded by [`Limits`]. Bytes that arrive behind the head, such as a first frame sent in the same
//! segment, are handed back as trailing data to feed to the connection.
//!
//! - **Server**: [`ServerHandshake`] checks the request and negotiates extensions per [`ServerConfig`]
//!   (origin policy, supported extensions), yielding a [`Request`]. Accept it with an [`Acceptance`]
//!   (subprotocol, extra fields) to get the 101 bytes and a [`ServerUpgrade`]; refuse it with a
//!   [`Rejection`]; and on a [`ServerError`] write [`ServerError::to_response`]. Close the connection after
//!   any refusal.
//! - **Client**: [`ClientRequest`] builds the request for a [`Url`]; [`ClientRequest::start`] takes 16
//!   random bytes for the key and returns the request bytes and a [`ClientHandshake`], which checks the
//!   response and yields a [`ClientUpgrade`].
//!
//! - **HTTP/2** (RFC 8441): the same [`ServerHandshake`] takes an extended CONNECT's pseudo-header fields
//!   and fields as data ([`ServerHandshake::handle_head`]), and [`ClientRequest::start_connect`] builds one;
//!   see [`h2`]. A head that an HTTP/1.1 layer (hyper) has parsed goes the same way. The outcome is the
//!   same [`ServerUpgrade`] or [`ClientUpgrade`], so the connection cannot tell how it was opened.
//!
//! A connection holds at most one extension: a server accepts the first of its configured factories that
//! accepts an offer, and a client fails the handshake if the server accepts more than one.
//!
//! ```
//! use wslane::handshake::{Acceptance, ClientRequest, ServerConfig, ServerHandshake, Url};
//!
//! let url = Url::parse("ws://example.com/chat")?;
//! let request = ClientRequest::new(url).protocol("chat.v2")?.protocol("chat.v1")?;
//! let (mut client, request_bytes) = request.start(*b"sixteen random b");
//!
//! let mut server = ServerHandshake::new(ServerConfig::default());
//! let request = server.handle_input(&request_bytes)?.expect("a whole request");
//! assert_eq!(request.path(), "/chat");
//! let chosen = request.protocols().iter().find(|p| *p == "chat.v1").cloned();
//! let mut acceptance = Acceptance::new();
//! if let Some(protocol) = &chosen {
//!     acceptance = acceptance.protocol(protocol);
//! }
//! let upgrade = request.accept(acceptance)?;
//!
//! let outcome = client.handle_input(upgrade.response())?.expect("a whole response");
//! assert_eq!(outcome.protocol(), Some("chat.v1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod accept;
mod client;
mod error;
pub mod h2;
mod head;
mod headers;
mod negotiate;
mod parsed;
mod request;
mod response;
mod server;
mod url;

pub use accept::accept_key;
pub use client::{ClientHandshake, ClientRequest, ClientUpgrade, ServerResponse};
pub use error::{BuildError, ClientError, ServerError};
pub use h2::{ConnectHandshake, ExtendedConnect};
pub use head::Limits;
pub use headers::Headers;
pub use parsed::{HttpVersion, RequestHead};
pub use request::{Request, ServerUpgrade};
pub use response::{Acceptance, Rejection};
pub use server::{OriginCheck, OriginPolicy, ServerConfig, ServerHandshake};
pub use url::{Url, UrlError};
