//! The heap-free handshake (`wslane::unbuffered::handshake`) against the buffered one (`wslane::handshake`):
//! one table of byte-level requests and one of responses, which both must answer alike (the same verdict,
//! the same status and refusal bytes, the same 101 and request bytes), and the heap-free API's own
//! promises (a buffer too small says how much is needed and is left untouched; partial heads).

use wslane::handshake::{
    Acceptance, ClientError, ClientHandshake as BufferedClient, ClientRequest as BufferedRequest,
    ServerConfig, ServerError, ServerHandshake, Url,
};
use wslane::unbuffered::handshake::{
    parse_request, AcceptError, BufferTooSmall, BuildError, ClientRequest, RequestError,
    ResponseError, Status, EMPTY_HEADER,
};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const NONCE: [u8; 16] = *b"the sample nonce";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

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

fn get(extra: &[&str]) -> Vec<u8> {
    request_with("GET /chat HTTP/1.1", &[], extra)
}

fn without(name: &str, extra: &[&str]) -> Vec<u8> {
    request_with("GET /chat HTTP/1.1", &[name], extra)
}

fn line(request_line: &str) -> Vec<u8> {
    request_with(request_line, &[], &[])
}

/// Every request case: valid ones (`None`) and each rule broken once (the refusal expected).
#[rustfmt::skip]
fn request_cases() -> Vec<(&'static str, Vec<u8>, Option<RequestError>)> {
    use RequestError as E;
    let short_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j";
    let bad_key = "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==";
    vec![
        ("plain", get(&[]), None),
        ("with protocols", get(&["Sec-WebSocket-Protocol: chat, superchat"]), None),
        ("protocols in two fields", get(&["Sec-WebSocket-Protocol: a", "Sec-WebSocket-Protocol: chat"]), None),
        ("with an origin", get(&["Origin: https://example.com"]), None),
        ("token lists", without("Connection", &["Connection: keep-alive, Upgrade"]), None),
        ("absolute-form target", line("GET ws://example.com/chat HTTP/1.1"), None),
        ("Content-Length 0", get(&["Content-Length: 0"]), None),
        ("bare line feeds", b"GET / HTTP/1.1\nHost: a\nUpgrade: websocket\nConnection: upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n".to_vec(), None),
        ("not HTTP", b"\x16\x03\x01\x02\x00\r\n\r\n".to_vec(), Some(E::Malformed)),
        ("header without colon", b"GET / HTTP/1.1\r\nHost example.com\r\n\r\n".to_vec(), Some(E::Malformed)),
        ("HTTP/2.0", line("GET / HTTP/2.0"), Some(E::Malformed)),
        ("POST", line("POST / HTTP/1.1"), Some(E::MethodNotAllowed)),
        ("lowercase get", line("get / HTTP/1.1"), Some(E::MethodNotAllowed)),
        ("HTTP/1.0", line("GET / HTTP/1.0"), Some(E::HttpVersion)),
        ("no Host", without("Host", &[]), Some(E::MissingHost)),
        ("Host not UTF-8", [&b"GET / HTTP/1.1\r\nHost: \xff\r\n"[..], &without("Host", &[])[20..]].concat(), Some(E::Malformed)),
        ("asterisk-form target", line("GET * HTTP/1.1"), Some(E::InvalidTarget)),
        ("authority-form target", line("GET example.com:80 HTTP/1.1"), Some(E::InvalidTarget)),
        ("a body", get(&["Content-Length: 5"]), Some(E::RequestBody)),
        ("a Content-Length that is no number", get(&["Content-Length: 5a"]), Some(E::RequestBody)),
        ("two Content-Lengths", get(&["Content-Length: 0", "Content-Length: 0"]), Some(E::DuplicateHeader("Content-Length"))),
        ("chunked", get(&["Transfer-Encoding: chunked"]), Some(E::RequestBody)),
        ("two Hosts", get(&["Host: a"]), Some(E::DuplicateHeader("Host"))),
        ("no Upgrade", without("Upgrade", &[]), Some(E::NotWebSocketUpgrade)),
        ("Upgrade: websocketx", without("Upgrade", &["Upgrade: websocketx"]), Some(E::NotWebSocketUpgrade)),
        ("no Connection", without("Connection", &[]), Some(E::ConnectionNotUpgrade)),
        ("no key", without("Sec-WebSocket-Key", &[]), Some(E::InvalidKey)),
        ("15-byte key", without("Sec-WebSocket-Key", &[short_key]), Some(E::InvalidKey)),
        ("key not base64", without("Sec-WebSocket-Key", &[bad_key]), Some(E::InvalidKey)),
        ("two keys", get(&[short_key]), Some(E::DuplicateHeader("Sec-WebSocket-Key"))),
        ("version 8", without("Sec-WebSocket-Version", &["Sec-WebSocket-Version: 8"]), Some(E::UnsupportedVersion)),
        ("no version", without("Sec-WebSocket-Version", &[]), Some(E::UnsupportedVersion)),
        ("two origins", get(&["Origin: https://a", "Origin: https://b"]), Some(E::DuplicateHeader("Origin"))),
        ("protocol not a token", get(&["Sec-WebSocket-Protocol: a, b c"]), Some(E::InvalidProtocolHeader)),
        ("70 fields", get(&(0..70).map(|i| format!("X-{i}: {i}")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>()), Some(E::TooManyHeaders)),
    ]
}

#[test]
fn both_servers_answer_every_request_alike() {
    for (name, bytes, expected) in request_cases() {
        let buffered = ServerHandshake::new(ServerConfig::default()).handle_input(&bytes);
        let mut headers = [EMPTY_HEADER; 64];
        let unbuffered = parse_request(&bytes, &mut headers);
        match (buffered, unbuffered, expected) {
            (Err(buffered), Err(unbuffered), Some(expected)) => {
                assert_eq!(unbuffered, expected, "{name}");
                assert_eq!(buffered, ServerError::from(unbuffered), "{name}");
                assert_eq!(buffered.status(), unbuffered.status(), "{name}");
                // The same refusal, byte for byte; a buffer one byte short is left untouched.
                let want = buffered.to_response();
                let mut out = vec![0; want.len()];
                assert_eq!(
                    unbuffered.write_response(&mut out),
                    Ok(want.len()),
                    "{name}"
                );
                assert_eq!(out, want, "{name}");
                let mut short = vec![0xaa; want.len() - 1];
                assert_eq!(
                    unbuffered.write_response(&mut short),
                    Err(BufferTooSmall { needed: want.len() }),
                    "{name}"
                );
                assert!(short.iter().all(|&b| b == 0xaa), "{name}");
            }
            (Ok(Some(buffered)), Ok(Status::Complete(unbuffered)), None) => {
                assert_eq!(buffered.path(), unbuffered.target(), "{name}");
                assert_eq!(buffered.host(), unbuffered.host(), "{name}");
                assert_eq!(buffered.origin(), unbuffered.origin(), "{name}");
                assert_eq!(unbuffered.head_len(), bytes.len(), "{name}");
                let offered: Vec<&str> = unbuffered.protocols().collect();
                assert_eq!(buffered.protocols(), offered.as_slice(), "{name}");
                let chosen = offered.last().copied();
                let mut acceptance = Acceptance::new().header("Set-Cookie", "a=b").unwrap();
                if let Some(protocol) = chosen {
                    acceptance = acceptance.protocol(protocol);
                }
                let upgrade = buffered.accept(acceptance).unwrap();
                let mut out = [0; 512];
                let n = unbuffered
                    .accept(chosen, &[("Set-Cookie", "a=b")], &mut out)
                    .unwrap();
                assert_eq!(&out[..n], upgrade.response(), "{name}");
            }
            (buffered, unbuffered, expected) => panic!(
                "{name}: buffered {buffered:?}, unbuffered {:?}, expected {expected:?}",
                unbuffered.map(|s| s.is_complete())
            ),
        }
    }
}

#[test]
fn a_request_arrives_byte_by_byte_as_partial_heads() {
    let mut bytes = get(&[]);
    bytes.extend_from_slice(b"\x81\x80abcd");
    let head = bytes.len() - 6;
    for end in 0..head {
        let mut headers = [EMPTY_HEADER; 16];
        assert_eq!(
            parse_request(&bytes[..end], &mut headers).map(|s| s.is_partial()),
            Ok(true),
            "{end}"
        );
    }
    let mut headers = [EMPTY_HEADER; 16];
    let Ok(Status::Complete(request)) = parse_request(&bytes, &mut headers) else {
        panic!("a whole head");
    };
    assert_eq!(&bytes[request.head_len()..], b"\x81\x80abcd");
}

#[test]
fn accepting_checks_the_caller_and_writes_nothing_on_error() {
    let bytes = get(&["Sec-WebSocket-Protocol: chat"]);
    let mut headers = [EMPTY_HEADER; 16];
    let Ok(Status::Complete(request)) = parse_request(&bytes, &mut headers) else {
        panic!("a whole head");
    };
    let mut out = [0xaa; 256];
    assert_eq!(
        request.accept(Some("json"), &[], &mut out),
        Err(AcceptError::ProtocolNotOffered)
    );
    assert_eq!(
        request.accept(None, &[("Sec-WebSocket-Accept", "x")], &mut out),
        Err(AcceptError::Build(BuildError::ReservedHeader))
    );
    assert_eq!(
        request.accept(None, &[("X-A", "a\r\nEvil: 1")], &mut out),
        Err(AcceptError::Build(BuildError::InvalidHeaderValue))
    );
    let needed = request.accept(None, &[], &mut out).unwrap();
    let mut short = [0xaa; 64];
    assert_eq!(
        request.accept(None, &[], &mut short),
        Err(AcceptError::BufferTooSmall { needed })
    );
    assert_eq!(short, [0xaa; 64]);
    assert!(out[..needed].ends_with(format!("Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n").as_bytes()));
}

#[test]
fn rejections_match_the_buffered_ones() {
    let mut out = [0; 256];
    let n = wslane::unbuffered::handshake::write_rejection(
        401,
        &[("WWW-Authenticate", "Basic realm=\"x\"")],
        None,
        &mut out,
    )
    .unwrap();
    let buffered = wslane::handshake::Rejection::new(401)
        .and_then(|r| r.header("WWW-Authenticate", "Basic realm=\"x\""))
        .unwrap()
        .to_bytes();
    assert_eq!(&out[..n], buffered.as_slice());
    assert_eq!(
        wslane::unbuffered::handshake::write_rejection(399, &[], None, &mut out),
        Err(AcceptError::Build(BuildError::InvalidStatus(399)))
    );
}

// ---------------------------------------------------------------------------------------------------------
// The client.

const PROTOCOLS: &[&str] = &["chat", "superchat"];

fn buffered_client() -> (BufferedClient, Vec<u8>) {
    let mut request = BufferedRequest::new(Url::parse("ws://example.com:8080/chat?x=1").unwrap())
        .origin("https://example.com")
        .unwrap()
        .header("Cookie", "a=b")
        .unwrap();
    for protocol in PROTOCOLS {
        request = request.protocol(protocol).unwrap();
    }
    request.start(NONCE)
}

#[test]
fn both_clients_write_the_same_request() {
    let (_, buffered) = buffered_client();
    let request = ClientRequest::new("example.com:8080", "/chat?x=1")
        .unwrap()
        .origin("https://example.com")
        .unwrap()
        .protocols(PROTOCOLS)
        .unwrap()
        .headers(&[("Cookie", "a=b")])
        .unwrap();
    let mut out = [0; 512];
    let (n, _) = request.write(NONCE, &mut out).unwrap();
    assert_eq!(&out[..n], buffered.as_slice());
    let mut short = [0xaa; 100];
    assert_eq!(
        request.write(NONCE, &mut short).map(|(n, _)| n),
        Err(BufferTooSmall { needed: n })
    );
    assert_eq!(short, [0xaa; 100]);

    assert_eq!(
        ClientRequest::new("example.com", "/a b").map(|_| ()),
        Err(BuildError::InvalidHeaderValue)
    );
    assert_eq!(
        ClientRequest::new("example.com\r\nX: y", "/").map(|_| ()),
        Err(BuildError::InvalidHeaderValue)
    );
    assert_eq!(
        ClientRequest::new("example.com", "/")
            .unwrap()
            .protocols(&["a", "a"])
            .map(|_| ()),
        Err(BuildError::InvalidProtocol)
    );
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

/// The buffered client's error, as the heap-free client's kind.
fn kind(err: &ClientError) -> ResponseError {
    match err {
        ClientError::Malformed => ResponseError::Malformed,
        ClientError::HeadTooLarge => ResponseError::HeadTooLarge,
        ClientError::TooManyHeaders => ResponseError::TooManyHeaders,
        ClientError::Status { code, .. } => ResponseError::Status(*code),
        ClientError::NotWebSocketUpgrade => ResponseError::NotWebSocketUpgrade,
        ClientError::ConnectionNotUpgrade => ResponseError::ConnectionNotUpgrade,
        ClientError::InvalidAccept => ResponseError::InvalidAccept,
        ClientError::InvalidProtocolHeader => ResponseError::InvalidProtocolHeader,
        ClientError::UnexpectedProtocol(_) => ResponseError::UnexpectedProtocol,
        ClientError::UnexpectedExtension(_) => ResponseError::UnexpectedExtension,
        other => panic!("no heap-free counterpart: {other:?}"),
    }
}

/// The subprotocol a valid response chose, or why it is refused.
type Verdict = Result<Option<&'static str>, ResponseError>;

#[test]
fn both_clients_answer_every_response_alike() {
    use ResponseError as E;
    let accept_line = format!("Sec-WebSocket-Accept: {ACCEPT}");
    let head = |lines: &[&str]| {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\n{}\r\n\r\n",
            lines.join("\r\n")
        )
        .into_bytes()
    };
    let http_1_0 = String::from_utf8(response(&[]))
        .unwrap()
        .replacen("HTTP/1.1", "HTTP/1.0", 1);
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<u8>, Verdict)> = vec![
        ("plain", response(&[]), Ok(None)),
        ("a protocol", response(&["Sec-WebSocket-Protocol: superchat"]), Ok(Some("superchat"))),
        ("token lists", head(&["Upgrade: foo, WebSocket", "Connection: keep-alive, upgrade", &accept_line]), Ok(None)),
        ("garbage", b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), Err(E::Malformed)),
        ("HTTP/1.0 101", http_1_0.into_bytes(), Err(E::Malformed)),
        ("401", b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n".to_vec(), Err(E::Status(401))),
        ("no Upgrade", head(&["Connection: Upgrade", &accept_line]), Err(E::NotWebSocketUpgrade)),
        ("Connection: close", head(&["Upgrade: websocket", "Connection: close", &accept_line]), Err(E::ConnectionNotUpgrade)),
        ("no accept", head(&["Upgrade: websocket", "Connection: Upgrade"]), Err(E::InvalidAccept)),
        ("two accepts", response(&[&accept_line]), Err(E::InvalidAccept)),
        ("protocol not offered", response(&["Sec-WebSocket-Protocol: json"]), Err(E::UnexpectedProtocol)),
        ("protocol in another case", response(&["Sec-WebSocket-Protocol: Chat"]), Err(E::UnexpectedProtocol)),
        ("two protocol values", response(&["Sec-WebSocket-Protocol: chat, superchat"]), Err(E::InvalidProtocolHeader)),
        ("empty protocol", response(&["Sec-WebSocket-Protocol:"]), Err(E::InvalidProtocolHeader)),
        ("extension not offered", response(&["Sec-WebSocket-Extensions: permessage-deflate"]), Err(E::UnexpectedExtension)),
        ("70 fields", response(&[(0..70).map(|i| format!("X-{i}: {i}")).collect::<Vec<_>>().join("\r\n").as_str()]), Err(E::TooManyHeaders)),
    ];
    let request = ClientRequest::new("example.com:8080", "/chat?x=1")
        .unwrap()
        .protocols(PROTOCOLS)
        .unwrap();
    for (name, bytes, expected) in cases {
        let (mut buffered, _) = buffered_client();
        let buffered = buffered.handle_input(&bytes);
        let (_, unbuffered) = request.write(NONCE, &mut [0; 512]).unwrap();
        let mut headers = [EMPTY_HEADER; 64];
        let unbuffered = unbuffered.parse_response(&bytes, &mut headers);
        match (&buffered, &unbuffered, expected) {
            (Err(b), Err(u), Err(expected)) => {
                assert_eq!(*u, expected, "{name}");
                assert_eq!(kind(b), *u, "{name}");
            }
            (Ok(Some(b)), Ok(Status::Complete(u)), Ok(protocol)) => {
                assert_eq!(u.protocol(), protocol, "{name}");
                assert_eq!(b.protocol(), protocol, "{name}");
                assert_eq!(u.head_len(), bytes.len(), "{name}");
            }
            _ => panic!("{name}: buffered {buffered:?}, unbuffered {unbuffered:?}"),
        }
    }
}
