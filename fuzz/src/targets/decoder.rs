//! `decoder::Decoder` fed arbitrary bytes in arbitrary chunks, used as its docs ask: the caller keeps the
//! bytes not consumed and presents them again followed by the next bytes received.
//!
//! Invariants:
//! - `consumed` is at least 1 and never exceeds the buffer; `NeedMore { needed }` has `needed >= 1`, and no
//!   item comes before `needed` more bytes have arrived (an error may);
//! - data chunks are well formed: `first` exactly on a message's first chunk, one opcode and RSV value per
//!   message, `message_end` only with `frame_end`, whole frames in `WholeFrames` mode, no empty chunk that
//!   does not end its frame, no control frame between the chunks of one frame, RSV bits only those allowed;
//! - text without RSV bits is a valid UTF-8 prefix after every chunk and valid UTF-8 at `message_end`;
//! - control payloads are at most 125 bytes; a close code is one a peer may send, its reason at most 123
//!   bytes;
//! - nothing comes after an error, and every later call returns the same error, whatever the buffer;
//! - chunking does not matter: the complete frames and the final error equal those of a second decoder
//!   (`WholeFrames`) given the whole input at once.

use arbitrary::{Arbitrary, Unstructured};
use wslane::close::CloseCode;
use wslane::decoder::{DataChunk, Decoded, Decoder, DecoderConfig, Delivery, Item};
use wslane::{OpCode, ProtocolError, Role};

use crate::{hex, is_utf8_prefix, known};

/// The decoder's settings and how the input is cut.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// Bit 0: server (else client). Bit 1: `Streaming` (else `WholeFrames`). Bits 2-4: extension RSV bits.
    pub flags: u8,
    /// The frame size limit: 0 for none, otherwise this minus one.
    pub max_frame: u16,
    /// The message size limit, encoded as `max_frame`.
    pub max_message: u16,
    /// Chunk sizes, used in turn; 0 delivers the rest of the input at once.
    pub chunks: [u8; 8],
}

/// The target's input: a setup, then the received bytes.
#[derive(Arbitrary, Debug)]
pub struct Input<'a> {
    /// Settings and chunking.
    pub setup: Setup,
    /// The bytes received.
    pub stream: &'a [u8],
}

impl Setup {
    /// The flags for a role, delivery mode and extension RSV bits.
    pub fn flags(role: Role, delivery: Delivery, rsv: u8) -> u8 {
        u8::from(role == Role::Server)
            | (u8::from(delivery == Delivery::Streaming) << 1)
            | ((rsv & 7) << 2)
    }

    /// The bytes that decode to this setup.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.flags];
        out.extend_from_slice(&self.max_frame.to_le_bytes());
        out.extend_from_slice(&self.max_message.to_le_bytes());
        out.extend_from_slice(&self.chunks);
        out
    }

    /// The decoder configuration.
    pub fn config(&self) -> DecoderConfig {
        let limit = |v: u16| if v == 0 { u64::MAX } else { u64::from(v) - 1 };
        DecoderConfig {
            role: if self.flags & 1 != 0 {
                Role::Server
            } else {
                Role::Client
            },
            max_frame_size: limit(self.max_frame),
            max_message_size: limit(self.max_message),
            extension_rsv: (self.flags >> 2) & 7,
            delivery: if self.flags & 2 != 0 {
                Delivery::Streaming
            } else {
                Delivery::WholeFrames
            },
        }
    }
}

