//! Compressing and decompressing message payloads (RFC 7692 section 7.2), with the window sizes and
//! context takeover the handshake settled on.

use alloc::vec::Vec;

use zlib_rs::{Deflate, DeflateFlush, Inflate, InflateFlush, Status};

use super::params::NAME;
use crate::error::{ProtocolError, SendError};
use crate::extension::{Extension, SharedEncoding};
use crate::frame::OpCode;

/// The tail every sync-flushed message ends with; removed by the sender, restored by the receiver.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// RSV1: the first frame of a compressed message.
const RSV1: u8 = 0b100;
/// Output is grown in steps of at most this much, so a limit is never overshot by more than a step.
const STEP: usize = 32 << 10;

/// One direction's settings, as negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Direction {
    /// LZ77 window bits, 9 to 15 (zlib cannot use 8 and writes 9 instead).
    pub(crate) window_bits: u8,
    /// Reset the context after every message.
    pub(crate) no_context_takeover: bool,
}

/// The permessage-deflate transform of one connection. The compressor and decompressor are allocated
/// the first time they are needed, so a connection that never sends (or receives) a compressed message
/// pays nothing for that direction.
pub(crate) struct DeflateCodec {
    send: Direction,
    receive: Direction,
    level: i32,
    mem_level: i32,
    threshold: usize,
    compressor: Option<Deflate>,
    decompressor: Option<Inflate>,
    /// The peer ended its deflate stream (a block with BFINAL): the rest of the message is ignored and the
    /// next message starts a new stream.
    stream_ended: bool,
}

impl DeflateCodec {
    pub(crate) fn new(
        send: Direction,
        receive: Direction,
        level: u8,
        mem_level: u8,
        threshold: usize,
    ) -> DeflateCodec {
        DeflateCodec {
            send,
            receive,
            level: i32::from(level.min(9)),
            mem_level: i32::from(mem_level.clamp(1, 9)),
            threshold,
            compressor: None,
            decompressor: None,
            stream_ended: false,
        }
    }

    fn compressor(&mut self) -> &mut Deflate {
        let (level, mem_level, bits) = (self.level, self.mem_level, self.send.window_bits);
        self.compressor.get_or_insert_with(|| {
            Deflate::new_with_config(zlib_rs::DeflateConfig {
                level,
                mem_level,
                window_bits: -i32::from(bits),
                ..zlib_rs::DeflateConfig::default()
            })
        })
    }

    fn decompressor(&mut self) -> &mut Inflate {
        let bits = self.receive.window_bits;
        self.decompressor
            .get_or_insert_with(|| Inflate::new(false, bits))
    }
}

impl Extension for DeflateCodec {
    fn rsv_bits(&self) -> u8 {
        RSV1
    }

    fn decode(
        &mut self,
        _rsv: u8,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        if !self.stream_ended {
            let inflater = self.decompressor();
            let mut ended = inflate_into(inflater, input, out, limit)?;
            if fin && !ended {
                ended = inflate_into(inflater, &TAIL, out, limit)?;
            }
            self.stream_ended = ended;
        }
        if fin {
            if self.stream_ended || self.receive.no_context_takeover {
                if let Some(inflater) = self.decompressor.as_mut() {
                    // zlib-rs resets to a 15-bit window: data within the negotiated window still decodes,
                    // and the memory is the same (it always holds a 32 KiB window).
                    inflater.reset(false);
                }
            }
            self.stream_ended = false;
        }
        Ok(())
    }

