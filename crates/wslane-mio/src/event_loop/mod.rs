//! The event loop: many connections on one thread, on `mio::Poll`. See [`Server`].

mod handler;
mod peer;
mod peers;
mod timers;

use handler::Current;
pub use handler::{CloseReason, ConnectionId, Context, Handler};

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Waker};
use wslane::handshake::{Request, ServerConfig, ServerHandshake};
use wslane::{CloseCode, CloseFrame, Config, Connection, Event, Instant};

use self::peer::{Open, Peer, Phase};
use self::peers::{Peers, LISTENER, WAKER};
use self::timers::Timers;
use crate::clock::Clock;
use crate::Error;

/// The scratch buffer that draining connections are read into.
const READ_CHUNK: usize = 8 << 10;
/// Reads per call while the request head is incomplete; the head is bounded by the handshake limits.
const HEAD_CHUNK: usize = 4 << 10;
/// Reads per peer per loop round.
const READ_BUDGET: u32 = 16;
/// How long to wait before accepting again after `accept` failed (out of descriptors, for example).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// See [`Server::set_linger`].
const DEFAULT_LINGER: Duration = Duration::from_secs(1);

/// A WebSocket server: a listener and its connections, served on one thread by a [`Handler`].
///
/// Each accepted socket goes through the same phases: the opening handshake (bounded in size by the
/// core's [`Limits`](wslane::handshake::Limits) and in time by [`Config::handshake_timeout`]; a refusal
/// is answered with its HTTP status), the open connection (driven by a [`Connection`]), and a short
/// [linger](Self::set_linger) once our side is shut down. The loop only moves bytes:
///
/// - Reads are readiness-driven and edge-triggered: a socket is read until `WouldBlock`, at most a few
///   reads per peer per round, so one fast peer cannot starve the rest.
/// - Output stays in the [`Connection`] until the socket takes it; WRITABLE interest is registered only
///   while output is pending. While a connection's output is at [`Config::max_output_buffer`], the loop
///   neither reads its socket nor delivers its events, so TCP pushes back on that peer alone (see
///   [`Handler`] for sends to *other* connections).
/// - Every deadline (handshake, keepalive, close, linger) sits in one ordered set; the earliest bounds
///   `Poll::poll`'s timeout.
/// - When [`Connection::should_close_transport`] turns true, what is left is written (for at most
///   [`Config::close_timeout`]), our side is shut down, and the socket is closed when the peer closes its
///   side or the linger ends.
///
/// ```no_run
/// use wslane_mio::{Config, Context, ConnectionId, Event, Handler, Server, ServerConfig};
///
/// struct Echo;
///
/// impl Handler for Echo {
///     fn on_event(&mut self, ctx: &mut Context<'_>, id: ConnectionId, event: Event<'_>) {
///         let _ = match event {
///             Event::Text(text) => ctx.send_text(id, text),
///             Event::Binary(data) => ctx.send_binary(id, data),
///             _ => Ok(()),
///         };
///     }
/// }
///
/// let addr = "127.0.0.1:9001".parse().unwrap();
/// let mut server = Server::bind(addr, ServerConfig::default(), Config::default())?;
/// server.run(&mut Echo)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    poll: Poll,
    events: Events,
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    core: Core,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("connections", &self.core.peers.len())
            .finish_non_exhaustive()
    }
}

/// Stops a running [`Server`] from any thread: [`Server::run`] and [`Server::run_until`] return.
#[derive(Clone, Debug)]
pub struct StopHandle {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl StopHandle {
    /// Asks the loop to return after its current round.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        // A loop that cannot be woken is already gone.
        let _ = self.waker.wake();
    }
}

/// Everything but the poller and the listener, so that serving a peer can borrow it whole.
struct Core {
    registry: Registry,
    peers: Peers,
    /// Each peer's deadline, earliest first.
    timers: Timers,
    /// Peers to serve this round.
    queue: VecDeque<ConnectionId>,
    /// Peers that used their read budget and have more to read: served next round.
    deferred: Vec<ConnectionId>,
    /// Peers a handler gave commands to, to be written out.
    touched: Vec<ConnectionId>,
    /// Reads of request heads and of discarded input.
    scratch: Box<[u8]>,
    clock: Clock,
    server_config: Arc<ServerConfig>,
    config: Config,
    linger: Duration,
    round: u64,
    accept_retry: Option<Instant>,
}

/// What serving a peer came to.
enum Step {
    /// The phase changed: serve the new one.
    Again,
    /// Nothing more to do until readiness or a deadline.
    Wait,
    /// Close the socket and forget the peer.
    Remove,
}

