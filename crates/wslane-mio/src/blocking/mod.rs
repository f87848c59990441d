//! The blocking API: a [`WebSocket`] over any blocking [`Transport`], one connection per thread.

mod accept;
mod connect;
mod handshake;
mod transport;

pub use accept::{accept, accept_with};
pub use connect::{client_on, connect, connect_with};
pub use transport::Transport;

use std::io;
use std::time::Duration;

use wslane::{CloseCode, Connection, Event, Message, Sender, State};

use self::transport::is_retry;
use crate::clock::Clock;
use crate::Error;

/// A WebSocket over a blocking transport `S`.
///
/// [`recv`](Self::recv) blocks until a message arrives; while it waits it also answers pings, writes what
/// [`feed`](Self::feed) queued, and runs the keepalive and close timers (as read timeouts armed from
/// [`Connection::poll_timeout`]). When the connection ends it returns the close message once, then
/// `None`, as the async adapters' `recv` does. Writes block until the transport takes the bytes.
///
/// ```no_run
/// use wslane_mio::{CloseCode, Message};
///
/// # fn run() -> Result<(), wslane_mio::Error> {
/// let (mut ws, _response) = wslane_mio::connect("ws://127.0.0.1:9001/")?;
/// ws.send(Message::text("hello"))?;
/// assert_eq!(ws.recv().transpose()?, Some(Message::text("hello")));
/// ws.close(CloseCode::NORMAL, "bye")?;
/// # Ok(())
/// # }
/// ```
pub struct WebSocket<S> {
    io: S,
    conn: Connection,
    clock: Clock,
    /// The read timeout last set on the transport.
    read_timeout: Option<Duration>,
    /// The write timeout was set on the transport (once, before the first write).
    write_timeout_set: bool,
    /// The connection has ended: receiving returns `None`.
    done: bool,
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("conn", &self.conn)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<S: Transport> WebSocket<S> {
    /// Drives `conn`, an established connection (after an opening handshake of your own), over `io`, a
    /// blocking transport with no read timeout set. The connection's clock starts here: create it with
    /// [`Instant::ZERO`](wslane::Instant::ZERO) as its `now`.
    pub fn new(io: S, conn: Connection) -> WebSocket<S> {
        WebSocket {
            io,
            conn,
            clock: Clock::new(),
            read_timeout: None,
            write_timeout_set: false,
            done: false,
        }
    }

    /// The connection, for its state and settings.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport. Bytes read or written here bypass the connection and break its framing.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The transport, giving up the connection (and anything still queued).
    pub fn into_inner(self) -> S {
        self.io
    }

    /// Receives the next whole message; `None` once the connection has ended (after the close message:
    /// the peer's code, or [`CloseCode::ABNORMAL_CLOSURE`] when the transport ended without one; or after
    /// an error, which is returned once).
    pub fn recv(&mut self) -> Option<Result<Message, Error>> {
        self.recv_with(|event| Message::from_event(&event))
            .map(|result| result.and_then(|message| message.ok_or(Error::FragmentsMode)))
    }

    /// Receives the next event and hands it, borrowed, to `f`: no copy, no allocation. Works in both
    /// receive modes.
    pub fn recv_with<F, O>(&mut self, mut f: F) -> Option<Result<O, Error>>
    where
        F: FnMut(Event<'_>) -> O,
    {
        self.recv_with_reply(|event, _| f(event))
    }

    /// Receives the next event and hands it, borrowed, to `f` together with the connection's [`Sender`],
    /// so a reply can be queued straight from the received payload: no copy into an owned message, no
    /// allocation. Writes queued output first while the output buffer is full, so a reply queued from `f`
    /// always finds room. Replies go out, with everything else queued, when the received input runs dry.
    pub fn recv_with_reply<F, O>(&mut self, mut f: F) -> Option<Result<O, Error>>
    where
        F: FnMut(Event<'_>, &mut Sender<'_>) -> O,
    {
        if !self.done && self.conn.is_output_full() {
            if let Err(err) = self.write_queued() {
                return self.transport_failed(err);
            }
        }
        loop {
            if self.done {
                return None;
            }
            match self.conn.poll_event_with(&mut f) {
                Ok(Some(output)) => return Some(Ok(output)),
                Ok(None) => {}
                Err(err) => {
                    // The close frame is queued; send it on the way out, ignoring a transport that is gone.
                    self.finish();
                    return Some(Err(err.into()));
                }
            }
            if self.conn.should_close_transport() {
                self.finish();
                return None;
            }
            // The received input is used up: write out everything queued (pongs, the close reply, messages
            // fed) before waiting for more.
            if let Err(err) = self.write_queued() {
                return self.transport_failed(err);
            }
            match self.handle_timers() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => return Some(Err(err)),
            }
            let buf = self.conn.read_buffer(1);
            match self.io.read(buf) {
                Ok(0) => self.conn.handle_eof(self.clock.now()),
                Ok(n) => self.conn.handle_read(self.clock.now(), n),
                Err(err) if is_retry(&err) => {}
                Err(err) => return self.transport_failed(err),
            }
        }
    }

    /// Queues `message` without writing it, first writing out what is queued when the output buffer is at
    /// its limit ([`Config::max_output_buffer`](wslane::Config::max_output_buffer)). Write with
    /// [`flush`](Self::flush), or use [`send`](Self::send) for both; [`recv`](Self::recv) also writes.
    pub fn feed(&mut self, message: Message) -> Result<(), Error> {
        if self.conn.is_output_full() {
            self.write_queued()?;
        }
        Ok(self.conn.send_owned(message)?)
    }

    /// Queues `message` and writes everything queued.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message)?;
        self.flush()
    }

