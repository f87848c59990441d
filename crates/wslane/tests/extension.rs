//! The extension hook: a tiny test extension on RSV1 that XORs payloads, installed with `with_extension` on
//! both ends of a pair. Checks the round trip, the bits on the wire, the RSV rules that still apply, UTF-8 and
//! size checks after decoding, and extension errors.

mod support;

use support::*;
use wslane::extension::Extension;
use wslane::{
    Config, Connection, DataKind, Instant, OpCode, ProtocolError, ReceiveMode, Role, SendError,
};

const RSV1_BITS: u8 = 0b100;

/// XORs every payload byte with `key` and marks the message with RSV1. Messages shorter than `min_len` are
/// sent as they are. A payload starting with `poison` (after decoding) is undecodable.
struct Xor {
    key: u8,
    min_len: usize,
    poison: Option<u8>,
}

impl Xor {
    fn new(key: u8) -> Xor {
        Xor {
            key,
            min_len: 0,
            poison: None,
        }
    }
}

impl Extension for Xor {
    fn rsv_bits(&self) -> u8 {
        RSV1_BITS
    }

    fn decode(
        &mut self,
        rsv: u8,
        input: &[u8],
        _fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        assert_eq!(
            rsv, RSV1_BITS,
            "decode is called only for messages marked with our bits"
        );
        if out.len() + input.len() > limit {
            return Err(ProtocolError::MessageTooLarge { max: limit as u64 });
        }
        let start = out.len();
        out.extend(input.iter().map(|b| b ^ self.key));
        if self.poison.is_some() && out.get(start).copied() == self.poison {
            return Err(ProtocolError::ExtensionData);
        }
        Ok(())
    }

    fn encode(
        &mut self,
        _opcode: OpCode,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<u8>, SendError> {
        if input.len() < self.min_len {
            return Ok(None);
        }
        if self.poison.is_some() && input.first().copied() == self.poison {
            return Err(SendError::Extension);
        }
        out.extend(input.iter().map(|b| b ^ self.key));
        Ok(Some(RSV1_BITS))
    }
}

/// Doubles every byte on decoding and ignores the limit it is given: the connection must still enforce
/// `max_message_size` on the decoded size (the decompression-bomb defence).
struct CarelessDoubler;

impl Extension for CarelessDoubler {
    fn rsv_bits(&self) -> u8 {
        RSV1_BITS
    }

    fn decode(
        &mut self,
        _: u8,
        input: &[u8],
        _: bool,
        out: &mut Vec<u8>,
        _: usize,
    ) -> Result<(), ProtocolError> {
        out.extend(input.iter().flat_map(|&b| [b, b]));
        Ok(())
    }

    fn encode(&mut self, _: OpCode, _: &[u8], _: &mut Vec<u8>) -> Result<Option<u8>, SendError> {
        Ok(None)
    }
}

fn xor_pair(client: Config, server: Config, key: u8) -> Pair {
    Pair {
        client: Connection::client(Instant::ZERO, client, counting_keys(1))
            .with_extension(Box::new(Xor::new(key))),
        server: Connection::server(Instant::ZERO, server).with_extension(Box::new(Xor::new(key))),
    }
}

fn with_xor(role: Role, config: Config, xor: Xor) -> Connection {
    connection(role, config).with_extension(Box::new(xor))
}

#[test]
fn messages_round_trip_through_the_extension() {
    for mode in [ReceiveMode::Messages, ReceiveMode::Fragments] {
        let mut config = Config::default();
        config.receive_mode = mode;
        let mut pair = xor_pair(config, config, 0x5a);
        pair.client.sender().send_text("héllo").unwrap();
        pair.client.sender().send_binary(&[1, 2, 3]).unwrap();
        pair.server.sender().send_text("wörld").unwrap();

        // On the wire: RSV1 set, payload transformed.
        let wire = pair.client.poll_transmit().to_vec();
        let frames = parse_frames(&wire);
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|f| f.rsv == RSV1_BITS));
        let xored: Vec<u8> = "héllo".bytes().map(|b| b ^ 0x5a).collect();
        assert_eq!(frames[0].payload, xored);

