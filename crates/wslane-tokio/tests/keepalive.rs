//! Keepalive: a silent peer is pinged and then given up on; a peer that answers, or a `wslane` peer that is
//! merely reading, keeps the connection open.
//!
//! Every test runs on tokio's paused clock over in-memory pipes. The clock moves only when every task
//! waits, and then straight to the next timer, so the intervals are exact and take no real time. (Real
//! sockets would not do: the paused clock also jumps while a task waits for the OS, so a timer could fire
//! before a loopback peer had answered.)
//!
//! The rule the timings follow: a ping goes out `ping_interval` after the last sign of life (any bytes
//! received; the connection's start at first), and `pong_timeout` after that ping with nothing received
//! the connection fails: a close frame with 1011 goes out, then the transport is closed.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;
use wslane_tokio::{CloseCode, Config, Error, Message};

const INTERVAL: Duration = Duration::from_millis(60);
const PONG_TIMEOUT: Duration = Duration::from_millis(40);

fn keepalive(interval: Duration) -> Config {
    let mut config = Config::default();
    config.ping_interval = Some(interval);
    config.pong_timeout = PONG_TIMEOUT;
    config
}

#[tokio::test(start_paused = true)]
async fn silent_peer_is_pinged_then_given_up_on() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client_in_memory(keepalive(INTERVAL)).await;
        let started = Instant::now();
        let server = tokio::spawn(async move {
            let result = server.next().await;
            (result, started.elapsed(), server.next().await.is_none())
        });

        let ping = read_frame(&mut raw).await.expect("a keepalive ping");
        let pinged_after = started.elapsed();
        assert_eq!(ping.opcode, PING);
        assert!(!ping.masked);
        // The ping interval passed with nothing received.
        assert_virtual_time(pinged_after, INTERVAL, "pinged");

        // Stay silent: the server sends a close frame with 1011, then closes the transport.
        let close = read_frame(&mut raw).await.expect("a close frame");
        assert_virtual_time(started.elapsed(), INTERVAL + PONG_TIMEOUT, "closed");
        assert_eq!(close.close_code(), 1011, "{close:?}");
        assert_eq!(&close.payload[2..], b"keepalive timeout");
        expect_eof(&mut raw).await;
        let (result, failed_after, ended) = server.await.unwrap();
        let err = result.expect("an item").expect_err("a keepalive failure");
        assert!(
            matches!(err, Error::Protocol(wslane::Error::KeepaliveTimeout)),
            "{err:?}"
        );
        assert_eq!(err.close_code(), Some(CloseCode::INTERNAL_ERROR));
        // The pong timeout passed after the ping with nothing received.
        assert_virtual_time(failed_after, INTERVAL + PONG_TIMEOUT, "failed");
        assert!(ended, "the stream ends after the failure");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn peer_answering_pings_keeps_the_connection_open() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client_in_memory(keepalive(INTERVAL)).await;
        let started = Instant::now();
        let server = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(message) = server.next().await {
                seen.push(message.unwrap());
            }
            seen
        });

        // Answer every ping at once, for four intervals (and half of one, so that no ping falls on the
        // end).
        let until = started + 4 * INTERVAL + INTERVAL / 2;
        let mut pings: u32 = 0;
        let mut last = started;
        while let Ok(frame) = tokio::time::timeout_at(until, read_frame(&mut raw)).await {
            let frame = frame.expect("the server closed the connection");
            assert_eq!(frame.opcode, PING, "{frame:?}");
            // Each ping comes an interval after the last sign of life: the start, then each pong.
            assert_virtual_time(last.elapsed(), INTERVAL, &format!("ping {pings} came"));
            last = Instant::now();
            pings += 1;
            raw.write_all(&client_frame(PONG, &frame.payload))
                .await
                .unwrap();
        }
        assert_eq!(pings, 4, "{pings} pings");
        assert!(!server.is_finished(), "the connection is still open");

        raw.write_all(&client_frame(CLOSE, &close_body(1000, "")))
            .await
            .unwrap();
        assert_eq!(read_frame(&mut raw).await.unwrap().close_code(), 1000);
        expect_eof(&mut raw).await;
        let seen = server.await.unwrap();
        let (close, pongs) = seen.split_last().unwrap();
        assert!(matches!(close, Message::Close(Some(_))), "{close:?}");
        assert_eq!(pongs.len(), 4, "one pong per ping");
        assert!(pongs.iter().all(|m| matches!(m, Message::Pong(_))));
    })
    .await;
}

/// A client with keepalive and a `wslane` server that only reads (its pongs are automatic): the
/// connection stays open across many intervals of silence and still carries messages.
#[tokio::test(start_paused = true)]
async fn reading_peer_answers_pings_by_itself() {
    bounded(async {
        const CLIENT_INTERVAL: Duration = Duration::from_millis(40);
        let (client_io, server_io) = tokio::io::duplex(PIPE);
        let (client, server) = tokio::join!(
            wslane_tokio::client_on(client_io, in_memory_request(), keepalive(CLIENT_INTERVAL)),
            wslane_tokio::accept(server_io),
        );
        let (mut client, _) = client.unwrap();
        let server = tokio::spawn(echo(server.unwrap()));
        let started = Instant::now();
        // Read (and so run the timers) through six intervals of application silence: only the pongs
        // answering the keepalive pings arrive, each an interval after the one before (the pong is the
        // last sign of life). Half an interval more keeps the end off a ping.
        let until = started + 6 * CLIENT_INTERVAL + CLIENT_INTERVAL / 2;
        let mut pongs = 0;
        let mut last = started;
        while let Ok(item) = tokio::time::timeout_at(until, client.next()).await {
            let message = item.expect("the connection is open").unwrap();
            assert!(matches!(message, Message::Pong(_)), "{message:?}");
            assert_virtual_time(
                last.elapsed(),
                CLIENT_INTERVAL,
                &format!("pong {pongs} came"),
            );
            last = Instant::now();
            pongs += 1;
        }
        assert_eq!(pongs, 6, "{pongs} pongs");
        client.send(Message::text("still here")).await.unwrap();
        assert_eq!(
            client.next().await.unwrap().unwrap(),
            Message::text("still here")
        );
        client.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap().unwrap();
    })
    .await;
}

/// Data from the peer counts as a sign of life just as a pong does: a peer that keeps talking (without
/// answering pings) is never given up on.
#[tokio::test(start_paused = true)]
async fn peer_sending_data_keeps_the_connection_open() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client_in_memory(keepalive(INTERVAL)).await;
        let server = tokio::spawn(async move {
            let mut count = 0;
            while let Some(message) = server.next().await {
                if message.unwrap().is_data() {
                    count += 1;
                }
            }
            count
        });
        for _ in 0..12 {
            raw.write_all(&client_frame(TEXT, b"tick")).await.unwrap();
            tokio::time::sleep(INTERVAL / 3).await;
        }
        assert!(!server.is_finished());
        raw.write_all(&client_frame(CLOSE, &close_body(1000, "")))
            .await
            .unwrap();
        // Data came three times an interval, so the peer was never silent for an interval and no ping was
        // sent: the first frame is the close reply.
        let reply = read_frame(&mut raw).await.expect("a close reply");
        assert_eq!(reply.close_code(), 1000, "{reply:?}");
        expect_eof(&mut raw).await;
        assert_eq!(server.await.unwrap(), 12);
    })
    .await;
}
