//! Unmasking and UTF-8 validation in one pass, with AVX-512 (F and BW).
//!
//! The algorithm is the lookup method of Keiser and Lemire ("Validating UTF-8 In Less Than One Instruction
//! Per Byte", 2021), the one `simdutf8` runs with AVX2, on 64 bytes at a time: three table lookups on the
//! nibbles of each byte and of the byte before it find every error a two-byte window shows (a missing or
//! surplus continuation, an overlong form, a surrogate, a code point past U+10FFFF), and the bytes two and
//! three back say where a third or fourth byte must be a continuation. A block of pure ASCII skips all
//! that, and after an ASCII block the next two are tested together first: on ASCII text (most JSON) that
//! nearly halved the time per 16 KiB.
//!
//! Each 64-byte block is loaded, XORed with the key, stored back and validated while it is in a register:
//! one pass over the payload instead of two. Against `apply_mask` followed by `Utf8Validator::feed`
//! (`benches/benches/utf8.rs`, `mask_feed` and `feed_masked`), 16 KiB took 849 ns instead of 959 on mixed
//! text and 196 ns instead of 327 on ASCII; 1 MiB of mixed text 55 µs instead of 70.
//!
//! Blocks are aligned to 64 bytes, so no load or store straddles two cache lines; the partial blocks at
//! either end are loaded and stored with a byte mask, which reads and writes nothing outside the buffer
//! (masked-off bytes are neither accessed nor faulted on). The bytes a partial block does not cover read
//! as zeros, which are ASCII: before the start of the text they change nothing, and after its end they
//! make a character cut short an error, as it should be.
#![allow(unsafe_code)]

use core::arch::x86_64::*;

use crate::avx512::Avx512;

// The error bits of the lookup tables, as the paper names them.
const TOO_SHORT: u8 = 1 << 0;
const TOO_LONG: u8 = 1 << 1;
const OVERLONG_3: u8 = 1 << 2;
const TOO_LARGE: u8 = 1 << 3;
const SURROGATE: u8 = 1 << 4;
const OVERLONG_2: u8 = 1 << 5;
const TOO_LARGE_1000: u8 = 1 << 6;
const OVERLONG_4: u8 = 1 << 6;
const TWO_CONTS: u8 = 1 << 7;
const CARRY: u8 = TOO_SHORT | TOO_LONG | TWO_CONTS;

/// Errors by the high nibble of the first byte of a two-byte window.
const BYTE_1_HIGH: [u8; 16] = [
    // 0xxx: ASCII.
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    // 10xx: a continuation.
    TWO_CONTS,
    TWO_CONTS,
    TWO_CONTS,
    TWO_CONTS,
    // 1100, 1101: a two-byte lead.
    TOO_SHORT | OVERLONG_2,
    TOO_SHORT,
    // 1110: a three-byte lead.
    TOO_SHORT | OVERLONG_3 | SURROGATE,
    // 1111: a four-byte lead (or worse).
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
];

/// Errors by the low nibble of the first byte of a two-byte window.
const BYTE_1_LOW: [u8; 16] = [
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
    CARRY | OVERLONG_2,
    CARRY,
    CARRY,
    CARRY | TOO_LARGE,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
];

/// Errors by the high nibble of the second byte of a two-byte window.
const BYTE_2_HIGH: [u8; 16] = [
    // 0xxx: ASCII.
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    // 1000, 1001, 101x: continuations.
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    // 11xx: a lead.
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
];

/// The last three bytes of a block above these values start a character the block does not finish.
const INCOMPLETE_ABOVE: [u8; 64] = {
    let mut max = [0xff; 64];
    max[61] = 0xef;
    max[62] = 0xdf;
    max[63] = 0xbf;
    max
};

impl Avx512 {
    /// XORs all of `buf` with `key`, `buf[0]` being payload byte `offset` (as
    /// [`apply_mask`](crate::frame::apply_mask) does), and returns whether `buf[..check]`, unmasked, is
    /// complete UTF-8. The bytes from `check` on are unmasked but not validated.
    #[inline]
    pub(super) fn unmask_validate(
        self,
        buf: &mut [u8],
        key: [u8; 4],
        offset: usize,
        check: usize,
    ) -> bool {
        // SAFETY: `buf` is borrowed mutably for the length given, `check` is clamped to it, and `self`
        // proves the CPU has AVX-512 F and BW.
        unsafe {
            walk(
                buf.as_mut_ptr(),
                buf.len(),
                key,
                offset,
                check.min(buf.len()),
            )
        }
    }
}

