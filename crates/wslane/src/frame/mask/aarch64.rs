//! The aarch64 kernel: NEON, which the target enables at compile time (it is baseline on aarch64), so
//! there is nothing to detect and the kernel is inlined.
#![allow(unsafe_code)]

use core::arch::aarch64::*;

use super::mask_words;

/// The shortest buffer [`short`] is used for: one NEON vector.
pub(super) const SHORT_MIN: usize = 16;

/// NEON is the widest kernel, so no length needs [`long`].
pub(super) const LONG_MIN: usize = usize::MAX;

/// Masks `buf` with a key already rotated to its first byte, with NEON.
#[inline]
pub(super) fn short(buf: &mut [u8], key: [u8; 4]) {
    neon(buf, key);
}

/// Masks `buf` with a key already rotated to its first byte, with NEON.
#[inline]
pub(super) fn long(buf: &mut [u8], key: [u8; 4]) {
    neon(buf, key);
}

/// Masks `buf` with a key already rotated to its first byte, 16 bytes at a time, then the tail with the
/// portable words.
#[inline]
pub(super) fn neon(buf: &mut [u8], key: [u8; 4]) {
    let pattern = [key; 4];
    // SAFETY: `pattern` is 16 readable bytes; `vld1q_u8` needs no alignment beyond a byte's, and the
    // target enables NEON at compile time.
    let wide = unsafe { vld1q_u8(pattern.as_ptr().cast()) };
    let mut blocks = buf.chunks_exact_mut(16);
    for block in &mut blocks {
        let at = block.as_mut_ptr();
        // SAFETY: `block` is 16 bytes, borrowed mutably, so `at` is valid for a 16-byte read and write with
        // byte alignment, which is all `vld1q_u8` and `vst1q_u8` need; the target enables NEON.
        unsafe { vst1q_u8(at, veorq_u8(vld1q_u8(at), wide)) };
    }
    // A whole number of blocks keeps the key's phase.
    mask_words(blocks.into_remainder(), key);
}
