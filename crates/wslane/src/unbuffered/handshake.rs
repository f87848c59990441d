//! The opening handshake without a heap, for both roles.
//!
//! Heads are parsed in the manner of httparse: the caller keeps the received bytes in its own buffer
//! and parses them again, with an array of [`Header`]s for the fields, until the head is complete
//! ([`Status::Partial`] is a status, not an error). The parsed head borrows the caller's buffer; the
//! bytes after it ([`Request::head_len`], [`Response::head_len`]) are the first frames, for the
//! connection. Answers are written into a caller's buffer; when it is too small, the error says how
//! large it must be and nothing is written (rustls' unbuffered API). The caller bounds the head by the
//! size of its buffer: a buffer full of an incomplete head is [`RequestError::HeadTooLarge`] (or
//! [`ResponseError::HeadTooLarge`]).
//!
//! The rules are the buffered handshake's ([`crate::handshake`], `alloc`), checked by the same
//! functions. What this one leaves out: extensions (none is offered or accepted, which RFC 6455 allows)
//! and the origin policy (the server reads [`Request::origin`] and refuses with
//! [`RequestError::OriginRefused`] itself).
//!
//! ```
//! use wslane::unbuffered::handshake::{parse_request, ClientRequest, Status, EMPTY_HEADER};
//!
//! // The client writes its request into a buffer of its own.
//! let mut request = [0; 256];
//! let offer = ClientRequest::new("example.com", "/chat")?.protocols(&["chat.v1"])?;
//! let (len, client) = offer.write(*b"sixteen random b", &mut request)?;
//!
//! // The server parses it into a header array and writes its answer.
//! let mut headers = [EMPTY_HEADER; 16];
//! let Status::Complete(req) = parse_request(&request[..len], &mut headers)? else {
//!     panic!("a whole head");
//! };
//! assert_eq!(req.target(), "/chat");
//! let mut response = [0; 256];
//! let n = req.accept(Some("chat.v1"), &[], &mut response)?;
//!
//! // The client checks it.
//! let mut headers = [EMPTY_HEADER; 16];
//! let Status::Complete(res) = client.parse_response(&response[..n], &mut headers)? else {
//!     panic!("a whole head");
//! };
//! assert_eq!(res.protocol(), Some("chat.v1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt::{self, Write as _};

pub use httparse::{Header, Status, EMPTY_HEADER};

pub use crate::handshake_rules::BuildError;
use crate::handshake_rules::{
    self as rules, check_extra, check_offered_protocols, is_field_value, write_error, write_field,
    write_into, write_status_line, ProtocolChoice, ACCEPT_LEN,
};

/// The caller's output buffer is too small: `needed` bytes are required. Nothing was written. The
/// caller's fault, not the peer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// The size the buffer must have.
    pub needed: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "output buffer too small: {} bytes needed", self.needed)
    }
}

impl core::error::Error for BufferTooSmall {}

/// Why a server refuses a client's upgrade request: the client's fault, answered with
/// [`status`](Self::status) by [`write_response`](Self::write_response), after which the connection is
/// closed. The buffered handshake's [`ServerError`](crate::handshake::ServerError) converts from it and
/// answers each alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestError {
    /// The request is not valid HTTP/1.x, or its `Host` is not UTF-8 (400).
    Malformed,
    /// The request head does not fit the buffer (431).
    HeadTooLarge,
    /// The request has more fields than the header array holds (431).
    TooManyHeaders,
    /// The method is not `GET` (405, with `Allow: GET`).
    MethodNotAllowed,
    /// The request is HTTP/1.0 (400).
    HttpVersion,
    /// The request target is not a path or an absolute URI (400).
    InvalidTarget,
    /// The request has a body (400).
    RequestBody,
    /// The request has no `Host` field (400).
    MissingHost,
    /// A field that may appear only once appears more than once (400).
    DuplicateHeader(&'static str),
    /// `Upgrade` does not list `websocket` (400).
    NotWebSocketUpgrade,
    /// `Connection` does not list `Upgrade` (400).
    ConnectionNotUpgrade,
    /// `Sec-WebSocket-Key` is missing or is not the base64 encoding of 16 bytes (400).
    InvalidKey,
    /// `Sec-WebSocket-Version` is missing or is not 13 (426, with `Upgrade: websocket` and
    /// `Sec-WebSocket-Version: 13`).
    UnsupportedVersion,
    /// The `Origin` is not UTF-8, or the server's own policy refuses it (403).
    OriginRefused,
    /// `Sec-WebSocket-Protocol` is not a list of tokens (400).
    InvalidProtocolHeader,
}

