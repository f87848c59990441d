//! The SOCKS5 exchange (RFC 1928, with RFC 1929 username and password) as a state machine over bytes:
//! greeting, method choice, authentication, `CONNECT` and its reply, each read to its exact length.

use std::net::IpAddr;

use super::{Progress, ProxyError, ProxyUrlError, SocksReply, Target};

const VERSION: u8 = 5;
const AUTH_VERSION: u8 = 1;
const NO_AUTHENTICATION: u8 = 0;
const USERNAME_PASSWORD: u8 = 2;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
const CONNECT: u8 = 1;
const IPV4: u8 = 1;
const DOMAIN: u8 = 3;
const IPV6: u8 = 4;

/// The client's side of a SOCKS5 `CONNECT` to a target.
///
/// Order: write what [`poll_transmit`](Self::poll_transmit) returns (the greeting first, then the
/// authentication or the request as the exchange gets there), and read at most
/// [`read_limit`](Self::read_limit) bytes at a time into [`handle_input`](Self::handle_input) until it
/// says [`Progress::Established`]. Each read is sized to the message expected, so no byte of the tunnel
/// is taken from the stream.
#[derive(Debug)]
pub struct Socks5 {
    state: State,
    /// The fixed-size part of the message being read.
    part: [u8; 4],
    filled: usize,
    output: Option<Vec<u8>>,
    request: Vec<u8>,
    authentication: Option<Vec<u8>>,
    failed: Option<ProxyError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// The method choice: version, method.
    Method,
    /// The RFC 1929 status: version, status.
    Authentication,
    /// The reply's first four bytes: version, reply, reserved, address type.
    ReplyHead,
    /// The length of a domain name in the reply.
    DomainLength,
    /// This many bytes of bound address and port are left to skip.
    ReplyTail(usize),
    Done,
}

impl Socks5 {
    /// A `CONNECT` to `target`, offering username and password authentication when `credentials` are
    /// given (and no authentication either way). A target name that parses as an IP address is sent as
    /// one; any other name is sent for the proxy to resolve.
    ///
    /// # Errors
    /// [`ProxyError::TargetName`] for a name longer than 255 bytes;
    /// [`ProxyError::Address`] with [`ProxyUrlError::CredentialsLength`] for credentials RFC 1929
    /// cannot carry.
    pub fn new(target: &Target, credentials: Option<(&str, &str)>) -> Result<Socks5, ProxyError> {
        let mut request = vec![VERSION, CONNECT, 0];
        let (address, port) = match target {
            Target::Address(addr) => (Err(addr.ip()), addr.port()),
            Target::Name { host, port } => match host.parse::<IpAddr>() {
                Ok(ip) => (Err(ip), *port),
                Err(_) => (Ok(host.as_bytes()), *port),
            },
        };
        match address {
            Err(IpAddr::V4(ip)) => {
                request.push(IPV4);
                request.extend_from_slice(&ip.octets());
            }
            Err(IpAddr::V6(ip)) => {
                request.push(IPV6);
                request.extend_from_slice(&ip.octets());
            }
            Ok(name) => {
                let length = u8::try_from(name.len())
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(ProxyError::TargetName)?;
                request.extend_from_slice(&[DOMAIN, length]);
                request.extend_from_slice(name);
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        let authentication = credentials
            .map(|(user, password)| authentication(user, password))
            .transpose()?;
        let greeting = if authentication.is_some() {
            vec![VERSION, 2, NO_AUTHENTICATION, USERNAME_PASSWORD]
        } else {
            vec![VERSION, 1, NO_AUTHENTICATION]
        };
        Ok(Socks5 {
            state: State::Method,
            part: [0; 4],
            filled: 0,
            output: Some(greeting),
            request,
            authentication,
            failed: None,
        })
    }

    /// The next message to write, if one is due.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.output.take()
    }

    /// How many bytes the next read may take without passing the end of the message expected; 0 once
    /// done.
    #[must_use]
    pub fn read_limit(&self) -> usize {
        match self.state {
            State::Done => 0,
            State::ReplyTail(left) => left,
            state => part_length(state) - self.filled,
        }
    }

    /// Takes bytes of the proxy's answers. Bytes after the final reply are not consumed
    /// ([`Progress::Established`] says how many were).
    ///
    /// # Errors
    /// The proxy's fault: another version, a refused method or authentication, a reply code other than
    /// success (as [`ProxyError::Socks`]), or a malformed reply. Once failed, every call fails the same.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<Progress, ProxyError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        let mut used = 0;
        while self.state != State::Done && used < input.len() {
            let rest = &input[used..];
            if let State::ReplyTail(left) = self.state {
                let take = left.min(rest.len());
                used += take;
                self.state = match left - take {
                    0 => State::Done,
                    left => State::ReplyTail(left),
                };
                continue;
            }
            let need = part_length(self.state);
            let take = (need - self.filled).min(rest.len());
            self.part[self.filled..self.filled + take].copy_from_slice(&rest[..take]);
            self.filled += take;
            used += take;
            if self.filled == need {
                self.filled = 0;
                if let Err(err) = self.step() {
                    self.failed = Some(err);
                    return Err(err);
                }
            }
        }
        Ok(match self.state {
            State::Done => Progress::Established { consumed: used },
            _ => Progress::Partial,
        })
    }

