//! SSE2, AVX2 and AVX-512 masking loops for x86-64.
//!
//! Each loop aligns a large buffer to its vector width first (so no store splits a cache
//! line), XORs four vectors per iteration, then one vector at a time, and hands the last
//! bytes to the next narrower loop: AVX-512 → AVX2 → SSE2 → portable words. A short
//! buffer thus never pays for more than one partial step of each width.
//!
//! The functions are safe `#[target_feature]` functions: calling one needs `unsafe` only
//! from code that has not itself enabled the feature (the dispatcher in `mod.rs`, after a
//! runtime check). A wider feature implies the narrower ones, so the hand-offs are safe.

use core::arch::x86_64::*;

use super::{portable, split_unaligned_head};

/// Buffers at least this long are aligned first; below it the head loop would cost more
/// than the split cache lines it saves.
const ALIGN_FROM_LEN: usize = 256;

/// Generates one masking loop for a vector type: the same shape for every width.
macro_rules! mask_loop {
    (
        $buf:ident, $key:ident, $vector:ty, $width:literal,
        splat = $splat:path, load = $load:path, store = $store:path, xor = $xor:path,
        rest = $narrower:path
    ) => {{
        let (buf, key) = if $buf.len() >= ALIGN_FROM_LEN {
            split_unaligned_head::<$width>($buf, $key)
        } else {
            ($buf, $key)
        };
        let key_vector: $vector = $splat(i32::from_ne_bytes(key));
        let (blocks, rest) = buf.as_chunks_mut::<{ 4 * $width }>();
        for block in blocks {
            let ptr = block.as_mut_ptr().cast::<$vector>();
            // SAFETY: `block` is 4 * $width writable bytes, so the four vectors at
            // `ptr.add(0..4)` lie inside it; the unaligned load/store forms have no
            // alignment requirement; `block` is borrowed mutably so nothing else aliases it.
            unsafe {
                let a = $load(ptr);
                let b = $load(ptr.add(1));
                let c = $load(ptr.add(2));
                let d = $load(ptr.add(3));
                $store(ptr, $xor(a, key_vector));
                $store(ptr.add(1), $xor(b, key_vector));
                $store(ptr.add(2), $xor(c, key_vector));
                $store(ptr.add(3), $xor(d, key_vector));
            }
        }
        let (vectors, rest) = rest.as_chunks_mut::<$width>();
        for vector in vectors {
            let ptr = vector.as_mut_ptr().cast::<$vector>();
            // SAFETY: `vector` is exactly $width writable bytes, one unaligned vector.
            unsafe { $store(ptr, $xor($load(ptr), key_vector)) }
        }
        // Blocks and vectors are multiples of 4 bytes: the rest starts at key[0].
        $narrower(rest, key);
    }};
}

// The narrower loops inline into the wider ones, where they finish the last bytes.
#[inline]
#[target_feature(enable = "sse2")]
pub(super) fn sse2(buf: &mut [u8], key: [u8; 4]) {
    mask_loop!(
        buf,
        key,
        __m128i,
        16,
        splat = _mm_set1_epi32,
        load = _mm_loadu_si128,
        store = _mm_storeu_si128,
        xor = _mm_xor_si128,
        rest = portable
    );
}

#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn avx2(buf: &mut [u8], key: [u8; 4]) {
    mask_loop!(
        buf,
        key,
        __m256i,
        32,
        splat = _mm256_set1_epi32,
        load = _mm256_loadu_si256,
        store = _mm256_storeu_si256,
        xor = _mm256_xor_si256,
        rest = sse2
    );
}

#[target_feature(enable = "avx512f")]
pub(super) fn avx512(buf: &mut [u8], key: [u8; 4]) {
    mask_loop!(
        buf,
        key,
        __m512i,
        64,
        splat = _mm512_set1_epi32,
        load = _mm512_loadu_si512,
        store = _mm512_storeu_si512,
        xor = _mm512_xor_si512,
        rest = avx2
    );
}
