//! The transmit queue: encoded frames, and received payloads sent on from where they were received.
//!
//! A payload that a server sends on from the receive buffer (an echo, a relay, from
//! [`Connection::poll_event_with`](super::Connection::poll_event_with)) is not copied: the queue keeps
//! the frame's header and a range of the receive buffer, which stays where it is until that range is
//! transmitted (see `RxBuffer::pin`). A driver writes the pieces with one vectored write
//! ([`Connection::poll_transmit_vectored`](super::Connection::poll_transmit_vectored)); a driver that
//! wants one slice gets the queue made contiguous, the payloads copied in, as they were before.
//!
//! A prepared message ([`PreparedMessage`](crate::prepared::PreparedMessage)) is queued the same way: the
//! queue holds a reference to its shared, already framed bytes, and many connections transmit the same
//! allocation. So is the large payload of an owned message ([`Sender::send_owned`](super::Sender::send_owned)):
//! the queue takes its allocation (masked in place by a client) and frees it once it is transmitted.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use super::buffer::KEEP_WHEN_IDLE;
use crate::frame::{apply_mask, FrameHeader};

/// The smallest prepared frame queued by reference rather than copied: below it, copying the frame costs
/// less than writing it as a piece of its own.
pub(crate) const MIN_BORROWED: usize = 2 << 10;

/// The smallest payload sent on from the receive buffer rather than copied. Lower than [`MIN_BORROWED`]:
/// a received payload is still in the cache when it is written straight after, and an echo of 1 KiB
/// messages spends a quarter fewer instructions written from there than copied (the `server_rounds`
/// measurement in `docs/performance-notes.md`).
pub(crate) const MIN_BORROWED_RX: usize = 512;

/// Bytes transmitted from where they are rather than copied: `range` of `source`, after `at` bytes of the
/// encoded frames.
#[derive(Debug)]
struct Borrowed {
    at: usize,
    range: Range<usize>,
    source: Source,
}

/// Where borrowed bytes are.
#[derive(Debug)]
enum Source {
    /// The receive buffer.
    Rx,
    /// A retired receive buffer, by id.
    Retired(usize),
    /// A prepared message's framed bytes, shared with other connections.
    Shared(Arc<[u8]>),
    /// An owned message's payload, taken over from the caller.
    Owned(Vec<u8>),
}

/// Output waiting to be transmitted: the encoded frames in `buf[start..]`, with received payloads
/// (`borrowed`, in order) between them.
///
/// When the receive buffer must move while payloads in it are still queued, it hands its allocation over
/// ([`retire`](Self::retire)) and starts a new one; the allocation is freed once its last payload is
/// transmitted.
///
/// A large buffer is kept while the bursts written into it stay large (regrowing it, or freeing and
/// allocating it, for every burst costs copies and page faults), and released once a small burst drains
/// (the rule of [`KEEP_WHEN_IDLE`]; a burst is everything written between two moments the buffer was
/// empty).
#[derive(Debug, Default)]
pub(crate) struct TxBuffer {
    buf: Vec<u8>,
    start: usize,
    borrowed: VecDeque<Borrowed>,
    /// Bytes of `borrowed` not yet transmitted.
    borrowed_len: usize,
    /// Receive buffers handed over while payloads in them were queued; the first has id `retired_base`.
    retired: VecDeque<Vec<u8>>,
    retired_base: usize,
    /// Entries of `borrowed` in the receive buffer, and the end of the last one.
    rx_count: usize,
    rx_end: usize,
}

impl TxBuffer {
    /// Bytes waiting.
    pub(crate) fn len(&self) -> usize {
        self.buf.len() - self.start + self.borrowed_len
    }

    /// The end of the last range of the receive buffer still to be transmitted (0 when none): the
    /// receive buffer must keep its bytes up to there where they are.
    pub(crate) fn borrowed_end(&self) -> usize {
        if self.rx_count > 0 {
            self.rx_end
        } else {
            0
        }
    }

    /// Takes over the receive buffer's allocation, which payloads still queued point into.
    pub(crate) fn retire(&mut self, rx: Vec<u8>) {
        let id = self.retired_base + self.retired.len();
        for borrowed in &mut self.borrowed {
            if matches!(borrowed.source, Source::Rx) {
                borrowed.source = Source::Retired(id);
            }
        }
        self.rx_count = 0;
        self.rx_end = 0;
        self.retired.push_back(rx);
    }

