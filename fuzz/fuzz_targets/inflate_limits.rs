//! A server `Connection` with permessage-deflate negotiated and a small `max_message_size`, fed arbitrary
//! compressed payloads: raw frames with any bytes as compressed data, mixed with messages a real client
//! compressed (some of them bombs: a short input repeated many times), cut into arbitrary reads.
//!
//! Input: 7 setup bytes, then a script of items `[control, length, payload...]`.
//!
//! | setup byte | meaning |
//! |---|---|
//! | 0 | bit 0: `ReceiveMode::Fragments`; bit 1: `client_no_context_takeover`; bits 2-3: the client's level (0, 1, 6, 9) |
//! | 1 | the client's window bits, 9 + value % 7 |
//! | 2-3 | `max_message_size`, little-endian (0 to 65535) |
//! | 4 | read size: 0 feeds everything at once, otherwise `value * 7` bytes at a time |
//! | 5 | the client's `fragment_size`: 0 for none |
//! | 6 | unused (reserved) |
//!
//! An item's control byte: bits 0-2 the kind, bit 3 FIN, bit 4 text (else binary), bits 5-7 a repeat
//! exponent `r`. Kinds: 0 a raw first frame with RSV1 (its payload taken as compressed data); 1 a raw
//! continuation; 2 a raw uncompressed data frame; 3 a ping; 4 and 5 a message the client compresses, the
//! payload repeated `4^r` times; 6 a raw frame whose first byte is the payload's first byte (any RSV bits
//! and opcode); 7 the payload sent by the client uncompressed (`send_raw`).
//!
//! Invariants:
//! - nothing panics;
//! - no message is delivered over the limit: a whole message, or the fragments of one message together,
//!   hold at most `max_message_size` bytes; delivered text is valid UTF-8;
//! - a failure is a protocol error with close code 1002, 1007 or 1009, reported once, after which
//!   `poll_event` returns `Ok(None)`; a close frame with that code is the last frame queued;
//! - while only client-made messages (and pings) arrived, delivery is exact: each message arrives
//!   unchanged, or, when it (compressed or not) is over the limit, the connection fails with 1009
//!   (`MessageTooLarge`).
#![no_main]

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use wslane::deflate::{DeflateConfig, PerMessageDeflate};
use wslane::extension::ExtensionFactory;
use wslane::{Config, Connection, Error, Event, Instant, OpCode, ProtocolError, ReceiveMode};
use wslane_fuzz::hex;
use wslane_fuzz::wire::{encode_frame, split_frames};

const SETUP: usize = 7;
/// The masking key of raw frames.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// At most this many bytes are handed to the client to compress, over the whole input.
const BUDGET: usize = 256 << 10;

/// A message the client sent, as the server should see it.
struct Sent {
    opcode: OpCode,
    data: Vec<u8>,
    /// Payload bytes on the wire, over all its frames.
    wire_len: usize,
}

fn client_and_server(setup: &[u8]) -> (Connection, Connection, usize, ReceiveMode) {
    let mut client_deflate = DeflateConfig::default();
    client_deflate.threshold = 0;
    client_deflate.level = [0, 1, 6, 9][usize::from((setup[0] >> 2) & 3)];
    client_deflate.client_no_context_takeover = setup[0] & 2 != 0;
    client_deflate.client_max_window_bits = 9 + setup[1] % 7;
    let client_factory = PerMessageDeflate::new(client_deflate);
    let (answer, server_codec) = PerMessageDeflate::default()
        .accept(&client_factory.offers())
        .expect("no refusal")
        .expect("the client's offer is accepted");
    let client_codec = client_factory.confirm(&answer).expect("confirmed");

    let limit = usize::from(u16::from_le_bytes([setup[2], setup[3]]));
    let mode = if setup[0] & 1 != 0 {
        ReceiveMode::Fragments
    } else {
        ReceiveMode::Messages
    };
    let mut server_config = Config::default();
    server_config.max_message_size = limit;
    server_config.receive_mode = mode;
    let mut client_config = Config::default();
    client_config.fragment_size = (setup[5] != 0).then_some(usize::from(setup[5]));
    client_config.max_output_buffer = usize::MAX;
    let mut seed = u32::from(setup[1]) << 8 | u32::from(setup[5]);
    let keys = move || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        seed.to_le_bytes()
    };
    let client =
        Connection::client(Instant::ZERO, client_config, keys).with_extension(client_codec);
    let server = Connection::server(Instant::ZERO, server_config).with_extension(server_codec);
    (client, server, limit, mode)
}

/// Takes what the client transmitted; returns the bytes and their payload total.
fn drain(client: &mut Connection) -> (Vec<u8>, usize) {
    let bytes = client.poll_transmit().to_vec();
    client.advance_transmit(Instant::ZERO, bytes.len());
    let frames = split_frames(&bytes).unwrap_or_else(|e| panic!("client output: {e}"));
    (bytes, frames.iter().map(|f| f.payload.len()).sum())
}

