//! The event loop: echo with the blocking client, many connections at once, and peers that misbehave
//! (slow readers, garbage, unfinished handshakes, silence) without stalling the others.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use support::{next_note, spawn, wait_for, Echo, Note};
use wslane_mio::{
    ClientRequest, CloseCode, CloseFrame, CloseReason, Config, ConnectionId, Context, Error, Event,
    Handler, Message, SendError, ServerConfig, ServerError, Url, WebSocket,
};

const NOTE_WAIT: Duration = Duration::from_secs(5);

fn round_trip(ws: &mut WebSocket<TcpStream>, message: Message) {
    ws.send(message.clone()).unwrap();
    assert_eq!(ws.recv().unwrap().unwrap(), message);
}

/// A client that echoes a few messages, proving the server still serves others.
fn assert_serving(url: &str) {
    let (mut ws, _) = wslane_mio::connect(url).unwrap();
    for i in 0..20 {
        round_trip(&mut ws, Message::text(format!("still here {i}")));
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
}

#[test]
fn blocking_client_with_event_loop_server() {
    let (echo, notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), Config::default());
    let (mut ws, _) = wslane_mio::connect(&server.url()).unwrap();
    let Note::Open(id, _) = next_note(&notes, NOTE_WAIT) else {
        panic!("expected the open first");
    };
    round_trip(&mut ws, Message::text("hello"));
    round_trip(&mut ws, Message::binary(vec![1, 2, 3]));
    round_trip(&mut ws, Message::text(""));
    round_trip(&mut ws, Message::binary(Vec::new()));
    let large: Vec<u8> = (0..1 << 20).map(|i| (i * 13) as u8).collect();
    round_trip(&mut ws, Message::binary(large));
    for i in 0..100 {
        ws.feed(Message::text(format!("pipelined {i}"))).unwrap();
    }
    ws.flush().unwrap();
    for i in 0..100 {
        assert_eq!(
            ws.recv().unwrap().unwrap(),
            Message::text(format!("pipelined {i}"))
        );
    }
    let code = CloseCode::new(4000).unwrap();
    ws.close(code, "bye").unwrap();
    match next_note(&notes, NOTE_WAIT) {
        Note::Closed(closed, CloseReason::Closed(frame)) => {
            assert_eq!(closed, id);
            assert_eq!(
                frame,
                CloseFrame {
                    code,
                    reason: "bye".into()
                }
            );
        }
        other => panic!("expected the close, got {other:?}"),
    }
    let echo = server.stop();
    assert_eq!(echo.open, 0);
}

/// Closes a connection from the handler when told to.
struct Closer;

impl Handler for Closer {
    fn on_event(&mut self, ctx: &mut Context<'_>, id: ConnectionId, event: Event<'_>) {
        if event == Event::Text("close me") {
            ctx.close(id, CloseCode::GOING_AWAY, "as asked").unwrap();
            assert!(matches!(ctx.send_text(id, "late"), Err(Error::Closed)));
        }
    }
}

/// Input that was already read while the output was full is delivered once the output drains, even though
/// no readiness event comes for it: here a close frame right behind two messages that each fill the output.
#[test]
fn input_read_while_the_output_was_full_is_delivered_when_it_drains() {
    let (echo, _notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), Config::default());
    let (mut ws, _) = wslane_mio::connect(&server.url()).unwrap();
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 7) as u8).collect();
    ws.feed(Message::binary(big.clone())).unwrap();
    ws.feed(Message::binary(big.clone())).unwrap();
    ws.feed(Message::Close(None)).unwrap();
    ws.flush().unwrap();
    assert_eq!(ws.recv().unwrap().unwrap(), Message::binary(big.clone()));
    assert_eq!(ws.recv().unwrap().unwrap(), Message::binary(big));
    assert_eq!(
        ws.recv().unwrap().unwrap(),
        Message::Close(Some(CloseFrame {
            code: CloseCode::NORMAL,
            reason: String::new()
        }))
    );
}

/// Answers each text message with what the context says of the connection while the event is borrowed.
struct Reporter;

