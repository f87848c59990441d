//! The examples of RFC 6455 section 5.7, byte for byte: decoded by a `Connection` in the right role and by
//! the bare `Decoder`, and encoded by a server and by a client with the RFC's masking key.

mod support;

use support::*;
use wslane::decoder::{Decoded, Decoder, DecoderConfig, Delivery, Item};
use wslane::{Config, Connection, DataKind, Instant, ReceiveMode, Role};

const UNMASKED_TEXT: [u8; 7] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const MASKED_TEXT: [u8; 11] = [
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];
const FRAGMENTED_TEXT: [u8; 9] = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
const UNMASKED_PING: [u8; 7] = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const MASKED_PONG: [u8; 11] = [
    0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];
const BINARY_256_HEADER: [u8; 4] = [0x82, 0x7e, 0x01, 0x00];
const BINARY_64K_HEADER: [u8; 10] = [0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];

fn rfc_client() -> Connection {
    Connection::client(Instant::ZERO, Config::default(), || RFC_KEY)
}

/// An owned copy of a decoder item, with the bytes it consumed.
#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Data {
        kind: DataKind,
        payload: Vec<u8>,
        first: bool,
        frame_end: bool,
        message_end: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

/// Runs a decoder over `bytes` given all at once until it needs more; returns the items and what is left.
fn decode_all(decoder: &mut Decoder, bytes: &[u8]) -> (Vec<Owned>, usize) {
    let mut buf = bytes.to_vec();
    let mut items = Vec::new();
    loop {
        let (consumed, item) = match decoder.decode(&mut buf).expect("valid input") {
            Decoded::NeedMore { .. } => return (items, buf.len()),
            Decoded::Item { consumed, item } => (consumed, item),
        };
        items.push(match item {
            Item::Data(chunk) => Owned::Data {
                kind: chunk.kind,
                payload: chunk.payload(&buf).to_vec(),
                first: chunk.first,
                frame_end: chunk.frame_end,
                message_end: chunk.message_end,
            },
            Item::Ping(p) => Owned::Ping(buf[p].to_vec()),
            Item::Pong(p) => Owned::Pong(buf[p].to_vec()),
            Item::Close(body) => panic!("unexpected close {body:?}"),
        });
        buf.drain(..consumed);
    }
}

fn decoder(role: Role, delivery: Delivery) -> Decoder {
    Decoder::new(DecoderConfig {
        role,
        max_frame_size: 1 << 20,
        max_message_size: 1 << 20,
        extension_rsv: 0,
        delivery,
    })
}

fn whole(kind: DataKind, payload: &[u8]) -> Owned {
    Owned::Data {
        kind,
        payload: payload.to_vec(),
        first: true,
        frame_end: true,
        message_end: true,
    }
}

#[test]
fn single_frame_unmasked_text_received_by_a_client() {
    let mut client = rfc_client();
    client.handle_input(Instant::ZERO, &UNMASKED_TEXT);
    assert_eq!(events(&mut client), [Ev::Text("Hello".into())]);

    let (items, left) = decode_all(
        &mut decoder(Role::Client, Delivery::WholeFrames),
        &UNMASKED_TEXT,
    );
    assert_eq!((items, left), (vec![whole(DataKind::Text, b"Hello")], 0));
}

#[test]
fn single_frame_masked_text_received_by_a_server() {
    let mut server = Connection::server(Instant::ZERO, Config::default());
    server.handle_input(Instant::ZERO, &MASKED_TEXT);
    assert_eq!(events(&mut server), [Ev::Text("Hello".into())]);

    let (items, left) = decode_all(
        &mut decoder(Role::Server, Delivery::WholeFrames),
        &MASKED_TEXT,
    );
    assert_eq!((items, left), (vec![whole(DataKind::Text, b"Hello")], 0));
}

