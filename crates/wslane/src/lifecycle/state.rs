//! The connection's lifetime as one transition table (RFC 6455 sections 5.5.1, 7.1.1 and 7.1.7), in the
//! manner of h11's `_state.py`: every state, every input, and what each state allows, in one place.
//!
//! Inputs (what happens):
//!
//! - **send close**: we queue our close frame ([`Sender::close`](crate::Sender::close)).
//! - **peer close**: the peer's close frame is decoded (the reply, if owed, is queued with it).
//! - **failure**: a protocol violation by the peer, the keepalive timeout, or the write timeout. From
//!   `Open`, a protocol violation queues a close frame with its code and the keepalive timeout one with
//!   1011; the write timeout drops the output instead, since it is stuck (from `CloseSent` too).
//! - **EOF**: the transport's end, once every byte received before it was decoded.
//! - **close timeout**: [`Config::close_timeout`](crate::Config::close_timeout) passed while closing.
//!
//! Transitions (`=`: no change; the input is refused, or cannot happen there):
//!
//! | state \ input | send close  | peer close | failure  | EOF             | close timeout |
//! |---------------|-------------|------------|----------|-----------------|---------------|
//! | `Open`        | `CloseSent` | *done*     | `Failed` | `Failed` (1006) | =             |
//! | `CloseSent`   | =           | *done*     | `Failed` | `Failed` (1006) | `Failed`      |
//! | `AwaitingEnd` | =           | =          | =        | `MustClose`     | `MustClose`   |
//! | `MustClose`   | =           | =          | =        | =               | =             |
//! | `Failed`      | =           | =          | =        | =               | =             |
//!
//! *done*: the close handshake is complete. A server goes to `MustClose` and closes the TCP connection at
//! once; a client goes to `AwaitingEnd` and waits for the server to close it first (section 7.1.1), until
//! the close timeout.
//!
//! What each state allows, and the public [`State`] it shows as:
//!
//! | state         | send | receive | keepalive | close timer | close transport | [`State`]   |
//! |---------------|------|---------|-----------|-------------|-----------------|-------------|
//! | `Open`        | yes  | yes     | yes       | no          | no              | `Open`      |
//! | `CloseSent`   | no   | yes     | no        | yes         | no              | `CloseSent` |
//! | `AwaitingEnd` | no   | no      | no        | yes         | no              | `Closed`    |
//! | `MustClose`   | no   | no      | no        | no          | yes             | `Closed`    |
//! | `Failed`      | no   | no      | no        | no          | yes             | `Failed`    |
//!
//! The write timer is not a column: it runs while output is queued in the states that receive (`Open`,
//! `CloseSent`); after those, the close timer or the driver's own ending bounds the wait.
//!
//! "Close transport": the driver transmits what is queued, then closes the transport
//! ([`Connection::should_close_transport`](crate::Connection::should_close_transport)).

use crate::Role;

/// Where a connection is in its lifetime, as users see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's. Incoming data is still delivered; nothing more may be
    /// sent.
    CloseSent,
    /// Both close frames have been exchanged: the connection ended cleanly. (A client may still wait for
    /// the server to close the transport: see
    /// [`Connection::should_close_transport`](crate::Connection::should_close_transport).)
    Closed,
    /// The connection failed: a protocol error (a close frame with its code was queued), the transport
    /// ended without a close handshake, or a timeout.
    Failed,
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
}

/// The rows of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Messages flow both ways.
    Open,
    /// Our close is queued; the peer's is awaited.
    CloseSent,
    /// A client's close handshake is done; it waits for the server to end the transport.
    AwaitingEnd,
    /// Over, cleanly: the driver closes the transport.
    MustClose,
    /// Over, after a failure: the driver closes the transport.
    Failed,
}

/// The columns of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    SendClose,
    PeerClose,
    Failure,
    Eof,
    CloseTimeout,
}

/// The connection's place in the table; the role picks the row a finished close handshake leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    role: Role,
    phase: Phase,
}

impl Phase {
    /// The transition table above.
    const fn next(self, role: Role, input: Input) -> Phase {
        use Input as I;
        use Phase as P;
        match (self, input) {
            (P::Open, I::SendClose) => P::CloseSent,
            (P::Open | P::CloseSent, I::PeerClose) => match role {
                Role::Server => P::MustClose,
                Role::Client => P::AwaitingEnd,
            },
            (P::Open | P::CloseSent, I::Failure | I::Eof) => P::Failed,
            (P::CloseSent, I::CloseTimeout) => P::Failed,
            (P::AwaitingEnd, I::Eof | I::CloseTimeout) => P::MustClose,
            (phase, _) => phase,
        }
    }

    /// The answers table above: (send, receive, keepalive, close timer, close transport, public state).
    const fn answers(self) -> (bool, bool, bool, bool, bool, State) {
        match self {
            Phase::Open => (true, true, true, false, false, State::Open),
            Phase::CloseSent => (false, true, false, true, false, State::CloseSent),
            Phase::AwaitingEnd => (false, false, false, true, false, State::Closed),
            Phase::MustClose => (false, false, false, false, true, State::Closed),
            Phase::Failed => (false, false, false, false, true, State::Failed),
        }
    }
}

