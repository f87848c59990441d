//! Turning received frames into events: message assembly, extension decoding, auto-pong, the peer's close.

use core::ops::Range;

use super::state::Transition;
use super::{Connection, Event, Fragment, State};
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

impl Connection {
    /// The next event, `Ok(None)` when more input is needed (or the connection is over).
    ///
    /// A protocol violation returns `Err` once: a close frame with the error's code is queued, nothing more
    /// is read, and [`should_close_transport`](Self::should_close_transport) turns true. A timeout (see
    /// [`handle_timeout`](Self::handle_timeout)) is returned the same way.
    #[allow(clippy::should_implement_trait)]
    pub fn poll_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        loop {
            if !self.state.can_receive() {
                return Ok(None);
            }
            let step = match self.decode_step() {
                Ok(step) => step,
                Err(err) => {
                    self.fail(Error::Protocol(err));
                    return Err(self.error.take().unwrap_or(Error::Protocol(err)));
                }
            };
            match step {
                Step::NeedMore if self.eof => {
                    // The transport ended without a close handshake.
                    self.state = self.state.next(Transition::Failure);
                    return Ok(Some(Event::Close {
                        code: CloseCode::ABNORMAL_CLOSURE,
                        reason: "",
                    }));
                }
                Step::NeedMore => return Ok(None),
                Step::Ping(range) => {
                    if self.config.auto_pong {
                        let payload = &self.rx.bytes()[range.clone()];
                        let mut copy = [0; 125];
                        copy[..payload.len()].copy_from_slice(payload);
                        self.answer_ping(&copy[..range.len()]);
                    }
                    return Ok(Some(Event::Ping(&self.rx.bytes()[range])));
                }
                Step::Pong(range) => return Ok(Some(Event::Pong(&self.rx.bytes()[range]))),
                Step::Close(body) => return Ok(Some(self.on_close(body))),
                Step::Data {
                    opcode,
                    rsv,
                    payload,
                    first,
                    message_end,
                } => {
                    let source = match self.on_data(opcode, rsv, payload, first, message_end) {
                        Ok(Some(source)) => source,
                        Ok(None) => continue,
                        Err(err) => {
                            self.fail(Error::Protocol(err));
                            return Err(self.error.take().unwrap_or(Error::Protocol(err)));
                        }
                    };
                    return Ok(Some(self.data_event(opcode, source, first, message_end)));
                }
            }
        }
    }

    /// Runs the decoder once over the undecoded bytes.
    fn decode_step(&mut self) -> Result<Step, ProtocolError> {
        let base = self.rx.start();
        let data = self.rx.data_mut();
        let origin = data.as_ptr() as usize;
        let (consumed, item) = match self.decoder.decode(data)? {
            Decoded::NeedMore { .. } => return Ok(Step::NeedMore),
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
    fn on_close(&mut self, body: Option<(CloseCode, Range<usize>)>) -> Event<'_> {
        if self.state == State::Open {
            match &body {
                Some((code, _)) => self.write_control(OpCode::Close, &code.get().to_be_bytes()),
                None => self.write_control(OpCode::Close, &[]),
            }
        }
        self.state = self.state.next(Transition::CloseReceived);
        let (code, reason) = match body {
            Some((code, range)) => (code, range),
            None => (CloseCode::NO_STATUS_RECEIVED, 0..0),
        };
        // The decoder validated the reason as UTF-8.
        let reason = core::str::from_utf8(&self.rx.bytes()[reason]).unwrap_or("");
        Event::Close { code, reason }
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
        let Some(extension) = self.extension.as_mut() else {
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

    fn data_event(
        &self,
        opcode: OpCode,
        source: Source,
        first: bool,
        message_end: bool,
    ) -> Event<'_> {
        let data = match source {
            Source::Received(range) => &self.rx.bytes()[range],
            Source::Assembled => &self.message[..],
        };
        match self.config.receive_mode {
            ReceiveMode::Fragments => Event::Fragment(Fragment {
                opcode,
                data,
                first,
                fin: message_end,
            }),
            ReceiveMode::Messages if opcode == OpCode::Text => {
                // Validated by the decoder (or after decoding, above).
                Event::Text(core::str::from_utf8(data).unwrap_or(""))
            }
            ReceiveMode::Messages => Event::Binary(data),
        }
    }
}