    /// The end of the stream from the proxy before the tunnel opened: the error to report. A proxy that
    /// closes the connection in answer to the username and password refused them.
    #[must_use]
    pub fn handle_eof(&mut self) -> ProxyError {
        let err = match (self.failed, self.state) {
            (Some(err), _) => err,
            (None, State::Authentication) => ProxyError::SocksAuthenticationFailed { status: None },
            (None, _) => ProxyError::Closed,
        };
        self.failed = Some(err);
        err
    }

    /// Acts on a complete fixed-size part.
    fn step(&mut self) -> Result<(), ProxyError> {
        let [first, second, third, fourth] = self.part;
        self.state = match self.state {
            State::Method => {
                if first != VERSION {
                    return Err(ProxyError::SocksVersion { version: first });
                }
                match (second, self.authentication.take()) {
                    (NO_AUTHENTICATION, _) => {
                        self.output = Some(core::mem::take(&mut self.request));
                        State::ReplyHead
                    }
                    (USERNAME_PASSWORD, Some(message)) => {
                        self.output = Some(message);
                        State::Authentication
                    }
                    (NO_ACCEPTABLE_METHOD, offered) => {
                        return Err(ProxyError::SocksNoAcceptableMethod {
                            credentials_offered: offered.is_some(),
                        })
                    }
                    (method, _) => return Err(ProxyError::SocksUnexpectedMethod { method }),
                }
            }
            State::Authentication => {
                if first != AUTH_VERSION {
                    return Err(ProxyError::SocksVersion { version: first });
                }
                if second != 0 {
                    return Err(ProxyError::SocksAuthenticationFailed {
                        status: Some(second),
                    });
                }
                self.output = Some(core::mem::take(&mut self.request));
                State::ReplyHead
            }
            State::ReplyHead => {
                if first != VERSION {
                    return Err(ProxyError::SocksVersion { version: first });
                }
                if second != 0 {
                    return Err(ProxyError::Socks(SocksReply::from_code(second)));
                }
                // The reserved byte is not checked: proxies in the wild send junk there, as clients
                // such as curl tolerate.
                let _ = third;
                match fourth {
                    IPV4 => State::ReplyTail(4 + 2),
                    IPV6 => State::ReplyTail(16 + 2),
                    DOMAIN => State::DomainLength,
                    _ => return Err(ProxyError::SocksMalformedReply),
                }
            }
            State::DomainLength => State::ReplyTail(usize::from(first) + 2),
            State::ReplyTail(_) | State::Done => self.state,
        };
        Ok(())
    }
}

/// The length of the fixed-size part read in `state`.
fn part_length(state: State) -> usize {
    match state {
        State::Method | State::Authentication => 2,
        State::ReplyHead => 4,
        State::DomainLength => 1,
        State::ReplyTail(_) | State::Done => 0,
    }
}

