//! UTF-8 validation that works across fragment boundaries and fails as early as the bytes allow.
//!
//! A text message may be split anywhere, even inside a character. [`Utf8Validator`] carries the bytes of a
//! split character over to the next chunk, and rejects a chunk as soon as it holds a byte that no valid
//! continuation could follow (RFC 6455 section 8.1, "fail fast"). It holds at most 3 bytes and never allocates.
//!
//! # Engine
//!
//! The bytes are checked by [`simdutf8`], which validates 64 bytes at a time with SIMD instructions and is
//! several times faster than `core::str::from_utf8` on text that is not pure ASCII. With the `std` feature
//! it picks AVX2 or SSE 4.2 at run time on x86; without it, it uses what the target enables at compile time
//! (NEON on aarch64, `simd128` on wasm32), and `core::str::from_utf8` elsewhere, such as on Cortex-M.
//!
//! A client's text arrives masked. On x86_64 CPUs with AVX-512 (F and BW), when the compiler has its
//! intrinsics (Rust 1.89 and later; see the build script), [`Utf8Validator::feed_masked`] unmasks and
//! validates a chunk of 256 bytes or more in one pass, with the crate's own kernel (the lookup algorithm
//! `simdutf8` runs, a 64-byte block per instruction): each block is loaded, XORed with the key, stored back
//! and validated while it is in a register, where unmasking and then validating read the payload twice.
//! Text that arrives unmasked stays with `simdutf8`, which the kernel did not beat on its own.
//!
//! Streaming needs no help from the engine: before validating a chunk, the validator sets aside an incomplete
//! character at its end (a leading byte followed by fewer continuation bytes than it announces, found by
//! looking at the last 3 bytes at most). Since a byte that is not a continuation byte always starts a
//! character, the bytes before it must be complete UTF-8 and the bytes after it a valid start of one
//! character, each checked on its own. Every byte of a chunk is checked when it is fed, so an invalid byte
//! fails the chunk that holds it.
//!
//! Short chunks, the common case for chat-sized text messages, take a different path, chosen by benchmark
//! (`benches/benches/utf8.rs`): pure ASCII below 256 bytes is accepted by a check of 8 bytes at a time,
//! twice as fast as either validator on 20 bytes and steadier than `<[u8]>::is_ascii`; other chunks below
//! 32 bytes go to `core::str::from_utf8`, which wins there; from 32 to 64 bytes (where `simdutf8` itself
//! falls back to `core`) the chunk is copied into a zero-padded 64-byte block for the SIMD engine.

use core::fmt;

use crate::frame::apply_mask;

// Compiled only by compilers that have the AVX-512 intrinsics (see the build script).
#[cfg(all(wslane_avx512, target_arch = "x86_64"))]
#[clippy::msrv = "1.89"]
mod avx512;

/// The bytes are not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl core::error::Error for Utf8Error {}

/// The block `simdutf8` validates at a time; it hands shorter inputs to `core::str::from_utf8`.
const SIMD_BLOCK: usize = 64;

/// Non-ASCII input of at least this many bytes is validated with SIMD, below it with `core::str::from_utf8`.
///
/// Measured on x86-64 with AVX2: padding a short input to a 64-byte block costs a constant ~15 ns,
/// which `core` matches at about 20 bytes of Latin or Cyrillic text and 32 bytes of emoji; at 48 bytes
/// the padded block is twice as fast.
const SIMD_MIN: usize = 32;

/// Whether `simdutf8` has a SIMD implementation in this build; without one, padding would only cost.
const HAS_SIMD: bool = cfg!(any(
    all(
        any(target_arch = "x86", target_arch = "x86_64"),
        any(
            feature = "std",
            target_feature = "sse4.2",
            target_feature = "avx2"
        )
    ),
    all(target_arch = "aarch64", target_feature = "neon"),
    all(target_arch = "wasm32", target_feature = "simd128"),
));

/// Validates a complete string.
pub fn validate(bytes: &[u8]) -> Result<&str, Utf8Error> {
    // `simdutf8` validates short inputs with `core::str::from_utf8` itself.
    simdutf8::basic::from_utf8(bytes).map_err(|_| Utf8Error)
}

/// Chunks of at least this many bytes are unmasked and validated in one pass by
/// [`Utf8Validator::feed_masked`] where the CPU has AVX-512; shorter ones are unmasked, then validated.
pub const FUSED_MIN: usize = 256;

