//! The close handshake as one transition table (RFC 6455 sections 5.5.1 and 7).
//!
//! | state       | we send close | peer's close arrives             | protocol error, EOF, timeout |
//! |-------------|---------------|----------------------------------|------------------------------|
//! | `Open`      | `CloseSent`   | `Closed` (reply with same code)  | `Failed`                     |
//! | `CloseSent` | refused       | `Closed`                         | `Failed`                     |
//! | `Closed`    | refused       | (input is discarded)             | stays `Closed`               |
//! | `Failed`    | refused       | (input is discarded)             | stays `Failed`               |
//!
//! Data may be sent only in `Open` and is read only in `Open` and `CloseSent`.

/// Where a connection is in its lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's. Incoming data is still delivered; nothing more may be
    /// sent.
    CloseSent,
    /// Both close frames have been exchanged: the connection ended cleanly.
    Closed,
    /// The connection failed: a protocol error (a close frame with its code was queued), the transport
    /// ended without a close handshake, or a timeout.
    Failed,
}

/// What happened, as an input to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    CloseSent,
    CloseReceived,
    Failure,
}

impl State {
    /// Whether messages, pings and a close may be sent.
    #[must_use]
    pub const fn can_send(self) -> bool {
        matches!(self, State::Open)
    }

    /// Whether received frames are still processed.
    #[must_use]
    pub const fn can_receive(self) -> bool {
        matches!(self, State::Open | State::CloseSent)
    }

    /// The table above.
    pub(crate) const fn next(self, transition: Transition) -> State {
        match (self, transition) {
            (State::Open, Transition::CloseSent) => State::CloseSent,
            (State::Open | State::CloseSent, Transition::CloseReceived) => State::Closed,
            (State::Open | State::CloseSent, Transition::Failure) => State::Failed,
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_stay_put() {
        for state in [State::Closed, State::Failed] {
            for t in [
                Transition::CloseSent,
                Transition::CloseReceived,
                Transition::Failure,
            ] {
                assert_eq!(state.next(t), state);
            }
            assert!(!state.can_send() && !state.can_receive());
        }
        assert_eq!(
            State::CloseSent.next(Transition::CloseSent),
            State::CloseSent
        );
        assert_eq!(
            State::CloseSent.next(Transition::CloseReceived),
            State::Closed
        );
        assert!(!State::CloseSent.can_send() && State::CloseSent.can_receive());
    }
}
