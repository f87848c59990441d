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

    fn poll_flush(stream: Pin<&mut S>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream.poll_flush(cx)
    }

    fn poll_close(stream: Pin<&mut S>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        stream.poll_shutdown(cx)
    }
}

/// One `tokio::time::Sleep`, allocated the first time a deadline is armed (a connection without keepalive
/// never needs one until it closes).
#[derive(Debug, Default)]
pub struct TokioTimer {
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Timer for TokioTimer {
    fn reset(&mut self, deadline: Instant) {
        let deadline = tokio::time::Instant::from_std(deadline);
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}
