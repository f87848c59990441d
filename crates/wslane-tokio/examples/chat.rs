//! A chat room: one process serves the page on `/` and the WebSocket endpoint on `/ws`, on one port.
//!
//! ```text
//! cargo run -p wslane-tokio --example chat              # http://127.0.0.1:8080/
//! cargo run -p wslane-tokio --example chat -- 0.0.0.0:9000
//! ```
//!
//! Every message is broadcast to every client, with join and leave notices. The endpoint accepts only the
//! page's own origin (a page on another site cannot open a socket with a visitor's cookies). Each client has
//! a bounded queue: a client that cannot keep up is disconnected with 1013 (try again later) and a log
//! line, and never stalls the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use wslane_tokio::{
    Acceptance, CloseCode, Config, Error, Message, PerMessageDeflate, ServerConfig, ServerError,
    ServerHandshake,
};

const PAGE: &str = include_str!("chat.html");
/// Messages a client may have waiting before it counts as too slow.
const QUEUE: usize = 256;
/// The longest chat line accepted.
const MAX_LINE: usize = 4096;

/// Each client's outgoing queue, by id.
type Clients = Arc<Mutex<HashMap<u64, mpsc::Sender<Arc<str>>>>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat on http://{}/", listener.local_addr()?);
    let clients = Clients::default();
    let ids = Arc::new(AtomicU64::new(1));
    loop {
        let (tcp, peer) = listener.accept().await?;
        let (clients, id) = (clients.clone(), ids.fetch_add(1, Ordering::Relaxed));
        tokio::spawn(async move {
            if let Err(err) = serve(tcp, id, clients).await {
                eprintln!("{peer}: {err}");
            }
        });
    }
}

/// Routes one HTTP connection: the page, the WebSocket endpoint, or 404.
async fn serve(tcp: TcpStream, id: u64, clients: Clients) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let mut io = tcp;
    let mut handshake = ServerHandshake::new(server_config());
    let request = match wslane_tokio::read_request(&mut io, &mut handshake).await {
        Ok(request) => request,
        // A plain HTTP request: the page, or nothing.
        Err(Error::Request(ServerError::NotWebSocketUpgrade)) => {
            return match handshake.target() {
                Some("/") => respond(io, "200 OK", "text/html; charset=utf-8", PAGE).await,
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
        eprintln!("client {id}: refused origin {:?}", request.origin());
        return respond(io, "403 Forbidden", "text/plain", "origin not allowed\n").await;
    }
    let mut config = Config::default();
    config.max_message_size = MAX_LINE;
    let ws = wslane_tokio::upgrade(io, request, Acceptance::new(), config).await?;
    chat(ws, id, clients).await
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

/// One chat member: its messages go to everyone; everyone's messages come through its queue.
async fn chat(
    ws: wslane_tokio::WebSocketStream<TcpStream>,
    id: u64,
    clients: Clients,
) -> Result<(), Error> {
    let name = format!("guest-{id}");
    let (tx, mut rx) = mpsc::channel::<Arc<str>>(QUEUE);
    clients.lock().unwrap().insert(id, tx);
    broadcast(&clients, &notice(&format!("{name} joined")));
    let (mut reader, mut writer) = ws.split();

    let sender = tokio::spawn(async move {
        // The queue closes when the broadcaster dropped this client for being too slow.
        while let Some(line) = rx.recv().await {
            writer.feed(Message::text(&*line)).await?;
            while let Ok(line) = rx.try_recv() {
                writer.feed(Message::text(&*line)).await?;
            }
            writer.flush().await?;
        }
        writer.close(CloseCode::TRY_AGAIN_LATER, "too slow").await
    });

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
    sender.abort();
    result
}

/// Queues `line` for every client; a client whose queue is full is dropped (its sender then closes it).
fn broadcast(clients: &Clients, line: &str) {
    let line: Arc<str> = line.into();
    let mut clients = clients.lock().unwrap();
    clients.retain(|id, queue| match queue.try_send(line.clone()) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            eprintln!("client {id}: too slow, disconnecting with 1013");
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    });
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
