//! A whole `Connection` driven by a script: received bytes (raw, or encoded frames) through both
//! `handle_input` and `read_buffer`/`handle_read`, interleaved with commands, timeouts, end of stream and
//! partial transmits.
//!
//! Invariants:
//! - events: nothing after a close event or an error (`poll_event` then returns `Ok(None)` for good), at
//!   most one close event; whole messages only in `Messages` mode and fragments only in `Fragments` mode,
//!   with consistent `first`/`fin` flags; text is valid UTF-8 (a valid prefix for unfinished fragments);
//! - received data against a reference: the bytes the connection accepted, decoded again by a `Decoder`
//!   given them all at once (plus the test extension's decoding and checks), give the same messages and
//!   control frames and end the same way (the same error, the same close, or waiting for more); after a
//!   timeout, the connection's events are a prefix of the reference's;
//! - states move only along the close table; `should_close_transport` agrees with the state;
//! - commands: nothing but `SendError::Closed` once the state is not `Open`; no message or control frame
//!   accepted while the output is non-empty and at its limit, `BufferFull` only then; a message is refused
//!   while a fragmented one is being sent;
//! - the output: everything transmitted splits into complete frames, masked exactly when this is a client,
//!   with valid opcodes, RSV bits only on a message's first frame and only the extension's, control frames
//!   final and at most 125 bytes, continuations only inside a message, fragment size respected; the
//!   messages it carries (after the extension's decoding) are exactly those sent, text is UTF-8; pings are
//!   ours (plus empty keepalive pings), pongs ours or answers to received pings; at most one close frame,
//!   with the right body (ours, the peer's code echoed, or the error's code), and nothing after it but
//!   pongs answering pings that arrived after our own close;
//! - `buffered_output()` stays within the output limit plus the largest message accepted plus two control
//!   frames (and a keepalive ping per timeout call): a peer that pings without reading cannot grow it;
//! - time: a `handle_timeout` before `poll_timeout`'s deadline (or with none) changes nothing, and calling
//!   it at a fixed instant makes the deadline move past that instant within a few calls.

use core::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use wslane::close::parse_close_body;
use wslane::decoder::{Decoded, Decoder, DecoderConfig, Delivery, Item};
use wslane::frame::MAX_CONTROL_PAYLOAD;
use wslane::utf8::Utf8Validator;
use wslane::{
    CloseCode, Config, Connection, DataKind, Error, Event, Instant, OpCode, ProtocolError,
    ReceiveMode, Role, SendError, State,
};

use crate::wire::{encode_frame, split_frames};
use crate::{hex, is_utf8_prefix, known, Doubler, DOUBLER_RSV};

/// The connection's settings.
#[derive(Arbitrary, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Setup {
    /// Bit 0: server (else client). Bit 1: `ReceiveMode::Fragments`. Bit 2: auto-pong off. Bit 3:
    /// keepalive on. Bit 4: the [`Doubler`] extension installed. Bit 5: `fragment_size` set.
    pub flags: u8,
    /// `max_frame_size`; 0 keeps the default.
    pub max_frame: u16,
    /// `max_message_size`; 0 keeps the default.
    pub max_message: u16,
    /// `max_output_buffer`; `u16::MAX` keeps the default.
    pub max_output: u16,
    /// `fragment_size` when bit 5 is set.
    pub fragment_size: u8,
    /// The keepalive's ping interval, and its pong timeout, in milliseconds when bit 3 is set.
    pub keepalive_ms: u16,
    /// The close timeout in milliseconds.
    pub close_timeout_ms: u16,
    /// Seeds the client's masking keys.
    pub key_seed: u8,
}

/// Flag bits of [`Setup::flags`].
pub mod flags {
    /// The server role.
    pub const SERVER: u8 = 1;
    /// `ReceiveMode::Fragments`.
    pub const FRAGMENTS: u8 = 2;
    /// Auto-pong off.
    pub const NO_AUTO_PONG: u8 = 4;
    /// Keepalive on.
    pub const KEEPALIVE: u8 = 8;
    /// The test extension installed.
    pub const EXTENSION: u8 = 16;
    /// `fragment_size` set.
    pub const FRAGMENT_SIZE: u8 = 32;
}

impl Setup {
    /// The bytes that decode to this setup.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.flags];
        out.extend_from_slice(&self.max_frame.to_le_bytes());
        out.extend_from_slice(&self.max_message.to_le_bytes());
        out.extend_from_slice(&self.max_output.to_le_bytes());
        out.push(self.fragment_size);
        out.extend_from_slice(&self.keepalive_ms.to_le_bytes());
        out.extend_from_slice(&self.close_timeout_ms.to_le_bytes());
        out.push(self.key_seed);
        out
    }

    fn role(&self) -> Role {
        if self.flags & flags::SERVER != 0 {
            Role::Server
        } else {
            Role::Client
        }
    }

    fn extension(&self) -> bool {
        self.flags & flags::EXTENSION != 0
    }

    /// The connection configuration.
    pub fn config(&self) -> Config {
        let mut config = Config::default();
        if self.max_frame != 0 {
            config.max_frame_size = usize::from(self.max_frame);
        }
        if self.max_message != 0 {
            config.max_message_size = usize::from(self.max_message);
        }
        if self.max_output != u16::MAX {
            config.max_output_buffer = usize::from(self.max_output);
        }
        config.receive_mode = if self.flags & flags::FRAGMENTS != 0 {
            ReceiveMode::Fragments
        } else {
            ReceiveMode::Messages
        };
        config.auto_pong = self.flags & flags::NO_AUTO_PONG == 0;
        config.ping_interval = (self.flags & flags::KEEPALIVE != 0)
            .then(|| Duration::from_millis(self.keepalive_ms.into()));
        config.pong_timeout = Duration::from_millis(self.keepalive_ms.into());
        // The write timeout drops the output, which the wire checks do not model: off here.
        config.write_timeout = None;
        config.fragment_size =
            (self.flags & flags::FRAGMENT_SIZE != 0).then_some(usize::from(self.fragment_size));
        config.close_timeout = Duration::from_millis(self.close_timeout_ms.into());
        config
    }
}