impl Server {
    /// Listens on `addr`. `server` sets the handshake's limits, origin policy and extensions; `config` every
    /// connection's (including [`Config::handshake_timeout`]).
    pub fn bind(
        addr: SocketAddr,
        server: impl Into<Arc<ServerConfig>>,
        config: Config,
    ) -> io::Result<Server> {
        Server::with_listener(TcpListener::bind(addr)?, server.into(), config)
    }

    /// Serves an already bound listener (made non-blocking here).
    pub fn from_std(
        listener: std::net::TcpListener,
        server: impl Into<Arc<ServerConfig>>,
        config: Config,
    ) -> io::Result<Server> {
        listener.set_nonblocking(true)?;
        Server::with_listener(TcpListener::from_std(listener), server.into(), config)
    }

    fn with_listener(
        mut listener: TcpListener,
        server_config: Arc<ServerConfig>,
        config: Config,
    ) -> io::Result<Server> {
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let registry = poll.registry().try_clone()?;
        Ok(Server {
            poll,
            events: Events::with_capacity(1024),
            listener,
            stop: Arc::new(AtomicBool::new(false)),
            waker,
            core: Core {
                registry,
                peers: Peers::default(),
                timers: Timers::default(),
                queue: VecDeque::new(),
                deferred: Vec::new(),
                touched: Vec::new(),
                scratch: vec![0; READ_CHUNK].into_boxed_slice(),
                clock: Clock::new(),
                server_config,
                config,
                linger: DEFAULT_LINGER,
                round: 0,
                accept_retry: None,
            },
        })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle that stops [`run`](Self::run) from another thread.
    #[must_use]
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            stop: Arc::clone(&self.stop),
            waker: Arc::clone(&self.waker),
        }
    }

    /// How long a socket is kept after our side of it is shut down (after a refusal, or once the
    /// connection is over), reading and discarding what the peer still sends until it closes. Closing a
    /// socket with unread input resets the connection, which can destroy our last bytes in flight.
    /// Default: 1 s.
    pub fn set_linger(&mut self, linger: Duration) {
        self.core.linger = linger;
    }

    /// Sockets being served, in any phase (handshake, open, closing).
    #[must_use]
    pub fn connections(&self) -> usize {
        self.core.peers.len()
    }

    /// Starts the close handshake on every open connection, for a graceful shutdown: run the loop until
    /// [`connections`](Self::connections) is 0 (a connection still in its handshake ends at its timeout).
    pub fn close_all(&mut self, code: CloseCode, reason: &str) {
        let mut ids = Vec::new();
        for peer in self.core.peers.iter_mut() {
            if let Phase::Open(open) = &mut peer.phase {
                if open.notified && open.conn.close(code, reason).is_ok() {
                    ids.push(peer.id);
                }
            }
        }
        for id in ids {
            self.core.schedule(id);
        }
    }

    /// Serves connections until a [`StopHandle`] stops it, or polling fails.
    pub fn run<H: Handler>(&mut self, handler: &mut H) -> io::Result<()> {
        self.run_until(handler, |_| false)
    }

    /// Serves connections until `stop` returns true (asked before each round, so it sees what the
    /// handler's callbacks did) or a [`StopHandle`] stops it.
    pub fn run_until<H: Handler>(
        &mut self,
        handler: &mut H,
        mut stop: impl FnMut(&mut H) -> bool,
    ) -> io::Result<()> {
        loop {
            if self.stop.swap(false, Ordering::AcqRel) || stop(handler) {
                return Ok(());
            }
            self.poll_once(handler, None)?;
        }
    }

    /// One round: waits for readiness, a deadline, or `timeout` (`None`: no limit of its own), then
    /// accepts, reads, writes, fires timers and calls the handler for whatever is ready.
    pub fn poll_once<H: Handler>(
        &mut self,
        handler: &mut H,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let wait = self.core.wait_time(timeout);
        if let Err(err) = self.poll.poll(&mut self.events, wait) {
            if err.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(err);
        }
        self.core.round += 1;
        let mut accept = false;
        for event in self.events.iter() {
            match event.token() {
                LISTENER => accept = true,
                WAKER => {}
                token => {
                    let readable =
                        event.is_readable() || event.is_read_closed() || event.is_error();
                    self.core.ready(peers::index(token), readable);
                }
            }
        }
        let now = self.core.clock.now();
        if accept || self.core.accept_retry.is_some_and(|at| at <= now) {
            self.accept_all();
        }
        self.core.expire_timers(now);
        self.core.run(handler);
        Ok(())
    }

    fn accept_all(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((socket, addr)) => self.core.add(socket, addr),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.core.accept_retry = None;
                    return;
                }
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) => {}
                Err(_) => {
                    // Out of descriptors or memory: the pending connections wait in the backlog, and no
                    // new readiness may come for them, so try again a little later.
                    self.core.accept_retry = Some(self.core.clock.after(ACCEPT_BACKOFF));
                    return;
                }
            }
        }
    }
}

