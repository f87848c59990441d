//! Slow peers: `try_send` reports a full output instead of waiting, and an `AbortHandle` cuts a connection
//! off from another task, waking the task blocked on it and dropping the transport. The first tests run on
//! tokio's paused clock over small in-memory pipes; the last is the chat scenario over loopback TCP.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use wslane_tokio::{CloseCode, Config, Error, Message, TrySendError, WebSocketStream};

const MAX_OUTPUT: usize = 16 << 10;
const SMALL_PIPE: usize = 8 << 10;
const MESSAGE: usize = 4 << 10;
/// How long a stalled operation is given (virtual time) before the test decides it waits.
const STALL: Duration = Duration::from_millis(150);

fn small_output() -> Config {
    let mut config = Config::default();
    config.max_output_buffer = MAX_OUTPUT;
    config
}

/// A server over a pipe of [`SMALL_PIPE`] bytes each way, and the raw client end, after the handshake.
async fn server_over_small_pipe() -> (WebSocketStream<DuplexStream>, DuplexStream) {
    let (server_io, mut raw) = tokio::io::duplex(SMALL_PIPE);
    let (accepted, ()) = tokio::join!(
        wslane_tokio::accept_with(
            server_io,
            wslane_tokio::ServerConfig::default(),
            small_output(),
            |_| Ok(wslane_tokio::Acceptance::new())
        ),
        raw_client_handshake(&mut raw)
    );
    (accepted.unwrap(), raw)
}

/// Reads whatever arrives until the end of the stream; returns the bytes.
async fn read_to_eof(raw: &mut DuplexStream) -> Vec<u8> {
    let mut rest = Vec::new();
    raw.read_to_end(&mut rest).await.unwrap();
    rest
}

#[tokio::test(start_paused = true)]
async fn try_send_reports_full_until_the_output_drains() {
    bounded(async {
        let (mut server, mut raw) = server_over_small_pipe().await;
        let mut queued = 0usize;
        let refused = loop {
            match server.try_send(Message::binary(vec![queued as u8; MESSAGE])) {
                Ok(()) => queued += 1,
                Err(TrySendError::Full(message)) => break message,
                Err(err) => panic!("try_send failed: {err:?}"),
            }
            assert!(queued <= MAX_OUTPUT / MESSAGE + 1, "never full");
        };
        // Nothing was written (try_send never writes): the output holds exactly the queued messages.
        assert_eq!(queued, MAX_OUTPUT / MESSAGE);
        assert!(server.connection().is_output_full());
        assert_eq!(refused, Message::binary(vec![queued as u8; MESSAGE]));
        // Still full while the peer does not read.
        tokio::time::sleep(STALL).await;
        assert!(matches!(
            server.try_send(refused.clone()),
            Err(TrySendError::Full(_))
        ));

        // The peer reads and the output drains: the message is taken, and everything arrives in order.
        let reader = tokio::spawn(async move {
            for i in 0..=queued {
                let frame = read_frame(&mut raw).await.expect("a frame");
                assert_eq!(frame.payload, vec![i as u8; MESSAGE], "message {i}");
            }
            raw
        });
        server.flush().await.unwrap();
        assert_eq!(server.connection().buffered_output(), 0);
        server.try_send(refused).unwrap();
        server.flush().await.unwrap();
        reader.await.unwrap();
    })
    .await;
}

/// A message queued with `try_send` on the writing half goes out without any flush: the task waiting in the
/// reading half is woken to write it.
#[tokio::test(start_paused = true)]
async fn try_send_on_a_half_is_written_by_the_waiting_reader() {
    bounded(async {
        let (server, mut raw) = server_with_raw_client_in_memory(Config::default()).await;
        let (mut reader, mut writer) = server.split();
        let reading = tokio::spawn(async move { (reader.next().await, reader) });
        tokio::task::yield_now().await;
        writer.try_send(Message::text("hello")).unwrap();
        assert!(writer.buffered_output() > 0);
        let frame = tokio::time::timeout(STALL, read_frame(&mut raw))
            .await
            .expect("the queued message was not written")
            .unwrap();
        assert_eq!(frame.payload, b"hello");
        assert_eq!(writer.buffered_output(), 0);
        reading.abort();
    })
    .await;
}