/// The running state of a validation.
struct State {
    /// Error bits found so far (any bit set: invalid).
    error: __m512i,
    /// The block before, for the bytes that look back across the block boundary.
    prev: __m512i,
    /// Where the block before ends inside a character.
    incomplete: __m512i,
}

/// Walks the `len` bytes at `ptr` in 64-byte aligned blocks: unmasks them in place with `key` (`ptr`'s
/// byte being payload byte `offset`), and validates the first `check` of them.
///
/// # Safety
///
/// `ptr` must be valid for reads and writes of `len` bytes; `check` is at most `len`; the CPU must support
/// AVX-512 F and BW.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn walk(ptr: *mut u8, len: usize, key: [u8; 4], offset: usize, check: usize) -> bool {
    // SAFETY: the tables are readable arrays of 16 and 64 bytes, and the unaligned loads have no
    // alignment requirement.
    let tables = unsafe {
        [
            _mm512_broadcast_i32x4(_mm_loadu_si128(BYTE_1_HIGH.as_ptr().cast())),
            _mm512_broadcast_i32x4(_mm_loadu_si128(BYTE_1_LOW.as_ptr().cast())),
            _mm512_broadcast_i32x4(_mm_loadu_si128(BYTE_2_HIGH.as_ptr().cast())),
            _mm512_loadu_si512(INCOMPLETE_ABOVE.as_ptr().cast()),
        ]
    };
    // The aligned block holding the first byte starts `lead` bytes before it.
    let lead = ptr as usize % 64;
    let first = ptr.wrapping_sub(lead);
    // Byte 0 of every block is `lead` bytes before `ptr`'s: the key as seen from there, 16 times over.
    let phase = (offset % 4 + 4 - lead % 4) % 4;
    let rotated = u32::from_le_bytes(key).rotate_right(8 * phase as u32);
    let key = _mm512_set1_epi32(rotated as i32);
    let mut state = State {
        error: _mm512_setzero_si512(),
        prev: _mm512_setzero_si512(),
        incomplete: _mm512_setzero_si512(),
    };
    // Offsets from `first`: the buffer is `lead..end`, the text to check `lead..check_end`.
    let end = lead + len;
    let check_end = lead + check;
    let mut at = 0;
    // The partial blocks (the first, the last, and any holding the end of the text to check) take the
    // masked path; the blocks between, the plain one.
    while at < end {
        let whole = at >= lead && at + 64 <= end && at + 64 <= check_end;
        if whole {
            // From here every block up to `stop` is whole: all its bytes present and to be checked.
            let stop = end.min(check_end);
            // After an ASCII block, two blocks at a time with one test while both are ASCII (most JSON is).
            let mut ascii = false;
            while at + 64 <= stop {
                let block = first.wrapping_add(at);
                if ascii && at + 128 <= stop {
                    // SAFETY: both blocks lie within the buffer (`lead <= at`, `at + 128 <= end`), and
                    // `block` is 64-byte aligned.
                    let (low, high) =
                        unsafe { (unmask_block(block, key), unmask_block(block.add(64), key)) };
                    if _mm512_movepi8_mask(_mm512_or_si512(low, high)) == 0 {
                        // The block before was ASCII too, so no character is left open.
                        state.prev = high;
                    } else {
                        step(&mut state, low, &tables);
                        ascii = step(&mut state, high, &tables);
                    }
                    at += 128;
                    continue;
                }
                // SAFETY: the whole block lies within the buffer (`lead <= at`, `at + 64 <= end`), and
                // `block` is 64-byte aligned.
                let input = unsafe { unmask_block(block, key) };
                ascii = step(&mut state, input, &tables);
                at += 64;
            }
            continue;
        }
        let block = first.wrapping_add(at);
        let present = byte_range(lead.saturating_sub(at), (end - at).min(64));
        let checked = byte_range(
            lead.saturating_sub(at),
            check_end.saturating_sub(at).min(64),
        );
        // SAFETY: the bytes the mask selects lie within the buffer; masked-off bytes are not read.
        let mut input = unsafe { _mm512_maskz_loadu_epi8(present, block.cast()) };
        input = _mm512_xor_si512(input, key);
        // SAFETY: the bytes the mask selects lie within the writable buffer; masked-off bytes are not
        // written.
        unsafe { _mm512_mask_storeu_epi8(block.cast(), present, input) };
        step(&mut state, _mm512_maskz_mov_epi8(checked, input), &tables);
        at += 64;
    }
    let error = _mm512_or_si512(state.error, state.incomplete);
    _mm512_test_epi8_mask(error, error) == 0
}

