//! The rules of the opening handshake (RFC 6455 section 4), in one place, without a heap.
//!
//! Both handshakes check heads with these functions: the buffered one in [`handshake`](crate::handshake)
//! (`alloc`) over its owned [`Headers`](crate::handshake::Headers), and the heap-free one in
//! [`unbuffered::handshake`](crate::unbuffered::handshake) over httparse's header array borrowed from the
//! caller's buffer. A field list is anything that implements [`Fields`]; the checks return the heap-free
//! error types, which the buffered handshake converts into its own.

use core::fmt::{self, Write as _};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::unbuffered::handshake::{RequestError, ResponseError};

/// The GUID that RFC 6455 appends to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The length of a `Sec-WebSocket-Key` (16 bytes in base64) .
pub(crate) const KEY_LEN: usize = 24;
/// The length of a `Sec-WebSocket-Accept` (a SHA-1 digest in base64).
pub(crate) const ACCEPT_LEN: usize = 28;

/// A list of header fields, read by index, in the order received.
pub(crate) trait Fields {
    /// The `i`th field's name and value, or `None` past the end.
    fn field(&self, i: usize) -> Option<(&str, &[u8])>;
}

impl Fields for [httparse::Header<'_>] {
    fn field(&self, i: usize) -> Option<(&str, &[u8])> {
        self.get(i).map(|h| (h.name, h.value))
    }
}

/// Every field of `fields`, in order.
pub(crate) fn each<F: Fields + ?Sized>(fields: &F) -> impl Iterator<Item = (&str, &[u8])> {
    (0..).map_while(move |i| fields.field(i))
}

/// The values of every field named `name` (ASCII case-insensitive), in order.
pub(crate) fn all<'a, F: Fields + ?Sized>(
    fields: &'a F,
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    each(fields)
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The value of the field named `name` (whitespace trimmed) when there is exactly one such field;
/// `Err(n)` with the number of fields otherwise.
pub(crate) fn single<'a, F: Fields + ?Sized>(fields: &'a F, name: &str) -> Result<&'a [u8], usize> {
    let mut found = None;
    let mut count = 0usize;
    for (_, value) in each(fields).filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
        count = count.saturating_add(1);
        found = Some(value.trim_ascii());
    }
    match found {
        Some(value) if count == 1 => Ok(value),
        _ => Err(count),
    }
}

/// The one field named `name`: `Ok(None)` when absent, [`RequestError::DuplicateHeader`] when repeated.
pub(crate) fn at_most_one<'a, F: Fields + ?Sized>(
    fields: &'a F,
    name: &'static str,
) -> Result<Option<&'a [u8]>, RequestError> {
    match single(fields, name) {
        Ok(value) => Ok(Some(value)),
        Err(0) => Ok(None),
        Err(_) => Err(RequestError::DuplicateHeader(name)),
    }
}

/// Whether some field named `name` lists `token` (ASCII case-insensitive), as `Connection: keep-alive,
/// Upgrade` lists `upgrade`.
pub(crate) fn has_token<F: Fields + ?Sized>(fields: &F, name: &str, token: &str) -> bool {
    each(fields)
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| list_elements(v))
        .any(|element| element.eq_ignore_ascii_case(token.as_bytes()))
}

/// The non-empty elements of a comma-separated list (`#rule` of RFC 7230 section 7), whitespace trimmed.
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|element| element.trim_ascii())
        .filter(|element| !element.is_empty())
}

/// The elements of a `Sec-WebSocket-Protocol` value, each a token or `Err(())`.
pub(crate) fn protocol_tokens(value: &[u8]) -> impl Iterator<Item = Result<&str, ()>> {
    list_elements(value).map(|element| match core::str::from_utf8(element) {
        Ok(token) if is_token(token) => Ok(token),
        _ => Err(()),
    })
}