        let got = pair.client_events();
        let back = pair.server_events();
        match mode {
            ReceiveMode::Messages => {
                assert_eq!(got, [Ev::Text("héllo".into()), Ev::Binary(vec![1, 2, 3])]);
                assert_eq!(back, [Ev::Text("wörld".into())]);
            }
            _ => {
                let fragment = |kind, data: &[u8]| Ev::Fragment {
                    kind,
                    data: data.to_vec(),
                    first: true,
                    fin: true,
                };
                assert_eq!(
                    got,
                    [
                        fragment(DataKind::Text, "héllo".as_bytes()),
                        fragment(DataKind::Binary, &[1, 2, 3])
                    ]
                );
                assert_eq!(back, [fragment(DataKind::Text, "wörld".as_bytes())]);
            }
        }
    }
}

#[test]
fn encoded_text_need_not_be_utf8_but_decoded_text_must() {
    // XOR with 0x80 turns ASCII into bytes that are not UTF-8: only the decoded text is checked.
    let mut pair = xor_pair(Config::default(), Config::default(), 0x80);
    pair.client.sender().send_text("plain ascii").unwrap();
    assert_eq!(pair.client_events(), [Ev::Text("plain ascii".into())]);

    for role in [Role::Client, Role::Server] {
        let invalid: Vec<u8> = b"ok\xff".iter().map(|b| b ^ 0x80).collect();
        let mut conn = with_xor(role, Config::default(), Xor::new(0x80));
        let (_, err) = feed_until_error(&mut conn, &frame_to(role, FIN | RSV1 | TEXT, &invalid));
        assert_eq!(err, ProtocolError::InvalidUtf8);
        assert_failed_with(&mut conn, err, 1007, true);
    }
}

