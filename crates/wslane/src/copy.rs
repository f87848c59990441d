//! Copies of payloads into new or growing buffers, made around a CPU pitfall.
//!
//! On AMD EPYC processors (measured on one with glibc 2.36), the `rep movsb` instruction glibc copies
//! blocks of a few KiB or more with is about 25 times slower when the destination lies 1 to 15 bytes past
//! the source within a 4 KiB page (their addresses modulo 4,096): a 16 KiB copy takes 4.7 µs instead of
//! 0.18 µs. Where a copy lands depends on the allocator, and it tends to land in the same place message
//! after message, so an unlucky connection pays on every message. A copy in that position is made here
//! backward, 32 bytes at a time, which takes 0.3–0.5 µs at 16 KiB; every other copy is the plain one.
//!
//! Text is copied the same way, and the copy becomes a `String` without its UTF-8 being checked again:
//! the bytes are those of a `str`.

use alloc::string::String;
use alloc::vec::Vec;

/// Copies shorter than this are made by the library's vector code, which the pitfall costs little.
const CHECKED_FROM: usize = 2 << 10;

/// How far past the source, within a page, a destination makes a copy slow.
const SLOW_WINDOW: usize = 16;

/// The page whose offsets the processor compares.
const PAGE: usize = 4 << 10;

/// Appends `src` to `dst`.
pub(crate) fn extend(dst: &mut Vec<u8>, src: &[u8]) {
    dst.reserve(src.len());
    let at = dst.len();
    if src.len() >= CHECKED_FROM && slow_if_forward(dst.as_ptr() as usize + at, src) {
        dst.resize(at + src.len(), 0);
        copy_backward(&mut dst[at..], src);
    } else {
        dst.extend_from_slice(src);
    }
}

/// A copy of `src` in a new vector.
pub(crate) fn to_vec(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    extend(&mut out, src);
    out
}

/// A copy of `src` in a new string, made as [`to_vec`] makes one.
pub(crate) fn to_string(src: &str) -> String {
    let bytes = to_vec(src.as_bytes());
    debug_assert_eq!(bytes, src.as_bytes());
    // SAFETY: `to_vec` returns exactly the bytes of `src` (both ways of copying are checked byte for byte
    // in the tests below), and `src` is a `str`, so they are UTF-8. Checking them again instead costs more
    // than the slow copy this avoids: 8 µs per 16 KiB message of mixed text in the owned echo.
    #[allow(unsafe_code)]
    unsafe {
        String::from_utf8_unchecked(bytes)
    }
}

/// Whether a forward copy of `src` to `dst_addr` falls in the slow position.
fn slow_if_forward(dst_addr: usize, src: &[u8]) -> bool {
    let past = dst_addr.wrapping_sub(src.as_ptr() as usize) % PAGE;
    past > 0 && past < SLOW_WINDOW
}

/// Copies `src` into `dst` (of the same length) from the end to the start.
fn copy_backward(dst: &mut [u8], src: &[u8]) {
    const BLOCK: usize = 32;
    let head = src.len() % BLOCK;
    let blocks = dst[head..]
        .rchunks_exact_mut(BLOCK)
        .zip(src[head..].rchunks_exact(BLOCK));
    for (to, from) in blocks {
        if let (Ok(to), Ok(from)) = (
            <&mut [u8; BLOCK]>::try_from(to),
            <&[u8; BLOCK]>::try_from(from),
        ) {
            *to = *from;
        }
    }
    dst[..head].copy_from_slice(&src[..head]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source and a destination slice `past` bytes past it within a page, `len` bytes each.
    fn placed(len: usize, past: usize) -> (Vec<u8>, usize, usize) {
        let mut buf = alloc::vec![0u8; 2 * len + 4 * PAGE];
        let base = buf.as_ptr() as usize;
        let src = (PAGE - base % PAGE) % PAGE + 5;
        let dst = src + (len / PAGE + 1) * PAGE + past;
        for (i, b) in buf[src..src + len].iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        (buf, src, dst)
    }

    #[test]
    fn a_copy_in_the_slow_position_is_made_backward_and_is_exact() {
        for len in [2048, 2049, 2079, 3000, 16 << 10] {
            for past in [1, 8, 15] {
                let (mut buf, src, dst) = placed(len, past);
                let (low, high) = buf.split_at_mut(dst);
                let from = &low[src..src + len];
                assert!(
                    slow_if_forward(high.as_ptr() as usize, from),
                    "{len} {past}"
                );
                copy_backward(&mut high[..len], from);
                assert_eq!(&high[..len], from, "{len} bytes, {past} past");
            }
        }
    }

    #[test]
    fn copies_are_exact_wherever_they_land() {
        for len in [0, 1, 100, 2047, 2048, 5000, 20_000] {
            let src: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            assert_eq!(to_vec(&src), src);
            let text: String = (0..len).map(|i| ['a', 'é', '€', '😀'][i % 4]).collect();
            assert_eq!(to_string(&text), text);
            let mut grown = alloc::vec![9u8; 3];
            extend(&mut grown, &src);
            assert_eq!(grown[..3], [9, 9, 9]);
            assert_eq!(grown[3..], src[..]);
        }
    }

    #[test]
    fn only_destinations_just_past_the_source_are_slow() {
        let src = [0u8; 4];
        let at = src.as_ptr() as usize;
        assert!(!slow_if_forward(at, &src));
        assert!(slow_if_forward(at + 1, &src));
        assert!(slow_if_forward(at + 15 + 4 * PAGE, &src));
        assert!(!slow_if_forward(at + 16, &src));
        assert!(!slow_if_forward(at.wrapping_sub(8), &src));
    }
}
