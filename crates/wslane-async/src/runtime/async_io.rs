//! The async-io runtime (feature `runtime-async-io`): the reactor that async-std and smol share, over
//! `futures-io` streams.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};

use super::{Runtime, Timer, Transport};

/// The async-io runtime of async-std and smol.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncIo;

impl Runtime for AsyncIo {
    type Timer = AsyncIoTimer;
    type TcpStream = async_net::TcpStream;
    #[cfg(feature = "tls")]
    type TlsStream = futures_rustls::client::TlsStream<async_net::TcpStream>;

    fn timer() -> AsyncIoTimer {
        AsyncIoTimer::default()
    }

    fn resolve(host: &str, port: u16) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send {
        let host = host.to_owned();
        async move { async_net::resolve((host.as_str(), port)).await }
    }

    async fn connect_tcp(addr: SocketAddr) -> io::Result<async_net::TcpStream> {
        let tcp = async_net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }

    #[cfg(feature = "tls")]
    async fn connect_tls(
        config: std::sync::Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
        tcp: async_net::TcpStream,
    ) -> io::Result<Self::TlsStream> {
        futures_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Transport<S> for AsyncIo {
    fn poll_read(
        stream: Pin<&mut S>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream.poll_read(cx, buf)
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
        stream.poll_close(cx)
    }
}

/// One `async_io::Timer`, re-armed in place.
#[derive(Debug)]
pub struct AsyncIoTimer {
    timer: async_io::Timer,
}

impl Default for AsyncIoTimer {
    fn default() -> AsyncIoTimer {
        AsyncIoTimer {
            timer: async_io::Timer::never(),
        }
    }
}

impl Timer for AsyncIoTimer {
    fn reset(&mut self, deadline: Instant) {
        self.timer.set_at(deadline);
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.timer).poll(cx).map(|_| ())
    }
}
