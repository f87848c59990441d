//! The connection's receive buffer, and the release rule every buffer of a connection follows.

use alloc::vec::Vec;

use crate::frame::MAX_HEADER_LEN;

/// Received bytes not yet decoded live in `buf[start..end]`; `buf[end..]` is initialised spare room that
/// a driver can read into directly.
///
/// Reads are sized to the traffic: the first is small, so an idle connection costs little; each read that
/// fills all the room offered doubles the next one, up to [`MAX_READ`]. A frame larger than the room grows
/// the buffer to hold it whole; once such a buffer empties it is released, and reads start small again.
///
/// A frame of [`BOUNDED_READ`] or more that is still arriving is read up to its end and no further, so it
/// is unmasked, handed out and (when echoed from here) written while it is still in the CPU's cache, and
/// the next frame starts a read of its own instead of being split across the buffer's end and moved to
/// its front. (Reads of 64 KiB over 16 KiB frames did both: the server-only echo spent twice
/// tokio-websockets' time per message, with three times its L1 misses.)
#[derive(Debug)]
pub(crate) struct RxBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The room the next read is offered, at least.
    read_size: usize,
    /// The last frame needed more than [`KEEP_WHEN_IDLE`]: keep the large buffer for the next one.
    large_frame: bool,
    /// `buf[..pinned]` holds payloads queued for transmission from here (see `TxBuffer::push_borrowed`):
    /// those bytes stay where they are, so the data is not moved to the front and the buffer is not
    /// released or cleared; when a read needs room that is not there, the allocation is handed over
    /// instead ([`take_pinned`](Self::take_pinned)).
    pinned: usize,
    /// Bytes still missing of the frame being received, as the decoder announced them (see
    /// [`expect`](Self::expect)); 0 when unknown.
    frame_rest: usize,
    /// An allocation handed over earlier ([`take_pinned`](Self::take_pinned)) and given back once its
    /// payloads were sent, kept for the next hand-over while large frames keep coming: large echoed
    /// messages then alternate between two allocations, their room already initialised and recently in
    /// cache, instead of a new one allocated and zero-filled per message.
    reusable: Option<Vec<u8>>,
}

/// The room offered to a connection's first read, and again after a large buffer was released.
const FIRST_READ: usize = 1 << 10;

/// The most room reads grow to while they keep filling it: small enough that what a read brings is still
/// in the L1 cache when it is decoded and written on.
const MAX_READ: usize = 16 << 10;

/// The most room a read is offered inside the capacity reserved for a large frame.
const FRAME_READ: usize = 64 << 10;

/// A frame this large or larger that is still arriving is read up to its end and no further.
const BOUNDED_READ: usize = 2 << 10;

/// The release rule, the same for every buffer of a connection (receive, transmit, reassembly, the
/// extension's encode scratch): a buffer up to this size is kept for reuse; a larger one (grown for large
/// traffic) is kept while that traffic continues, and released as soon as it is empty and the frame,
/// message or burst it last handled was no larger than this. So after large traffic, the first small
/// message brings the connection back to its idle size.
pub(crate) const KEEP_WHEN_IDLE: usize = 64 << 10;

/// The most room reads grow to, as [`crate::memory`] counts it.
pub(crate) const MAX_READ_ROOM: usize = FRAME_READ;

/// Releases `buf` under the rule of [`KEEP_WHEN_IDLE`]: its content (`buf.len()` bytes, already handed
/// out) is what it last handled.
pub(crate) fn release_if_small(buf: &mut Vec<u8>) {
    if buf.capacity() > KEEP_WHEN_IDLE && buf.len() <= KEEP_WHEN_IDLE {
        *buf = Vec::new();
    }
}

