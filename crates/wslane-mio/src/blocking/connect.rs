//! The client's opening handshake over a blocking transport: connecting (or taking a stream already
//! connected), sending the request and reading the response. The rules are the core's
//! ([`wslane::handshake`]); this only moves bytes.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};

use wslane::handshake::{ClientRequest, ServerResponse, Url};
use wslane::mask_keys::ChaChaKeys;
use wslane::Config;
use wslane_async::ConnectGate;

use super::handshake::{clear_timeouts, read_some, write_all, Deadline, HEAD_CHUNK};
use super::transport::Transport;
use super::WebSocket;
use crate::Error;

/// Connects to a `ws://` URL with default settings.
pub fn connect(url: &str) -> Result<(WebSocket<TcpStream>, ServerResponse), Error> {
    connect_with(ClientRequest::new(Url::parse(url)?), Config::default())
}

/// Connects with a built request (origin, subprotocols, extensions, extra fields) and connection settings.
/// Connecting, then the opening handshake, are each bounded by [`Limits::timeout`](wslane::handshake::Limits::timeout).
///
/// RFC 6455 section 4.1: while this connection is in the CONNECTING state, other connections from this
/// process (made with this function) to the same address wait their turn.
///
/// `wss://` is not supported here: make the TLS stream yourself and run the handshake over it with
/// [`client_on`].
pub fn connect_with(
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<TcpStream>, ServerResponse), Error> {
    let limit = request.handshake_limits().timeout;
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
/// socket), bounded by [`Limits::timeout`](wslane::handshake::Limits::timeout). The caller keeps the section 4.1 rule for such
/// streams.
pub fn client_on<S: Transport>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, ServerResponse), Error> {
    let deadline = Deadline::after(request.handshake_limits().timeout);
    handshake(stream, request, config, &deadline)
}

fn handshake<S: Transport>(
    mut stream: S,
    request: ClientRequest,
    config: Config,
    deadline: &Deadline,
) -> Result<(WebSocket<S>, ServerResponse), Error> {
    let mut nonce = [0; 16];
    let mut seed = [0; 32];
    getrandom::fill(&mut nonce).map_err(io::Error::from)?;
    getrandom::fill(&mut seed).map_err(io::Error::from)?;
    let (mut handshake, request) = request.start(nonce);
    write_all(&mut stream, &request, deadline)?;
    let mut buf = [0; HEAD_CHUNK];
    let upgrade = loop {
        let n = read_some(&mut stream, &mut buf, deadline)?;
        if let Some(upgrade) = handshake.handle_input(&buf[..n])? {
            break upgrade;
        }
    };
    clear_timeouts(&stream)?;
    let keys = ChaChaKeys::from_seed(seed);
    let (conn, response) = upgrade.into_connection(wslane::Instant::ZERO, config, keys);
    Ok((WebSocket::new(stream, conn), response))
}
