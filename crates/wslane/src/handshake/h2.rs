//! The HTTP/2 form of the opening handshake (RFC 8441): a WebSocket over one stream of an HTTP/2
//! connection, opened by an extended CONNECT instead of an upgrade. Plain data in and out: the HTTP/2 layer
//! (hyper, h2) moves the frames, and this module holds the rules.
//!
//! - **Server**: give the request's pseudo-header fields and fields to
//!   [`ServerHandshake::handle_head`](super::ServerHandshake::handle_head) with a
//!   [`RequestHead::http2`](super::RequestHead::http2); accepting the [`Request`] gives a
//!   [`ServerUpgrade`](super::ServerUpgrade) whose [`status`](super::ServerUpgrade::status) (200) and
//!   [`fields`](super::ServerUpgrade::fields) are the response HEADERS. A refusal is
//!   [`ServerError::status_in`] with [`ServerError::fields_in`] for [`HttpVersion::Http2`].
//! - **Client**: [`ClientRequest::start_connect`] gives the [`ExtendedConnect`] to send and a
//!   [`ConnectHandshake`] that checks the response's status and fields, yielding the same
//!   [`ClientUpgrade`] as the HTTP/1.1 form.
//!
//! What the HTTP/2 layer keeps (RFC 8441 section 3): a server announces
//! [`SETTINGS_ENABLE_CONNECT_PROTOCOL`] with the value 1, and a client sends an extended CONNECT only to a
//! server that did. The stream carries the WebSocket's frames in DATA frames; ending the stream
//! (`END_STREAM`) stands for closing the TCP connection, and `RST_STREAM` for a reset (RFC 8441 section 6).
//!
//! ```
//! use wslane::handshake::{
//!     Acceptance, ClientRequest, Headers, RequestHead, ServerConfig, ServerHandshake, Url,
//! };
//!
//! let request = ClientRequest::new(Url::parse("ws://example.com/chat")?).protocol("chat")?;
//! let (client, connect) = request.start_connect();
//! assert_eq!((connect.method(), connect.protocol()), ("CONNECT", "websocket"));
//!
//! let mut server = ServerHandshake::new(ServerConfig::default());
//! let head = RequestHead::http2(
//!     connect.method(),
//!     Some(connect.protocol()),
//!     Some(connect.scheme()),
//!     Some(connect.authority()),
//!     Some(connect.path()),
//! );
//! let headers: Headers = connect.fields().iter().map(|(n, v)| (n, v)).collect();
//! let request = server.handle_head(head, headers)?;
//! let upgrade = request.accept(Acceptance::new().protocol("chat"))?;
//! assert_eq!(upgrade.status(), 200);
//!
//! let headers: Headers = upgrade.fields().iter().map(|(n, v)| (n, v)).collect();
//! let outcome = client.handle_response(upgrade.status(), headers)?;
//! assert_eq!(outcome.protocol(), Some("chat"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::client::{check_protocol, ClientRequest, ClientUpgrade, ServerResponse};
use super::error::{ClientError, ServerError};
use super::headers::Headers;
use super::negotiate;
use super::parsed::{HttpVersion, RequestHead};
use super::request::Request;
use super::server::{check_body_and_version, is_resource_target, negotiate_offers, single};
use super::ServerConfig;
use crate::extension::ExtensionFactory;

/// The HTTP/2 setting that enables the extended CONNECT (RFC 8441 section 3): identifier `0x8`. A server
/// sends it with the value 1; a client waits for it before opening a WebSocket.
pub const SETTINGS_ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

/// The `:protocol` of a WebSocket's extended CONNECT (RFC 8441 section 5).
pub const PROTOCOL: &str = "websocket";

/// Connection-specific fields, which an HTTP/2 message must not carry (RFC 9113 section 8.2.2); `te` is
/// allowed with `trailers` only.
const CONNECTION_SPECIFIC: &[&str] = &[
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
];

/// Checks an extended CONNECT (RFC 8441 sections 4 and 5), in this order: method `CONNECT` (else 405 with
/// `Allow: CONNECT`); `:protocol` `websocket` (else 400); `:scheme` `http` or `https` and a `:path`
/// naming a resource (else 400); an `:authority` or a `Host`, the same when both (else 400); no
/// connection-specific field (else 400); then, as in the HTTP/1.1 form, no body and exactly one
/// `Sec-WebSocket-Version: 13` (else 400 with `Sec-WebSocket-Version: 13`, since HTTP/2 has no 426), the
/// `Origin` policy (403), and the subprotocol and extension lists (400). There is no
/// `Sec-WebSocket-Key`: one sent is ignored.
pub(crate) fn check_connect(
    head: &RequestHead<'_>,
    headers: Headers,
    config: &ServerConfig,
) -> Result<Request, ServerError> {
    if head.method != "CONNECT" {
        return Err(ServerError::MethodNotAllowed);
    }
    if !head
        .protocol
        .is_some_and(|p| p.eq_ignore_ascii_case(PROTOCOL))
    {
        return Err(ServerError::NotWebSocketConnect);
    }
    if !matches!(head.scheme, Some("http" | "https")) {
        return Err(ServerError::InvalidPseudoHeader(":scheme"));
    }
    let path = head
        .target
        .ok_or(ServerError::InvalidPseudoHeader(":path"))?;
    if !path.starts_with('/') || !is_resource_target(path) {
        return Err(ServerError::InvalidTarget);
    }
    let host = single(&headers, "Host")?
        .map(|host| core::str::from_utf8(host).map_err(|_| ServerError::Malformed))
        .transpose()?;
    let host = match (head.authority, host) {
        (Some(authority), Some(host)) if !authority.eq_ignore_ascii_case(host) => {
            return Err(ServerError::Malformed)
        }
        (Some(authority), _) => authority,
        (None, Some(host)) => host,
        (None, None) => return Err(ServerError::MissingHost),
    };
    if let Some(name) = connection_specific(&headers) {
        return Err(ServerError::ConnectionSpecificHeader(name));
    }
    check_body_and_version(&headers)?;
    let offers = negotiate_offers(&headers, config)?;
    Ok(Request {
        version: HttpVersion::Http2,
        method: head.method.into(),
        path: path.into(),
        host: host.into(),
        key: None,
        headers,
        offers,
        trailing: Vec::new(),
    })
}

