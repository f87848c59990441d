//! Every receive rule of RFC 6455 (and every configured limit) that fails the connection, each checked
//! through the error `poll_event` returns, the close frame queued for the peer, `should_close_transport`, and
//! the silence that follows.

mod support;

use support::*;
use wslane::{Config, Instant, ProtocolError, ReceiveMode, Role};

const ROLES: [Role; 2] = [Role::Client, Role::Server];
const RESERVED_OPCODES: [u8; 10] = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf];

fn fragments_config() -> Config {
    let mut config = Config::default();
    config.receive_mode = ReceiveMode::Fragments;
    config
}

#[test]
fn server_rejects_an_unmasked_frame() {
    for b0 in [
        FIN | TEXT,
        FIN | BINARY,
        TEXT,
        FIN | PING,
        FIN | PONG,
        FIN | CLOSE,
    ] {
        let input = frame(b0, None, b"");
        assert_rejects(
            Role::Server,
            Config::default(),
            &input,
            ProtocolError::UnmaskedFrame,
            1002,
        );
    }
}

#[test]
fn client_rejects_a_masked_frame() {
    for b0 in [
        FIN | TEXT,
        FIN | BINARY,
        TEXT,
        FIN | PING,
        FIN | PONG,
        FIN | CLOSE,
    ] {
        let input = frame(b0, Some([1, 2, 3, 4]), b"x");
        assert_rejects(
            Role::Client,
            Config::default(),
            &input,
            ProtocolError::MaskedFrame,
            1002,
        );
    }
}

#[test]
fn masking_is_judged_from_the_header_alone() {
    // Two bytes of a masked header reach a client: it fails before the key or payload arrive.
    let input = &frame(FIN | BINARY, Some([1, 2, 3, 4]), &[0; 100])[..6];
    assert_rejects(
        Role::Client,
        Config::default(),
        input,
        ProtocolError::MaskedFrame,
        1002,
    );
}

#[test]
fn rsv_bits_without_an_extension() {
    for role in ROLES {
        for rsv in 1..=7u8 {
            for opcode in [TEXT, BINARY, PING, PONG, CLOSE] {
                let input = frame_to(role, FIN | rsv << 4 | opcode, b"");
                assert_rejects(
                    role,
                    Config::default(),
                    &input,
                    ProtocolError::ReservedBits(rsv),
                    1002,
                );
            }
            // On a continuation of a message in progress.
            let mut input = frame_to(role, TEXT, b"a");
            input.extend(frame_to(role, FIN | rsv << 4 | CONT, b"b"));
            assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::ReservedBits(rsv),
                1002,
            );
        }
    }
    // The named bits, one by one.
    for (bit, rsv) in [(RSV1, 0b100), (RSV2, 0b010), (RSV3, 0b001)] {
        let input = frame_to(Role::Server, FIN | bit | TEXT, b"hi");
        assert_rejects(
            Role::Server,
            Config::default(),
            &input,
            ProtocolError::ReservedBits(rsv),
            1002,
        );
    }
}

#[test]
fn reserved_opcodes() {
    for role in ROLES {
        for op in RESERVED_OPCODES {
            for fin in [FIN, 0] {
                let input = frame_to(role, fin | op, b"payload");
                assert_rejects(
                    role,
                    Config::default(),
                    &input,
                    ProtocolError::ReservedOpcode(op),
                    1002,
                );
            }
            // Also in the middle of a fragmented message, and with only the first byte of the header.
            let mut input = frame_to(role, TEXT, b"start");
            input.extend(frame_to(role, FIN | op, b""));
            assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::ReservedOpcode(op),
                1002,
            );
        }
    }
}

#[test]
fn control_frame_over_125_bytes() {
    for role in ROLES {
        for opcode in [PING, PONG, CLOSE] {
            // 126 bytes, in the 16-bit length form: fails on the header, before the payload arrives.
            let header = header_bytes(FIN | opcode, mask_for(role), Len::Minimal(126));
            assert_rejects(
                role,
                Config::default(),
                &header,
                ProtocolError::ControlFrameTooLong,
                1002,
            );
            let whole = frame_to(role, FIN | opcode, &[b'a'; 126]);
            assert_rejects(
                role,
                Config::default(),
                &whole,
                ProtocolError::ControlFrameTooLong,
                1002,
            );
            // A 64-bit length.
            let header = header_bytes(FIN | opcode, mask_for(role), Len::Minimal(1 << 20));
            assert_rejects(
                role,
                Config::default(),
                &header,
                ProtocolError::ControlFrameTooLong,
                1002,
            );
        }
    }
}