impl Handler for Reporter {
    fn on_event(&mut self, ctx: &mut Context<'_>, id: ConnectionId, event: Event<'_>) {
        if let Event::Text(text) = event {
            let listed = ctx.connections().any(|c| c == id);
            let report = format!(
                "{text}: open {} state {:?} listed {listed} addr {} output {:?}",
                ctx.is_open(id),
                ctx.state(id),
                ctx.peer_addr(id).is_some(),
                ctx.buffered_output(id),
            );
            ctx.send_text(id, &report).unwrap();
            // A second reply to the same event goes out too, after the first.
            ctx.send(id, Message::binary(text.as_bytes().to_vec()))
                .unwrap();
        }
    }
}

#[test]
fn context_describes_the_connection_an_event_borrows() {
    let server = spawn(Reporter, ServerConfig::default(), Config::default());
    let (mut ws, _) = wslane_mio::connect(&server.url()).unwrap();
    ws.send(Message::text("hi")).unwrap();
    assert_eq!(
        ws.recv().unwrap().unwrap(),
        Message::text("hi: open true state Some(Open) listed true addr true output Some(0)")
    );
    assert_eq!(ws.recv().unwrap().unwrap(), Message::binary(b"hi".to_vec()));
    ws.close(CloseCode::NORMAL, "").unwrap();
}

#[test]
fn handler_close_reaches_the_client() {
    let server = spawn(Closer, ServerConfig::default(), Config::default());
    let (mut ws, _) = wslane_mio::connect(&server.url()).unwrap();
    ws.send(Message::text("close me")).unwrap();
    assert_eq!(
        ws.recv().unwrap().unwrap(),
        Message::Close(Some(CloseFrame {
            code: CloseCode::GOING_AWAY,
            reason: "as asked".into()
        }))
    );
    assert!(ws.recv().is_none());
}

#[test]
fn a_thousand_concurrent_connections() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 5;
    // Each connection takes a descriptor on both ends.
    let allowed = support::fd_limit(2 * 1000 + 200);
    let connections = if allowed >= 2 * 1000 + 200 {
        1000
    } else {
        let fit = (allowed.saturating_sub(200) / 2) as usize;
        eprintln!("descriptor limit {allowed}: testing {fit} connections instead of 1000");
        fit
    };
    let per_thread = connections / THREADS;

    let (echo, _notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), Config::default());
    let url = server.url();
    let start = Instant::now();
    let all_open = Arc::new(Barrier::new(THREADS));
    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            let url = url.clone();
            let all_open = Arc::clone(&all_open);
            std::thread::spawn(move || {
                let mut sockets: Vec<_> = (0..per_thread)
                    .map(|_| wslane_mio::connect(&url).unwrap().0)
                    .collect();
                all_open.wait();
                for round in 0..ROUNDS {
                    for (i, ws) in sockets.iter_mut().enumerate() {
                        let message = if round % 2 == 0 {
                            Message::text(format!("{t}/{i}/{round}"))
                        } else {
                            Message::binary(vec![round as u8; i % 300])
                        };
                        ws.send(message).unwrap();
                    }
                    for (i, ws) in sockets.iter_mut().enumerate() {
                        let expected = if round % 2 == 0 {
                            Message::text(format!("{t}/{i}/{round}"))
                        } else {
                            Message::binary(vec![round as u8; i % 300])
                        };
                        assert_eq!(ws.recv().unwrap().unwrap(), expected);
                    }
                }
                for ws in &mut sockets {
                    ws.close(CloseCode::NORMAL, "").unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let elapsed = start.elapsed();
    let echo = server.stop();
    assert_eq!(echo.max_open, per_thread * THREADS);
    assert_eq!(echo.echoed, (per_thread * THREADS * ROUNDS) as u64);
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    eprintln!(
        "{} connections x {ROUNDS} echoes in {elapsed:?}",
        per_thread * THREADS
    );
}

#[test]
fn a_slow_reader_does_not_stall_the_others() {
    let mut config = Config::default();
    config.max_output_buffer = 64 << 10;
    let (echo, notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), config);

    // Sends without ever reading: its echoes fill every buffer between the two ends, then the server stops
    // reading it and its own sends block.
    // Its sends fail once nothing has gone out for 500 ms (the connection's write timeout).
    let mut slow_config = Config::default();
    slow_config.write_timeout = Some(Duration::from_millis(500));
    let request = wslane_mio::ClientRequest::new(wslane_mio::Url::parse(&server.url()).unwrap());
    let (mut slow, _) = wslane_mio::connect_with(request, slow_config).unwrap();
    let flooding = std::thread::spawn(move || {
        let chunk = vec![7u8; 64 << 10];
        let mut sent = 0usize;
        for _ in 0..2000 {
            if slow.send(Message::binary(chunk.clone())).is_err() {
                return (sent, true);
            }
            sent += 1;
        }
        (sent, false)
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!flooding.is_finished(), "the flood should be held back");

    let start = Instant::now();
    assert_serving(&server.url());
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );

    let (sent, blocked) = flooding.join().unwrap();
    eprintln!("flood: {sent} sent, blocked after {:?}", start.elapsed());
    assert!(
        blocked,
        "the slow reader's sends never blocked ({sent} sent)"
    );
    drop(server);
    // The echo to the slow reader itself never found its buffer full: the loop paused it instead.
    while let Ok(note) = notes.try_recv() {
        assert!(!matches!(note, Note::SendError(..)), "{note:?}");
    }
}

#[test]
fn garbage_instead_of_a_handshake_gets_a_400() {
    let (echo, notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), Config::default());
    let (mut bystander, _) = wslane_mio::connect(&server.url()).unwrap();

    let mut tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");

    let error = wait_for(&notes, NOTE_WAIT, |note| match note {
        Note::HandshakeError(_, error) => Some(error),
        _ => None,
    });
    assert!(
        matches!(error, Error::Request(ServerError::Malformed)),
        "{error:?}"
    );
    round_trip(&mut bystander, Message::text("unaffected"));
    assert_serving(&server.url());
}

