//! The listener's side: accepting sockets (with a backoff when `accept` fails) and starting each one's
//! opening handshake.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::Interest;
use wslane::handshake::ServerHandshake;

use super::peer::{Peer, Phase};
use super::peers;
use super::serve::Core;

/// How long to wait before accepting again after `accept` failed (out of descriptors, for example).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

impl Core {
    /// Accepts every pending connection, or arms a retry when `accept` fails.
    pub(super) fn accept_all(&mut self, listener: &TcpListener) {
        loop {
            match listener.accept() {
                Ok((socket, addr)) => self.add(socket, addr),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.accept_retry = None;
                    return;
                }
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) => {}
                Err(_) => {
                    // Out of descriptors or memory: the pending connections wait in the backlog, and no
                    // new readiness may come for them, so try again a little later.
                    self.accept_retry = Some(self.clock.after(ACCEPT_BACKOFF));
                    return;
                }
            }
        }
    }

    /// Registers an accepted socket and starts its handshake phase.
    fn add(&mut self, mut socket: TcpStream, addr: SocketAddr) {
        let _ = socket.set_nodelay(true);
        let id = self.peers.reserve();
        let token = peers::token(id.index);
        if self
            .registry
            .register(&mut socket, token, Interest::READABLE)
            .is_err()
        {
            self.peers.release(id.index);
            return;
        }
        let deadline = self.clock.after(self.server_config.limits.timeout);
        self.peers.put(Peer {
            id,
            socket,
            addr,
            phase: Phase::Handshake {
                handshake: ServerHandshake::new(Arc::clone(&self.server_config)),
                deadline,
            },
            writable_interest: false,
            read_ready: true,
            queued: false,
            round: 0,
            reads: 0,
            timer: None,
        });
        self.schedule(id);
    }
}
