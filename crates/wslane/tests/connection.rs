//! How a `Connection` behaves while open: pings and pongs, fragments, streaming delivery, outgoing
//! fragmentation, output backpressure and keepalive.

mod support;

use std::time::Duration;

use support::*;
use wslane::{
    Config, DataKind, Error, Event, Instant, OpCode, ReceiveMode, Role, SendError, State,
};

const ROLES: [Role; 2] = [Role::Client, Role::Server];

fn mode_config(mode: ReceiveMode) -> Config {
    let mut config = Config::default();
    config.receive_mode = mode;
    config
}

fn ms(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

#[test]
fn pings_are_answered_with_pongs_carrying_the_same_payload() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        let payloads: [&[u8]; 4] = [b"", b"Hello", &[0xff; 125], b"\x00\x01"];
        for payload in payloads {
            conn.handle_input(Instant::ZERO, &frame_to(role, FIN | PING, payload));
        }
        let got = events(&mut conn);
        assert_eq!(got, payloads.map(|p| Ev::Ping(p.to_vec())));
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), payloads.len());
        for (pong, payload) in sent.iter().zip(payloads) {
            assert_eq!(
                (pong.opcode, pong.fin, &pong.payload[..]),
                (OpCode::Pong, true, payload)
            );
        }
    }
}

#[test]
fn pings_are_not_answered_without_auto_pong() {
    for role in ROLES {
        let mut config = Config::default();
        config.auto_pong = false;
        let mut conn = connection(role, config);
        conn.handle_input(Instant::ZERO, &frame_to(role, FIN | PING, b"are you there"));
        assert_eq!(events(&mut conn), [Ev::Ping(b"are you there".to_vec())]);
        assert!(conn.poll_transmit().is_empty(), "no pong queued");
        // The application answers itself.
        conn.sender().pong(b"are you there").unwrap();
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0].opcode, &sent[0].payload[..]),
            (OpCode::Pong, &b"are you there"[..])
        );
    }
}

#[test]
fn pongs_are_delivered_and_not_answered() {
    let mut pair = Pair::new(Config::default());
    pair.client.sender().pong(b"unsolicited").unwrap();
    assert_eq!(pair.client_events(), [Ev::Pong(b"unsolicited".to_vec())]);
    assert!(pair.server.poll_transmit().is_empty());
}

#[test]
fn control_frames_between_fragments_are_delivered_and_the_message_arrives_intact() {
    for role in ROLES {
        let mut input = frame_to(role, TEXT, "Hél".as_bytes());
        input.extend(frame_to(role, FIN | PING, b"p1"));
        input.extend(frame_to(role, CONT, b""));
        input.extend(frame_to(role, FIN | PONG, b"p2"));
        input.extend(frame_to(role, FIN | PING, b"p3"));
        input.extend(frame_to(role, FIN | CONT, "lo ☃".as_bytes()));

        let mut conn = connection(role, Config::default());
        conn.handle_input(Instant::ZERO, &input);
        assert_eq!(
            events(&mut conn),
            [
                Ev::Ping(b"p1".to_vec()),
                Ev::Pong(b"p2".to_vec()),
                Ev::Ping(b"p3".to_vec()),
                Ev::Text("Héllo ☃".into()),
            ]
        );
        let pongs: Vec<Vec<u8>> = take_sent(&mut conn)
            .into_iter()
            .map(|f| f.payload)
            .collect();
        assert_eq!(pongs, [b"p1".to_vec(), b"p3".to_vec()]);

        let mut conn = connection(role, mode_config(ReceiveMode::Fragments));
        conn.handle_input(Instant::ZERO, &input);
        let fragment = |data: &str, first, fin| Ev::Fragment {
            kind: DataKind::Text,
            data: data.as_bytes().to_vec(),
            first,
            fin,
        };
        assert_eq!(
            events(&mut conn),
            [
                fragment("Hél", true, false),
                Ev::Ping(b"p1".to_vec()),
                fragment("", false, false),
                Ev::Pong(b"p2".to_vec()),
                Ev::Ping(b"p3".to_vec()),
                fragment("lo ☃", false, true),
            ]
        );
    }
}

