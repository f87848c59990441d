//! The default front end: the raw tokio adapter, which reads each HTTP/1.1 request with the core's
//! handshake and answers plain requests itself.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use wslane_tokio::{Acceptance, Error, ServerError, ServerHandshake};

use crate::room::{room_of, Rooms};
use crate::{member_config, same_origin, server_config, ICON, PAGE};

/// Serves the chat on `listener`, its members joining `rooms`.
pub(crate) async fn run(listener: TcpListener, rooms: Arc<Rooms>) -> std::io::Result<()> {
    loop {
        let (tcp, peer) = listener.accept().await?;
        let rooms = rooms.clone();
        tokio::spawn(async move {
            if let Err(err) = serve(tcp, &rooms).await {
                eprintln!("{peer}: {err}");
            }
        });
    }
}

/// Routes one HTTP connection: the page, its icon, the WebSocket endpoint, or 404.
async fn serve(tcp: TcpStream, rooms: &Rooms) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let mut io = tcp;
    let mut handshake = ServerHandshake::new(server_config());
    let request = match wslane_tokio::read_request(&mut io, &mut handshake).await {
        Ok(request) => request,
        // A plain HTTP request: the page, or nothing.
        Err(Error::Request(ServerError::NotWebSocketUpgrade)) => {
            let path = handshake
                .target()
                .map(|target| target.split('?').next().unwrap_or(target));
            return match path {
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
    if request.path().split('?').next() != Some("/ws") {
        return respond(io, "404 Not Found", "text/plain", "not found\n").await;
    }
    if !same_origin(&request, "http") {
        return respond(io, "403 Forbidden", "text/plain", "origin not allowed\n").await;
    }
    let room = match room_of(request.path()) {
        Ok(room) => room,
        Err(err) => return respond(io, "400 Bad Request", "text/plain", &format!("{err}\n")).await,
    };
    let version = request.version();
    let ws = wslane_tokio::upgrade(io, request, Acceptance::new(), member_config()).await?;
    rooms.join(ws, version, &room).await
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
