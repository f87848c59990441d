//! What the application supplies ([`Handler`]) and what it gets to act with ([`Context`]).

use std::fmt;
use std::net::SocketAddr;

use wslane::connection::Sender;
use wslane::handshake::{Acceptance, Rejection, Request};
use wslane::{CloseCode, CloseFrame, Event, Message, State};

use super::peer::{Peer, Phase};
use super::peers::Peers;
use crate::Error;

/// A connection served by the event loop. Ids are never reused within a [`Server`](super::Server).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId {
    pub(super) serial: u64,
    pub(super) index: usize,
}

impl fmt::Debug for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionId({})", self.serial)
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.serial)
    }
}

/// Why a connection ended, as [`Handler::on_close`] is told.
#[derive(Debug)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer's close frame arrived, first or in answer to ours ([`CloseCode::NO_STATUS_RECEIVED`] when it
    /// had no body), or the transport ended without one ([`CloseCode::ABNORMAL_CLOSURE`]).
    Closed(CloseFrame),
    /// The connection failed: [`Error::Protocol`] for the peer's violation (a close frame with its code
    /// was sent) or a keepalive or close timeout, [`Error::Io`] when the transport failed.
    Failed(Error),
}

impl CloseReason {
    /// The close code: the peer's, or the one that describes the failure.
    #[must_use]
    pub fn code(&self) -> CloseCode {
        match self {
            CloseReason::Closed(frame) => frame.code,
            CloseReason::Failed(err) => err.close_code().unwrap_or(CloseCode::ABNORMAL_CLOSURE),
        }
    }
}

/// The application's side of the event loop. Every method has a default: accept every request, ignore
/// every event. Callbacks run on the loop's thread, so they must not block.
///
/// A connection's life: [`on_request`](Self::on_request) (accept or refuse), then
/// [`on_open`](Self::on_open), any number of [`on_event`](Self::on_event) (by default passed on to
/// [`on_message`](Self::on_message) as owned messages), then exactly one [`on_close`](Self::on_close).
/// A handshake that fails or is refused ends in [`on_handshake_error`](Self::on_handshake_error) instead;
/// a plain HTTP `GET` on the same port may be answered by [`on_http_get`](Self::on_http_get).
///
/// Events for one connection are not delivered while its output buffer is at
/// [`Config::max_output_buffer`](wslane::Config::max_output_buffer) (its socket is not read either, so
/// TCP pushes back on the peer), so a handler answering on the same connection always finds room. A send
/// to *another* connection whose buffer is full fails with
/// [`Error::Send`]`(`[`SendError::BufferFull`](wslane::SendError::BufferFull)`)`: the handler decides
/// whether to drop the message, keep it for later, or close the slow connection.
pub trait Handler {
    /// A valid upgrade request arrived: accept it (with a subprotocol and extra fields) or refuse it.
    /// Default: accept.
    fn on_request(
        &mut self,
        ctx: &mut Context<'_>,
        id: ConnectionId,
        request: &Request,
    ) -> Result<Acceptance, Rejection> {
        let _ = (ctx, id, request);
        Ok(Acceptance::new())
    }

    /// The connection is open; the 101 response is queued and anything sent now follows it.
    fn on_open(&mut self, ctx: &mut Context<'_>, id: ConnectionId) {
        let _ = (ctx, id);
    }

    /// A message, ping, pong or (in [`ReceiveMode::Fragments`](wslane::ReceiveMode::Fragments)) fragment
    /// arrived, borrowed from the connection's receive buffer: no copy, no allocation. Replies to `id` sent
    /// through `ctx` are queued straight from it. The peer's close is not an event here but
    /// [`on_close`](Self::on_close).
    ///
    /// Default: copies whole messages into [`on_message`](Self::on_message) and drops fragments.
    fn on_event(&mut self, ctx: &mut Context<'_>, id: ConnectionId, event: Event<'_>) {
        if let Some(message) = Message::from_event(&event) {
            self.on_message(ctx, id, message);
        }
    }

    /// A whole message, ping or pong arrived (called by the default [`on_event`](Self::on_event)).
    fn on_message(&mut self, ctx: &mut Context<'_>, id: ConnectionId, message: Message) {
        let _ = (ctx, id, message);
    }

    /// The connection ended; nothing more can be sent on it. What is still queued (such as the reply to
    /// the peer's close) is written before the socket is closed.
    fn on_close(&mut self, ctx: &mut Context<'_>, id: ConnectionId, reason: CloseReason) {
        let _ = (ctx, id, reason);
    }

    /// A plain HTTP `GET` for `target` arrived instead of an upgrade: a well-formed HTTP/1.1 `GET` whose
    /// `Upgrade` field does not list `websocket`, such as a browser loading a page from the same port.
    /// Return a whole HTTP response (status line, fields with `Connection: close`, body) to answer it;
    /// the loop writes it, within the handshake timeout, and closes the connection.
    ///
    /// Default: `None`, refusing it as any failed handshake (400, then
    /// [`on_handshake_error`](Self::on_handshake_error) with
    /// [`ServerError::NotWebSocketUpgrade`](wslane::handshake::ServerError::NotWebSocketUpgrade)).
    fn on_http_get(&mut self, peer: SocketAddr, target: &str) -> Option<Vec<u8>> {
        let _ = (peer, target);
        None
    }

    /// An opening handshake failed: refused by the core ([`Error::Request`], answered with its status) or
    /// by [`on_request`](Self::on_request) ([`Error::Rejected`]), timed out, or the transport failed.
    fn on_handshake_error(&mut self, peer: SocketAddr, error: Error) {
        let _ = (peer, error);
    }
}

