//! Keepalive over loopback TCP, on short real intervals: a silent peer is pinged and then given up on; a
//! peer that answers, or a `wslane` peer that is merely reading, keeps the connection open.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use support::*;
use tokio::io::AsyncWriteExt;
use wslane_tokio::{CloseCode, Config, Error, Message};

const INTERVAL: Duration = Duration::from_millis(60);

fn keepalive(interval: Duration) -> Config {
    let mut config = Config::default();
    config.keepalive = Some(interval);
    config
}

#[tokio::test]
async fn silent_peer_is_pinged_then_given_up_on() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client(keepalive(INTERVAL)).await;
        let started = Instant::now();
        let server = tokio::spawn(async move {
            let result = server.next().await;
            (result, started.elapsed(), server.next().await.is_none())
        });

        let ping = read_frame(&mut raw).await.expect("a keepalive ping");
        let pinged_after = started.elapsed();
        assert_eq!(ping.opcode, PING);
        assert!(!ping.masked);
        assert!(pinged_after >= INTERVAL, "pinged after {pinged_after:?}");

        // Stay silent: the server fails the connection and closes the transport.
        let (result, failed_after, ended) = server.await.unwrap();
        let err = result.expect("an item").expect_err("a keepalive failure");
        assert!(
            matches!(err, Error::Protocol(wslane::Error::KeepaliveTimeout)),
            "{err:?}"
        );
        assert_eq!(err.close_code(), Some(CloseCode::ABNORMAL_CLOSURE));
        assert!(
            failed_after >= 2 * INTERVAL,
            "failed after {failed_after:?}"
        );
        assert!(ended, "the stream ends after the failure");
        // Nothing but the end of the transport follows (no data, no further pings).
        while let Some(frame) = read_frame(&mut raw).await {
            assert_eq!(frame.opcode, CLOSE, "unexpected {frame:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn peer_answering_pings_keeps_the_connection_open() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client(keepalive(INTERVAL)).await;
        let server = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(message) = server.next().await {
                seen.push(message.unwrap());
            }
            seen
        });

        // Answer every ping for several intervals.
        let until = tokio::time::Instant::now() + 6 * INTERVAL;
        let mut pings = 0;
        while let Ok(frame) = tokio::time::timeout_at(until, read_frame(&mut raw)).await {
            let frame = frame.expect("the server closed the connection");
            assert_eq!(frame.opcode, PING, "{frame:?}");
            pings += 1;
            raw.write_all(&client_frame(PONG, &frame.payload))
                .await
                .unwrap();
        }
        assert!(pings >= 2, "{pings} pings");
        assert!(!server.is_finished(), "the connection is still open");

        raw.write_all(&client_frame(CLOSE, &close_body(1000, "")))
            .await
            .unwrap();
        assert_eq!(read_frame(&mut raw).await.unwrap().close_code(), 1000);
        expect_eof(&mut raw).await;
        let seen = server.await.unwrap();
        let (close, pongs) = seen.split_last().unwrap();
        assert!(matches!(close, Message::Close(Some(_))), "{close:?}");
        assert_eq!(pongs.len(), pings);
        assert!(pongs.iter().all(|m| matches!(m, Message::Pong(_))));
    })
    .await;
}

/// A client with keepalive and a `wslane` server that only reads (its pongs are automatic): the
/// connection stays open across many intervals of silence and still carries messages.
#[tokio::test]
async fn reading_peer_answers_pings_by_itself() {
    bounded(async {
        let addr = echo_server(Config::default()).await;
        let request =
            wslane_tokio::ClientRequest::new(wslane_tokio::Url::parse(&ws_url(addr, "/")).unwrap());
        let (mut client, _) = wslane_tokio::connect_with(
            request,
            keepalive(Duration::from_millis(40)),
            wslane_tokio::Connector::Default,
        )
        .await
        .unwrap();
        // Read (and so run the timers) through ten intervals of application silence: only the pongs
        // answering the keepalive pings arrive.
        let until = tokio::time::Instant::now() + Duration::from_millis(400);
        let mut pongs = 0;
        while let Ok(item) = tokio::time::timeout_at(until, client.next()).await {
            let message = item.expect("the connection is open").unwrap();
            assert!(matches!(message, Message::Pong(_)), "{message:?}");
            pongs += 1;
        }
        assert!(pongs >= 2, "{pongs} pongs");
        client.send(Message::text("still here")).await.unwrap();
        assert_eq!(
            client.next().await.unwrap().unwrap(),
            Message::text("still here")
        );
        client.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

/// Data from the peer counts as a sign of life just as a pong does: a peer that keeps talking (without
/// answering pings) is never given up on.
#[tokio::test]
async fn peer_sending_data_keeps_the_connection_open() {
    bounded(async {
        let (mut server, mut raw) = server_with_raw_client(keepalive(INTERVAL)).await;
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
        // Pings may have been sent meanwhile; skip to the close reply.
        loop {
            let frame = read_frame(&mut raw).await.expect("a close reply");
            if frame.opcode == CLOSE {
                break;
            }
            assert_eq!(frame.opcode, PING, "{frame:?}");
        }
        expect_eof(&mut raw).await;
        assert_eq!(server.await.unwrap(), 12);
    })
    .await;
}
