//! Prepared messages: framed once, queued on many connections as one shared allocation (servers), masked in
//! a copy (clients), in order with every other frame, and, with permessage-deflate, compressed once for
//! every connection whose settings make the encoding independent of history.

mod support;

use std::sync::Arc;

use support::*;
use wslane::prepared::PreparedMessage;
use wslane::{CloseCode, Config, Connection, DataKind, Instant, OpCode, SendError};

fn server() -> Connection {
    Connection::server(Instant::ZERO, Config::default())
}

/// Writes the connection's output slice by slice, as a vectored write would; returns the bytes and the
/// addresses of the slices.
fn write_vectored(conn: &mut Connection) -> (Vec<u8>, Vec<usize>) {
    let mut slices = [&[][..]; 16];
    let n = conn.poll_transmit_vectored(&mut slices);
    let bytes = slices[..n].concat();
    let addresses = slices[..n].iter().map(|s| s.as_ptr() as usize).collect();
    conn.advance_transmit(Instant::ZERO, bytes.len());
    (bytes, addresses)
}

#[test]
fn a_prepared_frame_is_the_frame_send_would_write() {
    for (message, kind) in [
        (PreparedMessage::text("hello"), OpCode::Text),
        (PreparedMessage::binary(&[7; 70_000]), OpCode::Binary),
        (PreparedMessage::new(DataKind::Text, b""), OpCode::Text),
    ] {
        let mut plain = server();
        plain
            .sender()
            .send_raw(message.kind(), message.payload())
            .unwrap();
        let expected = plain.poll_transmit().to_vec();
        assert_eq!(message.frame(), &expected[..]);
        let mut prepared = server();
        prepared.send_prepared(&message).unwrap();
        assert_eq!(prepared.poll_transmit(), &expected[..]);
        let sent = parse_frames(&expected);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].opcode, kind);
    }
}

#[test]
fn servers_share_one_allocation_until_each_has_transmitted_it() {
    let message = PreparedMessage::binary(&[42; 8192]);
    let shared = message.shared_frame();
    let mut servers: Vec<Connection> = (0..5).map(|_| server()).collect();
    for server in &mut servers {
        server.send_prepared(&message).unwrap();
    }
    assert_eq!(
        Arc::strong_count(shared),
        1 + 5,
        "one reference per connection, no copy"
    );
    for (i, server) in servers.iter_mut().enumerate() {
        assert_eq!(server.buffered_output(), message.frame().len());
        let (bytes, addresses) = write_vectored(server);
        assert_eq!(bytes, message.frame());
        assert_eq!(
            addresses,
            [shared.as_ptr() as usize],
            "written from the shared bytes"
        );
        assert_eq!(
            Arc::strong_count(shared),
            1 + 5 - (i + 1),
            "released once transmitted"
        );
    }
}

#[test]
fn small_prepared_frames_are_copied_into_the_output() {
    let message = PreparedMessage::text("tick");
    let mut conn = server();
    conn.send_prepared(&message).unwrap();
    assert_eq!(Arc::strong_count(message.shared_frame()), 1);
    let (bytes, addresses) = write_vectored(&mut conn);
    assert_eq!(bytes, b"\x81\x04tick");
    assert_ne!(addresses[0], message.shared_frame().as_ptr() as usize);
}

#[test]
fn shared_frames_keep_their_place_among_other_frames_in_uneven_writes() {
    let big = PreparedMessage::binary(&(0..=255).cycle().take(5000).collect::<Vec<u8>>());
    let mut conn = server();
    conn.sender().send_text("before").unwrap();
    conn.send_prepared(&big).unwrap();
    conn.sender().ping(b"p").unwrap();
    conn.send_prepared(&big).unwrap();
    conn.sender().send_text("after").unwrap();
    let mut expected = b"\x81\x06before".to_vec();
    expected.extend_from_slice(big.frame());
    expected.extend_from_slice(b"\x89\x01p");
    expected.extend_from_slice(big.frame());
    expected.extend_from_slice(b"\x81\x05after");
    assert_eq!(conn.buffered_output(), expected.len());
    let mut written = Vec::new();
    for step in [3, 4000, 1100, 2, 7, 5000, 1, 10_000] {
        let mut slices = [&[][..]; 2];
        let n = conn.poll_transmit_vectored(&mut slices);
        let available: Vec<u8> = slices[..n].concat();
        let take = step.min(available.len());
        written.extend_from_slice(&available[..take]);
        conn.advance_transmit(Instant::ZERO, take);
    }
    assert_eq!(written, expected);
    assert_eq!(conn.buffered_output(), 0);
    assert_eq!(Arc::strong_count(big.shared_frame()), 1);

    // poll_transmit copies them in, in the same order.
    let mut conn = server();
    conn.sender().send_text("before").unwrap();
    conn.send_prepared(&big).unwrap();
    conn.sender().ping(b"p").unwrap();
    conn.send_prepared(&big).unwrap();
    conn.sender().send_text("after").unwrap();
    assert_eq!(conn.poll_transmit(), &expected[..]);
    assert_eq!(Arc::strong_count(big.shared_frame()), 1, "copied, not held");
}

