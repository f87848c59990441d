//! tungstenite as an echo server over a synchronous in-memory stream: `read()` then `write()` of the
//! received message for each message, and one `flush()` per batch, as its documentation recommends
//! (`write` buffers up to `write_buffer_size` and writes out by itself beyond that).

use std::io::{self, Read, Write};

use tungstenite::protocol::{Role, WebSocket};
use tungstenite::Message;

use super::{Case, Echo, READ_CHUNK};
use crate::copies::Batch;

/// A `Read + Write` stream in memory: reads replay the batch in reads of at most [`READ_CHUNK`] bytes,
/// writes are counted (and kept when capturing).
#[derive(Debug)]
pub struct MemoryStream {
    input: Batch,
    at: usize,
    written: usize,
    capture: Option<Vec<u8>>,
}

impl MemoryStream {
    /// A stream whose reads return `input`.
    #[must_use]
    pub fn new(input: Vec<u8>) -> MemoryStream {
        MemoryStream {
            input: Batch::new(input),
            at: 0,
            written: 0,
            capture: None,
        }
    }

    /// Starts the batch over: reads return the input from its start and the write count restarts.
    pub fn rewind(&mut self, capture: bool) {
        self.at = 0;
        self.written = 0;
        self.capture = capture.then(Vec::new);
    }
}

impl Read for MemoryStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.input.bytes().len() - self.at;
        if rest == 0 {
            // The batch is used up: a socket would have nothing more yet.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = rest.min(buf.len()).min(READ_CHUNK);
        self.input.copy_to(self.at, &mut buf[..n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for MemoryStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len();
        if let Some(capture) = &mut self.capture {
            capture.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A tungstenite server with default settings over a [`MemoryStream`].
#[derive(Debug)]
pub struct Tungstenite {
    ws: WebSocket<MemoryStream>,
    batch: usize,
}

impl Tungstenite {
    fn run(&mut self, capture: bool) -> usize {
        self.ws.get_mut().rewind(capture);
        for _ in 0..self.batch {
            match self.ws.read().expect("reading a message") {
                message @ (Message::Binary(_) | Message::Text(_)) => {
                    self.ws.write(message).expect("queueing an echo");
                }
                other => panic!("unexpected message {other:?}"),
            }
        }
        self.ws.flush().expect("flushing the echoes");
        self.ws.get_ref().written
    }
}

impl Echo for Tungstenite {
    const NAME: &'static str = "tungstenite";

    fn new(case: &Case) -> Tungstenite {
        Tungstenite {
            ws: WebSocket::from_raw_socket(MemoryStream::new(case.input()), Role::Server, None),
            batch: case.batch,
        }
    }

    fn round(&mut self) -> usize {
        self.run(false)
    }

    fn round_captured(&mut self) -> Vec<u8> {
        self.run(true);
        self.ws.get_mut().capture.take().unwrap_or_default()
    }
}
