//! Turning received frames into events: message assembly, extension decoding, auto-pong, the peer's close.
//!
//! The receiving half of a connection lives in [`Incoming`], mirroring [`Outgoing`](super::send::Outgoing):
//! the decoder, the receive buffer, the reassembled message, and what is owed to the caller (the end of
//! the transport, an error). The decoder reports payloads as ranges of the receive buffer, so an event can
//! borrow the payload while the sending half is borrowed beside it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Range;

use super::buffer::{release_if_small, reserve_within, RxBuffer};
use super::send::Received;
use super::state::Input;
use super::{Connection, Event, Fragment, Sender};
use crate::close::CloseCode;
use crate::config::{Config, ReceiveMode};
use crate::decoder::{DataChunk, Decoded, Decoder, DecoderConfig, Delivery, Item};
use crate::error::{Error, ProtocolError};
use crate::extension::Extension;
use crate::frame::{DataKind, OpCode};
use crate::utf8::Utf8Validator;
use crate::Role;

/// What the receiving half owns: the receive buffer and everything that decodes from it.
pub(crate) struct Incoming {
    decoder: Decoder,
    rx: RxBuffer,
    mode: ReceiveMode,
    max_message_size: usize,
    /// Reassembly of fragmented messages, and an extension's decoded output.
    message: Vec<u8>,
    /// `message` holds part of a message still being assembled (so it must be kept whatever its size).
    assembling: bool,
    /// Decoded bytes of the current message, for the size limit in fragment mode.
    decoded_len: usize,
    /// UTF-8 check of text decoded by an extension.
    decoded_utf8: Utf8Validator,
    /// The transport ended; reported once the bytes received before it are decoded.
    pub(super) eof: bool,
    /// A failure not yet returned by `poll_event`.
    error: Option<Error>,
}

/// A decoded item with its payload as a range of the receive buffer, so the buffer can be borrowed again.
enum Step {
    NeedMore,
    Data {
        kind: DataKind,
        rsv: u8,
        payload: Range<usize>,
        first: bool,
        message_end: bool,
    },
    Ping(Range<usize>),
    Pong(Range<usize>),
    Close(Option<(CloseCode, Range<usize>)>),
}

/// Where the next event's payload lives.
enum Source {
    Received(Range<usize>),
    Assembled,
}

/// An event with its payload located, not yet borrowed, so the sending half can be borrowed beside it.
enum Ready {
    Data {
        kind: DataKind,
        source: Source,
        first: bool,
        message_end: bool,
    },
    Ping(Range<usize>),
    Pong(Range<usize>),
    Close {
        code: CloseCode,
        reason: Range<usize>,
    },
}

impl Incoming {
    pub(super) fn new(role: Role, config: &Config) -> Incoming {
        let delivery = match config.receive_mode {
            ReceiveMode::Messages => Delivery::WholeFrames,
            ReceiveMode::Fragments => Delivery::Streaming,
        };
        Incoming {
            decoder: Decoder::new(DecoderConfig {
                role,
                max_frame_size: config.max_frame_size as u64,
                max_message_size: config.max_message_size as u64,
                extension_rsv: 0,
                delivery,
            }),
            rx: RxBuffer::default(),
            mode: config.receive_mode,
            max_message_size: config.max_message_size,
            message: Vec::new(),
            assembling: false,
            decoded_len: 0,
            decoded_utf8: Utf8Validator::new(),
            eof: false,
            error: None,
        }
    }

    /// The RSV bits the negotiated extension may set.
    pub(super) fn set_extension_rsv(&mut self, rsv: u8) {
        self.decoder.set_extension_rsv(rsv);
    }

    /// Bytes received and not yet decoded.
    pub(super) fn buffered(&self) -> usize {
        self.rx.len()
    }

    /// Queues received bytes.
    pub(super) fn extend(&mut self, data: &[u8]) {
        self.rx.extend(data);
    }

    /// Room to read into.
    pub(super) fn spare(&mut self, min: usize) -> &mut [u8] {
        self.rx.spare(min)
    }

