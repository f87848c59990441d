//! A WebSocket connection over two fixed caller buffers, without a heap.
//!
//! The same rules as the buffered [`Connection`](crate::Connection): the same [`Decoder`] checks every
//! frame, the same state table decides the close handshake, the same timers run keepalive, the write
//! timeout and the close timeout, and a protocol violation queues a close frame with its code. The
//! differences come from the fixed buffers:
//!
//! - A data frame that fits in the receive buffer is handed out whole; a single-frame message so as
//!   [`Event::Text`] or [`Event::Binary`]. A message in several frames, or a frame larger than the
//!   buffer, is handed out as [`Event::Fragment`]s as its bytes arrive (text still validated as UTF-8 on
//!   the fly). Nothing is reassembled.
//! - A send that does not fit in the free part of the transmit buffer fails with
//!   [`SendError::BufferFull`] and changes nothing; [`Connection::frame_len`] says how much room a frame
//!   takes. A message larger than the transmit buffer goes out in pieces
//!   ([`Connection::send_fragment`]).
//! - A pong, keepalive ping or close frame the connection owes while the transmit buffer is full is held
//!   (the latest pong only, as RFC 6455 section 5.5.3 allows) and queued once there is room.
//!
//! [`Config`] applies but for `receive_mode`, `fragment_size` and `max_output_buffer`, which the buffers
//! decide.

use core::fmt;

use crate::close::{CloseBody, CloseCode};
use crate::config::Config;
use crate::decoder::{DataChunk, Decoded, Decoder, DecoderConfig, Delivery, Item};
use crate::error::{Error, ProtocolError, SendError};
use crate::frame::{apply_mask, DataKind, FrameHeader, OpCode, Parsed, MAX_CONTROL_PAYLOAD};
use crate::lifecycle::state::{Input, Lifecycle, Phase, State};
use crate::lifecycle::timer::{Applies, TimerAction, Timers};
use crate::mask_keys::MaskKeySource;
use crate::time::Instant;
use crate::unbuffered::handshake::BufferTooSmall;
use crate::Role;

/// The smallest receive buffer: a whole control frame from a client (6-byte header, 125-byte payload).
pub const MIN_RECEIVE_BUFFER: usize = 2 + 4 + MAX_CONTROL_PAYLOAD;
/// The smallest transmit buffer: a whole control frame from a client.
pub const MIN_TRANSMIT_BUFFER: usize = 2 + 4 + MAX_CONTROL_PAYLOAD;

pub use crate::event::{Event, Fragment};

/// The masking keys of a server, which masks nothing: the `K` of a server's [`Connection`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMask;

impl MaskKeySource for NoMask {
    fn next_key(&mut self) -> [u8; 4] {
        [0; 4]
    }
}

/// A region of a caller's buffer holding bytes from `start` to `end`.
struct Region<'b> {
    buf: &'b mut [u8],
    start: usize,
    end: usize,
}

