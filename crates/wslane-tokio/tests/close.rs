//! The close handshake (RFC 6455 sections 5.5.1 and 7): started by either side, the server closing the
//! transport first, the close timeout against a peer that never answers, a transport that ends without a
//! close, and the failure of a connection on a protocol violation.
//!
//! The tests about timing (the close timeout, the client waiting for the server to close the transport)
//! run on tokio's paused clock over in-memory pipes, and assert the exact virtual durations the rules
//! fix. (Real sockets would not do: the paused clock also jumps while a task waits for the OS, so a
//! timer could fire before a loopback peer had answered.) The others run over loopback TCP.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use support::*;
use tokio::io::AsyncWriteExt;
use wslane::ProtocolError;
use wslane_tokio::{CloseCode, CloseFrame, Config, Error, Message, ServerConfig};

fn code(code: u16) -> CloseCode {
    CloseCode::new(code).unwrap()
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::new(code).unwrap(),
        reason: reason.into(),
    }))
}

/// A `connect`ed client and the server's side of the same connection.
async fn pair(
    config: Config,
) -> (
    wslane_tokio::WebSocketStream<wslane_tokio::MaybeTlsStream>,
    wslane_tokio::WebSocketStream<tokio::net::TcpStream>,
) {
    let (listener, addr) = listener().await;
    let (client, server) = tokio::join!(
        wslane_tokio::connect_with(
            wslane_tokio::ClientRequest::new(wslane_tokio::Url::parse(&ws_url(addr, "/")).unwrap()),
            config,
            wslane_tokio::Connector::Default,
        ),
        async {
            let (tcp, _) = listener.accept().await.unwrap();
            wslane_tokio::accept_with(tcp, ServerConfig::default(), config, |_| {
                Ok(wslane_tokio::Acceptance::new())
            })
            .await
        }
    );
    (client.unwrap().0, server.unwrap())
}

#[tokio::test]
async fn client_initiated_close_between_two_sockets() {
    bounded(async {
        let (mut client, mut server) =
            pair(config_with_close_timeout(Duration::from_secs(5))).await;
        let server = tokio::spawn(async move {
            let first = server.next().await.unwrap().unwrap();
            let rest = server.next().await;
            (first, rest.is_none())
        });
        let started = Instant::now();
        client.close(code(4000), "bye now").await.unwrap();
        // Ok well before the close timeout: the server's reply came and the server closed the transport.
        assert!(started.elapsed() < Duration::from_secs(2));
        let (first, ended) = server.await.unwrap();
        assert_eq!(first, close_message(4000, "bye now"));
        assert!(ended, "the server's stream ends after the close");
        assert!(client.next().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn server_initiated_close_between_two_sockets() {
    bounded(async {
        let (mut client, mut server) =
            pair(config_with_close_timeout(Duration::from_secs(5))).await;
        let client = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(message) = client.next().await {
                seen.push(message.unwrap());
            }
            seen
        });
        let started = Instant::now();
        server.close(code(4001), "server going").await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(client.await.unwrap(), [close_message(4001, "server going")]);
        assert!(server.next().await.is_none());
    })
    .await;
}

/// Seen from a raw client: the server echoes our 4000 and closes the transport itself.
#[tokio::test]
async fn server_replies_to_a_close_then_closes_the_transport() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client(Config::default()).await;
        let server = tokio::spawn(async move {
            let first = server.next().await.unwrap().unwrap();
            (first, server.next().await.is_none())
        });
        raw.write_all(&client_frame(CLOSE, &close_body(4000, "bye")))
            .await
            .unwrap();
        let reply = read_frame(&mut raw).await.expect("a close reply");
        assert!(!reply.masked, "a server does not mask");
        assert_eq!(reply.close_code(), 4000);
        expect_eof(&mut raw).await;
        let (first, ended) = server.await.unwrap();
        assert_eq!(first, close_message(4000, "bye"));
        assert!(ended);
    })
    .await;
}

/// Seen from a raw server: the client sends its close, reads the reply, and leaves closing the transport to
/// the server; its `close()` returns only once the server has done so. On the paused clock.
#[tokio::test(start_paused = true)]
async fn client_waits_for_the_server_to_close_the_transport() {
    bounded(async {
        const SERVER_WAITS: Duration = Duration::from_millis(100);
        let (client_io, mut raw) = tokio::io::duplex(PIPE);
        let server = tokio::spawn(async move {
            raw_server_handshake(&mut raw).await;
            let close = read_frame(&mut raw).await.unwrap();
            assert!(close.masked, "a client masks");
            assert_eq!(close.close_code(), 4000);
            assert_eq!(&close.payload[2..], b"bye now");
            raw.write_all(&frame(CLOSE, &close.payload, None))
                .await
                .unwrap();
            // The client must not close first: nothing, not even EOF, arrives for a while.
            let early = tokio::time::timeout(SERVER_WAITS, read_frame(&mut raw)).await;
            assert!(early.is_err(), "the client closed first: {early:?}");
            raw.shutdown().await.unwrap();
            expect_eof(&mut raw).await;
        });
        let config = config_with_close_timeout(Duration::from_secs(5));
        let (mut client, _) = wslane_tokio::client_on(client_io, in_memory_request(), config)
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        client.close(code(4000), "bye now").await.unwrap();
        // The close returns when the server closes the transport, after its wait: not sooner, and not at
        // the close timeout.
        assert_virtual_time(started.elapsed(), SERVER_WAITS, "the close returned");
        server.await.unwrap();
    })
    .await;
}

