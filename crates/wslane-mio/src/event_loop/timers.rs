//! Every peer's next deadline (handshake, keepalive, close, linger) in one ordered set, and how long a
//! poll may wait before the earliest of them.

use std::collections::BTreeSet;
use std::time::Duration;

use wslane::Instant;

use super::serve::Core;

/// The peers' deadlines, earliest first.
#[derive(Default)]
pub(super) struct Timers {
    /// Each peer's deadline with its slot index, earliest first.
    set: BTreeSet<(Instant, usize)>,
}

impl Timers {
    /// The earliest deadline.
    fn first(&self) -> Option<Instant> {
        self.set.first().map(|&(at, _)| at)
    }

    /// Moves the deadline of the peer in slot `index` from `old` to `new` (either may be none).
    pub(super) fn replace(&mut self, index: usize, old: Option<Instant>, new: Option<Instant>) {
        if let Some(old) = old {
            self.set.remove(&(old, index));
        }
        if let Some(new) = new {
            self.set.insert((new, index));
        }
    }

    /// Takes out the earliest deadline if it is due at `now`, and returns its slot index.
    fn pop_due(&mut self, now: Instant) -> Option<usize> {
        let &(at, index) = self.set.first()?;
        if at > now {
            return None;
        }
        self.set.pop_first();
        Some(index)
    }
}

impl Core {
    pub(super) fn wait_time(&self, timeout: Option<Duration>) -> Option<Duration> {
        if !self.queue.is_empty() || !self.deferred.is_empty() {
            return Some(Duration::ZERO);
        }
        let now = self.clock.now();
        let next = [self.timers.first(), self.accept_retry]
            .into_iter()
            .flatten()
            .min();
        let until = next.map(|at| at.saturating_duration_since(now));
        match (timeout, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(super) fn expire_timers(&mut self, now: Instant) {
        while let Some(index) = self.timers.pop_due(now) {
            if let Some(peer) = self.peers.at_mut(index) {
                peer.timer = None;
                let id = peer.id;
                self.schedule(id);
            }
        }
    }
}
