//! The client's exchange with a proxy (`wslane_async::proxy`): an HTTP `CONNECT` or a SOCKS5 handshake
//! fed an arbitrary reply, read as a driver reads it (never more than `read_limit` at a time, in
//! arbitrary chunks), and `Proxy::parse` fed the same bytes as an address.
//!
//! Invariants:
//! - the request is well formed: `CONNECT host:port HTTP/1.1` with a matching `Host` (and
//!   `Proxy-Authorization: Basic` with credentials), or a SOCKS5 greeting offering username and password
//!   only with credentials;
//! - `read_limit` is positive until the exchange ends, and a read within it is taken whole: `Partial`
//!   consumes everything, `Established` consumes exactly the bytes given, so no byte of the tunnel is
//!   lost; the input ends in exactly one of established, an error, or more needed, which the end of the
//!   stream turns into an error;
//! - an established HTTP tunnel is a complete response head with a 2xx status, of at most
//!   `MAX_RESPONSE_HEAD` bytes; an HTTP error is 407 or another status when the head parses, and a
//!   malformed or oversized head otherwise;
//! - an established SOCKS5 tunnel answered version 5, a method that was offered, success, and a
//!   bound address of the length its type says;
//! - once failed, the exchange fails the same on more input.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use arbitrary::{Arbitrary, Unstructured};
use wslane_async::proxy::{
    HttpConnect, Progress, Proxy, ProxyError, ProxyHandshake, Socks5, Target, MAX_RESPONSE_HEAD,
};

use crate::hex;

/// The credentials used when the setup asks for them.
pub const CREDENTIALS: (&str, &str) = ("user", "pass word");

/// Which exchange, with what, and how the input is cut.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// Bit 0: SOCKS5 (else HTTP `CONNECT`). Bit 1: with credentials. Bits 2-3: the target, a name
    /// (0, 3), an IPv4 address (1) or an IPv6 address (2).
    pub flags: u8,
    /// Chunk sizes, used in turn; 0 gives as much as the read limit allows.
    pub chunks: [u8; 8],
}

impl Setup {
    /// The bytes that decode to this setup.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.flags];
        out.extend_from_slice(&self.chunks);
        out
    }

    fn socks(&self) -> bool {
        self.flags & 1 != 0
    }

    fn credentials(&self) -> Option<(&'static str, &'static str)> {
        (self.flags & 2 != 0).then_some(CREDENTIALS)
    }

    /// The target the exchange asks for.
    pub fn target(&self) -> Target {
        match (self.flags >> 2) & 3 {
            1 => Target::Address(SocketAddr::from((Ipv4Addr::new(192, 0, 2, 7), 443))),
            2 => Target::Address(SocketAddr::from((Ipv6Addr::LOCALHOST, 8443))),
            _ => Target::name("echo.example", 443),
        }
    }

    /// The exchange, before anything was written.
    pub fn start(&self) -> ProxyHandshake {
        let target = self.target();
        if self.socks() {
            ProxyHandshake::Socks5(
                Socks5::new(&target, self.credentials()).expect("a valid request"),
            )
        } else {
            ProxyHandshake::Http(HttpConnect::new(&target, self.credentials()))
        }
    }
}

/// The target's input: a setup, then the proxy's reply.
#[derive(Arbitrary, Debug)]
pub struct Input<'a> {
    /// What is asked and how the reply is cut.
    pub setup: Setup,
    /// The bytes the proxy sends.
    pub reply: &'a [u8],
}

/// How the exchange ended.
#[derive(Debug)]
enum End {
    /// Established after this many bytes of the reply.
    Established(usize),
    /// Failed after this many bytes.
    Failed(ProxyError, usize),
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let setup = input.setup;
    let reply = input.reply;
    let mut exchange = setup.start();
    let mut written = Vec::new();
    let end = drive(&setup, &mut exchange, reply, &mut written);
    check_written(&setup, &written);
    match end {
        End::Established(used) if setup.socks() => check_socks_reply(&setup, &reply[..used]),
        End::Established(used) => check_http_reply(&reply[..used], None),
        End::Failed(err, used) if !setup.socks() => check_http_reply(&reply[..used], Some(err)),
        End::Failed(..) => {}
    }
    if let End::Failed(err, _) = end {
        assert_eq!(
            exchange.handle_input(b"HTTP/1.1 200 OK\r\n\r\n"),
            Err(err),
            "not sticky"
        );
    }
    if let Ok(text) = std::str::from_utf8(reply) {
        check_address(text);
    }
}