#[test]
fn fragmented_messages_through_the_extension() {
    let mut config = Config::default();
    config.fragment_size = Some(3);
    let mut pair = xor_pair(config, Config::default(), 0x21);
    pair.client.sender().send_text("fragmented ☃ text").unwrap();
    let frames = parse_frames(pair.client.poll_transmit());
    assert!(frames.len() > 2);
    assert_eq!(frames[0].rsv, RSV1_BITS, "RSV1 on the first frame");
    assert!(
        frames[1..].iter().all(|f| f.rsv == 0),
        "and on no continuation"
    );
    assert_eq!(pair.client_events(), [Ev::Text("fragmented ☃ text".into())]);

    // Streamed: the decoded pieces join up to the message.
    let mut streaming = Config::default();
    streaming.receive_mode = ReceiveMode::Fragments;
    let mut pair = xor_pair(config, streaming, 0x21);
    pair.client.sender().send_text("fragmented ☃ text").unwrap();
    let got = pair.client_events();
    let joined: Vec<u8> = got
        .iter()
        .flat_map(|ev| match ev {
            Ev::Fragment { data, .. } => data.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(joined, "fragmented ☃ text".as_bytes());
    assert!(matches!(got.last(), Some(Ev::Fragment { fin: true, .. })));
}

#[test]
fn messages_the_extension_passes_through_have_no_rsv_bit() {
    let mut xor = Xor::new(0x33);
    xor.min_len = 10;
    let mut client = Connection::client(Instant::ZERO, Config::default(), counting_keys(1))
        .with_extension(Box::new(xor));
    let mut server = Connection::server(Instant::ZERO, Config::default())
        .with_extension(Box::new(Xor::new(0x33)));
    client.sender().send_text("short").unwrap();
    client.sender().send_text("long enough to encode").unwrap();
    client
        .sender()
        .send_raw(DataKind::Binary, b"raw bypasses the extension")
        .unwrap();
    let frames = parse_frames(client.poll_transmit());
    assert_eq!(
        frames.iter().map(|f| f.rsv).collect::<Vec<_>>(),
        [0, RSV1_BITS, 0]
    );
    assert_eq!(frames[0].payload, b"short");
    assert_eq!(frames[2].payload, b"raw bypasses the extension");
    carry(&mut client, &mut server);
    assert_eq!(
        events(&mut server),
        [
            Ev::Text("short".into()),
            Ev::Text("long enough to encode".into()),
            Ev::Binary(b"raw bypasses the extension".to_vec()),
        ]
    );
}

#[test]
fn rsv1_is_still_refused_on_continuation_and_control_frames() {
    for role in [Role::Client, Role::Server] {
        for b0 in [FIN | RSV1 | PING, FIN | RSV1 | PONG, FIN | RSV1 | CLOSE] {
            let mut conn = with_xor(role, Config::default(), Xor::new(1));
            let (_, err) = feed_until_error(&mut conn, &frame_to(role, b0, b""));
            assert_eq!(err, ProtocolError::ReservedBits(RSV1_BITS));
            assert_failed_with(&mut conn, err, 1002, true);
        }
        for first in [RSV1 | TEXT, TEXT] {
            let mut conn = with_xor(role, Config::default(), Xor::new(1));
            let mut input = frame_to(role, first, b"a");
            input.extend(frame_to(role, FIN | RSV1 | CONT, b"b"));
            let (_, err) = feed_until_error(&mut conn, &input);
            assert_eq!(err, ProtocolError::ReservedBits(RSV1_BITS));
            assert_failed_with(&mut conn, err, 1002, true);
        }
        // Bits the extension does not claim.
        for (bit, rsv) in [(RSV2, 0b010), (RSV3, 0b001), (RSV1 | RSV2, 0b110)] {
            let mut conn = with_xor(role, Config::default(), Xor::new(1));
            let (_, err) = feed_until_error(&mut conn, &frame_to(role, FIN | bit | BINARY, b"x"));
            assert_eq!(err, ProtocolError::ReservedBits(rsv));
            assert_failed_with(&mut conn, err, 1002, true);
        }
    }
}

#[test]
fn decoded_size_is_limited_even_if_the_extension_ignores_the_limit() {
    for mode in [ReceiveMode::Messages, ReceiveMode::Fragments] {
        let mut config = Config::default();
        config.max_message_size = 100;
        config.receive_mode = mode;
        // 50 bytes decode to 100: fine. 51 decode to 102: too big.
        let mut server =
            Connection::server(Instant::ZERO, config).with_extension(Box::new(CarelessDoubler));
        server.handle_input(
            Instant::ZERO,
            &frame_to(Role::Server, FIN | RSV1 | BINARY, &[7; 50]),
        );
        let got = events(&mut server);
        assert_eq!(got.len(), 1);
        let mut server =
            Connection::server(Instant::ZERO, config).with_extension(Box::new(CarelessDoubler));
        let (_, err) = feed_until_error(
            &mut server,
            &frame_to(Role::Server, FIN | RSV1 | BINARY, &[7; 51]),
        );
        assert!(
            matches!(err, ProtocolError::MessageTooLarge { .. }),
            "{err:?}"
        );
        assert_failed_with(&mut server, err, 1009, true);
        // Across fragments.
        let mut server =
            Connection::server(Instant::ZERO, config).with_extension(Box::new(CarelessDoubler));
        let mut input = frame_to(Role::Server, RSV1 | BINARY, &[7; 30]);
        input.extend(frame_to(Role::Server, FIN | CONT, &[7; 30]));
        let (_, err) = feed_until_error(&mut server, &input);
        assert!(
            matches!(err, ProtocolError::MessageTooLarge { .. }),
            "{err:?}"
        );
        assert_failed_with(&mut server, err, 1009, true);
    }
}

#[test]
fn a_well_behaved_extension_reports_the_limit_itself() {
    let mut config = Config::default();
    config.max_message_size = 10;
    let mut server = with_xor(Role::Server, config, Xor::new(9));
    let (_, err) = feed_until_error(
        &mut server,
        &frame_to(Role::Server, FIN | RSV1 | BINARY, &[0; 11]),
    );
    assert!(
        matches!(err, ProtocolError::MessageTooLarge { .. }),
        "{err:?}"
    );
    assert_failed_with(&mut server, err, 1009, true);
}

#[test]
fn undecodable_payload_is_1007() {
    let mut xor = Xor::new(0);
    xor.poison = Some(b'!');
    let mut server = with_xor(Role::Server, Config::default(), xor);
    let (_, err) = feed_until_error(
        &mut server,
        &frame_to(Role::Server, FIN | RSV1 | BINARY, b"!boom"),
    );
    assert_eq!(err, ProtocolError::ExtensionData);
    assert_failed_with(&mut server, err, 1007, true);
}

#[test]
fn an_encoding_failure_queues_nothing() {
    let mut xor = Xor::new(0);
    xor.poison = Some(b'!');
    let mut client = with_xor(Role::Client, Config::default(), xor);
    assert_eq!(
        client.sender().send_text("!fails"),
        Err(SendError::Extension)
    );
    assert!(client.poll_transmit().is_empty());
    client.sender().send_text("fine").unwrap();
    assert_eq!(parse_frames(client.poll_transmit()).len(), 1);
}
