//! Commands: messages, control frames and the close, encoded into the transmit buffer.
//!
//! The sending half of a connection lives in [`Outgoing`], apart from the receive buffers, so that a
//! [`Sender`] can queue a reply while an [`Event`](super::Event) still borrows the received payload: an echo
//! or a relay copies each payload once, straight into the output, or (a server sending a large payload on
//! unchanged) not at all: the output then points into the receive buffer (see `transmit`).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use core::ops::Range;

use super::buffer::release_if_small;
use super::state::{Input, Lifecycle, State};
use super::transmit::{TxBuffer, MIN_BORROWED, MIN_BORROWED_RX};
use super::Connection;
use crate::close::{CloseBody, CloseCode};
use crate::error::SendError;
use crate::extension::Extension;
use crate::frame::{apply_mask, DataKind, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD};
use crate::mask_keys::MaskKeySource;
use crate::message::Message;
use crate::prepared::{Frame, PreparedMessage};

/// What the sending half owns: the transmit buffer and everything that encodes into it.
pub(crate) struct Outgoing {
    pub(super) tx: TxBuffer,
    /// Scratch space for an extension's encoded output.
    encoded: Vec<u8>,
    /// The type of a fragmented message being sent.
    sending: Option<DataKind>,
    /// A pong held back while the output buffer is full; only the latest ping is answered then.
    held_pong: Option<([u8; MAX_CONTROL_PAYLOAD], u8)>,
    keys: Option<Box<dyn MaskKeySource>>,
    /// The negotiated extension. Receiving borrows it too, to decode, but never while a `Sender` exists.
    pub(super) extension: Option<Box<dyn Extension>>,
    fragment_size: Option<usize>,
    max_output_buffer: usize,
}

impl Outgoing {
    pub(super) fn new(
        keys: Option<Box<dyn MaskKeySource>>,
        fragment_size: Option<usize>,
        max_output_buffer: usize,
    ) -> Outgoing {
        Outgoing {
            tx: TxBuffer::default(),
            encoded: Vec::new(),
            sending: None,
            held_pong: None,
            keys,
            extension: None,
            fragment_size,
            max_output_buffer,
        }
    }

    /// Whether the output is at its limit. An empty buffer is never full: it always takes one message.
    pub(super) fn is_full(&self) -> bool {
        self.tx.len() > 0 && self.tx.len() >= self.max_output_buffer
    }

    /// Writes a control frame (payload already checked to fit).
    pub(super) fn write_control(&mut self, opcode: OpCode, payload: &[u8]) {
        let header = self.header(opcode, true, 0, payload.len() as u64);
        self.tx.push_frame(&header, payload);
    }

    /// Answers a ping: at once while the output has room, otherwise by holding only the latest pong
    /// (RFC 6455 section 5.5.3 allows answering just the most recent ping), so a peer that pings without
    /// reading cannot grow the output without bound. The caller checks that a ping is still owed (RFC 6455
    /// section 5.5.2: until the peer's close arrives, so also after ours).
    pub(super) fn answer_ping(&mut self, payload: &[u8]) {
        if !self.is_full() {
            self.write_control(OpCode::Pong, payload);
        } else {
            let mut held = [0; MAX_CONTROL_PAYLOAD];
            let len = payload.len().min(MAX_CONTROL_PAYLOAD);
            held[..len].copy_from_slice(&payload[..len]);
            self.held_pong = Some((held, len as u8));
        }
    }

    /// Writes the held pong, if any.
    pub(super) fn release_held_pong(&mut self) {
        if let Some((payload, len)) = self.held_pong.take() {
            self.write_control(OpCode::Pong, &payload[..usize::from(len)]);
        }
    }

    /// Forgets the held pong: the connection failed and owes nothing more.
    pub(super) fn drop_held_pong(&mut self) {
        self.held_pong = None;
    }

    /// Writes a whole message as one or more frames of at most `fragment_size` payload bytes. A large
    /// payload that lies in the receive buffer, sent by a server in one frame, is queued where it is.
    fn write_data(&mut self, kind: DataKind, rsv: u8, payload: &[u8], received: Received) {
        let size = self.fragment_size.unwrap_or(usize::MAX).max(1);
        if self.keys.is_none() && payload.len() >= MIN_BORROWED_RX && payload.len() <= size {
            if let Some(range) = received.range_of(payload) {
                let header = self.header(kind.opcode(), true, rsv, payload.len() as u64);
                self.tx.push_borrowed(&header, range);
                return;
            }
        }
        let mut chunks = payload.chunks(size);
        let mut frame_opcode = kind.opcode();
        let mut frame_rsv = rsv;
        let mut next = chunks.next();
        loop {
            let chunk = next.unwrap_or(&[]);
            next = chunks.next();
            let header = self.header(frame_opcode, next.is_none(), frame_rsv, chunk.len() as u64);
            self.tx.push_frame(&header, chunk);
            if next.is_none() {
                return;
            }
            frame_opcode = OpCode::Continuation;
            frame_rsv = 0;
        }
    }

