//! A proxy's address: `http://`, `socks5://` or `socks5h://`, with optional percent-encoded credentials.

use core::fmt;
use core::str::FromStr;
use std::net::Ipv6Addr;

/// The port of a `socks5://` or `socks5h://` address that names none (1080, SOCKS' registered port, as
/// curl assumes).
pub const SOCKS_DEFAULT_PORT: u16 = 1080;

/// The port of an `http://` proxy address that names none (80, as Python `websockets` assumes).
pub const HTTP_DEFAULT_PORT: u16 = 80;

/// How the client talks to the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyKind {
    /// `http://`: an HTTP/1.1 `CONNECT` request (RFC 9110 section 9.3.6), with `Proxy-Authorization:
    /// Basic` when the address has credentials. The proxy resolves the target's name.
    Http,
    /// `socks5://`: SOCKS5 (RFC 1928), username and password per RFC 1929 when the address has
    /// credentials. The client resolves the target's name and sends an IP address (curl's and Python
    /// `websockets`' meaning of the scheme).
    Socks5,
    /// `socks5h://`: SOCKS5 with the target's name sent as it is, for the proxy to resolve (the "h" is
    /// for host name).
    Socks5h,
}

impl ProxyKind {
    /// The scheme that names this kind in a proxy address.
    #[must_use]
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        }
    }

    /// Whether the client resolves the target's name itself (only `socks5://`).
    #[must_use]
    pub fn resolves_locally(self) -> bool {
        self == ProxyKind::Socks5
    }
}

/// A proxy to connect through: its kind, where it is, and the credentials to give it.
///
/// Parsed from an address such as `http://user:pass@proxy.example:3128`, `socks5://10.0.0.1` or
/// `socks5h://[::1]:1080`. The credentials are percent-decoded (write `%40` for an `@` in a password).
/// `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

/// Why a string is not a proxy address this crate can use: the caller's configuration is at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyUrlError {
    /// The address has no `scheme://`, or a scheme other than `http`, `socks5` and `socks5h` (`https`
    /// proxies, SOCKS4 and SOCKS4a are not supported).
    Scheme,
    /// The host is missing or invalid.
    Host,
    /// The port is not a number from 1 to 65535.
    Port,
    /// The address has a path, a query or a fragment, which mean nothing for a proxy.
    Path,
    /// The credentials have a username without a password (`user@host`), or a `%` not followed by two
    /// hexadecimal digits, or do not decode to UTF-8.
    Credentials,
    /// A SOCKS5 username or password longer than 255 bytes (RFC 1929), or an empty SOCKS5 username.
    CredentialsLength,
}

impl fmt::Display for ProxyUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyUrlError::Scheme => {
                "proxy address scheme is not http://, socks5:// or socks5h://"
            }
            ProxyUrlError::Host => "proxy address host is missing or invalid",
            ProxyUrlError::Port => "proxy address port is invalid",
            ProxyUrlError::Path => "proxy address has a path, query or fragment",
            ProxyUrlError::Credentials => {
                "proxy address credentials are invalid (a username needs a password; percent-encode \
                 reserved characters)"
            }
            ProxyUrlError::CredentialsLength => {
                "SOCKS5 username must be 1 to 255 bytes, and the password at most 255"
            }
        })
    }
}

impl std::error::Error for ProxyUrlError {}

