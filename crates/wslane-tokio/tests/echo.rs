//! Messages both ways over an in-memory duplex pipe and over loopback TCP: text, binary, empty and 1 MiB
//! messages, many pipelined, through `Stream` + `Sink` and through the plain methods; bytes that arrive
//! behind the handshake head; and how the server's replies reach the transport (plain or vectored writes).

mod support;

use futures_util::{stream, SinkExt, StreamExt};
use support::*;
use tokio::io::{AsyncWriteExt, DuplexStream};
use wslane_tokio::{
    ClientRequest, CloseCode, Config, Event, Message, ServerConfig, Url, WebSocketStream,
};

/// The messages every echo test sends: both kinds, empty ones, and one of 1 MiB.
fn assorted() -> Vec<Message> {
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    vec![
        Message::text("hello"),
        Message::binary(vec![0, 1, 2, 255]),
        Message::text(""),
        Message::binary(Vec::new()),
        Message::text("ünïcödé ✓"),
        Message::binary(big),
    ]
}

/// A client and a server joined by `tokio::io::duplex` with `capacity` bytes each way.
async fn duplex_pair(
    capacity: usize,
) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (client_io, server_io) = tokio::io::duplex(capacity);
    let request = ClientRequest::new(Url::parse("ws://localhost/echo").unwrap());
    let (client, server) = tokio::join!(
        wslane_tokio::client_on(client_io, request, Config::default()),
        wslane_tokio::accept(server_io),
    );
    (client.unwrap().0, server.unwrap())
}