impl Core {
    fn add(&mut self, mut socket: TcpStream, addr: SocketAddr) {
        let _ = socket.set_nodelay(true);
        let id = self.peers.reserve();
        let token = peers::token(id.index);
        if self
            .registry
            .register(&mut socket, token, Interest::READABLE)
            .is_err()
        {
            self.peers.release(id.index);
            return;
        }
        let deadline = self.clock.after(self.config.handshake_timeout);
        self.peers.put(Peer {
            id,
            socket,
            addr,
            phase: Phase::Handshake {
                handshake: ServerHandshake::new(Arc::clone(&self.server_config)),
                deadline,
            },
            writable_interest: false,
            read_ready: true,
            queued: false,
            round: 0,
            reads: 0,
            timer: None,
        });
        self.schedule(id);
    }

    fn schedule(&mut self, id: ConnectionId) {
        if let Some(peer) = self.peers.get_mut(id) {
            if !peer.queued {
                peer.queued = true;
                self.queue.push_back(id);
            }
        }
    }

    fn ready(&mut self, index: usize, readable: bool) {
        if let Some(peer) = self.peers.at_mut(index) {
            peer.read_ready |= readable;
            let id = peer.id;
            self.schedule(id);
        }
    }

    /// Serves every scheduled peer, and the peers the handler gives commands to meanwhile.
    fn run<H: Handler>(&mut self, handler: &mut H) {
        self.queue.extend(self.deferred.drain(..));
        while let Some(id) = self.queue.pop_front() {
            let Some(mut peer) = self.peers.take(id) else {
                continue;
            };
            peer.queued = false;
            if peer.round != self.round {
                peer.round = self.round;
                peer.reads = 0;
            }
            if self.serve(&mut peer, handler) && self.settle(&mut peer) {
                self.peers.put(peer);
            } else {
                self.remove(peer, handler);
            }
            while let Some(id) = self.touched.pop() {
                self.schedule(id);
            }
        }
    }

    /// Does all that can be done for `peer` now. False when it is to be removed.
    fn serve<H: Handler>(&mut self, peer: &mut Peer, handler: &mut H) -> bool {
        let now = self.clock.now();
        loop {
            let step = match peer.phase {
                Phase::Handshake { .. } => self.serve_handshake(peer, handler, now),
                Phase::Refusing { .. } => serve_refusing(peer, now, self.linger),
                Phase::Open(_) => self.serve_open(peer, handler, now),
                Phase::Draining { .. } => self.serve_draining(peer, now),
            };
            match step {
                Step::Again => {}
                Step::Wait => return true,
                Step::Remove => return false,
            }
        }
    }

    /// Brings the registration, the timer and the run queue in line with what `peer` waits for. False
    /// when the socket could not be re-registered.
    fn settle(&mut self, peer: &mut Peer) -> bool {
        let wants_write = peer.wants_write();
        if wants_write != peer.writable_interest {
            let interest = if wants_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let token = peers::token(peer.id.index);
            if self
                .registry
                .reregister(&mut peer.socket, token, interest)
                .is_err()
            {
                return false;
            }
            peer.writable_interest = wants_write;
        }
        let deadline = peer.deadline();
        if deadline != peer.timer {
            self.timers.replace(peer.id.index, peer.timer, deadline);
            peer.timer = deadline;
        }
        if peer.read_ready && peer.reads >= READ_BUDGET && !peer.queued {
            peer.queued = true;
            self.deferred.push(peer.id);
        }
        true
    }

    fn remove<H: Handler>(&mut self, mut peer: Peer, handler: &mut H) {
        let gone = io::Error::from(io::ErrorKind::ConnectionAborted);
        self.notify_close(&mut peer, handler, CloseReason::Failed(Error::Io(gone)));
        let _ = self.registry.deregister(&mut peer.socket);
        self.timers.replace(peer.id.index, peer.timer, None);
        self.peers.release(peer.id.index);
    }

