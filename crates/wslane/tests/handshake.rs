//! The opening handshake through the public API: every refusal on both sides, the happy paths, and a
//! client and a server talking to each other.

use std::sync::Arc;

use proptest::prelude::*;
use wslane::extension::{
    Accepted, Extension, ExtensionElement, ExtensionFactory, NegotiationError,
};
use wslane::handshake::{
    accept_key, Acceptance, BuildError, ClientError, ClientHandshake, ClientRequest, Limits,
    OriginPolicy, Rejection, Request, ServerConfig, ServerError, ServerHandshake, Url, UrlError,
};
use wslane::{Config, Instant, OpCode, ProtocolError, SendError};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const NONCE: [u8; 16] = *b"the sample nonce";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// An unmasked server text frame "hi" and a masked client one.
const SERVER_FRAME: &[u8] = b"\x81\x02hi";
const CLIENT_FRAME: &[u8] = b"\x81\x82\x01\x02\x03\x04\x69\x6b";

// ---------------------------------------------------------------------------------------------------------
// A small extension: `x-test; level=N`, claiming RSV1. An offer or response with a `bad` parameter is
// malformed.

struct TestExtension;

impl Extension for TestExtension {
    fn rsv_bits(&self) -> u8 {
        0b100
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

    fn encode(
        &mut self,
        _opcode: OpCode,
        _input: &[u8],
        _out: &mut Vec<u8>,
    ) -> Result<Option<u8>, SendError> {
        Ok(None)
    }
}

struct TestFactory;

/// How [`TestFactory`] refuses an offer or a response with a `bad` parameter.
fn bad_parameter() -> NegotiationError {
    NegotiationError::UnknownParameter {
        extension: "x-test".into(),
        parameter: "bad".into(),
    }
}

fn level(offer: &ExtensionElement) -> Result<Option<String>, NegotiationError> {
    let mut level = None;
    for (name, value) in &offer.params {
        match name.as_str() {
            "level" => level = value.clone(),
            "bad" => return Err(bad_parameter()),
            _ => return Ok(None),
        }
    }
    Ok(Some(level.unwrap_or_else(|| "1".into())))
}

impl ExtensionFactory for TestFactory {
    fn name(&self) -> &str {
        "x-test"
    }

    fn offers(&self) -> Vec<ExtensionElement> {
        vec![ExtensionElement::new("x-test").param("level", Some("2"))]
    }

    fn accept(&self, offers: &[ExtensionElement]) -> Result<Option<Accepted>, NegotiationError> {
        for offer in offers {
            if let Some(level) = level(offer)? {
                let element = ExtensionElement::new("x-test").param("level", Some(&level));
                return Ok(Some((element, Box::new(TestExtension))));
            }
        }
        Ok(None)
    }

    fn confirm(&self, response: &ExtensionElement) -> Result<Box<dyn Extension>, NegotiationError> {
        if level(response)?.is_none() {
            // A response may carry nothing but `level`.
            let (parameter, _) = response.params.iter().find(|(n, _)| n != "level").unwrap();
            return Err(NegotiationError::UnknownParameter {
                extension: "x-test".into(),
                parameter: parameter.clone(),
            });
        }
        Ok(Box::new(TestExtension))
    }
}

/// A factory that declines every offer of its name.
struct Declining(&'static str);

impl ExtensionFactory for Declining {
    fn name(&self) -> &str {
        self.0
    }

    fn offers(&self) -> Vec<ExtensionElement> {
        vec![ExtensionElement::new(self.0)]
    }

    fn accept(&self, _: &[ExtensionElement]) -> Result<Option<Accepted>, NegotiationError> {
        Ok(None)
    }

    fn confirm(&self, _: &ExtensionElement) -> Result<Box<dyn Extension>, NegotiationError> {
        Err(NegotiationError::Other {
            extension: self.0.into(),
            reason: "every response is refused".into(),
        })
    }
}

/// A factory whose response element would inject a header.
struct Injecting;

impl ExtensionFactory for Injecting {
    fn name(&self) -> &str {
        "x-inject"
    }

    fn offers(&self) -> Vec<ExtensionElement> {
        vec![ExtensionElement::new("x-inject").param("v", Some("1\r\nEvil: yes"))]
    }

    fn accept(&self, _: &[ExtensionElement]) -> Result<Option<Accepted>, NegotiationError> {
        let element = ExtensionElement::new("x-inject").param("v", Some("1\r\nEvil: yes"));
        Ok(Some((element, Box::new(TestExtension))))
    }

    fn confirm(&self, _: &ExtensionElement) -> Result<Box<dyn Extension>, NegotiationError> {
        Ok(Box::new(TestExtension))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers.

const BASE: [(&str, &str); 5] = [
    ("Host", "example.com"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", KEY),
    ("Sec-WebSocket-Version", "13"),
];

/// A request: `request_line`, the base fields except those named in `drop`, then `extra` lines.
fn request_with(request_line: &str, drop: &[&str], extra: &[&str]) -> Vec<u8> {
    let mut out = format!("{request_line}\r\n");
    for (name, value) in BASE {
        if !drop.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            out += &format!("{name}: {value}\r\n");
        }
    }
    for line in extra {
        out += line;
        out += "\r\n";
    }
    out += "\r\n";
    out.into_bytes()
}

fn get_request(extra: &[&str]) -> Vec<u8> {
    request_with("GET /chat HTTP/1.1", &[], extra)
}

fn server_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.extensions = vec![Arc::new(Declining("x-decline")), Arc::new(TestFactory)];
    config
}

fn serve(config: ServerConfig, bytes: &[u8]) -> Result<Option<Request>, ServerError> {
    ServerHandshake::new(config).handle_input(bytes)
}

/// A response parsed by httparse: status, fields, body.
fn parse_response(bytes: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        other => panic!("not a response: {other:?}"),
    };
    let fields = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8(h.value.to_vec()).unwrap(),
            )
        })
        .collect();
    (response.code.unwrap(), fields, bytes[len..].to_vec())
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------------------------
// Server refusals.