#[test]
fn garbage_after_the_upgrade_gets_a_1002() {
    let (echo, notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), Config::default());
    let (mut bystander, _) = wslane_mio::connect(&server.url()).unwrap();

    let (mut ws, _) = wslane_mio::connect(&server.url()).unwrap();
    // Reserved bits and a reserved opcode, bypassing the connection.
    ws.get_mut().write_all(&[0xff; 64]).unwrap();
    assert_eq!(
        ws.recv().unwrap().unwrap(),
        Message::Close(Some(CloseFrame {
            code: CloseCode::PROTOCOL_ERROR,
            reason: String::new()
        }))
    );
    assert!(ws.recv().is_none());

    let reason = wait_for(&notes, NOTE_WAIT, |note| match note {
        Note::Closed(_, reason) => Some(reason),
        _ => None,
    });
    assert!(
        matches!(&reason, CloseReason::Failed(Error::Protocol(_))),
        "{reason:?}"
    );
    assert_eq!(reason.code(), CloseCode::PROTOCOL_ERROR);
    round_trip(&mut bystander, Message::text("unaffected"));
}

#[test]
fn an_unfinished_handshake_is_dropped_at_the_timeout() {
    let mut server_config = ServerConfig::default();
    server_config.limits.timeout = Duration::from_millis(200);
    let (echo, notes) = Echo::new();
    let server = spawn(echo, server_config, Config::default());

    let start = Instant::now();
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut silent = TcpStream::connect(server.addr).unwrap();
    // Meanwhile, others are served.
    assert_serving(&server.url());

    for tcp in [&mut stalled, &mut silent] {
        tcp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(
            tcp.read(&mut [0; 64]).unwrap(),
            0,
            "dropped without an answer"
        );
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    for _ in 0..2 {
        let error = wait_for(&notes, NOTE_WAIT, |note| match note {
            Note::HandshakeError(_, error) => Some(error),
            _ => None,
        });
        assert!(
            matches!(&error, Error::Io(err) if err.kind() == std::io::ErrorKind::TimedOut),
            "{error:?}"
        );
    }
}

#[test]
fn keepalive_times_out_a_silent_peer() {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_millis(100));
    config.pong_timeout = Duration::from_millis(100);
    let (echo, notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), config);

    // Never reads, so never answers the server's pings.
    let (silent, _) = wslane_mio::connect(&server.url()).unwrap();
    let silent_addr = silent.get_ref().local_addr().unwrap();
    // Reads, so answers them.
    let (mut lively, _) = wslane_mio::connect(&server.url()).unwrap();
    let lively_tcp = lively.get_ref().try_clone().unwrap();
    let reader = std::thread::spawn(move || loop {
        match lively.recv() {
            Some(Ok(Message::Close(frame))) => return frame,
            Some(Ok(_)) => {}
            Some(Err(err)) => panic!("the lively client failed: {err}"),
            None => panic!("the lively client ended without a close message"),
        }
    });

    let start = Instant::now();
    let mut ids = std::collections::HashMap::new();
    let (id, reason) = wait_for(&notes, NOTE_WAIT, |note| match note {
        Note::Open(id, addr) => {
            ids.insert(id, addr);
            None
        }
        Note::Closed(id, reason) => Some((id, reason)),
        _ => None,
    });
    let elapsed = start.elapsed();
    assert_eq!(
        ids.get(&id),
        Some(&silent_addr),
        "the silent one goes first"
    );
    assert!(
        matches!(
            reason,
            CloseReason::Failed(Error::Protocol(wslane::Error::KeepaliveTimeout))
        ),
        "{reason:?}"
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");

    // The lively one stays open across several intervals.
    std::thread::sleep(Duration::from_millis(400));
    assert!(!reader.is_finished());
    while let Ok(note) = notes.try_recv() {
        assert!(!matches!(note, Note::Closed(..)), "{note:?}");
    }
    lively_tcp.shutdown(std::net::Shutdown::Both).unwrap();
    let frame = reader.join().unwrap().unwrap();
    assert_eq!(frame.code, CloseCode::ABNORMAL_CLOSURE);
    drop(silent);
}