#[test]
fn shared_frames_mix_with_payloads_echoed_from_the_receive_buffer() {
    let big = PreparedMessage::binary(&[9; 3000]);
    let mut conn = server();
    let payload = vec![5u8; 4096];
    let mut input = Vec::new();
    for _ in 0..3 {
        input.extend(frame(FIN | BINARY, Some(RFC_KEY), &payload));
    }
    conn.handle_input(Instant::ZERO, &input);
    let mut expected = Vec::new();
    for _ in 0..3 {
        conn.send_prepared(&big).unwrap();
        expected.extend_from_slice(big.frame());
        conn.poll_event_with(|event, sender| match event {
            wslane::Event::Binary(data) => sender.send_binary(data),
            _ => Ok(()),
        })
        .unwrap();
        expected.extend_from_slice(b"\x82\x7e\x10\x00");
        expected.extend_from_slice(&payload);
    }
    // More input makes the receive buffer hand over its allocation while echoes in it are queued.
    let more = frame(FIN | BINARY, Some(RFC_KEY), &vec![1; 100_000]);
    conn.handle_input(Instant::ZERO, &more);
    conn.send_prepared(&big).unwrap();
    expected.extend_from_slice(big.frame());
    let mut written = Vec::new();
    while conn.buffered_output() > 0 {
        let mut slices = [&[][..]; 3];
        let n = conn.poll_transmit_vectored(&mut slices);
        let first = slices[..n].concat();
        let take = first.len().min(2500);
        written.extend_from_slice(&first[..take]);
        conn.advance_transmit(Instant::ZERO, take);
    }
    assert_eq!(written, expected);
    assert_eq!(Arc::strong_count(big.shared_frame()), 1);
    // The large message still arrives whole.
    assert_eq!(events(&mut conn), [Ev::Binary(vec![1; 100_000])]);
}

#[test]
fn a_client_sends_a_masked_copy() {
    let message = PreparedMessage::binary(&[3; 5000]);
    let mut pair = Pair::new(Config::default());
    pair.client.send_prepared(&message).unwrap();
    pair.client.send_prepared(&message).unwrap();
    assert_eq!(
        Arc::strong_count(message.shared_frame()),
        1,
        "a client holds no reference"
    );
    let sent = take_sent(&mut pair.client);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|f| f.masked && f.payload == [3; 5000]));
    pair.client.send_prepared(&message).unwrap();
    assert_eq!(pair.client_events(), [Ev::Binary(vec![3; 5000])]);
}