/// One step of the script. The byte format is in [`Op::decode`]; data fields are at most 255 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Received bytes, through `handle_input`.
    Input(Vec<u8>),
    /// Received bytes, through `read_buffer(16 * min)` and `handle_read`.
    Read {
        /// A sixteenth of the room asked for.
        min: u8,
        /// The bytes.
        data: Vec<u8>,
    },
    /// A received frame with any first byte (FIN, RSV, opcode) and the minimal length encoding.
    Frame {
        /// FIN, RSV and opcode, as on the wire.
        b0: u8,
        /// The masking key.
        mask: Option<[u8; 4]>,
        /// Where to cut the frame between `handle_input` and `handle_read` (0: not cut).
        split: u8,
        /// The payload.
        payload: Vec<u8>,
    },
    /// Drain `poll_event`.
    Poll,
    /// `send_text` (the bytes made UTF-8, lossily).
    SendText(Vec<u8>),
    /// `send_binary`.
    SendBinary(Vec<u8>),
    /// `send_fragment`. Flags bit 0: text (else binary); bit 1: fin.
    SendFragment {
        /// Flag bits.
        flags: u8,
        /// The piece (made UTF-8 for text).
        data: Vec<u8>,
    },
    /// `ping`.
    Ping(Vec<u8>),
    /// `pong`.
    Pong(Vec<u8>),
    /// `close` with a code (1000 when not in 1000..=4999) and a reason (made UTF-8).
    Close {
        /// The code.
        code: u16,
        /// The reason.
        reason: Vec<u8>,
    },
    /// Advance the clock this many milliseconds and call `handle_timeout`.
    Timeout(u16),
    /// `handle_eof`.
    Eof,
    /// Transmit this many bytes of `poll_transmit` (`u16::MAX`: all).
    Transmit(u16),
    /// Move the clock to `poll_timeout`'s deadline and call `handle_timeout` until it moves past.
    Drive,
    /// `send_raw`. Flags bit 0: text.
    SendRaw {
        /// Flag bits.
        flags: u8,
        /// The message (made UTF-8 for text).
        data: Vec<u8>,
    },
    /// A received frame with a payload of `len` copies of `fill`, for long frames.
    LongFrame {
        /// FIN, RSV and opcode, as on the wire.
        b0: u8,
        /// The masking key.
        mask: Option<[u8; 4]>,
        /// As in [`Op::Frame`].
        split: u8,
        /// The payload length.
        len: u16,
        /// The payload byte.
        fill: u8,
    },
}

/// Reads a script.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }

    fn key(&mut self) -> Option<[u8; 4]> {
        Some([self.u8()?, self.u8()?, self.u8()?, self.u8()?])
    }

    /// A length byte, then up to that many bytes.
    fn data(&mut self) -> Option<Vec<u8>> {
        let len = usize::from(self.u8()?).min(self.0.len());
        let (data, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(data.to_vec())
    }
}

impl Op {
    /// Reads one step: a tag byte (taken modulo 16, in the order of the variants), then the fields in
    /// order. `u16`s are little-endian; data is a length byte and the bytes; a frame's second byte holds
    /// "masked" in bit 0 and `split` above it, and the key follows it when masked.
    fn decode(c: &mut Cursor<'_>) -> Option<Op> {
        Some(match c.u8()? % 16 {
            0 => Op::Input(c.data()?),
            1 => Op::Read {
                min: c.u8()?,
                data: c.data()?,
            },
            2 => {
                let b0 = c.u8()?;
                let b1 = c.u8()?;
                let mask = if b1 & 1 != 0 { Some(c.key()?) } else { None };
                Op::Frame {
                    b0,
                    mask,
                    split: b1 >> 1,
                    payload: c.data()?,
                }
            }
            3 => Op::Poll,
            4 => Op::SendText(c.data()?),
            5 => Op::SendBinary(c.data()?),
            6 => Op::SendFragment {
                flags: c.u8()?,
                data: c.data()?,
            },
            7 => Op::Ping(c.data()?),
            8 => Op::Pong(c.data()?),
            9 => Op::Close {
                code: c.u16()?,
                reason: c.data()?,
            },
            10 => Op::Timeout(c.u16()?),
            11 => Op::Eof,
            12 => Op::Transmit(c.u16()?),
            13 => Op::Drive,
            14 => Op::SendRaw {
                flags: c.u8()?,
                data: c.data()?,
            },
            _ => {
                let b0 = c.u8()?;
                let b1 = c.u8()?;
                let len = c.u16()?;
                let fill = c.u8()?;
                let mask = if b1 & 1 != 0 { Some(c.key()?) } else { None };
                Op::LongFrame {
                    b0,
                    mask,
                    split: b1 >> 1,
                    len,
                    fill,
                }
            }
        })
    }

