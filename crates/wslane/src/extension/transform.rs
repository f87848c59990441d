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
}