impl Proxy {
    /// Parses a proxy address: `scheme://[user:password@]host[:port][/]`, the scheme one of `http`,
    /// `socks5` or `socks5h` (any case). The port defaults to 80 for `http` and 1080 for SOCKS.
    pub fn parse(address: &str) -> Result<Proxy, ProxyUrlError> {
        let (scheme, rest) = address.split_once("://").ok_or(ProxyUrlError::Scheme)?;
        let kind = [ProxyKind::Http, ProxyKind::Socks5, ProxyKind::Socks5h]
            .into_iter()
            .find(|kind| kind.scheme().eq_ignore_ascii_case(scheme))
            .ok_or(ProxyUrlError::Scheme)?;
        let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        if !matches!(path, "" | "/") {
            return Err(ProxyUrlError::Path);
        }
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(parse_userinfo(userinfo)?), host_port),
            None => (None, authority),
        };
        if let (Some((user, password)), ProxyKind::Socks5 | ProxyKind::Socks5h) =
            (&credentials, kind)
        {
            if user.is_empty() || user.len() > 255 || password.len() > 255 {
                return Err(ProxyUrlError::CredentialsLength);
            }
        }
        let (host, port) = parse_host_port(host_port)?;
        let port = match port {
            Some(port) => port,
            None if kind == ProxyKind::Http => HTTP_DEFAULT_PORT,
            None => SOCKS_DEFAULT_PORT,
        };
        Ok(Proxy {
            kind,
            host: host.to_ascii_lowercase(),
            port,
            credentials,
        })
    }

    /// How the client talks to this proxy.
    #[must_use]
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host: a name (lower case) or an IP address, without brackets.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The username and password, percent-decoded, if the address has them.
    #[must_use]
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }

    /// The same proxy with these credentials (taken as they are, not percent-decoded).
    ///
    /// # Errors
    /// [`ProxyUrlError::CredentialsLength`] for a SOCKS5 proxy and a username that is empty or longer than
    /// 255 bytes, or a password longer than 255 bytes.
    pub fn with_credentials(mut self, user: &str, password: &str) -> Result<Proxy, ProxyUrlError> {
        let socks = self.kind != ProxyKind::Http;
        if socks && (user.is_empty() || user.len() > 255 || password.len() > 255) {
            return Err(ProxyUrlError::CredentialsLength);
        }
        self.credentials = Some((user.to_owned(), password.to_owned()));
        Ok(self)
    }
}

impl FromStr for Proxy {
    type Err = ProxyUrlError;

    fn from_str(address: &str) -> Result<Proxy, ProxyUrlError> {
        Proxy::parse(address)
    }
}

/// `scheme://[user:***@]host:port`: the password is never shown.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.kind.scheme())?;
        if let Some((user, _)) = &self.credentials {
            write!(f, "{user}:***@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Proxy")
            .field(&format_args!("{self}"))
            .finish()
    }
}

fn parse_userinfo(userinfo: &str) -> Result<(String, String), ProxyUrlError> {
    // A username without a password means nothing for Basic or RFC 1929 authentication (Python
    // `websockets` refuses it too).
    let (user, password) = userinfo.split_once(':').ok_or(ProxyUrlError::Credentials)?;
    Ok((percent_decode(user)?, percent_decode(password)?))
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn percent_decode(text: &str) -> Result<String, ProxyUrlError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail.get(..2).ok_or(ProxyUrlError::Credentials)?;
            let hex = core::str::from_utf8(hex).map_err(|_| ProxyUrlError::Credentials)?;
            let value = u8::from_str_radix(hex, 16).map_err(|_| ProxyUrlError::Credentials)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ProxyUrlError::Credentials);
            }
            bytes.push(value);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| ProxyUrlError::Credentials)
}

