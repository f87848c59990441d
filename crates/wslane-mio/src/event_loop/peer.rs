//! One socket served by the loop, and its phase.

use std::net::SocketAddr;

use mio::net::TcpStream;
use wslane::handshake::ServerHandshake;
use wslane::{Connection, Instant};

use super::handler::ConnectionId;

/// A socket from `accept` until it is closed.
pub(super) struct Peer {
    pub(super) id: ConnectionId,
    pub(super) socket: TcpStream,
    pub(super) addr: SocketAddr,
    pub(super) phase: Phase,
    /// WRITABLE is registered: output is pending.
    pub(super) writable_interest: bool,
    /// The last read did not end in `WouldBlock`: there may be more to read (edge-triggered readiness).
    pub(super) read_ready: bool,
    /// In the run queue (or deferred to the next round).
    pub(super) queued: bool,
    /// The loop round in which `reads` were counted.
    pub(super) round: u64,
    /// Reads this round, against the per-round budget that keeps one busy peer from starving the rest.
    pub(super) reads: u32,
    /// The deadline registered in the loop's timer set.
    pub(super) timer: Option<Instant>,
}

pub(super) enum Phase {
    /// Reading the request head.
    Handshake {
        handshake: ServerHandshake,
        deadline: Instant,
    },
    /// Writing a refusal (an HTTP error response) or the handler's answer to a plain `GET`, still within
    /// the handshake's time.
    Refusing {
        out: Vec<u8>,
        written: usize,
        deadline: Instant,
    },
    /// Upgraded: the connection drives it.
    Open(Box<Open>),
    /// Our side is shut down; reading what the peer still sends until it closes or the linger passes, so
    /// that closing the socket with unread input does not reset the connection under our last bytes.
    Draining { deadline: Instant },
}

pub(super) struct Open {
    pub(super) conn: Connection,
    /// The 101 response, written before anything the connection queues.
    pub(super) head: Vec<u8>,
    pub(super) head_written: usize,
    /// `on_open` was called and `on_close` was not.
    pub(super) notified: bool,
    /// Once the connection asks for the transport to close: how long the peer has to take the last bytes.
    pub(super) closing_deadline: Option<Instant>,
}

impl Open {
    pub(super) fn pending_output(&self) -> bool {
        self.head_written < self.head.len() || self.conn.buffered_output() > 0
    }

    /// Room for one more message in the output.
    pub(super) fn has_room(&self) -> bool {
        !self.conn.is_output_full()
    }
}

impl Peer {
    pub(super) fn is_open(&self) -> bool {
        matches!(&self.phase, Phase::Open(open) if open.notified)
    }

    pub(super) fn wants_write(&self) -> bool {
        match &self.phase {
            Phase::Refusing { out, written, .. } => *written < out.len(),
            Phase::Open(open) => open.pending_output(),
            Phase::Handshake { .. } | Phase::Draining { .. } => false,
        }
    }

    /// When the loop must come back to this peer even if its socket stays quiet.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Handshake { deadline, .. }
            | Phase::Refusing { deadline, .. }
            | Phase::Draining { deadline } => Some(*deadline),
            Phase::Open(open) => match (open.conn.poll_timeout(), open.closing_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }
}