    /// The receive buffer's bytes (payloads queued for transmission point into them).
    pub(super) fn rx_bytes(&self) -> &[u8] {
        self.rx.bytes()
    }

    /// Keeps the receive buffer's bytes up to `end` in place (0: none); see `RxBuffer::pin`.
    pub(super) fn pin_rx(&mut self, end: usize) {
        self.rx.pin(end);
    }

    /// The receive buffer's allocation, handed over when pinned bytes stand in the way of a read of `min`.
    pub(super) fn take_pinned_rx(&mut self, min: usize) -> Option<Vec<u8>> {
        self.rx.take_pinned(min)
    }

    /// A handed-over receive buffer whose queued payloads were all sent, for the next hand-over.
    pub(super) fn reuse_rx(&mut self, buf: Vec<u8>) {
        self.rx.keep_for_reuse(buf);
    }

    /// `n` bytes were read into [`spare`](Self::spare).
    pub(super) fn commit(&mut self, n: usize) {
        self.rx.commit(n);
    }

    /// The connection failed: nothing more is read, and `error` is returned once.
    pub(super) fn fail(&mut self, error: Error) {
        self.rx.clear();
        self.message = Vec::new();
        self.assembling = false;
        self.error = Some(error);
    }

    /// Applies the release rule (see `buffer::KEEP_WHEN_IDLE`) to the receiving buffers, before the next
    /// event is decoded, when the last event no longer borrows them: an emptied receive buffer after a
    /// small frame, and the reassembly buffer after a small message (or a message delivered without it).
    fn release_idle_buffers(&mut self) {
        self.rx.release_if_idle();
        if !self.assembling {
            release_if_small(&mut self.message);
        }
    }

    /// Runs the decoder once over the undecoded bytes.
    fn decode_step(&mut self) -> Result<Step, ProtocolError> {
        let base = self.rx.start();
        let (consumed, item) = match self.decoder.decode(self.rx.data_mut())? {
            Decoded::NeedMore { needed } => {
                // Whole frames: `needed` is the rest of the frame (within the frame size limit).
                if self.mode == ReceiveMode::Messages {
                    self.rx.expect(needed);
                }
                return Ok(Step::NeedMore);
            }
            Decoded::Item { consumed, item } => (consumed, item),
        };
        // The decoder's ranges are relative to the undecoded bytes; make them ranges of the whole buffer.
        let shift = |range: Range<usize>| base + range.start..base + range.end;
        let step = match item {
            Item::Data(DataChunk {
                kind,
                rsv,
                payload,
                first,
                message_end,
                ..
            }) => Step::Data {
                kind,
                rsv,
                payload: shift(payload),
                first,
                message_end,
            },
            Item::Ping(payload) => Step::Ping(shift(payload)),
            Item::Pong(payload) => Step::Pong(shift(payload)),
            Item::Close(body) => Step::Close(body.map(|(code, reason)| (code, shift(reason)))),
        };
        self.rx.consume(consumed);
        Ok(step)
    }

