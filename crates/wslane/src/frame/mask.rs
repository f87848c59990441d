//! Payload masking (RFC 6455 section 5.3): XOR with a 4-byte key.
//!
//! # Masking
//!
//! [`apply_mask`] rotates the key to the payload offset once, then picks a routine by the buffer's length,
//! with thresholds chosen by measurement (the `mask` benchmark of `wslane-benches` compares the result with
//! the portable routine at every size and key offset):
//!
//! - short buffers (under 64 bytes on x86, 16 on aarch64, any length elsewhere) take the portable routine,
//!   a machine word at a time, inlined into the caller: a 20-byte frame is two 8-byte and one 4-byte XOR,
//!   with no dispatch;
//! - on x86, up to 255 bytes take the SSE2 kernel, inlined (SSE2 is baseline on x86_64: nothing to detect);
//! - on x86, from 256 bytes to under 1 MiB, one call to the AVX2 kernel if the CPU has AVX2, else to
//!   SSE2; from 1 MiB, where the buffer is out of cache, memory bandwidth bounds both widths and AVX2
//!   measured slightly slower, SSE2.
//!   With `std`,
//!   AVX2 is detected by `std::is_x86_feature_detected!` (once; after that a cached load and a test);
//!   without `std`, by `cfg!(target_feature = "avx2")` at compile time. From 1 KiB the kernel first masks
//!   the bytes up to an address aligned to its vector, so no load or store straddles two cache lines;
//! - on aarch64, NEON (baseline there), inlined.
//!
//! AVX-512 is not used for masking alone: on buffers in L1 it measured about a quarter faster than AVX2,
//! but in the server-only echo of 16 KiB binary messages (`server_rounds`) a 64-byte kernel spent no less
//! time than the AVX2 one (the payload a read just brought is not all in L1). Text payloads are unmasked
//! by the UTF-8 validator instead, in the same pass as their validation, where the CPU has AVX-512
//! ([`Utf8Validator::feed_masked`](crate::utf8::Utf8Validator::feed_masked)): there it pays.

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod aarch64;
#[cfg(test)]
mod tests;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod x86;

/// XORs `buf` with `key`, starting at byte `offset` of the payload (so a payload can be unmasked in pieces).
/// Masking and unmasking are the same operation.
///
/// Short buffers take the portable word-at-a-time path inline, with no dispatch; longer ones the widest
/// SIMD kernel the CPU has: SSE2 or AVX2 (detected at run time with `std`) on x86 and x86_64, NEON on
/// aarch64. The result is always that of the byte-at-a-time definition of RFC 6455 section 5.3.
///
/// ```
/// use wslane::frame::apply_mask;
///
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut payload = *b"Hello";
/// apply_mask(&mut payload, key, 0);
/// assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// // Unmasking in two pieces: the second starts at payload offset 2.
/// let (head, tail) = payload.split_at_mut(2);
/// apply_mask(head, key, 0);
/// apply_mask(tail, key, 2);
/// assert_eq!(&payload, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    if buf.len() < simd::SHORT_MIN {
        mask_words(buf, key);
    } else if buf.len() < simd::LONG_MIN {
        simd::short(buf, key);
    } else {
        simd::long(buf, key);
    }
}

/// The portable fallback of [`apply_mask`], in safe code: a machine word at a time, then the tail in
/// 4-, 2- and 1-byte steps.
///
/// Not part of the API: public only so that the `mask` benchmark (`wslane-benches`) and the `mask` fuzz
/// target can compare it with the dispatched routine. Hidden rather than behind `cfg(fuzzing)`, because the
/// benchmarks build on stable without that cfg.
#[doc(hidden)]
#[inline]
pub fn apply_mask_portable(buf: &mut [u8], key: [u8; 4], offset: usize) {
    mask_words(buf, rotate(key, offset));
}

/// The byte-at-a-time definition of masking, kept as the reference the fast routines are tested against.
///
/// Not part of the API: public only for the benchmarks, the fuzz targets and the integration tests, which
/// check [`apply_mask`] against it. Hidden rather than behind `cfg(fuzzing)`, because the benchmarks and
/// tests build on stable without that cfg.
#[doc(hidden)]
pub fn apply_mask_reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

/// The key as seen from payload byte `offset`.
#[inline]
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    // Byte 0 of a little-endian word is its low byte: rotating right by a byte starts the key one later.
    let shift = 8 * (offset % 4) as u32;
    u32::from_le_bytes(key).rotate_right(shift).to_le_bytes()
}

/// Masks `buf` with a key already rotated to its first byte: one load, XOR and store per 8 bytes, then at
/// most one 4-, one 2- and one 1-byte step, so a 20-byte frame takes three operations, not twenty.
#[inline]
fn mask_words(buf: &mut [u8], key: [u8; 4]) {
    let quad = u32::from_ne_bytes(key);
    // The same four bytes twice, whatever the byte order.
    let wide = u64::from(quad) | u64::from(quad) << 32;
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        let bytes: [u8; 8] = (&*word).try_into().unwrap_or_default();
        word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ wide).to_ne_bytes());
    }
    // A whole number of words keeps the key's phase, so the tail starts at key[0].
    let mut tail = words.into_remainder();
    if tail.len() >= 4 {
        let (four, rest) = core::mem::take(&mut tail).split_at_mut(4);
        let bytes: [u8; 4] = (&*four).try_into().unwrap_or_default();
        four.copy_from_slice(&(u32::from_ne_bytes(bytes) ^ quad).to_ne_bytes());
        tail = rest;
    }
    // At most three bytes left: the key's bytes from the low end of a little-endian word.
    let mut rest_of_key = u32::from_le_bytes(key);
    if tail.len() >= 2 {
        let (two, rest) = core::mem::take(&mut tail).split_at_mut(2);
        let bytes = [two[0], two[1]];
        two.copy_from_slice(&(u16::from_le_bytes(bytes) ^ rest_of_key as u16).to_le_bytes());
        tail = rest;
        rest_of_key >>= 16;
    }
    if let Some(last) = tail.first_mut() {
        *last ^= rest_of_key as u8;
    }
}

// The SIMD kernels of this target: `short` (inlined, no detection) from `SHORT_MIN` bytes, `long` (one
// call, may detect) from `LONG_MIN` bytes.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
use x86 as simd;

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
use aarch64 as simd;

/// No SIMD kernel on this target: every length takes the portable words.
#[cfg(not(any(
    target_arch = "x86",
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
mod simd {
    /// No length reaches it.
    pub(super) const SHORT_MIN: usize = usize::MAX;
    /// No length reaches it.
    pub(super) const LONG_MIN: usize = usize::MAX;

    pub(super) fn short(buf: &mut [u8], key: [u8; 4]) {
        super::mask_words(buf, key);
    }

    pub(super) fn long(buf: &mut [u8], key: [u8; 4]) {
        super::mask_words(buf, key);
    }
}
