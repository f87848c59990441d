//! The per-connection payload transform of a negotiated extension.

use alloc::vec::Vec;

use crate::error::{ProtocolError, SendError};
use crate::frame::OpCode;

/// A negotiated extension's payload transform, owned by one [`Connection`](crate::Connection).
pub trait Extension: Send {
    /// The RSV bits (as in the frame's first byte shifted right by 4: RSV1 = `0b100`) that this extension may
    /// set on the first frame of a data message.
    fn rsv_bits(&self) -> u8;

    /// Decodes a received message whose first frame carried `rsv` (non-zero, within [`Extension::rsv_bits`]).
    ///
    /// Called with the message's payload in order, one or more chunks, `fin` set on the last. Appends the
    /// decoded bytes to `out` and never lets `out` grow past `limit` bytes: past it, return
    /// [`ProtocolError::MessageTooLarge`] (this is the defence against decompression bombs). Undecodable input
    /// is [`ProtocolError::ExtensionData`] (1007).
    fn decode(
        &mut self,
        rsv: u8,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError>;

    /// Encodes a whole message to send. Appends the encoded payload to `out` and returns the RSV bits for its
    /// first frame, or returns `Ok(None)` (leaving `out` empty) to send the message as it is.
    fn encode(
        &mut self,
        opcode: OpCode,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<u8>, SendError>;

    /// Whether [`encode`](Self::encode)'s output depends on the message alone, with the settings this key
    /// names, and not on the messages sent before it: then a message encoded once on one connection can be
    /// sent unchanged on every connection whose extension returns an equal key, and a
    /// [`PreparedMessage`](crate::prepared::PreparedMessage) keeps one encoding per key. `None` (the
    /// default) means every connection encodes for itself.
    ///
    /// permessage-deflate returns a key when the compressor is reset after every message (the server sends
    /// with `server_no_context_takeover`), naming its window bits, level, memory level and threshold.
    fn shared_encoding(&self) -> Option<SharedEncoding> {
        None
    }
}

/// Names an extension's stateless encoding: two connections with equal keys encode every message to the same
/// bytes (see [`Extension::shared_encoding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SharedEncoding {
    extension: &'static str,
    params: u64,
}

impl SharedEncoding {
    /// The key of `extension` (its registered name) with its encoding settings packed into `params`. An
    /// extension must give equal keys only to settings that encode every message the same way.
    #[must_use]
    pub const fn new(extension: &'static str, params: u64) -> SharedEncoding {
        SharedEncoding { extension, params }
    }

    /// The extension's name.
    #[must_use]
    pub const fn extension(&self) -> &'static str {
        self.extension
    }

    /// The packed settings.
    #[must_use]
    pub const fn params(&self) -> u64 {
        self.params
    }
}
