//! Interop over loopback with independent implementations (see the `wslane-interop` crate): Python
//! `websockets` and Node `ws` clients against the `echo_server` example, our client against their echo
//! servers, and Chromium through the pages of the examples: `chat` (with each of its front ends: the raw
//! adapter, axum, and axum over TLS with HTTP/2; and two processes sharing rooms through Redis), `ticker`
//! (across a server restart) and the client page `echo_server` serves. The page tests save screenshots in `target/interop/artifacts/`.
//!
//! The peers come from `scripts/setup-interop.sh`; the examples must be built as binaries first, which
//! `cargo test` with the default targets does (`scripts/test.sh`). A missing peer fails these tests.
//! The base checks keep permessage-deflate off; the `deflate` tests turn it on (Python `websockets` both
//! ways, and Chromium).

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use wslane::State;
use wslane_interop::{Peer, TIMEOUT};
use wslane_tokio::{
    ClientRequest, CloseCode, CloseFrame, Config, Connector, MaybeTlsStream, Message, Url,
    WebSocketStream,
};

const PACKAGE: &str = "wslane-tokio";

#[test]
fn python_client_against_echo_server() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, "echo_server");
    wslane_interop::run_client(Peer::Python, &url);
}

#[test]
fn node_client_against_echo_server() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, "echo_server");
    wslane_interop::run_client(Peer::Node, &url);
}

#[test]
fn client_against_python_server() {
    client_against(Peer::Python);
}

#[test]
fn client_against_node_server() {
    client_against(Peer::Node);
}

#[test]
fn browser_chat_two_pages() {
    let (chat, url) = wslane_interop::spawn_chat(PACKAGE);
    let output = wslane_interop::check_browser_chat(&url);
    expect_members_joined_over(&chat, &output, "HTTP/1.1");
}

/// The chat's axum front end (`--axum`) serves the same page and room; Chromium speaks HTTP/1.1 to it
/// (browsers do not use h2c), and the server logs both members as joined over HTTP/1.1.
#[test]
fn browser_chat_two_pages_through_axum() {
    let (chat, url) = wslane_interop::spawn_chat_with(PACKAGE, &["--axum"]);
    let output = wslane_interop::check_browser_chat_saving(&url, "chat-axum.png");
    expect_members_joined_over(&chat, &output, "HTTP/1.1");
}

/// The chat over TLS (`--tls`): Chromium accepts its self-signed certificate, loads the page over HTTP/2
/// (ALPN `h2`), and, since the server's SETTINGS allow the extended CONNECT, opens each page's WebSocket
/// as a stream of that connection (RFC 8441) on its own. The server logs both members as joined over
/// HTTP/2, and the two pages chat.
#[test]
fn browser_chat_over_tls_opens_its_websockets_over_http2() {
    let (chat, url) = wslane_interop::spawn_chat_with(PACKAGE, &["--tls"]);
    assert!(url.starts_with("https://"), "{url}");
    let output = wslane_interop::check_browser_chat_saving(&url, "chat-tls.png");
    expect_members_joined_over(&chat, &output, "HTTP/2");
}

/// Two chat processes sharing their rooms through Redis (`--redis`; the second through axum): one page on
/// each chats with the other, the join notice of each crossing over too. Each process logs its own page's
/// member as joined, with its own tag. Saves `chat-redis.png` (the first page, showing the second's line).
#[test]
fn browser_chat_two_pages_on_two_processes_over_redis() {
    let redis = wslane_interop::RedisServer::start();
    let url = redis.url();
    let linked = |flags: &[&str]| {
        let mut args = vec!["--redis", url.as_str()];
        args.extend_from_slice(flags);
        let (mut chat, page) = wslane_interop::spawn_chat_with(PACKAGE, &args);
        chat.wait_for_output("the Redis link", TIMEOUT, |out| {
            out.contains("redis: relaying rooms through ")
        });
        (chat, page)
    };
    let (one, page_one) = linked(&[]);
    let (two, page_two) = linked(&["--axum"]);
    let output = wslane_interop::check_browser_chat_across(&page_one, &page_two, "chat-redis.png");
    let names: Vec<&str> = output
        .lines()
        .filter_map(|line| line.split(" connected as ").nth(1))
        .collect();
    assert_eq!(names.len(), 2, "{output}");
    for (chat, name) in [(&one, names[0]), (&two, names[1])] {
        let joined = format!("{name} joined over HTTP/1.1");
        let log = chat.output();
        assert!(
            log.lines().any(|line| line == joined),
            "no {joined:?} in:\n{log}"
        );
    }
}

