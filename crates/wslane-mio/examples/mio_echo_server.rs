//! Echoes every text and binary message from one thread, for conformance and load tests.
//!
//! ```text
//! cargo run -p wslane-mio --example mio_echo_server -- 127.0.0.1:9001
//! ```
//!
//! Replies are queued on the connection and written when the loop has handled what was read, so a client
//! that pipelines many messages gets many replies per write.
//!
//! Every path accepts WebSocket connections. A plain HTTP `GET /` (a browser opening
//! <http://127.0.0.1:9001/>) gets the WebSocket client page of the tokio examples (`client.html`), which
//! connects back to this server; a plain `GET` of any other path gets 426 Upgrade Required.

use std::net::SocketAddr;
use std::sync::Arc;

use wslane_mio::{
    Config, ConnectionId, Context, DeflateConfig, Event, Handler, PerMessageDeflate, Server,
    ServerConfig,
};

const PAGE: &str = include_str!("../../wslane-tokio/examples/client.html");
const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

struct Echo;

impl Handler for Echo {
    fn on_event(&mut self, ctx: &mut Context<'_>, id: ConnectionId, event: Event<'_>) {
        let result = match event {
            Event::Text(text) => ctx.send_text(id, text),
            Event::Binary(data) => ctx.send_binary(id, data),
            _ => Ok(()),
        };
        // The loop pauses a connection whose output is full, so an answer on the same connection always
        // finds room; it can fail only once the connection is closing.
        if let Err(err) = result {
            eprintln!("{id}: {err}");
        }
    }

    fn on_http_get(&mut self, _: SocketAddr, target: &str) -> Option<Vec<u8>> {
        Some(match target {
            "/" => http_response("200 OK", &[("Content-Type", HTML)], PAGE),
            // Any other path is a WebSocket endpoint only.
            _ => http_response(
                "426 Upgrade Required",
                &[("Upgrade", "websocket"), ("Content-Type", TEXT)],
                "a WebSocket endpoint: connect with a WebSocket client\n",
            ),
        })
    }

    fn on_handshake_error(&mut self, peer: SocketAddr, error: wslane_mio::Error) {
        eprintln!("{peer}: handshake failed: {error}");
    }
}

/// A whole HTTP/1.1 response that closes the connection.
fn http_response(status: &str, fields: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in fields {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    [head.as_bytes(), body.as_bytes()].concat()
}

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:9001")
        .parse()
        .map_err(std::io::Error::other)?;
    let mut config = Config::default();
    // Autobahn's largest cases send 16 MiB messages in frames up to that size.
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    // permessage-deflate when the client offers it, at the fastest level.
    let mut handshake = ServerConfig::default();
    let deflate = PerMessageDeflate::new(DeflateConfig::fastest());
    handshake.extensions.push(Arc::new(deflate));
    let mut server = Server::bind(addr, handshake, config)?;
    let local = server.local_addr()?;
    println!("echo server listening on ws://{local}");
    println!("browser client page on http://{local}/");
    server.run(&mut Echo)
}
