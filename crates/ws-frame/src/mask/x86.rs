//! SSE2, AVX2 and AVX-512 masking loops for x86-64.
//!
//! Each loop first aligns the buffer to its vector width (so no store splits a cache
//! line), then XORs four vectors per iteration, then finishes the tail one vector at a time
//! and the last few bytes with the portable code.

use std::arch::x86_64::*;

use super::{portable, split_unaligned_head};

/// Generates one masking loop for a vector type: the same shape for every width.
macro_rules! mask_loop {
    (
        $buf:ident, $key:ident, $vector:ty, $width:literal,
        splat = $splat:expr, load = $load:path, store = $store:path, xor = $xor:path
    ) => {{
        let (buf, key) = split_unaligned_head::<$width>($buf, $key);
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
        let (vectors, tail) = rest.as_chunks_mut::<$width>();
        for vector in vectors {
            let ptr = vector.as_mut_ptr().cast::<$vector>();
            // SAFETY: `vector` is exactly $width writable bytes, one unaligned vector.
            unsafe { $store(ptr, $xor($load(ptr), key_vector)) }
        }
        // Blocks and vectors are multiples of 4 bytes: the tail starts at key[0].
        portable(tail, key);
    }};
}

/// # Safety
///
/// The CPU must support SSE2, which every x86-64 CPU does.
#[target_feature(enable = "sse2")]
pub(super) unsafe fn sse2(buf: &mut [u8], key: [u8; 4]) {
    mask_loop!(
        buf,
        key,
        __m128i,
        16,
        splat = _mm_set1_epi32,
        load = _mm_loadu_si128,
        store = _mm_storeu_si128,
        xor = _mm_xor_si128
    );
}

/// # Safety
///
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn avx2(buf: &mut [u8], key: [u8; 4]) {
    mask_loop!(
        buf,
        key,
        __m256i,
        32,
        splat = _mm256_set1_epi32,
        load = _mm256_loadu_si256,
        store = _mm256_storeu_si256,
        xor = _mm256_xor_si256
    );
}

/// # Safety
///
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn avx512(buf: &mut [u8], key: [u8; 4]) {
    mask_loop!(
        buf,
        key,
        __m512i,
        64,
        splat = _mm512_set1_epi32,
        load = _mm512_loadu_si512,
        store = _mm512_storeu_si512,
        xor = _mm512_xor_si512
    );
}
