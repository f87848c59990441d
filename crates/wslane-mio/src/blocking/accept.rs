//! The server's opening handshake over a blocking transport: reading the request, asking the caller,
//! then answering with the upgrade or a refusal. The rules are the core's ([`wslane::handshake`]); this
//! only moves bytes.

use std::sync::Arc;
use std::time::Duration;

use wslane::handshake::{Acceptance, Rejection, Request, ServerConfig, ServerHandshake};
use wslane::Config;

use super::handshake::{clear_timeouts, read_some, write_all, Deadline, HEAD_CHUNK};
use super::transport::{is_retry, Transport};
use super::WebSocket;
use crate::Error;

/// How long a refused client is given to close its side after the refusal, so that its unread bytes do not
/// turn our close into a reset that could destroy the refusal in flight.
const LINGER: Duration = Duration::from_secs(1);

/// Accepts a WebSocket connection on `stream` with default settings, from any origin.
pub fn accept<S: Transport>(stream: S) -> Result<WebSocket<S>, Error> {
    accept_with(stream, ServerConfig::default(), Config::default(), |_| {
        Ok(Acceptance::new())
    })
}

/// Accepts a WebSocket connection on `stream`. `decide` sees the checked request (path, headers, `Origin`,
/// offered subprotocols) and accepts it, with a subprotocol and extra response fields, or refuses it with
/// a status. Refusals, the caller's or the handshake's own, are answered before the error is returned. The
/// handshake is bounded by [`Limits::timeout`](wslane::handshake::Limits::timeout) (an [`io::ErrorKind::TimedOut`] error).
///
/// [`io::ErrorKind::TimedOut`]: std::io::ErrorKind::TimedOut
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
    let mut handshake = ServerHandshake::new(server);
    let deadline = Deadline::after(handshake.limits().timeout);
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
    let upgrade = match request.accept(acceptance) {
        Ok(upgrade) => upgrade,
        Err(err) => {
            refuse(&mut stream, &err.to_response(), &deadline);
            return Err(Error::Request(err));
        }
    };
    write_all(&mut stream, upgrade.response(), &deadline)?;
    clear_timeouts(&stream)?;
    // The socket's clock starts with the connection (see `WebSocket::new`).
    let conn = upgrade.into_connection(wslane::Instant::ZERO, config);
    Ok(WebSocket::new(stream, conn))
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