/// The bits `from..to` of a 64-bit mask (`to` at most 64), one per byte of a 64-byte block: none when
/// `to <= from`. The partial blocks at either end of a buffer are loaded and stored under such a mask.
#[inline(always)]
fn byte_range(from: usize, to: usize) -> u64 {
    if to <= from {
        return 0;
    }
    (u64::MAX >> (64 - (to - from))) << from
}

/// Loads the block at `block`, XORs it with `key`, stores it back, and returns it.
///
/// # Safety
///
/// `block` must be 64-byte aligned and valid for reads and writes of 64 bytes; the CPU must support
/// AVX-512 F (only called from `walk`).
#[inline(always)]
unsafe fn unmask_block(block: *mut u8, key: __m512i) -> __m512i {
    // SAFETY: the caller vouches for the block and the CPU.
    unsafe {
        let input = _mm512_xor_si512(_mm512_load_si512(block.cast()), key);
        _mm512_store_si512(block.cast(), input);
        input
    }
}

/// Validates the next 64 bytes; returns whether they are ASCII.
#[inline(always)]
fn step(state: &mut State, input: __m512i, tables: &[__m512i; 4]) -> bool {
    // SAFETY: only called from `walk`, whose CPU has AVX-512 F and BW; the intrinsics touch registers only.
    unsafe {
        if _mm512_movepi8_mask(input) == 0 {
            // Pure ASCII: only a character left open by the block before can be wrong.
            state.error = _mm512_or_si512(state.error, state.incomplete);
            state.incomplete = _mm512_setzero_si512();
            state.prev = input;
            return true;
        }
        let [byte_1_high, byte_1_low, byte_2_high, incomplete_above] = *tables;
        let nibble = _mm512_set1_epi8(0x0f);
        // Each 128-bit lane of `below` is the lane before it in the stream: `prev`'s last, then
        // `input`'s first three (the two vectors end to end, shifted by 12 of their 32-bit elements).
        let below = _mm512_alignr_epi32::<12>(input, state.prev);
        let prev1 = previous::<15>(input, below);
        let high_1 = _mm512_and_si512(_mm512_srli_epi16::<4>(prev1), nibble);
        let low_1 = _mm512_and_si512(prev1, nibble);
        let high_2 = _mm512_and_si512(_mm512_srli_epi16::<4>(input), nibble);
        // 0x80: a & b & c.
        let special = _mm512_ternarylogic_epi32::<0x80>(
            _mm512_shuffle_epi8(byte_1_high, high_1),
            _mm512_shuffle_epi8(byte_1_low, low_1),
            _mm512_shuffle_epi8(byte_2_high, high_2),
        );
        // A byte two after a 3- or 4-byte lead, or three after a 4-byte lead, must be a continuation:
        // the saturating subtractions leave the top bit set exactly for those leads.
        let third = _mm512_subs_epu8(previous::<14>(input, below), _mm512_set1_epi8(0x60));
        let fourth = _mm512_subs_epu8(previous::<13>(input, below), _mm512_set1_epi8(0x70));
        let must_continue = _mm512_and_si512(
            _mm512_or_si512(third, fourth),
            _mm512_set1_epi8(0x80u8 as i8),
        );
        // 0xf6: a | (b ^ c). A continuation where one must be is the one case that cancels out.
        state.error = _mm512_ternarylogic_epi32::<0xf6>(state.error, must_continue, special);
        state.incomplete = _mm512_subs_epu8(input, incomplete_above);
        state.prev = input;
        false
    }
}

/// `input` shifted up by `16 - SHIFT` bytes across the whole vector, the bytes shifted in taken from the
/// end of the block before: byte `i` of the result is the byte `16 - SHIFT` before byte `i` of `input`.
/// `below` holds, in each 128-bit lane, the lane that comes before `input`'s in the stream.
#[inline(always)]
fn previous<const SHIFT: i32>(input: __m512i, below: __m512i) -> __m512i {
    // SAFETY: only called from `step`, under AVX-512 F and BW; the intrinsic touches registers only.
    unsafe { _mm512_alignr_epi8::<SHIFT>(input, below) }
}
