//! An echo server on the embedded adapter, run on a host: tokio's TCP sockets through
//! `embedded-io-adapters`, each connection in two 1 KiB buffers. Messages of any size are echoed piece
//! by piece as they arrive, so a 1 MiB message goes through 1 KiB of memory.
//!
//!     cargo run -p wslane-embedded --example embedded_echo_server -- 127.0.0.1:9001
//!
//! Prints the URL it serves (`ws://…/`), then one line per connection that ends.

#[path = "support/tokio_clock.rs"]
mod tokio_clock;

use embedded_io_adapters::tokio_1::FromTokio;
use tokio::net::{TcpListener, TcpStream};
use tokio_clock::TokioClock;
use wslane::DataKind;
use wslane_embedded::{accept, Answer, Error, Event, Options};

/// The size of each buffer.
const BUFFER: usize = 1024;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on ws://{}/", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        tokio::spawn(async move {
            match serve(stream).await {
                Ok(()) => println!("{peer}: closed"),
                Err(err) => println!("{peer}: {err}"),
            }
        });
    }
}

/// One connection: echo every message, text as text and binary as binary, piece by piece.
async fn serve(stream: TcpStream) -> Result<(), Error<std::io::Error>> {
    let (mut rx, mut tx) = ([0u8; BUFFER], [0u8; BUFFER]);
    let options = Options::default();
    let (mut ws, _) = accept(
        FromTokio::new(stream),
        TokioClock::new(),
        options,
        &mut rx,
        &mut tx,
        |_request| Answer::Accept(None),
    )
    .await?;
    // An event borrows the receive buffer; its payload is copied out before the echo is sent.
    let mut scratch = [0u8; BUFFER];
    loop {
        let (kind, len, first, fin) = match ws.next().await {
            Ok(Event::Text(text)) => (
                DataKind::Text,
                copy(&mut scratch, text.as_bytes()),
                true,
                true,
            ),
            Ok(Event::Binary(data)) => (DataKind::Binary, copy(&mut scratch, data), true, true),
            Ok(Event::Fragment(piece)) => (
                piece.kind,
                copy(&mut scratch, piece.data),
                piece.first,
                piece.fin,
            ),
            Ok(_) => continue, // pings are answered by the adapter; the close reply too
            Err(Error::Closed) => return Ok(()),
            Err(err) => return Err(err),
        };
        let data = &scratch[..len];
        match (first && fin, kind) {
            (true, DataKind::Text) => {
                // Whole text messages were validated as UTF-8 by the core.
                ws.send_text(std::str::from_utf8(data).unwrap_or_default())
                    .await?
            }
            (true, DataKind::Binary) => ws.send_binary(data).await?,
            (false, kind) => ws.send_fragment(kind, data, fin).await?,
        }
    }
}

/// Copies `data` (at most a buffer's worth: it came out of one) into `scratch`.
fn copy(scratch: &mut [u8], data: &[u8]) -> usize {
    let len = data.len().min(scratch.len());
    scratch[..len].copy_from_slice(&data[..len]);
    len
}
