//! `split()`: the reading and writing halves in two tasks. The reader answers pings by itself while the
//! writer is idle, the writer's messages go out while the reader waits, and a writer stalled on a full
//! transport does not stop the reader.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use support::*;
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::sync::oneshot;
use wslane_tokio::{CloseCode, Config, Message};

#[tokio::test]
async fn reader_half_answers_a_ping_while_the_writer_is_idle() {
    bounded(async {
        let (server, mut raw) = server_with_raw_client(Config::default()).await;
        let (mut reader, writer) = server.split();
        let (release, idle) = oneshot::channel::<()>();
        let writer_task = tokio::spawn(async move {
            // Holds the writer half without using it.
            let _ = idle.await;
            drop(writer);
        });
        let reader_task = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(message) = reader.next().await {
                seen.push(message.unwrap());
            }
            seen
        });

        raw.write_all(&client_frame(PING, b"are you there"))
            .await
            .unwrap();
        let pong = read_frame(&mut raw).await.expect("a pong");
        assert_eq!(pong.opcode, PONG);
        assert_eq!(pong.payload, b"are you there");

        raw.write_all(&client_frame(CLOSE, &close_body(1000, "")))
            .await
            .unwrap();
        assert_eq!(read_frame(&mut raw).await.unwrap().close_code(), 1000);
        expect_eof(&mut raw).await;
        let seen = reader_task.await.unwrap();
        assert_eq!(seen[0], Message::Ping(b"are you there".to_vec()));
        assert!(matches!(seen[1], Message::Close(Some(_))), "{seen:?}");
        release.send(()).unwrap();
        writer_task.await.unwrap();
    })
    .await;
}

/// Over an in-memory pipe on the paused clock, so that the sleep below ends only once the reader task
/// waits in its read (the paused clock moves only when every task waits).
#[tokio::test(start_paused = true)]
async fn writer_half_sends_while_the_reader_waits() {
    bounded(async {
        let (server, mut raw) = server_with_raw_client_in_memory(Config::default()).await;
        let (mut reader, mut writer) = server.split();
        let reader_task = tokio::spawn(async move { reader.next().await.map(Result::unwrap) });
        // Let the reader park in its read.
        tokio::time::sleep(Duration::from_millis(20)).await;
        writer.send(Message::text("one")).await.unwrap();
        writer.feed(Message::binary(b"two".to_vec())).await.unwrap();
        writer.feed(Message::text("three")).await.unwrap();
        writer.flush().await.unwrap();
        for (opcode, payload) in [(TEXT, &b"one"[..]), (BINARY, b"two"), (TEXT, b"three")] {
            let got = read_frame(&mut raw).await.unwrap();
            assert_eq!((got.opcode, got.payload.as_slice()), (opcode, payload));
            assert!(got.fin && !got.masked);
        }
        assert!(!reader_task.is_finished(), "the reader is still waiting");
        raw.write_all(&client_frame(TEXT, b"reply")).await.unwrap();
        assert_eq!(reader_task.await.unwrap(), Some(Message::text("reply")));
    })
    .await;
}

/// Two `connect`ed halves on a multi-threaded runtime, talking to an echo server: the writer closes, the
/// reader sees every echo, the close reply and the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_in_tasks_on_other_threads() {
    const COUNT: usize = 200;
    bounded(async {
        let addr = echo_server(Config::default()).await;
        let (client, _) = wslane_tokio::connect(&ws_url(addr, "/")).await.unwrap();
        let (mut reader, mut writer) = client.split();
        let reading = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(message) = reader.next().await {
                seen.push(message.unwrap());
            }
            seen
        });
        let writing = tokio::spawn(async move {
            for i in 0..COUNT {
                SinkExt::send(&mut writer, Message::text(i.to_string()))
                    .await
                    .unwrap();
            }
            writer.close(CloseCode::NORMAL, "done").await.unwrap();
        });
        writing.await.unwrap();
        let seen = reading.await.unwrap();
        assert_eq!(seen.len(), COUNT + 1, "{seen:?}");
        for (i, message) in seen[..COUNT].iter().enumerate() {
            assert_eq!(*message, Message::text(i.to_string()));
        }
        assert!(matches!(&seen[COUNT], Message::Close(Some(f)) if f.code == CloseCode::NORMAL));
    })
    .await;
}

