//! The outgoing byte queue: chunks of `Bytes` for vectored writes.
//!
//! Small frames are appended to one contiguous `tail` buffer (coalesced), so many small
//! replies leave in one write; a large payload that needs no masking is queued as its own
//! chunk after its header, so a server never copies it.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// Payloads up to this size are copied into the coalescing buffer; larger ones are queued
/// by reference. Copying a small payload is cheaper than an extra iovec and a refcount.
pub(crate) const COALESCE_MAX: usize = 1024;

/// At most this many chunks go into one vectored write.
const MAX_IO_SLICES: usize = 64;

/// Slices set up first: most writes carry a few chunks (the coalesced small frames, a
/// large payload and its header), and clearing all `MAX_IO_SLICES` on every write cost
/// more than the rest of a write's bookkeeping.
const FEW_IO_SLICES: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct TransmitQueue {
    /// Whole chunks, written before `tail`.
    chunks: VecDeque<Bytes>,
    /// The buffer small frames are appended to.
    tail: BytesMut,
    /// Total bytes queued.
    len: usize,
}

impl TransmitQueue {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends bytes to the coalescing buffer.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// The coalescing buffer, for encoders that write into it; call [`Self::grew`] after.
    pub(crate) fn tail_mut(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    /// Records that `n` bytes were written into [`Self::tail_mut`].
    pub(crate) fn grew(&mut self, n: usize) {
        self.len += n;
    }

    /// Queues `payload` by reference after everything queued so far.
    pub(crate) fn push_chunk(&mut self, payload: Bytes) {
        if payload.len() <= COALESCE_MAX {
            self.extend(&payload);
            return;
        }
        if !self.tail.is_empty() {
            let tail = self.tail.split().freeze();
            self.chunks.push_back(tail);
        }
        self.len += payload.len();
        self.chunks.push_back(payload);
    }

    /// The queued bytes, in order, as slices.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks
            .iter()
            .map(|c| &c[..])
            .chain(std::iter::once(&self.tail[..]))
            .filter(|c| !c.is_empty())
    }

    /// Fills `slices` with the first queued chunks; returns how many were filled.
    pub(crate) fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in slices.iter_mut().zip(self.chunks()) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        n
    }

    /// Runs `write` with the first queued chunks (at most `MAX_IO_SLICES`) as slices.
    pub(crate) fn with_io_slices<R>(&self, write: impl FnOnce(&[IoSlice<'_>]) -> R) -> R {
        // The tail is one more chunk.
        if self.chunks.len() < FEW_IO_SLICES {
            let mut slices = [IoSlice::new(&[]); FEW_IO_SLICES];
            let count = self.io_slices(&mut slices);
            write(&slices[..count])
        } else {
            let mut slices = [IoSlice::new(&[]); MAX_IO_SLICES];
            let count = self.io_slices(&mut slices);
            write(&slices[..count])
        }
    }

    /// Drops the first `n` bytes (written out).
    pub(crate) fn advance(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            match self.chunks.front_mut() {
                Some(front) if front.len() <= n => {
                    n -= front.len();
                    self.chunks.pop_front();
                }
                Some(front) => {
                    front.advance(n);
                    return;
                }
                // All written: `clear` keeps the buffer's start where it is, so its whole
                // capacity takes the next frames. `advance` would move the start to the
                // end, and the next append would first have to move it back.
                None if n >= self.tail.len() => {
                    self.tail.clear();
                    break;
                }
                None => {
                    self.tail.advance(n);
                    break;
                }
            }
        }
        if self.tail.is_empty() && self.tail.capacity() > 64 << 10 {
            // Give back a buffer a burst grew, so an idle connection stays small.
            self.tail = BytesMut::new();
        }
    }

    /// The bytes of buffer capacity held, queued bytes included.
    pub(crate) fn capacity(&self) -> usize {
        self.tail.capacity() + self.chunks.iter().map(Bytes::len).sum::<usize>()
    }

    /// Frees the capacity of an empty queue.
    pub(crate) fn shrink(&mut self) {
        if self.is_empty() {
            self.tail = BytesMut::new();
            self.chunks = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(queue: &TransmitQueue) -> Vec<u8> {
        queue.chunks().flatten().copied().collect()
    }

    #[test]
    fn a_tail_written_in_full_takes_the_next_frames_from_its_start() {
        let mut queue = TransmitQueue::default();
        queue.extend(&[1; 300]);
        let capacity = queue.tail.capacity();
        queue.advance(300);
        assert!(queue.is_empty());
        // The whole buffer is still room: appending needs no move or reallocation.
        assert_eq!(queue.tail.capacity(), capacity);
        queue.extend(b"next");
        assert_eq!(queued(&queue), b"next");
    }

    #[test]
    fn partial_writes_keep_the_order_across_chunks_and_tail() {
        let mut queue = TransmitQueue::default();
        queue.extend(b"head");
        queue.push_chunk(Bytes::from(vec![7; COALESCE_MAX + 1]));
        queue.extend(b"tail");
        queue.advance(2);
        let mut expected = b"ad".to_vec();
        expected.extend([7; COALESCE_MAX + 1]);
        expected.extend(b"tail");
        assert_eq!(queued(&queue), expected);
        queue.advance(2 + COALESCE_MAX + 1 + 1);
        assert_eq!(queued(&queue), b"ail");
        assert_eq!(queue.len(), 3);
    }
}
