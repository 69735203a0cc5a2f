//! NEON masking loop for aarch64, where NEON is part of the baseline.

use core::arch::aarch64::*;

use super::{portable, split_unaligned_head};

pub(super) fn neon(buf: &mut [u8], key: [u8; 4]) {
    let (buf, key) = split_unaligned_head::<16>(buf, key);
    let key_bytes = [
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3], key[0], key[1], key[2],
        key[3], key[0], key[1], key[2], key[3],
    ];
    // SAFETY: `key_bytes` is 16 readable bytes, the size of one NEON register.
    let key_vector = unsafe { vld1q_u8(key_bytes.as_ptr()) };
    let (blocks, rest) = buf.as_chunks_mut::<64>();
    for block in blocks {
        let ptr = block.as_mut_ptr();
        // SAFETY: `block` is 64 writable bytes: the four 16-byte vectors at offsets 0, 16,
        // 32 and 48 lie inside it; vld1q/vst1q need no alignment beyond a byte.
        unsafe {
            let a = vld1q_u8(ptr);
            let b = vld1q_u8(ptr.add(16));
            let c = vld1q_u8(ptr.add(32));
            let d = vld1q_u8(ptr.add(48));
            vst1q_u8(ptr, veorq_u8(a, key_vector));
            vst1q_u8(ptr.add(16), veorq_u8(b, key_vector));
            vst1q_u8(ptr.add(32), veorq_u8(c, key_vector));
            vst1q_u8(ptr.add(48), veorq_u8(d, key_vector));
        }
    }
    let (vectors, tail) = rest.as_chunks_mut::<16>();
    for vector in vectors {
        let ptr = vector.as_mut_ptr();
        // SAFETY: `vector` is exactly 16 writable bytes, one NEON register.
        unsafe { vst1q_u8(ptr, veorq_u8(vld1q_u8(ptr), key_vector)) }
    }
    portable(tail, key);
}
