//! Handshake errors: [`ServerError`] (each maps to the HTTP status to answer with), [`ClientError`] (why a
//! server's response is refused), and [`BuildError`] (a caller's invalid request, response or header).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::headers::Headers;
use super::parsed::HttpVersion;
use super::response;
use crate::extension::NegotiationError;
use crate::unbuffered::handshake::RequestError;

/// The content type of a refusal's body.
const CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Why a server refuses an opening handshake. [`ServerError::status`] is the HTTP status to answer with and
/// [`ServerError::to_response`] the whole answer; the connection is closed after it.
///
/// Every variant is the client's fault except [`ServerError::ProtocolNotOffered`],
/// [`ServerError::InvalidExtensionResponse`] and [`ServerError::Finished`], which are this server's own
/// (status 500).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerError {
    /// The request is not valid HTTP/1.x, or (HTTP/2) its `:authority` and `Host` differ (400).
    Malformed,
    /// The request head is over [`Limits::max_head_size`](super::Limits::max_head_size) (431).
    HeadTooLarge,
    /// The request has more fields than [`Limits::max_headers`](super::Limits::max_headers) (431).
    TooManyHeaders,
    /// The method is not `GET` (405, with `Allow: GET`); in HTTP/2, not `CONNECT` (405, with
    /// `Allow: CONNECT`).
    MethodNotAllowed,
    /// The request is HTTP/1.0; the opening handshake needs HTTP/1.1 or later (400: the major version is
    /// supported, so 505 would be wrong).
    HttpVersion,
    /// The request target is not a path (`/chat?room=1`) or an absolute URI: the asterisk-form `*` and the
    /// authority-form `host:port` name no resource (400).
    InvalidTarget,
    /// The request has a body (`Content-Length` above 0, or any `Transfer-Encoding`): after the head of an
    /// upgrade request come WebSocket frames, and nothing else may be taken for them (400).
    RequestBody,
    /// The request has no `Host` field (400).
    MissingHost,
    /// A field that may appear only once appears more than once (400).
    DuplicateHeader(&'static str),
    /// `Upgrade` does not list `websocket` (400).
    NotWebSocketUpgrade,
    /// `Connection` does not list `Upgrade` (400).
    ConnectionNotUpgrade,
    /// HTTP/2: a request with no `:protocol` or another one than `websocket` (400, RFC 8441 section 5).
    NotWebSocketConnect,
    /// HTTP/2: the named pseudo-header field (`:scheme`, `:path`) is missing or invalid (400, RFC 8441
    /// section 4).
    InvalidPseudoHeader(&'static str),
    /// HTTP/2: the request has the named connection-specific field, which HTTP/2 forbids (400, RFC 9113
    /// section 8.2.2).
    ConnectionSpecificHeader(&'static str),
    /// `Sec-WebSocket-Key` is missing or is not the base64 encoding of 16 bytes (400).
    InvalidKey,
    /// `Sec-WebSocket-Version` is missing or is not 13 (426, with `Sec-WebSocket-Version: 13`; in HTTP/2,
    /// which forbids the `Upgrade` a 426 must carry, 400 with `Sec-WebSocket-Version: 13`).
    UnsupportedVersion,
    /// The [`OriginPolicy`](super::OriginPolicy) refused the request's `Origin`, or the `Origin` is not UTF-8
    /// (403).
    OriginRefused,
    /// `Sec-WebSocket-Protocol` is not a list of tokens (400).
    InvalidProtocolHeader,
    /// `Sec-WebSocket-Extensions` does not follow RFC 6455 section 9.1 (400).
    InvalidExtensionHeader,
    /// An extension refused the client's offers as malformed (400).
    ExtensionNegotiation(NegotiationError),
    /// The server chose a subprotocol the client did not offer (500).
    ProtocolNotOffered(String),
    /// An extension factory answered with an element that is not valid in a header (500).
    InvalidExtensionResponse,
    /// Input was given after the handshake had already produced a request or an error (500).
    Finished,
}

impl ServerError {
    /// The HTTP status code to answer an HTTP/1.1 request with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            ServerError::HeadTooLarge | ServerError::TooManyHeaders => 431,
            ServerError::MethodNotAllowed => 405,
            ServerError::UnsupportedVersion => 426,
            ServerError::OriginRefused => 403,
            ServerError::ProtocolNotOffered(_)
            | ServerError::InvalidExtensionResponse
            | ServerError::Finished => 500,
            _ => 400,
        }
    }

    /// The HTTP status code to answer with in `version`: as [`status`](Self::status), except that an
    /// HTTP/2 request with the wrong `Sec-WebSocket-Version` gets 400 (a 426 must carry `Upgrade`, which
    /// HTTP/2 forbids).
    #[must_use]
    pub fn status_in(&self, version: HttpVersion) -> u16 {
        match (self, version) {
            (ServerError::UnsupportedVersion, HttpVersion::Http2) => 400,
            _ => self.status(),
        }
    }

    /// The fields the refusal requires in `version`: `Allow: GET` for a 405 (`Allow: CONNECT` in
    /// HTTP/2); `Upgrade: websocket` (HTTP/1.1 only) and `Sec-WebSocket-Version: 13` for the wrong version.
    fn required_fields(&self, version: HttpVersion) -> &'static [(&'static str, &'static str)] {
        let http2 = version == HttpVersion::Http2;
        match self {
            ServerError::MethodNotAllowed if http2 => &[("allow", "CONNECT")],
            ServerError::MethodNotAllowed => &[("Allow", "GET")],
            ServerError::UnsupportedVersion if http2 => &[("sec-websocket-version", "13")],
            ServerError::UnsupportedVersion => {
                &[("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")]
            }
            _ => &[],
        }
    }

    /// Every field of the refusal in `version` but `Content-Length` (which an HTTP layer writes from the
    /// body): the [required](Self::status_in) ones, `Content-Type: text/plain; charset=utf-8`, and in
    /// HTTP/1.x `Connection: close` (`Upgrade, close` beside an `Upgrade` field). HTTP/2 names are in
    /// lower case and carry no `Connection`. The same as [`to_response`](Self::to_response) writes.
    #[must_use]
    pub fn fields_in(&self, version: HttpVersion) -> Vec<(&'static str, &'static str)> {
        let mut fields = self.required_fields(version).to_vec();
        if version == HttpVersion::Http2 {
            fields.push(("content-type", CONTENT_TYPE));
        } else {
            let upgrade = fields.iter().any(|(name, _)| *name == "Upgrade");
            fields.push(("Content-Type", CONTENT_TYPE));
            fields.push((
                "Connection",
                if upgrade { "Upgrade, close" } else { "close" },
            ));
        }
        fields
    }

    /// The body of the refusal: why, as text, on one line.
    #[must_use]
    pub fn body(&self) -> String {
        alloc::format!("{self}\n")
    }

    /// The HTTP response refusing the handshake: the status, the fields it requires (`Allow: GET` for 405;
    /// `Upgrade: websocket` and `Sec-WebSocket-Version: 13` for 426), a `text/plain` body saying why, and
    /// `Connection: close`.
    #[must_use]
    pub fn to_response(&self) -> Vec<u8> {
        let fields = self.required_fields(HttpVersion::Http11);
        let body = self.body();
        let extra = fields.iter().map(|&(n, v)| (n, v.as_bytes()));
        response::write_error(self.status(), extra, Some(CONTENT_TYPE), body.as_bytes())
    }
}

