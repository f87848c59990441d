//! The close handshake (RFC 6455 sections 5.5.1 and 7): what may be sent and received around a close, the
//! reply, who closes the transport and when, the end of the transport, and the close timeout.

mod support;

use std::time::Duration;

use support::*;
use wslane::{
    CloseCode, Config, Connection, DataKind, Error, Instant, OpCode, Role, SendError, State,
};

const ROLES: [Role; 2] = [Role::Client, Role::Server];

fn ms(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

/// Every command that queues a frame is refused with `Closed`, and queues nothing.
fn assert_sends_refused(conn: &mut Connection) {
    let before = conn.buffered_output();
    assert_eq!(conn.sender().send_text("late"), Err(SendError::Closed));
    assert_eq!(conn.sender().send_binary(b"late"), Err(SendError::Closed));
    assert_eq!(
        conn.sender().send_raw(DataKind::Binary, b"late"),
        Err(SendError::Closed)
    );
    assert_eq!(
        conn.sender().send_fragment(DataKind::Text, b"late", true),
        Err(SendError::Closed)
    );
    assert_eq!(conn.sender().ping(b"late"), Err(SendError::Closed));
    assert_eq!(conn.sender().pong(b"late"), Err(SendError::Closed));
    assert_eq!(
        conn.sender().close(CloseCode::NORMAL, "again"),
        Err(SendError::Closed)
    );
    assert_eq!(conn.buffered_output(), before);
}

#[test]
fn nothing_can_be_sent_after_our_close() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.sender().close(code(4000), "bye").unwrap();
        assert_eq!(conn.state(), State::CloseSent);
        assert_sends_refused(&mut conn);
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].close_code(), Some(4000));
        assert_eq!(&sent[0].payload[2..], b"bye");
        assert!(!conn.should_close_transport(), "waits for the peer's close");
    }
}

#[test]
fn a_fragmented_message_cannot_be_finished_after_our_close() {
    let mut server = connection(Role::Server, Config::default());
    server
        .sender()
        .send_fragment(DataKind::Binary, b"half", false)
        .unwrap();
    server.sender().close(CloseCode::GOING_AWAY, "").unwrap();
    assert_eq!(
        server
            .sender()
            .send_fragment(DataKind::Binary, b"rest", true),
        Err(SendError::Closed)
    );
}

#[test]
fn unsendable_close_codes_are_refused() {
    let mut server = connection(Role::Server, Config::default());
    for value in [1005, 1006, 1015] {
        assert_eq!(
            server.sender().close(code(value), ""),
            Err(SendError::InvalidCloseCode(value))
        );
    }
    assert_eq!(server.state(), State::Open);
    assert!(server.poll_transmit().is_empty());
}

#[test]
fn a_received_close_is_answered_with_the_same_code() {
    for role in ROLES {
        for (value, reason) in [
            (1000, ""),
            (1001, "going"),
            (1011, "oops"),
            (3000, "app"),
            (4999, "ünï"),
        ] {
            let mut conn = connection(role, Config::default());
            conn.handle_input(
                Instant::ZERO,
                &frame_to(role, FIN | CLOSE, &close_body(value, reason)),
            );
            assert_eq!(events(&mut conn), [Ev::close(value, reason)]);
            assert_eq!(conn.state(), State::Closed);
            let sent = take_sent(&mut conn);
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].close_code(), Some(value));
            assert_eq!(sent[0].payload.len(), 2, "the reply carries the code only");
            assert_sends_refused(&mut conn);
        }
    }
}

#[test]
fn an_empty_close_is_answered_with_an_empty_close() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.handle_input(Instant::ZERO, &frame_to(role, FIN | CLOSE, b""));
        assert_eq!(events(&mut conn), [Ev::close(1005, "")]);
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].close_code(), None);
        assert!(sent[0].payload.is_empty());
    }
}

#[test]
fn frames_after_a_received_close_are_discarded() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        let mut input = frame_to(role, FIN | TEXT, b"before");
        input.extend(frame_to(role, FIN | CLOSE, &close_body(1000, "")));
        input.extend(frame_to(role, FIN | TEXT, b"after"));
        input.extend(frame_to(role, FIN | PING, b"after"));
        input.extend(frame_to(role, FIN | CLOSE, &close_body(1001, "")));
        input.extend(frame(FIN | 0x3, Some([1; 4]), b"not even valid"));
        conn.handle_input(Instant::ZERO, &input);
        assert_eq!(
            events(&mut conn),
            [Ev::Text("before".into()), Ev::close(1000, "")]
        );
        conn.handle_input(Instant::ZERO, &frame_to(role, FIN | BINARY, b"later still"));
        conn.handle_input(Instant::ZERO, &frame_to(role, FIN | PING, b"later still"));
        assert_eq!(conn.poll_event(), Ok(None));
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 1, "only the close reply, no pong: {sent:?}");
        assert_eq!(sent[0].close_code(), Some(1000));
        assert_eq!(conn.state(), State::Closed);
    }
}