#[test]
fn fragmented_unmasked_text_received_by_a_client() {
    let mut client = rfc_client();
    client.handle_input(Instant::ZERO, &FRAGMENTED_TEXT[..5]);
    assert_eq!(events(&mut client), [], "the message is not complete yet");
    client.handle_input(Instant::ZERO, &FRAGMENTED_TEXT[5..]);
    assert_eq!(events(&mut client), [Ev::Text("Hello".into())]);

    let (items, left) = decode_all(
        &mut decoder(Role::Client, Delivery::WholeFrames),
        &FRAGMENTED_TEXT,
    );
    assert_eq!(left, 0);
    assert_eq!(
        items,
        [
            Owned::Data {
                kind: DataKind::Text,
                payload: b"Hel".to_vec(),
                first: true,
                frame_end: true,
                message_end: false,
            },
            Owned::Data {
                kind: DataKind::Text,
                payload: b"lo".to_vec(),
                first: false,
                frame_end: true,
                message_end: true,
            },
        ]
    );
}

#[test]
fn fragmented_text_in_fragments_mode() {
    let mut config = Config::default();
    config.receive_mode = ReceiveMode::Fragments;
    let mut client = Connection::client(Instant::ZERO, config, || RFC_KEY);
    client.handle_input(Instant::ZERO, &FRAGMENTED_TEXT);
    assert_eq!(
        events(&mut client),
        [
            Ev::Fragment {
                kind: DataKind::Text,
                data: b"Hel".to_vec(),
                first: true,
                fin: false,
            },
            Ev::Fragment {
                kind: DataKind::Text,
                data: b"lo".to_vec(),
                first: false,
                fin: true,
            },
        ]
    );
}

#[test]
fn unmasked_ping_received_by_a_client_is_answered_with_the_rfc_masked_pong() {
    let mut client = rfc_client();
    client.handle_input(Instant::ZERO, &UNMASKED_PING);
    assert_eq!(events(&mut client), [Ev::Ping(b"Hello".to_vec())]);
    assert_eq!(client.poll_transmit(), &MASKED_PONG);

    let (items, _) = decode_all(
        &mut decoder(Role::Client, Delivery::WholeFrames),
        &UNMASKED_PING,
    );
    assert_eq!(items, [Owned::Ping(b"Hello".to_vec())]);
}

#[test]
fn masked_pong_received_by_a_server() {
    let mut server = Connection::server(Instant::ZERO, Config::default());
    server.handle_input(Instant::ZERO, &MASKED_PONG);
    assert_eq!(events(&mut server), [Ev::Pong(b"Hello".to_vec())]);
    assert!(server.poll_transmit().is_empty(), "a pong is not answered");

    let (items, _) = decode_all(
        &mut decoder(Role::Server, Delivery::WholeFrames),
        &MASKED_PONG,
    );
    assert_eq!(items, [Owned::Pong(b"Hello".to_vec())]);
}

#[test]
fn binary_256_bytes_uses_the_16_bit_length() {
    let payload: Vec<u8> = (0..=255).collect();
    let mut wire = BINARY_256_HEADER.to_vec();
    wire.extend_from_slice(&payload);

    let mut server = Connection::server(Instant::ZERO, Config::default());
    server.sender().send_binary(&payload).unwrap();
    assert_eq!(server.poll_transmit(), &wire[..]);

    let mut client = rfc_client();
    client.handle_input(Instant::ZERO, &wire);
    assert_eq!(events(&mut client), [Ev::Binary(payload.clone())]);

    let (items, _) = decode_all(&mut decoder(Role::Client, Delivery::WholeFrames), &wire);
    assert_eq!(items, [whole(DataKind::Binary, &payload)]);
}

