//! The HTTP/2 form of the opening handshake (RFC 8441): `ServerHandshake::handle_head` fed an arbitrary
//! extended CONNECT, and `ConnectHandshake::handle_response` fed an arbitrary response.
//!
//! Input: a setup, then text in lines. The lines before the first empty line are the request: a line
//! `:name: value` is a pseudo-header field (the first of each name counts), any other `name: value` a
//! field. The lines after it are the response, the same way (`:status`, 200 when absent or not a number).
//!
//! Invariants, server side:
//! - a refusal has a 4xx or 5xx status in HTTP/2 (never 426, which HTTP/2 lacks) and lower-case field
//!   names without `Connection`; more fields than `max_headers`, or names and values larger than
//!   `max_head_size`, are refused as such;
//! - an accepted request is an extended CONNECT as RFC 8441 section 4 and 5 and RFC 9113 section 8 ask:
//!   method `CONNECT`, `:protocol` `websocket`, `:scheme` `http` or `https`, a `:path` starting with `/`,
//!   a host from `:authority` or `Host`, exactly one `sec-websocket-version: 13`, no connection-specific
//!   field, an allowed `Origin` (or none: the list is for browsers); it has no key and no trailing bytes, and accepting it gives a 200 with
//!   lower-case fields and no `Upgrade`, `Connection` or `Sec-WebSocket-Accept`;
//! - after a request or a refusal, the handshake is finished.
//!
//! Client side, against a fixed request (`ws://example.com/chat`, offering `chat` and `superchat` and the
//! `x-test` extension as the setup says):
//! - the extended CONNECT names the URL and carries `sec-websocket-version: 13`, no key, no `Upgrade`
//!   and no `Connection`; this crate's server accepts it, and the client accepts that server's answer
//!   with the same subprotocol and extension;
//! - on the fuzzed response: a non-2xx status is `Status` with that code, a 2xx one never is; an upgrade
//!   has a subprotocol only when one was offered and it is the response's, and an extension only when
//!   offered and named in the response.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use wslane::handshake::{
    Acceptance, ClientError, ClientRequest, ConnectHandshake, ExtendedConnect, Headers,
    HttpVersion, Limits, OriginPolicy, RequestHead, ServerConfig, ServerError, ServerHandshake,
    Url,
};

use crate::{hex, TestFactory, TEST_EXTENSION};

/// The subprotocols the client offers when the setup says so.
pub const PROTOCOLS: [&str; 2] = ["chat", "superchat"];

/// The allowed origin when the setup restricts origins.
pub const ORIGIN: &str = "https://example.com";

/// Both sides' settings.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// Bit 0: the server configures `x-test`. Bit 1: the server allows only [`ORIGIN`]. Bit 2: the client
    /// offers `x-test`. Bit 3: the client offers [`PROTOCOLS`].
    pub flags: u8,
    /// `max_head_size`; 0 keeps the default.
    pub max_head: u16,
    /// `max_headers`; 0 keeps the default.
    pub max_headers: u8,
}

impl Setup {
    /// The bytes that decode to this setup.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.flags];
        out.extend_from_slice(&self.max_head.to_le_bytes());
        out.push(self.max_headers);
        out
    }

    fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if self.max_head != 0 {
            limits.max_head_size = usize::from(self.max_head);
        }
        if self.max_headers != 0 {
            limits.max_headers = usize::from(self.max_headers);
        }
        limits
    }

    fn server(&self) -> ServerHandshake {
        let mut config = ServerConfig::default();
        config.limits = self.limits();
        if self.flags & 1 != 0 {
            config.extensions = vec![Arc::new(TestFactory)];
        }
        if self.flags & 2 != 0 {
            config.origin = OriginPolicy::List(vec![ORIGIN.into()]);
        }
        ServerHandshake::new(config)
    }

    /// The client's handshake and its extended CONNECT.
    pub fn start(&self) -> (ConnectHandshake, ExtendedConnect) {
        let url = Url::parse("ws://example.com/chat").expect("a valid URL");
        let mut request = ClientRequest::new(url)
            .origin(ORIGIN)
            .expect("a valid origin");
        if self.flags & 4 != 0 {
            request = request
                .extension(Arc::new(TestFactory))
                .expect("a valid extension");
        }
        if self.flags & 8 != 0 {
            for protocol in PROTOCOLS {
                request = request.protocol(protocol).expect("a valid subprotocol");
            }
        }
        request.start_connect()
    }
}

/// The target's input: a setup, then the request and response lines.
#[derive(Arbitrary, Debug)]
pub struct Input<'a> {
    /// Settings.
    pub setup: Setup,
    /// The text of the request and the response.
    pub text: &'a [u8],
}