#[test]
fn messages_round_trip_through_a_pair() {
    let mut pair = Pair::new(Config::default());
    pair.client.sender().send_text("from the client").unwrap();
    pair.client.sender().send_binary(&[0, 1, 2, 255]).unwrap();
    pair.client.sender().send_text("").unwrap();
    pair.client.sender().ping(b"?").unwrap();
    assert_eq!(
        pair.client_events(),
        [
            Ev::Text("from the client".into()),
            Ev::Binary(vec![0, 1, 2, 255]),
            Ev::Text(String::new()),
            Ev::Ping(b"?".to_vec()),
        ]
    );
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    pair.server.sender().send_binary(&big).unwrap();
    pair.server.sender().send_text("from the server").unwrap();
    assert_eq!(
        pair.server_events(),
        [
            Ev::Pong(b"?".to_vec()),
            Ev::Binary(big),
            Ev::Text("from the server".into())
        ]
    );
}

/// Replies queued through the sender beside a borrowed event: an echo of a fragmented text message (split
/// inside a character, with a ping between its fragments), a binary message, and a close sent from the
/// closure, which ends sending.
#[test]
fn replies_from_borrowed_events_through_the_sender() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        let text = "héllo wörld ✓".as_bytes();
        conn.handle_input(Instant::ZERO, &frame_to(role, TEXT, &text[..2]));
        conn.handle_input(Instant::ZERO, &frame_to(role, FIN | PING, b"p"));
        conn.handle_input(Instant::ZERO, &frame_to(role, CONT, &text[2..9]));
        conn.handle_input(Instant::ZERO, &frame_to(role, FIN | CONT, &text[9..]));
        conn.handle_input(Instant::ZERO, &frame_to(role, FIN | BINARY, &[7; 300]));
        let mut seen = Vec::new();
        while let Some(result) = conn
            .poll_event_with(|event, sender| {
                seen.push(Ev::of(&event));
                match event {
                    Event::Text(text) => sender.send_text(text),
                    Event::Binary(data) => sender.send_binary(data),
                    _ => Ok(()),
                }
            })
            .unwrap()
        {
            result.unwrap();
        }
        assert_eq!(
            seen,
            [
                Ev::Ping(b"p".to_vec()),
                Ev::Text("héllo wörld ✓".into()),
                Ev::Binary(vec![7; 300]),
            ]
        );
        let sent = take_sent(&mut conn);
        let kinds: Vec<(OpCode, Vec<u8>)> =
            sent.into_iter().map(|f| (f.opcode, f.payload)).collect();
        assert_eq!(
            kinds,
            [
                (OpCode::Pong, b"p".to_vec()),
                (OpCode::Text, text.to_vec()),
                (OpCode::Binary, vec![7; 300]),
            ]
        );
        conn.handle_input(Instant::ZERO, &frame_to(role, FIN | TEXT, b"bye"));
        let closed = conn
            .poll_event_with(|_, sender| {
                sender.close(wslane::CloseCode::NORMAL, "done").unwrap();
                (sender.state(), sender.send_text("late"))
            })
            .unwrap();
        assert_eq!(closed, Some((State::CloseSent, Err(SendError::Closed))));
        assert_eq!(conn.state(), State::CloseSent);
        assert_eq!(take_sent(&mut conn)[0].close_code(), Some(1000));
    }
}

/// Feeds `wire` in `chunk`-byte reads and returns, per read, the events it produced.
fn feed_in_chunks(conn: &mut wslane::Connection, wire: &[u8], chunk: usize) -> Vec<Vec<Ev>> {
    wire.chunks(chunk)
        .map(|piece| {
            conn.handle_input(Instant::ZERO, piece);
            events(conn)
        })
        .collect()
}