/// The writer half waits on a transport that is full (the peer does not read); meanwhile the reader half,
/// in its own task, still receives what the peer sends; once the peer reads, the writer finishes.
#[tokio::test]
async fn stalled_writer_does_not_block_the_reader_duplex() {
    bounded(async {
        let (reader, writer, raw) = split_server_over_pipe().await;
        let hello = client_frame(TEXT, b"still listening");
        stalled_writer_and_reader(reader, writer, raw, &hello, 256 << 10, true).await;
    })
    .await;
}

/// The same over loopback TCP with small socket buffers, on the client side.
#[tokio::test]
async fn stalled_writer_does_not_block_the_reader_tcp() {
    bounded(async {
        let (client, raw) = small_buffer_client(Config::default()).await;
        let (reader, writer) = client.split();
        let hello = frame(TEXT, b"still listening", None);
        stalled_writer_and_reader(reader, writer, raw, &hello, 1 << 20, true).await;
    })
    .await;
}

/// As above, but the reader half is not polled again after its message (the application is busy with it):
/// the writer half must still be woken when the transport drains.
#[tokio::test]
async fn stalled_writer_is_woken_without_the_reader_duplex() {
    bounded(async {
        let (reader, writer, raw) = split_server_over_pipe().await;
        let hello = client_frame(TEXT, b"still listening");
        stalled_writer_and_reader(reader, writer, raw, &hello, 256 << 10, false).await;
    })
    .await;
}

/// The same over loopback TCP.
#[tokio::test]
async fn stalled_writer_is_woken_without_the_reader_tcp() {
    bounded(async {
        let (client, raw) = small_buffer_client(Config::default()).await;
        let (reader, writer) = client.split();
        let hello = frame(TEXT, b"still listening", None);
        stalled_writer_and_reader(reader, writer, raw, &hello, 1 << 20, false).await;
    })
    .await;
}

/// A server over a 4 KiB duplex pipe, split, and the raw client end after the handshake.
async fn split_server_over_pipe() -> (
    wslane_tokio::ReadHalf<DuplexStream>,
    wslane_tokio::WriteHalf<DuplexStream>,
    DuplexStream,
) {
    let (server_io, mut raw) = tokio::io::duplex(4096);
    let accepting = tokio::spawn(wslane_tokio::accept(server_io));
    raw.write_all(raw_request("13").as_bytes()).await.unwrap();
    let head = read_head(&mut raw).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    let (reader, writer) = accepting.await.unwrap().unwrap().split();
    (reader, writer, raw)
}

/// `writer` sends `size` bytes that `raw` does not read at first; `raw` sends `hello`, a frame with the
/// text "still listening" that `reader` must get meanwhile; then `raw` reads, and the writer must finish,
/// with the reader half polled all along in its own task (`keep_reading`) or left alone after its message.
async fn stalled_writer_and_reader<S>(
    mut reader: wslane_tokio::ReadHalf<S>,
    mut writer: wslane_tokio::WriteHalf<S>,
    mut raw: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    hello: &[u8],
    size: usize,
    keep_reading: bool,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let writing = tokio::spawn(async move {
        writer.send(Message::binary(vec![7; size])).await.unwrap();
        writer
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !writing.is_finished(),
        "the transport cannot hold {size} bytes"
    );

    raw.write_all(hello).await.unwrap();
    let still_listening = Message::text("still listening");
    // Either a task that keeps reading, or the reader half kept but left alone.
    let (reading, _idle) = if keep_reading {
        let (got, received) = oneshot::channel();
        let reading = tokio::spawn(async move {
            got.send(reader.next().await.unwrap().unwrap()).unwrap();
            while reader.next().await.is_some() {}
        });
        assert_eq!(received.await.unwrap(), still_listening);
        (Some(reading), None)
    } else {
        assert_eq!(reader.next().await.unwrap().unwrap(), still_listening);
        (None, Some(reader))
    };

    // Now drain the transport: the writer must be woken to write the rest, and finish.
    let drained = tokio::time::timeout(Duration::from_secs(2), read_frame(&mut raw)).await;
    let got = drained
        .expect("the writer half was never woken after the transport drained")
        .unwrap();
    assert_eq!(got.payload.len(), size);
    writing.await.unwrap();
    if let Some(reading) = reading {
        reading.abort();
    }
}
