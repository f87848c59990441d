//! Cancel safety, as the "Cancel safety" section of `WebSocket`'s documentation promises it: each receive
//! call raced against a timer in `tokio::select!`, over and over, while the peer trickles messages in; a
//! send raced against a timer while the peer does not read; a flush and a close cancelled and resumed. All
//! on tokio's paused clock over in-memory pipes, so every run interleaves the same way.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use support::{
    bounded, client_frame, expect_eof, in_memory_request, raw_server_handshake, read_frame,
    server_with_raw_client_in_memory, BINARY, CLOSE, PIPE, TEXT,
};
use tokio::io::{AsyncWriteExt, DuplexStream};
use wslane_tokio::{CloseCode, Config, Error, Message, ReadHalf, WebSocketStream, WriteHalf};

/// How long the receiver waits before giving up on one call: shorter than the peer's pause between two
/// pieces, so most calls are cancelled, many of them in the middle of a frame.
const PATIENCE: Duration = Duration::from_micros(700);
/// The peer's pause between two pieces of its input.
const TRICKLE: Duration = Duration::from_millis(1);

/// The messages the trickling peer sends: text and binary, empty, short, with a 16-bit length, and one
/// sent in three fragments with a ping between them.
fn messages() -> Vec<Message> {
    (0..12)
        .map(|i| match i % 4 {
            0 => Message::text(format!("message {i}")),
            1 => Message::binary(vec![i as u8; 300 + i]),
            2 => Message::text(""),
            _ => Message::binary(vec![0xa5 ^ i as u8; 40]),
        })
        .collect()
}

/// The peer's bytes for `messages`, masked as a client's: one frame each, except that every fourth
/// message is sent as three fragments with a ping in the middle.
fn wire(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let (opcode, payload) = match message {
            Message::Text(text) => (TEXT, text.as_bytes().to_vec()),
            Message::Binary(data) => (BINARY, data.to_vec()),
            other => panic!("not data: {other:?}"),
        };
        if i % 4 == 1 && payload.len() >= 3 {
            let third = payload.len() / 3;
            let mut first = client_frame(opcode, &payload[..third]);
            first[0] &= 0x7f; // not final
            let mut middle = client_frame(0x0, &payload[third..2 * third]);
            middle[0] &= 0x7f;
            out.extend(first);
            out.extend(client_frame(0x9, b"between"));
            out.extend(middle);
            out.extend(client_frame(0x0, &payload[2 * third..]));
        } else {
            out.extend(client_frame(opcode, &payload));
        }
    }
    out
}

/// Writes `bytes` in pieces of a few bytes, pausing between them.
async fn trickle(raw: &mut DuplexStream, bytes: &[u8]) {
    for piece in bytes.chunks(3) {
        raw.write_all(piece).await.unwrap();
        tokio::time::sleep(TRICKLE).await;
    }
}

/// One way to receive, each raced against the timer.
#[derive(Clone, Copy, Debug)]
enum Receive {
    Recv,
    RecvWith,
    RecvWithReply,
    StreamNext,
    ReadHalfRecv,
    ReadHalfRecvWith,
    ReadHalfStreamNext,
}

/// The receiving side: the socket, or its read half (the write half kept alive beside it).
enum Receiver {
    Whole(Box<WebSocketStream<DuplexStream>>),
    Halves {
        read: ReadHalf<DuplexStream>,
        _write: WriteHalf<DuplexStream>,
    },
}

impl Receiver {
    /// The next message, received with `how`: one call, which the caller may cancel.
    async fn next(&mut self, how: Receive) -> Option<Result<Message, Error>> {
        let owned = |event: wslane_tokio::Event<'_>| Message::from_event(&event).expect("whole");
        match (self, how) {
            (Receiver::Whole(ws), Receive::Recv) => ws.recv().await,
            (Receiver::Whole(ws), Receive::RecvWith) => ws.recv_with(owned).await,
            (Receiver::Whole(ws), Receive::RecvWithReply) => {
                ws.recv_with_reply(|event, _| owned(event)).await
            }
            (Receiver::Whole(ws), Receive::StreamNext) => ws.next().await,
            (Receiver::Halves { read, .. }, Receive::ReadHalfRecv) => read.recv().await,
            (Receiver::Halves { read, .. }, Receive::ReadHalfRecvWith) => {
                read.recv_with(owned).await
            }
            (Receiver::Halves { read, .. }, Receive::ReadHalfStreamNext) => read.next().await,
            (_, how) => unreachable!("{how:?} on the wrong receiver"),
        }
    }
}