/// A head as HTTP/2 carries it: pseudo-header fields and fields.
#[derive(Debug, Default)]
struct Head<'a> {
    pseudo: Vec<(&'a str, &'a str)>,
    fields: Vec<(&'a str, &'a [u8])>,
}

impl<'a> Head<'a> {
    fn parse(text: &'a [u8]) -> Head<'a> {
        let mut head = Head::default();
        for line in text.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let pseudo = line.first() == Some(&b':');
            let body = if pseudo { &line[1..] } else { line };
            let Some(colon) = body.iter().position(|&b| b == b':') else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(&body[..colon]) else {
                continue;
            };
            let value = body[colon + 1..].trim_ascii();
            if pseudo {
                if let Ok(value) = std::str::from_utf8(value) {
                    head.pseudo.push((name, value));
                }
            } else {
                head.fields.push((name, value));
            }
        }
        head
    }

    fn pseudo(&self, name: &str) -> Option<&'a str> {
        self.pseudo
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    fn headers(&self) -> Headers {
        self.fields.iter().copied().collect()
    }

    fn size(&self) -> usize {
        self.fields.iter().map(|(n, v)| n.len() + v.len()).sum()
    }
}

/// Connection-specific field names (RFC 9113 section 8.2.2).
const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
];

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let setup = input.setup;
    let split = input
        .text
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(input.text.len(), |at| at + 1);
    let request = Head::parse(&input.text[..split]);
    let response = Head::parse(&input.text[split..]);
    server(&setup, &request);
    client(&setup, &response);
}

fn server(setup: &Setup, head: &Head<'_>) {
    let limits = setup.limits();
    let method = head.pseudo("method").unwrap_or("CONNECT");
    let request_head = RequestHead::http2(
        method,
        head.pseudo("protocol"),
        head.pseudo("scheme"),
        head.pseudo("authority"),
        head.pseudo("path"),
    );
    let mut handshake = setup.server();
    let outcome = handshake.handle_head(request_head, head.headers());
    let too_many = head.fields.len() > limits.max_headers;
    let too_large = head.size() > limits.max_head_size;
    match outcome {
        Err(err) => {
            assert_ne!(err, ServerError::Finished, "the first refusal is Finished");
            let status = err.status_in(HttpVersion::Http2);
            assert!((400..600).contains(&status), "{err:?}: status {status}");
            assert_ne!(status, 426, "426 in HTTP/2 ({err:?})");
            for (name, _) in err.fields_in(HttpVersion::Http2) {
                assert_eq!(name, name.to_ascii_lowercase(), "{err:?}");
                assert_ne!(name, "connection", "{err:?}");
            }
            if too_many {
                assert_eq!(err, ServerError::TooManyHeaders);
            } else if too_large {
                assert_eq!(err, ServerError::HeadTooLarge);
            }
        }
        Ok(request) => {
            assert!(!too_many && !too_large, "a head over the limits accepted");
            check_accepted(setup, head, method, request);
        }
    }
    let again = handshake.handle_head(request_head, head.headers());
    assert!(
        matches!(again, Err(ServerError::Finished)),
        "a second head: {again:?}"
    );
}