/// Whether `s` is an HTTP token (RFC 7230 section 3.2.6).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header field value that cannot end the line early or inject another field: visible characters,
/// spaces, tabs and non-ASCII text.
pub(crate) fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= b' ' && b != 0x7f))
}

/// Header names the handshake writes itself; a caller may not add them.
const RESERVED: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "content-length",
    "transfer-encoding",
    "origin",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

/// Checks a header a caller wants to add to a request or response.
pub(crate) fn check_extra(name: &str, value: &str) -> Result<(), BuildError> {
    if !is_token(name) {
        return Err(BuildError::InvalidHeaderName);
    }
    if !is_field_value(value) {
        return Err(BuildError::InvalidHeaderValue);
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(BuildError::ReservedHeader);
    }
    Ok(())
}

/// A request, response or header this crate will not write, because it would be invalid HTTP or would
/// break the handshake. Local misuse (the caller's fault): nothing was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A header name that is not an HTTP token.
    InvalidHeaderName,
    /// A header value with a line break or another control character (it could inject a field).
    InvalidHeaderValue,
    /// A header the handshake writes itself (`Host`, `Upgrade`, `Connection`, `Content-Length`,
    /// `Transfer-Encoding`, `Origin`, `Sec-WebSocket-*`); use the dedicated setter where there is one.
    ReservedHeader,
    /// A rejection status outside 400..=599.
    InvalidStatus(u16),
    /// A subprotocol that is not a token, or is offered twice.
    InvalidProtocol,
    /// An extension factory's offer has a name, parameter or value that is not a token.
    InvalidExtensionOffer,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::InvalidHeaderName => f.write_str("header name is not a token"),
            BuildError::InvalidHeaderValue => f.write_str("header value has control characters"),
            BuildError::ReservedHeader => f.write_str("header is written by the handshake itself"),
            BuildError::InvalidStatus(code) => {
                write!(f, "status {code} is not a 4xx or 5xx rejection")
            }
            BuildError::InvalidProtocol => f.write_str("subprotocol is not a token or is repeated"),
            BuildError::InvalidExtensionOffer => {
                f.write_str("extension offer is not made of tokens")
            }
        }
    }
}

impl core::error::Error for BuildError {}

/// Checks the subprotocols a client offers: each a token, none twice.
pub(crate) fn check_offered_protocols(protocols: &[&str]) -> Result<(), BuildError> {
    for (i, protocol) in protocols.iter().enumerate() {
        let repeated = protocols.get(..i).unwrap_or_default().contains(protocol);
        if !is_token(protocol) || repeated {
            return Err(BuildError::InvalidProtocol);
        }
    }
    Ok(())
}

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
pub(crate) fn accept_key(key: &[u8]) -> [u8; ACCEPT_LEN] {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key);
    sha1.update(GUID);
    let mut out = [0; ACCEPT_LEN];
    // 20 bytes always encode to 28 characters.
    let _ = STANDARD.encode_slice(sha1.digest().bytes(), &mut out);
    out
}

/// The `Sec-WebSocket-Key` for a client's 16 random bytes.
pub(crate) fn client_key(nonce: [u8; 16]) -> [u8; KEY_LEN] {
    let mut out = [0; KEY_LEN];
    // 16 bytes always encode to 24 characters.
    let _ = STANDARD.encode_slice(nonce, &mut out);
    out
}

/// Whether a received `Sec-WebSocket-Key` is the base64 encoding of exactly 16 bytes.
pub(crate) fn is_valid_key(key: &[u8]) -> bool {
    // Any 16 bytes encode to 24 characters; checking the length first bounds the work on hostile input.
    let mut nonce = [0; 18];
    key.len() == KEY_LEN && STANDARD.decode_slice(key, &mut nonce) == Ok(16)
}

/// Whether `target` names a resource: the origin-form (`/path?query`) or the absolute-form
/// (`ws://host/path`, which RFC 9112 section 3.2.2 asks servers to accept). Not the asterisk-form (`*`)
/// or the authority-form (`host:port`).
pub(crate) fn is_resource_target(target: &str) -> bool {
    target.starts_with('/') || target.contains("://")
}

