//! The server's side: read and check the client's upgrade request (RFC 6455 section 4.2.1).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::error::ServerError;
use super::head::{header_array, HeadError, HeadReader, Limits};
use super::headers::{parse_protocols, Headers};
use super::negotiate;
use super::request::{Offers, Request};
use super::HttpVersion;
use crate::extension::ExtensionFactory;
use crate::handshake_rules as rules;

/// A caller's origin check: given the request's `Origin` field, if any, whether to allow it.
pub type OriginCheck = Arc<dyn Fn(Option<&str>) -> bool + Send + Sync>;

/// Which `Origin` a server accepts: the defence against cross-site WebSocket hijacking, where a page on
/// another site opens a socket with the user's cookies. Browsers always send `Origin`; other clients may
/// send anything, so this protects browser users only.
#[derive(Clone, Default)]
pub enum OriginPolicy {
    /// Any origin, or none.
    #[default]
    Any,
    /// The serialized origins listed (such as `https://example.com`, compared ASCII case-insensitively), or
    /// no `Origin` field at all (a client that is not a browser).
    List(Vec<String>),
    /// The caller decides, given the `Origin` field if there is one.
    Check(OriginCheck),
}

impl OriginPolicy {
    /// Whether a request with this `Origin` (or none) is allowed.
    #[must_use]
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match (self, origin) {
            (OriginPolicy::Any, _) | (OriginPolicy::List(_), None) => true,
            (OriginPolicy::List(list), Some(origin)) => list
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin)),
            (OriginPolicy::Check(check), origin) => check(origin),
        }
    }
}

impl fmt::Debug for OriginPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginPolicy::Any => f.write_str("Any"),
            OriginPolicy::List(list) => f.debug_tuple("List").field(list).finish(),
            OriginPolicy::Check(_) => f.write_str("Check(..)"),
        }
    }
}

/// A server's handshake settings. Start from [`ServerConfig::default`] and change the fields you need.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Bounds on the request head.
    pub limits: Limits,
    /// Which origins may connect. Default: any.
    pub origin: OriginPolicy,
    /// The extensions this server supports, most preferred first. Default: none.
    pub extensions: Vec<Arc<dyn ExtensionFactory>>,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.extensions.iter().map(|e| e.name()).collect();
        f.debug_struct("ServerConfig")
            .field("limits", &self.limits)
            .field("origin", &self.origin)
            .field("extensions", &names)
            .finish()
    }
}

/// The server's side of one opening handshake: request bytes in, a checked [`Request`] out.
///
/// Feed the bytes read from the connection to [`handle_input`](Self::handle_input) until it returns a
/// request, then answer with [`Request::accept`] or a [`Rejection`](super::Rejection). On an error, write
/// [`ServerError::to_response`] and close the connection.
///
/// The request is checked as RFC 6455 section 4.2.1 asks: method `GET` (else 405), HTTP/1.1 or later (else
/// 400), one `Host`, `Upgrade` listing `websocket`, `Connection` listing `Upgrade`, one `Sec-WebSocket-Key`
/// of 16 base64-encoded bytes (else 400), exactly one `Sec-WebSocket-Version: 13` (else 426), an `Origin`
/// the [`OriginPolicy`] allows (else 403), and well-formed `Sec-WebSocket-Protocol` and
/// `Sec-WebSocket-Extensions` lists (else 400). Extensions are negotiated here, so the request already knows
/// which one was accepted.
#[derive(Debug)]
pub struct ServerHandshake {
    pub(crate) config: Arc<ServerConfig>,
    head: HeadReader,
    pub(crate) finished: bool,
    pub(crate) target: Option<String>,
}

impl ServerHandshake {
    /// Starts a handshake. The configuration can be shared between connections as an `Arc`.
    #[must_use]
    pub fn new(config: impl Into<Arc<ServerConfig>>) -> ServerHandshake {
        let config = config.into();
        ServerHandshake {
            head: HeadReader::new(config.limits),
            config,
            finished: false,
            target: None,
        }
    }