impl<'b> Region<'b> {
    fn new(buf: &'b mut [u8]) -> Region<'b> {
        Region {
            buf,
            start: 0,
            end: 0,
        }
    }

    fn len(&self) -> usize {
        self.end - self.start
    }

    /// Moves the bytes held to the start of the buffer.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// The free room after the bytes held, after compacting them unless `keep` (their positions are
    /// still referred to).
    fn spare(&mut self, keep: bool) -> &mut [u8] {
        if !keep {
            self.compact();
        }
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    fn free(&self) -> usize {
        self.buf.len() - self.len()
    }

    fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    fn commit(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(self.buf.len());
    }
}

/// A decoded item not yet handed out, or the end of the transport without a close.
enum Ready {
    Item(Item),
    Abnormal,
}

/// A close frame's body held for lack of room: a code and a short reason.
type HeldClose = ([u8; 2 + KEEPALIVE_REASON.len()], u8);

/// The reason in the close frame sent when the keepalive gives up (as the buffered connection's).
const KEEPALIVE_REASON: &str = "keepalive timeout";

/// A connection after the opening handshake over a fixed receive buffer and a fixed transmit buffer,
/// with no heap; see the [module docs](self) for how it differs from the buffered
/// [`Connection`](crate::Connection).
///
/// It does no I/O and reads no clock: every input carries the time, `now`. A driver calls, in a loop:
///
/// 1. [`poll_transmit`](Self::poll_transmit): bytes to write; report what was written with
///    [`advance_transmit`](Self::advance_transmit).
/// 2. [`read_buffer`](Self::read_buffer) then [`handle_read`](Self::handle_read) to receive in place (or
///    [`handle_input`](Self::handle_input) to copy bytes in); [`handle_eof`](Self::handle_eof) when the
///    transport ends.
/// 3. [`poll_event`](Self::poll_event) until it returns `Ok(None)` (the receive buffer has room again
///    only once the events in it are taken).
/// 4. [`poll_timeout`](Self::poll_timeout) for the next deadline, and
///    [`handle_timeout`](Self::handle_timeout) when it passes.
/// 5. When [`should_close_transport`](Self::should_close_transport) is true, write what is left and close
///    the transport.
///
/// ```
/// use wslane::unbuffered::connection::{Connection, Event};
/// use wslane::{Config, Instant};
///
/// let (mut rx, mut tx) = ([0; 1024], [0; 1024]);
/// let mut server = Connection::server(Instant::ZERO, Config::default(), &mut rx, &mut tx)?;
/// // A masked text frame "Hello" from RFC 6455 section 5.7.
/// let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// assert_eq!(server.handle_input(Instant::ZERO, &frame), frame.len());
/// assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
/// server.send_text("Hello")?;
/// assert_eq!(server.poll_transmit(), &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Connection<'b, K: MaskKeySource = NoMask> {
    rx: Region<'b>,
    tx: Region<'b>,
    decoder: Decoder,
    /// The next decode starts a frame: choose whole-frame or streaming delivery for it.
    at_frame_start: bool,
    state: Lifecycle,
    timers: Timers,
    auto_pong: bool,
    keys: Option<K>,
    /// The kind of the message being sent in pieces.
    sending: Option<DataKind>,
    held_ping: bool,
    held_pong: Option<([u8; MAX_CONTROL_PAYLOAD], u8)>,
    held_close: Option<HeldClose>,
    /// The transport ended; reported once the bytes received before it are decoded.
    eof: bool,
    /// A failure not yet returned by `poll_event`.
    error: Option<Error>,
    /// An event decoded by `has_event`, not yet handed out.
    pending: Option<Ready>,
}

impl<K: MaskKeySource> fmt::Debug for Connection<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.state.role())
            .field("state", &self.state.phase())
            .field("buffered_input", &self.rx.len())
            .field("buffered_output", &self.tx.len())
            .finish_non_exhaustive()
    }
}

impl<'b> Connection<'b, NoMask> {
    /// The server end of a connection established at `now`, receiving into `rx` and transmitting from
    /// `tx`. Fails when a buffer is below [`MIN_RECEIVE_BUFFER`] or [`MIN_TRANSMIT_BUFFER`] (the caller's
    /// fault), with the size needed.
    pub fn server(
        now: Instant,
        config: Config,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Connection<'b, NoMask>, BufferTooSmall> {
        Connection::new(now, Role::Server, config, None, rx, tx)
    }
}

impl<'b, K: MaskKeySource> Connection<'b, K> {
    /// The client end of a connection established at `now`: `keys` supplies the masking key of every
    /// frame sent (see [`ChaChaKeys`](crate::mask_keys::ChaChaKeys)). Fails as
    /// [`server`](Connection::server) does.
    pub fn client(
        now: Instant,
        config: Config,
        keys: K,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Connection<'b, K>, BufferTooSmall> {
        Connection::new(now, Role::Client, config, Some(keys), rx, tx)
    }

    fn new(
        now: Instant,
        role: Role,
        config: Config,
        keys: Option<K>,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Connection<'b, K>, BufferTooSmall> {
        if rx.len() < MIN_RECEIVE_BUFFER {
            return Err(BufferTooSmall {
                needed: MIN_RECEIVE_BUFFER,
            });
        }
        if tx.len() < MIN_TRANSMIT_BUFFER {
            return Err(BufferTooSmall {
                needed: MIN_TRANSMIT_BUFFER,
            });
        }
        Ok(Connection {
            rx: Region::new(rx),
            tx: Region::new(tx),
            decoder: Decoder::new(DecoderConfig {
                role,
                max_frame_size: config.max_frame_size as u64,
                max_message_size: config.max_message_size as u64,
                extension_rsv: 0,
                delivery: Delivery::Streaming,
            }),
            at_frame_start: true,
            state: Lifecycle::new(role),
            timers: Timers::new(
                now,
                config.ping_interval,
                config.pong_timeout,
                config.write_timeout,
                config.close_timeout,
            ),
            auto_pong: config.auto_pong,
            keys,
            sending: None,
            held_ping: false,
            held_pong: None,
            held_close: None,
            eof: false,
            error: None,
            pending: None,
        })
    }