    /// Assembles or decodes a data chunk. Returns where the event's payload is, or `None` when the chunk
    /// produced no event (a fragment of a message still being assembled).
    fn on_data(
        &mut self,
        extension: Option<&mut Box<dyn Extension>>,
        kind: DataKind,
        rsv: u8,
        payload: Range<usize>,
        first: bool,
        message_end: bool,
    ) -> Result<Option<Source>, ProtocolError> {
        let whole = self.mode == ReceiveMode::Messages;
        if first || !whole {
            self.message.clear();
        }
        self.assembling = whole && !message_end;
        if first {
            self.decoded_len = 0;
        }
        if rsv == 0 {
            if !whole || (first && message_end) {
                return Ok(Some(Source::Received(payload)));
            }
            // The decoder keeps the message within its limit; so does the buffer's capacity.
            reserve_within(&mut self.message, payload.len(), self.max_message_size);
            crate::copy::extend(&mut self.message, &self.rx.bytes()[payload]);
            return Ok(message_end.then_some(Source::Assembled));
        }
        // Encoded by the extension: decode, enforcing the limit on the decoded size.
        let Some(extension) = extension else {
            return Err(ProtocolError::ReservedBits(rsv));
        };
        let limit = self.max_message_size;
        let before = self.message.len();
        let room = limit.saturating_sub(self.decoded_len - before);
        let input = &self.rx.bytes()[payload];
        extension
            .decode(rsv, input, message_end, &mut self.message, room)
            .map_err(|err| match err {
                ProtocolError::MessageTooLarge { .. } => {
                    ProtocolError::MessageTooLarge { max: limit as u64 }
                }
                err => err,
            })?;
        if self.message.len() > room {
            return Err(ProtocolError::MessageTooLarge { max: limit as u64 });
        }
        self.decoded_len += self.message.len() - before;
        if kind == DataKind::Text {
            let fresh = &self.message[before..];
            self.decoded_utf8
                .feed(fresh)
                .map_err(|_| ProtocolError::InvalidUtf8)?;
            if message_end {
                self.decoded_utf8
                    .finish()
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
            }
        }
        Ok((!whole || message_end).then_some(Source::Assembled))
    }

    /// The event `ready` describes, borrowing the payload from the receive buffer or the assembled
    /// message.
    fn view(&self, ready: Ready) -> Event<'_> {
        let (kind, source, first, message_end) = match ready {
            Ready::Ping(range) => return Event::Ping(&self.rx.bytes()[range]),
            Ready::Pong(range) => return Event::Pong(&self.rx.bytes()[range]),
            Ready::Close { code, reason } => {
                // The decoder validated the reason as UTF-8; it is at most 123 bytes.
                let reason = core::str::from_utf8(&self.rx.bytes()[reason]).unwrap_or("");
                return Event::Close { code, reason };
            }
            Ready::Data {
                kind,
                source,
                first,
                message_end,
            } => (kind, source, first, message_end),
        };
        let data = match source {
            Source::Received(range) => &self.rx.bytes()[range],
            Source::Assembled => &self.message,
        };
        match (self.mode, kind) {
            (ReceiveMode::Fragments, kind) => Event::Fragment(Fragment {
                kind,
                data,
                first,
                fin: message_end,
            }),
            (ReceiveMode::Messages, DataKind::Text) => Event::Text(validated_text(data)),
            (ReceiveMode::Messages, DataKind::Binary) => Event::Binary(data),
        }
    }
}

