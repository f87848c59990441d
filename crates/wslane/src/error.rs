//! Error types. A peer's fault ([`ProtocolError`]) carries the close code to answer with; local misuse
//! ([`SendError`]) is a separate type, because the connection stays usable after it.

use core::fmt;

use crate::close::CloseCode;

/// The peer violated RFC 6455 (or a configured limit). The connection fails: a close frame with
/// [`ProtocolError::close_code`] is queued and nothing more is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A client sent an unmasked frame (section 5.1).
    UnmaskedFrame,
    /// A server sent a masked frame (section 5.1).
    MaskedFrame,
    /// RSV bits were set that no negotiated extension defines (section 5.2).
    ReservedBits(u8),
    /// An opcode reserved for future use (section 5.2).
    ReservedOpcode(u8),
    /// A 64-bit payload length with its most significant bit set (section 5.2).
    LengthOverflow,
    /// A payload length not encoded in the minimal number of bytes (section 5.2).
    NonMinimalLength,
    /// A control frame with a payload over 125 bytes (section 5.5).
    ControlFrameTooLong,
    /// A control frame without FIN (section 5.5).
    FragmentedControlFrame,
    /// A continuation frame with no fragmented message in progress (section 5.4).
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress (section 5.4).
    ExpectedContinuation,
    /// A text message, or a close reason, that is not valid UTF-8 (section 8.1).
    InvalidUtf8,
    /// A close frame with a 1-byte body (section 5.5.1).
    CloseBodyTooShort,
    /// A close frame with a code that may not be sent (section 7.4).
    InvalidCloseCode(u16),
    /// A close frame whose reason is not valid UTF-8 (section 5.5.1).
    InvalidCloseReason,
    /// A frame's payload is over the configured frame size limit.
    FrameTooLarge {
        /// The payload length the frame announced.
        len: u64,
        /// The configured limit.
        max: u64,
    },
    /// A message is over the configured message size limit.
    MessageTooLarge {
        /// The limit.
        max: u64,
    },
    /// A negotiated extension could not decode a message (for permessage-deflate: it does not inflate).
    ExtensionData,
}

impl ProtocolError {
    /// The close code this error is answered with.
    #[must_use]
    pub const fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8
            | ProtocolError::InvalidCloseReason
            | ProtocolError::ExtensionData => CloseCode::INVALID_PAYLOAD,
            ProtocolError::FrameTooLarge { .. } | ProtocolError::MessageTooLarge { .. } => {
                CloseCode::MESSAGE_TOO_BIG
            }
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::UnmaskedFrame => f.write_str("client sent an unmasked frame"),
            ProtocolError::MaskedFrame => f.write_str("server sent a masked frame"),
            ProtocolError::ReservedBits(bits) => {
                write!(
                    f,
                    "reserved bits {bits:#05b} set without a negotiated extension"
                )
            }
            ProtocolError::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            ProtocolError::LengthOverflow => {
                f.write_str("64-bit payload length with the most significant bit set")
            }
            ProtocolError::NonMinimalLength => {
                f.write_str("payload length not in its minimal encoding")
            }
            ProtocolError::ControlFrameTooLong => {
                f.write_str("control frame payload longer than 125 bytes")
            }
            ProtocolError::FragmentedControlFrame => f.write_str("fragmented control frame"),
            ProtocolError::UnexpectedContinuation => {
                f.write_str("continuation frame with no message in progress")
            }
            ProtocolError::ExpectedContinuation => {
                f.write_str("new data frame while a fragmented message is in progress")
            }
            ProtocolError::InvalidUtf8 => f.write_str("text message is not valid UTF-8"),
            ProtocolError::CloseBodyTooShort => f.write_str("close frame body of 1 byte"),
            ProtocolError::InvalidCloseCode(code) => write!(f, "invalid close code {code}"),
            ProtocolError::InvalidCloseReason => f.write_str("close reason is not valid UTF-8"),
            ProtocolError::FrameTooLarge { len, max } => {
                write!(f, "frame payload of {len} bytes is over the limit of {max}")
            }
            ProtocolError::MessageTooLarge { max } => {
                write!(f, "message is over the limit of {max} bytes")
            }
            ProtocolError::ExtensionData => f.write_str("extension could not decode the message"),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// A command the connection cannot carry out. The connection is unchanged and stays usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent (or the connection failed): no more data or pings may be sent.
    Closed,
    /// A ping, pong or close payload over 125 bytes.
    ControlTooLong,
    /// A close code that may not be sent on the wire (1005, 1006, 1015).
    InvalidCloseCode(u16),
    /// A text or binary message was started while a fragmented message is still being sent.
    MessageInProgress,
    /// The output buffer is at its configured limit: transmit what is queued first.
    BufferFull,
    /// A negotiated extension could not encode the message.
    Extension,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed => f.write_str("the connection is closing or closed"),
            SendError::ControlTooLong => f.write_str("control frame payload over 125 bytes"),
            SendError::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            SendError::MessageInProgress => f.write_str("a fragmented message is still being sent"),
            SendError::BufferFull => f.write_str("output buffer is full"),
            SendError::Extension => f.write_str("extension could not encode the message"),
        }
    }
}

impl core::error::Error for SendError {}

/// Why a connection ended without a clean close handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer violated the protocol; a close frame with the error's code was queued.
    Protocol(ProtocolError),
    /// The peer's fault (or the network's): nothing was received for
    /// [`Config::ping_interval`](crate::Config::ping_interval) and then, after our ping, for
    /// [`Config::pong_timeout`](crate::Config::pong_timeout), so the peer is presumed gone. A close frame
    /// with 1011 was queued, in case it is still there.
    KeepaliveTimeout,
    /// The peer's fault (or the network's): our output made no progress for
    /// [`Config::write_timeout`](crate::Config::write_timeout), so the peer has stopped reading. The
    /// output was dropped and no close frame could be sent: the peer sees the transport end (1006).
    WriteTimeout,
    /// The close handshake did not finish within the configured close timeout.
    CloseTimeout,
}

impl Error {
    /// The close code that describes this error: the one sent for a protocol error; 1011 for a keepalive
    /// timeout (sent too) and for a write timeout (not sent: the output is stuck, but it is the code a
    /// server reports for a peer it gave up on, and it tells the two timeouts from an abrupt end); 1006
    /// for a close timeout (the handshake never finished).
    #[must_use]
    pub const fn close_code(&self) -> CloseCode {
        match self {
            Error::Protocol(err) => err.close_code(),
            Error::KeepaliveTimeout | Error::WriteTimeout => CloseCode::INTERNAL_ERROR,
            Error::CloseTimeout => CloseCode::ABNORMAL_CLOSURE,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(err: ProtocolError) -> Error {
        Error::Protocol(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(err) => write!(f, "protocol error ({}): {err}", err.close_code()),
            Error::KeepaliveTimeout => f.write_str("keepalive timeout: the peer stopped answering"),
            Error::WriteTimeout => f.write_str("write timeout: the peer stopped reading"),
            Error::CloseTimeout => f.write_str("the close handshake timed out"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Protocol(err) => Some(err),
            _ => None,
        }
    }
}