/// Seen from a raw client: the server's close arrives, our reply makes the server close the transport.
#[tokio::test]
async fn server_close_answered_by_a_raw_client() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client(Config::default()).await;
        let closing = tokio::spawn(async move { server.close(code(4002), "maintenance").await });
        let close = read_frame(&mut raw).await.unwrap();
        assert_eq!(close.close_code(), 4002);
        assert_eq!(&close.payload[2..], b"maintenance");
        raw.write_all(&client_frame(CLOSE, &close.payload))
            .await
            .unwrap();
        expect_eof(&mut raw).await;
        closing.await.unwrap().unwrap();
    })
    .await;
}

/// On the paused clock.
#[tokio::test(start_paused = true)]
async fn server_close_to_a_silent_peer_times_out() {
    bounded(async {
        let config = config_with_close_timeout(Duration::from_millis(150));
        let (mut server, mut raw) = server_with_raw_client_in_memory(config).await;
        let started = tokio::time::Instant::now();
        let err = server
            .close(CloseCode::NORMAL, "")
            .await
            .expect_err("the peer never answered");
        assert!(
            matches!(err, Error::Protocol(wslane::Error::CloseTimeout)),
            "{err:?}"
        );
        assert_virtual_time(
            started.elapsed(),
            Duration::from_millis(150),
            "the close timed out",
        );
        // The peer got the close, then the end of the transport.
        assert_eq!(read_frame(&mut raw).await.unwrap().close_code(), 1000);
        expect_eof(&mut raw).await;
    })
    .await;
}

/// On the paused clock.
#[tokio::test(start_paused = true)]
async fn client_close_to_a_silent_server_times_out() {
    bounded(async {
        let (client_io, mut raw) = tokio::io::duplex(PIPE);
        let server = tokio::spawn(async move {
            raw_server_handshake(&mut raw).await;
            assert_eq!(read_frame(&mut raw).await.unwrap().close_code(), 1001);
            // Never answer; the client gives up and closes the transport.
            expect_eof(&mut raw).await;
        });
        let config = config_with_close_timeout(Duration::from_millis(150));
        let (mut client, _) = wslane_tokio::client_on(client_io, in_memory_request(), config)
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        let err = client
            .close(CloseCode::GOING_AWAY, "")
            .await
            .expect_err("the server never answered");
        assert!(
            matches!(err, Error::Protocol(wslane::Error::CloseTimeout)),
            "{err:?}"
        );
        assert_virtual_time(
            started.elapsed(),
            Duration::from_millis(150),
            "the close timed out",
        );
        server.await.unwrap();
    })
    .await;
}

/// A server that answers the close but keeps the transport open: the client's close completes (the
/// handshake did) once the close timeout passes, and the client then closes the transport itself. On the
/// paused clock.
#[tokio::test(start_paused = true)]
async fn client_closes_the_transport_when_the_server_does_not() {
    bounded(async {
        let (client_io, mut raw) = tokio::io::duplex(PIPE);
        let server = tokio::spawn(async move {
            raw_server_handshake(&mut raw).await;
            let close = read_frame(&mut raw).await.unwrap();
            raw.write_all(&frame(CLOSE, &close.payload, None))
                .await
                .unwrap();
            expect_eof(&mut raw).await;
        });
        let config = config_with_close_timeout(Duration::from_millis(150));
        let (mut client, _) = wslane_tokio::client_on(client_io, in_memory_request(), config)
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        client.close(CloseCode::NORMAL, "").await.unwrap();
        assert_virtual_time(
            started.elapsed(),
            Duration::from_millis(150),
            "the close completed",
        );
        server.await.unwrap();
    })
    .await;
}

/// The transport ends without a close frame: the stream reports an abnormal closure (1006), then ends.
#[tokio::test]
async fn transport_ending_without_a_close_yields_1006() {
    bounded(async {
        let (mut server, raw) = server_with_raw_client(Config::default()).await;
        drop(raw);
        assert_eq!(
            server.next().await.unwrap().unwrap(),
            close_message(1006, "")
        );
        assert!(server.next().await.is_none());
    })
    .await;
}

