//! The frame codec of RFC 6455 section 5.2: header parse and encode, and masking. No allocation, no state.

mod header;
mod mask;
mod opcode;

pub use header::{EncodeError, EncodedHeader, FrameHeader, Parsed, MAX_HEADER_LEN};
pub use mask::apply_mask;
// For the benchmarks, fuzz targets and tests only, out of the documented API: see the items' comments.
#[doc(hidden)]
pub use mask::{apply_mask_portable, apply_mask_reference};
pub use opcode::{DataKind, OpCode};

/// The most payload a control frame (close, ping, pong) may carry.
pub const MAX_CONTROL_PAYLOAD: usize = 125;
