//! An `http` request head as the core's handshake takes it: the version, the request line or the HTTP/2
//! pseudo-header fields, and the fields.

use http::{HeaderMap, Method, Uri, Version};
use wslane::handshake::{Headers, HttpVersion, RequestHead};

/// The core's name for the request's HTTP version. HTTP/0.9 and 1.0 are too old for the handshake, and
/// HTTP/3 has no WebSocket form here: both are refused as HTTP/1.0 is.
pub(crate) fn version(version: Version) -> HttpVersion {
    match version {
        Version::HTTP_11 => HttpVersion::Http11,
        Version::HTTP_2 => HttpVersion::Http2,
        _ => HttpVersion::Http10,
    }
}

/// The request's fields, in order, as the core's [`Headers`].
pub(crate) fn headers(headers: &HeaderMap) -> Headers {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect()
}

/// The request head; `protocol` is the HTTP/2 `:protocol` (hyper's `ext::Protocol`).
pub(crate) fn request_head<'a>(
    method: &'a Method,
    uri: &'a Uri,
    version: HttpVersion,
    protocol: Option<&'a str>,
) -> RequestHead<'a> {
    let path = uri.path_and_query().map(|path| path.as_str());
    if version != HttpVersion::Http2 {
        return RequestHead::http1(method.as_str(), path.unwrap_or("/"), version);
    }
    RequestHead::http2(
        method.as_str(),
        protocol,
        uri.scheme_str(),
        uri.authority().map(|authority| authority.as_str()),
        path,
    )
}
