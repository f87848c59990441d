//! The worst-case heap of one [`Connection`](crate::Connection), computed from its settings.
//!
//! Every buffer of a connection follows one release rule: a buffer up to 64 KiB is kept for reuse; a larger
//! one (grown for large traffic) is kept while that traffic continues and released as soon as it is empty
//! and the frame, message or burst it last handled was no larger than 64 KiB. So an idle connection holds
//! about 2 KiB (plus the permessage-deflate state, if negotiated), and [`worst_case`] bounds what it can
//! hold in between, whatever the peer sends.

use crate::config::{Config, ReceiveMode};
use crate::connection::buffer::MAX_READ_ROOM;
use crate::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};

/// The parts of a connection's worst-case heap, in bytes; [`total`](Self::total) adds them up. See
/// [`worst_case`] for how each is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorstCase {
    /// The receive buffer.
    pub receive_buffer: usize,
    /// The reassembly buffer (whole messages, and an extension's decoded output).
    pub reassembly: usize,
    /// The transmit buffer.
    pub transmit: usize,
    /// The extension's encode scratch (permessage-deflate's compressed output).
    pub encode_scratch: usize,
    /// The permessage-deflate compressor and decompressor.
    pub deflate_state: usize,
    /// Small fixed allocations: the boxed extension and key source (a client's key source counts its
    /// own size on top, if it is larger).
    pub fixed: usize,
}

impl WorstCase {
    /// The whole bound.
    #[must_use]
    pub fn total(&self) -> usize {
        self.receive_buffer
            .saturating_add(self.reassembly)
            .saturating_add(self.transmit)
            .saturating_add(self.encode_scratch)
            .saturating_add(self.deflate_state)
            .saturating_add(self.fixed)
    }
}

/// Small fixed allocations: the boxed key source and extension.
const FIXED: usize = 1 << 10;

/// The most a control frame written without a room check adds to the output (a pong held while the
/// output is full, a close reply, a keepalive ping): two frames.
const CONTROL_SLACK: usize = 2 * (MAX_HEADER_LEN + MAX_CONTROL_PAYLOAD);

/// The worst-case heap of one connection with `config` and no extension, under the conditions below.
///
/// | part | bound | why |
/// |---|---|---|
/// | receive buffer | 2 × (P + H + R) | P: `max_frame_size` ([`ReceiveMode::Messages`]: a frame is held whole) or 125 ([`ReceiveMode::Fragments`]: only a control frame is); H: 14, the largest header; R: 64 KiB, the most room a read is offered beyond what a frame needs. Room reserved for an announced frame is exact; past 16 MiB ahead it grows by doubling, hence the 2 |
/// | reassembly | M + 1 in [`ReceiveMode::Messages`], 0 in [`ReceiveMode::Fragments`] | M: `max_message_size`; growth stops at the limit (one byte past it with an extension, to see it crossed) |
/// | transmit | 2 × (2 × (B + C) + S + (S / f + 1) × H) | B: `max_output_buffer`; C: 278, two control frames written without a room check; S: the largest message sent; f: `fragment_size`. A send is accepted while less than B + C is waiting; transmitted bytes still before the waiting ones are dropped before the buffer grows once they are half of it, so it holds less than 2 × (B + C) plus the message; growth doubles, hence the outer 2 |
/// | fixed | 1 KiB | the boxed key source and extension |
///
/// The conditions: the connection is driven as [`Connection`](crate::Connection) describes, polling every
/// event after each read; received bytes come through [`read_buffer`](crate::Connection::read_buffer), or
/// [`handle_input`](crate::Connection::handle_input) in pieces of at most 64 KiB (a larger piece adds its
/// size); and no message sent is larger than `max_message_size` (S = M; an echo's case).
///
/// With permessage-deflate, see `worst_case_with_deflate` (feature `deflate`).
#[must_use]
pub fn worst_case(config: &Config) -> WorstCase {
    let h = MAX_HEADER_LEN;
    let payload = match config.receive_mode {
        ReceiveMode::Messages => config.max_frame_size.max(MAX_CONTROL_PAYLOAD),
        ReceiveMode::Fragments => MAX_CONTROL_PAYLOAD,
    };
    let receive_buffer = payload
        .saturating_add(h)
        .saturating_add(MAX_READ_ROOM)
        .saturating_mul(2);
    let reassembly = match config.receive_mode {
        ReceiveMode::Messages => config.max_message_size.saturating_add(1),
        ReceiveMode::Fragments => 0,
    };
    WorstCase {
        receive_buffer,
        reassembly,
        transmit: transmit(config, config.max_message_size),
        encode_scratch: 0,
        deflate_state: 0,
        fixed: FIXED,
    }
}

