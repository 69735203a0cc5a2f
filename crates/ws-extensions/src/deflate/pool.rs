//! Compressors and decompressors shared between connections that keep no history from
//! one message to the next (`*_no_context_takeover`), so that an idle connection holds
//! none (a zlib-rs compressor is 0.34 to 0.47 MiB, a decompressor 46 KiB).

use std::sync::{Mutex, PoisonError};

use flate2::{Compress, Compression, Decompress};

/// The most idle items a pool keeps; one is in use per message being encoded or decoded,
/// so this covers as many messages at once, and more are made (and dropped) on demand.
const MAX_IDLE: usize = 16;

/// Idle items, each with the key of the parameters it was made with. Every item given
/// back has been reset: it refers to nothing its last user gave it.
pub(super) struct Pool<T> {
    idle: Mutex<Vec<(u32, T)>>,
}

impl<T> Pool<T> {
    const fn new() -> Pool<T> {
        Pool {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle item made with `key`, or a new one from `make`.
    fn take(&self, key: u32, make: impl FnOnce() -> T) -> T {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        match idle.iter().rposition(|(k, _)| *k == key) {
            Some(i) => idle.swap_remove(i).1,
            None => {
                drop(idle);
                make()
            }
        }
    }

    /// Keeps `item`, reset by the caller, for the next `take` with `key`.
    fn give(&self, key: u32, item: T) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push((key, item));
        }
    }
}

static COMPRESSORS: Pool<Compress> = Pool::new();
static DECOMPRESSORS: Pool<Decompress> = Pool::new();

fn compressor_key(level: u32, bits: u8) -> u32 {
    level << 8 | u32::from(bits)
}

/// A compressor for raw deflate at `level` with a window of `bits`, as new.
pub(super) fn take_compressor(level: u32, bits: u8) -> Compress {
    COMPRESSORS.take(compressor_key(level, bits), || {
        Compress::new_with_window_bits(Compression::new(level), false, bits)
    })
}

/// Resets `compressor` (made by `take_compressor(level, bits)`) and keeps it for reuse.
pub(super) fn give_compressor(level: u32, bits: u8, mut compressor: Compress) {
    compressor.reset();
    COMPRESSORS.give(compressor_key(level, bits), compressor);
}

/// A raw-deflate decompressor with a window of `bits`, as new.
pub(super) fn take_decompressor(bits: u8) -> Decompress {
    DECOMPRESSORS.take(u32::from(bits), || {
        Decompress::new_with_window_bits(false, bits)
    })
}

/// Resets `decompressor` (made by `take_decompressor(bits)`) and keeps it for reuse. The
/// reset empties its window: nothing a later connection inflates can refer to what this
/// one did.
pub(super) fn give_decompressor(bits: u8, mut decompressor: Decompress) {
    decompressor.reset(false);
    DECOMPRESSORS.give(u32::from(bits), decompressor);
}
