//! The HTTP `CONNECT` exchange (RFC 9110 section 9.3.6) as a state machine over bytes: one request out,
//! one response head in, bounded and checked. Any 2xx opens the tunnel; 407 and every other status are
//! typed errors carrying it.

use base64::Engine as _;

use super::{Progress, ProxyError, Target, MAX_RESPONSE_HEAD};

/// The most response fields read; a reply with more is malformed.
const MAX_FIELDS: usize = 64;

/// The client's side of an HTTP `CONNECT` to a target.
///
/// Order: write what [`poll_transmit`](Self::poll_transmit) returns, then read at most
/// [`read_limit`](Self::read_limit) bytes at a time into [`handle_input`](Self::handle_input) until it
/// says [`Progress::Established`]. The read limit keeps every read inside the reply, so no byte of the
/// tunnel is taken from the stream.
#[derive(Debug)]
pub struct HttpConnect {
    request: Option<Vec<u8>>,
    head: Vec<u8>,
    credentials_sent: bool,
    done: bool,
    failed: Option<ProxyError>,
}

impl HttpConnect {
    /// A `CONNECT` request for `target`, with `Proxy-Authorization: Basic` when `credentials` are given.
    #[must_use]
    pub fn new(target: &Target, credentials: Option<(&str, &str)>) -> HttpConnect {
        let authority = target.authority();
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some((user, password)) = credentials {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        HttpConnect {
            request: Some(request.into_bytes()),
            head: Vec::new(),
            credentials_sent: credentials.is_some(),
            done: false,
            failed: None,
        }
    }

    /// The request to write, once.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.request.take()
    }

    /// How many bytes the next read may take without passing the end of the reply head: 2 after a byte
    /// that is not CR or LF (the shortest end of a head, `\n\n`, is two bytes), else 1; 0 once done.
    #[must_use]
    pub fn read_limit(&self) -> usize {
        match self.head.last() {
            _ if self.done => 0,
            Some(b'\r' | b'\n') => 1,
            _ => 2,
        }
    }

