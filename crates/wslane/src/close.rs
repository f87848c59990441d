//! Close codes (RFC 6455 section 7.4) and the close frame body.

use core::fmt;
use core::num::NonZeroU16;

use crate::error::{ProtocolError, SendError};
use crate::utf8;

/// A close status code.
///
/// Any value from 1000 to 4999 can be held, because some codes (1005, 1006, 1015) are reported locally
/// without ever being sent. [`CloseCode::from_wire`] accepts only the codes a peer may put on the wire, and
/// [`CloseCode::is_sendable`] tells whether a code may be sent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(NonZeroU16);

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        impl CloseCode {
            $(
                $(#[$doc])*
                pub const $name: CloseCode = match NonZeroU16::new($value) {
                    Some(code) => CloseCode(code),
                    None => unreachable!(),
                };
            )*
        }
    };
}

codes! {
    /// 1000: the purpose of the connection has been fulfilled.
    NORMAL = 1000,
    /// 1001: the endpoint is going away (server shutting down, page navigated away).
    GOING_AWAY = 1001,
    /// 1002: the peer violated the protocol.
    PROTOCOL_ERROR = 1002,
    /// 1003: the endpoint received a type of data it cannot accept.
    UNSUPPORTED_DATA = 1003,
    /// 1005: no status code was present in the close frame. Never sent on the wire.
    NO_STATUS_RECEIVED = 1005,
    /// 1006: the connection closed without a close frame. Never sent on the wire.
    ABNORMAL_CLOSURE = 1006,
    /// 1007: a message's data was inconsistent with its type (for example, invalid UTF-8 in a text message).
    INVALID_PAYLOAD = 1007,
    /// 1008: a message violated the endpoint's policy.
    POLICY_VIOLATION = 1008,
    /// 1009: a message or frame was too big to process.
    MESSAGE_TOO_BIG = 1009,
    /// 1010: the client expected the server to negotiate an extension that it did not.
    MANDATORY_EXTENSION = 1010,
    /// 1011: the server met an unexpected condition.
    INTERNAL_ERROR = 1011,
    /// 1012: the service is restarting.
    SERVICE_RESTART = 1012,
    /// 1013: try again later (for example, the server is overloaded).
    TRY_AGAIN_LATER = 1013,
    /// 1014: a gateway received an invalid response from upstream.
    BAD_GATEWAY = 1014,
    /// 1015: the TLS handshake failed. Never sent on the wire.
    TLS_HANDSHAKE = 1015,
}

impl CloseCode {
    /// Makes a close code from any value in 1000..=4999, including the codes that are only reported locally.
    #[must_use]
    pub const fn new(code: u16) -> Option<CloseCode> {
        if code < 1000 || code > 4999 {
            return None;
        }
        match NonZeroU16::new(code) {
            Some(code) => Some(CloseCode(code)),
            None => None,
        }
    }

    /// Makes a close code from a value read off the wire: 1000-1003, 1007-1014 and 3000-4999.
    /// Every other value is a protocol error (close code 1002).
    pub const fn from_wire(code: u16) -> Result<CloseCode, ProtocolError> {
        let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
        match (sendable, NonZeroU16::new(code)) {
            (true, Some(code)) => Ok(CloseCode(code)),
            _ => Err(ProtocolError::InvalidCloseCode(code)),
        }
    }

    /// The numeric value.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0.get()
    }

    /// Whether this code may be sent in a close frame.
    #[must_use]
    pub const fn is_sendable(self) -> bool {
        CloseCode::from_wire(self.get()).is_ok()
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.get())
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.get()
    }
}

/// The longest reason a close frame can carry: 125 bytes of control payload less the 2-byte code.
pub const MAX_REASON_LEN: usize = 123;

/// The body of a close frame this side sends, checked: a code that may be sent (RFC 6455 section 7.4)
/// and a reason that fits the control payload (section 5.5).
pub(crate) struct CloseBody {
    bytes: [u8; 2 + MAX_REASON_LEN],
    len: usize,
}

impl CloseBody {
    /// The body for `code` and `reason`, or the caller's mistake.
    pub(crate) fn new(code: CloseCode, reason: &str) -> Result<CloseBody, SendError> {
        if !code.is_sendable() {
            return Err(SendError::InvalidCloseCode(code.get()));
        }
        if reason.len() > MAX_REASON_LEN {
            return Err(SendError::ControlTooLong);
        }
        let mut bytes = [0; 2 + MAX_REASON_LEN];
        bytes[..2].copy_from_slice(&code.get().to_be_bytes());
        bytes[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
        Ok(CloseBody {
            bytes,
            len: 2 + reason.len(),
        })
    }

    /// The bytes to send as the close frame's payload.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Parses and validates the body of a received close frame.
///
/// Returns `None` for an empty body (no status code, reported as [`CloseCode::NO_STATUS_RECEIVED`]),
/// otherwise the code and the reason. A 1-byte body or an invalid code fails with close code 1002; a reason
/// that is not UTF-8 fails with 1007.
pub fn parse_close_body(body: &[u8]) -> Result<Option<(CloseCode, &str)>, ProtocolError> {
    match body {
        [] => Ok(None),
        [_] => Err(ProtocolError::CloseBodyTooShort),
        [hi, lo, reason @ ..] => {
            let code = CloseCode::from_wire(u16::from_be_bytes([*hi, *lo]))?;
            let reason = utf8::validate(reason).map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok(Some((code, reason)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes_follow_section_7_4() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode::from_wire(code).is_ok(), expected, "code {code}");
        }
    }

    #[test]
    fn local_codes_exist_but_are_not_sendable() {
        for code in [1005, 1006, 1015] {
            let code = CloseCode::new(code).unwrap();
            assert!(!code.is_sendable());
        }
        assert_eq!(CloseCode::new(999), None);
        assert_eq!(CloseCode::new(5000), None);
        assert!(CloseCode::NORMAL.is_sendable());
    }

    #[test]
    fn close_body_rules() {
        assert_eq!(parse_close_body(&[]), Ok(None));
        assert_eq!(
            parse_close_body(&[0x03]),
            Err(ProtocolError::CloseBodyTooShort)
        );
        assert_eq!(
            parse_close_body(&[0x03, 0xe8]),
            Ok(Some((CloseCode::NORMAL, "")))
        );
        assert_eq!(
            parse_close_body(b"\x03\xe8bye"),
            Ok(Some((CloseCode::NORMAL, "bye")))
        );
        assert_eq!(
            parse_close_body(&[0x03, 0xed]),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            parse_close_body(&[0x03, 0xe8, 0xff]),
            Err(ProtocolError::InvalidCloseReason)
        );
        assert_eq!(
            ProtocolError::InvalidCloseReason.close_code(),
            CloseCode::INVALID_PAYLOAD
        );
    }
}
