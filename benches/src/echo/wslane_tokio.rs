//! wslane-tokio as an echo server over `tokio::io::duplex`: `recv_with_reply` answers each message from
//! the borrowed payload through the connection's `Sender` (no owned message, no allocation), and the
//! driver writes the queued replies by itself when the received input runs dry.

use tokio::io::{AsyncRead, AsyncWrite};
use wslane::{Config, Connection, Event, Instant};
use wslane_tokio::WebSocketStream;

use super::{Case, DuplexClient, Echo};

/// Serves one connection on `stream` (any stream, already past the opening handshake) until it ends.
///
/// # Errors
///
/// What the connection failed with.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
) -> Result<(), wslane_tokio::Error> {
    let mut ws = WebSocketStream::new(stream, Connection::server(Instant::ZERO, Config::default()));
    echo(&mut ws).await
}

/// Echoes every data message of `ws` until the connection ends, each reply queued from the borrowed
/// payload, as the `echo_server` example does.
///
/// # Errors
///
/// What the connection failed with.
pub async fn echo<S>(ws: &mut WebSocketStream<S>) -> Result<(), wslane_tokio::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(result) = ws
        .recv_with_reply(|event, sender| match event {
            Event::Text(text) => sender.send_text(text),
            Event::Binary(data) => sender.send_binary(data),
            _ => Ok(()),
        })
        .await
    {
        result??;
    }
    Ok(())
}

/// Serves one connection on `stream` as an application holding owned messages does: `recv` then `feed`
/// for each data message (the payload copied out of the receive buffer once, then sent from its own
/// allocation), the queued replies written when the input runs dry.
///
/// # Errors
///
/// What the connection failed with.
pub async fn serve_owned<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
) -> Result<(), wslane_tokio::Error> {
    let mut ws = WebSocketStream::new(stream, Connection::server(Instant::ZERO, Config::default()));
    while let Some(message) = ws.recv().await {
        let message = message?;
        if message.is_data() {
            ws.feed(message).await?;
        }
    }
    Ok(())
}

/// The wslane-tokio echo server and its client.
#[derive(Debug)]
pub struct WslaneTokio {
    client: DuplexClient,
}

impl Echo for WslaneTokio {
    const NAME: &'static str = "wslane_tokio";

    fn new(case: &Case) -> WslaneTokio {
        let client = DuplexClient::start(case, |stream| async move {
            if let Err(err) = serve(stream).await {
                eprintln!("{}: {err}", Self::NAME);
            }
        });
        WslaneTokio { client }
    }

    fn round(&mut self) -> usize {
        self.client.round(None)
    }

    fn round_captured(&mut self) -> Vec<u8> {
        self.client.round_captured()
    }
}