#[tokio::test]
async fn duplex_echo_through_stream_and_sink() {
    bounded(async {
        let (mut client, server) = duplex_pair(64 << 10).await;
        let server = tokio::spawn(echo(server));
        for message in assorted() {
            SinkExt::send(&mut client, message.clone()).await.unwrap();
            assert_eq!(client.next().await.unwrap().unwrap(), message);
        }
        SinkExt::close(&mut client).await.unwrap();
        // The sink's close sends 1000; the stream then sees the server's reply and the end.
        let reply = client.next().await.unwrap().unwrap();
        assert!(
            matches!(&reply, Message::Close(Some(frame)) if frame.code == CloseCode::NORMAL),
            "{reply:?}"
        );
        assert!(client.next().await.is_none());
        server.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test]
async fn duplex_echo_through_plain_methods() {
    bounded(async {
        let (mut client, server) = duplex_pair(64 << 10).await;
        let server = tokio::spawn(echo(server));
        for message in assorted() {
            client.send(message.clone()).await.unwrap();
            assert_eq!(client.recv().await.unwrap().unwrap(), message);
        }
        client.close(CloseCode::NORMAL, "done").await.unwrap();
        assert!(client.recv().await.is_none(), "nothing after close");
        server.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test]
async fn tcp_echo_through_plain_methods() {
    bounded(async {
        let addr = echo_server(Config::default()).await;
        let (mut client, upgrade) = wslane_tokio::connect(&ws_url(addr, "/")).await.unwrap();
        assert_eq!(upgrade.protocol, None);
        for message in assorted() {
            client.send(message.clone()).await.unwrap();
            assert_eq!(client.recv().await.unwrap().unwrap(), message);
        }
        // `feed` queues without writing; `flush` sends the batch.
        for i in 0..10 {
            client.feed(Message::text(i.to_string())).await.unwrap();
        }
        assert!(client.connection().buffered_output() > 0);
        client.flush().await.unwrap();
        assert_eq!(client.connection().buffered_output(), 0);
        for i in 0..10 {
            assert_eq!(
                client.recv().await.unwrap().unwrap(),
                Message::text(i.to_string())
            );
        }
        client.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn tcp_echo_through_stream_and_sink() {
    bounded(async {
        let addr = echo_server(Config::default()).await;
        let (mut client, _) = wslane_tokio::connect(&ws_url(addr, "/")).await.unwrap();
        let messages = assorted();
        let mut batch = stream::iter(messages.clone().into_iter().map(Ok));
        client.send_all(&mut batch).await.unwrap();
        for message in messages {
            assert_eq!(client.next().await.unwrap().unwrap(), message);
        }
        SinkExt::close(&mut client).await.unwrap();
        assert!(matches!(
            client.next().await.unwrap().unwrap(),
            Message::Close(Some(_))
        ));
        assert!(client.next().await.is_none());
    })
    .await;
}

/// Many messages written without waiting for the echoes, read back in order by another task: the server
/// batches its replies, and nothing is lost or reordered.
#[tokio::test]
async fn tcp_pipelined_messages_come_back_in_order() {
    const COUNT: usize = 2000;
    bounded(async {
        let addr = echo_server(Config::default()).await;
        let (client, _) = wslane_tokio::connect(&ws_url(addr, "/")).await.unwrap();
        let (mut reader, mut writer) = client.split();
        let writing = tokio::spawn(async move {
            for i in 0..COUNT {
                writer
                    .feed(Message::text(format!("message {i}")))
                    .await
                    .unwrap();
            }
            writer.flush().await.unwrap();
            writer
        });
        for i in 0..COUNT {
            assert_eq!(
                reader.next().await.unwrap().unwrap(),
                Message::text(format!("message {i}"))
            );
        }
        let mut writer = writing.await.unwrap();
        writer.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(matches!(
            reader.next().await.unwrap().unwrap(),
            Message::Close(Some(_))
        ));
        assert!(reader.next().await.is_none());
    })
    .await;
}

/// The same over a small duplex pipe, so both directions fill up while the other is still being read.
#[tokio::test]
async fn duplex_pipelined_messages_through_a_small_pipe() {
    const COUNT: usize = 500;
    bounded(async {
        let (client, server) = duplex_pair(1024).await;
        let server = tokio::spawn(echo(server));
        let (mut reader, mut writer) = client.split();
        let writing = tokio::spawn(async move {
            let mut batch =
                stream::iter((0..COUNT).map(|i| Ok(Message::binary(vec![i as u8; i % 300]))));
            writer.send_all(&mut batch).await.unwrap();
            writer
        });
        for i in 0..COUNT {
            assert_eq!(
                reader.next().await.unwrap().unwrap(),
                Message::binary(vec![i as u8; i % 300])
            );
        }
        let mut writer = writing.await.unwrap();
        writer.close(CloseCode::NORMAL, "").await.unwrap();
        while let Some(message) = reader.next().await {
            assert!(matches!(message.unwrap(), Message::Close(Some(_))));
        }
        server.await.unwrap().unwrap();
    })
    .await;
}

/// An echo written with `recv_with_reply`, over a small pipe and with a small output limit: replies are
/// queued from the borrowed payloads, the server stops reading while its output is full, and every reply
/// comes back in order.
#[tokio::test]
async fn duplex_replies_from_borrowed_events_with_backpressure() {
    const COUNT: usize = 500;
    bounded(async {
        let (client_io, server_io) = tokio::io::duplex(1024);
        let request = ClientRequest::new(Url::parse("ws://localhost/echo").unwrap());
        let mut server_config = Config::default();
        server_config.max_output_buffer = 2048;
        let accepting =
            wslane_tokio::accept_with(server_io, ServerConfig::default(), server_config, |_| {
                Ok(wslane_tokio::Acceptance::new())
            });
        let (client, server) = tokio::join!(
            wslane_tokio::client_on(client_io, request, Config::default()),
            accepting,
        );
        let (client, mut server) = (client.unwrap().0, server.unwrap());
        let server = tokio::spawn(async move {
            let mut replies = 0;
            while let Some(result) = server
                .recv_with_reply(|event, sender| match event {
                    Event::Text(text) => sender.send_text(text),
                    Event::Binary(data) => sender.send_binary(data),
                    _ => Ok(()),
                })
                .await
            {
                result.unwrap().unwrap();
                replies += 1;
            }
            replies
        });
        let (mut reader, mut writer) = client.split();
        let writing = tokio::spawn(async move {
            let mut batch = stream::iter((0..COUNT).map(|i| {
                Ok(if i % 2 == 0 {
                    Message::binary(vec![i as u8; i % 700])
                } else {
                    Message::text("é".repeat(i % 300))
                })
            }));
            writer.send_all(&mut batch).await.unwrap();
            writer
        });
        for i in 0..COUNT {
            let expected = if i % 2 == 0 {
                Message::binary(vec![i as u8; i % 700])
            } else {
                Message::text("é".repeat(i % 300))
            };
            assert_eq!(reader.next().await.unwrap().unwrap(), expected);
        }
        let mut writer = writing.await.unwrap();
        writer.close(CloseCode::NORMAL, "").await.unwrap();
        while let Some(message) = reader.next().await {
            assert!(matches!(message.unwrap(), Message::Close(Some(_))));
        }
        // Every message, then the close event.
        assert_eq!(server.await.unwrap(), COUNT + 1);
    })
    .await;
}

/// A client that sends its first frame in the same write as its request: the server reads the frame that
/// came behind the head.
#[tokio::test]
async fn server_reads_a_frame_sent_with_the_request() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = wslane_tokio::accept(tcp).await.unwrap();
            ws.recv().await.unwrap().unwrap()
        });
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut bytes = raw_request("13").into_bytes();
        bytes.extend(client_frame(TEXT, b"early"));
        tcp.write_all(&bytes).await.unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        assert_eq!(server.await.unwrap(), Message::text("early"));
    })
    .await;
}

/// A server that sends a frame in the same write as its 101: the client reads it.
#[tokio::test]
async fn client_reads_a_frame_sent_with_the_response() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let head = read_head(&mut tcp).await;
            let key = head
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .unwrap()
                .to_owned();
            let mut bytes = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                wslane::handshake::accept_key(&key)
            )
            .into_bytes();
            bytes.extend(frame(TEXT, b"welcome", None));
            tcp.write_all(&bytes).await.unwrap();
            tcp
        });
        let (mut client, _) = wslane_tokio::connect(&ws_url(addr, "/")).await.unwrap();
        assert_eq!(
            client.recv().await.unwrap().unwrap(),
            Message::text("welcome")
        );
        drop(server.await.unwrap());
    })
    .await;
}