impl Lifecycle {
    /// A connection just opened.
    pub(crate) const fn new(role: Role) -> Lifecycle {
        Lifecycle {
            role,
            phase: Phase::Open,
        }
    }

    /// Which end this is.
    pub(crate) const fn role(&self) -> Role {
        self.role
    }

    /// The row.
    pub(crate) const fn phase(&self) -> Phase {
        self.phase
    }

    /// Applies an input; returns the new row.
    pub(crate) fn handle(&mut self, input: Input) -> Phase {
        self.phase = self.phase.next(self.role, input);
        self.phase
    }

    /// Whether messages, pings and a close may be sent.
    pub(crate) const fn can_send(&self) -> bool {
        self.phase.answers().0
    }

    /// Whether received frames are still processed.
    pub(crate) const fn can_receive(&self) -> bool {
        self.phase.answers().1
    }

    /// Whether the keepalive timer runs.
    pub(crate) const fn keepalive_applies(&self) -> bool {
        self.phase.answers().2
    }

    /// Whether the close timer runs: waiting for the peer's close, or (a client) for the transport's end.
    pub(crate) const fn close_timer_applies(&self) -> bool {
        self.phase.answers().3
    }

    /// Whether the driver should transmit what is queued and close the transport.
    pub(crate) const fn must_close_transport(&self) -> bool {
        self.phase.answers().4
    }

    /// The state users see.
    pub(crate) const fn public(&self) -> State {
        self.phase.answers().5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHASES: [Phase; 5] = [
        Phase::Open,
        Phase::CloseSent,
        Phase::AwaitingEnd,
        Phase::MustClose,
        Phase::Failed,
    ];
    const INPUTS: [Input; 5] = [
        Input::SendClose,
        Input::PeerClose,
        Input::Failure,
        Input::Eof,
        Input::CloseTimeout,
    ];

    /// The module doc's transition table, written out row by row, for one role.
    fn expected(role: Role, phase: Phase) -> [Phase; 5] {
        use Phase as P;
        let closed = match role {
            Role::Server => P::MustClose,
            Role::Client => P::AwaitingEnd,
        };
        match phase {
            P::Open => [P::CloseSent, closed, P::Failed, P::Failed, P::Open],
            P::CloseSent => [P::CloseSent, closed, P::Failed, P::Failed, P::Failed],
            P::AwaitingEnd => [
                P::AwaitingEnd,
                P::AwaitingEnd,
                P::AwaitingEnd,
                P::MustClose,
                P::MustClose,
            ],
            P::MustClose => [P::MustClose; 5],
            P::Failed => [P::Failed; 5],
        }
    }

    #[test]
    fn every_transition_matches_the_table() {
        for role in [Role::Server, Role::Client] {
            for phase in PHASES {
                for (input, want) in INPUTS.into_iter().zip(expected(role, phase)) {
                    let mut state = Lifecycle { role, phase };
                    assert_eq!(state.handle(input), want, "{role:?} {phase:?} {input:?}");
                    assert_eq!(state.phase(), want);
                }
            }
        }
    }

    #[test]
    fn every_answer_matches_the_table() {
        // (send, receive, keepalive, close timer, close transport, public state), as in the module doc.
        let rows = [
            (Phase::Open, (true, true, true, false, false, State::Open)),
            (
                Phase::CloseSent,
                (false, true, false, true, false, State::CloseSent),
            ),
            (
                Phase::AwaitingEnd,
                (false, false, false, true, false, State::Closed),
            ),
            (
                Phase::MustClose,
                (false, false, false, false, true, State::Closed),
            ),
            (
                Phase::Failed,
                (false, false, false, false, true, State::Failed),
            ),
        ];
        for role in [Role::Server, Role::Client] {
            for (phase, (send, receive, keepalive, close_timer, close_transport, public)) in rows {
                let state = Lifecycle { role, phase };
                assert_eq!(state.can_send(), send, "{phase:?}");
                assert_eq!(state.can_receive(), receive, "{phase:?}");
                assert_eq!(state.keepalive_applies(), keepalive, "{phase:?}");
                assert_eq!(state.close_timer_applies(), close_timer, "{phase:?}");
                assert_eq!(state.must_close_transport(), close_transport, "{phase:?}");
                assert_eq!(state.public(), public, "{phase:?}");
                // The public state's own answers agree with the table's.
                assert_eq!(public.can_send(), send, "{phase:?}");
                assert_eq!(public.can_receive(), receive, "{phase:?}");
            }
        }
    }

    #[test]
    fn terminal_states_are_reached_and_kept() {
        // No input leaves a state where the driver closes the transport.
        for role in [Role::Server, Role::Client] {
            for phase in PHASES {
                let state = Lifecycle { role, phase };
                if state.must_close_transport() {
                    for input in INPUTS {
                        assert_eq!(phase.next(role, input), phase);
                    }
                }
            }
        }
        // A clean close from Open, both ways round, ends with the transport to close.
        for role in [Role::Server, Role::Client] {
            let mut state = Lifecycle::new(role);
            state.handle(Input::SendClose);
            state.handle(Input::PeerClose);
            state.handle(Input::Eof);
            assert!(state.must_close_transport());
            assert_eq!(state.public(), State::Closed);
        }
    }
}