/// Makes room for `additional` more bytes in `buf`, growing geometrically (few copies for a large message)
/// but never past `cap` unless the content itself needs more: a message within its limit never costs a
/// buffer larger than the limit.
pub(crate) fn reserve_within(buf: &mut Vec<u8>, additional: usize, cap: usize) {
    if buf.capacity() - buf.len() < additional {
        let needed = buf.len().saturating_add(additional);
        let target = buf
            .capacity()
            .saturating_mul(2)
            .clamp(needed, cap.max(needed));
        buf.reserve_exact(target - buf.len());
    }
}

/// The most room reserved ahead for a frame whose header announced its size. The size is the peer's word:
/// past this (the default frame size limit), room grows only as the bytes arrive, so a header alone can
/// make the connection allocate no more than this, whatever the limits allow.
const MAX_RESERVE_AHEAD: usize = 16 << 20;

impl Default for RxBuffer {
    fn default() -> RxBuffer {
        RxBuffer {
            buf: Vec::new(),
            start: 0,
            end: 0,
            read_size: FIRST_READ,
            large_frame: false,
            pinned: 0,
            frame_rest: 0,
            reusable: None,
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

    /// The decoder handled `n` bytes: a frame (or, when streaming, a piece of one). Its size decides
    /// whether the buffer is kept once empty (see [`KEEP_WHEN_IDLE`]).
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        self.large_frame = n > KEEP_WHEN_IDLE;
        self.frame_rest = 0;
    }

    /// Applies the release rule once the data is handled: an empty buffer grown past
    /// [`KEEP_WHEN_IDLE`] is released unless the frame in progress or just handled was large, and reads
    /// start small again. (Called when no event borrows the buffer any more.)
    pub(crate) fn release_if_idle(&mut self) {
        self.release_unless_needed(0);
    }

    /// As [`release_if_idle`](Self::release_if_idle), keeping a buffer that already has `min` bytes of
    /// room.
    fn release_unless_needed(&mut self, min: usize) {
        if self.start == self.end && self.pinned == 0 {
            self.start = 0;
            self.end = 0;
            if !self.large_frame {
                self.reusable = None;
                if self.buf.capacity() > KEEP_WHEN_IDLE.max(min) {
                    self.buf = Vec::new();
                    self.read_size = FIRST_READ;
                }
            }
        }
    }

    /// Keeps `buf`, an allocation handed over earlier, for the next hand-over, while large frames keep
    /// coming (otherwise it is freed now, as any buffer that large would be).
    pub(crate) fn keep_for_reuse(&mut self, buf: Vec<u8>) {
        if self.large_frame {
            self.reusable = Some(buf);
        }
    }

    /// The frame being received needs `more` bytes after the data: reserve them now, while little of the
    /// frame is buffered, so it is received without regrowing and moving it. Only capacity is reserved;
    /// memory is initialised (and so touched) as reads are offered room, not before the bytes arrive.
    ///
    /// `more` is what the peer announced. At most [`MAX_RESERVE_AHEAD`] is reserved ahead of the data, and
    /// a reservation the allocator refuses is skipped: received bytes then grow the buffer as they come.
    /// Input never makes the process abort for lack of memory here.
    pub(crate) fn expect(&mut self, more: usize) {
        self.frame_rest = if more > MAX_HEADER_LEN { more } else { 0 };
        // (While pinned, the frame is received as it comes.)
        if self.buf.len() - self.end >= more || self.pinned > 0 {
            return;
        }
        self.move_data_to_front();
        let total = self.end.saturating_add(more);
        // (The rest of a header says nothing of the frame's size.)
        if more > MAX_HEADER_LEN {
            self.large_frame = total > KEEP_WHEN_IDLE;
        }
        let total = total.min(self.end.saturating_add(MAX_RESERVE_AHEAD));
        if total > self.buf.capacity() {
            // A refusal is no error: the frame is still received, growing as it arrives.
            let _ = self.buf.try_reserve_exact(total - self.buf.len());
        }
    }

    /// Spare room of at least `min` bytes (and at least the current read size) after the data, moving the
    /// data to the front or growing the allocation as needed.
    pub(crate) fn spare(&mut self, min: usize) -> &mut [u8] {
        // A large buffer is kept while large frames keep coming (freeing and allocating one per message
        // costs page faults), and released once a small one was handled.
        self.release_unless_needed(min);
        let asked = min;
        let min = self.room_wanted(min);
        if self.buf.len() - self.end < min {
            if self.pinned == 0 {
                self.move_data_to_front();
            }
            let wanted = self.end + min;
            if self.buf.len() < wanted {
                let size = if self.buf.capacity() >= wanted {
                    // Capacity reserved for a frame (see `expect`): initialise at most `FRAME_READ` more
                    // than asked, so memory is touched as the frame arrives.
                    self.buf.capacity().min(wanted + FRAME_READ)
                } else {
                    // Doubling, but growth for reads alone stops at `MAX_READ`: a buffer no larger is
                    // kept when it empties (see `KEEP_WHEN_IDLE`), while one grown even a little past it
                    // would be released after every burst and grown again, zero-filled, read by read.
                    let doubled = self.buf.len() * 2;
                    if wanted <= MAX_READ {
                        wanted.max(doubled.min(MAX_READ))
                    } else {
                        wanted.max(doubled)
                    }
                };
                // Exactly: `resize` alone would round the capacity up past the size asked for.
                self.buf.reserve_exact(size - self.buf.len());
                self.buf.resize(size, 0);
            }
        }
        let room = if self.frame_rest >= BOUNDED_READ {
            self.frame_rest.max(asked)
        } else {
            usize::MAX
        };
        let end = self.end.saturating_add(room).min(self.buf.len());
        &mut self.buf[self.end..end]
    }

    /// The room a read is offered: at least `min`, and `read_size` bytes of buffer in all, the data waiting
    /// included, so leftover bytes of a frame do not grow the buffer; a frame larger than that grows it.
    fn room_wanted(&self, min: usize) -> usize {
        min.max(self.read_size.saturating_sub(self.len())).max(1)
    }

    /// Keeps `buf[..end]` where it is until [`pin`](Self::pin) is called again (with 0 when nothing is
    /// queued from here any more).
    pub(crate) fn pin(&mut self, end: usize) {
        self.pinned = end.min(self.buf.len());
    }

    /// While pinned, if a read of `min` bytes needs more room than the allocation has after the data:
    /// hands the allocation over (to the transmit queue, which frees it once its payloads are sent) and
    /// continues in a new one of the same size, with the undecoded data moved there.
    pub(crate) fn take_pinned(&mut self, min: usize) -> Option<Vec<u8>> {
        if self.pinned == 0 || self.buf.capacity() - self.end >= self.room_wanted(min) {
            return None;
        }
        let needed = self.buf.capacity().max(self.len() + min);
        let mut fresh = match self.reusable.take() {
            // Its room is initialised already: the data is copied over the front of it.
            Some(buf) if buf.capacity() >= needed => buf,
            _ => {
                let mut fresh = Vec::new();
                // A refusal leaves the buffer pinned where it is: it then grows in place (the pinned
                // bytes keep their offsets), as every buffer did before payloads were borrowed.
                fresh.try_reserve_exact(needed).ok()?;
                fresh
            }
        };
        let data = &self.buf[self.start..self.end];
        if fresh.len() >= data.len() {
            fresh[..data.len()].copy_from_slice(data);
        } else {
            fresh.clear();
            fresh.extend_from_slice(data);
        }
        self.end -= self.start;
        self.start = 0;
        self.pinned = 0;
        Some(core::mem::replace(&mut self.buf, fresh))
    }

    /// Moves the undecoded data to the start of the allocation.
    fn move_data_to_front(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Marks `n` bytes of the spare room as received.
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
        self.frame_rest = self.frame_rest.saturating_sub(n);
        if n > 0 && self.end == self.buf.len() {
            // The read filled all the room: more is probably waiting.
            self.read_size = (self.read_size * 2).min(MAX_READ);
        }
    }

    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.spare(data.len())[..data.len()].copy_from_slice(data);
        self.end += data.len();
    }

