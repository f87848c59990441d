//! A buffered WebSocket connection: the sans-IO state machine an adapter drives.

mod buffer;
mod receive;
mod send;
mod state;
mod timer;

use alloc::boxed::Box;
use alloc::vec::Vec;

pub use state::State;

pub use send::Sender;

use self::buffer::RxBuffer;
use self::send::Outgoing;
use self::state::Transition;
use self::timer::{TimerAction, Timers};
use crate::close::CloseCode;
use crate::config::{Config, ReceiveMode};
use crate::decoder::{Decoder, DecoderConfig, Delivery};
use crate::error::Error;
use crate::extension::Extension;
use crate::frame::OpCode;
use crate::mask_keys::MaskKeySource;
use crate::time::Instant;
use crate::utf8::Utf8Validator;
use crate::Role;

/// Something that happened on the connection. Payloads borrow the connection's buffers until the next call.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A whole text message ([`ReceiveMode::Messages`]).
    Text(&'a str),
    /// A whole binary message ([`ReceiveMode::Messages`]).
    Binary(&'a [u8]),
    /// A piece of a message ([`ReceiveMode::Fragments`]).
    Fragment(Fragment<'a>),
    /// A ping. With auto-pong on (the default), the pong is already queued.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close frame ([`CloseCode::NO_STATUS_RECEIVED`] when it had no body; the reply is already
    /// queued), or the end of the transport without one ([`CloseCode::ABNORMAL_CLOSURE`]). Nothing follows.
    Close {
        /// The peer's code, or a local one (1005, 1006) as above.
        code: CloseCode,
        /// The peer's reason.
        reason: &'a str,
    },
}

/// A piece of a data message, as it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// [`OpCode::Text`] or [`OpCode::Binary`]: the message's type.
    pub opcode: OpCode,
    /// The bytes. For text, the message so far is valid UTF-8, but a piece may end inside a character.
    pub data: &'a [u8],
    /// This is the first piece of the message.
    pub first: bool,
    /// This is the last piece of the message.
    pub fin: bool,
}

/// A WebSocket connection after the opening handshake: frames in, events out; commands in, bytes out.
///
/// It does no I/O and reads no clock. A driver (an adapter, or your own loop) calls, in any order but
/// typically in this loop:
///
/// 1. [`poll_transmit`](Self::poll_transmit): bytes to write to the transport; after writing some, report
///    them with [`advance_transmit`](Self::advance_transmit).
/// 2. [`read_buffer`](Self::read_buffer) then [`handle_read`](Self::handle_read) to receive in place (or
///    [`handle_input`](Self::handle_input) with bytes from elsewhere); [`handle_eof`](Self::handle_eof)
///    when the transport ends.
/// 3. [`poll_event`](Self::poll_event) until it returns `Ok(None)`. Each event borrows the connection,
///    so handle it (or copy it) before the next call.
/// 4. [`poll_timeout`](Self::poll_timeout): arm one timer for that instant and call
///    [`handle_timeout`](Self::handle_timeout) when it fires (a deadline already passed means "call now").
/// 5. When [`should_close_transport`](Self::should_close_transport) is true, write what is left and close
///    the transport.
///
/// Commands ([`send_text`](Self::send_text), [`send_binary`](Self::send_binary),
/// [`send_fragment`](Self::send_fragment), [`ping`](Self::ping), [`pong`](Self::pong),
/// [`close`](Self::close)) may come at any time; they only queue bytes.
///
/// ```
/// use wslane::{Config, Connection, Event};
///
/// let mut server = Connection::server(Config::default());
/// // A masked text frame "Hello" from RFC 6455 section 5.7.
/// server.handle_input(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
/// server.send_text("Hello").unwrap();
/// assert_eq!(server.poll_transmit(), &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
/// ```
pub struct Connection {
    role: Role,
    config: Config,
    state: State,
    decoder: Decoder,
    rx: RxBuffer,
    out: Outgoing,
    /// Reassembly of fragmented messages, and an extension's decoded output.
    message: Vec<u8>,
    /// Decoded bytes of the current message, for the size limit in fragment mode.
    decoded_len: usize,
    /// UTF-8 check of text decoded by an extension.
    decoded_utf8: Utf8Validator,
    timers: Timers,
    eof: bool,
    close_expired: bool,
    error: Option<Error>,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("buffered_input", &self.rx.len())
            .field("buffered_output", &self.out.tx.len())
            .field("extension", &self.out.extension.is_some())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The server end of an established connection.
    #[must_use]
    pub fn server(config: Config) -> Connection {
        Connection::new(Role::Server, config, None)
    }

    /// The client end of an established connection; `keys` supplies the masking key of every frame sent
    /// (see [`ChaChaKeys`](crate::mask_keys::ChaChaKeys)).
    #[must_use]
    pub fn client(config: Config, keys: impl MaskKeySource + 'static) -> Connection {
        Connection::new(Role::Client, config, Some(Box::new(keys)))
    }

    fn new(role: Role, config: Config, keys: Option<Box<dyn MaskKeySource>>) -> Connection {
        let delivery = match config.receive_mode {
            ReceiveMode::Messages => Delivery::WholeFrames,
            ReceiveMode::Fragments => Delivery::Streaming,
        };
        Connection {
            role,
            config,
            state: State::Open,
            decoder: Decoder::new(DecoderConfig {
                role,
                max_frame_size: config.max_frame_size as u64,
                max_message_size: config.max_message_size as u64,
                extension_rsv: 0,
                delivery,
            }),
            rx: RxBuffer::default(),
            out: Outgoing::new(keys, config.fragment_size, config.max_output_buffer),
            message: Vec::new(),
            decoded_len: 0,
            decoded_utf8: Utf8Validator::new(),
            timers: Timers::new(config.keepalive, config.close_timeout),
            eof: false,
            close_expired: false,
            error: None,
        }
    }

    /// Installs the extension negotiated in the opening handshake. Call before any frame is handled.
    #[must_use]
    pub fn with_extension(mut self, extension: Box<dyn Extension>) -> Connection {
        self.decoder.set_extension_rsv(extension.rsv_bits());
        self.out.extension = Some(extension);
        self
    }

    /// Which end this is.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the connection is in its lifetime.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// Bytes received and queued, as from a transport read. Call [`poll_event`](Self::poll_event) after.
    pub fn handle_input(&mut self, data: &[u8]) {
        if self.state.can_receive() && !data.is_empty() {
            self.timers.on_receive();
            self.rx.extend(data);
        }
    }

    /// Room for at least `min` received bytes, to read into directly; report how many with
    /// [`handle_read`](Self::handle_read). The room offered is sized to the traffic (small while reads
    /// are small, growing while they fill it), so pass `1` unless you need more.
    pub fn read_buffer(&mut self, min: usize) -> &mut [u8] {
        self.rx.spare(min.max(1))
    }

    /// `n` bytes were written into the start of [`read_buffer`](Self::read_buffer).
    pub fn handle_read(&mut self, n: usize) {
        if n > 0 {
            self.timers.on_receive();
            if self.state.can_receive() {
                self.rx.commit(n);
            }
        }
    }

    /// The transport reached its end: no more bytes will arrive.
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// The time is `now`: fires expired timers (an early call does nothing).
    pub fn handle_timeout(&mut self, now: Instant) {
        let action = self
            .timers
            .handle(now, self.keepalive_applies(), self.closing());
        match action {
            Some(TimerAction::SendPing) => self.out.write_control(OpCode::Ping, &[]),
            Some(TimerAction::KeepaliveExpired) => self.fail(Error::KeepaliveTimeout),
            Some(TimerAction::CloseExpired) => {
                self.close_expired = true;
                if self.state == State::CloseSent {
                    self.fail(Error::CloseTimeout);
                }
            }
            None => {}
        }
    }

    /// The instant at which [`handle_timeout`](Self::handle_timeout) should next be called, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.poll(self.keepalive_applies(), self.closing())
    }

    /// Bytes to transmit, oldest first. Report what was written with
    /// [`advance_transmit`](Self::advance_transmit).
    #[must_use]
    pub fn poll_transmit(&mut self) -> &[u8] {
        // A held pong is owed only while the peer's close has not arrived (section 5.5.2), and goes out
        // once the output has room again.
        if self.state.can_receive() && !self.is_output_full() {
            self.out.release_held_pong();
        }
        self.out.tx.pending()
    }

    /// `n` bytes from the start of [`poll_transmit`](Self::poll_transmit) were written.
    pub fn advance_transmit(&mut self, n: usize) {
        self.out.tx.advance(n);
    }

    /// Bytes queued for transmission.
    #[must_use]
    pub fn buffered_output(&self) -> usize {
        self.out.tx.len()
    }

    /// Whether the output is at [`Config::max_output_buffer`], so sends fail with
    /// [`SendError::BufferFull`](crate::SendError::BufferFull) until some of it is transmitted. An empty
    /// buffer is never full: it always takes one message.
    #[must_use]
    pub fn is_output_full(&self) -> bool {
        self.out.is_full()
    }

    /// Whether the driver should transmit what is queued and then close the transport: after a failure;
    /// for a server, once the close handshake is done (RFC 6455 section 7.1.1: the server closes first);
    /// for a client, once the server has closed the transport too, or the close timeout passed.
    #[must_use]
    pub fn should_close_transport(&self) -> bool {
        match self.state {
            State::Failed => true,
            State::Closed => self.role == Role::Server || self.eof || self.close_expired,
            State::Open | State::CloseSent => false,
        }
    }

    fn keepalive_applies(&self) -> bool {
        self.state == State::Open
    }

    /// Waiting for the peer's close frame, or (a client) for the server to close the transport.
    fn closing(&self) -> bool {
        match self.state {
            State::CloseSent => true,
            State::Closed => self.role == Role::Client && !self.eof && !self.close_expired,
            State::Open | State::Failed => false,
        }
    }

    /// Fails the connection: queues a close frame for a protocol error, stops reading, and keeps the error
    /// for [`poll_event`](Self::poll_event) to return once.
    fn fail(&mut self, error: Error) {
        if !self.state.can_receive() {
            return;
        }
        if let Error::Protocol(err) = error {
            if self.state == State::Open {
                let code = err.close_code().get().to_be_bytes();
                self.out.write_control(OpCode::Close, &code);
            }
        }
        self.state = self.state.next(Transition::Failure);
        self.out.drop_held_pong();
        self.rx.clear();
        self.error = Some(error);
    }
}
