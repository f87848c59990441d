//! Echoes every text and binary message, for conformance and load tests, on async-std.
//!
//! ```text
//! cargo run -p wslane-async-std --example async_std_echo_server -- 127.0.0.1:9001
//! ```
//!
//! permessage-deflate is negotiated when the client offers it. Replies are queued from the borrowed
//! payload and go out together when the received input runs dry.

use wslane_async_std::{
    Acceptance, Config, DeflateConfig, Error, Event, PerMessageDeflate, ServerConfig,
};

#[async_std::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = async_std::net::TcpListener::bind(&addr).await?;
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
        async_std::task::spawn(async move {
            let accepted = wslane_async_std::accept_with(tcp, server, Config::default(), |_| {
                Ok(Acceptance::new())
            });
            let mut ws = match accepted.await {
                Ok(ws) => ws,
                Err(err) => return eprintln!("{peer}: handshake failed: {err}"),
            };
            if let Err(err) = echo(&mut ws).await {
                eprintln!("{peer}: {err}");
            }
        });
    }
}

/// Echoes every data message until the connection ends. Each reply is queued straight from the received
/// payload, borrowed (no owned message, no allocation), and the replies go out together when the received
/// input runs dry, so a client that pipelines many messages gets many replies per write.
async fn echo(
    ws: &mut wslane_async_std::WebSocketStream<async_std::net::TcpStream>,
) -> Result<(), Error> {
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