impl RequestError {
    /// The HTTP status code to answer with.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            RequestError::HeadTooLarge | RequestError::TooManyHeaders => 431,
            RequestError::MethodNotAllowed => 405,
            RequestError::UnsupportedVersion => 426,
            RequestError::OriginRefused => 403,
            _ => 400,
        }
    }

    /// Writes the HTTP response refusing the handshake into `out` and returns its length: the status,
    /// the fields it requires (`Allow: GET` for 405; `Upgrade: websocket` and `Sec-WebSocket-Version: 13`
    /// for 426), a `text/plain` body saying why, and `Connection: close`. The same bytes as the buffered
    /// handshake's [`ServerError::to_response`](crate::handshake::ServerError::to_response).
    pub fn write_response(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        write_into(out, |w| {
            // The body's length is needed first: count it.
            let mut body = rules::ByteSink::counter();
            writeln!(body, "{self}")?;
            let fields = rules::required_fields(self)
                .iter()
                .map(|&(n, v)| (n, v.as_bytes()));
            write_error_with_body(w, self.status(), fields, body.len(), |w| {
                writeln!(w, "{self}")
            })
        })
        .map_err(|needed| BufferTooSmall { needed })
    }
}

/// [`write_error`] with a body written by `body` (of `len` bytes) rather than given as bytes.
fn write_error_with_body<'a>(
    w: &mut rules::ByteSink<'_>,
    status: u16,
    fields: impl Iterator<Item = (&'a str, &'a [u8])>,
    len: usize,
    body: impl Fn(&mut rules::ByteSink<'_>) -> fmt::Result,
) -> fmt::Result {
    write_status_line(w, status)?;
    let mut upgrade = false;
    for (name, value) in fields {
        upgrade |= name.eq_ignore_ascii_case("upgrade");
        write_field(w, name, value)?;
    }
    write_field(w, "Content-Type", CONTENT_TYPE.as_bytes())?;
    write!(w, "Content-Length: {len}\r\n")?;
    let connection: &[u8] = if upgrade { b"Upgrade, close" } else { b"close" };
    write_field(w, "Connection", connection)?;
    w.write_str("\r\n")?;
    body(w)
}

/// The content type of a refusal's body.
const CONTENT_TYPE: &str = "text/plain; charset=utf-8";

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Malformed => f.write_str("malformed HTTP request"),
            RequestError::HeadTooLarge => f.write_str("request head too large"),
            RequestError::TooManyHeaders => f.write_str("too many request header fields"),
            RequestError::MethodNotAllowed => f.write_str("a WebSocket handshake must use GET"),
            RequestError::HttpVersion => f.write_str("a WebSocket handshake needs HTTP/1.1"),
            RequestError::InvalidTarget => {
                f.write_str("the request target must be a path or an absolute URI")
            }
            RequestError::RequestBody => f.write_str("an upgrade request must not have a body"),
            RequestError::MissingHost => f.write_str("missing Host header"),
            RequestError::DuplicateHeader(name) => write!(f, "duplicate {name} header"),
            RequestError::NotWebSocketUpgrade => {
                f.write_str("Upgrade header does not list websocket")
            }
            RequestError::ConnectionNotUpgrade => {
                f.write_str("Connection header does not list Upgrade")
            }
            RequestError::InvalidKey => f.write_str("missing or invalid Sec-WebSocket-Key"),
            RequestError::UnsupportedVersion => f.write_str("Sec-WebSocket-Version must be 13"),
            RequestError::OriginRefused => f.write_str("origin not allowed"),
            RequestError::InvalidProtocolHeader => f.write_str("malformed Sec-WebSocket-Protocol"),
        }
    }
}

impl core::error::Error for RequestError {}

