//! What both sides of the opening handshake over a blocking transport share: its deadline, from
//! [`Limits::timeout`](wslane::handshake::Limits::timeout), and reads and writes bounded by it.

use std::io;
use std::time::{Duration, Instant};

use super::transport::{is_retry, Transport};
use crate::Error;

/// Bytes read per call while the head is incomplete; the head itself is bounded by the handshake limits.
pub(super) const HEAD_CHUNK: usize = 1024;

/// The end of the handshake's time.
pub(super) struct Deadline(Instant);

impl Deadline {
    pub(super) fn after(limit: Duration) -> Deadline {
        Deadline(Instant::now() + limit)
    }

    /// The time left, or a [`io::ErrorKind::TimedOut`] error once there is none.
    pub(super) fn remaining(&self) -> io::Result<Duration> {
        match self.0.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the opening handshake timed out",
            )),
        }
    }
}

/// Reads at least one byte before the deadline; the end of the stream is an error here.
pub(super) fn read_some<S: Transport>(
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

pub(super) fn write_all<S: Transport>(
    stream: &mut S,
    mut data: &[u8],
    deadline: &Deadline,
) -> io::Result<()> {
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

pub(super) fn clear_timeouts<S: Transport>(stream: &S) -> io::Result<()> {
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)
}