#[test]
fn control_frame_of_125_bytes_is_accepted() {
    let mut server = connection(Role::Server, Config::default());
    server.handle_input(
        Instant::ZERO,
        &frame_to(Role::Server, FIN | PING, &[7; 125]),
    );
    assert_eq!(events(&mut server), [Ev::Ping(vec![7; 125])]);
}

#[test]
fn fragmented_control_frame() {
    for role in ROLES {
        for opcode in [PING, PONG, CLOSE] {
            let input = frame_to(role, opcode, b"");
            assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::FragmentedControlFrame,
                1002,
            );
            // Inside a fragmented data message.
            let mut input = frame_to(role, BINARY, b"data");
            input.extend(frame_to(role, opcode, b"ctl"));
            assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::FragmentedControlFrame,
                1002,
            );
        }
    }
}

#[test]
fn continuation_with_no_message() {
    for role in ROLES {
        for fin in [FIN, 0] {
            let input = frame_to(role, fin | CONT, b"orphan");
            assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::UnexpectedContinuation,
                1002,
            );
            // After a message that has ended.
            let mut input = frame_to(role, FIN | TEXT, b"done");
            input.extend(frame_to(role, fin | CONT, b"orphan"));
            let before = assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::UnexpectedContinuation,
                1002,
            );
            assert_eq!(before, [Ev::Text("done".into())]);
        }
    }
}

#[test]
fn new_data_frame_inside_a_fragmented_message() {
    for role in ROLES {
        for first in [TEXT, BINARY] {
            for next in [FIN | TEXT, FIN | BINARY, TEXT, BINARY] {
                let mut input = frame_to(role, first, b"part");
                input.extend(frame_to(role, next, b"intruder"));
                let before = assert_rejects(
                    role,
                    Config::default(),
                    &input,
                    ProtocolError::ExpectedContinuation,
                    1002,
                );
                assert_eq!(before, [], "nothing of the broken message is delivered");
            }
        }
    }
}

#[test]
fn invalid_utf8_in_a_single_frame_text() {
    let invalid: [&[u8]; 8] = [
        b"\xff",
        b"\x80",             // a lone continuation byte
        b"\xc0\x80",         // overlong NUL
        b"\xed\xa0\x80",     // a surrogate
        b"\xf4\x90\x80\x80", // above U+10FFFF
        b"ok\xe2\x28\xa1",   // a broken 3-byte sequence
        b"Hello-\xc2-world", // a lead byte without its continuation
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
    ];
    for role in ROLES {
        for bytes in invalid {
            let input = frame_to(role, FIN | TEXT, bytes);
            assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::InvalidUtf8,
                1007,
            );
            assert_rejects(
                role,
                fragments_config(),
                &input,
                ProtocolError::InvalidUtf8,
                1007,
            );
        }
    }
}

#[test]
fn invalid_utf8_in_binary_is_fine() {
    let mut server = connection(Role::Server, Config::default());
    server.handle_input(
        Instant::ZERO,
        &frame_to(Role::Server, FIN | BINARY, b"\xff\xfe"),
    );
    assert_eq!(events(&mut server), [Ev::Binary(b"\xff\xfe".to_vec())]);
}

#[test]
fn invalid_utf8_fails_on_the_fragment_that_breaks_it() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.handle_input(Instant::ZERO, &frame_to(role, TEXT, "κόσμε ".as_bytes()));
        assert_eq!(events(&mut conn), [], "valid so far, message not over");
        // The second fragment is not final: the message has not ended, but it can never be valid.
        let (before, err) =
            feed_until_error(&mut conn, &frame_to(role, CONT, b"abc\xed\xa0\x80def"));
        assert_eq!(before, []);
        assert_eq!(err, ProtocolError::InvalidUtf8);
        assert_failed_with(&mut conn, err, 1007, true);
    }
}

