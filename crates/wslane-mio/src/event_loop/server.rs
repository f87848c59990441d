//! The public [`Server`] and its [`StopHandle`]: binding, settings, and the round that polls, accepts,
//! fires timers and serves what is ready.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Waker};
use wslane::handshake::ServerConfig;
use wslane::{CloseCode, Config};

use super::handler::Handler;
use super::peer::Phase;
use super::peers::{self, LISTENER, WAKER};
use super::serve::Core;

/// A WebSocket server: a listener and its connections, served on one thread by a [`Handler`].
///
/// Each accepted socket goes through the same phases: the opening handshake (bounded in size by the
/// core's [`Limits`](wslane::handshake::Limits) and in time by [`Limits::timeout`](wslane::handshake::Limits::timeout); a refusal
/// is answered with its HTTP status, a plain `GET` with [`Handler::on_http_get`]'s answer if it has one),
/// the open connection (driven by a [`Connection`]), and a short
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
///
/// [`Connection`]: wslane::Connection
/// [`Connection::should_close_transport`]: wslane::Connection::should_close_transport
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

impl Server {
    /// Listens on `addr`. `server` sets the handshake's limits, origin policy and extensions; `config` every
    /// connection's (including [`Limits::timeout`](wslane::handshake::Limits::timeout)).
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
            core: Core::new(registry, server_config, config),
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
                if open.notified && open.conn.sender().close(code, reason).is_ok() {
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
            self.core.accept_all(&self.listener);
        }
        self.core.expire_timers(now);
        self.core.run(handler);
        Ok(())
    }
}