impl Connection {
    /// The next event, `Ok(None)` when more input is needed (or the connection is over).
    ///
    /// A protocol violation returns `Err` once: a close frame with the error's code is queued, nothing more
    /// is read, and [`should_close_transport`](Self::should_close_transport) turns true. A timeout (see
    /// [`handle_timeout`](Self::handle_timeout)) is returned the same way.
    #[allow(clippy::should_implement_trait)]
    pub fn poll_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        let Some(ready) = self.next_ready()? else {
            return Ok(None);
        };
        Ok(Some(self.incoming.view(ready)))
    }

    /// As [`poll_event`](Self::poll_event), handing the event to `f` together with the connection's
    /// [`Sender`], so a reply can be queued from the borrowed payload, and allocates nothing. A server
    /// that sends a received payload of 512 bytes or more on unchanged (an echo, a relay; unmasked, not
    /// compressed by the extension) does not even copy it: it is transmitted from the receive buffer,
    /// through [`poll_transmit_vectored`](Self::poll_transmit_vectored).
    pub fn poll_event_with<O>(
        &mut self,
        f: impl FnOnce(Event<'_>, &mut Sender<'_>) -> O,
    ) -> Result<Option<O>, Error> {
        let Some(ready) = self.next_ready()? else {
            return Ok(None);
        };
        let received = Received::of(self.incoming.rx_bytes());
        let event = self.incoming.view(ready);
        let mut sender = Sender {
            out: &mut self.outgoing,
            state: &mut self.state,
            received,
        };
        let output = f(event, &mut sender);
        // A reply may have been queued from the received payload, in place.
        self.incoming.pin_rx(self.outgoing.tx.borrowed_end());
        Ok(Some(output))
    }

    /// Decodes until an event is ready.
    fn next_ready(&mut self) -> Result<Option<Ready>, Error> {
        if let Some(error) = self.incoming.error.take() {
            return Err(error);
        }
        self.incoming.release_idle_buffers();
        loop {
            if !self.state.can_receive() {
                return Ok(None);
            }
            let step = match self.incoming.decode_step() {
                Ok(step) => step,
                Err(err) => return Err(self.failed(err)),
            };
            return Ok(Some(match step {
                Step::NeedMore if self.incoming.eof => {
                    // The transport ended without a close handshake.
                    self.state.handle(Input::Eof);
                    Ready::Close {
                        code: CloseCode::ABNORMAL_CLOSURE,
                        reason: 0..0,
                    }
                }
                Step::NeedMore => return Ok(None),
                Step::Ping(range) => {
                    if self.config.auto_pong {
                        self.outgoing
                            .answer_ping(&self.incoming.rx.bytes()[range.clone()]);
                    }
                    Ready::Ping(range)
                }
                Step::Pong(range) => Ready::Pong(range),
                Step::Close(body) => self.on_close(body),
                Step::Data {
                    kind,
                    rsv,
                    payload,
                    first,
                    message_end,
                } => match self.incoming.on_data(
                    self.outgoing.extension.as_mut(),
                    kind,
                    rsv,
                    payload,
                    first,
                    message_end,
                ) {
                    Ok(Some(source)) => Ready::Data {
                        kind,
                        source,
                        first,
                        message_end,
                    },
                    Ok(None) => continue,
                    Err(err) => return Err(self.failed(err)),
                },
            }));
        }
    }

    /// Fails the connection for the peer's violation; returns the error to report.
    fn failed(&mut self, err: ProtocolError) -> Error {
        self.fail(Input::Failure, Error::Protocol(err));
        self.incoming.error.take().unwrap_or(Error::Protocol(err))
    }

    /// The peer's close: answer it with the same code (unless we already sent ours) and stop reading.
    fn on_close(&mut self, body: Option<(CloseCode, Range<usize>)>) -> Ready {
        if self.state.can_send() {
            match &body {
                Some((code, _)) => self
                    .outgoing
                    .write_control(OpCode::Close, &code.get().to_be_bytes()),
                None => self.outgoing.write_control(OpCode::Close, &[]),
            }
        }
        self.state.handle(Input::PeerClose);
        if self.state.close_timer_applies() {
            // A client waits for the server to end the transport, from the instant the close arrived.
            self.timers.start_close();
        }
        if self.incoming.eof {
            // The transport already ended behind the close frame.
            self.state.handle(Input::Eof);
        }
        match body {
            Some((code, reason)) => Ready::Close { code, reason },
            None => Ready::Close {
                code: CloseCode::NO_STATUS_RECEIVED,
                reason: 0..0,
            },
        }
    }
}

/// A text message's payload as `&str`, without validating it a second time.
///
/// Every text payload reaching an event was validated before: by the decoder as its bytes arrived (an
/// uncompressed message: the decoder checks every frame of a text message with RSV bits clear, and the
/// message's end), or by `Incoming::on_data` after an extension decoded it. Validating again would
/// read the whole message a second time; the echo benchmark (`benches/benches/echo.rs`, text cases) shows
/// the cost.
#[allow(unsafe_code)]
fn validated_text(data: &[u8]) -> &str {
    debug_assert!(core::str::from_utf8(data).is_ok(), "unvalidated text");
    // SAFETY: `data` is the exact byte range validated as UTF-8 before the event was built (see above),
    // and nothing writes to the receive buffer or the assembled message between that check and here:
    // unmasking happens before validation, and both buffers are borrowed immutably from here on.
    unsafe { core::str::from_utf8_unchecked(data) }
}