    /// Writes everything queued to the transport and flushes it.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.write_queued().map_err(Error::from)
    }

    /// Runs the close handshake: sends a close frame, then reads (dropping data messages) until the peer's
    /// close arrives and the transport is closed, or the close timeout passes.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.sender().close(code, reason)?;
        self.flush()?;
        while let Some(result) = self.recv_with(|_| ()) {
            result?;
        }
        Ok(())
    }

    /// Writes queued output until none is left. A write that blocks for
    /// [`Config::write_timeout`](wslane::Config::write_timeout) (the transport's write timeout) lets the
    /// connection's timers fire: a write timeout fails the connection, and its error comes back inside an
    /// [`io::ErrorKind::TimedOut`] error (`Error::from` turns it back into [`Error::Protocol`]). Other
    /// timers (keepalive) wait while a write blocks.
    fn write_queued(&mut self) -> io::Result<()> {
        if !self.write_timeout_set {
            let timeout = self.conn.config().write_timeout.filter(|t| !t.is_zero());
            self.io.set_write_timeout(timeout)?;
            self.write_timeout_set = true;
        }
        let mut wrote = false;
        loop {
            let out = self.conn.poll_transmit();
            if out.is_empty() {
                break;
            }
            match self.io.write(out) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.conn.advance_transmit(self.clock.now(), n);
                    wrote = true;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if is_retry(&err) => {
                    // The transport's write timeout: nothing went out for that long.
                    self.conn.handle_timeout(self.clock.now());
                    if self.conn.state() == State::Failed {
                        if let Err(failure) = self.conn.poll_event() {
                            self.done = true;
                            return Err(io::Error::new(io::ErrorKind::TimedOut, failure));
                        }
                    }
                }
                Err(err) => return Err(err),
            }
        }
        if wrote {
            self.io.flush()?;
        }
        Ok(())
    }

    /// Fires the connection's timer when due (returns true), otherwise arms the read timeout for it.
    fn handle_timers(&mut self) -> Result<bool, Error> {
        let wait = match self.conn.poll_timeout() {
            None => None,
            Some(deadline) => {
                let now = self.clock.now();
                if deadline <= now {
                    self.conn.handle_timeout(now);
                    return Ok(true);
                }
                Some(deadline.saturating_duration_since(now))
            }
        };
        if wait != self.read_timeout {
            if let Err(err) = self.io.set_read_timeout(wait) {
                self.done = true;
                return Err(err.into());
            }
            self.read_timeout = wait;
        }
        Ok(false)
    }

    /// Ends the connection: writes what is queued (such as the close frame after a protocol error) and ends
    /// the sending direction, best effort and within the close timeout.
    fn finish(&mut self) {
        self.done = true;
        self.write_timeout_set = true;
        let _ = self
            .io
            .set_write_timeout(Some(self.conn.config().close_timeout));
        if self.write_queued().is_ok() {
            let _ = self.io.shutdown_write();
        }
    }

    /// The transport failed. Once the close handshake is done (a peer may reset the connection right
    /// after its close frame, as browsers do), that is the end, not an error.
    fn transport_failed<O>(&mut self, err: io::Error) -> Option<Result<O, Error>> {
        self.done = true;
        if self.conn.state() == State::Closed {
            None
        } else {
            Some(Err(err.into()))
        }
    }
}
