//! `handshake::ClientHandshake` fed arbitrary response bytes, in arbitrary chunks, against a fixed
//! request: `ws://example.com/chat` with the RFC 6455 section 1.3 nonce ("the sample nonce"), offering
//! the subprotocols `chat` and `superchat` and the `x-test` extension as the setup says.
//!
//! Invariants:
//! - every call ends in exactly one of: need more, an upgrade, or an error; after an upgrade or an error,
//!   more input is `Finished`;
//! - the head-size limit: "need more" only while at most `max_head_size` bytes were given, a complete head
//!   is at most `max_head_size` bytes, and `HeadTooLarge` only once more than that was given;
//! - an upgrade is a valid 101: its head, parsed again by httparse, is complete at the same length, status
//!   101, HTTP/1.1, `Upgrade` listing `websocket`, `Connection` listing `Upgrade`, exactly one
//!   `Sec-WebSocket-Accept` equal to RFC 6455's `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`; the subprotocol is the one
//!   in the response and one that was offered; an extension only when offered and named in the response;
//!   the fields are the response's; `trailing` is exactly the bytes after the head;
//! - `Status { code, .. }` only for a status other than 101, the one in the response;
//! - chunking does not matter: the whole input at once gives the same outcome.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use wslane::handshake::{ClientError, ClientHandshake, ClientRequest, Limits, Url};

use crate::{expected_accept, hex, TestFactory, TEST_EXTENSION};

/// The nonce of the RFC 6455 section 1.3 example.
pub const NONCE: [u8; 16] = *b"the sample nonce";
/// Its `Sec-WebSocket-Accept`, as printed in the RFC.
pub const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The subprotocols offered when the setup says so.
pub const PROTOCOLS: [&str; 2] = ["chat", "superchat"];

/// The request's options, the limits and how the input is cut.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// Bit 0: offer the `x-test` extension. Bit 1: offer the subprotocols `chat` and `superchat`.
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

    /// The client's request for this setup, and the handshake waiting for the answer.
    pub fn start(&self) -> (ClientHandshake, Vec<u8>) {
        let url = Url::parse("ws://example.com/chat").expect("a valid URL");
        let mut request = ClientRequest::new(url).limits(self.limits());
        if self.flags & 1 != 0 {
            request = request
                .extension(Arc::new(TestFactory))
                .expect("a valid offer");
        }
        if self.flags & 2 != 0 {
            for protocol in PROTOCOLS {
                request = request.protocol(protocol).expect("a valid subprotocol");
            }
        }
        request.start(NONCE)
    }
}

/// The target's input: a setup, then the response bytes.
#[derive(Arbitrary, Debug)]
pub struct Input<'a> {
    /// Settings and chunking.
    pub setup: Setup,
    /// The bytes the server sends.
    pub response: &'a [u8],
}

/// What a handshake made of its input, comparable across runs.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    NeedMore,
    Upgrade {
        protocol: Option<String>,
        extension: bool,
        headers: String,
        head_len: usize,
    },
    Error(ClientError),
}