#[test]
fn prepared_sends_fail_as_other_sends_do() {
    let message = PreparedMessage::text("x");
    let mut conn = server();
    conn.sender()
        .send_fragment(DataKind::Binary, b"a", false)
        .unwrap();
    assert_eq!(
        conn.send_prepared(&message),
        Err(SendError::MessageInProgress)
    );
    conn.sender()
        .send_fragment(DataKind::Binary, b"b", true)
        .unwrap();

    let mut config = Config::default();
    config.max_output_buffer = 10_000;
    let mut full = Connection::server(Instant::ZERO, config);
    let big = PreparedMessage::binary(&[0; 20_000]);
    full.send_prepared(&big).unwrap();
    assert_eq!(full.send_prepared(&big), Err(SendError::BufferFull));
    assert_eq!(Arc::strong_count(big.shared_frame()), 2, "nothing queued");

    conn.sender().close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(conn.send_prepared(&message), Err(SendError::Closed));
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use wslane::deflate::{DeflateConfig, PerMessageDeflate};
    use wslane::extension::ExtensionFactory;

    /// A client and server negotiated between `client` and `server` settings.
    fn pair(client: DeflateConfig, server: DeflateConfig) -> Pair {
        let client_factory = PerMessageDeflate::new(client);
        let (element, server_codec) = PerMessageDeflate::new(server)
            .accept(&client_factory.offers())
            .unwrap()
            .unwrap();
        let client_codec = client_factory.confirm(&element).unwrap();
        Pair {
            client: Connection::client(Instant::ZERO, Config::default(), counting_keys(1))
                .with_extension(client_codec),
            server: Connection::server(Instant::ZERO, Config::default())
                .with_extension(server_codec),
        }
    }

    fn no_takeover(bits: u8) -> DeflateConfig {
        let mut config = DeflateConfig::default();
        config.server_no_context_takeover = true;
        config.server_max_window_bits = bits;
        config
    }

    /// Digits that compress to about half: large enough, compressed, to be shared rather than copied.
    fn text() -> String {
        let mut x = 12345u32;
        (0..2000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                format!("{} ", x >> 8)
            })
            .collect()
    }

    #[test]
    fn servers_without_context_takeover_share_one_compressed_frame() {
        let message = PreparedMessage::text(&text());
        let mut pairs: Vec<Pair> = (0..4)
            .map(|_| pair(DeflateConfig::default(), no_takeover(12)))
            .collect();
        let mut frames = Vec::new();
        for pair in &mut pairs {
            pair.server.send_prepared(&message).unwrap();
            let mut slices = [&[][..]; 4];
            let n = pair.server.poll_transmit_vectored(&mut slices);
            assert_eq!(n, 1);
            frames.push((slices[0].as_ptr() as usize, slices[0].to_vec()));
        }
        assert_eq!(message.encodings(), 1, "compressed once");
        assert!(
            frames.iter().all(|f| f == &frames[0]),
            "the same bytes, from the same place"
        );
        let compressed = parse_frames(&frames[0].1);
        assert_eq!(compressed[0].rsv, 0b100);
        assert!(compressed[0].payload.len() < text().len() * 3 / 4);
        for pair in &mut pairs {
            assert_eq!(pair.server_events(), [Ev::Text(text())]);
            // The same message again, and a normal send in between: the context was reset each time.
            pair.server.sender().send_text(&text()).unwrap();
            pair.server.send_prepared(&message).unwrap();
            assert_eq!(pair.server_events(), [Ev::Text(text()), Ev::Text(text())]);
        }
        assert_eq!(message.encodings(), 1);
    }

    #[test]
    fn each_setting_gets_its_own_encoding_and_context_takeover_compresses_per_connection() {
        let message = PreparedMessage::text(&text());
        let mut shared_12 = pair(DeflateConfig::default(), no_takeover(12));
        let mut shared_10 = pair(DeflateConfig::default(), no_takeover(10));
        let mut takeover = pair(DeflateConfig::default(), DeflateConfig::default());
        for _ in 0..3 {
            for pair in [&mut shared_12, &mut shared_10, &mut takeover] {
                pair.server.send_prepared(&message).unwrap();
                assert_eq!(pair.server_events(), [Ev::Text(text())]);
            }
        }
        assert_eq!(
            message.encodings(),
            2,
            "one per window size; none for context takeover"
        );
        // With context takeover, the repeats compress against the first: they are smaller than it.
        takeover.server.send_prepared(&message).unwrap();
        let again = take_sent(&mut takeover.server);
        shared_12.server.send_prepared(&message).unwrap();
        let stateless = take_sent(&mut shared_12.server);
        assert!(again[0].payload.len() < stateless[0].payload.len());
    }

    #[test]
    fn below_the_threshold_the_plain_frame_is_shared() {
        let message = PreparedMessage::text("short");
        let mut pair = pair(DeflateConfig::default(), no_takeover(15));
        pair.server.send_prepared(&message).unwrap();
        assert_eq!(pair.server.poll_transmit(), message.frame());
        assert_eq!(message.encodings(), 1);
    }

    #[test]
    fn a_client_without_context_takeover_masks_a_copy_of_the_shared_encoding() {
        let message = PreparedMessage::text(&text());
        let mut client = DeflateConfig::default();
        client.client_no_context_takeover = true;
        let mut pair = pair(client, DeflateConfig::default());
        pair.client.send_prepared(&message).unwrap();
        assert_eq!(message.encodings(), 1);
        assert_eq!(pair.client_events(), [Ev::Text(text())]);
    }
}
