//! Payload masking (RFC 6455 §5.3): XOR with a repeating 4-byte key.
//!
//! [`apply_mask`] is the hot path of every server (each received byte) and client (each
//! sent byte). Short buffers take word-at-a-time portable code, which the compiler inlines
//! into the decoder; longer ones go to the widest SIMD unit the CPU has, chosen at run time
//! on x86-64 (AVX-512, AVX2, SSE2) and at compile time on aarch64 (NEON).
//!
//! This module tree is the only place in the crate allowed `unsafe` (for SIMD loads and
//! stores and for calling `#[target_feature]` functions); each block states why it is
//! sound, and the tests compare every backend against a byte-by-byte reference. Building
//! with `--cfg ws_frame_disable_simd` forces the portable code everywhere.

#[cfg(all(target_arch = "aarch64", not(ws_frame_disable_simd)))]
mod neon;
#[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
mod x86;

/// Below this length the portable code (which the compiler vectorises with the baseline
/// SSE2/NEON) beats a call into the widest loop, whose set-up (feature check, alignment,
/// tail hand-off) costs about 20 cycles: measured crossover between 256 and 512 bytes on
/// the reference machine (`docs/performance.md`).
const SIMD_MIN_LEN: usize = 512;

/// XORs `buf` with the repeating `key`, masking or unmasking it in place.
///
/// The first byte of `buf` is XORed with `key[0]`. For a payload that arrives in pieces,
/// use [`apply_mask_at`].
///
/// ```
/// use ws_frame::apply_mask;
///
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut payload = *b"Hello";
/// apply_mask(&mut payload, key);
/// assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 §5.7
/// apply_mask(&mut payload, key);
/// assert_eq!(&payload, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    if buf.len() < SIMD_MIN_LEN {
        portable(buf, key);
    } else {
        apply_mask_wide(buf, key);
    }
}

/// Like [`apply_mask`], for a piece of a payload that starts `offset` bytes into it.
///
/// ```
/// use ws_frame::{apply_mask, apply_mask_at};
///
/// let key = [1, 2, 3, 4];
/// let mut whole = *b"a payload in two pieces";
/// let mut pieces = whole;
/// apply_mask(&mut whole, key);
/// let (first, second) = pieces.split_at_mut(7);
/// apply_mask_at(first, key, 0);
/// apply_mask_at(second, key, 7);
/// assert_eq!(pieces, whole);
/// ```
#[inline]
pub fn apply_mask_at(buf: &mut [u8], key: [u8; 4], offset: usize) {
    apply_mask(buf, rotate_key(key, offset));
}

/// The key as seen by a byte `offset` positions into the payload.
#[inline]
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    // As a little-endian word the first byte is the lowest, so turning the array left is
    // turning the word right: one instruction, where `<[u8]>::rotate_left` is a call.
    let bits = (offset % 4) as u32 * 8;
    u32::from_le_bytes(key).rotate_right(bits).to_le_bytes()
}

#[inline(never)]
fn apply_mask_wide(buf: &mut [u8], key: [u8; 4]) {
    MaskBackend::detect().apply(buf, key);
}

/// An implementation of the masking loop.
///
/// [`apply_mask`] picks the best one by itself; this type exists so that benchmarks and
/// tests can run each available implementation on its own.
///
/// ```
/// use ws_frame::MaskBackend;
///
/// let mut buf = vec![0u8; 1000];
/// for backend in MaskBackend::ALL.into_iter().filter(|b| b.is_available()) {
///     backend.apply(&mut buf, [1, 2, 3, 4]);
///     backend.apply(&mut buf, [1, 2, 3, 4]);
/// }
/// assert!(buf.iter().all(|&b| b == 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MaskBackend {
    /// Word-at-a-time code that runs everywhere.
    Portable,
    /// x86-64 SSE2, 16 bytes per instruction.
    Sse2,
    /// x86-64 AVX2, 32 bytes per instruction.
    Avx2,
    /// x86-64 AVX-512F, 64 bytes per instruction.
    Avx512,
    /// aarch64 NEON, 16 bytes per instruction.
    Neon,
}

/// Whether this CPU has the x86 `feature`: asked at run time with `std`; without it, what
/// the build targets (`-C target-feature`, `-C target-cpu`).
#[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
macro_rules! has_x86_feature {
    ($feature:tt) => {{
        #[cfg(feature = "std")]
        let has = std::arch::is_x86_feature_detected!($feature);
        #[cfg(not(feature = "std"))]
        let has = cfg!(target_feature = $feature);
        has
    }};
}