#[test]
fn fragments_mode_streams_a_large_frame_as_it_arrives() {
    const SIZE: usize = 1 << 20;
    let payload: Vec<u8> = (0..SIZE).map(|i| (i % 253) as u8).collect();
    let wire = frame_to(Role::Server, FIN | BINARY, &payload);
    let header_len = wire.len() - SIZE;
    assert_eq!(header_len, 14);

    let mut server = connection(Role::Server, mode_config(ReceiveMode::Fragments));
    let per_read = feed_in_chunks(&mut server, &wire, 1024);
    let mut received = Vec::new();
    let mut offset = 0;
    for (i, evs) in per_read.iter().enumerate() {
        // Every read yields exactly the payload bytes it carried: nothing is held back for later.
        let carried = wire[(i * 1024).max(header_len)..((i + 1) * 1024).min(wire.len())].len();
        assert_eq!(evs.len(), 1, "read {i}: one fragment per read");
        let Ev::Fragment {
            kind,
            data,
            first,
            fin,
        } = &evs[0]
        else {
            panic!("read {i}: {:?}", evs[0]);
        };
        assert_eq!(*kind, DataKind::Binary);
        assert_eq!(data.len(), carried, "read {i}");
        assert_eq!(data[..], payload[offset..offset + carried]);
        assert_eq!(*first, i == 0, "read {i}: first");
        assert_eq!(*fin, i == per_read.len() - 1, "read {i}: fin");
        offset += carried;
        received.extend_from_slice(data);
    }
    assert_eq!(received, payload);

    // For contrast, whole-message mode delivers only at the end.
    let mut server = connection(Role::Server, Config::default());
    let per_read = feed_in_chunks(&mut server, &wire, 1024);
    let (last, rest) = per_read.split_last().unwrap();
    assert!(rest.iter().all(Vec::is_empty));
    assert_eq!(last, &[Ev::Binary(payload)]);
}

#[test]
fn fragments_mode_streams_a_fragmented_text_message() {
    // 1 MiB of text with multi-byte characters, in 16 frames, read 1 KiB at a time: characters are split
    // across reads and frames, and still arrive whole when the fragments are joined.
    let text = "ab€𝄞é".repeat(95_325);
    let bytes = text.as_bytes();
    let frames: Vec<&[u8]> = bytes.chunks(bytes.len().div_ceil(16)).collect();
    let mut wire = Vec::new();
    for (i, piece) in frames.iter().enumerate() {
        let b0 = if i == 0 { TEXT } else { CONT } | if i == frames.len() - 1 { FIN } else { 0 };
        wire.extend(frame_to(Role::Client, b0, piece));
    }
    let mut client = connection(Role::Client, mode_config(ReceiveMode::Fragments));
    let per_read = feed_in_chunks(&mut client, &wire, 1024);
    assert!(
        per_read[..per_read.len() - 1]
            .iter()
            .all(|evs| !evs.is_empty()),
        "events before the end"
    );
    let all: Vec<Ev> = per_read.into_iter().flatten().collect();
    let mut joined = Vec::new();
    for (i, ev) in all.iter().enumerate() {
        let Ev::Fragment {
            kind,
            data,
            first,
            fin,
        } = ev
        else {
            panic!("{ev:?}");
        };
        assert_eq!(*kind, DataKind::Text);
        assert!(data.len() <= 1024);
        assert_eq!(*first, i == 0);
        assert_eq!(*fin, i == all.len() - 1);
        joined.extend_from_slice(data);
    }
    assert_eq!(joined, bytes);
}