/// The base request with the field `name` left out, and `lines` added.
fn without(name: &str, lines: &[&str]) -> Vec<u8> {
    request_with("GET /chat HTTP/1.1", &[name], lines)
}

/// The base request with another request line.
fn line(request_line: &str) -> Vec<u8> {
    request_with(request_line, &[], &[])
}

#[test]
fn server_refusals_carry_their_status_and_close_the_connection() {
    use ServerError as E;
    let long_field = format!("X-Long: {}", "a".repeat(9000));
    let many_fields: Vec<String> = (0..60).map(|i| format!("X-{i}: {i}")).collect();
    let many_fields: Vec<&str> = many_fields.iter().map(String::as_str).collect();
    let plain = server_config;
    let listed = || {
        let mut config = server_config();
        config.origin = OriginPolicy::List(vec!["https://example.com".into()]);
        config
    };
    let checked = || {
        let mut config = server_config();
        config.origin = OriginPolicy::Check(Arc::new(|origin| origin == Some("https://ok")));
        config
    };
    let injecting = || {
        let mut config = ServerConfig::default();
        config.extensions = vec![Arc::new(Injecting)];
        config
    };
    let not_http = b"\x16\x03\x01\x02\x00\r\n\r\n".to_vec();
    let no_colon = b"GET / HTTP/1.1\r\nHost example.com\r\n\r\n".to_vec();
    let short_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j";
    let bad_key = "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==";
    let two_origins = ["Origin: https://example.com", "Origin: https://evil.com"];
    let not_negotiable = bad_parameter();
    #[rustfmt::skip]
    let cases: Vec<(&str, ServerConfig, Vec<u8>, ServerError, u16)> = vec![
        ("not HTTP", plain(), not_http, E::Malformed, 400),
        ("header without colon", plain(), no_colon, E::Malformed, 400),
        ("HTTP/2.0", plain(), line("GET / HTTP/2.0"), E::Malformed, 400),
        ("POST", plain(), line("POST / HTTP/1.1"), E::MethodNotAllowed, 405),
        ("lowercase get", plain(), line("get / HTTP/1.1"), E::MethodNotAllowed, 405),
        ("HTTP/1.0", plain(), line("GET / HTTP/1.0"), E::HttpVersion, 400),
        ("no Host", plain(), without("Host", &[]), E::MissingHost, 400),
        ("asterisk-form target", plain(), line("GET * HTTP/1.1"), E::InvalidTarget, 400),
        ("authority-form target", plain(), line("GET example.com:80 HTTP/1.1"), E::InvalidTarget, 400),
        ("a body by Content-Length", plain(), get_request(&["Content-Length: 5"]), E::RequestBody, 400),
        ("a Content-Length that is no number", plain(), get_request(&["Content-Length: 5a"]), E::RequestBody, 400),
        ("an empty Content-Length", plain(), get_request(&["Content-Length: "]), E::RequestBody, 400),
        ("two Content-Lengths", plain(), get_request(&["Content-Length: 0", "Content-Length: 0"]), E::DuplicateHeader("Content-Length"), 400),
        ("chunked body", plain(), get_request(&["Transfer-Encoding: chunked"]), E::RequestBody, 400),
        ("any Transfer-Encoding", plain(), get_request(&["Transfer-Encoding: identity"]), E::RequestBody, 400),
        ("two Hosts", plain(), get_request(&["Host: a"]), E::DuplicateHeader("Host"), 400),
        ("no Upgrade", plain(), without("Upgrade", &[]), E::NotWebSocketUpgrade, 400),
        ("Upgrade: h2c", plain(), without("Upgrade", &["Upgrade: h2c"]), E::NotWebSocketUpgrade, 400),
        ("Upgrade: websocketx", plain(), without("Upgrade", &["Upgrade: websocketx"]), E::NotWebSocketUpgrade, 400),
        ("no Connection", plain(), without("Connection", &[]), E::ConnectionNotUpgrade, 400),
        ("Connection: keep-alive", plain(), without("Connection", &["Connection: keep-alive"]), E::ConnectionNotUpgrade, 400),
        ("no key", plain(), without("Sec-WebSocket-Key", &[]), E::InvalidKey, 400),
        ("15-byte key", plain(), without("Sec-WebSocket-Key", &[short_key]), E::InvalidKey, 400),
        ("key not base64", plain(), without("Sec-WebSocket-Key", &[bad_key]), E::InvalidKey, 400),
        ("two keys", plain(), get_request(&[short_key]), E::DuplicateHeader("Sec-WebSocket-Key"), 400),
        ("version 8", plain(), without("Sec-WebSocket-Version", &["Sec-WebSocket-Version: 8"]), E::UnsupportedVersion, 426),
        ("no version", plain(), without("Sec-WebSocket-Version", &[]), E::UnsupportedVersion, 426),
        ("two versions", plain(), get_request(&["Sec-WebSocket-Version: 8"]), E::UnsupportedVersion, 426),
        ("origin not listed", listed(), get_request(&["Origin: https://evil.com"]), E::OriginRefused, 403),
        ("origin refused by check", checked(), get_request(&["Origin: https://no"]), E::OriginRefused, 403),
        ("no origin, check wants one", checked(), get_request(&[]), E::OriginRefused, 403),
        ("two origins", listed(), get_request(&two_origins), E::DuplicateHeader("Origin"), 400),
        ("protocol not a token", plain(), get_request(&["Sec-WebSocket-Protocol: a, b c"]), E::InvalidProtocolHeader, 400),
        ("malformed extensions", plain(), get_request(&["Sec-WebSocket-Extensions: x; =1"]), E::InvalidExtensionHeader, 400),
        ("offer refused", plain(), get_request(&["Sec-WebSocket-Extensions: x-test; bad"]), E::ExtensionNegotiation(not_negotiable), 400),
        ("answer with CRLF", injecting(), get_request(&["Sec-WebSocket-Extensions: x-inject"]), E::InvalidExtensionResponse, 500),
        ("head over 8 KiB", plain(), get_request(&[&long_field]), E::HeadTooLarge, 431),
        ("65 fields", plain(), get_request(&many_fields), E::TooManyHeaders, 431),
    ];

    for (name, config, bytes, expected, status) in cases {
        let mut server = ServerHandshake::new(config);
        let err = server.handle_input(&bytes).expect_err(name);
        assert_eq!(err, expected, "{name}");
        assert_eq!(err.status(), status, "{name}");
        assert_eq!(
            server.handle_input(b"more").unwrap_err(),
            ServerError::Finished,
            "{name}"
        );

        let (code, fields, body) = parse_response(&err.to_response());
        assert_eq!(code, status, "{name}");
        let connection = field(&fields, "Connection")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            connection.split(',').any(|t| t.trim() == "close"),
            "{name}: {connection}"
        );
        assert_eq!(
            field(&fields, "Content-Type"),
            Some("text/plain; charset=utf-8"),
            "{name}"
        );
        assert_eq!(
            field(&fields, "Content-Length"),
            Some(body.len().to_string().as_str()),
            "{name}"
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            format!("{err}\n"),
            "{name}"
        );
        assert_eq!(
            field(&fields, "Allow"),
            (status == 405).then_some("GET"),
            "{name}"
        );
        assert_eq!(
            field(&fields, "Sec-WebSocket-Version"),
            (status == 426).then_some("13"),
            "{name}"
        );
    }
}