    /// Drops the data and releases the buffer: nothing more is read. (Nothing may be pinned.)
    pub(crate) fn clear(&mut self) {
        debug_assert_eq!(self.pinned, 0);
        *self = RxBuffer::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_keeps_undecoded_bytes_in_order() {
        let mut rx = RxBuffer::default();
        rx.extend(b"hello ");
        rx.consume(2);
        rx.extend(&[b'w'; 40_000]);
        assert_eq!(rx.len(), 4 + 40_000);
        assert_eq!(&rx.data_mut()[..5], b"llo w");
        rx.extend(&[b'x'; 100_000]);
        // Small frames (the decoder consumes one at a time).
        while rx.len() > 0 {
            rx.consume(rx.len().min(1000));
        }
        // An emptied large buffer is released on the next read, and reads start small again.
        assert_eq!(rx.spare(16).len(), FIRST_READ);
    }

    #[test]
    fn rx_keeps_a_large_buffer_after_a_large_frame_that_arrived_in_one_read() {
        let mut rx = RxBuffer::default();
        rx.extend(&[b'x'; 100_000]);
        rx.consume(100_000);
        rx.release_if_idle();
        assert!(
            rx.buf.capacity() >= 100_000,
            "kept for the next large frame"
        );
        rx.extend(b"small");
        rx.consume(5);
        rx.release_if_idle();
        assert_eq!(rx.buf.capacity(), 0, "released after a small frame");
    }

    #[test]
    fn a_handed_over_buffer_given_back_is_reused_while_large_frames_come() {
        let mut rx = RxBuffer::default();
        let large = KEEP_WHEN_IDLE * 2;
        rx.extend(&alloc::vec![b'x'; large]);
        rx.consume(large);
        // The frame's payload is queued from here, and the next frame has begun.
        rx.pin(large);
        rx.extend(b"next");
        let first = rx.take_pinned(large).expect("handed over");
        let (first_at, first_capacity) = (first.as_ptr(), first.capacity());
        assert_eq!(rx.data_mut(), b"next");

        // Its payloads sent, it comes back, and the next hand-over continues in it.
        rx.keep_for_reuse(first);
        rx.extend(&alloc::vec![b'y'; large - 4]);
        rx.consume(large);
        rx.pin(rx.end);
        rx.extend(b"more");
        let second = rx.take_pinned(large).expect("handed over");
        assert_eq!(
            rx.buf.as_ptr(),
            first_at,
            "continued in the given-back buffer"
        );
        assert_eq!(rx.buf.capacity(), first_capacity);
        assert_eq!(rx.data_mut(), b"more");

        // After a small frame, a buffer given back is freed at once, and a kept one on release.
        rx.pin(0);
        rx.consume(4);
        rx.extend(b"small");
        rx.consume(5);
        rx.keep_for_reuse(second);
        assert!(rx.reusable.is_none(), "not kept after a small frame");
        rx.large_frame = true;
        rx.keep_for_reuse(alloc::vec![0; large]);
        rx.large_frame = false;
        rx.release_if_idle();
        assert!(rx.reusable.is_none(), "released with the receive buffer");
    }

    #[test]
    fn reserve_within_grows_geometrically_up_to_the_cap() {
        let mut buf = Vec::new();
        let mut capacities = Vec::new();
        for _ in 0..10 {
            reserve_within(&mut buf, 3000, 20_000);
            buf.extend_from_slice(&[0; 3000]);
            capacities.push(buf.capacity());
        }
        // Doubling, then capped at 20000 until the content needs more.
        assert_eq!(
            &capacities[..6],
            &[3000, 6000, 12_000, 12_000, 20_000, 20_000]
        );
        assert_eq!(capacities[6], 21_000);
    }

    #[test]
    fn release_if_small_releases_only_a_large_buffer_holding_little() {
        let mut buf = alloc::vec![0; KEEP_WHEN_IDLE + 1];
        release_if_small(&mut buf);
        assert_eq!(buf.capacity(), KEEP_WHEN_IDLE + 1, "large content: kept");
        buf.truncate(10);
        release_if_small(&mut buf);
        assert_eq!(buf.capacity(), 0);
        let mut small = Vec::<u8>::with_capacity(KEEP_WHEN_IDLE);
        release_if_small(&mut small);
        assert_eq!(small.capacity(), KEEP_WHEN_IDLE, "small buffers are kept");
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
    fn rx_growth_for_reads_stops_at_max_read_so_the_buffer_is_kept() {
        // Reads that fill the room, over frames of 1 KiB, as an echo of a pipelined burst receives them.
        let mut rx = RxBuffer::default();
        for _ in 0..20 {
            let room = rx.spare(1).len();
            rx.commit(room);
            rx.consume(rx.len() - 100);
        }
        assert!(rx.buf.capacity() <= MAX_READ, "{}", rx.buf.capacity());
        // Emptied after small frames: kept, and the next read is as large as the last.
        rx.consume(100);
        rx.release_if_idle();
        assert_eq!(rx.spare(1).len(), MAX_READ);
    }

    #[test]
    fn rx_reads_a_large_frame_up_to_its_end_only() {
        let mut rx = RxBuffer::default();
        // Reads grown to their largest.
        for _ in 0..10 {
            let room = rx.spare(1).len();
            rx.commit(room);
            rx.consume(room);
        }
        // A frame header announcing 10,000 more bytes, then its payload in two reads.
        rx.extend(&[0x82, 0x7e, 0x27, 0x10]);
        rx.expect(10_000);
        let room = rx.spare(1).len();
        assert_eq!(room, 10_000);
        rx.commit(6_000);
        assert_eq!(rx.spare(1).len(), 4_000);
        assert_eq!(rx.spare(5_000).len(), 5_000, "at least what is asked for");
        rx.commit(4_000);
        rx.consume(10_004);
        // The frame is whole: the next read is offered the usual room again.
        assert_eq!(rx.spare(1).len(), MAX_READ);
        // A small frame's rest does not bound the read.
        rx.extend(&[0x82, 0x7e, 0x01, 0x00]);
        rx.expect(256);
        assert!(rx.spare(1).len() > 256);
    }

    #[test]
    fn rx_receives_an_expected_frame_without_regrowing_it() {
        let mut rx = RxBuffer::default();
        rx.extend(b"head");
        rx.consume(2);
        rx.expect(100_000);
        let reserved = rx.buf.capacity();
        assert!(reserved >= 100_002);
        let mut sent = 0u32;
        while rx.len() < 100_002 {
            let room = rx.spare(1);
            let n = room.len().min(4096).min(100_002 - 2 - sent as usize);
            for byte in &mut room[..n] {
                *byte = sent as u8;
                sent += 1;
            }
            rx.commit(n);
        }
        assert_eq!(rx.buf.capacity(), reserved, "no regrowth");
        let data = rx.data_mut();
        assert_eq!(&data[..2], b"ad");
        assert!(data[2..].iter().enumerate().all(|(i, &b)| b == i as u8));
    }

    #[test]
    fn rx_keeps_a_large_buffer_while_large_frames_keep_coming() {
        let mut rx = RxBuffer::default();
        let receive = |rx: &mut RxBuffer, frame: usize| {
            rx.expect(frame);
            let mut got = 0;
            while got < frame {
                let n = rx.spare(1).len().min(frame - got);
                rx.commit(n);
                got += n;
            }
            rx.consume(frame);
        };
        receive(&mut rx, 200_000);
        assert!(
            rx.spare(1).len() >= 200_000,
            "kept for the next large frame"
        );
        receive(&mut rx, 200_000);
        receive(&mut rx, 100);
        assert_eq!(
            rx.spare(1).len(),
            FIRST_READ,
            "released after a small frame"
        );
    }
}