#[test]
fn fragment_size_splits_outgoing_messages() {
    let mut config = Config::default();
    config.fragment_size = Some(4);
    for role in ROLES {
        let mut conn = connection(role, config);
        conn.sender().send_text("héllo wörld").unwrap(); // 13 bytes
        conn.sender().send_binary(&[9; 8]).unwrap();
        conn.sender().send_binary(&[]).unwrap();
        conn.sender().ping(&[1; 10]).unwrap(); // control frames are never split
        let sent = take_sent(&mut conn);
        let shape: Vec<(OpCode, bool, usize)> = sent
            .iter()
            .map(|f| (f.opcode, f.fin, f.payload.len()))
            .collect();
        assert_eq!(
            shape,
            [
                (OpCode::Text, false, 4),
                (OpCode::Continuation, false, 4),
                (OpCode::Continuation, false, 4),
                (OpCode::Continuation, true, 1),
                (OpCode::Binary, false, 4),
                (OpCode::Continuation, true, 4),
                (OpCode::Binary, true, 0),
                (OpCode::Ping, true, 10),
            ]
        );
        let text: Vec<u8> = sent[..4].iter().flat_map(|f| f.payload.clone()).collect();
        assert_eq!(text, "héllo wörld".as_bytes());
    }
    // The peer reassembles them.
    let mut pair = Pair::with_configs(config, Config::default());
    pair.client.sender().send_text("héllo wörld").unwrap();
    assert_eq!(pair.client_events(), [Ev::Text("héllo wörld".into())]);
}

#[test]
fn send_fragment_rules() {
    let mut server = connection(Role::Server, Config::default());
    server
        .sender()
        .send_fragment(DataKind::Binary, b"ab", false)
        .unwrap();
    assert_eq!(
        server.sender().send_text("other"),
        Err(SendError::MessageInProgress)
    );
    assert_eq!(
        server.sender().send_fragment(DataKind::Text, b"x", true),
        Err(SendError::MessageInProgress)
    );
    server.sender().ping(b"between").unwrap();
    server
        .sender()
        .send_fragment(DataKind::Binary, b"cd", true)
        .unwrap();
    server.sender().send_text("next").unwrap();
    let shape: Vec<(OpCode, bool, Vec<u8>)> = take_sent(&mut server)
        .into_iter()
        .map(|f| (f.opcode, f.fin, f.payload))
        .collect();
    assert_eq!(
        shape,
        [
            (OpCode::Binary, false, b"ab".to_vec()),
            (OpCode::Ping, true, b"between".to_vec()),
            (OpCode::Continuation, true, b"cd".to_vec()),
            (OpCode::Text, true, b"next".to_vec()),
        ]
    );
}

#[test]
fn oversized_control_payloads_are_refused() {
    let mut server = connection(Role::Server, Config::default());
    assert_eq!(
        server.sender().ping(&[0; 126]),
        Err(SendError::ControlTooLong)
    );
    assert_eq!(
        server.sender().pong(&[0; 126]),
        Err(SendError::ControlTooLong)
    );
    assert_eq!(
        server.sender().close(code(1000), &"x".repeat(124)),
        Err(SendError::ControlTooLong)
    );
    assert!(server.poll_transmit().is_empty());
    server.sender().close(code(1000), &"x".repeat(123)).unwrap();
    assert_eq!(take_sent(&mut server)[0].payload.len(), 125);
}

#[test]
fn max_output_buffer_refuses_sends_until_transmitted() {
    let mut config = Config::default();
    config.max_output_buffer = 100;
    let mut server = connection(Role::Server, config);
    // Below the limit a message of any size is taken.
    server.sender().send_binary(&[0; 200]).unwrap();
    assert_eq!(server.buffered_output(), 204);
    assert_eq!(
        server.sender().send_text("more"),
        Err(SendError::BufferFull)
    );
    assert_eq!(
        server.sender().send_binary(b"more"),
        Err(SendError::BufferFull)
    );
    assert_eq!(
        server
            .sender()
            .send_fragment(DataKind::Binary, b"more", true),
        Err(SendError::BufferFull)
    );
    assert_eq!(server.sender().ping(b""), Err(SendError::BufferFull));
    assert_eq!(server.sender().pong(b""), Err(SendError::BufferFull));
    assert_eq!(server.buffered_output(), 204, "refused sends queue nothing");
    // Transmitting part of it is not enough while 100 bytes or more remain.
    server.advance_transmit(Instant::ZERO, 104);
    assert_eq!(
        server.sender().send_text("more"),
        Err(SendError::BufferFull)
    );
    server.advance_transmit(Instant::ZERO, 1);
    server.sender().send_text("more").unwrap();
    assert_eq!(server.buffered_output(), 99 + 6);
    assert_eq!(
        server.poll_transmit()[99..],
        [0x81, 0x04, b'm', b'o', b'r', b'e']
    );
}

