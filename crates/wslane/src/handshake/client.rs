//! The client's side: write the upgrade request and check the server's answer (RFC 6455 section 4.1).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::accept::{accept_key, client_key};
use super::error::{BuildError, ClientError};
use super::head::{header_array, HeadError, HeadReader, Limits};
use super::headers::{check_extra, is_field_value, write_field, Headers};
use super::negotiate::{self, is_valid_element};
use super::url::Url;
use crate::config::Config;
use crate::connection::Connection;
use crate::extension::{is_token, Extension, ExtensionElement, ExtensionFactory};
use crate::handshake_rules::{self as rules, ProtocolChoice};
use crate::mask_keys::MaskKeySource;
use crate::time::Instant;
use crate::unbuffered::handshake::ResponseError;

/// A client's upgrade request, built from a [`Url`]; [`start`](Self::start) turns it into bytes and a
/// [`ClientHandshake`] waiting for the answer.
#[derive(Clone)]
pub struct ClientRequest {
    pub(crate) url: Url,
    limits: Limits,
    pub(crate) origin: Option<String>,
    pub(crate) protocols: Vec<String>,
    pub(crate) extensions: Vec<(Arc<dyn ExtensionFactory>, Vec<ExtensionElement>)>,
    pub(crate) headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// A request for `url` with no `Origin`, subprotocols, extensions or extra fields.
    #[must_use]
    pub fn new(url: Url) -> ClientRequest {
        ClientRequest {
            url,
            limits: Limits::default(),
            origin: None,
            protocols: Vec::new(),
            extensions: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The URL requested.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Sets the bounds on the handshake (response head size and fields, time). Default:
    /// [`Limits::default`].
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> ClientRequest {
        self.limits = limits;
        self
    }

    /// The bounds on this handshake: response head size and fields, and the time a driver allows.
    #[must_use]
    pub fn handshake_limits(&self) -> Limits {
        self.limits
    }

    /// Sends an `Origin` field, as a browser would (`https://example.com`).
    pub fn origin(mut self, origin: &str) -> Result<ClientRequest, BuildError> {
        if !is_field_value(origin) {
            return Err(BuildError::InvalidHeaderValue);
        }
        self.origin = Some(origin.into());
        Ok(self)
    }

    /// Offers a subprotocol; call once per subprotocol, most preferred first. Each must be a token and
    /// offered once.
    pub fn protocol(mut self, protocol: &str) -> Result<ClientRequest, BuildError> {
        if !is_token(protocol) || self.protocols.iter().any(|p| p == protocol) {
            return Err(BuildError::InvalidProtocol);
        }
        self.protocols.push(protocol.into());
        Ok(self)
    }

    /// Offers an extension: each of the factory's [`offers`](ExtensionFactory::offers) becomes one element
    /// of `Sec-WebSocket-Extensions`. The factory confirms the server's answer. A connection holds at most
    /// one extension, so a server that accepts two fails the handshake.
    pub fn extension(
        mut self,
        factory: Arc<dyn ExtensionFactory>,
    ) -> Result<ClientRequest, BuildError> {
        let offers = factory.offers();
        if !offers.iter().all(is_valid_element) {
            return Err(BuildError::InvalidExtensionOffer);
        }
        if !offers.is_empty() {
            self.extensions.push((factory, offers));
        }
        Ok(self)
    }

    /// Adds a field (cookies, credentials). The name must be a token and the value free of control
    /// characters; the fields the handshake writes itself are refused.
    pub fn header(mut self, name: &str, value: &str) -> Result<ClientRequest, BuildError> {
        check_extra(name, value)?;
        self.headers.push((name.into(), value.into()));
        Ok(self)
    }

    /// Writes the request with `Sec-WebSocket-Key` made from `nonce`, 16 bytes the caller draws from a
    /// good random source (the core has none), and returns the handshake waiting for the answer with the
    /// request bytes to send.
    #[must_use]
    pub fn start(self, nonce: [u8; 16]) -> (ClientHandshake, Vec<u8>) {
        let key = client_key(nonce);
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(self.url.resource().as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        write_field(&mut out, "Host", self.url.host_header().as_bytes());
        write_field(&mut out, "Upgrade", b"websocket");
        write_field(&mut out, "Connection", b"Upgrade");
        write_field(&mut out, "Sec-WebSocket-Key", key.as_bytes());
        write_field(&mut out, "Sec-WebSocket-Version", b"13");
        if let Some(origin) = &self.origin {
            write_field(&mut out, "Origin", origin.as_bytes());
        }
        if !self.protocols.is_empty() {
            write_field(
                &mut out,
                "Sec-WebSocket-Protocol",
                self.protocols.join(", ").as_bytes(),
            );
        }
        if !self.extensions.is_empty() {
            let elements: Vec<String> = self
                .extensions
                .iter()
                .flat_map(|(_, offers)| offers.iter().map(|offer| alloc::format!("{offer}")))
                .collect();
            write_field(
                &mut out,
                "Sec-WebSocket-Extensions",
                elements.join(", ").as_bytes(),
            );
        }
        for (name, value) in &self.headers {
            write_field(&mut out, name, value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        let handshake = ClientHandshake {
            head: HeadReader::new(self.limits),
            accept: accept_key(&key),
            protocols: self.protocols,
            extensions: self
                .extensions
                .into_iter()
                .map(|(factory, _)| factory)
                .collect(),
            finished: false,
        };
        (handshake, out)
    }
}

impl fmt::Debug for ClientRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offers: Vec<&ExtensionElement> = self.extensions.iter().flat_map(|(_, o)| o).collect();
        f.debug_struct("ClientRequest")
            .field("url", &self.url)
            .field("limits", &self.limits)
            .field("origin", &self.origin)
            .field("protocols", &self.protocols)
            .field("extensions", &offers)
            .field("headers", &self.headers)
            .finish()
    }
}

/// The client's side of one opening handshake, after the request was written: response bytes in, a
/// [`ClientUpgrade`] out.
///
/// The response is checked as RFC 6455 section 4.1 asks: status 101 (else [`ClientError::Status`] with
/// the response head), HTTP/1.1, `Upgrade` listing `websocket`, `Connection` listing `Upgrade`, exactly one
/// `Sec-WebSocket-Accept` matching the key, at most one offered subprotocol and at most one offered
/// extension, which its factory confirms.
pub struct ClientHandshake {
    head: HeadReader,
    accept: String,
    protocols: Vec<String>,
    extensions: Vec<Arc<dyn ExtensionFactory>>,
    finished: bool,
}

/// The outcome of a successful client handshake.
///
/// Turn it into the [`Connection`] with [`into_connection`](Self::into_connection): it installs the
/// negotiated extension and has already received the bytes that followed the response head, so no caller
/// can forget them.
pub struct ClientUpgrade {
    pub(crate) response: ServerResponse,
    pub(crate) extension: Option<Box<dyn Extension>>,
    pub(crate) trailing: Vec<u8>,
}

/// What the server's 101 response settled, kept by the client after the hand-off to the connection.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ServerResponse {
    /// The subprotocol the server chose, one of those offered.
    pub protocol: Option<String>,
    /// The 101 response's fields (`Set-Cookie`, for example).
    pub headers: Headers,
}

impl ClientUpgrade {
    /// The server's answer: subprotocol and response fields.
    #[must_use]
    pub fn response(&self) -> &ServerResponse {
        &self.response
    }

    /// The subprotocol the server chose, one of those offered.
    #[must_use]
    pub fn protocol(&self) -> Option<&str> {
        self.response.protocol.as_deref()
    }

    /// The negotiated extension, at most one.
    #[must_use]
    pub fn extension(&self) -> Option<&dyn Extension> {
        self.extension.as_deref()
    }

    /// Bytes the server sent after its response head (the start of its first frames).
    #[must_use]
    pub fn trailing(&self) -> &[u8] {
        &self.trailing
    }

    /// The client's connection, established at `now`: `keys` masks every frame sent (see
    /// [`ChaChaKeys`](crate::mask_keys::ChaChaKeys)), the negotiated extension is installed, and the bytes
    /// that followed the response head are already received (at `now`). Returns the server's answer
    /// beside it.
    #[must_use]
    pub fn into_connection(
        self,
        now: Instant,
        config: Config,
        keys: impl MaskKeySource + 'static,
    ) -> (Connection, ServerResponse) {
        let conn = Connection::client(now, config, keys).after_handshake(
            now,
            self.extension,
            &self.trailing,
        );
        (conn, self.response)
    }
}

impl ClientHandshake {
    /// Takes bytes received from the server. Returns `Ok(None)` while the response head is incomplete, and
    /// the outcome once it is complete and valid. After an outcome or an error, the handshake is finished
    /// and takes no more input.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<Option<ClientUpgrade>, ClientError> {
        if self.finished {
            return Err(ClientError::Finished);
        }
        let limits = self.head.limits();
        let result = match self.head.push(input, |buf| parse(buf, limits)) {
            Ok(None) => return Ok(None),
            Ok(Some((parsed, trailing))) => self.check(parsed, trailing).map(Some),
            Err(HeadError::Malformed) => Err(ClientError::Malformed),
            Err(HeadError::TooLarge) => Err(ClientError::HeadTooLarge),
            Err(HeadError::TooManyHeaders) => Err(ClientError::TooManyHeaders),
        };
        self.finished = true;
        result
    }

    fn check(&self, parsed: Parsed, trailing: Vec<u8>) -> Result<ClientUpgrade, ClientError> {
        let headers = parsed.headers;
        let checked = rules::check_response(
            parsed.code,
            parsed.minor_version,
            &headers,
            self.accept.as_bytes(),
        );
        match checked {
            Ok(()) => {}
            Err(ResponseError::Status(code)) => {
                return Err(ClientError::Status {
                    code,
                    reason: parsed.reason,
                    headers,
                })
            }
            Err(ResponseError::Malformed) => return Err(ClientError::Malformed),
            Err(ResponseError::NotWebSocketUpgrade) => {
                return Err(ClientError::NotWebSocketUpgrade)
            }
            Err(ResponseError::ConnectionNotUpgrade) => {
                return Err(ClientError::ConnectionNotUpgrade)
            }
            Err(_) => return Err(ClientError::InvalidAccept),
        }
        let protocol = check_protocol(&self.protocols, &headers)?;
        let extension = negotiate::confirm(&self.extensions, &headers)?;
        Ok(ClientUpgrade {
            response: ServerResponse { protocol, headers },
            extension,
            trailing,
        })
    }
}

/// The subprotocol a server's response chose: at most one field, a token, one of those `offered` (RFC 6455
/// section 4.1 item 6; RFC 8441 section 5 keeps it).
pub(crate) fn check_protocol(
    offered: &[String],
    headers: &Headers,
) -> Result<Option<String>, ClientError> {
    match rules::chosen_protocol(headers, |p| offered.iter().any(|o| o == p)) {
        Ok(protocol) => Ok(protocol.map(Into::into)),
        Err(ProtocolChoice::Invalid) => Err(ClientError::InvalidProtocolHeader),
        Err(ProtocolChoice::NotOffered(protocol)) => {
            Err(ClientError::UnexpectedProtocol(protocol.into()))
        }
    }
}

/// A response head as httparse saw it, owned.
struct Parsed {
    code: u16,
    reason: String,
    minor_version: u8,
    headers: Headers,
}

fn parse(buf: &[u8], limits: Limits) -> Result<Option<(usize, Parsed)>, HeadError> {
    let mut headers = header_array(limits);
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(buf)? {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) => Ok(Some((
            len,
            Parsed {
                code: response.code.unwrap_or_default(),
                reason: response.reason.unwrap_or_default().into(),
                minor_version: response.version.unwrap_or_default(),
                headers: Headers::from_parsed(response.headers),
            },
        ))),
    }
}

impl fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("head", &self.head)
            .field("protocols", &self.protocols)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ClientUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientUpgrade")
            .field("response", &self.response)
            .field("extension", &self.extension.as_ref().map(|_| ".."))
            .field("trailing", &self.trailing.len())
            .finish()
    }
}
