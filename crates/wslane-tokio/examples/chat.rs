//! A chat room: one process serves the page on `/` and the WebSocket endpoint on `/ws`, on one port.
//!
//! ```text
//! cargo run -p wslane-tokio --example chat              # http://127.0.0.1:8080/
//! cargo run -p wslane-tokio --example chat -- 0.0.0.0:9000
//! ```
//!
//! Every message is broadcast to every client, with join and leave notices; each WebSocket connection is
//! named `guest-<n>` (page loads do not use up numbers) and told its name. The endpoint accepts only the
//! page's own origin (a page on another site cannot open a socket with a visitor's cookies). Broadcasting
//! never waits: it queues each line with `try_send`, and a client whose output is full (it does not read)
//! is cut off at once through its abort handle, with a best-effort 1013 (try again later) close frame and
//! a log line, so it never stalls the others and its connection does not linger.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use wslane_tokio::{
    Acceptance, CloseCode, Config, Error, Message, PerMessageDeflate, ServerConfig, ServerError,
    ServerHandshake, TrySendError, WriteHalf,
};

const PAGE: &str = include_str!("chat.html");
/// A tiny icon, so that a browser's `/favicon.ico` request finds one.
const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#234"/></svg>"##;
/// Bytes of output a client may have waiting before it counts as too slow.
const BACKLOG: usize = 256 << 10;
/// The longest chat line accepted.
const MAX_LINE: usize = 4096;

/// Each client's sending half, by id.
type Clients = Arc<Mutex<HashMap<u64, WriteHalf<TcpStream>>>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat on http://{}/", listener.local_addr()?);
    let clients = Clients::default();
    // The next guest number, taken by each WebSocket connection once it is upgraded.
    let ids = Arc::new(AtomicU64::new(1));
    loop {
        let (tcp, peer) = listener.accept().await?;
        let (clients, ids) = (clients.clone(), ids.clone());
        tokio::spawn(async move {
            if let Err(err) = serve(tcp, ids, clients).await {
                eprintln!("{peer}: {err}");
            }
        });
    }
}

/// Routes one HTTP connection: the page, its icon, the WebSocket endpoint, or 404.
async fn serve(tcp: TcpStream, ids: Arc<AtomicU64>, clients: Clients) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let mut io = tcp;
    let mut handshake = ServerHandshake::new(server_config());
    let request = match wslane_tokio::read_request(&mut io, &mut handshake).await {
        Ok(request) => request,
        // A plain HTTP request: the page, or nothing.
        Err(Error::Request(ServerError::NotWebSocketUpgrade)) => {
            return match handshake.target() {
                Some("/") => respond(io, "200 OK", "text/html; charset=utf-8", PAGE).await,
                Some("/favicon.ico") => respond(io, "200 OK", "image/svg+xml", ICON).await,
                _ => respond(io, "404 Not Found", "text/plain", "not found\n").await,
            };
        }
        // A browser may open a connection it never uses.
        Err(Error::Io(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
        Err(Error::Request(err)) => {
            io.write_all(&err.to_response()).await?;
            return Err(Error::Request(err));
        }
        Err(err) => return Err(err),
    };
    if request.path() != "/ws" {
        return respond(io, "404 Not Found", "text/plain", "not found\n").await;
    }
    // Only the page this server serves may connect: its origin is this host, over http.
    let own_origin = format!("http://{}", request.host());
    if request.origin() != Some(own_origin.as_str()) {
        eprintln!("refused origin {:?}", request.origin());
        return respond(io, "403 Forbidden", "text/plain", "origin not allowed\n").await;
    }
    let mut config = Config::default();
    config.max_message_size = MAX_LINE;
    config.max_output_buffer = BACKLOG;
    let ws = wslane_tokio::upgrade(io, request, Acceptance::new(), config).await?;
    chat(ws, ids.fetch_add(1, Ordering::Relaxed), clients).await
}

/// The handshake settings: permessage-deflate, which browsers offer on every connection.
fn server_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config
        .extensions
        .push(Arc::new(PerMessageDeflate::default()));
    config
}

async fn respond(mut tcp: TcpStream, status: &str, kind: &str, body: &str) -> Result<(), Error> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await?;
    tcp.write_all(body.as_bytes()).await?;
    tcp.shutdown().await?;
    Ok(())
}

/// One chat member: its messages go to everyone; everyone's messages are queued on its sending half, and
/// its receiving loop writes them out.
async fn chat(
    mut ws: wslane_tokio::WebSocketStream<TcpStream>,
    id: u64,
    clients: Clients,
) -> Result<(), Error> {
    let name = format!("guest-{id}");
    ws.send(Message::text(welcome(&name))).await?;
    let (mut reader, writer) = ws.split();
    clients.lock().unwrap().insert(id, writer);
    broadcast(&clients, &notice(&format!("{name} joined")));

    let result = async {
        while let Some(message) = reader.next().await {
            if let Message::Text(text) = message? {
                broadcast(&clients, &said(&name, &text));
            }
        }
        Ok(())
    }
    .await;

    let removed = clients.lock().unwrap().remove(&id).is_some();
    if removed {
        broadcast(&clients, &notice(&format!("{name} left")));
    }
    match result {
        // Cut off by `broadcast`, which said so.
        Err(Error::Aborted) => Ok(()),
        result => result,
    }
}

/// Queues `line` for every client, without waiting. A client whose output is full is aborted: its socket
/// is closed now, even though its receiving loop waits on a peer that does not read.
fn broadcast(clients: &Clients, line: &str) {
    let mut clients = clients.lock().unwrap();
    clients.retain(|id, ws| match ws.try_send(Message::text(line)) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            eprintln!("client {id}: too slow, disconnecting with 1013");
            ws.abort_handle()
                .abort(CloseCode::TRY_AGAIN_LATER, "too slow");
            false
        }
        Err(_) => false,
    });
}

/// Tells a new client its own name.
fn welcome(name: &str) -> String {
    format!(r#"{{"kind":"welcome","name":{}}}"#, json_string(name))
}

fn notice(text: &str) -> String {
    format!(r#"{{"kind":"notice","text":{}}}"#, json_string(text))
}

fn said(from: &str, text: &str) -> String {
    format!(
        r#"{{"kind":"message","from":{},"text":{}}}"#,
        json_string(from),
        json_string(text)
    )
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