impl From<httparse::Error> for RequestError {
    fn from(err: httparse::Error) -> RequestError {
        match err {
            httparse::Error::TooManyHeaders => RequestError::TooManyHeaders,
            _ => RequestError::Malformed,
        }
    }
}

/// Why a client refuses the server's answer: the server's fault. The connection is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseError {
    /// The response is not valid HTTP/1.x, or is HTTP/1.0.
    Malformed,
    /// The response head does not fit the buffer.
    HeadTooLarge,
    /// The response has more fields than the header array holds.
    TooManyHeaders,
    /// The server answered with a status other than 101 (an error, a challenge, a redirect).
    Status(u16),
    /// `Upgrade` does not list `websocket`.
    NotWebSocketUpgrade,
    /// `Connection` does not list `Upgrade`.
    ConnectionNotUpgrade,
    /// `Sec-WebSocket-Accept` is missing, repeated or does not match the key sent.
    InvalidAccept,
    /// `Sec-WebSocket-Protocol` is repeated, empty or not a single token.
    InvalidProtocolHeader,
    /// The server chose a subprotocol that was not offered.
    UnexpectedProtocol,
    /// The server accepted an extension, though none was offered.
    UnexpectedExtension,
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::Malformed => f.write_str("malformed HTTP response"),
            ResponseError::HeadTooLarge => f.write_str("response head too large"),
            ResponseError::TooManyHeaders => f.write_str("too many response header fields"),
            ResponseError::Status(code) => write!(f, "server answered {code} instead of 101"),
            ResponseError::NotWebSocketUpgrade => {
                f.write_str("Upgrade header does not list websocket")
            }
            ResponseError::ConnectionNotUpgrade => {
                f.write_str("Connection header does not list Upgrade")
            }
            ResponseError::InvalidAccept => f.write_str("missing or wrong Sec-WebSocket-Accept"),
            ResponseError::InvalidProtocolHeader => f.write_str("malformed Sec-WebSocket-Protocol"),
            ResponseError::UnexpectedProtocol => {
                f.write_str("server chose a subprotocol that was not offered")
            }
            ResponseError::UnexpectedExtension => {
                f.write_str("server accepted an extension that was not offered")
            }
        }
    }
}

impl core::error::Error for ResponseError {}

impl From<httparse::Error> for ResponseError {
    fn from(err: httparse::Error) -> ResponseError {
        match err {
            httparse::Error::TooManyHeaders => ResponseError::TooManyHeaders,
            _ => ResponseError::Malformed,
        }
    }
}

/// Why a server cannot accept a request as asked: the caller's fault. Nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcceptError {
    /// The output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// The size the buffer must have.
        needed: usize,
    },
    /// The subprotocol chosen is not one the client offered (the buffered handshake answers 500).
    ProtocolNotOffered,
    /// An extra field is invalid or one the handshake writes itself.
    Build(BuildError),
}

impl fmt::Display for AcceptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcceptError::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            AcceptError::ProtocolNotOffered => {
                f.write_str("the subprotocol chosen was not offered by the client")
            }
            AcceptError::Build(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl core::error::Error for AcceptError {}

/// Parses and checks an upgrade request at the start of `buf`, its fields into `headers`.
///
/// Returns [`Status::Partial`] while the head is incomplete (read more into the same buffer and call
/// again), and the checked [`Request`] once it is complete. The checks are those of the buffered
/// [`ServerHandshake`](crate::handshake::ServerHandshake) (RFC 6455 section 4.2.1), the same functions,
/// and the `Origin` field is checked to be single and UTF-8. A `Sec-WebSocket-Extensions` offer is
/// declined (not answered).
pub fn parse_request<'h, 'b>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
) -> Result<Status<Request<'h, 'b>>, RequestError> {
    let mut request = httparse::Request::new(headers);
    let head_len = match request.parse(buf)? {
        Status::Partial => return Ok(Status::Partial),
        Status::Complete(len) => len,
    };
    let method = request.method.unwrap_or_default();
    let target = request.path.unwrap_or_default();
    let minor = request.version.unwrap_or_default();
    let headers: &'h [Header<'b>] = request.headers;
    let facts = rules::check_request(method, target, minor, headers)?;
    let origin = rules::origin(headers)?;
    rules::check_protocol_offers(headers)?;
    Ok(Status::Complete(Request {
        target,
        host: facts.host,
        key: facts.key,
        origin,
        headers,
        head_len,
    }))
}