/// Forwards every text message to the first connection, which never reads.
struct Forward {
    target: Option<ConnectionId>,
    results: Vec<Result<(), Error>>,
}

impl Handler for Forward {
    fn on_open(&mut self, _: &mut Context<'_>, id: ConnectionId) {
        self.target.get_or_insert(id);
    }

    fn on_event(&mut self, ctx: &mut Context<'_>, _: ConnectionId, event: Event<'_>) {
        if let (Event::Text(_), Some(target)) = (event, self.target) {
            let chunk = vec![0u8; 64 << 10];
            for _ in 0..8 {
                self.results.push(ctx.send_binary(target, &chunk));
            }
        }
    }
}

#[test]
fn sending_to_a_full_connection_is_buffer_full() {
    let mut config = Config::default();
    config.max_output_buffer = 256 << 10;
    let handler = Forward {
        target: None,
        results: Vec::new(),
    };
    let server = spawn(handler, ServerConfig::default(), config);
    let (_target, _) = wslane_mio::connect(&server.url()).unwrap();
    let request = ClientRequest::new(Url::parse(&server.url()).unwrap());
    let (mut sender, _) = wslane_mio::connect_with(request, Config::default()).unwrap();
    sender.send(Message::text("go")).unwrap();
    // A round trip through the loop: the close handshake completes only after "go" was handled.
    sender.close(CloseCode::NORMAL, "").unwrap();
    let handler = server.stop();
    let full = handler
        .results
        .iter()
        .filter(|r| matches!(r, Err(Error::Send(SendError::BufferFull))))
        .count();
    assert_eq!(handler.results.len(), 8);
    assert_eq!(full, 4, "{:?}", handler.results);
}

#[test]
fn an_oversized_head_gets_a_431() {
    let (echo, _notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), Config::default());
    let mut tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    while head.len() < 16 << 10 {
        head.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    tcp.write_all(&head).unwrap();
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    assert_serving(&server.url());
}

/// Reassembles fragments and echoes each whole message as binary.
#[derive(Default)]
struct Reassemble {
    message: Vec<u8>,
    pieces: usize,
}

impl Handler for Reassemble {
    fn on_event(&mut self, ctx: &mut Context<'_>, id: ConnectionId, event: Event<'_>) {
        if let Event::Fragment(fragment) = event {
            if fragment.first {
                self.message.clear();
            }
            self.message.extend_from_slice(fragment.data);
            self.pieces += 1;
            if fragment.fin {
                ctx.send_binary(id, &self.message).unwrap();
            }
        }
    }
}