    /// Takes bytes of the proxy's reply. Bytes after the head are not consumed
    /// ([`Progress::Established`] says how many were).
    ///
    /// # Errors
    /// The proxy's fault: a malformed or oversized head, a 407 or another status than 2xx. Once failed,
    /// every call fails the same.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<Progress, ProxyError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        if self.done {
            return Ok(Progress::Established { consumed: 0 });
        }
        let result = self.read(input);
        if let Err(err) = result {
            self.failed = Some(err);
        }
        result
    }

    /// Adds `input` to the reply head and parses it.
    fn read(&mut self, input: &[u8]) -> Result<Progress, ProxyError> {
        let before = self.head.len();
        let room = MAX_RESPONSE_HEAD - before;
        let taken = &input[..input.len().min(room)];
        self.head.extend_from_slice(taken);
        let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
        let mut response = httparse::Response::new(&mut fields);
        match response.parse(&self.head) {
            Ok(httparse::Status::Complete(length)) => {
                self.done = true;
                let status = response.code.ok_or(ProxyError::MalformedResponse)?;
                match status {
                    200..=299 => Ok(Progress::Established {
                        consumed: length - before,
                    }),
                    407 => Err(ProxyError::AuthenticationRequired {
                        status,
                        credentials_sent: self.credentials_sent,
                    }),
                    _ => Err(ProxyError::Refused { status }),
                }
            }
            Ok(httparse::Status::Partial) if self.head.len() >= MAX_RESPONSE_HEAD => {
                Err(ProxyError::ResponseTooLarge)
            }
            Ok(httparse::Status::Partial) => Ok(Progress::Partial),
            Err(_) => Err(ProxyError::MalformedResponse),
        }
    }

    /// The end of the stream from the proxy before the reply head ended: the error to report.
    #[must_use]
    pub fn handle_eof(&mut self) -> ProxyError {
        *self.failed.get_or_insert(ProxyError::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::name("echo.example", 443)
    }

    /// Feeds `reply` as a driver would, never more than the read limit at a time.
    fn run(connect: &mut HttpConnect, reply: &[u8]) -> Result<(Progress, usize), ProxyError> {
        let mut offset = 0;
        loop {
            let limit = connect.read_limit();
            assert!(limit > 0, "asked for nothing before the end");
            let end = (offset + limit).min(reply.len());
            if offset == end {
                return Ok((Progress::Partial, offset));
            }
            let progress = connect.handle_input(&reply[offset..end])?;
            if let Progress::Established { consumed } = progress {
                assert_eq!(consumed, end - offset, "a limited read took tunnel bytes");
                return Ok((progress, end));
            }
            offset = end;
        }
    }

    #[test]
    fn writes_connect_with_basic_credentials() {
        let mut connect = HttpConnect::new(&target(), Some(("Aladdin", "open sesame")));
        let request = String::from_utf8(connect.poll_transmit().unwrap()).unwrap();
        assert_eq!(
            request,
            "CONNECT echo.example:443 HTTP/1.1\r\nHost: echo.example:443\r\n\
             Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        assert_eq!(connect.poll_transmit(), None);
        let ipv6 = Target::Address("[::1]:8080".parse().unwrap());
        let request = HttpConnect::new(&ipv6, None).poll_transmit().unwrap();
        assert!(request.starts_with(b"CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"));
    }

    #[test]
    fn reads_exactly_the_reply_head() {
        for reply in [
            &b"HTTP/1.1 200 Connection established\r\nVia: proxy\r\n\r\nTUNNEL"[..],
            b"HTTP/1.0 200 OK\n\nTUNNEL",
            b"HTTP/1.1 204 \r\n\r\nTUNNEL",
        ] {
            let mut connect = HttpConnect::new(&target(), None);
            let (progress, end) = run(&mut connect, reply).unwrap();
            assert!(matches!(progress, Progress::Established { .. }));
            assert_eq!(&reply[end..], b"TUNNEL", "{reply:?}");
            assert_eq!(connect.read_limit(), 0);
        }
        // Bytes past the head in one input are left for the tunnel.
        let mut connect = HttpConnect::new(&target(), None);
        let reply = b"HTTP/1.1 200 OK\r\n\r\nabc";
        assert_eq!(
            connect.handle_input(reply),
            Ok(Progress::Established {
                consumed: reply.len() - 3
            })
        );
    }

    #[test]
    fn reports_407_and_refusals_with_their_status() {
        let reply = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                      Proxy-Authenticate: Basic realm=\"p\"\r\n\r\n";
        let err = run(&mut HttpConnect::new(&target(), None), reply).unwrap_err();
        assert_eq!(
            err,
            ProxyError::AuthenticationRequired {
                status: 407,
                credentials_sent: false
            }
        );
        assert_eq!(err.status(), Some(407));
        let mut connect = HttpConnect::new(&target(), Some(("u", "wrong")));
        let err = run(&mut connect, reply).unwrap_err();
        assert!(err.to_string().contains("refused the credentials (407)"));
        let err = run(
            &mut HttpConnect::new(&target(), None),
            b"HTTP/1.1 403 Forbidden\r\n\r\n",
        );
        assert_eq!(err, Err(ProxyError::Refused { status: 403 }));
    }

    #[test]
    fn hostile_replies_fail_without_panicking() {
        for reply in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/9.9 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
            b"\x00\x01\x02\x03",
        ] {
            let result = run(&mut HttpConnect::new(&target(), None), reply);
            assert_eq!(result, Err(ProxyError::MalformedResponse), "{reply:?}");
        }
        // A head that never ends is cut at the bound, fed in one piece or by the read limit.
        let mut huge = b"HTTP/1.1 200 OK\r\nX-Filler: ".to_vec();
        huge.resize(MAX_RESPONSE_HEAD + 100, b'a');
        let mut connect = HttpConnect::new(&target(), None);
        assert_eq!(
            connect.handle_input(&huge),
            Err(ProxyError::ResponseTooLarge)
        );
        let result = run(&mut HttpConnect::new(&target(), None), &huge);
        assert_eq!(result, Err(ProxyError::ResponseTooLarge));
        // Too many fields is malformed, not a panic.
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_FIELDS {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let result = run(&mut HttpConnect::new(&target(), None), &many);
        assert_eq!(result, Err(ProxyError::MalformedResponse));
        // A truncated reply is still partial.
        let mut connect = HttpConnect::new(&target(), None);
        assert_eq!(
            run(&mut connect, b"HTTP/1.1 200 OK\r\n"),
            Ok((Progress::Partial, 17))
        );
    }

    #[test]
    fn a_failure_sticks() {
        let mut connect = HttpConnect::new(&target(), None);
        let err = run(&mut connect, b"HTTP/1.1 403 Forbidden\r\n\r\n").unwrap_err();
        assert_eq!(err, ProxyError::Refused { status: 403 });
        assert_eq!(connect.handle_input(b"HTTP/1.1 200 OK\r\n\r\n"), Err(err));
        assert_eq!(connect.handle_eof(), err);
    }
}
