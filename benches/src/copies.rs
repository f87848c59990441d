//! The harnesses' own copies, made to cost the same wherever a library's buffers lie.
//!
//! Every in-memory harness copies the client's frames into the server's read buffer, and the server-only
//! harness copies the server's writes out again, as a kernel copies socket data. On some CPUs glibc's copy
//! of a few KiB is 25 times slower when its destination lies 1 to 15 bytes past its source within a 4 KiB
//! page (`docs/performance-notes.md`); with plain copies a harness charged that, now and then, to
//! whichever library's buffer happened to sit there. [`Batch`] keeps its input twice, so a read that would
//! copy from such a position copies the same bytes from the second copy, 64 bytes further along within
//! the page; [`Scratch`] moves a write that would land in one 64 bytes further into its area.

/// The page whose offsets the CPU compares (see [`slow_position`]).
const PAGE: usize = 4 << 10;

/// A batch of input bytes, copied out in pieces without landing in the slow position.
#[derive(Debug)]
pub struct Batch {
    input: Vec<u8>,
    /// The batch again, from `shifted[shift]`, which lies 64 bytes further within a page than `input[0]`.
    shifted: Vec<u8>,
    shift: usize,
}

impl Batch {
    /// The batch `input`.
    #[must_use]
    pub fn new(input: Vec<u8>) -> Batch {
        let mut shifted = vec![0; input.len() + PAGE];
        let shift = (input.as_ptr() as usize + 64).wrapping_sub(shifted.as_ptr() as usize) % PAGE;
        shifted[shift..shift + input.len()].copy_from_slice(&input);
        Batch {
            input,
            shifted,
            shift,
        }
    }

    /// The batch's bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.input
    }

    /// The `len` bytes of the batch from `at`, for a copy to `to`: from whichever copy of the batch is
    /// not in the slow position for it.
    ///
    /// # Panics
    ///
    /// If the batch ends before `at + len`.
    #[must_use]
    pub fn piece(&self, at: usize, len: usize, to: *const u8) -> &[u8] {
        let from = &self.input[at..at + len];
        if slow_position(to, from) {
            &self.shifted[self.shift + at..self.shift + at + len]
        } else {
            from
        }
    }

    /// Copies the `to.len()` bytes of the batch from `at` into `to` (see [`piece`](Self::piece)).
    ///
    /// # Panics
    ///
    /// If the batch ends before `at + to.len()`.
    pub fn copy_to(&self, at: usize, to: &mut [u8]) {
        to.copy_from_slice(self.piece(at, to.len(), to.as_ptr()));
    }
}

/// A fixed area that output is copied into, reused from its start when full (a socket's send buffer).
#[derive(Debug)]
pub struct Scratch {
    area: Vec<u8>,
    at: usize,
}

impl Scratch {
    /// An area of `len` bytes (more than a 4 KiB page).
    ///
    /// # Panics
    ///
    /// If `len` is not more than a page.
    #[must_use]
    pub fn new(len: usize) -> Scratch {
        assert!(len > PAGE, "a scratch area of {len} bytes");
        Scratch {
            area: vec![0; len],
            at: 0,
        }
    }

    /// Copies `data` into the area, where the copy is not in the slow position.
    pub fn take(&mut self, data: &[u8]) {
        let mut rest = data;
        while !rest.is_empty() {
            if self.at == self.area.len() {
                self.at = 0;
            }
            let n = rest.len().min(self.area.len() - self.at);
            let to = &mut self.area[self.at..self.at + n];
            if slow_position(to.as_ptr(), &rest[..n]) {
                // 64 bytes further (or, past the end, from the start of the area) it is not.
                self.at = (self.at + 64).min(self.area.len());
                continue;
            }
            to.copy_from_slice(&rest[..n]);
            self.at += n;
            rest = &rest[n..];
        }
    }
}

/// Whether a plain copy of `src` to `dst` lands where glibc's copy is slow on some CPUs: 2 KiB or more,
/// the destination 1 to 15 bytes past the source within a page.
#[must_use]
pub fn slow_position(dst: *const u8, src: &[u8]) -> bool {
    let past = (dst as usize).wrapping_sub(src.as_ptr() as usize) % PAGE;
    src.len() >= 2 << 10 && past > 0 && past < 16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pattern that tells every position apart.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn batch_pieces_never_lie_in_the_slow_position_and_hold_the_right_bytes() {
        const LEN: usize = 16 << 10;
        let input = pattern(64 << 10);
        let batch = Batch::new(input.clone());
        let mut room = vec![0u8; LEN + PAGE];
        let mut from_second_copy = 0;
        // Every destination offset within a page, each reading from a different place in the batch, so
        // that the destination lies every distance past the source once.
        for offset in 0..PAGE {
            let at = 2 * offset;
            let to = &mut room[offset..offset + LEN];
            let piece = batch.piece(at, LEN, to.as_ptr());
            assert_eq!(piece, &input[at..at + LEN], "offset {offset}");
            assert!(!slow_position(to.as_ptr(), piece), "offset {offset}");
            if piece.as_ptr() != batch.bytes()[at..].as_ptr() {
                from_second_copy += 1;
            }
            batch.copy_to(at, to);
            assert_eq!(to, &input[at..at + LEN], "offset {offset}");
        }
        // 15 of the 4,096 distances are slow with the first copy; the second copy served those.
        assert_eq!(from_second_copy, 15);
    }

    #[test]
    fn scratch_moves_a_slow_write_along_and_keeps_its_bytes() {
        // Each write 5 bytes longer than two pages, so the destination lies every distance past the
        // source in turn.
        let data = pattern((8 << 10) + 5);
        let mut scratch = Scratch::new(64 << 10);
        let mut moved = 0;
        for _ in 0..2_000 {
            let before = scratch.at;
            let wraps = before + data.len() > scratch.area.len();
            scratch.take(&data);
            if wraps {
                continue;
            }
            let start = scratch.at - data.len();
            if start != before {
                moved += 1;
                assert_eq!(start, before + 64, "moved 64 bytes along");
            }
            let to = &scratch.area[start..scratch.at];
            assert_eq!(to, &data[..]);
            assert!(!slow_position(to.as_ptr(), &data));
        }
        assert!(
            moved > 0,
            "some writes met the slow position and were moved"
        );
    }
}
