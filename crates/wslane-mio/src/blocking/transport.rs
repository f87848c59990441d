//! The blocking byte streams a [`WebSocket`](super::WebSocket) drives: the [`Transport`] trait and its
//! implementations for TCP and Unix sockets.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A blocking byte stream the [`WebSocket`] can drive: `Read + Write`, with read and write timeouts (the
/// keepalive, close and handshake timers are read timeouts) and a way to end the sending direction.
///
/// Implemented for [`TcpStream`] and, on Unix, `UnixStream`. Implement it for a TLS stream by delegating
/// the timeouts and the shutdown to the socket underneath.
///
/// [`WebSocket`]: super::WebSocket
pub trait Transport: Read + Write {
    /// As [`TcpStream::set_read_timeout`]: a read that waits longer fails with
    /// [`io::ErrorKind::WouldBlock`] or [`io::ErrorKind::TimedOut`].
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;

    /// As [`TcpStream::set_write_timeout`].
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;

    /// Ends the sending direction (TCP: sends FIN), once everything is written.
    fn shutdown_write(&self) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

#[cfg(unix)]
impl Transport for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_write_timeout(self, timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// A read that timed out (the timer's turn) or was interrupted.
pub(super) fn is_retry(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