    /// The bytes [`Op::decode`] reads back as this step. Panics on data over 255 bytes or a `split` over 127.
    pub fn encode(&self) -> Vec<u8> {
        fn data(out: &mut Vec<u8>, data: &[u8]) {
            out.push(u8::try_from(data.len()).expect("data of at most 255 bytes"));
            out.extend_from_slice(data);
        }
        fn b1(mask: &Option<[u8; 4]>, split: u8) -> u8 {
            assert!(split < 128);
            (split << 1) | u8::from(mask.is_some())
        }
        let mut out = Vec::new();
        match self {
            Op::Input(d) => {
                out.push(0);
                data(&mut out, d);
            }
            Op::Read { min, data: d } => {
                out.extend_from_slice(&[1, *min]);
                data(&mut out, d);
            }
            Op::Frame {
                b0,
                mask,
                split,
                payload,
            } => {
                out.extend_from_slice(&[2, *b0, b1(mask, *split)]);
                out.extend_from_slice(mask.as_ref().map_or(&[][..], |k| &k[..]));
                data(&mut out, payload);
            }
            Op::Poll => out.push(3),
            Op::SendText(d) => {
                out.push(4);
                data(&mut out, d);
            }
            Op::SendBinary(d) => {
                out.push(5);
                data(&mut out, d);
            }
            Op::SendFragment { flags, data: d } => {
                out.extend_from_slice(&[6, *flags]);
                data(&mut out, d);
            }
            Op::Ping(d) => {
                out.push(7);
                data(&mut out, d);
            }
            Op::Pong(d) => {
                out.push(8);
                data(&mut out, d);
            }
            Op::Close { code, reason } => {
                out.push(9);
                out.extend_from_slice(&code.to_le_bytes());
                data(&mut out, reason);
            }
            Op::Timeout(ms) => {
                out.push(10);
                out.extend_from_slice(&ms.to_le_bytes());
            }
            Op::Eof => out.push(11),
            Op::Transmit(n) => {
                out.push(12);
                out.extend_from_slice(&n.to_le_bytes());
            }
            Op::Drive => out.push(13),
            Op::SendRaw { flags, data: d } => {
                out.extend_from_slice(&[14, *flags]);
                data(&mut out, d);
            }
            Op::LongFrame {
                b0,
                mask,
                split,
                len,
                fill,
            } => {
                out.extend_from_slice(&[15, *b0, b1(mask, *split)]);
                out.extend_from_slice(&len.to_le_bytes());
                out.push(*fill);
                out.extend_from_slice(mask.as_ref().map_or(&[][..], |k| &k[..]));
            }
        }
        out
    }
}

/// The target's input: a setup, then the script.
#[derive(Arbitrary, Debug)]
pub struct Input<'a> {
    /// The settings.
    pub setup: Setup,
    /// Steps, as [`Op::decode`] reads them.
    pub script: &'a [u8],
}

/// Encodes a setup and steps as a target input.
pub fn encode_input(setup: &Setup, ops: &[Op]) -> Vec<u8> {
    let mut out = setup.to_bytes();
    for op in ops {
        out.extend_from_slice(&op.encode());
    }
    out
}

/// What was received, as the application sees it once fragments are joined.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rec {
    Message(OpCode, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
}

/// How the receiving side ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Still open.
    None,
    /// The peer's close frame, with its code (1005 for none).
    PeerClose(u16),
    /// End of stream without a close frame (1006).
    Abnormal,
    /// A protocol error.
    Protocol(ProtocolError),
    /// A keepalive or close timeout.
    Timeout(Error),
}

/// How the reference decoding ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefEnd {
    NeedMore,
    Close,
    Error(ProtocolError),
}

/// The receiving side's log and checks.
struct Received {
    mode: ReceiveMode,
    records: Vec<Rec>,
    end: End,
    /// A fragmented message being received in `Fragments` mode.
    fragments: Option<(OpCode, Vec<u8>)>,
    /// Payloads of received pings, which pongs may answer.
    pings: Vec<Vec<u8>>,
}

