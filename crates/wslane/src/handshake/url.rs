//! WebSocket URIs (RFC 6455 section 3): `ws://host[:port][/path][?query]` and `wss://...`.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::net::Ipv6Addr;

/// A parsed `ws://` or `wss://` URL: where to connect and what to ask for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Url {
    tls: bool,
    /// The host as written, IPv6 literals without their brackets.
    host: String,
    ipv6: bool,
    port: u16,
    resource: String,
}

/// Why a string is not a WebSocket URL this crate accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ws` or `wss`.
    Scheme,
    /// The URL has a fragment (`#`), which RFC 6455 forbids; write `%23` for a literal `#`.
    Fragment,
    /// The URL has user information (`user:password@`), which a WebSocket URL cannot carry.
    UserInfo,
    /// The host is missing or has characters a host cannot have (or an IPv6 literal is invalid).
    Host,
    /// The port is not a number from 1 to 65535.
    Port,
    /// The path or query has spaces, control characters or non-ASCII characters (percent-encode them).
    Path,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Scheme => "URL scheme is not ws or wss",
            UrlError::Fragment => "WebSocket URL has a fragment",
            UrlError::UserInfo => "WebSocket URL has user information",
            UrlError::Host => "URL host is missing or invalid",
            UrlError::Port => "URL port is invalid",
            UrlError::Path => "URL path or query has characters that must be percent-encoded",
        })
    }
}

impl core::error::Error for UrlError {}

impl Url {
    /// Parses a `ws://` or `wss://` URL.
    ///
    /// The scheme is case-insensitive. The host is a name, an IPv4 address or a bracketed IPv6 literal
    /// (`[::1]`, no zone). The port defaults to 80 for `ws` and 443 for `wss`; an empty port (`host:`) means
    /// the default. The path and query are kept as written (the path defaults to `/`), so they must already
    /// be percent-encoded.
    pub fn parse(url: &str) -> Result<Url, UrlError> {
        let (scheme, rest) = url.split_once("://").ok_or(UrlError::Scheme)?;
        let tls = if scheme.eq_ignore_ascii_case("wss") {
            true
        } else if scheme.eq_ignore_ascii_case("ws") {
            false
        } else {
            return Err(UrlError::Scheme);
        };
        if rest.contains('#') {
            return Err(UrlError::Fragment);
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, ipv6, port) = parse_authority(authority)?;
        let port = match port {
            None | Some("") => default_port(tls),
            Some(digits) => parse_port(digits)?,
        };
        if !resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UrlError::Path);
        }
        let resource = if resource.starts_with('/') {
            resource.into()
        } else {
            format!("/{resource}")
        };
        Ok(Url {
            tls,
            host: host.into(),
            ipv6,
            port,
            resource,
        })
    }

    /// Whether this is a `wss://` URL: the connection runs over TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host to connect to (and, for TLS, the server name): a name or an IP address, without brackets.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The resource name: the path and query, as sent in the request line.
    #[must_use]
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The `Host` header value: the host, bracketed if IPv6, with the port only when it is not the default.
    #[must_use]
    pub fn host_header(&self) -> String {
        let host = if self.ipv6 {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port(self.tls) {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "wss" } else { "ws" };
        write!(f, "{scheme}://{}{}", self.host_header(), self.resource)
    }
}

fn default_port(tls: bool) -> u16 {
    if tls {
        443
    } else {
        80
    }
}

/// Splits an authority into host, whether it is an IPv6 literal, and the port text after `:`.
fn parse_authority(authority: &str) -> Result<(&str, bool, Option<&str>), UrlError> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (literal, after) = rest.split_once(']').ok_or(UrlError::Host)?;
        if literal.parse::<Ipv6Addr>().is_err() {
            return Err(UrlError::Host);
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(UrlError::Host)?),
        };
        return Ok((literal, true, port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    // A reg-name or IPv4 address (RFC 3986 section 3.2.2): unreserved, percent-encoded and sub-delims.
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b));
    if valid {
        Ok((host, false, port))
    } else {
        Err(UrlError::Host)
    }
}

fn parse_port(digits: &str) -> Result<u16, UrlError> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::Port);
    }
    match digits.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(UrlError::Port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parses_hosts_ports_and_resources() {
        let url = Url::parse("WSS://Example.com/chat?room=1").unwrap();
        assert!(url.is_tls());
        assert_eq!(
            (url.host(), url.port(), url.resource()),
            ("Example.com", 443, "/chat?room=1")
        );
        assert_eq!(url.host_header(), "Example.com");

        let url = Url::parse("ws://[::1]:9001?x").unwrap();
        assert!(!url.is_tls());
        assert_eq!(
            (url.host(), url.port(), url.resource()),
            ("::1", 9001, "/?x")
        );
        assert_eq!(url.host_header(), "[::1]:9001");
        assert_eq!(url.to_string(), "ws://[::1]:9001/?x");

        let url = Url::parse("ws://10.0.0.1:").unwrap();
        assert_eq!((url.port(), url.resource()), (80, "/"));
        assert_eq!(Url::parse("ws://h:80/").unwrap().host_header(), "h");
        assert_eq!(Url::parse("wss://h:80/").unwrap().host_header(), "h:80");
    }

    #[test]
    fn rejects_what_rfc_6455_forbids() {
        for (url, err) in [
            ("http://h/", UrlError::Scheme),
            ("h/", UrlError::Scheme),
            ("ws:/h", UrlError::Scheme),
            ("ws://h/#frag", UrlError::Fragment),
            ("ws://user:pw@h/", UrlError::UserInfo),
            ("ws:///path", UrlError::Host),
            ("ws://:80/", UrlError::Host),
            ("ws://h h/", UrlError::Host),
            ("ws://[::1/", UrlError::Host),
            ("ws://[zz::1]/", UrlError::Host),
            ("ws://[::1]x/", UrlError::Host),
            ("ws://h:0/", UrlError::Port),
            ("ws://h:65536/", UrlError::Port),
            ("ws://h:+80/", UrlError::Port),
            ("ws://h:8a/", UrlError::Port),
            ("ws://h/a b", UrlError::Path),
            ("ws://h/\u{e9}", UrlError::Path),
        ] {
            assert_eq!(Url::parse(url), Err(err), "{url}");
        }
    }
}
