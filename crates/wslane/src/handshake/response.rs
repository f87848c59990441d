//! What a server answers: the options of a 101 ([`Acceptance`]), a refusal of its own ([`Rejection`]), and
//! the bytes of both.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::BuildError;
use super::headers::{check_extra, write_field};

/// How a server accepts a valid request: the subprotocol it chose, if any, and fields to add to the 101
/// response (cookies, for example).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acceptance {
    pub(crate) protocol: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Acceptance {
    /// Accept with no subprotocol and no extra fields.
    #[must_use]
    pub fn new() -> Acceptance {
        Acceptance::default()
    }

    /// Chooses a subprotocol. It must be one of [`Request::protocols`](super::Request::protocols) (compared
    /// exactly); otherwise [`Request::accept`](super::Request::accept) fails with
    /// [`ServerError::ProtocolNotOffered`](super::ServerError::ProtocolNotOffered).
    #[must_use]
    pub fn protocol(mut self, protocol: &str) -> Acceptance {
        self.protocol = Some(protocol.into());
        self
    }

    /// Adds a field to the 101 response. The name must be a token and the value free of control characters;
    /// the fields the handshake writes itself are refused.
    pub fn header(mut self, name: &str, value: &str) -> Result<Acceptance, BuildError> {
        check_extra(name, value)?;
        self.headers.push((name.into(), value.into()));
        Ok(self)
    }
}

/// A server's own refusal of a valid request, such as 401 for a missing credential or 503 when overloaded.
///
/// The response gets `Content-Length` and `Connection: close`, and a `text/plain` content type unless a
/// `Content-Type` field is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Rejection {
    /// A refusal with a status from 400 to 599. The body defaults to the status's reason phrase.
    pub fn new(status: u16) -> Result<Rejection, BuildError> {
        if !(400..=599).contains(&status) {
            return Err(BuildError::InvalidStatus(status));
        }
        Ok(Rejection {
            status,
            headers: Vec::new(),
            body: None,
        })
    }

    /// Adds a field, such as `WWW-Authenticate` or `Retry-After`. The name must be a token and the value
    /// free of control characters; the fields the handshake writes itself are refused.
    pub fn header(mut self, name: &str, value: &str) -> Result<Rejection, BuildError> {
        check_extra(name, value)?;
        self.headers.push((name.into(), value.into()));
        Ok(self)
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Rejection {
        self.body = Some(body.into());
        self
    }

    /// The status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response bytes to write before closing the connection.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let has_type = self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        let content_type = (!has_type).then_some("text/plain; charset=utf-8");
        let default_body;
        let body = match &self.body {
            Some(body) => body.as_slice(),
            None => {
                default_body = alloc::format!("{}\n", reason(self.status));
                default_body.as_bytes()
            }
        };
        let fields = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
        write_error(self.status, fields, content_type, body)
    }
}

/// Writes an error response that closes the connection.
pub(crate) fn write_error<'a>(
    status: u16,
    fields: impl Iterator<Item = (&'a str, &'a [u8])>,
    content_type: Option<&str>,
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + body.len());
    write_status_line(&mut out, status);
    let mut upgrade = false;
    for (name, value) in fields {
        upgrade |= name.eq_ignore_ascii_case("upgrade");
        write_field(&mut out, name, value);
    }
    if let Some(content_type) = content_type {
        write_field(&mut out, "Content-Type", content_type.as_bytes());
    }
    write_field(
        &mut out,
        "Content-Length",
        alloc::format!("{}", body.len()).as_bytes(),
    );
    // RFC 7230 section 6.7: a sender of Upgrade also lists it in Connection.
    let connection: &[u8] = if upgrade { b"Upgrade, close" } else { b"close" };
    write_field(&mut out, "Connection", connection);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

pub(crate) fn write_status_line(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(alloc::format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
}

use crate::handshake_rules::reason;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_are_4xx_or_5xx() {
        assert_eq!(Rejection::new(399), Err(BuildError::InvalidStatus(399)));
        assert_eq!(Rejection::new(600), Err(BuildError::InvalidStatus(600)));
        assert_eq!(Rejection::new(101), Err(BuildError::InvalidStatus(101)));
        assert_eq!(Rejection::new(599).map(|r| r.status()), Ok(599));
    }

    #[test]
    fn rejection_bytes() {
        let bytes = Rejection::new(401)
            .and_then(|r| r.header("WWW-Authenticate", "Basic realm=\"x\""))
            .unwrap()
            .to_bytes();
        assert_eq!(
            bytes,
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\
              Content-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\
              Connection: close\r\n\r\nUnauthorized\n"
        );
        let bytes = Rejection::new(503)
            .and_then(|r| r.header("content-type", "application/json"))
            .unwrap()
            .body("{}")
            .to_bytes();
        assert_eq!(
            bytes,
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
              Content-Length: 2\r\nConnection: close\r\n\r\n{}"
        );
    }
}