#[test]
fn data_is_still_delivered_after_our_close_until_the_peers() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.sender().close(CloseCode::NORMAL, "").unwrap();
        let _ = take_sent(&mut conn);
        let mut input = frame_to(role, FIN | TEXT, b"in flight");
        input.extend(frame_to(role, FIN | CLOSE, &close_body(1000, "")));
        input.extend(frame_to(role, FIN | TEXT, b"after the close"));
        conn.handle_input(Instant::ZERO, &input);
        assert_eq!(
            events(&mut conn),
            [Ev::Text("in flight".into()), Ev::close(1000, "")]
        );
        assert_eq!(conn.state(), State::Closed);
        assert!(
            conn.poll_transmit().is_empty(),
            "our close was the reply already"
        );
    }
}

#[test]
fn a_close_in_the_middle_of_a_fragmented_message_ends_it() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        let mut input = frame_to(role, TEXT, b"never ");
        input.extend(frame_to(role, FIN | CLOSE, &close_body(1001, "bye")));
        input.extend(frame_to(role, FIN | CONT, b"finished"));
        conn.handle_input(Instant::ZERO, &input);
        assert_eq!(events(&mut conn), [Ev::close(1001, "bye")]);
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].close_code(), Some(1001));
    }
}

#[test]
fn client_initiated_close_handshake() {
    let mut pair = Pair::new(Config::default());
    pair.client.sender().close(code(1000), "done").unwrap();
    assert_eq!(pair.client_events(), [Ev::close(1000, "done")]);
    // The server has seen the client's close and answered: it closes the transport first.
    assert_eq!(pair.server.state(), State::Closed);
    assert!(pair.server.should_close_transport());
    assert_eq!(pair.server_events(), [Ev::close(1000, "")]);
    assert_eq!(pair.client.state(), State::Closed);
    // The client waits for the server to close the transport.
    assert!(!pair.client.should_close_transport());
    pair.client.handle_eof(Instant::ZERO);
    assert!(pair.client.should_close_transport());
    assert_eq!(
        pair.client.poll_event(),
        Ok(None),
        "a clean close is not followed by 1006"
    );
    assert!(pair.client.poll_transmit().is_empty() && pair.server.poll_transmit().is_empty());
}

#[test]
fn server_initiated_close_handshake() {
    let mut pair = Pair::new(Config::default());
    pair.server.sender().close(code(1001), "restart").unwrap();
    assert!(
        !pair.server.should_close_transport(),
        "waits for the client's reply"
    );
    assert_eq!(pair.server_events(), [Ev::close(1001, "restart")]);
    assert_eq!(pair.client.state(), State::Closed);
    assert!(
        !pair.client.should_close_transport(),
        "a client leaves closing the transport to the server"
    );
    assert_eq!(pair.client_events(), [Ev::close(1001, "")]);
    assert_eq!(pair.server.state(), State::Closed);
    assert!(pair.server.should_close_transport());
    assert!(!pair.client.should_close_transport());
}

#[test]
fn both_sides_close_at_once() {
    let mut pair = Pair::new(Config::default());
    pair.client.sender().close(code(1000), "c").unwrap();
    pair.server.sender().close(code(1001), "s").unwrap();
    pair.client_to_server();
    pair.server_to_client();
    assert_eq!(events(&mut pair.server), [Ev::close(1000, "c")]);
    assert_eq!(events(&mut pair.client), [Ev::close(1001, "s")]);
    assert!(pair.client.poll_transmit().is_empty(), "no second close");
    assert!(pair.server.poll_transmit().is_empty(), "no second close");
    assert!(pair.server.should_close_transport());
    assert!(!pair.client.should_close_transport());
}

#[test]
fn client_closes_the_transport_itself_after_the_close_timeout() {
    let mut config = Config::default();
    config.close_timeout = Duration::from_secs(5);
    let mut pair = Pair::new(config);
    pair.client.handle_timeout(ms(100));
    pair.client.sender().close(code(1000), "").unwrap();
    // A command carries no time: the close timer is armed by the next call that does.
    assert_eq!(
        pair.client.poll_timeout(),
        Some(ms(100)),
        "call back at once with the time"
    );
    pair.client.handle_timeout(ms(1000));
    assert_eq!(pair.client.poll_timeout(), Some(ms(6000)), "armed at 1 s");
    pair.client_events();
    pair.server_events();
    assert_eq!(pair.client.state(), State::Closed);
    // The server never closes the TCP connection; the same timer keeps running.
    assert_eq!(pair.client.poll_timeout(), Some(ms(6000)));
    pair.client.handle_timeout(ms(5999));
    assert!(
        !pair.client.should_close_transport(),
        "an early call does nothing"
    );
    pair.client.handle_timeout(ms(6000));
    assert!(pair.client.should_close_transport());
    assert_eq!(
        pair.client.poll_event(),
        Ok(None),
        "the close itself was clean"
    );
    assert_eq!(pair.client.state(), State::Closed);
    assert_eq!(pair.client.poll_timeout(), None);
}