    /// Writes an owned data message: a payload of [`MIN_BORROWED`] or more that goes out as one frame, on a
    /// connection without an extension, is queued in its own allocation (masked there by a client) instead
    /// of copied.
    fn write_owned(&mut self, kind: DataKind, mut payload: Vec<u8>) -> Result<(), SendError> {
        let size = self.fragment_size.unwrap_or(usize::MAX);
        if self.extension.is_some() || payload.len() < MIN_BORROWED || payload.len() > size {
            return self.write_message(kind, &payload, Received::NONE);
        }
        let header = self.header(kind.opcode(), true, 0, payload.len() as u64);
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        self.tx.push_owned(&header, payload);
        Ok(())
    }

    /// Encodes a message through the extension, if any, and writes it.
    fn write_message(
        &mut self,
        kind: DataKind,
        data: &[u8],
        received: Received,
    ) -> Result<(), SendError> {
        let Some(extension) = self.extension.as_mut() else {
            self.write_data(kind, 0, data, received);
            return Ok(());
        };
        let mut encoded = core::mem::take(&mut self.encoded);
        encoded.clear();
        let result = extension.encode(kind.opcode(), data, &mut encoded);
        match result {
            Ok(Some(rsv)) => self.write_data(kind, rsv, &encoded, Received::NONE),
            Ok(None) => self.write_data(kind, 0, data, received),
            Err(_) => {}
        }
        // Kept for the next message while messages stay large; released after a small one.
        release_if_small(&mut encoded);
        self.encoded = encoded;
        result.map(|_| ())
    }

    /// Writes a prepared message: its shared frame (or the shared encoding of a stateless extension) as it
    /// is, for a server; a masked copy for a client; encoded here when the extension keeps state.
    fn write_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        let kind = message.kind();
        let Some(extension) = self.extension.as_mut() else {
            self.write_frame(kind, message.plain());
            return Ok(());
        };
        #[cfg(feature = "std")]
        if let Some(key) = extension.shared_encoding() {
            let frame = match message.encoded(key) {
                Some(frame) => frame,
                None => {
                    let mut encoded = core::mem::take(&mut self.encoded);
                    encoded.clear();
                    let result = extension.encode(kind.opcode(), message.payload(), &mut encoded);
                    let frame = match result {
                        Ok(Some(rsv)) => Some(Frame::new(kind, rsv, &encoded)),
                        Ok(None) => Some(message.plain().clone()),
                        Err(_) => None,
                    };
                    release_if_small(&mut encoded);
                    self.encoded = encoded;
                    let frame = frame.ok_or(SendError::Extension)?;
                    message.keep_encoded(key, frame)
                }
            };
            self.write_frame(kind, &frame);
            return Ok(());
        }
        let _ = extension;
        self.write_message(kind, message.payload(), Received::NONE)
    }

    /// Writes a whole frame built for a server: shared, copied when small, masked in a copy by a client.
    fn write_frame(&mut self, kind: DataKind, frame: &Frame) {
        if self.keys.is_some() {
            self.write_data(kind, frame.rsv(), frame.payload(), Received::NONE);
        } else if frame.bytes.len() < MIN_BORROWED {
            self.tx.push_bytes(&frame.bytes);
        } else {
            self.tx.push_shared(Arc::clone(&frame.bytes));
        }
    }

    /// A frame header for this role: clients mask with a fresh key.
    pub(super) fn header(&mut self, opcode: OpCode, fin: bool, rsv: u8, len: u64) -> FrameHeader {
        FrameHeader {
            fin,
            rsv,
            opcode,
            mask: self.keys.as_mut().map(|keys| keys.next_key()),
            payload_len: len,
        }
    }
}

/// The sending half of a [`Connection`]: queues messages, control frames and the close.
///
/// [`Connection::sender`] gives one; [`Connection::poll_event_with`] gives one next to a received event, so
/// a reply can be built from the event's borrowed payload:
///
/// ```
/// use wslane::{Config, Connection, Event, Instant};
///
/// let mut server = Connection::server(Instant::ZERO, Config::default());
/// server.handle_input(Instant::ZERO, &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// let echoed = server.poll_event_with(|event, sender| match event {
///     Event::Text(text) => sender.send_text(text),
///     _ => Ok(()),
/// });
/// assert_eq!(echoed, Ok(Some(Ok(()))));
/// assert_eq!(server.poll_transmit(), b"\x81\x05Hello");
/// ```
pub struct Sender<'a> {
    pub(super) out: &'a mut Outgoing,
    pub(super) state: &'a mut Lifecycle,
    /// Where the receive buffer is, when an event borrows it beside this sender.
    pub(super) received: Received,
}

