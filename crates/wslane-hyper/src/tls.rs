//! The HTTP/2 client over TLS (feature `tls`): a rustls session whose ALPN chose `h2`, then
//! [`H2Client::handshake`] on it.

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use wslane_async::Error;

use crate::H2Client;

/// The ALPN protocol identifier of HTTP/2 over TLS (RFC 9113 section 3.2).
pub const ALPN_H2: &[u8] = b"h2";

/// Why an HTTP/2 connection over TLS could not start ([`H2Client::handshake_tls`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum H2TlsError {
    /// The TLS handshake failed: a certificate not trusted or not for this name, a TLS alert, the
    /// connection lost.
    Tls(io::Error),
    /// The server did not choose HTTP/2 by ALPN, so it cannot carry WebSockets as HTTP/2 streams. It chose
    /// `protocol` (such as `http/1.1`), or no protocol at all (`None`: it does not do ALPN).
    NotH2 {
        /// The protocol the server chose, if any.
        protocol: Option<Vec<u8>>,
    },
    /// TLS and ALPN went well, but the HTTP/2 connection preface failed.
    Http2(Error),
}

impl fmt::Display for H2TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            H2TlsError::Tls(err) => write!(f, "TLS handshake failed: {err}"),
            H2TlsError::NotH2 { protocol: None } => {
                f.write_str("the server chose no ALPN protocol, not h2 (HTTP/2)")
            }
            H2TlsError::NotH2 {
                protocol: Some(protocol),
            } => write!(
                f,
                "the server chose the ALPN protocol {:?}, not h2 (HTTP/2)",
                String::from_utf8_lossy(protocol)
            ),
            H2TlsError::Http2(err) => write!(f, "HTTP/2 handshake failed: {err}"),
        }
    }
}

impl std::error::Error for H2TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            H2TlsError::Tls(err) => Some(err),
            H2TlsError::NotH2 { .. } => None,
            H2TlsError::Http2(err) => Some(err),
        }
    }
}

impl H2Client {
    /// Starts an HTTP/2 connection over TLS on `io` (a connected TCP stream): a rustls session for
    /// `server_name` under `config` whose ALPN must choose `h2`, then [`handshake`](Self::handshake) on it.
    /// Use `wss://` URLs with the client it returns (the requests carry `:scheme https`).
    ///
    /// `config` gives the roots, client certificates and crypto provider; its `alpn_protocols` are
    /// replaced by `["h2", "http/1.1"]` (on a copy, when they differ): `http/1.1` is offered only so that
    /// a server without HTTP/2 says so rather than failing the TLS handshake. A server that does not
    /// choose `h2` fails with [`H2TlsError::NotH2`], saying what it chose; for WebSockets over HTTP/1.1
    /// and TLS use an adapter's `connect` instead.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// use wslane_hyper::rustls::pki_types::ServerName;
    /// use wslane_hyper::{ClientRequest, Config, H2Client, Url};
    ///
    /// # async fn run(config: Arc<wslane_hyper::rustls::ClientConfig>) -> Result<(), Box<dyn std::error::Error>> {
    /// let tcp = tokio::net::TcpStream::connect("example.com:443").await?;
    /// let name = ServerName::try_from("example.com")?;
    /// let client = H2Client::handshake_tls(tcp, name, config).await?;
    /// let url = Url::parse("wss://example.com/chat")?;
    /// let (ws, _response) = client.connect(ClientRequest::new(url), Config::default()).await?;
    /// # drop(ws);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn handshake_tls<T>(
        io: T,
        server_name: ServerName<'static>,
        config: Arc<rustls::ClientConfig>,
    ) -> Result<H2Client, H2TlsError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let tls = connect_h2(io, server_name, config).await?;
        H2Client::handshake(tls).await.map_err(H2TlsError::Http2)
    }
}

/// What the client offers by ALPN: HTTP/2, and HTTP/1.1 only so that a server without HTTP/2 answers
/// with it (and [`H2TlsError::NotH2`] can say so) instead of a TLS alert.
const OFFER: [&[u8]; 2] = [ALPN_H2, b"http/1.1"];

/// The TLS session, and the check that the server chose `h2` by ALPN.
async fn connect_h2<T>(
    io: T,
    server_name: ServerName<'static>,
    mut config: Arc<rustls::ClientConfig>,
) -> Result<TlsStream<T>, H2TlsError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    if config.alpn_protocols != OFFER {
        let mut own = (*config).clone();
        own.alpn_protocols = OFFER.iter().map(|protocol| protocol.to_vec()).collect();
        config = Arc::new(own);
    }
    let tls = TlsConnector::from(config)
        .connect(server_name, io)
        .await
        .map_err(H2TlsError::Tls)?;
    match tls.get_ref().1.alpn_protocol() {
        Some(ALPN_H2) => Ok(tls),
        protocol => Err(H2TlsError::NotH2 {
            protocol: protocol.map(<[u8]>::to_vec),
        }),
    }
}