/// Splits `host[:port]` or `[v6][:port]`; the port is `None` when absent or empty.
fn parse_host_port(text: &str) -> Result<(&str, Option<u16>), ProxyUrlError> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (literal, after) = rest.split_once(']').ok_or(ProxyUrlError::Host)?;
        if literal.parse::<Ipv6Addr>().is_err() {
            return Err(ProxyUrlError::Host);
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(ProxyUrlError::Host)?),
        };
        (literal, port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        let valid = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !valid {
            return Err(ProxyUrlError::Host);
        }
        (host, port)
    };
    let port = match port {
        None | Some("") => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => match digits.parse() {
            Ok(0) | Err(_) => return Err(ProxyUrlError::Port),
            Ok(port) => Some(port),
        },
        Some(_) => return Err(ProxyUrlError::Port),
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_scheme_with_its_default_port() {
        let proxy = Proxy::parse("HTTP://Proxy.Example:3128/").unwrap();
        assert_eq!(
            (
                proxy.kind(),
                proxy.host(),
                proxy.port(),
                proxy.credentials()
            ),
            (ProxyKind::Http, "proxy.example", 3128, None)
        );
        assert_eq!(Proxy::parse("http://p").unwrap().port(), 80);
        let proxy = Proxy::parse("socks5://10.0.0.1").unwrap();
        assert_eq!((proxy.kind(), proxy.port()), (ProxyKind::Socks5, 1080));
        assert!(proxy.kind().resolves_locally());
        let proxy = Proxy::parse("socks5h://[::1]:9050").unwrap();
        assert_eq!(
            (proxy.kind(), proxy.host(), proxy.port()),
            (ProxyKind::Socks5h, "::1", 9050)
        );
        assert!(!proxy.kind().resolves_locally());
        assert_eq!(proxy.to_string(), "socks5h://[::1]:9050");
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_shown() {
        let proxy = Proxy::parse("http://us%65r:p%40ss%3Aw%2Fd@h:1").unwrap();
        assert_eq!(proxy.credentials(), Some(("user", "p@ss:w/d")));
        let shown = format!("{proxy} {proxy:?}");
        assert!(!shown.contains("p@ss"), "{shown}");
        assert_eq!(proxy.to_string(), "http://user:***@h:1");
        // The last `@` ends the credentials: an unencoded `@` in the password still works.
        let proxy = Proxy::parse("socks5://u:a@b@h").unwrap();
        assert_eq!(proxy.credentials(), Some(("u", "a@b")));
        let proxy = Proxy::parse("http://u:@h").unwrap();
        assert_eq!(proxy.credentials(), Some(("u", "")));
    }

    #[test]
    fn rejects_what_cannot_be_a_proxy() {
        for (address, err) in [
            ("proxy:3128", ProxyUrlError::Scheme),
            ("https://proxy", ProxyUrlError::Scheme),
            ("socks4://proxy", ProxyUrlError::Scheme),
            ("http://", ProxyUrlError::Host),
            ("http://:80", ProxyUrlError::Host),
            ("http://a b", ProxyUrlError::Host),
            ("http://[::1", ProxyUrlError::Host),
            ("http://[::1]x", ProxyUrlError::Host),
            ("http://h:0", ProxyUrlError::Port),
            ("http://h:65536", ProxyUrlError::Port),
            ("http://h:+1", ProxyUrlError::Port),
            ("http://h/path", ProxyUrlError::Path),
            ("http://h?q", ProxyUrlError::Path),
            ("http://h#f", ProxyUrlError::Path),
            ("http://user@h", ProxyUrlError::Credentials),
            ("http://u:%4@h", ProxyUrlError::Credentials),
            ("http://u:%zz@h", ProxyUrlError::Credentials),
            ("http://u:%+1@h", ProxyUrlError::Credentials),
            ("http://u:%ff@h", ProxyUrlError::Credentials),
            ("socks5://:pw@h", ProxyUrlError::CredentialsLength),
        ] {
            assert_eq!(Proxy::parse(address), Err(err), "{address}");
        }
        let long = "x".repeat(256);
        let address = format!("socks5h://{long}:pw@h");
        assert_eq!(
            Proxy::parse(&address),
            Err(ProxyUrlError::CredentialsLength)
        );
        // HTTP Basic has no such bound.
        assert!(Proxy::parse(&format!("http://{long}:pw@h")).is_ok());
        let proxy = Proxy::parse("socks5://h").unwrap();
        assert_eq!(
            proxy.clone().with_credentials("", "pw"),
            Err(ProxyUrlError::CredentialsLength)
        );
        assert!(proxy.with_credentials("u", "pw").is_ok());
    }
}