#[test]
fn invalid_utf8_fails_on_the_fragment_that_breaks_it_in_fragments_mode() {
    for role in ROLES {
        let mut conn = connection(role, fragments_config());
        conn.handle_input(Instant::ZERO, &frame_to(role, TEXT, b"abc\xe2"));
        let got = events(&mut conn);
        assert_eq!(got.len(), 1);
        // A character split between fragments is not an error; an impossible next byte is.
        let (before, err) = feed_until_error(&mut conn, &frame_to(role, CONT, b"\x28rest"));
        assert_eq!(before, []);
        assert_eq!(err, ProtocolError::InvalidUtf8);
        assert_failed_with(&mut conn, err, 1007, true);
    }
}

#[test]
fn invalid_utf8_fails_before_the_frame_has_arrived() {
    for role in ROLES {
        for config in [Config::default(), fragments_config()] {
            let mut payload = vec![b'a'; 10_000];
            payload[50] = 0xff;
            let wire = frame_to(role, FIN | TEXT, &payload);
            let mut conn = connection(role, config);
            // The header and the first 100 payload bytes, out of 10 000.
            let header_len = wire.len() - payload.len();
            let (_, err) = feed_until_error(&mut conn, &wire[..header_len + 100]);
            assert_eq!(err, ProtocolError::InvalidUtf8);
            assert_failed_with(&mut conn, err, 1007, true);
        }
    }
}

#[test]
fn invalid_utf8_across_reads_of_one_frame() {
    // The frame arrives a byte at a time; the error comes with the byte that makes it invalid.
    let payload = b"ab\xe2\x98\x83cd\xe2\x28ef";
    let wire = frame_to(Role::Server, FIN | TEXT, payload);
    let bad_at = wire.len() - payload.len() + 8; // the 0x28 after 0xe2
    let mut conn = connection(Role::Server, Config::default());
    for (i, byte) in wire.iter().enumerate() {
        conn.handle_input(Instant::ZERO, &[*byte]);
        let (got, err) = poll_all(&mut conn);
        assert_eq!(got, []);
        if i < bad_at {
            assert_eq!(err, None, "byte {i} still valid");
        } else {
            assert_eq!(
                err,
                Some(wslane::Error::Protocol(ProtocolError::InvalidUtf8)),
                "byte {i}"
            );
            assert_failed_with(&mut conn, ProtocolError::InvalidUtf8, 1007, true);
            return;
        }
    }
    panic!("no error");
}

#[test]
fn truncated_utf8_at_message_end() {
    for role in ROLES {
        for config in [Config::default(), fragments_config()] {
            let input = frame_to(role, FIN | TEXT, b"ab\xe2\x98");
            assert_rejects(role, config, &input, ProtocolError::InvalidUtf8, 1007);
            // Split over fragments, the last one final.
            let mut input = frame_to(role, TEXT, b"ab\xe2");
            input.extend(frame_to(role, FIN | CONT, b"\x98"));
            assert_rejects(role, config, &input, ProtocolError::InvalidUtf8, 1007);
        }
    }
}

#[test]
fn close_with_a_one_byte_body() {
    for role in ROLES {
        let input = frame_to(role, FIN | CLOSE, &[0x03]);
        assert_rejects(
            role,
            Config::default(),
            &input,
            ProtocolError::CloseBodyTooShort,
            1002,
        );
    }
}

#[test]
fn close_codes_every_value() {
    for value in 0..=u16::MAX {
        let valid = matches!(value, 1000..=1003 | 1007..=1014 | 3000..=4999);
        let input = frame_to(Role::Server, FIN | CLOSE, &close_body(value, "why"));
        if valid {
            let mut server = connection(Role::Server, Config::default());
            server.handle_input(Instant::ZERO, &input);
            assert_eq!(
                events(&mut server),
                [Ev::close(value, "why")],
                "code {value}"
            );
            let reply = take_sent(&mut server);
            assert_eq!(reply.len(), 1);
            assert_eq!(
                reply[0].close_code(),
                Some(value),
                "the reply echoes code {value}"
            );
        } else {
            assert_rejects(
                Role::Server,
                Config::default(),
                &input,
                ProtocolError::InvalidCloseCode(value),
                1002,
            );
        }
    }
}

