//! The opening handshake over a blocking transport, bounded by [`Config::handshake_timeout`]. The rules are
//! the core's ([`wslane::handshake`]); this only moves bytes.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wslane::handshake::{
    Acceptance, ClientRequest, ClientUpgrade, Rejection, Request, ServerConfig, ServerHandshake,
    Url,
};
use wslane::mask_keys::ChaChaKeys;
use wslane::Config;

use super::{is_retry, Transport, WebSocket};
use crate::{upgrade, Error};
use wslane::gate::ConnectGate;

/// Bytes read per call while the head is incomplete; the head itself is bounded by the handshake limits.
const HEAD_CHUNK: usize = 1024;

/// How long a refused client is given to close its side after the refusal, so that its unread bytes do not
/// turn our close into a reset that could destroy the refusal in flight.
const LINGER: Duration = Duration::from_secs(1);

/// The end of the handshake's time.
struct Deadline(Instant);

impl Deadline {
    fn after(limit: Duration) -> Deadline {
        Deadline(Instant::now() + limit)
    }

    /// The time left, or a [`io::ErrorKind::TimedOut`] error once there is none.
    fn remaining(&self) -> io::Result<Duration> {
        match self.0.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the opening handshake timed out",
            )),
        }
    }
}

/// Accepts a WebSocket connection on `stream` with default settings, from any origin.
pub fn accept<S: Transport>(stream: S) -> Result<WebSocket<S>, Error> {
    accept_with(stream, ServerConfig::default(), Config::default(), |_| {
        Ok(Acceptance::new())
    })
}

/// Accepts a WebSocket connection on `stream`. `decide` sees the checked request (path, headers, `Origin`,
/// offered subprotocols) and accepts it, with a subprotocol and extra response fields, or refuses it with
/// a status. Refusals, the caller's or the handshake's own, are answered before the error is returned. The
/// handshake is bounded by [`Config::handshake_timeout`] (an [`io::ErrorKind::TimedOut`] error).
pub fn accept_with<S, F>(
    mut stream: S,
    server: impl Into<Arc<ServerConfig>>,
    config: Config,
    decide: F,
) -> Result<WebSocket<S>, Error>
where
    S: Transport,
    F: FnOnce(&Request) -> Result<Acceptance, Rejection>,
{
    let deadline = Deadline::after(config.handshake_timeout);
    let mut handshake = ServerHandshake::new(server);
    let mut buf = [0; HEAD_CHUNK];
    let request = loop {
        let n = read_some(&mut stream, &mut buf, &deadline)?;
        match handshake.handle_input(&buf[..n]) {
            Ok(Some(request)) => break request,
            Ok(None) => {}
            Err(err) => {
                refuse(&mut stream, &err.to_response(), &deadline);
                return Err(Error::Request(err));
            }
        }
    };
    let acceptance = match decide(&request) {
        Ok(acceptance) => acceptance,
        Err(rejection) => {
            refuse(&mut stream, &rejection.to_bytes(), &deadline);
            return Err(Error::Rejected {
                status: rejection.status(),
            });
        }
    };
    let mut upgrade = match request.accept(acceptance) {
        Ok(upgrade) => upgrade,
        Err(err) => {
            refuse(&mut stream, &err.to_response(), &deadline);
            return Err(Error::Request(err));
        }
    };
    write_all(&mut stream, &upgrade.response, &deadline)?;
    clear_timeouts(&stream)?;
    let conn = upgrade::server_connection(config, &mut upgrade);
    Ok(WebSocket::new(stream, conn))
}

/// Connects to a `ws://` URL with default settings.
pub fn connect(url: &str) -> Result<(WebSocket<TcpStream>, ClientUpgrade), Error> {
    connect_with(ClientRequest::new(Url::parse(url)?), Config::default())
}

