//! An axum server that echoes every text and binary message, on any path, over HTTP/1.1 and over
//! HTTP/2 (cleartext with prior knowledge, RFC 8441) on the same port, for conformance and load tests.
//!
//! ```text
//! cargo run -p wslane-hyper --features axum --example axum_echo -- 127.0.0.1:9001
//! ```
//!
//! permessage-deflate is negotiated when the client offers it. Replies are queued from the borrowed
//! payload and go out together when the received input runs dry, as in the `echo_server` examples.

use std::sync::Arc;

use axum::response::Response;
use axum::routing::any;
use axum::serve::ListenerExt;
use axum::{Extension, Router};
use wslane_hyper::{
    Config, DeflateConfig, Error, Event, PerMessageDeflate, ServerConfig, WebSocket,
    WebSocketUpgrade,
};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "axum echo server listening on ws://{}",
        listener.local_addr()?
    );
    // Compression is offered by browsers and most clients; accept it, at the fastest level.
    let mut server = ServerConfig::default();
    server
        .extensions
        .push(Arc::new(PerMessageDeflate::new(DeflateConfig::fastest())));
    // `any`: over HTTP/2 a WebSocket arrives as CONNECT. axum::serve speaks HTTP/1.1 and HTTP/2 on one
    // port and enables the extended CONNECT.
    let app = Router::new()
        .fallback(any(upgrade))
        .layer(Extension(Arc::new(server)));
    // Replies are written as soon as they are ready: no Nagle delay, as in the `echo_server` examples.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.config(Config::default())
        .on_upgrade(|mut ws| async move {
            if let Err(err) = echo(&mut ws).await {
                eprintln!("{err}");
            }
        })
}

/// Echoes every data message until the connection ends, each reply queued straight from the received
/// payload.
async fn echo(ws: &mut WebSocket) -> Result<(), Error> {
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
