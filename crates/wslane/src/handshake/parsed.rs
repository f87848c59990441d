//! A request head that an HTTP layer has already parsed (hyper, an HTTP/2 stack), given to the server's
//! handshake as plain data: the same checks as for bytes, in the HTTP/1.1 form (RFC 6455) or the HTTP/2
//! form (RFC 8441).

use alloc::vec::Vec;

use super::error::ServerError;
use super::headers::Headers;
use super::request::Request;
use super::server::{check_http1, ServerHandshake};

/// The HTTP version a request came in, which decides the form of the opening handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.0: too old for the opening handshake (refused with [`ServerError::HttpVersion`]).
    Http10,
    /// HTTP/1.1: the upgrade of RFC 6455 section 4.
    Http11,
    /// HTTP/2: the extended CONNECT of RFC 8441, a WebSocket over one stream.
    Http2,
}

/// The version as HTTP writes it: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2`.
impl core::fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
        })
    }
}

/// The request line of an HTTP/1.x request, or the pseudo-header fields of an HTTP/2 one (RFC 9113
/// section 8.3.1), as plain data. The header fields come beside it as [`Headers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// The version the request came in.
    pub version: HttpVersion,
    /// The method (`:method` in HTTP/2): `GET` for HTTP/1.1, `CONNECT` for HTTP/2.
    pub method: &'a str,
    /// The request target (`:path` in HTTP/2), such as `/chat?room=1`. `None` when an HTTP/2 request has
    /// no `:path`.
    pub target: Option<&'a str>,
    /// HTTP/2 only: `:protocol` (RFC 8441 section 4), `websocket` for a WebSocket.
    pub protocol: Option<&'a str>,
    /// HTTP/2 only: `:scheme`, `http` or `https`.
    pub scheme: Option<&'a str>,
    /// HTTP/2 only: `:authority`, which stands for `Host`.
    pub authority: Option<&'a str>,
}

impl<'a> RequestHead<'a> {
    /// An HTTP/1.x request line: method, target and version.
    #[must_use]
    pub fn http1(method: &'a str, target: &'a str, version: HttpVersion) -> RequestHead<'a> {
        RequestHead {
            version,
            method,
            target: Some(target),
            protocol: None,
            scheme: None,
            authority: None,
        }
    }

    /// The pseudo-header fields of an HTTP/2 request: `:method`, `:protocol`, `:scheme`, `:authority`
    /// and `:path`, each `None` when absent (`:method` is always present).
    #[must_use]
    pub fn http2(
        method: &'a str,
        protocol: Option<&'a str>,
        scheme: Option<&'a str>,
        authority: Option<&'a str>,
        path: Option<&'a str>,
    ) -> RequestHead<'a> {
        RequestHead {
            version: HttpVersion::Http2,
            method,
            target: path,
            protocol,
            scheme,
            authority,
        }
    }
}

impl ServerHandshake {
    /// Takes a request head that an HTTP layer has already parsed, instead of bytes: an HTTP/1.x request
    /// (checked as [`handle_input`](Self::handle_input) checks one) or an HTTP/2 extended CONNECT (checked
    /// as RFC 8441 asks; see [`h2`](super::h2)). The head is bounded by the same [`Limits`](super::Limits):
    /// at most `max_headers` fields, whose names and values add up to at most `max_head_size` bytes.
    ///
    /// The request has no trailing bytes: the HTTP layer hands the upgraded stream over with whatever
    /// followed the head. After a request or an error, the handshake is finished.
    pub fn handle_head(
        &mut self,
        head: RequestHead<'_>,
        headers: Headers,
    ) -> Result<Request, ServerError> {
        if core::mem::replace(&mut self.finished, true) {
            return Err(ServerError::Finished);
        }
        let limits = self.limits();
        if headers.len() > limits.max_headers {
            return Err(ServerError::TooManyHeaders);
        }
        if headers.size() > limits.max_head_size {
            return Err(ServerError::HeadTooLarge);
        }
        self.target = head.target.map(Into::into);
        match head.version {
            HttpVersion::Http2 => super::h2::check_connect(&head, headers, &self.config),
            version => {
                let minor = u8::from(version == HttpVersion::Http11);
                let target = head.target.unwrap_or_default().into();
                let line = (head.method.into(), target, minor);
                check_http1(line, headers, Vec::new(), &self.config)
            }
        }
    }
}