/// Connects with a built request (origin, subprotocols, extensions, extra fields) and connection settings.
/// Connecting, then the opening handshake, are each bounded by [`Config::handshake_timeout`].
///
/// RFC 6455 section 4.1: while this connection is in the CONNECTING state, other connections from this
/// process (made with this function) to the same address wait their turn.
///
/// `wss://` is not supported here: make the TLS stream yourself and run the handshake over it with
/// [`client_on`].
pub fn connect_with(
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<TcpStream>, ClientUpgrade), Error> {
    let limit = config.handshake_timeout;
    let url = request.url();
    if url.is_tls() {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::Unsupported,
            "wslane-mio has no TLS: run client_on over a TLS stream for wss://",
        )));
    }
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for addr in (url.host(), url.port()).to_socket_addrs()? {
        // The timeout bounds this connection's own attempt, not its wait behind others at the gate (each
        // of which is bounded by its own timeout).
        let _connecting = ConnectGate::global().acquire_blocking(addr);
        let tcp = match TcpStream::connect_timeout(&addr, limit) {
            Ok(tcp) => tcp,
            Err(err) => {
                last_error = err;
                continue;
            }
        };
        tcp.set_nodelay(true)?;
        return handshake(tcp, request, config, &Deadline::after(limit));
    }
    Err(Error::Io(last_error))
}

/// Runs the client handshake on a stream that is already connected (a TLS stream, a proxy tunnel, a Unix
/// socket), bounded by [`Config::handshake_timeout`]. The caller keeps the section 4.1 rule for such
/// streams.
pub fn client_on<S: Transport>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, ClientUpgrade), Error> {
    let deadline = Deadline::after(config.handshake_timeout);
    handshake(stream, request, config, &deadline)
}

fn handshake<S: Transport>(
    mut stream: S,
    request: ClientRequest,
    config: Config,
    deadline: &Deadline,
) -> Result<(WebSocket<S>, ClientUpgrade), Error> {
    let mut nonce = [0; 16];
    let mut seed = [0; 32];
    getrandom::fill(&mut nonce).map_err(io::Error::from)?;
    getrandom::fill(&mut seed).map_err(io::Error::from)?;
    let (mut handshake, request) = request.start(nonce);
    write_all(&mut stream, &request, deadline)?;
    let mut buf = [0; HEAD_CHUNK];
    let mut upgrade = loop {
        let n = read_some(&mut stream, &mut buf, deadline)?;
        if let Some(upgrade) = handshake.handle_input(&buf[..n])? {
            break upgrade;
        }
    };
    clear_timeouts(&stream)?;
    let conn = upgrade::client_connection(config, ChaChaKeys::from_seed(seed), &mut upgrade);
    Ok((WebSocket::new(stream, conn), upgrade))
}

/// Reads at least one byte before the deadline; the end of the stream is an error here.
fn read_some<S: Transport>(
    stream: &mut S,
    buf: &mut [u8],
    deadline: &Deadline,
) -> Result<usize, Error> {
    loop {
        stream.set_read_timeout(Some(deadline.remaining()?))?;
        match stream.read(buf) {
            Ok(0) => return Err(Error::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => return Ok(n),
            Err(err) if is_retry(&err) => {}
            Err(err) => return Err(Error::Io(err)),
        }
    }
}

fn write_all<S: Transport>(stream: &mut S, mut data: &[u8], deadline: &Deadline) -> io::Result<()> {
    while !data.is_empty() {
        stream.set_write_timeout(Some(deadline.remaining()?))?;
        match stream.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(err) if is_retry(&err) => {}
            Err(err) => return Err(err),
        }
    }
    stream.flush()
}

fn clear_timeouts<S: Transport>(stream: &S) -> io::Result<()> {
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)
}

/// Writes a refusal and ends the sending direction, then reads what the client still sends until it
/// closes (for at most [`LINGER`], within the handshake's time), so that closing does not reset the
/// connection under the refusal. The peer may already be gone, which changes nothing.
fn refuse<S: Transport>(stream: &mut S, response: &[u8], deadline: &Deadline) {
    if write_all(stream, response, deadline).is_err() || stream.shutdown_write().is_err() {
        return;
    }
    let linger = Deadline::after(LINGER.min(deadline.remaining().unwrap_or_default()));
    let mut buf = [0; HEAD_CHUNK];
    while let Ok(left) = linger.remaining() {
        if stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(err) if is_retry(&err) => {}
            Err(_) => return,
        }
    }
}
