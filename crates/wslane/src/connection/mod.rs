//! A buffered WebSocket connection: the sans-IO state machine an adapter drives.

pub(crate) mod buffer;
mod receive;
mod send;
mod transmit;

pub(crate) use crate::lifecycle::{state, timer};

use alloc::boxed::Box;

pub use state::State;

pub use send::Sender;

use self::receive::Incoming;
use self::send::Outgoing;
use self::state::{Input, Lifecycle, Phase};
use self::timer::{Applies, TimerAction, Timers};
use crate::config::Config;
use crate::error::Error;
use crate::extension::Extension;
use crate::frame::OpCode;
use crate::mask_keys::MaskKeySource;
use crate::time::Instant;
use crate::Role;

pub use crate::event::{Event, Fragment};

/// A WebSocket connection after the opening handshake: frames in, events out; commands in, bytes out.
///
/// It does no I/O and reads no clock: every input carries the time, `now`, as its first argument (any
/// monotonic [`Instant`], from the connection's creation on). A driver (an adapter, or your own loop)
/// calls, in any order but typically in this loop:
///
/// 1. [`poll_transmit`](Self::poll_transmit): bytes to write to the transport; after writing some, report
///    them with [`advance_transmit`](Self::advance_transmit).
/// 2. [`read_buffer`](Self::read_buffer) then [`handle_read`](Self::handle_read) to receive in place (or
///    [`handle_input`](Self::handle_input) with bytes from elsewhere); [`handle_eof`](Self::handle_eof)
///    when the transport ends.
/// 3. [`poll_event`](Self::poll_event) (or [`poll_event_with`](Self::poll_event_with)) until it returns
///    `Ok(None)`. Each event borrows the connection, so handle it (or copy it) before the next call.
/// 4. [`poll_timeout`](Self::poll_timeout): arm one timer for that instant and call
///    [`handle_timeout`](Self::handle_timeout) when it fires (a deadline already passed means "call now").
/// 5. When [`should_close_transport`](Self::should_close_transport) is true, write what is left and close
///    the transport.
///
/// Commands go through the one sending API, [`sender`](Self::sender) (borrowed payloads: messages,
/// pieces, pings, pongs, the close), or [`send`](Self::send) with an owned [`Message`](crate::Message).
/// They may come at any time; they only queue bytes.
///
/// ```
/// use wslane::{Config, Connection, Event, Instant};
///
/// let mut server = Connection::server(Instant::ZERO, Config::default());
/// // A masked text frame "Hello" from RFC 6455 section 5.7.
/// let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// server.handle_input(Instant::from_millis(5), &frame);
/// assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
/// server.sender().send_text("Hello").unwrap();
/// assert_eq!(server.poll_transmit(), &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
/// ```
pub struct Connection {
    config: Config,
    /// The role and the place in the state table.
    state: Lifecycle,
    incoming: Incoming,
    outgoing: Outgoing,
    timers: Timers,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.state.role())
            .field("state", &self.state.phase())
            .field("buffered_input", &self.incoming.buffered())
            .field("buffered_output", &self.outgoing.tx.len())
            .field("extension", &self.outgoing.extension.is_some())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The server end of a connection established at `now`.
    #[must_use]
    pub fn server(now: Instant, config: Config) -> Connection {
        Connection::new(now, Role::Server, config, None)
    }

    /// The client end of a connection established at `now`; `keys` supplies the masking key of every
    /// frame sent (see [`ChaChaKeys`](crate::mask_keys::ChaChaKeys)).
    #[must_use]
    pub fn client(now: Instant, config: Config, keys: impl MaskKeySource + 'static) -> Connection {
        Connection::new(now, Role::Client, config, Some(Box::new(keys)))
    }

    fn new(
        now: Instant,
        role: Role,
        config: Config,
        keys: Option<Box<dyn MaskKeySource>>,
    ) -> Connection {
        Connection {
            config,
            state: Lifecycle::new(role),
            incoming: Incoming::new(role, &config),
            outgoing: Outgoing::new(keys, config.fragment_size, config.max_output_buffer),
            timers: Timers::new(
                now,
                config.ping_interval,
                config.pong_timeout,
                config.write_timeout,
                config.close_timeout,
            ),
        }
    }

    /// Installs the extension negotiated in the opening handshake. Call before any frame is handled.
    #[must_use]
    pub fn with_extension(mut self, extension: Box<dyn Extension>) -> Connection {
        self.incoming.set_extension_rsv(extension.rsv_bits());
        self.outgoing.extension = Some(extension);
        self
    }

    /// The hand-off from a finished handshake (both roles): installs what was negotiated and receives the
    /// bytes that followed the head, at `now`.
    pub(crate) fn after_handshake(
        mut self,
        now: Instant,
        extension: Option<Box<dyn Extension>>,
        trailing: &[u8],
    ) -> Connection {
        if let Some(extension) = extension {
            self = self.with_extension(extension);
        }
        self.handle_input(now, trailing);
        self
    }

    /// Which end this is.
    #[must_use]
    pub fn role(&self) -> Role {
        self.state.role()
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the connection is in its lifetime.
    #[must_use]
    pub fn state(&self) -> State {
        self.state.public()
    }

    /// Bytes received at `now` and queued, as from a transport read. Call
    /// [`poll_event`](Self::poll_event) after.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.timers.advance(now, self.timers_applying());
        if self.state.can_receive() && !data.is_empty() {
            self.timers.on_receive();
            self.make_room(data.len());
            self.incoming.extend(data);
        }
    }

    /// Room for at least `min` received bytes, to read into directly; report how many with
    /// [`handle_read`](Self::handle_read). The room offered is sized to the traffic (small while reads
    /// are small, growing while they fill it), so pass `1` unless you need more.
    pub fn read_buffer(&mut self, min: usize) -> &mut [u8] {
        self.make_room(min.max(1));
        self.incoming.spare(min.max(1))
    }

    /// Before a read of `min` bytes: if payloads queued for transmission from the receive buffer stand in
    /// the way, the transmit queue takes the buffer over and receiving continues in a new one.
    fn make_room(&mut self, min: usize) {
        if let Some(rx) = self.incoming.take_pinned_rx(min) {
            self.outgoing.tx.retire(rx);
        }
    }

    /// `n` bytes were written into the start of [`read_buffer`](Self::read_buffer), received at `now`.
    pub fn handle_read(&mut self, now: Instant, n: usize) {
        self.timers.advance(now, self.timers_applying());
        if n > 0 {
            self.timers.on_receive();
            if self.state.can_receive() {
                self.incoming.commit(n);
            }
        }
    }

    /// The transport reached its end at `now`: no more bytes will arrive. While frames are still read,
    /// the end is reported by [`poll_event`](Self::poll_event) after the bytes received before it.
    pub fn handle_eof(&mut self, now: Instant) {
        self.timers.advance(now, self.timers_applying());
        if self.state.can_receive() {
            self.incoming.eof = true;
        } else {
            self.state.handle(Input::Eof);
        }
    }

    /// The time is `now`: fires expired timers (an early call does nothing).
    ///
    /// - Keepalive ([`Config::ping_interval`]): queues a ping after the interval with nothing received;
    ///   after [`Config::pong_timeout`] more with nothing received, fails the connection with
    ///   [`Error::KeepaliveTimeout`] and queues a close frame with 1011.
    /// - Write timeout ([`Config::write_timeout`]): fails the connection with [`Error::WriteTimeout`] when
    ///   queued output made no progress for that long, and drops the output (it cannot be delivered).
    /// - Close timeout ([`Config::close_timeout`]): fails a close handshake that did not finish (or ends a
    ///   client's wait for the server to close the transport).
    ///
    /// A failure is returned once by [`poll_event`](Self::poll_event), and
    /// [`should_close_transport`](Self::should_close_transport) turns true.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.timers.handle(now, self.timers_applying()) {
            Some(TimerAction::SendPing) => self.outgoing.write_control(OpCode::Ping, &[]),
            Some(expired) => {
                if let Some((input, error)) = expired.failure() {
                    self.fail(input, error);
                }
            }
            None => {}
        }
        // A ping or a close frame just queued starts the write timer now.
        self.timers.advance(now, self.timers_applying());
    }

    /// The instant at which [`handle_timeout`](Self::handle_timeout) should next be called, if any. With
    /// keepalive on, there is always one while the connection is open.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.poll(self.timers_applying())
    }

    /// Which timers apply now ([`Applies::now`]).
    fn timers_applying(&self) -> Applies {
        Applies::now(&self.state, self.outgoing.tx.len() > 0)
    }

    /// Bytes to transmit, oldest first, as one slice. Report what was written with
    /// [`advance_transmit`](Self::advance_transmit).
    ///
    /// Payloads queued from the receive buffer (see [`poll_event_with`](Self::poll_event_with)) are copied
    /// into the output first; a driver that can write several slices at once (`writev`) uses
    /// [`poll_transmit_vectored`](Self::poll_transmit_vectored) instead, which copies nothing.
    #[must_use]
    pub fn poll_transmit(&mut self) -> &[u8] {
        self.release_held_pong();
        self.outgoing.tx.copy_borrowed(self.incoming.rx_bytes());
        self.incoming.pin_rx(0);
        self.outgoing.tx.contiguous(&[])
    }

    /// The same bytes as [`poll_transmit`](Self::poll_transmit), as up to `out.len()` slices in order,
    /// without copying a payload queued from the receive buffer: frame headers and small frames in one
    /// slice, each such payload in its own. Returns how many slices were set (0: nothing to transmit).
    /// Write them with one vectored write (a single slice with a plain write, which costs a socket less),
    /// then report the bytes written with [`advance_transmit`](Self::advance_transmit).
    ///
    /// ```
    /// use wslane::{Config, Connection, Event, Instant};
    ///
    /// let mut server = Connection::server(Instant::ZERO, Config::default());
    /// // A masked 4 KiB binary frame, echoed from the receive buffer.
    /// let mut frame = vec![0x82, 0xfe, 0x10, 0x00, 1, 2, 3, 4];
    /// frame.extend((0..4096).map(|i| [1, 2, 3, 4][i % 4] ^ 7));
    /// server.handle_input(Instant::ZERO, &frame);
    /// server.poll_event_with(|event, sender| match event {
    ///     Event::Binary(data) => sender.send_binary(data),
    ///     _ => Ok(()),
    /// }).unwrap();
    /// let mut slices = [&[][..]; 8];
    /// let n = server.poll_transmit_vectored(&mut slices);
    /// assert_eq!(n, 2);
    /// assert_eq!(slices[0], &[0x82, 0x7e, 0x10, 0x00]);
    /// assert_eq!(slices[1], &[7; 4096][..]);
    /// server.advance_transmit(Instant::ZERO, 4 + 4096);
    /// assert_eq!(server.buffered_output(), 0);
    /// ```
    pub fn poll_transmit_vectored<'a>(&'a mut self, out: &mut [&'a [u8]]) -> usize {
        self.release_held_pong();
        self.outgoing.tx.pieces(self.incoming.rx_bytes(), out)
    }

    /// A held pong is owed only while the peer's close has not arrived (section 5.5.2), and goes out once
    /// the output has room again.
    fn release_held_pong(&mut self) {
        if self.state.can_receive() && !self.is_output_full() {
            self.outgoing.release_held_pong();
        }
    }

    /// `n` bytes from the start of [`poll_transmit`](Self::poll_transmit) were written at `now`. Call it
    /// after every write that took bytes: the write timeout ([`Config::write_timeout`]) runs from the last
    /// one.
    pub fn advance_transmit(&mut self, now: Instant, n: usize) {
        // Output queued by a command since the last call with the time starts its wait here.
        self.timers.advance(now, self.timers_applying());
        if let Some(buf) = self.outgoing.tx.advance(n) {
            self.incoming.reuse_rx(buf);
        }
        self.incoming.pin_rx(self.outgoing.tx.borrowed_end());
        if n > 0 {
            self.timers.on_transmit(self.timers_applying().writing);
        }
    }

    /// Bytes queued for transmission.
    #[must_use]
    pub fn buffered_output(&self) -> usize {
        self.outgoing.tx.len()
    }

    /// Whether the output is at [`Config::max_output_buffer`], so sends fail with
    /// [`SendError::BufferFull`](crate::SendError::BufferFull) until some of it is transmitted. An empty
    /// buffer is never full: it always takes one message.
    #[must_use]
    pub fn is_output_full(&self) -> bool {
        self.outgoing.is_full()
    }

    /// Whether the driver should transmit what is queued and then close the transport: after a failure;
    /// for a server, once the close handshake is done (RFC 6455 section 7.1.1: the server closes first);
    /// for a client, once the server has closed the transport too, or the close timeout passed. (The
    /// `state` module's table says when, state by state.)
    #[must_use]
    pub fn should_close_transport(&self) -> bool {
        self.state.must_close_transport()
    }

    /// Applies a failing input (a protocol error, a timeout). If the connection was still reading and the
    /// table says it failed: queues a close frame for a protocol error (with its code) or a keepalive
    /// timeout (1011), drops the output after a write timeout (it is stuck), stops reading, and keeps the
    /// error for [`poll_event`](Self::poll_event) to return once. (A client's close timeout while it waits
    /// for the transport's end only ends the wait.)
    fn fail(&mut self, input: Input, error: Error) {
        if !self.state.can_receive() {
            self.state.handle(input);
            return;
        }
        let was_open = self.state.phase() == Phase::Open;
        if self.state.handle(input) != Phase::Failed {
            return;
        }
        match error {
            Error::Protocol(_) | Error::KeepaliveTimeout if was_open => {
                let mut body = [0; 2 + KEEPALIVE_REASON.len()];
                body[..2].copy_from_slice(&error.close_code().get().to_be_bytes());
                let len = if error == Error::KeepaliveTimeout {
                    body[2..].copy_from_slice(KEEPALIVE_REASON.as_bytes());
                    body.len()
                } else {
                    2
                };
                self.outgoing.write_control(OpCode::Close, &body[..len]);
            }
            Error::WriteTimeout => {
                let stuck = self.outgoing.tx.len();
                self.outgoing.tx.advance(stuck);
            }
            _ => {}
        }
        self.outgoing.drop_held_pong();
        // The receive buffer is released: payloads queued from it are copied out first.
        self.outgoing.tx.copy_borrowed(self.incoming.rx_bytes());
        self.incoming.pin_rx(0);
        self.incoming.fail(error);
    }
}

/// The reason in the close frame sent when the keepalive gives up.
const KEEPALIVE_REASON: &str = "keepalive timeout";
