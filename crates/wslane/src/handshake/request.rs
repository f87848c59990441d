//! A checked upgrade request as the server sees it, and the 101 response that accepts it.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::accept::accept_key;
use super::error::ServerError;
use super::headers::{write_field, Headers};
use super::response::{write_status_line, Acceptance};
use crate::config::Config;
use crate::connection::Connection;
use crate::extension::{Accepted, Extension, ExtensionElement};
use crate::time::Instant;

/// A valid WebSocket upgrade request, from [`ServerHandshake::handle_input`](super::ServerHandshake::handle_input).
///
/// Look at it (path, `Origin`, cookies, credentials, offered subprotocols), then either
/// [`accept`](Self::accept) it or refuse it with a [`Rejection`](super::Rejection).
pub struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) host: String,
    pub(crate) key: String,
    pub(crate) origin: Option<String>,
    pub(crate) headers: Headers,
    pub(crate) protocols: Vec<String>,
    pub(crate) offers: Vec<ExtensionElement>,
    pub(crate) extension: Option<Accepted>,
    pub(crate) trailing: Vec<u8>,
}

/// The outcome of an accepted handshake: the response to write, what was negotiated, and the bytes that
/// followed the request.
///
/// Write [`response`](Self::response), then turn the upgrade into the [`Connection`] with
/// [`into_connection`](Self::into_connection): it installs the negotiated extension and has already
/// received the bytes that followed the request head, so no caller can forget them.
///
/// ```
/// use wslane::handshake::{Acceptance, ServerConfig, ServerHandshake};
/// use wslane::{Config, Event, Instant};
///
/// let mut handshake = ServerHandshake::new(ServerConfig::default());
/// // A request head with a masked text frame "Hello" right behind it, in one read.
/// let mut input = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\n\r\n".to_vec();
/// input.extend_from_slice(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// let request = handshake.handle_input(&input)?.expect("a whole head");
/// let upgrade = request.accept(Acceptance::new())?;
/// assert!(upgrade.response().starts_with(b"HTTP/1.1 101 "));
/// let mut conn = upgrade.into_connection(Instant::ZERO, Config::default());
/// assert_eq!(conn.poll_event()?, Some(Event::Text("Hello")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ServerUpgrade {
    response: Vec<u8>,
    protocol: Option<String>,
    extension: Option<Box<dyn Extension>>,
    trailing: Vec<u8>,
}

impl ServerUpgrade {
    /// The 101 Switching Protocols response to write to the client.
    #[must_use]
    pub fn response(&self) -> &[u8] {
        &self.response
    }

    /// The chosen subprotocol.
    #[must_use]
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The negotiated extension, at most one.
    #[must_use]
    pub fn extension(&self) -> Option<&dyn Extension> {
        self.extension.as_deref()
    }

    /// Bytes the client sent after its request head (the start of its first frames).
    #[must_use]
    pub fn trailing(&self) -> &[u8] {
        &self.trailing
    }

    /// The server's connection, established at `now`: the negotiated extension installed, and the bytes
    /// that followed the request head already received (at `now`). Write [`response`](Self::response)
    /// first.
    #[must_use]
    pub fn into_connection(self, now: Instant, config: Config) -> Connection {
        self.into_parts(now, config).1
    }

    /// As [`into_connection`](Self::into_connection), also handing over the response bytes, for a driver
    /// that writes them later (an event loop that queues them until the socket is writable).
    #[must_use]
    pub fn into_parts(self, now: Instant, config: Config) -> (Vec<u8>, Connection) {
        let conn =
            Connection::server(now, config).after_handshake(now, self.extension, &self.trailing);
        (self.response, conn)
    }
}

impl Request {
    /// The request method (always `GET`).
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target, such as `/chat?room=1`, for routing.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `Host` field.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `Origin` field, if the client sent one (browsers always do).
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The `Sec-WebSocket-Key` field.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Every header field, for cookies, credentials and anything else.
    #[must_use]
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The subprotocols the client offered, in its order of preference, from every
    /// `Sec-WebSocket-Protocol` field.
    #[must_use]
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions the client offered, in its order, from every `Sec-WebSocket-Extensions` field.
    #[must_use]
    pub fn extensions(&self) -> &[ExtensionElement] {
        &self.offers
    }

    /// The response element of the extension the server accepted, if any.
    #[must_use]
    pub fn accepted_extension(&self) -> Option<&ExtensionElement> {
        self.extension.as_ref().map(|(element, _)| element)
    }

    /// The bytes the client sent after its request head.
    #[must_use]
    pub fn trailing(&self) -> &[u8] {
        &self.trailing
    }

    /// Accepts the request: builds the 101 response with `Sec-WebSocket-Accept`, the chosen subprotocol, the
    /// accepted extension and the acceptance's extra fields.
    ///
    /// Fails with [`ServerError::ProtocolNotOffered`] (a 500, this server's fault) when the acceptance
    /// names a subprotocol the client did not offer.
    pub fn accept(self, acceptance: Acceptance) -> Result<ServerUpgrade, ServerError> {
        if let Some(protocol) = &acceptance.protocol {
            if !self.protocols.contains(protocol) {
                return Err(ServerError::ProtocolNotOffered(protocol.clone()));
            }
        }
        let mut out = Vec::with_capacity(256);
        write_status_line(&mut out, 101);
        write_field(&mut out, "Upgrade", b"websocket");
        write_field(&mut out, "Connection", b"Upgrade");
        write_field(
            &mut out,
            "Sec-WebSocket-Accept",
            accept_key(&self.key).as_bytes(),
        );
        if let Some(protocol) = &acceptance.protocol {
            write_field(&mut out, "Sec-WebSocket-Protocol", protocol.as_bytes());
        }
        let extension = self.extension.map(|(element, extension)| {
            let element = alloc::format!("{element}");
            write_field(&mut out, "Sec-WebSocket-Extensions", element.as_bytes());
            extension
        });
        for (name, value) in &acceptance.headers {
            write_field(&mut out, name, value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        Ok(ServerUpgrade {
            response: out,
            protocol: acceptance.protocol,
            extension,
            trailing: self.trailing,
        })
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers)
            .field("protocols", &self.protocols)
            .field("extensions", &self.offers)
            .field("accepted_extension", &self.accepted_extension())
            .field("trailing", &self.trailing.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ServerUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerUpgrade")
            .field("response", &String::from_utf8_lossy(&self.response))
            .field("protocol", &self.protocol)
            .field("extension", &self.extension.as_ref().map(|_| ".."))
            .field("trailing", &self.trailing.len())
            .finish()
    }
}
