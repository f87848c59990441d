//! Echoes every text and binary message from one thread, for conformance and load tests.
//!
//! ```text
//! cargo run -p wslane-mio --example mio_echo_server -- 127.0.0.1:9001
//! ```
//!
//! Replies are queued on the connection and written when the loop has handled what was read, so a client
//! that pipelines many messages gets many replies per write.

use std::net::SocketAddr;

use std::sync::Arc;

use wslane_mio::{
    Config, ConnectionId, Context, DeflateConfig, Event, Handler, PerMessageDeflate, Server,
    ServerConfig,
};

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

    fn on_handshake_error(&mut self, peer: SocketAddr, error: wslane_mio::Error) {
        eprintln!("{peer}: handshake failed: {error}");
    }
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
    println!("echo server listening on ws://{}", server.local_addr()?);
    server.run(&mut Echo)
}