    /// The hand-off from the opening handshake: the bytes that followed the head (the peer's first
    /// frames) are already in the receive buffer at `range`, received at `now`; they are moved to its
    /// start and taken as received. Call before anything else.
    #[must_use]
    pub fn with_received(mut self, now: Instant, range: core::ops::Range<usize>) -> Self {
        let end = range.end.min(self.rx.buf.len());
        let start = range.start.min(end);
        self.rx.buf.copy_within(start..end, 0);
        self.rx.start = 0;
        self.rx.end = 0;
        self.handle_read(now, end - start);
        self
    }

    /// Which end this is.
    #[must_use]
    pub fn role(&self) -> Role {
        self.state.role()
    }

    /// Where the connection is in its lifetime.
    #[must_use]
    pub fn state(&self) -> State {
        self.state.public()
    }

    // -----------------------------------------------------------------------------------------------------
    // Input.

    /// The free part of the receive buffer, to read into; report how many bytes with
    /// [`handle_read`](Self::handle_read). Empty while the buffer is full of bytes whose events were not
    /// yet taken with [`poll_event`](Self::poll_event).
    pub fn read_buffer(&mut self) -> &mut [u8] {
        if !self.state.can_receive() {
            // Nothing more is decoded: whatever is read now is dropped (a client reads on to see the
            // server end the transport).
            self.rx.consume(self.rx.len());
        }
        self.rx.spare(self.pending.is_some())
    }

    /// `n` bytes were written into the start of [`read_buffer`](Self::read_buffer), received at `now`.
    pub fn handle_read(&mut self, now: Instant, n: usize) {
        self.timers.advance(now, self.timers_applying());
        if n > 0 {
            self.timers.on_receive();
            if self.state.can_receive() {
                self.rx.commit(n);
            }
        }
    }

