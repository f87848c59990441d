//! The connection's receive and transmit buffers.

use alloc::vec::Vec;

use crate::frame::{apply_mask, FrameHeader};

/// Received bytes not yet decoded live in `buf[start..end]`; `buf[end..]` is initialised spare room that
/// a driver can read into directly.
///
/// Reads are sized to the traffic: the first is small, so an idle connection costs little; each read that
/// fills all the room offered doubles the next one, up to [`MAX_READ`]. A frame larger than the room grows
/// the buffer to hold it whole; once such a buffer empties it is released, and reads start small again.
#[derive(Debug)]
pub(crate) struct RxBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The room the next read is offered, at least.
    read_size: usize,
}

/// The room offered to a connection's first read, and again after a large buffer was released.
const FIRST_READ: usize = 1 << 10;

/// The most room reads grow to while they keep filling it.
const MAX_READ: usize = 64 << 10;

/// Up to this size, an emptied buffer is kept for the next read; larger ones (grown for a large frame)
/// are released, so an idle connection is small.
const KEEP_WHEN_IDLE: usize = MAX_READ;

impl Default for RxBuffer {
    fn default() -> RxBuffer {
        RxBuffer {
            buf: Vec::new(),
            start: 0,
            end: 0,
            read_size: FIRST_READ,
        }
    }
}

impl RxBuffer {
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }

    /// Offset of the undecoded data within the allocation.
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Spare room of at least `min` bytes (and at least the current read size) after the data, moving the
    /// data to the front or growing the allocation as needed.
    pub(crate) fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > KEEP_WHEN_IDLE.max(min) {
                self.buf = Vec::new();
                self.read_size = FIRST_READ;
            }
        }
        // Reads are offered `read_size` bytes of buffer in all, the data waiting included, so leftover bytes
        // of a frame do not grow the buffer; a frame larger than that grows it.
        let min = min.max(self.read_size.saturating_sub(self.len())).max(1);
        if self.buf.len() - self.end < min {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            let wanted = self.end + min;
            if self.buf.len() < wanted {
                self.buf.resize(wanted.max(self.buf.len() * 2), 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Marks `n` bytes of the spare room as received.
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
        if n > 0 && self.end == self.buf.len() {
            // The read filled all the room: more is probably waiting.
            self.read_size = (self.read_size * 2).min(MAX_READ);
        }
    }

    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.spare(data.len())[..data.len()].copy_from_slice(data);
        self.end += data.len();
    }

    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

/// Encoded frames waiting to be transmitted: `buf[start..]`.
#[derive(Debug, Default)]
pub(crate) struct TxBuffer {
    buf: Vec<u8>,
    start: usize,
}

impl TxBuffer {
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    pub(crate) fn advance(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            if self.buf.capacity() > KEEP_WHEN_IDLE {
                self.buf = Vec::new();
            }
        }
    }

    /// Appends a frame: the header, then the payload, masked in place when the header has a key.
    pub(crate) fn push_frame(&mut self, header: &FrameHeader, payload: &[u8]) {
        // Drop what was transmitted before growing, so a steadily drained buffer stays small.
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let (head, head_len) = header.to_bytes();
        self.buf.reserve(head_len + payload.len());
        self.buf.extend_from_slice(&head[..head_len]);
        let at = self.buf.len();
        self.buf.extend_from_slice(payload);
        if let Some(key) = header.mask {
            apply_mask(&mut self.buf[at..], key, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    #[test]
    fn rx_keeps_undecoded_bytes_in_order() {
        let mut rx = RxBuffer::default();
        rx.extend(b"hello ");
        rx.consume(2);
        rx.extend(&[b'w'; 40_000]);
        assert_eq!(rx.len(), 4 + 40_000);
        assert_eq!(&rx.data_mut()[..5], b"llo w");
        rx.extend(&[b'x'; 100_000]);
        rx.consume(rx.len());
        // An emptied large buffer is released on the next read, and reads start small again.
        assert_eq!(rx.spare(16).len(), FIRST_READ);
    }

    #[test]
    fn rx_reads_grow_while_they_fill_the_room_and_restart_small() {
        let mut rx = RxBuffer::default();
        let mut offered = Vec::new();
        for _ in 0..10 {
            let room = rx.spare(1).len();
            offered.push(room);
            rx.commit(room);
            rx.consume(room);
        }
        assert_eq!(offered[0], FIRST_READ);
        assert!(offered.windows(2).all(|w| w[1] >= w[0]), "{offered:?}");
        assert_eq!(*offered.last().unwrap(), MAX_READ);
        // A read that does not fill the room leaves the size alone, and the buffer is kept.
        rx.spare(1);
        rx.commit(10);
        rx.consume(10);
        assert_eq!(rx.spare(1).len(), MAX_READ);
    }

    #[test]
    fn tx_drains_and_masks() {
        let mut tx = TxBuffer::default();
        let mut header = FrameHeader::new(OpCode::Text, 5);
        header.mask = Some([0x37, 0xfa, 0x21, 0x3d]);
        tx.push_frame(&header, b"Hello");
        assert_eq!(
            tx.pending(),
            &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        tx.advance(3);
        assert_eq!(tx.len(), 8);
        tx.advance(100);
        assert_eq!(tx.len(), 0);
    }
}
