//! [`Replay`]: the in-memory stream under every server-only harness.
//!
//! Reads replay a pre-built batch of client frames, at most [`READ_CHUNK`](crate::echo::READ_CHUNK) bytes
//! per read as from a socket, and then wait (`Pending`) until the next round rewinds the batch. Writes,
//! vectored or not, are copied into a fixed scratch area, as a socket copies into the kernel, and counted;
//! when capturing they are also kept, for the check against the expected frames. Once a round's output is
//! all written, the task waiting for the round is woken. The stream is shared, through an `Rc`, between the
//! server task and the harness that drives the rounds, on one current-thread runtime.
//!
//! Both copies (into the server's read buffer, and out of its writes) cost the same wherever the server's
//! buffers lie, as a kernel's copies of socket data do ([`crate::copies`]).

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::copies::{Batch, Scratch};
use crate::echo::READ_CHUNK;

/// The size of the scratch area writes are copied into (a socket's send buffer).
pub(crate) const SCRATCH: usize = 256 << 10;

/// The state both ends of the stream see.
#[derive(Debug)]
struct Wire {
    input: Batch,
    at: usize,
    reader: Option<Waker>,
    written: usize,
    /// The output a round must produce; the round's task is woken when it is reached.
    target: usize,
    round: Option<Waker>,
    scratch: Scratch,
    capture: Option<Vec<u8>>,
}

impl Wire {
    fn take(&mut self, data: &[u8]) {
        self.scratch.take(data);
        self.written += data.len();
        if let Some(capture) = &mut self.capture {
            capture.extend_from_slice(data);
        }
    }

    fn wrote(&mut self) {
        if self.written >= self.target {
            if let Some(waker) = self.round.take() {
                waker.wake();
            }
        }
    }
}

/// The server's end of the in-memory stream.
#[derive(Debug)]
pub struct Replay(Rc<RefCell<Wire>>);

/// The harness's end: starts rounds and waits for their output.
#[derive(Debug)]
pub struct Rounds(Rc<RefCell<Wire>>);

/// A stream that replays `input` once per round, and the handle that drives the rounds; a round is done
/// when `output_len` bytes were written.
#[must_use]
pub fn replay(input: Vec<u8>, output_len: usize) -> (Replay, Rounds) {
    let wire = Rc::new(RefCell::new(Wire {
        input: Batch::new(input),
        // Nothing to read until the first round starts.
        at: usize::MAX,
        reader: None,
        written: 0,
        target: output_len,
        round: None,
        scratch: Scratch::new(SCRATCH),
        capture: None,
    }));
    (Replay(Rc::clone(&wire)), Rounds(wire))
}

impl Rounds {
    /// Rewinds the input, wakes the server, and waits until the round's output is written; returns the
    /// bytes written (and the output itself when `capture`).
    pub async fn run(&self, capture: bool) -> (usize, Option<Vec<u8>>) {
        {
            let mut wire = self.0.borrow_mut();
            wire.at = 0;
            wire.written = 0;
            wire.capture = capture.then(Vec::new);
            if let Some(reader) = wire.reader.take() {
                reader.wake();
            }
        }
        std::future::poll_fn(|cx| {
            let mut wire = self.0.borrow_mut();
            if wire.written >= wire.target {
                Poll::Ready((wire.written, wire.capture.take()))
            } else {
                wire.round = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

impl AsyncRead for Replay {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut wire = self.0.borrow_mut();
        let len = wire.input.bytes().len();
        let at = wire.at.min(len);
        if at == len {
            wire.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = (len - at).min(buf.remaining()).min(READ_CHUNK);
        let to = buf.filled().as_ptr_range().end;
        buf.put_slice(wire.input.piece(at, n, to));
        wire.at = at + n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Replay {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut wire = self.0.borrow_mut();
        wire.take(buf);
        wire.wrote();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut wire = self.0.borrow_mut();
        let mut n = 0;
        for buf in bufs {
            wire.take(buf);
            n += buf.len();
        }
        wire.wrote();
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
