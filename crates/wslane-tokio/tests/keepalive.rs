//! Keepalive: a silent peer is pinged and then given up on; a peer that answers, or a `wslane` peer that is
//! merely reading, keeps the connection open.
//!
//! Every test runs on tokio's paused clock over in-memory pipes. The clock moves only when every task
//! waits, and then straight to the next timer, so the intervals are exact and take no real time. (Real
//! sockets would not do: the paused clock also jumps while a task waits for the OS, so a timer could fire
//! before a loopback peer had answered.)
//!
//! The rule the timings follow: the keepalive timer ticks every interval from the connection's first
//! poll; a tick that finds no sign of life (any bytes) since the last one sends a ping, and the next
//! such tick with the ping unanswered fails the connection.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;
use wslane_tokio::{CloseCode, Config, Error, Message};

const INTERVAL: Duration = Duration::from_millis(60);

fn keepalive(interval: Duration) -> Config {
    let mut config = Config::default();
    config.keepalive = Some(interval);
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
        // The first tick finds the peer silent.
        assert_virtual_time(pinged_after, INTERVAL, "pinged");

        // Stay silent: the server fails the connection and closes the transport.
        let (result, failed_after, ended) = server.await.unwrap();
        let err = result.expect("an item").expect_err("a keepalive failure");
        assert!(
            matches!(err, Error::Protocol(wslane::Error::KeepaliveTimeout)),
            "{err:?}"
        );
        assert_eq!(err.close_code(), Some(CloseCode::ABNORMAL_CLOSURE));
        // The next tick finds the ping unanswered.
        assert_virtual_time(failed_after, 2 * INTERVAL, "failed");
        assert!(ended, "the stream ends after the failure");
        // Nothing but the end of the transport follows (no data, no further pings).
        while let Some(frame) = read_frame(&mut raw).await {
            assert_eq!(frame.opcode, CLOSE, "unexpected {frame:?}");
        }
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

        // Answer every ping for six intervals (and half of one, so that no tick falls on the end).
        let until = started + 6 * INTERVAL + INTERVAL / 2;
        let mut pings: u32 = 0;
        while let Ok(frame) = tokio::time::timeout_at(until, read_frame(&mut raw)).await {
            let frame = frame.expect("the server closed the connection");
            assert_eq!(frame.opcode, PING, "{frame:?}");
            // A tick after a pong finds the peer alive and sends nothing, so the pings come at every
            // other tick: the first, third and fifth.
            assert_virtual_time(
                started.elapsed(),
                (2 * pings + 1) * INTERVAL,
                &format!("ping {pings} came"),
            );
            pings += 1;
            raw.write_all(&client_frame(PONG, &frame.payload))
                .await
                .unwrap();
        }
        assert_eq!(pings, 3, "{pings} pings");
        assert!(!server.is_finished(), "the connection is still open");

        raw.write_all(&client_frame(CLOSE, &close_body(1000, "")))
            .await
            .unwrap();
        assert_eq!(read_frame(&mut raw).await.unwrap().close_code(), 1000);
        expect_eof(&mut raw).await;
        let seen = server.await.unwrap();
        let (close, pongs) = seen.split_last().unwrap();
        assert!(matches!(close, Message::Close(Some(_))), "{close:?}");
        assert_eq!(pongs.len(), 3, "one pong per ping");
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
        // Read (and so run the timers) through ten intervals of application silence: only the pongs
        // answering the keepalive pings arrive, one at every other tick (a tick after a pong sends
        // nothing): the first, third, fifth, seventh and ninth. Half an interval more keeps the end off a
        // tick.
        let until = started + 10 * CLIENT_INTERVAL + CLIENT_INTERVAL / 2;
        let mut pongs = 0;
        while let Ok(item) = tokio::time::timeout_at(until, client.next()).await {
            let message = item.expect("the connection is open").unwrap();
            assert!(matches!(message, Message::Pong(_)), "{message:?}");
            assert_virtual_time(
                started.elapsed(),
                (2 * pongs + 1) * CLIENT_INTERVAL,
                &format!("pong {pongs} came"),
            );
            pongs += 1;
        }
        assert_eq!(pongs, 5, "{pongs} pongs");
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
        // Data came three times an interval, so every tick found the peer alive and no ping was sent:
        // the first frame is the close reply.
        let reply = read_frame(&mut raw).await.expect("a close reply");
        assert_eq!(reply.close_code(), 1000, "{reply:?}");
        expect_eof(&mut raw).await;
        assert_eq!(server.await.unwrap(), 12);
    })
    .await;
}