/// What a [`Handler`] can do from a callback: send to and close any open connection. Commands only queue
/// bytes; the loop writes them when the callback returns.
pub struct Context<'a> {
    pub(super) peers: &'a mut Peers,
    /// The connection being served, taken out of `peers` meanwhile.
    pub(super) current: Current<'a>,
    /// Connections given commands, for the loop to write out.
    pub(super) touched: &'a mut Vec<ConnectionId>,
}

/// The connection being served.
pub(super) enum Current<'a> {
    /// Outside an event: the whole peer.
    Peer(&'a mut Peer),
    /// During an event, which borrows the connection's receive buffer: its id, address and sending half.
    Replying {
        id: ConnectionId,
        addr: SocketAddr,
        sender: Sender<'a>,
    },
}

impl Current<'_> {
    fn id(&self) -> ConnectionId {
        match self {
            Current::Peer(peer) => peer.id,
            Current::Replying { id, .. } => *id,
        }
    }
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("current", &self.current.id())
            .finish_non_exhaustive()
    }
}

impl Context<'_> {
    /// Queues a message: text, binary, ping, pong, or a close (`None` sends [`CloseCode::NORMAL`]).
    ///
    /// Fails with [`Error::Closed`] when the connection is not open (still in its handshake, closing, or
    /// gone), and with [`Error::Send`] for what the core refuses, notably
    /// [`SendError::BufferFull`](wslane::SendError::BufferFull) when its output is at its limit.
    pub fn send(&mut self, id: ConnectionId, message: Message) -> Result<(), Error> {
        Ok(self.conn(id)?.send_owned(message)?)
    }

    /// Queues a text message, as [`send`](Self::send), without an owned message.
    pub fn send_text(&mut self, id: ConnectionId, text: &str) -> Result<(), Error> {
        Ok(self.conn(id)?.send_text(text)?)
    }

    /// Queues a binary message, as [`send`](Self::send), without an owned message.
    pub fn send_binary(&mut self, id: ConnectionId, data: &[u8]) -> Result<(), Error> {
        Ok(self.conn(id)?.send_binary(data)?)
    }

    /// Queues a ping (at most 125 bytes).
    pub fn ping(&mut self, id: ConnectionId, payload: &[u8]) -> Result<(), Error> {
        Ok(self.conn(id)?.ping(payload)?)
    }

    /// Starts the close handshake. [`Handler::on_close`] follows when the peer answers (or the close
    /// timeout passes).
    pub fn close(&mut self, id: ConnectionId, code: CloseCode, reason: &str) -> Result<(), Error> {
        Ok(self.conn(id)?.close(code, reason)?)
    }

    /// Whether `id` is open: [`Handler::on_open`] was called and [`Handler::on_close`] was not.
    #[must_use]
    pub fn is_open(&self, id: ConnectionId) -> bool {
        match &self.current {
            // Events are delivered only to open connections.
            Current::Replying { id: current, .. } if *current == id => true,
            _ => self.peer(id).is_some_and(Peer::is_open),
        }
    }

    /// The state of an open connection.
    #[must_use]
    pub fn state(&self, id: ConnectionId) -> Option<State> {
        match &self.current {
            Current::Replying {
                id: current,
                sender,
                ..
            } if *current == id => Some(sender.state()),
            _ => self.open_conn(id).map(wslane::Connection::state),
        }
    }

    /// Bytes queued and not yet written on an open connection.
    #[must_use]
    pub fn buffered_output(&self, id: ConnectionId) -> Option<usize> {
        match &self.current {
            Current::Replying {
                id: current,
                sender,
                ..
            } if *current == id => Some(sender.buffered_output()),
            _ => self.open_conn(id).map(wslane::Connection::buffered_output),
        }
    }

    /// The peer's address, from the handshake on until the socket is closed.
    #[must_use]
    pub fn peer_addr(&self, id: ConnectionId) -> Option<SocketAddr> {
        match &self.current {
            Current::Replying {
                id: current, addr, ..
            } if *current == id => Some(*addr),
            _ => self.peer(id).map(|peer| peer.addr),
        }
    }

    /// The open connections, for broadcasting (collect them first: sending needs `&mut self`).
    pub fn connections(&self) -> impl Iterator<Item = ConnectionId> + '_ {
        let current = match &self.current {
            Current::Peer(peer) => peer.is_open().then_some(peer.id),
            Current::Replying { id, .. } => Some(*id),
        };
        current.into_iter().chain(
            self.peers
                .iter()
                .filter(|peer| peer.is_open())
                .map(|peer| peer.id),
        )
    }

    /// Any connection's peer but the one replying to an event.
    fn peer(&self, id: ConnectionId) -> Option<&Peer> {
        match &self.current {
            Current::Peer(peer) if peer.id == id => Some(peer),
            _ => self.peers.get(id),
        }
    }

    fn open_conn(&self, id: ConnectionId) -> Option<&wslane::Connection> {
        match &self.peer(id)?.phase {
            Phase::Open(open) if open.notified => Some(&open.conn),
            _ => None,
        }
    }

    /// The sending half of an open `id`'s connection, noted for the loop to write out.
    fn conn(&mut self, id: ConnectionId) -> Result<Sender<'_>, Error> {
        let peer = match &mut self.current {
            Current::Replying {
                id: current,
                sender,
                ..
            } if *current == id => return Ok(sender.reborrow()),
            Current::Peer(peer) if peer.id == id => &mut **peer,
            _ => {
                let peer = self.peers.get_mut(id).ok_or(Error::Closed)?;
                self.touched.push(id);
                peer
            }
        };
        match &mut peer.phase {
            Phase::Open(open) if open.notified => Ok(open.conn.sender()),
            _ => Err(Error::Closed),
        }
    }
}