/// Chunks shorter than this are first checked for pure ASCII by [`is_ascii`]; from this length on,
/// `simdutf8`'s own ASCII path is about as fast and the check would only cost on other text.
const ASCII_MAX: usize = 256;

/// Whether `bytes` is complete UTF-8, by the fastest engine for its length.
#[inline]
fn is_complete(bytes: &[u8]) -> bool {
    if bytes.len() < ASCII_MAX && is_ascii(bytes) {
        return true;
    }
    if bytes.len() >= SIMD_BLOCK {
        return simdutf8::basic::from_utf8(bytes).is_ok();
    }
    if !HAS_SIMD || bytes.len() < SIMD_MIN {
        return core::str::from_utf8(bytes).is_ok();
    }
    // Zeros are ASCII: the block is valid exactly when `bytes` is.
    let mut block = [0; SIMD_BLOCK];
    block[..bytes.len()].copy_from_slice(bytes);
    simdutf8::basic::from_utf8(&block).is_ok()
}

/// Whether `bytes` is pure ASCII, 8 bytes at a time, stopping at the first 32-byte block that is not.
/// Shorter inputs and the end of longer ones are read as words that may overlap.
///
/// Unlike `<[u8]>::is_ascii`, which takes 5 to 10 times longer on some lengths between 64 and 128 bytes
/// than on their neighbours, it takes about the same time for every length up to [`ASCII_MAX`].
#[inline]
fn is_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    fn word(bytes: &[u8], at: usize) -> u64 {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_ne_bytes(word)
    }
    // The 32 bytes from `at`, folded into one word.
    fn block(bytes: &[u8], at: usize) -> u64 {
        word(bytes, at) | word(bytes, at + 8) | word(bytes, at + 16) | word(bytes, at + 24)
    }
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().fold(0, |acc, &byte| acc | byte) < 0x80;
    }
    if len <= 16 {
        return (word(bytes, 0) | word(bytes, len - 8)) & HIGH == 0;
    }
    if len <= 32 {
        let words = word(bytes, 0) | word(bytes, 8) | word(bytes, len - 16) | word(bytes, len - 8);
        return words & HIGH == 0;
    }
    let mut at = 0;
    while at + 32 <= len {
        if block(bytes, at) & HIGH != 0 {
            return false;
        }
        at += 32;
    }
    block(bytes, len - 32) & HIGH == 0
}

/// Splits off an incomplete character at the end of `bytes`: a leading byte in the last 3 bytes, followed
/// only by continuation bytes, fewer than it announces. The split is at a byte that is not a continuation
/// byte, so `bytes` can start a valid string exactly when the head is complete UTF-8 and the tail can
/// start a character. The tail is empty when `bytes` does not end that way; then `bytes` can start a valid
/// string only if it is complete.
#[inline]
fn split_incomplete(bytes: &[u8]) -> (&[u8], &[u8]) {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0xc0 != 0x80 {
            if back < char_width(byte) {
                return bytes.split_at(bytes.len() - back);
            }
            break;
        }
    }
    (bytes, &[])
}

