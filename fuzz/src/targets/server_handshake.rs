//! `handshake::ServerHandshake` fed arbitrary request bytes, dribbled in arbitrary chunks.
//!
//! Invariants:
//! - every call ends in exactly one of: need more (`Ok(None)`), a request, or an error whose status is
//!   4xx or 5xx and whose `to_response` is a well-formed HTTP response with that status, a matching
//!   `Content-Length` and a `Connection` field listing `close`; after a request or an error, more input
//!   is `Finished`;
//! - the head-size limit: "need more" only while at most `max_head_size` bytes were given, a complete head
//!   is at most `max_head_size` bytes, and `HeadTooLarge` only once more than that was given;
//! - a request is a valid parse: its head, parsed again by httparse, is complete at the same length with
//!   the same method (`GET`) and target, HTTP/1.1; the key is the base64 of 16 bytes; `trailing` is exactly
//!   the bytes given after the head; `target()` is the request's path; an accepted extension is `x-test`,
//!   offered and configured; accepting it yields a 101 response with the right `Sec-WebSocket-Accept`
//!   (computed here), the chosen subprotocol and the extension element;
//! - chunking does not matter: the whole input at once gives the same request or the same error.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use wslane::handshake::{
    Acceptance, Limits, OriginPolicy, Request, ServerConfig, ServerError, ServerHandshake,
};

use crate::{expected_accept, hex, TestFactory, TEST_EXTENSION};

/// The server's settings and how the input is cut.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// Bit 0: the `x-test` extension configured. Bit 1: only the origin `https://example.com` allowed.
    pub flags: u8,
    /// `max_head_size`; 0 keeps the default.
    pub max_head: u16,
    /// `max_headers`; 0 keeps the default.
    pub max_headers: u8,
    /// Chunk sizes, used in turn; 0 gives the rest at once.
    pub chunks: [u8; 8],
}

impl Setup {
    /// The bytes that decode to this setup.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.flags];
        out.extend_from_slice(&self.max_head.to_le_bytes());
        out.push(self.max_headers);
        out.extend_from_slice(&self.chunks);
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

    fn config(&self) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.limits = self.limits();
        if self.flags & 1 != 0 {
            config.extensions = vec![Arc::new(TestFactory)];
        }
        if self.flags & 2 != 0 {
            config.origin = OriginPolicy::List(vec!["https://example.com".into()]);
        }
        config
    }
}

/// The target's input: a setup, then the request bytes.
#[derive(Arbitrary, Debug)]
pub struct Input<'a> {
    /// Settings and chunking.
    pub setup: Setup,
    /// The bytes the client sends.
    pub request: &'a [u8],
}

/// What a handshake made of its input, comparable across runs.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    NeedMore,
    Request {
        head: Vec<String>,
        accepted: Option<String>,
        head_len: usize,
    },
    Error(ServerError),
}

/// Feeds `input` in `chunks`; returns the outcome, the handshake and how many bytes were given.
fn feed(
    setup: &Setup,
    chunks: &[u8; 8],
    input: &[u8],
) -> (Result<Option<Request>, ServerError>, ServerHandshake, usize) {
    let max_head = setup.limits().max_head_size;
    let mut handshake = ServerHandshake::new(setup.config());
    assert_eq!(
        handshake.handle_input(&[]).ok().map(|r| r.is_none()),
        Some(true),
        "empty input changed something"
    );
    let mut fed = 0;
    for &size in chunks.iter().cycle() {
        let size = if size == 0 {
            input.len() - fed
        } else {
            usize::from(size).min(input.len() - fed)
        };
        let result = handshake.handle_input(&input[fed..fed + size]);
        fed += size;
        match result {
            Ok(None) => {
                assert!(
                    fed <= max_head,
                    "still reading after {fed} bytes; max_head_size {max_head}"
                );
                if fed == input.len() {
                    return (Ok(None), handshake, fed);
                }
            }
            done => return (done, handshake, fed),
        }
    }
    unreachable!("the chunk sizes cycle forever");
}