impl Received {
    fn event(&mut self, event: &Event<'_>) {
        assert_eq!(
            self.end,
            End::None,
            "event {event:?} after the end ({:?})",
            self.end
        );
        match *event {
            Event::Text(text) => {
                assert_eq!(
                    self.mode,
                    ReceiveMode::Messages,
                    "whole message in Fragments mode"
                );
                self.records
                    .push(Rec::Message(OpCode::Text, text.as_bytes().to_vec()));
            }
            Event::Binary(data) => {
                assert_eq!(
                    self.mode,
                    ReceiveMode::Messages,
                    "whole message in Fragments mode"
                );
                self.records
                    .push(Rec::Message(OpCode::Binary, data.to_vec()));
            }
            Event::Fragment(fragment) => {
                assert_eq!(
                    self.mode,
                    ReceiveMode::Fragments,
                    "fragment in Messages mode"
                );
                let opcode = fragment.kind.opcode();
                assert!(
                    matches!(opcode, OpCode::Text | OpCode::Binary),
                    "fragment of {opcode:?}"
                );
                match &self.fragments {
                    None => assert!(fragment.first, "first fragment without `first`"),
                    Some((current, _)) => {
                        assert!(!fragment.first, "`first` inside a message");
                        assert_eq!(*current, opcode, "fragment changed the message's opcode");
                    }
                }
                let (_, bytes) = self.fragments.get_or_insert_with(|| (opcode, Vec::new()));
                bytes.extend_from_slice(fragment.data);
                if opcode == OpCode::Text {
                    assert!(
                        is_utf8_prefix(bytes),
                        "text fragments are not UTF-8: {}",
                        hex(bytes)
                    );
                }
                if fragment.fin {
                    let (_, bytes) = self.fragments.take().expect("message in progress");
                    if opcode == OpCode::Text {
                        assert!(
                            core::str::from_utf8(&bytes).is_ok(),
                            "text is not UTF-8: {}",
                            hex(&bytes)
                        );
                    }
                    self.records.push(Rec::Message(opcode, bytes));
                }
            }
            Event::Ping(data) => {
                assert!(data.len() <= MAX_CONTROL_PAYLOAD);
                self.pings.push(data.to_vec());
                self.records.push(Rec::Ping(data.to_vec()));
            }
            Event::Pong(data) => {
                assert!(data.len() <= MAX_CONTROL_PAYLOAD);
                self.records.push(Rec::Pong(data.to_vec()));
            }
            Event::Close { code, reason } => {
                if code == CloseCode::ABNORMAL_CLOSURE {
                    assert!(reason.is_empty(), "reason on a local 1006");
                    self.end = End::Abnormal;
                } else {
                    assert!(
                        code.is_sendable() || code == CloseCode::NO_STATUS_RECEIVED,
                        "close event with code {code}"
                    );
                    assert!(reason.len() <= 123);
                    self.records.push(Rec::Close(code.get(), reason.into()));
                    self.end = End::PeerClose(code.get());
                }
            }
        }
    }

    fn error(&mut self, error: Error) {
        assert_eq!(
            self.end,
            End::None,
            "error {error:?} after the end ({:?})",
            self.end
        );
        self.end = match error {
            Error::Protocol(err) => End::Protocol(err),
            other => End::Timeout(other),
        };
    }
}

/// What was sent, for checking the output.
#[derive(Default)]
struct Sent {
    /// Messages: opcode, bytes, complete.
    messages: Vec<(OpCode, Vec<u8>, bool)>,
    /// A message is being sent in fragments.
    fragmenting: bool,
    used_send_fragment: bool,
    pings: Vec<Vec<u8>>,
    pongs: Vec<Vec<u8>>,
    close: Option<Vec<u8>>,
    /// The most a single accepted send added to the output.
    largest: usize,
}

struct Run {
    setup: Setup,
    config: Config,
    role: Role,
    conn: Connection,
    now: u64,
    timeouts: usize,
    /// `poll_transmit` calls (each may write a held pong).
    transmits: usize,
    state: State,
    /// Every byte the connection accepted as received.
    rx_log: Vec<u8>,
    /// Every byte transmitted.
    wire: Vec<u8>,
    received: Received,
    sent: Sent,
}

/// Upper bound on one control frame: a 125-byte payload, a 2-byte length and a masking key.
const CONTROL_FRAME: usize = 2 + 4 + MAX_CONTROL_PAYLOAD;

impl Run {
    fn new(setup: Setup) -> Run {
        let config = setup.config();
        let role = setup.role();
        let conn = match role {
            Role::Server => Connection::server(Instant::ZERO, config),
            Role::Client => {
                let mut state = u32::from(setup.key_seed);
                Connection::client(Instant::ZERO, config, move || {
                    state = state.wrapping_mul(0x9e37_79b1).wrapping_add(0x7f4a_7c15);
                    state.to_le_bytes()
                })
            }
        };
        let conn = if setup.extension() {
            conn.with_extension(Box::new(Doubler))
        } else {
            conn
        };
        Run {
            setup,
            config,
            role,
            conn,
            now: 0,
            timeouts: 0,
            transmits: 0,
            state: State::Open,
            rx_log: Vec::new(),
            wire: Vec::new(),
            received: Received {
                mode: config.receive_mode,
                records: Vec::new(),
                end: End::None,
                fragments: None,
                pings: Vec::new(),
            },
            sent: Sent::default(),
        }
    }

    fn input(&mut self, data: &[u8]) {
        if self.conn.state().can_receive() {
            self.rx_log.extend_from_slice(data);
        }
        self.conn.handle_input(Instant::ZERO, data);
    }

    fn read(&mut self, min: usize, data: &[u8]) {
        let accepting = self.conn.state().can_receive();
        let room = self.conn.read_buffer(min);
        assert!(
            room.len() >= min.max(1),
            "read_buffer({min}) gave {} bytes",
            room.len()
        );
        let n = data.len().min(room.len());
        room[..n].copy_from_slice(&data[..n]);
        if accepting {
            self.rx_log.extend_from_slice(&data[..n]);
        }
        self.conn.handle_read(Instant::ZERO, n);
    }

    fn frame(&mut self, split: u8, bytes: &[u8]) {
        if split == 0 || bytes.len() < 2 {
            self.input(bytes);
        } else {
            let at = usize::from(split) % bytes.len();
            self.input(&bytes[..at]);
            self.read(1, &bytes[at..]);
        }
    }

