//! The drivers' error: the cause kept, whether I/O, protocol, handshake or misuse. Every driver, async or
//! blocking (`wslane-mio` uses it too), reports failures with it, so moving between them changes no error
//! handling.

use std::boxed::Box;
use std::fmt;
use std::io;

use wslane::handshake::{ClientError, ServerError, UrlError};
use wslane::{CloseCode, Message, SendError};

use crate::proxy::ProxyError;

/// Why an operation on an adapter's WebSocket failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed (a handshake that ran out of time is [`io::ErrorKind::TimedOut`]).
    Io(io::Error),
    /// The connection failed: a protocol violation by the peer (with the close code that was sent), or a
    /// keepalive or close timeout.
    Protocol(wslane::Error),
    /// Server side: the client's opening handshake was refused (the error has the HTTP status that was
    /// answered).
    Request(ServerError),
    /// Server side: the application refused the request with this status.
    Rejected {
        /// The HTTP status answered.
        status: u16,
    },
    /// Client side: the server's answer was refused, for example a status other than 101 (the error keeps
    /// the status and the fields).
    Response(Box<ClientError>),
    /// Client side: the URL is not a valid `ws://` or `wss://` URL.
    Url(UrlError),
    /// Client side: connecting through a proxy failed: its address is invalid, or it refused or failed
    /// the tunnel (an HTTP status such as 407, a SOCKS5 reply code), or its reply was malformed.
    Proxy(ProxyError),
    /// A command could not be carried out: for example sending after close, or
    /// [`SendError::BufferFull`] when sending to another connection of an event loop.
    Send(SendError),
    /// The connection is closed; nothing more can be sent or received.
    Closed,
    /// The socket was aborted through an [`AbortHandle`](crate::AbortHandle): its transport is dropped.
    /// Every sending call fails with this from then on; receiving returns it once, then the end.
    Aborted,
    /// A [`Fragment`](wslane::Fragment) event cannot be returned as a whole message: receive
    /// borrowed events (`recv_with`, `read_with`) in [`ReceiveMode::Fragments`](wslane::ReceiveMode::Fragments).
    FragmentsMode,
}

impl Error {
    /// The close code that describes a connection failure, if this is one.
    #[must_use]
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol(err) => Some(err.close_code()),
            Error::Io(_) => Some(CloseCode::ABNORMAL_CLOSURE),
            _ => None,
        }
    }

    /// The HTTP status of a failed handshake, if this is one. (An HTTP proxy's status, such as 407, is
    /// [`ProxyError::status`] of [`Error::Proxy`].)
    #[must_use]
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Request(err) => Some(err.status()),
            Error::Rejected { status } => Some(*status),
            Error::Response(err) => match err.as_ref() {
                ClientError::Status { code, .. } => Some(*code),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(err) => write!(f, "I/O error: {err}"),
            Error::Protocol(err) => fmt::Display::fmt(err, f),
            Error::Request(err) => write!(f, "refused the opening handshake: {err}"),
            Error::Rejected { status } => write!(f, "refused the opening handshake with {status}"),
            Error::Response(err) => write!(f, "the server's handshake response was refused: {err}"),
            Error::Url(err) => write!(f, "invalid URL: {err}"),
            Error::Proxy(err) => fmt::Display::fmt(err, f),
            Error::Send(err) => write!(f, "cannot send: {err}"),
            Error::Closed => f.write_str("the connection is closed"),
            Error::Aborted => f.write_str("the connection was aborted"),
            Error::FragmentsMode => f.write_str(
                "fragment events need a borrowed-event receive, not a whole-message one",
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(err) => Some(err),
            Error::Protocol(err) => Some(err),
            Error::Request(err) => Some(err),
            Error::Response(err) => Some(err.as_ref()),
            Error::Url(err) => Some(err),
            Error::Proxy(err) => Some(err),
            Error::Send(err) => Some(err),
            Error::Rejected { .. } | Error::Closed | Error::Aborted | Error::FragmentsMode => None,
        }
    }
}

/// Why [`try_send`](crate::WebSocket::try_send) did not queue a message.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrySendError {
    /// The output is at [`Config::max_output_buffer`](wslane::Config::max_output_buffer): the peer is
    /// not reading fast enough. The message is handed back; nothing was queued.
    Full(Message),
    /// The message cannot be sent at all: the connection is closing or aborted, or the command is
    /// invalid.
    Failed(Error),
}

impl TrySendError {
    /// The message handed back, if the output was full.
    #[must_use]
    pub fn into_message(self) -> Option<Message> {
        match self {
            TrySendError::Full(message) => Some(message),
            TrySendError::Failed(_) => None,
        }
    }
}

impl fmt::Display for TrySendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the output buffer is full"),
            TrySendError::Failed(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl std::error::Error for TrySendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrySendError::Full(_) => None,
            TrySendError::Failed(err) => Some(err),
        }
    }
}

/// `Full` becomes [`Error::Send`]`(`[`SendError::BufferFull`]`)`, so `?` works where a message is not
/// worth keeping.
impl From<TrySendError> for Error {
    fn from(err: TrySendError) -> Error {
        match err {
            TrySendError::Full(_) => Error::Send(SendError::BufferFull),
            TrySendError::Failed(err) => err,
        }
    }
}

/// Why [`try_send_prepared`](crate::WebSocket::try_send_prepared) did not queue a prepared message.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrySendPreparedError {
    /// The output is at [`Config::max_output_buffer`](wslane::Config::max_output_buffer): the peer is
    /// not reading fast enough (its fault, or the network's). Nothing was queued.
    Full,
    /// The message cannot be sent at all: the connection is closing or aborted, or the call is the
    /// caller's misuse (a fragmented message still being sent).
    Failed(Error),
}

impl fmt::Display for TrySendPreparedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendPreparedError::Full => f.write_str("the output buffer is full"),
            TrySendPreparedError::Failed(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl std::error::Error for TrySendPreparedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrySendPreparedError::Full => None,
            TrySendPreparedError::Failed(err) => Some(err),
        }
    }
}

/// `Full` becomes [`Error::Send`]`(`[`SendError::BufferFull`]`)`.
impl From<TrySendPreparedError> for Error {
    fn from(err: TrySendPreparedError) -> Error {
        match err {
            TrySendPreparedError::Full => Error::Send(SendError::BufferFull),
            TrySendPreparedError::Failed(err) => err,
        }
    }
}

/// An I/O error, unless it carries a connection failure ([`wslane::Error`], as when a timeout fires
/// while a write waits for the transport): then that failure, so its close code is kept.
impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        match err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<wslane::Error>())
        {
            Some(&failure) => Error::Protocol(failure),
            None => Error::Io(err),
        }
    }
}

impl From<wslane::Error> for Error {
    fn from(err: wslane::Error) -> Error {
        Error::Protocol(err)
    }
}

impl From<SendError> for Error {
    fn from(err: SendError) -> Error {
        match err {
            SendError::Closed => Error::Closed,
            err => Error::Send(err),
        }
    }
}

impl From<ServerError> for Error {
    fn from(err: ServerError) -> Error {
        Error::Request(err)
    }
}

impl From<ClientError> for Error {
    fn from(err: ClientError) -> Error {
        Error::Response(Box::new(err))
    }
}

impl From<UrlError> for Error {
    fn from(err: UrlError) -> Error {
        Error::Url(err)
    }
}

impl From<ProxyError> for Error {
    fn from(err: ProxyError) -> Error {
        Error::Proxy(err)
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        match err {
            Error::Io(err) => err,
            err => io::Error::other(err),
        }
    }
}
