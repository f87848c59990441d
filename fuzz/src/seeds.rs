//! The seed corpus, built from valid frames and handshakes: the examples of RFC 6455 section 5.7,
//! fragmented messages with control frames between the fragments, pings, closes, masked and unmasked,
//! plus a few near misses (reserved bits, bad UTF-8, non-minimal lengths) so the error paths start
//! covered. `examples/make_corpus.rs` writes them to `corpus/<target>/<name>`.

use wslane::decoder::Delivery;
use wslane::Role;

use std::sync::Arc;

use wslane::handshake::{
    Acceptance, ClientRequest, Rejection, ServerConfig, ServerError, ServerHandshake, Url,
};

use crate::targets::connection::{self, flags, Op};
use crate::targets::{client_handshake, decoder, server_handshake};
use crate::wire::encode_frame;
use crate::TestFactory;

/// One seed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    /// The fuzz target it is for.
    pub target: &'static str,
    /// The file name.
    pub name: String,
    /// The contents.
    pub data: Vec<u8>,
}

/// The masking key of the RFC 6455 section 5.7 examples.
pub const RFC_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONT: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xa;

/// Every seed, in a fixed order.
pub fn all() -> Vec<Seed> {
    let mut seeds = Vec::new();
    frame_header(&mut seeds);
    decoder(&mut seeds);
    utf8(&mut seeds);
    extension_header(&mut seeds);
    connection(&mut seeds);
    server_handshake(&mut seeds);
    client_handshake(&mut seeds);
    h2_handshake(&mut seeds);
    proxy(&mut seeds);
    seeds
}

fn push(seeds: &mut Vec<Seed>, target: &'static str, name: &str, data: Vec<u8>) {
    assert!(
        !seeds.iter().any(|s| s.target == target && s.name == name),
        "duplicate seed {target}/{name}"
    );
    seeds.push(Seed {
        target,
        name: name.into(),
        data,
    });
}

/// A frame as a peer in `role`'s position would send it to us: masked when we are the server.
fn from_peer(us: Role, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = (us == Role::Server).then_some(RFC_KEY);
    encode_frame(fin, 0, opcode, mask, payload)
}

/// Named streams of frames a peer sends, for a receiver in role `us`.
fn streams(us: Role) -> Vec<(&'static str, Vec<u8>)> {
    let f = |fin, opcode, payload: &[u8]| from_peer(us, fin, opcode, payload);
    let close = |code: u16, reason: &str| [&code.to_be_bytes()[..], reason.as_bytes()].concat();
    let snowman = "snow ☃ man 𝄞".as_bytes();
    vec![
        // RFC 6455 section 5.7: "Hello" in one frame, in two fragments, a ping and its pong, 256 bytes.
        ("hello", f(true, TEXT, b"Hello")),
        (
            "hello-fragmented",
            [f(false, TEXT, b"Hel"), f(true, CONT, b"lo")].concat(),
        ),
        (
            "ping-pong",
            [f(true, PING, b"Hello"), f(true, PONG, b"Hello")].concat(),
        ),
        ("binary-256", f(true, BINARY, &[0x5a; 256])),
        // A fragmented message with control frames between its fragments, then a close.
        (
            "fragments-with-controls",
            [
                f(false, TEXT, b"frag"),
                f(true, PING, b""),
                f(false, CONT, b"men"),
                f(true, PONG, b"p"),
                f(true, CONT, b"ted"),
                f(true, CLOSE, &close(1000, "bye")),
            ]
            .concat(),
        ),
        // Multi-byte characters cut across fragments.
        (
            "utf8-split",
            [
                f(false, TEXT, &snowman[..6]),
                f(false, CONT, &snowman[6..13]),
                f(true, CONT, &snowman[13..]),
            ]
            .concat(),
        ),
        (
            "empty-frames",
            [
                f(false, BINARY, b""),
                f(true, CONT, b""),
                f(true, TEXT, b""),
            ]
            .concat(),
        ),
        ("close-empty", f(true, CLOSE, b"")),
        (
            "close-going-away",
            f(true, CLOSE, &close(1001, "going away")),
        ),
        (
            "messages-then-close",
            [
                f(true, BINARY, &[1, 2, 3]),
                f(true, TEXT, b"ok"),
                f(true, CLOSE, &close(4000, "")),
            ]
            .concat(),
        ),
        // Near misses: each fails the connection.
        ("bad-utf8", f(true, TEXT, b"ab\xed\xa0\x80cd")),
        (
            "truncated-utf8",
            [f(false, TEXT, b"\xe2\x98"), f(true, CONT, b"")].concat(),
        ),
        ("close-1005", f(true, CLOSE, &close(1005, ""))),
        ("close-bad-reason", f(true, CLOSE, b"\x03\xe8\xff")),
        ("rsv1", from_rsv(us, 0b100, TEXT, b"Hello")),
        ("reserved-opcode", f(true, 0x3, b"")),
        ("fragmented-ping", f(false, PING, b"")),
        ("continuation-first", f(true, CONT, b"x")),
        (
            "non-minimal-length",
            [vec![0x82, 0x7e, 0x00, 0x05], b"hello".to_vec()].concat(),
        ),
        (
            "wrong-masking",
            from_peer(
                if us == Role::Server {
                    Role::Client
                } else {
                    Role::Server
                },
                true,
                TEXT,
                b"Hello",
            ),
        ),
    ]
}