#[test]
fn head_limit_is_configurable_and_reached_without_an_end_of_head() {
    let mut config = server_config();
    config.limits = {
        let mut limits = Limits::default();
        limits.max_head_size = 200;
        limits.max_headers = 5;
        limits
    };
    let mut server = ServerHandshake::new(config.clone());
    assert_eq!(server.handle_input(&[b'a'; 200]).unwrap().map(|_| ()), None);
    assert_eq!(
        server.handle_input(b"a").unwrap_err(),
        ServerError::HeadTooLarge
    );

    // Exactly the five base fields fit; a sixth does not.
    assert!(serve(config.clone(), &request_with("GET / HTTP/1.1", &[], &[])).is_ok());
    assert_eq!(
        serve(config, &get_request(&["X: y"])).unwrap_err(),
        ServerError::TooManyHeaders
    );
}

// ---------------------------------------------------------------------------------------------------------
// Server happy paths.

#[test]
fn server_exposes_the_request_and_negotiates() {
    let mut config = server_config();
    config.origin = OriginPolicy::List(vec!["https://Example.com".into()]);
    let bytes = request_with(
        "GET /chat?room=1 HTTP/1.1",
        &["Connection", "Upgrade"],
        &[
            "upgrade: WebSocket",
            "connection: keep-alive, UPGRADE",
            "Origin: https://example.com",
            "Sec-WebSocket-Protocol: chat",
            "Sec-WebSocket-Protocol: superchat, json",
            "Sec-WebSocket-Extensions: x-unknown; a=1, x-decline",
            "Sec-WebSocket-Extensions: x-test; bad-luck, x-test; level=\"3\"",
            "Cookie: session=abc",
        ],
    );
    let request = serve(config, &bytes).unwrap().unwrap();
    assert_eq!(request.method(), "GET");
    assert_eq!(request.path(), "/chat?room=1");
    assert_eq!(request.host(), "example.com");
    assert_eq!(request.origin(), Some("https://example.com"));
    assert_eq!(request.key(), Some(KEY));
    assert_eq!(request.headers().get_str("COOKIE"), Some("session=abc"));
    assert_eq!(
        request.headers().get_all("sec-websocket-protocol").count(),
        2
    );
    assert_eq!(request.headers().len(), 11);
    assert_eq!(request.protocols(), ["chat", "superchat", "json"]);
    let offered: Vec<&str> = request
        .extensions()
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(offered, ["x-unknown", "x-decline", "x-test", "x-test"]);
    // The first x-test offer has a parameter the factory does not know, so it takes the second.
    assert_eq!(
        request.accepted_extension(),
        Some(&ExtensionElement::new("x-test").param("level", Some("3")))
    );
    assert!(request.trailing().is_empty());

    let upgrade = request
        .accept(
            Acceptance::new()
                .protocol("superchat")
                .header("Set-Cookie", "id=1; HttpOnly")
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(upgrade.response().to_vec()).unwrap(),
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\nSec-WebSocket-Protocol: superchat\r\n\
             Sec-WebSocket-Extensions: x-test; level=3\r\nSet-Cookie: id=1; HttpOnly\r\n\r\n"
        )
    );
    assert_eq!(upgrade.protocol(), Some("superchat"));
    assert_eq!(upgrade.extension().map(|e| e.rsv_bits()), Some(0b100));
}

