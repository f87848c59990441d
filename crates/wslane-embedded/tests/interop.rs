//! The embedded adapter on a host, over real TCP sockets (tokio's, through `embedded-io-adapters`), against
//! Python `websockets` (see the `wslane-interop` crate): its client against the adapter's echo server
//! example, and the adapter's client against its echo server, with 1 KiB buffers on our side: messages
//! larger than that are received as fragments and sent in pieces, and close codes go both ways. A
//! missing peer fails these tests; `scripts/test.sh` installs them.

#[path = "../examples/support/tokio_clock.rs"]
mod tokio_clock;

use embedded_io_adapters::tokio_1::FromTokio;
use tokio::net::TcpStream;
use tokio_clock::TokioClock;
use wslane::mask_keys::ChaChaKeys;
use wslane::unbuffered::handshake::ClientRequest;
use wslane::{CloseCode, DataKind};
use wslane_embedded::{connect, Error, Event, Options, WebSocket};
use wslane_interop::Peer;

#[test]
fn python_client_against_embedded_echo_server() {
    let (_server, url) =
        wslane_interop::spawn_echo_server("wslane-embedded", "embedded_echo_server");
    wslane_interop::run_client(Peer::Python, &url);
}

type Client<'b> = WebSocket<'b, FromTokio<TcpStream>, TokioClock, ChaChaKeys>;

/// The next whole message, reassembled from fragments when it came in pieces.
async fn message(ws: &mut Client<'_>) -> (DataKind, Vec<u8>) {
    let mut whole = Vec::new();
    loop {
        match ws.next().await.expect("an event") {
            Event::Text(text) => return (DataKind::Text, text.as_bytes().to_vec()),
            Event::Binary(data) => return (DataKind::Binary, data.to_vec()),
            Event::Fragment(piece) => {
                whole.extend_from_slice(piece.data);
                if piece.fin {
                    return (piece.kind, whole);
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// `host:port` of a `ws://host:port/` URL.
fn authority(url: &str) -> &str {
    url.trim_start_matches("ws://").trim_end_matches('/')
}

/// Connects to the peer echo server at `url` with 1 KiB buffers.
async fn open<'b>(url: &str, nonce: [u8; 16], rx: &'b mut [u8], tx: &'b mut [u8]) -> Client<'b> {
    let host = authority(url);
    let request = ClientRequest::new(host, "/").unwrap();
    let stream = TcpStream::connect(host).await.unwrap();
    let (ws, protocol) = connect(
        FromTokio::new(stream),
        TokioClock::new(),
        &request,
        nonce,
        ChaChaKeys::from_seed([nonce[0]; 32]),
        Options::default(),
        rx,
        tx,
    )
    .await
    .unwrap();
    assert_eq!(protocol, None);
    ws
}

#[tokio::test(flavor = "current_thread")]
async fn embedded_client_against_python_server() {
    let (mut server, url) = wslane_interop::spawn_peer_server(Peer::Python);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
    let mut ws = open(&url, *b"sixteen random b", &mut rx, &mut tx).await;

    ws.send_text("héllo ✓").await.unwrap();
    assert_eq!(message(&mut ws).await, (DataKind::Text, "héllo ✓".into()));
    ws.send_binary(&[0, 1, 2, 255]).await.unwrap();
    assert_eq!(
        message(&mut ws).await,
        (DataKind::Binary, vec![0, 1, 2, 255])
    );
    ws.send_text("").await.unwrap();
    assert_eq!(message(&mut ws).await, (DataKind::Text, vec![]));

    // 5000 bytes: sent in pieces of 700 (continuation frames), echoed by websockets in one frame,
    // received through the 1 KiB buffer as fragments.
    let big: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    for (i, piece) in big.chunks(700).enumerate() {
        let fin = (i + 1) * 700 >= big.len();
        ws.send_fragment(DataKind::Binary, piece, fin)
            .await
            .unwrap();
    }
    assert_eq!(message(&mut ws).await, (DataKind::Binary, big));
    // Text in pieces that split a character.
    let text = "é".repeat(450);
    let (a, b) = text.as_bytes().split_at(301);
    ws.send_fragment(DataKind::Text, a, false).await.unwrap();
    ws.send_fragment(DataKind::Text, b, true).await.unwrap();
    assert_eq!(message(&mut ws).await, (DataKind::Text, text.into_bytes()));

    ws.ping(b"are you there").await.unwrap();
    match ws.next().await.unwrap() {
        Event::Pong(payload) => assert_eq!(payload, b"are you there"),
        other => panic!("expected the pong, got {other:?}"),
    }

    ws.close(CloseCode::new(4000).unwrap(), "interop done")
        .await
        .unwrap();
    // Closing the transport: websockets waits for it before it reports the connection's end.
    drop(ws.into_inner());
    wslane_interop::expect_peer_saw_close(&mut server, 4000, Some("interop done"));
}

#[tokio::test(flavor = "current_thread")]
async fn python_server_closes_with_its_code() {
    let (mut server, url) = wslane_interop::spawn_peer_server(Peer::Python);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
    let mut ws = open(&url, *b"another nonce 16", &mut rx, &mut tx).await;
    ws.send_text("close-me 4001 going away now").await.unwrap();
    match ws.next().await.unwrap() {
        Event::Close { code, reason } => {
            assert_eq!(code.get(), 4001);
            assert_eq!(reason, "going away now");
        }
        other => panic!("expected the close, got {other:?}"),
    }
    // The reply went out; the server then ends the transport, and the connection is over.
    let end = ws.next().await.map(|_| ());
    assert!(matches!(end, Err(Error::Closed)), "{end:?}");
    drop(ws.into_inner());
    // Our reply carries its code (as every wslane connection answers a close).
    wslane_interop::expect_peer_saw_close(&mut server, 4001, None);
}