#[test]
fn ping_flood_while_we_never_transmit_holds_one_pong() {
    let mut config = Config::default();
    config.max_output_buffer = 1000;
    for already_full in [true, false] {
        let mut server = connection(Role::Server, config);
        if already_full {
            server.sender().send_binary(&[0; 1000]).unwrap();
        }
        let mut peak = 0;
        for i in 0..10_000u32 {
            let payload = [i as u8; 125];
            server.handle_input(Instant::ZERO, &frame_to(Role::Server, FIN | PING, &payload));
            assert_eq!(events(&mut server), [Ev::Ping(payload.to_vec())]);
            peak = peak.max(server.buffered_output());
        }
        assert!(peak <= 1000 + 127, "output grew to {peak}");
        // The held pong answers the latest ping, once, as soon as the output has room for it.
        let mut sent = take_sent(&mut server);
        sent.extend(take_sent(&mut server));
        let pongs: Vec<&Sent> = sent.iter().filter(|f| f.opcode == OpCode::Pong).collect();
        assert_eq!(pongs.last().unwrap().payload, [(9_999u32 as u8); 125]);
        assert!(pongs.len() <= 9, "{} pongs", pongs.len());
        assert!(
            server.poll_transmit().is_empty(),
            "the held pong is sent once"
        );
    }
}

/// Keepalive with a 1 s ping interval and a 500 ms pong timeout, and no write timeout.
fn keepalive_config() -> Config {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_secs(1));
    config.pong_timeout = Duration::from_millis(500);
    config.write_timeout = None;
    config
}

#[test]
fn keepalive_pings_a_quiet_peer_then_times_out() {
    for role in ROLES {
        // Created at 0 ms: keepalive is armed from creation, with a real deadline.
        let mut conn = connection(role, keepalive_config());
        assert_eq!(conn.poll_timeout(), Some(ms(1000)));
        conn.handle_timeout(ms(0));
        assert_eq!(
            conn.poll_timeout(),
            Some(ms(1000)),
            "an early call changes nothing"
        );
        conn.handle_timeout(ms(999));
        assert!(
            conn.poll_transmit().is_empty(),
            "an early call does nothing"
        );
        // The ping goes out after the ping interval.
        conn.handle_timeout(ms(1000));
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0].opcode, sent[0].payload.len()), (OpCode::Ping, 0));
        assert_eq!(conn.poll_event(), Ok(None));
        // The failure comes the pong timeout after the ping.
        assert_eq!(conn.poll_timeout(), Some(ms(1500)));
        conn.handle_timeout(ms(1499));
        assert_eq!(conn.poll_event(), Ok(None), "not before the pong timeout");
        conn.handle_timeout(ms(1500));
        assert_eq!(conn.poll_event(), Err(Error::KeepaliveTimeout));
        assert_eq!(Error::KeepaliveTimeout.close_code().get(), 1011);
        assert_eq!(conn.poll_event(), Ok(None), "reported once");
        assert_eq!(conn.state(), State::Failed);
        assert!(conn.should_close_transport());
        assert_eq!(conn.poll_timeout(), None, "no timer after the failure");
        assert_eq!(conn.sender().send_text("late"), Err(SendError::Closed));
    }
}