    /// The bytes of `borrowed`: in `rx`, the receive buffer, a retired one, or a shared frame.
    fn payload<'a>(&'a self, rx: &'a [u8], borrowed: &'a Borrowed) -> &'a [u8] {
        bytes_of(&self.retired, self.retired_base, rx, borrowed)
    }

    /// The pieces to transmit, in order, up to `out.len()` of them; returns how many were set. `rx` is the
    /// receive buffer the borrowed ranges point into.
    pub(crate) fn pieces<'a>(&'a self, rx: &'a [u8], out: &mut [&'a [u8]]) -> usize {
        let mut count = 0;
        let mut at = self.start;
        for borrowed in &self.borrowed {
            for piece in [&self.buf[at..borrowed.at], self.payload(rx, borrowed)] {
                if !piece.is_empty() {
                    let Some(slot) = out.get_mut(count) else {
                        return count;
                    };
                    *slot = piece;
                    count += 1;
                }
            }
            at = borrowed.at;
        }
        if at < self.buf.len() {
            if let Some(slot) = out.get_mut(count) {
                *slot = &self.buf[at..];
                count += 1;
            }
        }
        count
    }

    /// Everything waiting, as one slice: received payloads are copied in first (the queue as it was
    /// before any was borrowed).
    pub(crate) fn contiguous(&mut self, rx: &[u8]) -> &[u8] {
        self.copy_borrowed(rx);
        &self.buf[self.start..]
    }

    /// Copies the borrowed payloads into the buffer, in place: each stretch of frames moves back by the
    /// payloads queued before it, from the last stretch to the first. Afterwards nothing points into `rx`.
    pub(crate) fn copy_borrowed(&mut self, rx: &[u8]) {
        if self.borrowed.is_empty() {
            return;
        }
        let inline = self.buf.len();
        self.buf.resize(inline + self.borrowed_len, 0);
        let mut src_end = inline;
        let mut dst_end = self.buf.len();
        let borrowed = core::mem::take(&mut self.borrowed);
        for borrowed in borrowed.iter().rev() {
            let frames = src_end - borrowed.at;
            self.buf.copy_within(borrowed.at..src_end, dst_end - frames);
            dst_end -= frames;
            let len = borrowed.range.len();
            let payload = bytes_of(&self.retired, self.retired_base, rx, borrowed);
            let dst = dst_end - len;
            if payload.len() == len {
                self.buf[dst..dst_end].copy_from_slice(payload);
            }
            dst_end = dst;
            src_end = borrowed.at;
        }
        debug_assert_eq!(src_end, dst_end);
        self.borrowed_len = 0;
        self.rx_count = 0;
        self.rx_end = 0;
        self.retired_base += self.retired.len();
        self.retired = VecDeque::new();
    }

    /// `n` bytes were transmitted. Returns the retired receive buffer this freed last, if no other is
    /// retired any more, for the receive side to reuse instead of allocating.
    pub(crate) fn advance(&mut self, mut n: usize) -> Option<Vec<u8>> {
        let mut freed = None;
        while n > 0 {
            let Some(borrowed) = self.borrowed.front_mut() else {
                self.start = (self.start + n).min(self.buf.len());
                break;
            };
            let frames = borrowed.at - self.start;
            if frames > 0 {
                let taken = n.min(frames);
                self.start += taken;
                n -= taken;
                continue;
            }
            let taken = n.min(borrowed.range.len());
            borrowed.range.start += taken;
            self.borrowed_len -= taken;
            n -= taken;
            if borrowed.range.is_empty() {
                if let Some(Borrowed {
                    source: Source::Rx, ..
                }) = self.borrowed.pop_front()
                {
                    self.rx_count -= 1;
                }
                if let Some(buf) = self.free_retired() {
                    freed = Some(buf);
                }
            }
        }
        if self.start == self.buf.len() && self.borrowed.is_empty() {
            // A burst that needed a large buffer is likely to be followed by another; one that did not
            // says the large size is no longer needed.
            let burst = self.buf.len();
            self.buf.clear();
            self.start = 0;
            if self.buf.capacity() > KEEP_WHEN_IDLE && burst <= KEEP_WHEN_IDLE {
                self.buf = Vec::new();
            }
            if self.borrowed.capacity() > BORROWED_KEPT {
                self.borrowed = VecDeque::new();
            }
        }
        freed
    }

    /// Frees the retired buffers no queued payload points into any more, and returns the last of them
    /// if it was the last one retired: the receive buffer and it are then the two allocations the
    /// hand-over had, no more.
    fn free_retired(&mut self) -> Option<Vec<u8>> {
        if self.retired.is_empty() {
            return None;
        }
        // Shared frames may stand before the first payload of a retired buffer.
        let oldest_needed = self
            .borrowed
            .iter()
            .find_map(|borrowed| match borrowed.source {
                Source::Retired(id) => Some(id),
                Source::Rx => Some(self.retired_base + self.retired.len()),
                Source::Shared(_) | Source::Owned(_) => None,
            })
            .unwrap_or(self.retired_base + self.retired.len());
        let mut last = None;
        while self.retired_base < oldest_needed {
            let Some(buf) = self.retired.pop_front() else {
                break;
            };
            self.retired_base += 1;
            last = Some(buf);
        }
        last.filter(|_| self.retired.is_empty())
    }

    /// Makes room for `needed` more bytes of frames. Drops what was transmitted only when they would not
    /// fit otherwise (instead of growing), and when that moves no more than was transmitted: each byte is
    /// moved at most once, and a buffer with room is never moved.
    fn reserve(&mut self, needed: usize) {
        if self.buf.capacity() - self.buf.len() < needed
            && self.start > 0
            && self.start >= self.buf.len() / 2
        {
            self.buf.drain(..self.start);
            for borrowed in &mut self.borrowed {
                borrowed.at -= self.start;
            }
            self.start = 0;
        }
        self.buf.reserve(needed);
    }

    /// Appends a frame: the header, then the payload, masked in place when the header has a key.
    pub(crate) fn push_frame(&mut self, header: &FrameHeader, payload: &[u8]) {
        let head = header.to_bytes();
        self.reserve(head.len() + payload.len());
        self.buf.extend_from_slice(&head);
        let at = self.buf.len();
        crate::copy::extend(&mut self.buf, payload);
        if let Some(key) = header.mask {
            apply_mask(&mut self.buf[at..], key, 0);
        }
    }

    /// Appends an unmasked frame whose payload is `range` of the receive buffer, transmitted from there.
    /// Ranges come in the order they were received (the receive buffer does not move while any is queued).
    pub(crate) fn push_borrowed(&mut self, header: &FrameHeader, range: Range<usize>) {
        debug_assert!(header.mask.is_none());
        self.push_bytes(&header.to_bytes());
        self.rx_count += 1;
        self.rx_end = range.end;
        self.push_piece(range, Source::Rx);
    }

    /// Appends a frame whose payload, an allocation taken over (already masked when the header has a key),
    /// is transmitted from where it is and freed once transmitted.
    pub(crate) fn push_owned(&mut self, header: &FrameHeader, payload: Vec<u8>) {
        self.push_bytes(&header.to_bytes());
        self.push_piece(0..payload.len(), Source::Owned(payload));
    }

    /// Appends bytes already encoded: whole frames, copied.
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        self.buf.extend_from_slice(bytes);
    }

    /// Appends whole frames shared with other connections, transmitted from where they are.
    pub(crate) fn push_shared(&mut self, frames: Arc<[u8]>) {
        self.push_piece(0..frames.len(), Source::Shared(frames));
    }

    /// Queues `range` of `source`, transmitted from where it is after the frames encoded so far.
    fn push_piece(&mut self, range: Range<usize>, source: Source) {
        self.borrowed_len += range.len();
        self.borrowed.push_back(Borrowed {
            at: self.buf.len(),
            range,
            source,
        });
    }
}