/// What a valid HTTP/1.1 upgrade request settles: its `Host` and `Sec-WebSocket-Key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestFacts<'a> {
    pub(crate) host: &'a str,
    pub(crate) key: &'a str,
}

/// Checks an RFC 6455 request (section 4.2.1) given as method, target, minor version and fields, in this
/// order: method `GET` (405), HTTP/1.1 or later, one `Host`, `Upgrade` listing `websocket`, `Connection`
/// listing `Upgrade`, a resource target, no body, exactly one `Sec-WebSocket-Version: 13` (426), one
/// `Sec-WebSocket-Key` of 16 base64-encoded bytes (400 for the rest).
pub(crate) fn check_request<'a, F: Fields + ?Sized>(
    method: &str,
    target: &str,
    minor_version: u8,
    fields: &'a F,
) -> Result<RequestFacts<'a>, RequestError> {
    if method != "GET" {
        return Err(RequestError::MethodNotAllowed);
    }
    if minor_version < 1 {
        return Err(RequestError::HttpVersion);
    }
    let host = at_most_one(fields, "Host")?.ok_or(RequestError::MissingHost)?;
    let host = core::str::from_utf8(host).map_err(|_| RequestError::Malformed)?;
    if !has_token(fields, "upgrade", "websocket") {
        return Err(RequestError::NotWebSocketUpgrade);
    }
    if !has_token(fields, "connection", "upgrade") {
        return Err(RequestError::ConnectionNotUpgrade);
    }
    if !is_resource_target(target) {
        return Err(RequestError::InvalidTarget);
    }
    check_body_and_version(fields)?;
    let key = at_most_one(fields, "Sec-WebSocket-Key")?
        .filter(|key| is_valid_key(key))
        .and_then(|key| core::str::from_utf8(key).ok())
        .ok_or(RequestError::InvalidKey)?;
    Ok(RequestFacts { host, key })
}

/// The rules both forms of the request share before the offers: no body, and exactly one
/// `Sec-WebSocket-Version: 13` (RFC 6455 section 4.2.1 item 6, which RFC 8441 section 5 keeps).
pub(crate) fn check_body_and_version<F: Fields + ?Sized>(fields: &F) -> Result<(), RequestError> {
    if has_body(fields)? {
        return Err(RequestError::RequestBody);
    }
    if single(fields, "sec-websocket-version") != Ok(b"13") {
        return Err(RequestError::UnsupportedVersion);
    }
    Ok(())
}

/// Whether the request announces a body: any `Transfer-Encoding`, or a `Content-Length` other than 0
/// (one that is not a number is refused too: the end of the head would be ambiguous).
fn has_body<F: Fields + ?Sized>(fields: &F) -> Result<bool, RequestError> {
    if all(fields, "transfer-encoding").next().is_some() {
        return Ok(true);
    }
    Ok(match at_most_one(fields, "Content-Length")? {
        None => false,
        Some(value) => value.is_empty() || value.iter().any(|&b| b != b'0'),
    })
}

/// The request's `Origin`, if any: at most one, UTF-8 (else the origin is refused, 403).
pub(crate) fn origin<F: Fields + ?Sized>(fields: &F) -> Result<Option<&str>, RequestError> {
    match at_most_one(fields, "Origin")? {
        Some(origin) => core::str::from_utf8(origin)
            .map(Some)
            .map_err(|_| RequestError::OriginRefused),
        None => Ok(None),
    }
}

/// Checks that every `Sec-WebSocket-Protocol` field is a list of tokens.
pub(crate) fn check_protocol_offers<F: Fields + ?Sized>(fields: &F) -> Result<(), RequestError> {
    let bad = all(fields, "sec-websocket-protocol")
        .flat_map(protocol_tokens)
        .any(|token| token.is_err());
    if bad {
        return Err(RequestError::InvalidProtocolHeader);
    }
    Ok(())
}