/// Feeds `reply` as a driver would, writing out what the exchange asks for into `written`.
fn drive(setup: &Setup, exchange: &mut ProxyHandshake, reply: &[u8], written: &mut Vec<u8>) -> End {
    let mut used = 0;
    for &size in setup.chunks.iter().cycle() {
        while let Some(bytes) = exchange.poll_transmit() {
            written.extend_from_slice(&bytes);
        }
        let limit = exchange.read_limit();
        assert!(
            limit > 0,
            "nothing to read before the end, after {used} bytes"
        );
        let size = if size == 0 {
            limit
        } else {
            usize::from(size).min(limit)
        };
        let chunk = &reply[used..(used + size).min(reply.len())];
        if chunk.is_empty() {
            let err = exchange.handle_eof();
            return End::Failed(err, used);
        }
        let progress = exchange.handle_input(chunk);
        match progress {
            Ok(Progress::Partial) => used += chunk.len(),
            Ok(Progress::Established { consumed }) => {
                assert_eq!(
                    consumed,
                    chunk.len(),
                    "a read within the limit was not taken whole"
                );
                assert_eq!(exchange.read_limit(), 0, "more to read once established");
                return End::Established(used + consumed);
            }
            Err(err) => return End::Failed(err, used + chunk.len()),
        }
    }
    unreachable!("the chunk sizes cycle forever");
}

fn check_written(setup: &Setup, written: &[u8]) {
    let authority = setup.target().authority();
    if setup.socks() {
        let methods: &[u8] = if setup.credentials().is_some() {
            &[0, 2]
        } else {
            &[0]
        };
        let greeting = [&[5, methods.len() as u8][..], methods].concat();
        assert!(written.starts_with(&greeting), "greeting {}", hex(written));
        return;
    }
    let mut fields = [httparse::EMPTY_HEADER; 8];
    let mut request = httparse::Request::new(&mut fields);
    let parsed = request.parse(written).expect("a valid CONNECT request");
    assert_eq!(parsed, httparse::Status::Complete(written.len()));
    assert_eq!(request.method, Some("CONNECT"));
    assert_eq!(request.path, Some(authority.as_str()));
    let host = request
        .headers
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("host"));
    assert_eq!(host.map(|f| f.value), Some(authority.as_bytes()));
    let auth = request.headers.iter().any(|f| {
        f.name.eq_ignore_ascii_case("proxy-authorization") && f.value.starts_with(b"Basic ")
    });
    assert_eq!(auth, setup.credentials().is_some());
}

/// An HTTP reply: what a parser makes of the bytes read must agree with the outcome.
fn check_http_reply(read: &[u8], err: Option<ProxyError>) {
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut fields);
    let parsed = response.parse(read);
    match (err, parsed) {
        (None, Ok(httparse::Status::Complete(length))) => {
            assert_eq!(length, read.len(), "tunnel bytes taken as the reply");
            assert!(length <= MAX_RESPONSE_HEAD);
            assert!(
                matches!(response.code, Some(200..=299)),
                "{:?}",
                response.code
            );
        }
        (None, other) => panic!("established on {other:?}: {}", hex(read)),
        (
            Some(ProxyError::AuthenticationRequired { status, .. }),
            Ok(httparse::Status::Complete(_)),
        ) => {
            assert_eq!((status, response.code), (407, Some(407)));
        }
        (Some(ProxyError::Refused { status }), Ok(httparse::Status::Complete(_))) => {
            assert_eq!(response.code, Some(status));
            assert!(!(200..=299).contains(&status) && status != 407);
        }
        (Some(ProxyError::ResponseTooLarge), Ok(httparse::Status::Partial)) => {
            assert!(read.len() >= MAX_RESPONSE_HEAD);
        }
        (Some(ProxyError::Closed), Ok(httparse::Status::Partial)) => {}
        (Some(ProxyError::MalformedResponse), _) => {}
        (Some(err), parsed) => panic!("{err:?} on {parsed:?}: {}", hex(read)),
    }
}

/// A SOCKS5 reply that opened the tunnel.
fn check_socks_reply(setup: &Setup, read: &[u8]) {
    assert_eq!(read.first(), Some(&5), "{}", hex(read));
    let (method, mut rest) = (read[1], &read[2..]);
    match method {
        0 => {}
        2 => {
            assert!(setup.credentials().is_some(), "a method not offered");
            assert_eq!(&rest[..2], [1, 0], "authentication refused yet established");
            rest = &rest[2..];
        }
        other => panic!("established with method {other}"),
    }
    assert_eq!((rest[0], rest[1]), (5, 0), "reply {}", hex(rest));
    let address = match rest[3] {
        1 => 4,
        4 => 16,
        3 => 1 + usize::from(rest[4]),
        other => panic!("address type {other}"),
    };
    assert_eq!(rest.len(), 4 + address + 2, "reply {}", hex(rest));
}

/// `Proxy::parse` on any text: no panic, and an address it takes has a host and a scheme it knows.
fn check_address(text: &str) {
    if let Ok(proxy) = Proxy::parse(text) {
        assert!(!proxy.host().is_empty(), "{text:?} has no host");
        let scheme = proxy.kind().scheme();
        assert!(
            text.get(..scheme.len() + 3)
                .is_some_and(|s| s.eq_ignore_ascii_case(&format!("{scheme}://"))),
            "{text:?} parsed as {scheme}"
        );
    }
}
