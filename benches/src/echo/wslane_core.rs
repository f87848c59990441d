//! The wslane core as an echo server, driven by hand the way an adapter drives it: read into
//! `read_buffer`/`handle_read`, take events with `poll_event_with` until the input is used up, answering
//! each data message from the borrowed payload through the event's `Sender`, and transmit with
//! `poll_transmit_vectored`/`advance_transmit` when the input runs dry (or the output is full), as the
//! async driver writes: payloads of 512 bytes or more go out from the receive buffer, not copied.

use wslane::{Config, Connection, Event, Instant, SendError};

use super::{Case, Echo, READ_CHUNK};
use crate::copies::Batch;

/// A server [`Connection`] with default settings, fed a pre-built batch from memory.
#[derive(Debug)]
pub struct WslaneCore {
    conn: Connection,
    input: Batch,
    batch: usize,
}

impl WslaneCore {
    /// Echoes one batch, handing every transmitted slice to `sink`. Returns the bytes transmitted.
    ///
    /// # Panics
    ///
    /// If the connection fails, a reply cannot be queued, or the batch holds anything but data messages.
    pub fn round_with(&mut self, mut sink: impl FnMut(&[u8])) -> usize {
        let mut sent = 0;
        let mut echoed = 0;
        let mut at = 0;
        let len = self.input.bytes().len();
        while at < len {
            // A transport read straight into the room the connection offers (as the async driver asks
            // for it), of at most `READ_CHUNK` bytes.
            let room = self.conn.read_buffer(1);
            let n = room.len().min(READ_CHUNK).min(len - at);
            self.input.copy_to(at, &mut room[..n]);
            self.conn.handle_read(Instant::ZERO, n);
            at += n;
            loop {
                if self.conn.is_output_full() {
                    sent += transmit(&mut self.conn, &mut sink);
                }
                let echo = self.conn.poll_event_with(|event, sender| match event {
                    Event::Binary(data) => sender.send_binary(data),
                    Event::Text(text) => sender.send_text(text),
                    other => panic!("unexpected event {other:?}"),
                });
                match echo {
                    Ok(Some(result)) => {
                        result.unwrap_or_else(|err: SendError| panic!("queueing an echo: {err}"));
                    }
                    Ok(None) => break,
                    Err(err) => panic!("the connection failed: {err}"),
                }
                echoed += 1;
            }
            // The input ran dry: transmit the replies.
            sent += transmit(&mut self.conn, &mut sink);
        }
        assert_eq!(echoed, self.batch, "messages echoed");
        sent
    }
}

/// The most pieces handed to `sink` per transmit, as the async driver's vectored write takes.
const PIECES: usize = 64;

/// Transmits everything queued into `sink`, piece by piece (a vectored write); returns the byte count.
fn transmit(conn: &mut Connection, sink: &mut impl FnMut(&[u8])) -> usize {
    let mut total = 0;
    loop {
        let mut pieces = [&[][..]; PIECES];
        let count = conn.poll_transmit_vectored(&mut pieces);
        if count == 0 {
            return total;
        }
        let mut n = 0;
        for piece in &pieces[..count] {
            sink(piece);
            n += piece.len();
        }
        conn.advance_transmit(Instant::ZERO, n);
        total += n;
    }
}

impl Echo for WslaneCore {
    const NAME: &'static str = "wslane_core";

    fn new(case: &Case) -> WslaneCore {
        WslaneCore {
            conn: Connection::server(Instant::ZERO, Config::default()),
            input: Batch::new(case.input()),
            batch: case.batch,
        }
    }

    fn round(&mut self) -> usize {
        self.round_with(|_| {})
    }

    fn round_captured(&mut self) -> Vec<u8> {
        let mut output = Vec::new();
        self.round_with(|out| output.extend_from_slice(out));
        output
    }
}