#[test]
fn no_close_reply_fails_after_the_close_timeout() {
    let mut config = Config::default();
    config.close_timeout = Duration::from_secs(2);
    for role in ROLES {
        let mut conn = connection(role, config);
        conn.sender().close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(conn.poll_timeout(), Some(Instant::ZERO));
        conn.handle_timeout(ms(10_000));
        assert_eq!(conn.poll_timeout(), Some(ms(12_000)));
        conn.handle_timeout(ms(11_000));
        assert_eq!(conn.poll_event(), Ok(None));
        conn.handle_timeout(ms(12_000));
        assert_eq!(conn.poll_event(), Err(Error::CloseTimeout));
        assert_eq!(Error::CloseTimeout.close_code().get(), 1006);
        assert_eq!(conn.poll_event(), Ok(None));
        assert_eq!(conn.state(), State::Failed);
        assert!(conn.should_close_transport());
        // Only our own close frame was ever queued.
        let sent = take_sent(&mut conn);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].opcode, OpCode::Close);
    }
}

#[test]
fn end_of_stream_without_a_close_is_1006_once() {
    for role in ROLES {
        // With nothing buffered, with a complete message, and with half a frame buffered.
        for pending in [
            vec![],
            frame_to(role, FIN | TEXT, b"last words"),
            frame_to(role, FIN | TEXT, b"cut")[..3].to_vec(),
        ] {
            let mut conn = connection(role, Config::default());
            conn.handle_input(Instant::ZERO, &pending);
            conn.handle_eof(Instant::ZERO);
            let mut expected = Vec::new();
            if pending.len() > 3 {
                expected.push(Ev::Text("last words".into()));
            }
            expected.push(Ev::close(1006, ""));
            assert_eq!(events(&mut conn), expected);
            assert_eq!(conn.poll_event(), Ok(None), "1006 is reported once");
            assert!(conn.should_close_transport());
            assert!(
                conn.poll_transmit().is_empty(),
                "nothing is sent in answer to 1006"
            );
            assert_sends_refused(&mut conn);
            conn.handle_input(Instant::ZERO, &frame_to(role, FIN | TEXT, b"after the end"));
            assert_eq!(conn.poll_event(), Ok(None));
        }
    }
}

#[test]
fn end_of_stream_right_after_a_close_frame_is_a_clean_close() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.handle_input(
            Instant::ZERO,
            &frame_to(role, FIN | CLOSE, &close_body(1000, "")),
        );
        conn.handle_eof(Instant::ZERO);
        assert_eq!(events(&mut conn), [Ev::close(1000, "")]);
        assert_eq!(conn.poll_event(), Ok(None));
        assert_eq!(conn.state(), State::Closed);
        assert!(conn.should_close_transport());
    }
}

#[test]
fn end_of_stream_after_our_close_is_1006() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.sender().close(CloseCode::NORMAL, "").unwrap();
        conn.handle_eof(Instant::ZERO);
        assert_eq!(events(&mut conn), [Ev::close(1006, "")]);
        assert!(conn.should_close_transport());
    }
}

#[test]
fn the_server_closes_the_transport_once_the_handshake_is_done() {
    let mut server = connection(Role::Server, Config::default());
    assert!(!server.should_close_transport());
    server.handle_input(
        Instant::ZERO,
        &frame_to(Role::Server, FIN | CLOSE, &close_body(1000, "")),
    );
    assert!(
        !server.should_close_transport(),
        "not before the close is read"
    );
    assert_eq!(events(&mut server), [Ev::close(1000, "")]);
    assert!(server.should_close_transport());
    assert_eq!(server.poll_timeout(), None, "a server needs no close timer");
    // The client closing its end afterwards is no abnormal closure.
    server.handle_eof(Instant::ZERO);
    assert_eq!(server.poll_event(), Ok(None));
    assert_eq!(server.state(), State::Closed);
}

