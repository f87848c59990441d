//! A peer's opening handshake: reading the request head, asking the handler, then opening the
//! connection or writing the refusal (or the handler's answer to a plain `GET`).

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use wslane::handshake::{Request, ServerError};
use wslane::Instant;

use super::handler::{Context, Current, Handler};
use super::peer::{Open, Peer, Phase};
use super::serve::{Core, Step, READ_BUDGET};
use crate::Error;

/// Reads per call while the request head is incomplete; the head is bounded by the handshake limits.
const HEAD_CHUNK: usize = 4 << 10;

impl Core {
    /// Reads the request head until it is complete, then asks the handler about it.
    pub(super) fn serve_handshake<H: Handler>(
        &mut self,
        peer: &mut Peer,
        handler: &mut H,
        now: Instant,
    ) -> Step {
        let Phase::Handshake {
            handshake,
            deadline,
        } = &mut peer.phase
        else {
            return Step::Again;
        };
        let deadline = *deadline;
        if now >= deadline {
            let timeout =
                io::Error::new(io::ErrorKind::TimedOut, "the opening handshake timed out");
            handler.on_handshake_error(peer.addr, Error::Io(timeout));
            return Step::Remove;
        }
        let request = loop {
            if !peer.read_ready || peer.reads >= READ_BUDGET {
                return Step::Wait;
            }
            match peer.socket.read(&mut self.scratch[..HEAD_CHUNK]) {
                Ok(0) => {
                    let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
                    handler.on_handshake_error(peer.addr, Error::Io(eof));
                    return Step::Remove;
                }
                Ok(n) => {
                    peer.reads += 1;
                    match handshake.handle_input(&self.scratch[..n]) {
                        Ok(Some(request)) => break request,
                        Ok(None) => {}
                        Err(err) => {
                            let answer = match (&err, handshake.target()) {
                                (ServerError::NotWebSocketUpgrade, Some(target)) => {
                                    handler.on_http_get(peer.addr, target)
                                }
                                _ => None,
                            };
                            let out = answer.unwrap_or_else(|| {
                                let out = err.to_response();
                                handler.on_handshake_error(peer.addr, Error::Request(err));
                                out
                            });
                            peer.phase = Phase::Refusing {
                                out,
                                written: 0,
                                deadline,
                            };
                            return Step::Again;
                        }
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    peer.read_ready = false;
                    return Step::Wait;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    handler.on_handshake_error(peer.addr, Error::Io(err));
                    return Step::Remove;
                }
            }
        };
        self.upgrade(peer, handler, request, deadline)
    }

    /// Asks the handler about a request, then opens the connection or starts the refusal.
    fn upgrade<H: Handler>(
        &mut self,
        peer: &mut Peer,
        handler: &mut H,
        request: Request,
        deadline: Instant,
    ) -> Step {
        let id = peer.id;
        let mut ctx = Context {
            peers: &mut self.peers,
            current: Current::Peer(peer),
            touched: &mut self.touched,
        };
        let (out, error) = match handler.on_request(&mut ctx, id, &request) {
            Ok(acceptance) => match request.accept(acceptance) {
                Ok(upgrade) => {
                    let (response, conn) = upgrade.into_parts(self.clock.now(), self.config);
                    if let Current::Peer(peer) = &mut ctx.current {
                        peer.phase = Phase::Open(Box::new(Open {
                            conn,
                            head: response,
                            head_written: 0,
                            notified: true,
                            closing_deadline: None,
                        }));
                    }
                    handler.on_open(&mut ctx, id);
                    return Step::Again;
                }
                Err(err) => (err.to_response(), Error::Request(err)),
            },
            Err(rejection) => (
                rejection.to_bytes(),
                Error::Rejected {
                    status: rejection.status(),
                },
            ),
        };
        handler.on_handshake_error(peer.addr, error);
        peer.phase = Phase::Refusing {
            out,
            written: 0,
            deadline,
        };
        Step::Again
    }
}

/// Writes the refusal (or the answer to a plain `GET`), then shuts our side down and lingers.
pub(super) fn serve_refusing(peer: &mut Peer, now: Instant, linger: Duration) -> Step {
    let Phase::Refusing {
        out,
        written,
        deadline,
    } = &mut peer.phase
    else {
        return Step::Again;
    };
    if now >= *deadline {
        return Step::Remove;
    }
    while *written < out.len() {
        match peer.socket.write(&out[*written..]) {
            Ok(0) => return Step::Remove,
            Ok(n) => *written += n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Step::Remove,
        }
    }
    let _ = peer.socket.shutdown(Shutdown::Write);
    peer.phase = Phase::Draining {
        deadline: now + linger,
    };
    Step::Again
}
