//! A chat with rooms: one process serves the page on `/` and the WebSocket endpoint on `/ws`, on one port;
//! with `--redis`, several processes share the rooms through Redis pub/sub.
//!
//! ```text
//! cargo run -p wslane-tokio --example chat              # http://127.0.0.1:8080/
//! cargo run -p wslane-tokio --example chat -- 0.0.0.0:9000
//! cargo run -p wslane-tokio --example chat -- --axum    # the same rooms served by axum
//! cargo run -p wslane-tokio --example chat -- --tls     # https://127.0.0.1:8080/, HTTP/1.1 and HTTP/2
//! cargo run -p wslane-tokio --example chat -- 127.0.0.1:8081 --redis redis://127.0.0.1:6379/
//! ```
//!
//! Usage: `chat [ADDR] [--axum] [--tls] [--redis URL]`. Three front ends serve the same page and rooms:
//!
//! - by default, the raw tokio adapter (`tokio_server.rs`): the core reads each HTTP/1.1 request;
//! - `--axum`: an axum router with `wslane-hyper`'s extractor (`axum_server.rs`), HTTP/1.1 and HTTP/2
//!   with prior knowledge (h2c) on the same port;
//! - `--tls`: the axum front end over rustls, with ALPN `h2` and `http/1.1` and a self-signed certificate
//!   made at start (rcgen). A browser that loads the page over HTTP/2 opens its WebSocket as a stream of
//!   the same connection (RFC 8441).
//!
//! The rooms (`room.rs`) are the same in every mode. A page joins the room its URL names
//! (`/?room=NAME`, letters, digits, `-` and `_`), or `lobby`. Each room is a topic
//! (`wslane_tokio::Topics`): every line is framed (and compressed) once and published to every member,
//! with join and leave notices; each WebSocket connection is named `guest-<n>` (page loads do not use up
//! numbers) and told its name, and the log says over which HTTP version it came. The endpoint accepts
//! only the page's own origin (a page on another site cannot open a socket with a visitor's cookies).
//! Publishing never waits: a member whose output is full (it does not read) is cut off at once with a
//! best-effort 1013 (try again later) close frame and a log line, so it never stalls the others and its
//! connection does not linger.
//!
//! `--redis URL` (any front end): the process relays its rooms through Redis (`redis_relay.rs`), so that
//! members of every process sharing that Redis meet in the same rooms. Names carry a tag of the process
//! (`guest-3@k7qx`), so they stay unique across processes. A process that dies takes only its own
//! members with it; when Redis goes away each process goes on serving its own members, reconnects with
//! backoff, and logs the gap. `docs/broadcasting.md` ("Scaling out") has the details.

mod axum_server;
mod event;
mod node;
mod redis_relay;
mod relay_wire;
mod room;
mod tokio_server;

use std::sync::Arc;

use wslane_tokio::{Config, PerMessageDeflate, Request, ServerConfig};

use crate::node::Node;
use crate::redis_relay::Relay;
use crate::room::Rooms;

const PAGE: &str = include_str!("chat.html");
/// A tiny icon, so that a browser's `/favicon.ico` request finds one.
const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#234"/></svg>"##;
/// Bytes of output a member may have waiting before it counts as too slow.
const BACKLOG: usize = 256 << 10;
/// The longest chat line accepted.
const MAX_LINE: usize = 4096;

const USAGE: &str = "usage: chat [ADDR] [--axum] [--tls] [--redis URL]";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (mut addr, mut axum, mut tls) = ("127.0.0.1:8080".to_owned(), false, false);
    let mut redis = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--axum" => axum = true,
            "--tls" => tls = true,
            "--redis" => match args.next() {
                Some(url) => redis = Some(url),
                None => usage_error("--redis needs a URL, such as redis://127.0.0.1:6379/"),
            },
            flag if flag.starts_with("--redis=") => {
                redis = Some(flag["--redis=".len()..].to_owned())
            }
            flag if flag.starts_with('-') => usage_error(&format!("unknown option {flag}")),
            _ => addr = arg,
        }
    }
    let rooms = match redis {
        None => Rooms::new(),
        Some(url) => {
            let node = Node::random();
            let topics = room::topics();
            let relay = Relay::start(&url, topics.clone(), &node)
                .unwrap_or_else(|err| usage_error(&format!("--redis {url}: {err}")));
            Rooms::with_topics(topics, format!("@{}", node.tag), Some(relay))
        }
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    if tls {
        let acceptor = axum_server::tls_acceptor(local)?;
        println!("chat on https://{local}/ (axum, HTTP/1.1 and HTTP/2 over TLS)");
        println!("the certificate is self-signed, made at start: the browser warns about it once");
        axum_server::run(listener, Some(acceptor), rooms).await
    } else if axum {
        println!("chat on http://{local}/ (axum, HTTP/1.1 and h2c)");
        axum_server::run(listener, None, rooms).await
    } else {
        println!("chat on http://{local}/");
        tokio_server::run(listener, rooms).await
    }
}

/// Ends the process with `problem` and the usage line.
fn usage_error(problem: &str) -> ! {
    eprintln!("{problem}\n{USAGE}");
    std::process::exit(2);
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