/// A raw client sends an unmasked frame: the server's stream fails with a protocol error (1002), and the
/// client receives a close frame with 1002 and then the end of the transport.
#[tokio::test]
async fn unmasked_frame_fails_the_server_with_1002() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client(Config::default()).await;
        raw.write_all(&frame(TEXT, b"not masked", None))
            .await
            .unwrap();
        let err = server.next().await.unwrap().expect_err("a protocol error");
        assert!(
            matches!(
                err,
                Error::Protocol(wslane::Error::Protocol(ProtocolError::UnmaskedFrame))
            ),
            "{err:?}"
        );
        assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
        assert!(
            server.next().await.is_none(),
            "the stream ends after the error"
        );
        let close = read_frame(&mut raw).await.expect("a close frame");
        assert_eq!(close.close_code(), 1002);
        expect_eof(&mut raw).await;
    })
    .await;
}

/// The mirror image: a raw server sends a masked frame, the client fails with 1002, sends a masked close
/// with 1002 and closes the transport.
#[tokio::test]
async fn masked_frame_fails_the_client_with_1002() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            raw_server_handshake(&mut tcp).await;
            tcp.write_all(&client_frame(TEXT, b"masked")).await.unwrap();
            let close = read_frame(&mut tcp).await.expect("a close frame");
            assert!(close.masked);
            assert_eq!(close.close_code(), 1002);
            expect_eof(&mut tcp).await;
        });
        let (mut client, _) = wslane_tokio::connect(&ws_url(addr, "/")).await.unwrap();
        let err = client.next().await.unwrap().expect_err("a protocol error");
        assert!(
            matches!(
                err,
                Error::Protocol(wslane::Error::Protocol(ProtocolError::MaskedFrame))
            ),
            "{err:?}"
        );
        assert!(client.next().await.is_none());
        server.await.unwrap();
    })
    .await;
}

/// Nothing can be sent once our close is out; the connection says so with `Error::Closed`.
#[tokio::test]
async fn sending_after_close_is_refused() {
    bounded(async {
        let (mut client, server) = pair(Config::default()).await;
        let server = tokio::spawn(echo(server));
        client.close(CloseCode::NORMAL, "").await.unwrap();
        let err = client
            .send(Message::text("late"))
            .await
            .expect_err("closed");
        assert!(matches!(err, Error::Closed), "{err:?}");
        server.await.unwrap().unwrap();
    })
    .await;
}

/// Invalid UTF-8 and an oversized message fail the server with their own close codes (1007, 1009).
#[tokio::test]
async fn violations_are_answered_with_their_close_codes() {
    bounded(async {
        let mut small = Config::default();
        small.max_message_size = 16;
        let cases: [(Config, Vec<u8>, u16); 2] = [
            (Config::default(), client_frame(TEXT, &[0xff, 0xfe]), 1007),
            (small, client_frame(BINARY, &[0; 17]), 1009),
        ];
        for (config, bytes, expected) in cases {
            let (mut server, mut raw) = server_with_raw_client(config).await;
            raw.write_all(&bytes).await.unwrap();
            let err = server.next().await.unwrap().expect_err("a protocol error");
            assert_eq!(
                err.close_code().map(CloseCode::get),
                Some(expected),
                "{err:?}"
            );
            assert_eq!(read_frame(&mut raw).await.unwrap().close_code(), expected);
            expect_eof(&mut raw).await;
        }
    })
    .await;
}

/// A protocol error while earlier output is still queued (the peer was slow to read): the stream reports
/// the error at once, and the peer still gets everything queued, then the close frame with 1002, then the
/// end of the transport, once it reads, without the application doing more than dropping the socket
/// after the stream ended.
#[tokio::test]
async fn close_frame_follows_a_backlog_after_a_protocol_error() {
    bounded(async {
        let (server_io, mut raw) = tokio::io::duplex(1024);
        let accepting = tokio::spawn(wslane_tokio::accept(server_io));
        raw.write_all(raw_request("13").as_bytes()).await.unwrap();
        read_head(&mut raw).await;
        let mut server = accepting.await.unwrap().unwrap();
        server
            .feed(Message::binary(vec![1; 16 << 10]))
            .await
            .unwrap();

        raw.write_all(&frame(TEXT, b"not masked", None))
            .await
            .unwrap();
        let server = tokio::spawn(async move {
            let err = server.next().await.unwrap().expect_err("a protocol error");
            assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
            assert!(server.next().await.is_none());
        });
        let data = tokio::time::timeout(Duration::from_secs(1), read_frame(&mut raw))
            .await
            .expect("the queued message never arrived")
            .unwrap();
        assert_eq!(data.payload.len(), 16 << 10);
        let close = tokio::time::timeout(Duration::from_secs(1), read_frame(&mut raw))
            .await
            .expect("no close frame followed");
        assert_eq!(close.expect("a close frame").close_code(), 1002);
        expect_eof(&mut raw).await;
        server.await.unwrap();
    })
    .await;
}
