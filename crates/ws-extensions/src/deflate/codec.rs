//! The per-connection compressor and decompressor of permessage-deflate.

use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};

use super::pool;

use crate::{Codec, INFLATE_CHUNK, MessageError};

/// The end of a sync flush: an empty stored block's LEN and NLEN. A sender strips it from
/// each message, a receiver appends it before inflating (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest first step of inflating: room for the output of a short message.
const MIN_INFLATE_STEP: usize = 256;

/// The compression options, fixed per connection.
#[derive(Clone, Copy, Debug)]
pub(super) struct Options {
    pub(super) level: u32,
    pub(super) min_size: usize,
}

/// One connection's deflate state. The compressor and decompressor are taken on first use
/// (an idle connection costs no window memory). With context takeover the connection
/// keeps them; without it (in that direction) it holds one only while a message is being
/// encoded or decoded, and gives it back to a pool shared by all connections after.
pub(super) struct DeflateCodec {
    options: Options,
    /// Our compressor's window, in zlib's terms.
    compress_bits: u8,
    /// Whether we reset our compressor after each message (our `*_no_context_takeover`).
    reset_compress: bool,
    /// The window the peer compresses with, which our decompressor must cover.
    inflate_bits: u8,
    /// Whether the peer resets its compressor after each message (its
    /// `*_no_context_takeover`), so our decompressor's history is never used.
    peer_resets: bool,
    compressor: Option<Compress>,
    decompressor: Option<Decompress>,
    /// The peer ended its deflate stream (a block with BFINAL set) in this message; the
    /// rest of the message is ignored and the stream restarts with the next one.
    stream_ended: bool,
}

impl std::fmt::Debug for DeflateCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeflateCodec")
            .field("options", &self.options)
            .field("compress_bits", &self.compress_bits)
            .field("reset_compress", &self.reset_compress)
            .field("inflate_bits", &self.inflate_bits)
            .finish_non_exhaustive()
    }
}

/// zlib cannot make a raw deflate stream with an 8-bit window, and flate2 accepts 9 to 15.
/// 9 is safe where 8 was agreed: zlib never emits a distance over the window size minus
/// 262 bytes (`MAX_DIST`), which is 250 for a 512-byte window, within the peer's 256.
/// Inflating with a larger window than the peer's is always safe.
fn zlib_bits(bits: Option<u8>) -> u8 {
    bits.unwrap_or(15).clamp(9, 15)
}

/// One direction's agreed parameters: the window bits (`None`: 15) and whether the sender
/// resets its compressor after each message.
#[derive(Clone, Copy, Debug)]
pub(super) struct Direction {
    pub(super) max_window_bits: Option<u8>,
    pub(super) no_context_takeover: bool,
}

impl DeflateCodec {
    /// `ours` is how we compress, `theirs` how the peer does.
    pub(super) fn new(options: Options, ours: Direction, theirs: Direction) -> DeflateCodec {
        DeflateCodec {
            options,
            compress_bits: zlib_bits(ours.max_window_bits),
            reset_compress: ours.no_context_takeover,
            inflate_bits: zlib_bits(theirs.max_window_bits),
            peer_resets: theirs.no_context_takeover,
            compressor: None,
            decompressor: None,
            stream_ended: false,
        }
    }
}

