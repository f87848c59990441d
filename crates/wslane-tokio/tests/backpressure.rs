//! Backpressure: against a peer that does not read, `feed`, `send` and the `Sink` wait once
//! `Config::max_output_buffer` is reached, instead of queueing without bound; once the peer reads, they
//! complete and every message arrives.

mod support;

use std::time::Duration;

use futures_util::{stream, SinkExt, StreamExt};
use support::*;
use tokio::io::{AsyncWriteExt, DuplexStream};
use wslane_tokio::{CloseCode, Config, Message, WebSocketStream};

const MAX_OUTPUT: usize = 16 << 10;
const PIPE: usize = 8 << 10;
const MESSAGE: usize = 4 << 10;
/// How long a stalled operation is given before the test decides it waits.
const STALL: Duration = Duration::from_millis(150);

fn small_output(max_output_buffer: usize) -> Config {
    let mut config = Config::default();
    config.max_output_buffer = max_output_buffer;
    config
}

/// A server over a duplex pipe of [`PIPE`] bytes each way, and the raw client end, after the handshake.
async fn server_over_pipe(config: Config) -> (WebSocketStream<DuplexStream>, DuplexStream) {
    let (server_io, mut raw) = tokio::io::duplex(PIPE);
    let accepting = tokio::spawn(wslane_tokio::accept_with(
        server_io,
        wslane_tokio::ServerConfig::default(),
        config,
        |_| Ok(wslane_tokio::Acceptance::new()),
    ));
    raw.write_all(raw_request("13").as_bytes()).await.unwrap();
    let head = read_head(&mut raw).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    (accepting.await.unwrap().unwrap(), raw)
}

/// Reads `count` binary frames of [`MESSAGE`] bytes from `raw`, checking each one's index byte.
async fn read_messages(raw: &mut DuplexStream, count: usize) {
    for i in 0..count {
        let frame = read_frame(raw).await.expect("a frame");
        assert_eq!(frame.opcode, BINARY);
        assert_eq!(frame.payload, vec![i as u8; MESSAGE], "message {i}");
    }
}

#[tokio::test]
async fn feed_waits_at_the_output_limit_until_the_peer_reads() {
    const COUNT: usize = 64;
    bounded(async {
        let (mut server, mut raw) = server_over_pipe(small_output(MAX_OUTPUT)).await;
        let mut fed = 0;
        let stalled = tokio::time::timeout(STALL, async {
            while fed < COUNT {
                server
                    .feed(Message::binary(vec![fed as u8; MESSAGE]))
                    .await
                    .unwrap();
                fed += 1;
            }
        })
        .await;
        assert!(stalled.is_err(), "all {COUNT} messages were queued");
        // What was taken is bounded by the pipe, the output limit and one message over it.
        let bound = (PIPE + MAX_OUTPUT + MESSAGE) / MESSAGE + 1;
        assert!((1..=bound).contains(&fed), "fed {fed} messages");
        assert!(server.connection().buffered_output() <= MAX_OUTPUT + MESSAGE + 14);

        // The peer reads: the rest goes through.
        let reader = tokio::spawn(async move {
            read_messages(&mut raw, COUNT).await;
            raw
        });
        while fed < COUNT {
            server
                .feed(Message::binary(vec![fed as u8; MESSAGE]))
                .await
                .unwrap();
            fed += 1;
        }
        server.flush().await.unwrap();
        let mut raw = reader.await.unwrap();

        raw.write_all(&client_frame(CLOSE, &close_body(1000, "")))
            .await
            .unwrap();
        assert!(matches!(
            server.next().await.unwrap().unwrap(),
            Message::Close(Some(_))
        ));
        assert!(server.next().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn send_waits_until_the_peer_reads() {
    bounded(async {
        let (mut server, mut raw) = server_over_pipe(small_output(MAX_OUTPUT)).await;
        let big = vec![9; 64 << 10];
        let stalled = tokio::time::timeout(STALL, server.send(Message::binary(big.clone()))).await;
        assert!(stalled.is_err(), "a 64 KiB send went through an 8 KiB pipe");
        assert!(server.connection().buffered_output() > 0);
        // The message was queued before the flush was cancelled; it arrives whole once the peer reads.
        let reader = tokio::spawn(async move {
            let frame = read_frame(&mut raw).await.unwrap();
            (frame, raw)
        });
        server.flush().await.unwrap();
        let (frame, _raw) = reader.await.unwrap();
        assert_eq!(frame.payload, big);
        assert_eq!(server.connection().buffered_output(), 0);
    })
    .await;
}

/// The `Sink`: `send_all` stalls in `poll_ready` against a client socket whose peer does not read (over
/// TCP with small socket buffers), then finishes once it does.
#[tokio::test]
async fn sink_waits_over_tcp_until_the_peer_reads() {
    const COUNT: usize = 256;
    bounded(async {
        let (client, mut raw) = small_buffer_client(small_output(MAX_OUTPUT)).await;
        let (mut reader, mut writer) = client.split();
        let mut sending = tokio::spawn(async move {
            let mut messages =
                stream::iter((0..COUNT).map(|i| Ok(Message::binary(vec![i as u8; MESSAGE]))));
            writer.send_all(&mut messages).await.unwrap();
            writer
        });
        // A timeout around the join handle leaves the task running.
        let stalled = tokio::time::timeout(STALL, &mut sending).await;
        assert!(stalled.is_err(), "1 MiB went into small buffers");
        let draining = tokio::spawn(async move {
            for i in 0..COUNT {
                let frame = read_frame(&mut raw).await.expect("a frame");
                assert!(frame.masked);
                assert_eq!(frame.payload, vec![i as u8; MESSAGE], "message {i}");
            }
            raw
        });
        let mut writer = sending.await.unwrap();
        let mut raw = draining.await.unwrap();

        // Close from the raw server: the client's reader half sees it and the end.
        raw.write_all(&frame(CLOSE, &close_body(1000, ""), None))
            .await
            .unwrap();
        raw.shutdown().await.unwrap();
        assert!(matches!(
            reader.next().await.unwrap().unwrap(),
            Message::Close(Some(_))
        ));
        assert!(reader.next().await.is_none());
        writer
            .close(CloseCode::NORMAL, "")
            .await
            .expect_err("already closed");
    })
    .await;
}

/// A limit of 0 still lets messages through one at a time (an empty buffer always takes one message).
/// Run on its own thread: a driver that spins on the limit never yields, so a tokio timeout could not
/// end it.
#[test]
fn zero_output_limit_sends_one_message_at_a_time() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut server, mut raw) = server_over_pipe(small_output(0)).await;
            let reader = tokio::spawn(async move {
                for text in ["one", "two"] {
                    let frame = read_frame(&mut raw).await.unwrap();
                    assert_eq!(frame.payload, text.as_bytes());
                }
            });
            server.send(Message::text("one")).await.unwrap();
            server.send(Message::text("two")).await.unwrap();
            reader.await.unwrap();
        });
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(2))
        .expect("sending with max_output_buffer = 0 never finished");
}
