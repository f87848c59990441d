//! The linger after our side is shut down: reading and discarding what the peer still sends, so that
//! closing the socket with unread input does not reset the connection under our last bytes.

use std::io::{self, Read};

use wslane::Instant;

use super::peer::{Peer, Phase};
use super::serve::{Core, Step, READ_BUDGET};

impl Core {
    /// Reads and discards what the peer still sends until it closes its side or the linger ends.
    pub(super) fn serve_draining(&mut self, peer: &mut Peer, now: Instant) -> Step {
        let Phase::Draining { deadline } = peer.phase else {
            return Step::Again;
        };
        if now >= deadline {
            return Step::Remove;
        }
        loop {
            if !peer.read_ready || peer.reads >= READ_BUDGET {
                return Step::Wait;
            }
            match peer.socket.read(&mut self.scratch) {
                Ok(0) => return Step::Remove,
                Ok(_) => peer.reads += 1,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    peer.read_ready = false;
                    return Step::Wait;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Step::Remove,
            }
        }
    }
}