/// A valid upgrade request, borrowed from the caller's buffer and header array.
#[derive(Clone, Copy, Debug)]
pub struct Request<'h, 'b> {
    target: &'b str,
    host: &'h str,
    key: &'h str,
    origin: Option<&'h str>,
    headers: &'h [Header<'b>],
    head_len: usize,
}

impl<'h, 'b> Request<'h, 'b> {
    /// The request target, such as `/chat?room=1`.
    #[must_use]
    pub fn target(&self) -> &'b str {
        self.target
    }

    /// The `Host` field.
    #[must_use]
    pub fn host(&self) -> &'h str {
        self.host
    }

    /// The `Sec-WebSocket-Key` field.
    #[must_use]
    pub fn key(&self) -> &'h str {
        self.key
    }

    /// The `Origin` field, if the client sent one (browsers always do).
    #[must_use]
    pub fn origin(&self) -> Option<&'h str> {
        self.origin
    }

    /// Every header field, in order.
    #[must_use]
    pub fn headers(&self) -> &'h [Header<'b>] {
        self.headers
    }

    /// The value of the first field named `name` (ASCII case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'h [u8]> {
        rules::each(self.headers)
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The subprotocols the client offered, in its order of preference (every one a token).
    pub fn protocols(&self) -> impl Iterator<Item = &'h str> + 'h {
        rules::all(self.headers, "sec-websocket-protocol")
            .flat_map(rules::protocol_tokens)
            .filter_map(Result::ok)
    }

    /// The length of the request head: the bytes after it in the buffer are the client's first frames.
    #[must_use]
    pub fn head_len(&self) -> usize {
        self.head_len
    }

    /// Writes the 101 response accepting the request into `out` and returns its length: `Upgrade`,
    /// `Connection`, `Sec-WebSocket-Accept`, the chosen `protocol` (one the client offered) and `extra`
    /// fields (names must be tokens, values free of control characters, and not fields the handshake
    /// writes itself). On an error nothing is written.
    pub fn accept(
        &self,
        protocol: Option<&str>,
        extra: &[(&str, &str)],
        out: &mut [u8],
    ) -> Result<usize, AcceptError> {
        if let Some(protocol) = protocol {
            if !self.protocols().any(|offered| offered == protocol) {
                return Err(AcceptError::ProtocolNotOffered);
            }
        }
        for (name, value) in extra {
            check_extra(name, value).map_err(AcceptError::Build)?;
        }
        let accept = rules::accept_key(self.key.as_bytes());
        write_into(out, |w| {
            write_accept(w, &accept, protocol, extra.iter().map(|&(n, v)| (n, v)))
        })
        .map_err(|needed| AcceptError::BufferTooSmall { needed })
    }
}

/// The 101 response: the same bytes as the buffered handshake writes.
pub(crate) fn write_accept<'a>(
    w: &mut rules::ByteSink<'_>,
    accept: &[u8; ACCEPT_LEN],
    protocol: Option<&str>,
    extra: impl Iterator<Item = (&'a str, &'a str)>,
) -> fmt::Result {
    write_status_line(w, 101)?;
    write_field(w, "Upgrade", b"websocket")?;
    write_field(w, "Connection", b"Upgrade")?;
    write_field(w, "Sec-WebSocket-Accept", accept)?;
    if let Some(protocol) = protocol {
        write_field(w, "Sec-WebSocket-Protocol", protocol.as_bytes())?;
    }
    for (name, value) in extra {
        write_field(w, name, value.as_bytes())?;
    }
    w.write_str("\r\n")
}