#[test]
fn server_without_subprotocol_or_extension_sends_neither() {
    let request = serve(
        ServerConfig::default(),
        &get_request(&[
            "Sec-WebSocket-Protocol: chat",
            "Sec-WebSocket-Extensions: x-test",
        ]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(request.accepted_extension(), None);
    let upgrade = request.accept(Acceptance::new()).unwrap();
    let (code, fields, body) = parse_response(upgrade.response());
    assert_eq!(code, 101);
    assert_eq!(field(&fields, "Sec-WebSocket-Accept"), Some(ACCEPT));
    assert_eq!(field(&fields, "Sec-WebSocket-Protocol"), None);
    assert_eq!(field(&fields, "Sec-WebSocket-Extensions"), None);
    assert!(body.is_empty());
    assert!(upgrade.extension().is_none() && upgrade.protocol().is_none());
}

#[test]
fn server_cannot_choose_a_subprotocol_not_offered() {
    let request = serve(
        server_config(),
        &get_request(&["Sec-WebSocket-Protocol: chat"]),
    )
    .unwrap()
    .unwrap();
    let err = request
        .accept(Acceptance::new().protocol("Chat"))
        .unwrap_err();
    assert_eq!(err, ServerError::ProtocolNotOffered("Chat".into()));
    assert_eq!(err.status(), 500);
    assert!(err
        .to_response()
        .starts_with(b"HTTP/1.1 500 Internal Server Error\r\n"));

    let request = serve(server_config(), &get_request(&[])).unwrap().unwrap();
    let err = request
        .accept(Acceptance::new().protocol("chat"))
        .unwrap_err();
    assert_eq!(err, ServerError::ProtocolNotOffered("chat".into()));
}

#[test]
fn server_extra_headers_cannot_inject_or_override() {
    for (name, value, err) in [
        (
            "Set-Cookie",
            "a=b\r\nEvil: 1",
            BuildError::InvalidHeaderValue,
        ),
        ("Set-Cookie", "a=b\0", BuildError::InvalidHeaderValue),
        ("Bad Name", "x", BuildError::InvalidHeaderName),
        ("Bad:Name", "x", BuildError::InvalidHeaderName),
        ("Sec-WebSocket-Accept", "x", BuildError::ReservedHeader),
        ("connection", "close", BuildError::ReservedHeader),
        ("Content-Length", "0", BuildError::ReservedHeader),
    ] {
        assert_eq!(Acceptance::new().header(name, value), Err(err), "{name}");
        assert_eq!(
            Rejection::new(400).unwrap().header(name, value).map(|_| ()),
            Err(err),
            "{name}"
        );
        let client = ClientRequest::new(Url::parse("ws://h/").unwrap());
        assert_eq!(client.header(name, value).map(|_| ()), Err(err), "{name}");
    }
}

#[test]
fn server_can_refuse_a_valid_request_itself() {
    let request = serve(server_config(), &get_request(&[])).unwrap().unwrap();
    assert_eq!(request.headers().get("Authorization"), None);
    let rejection = Rejection::new(401)
        .and_then(|r| r.header("WWW-Authenticate", "Bearer"))
        .unwrap()
        .body("token required");
    let (code, fields, body) = parse_response(&rejection.to_bytes());
    assert_eq!(code, 401);
    assert_eq!(field(&fields, "WWW-Authenticate"), Some("Bearer"));
    assert_eq!(field(&fields, "Connection"), Some("close"));
    assert_eq!(field(&fields, "Content-Length"), Some("14"));
    assert_eq!(body, b"token required");
    assert_eq!(
        Rejection::new(302).map(|_| ()),
        Err(BuildError::InvalidStatus(302))
    );
}

#[test]
fn origin_policies() {
    let list = OriginPolicy::List(vec!["https://a.example".into(), "null".into()]);
    assert!(list.allows(Some("HTTPS://A.EXAMPLE")));
    assert!(list.allows(Some("null")));
    assert!(
        list.allows(None),
        "clients that are not browsers send no Origin"
    );
    assert!(!list.allows(Some("https://a.example.evil")));
    assert!(!list.allows(Some("https://a.example:444")));
    assert!(OriginPolicy::Any.allows(Some("https://anything")));
    let check = OriginPolicy::Check(Arc::new(|origin| {
        origin.is_some_and(|o| o.ends_with(".example"))
    }));
    assert!(check.allows(Some("https://b.example")));
    assert!(!check.allows(None));

    let mut config = server_config();
    config.origin = list;
    let request = serve(config, &get_request(&["Origin: https://a.example"]))
        .unwrap()
        .unwrap();
    assert_eq!(request.origin(), Some("https://a.example"));
}

#[test]
fn server_hands_back_bytes_after_the_head() {
    let mut bytes = get_request(&[]);
    let head_len = bytes.len();
    bytes.extend_from_slice(CLIENT_FRAME);
    let request = serve(server_config(), &bytes).unwrap().unwrap();
    assert_eq!(request.trailing(), CLIENT_FRAME);
    assert_eq!(
        request.accept(Acceptance::new()).unwrap().trailing(),
        CLIENT_FRAME
    );

    // Trailing data is not bounded by the head limit, and the head may arrive in pieces before it.
    let big = vec![0x82; 100_000];
    let mut server = ServerHandshake::new(server_config());
    assert!(server
        .handle_input(&bytes[..head_len - 1])
        .unwrap()
        .is_none());
    let mut rest = bytes[head_len - 1..head_len].to_vec();
    rest.extend_from_slice(&big);
    let request = server.handle_input(&rest).unwrap().unwrap();
    assert_eq!(request.trailing(), big.as_slice());
}

#[test]
fn server_reads_a_request_dribbled_one_byte_at_a_time() {
    let bytes = get_request(&[
        "Sec-WebSocket-Protocol: chat",
        "Sec-WebSocket-Extensions: x-test",
    ]);
    let mut server = ServerHandshake::new(server_config());
    let (last, head) = bytes.split_last().unwrap();
    for (i, byte) in head.iter().enumerate() {
        assert!(
            server.handle_input(&[*byte]).unwrap().is_none(),
            "complete early at {i}"
        );
    }
    let request = server.handle_input(&[*last]).unwrap().unwrap();
    assert_eq!(request.protocols(), ["chat"]);
    assert!(request.accepted_extension().is_some());
    assert!(request.trailing().is_empty());
}

#[test]
fn server_accepts_bare_line_feeds_and_leading_empty_lines() {
    let bytes = String::from_utf8(get_request(&[]))
        .unwrap()
        .replace("\r\n", "\n");
    let request = serve(server_config(), format!("\r\n{bytes}").as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(request.path(), "/chat");
}

// ---------------------------------------------------------------------------------------------------------
// Client.

#[test]
fn client_request_from_urls() {
    let (_, bytes) =
        ClientRequest::new(Url::parse("ws://example.com/chat?room=1&x=%23").unwrap()).start(NONCE);
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        format!(
            "GET /chat?room=1&x=%23 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
    );

    for (url, tls, host, port, host_field, line) in [
        (
            "wss://[::1]:8443",
            true,
            "::1",
            8443,
            "[::1]:8443",
            "GET / HTTP/1.1",
        ),
        (
            "wss://[2001:db8::1]/",
            true,
            "2001:db8::1",
            443,
            "[2001:db8::1]",
            "GET / HTTP/1.1",
        ),
        (
            "ws://127.0.0.1:8080?q=1",
            false,
            "127.0.0.1",
            8080,
            "127.0.0.1:8080",
            "GET /?q=1 HTTP/1.1",
        ),
        (
            "ws://example.com:80/a/b",
            false,
            "example.com",
            80,
            "example.com",
            "GET /a/b HTTP/1.1",
        ),
        (
            "wss://example.com:80/",
            true,
            "example.com",
            80,
            "example.com:80",
            "GET / HTTP/1.1",
        ),
    ] {
        let url = Url::parse(url).unwrap();
        assert_eq!(
            (url.is_tls(), url.host(), url.port()),
            (tls, host, port),
            "{url}"
        );
        let (_, bytes) = ClientRequest::new(url.clone()).start(NONCE);
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with(&format!("{line}\r\nHost: {host_field}\r\n")),
            "{url}: {text}"
        );
    }

    for (url, err) in [
        ("http://example.com/", UrlError::Scheme),
        ("ws://example.com/#top", UrlError::Fragment),
        ("wss://me@example.com/", UrlError::UserInfo),
        ("ws://[::1/", UrlError::Host),
        ("ws://example.com:99999/", UrlError::Port),
    ] {
        assert_eq!(Url::parse(url), Err(err), "{url}");
    }
}

#[test]
fn client_request_options() {
    let request = ClientRequest::new(Url::parse("ws://h/").unwrap())
        .origin("https://app.example")
        .and_then(|r| r.protocol("chat"))
        .and_then(|r| r.protocol("json"))
        .and_then(|r| r.extension(Arc::new(TestFactory)))
        .and_then(|r| r.extension(Arc::new(Declining("x-decline"))))
        .and_then(|r| r.header("Cookie", "session=abc"))
        .unwrap();
    let (_, bytes) = request.clone().start(NONCE);
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains("\r\nOrigin: https://app.example\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nSec-WebSocket-Protocol: chat, json\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nSec-WebSocket-Extensions: x-test; level=2, x-decline\r\n"),
        "{text}"
    );
    assert!(text.ends_with("\r\nCookie: session=abc\r\n\r\n"), "{text}");

    assert_eq!(
        request.clone().protocol("chat").map(|_| ()),
        Err(BuildError::InvalidProtocol)
    );
    assert_eq!(
        request.clone().protocol("a b").map(|_| ()),
        Err(BuildError::InvalidProtocol)
    );
    assert_eq!(
        request.clone().protocol("").map(|_| ()),
        Err(BuildError::InvalidProtocol)
    );
    assert_eq!(
        request.clone().origin("x\r\ny").map(|_| ()),
        Err(BuildError::InvalidHeaderValue)
    );
    assert_eq!(
        request.clone().extension(Arc::new(Injecting)).map(|_| ()),
        Err(BuildError::InvalidExtensionOffer)
    );
    assert_eq!(
        request.header("Origin", "x").map(|_| ()),
        Err(BuildError::ReservedHeader)
    );
}

/// A client that offered `chat` and `superchat` and the `x-test` extension.
fn client() -> ClientHandshake {
    let request = ClientRequest::new(Url::parse("ws://example.com/").unwrap())
        .protocol("chat")
        .and_then(|r| r.protocol("superchat"))
        .and_then(|r| r.extension(Arc::new(TestFactory)))
        .unwrap();
    request.start(NONCE).0
}

fn response(extra: &[&str]) -> Vec<u8> {
    let mut out = String::from(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    );
    out += &format!("Sec-WebSocket-Accept: {ACCEPT}\r\n");
    for line in extra {
        out += line;
        out += "\r\n";
    }
    out += "\r\n";
    out.into_bytes()
}

#[test]
fn client_refusals() {
    use ClientError as E;
    let accept_line = format!("Sec-WebSocket-Accept: {ACCEPT}");
    let long = format!("X-Long: {}", "a".repeat(9000));
    let many: String = (0..65).map(|i| format!("X-{i}: {i}\r\n")).collect();
    let http_1_0 = String::from_utf8(response(&[]))
        .unwrap()
        .replacen("HTTP/1.1", "HTTP/1.0", 1);
    let head = |lines: &[&str]| {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\n{}\r\n\r\n",
            lines.join("\r\n")
        )
        .into_bytes()
    };
    let wrong_accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo";
    let not_negotiable = bad_parameter();
    let twice = [
        "Sec-WebSocket-Extensions: x-test; level=2",
        "Sec-WebSocket-Extensions: x-test",
    ];
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<u8>, ClientError)> = vec![
        ("garbage", b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), E::Malformed),
        ("HTTP/1.0 101", http_1_0.into_bytes(), E::Malformed),
        ("no Upgrade", head(&["Connection: Upgrade", &accept_line]), E::NotWebSocketUpgrade),
        ("Connection: close", head(&["Upgrade: websocket", "Connection: close", &accept_line]), E::ConnectionNotUpgrade),
        ("no accept", head(&["Upgrade: websocket", "Connection: Upgrade"]), E::InvalidAccept),
        ("wrong accept", head(&["Upgrade: websocket", "Connection: Upgrade", wrong_accept]), E::InvalidAccept),
        ("two accepts", response(&[&accept_line]), E::InvalidAccept),
        ("protocol not offered", response(&["Sec-WebSocket-Protocol: json"]), E::UnexpectedProtocol("json".into())),
        ("protocol in another case", response(&["Sec-WebSocket-Protocol: Chat"]), E::UnexpectedProtocol("Chat".into())),
        ("two protocol values", response(&["Sec-WebSocket-Protocol: chat, superchat"]), E::InvalidProtocolHeader),
        ("two protocol fields", response(&["Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"]), E::InvalidProtocolHeader),
        ("empty protocol", response(&["Sec-WebSocket-Protocol:"]), E::InvalidProtocolHeader),
        ("extension not offered", response(&["Sec-WebSocket-Extensions: permessage-deflate"]), E::UnexpectedExtension("permessage-deflate".into())),
        ("extension twice", response(&twice), E::UnexpectedExtension("x-test".into())),
        ("malformed extensions", response(&["Sec-WebSocket-Extensions: x-test; level=\"2"]), E::InvalidExtensionHeader),
        ("extension answer refused", response(&["Sec-WebSocket-Extensions: x-test; bad"]), E::ExtensionNegotiation(not_negotiable)),
        ("head over 8 KiB", response(&[&long]), E::HeadTooLarge),
        ("65 fields", response(&[many.trim_end()]), E::TooManyHeaders),
    ];
    for (name, bytes, expected) in cases {
        let mut client = client();
        assert_eq!(
            client.handle_input(&bytes).map(|_| ()),
            Err(expected),
            "{name}"
        );
        assert_eq!(
            client.handle_input(b"x").map(|_| ()),
            Err(ClientError::Finished),
            "{name}"
        );
    }

    // A client that offered no subprotocol accepts none.
    let (mut plain, _) = ClientRequest::new(Url::parse("ws://example.com/").unwrap()).start(NONCE);
    assert_eq!(
        plain
            .handle_input(&response(&["Sec-WebSocket-Protocol: chat"]))
            .map(|_| ()),
        Err(ClientError::UnexpectedProtocol("chat".into()))
    );
}

