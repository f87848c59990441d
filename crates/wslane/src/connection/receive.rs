//! Turning received frames into events: message assembly, extension decoding, auto-pong, the peer's close.

use core::ops::Range;

use super::buffer::RxBuffer;
use super::state::Transition;
use super::{Connection, Event, Fragment, Sender, State};
use crate::close::CloseCode;
use crate::config::ReceiveMode;
use crate::decoder::{DataChunk, Decoded, Item};
use crate::error::{Error, ProtocolError};
use crate::frame::OpCode;

/// A decoded item with its payload as a range of the receive buffer, so the buffer can be borrowed again.
enum Step {
    NeedMore,
    Data {
        opcode: OpCode,
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
        opcode: OpCode,
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
        Ok(Some(view(
            &self.rx,
            &self.message,
            self.config.receive_mode,
            ready,
        )))
    }

    /// As [`poll_event`](Self::poll_event), handing the event to `f` together with the connection's
    /// [`Sender`], so a reply can be queued from the borrowed payload: an echo or a relay copies each
    /// payload once, into the output, and allocates nothing.
    pub fn poll_event_with<O>(
        &mut self,
        f: impl FnOnce(Event<'_>, &mut Sender<'_>) -> O,
    ) -> Result<Option<O>, Error> {
        let Some(ready) = self.next_ready()? else {
            return Ok(None);
        };
        let event = view(&self.rx, &self.message, self.config.receive_mode, ready);
        let mut sender = Sender {
            out: &mut self.out,
            state: &mut self.state,
        };
        Ok(Some(f(event, &mut sender)))
    }

