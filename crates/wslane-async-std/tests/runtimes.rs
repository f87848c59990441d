//! The adapter on both runtimes it serves: async-std and smol, over loopback TCP.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use support::bounded;
use wslane_async_std::{CloseCode, Config, Error, Message};

/// Serves one connection on a free port: echoes data messages until the close handshake ends.
async fn serve_once(listener: async_net::TcpListener) -> Result<Vec<Message>, Error> {
    let (tcp, _) = listener.accept().await?;
    let mut ws = wslane_async_std::accept(tcp).await?;
    let mut seen = Vec::new();
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_data() {
            ws.feed(message.clone()).await?;
        }
        seen.push(message);
    }
    Ok(seen)
}

/// A client session against `serve_once`: every kind of message, then a close with a code.
async fn client_session(url: String) -> Result<(), Error> {
    let (mut ws, _) = wslane_async_std::connect(&url).await?;
    let big = vec![7u8; 1 << 20];
    for message in [
        Message::text("hello"),
        Message::binary(big),
        Message::text(""),
    ] {
        ws.send(message.clone()).await?;
        assert_eq!(ws.next().await.transpose()?, Some(message));
    }
    ws.close(CloseCode::new(4000).unwrap(), "done").await?;
    assert!(
        ws.next().await.is_none(),
        "nothing after the close handshake"
    );
    Ok(())
}

async fn round_trip() {
    let listener = async_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = serve_once(listener);
    let (seen, client) = futures_util::join!(server, client_session(url));
    client.unwrap();
    let seen = seen.unwrap();
    assert_eq!(seen.len(), 4, "three messages and the close: {seen:?}");
    match &seen[3] {
        Message::Close(Some(frame)) => {
            assert_eq!((frame.code.get(), frame.reason.as_str()), (4000, "done"));
        }
        other => panic!("expected the client's close, got {other:?}"),
    }
}

#[test]
fn echo_and_close_on_async_std() {
    async_std::task::block_on(bounded(round_trip()));
}

#[test]
fn echo_and_close_on_smol() {
    smol::block_on(bounded(round_trip()));
}

/// Keepalive runs on the async-io timer: a silent peer is pinged, then sent a close frame with 1011 and
/// dropped.
#[test]
fn keepalive_times_out_a_silent_peer_on_smol() {
    smol::block_on(bounded(async {
        let listener = async_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = async {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut config = Config::default();
            config.ping_interval = Some(Duration::from_millis(100));
            config.pong_timeout = Duration::from_millis(100);
            let server_config = wslane_async_std::ServerConfig::default();
            let mut ws = wslane_async_std::accept_with(tcp, server_config, config, |_| {
                Ok(wslane_async_std::Acceptance::new())
            })
            .await
            .unwrap();
            ws.next().await
        };
        // A raw peer: sends the handshake, then reads and never answers.
        let peer = async {
            use futures_util::{AsyncReadExt, AsyncWriteExt};
            let mut tcp = async_net::TcpStream::connect(addr).await.unwrap();
            tcp.write_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )
            .await
            .unwrap();
            let mut received = Vec::new();
            tcp.read_to_end(&mut received).await.unwrap();
            received
        };
        let (ended, received) = futures_util::join!(server, peer);
        assert!(
            matches!(
                ended,
                Some(Err(Error::Protocol(wslane::Error::KeepaliveTimeout)))
            ),
            "{ended:?}"
        );
        let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut expected = vec![0x89, 0x00, 0x88, 19, 0x03, 0xf3];
        expected.extend_from_slice(b"keepalive timeout");
        assert_eq!(
            &received[head_end..],
            &expected[..],
            "one empty ping, then a close frame with 1011, then the drop"
        );
    }));
}
