//! A single-threaded mio event loop that drives many client connections: opening handshakes, then a
//! workload of pre-built frames, then the closing handshake.
//!
//! All connections share one read buffer: the frame reader is streaming and keeps no payload, so a
//! connection holds only a few dozen bytes of state besides its socket.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::frame::{close_frame, Expect, FrameReader};
use super::handshake::{ClientRequest, HandshakeError};
use super::scenario::Workload;

/// Bytes read per `read` call, shared by all connections.
const READ_BUFFER: usize = 256 << 10;

/// An HTTP answer longer than this fails the handshake.
const MAX_HEAD: usize = 16 << 10;

/// How many first errors are kept for the report.
const ERRORS_KEPT: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Connecting,
    Request(usize),
    Response,
    Open,
    Closing,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Out {
    Idle,
    /// `batch[off..end]` of the workload is still to be written.
    Data {
        off: usize,
        end: usize,
    },
    /// `close[off..]` is still to be written.
    Close {
        off: usize,
    },
}

#[derive(Debug)]
struct Conn {
    stream: Option<TcpStream>,
    phase: Phase,
    handshake: Option<Box<(ClientRequest, Vec<u8>)>>,
    reader: FrameReader,
    out: Out,
    in_flight: usize,
    sends_left: u64,
    received: u64,
    close_sent: bool,
    /// Counted among the connections of an exchange that have not finished it.
    exchanging: bool,
}

/// What the workload lets a connection write.
struct Sending<'a> {
    batch: &'a [u8],
    frame_len: usize,
    in_flight: usize,
    on: bool,
    close: &'a [u8],
}

/// What a connection did on one event.
#[derive(Default)]
struct Step {
    opened: bool,
    messages: u64,
    done: bool,
}

/// A connection that failed.
#[derive(Debug)]
enum ConnError {
    Io(io::Error),
    Handshake(HandshakeError),
    Protocol(String),
}

impl From<io::Error> for ConnError {
    fn from(err: io::Error) -> Self {
        ConnError::Io(err)
    }
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Io(err) => write!(f, "{err}"),
            ConnError::Handshake(err) => write!(f, "handshake: {err}"),
            ConnError::Protocol(err) => write!(f, "{err}"),
        }
    }
}

impl Conn {
    fn stream(&mut self) -> &mut TcpStream {
        self.stream
            .as_mut()
            .expect("a live connection has its socket")
    }

    /// Handles readiness (`readable`: the socket may have input; `ended`: the peer may have closed it);
    /// `read_buf` is the shared buffer.
    fn step(
        &mut self,
        readable: bool,
        ended: bool,
        read_buf: &mut [u8],
        expect: &Expect<'_>,
        sending: &Sending<'_>,
    ) -> Result<Step, ConnError> {
        let mut step = Step::default();
        if self.phase == Phase::Connecting {
            if let Some(err) = self.stream().take_error()? {
                return Err(err.into());
            }
            match self.stream().peer_addr() {
                Ok(_) => self.phase = Phase::Request(0),
                Err(err) if err.kind() == io::ErrorKind::NotConnected => return Ok(step),
                Err(err) => return Err(err.into()),
            }
        }
        if let Phase::Request(mut written) = self.phase {
            let handshake = self.handshake.take().expect("handshake state");
            let result = write_from(self.stream(), &handshake.0.bytes, &mut written);
            self.handshake = Some(handshake);
            self.phase = Phase::Request(written);
            if !result? {
                return Ok(step);
            }
            self.phase = Phase::Response;
        }
        if self.phase == Phase::Response {
            let mut handshake = self.handshake.take().expect("handshake state");
            loop {
                match self.stream().read(read_buf) {
                    Ok(0) => {
                        return Err(ConnError::Protocol(
                            "connection closed during the handshake".into(),
                        ))
                    }
                    Ok(n) => {
                        let (request, head) = &mut *handshake;
                        head.extend_from_slice(&read_buf[..n]);
                        match request.check_response(head).map_err(ConnError::Handshake)? {
                            None if head.len() > MAX_HEAD => {
                                return Err(ConnError::Handshake(HandshakeError::TooLong))
                            }
                            None => {}
                            Some(len) => {
                                self.phase = Phase::Open;
                                step.opened = true;
                                let fed = self
                                    .reader
                                    .feed(&head[len..], expect)
                                    .map_err(|err| ConnError::Protocol(err.to_string()))?;
                                step.messages += self.take_messages(fed.messages)?;
                                break;
                            }
                        }
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        self.handshake = Some(handshake);
                        return Ok(step);
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err.into()),
                }
            }
        }
        // Open or closing: read what arrived, then write what is due. While open, input is read until a read
        // comes back short: with edge-triggered readiness, bytes that arrive later raise a new event. When
        // closing or told the stream ended, the end may have arrived with the last bytes: reading goes on to it.
        let mut reading = readable;
        while reading {
            match self.stream().read(read_buf) {
                Ok(0) => {
                    if self.phase == Phase::Closing {
                        step.done = true;
                        return Ok(step);
                    }
                    return Err(ConnError::Protocol(
                        "the server closed the connection".into(),
                    ));
                }
                Ok(n) => {
                    let fed = self
                        .reader
                        .feed(&read_buf[..n], expect)
                        .map_err(|err| ConnError::Protocol(err.to_string()))?;
                    step.messages += self.take_messages(fed.messages)?;
                    if fed.close && self.phase == Phase::Open {
                        return Err(ConnError::Protocol("the server sent a close frame".into()));
                    }
                    reading = n == read_buf.len() || ended || self.phase == Phase::Closing;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err.into()),
            }
        }
        self.write(sending)?;
        Ok(step)
    }

