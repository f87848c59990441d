//! The slab of peers, by index, and the mio tokens: the listener's, the waker's, and one per slot.

use mio::Token;

use super::handler::ConnectionId;
use super::peer::Peer;

pub(super) const LISTENER: Token = Token(0);
pub(super) const WAKER: Token = Token(1);
/// Peer tokens are their slot index plus this.
const FIRST_PEER: usize = 2;

/// The token a peer in slot `index` is registered with.
pub(super) fn token(index: usize) -> Token {
    Token(index + FIRST_PEER)
}

/// The slot index of a peer's token.
pub(super) fn index(token: Token) -> usize {
    token.0 - FIRST_PEER
}

/// The peers, by index (the mio token is derived from it); a slot's serial tells ids apart across reuse.
#[derive(Default)]
pub(super) struct Peers {
    slots: Vec<Option<Peer>>,
    /// Indices of slots not in use (a slot whose peer is taken out to be served is in use).
    free: Vec<usize>,
    serial: u64,
    len: usize,
}

impl Peers {
    /// An id for a new peer, its slot held empty until [`put`](Self::put) or [`release`](Self::release).
    pub(super) fn reserve(&mut self) -> ConnectionId {
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        self.serial += 1;
        self.len += 1;
        ConnectionId {
            serial: self.serial,
            index,
        }
    }

    pub(super) fn put(&mut self, peer: Peer) {
        let index = peer.id.index;
        self.slots[index] = Some(peer);
    }

    /// Frees a reserved or taken slot.
    pub(super) fn release(&mut self, index: usize) {
        self.slots[index] = None;
        self.free.push(index);
        self.len -= 1;
    }

    /// Takes a peer out to serve it; put it back or release its slot after.
    pub(super) fn take(&mut self, id: ConnectionId) -> Option<Peer> {
        let slot = self.slots.get_mut(id.index)?;
        if slot.as_ref().is_some_and(|peer| peer.id == id) {
            slot.take()
        } else {
            None
        }
    }

    pub(super) fn get(&self, id: ConnectionId) -> Option<&Peer> {
        self.slots
            .get(id.index)?
            .as_ref()
            .filter(|peer| peer.id == id)
    }

    pub(super) fn get_mut(&mut self, id: ConnectionId) -> Option<&mut Peer> {
        self.slots
            .get_mut(id.index)?
            .as_mut()
            .filter(|peer| peer.id == id)
    }

    pub(super) fn at_mut(&mut self, index: usize) -> Option<&mut Peer> {
        self.slots.get_mut(index)?.as_mut()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Peer> {
        self.slots.iter().flatten()
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Peer> {
        self.slots.iter_mut().flatten()
    }

    /// Peers in any phase, including one taken out.
    pub(super) fn len(&self) -> usize {
        self.len
    }
}