    /// Calls [`Handler::on_close`] if the peer is open (once).
    fn notify_close<H: Handler>(&mut self, peer: &mut Peer, handler: &mut H, reason: CloseReason) {
        let Phase::Open(open) = &mut peer.phase else {
            return;
        };
        if !open.notified {
            return;
        }
        open.notified = false;
        let id = peer.id;
        let mut ctx = Context {
            peers: &mut self.peers,
            current: Current::Peer(peer),
            touched: &mut self.touched,
        };
        handler.on_close(&mut ctx, id, reason);
    }

    fn serve_handshake<H: Handler>(
        &mut self,
        peer: &mut Peer,
        handler: &mut H,
        now: Instant,
    ) -> Step {
        let Phase::Handshake {
            handshake,
            deadline,
        } = &mut peer.phase
        else {
            return Step::Again;
        };
        let deadline = *deadline;
        if now >= deadline {
            let timeout =
                io::Error::new(io::ErrorKind::TimedOut, "the opening handshake timed out");
            handler.on_handshake_error(peer.addr, Error::Io(timeout));
            return Step::Remove;
        }
        let request = loop {
            if !peer.read_ready || peer.reads >= READ_BUDGET {
                return Step::Wait;
            }
            match peer.socket.read(&mut self.scratch[..HEAD_CHUNK]) {
                Ok(0) => {
                    let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
                    handler.on_handshake_error(peer.addr, Error::Io(eof));
                    return Step::Remove;
                }
                Ok(n) => {
                    peer.reads += 1;
                    match handshake.handle_input(&self.scratch[..n]) {
                        Ok(Some(request)) => break request,
                        Ok(None) => {}
                        Err(err) => {
                            let out = err.to_response();
                            handler.on_handshake_error(peer.addr, Error::Request(err));
                            peer.phase = Phase::Refusing {
                                out,
                                written: 0,
                                deadline,
                            };
                            return Step::Again;
                        }
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    peer.read_ready = false;
                    return Step::Wait;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    handler.on_handshake_error(peer.addr, Error::Io(err));
                    return Step::Remove;
                }
            }
        };
        self.upgrade(peer, handler, request, deadline)
    }

    /// Asks the handler about a request, then opens the connection or starts the refusal.
    fn upgrade<H: Handler>(
        &mut self,
        peer: &mut Peer,
        handler: &mut H,
        request: Request,
        deadline: Instant,
    ) -> Step {
        let id = peer.id;
        let mut ctx = Context {
            peers: &mut self.peers,
            current: Current::Peer(peer),
            touched: &mut self.touched,
        };
        let (out, error) = match handler.on_request(&mut ctx, id, &request) {
            Ok(acceptance) => match request.accept(acceptance) {
                Ok(upgrade) => {
                    let mut conn = Connection::server(self.config);
                    if let Some(extension) = upgrade.extension {
                        conn = conn.with_extension(extension);
                    }
                    conn.handle_input(&upgrade.trailing);
                    if let Current::Peer(peer) = &mut ctx.current {
                        peer.phase = Phase::Open(Box::new(Open {
                            conn,
                            head: upgrade.response,
                            head_written: 0,
                            notified: true,
                            closing_deadline: None,
                        }));
                    }
                    handler.on_open(&mut ctx, id);
                    return Step::Again;
                }
                Err(err) => (err.to_response(), Error::Request(err)),
            },
            Err(rejection) => (
                rejection.to_bytes(),
                Error::Rejected {
                    status: rejection.status(),
                },
            ),
        };
        handler.on_handshake_error(peer.addr, error);
        peer.phase = Phase::Refusing {
            out,
            written: 0,
            deadline,
        };
        Step::Again
    }

    fn serve_open<H: Handler>(&mut self, peer: &mut Peer, handler: &mut H, now: Instant) -> Step {
        if let Phase::Open(open) = &mut peer.phase {
            // Fire the connection's timers that are due (or that ask to be armed now); a call for a
            // deadline not yet reached does nothing, so a few rounds settle it.
            for _ in 0..4 {
                match open.conn.poll_timeout() {
                    Some(at) if at <= now => open.conn.handle_timeout(now),
                    _ => break,
                }
            }
        }
        loop {
            let held_back = self.deliver(peer, handler);
            let Phase::Open(open) = &mut peer.phase else {
                return Step::Again;
            };
            if let Err(err) = write_open(&mut peer.socket, open) {
                self.notify_close(peer, handler, CloseReason::Failed(Error::Io(err)));
                return Step::Remove;
            }
            if open.conn.should_close_transport() {
                if open.pending_output() {
                    let at = *open
                        .closing_deadline
                        .get_or_insert(now + self.config.close_timeout);
                    return if now >= at { Step::Remove } else { Step::Wait };
                }
                let _ = peer.socket.shutdown(Shutdown::Write);
                peer.phase = Phase::Draining {
                    deadline: now + self.linger,
                };
                return Step::Again;
            }
            // Paused while the output is full: the writable event resumes it.
            if !open.has_room() {
                return Step::Wait;
            }
            // The output has room again: deliver what was held back, already read (no readiness event
            // will come for it), before reading more.
            if held_back {
                continue;
            }
            if !peer.read_ready || peer.reads >= READ_BUDGET {
                return Step::Wait;
            }
            let buf = open.conn.read_buffer(1);
            match peer.socket.read(buf) {
                Ok(0) => {
                    peer.reads += 1;
                    open.conn.handle_eof();
                }
                Ok(n) => {
                    peer.reads += 1;
                    open.conn.handle_read(n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    peer.read_ready = false;
                    return Step::Wait;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.notify_close(peer, handler, CloseReason::Failed(Error::Io(err)));
                    return Step::Remove;
                }
            }
        }
    }

    /// Hands the connection's events to the handler while its output has room (and its failure or close
    /// in any case). Each event is borrowed from the connection's receive buffer, and the handler's replies
    /// on the same connection go through its sending half: no copy. True when it stopped because the
    /// output was full, so received input may still wait.
    fn deliver<H: Handler>(&mut self, peer: &mut Peer, handler: &mut H) -> bool {
        let id = peer.id;
        let addr = peer.addr;
        loop {
            let Phase::Open(open) = &mut peer.phase else {
                return false;
            };
            if !open.notified {
                return false;
            }
            if !(open.has_room() || open.conn.should_close_transport()) {
                return true;
            }
            let peers = &mut self.peers;
            let touched = &mut self.touched;
            let delivered = open.conn.poll_event_with(|event, sender| {
                if let Event::Close { code, reason } = event {
                    return Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    });
                }
                let mut ctx = Context {
                    peers,
                    current: Current::Replying {
                        id,
                        addr,
                        sender: sender.reborrow(),
                    },
                    touched,
                };
                handler.on_event(&mut ctx, id, event);
                None
            });
            let reason = match delivered {
                Ok(None) => return false,
                Ok(Some(None)) => continue,
                Ok(Some(Some(frame))) => CloseReason::Closed(frame),
                Err(err) => CloseReason::Failed(Error::Protocol(err)),
            };
            self.notify_close(peer, handler, reason);
        }
    }