#[test]
fn client_sees_the_head_of_a_refusal() {
    for (bytes, code, reason, field_name, value) in [
        (
            &b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"ws\"\r\nContent-Length: 0\r\n\r\n"[..],
            401,
            "Unauthorized",
            "www-authenticate",
            "Basic realm=\"ws\"",
        ),
        (b"HTTP/1.1 302 Found\r\nLocation: wss://other/\r\n\r\n", 302, "Found", "location", "wss://other/"),
        (b"HTTP/1.0 404 Not Found\r\nX-Why: gone\r\n\r\n", 404, "Not Found", "x-why", "gone"),
        (b"HTTP/1.1 200 OK\r\nServer: plain\r\n\r\n", 200, "OK", "server", "plain"),
    ] {
        match client().handle_input(bytes) {
            Err(ClientError::Status { code: c, reason: r, headers }) => {
                assert_eq!((c, r.as_str()), (code, reason));
                assert_eq!(headers.get_str(field_name), Some(value));
            }
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[test]
fn client_accepts_a_response_dribbled_one_byte_at_a_time() {
    let bytes = response(&[
        "Sec-WebSocket-Protocol: superchat",
        "Sec-WebSocket-Extensions: x-test; level=5",
        "Set-Cookie: a=b",
    ]);
    let mut client = client();
    let (last, head) = bytes.split_last().unwrap();
    for (i, byte) in head.iter().enumerate() {
        assert!(
            client.handle_input(&[*byte]).unwrap().is_none(),
            "complete early at {i}"
        );
    }
    let outcome = client.handle_input(&[*last]).unwrap().unwrap();
    assert_eq!(outcome.protocol(), Some("superchat"));
    assert_eq!(outcome.extension().map(|e| e.rsv_bits()), Some(0b100));
    assert_eq!(
        outcome.response().headers.get_str("set-cookie"),
        Some("a=b")
    );
    assert!(outcome.trailing().is_empty());
}

#[test]
fn client_hands_back_a_frame_sent_behind_the_101() {
    let mut bytes = response(&[]);
    bytes.extend_from_slice(SERVER_FRAME);
    let outcome = client().handle_input(&bytes).unwrap().unwrap();
    assert_eq!(outcome.trailing(), SERVER_FRAME);
    assert_eq!(outcome.protocol(), None);
    assert!(outcome.extension().is_none());
}

// ---------------------------------------------------------------------------------------------------------
// Both ends.

#[test]
fn client_and_server_agree() {
    let request = ClientRequest::new(Url::parse("wss://[::1]:9443/live?v=2").unwrap())
        .origin("https://app.example")
        .and_then(|r| r.protocol("v2.live"))
        .and_then(|r| r.protocol("v1.live"))
        .and_then(|r| r.extension(Arc::new(Declining("x-decline"))))
        .and_then(|r| r.extension(Arc::new(TestFactory)))
        .and_then(|r| r.header("Authorization", "Bearer t0k3n"))
        .unwrap();
    let (mut client, mut request_bytes) = request.start(*b"0123456789abcdef");
    request_bytes.extend_from_slice(CLIENT_FRAME);

    let mut config = server_config();
    config.origin = OriginPolicy::List(vec!["https://app.example".into()]);
    let request = serve(config, &request_bytes).unwrap().unwrap();
    assert_eq!(request.path(), "/live?v=2");
    assert_eq!(request.host(), "[::1]:9443");
    assert_eq!(
        request.headers().get_str("authorization"),
        Some("Bearer t0k3n")
    );
    assert_eq!(request.protocols(), ["v2.live", "v1.live"]);
    assert_eq!(request.trailing(), CLIENT_FRAME);
    let choice = request
        .protocols()
        .iter()
        .find(|p| p.starts_with("v1"))
        .unwrap()
        .clone();
    let upgrade = request
        .accept(
            Acceptance::new()
                .protocol(&choice)
                .header("Set-Cookie", "id=7")
                .unwrap(),
        )
        .unwrap();
    assert_eq!(upgrade.trailing(), CLIENT_FRAME);
    let server_rsv = upgrade.extension().unwrap().rsv_bits();

    let mut response_bytes = upgrade.response().to_vec();
    response_bytes.extend_from_slice(SERVER_FRAME);
    let outcome = client.handle_input(&response_bytes).unwrap().unwrap();
    assert_eq!(outcome.protocol(), Some("v1.live"));
    assert_eq!(outcome.extension().unwrap().rsv_bits(), server_rsv);
    assert_eq!(outcome.trailing(), SERVER_FRAME);
    let (_, response) = outcome.into_connection(Instant::ZERO, Config::default(), || [1, 2, 3, 4]);
    assert_eq!(response.protocol.as_deref(), Some("v1.live"));
    assert_eq!(response.headers.get_str("Set-Cookie"), Some("id=7"));
}

#[test]
fn accept_key_matches_rfc_6455() {
    assert_eq!(accept_key(KEY), ACCEPT);
}

// ---------------------------------------------------------------------------------------------------------
// Splitting the input anywhere changes nothing.

/// What a server handshake made of some input, fed in `chunks`: the request's view, its 101, and every byte
/// after the head (including chunks given after the request was complete).
fn server_outcome(chunks: &[&[u8]]) -> Result<Option<(String, Vec<u8>)>, ServerError> {
    let mut server = ServerHandshake::new(server_config());
    let mut chunks = chunks.iter();
    for chunk in chunks.by_ref() {
        if let Some(request) = server.handle_input(chunk)? {
            let view = format!(
                "{} {} {:?} {:?} {:?} {:?} {:?}",
                request.method(),
                request.path(),
                request.headers(),
                request.origin(),
                request.protocols(),
                request.extensions(),
                request.accepted_extension()
            );
            let protocol = request.protocols().first().cloned();
            let mut acceptance = Acceptance::new();
            if let Some(protocol) = &protocol {
                acceptance = acceptance.protocol(protocol);
            }
            let upgrade = request.accept(acceptance)?;
            let mut trailing = upgrade.trailing().to_vec();
            chunks.for_each(|c| trailing.extend_from_slice(c));
            return Ok(Some((
                format!(
                    "{view} {:?}",
                    String::from_utf8(upgrade.response().to_vec())
                ),
                trailing,
            )));
        }
    }
    Ok(None)
}

fn client_outcome(chunks: &[&[u8]]) -> Result<Option<(String, Vec<u8>)>, ClientError> {
    let mut client = client();
    let mut chunks = chunks.iter();
    for chunk in chunks.by_ref() {
        if let Some(outcome) = client.handle_input(chunk)? {
            let view = format!(
                "{:?} {:?} {:?}",
                outcome.protocol(),
                outcome.extension().map(|e| e.rsv_bits()),
                outcome.response().headers
            );
            let mut trailing = outcome.trailing().to_vec();
            chunks.for_each(|c| trailing.extend_from_slice(c));
            return Ok(Some((view, trailing)));
        }
    }
    Ok(None)
}

/// `bytes` cut at the given positions (taken modulo its length, sorted).
fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(&bytes[start..cut]);
        start = cut;
    }
    chunks.push(&bytes[start..]);
    chunks
}

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,12}"
}

