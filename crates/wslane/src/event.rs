//! What a connection hands out: [`Event`] and the [`Fragment`]s of a message that arrives in pieces.
//!
//! One type for both connections. The buffered [`Connection`](crate::Connection) hands out whole
//! messages or fragments as its [`ReceiveMode`](crate::ReceiveMode) says; the heap-free
//! [`unbuffered::connection::Connection`](crate::unbuffered::connection::Connection) hands out a
//! single-frame message that fits its receive buffer whole, and everything else as fragments.

use crate::close::CloseCode;
use crate::frame::DataKind;

/// Something that happened on a connection. Payloads borrow the connection's buffers until the next call.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A whole text message.
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// A piece of a message, as it arrived.
    Fragment(Fragment<'a>),
    /// A ping. With auto-pong on (the default), the pong is already queued (the heap-free connection holds
    /// it until its transmit buffer has room).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close frame ([`CloseCode::NO_STATUS_RECEIVED`] when it had no body; the reply is already
    /// queued), or the end of the transport without one ([`CloseCode::ABNORMAL_CLOSURE`]). Nothing follows.
    Close {
        /// The peer's code, or a local one (1005, 1006) as above.
        code: CloseCode,
        /// The peer's reason.
        reason: &'a str,
    },
}

/// A piece of a data message, as it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// The message's type.
    pub kind: DataKind,
    /// The bytes. For text, the message so far is valid UTF-8, but a piece may end inside a character.
    pub data: &'a [u8],
    /// This is the first piece of the message.
    pub first: bool,
    /// This is the last piece of the message.
    pub fin: bool,
}