#[test]
fn close_codes_are_checked_by_a_client_too() {
    for value in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        let input = frame_to(Role::Client, FIN | CLOSE, &close_body(value, ""));
        assert_rejects(
            Role::Client,
            Config::default(),
            &input,
            ProtocolError::InvalidCloseCode(value),
            1002,
        );
    }
}

#[test]
fn close_reason_not_utf8() {
    for role in ROLES {
        for reason in [&b"\xff"[..], b"bye\xc3", b"\xed\xa0\x80"] {
            let mut body = 1000u16.to_be_bytes().to_vec();
            body.extend_from_slice(reason);
            let input = frame_to(role, FIN | CLOSE, &body);
            assert_rejects(
                role,
                Config::default(),
                &input,
                ProtocolError::InvalidCloseReason,
                1007,
            );
        }
    }
}

#[test]
fn frame_over_max_frame_size_fails_on_its_header() {
    for role in ROLES {
        for mode in [ReceiveMode::Messages, ReceiveMode::Fragments] {
            let mut config = Config::default();
            config.max_frame_size = 1000;
            config.receive_mode = mode;
            for opcode in [TEXT, FIN | TEXT, FIN | BINARY] {
                // The header alone, no payload.
                let header = header_bytes(opcode, mask_for(role), Len::Minimal(1001));
                let expected = ProtocolError::FrameTooLarge {
                    len: 1001,
                    max: 1000,
                };
                assert_rejects(role, config, &header, expected, 1009);
                let header = header_bytes(opcode, mask_for(role), Len::Minimal(1 << 40));
                let expected = ProtocolError::FrameTooLarge {
                    len: 1 << 40,
                    max: 1000,
                };
                assert_rejects(role, config, &header, expected, 1009);
            }
            // A continuation frame too.
            let mut input = frame_to(role, BINARY, b"x");
            input.extend(header_bytes(CONT, mask_for(role), Len::Minimal(1001)));
            let expected = ProtocolError::FrameTooLarge {
                len: 1001,
                max: 1000,
            };
            assert_rejects(role, config, &input, expected, 1009);
            // Exactly at the limit is fine.
            let mut conn = connection(role, config);
            conn.handle_input(Instant::ZERO, &frame_to(role, FIN | BINARY, &[1; 1000]));
            let got = events(&mut conn);
            assert!(!got.is_empty());
        }
    }
}

