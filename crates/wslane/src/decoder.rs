//! Frame decoding with every receive rule of RFC 6455 sections 5 and 7, over the caller's buffer.
//!
//! [`Decoder`] reads frames from a `&mut [u8]` of received bytes, unmasks payloads in place, and checks:
//! masking by role, RSV bits against the negotiated extension, control frame length and fragmentation,
//! continuation order, UTF-8 of text messages (incrementally, failing as soon as a byte is impossible, even
//! inside a frame that has not fully arrived), close frame bodies, and the frame and message size limits.
//! It never allocates and never copies a payload.
//!
//! The caller keeps the bytes the decoder has not consumed and presents them again, followed by newly
//! received bytes, on the next call. (Payload bytes held back this way may already be unmasked; the decoder
//! remembers how far it got.)
//!
//! Payloads are reported as ranges of the buffer given to [`Decoder::decode`], not as borrowed slices, so
//! the caller keeps its buffer free to borrow again (a connection borrows the payload for an event and its
//! output for a reply side by side). [`Item::payload`] and [`DataChunk::payload`] turn a range back into
//! the bytes:
//!
//! ```
//! use wslane::decoder::{Decoded, Decoder, DecoderConfig, Delivery, Item};
//! use wslane::Role;
//!
//! let mut decoder = Decoder::new(DecoderConfig {
//!     role: Role::Server,
//!     max_frame_size: 1 << 20,
//!     max_message_size: 1 << 20,
//!     extension_rsv: 0,
//!     delivery: Delivery::WholeFrames,
//! });
//! // A masked text frame "Hello" from RFC 6455 section 5.7.
//! let mut buf = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let Ok(Decoded::Item { consumed, item: Item::Data(chunk) }) = decoder.decode(&mut buf) else {
//!     panic!("a whole frame");
//! };
//! assert_eq!((consumed, chunk.payload.clone()), (11, 6..11));
//! assert_eq!(chunk.payload(&buf), b"Hello");
//! ```

use core::ops::Range;

use crate::close;
use crate::error::ProtocolError;
use crate::frame::{apply_mask, DataKind, FrameHeader, OpCode, Parsed, MAX_CONTROL_PAYLOAD};
use crate::utf8::Utf8Validator;
use crate::Role;

/// How data frames are handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// A data frame is returned once its whole payload is in the buffer, as one chunk.
    WholeFrames,
    /// Payload is returned as it arrives, in chunks as small as the bytes received; a frame never has to fit
    /// in the buffer.
    Streaming,
}

/// The decoder's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Which end this is: a server requires masked frames, a client unmasked ones.
    pub role: Role,
    /// The largest frame payload accepted (1009 beyond).
    pub max_frame_size: u64,
    /// The largest message accepted, summed over its frames (1009 beyond).
    pub max_message_size: u64,
    /// RSV bits the negotiated extension may set on the first frame of a data message; 0 without one.
    pub extension_rsv: u8,
    /// Whole frames or streaming chunks.
    pub delivery: Delivery,
}

/// A chunk of a data message's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataChunk {
    /// The message's type, also for continuation frames.
    pub kind: DataKind,
    /// The RSV bits of the message's first frame (non-zero only with an extension).
    pub rsv: u8,
    /// Where the unmasked payload bytes are in the buffer given to [`Decoder::decode`]. For a text message
    /// without RSV bits, the message so far is valid UTF-8 except that the chunk may end inside a character.
    pub payload: Range<usize>,
    /// This is the message's first chunk.
    pub first: bool,
    /// This chunk ends its frame.
    pub frame_end: bool,
    /// This chunk ends the message (the final frame's last bytes); a text message is then complete UTF-8.
    pub message_end: bool,
}

impl DataChunk {
    /// The payload bytes, from the buffer that was given to [`Decoder::decode`] (after the call: the
    /// bytes are unmasked in place). Empty if `buf` is too short to be that buffer.
    #[must_use]
    pub fn payload<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        buf.get(self.payload.clone()).unwrap_or_default()
    }
}

/// Something decoded from the buffer. Payload positions are ranges of the buffer given to
/// [`Decoder::decode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// Payload of a text or binary message.
    Data(DataChunk),
    /// A ping with its payload.
    Ping(Range<usize>),
    /// A pong with its payload.
    Pong(Range<usize>),
    /// A close frame with its validated body: the code and where the reason (valid UTF-8, at most 123
    /// bytes) is; `None` when it carried no status code.
    Close(Option<(close::CloseCode, Range<usize>)>),
}

