//! A checked upgrade request as the server sees it, and the 101 response that accepts it.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::accept::accept_key;
use super::error::ServerError;
use super::headers::{write_field, Headers};
use super::response::{write_status_line, Acceptance};
use super::HttpVersion;
use crate::config::Config;
use crate::connection::Connection;
use crate::extension::{Accepted, Extension, ExtensionElement};
use crate::time::Instant;

/// A valid WebSocket upgrade request, from [`ServerHandshake::handle_input`](super::ServerHandshake::handle_input).
///
/// Look at it (path, `Origin`, cookies, credentials, offered subprotocols), then either
/// [`accept`](Self::accept) it or refuse it with a [`Rejection`](super::Rejection).
pub struct Request {
    pub(crate) version: HttpVersion,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) host: String,
    /// `Sec-WebSocket-Key`; the HTTP/2 form has none.
    pub(crate) key: Option<String>,
    pub(crate) headers: Headers,
    pub(crate) offers: Offers,
    pub(crate) trailing: Vec<u8>,
}

/// What the client offered and the server settled: the same in both forms of the handshake.
pub(crate) struct Offers {
    pub(crate) origin: Option<String>,
    pub(crate) protocols: Vec<String>,
    pub(crate) extensions: Vec<ExtensionElement>,
    pub(crate) extension: Option<Accepted>,
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
    version: HttpVersion,
    status: u16,
    fields: Vec<(String, String)>,
    response: Vec<u8>,
    protocol: Option<String>,
    extension: Option<Box<dyn Extension>>,
    trailing: Vec<u8>,
}

impl ServerUpgrade {
    /// The 101 Switching Protocols response to write to the client, in the HTTP/1.1 form. Empty in the
    /// HTTP/2 form, which has no bytes of its own: the HTTP/2 layer sends [`status`](Self::status) and
    /// [`fields`](Self::fields) as the stream's response HEADERS.
    #[must_use]
    pub fn response(&self) -> &[u8] {
        &self.response
    }

    /// The form of the handshake, from the request.
    #[must_use]
    pub fn version(&self) -> HttpVersion {
        self.version
    }

    /// The response status: 101 in the HTTP/1.1 form, 200 in the HTTP/2 form (RFC 8441 section 5).
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response's header fields, for an HTTP layer that writes the head itself (hyper): in the
    /// HTTP/1.1 form `Upgrade`, `Connection` and `Sec-WebSocket-Accept`; in the HTTP/2 form none of these
    /// (names in lower case, as HTTP/2 requires); then in both the chosen subprotocol, the accepted
    /// extension and the acceptance's extra fields.
    #[must_use]
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
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

    /// Bytes the client sent after its request head (the start of its first frames). Always empty in the
    /// HTTP/2 form, whose frames come in the stream's DATA.
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
    /// The form of the handshake: [`HttpVersion::Http11`] for an RFC 6455 upgrade, [`HttpVersion::Http2`]
    /// for an RFC 8441 extended CONNECT.
    #[must_use]
    pub fn version(&self) -> HttpVersion {
        self.version
    }

    /// The request method: `GET` in the HTTP/1.1 form, `CONNECT` in the HTTP/2 form.
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target, such as `/chat?room=1`, for routing (`:path` in the HTTP/2 form).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `Host` field (`:authority` in the HTTP/2 form, or `Host` when it has none).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `Origin` field, if the client sent one (browsers always do).
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.offers.origin.as_deref()
    }

    /// The `Sec-WebSocket-Key` field; `None` in the HTTP/2 form, which has no key (RFC 8441 section 5).
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
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
        &self.offers.protocols
    }

    /// The extensions the client offered, in its order, from every `Sec-WebSocket-Extensions` field.
    #[must_use]
    pub fn extensions(&self) -> &[ExtensionElement] {
        &self.offers.extensions
    }

    /// The response element of the extension the server accepted, if any.
    #[must_use]
    pub fn accepted_extension(&self) -> Option<&ExtensionElement> {
        self.offers.extension.as_ref().map(|(element, _)| element)
    }

    /// The bytes the client sent after its request head.
    #[must_use]
    pub fn trailing(&self) -> &[u8] {
        &self.trailing
    }

    /// Accepts the request. In the HTTP/1.1 form, builds the 101 response with `Sec-WebSocket-Accept`; in
    /// the HTTP/2 form, the 200 response's fields (RFC 8441 section 5: no `Sec-WebSocket-Accept`, no
    /// `Upgrade`). Both carry the chosen subprotocol, the accepted extension and the acceptance's extra
    /// fields.
    ///
    /// Fails with [`ServerError::ProtocolNotOffered`] (a 500, this server's fault) when the acceptance
    /// names a subprotocol the client did not offer.
    pub fn accept(self, acceptance: Acceptance) -> Result<ServerUpgrade, ServerError> {
        if let Some(protocol) = &acceptance.protocol {
            if !self.offers.protocols.contains(protocol) {
                return Err(ServerError::ProtocolNotOffered(protocol.clone()));
            }
        }
        let http2 = self.version == HttpVersion::Http2;
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, value: String| {
            let name = if http2 {
                name.to_ascii_lowercase()
            } else {
                name.into()
            };
            fields.push((name, value));
        };
        if let Some(key) = &self.key {
            add("Upgrade", "websocket".into());
            add("Connection", "Upgrade".into());
            add("Sec-WebSocket-Accept", accept_key(key));
        }
        if let Some(protocol) = &acceptance.protocol {
            add("Sec-WebSocket-Protocol", protocol.clone());
        }
        let extension = self.offers.extension.map(|(element, extension)| {
            add("Sec-WebSocket-Extensions", alloc::format!("{element}"));
            extension
        });
        for (name, value) in acceptance.headers {
            add(&name, value);
        }
        let status = if http2 { 200 } else { 101 };
        let mut response = Vec::new();
        if !http2 {
            response.reserve(256);
            write_status_line(&mut response, status);
            for (name, value) in &fields {
                write_field(&mut response, name, value.as_bytes());
            }
            response.extend_from_slice(b"\r\n");
        }
        Ok(ServerUpgrade {
            version: self.version,
            status,
            fields,
            response,
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
            .field("version", &self.version)
            .field("protocols", &self.offers.protocols)
            .field("extensions", &self.offers.extensions)
            .field("accepted_extension", &self.accepted_extension())
            .field("trailing", &self.trailing.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ServerUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerUpgrade")
            .field("status", &self.status)
            .field("fields", &self.fields)
            .field("protocol", &self.protocol)
            .field("extension", &self.extension.as_ref().map(|_| ".."))
            .field("trailing", &self.trailing.len())
            .finish()
    }
}