/// Checks a server's response (RFC 6455 section 4.1, items 1 to 4 of the client's checks): status 101,
/// HTTP/1.1, `Upgrade` listing `websocket`, `Connection` listing `Upgrade`, exactly one
/// `Sec-WebSocket-Accept` equal to `accept`.
pub(crate) fn check_response<F: Fields + ?Sized>(
    code: u16,
    minor_version: u8,
    fields: &F,
    accept: &[u8],
) -> Result<(), ResponseError> {
    if code != 101 {
        return Err(ResponseError::Status(code));
    }
    if minor_version < 1 {
        return Err(ResponseError::Malformed);
    }
    if !has_token(fields, "upgrade", "websocket") {
        return Err(ResponseError::NotWebSocketUpgrade);
    }
    if !has_token(fields, "connection", "upgrade") {
        return Err(ResponseError::ConnectionNotUpgrade);
    }
    if single(fields, "sec-websocket-accept") != Ok(accept) {
        return Err(ResponseError::InvalidAccept);
    }
    Ok(())
}

/// Why a response's subprotocol is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProtocolChoice<'a> {
    /// Repeated, empty, or not a single token.
    Invalid,
    /// A token that was not offered.
    NotOffered(&'a str),
}

/// The subprotocol a server's response chose: at most one field, a token, one of those `offered` (RFC 6455
/// section 4.1 item 6; RFC 8441 section 5 keeps it).
pub(crate) fn chosen_protocol<'a, F: Fields + ?Sized>(
    fields: &'a F,
    offered: impl Fn(&str) -> bool,
) -> Result<Option<&'a str>, ProtocolChoice<'a>> {
    let value = match single(fields, "sec-websocket-protocol") {
        Ok(value) => value,
        Err(0) => return Ok(None),
        Err(_) => return Err(ProtocolChoice::Invalid),
    };
    let protocol = core::str::from_utf8(value)
        .ok()
        .filter(|p| is_token(p))
        .ok_or(ProtocolChoice::Invalid)?;
    if offered(protocol) {
        Ok(Some(protocol))
    } else {
        Err(ProtocolChoice::NotOffered(protocol))
    }
}

/// The reason phrase for a status code.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Content Too Large",
        414 => "URI Too Long",
        421 => "Misdirected Request",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ if status < 500 => "Client Error",
        _ => "Server Error",
    }
}

/// The fields a refusal with `status` requires in HTTP/1.1 (`Allow: GET` for 405; `Upgrade: websocket`
/// and `Sec-WebSocket-Version: 13` for 426).
pub(crate) fn required_fields(error: &RequestError) -> &'static [(&'static str, &'static str)] {
    match error {
        RequestError::MethodNotAllowed => &[("Allow", "GET")],
        RequestError::UnsupportedVersion => {
            &[("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")]
        }
        _ => &[],
    }
}

/// Writes an HTTP/1.1 error response that closes the connection: status line, `fields`, `Content-Type`
/// (unless `None`), `Content-Length`, `Connection: close` (`Upgrade, close` beside an `Upgrade` field),
/// the empty line and `body`.
pub(crate) fn write_error<'a>(
    out: &mut ByteSink<'_>,
    status: u16,
    fields: impl Iterator<Item = (&'a str, &'a [u8])>,
    content_type: Option<&str>,
    body: &[u8],
) -> fmt::Result {
    write_status_line(out, status)?;
    let mut upgrade = false;
    for (name, value) in fields {
        upgrade |= name.eq_ignore_ascii_case("upgrade");
        write_field(out, name, value)?;
    }
    if let Some(content_type) = content_type {
        write_field(out, "Content-Type", content_type.as_bytes())?;
    }
    write!(out, "Content-Length: {}\r\n", body.len())?;
    let connection: &[u8] = if upgrade { b"Upgrade, close" } else { b"close" };
    write_field(out, "Connection", connection)?;
    out.write_str("\r\n")?;
    out.bytes(body)
}