impl MaskBackend {
    /// Every backend, available here or not.
    pub const ALL: [MaskBackend; 5] = [
        MaskBackend::Portable,
        MaskBackend::Sse2,
        MaskBackend::Avx2,
        MaskBackend::Avx512,
        MaskBackend::Neon,
    ];

    /// The backend [`apply_mask`] uses on this CPU: AVX2 where available (x86-64), else
    /// SSE2; NEON on aarch64; the portable code elsewhere.
    #[inline]
    pub fn detect() -> MaskBackend {
        #[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
        {
            // AVX2 before AVX-512: the loop is bound by one store per cycle, and on the
            // reference machine (Zen 4, where 512-bit stores are split in two) AVX2 measured
            // equal at 16 KiB and up and faster at 512 B–1 KiB; some Intel parts also
            // lower their clock for 512-bit code. `MaskBackend::Avx512` stays available.
            if has_x86_feature!("avx2") {
                return MaskBackend::Avx2;
            }
            // SSE2 is part of the x86-64 baseline.
            MaskBackend::Sse2
        }
        #[cfg(all(target_arch = "aarch64", not(ws_frame_disable_simd)))]
        {
            // NEON is part of the aarch64 baseline.
            MaskBackend::Neon
        }
        #[cfg(any(
            ws_frame_disable_simd,
            not(any(target_arch = "x86_64", target_arch = "aarch64"))
        ))]
        {
            MaskBackend::Portable
        }
    }

    /// Whether this backend can run on this CPU (and was compiled in).
    pub fn is_available(self) -> bool {
        match self {
            MaskBackend::Portable => true,
            #[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
            MaskBackend::Sse2 => true,
            #[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
            MaskBackend::Avx2 => has_x86_feature!("avx2"),
            #[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
            MaskBackend::Avx512 => has_x86_feature!("avx512f"),
            #[cfg(all(target_arch = "aarch64", not(ws_frame_disable_simd)))]
            MaskBackend::Neon => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Masks `buf` with `key` using this backend, or the portable code if this backend is
    /// not [available](MaskBackend::is_available).
    pub fn apply(self, buf: &mut [u8], key: [u8; 4]) {
        match self {
            #[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
            MaskBackend::Sse2 => {
                // SAFETY: SSE2 is part of the x86-64 baseline.
                unsafe { x86::sse2(buf, key) }
            }
            #[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
            MaskBackend::Avx2 if self.is_available() => {
                // SAFETY: the CPU supports AVX2 (checked just above).
                unsafe { x86::avx2(buf, key) }
            }
            #[cfg(all(target_arch = "x86_64", not(ws_frame_disable_simd)))]
            MaskBackend::Avx512 if self.is_available() => {
                // SAFETY: the CPU supports AVX-512F (checked just above).
                unsafe { x86::avx512(buf, key) }
            }
            #[cfg(all(target_arch = "aarch64", not(ws_frame_disable_simd)))]
            MaskBackend::Neon => neon::neon(buf, key),
            _ => portable(buf, key),
        }
    }
}

/// Word-at-a-time masking with no `unsafe` and no SIMD intrinsics.
#[inline]
fn portable(buf: &mut [u8], key: [u8; 4]) {
    // Both halves equal, so this is the key twice over in either byte order.
    let key_word = u64::from(u32::from_ne_bytes(key)) * 0x1_0000_0001;
    let (words, tail) = buf.as_chunks_mut::<8>();
    for word in words {
        *word = (u64::from_ne_bytes(*word) ^ key_word).to_ne_bytes();
    }
    // Words are multiples of 4 bytes, so the tail starts at key[0] again.
    let (half_word, bytes) = tail.as_chunks_mut::<4>();
    if let Some(half_word) = half_word.first_mut() {
        *half_word = (u32::from_ne_bytes(*half_word) ^ u32::from_ne_bytes(key)).to_ne_bytes();
    }
    for (byte, k) in bytes.iter_mut().zip(key) {
        *byte ^= k;
    }
}

/// Masks the bytes before the first `ALIGN`-aligned address with the portable code, and
/// returns the aligned rest with the key rotated to match it.
#[cfg(not(ws_frame_disable_simd))]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
#[inline(always)]
fn split_unaligned_head<const ALIGN: usize>(buf: &mut [u8], key: [u8; 4]) -> (&mut [u8], [u8; 4]) {
    let head_len = buf.as_ptr().align_offset(ALIGN).min(buf.len());
    let (head, rest) = buf.split_at_mut(head_len);
    portable(head, key);
    (rest, rotate_key(key, head_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }

    fn available() -> Vec<MaskBackend> {
        MaskBackend::ALL
            .into_iter()
            .filter(|b| b.is_available())
            .collect()
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 131 + 7) as u8).collect()
    }

    /// Every length 0..=300 and some larger ones, every start alignment within a 64-byte
    /// line, every backend.
    #[test]
    fn all_backends_match_reference_every_length_and_alignment() {
        let key = [0x9a, 0x3c, 0x01, 0xfe];
        let lengths = (0..=300).chain([511, 512, 513, 1023, 4096, 4099, 65536 + 3]);
        let mut storage = vec![0u8; 65536 + 3 + 64];
        for len in lengths {
            let data = pattern(len);
            let mut expected = data.clone();
            reference(&mut expected, key, 0);
            for align in 0..64 {
                let buf = &mut storage[align..align + len];
                for backend in available() {
                    buf.copy_from_slice(&data);
                    backend.apply(buf, key);
                    assert_eq!(buf, &expected[..], "{backend:?} len {len} align {align}");
                }
                buf.copy_from_slice(&data);
                apply_mask(buf, key);
                assert_eq!(buf, &expected[..], "apply_mask len {len} align {align}");
            }
        }
    }

    /// Without `std` nothing can ask the CPU: the backends are those the build targets.
    #[test]
    #[cfg(all(
        not(feature = "std"),
        target_arch = "x86_64",
        not(ws_frame_disable_simd)
    ))]
    fn without_std_the_build_target_decides_the_backend() {
        let expected = if cfg!(target_feature = "avx2") {
            MaskBackend::Avx2
        } else {
            MaskBackend::Sse2
        };
        assert_eq!(MaskBackend::detect(), expected);
        assert!(MaskBackend::Sse2.is_available());
        assert_eq!(
            MaskBackend::Avx512.is_available(),
            cfg!(target_feature = "avx512f")
        );
    }

    #[test]
    #[cfg(ws_frame_disable_simd)]
    fn disabling_simd_leaves_only_the_portable_code() {
        assert_eq!(MaskBackend::detect(), MaskBackend::Portable);
        let simd = MaskBackend::ALL
            .into_iter()
            .filter(|b| *b != MaskBackend::Portable);
        assert!(
            simd.clone().all(|b| !b.is_available()),
            "{:?}",
            simd.collect::<Vec<_>>()
        );
    }

    #[test]
    fn every_key_offset() {
        let key = [0x11, 0x22, 0x44, 0x88];
        for len in [0, 1, 3, 5, 63, 64, 65, 200] {
            for offset in 0..8 {
                let mut buf = pattern(len);
                let mut expected = buf.clone();
                reference(&mut expected, key, offset);
                apply_mask_at(&mut buf, key, offset);
                assert_eq!(buf, expected, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn unavailable_backend_falls_back_to_portable() {
        let data = pattern(300);
        let mut expected = data.clone();
        reference(&mut expected, [5, 6, 7, 8], 0);
        for backend in MaskBackend::ALL {
            let mut buf = data.clone();
            backend.apply(&mut buf, [5, 6, 7, 8]);
            assert_eq!(buf, expected, "{backend:?}");
        }
    }

    proptest! {
        #[test]
        fn pieces_equal_whole(
            data in proptest::collection::vec(any::<u8>(), 0..2000),
            key in any::<[u8; 4]>(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let mut whole = data.clone();
            apply_mask(&mut whole, key);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
            points.push(0);
            points.push(data.len());
            points.sort_unstable();
            let mut pieces = data.clone();
            for pair in points.windows(2) {
                apply_mask_at(&mut pieces[pair[0]..pair[1]], key, pair[0]);
            }
            prop_assert_eq!(pieces, whole);
        }

        #[test]
        fn backends_agree_on_random_input(
            data in proptest::collection::vec(any::<u8>(), 0..5000),
            key in any::<[u8; 4]>(),
            skip in 0usize..64,
        ) {
            let skip = skip.min(data.len());
            let mut expected = data.clone();
            reference(&mut expected[skip..], key, 0);
            for backend in available() {
                let mut buf = data.clone();
                backend.apply(&mut buf[skip..], key);
                prop_assert_eq!(&buf, &expected, "{:?}", backend);
            }
        }
    }
}