#[test]
fn keepalive_timeout_queues_a_1011_close_frame_before_the_transport_closes() {
    let mut server = connection(Role::Server, keepalive_config());
    server.handle_timeout(ms(1000));
    let _ping = take_sent(&mut server);
    server.handle_timeout(ms(1500));
    assert!(server.should_close_transport());
    // The exact bytes: an unmasked close frame, 19 bytes of payload: 1011 and the reason.
    let mut expected = vec![0x88, 19, 0x03, 0xf3];
    expected.extend_from_slice(b"keepalive timeout");
    assert_eq!(server.poll_transmit(), &expected[..]);
    assert_eq!(server.poll_event(), Err(Error::KeepaliveTimeout));
    // A client masks it, with the same body.
    let mut client = connection(Role::Client, keepalive_config());
    client.handle_timeout(ms(1000));
    let _ping = take_sent(&mut client);
    client.handle_timeout(ms(1500));
    let sent = take_sent(&mut client);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].opcode, OpCode::Close);
    assert_eq!(sent[0].payload, close_body(1011, "keepalive timeout"));
}

#[test]
fn keepalive_is_satisfied_by_any_input() {
    let config = keepalive_config();
    let mut server = connection(Role::Server, config);
    // The peer talks every 900 ms: no ping is ever needed.
    for i in 1..=20 {
        server.handle_input(
            ms(i * 900 - 450),
            &frame_to(Role::Server, FIN | TEXT, b"tick"),
        );
        assert_eq!(events(&mut server), [Ev::Text("tick".into())]);
        server.handle_timeout(ms(i * 900));
        assert_eq!(server.poll_event(), Ok(None));
    }
    // Quiet after a ping, then a pong arrives within the pong timeout: no failure, and the next ping
    // comes a ping interval after the pong.
    let mut server = connection(Role::Server, config);
    server.handle_timeout(ms(1000));
    assert_eq!(take_sent(&mut server)[0].opcode, OpCode::Ping);
    server.handle_input(ms(1400), &frame_to(Role::Server, FIN | PONG, b""));
    assert_eq!(events(&mut server), [Ev::Pong(vec![])]);
    assert_eq!(server.poll_timeout(), Some(ms(2400)));
    server.handle_timeout(ms(2399));
    assert_eq!(server.poll_event(), Ok(None));
    assert!(server.poll_transmit().is_empty());
    server.handle_timeout(ms(2400));
    assert_eq!(take_sent(&mut server)[0].opcode, OpCode::Ping);
    assert_eq!(server.state(), State::Open);
}

/// Bytes that arrive between two deadlines move the next ping to an interval after them; the deadline
/// reported may be earlier (it is not re-armed at every read), and a call at it only re-arms.
#[test]
fn keepalive_pings_an_interval_after_the_last_bytes_received() {
    let mut server = connection(Role::Server, keepalive_config());
    server.handle_input(ms(700), &frame_to(Role::Server, FIN | TEXT, b"hi"));
    assert_eq!(events(&mut server), [Ev::Text("hi".into())]);
    server.handle_timeout(ms(1000));
    assert!(server.poll_transmit().is_empty(), "bytes came 300 ms ago");
    assert_eq!(server.poll_timeout(), Some(ms(1700)));
    server.handle_timeout(ms(1700));
    assert_eq!(take_sent(&mut server)[0].opcode, OpCode::Ping);
    assert_eq!(server.poll_timeout(), Some(ms(2200)));
}

#[test]
fn keepalive_never_fails_a_pair_that_answers() {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_millis(100));
    let mut pair = Pair::new(config);
    for step in 0..100 {
        let now = ms(step * 50);
        pair.client.handle_timeout(now);
        pair.server.handle_timeout(now);
        pair.client_to_server();
        events(&mut pair.server);
        pair.server_to_client();
        events(&mut pair.client);
    }
    assert_eq!(
        (pair.client.state(), pair.server.state()),
        (State::Open, State::Open)
    );
}