prop_compose! {
    fn valid_request()(
        path in "/[a-zA-Z0-9/?=&%._-]{0,30}",
        protocols in prop::collection::vec(token(), 0..4),
        protocol_lines in 1usize..3,
        extensions in prop::collection::vec(
            prop_oneof![Just("x-test"), Just("x-test; level=4"), Just("x-other; a=\"b\""), Just("x-decline")],
            0..4,
        ),
        origin in prop::option::of("https://[a-z]{1,10}\\.example"),
        extra in prop::collection::vec((token(), "[ -~]{0,20}"), 0..5),
        trailing in prop::collection::vec(any::<u8>(), 0..40),
    ) -> Vec<u8> {
        let mut lines = Vec::new();
        for group in protocols.chunks(protocols.len().div_ceil(protocol_lines).max(1)) {
            lines.push(format!("Sec-WebSocket-Protocol: {}", group.join(", ")));
        }
        if !extensions.is_empty() {
            lines.push(format!("Sec-WebSocket-Extensions: {}", extensions.join(", ")));
        }
        if let Some(origin) = origin {
            lines.push(format!("Origin: {origin}"));
        }
        for (name, value) in extra {
            // Keep clear of the fields the handshake checks.
            lines.push(format!("X-{name}: {}", value.trim()));
        }
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut bytes = request_with(&format!("GET {path} HTTP/1.1"), &[], &lines);
        bytes.extend_from_slice(&trailing);
        bytes
    }
}