/// Feeds `input` in `chunks`; returns the outcome as the handshake gave it, the handshake, and how many
/// bytes were given.
fn feed(
    setup: &Setup,
    chunks: &[u8; 8],
    input: &[u8],
) -> (Outcome, Vec<u8>, ClientHandshake, usize) {
    let max_head = setup.limits().max_head_size;
    let (mut handshake, _) = setup.start();
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
                    return (Outcome::NeedMore, Vec::new(), handshake, fed);
                }
            }
            Ok(Some(upgrade)) => {
                let head_len = fed - upgrade.trailing().len();
                let outcome = Outcome::Upgrade {
                    protocol: upgrade.protocol().map(String::from),
                    extension: upgrade.extension().is_some(),
                    headers: format!("{:?}", upgrade.response().headers),
                    head_len,
                };
                return (outcome, upgrade.trailing().to_vec(), handshake, fed);
            }
            Err(err) => return (Outcome::Error(err), Vec::new(), handshake, fed),
        }
    }
    unreachable!("the chunk sizes cycle forever");
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let setup = input.setup;
    let limits = setup.limits();
    let (outcome, trailing, mut handshake, fed) = feed(&setup, &setup.chunks, input.response);
    let given = &input.response[..fed];
    match &outcome {
        Outcome::NeedMore => {}
        Outcome::Upgrade {
            protocol,
            extension,
            head_len,
            ..
        } => {
            assert!(
                given.ends_with(&trailing),
                "trailing data is not what followed the head"
            );
            assert!(
                *head_len <= limits.max_head_size,
                "head of {head_len} bytes, limit {}",
                limits.max_head_size
            );
            check_upgrade(&setup, &given[..*head_len], protocol.as_deref(), *extension);
        }
        Outcome::Error(ClientError::Status { code, .. }) => {
            assert_ne!(*code, 101, "Status error for a 101");
            let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
            let mut parsed = httparse::Response::new(&mut headers);
            assert!(
                matches!(parsed.parse(given), Ok(httparse::Status::Complete(_))),
                "{}",
                hex(given)
            );
            assert_eq!(parsed.code, Some(*code));
        }
        Outcome::Error(err) => {
            assert_ne!(*err, ClientError::Finished, "the first error is Finished");
            if *err == ClientError::HeadTooLarge {
                assert!(fed > limits.max_head_size, "HeadTooLarge after {fed} bytes");
            }
        }
    }
    if outcome != Outcome::NeedMore {
        assert!(
            matches!(handshake.handle_input(b"HTTP"), Err(ClientError::Finished)),
            "input after the end"
        );
    }
    let (whole, whole_trailing, _, _) = feed(&setup, &[0; 8], input.response);
    assert_eq!(
        outcome,
        whole,
        "the outcome depends on chunking; input {}",
        hex(input.response)
    );
    if let Outcome::Upgrade { head_len, .. } = whole {
        assert_eq!(whole_trailing, &input.response[head_len..]);
    }
}

fn check_upgrade(setup: &Setup, head: &[u8], protocol: Option<&str>, extension: bool) {
    assert_eq!(expected_accept("dGhlIHNhbXBsZSBub25jZQ=="), RFC_ACCEPT);
    let mut headers = vec![httparse::EMPTY_HEADER; setup.limits().max_headers];
    let mut parsed = httparse::Response::new(&mut headers);
    assert_eq!(
        parsed.parse(head),
        Ok(httparse::Status::Complete(head.len())),
        "head {}",
        hex(head)
    );
    assert_eq!(parsed.code, Some(101));
    assert_eq!(parsed.version, Some(1));
    let values = |name: &str| -> Vec<&[u8]> {
        parsed
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
            .collect()
    };
    let lists = |name: &str, token: &str| {
        values(name).iter().any(|v| {
            v.split(|&b| b == b',')
                .any(|e| e.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    };
    assert!(lists("upgrade", "websocket"), "Upgrade without websocket");
    assert!(lists("connection", "upgrade"), "Connection without Upgrade");
    let accept = values("sec-websocket-accept");
    assert_eq!(
        accept.len(),
        1,
        "Sec-WebSocket-Accept fields: {}",
        accept.len()
    );
    assert_eq!(accept[0].trim_ascii(), RFC_ACCEPT.as_bytes());
    let protocols = values("sec-websocket-protocol");
    match protocol {
        None => assert!(
            protocols.is_empty(),
            "a subprotocol header but no subprotocol"
        ),
        Some(protocol) => {
            assert!(
                setup.flags & 2 != 0 && PROTOCOLS.contains(&protocol),
                "subprotocol {protocol:?} not offered"
            );
            assert_eq!(protocols.len(), 1);
            assert_eq!(protocols[0].trim_ascii(), protocol.as_bytes());
        }
    }
    if extension {
        assert!(setup.flags & 1 != 0, "an extension that was not offered");
        let named = values("sec-websocket-extensions").iter().any(|v| {
            String::from_utf8_lossy(v)
                .to_ascii_lowercase()
                .contains(TEST_EXTENSION)
        });
        assert!(named, "an extension the response does not name");
    }
}