    fn poll(&mut self) {
        let before = self.conn.buffered_output();
        for _ in 0..100_000 {
            match self.conn.poll_event() {
                Ok(None) => {
                    let after = self.conn.buffered_output();
                    let limit =
                        before.max(self.config.max_output_buffer + CONTROL_FRAME) + CONTROL_FRAME;
                    assert!(
                        after <= limit,
                        "receiving grew the output from {before} to {after} bytes"
                    );
                    return;
                }
                Ok(Some(event)) => self.received.event(&event),
                Err(error) => {
                    self.received.error(error);
                    assert_eq!(
                        self.conn.state(),
                        State::Failed,
                        "error {error:?} but not failed"
                    );
                }
            }
        }
        panic!("poll_event returned events without end");
    }

    /// Runs a send command and checks the result against the state before it.
    fn send(
        &mut self,
        f: impl FnOnce(&mut Connection) -> Result<(), SendError>,
    ) -> Result<(), SendError> {
        let state = self.conn.state();
        let before = self.conn.buffered_output();
        let result = f(&mut self.conn);
        if state != State::Open {
            assert_eq!(
                result,
                Err(SendError::Closed),
                "a command in state {state:?}"
            );
        }
        if result.is_ok() {
            assert!(
                before == 0 || before < self.config.max_output_buffer,
                "accepted with {before} bytes buffered, limit {}",
                self.config.max_output_buffer
            );
            let added = self.conn.buffered_output() - before;
            self.sent.largest = self.sent.largest.max(added);
        }
        if result == Err(SendError::BufferFull) {
            assert!(
                before > 0 && before >= self.config.max_output_buffer,
                "BufferFull below the limit"
            );
        }
        result
    }

    fn send_message(&mut self, opcode: OpCode, raw: bool, data: &[u8]) {
        let text = String::from_utf8_lossy(data).into_owned();
        let bytes = if opcode == OpCode::Text {
            text.as_bytes().to_vec()
        } else {
            data.to_vec()
        };
        let fragmenting = self.sent.fragmenting;
        let result = self.send(|conn| match (raw, opcode) {
            (true, _) => conn.sender().send_raw(kind_of(opcode), &bytes),
            (false, OpCode::Text) => conn.sender().send_text(&text),
            (false, _) => conn.sender().send_binary(&bytes),
        });
        if fragmenting && self.state == State::Open {
            assert_eq!(
                result,
                Err(SendError::MessageInProgress),
                "a message while a fragmented one is being sent"
            );
        }
        if result.is_ok() {
            self.sent.messages.push((opcode, bytes, true));
        }
    }

