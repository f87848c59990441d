//! The write timeout: a peer that stops reading is cut off once our output has made no progress for
//! `write_timeout`, even while the task is blocked in `send`; a peer that reads slowly but steadily is not.
//!
//! Every test runs on tokio's paused clock over a small in-memory pipe, so the pipe fills at once and the
//! instants are exact.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use support::*;
use tokio::io::{AsyncReadExt, DuplexStream};
use tokio::time::Instant;
use wslane_tokio::{Acceptance, CloseCode, Config, Error, Message, ServerConfig, WebSocketStream};

const WRITE_TIMEOUT: Duration = Duration::from_millis(200);
/// Bytes each way in the pipe: far less than the message sent.
const SMALL_PIPE: usize = 1024;

/// A server with the write timeout (and no keepalive) and a raw client, over a small pipe.
async fn server_over_small_pipe() -> (WebSocketStream<DuplexStream>, DuplexStream) {
    let mut config = Config::default();
    config.ping_interval = None;
    config.write_timeout = Some(WRITE_TIMEOUT);
    let (server_io, mut raw) = tokio::io::duplex(SMALL_PIPE);
    let (accepted, ()) = tokio::join!(
        wslane_tokio::accept_with(server_io, ServerConfig::default(), config, |_| {
            Ok(Acceptance::new())
        }),
        raw_client_handshake(&mut raw)
    );
    (accepted.unwrap(), raw)
}

#[tokio::test(start_paused = true)]
async fn send_to_a_peer_that_never_reads_fails_at_the_write_timeout() {
    bounded(async {
        let (mut server, mut raw) = server_over_small_pipe().await;
        let started = Instant::now();
        // The pipe takes its first kilobyte at once, then nothing more.
        let result = server.send(Message::binary(vec![7; 64 << 10])).await;
        assert_virtual_time(started.elapsed(), WRITE_TIMEOUT, "send failed");
        let err = result.expect_err("a write timeout");
        assert!(
            matches!(err, Error::Protocol(wslane::Error::WriteTimeout)),
            "{err:?}"
        );
        assert_eq!(err.close_code(), Some(CloseCode::INTERNAL_ERROR));
        // The transport is closed: the peer reads what was in the pipe, then the end.
        let mut received = Vec::new();
        raw.read_to_end(&mut received).await.unwrap();
        assert_eq!(received.len(), SMALL_PIPE, "only what the pipe held");
        assert!(server.next().await.is_none(), "the stream has ended");
    })
    .await;
}

/// The timer restarts at every transmission that makes progress: a message that takes many write
/// timeouts to go out, to a peer that keeps reading, is delivered.
#[tokio::test(start_paused = true)]
async fn a_peer_that_reads_slowly_but_steadily_is_not_cut_off() {
    bounded(async {
        let (mut server, mut raw) = server_over_small_pipe().await;
        const LEN: usize = 8 << 10;
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            let mut buf = [0; 512];
            // Half a pipe every half a write timeout: about 16 write timeouts in all.
            while received.len() < LEN + 4 {
                tokio::time::sleep(WRITE_TIMEOUT / 2).await;
                let n = raw.read(&mut buf).await.unwrap();
                assert_ne!(n, 0, "the server closed the transport");
                received.extend_from_slice(&buf[..n]);
            }
            (received, raw)
        });
        let started = Instant::now();
        server.send(Message::binary(vec![7; LEN])).await.unwrap();
        assert!(
            started.elapsed() > 4 * WRITE_TIMEOUT,
            "{:?}",
            started.elapsed()
        );
        let (received, _raw) = reader.await.unwrap();
        // The frame: a 4-byte header (126, 16-bit length), then the payload.
        assert_eq!(received.len(), LEN + 4);
        assert_eq!(server.connection().state(), wslane::State::Open);
    })
    .await;
}
