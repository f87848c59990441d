//! The shared rule tests of the two connections: the buffered `wslane::Connection` and the heap-free
//! `wslane::unbuffered::connection::Connection` run the same table of byte-level cases behind one
//! driver trait, and must answer every case identically (the same messages, controls, close and
//! errors, the same bytes transmitted, the same state), whether the input comes at once or a byte at a
//! time. The heap-free connection's own promises (fragments for messages larger than its buffer, a
//! full transmit buffer) follow.

mod support;

use std::time::Duration;

use support::{close_body, frame, frame_to, BINARY, CLOSE, CONT, FIN, PING, PONG, TEXT};
use wslane::mask_keys::MaskKeySource;
use wslane::unbuffered::connection::{self as fixed, MIN_TRANSMIT_BUFFER};
use wslane::{
    CloseCode, Config, Connection, DataKind, Error, Event, Instant, Role, SendError, State,
};

/// What a connection reported, with data messages reassembled from their pieces.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Message(DataKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
    Error(Error),
}

/// A command, applied to both connections.
#[derive(Clone, Debug)]
enum Command {
    Text(&'static str),
    Binary(Vec<u8>),
    Fragment(DataKind, &'static [u8], bool),
    Ping(&'static [u8]),
    Close(u16, &'static str),
}

/// The driver both connections are run through.
trait Driver {
    fn feed(&mut self, now: Instant, bytes: &[u8]);
    fn eof(&mut self, now: Instant);
    fn timeout(&mut self, now: Instant);
    fn command(&mut self, command: &Command) -> Result<(), SendError>;
    /// Everything transmitted since the last call.
    fn output(&mut self, now: Instant) -> Vec<u8>;
    fn seen(&mut self) -> Vec<Seen>;
    fn state(&self) -> State;
    fn should_close(&self) -> bool;
}

/// Reassembles data messages from pieces.
#[derive(Default)]
struct Collector {
    seen: Vec<Seen>,
    partial: Option<(DataKind, Vec<u8>)>,
}

impl Collector {
    fn piece(&mut self, kind: DataKind, data: &[u8], first: bool, fin: bool) {
        if first {
            self.partial = Some((kind, Vec::new()));
        }
        if let Some((_, buf)) = self.partial.as_mut() {
            buf.extend_from_slice(data);
        }
        if fin {
            if let Some((kind, buf)) = self.partial.take() {
                self.seen.push(Seen::Message(kind, buf));
            }
        }
    }
}

struct Buffered {
    conn: Connection,
    out: Collector,
}

impl Buffered {
    fn drain(&mut self) {
        loop {
            match self.conn.poll_event() {
                Ok(None) => break,
                Ok(Some(event)) => match event {
                    Event::Text(text) => {
                        self.out.piece(DataKind::Text, text.as_bytes(), true, true)
                    }
                    Event::Binary(data) => self.out.piece(DataKind::Binary, data, true, true),
                    Event::Fragment(f) => self.out.piece(f.kind, f.data, f.first, f.fin),
                    Event::Ping(p) => self.out.seen.push(Seen::Ping(p.to_vec())),
                    Event::Pong(p) => self.out.seen.push(Seen::Pong(p.to_vec())),
                    Event::Close { code, reason } => {
                        self.out.seen.push(Seen::Close(code.get(), reason.into()))
                    }
                },
                Err(err) => self.out.seen.push(Seen::Error(err)),
            }
        }
    }
}

impl Driver for Buffered {
    fn feed(&mut self, now: Instant, bytes: &[u8]) {
        self.conn.handle_input(now, bytes);
        self.drain();
    }
    fn eof(&mut self, now: Instant) {
        self.conn.handle_eof(now);
        self.drain();
    }
    fn timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
        self.drain();
    }
    fn command(&mut self, command: &Command) -> Result<(), SendError> {
        let mut sender = self.conn.sender();
        match command {
            Command::Text(text) => sender.send_text(text),
            Command::Binary(data) => sender.send_binary(data),
            Command::Fragment(kind, data, fin) => sender.send_fragment(*kind, data, *fin),
            Command::Ping(data) => sender.ping(data),
            Command::Close(code, reason) => sender.close(code_of(*code), reason),
        }
    }
    fn output(&mut self, now: Instant) -> Vec<u8> {
        let out = self.conn.poll_transmit().to_vec();
        self.conn.advance_transmit(now, out.len());
        out
    }
    fn seen(&mut self) -> Vec<Seen> {
        std::mem::take(&mut self.out.seen)
    }
    fn state(&self) -> State {
        self.conn.state()
    }
    fn should_close(&self) -> bool {
        self.conn.should_close_transport()
    }
}

type Keys = fn() -> [u8; 4];

struct Fixed<K: MaskKeySource> {
    conn: fixed::Connection<'static, K>,
    out: Collector,
    transmitted: Vec<u8>,
    now: Instant,
}

impl<K: MaskKeySource> Fixed<K> {
    fn new(conn: fixed::Connection<'static, K>) -> Fixed<K> {
        Fixed {
            conn,
            out: Collector::default(),
            transmitted: Vec::new(),
            now: Instant::ZERO,
        }
    }

    /// Takes every event, moving output along so that a small transmit buffer never blocks the test.
    fn drain(&mut self) {
        loop {
            let sent = self.conn.poll_transmit().to_vec();
            self.conn.advance_transmit(self.now, sent.len());
            self.transmitted.extend_from_slice(&sent);
            // The adapter's way: ask, then take (`poll_event` alone is tested below).
            if !self.conn.has_event() {
                break;
            }
            match self.conn.poll_event() {
                Ok(None) => break,
                Ok(Some(event)) => match event {
                    fixed::Event::Text(text) => {
                        self.out.piece(DataKind::Text, text.as_bytes(), true, true)
                    }
                    fixed::Event::Binary(data) => {
                        self.out.piece(DataKind::Binary, data, true, true)
                    }
                    fixed::Event::Fragment(f) => self.out.piece(f.kind, f.data, f.first, f.fin),
                    fixed::Event::Ping(p) => self.out.seen.push(Seen::Ping(p.to_vec())),
                    fixed::Event::Pong(p) => self.out.seen.push(Seen::Pong(p.to_vec())),
                    fixed::Event::Close { code, reason } => {
                        self.out.seen.push(Seen::Close(code.get(), reason.into()))
                    }
                },
                Err(err) => self.out.seen.push(Seen::Error(err)),
            }
        }
    }
}

impl<K: MaskKeySource> Driver for Fixed<K> {
    fn feed(&mut self, now: Instant, mut bytes: &[u8]) {
        self.now = now;
        loop {
            let n = self.conn.handle_input(now, bytes);
            bytes = &bytes[n..];
            self.drain();
            if bytes.is_empty() {
                break;
            }
            assert!(n > 0 || !self.conn.read_buffer().is_empty(), "stuck");
        }
    }
    fn eof(&mut self, now: Instant) {
        self.now = now;
        self.conn.handle_eof(now);
        self.drain();
    }
    fn timeout(&mut self, now: Instant) {
        self.now = now;
        self.conn.handle_timeout(now);
        self.drain();
    }
    fn command(&mut self, command: &Command) -> Result<(), SendError> {
        let conn = &mut self.conn;
        match command {
            Command::Text(text) => conn.send_text(text),
            Command::Binary(data) => conn.send_binary(data),
            Command::Fragment(kind, data, fin) => conn.send_fragment(*kind, data, *fin),
            Command::Ping(data) => conn.ping(data),
            Command::Close(code, reason) => conn.close(code_of(*code), reason),
        }
    }
    fn output(&mut self, now: Instant) -> Vec<u8> {
        self.now = now;
        let sent = self.conn.poll_transmit().to_vec();
        self.conn.advance_transmit(now, sent.len());
        self.transmitted.extend_from_slice(&sent);
        std::mem::take(&mut self.transmitted)
    }
    fn seen(&mut self) -> Vec<Seen> {
        std::mem::take(&mut self.out.seen)
    }
    fn state(&self) -> State {
        self.conn.state()
    }
    fn should_close(&self) -> bool {
        self.conn.should_close_transport()
    }
}

fn code_of(code: u16) -> CloseCode {
    CloseCode::new(code).expect("a valid code")
}

fn key() -> [u8; 4] {
    [1, 2, 3, 4]
}

fn config() -> Config {
    let mut config = Config::default();
    config.max_frame_size = 8 << 10;
    config.max_message_size = 16 << 10;
    config.ping_interval = Some(Duration::from_secs(10));
    config.pong_timeout = Duration::from_secs(5);
    config
}

fn buffered(role: Role) -> Buffered {
    let conn = match role {
        Role::Server => Connection::server(Instant::ZERO, config()),
        Role::Client => Connection::client(Instant::ZERO, config(), key as Keys),
    };
    Buffered {
        conn,
        out: Collector::default(),
    }
}

/// A heap-free connection over leaked buffers of `rx` and `tx` bytes (each test leaks a few KiB).
fn unbuffered(role: Role, rx: usize, tx: usize) -> Box<dyn Driver> {
    let rx: &'static mut [u8] = vec![0; rx].leak();
    let tx: &'static mut [u8] = vec![0; tx].leak();
    match role {
        Role::Server => Box::new(Fixed::new(
            fixed::Connection::server(Instant::ZERO, config(), rx, tx).unwrap(),
        )),
        Role::Client => Box::new(Fixed::new(
            fixed::Connection::client(Instant::ZERO, config(), key as Keys, rx, tx).unwrap(),
        )),
    }
}

fn server(rx: usize, tx: usize) -> fixed::Connection<'static> {
    let rx: &'static mut [u8] = vec![0; rx].leak();
    let tx: &'static mut [u8] = vec![0; tx].leak();
    fixed::Connection::server(Instant::ZERO, config(), rx, tx).unwrap()
}

/// One step of a case.
#[derive(Clone, Debug)]
enum Step {
    /// Bytes from the peer, at this many milliseconds.
    Input(u64, Vec<u8>),
    /// The transport's end.
    Eof(u64),
    /// A timer call at this many milliseconds.
    Timeout(u64),
    /// A command, with the result it must have.
    Command(Command, Result<(), SendError>),
}

/// Everything a case observed: per step, what was seen, transmitted, the state and whether to close.
type Transcript = Vec<(Vec<Seen>, Vec<u8>, State, bool)>;

fn run(driver: &mut dyn Driver, steps: &[Step], bytewise: bool) -> Transcript {
    let mut transcript = Vec::new();
    let mut now = Instant::ZERO;
    for step in steps {
        match step {
            Step::Input(ms, bytes) => {
                now = Instant::from_millis(*ms);
                if bytewise {
                    for b in bytes {
                        driver.feed(now, std::slice::from_ref(b));
                    }
                } else {
                    driver.feed(now, bytes);
                }
            }
            Step::Eof(ms) => {
                now = Instant::from_millis(*ms);
                driver.eof(now);
            }
            Step::Timeout(ms) => {
                now = Instant::from_millis(*ms);
                driver.timeout(now);
            }
            Step::Command(command, expected) => {
                assert_eq!(driver.command(command), *expected, "{command:?}");
            }
        }
        let output = driver.output(now);
        transcript.push((driver.seen(), output, driver.state(), driver.should_close()));
    }
    transcript
}

fn input(bytes: Vec<u8>) -> Step {
    Step::Input(1, bytes)
}

fn masked(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame_to(Role::Server, b0, payload)
}

/// The table: a name, the role, the steps.
fn cases() -> Vec<(&'static str, Role, Vec<Step>)> {
    use Command as C;
    let big: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let mid: Vec<u8> = (0..900u32).map(|i| (i % 7) as u8).collect();
    let ok = Ok(());
    vec![
        (
            "a text message",
            Role::Server,
            vec![input(masked(FIN | TEXT, b"Hello"))],
        ),
        (
            "an empty binary message",
            Role::Server,
            vec![input(masked(FIN | BINARY, b""))],
        ),
        (
            "a message in three frames with a ping between",
            Role::Server,
            vec![input(
                [
                    masked(TEXT, b"Hel"),
                    masked(FIN | PING, b"p"),
                    masked(CONT, "l\u{e9}".as_bytes()),
                    masked(FIN | CONT, b"o"),
                ]
                .concat(),
            )],
        ),
        (
            "a message larger than the buffer",
            Role::Server,
            vec![input(masked(FIN | BINARY, &big))],
        ),
        (
            "a frame that nearly fills the buffer",
            Role::Server,
            vec![input(
                [masked(FIN | BINARY, &mid), masked(FIN | BINARY, &mid)].concat(),
            )],
        ),
        (
            "a pong",
            Role::Server,
            vec![input(masked(FIN | PONG, b"x"))],
        ),
        (
            "the peer closes",
            Role::Server,
            vec![
                input(masked(FIN | CLOSE, &close_body(1000, "bye"))),
                input(masked(FIN | TEXT, b"ignored")),
            ],
        ),
        (
            "the peer closes without a code",
            Role::Server,
            vec![input(masked(FIN | CLOSE, b""))],
        ),
        (
            "we close, then the peer",
            Role::Server,
            vec![
                Step::Command(C::Close(1001, "away"), ok),
                Step::Command(C::Text("late"), Err(SendError::Closed)),
                input(masked(FIN | TEXT, b"still delivered")),
                input(masked(FIN | CLOSE, &close_body(1001, ""))),
            ],
        ),
        (
            "an unmasked frame to a server",
            Role::Server,
            vec![input(frame(FIN | TEXT, None, b"x"))],
        ),
        (
            "invalid UTF-8",
            Role::Server,
            vec![input(masked(FIN | TEXT, b"\xff"))],
        ),
        (
            "invalid UTF-8 across frames",
            Role::Server,
            vec![input(
                [masked(TEXT, b"\xe2\x82"), masked(FIN | CONT, b"x")].concat(),
            )],
        ),
        (
            "a reserved opcode",
            Role::Server,
            vec![input(masked(FIN | 0x3, b""))],
        ),
        (
            "RSV bits without an extension",
            Role::Server,
            vec![input(masked(FIN | 0x40 | TEXT, b"x"))],
        ),
        (
            "a control frame too long",
            Role::Server,
            vec![input(masked(FIN | PING, &[0; 126]))],
        ),
        (
            "a fragmented control frame",
            Role::Server,
            vec![input(masked(PING, b""))],
        ),
        (
            "a continuation without a start",
            Role::Server,
            vec![input(masked(FIN | CONT, b"x"))],
        ),
        (
            "a new message inside another",
            Role::Server,
            vec![input(
                [masked(TEXT, b"a"), masked(FIN | TEXT, b"b")].concat(),
            )],
        ),
        (
            "a close code that may not be sent",
            Role::Server,
            vec![input(masked(FIN | CLOSE, &close_body(1005, "")))],
        ),
        (
            "a close reason not UTF-8",
            Role::Server,
            vec![input(masked(FIN | CLOSE, &[0x03, 0xe8, 0xff]))],
        ),
        (
            "a one-byte close body",
            Role::Server,
            vec![input(masked(FIN | CLOSE, &[0x03]))],
        ),
        (
            "a frame over the size limit",
            Role::Server,
            vec![input(masked(FIN | BINARY, &[0; 9000]))],
        ),
        (
            "a message over the size limit",
            Role::Server,
            vec![input(
                [
                    masked(BINARY, &[0; 8000]),
                    masked(CONT, &[0; 8000]),
                    masked(FIN | CONT, &[0; 8000]),
                ]
                .concat(),
            )],
        ),
        (
            "the transport ends mid-frame",
            Role::Server,
            vec![
                input(masked(FIN | TEXT, b"Hello")[..5].to_vec()),
                Step::Eof(2),
            ],
        ),
        (
            "the transport ends after a message",
            Role::Server,
            vec![input(masked(FIN | TEXT, b"Hello")), Step::Eof(2)],
        ),
        (
            "keepalive pings, then gives up",
            Role::Server,
            vec![
                Step::Timeout(9_999),
                Step::Timeout(10_000),
                Step::Timeout(14_000),
                Step::Timeout(15_000),
            ],
        ),
        (
            "keepalive is satisfied by any bytes",
            Role::Server,
            vec![
                Step::Timeout(10_000),
                Step::Input(12_000, masked(FIN | PONG, b"")),
                Step::Timeout(16_000),
                Step::Timeout(22_000),
            ],
        ),
        (
            "the close timeout",
            Role::Server,
            vec![
                Step::Command(C::Close(1000, ""), ok),
                Step::Timeout(5_000),
                Step::Timeout(10_000),
                Step::Timeout(11_000),
            ],
        ),
        (
            "sending rules",
            Role::Server,
            vec![
                Step::Command(C::Fragment(DataKind::Text, b"a", false), ok),
                Step::Command(C::Text("x"), Err(SendError::MessageInProgress)),
                Step::Command(
                    C::Fragment(DataKind::Binary, b"b", true),
                    Err(SendError::MessageInProgress),
                ),
                Step::Command(C::Ping(&[0; 126]), Err(SendError::ControlTooLong)),
                Step::Command(C::Ping(b"between"), ok),
                Step::Command(C::Fragment(DataKind::Text, b"b", true), ok),
                Step::Command(C::Binary(vec![1, 2, 3]), ok),
                Step::Command(C::Close(1005, ""), Err(SendError::InvalidCloseCode(1005))),
                Step::Command(C::Close(1000, "r"), ok),
                Step::Command(C::Close(1000, ""), Err(SendError::Closed)),
                Step::Command(C::Ping(b""), Err(SendError::Closed)),
            ],
        ),
        (
            "a client gets a text message",
            Role::Client,
            vec![input(frame(FIN | TEXT, None, b"Hello"))],
        ),
        (
            "a masked frame to a client",
            Role::Client,
            vec![input(masked(FIN | TEXT, b"x"))],
        ),
        (
            "a client answers a ping and closes",
            Role::Client,
            vec![
                input(frame(FIN | PING, None, b"hi")),
                Step::Command(C::Text("masked"), ok),
                input(frame(FIN | CLOSE, None, &close_body(1000, ""))),
                Step::Eof(3),
            ],
        ),
        (
            "a client waits for the server to end the transport",
            Role::Client,
            vec![
                input(frame(FIN | CLOSE, None, &close_body(1000, ""))),
                Step::Timeout(5_000),
                Step::Timeout(11_000),
            ],
        ),
    ]
}

#[test]
fn both_connections_answer_every_case_identically() {
    for (name, role, steps) in cases() {
        for bytewise in [false, true] {
            let want = run(&mut buffered(role), &steps, bytewise);
            let got = run(&mut *unbuffered(role, 1024, 1024), &steps, bytewise);
            assert_eq!(got, want, "{name} (byte by byte: {bytewise})");
        }
    }
}

#[test]
fn the_table_covers_every_outcome() {
    // Every case must observe something, so a driver that answers nothing cannot pass.
    for (name, role, steps) in cases() {
        let transcript = run(&mut buffered(role), &steps, false);
        assert!(
            transcript
                .iter()
                .any(|(seen, out, _, _)| !seen.is_empty() || !out.is_empty()),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// The heap-free connection's own promises.

#[test]
fn buffers_below_the_minimum_are_refused_with_the_size_needed() {
    let (mut small, mut tx) = ([0; 64], [0; 1024]);
    let err = fixed::Connection::server(Instant::ZERO, Config::default(), &mut small, &mut tx);
    assert_eq!(
        err.map(|_| ()).unwrap_err().needed,
        fixed::MIN_RECEIVE_BUFFER
    );
}

#[test]
fn a_message_larger_than_the_buffer_arrives_in_fragments_and_a_small_one_whole() {
    let mut conn = Fixed::new(server(256, 256));
    let payload = vec![b'a'; 1000];
    let bytes = masked(FIN | TEXT, &payload);
    let mut rest = &bytes[..];
    let mut pieces = Vec::new();
    while !rest.is_empty() {
        let n = conn.conn.handle_input(Instant::ZERO, rest);
        rest = &rest[n..];
        while let Some(event) = conn.conn.poll_event().unwrap() {
            match event {
                fixed::Event::Fragment(f) => pieces.push((f.data.len(), f.first, f.fin)),
                other => panic!("{other:?}"),
            }
        }
    }
    assert!(pieces.len() > 3, "{pieces:?}");
    assert_eq!(pieces.iter().map(|p| p.0).sum::<usize>(), 1000);
    assert!(pieces[0].1 && pieces.last().unwrap().2);

    // A frame that fits waits until it is whole, even when its bytes come one at a time.
    let bytes = masked(FIN | BINARY, &[7; 200]);
    for b in &bytes[..bytes.len() - 1] {
        assert_eq!(
            conn.conn
                .handle_input(Instant::ZERO, std::slice::from_ref(b)),
            1
        );
        assert_eq!(conn.conn.poll_event(), Ok(None));
    }
    conn.conn
        .handle_input(Instant::ZERO, &bytes[bytes.len() - 1..]);
    assert_eq!(
        conn.conn.poll_event(),
        Ok(Some(fixed::Event::Binary(&[7; 200])))
    );
}

#[test]
fn a_full_transmit_buffer_refuses_sends_and_holds_what_is_owed() {
    let (mut rx, mut tx) = ([0; 1024], [0; MIN_TRANSMIT_BUFFER]);
    let mut conn =
        fixed::Connection::server(Instant::ZERO, Config::default(), &mut rx, &mut tx).unwrap();
    let fill = vec![0; MIN_TRANSMIT_BUFFER - 4];
    assert_eq!(conn.frame_len(fill.len()), MIN_TRANSMIT_BUFFER);
    conn.send_binary(&fill).unwrap();
    assert_eq!(conn.available_output(), 0);
    assert_eq!(conn.send_text("x"), Err(SendError::BufferFull));
    assert_eq!(conn.ping(b""), Err(SendError::BufferFull));

    // A ping arrives: its pong is held, then the peer's close: the reply is held too.
    conn.handle_input(Instant::ZERO, &masked(FIN | PING, b"p"));
    assert_eq!(conn.poll_event(), Ok(Some(fixed::Event::Ping(b"p"))));
    conn.handle_input(Instant::ZERO, &masked(FIN | CLOSE, &close_body(1000, "")));
    assert!(matches!(
        conn.poll_event(),
        Ok(Some(fixed::Event::Close { .. }))
    ));
    assert_eq!(conn.poll_transmit().len(), MIN_TRANSMIT_BUFFER);
    conn.advance_transmit(Instant::ZERO, MIN_TRANSMIT_BUFFER);
    // The pong is no longer owed once the peer closed; the close reply goes out.
    assert_eq!(conn.poll_transmit(), &[0x88, 0x02, 0x03, 0xe8]);
    assert!(conn.should_close_transport());
}