/// A refusal of the server's own (401, 503...), written into `out`: the status line, `extra` fields, a
/// `text/plain` body of the reason phrase (or `body`), `Content-Length` and `Connection: close`.
/// Fails with [`BuildError::InvalidStatus`] outside 400..=599 or an invalid field, and with
/// [`AcceptError::BufferTooSmall`] when `out` is too small; nothing is written then.
pub fn write_rejection(
    status: u16,
    extra: &[(&str, &str)],
    body: Option<&[u8]>,
    out: &mut [u8],
) -> Result<usize, AcceptError> {
    if !(400..=599).contains(&status) {
        return Err(AcceptError::Build(BuildError::InvalidStatus(status)));
    }
    for (name, value) in extra {
        check_extra(name, value).map_err(AcceptError::Build)?;
    }
    let has_type = extra
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    let content_type = (!has_type).then_some(CONTENT_TYPE);
    write_into(out, |w| {
        let fields = extra.iter().map(|&(n, v)| (n, v.as_bytes()));
        match body {
            Some(body) => write_error(w, status, fields, content_type, body),
            None => {
                let reason = rules::reason(status);
                let mut text = [0u8; 40];
                let len = reason.len().min(text.len() - 1);
                text[..len].copy_from_slice(&reason.as_bytes()[..len]);
                text[len] = b'\n';
                write_error(w, status, fields, content_type, &text[..=len])
            }
        }
    })
    .map_err(|needed| AcceptError::BufferTooSmall { needed })
}

/// A client's upgrade request, all borrowed: [`write`](Self::write) puts it into a caller's buffer.
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'a> {
    host: &'a str,
    resource: &'a str,
    origin: Option<&'a str>,
    protocols: &'a [&'a str],
    headers: &'a [(&'a str, &'a str)],
}

impl<'a> ClientRequest<'a> {
    /// A request for `resource` (such as `/chat?room=1`) on `host` (the `Host` field: the host, with
    /// `:port` when not the scheme's default), with no `Origin`, subprotocols or extra fields. Fails
    /// with [`BuildError::InvalidHeaderValue`] when either has a control character or a space (it would
    /// break the request line or inject a field), or the resource does not start with `/`.
    pub fn new(host: &'a str, resource: &'a str) -> Result<ClientRequest<'a>, BuildError> {
        let clean = |s: &str| !s.is_empty() && s.bytes().all(|b| b > b' ' && b != 0x7f);
        if !clean(host) || !clean(resource) || !resource.starts_with('/') {
            return Err(BuildError::InvalidHeaderValue);
        }
        Ok(ClientRequest {
            host,
            resource,
            origin: None,
            protocols: &[],
            headers: &[],
        })
    }

    /// Sends an `Origin` field, as a browser would.
    pub fn origin(mut self, origin: &'a str) -> Result<ClientRequest<'a>, BuildError> {
        if !is_field_value(origin) {
            return Err(BuildError::InvalidHeaderValue);
        }
        self.origin = Some(origin);
        Ok(self)
    }

    /// Offers subprotocols, most preferred first: each a token, none twice.
    pub fn protocols(mut self, protocols: &'a [&'a str]) -> Result<ClientRequest<'a>, BuildError> {
        check_offered_protocols(protocols)?;
        self.protocols = protocols;
        Ok(self)
    }

    /// The subprotocols offered, most preferred first.
    #[must_use]
    pub fn offered_protocols(&self) -> &'a [&'a str] {
        self.protocols
    }

    /// Adds fields (cookies, credentials): names must be tokens, values free of control characters,
    /// and none a field the handshake writes itself.
    pub fn headers(
        mut self,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<ClientRequest<'a>, BuildError> {
        for (name, value) in headers {
            check_extra(name, value)?;
        }
        self.headers = headers;
        Ok(self)
    }

    /// Writes the request into `out` with `Sec-WebSocket-Key` made from `nonce` (16 bytes from a good
    /// random source), and returns its length with the handshake waiting for the answer. When `out` is
    /// too small, nothing is written and the error says how large it must be.
    pub fn write(
        &self,
        nonce: [u8; 16],
        out: &mut [u8],
    ) -> Result<(usize, ClientHandshake<'a>), BufferTooSmall> {
        let key = rules::client_key(nonce);
        let len = write_into(out, |w| {
            write_request(
                w,
                self.resource,
                self.host,
                &key,
                self.origin,
                self.protocols.iter().copied(),
                self.headers.iter().copied(),
            )
        })
        .map_err(|needed| BufferTooSmall { needed })?;
        let handshake = ClientHandshake {
            accept: rules::accept_key(&key),
            protocols: self.protocols,
        };
        Ok((len, handshake))
    }
}