    /// Copies received bytes in, as many as the receive buffer has room for, and returns how many it
    /// took; the caller presents the rest again after taking events with [`poll_event`](Self::poll_event).
    /// After the connection stopped reading, every byte is taken and dropped.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) -> usize {
        if !self.state.can_receive() {
            self.timers.advance(now, self.timers_applying());
            return data.len();
        }
        let spare = self.rx.spare(self.pending.is_some());
        let n = spare.len().min(data.len());
        spare[..n].copy_from_slice(&data[..n]);
        self.handle_read(now, n);
        n
    }

    /// The transport reached its end at `now`: no more bytes will arrive. While frames are still read,
    /// the end is reported by [`poll_event`](Self::poll_event) after the bytes received before it.
    pub fn handle_eof(&mut self, now: Instant) {
        self.timers.advance(now, self.timers_applying());
        if self.state.can_receive() {
            self.eof = true;
        } else {
            self.state.handle(Input::Eof);
        }
    }

    /// The next event, `Ok(None)` when more input is needed (or the connection is over).
    ///
    /// A protocol violation returns `Err` once: a close frame with the error's code is queued, nothing
    /// more is read, and [`should_close_transport`](Self::should_close_transport) turns true. A timeout
    /// (see [`handle_timeout`](Self::handle_timeout)) is returned the same way.
    pub fn poll_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        let ready = match self.pending.take() {
            Some(ready) => ready,
            None => match self.prepare()? {
                Some(ready) => ready,
                None => return Ok(None),
            },
        };
        Ok(Some(self.view(ready)))
    }

    /// Whether [`poll_event`](Self::poll_event) has something to return now (an event or an error),
    /// decoding ahead if needed. A driver that returns the event from a loop asks this first, then calls
    /// `poll_event` once. Until then the receive buffer is not compacted.
    pub fn has_event(&mut self) -> bool {
        if self.pending.is_some() || self.error.is_some() {
            return true;
        }
        match self.prepare() {
            Ok(Some(ready)) => {
                self.pending = Some(ready);
                true
            }
            Ok(None) => false,
            Err(error) => {
                self.error = Some(error);
                true
            }
        }
    }

    /// Decodes the next item and applies what it asks (auto-pong, the close reply), without borrowing
    /// its payload yet.
    fn prepare(&mut self) -> Result<Option<Ready>, Error> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        if !self.state.can_receive() {
            return Ok(None);
        }
        self.rx.compact();
        let item = match self.decode() {
            Ok(item) => item,
            Err(err) => return Err(self.failed(err)),
        };
        let Some(item) = item else {
            if !self.eof {
                return Ok(None);
            }
            // The transport ended without a close handshake.
            self.state.handle(Input::Eof);
            return Ok(Some(Ready::Abnormal));
        };
        if let Item::Ping(range) = &item {
            if self.auto_pong && self.state.can_receive() {
                let mut payload = [0; MAX_CONTROL_PAYLOAD];
                let body = self.rx.buf.get(range.clone()).unwrap_or_default();
                let len = body.len().min(MAX_CONTROL_PAYLOAD);
                payload[..len].copy_from_slice(&body[..len]);
                self.answer_ping(&payload[..len]);
            }
        }
        if let Item::Close(body) = &item {
            self.on_close(body.as_ref().map(|(code, _)| *code));
        }
        if let Item::Data(chunk) = &item {
            let whole = chunk.first && chunk.message_end && chunk.frame_end;
            let text = self.rx.buf.get(chunk.payload.clone()).unwrap_or_default();
            if chunk.kind == DataKind::Text && whole && core::str::from_utf8(text).is_err() {
                // The decoder validated the whole message as UTF-8; this cannot happen.
                return Err(self.failed(ProtocolError::InvalidUtf8));
            }
        }
        Ok(Some(Ready::Item(item)))
    }

    /// The event `ready` describes, its payload borrowed from the receive buffer.
    fn view(&self, ready: Ready) -> Event<'_> {
        let item = match ready {
            Ready::Item(item) => item,
            Ready::Abnormal => {
                return Event::Close {
                    code: CloseCode::ABNORMAL_CLOSURE,
                    reason: "",
                }
            }
        };
        let rx = &self.rx.buf[..];
        let view = |range: core::ops::Range<usize>| rx.get(range).unwrap_or_default();
        match item {
            Item::Ping(range) => Event::Ping(view(range)),
            Item::Pong(range) => Event::Pong(view(range)),
            Item::Close(Some((code, reason))) => Event::Close {
                code,
                // The decoder validated the reason as UTF-8.
                reason: core::str::from_utf8(view(reason)).unwrap_or_default(),
            },
            Item::Close(None) => Event::Close {
                code: CloseCode::NO_STATUS_RECEIVED,
                reason: "",
            },
            Item::Data(DataChunk {
                kind,
                payload,
                first,
                message_end,
                frame_end,
                ..
            }) => {
                let data = view(payload);
                match (kind, first && message_end && frame_end) {
                    // Checked in `prepare`.
                    (DataKind::Text, true) => Event::Text(core::str::from_utf8(data).unwrap_or("")),
                    (DataKind::Binary, true) => Event::Binary(data),
                    (kind, false) => Event::Fragment(Fragment {
                        kind,
                        data,
                        first,
                        fin: message_end,
                    }),
                }
            }
        }
    }

    /// Runs the decoder over the received bytes: an item (its ranges are positions in the receive
    /// buffer, which starts at the bytes decoded), or `None` when more bytes are needed.
    fn decode(&mut self) -> Result<Option<Item>, ProtocolError> {
        let capacity = self.rx.buf.len() as u64;
        let received = self.rx.buf.get_mut(..self.rx.end).unwrap_or_default();
        if self.at_frame_start {
            // A frame that fits in the buffer is handed out whole; a larger one as it arrives.
            if let Parsed::Complete { header, len } = FrameHeader::parse(received)? {
                let fits = (len as u64).saturating_add(header.payload_len) <= capacity;
                let delivery = if fits {
                    Delivery::WholeFrames
                } else {
                    Delivery::Streaming
                };
                self.decoder.set_delivery(delivery);
                self.at_frame_start = false;
            }
        }
        match self.decoder.decode(received)? {
            Decoded::NeedMore { .. } => Ok(None),
            Decoded::Item { consumed, item } => {
                self.at_frame_start = match &item {
                    Item::Data(chunk) => chunk.frame_end,
                    _ => true,
                };
                // The item's payload stays readable until the next call, which compacts.
                self.rx.start = consumed.min(self.rx.end);
                Ok(Some(item))
            }
        }
    }

    /// The peer's close: answer it with the same code (unless we already sent ours) and stop reading.
    fn on_close(&mut self, code: Option<CloseCode>) {
        if self.state.can_send() {
            let mut body = [0; 2 + KEEPALIVE_REASON.len()];
            let len = match code {
                Some(code) => {
                    body[..2].copy_from_slice(&code.get().to_be_bytes());
                    2
                }
                None => 0,
            };
            self.queue_close(body, len);
        }
        self.state.handle(Input::PeerClose);
        if self.state.close_timer_applies() {
            // A client waits for the server to end the transport, from the instant the close arrived.
            self.timers.start_close();
        }
        if self.eof {
            // The transport already ended behind the close frame.
            self.state.handle(Input::Eof);
        }
    }

    /// Fails the connection for the peer's violation; returns the error to report.
    fn failed(&mut self, err: ProtocolError) -> Error {
        self.fail(Input::Failure, Error::Protocol(err));
        self.error.take().unwrap_or(Error::Protocol(err))
    }

    /// Applies a failing input, as the buffered connection does: queues a close frame for a protocol
    /// error (its code) or a keepalive timeout (1011), drops the output after a write timeout, stops
    /// reading, and keeps the error for `poll_event` to return once.
    fn fail(&mut self, input: Input, error: Error) {
        if !self.state.can_receive() {
            self.state.handle(input);
            return;
        }
        let was_open = self.state.phase() == Phase::Open;
        if self.state.handle(input) != Phase::Failed {
            return;
        }
        self.held_pong = None;
        self.held_ping = false;
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
                self.queue_close(body, len);
            }
            Error::WriteTimeout => {
                self.tx.consume(self.tx.len());
                self.held_close = None;
            }
            _ => {}
        }
        self.rx.consume(self.rx.len());
        self.pending = None;
        self.error = Some(error);
    }

    // -----------------------------------------------------------------------------------------------------
    // Time.

    /// The time is `now`: fires expired timers (an early call does nothing), as the buffered
    /// [`Connection::handle_timeout`](crate::Connection::handle_timeout): keepalive pings and their
    /// timeout, the write timeout and the close timeout. A failure is returned once by
    /// [`poll_event`](Self::poll_event).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.timers.handle(now, self.timers_applying()) {
            Some(TimerAction::SendPing) => self.held_ping = !self.write_control(OpCode::Ping, &[]),
            Some(expired) => {
                if let Some((input, error)) = expired.failure() {
                    self.fail(input, error);
                }
            }
            None => {}
        }
        self.timers.advance(now, self.timers_applying());
    }

    /// The instant at which [`handle_timeout`](Self::handle_timeout) should next be called, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.poll(self.timers_applying())
    }

    fn timers_applying(&self) -> Applies {
        Applies::now(&self.state, self.buffered_output() > 0)
    }

    // -----------------------------------------------------------------------------------------------------
    // Output.

    /// Bytes to transmit, oldest first. Report what was written with
    /// [`advance_transmit`](Self::advance_transmit).
    pub fn poll_transmit(&mut self) -> &[u8] {
        self.release_held();
        self.tx
            .buf
            .get(self.tx.start..self.tx.end)
            .unwrap_or_default()
    }

    /// `n` bytes from the start of [`poll_transmit`](Self::poll_transmit) were written at `now`.
    pub fn advance_transmit(&mut self, now: Instant, n: usize) {
        self.timers.advance(now, self.timers_applying());
        self.tx.consume(n);
        if n > 0 {
            self.timers.on_transmit(self.timers_applying().writing);
        }
        self.release_held();
    }

    /// Bytes queued for transmission, including control frames held for lack of room.
    #[must_use]
    pub fn buffered_output(&self) -> usize {
        let held = usize::from(self.held_ping)
            + usize::from(self.held_pong.is_some())
            + usize::from(self.held_close.is_some());
        self.tx.len() + held
    }

    /// The free room in the transmit buffer.
    #[must_use]
    pub fn available_output(&self) -> usize {
        self.tx.free()
    }

    /// The room a frame with `payload_len` bytes of payload takes in the transmit buffer (a client's
    /// frames carry a 4-byte masking key).
    #[must_use]
    pub fn frame_len(&self, payload_len: usize) -> usize {
        let header = FrameHeader {
            mask: self.keys.as_ref().map(|_| [0; 4]),
            ..FrameHeader::new(OpCode::Binary, payload_len as u64)
        };
        header.encoded_len().saturating_add(payload_len)
    }

    /// Whether the driver should transmit what is queued and then close the transport: after a
    /// failure; for a server, once the close handshake is done; for a client, once the server has closed
    /// the transport too, or the close timeout passed.
    #[must_use]
    pub fn should_close_transport(&self) -> bool {
        self.state.must_close_transport()
    }

    /// Writes a frame if it fits; `false` (nothing written) otherwise.
    fn write_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) -> bool {
        let mask = self.keys.as_mut().map(MaskKeySource::next_key);
        let header = FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let bytes = header.to_bytes();
        let total = bytes.len().saturating_add(payload.len());
        if total > self.tx.free() {
            return false;
        }
        let spare = self.tx.spare(false);
        let (head, rest) = spare.split_at_mut(bytes.len());
        head.copy_from_slice(&bytes);
        let body = &mut rest[..payload.len()];
        body.copy_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(body, key, 0);
        }
        self.tx.commit(total);
        true
    }

    fn write_control(&mut self, opcode: OpCode, payload: &[u8]) -> bool {
        self.write_frame(opcode, true, payload)
    }

    /// Answers a ping at once when there is room, else holds the latest pong.
    fn answer_ping(&mut self, payload: &[u8]) {
        if self.held_pong.is_some() || !self.write_control(OpCode::Pong, payload) {
            let mut held = [0; MAX_CONTROL_PAYLOAD];
            let len = payload.len().min(MAX_CONTROL_PAYLOAD);
            held[..len].copy_from_slice(&payload[..len]);
            self.held_pong = Some((held, len as u8));
        }
    }

    /// Queues a close frame the connection owes (a reply, a failure), holding it if there is no room
    /// yet, behind any held ping or pong.
    fn queue_close(&mut self, body: [u8; 2 + KEEPALIVE_REASON.len()], len: usize) {
        self.held_close = Some((body, len as u8));
        self.release_held();
    }

    /// Writes held control frames, in order, while they fit.
    fn release_held(&mut self) {
        // A pong is owed only until the peer's close has arrived (RFC 6455 section 5.5.2).
        if !self.state.can_receive() {
            self.held_pong = None;
            self.held_ping = false;
        }
        if self.held_ping {
            if !self.write_control(OpCode::Ping, &[]) {
                return;
            }
            self.held_ping = false;
        }
        if let Some((payload, len)) = self.held_pong {
            if !self.write_control(OpCode::Pong, &payload[..usize::from(len)]) {
                return;
            }
            self.held_pong = None;
        }
        if let Some((body, len)) = self.held_close {
            if self.write_control(OpCode::Close, &body[..usize::from(len)]) {
                self.held_close = None;
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Commands.

    /// Queues a text message in one frame.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_message(DataKind::Text, text.as_bytes())
    }

    /// Queues a binary message in one frame.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_message(DataKind::Binary, data)
    }

    fn send_message(&mut self, kind: DataKind, data: &[u8]) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        if self.sending.is_some() {
            return Err(SendError::MessageInProgress);
        }
        self.release_held();
        if !self.write_frame(kind.opcode(), true, data) {
            return Err(SendError::BufferFull);
        }
        Ok(())
    }

    /// Queues one piece of a message sent in pieces, as the buffered
    /// [`Sender::send_fragment`](crate::Sender::send_fragment): the first call starts a message of type
    /// `kind`, later calls with the same kind continue it (another kind fails with
    /// [`SendError::MessageInProgress`]), and `fin` ends it. Text must be valid UTF-8 once whole.
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        let opcode = match self.sending {
            Some(current) if current != kind => return Err(SendError::MessageInProgress),
            Some(_) => OpCode::Continuation,
            None => kind.opcode(),
        };
        self.release_held();
        if !self.write_frame(opcode, fin, data) {
            return Err(SendError::BufferFull);
        }
        self.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    /// Queues a ping (payload at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues a pong (payload at most 125 bytes).
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong);
        }
        self.release_held();
        if !self.write_control(opcode, payload) {
            return Err(SendError::BufferFull);
        }
        Ok(())
    }

    /// Starts the close handshake: queues a close frame with `code` and `reason` (at most 123 bytes).
    /// Afterwards nothing more can be sent; received data is still delivered until the peer's close.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        let body = CloseBody::new(code, reason)?;
        // A ping or pong held back for lack of room goes first: the close stays the last frame sent.
        self.release_held();
        if self.held_ping || self.held_pong.is_some() {
            return Err(SendError::BufferFull);
        }
        if !self.write_control(OpCode::Close, body.as_bytes()) {
            return Err(SendError::BufferFull);
        }
        self.state.handle(Input::SendClose);
        Ok(())
    }
}
