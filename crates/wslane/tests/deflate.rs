//! permessage-deflate (RFC 7692): the section 7.2.3 examples byte for byte in both roles, negotiation in both
//! roles and through the opening handshake, the receive rules (RSV bits, undecodable data, UTF-8 after
//! inflating, decompression bombs with the heap watched by a counting allocator), the per-message choice to
//! compress, and round-trip properties over every negotiable parameter set.
#![cfg(feature = "deflate")]

#[path = "support/heap.rs"]
mod heap;
mod support;

use std::sync::Arc;

use heap::HeapWatch;

use proptest::prelude::*;
use proptest::sample::Index;
use support::*;
use wslane::deflate::{DeflateConfig, PerMessageDeflate};
use wslane::extension::{
    parse_extensions, Extension, ExtensionElement, ExtensionFactory, NegotiationError,
};
use wslane::handshake::{
    accept_key, Acceptance, ClientError, ClientRequest, ServerConfig, ServerHandshake, Url,
};
use wslane::{
    Config, Connection, DataKind, Error, Event, Instant, OpCode, ProtocolError, ReceiveMode, Role,
};

// ---------------------------------------------------------------------------------------------------------
// Helpers

const NAME: &str = "permessage-deflate";

fn offers(header: &str) -> Vec<ExtensionElement> {
    let mut out = Vec::new();
    parse_extensions(header, &mut out).expect("a well-formed header");
    out
}

fn element(header: &str) -> ExtensionElement {
    let mut all = offers(header);
    assert_eq!(all.len(), 1, "{header}");
    all.remove(0)
}

/// The server's answer to `header`, as a string, or `None` when it declines every offer.
fn answer(header: &str, config: DeflateConfig) -> Option<String> {
    PerMessageDeflate::new(config)
        .accept(&offers(header))
        .expect("permessage-deflate declines, it does not refuse")
        .map(|(element, _)| element.to_string())
}

/// Both ends' codecs, negotiated between a client with `client` and a server with `server`, and the answer.
fn negotiate(
    client: DeflateConfig,
    server: DeflateConfig,
) -> (String, Box<dyn Extension>, Box<dyn Extension>) {
    let client_factory = PerMessageDeflate::new(client);
    let (element, server_codec) = PerMessageDeflate::new(server)
        .accept(&client_factory.offers())
        .unwrap()
        .expect("the client's own offer is accepted");
    let client_codec = client_factory
        .confirm(&element)
        .expect("the client confirms the answer to its offer");
    (element.to_string(), client_codec, server_codec)
}

/// A client and a server with permessage-deflate negotiated between `client` and `server` settings.
fn deflate_pair(
    client: DeflateConfig,
    server: DeflateConfig,
    client_config: Config,
    server_config: Config,
) -> Pair {
    let (_, client_codec, server_codec) = negotiate(client, server);
    Pair {
        client: Connection::client(Instant::ZERO, client_config, counting_keys(0x40))
            .with_extension(client_codec),
        server: Connection::server(Instant::ZERO, server_config).with_extension(server_codec),
    }
}

/// The connection in `role` of a pair negotiated with `deflate` on both sides.
fn endpoint(role: Role, deflate: DeflateConfig, config: Config) -> Connection {
    let pair = deflate_pair(deflate, deflate, config, config);
    match role {
        Role::Server => pair.server,
        Role::Client => pair.client,
    }
}

fn deflate_config(f: impl FnOnce(&mut DeflateConfig)) -> DeflateConfig {
    let mut config = DeflateConfig::default();
    f(&mut config);
    config
}

fn no_takeover() -> DeflateConfig {
    deflate_config(|c| {
        c.server_no_context_takeover = true;
        c.client_no_context_takeover = true;
    })
}

fn fragments_config() -> Config {
    let mut config = Config::default();
    config.receive_mode = ReceiveMode::Fragments;
    config
}

/// Feeds frames one by one and collects the events and the error, if any.
fn feed(conn: &mut Connection, frames: &[Vec<u8>]) -> (Vec<Ev>, Option<Error>) {
    let mut all = Vec::new();
    for frame in frames {
        conn.handle_input(Instant::ZERO, frame);
        let (events, err) = poll_all(conn);
        all.extend(events);
        if err.is_some() {
            return (all, err);
        }
    }
    (all, None)
}

fn text(s: &str) -> Ev {
    Ev::Text(s.into())
}

/// The compressed "Hello" of RFC 7692 section 7.2.3.1.
const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
/// The second "Hello" with context takeover (section 7.2.3.2): a back-reference to the first.
const HELLO_AGAIN: [u8; 5] = [0xf2, 0x00, 0x11, 0x00, 0x00];

/// A DEFLATE stored block (BFINAL clear) holding `data`: byte-aligned, so blocks can be cut into frames at
/// block boundaries and content can be written byte for byte.
fn stored(data: &[u8]) -> Vec<u8> {
    let len = data.len() as u16;
    let mut out = vec![0x00];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out
}

fn english(len: usize, seed: u64) -> String {
    const WORDS: &[&str] = &[
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
        "which",
        "but",
        "have",
        "an",
        "had",
        "they",
        "you",
        "were",
        "their",
        "one",
        "all",
        "we",
        "can",
        "her",
        "has",
        "there",
        "been",
        "if",
        "more",
        "when",
        "will",
        "would",
        "who",
        "so",
        "no",
        "message",
        "frame",
        "window",
        "compression",
        "server",
        "client",
        "naïve",
        "café",
        "€uro",
    ];
    let mut state = seed | 1;
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(WORDS[(state % WORDS.len() as u64) as usize]);
        out.push(if state % 11 == 0 { '.' } else { ' ' });
    }
    while out.len() > len {
        out.pop();
    }
    out
}

fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

fn server_with(offer: &str, config: DeflateConfig) -> (Option<String>, Connection) {
    let factory = PerMessageDeflate::new(config);
    let mut offers = Vec::new();
    wslane::extension::parse_extensions(offer, &mut offers).unwrap();
    let accepted = factory.accept(&offers).unwrap();
    let mut conn = Connection::server(Instant::ZERO, Config::default());
    let response = accepted.map(|(element, codec)| {
        conn = Connection::server(Instant::ZERO, Config::default()).with_extension(codec);
        element.to_string()
    });
    (response, conn)
}

fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let mut frame = vec![first, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

// ---------------------------------------------------------------------------------------------------------
// RFC 7692 section 7.2.3, in both roles

#[test]
fn rfc_7692_hello_examples() {
    let (response, mut server) = server_with("permessage-deflate", DeflateConfig::default());
    assert_eq!(response.as_deref(), Some("permessage-deflate"));
    // 7.2.3.1: "Hello" compressed, in one frame.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    server.handle_input(Instant::ZERO, &masked(0xc1, &hello));
    assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
    // 7.2.3.2: the same, with context takeover: the second "Hello" refers back to the first.
    server.handle_input(
        Instant::ZERO,
        &masked(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
    );
    assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
    // 7.2.3.1 fragmented: the compressed bytes split over two frames, RSV1 on the first only.
    server.handle_input(Instant::ZERO, &masked(0x41, &hello[..3]));
    server.handle_input(Instant::ZERO, &masked(0x80, &hello[3..]));
    assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
    // 7.2.3.6: an empty message is a single 0x00.
    server.handle_input(Instant::ZERO, &masked(0xc1, &[0x00]));
    assert_eq!(server.poll_event(), Ok(Some(Event::Text(""))));
}

#[test]
fn section_7_2_3_1_a_message_in_one_frame_and_fragmented() {
    for role in [Role::Server, Role::Client] {
        for config in [Config::default(), fragments_config()] {
            let mut conn = endpoint(role, DeflateConfig::default(), config);
            // The RFC's bytes: `c1 07 f2 48 cd c9 c9 07 00`.
            let (events, err) = feed(&mut conn, &[frame_to(role, FIN | RSV1 | TEXT, &HELLO)]);
            assert_eq!(err, None);
            // The RFC's fragmented form: `41 03 f2 48 cd` then `80 04 c9 c9 07 00`.
            let mut first = frame_to(role, RSV1 | TEXT, &HELLO[..3]);
            let mut second = frame_to(role, FIN | CONT, &HELLO[3..]);
            if role == Role::Client {
                assert_eq!(first, [0x41, 0x03, 0xf2, 0x48, 0xcd]);
                assert_eq!(second, [0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]);
            }
            let (more, err) = feed(&mut conn, &[first.clone(), second.clone()]);
            assert_eq!(err, None);
            match config.receive_mode {
                ReceiveMode::Messages => {
                    assert_eq!(events, [text("Hello")], "{role:?}");
                    assert_eq!(more, [text("Hello")], "{role:?}");
                }
                ReceiveMode::Fragments => {
                    let joined: Vec<u8> = events
                        .iter()
                        .chain(&more)
                        .flat_map(|e| match e {
                            Ev::Fragment { data, .. } => data.clone(),
                            other => panic!("{other:?}"),
                        })
                        .collect();
                    assert_eq!(joined, b"HelloHello");
                    assert!(matches!(
                        events.last(),
                        Some(Ev::Fragment { fin: true, .. })
                    ));
                    assert!(matches!(more.last(), Some(Ev::Fragment { fin: true, .. })));
                }
            }
            // Streamed a byte at a time, the same message still decodes.
            first.append(&mut second);
            let mut got = Vec::new();
            for byte in &first {
                let (events, err) = feed(&mut conn, &[vec![*byte]]);
                assert_eq!(err, None);
                got.extend(events);
            }
            if config.receive_mode == ReceiveMode::Messages {
                assert_eq!(got, [text("Hello")]);
            }
        }
    }
}

#[test]
fn section_7_2_3_2_context_takeover_and_its_absence() {
    for role in [Role::Server, Role::Client] {
        // With takeover, the second message is the 5-byte back-reference.
        let mut conn = endpoint(role, DeflateConfig::default(), Config::default());
        let frames = [
            frame_to(role, FIN | RSV1 | TEXT, &HELLO),
            frame_to(role, FIN | RSV1 | TEXT, &HELLO_AGAIN),
        ];
        assert_eq!(
            feed(&mut conn, &frames),
            (vec![text("Hello"), text("Hello")], None)
        );

        // Without, the decoder is reset after each message: the second message is compressed in full...
        let mut conn = endpoint(role, no_takeover(), Config::default());
        let frames = [
            frame_to(role, FIN | RSV1 | TEXT, &HELLO),
            frame_to(role, FIN | RSV1 | TEXT, &HELLO),
        ];
        assert_eq!(
            feed(&mut conn, &frames),
            (vec![text("Hello"), text("Hello")], None)
        );
        // ...and a back-reference into the previous message has nothing to refer to: 1007.
        let (events, err) =
            feed_until_error(&mut conn, &frame_to(role, FIN | RSV1 | TEXT, &HELLO_AGAIN));
        assert!(events.is_empty());
        assert_eq!(err, ProtocolError::ExtensionData);
        assert_failed_with(&mut conn, err, 1007, true);
    }
}

#[test]
fn section_7_2_3_2_the_sender_produces_the_rfc_bytes() {
    let threshold_zero = |mut c: DeflateConfig| {
        c.threshold = 0;
        c
    };
    for role in [Role::Server, Role::Client] {
        let mut conn = endpoint(
            role,
            threshold_zero(DeflateConfig::default()),
            Config::default(),
        );
        conn.sender().send_text("Hello").unwrap();
        conn.sender().send_text("Hello").unwrap();
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 2);
        assert_eq!(
            (sent[0].rsv, &sent[0].payload[..]),
            (0b100, &HELLO[..]),
            "{role:?}"
        );
        assert_eq!(
            (sent[1].rsv, &sent[1].payload[..]),
            (0b100, &HELLO_AGAIN[..]),
            "{role:?}"
        );
        assert!(sent.iter().all(|f| f.fin && f.opcode == OpCode::Text));

        let mut conn = endpoint(role, threshold_zero(no_takeover()), Config::default());
        conn.sender().send_text("Hello").unwrap();
        conn.sender().send_text("Hello").unwrap();
        let sent = take_sent(&mut conn);
        assert_eq!(sent[0].payload, HELLO, "{role:?}");
        assert_eq!(
            sent[1].payload, HELLO,
            "without takeover, compressed in full again"
        );
    }
    // The server's frame is exactly the RFC's `c1 07 f2 48 cd c9 c9 07 00`.
    let mut server = endpoint(
        Role::Server,
        threshold_zero(DeflateConfig::default()),
        Config::default(),
    );
    server.sender().send_text("Hello").unwrap();
    assert_eq!(
        server.poll_transmit(),
        [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
}

#[test]
fn sending_hello_matches_the_rfc_bytes() {
    let mut config = DeflateConfig::default();
    config.threshold = 0;
    let (_, mut server) = server_with("permessage-deflate; server_no_context_takeover", config);
    server.sender().send_text("Hello").unwrap();
    assert_eq!(
        server.poll_transmit(),
        &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
}

#[test]
fn section_7_2_3_3_to_5_other_block_layouts() {
    // 7.2.3.3: a DEFLATE block with no compression (`c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00`).
    let no_compression = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(&no_compression[..10], &stored(b"Hello")[..]);
    // 7.2.3.4: a block with BFINAL set (`f3 48 cd c9 c9 07 00 00`); the deflate stream ends with it.
    let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    // 7.2.3.5: two DEFLATE blocks in one message (`f2 48 05 00 00 00 ff ff ca c9 c9 07 00`).
    let two_blocks = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    for role in [Role::Server, Role::Client] {
        for deflate in [DeflateConfig::default(), no_takeover()] {
            let mut conn = endpoint(role, deflate, Config::default());
            let wire = frame_to(role, FIN | RSV1 | TEXT, &no_compression);
            if role == Role::Client {
                assert_eq!(wire[..2], [0xc1, 0x0b]);
            }
            let frames = [
                wire,
                frame_to(role, FIN | RSV1 | TEXT, &bfinal),
                // After a final block the next message is a new deflate stream.
                frame_to(role, FIN | RSV1 | TEXT, &HELLO),
                frame_to(role, FIN | RSV1 | BINARY, &two_blocks),
                // Each block layout also works split at any byte into two frames.
                frame_to(role, RSV1 | TEXT, &two_blocks[..5]),
                frame_to(role, FIN | CONT, &two_blocks[5..]),
                frame_to(role, RSV1 | TEXT, &bfinal[..6]),
                frame_to(role, FIN | CONT, &bfinal[6..]),
                frame_to(role, RSV1 | TEXT, &no_compression[..7]),
                frame_to(role, FIN | CONT, &no_compression[7..]),
            ];
            let (events, err) = feed(&mut conn, &frames);
            assert_eq!(err, None, "{role:?}");
            assert_eq!(
                events,
                [
                    text("Hello"),
                    text("Hello"),
                    text("Hello"),
                    Ev::Binary(b"Hello".to_vec()),
                    text("Hello"),
                    text("Hello"),
                    text("Hello"),
                ],
                "{role:?}"
            );
        }
    }
}

#[test]
fn section_7_2_3_6_empty_deflate_blocks() {
    for role in [Role::Server, Role::Client] {
        let mut conn = endpoint(role, DeflateConfig::default(), Config::default());
        // "Hello" sync-flushed in a first frame, then the last fragment holds only an empty block: `00`.
        let mut flushed = HELLO.to_vec();
        flushed.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        let frames = [
            // An empty message: a single 0x00.
            frame_to(role, FIN | RSV1 | TEXT, &[0x00]),
            frame_to(role, RSV1 | TEXT, &flushed),
            frame_to(role, FIN | CONT, &[0x00]),
            frame_to(role, FIN | RSV1 | BINARY, &[0x00]),
            // A compressed message with an empty first frame: the data is all in the continuation.
            frame_to(role, RSV1 | BINARY, &[]),
            frame_to(role, FIN | CONT, &HELLO),
        ];
        let (events, err) = feed(&mut conn, &frames);
        assert_eq!(err, None);
        assert_eq!(
            events,
            [
                text(""),
                text("Hello"),
                Ev::Binary(Vec::new()),
                Ev::Binary(b"Hello".to_vec()),
            ],
            "{role:?}"
        );
        // And an empty message is sent as the single byte 0x00.
        let mut conn = endpoint(role, deflate_config(|c| c.threshold = 0), Config::default());
        conn.sender().send_binary(b"").unwrap();
        let sent = take_sent(&mut conn);
        assert_eq!((sent[0].rsv, &sent[0].payload[..]), (0b100, &[0x00][..]));
    }
}

/// Guards the compressor's handling of a sync flush with nothing new to flush: zlib answers a second
/// consecutive sync flush without input with `Z_BUF_ERROR`, which must not fail the send.
#[test]
fn an_empty_message_after_a_compressed_one_is_sent() {
    for role in [Role::Server, Role::Client] {
        let deflate = deflate_config(|c| c.threshold = 0);
        let mut pair = deflate_pair(deflate, deflate, Config::default(), Config::default());
        let conn = match role {
            Role::Server => &mut pair.server,
            Role::Client => &mut pair.client,
        };
        conn.sender().send_text("Hello").unwrap();
        assert_eq!(
            conn.sender().send_text(""),
            Ok(()),
            "{role:?}: the empty message after one"
        );
        assert_eq!(conn.sender().send_text(""), Ok(()), "{role:?}: and another");
        conn.sender().send_text("Hello").unwrap();
        let events = match role {
            Role::Server => pair.server_events(),
            Role::Client => pair.client_events(),
        };
        assert_eq!(events, [text("Hello"), text(""), text(""), text("Hello")]);
    }
}

#[test]
fn round_trips_every_window_size_through_negotiation() {
    for bits in 9..=15u8 {
        for no_takeover in [false, true] {
            let mut config = DeflateConfig::default();
            config.server_max_window_bits = bits;
            config.client_max_window_bits = bits;
            config.server_no_context_takeover = no_takeover;
            config.client_no_context_takeover = no_takeover;
            let client_factory = PerMessageDeflate::new(config);
            let server_factory = PerMessageDeflate::new(DeflateConfig::default());
            let (element, server_codec) = server_factory
                .accept(&client_factory.offers())
                .unwrap()
                .expect("accepted");
            let client_codec = client_factory.confirm(&element).unwrap();
            let mut client = Connection::client(Instant::ZERO, Config::default(), || [9, 8, 7, 6])
                .with_extension(client_codec);
            let mut server =
                Connection::server(Instant::ZERO, Config::default()).with_extension(server_codec);
            let text: String = (0..2000)
                .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
                .collect();
            for _ in 0..3 {
                client.sender().send_text(&text).unwrap();
                let wire = client.poll_transmit().to_vec();
                client.advance_transmit(Instant::ZERO, wire.len());
                assert!(wire.len() < text.len() / 2, "compressed ({bits} bits)");
                server.handle_input(Instant::ZERO, &wire);
                assert_eq!(server.poll_event(), Ok(Some(Event::Text(text.as_str()))));
                server.sender().send_binary(text.as_bytes()).unwrap();
                let wire = server.poll_transmit().to_vec();
                server.advance_transmit(Instant::ZERO, wire.len());
                client.handle_input(Instant::ZERO, &wire);
                assert_eq!(
                    client.poll_event(),
                    Ok(Some(Event::Binary(text.as_bytes())))
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Negotiation: the server

#[test]
fn the_first_acceptable_offer_wins() {
    let defaults = DeflateConfig::default();
    let cases: &[(&str, Option<&str>)] = &[
        (
            "permessage-deflate; server_max_window_bits=10, permessage-deflate",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            "permessage-deflate, permessage-deflate; server_max_window_bits=10",
            Some("permessage-deflate"),
        ),
        // An invalid first offer is declined and the second accepted.
        (
            "permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits",
            Some("permessage-deflate"),
        ),
        (
            "permessage-deflate; x-unknown, permessage-deflate; server_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        // An offer the server cannot honour (an 8-bit window for its compressor) likewise.
        (
            "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        (
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits, permessage-deflate; bad=1, \
             permessage-deflate; client_max_window_bits=12; client_no_context_takeover",
            Some("permessage-deflate; client_no_context_takeover; client_max_window_bits=12"),
        ),
        // Quoted values are the same values (RFC 7692 section 7.1.2.1's ABNF allows them).
        (
            "permessage-deflate; server_max_window_bits=\"11\"",
            Some("permessage-deflate; server_max_window_bits=11"),
        ),
        // Names are case-insensitive.
        (
            "Permessage-Deflate; Server_No_Context_Takeover",
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        // Every offer invalid: declined.
        ("permessage-deflate; server_max_window_bits=8, permessage-deflate; x=1", None),
    ];
    for (header, expected) in cases {
        assert_eq!(answer(header, defaults).as_deref(), *expected, "{header}");
    }
}

#[test]
fn invalid_offers_are_declined() {
    let declined = [
        // Duplicates.
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; CLIENT_MAX_WINDOW_BITS",
        // Unknown parameters.
        "permessage-deflate; x-unknown",
        "permessage-deflate; max_window_bits=10",
        "permessage-deflate; server_no_context_takeover; mux",
        // Invalid values.
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; server_max_window_bits=ten",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=1e1",
        "permessage-deflate; client_max_window_bits=\"16\"",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"true\"",
        // The server cannot compress with an 8-bit window.
        "permessage-deflate; server_max_window_bits=8",
        "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8",
    ];
    for header in declined {
        assert_eq!(answer(header, DeflateConfig::default()), None, "{header}");
        // Also when a server would accept anything else.
        let loose = deflate_config(|c| {
            c.server_max_window_bits = 9;
            c.client_max_window_bits = 15;
        });
        assert_eq!(answer(header, loose), None, "{header}");
    }
    // A client may ask for an 8-bit window for its own compressor; the server inflates with 9.
    assert_eq!(
        answer(
            "permessage-deflate; client_max_window_bits=8",
            DeflateConfig::default()
        )
        .as_deref(),
        Some("permessage-deflate; client_max_window_bits=8")
    );
}

#[test]
fn a_server_that_caps_the_client_window_needs_client_max_window_bits() {
    let capped = deflate_config(|c| c.client_max_window_bits = 10);
    assert_eq!(answer("permessage-deflate", capped), None);
    assert_eq!(
        answer("permessage-deflate; server_max_window_bits=12", capped),
        None
    );
    assert_eq!(
        answer("permessage-deflate; client_max_window_bits", capped).as_deref(),
        Some("permessage-deflate; client_max_window_bits=10")
    );
    assert_eq!(
        answer("permessage-deflate; client_max_window_bits=9", capped).as_deref(),
        Some("permessage-deflate; client_max_window_bits=9")
    );
    assert_eq!(
        answer("permessage-deflate; client_max_window_bits=14", capped).as_deref(),
        Some("permessage-deflate; client_max_window_bits=10")
    );
    // The first offer lacks the parameter, the second has it.
    assert_eq!(
        answer(
            "permessage-deflate, permessage-deflate; client_max_window_bits",
            capped
        )
        .as_deref(),
        Some("permessage-deflate; client_max_window_bits=10")
    );
}

#[test]
fn the_server_applies_its_own_settings() {
    let server = deflate_config(|c| {
        c.server_no_context_takeover = true;
        c.client_no_context_takeover = true;
        c.server_max_window_bits = 11;
    });
    assert_eq!(
        answer("permessage-deflate", server).as_deref(),
        Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11")
    );
    assert_eq!(
        answer("permessage-deflate; server_max_window_bits=10", server).as_deref(),
        Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10")
    );
    assert_eq!(
        answer("permessage-deflate; server_max_window_bits=13", server).as_deref(),
        Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11")
    );
}

/// The window cap and context takeover the server answered with are what the codecs use: a message
/// compressed with `client_no_context_takeover` promised cannot refer to the previous message.
#[test]
fn answered_no_context_takeover_is_applied_by_both_codecs() {
    let message = english(4000, 7);
    for (server, takeover) in [
        (
            deflate_config(|c| c.client_no_context_takeover = true),
            false,
        ),
        (DeflateConfig::default(), true),
    ] {
        let mut pair = deflate_pair(
            DeflateConfig::default(),
            server,
            Config::default(),
            Config::default(),
        );
        let mut payloads = Vec::new();
        for _ in 0..2 {
            pair.client.sender().send_text(&message).unwrap();
            let wire = pair.client.poll_transmit().to_vec();
            pair.client.advance_transmit(Instant::ZERO, wire.len());
            payloads.push(parse_frames(&wire).remove(0).payload);
            pair.server.handle_input(Instant::ZERO, &wire);
            assert_eq!(events(&mut pair.server), [text(&message)]);
        }
        if takeover {
            // The repeat is back-references to the first message.
            assert!(payloads[1].len() < payloads[0].len() / 10, "{payloads:?}");
        } else {
            // Nothing was taken over: the same bytes again.
            assert_eq!(payloads[0], payloads[1]);
        }
    }
}

/// A random valid offer: each parameter present or not, window values 8 to 15, any order.
fn offer_strategy() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    let bits = prop::option::of(8u8..=15);
    (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(8u8..=15),
        prop::option::of(bits),
        any::<Index>(),
    )
        .prop_map(|(snct, cnct, smwb, cmwb, shuffle)| {
            let mut params: Vec<(String, Option<String>)> = Vec::new();
            if snct {
                params.push(("server_no_context_takeover".into(), None));
            }
            if cnct {
                params.push(("client_no_context_takeover".into(), None));
            }
            if let Some(bits) = smwb {
                params.push(("server_max_window_bits".into(), Some(bits.to_string())));
            }
            if let Some(bits) = cmwb {
                params.push(("client_max_window_bits".into(), bits.map(|b| b.to_string())));
            }
            let len = params.len();
            if len > 1 {
                params.rotate_left(shuffle.index(len));
            }
            params
        })
}

fn config_strategy() -> impl Strategy<Value = DeflateConfig> {
    (any::<bool>(), any::<bool>(), 9u8..=15, 9u8..=15).prop_map(|(snct, cnct, smwb, cmwb)| {
        deflate_config(|c| {
            c.server_no_context_takeover = snct;
            c.client_no_context_takeover = cnct;
            c.server_max_window_bits = smwb;
            c.client_max_window_bits = cmwb;
        })
    })
}

fn param<'a>(element: &'a ExtensionElement, name: &str) -> Option<&'a Option<String>> {
    element
        .params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn bits_of(value: Option<&Option<String>>) -> Option<u8> {
    value.map(|v| v.as_deref().expect("a value").parse().expect("a number"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The server never answers with a parameter set the offer did not allow, honours its own settings, and
    /// declines only what it must.
    #[test]
    fn the_answer_is_allowed_by_the_offer(
        offer_params in offer_strategy(),
        config in config_strategy(),
    ) {
        let offer = ExtensionElement { name: NAME.into(), params: offer_params.clone() };
        let accepted = PerMessageDeflate::new(config).accept(std::slice::from_ref(&offer)).unwrap();
        let offered_server_bits = bits_of(param(&offer, "server_max_window_bits"));
        let offered_client_bits = param(&offer, "client_max_window_bits");
        let must_decline = offered_server_bits == Some(8)
            || (offered_client_bits.is_none() && config.client_max_window_bits < 15);
        let Some((answer, _)) = accepted else {
            prop_assert!(must_decline, "declined {offer}");
            return Ok(());
        };
        prop_assert!(!must_decline, "accepted {offer} as {answer}");
        prop_assert_eq!(&answer.name, NAME);
        // Known parameters, once each, as a response may carry them.
        let known = ["server_no_context_takeover", "client_no_context_takeover",
            "server_max_window_bits", "client_max_window_bits"];
        for name in known {
            prop_assert!(answer.params.iter().filter(|(n, _)| n == name).count() <= 1);
        }
        for (name, value) in &answer.params {
            prop_assert!(known.contains(&name.as_str()), "unknown {name}");
            prop_assert_eq!(value.is_some(), name.ends_with("_bits"), "{}", answer);
        }
        // It parses back as a response.
        prop_assert_eq!(&element(&answer.to_string()), &answer);
        // Allowed by the offer.
        let server_bits = bits_of(param(&answer, "server_max_window_bits"));
        let client_bits = bits_of(param(&answer, "client_max_window_bits"));
        if param(&offer, "server_no_context_takeover").is_some() {
            prop_assert!(param(&answer, "server_no_context_takeover").is_some());
        }
        if let Some(offered) = offered_server_bits {
            let answered = server_bits.expect("server_max_window_bits answered");
            prop_assert!((9..=offered).contains(&answered), "{} for {}", answer, offer);
        }
        if let Some(bits) = client_bits {
            let offered = offered_client_bits.expect("client_max_window_bits only when offered");
            if let Some(offered) = offered {
                prop_assert!(bits <= offered.parse::<u8>().unwrap(), "{} for {}", answer, offer);
            }
            prop_assert!((8..=15).contains(&bits));
        }
        // And by the server's settings.
        prop_assert!(server_bits.unwrap_or(15) <= config.server_max_window_bits);
        if config.client_max_window_bits < 15 {
            prop_assert!(client_bits.expect("the cap is answered") <= config.client_max_window_bits);
        }
        prop_assert_eq!(
            param(&answer, "client_no_context_takeover").is_some(),
            config.client_no_context_takeover || param(&offer, "client_no_context_takeover").is_some()
        );
        if config.server_no_context_takeover {
            prop_assert!(param(&answer, "server_no_context_takeover").is_some());
        }
    }

    /// Whatever two configurations meet, the client confirms the server's answer to its offer, and messages
    /// cross both ways.
    #[test]
    fn any_client_confirms_any_servers_answer(client in config_strategy(), server in config_strategy()) {
        let (answer, client_codec, server_codec) = negotiate(client, server);
        let mut pair = Pair {
            client: Connection::client(Instant::ZERO, Config::default(), counting_keys(1)).with_extension(client_codec),
            server: Connection::server(Instant::ZERO, Config::default()).with_extension(server_codec),
        };
        let message = english(3000, 3);
        for _ in 0..2 {
            pair.client.sender().send_text(&message).unwrap();
            prop_assert_eq!(pair.client_events(), vec![text(&message)], "{}", answer);
            pair.server.sender().send_text(&message).unwrap();
            prop_assert_eq!(pair.server_events(), vec![text(&message)], "{}", answer);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Negotiation: the client

#[test]
fn the_client_refuses_responses_it_did_not_allow() {
    use NegotiationError as N;
    let defaults = DeflateConfig::default();
    let asks_server_10 = deflate_config(|c| c.server_max_window_bits = 10);
    let offers_client_10 = deflate_config(|c| c.client_max_window_bits = 10);
    let asks_no_takeover = deflate_config(|c| c.server_no_context_takeover = true);
    let unknown = |p: &str| N::UnknownParameter {
        extension: NAME.into(),
        parameter: p.into(),
    };
    let duplicate = |p: &str| N::DuplicateParameter {
        extension: NAME.into(),
        parameter: p.into(),
    };
    let invalid = |p: &str, v: Option<&str>| N::InvalidValue {
        extension: NAME.into(),
        parameter: p.into(),
        value: v.map(String::from),
    };
    let not_offered = |p: &str, v: &str| N::NotOffered {
        extension: NAME.into(),
        parameter: p.into(),
        value: Some(v.into()),
    };
    let missing = |p: &str| N::MissingParameter {
        extension: NAME.into(),
        parameter: p.into(),
    };
    #[rustfmt::skip]
    let cases: &[(&str, DeflateConfig, NegotiationError)] = &[
        ("permessage-deflate; x-unknown", defaults, unknown("x-unknown")),
        ("permessage-deflate; server_no_context_takeover; mux=1", defaults, unknown("mux")),
        // server_max_window_bits larger than requested, or missing when requested.
        ("permessage-deflate; server_max_window_bits=11", asks_server_10, not_offered("server_max_window_bits", "11")),
        ("permessage-deflate; server_max_window_bits=15", asks_server_10, not_offered("server_max_window_bits", "15")),
        ("permessage-deflate", asks_server_10, missing("server_max_window_bits")),
        // client_max_window_bits larger than offered, or 8 (zlib cannot compress with it).
        ("permessage-deflate; client_max_window_bits=11", offers_client_10, not_offered("client_max_window_bits", "11")),
        ("permessage-deflate; client_max_window_bits=15", offers_client_10, not_offered("client_max_window_bits", "15")),
        (
            "permessage-deflate; client_max_window_bits=8",
            defaults,
            N::Unsupported { extension: NAME.into(), parameter: "client_max_window_bits".into(), value: "8".into() },
        ),
        (
            "permessage-deflate; client_max_window_bits=8",
            offers_client_10,
            N::Unsupported { extension: NAME.into(), parameter: "client_max_window_bits".into(), value: "8".into() },
        ),
        // server_no_context_takeover requested but not confirmed.
        ("permessage-deflate", asks_no_takeover, missing("server_no_context_takeover")),
        ("permessage-deflate; client_no_context_takeover", asks_no_takeover, missing("server_no_context_takeover")),
        // Duplicates.
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            defaults,
            duplicate("server_no_context_takeover"),
        ),
        (
            "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10",
            defaults,
            duplicate("client_max_window_bits"),
        ),
        (
            "permessage-deflate; server_max_window_bits=10; server_max_window_bits=9",
            asks_server_10,
            duplicate("server_max_window_bits"),
        ),
        // A response's client_max_window_bits must have a value.
        ("permessage-deflate; client_max_window_bits", defaults, invalid("client_max_window_bits", None)),
        // Invalid values.
        ("permessage-deflate; server_max_window_bits=7", defaults, invalid("server_max_window_bits", Some("7"))),
        ("permessage-deflate; server_max_window_bits=16", defaults, invalid("server_max_window_bits", Some("16"))),
        ("permessage-deflate; server_max_window_bits", defaults, invalid("server_max_window_bits", None)),
        ("permessage-deflate; client_max_window_bits=09", defaults, invalid("client_max_window_bits", Some("09"))),
        (
            "permessage-deflate; server_no_context_takeover=1",
            asks_no_takeover,
            invalid("server_no_context_takeover", Some("1")),
        ),
    ];
    for (response, config, expected) in cases {
        match PerMessageDeflate::new(*config).confirm(&element(response)) {
            Ok(_) => panic!("{response} confirmed with {config:?}"),
            Err(err) => {
                assert_eq!(&err, expected, "{response}");
                assert!(
                    err.to_string()
                        .starts_with("permessage-deflate negotiation failed: "),
                    "{err}"
                );
            }
        }
    }
}

#[test]
fn the_client_accepts_what_the_rfc_lets_a_server_answer() {
    let defaults = DeflateConfig::default();
    let asks_server_10 = deflate_config(|c| c.server_max_window_bits = 10);
    let offers_client_10 = deflate_config(|c| c.client_max_window_bits = 10);
    let cases: &[(&str, DeflateConfig)] = &[
        ("permessage-deflate", defaults),
        // A server may add server_no_context_takeover and client_no_context_takeover unasked...
        ("permessage-deflate; server_no_context_takeover", defaults),
        ("permessage-deflate; client_no_context_takeover", defaults),
        // ...limit its own window unasked, even to 8 (the client inflates with 9)...
        ("permessage-deflate; server_max_window_bits=12", defaults),
        ("permessage-deflate; server_max_window_bits=8", defaults),
        (
            "permessage-deflate; server_max_window_bits=10",
            asks_server_10,
        ),
        (
            "permessage-deflate; server_max_window_bits=9",
            asks_server_10,
        ),
        // ...and limit the client's window, which the default offer allows.
        ("permessage-deflate; client_max_window_bits=9", defaults),
        (
            "permessage-deflate; client_max_window_bits=10",
            offers_client_10,
        ),
        (
            "permessage-deflate; client_max_window_bits=\"9\"",
            offers_client_10,
        ),
        ("PERMESSAGE-DEFLATE; SERVER_NO_CONTEXT_TAKEOVER", defaults),
    ];
    for (response, config) in cases {
        let client_codec = PerMessageDeflate::new(*config)
            .confirm(&element(response))
            .unwrap_or_else(|err| panic!("{response}: {err}"));
        // The confirmed codec talks to a server codec built for the same answer.
        let server_codec = server_codec_for(response);
        let mut pair = Pair {
            client: Connection::client(Instant::ZERO, Config::default(), counting_keys(1))
                .with_extension(client_codec),
            server: Connection::server(Instant::ZERO, Config::default())
                .with_extension(server_codec),
        };
        let message = english(5000, 11);
        for _ in 0..2 {
            pair.client.sender().send_text(&message).unwrap();
            assert_eq!(pair.client_events(), [text(&message)], "{response}");
            pair.server.sender().send_text(&message).unwrap();
            assert_eq!(pair.server_events(), [text(&message)], "{response}");
        }
    }
}

/// A server codec that answers exactly `response` (offered back to a default server as the offer).
fn server_codec_for(response: &str) -> Box<dyn Extension> {
    let mut offer = element(response);
    // The server's compressor must use no more than the response says: cap it through the config.
    let server_bits = bits_of(param(&offer, "server_max_window_bits"))
        .unwrap_or(15)
        .max(9);
    let config = deflate_config(|c| {
        c.server_max_window_bits = server_bits;
        c.server_no_context_takeover = param(&offer, "server_no_context_takeover").is_some();
    });
    if bits_of(param(&offer, "server_max_window_bits")) == Some(8) {
        offer
            .params
            .retain(|(n, _)| !n.eq_ignore_ascii_case("server_max_window_bits"));
    }
    PerMessageDeflate::new(config)
        .accept(&[offer])
        .unwrap()
        .expect("accepted")
        .1
}

// ---------------------------------------------------------------------------------------------------------
// Negotiation through the opening handshake

const NONCE: [u8; 16] = *b"the sample nonce";

fn handshake(
    client: Option<DeflateConfig>,
    server: Option<DeflateConfig>,
) -> (Option<String>, Connection, Connection) {
    let mut request = ClientRequest::new(Url::parse("ws://example.com/chat").unwrap());
    if let Some(config) = client {
        request = request
            .extension(Arc::new(PerMessageDeflate::new(config)))
            .unwrap();
    }
    let (mut client_handshake, request_bytes) = request.start(NONCE);
    let mut server_config = ServerConfig::default();
    if let Some(config) = server {
        server_config
            .extensions
            .push(Arc::new(PerMessageDeflate::new(config)));
    }
    let request = ServerHandshake::new(server_config)
        .handle_input(&request_bytes)
        .unwrap()
        .expect("a whole request");
    let accepted = request.accepted_extension().map(ToString::to_string);
    let upgrade = request.accept(Acceptance::new()).unwrap();
    let response = String::from_utf8(upgrade.response().to_vec()).unwrap();
    match &accepted {
        Some(element) => {
            assert!(
                response.contains(&format!("\r\nSec-WebSocket-Extensions: {element}\r\n")),
                "{response}"
            )
        }
        None => assert!(!response.contains("Sec-WebSocket-Extensions"), "{response}"),
    }
    let outcome = client_handshake
        .handle_input(upgrade.response())
        .unwrap()
        .expect("a whole response");
    assert_eq!(outcome.extension().is_some(), accepted.is_some());
    assert_eq!(upgrade.extension().is_some(), accepted.is_some());
    let server_conn = upgrade.into_connection(Instant::ZERO, Config::default());
    let (client_conn, _) =
        outcome.into_connection(Instant::ZERO, Config::default(), counting_keys(9));
    (accepted, client_conn, server_conn)
}

#[test]
fn the_handshake_negotiates_and_installs_the_codec() {
    let message = english(2000, 5);
    let cases = [
        (Some(DeflateConfig::default()), Some(DeflateConfig::default()), Some("permessage-deflate")),
        (
            Some(deflate_config(|c| {
                c.server_max_window_bits = 10;
                c.client_no_context_takeover = true;
            })),
            Some(deflate_config(|c| c.client_max_window_bits = 12)),
            Some("permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"),
        ),
        (None, Some(DeflateConfig::default()), None),
        (Some(DeflateConfig::default()), None, None),
    ];
    for (client, server, expected) in cases {
        let (accepted, client_conn, server_conn) = handshake(client, server);
        assert_eq!(accepted.as_deref(), expected);
        let mut pair = Pair {
            client: client_conn,
            server: server_conn,
        };
        let compressed = expected.is_some();
        for _ in 0..2 {
            pair.client.sender().send_text(&message).unwrap();
            let wire = pair.client.poll_transmit().to_vec();
            pair.client.advance_transmit(Instant::ZERO, wire.len());
            let sent = parse_frames(&wire);
            assert_eq!(sent[0].rsv != 0, compressed);
            assert_eq!(sent[0].payload.len() < message.len() / 2, compressed);
            pair.server.handle_input(Instant::ZERO, &wire);
            assert_eq!(events(&mut pair.server), [text(&message)]);
            pair.server
                .sender()
                .send_binary(message.as_bytes())
                .unwrap();
            let wire = pair.server.poll_transmit().to_vec();
            pair.server.advance_transmit(Instant::ZERO, wire.len());
            assert_eq!(parse_frames(&wire)[0].rsv != 0, compressed);
            pair.client.handle_input(Instant::ZERO, &wire);
            assert_eq!(
                events(&mut pair.client),
                [Ev::Binary(message.clone().into_bytes())]
            );
        }
    }
}

#[test]
fn the_handshake_declines_invalid_offers_and_refuses_invalid_answers() {
    // A request with only an invalid offer still upgrades, without the extension.
    let request = String::from(
        "GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; client_max_window_bits\r\n\r\n"
    );
    let mut config = ServerConfig::default();
    config
        .extensions
        .push(Arc::new(PerMessageDeflate::default()));
    let parsed = ServerHandshake::new(config.clone())
        .handle_input(request.as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(parsed.extensions().len(), 2);
    assert!(parsed.accepted_extension().is_none());
    let upgrade = parsed.accept(Acceptance::new()).unwrap();
    assert!(upgrade.extension().is_none());
    // Several header lines: the first acceptable offer across them wins.
    let request = request.replace(
        "; client_max_window_bits; client_max_window_bits",
        "; client_max_window_bits",
    );
    let parsed = ServerHandshake::new(config)
        .handle_input(request.as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(
        parsed
            .accepted_extension()
            .map(ToString::to_string)
            .as_deref(),
        Some("permessage-deflate")
    );

    // The client refuses an answer it did not allow.
    let asks_server_11 = deflate_config(|c| c.server_max_window_bits = 11);
    let refused = [
        (
            "permessage-deflate; client_max_window_bits",
            DeflateConfig::default(),
        ),
        (
            "permessage-deflate; client_max_window_bits=8",
            DeflateConfig::default(),
        ),
        ("permessage-deflate; x-unknown", DeflateConfig::default()),
        (
            "permessage-deflate; server_max_window_bits=12",
            asks_server_11,
        ),
        ("permessage-deflate", asks_server_11),
        (
            "permessage-deflate, permessage-deflate",
            DeflateConfig::default(),
        ),
    ];
    for (answer, config) in refused {
        let request = ClientRequest::new(Url::parse("ws://example.com/").unwrap())
            .extension(Arc::new(PerMessageDeflate::new(config)))
            .unwrap();
        let (mut client, _) = request.start(NONCE);
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n",
            accept_key("dGhlIHNhbXBsZSBub25jZQ==")
        );
        let err = client.handle_input(response.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                ClientError::ExtensionNegotiation(_) | ClientError::UnexpectedExtension(_)
            ),
            "{answer}: {err:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// Receive rules

#[test]
fn rsv1_without_the_extension_is_a_protocol_error() {
    for role in [Role::Server, Role::Client] {
        for b0 in [FIN | RSV1 | TEXT, FIN | RSV1 | BINARY, RSV1 | TEXT] {
            let input = frame_to(role, b0, &HELLO);
            assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::ReservedBits(0b100),
                1002,
            );
            assert_rejects(
                role,
                fragments_config(),
                &input,
                ProtocolError::ReservedBits(0b100),
                1002,
            );
        }
    }
}

#[test]
fn rsv_bits_the_extension_does_not_claim_or_on_the_wrong_frame_are_protocol_errors() {
    let plain_first = |role| frame_to(role, TEXT, b"Hel");
    let compressed_first = |role| frame_to(role, RSV1 | TEXT, &HELLO[..3]);
    for role in [Role::Server, Role::Client] {
        for config in [Config::default(), fragments_config()] {
            let cases: Vec<(Vec<Vec<u8>>, u8)> = vec![
                // RSV1 on a continuation frame, after a compressed or an uncompressed first frame.
                (
                    vec![
                        compressed_first(role),
                        frame_to(role, FIN | RSV1 | CONT, &HELLO[3..]),
                    ],
                    0b100,
                ),
                (
                    vec![
                        compressed_first(role),
                        frame_to(role, RSV1 | CONT, &HELLO[3..]),
                    ],
                    0b100,
                ),
                (
                    vec![plain_first(role), frame_to(role, FIN | RSV1 | CONT, b"lo")],
                    0b100,
                ),
                // RSV1 on control frames, alone and inside a compressed message.
                (vec![frame_to(role, FIN | RSV1 | PING, b"")], 0b100),
                (vec![frame_to(role, FIN | RSV1 | PONG, b"x")], 0b100),
                (
                    vec![frame_to(role, FIN | RSV1 | CLOSE, &close_body(1000, ""))],
                    0b100,
                ),
                (
                    vec![
                        compressed_first(role),
                        frame_to(role, FIN | RSV1 | PING, b""),
                    ],
                    0b100,
                ),
                // permessage-deflate claims RSV1 only.
                (vec![frame_to(role, FIN | RSV2 | TEXT, &HELLO)], 0b010),
                (vec![frame_to(role, FIN | RSV3 | BINARY, &HELLO)], 0b001),
                (
                    vec![frame_to(role, FIN | RSV1 | RSV2 | TEXT, &HELLO)],
                    0b110,
                ),
                (
                    vec![
                        compressed_first(role),
                        frame_to(role, FIN | RSV3 | CONT, &HELLO[3..]),
                    ],
                    0b001,
                ),
            ];
            for (frames, rsv) in cases {
                let mut conn = endpoint(role, DeflateConfig::default(), config);
                let (events, err) = feed(&mut conn, &frames);
                let Some(Error::Protocol(err)) = err else {
                    panic!("{role:?} {frames:02x?}: no error, {events:?}");
                };
                assert_eq!(
                    err,
                    ProtocolError::ReservedBits(rsv),
                    "{role:?} {frames:02x?}"
                );
                assert_failed_with(&mut conn, err, 1002, true);
            }
        }
    }
}

#[test]
fn a_message_that_does_not_inflate_is_1007() {
    let garbage: &[&[u8]] = &[
        // BTYPE 11 is reserved.
        &[0xff, 0xff, 0xff],
        &[0x06],
        // A stored block whose LEN and NLEN disagree.
        &[0x00, 0x05, 0x00, 0x05, 0x00, b'H', b'e', b'l', b'l', b'o'],
        // A back-reference before the start of the stream.
        &HELLO_AGAIN,
        // A dynamic block declaring 32 distance codes (30 at most).
        &[0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ];
    for role in [Role::Server, Role::Client] {
        for config in [Config::default(), fragments_config()] {
            for payload in garbage {
                for opcode in [TEXT, BINARY] {
                    let mut conn = endpoint(role, DeflateConfig::default(), config);
                    let (events, err) =
                        feed_until_error(&mut conn, &frame_to(role, FIN | RSV1 | opcode, payload));
                    assert!(events.is_empty(), "{events:?}");
                    assert_eq!(err, ProtocolError::ExtensionData, "{role:?} {payload:02x?}");
                    assert_failed_with(&mut conn, err, 1007, true);
                }
            }
        }
    }
}

/// Compressed text is validated as it is inflated: the connection fails on the frame (or, receiving
/// fragments, the chunk) where the text becomes invalid, before the rest of the message arrives.
#[test]
fn compressed_text_that_inflates_to_invalid_utf8_fails_fast() {
    // Each message as stored blocks, one per frame; the bad block is the second.
    let messages: &[(&[&[u8]], &str)] = &[
        (&[b"Hello, ", &[0xff], b"world"], "an impossible byte"),
        (
            &[b"price: \xe2\x82", b"A", b"!"],
            "a character cut short across frames",
        ),
        (
            &[b"surrogate ", b"\xed\xa0\x80", b"!"],
            "an encoded surrogate",
        ),
        (
            &[b"over ", b"\xf4\x90\x80\x80", b"!"],
            "a code point over U+10FFFF",
        ),
        (&[b"overlong ", b"\xc0\xaf", b"!"], "an overlong encoding"),
    ];
    for role in [Role::Server, Role::Client] {
        for config in [Config::default(), fragments_config()] {
            for (blocks, why) in messages {
                let mut conn = endpoint(role, DeflateConfig::default(), config);
                let frames = [
                    frame_to(role, RSV1 | TEXT, &stored(blocks[0])),
                    frame_to(role, CONT, &stored(blocks[1])),
                ];
                let (events, err) = feed(&mut conn, &frames);
                let Some(Error::Protocol(err)) = err else {
                    panic!("{role:?} {why}: not failed before the last frame: {events:?}");
                };
                assert_eq!(err, ProtocolError::InvalidUtf8, "{why}");
                if config.receive_mode == ReceiveMode::Fragments {
                    // The first, valid piece was delivered.
                    assert_eq!(
                        events,
                        [Ev::Fragment {
                            kind: DataKind::Text,
                            data: blocks[0].to_vec(),
                            first: true,
                            fin: false
                        }]
                    );
                } else {
                    assert!(events.is_empty());
                }
                assert_failed_with(&mut conn, err, 1007, true);
            }
            // A message that ends inside a character fails at its end.
            let mut conn = endpoint(role, DeflateConfig::default(), config);
            let mut payload = stored(b"cut \xe2\x82");
            payload.push(0x00);
            let (_, err) =
                feed_until_error(&mut conn, &frame_to(role, FIN | RSV1 | TEXT, &payload));
            assert_eq!(err, ProtocolError::InvalidUtf8);
            assert_failed_with(&mut conn, err, 1007, true);
            // Binary is not checked.
            let mut conn = endpoint(role, DeflateConfig::default(), config);
            let frames = [
                frame_to(role, RSV1 | BINARY, &stored(b"\xff\xfe")),
                frame_to(role, FIN | CONT, &[0x00]),
            ];
            assert_eq!(feed(&mut conn, &frames).1, None);
        }
    }
}

/// Receiving fragments, the check is as fine-grained as the bytes that arrive: inside one frame, the
/// failure comes with the byte that makes the text invalid, long before the frame ends.
#[test]
fn invalid_utf8_inside_one_compressed_frame_fails_before_the_frame_ends() {
    for role in [Role::Server, Role::Client] {
        let mut conn = endpoint(role, DeflateConfig::default(), fragments_config());
        let mut data = b"valid text, then ".to_vec();
        let bad_at = data.len();
        data.push(0xff);
        data.extend_from_slice(&[b'x'; 4000]);
        let mut payload = stored(&data);
        payload.push(0x00);
        let wire = frame_to(role, FIN | RSV1 | TEXT, &payload);
        // Header, stored-block header, then the data up to the bad byte.
        let header_len = wire.len() - payload.len();
        let upto = header_len + 5 + bad_at + 1;
        let mut delivered = Vec::new();
        let mut failed = None;
        for (i, byte) in wire[..upto].iter().enumerate() {
            conn.handle_input(Instant::ZERO, &[*byte]);
            let (events, err) = poll_all(&mut conn);
            for event in events {
                if let Ev::Fragment { data, .. } = event {
                    delivered.extend(data);
                }
            }
            if let Some(err) = err {
                failed = Some((i, err));
                break;
            }
        }
        let (at, err) = failed.expect("failed before the frame ended");
        assert_eq!(at, upto - 1, "failed with the bad byte");
        assert_eq!(err, Error::Protocol(ProtocolError::InvalidUtf8));
        assert_eq!(delivered, &data[..bad_at]);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Decompression bombs and the message limit

const MIB: usize = 1 << 20;

/// Compressed `len` zero bytes as the frames a client with `fragment_size` sends (RSV1 on the first).
fn zeros_from_client(len: usize, fragment_size: Option<usize>) -> Vec<u8> {
    let mut config = Config::default();
    config.fragment_size = fragment_size;
    let mut pair = deflate_pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        config,
        Config::default(),
    );
    pair.client.sender().send_binary(&vec![0u8; len]).unwrap();
    let wire = pair.client.poll_transmit().to_vec();
    wire
}

fn limited(mode: ReceiveMode, max_message_size: usize) -> Connection {
    let mut config = Config::default();
    config.max_message_size = max_message_size;
    config.receive_mode = mode;
    endpoint(Role::Server, DeflateConfig::default(), config)
}

/// What a bomb of 10 MiB of zeros, sent in frames of `fragment_size`, does to a server in `mode` with a
/// 1 MiB message limit: the error, the bytes delivered before it, and the heap's peak and largest block.
struct Blast {
    error: Error,
    delivered: usize,
    peak: usize,
    largest: usize,
}

fn blast(mode: ReceiveMode, fragment_size: Option<usize>) -> Blast {
    let wire = zeros_from_client(10 * MIB, fragment_size);
    // 10 MiB of zeros compresses to about 10 KiB.
    assert!(wire.len() < 16 << 10, "{}", wire.len());
    let mut server = limited(mode, MIB);
    let watch = HeapWatch::start();
    let mut delivered = 0;
    let mut failed = None;
    // Fed in pieces, the way a driver reads.
    for chunk in wire.chunks(1500) {
        server.handle_input(Instant::ZERO, chunk);
        // Events are counted, not copied: the heap is the connection's alone.
        loop {
            match server.poll_event() {
                Ok(Some(Event::Fragment(fragment))) => delivered += fragment.data.len(),
                Ok(Some(other)) => panic!("{other:?}"),
                Ok(None) => break,
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        if failed.is_some() {
            break;
        }
    }
    let (peak, largest) = (watch.peak(), watch.largest());
    let error = failed.expect("the message limit is enforced");
    if let Error::Protocol(err) = error {
        assert_failed_with(&mut server, err, 1009, true);
    }
    Blast {
        error,
        delivered,
        peak,
        largest,
    }
}

const BOMBS: [(ReceiveMode, Option<usize>); 4] = [
    (ReceiveMode::Messages, None),
    (ReceiveMode::Messages, Some(1024)),
    (ReceiveMode::Fragments, None),
    (ReceiveMode::Fragments, Some(1024)),
];

#[test]
fn a_decompression_bomb_in_one_frame_or_many_stops_at_the_message_limit() {
    let frames = parse_frames(&zeros_from_client(10 * MIB, Some(1024)));
    assert!(frames.len() > 8, "{}", frames.len());
    assert_eq!(frames[0].rsv, 0b100);
    assert!(frames[1..]
        .iter()
        .all(|f| f.rsv == 0 && f.opcode == OpCode::Continuation));
    for (mode, fragment_size) in BOMBS {
        let blast = blast(mode, fragment_size);
        assert_eq!(
            blast.error,
            Error::Protocol(ProtocolError::MessageTooLarge { max: MIB as u64 })
        );
        assert!(
            blast.delivered <= MIB,
            "{mode:?}: {} bytes delivered",
            blast.delivered
        );
        // Nowhere near the 10 MiB the bomb holds.
        assert!(
            blast.peak <= 2 * MIB + (192 << 10),
            "{mode:?} {fragment_size:?}: peak {}",
            blast.peak
        );
    }
}

/// The reassembly buffer never grows much past the limit, nor the heap as a whole (the limit, the
/// received bytes and the inflate state).
#[test]
fn a_decompression_bomb_never_allocates_past_the_limit() {
    for (mode, fragment_size) in BOMBS {
        let blast = blast(mode, fragment_size);
        assert!(
            blast.largest <= MIB + (64 << 10),
            "{mode:?} {fragment_size:?}: largest allocation {} bytes",
            blast.largest
        );
        assert!(
            blast.peak <= MIB + (192 << 10),
            "{mode:?} {fragment_size:?}: peak {} bytes above the start",
            blast.peak
        );
    }
}

#[test]
fn a_message_inflating_to_exactly_the_limit_is_accepted() {
    let limit = 256 << 10;
    for mode in [ReceiveMode::Messages, ReceiveMode::Fragments] {
        for fragment_size in [None, Some(100)] {
            let mut server = limited(mode, limit);
            let (events, err) = feed(&mut server, &[zeros_from_client(limit, fragment_size)]);
            assert_eq!(err, None, "{mode:?} {fragment_size:?}");
            let total: usize = events
                .iter()
                .map(|e| match e {
                    Ev::Binary(data) => data.len(),
                    Ev::Fragment { data, .. } => data.len(),
                    other => panic!("{other:?}"),
                })
                .sum();
            assert_eq!(total, limit);
            // One byte more is over.
            let mut server = limited(mode, limit);
            let (_, err) = feed(&mut server, &[zeros_from_client(limit + 1, fragment_size)]);
            assert_eq!(
                err,
                Some(Error::Protocol(ProtocolError::MessageTooLarge {
                    max: limit as u64
                })),
                "{mode:?} {fragment_size:?}"
            );
        }
    }
}

#[test]
fn a_decompression_bomb_stops_at_the_message_limit() {
    let factory = Arc::new(PerMessageDeflate::default());
    let (element, codec) = factory
        .accept(&[ExtensionElement::new("permessage-deflate")])
        .unwrap()
        .unwrap();
    assert_eq!(element.to_string(), "permessage-deflate");
    let mut config = Config::default();
    config.max_message_size = 1 << 20;
    let mut server = Connection::server(Instant::ZERO, config).with_extension(codec);
    // 10 MiB of zeros compresses to about 10 KiB; send it as a client would.
    let client_codec = PerMessageDeflate::default()
        .confirm(&ExtensionElement::new("permessage-deflate"))
        .unwrap();
    let mut client = Connection::client(Instant::ZERO, Config::default(), || [1, 2, 3, 4])
        .with_extension(client_codec);
    client.sender().send_binary(&vec![0u8; 10 << 20]).unwrap();
    let wire = client.poll_transmit().to_vec();
    assert!(wire.len() < 64 << 10);
    server.handle_input(Instant::ZERO, &wire);
    let err = server.poll_event().unwrap_err();
    assert_eq!(err.close_code().get(), 1009);
}

// ---------------------------------------------------------------------------------------------------------
// Which messages are compressed

#[test]
fn short_raw_and_fragmented_messages_go_uncompressed() {
    let deflate = deflate_config(|c| c.threshold = 64);
    for role in [Role::Server, Role::Client] {
        let mut conn = endpoint(role, deflate, Config::default());
        let long = english(4000, 1);
        conn.sender().send_text(&long[..63]).unwrap();
        conn.sender().send_text(&long[..64]).unwrap();
        conn.sender()
            .send_raw(DataKind::Text, long.as_bytes())
            .unwrap();
        conn.sender()
            .send_raw(DataKind::Binary, long.as_bytes())
            .unwrap();
        conn.sender()
            .send_fragment(DataKind::Text, &long.as_bytes()[..2000], false)
            .unwrap();
        conn.sender()
            .send_fragment(DataKind::Text, &long.as_bytes()[2000..], true)
            .unwrap();
        conn.sender().send_binary(long.as_bytes()).unwrap();
        let sent = take_sent(&mut conn);
        let summary: Vec<(u8, OpCode, usize)> = sent
            .iter()
            .map(|f| (f.rsv, f.opcode, f.payload.len()))
            .collect();
        assert_eq!(summary.len(), 7, "{summary:?}");
        assert_eq!(sent[0].rsv, 0, "below the threshold");
        assert_eq!(sent[0].payload, long.as_bytes()[..63]);
        assert_eq!(sent[1].rsv, 0b100, "at the threshold");
        assert_eq!(
            (sent[2].rsv, &sent[2].payload[..]),
            (0, long.as_bytes()),
            "send_raw text"
        );
        assert_eq!(
            (sent[3].rsv, &sent[3].payload[..]),
            (0, long.as_bytes()),
            "send_raw binary"
        );
        assert_eq!(
            (sent[4].rsv, sent[4].opcode, sent[4].fin),
            (0, OpCode::Text, false)
        );
        assert_eq!(
            (sent[5].rsv, sent[5].opcode, sent[5].fin),
            (0, OpCode::Continuation, true)
        );
        assert_eq!(sent[6].rsv, 0b100);
        assert!(sent[6].payload.len() < long.len() / 2);
    }
}

#[test]
fn the_peer_decodes_a_mix_with_context_takeover() {
    let deflate = deflate_config(|c| c.threshold = 64);
    for receive in [Config::default(), fragments_config()] {
        let mut config = Config::default();
        config.fragment_size = Some(300);
        let mut pair = deflate_pair(deflate, deflate, config, receive);
        let long = english(4000, 2);
        let repeated = long.clone();
        pair.client.sender().send_text(&long).unwrap();
        pair.client.sender().send_text("short").unwrap();
        pair.client
            .sender()
            .send_raw(DataKind::Binary, &long.as_bytes()[..1000])
            .unwrap();
        pair.client
            .sender()
            .send_fragment(DataKind::Text, b"piece one, ", false)
            .unwrap();
        pair.client.sender().ping(b"between").unwrap();
        pair.client
            .sender()
            .send_fragment(DataKind::Text, b"piece two", true)
            .unwrap();
        // With takeover, the repeat is a few bytes: one back-reference to the first message.
        pair.client.sender().send_text(&repeated).unwrap();
        pair.client
            .sender()
            .send_binary(&random_bytes(5000, 3))
            .unwrap();
        pair.client.sender().send_text(&long[..2000]).unwrap();
        let wire = pair.client.poll_transmit().to_vec();
        pair.client.advance_transmit(Instant::ZERO, wire.len());
        let frames = parse_frames(&wire);
        let repeat_frames: Vec<_> = frames.iter().filter(|f| f.rsv != 0).collect();
        assert_eq!(repeat_frames.len(), 4, "four compressed messages");
        pair.server.handle_input(Instant::ZERO, &wire);
        let got = events(&mut pair.server);
        let expected: Vec<(OpCode, Vec<u8>)> = vec![
            (OpCode::Text, long.clone().into_bytes()),
            (OpCode::Text, b"short".to_vec()),
            (OpCode::Binary, long.as_bytes()[..1000].to_vec()),
            (OpCode::Text, b"piece one, piece two".to_vec()),
            (OpCode::Text, repeated.clone().into_bytes()),
            (OpCode::Binary, random_bytes(5000, 3)),
            (OpCode::Text, long.as_bytes()[..2000].to_vec()),
        ];
        assert_eq!(reassemble(&got), expected, "{:?}", receive.receive_mode);
        assert!(got.contains(&Ev::Ping(b"between".to_vec())));
    }
    // The repeat really was compressed against the first message.
    let mut pair = deflate_pair(deflate, deflate, Config::default(), Config::default());
    let long = english(4000, 2);
    pair.client.sender().send_text(&long).unwrap();
    pair.client.sender().send_text("short").unwrap();
    pair.client.sender().send_text(&long).unwrap();
    let sent = take_sent(&mut pair.client);
    assert!(
        sent[2].payload.len() < sent[0].payload.len() / 10,
        "{} then {}",
        sent[0].payload.len(),
        sent[2].payload.len()
    );
}

/// Whole messages from events in either receive mode (pings and pongs left out).
fn reassemble(events: &[Ev]) -> Vec<(OpCode, Vec<u8>)> {
    let mut out = Vec::new();
    let mut current: Option<(OpCode, Vec<u8>)> = None;
    for event in events {
        match event {
            Ev::Text(t) => out.push((OpCode::Text, t.as_bytes().to_vec())),
            Ev::Binary(b) => out.push((OpCode::Binary, b.clone())),
            Ev::Fragment {
                kind,
                data,
                first,
                fin,
            } => {
                assert_eq!(*first, current.is_none(), "first flag");
                let entry = current.get_or_insert_with(|| (kind.opcode(), Vec::new()));
                assert_eq!(entry.0, kind.opcode());
                entry.1.extend_from_slice(data);
                if *fin {
                    out.extend(current.take());
                }
            }
            Ev::Ping(_) | Ev::Pong(_) => {}
            Ev::Close { .. } => panic!("unexpected close"),
        }
    }
    assert!(current.is_none(), "a message left unfinished");
    out
}

// ---------------------------------------------------------------------------------------------------------
// Round trips

#[derive(Clone, Debug)]
enum Payload {
    Text(String),
    Binary(Vec<u8>),
}

/// 0 to 64 KiB, mostly small: large messages are slow to compress in an unoptimised build.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 0usize..4096, 1 => 4096usize..=65536]
}

fn payload_strategy() -> impl Strategy<Value = Payload> {
    prop_oneof![
        // Short messages around the threshold.
        "\\PC{0,40}".prop_map(Payload::Text),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Payload::Binary),
        // Compressible text of any size up to 64 KiB, multi-byte characters included.
        (size(), any::<u64>()).prop_map(|(len, seed)| Payload::Text(english(len, seed))),
        // Incompressible bytes.
        (size(), any::<u64>()).prop_map(|(len, seed)| Payload::Binary(random_bytes(len, seed))),
        // Random text: compresses poorly, and splits characters everywhere.
        "\\PC{0,3000}".prop_map(Payload::Text),
        // Long runs.
        (size(), any::<u8>()).prop_map(|(len, b)| Payload::Binary(vec![b; len])),
    ]
}

/// One direction's negotiated parameters and the compressor's settings.
#[derive(Clone, Copy, Debug)]
struct Side {
    window_bits: u8,
    no_context_takeover: bool,
    level: u8,
    mem_level: u8,
}

fn side_strategy() -> impl Strategy<Value = Side> {
    (9u8..=15, any::<bool>(), 0u8..=9, 1u8..=9).prop_map(
        |(window_bits, no_context_takeover, level, mem_level)| Side {
            window_bits,
            no_context_takeover,
            level,
            mem_level,
        },
    )
}

/// Negotiates exactly `client` (the client's compressor) and `server` (the server's) and checks the answer.
fn pair_for(
    client: Side,
    server: Side,
    threshold: usize,
    client_config: Config,
    server_config: Config,
) -> Pair {
    let client_deflate = deflate_config(|c| {
        c.level = client.level;
        c.mem_level = client.mem_level;
        c.threshold = threshold;
        c.client_max_window_bits = client.window_bits;
        c.client_no_context_takeover = client.no_context_takeover;
        c.server_max_window_bits = server.window_bits;
        c.server_no_context_takeover = server.no_context_takeover;
    });
    let server_deflate = deflate_config(|c| {
        c.level = server.level;
        c.mem_level = server.mem_level;
        c.threshold = threshold;
    });
    let (answer, client_codec, server_codec) = negotiate(client_deflate, server_deflate);
    let answer = element(&answer);
    assert_eq!(
        param(&answer, "server_no_context_takeover").is_some(),
        server.no_context_takeover
    );
    assert_eq!(
        param(&answer, "client_no_context_takeover").is_some(),
        client.no_context_takeover
    );
    assert_eq!(
        bits_of(param(&answer, "server_max_window_bits")).unwrap_or(15),
        server.window_bits
    );
    assert_eq!(
        bits_of(param(&answer, "client_max_window_bits")).unwrap_or(15),
        client.window_bits
    );
    Pair {
        client: Connection::client(Instant::ZERO, client_config, counting_keys(0x33))
            .with_extension(client_codec),
        server: Connection::server(Instant::ZERO, server_config).with_extension(server_codec),
    }
}

/// Sends `messages` from `from`, moves the bytes to `to` in chunks cut at `cuts`, and returns what `to`
/// delivered, as whole messages. Checks RSV1 is only ever on the first frame of a message.
fn transfer(
    from: &mut Connection,
    to: &mut Connection,
    messages: &[Payload],
    cuts: &[Index],
) -> Vec<(OpCode, Vec<u8>)> {
    for message in messages {
        match message {
            Payload::Text(t) => from.sender().send_text(t).unwrap(),
            Payload::Binary(b) => from.sender().send_binary(b).unwrap(),
        }
    }
    let wire = from.poll_transmit().to_vec();
    from.advance_transmit(Instant::ZERO, wire.len());
    let frames = parse_frames(&wire);
    let mut in_message = false;
    for frame in &frames {
        if in_message {
            assert_eq!((frame.opcode, frame.rsv), (OpCode::Continuation, 0));
        } else {
            assert_ne!(frame.opcode, OpCode::Continuation);
        }
        in_message = !frame.fin;
    }
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
    points.sort_unstable();
    let mut got = Vec::new();
    let mut start = 0;
    for end in points.into_iter().chain([wire.len()]) {
        to.handle_input(Instant::ZERO, &wire[start..end]);
        got.extend(events(to));
        start = end;
    }
    reassemble(&got)
}

fn expected(messages: &[Payload]) -> Vec<(OpCode, Vec<u8>)> {
    messages
        .iter()
        .map(|m| match m {
            Payload::Text(t) => (OpCode::Text, t.clone().into_bytes()),
            Payload::Binary(b) => (OpCode::Binary, b.clone()),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// Compressing then decompressing is the identity, for any messages, negotiated parameters,
    /// compression levels, fragment sizes, read boundaries and receive modes, both ways.
    #[test]
    fn compress_then_decompress_is_the_identity(
        messages in prop::collection::vec(payload_strategy(), 1..5),
        client in side_strategy(),
        server in side_strategy(),
        // 0 compresses empty messages too.
        threshold in prop_oneof![Just(0usize), 0usize..100],
        // Tiny frames now and then: a 64 KiB message in 1-byte frames is slow to check.
        fragment_size in prop::option::of(prop_oneof![1 => 1usize..16, 2 => 16usize..1024, 4 => 1024usize..70000]),
        client_mode in prop_oneof![Just(ReceiveMode::Messages), Just(ReceiveMode::Fragments)],
        server_mode in prop_oneof![Just(ReceiveMode::Messages), Just(ReceiveMode::Fragments)],
        cuts in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let mut client_config = Config::default();
        client_config.fragment_size = fragment_size;
        client_config.receive_mode = client_mode;
        client_config.max_output_buffer = usize::MAX;
        let mut server_config = client_config;
        server_config.receive_mode = server_mode;
        let mut pair = pair_for(client, server, threshold, client_config, server_config);
        let want = expected(&messages);
        // Twice each way, so context takeover (or its absence) carries across batches.
        for _ in 0..2 {
            let got = transfer(&mut pair.client, &mut pair.server, &messages, &cuts);
            prop_assert!(got == want, "client to server");
            let got = transfer(&mut pair.server, &mut pair.client, &messages, &cuts);
            prop_assert!(got == want, "server to client");
        }
    }
}