/// The members the browser script saw (its `connected as guest-<n>` lines) are the ones the chat logged
/// as `guest-<n> joined over <version>`, and no member joined over another version.
fn expect_members_joined_over(chat: &wslane_interop::Process, script: &str, version: &str) {
    let names: Vec<&str> = script
        .lines()
        .filter_map(|line| line.split(" connected as ").nth(1))
        .collect();
    assert_eq!(names.len(), 2, "{script}");
    let log = chat.output();
    for name in names {
        let joined = format!("{name} joined over {version}");
        assert!(
            log.lines().any(|line| line == joined),
            "no {joined:?} in:\n{log}"
        );
    }
    let joins: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" joined over "))
        .collect();
    assert!(
        joins
            .iter()
            .all(|line| line.ends_with(&format!(" over {version}"))),
        "{joins:?}"
    );
}

#[test]
fn browser_ticker_updates_and_reconnects_after_a_restart() {
    wslane_interop::check_browser_ticker(PACKAGE);
}

#[test]
fn browser_client_page_of_echo_server() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, "echo_server");
    wslane_interop::check_browser_client(&wslane_interop::page_url(&url), "client-tokio");
}

/// Our client against `peer`'s echo server: the echo checks the peer clients run, from our side, and the
/// three ways a connection closes (a close message we send and read back, `close`, and a close the server
/// starts), each over its own connection.
fn client_against(peer: Peer) {
    let (mut server, url) = wslane_interop::spawn_peer_server(peer);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    runtime.block_on(bounded(echo_checks(&url)));
    wslane_interop::expect_peer_saw_close(&mut server, 4000, Some("interop done"));

    runtime.block_on(bounded(fragmented_and_close(&url)));
    wslane_interop::expect_peer_saw_close(&mut server, 4001, Some("closed with close()"));

    runtime.block_on(bounded(server_closes(&url)));
    // Our answer carries the server's code; the reason is ours to choose.
    wslane_interop::expect_peer_saw_close(&mut server, 4002, None);
    drop(server);
}

/// Runs `test` under the interop time bound.
async fn bounded(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TIMEOUT, test)
        .await
        .unwrap_or_else(|_| panic!("not done within {TIMEOUT:?}"));
}

type Socket = WebSocketStream<MaybeTlsStream>;

/// The next message, which must come within the time bound.
async fn next(ws: &mut Socket, what: &str) -> Option<Message> {
    match tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
        Ok(Some(Ok(message))) => Some(message),
        Ok(Some(Err(err))) => panic!("{what}: error {err:?}"),
        Ok(None) => None,
        Err(_) => panic!("{what}: nothing arrived"),
    }
}

/// A message in a few words (1 MiB payloads are not printed).
fn describe(message: &Message) -> String {
    let kind = match message {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
        Message::Ping(_) => "ping",
        Message::Pong(_) => "pong",
        Message::Close(frame) => return format!("close {frame:?}"),
    };
    let bytes = message.as_bytes();
    if bytes.len() > 40 {
        format!("{kind} of {} bytes", bytes.len())
    } else {
        format!("{kind} {bytes:?}")
    }
}

async fn expect_echo(ws: &mut Socket, name: &str, message: Message) {
    ws.send(message.clone())
        .await
        .unwrap_or_else(|err| panic!("{name}: send failed: {err:?}"));
    let got = next(ws, name).await;
    assert!(
        got.as_ref() == Some(&message),
        "{name}: sent {}, got {:?}",
        describe(&message),
        got.as_ref().map(describe)
    );
}

