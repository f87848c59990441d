//! The rule of RFC 6455 section 4.1 for the blocking client: at most one connection in the CONNECTING
//! state to the same remote address (IP and port); later ones wait their turn.

use std::net::SocketAddr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The process-wide set of addresses with a connection attempt in progress.
pub(super) static GATE: Gate = Gate {
    busy: Mutex::new(Vec::new()),
    freed: Condvar::new(),
};

pub(super) struct Gate {
    /// Few at a time: one per address being connected to.
    busy: Mutex<Vec<SocketAddr>>,
    freed: Condvar,
}

/// The right to connect to one address, until dropped.
pub(super) struct GateGuard {
    addr: SocketAddr,
}

impl Gate {
    /// Waits for no other connection to `addr` to be connecting (each holder is bounded by its own
    /// handshake timeout), then holds the address until the guard is dropped.
    pub(super) fn acquire(&'static self, addr: SocketAddr) -> GateGuard {
        let mut busy = self.lock();
        while busy.contains(&addr) {
            busy = self
                .freed
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        busy.push(addr);
        GateGuard { addr }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<SocketAddr>> {
        // Every change is a single push or removal, so the list stays consistent after a panic elsewhere.
        self.busy.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        GATE.lock().retain(|addr| *addr != self.addr);
        GATE.freed.notify_all();
    }
}