prop_compose! {
    fn valid_response()(
        protocol in prop::option::of(prop_oneof![Just("chat"), Just("superchat")]),
        extension in prop::option::of(prop_oneof![Just("x-test"), Just("x-test; level=9")]),
        extra in prop::collection::vec((token(), "[ -~]{0,20}"), 0..5),
        trailing in prop::collection::vec(any::<u8>(), 0..40),
    ) -> Vec<u8> {
        let mut lines = Vec::new();
        if let Some(protocol) = protocol {
            lines.push(format!("Sec-WebSocket-Protocol: {protocol}"));
        }
        if let Some(extension) = extension {
            lines.push(format!("Sec-WebSocket-Extensions: {extension}"));
        }
        for (name, value) in extra {
            lines.push(format!("X-{name}: {}", value.trim()));
        }
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut bytes = response(&lines);
        bytes.extend_from_slice(&trailing);
        bytes
    }
}

proptest! {
    #[test]
    fn a_valid_request_parses_the_same_however_split(
        bytes in valid_request(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = server_outcome(&[&bytes]);
        prop_assert!(matches!(whole, Ok(Some(_))), "{:?}", whole);
        prop_assert_eq!(server_outcome(&split(&bytes, &cuts)), whole);
    }

    #[test]
    fn a_valid_response_parses_the_same_however_split(
        bytes in valid_response(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = client_outcome(&[&bytes]);
        prop_assert!(matches!(whole, Ok(Some(_))), "{:?}", whole);
        prop_assert_eq!(client_outcome(&split(&bytes, &cuts)), whole);
    }

    #[test]
    fn any_input_gets_the_same_answer_however_split(
        prefix in prop_oneof![Just(&b""[..]), Just(&b"GET / HTTP/1.1\r\n"[..]), Just(&b"HTTP/1.1 101 OK\r\n"[..])],
        body in prop::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b':'), Just(b' '), any::<u8>()], 0..200),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let bytes = [prefix, &body].concat();
        prop_assert_eq!(server_outcome(&split(&bytes, &cuts)), server_outcome(&[&bytes]));
        prop_assert_eq!(client_outcome(&split(&bytes, &cuts)), client_outcome(&[&bytes]));
    }
}

/// Bytes that cannot start an HTTP head (here the start of a TLS hello, sent to a plain port) are refused
/// at once, not after the whole head limit has arrived.
#[test]
fn a_tls_hello_is_refused_at_once() {
    let hello = [
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    let mut server =
        wslane::handshake::ServerHandshake::new(wslane::handshake::ServerConfig::default());
    let err = server.handle_input(&hello).unwrap_err();
    assert_eq!(err.status(), 400);
}

/// What may stand in an upgrade request and still be accepted: a `Content-Length` of 0 announces no body,
/// and the absolute-form target (RFC 9112 section 3.2.2) names the resource as the origin-form does.
#[test]
fn server_accepts_a_zero_content_length_and_an_absolute_target() {
    let request = serve(server_config(), &get_request(&["Content-Length: 0"]))
        .unwrap()
        .expect("a whole request");
    assert_eq!(request.path(), "/chat");
    let absolute = request_with("GET ws://example.com/chat HTTP/1.1", &[], &[]);
    let request = serve(server_config(), &absolute)
        .unwrap()
        .expect("a whole request");
    assert_eq!(request.path(), "ws://example.com/chat");
}
