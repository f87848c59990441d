//! Why the hop through a proxy failed, saying who is at fault: the configuration, the proxy, or the
//! target as the proxy reports it.

use core::fmt;

use super::address::ProxyUrlError;

/// Why connecting through a proxy failed. I/O errors and the handshake timeout are reported as
/// [`Error::Io`](crate::Error::Io); everything the proxy answered, and every configuration mistake, is
/// one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy address is invalid: the one given, or the one in environment variable `variable`.
    Address {
        /// The environment variable the address came from, or `None` for one given explicitly.
        variable: Option<&'static str>,
        /// What is wrong with it.
        error: ProxyUrlError,
    },
    /// The target cannot be named in a SOCKS5 request: a host name longer than 255 bytes.
    TargetName,
    /// The HTTP proxy answered `CONNECT` with 407 (Proxy Authentication Required): the address has no
    /// credentials, or the proxy refused them.
    AuthenticationRequired {
        /// The status answered (407).
        status: u16,
        /// Whether credentials were sent.
        credentials_sent: bool,
    },
    /// The HTTP proxy refused `CONNECT` with this status (not 2xx, not 407): for example 403 for a
    /// target its rules forbid, or 502 when it could not reach the target.
    Refused {
        /// The status answered.
        status: u16,
    },
    /// The HTTP proxy's reply is not a valid HTTP/1.x response head.
    MalformedResponse,
    /// The HTTP proxy's reply head is longer than [`MAX_RESPONSE_HEAD`](super::MAX_RESPONSE_HEAD) bytes.
    ResponseTooLarge,
    /// The SOCKS proxy answered with another protocol version (SOCKS5 is 5; RFC 1929 authentication is
    /// 1): it is not a SOCKS5 proxy, or not speaking SOCKS.
    SocksVersion {
        /// The version byte received.
        version: u8,
    },
    /// The SOCKS5 proxy accepts none of the authentication methods offered (it answered 0xFF): it wants
    /// a username and password and the address has none, or it wants a method this crate lacks.
    SocksNoAcceptableMethod {
        /// Whether username and password authentication was offered.
        credentials_offered: bool,
    },
    /// The SOCKS5 proxy chose a method that was not offered.
    SocksUnexpectedMethod {
        /// The method it chose.
        method: u8,
    },
    /// The SOCKS5 proxy refused the username and password: it answered an RFC 1929 status other than 0,
    /// or closed the connection instead of answering them (as some proxies do).
    SocksAuthenticationFailed {
        /// The status it answered, or `None` when it closed the connection.
        status: Option<u8>,
    },
    /// The SOCKS5 proxy refused or failed the connection: its reply code (RFC 1928 section 6).
    Socks(SocksReply),
    /// The SOCKS5 proxy's reply is malformed: a reserved byte that is not 0, or an unknown address type.
    SocksMalformedReply,
    /// The proxy closed the connection before its reply was complete.
    Closed,
}