#[test]
fn binary_64_kib_uses_the_64_bit_length() {
    let payload: Vec<u8> = (0..65536u32).map(|i| (i * 7) as u8).collect();
    let mut wire = BINARY_64K_HEADER.to_vec();
    wire.extend_from_slice(&payload);

    let mut server = Connection::server(Instant::ZERO, Config::default());
    server.sender().send_binary(&payload).unwrap();
    assert_eq!(server.poll_transmit(), &wire[..]);

    let mut client = rfc_client();
    client.handle_input(Instant::ZERO, &wire[..wire.len() - 1]);
    assert_eq!(events(&mut client), [], "one byte short");
    client.handle_input(Instant::ZERO, &wire[wire.len() - 1..]);
    assert_eq!(events(&mut client), [Ev::Binary(payload.clone())]);

    // The decoder, whole frames: nothing until the last byte, and nothing consumed before it.
    let mut dec = decoder(Role::Client, Delivery::WholeFrames);
    let mut partial = wire[..wire.len() - 1].to_vec();
    assert_eq!(
        dec.decode(&mut partial),
        Ok(Decoded::NeedMore { needed: 1 })
    );
    let (items, left) = decode_all(&mut dec, &wire);
    assert_eq!((items, left), (vec![whole(DataKind::Binary, &payload)], 0));

    // Streaming: the payload comes out as it arrives.
    let mut dec = decoder(Role::Client, Delivery::Streaming);
    let (items, _) = decode_all(&mut dec, &wire[..10 + 1000]);
    assert_eq!(
        items,
        [Owned::Data {
            kind: DataKind::Binary,
            payload: payload[..1000].to_vec(),
            first: true,
            frame_end: false,
            message_end: false,
        }]
    );
    let (items, _) = decode_all(&mut dec, &wire[10 + 1000..]);
    assert_eq!(
        items,
        [Owned::Data {
            kind: DataKind::Binary,
            payload: payload[1000..].to_vec(),
            first: false,
            frame_end: true,
            message_end: true,
        }]
    );
}

#[test]
fn server_encodes_the_unmasked_examples() {
    let mut server = Connection::server(Instant::ZERO, Config::default());
    server.sender().send_text("Hello").unwrap();
    assert_eq!(server.poll_transmit(), &UNMASKED_TEXT);
    server.advance_transmit(Instant::ZERO, UNMASKED_TEXT.len());

    server.sender().ping(b"Hello").unwrap();
    assert_eq!(server.poll_transmit(), &UNMASKED_PING);
    server.advance_transmit(Instant::ZERO, UNMASKED_PING.len());

    server
        .sender()
        .send_fragment(DataKind::Text, b"Hel", false)
        .unwrap();
    server
        .sender()
        .send_fragment(DataKind::Text, b"lo", true)
        .unwrap();
    assert_eq!(server.poll_transmit(), &FRAGMENTED_TEXT);
}

#[test]
fn fragment_size_reproduces_the_fragmented_example() {
    let mut config = Config::default();
    config.fragment_size = Some(3);
    let mut server = Connection::server(Instant::ZERO, config);
    server.sender().send_text("Hello").unwrap();
    assert_eq!(server.poll_transmit(), &FRAGMENTED_TEXT);
}

#[test]
fn client_with_the_rfc_key_encodes_the_masked_examples() {
    let mut client = rfc_client();
    client.sender().send_text("Hello").unwrap();
    assert_eq!(client.poll_transmit(), &MASKED_TEXT);
    client.advance_transmit(Instant::ZERO, MASKED_TEXT.len());

    client.sender().pong(b"Hello").unwrap();
    assert_eq!(client.poll_transmit(), &MASKED_PONG);
}

#[test]
fn examples_survive_any_split_of_the_input() {
    for (role, wire, expected) in [
        (Role::Client, &UNMASKED_TEXT[..], Ev::Text("Hello".into())),
        (Role::Server, &MASKED_TEXT[..], Ev::Text("Hello".into())),
        (Role::Client, &FRAGMENTED_TEXT[..], Ev::Text("Hello".into())),
        (
            Role::Client,
            &UNMASKED_PING[..],
            Ev::Ping(b"Hello".to_vec()),
        ),
        (Role::Server, &MASKED_PONG[..], Ev::Pong(b"Hello".to_vec())),
    ] {
        for cut in 0..=wire.len() {
            let mut conn = connection(role, Config::default());
            conn.handle_input(Instant::ZERO, &wire[..cut]);
            let mut got = events(&mut conn);
            conn.handle_input(Instant::ZERO, &wire[cut..]);
            got.extend(events(&mut conn));
            assert_eq!(
                got,
                std::slice::from_ref(&expected),
                "{role:?} cut at {cut}"
            );
        }
    }
}