/// Receives every message with `how`, each call raced against a short timer in `select!` while the peer
/// trickles its input in: every message arrives whole and in order, and the calls were cancelled often.
async fn receive_while_cancelling(how: Receive) {
    bounded(async {
        let (ws, mut raw) = server_with_raw_client_in_memory(Config::default()).await;
        let mut receiver = match how {
            Receive::ReadHalfRecv | Receive::ReadHalfRecvWith | Receive::ReadHalfStreamNext => {
                let (read, _write) = ws.split();
                Receiver::Halves { read, _write }
            }
            _ => Receiver::Whole(Box::new(ws)),
        };
        let sent = messages();
        let bytes = wire(&sent);
        let peer = tokio::spawn(async move {
            trickle(&mut raw, &bytes).await;
            raw
        });
        let mut received = Vec::new();
        let mut pings = Vec::new();
        let mut cancelled = 0_usize;
        while received.len() < sent.len() {
            tokio::select! {
                item = receiver.next(how) => match item.expect("a message").expect("no error") {
                    Message::Ping(payload) => pings.push(payload),
                    message => received.push(message),
                },
                () = tokio::time::sleep(PATIENCE) => cancelled += 1,
            }
        }
        assert_eq!(received, sent, "{how:?}: every message whole, in order");
        assert_eq!(pings.len(), 3, "{how:?}: every ping, between the fragments");
        assert!(
            cancelled > sent.len() * 10,
            "{how:?}: the calls should have been cancelled often, mid-frame: {cancelled}"
        );
        peer.await.unwrap();
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn recv_cancelled_loses_nothing() {
    receive_while_cancelling(Receive::Recv).await;
}

#[tokio::test(start_paused = true)]
async fn recv_with_cancelled_loses_nothing() {
    receive_while_cancelling(Receive::RecvWith).await;
}

#[tokio::test(start_paused = true)]
async fn recv_with_reply_cancelled_loses_nothing() {
    receive_while_cancelling(Receive::RecvWithReply).await;
}

#[tokio::test(start_paused = true)]
async fn stream_next_cancelled_loses_nothing() {
    receive_while_cancelling(Receive::StreamNext).await;
}

#[tokio::test(start_paused = true)]
async fn read_half_recv_cancelled_loses_nothing() {
    receive_while_cancelling(Receive::ReadHalfRecv).await;
}

#[tokio::test(start_paused = true)]
async fn read_half_recv_with_cancelled_loses_nothing() {
    receive_while_cancelling(Receive::ReadHalfRecvWith).await;
}

#[tokio::test(start_paused = true)]
async fn read_half_stream_next_cancelled_loses_nothing() {
    receive_while_cancelling(Receive::ReadHalfStreamNext).await;
}

/// A client over a pipe that holds only `capacity` bytes, with a raw server that has answered the
/// handshake and then reads nothing until the test says so.
async fn client_with_stalled_server(
    capacity: usize,
    config: Config,
) -> (WebSocketStream<DuplexStream>, DuplexStream) {
    let (client_io, mut raw) = tokio::io::duplex(capacity);
    let (client, _) = tokio::join!(
        wslane_tokio::client_on(client_io, in_memory_request(), config),
        raw_server_handshake(&mut raw)
    );
    (client.unwrap().0, raw)
}

/// Message `id` of the send tests: its id in every byte, a length of its own.
fn numbered(id: u8) -> Message {
    Message::binary(vec![id; 6000 + 100 * usize::from(id)])
}

/// Reads frames until `until` matches one; checks that each is whole and valid (final, masked, binary, one
/// id throughout, the length of that id) and returns the ids in the order read.
async fn read_numbered(raw: &mut DuplexStream, until: impl Fn(u8) -> bool) -> Vec<u8> {
    let mut ids = Vec::new();
    loop {
        let frame = read_frame(raw).await.expect("a frame");
        assert!(
            frame.fin && frame.masked && frame.opcode == BINARY,
            "{frame:?}"
        );
        let id = frame.payload[0];
        assert_eq!(
            Message::binary(frame.payload),
            numbered(id),
            "frame {id} whole"
        );
        ids.push(id);
        if until(id) {
            return ids;
        }
    }
}

/// `send` raced against a timer while the peer reads nothing: a message is queued whole or not at all, so
/// the peer later reads only whole frames, in order; every send that completed is among them. A `flush`
/// raced the same way is resumed later and completes.
#[tokio::test(start_paused = true)]
async fn send_and_flush_cancelled_queue_whole_messages_only() {
    bounded(async {
        let mut config = Config::default();
        config.max_output_buffer = 16 << 10;
        let (mut ws, mut raw) = client_with_stalled_server(4 << 10, config).await;
        let mut completed = Vec::new();
        let mut cancelled = Vec::new();
        for id in 0..10 {
            tokio::select! {
                result = ws.send(numbered(id)) => {
                    result.unwrap();
                    completed.push(id);
                }
                () = tokio::time::sleep(Duration::from_millis(10)) => cancelled.push(id),
            }
        }
        assert!(!cancelled.is_empty(), "the stalled peer should hold sends up");
        // A flush cancelled while the peer still reads nothing.
        tokio::select! {
            result = ws.flush() => panic!("the peer reads nothing, yet the flush ended: {result:?}"),
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        // The peer starts reading; a last message is queued behind the others, and the flush, resumed,
        // completes.
        let reading = tokio::spawn(async move { read_numbered(&mut raw, |id| id == 10).await });
        ws.feed(numbered(10)).await.unwrap();
        ws.flush().await.unwrap();
        let ids = reading.await.unwrap();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "in order, each at most once: {ids:?}"
        );
        for id in &completed {
            assert!(ids.contains(id), "a completed send is delivered: {id} in {ids:?}");
        }
        assert!(
            ids.len() < 11,
            "some cancelled sends were never queued: {ids:?}"
        );
    })
    .await;
}

/// `feed` raced against a timer: cancelled, the message was not queued; completed, it was.
#[tokio::test(start_paused = true)]
async fn feed_cancelled_queues_nothing() {
    bounded(async {
        let mut config = Config::default();
        config.max_output_buffer = 16 << 10;
        let (mut ws, mut raw) = client_with_stalled_server(4 << 10, config).await;
        let mut fed = Vec::new();
        for id in 0..10 {
            tokio::select! {
                result = ws.feed(numbered(id)) => {
                    result.unwrap();
                    fed.push(id);
                }
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
        assert!(
            fed.len() < 10,
            "the full output buffer should hold feeds up"
        );
        let last = *fed.last().unwrap();
        let (ids, flushed) = tokio::join!(read_numbered(&mut raw, |id| id == last), ws.flush());
        flushed.unwrap();
        assert_eq!(ids, fed, "exactly the completed feeds, in order");
    })
    .await;
}

/// `close` cancelled while it waits for the peer's close: the close frame is already queued (and here
/// sent), so calling `close` again reports `Closed`; receiving until the end finishes the handshake.
#[tokio::test(start_paused = true)]
async fn close_cancelled_is_finished_by_receiving() {
    bounded(async {
        let (mut ws, mut raw) = client_with_stalled_server(PIPE, Config::default()).await;
        tokio::select! {
            result = ws.close(CloseCode::NORMAL, "bye") => panic!("no close reply yet: {result:?}"),
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        assert!(matches!(
            ws.close(CloseCode::NORMAL, "again").await,
            Err(Error::Closed)
        ));
        let peer = tokio::spawn(async move {
            let close = read_frame(&mut raw).await.expect("the close frame");
            assert_eq!((close.opcode, close.close_code()), (CLOSE, 1000));
            assert_eq!(&close.payload[2..], b"bye");
            raw.write_all(&support::frame(CLOSE, &close.payload, None))
                .await
                .unwrap();
            raw.shutdown().await.unwrap();
            expect_eof(&mut raw).await;
        });
        while let Some(result) = ws.recv().await {
            result.unwrap();
        }
        peer.await.unwrap();
    })
    .await;
}

/// The write half's `send` raced against a timer, then its `close` cancelled and finished by flushing:
/// the peer reads whole frames, then the close frame.
#[tokio::test(start_paused = true)]
async fn write_half_send_and_close_cancelled() {
    bounded(async {
        let mut config = Config::default();
        config.max_output_buffer = 16 << 10;
        let (ws, mut raw) = client_with_stalled_server(4 << 10, config).await;
        let (_read, mut write) = ws.split();
        let mut completed = Vec::new();
        for id in 0..6 {
            tokio::select! {
                result = write.send(numbered(id)) => {
                    result.unwrap();
                    completed.push(id);
                }
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
        tokio::select! {
            result = write.close(CloseCode::NORMAL, "") => panic!("the peer reads nothing: {result:?}"),
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        let reading = tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let frame = read_frame(&mut raw).await.expect("a frame");
                if frame.opcode == CLOSE {
                    assert_eq!(frame.close_code(), 1000);
                    return ids;
                }
                let id = frame.payload[0];
                assert!(frame.fin && frame.masked && frame.opcode == BINARY);
                assert_eq!(Message::binary(frame.payload), numbered(id), "frame {id} whole");
                ids.push(id);
            }
        });
        write.flush().await.unwrap();
        let ids = reading.await.unwrap();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        for id in &completed {
            assert!(ids.contains(id), "{id} in {ids:?}");
        }
    })
    .await;
}
