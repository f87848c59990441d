//! The HTTP/1.1 opening handshake, both sides, written out by hand: the client's request and the check of
//! the server's answer for the load tool, and the server's answer for the echo servers of libraries that
//! leave the handshake to the application.

use std::fmt;

/// The GUID that RFC 6455 section 1.3 appends to the key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// At most this many header fields are parsed, on either side.
const MAX_HEADERS: usize = 32;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
#[must_use]
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key);
    sha1.update(GUID.as_bytes());
    base64(&sha1.digest().bytes())
}

/// Standard base64 with padding.
#[must_use]
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A client's opening request, and the accept value its answer must carry.
#[derive(Clone, Debug)]
pub struct ClientRequest {
    /// The request bytes.
    pub bytes: Vec<u8>,
    /// The `Sec-WebSocket-Accept` value the server must answer with.
    pub accept: String,
}

impl ClientRequest {
    /// A request for `/` on `host` (as `host:port`), with a key made of `nonce`. No extension is offered.
    #[must_use]
    pub fn new(host: &str, nonce: [u8; 16]) -> Self {
        let key = base64(&nonce);
        let bytes = format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .into_bytes();
        Self {
            bytes,
            accept: accept_key(key.as_bytes()),
        }
    }

    /// Checks the server's answer in `input`: `Ok(None)` while the head is incomplete, else the length of the
    /// head (bytes after it are frames).
    ///
    /// # Errors
    ///
    /// When the answer is not a valid `101 Switching Protocols` for this request.
    pub fn check_response(&self, input: &[u8]) -> Result<Option<usize>, HandshakeError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let len = match response.parse(input) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(err) => return Err(HandshakeError::Http(err.to_string())),
        };
        if response.code != Some(101) {
            return Err(HandshakeError::Status(response.code.unwrap_or(0)));
        }
        let accept = header(response.headers, "sec-websocket-accept");
        if accept != Some(self.accept.as_bytes()) {
            return Err(HandshakeError::Accept);
        }
        if header(response.headers, "sec-websocket-extensions").is_some() {
            return Err(HandshakeError::Extension);
        }
        Ok(Some(len))
    }
}

/// A server's answer to a valid upgrade request read from `input`: `Ok(None)` while the head is incomplete,
/// else the answer's bytes and the length of the request head.
///
/// # Errors
///
/// When the request is not a WebSocket upgrade.
pub fn server_response(input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(input) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(HandshakeError::Http(err.to_string())),
    };
    let has_token = |name: &str, token: &str| {
        request
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .flat_map(|h| h.value.split(|&b| b == b','))
            .any(|v| v.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    };
    if request.method != Some("GET")
        || !has_token("upgrade", "websocket")
        || !has_token("connection", "upgrade")
        || header(request.headers, "sec-websocket-version") != Some(b"13")
    {
        return Err(HandshakeError::NotUpgrade);
    }
    let key = header(request.headers, "sec-websocket-key").ok_or(HandshakeError::NotUpgrade)?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key.trim_ascii())
    );
    Ok(Some((response.into_bytes(), len)))
}

fn header<'a>(headers: &[httparse::Header<'a>], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// An opening handshake that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeError {
    /// Not valid HTTP/1.1.
    Http(String),
    /// The server answered with another status than 101.
    Status(u16),
    /// The server's `Sec-WebSocket-Accept` is missing or wrong.
    Accept,
    /// The server accepted an extension that was not offered.
    Extension,
    /// The request is not a WebSocket upgrade.
    NotUpgrade,
    /// The head did not end within the size limit.
    TooLong,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Http(err) => write!(f, "bad HTTP head: {err}"),
            HandshakeError::Status(code) => write!(f, "status {code} instead of 101"),
            HandshakeError::Accept => write!(f, "wrong or missing Sec-WebSocket-Accept"),
            HandshakeError::Extension => write!(f, "an extension that was not offered"),
            HandshakeError::NotUpgrade => write!(f, "not a WebSocket upgrade request"),
            HandshakeError::TooLong => write!(f, "HTTP head too long"),
        }
    }
}

impl std::error::Error for HandshakeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_example_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(base64(b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn both_sides_agree() {
        let request = ClientRequest::new("127.0.0.1:9", *b"0123456789abcdef");
        assert_eq!(server_response(&request.bytes[..20]), Ok(None));
        let (response, len) = server_response(&request.bytes).unwrap().unwrap();
        assert_eq!(len, request.bytes.len());
        assert_eq!(request.check_response(&response[..10]), Ok(None));
        let mut input = response.clone();
        input.extend_from_slice(&[0x82, 0]);
        assert_eq!(request.check_response(&input), Ok(Some(response.len())));
        let other = ClientRequest::new("127.0.0.1:9", *b"fedcba9876543210");
        assert_eq!(other.check_response(&response), Err(HandshakeError::Accept));
    }
}