fn check_accepted(
    setup: &Setup,
    head: &Head<'_>,
    method: &str,
    request: wslane::handshake::Request,
) {
    assert_eq!(method, "CONNECT");
    assert!(head
        .pseudo("protocol")
        .is_some_and(|p| p.eq_ignore_ascii_case("websocket")));
    assert!(matches!(head.pseudo("scheme"), Some("http" | "https")));
    let path = head.pseudo("path").expect("a :path");
    assert!(path.starts_with('/'), "path {path:?}");
    assert_eq!(request.path(), path);
    assert_eq!(request.version(), HttpVersion::Http2);
    assert_eq!(request.key(), None, "a key in the HTTP/2 form");
    assert!(request.trailing().is_empty());
    let headers = head.headers();
    let hosts: Vec<&[u8]> = headers.get_all("host").collect();
    match head.pseudo("authority") {
        Some(authority) => assert_eq!(request.host(), authority),
        None => assert_eq!(hosts.len(), 1, "no host, or several"),
    }
    let versions: Vec<&[u8]> = headers.get_all("sec-websocket-version").collect();
    assert_eq!(versions.len(), 1, "sec-websocket-version {versions:?}");
    assert_eq!(versions[0].trim_ascii(), b"13");
    for (name, value) in &head.fields {
        let lower = name.to_ascii_lowercase();
        assert!(
            !CONNECTION_SPECIFIC.contains(&lower.as_str()),
            "connection-specific field {name}"
        );
        if lower == "te" {
            assert!(
                value.trim_ascii().eq_ignore_ascii_case(b"trailers"),
                "te {}",
                hex(value)
            );
        }
    }
    if let (true, Some(origin)) = (setup.flags & 2 != 0, request.origin()) {
        assert!(
            origin.eq_ignore_ascii_case(ORIGIN),
            "origin {origin:?} allowed"
        );
    }
    let extension = request.accepted_extension().is_some();
    if extension {
        assert!(
            setup.flags & 1 != 0,
            "an extension accepted but none configured"
        );
    }
    let protocol = request.protocols().first().cloned();
    let mut acceptance = Acceptance::new();
    if let Some(protocol) = &protocol {
        acceptance = acceptance.protocol(protocol);
    }
    let upgrade = request.accept(acceptance).expect("an offered subprotocol");
    assert_eq!(upgrade.status(), 200);
    assert!(
        upgrade.response().is_empty(),
        "bytes of a response in HTTP/2"
    );
    assert_eq!(upgrade.protocol(), protocol.as_deref());
    assert_eq!(upgrade.extension().is_some(), extension);
    for (name, _) in upgrade.fields() {
        assert_eq!(*name, name.to_ascii_lowercase());
        assert!(!matches!(
            name.as_str(),
            "upgrade" | "connection" | "sec-websocket-accept"
        ));
    }
}

fn client(setup: &Setup, response: &Head<'_>) {
    // The client's own request, answered by this crate's server (which configures `x-test`).
    let (handshake, connect) = setup.start();
    assert_eq!(
        (connect.method(), connect.protocol(), connect.scheme()),
        ("CONNECT", "websocket", "http")
    );
    assert_eq!(
        (connect.authority(), connect.path()),
        ("example.com", "/chat")
    );
    assert_eq!(
        connect.fields().first(),
        Some(&("sec-websocket-version".into(), "13".into()))
    );
    for (name, _) in connect.fields() {
        assert!(!matches!(
            name.as_str(),
            "sec-websocket-key" | "upgrade" | "connection"
        ));
    }
    let mut server = ServerHandshake::new({
        let mut config = ServerConfig::default();
        config.extensions = vec![Arc::new(TestFactory)];
        config
    });
    let head = RequestHead::http2(
        connect.method(),
        Some(connect.protocol()),
        Some(connect.scheme()),
        Some(connect.authority()),
        Some(connect.path()),
    );
    let request = server
        .handle_head(head, connect.fields().iter().cloned().collect())
        .expect("the server accepts the client's extended CONNECT");
    let chosen = request.protocols().first().cloned();
    let mut acceptance = Acceptance::new();
    if let Some(protocol) = &chosen {
        acceptance = acceptance.protocol(protocol);
    }
    let answer = request.accept(acceptance).expect("an offered subprotocol");
    let upgrade = handshake
        .handle_response(answer.status(), answer.fields().iter().cloned().collect())
        .expect("the client accepts the server's answer");
    assert_eq!(upgrade.protocol(), chosen.as_deref());
    assert_eq!(upgrade.extension().is_some(), setup.flags & 4 != 0);

    // The fuzzed response.
    let status = response
        .pseudo("status")
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(200);
    let (handshake, _) = setup.start();
    match handshake.handle_response(status, response.headers()) {
        Ok(upgrade) => {
            assert!((200..300).contains(&status), "an upgrade on {status}");
            let fields = response.headers();
            let answered: Vec<&[u8]> = fields
                .get_all("sec-websocket-protocol")
                .map(<[u8]>::trim_ascii)
                .collect();
            if let Some(protocol) = upgrade.protocol() {
                assert!(setup.flags & 8 != 0 && PROTOCOLS.contains(&protocol));
                assert_eq!(answered, [protocol.as_bytes()]);
            }
            if upgrade.extension().is_some() {
                assert!(setup.flags & 4 != 0, "an extension that was not offered");
                let named = fields.get_all("sec-websocket-extensions").any(|v| {
                    let v = String::from_utf8_lossy(v).to_ascii_lowercase();
                    v.contains(TEST_EXTENSION)
                });
                assert!(named, "an extension the response does not name");
            }
            assert!(upgrade.trailing().is_empty());
        }
        Err(ClientError::Status { code, .. }) => {
            assert_eq!(code, status);
            assert!(!(200..300).contains(&status), "Status error for {status}");
        }
        Err(err) => {
            assert!((200..300).contains(&status), "{err:?} for status {status}");
            assert_ne!(err, ClientError::Finished);
        }
    }
}