fn describe(request: &Request) -> Vec<String> {
    let mut out = vec![
        request.method().into(),
        request.path().into(),
        request.host().into(),
        format!("{:?}", request.key()),
        format!("{:?}", request.origin()),
        format!("{:?}", request.headers()),
        format!("{:?}", request.protocols()),
        format!("{:?}", request.extensions()),
    ];
    out.push(format!("{:?}", request.accepted_extension()));
    out
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let setup = input.setup;
    let limits = setup.limits();
    let (result, mut handshake, fed) = feed(&setup, &setup.chunks, input.request);
    let given = &input.request[..fed];
    let outcome = match result {
        Ok(None) => Outcome::NeedMore,
        Ok(Some(request)) => {
            let trailing = request.trailing().to_vec();
            assert!(
                given.ends_with(&trailing),
                "trailing data is not what followed the head"
            );
            let head_len = fed - trailing.len();
            assert!(
                head_len <= limits.max_head_size,
                "head of {head_len} bytes, limit {}",
                limits.max_head_size
            );
            assert_eq!(handshake.target(), Some(request.path()), "target()");
            let outcome = Outcome::Request {
                head: describe(&request),
                accepted: request.accepted_extension().map(ToString::to_string),
                head_len,
            };
            check_request(&setup, &given[..head_len], request);
            outcome
        }
        Err(err) => {
            check_error(&err);
            if err == ServerError::HeadTooLarge {
                assert!(fed > limits.max_head_size, "HeadTooLarge after {fed} bytes");
            }
            Outcome::Error(err)
        }
    };
    if outcome != Outcome::NeedMore {
        let again = handshake.handle_input(b"GET");
        assert!(
            matches!(again, Err(ServerError::Finished)),
            "input after the end: {:?}",
            again.map(|r| r.is_some())
        );
    }
    // The whole input at once: the same request (with all the rest as trailing data) or the same error.
    let (whole, _, _) = feed(&setup, &[0; 8], input.request);
    let whole = match whole {
        Ok(None) => Outcome::NeedMore,
        Ok(Some(request)) => {
            let head_len = input.request.len() - request.trailing().len();
            assert_eq!(request.trailing(), &input.request[head_len..]);
            Outcome::Request {
                head: describe(&request),
                accepted: request.accepted_extension().map(ToString::to_string),
                head_len,
            }
        }
        Err(err) => Outcome::Error(err),
    };
    assert_eq!(
        outcome,
        whole,
        "the outcome depends on chunking; input {}",
        hex(input.request)
    );
}

fn check_error(err: &ServerError) {
    let status = err.status();
    assert!(
        (400..=599).contains(&status),
        "{err:?} answers with status {status}"
    );
    assert_ne!(*err, ServerError::Finished, "the first error is Finished");
    let response = err.to_response();
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(head_len)) = parsed.parse(&response) else {
        panic!(
            "{err:?}: to_response is not a complete HTTP response: {:?}",
            String::from_utf8_lossy(&response)
        );
    };
    assert_eq!(parsed.code, Some(status));
    let field = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    let length =
        field("content-length").and_then(|v| std::str::from_utf8(v).ok()?.parse::<usize>().ok());
    assert_eq!(
        length,
        Some(response.len() - head_len),
        "{err:?}: Content-Length"
    );
    let closes = field("connection").is_some_and(|v| {
        v.split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"))
    });
    assert!(closes, "{err:?}: no Connection: close");
}

fn check_request(setup: &Setup, head: &[u8], request: Request) {
    // httparse, given the head alone, agrees on its length, method and target.
    let mut headers = vec![httparse::EMPTY_HEADER; setup.limits().max_headers];
    let mut parsed = httparse::Request::new(&mut headers);
    assert_eq!(
        parsed.parse(head),
        Ok(httparse::Status::Complete(head.len())),
        "head {}",
        hex(head)
    );
    assert_eq!(parsed.method, Some("GET"));
    assert_eq!(parsed.path, Some(request.path()));
    assert_eq!(parsed.version, Some(1));
    assert_eq!(request.method(), "GET");
    let key = request.key().expect("an HTTP/1.1 request has a key");
    let key = base64::engine::general_purpose::STANDARD.decode(key);
    assert_eq!(
        key.map(|k| k.len()).ok(),
        Some(16),
        "key {:?}",
        request.key()
    );
    if let Some(accepted) = request.accepted_extension() {
        assert_eq!(accepted.name, TEST_EXTENSION);
        assert!(
            setup.flags & 1 != 0,
            "an extension accepted with none configured"
        );
        assert!(request
            .extensions()
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(TEST_EXTENSION)));
    }
    if setup.flags & 2 != 0 {
        let origin = request.origin();
        assert!(
            origin.is_none_or(|o| o.eq_ignore_ascii_case("https://example.com")),
            "origin {origin:?}"
        );
    }
    let key = request
        .key()
        .expect("an HTTP/1.1 request has a key")
        .to_owned();
    let protocol = request.protocols().first().cloned();
    let extension = request.accepted_extension().is_some();
    let trailing = request.trailing().to_vec();
    let mut acceptance = Acceptance::new();
    if let Some(protocol) = &protocol {
        acceptance = acceptance.protocol(protocol);
    }
    let upgrade = request
        .accept(acceptance)
        .expect("accepting an offered protocol");
    assert_eq!(upgrade.protocol(), protocol.as_deref());
    assert_eq!(upgrade.extension().is_some(), extension);
    assert_eq!(upgrade.trailing(), trailing);
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Response::new(&mut headers);
    assert_eq!(
        parsed.parse(upgrade.response()),
        Ok(httparse::Status::Complete(upgrade.response().len()))
    );
    assert_eq!(parsed.code, Some(101));
    let field = |name: &str| {
        let values: Vec<&[u8]> = parsed
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
            .collect();
        assert!(values.len() <= 1, "{name} repeated in the 101");
        values.first().copied()
    };
    assert_eq!(
        field("sec-websocket-accept"),
        Some(expected_accept(&key).as_bytes())
    );
    assert_eq!(field("upgrade"), Some(&b"websocket"[..]));
    assert_eq!(
        field("sec-websocket-protocol"),
        protocol.as_deref().map(str::as_bytes)
    );
    assert_eq!(
        field("sec-websocket-extensions"),
        extension.then_some(TEST_EXTENSION.as_bytes())
    );
}