impl Item {
    /// The item's payload bytes from the buffer that was given to [`Decoder::decode`]: the data chunk,
    /// the ping or pong payload, or the close reason (empty without a body). Empty if `buf` is too short
    /// to be that buffer.
    #[must_use]
    pub fn payload<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        let range = match self {
            Item::Data(chunk) => chunk.payload.clone(),
            Item::Ping(range) | Item::Pong(range) => range.clone(),
            Item::Close(Some((_, reason))) => reason.clone(),
            Item::Close(None) => 0..0,
        };
        buf.get(range).unwrap_or_default()
    }
}

/// The result of one [`Decoder::decode`] call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Nothing to hand out yet: at least `needed` more bytes are required. Nothing was consumed.
    NeedMore {
        /// The number of missing bytes, as far as can be told.
        needed: usize,
    },
    /// An item; the first `consumed` bytes of the buffer are done with and must be dropped.
    Item {
        /// How many bytes from the start of the buffer the item used.
        consumed: usize,
        /// The item, its payload located in the buffer.
        item: Item,
    },
}

/// The frame whose payload is being read.
#[derive(Clone, Copy, Debug)]
struct Frame {
    header: FrameHeader,
    /// Header bytes still at the start of the caller's buffer (0 once a chunk consumed them).
    header_len: usize,
    /// Payload bytes not yet consumed.
    remaining: u64,
    /// Payload bytes consumed so far (sets the masking key's phase).
    done: u64,
    /// Payload bytes after the header already unmasked and validated but not consumed.
    seen: usize,
}

/// The data message in progress.
#[derive(Clone, Copy, Debug)]
struct Message {
    kind: DataKind,
    rsv: u8,
    len: u64,
    delivered: bool,
    utf8: Option<Utf8Validator>,
}

/// Reads frames and enforces the receive rules; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Decoder {
    config: DecoderConfig,
    frame: Option<Frame>,
    message: Option<Message>,
    failed: Option<ProtocolError>,
}

impl Decoder {
    /// A decoder at the start of a connection.
    #[must_use]
    pub const fn new(config: DecoderConfig) -> Decoder {
        Decoder {
            config,
            frame: None,
            message: None,
            failed: None,
        }
    }

    /// The settings.
    #[must_use]
    pub const fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Sets the RSV bits a negotiated extension may use (call before the first frame).
    pub fn set_extension_rsv(&mut self, rsv: u8) {
        self.config.extension_rsv = rsv & 0b111;
    }

    /// Sets how data frames are handed out from the next frame on. A caller with a fixed buffer asks for
    /// whole frames when the next frame fits in it, and streaming otherwise; set it only between frames
    /// (when the last item ended a frame), as a frame already begun keeps the delivery it began with.
    pub fn set_delivery(&mut self, delivery: Delivery) {
        if self.frame.is_none() {
            self.config.delivery = delivery;
        }
    }