/// The stall: a task blocked in `send` on a peer that never reads wakes on the abort and fails with
/// `Error::Aborted`; the transport is dropped (the peer reads what was written, then the end), and the
/// socket stays failed.
#[tokio::test(start_paused = true)]
async fn abort_wakes_a_task_blocked_in_send_and_drops_the_transport() {
    bounded(async {
        let (mut server, mut raw) = server_over_small_pipe().await;
        let abort = server.abort_handle();
        let mut sending = tokio::spawn(async move {
            let result = server.send(Message::binary(vec![7; 64 << 10])).await;
            (result, server)
        });
        assert!(
            tokio::time::timeout(STALL, &mut sending).await.is_err(),
            "a 64 KiB send went through an 8 KiB pipe"
        );
        assert!(!abort.is_aborted());
        let start = tokio::time::Instant::now();
        abort.abort(CloseCode::TRY_AGAIN_LATER, "too slow");
        let (result, mut server) = sending.await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO, "the abort waited");
        assert!(matches!(result, Err(Error::Aborted)), "{result:?}");
        assert!(server.get_ref().is_none(), "the transport was kept");
        // The output was full: no close frame, only the part of the message the pipe took, then the end.
        let rest = read_to_eof(&mut raw).await;
        assert_eq!(rest.len(), SMALL_PIPE);
        // Every later call fails or ends at once.
        assert!(matches!(
            server.send(Message::text("late")).await,
            Err(Error::Aborted)
        ));
        assert!(matches!(
            server.try_send(Message::text("late")),
            Err(TrySendError::Failed(Error::Aborted))
        ));
        assert!(matches!(server.next().await, Some(Err(Error::Aborted))));
        assert!(server.next().await.is_none());
    })
    .await;
}

/// Split halves: a writer blocked in `feed` and a reader blocked in `recv` both wake and fail.
#[tokio::test(start_paused = true)]
async fn abort_wakes_both_halves() {
    bounded(async {
        let (server, mut raw) = server_over_small_pipe().await;
        let (mut reader, mut writer) = server.split();
        let abort = writer.abort_handle();
        let mut feeding = tokio::spawn(async move {
            loop {
                if let Err(err) = writer.feed(Message::binary(vec![1; MESSAGE])).await {
                    return err;
                }
            }
        });
        let mut reading = tokio::spawn(async move { reader.next().await });
        assert!(tokio::time::timeout(STALL, &mut feeding).await.is_err());
        assert!(tokio::time::timeout(STALL, &mut reading).await.is_err());
        abort.abort(CloseCode::TRY_AGAIN_LATER, "too slow");
        let start = tokio::time::Instant::now();
        assert!(matches!(feeding.await.unwrap(), Error::Aborted));
        assert!(matches!(reading.await.unwrap(), Some(Err(Error::Aborted))));
        assert_eq!(start.elapsed(), Duration::ZERO, "the abort waited");
        read_to_eof(&mut raw).await;
    })
    .await;
}

/// With room in the output, the abort writes a close frame with its code and reason before the end.
#[tokio::test(start_paused = true)]
async fn abort_sends_a_close_frame_when_it_fits() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client_in_memory(Config::default()).await;
        let abort = server.abort_handle();
        let reading = tokio::spawn(async move { server.next().await });
        tokio::task::yield_now().await;
        abort.abort(CloseCode::TRY_AGAIN_LATER, "too slow");
        assert!(matches!(reading.await.unwrap(), Some(Err(Error::Aborted))));
        let close = read_frame(&mut raw).await.expect("a close frame");
        assert_eq!(close.close_code(), 1013);
        assert_eq!(&close.payload[2..], b"too slow");
        expect_eof(&mut raw).await;
    })
    .await;
}

/// An abort before anyone polls is carried out by the next call.
#[tokio::test(start_paused = true)]
async fn abort_before_any_poll_fails_the_next_call() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client_in_memory(Config::default()).await;
        server.abort_handle().abort(CloseCode::GOING_AWAY, "");
        assert!(matches!(server.flush().await, Err(Error::Aborted)));
        assert_eq!(read_frame(&mut raw).await.unwrap().close_code(), 1001);
        expect_eof(&mut raw).await;
        raw.shutdown().await.unwrap();
    })
    .await;
}

