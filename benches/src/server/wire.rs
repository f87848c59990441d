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
//! buffers lie, as a kernel's copies of socket data do. On some CPUs glibc's copy of a few KiB is 25 times
//! slower when its destination lies 1 to 15 bytes past its source within a 4 KiB page
//! (`docs/performance-notes.md`); with plain copies the harness charged that, now and then, to whichever
//! library's buffer happened to sit there. A read that would copy from such a position copies the same
//! bytes from a second copy of the batch, 64 bytes further along within the page; a write that would land
//! in one goes 64 bytes further into the scratch area ([`slow_position`]).

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::echo::READ_CHUNK;

/// The scratch area writes are copied into, reused from its start when full (a socket's send buffer).
const SCRATCH: usize = 256 << 10;

/// The page whose offsets the CPU compares (see [`slow_position`]).
const PAGE: usize = 4 << 10;

/// The state both ends of the stream see.
#[derive(Debug)]
struct Wire {
    input: Vec<u8>,
    /// The batch again, from `shifted[shift]`, which lies 64 bytes further within a page than `input[0]`.
    shifted: Vec<u8>,
    shift: usize,
    at: usize,
    reader: Option<Waker>,
    written: usize,
    /// The output a round must produce; the round's task is woken when it is reached.
    target: usize,
    round: Option<Waker>,
    scratch: Vec<u8>,
    scratch_at: usize,
    capture: Option<Vec<u8>>,
}

impl Wire {
    fn take(&mut self, data: &[u8]) {
        let mut rest = data;
        while !rest.is_empty() {
            if self.scratch_at == SCRATCH {
                self.scratch_at = 0;
            }
            let n = rest.len().min(SCRATCH - self.scratch_at);
            let to = &mut self.scratch[self.scratch_at..self.scratch_at + n];
            if slow_position(to.as_ptr(), &rest[..n]) {
                // 64 bytes further (or, past the end, from the start of the area) it is not.
                self.scratch_at = (self.scratch_at + 64).min(SCRATCH);
                continue;
            }
            to.copy_from_slice(&rest[..n]);
            self.scratch_at += n;
            rest = &rest[n..];
        }
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
    let mut shifted = vec![0; input.len() + PAGE];
    let shift = (input.as_ptr() as usize + 64).wrapping_sub(shifted.as_ptr() as usize) % PAGE;
    shifted[shift..shift + input.len()].copy_from_slice(&input);
    let wire = Rc::new(RefCell::new(Wire {
        input,
        shifted,
        shift,
        // Nothing to read until the first round starts.
        at: usize::MAX,
        reader: None,
        written: 0,
        target: output_len,
        round: None,
        scratch: vec![0; SCRATCH],
        scratch_at: 0,
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
        let at = wire.at.min(wire.input.len());
        let rest = &wire.input[at..];
        if rest.is_empty() {
            wire.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = rest.len().min(buf.remaining()).min(READ_CHUNK);
        let to = buf.filled().as_ptr_range().end;
        if slow_position(to, &rest[..n]) {
            let from = wire.shift + at;
            buf.put_slice(&wire.shifted[from..from + n]);
        } else {
            buf.put_slice(&rest[..n]);
        }
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

/// Whether a plain copy of `src` to `dst` lands where glibc's copy is slow on some CPUs: 2 KiB or more,
/// the destination 1 to 15 bytes past the source within a page.
fn slow_position(dst: *const u8, src: &[u8]) -> bool {
    let past = (dst as usize).wrapping_sub(src.as_ptr() as usize) % PAGE;
    src.len() >= 2 << 10 && past > 0 && past < 16
}
