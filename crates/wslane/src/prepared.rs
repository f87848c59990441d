//! Messages framed once and sent on many connections: [`PreparedMessage`].
//!
//! A server's frames are not masked, so a message's frame is the same bytes on every server connection.
//! [`PreparedMessage::new`] frames it once, in a reference-counted buffer, and
//! [`Sender::send_prepared`](crate::Sender::send_prepared) queues a reference to those bytes: connections
//! transmit the same allocation through
//! [`Connection::poll_transmit_vectored`](crate::Connection::poll_transmit_vectored), with no copy and no
//! allocation per connection. ([`Connection::poll_transmit`](crate::Connection::poll_transmit) copies them
//! into its one slice, as it does for payloads sent on from the receive buffer; frames under 2 KiB are
//! copied into the transmit buffer at once, which costs less than a slice of their own.)
//!
//! # Extensions
//!
//! When a connection's negotiated extension encodes every message the same way, whatever was sent before
//! ([`Extension::shared_encoding`](crate::extension::Extension::shared_encoding): permessage-deflate when
//! the server resets its compressor after each message, `server_no_context_takeover`), the first such
//! connection encodes the message and the prepared message keeps that encoding, framed, for every other
//! connection with the same settings (feature `std`: the cache needs a lock). Otherwise (context
//! takeover, or without `std`) each connection encodes the message itself, as for any other send. This is
//! what uWebSockets' shared compressor does; `docs/broadcasting.md` discusses the trade.
//!
//! # Clients
//!
//! A client must mask every frame with a fresh key (RFC 6455 section 5.3), so no two clients can send the
//! same bytes: a client connection masks a copy of the payload (or of its shared encoding). It works, but
//! saves only the framing and, with a stateless extension, the encoding.
//!
//! ```
//! use wslane::prepared::PreparedMessage;
//! use wslane::{Config, Connection, Instant};
//!
//! let message = PreparedMessage::text("tick");
//! let mut servers: Vec<Connection> =
//!     (0..3).map(|_| Connection::server(Instant::ZERO, Config::default())).collect();
//! for server in &mut servers {
//!     server.sender().send_prepared(&message).unwrap();
//!     assert_eq!(server.poll_transmit(), b"\x81\x04tick");
//! }
//! ```

use alloc::sync::Arc;
#[cfg(feature = "std")]
use alloc::vec::Vec;

#[cfg(feature = "std")]
use crate::extension::SharedEncoding;
use crate::frame::{DataKind, FrameHeader};

/// A text or binary message framed once, for many connections: see the [module](self) documentation.
///
/// Cheap to share: put it in an [`Arc`] or pass it by reference; the frame bytes are reference-counted
/// inside. Sent as one frame whatever [`Config::fragment_size`](crate::Config::fragment_size) says.
pub struct PreparedMessage {
    kind: DataKind,
    /// The unmasked frame, header then payload.
    frame: Frame,
    /// Frames encoded by a stateless extension, by its key (few: one per distinct setting).
    #[cfg(feature = "std")]
    encoded: std::sync::Mutex<Vec<(SharedEncoding, Frame)>>,
}

/// One framed message: the header's length and the whole frame.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub(crate) bytes: Arc<[u8]>,
    pub(crate) header_len: usize,
}

impl Frame {
    /// An unmasked, final frame of `opcode` with `rsv` and `payload`.
    pub(crate) fn new(kind: DataKind, rsv: u8, payload: &[u8]) -> Frame {
        let mut header = FrameHeader::new(kind.opcode(), payload.len() as u64);
        header.rsv = rsv;
        let head = header.to_bytes();
        let mut bytes = alloc::vec::Vec::with_capacity(head.len() + payload.len());
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(payload);
        Frame {
            bytes: bytes.into(),
            header_len: head.len(),
        }
    }

    /// The payload.
    pub(crate) fn payload(&self) -> &[u8] {
        &self.bytes[self.header_len..]
    }

    /// The RSV bits of the header.
    pub(crate) fn rsv(&self) -> u8 {
        (self.bytes[0] >> 4) & 0b111
    }
}

impl core::fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("kind", &self.kind)
            .field("len", &self.payload().len())
            .finish_non_exhaustive()
    }
}

impl PreparedMessage {
    /// Frames a message of type `kind`. Text must be valid UTF-8: that is the caller's promise (use
    /// [`text`](Self::text) to have the type system keep it).
    #[must_use]
    pub fn new(kind: DataKind, payload: &[u8]) -> PreparedMessage {
        PreparedMessage {
            kind,
            frame: Frame::new(kind, 0, payload),
            #[cfg(feature = "std")]
            encoded: std::sync::Mutex::default(),
        }
    }

    /// Frames a text message.
    #[must_use]
    pub fn text(text: &str) -> PreparedMessage {
        PreparedMessage::new(DataKind::Text, text.as_bytes())
    }

    /// Frames a binary message.
    #[must_use]
    pub fn binary(data: &[u8]) -> PreparedMessage {
        PreparedMessage::new(DataKind::Binary, data)
    }

    /// The message's type.
    #[must_use]
    pub fn kind(&self) -> DataKind {
        self.kind
    }

    /// The message's payload, as given.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        self.frame.payload()
    }

    /// The frame a server sends without an extension: header and payload, unmasked.
    #[must_use]
    pub fn frame(&self) -> &[u8] {
        &self.frame.bytes
    }

    /// The shared frame bytes, reference-counted: every server connection that queued this message
    /// without an extension holds one reference until it has transmitted it (what the tests count).
    #[must_use]
    pub fn shared_frame(&self) -> &Arc<[u8]> {
        &self.frame.bytes
    }

    /// How many extension encodings are kept (one per distinct [`SharedEncoding`] key of the connections
    /// it was sent on; always 0 without the `std` feature).
    ///
    /// [`SharedEncoding`]: crate::extension::SharedEncoding
    #[must_use]
    pub fn encodings(&self) -> usize {
        #[cfg(feature = "std")]
        {
            self.lock().len()
        }
        #[cfg(not(feature = "std"))]
        {
            0
        }
    }

    /// The unencoded frame.
    pub(crate) fn plain(&self) -> &Frame {
        &self.frame
    }

    #[cfg(feature = "std")]
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(SharedEncoding, Frame)>> {
        // Entries are pushed whole, so a poisoned cache is still consistent.
        self.encoded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The frame encoded for `key`, if one is kept.
    #[cfg(feature = "std")]
    pub(crate) fn encoded(&self, key: SharedEncoding) -> Option<Frame> {
        self.lock()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, frame)| frame.clone())
    }

    /// Keeps `frame` as the encoding for `key` (the first one kept wins) and returns the one kept.
    #[cfg(feature = "std")]
    pub(crate) fn keep_encoded(&self, key: SharedEncoding, frame: Frame) -> Frame {
        let mut encoded = self.lock();
        if let Some((_, kept)) = encoded.iter().find(|(k, _)| *k == key) {
            return kept.clone();
        }
        encoded.push((key, frame.clone()));
        frame
    }
}