fuzz_target!(|data: &[u8]| {
    if data.len() < SETUP {
        return;
    }
    let (setup, mut script) = data.split_at(SETUP);
    let (mut client, mut server, limit, mode) = client_and_server(setup);

    // Build the byte stream, remembering what the client sent while it is the only source.
    let mut wire = Vec::new();
    let mut expected = VecDeque::new();
    let mut pristine = true;
    let mut budget = BUDGET;
    while script.len() >= 2 {
        let (control, len) = (script[0], usize::from(script[1]));
        let payload = &script[2..(2 + len).min(script.len())];
        script = &script[2 + payload.len()..];
        let fin = control & 8 != 0;
        let opcode = if control & 16 != 0 { 0x1 } else { 0x2 };
        match control & 7 {
            0 => wire.extend(encode_frame(fin, 0b100, opcode, Some(KEY), payload)),
            1 => wire.extend(encode_frame(fin, 0, 0x0, Some(KEY), payload)),
            2 => wire.extend(encode_frame(fin, 0, opcode, Some(KEY), payload)),
            3 => {
                client
                    .sender()
                    .ping(&payload[..payload.len().min(125)])
                    .expect("ping");
                wire.extend(drain(&mut client).0);
                continue;
            }
            6 => {
                let (&b0, rest) = payload.split_first().unwrap_or((&0xc1, &[]));
                wire.extend(encode_frame(
                    b0 & 0x80 != 0,
                    b0 >> 4,
                    b0 & 0x0f,
                    Some(KEY),
                    rest,
                ));
            }
            kind => {
                let repeat = 1usize << (2 * (control >> 5));
                let message = payload.repeat(repeat.min(budget / payload.len().max(1)).max(1));
                budget = budget.saturating_sub(message.len());
                let text = opcode == 0x1 && std::str::from_utf8(&message).is_ok();
                let op = if text { OpCode::Text } else { OpCode::Binary };
                if kind == 7 {
                    client
                        .sender()
                        .send_raw(wslane::DataKind::from_opcode(op).expect("data"), &message)
                        .expect("send_raw");
                } else if text {
                    client
                        .sender()
                        .send_text(std::str::from_utf8(&message).unwrap_or_default())
                        .expect("send");
                } else {
                    client.sender().send_binary(&message).expect("send");
                }
                let (bytes, wire_len) = drain(&mut client);
                wire.extend(bytes);
                if pristine {
                    expected.push_back(Sent {
                        opcode: op,
                        data: message,
                        wire_len,
                    });
                }
                continue;
            }
        }
        pristine = false;
        expected.clear();
    }

    // Feed it in reads of the chosen size, checking every event.
    let step = if setup[4] == 0 {
        wire.len().max(1)
    } else {
        usize::from(setup[4]) * 7
    };
    // The message being received in fragments.
    let mut current = Vec::new();
    let mut failure = None;
    'feed: for chunk in wire.chunks(step) {
        server.handle_input(Instant::ZERO, chunk);
        loop {
            let event = match server.poll_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(err) => {
                    failure = Some(err);
                    break 'feed;
                }
            };
            let whole = match event {
                Event::Text(t) => Some((OpCode::Text, t.as_bytes().to_vec())),
                Event::Binary(b) => Some((OpCode::Binary, b.to_vec())),
                Event::Fragment(fragment) => {
                    assert_eq!(mode, ReceiveMode::Fragments);
                    if fragment.first {
                        current.clear();
                    }
                    current.extend_from_slice(fragment.data);
                    let len = current.len();
                    assert!(len <= limit, "fragments hold {len} bytes, limit {limit}");
                    if fragment.kind == wslane::DataKind::Text && fragment.fin {
                        assert!(
                            std::str::from_utf8(&current).is_ok(),
                            "text {}",
                            hex(&current)
                        );
                    }
                    fragment
                        .fin
                        .then(|| (fragment.kind.opcode(), std::mem::take(&mut current)))
                }
                Event::Ping(_) | Event::Pong(_) | Event::Close { .. } => None,
            };
            let Some((opcode, data)) = whole else {
                continue;
            };
            assert!(
                data.len() <= limit,
                "a message of {} bytes, limit {limit}",
                data.len()
            );
            if pristine {
                let sent = expected
                    .pop_front()
                    .expect("a message the client did not send");
                assert_eq!(opcode, sent.opcode);
                let (got, want) = (data.len(), sent.data.len());
                assert!(data == sent.data, "message changed: {got} bytes for {want}");
            }
        }
    }

    let Some(err) = failure else {
        if pristine {
            // Everything within the limit arrived.
            assert!(expected.is_empty(), "{} messages missing", expected.len());
        }
        return;
    };
    let Error::Protocol(protocol) = err else {
        panic!("not a protocol error: {err:?}");
    };
    let code = err.close_code().get();
    assert!(
        matches!(code, 1002 | 1007 | 1009),
        "{protocol:?} closes with {code}"
    );
    if pristine {
        let sent = expected
            .front()
            .expect("failed after every message arrived");
        assert!(
            sent.data.len() > limit || sent.wire_len > limit,
            "a message of {} bytes ({} on the wire) failed with {protocol:?}, limit {limit}",
            sent.data.len(),
            sent.wire_len
        );
        assert!(
            matches!(protocol, ProtocolError::MessageTooLarge { .. }),
            "{protocol:?}"
        );
    }
    // Reported once; the close frame with the code is the last frame queued.
    assert_eq!(server.poll_event(), Ok(None));
    let out = server.poll_transmit().to_vec();
    let frames = split_frames(&out).unwrap_or_else(|e| panic!("server output: {e}"));
    let last = frames.last().expect("a close frame");
    assert_eq!(last.header.opcode, OpCode::Close);
    assert_eq!(last.payload, code.to_be_bytes());
});
