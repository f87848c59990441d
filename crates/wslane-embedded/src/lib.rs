//! # wslane-embedded
//!
//! WebSocket client and server over [`embedded-io-async`](embedded_io_async) transports, such as
//! embassy-net's `TcpSocket`: `no_std`, no heap, everything in caller buffers. It drives the heap-free
//! core of [`wslane`] ([`wslane::unbuffered`]), so the protocol rules are the same as in every other
//! wslane adapter.
//!
//! - [`connect`] sends the upgrade request and checks the response; [`accept`] reads a request, lets the
//!   caller decide (path, `Origin`, subprotocol), and answers it. Both return a [`WebSocket`].
//! - [`WebSocket::next`] returns the next [`Event`]: whole messages when they arrived in one frame that
//!   fits the receive buffer, [`Event::Fragment`]s otherwise. Pongs, keepalive pings and the close reply
//!   go out by themselves.
//! - Time comes from a [`Clock`]: yours, or [`EmbassyClock`] with the `embassy-time` feature (which needs
//!   Rust 1.85, as embassy-time does; the rest of the crate builds on the workspace MSRV).
//! - The client's randomness (handshake nonce, masking keys) comes from the caller too.
//!
//! One receive and one transmit buffer serve the handshake and then the connection: 1 KiB each is
//! plenty for small messages; a message larger than the receive buffer arrives in pieces, and one larger
//! than the transmit buffer is sent in pieces (continuation frames) by itself.
//!
//! ```no_run
//! # async fn demo<T: embedded_io_async::Read + embedded_io_async::Write>(
//! #     socket: T, clock: impl wslane_embedded::Clock, nonce: [u8; 16], keys: impl wslane::mask_keys::MaskKeySource,
//! # ) -> Result<(), wslane_embedded::Error<T::Error>> {
//! use wslane::unbuffered::handshake::ClientRequest;
//! use wslane_embedded::{connect, Event, Options};
//!
//! let (mut rx, mut tx) = ([0; 1024], [0; 1024]);
//! let request = ClientRequest::new("example.com", "/chat").map_err(wslane_embedded::Error::Build)?;
//! let (mut ws, _protocol) =
//!     connect(socket, clock, &request, nonce, keys, Options::default(), &mut rx, &mut tx).await?;
//! ws.send_text("hello").await?;
//! if let Event::Text(reply) = ws.next().await? {
//!     // ...
//! #   let _ = reply;
//! }
//! ws.close(wslane::CloseCode::NORMAL, "").await?;
//! # Ok(()) }
//! ```
#![no_std]
#![deny(unsafe_code)]

use core::fmt;
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;

use embedded_io_async::{Read, Write};
use wslane::unbuffered::connection::{Connection, NoMask};
pub use wslane::unbuffered::connection::{Event, Fragment};
use wslane::unbuffered::handshake::{
    parse_request, write_rejection, AcceptError, BufferTooSmall, BuildError, ClientRequest, Header,
    Request, RequestError, ResponseError, Status, EMPTY_HEADER,
};
use wslane::{mask_keys::MaskKeySource, CloseCode, Config, DataKind, Instant, SendError};

#[cfg(feature = "embassy-time")]
mod embassy;
#[cfg(feature = "embassy-time")]
pub use embassy::EmbassyClock;

/// The most header fields a handshake head may have (the array lives on the stack while it is read).
pub const MAX_HEADERS: usize = 24;

/// A monotonic clock and a timer: the adapter's only contact with time.
pub trait Clock {
    /// The time now, on any monotonic scale (from boot, say).
    fn now(&self) -> Instant;
    /// Completes at `deadline` (at once if it has passed).
    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()>;
}

