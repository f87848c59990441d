//! The x86 and x86_64 kernels: SSE2 where the target enables it at compile time (always on x86_64), and
//! AVX2, detected at run time with `std` (cached by `std`), or chosen at compile time without it.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86")]
use core::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

use super::{mask_words, rotate};

/// The shortest buffer [`short`] is used for. Below four SSE2 vectors the portable words are as fast
/// (measured); without SSE2 there is no short kernel.
pub(super) const SHORT_MIN: usize = if cfg!(target_feature = "sse2") {
    64
} else {
    LONG_MIN
};

/// The shortest buffer [`long`] is used for. Below it, the call and the detection cost about what AVX2
/// saves over the inlined SSE2 kernel (measured).
pub(super) const LONG_MIN: usize = 256;

/// The shortest buffer whose start the kernels align to their vector width. A misaligned vector straddles
/// two cache lines every so often, which halves the throughput on buffers in L1; on shorter buffers the
/// aligning costs more than it saves.
const ALIGN_MIN: usize = 1024;

/// Masks `buf` with a key already rotated to its first byte, with SSE2 where the target has it, inlined.
#[inline]
pub(super) fn short(buf: &mut [u8], key: [u8; 4]) {
    sse2_or_words(buf, key);
}

/// Masks `buf` (at least [`LONG_MIN`] bytes) with a key already rotated to its first byte, with AVX2 if
/// the CPU has it and the buffer is below [`AVX2_BELOW`], else SSE2. Out of line, so that callers of
/// [`apply_mask`](super::apply_mask) neither grow by the detection nor save registers for it on the short
/// paths.
#[inline(never)]
pub(super) fn long(buf: &mut [u8], key: [u8; 4]) {
    if buf.len() < AVX2_BELOW && has_avx2() {
        // SAFETY: the CPU supports AVX2, which is all `avx2` asks of its caller.
        unsafe { avx2(buf, key) };
    } else {
        sse2_long(buf, key);
    }
}

/// AVX2 is used below this length. On a buffer of 1 MiB, out of cache, memory bandwidth bounds both
/// widths and the 256-bit loop measured 1 to 3 % slower than SSE2 (`benches/benches/mask.rs`). The pieces
/// a connection unmasks are smaller (a read's worth, at most 64 KiB) and were just received, so they are
/// in cache, where AVX2 does half the work: a server echoing 1 MiB messages in 64 KiB reads spent about
/// 4 % less time per message with it (`server_rounds`, `docs/performance-notes.md`).
const AVX2_BELOW: usize = 1 << 20;

/// Whether the CPU supports AVX2: detected once and cached by `std`, or known at compile time.
#[inline]
fn has_avx2() -> bool {
    #[cfg(feature = "std")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(target_feature = "avx2")
    }
}

/// The SSE2 kernel where the target has SSE2, else the portable words.
#[inline]
fn sse2_or_words(buf: &mut [u8], key: [u8; 4]) {
    #[cfg(target_feature = "sse2")]
    sse2(buf, key);
    #[cfg(not(target_feature = "sse2"))]
    mask_words(buf, key);
}

/// [`sse2_or_words`] for long buffers without AVX2, from a 16-byte aligned address like the AVX2 kernel.
#[inline]
pub(super) fn sse2_long(buf: &mut [u8], mut key: [u8; 4]) {
    let buf = align_start(buf, &mut key, 16);
    sse2_or_words(buf, key);
}

/// When `buf` is at least [`ALIGN_MIN`] bytes, masks the bytes before its first `align`-aligned address
/// and advances `key` past them; returns the rest of `buf`.
#[inline(always)]
fn align_start<'a>(buf: &'a mut [u8], key: &mut [u8; 4], align: usize) -> &'a mut [u8] {
    if buf.len() < ALIGN_MIN {
        return buf;
    }
    let head = buf.as_ptr().align_offset(align).min(buf.len());
    let (start, rest) = buf.split_at_mut(head);
    sse2_or_words(start, *key);
    *key = rotate(*key, head);
    rest
}

/// Masks `buf` with a key already rotated to its first byte, 32 bytes at a time (from a 32-byte aligned
/// address when the buffer is long), then the tail with at most one SSE2 vector and the portable words.
///
/// # Safety
///
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn avx2(buf: &mut [u8], mut key: [u8; 4]) {
    let buf = align_start(buf, &mut key, 32);
    let pattern = [key; 8];
    // SAFETY: `pattern` is 32 readable bytes; the unaligned load has no alignment requirement, and AVX2
    // is enabled for this function.
    let wide = unsafe { _mm256_loadu_si256(pattern.as_ptr().cast()) };
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        let at = block.as_mut_ptr().cast::<__m256i>();
        // SAFETY: `block` is 32 bytes, borrowed mutably, so `at` is valid for a 32-byte read and write;
        // the unaligned load and store have no alignment requirement; AVX2 is enabled for this function.
        unsafe { _mm256_storeu_si256(at, _mm256_xor_si256(_mm256_loadu_si256(at), wide)) };
    }
    // A whole number of blocks keeps the key's phase.
    sse2_or_words(blocks.into_remainder(), key);
}

/// Masks `buf` with a key already rotated to its first byte, 16 bytes at a time, then the tail with the
/// portable words.
#[cfg(target_feature = "sse2")]
#[inline]
pub(super) fn sse2(buf: &mut [u8], key: [u8; 4]) {
    let pattern = [key; 4];
    // SAFETY: `pattern` is 16 readable bytes; the unaligned load has no alignment requirement, and the
    // target enables SSE2 at compile time.
    let wide = unsafe { _mm_loadu_si128(pattern.as_ptr().cast()) };
    let mut blocks = buf.chunks_exact_mut(16);
    for block in &mut blocks {
        let at = block.as_mut_ptr().cast::<__m128i>();
        // SAFETY: `block` is 16 bytes, borrowed mutably, so `at` is valid for a 16-byte read and write;
        // the unaligned load and store have no alignment requirement; the target enables SSE2.
        unsafe { _mm_storeu_si128(at, _mm_xor_si128(_mm_loadu_si128(at), wide)) };
    }
    mask_words(blocks.into_remainder(), key);
}
