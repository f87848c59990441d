//! An open connection's I/O: firing its timers, delivering its events to the handler, writing its output
//! (the 101 response first), and reading its socket into it, paused while its output is full.

use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;
use wslane::{CloseFrame, Event, Instant};

use super::handler::{CloseReason, Context, Current, Handler};
use super::peer::{Open, Peer, Phase};
use super::serve::{Core, Step, READ_BUDGET};
use crate::Error;

impl Core {
    /// Fires the connection's due timers, then delivers its events, writes its output and reads its
    /// socket until it waits; once the connection is over, shuts our side down and starts the linger.
    pub(super) fn serve_open<H: Handler>(
        &mut self,
        peer: &mut Peer,
        handler: &mut H,
        now: Instant,
    ) -> Step {
        if let Phase::Open(open) = &mut peer.phase {
            // Fire the connection's timers that are due (or that ask to be armed now); a call for a
            // deadline not yet reached does nothing, so a few rounds settle it.
            for _ in 0..4 {
                match open.conn.poll_timeout() {
                    Some(at) if at <= now => open.conn.handle_timeout(now),
                    _ => break,
                }
            }
        }
        loop {
            let held_back = self.deliver(peer, handler);
            let Phase::Open(open) = &mut peer.phase else {
                return Step::Again;
            };
            if let Err(err) = write_open(&mut peer.socket, open, now) {
                self.notify_close(peer, handler, CloseReason::Failed(Error::Io(err)));
                return Step::Remove;
            }
            if open.conn.should_close_transport() {
                if open.pending_output() {
                    let at = *open
                        .closing_deadline
                        .get_or_insert(now + self.config.close_timeout);
                    return if now >= at { Step::Remove } else { Step::Wait };
                }
                let _ = peer.socket.shutdown(Shutdown::Write);
                peer.phase = Phase::Draining {
                    deadline: now + self.linger,
                };
                return Step::Again;
            }
            // Paused while the output is full: the writable event resumes it.
            if !open.has_room() {
                return Step::Wait;
            }
            // The output has room again: deliver what was held back, already read (no readiness event
            // will come for it), before reading more.
            if held_back {
                continue;
            }
            if !peer.read_ready || peer.reads >= READ_BUDGET {
                return Step::Wait;
            }
            let buf = open.conn.read_buffer(1);
            match peer.socket.read(buf) {
                Ok(0) => {
                    peer.reads += 1;
                    open.conn.handle_eof(self.clock.now());
                }
                Ok(n) => {
                    peer.reads += 1;
                    open.conn.handle_read(self.clock.now(), n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    peer.read_ready = false;
                    return Step::Wait;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.notify_close(peer, handler, CloseReason::Failed(Error::Io(err)));
                    return Step::Remove;
                }
            }
        }
    }

    /// Hands the connection's events to the handler while its output has room (and its failure or close
    /// in any case). Each event is borrowed from the connection's receive buffer, and the handler's replies
    /// on the same connection go through its sending half: no copy. True when it stopped because the
    /// output was full, so received input may still wait.
    fn deliver<H: Handler>(&mut self, peer: &mut Peer, handler: &mut H) -> bool {
        let id = peer.id;
        let addr = peer.addr;
        loop {
            let Phase::Open(open) = &mut peer.phase else {
                return false;
            };
            if !open.notified {
                return false;
            }
            if !(open.has_room() || open.conn.should_close_transport()) {
                return true;
            }
            let peers = &mut self.peers;
            let touched = &mut self.touched;
            let delivered = open.conn.poll_event_with(|event, sender| {
                if let Event::Close { code, reason } = event {
                    return Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    });
                }
                let mut ctx = Context {
                    peers,
                    current: Current::Replying {
                        id,
                        addr,
                        sender: sender.reborrow(),
                    },
                    touched,
                };
                handler.on_event(&mut ctx, id, event);
                None
            });
            let reason = match delivered {
                Ok(None) => return false,
                Ok(Some(None)) => continue,
                Ok(Some(Some(frame))) => CloseReason::Closed(frame),
                Err(err) => CloseReason::Failed(Error::Protocol(err)),
            };
            self.notify_close(peer, handler, reason);
        }
    }
}

/// The most slices one write takes: a frame header and its payload are two, so this is 32 echoed
/// messages of 512 bytes or more (smaller ones are copied into one slice with their headers).
const WRITE_PIECES: usize = 64;

/// Writes the 101 response, then the connection's output, until done or the socket would block; `now`
/// dates the transmissions (the write timeout runs from the last one).
fn write_open(socket: &mut TcpStream, open: &mut Open, now: Instant) -> io::Result<()> {
    while open.head_written < open.head.len() {
        match socket.write(&open.head[open.head_written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => open.head_written += n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    if !open.head.is_empty() {
        open.head = Vec::new();
        open.head_written = 0;
    }
    loop {
        // One vectored write: payloads echoed from the receive buffer go out from there, uncopied. A
        // single piece (small messages) goes out with a plain write, `send` rather than `writev`, which
        // costs the kernel less.
        let written = {
            let mut pieces = [&[][..]; WRITE_PIECES];
            let count = open.conn.poll_transmit_vectored(&mut pieces);
            if count == 0 {
                return Ok(());
            }
            if count == 1 {
                socket.write(pieces[0])
            } else {
                let mut slices = [IoSlice::new(&[]); WRITE_PIECES];
                for (slice, piece) in slices.iter_mut().zip(&pieces[..count]) {
                    *slice = IoSlice::new(piece);
                }
                socket.write_vectored(&slices[..count])
            }
        };
        match written {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => open.conn.advance_transmit(now, n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}