impl From<RequestError> for ServerError {
    /// The same refusal: the heap-free handshake's errors are the rules both handshakes share.
    fn from(err: RequestError) -> ServerError {
        match err {
            RequestError::Malformed => ServerError::Malformed,
            RequestError::HeadTooLarge => ServerError::HeadTooLarge,
            RequestError::TooManyHeaders => ServerError::TooManyHeaders,
            RequestError::MethodNotAllowed => ServerError::MethodNotAllowed,
            RequestError::HttpVersion => ServerError::HttpVersion,
            RequestError::InvalidTarget => ServerError::InvalidTarget,
            RequestError::RequestBody => ServerError::RequestBody,
            RequestError::MissingHost => ServerError::MissingHost,
            RequestError::DuplicateHeader(name) => ServerError::DuplicateHeader(name),
            RequestError::NotWebSocketUpgrade => ServerError::NotWebSocketUpgrade,
            RequestError::ConnectionNotUpgrade => ServerError::ConnectionNotUpgrade,
            RequestError::InvalidKey => ServerError::InvalidKey,
            RequestError::UnsupportedVersion => ServerError::UnsupportedVersion,
            RequestError::OriginRefused => ServerError::OriginRefused,
            RequestError::InvalidProtocolHeader => ServerError::InvalidProtocolHeader,
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Malformed => f.write_str("malformed HTTP request"),
            ServerError::HeadTooLarge => f.write_str("request head too large"),
            ServerError::TooManyHeaders => f.write_str("too many request header fields"),
            ServerError::MethodNotAllowed => f.write_str("a WebSocket handshake must use GET"),
            ServerError::HttpVersion => f.write_str("a WebSocket handshake needs HTTP/1.1"),
            ServerError::InvalidTarget => {
                f.write_str("the request target must be a path or an absolute URI")
            }
            ServerError::RequestBody => f.write_str("an upgrade request must not have a body"),
            ServerError::MissingHost => f.write_str("missing Host header"),
            ServerError::DuplicateHeader(name) => write!(f, "duplicate {name} header"),
            ServerError::NotWebSocketUpgrade => {
                f.write_str("Upgrade header does not list websocket")
            }
            ServerError::ConnectionNotUpgrade => {
                f.write_str("Connection header does not list Upgrade")
            }
            ServerError::NotWebSocketConnect => {
                f.write_str("the CONNECT's :protocol is not websocket")
            }
            ServerError::InvalidPseudoHeader(name) => write!(f, "missing or invalid {name}"),
            ServerError::ConnectionSpecificHeader(name) => {
                write!(f, "HTTP/2 forbids the connection-specific field {name}")
            }
            ServerError::InvalidKey => f.write_str("missing or invalid Sec-WebSocket-Key"),
            ServerError::UnsupportedVersion => f.write_str("Sec-WebSocket-Version must be 13"),
            ServerError::OriginRefused => f.write_str("origin not allowed"),
            ServerError::InvalidProtocolHeader => f.write_str("malformed Sec-WebSocket-Protocol"),
            ServerError::InvalidExtensionHeader => {
                f.write_str("malformed Sec-WebSocket-Extensions")
            }
            ServerError::ExtensionNegotiation(err) => fmt::Display::fmt(err, f),
            ServerError::ProtocolNotOffered(protocol) => {
                write!(
                    f,
                    "server chose subprotocol {protocol:?}, which the client did not offer"
                )
            }
            ServerError::InvalidExtensionResponse => {
                f.write_str("extension produced an invalid response element")
            }
            ServerError::Finished => f.write_str("the handshake has already finished"),
        }
    }
}