/// The upgrade request: the same bytes as the buffered handshake writes, without extensions.
pub(crate) fn write_request<'a>(
    w: &mut rules::ByteSink<'_>,
    resource: &str,
    host: &str,
    key: &[u8],
    origin: Option<&str>,
    mut protocols: impl Iterator<Item = &'a str>,
    extra: impl Iterator<Item = (&'a str, &'a str)>,
) -> fmt::Result {
    w.write_str("GET ")?;
    w.write_str(resource)?;
    w.write_str(" HTTP/1.1\r\n")?;
    write_field(w, "Host", host.as_bytes())?;
    write_field(w, "Upgrade", b"websocket")?;
    write_field(w, "Connection", b"Upgrade")?;
    write_field(w, "Sec-WebSocket-Key", key)?;
    write_field(w, "Sec-WebSocket-Version", b"13")?;
    if let Some(origin) = origin {
        write_field(w, "Origin", origin.as_bytes())?;
    }
    if let Some(first) = protocols.next() {
        w.write_str("Sec-WebSocket-Protocol: ")?;
        w.write_str(first)?;
        for protocol in protocols {
            w.write_str(", ")?;
            w.write_str(protocol)?;
        }
        w.write_str("\r\n")?;
    }
    for (name, value) in extra {
        write_field(w, name, value.as_bytes())?;
    }
    w.write_str("\r\n")
}

/// The client's side after the request was written: checks the server's answer.
#[derive(Clone, Copy, Debug)]
pub struct ClientHandshake<'a> {
    accept: [u8; ACCEPT_LEN],
    protocols: &'a [&'a str],
}

impl ClientHandshake<'_> {
    /// Parses and checks the server's response at the start of `buf`, its fields into `headers`:
    /// [`Status::Partial`] while the head is incomplete, the checked [`Response`] once it is complete.
    /// The checks are the buffered [`ClientHandshake`](crate::handshake::ClientHandshake)'s (RFC 6455
    /// section 4.1), the same functions; as no extension was offered, any accepted one is refused.
    pub fn parse_response<'h, 'b>(
        &self,
        buf: &'b [u8],
        headers: &'h mut [Header<'b>],
    ) -> Result<Status<Response<'h, 'b>>, ResponseError> {
        let mut response = httparse::Response::new(headers);
        let head_len = match response.parse(buf)? {
            Status::Partial => return Ok(Status::Partial),
            Status::Complete(len) => len,
        };
        let code = response.code.unwrap_or_default();
        let minor = response.version.unwrap_or_default();
        let headers: &'h [Header<'b>] = response.headers;
        rules::check_response(code, minor, headers, &self.accept)?;
        let protocol =
            rules::chosen_protocol(headers, |p| self.protocols.contains(&p)).map_err(|err| {
                match err {
                    ProtocolChoice::Invalid => ResponseError::InvalidProtocolHeader,
                    ProtocolChoice::NotOffered(_) => ResponseError::UnexpectedProtocol,
                }
            })?;
        if rules::all(headers, "sec-websocket-extensions")
            .flat_map(rules::list_elements)
            .next()
            .is_some()
        {
            return Err(ResponseError::UnexpectedExtension);
        }
        Ok(Status::Complete(Response {
            protocol,
            headers,
            head_len,
        }))
    }
}

/// A valid 101 response, borrowed from the caller's buffer and header array.
#[derive(Clone, Copy, Debug)]
pub struct Response<'h, 'b> {
    protocol: Option<&'h str>,
    headers: &'h [Header<'b>],
    head_len: usize,
}

impl<'h, 'b> Response<'h, 'b> {
    /// The subprotocol the server chose, one of those offered.
    #[must_use]
    pub fn protocol(&self) -> Option<&'h str> {
        self.protocol
    }

    /// Every header field, in order.
    #[must_use]
    pub fn headers(&self) -> &'h [Header<'b>] {
        self.headers
    }

    /// The length of the response head: the bytes after it in the buffer are the server's first frames.
    #[must_use]
    pub fn head_len(&self) -> usize {
        self.head_len
    }
}