/// The defaults: keepalive on, a ping after 20 s of silence and failure 20 s after it (as Python's
/// `websockets`); a write timeout of 30 s.
#[test]
fn default_keepalive_pings_at_20_s_and_gives_up_at_40_s() {
    let config = Config::default();
    assert_eq!(config.ping_interval, Some(Duration::from_secs(20)));
    assert_eq!(config.pong_timeout, Duration::from_secs(20));
    assert_eq!(config.write_timeout, Some(Duration::from_secs(30)));
    let mut server = connection(Role::Server, config);
    assert_eq!(server.poll_timeout(), Some(ms(20_000)));
    server.handle_timeout(ms(20_000));
    assert_eq!(take_sent(&mut server)[0].opcode, OpCode::Ping);
    server.handle_timeout(ms(39_999));
    assert_eq!(server.state(), State::Open);
    server.handle_timeout(ms(40_000));
    assert_eq!(server.poll_event(), Err(Error::KeepaliveTimeout));
}

#[test]
fn no_keepalive_and_no_write_timer_when_turned_off() {
    let mut config = Config::default();
    config.ping_interval = None;
    config.write_timeout = None;
    let mut server = connection(Role::Server, config);
    assert_eq!(server.poll_timeout(), None);
    server.sender().send_text("never transmitted").unwrap();
    server.handle_timeout(ms(1_000_000));
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(server.state(), State::Open);
}

/// A 5 s write timeout and no keepalive.
fn write_timeout_config() -> Config {
    let mut config = Config::default();
    config.ping_interval = None;
    config.write_timeout = Some(Duration::from_secs(5));
    config
}

#[test]
fn output_never_transmitted_fails_at_exactly_the_write_timeout() {
    for role in ROLES {
        let mut conn = connection(role, write_timeout_config());
        conn.handle_input(ms(100), b"");
        assert_eq!(conn.poll_timeout(), None, "nothing queued, no timer");
        // A command carries no time: the write timer asks to be armed at once.
        conn.sender().send_text("stuck").unwrap();
        assert_eq!(
            conn.poll_timeout(),
            Some(ms(100)),
            "call back with the time"
        );
        conn.handle_timeout(ms(1000));
        assert_eq!(conn.poll_timeout(), Some(ms(6000)), "armed from 1 s");
        conn.handle_timeout(ms(5999));
        assert_eq!(conn.state(), State::Open);
        assert!(!conn.should_close_transport());
        conn.handle_timeout(ms(6000));
        assert_eq!(conn.poll_event(), Err(Error::WriteTimeout));
        assert_eq!(Error::WriteTimeout.close_code().get(), 1011);
        assert_eq!(conn.poll_event(), Ok(None), "reported once");
        assert_eq!(conn.state(), State::Failed);
        assert!(conn.should_close_transport());
        // The output is dropped (it cannot be delivered), and no close frame is queued behind it.
        assert_eq!(conn.buffered_output(), 0);
        assert!(conn.poll_transmit().is_empty());
        assert_eq!(conn.poll_timeout(), None);
    }
}

#[test]
fn output_transmitted_in_time_never_fails() {
    let mut server = connection(Role::Server, write_timeout_config());
    server.sender().send_binary(&[7; 100]).unwrap();
    server.handle_timeout(ms(0));
    assert_eq!(server.poll_timeout(), Some(ms(5000)));
    // Progress at 4 s: the stall starts again from there.
    server.advance_transmit(ms(4000), 10);
    assert_eq!(server.poll_timeout(), Some(ms(9000)));
    server.handle_timeout(ms(8999));
    assert_eq!(server.state(), State::Open);
    // Drained at 8.999 s: no timer at all.
    let left = server.buffered_output();
    server.advance_transmit(ms(8999), left);
    assert_eq!(server.poll_timeout(), None);
    server.handle_timeout(ms(100_000));
    assert_eq!(server.state(), State::Open);
    // Queued again much later: a new wait, from the transmission that brings the time.
    server.sender().send_text("again").unwrap();
    server.advance_transmit(ms(200_000), 1);
    assert_eq!(server.poll_timeout(), Some(ms(205_000)));
}