#[test]
fn message_over_max_message_size_across_fragments() {
    for role in ROLES {
        for mode in [ReceiveMode::Messages, ReceiveMode::Fragments] {
            let mut config = Config::default();
            config.max_message_size = 100;
            config.receive_mode = mode;
            let mut conn = connection(role, config);
            conn.handle_input(Instant::ZERO, &frame_to(role, TEXT, &[b'a'; 60]));
            let _ = events(&mut conn);
            // The second fragment's header says the message will be 120 bytes: fail before its payload.
            let header = header_bytes(FIN | CONT, mask_for(role), Len::Minimal(60));
            let (_, err) = feed_until_error(&mut conn, &header);
            assert_eq!(err, ProtocolError::MessageTooLarge { max: 100 });
            assert_failed_with(&mut conn, err, 1009, true);

            // A single frame over the message limit but within the frame limit.
            let input = frame_to(role, FIN | BINARY, &[0; 101]);
            assert_rejects(
                role,
                config,
                &input,
                ProtocolError::MessageTooLarge { max: 100 },
                1009,
            );

            // Exactly 100 bytes over three fragments is fine.
            let mut conn = connection(role, config);
            let mut input = frame_to(role, BINARY, &[1; 40]);
            input.extend(frame_to(role, FIN | PING, b""));
            input.extend(frame_to(role, CONT, &[2; 40]));
            input.extend(frame_to(role, FIN | CONT, &[3; 20]));
            conn.handle_input(Instant::ZERO, &input);
            let got = events(&mut conn);
            assert!(got.contains(&Ev::Ping(vec![])));
            let mut data = Vec::new();
            for ev in got {
                match ev {
                    Ev::Binary(d) | Ev::Fragment { data: d, .. } => data.extend(d),
                    Ev::Ping(_) => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(data.len(), 100);
        }
    }
}

#[test]
fn sixty_four_bit_length_with_the_top_bit_set() {
    for role in ROLES {
        for len in [1 << 63, u64::MAX, (1 << 63) | 5] {
            let header = header_bytes(FIN | BINARY, mask_for(role), Len::U64(len));
            assert_rejects(
                role,
                Config::default(),
                &header,
                ProtocolError::LengthOverflow,
                1002,
            );
        }
    }
}

#[test]
fn non_minimal_length_encodings() {
    for role in ROLES {
        for opcode in [FIN | BINARY, FIN | TEXT, FIN | PING] {
            for len in [
                Len::U16(0),
                Len::U16(5),
                Len::U16(125),
                Len::U64(0),
                Len::U64(125),
                Len::U64(126),
                Len::U64(65535),
            ] {
                let header = header_bytes(opcode, mask_for(role), len);
                assert_rejects(
                    role,
                    Config::default(),
                    &header,
                    ProtocolError::NonMinimalLength,
                    1002,
                );
            }
        }
    }
}

#[test]
fn events_before_a_failure_are_delivered_and_the_close_comes_last() {
    let mut input = frame_to(Role::Server, FIN | TEXT, b"first");
    input.extend(frame_to(Role::Server, FIN | PING, b"p"));
    input.extend(frame(FIN | TEXT, None, b"unmasked"));
    let mut server = connection(Role::Server, Config::default());
    let (before, err) = feed_until_error(&mut server, &input);
    assert_eq!(before, [Ev::Text("first".into()), Ev::Ping(b"p".to_vec())]);
    assert_eq!(err, ProtocolError::UnmaskedFrame);
    // The pong was queued before the failure; `assert_failed_with` checks the close is the last frame.
    assert_eq!(server.poll_transmit()[..3], [0x8a, 0x01, b'p']);
    assert_failed_with(&mut server, err, 1002, true);
}

#[test]
fn failure_after_our_close_queues_no_second_close() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.sender().close(code(1000), "done").unwrap();
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 1);
        let (_, err) = feed_until_error(&mut conn, &frame_to(role, FIN | 0x3, b""));
        assert_eq!(err, ProtocolError::ReservedOpcode(3));
        assert_failed_with(&mut conn, err, 1002, false);
    }
}