    fn send_fragment(&mut self, flags: u8, data: &[u8]) {
        let opcode = if flags & 1 != 0 {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        let fin = flags & 2 != 0;
        let bytes = match opcode {
            OpCode::Text => String::from_utf8_lossy(data).into_owned().into_bytes(),
            _ => data.to_vec(),
        };
        let continuing = self.sent.fragmenting;
        let result = self.send(|conn| conn.sender().send_fragment(kind_of(opcode), &bytes, fin));
        if continuing
            && self.state == State::Open
            && opcode != self.sent.messages.last().expect("message").0
        {
            assert_eq!(
                result,
                Err(SendError::MessageInProgress),
                "continued a message with another opcode"
            );
        }
        if result.is_err() {
            return;
        }
        self.sent.used_send_fragment = true;
        if continuing {
            let last = self.sent.messages.last_mut().expect("message being sent");
            assert_eq!(last.0, opcode, "continued a message with another opcode");
            last.1.extend_from_slice(&bytes);
            last.2 = fin;
        } else {
            self.sent.messages.push((opcode, bytes, fin));
        }
        self.sent.fragmenting = !fin;
    }

    fn close(&mut self, code: u16, reason: &[u8]) {
        let code = CloseCode::new(code).unwrap_or(CloseCode::NORMAL);
        let reason = String::from_utf8_lossy(reason).into_owned();
        let open = self.conn.state() == State::Open;
        let result = self.conn.sender().close(code, &reason);
        let expected = if !open {
            Err(SendError::Closed)
        } else if !code.is_sendable() {
            Err(SendError::InvalidCloseCode(code.get()))
        } else if reason.len() > 123 {
            Err(SendError::ControlTooLong)
        } else {
            Ok(())
        };
        assert_eq!(result, expected, "close({code}, {} bytes)", reason.len());
        if result.is_ok() {
            assert_eq!(self.conn.state(), State::CloseSent);
            let mut body = code.get().to_be_bytes().to_vec();
            body.extend_from_slice(reason.as_bytes());
            self.sent.close = Some(body);
        }
    }

    /// A ping or pong payload's length is checked before the room.
    fn check_control(&self, result: &Result<(), SendError>, len: usize) {
        if self.state == State::Open && len > MAX_CONTROL_PAYLOAD {
            assert_eq!(
                *result,
                Err(SendError::ControlTooLong),
                "control payload of {len} bytes"
            );
        }
    }

    fn timeout(&mut self, advance_ms: u16) {
        self.now += u64::from(advance_ms);
        let now = Instant::from_millis(self.now);
        let deadline = self.conn.poll_timeout();
        let early = deadline.is_none_or(|d| now < d);
        let before = (self.conn.state(), self.conn.buffered_output(), deadline);
        self.conn.handle_timeout(now);
        self.timeouts += 1;
        if early {
            let after = (
                self.conn.state(),
                self.conn.buffered_output(),
                self.conn.poll_timeout(),
            );
            assert_eq!(
                before, after,
                "handle_timeout before the deadline {deadline:?} changed something"
            );
        }
    }

    fn drive(&mut self) {
        let Some(deadline) = self.conn.poll_timeout() else {
            return;
        };
        self.now = self
            .now
            .max(deadline.as_nanos() / 1_000_000 + u64::from(deadline.as_nanos() % 1_000_000 != 0));
        let now = Instant::from_millis(self.now);
        for _ in 0..8 {
            self.conn.handle_timeout(now);
            self.timeouts += 1;
            if self.conn.poll_timeout().is_none_or(|d| d > now) {
                return;
            }
        }
        panic!("the deadline stays at or before {now:?} however often handle_timeout is called");
    }

    fn transmit(&mut self, n: u16) {
        self.transmits += 1;
        let out = self.conn.poll_transmit();
        let n = if n == u16::MAX {
            out.len()
        } else {
            usize::from(n).min(out.len())
        };
        let left = out.len() - n;
        self.wire.extend_from_slice(&out[..n]);
        self.conn
            .advance_transmit(Instant::from_millis(self.now), n);
        assert_eq!(self.conn.buffered_output(), left);
    }

    fn step(&mut self, op: Op) {
        match op {
            Op::Input(data) => self.input(&data),
            Op::Read { min, data } => self.read(16 * usize::from(min), &data),
            Op::Frame {
                b0,
                mask,
                split,
                payload,
            } => {
                let bytes = encode_frame(b0 & 0x80 != 0, b0 >> 4, b0 & 0x0f, mask, &payload);
                self.frame(split, &bytes);
            }
            Op::LongFrame {
                b0,
                mask,
                split,
                len,
                fill,
            } => {
                let payload = vec![fill; usize::from(len)];
                let bytes = encode_frame(b0 & 0x80 != 0, b0 >> 4, b0 & 0x0f, mask, &payload);
                self.frame(split, &bytes);
            }
            Op::Poll => self.poll(),
            Op::SendText(data) => self.send_message(OpCode::Text, false, &data),
            Op::SendBinary(data) => self.send_message(OpCode::Binary, false, &data),
            Op::SendRaw { flags, data } => {
                let opcode = if flags & 1 != 0 {
                    OpCode::Text
                } else {
                    OpCode::Binary
                };
                self.send_message(opcode, true, &data);
            }
            Op::SendFragment { flags, data } => self.send_fragment(flags, &data),
            Op::Ping(data) => {
                let result = self.send(|conn| conn.sender().ping(&data));
                self.check_control(&result, data.len());
                if result.is_ok() {
                    self.sent.pings.push(data);
                }
            }
            Op::Pong(data) => {
                let result = self.send(|conn| conn.sender().pong(&data));
                self.check_control(&result, data.len());
                if result.is_ok() {
                    self.sent.pongs.push(data);
                }
            }
            Op::Close { code, reason } => self.close(code, &reason),
            Op::Timeout(ms) => self.timeout(ms),
            Op::Eof => self.conn.handle_eof(Instant::ZERO),
            Op::Transmit(n) => self.transmit(n),
            Op::Drive => self.drive(),
        }
        self.check_state();
        self.check_output_bound();
    }

    fn check_state(&mut self) {
        let (from, to) = (self.state, self.conn.state());
        let allowed = match from {
            State::Open => true,
            State::CloseSent => to != State::Open,
            State::Closed | State::Failed => to == from,
        };
        assert!(allowed, "state went from {from:?} to {to:?}");
        self.state = to;
        match to {
            State::Failed => assert!(
                self.conn.should_close_transport(),
                "failed but keeps the transport"
            ),
            State::Open | State::CloseSent => {
                assert!(
                    !self.conn.should_close_transport(),
                    "closes the transport in {to:?}"
                )
            }
            State::Closed if self.role == Role::Server => {
                assert!(
                    self.conn.should_close_transport(),
                    "server keeps the transport after the close handshake"
                )
            }
            State::Closed => {}
        }
    }

    fn check_output_bound(&self) {
        let buffered = self.conn.buffered_output();
        let mut bound = self.config.max_output_buffer
            + self.sent.largest.max(CONTROL_FRAME)
            + 2 * CONTROL_FRAME
            + 6 * self.timeouts;
        if known::tolerated("held-pong-growth") {
            bound += CONTROL_FRAME * self.transmits;
        }
        assert!(
            buffered <= bound,
            "{buffered} bytes buffered for output; limit {}, largest message {}, {} timeouts",
            self.config.max_output_buffer,
            self.sent.largest,
            self.timeouts
        );
    }

    fn finish(mut self) {
        self.poll();
        self.transmit(u16::MAX);
        // `poll_transmit` may still add a held pong; take everything.
        while self.conn.buffered_output() > 0 || !self.conn.poll_transmit().is_empty() {
            self.transmit(u16::MAX);
        }
        self.check_received();
        self.check_wire();
    }

    /// The received side against the reference decoding of the accepted bytes.
    fn check_received(&self) {
        let (expected, ref_end) = reference(&self.setup, &self.config, &self.rx_log);
        let records = &self.received.records;
        let context = || format!("received {}", hex(&self.rx_log));
        match self.received.end {
            End::Timeout(_) => {
                assert!(
                    expected.starts_with(records),
                    "events {records:?} vs reference {expected:?}; {}",
                    context()
                )
            }
            end => {
                assert_eq!(
                    records,
                    &expected,
                    "events differ from the reference; {}",
                    context()
                );
                match (end, ref_end) {
                    (End::None | End::Abnormal, RefEnd::NeedMore)
                    | (End::PeerClose(_), RefEnd::Close) => {}
                    (End::Protocol(a), RefEnd::Error(b))
                        if same_error(a, b, self.config.receive_mode) => {}
                    (end, ref_end) => panic!(
                        "ended with {end:?}, the reference with {ref_end:?}; {}",
                        context()
                    ),
                }
            }
        }
    }

    /// The transmitted bytes against what was sent.
    fn check_wire(&self) {
        let frames = split_frames(&self.wire).unwrap_or_else(|err| {
            panic!(
                "output does not split into frames: {err}; {}",
                hex(&self.wire)
            )
        });
        let mut messages: Vec<(OpCode, Vec<u8>, bool)> = Vec::new();
        // The message being read: opcode, RSV bits, payload.
        let mut current: Option<(OpCode, u8, Vec<u8>)> = None;
        let (mut pings, mut pongs, mut closes) = (Vec::new(), Vec::new(), Vec::new());
        let allowed_rsv = if self.setup.extension() {
            DOUBLER_RSV
        } else {
            0
        };
        let finish = |opcode: OpCode, rsv: u8, payload: Vec<u8>| {
            if rsv == 0 {
                return (opcode, payload);
            }
            let mut decoded = Vec::new();
            Doubler::double(&payload, &mut decoded);
            (opcode, decoded)
        };
        for (i, frame) in frames.iter().enumerate() {
            let header = frame.header;
            assert_eq!(
                header.mask.is_some(),
                self.role == Role::Client,
                "frame {i}: masking for {:?}",
                self.role
            );
            // After our own close, pings are still answered until the peer's close arrives (RFC 6455
            // section 5.5.2); nothing else may follow a close frame.
            let answer = header.opcode == OpCode::Pong && self.sent.close.is_some();
            assert!(
                closes.is_empty() || answer,
                "frame {i} ({:?}) sent after the close frame",
                header.opcode
            );
            let payload = frame.payload.clone();
            match header.opcode {
                OpCode::Close | OpCode::Ping | OpCode::Pong => {
                    assert!(
                        header.fin && header.rsv == 0,
                        "frame {i}: control frame header {header:?}"
                    );
                    assert!(
                        payload.len() <= MAX_CONTROL_PAYLOAD,
                        "frame {i}: long control frame"
                    );
                    match header.opcode {
                        OpCode::Close => closes.push(payload),
                        OpCode::Ping => pings.push(payload),
                        _ => pongs.push(payload),
                    }
                }
                OpCode::Text | OpCode::Binary => {
                    assert!(
                        current.is_none(),
                        "frame {i}: new message inside a fragmented one"
                    );
                    assert_eq!(
                        header.rsv & !allowed_rsv,
                        0,
                        "frame {i}: RSV bits {:#05b}",
                        header.rsv
                    );
                    self.check_fragment_size(i, payload.len());
                    if header.fin {
                        let (opcode, bytes) = finish(header.opcode, header.rsv, payload);
                        messages.push((opcode, bytes, true));
                    } else {
                        current = Some((header.opcode, header.rsv, payload));
                    }
                }
                OpCode::Continuation => {
                    assert_eq!(header.rsv, 0, "frame {i}: RSV bits on a continuation");
                    self.check_fragment_size(i, payload.len());
                    let (_, _, bytes) = current
                        .as_mut()
                        .unwrap_or_else(|| panic!("frame {i}: continuation outside a message"));
                    bytes.extend_from_slice(&payload);
                    if header.fin {
                        let (opcode, rsv, payload) = current.take().expect("message");
                        let (opcode, bytes) = finish(opcode, rsv, payload);
                        messages.push((opcode, bytes, true));
                    }
                }
            }
        }
        if let Some((opcode, rsv, payload)) = current {
            let (opcode, bytes) = finish(opcode, rsv, payload);
            messages.push((opcode, bytes, false));
        }
        for (opcode, bytes, complete) in &messages {
            if *opcode == OpCode::Text && *complete {
                assert!(
                    core::str::from_utf8(bytes).is_ok(),
                    "sent text is not UTF-8: {}",
                    hex(bytes)
                );
            }
        }
        assert_eq!(
            messages, self.sent.messages,
            "the output carries other messages than those sent"
        );
        // Our pings in order, and empty keepalive pings.
        let mut ours = self.sent.pings.iter().peekable();
        for ping in &pings {
            if ours.peek() == Some(&ping) {
                ours.next();
            } else {
                assert!(
                    ping.is_empty() && self.config.ping_interval.is_some(),
                    "unexpected ping {}",
                    hex(ping)
                );
            }
        }
        assert!(
            ours.next().is_none(),
            "a ping that was accepted was not sent"
        );
        // Pongs: ours, or answers to received pings.
        if self.config.auto_pong {
            for pong in &pongs {
                assert!(
                    self.sent.pongs.contains(pong) || self.received.pings.contains(pong),
                    "pong {} answers nothing",
                    hex(pong)
                );
            }
            assert!(pongs.len() >= self.sent.pongs.len());
        } else {
            assert_eq!(pongs, self.sent.pongs, "pongs without auto-pong");
        }
        // The close frame.
        assert!(closes.len() <= 1, "{} close frames sent", closes.len());
        let expected_close = match (&self.sent.close, self.received.end) {
            (Some(body), _) => Some(body.clone()),
            (None, End::PeerClose(1005)) => Some(Vec::new()),
            (None, End::PeerClose(code)) => Some(code.to_be_bytes().to_vec()),
            (None, End::Protocol(err)) => Some(err.close_code().get().to_be_bytes().to_vec()),
            // The keepalive runs only while open, so its failure always sends 1011.
            (None, End::Timeout(Error::KeepaliveTimeout)) => {
                let mut body = 1011u16.to_be_bytes().to_vec();
                body.extend_from_slice(b"keepalive timeout");
                Some(body)
            }
            (None, End::None | End::Abnormal | End::Timeout(_)) => None,
        };
        assert_eq!(
            closes.first(),
            expected_close.as_ref(),
            "close frame body (end: {:?})",
            self.received.end
        );
        if let Some(body) = closes.first() {
            if let Ok(Some((code, _))) = parse_close_body(body) {
                assert!(code.is_sendable());
            } else {
                assert!(body.is_empty(), "invalid close body {}", hex(body));
            }
        }
    }

    fn check_fragment_size(&self, i: usize, len: usize) {
        if let (Some(size), false) = (self.config.fragment_size, self.sent.used_send_fragment) {
            assert!(
                len <= size.max(1),
                "frame {i}: {len} bytes, over the fragment size {size}"
            );
        }
    }
}

/// Whether the connection's error matches the reference's. In `Fragments` mode an extension's output is
/// checked per chunk rather than per frame, so inside one frame its size limit and its UTF-8 check may be
/// met in either order; the size limit's `max` is what the extension was told, which may be the room left.
fn same_error(a: ProtocolError, b: ProtocolError, mode: ReceiveMode) -> bool {
    let size = |e: ProtocolError| matches!(e, ProtocolError::MessageTooLarge { .. });
    let ext = |e: ProtocolError| size(e) || e == ProtocolError::InvalidUtf8;
    a == b || (size(a) && size(b)) || (mode == ReceiveMode::Fragments && ext(a) && ext(b))
}

/// The accepted bytes decoded at once by a `Decoder`, with the extension's decoding and checks as the
/// connection does them; stops at a close frame or an error. The delivery is the connection's, so in
/// `Fragments` mode the payload of a last, incomplete frame is decoded (and checked) too.
fn reference(setup: &Setup, config: &Config, rx: &[u8]) -> (Vec<Rec>, RefEnd) {
    let mut decoder = Decoder::new(DecoderConfig {
        role: setup.role(),
        max_frame_size: config.max_frame_size as u64,
        max_message_size: config.max_message_size as u64,
        extension_rsv: if setup.extension() { DOUBLER_RSV } else { 0 },
        delivery: match config.receive_mode {
            ReceiveMode::Messages => Delivery::WholeFrames,
            ReceiveMode::Fragments => Delivery::Streaming,
        },
    });
    let mut buf = rx.to_vec();
    let mut pos = 0;
    let mut records = Vec::new();
    let mut message: Option<(OpCode, Vec<u8>)> = None;
    let mut utf8 = Utf8Validator::new();
    let max = config.max_message_size;
    loop {
        let (consumed, item) = match decoder.decode(&mut buf[pos..]) {
            Ok(Decoded::NeedMore { .. }) => return (records, RefEnd::NeedMore),
            Err(err) => return (records, RefEnd::Error(err)),
            Ok(Decoded::Item { consumed, item }) => (consumed, item),
        };
        let payload = item.payload(&buf[pos..]);
        match item {
            Item::Data(chunk) => {
                if chunk.first {
                    message = Some((chunk.kind.opcode(), Vec::new()));
                }
                let (opcode, bytes) = message.as_mut().expect("message in progress");
                if chunk.rsv == 0 {
                    bytes.extend_from_slice(payload);
                } else {
                    let before = bytes.len();
                    if before + 2 * payload.len() > max {
                        return (
                            records,
                            RefEnd::Error(ProtocolError::MessageTooLarge { max: max as u64 }),
                        );
                    }
                    Doubler::double(payload, bytes);
                    if *opcode == OpCode::Text {
                        let bad = utf8.feed(&bytes[before..]).is_err()
                            || (chunk.message_end && utf8.finish().is_err());
                        if bad {
                            return (records, RefEnd::Error(ProtocolError::InvalidUtf8));
                        }
                    }
                }
                if chunk.message_end {
                    let (opcode, bytes) = message.take().expect("message in progress");
                    records.push(Rec::Message(opcode, bytes));
                }
            }
            Item::Ping(_) => records.push(Rec::Ping(payload.to_vec())),
            Item::Pong(_) => records.push(Rec::Pong(payload.to_vec())),
            Item::Close(body) => {
                let reason = String::from_utf8(payload.to_vec()).expect("the decoder checks UTF-8");
                let (code, reason) = body.map_or((1005, String::new()), |(c, _)| (c.get(), reason));
                records.push(Rec::Close(code, reason));
                return (records, RefEnd::Close);
            }
        }
        pos += consumed;
    }
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut run = Run::new(input.setup);
    let mut script = Cursor(input.script);
    let mut steps = 0;
    while let Some(op) = Op::decode(&mut script) {
        run.step(op);
        steps += 1;
        if steps > 4096 {
            break;
        }
    }
    run.finish();
}

/// The message type of a data opcode (the target only ever sends text or binary).
fn kind_of(opcode: OpCode) -> DataKind {
    DataKind::from_opcode(opcode).unwrap_or(DataKind::Binary)
}