#[test]
fn fragments_mode_hands_out_pieces() {
    let mut config = Config::default();
    config.receive_mode = wslane_mio::ReceiveMode::Fragments;
    let server = spawn(Reassemble::default(), ServerConfig::default(), config);
    let mut client_config = Config::default();
    client_config.fragment_size = Some(10);
    let request = ClientRequest::new(Url::parse(&server.url()).unwrap());
    let (mut ws, _) = wslane_mio::connect_with(request, client_config).unwrap();
    let text = "twenty-five bytes of text";
    ws.send(Message::text(text)).unwrap();
    assert_eq!(
        ws.recv().unwrap().unwrap(),
        Message::binary(text.as_bytes())
    );
    ws.close(CloseCode::NORMAL, "").unwrap();
    let handler = server.stop();
    assert_eq!(handler.pieces, 3);
}

#[test]
fn close_all_drives_every_connection_to_the_end() {
    let (mut echo, _notes) = Echo::new();
    let mut server = wslane_mio::Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        ServerConfig::default(),
        Config::default(),
    )
    .unwrap();
    let url = format!("ws://{}/", server.local_addr().unwrap());
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let (mut ws, _) = wslane_mio::connect(&url).unwrap();
                let close = ws.recv().unwrap().unwrap();
                assert!(ws.recv().is_none());
                close
            })
        })
        .collect();
    let start = Instant::now();
    server.run_until(&mut echo, |echo| echo.open == 3).unwrap();
    server.close_all(CloseCode::GOING_AWAY, "shutting down");
    while server.connections() > 0 {
        assert!(start.elapsed() < Duration::from_secs(5), "still open");
        server
            .poll_once(&mut echo, Some(Duration::from_millis(100)))
            .unwrap();
    }
    assert_eq!(echo.open, 0);
    for client in clients {
        assert_eq!(
            client.join().unwrap(),
            Message::Close(Some(CloseFrame {
                code: CloseCode::GOING_AWAY,
                reason: "shutting down".into()
            }))
        );
    }
}

#[test]
fn a_frame_in_the_same_segment_as_the_request_is_not_lost() {
    let (echo, _notes) = Echo::new();
    let server = spawn(echo, ServerConfig::default(), Config::default());
    let mut tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut bytes = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    // A masked "Hello" (RFC 6455 section 5.7).
    bytes.extend_from_slice(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    tcp.write_all(&bytes).unwrap();
    let expected_frame = [0x81, 0x05, b'H', b'e', b'l', b'l', b'o'];
    let mut received = Vec::new();
    let mut buf = [0; 1024];
    while !received.ends_with(&expected_frame) {
        let n = tcp.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "ended early: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&received);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
}

/// Answers a plain `GET /` with a page, and nothing else: other plain requests keep the default refusal.
struct Page {
    echo: Echo,
}

const PAGE_BODY: &str = "<!doctype html><title>page</title>";

impl Handler for Page {
    fn on_event(&mut self, ctx: &mut Context<'_>, id: ConnectionId, event: Event<'_>) {
        self.echo.on_event(ctx, id, event);
    }

    fn on_http_get(&mut self, _: std::net::SocketAddr, target: &str) -> Option<Vec<u8>> {
        (target == "/").then(|| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{PAGE_BODY}",
                PAGE_BODY.len()
            )
            .into_bytes()
        })
    }

    fn on_handshake_error(&mut self, peer: std::net::SocketAddr, error: Error) {
        self.echo.on_handshake_error(peer, error);
    }
}

/// Sends `request` on a new connection and reads the answer to its end.
fn plain_request(addr: std::net::SocketAddr, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).unwrap();
    String::from_utf8(response).unwrap()
}

#[test]
fn a_plain_get_is_answered_by_the_handler_and_upgrades_still_work() {
    let (echo, notes) = Echo::new();
    let server = spawn(Page { echo }, ServerConfig::default(), Config::default());

    let page = plain_request(server.addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.ends_with(PAGE_BODY), "{page}");
    // Answered, so not a failed handshake (the note would have come before the response).
    assert!(notes.try_recv().is_err());

    // The handler declines another target: the default 400, reported as a failed handshake.
    let other = plain_request(server.addr, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(other.starts_with("HTTP/1.1 400 "), "{other}");
    let error = wait_for(&notes, NOTE_WAIT, |note| match note {
        Note::HandshakeError(_, error) => Some(error),
        _ => None,
    });
    assert!(
        matches!(error, Error::Request(ServerError::NotWebSocketUpgrade)),
        "{error:?}"
    );
    // Only upgrade requests reach the WebSocket side, on `/` too.
    assert_serving(&server.url());
}
