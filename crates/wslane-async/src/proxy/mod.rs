//! Connecting through a proxy: HTTP `CONNECT` and SOCKS5, configured explicitly or from the
//! environment (`https_proxy`, `no_proxy`, ...). The guide is `docs/proxies.md`.
//!
//! A [`ProxySetting`] in [`ConnectOptions`](crate::ConnectOptions) says whether and how a client uses a
//! proxy: [`Environment`](ProxySetting::Environment) (the default, as Python `websockets` does since
//! 15.0), [`Direct`](ProxySetting::Direct), or one [`Proxy`]. The proxy hop runs between the TCP
//! connection (to the proxy) and TLS: a `wss://` session is end to end with the target, through the
//! tunnel.
//!
//! The exchanges with the proxy are state machines over bytes, with no I/O: [`HttpConnect`] and
//! [`Socks5`], or [`ProxyHandshake`] for either. The async connect path drives them over any runtime;
//! a blocking client can drive them the same way:
//!
//! ```
//! use wslane_async::proxy::{Progress, Proxy, ProxyHandshake, Target};
//!
//! let proxy = Proxy::parse("socks5h://user:secret@127.0.0.1:1080")?;
//! let mut exchange = ProxyHandshake::new(&proxy, &Target::name("echo.example", 443))?;
//! // The proxy's answers, as a socket would deliver them.
//! let mut from_proxy: &[u8] = b"\x05\x02\x01\x00\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90";
//! let mut to_proxy = Vec::new();
//! loop {
//!     while let Some(message) = exchange.poll_transmit() {
//!         to_proxy.extend_from_slice(&message); // write it whole
//!     }
//!     let n = exchange.read_limit().min(from_proxy.len()); // read no further than the reply
//!     let (read, rest) = from_proxy.split_at(n);
//!     from_proxy = rest;
//!     if let Progress::Established { .. } = exchange.handle_input(read)? {
//!         break; // the stream is now a tunnel to echo.example:443
//!     }
//! }
//! assert!(to_proxy.starts_with(b"\x05\x02\x00\x02")); // the greeting offers username and password
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod address;
mod env;
mod error;
mod http;
mod socks5;
pub(crate) mod tunnel;

use std::net::SocketAddr;

pub use address::{Proxy, ProxyKind, ProxyUrlError, HTTP_DEFAULT_PORT, SOCKS_DEFAULT_PORT};
pub use error::{ProxyError, SocksReply};
pub use http::HttpConnect;
pub use socks5::Socks5;
use wslane::handshake::Url;

/// The most bytes of an HTTP proxy's reply head read before giving up (8 KiB).
pub const MAX_RESPONSE_HEAD: usize = 8 * 1024;

/// Whether and how a client goes through a proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxySetting {
    /// The proxy the environment names for the target, if any ([`Proxy::from_env`]): the default, as
    /// in Python `websockets` since 15.0.
    #[default]
    Environment,
    /// Connect directly, whatever the environment says.
    Direct,
    /// Always through this proxy (`no_proxy` is not consulted).
    Through(Proxy),
}

impl ProxySetting {
    /// The proxy to use for `target`, or `None` to connect directly.
    ///
    /// # Errors
    /// For [`Environment`](Self::Environment), an invalid address in the variable chosen.
    pub fn proxy_for(&self, target: &Url) -> Result<Option<Proxy>, ProxyError> {
        match self {
            ProxySetting::Environment => Proxy::from_env(target),
            ProxySetting::Direct => Ok(None),
            ProxySetting::Through(proxy) => Ok(Some(proxy.clone())),
        }
    }
}

impl From<Proxy> for ProxySetting {
    fn from(proxy: Proxy) -> ProxySetting {
        ProxySetting::Through(proxy)
    }
}

/// What to ask the proxy to connect to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// A host name (or an IP address written as text) and a port: the proxy resolves a name.
    Name {
        /// The host, without brackets for IPv6.
        host: String,
        /// The port.
        port: u16,
    },
    /// An address the client resolved.
    Address(SocketAddr),
}

impl Target {
    /// A target by name.
    #[must_use]
    pub fn name(host: &str, port: u16) -> Target {
        Target::Name {
            host: host.to_owned(),
            port,
        }
    }

    /// `host:port`, IPv6 bracketed: the authority of a `CONNECT` request.
    #[must_use]
    pub fn authority(&self) -> String {
        match self {
            Target::Address(addr) => addr.to_string(),
            Target::Name { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Target::Name { host, port } => format!("{host}:{port}"),
        }
    }
}

/// Where an exchange with a proxy stands after some input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Progress {
    /// More of the proxy's reply is needed (after writing what `poll_transmit` returns, if anything).
    Partial,
    /// The tunnel is open. `consumed` bytes of the last input were the proxy's; any after them are the
    /// target's.
    Established {
        /// How many bytes of the last input belonged to the proxy's reply.
        consumed: usize,
    },
}

/// The exchange with either kind of proxy, for drivers that handle both alike.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProxyHandshake {
    /// HTTP `CONNECT`.
    Http(HttpConnect),
    /// SOCKS5.
    Socks5(Socks5),
}

impl ProxyHandshake {
    /// The exchange that asks `proxy` for a tunnel to `target`, with the proxy's credentials.
    ///
    /// # Errors
    /// For SOCKS5, a target name or credentials the protocol cannot carry.
    pub fn new(proxy: &Proxy, target: &Target) -> Result<ProxyHandshake, ProxyError> {
        Ok(match proxy.kind() {
            ProxyKind::Http => ProxyHandshake::Http(HttpConnect::new(target, proxy.credentials())),
            ProxyKind::Socks5 | ProxyKind::Socks5h => {
                ProxyHandshake::Socks5(Socks5::new(target, proxy.credentials())?)
            }
        })
    }

    /// The next message to write whole, if one is due.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        match self {
            ProxyHandshake::Http(http) => http.poll_transmit(),
            ProxyHandshake::Socks5(socks) => socks.poll_transmit(),
        }
    }

    /// How many bytes the next read may take without reading past the proxy's reply (0 once done).
    #[must_use]
    pub fn read_limit(&self) -> usize {
        match self {
            ProxyHandshake::Http(http) => http.read_limit(),
            ProxyHandshake::Socks5(socks) => socks.read_limit(),
        }
    }

    /// The end of the stream from the proxy before the tunnel opened: the error to report.
    #[must_use]
    pub fn handle_eof(&mut self) -> ProxyError {
        match self {
            ProxyHandshake::Http(http) => http.handle_eof(),
            ProxyHandshake::Socks5(socks) => socks.handle_eof(),
        }
    }

    /// Takes bytes read from the proxy.
    ///
    /// # Errors
    /// What the proxy answered, when it is not a tunnel.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<Progress, ProxyError> {
        match self {
            ProxyHandshake::Http(http) => http.handle_input(input),
            ProxyHandshake::Socks5(socks) => socks.handle_input(input),
        }
    }
}
