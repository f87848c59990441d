//! A chat room: one process serves the page on `/` and the WebSocket endpoint on `/ws`, on one port.
//!
//! ```text
//! cargo run -p wslane-tokio --example chat              # http://127.0.0.1:8080/
//! cargo run -p wslane-tokio --example chat -- 0.0.0.0:9000
//! cargo run -p wslane-tokio --example chat -- --axum    # the same room served by axum
//! cargo run -p wslane-tokio --example chat -- --tls     # https://127.0.0.1:8080/, HTTP/1.1 and HTTP/2
//! ```
//!
//! Usage: `chat [ADDR] [--axum] [--tls]`. Three front ends serve the same page and the same room:
//!
//! - by default, the raw tokio adapter (`tokio_server.rs`): the core reads each HTTP/1.1 request;
//! - `--axum`: an axum router with `wslane-hyper`'s extractor (`axum_server.rs`), HTTP/1.1 and HTTP/2
//!   with prior knowledge (h2c) on the same port;
//! - `--tls`: the axum front end over rustls, with ALPN `h2` and `http/1.1` and a self-signed certificate
//!   made at start (rcgen). A browser that loads the page over HTTP/2 opens its WebSocket as a stream of
//!   the same connection (RFC 8441).
//!
//! The room (`room.rs`) is the same in every mode: every message is broadcast to every member, with join
//! and leave notices; each WebSocket connection is named `guest-<n>` (page loads do not use up numbers)
//! and told its name, and the log says over which HTTP version it came. The endpoint accepts only the
//! page's own origin (a page on another site cannot open a socket with a visitor's cookies).
//! Broadcasting never waits: it queues each line with `try_send`, and a member whose output is full (it
//! does not read) is cut off at once through its abort handle, with a best-effort 1013 (try again later)
//! close frame and a log line, so it never stalls the others and its connection does not linger.

mod axum_server;
mod room;
mod tokio_server;

use std::sync::Arc;

use wslane_tokio::{Config, PerMessageDeflate, Request, ServerConfig};

const PAGE: &str = include_str!("chat.html");
/// A tiny icon, so that a browser's `/favicon.ico` request finds one.
const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#234"/></svg>"##;
/// Bytes of output a member may have waiting before it counts as too slow.
const BACKLOG: usize = 256 << 10;
/// The longest chat line accepted.
const MAX_LINE: usize = 4096;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (mut addr, mut axum, mut tls) = ("127.0.0.1:8080".to_owned(), false, false);
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--axum" => axum = true,
            "--tls" => tls = true,
            flag if flag.starts_with('-') => {
                eprintln!("unknown option {flag}\nusage: chat [ADDR] [--axum] [--tls]");
                std::process::exit(2);
            }
            _ => addr = arg,
        }
    }
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    if tls {
        let acceptor = axum_server::tls_acceptor(local)?;
        println!("chat on https://{local}/ (axum, HTTP/1.1 and HTTP/2 over TLS)");
        println!("the certificate is self-signed, made at start: the browser warns about it once");
        axum_server::run(listener, Some(acceptor)).await
    } else if axum {
        println!("chat on http://{local}/ (axum, HTTP/1.1 and h2c)");
        axum_server::run(listener, None).await
    } else {
        println!("chat on http://{local}/");
        tokio_server::run(listener).await
    }
}

/// The handshake settings: permessage-deflate, which browsers offer on every connection.
fn server_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config
        .extensions
        .push(Arc::new(PerMessageDeflate::default()));
    config
}

/// Each member's connection settings: the longest line, and the backlog past which it is too slow.
fn member_config() -> Config {
    let mut config = Config::default();
    config.max_message_size = MAX_LINE;
    config.max_output_buffer = BACKLOG;
    config
}

/// Whether a WebSocket request comes from the page this server serves: its origin is this host, over
/// `scheme` (`http` or `https`). Logs a refusal.
fn same_origin(request: &Request, scheme: &str) -> bool {
    let own_origin = format!("{scheme}://{}", request.host());
    let same = request.origin() == Some(own_origin.as_str());
    if !same {
        eprintln!("refused origin {:?}", request.origin());
    }
    same
}