    fn encode(
        &mut self,
        _opcode: OpCode,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<u8>, SendError> {
        if input.len() < self.threshold {
            return Ok(None);
        }
        if input.is_empty() {
            // Section 7.2.3.6: an empty stored block, less its LEN and NLEN, is one 0x00 byte. (zlib refuses
            // a second sync flush with no new input, and the context is unaffected either way.)
            out.push(0x00);
            return Ok(Some(RSV1));
        }
        let reset = self.send.no_context_takeover;
        let deflater = self.compressor();
        deflate_into(deflater, input, out)?;
        // A sync flush always ends with the empty stored block's LEN/NLEN: 00 00 ff ff.
        if !out.ends_with(&TAIL) {
            return Err(SendError::Extension);
        }
        out.truncate(out.len() - TAIL.len());
        if reset {
            deflater.reset();
        }
        Ok(Some(RSV1))
    }

    fn shared_encoding(&self) -> Option<SharedEncoding> {
        // With context takeover, each message's encoding depends on the ones before it.
        if !self.send.no_context_takeover {
            return None;
        }
        let threshold = u32::try_from(self.threshold).ok()?;
        let params = u64::from(self.send.window_bits)
            | (self.level as u64) << 8
            | (self.mem_level as u64) << 16
            | u64::from(threshold) << 32;
        Some(SharedEncoding::new(NAME, params))
    }
}

/// Compresses all of `input` with a sync flush, appending to `out`.
fn deflate_into(
    deflater: &mut Deflate,
    mut input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), SendError> {
    loop {
        let start = out.len();
        let room = (input.len() / 2).clamp(64, STEP);
        out.resize(start + room, 0);
        let (before_in, before_out) = (deflater.total_in(), deflater.total_out());
        let status = deflater.compress(input, &mut out[start..], DeflateFlush::SyncFlush);
        let consumed = usize::try_from(deflater.total_in() - before_in).unwrap_or(input.len());
        let produced = usize::try_from(deflater.total_out() - before_out).unwrap_or(0);
        out.truncate(start + produced);
        input = input.get(consumed..).unwrap_or(&[]);
        match status {
            Err(_) => return Err(SendError::Extension),
            // Done when the input is used up and the flush fit in the room given.
            Ok(_) if input.is_empty() && produced < room => return Ok(()),
            Ok(Status::BufError) if consumed == 0 && produced == 0 => {
                return Err(SendError::Extension)
            }
            Ok(_) => {}
        }
    }
}

/// Decompresses `input`, appending to `out` but never letting it grow past `limit` (1009 beyond).
/// Returns whether the deflate stream ended (a final block).
fn inflate_into(
    inflater: &mut Inflate,
    mut input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<bool, ProtocolError> {
    // Small messages get small steps, so a short message leaves no large buffer behind; the steps grow
    // while the output keeps coming.
    let mut step = input.len().saturating_mul(4).clamp(1 << 10, STEP);
    loop {
        // One byte past the limit is room enough to see that the limit is crossed.
        let room = (limit.saturating_sub(out.len()).saturating_add(1)).min(step);
        step = step.saturating_mul(2).min(STEP);
        let start = out.len();
        grow_within(out, start + room, limit.saturating_add(1));
        out.resize(start + room, 0);
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let status = inflater.decompress(input, &mut out[start..], InflateFlush::SyncFlush);
        let consumed = usize::try_from(inflater.total_in() - before_in).unwrap_or(input.len());
        let produced = usize::try_from(inflater.total_out() - before_out).unwrap_or(0);
        out.truncate(start + produced);
        input = input.get(consumed..).unwrap_or(&[]);
        if out.len() > limit {
            return Err(ProtocolError::MessageTooLarge { max: limit as u64 });
        }
        match status {
            Err(_) => return Err(ProtocolError::ExtensionData),
            Ok(Status::StreamEnd) => return Ok(true),
            Ok(_) if input.is_empty() && produced < room => return Ok(false),
            // No progress with input left: the decompressor wants what is not there.
            Ok(_) if consumed == 0 && produced == 0 => return Ok(false),
            Ok(_) => {}
        }
    }
}

/// Makes room for `len` bytes, growing geometrically (so a large message costs few copies) but never to
/// more than `cap`: the capacity stays within the message limit.
fn grow_within(out: &mut Vec<u8>, len: usize, cap: usize) {
    if len > out.capacity() {
        let target = out.capacity().saturating_mul(2).clamp(len, cap.max(len));
        out.reserve_exact(target - out.len());
    }
}