fn from_rsv(us: Role, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = (us == Role::Server).then_some(RFC_KEY);
    encode_frame(true, rsv, opcode, mask, payload)
}

fn frame_header(seeds: &mut Vec<Seed>) {
    let t = "frame_header";
    let hello_masked = encode_frame(true, 0, TEXT, Some(RFC_KEY), b"Hello");
    push(
        seeds,
        t,
        "rfc-hello-unmasked",
        encode_frame(true, 0, TEXT, None, b"Hello"),
    );
    push(seeds, t, "rfc-hello-masked", hello_masked.clone());
    push(
        seeds,
        t,
        "rfc-hello-masked-partial",
        hello_masked[..4].to_vec(),
    );
    push(
        seeds,
        t,
        "rfc-fragment-1",
        encode_frame(false, 0, TEXT, None, b"Hel"),
    );
    push(
        seeds,
        t,
        "rfc-fragment-2",
        encode_frame(true, 0, CONT, None, b"lo"),
    );
    push(
        seeds,
        t,
        "rfc-ping",
        encode_frame(true, 0, PING, None, b"Hello"),
    );
    push(
        seeds,
        t,
        "rfc-pong-masked",
        encode_frame(true, 0, PONG, Some(RFC_KEY), b"Hello"),
    );
    push(
        seeds,
        t,
        "rfc-binary-256",
        encode_frame(true, 0, BINARY, None, &[0; 256])[..4].to_vec(),
    );
    push(
        seeds,
        t,
        "rfc-binary-64k",
        encode_frame(true, 0, BINARY, None, &[0; 65536])[..10].to_vec(),
    );
    push(
        seeds,
        t,
        "binary-64k-masked",
        encode_frame(true, 0, BINARY, Some([1, 2, 3, 4]), &[0; 65536])[..14].to_vec(),
    );
    push(
        seeds,
        t,
        "close-1000",
        encode_frame(true, 0, CLOSE, Some(RFC_KEY), &1000u16.to_be_bytes()),
    );
    push(
        seeds,
        t,
        "rsv-bits",
        encode_frame(true, 0b111, BINARY, None, b""),
    );
    push(
        seeds,
        t,
        "max-length",
        vec![0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    push(
        seeds,
        t,
        "length-overflow",
        vec![0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0],
    );
    push(seeds, t, "non-minimal-16", vec![0x82, 0x7e, 0x00, 0x7d]);
    push(
        seeds,
        t,
        "non-minimal-64",
        vec![0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4],
    );
    push(seeds, t, "reserved-opcode", vec![0x83, 0x00]);
    push(seeds, t, "empty", Vec::new());
}

fn decoder(seeds: &mut Vec<Seed>) {
    let t = "decoder";
    // Chunkings: all at once, a byte at a time, and uneven cuts.
    let chunkings: [(&str, [u8; 8]); 3] = [
        ("whole", [0; 8]),
        ("bytes", [1; 8]),
        ("uneven", [3, 1, 7, 2, 16, 1, 5, 64]),
    ];
    for (i, role) in [Role::Server, Role::Client].into_iter().enumerate() {
        for (j, (name, stream)) in streams(role).into_iter().enumerate() {
            // Vary the settings across seeds rather than multiplying them.
            let delivery = if (i + j) % 2 == 0 {
                Delivery::WholeFrames
            } else {
                Delivery::Streaming
            };
            let rsv = if name == "rsv1" { 0b100 } else { 0 };
            let (chunk_name, chunks) = chunkings[(i + j) % chunkings.len()];
            let setup = decoder::Setup {
                flags: decoder::Setup::flags(role, delivery, rsv),
                max_frame: if name == "binary-256" { 200 } else { 0 },
                max_message: if name == "fragments-with-controls" {
                    10
                } else {
                    0
                },
                chunks,
            };
            let role_name = if role == Role::Server {
                "server"
            } else {
                "client"
            };
            let mode = if delivery == Delivery::Streaming {
                "streaming"
            } else {
                "frames"
            };
            let data = [setup.to_bytes(), stream].concat();
            push(
                seeds,
                t,
                &format!("{role_name}-{name}-{mode}-{chunk_name}"),
                data,
            );
        }
    }
}

fn utf8(seeds: &mut Vec<Seed>) {
    let t = "utf8";
    let cases: [(&str, &[u8]); 12] = [
        ("ascii", b"Hello, world"),
        ("two-byte", "κόσμε".as_bytes()),
        ("three-byte", "☃ snowman ☃".as_bytes()),
        ("four-byte", "𝄞 clef 𝄞".as_bytes()),
        ("max-code-point", "\u{10ffff}\u{ffff}\u{fffd}".as_bytes()),
        ("overlong", b"\xc0\xaf"),
        ("surrogate", b"a\xed\xa0\x80b"),
        ("above-max", b"\xf4\x90\x80\x80"),
        ("truncated", b"ok \xe2\x98"),
        ("lone-continuation", b"ab\x80cd"),
        ("invalid-byte", b"\xff"),
        ("broken-four-byte", b"\xf0\x9d\x84 x"),
    ];
    let sizes: [[u8; 4]; 3] = [[0; 4], [1; 4], [2, 0, 3, 1]];
    for (i, (name, bytes)) in cases.into_iter().enumerate() {
        let first = sizes[i % 3];
        let second = sizes[(i + 1) % 3];
        let data = [&first[..], &second[..], bytes].concat();
        push(seeds, t, name, data);
    }
    // Long enough for the fused kernel of the masked pass (chunks of 4 × 80 and 4 × 200 bytes), valid
    // and with a surrogate deep inside.
    let long = "aé€𝄞 Жx你".repeat(40);
    let mut broken = long.clone().into_bytes();
    broken.splice(500..500, *b"\xed\xa0\x80");
    for (name, bytes) in [("long", long.as_bytes()), ("long-surrogate", &broken[..])] {
        let data = [&[7, 1, 2, 3][..], &[80, 200, 0, 0], bytes].concat();
        push(seeds, t, name, data);
    }
}

fn extension_header(seeds: &mut Vec<Seed>) {
    let t = "extension_header";
    let cases = [
        ("deflate", "permessage-deflate"),
        (
            "deflate-params",
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
        ),
        (
            "deflate-quoted",
            "permessage-deflate; server_max_window_bits=\"10\"",
        ),
        (
            "two-offers",
            "permessage-deflate; client_no_context_takeover, permessage-deflate",
        ),
        ("several", "x-webkit-deflate-frame, foo; bar=baz ;qux, mux"),
        ("empty-elements", " , permessage-deflate ,, "),
        ("quoted-escape", "a; b=\"\\c\""),
        ("quoted-comma", "a; b=\"c,d\", e"),
        ("tabs", "a\t;\tb=1"),
        ("space-in-name", "a b"),
        ("empty-value", "a; b="),
        ("unterminated-quote", "a; b=\"c"),
    ];
    for (name, value) in cases {
        push(seeds, t, name, value.as_bytes().to_vec());
    }
}

fn connection(seeds: &mut Vec<Seed>) {
    let t = "connection";
    let server = connection::Setup {
        flags: flags::SERVER,
        max_output: u16::MAX,
        ..Default::default()
    };
    let client = connection::Setup {
        key_seed: 7,
        max_output: u16::MAX,
        ..Default::default()
    };
    // A frame op as the peer sends it to `us`.
    let frame = |us: &connection::Setup, b0: u8, payload: &[u8]| Op::Frame {
        b0,
        mask: (us.flags & flags::SERVER != 0).then_some(RFC_KEY),
        split: 0,
        payload: payload.to_vec(),
    };
    let all = Op::Transmit(u16::MAX);
    let close_body =
        |code: u16, reason: &str| [&code.to_be_bytes()[..], reason.as_bytes()].concat();
    for (role_name, base) in [("server", server), ("client", client)] {
        for fragments in [false, true] {
            let setup = connection::Setup {
                flags: base.flags | if fragments { flags::FRAGMENTS } else { 0 },
                ..base
            };
            let mode = if fragments { "fragments" } else { "messages" };
            let f = |b0, payload: &[u8]| frame(&setup, b0, payload);
            let scripts: Vec<(&str, Vec<Op>)> = vec![
                // RFC 6455 section 5.7's "Hello", answered.
                (
                    "echo",
                    vec![
                        f(0x81, b"Hello"),
                        Op::Poll,
                        Op::SendText(b"Hello".to_vec()),
                        all.clone(),
                    ],
                ),
                // A fragmented message with a ping between its fragments, fed through both input paths.
                (
                    "fragmented-ping",
                    vec![
                        Op::Frame {
                            b0: 0x01,
                            mask: frame_mask(&setup),
                            split: 3,
                            payload: b"Hel".to_vec(),
                        },
                        f(0x89, b"ping"),
                        Op::Poll,
                        Op::Frame {
                            b0: 0x80,
                            mask: frame_mask(&setup),
                            split: 1,
                            payload: b"lo".to_vec(),
                        },
                        Op::Poll,
                        Op::Transmit(3),
                        all.clone(),
                    ],
                ),
                // We close; the peer answers.
                (
                    "close-ours",
                    vec![
                        Op::Close {
                            code: 1000,
                            reason: b"bye".to_vec(),
                        },
                        all.clone(),
                        f(0x82, &[1, 2, 3]),
                        f(0x88, &close_body(1000, "")),
                        Op::Poll,
                        Op::Drive,
                    ],
                ),
                // The peer closes; we answer; more input is ignored.
                (
                    "close-theirs",
                    vec![
                        f(0x88, &close_body(1001, "away")),
                        f(0x81, b"late"),
                        Op::Poll,
                        all.clone(),
                        Op::Eof,
                        Op::Drive,
                    ],
                ),
                // Sending in pieces and in fragments of at most 4 bytes, with a ping and a pong between.
                (
                    "send-fragments",
                    vec![
                        Op::SendFragment {
                            flags: 1,
                            data: "snow ☃".as_bytes().to_vec(),
                        },
                        Op::Ping(b"p".to_vec()),
                        Op::SendFragment {
                            flags: 3,
                            data: b" man".to_vec(),
                        },
                        Op::Pong(b"unsolicited".to_vec()),
                        Op::SendRaw {
                            flags: 0,
                            data: vec![9; 10],
                        },
                        Op::SendBinary(vec![7; 200]),
                        Op::Transmit(5),
                        all.clone(),
                    ],
                ),
                // The transport ends inside a frame.
                (
                    "eof-mid-frame",
                    vec![
                        Op::Input(f_bytes(&setup, 0x82, &[1; 20])[..8].to_vec()),
                        Op::Eof,
                        Op::Poll,
                        all.clone(),
                    ],
                ),
                // A long frame through the read buffer, then a protocol error.
                (
                    "long-frame-then-error",
                    vec![
                        Op::LongFrame {
                            b0: 0x82,
                            mask: frame_mask(&setup),
                            split: 9,
                            len: 1000,
                            fill: 0x61,
                        },
                        Op::Read {
                            min: 4,
                            data: vec![0x83, 0x00],
                        },
                        Op::Poll,
                        all.clone(),
                    ],
                ),
            ];
            for (name, ops) in scripts {
                let data = connection::encode_input(&setup, &ops);
                push(seeds, t, &format!("{role_name}-{mode}-{name}"), data);
            }
        }
    }
    // A peer that pings while never reading, with the output at its limit.
    let mut flood = vec![Op::SendBinary(vec![0; 100])];
    for _ in 0..8 {
        flood.extend([frame(&server, 0x89, b"ping"), Op::Poll, Op::Transmit(0)]);
    }
    let small_output = connection::Setup {
        max_output: 64,
        ..server
    };
    push(
        seeds,
        t,
        "server-ping-flood-output-full",
        connection::encode_input(&small_output, &flood),
    );
    // Keepalive: quiet peer, then one that answers.
    let keepalive = connection::Setup {
        flags: flags::KEEPALIVE,
        keepalive_ms: 1000,
        close_timeout_ms: 500,
        ..client
    };
    let ops = vec![
        Op::Drive,
        Op::Timeout(1000),
        all.clone(),
        frame(&keepalive, 0x8a, b""),
        Op::Poll,
        Op::Drive,
        Op::Drive,
        Op::Drive,
        Op::Drive,
    ];
    push(
        seeds,
        t,
        "client-keepalive",
        connection::encode_input(&keepalive, &ops),
    );
    // The test extension: a doubled text message (RSV1), fragmented, and one that is too big once doubled.
    for fragments in [false, true] {
        let setup = connection::Setup {
            flags: flags::SERVER
                | flags::EXTENSION
                | flags::FRAGMENT_SIZE
                | if fragments { flags::FRAGMENTS } else { 0 },
            max_message: 40,
            fragment_size: 4,
            ..server
        };
        let ops = vec![
            Op::Frame {
                b0: 0x41,
                mask: Some(RFC_KEY),
                split: 0,
                payload: b"He".to_vec(),
            },
            Op::Frame {
                b0: 0x80,
                mask: Some(RFC_KEY),
                split: 0,
                payload: b"y!".to_vec(),
            },
            Op::Poll,
            Op::SendText(b"aabbcc".to_vec()),
            Op::SendText(b"abc".to_vec()),
            all.clone(),
            Op::Frame {
                b0: 0xc2,
                mask: Some(RFC_KEY),
                split: 0,
                payload: vec![1; 30],
            },
            Op::Poll,
            all.clone(),
        ];
        let mode = if fragments { "fragments" } else { "messages" };
        push(
            seeds,
            t,
            &format!("server-{mode}-extension"),
            connection::encode_input(&setup, &ops),
        );
    }
}

fn frame_mask(setup: &connection::Setup) -> Option<[u8; 4]> {
    (setup.flags & flags::SERVER != 0).then_some(RFC_KEY)
}

fn f_bytes(setup: &connection::Setup, b0: u8, payload: &[u8]) -> Vec<u8> {
    encode_frame(
        b0 & 0x80 != 0,
        (b0 >> 4) & 7,
        b0 & 0x0f,
        frame_mask(setup),
        payload,
    )
}

/// The opening handshake of RFC 6455 section 1.3.
const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
const RFC_RESPONSE: &str =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

/// Replaces `from` with `to` once, checking it was there.
fn edit(text: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(text.to_vec()).expect("ASCII head");
    assert!(text.contains(from), "{from:?} not in {text:?}");
    text.replacen(from, to, 1).into_bytes()
}

fn lf_only(text: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(text)
        .replace("\r\n", "\n")
        .into_bytes()
}

fn server_handshake(seeds: &mut Vec<Seed>) {
    let t = "server_handshake";
    let url = || Url::parse("ws://example.com:8080/chat?room=1").expect("a valid URL");
    let plain = ClientRequest::new(url()).start([7; 16]).1;
    let full = ClientRequest::new(url())
        .origin("https://example.com")
        .and_then(|r| r.protocol("chat"))
        .and_then(|r| r.protocol("superchat"))
        .and_then(|r| r.extension(Arc::new(TestFactory)))
        .and_then(|r| r.header("Cookie", "session=1"))
        .expect("a valid request")
        .start([9; 16])
        .1;
    let frame = encode_frame(true, 0, TEXT, Some(RFC_KEY), b"Hello");
    let cases: Vec<(&str, u8, Vec<u8>)> = vec![
        ("rfc-1.3", 0, RFC_REQUEST.as_bytes().to_vec()),
        ("built-plain", 0, plain.clone()),
        ("built-full", 3, full.clone()),
        ("built-full-no-extension", 0, full.clone()),
        ("trailing-frame", 1, [full.clone(), frame].concat()),
        ("lf-only", 0, lf_only(&plain)),
        (
            "extension-declined",
            1,
            edit(&full, "mode=double", "decline"),
        ),
        ("extension-bad", 1, edit(&full, "mode=double", "bad")),
        (
            "extension-invalid-answer",
            1,
            edit(&full, "mode=double", "invalid"),
        ),
        (
            "extension-malformed",
            1,
            edit(&full, "x-test; mode=double", "x-test; ="),
        ),
        (
            "origin-refused",
            2,
            edit(&full, "https://example.com", "https://evil.example"),
        ),
        ("post", 0, edit(&plain, "GET", "POST")),
        ("http-1.0", 0, edit(&plain, "HTTP/1.1", "HTTP/1.0")),
        ("version-8", 0, edit(&plain, "Version: 13", "Version: 8")),
        ("short-key", 0, edit(&plain, "Key: ", "Key: AAAA")),
        (
            "no-upgrade",
            0,
            edit(&plain, "Upgrade: websocket", "Upgrade: h2c"),
        ),
        (
            "duplicate-host",
            0,
            edit(&plain, "Host:", "Host: a\r\nHost:"),
        ),
        (
            "bad-protocols",
            0,
            edit(&full, "chat, superchat", "chat superchat"),
        ),
        (
            "garbage",
            0,
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
        ),
    ];
    let chunkings: [[u8; 8]; 3] = [[0; 8], [1; 8], [17, 3, 64, 1, 9, 200, 2, 5]];
    for (i, (name, flags, request)) in cases.into_iter().enumerate() {
        let setup = server_handshake::Setup {
            flags,
            max_head: 0,
            max_headers: 0,
            chunks: chunkings[i % 3],
        };
        push(seeds, t, name, [setup.to_bytes(), request].concat());
    }
    let tight = server_handshake::Setup {
        flags: 0,
        max_head: 64,
        max_headers: 4,
        chunks: [5; 8],
    };
    push(seeds, t, "over-limits", [tight.to_bytes(), plain].concat());
}

fn client_handshake(seeds: &mut Vec<Seed>) {
    let t = "client_handshake";
    let chunkings: [[u8; 8]; 3] = [[0; 8], [1; 8], [13, 2, 40, 1, 7, 90, 3, 200]];
    let mut n = 0;
    let mut add = |seeds: &mut Vec<Seed>, name: String, flags: u8, response: Vec<u8>| {
        let setup = client_handshake::Setup {
            flags,
            max_head: 0,
            max_headers: 0,
            chunks: chunkings[n % 3],
        };
        n += 1;
        push(seeds, t, &name, [setup.to_bytes(), response].concat());
    };
    add(seeds, "rfc-1.3".into(), 2, RFC_RESPONSE.as_bytes().to_vec());
    let frame = encode_frame(true, 0, TEXT, None, b"Hello");
    for flags in 0..4u8 {
        // The real server's answer to the real client's request.
        let setup = client_handshake::Setup {
            flags,
            max_head: 0,
            max_headers: 0,
            chunks: [0; 8],
        };
        let (_, request) = setup.start();
        let mut config = ServerConfig::default();
        config.extensions = vec![Arc::new(TestFactory)];
        let mut server = ServerHandshake::new(config);
        let request = server
            .handle_input(&request)
            .expect("a valid request")
            .expect("a whole request");
        let mut acceptance = Acceptance::new()
            .header("Set-Cookie", "a=b")
            .expect("a valid field");
        if let Some(protocol) = request.protocols().first() {
            acceptance = acceptance.protocol(protocol);
        }
        let response = request
            .accept(acceptance)
            .expect("accepted")
            .response()
            .to_vec();
        add(seeds, format!("accept-{flags}"), flags, response.clone());
        if flags == 3 {
            add(
                seeds,
                "accept-trailing-frame".into(),
                flags,
                [response.clone(), frame.clone()].concat(),
            );
            add(seeds, "accept-lf-only".into(), flags, lf_only(&response));
            add(
                seeds,
                "wrong-accept".into(),
                flags,
                edit(&response, "Accept: s", "Accept: t"),
            );
            add(
                seeds,
                "unoffered-protocol".into(),
                flags,
                edit(&response, "Protocol: chat", "Protocol: other"),
            );
            add(
                seeds,
                "extension-bad".into(),
                flags,
                edit(&response, "Extensions: x-test", "Extensions: x-test; bad"),
            );
            add(
                seeds,
                "extension-twice".into(),
                flags,
                edit(
                    &response,
                    "Extensions: x-test",
                    "Extensions: x-test, x-test",
                ),
            );
            add(
                seeds,
                "http-1.0".into(),
                flags,
                edit(&response, "HTTP/1.1", "HTTP/1.0"),
            );
        }
    }
    let unauthorized = Rejection::new(401)
        .and_then(|r| r.header("WWW-Authenticate", "Basic realm=\"chat\""))
        .expect("a valid rejection")
        .to_bytes();
    add(seeds, "rejected-401".into(), 0, unauthorized);
    let redirect =
        "HTTP/1.1 302 Found\r\nLocation: ws://example.org/chat\r\nContent-Length: 0\r\n\r\n";
    add(
        seeds,
        "redirect-302".into(),
        0,
        redirect.as_bytes().to_vec(),
    );
    add(
        seeds,
        "server-error-426".into(),
        0,
        ServerError::UnsupportedVersion.to_response(),
    );
    add(
        seeds,
        "garbage".into(),
        0,
        b"SSH-2.0-OpenSSH_9.6\r\n".to_vec(),
    );
}

fn h2_handshake(seeds: &mut Vec<Seed>) {
    let t = "h2_handshake";
    let connect =
        ":method: CONNECT\n:protocol: websocket\n:scheme: https\n:authority: example.com\n\
                   :path: /chat?room=1\nsec-websocket-version: 13\norigin: https://example.com\n";
    let offers =
        "sec-websocket-protocol: chat, superchat\nsec-websocket-extensions: x-test; mode=double\n";
    let ok = ":status: 200\n";
    let cases: [(&str, u8, String); 12] = [
        ("plain", 0, format!("{connect}\n{ok}")),
        ("offers", 15, format!("{connect}{offers}\n{ok}sec-websocket-protocol: chat\nsec-websocket-extensions: x-test\n")),
        ("origin-refused", 2, connect.replace("https://example.com\n", "https://evil.example\n")),
        ("get", 0, connect.replace("CONNECT", "GET")),
        ("no-protocol", 0, connect.replace(":protocol: websocket\n", "")),
        ("bad-scheme", 0, connect.replace(":scheme: https", ":scheme: ftp")),
        ("host-field", 0, connect.replace(":authority: example.com", "host: example.com")),
        ("connection-field", 0, format!("{connect}connection: upgrade\n")),
        ("te-trailers", 0, format!("{connect}te: trailers\n")),
        ("version-8", 0, connect.replace("version: 13", "version: 8")),
        ("status-403", 12, format!("{connect}\n:status: 403\nretry-after: 5\n")),
        ("unoffered-protocol", 8, format!("{connect}\n{ok}sec-websocket-protocol: other\n")),
    ];
    for (name, flags, text) in cases {
        let setup = crate::targets::h2_handshake::Setup {
            flags,
            max_head: 0,
            max_headers: 0,
        };
        push(
            seeds,
            t,
            name,
            [setup.to_bytes(), text.into_bytes()].concat(),
        );
    }
}

fn proxy(seeds: &mut Vec<Seed>) {
    use crate::targets::proxy::Setup;
    let t = "proxy";
    let cases: [(&str, u8, &[u8]); 12] = [
        (
            "http-200",
            0,
            b"HTTP/1.1 200 Connection established\r\n\r\n\x81\x05hello",
        ),
        ("http-200-lf", 4, b"HTTP/1.0 200 OK\nProxy-Agent: test\n\n"),
        (
            "http-407",
            2,
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
        ),
        (
            "http-502",
            8,
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
        ),
        ("http-garbage", 0, b"SSH-2.0-OpenSSH\r\n"),
        ("http-cut", 0, b"HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n"),
        (
            "socks-ipv4",
            1,
            b"\x05\x00\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90\x81\x00",
        ),
        (
            "socks-auth",
            3,
            b"\x05\x02\x01\x00\x05\x00\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x01\xbb",
        ),
        (
            "socks-domain",
            5,
            b"\x05\x00\x05\x00\x00\x03\x0cecho.example\x01\xbb",
        ),
        ("socks-auth-refused", 3, b"\x05\x02\x01\x01"),
        ("socks-no-method", 1, b"\x05\xff"),
        ("socks-refused", 9, b"\x05\x00\x05\x05\x00\x01\0\0\0\0\0\0"),
    ];
    let chunkings: [[u8; 8]; 3] = [[0; 8], [1; 8], [3, 1, 7, 2, 0, 5, 1, 9]];
    for (n, (name, flags, reply)) in cases.into_iter().enumerate() {
        let setup = Setup {
            flags,
            chunks: chunkings[n % 3],
        };
        push(seeds, t, name, [setup.to_bytes(), reply.to_vec()].concat());
    }
    let setup = Setup {
        flags: 0,
        chunks: [0; 8],
    };
    let address = b"socks5h://user:p%40ss@Proxy.Example:1081/";
    push(
        seeds,
        t,
        "address",
        [setup.to_bytes(), address.to_vec()].concat(),
    );
}