/// The bare decoder enforces the same rules over a caller's buffer, and an error sticks.
#[test]
fn the_decoder_enforces_the_rules_and_errors_stick() {
    use wslane::decoder::{Decoder, DecoderConfig, Delivery};

    let cases: Vec<(Role, Vec<u8>, ProtocolError)> = vec![
        (
            Role::Server,
            frame(FIN | TEXT, None, b"x"),
            ProtocolError::UnmaskedFrame,
        ),
        (
            Role::Client,
            frame(FIN | TEXT, Some([1; 4]), b"x"),
            ProtocolError::MaskedFrame,
        ),
        (
            Role::Client,
            frame(FIN | RSV2 | BINARY, None, b""),
            ProtocolError::ReservedBits(0b010),
        ),
        (
            Role::Client,
            frame(FIN | 0xb, None, b""),
            ProtocolError::ReservedOpcode(0xb),
        ),
        (
            Role::Client,
            header_bytes(FIN | PING, None, Len::Minimal(126)),
            ProtocolError::ControlFrameTooLong,
        ),
        (
            Role::Client,
            frame(PING, None, b""),
            ProtocolError::FragmentedControlFrame,
        ),
        (
            Role::Client,
            frame(FIN | CONT, None, b""),
            ProtocolError::UnexpectedContinuation,
        ),
        (
            Role::Client,
            [frame(TEXT, None, b"a"), frame(FIN | TEXT, None, b"b")].concat(),
            ProtocolError::ExpectedContinuation,
        ),
        (
            Role::Client,
            frame(FIN | TEXT, None, b"\xc3\x28"),
            ProtocolError::InvalidUtf8,
        ),
        (
            Role::Client,
            frame(FIN | TEXT, None, b"\xc3"),
            ProtocolError::InvalidUtf8,
        ),
        (
            Role::Client,
            frame(FIN | CLOSE, None, b"\x03"),
            ProtocolError::CloseBodyTooShort,
        ),
        (
            Role::Client,
            frame(FIN | CLOSE, None, &close_body(1004, "")),
            ProtocolError::InvalidCloseCode(1004),
        ),
        (
            Role::Client,
            frame(FIN | CLOSE, None, b"\x03\xe8\xff"),
            ProtocolError::InvalidCloseReason,
        ),
        (
            Role::Client,
            header_bytes(FIN | BINARY, None, Len::Minimal(1001)),
            ProtocolError::FrameTooLarge {
                len: 1001,
                max: 1000,
            },
        ),
        (
            Role::Client,
            [
                frame(BINARY, None, &[0; 600]),
                header_bytes(FIN | CONT, None, Len::Minimal(600)),
            ]
            .concat(),
            ProtocolError::MessageTooLarge { max: 1100 },
        ),
        (
            Role::Client,
            header_bytes(FIN | BINARY, None, Len::U64(1 << 63)),
            ProtocolError::LengthOverflow,
        ),
        (
            Role::Client,
            header_bytes(FIN | BINARY, None, Len::U16(1)),
            ProtocolError::NonMinimalLength,
        ),
    ];
    for delivery in [Delivery::WholeFrames, Delivery::Streaming] {
        for (role, input, expected) in &cases {
            let mut decoder = Decoder::new(DecoderConfig {
                role: *role,
                max_frame_size: 1000,
                max_message_size: 1100,
                extension_rsv: 0,
                delivery,
            });
            let mut buf = input.clone();
            let err = loop {
                match decoder.decode(&mut buf) {
                    Ok(wslane::decoder::Decoded::Item { consumed, .. }) => {
                        buf.drain(..consumed);
                    }
                    Ok(wslane::decoder::Decoded::NeedMore { .. }) => {
                        panic!("{expected:?}: no error")
                    }
                    Err(err) => break err,
                }
            };
            assert_eq!(err, *expected, "{delivery:?}");
            // Every later call returns the same error, whatever the buffer holds.
            let mut valid = frame(FIN | TEXT, mask_for(*role), b"fine");
            assert_eq!(decoder.decode(&mut valid), Err(*expected));
            assert_eq!(decoder.decode(&mut []), Err(*expected));
        }
    }
}

/// A frame header announces its size, and that is the peer's word: with every limit raised to its
/// maximum, a header announcing 2^62 (or 2^63 - 1) bytes must not make the connection reserve that much
/// (the process would abort: "memory allocation of … bytes failed"). The frame is still received as its
/// bytes arrive.
#[test]
fn a_header_announcing_a_huge_frame_reserves_no_more_than_a_bound() {
    let mut config = Config::default();
    config.max_frame_size = usize::MAX;
    config.max_message_size = usize::MAX;
    config.max_output_buffer = usize::MAX;
    for announced in [1u64 << 62, (1u64 << 63) - 1, 1 << 40] {
        for role in ROLES {
            let mut conn = connection(role, config);
            let key = (role == Role::Server).then_some([1, 2, 3, 4]);
            let mut head = vec![BINARY | FIN, 127 | if key.is_some() { 0x80 } else { 0 }];
            head.extend_from_slice(&announced.to_be_bytes());
            if let Some(key) = key {
                head.extend_from_slice(&key);
            }
            conn.handle_input(Instant::ZERO, &head);
            assert_eq!(
                conn.poll_event(),
                Ok(None),
                "{role:?} {announced}: waits for the payload"
            );
            // The payload arrives in pieces and is taken in, with room growing as it comes.
            for _ in 0..64 {
                let room = conn.read_buffer(1);
                assert!(
                    room.len() <= 1 << 20,
                    "room offered is sized to the traffic"
                );
                let n = room.len();
                conn.handle_read(Instant::ZERO, n);
                assert_eq!(conn.poll_event(), Ok(None));
            }
        }
    }
}
