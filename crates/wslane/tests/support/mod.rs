//! Shared helpers for the integration tests: a raw frame builder that can break every rule, a parser for
//! what a connection transmits, owned copies of events, and a client and a server joined in memory.
//!
//! Each test file uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use wslane::frame::{apply_mask_reference, Parsed};
use wslane::{
    CloseCode, Config, Connection, Error, Event, FrameHeader, OpCode, ProtocolError, Role, State,
};
use wslane::{DataKind, Instant};

/// The masking key of the RFC 6455 section 5.7 examples.
pub(crate) const RFC_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// First-byte pieces for [`frame`]: FIN, the RSV bits and the opcodes.
pub(crate) const FIN: u8 = 0x80;
pub(crate) const RSV1: u8 = 0x40;
pub(crate) const RSV2: u8 = 0x20;
pub(crate) const RSV3: u8 = 0x10;
pub(crate) const CONT: u8 = 0x0;
pub(crate) const TEXT: u8 = 0x1;
pub(crate) const BINARY: u8 = 0x2;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PING: u8 = 0x9;
pub(crate) const PONG: u8 = 0xa;

/// How a header spells the payload length, so tests can write non-minimal and overflowing encodings.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Len {
    /// The shortest encoding of this length.
    Minimal(u64),
    /// The 16-bit form (`126` then two bytes), whatever the value.
    U16(u16),
    /// The 64-bit form (`127` then eight bytes), whatever the value.
    U64(u64),
}

/// A header with first byte `b0`, an optional masking key and the length spelled as `len` says.
pub(crate) fn header_bytes(b0: u8, mask: Option<[u8; 4]>, len: Len) -> Vec<u8> {
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut out = vec![b0];
    match len {
        Len::Minimal(n) if n <= 125 => out.push(mask_bit | n as u8),
        Len::Minimal(n) if n <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        Len::Minimal(n) | Len::U64(n) => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Len::U16(n) => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    out
}

/// A whole frame: first byte `b0` (FIN, RSV bits and a raw opcode, reserved ones included), the payload
/// masked with `mask` when given, its length in minimal encoding.
pub(crate) fn frame(b0: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = header_bytes(b0, mask, Len::Minimal(payload.len() as u64));
    let at = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask_reference(&mut out[at..], key, 0);
    }
    out
}

/// The masking a peer of `receiver` uses: a server receives masked frames, a client unmasked ones.
pub(crate) fn mask_for(receiver: Role) -> Option<[u8; 4]> {
    match receiver {
        Role::Server => Some(RFC_KEY),
        Role::Client => None,
    }
}

/// A correctly masked (or unmasked) frame as the peer of `receiver` would send it.
pub(crate) fn frame_to(receiver: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, mask_for(receiver), payload)
}

/// A close frame body: the code, then the reason.
pub(crate) fn close_body(code: u16, reason: &str) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(reason.as_bytes());
    body
}

/// A connection in `role` with `config`; a client's keys are a fixed, recognisable sequence.
pub(crate) fn connection(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(Instant::ZERO, config),
        Role::Client => Connection::client(Instant::ZERO, config, counting_keys(0x10)),
    }
}

/// Masking keys `[n, n+1, n+2, n+3]`, `[n+4, ...]` and so on: deterministic, and a different key per frame.
pub(crate) fn counting_keys(start: u8) -> impl FnMut() -> [u8; 4] + Send + 'static {
    let mut next = start;
    move || {
        let key = core::array::from_fn(|i| next.wrapping_add(i as u8));
        next = next.wrapping_add(4);
        key
    }
}

/// A frame parsed back from a connection's output, payload unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sent {
    pub(crate) fin: bool,
    pub(crate) rsv: u8,
    pub(crate) opcode: OpCode,
    pub(crate) masked: bool,
    pub(crate) payload: Vec<u8>,
}

