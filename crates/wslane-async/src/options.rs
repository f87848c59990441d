//! How a client connects: the TLS connector for `wss://` and the proxy setting.

use crate::proxy::{Proxy, ProxySetting};
use crate::tls::Connector;

/// How [`connect_with`](crate::connect_with) reaches the server: TLS settings for `wss://` and whether to
/// go through a proxy. A [`Connector`] converts into options with the default proxy setting, so
/// `connect_with(request, config, Connector::Default)` reads as before.
///
/// ```
/// use wslane_async::proxy::Proxy;
/// use wslane_async::{ConnectOptions, Connector};
///
/// let through = ConnectOptions::new().proxy(Proxy::parse("http://user:secret@proxy.example:3128")?);
/// let direct = ConnectOptions::from(Connector::Default).no_proxy();
/// # let _ = (through, direct);
/// # Ok::<(), wslane_async::proxy::ProxyUrlError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// How a `wss://` connection makes its TLS session.
    pub connector: Connector,
    /// Whether and how to go through a proxy; by default, as the environment says
    /// ([`ProxySetting::Environment`]).
    pub proxy: ProxySetting,
}

impl ConnectOptions {
    /// The default TLS connector, and the proxy the environment names.
    #[must_use]
    pub fn new() -> ConnectOptions {
        ConnectOptions::default()
    }

    /// Uses `connector` for `wss://`.
    #[must_use]
    pub fn connector(mut self, connector: Connector) -> ConnectOptions {
        self.connector = connector;
        self
    }

    /// Goes through `proxy` (a [`Proxy`]), or as a [`ProxySetting`] says.
    #[must_use]
    pub fn proxy(mut self, proxy: impl Into<ProxySetting>) -> ConnectOptions {
        self.proxy = proxy.into();
        self
    }

    /// Connects directly, whatever the environment says.
    #[must_use]
    pub fn no_proxy(self) -> ConnectOptions {
        self.proxy(ProxySetting::Direct)
    }
}

impl From<Connector> for ConnectOptions {
    fn from(connector: Connector) -> ConnectOptions {
        ConnectOptions::new().connector(connector)
    }
}

impl From<Proxy> for ConnectOptions {
    fn from(proxy: Proxy) -> ConnectOptions {
        ConnectOptions::new().proxy(proxy)
    }
}
