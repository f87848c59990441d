//! Owned messages, for adapters and applications that keep what they receive.

use alloc::string::String;
use alloc::vec::Vec;

use crate::close::CloseCode;
use crate::connection::Event;

/// A close frame's code and reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most 123 bytes of UTF-8.
    pub reason: String,
}

/// A whole message, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (answered automatically unless auto-pong is off).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame. Received: the peer's code ([`CloseCode::NO_STATUS_RECEIVED`] for an empty body,
    /// [`CloseCode::ABNORMAL_CLOSURE`] when the transport ended without one). Sent: `None` sends
    /// [`CloseCode::NORMAL`] with no reason.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    #[must_use]
    pub fn binary(data: impl Into<Vec<u8>>) -> Message {
        Message::Binary(data.into())
    }

    /// Whether this is a text or binary message.
    #[must_use]
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// The payload bytes (the reason's bytes for a close).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(frame) => frame.as_ref().map_or(&[], |f| f.reason.as_bytes()),
        }
    }

    /// Copies a whole-message event. Returns `None` for [`Event::Fragment`], which is part of a message.
    #[must_use]
    pub fn from_event(event: &Event<'_>) -> Option<Message> {
        Some(match *event {
            Event::Text(text) => Message::Text(crate::copy::to_string(text)),
            Event::Binary(data) => Message::Binary(crate::copy::to_vec(data)),
            Event::Ping(data) => Message::Ping(data.into()),
            Event::Pong(data) => Message::Pong(data.into()),
            Event::Close { code, reason } => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
            Event::Fragment(_) => return None,
        })
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::Text(text.into())
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Message {
        Message::Binary(data)
    }
}
