//! Echo server on fastwebsockets, for the loopback load tool: every text and binary message comes back.
//!
//! ```text
//! echo_fastwebsockets 127.0.0.1:9004
//! ```
//!
//! Written as fastwebsockets' own `echo_server` example (a `FragmentCollector` that writes each data frame
//! back as it is read, in a task unconstrained by tokio's cooperative budget), except for the opening
//! handshake: fastwebsockets leaves it to hyper, and here it is done by hand (httparse, SHA-1, base64) so
//! that no HTTP server sits in the measurement. The request head is peeked first and then consumed to its
//! exact length, so frames a client might send right behind it stay in the socket for fastwebsockets. The
//! default message limit (64 MiB) already lets 1 MiB messages through; it is spelled out here.

use std::io;
use std::time::Duration;

use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wslane_benches::load::handshake::server_response;

/// A request head longer than this is refused.
const MAX_HEAD: usize = 8 << 10;

#[tokio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9004".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        tokio::spawn(tokio::task::unconstrained(echo(tcp)));
    }
}

async fn echo(mut tcp: TcpStream) {
    let peer = tcp.peer_addr().ok();
    if let Err(err) = handshake(&mut tcp).await {
        return eprintln!("{peer:?}: handshake failed: {err}");
    }
    let mut ws = WebSocket::after_handshake(tcp, Role::Server);
    ws.set_max_message_size(64 << 20);
    let mut ws = FragmentCollector::new(ws);
    loop {
        let frame = match ws.read_frame().await {
            Ok(frame) => frame,
            Err(err) => return eprintln!("{peer:?}: {err}"),
        };
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => {
                if let Err(err) = ws.write_frame(frame).await {
                    return eprintln!("{peer:?}: {err}");
                }
            }
            _ => {}
        }
    }
}

/// Reads the upgrade request, no byte further, and answers it.
async fn handshake(tcp: &mut TcpStream) -> io::Result<()> {
    let mut head = vec![0; MAX_HEAD];
    loop {
        let peeked = tcp.peek(&mut head).await?;
        if peeked == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match server_response(&head[..peeked]) {
            Ok(Some((response, len))) => {
                tcp.read_exact(&mut head[..len]).await?;
                return tcp.write_all(&response).await;
            }
            Ok(None) if peeked == head.len() => {
                return Err(io::Error::other("request head too long"))
            }
            // Part of the head: peeking again at once would return the same bytes, so wait a little.
            Ok(None) => tokio::time::sleep(Duration::from_millis(1)).await,
            Err(err) => {
                let _ = tcp
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
                return Err(io::Error::other(err));
            }
        }
    }
}
