//! Frame opcodes (RFC 6455 section 5.2).

/// A frame's opcode. The reserved values (0x3-0x7, 0xB-0xF) have no variant: parsing one is a protocol error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: a continuation of a fragmented message.
    Continuation = 0x0,
    /// 0x1: the first frame of a text message.
    Text = 0x1,
    /// 0x2: the first frame of a binary message.
    Binary = 0x2,
    /// 0x8: close.
    Close = 0x8,
    /// 0x9: ping.
    Ping = 0x9,
    /// 0xA: pong.
    Pong = 0xA,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for a reserved one.
    #[must_use]
    pub const fn from_u8(value: u8) -> Option<OpCode> {
        Some(match value {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// Whether this is a control opcode (close, ping, pong).
    #[must_use]
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }

    /// Whether this opcode starts or continues a data message.
    #[must_use]
    pub const fn is_data(self) -> bool {
        !self.is_control()
    }
}

/// The type of a data message: the two opcodes that start one. Used wherever only text or binary is valid
/// (sending raw or in pieces, a received [`Fragment`](crate::Fragment), a decoded data chunk), so a
/// control opcode cannot be passed where a message type is meant.
///
/// ```
/// use wslane::{DataKind, OpCode};
///
/// assert_eq!(DataKind::Text.opcode(), OpCode::Text);
/// assert_eq!(DataKind::from_opcode(OpCode::Binary), Some(DataKind::Binary));
/// assert_eq!(DataKind::from_opcode(OpCode::Ping), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataKind {
    /// A text message: its payload is UTF-8.
    Text,
    /// A binary message.
    Binary,
}

impl DataKind {
    /// The opcode of the message's first frame.
    #[must_use]
    pub const fn opcode(self) -> OpCode {
        match self {
            DataKind::Text => OpCode::Text,
            DataKind::Binary => OpCode::Binary,
        }
    }

    /// The kind a first frame's opcode starts, or `None` for a continuation or control opcode.
    #[must_use]
    pub const fn from_opcode(opcode: OpCode) -> Option<DataKind> {
        match opcode {
            OpCode::Text => Some(DataKind::Text),
            OpCode::Binary => Some(DataKind::Binary),
            _ => None,
        }
    }
}

impl From<DataKind> for OpCode {
    fn from(kind: DataKind) -> OpCode {
        kind.opcode()
    }
}
