//! Echoes every text and binary message, for conformance and load tests.
//!
//! ```text
//! cargo run -p wslane-tokio --example echo_server -- 127.0.0.1:9001
//! ```
//!
//! permessage-deflate is negotiated when the client offers it. Replies are queued with `feed` and go out together when the received input runs dry, so a client that
//! pipelines many messages gets many replies per write.

use futures_util::StreamExt;
use wslane_tokio::{Acceptance, Config, DeflateConfig, PerMessageDeflate, ServerConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    // Compression is offered by browsers and most clients; accept it, at the fastest level.
    let mut server = ServerConfig::default();
    server
        .extensions
        .push(std::sync::Arc::new(PerMessageDeflate::new(
            DeflateConfig::fastest(),
        )));
    let server = std::sync::Arc::new(server);
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let server = server.clone();
        tokio::spawn(async move {
            let accepted =
                wslane_tokio::accept_with(
                    tcp,
                    server,
                    Config::default(),
                    |_| Ok(Acceptance::new()),
                );
            let mut ws = match accepted.await {
                Ok(ws) => ws,
                Err(err) => return eprintln!("{peer}: handshake failed: {err}"),
            };
            while let Some(message) = ws.next().await {
                let result = match message {
                    Ok(message) if message.is_data() => ws.feed(message).await,
                    Ok(_) => Ok(()),
                    Err(err) => Err(err),
                };
                if let Err(err) = result {
                    eprintln!("{peer}: {err}");
                    break;
                }
            }
        });
    }
}