/// Settings: the connection's [`Config`] and the time the opening handshake may take.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The connection's settings (keepalive, timeouts, size limits). Default: [`Config::default`].
    pub config: Config,
    /// How long the opening handshake may take, from the call to the upgrade. Default: 10 s.
    pub handshake_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            config: Config::default(),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Why an operation failed, and whose fault it is ([`Error::is_peer_fault`]).
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The transport failed.
    Io(E),
    /// The transport ended during the opening handshake, or accepted no more bytes.
    TransportClosed,
    /// The opening handshake took longer than [`Options::handshake_timeout`].
    HandshakeTimeout,
    /// The client's request was refused (the client's fault); the refusal with
    /// [`RequestError::status`] was sent.
    Request(RequestError),
    /// The server's response was refused (the server's fault).
    Response(ResponseError),
    /// The caller refused the request with this status, which was sent.
    Rejected(u16),
    /// A buffer is too small for the handshake head or the connection (the caller's fault).
    BufferTooSmall(BufferTooSmall),
    /// The request could not be built from the caller's values (the caller's fault).
    Build(BuildError),
    /// The caller's answer to a request cannot be written: a subprotocol the client did not offer, a
    /// rejection status outside 400..=599, or a transmit buffer too small (the caller's fault).
    Accept(AcceptError),
    /// The connection failed: the peer broke the protocol (its close code was sent), or a timeout.
    Connection(wslane::Error),
    /// A send was refused: after the close, a control payload too long, or (`BufferFull`) a frame larger
    /// than the whole transmit buffer (the caller's fault).
    Send(SendError),
    /// The connection is over: the close handshake is done or the connection failed before. Not a
    /// fault; drop (close) the transport.
    Closed,
}

impl<E> Error<E> {
    /// Whether the peer caused it (a bad request or response, a protocol violation, its close); `false`
    /// for the caller's misuse, the transport and timeouts.
    pub fn is_peer_fault(&self) -> bool {
        match self {
            Error::Request(_) | Error::Response(_) => true,
            Error::Connection(err) => matches!(err, wslane::Error::Protocol(_)),
            _ => false,
        }
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(err) => write!(f, "transport error: {err:?}"),
            Error::TransportClosed => f.write_str("the transport closed during the handshake"),
            Error::HandshakeTimeout => f.write_str("the opening handshake timed out"),
            Error::Request(err) => write!(f, "refused the client's request: {err}"),
            Error::Response(err) => write!(f, "refused the server's response: {err}"),
            Error::Rejected(status) => write!(f, "rejected the request with {status}"),
            Error::BufferTooSmall(err) => fmt::Display::fmt(err, f),
            Error::Build(err) => fmt::Display::fmt(err, f),
            Error::Accept(err) => fmt::Display::fmt(err, f),
            Error::Connection(err) => write!(f, "connection failed: {err}"),
            Error::Send(err) => write!(f, "cannot send: {err}"),
            Error::Closed => f.write_str("the connection is closed"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

/// The caller's answer to an upgrade request, from the `decide` function given to [`accept`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer<'p> {
    /// Accept, with one of the client's offered subprotocols (or none).
    Accept(Option<&'p str>),
    /// Refuse with this status (400 to 599): a wrong path (404), an `Origin` not allowed (403).
    Reject(u16),
}

/// A WebSocket over an `embedded-io-async` transport, after the opening handshake.
///
/// [`next`](Self::next) must be called to make progress: it receives, answers pings, runs keepalive and
/// the timeouts, and flushes what was sent. Sends flush before they return.
pub struct WebSocket<'b, T, C, K: MaskKeySource = NoMask> {
    io: T,
    clock: C,
    conn: Connection<'b, K>,
}

impl<T, C, K: MaskKeySource> fmt::Debug for WebSocket<'_, T, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

/// Which of two futures finished first.
enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Runs both futures, returning the output of the first to finish (the other is dropped).
async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(out));
        }
        Poll::Pending
    })
    .await
}

/// Writes all of `bytes` before `deadline`.
async fn write_all_by<T: Write, C: Clock>(
    io: &mut T,
    clock: &C,
    bytes: &[u8],
    deadline: Instant,
) -> Result<(), Error<T::Error>> {
    let write = async {
        io.write_all(bytes).await?;
        io.flush().await
    };
    match select(write, clock.sleep_until(deadline)).await {
        Either::Left(result) => result.map_err(Error::Io),
        Either::Right(()) => Err(Error::HandshakeTimeout),
    }
}

