//! The loop's state apart from the poller and the listener, its run queue, and serving one peer: each
//! phase in turn, then the registration, the timer and the queue brought in line with what it waits for.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use mio::{Interest, Registry};
use wslane::handshake::ServerConfig;
use wslane::{Config, Instant};

use super::handler::{CloseReason, ConnectionId, Context, Current, Handler};
use super::handshake;
use super::peer::{Peer, Phase};
use super::peers::{self, Peers};
use super::timers::Timers;
use crate::clock::Clock;
use crate::Error;

/// The scratch buffer that draining connections are read into.
const READ_CHUNK: usize = 8 << 10;
/// Reads per peer per loop round.
pub(super) const READ_BUDGET: u32 = 16;
/// See [`Server::set_linger`](super::Server::set_linger).
const DEFAULT_LINGER: Duration = Duration::from_secs(1);

/// Everything but the poller and the listener, so that serving a peer can borrow it whole.
pub(super) struct Core {
    pub(super) registry: Registry,
    pub(super) peers: Peers,
    /// Each peer's deadline, earliest first.
    pub(super) timers: Timers,
    /// Peers to serve this round.
    pub(super) queue: VecDeque<ConnectionId>,
    /// Peers that used their read budget and have more to read: served next round.
    pub(super) deferred: Vec<ConnectionId>,
    /// Peers a handler gave commands to, to be written out.
    pub(super) touched: Vec<ConnectionId>,
    /// Reads of request heads and of discarded input.
    pub(super) scratch: Box<[u8]>,
    pub(super) clock: Clock,
    pub(super) server_config: Arc<ServerConfig>,
    pub(super) config: Config,
    pub(super) linger: Duration,
    pub(super) round: u64,
    pub(super) accept_retry: Option<Instant>,
}

/// What serving a peer came to.
pub(super) enum Step {
    /// The phase changed: serve the new one.
    Again,
    /// Nothing more to do until readiness or a deadline.
    Wait,
    /// Close the socket and forget the peer.
    Remove,
}

impl Core {
    /// The state of a loop with no peers yet.
    pub(super) fn new(
        registry: Registry,
        server_config: Arc<ServerConfig>,
        config: Config,
    ) -> Core {
        Core {
            registry,
            peers: Peers::default(),
            timers: Timers::default(),
            queue: VecDeque::new(),
            deferred: Vec::new(),
            touched: Vec::new(),
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            clock: Clock::new(),
            server_config,
            config,
            linger: DEFAULT_LINGER,
            round: 0,
            accept_retry: None,
        }
    }

    pub(super) fn schedule(&mut self, id: ConnectionId) {
        if let Some(peer) = self.peers.get_mut(id) {
            if !peer.queued {
                peer.queued = true;
                self.queue.push_back(id);
            }
        }
    }

    pub(super) fn ready(&mut self, index: usize, readable: bool) {
        if let Some(peer) = self.peers.at_mut(index) {
            peer.read_ready |= readable;
            let id = peer.id;
            self.schedule(id);
        }
    }

    /// Serves every scheduled peer, and the peers the handler gives commands to meanwhile.
    pub(super) fn run<H: Handler>(&mut self, handler: &mut H) {
        self.queue.extend(self.deferred.drain(..));
        while let Some(id) = self.queue.pop_front() {
            let Some(mut peer) = self.peers.take(id) else {
                continue;
            };
            peer.queued = false;
            if peer.round != self.round {
                peer.round = self.round;
                peer.reads = 0;
            }
            if self.serve(&mut peer, handler) && self.settle(&mut peer) {
                self.peers.put(peer);
            } else {
                self.remove(peer, handler);
            }
            while let Some(id) = self.touched.pop() {
                self.schedule(id);
            }
        }
    }

    /// Does all that can be done for `peer` now. False when it is to be removed.
    fn serve<H: Handler>(&mut self, peer: &mut Peer, handler: &mut H) -> bool {
        let now = self.clock.now();
        loop {
            let step = match peer.phase {
                Phase::Handshake { .. } => self.serve_handshake(peer, handler, now),
                Phase::Refusing { .. } => handshake::serve_refusing(peer, now, self.linger),
                Phase::Open(_) => self.serve_open(peer, handler, now),
                Phase::Draining { .. } => self.serve_draining(peer, now),
            };
            match step {
                Step::Again => {}
                Step::Wait => return true,
                Step::Remove => return false,
            }
        }
    }

    /// Brings the registration, the timer and the run queue in line with what `peer` waits for. False
    /// when the socket could not be re-registered.
    fn settle(&mut self, peer: &mut Peer) -> bool {
        let wants_write = peer.wants_write();
        if wants_write != peer.writable_interest {
            let interest = if wants_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let token = peers::token(peer.id.index);
            if self
                .registry
                .reregister(&mut peer.socket, token, interest)
                .is_err()
            {
                return false;
            }
            peer.writable_interest = wants_write;
        }
        let deadline = peer.deadline();
        if deadline != peer.timer {
            self.timers.replace(peer.id.index, peer.timer, deadline);
            peer.timer = deadline;
        }
        if peer.read_ready && peer.reads >= READ_BUDGET && !peer.queued {
            peer.queued = true;
            self.deferred.push(peer.id);
        }
        true
    }

    fn remove<H: Handler>(&mut self, mut peer: Peer, handler: &mut H) {
        let gone = io::Error::from(io::ErrorKind::ConnectionAborted);
        self.notify_close(&mut peer, handler, CloseReason::Failed(Error::Io(gone)));
        let _ = self.registry.deregister(&mut peer.socket);
        self.timers.replace(peer.id.index, peer.timer, None);
        self.peers.release(peer.id.index);
    }

    /// Calls [`Handler::on_close`] if the peer is open (once).
    pub(super) fn notify_close<H: Handler>(
        &mut self,
        peer: &mut Peer,
        handler: &mut H,
        reason: CloseReason,
    ) {
        let Phase::Open(open) = &mut peer.phase else {
            return;
        };
        if !open.notified {
            return;
        }
        open.notified = false;
        let id = peer.id;
        let mut ctx = Context {
            peers: &mut self.peers,
            current: Current::Peer(peer),
            touched: &mut self.touched,
        };
        handler.on_close(&mut ctx, id, reason);
    }
}