    /// Whether a fragmented data message has started and not ended.
    #[must_use]
    pub const fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// Decodes the next item from `buf`, unmasking its payload in place; the item's ranges are positions
    /// in `buf`. After an error, every later call returns the same error.
    pub fn decode(&mut self, buf: &mut [u8]) -> Result<Decoded, ProtocolError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        let result = self.decode_inner(buf);
        if let Err(err) = result {
            self.failed = Some(err);
        }
        result
    }

    fn decode_inner(&mut self, buf: &mut [u8]) -> Result<Decoded, ProtocolError> {
        let mut frame = match self.frame {
            Some(frame) => frame,
            None => match FrameHeader::parse(buf)? {
                Parsed::Partial { needed } => return Ok(Decoded::NeedMore { needed }),
                Parsed::Complete { header, len } => {
                    self.check_header(&header)?;
                    Frame {
                        header,
                        header_len: len,
                        remaining: header.payload_len,
                        done: 0,
                        seen: 0,
                    }
                }
            },
        };
        let start = frame.header_len;
        let received = buf.len().saturating_sub(start);
        // `avail` is at most `received`, a usize, so the cast back is lossless.
        let avail = (received as u64).min(frame.remaining) as usize;
        if avail > frame.seen {
            let fresh = &mut buf[start + frame.seen..start + avail];
            let phase = (frame.done % 4) as usize + frame.seen;
            let utf8 = if frame.header.opcode.is_data() {
                self.message.as_mut().and_then(|m| m.utf8.as_mut())
            } else {
                None
            };
            // Text is unmasked and validated together (in one pass where the CPU allows).
            let valid = match (frame.header.mask, utf8) {
                (Some(key), Some(utf8)) => utf8.feed_masked(fresh, key, phase),
                (Some(key), None) => {
                    apply_mask(fresh, key, phase);
                    Ok(())
                }
                (None, Some(utf8)) => utf8.feed(fresh),
                (None, None) => Ok(()),
            };
            valid.map_err(|_| ProtocolError::InvalidUtf8)?;
            frame.seen = avail;
        }
        let frame_end = avail as u64 == frame.remaining;
        let whole_frame_needed =
            frame.header.opcode.is_control() || self.config.delivery == Delivery::WholeFrames;
        if !frame_end && (whole_frame_needed || avail == 0) {
            self.frame = Some(frame);
            // A streamed frame hands out any payload byte; a whole frame needs all of it.
            let missing = frame.remaining - avail as u64;
            let needed = if whole_frame_needed {
                usize::try_from(missing).unwrap_or(usize::MAX)
            } else {
                1
            };
            return Ok(Decoded::NeedMore { needed });
        }
        let consumed = start + avail;
        let payload = start..consumed;
        self.frame = if frame_end {
            None
        } else {
            Some(Frame {
                header_len: 0,
                remaining: frame.remaining - avail as u64,
                done: frame.done + avail as u64,
                seen: 0,
                ..frame
            })
        };
        let item = match frame.header.opcode {
            OpCode::Ping => Item::Ping(payload),
            OpCode::Pong => Item::Pong(payload),
            OpCode::Close => {
                // The reason is the end of the body, after the two-byte code.
                let body = close::parse_close_body(&buf[payload])?;
                Item::Close(body.map(|(code, reason)| (code, consumed - reason.len()..consumed)))
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                Item::Data(self.data_chunk(payload, frame_end && frame.header.fin, frame_end)?)
            }
        };
        Ok(Decoded::Item { consumed, item })
    }

    /// Builds a data chunk and advances the message state.
    fn data_chunk(
        &mut self,
        payload: Range<usize>,
        message_end: bool,
        frame_end: bool,
    ) -> Result<DataChunk, ProtocolError> {
        let Some(message) = self.message.as_mut() else {
            // `check_header` started a message for every data frame.
            return Err(ProtocolError::UnexpectedContinuation);
        };
        let first = !message.delivered;
        message.delivered = true;
        let chunk = DataChunk {
            kind: message.kind,
            rsv: message.rsv,
            payload,
            first,
            frame_end,
            message_end,
        };
        if message_end {
            if let Some(utf8) = message.utf8.as_mut() {
                utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
            }
            self.message = None;
        }
        Ok(chunk)
    }

    /// The rules that a header alone decides. Starts or extends the data message.
    fn check_header(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        let allowed_rsv = match header.opcode {
            OpCode::Text | OpCode::Binary => self.config.extension_rsv,
            _ => 0,
        };
        if header.rsv & !allowed_rsv != 0 {
            return Err(ProtocolError::ReservedBits(header.rsv));
        }
        match (self.config.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if header.opcode.is_control() {
            if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong);
            }
            if !header.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            return Ok(());
        }
        if header.payload_len > self.config.max_frame_size {
            return Err(ProtocolError::FrameTooLarge {
                len: header.payload_len,
                max: self.config.max_frame_size,
            });
        }
        let max = self.config.max_message_size;
        // Control opcodes returned above: this is a continuation (no kind) or a message's first frame.
        match (DataKind::from_opcode(header.opcode), self.message.as_mut()) {
            (None, None) => Err(ProtocolError::UnexpectedContinuation),
            (None, Some(message)) => {
                message.len = message.len.saturating_add(header.payload_len);
                if message.len > max {
                    return Err(ProtocolError::MessageTooLarge { max });
                }
                Ok(())
            }
            (Some(_), Some(_)) => Err(ProtocolError::ExpectedContinuation),
            (Some(kind), None) => {
                if header.payload_len > max {
                    return Err(ProtocolError::MessageTooLarge { max });
                }
                // Text carried by an extension is validated after decoding, by the extension's user.
                let validate = kind == DataKind::Text && header.rsv == 0;
                self.message = Some(Message {
                    kind,
                    rsv: header.rsv,
                    len: header.payload_len,
                    delivered: false,
                    utf8: validate.then(Utf8Validator::new),
                });
                Ok(())
            }
        }
    }
}