/// Reads once into `buf` before `deadline`; `Ok(0)` is the end of the transport.
async fn read_by<T: Read, C: Clock>(
    io: &mut T,
    clock: &C,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<usize, Error<T::Error>> {
    match select(io.read(buf), clock.sleep_until(deadline)).await {
        Either::Left(result) => result.map_err(Error::Io),
        Either::Right(()) => Err(Error::HandshakeTimeout),
    }
}

/// Opens a WebSocket as a client over `io`: writes `request` (its `Sec-WebSocket-Key` from `nonce`, 16
/// bytes from a good random source), reads and checks the server's response, and returns the
/// connection (masking with `keys`) with the subprotocol the server chose, one of `request`'s.
///
/// `rx` and `tx` hold the response and the request, then serve the connection (at least
/// [`MIN_RECEIVE_BUFFER`](wslane::unbuffered::connection::MIN_RECEIVE_BUFFER) bytes each).
#[allow(clippy::too_many_arguments)]
pub async fn connect<'b, 'a, T, C, K>(
    mut io: T,
    clock: C,
    request: &ClientRequest<'a>,
    nonce: [u8; 16],
    keys: K,
    options: Options,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Result<(WebSocket<'b, T, C, K>, Option<&'a str>), Error<T::Error>>
where
    T: Read + Write,
    C: Clock,
    K: MaskKeySource,
{
    let deadline = clock.now() + options.handshake_timeout;
    let (len, handshake) = request.write(nonce, tx).map_err(Error::BufferTooSmall)?;
    write_all_by(&mut io, &clock, &tx[..len], deadline).await?;
    let mut filled = 0;
    let (protocol, head_len) = loop {
        let Some(spare) = rx.get_mut(filled..).filter(|s| !s.is_empty()) else {
            return Err(Error::Response(ResponseError::HeadTooLarge));
        };
        let n = read_by(&mut io, &clock, spare, deadline).await?;
        if n == 0 {
            return Err(Error::TransportClosed);
        }
        filled += n;
        let mut headers = [EMPTY_HEADER; MAX_HEADERS];
        match handshake.parse_response(&rx[..filled], &mut headers) {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete(response)) => {
                // The chosen subprotocol, as the caller's own string (it outlives the buffer).
                let chosen = response.protocol().and_then(|chosen| {
                    request
                        .offered_protocols()
                        .iter()
                        .copied()
                        .find(|p| *p == chosen)
                });
                break (chosen, response.head_len());
            }
            Err(err) => return Err(Error::Response(err)),
        }
    };
    let now = clock.now();
    let conn = Connection::client(now, options.config, keys, rx, tx)
        .map_err(Error::BufferTooSmall)?
        .with_received(now, head_len..filled);
    Ok((WebSocket { io, clock, conn }, protocol))
}

/// Accepts a WebSocket as a server over `io`: reads the client's request, checks it (a bad one is
/// refused with its status, and [`Error::Request`] returned), asks `decide` what to answer (given the
/// checked request: target, `Origin`, offered subprotocols, fields), writes the answer, and returns the
/// connection with the subprotocol chosen.
///
/// `rx` and `tx` hold the request and the answer, then serve the connection (at least
/// [`MIN_RECEIVE_BUFFER`](wslane::unbuffered::connection::MIN_RECEIVE_BUFFER) bytes each). A request
/// head larger than `rx` is refused with 431.
pub async fn accept<'b, 'p, T, C>(
    mut io: T,
    clock: C,
    options: Options,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
    decide: impl FnOnce(&Request<'_, '_>) -> Answer<'p>,
) -> Result<(WebSocket<'b, T, C>, Option<&'p str>), Error<T::Error>>
where
    T: Read + Write,
    C: Clock,
{
    let deadline = clock.now() + options.handshake_timeout;
    let mut filled = 0;
    let outcome = loop {
        let Some(spare) = rx.get_mut(filled..).filter(|s| !s.is_empty()) else {
            break Outcome::Refuse(RequestError::HeadTooLarge);
        };
        let n = read_by(&mut io, &clock, spare, deadline).await?;
        if n == 0 {
            return Err(Error::TransportClosed);
        }
        filled += n;
        let mut headers: [Header<'_>; MAX_HEADERS] = [EMPTY_HEADER; MAX_HEADERS];
        match parse_request(&rx[..filled], &mut headers) {
            Ok(Status::Partial) => continue,
            Err(err) => break Outcome::Refuse(err),
            Ok(Status::Complete(request)) => {
                break match decide(&request) {
                    Answer::Reject(status) => Outcome::Reject(status),
                    Answer::Accept(protocol) => match request.accept(protocol, &[], tx) {
                        Ok(len) => Outcome::Accept(len, protocol, request.head_len()),
                        Err(err) => return Err(Error::Accept(err)),
                    },
                };
            }
        }
    };
    match outcome {
        Outcome::Accept(len, protocol, head_len) => {
            write_all_by(&mut io, &clock, &tx[..len], deadline).await?;
            let now = clock.now();
            let conn = Connection::server(now, options.config, rx, tx)
                .map_err(Error::BufferTooSmall)?
                .with_received(now, head_len..filled);
            Ok((WebSocket { io, clock, conn }, protocol))
        }
        Outcome::Refuse(err) => {
            // The client's fault: tell it why (when the refusal fits the transmit buffer).
            if let Ok(len) = err.write_response(tx) {
                write_all_by(&mut io, &clock, &tx[..len], deadline).await?;
            }
            Err(Error::Request(err))
        }
        Outcome::Reject(status) => {
            let len = write_rejection(status, &[], None, tx).map_err(Error::Accept)?;
            write_all_by(&mut io, &clock, &tx[..len], deadline).await?;
            Err(Error::Rejected(status))
        }
    }
}

/// What the server's handshake settled.
enum Outcome<'p> {
    /// Accepted: the response's length, the subprotocol, the request head's length.
    Accept(usize, Option<&'p str>, usize),
    /// The client's request is refused.
    Refuse(RequestError),
    /// The caller refused the request with this status.
    Reject(u16),
}

impl<'b, T, C, K> WebSocket<'b, T, C, K>
where
    T: Read + Write,
    C: Clock,
    K: MaskKeySource,
{
    /// The next event. Pings are answered, keepalive pings sent and timeouts applied on the way.
    ///
    /// After the peer's close ([`Event::Close`]), or once the connection failed and its error was
    /// returned, the next call returns [`Error::Closed`]: drop (close) the transport then.
    pub async fn next(&mut self) -> Result<Event<'_>, Error<T::Error>> {
        loop {
            self.flush().await?;
            if self.conn.has_event() {
                break;
            }
            if self.conn.should_close_transport() {
                return Err(Error::Closed);
            }
            self.fill().await?;
        }
        match self.conn.poll_event() {
            Ok(Some(event)) => Ok(event),
            Ok(None) => Err(Error::Closed),
            Err(err) => Err(Error::Connection(err)),
        }
    }

    /// Reads once, or applies the timeout that comes first.
    async fn fill(&mut self) -> Result<(), Error<T::Error>> {
        let deadline = self.conn.poll_timeout();
        if let Some(deadline) = deadline {
            let now = self.clock.now();
            if deadline <= now {
                self.conn.handle_timeout(now);
                return Ok(());
            }
        }
        let buf = self.conn.read_buffer();
        let outcome = match deadline {
            Some(deadline) => select(self.io.read(buf), self.clock.sleep_until(deadline)).await,
            None => Either::Left(self.io.read(buf).await),
        };
        let now = self.clock.now();
        match outcome {
            Either::Left(Ok(0)) => self.conn.handle_eof(now),
            Either::Left(Ok(n)) => self.conn.handle_read(now, n),
            Either::Left(Err(err)) => return Err(Error::Io(err)),
            // The clock is checked again by `handle_timeout`; an early wake-up changes nothing.
            Either::Right(()) => self.conn.handle_timeout(now),
        }
        Ok(())
    }

    /// Writes everything queued, bounded by the connection's write timeout.
    pub async fn flush(&mut self) -> Result<(), Error<T::Error>> {
        let mut wrote = false;
        while !self.conn.poll_transmit().is_empty() {
            let deadline = self.conn.poll_timeout();
            let out = self.conn.poll_transmit();
            let outcome = match deadline {
                Some(deadline) => {
                    select(self.io.write(out), self.clock.sleep_until(deadline)).await
                }
                None => Either::Left(self.io.write(out).await),
            };
            let now = self.clock.now();
            match outcome {
                Either::Left(Ok(0)) => return Err(Error::TransportClosed),
                Either::Left(Ok(n)) => {
                    self.conn.advance_transmit(now, n);
                    wrote = true;
                }
                Either::Left(Err(err)) => return Err(Error::Io(err)),
                Either::Right(()) => self.conn.handle_timeout(now),
            }
        }
        if wrote {
            self.io.flush().await.map_err(Error::Io)?;
        }
        Ok(())
    }

    /// Runs `send`; when the transmit buffer is full, flushes and tries once more.
    async fn send_with(
        &mut self,
        send: impl Fn(&mut Connection<'b, K>) -> Result<(), SendError>,
    ) -> Result<(), Error<T::Error>> {
        match send(&mut self.conn) {
            Err(SendError::BufferFull) => {
                self.flush().await?;
                send(&mut self.conn).map_err(Error::Send)?;
            }
            result => result.map_err(Error::Send)?,
        }
        self.flush().await
    }

    /// Sends a text message: in one frame when it fits the transmit buffer, else in pieces.
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error<T::Error>> {
        match self.send_with(|conn| conn.send_text(text)).await {
            // Larger than the whole transmit buffer: as a message in pieces.
            Err(Error::Send(SendError::BufferFull)) => {
                self.send_pieces(DataKind::Text, text.as_bytes(), true)
                    .await
            }
            result => result,
        }
    }

    /// Sends a binary message: in one frame when it fits the transmit buffer, else in pieces.
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error<T::Error>> {
        match self.send_with(|conn| conn.send_binary(data)).await {
            Err(Error::Send(SendError::BufferFull)) => {
                self.send_pieces(DataKind::Binary, data, true).await
            }
            result => result,
        }
    }

    /// Sends one piece of a message sent in pieces; `fin` ends the message. See
    /// [`Connection::send_fragment`]. A piece larger than the transmit buffer goes out as several
    /// frames.
    pub async fn send_fragment(
        &mut self,
        kind: DataKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error<T::Error>> {
        match self
            .send_with(|conn| conn.send_fragment(kind, data, fin))
            .await
        {
            Err(Error::Send(SendError::BufferFull)) => self.send_pieces(kind, data, fin).await,
            result => result,
        }
    }

    /// Sends `data` as continuation of (or the start of) a message of `kind`, in frames that fit the
    /// empty transmit buffer; `fin` on the last.
    async fn send_pieces(
        &mut self,
        kind: DataKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error<T::Error>> {
        self.flush().await?;
        let room = self.conn.available_output();
        // The largest payload whose frame fits (headers are at most 14 bytes).
        let size = room.saturating_sub(wslane::frame::MAX_HEADER_LEN);
        if size == 0 {
            return Err(Error::Send(SendError::BufferFull));
        }
        let mut pieces = data.chunks(size).peekable();
        while let Some(piece) = pieces.next() {
            let last = pieces.peek().is_none();
            self.send_with(|conn| conn.send_fragment(kind, piece, fin && last))
                .await?;
        }
        Ok(())
    }

    /// Sends a ping (payload at most 125 bytes).
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error<T::Error>> {
        self.send_with(|conn| conn.ping(payload)).await
    }

    /// Closes: sends a close frame with `code` and `reason`, then reads until the peer's close (events
    /// that arrive before it are dropped), the connection fails, or the close timeout passes. Drop
    /// (close) the transport afterwards.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<T::Error>> {
        self.send_with(|conn| conn.close(code, reason)).await?;
        loop {
            match self.next().await {
                Ok(_) => {}
                Err(Error::Closed) => return Ok(()),
                Err(Error::Connection(wslane::Error::CloseTimeout)) => return Ok(()),
                Err(err) => return Err(err),
            }
        }
    }

    /// The connection state machine, for what this type does not expose (state, buffered output).
    pub fn connection(&self) -> &Connection<'b, K> {
        &self.conn
    }

    /// The transport, given back (to close it).
    pub fn into_inner(self) -> T {
        self.io
    }
}
