//! The HTTP/2 form of the opening handshake (RFC 8441) through the public API: every rule of the extended
//! CONNECT on the server's side with the answer it gets, the client's request and its checks of the
//! response, a head parsed by an HTTP/1.1 layer, and both ends talking over the connection they open.

use std::sync::Arc;

use wslane::extension::{
    Accepted, Extension, ExtensionElement, ExtensionFactory, NegotiationError,
};
use wslane::handshake::h2::{PROTOCOL, SETTINGS_ENABLE_CONNECT_PROTOCOL};
use wslane::handshake::{
    Acceptance, ClientError, ClientRequest, Headers, HttpVersion, OriginPolicy, Request,
    RequestHead, ServerConfig, ServerError, ServerHandshake, Url,
};
use wslane::{Config, Event, Instant, OpCode, ProtocolError, SendError};

// ---------------------------------------------------------------------------------------------------------
// `x-test`, an extension that accepts any offer and claims no bit.

struct Passthrough;

impl Extension for Passthrough {
    fn rsv_bits(&self) -> u8 {
        0
    }

    fn decode(
        &mut self,
        _rsv: u8,
        input: &[u8],
        _fin: bool,
        out: &mut Vec<u8>,
        _limit: usize,
    ) -> Result<(), ProtocolError> {
        out.extend_from_slice(input);
        Ok(())
    }

    fn encode(&mut self, _: OpCode, _: &[u8], _: &mut Vec<u8>) -> Result<Option<u8>, SendError> {
        Ok(None)
    }
}

struct TestFactory;

impl ExtensionFactory for TestFactory {
    fn name(&self) -> &str {
        "x-test"
    }

    fn offers(&self) -> Vec<ExtensionElement> {
        vec![ExtensionElement::new("x-test")]
    }

    fn accept(&self, _: &[ExtensionElement]) -> Result<Option<Accepted>, NegotiationError> {
        Ok(Some((
            ExtensionElement::new("x-test"),
            Box::new(Passthrough),
        )))
    }

    fn confirm(&self, _: &ExtensionElement) -> Result<Box<dyn Extension>, NegotiationError> {
        Ok(Box::new(Passthrough))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers.

/// The pseudo-header fields of a valid extended CONNECT.
#[derive(Clone, Copy)]
struct Pseudo {
    method: &'static str,
    protocol: Option<&'static str>,
    scheme: Option<&'static str>,
    authority: Option<&'static str>,
    path: Option<&'static str>,
}

const CONNECT: Pseudo = Pseudo {
    method: "CONNECT",
    protocol: Some("websocket"),
    scheme: Some("https"),
    authority: Some("example.com"),
    path: Some("/chat?room=1"),
};

impl Pseudo {
    fn head(&self) -> RequestHead<'static> {
        RequestHead::http2(
            self.method,
            self.protocol,
            self.scheme,
            self.authority,
            self.path,
        )
    }
}

fn config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.extensions = vec![Arc::new(TestFactory)];
    config
}

/// `sec-websocket-version: 13` and `extra`.
fn fields(extra: &[(&str, &str)]) -> Headers {
    [("sec-websocket-version", "13")]
        .into_iter()
        .chain(extra.iter().copied())
        .collect()
}

fn serve_with(
    config: ServerConfig,
    pseudo: Pseudo,
    headers: Headers,
) -> Result<Request, ServerError> {
    ServerHandshake::new(config).handle_head(pseudo.head(), headers)
}

