//! The blocking client against the blocking server: echo, close with a code, refusal, handshake timeout.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wslane_mio::{
    Acceptance, ClientError, CloseCode, CloseFrame, Config, Error, Message, Rejection,
    ServerConfig, WebSocket,
};

/// A blocking echo server for one connection; returns the close message it saw.
fn echo_once(config: Config) -> (String, JoinHandle<Result<Option<CloseFrame>, Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/echo", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept()?;
        let mut ws = wslane_mio::accept_with(tcp, ServerConfig::default(), config, |request| {
            assert_eq!(request.path(), "/echo");
            Ok(Acceptance::new())
        })?;
        let mut close = None;
        loop {
            match ws.recv() {
                Some(Ok(message)) if message.is_data() => ws.send(message)?,
                Some(Ok(Message::Close(frame))) => close = frame,
                Some(Ok(_)) => {}
                None => return Ok(close),
                Some(Err(err)) => return Err(err),
            }
        }
    });
    (url, server)
}

fn round_trip(ws: &mut WebSocket<TcpStream>, message: Message) {
    ws.send(message.clone()).unwrap();
    assert_eq!(ws.recv().unwrap().unwrap(), message);
}

#[test]
fn blocking_echo_text_binary_empty_large_and_close_code() {
    let (url, server) = echo_once(Config::default());
    let (mut ws, upgrade) = wslane_mio::connect(&url).unwrap();
    assert_eq!(upgrade.protocol, None);
    round_trip(&mut ws, Message::text("hello"));
    round_trip(&mut ws, Message::binary(vec![0, 1, 2, 255]));
    round_trip(&mut ws, Message::text(""));
    round_trip(&mut ws, Message::binary(Vec::new()));
    let large: Vec<u8> = (0..1 << 20).map(|i| (i * 7) as u8).collect();
    round_trip(&mut ws, Message::binary(large));

    // Pipelined: fed, flushed once, read back in order.
    for i in 0..50 {
        ws.feed(Message::text(format!("m{i}"))).unwrap();
    }
    ws.flush().unwrap();
    for i in 0..50 {
        assert_eq!(ws.recv().unwrap().unwrap(), Message::text(format!("m{i}")));
    }

    let code = CloseCode::new(4000).unwrap();
    ws.close(code, "bye").unwrap();
    assert!(ws.recv().is_none());
    assert!(matches!(ws.send(Message::text("late")), Err(Error::Closed)));
    let close = server.join().unwrap().unwrap();
    assert_eq!(
        close,
        Some(CloseFrame {
            code,
            reason: "bye".into()
        })
    );
}

#[test]
fn server_close_is_delivered_then_the_end() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut ws = wslane_mio::accept(tcp).unwrap();
        assert_eq!(ws.recv().unwrap().unwrap(), Message::text("close me"));
        ws.close(CloseCode::GOING_AWAY, "done").unwrap();
    });
    let (mut ws, _) = wslane_mio::connect(&url).unwrap();
    ws.send(Message::text("close me")).unwrap();
    assert_eq!(
        ws.recv().unwrap().unwrap(),
        Message::Close(Some(CloseFrame {
            code: CloseCode::GOING_AWAY,
            reason: "done".into()
        }))
    );
    assert!(ws.recv().is_none());
    server.join().unwrap();
}

#[test]
fn refusal_reaches_the_client_with_its_status() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/private", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let result =
            wslane_mio::accept_with(tcp, ServerConfig::default(), Config::default(), |_| {
                Err(Rejection::new(403).unwrap())
            });
        assert!(matches!(result, Err(Error::Rejected { status: 403 })));
    });
    let err = wslane_mio::connect(&url).unwrap_err();
    assert_eq!(err.http_status(), Some(403), "{err}");
    assert!(matches!(
        &err,
        Error::Response(response) if matches!(**response, ClientError::Status { code: 403, .. })
    ));
    server.join().unwrap();
}

#[test]
fn blocking_accept_gives_up_at_the_handshake_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let (tcp, _) = listener.accept().unwrap();
    let mut server = ServerConfig::default();
    server.limits.timeout = Duration::from_millis(200);
    let start = Instant::now();
    let result = wslane_mio::accept_with(tcp, server, Config::default(), |_| Ok(Acceptance::new()));
    let elapsed = start.elapsed();
    match result {
        Err(Error::Io(err)) => assert_eq!(err.kind(), std::io::ErrorKind::TimedOut),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    // The socket was dropped: the client sees the end.
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(client.read(&mut [0; 16]).unwrap(), 0);
}

#[test]
fn blocking_client_keepalive_fails_a_silent_server() {
    // A "server" that completes the handshake and then never reads or answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let ws = wslane_mio::accept(tcp).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        drop(ws);
    });
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_millis(100));
    config.pong_timeout = Duration::from_millis(100);
    let request = wslane_mio::ClientRequest::new(wslane_mio::Url::parse(&url).unwrap());
    let (mut ws, _) = wslane_mio::connect_with(request, config).unwrap();
    let start = Instant::now();
    match ws.recv() {
        Some(Err(Error::Protocol(wslane::Error::KeepaliveTimeout))) => {}
        other => panic!("expected a keepalive timeout, got {other:?}"),
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(1),
        "{elapsed:?}"
    );
    assert!(ws.recv().is_none());
    server.join().unwrap();
}

/// The write timeout on a blocking transport: a send to a peer that never reads fails once the socket
/// took nothing for `write_timeout`, with the connection's error.
#[test]
fn blocking_send_to_a_peer_that_never_reads_fails_at_the_write_timeout() {
    // A "server" that completes the handshake and then never reads.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let ws = wslane_mio::accept(tcp).unwrap();
        let _ = done_rx.recv_timeout(Duration::from_secs(10));
        drop(ws);
    });
    let mut config = Config::default();
    config.ping_interval = None;
    config.write_timeout = Some(Duration::from_millis(200));
    let request = wslane_mio::ClientRequest::new(wslane_mio::Url::parse(&url).unwrap());
    let (mut ws, _) = wslane_mio::connect_with(request, config).unwrap();
    let start = Instant::now();
    // Far more than the two sockets' buffers hold.
    let result = ws.send(Message::binary(vec![7; 32 << 20]));
    let elapsed = start.elapsed();
    done_tx.send(()).unwrap();
    match result {
        Err(Error::Protocol(wslane::Error::WriteTimeout)) => {}
        other => panic!("expected a write timeout, got {other:?}"),
    }
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(ws.connection().state(), wslane::State::Failed);
    server.join().unwrap();
}