/// The transmit buffer's bound for messages of at most `largest` bytes (already encoded).
fn transmit(config: &Config, largest: usize) -> usize {
    let fragment = config.fragment_size.unwrap_or(usize::MAX).max(1);
    let framed = (largest / fragment)
        .saturating_add(1)
        .saturating_mul(MAX_HEADER_LEN)
        .saturating_add(largest);
    config
        .max_output_buffer
        .saturating_add(CONTROL_SLACK)
        .saturating_mul(2)
        .saturating_add(framed)
        .saturating_mul(2)
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::{transmit, worst_case, WorstCase};
    use crate::config::Config;
    use crate::deflate::DeflateConfig;

    /// The compressor's fixed part in zlib-rs (its hash table and state), rounded up: 134,272 bytes
    /// measured.
    const COMPRESSOR_FIXED: usize = 136 << 10;
    /// The decompressor, whatever the window (zlib-rs always allocates 32 KiB): 47,552 bytes measured.
    const DECOMPRESSOR: usize = 52 << 10;
    /// The compressor's output step (`deflate::codec`).
    const STEP: usize = 32 << 10;

    /// The compressed size of `len` bytes at worst (stored blocks), with room for the block headers and
    /// the flush.
    fn compressed(len: usize) -> usize {
        len.saturating_add(len / 1024).saturating_add(1 << 10)
    }

    /// The worst-case heap of one connection with `config` and permessage-deflate negotiated from
    /// `deflate`, under the conditions of [`worst_case`].
    ///
    /// | part | bound | why |
    /// |---|---|---|
    /// | receive buffer | as without deflate | frames are received the same way |
    /// | reassembly | M + 1, in both receive modes | decompressed output, grown up to one byte past `max_message_size` |
    /// | transmit | as without deflate, with S the compressed size of M | what is framed is the compressed message |
    /// | encode scratch | 2 × (D + 32 KiB) | D: the compressed size of M at worst, M + M / 1024 + 1 KiB; the output grows by steps of at most 32 KiB, the buffer by doubling |
    /// | deflate state | 136 KiB + 4 × 2^w + 7 × 2^(m + 6), plus 52 KiB | the compressor (zlib-rs: a fixed hash table, the window and its chain, 2 × 2^w bytes each, and buffers of 7 × 2^(m+6) bytes) for w the larger of the two `max_window_bits` (the one this end sends with is at most that) and m the `mem_level`; and the decompressor, the same at every window |
    ///
    /// The compressor figures are those of zlib-rs 0.6 (`docs/compression.md` has the measurements).
    #[must_use]
    pub fn worst_case_with_deflate(config: &Config, deflate: &DeflateConfig) -> WorstCase {
        let plain = worst_case(config);
        let largest = compressed(config.max_message_size);
        let window = deflate
            .server_max_window_bits
            .max(deflate.client_max_window_bits)
            .clamp(9, 15);
        let mem_level = deflate.mem_level.clamp(1, 9);
        let compressor = COMPRESSOR_FIXED + (4 << window) + (7 << (mem_level + 6));
        WorstCase {
            reassembly: config.max_message_size.saturating_add(1),
            transmit: transmit(config, largest),
            encode_scratch: largest.saturating_add(STEP).saturating_mul(2),
            deflate_state: compressor + DECOMPRESSOR,
            ..plain
        }
    }
}

#[cfg(feature = "deflate")]
pub use self::deflate::worst_case_with_deflate;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_bound_adds_up_its_parts() {
        let bound = worst_case(&Config::default());
        // 2 × (16 MiB + 14 + 64 KiB)
        assert_eq!(bound.receive_buffer, 2 * ((16 << 20) + 14 + (64 << 10)));
        assert_eq!(bound.reassembly, (64 << 20) + 1);
        assert_eq!(
            bound.total(),
            bound.receive_buffer + bound.reassembly + bound.transmit + FIXED
        );
        let streaming = Config {
            receive_mode: ReceiveMode::Fragments,
            ..Config::default()
        };
        assert_eq!(worst_case(&streaming).reassembly, 0);
        assert!(worst_case(&streaming).total() < bound.total());
    }

    #[test]
    fn huge_limits_saturate_instead_of_overflowing() {
        let config = Config {
            max_frame_size: usize::MAX,
            max_message_size: usize::MAX,
            max_output_buffer: usize::MAX,
            fragment_size: Some(0),
            ..Config::default()
        };
        assert_eq!(worst_case(&config).total(), usize::MAX);
    }
}