    fn take_messages(&mut self, messages: u64) -> Result<u64, ConnError> {
        if messages > self.in_flight as u64 {
            return Err(ConnError::Protocol("more echoes than messages sent".into()));
        }
        self.in_flight -= messages as usize;
        self.received += messages;
        Ok(messages)
    }

    /// Writes pending bytes, then new frames up to the in-flight target, or the close frame when closing.
    fn write(&mut self, sending: &Sending<'_>) -> io::Result<()> {
        loop {
            match self.out {
                Out::Data { mut off, end } => {
                    let done = write_from(self.stream(), &sending.batch[..end], &mut off)?;
                    self.out = if done {
                        Out::Idle
                    } else {
                        Out::Data { off, end }
                    };
                    if !done {
                        return Ok(());
                    }
                }
                Out::Close { mut off } => {
                    let done = write_from(self.stream(), sending.close, &mut off)?;
                    self.out = if done { Out::Idle } else { Out::Close { off } };
                    if !done {
                        return Ok(());
                    }
                    self.close_sent = true;
                }
                Out::Idle if self.phase == Phase::Closing && !self.close_sent => {
                    self.out = Out::Close { off: 0 };
                }
                Out::Idle if self.phase == Phase::Open && sending.on => {
                    let room = sending.in_flight.saturating_sub(self.in_flight) as u64;
                    let frames = room.min(self.sends_left) as usize;
                    if frames == 0 {
                        return Ok(());
                    }
                    self.in_flight += frames;
                    self.sends_left -= frames as u64;
                    self.out = Out::Data {
                        off: 0,
                        end: frames * sending.frame_len,
                    };
                }
                Out::Idle => return Ok(()),
            }
        }
    }
}