    fn serve_draining(&mut self, peer: &mut Peer, now: Instant) -> Step {
        let Phase::Draining { deadline } = peer.phase else {
            return Step::Again;
        };
        if now >= deadline {
            return Step::Remove;
        }
        loop {
            if !peer.read_ready || peer.reads >= READ_BUDGET {
                return Step::Wait;
            }
            match peer.socket.read(&mut self.scratch) {
                Ok(0) => return Step::Remove,
                Ok(_) => peer.reads += 1,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    peer.read_ready = false;
                    return Step::Wait;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Step::Remove,
            }
        }
    }
}

/// Writes the refusal, then shuts our side down and lingers.
fn serve_refusing(peer: &mut Peer, now: Instant, linger: Duration) -> Step {
    let Phase::Refusing {
        out,
        written,
        deadline,
    } = &mut peer.phase
    else {
        return Step::Again;
    };
    if now >= *deadline {
        return Step::Remove;
    }
    while *written < out.len() {
        match peer.socket.write(&out[*written..]) {
            Ok(0) => return Step::Remove,
            Ok(n) => *written += n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Step::Remove,
        }
    }
    let _ = peer.socket.shutdown(Shutdown::Write);
    peer.phase = Phase::Draining {
        deadline: now + linger,
    };
    Step::Again
}

/// Writes the 101 response, then the connection's output, until done or the socket would block.
fn write_open(socket: &mut TcpStream, open: &mut Open) -> io::Result<()> {
    while open.head_written < open.head.len() {
        match socket.write(&open.head[open.head_written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => open.head_written += n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    if !open.head.is_empty() {
        open.head = Vec::new();
        open.head_written = 0;
    }
    loop {
        let out = open.conn.poll_transmit();
        if out.is_empty() {
            return Ok(());
        }
        match socket.write(out) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => open.conn.advance_transmit(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}
