//! The transport a client connects over: plain TCP, or TLS for `wss://`.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;

use crate::runtime::{Runtime, Transport};

/// A runtime's TCP stream, or (feature `tls`) its rustls stream over TCP.
#[non_exhaustive]
pub enum MaybeTlsStream<R: Runtime> {
    /// A `ws://` connection.
    Plain(R::TcpStream),
    /// A `wss://` connection.
    #[cfg(feature = "tls")]
    Tls(Box<R::TlsStream>),
}

impl<R: Runtime> core::fmt::Debug for MaybeTlsStream<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MaybeTlsStream::Plain(_) => f.write_str("MaybeTlsStream::Plain"),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(_) => f.write_str("MaybeTlsStream::Tls"),
        }
    }
}

#[cfg(feature = "tls")]
macro_rules! delegate {
    ($stream:expr, $s:ident => $call:expr) => {
        match $stream.get_mut() {
            MaybeTlsStream::Plain($s) => $call,
            MaybeTlsStream::Tls($s) => {
                let $s = &mut **$s;
                $call
            }
        }
    };
}

#[cfg(not(feature = "tls"))]
macro_rules! delegate {
    ($stream:expr, $s:ident => $call:expr) => {
        match $stream.get_mut() {
            MaybeTlsStream::Plain($s) => $call,
        }
    };
}

/// Every runtime drives its `MaybeTlsStream` through its TCP and TLS streams.
#[cfg(feature = "tls")]
pub trait DrivesTcpAndTls:
    Runtime + Transport<<Self as Runtime>::TcpStream> + Transport<<Self as Runtime>::TlsStream>
{
}
#[cfg(feature = "tls")]
impl<R> DrivesTcpAndTls for R where
    R: Runtime + Transport<<R as Runtime>::TcpStream> + Transport<<R as Runtime>::TlsStream>
{
}

/// Every runtime drives its `MaybeTlsStream` through its TCP stream.
#[cfg(not(feature = "tls"))]
pub trait DrivesTcpAndTls: Runtime + Transport<<Self as Runtime>::TcpStream> {}
#[cfg(not(feature = "tls"))]
impl<R> DrivesTcpAndTls for R where R: Runtime + Transport<<R as Runtime>::TcpStream> {}

impl<R: DrivesTcpAndTls> Transport<MaybeTlsStream<R>> for R {
    fn poll_read(
        stream: Pin<&mut MaybeTlsStream<R>>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(stream, s => R::poll_read(Pin::new(s), cx, buf))
    }

    fn poll_write(
        stream: Pin<&mut MaybeTlsStream<R>>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(stream, s => R::poll_write(Pin::new(s), cx, buf))
    }

    fn poll_flush(
        stream: Pin<&mut MaybeTlsStream<R>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(stream, s => R::poll_flush(Pin::new(s), cx))
    }

    fn poll_close(
        stream: Pin<&mut MaybeTlsStream<R>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(stream, s => R::poll_close(Pin::new(s), cx))
    }
}