/// The scenario over loopback TCP, with the chat example's broadcast: a server fans every message
/// out to three clients with `try_send`, and one client never reads. When its output is full, the server
/// aborts it; within one second of that decision (real time: this is about real sockets, and a second is
/// far above the milliseconds it takes) the server's side of its connection is gone (the receiving loop
/// ended and dropped the stream) and the client reads the end of the stream, while the other two clients
/// receive every broadcast, before and after.
#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_and_the_others_keep_receiving() {
    const FAST: usize = 2;
    const LARGE: usize = 16 << 10;
    const AFTER: usize = 20;
    const PROMPTLY: Duration = Duration::from_secs(1);
    bounded(async {
        // Small socket buffers (the server's send buffers, the slow client's receive buffer), so the
        // slow client's output fills after a few messages.
        let listening = tokio::net::TcpSocket::new_v4().unwrap();
        listening.set_send_buffer_size(8 << 10).unwrap();
        listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = listening.listen(8).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::default();
        config.max_output_buffer = 64 << 10;

        // Each client's server side: the sending half kept for broadcasting, the receiving loop in a task
        // that reports when it ended.
        let (ended_tx, mut ended) = tokio::sync::mpsc::unbounded_channel();
        let mut writers = Vec::new();
        let accept = |id: usize| {
            let (listener, config, ended_tx) = (&listener, config, ended_tx.clone());
            async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let ws = wslane_tokio::accept_with(
                    tcp,
                    wslane_tokio::ServerConfig::default(),
                    config,
                    |_| Ok(wslane_tokio::Acceptance::new()),
                )
                .await
                .unwrap();
                let (mut reader, writer) = ws.split();
                tokio::spawn(async move {
                    while let Some(Ok(_)) = reader.next().await {}
                    let _ = ended_tx.send((id, std::time::Instant::now()));
                });
                writer
            }
        };

        // Two clients that read every message and acknowledge its index.
        let (ack_tx, mut acks) = tokio::sync::mpsc::unbounded_channel();
        for id in 0..FAST {
            let ((client, _), writer) = tokio::join!(
                async { wslane_tokio::connect(&ws_url(addr, "/")).await.unwrap() },
                accept(id)
            );
            writers.push((id, writer));
            let ack_tx = ack_tx.clone();
            tokio::spawn(async move {
                let mut client = client;
                let mut expected = 0usize;
                while let Some(Ok(Message::Binary(data))) = client.next().await {
                    assert_eq!(
                        usize::from(data[0]),
                        expected % 256,
                        "client {id} lost a message"
                    );
                    assert_eq!(data.len(), LARGE);
                    expected += 1;
                    ack_tx.send(id).unwrap();
                }
            });
        }
        // A fast client that failed its checks ends its task and drops its sender: `acks` then ends.
        drop(ack_tx);
        // The slow client: a small receive buffer, and it never reads.
        let slow = tokio::net::TcpSocket::new_v4().unwrap();
        slow.set_recv_buffer_size(8 << 10).unwrap();
        let (mut slow, writer) = tokio::join!(
            async {
                let mut tcp = slow.connect(addr).await.unwrap();
                raw_client_handshake(&mut tcp).await;
                tcp
            },
            accept(FAST)
        );
        writers.push((FAST, writer));

        // Broadcast, one message at a time, until the slow client is cut off, then some more.
        let mut decided = None;
        let mut after = 0;
        for i in 0usize.. {
            assert!(i < 10_000, "the slow client's output never filled");
            let message = Message::binary(vec![i as u8; LARGE]);
            writers.retain_mut(|(id, ws)| match ws.try_send(message.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    assert_eq!(*id, FAST, "a fast client was too slow");
                    decided = Some(std::time::Instant::now());
                    ws.abort_handle()
                        .abort(CloseCode::TRY_AGAIN_LATER, "too slow");
                    false
                }
                Err(err) => panic!("client {id}: {err:?}"),
            });
            for _ in 0..FAST {
                acks.recv().await.unwrap();
            }
            if decided.is_some() {
                after += 1;
                if after == AFTER {
                    break;
                }
            }
        }
        let decided = decided.unwrap();

        // The server's side of the slow connection ended (its loop returned and dropped the stream)...
        let (id, at) = ended.recv().await.unwrap();
        assert_eq!(id, FAST, "a fast client's connection ended");
        assert!(
            at - decided < PROMPTLY,
            "the slow client's connection ended {:?} after the decision",
            at - decided
        );
        // ...and the slow client, reading at last, finds the end of the stream (after what was in flight).
        let deadline = tokio::time::Instant::from_std(decided + PROMPTLY);
        let mut buf = vec![0; 64 << 10];
        tokio::time::timeout_at(deadline, async {
            loop {
                match slow.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await
        .expect("the slow client's connection is still open a second after the decision");
        // The fast clients got every message, the ones after the decision too (checked by their asserts
        // and acknowledgements), and their connections are still up.
        assert!(
            ended.try_recv().is_err(),
            "a fast client's connection ended"
        );
        assert_eq!(writers.len(), FAST);
    })
    .await;
}