impl core::error::Error for ServerError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ServerError::ExtensionNegotiation(err) => Some(err),
            _ => None,
        }
    }
}

/// Why a client refuses the server's answer to its opening handshake. The connection is closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// The response is not valid HTTP/1.x, or is HTTP/1.0.
    Malformed,
    /// The response head is over [`Limits::max_head_size`](super::Limits::max_head_size).
    HeadTooLarge,
    /// The response has more fields than [`Limits::max_headers`](super::Limits::max_headers).
    TooManyHeaders,
    /// The server answered with a status other than 101 (in HTTP/2, other than 2xx): an error, an
    /// authentication challenge or a redirect. Its head is kept for the caller to act on.
    Status {
        /// The status code, such as 401 or 302.
        code: u16,
        /// The reason phrase, possibly empty.
        reason: String,
        /// The response's fields (`WWW-Authenticate`, `Location`, `Retry-After`...).
        headers: Headers,
    },
    /// `Upgrade` does not list `websocket`.
    NotWebSocketUpgrade,
    /// `Connection` does not list `Upgrade`.
    ConnectionNotUpgrade,
    /// `Sec-WebSocket-Accept` is missing, repeated or does not match the key sent.
    InvalidAccept,
    /// `Sec-WebSocket-Protocol` is repeated, empty or not a single token.
    InvalidProtocolHeader,
    /// The server chose a subprotocol that was not offered (or offered none).
    UnexpectedProtocol(String),
    /// `Sec-WebSocket-Extensions` does not follow RFC 6455 section 9.1.
    InvalidExtensionHeader,
    /// The server accepted an extension that was not offered, accepted one twice, or accepted a second
    /// extension (a connection holds at most one).
    UnexpectedExtension(String),
    /// The offered extension refused the server's response element.
    ExtensionNegotiation(NegotiationError),
    /// Input was given after the handshake had already produced a result or an error.
    Finished,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Malformed => f.write_str("malformed HTTP response"),
            ClientError::HeadTooLarge => f.write_str("response head too large"),
            ClientError::TooManyHeaders => f.write_str("too many response header fields"),
            ClientError::Status { code, reason, .. } if reason.is_empty() => {
                write!(
                    f,
                    "server answered {code} instead of accepting the WebSocket"
                )
            }
            ClientError::Status { code, reason, .. } => {
                write!(
                    f,
                    "server answered {code} {reason} instead of accepting the WebSocket"
                )
            }
            ClientError::NotWebSocketUpgrade => {
                f.write_str("Upgrade header does not list websocket")
            }
            ClientError::ConnectionNotUpgrade => {
                f.write_str("Connection header does not list Upgrade")
            }
            ClientError::InvalidAccept => f.write_str("missing or wrong Sec-WebSocket-Accept"),
            ClientError::InvalidProtocolHeader => f.write_str("malformed Sec-WebSocket-Protocol"),
            ClientError::UnexpectedProtocol(protocol) => {
                write!(
                    f,
                    "server chose subprotocol {protocol:?}, which was not offered"
                )
            }
            ClientError::InvalidExtensionHeader => {
                f.write_str("malformed Sec-WebSocket-Extensions")
            }
            ClientError::UnexpectedExtension(name) => {
                write!(
                    f,
                    "server accepted extension {name:?}, which was not offered (or not once)"
                )
            }
            ClientError::ExtensionNegotiation(err) => fmt::Display::fmt(err, f),
            ClientError::Finished => f.write_str("the handshake has already finished"),
        }
    }
}

impl core::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ClientError::ExtensionNegotiation(err) => Some(err),
            _ => None,
        }
    }
}

pub use crate::handshake_rules::BuildError;
