//! The tokio runtime (feature `runtime-tokio`).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::{Runtime, Timer, Transport};

/// The tokio runtime. Its clock is tokio's, so paused test time drives the connection's timers too.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

impl Runtime for Tokio {
    type Timer = TokioTimer;
    type TcpStream = tokio::net::TcpStream;
    #[cfg(feature = "tls")]
    type TlsStream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

    fn timer() -> TokioTimer {
        TokioTimer::default()
    }

    fn now() -> Instant {
        tokio::time::Instant::now().into_std()
    }

    /// Refuses outside a tokio runtime and on one built without its time driver (where the `Sleep` that
    /// `tokio::time` would make panics).
    fn check_timers() -> io::Result<()> {
        try_sleep(tokio::time::Instant::now()).map(drop)
    }

    fn resolve(host: &str, port: u16) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send {
        let host = host.to_owned();
        async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        }
    }

    async fn connect_tcp(addr: SocketAddr) -> io::Result<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }

    #[cfg(feature = "tls")]
    async fn connect_tls(
        config: std::sync::Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
        tcp: tokio::net::TcpStream,
    ) -> io::Result<Self::TlsStream> {
        tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Transport<S> for Tokio {
    fn poll_read(
        stream: Pin<&mut S>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        core::task::ready!(stream.poll_read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }

    fn poll_write(
        stream: Pin<&mut S>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        stream: Pin<&mut S>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(stream: Pin<&mut S>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream.poll_flush(cx)
    }

    fn poll_close(stream: Pin<&mut S>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream.poll_shutdown(cx)
    }
}

/// One `tokio::time::Sleep`, allocated the first time a deadline is armed (a connection without keepalive
/// never needs one until it closes).
///
/// Where tokio cannot make a `Sleep` (outside a runtime, or on one built without `enable_time()`), the
/// timer stays unarmed instead of panicking: the handshake calls refuse such a runtime up front (see
/// [`Tokio::check_timers`](super::Runtime::check_timers)), so only a socket made with
/// [`WebSocket::new`](crate::WebSocket::new), or moved to such a runtime, gets here. Its keepalive and close
/// timeouts then act only when the socket is polled for another reason.
#[derive(Debug, Default)]
pub struct TokioTimer {
    sleep: Option<Pin<Box<Sleep>>>,
    /// A `Sleep` could not be made here; not tried again.
    unavailable: bool,
}

impl Timer for TokioTimer {
    fn reset(&mut self, deadline: Instant) {
        let deadline = tokio::time::Instant::from_std(deadline);
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().reset(deadline),
            None if self.unavailable => {}
            None => match try_sleep(deadline) {
                Ok(sleep) => self.sleep = Some(Box::pin(sleep)),
                Err(_) => self.unavailable = true,
            },
        }
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

/// Why tokio could not make a `Sleep`, told by its panic message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoSleep {
    /// A runtime built without its time driver.
    TimersDisabled,
    /// No tokio runtime on this thread.
    NoRuntime,
}

impl NoSleep {
    /// The reason tokio's panic `message` gives, if it is one of these.
    fn from_message(message: &str) -> Option<NoSleep> {
        if message.contains("timers are disabled") {
            Some(NoSleep::TimersDisabled)
        } else if message.contains("no reactor running") || message.contains("Tokio context") {
            Some(NoSleep::NoRuntime)
        } else {
            None
        }
    }

    fn into_error(self) -> io::Error {
        let message = match self {
            NoSleep::TimersDisabled => {
                "wslane needs tokio's time driver (for the handshake timeout, keepalive and the close \
                 timeout), and this runtime was built without it: call `enable_time()` or `enable_all()` on \
                 the runtime builder"
            }
            NoSleep::NoRuntime => {
                "wslane needs a tokio runtime for its timers: run it inside one, built with `enable_time()` \
                 or `enable_all()`"
            }
        };
        io::Error::new(io::ErrorKind::Unsupported, message)
    }
}

/// A `Sleep` for `deadline`, or an `Unsupported` error where tokio cannot make one.
///
/// tokio has no query for "this runtime has a time driver" (nor, without its `rt` feature, for "there is a
/// runtime"): `tokio::time::sleep_until` panics when either is missing. So the `Sleep` is made inside
/// `catch_unwind`, and those two panics (recognised by their messages) become the error; any other panic
/// goes on unwinding. This is off the hot path: it runs once per handshake step and once per socket (the
/// first time its timer is armed; after that the `Sleep` is reset, and a failure is remembered), and the
/// `Sleep` it makes is the one used. While it runs, a panic hook (installed once, handing every other
/// panic to the hook that was there before) keeps the caught panic's message off stderr. Where panics
/// abort (`panic = "abort"`) nothing can be caught, and tokio's panic stands.
fn try_sleep(deadline: tokio::time::Instant) -> io::Result<Sleep> {
    #[cfg(panic = "unwind")]
    {
        let caught = quiet::while_probing(|| {
            std::panic::catch_unwind(|| tokio::time::sleep_until(deadline))
        });
        match caught {
            Ok(sleep) => Ok(sleep),
            Err(payload) => match quiet::reason(&*payload) {
                Some(reason) => Err(reason.into_error()),
                None => std::panic::resume_unwind(payload),
            },
        }
    }
    #[cfg(not(panic = "unwind"))]
    Ok(tokio::time::sleep_until(deadline))
}

/// Keeps the message of the panics [`try_sleep`] expects and catches off stderr.
#[cfg(panic = "unwind")]
mod quiet {
    use std::any::Any;
    use std::cell::Cell;
    use std::sync::Once;

    use super::NoSleep;

    std::thread_local! {
        /// This thread is making a `Sleep` inside `catch_unwind`.
        static PROBING: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `probe` with this thread's panic messages for a missing time driver or runtime silenced.
    pub(super) fn while_probing<T>(probe: impl FnOnce() -> T) -> T {
        install();
        let was = PROBING.with(|probing| probing.replace(true));
        let result = probe();
        PROBING.with(|probing| probing.set(was));
        result
    }

    /// The reason a panic's payload gives, if it is one of tokio's for a missing time driver or runtime.
    pub(super) fn reason(payload: &(dyn Any + Send)) -> Option<NoSleep> {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))?;
        NoSleep::from_message(message)
    }

    /// Wraps the current panic hook, once: a probing thread's expected panic prints nothing; every other
    /// panic goes to the previous hook as before.
    fn install() {
        static HOOK: Once = Once::new();
        // Replacing the hook is not allowed while this thread panics (a probe from a destructor).
        if std::thread::panicking() {
            return;
        }
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                // `try_with`: a panic in a thread-local's destructor still reaches the previous hook.
                let probing = PROBING.try_with(Cell::get).unwrap_or(false);
                let silenced = probing && reason(info.payload()).is_some();
                if !silenced {
                    previous(info);
                }
            }));
        });
    }
}