/// The first connection-specific field of `headers`, if any.
fn connection_specific(headers: &Headers) -> Option<&'static str> {
    if let Some(name) = CONNECTION_SPECIFIC
        .iter()
        .find(|name| headers.get(name).is_some())
    {
        return Some(name);
    }
    headers
        .get_all("te")
        .any(|value| !value.trim_ascii().eq_ignore_ascii_case(b"trailers"))
        .then_some("te")
}

/// A client's extended CONNECT (RFC 8441 section 5): the pseudo-header fields and the fields of the
/// request HEADERS to send on a new stream, from [`ClientRequest::start_connect`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedConnect {
    scheme: &'static str,
    authority: String,
    path: String,
    fields: Vec<(String, String)>,
}

impl ExtendedConnect {
    /// `:method`: always `CONNECT`.
    #[must_use]
    pub fn method(&self) -> &'static str {
        "CONNECT"
    }

    /// `:protocol`: always `websocket`.
    #[must_use]
    pub fn protocol(&self) -> &'static str {
        PROTOCOL
    }

    /// `:scheme`: `https` for a `wss://` URL, `http` for `ws://` (RFC 8441 section 5).
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// `:authority`: the URL's host, with its port when not the scheme's default.
    #[must_use]
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `:path`: the URL's path and query.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The request's fields, names in lower case: `sec-websocket-version: 13`, then `origin`,
    /// `sec-websocket-protocol` and `sec-websocket-extensions` when the request has them, then the extra
    /// fields. No `sec-websocket-key`, `upgrade` or `connection`.
    #[must_use]
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }
}

impl ClientRequest {
    /// Turns the request into the HTTP/2 form (RFC 8441): the extended CONNECT to send on a new stream
    /// and the handshake waiting for its response. No nonce: the HTTP/2 form has no key. Send it only on
    /// a connection whose server announced [`SETTINGS_ENABLE_CONNECT_PROTOCOL`].
    #[must_use]
    pub fn start_connect(self) -> (ConnectHandshake, ExtendedConnect) {
        let mut out = Vec::new();
        let mut add = |name: &str, value: String| out.push((name.to_ascii_lowercase(), value));
        add("sec-websocket-version", "13".into());
        if let Some(origin) = self.origin {
            add("origin", origin);
        }
        if !self.protocols.is_empty() {
            add("sec-websocket-protocol", self.protocols.join(", "));
        }
        if !self.extensions.is_empty() {
            let elements: Vec<String> = self
                .extensions
                .iter()
                .flat_map(|(_, offers)| offers.iter().map(|offer| alloc::format!("{offer}")))
                .collect();
            add("sec-websocket-extensions", elements.join(", "));
        }
        for (name, value) in self.headers {
            add(&name, value);
        }
        let connect = ExtendedConnect {
            scheme: if self.url.is_tls() { "https" } else { "http" },
            authority: self.url.host_header(),
            path: self.url.resource().into(),
            fields: out,
        };
        let handshake = ConnectHandshake {
            protocols: self.protocols,
            extensions: self.extensions.into_iter().map(|(f, _)| f).collect(),
        };
        (handshake, connect)
    }
}

/// The client's side of one HTTP/2 opening handshake, after the extended CONNECT was sent: the response's
/// status and fields in, a [`ClientUpgrade`] out.
///
/// The response is checked as RFC 8441 section 5 asks: a 2xx status (else [`ClientError::Status`] with the
/// fields), no `Sec-WebSocket-Accept` to check, at most one offered subprotocol and at most one offered
/// extension, which its factory confirms.
pub struct ConnectHandshake {
    protocols: Vec<String>,
    extensions: Vec<Arc<dyn ExtensionFactory>>,
}

impl ConnectHandshake {
    /// Takes the response HEADERS: the `:status` and the fields. On success the WebSocket's frames follow
    /// in the stream's DATA ([`ClientUpgrade::trailing`] is empty).
    pub fn handle_response(
        self,
        status: u16,
        headers: Headers,
    ) -> Result<ClientUpgrade, ClientError> {
        if !(200..300).contains(&status) {
            return Err(ClientError::Status {
                code: status,
                reason: String::new(),
                headers,
            });
        }
        let protocol = check_protocol(&self.protocols, &headers)?;
        let extension = negotiate::confirm(&self.extensions, &headers)?;
        Ok(ClientUpgrade {
            response: ServerResponse { protocol, headers },
            extension,
            trailing: Vec::new(),
        })
    }
}

impl fmt::Debug for ConnectHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.extensions.iter().map(|e| e.name()).collect();
        f.debug_struct("ConnectHandshake")
            .field("protocols", &self.protocols)
            .field("extensions", &names)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_specific_fields_are_found_and_te_trailers_is_not_one() {
        let headers: Headers = [("te", "trailers")].into_iter().collect();
        assert_eq!(connection_specific(&headers), None);
        let headers: Headers = [("TE", "gzip")].into_iter().collect();
        assert_eq!(connection_specific(&headers), Some("te"));
        let headers: Headers = [("Keep-Alive", "1")].into_iter().collect();
        assert_eq!(connection_specific(&headers), Some("keep-alive"));
    }
}