fn serve(pseudo: Pseudo, headers: Headers) -> Result<Request, ServerError> {
    serve_with(config(), pseudo, headers)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------------------------
// Server.

#[test]
fn server_accepts_an_extended_connect_with_a_200_and_no_accept_key() {
    let headers = fields(&[
        ("origin", "https://example.com"),
        ("sec-websocket-protocol", "chat.v2, chat.v1"),
        ("sec-websocket-extensions", "x-test"),
        ("cookie", "id=7"),
    ]);
    let request = serve(CONNECT, headers).unwrap();
    assert_eq!(request.version(), HttpVersion::Http2);
    assert_eq!(request.method(), "CONNECT");
    assert_eq!(request.path(), "/chat?room=1");
    assert_eq!(request.host(), "example.com");
    assert_eq!(request.origin(), Some("https://example.com"));
    assert_eq!(request.key(), None);
    assert_eq!(request.protocols(), ["chat.v2", "chat.v1"]);
    assert_eq!(request.headers().get_str("cookie"), Some("id=7"));
    assert_eq!(request.accepted_extension().unwrap().name, "x-test");
    assert!(request.trailing().is_empty());

    let acceptance = Acceptance::new()
        .protocol("chat.v1")
        .header("Set-Cookie", "s=1")
        .unwrap();
    let upgrade = request.accept(acceptance).unwrap();
    assert_eq!(upgrade.version(), HttpVersion::Http2);
    assert_eq!(upgrade.status(), 200);
    assert!(
        upgrade.response().is_empty(),
        "HTTP/2 has no response bytes"
    );
    assert!(upgrade.trailing().is_empty());
    let expected: Vec<(String, String)> = [
        ("sec-websocket-protocol", "chat.v1"),
        ("sec-websocket-extensions", "x-test"),
        ("set-cookie", "s=1"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(upgrade.fields(), expected);
    assert_eq!(upgrade.protocol(), Some("chat.v1"));
    assert!(upgrade.extension().is_some());
}

#[test]
fn server_answers_with_neither_subprotocol_nor_extension_when_none_was_settled() {
    let request = serve(CONNECT, fields(&[])).unwrap();
    let upgrade = request.accept(Acceptance::new()).unwrap();
    assert_eq!(upgrade.status(), 200);
    assert!(upgrade.fields().is_empty());
}

#[test]
fn server_refusals_follow_rfc_8441_and_carry_their_status_and_fields() {
    use ServerError as E;
    let with = |pseudo: Pseudo| serve(pseudo, fields(&[]));
    let cases: Vec<(&str, Result<Request, ServerError>, ServerError)> = vec![
        // Section 4: the method is CONNECT.
        (
            "GET",
            with(Pseudo {
                method: "GET",
                ..CONNECT
            }),
            E::MethodNotAllowed,
        ),
        // Section 5: :protocol is websocket; a plain CONNECT is no WebSocket.
        (
            "no :protocol",
            with(Pseudo {
                protocol: None,
                ..CONNECT
            }),
            E::NotWebSocketConnect,
        ),
        (
            "other :protocol",
            with(Pseudo {
                protocol: Some("connect-udp"),
                ..CONNECT
            }),
            E::NotWebSocketConnect,
        ),
        // Section 4: :scheme and :path are included.
        (
            "no :scheme",
            with(Pseudo {
                scheme: None,
                ..CONNECT
            }),
            E::InvalidPseudoHeader(":scheme"),
        ),
        (
            "ftp :scheme",
            with(Pseudo {
                scheme: Some("ftp"),
                ..CONNECT
            }),
            E::InvalidPseudoHeader(":scheme"),
        ),
        (
            "no :path",
            with(Pseudo {
                path: None,
                ..CONNECT
            }),
            E::InvalidPseudoHeader(":path"),
        ),
        (
            "asterisk :path",
            with(Pseudo {
                path: Some("*"),
                ..CONNECT
            }),
            E::InvalidTarget,
        ),
        // Section 4: :authority stands for Host; with neither, there is no host.
        (
            "no host",
            with(Pseudo {
                authority: None,
                ..CONNECT
            }),
            E::MissingHost,
        ),
        (
            "Host differs from :authority",
            serve(CONNECT, fields(&[("host", "other.example")])),
            E::Malformed,
        ),
        // RFC 9113 section 8.2.2: no connection-specific field, so no Upgrade or Connection either.
        (
            "connection",
            serve(CONNECT, fields(&[("connection", "Upgrade")])),
            E::ConnectionSpecificHeader("connection"),
        ),
        (
            "upgrade",
            serve(CONNECT, fields(&[("upgrade", "websocket")])),
            E::ConnectionSpecificHeader("upgrade"),
        ),
        (
            "keep-alive",
            serve(CONNECT, fields(&[("keep-alive", "timeout=5")])),
            E::ConnectionSpecificHeader("keep-alive"),
        ),
        (
            "proxy-connection",
            serve(CONNECT, fields(&[("proxy-connection", "close")])),
            E::ConnectionSpecificHeader("proxy-connection"),
        ),
        (
            "transfer-encoding",
            serve(CONNECT, fields(&[("transfer-encoding", "chunked")])),
            E::ConnectionSpecificHeader("transfer-encoding"),
        ),
        (
            "te other than trailers",
            serve(CONNECT, fields(&[("te", "gzip")])),
            E::ConnectionSpecificHeader("te"),
        ),
        // The stream carries frames, not a body.
        (
            "content-length",
            serve(CONNECT, fields(&[("content-length", "5")])),
            E::RequestBody,
        ),
        // Section 5 keeps sec-websocket-version: 13, once.
        (
            "no version",
            serve(CONNECT, Headers::new()),
            E::UnsupportedVersion,
        ),
        (
            "version 8",
            serve(
                CONNECT,
                [("sec-websocket-version", "8")].into_iter().collect(),
            ),
            E::UnsupportedVersion,
        ),
        (
            "two versions",
            serve(CONNECT, fields(&[("sec-websocket-version", "13")])),
            E::UnsupportedVersion,
        ),
        // Section 5 keeps the subprotocol and extension lists of RFC 6455.
        (
            "bad subprotocol list",
            serve(CONNECT, fields(&[("sec-websocket-protocol", "a b")])),
            E::InvalidProtocolHeader,
        ),
        (
            "bad extension list",
            serve(CONNECT, fields(&[("sec-websocket-extensions", "x-test;;")])),
            E::InvalidExtensionHeader,
        ),
    ];
    for (name, result, expected) in cases {
        assert_eq!(result.unwrap_err(), expected, "{name}");
    }
}

#[test]
fn server_refusal_answers_in_http2_have_no_426_and_no_connection_fields() {
    use ServerError as E;
    let h2 = HttpVersion::Http2;
    assert_eq!(E::UnsupportedVersion.status_in(h2), 400);
    assert_eq!(
        E::UnsupportedVersion.fields_in(h2),
        [
            ("sec-websocket-version", "13"),
            ("content-type", "text/plain; charset=utf-8")
        ]
    );
    assert_eq!(E::MethodNotAllowed.status_in(h2), 405);
    assert_eq!(E::MethodNotAllowed.fields_in(h2)[0], ("allow", "CONNECT"));
    assert_eq!(E::OriginRefused.status_in(h2), 403);
    assert_eq!(E::TooManyHeaders.status_in(h2), 431);
    for error in [
        E::UnsupportedVersion,
        E::MethodNotAllowed,
        E::OriginRefused,
        E::NotWebSocketConnect,
        E::ConnectionSpecificHeader("te"),
    ] {
        assert!(error.status_in(h2) != 426, "{error}");
        for (name, _) in error.fields_in(h2) {
            assert_eq!(name, name.to_ascii_lowercase(), "{error}");
            assert!(name != "connection" && name != "upgrade", "{error}");
        }
    }
    assert_eq!(E::NotWebSocketConnect.status_in(h2), 400);
    assert_eq!(E::InvalidPseudoHeader(":path").status_in(h2), 400);
    assert_eq!(
        E::InvalidPseudoHeader(":path").to_string(),
        "missing or invalid :path"
    );
}

/// The fields `fields_in(Http11)` gives are those `to_response` writes, so an HTTP layer that writes the
/// head itself answers as the raw adapters do.
#[test]
fn refusal_fields_match_the_http1_response_bytes() {
    use ServerError as E;
    for error in [
        E::UnsupportedVersion,
        E::MethodNotAllowed,
        E::OriginRefused,
        E::InvalidKey,
        E::HeadTooLarge,
    ] {
        let bytes = error.to_response();
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut headers);
        let len = match response.parse(&bytes).unwrap() {
            httparse::Status::Complete(len) => len,
            httparse::Status::Partial => panic!("partial"),
        };
        assert_eq!(response.code, Some(error.status_in(HttpVersion::Http11)));
        let written: Vec<(&str, &str)> = response
            .headers
            .iter()
            .filter(|h| h.name != "Content-Length")
            .map(|h| (h.name, std::str::from_utf8(h.value).unwrap()))
            .collect();
        assert_eq!(written, error.fields_in(HttpVersion::Http11), "{error}");
        assert_eq!(&bytes[len..], error.body().as_bytes());
    }
}

#[test]
fn server_refuses_an_origin_its_policy_refuses_with_403() {
    let mut listed = config();
    listed.origin = OriginPolicy::List(vec!["https://example.com".into()]);
    let evil = fields(&[("origin", "https://evil.example")]);
    let err = serve_with(listed.clone(), CONNECT, evil).unwrap_err();
    assert_eq!(err, ServerError::OriginRefused);
    assert_eq!(err.status_in(HttpVersion::Http2), 403);
    let good = fields(&[("origin", "https://EXAMPLE.com")]);
    assert!(serve_with(listed.clone(), CONNECT, good).is_ok());
    assert!(serve_with(listed, CONNECT, fields(&[])).is_ok());
}

#[test]
fn server_ignores_a_key_and_takes_te_trailers_and_a_host_without_authority() {
    let with_key = fields(&[
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("te", "trailers"),
    ]);
    let request = serve(CONNECT, with_key).unwrap();
    assert_eq!(request.key(), None);
    let upgrade = request.accept(Acceptance::new()).unwrap();
    assert_eq!(field(upgrade.fields(), "sec-websocket-accept"), None);

    let no_authority = Pseudo {
        authority: None,
        ..CONNECT
    };
    let request = serve(no_authority, fields(&[("host", "example.org:8443")])).unwrap();
    assert_eq!(request.host(), "example.org:8443");
    let same = serve(CONNECT, fields(&[("host", "EXAMPLE.com")])).unwrap();
    assert_eq!(same.host(), "example.com");
}

#[test]
fn server_cannot_choose_a_subprotocol_not_offered() {
    let request = serve(CONNECT, fields(&[("sec-websocket-protocol", "a")])).unwrap();
    let err = request.accept(Acceptance::new().protocol("b")).unwrap_err();
    assert_eq!(err, ServerError::ProtocolNotOffered("b".into()));
    assert_eq!(err.status_in(HttpVersion::Http2), 500);
}

#[test]
fn a_given_head_is_bounded_by_the_limits_and_taken_once() {
    let mut config = config();
    config.limits.max_headers = 4;
    config.limits.max_head_size = 100;
    let many: Vec<(String, String)> = (0..4).map(|i| (format!("x-{i}"), "1".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let err = serve_with(config.clone(), CONNECT, fields(&many)).unwrap_err();
    assert_eq!(err, ServerError::TooManyHeaders);
    let long = "a".repeat(100);
    let err = serve_with(config.clone(), CONNECT, fields(&[("x-long", &long)])).unwrap_err();
    assert_eq!(err, ServerError::HeadTooLarge);

    let mut handshake = ServerHandshake::new(config);
    assert!(handshake.handle_head(CONNECT.head(), fields(&[])).is_ok());
    assert_eq!(handshake.target(), Some("/chat?room=1"));
    let again = handshake.handle_head(CONNECT.head(), fields(&[]));
    assert_eq!(again.unwrap_err(), ServerError::Finished);
}

/// An HTTP/1.1 head that a layer like hyper has parsed gets the same checks as bytes, and the same 101.
#[test]
fn a_parsed_http1_head_is_checked_as_bytes_are() {
    let base = [
        ("Host", "example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ];
    let head = |method, version| RequestHead::http1(method, "/chat", version);
    let serve1 = |head, headers: &[(&str, &str)]| {
        ServerHandshake::new(config()).handle_head(head, headers.iter().copied().collect())
    };
    let request = serve1(head("GET", HttpVersion::Http11), &base).unwrap();
    assert_eq!(request.version(), HttpVersion::Http11);
    assert_eq!(request.key(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    let upgrade = request.accept(Acceptance::new()).unwrap();
    assert_eq!(upgrade.status(), 101);
    assert_eq!(
        field(upgrade.fields(), "Sec-WebSocket-Accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    let mut from_bytes = ServerHandshake::new(config());
    let bytes = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";
    let same = from_bytes.handle_input(bytes).unwrap().unwrap();
    let same = same.accept(Acceptance::new()).unwrap();
    assert_eq!(upgrade.response(), same.response());
    assert_eq!(upgrade.fields(), same.fields());

    let err = serve1(head("POST", HttpVersion::Http11), &base).unwrap_err();
    assert_eq!(err, ServerError::MethodNotAllowed);
    let err = serve1(head("GET", HttpVersion::Http10), &base).unwrap_err();
    assert_eq!(err, ServerError::HttpVersion);
    let err = serve1(head("GET", HttpVersion::Http11), &base[..4]).unwrap_err();
    assert_eq!(err, ServerError::UnsupportedVersion);
    assert_eq!(err.status_in(HttpVersion::Http11), 426);
}

// ---------------------------------------------------------------------------------------------------------
// Client.

#[test]
fn client_builds_the_extended_connect_from_the_url() {
    let cases = [
        ("ws://example.com/chat", "http", "example.com", "/chat"),
        ("wss://example.com", "https", "example.com", "/"),
        (
            "wss://[::1]:9443/live?v=2",
            "https",
            "[::1]:9443",
            "/live?v=2",
        ),
        ("ws://example.com:80/a", "http", "example.com", "/a"),
    ];
    for (url, scheme, authority, path) in cases {
        let request = ClientRequest::new(Url::parse(url).unwrap());
        let (_, connect) = request.start_connect();
        assert_eq!(connect.method(), "CONNECT", "{url}");
        assert_eq!(connect.protocol(), PROTOCOL, "{url}");
        assert_eq!(connect.scheme(), scheme, "{url}");
        assert_eq!(connect.authority(), authority, "{url}");
        assert_eq!(connect.path(), path, "{url}");
        assert_eq!(
            connect.fields(),
            [("sec-websocket-version".into(), "13".into())],
            "{url}"
        );
    }
    assert_eq!(SETTINGS_ENABLE_CONNECT_PROTOCOL, 8);
}

#[test]
fn client_request_options_become_lower_case_fields_without_key_upgrade_or_connection() {
    let request = ClientRequest::new(Url::parse("ws://example.com/").unwrap())
        .origin("https://app.example")
        .and_then(|r| r.protocol("v2"))
        .and_then(|r| r.protocol("v1"))
        .and_then(|r| r.extension(Arc::new(TestFactory)))
        .and_then(|r| r.header("Authorization", "Bearer t"))
        .unwrap();
    let (_, connect) = request.start_connect();
    let names: Vec<&str> = connect.fields().iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sec-websocket-version",
            "origin",
            "sec-websocket-protocol",
            "sec-websocket-extensions",
            "authorization"
        ]
    );
    assert_eq!(
        field(connect.fields(), "sec-websocket-protocol"),
        Some("v2, v1")
    );
    assert_eq!(field(connect.fields(), "authorization"), Some("Bearer t"));
}

fn client() -> wslane::handshake::ConnectHandshake {
    let request = ClientRequest::new(Url::parse("wss://example.com/").unwrap())
        .protocol("v1")
        .and_then(|r| r.extension(Arc::new(TestFactory)))
        .unwrap();
    request.start_connect().0
}

fn response(extra: &[(&str, &str)]) -> Headers {
    extra.iter().copied().collect()
}

/// What a refused response must fail with.
type Expect = fn(&ClientError) -> bool;

#[test]
fn client_refusals() {
    let cases: Vec<(&str, u16, Headers, Expect)> = vec![
        (
            "400",
            400,
            response(&[("x-why", "no")]),
            |e| matches!(e, ClientError::Status { code: 400, headers, .. } if headers.get_str("x-why") == Some("no")),
        ),
        ("101 is not HTTP/2's answer", 101, response(&[]), |e| {
            matches!(e, ClientError::Status { code: 101, .. })
        }),
        ("redirect", 302, response(&[("location", "/x")]), |e| {
            matches!(e, ClientError::Status { code: 302, .. })
        }),
        (
            "unoffered subprotocol",
            200,
            response(&[("sec-websocket-protocol", "v9")]),
            |e| *e == ClientError::UnexpectedProtocol("v9".into()),
        ),
        (
            "two subprotocols",
            200,
            response(&[
                ("sec-websocket-protocol", "v1"),
                ("sec-websocket-protocol", "v1"),
            ]),
            |e| *e == ClientError::InvalidProtocolHeader,
        ),
        (
            "unoffered extension",
            200,
            response(&[("sec-websocket-extensions", "x-other")]),
            |e| *e == ClientError::UnexpectedExtension("x-other".into()),
        ),
        (
            "bad extension list",
            200,
            response(&[("sec-websocket-extensions", ";")]),
            |e| *e == ClientError::InvalidExtensionHeader,
        ),
    ];
    for (name, status, headers, expected) in cases {
        let err = client().handle_response(status, headers).unwrap_err();
        assert!(expected(&err), "{name}: {err:?}");
    }
}

#[test]
fn client_takes_a_2xx_without_accept_key() {
    let outcome = client()
        .handle_response(200, response(&[("sec-websocket-protocol", "v1")]))
        .unwrap();
    assert_eq!(outcome.protocol(), Some("v1"));
    assert!(outcome.extension().is_none());
    assert!(outcome.trailing().is_empty());
    let outcome = client()
        .handle_response(200, response(&[("sec-websocket-extensions", "x-test")]))
        .unwrap();
    assert_eq!(outcome.protocol(), None);
    assert!(outcome.extension().is_some());
}

// ---------------------------------------------------------------------------------------------------------
// Both ends: the connection an extended CONNECT opens is the one an upgrade opens.

#[test]
fn client_and_server_open_the_same_connection_as_over_http1() {
    let request = ClientRequest::new(Url::parse("wss://example.com:8443/live").unwrap())
        .protocol("v1")
        .and_then(|r| r.extension(Arc::new(TestFactory)))
        .unwrap();
    let (client, connect) = request.start_connect();
    let head = RequestHead::http2(
        connect.method(),
        Some(connect.protocol()),
        Some(connect.scheme()),
        Some(connect.authority()),
        Some(connect.path()),
    );
    let headers: Headers = connect.fields().iter().map(|(n, v)| (n, v)).collect();
    let request = ServerHandshake::new(config())
        .handle_head(head, headers)
        .unwrap();
    assert_eq!(request.host(), "example.com:8443");
    let upgrade = request.accept(Acceptance::new().protocol("v1")).unwrap();
    let headers: Headers = upgrade.fields().iter().map(|(n, v)| (n, v)).collect();
    let outcome = client.handle_response(upgrade.status(), headers).unwrap();

    let mut server = upgrade.into_connection(Instant::ZERO, Config::default());
    let (mut client, response) =
        outcome.into_connection(Instant::ZERO, Config::default(), || [1, 2, 3, 4]);
    assert_eq!(response.protocol.as_deref(), Some("v1"));

    client.sender().send_text("over a stream").unwrap();
    let bytes = client.poll_transmit().to_vec();
    client.advance_transmit(Instant::ZERO, bytes.len());
    let room = server.read_buffer(bytes.len());
    room[..bytes.len()].copy_from_slice(&bytes);
    server.handle_read(Instant::ZERO, bytes.len());
    assert_eq!(
        server.poll_event().unwrap(),
        Some(Event::Text("over a stream"))
    );
}

#[test]
fn http_versions_display_as_http_writes_them() {
    assert_eq!(HttpVersion::Http10.to_string(), "HTTP/1.0");
    assert_eq!(HttpVersion::Http11.to_string(), "HTTP/1.1");
    assert_eq!(HttpVersion::Http2.to_string(), "HTTP/2");
}