impl ProxyError {
    /// The HTTP status the proxy answered, for [`AuthenticationRequired`](Self::AuthenticationRequired)
    /// and [`Refused`](Self::Refused).
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            ProxyError::AuthenticationRequired { status, .. } | ProxyError::Refused { status } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Address {
                variable: Some(variable),
                error,
            } => write!(f, "invalid proxy address in {variable}: {error}"),
            ProxyError::Address {
                variable: None,
                error,
            } => write!(f, "invalid proxy address: {error}"),
            ProxyError::TargetName => {
                f.write_str("the target host name is too long for a SOCKS5 request")
            }
            ProxyError::AuthenticationRequired {
                status,
                credentials_sent: true,
            } => write!(f, "the HTTP proxy refused the credentials ({status})"),
            ProxyError::AuthenticationRequired {
                status,
                credentials_sent: false,
            } => write!(f, "the HTTP proxy requires credentials ({status})"),
            ProxyError::Refused { status } => {
                write!(
                    f,
                    "the HTTP proxy refused the CONNECT request with {status}"
                )
            }
            ProxyError::MalformedResponse => {
                f.write_str("the HTTP proxy's reply is not a valid HTTP response")
            }
            ProxyError::ResponseTooLarge => write!(
                f,
                "the HTTP proxy's reply head exceeds {} bytes",
                super::MAX_RESPONSE_HEAD
            ),
            ProxyError::SocksVersion { version } => {
                write!(f, "the SOCKS proxy answered with version {version}")
            }
            ProxyError::SocksNoAcceptableMethod {
                credentials_offered: true,
            } => f.write_str("the SOCKS5 proxy accepts none of the offered authentication methods"),
            ProxyError::SocksNoAcceptableMethod {
                credentials_offered: false,
            } => {
                f.write_str("the SOCKS5 proxy requires authentication (no credentials were given)")
            }
            ProxyError::SocksUnexpectedMethod { method } => write!(
                f,
                "the SOCKS5 proxy chose authentication method {method}, which was not offered"
            ),
            ProxyError::SocksAuthenticationFailed {
                status: Some(status),
            } => write!(
                f,
                "the SOCKS5 proxy refused the username and password (status {status})"
            ),
            ProxyError::SocksAuthenticationFailed { status: None } => f.write_str(
                "the SOCKS5 proxy refused the username and password (it closed the connection)",
            ),
            ProxyError::Socks(reply) => write!(f, "the SOCKS5 proxy failed: {reply}"),
            ProxyError::SocksMalformedReply => f.write_str("the SOCKS5 proxy's reply is malformed"),
            ProxyError::Closed => {
                f.write_str("the proxy closed the connection before its reply was complete")
            }
        }
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProxyError::Address { error, .. } => Some(error),
            ProxyError::Socks(reply) => Some(reply),
            _ => None,
        }
    }
}

/// A SOCKS5 reply code other than success (RFC 1928 section 6): why the proxy did not connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocksReply {
    /// 1: general SOCKS server failure.
    GeneralFailure,
    /// 2: connection not allowed by the proxy's rules.
    NotAllowed,
    /// 3: network unreachable (from the proxy).
    NetworkUnreachable,
    /// 4: host unreachable (from the proxy), or its name did not resolve.
    HostUnreachable,
    /// 5: the target refused the connection.
    ConnectionRefused,
    /// 6: TTL expired.
    TtlExpired,
    /// 7: command not supported.
    CommandNotSupported,
    /// 8: address type not supported.
    AddressTypeNotSupported,
    /// A code RFC 1928 does not assign.
    Other(u8),
}

impl SocksReply {
    /// The reply for a code other than 0 (success).
    #[must_use]
    pub fn from_code(code: u8) -> SocksReply {
        match code {
            1 => SocksReply::GeneralFailure,
            2 => SocksReply::NotAllowed,
            3 => SocksReply::NetworkUnreachable,
            4 => SocksReply::HostUnreachable,
            5 => SocksReply::ConnectionRefused,
            6 => SocksReply::TtlExpired,
            7 => SocksReply::CommandNotSupported,
            8 => SocksReply::AddressTypeNotSupported,
            code => SocksReply::Other(code),
        }
    }

    /// The code on the wire.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            SocksReply::GeneralFailure => 1,
            SocksReply::NotAllowed => 2,
            SocksReply::NetworkUnreachable => 3,
            SocksReply::HostUnreachable => 4,
            SocksReply::ConnectionRefused => 5,
            SocksReply::TtlExpired => 6,
            SocksReply::CommandNotSupported => 7,
            SocksReply::AddressTypeNotSupported => 8,
            SocksReply::Other(code) => code,
        }
    }
}

impl fmt::Display for SocksReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            SocksReply::GeneralFailure => "general server failure",
            SocksReply::NotAllowed => "connection not allowed by its rules",
            SocksReply::NetworkUnreachable => "network unreachable",
            SocksReply::HostUnreachable => "host unreachable",
            SocksReply::ConnectionRefused => "connection refused by the target",
            SocksReply::TtlExpired => "TTL expired",
            SocksReply::CommandNotSupported => "command not supported",
            SocksReply::AddressTypeNotSupported => "address type not supported",
            SocksReply::Other(code) => return write!(f, "unassigned reply code {code}"),
        };
        write!(f, "{text} (reply {})", self.code())
    }
}

impl std::error::Error for SocksReply {}