    /// Decodes until an event is ready.
    fn next_ready(&mut self) -> Result<Option<Ready>, Error> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        loop {
            if !self.state.can_receive() {
                return Ok(None);
            }
            let step = match self.decode_step() {
                Ok(step) => step,
                Err(err) => return Err(self.failed(err)),
            };
            return Ok(Some(match step {
                Step::NeedMore if self.eof => {
                    // The transport ended without a close handshake.
                    self.state = self.state.next(Transition::Failure);
                    Ready::Close {
                        code: CloseCode::ABNORMAL_CLOSURE,
                        reason: 0..0,
                    }
                }
                Step::NeedMore => return Ok(None),
                Step::Ping(range) => {
                    if self.config.auto_pong {
                        self.out.answer_ping(&self.rx.bytes()[range.clone()]);
                    }
                    Ready::Ping(range)
                }
                Step::Pong(range) => Ready::Pong(range),
                Step::Close(body) => self.on_close(body),
                Step::Data {
                    opcode,
                    rsv,
                    payload,
                    first,
                    message_end,
                } => match self.on_data(opcode, rsv, payload, first, message_end) {
                    Ok(Some(source)) => Ready::Data {
                        opcode,
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
        self.fail(Error::Protocol(err));
        self.error.take().unwrap_or(Error::Protocol(err))
    }

    /// Runs the decoder once over the undecoded bytes.
    fn decode_step(&mut self) -> Result<Step, ProtocolError> {
        let base = self.rx.start();
        let data = self.rx.data_mut();
        let origin = data.as_ptr() as usize;
        let (consumed, item) = match self.decoder.decode(data)? {
            Decoded::NeedMore { needed } => {
                // Whole frames: `needed` is the rest of the frame (within the frame size limit).
                if self.config.receive_mode == ReceiveMode::Messages {
                    self.rx.expect(needed);
                }
                return Ok(Step::NeedMore);
            }
            Decoded::Item { consumed, item } => (consumed, item),
        };
        // Payloads are sub-slices of `data`; turn them into ranges of the whole buffer.
        let range = |payload: &[u8]| {
            let at = base + (payload.as_ptr() as usize - origin);
            at..at + payload.len()
        };
        let step = match item {
            Item::Data(DataChunk {
                opcode,
                rsv,
                payload,
                first,
                message_end,
                ..
            }) => Step::Data {
                opcode,
                rsv,
                payload: range(payload),
                first,
                message_end,
            },
            Item::Ping(payload) => Step::Ping(range(payload)),
            Item::Pong(payload) => Step::Pong(range(payload)),
            Item::Close(body) => {
                Step::Close(body.map(|(code, reason)| (code, range(reason.as_bytes()))))
            }
        };
        self.rx.consume(consumed);
        Ok(step)
    }

    /// The peer's close: answer it with the same code (unless we already sent ours) and stop reading.
    fn on_close(&mut self, body: Option<(CloseCode, Range<usize>)>) -> Ready {
        if self.state == State::Open {
            match &body {
                Some((code, _)) => self
                    .out
                    .write_control(OpCode::Close, &code.get().to_be_bytes()),
                None => self.out.write_control(OpCode::Close, &[]),
            }
        }
        self.state = self.state.next(Transition::CloseReceived);
        match body {
            Some((code, reason)) => Ready::Close { code, reason },
            None => Ready::Close {
                code: CloseCode::NO_STATUS_RECEIVED,
                reason: 0..0,
            },
        }
    }

    /// Assembles or decodes a data chunk. Returns where the event's payload is, or `None` when the chunk
    /// produced no event (a fragment of a message still being assembled).
    fn on_data(
        &mut self,
        opcode: OpCode,
        rsv: u8,
        payload: Range<usize>,
        first: bool,
        message_end: bool,
    ) -> Result<Option<Source>, ProtocolError> {
        let whole = self.config.receive_mode == ReceiveMode::Messages;
        if first || !whole {
            self.message.clear();
        }
        if first {
            self.decoded_len = 0;
        }
        if rsv == 0 {
            if !whole || (first && message_end) {
                return Ok(Some(Source::Received(payload)));
            }
            self.message.extend_from_slice(&self.rx.bytes()[payload]);
            return Ok(message_end.then_some(Source::Assembled));
        }
        // Encoded by the extension: decode, enforcing the limit on the decoded size.
        let Some(extension) = self.out.extension.as_mut() else {
            return Err(ProtocolError::ReservedBits(rsv));
        };
        let limit = self.config.max_message_size;
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
        if opcode == OpCode::Text {
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
}

/// The event `ready` describes, borrowing the payload from the receive buffer or the assembled message.
fn view<'a>(rx: &'a RxBuffer, message: &'a [u8], mode: ReceiveMode, ready: Ready) -> Event<'a> {
    let (opcode, source, first, message_end) = match ready {
        Ready::Ping(range) => return Event::Ping(&rx.bytes()[range]),
        Ready::Pong(range) => return Event::Pong(&rx.bytes()[range]),
        Ready::Close { code, reason } => {
            // The decoder validated the reason as UTF-8; it is at most 123 bytes.
            let reason = core::str::from_utf8(&rx.bytes()[reason]).unwrap_or("");
            return Event::Close { code, reason };
        }
        Ready::Data {
            opcode,
            source,
            first,
            message_end,
        } => (opcode, source, first, message_end),
    };
    let data = match source {
        Source::Received(range) => &rx.bytes()[range],
        Source::Assembled => message,
    };
    match mode {
        ReceiveMode::Fragments => Event::Fragment(Fragment {
            opcode,
            data,
            first,
            fin: message_end,
        }),
        ReceiveMode::Messages if opcode == OpCode::Text => Event::Text(validated_text(data)),
        ReceiveMode::Messages => Event::Binary(data),
    }
}

/// A text message's payload as `&str`, without validating it a second time.
///
/// Every text payload reaching an event was validated before: by the decoder as its bytes arrived (an
/// uncompressed message: the decoder checks every frame of a text message with RSV bits clear, and the
/// message's end), or by [`Connection::on_data`] after an extension decoded it. Validating again would
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
