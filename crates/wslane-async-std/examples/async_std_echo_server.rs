//! Echoes every text and binary message, for conformance and load tests, on async-std.
//!
//! ```text
//! cargo run -p wslane-async-std --example async_std_echo_server -- 127.0.0.1:9001
//! ```
//!
//! permessage-deflate is negotiated when the client offers it. Replies are queued from the borrowed
//! payload and go out together when the received input runs dry.
//!
//! Every path accepts WebSocket connections. A plain HTTP `GET /` (a browser opening
//! <http://127.0.0.1:9001/>) gets the WebSocket client page of the tokio examples (`client.html`), which
//! connects back to this server; a plain `GET` of any other path gets 426 Upgrade Required.

use std::sync::Arc;

use async_std::io::WriteExt;
use async_std::net::TcpStream;
use wslane_async_std::{
    Acceptance, Config, DeflateConfig, Error, Event, PerMessageDeflate, ServerConfig, ServerError,
    ServerHandshake, WebSocketStream,
};

const PAGE: &str = include_str!("../../wslane-tokio/examples/client.html");
const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

#[async_std::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = async_std::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("echo server listening on ws://{local}");
    println!("browser client page on http://{local}/");
    // Compression is offered by browsers and most clients; accept it, at the fastest level.
    let mut server = ServerConfig::default();
    server
        .extensions
        .push(Arc::new(PerMessageDeflate::new(DeflateConfig::fastest())));
    let server = Arc::new(server);
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let server = server.clone();
        async_std::task::spawn(async move {
            if let Err(err) = serve(tcp, server).await {
                eprintln!("{peer}: {err}");
            }
        });
    }
}

async fn serve(tcp: TcpStream, server: Arc<ServerConfig>) -> Result<(), Error> {
    // Boxed, as `accept_with` does: the handshake's buffers are freed when it ends, so the task of an
    // open connection stays small. The socket is bound in a statement of its own: a `match` on the
    // awaited value would keep that value's temporaries (two more copies of the socket, about 2 KiB)
    // in the task for as long as the connection lives.
    let Some(mut ws) = Box::pin(handshake(tcp, server)).await? else {
        return Ok(());
    };
    echo(&mut ws).await
}

/// Reads the request head and upgrades it, or answers a plain `GET` (the page on `/`, else 426) and
/// returns `None`.
async fn handshake(
    mut tcp: TcpStream,
    server: Arc<ServerConfig>,
) -> Result<Option<WebSocketStream<TcpStream>>, Error> {
    let mut handshake = ServerHandshake::new(server);
    let request = match wslane_async_std::read_request(&mut tcp, &mut handshake).await {
        Ok(request) => request,
        Err(Error::Request(ServerError::NotWebSocketUpgrade)) => {
            let response = match handshake.target() {
                Some("/") => http_response("200 OK", &[("Content-Type", HTML)], PAGE),
                // Any other path is a WebSocket endpoint only.
                _ => http_response(
                    "426 Upgrade Required",
                    &[("Upgrade", "websocket"), ("Content-Type", TEXT)],
                    "a WebSocket endpoint: connect with a WebSocket client\n",
                ),
            };
            tcp.write_all(&response).await?;
            tcp.shutdown(std::net::Shutdown::Write)?;
            return Ok(None);
        }
        Err(Error::Request(err)) => {
            // Answered and closed, as `accept` does.
            tcp.write_all(&err.to_response()).await?;
            let _ = tcp.shutdown(std::net::Shutdown::Write);
            return Err(Error::Request(err));
        }
        Err(err) => return Err(err),
    };
    let ws = wslane_async_std::upgrade(tcp, request, Acceptance::new(), Config::default()).await?;
    Ok(Some(ws))
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

/// Echoes every data message until the connection ends. Each reply is queued straight from the received
/// payload, borrowed (no owned message, no allocation), and the replies go out together when the received
/// input runs dry, so a client that pipelines many messages gets many replies per write.
async fn echo(ws: &mut WebSocketStream<TcpStream>) -> Result<(), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An open connection's task holds one socket: the future of `serve` is the socket and a few words more.
    #[async_std::test]
    async fn task_holds_one_socket() {
        let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let task = serve(tcp, Arc::new(ServerConfig::default()));
        let socket = std::mem::size_of::<WebSocketStream<TcpStream>>();
        let size = std::mem::size_of_val(&task);
        assert!(size < socket + 256, "{size} B for a {socket} B socket");
    }
}