/// Something decoded, with data chunks merged into whole frames.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Record {
    Data {
        opcode: OpCode,
        rsv: u8,
        first: bool,
        message_end: bool,
        payload: Vec<u8>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

/// Checks each item as it comes and merges data chunks into frames.
struct Checker {
    config: DecoderConfig,
    records: Vec<Record>,
    /// The message in progress: opcode, RSV bits, bytes so far.
    message: Option<(OpCode, u8, Vec<u8>)>,
    /// The frame in progress: `first` of its first chunk, and its bytes so far.
    frame: Option<(bool, Vec<u8>)>,
}

impl Checker {
    fn new(config: DecoderConfig) -> Checker {
        Checker {
            config,
            records: Vec::new(),
            message: None,
            frame: None,
        }
    }

    /// Checks an item; its ranges are positions in `buf`, the buffer it was decoded from, within the
    /// `consumed` bytes.
    fn item(&mut self, item: &Item, buf: &[u8], consumed: usize) {
        let range = match item {
            Item::Data(chunk) => chunk.payload.clone(),
            Item::Ping(p) | Item::Pong(p) => p.clone(),
            Item::Close(Some((_, reason))) => reason.clone(),
            Item::Close(None) => 0..0,
        };
        assert!(
            range.start <= range.end && range.end <= consumed,
            "payload range {range:?} outside the {consumed} bytes consumed"
        );
        assert_eq!(item.payload(buf), &buf[range], "Item::payload");
        match item {
            Item::Data(chunk) => self.data(chunk, buf),
            Item::Ping(p) | Item::Pong(p) => {
                let p = &buf[p.clone()];
                assert!(
                    self.frame.is_none(),
                    "control frame inside a data frame's chunks"
                );
                assert!(p.len() <= 125, "control payload of {} bytes", p.len());
                self.records.push(match item {
                    Item::Ping(_) => Record::Ping(p.to_vec()),
                    _ => Record::Pong(p.to_vec()),
                });
            }
            Item::Close(body) => {
                assert!(self.frame.is_none(), "close inside a data frame's chunks");
                let body = body.clone().map(|(code, reason)| {
                    let reason = core::str::from_utf8(&buf[reason])
                        .unwrap_or_else(|_| panic!("close reason is not UTF-8"));
                    (code, reason)
                });
                if let Some((code, reason)) = body {
                    assert!(
                        code.is_sendable(),
                        "close code {code} accepted from the wire"
                    );
                    assert_eq!(CloseCode::from_wire(code.get()), Ok(code));
                    assert!(
                        reason.len() <= 123,
                        "close reason of {} bytes",
                        reason.len()
                    );
                }
                let body = body.map(|(code, reason)| (code.get(), reason.to_owned()));
                self.records.push(Record::Close(body));
            }
        }
    }

    fn data(&mut self, chunk: &DataChunk, buf: &[u8]) {
        let config = self.config;
        let kind = chunk.kind.opcode();
        let payload = chunk.payload(buf);
        assert_eq!(
            chunk.rsv & !config.extension_rsv,
            0,
            "RSV bits {:#05b} not allowed",
            chunk.rsv
        );
        assert!(
            !chunk.message_end || chunk.frame_end,
            "message_end without frame_end"
        );
        if config.delivery == Delivery::WholeFrames {
            assert!(chunk.frame_end, "partial frame in WholeFrames mode");
        }
        assert!(
            chunk.frame_end || !payload.is_empty(),
            "empty chunk inside a frame"
        );
        match &mut self.message {
            None => {
                assert!(chunk.first, "chunk with first == false starts a message");
                self.message = Some((kind, chunk.rsv, Vec::new()));
            }
            Some((opcode, rsv, bytes)) => {
                assert!(!chunk.first, "first == true inside a message");
                assert_eq!((*opcode, *rsv), (kind, chunk.rsv), "message changed type");
                let _ = bytes;
            }
        }
        let (opcode, rsv, bytes) = self.message.as_mut().expect("message in progress");
        bytes.extend_from_slice(payload);
        if *opcode == OpCode::Text && *rsv == 0 {
            assert!(
                is_utf8_prefix(bytes),
                "text so far is not a UTF-8 prefix: {}",
                hex(bytes)
            );
            if chunk.message_end {
                assert!(
                    core::str::from_utf8(bytes).is_ok(),
                    "complete text is not UTF-8: {}",
                    hex(bytes)
                );
            }
        }
        let (opcode, rsv) = (*opcode, *rsv);
        let frame = self.frame.get_or_insert_with(|| (chunk.first, Vec::new()));
        frame.1.extend_from_slice(payload);
        if chunk.frame_end {
            let (first, payload) = self.frame.take().expect("frame in progress");
            self.records.push(Record::Data {
                opcode,
                rsv,
                first,
                message_end: chunk.message_end,
                payload,
            });
        }
        if chunk.message_end {
            self.message = None;
        }
    }
}

/// Decodes `stream` cut as `setup` says; returns the records and the error, if any.
fn decode_chunked(
    config: DecoderConfig,
    chunks: &[u8; 8],
    stream: &[u8],
) -> (Checker, Option<ProtocolError>) {
    let mut decoder = Decoder::new(config);
    let mut checker = Checker::new(config);
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0;
    // No item may come before the buffer holds this many bytes.
    let mut item_at = 0;
    let mut error = None;
    for &size in chunks.iter().cycle() {
        if pos == stream.len() && pos != 0 {
            break;
        }
        let size = if size == 0 {
            stream.len() - pos
        } else {
            usize::from(size).min(stream.len() - pos)
        };
        buf.extend_from_slice(&stream[pos..pos + size]);
        pos += size;
        loop {
            let len = buf.len();
            match decoder.decode(&mut buf) {
                Ok(Decoded::NeedMore { needed }) => {
                    assert!(
                        needed >= 1,
                        "NeedMore {{ needed: 0 }} with {len} bytes buffered"
                    );
                    item_at = len.saturating_add(needed);
                    break;
                }
                Ok(Decoded::Item { consumed, item }) => {
                    assert!(consumed >= 1, "item consumed nothing: {item:?}");
                    assert!(consumed <= len, "consumed {consumed} of {len} bytes");
                    let tolerated = config.delivery == Delivery::Streaming
                        && known::tolerated("streaming-needed");
                    assert!(
                        len >= item_at || tolerated,
                        "item with {len} bytes buffered after NeedMore asked for {item_at}: {item:?}"
                    );
                    checker.item(&item, &buf, consumed);
                    buf.drain(..consumed);
                    item_at = 0;
                }
                Err(err) => {
                    error = Some(err);
                    break;
                }
            }
        }
        if error.is_some() || stream.is_empty() {
            break;
        }
    }
    if let Some(err) = error {
        // The error repeats, with the same buffer, more bytes, or none.
        assert_eq!(decoder.decode(&mut buf), Err(err));
        buf.extend_from_slice(&[0x82, 0x80, 1, 2, 3, 4, 0x81, 0x00]);
        assert_eq!(decoder.decode(&mut buf), Err(err));
        assert_eq!(decoder.decode(&mut []), Err(err));
    }
    (checker, error)
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let config = input.setup.config();
    let (chunked, error) = decode_chunked(config, &input.setup.chunks, input.stream);
    if let Some((opcode, rsv, bytes)) = &chunked.message {
        // A message cut short by the end of input or an error must still have been a valid prefix.
        if *opcode == OpCode::Text && *rsv == 0 {
            assert!(is_utf8_prefix(bytes));
        }
    }
    // The same bytes at once, whole frames: the same complete frames, the same error.
    let whole_config = DecoderConfig {
        delivery: Delivery::WholeFrames,
        ..config
    };
    let (whole, whole_error) = decode_chunked(whole_config, &[0; 8], input.stream);
    assert_eq!(chunked.records, whole.records, "frames depend on chunking");
    assert_eq!(error, whole_error, "the error depends on chunking");
}