/// Streaming UTF-8 validator: feed chunks in order, then call [`Utf8Validator::finish`] at the end.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Validator {
    /// The start of a character split across chunks.
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    #[must_use]
    pub const fn new() -> Utf8Validator {
        Utf8Validator {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Validates the next chunk. Fails as soon as the bytes so far cannot start any valid string.
    #[inline]
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len > 0 {
            chunk = self.complete_partial(chunk)?;
        }
        if chunk.len() < SIMD_MIN {
            // One pass of `core` validates a short chunk and finds an incomplete character at its end.
            if is_ascii(chunk) {
                return Ok(());
            }
            return match core::str::from_utf8(chunk) {
                Ok(_) => Ok(()),
                // `error_len() == None` means the chunk ends in a valid but incomplete character.
                Err(err) if err.error_len().is_none() => {
                    self.keep(&chunk[err.valid_up_to()..]);
                    Ok(())
                }
                Err(_) => Err(Utf8Error),
            };
        }
        let (head, tail) = split_incomplete(chunk);
        if !is_complete(head) {
            return Err(Utf8Error);
        }
        self.keep_incomplete(tail)
    }

    /// Unmasks `chunk` in place (as [`apply_mask`] with `key` from payload byte `offset`) and validates the
    /// unmasked bytes as [`feed`](Self::feed) does. The chunk is unmasked whatever the verdict.
    ///
    /// On x86_64 CPUs with AVX-512, chunks of [`FUSED_MIN`] bytes or more are unmasked and validated in one
    /// pass, 64 bytes at a time; elsewhere this is `apply_mask` followed by `feed`.
    ///
    /// ```
    /// use wslane::frame::apply_mask;
    /// use wslane::utf8::Utf8Validator;
    ///
    /// let key = [0x37, 0xfa, 0x21, 0x3d];
    /// let mut payload = "naïve café ".repeat(40).into_bytes();
    /// let text = payload.clone();
    /// apply_mask(&mut payload, key, 0);
    /// // Received in two pieces, the second from payload byte 3 (inside the 'ï').
    /// let mut utf8 = Utf8Validator::new();
    /// let (head, tail) = payload.split_at_mut(3);
    /// utf8.feed_masked(head, key, 0).unwrap();
    /// utf8.feed_masked(tail, key, 3).unwrap();
    /// utf8.finish().unwrap();
    /// assert_eq!(payload, text);
    /// ```
    #[inline]
    pub fn feed_masked(
        &mut self,
        chunk: &mut [u8],
        key: [u8; 4],
        offset: usize,
    ) -> Result<(), Utf8Error> {
        #[cfg(all(wslane_avx512, target_arch = "x86_64"))]
        if chunk.len() >= FUSED_MIN {
            if let Some(avx512) = crate::avx512::Avx512::detect() {
                return self.feed_masked_avx512(avx512, chunk, key, offset);
            }
        }
        apply_mask(chunk, key, offset);
        self.feed(chunk)
    }

    /// [`feed_masked`](Self::feed_masked) with the fused AVX-512 kernel.
    #[cfg(all(wslane_avx512, target_arch = "x86_64"))]
    fn feed_masked_avx512(
        &mut self,
        avx512: crate::avx512::Avx512,
        chunk: &mut [u8],
        key: [u8; 4],
        offset: usize,
    ) -> Result<(), Utf8Error> {
        // First the end of a character carried over (at most 3 bytes), unmasked on their own.
        let mut done = 0;
        if self.partial_len > 0 {
            let need = char_width(self.partial[0]) - usize::from(self.partial_len);
            done = need.min(chunk.len());
            apply_mask(&mut chunk[..done], key, offset);
            if self.complete_partial(&chunk[..done]).is_err() {
                apply_mask(&mut chunk[done..], key, offset + done);
                return Err(Utf8Error);
            }
        }
        let body = &mut chunk[done..];
        let offset = offset + done;
        // Where an incomplete character starts at the end, from a copy of the last 3 bytes unmasked.
        let len = body.len();
        let last_len = len.min(3);
        let mut last = [0; 3];
        last[..last_len].copy_from_slice(&body[len - last_len..]);
        apply_mask(&mut last[..last_len], key, offset + len - last_len);
        let (complete, _) = split_incomplete(&last[..last_len]);
        let check = len - last_len + complete.len();
        if !avx512.unmask_validate(body, key, offset, check) {
            return Err(Utf8Error);
        }
        self.keep_incomplete(&body[check..])
    }

    /// Carries `tail`, the end of a chunk after its complete characters (see [`split_incomplete`]), over
    /// to the next chunk if it is a valid start of one; fails if it cannot start any.
    fn keep_incomplete(&mut self, tail: &[u8]) -> Result<(), Utf8Error> {
        if !tail.is_empty() {
            match core::str::from_utf8(tail) {
                Err(err) if err.error_len().is_none() => self.keep(tail),
                _ => return Err(Utf8Error),
            }
        }
        Ok(())
    }

    /// Carries an incomplete character (at most 3 bytes) over to the next chunk.
    fn keep(&mut self, tail: &[u8]) {
        self.partial[..tail.len()].copy_from_slice(tail);
        self.partial_len = tail.len() as u8; // at most 3
    }

    /// Ends the message: fails if it stopped inside a character. Resets the validator.
    #[inline]
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let complete = self.partial_len == 0;
        *self = Utf8Validator::new();
        if complete {
            Ok(())
        } else {
            Err(Utf8Error)
        }
    }

    /// Whether the bytes so far end inside a character.
    #[must_use]
    pub const fn is_mid_character(&self) -> bool {
        self.partial_len > 0
    }

    /// Completes a character carried over from the previous chunk; returns the rest of `chunk`.
    fn complete_partial<'a>(&mut self, chunk: &'a [u8]) -> Result<&'a [u8], Utf8Error> {
        let have = usize::from(self.partial_len);
        let need = char_width(self.partial[0]);
        let take = (need - have).min(chunk.len());
        self.partial[have..have + take].copy_from_slice(&chunk[..take]);
        let filled = &self.partial[..have + take];
        match core::str::from_utf8(filled) {
            Ok(_) => {
                self.partial_len = 0;
                Ok(&chunk[take..])
            }
            Err(err) if err.error_len().is_none() => {
                self.partial_len = filled.len() as u8; // still incomplete, at most 3
                Ok(&chunk[take..])
            }
            Err(_) => Err(Utf8Error),
        }
    }
}