#[test]
fn a_keepalive_ping_that_cannot_be_transmitted_starts_the_write_timer() {
    let mut config = write_timeout_config();
    config.ping_interval = Some(Duration::from_secs(1));
    config.pong_timeout = Duration::from_secs(60);
    let mut server = connection(Role::Server, config);
    server.handle_timeout(ms(1000));
    assert_eq!(server.buffered_output(), 2, "the ping is queued");
    assert_eq!(server.poll_timeout(), Some(ms(6000)));
    server.handle_timeout(ms(6000));
    assert_eq!(server.poll_event(), Err(Error::WriteTimeout));
}

/// Once our close is sent the write timer still runs (the close timer too): a peer that stopped reading
/// is cut off at whichever comes first.
#[test]
fn the_write_timer_runs_while_closing() {
    let mut config = write_timeout_config();
    config.close_timeout = Duration::from_secs(60);
    let mut server = connection(Role::Server, config);
    server.sender().close(code(1013), "too slow").unwrap();
    server.handle_timeout(ms(0));
    assert_eq!(server.poll_timeout(), Some(ms(5000)));
    server.handle_timeout(ms(5000));
    assert_eq!(server.poll_event(), Err(Error::WriteTimeout));
    assert!(server.should_close_transport());
    assert!(server.poll_transmit().is_empty());
}

#[test]
fn a_client_masks_every_frame_with_the_next_key() {
    let mut keys = vec![[0u8; 4]; 4];
    for (i, key) in keys.iter_mut().enumerate() {
        *key = [i as u8 + 1, 0xaa, 0x55, 0xff];
    }
    let supplied = keys.clone();
    let mut next = 0;
    let mut client = wslane::Connection::client(Instant::ZERO, Config::default(), move || {
        next += 1;
        supplied[next - 1]
    });
    client.sender().send_text("one").unwrap();
    client.sender().ping(b"two").unwrap();
    client.sender().send_binary(b"three").unwrap();
    client.sender().close(code(1000), "four").unwrap();
    let wire = client.poll_transmit().to_vec();
    // Each frame's key sits right after its 2-byte header (all payloads are short).
    let mut at = 0;
    for key in keys {
        assert_eq!(wire[at + 1] & 0x80, 0x80, "masked");
        assert_eq!(wire[at + 2..at + 6], key);
        at += 6 + usize::from(wire[at + 1] & 0x7f);
    }
    assert_eq!(at, wire.len());
    let payloads: Vec<Vec<u8>> = parse_frames(&wire).into_iter().map(|f| f.payload).collect();
    assert_eq!(
        payloads,
        [
            b"one".to_vec(),
            b"two".to_vec(),
            b"three".to_vec(),
            close_body(1000, "four")
        ]
    );
}

#[test]
fn keepalive_stops_once_the_close_handshake_starts() {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_secs(1));
    config.close_timeout = Duration::from_secs(10);
    let mut server = connection(Role::Server, config);
    server.handle_timeout(ms(0));
    server.sender().close(code(1000), "").unwrap();
    // A command carries no time: the close timer is armed by the next call that does.
    assert_eq!(
        server.poll_timeout(),
        Some(ms(0)),
        "call back at once with the time"
    );
    // Reporting the transmission (at 0 ms) is such a call.
    let _ = take_sent(&mut server);
    assert_eq!(server.poll_timeout(), Some(ms(10_000)));
    for t in (500..10_000).step_by(500) {
        server.handle_timeout(ms(t));
        assert!(
            server.poll_transmit().is_empty(),
            "no keepalive ping at {t} ms"
        );
        assert_eq!(
            server.poll_event(),
            Ok(None),
            "no keepalive timeout at {t} ms"
        );
    }
    assert_eq!(
        server.poll_timeout(),
        Some(ms(10_000)),
        "only the close timer is left"
    );
}
