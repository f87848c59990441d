//! The runtime trait: what the driver needs from an async runtime, and nothing else.
//!
//! A [`Runtime`] supplies timers, a clock, name resolution, TCP connections and (feature `tls`) a TLS
//! client; [`Transport<S>`] says how the runtime reads and writes a stream type `S`. Each runtime is one
//! short module behind a feature: [`Tokio`] (`runtime-tokio`) and [`AsyncIo`] (`runtime-async-io`, the
//! reactor of async-std and smol). The driver, the handshake and the connect path are written once against
//! these traits.
//!
//! The traits take the runtime as `Self` and the stream as a parameter (`impl<S: tokio::io::AsyncRead ..>
//! Transport<S> for Tokio`), so each runtime drives its own I/O traits directly: no compatibility wrapper
//! sits between a tokio stream and the driver, and [`WebSocket::get_ref`](crate::WebSocket::get_ref) hands
//! back the stream itself.

#[cfg(feature = "runtime-async-io")]
mod async_io;
#[cfg(feature = "runtime-tokio")]
mod tokio;

#[cfg(feature = "runtime-async-io")]
pub use self::async_io::{AsyncIo, AsyncIoTimer};
#[cfg(feature = "runtime-tokio")]
pub use self::tokio::{Tokio, TokioTimer};

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

/// An async runtime, as the driver sees it.
pub trait Runtime: Sized + Send + Sync + 'static {
    /// A one-shot timer, re-armed by the driver.
    type Timer: Timer;
    /// The runtime's TCP stream.
    type TcpStream: Send + Unpin + 'static;
    /// The runtime's rustls client stream over [`TcpStream`](Self::TcpStream).
    #[cfg(feature = "tls")]
    type TlsStream: Send + Unpin + 'static;

    /// A timer that is not armed yet.
    fn timer() -> Self::Timer;

    /// The runtime's clock (a runtime with a test clock, such as tokio's paused time, supplies its own).
    fn now() -> Instant {
        Instant::now()
    }

    /// Whether timers can be created here, checked before a connection starts that needs them: the
    /// handshake calls ([`accept`](crate::accept), [`connect`](crate::connect),
    /// [`client_on`](crate::client_on), [`upgrade`](crate::upgrade), [`read_request`](crate::read_request))
    /// refuse with this error rather than start a connection whose timers cannot run. An error names what
    /// the runtime lacks (for tokio, a runtime built without its time driver). The default says yes.
    fn check_timers() -> io::Result<()> {
        Ok(())
    }

    /// The addresses of `host`.
    fn resolve(host: &str, port: u16) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send;

    /// Connects a TCP stream to `addr`, with `TCP_NODELAY` set (frames are written whole).
    fn connect_tcp(addr: SocketAddr) -> impl Future<Output = io::Result<Self::TcpStream>> + Send;

    /// Runs the TLS client handshake over `tcp`.
    #[cfg(feature = "tls")]
    fn connect_tls(
        config: std::sync::Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
        tcp: Self::TcpStream,
    ) -> impl Future<Output = io::Result<Self::TlsStream>> + Send;
}

/// How runtime `Self` reads and writes a stream of type `S`: the runtime's own I/O traits, called
/// directly.
pub trait Transport<S>: Runtime {
    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read(
        stream: Pin<&mut S>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;

    /// Writes from `buf`, returning how much was taken.
    fn poll_write(stream: Pin<&mut S>, cx: &mut Context<'_>, buf: &[u8])
        -> Poll<io::Result<usize>>;

    /// Writes from `bufs` in order, with one vectored write (`writev`) where the stream supports it,
    /// returning how much was taken. The default writes the first non-empty slice.
    fn poll_write_vectored(
        stream: Pin<&mut S>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let buf = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        Self::poll_write(stream, cx, buf)
    }

    /// Flushes what the stream buffers.
    fn poll_flush(stream: Pin<&mut S>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Flushes and closes the write side.
    fn poll_close(stream: Pin<&mut S>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// A runtime's one-shot timer, re-armed by the driver.
pub trait Timer: Unpin + Send {
    /// Arms the timer for `deadline`, replacing any earlier deadline. Never panics: a timer that cannot be
    /// armed where it runs (see [`Runtime::check_timers`]) stays unarmed.
    fn reset(&mut self, deadline: Instant);

    /// Ready once the armed deadline has passed; registers the waker otherwise. Never ready while unarmed.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}