fn mib_binary() -> Vec<u8> {
    (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect()
}

async fn echo_checks(url: &str) {
    let (mut ws, _response) = wslane_tokio::connect(url).await.expect("connect");
    expect_echo(&mut ws, "text", Message::text("hello, wslane ✓ 🦀")).await;
    expect_echo(
        &mut ws,
        "binary",
        Message::binary((0..=255).collect::<Vec<u8>>()),
    )
    .await;
    expect_echo(&mut ws, "empty text", Message::text("")).await;
    expect_echo(&mut ws, "empty binary", Message::binary(Vec::new())).await;
    expect_echo(&mut ws, "1 MiB binary", Message::binary(mib_binary())).await;
    expect_echo(&mut ws, "1 MiB text", Message::text("é".repeat(1 << 19))).await;

    let payload = b"wslane-ping\x00\xff".to_vec();
    ws.send(Message::Ping(payload.clone())).await.expect("ping");
    let got = next(&mut ws, "ping").await;
    assert_eq!(got, Some(Message::Pong(payload)), "ping: the pong");

    let ours = CloseFrame {
        code: CloseCode::new(4000).expect("a valid code"),
        reason: "interop done".into(),
    };
    ws.send(Message::Close(Some(ours.clone())))
        .await
        .expect("close");
    match next(&mut ws, "close").await {
        Some(Message::Close(Some(frame))) => {
            assert_eq!(frame.code, ours.code, "close: the peer's code ({frame:?})");
        }
        other => panic!("close: expected the peer's close, got {other:?}"),
    }
    assert_eq!(next(&mut ws, "end").await, None, "close: the stream ends");
    assert_eq!(ws.connection().state(), State::Closed);
}

async fn fragmented_and_close(url: &str) {
    // Outgoing messages split into 1000-byte frames, so multi-byte characters straddle frame boundaries;
    // the peer reassembles and validates them.
    let mut config = Config::default();
    config.fragment_size = Some(1000);
    let request = ClientRequest::new(Url::parse(url).expect("url"));
    let (mut ws, _response) = wslane_tokio::connect_with(request, config, Connector::Default)
        .await
        .expect("connect");
    let text: String = "a€𝄞é".repeat(30_000);
    expect_echo(&mut ws, "fragmented text", Message::text(text)).await;
    expect_echo(&mut ws, "fragmented binary", Message::binary(mib_binary())).await;

    let code = CloseCode::new(4001).expect("a valid code");
    ws.close(code, "closed with close()")
        .await
        .expect("close()");
    assert_eq!(ws.connection().state(), State::Closed);
}

/// The server starts the close: we get its code and reason, answer with its code, and the stream ends.
async fn server_closes(url: &str) {
    let (mut ws, _response) = wslane_tokio::connect(url).await.expect("connect");
    expect_echo(&mut ws, "text", Message::text("before the close")).await;
    ws.send(Message::text("close-me 4002 server says bye"))
        .await
        .expect("send");
    match next(&mut ws, "server close").await {
        Some(Message::Close(Some(frame))) => {
            assert_eq!(frame.code.get(), 4002, "server close: the code ({frame:?})");
            assert_eq!(frame.reason, "server says bye", "server close: the reason");
        }
        other => panic!("server close: expected the server's close, got {other:?}"),
    }
    assert_eq!(
        next(&mut ws, "end").await,
        None,
        "server close: the stream ends"
    );
    assert_eq!(ws.connection().state(), State::Closed);
}

/// permessage-deflate with Python `websockets` (compression on, its default) as the client.
#[test]
fn python_deflate_client_against_echo_server() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, "echo_server");
    wslane_interop::check_deflate_client_against(&url);
}

/// permessage-deflate with Chromium as the client, messages up to 1 MiB.
#[test]
fn browser_deflate_echo() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, "echo_server");
    wslane_interop::check_browser_echo(&url);
}

/// permessage-deflate with our client against Python `websockets`' server (which limits both windows to 12
/// bits when the client allows it): messages of many sizes, compressible and not.
#[test]
fn deflate_client_against_python_server() {
    let (mut server, url) = wslane_interop::spawn_python_deflate_server();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bounded(async {
        let request = ClientRequest::new(Url::parse(&url).unwrap())
            .extension(std::sync::Arc::new(
                wslane_tokio::PerMessageDeflate::default(),
            ))
            .unwrap();
        let (mut ws, response) =
            wslane_tokio::connect_with(request, Config::default(), Connector::Default)
                .await
                .unwrap();
        let negotiated = response
            .headers
            .get_str("sec-websocket-extensions")
            .unwrap_or("");
        assert!(
            negotiated.starts_with("permessage-deflate"),
            "{negotiated:?}"
        );
        let mut seed = 6455u32;
        for size in [0usize, 1, 100, 1000, 65536, 300_000, 1 << 20] {
            let text: String = "wslane déflate ✓ ".chars().cycle().take(size).collect();
            let noise: Vec<u8> = (0..size)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            for message in [Message::text(text.clone()), Message::binary(noise)] {
                ws.send(message.clone()).await.unwrap();
                assert_eq!(
                    ws.next().await.transpose().unwrap(),
                    Some(message),
                    "{size} bytes"
                );
            }
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    }));
    server.wait_for_line("the server's negotiation line", TIMEOUT, |line| {
        line.starts_with("negotiated permessage-deflate")
    });
}

