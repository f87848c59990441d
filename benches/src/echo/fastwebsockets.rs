//! fastwebsockets as an echo server over `tokio::io::duplex`: `read_frame` then `write_frame` of the
//! received payload, with the defaults (auto-close, auto-pong, payloads unmasked on read, vectored writes
//! for payloads over 1 KiB). `write_frame` writes each frame to the transport at once; the API has no
//! queue to flush per batch.
//!
//! This is fastwebsockets' frame-level API, its fastest: it hands out frames, not messages (a fragmented
//! message would need its `FragmentCollector`). Every benchmark message is a single frame, so here frames
//! and messages are the same thing.

use fastwebsockets::{Frame, OpCode, Role, WebSocket, WebSocketError};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{Case, DuplexClient, Echo};

/// Serves one connection on `stream` (any stream, already past the opening handshake) until the peer
/// closes. The default message size limit (64 MiB) holds the largest benchmark message.
///
/// # Errors
///
/// What the connection failed with.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> Result<(), WebSocketError> {
    let mut ws = WebSocket::after_handshake(stream, Role::Server);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Text | OpCode::Binary => {
                // A frame read by a server keeps the client's masking key (the payload is already
                // unmasked); echoed as it is, it would go out with the mask bit set and the key but an
                // unmasked payload. The reply is a new, unmasked frame over the same payload.
                let reply = Frame::new(true, frame.opcode, None, frame.payload);
                ws.write_frame(reply).await?;
            }
            OpCode::Close => return Ok(()),
            _ => {}
        }
    }
}

/// The fastwebsockets echo server and its client.
#[derive(Debug)]
pub struct Fastwebsockets {
    client: DuplexClient,
}

impl Echo for Fastwebsockets {
    const NAME: &'static str = "fastwebsockets";

    fn new(case: &Case) -> Fastwebsockets {
        let client = DuplexClient::start(case, |stream| async move {
            if let Err(err) = serve(stream).await {
                eprintln!("{}: {err}", Self::NAME);
            }
        });
        Fastwebsockets { client }
    }

    fn round(&mut self) -> usize {
        self.client.round(None)
    }

    fn round_captured(&mut self) -> Vec<u8> {
        self.client.round_captured()
    }
}
