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
    /// Keepalive: when nothing has been received for this long, send a ping (`None`: never). Any bytes
    /// received count as a sign of life, not only the pong. Default: 20 s, as in Python's `websockets`: a
    /// peer that vanished without closing the transport (a dropped network, a sleeping laptop, a NAT that
    /// forgot the mapping) is otherwise never noticed, and a ping every 20 s of silence also keeps most
    /// middleboxes from dropping an idle connection. A busy connection sends no pings at all.
    pub ping_interval: Option<Duration>,
    /// Keepalive: when nothing has been received for this long after the ping sent at
    /// [`ping_interval`](Self::ping_interval), the connection fails with
    /// [`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout) and a close frame with 1011 is queued
    /// before the transport is closed. Unused while `ping_interval` is `None`. Default: 20 s (as
    /// `websockets`), so a dead peer is given up on after at most 40 s of silence.
    pub pong_timeout: Duration,
    /// A connection whose output makes no progress for this long is failed with
    /// [`Error::WriteTimeout`](crate::Error::WriteTimeout): output was queued, and the driver reported no
    /// bytes transmitted ([`Connection::advance_transmit`](crate::Connection::advance_transmit)) for this
    /// long, so the peer has stopped reading (its receive window stays closed). The queued output is
    /// dropped and [`Connection::should_close_transport`](crate::Connection::should_close_transport) turns
    /// true; no close frame can be sent, since the output is stuck. `None`: never.
    ///
    /// The clock restarts at every transmission that makes progress, not only when the output is empty:
    /// a peer that reads slowly but steadily, or a sender that keeps the buffer topped up at full speed,
    /// is never cut off; only a stall is. (A peer that reads a byte now and then is bounded by
    /// [`max_output_buffer`](Self::max_output_buffer) instead, through backpressure.) Default: 30 s, longer
    /// than any stall a healthy TCP connection shows, short enough that a reader that stopped does not
    /// hold its socket and buffers for minutes.
    pub write_timeout: Option<Duration>,
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
            ping_interval: Some(Duration::from_secs(20)),
            pong_timeout: Duration::from_secs(20),
            write_timeout: Some(Duration::from_secs(30)),
            close_timeout: Duration::from_secs(10),
        }
    }
}