impl Codec for DeflateCodec {
    fn decode(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<(), MessageError> {
        let bits = self.inflate_bits;
        let inflater = self
            .decompressor
            .get_or_insert_with(|| pool::take_decompressor(bits));
        let mut budget = Budget { max, used: 0 };
        feed(inflater, &mut self.stream_ended, payload, out, &mut budget)?;
        if fin {
            if !self.stream_ended {
                feed(inflater, &mut self.stream_ended, &TAIL, out, &mut budget)?;
            }
            let stream_ended = std::mem::take(&mut self.stream_ended);
            if self.peer_resets {
                // A peer that resets never refers back past its message: our history is
                // unused, so the decompressor goes back to the pool (which resets it).
                if let Some(inflater) = self.decompressor.take() {
                    pool::give_decompressor(bits, inflater);
                }
            } else if stream_ended {
                // A finished stream must be restarted for the next message.
                inflater.reset(false);
            }
        }
        Ok(())
    }

    fn begin_outgoing(&mut self, len: Option<usize>, compress: bool) -> bool {
        compress && len.is_none_or(|len| len >= self.options.min_size)
    }

    fn encode(&mut self, payload: &[u8], fin: bool, out: &mut Vec<u8>) -> Result<(), MessageError> {
        let (level, bits) = (self.options.level, self.compress_bits);
        let deflater = self
            .compressor
            .get_or_insert_with(|| pool::take_compressor(level, bits));
        if !fin {
            // A fragment that is not the last is not flushed: the compressor keeps what it
            // has not emitted for the next one, and the ratio does not suffer.
            return deflate(deflater, payload, out, FlushCompress::None);
        }
        end_message(deflater, payload, out)?;
        if self.reset_compress {
            // Nothing is kept for the next message: back to the pool, which resets it.
            if let Some(deflater) = self.compressor.take() {
                pool::give_compressor(level, bits, deflater);
            }
        }
        Ok(())
    }

    fn standalone_params(&self) -> Option<u64> {
        // Everything a fresh compressor's output depends on. A minimum size beyond 2^48
        // bytes is as good as "never compress".
        let min_size = (self.options.min_size as u64).min((1 << 48) - 1);
        Some(u64::from(self.options.level) | u64::from(self.compress_bits) << 8 | min_size << 16)
    }

    fn encode_standalone(
        &self,
        payload: &[u8],
        compress: bool,
        out: &mut Vec<u8>,
    ) -> Result<bool, MessageError> {
        if !compress || payload.len() < self.options.min_size {
            return Ok(false);
        }
        // A fresh compressor refers to nothing before this message, so any peer inflates
        // it whatever its window holds; its window bits bound the distances it uses.
        let (level, bits) = (self.options.level, self.compress_bits);
        let mut deflater = pool::take_compressor(level, bits);
        end_message(&mut deflater, payload, out)?;
        pool::give_compressor(level, bits, deflater);
        Ok(true)
    }

    fn sent_standalone(&mut self) {
        // The peer's window now holds a message ours does not: the next message must refer
        // to nothing before it. Dropping the compressor rather than resetting it (zlib
        // clears its hash table, which costs more than compressing 1 KiB) leaves a
        // connection that only receives broadcasts holding no compressor at all; one is
        // made again for the next message of its own.
        self.compressor = None;
    }
}

/// Compresses the last fragment of a message into `out`, ending with a sync flush whose
/// tail is stripped (RFC 7692 §7.2.1).
fn end_message(
    deflater: &mut Compress,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), MessageError> {
    let start = out.len();
    deflate(deflater, payload, out, FlushCompress::Sync)?;
    if out.len() == start {
        // zlib skips a sync flush right after another with no input in between, so an
        // empty message emits nothing. The stream is byte-aligned after the last flush, so
        // this is what the flush would have left once stripped: the first byte of an
        // empty stored block (§7.2.3.6).
        out.push(0x00);
    } else if out.ends_with(&TAIL) {
        // A sync flush ends in the tail, within this call's output.
        out.truncate(out.len() - TAIL.len());
    } else {
        let error = "sync flush did not end in 00 00 ff ff";
        return Err(MessageError::Compress(error.into()));
    }
    Ok(())
}

/// How much one `decode` call may still append.
struct Budget {
    max: usize,
    used: usize,
}

/// Inflates all of `input` into `out` in steps, failing as soon as the budget is exceeded:
/// `out` never grows by more than `max + 1` bytes.
///
/// Each step inflates into `out`'s spare capacity, which needs no zeroing. Room is added
/// when needed: first a few times the input's length, then twice as much each time the
/// output fills it, up to [`INFLATE_CHUNK`] and never past the budget. (A zero-filled 16
/// KiB chunk per step cost more than inflating a small message, and its capacity stayed
/// with the message.)
fn feed(
    inflater: &mut Decompress,
    stream_ended: &mut bool,
    mut input: &[u8],
    out: &mut Vec<u8>,
    budget: &mut Budget,
) -> Result<(), MessageError> {
    let mut step = input.len().saturating_mul(4).max(MIN_INFLATE_STEP);
    loop {
        if *stream_ended {
            // Bytes after a final block are ignored, as zlib-based peers do (RFC 7692
            // §7.2.3.4 shows a padding byte there); they cannot produce output.
            return Ok(());
        }
        // One byte over the budget is enough to know the message is too big.
        let left = (budget.max - budget.used).saturating_add(1);
        let want = step.min(INFLATE_CHUNK).min(left);
        if out.capacity() - out.len() < want {
            out.reserve_exact(want);
        }
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let start = out.len();
        let spare = out.capacity() - start;
        let (status, room) = if spare <= left {
            (
                inflater.decompress_vec(input, out, FlushDecompress::None),
                spare,
            )
        } else {
            // More spare capacity than the budget allows: inflate into a bounded slice.
            out.resize(start + want, 0);
            let status = inflater.decompress(input, &mut out[start..], FlushDecompress::None);
            (status, want)
        };
        let consumed = usize::try_from(inflater.total_in() - in_before).unwrap_or(usize::MAX);
        let written = usize::try_from(inflater.total_out() - out_before).unwrap_or(usize::MAX);
        out.truncate(start + written.min(room));
        let status = status.map_err(|error| MessageError::Corrupt(error.to_string()))?;
        input = input.get(consumed..).unwrap_or_default();
        budget.used += written;
        if budget.used > budget.max {
            return Err(MessageError::TooBig);
        }
        match status {
            Status::StreamEnd => *stream_ended = true,
            // Done once the input is used up and the output did not fill the room (so
            // nothing is pending), or when a step makes no progress at all.
            Status::Ok | Status::BufError if written < room && input.is_empty() => return Ok(()),
            Status::Ok | Status::BufError if consumed == 0 && written == 0 => {
                return Err(MessageError::Corrupt("inflate made no progress".into()));
            }
            Status::Ok | Status::BufError => step = step.saturating_mul(2),
        }
    }
}

/// Compresses all of `input` into `out` with `flush`, growing `out` as needed.
fn deflate(
    deflater: &mut Compress,
    mut input: &[u8],
    out: &mut Vec<u8>,
    flush: FlushCompress,
) -> Result<(), MessageError> {
    loop {
        out.reserve(INFLATE_CHUNK.min(input.len().saturating_add(64)));
        let (in_before, out_before) = (deflater.total_in(), deflater.total_out());
        deflater
            .compress_vec(input, out, flush)
            .map_err(|error| MessageError::Compress(error.to_string()))?;
        let consumed = usize::try_from(deflater.total_in() - in_before).unwrap_or(usize::MAX);
        let written = deflater.total_out() - out_before;
        input = input.get(consumed..).unwrap_or_default();
        // zlib's rule: the call is complete when it left output space unused.
        if input.is_empty() && out.len() < out.capacity() {
            return Ok(());
        }
        if consumed == 0 && written == 0 && out.len() < out.capacity() {
            return Err(MessageError::Compress("deflate made no progress".into()));
        }
    }
}