/// RFC 6455 section 5.5.1: nothing follows a close frame. A pong held back while the output was full must
/// not be sent after the close that ends the connection.
#[test]
fn a_held_pong_is_not_sent_after_a_close() {
    let mut config = Config::default();
    config.max_output_buffer = 100;
    // Three ways the connection can close while a pong is held: the peer's close, ours, a protocol error.
    let mut broken = Vec::new();
    for how in ["the peer's close", "our close", "a protocol error"] {
        let mut server = connection(Role::Server, config);
        server.sender().send_binary(&[0; 100]).unwrap();
        server.handle_input(Instant::ZERO, &frame_to(Role::Server, FIN | PING, b"held"));
        assert_eq!(events(&mut server), [Ev::Ping(b"held".to_vec())]);
        match how {
            "the peer's close" => {
                server.handle_input(
                    Instant::ZERO,
                    &frame_to(Role::Server, FIN | CLOSE, &close_body(1000, "")),
                );
                assert_eq!(events(&mut server), [Ev::close(1000, "")]);
            }
            "our close" => server.sender().close(CloseCode::NORMAL, "").unwrap(),
            _ => {
                let (_, err) = feed_until_error(&mut server, &frame(FIN | TEXT, None, b""));
                assert_eq!(err.close_code().get(), 1002);
            }
        }
        let sent = take_sent(&mut server);
        let close_at = sent
            .iter()
            .position(|f| f.opcode == OpCode::Close)
            .expect("a close frame");
        let after: Vec<OpCode> = sent[close_at + 1..].iter().map(|f| f.opcode).collect();
        if !after.is_empty() {
            broken.push(format!("after {how}: {after:?} follow the close"));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// RFC 6455 section 5.5.2: a ping is answered unless a close was received, so also after our own close.
#[test]
fn a_ping_after_our_close_is_still_answered() {
    let mut server = connection(Role::Server, Config::default());
    server.sender().close(CloseCode::NORMAL, "").unwrap();
    server.handle_input(Instant::ZERO, &frame_to(Role::Server, FIN | PING, b"late"));
    assert_eq!(events(&mut server), [Ev::Ping(b"late".to_vec())]);
    let sent: Vec<OpCode> = take_sent(&mut server).iter().map(|f| f.opcode).collect();
    assert_eq!(sent, [OpCode::Close, OpCode::Pong]);
    // After the peer's close, pings are no longer answered (and not even read).
    server.handle_input(
        Instant::ZERO,
        &frame_to(Role::Server, FIN | CLOSE, &close_body(1000, "")),
    );
    server.handle_input(Instant::ZERO, &frame_to(Role::Server, FIN | PING, b"later"));
    assert_eq!(events(&mut server), [Ev::close(1000, "")]);
    assert!(take_sent(&mut server).is_empty());
}

/// An output limit of 0 still lets messages through one at a time: an empty buffer always takes one.
#[test]
fn a_zero_output_limit_sends_one_message_at_a_time() {
    let mut config = Config::default();
    config.max_output_buffer = 0;
    let mut server = connection(Role::Server, config);
    server.sender().send_text("first").unwrap();
    assert_eq!(
        server.sender().send_text("second"),
        Err(wslane::SendError::BufferFull)
    );
    let queued = server.poll_transmit().len();
    server.advance_transmit(Instant::ZERO, queued);
    server.sender().send_text("second").unwrap();
}

#[test]
fn a_client_times_its_wait_for_the_transports_end_from_the_close_frames_arrival() {
    let mut config = Config::default();
    config.close_timeout = Duration::from_secs(2);
    let mut client = connection(Role::Client, config);
    client.handle_input(
        ms(500),
        &frame_to(Role::Client, FIN | CLOSE, &close_body(1000, "")),
    );
    assert_eq!(events(&mut client), [Ev::close(1000, "")]);
    assert_eq!(client.state(), State::Closed);
    assert!(!client.should_close_transport(), "waits for the server");
    assert_eq!(client.poll_timeout(), Some(ms(2500)), "a real deadline");
    client.handle_timeout(ms(2499));
    assert!(
        !client.should_close_transport(),
        "an early call does nothing"
    );
    // The server ends the transport in time: the wait is over, with no timer left.
    client.handle_eof(ms(2499));
    assert!(client.should_close_transport());
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(client.state(), State::Closed);
    assert_eq!(client.poll_event(), Ok(None), "nothing follows the close");
}

#[test]
fn a_connection_created_with_keepalive_reports_its_first_deadline_at_once() {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_secs(30));
    for role in ROLES {
        let conn = match role {
            Role::Server => Connection::server(ms(7_000), config),
            Role::Client => Connection::client(ms(7_000), config, counting_keys(0)),
        };
        assert_eq!(conn.poll_timeout(), Some(ms(37_000)), "{role:?}");
    }
}