/// The address range of the receive buffer while an event borrows it, so a payload sent on from it can be
/// recognised and queued as a range of it instead of copied. Addresses only: nothing is read through them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Received {
    addr: usize,
    len: usize,
}

impl Received {
    /// No receive buffer: every payload is copied.
    pub(super) const NONE: Received = Received { addr: 0, len: 0 };

    pub(super) fn of(rx: &[u8]) -> Received {
        Received {
            addr: rx.as_ptr() as usize,
            len: rx.len(),
        }
    }

    /// The range of the receive buffer `payload` occupies, if it lies inside it.
    fn range_of(self, payload: &[u8]) -> Option<Range<usize>> {
        let start = (payload.as_ptr() as usize).checked_sub(self.addr)?;
        let end = start.checked_add(payload.len())?;
        (end <= self.len).then_some(start..end)
    }
}

impl core::fmt::Debug for Sender<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("state", &self.state.public())
            .field("buffered_output", &self.out.tx.len())
            .finish_non_exhaustive()
    }
}

impl Sender<'_> {
    /// A shorter-lived sender for the same connection, to hand on (a `&mut Sender<'a>` cannot be shortened
    /// to `&mut Sender<'b>`).
    pub fn reborrow(&mut self) -> Sender<'_> {
        Sender {
            out: &mut *self.out,
            state: &mut *self.state,
            received: self.received,
        }
    }

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.check_data_send()?;
        self.out
            .write_message(DataKind::Text, text.as_bytes(), self.received)
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.check_data_send()?;
        self.out
            .write_message(DataKind::Binary, data, self.received)
    }

    /// Queues a message without passing it through the negotiated extension (for example, to send
    /// already-compressed data uncompressed).
    ///
    /// Text must be valid UTF-8; that is the caller's promise (use [`send_text`](Self::send_text) to have
    /// the type system keep it).
    pub fn send_raw(&mut self, kind: DataKind, data: &[u8]) -> Result<(), SendError> {
        self.check_data_send()?;
        self.out.write_data(kind, 0, data, self.received);
        Ok(())
    }

    /// Queues a [`PreparedMessage`]: on a server, a reference to its shared frame, written from there by
    /// [`Connection::poll_transmit_vectored`] (no copy, no allocation); on a client, a masked copy. With an
    /// extension that encodes every message alike (permessage-deflate with `server_no_context_takeover`),
    /// the encoding is made once and shared with every connection of the same settings; otherwise this
    /// connection encodes the message itself. See [`prepared`](crate::prepared).
    ///
    /// Fails as [`send_binary`](Self::send_binary) does: [`SendError::Closed`],
    /// [`SendError::MessageInProgress`], [`SendError::BufferFull`] (nothing queued; the caller's misuse or
    /// a slow peer, never a fault of the message) or [`SendError::Extension`].
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_data_send()?;
        self.out.write_prepared(message)
    }

    /// Queues one piece of a message sent in pieces: the first call starts a message of type `kind`,
    /// later calls with the same kind continue it (another kind fails with
    /// [`SendError::MessageInProgress`]), and `fin` ends it. Other messages cannot be sent in between;
    /// control frames can. Pieces bypass the extension.
    ///
    /// ```
    /// use wslane::{Config, Connection, DataKind, Instant};
    ///
    /// let mut server = Connection::server(Instant::ZERO, Config::default());
    /// let mut sender = server.sender();
    /// sender.send_fragment(DataKind::Text, b"Hel", false).unwrap();
    /// sender.send_fragment(DataKind::Text, b"lo", true).unwrap();
    /// assert_eq!(server.poll_transmit(), b"\x01\x03Hel\x80\x02lo");
    /// ```
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        let frame_opcode = match self.out.sending {
            Some(current) if current != kind => return Err(SendError::MessageInProgress),
            Some(_) => OpCode::Continuation,
            None => kind.opcode(),
        };
        self.check_room()?;
        let header = self.out.header(frame_opcode, fin, 0, data.len() as u64);
        self.out.tx.push_frame(&header, data);
        self.out.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    /// Queues an owned message: data through [`send_text`](Self::send_text) or
    /// [`send_binary`](Self::send_binary), controls through [`ping`](Self::ping), [`pong`](Self::pong) and
    /// [`close`](Self::close). `Message::Close(None)` closes with [`CloseCode::NORMAL`] and no reason.
    pub fn send(&mut self, message: &Message) -> Result<(), SendError> {
        match message {
            Message::Text(text) => self.send_text(text),
            Message::Binary(data) => self.send_binary(data),
            Message::Ping(data) => self.ping(data),
            Message::Pong(data) => self.pong(data),
            Message::Close(None) => self.close(CloseCode::NORMAL, ""),
            Message::Close(Some(frame)) => self.close(frame.code, &frame.reason),
        }
    }

    /// Queues an owned message, as [`send`](Self::send) does, taking it: a text or binary payload of 2 KiB
    /// or more that goes out as one frame (no extension negotiated, no
    /// [`fragment_size`](crate::Config::fragment_size) splitting it) is not copied into the output. The
    /// queue keeps the payload's allocation (its whole capacity), masked in place on a client, writes it
    /// from there with [`Connection::poll_transmit_vectored`], and frees it once it is transmitted. Smaller
    /// payloads are copied, as a separate piece would cost a vectored write more than the copy, and so is
    /// everything on a connection with an extension, which encodes the message into output of its own.
    ///
    /// Fails as [`send`](Self::send) does, with the message dropped; [`SendError::BufferFull`] is checked
    /// first, so a caller that wants the message back when the output is full checks
    /// [`is_output_full`](Self::is_output_full) before.
    ///
    /// ```
    /// use wslane::{Config, Connection, Instant, Message};
    ///
    /// let mut server = Connection::server(Instant::ZERO, Config::default());
    /// server.send_owned(Message::Binary(vec![7; 4096])).unwrap();
    /// let mut pieces = [&[][..]; 4];
    /// let n = server.poll_transmit_vectored(&mut pieces);
    /// // The header, then the payload from its own allocation.
    /// assert_eq!(n, 2);
    /// assert_eq!(pieces[0], &[0x82, 0x7e, 0x10, 0x00]);
    /// assert_eq!(pieces[1], &[7; 4096][..]);
    /// ```
    pub fn send_owned(&mut self, message: Message) -> Result<(), SendError> {
        match message {
            Message::Text(text) => {
                self.check_data_send()?;
                self.out.write_owned(DataKind::Text, text.into_bytes())
            }
            Message::Binary(data) => {
                self.check_data_send()?;
                self.out.write_owned(DataKind::Binary, data)
            }
            other => self.send(&other),
        }
    }

    /// Queues a ping (payload at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues a pong (payload at most 125 bytes); unsolicited pongs serve as a one-way heartbeat.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Starts the close handshake: queues a close frame with `code` and `reason` (at most 123 bytes).
    /// Afterwards nothing more can be sent; received data is still delivered until the peer's close.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        let body = CloseBody::new(code, reason)?;
        // A pong held back for lack of room goes first: the close stays the last frame we send.
        self.out.release_held_pong();
        self.out.write_control(OpCode::Close, body.as_bytes());
        self.state.handle(Input::SendClose);
        Ok(())
    }

    /// Where the connection is in its lifetime.
    #[must_use]
    pub fn state(&self) -> State {
        self.state.public()
    }

    /// Bytes queued for transmission.
    #[must_use]
    pub fn buffered_output(&self) -> usize {
        self.out.tx.len()
    }

    /// Whether the output is at [`Config::max_output_buffer`](crate::Config::max_output_buffer), so sends
    /// fail with [`SendError::BufferFull`] until some of it is transmitted.
    #[must_use]
    pub fn is_output_full(&self) -> bool {
        self.out.is_full()
    }

    fn check_data_send(&self) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        if self.out.sending.is_some() {
            return Err(SendError::MessageInProgress);
        }
        self.check_room()
    }

    fn check_room(&self) -> Result<(), SendError> {
        if self.out.is_full() {
            Err(SendError::BufferFull)
        } else {
            Ok(())
        }
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong);
        }
        self.check_room()?;
        self.out.write_control(opcode, payload);
        Ok(())
    }
}

impl Connection {
    /// The sending half: every command (messages, pieces, pings, pongs, the close) goes through it.
    ///
    /// ```
    /// use wslane::{CloseCode, Config, Connection, Instant, State};
    ///
    /// let mut server = Connection::server(Instant::ZERO, Config::default());
    /// server.sender().send_text("bye").unwrap();
    /// server.sender().close(CloseCode::NORMAL, "").unwrap();
    /// assert_eq!(server.state(), State::CloseSent);
    /// ```
    pub fn sender(&mut self) -> Sender<'_> {
        Sender {
            out: &mut self.outgoing,
            state: &mut self.state,
            received: Received::NONE,
        }
    }

    /// Queues an owned message. See [`Sender::send`].
    pub fn send(&mut self, message: &Message) -> Result<(), SendError> {
        self.sender().send(message)
    }

    /// Queues an owned message, taking it: a large payload is written from its own allocation instead of
    /// copied. See [`Sender::send_owned`].
    pub fn send_owned(&mut self, message: Message) -> Result<(), SendError> {
        self.sender().send_owned(message)
    }

    /// Queues a message framed once for many connections. See [`Sender::send_prepared`].
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.sender().send_prepared(message)
    }
}