impl Sent {
    /// A close frame's status code, `None` for an empty close body. Panics on any other frame.
    pub(crate) fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, OpCode::Close, "not a close frame: {self:?}");
        match self.payload[..] {
            [] => None,
            [hi, lo, ..] => Some(u16::from_be_bytes([hi, lo])),
            [_] => panic!("close frame with a 1-byte body"),
        }
    }
}

/// Parses a byte stream of whole frames with [`FrameHeader::parse`]; panics if it is not exactly that.
pub(crate) fn parse_frames(mut bytes: &[u8]) -> Vec<Sent> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (header, len) = match FrameHeader::parse(bytes) {
            Ok(Parsed::Complete { header, len }) => (header, len),
            other => panic!("output is not whole frames: {other:?} at {bytes:02x?}"),
        };
        let end = len + header.payload_len as usize;
        assert!(end <= bytes.len(), "output ends inside a frame");
        let mut payload = bytes[len..end].to_vec();
        if let Some(key) = header.mask {
            apply_mask_reference(&mut payload, key, 0);
        }
        frames.push(Sent {
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode,
            masked: header.mask.is_some(),
            payload,
        });
        bytes = &bytes[end..];
    }
    frames
}

/// Takes everything `conn` has to transmit, parsed into frames, and checks each is masked as its role requires.
pub(crate) fn take_sent(conn: &mut Connection) -> Vec<Sent> {
    let bytes = conn.poll_transmit().to_vec();
    conn.advance_transmit(Instant::ZERO, bytes.len());
    let frames = parse_frames(&bytes);
    for frame in &frames {
        assert_eq!(
            frame.masked,
            conn.role() == Role::Client,
            "masking by role: {frame:?}"
        );
    }
    frames
}

/// An owned copy of an [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
    Text(String),
    Binary(Vec<u8>),
    Fragment {
        kind: DataKind,
        data: Vec<u8>,
        first: bool,
        fin: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close {
        code: u16,
        reason: String,
    },
}

impl Ev {
    pub(crate) fn of(event: &Event<'_>) -> Ev {
        match *event {
            Event::Text(text) => Ev::Text(text.into()),
            Event::Binary(data) => Ev::Binary(data.into()),
            Event::Fragment(f) => Ev::Fragment {
                kind: f.kind,
                data: f.data.into(),
                first: f.first,
                fin: f.fin,
            },
            Event::Ping(data) => Ev::Ping(data.into()),
            Event::Pong(data) => Ev::Pong(data.into()),
            Event::Close { code, reason } => Ev::Close {
                code: code.get(),
                reason: reason.into(),
            },
        }
    }

    pub(crate) fn close(code: u16, reason: &str) -> Ev {
        Ev::Close {
            code,
            reason: reason.into(),
        }
    }
}

/// Polls events until the connection wants more input; panics on an error.
pub(crate) fn events(conn: &mut Connection) -> Vec<Ev> {
    match poll_all(conn) {
        (events, None) => events,
        (events, Some(err)) => panic!("unexpected error {err:?} after {events:?}"),
    }
}

/// Polls events until the connection wants more input or fails; returns them and the error, if any.
pub(crate) fn poll_all(conn: &mut Connection) -> (Vec<Ev>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match conn.poll_event() {
            Ok(Some(event)) => out.push(Ev::of(&event)),
            Ok(None) => return (out, None),
            Err(err) => return (out, Some(err)),
        }
    }
}

/// Feeds `input` and polls until the connection fails; returns the events before the failure and the
/// protocol error. Panics if it does not fail.
pub(crate) fn feed_until_error(conn: &mut Connection, input: &[u8]) -> (Vec<Ev>, ProtocolError) {
    conn.handle_input(Instant::ZERO, input);
    match poll_all(conn) {
        (events, Some(Error::Protocol(err))) => (events, err),
        (events, other) => panic!("expected a protocol error, got {other:?} after {events:?}"),
    }
}

