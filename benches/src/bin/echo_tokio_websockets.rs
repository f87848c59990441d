//! Echo server on tokio-websockets, for the loopback load tool: every text and binary message comes back.
//!
//! ```text
//! echo_tokio_websockets 127.0.0.1:9003
//! ```
//!
//! Written as tokio-websockets' own `echo_server` example: each connection task runs unconstrained by
//! tokio's cooperative budget and sends (writes and flushes) each message as it arrives. The default payload
//! limit (64 MiB) already lets 1 MiB messages through; it is spelled out here.

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_websockets::{Config, Limits, ServerBuilder};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        tokio::spawn(tokio::task::unconstrained(echo(tcp)));
    }
}

async fn echo(tcp: TcpStream) {
    let peer = tcp.peer_addr().ok();
    let accepted = ServerBuilder::new()
        .config(Config::default())
        .limits(Limits::default().max_payload_len(Some(64 << 20)))
        .accept(tcp)
        .await;
    let mut ws = match accepted {
        Ok((_request, ws)) => ws,
        Err(err) => return eprintln!("{peer:?}: handshake failed: {err}"),
    };
    while let Some(message) = ws.next().await {
        let result = match message {
            Ok(message) if message.is_text() || message.is_binary() => ws.send(message).await,
            Ok(_) => Ok(()),
            Err(err) => Err(err),
        };
        if let Err(err) = result {
            eprintln!("{peer:?}: {err}");
            break;
        }
    }
}