/// The RFC 1929 request: version, username length and username, password length and password.
fn authentication(user: &str, password: &str) -> Result<Vec<u8>, ProxyError> {
    let invalid = ProxyError::Address {
        variable: None,
        error: ProxyUrlError::CredentialsLength,
    };
    let user_length = u8::try_from(user.len())
        .ok()
        .filter(|&n| n > 0)
        .ok_or(invalid)?;
    let password_length = u8::try_from(password.len()).map_err(|_| invalid)?;
    let mut message = vec![AUTH_VERSION, user_length];
    message.extend_from_slice(user.as_bytes());
    message.push(password_length);
    message.extend_from_slice(password.as_bytes());
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers each message `socks` writes with the next of `answers`, read by the read limit; returns
    /// the messages written and the outcome.
    fn exchange(
        socks: &mut Socks5,
        answers: &[&[u8]],
    ) -> (Vec<Vec<u8>>, Result<Progress, ProxyError>) {
        let mut written = Vec::new();
        let mut last = Ok(Progress::Partial);
        for answer in answers {
            written.extend(socks.poll_transmit());
            let mut offset = 0;
            while offset < answer.len() {
                let end = (offset + socks.read_limit()).min(answer.len());
                last = socks.handle_input(&answer[offset..end]);
                match last {
                    Ok(Progress::Partial) if end > offset => offset = end,
                    _ => return (written, last),
                }
            }
        }
        written.extend(socks.poll_transmit());
        (written, last)
    }

    #[test]
    fn connects_to_a_name_with_credentials() {
        let target = Target::name("echo.example", 443);
        let mut socks = Socks5::new(&target, Some(("user", "pw"))).unwrap();
        let reply: &[u8] = b"\x05\x00\x00\x03\x04host\x01\xbb";
        let (written, result) = exchange(&mut socks, &[b"\x05\x02", b"\x01\x00", reply]);
        assert_eq!(
            written,
            [
                &b"\x05\x02\x00\x02"[..],
                b"\x01\x04user\x02pw",
                b"\x05\x01\x00\x03\x0cecho.example\x01\xbb"
            ]
        );
        // The last read was the bound name and port, sized exactly.
        assert_eq!(result, Ok(Progress::Established { consumed: 6 }));
        assert_eq!(socks.read_limit(), 0);
    }

    #[test]
    fn connects_to_addresses_without_authentication() {
        let target = Target::Address("10.1.2.3:80".parse().unwrap());
        let mut socks = Socks5::new(&target, None).unwrap();
        let reply: &[u8] = b"\x05\x00\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x50";
        let (written, result) = exchange(&mut socks, &[b"\x05\x00", reply]);
        assert_eq!(
            written,
            [
                &b"\x05\x01\x00"[..],
                b"\x05\x01\x00\x01\x0a\x01\x02\x03\x00\x50"
            ]
        );
        assert!(matches!(result, Ok(Progress::Established { .. })));
        // A name that is an IP literal goes as an address too.
        let mut socks = Socks5::new(&Target::name("::1", 9), None).unwrap();
        let _greeting = socks.poll_transmit();
        assert_eq!(socks.handle_input(b"\x05\x00"), Ok(Progress::Partial));
        let request = socks.poll_transmit().unwrap();
        assert_eq!(&request[..4], b"\x05\x01\x00\x04");
        assert_eq!(request.len(), 4 + 16 + 2);
        // Bytes after the reply in one input are left for the tunnel.
        let reply = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50tunnel";
        assert_eq!(
            socks.handle_input(reply),
            Ok(Progress::Established {
                consumed: reply.len() - 6
            })
        );
    }

    #[test]
    fn maps_reply_codes_to_typed_errors() {
        for code in 1..=9u8 {
            let mut socks = Socks5::new(&Target::name("h", 1), None).unwrap();
            let (_, result) = exchange(&mut socks, &[b"\x05\x00", &[5, code, 0, 1]]);
            let err = result.unwrap_err();
            assert_eq!(err, ProxyError::Socks(SocksReply::from_code(code)));
            assert_eq!(SocksReply::from_code(code).code(), code);
            assert!(err.to_string().starts_with("the SOCKS5 proxy failed: "));
        }
        let text = ProxyError::Socks(SocksReply::ConnectionRefused).to_string();
        assert_eq!(
            text,
            "the SOCKS5 proxy failed: connection refused by the target (reply 5)"
        );
    }

    #[test]
    fn refusals_of_authentication_are_typed() {
        let target = Target::name("h", 1);
        let mut socks = Socks5::new(&target, None).unwrap();
        let (_, result) = exchange(&mut socks, &[b"\x05\xff"]);
        assert_eq!(
            result,
            Err(ProxyError::SocksNoAcceptableMethod {
                credentials_offered: false
            })
        );
        // A proxy that asks for a password nobody offered.
        let mut socks = Socks5::new(&target, None).unwrap();
        let (_, result) = exchange(&mut socks, &[b"\x05\x02"]);
        assert_eq!(result, Err(ProxyError::SocksUnexpectedMethod { method: 2 }));
        let mut socks = Socks5::new(&target, Some(("u", "wrong"))).unwrap();
        let (_, result) = exchange(&mut socks, &[b"\x05\x02", b"\x01\x01"]);
        assert_eq!(
            result,
            Err(ProxyError::SocksAuthenticationFailed { status: Some(1) })
        );
        // Failed stays failed.
        assert_eq!(
            socks.handle_input(b"\x05\x00\x00\x01"),
            Err(ProxyError::SocksAuthenticationFailed { status: Some(1) })
        );
        // A proxy that closes the connection in answer to the credentials refused them; closing at any
        // other point is only that.
        let mut socks = Socks5::new(&target, Some(("u", "wrong"))).unwrap();
        let (_, result) = exchange(&mut socks, &[b"\x05\x02"]);
        assert_eq!(result, Ok(Progress::Partial));
        let err = socks.handle_eof();
        assert_eq!(err, ProxyError::SocksAuthenticationFailed { status: None });
        assert!(err.to_string().contains("closed the connection"), "{err}");
        let mut socks = Socks5::new(&target, Some(("u", "p"))).unwrap();
        assert_eq!(socks.handle_eof(), ProxyError::Closed);
    }

    #[test]
    fn hostile_replies_fail_without_panicking() {
        let target = Target::name("h", 1);
        for (answers, expected) in [
            (
                &[&b"HTTP/1.1 400 Bad"[..]][..],
                Err(ProxyError::SocksVersion { version: b'H' }),
            ),
            (
                &[&b"\x04\x00"[..]],
                Err(ProxyError::SocksVersion { version: 4 }),
            ),
            (
                &[&b"\x05\x00"[..], b"\x04\x00\x00\x01"],
                Err(ProxyError::SocksVersion { version: 4 }),
            ),
            (
                &[&b"\x05\x00"[..], b"\x05\x00\x00\x09"],
                Err(ProxyError::SocksMalformedReply),
            ),
            // Truncated: the reply stops inside the bound address.
            (
                &[&b"\x05\x00"[..], b"\x05\x00\x00\x01\x7f"],
                Ok(Progress::Partial),
            ),
        ] {
            let mut socks = Socks5::new(&target, None).unwrap();
            assert_eq!(exchange(&mut socks, answers).1, expected, "{answers:?}");
        }
        let mut socks = Socks5::new(&target, Some(("u", "p"))).unwrap();
        let (_, result) = exchange(&mut socks, &[b"\x05\x02", b"\x05\x00"]);
        assert_eq!(result, Err(ProxyError::SocksVersion { version: 5 }));
        // Every byte string, fed whole, ends in a result and never takes more than it was given.
        for seed in 0..2000u32 {
            let bytes: Vec<u8> = (0..(seed % 40))
                .map(|i| (seed.wrapping_mul(2_654_435_761).rotate_left(i) & 0xff) as u8)
                .collect();
            let mut socks = Socks5::new(&target, Some(("u", "p"))).unwrap();
            if let Ok(Progress::Established { consumed }) = socks.handle_input(&bytes) {
                assert!(consumed <= bytes.len());
            }
        }
    }

    #[test]
    fn refuses_targets_and_credentials_it_cannot_send() {
        let long = "a".repeat(256);
        assert_eq!(
            Socks5::new(&Target::name(&long, 1), None).unwrap_err(),
            ProxyError::TargetName
        );
        let err = Socks5::new(&Target::name("h", 1), Some((&long, "p"))).unwrap_err();
        assert!(matches!(err, ProxyError::Address { .. }), "{err:?}");
        assert!(Socks5::new(&Target::name("h", 1), Some(("", "p"))).is_err());
    }
}
