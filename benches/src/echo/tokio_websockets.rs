//! tokio-websockets as an echo server over `tokio::io::duplex`: `next()` then `feed()` for each message,
//! and `flush()` when no further message is ready (the input ran dry), so a batch of replies goes out in
//! few writes. (`feed` itself also flushes once more than `flush_threshold`, 8 KiB by default, is queued.)

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_websockets::ServerBuilder;

use super::{Case, DuplexClient, Echo};

/// Serves one connection on `stream` (any stream, already past the opening handshake) until it ends. The
/// default limits (64 MiB payloads) hold the largest benchmark message.
///
/// # Errors
///
/// What the connection failed with.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
) -> Result<(), tokio_websockets::Error> {
    let mut ws = ServerBuilder::new().serve(stream);
    loop {
        // `next` is cancel-safe: when nothing is ready without waiting, flush, then wait.
        let next = match ws.next().now_or_never() {
            Some(next) => next,
            None => {
                ws.flush().await?;
                ws.next().await
            }
        };
        let Some(message) = next else {
            return Ok(());
        };
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.feed(message).await?;
        }
    }
}

/// The tokio-websockets echo server and its client.
#[derive(Debug)]
pub struct TokioWebsockets {
    client: DuplexClient,
}

impl Echo for TokioWebsockets {
    const NAME: &'static str = "tokio_websockets";

    fn new(case: &Case) -> TokioWebsockets {
        let client = DuplexClient::start(case, |stream| async move {
            if let Err(err) = serve(stream).await {
                eprintln!("{}: {err}", Self::NAME);
            }
        });
        TokioWebsockets { client }
    }

    fn round(&mut self) -> usize {
        self.client.round(None)
    }

    fn round_captured(&mut self) -> Vec<u8> {
        self.client.round_captured()
    }
}