/// The bytes of `borrowed`, given the retired buffers (the first with id `base`) and the receive buffer.
fn bytes_of<'a>(
    retired: &'a VecDeque<Vec<u8>>,
    base: usize,
    rx: &'a [u8],
    borrowed: &'a Borrowed,
) -> &'a [u8] {
    let source = match &borrowed.source {
        Source::Rx => rx,
        Source::Retired(id) => retired.get(id - base).map_or(&[][..], |b| b),
        Source::Shared(bytes) => bytes,
        Source::Owned(bytes) => bytes,
    };
    source.get(borrowed.range.clone()).unwrap_or(&[])
}

/// Entries of the borrowed queue kept once it empties (a burst of echoes); a longer queue is released.
const BORROWED_KEPT: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    #[test]
    fn tx_drains_and_masks() {
        let mut tx = TxBuffer::default();
        let mut header = FrameHeader::new(OpCode::Text, 5);
        header.mask = Some([0x37, 0xfa, 0x21, 0x3d]);
        tx.push_frame(&header, b"Hello");
        assert_eq!(
            tx.contiguous(&[]),
            &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        tx.advance(3);
        assert_eq!(tx.len(), 8);
        tx.advance(100);
        assert_eq!(tx.len(), 0);
    }

    #[test]
    fn tx_keeps_a_large_buffer_while_bursts_stay_large() {
        let mut tx = TxBuffer::default();
        let header = FrameHeader::new(OpCode::Binary, 40_000);
        let payload = alloc::vec![1; 40_000];
        tx.push_frame(&header, &payload);
        tx.push_frame(&header, &payload);
        let grown = tx.buf.capacity();
        tx.advance(tx.len());
        assert_eq!(tx.buf.capacity(), grown, "kept after a large burst");
        tx.push_frame(&header, &payload);
        assert_eq!(tx.buf.capacity(), grown);
        // A small burst in a large buffer releases it.
        tx.advance(tx.len());
        let small = FrameHeader::new(OpCode::Binary, 3);
        tx.push_frame(&small, b"abc");
        tx.advance(tx.len());
        tx.push_frame(&small, b"abc");
        assert!(tx.buf.capacity() < KEEP_WHEN_IDLE);
    }

    /// The pieces, concatenated.
    fn gather(tx: &TxBuffer, rx: &[u8]) -> Vec<u8> {
        let mut pieces = [&[][..]; 16];
        let n = tx.pieces(rx, &mut pieces);
        pieces[..n].concat()
    }

    #[test]
    fn tx_borrowed_payloads_go_out_between_their_headers() {
        let rx: Vec<u8> = (0..=255).cycle().take(20_000).collect();
        let mut tx = TxBuffer::default();
        tx.push_frame(&FrameHeader::new(OpCode::Text, 2), b"hi");
        tx.push_borrowed(&FrameHeader::new(OpCode::Binary, 5000), 100..5100);
        tx.push_borrowed(&FrameHeader::new(OpCode::Binary, 3000), 6000..9000);
        tx.push_frame(&FrameHeader::new(OpCode::Pong, 0), b"");
        let mut expected = Vec::new();
        expected.extend_from_slice(b"\x81\x02hi\x82\x7e\x13\x88");
        expected.extend_from_slice(&rx[100..5100]);
        expected.extend_from_slice(b"\x82\x7e\x0b\xb8");
        expected.extend_from_slice(&rx[6000..9000]);
        expected.extend_from_slice(b"\x8a\x00");
        assert_eq!(tx.len(), expected.len());
        assert_eq!(tx.borrowed_end(), 9000);
        assert_eq!(gather(&tx, &rx), expected);
        // Only as many pieces as there are slots.
        let mut two = [&[][..]; 2];
        assert_eq!(tx.pieces(&rx, &mut two), 2);
        assert_eq!(two.concat(), expected[..8 + 5000]);
        // Transmitted in uneven steps, across pieces.
        let mut sent = 0;
        for step in [3, 4000, 1005, 1, 2, 3000, 1, 100] {
            tx.advance(step);
            sent = (sent + step).min(expected.len());
            assert_eq!(gather(&tx, &rx), expected[sent..], "after {sent}");
            assert_eq!(tx.len(), expected.len() - sent);
        }
        assert_eq!(tx.len(), 0);
        assert_eq!(tx.borrowed_end(), 0);
    }

    #[test]
    fn tx_copies_borrowed_payloads_in_place_when_asked_for_one_slice() {
        let rx: Vec<u8> = (0..=255).cycle().take(20_000).collect();
        let mut tx = TxBuffer::default();
        tx.push_frame(&FrameHeader::new(OpCode::Text, 2), b"hi");
        tx.advance(1);
        tx.push_borrowed(&FrameHeader::new(OpCode::Binary, 4000), 0..4000);
        tx.push_frame(&FrameHeader::new(OpCode::Text, 3), b"abc");
        tx.push_borrowed(&FrameHeader::new(OpCode::Binary, 9000), 10_000..19_000);
        let expected = gather(&tx, &rx);
        assert_eq!(tx.contiguous(&rx), &expected[..]);
        assert_eq!(
            tx.borrowed_end(),
            0,
            "nothing points into the receive buffer"
        );
        assert_eq!(tx.len(), expected.len());
        tx.advance(expected.len());
        assert_eq!(tx.len(), 0);
    }

    #[test]
    fn tx_compaction_keeps_borrowed_payloads_in_place() {
        let rx = alloc::vec![7; 8192];
        let mut tx = TxBuffer::default();
        let payload = alloc::vec![1; 100];
        tx.push_frame(&FrameHeader::new(OpCode::Binary, 100), &payload);
        tx.push_borrowed(&FrameHeader::new(OpCode::Binary, 4096), 0..4096);
        tx.advance(102);
        // Frames that no longer fit drop the transmitted ones first.
        let big = alloc::vec![2; tx.buf.capacity()];
        tx.push_frame(&FrameHeader::new(OpCode::Binary, big.len() as u64), &big);
        let out = gather(&tx, &rx);
        assert_eq!(&out[..4], b"\x82\x7e\x10\x00");
        assert_eq!(&out[4..4100], &rx[..4096]);
        assert_eq!(out.len(), 4100 + 4 + big.len());
    }
}