/// Checks everything a failure must leave behind, after `poll_event` returned `err`: the error's close code is
/// `code`; a close frame with exactly that code is the last frame queued (when `close_queued`); the transport
/// should be closed; and no later input produces an event or output.
pub(crate) fn assert_failed_with(
    conn: &mut Connection,
    err: ProtocolError,
    code: u16,
    close_queued: bool,
) {
    assert_eq!(err.close_code().get(), code, "close code of {err:?}");
    assert_eq!(Error::Protocol(err).close_code().get(), code);
    let sent = take_sent(conn);
    let closes: Vec<&Sent> = sent.iter().filter(|f| f.opcode == OpCode::Close).collect();
    if close_queued {
        let last = sent.last().expect("a close frame is queued");
        assert_eq!(
            last.opcode,
            OpCode::Close,
            "the close frame is the last frame queued"
        );
        assert_eq!(last.close_code(), Some(code));
        assert_eq!(
            last.payload.len(),
            2,
            "the failure's close frame carries the code only"
        );
        assert_eq!(closes.len(), 1);
    } else {
        assert!(closes.is_empty(), "no second close frame: {sent:?}");
    }
    assert_eq!(conn.state(), State::Failed);
    assert!(conn.should_close_transport());
    // The error was reported once; nothing is read any more.
    assert_eq!(conn.poll_event(), Ok(None));
    let role = conn.role();
    conn.handle_input(
        Instant::ZERO,
        &frame_to(role, FIN | TEXT, b"after the failure"),
    );
    conn.handle_input(Instant::ZERO, &frame_to(role, FIN | PING, b"ping"));
    assert_eq!(conn.poll_event(), Ok(None));
    assert!(
        conn.poll_transmit().is_empty(),
        "no output after the failure"
    );
    assert!(conn.should_close_transport());
}

/// Feeds `input` to a fresh connection in `role` and checks that it fails with `expected`, close code `code`,
/// and everything [`assert_failed_with`] checks. Returns the events delivered before the failure.
pub(crate) fn assert_rejects(
    role: Role,
    config: Config,
    input: &[u8],
    expected: ProtocolError,
    code: u16,
) -> Vec<Ev> {
    let mut conn = connection(role, config);
    let (events, err) = feed_until_error(&mut conn, input);
    assert_eq!(err, expected, "input {input:02x?}");
    assert_failed_with(&mut conn, err, code, true);
    events
}

/// A client and a server joined in memory.
pub(crate) struct Pair {
    pub(crate) client: Connection,
    pub(crate) server: Connection,
}

impl Pair {
    pub(crate) fn new(config: Config) -> Pair {
        Pair::with_configs(config, config)
    }

    pub(crate) fn with_configs(client: Config, server: Config) -> Pair {
        Pair {
            client: Connection::client(Instant::ZERO, client, counting_keys(0x40)),
            server: Connection::server(Instant::ZERO, server),
        }
    }

    /// Moves everything the client has to transmit to the server; returns the byte count.
    pub(crate) fn client_to_server(&mut self) -> usize {
        carry(&mut self.client, &mut self.server)
    }

    /// Moves everything the server has to transmit to the client; returns the byte count.
    pub(crate) fn server_to_client(&mut self) -> usize {
        carry(&mut self.server, &mut self.client)
    }

    pub(crate) fn client_events(&mut self) -> Vec<Ev> {
        self.client_to_server();
        events(&mut self.server)
    }

    pub(crate) fn server_events(&mut self) -> Vec<Ev> {
        self.server_to_client();
        events(&mut self.client)
    }
}

/// Moves `from`'s output to `to`'s input.
pub(crate) fn carry(from: &mut Connection, to: &mut Connection) -> usize {
    let bytes = from.poll_transmit().to_vec();
    from.advance_transmit(Instant::ZERO, bytes.len());
    to.handle_input(Instant::ZERO, &bytes);
    bytes.len()
}

/// A close code from a number known to be valid.
pub(crate) fn code(value: u16) -> CloseCode {
    CloseCode::new(value).expect("a close code in 1000..=4999")
}