/// Writes `bytes[*off..]` until done (`true`) or the socket is full (`false`).
fn write_from(stream: &mut TcpStream, bytes: &[u8], off: &mut usize) -> io::Result<bool> {
    while *off < bytes.len() {
        match stream.write(&bytes[*off..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *off += n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(true)
}

/// How the closing handshakes went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CloseReport {
    /// Connections the server closed after the close frames were exchanged.
    pub clean: usize,
    /// Connections dropped at the deadline instead.
    pub unclean: usize,
    /// Of those, connections whose close frame the server had not answered (the others got the answer but
    /// the server kept the TCP connection open).
    pub unanswered: usize,
}

/// Many client connections to one server, driven from one thread.
#[derive(Debug)]
pub struct Engine {
    poll: Poll,
    events: Option<Events>,
    addr: SocketAddr,
    host: String,
    conns: Vec<Conn>,
    read_buf: Vec<u8>,
    workload: Workload,
    sending: bool,
    close: Vec<u8>,
    nonce: u64,
    pending: usize,
    open: usize,
    received: u64,
    exchanging: usize,
    errors: u64,
    first_errors: Vec<String>,
}

impl Engine {
    /// An engine for connections to `addr`, none open yet.
    ///
    /// # Errors
    ///
    /// When the poller cannot be created.
    pub fn new(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            poll: Poll::new()?,
            events: Some(Events::with_capacity(1024)),
            addr,
            host: addr.to_string(),
            conns: Vec::new(),
            read_buf: vec![0; READ_BUFFER],
            // Nothing is expected before a workload starts: this opcode matches no data message.
            workload: Workload::new(0xf, Vec::new(), 0),
            sending: false,
            close: close_frame(),
            nonce: u64::from(std::process::id()) << 32
                ^ std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64),
            pending: 0,
            open: 0,
            received: 0,
            exchanging: 0,
            errors: 0,
            first_errors: Vec::new(),
        })
    }

    /// Opens `count` more connections, at most `max_pending` handshakes at a time, and returns once all are open.
    ///
    /// # Errors
    ///
    /// When a connection cannot be made (the message says so plainly when descriptors run out), a handshake
    /// fails, or not all are open within `timeout`.
    pub fn open(&mut self, count: usize, max_pending: usize, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        let target = self.open + count;
        let mut started = 0;
        while self.open < target {
            while started < count && self.pending < max_pending.max(1) {
                self.connect_one()?;
                started += 1;
            }
            if self.errors > 0 {
                return Err(io::Error::other(format!(
                    "{} of {count} connections failed: {}",
                    self.errors,
                    self.first_errors.join("; ")
                )));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("only {} of {target} connections open in time", self.open),
                ));
            }
            self.turn((deadline - now).min(Duration::from_millis(100)))?;
        }
        Ok(())
    }

    fn connect_one(&mut self) -> io::Result<()> {
        let mut stream = TcpStream::connect(self.addr).map_err(|err| {
            if err.raw_os_error() == Some(24) {
                io::Error::new(
                    err.kind(),
                    format!(
                        "out of file descriptors after {} connections: raise the limit (`ulimit -n 20000`) or open fewer",
                        self.conns.len()
                    ),
                )
            } else {
                io::Error::new(err.kind(), format!("connect to {}: {err}", self.addr))
            }
        })?;
        stream.set_nodelay(true)?;
        let token = Token(self.conns.len());
        self.poll.registry().register(
            &mut stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.nonce = self
            .nonce
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let mut key = [0; 16];
        key[..8].copy_from_slice(&self.nonce.to_le_bytes());
        key[8..].copy_from_slice(&(token.0 as u64).to_le_bytes());
        self.conns.push(Conn {
            stream: Some(stream),
            phase: Phase::Connecting,
            handshake: Some(Box::new((ClientRequest::new(&self.host, key), Vec::new()))),
            reader: FrameReader::new(),
            out: Out::Idle,
            in_flight: 0,
            sends_left: 0,
            received: 0,
            close_sent: false,
            exchanging: false,
        });
        self.pending += 1;
        Ok(())
    }

    /// Waits up to `timeout` for readiness and handles it.
    ///
    /// # Errors
    ///
    /// When polling fails.
    pub fn turn(&mut self, timeout: Duration) -> io::Result<()> {
        let mut events = self.events.take().expect("events are put back");
        let polled = self.poll.poll(&mut events, Some(timeout));
        if let Err(err) = polled {
            self.events = Some(events);
            return if err.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(err)
            };
        }
        for event in events.iter() {
            let ended = event.is_read_closed() || event.is_error();
            self.handle(event.token().0, event.is_readable() || ended, ended);
        }
        self.events = Some(events);
        Ok(())
    }

    fn handle(&mut self, index: usize, readable: bool, ended: bool) {
        let conn = &mut self.conns[index];
        if conn.phase == Phase::Done {
            return;
        }
        let was_open = matches!(conn.phase, Phase::Open | Phase::Closing);
        let sending = Sending {
            batch: &self.workload.batch,
            frame_len: self.workload.frame_len,
            in_flight: self.workload.in_flight,
            on: self.sending,
            close: &self.close,
        };
        let expect = Expect {
            opcode: self.workload.opcode,
            payload: &self.workload.payload,
        };
        match conn.step(readable, ended, &mut self.read_buf, &expect, &sending) {
            Ok(step) => {
                self.received += step.messages;
                if step.opened {
                    self.pending -= 1;
                    self.open += 1;
                    conn.handshake = None;
                }
                if step.done {
                    self.open -= 1;
                    self.finish(index);
                } else if conn.exchanging && conn.sends_left == 0 && conn.in_flight == 0 {
                    conn.exchanging = false;
                    self.exchanging -= 1;
                }
            }
            Err(err) => {
                if was_open {
                    self.open -= 1;
                } else {
                    self.pending -= 1;
                }
                if conn.exchanging {
                    self.exchanging -= 1;
                }
                self.errors += 1;
                if self.first_errors.len() < ERRORS_KEPT {
                    self.first_errors.push(format!("connection {index}: {err}"));
                }
                self.finish(index);
            }
        }
    }

    /// Deregisters and closes connection `index`.
    fn finish(&mut self, index: usize) {
        let conn = &mut self.conns[index];
        conn.phase = Phase::Done;
        conn.exchanging = false;
        if let Some(mut stream) = conn.stream.take() {
            let _ = self.poll.registry().deregister(&mut stream);
        }
    }

    /// Starts `workload` on every open connection: each keeps `workload.in_flight` messages in flight and
    /// sends `sends` messages at most (`u64::MAX`: until closed).
    pub fn start(&mut self, workload: Workload, sends: u64) {
        self.workload = workload;
        self.sending = true;
        for index in 0..self.conns.len() {
            if self.conns[index].phase == Phase::Open {
                self.conns[index].sends_left = sends;
                self.kick(index);
            }
        }
    }

    /// Writes what connection `index` may write now, as if it had become writable.
    fn kick(&mut self, index: usize) {
        self.handle(index, false, false);
    }

    /// Has every open connection send `workload`'s message once and waits for its echo, with at most
    /// `concurrency` connections doing so at a time.
    ///
    /// # Errors
    ///
    /// When polling fails, a connection fails, or not all echoes are back within `timeout`.
    pub fn exchange(
        &mut self,
        workload: Workload,
        concurrency: usize,
        timeout: Duration,
    ) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        self.start(workload, 0);
        let mut next = 0;
        let errors = self.errors;
        loop {
            while self.exchanging < concurrency.max(1) && next < self.conns.len() {
                if self.conns[next].phase == Phase::Open {
                    self.conns[next].sends_left = 1;
                    self.conns[next].exchanging = true;
                    self.exchanging += 1;
                    self.kick(next);
                }
                next += 1;
            }
            if self.errors > errors {
                return Err(io::Error::other(format!(
                    "{} connections failed: {}",
                    self.errors - errors,
                    self.first_errors.join("; ")
                )));
            }
            if self.exchanging == 0 && next == self.conns.len() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{} exchanges unfinished in time", self.exchanging),
                ));
            }
            self.turn((deadline - now).min(Duration::from_millis(100)))?;
        }
    }

    /// Stops sending, sends a close frame on every open connection (after any frame being written), and
    /// waits up to `timeout` for the server to close each one; the rest are dropped.
    ///
    /// # Errors
    ///
    /// When polling fails.
    pub fn close(&mut self, timeout: Duration) -> io::Result<CloseReport> {
        let deadline = Instant::now() + timeout;
        self.sending = false;
        let open_before = self.open;
        for index in 0..self.conns.len() {
            if self.conns[index].phase == Phase::Open {
                self.conns[index].phase = Phase::Closing;
                self.kick(index);
            }
        }
        while self.open > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            self.turn((deadline - now).min(Duration::from_millis(100)))?;
        }
        let unclean = self.open;
        let unanswered = self
            .conns
            .iter()
            .filter(|conn| conn.phase == Phase::Closing && !conn.reader.closed())
            .count();
        for index in 0..self.conns.len() {
            if self.conns[index].phase != Phase::Done {
                self.finish(index);
            }
        }
        self.open = 0;
        self.pending = 0;
        Ok(CloseReport {
            clean: open_before.saturating_sub(unclean),
            unclean,
            unanswered,
        })
    }

    /// Connections open now.
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.open
    }

    /// Echoes received so far, all connections together.
    #[must_use]
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Echoes received so far by each connection.
    #[must_use]
    pub fn received_per_connection(&self) -> Vec<u64> {
        self.conns.iter().map(|conn| conn.received).collect()
    }

    /// Connections that failed so far, and the first errors.
    #[must_use]
    pub fn errors(&self) -> (u64, &[String]) {
        (self.errors, &self.first_errors)
    }
}
