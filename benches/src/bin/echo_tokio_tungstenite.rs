//! Echo server on tokio-tungstenite, for the loopback load tool: every text and binary message comes back.
//!
//! ```text
//! echo_tokio_tungstenite 127.0.0.1:9002
//! ```
//!
//! Written as tokio-tungstenite's own `echo-server` example: the stream is split and the read half is
//! forwarded into the write half, which writes when its buffer fills or the input runs dry. The default
//! limits (64 MiB messages, 16 MiB frames) already let 1 MiB messages through; they are spelled out here.

use futures_util::{future, StreamExt, TryStreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        tokio::spawn(echo(tcp));
    }
}

async fn echo(tcp: TcpStream) {
    let peer = tcp.peer_addr().ok();
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(16 << 20));
    let ws = match tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await {
        Ok(ws) => ws,
        Err(err) => return eprintln!("{peer:?}: handshake failed: {err}"),
    };
    let (write, read) = ws.split();
    let echoed = read
        .try_filter(|message| future::ready(message.is_text() || message.is_binary()))
        .forward(write)
        .await;
    match echoed {
        // Once the close handshake is done, forwarding ends by finding the connection closed.
        Ok(()) | Err(Error::ConnectionClosed | Error::AlreadyClosed) => {}
        Err(err) => eprintln!("{peer:?}: {err}"),
    }
}
