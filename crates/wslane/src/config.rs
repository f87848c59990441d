//! Connection settings, with safe defaults.

use core::time::Duration;

/// How a [`Connection`](crate::Connection) hands out received data messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReceiveMode {
    /// Whole messages ([`Event::Text`](crate::Event::Text), [`Event::Binary`](crate::Event::Binary)),
    /// reassembled from their fragments, up to [`Config::max_message_size`].
    #[default]
    Messages,
    /// Payload as it arrives ([`Event::Fragment`](crate::Event::Fragment)), so a message never has to sit
    /// in memory whole. Text is still validated as UTF-8 on the fly.
    Fragments,
}

/// Connection settings. Start from [`Config::default`] and change the fields you need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The largest frame payload accepted; a larger one fails the connection with 1009.
    /// Default: 16 MiB.
    pub max_frame_size: usize,
    /// The largest message accepted (after decoding by an extension); a larger one fails the connection
    /// with 1009. Default: 64 MiB.
    pub max_message_size: usize,
    /// Whole messages or streamed fragments. Default: whole messages.
    pub receive_mode: ReceiveMode,
    /// Answer every ping with a pong carrying the same payload. Default: on.
    pub auto_pong: bool,
    /// Split outgoing messages into frames of at most this many payload bytes. Default: no splitting.
    pub fragment_size: Option<usize>,
    /// Output buffered but not yet transmitted, in bytes, past which sends fail with
    /// [`SendError::BufferFull`](crate::SendError::BufferFull) until the output is transmitted. A single
    /// message larger than this is still accepted when the buffer is below it, and an empty buffer always
    /// takes one message. Default: 1 MiB.
    pub max_output_buffer: usize,
    /// Keepalive: when nothing has been received for this long, send a ping; when nothing has been received
    /// for another interval after that, fail with [`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout).
    /// Default: off.
    pub keepalive: Option<Duration>,
    /// How long to wait for the peer's close frame after sending one, and (for a client) for the server to
    /// close the transport after the close handshake, before giving up. Default: 10 s.
    pub close_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            receive_mode: ReceiveMode::Messages,
            auto_pong: true,
            fragment_size: None,
            max_output_buffer: 1 << 20,
            keepalive: None,
            close_timeout: Duration::from_secs(10),
        }
    }
}