    /// Takes bytes received from the client. Returns `Ok(None)` while the request head is incomplete, and
    /// the checked request once it is complete; bytes that followed the head are kept in
    /// [`Request::trailing`]. After a request or an error, the handshake is finished and takes no more input.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<Option<Request>, ServerError> {
        if self.finished {
            return Err(ServerError::Finished);
        }
        let limits = self.head.limits();
        let result = match self.head.push(input, |buf| parse(buf, limits)) {
            Ok(None) => return Ok(None),
            Ok(Some((parsed, trailing))) => {
                self.target = Some(parsed.path.clone());
                check(parsed, trailing, &self.config).map(Some)
            }
            Err(HeadError::Malformed) => Err(ServerError::Malformed),
            Err(HeadError::TooLarge) => Err(ServerError::HeadTooLarge),
            Err(HeadError::TooManyHeaders) => Err(ServerError::TooManyHeaders),
        };
        self.finished = true;
        result
    }
}

impl ServerHandshake {
    /// The bounds on this handshake: request head size and fields, and the time a driver allows.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.head.limits()
    }

    /// The request target (such as `/` or `/ws?room=1`) once a whole, well-formed head has been read, also
    /// when the request was refused. A server that answers ordinary HTTP requests on the same port routes
    /// a refused [`ServerError::NotWebSocketUpgrade`] by it.
    #[must_use]
    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }
}

/// A request head as httparse saw it, owned.
struct Parsed {
    method: String,
    path: String,
    minor_version: u8,
    headers: Headers,
}

fn parse(buf: &[u8], limits: Limits) -> Result<Option<(usize, Parsed)>, HeadError> {
    let mut headers = header_array(limits);
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf)? {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) => Ok(Some((
            len,
            Parsed {
                method: request.method.unwrap_or_default().into(),
                path: request.path.unwrap_or_default().into(),
                minor_version: request.version.unwrap_or_default(),
                headers: Headers::from_parsed(request.headers),
            },
        ))),
    }
}

pub(crate) use rules::is_resource_target;

/// The one field named `name`: `Ok(None)` when absent, an error when repeated.
pub(crate) fn single<'a>(
    headers: &'a Headers,
    name: &'static str,
) -> Result<Option<&'a [u8]>, ServerError> {
    Ok(rules::at_most_one(headers, name)?)
}

fn check(parsed: Parsed, trailing: Vec<u8>, config: &ServerConfig) -> Result<Request, ServerError> {
    check_http1(
        (parsed.method, parsed.path, parsed.minor_version),
        parsed.headers,
        trailing,
        config,
    )
}

/// Checks an RFC 6455 request (section 4.2.1) given as method, target, minor version and fields.
pub(crate) fn check_http1(
    (method, path, minor_version): (String, String, u8),
    headers: Headers,
    trailing: Vec<u8>,
    config: &ServerConfig,
) -> Result<Request, ServerError> {
    let facts = rules::check_request(&method, &path, minor_version, &headers)?;
    let (host, key) = (facts.host.into(), String::from(facts.key));
    let offers = negotiate_offers(&headers, config)?;
    Ok(Request {
        version: HttpVersion::Http11,
        host,
        key: Some(key),
        method,
        path,
        headers,
        offers,
        trailing,
    })
}

/// The rules both forms of the request share before the offers: no body, and exactly one
/// `Sec-WebSocket-Version: 13` (RFC 6455 section 4.2.1 item 6, which RFC 8441 section 5 keeps).
pub(crate) fn check_body_and_version(headers: &Headers) -> Result<(), ServerError> {
    Ok(rules::check_body_and_version(headers)?)
}

/// What a client offers and the server settles, alike in both forms: the `Origin` and its policy, the
/// subprotocols, and the extensions, negotiated (RFC 6455 section 4.2.1 items 7 to 10; RFC 8441 section 5
/// keeps them).
pub(crate) fn negotiate_offers(
    headers: &Headers,
    config: &ServerConfig,
) -> Result<Offers, ServerError> {
    let origin = rules::origin(headers)?;
    if !config.origin.allows(origin) {
        return Err(ServerError::OriginRefused);
    }
    let mut protocols = Vec::new();
    for value in headers.get_all("sec-websocket-protocol") {
        parse_protocols(value, &mut protocols).map_err(|()| ServerError::InvalidProtocolHeader)?;
    }
    let offers = negotiate::parse_all(headers).ok_or(ServerError::InvalidExtensionHeader)?;
    let extension = negotiate::accept(&config.extensions, &offers)?;
    Ok(Offers {
        origin: origin.map(Into::into),
        protocols,
        extensions: offers,
        extension,
    })
}