/// The chat example with a member that never reads: the example cuts it off (its output is full) and logs
/// "too slow"; within one second of that line its socket has ended (the member reads all that was queued,
/// then the end of the stream), while the two members that read receive every line, before and after.
#[test]
fn chat_cuts_off_a_member_that_never_reads() {
    chat_cuts_off_a_member_that_never_reads_with(&[]);
}

/// The same through the axum front end (over HTTP/1.1), which shares the room.
#[test]
fn chat_through_axum_cuts_off_a_member_that_never_reads() {
    chat_cuts_off_a_member_that_never_reads_with(&["--axum"]);
}

fn chat_cuts_off_a_member_that_never_reads_with(flags: &[&str]) {
    let (chat, url) = wslane_interop::spawn_chat_with(PACKAGE, flags);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bounded(chat_with_a_stalled_member(&chat, &url)));
    let output = chat.output();
    assert_eq!(output.matches("too slow").count(), 1, "{output}");
}

async fn chat_with_a_stalled_member(chat: &wslane_interop::Process, page: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Lines sent before the cut-off, at most, and after it.
    const AT_MOST: usize = 5000;
    const AFTER: usize = 20;
    /// Lines the sender may have ahead of the slowest reading member, so that neither falls behind.
    const WINDOW: usize = 16;
    const PROMPTLY: Duration = Duration::from_secs(1);

    let origin = page.trim_end_matches('/');
    let ws_url = format!("{}/ws", origin.replacen("http://", "ws://", 1));
    let line = "x".repeat(4000);

    // The member that never reads: a small receive buffer, the handshake by hand, then silence.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(8 << 10).unwrap();
    let addr: std::net::SocketAddr = origin.trim_start_matches("http://").parse().unwrap();
    let mut stalled = socket.connect(addr).await.unwrap();
    let request = support::raw_request("13")
        .replacen("GET / ", "GET /ws ", 1)
        .replacen("Host: localhost", &format!("Host: {addr}"), 1)
        .replace("\r\n\r\n", &format!("\r\nOrigin: {origin}\r\n\r\n"));
    stalled.write_all(request.as_bytes()).await.unwrap();
    let head = support::read_head(&mut stalled).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");

    // Two members that read: each counts the lines that came from the sender.
    let member = || async {
        let request = ClientRequest::new(Url::parse(&ws_url).unwrap())
            .origin(origin)
            .unwrap();
        let (mut ws, _) =
            wslane_tokio::connect_with(request, Config::default(), Connector::Default)
                .await
                .unwrap();
        // The handshake ends before the chat puts the member in the room, which it does just before it
        // tells everyone, this member included, that it joined: a line sent before that notice arrives
        // would not reach this member.
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) if text.contains(" joined\"") => break,
                Some(Ok(_)) => {}
                other => panic!("no join notice: {other:?}"),
            }
        }
        let (mut reader, writer) = ws.split();
        let (count_tx, count) = tokio::sync::watch::channel(0usize);
        tokio::spawn(async move {
            while let Some(Ok(message)) = reader.next().await {
                if matches!(&message, Message::Text(text) if text.contains("xxxx")) {
                    count_tx.send_modify(|n| *n += 1);
                }
            }
        });
        (writer, count)
    };
    let (mut sender, mut sender_count) = member().await;
    let (_other, mut other_count) = member().await;
    let mut sent = 0usize;

    // Send until the chat cuts the stalled member off, keeping the readers within the window.
    let cut_off = loop {
        assert!(
            sent < AT_MOST,
            "no cut-off after {sent} lines:\n{}",
            chat.output()
        );
        for count in [&mut sender_count, &mut other_count] {
            count
                .wait_for(|n| n + WINDOW >= sent)
                .await
                .expect("a reading member fell out");
        }
        sender.send(Message::text(line.clone())).await.unwrap();
        sent += 1;
        if chat.output().contains("too slow") {
            break std::time::Instant::now();
        }
    };

    // The stalled member's socket has ended: what was queued, then the end of the stream.
    let drained = tokio::time::timeout_at((cut_off + PROMPTLY).into(), async {
        let mut sink = [0u8; 64 << 10];
        while stalled.read(&mut sink).await.unwrap_or(0) > 0 {}
    })
    .await;
    assert!(
        drained.is_ok(),
        "the stalled member's socket was still open a second after the cut-off"
    );

    // The others keep receiving every line.
    for _ in 0..AFTER {
        sender.send(Message::text(line.clone())).await.unwrap();
        sent += 1;
    }
    for count in [&mut sender_count, &mut other_count] {
        count
            .wait_for(|n| *n == sent)
            .await
            .expect("a reading member fell out");
    }
}
