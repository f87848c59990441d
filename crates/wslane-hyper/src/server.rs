//! The server for both HTTP versions on one port, with WebSockets over each.

use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto::Builder;

/// hyper-util's server for HTTP/1.1 and HTTP/2 (cleartext with prior knowledge, or after TLS with ALPN),
/// with the HTTP/2 extended CONNECT enabled (RFC 8441 section 3: it announces
/// `SETTINGS_ENABLE_CONNECT_PROTOCOL`), so that clients may open WebSockets over HTTP/2. Serve each
/// connection with `serve_connection_with_upgrades`, which HTTP/1.1 upgrades need:
///
/// ```no_run
/// # async fn run(service: impl hyper::service::Service<
/// #     http::Request<hyper::body::Incoming>,
/// #     Response = http::Response<http_body_util::Full<hyper::body::Bytes>>,
/// #     Error = std::convert::Infallible,
/// #     Future: Send + 'static,
/// # > + Clone + Send + 'static) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// loop {
///     let (tcp, _) = listener.accept().await?;
///     let service = service.clone();
///     tokio::spawn(async move {
///         let io = hyper_util::rt::TokioIo::new(tcp);
///         let builder = wslane_hyper::server_builder();
///         let _ = builder.serve_connection_with_upgrades(io, service).await;
///     });
/// }
/// # }
/// ```
#[must_use]
pub fn server_builder() -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http2().enable_connect_protocol();
    builder
}