/// The width of a character from its first byte, as the bit pattern announces it (1 for ASCII, a
/// continuation byte or 0xf8..=0xff; the invalid leading bytes 0xc0, 0xc1 and 0xf5..=0xf7 are left to the
/// validation).
const fn char_width(first: u8) -> usize {
    match first {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use proptest::prelude::*;
    use proptest::sample::Index;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    fn feed_all(chunks: &[&[u8]]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        for chunk in chunks {
            v.feed(chunk)?;
        }
        v.finish()
    }

    #[test]
    fn split_characters_are_carried_over() {
        let text = "κόσμε ☃ 𝄞".as_bytes();
        for i in 0..=text.len() {
            for j in i..=text.len() {
                assert_eq!(feed_all(&[&text[..i], &text[i..j], &text[j..]]), Ok(()));
            }
        }
        // One byte at a time.
        let chunks: [&[u8]; 4] = [&[0xf0], &[0x9d], &[0x84], &[0x9e]];
        assert_eq!(feed_all(&chunks), Ok(()));
    }

    #[test]
    fn fails_fast_on_impossible_prefixes() {
        let mut v = Utf8Validator::new();
        // 0xf4 0x90 starts a code point above U+10FFFF: fail on the second byte.
        v.feed(&[0xf4]).unwrap();
        assert_eq!(v.feed(&[0x90]), Err(Utf8Error));
        // A surrogate (0xed 0xa0) fails at once.
        assert_eq!(Utf8Validator::new().feed(&[0xed, 0xa0]), Err(Utf8Error));
        assert_eq!(Utf8Validator::new().feed(&[0xff]), Err(Utf8Error));
        assert_eq!(Utf8Validator::new().feed(b"ok\xc0"), Err(Utf8Error));
        // The same at the end of chunks long enough for the SIMD engine.
        for len in [SIMD_MIN, SIMD_BLOCK, 1000] {
            for bad in [
                &[0xf4, 0x90][..],
                &[0xed, 0xa0],
                &[0xff],
                &[0xc0],
                &[0xf5],
                &[0xe0, 0x80],
            ] {
                let mut bytes = Vec::from("é".repeat(len / 2));
                bytes.extend_from_slice(bad);
                assert_eq!(
                    Utf8Validator::new().feed(&bytes),
                    Err(Utf8Error),
                    "{bytes:x?}"
                );
            }
        }
    }

    #[test]
    fn truncated_character_fails_at_finish() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xe2, 0x98]).unwrap();
        assert!(v.is_mid_character());
        assert_eq!(v.finish(), Err(Utf8Error));
        // finish resets
        assert_eq!(v.finish(), Ok(()));
        // A long chunk ending inside a character.
        let mut bytes = Vec::from("☃".repeat(40));
        bytes.pop();
        v.feed(&bytes).unwrap();
        assert!(v.is_mid_character());
        v.feed(&[0x83]).unwrap();
        assert!(!v.is_mid_character());
        assert_eq!(v.finish(), Ok(()));
    }

    /// One byte changed at every position of texts around the engines' thresholds, fed at once: the same
    /// verdict as `core`, including for an incomplete character at the end.
    #[test]
    fn every_length_and_position_matches_core() {
        let text: String = "aé€𝄞 Жx你".chars().cycle().take(200).collect();
        let text = text.as_bytes();
        for len in (0..=SIMD_BLOCK + 8).chain([127, 128, 129, 200]) {
            let bytes = &text[..len.min(text.len())];
            for pos in 0..bytes.len() {
                for byte in [
                    0x00, 0x41, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5,
                    0xff,
                ] {
                    let mut bytes = Vec::from(bytes);
                    bytes[pos] = byte;
                    let reference = core::str::from_utf8(&bytes);
                    assert_eq!(validate(&bytes).is_ok(), reference.is_ok(), "{bytes:x?}");
                    let mut v = Utf8Validator::new();
                    let fed = v.feed(&bytes);
                    let prefix_ok = !matches!(reference, Err(e) if e.error_len().is_some());
                    assert_eq!(fed.is_ok(), prefix_ok, "{bytes:x?}");
                    if fed.is_ok() {
                        assert_eq!(v.is_mid_character(), reference.is_err(), "{bytes:x?}");
                        assert_eq!(v.finish().is_ok(), reference.is_ok(), "{bytes:x?}");
                    }
                }
            }
        }
    }

    /// One byte changed at every position of masked texts long enough for the fused kernel, at several
    /// alignments and payload offsets: the same verdict as `core`, and the bytes unmasked.
    #[test]
    fn masked_every_position_matches_core() {
        let mixed: String = "aé€𝄞 Жx你".chars().cycle().take(300).collect();
        // Pure ASCII, where the kernel skips whole pairs of blocks; the changed byte breaks the run.
        let ascii = "{\"seq\":1234,\"ok\":true} ".repeat(20);
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for (text, len) in [
            (&mixed, FUSED_MIN),
            (&mixed, FUSED_MIN + 1),
            (&mixed, 333),
            (&ascii, 400),
        ] {
            let bytes = &text.as_bytes()[..len];
            for pos in 0..len {
                for byte in [0x41, 0x80, 0xa0, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xff] {
                    let mut bytes = Vec::from(bytes);
                    bytes[pos] = byte;
                    let reference = core::str::from_utf8(&bytes);
                    let prefix_ok = !matches!(reference, Err(e) if e.error_len().is_some());
                    for (shift, offset) in [(0, 0), (1, 3), (63, 6), (33, 1)] {
                        let mut wire = vec![0; shift];
                        wire.extend_from_slice(&bytes);
                        crate::frame::apply_mask_reference(&mut wire[shift..], key, offset);
                        let mut v = Utf8Validator::new();
                        let fed = v.feed_masked(&mut wire[shift..], key, offset);
                        assert_eq!(&wire[shift..], &bytes[..], "{pos} {byte:x} {shift}");
                        assert_eq!(fed.is_ok(), prefix_ok, "{bytes:x?} {shift}");
                        if fed.is_ok() {
                            assert_eq!(v.finish().is_ok(), reference.is_ok(), "{bytes:x?}");
                        }
                    }
                }
            }
        }
    }

    /// A few masked texts long enough for the fused kernel, small enough for Miri (`scripts/miri.sh` runs
    /// it with AVX-512 enabled): valid, cut inside a character, and broken, at three alignments.
    #[test]
    fn feed_masked_small_cases() {
        let text = "aé€𝄞 Жx你".repeat(20);
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut broken = Vec::from(text.as_bytes());
        broken[300] = 0xc0;
        // ASCII around a character cut short, so whole pairs of ASCII blocks follow it.
        let mut cut = Vec::from(" ".repeat(200).as_bytes());
        cut.push(0xe2);
        cut.extend_from_slice(" ".repeat(200).as_bytes());
        let cases: [(&[u8], bool, bool); 4] = [
            (text.as_bytes(), true, true),
            (&text.as_bytes()[..text.len() - 1], true, false),
            (&broken, false, false),
            (&cut, false, false),
        ];
        for (bytes, fed_ok, finished_ok) in cases {
            for shift in [0, 5, 63] {
                let mut wire = vec![0; shift];
                wire.extend_from_slice(bytes);
                crate::frame::apply_mask_reference(&mut wire[shift..], key, 1);
                let mut v = Utf8Validator::new();
                assert_eq!(v.feed_masked(&mut wire[shift..], key, 1).is_ok(), fed_ok);
                assert_eq!(&wire[shift..], bytes);
                if fed_ok {
                    assert_eq!(v.finish().is_ok(), finished_ok);
                }
            }
        }
    }

    #[test]
    fn ascii_check_sees_every_byte() {
        let bytes = [b'a'; ASCII_MAX + 40];
        for len in 0..bytes.len() {
            assert!(is_ascii(&bytes[..len]));
            for pos in 0..len {
                let mut bytes = Vec::from(&bytes[..len]);
                bytes[pos] = 0x80;
                assert!(!is_ascii(&bytes), "{len} {pos}");
            }
        }
    }

    /// The length of the shortest prefix of `bytes` that cannot start a valid string, if any: by brute
    /// force from where `core` reports the error.
    fn unrecoverable_at(bytes: &[u8]) -> Option<usize> {
        let err = core::str::from_utf8(bytes).err()?;
        err.error_len()?;
        (err.valid_up_to() + 1..=bytes.len()).find(
            |&len| matches!(core::str::from_utf8(&bytes[..len]), Err(e) if e.error_len().is_some()),
        )
    }

    /// Feeds `bytes` cut at `cuts` and checks the verdicts against `core::str::from_utf8`. With `masked`
    /// (a key, and where the payload starts in its buffer, so pieces sit at every alignment), the pieces
    /// are fed masked through [`Utf8Validator::feed_masked`], which must unmask each whatever its verdict.
    fn check_streaming(
        bytes: &[u8],
        cuts: &[Index],
        masked: Option<([u8; 4], usize)>,
    ) -> Result<(), TestCaseError> {
        let mut ends: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        ends.push(bytes.len());
        ends.sort_unstable();
        let deadline = unrecoverable_at(bytes);
        let mut wire = Vec::new();
        if let Some((key, shift)) = masked {
            wire.resize(shift, 0);
            wire.extend_from_slice(bytes);
            crate::frame::apply_mask_reference(&mut wire[shift..], key, 0);
        }
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &end in &ends {
            let fed = match masked {
                Some((key, shift)) => {
                    let piece = &mut wire[shift + start..shift + end];
                    let fed = v.feed_masked(piece, key, start);
                    prop_assert_eq!(&*piece, &bytes[start..end], "unmasked {}..{}", start, end);
                    fed
                }
                None => v.feed(&bytes[start..end]),
            };
            let so_far = core::str::from_utf8(&bytes[..end]);
            let prefix_ok = !matches!(so_far, Err(e) if e.error_len().is_some());
            prop_assert_eq!(fed.is_ok(), prefix_ok, "piece {}..{}", start, end);
            // Fail fast: the piece holding the first byte no valid string could follow is the one that fails.
            prop_assert_eq!(
                fed.is_err(),
                deadline.is_some_and(|d| d <= end),
                "piece {}..{}",
                start,
                end
            );
            if fed.is_err() {
                prop_assert!(deadline.is_some_and(|d| d > start));
                return Ok(());
            }
            prop_assert_eq!(v.is_mid_character(), so_far.is_err());
            start = end;
        }
        prop_assert_eq!(v.finish().is_ok(), core::str::from_utf8(bytes).is_ok());
        prop_assert!(!v.is_mid_character());
        Ok(())
    }

    /// Characters of every width, ASCII the most frequent.
    fn text() -> impl Strategy<Value = Vec<u8>> {
        let ch = prop_oneof![
            4 => prop::char::range('\0', '\x7f'),
            2 => prop::char::range('\u{80}', '\u{7ff}'),
            2 => prop::char::range('\u{800}', '\u{ffff}'),
            1 => prop::char::range('\u{10000}', '\u{10ffff}'),
        ];
        prop::collection::vec(ch, 0..400)
            .prop_map(|chars| chars.into_iter().collect::<String>().into_bytes())
    }

    /// Valid text with, most of the time, one byte replaced (often by a byte that matters to UTF-8) and
    /// maybe the last bytes cut off.
    fn mutated_text() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            any::<u8>(),
            prop::sample::select(
                &[
                    0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
                    0xf0, 0xf4, 0xf5, 0xff
                ][..]
            ),
        ];
        (text(), prop::option::of((any::<Index>(), byte)), 0..4usize).prop_map(
            |(mut bytes, change, cut)| {
                if let Some((at, byte)) = change.filter(|_| !bytes.is_empty()) {
                    let at = at.index(bytes.len());
                    bytes[at] = byte;
                }
                bytes.truncate(bytes.len().saturating_sub(cut));
                bytes
            },
        )
    }

    fn cuts() -> impl Strategy<Value = Vec<Index>> {
        prop::collection::vec(any::<Index>(), 0..8)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_bytes_stream_like_core(bytes in prop::collection::vec(any::<u8>(), 0..300), cuts in cuts()) {
            check_streaming(&bytes, &cuts, None)?;
            prop_assert_eq!(validate(&bytes).is_ok(), core::str::from_utf8(&bytes).is_ok());
        }

        #[test]
        fn text_streams_like_core(bytes in mutated_text(), cuts in cuts()) {
            check_streaming(&bytes, &cuts, None)?;
            prop_assert_eq!(validate(&bytes).is_ok(), core::str::from_utf8(&bytes).is_ok());
        }

        #[test]
        fn masked_text_streams_like_core(
            bytes in mutated_text(),
            cuts in cuts(),
            key in any::<[u8; 4]>(),
            shift in 0..64usize,
        ) {
            check_streaming(&bytes, &cuts, Some((key, shift)))?;
        }
    }
}