/// `accept` on an in-memory pipe with the default server settings accepts any origin.
#[tokio::test]
async fn accept_with_shared_server_config_over_duplex() {
    bounded(async {
        let server_config = std::sync::Arc::new(ServerConfig::default());
        for _ in 0..3 {
            let (client_io, server_io) = tokio::io::duplex(4096);
            let request = ClientRequest::new(Url::parse("ws://localhost/").unwrap())
                .origin("https://anywhere.example")
                .unwrap();
            let (client, server) = tokio::join!(
                wslane_tokio::client_on(client_io, request, Config::default()),
                wslane_tokio::accept_with(
                    server_io,
                    server_config.clone(),
                    Config::default(),
                    |_| Ok(wslane_tokio::Acceptance::new())
                ),
            );
            let (mut client, _) = client.unwrap();
            let server = tokio::spawn(echo(server.unwrap()));
            client.send(Message::text("x")).await.unwrap();
            assert_eq!(client.recv().await.unwrap().unwrap(), Message::text("x"));
            client.close(CloseCode::NORMAL, "").await.unwrap();
            server.await.unwrap().unwrap();
        }
    })
    .await;
}

/// In fragment mode, `recv_with` hands out each piece as it arrives, borrowed; `recv`, which returns whole
/// messages, says to use `recv_with` instead.
#[tokio::test]
async fn fragments_mode_through_recv_with() {
    bounded(async {
        let mut config = Config::default();
        config.receive_mode = wslane_tokio::ReceiveMode::Fragments;
        let (mut server, mut raw) = server_with_raw_client(config).await;
        // "Hello" in two frames: text without FIN, then a continuation with FIN.
        let mut first = client_frame(TEXT, b"Hel");
        first[0] &= 0x7f;
        raw.write_all(&first).await.unwrap();
        raw.write_all(&client_frame(0x0, b"lo")).await.unwrap();
        let mut pieces = Vec::new();
        while pieces.len() < 2 {
            let piece = server
                .recv_with(|event| match event {
                    wslane_tokio::Event::Fragment(f) => (f.data.to_vec(), f.first, f.fin),
                    other => panic!("unexpected {other:?}"),
                })
                .await
                .unwrap()
                .unwrap();
            if !piece.0.is_empty() || piece.2 {
                pieces.push(piece);
            }
        }
        let text: Vec<u8> = pieces.iter().flat_map(|p| p.0.clone()).collect();
        assert_eq!(text, b"Hello");
        assert!(pieces[0].1 && !pieces[0].2 && pieces[1].2);

        raw.write_all(&client_frame(BINARY, b"whole"))
            .await
            .unwrap();
        let err = server
            .recv()
            .await
            .unwrap()
            .expect_err("fragments need recv_with");
        assert!(matches!(err, wslane_tokio::Error::FragmentsMode), "{err:?}");
    })
    .await;
}

/// The server's writes, as `CountingWrites` records them: one entry per call, the number of slices it
/// was given (0 for a plain `poll_write`).
type WriteLog = std::sync::Arc<std::sync::Mutex<Vec<usize>>>;

/// A duplex end that records how the server writes to it.
struct CountingWrites {
    inner: DuplexStream,
    log: WriteLog,
}

impl tokio::io::AsyncRead for CountingWrites {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CountingWrites {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.log.lock().unwrap().push(0);
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.log.lock().unwrap().push(bufs.len());
        // The duplex pipe takes one slice per call; the driver writes the rest on the next turn.
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A reply that is one piece (a small message: header and payload together) goes out with a plain
/// write, which costs a socket less than a vectored one; a reply in several pieces (a large payload
/// written from its own buffer after its header) with a vectored write of all of them.
#[tokio::test]
async fn one_piece_is_a_plain_write_and_several_a_vectored_one() {
    bounded(async {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let log = WriteLog::default();
        let server_io = CountingWrites {
            inner: server_io,
            log: log.clone(),
        };
        let request = ClientRequest::new(Url::parse("ws://localhost/echo").unwrap());
        let (client, server) = tokio::join!(
            wslane_tokio::client_on(client_io, request, Config::default()),
            wslane_tokio::accept(server_io),
        );
        let mut client = client.unwrap().0;
        let server = tokio::spawn(echo(server.unwrap()));

        let small = Message::text("hello");
        log.lock().unwrap().clear();
        client.send(small.clone()).await.unwrap();
        assert_eq!(client.recv().await.unwrap().unwrap(), small);
        assert_eq!(*log.lock().unwrap(), [0], "one plain write");

        let large = Message::binary(vec![7; 64 << 10]);
        log.lock().unwrap().clear();
        client.send(large.clone()).await.unwrap();
        assert_eq!(client.recv().await.unwrap().unwrap(), large);
        let writes = log.lock().unwrap().clone();
        assert_eq!(
            writes.first(),
            Some(&2),
            "header and payload together: {writes:?}"
        );

        client.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap().unwrap();
    })
    .await;
}