/// Writes `HTTP/1.1 <status> <reason>\r\n`.
pub(crate) fn write_status_line(out: &mut ByteSink<'_>, status: u16) -> fmt::Result {
    write!(out, "HTTP/1.1 {status} {}\r\n", reason(status))
}

/// Writes `name: value\r\n`.
pub(crate) fn write_field(out: &mut ByteSink<'_>, name: &str, value: &[u8]) -> fmt::Result {
    out.write_str(name)?;
    out.write_str(": ")?;
    out.bytes(value)?;
    out.write_str("\r\n")
}

/// Writes into a caller's buffer, or only counts: a head is composed once to count its length and, when
/// it fits, once more to write it, so that "buffer too small" changes nothing.
pub(crate) struct ByteSink<'a> {
    buf: Option<&'a mut [u8]>,
    len: usize,
}

impl<'a> ByteSink<'a> {
    /// A sink that only counts.
    pub(crate) fn counter() -> ByteSink<'a> {
        ByteSink { buf: None, len: 0 }
    }

    /// A sink writing into `buf`, which must be large enough (else writing fails).
    pub(crate) fn writer(buf: &'a mut [u8]) -> ByteSink<'a> {
        ByteSink {
            buf: Some(buf),
            len: 0,
        }
    }

    /// The bytes counted or written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `bytes`.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> fmt::Result {
        let end = self.len.checked_add(bytes.len()).ok_or(fmt::Error)?;
        if let Some(buf) = self.buf.as_deref_mut() {
            buf.get_mut(self.len..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(bytes);
        }
        self.len = end;
        Ok(())
    }
}

impl fmt::Write for ByteSink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes())
    }
}

/// Composes with `compose` into `out` when it fits: returns the length written, or `Err(needed)` with
/// nothing written.
pub(crate) fn write_into(
    out: &mut [u8],
    compose: impl Fn(&mut ByteSink<'_>) -> fmt::Result,
) -> Result<usize, usize> {
    let mut counter = ByteSink::counter();
    // Counting never fails but on an overflow of usize, which no head reaches.
    compose(&mut counter).map_err(|_| usize::MAX)?;
    let needed = counter.len();
    let Some(room) = out.get_mut(..needed) else {
        return Err(needed);
    };
    let mut writer = ByteSink::writer(room);
    compose(&mut writer).map_err(|_| needed)?;
    Ok(writer.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_accepts() {
        assert_eq!(
            &client_key(*b"the sample nonce"),
            b"dGhlIHNhbXBsZSBub25jZQ=="
        );
        assert_eq!(
            &accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        for bad in [
            &b"dGhlIHNhbXBsZSBub25jZQ"[..],
            b"dGhlIHNhbXBsZSBub25j",
            b"dGhlIHNhbXBsZSBub25jZTE=",
            b"dGhlIHNhbXBsZSBub25jZR==",
            b"dGhlIHNhbXBsZSBub25jZ!==",
            b"",
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn too_small_changes_nothing_and_says_how_much() {
        let compose = |w: &mut ByteSink<'_>| write_field(w, "Name", b"val\xffue");
        let mut small = [7u8; 8];
        assert_eq!(write_into(&mut small, compose), Err(14));
        assert_eq!(small, [7; 8]);
        let mut big = [0u8; 32];
        assert_eq!(write_into(&mut big, compose), Ok(14));
        assert_eq!(&big[..14], b"Name: val\xffue\r\n");
    }

    #[test]
    fn offered_protocols_are_distinct_tokens() {
        assert_eq!(check_offered_protocols(&["a", "b"]), Ok(()));
        assert_eq!(
            check_offered_protocols(&["a", "a"]),
            Err(BuildError::InvalidProtocol)
        );
        assert_eq!(
            check_offered_protocols(&["a b"]),
            Err(BuildError::InvalidProtocol)
        );
    }
}
